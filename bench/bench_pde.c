/* bench_pde - PDE training side by side: for transport, Poisson 2-D and Poisson d = 10,
 * the wall time each method needs to reach relative L2 error 1e-3 on held-out points and
 * the error each reaches at equal wall time (the budget T), medians over starts, and the
 * PyTorch peer (bench/pde_torch.py) on the same points, the same network, the same
 * initial weights and float64, run by this program after its own runs and printed in the
 * same table with the ratios of this run.
 *
 *   make bench                     (or: cc -O3 -march=native -fopenmp bench/bench_pde.c -o b -lm)
 *   OMP_NUM_THREADS=1 make bench   one thread (PyTorch gets the same OMP_NUM_THREADS)
 *   SAPM_BENCH_QUICK=1 make bench  quick mode: 1 seed, T = 6 s per run
 *   default:                       3 starts, T = 20 s per run (about 15 minutes with PyTorch)
 *   build/bench/bench_pde --no-torch      without the PyTorch peer
 *   build/bench/bench_pde --points DIR    where the points go (default build/bench/pde_points)
 * The PyTorch peer runs under $SAPM_PYTHON, else /usr/bin/python3, else python3: the first
 * that imports torch; without one its rows say so and nothing else changes.
 *
 * Setup: tanh, 3 hidden layers of 50, Xavier, float64, N = 1000 interior points
 * (scrambled Halton), boundary points uniform on the Dirichlet faces (transport: inflow
 * faces t = 0 and x = 0, M = 200; Poisson 2-D: M = 400; Poisson d = 10: M = 1000), 2000
 * held-out uniform random test points, error logged every 5 iterations (every iteration
 * for PINN-LM). Methods: PINN-Adam+LBFGS (Adam lr 1e-3 for half the budget then L-BFGS:
 * the PyTorch peer's recipe, the named baseline of the ratio column), PINN-LBFGS, PINN-LM
 * (Levenberg-Marquardt), SAPM-PINN (transport) / LySep (Poisson), and the recommended
 * PINN-LM on sapm_pde_default_widths' network (2-32-1, 10-64-1; its own Xavier start; the
 * other rows and PyTorch share the 3 x 50 start). The boundary weight beta is 10 for
 * transport and Poisson d = 10 and 100 for Poisson 2-D (f ~ 20), for every row but the
 * recommended one (automatic weight, sapm_pde_default_options(LM)).
 * Problems: u_t + u_x = 0, exact sin(2 pi (x - t)); -Laplace u = 2 pi^2 sin(pi x) sin(pi y);
 * -Laplace u = (pi^2/4) sum_i sin(pi x_i / 2) on (0,1)^10. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "bench_util.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_STARTS 8

/* The methods compared: a label (NULL: the first phase's label from the run's history,
 * "SAPM-PINN" or "LySep" as the operator decides, then "+L-BFGS" for its polish) and an options setup on top of
 * sapm_pde_default_options(method). */
static void setup_adam_lbfgs(sapm_pde_options *o)  /* the reference recipe */
{
    o->base.polish = SAPM_METHOD_LBFGS;       /* Adam for half the budget, then L-BFGS */
    o->base.phase_iters = o->base.max_iters / 2;
    o->base.phase_time = 0.5;
}
static void setup_polish(sapm_pde_options *o)  /* ours: 3 alternating iterations, then L-BFGS */
{
    o->base.polish = SAPM_METHOD_LBFGS;
    o->base.phase_iters = 3;
}
typedef struct pde_method {
    const char *label;
    sapm_method method;
    void (*setup)(sapm_pde_options *o);   /* NULL: the defaults as they come */
    int log_every;                        /* history resolution of the time-to-error columns */
    int is_baseline;                      /* the ratio column's reference */
} pde_method;
static const pde_method methods[] = {
    /* error logged every 5 iterations (~20 ms for L-BFGS); every LM iteration (0.1-0.5 s
     * each) so its times are as finely resolved */
    {"PINN-Adam+LBFGS", SAPM_METHOD_ADAM, setup_adam_lbfgs, 5, 1},
    {"PINN-LBFGS", SAPM_METHOD_LBFGS, NULL, 5, 0},
    {"PINN-LM", SAPM_METHOD_LM, NULL, 1, 0},
    {NULL, SAPM_METHOD_SAPM, setup_polish, 5, 0},   /* then L-BFGS (ours) */
    {"LM d-W-1 (rec.)", SAPM_METHOD_LM, NULL, 1, 0},      /* the recommended defaults */
};
enum { RECOMMENDED = 4 };

/* The points, the 3 x 50 start and the run's settings of one problem and start, for
 * bench/pde_torch.py: float64 (this machine's byte order) header [d, N, M, n_test, beta,
 * order, T, depth], widths, X, Xb, X_test, u_test, then W_l (n_l x n_{l-1}) and b_l. */
