/* LS baseline benchmark: sin(x^2) on [-2, 2], width-20 tanh networks of depth L = 6, 10, 14,
 * N = 200 training points. For LS-GD, LS-Adam, LS-L-BFGS and LS-LM (Levenberg-Marquardt):
 * seconds per iteration (median of 7 timed runs of a fixed number of iterations) and wall
 * time to train MSE <= 1e-4
 * (median of 3 runs; a cap on iterations and seconds, reported when hit).
 * Single-threaded (built without OpenMP). The data and initial parameters are
 * written to build/bench_ls_L<L>.bin so that bench/ls_torch.py trains the same network
 * from the same start; the C results go to build/bench_ls_results.txt, and the Python
 * script prints one table with PyTorch side by side (or the C columns alone, with a
 * note, when torch cannot be imported).
 *
 *   make bench                           (builds this, runs it, then bench/ls_torch.py)
 *   build/bench/bench_ls [--quick]       (C side alone: every depth and method)
 *   build/bench/bench_ls --case L [--seed S]  (one depth, initial weights from seed S
 *                                         (default 2026), Adam and L-BFGS, one run each, lines
 *                                         "RESULT L method s/iter s-to-target iters reached
 *                                         final-MSE"; bench/ls_torch.py calls this between
 *                                         its PyTorch runs so both see the same machine load)
 */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"

#define N_TRAIN 200
#define WIDTH 20
#define TARGET 1e-4


static void put_u32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }

/* build/bench_ls_L<L>.bin: uint32 N, L, widths[L+1]; doubles X[N], Y[N], params (net order:
 * W_1 (n_1 x n_0 row-major, = torch Linear.weight), b_1, W_2, b_2, ...), native endianness */
static int write_case(const char *path, const sapm_net *net, const double *X, const double *Y)
{
    FILE *f = fopen(path, "wb");
    int l;
    if (!f) return 0;
    put_u32(f, N_TRAIN);
    put_u32(f, (uint32_t)net->depth);
    for (l = 0; l <= net->depth; ++l) put_u32(f, (uint32_t)net->widths[l]);
    fwrite(X, sizeof(double), N_TRAIN, f);
    fwrite(Y, sizeof(double), N_TRAIN, f);
    fwrite(net->params, sizeof(double), net->n_params, f);
    return fclose(f) == 0;
}

static void make_net(sapm_net *net, int L, uint64_t seed)
{
    int widths[32], l;
    widths[0] = 1;
    for (l = 1; l < L; ++l) widths[l] = WIDTH;
    widths[L] = 1;
    sapm_net_create(net, L, widths, SAPM_ACT_TANH);
    sapm_net_init(net, SAPM_INIT_XAVIER, 1.0, seed);
}

/* The methods measured: a label (the names bench/ls_torch.py reads) and the method with
 * its learning rate (0 = the library default). */
typedef struct ls_method { const char *label; sapm_method method; double learning_rate; } ls_method;
static const ls_method methods[] = {
    {"LS-GD", SAPM_METHOD_GD, 1e-2},
    {"LS-Adam", SAPM_METHOD_ADAM, 1e-3},
    {"LS-LBFGS", SAPM_METHOD_LBFGS, 0.0},
    {"LS-LM", SAPM_METHOD_LM, 0.0},     /* Levenberg-Marquardt on the residuals (no PyTorch peer) */
};
enum { NMETHODS = (int)(sizeof methods / sizeof methods[0]) };

static sapm_options bench_options(const ls_method *lm)
{
    sapm_options o = sapm_default_options(lm->method);
    o.log_every = 0;
    o.log_seconds = 0.0;
    o.learning_rate = lm->learning_rate;
    return o;
}

/* s/iter (median of `runs` runs of `iters` iterations) and time to TARGET (median of
 * `tt_runs` runs, capped at `cap` seconds) for one method from net0. */
typedef struct result { double per, tt, it, fin; int reached; } result;

