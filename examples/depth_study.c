/* depth_study - failure rates over random initialisations as the network gets deeper,
 * least squares against PM/SAPM (arXiv 2504.21501), from U(-1,1) and Xavier starts.
 *
 *   cc -O2 -march=native examples/depth_study.c -o depth_study -lm
 *   ./depth_study                 quick: L = 6, 8, 10, 14, 20; 3 inits; 1 s per run (~1.5 min)
 *   ./depth_study --full          10 inits, 5 s per run, every method below (~1 hour)
 *   options: --starts K (inits per cell) --time T --depths 6,10,20 --methods all
 *
 * Task: f(x) = sin(x^2) on [-2, 2], 256 random training points, test MSE on 1000 evenly
 * spaced points; width 20, tanh. A run fails when its final test MSE exceeds 1e-3.
 * Methods (quick: Adam, L-BFGS, SAPM default; --full or --methods all adds PM, SAPM in the
 * paper's form (with our curvature-scaled step) and our SAPM without the polish). Every
 * method starts from the same weights for a given init seed and depth. A progress line
 * (from the library's callback) appears every few seconds of training. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXSTARTS = 64 };

/* The methods compared: a label and an options setup on top of sapm_default_options(method)
 * (NULL: the defaults as they come); quick = 1: in the quick run. */
static void setup_paper_scaled(sapm_options *o)  /* the paper's form, our curvature-scaled step
                                                    (its fixed tau diverges at these depths) */
{
    o->polish = SAPM_METHOD_NONE;
    sapm_aux_paper_options(&o->aux);
    o->aux.update = SAPM_AUX_GD_SCALED;
    o->aux.tau = 1.0;
}
static void setup_no_polish(sapm_options *o) { o->polish = SAPM_METHOD_NONE; }
typedef struct method_config {
    const char *label;
    sapm_method method;
    void (*setup)(sapm_options *o);
    int quick;
} method_config;
static const method_config methods[] = {
    {"Adam", SAPM_METHOD_ADAM, NULL, 1},
    {"L-BFGS", SAPM_METHOD_LBFGS, NULL, 1},
    {"SAPM (default)", SAPM_METHOD_SAPM, NULL, 1},
    {"PM (ours)", SAPM_METHOD_PM, NULL, 0},
    {"SAPM (paper's form)", SAPM_METHOD_SAPM, setup_paper_scaled, 0},
    {"SAPM (ours, no polish)", SAPM_METHOD_SAPM, setup_no_polish, 0},
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
    int depths[16] = {6, 8, 10, 14, 20}, nd = 5, nstarts = 3, all = 0, i, di, init, k, s;
    double budget = 1.0;
    enum { N = 256, NT = 1000 };
    static double X[N], Y[N], Xt[NT], Yt[NT], U[NT];
    sapm_rng rng;
    progress_state ps;
    memset(&ps, 0, sizeof ps);
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--full")) { nstarts = 10; budget = 5.0; all = 1; }
        else if (!strcmp(argv[i], "--starts") && i + 1 < argc) nstarts = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--time") && i + 1 < argc) budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--methods") && i + 1 < argc) all = !strcmp(argv[++i], "all");
        else if (!strcmp(argv[i], "--depths") && i + 1 < argc) {
            char *p = argv[++i];
            nd = 0;
            while (*p && nd < 16) { depths[nd++] = (int)strtol(p, &p, 10); if (*p == ',') ++p; else break; }
        } else { fprintf(stderr, "unknown option %s (see the comment at the top of the file)\n", argv[i]); return 2; }
    }
    if (nstarts < 1 || nstarts > MAXSTARTS || !(budget > 0.0) || nd < 1) { fprintf(stderr, "bad option value\n"); return 2; }
    for (di = 0; di < nd; ++di) if (depths[di] < 2 || depths[di] > 60) { fprintf(stderr, "depth out of range\n"); return 2; }
    sapm_rng_seed(&rng, 12345);
    for (i = 0; i < N; ++i) { X[i] = -2.0 + 4.0 * sapm_rng_uniform(&rng); Y[i] = sin(X[i] * X[i]); }
    for (i = 0; i < NT; ++i) { Xt[i] = -2.0 + 4.0 * (i + 0.5) / NT; Yt[i] = sin(Xt[i] * Xt[i]); }
    printf("depth study: sin(x^2), width 20, tanh, N = %d, %d inits per cell, %.1f s per run; "
           "failure = test MSE > 1e-3\n", N, nstarts, budget);
    for (init = 0; init < 2; ++init) {
        char row[1024];
        size_t len;
        printf("\n%s init\n%-24s", init ? "Xavier (zero biases)" : "U(-1,1) weights and biases", "method");
        for (di = 0; di < nd; ++di) printf("   L=%-2d fails  median     worst   ", depths[di]);
        printf("\n");
        for (k = 0; k < NM; ++k) {
            if (!all && !methods[k].quick) continue;
            len = (size_t)snprintf(row, sizeof row, "%-24s", methods[k].label);
            for (di = 0; di < nd; ++di) {
                int L = depths[di], widths[64], l, fails = 0;
                double t[MAXSTARTS], worst = 0.0;
                widths[0] = 1; for (l = 1; l < L; ++l) widths[l] = 20; widths[L] = 1;
                for (s = 0; s < nstarts; ++s) {
                    sapm_net net;
                    sapm_options o = sapm_default_options(methods[k].method);
                    sapm_report rep;
                    double e = 0.0;
                    if (methods[k].setup) methods[k].setup(&o);
                    o.max_iters = 0; o.time_budget = budget; /* no cap: the time decides */
                    o.log_every = 0; o.log_seconds = 0.5;  /* test MSE every 0.5 s only */
                    o.n_test = NT; o.X_test = Xt; o.Y_test = Yt;
                    ps.label = methods[k].label; ps.init = init ? "Xavier" : "U(-1,1)";
                    ps.depth = L; ps.seed = 1000 + s;
                    o.progress = print_progress; o.user_data = &ps;
                    if (sapm_net_create(&net, L, widths, SAPM_ACT_TANH) != SAPM_OK) return 1;
                    sapm_net_init(&net, init ? SAPM_INIT_XAVIER : SAPM_INIT_UNIFORM, 1.0, 1000 + s);
                    sapm_train(&net, N, X, 1, Y, 1, &o, &rep);
                    ps.done += rep.seconds;
                    sapm_net_forward(&net, NT, Xt, 1, U, 1);
                    for (i = 0; i < NT; ++i) e += (U[i] - Yt[i]) * (U[i] - Yt[i]);
                    e /= NT;
                    if (!isfinite(e)) e = INFINITY;
                    t[s] = e;
                    if (!(e <= 1e-3)) ++fails;
                    if (e > worst) worst = e;
                    sapm_report_free(&rep);
                    sapm_net_destroy(&net);
                }
                qsort(t, (size_t)nstarts, sizeof(double), cmp_d);
                if (len < sizeof row)
                    len += (size_t)snprintf(row + len, sizeof row - len, "   %4d/%-2d %9.2e %9.2e", fails, nstarts,
                                            nstarts % 2 ? t[nstarts / 2] : 0.5 * (t[nstarts / 2 - 1] + t[nstarts / 2]), worst);
            }
            printf("%s\n", row);
            fflush(stdout);
        }
    }
    if (all) printf("\n(SAPM (paper's form) uses our curvature-scaled step: the paper's fixed tau diverges at these depths.)\n");
    return 0;
}
