/* depth_study - failures over random initialisations as the network gets deeper: least
 * squares (GD, Adam, L-BFGS) against PM and SAPM (arXiv 2504.21501), from U(-s,s) and
 * Xavier starts, at equal iterations.
 *
 *   cc -O2 -march=native examples/depth_study.c -o depth_study -lm
 *   ./depth_study            quick: L = 6, 8, 10, 14, 20; 2 starts; 200 iterations, at most
 *                            1 s per run (about 1 min on 2 busy cores)
 *   ./depth_study --full     10 starts, 2000 iterations, at most 10 s per run (~1.5 hours)
 *   options: --starts K  --iters K  --time T (cap per run)  --depths 6,10,20  --scale s
 *            (U(-s,s), default 1)  --methods LIST (comma-separated numbers, see below)
 *            --out PREFIX (default depth_study)
 *
 * Task: f(x) = sin(x^2) on [-2, 2], 256 random training points, test MSE on 1000 evenly
 * spaced points; width 20, tanh. A run fails when its final test MSE exceeds 1e-3 (or it
 * diverged). Methods: 0 GD (rate 0.05), 1 Adam (rate 2e-3), 2 L-BFGS, 3 PM (paper's form),
 * 4 SAPM (paper's form), 5 SAPM (ours, the default). Every method starts from the same
 * weights for a given init, seed and depth, and runs one method for its whole budget (no
 * polish, no rescaling). A progress line appears every few seconds of training.
 *
 * Files: PREFIX.csv (one row per method, init, depth and seed) and PREFIX_uniform.png /
 * PREFIX_xavier.png (median test MSE against depth, one line per method). */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXSTARTS = 64, MAXDEPTHS = 16 };

/* The methods compared: a label and an options setup on top of sapm_default_options(method)
 * (NULL: the defaults as they come). */
static void setup_gd(sapm_options *o) { o->learning_rate = 0.05; }
static void setup_adam(sapm_options *o) { o->learning_rate = 2e-3; }
static void setup_paper(sapm_options *o) { sapm_aux_paper_options(&o->aux); }
typedef struct method_config {
    const char *label;
    sapm_method method;
    void (*setup)(sapm_options *o);
} method_config;
static const method_config methods[] = {
    {"GD", SAPM_METHOD_GD, setup_gd},
    {"Adam", SAPM_METHOD_ADAM, setup_adam},
    {"L-BFGS", SAPM_METHOD_LBFGS, NULL},
    {"PM (paper's form)", SAPM_METHOD_PM, setup_paper},
    {"SAPM (paper's form)", SAPM_METHOD_SAPM, setup_paper},
    {"SAPM (ours)", SAPM_METHOD_SAPM, NULL},
};
enum { NM = (int)(sizeof methods / sizeof methods[0]) };

