/* poisson2d - -Laplace u = f on (0,1)^2 with u = sin(pi x) sin(pi y) (f = 2 pi^2 u, u = 0 on
 * the boundary): the ordinary PINN (L-BFGS and Levenberg-Marquardt) vs LySep over several
 * starts; LySep (SAPM_METHOD_SAPM on this second-order operator) in our form ("LySep+LBFGS":
 * 3 alternating auxiliary iterations as a warm start, then an L-BFGS polish on J_PINN asked
 * for by opt.polish, at most --iters iterations in all) and in the paper's form ("LySep-paper": pure
 * alternating auxiliary updates, no polish; arXiv 2507.12766, whose figure shows the
 * relative error J_e against iterations over 10 tests).
 *
 *   cc -O2 -march=native examples/poisson2d.c -o poisson2d -lm
 *   ./poisson2d [--starts S] [--iters K] [--time T] [--n N] [--m M] [--width W] [--beta B] [--full]
 *
 * Each seed draws new points (N scrambled-Halton interior points, default 1000; M uniform
 * boundary points, default 400) and a new Xavier initialisation of a 2-W-W-W-1 tanh
 * network (W = 50); both methods start from the same network. Every run reports J_PINN of
 * the forward network, relative L2 (J_e) and max error on 2000 held-out random points and
 * the wall time. Writes poisson2d_history.csv (all runs), poisson2d_error.png (median and
 * worst J_e over starts against iterations, per method), poisson2d_runs.png (J_e of every
 * run against time), poisson2d_<method>.png (prediction | exact | |error| of seed 1).
 * Defaults (3 starts, 800 iterations, 9 s per run, 4 methods) take under two minutes; --full runs 10
 * starts with 5000 iterations / 120 s per run. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "pde_util.h"

#define PI 3.14159265358979323846
#define MAX_STARTS 64

/* The methods compared: a label and an options setup on top of
 * sapm_pde_default_options(method) (NULL: the defaults as they come). */
static void setup_paper(sapm_pde_options *o)   /* the paper's form */
{
    o->base.polish = SAPM_METHOD_NONE;
    o->lysep.prox = 1e-10;
}
static void setup_polish(sapm_pde_options *o)  /* ours: 3 alternating iterations, then L-BFGS */
{
    o->base.polish = SAPM_METHOD_LBFGS;
    o->base.phase_iters = 3;
}
typedef struct method_config {
    const char *label;
    sapm_method method;
    void (*setup)(sapm_pde_options *o);
    int log_every;                          /* LM: ~0.25 s per iteration, log each one */
} method_config;
static const method_config methods[] = {
    {"PINN-LBFGS", SAPM_METHOD_LBFGS, NULL, 10},
    {"PINN-LM", SAPM_METHOD_LM, NULL, 1},
    {"LySep+LBFGS", SAPM_METHOD_SAPM, setup_polish, 10},
    {"LySep-paper", SAPM_METHOD_SAPM, setup_paper, 10},
};
enum { N_METHODS = (int)(sizeof methods / sizeof methods[0]) };

static const char *mnames(int k) { return methods[k].label; }

static double exact_u(const double *x, int d, void *ud) { (void)d; (void)ud; return sin(PI * x[0]) * sin(PI * x[1]); }
static double rhs_f(const double *x, int d, void *ud) { return 2.0 * PI * PI * exact_u(x, d, ud); }