static int write_points(const char *path, int d, int N, int M, int n_test, double beta,
                        int order, double T, const sapm_net *net, const double *X,
                        const double *Xb, const double *Xt, const double *ut)
{
    FILE *f = fopen(path, "wb");
    double h[8];
    int l, ok;
    if (!f) return 0;
    h[0] = d; h[1] = N; h[2] = M; h[3] = n_test; h[4] = beta; h[5] = order; h[6] = T;
    h[7] = net->depth;
    ok = fwrite(h, sizeof h, 1, f) == 1;
    for (l = 0; l <= net->depth; ++l) { double w = net->widths[l]; ok &= fwrite(&w, sizeof w, 1, f) == 1; }
    ok &= fwrite(X, sizeof(double), (size_t)N * d, f) == (size_t)N * d;
    ok &= fwrite(Xb, sizeof(double), (size_t)M * d, f) == (size_t)M * d;
    ok &= fwrite(Xt, sizeof(double), (size_t)n_test * d, f) == (size_t)n_test * d;
    ok &= fwrite(ut, sizeof(double), (size_t)n_test, f) == (size_t)n_test;
    for (l = 0; l < net->depth; ++l) {
        size_t nw = (size_t)net->widths[l + 1] * net->widths[l];
        ok &= fwrite(net->W[l], sizeof(double), nw, f) == nw;
        ok &= fwrite(net->b[l], sizeof(double), (size_t)net->widths[l + 1], f) == (size_t)net->widths[l + 1];
    }
    return fclose(f) == 0 && ok;
}

/* The interpreter that imports torch ($SAPM_PYTHON, /usr/bin/python3, python3), or NULL. */
static const char *torch_python(void)
{
    static const char *cand[3];
    static char cmd[512];
    int i;
    cand[0] = getenv("SAPM_PYTHON"); cand[1] = "/usr/bin/python3"; cand[2] = "python3";
    for (i = 0; i < 3; ++i) {
        if (!cand[i] || !cand[i][0]) continue;
        snprintf(cmd, sizeof cmd, "%s -c \"import torch\" >/dev/null 2>&1", cand[i]);
        if (system(cmd) == 0) return cand[i];
    }
    return NULL;
}
enum { N_METHODS = (int)(sizeof methods / sizeof methods[0]) };

typedef struct row {
    char label[64];
    int avail, runs;
    double t, err, iters, j;     /* medians */
} row;

