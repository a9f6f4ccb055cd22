/* poisson_highdim - -Laplace u = f on (0,1)^d with u = sum_i sin(pi x_i / 2) (so
 * f = (pi^2 / 4) u, Dirichlet data u on every face): the ordinary PINN (L-BFGS and
 * Levenberg-Marquardt) vs LySep (SAPM_METHOD_SAPM on this second-order operator) for
 * d = 5, 10, 20, 50, 100 (the high-dimensional experiment of arXiv 2507.12766). LySep runs
 * in our form ("LySep+LBFGS": 3 alternating auxiliary iterations as a warm start, then an
 * L-BFGS polish on J_PINN asked for by opt.polish, within the same iteration cap) and in the paper's form
 * ("LySep-paper": pure alternating auxiliary updates, no polish).
 *
 *   cc -O2 -march=native examples/poisson_highdim.c -o poisson_highdim -lm
 *   ./poisson_highdim [--dims 5,10,20,50,100] [--iters K] [--time T] [--n N] [--m M]
 *                     [--width W] [--beta B] [--seed S] [--full]
 *
 * N interior points (scrambled Halton, default 500), M boundary points uniform over all 2d
 * faces (default 500), network d-W-W-W-1 tanh (W = 50, Xavier), the same start for all
 * methods. The Laplacian needs all d first derivatives per layer: a J_PINN gradient costs
 * about 6 (d + 2) N W^2 flops per hidden layer. Every run reports J_PINN of the forward
 * network, relative L2 and max error on 1000 held-out random points, and the time.
 * Writes poisson_highdim_history.csv, poisson_highdim_d<d>_loss.png (J_PINN against
 * time) and poisson_highdim_d<d>_<method>.png (prediction | exact | |error| on the slice
 * x_2 = ... = x_{d-1} = 1/2). Defaults (1000 iterations / 5 s per run, 4 methods) take
 * about 1.7 minutes; --full gives each run 20000 iterations / 120 s with N = M = 1000. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "pde_util.h"

#define PI 3.14159265358979323846
#define MAX_DIMS 16

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
    int log_every;                          /* LM: long iterations, log each one */
} method_config;
static const method_config methods[] = {
    {"PINN-LBFGS", SAPM_METHOD_LBFGS, NULL, 5},
    {"PINN-LM", SAPM_METHOD_LM, NULL, 1},
    {"LySep+LBFGS", SAPM_METHOD_SAPM, setup_polish, 5},
    {"LySep-paper", SAPM_METHOD_SAPM, setup_paper, 5},
};
enum { N_METHODS = (int)(sizeof methods / sizeof methods[0]) };

static double exact_u(const double *x, int d, void *ud)
{
    int i;
    double s = 0.0;
    (void)ud;
    for (i = 0; i < d; ++i) s += sin(0.5 * PI * x[i]);
    return s;
}
static double rhs_f(const double *x, int d, void *ud) { return 0.25 * PI * PI * exact_u(x, d, ud); }