static result measure(const sapm_net *net0, const double *X, const double *Y,
                      const ls_method *lm, int runs, int tt_runs, double cap)
{
    sapm_options o = bench_options(lm);
    sapm_report rep;
    sapm_net net;
    double per[15], tt[15];
    int r, n_tt = 0;
    result res;
    memset(&res, 0, sizeof res);
    /* seconds per iteration (an L-BFGS iteration includes its line-search evaluations) */
    for (r = 0; r < runs; ++r) {
        sapm_net_copy(&net, net0);
        o.max_iters = lm->method == SAPM_METHOD_LBFGS || lm->method == SAPM_METHOD_LM ? 50 : 200;
        sapm_train(&net, N_TRAIN, X, 1, Y, 1, &o, &rep);
        per[r] = rep.seconds / (rep.iters > 0 ? rep.iters : 1);
        sapm_report_free(&rep);
        sapm_net_destroy(&net);
    }
    res.per = bench_median(per, runs);
    /* wall time to train MSE <= TARGET */
    o.target_loss = TARGET;
    o.max_iters = 1000000;
    o.time_budget = cap;
    res.reached = 1;
    for (r = 0; r < tt_runs && res.reached; ++r) {
        sapm_net_copy(&net, net0);
        sapm_train(&net, N_TRAIN, X, 1, Y, 1, &o, &rep);
        tt[n_tt++] = rep.seconds;
        res.it = rep.iters;
        res.fin = rep.mse;
        res.reached = rep.stop == SAPM_STOP_TARGET_LOSS;
        sapm_report_free(&rep);
        sapm_net_destroy(&net);
    }
    res.tt = bench_median(tt, n_tt);
    return res;
}

static void make_data(double *X, double *Y)
{
    sapm_rng rng;
    int n;
    sapm_rng_seed(&rng, 7);
    for (n = 0; n < N_TRAIN; ++n) {
        X[n] = -2.0 + 4.0 * sapm_rng_uniform(&rng);
        Y[n] = sin(X[n] * X[n]);
    }
}

int main(int argc, char **argv)
{
    static const int depths[3] = {6, 10, 14};
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    double X[N_TRAIN], Y[N_TRAIN];
    int di, mi;
    FILE *res;
    make_data(X, Y);
    if (argc > 2 && strcmp(argv[1], "--case") == 0) {
        int L = atoi(argv[2]);
        uint64_t seed = argc > 4 && strcmp(argv[3], "--seed") == 0 ? (uint64_t)strtoull(argv[4], NULL, 10) : 2026;
        char path[64];
        sapm_net net0;
        if (L < 2 || L > 30) { fprintf(stderr, "bench_ls: --case L needs 2 <= L <= 30\n"); return 2; }
        make_net(&net0, L, seed);
        snprintf(path, sizeof path, "build/bench_ls_L%d.bin", L);
        if (!write_case(path, &net0, X, Y)) { fprintf(stderr, "cannot write %s\n", path); return 1; }
        for (mi = 1; mi < 3; ++mi) {
            result r = measure(&net0, X, Y, &methods[mi], 5, 1, 60.0);
            printf("RESULT %d %s %.6e %.6e %.0f %d %.6e\n", L, methods[mi].label, r.per, r.tt,
                   r.it, r.reached, r.fin);
        }
        sapm_net_destroy(&net0);
        return 0;
    }
    res = fopen("build/bench_ls_results.txt", "w");
    if (!res) { fprintf(stderr, "bench_ls: cannot write build/bench_ls_results.txt (run from the repository root)\n"); return 1; }
    fprintf(res, "# L method sec_per_iter time_to_target iters_to_target reached final_mse\n");
    printf("LS baseline, sin(x^2), width %d, N = %d, single thread, SIMD path %s\n", WIDTH, N_TRAIN, sapm_simd_path());
    printf("s/iter: median of %d runs; s to 1e-4: median of %d runs (GD: 1 run, capped at %g s)\n",
           quick ? 3 : 7, quick ? 1 : 3, quick ? 5.0 : 10.0);
    printf("%3s %-9s %14s %14s %10s %12s\n", "L", "method", "s/iter", "s to 1e-4", "iters", "final MSE");
    for (di = 0; di < 3; ++di) {
        int L = depths[di];
        char path[64];
        sapm_net net0;
        make_net(&net0, L, 2026);
        snprintf(path, sizeof path, "build/bench_ls_L%d.bin", L);
        if (!write_case(path, &net0, X, Y)) { fprintf(stderr, "cannot write %s\n", path); return 1; }
        for (mi = 0; mi < NMETHODS; ++mi) {
            const ls_method *m = &methods[mi];
            int gd = m->method == SAPM_METHOD_GD;
            result r = measure(&net0, X, Y, m, quick ? 3 : 7, quick || gd ? 1 : 3,
                               quick ? 5.0 : (gd ? 10.0 : 60.0));
            printf("%3d %-9s %14.3e %13.3f%s %10.0f %12.3e\n", L, m->label, r.per, r.tt,
                   r.reached ? " " : "*", r.it, r.fin);
            fprintf(res, "%d %s %.6e %.6e %.0f %d %.6e\n", L, m->label, r.per, r.tt, r.it,
                    r.reached, r.fin);
        }
        sapm_net_destroy(&net0);
    }
    printf("(* = MSE 1e-4 not reached within the cap; the time shown is the cap)\n");
    fclose(res);
    return 0;
}