int main(int argc, char **argv)
{
    const char *quick_env = getenv("SAPM_BENCH_QUICK");
    int quick = quick_env && quick_env[0] && strcmp(quick_env, "0") != 0;
    int starts = quick ? 1 : 3, prob, k, s, a, use_torch = 1, wrote = 1;
    double T = quick ? 6.0 : 20.0, target = 1e-3;
    const char *dir = "build/bench/pde_points", *py = NULL;
    static const char *names[3] = {"transport", "Poisson 2-D", "Poisson d=10"};
    static row rows[3][N_METHODS];
    double torch_t[3], torch_e[3], torch_it[3], torch_j[3];
    int torch_n[3] = {0, 0, 0};
    int threads = 1;
    for (a = 1; a < argc; ++a) {
        if (!strcmp(argv[a], "--no-torch")) use_torch = 0;
        else if (!strcmp(argv[a], "--points") && a + 1 < argc) dir = argv[++a];
        else { fprintf(stderr, "usage: %s [--no-torch] [--points DIR]\n", argv[0]); return 2; }
    }
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    if (use_torch) {
        char cmd[600];
        py = torch_python();
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
        if (py && system(cmd) != 0) { fprintf(stderr, "bench_pde: cannot create %s\n", dir); py = NULL; }
    }
    printf("bench_pde: %s mode, %d seed(s), budget T = %.0f s per run, target rel. L2 %.0e, "
           "SIMD %s, %d thread%s%s\n", quick ? "quick" : "default", starts, T, target,
           sapm_simd_path(), threads, threads > 1 ? "s" : "",
#ifdef _OPENMP
           " (OpenMP: OMP_NUM_THREADS)"
#else
           " (built without OpenMP)"
#endif
           );
    printf("PyTorch peer: %s\n", !use_torch ? "off (--no-torch)" : py ? py : "no interpreter imports torch: skipped");
    fflush(stdout);
    for (prob = 0; prob < 3; ++prob) {
        int d = prob == 2 ? 10 : 2, N = 1000, M = prob == 0 ? 200 : prob == 1 ? 400 : 1000;
        int n_test = 2000, i, faces[4] = {1, 0, 1, 0}, widths[5];
        double lo[10], hi[10], beta = prob == 1 ? 100.0 : 10.0;
        double *X, *Xb, *Xt, *ut;
        sapm_pde pde;
        for (i = 0; i < d; ++i) { lo[i] = 0.0; hi[i] = 1.0; }
        pde_bench_problem(prob, d, &pde);
        X = (double *)malloc(sizeof(double) * (size_t)N * d);
        Xb = (double *)malloc(sizeof(double) * (size_t)M * d);
        Xt = (double *)malloc(sizeof(double) * (size_t)n_test * d);
        ut = (double *)malloc(sizeof(double) * (size_t)n_test);
        if (!X || !Xb || !Xt || !ut) { fprintf(stderr, "out of memory\n"); return 1; }
        for (k = 0; k < N_METHODS; ++k) {
            const pde_method *pm = &methods[k];
            row *rw = &rows[prob][k];
            double tt[MAX_STARTS], ee[MAX_STARTS], it[MAX_STARTS], jj[MAX_STARTS];
            rw->avail = 1;
            rw->runs = starts;
            snprintf(rw->label, sizeof rw->label, "%s", pm->label ? pm->label : sapm_method_name(pm->method));
            for (s = 0; s < starts; ++s) {
                sapm_rng rng;
                sapm_net net0;
                pde_case pc;
                pde_result r;
                sapm_pde_options o = sapm_pde_default_options(pm->method);
                uint64_t seed = (uint64_t)s + 1;
                int depth = 4;
                sapm_rng_seed(&rng, seed);
                sapm_sample_halton(d, lo, hi, N, 0, seed, X);
                sapm_sample_boundary(d, lo, hi, prob == 0 ? faces : NULL, M, &rng, Xb);
                sapm_sample_uniform(d, lo, hi, n_test, &rng, Xt);
                sapm_pde_exact_values(&pde, n_test, Xt, ut);
                pc.pde = &pde; pc.d = d; pc.N = N; pc.M = M; pc.n_test = n_test;
                pc.X = X; pc.Xb = Xb; pc.X_test = Xt; pc.u_test = ut;
                if (k == RECOMMENDED) depth = sapm_pde_default_widths(d, widths);
                else { widths[0] = d; widths[1] = widths[2] = widths[3] = 50; widths[4] = 1; }
                sapm_net_create(&net0, depth, widths, SAPM_ACT_TANH);
                sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, seed);
                if (k == 0 && py) {
                    char path[600];
                    snprintf(path, sizeof path, "%s/p%d_s%d.bin", dir, prob, s);
                    wrote &= write_points(path, d, N, M, n_test, beta, prob == 0 ? 1 : 2, T,
                                          &net0, X, Xb, Xt, ut);
                }
                o.base.max_iters = 0;         /* no cap: the budget T decides */
                o.base.time_budget = T;
                o.base.log_every = pm->log_every;
                if (k != RECOMMENDED) o.beta = beta;
                if (pm->setup) pm->setup(&o);
                r = pde_run(&pc, &net0, o, NULL);
                sapm_net_destroy(&net0);
                if (r.status == SAPM_ERR_UNSUPPORTED) { rw->avail = 0; sapm_report_free(&r.rep); break; }
                if (!pm->label && r.rep.history_count > 0 && r.rep.history[0].phase)
                    snprintf(rw->label, sizeof rw->label, "%s+L-BFGS", r.rep.history[0].phase);
                tt[s] = pde_time_to_error(&r.rep, target);
                ee[s] = r.rel_l2;
                it[s] = r.iters;
                jj[s] = r.j_pinn;
                sapm_report_free(&r.rep);
            }
            if (!rw->avail) continue;
            rw->t = bench_median(tt, starts);
            rw->err = bench_median(ee, starts);
            rw->iters = bench_median(it, starts);
            rw->j = bench_median(jj, starts);
            printf("  %-13s %-18s t(1e-3) %.2f s, err at T %.3e\n", names[prob], rw->label,
                   rw->t, rw->err);
            fflush(stdout);
        }
        free(X); free(Xb); free(Xt); free(ut);
    }
    if (py && !wrote) { printf("PyTorch peer: could not write the points to %s: skipped\n", dir); py = NULL; }
    if (py) {
        /* the peer prints one line per problem and start:
         * TORCH <problem> <start> <t(1e-3) or inf> <err at T> <iterations> <J_PINN at T> */
        char cmd[800], line[256];
        FILE *pp;
        double pt[3][MAX_STARTS], pe[3][MAX_STARTS], pi_[3][MAX_STARTS], pj[3][MAX_STARTS];
        printf("PyTorch peer: %s bench/pde_torch.py %s (%d x 3 runs of %.0f s)\n", py, dir, starts, T);
        fflush(stdout);
        snprintf(cmd, sizeof cmd, "%s bench/pde_torch.py '%s'", py, dir);
        pp = popen(cmd, "r");
        while (pp && fgets(line, sizeof line, pp)) {
            int q, st;
            char tb[64];
            double e, itv, jv;
            if (sscanf(line, "TORCH %d %d %63s %lf %lf %lf", &q, &st, tb, &e, &itv, &jv) == 6 &&
                q >= 0 && q < 3 && torch_n[q] < MAX_STARTS) {
                pt[q][torch_n[q]] = strcmp(tb, "inf") ? atof(tb) : HUGE_VAL;
                pe[q][torch_n[q]] = e; pi_[q][torch_n[q]] = itv; pj[q][torch_n[q]] = jv;
                torch_n[q]++;
            } else {
                fputs(line, stdout);
            }
        }
        if (pp) pclose(pp);
        for (prob = 0; prob < 3; ++prob)
            if (torch_n[prob] > 0) {
                torch_t[prob] = bench_median(pt[prob], torch_n[prob]);
                torch_e[prob] = bench_median(pe[prob], torch_n[prob]);
                torch_it[prob] = bench_median(pi_[prob], torch_n[prob]);
                torch_j[prob] = bench_median(pj[prob], torch_n[prob]);
            }
    }
    printf("\n%-13s %-18s %4s %10s %6s %9s %11s %9s %7s %11s\n", "problem", "method", "runs",
           "t(1e-3)/s", "ratio", "vs torch", "err at T", "torch/err", "iters", "J_PINN at T");
    for (prob = 0; prob < 3; ++prob) {
        double base_t = rows[prob][0].t;
        for (k = 0; k < N_METHODS; ++k) {
            const row *rw = &rows[prob][k];
            char tbuf[32], rbuf[32], vbuf[32], ebuf[32];
            if (!rw->avail) { printf("%-13s %-18s not available in this build\n", names[prob], rw->label); continue; }
            if (isfinite(rw->t)) snprintf(tbuf, sizeof tbuf, "%.2f", rw->t);
            else snprintf(tbuf, sizeof tbuf, "> %.0f", T);
            if (isfinite(rw->t) && isfinite(base_t) && base_t > 0.0) snprintf(rbuf, sizeof rbuf, "%.2f", rw->t / base_t);
            else snprintf(rbuf, sizeof rbuf, "-");
            if (torch_n[prob] > 0 && isfinite(rw->t) && isfinite(torch_t[prob]))
                snprintf(vbuf, sizeof vbuf, "%.1fx", torch_t[prob] / SAPM__MAX(rw->t, 1e-3));
            else if (torch_n[prob] > 0 && isfinite(rw->t)) snprintf(vbuf, sizeof vbuf, "> %.1fx", T / SAPM__MAX(rw->t, 1e-3));
            else snprintf(vbuf, sizeof vbuf, "-");
            if (torch_n[prob] > 0) snprintf(ebuf, sizeof ebuf, "%.1f", torch_e[prob] / rw->err);
            else snprintf(ebuf, sizeof ebuf, "-");
            printf("%-13s %-18s %4d %10s %6s %9s %11.3e %9s %7.0f %11.3e\n", names[prob], rw->label,
                   rw->runs, tbuf, rbuf, vbuf, rw->err, ebuf, rw->iters, rw->j);
        }
        if (torch_n[prob] > 0) {
            char tbuf[32];
            if (isfinite(torch_t[prob])) snprintf(tbuf, sizeof tbuf, "%.2f", torch_t[prob]);
            else snprintf(tbuf, sizeof tbuf, "> %.0f", T);
            printf("%-13s %-18s %4d %10s %6s %9s %11.3e %9s %7.0f %11.3e\n", names[prob],
                   "PyTorch Adam+LBFGS", torch_n[prob], tbuf, "-", "1.0x", torch_e[prob], "1.0",
                   torch_it[prob], torch_j[prob]);
        } else {
            printf("%-13s %-18s (not run: %s)\n", names[prob], "PyTorch Adam+LBFGS",
                   use_torch ? "no interpreter with torch" : "--no-torch");
        }
    }
    printf("\nt(1e-3): median seconds until the logged held-out relative L2 error <= 1e-3\n"
           "(\"> T\": not reached within the budget); ratio: against PINN-Adam+LBFGS (lower is\n"
           "faster); vs torch: the PyTorch peer's t(1e-3) / this row's (higher: this row is\n"
           "faster; \"> x\": the peer did not reach 1e-3 within T); torch/err: the peer's error\n"
           "at T / this row's (higher: this row is more accurate). The peer ran in this run, on\n"
           "the same points, network and initial weights (the rec. row: its own d-W-1 network)\n"
           "with the same thread count; J_PINN at T with the row's beta (rec.: beta = 1).\n");
    return 0;
}
