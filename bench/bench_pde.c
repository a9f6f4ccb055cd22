/* bench_pde - PDE training side by side: for transport, Poisson 2-D and Poisson d = 10,
 * the wall time each method needs to reach relative L2 error 1e-3 on held-out points,
 * the time to reach the PyTorch reference's error (bench/pde_torch.py) and the speed-up over the
 * reference's time, and the error each reaches at equal wall time (the budget T),
 * medians over starts.
 *
 *   make bench                     (or: cc -O3 -march=native -fopenmp bench/bench_pde.c -o b -lm)
 *   OMP_NUM_THREADS=1 make bench   one thread (the PyTorch reference ran on one: PyTorch's
 *                                  default on this 2-core machine, at::get_num_threads() = 1)
 *   SAPM_BENCH_QUICK=1 make bench  quick mode: 1 seed, T = 6 s per run
 *   default:                       3 starts, T = 20 s per run (about 12 minutes)
 *
 * Setup (the PyTorch reference's): tanh, 3 hidden layers of 50, Xavier, float64,
 * N = 1000 interior points (scrambled Halton), boundary points uniform on the
 * Dirichlet faces (transport: inflow faces t = 0 and x = 0, M = 200; Poisson 2-D:
 * M = 400; Poisson d = 10: M = 1000), 2000 held-out uniform random test points, error
 * logged every 5 iterations (every iteration for PINN-LM, whose iterations are ~50x
 * longer). Methods: PINN-Adam+LBFGS (Adam lr 1e-3 for half the budget
 * then L-BFGS: the reference recipe, the named baseline of the ratio column),
 * PINN-LBFGS, PINN-LM (Levenberg-Marquardt), and SAPM-PINN (transport) / LySep (Poisson). The boundary
 * weight beta is 10 for transport and Poisson d = 10 and 100 for Poisson 2-D (f ~ 20).
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
};
enum { N_METHODS = (int)(sizeof methods / sizeof methods[0]) };

int main(void)
{
    const char *quick_env = getenv("SAPM_BENCH_QUICK");
    int quick = quick_env && quick_env[0] && strcmp(quick_env, "0") != 0;
    int starts = quick ? 1 : 3, prob, k, s;
    double T = quick ? 6.0 : 20.0, target = 1e-3;
    static const char *names[3] = {"transport", "Poisson 2-D", "Poisson d=10"};
    /* PyTorch reference (bench/pde_torch.py, NOT measured in this run): error, seconds */
    static const double ref_err[3] = {5e-4, 1.4e-4, 3.7e-3}, ref_sec[3] = {16.0, 45.0, 164.0};
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    printf("bench_pde: %s mode, %d seed(s), budget T = %.0f s per run, target rel. L2 %.0e, "
           "SIMD %s, %d thread%s%s\n", quick ? "quick" : "default", starts, T, target,
           sapm_simd_path(), threads, threads > 1 ? "s" : "",
#ifdef _OPENMP
           " (OpenMP: OMP_NUM_THREADS)"
#else
           " (built without OpenMP)"
#endif
           );
    printf("(wall times on a shared machine: compare ratios within this run)\n\n");
    printf("%-13s %-16s %4s %10s %6s %10s %8s %11s %7s %11s\n", "problem", "method", "runs",
           "t(1e-3)/s", "ratio", "t(ref)/s", "vs ref", "err at T", "iters", "J_PINN at T");
    for (prob = 0; prob < 3; ++prob) {
        int d = prob == 2 ? 10 : 2, N = 1000, M = prob == 0 ? 200 : prob == 1 ? 400 : 1000;
        int n_test = 2000, i, faces[4] = {1, 0, 1, 0}, widths[5];
        double lo[10], hi[10], beta = prob == 1 ? 100.0 : 10.0;
        double *X, *Xb, *Xt, *ut, base_t = NAN;
        sapm_pde pde;
        for (i = 0; i < d; ++i) { lo[i] = 0.0; hi[i] = 1.0; }
        pde_bench_problem(prob, d, &pde);
        X = (double *)malloc(sizeof(double) * (size_t)N * d);
        Xb = (double *)malloc(sizeof(double) * (size_t)M * d);
        Xt = (double *)malloc(sizeof(double) * (size_t)n_test * d);
        ut = (double *)malloc(sizeof(double) * (size_t)n_test);
        if (!X || !Xb || !Xt || !ut) { fprintf(stderr, "out of memory\n"); return 1; }
        widths[0] = d; widths[1] = widths[2] = widths[3] = 50; widths[4] = 1;
        for (k = 0; k < N_METHODS; ++k) {
            const pde_method *pm = &methods[k];
            char label[64];
            double tt[MAX_STARTS], tr[MAX_STARTS], ee[MAX_STARTS], it[MAX_STARTS], jj[MAX_STARTS];
            double med_t, med_r;
            int avail = 1;
            snprintf(label, sizeof label, "%s", pm->label ? pm->label : sapm_method_name(pm->method));
            for (s = 0; s < starts; ++s) {
                sapm_rng rng;
                sapm_net net0;
                pde_case pc;
                pde_result r;
                sapm_pde_options o = sapm_pde_default_options(pm->method);
                uint64_t seed = (uint64_t)s + 1;
                sapm_rng_seed(&rng, seed);
                sapm_sample_halton(d, lo, hi, N, 0, seed, X);
                sapm_sample_boundary(d, lo, hi, prob == 0 ? faces : NULL, M, &rng, Xb);
                sapm_sample_uniform(d, lo, hi, n_test, &rng, Xt);
                sapm_pde_exact_values(&pde, n_test, Xt, ut);
                pc.pde = &pde; pc.d = d; pc.N = N; pc.M = M; pc.n_test = n_test;
                pc.X = X; pc.Xb = Xb; pc.X_test = Xt; pc.u_test = ut;
                sapm_net_create(&net0, 4, widths, SAPM_ACT_TANH);
                sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, seed);
                o.base.max_iters = 0;         /* no cap: the budget T decides */
                o.base.time_budget = T;
                o.base.log_every = pm->log_every;
                o.beta = beta;
                if (pm->setup) pm->setup(&o);
                r = pde_run(&pc, &net0, o, NULL);
                sapm_net_destroy(&net0);
                if (r.status == SAPM_ERR_UNSUPPORTED) { avail = 0; sapm_report_free(&r.rep); break; }
                if (!pm->label && r.rep.history_count > 0 && r.rep.history[0].phase)
                    snprintf(label, sizeof label, "%s+L-BFGS", r.rep.history[0].phase);
                tt[s] = pde_time_to_error(&r.rep, target);
                tr[s] = pde_time_to_error(&r.rep, ref_err[prob]);
                ee[s] = r.rel_l2;
                it[s] = r.iters;
                jj[s] = r.j_pinn;
                sapm_report_free(&r.rep);
            }
            if (!avail) {
                printf("%-13s %-16s not available in this build\n", names[prob], label);
                continue;
            }
            med_t = bench_median(tt, starts);
            med_r = bench_median(tr, starts);
            if (pm->is_baseline) base_t = med_t;
            {
                char tbuf[32], rbuf[32], fbuf[32], sbuf[32];
                if (isfinite(med_t)) snprintf(tbuf, sizeof tbuf, "%.2f", med_t);
                else snprintf(tbuf, sizeof tbuf, "> %.0f", T);
                if (isfinite(med_t) && isfinite(base_t) && base_t > 0.0)
                    snprintf(rbuf, sizeof rbuf, "%.2f", med_t / base_t);
                else snprintf(rbuf, sizeof rbuf, "-");
                if (isfinite(med_r)) {
                    snprintf(fbuf, sizeof fbuf, "%.2f", med_r);
                    snprintf(sbuf, sizeof sbuf, "%.1fx", ref_sec[prob] / (med_r > 1e-3 ? med_r : 1e-3));
                } else {
                    snprintf(fbuf, sizeof fbuf, "> %.0f", T);
                    snprintf(sbuf, sizeof sbuf, "< %.1fx", ref_sec[prob] / T);
                }
                printf("%-13s %-16s %4d %10s %6s %10s %8s %11.3e %7.0f %11.3e\n", names[prob],
                       label, starts, tbuf, rbuf, fbuf, sbuf,
                       bench_median(ee, starts), bench_median(it, starts), bench_median(jj, starts));
            }
        }
        printf("%-13s %-16s   (reference, not run here: error %.1e after %.0f s; "
               "bench/pde_torch.py runs it)\n", names[prob], "PyTorch PINN", ref_err[prob], ref_sec[prob]);
        free(X); free(Xb); free(Xt); free(ut);
    }
    printf("\nt(1e-3): median seconds until the logged held-out relative L2 error <= 1e-3\n"
           "(\"> T\": not reached within the budget); ratio: against PINN-Adam+LBFGS (lower is\n"
           "faster); t(ref): median seconds until the error <= the PyTorch reference's final\n"
           "error (the reference rows), vs ref: the reference's seconds / t(ref) (the target is\n"
           ">= 5x; the reference's times were taken on this machine but not in this run);\n"
           "err at T, iters, J_PINN at T: medians at the end of the budget.\n");
    return 0;
}