int main(int argc, char **argv)
{
    int starts = 3, iters = 800, N = 1000, M = 400, width = 50, n_test = 2000, i, s, k, log_every = 10;
    double budget = 9.0, beta = 100.0, lo[2] = {0, 0}, hi[2] = {1, 1};
    int widths[5];
    double *X, *Xb, *Xt, *ut;
    sapm_pde pde;
    static pde_result res[N_METHODS][MAX_STARTS];
    int available[N_METHODS];
    for (k = 0; k < N_METHODS; ++k) available[k] = 1;
    for (i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--full")) { starts = 10; iters = 5000; budget = 120.0; continue; }
        if (!v) { fprintf(stderr, "missing value after %s\n", a); return 2; }
        if (!strcmp(a, "--starts")) starts = atoi(v);
        else if (!strcmp(a, "--iters")) iters = atoi(v);
        else if (!strcmp(a, "--time")) budget = atof(v);
        else if (!strcmp(a, "--n")) N = atoi(v);
        else if (!strcmp(a, "--m")) M = atoi(v);
        else if (!strcmp(a, "--width")) width = atoi(v);
        else if (!strcmp(a, "--beta")) beta = atof(v);
        else { fprintf(stderr, "unknown option %s (see the comment at the top of the file)\n", a); return 2; }
        ++i;
    }
    if (starts < 1 || starts > MAX_STARTS || iters < 1 || N < 1 || M < 1 || width < 1 ||
        !(budget >= 0.0) || !(beta > 0.0)) {
        fprintf(stderr, "bad option value\n");
        return 2;
    }
    X = (double *)malloc(sizeof(double) * 2 * (size_t)N);
    Xb = (double *)malloc(sizeof(double) * 2 * (size_t)M);
    Xt = (double *)malloc(sizeof(double) * 2 * (size_t)n_test);
    ut = (double *)malloc(sizeof(double) * (size_t)n_test);
    if (!X || !Xb || !Xt || !ut) { fprintf(stderr, "out of memory\n"); return 1; }
    memset(&pde, 0, sizeof pde);
    pde.d = 2; pde.kappa_const = -1.0; pde.f = rhs_f; pde.g = exact_u; pde.exact = exact_u;
    widths[0] = 2; widths[1] = widths[2] = widths[3] = width; widths[4] = 1;

    printf("Poisson -Laplace u = 2 pi^2 sin(pi x) sin(pi y) on (0,1)^2; N = %d, M = %d, "
           "net 2-%d-%d-%d-1 tanh, beta = %g, %d starts, %d iterations / %.0f s per run (%s)\n\n",
           N, M, width, width, width, beta, starts, iters, budget, sapm_simd_path());
    printf("%-12s %5s %8s %8s %12s %12s %12s\n", "method", "seed", "iters", "time/s", "J_PINN",
           "rel. L2 J_e", "max err");
    for (s = 0; s < starts; ++s) {
        sapm_rng rng;
        sapm_net net0;
        pde_case pc;
        uint64_t seed = (uint64_t)s + 1;
        sapm_rng_seed(&rng, seed);
        sapm_sample_halton(2, lo, hi, N, 0, seed, X);
        sapm_sample_boundary(2, lo, hi, NULL, M, &rng, Xb);
        sapm_sample_uniform(2, lo, hi, n_test, &rng, Xt);
        sapm_pde_exact_values(&pde, n_test, Xt, ut);
        pc.pde = &pde; pc.d = 2; pc.N = N; pc.M = M; pc.n_test = n_test;
        pc.X = X; pc.Xb = Xb; pc.X_test = Xt; pc.u_test = ut;
        sapm_net_create(&net0, 4, widths, SAPM_ACT_TANH);
        sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, seed);
        for (k = 0; k < N_METHODS; ++k) {
            sapm_pde_options o = sapm_pde_default_options(methods[k].method);
            sapm_net trained;
            o.base.max_iters = iters;       /* all phases together */
            o.base.time_budget = budget;
            o.base.log_every = methods[k].log_every;
            o.beta = beta;
            if (methods[k].setup) methods[k].setup(&o);
            res[k][s] = pde_run(&pc, &net0, o, mnames(k), &trained);
            if (res[k][s].status == SAPM_ERR_UNSUPPORTED) {
                if (s == 0) printf("%-12s not available in this build\n", mnames(k));
                available[k] = 0;
                sapm_net_destroy(&trained);
                continue;
            }
            printf("%-12s %5d %8d %8.2f %12.3e %12.3e %12.3e%s%s\n", mnames(k),
                   s + 1, res[k][s].iters, res[k][s].seconds, res[k][s].j_pinn, res[k][s].rel_l2,
                   res[k][s].max_err, res[k][s].status ? "  " : "",
                   res[k][s].status ? sapm_result_string(res[k][s].status) : "");
            if (s == 0) {
                char png[128], title[160];
                double base[2] = {0.5, 0.5};
                snprintf(png, sizeof png, "poisson2d_%s.png", mnames(k));
                snprintf(title, sizeof title, "Poisson 2-D, %s (seed 1): rel. L2 %.2e",
                         mnames(k), res[k][s].rel_l2);
                pde_heatmaps(png, NULL, &trained, &pde, base, 0, 1, "x", "y", title);
            }
            sapm_net_destroy(&trained);
        }
        sapm_net_destroy(&net0);
    }

    /* summary: median and worst final J_e, median time */
    printf("\n%-12s %14s %14s %14s\n", "method", "median J_e", "worst J_e", "median time/s");
    for (k = 0; k < N_METHODS; ++k) {
        double e[MAX_STARTS], t[MAX_STARTS], worst = 0.0;
        if (!available[k]) continue;
        for (s = 0; s < starts; ++s) {
            e[s] = res[k][s].rel_l2; t[s] = res[k][s].seconds;
            if (!(e[s] <= worst)) worst = e[s];
        }
        printf("%-12s %14.3e %14.3e %14.2f\n", mnames(k), pde_median(e, starts),
               worst, pde_median(t, starts));
    }

    /* J_e against iterations: median and worst over starts at every logged iteration */
    {
        int n_pts = iters / log_every + 1, n_series = 0, j;
        double *buf = (double *)malloc(sizeof(double) * (size_t)n_pts * (1 + 2 * N_METHODS));
        sapm_plot_series series[2 * N_METHODS];
        char lab[2 * N_METHODS][64];
        double *xs = buf;
        for (j = 0; j < n_pts; ++j) xs[j] = (double)j * log_every;
        for (k = 0; k < N_METHODS; ++k) {
            double *med = buf + (size_t)n_pts * (1 + 2 * k), *wst = med + n_pts;
            if (!available[k]) continue;
            for (j = 0; j < n_pts; ++j) {
                double v[MAX_STARTS];
                int nv = 0, h;
                wst[j] = 0.0;
                for (s = 0; s < starts; ++s)
                    for (h = 0; h < res[k][s].rep.history_count; ++h)
                        if (res[k][s].rep.history[h].iter == j * log_every) {
                            v[nv++] = res[k][s].rep.history[h].error;
                            break;
                        }
                if (nv == starts) {      /* only where every run got that far */
                    for (h = 0; h < nv; ++h) if (!(v[h] <= wst[j])) wst[j] = v[h];
                    med[j] = pde_median(v, nv);
                } else {
                    med[j] = wst[j] = NAN;
                }
            }
            snprintf(lab[n_series], sizeof lab[0], "%s median", mnames(k));
            series[n_series].label = lab[n_series]; series[n_series].count = n_pts;
            series[n_series].x = xs; series[n_series].y = med; ++n_series;
            snprintf(lab[n_series], sizeof lab[0], "%s worst", mnames(k));
            series[n_series].label = lab[n_series]; series[n_series].count = n_pts;
            series[n_series].x = xs; series[n_series].y = wst; ++n_series;
        }
        if (n_series > 0) {
            sapm_result r = sapm_png_plot("poisson2d_error.png", n_series, series,
                                          "Poisson 2-D: relative L2 error J_e over starts",
                                          "iteration", "J_e", 1);
            printf("\n%s poisson2d_error.png%s%s\n", r == SAPM_OK ? "wrote" : "no",
                   r == SAPM_OK ? "" : ": ", r == SAPM_OK ? "" : sapm_result_string(r));
        }
        free(buf);
    }
    /* every run: CSV and J_e against time */
    {
        const sapm_report *reps[N_METHODS * MAX_STARTS];
        const char *labels[N_METHODS * MAX_STARTS];
        static char names[N_METHODS * MAX_STARTS][48];
        int n = 0;
        for (k = 0; k < N_METHODS; ++k)
            for (s = 0; s < starts && available[k]; ++s) {
                snprintf(names[n], sizeof names[0], "%s seed %d", mnames(k), s + 1);
                reps[n] = &res[k][s].rep; labels[n] = names[n]; ++n;
            }
        if (n > 0) {
            sapm_csv_write_history("poisson2d_history.csv", n, reps, labels);
            sapm_png_plot_history("poisson2d_runs.png", n, reps, labels, SAPM_FIELD_SECONDS,
                                  SAPM_FIELD_ERROR, "Poisson 2-D: J_e of every run");
            printf("wrote poisson2d_history.csv, poisson2d_runs.png, poisson2d_<method>.png\n");
        }
    }
    for (k = 0; k < N_METHODS; ++k)
        for (s = 0; s < starts; ++s) sapm_report_free(&res[k][s].rep);
    free(X); free(Xb); free(Xt); free(ut);
    return 0;
}
