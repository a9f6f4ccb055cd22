/* transport - the 1-D transport equation u_t + c u_x = 0 as a PINN (the SAPM-PINN example
 * of arXiv 2507.12766): ordinary PINN (Adam then L-BFGS, L-BFGS) vs SAPM-PINN
 * (SAPM_METHOD_SAPM on this first-order operator) in our form (3 alternating auxiliary
 * iterations as a warm start, then an L-BFGS polish on J_PINN asked for by opt.polish) and in
 * the paper's form (pure alternating auxiliary updates, no polish).
 *
 *   cc -O2 -march=native examples/transport.c -o transport -lm
 *   ./transport [--c C] [--iters K] [--time T] [--n N] [--m M] [--width W] [--seed S] [--full]
 *
 * Domain (t, x) in (0,1)^2 (input 0 is t, input 1 is x), initial data u(0,x) = sin(2 pi x),
 * inflow data u(t,0) = sin(-2 pi c t) (c > 0: the faces t = 0 and x = 0), exact solution
 * u = sin(2 pi (x - c t)). N interior points (scrambled Halton, default 1000), M points on
 * the inflow faces (default 200), network 2-W-W-W-1 tanh (W = 50). Every run reports
 * J_PINN of the forward network, the relative L2 and max error on 2000 held-out random
 * points and the wall time; it writes transport_history.csv (all histories),
 * transport_loss.png (J_PINN against time), transport_error.png (held-out error against
 * time), transport_<method>.png (prediction | exact | |error| over (x, t)) and, for
 * the paper's form of SAPM-PINN, transport_aux_gap.png: the largest gap between the
 * derivative auxiliaries d_{l,k} and the forward network's true input derivatives dz_l/dx
 * against iterations (also printed as a table: the check that the auxiliaries converge).
 * Defaults finish in under two minutes (--iters 1500, --time 25 per method, 4 methods);
 * --full runs 10000 iterations / 300 s per method. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "pde_util.h"

#define PI 3.14159265358979323846

typedef struct { double c; } transport_params;

static double exact_u(const double *x, int d, void *ud)
{
    const transport_params *p = (const transport_params *)ud;
    (void)d;
    return sin(2.0 * PI * (x[1] - p->c * x[0]));
}
static double zero_f(const double *x, int d, void *ud) { (void)x; (void)d; (void)ud; return 0.0; }

/* The methods compared: a label and an options setup on top of
 * sapm_pde_default_options(method) (NULL: the defaults as they come). */
static void setup_adam_lbfgs(sapm_pde_options *o)  /* Adam for half the iterations or time */
{
    o->base.polish = SAPM_METHOD_LBFGS;
    o->base.phase_iters = o->base.max_iters / 2;
    o->base.phase_time = 0.5;
}
static void setup_paper(sapm_pde_options *o)       /* the paper's form */
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
    int trace;      /* record the auxiliaries' gaps to the forward network (sapm_lysep_trace) */
} method_config;
static const method_config methods[] = {
    {"PINN-Adam+LBFGS", SAPM_METHOD_ADAM, setup_adam_lbfgs, 0},
    {"PINN-LBFGS", SAPM_METHOD_LBFGS, NULL, 0},
    {"SAPM-PINN+LBFGS", SAPM_METHOD_SAPM, setup_polish, 0},
    {"SAPM-PINN-paper", SAPM_METHOD_SAPM, setup_paper, 1},
};
enum { N_METHODS = (int)(sizeof methods / sizeof methods[0]) };