/* Progress through the library's callback: a line after every ~3 s of training in all. */
typedef struct progress_state {
    const char *label, *init; int depth, seed;
    double done, last;          /* seconds of finished runs; total at the last line */
} progress_state;
static int print_progress(const sapm_progress *p, void *ud)
{
    progress_state *st = (progress_state *)ud;
    if (st->done + p->seconds - st->last < 3.0) return 0;
    st->last = st->done + p->seconds;
    printf("  .. %s, %s init, L = %d, seed %d: %s iter %d, %.2f s, loss %.3e, test MSE %.3e\n",
           st->label, st->init, st->depth, st->seed, p->phase, p->iter, p->seconds, p->loss,
           p->error);
    fflush(stdout);
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int depths[MAXDEPTHS] = {6, 8, 10, 14, 20}, nd = 5, nstarts = 2, iters = 200, i, di, init, k, s;
    int use[NM], nuse = 0;
    double budget = 1.0, scale = 1.0;
    const char *prefix = "depth_study";
    enum { N = 256, NT = 1000 };
    static double X[N], Y[N], Xt[NT], Yt[NT], U[NT];
    static double med[2][NM][MAXDEPTHS];
    char path[1024];
    FILE *csv;
    sapm_rng rng;
    progress_state ps;
    memset(&ps, 0, sizeof ps);
    for (k = 0; k < NM; ++k) use[k] = 1;
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--full")) { nstarts = 10; iters = 2000; budget = 10.0; }
        else if (!strcmp(argv[i], "--starts") && i + 1 < argc) nstarts = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--time") && i + 1 < argc) budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc) scale = atof(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) prefix = argv[++i];
        else if (!strcmp(argv[i], "--methods") && i + 1 < argc) {
            char *p = argv[++i];
            for (k = 0; k < NM; ++k) use[k] = 0;
            while (*p) {
                long m = strtol(p, &p, 10);
                if (m < 0 || m >= NM) { fprintf(stderr, "no method %ld\n", m); return 2; }
                use[m] = 1;
                if (*p == ',') ++p; else break;
            }
        } else if (!strcmp(argv[i], "--depths") && i + 1 < argc) {
            char *p = argv[++i];
            nd = 0;
            while (*p && nd < MAXDEPTHS) { depths[nd++] = (int)strtol(p, &p, 10); if (*p == ',') ++p; else break; }
        } else { fprintf(stderr, "unknown option %s (see the comment at the top of the file)\n", argv[i]); return 2; }
    }
    for (k = 0; k < NM; ++k) nuse += use[k];
    if (nstarts < 1 || nstarts > MAXSTARTS || iters < 1 || !(budget >= 0.0) || !(scale > 0.0) || nd < 1 ||
        nuse < 1 || strlen(prefix) > 900) {
        fprintf(stderr, "bad option value\n");
        return 2;
    }
    for (di = 0; di < nd; ++di) if (depths[di] < 2 || depths[di] > 60) { fprintf(stderr, "depth out of range\n"); return 2; }
    sapm_rng_seed(&rng, 12345);
    for (i = 0; i < N; ++i) { X[i] = -2.0 + 4.0 * sapm_rng_uniform(&rng); Y[i] = sin(X[i] * X[i]); }
    for (i = 0; i < NT; ++i) { Xt[i] = -2.0 + 4.0 * (i + 0.5) / NT; Yt[i] = sin(Xt[i] * Xt[i]); }
    sprintf(path, "%s.csv", prefix);
    if (!(csv = fopen(path, "w"))) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    fprintf(csv, "method,init,depth,seed,iters,seconds,train_mse,test_mse,diverged\n");
    printf("depth study: sin(x^2), width 20, tanh, N = %d, %d starts per cell, %d iterations per run%s; "
           "failure = test MSE > 1e-3 or diverged\n", N, nstarts, iters,
           budget > 0.0 ? " (capped by time)" : "");
    if (budget > 0.0) printf("time cap %.2f s per run\n", budget);
    for (init = 0; init < 2; ++init) {
        char row[1024];
        size_t len;
        if (init) printf("\nXavier (zero biases)\n%-20s", "method");
        else printf("\nU(-%g,%g) weights and biases\n%-20s", scale, scale, "method");
        for (di = 0; di < nd; ++di) printf("  L=%-2d fails   median  iters", depths[di]);
        printf("\n");
        for (k = 0; k < NM; ++k) {
            if (!use[k]) continue;
            len = (size_t)snprintf(row, sizeof row, "%-20s", methods[k].label);
            for (di = 0; di < nd; ++di) {
                int L = depths[di], widths[64], l, fails = 0;
                double t[MAXSTARTS], it[MAXSTARTS];
                widths[0] = 1; for (l = 1; l < L; ++l) widths[l] = 20; widths[L] = 1;
                for (s = 0; s < nstarts; ++s) {
                    sapm_net net;
                    sapm_options o = sapm_default_options(methods[k].method);
                    sapm_report rep;
                    sapm_result r;
                    double e = 0.0;
                    if (methods[k].setup) methods[k].setup(&o);
                    o.max_iters = iters; o.time_budget = budget;
                    o.log_every = 0; o.log_seconds = 0.5;  /* test MSE every 0.5 s only */
                    o.n_test = NT; o.X_test = Xt; o.Y_test = Yt;
                    ps.label = methods[k].label; ps.init = init ? "Xavier" : "U(-s,s)";
                    ps.depth = L; ps.seed = 1000 + s;
                    o.progress = print_progress; o.user_data = &ps;
                    if (sapm_net_create(&net, L, widths, SAPM_ACT_TANH) != SAPM_OK) return 1;
                    sapm_net_init(&net, init ? SAPM_INIT_XAVIER : SAPM_INIT_UNIFORM, init ? 1.0 : scale,
                                  (uint64_t)(1000 + s));
                    r = sapm_train(&net, N, X, 1, Y, 1, &o, &rep);
                    ps.done += rep.seconds;
                    sapm_net_forward(&net, NT, Xt, 1, U, 1);
                    for (i = 0; i < NT; ++i) e += (U[i] - Yt[i]) * (U[i] - Yt[i]);
                    e /= NT;
                    if (!isfinite(e) || r == SAPM_ERR_DIVERGED) e = INFINITY;
                    t[s] = e;
                    it[s] = rep.iters;
                    if (!(e <= 1e-3)) ++fails;
                    fprintf(csv, "\"%s\",%s,%d,%d,%d,%.4g,%.17g,%.17g,%d\n", methods[k].label,
                            init ? "xavier" : "uniform", L, 1000 + s, rep.iters, rep.seconds, rep.mse, e,
                            r == SAPM_ERR_DIVERGED);
                    sapm_report_free(&rep);
                    sapm_net_destroy(&net);
                }
                qsort(t, (size_t)nstarts, sizeof(double), cmp_d);
                qsort(it, (size_t)nstarts, sizeof(double), cmp_d);
                med[init][k][di] = nstarts % 2 ? t[nstarts / 2] : 0.5 * (t[nstarts / 2 - 1] + t[nstarts / 2]);
                if (len < sizeof row)
                    len += (size_t)snprintf(row + len, sizeof row - len, "  %4d/%-2d %9.2e %6.0f", fails,
                                            nstarts, med[init][k][di], it[nstarts / 2]);
            }
            printf("%s\n", row);
            fflush(stdout);
        }
    }
    fclose(csv);
    printf("\n%s: written (one row per method, init, depth and seed)\n", path);
    for (init = 0; init < 2; ++init) {
        sapm_plot_series ser[NM];
        double xs[MAXDEPTHS];
        char title[160];
        int ns = 0;
        sapm_result r;
        for (di = 0; di < nd; ++di) xs[di] = depths[di];
        for (k = 0; k < NM; ++k) {
            if (!use[k]) continue;
            ser[ns].label = methods[k].label; ser[ns].count = nd; ser[ns].x = xs; ser[ns].y = med[init][k];
            ++ns;
        }
        sprintf(path, "%s_%s.png", prefix, init ? "xavier" : "uniform");
        if (init) snprintf(title, sizeof title, "sin(x^2), Xavier: median test MSE vs depth (%d starts)", nstarts);
        else snprintf(title, sizeof title, "sin(x^2), U(-%g,%g): median test MSE vs depth (%d starts)", scale, scale, nstarts);
        r = sapm_png_plot(path, ns, ser, title, "depth L", "median test MSE (log)", 1);
        printf("%s: %s\n", path, r == SAPM_OK ? "written" : sapm_result_string(r));
    }
    return 0;
}
