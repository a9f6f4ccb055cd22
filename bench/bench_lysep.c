/* bench_lysep.c - SAPM-PINN / LySep against the ordinary PINN (the baseline) on the
 * three benchmark problems of bench/bench_util.h, side by side in one run:
 *   transport   u_t + u_x = 0 on (0,1)^2, u = sin(2 pi (x - t)), inflow faces t = 0, x = 0
 *   poisson2d   -Lap u = f on (0,1)^2, u = sin(pi x) sin(pi y)
 *   poisson10   -Lap u = f on (0,1)^10, u = sum_i sin(pi x_i / 2)
 * Network d-50-50-50-1 tanh (Xavier, seed 1), N = 1000 interior points, same points and
 * the same initial network for every method. For each method: wall time to reach relative
 * L2 error 1e-3 on 2000 held-out points ("-" if never within the budget) and the error at
 * the end of the equal wall-clock budget.
 *
 *   SAPM_BENCH_SECONDS   budget per run (default 15; poisson10 gets 2x)
 *   SAPM_BENCH_REPEATS   runs per cell with initial networks 1, 2, .. (RNG seed = number); the table
 *                        shows medians (default 1)
 *   SAPM_BENCH_ONLY      substring of the problem names to run (default all)
 *
 * The output ends with the PyTorch PINN reference (bench/pde_torch.py; float64 CPU, same
 * architecture), whose numbers were taken on this machine but not in this run. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "bench_util.h"

/* The methods compared: a label (NULL: the first phase's label from the run's history,
 * "SAPM-PINN" or "LySep" as the operator decides, followed by suffix) and an options setup
 * on top of sapm_pde_default_options(method). */
static void setup_adam_lbfgs(sapm_pde_options *o)
{
    o->base.polish = SAPM_METHOD_LBFGS;       /* Adam for half the budget, then L-BFGS */
    o->base.phase_iters = o->base.max_iters / 2;
    o->base.phase_time = 0.5;
}
static void setup_paper(sapm_pde_options *o)   /* the paper's form (arXiv 2507.12766) */
{
    o->base.polish = SAPM_METHOD_NONE;         /* pure alternating auxiliary updates */
    o->lysep.prox = 1e-10;
}
static void setup_polish(sapm_pde_options *o)  /* ours: 3 alternating iterations, then L-BFGS */
{
    o->base.polish = SAPM_METHOD_LBFGS;
    o->base.phase_iters = 3;
}
typedef struct method {
    const char *label, *suffix;
    sapm_method m;
    void (*setup)(sapm_pde_options *o);         /* NULL: the defaults as they come */
} method;
static const method meths[] = {
    {"PINN L-BFGS", "", SAPM_METHOD_LBFGS, NULL},
    {"PINN Adam->L-BFGS", "", SAPM_METHOD_ADAM, setup_adam_lbfgs},
    {NULL, " paper's form (pure)", SAPM_METHOD_SAPM, setup_paper},
    /* ours: 3 alternating iterations, prox 1, then the L-BFGS polish (asked for) */
    {NULL, " then L-BFGS (ours)", SAPM_METHOD_SAPM, setup_polish},
};
enum { NM = (int)(sizeof meths / sizeof meths[0]) };

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
    printf("%-10s %-30s %12s %12s %12s %8s\n", "problem", "method", "t(rel<1e-3)", "rel L2 end", "J_PINN end", "iters");
    for (prob = 0; prob < 3; ++prob) {
        int d = prob == 2 ? 10 : 2, N = 1000, M = prob == 2 ? 500 : 400, nt = 2000, k, rr;
        int widths[5], faces[4] = {1, 0, 1, 0};
        double lo[10], hi[10], *X, *Xb, *Xt, *ue, tb = prob == 2 ? 2 * budget : budget;
        sapm_pde pde;
        sapm_rng rng;
        if (only && !strstr(names[prob], only)) continue;
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
        for (k = 0; k < NM; ++k) {
            double tto[16], rel[16], jp[16];
            int iters = 0;
            char label[64];
            snprintf(label, sizeof label, "%s%s", meths[k].label ? meths[k].label :
                     sapm_method_name(meths[k].m), meths[k].suffix);
            for (rr = 0; rr < repeats && rr < 16; ++rr) {
                sapm_net net;
                sapm_report rep;
                sapm_result r;
                sapm_pde_options opt = sapm_pde_default_options(meths[k].m);
                int h;
                sapm_net_create(&net, 4, widths, SAPM_ACT_TANH);
                sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1u + (uint64_t)rr); /* repeats: other initial networks */
                opt.base.max_iters = 0;   /* no cap: the budget decides */
                opt.base.time_budget = tb;
                opt.base.log_every = 1;
                opt.base.n_test = nt;
                opt.base.X_test = Xt;
                opt.base.Y_test = ue;
                if (meths[k].setup) meths[k].setup(&opt);
                r = sapm_pde_train(&net, &pde, N, X, M, Xb, &opt, &rep);
                if (r != SAPM_OK) printf("%-10s %-30s %s %s\n", names[prob], label, sapm_result_string(r), rep.message);
                if (!meths[k].label && rep.history_count > 0 && rep.history[0].phase)
                    snprintf(label, sizeof label, "%s%s", rep.history[0].phase, meths[k].suffix);
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
                double t = bench_median(tto, rr), e = bench_median(rel, rr), j = bench_median(jp, rr);
                char ts[32];
                if (t >= 1e300) snprintf(ts, sizeof ts, "-");
                else snprintf(ts, sizeof ts, "%.1f s", t);
                printf("%-10s %-30s %12s %12.3e %12.3e %8d\n", names[prob], label, ts, e, j, iters);
                fflush(stdout);
            }
        }
        free(X); free(Xb); free(Xt); free(ue);
    }
    printf("reference (bench/pde_torch.py, not run here): PyTorch PINN, rel. L2 5e-4 on transport in ~16 s,\n"
           "1.4e-4 on poisson2d in ~45 s, 3.7e-3 on poisson10 in ~164 s\n");
    return 0;
}