int main(int argc, char **argv)
{
    int dims[MAX_DIMS] = {5, 10, 20, 50, 100}, n_dims = 5, iters = 1000, N = 500, M = 500;
    int width = 50, n_test = 1000, i, k, di;
    double budget = 5.0, beta = 10.0;
    uint64_t seed = 1;
    static pde_result res[MAX_DIMS][N_METHODS];
    static char labels_buf[N_METHODS * MAX_DIMS][40];
    const sapm_report *all_reps[N_METHODS * MAX_DIMS];
    const char *all_labels[N_METHODS * MAX_DIMS];
    int n_all = 0;
    for (i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--full")) { iters = 20000; budget = 120.0; N = M = 1000; continue; }
        if (!v) { fprintf(stderr, "missing value after %s\n", a); return 2; }
        if (!strcmp(a, "--dims")) {
            const char *p = v;
            n_dims = 0;
            while (*p && n_dims < MAX_DIMS) {
                dims[n_dims++] = atoi(p);
                while (*p && *p != ',') ++p;
                if (*p == ',') ++p;
            }
        }
        else if (!strcmp(a, "--iters")) iters = atoi(v);
        else if (!strcmp(a, "--time")) budget = atof(v);
        else if (!strcmp(a, "--n")) N = atoi(v);
        else if (!strcmp(a, "--m")) M = atoi(v);
        else if (!strcmp(a, "--width")) width = atoi(v);
        else if (!strcmp(a, "--beta")) beta = atof(v);
        else if (!strcmp(a, "--seed")) seed = (uint64_t)strtoull(v, NULL, 10);
        else { fprintf(stderr, "unknown option %s (see the comment at the top of the file)\n", a); return 2; }
        ++i;
    }
    if (n_dims < 1 || iters < 1 || N < 1 || M < 1 || width < 1 || !(budget >= 0.0) || !(beta > 0.0)) {
        fprintf(stderr, "bad option value\n");
        return 2;
    }
    for (di = 0; di < n_dims; ++di)
        if (dims[di] < 2 || dims[di] > 1000) { fprintf(stderr, "dimensions must be in 2..1000\n"); return 2; }

    printf("Poisson -Laplace u = f on (0,1)^d, u = sum_i sin(pi x_i / 2); N = %d, M = %d, "
           "net d-%d-%d-%d-1 tanh, beta = %g, %d iterations / %.0f s per run (%s)\n\n",
           N, M, width, width, width, beta, iters, budget, sapm_simd_path());
    printf("%5s %-12s %8s %8s %10s %12s %12s %12s\n", "d", "method", "iters", "time/s", "s/iter",
           "J_PINN", "rel. L2", "max err");
    for (di = 0; di < n_dims; ++di) {
        int d = dims[di], widths[5];
        double *X, *Xb, *Xt, *ut, *lo, *hi;
        sapm_rng rng;
        sapm_pde pde;
        sapm_net net0;
        pde_case pc;
        const sapm_report *reps[N_METHODS];
        const char *labels[N_METHODS];
        int n_runs = 0;
        X = (double *)malloc(sizeof(double) * (size_t)N * d);
        Xb = (double *)malloc(sizeof(double) * (size_t)M * d);
        Xt = (double *)malloc(sizeof(double) * (size_t)n_test * d);
        ut = (double *)malloc(sizeof(double) * (size_t)n_test);
        lo = (double *)malloc(sizeof(double) * 2 * (size_t)d);
        if (!X || !Xb || !Xt || !ut || !lo) { fprintf(stderr, "out of memory\n"); return 1; }
        hi = lo + d;
        for (i = 0; i < d; ++i) { lo[i] = 0.0; hi[i] = 1.0; }
        memset(&pde, 0, sizeof pde);
        pde.d = d; pde.kappa_const = -1.0; pde.f = rhs_f; pde.g = exact_u; pde.exact = exact_u;
        sapm_rng_seed(&rng, seed);
        sapm_sample_halton(d, lo, hi, N, 0, seed, X);
        sapm_sample_boundary(d, lo, hi, NULL, M, &rng, Xb);
        sapm_sample_uniform(d, lo, hi, n_test, &rng, Xt);
        sapm_pde_exact_values(&pde, n_test, Xt, ut);
        pc.pde = &pde; pc.d = d; pc.N = N; pc.M = M; pc.n_test = n_test;
        pc.X = X; pc.Xb = Xb; pc.X_test = Xt; pc.u_test = ut;
        widths[0] = d; widths[1] = widths[2] = widths[3] = width; widths[4] = 1;
        sapm_net_create(&net0, 4, widths, SAPM_ACT_TANH);
        sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, seed);
        for (k = 0; k < N_METHODS; ++k) {
            sapm_pde_options o = sapm_pde_default_options(methods[k].method);
            sapm_net trained;
            pde_result *r = &res[di][k];
            char name[48];
            o.base.max_iters = iters;       /* all phases together */
            o.base.time_budget = budget;
            o.base.log_every = methods[k].log_every;
            o.beta = beta;
            if (methods[k].setup) methods[k].setup(&o);
            snprintf(name, sizeof name, "d=%d %s", d, methods[k].label);
            *r = pde_run(&pc, &net0, o, name, &trained);
            if (r->status == SAPM_ERR_UNSUPPORTED) {
                printf("%5d %-12s not available in this build\n", d, methods[k].label);
                sapm_net_destroy(&trained);
                continue;
            }
            printf("%5d %-12s %8d %8.2f %10.4f %12.3e %12.3e %12.3e%s%s\n", d,
                   methods[k].label, r->iters, r->seconds,
                   r->iters > 0 ? r->seconds / r->iters : NAN, r->j_pinn, r->rel_l2, r->max_err,
                   r->status ? "  " : "", r->status ? sapm_result_string(r->status) : "");
            {
                char png[128], title[160];
                double *base = (double *)malloc(sizeof(double) * (size_t)d);
                if (base) {
                    for (i = 0; i < d; ++i) base[i] = 0.5;
                    snprintf(png, sizeof png, "poisson_highdim_d%d_%s.png", d, methods[k].label);
                    snprintf(title, sizeof title, "Poisson d = %d, %s: slice x_3..x_%d = 1/2 (rel. L2 %.2e)",
                             d, methods[k].label, d, r->rel_l2);
                    pde_heatmaps(png, NULL, &trained, &pde, base, 0, 1, "x_1", "x_2", title);
                    free(base);
                }
            }
            snprintf(labels_buf[n_all], sizeof labels_buf[0], "d=%d %s", d, methods[k].label);
            reps[n_runs] = &r->rep; labels[n_runs] = methods[k].label; ++n_runs;
            all_reps[n_all] = &r->rep; all_labels[n_all] = labels_buf[n_all]; ++n_all;
            sapm_net_destroy(&trained);
        }
        if (n_runs > 0) {
            char png[128], title[96];
            snprintf(png, sizeof png, "poisson_highdim_d%d_loss.png", d);
            snprintf(title, sizeof title, "Poisson d = %d: J_PINN of the forward network", d);
            sapm_png_plot_history(png, n_runs, reps, labels, SAPM_FIELD_SECONDS, SAPM_FIELD_MSE, title);
        }
        sapm_net_destroy(&net0);
        free(X); free(Xb); free(Xt); free(ut); free(lo);
    }
    if (n_all > 0) {
        sapm_csv_write_history("poisson_highdim_history.csv", n_all, all_reps, all_labels);
        printf("\nwrote poisson_highdim_history.csv, poisson_highdim_d<d>_loss.png, "
               "poisson_highdim_d<d>_<method>.png\n");
    }
    for (di = 0; di < n_dims; ++di)
        for (k = 0; k < N_METHODS; ++k) sapm_report_free(&res[di][k].rep);
    return 0;
}