int main(int argc, char **argv)
{
    transport_params tp;
    int N = 1000, M = 200, width = 50, iters = 1500, n_test = 2000, i, k, n_runs = 0;
    double budget = 25.0, lo[2] = {0, 0}, hi[2] = {1, 1}, cvec[2];
    uint64_t seed = 1;
    int faces[4] = {1, 0, 1, 0}, widths[5];
    double *X, *Xb, *Xt, *ut;
    sapm_rng rng;
    sapm_pde pde;
    sapm_net net0;
    sapm_lysep_trace trace;
    pde_case pc;
    pde_result res[N_METHODS];
    const sapm_report *reps[N_METHODS];
    const char *labels[N_METHODS];
    tp.c = 1.0;
    memset(&trace, 0, sizeof trace);
    for (i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--full")) { iters = 10000; budget = 300.0; continue; }
        if (!v) { fprintf(stderr, "missing value after %s\n", a); return 2; }
        if (!strcmp(a, "--c")) tp.c = atof(v);
        else if (!strcmp(a, "--iters")) iters = atoi(v);
        else if (!strcmp(a, "--time")) budget = atof(v);
        else if (!strcmp(a, "--n")) N = atoi(v);
        else if (!strcmp(a, "--m")) M = atoi(v);
        else if (!strcmp(a, "--width")) width = atoi(v);
        else if (!strcmp(a, "--seed")) seed = (uint64_t)strtoull(v, NULL, 10);
        else { fprintf(stderr, "unknown option %s (see the comment at the top of the file)\n", a); return 2; }
        ++i;
    }
    if (!(tp.c > 0.0) || N < 1 || M < 1 || width < 1 || iters < 1 || !(budget >= 0.0)) {
        fprintf(stderr, "bad option value (c must be > 0: the inflow faces are t = 0 and x = 0)\n");
        return 2;
    }
    X = (double *)malloc(sizeof(double) * 2 * (size_t)N);
    Xb = (double *)malloc(sizeof(double) * 2 * (size_t)M);
    Xt = (double *)malloc(sizeof(double) * 2 * (size_t)n_test);
    ut = (double *)malloc(sizeof(double) * (size_t)n_test);
    if (!X || !Xb || !Xt || !ut) { fprintf(stderr, "out of memory\n"); return 1; }

    /* the problem: c_const = (1, c) multiplies (d_t u, d_x u); kappa = c_0 = 0 */
    memset(&pde, 0, sizeof pde);
    cvec[0] = 1.0; cvec[1] = tp.c;
    pde.d = 2; pde.c_const = cvec; pde.f = zero_f; pde.g = exact_u; pde.exact = exact_u;
    pde.user_data = &tp;
    sapm_rng_seed(&rng, seed);
    sapm_sample_halton(2, lo, hi, N, 0, seed, X);
    sapm_sample_boundary(2, lo, hi, faces, M, &rng, Xb);
    sapm_sample_uniform(2, lo, hi, n_test, &rng, Xt);
    sapm_pde_exact_values(&pde, n_test, Xt, ut);
    pc.pde = &pde; pc.d = 2; pc.N = N; pc.M = M; pc.n_test = n_test;
    pc.X = X; pc.Xb = Xb; pc.X_test = Xt; pc.u_test = ut;

    widths[0] = 2; widths[1] = widths[2] = widths[3] = width; widths[4] = 1;
    sapm_net_create(&net0, 4, widths, SAPM_ACT_TANH);
    sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, seed);

    printf("transport u_t + %g u_x = 0 on (0,1)^2, exact sin(2 pi (x - %g t)); N = %d, M = %d "
           "(inflow faces), net 2-%d-%d-%d-1 tanh, %d iterations / %.0f s per method (%s)\n\n",
           tp.c, tp.c, N, M, width, width, width, iters, budget, sapm_simd_path());
    printf("SAPM-PINN+LBFGS = ours (3 auxiliary iterations, prox 1, then the L-BFGS polish);\n"
           "SAPM-PINN-paper = the paper's form (pure alternating auxiliary updates, no polish)\n\n");
    printf("%-18s %8s %8s %12s %12s %12s  %s\n", "method", "iters", "time/s", "J_PINN",
           "rel. L2", "max err", "stop");
    for (k = 0; k < N_METHODS; ++k) {
        sapm_pde_options o = sapm_pde_default_options(methods[k].method);
        sapm_net trained;
        o.base.max_iters = iters;       /* all phases together */
        o.base.time_budget = budget;
        o.base.log_every = 10;
        o.beta = 10.0;       /* boundary weight: the data term matters as much as 10 residuals */
        if (methods[k].setup) methods[k].setup(&o);
        if (methods[k].trace) {
            /* record how far the derivative auxiliaries d_{l,k} are from the forward
             * network's true input derivatives at every outer iteration */
            trace.capacity = iters + 1;
            trace.count = 0;
            trace.iter = (int *)malloc(sizeof(int) * (size_t)(iters + 1));
            trace.value_gap = (double *)malloc(sizeof(double) * 4 * (size_t)(iters + 1));
            if (!trace.iter || !trace.value_gap) { fprintf(stderr, "out of memory\n"); return 1; }
            trace.deriv_gap = trace.value_gap + (iters + 1);
            trace.j_aux = trace.deriv_gap + (iters + 1);
            trace.j_pinn = trace.j_aux + (iters + 1);
            o.lysep.trace = &trace;
        }
        res[k] = pde_run(&pc, &net0, o, methods[k].label, &trained);
        if (res[k].status == SAPM_ERR_UNSUPPORTED) {
            printf("%-18s not available in this build (%s)\n", methods[k].label,
                   sapm_result_string(res[k].status));
            sapm_net_destroy(&trained);
            continue;
        }
        printf("%-18s %8d %8.2f %12.3e %12.3e %12.3e  %s%s%s\n", methods[k].label,
               res[k].iters, res[k].seconds, res[k].j_pinn, res[k].rel_l2, res[k].max_err,
               sapm_stop_reason_string(res[k].rep.stop), res[k].status ? ": " : "",
               res[k].status ? sapm_result_string(res[k].status) : "");
        {
            char png[128], csv[128], title[160];
            double base[2] = {0.5, 0.5};
            snprintf(png, sizeof png, "transport_%s.png", methods[k].label);
            snprintf(csv, sizeof csv, "transport_%s_grid.csv", methods[k].label);
            snprintf(title, sizeof title, "transport c = %g, %s: rel. L2 %.2e",
                     tp.c, methods[k].label, res[k].rel_l2);
            /* horizontal x (input 1), vertical t (input 0) */
            pde_heatmaps(png, csv, &trained, &pde, base, 1, 0, "x", "t", title);
        }
        if (methods[k].trace && trace.count > 0) {
            /* the check: d_{l,k} -> true derivatives of the forward network */
            int step = trace.count > 10 ? trace.count / 10 : 1, j;
            double *xs = (double *)malloc(sizeof(double) * (size_t)trace.count);
            sapm_plot_series ser[2];
            printf("    SAPM-PINN (paper's form) auxiliaries vs the forward network (max over points/layers/units):\n");
            printf("    %8s %16s %16s %12s %12s\n", "iter", "|d_l - dz_l/dx|", "|a_l - z_l|", "J_aux", "J_PINN");
            for (j = 0; j < trace.count; ++j)
                if (j % step == 0 || j == trace.count - 1)
                    printf("    %8d %16.3e %16.3e %12.3e %12.3e\n", trace.iter[j], trace.deriv_gap[j],
                           trace.value_gap[j], trace.j_aux[j], trace.j_pinn[j]);
            if (xs) {
                for (j = 0; j < trace.count; ++j) xs[j] = trace.iter[j];
                ser[0].label = "max |d_l - dz_l/dx| (derivative auxiliaries)";
                ser[0].count = trace.count; ser[0].x = xs; ser[0].y = trace.deriv_gap;
                ser[1].label = "max |a_l - z_l| (value auxiliaries)";
                ser[1].count = trace.count; ser[1].x = xs; ser[1].y = trace.value_gap;
                sapm_png_plot("transport_aux_gap.png", 2, ser,
                              "SAPM-PINN: auxiliaries vs the forward network's true values",
                              "outer iteration", "max gap", 1);
                free(xs);
            }
        }
        reps[n_runs] = &res[k].rep;
        labels[n_runs] = methods[k].label;
        ++n_runs;
        sapm_net_destroy(&trained);
    }
    if (n_runs > 0) {
        sapm_result r1 = sapm_csv_write_history("transport_history.csv", n_runs, reps, labels);
        sapm_result r2 = sapm_png_plot_history("transport_loss.png", n_runs, reps, labels,
                                               SAPM_FIELD_SECONDS, SAPM_FIELD_MSE,
                                               "transport: J_PINN of the forward network");
        sapm_png_plot_history("transport_error.png", n_runs, reps, labels, SAPM_FIELD_SECONDS,
                              SAPM_FIELD_ERROR, "transport: held-out relative L2 error");
        printf("\nwrote transport_history.csv%s\n", r1 == SAPM_OK ? "" : " (failed)");
        if (r2 == SAPM_OK)
            printf("wrote transport_loss.png, transport_error.png, transport_<method>.png\n");
        else
            printf("PNG output: %s\n", sapm_result_string(r2));
    }
    for (k = 0; k < N_METHODS; ++k) sapm_report_free(&res[k].rep);
    free(trace.iter); free(trace.value_gap);
    sapm_net_destroy(&net0);
    free(X); free(Xb); free(Xt); free(ut);
    return 0;
}
