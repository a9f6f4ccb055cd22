/* depth_study - seed experiment 2: failure rates over random initialisations as the
 * network gets deeper, LS against PM/SAPM, under the seeds' U(-1,1) and Xavier starts.
 *
 *   cc -O2 -march=native examples/depth_study.c -o depth_study -lm
 *   ./depth_study                 quick: L = 6, 8, 10, 14, 20; 3 inits; 1 s per run (~1.5 min)
 *   ./depth_study --full          10 inits, 5 s per run, every method below (~1 hour)
 *   options: --seeds K --time T --depths 6,10,20 --methods all
 *
 * Task: f(x) = sin(x^2) on [-2, 2], 256 random training points, test MSE on 1000 evenly
 * spaced points; width 20, tanh. A run fails when its final test MSE exceeds 1e-3.
 * Methods (quick: LS-Adam, LS-L-BFGS, SAPM default; --full or --methods all adds PM,
 * the seeds' SAPM and our SAPM without the polish). Every method starts from the same
 * weights for a given init seed and depth. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXSEEDS = 64, NM = 6 };
static const char *names[NM] = {"LS-Adam", "LS-LBFGS", "SAPM (default)", "PM (ours)", "SAPM (seeds)",
                                "SAPM (ours, no polish)"};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int depths[16] = {6, 8, 10, 14, 20}, nd = 5, nseeds = 3, all = 0, i, di, init, k, s;
    double budget = 1.0;
    enum { N = 256, NT = 1000 };
    static double X[N], Y[N], Xt[NT], Yt[NT], U[NT];
    sapm_rng rng;
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--full")) { nseeds = 10; budget = 5.0; all = 1; }
        else if (!strcmp(argv[i], "--seeds") && i + 1 < argc) nseeds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--time") && i + 1 < argc) budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--methods") && i + 1 < argc) all = !strcmp(argv[++i], "all");
        else if (!strcmp(argv[i], "--depths") && i + 1 < argc) {
            char *p = argv[++i];
            nd = 0;
            while (*p && nd < 16) { depths[nd++] = (int)strtol(p, &p, 10); if (*p == ',') ++p; else break; }
        } else { fprintf(stderr, "unknown option %s (see the comment at the top of the file)\n", argv[i]); return 2; }
    }
    if (nseeds < 1 || nseeds > MAXSEEDS || !(budget > 0.0) || nd < 1) { fprintf(stderr, "bad option value\n"); return 2; }
    for (di = 0; di < nd; ++di) if (depths[di] < 2 || depths[di] > 60) { fprintf(stderr, "depth out of range\n"); return 2; }
    sapm_rng_seed(&rng, 12345);
    for (i = 0; i < N; ++i) { X[i] = -2.0 + 4.0 * sapm_rng_uniform(&rng); Y[i] = sin(X[i] * X[i]); }
    for (i = 0; i < NT; ++i) { Xt[i] = -2.0 + 4.0 * (i + 0.5) / NT; Yt[i] = sin(Xt[i] * Xt[i]); }
    printf("depth study: sin(x^2), width 20, tanh, N = %d, %d inits per cell, %.1f s per run; "
           "failure = test MSE > 1e-3\n", N, nseeds, budget);
    for (init = 0; init < 2; ++init) {
        printf("\n%s init\n%-24s", init ? "Xavier (zero biases)" : "U(-1,1) weights and biases (seeds')", "method");
        for (di = 0; di < nd; ++di) printf("   L=%-2d fails  median     worst   ", depths[di]);
        printf("\n");
        for (k = 0; k < NM; ++k) {
            if (!all && k >= 3) continue;
            printf("%-24s", names[k]);
            fflush(stdout);
            for (di = 0; di < nd; ++di) {
                int L = depths[di], widths[64], l, fails = 0;
                double t[MAXSEEDS], worst = 0.0;
                widths[0] = 1; for (l = 1; l < L; ++l) widths[l] = 20; widths[L] = 1;
                for (s = 0; s < nseeds; ++s) {
                    sapm_net net;
                    sapm_options o;
                    sapm_report rep;
                    double e = 0.0;
                    sapm_method m = k == 0 ? SAPM_METHOD_LS_ADAM : k == 1 ? SAPM_METHOD_LS_LBFGS
                                  : k == 3 ? SAPM_METHOD_PM : SAPM_METHOD_SAPM;
                    o = sapm_default_options(m);
                    if (k == 4) { sapm_aux_seeds_options(&o.aux); o.aux.update = SAPM_AUX_GD_SCALED; o.aux.tau = 1.0; }
                    if (k == 5) o.aux.polish = 0;
                    o.max_iters = 100000000; o.time_budget = budget; o.log_every = 0;
                    if (sapm_net_create(&net, L, widths, SAPM_ACT_TANH) != SAPM_OK) return 1;
                    sapm_net_init(&net, init ? SAPM_INIT_XAVIER : SAPM_INIT_UNIFORM, 1.0, 1000 + s);
                    sapm_train(&net, N, X, 1, Y, 1, &o, &rep);
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
                qsort(t, (size_t)nseeds, sizeof(double), cmp_d);
                printf("   %4d/%-2d %9.2e %9.2e", fails, nseeds,
                       nseeds % 2 ? t[nseeds / 2] : 0.5 * (t[nseeds / 2 - 1] + t[nseeds / 2]), worst);
                fflush(stdout);
            }
            printf("\n");
        }
    }
    printf("\n(SAPM (seeds) uses our curvature-scaled step: the seeds' fixed tau diverges at these depths.)\n");
    return 0;
}
