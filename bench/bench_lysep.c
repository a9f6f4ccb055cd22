/* bench_lysep.c - SAPM-PINN / LySep against the ordinary PINN (pinn's baseline) on the
 * issue's three problems, side by side in one run:
 *   transport   u_t + u_x = 0 on (0,1)^2, u = sin(2 pi (x - t)), inflow faces t = 0, x = 0
 *   poisson2d   -Lap u = f on (0,1)^2, u = sin(pi x) sin(pi y)
 *   poisson10   -Lap u = f on (0,1)^10, u = sum_i sin(pi x_i / 2)
 * Network d-50-50-50-1 tanh (Xavier, seed 1), N = 1000 interior points, same points and
 * the same initial network for every method. For each method: wall time to reach relative
 * L2 error 1e-3 on 2000 held-out points ("-" if never within the budget) and the error at
 * the end of the equal wall-clock budget.
 *
 *   SAPM_BENCH_SECONDS   budget per run (default 15; poisson10 gets 2x)
 *   SAPM_BENCH_REPEATS   runs per cell with initial-network seeds 1, 2, ..; the table
 *                        shows medians (default 1)
 *   SAPM_BENCH_ONLY      substring of the problem names to run (default all)
 *
 * Reference (issue 5): PyTorch PINN, float64 CPU, same architecture: 1.4e-4 on poisson2d
 * in ~45 s, 5e-4 on transport in ~16 s, 3.7e-3 on poisson10 in ~164 s on this machine. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "../examples/pde_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct method { const char *name; sapm_pde_method m; int alt_iters; int polish; } method;

int main(void)
{
    const char *names[3] = {"transport", "poisson2d", "poisson10"};
    const char *only = getenv("SAPM_BENCH_ONLY");
    double budget = getenv("SAPM_BENCH_SECONDS") ? atof(getenv("SAPM_BENCH_SECONDS")) : 15.0;
    int repeats = getenv("SAPM_BENCH_REPEATS") ? atoi(getenv("SAPM_BENCH_REPEATS")) : 1;
    int prob;
    if (repeats < 1) repeats = 1;
    printf("bench_lysep: budget %.0f s per run (poisson10: %.0f s), %d run(s) per cell (medians), SIMD %s\n",
           budget, 2 * budget, repeats, sapm_simd_path());
    printf("%-10s %-26s %12s %12s %12s %8s\n", "problem", "method", "t(rel<1e-3)", "rel L2 end", "J_PINN end", "iters");
    for (prob = 0; prob < 3; ++prob) {
        int d = prob == 2 ? 10 : 2, N = 1000, M = prob == 2 ? 500 : 400, nt = 2000, k, rr;
        int widths[5], faces[4] = {1, 0, 1, 0};
        double lo[10], hi[10], *X, *Xb, *Xt, *ue, tb = prob == 2 ? 2 * budget : budget;
        sapm_pde pde;
        sapm_rng rng;
        method meths[5];
        int nm = 0;
        if (only && !strstr(names[prob], only)) continue;
        meths[nm].name = "PINN L-BFGS"; meths[nm].m = SAPM_PDE_PINN_LBFGS; meths[nm].alt_iters = 0; meths[nm].polish = 0; ++nm;
        meths[nm].name = "PINN Adam->L-BFGS"; meths[nm].m = SAPM_PDE_PINN_ADAM_LBFGS; meths[nm].alt_iters = 0; meths[nm].polish = 0; ++nm;
        /* the papers' form: pure alternating auxiliary updates (polish off, prox 1e-10) */
        meths[nm].name = prob == 0 ? "SAPM-PINN papers' (pure)" : "LySep papers' (pure)";
        meths[nm].m = prob == 0 ? SAPM_PDE_SAPM_PINN : SAPM_PDE_LYSEP; meths[nm].alt_iters = 1000000;
        meths[nm].polish = 0; ++nm;
        /* the default options (ours): lysep.aux_iters alternating iterations, prox 1, L-BFGS polish */
        meths[nm].name = prob == 0 ? "SAPM-PINN default" : "LySep default"; meths[nm].m = meths[2].m;
        meths[nm].alt_iters = 1000000; meths[nm].polish = -1; ++nm;
        for (k = 0; k < d; ++k) { lo[k] = 0.0; hi[k] = 1.0; }
        pde_bench_problem(prob, d, &pde);
        X = (double *)malloc(sizeof(double) * (size_t)N * d);
        Xb = (double *)malloc(sizeof(double) * (size_t)M * d);
        Xt = (double *)malloc(sizeof(double) * (size_t)nt * d);
        ue = (double *)malloc(sizeof(double) * (size_t)nt);
        sapm_rng_seed(&rng, 5);
        sapm_sample_uniform(d, lo, hi, N, &rng, X);
        sapm_sample_boundary(d, lo, hi, prob == 0 ? faces : NULL, M, &rng, Xb);
        sapm_sample_uniform(d, lo, hi, nt, &rng, Xt);
        sapm_pde_exact_values(&pde, nt, Xt, ue);
        widths[0] = d; widths[1] = widths[2] = widths[3] = 50; widths[4] = 1;
        for (k = 0; k < nm; ++k) {
            double tto[16], rel[16], jp[16];
            int iters = 0;
            for (rr = 0; rr < repeats && rr < 16; ++rr) {
                sapm_net net;
                sapm_report rep;
                sapm_pde_options opt = sapm_pde_default_options(meths[k].m);
                int h;
                sapm_net_create(&net, 4, widths, SAPM_ACT_TANH);
                sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1u + (uint64_t)rr); /* repeats: other initial networks */
                opt.base.max_iters = meths[k].alt_iters ? meths[k].alt_iters : 1000000;
                opt.base.time_budget = tb;
                opt.base.log_every = 1;
                opt.n_test = nt;
                opt.X_test = Xt;
                opt.u_test = ue;
                if (meths[k].polish == 0) { /* the papers' pure alternating form */
                    opt.lysep.polish_iters = 0;
                    opt.lysep.prox = 1e-10;
                } /* polish < 0: sapm_lysep_default_options() unchanged (base.max_iters only
                     caps the alternating phase, which lysep.aux_iters ends first) */
                sapm_pde_train(&net, &pde, N, X, M, Xb, &opt, &rep);
                tto[rr] = 1e300;
                for (h = 0; h < rep.history_count; ++h)
                    if (rep.history[h].error <= 1e-3) { tto[rr] = rep.history[h].seconds; break; }
                sapm_pde_errors(&net, nt, Xt, ue, &rel[rr], NULL);
                jp[rr] = rep.mse;
                iters = rep.iters;
                sapm_report_free(&rep);
                sapm_net_destroy(&net);
            }
            {
                double t = pde_median(tto, rr), e = pde_median(rel, rr), j = pde_median(jp, rr);
                char ts[32];
                if (t >= 1e300) snprintf(ts, sizeof ts, "-");
                else snprintf(ts, sizeof ts, "%.1f s", t);
                printf("%-10s %-26s %12s %12.3e %12.3e %8d\n", names[prob], meths[k].name, ts, e, j, iters);
                fflush(stdout);
            }
        }
        free(X); free(Xb); free(Xt); free(ue);
    }
    return 0;
}
