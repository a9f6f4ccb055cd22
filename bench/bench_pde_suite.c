/* bench_pde_suite - a suite of ten linear PDEs on the unit box (0,1)^d, each method (and
 * network) with its default options: the held-out relative L2 error at the start and at
 * the budget T, the seconds and the iterations it needed to reach 1e-3, 1e-5, 1e-7 and
 * 1e-8.
 *
 *   make build/bench/bench_pde_suite
 *   build/bench/bench_pde_suite                 every problem, T = 60 s per run
 *   build/bench/bench_pde_suite --quick         T = 6 s per run
 *   options: --time T, --iters K (stop each run after K iterations: counts, not seconds,
 *            on a shared machine), --only NAME[,NAME..], --width W (the one hidden layer
 *            of the default network), --points S (S times the points of every problem),
 *            --bpoints S (S times the boundary points, on top of --points),
 *            --geodesic A (ls.lm_geodesic = A for every LM method), --seed S (the
 *            networks' initial weights, default 1; the points stay), --set suite|unseen|all
 *            (the ten problems below, the seven unseen ones, or both; --only picks from all),
 *            --reference (first, for scale, the held-out rel. L2 of the exact solution's
 *            best constant, linear and per-coordinate quadratic fits; --methods none: only
 *            those),
 *            --methods M[,M..] (default lm,lbfgs) from:
 *              lm, lbfgs, adam     the method's default options, the network of
 *                                  sapm_pde_default_widths (d-32-1 ... d-64-1)
 *              lm-3x50, lbfgs-3x50 the same on 3 hidden layers of 50
 *              lm-fixed            LM with beta = 1 as given (balance NONE)
 *              lm-ntk, lm-grad     LM with balance NTK / GRAD (lbfgs-ntk, lbfgs-grad too)
 *              lm-notrials         LM with ls.lm_trials = 0
 *              lm-nogeo            LM without geodesic acceleration (ls.lm_geodesic = 0)
 *              lm-block            LM with ls.lm_blocks = 1 (block-diagonal Gauss-Newton,
 *                                  one block per layer); lm-block-3x50 on 3 x 50
 *              fit-lbfgs           not a PDE solver: the same network fitted by regression
 *                                  (sapm_train, L-BFGS) to the exact solution at the
 *                                  interior and boundary points - what the network and
 *                                  the points can carry without the PDE (J_PINN column:
 *                                  the training MSE; no times to the targets)
 *              lm-plain            the LM of version 0.3 (no trials, beta = 1 as given);
 *                                  lm-plain-3x50 on 3 x 50
 *              lm-rs5, lm-rs20     LM with fresh interior points every 5 / 20 steps
 *   OMP_NUM_THREADS=1 / 2: threads (the build is threaded).
 *
 * The problems (points: N interior scrambled Halton, M boundary uniform on the Dirichlet
 * faces, 2000 held-out uniform points; g = the exact solution on the faces):
 *   poisson2d    -Lap u = 2 pi^2 sin(pi x) sin(pi y)                            d = 2
 *   transport    u_t + u_x = 0, u = sin(2 pi (x - t)), inflow faces           d = 2
 *   poisson10    -Lap u = (pi^2/4) sum sin(pi x_i / 2)                        d = 10
 *   reaction1d   -u'' + 50 u = f, u = sin(6 pi x) + x^2 (non-zero data)       d = 1
 *   varcoef2d    -(1 + x y) Lap u = f, u = exp(x/2) cos(pi y)                 d = 2
 *   transport4   u_t + 4 u_x = 0, u = sin(2 pi (x - 4 t)) (faster transport)  d = 2
 *   aniso2d      -Lap u = 17 pi^2 u, u = sin(pi x) sin(4 pi y) (f ~ 170)       d = 2
 *   convdiff2d   -0.1 Lap u + (1, 0.5).grad u = f, u = sin(pi x) e^y          d = 2
 *   reaction5    -Lap u + u = f, u = exp(mean x) (non-zero data)              d = 5
 *   poisson100   -Lap u = (pi^2/4) sum sin(pi x_i / 2)                        d = 100
 * The first three are bench/bench_pde.c's problems.
 *
 * The unseen set (--set unseen): seven problems the library's defaults (the network
 * width, the balance, LM's settings) were not chosen on, kept apart to judge them:
 *   cosprod8     -Lap u + 2 u = f, u = prod cos(x_i / 2) (a product)                d = 8
 *   ridge12      -Lap u = pi^2 u, u = sin(pi sum x_i / sqrt d) (oscillates along     d = 12
 *                the diagonal)
 *   bump16       -Lap u = f, u = exp(-|x - c|^2), c the centre (radial)             d = 16
 *   quadcos20    -Lap u = f, u = mean (x_i^2 + cos pi x_i)                          d = 20
 *   conv3        -Lap u + (2, -1, 1).grad u = f, u = sin(pi x) cos(pi y / 2) e^(z/2)  d = 3
 *   helmholtz2d  -Lap u - 10 u = f, u = sin(2 pi x) sin(pi y) + x y                 d = 2
 *   pulse        u_t + 2 u_x = 0, a Gaussian entering through the face x = 0         d = 2 */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "bench_util.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define PI BENCH_PI

static double ex_reaction1d(const double *x, int d, void *u) { (void)d; (void)u; return sin(6 * PI * x[0]) + x[0] * x[0]; }
static double f_reaction1d(const double *x, int d, void *u)
{
    (void)d; (void)u;
    return (36 * PI * PI + 50) * sin(6 * PI * x[0]) - 2.0 + 50 * x[0] * x[0];
}
static double ex_varcoef(const double *x, int d, void *u) { (void)d; (void)u; return exp(0.5 * x[0]) * cos(PI * x[1]); }
static double kappa_varcoef(const double *x, int d, void *u) { (void)d; (void)u; return -(1.0 + x[0] * x[1]); }
static double f_varcoef(const double *x, int d, void *u)
{
    return kappa_varcoef(x, d, u) * (0.25 - PI * PI) * ex_varcoef(x, d, u);
}
static double ex_transport4(const double *x, int d, void *u) { (void)d; (void)u; return sin(2 * PI * (x[1] - 4 * x[0])); }
static double ex_aniso(const double *x, int d, void *u) { (void)d; (void)u; return sin(PI * x[0]) * sin(4 * PI * x[1]); }
static double f_aniso(const double *x, int d, void *u) { return 17 * PI * PI * ex_aniso(x, d, u); }
static double ex_convdiff(const double *x, int d, void *u) { (void)d; (void)u; return sin(PI * x[0]) * exp(x[1]); }
static double f_convdiff(const double *x, int d, void *u)
{
    double e = exp(x[1]), s = sin(PI * x[0]), c = cos(PI * x[0]);
    (void)d; (void)u;
    return PI * c * e + 0.5 * s * e - 0.1 * (1.0 - PI * PI) * s * e;
}
static double ex_reaction5(const double *x, int d, void *u)
{
    double m = 0.0;
    int i;
    (void)u;
    for (i = 0; i < d; ++i) m += x[i];
    return exp(m / d);
}
static double f_reaction5(const double *x, int d, void *u) { return (1.0 - 1.0 / d) * ex_reaction5(x, d, u); }

/* The unseen set (--set unseen): problems the defaults were not chosen on, to judge them. */
static double ex_cosprod(const double *x, int d, void *u)
{
    double p = 1.0;
    int i;
    (void)u;
    for (i = 0; i < d; ++i) p *= cos(0.5 * x[i]);
    return p;
}
/* -Lap u + 2 u with u = prod cos(x_i / 2): -Lap u = (d / 4) u */
static double f_cosprod(const double *x, int d, void *u) { return (0.25 * d + 2.0) * ex_cosprod(x, d, u); }
static double ex_ridge(const double *x, int d, void *u)
{
    double s = 0.0;
    int i;
    (void)u;
    for (i = 0; i < d; ++i) s += x[i];
    return sin(PI * s / sqrt((double)d));
}
/* -Lap sin(pi s / sqrt d), s = sum x_i: d (pi / sqrt d)^2 u = pi^2 u */
static double f_ridge(const double *x, int d, void *u) { return PI * PI * ex_ridge(x, d, u); }
static double sq_dist_center(const double *x, int d)
{
    double r2 = 0.0;
    int i;
    for (i = 0; i < d; ++i) r2 += (x[i] - 0.5) * (x[i] - 0.5);
    return r2;
}
static double ex_bump(const double *x, int d, void *u) { (void)u; return exp(-sq_dist_center(x, d)); }
/* -Lap exp(-r^2) = (2 d - 4 r^2) exp(-r^2) */
static double f_bump(const double *x, int d, void *u)
{
    double r2 = sq_dist_center(x, d);
    (void)u;
    return (2.0 * d - 4.0 * r2) * exp(-r2);
}
static double ex_quadcos(const double *x, int d, void *u)
{
    double s = 0.0;
    int i;
    (void)u;
    for (i = 0; i < d; ++i) s += x[i] * x[i] + cos(PI * x[i]);
    return s / d;
}
/* -Lap mean(x_i^2 + cos pi x_i) = mean(pi^2 cos pi x_i - 2) */
static double f_quadcos(const double *x, int d, void *u)
{
    double s = 0.0;
    int i;
    (void)u;
    for (i = 0; i < d; ++i) s += PI * PI * cos(PI * x[i]) - 2.0;
    return s / d;
}
static double ex_conv3(const double *x, int d, void *u)
{
    (void)d; (void)u;
    return sin(PI * x[0]) * cos(0.5 * PI * x[1]) * exp(0.5 * x[2]);
}
/* -Lap u + (2, -1, 1).grad u */
static double f_conv3(const double *x, int d, void *u)
{
    double s0 = sin(PI * x[0]), c0 = cos(PI * x[0]), s1 = sin(0.5 * PI * x[1]), c1 = cos(0.5 * PI * x[1]);
    double e = exp(0.5 * x[2]), v = s0 * c1 * e;
    (void)d; (void)u;
    return (1.25 * PI * PI - 0.25) * v + 2.0 * PI * c0 * c1 * e + 0.5 * PI * s0 * s1 * e + 0.5 * v;
}
static double ex_helm(const double *x, int d, void *u)
{
    (void)d; (void)u;
    return sin(2 * PI * x[0]) * sin(PI * x[1]) + x[0] * x[1];
}
/* -Lap u - 10 u: a reaction of the wrong sign (well posed: 10 is below the first Dirichlet
 * eigenvalue 2 pi^2) */
static double f_helm(const double *x, int d, void *u)
{
    (void)d; (void)u;
    return (5 * PI * PI - 10.0) * sin(2 * PI * x[0]) * sin(PI * x[1]) - 10.0 * x[0] * x[1];
}
/* u_t + 2 u_x = 0: a Gaussian entering through the face x = 0 */
static double ex_pulse(const double *x, int d, void *u)
{
    double z = x[1] - 2.0 * x[0] + 0.5;
    (void)d; (void)u;
    return exp(-10.0 * z * z);
}

/* First-order coefficients (c_const) of the problems that have them. */
static const double speed_1[2] = {1.0, 1.0}, speed_4[2] = {1.0, 4.0}, speed_2[2] = {1.0, 2.0};
static const double drift_convdiff[2] = {1.0, 0.5}, drift_conv3[3] = {2.0, -1.0, 1.0};

/* One problem: its points and its operator kappa Lap u + c.grad u + c0 u = f (kappa_fn
 * overrides kappa_const), g = exact on the faces. */
typedef struct suite_problem {
    const char *name;
    int d, N, M, inflow;      /* inflow: boundary points on the faces t = 0 and x = 0 only */
    int unseen;               /* 1: in the unseen set, not the suite */
    double kappa, c0;
    const double *c;
    sapm_pde_scalar_fn kappa_fn, f, exact;
} suite_problem;

static const suite_problem problems[] = {
    {"poisson2d", 2, 900, 120, 0, 0, -1.0, 0.0, NULL, NULL, pde_poisson2d_f, pde_poisson2d_exact},
    {"transport", 2, 900, 120, 1, 0, 0.0, 0.0, speed_1, NULL, pde_zero, pde_transport_exact},
    {"poisson10", 10, 1000, 500, 0, 0, -1.0, 0.0, NULL, NULL, pde_sines_f, pde_sines_exact},
    {"reaction1d", 1, 300, 2, 0, 0, -1.0, 50.0, NULL, NULL, f_reaction1d, ex_reaction1d},
    {"varcoef2d", 2, 900, 120, 0, 0, 0.0, 0.0, NULL, kappa_varcoef, f_varcoef, ex_varcoef},
    {"transport4", 2, 2000, 400, 1, 0, 0.0, 0.0, speed_4, NULL, pde_zero, ex_transport4},
    {"aniso2d", 2, 900, 120, 0, 0, -1.0, 0.0, NULL, NULL, f_aniso, ex_aniso},
    {"convdiff2d", 2, 900, 120, 0, 0, -0.1, 0.0, drift_convdiff, NULL, f_convdiff, ex_convdiff},
    {"reaction5", 5, 1000, 300, 0, 0, -1.0, 1.0, NULL, NULL, f_reaction5, ex_reaction5},
    {"poisson100", 100, 500, 500, 0, 0, -1.0, 0.0, NULL, NULL, pde_sines_f, pde_sines_exact},
    {"cosprod8", 8, 1000, 400, 0, 1, -1.0, 2.0, NULL, NULL, f_cosprod, ex_cosprod},
    {"ridge12", 12, 1000, 500, 0, 1, -1.0, 0.0, NULL, NULL, f_ridge, ex_ridge},
    {"bump16", 16, 3000, 1000, 0, 1, -1.0, 0.0, NULL, NULL, f_bump, ex_bump},
    {"quadcos20", 20, 2000, 800, 0, 1, -1.0, 0.0, NULL, NULL, f_quadcos, ex_quadcos},
    {"conv3", 3, 900, 300, 0, 1, -1.0, 0.0, drift_conv3, NULL, f_conv3, ex_conv3},
    {"helmholtz2d", 2, 900, 120, 0, 1, -1.0, -10.0, NULL, NULL, f_helm, ex_helm},
    {"pulse", 2, 900, 120, 1, 1, 0.0, 0.0, speed_2, NULL, pde_zero, ex_pulse},
};
enum { N_PROBLEMS = (int)(sizeof problems / sizeof problems[0]) };

static void suite_pde(const suite_problem *sp, sapm_pde *pde)
{
    memset(pde, 0, sizeof *pde);
    pde->d = sp->d;
    pde->kappa_const = sp->kappa;
    pde->kappa_fn = sp->kappa_fn;
    pde->c0_const = sp->c0;
    pde->c_const = sp->c;
    pde->f = sp->f;
    pde->g = pde->exact = sp->exact;
}

typedef struct suite_method {
    const char *name;
    sapm_method method;
    int wide;             /* 1: sapm_pde_default_widths; 0: 3 hidden layers of 50 */
    int variant;          /* 0 defaults; 1 no automatic beta; 2 the 0.3 LM; 3 / 4 balance
                             NTK / GRAD; 5 / 6 resampling; 7 no trials; 8 block-diagonal LM */
} suite_method;
static const suite_method all_methods[] = {
    {"lm", SAPM_METHOD_LM, 1, 0},       {"lbfgs", SAPM_METHOD_LBFGS, 1, 0},
    {"lm-3x50", SAPM_METHOD_LM, 0, 0},  {"lbfgs-3x50", SAPM_METHOD_LBFGS, 0, 0},
    {"lm-fixed", SAPM_METHOD_LM, 1, 1}, {"lm-plain", SAPM_METHOD_LM, 1, 2},
    {"adam", SAPM_METHOD_ADAM, 1, 0},  {"lm-ntk", SAPM_METHOD_LM, 1, 3},
    {"lm-grad", SAPM_METHOD_LM, 1, 4}, {"lbfgs-ntk", SAPM_METHOD_LBFGS, 1, 3},
    {"lbfgs-grad", SAPM_METHOD_LBFGS, 1, 4}, {"lm-plain-3x50", SAPM_METHOD_LM, 0, 2},
    {"lm-rs5", SAPM_METHOD_LM, 1, 5},  {"lm-rs20", SAPM_METHOD_LM, 1, 6},
    {"lm-notrials", SAPM_METHOD_LM, 1, 7}, {"lm-nogeo", SAPM_METHOD_LM, 1, 8},
        {"lm-block", SAPM_METHOD_LM, 1, 9}, {"lm-block-3x50", SAPM_METHOD_LM, 0, 9},
    {"fit-lbfgs", SAPM_METHOD_LBFGS, 1, 10},
};
enum { N_ALL_METHODS = (int)(sizeof all_methods / sizeof all_methods[0]) };

static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

/* First history entry with error <= target: seconds and iteration (Inf / -1 if none). */
static void hit(const sapm_report *rep, double target, double *sec, int *it)
{
    int k;
    *sec = HUGE_VAL; *it = -1;
    for (k = 0; k < rep->history_count; ++k)
        if (rep->history[k].error <= target) { *sec = rep->history[k].seconds; *it = rep->history[k].iter; return; }
}

/* The network fitted to the exact solution at the N + M points by regression (L-BFGS,
 * default options, budget T or max_iters): rel_l2 held out, j_pinn = the training MSE;
 * the report's history carries test MSEs, so it is emptied (no times to the targets). */
static pde_result fit_run(const pde_case *pc, const sapm_net *net0, double T, int max_iters)
{
    pde_result res;
    sapm_net net;
    sapm_options o = sapm_default_options(SAPM_METHOD_LBFGS);
    int n = pc->N + pc->M, d = pc->d;
    double *X = (double *)malloc(sizeof(double) * (size_t)n * d), *Y = (double *)malloc(sizeof(double) * (size_t)n);
    memset(&res, 0, sizeof res);
    res.j_pinn = res.rel_l2 = res.max_err = NAN;
    if (!X || !Y || sapm_net_copy(&net, net0) != SAPM_OK) {
        free(X); free(Y); res.status = SAPM_ERR_OUT_OF_MEMORY; return res;
    }
    memcpy(X, pc->X, sizeof(double) * (size_t)pc->N * d);
    memcpy(X + (size_t)pc->N * d, pc->Xb, sizeof(double) * (size_t)pc->M * d);
    sapm_pde_exact_values(pc->pde, n, X, Y);
    o.time_budget = T;
    o.max_iters = max_iters;
    o.log_every = 0;
    res.status = sapm_train(&net, n, X, d, Y, 1, &o, &res.rep);
    res.iters = res.rep.iters;
    res.seconds = res.rep.seconds;
    res.j_pinn = res.rep.mse;
    res.rep.history_count = 0;
    sapm_pde_errors(&net, pc->n_test, pc->X_test, pc->u_test, &res.rel_l2, &res.max_err);
    sapm_net_destroy(&net);
    free(X); free(Y);
    return res;
}

/* --reference: what the simplest models carry, for scale. The exact solution's L2
 * projections on the box (least squares on n_fit uniform points) onto the constants, the
 * linear functions of x and the sums of per-coordinate parabolas (1, x_i, x_i^2), each as
 * relative L2 on the run's test points: rel[0..2]. The features are ordered so that each
 * model's normal equations are the leading block of the last one's. */
static int reference_levels(const sapm_pde *pde, int d, const double *lo, const double *hi,
                            int n_test, const double *X_test, const double *u_test,
                            double rel[3])
{
    enum { n_fit = 20000 };
    const int nf = 1 + 2 * d, sizes[3] = {1, 1 + d, 1 + 2 * d};
    double *X = (double *)malloc(sizeof(double) * (size_t)n_fit * d);
    double *u = (double *)malloc(sizeof(double) * n_fit);
    double *A = (double *)malloc(sizeof(double) * (size_t)n_fit * nf);
    double *G = (double *)malloc(sizeof(double) * (size_t)nf * nf);
    double *L = (double *)malloc(sizeof(double) * (size_t)nf * nf);
    double *b = (double *)malloc(sizeof(double) * nf), *c = (double *)malloc(sizeof(double) * nf);
    sapm_rng rng;
    int i, j, m, ok = X && u && A && G && L && b && c;
    sapm_rng_seed(&rng, 7);
    ok = ok && sapm_sample_uniform(d, lo, hi, n_fit, &rng, X) == SAPM_OK
            && sapm_pde_exact_values(pde, n_fit, X, u) == SAPM_OK;
    for (i = 0; ok && i < n_fit; ++i) {
        double *a = A + (size_t)i * nf;
        a[0] = 1.0;
        for (j = 0; j < d; ++j) { a[1 + j] = X[(size_t)i * d + j]; a[1 + d + j] = a[1 + j] * a[1 + j]; }
    }
    /* normal equations (A^T A) c = A^T u */
    ok = ok && sapm_syrk(SAPM_TRANS, nf, n_fit, 1.0, A, nf, 0.0, G, nf) == SAPM_OK
            && sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, nf, 1, n_fit, 1.0, A, nf, u, 1, 0.0, b, 1) == SAPM_OK;
    for (m = 0; ok && m < 3; ++m) {
        int k = sizes[m];
        double err2 = 0.0, ref2 = 0.0;
        for (i = 0; i < k; ++i) { memcpy(L + (size_t)i * k, G + (size_t)i * nf, sizeof(double) * k); c[i] = b[i]; }
        ok = sapm_chol_factor(k, L, k, NULL) == SAPM_OK && sapm_chol_solve(k, 1, L, k, c, 1) == SAPM_OK;
        for (i = 0; ok && i < n_test; ++i) {
            const double *x = X_test + (size_t)i * d;
            double v = c[0];
            for (j = 0; j < d && k > 1; ++j) v += c[1 + j] * x[j] + (k > 1 + d ? c[1 + d + j] * x[j] * x[j] : 0.0);
            err2 += (v - u_test[i]) * (v - u_test[i]);
            ref2 += u_test[i] * u_test[i];
        }
        rel[m] = ok ? sqrt(err2 / ref2) : NAN;
    }
    free(X); free(u); free(A); free(G); free(L); free(b); free(c);
    return ok;
}

static void cell(char *buf, size_t n, double sec, int it)
{
    if (it < 0) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.1f/%d", sec, it);
}

int main(int argc, char **argv)
{
    double T = 60.0;
    const char *only = NULL, *mlist = "lm,lbfgs", *set = "suite";
    int a, k, m, threads = 1, max_iters = 0, width = 0, reference = 0;
    double scale = 1.0, bscale = 1.0, geodesic = -1.0;
    unsigned long seed = 1;
    for (a = 1; a < argc; ++a) {
        if (!strcmp(argv[a], "--quick")) T = 6.0;
        else if (!strcmp(argv[a], "--time") && a + 1 < argc) T = atof(argv[++a]);
        else if (!strcmp(argv[a], "--only") && a + 1 < argc) only = argv[++a];
        else if (!strcmp(argv[a], "--methods") && a + 1 < argc) mlist = argv[++a];
        else if (!strcmp(argv[a], "--iters") && a + 1 < argc) max_iters = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--width") && a + 1 < argc) width = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--points") && a + 1 < argc) scale = atof(argv[++a]);
        else if (!strcmp(argv[a], "--bpoints") && a + 1 < argc) bscale = atof(argv[++a]);
        else if (!strcmp(argv[a], "--geodesic") && a + 1 < argc) geodesic = atof(argv[++a]);
        else if (!strcmp(argv[a], "--seed") && a + 1 < argc) seed = strtoul(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--reference")) reference = 1;
        else if (!strcmp(argv[a], "--set") && a + 1 < argc) {
            set = argv[++a];
            if (strcmp(set, "suite") && strcmp(set, "unseen") && strcmp(set, "all")) set = NULL;
            if (!set) { fprintf(stderr, "--set takes suite, unseen or all\n"); return 2; }
        }
        else {
            fprintf(stderr, "usage: %s [--quick] [--time T] [--iters K] [--only p,q] [--methods a,b] "
                    "[--width W] [--points S] [--bpoints S] [--geodesic A] [--seed S]\n"
                    "       [--set suite|unseen|all] [--reference]\n", argv[0]);
            return 2;
        }
    }
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    printf("bench_pde_suite: T = %.0f s per run%s, SIMD %s, %d thread%s\n", T,
           max_iters ? " (or the iteration cap)" : "", sapm_simd_path(), threads, threads > 1 ? "s" : "");
    printf("%-11s %-11s %6s %9s %9s %6s %10s %11s %11s %11s %11s\n", "problem", "method", "P",
           "err at 0", "err at T", "iters", "J_PINN", "1e-3 s/it", "1e-5 s/it", "1e-7 s/it", "1e-8 s/it");
    for (k = 0; k < N_PROBLEMS; ++k) {
        const suite_problem *sp = &problems[k];
        int d = sp->d, N = (int)(sp->N * scale), M = d == 1 ? 2 : (int)(sp->M * scale * bscale);
        int n_test = 2000, i, faces[4] = {1, 0, 1, 0};
        double *lo, *hi, *X, *Xb, *Xt, *ut;
        sapm_pde pde;
        sapm_rng rng;
        pde_case pc;
        if (only ? !in_list(only, sp->name)
                 : (!strcmp(set, "suite") && sp->unseen) || (!strcmp(set, "unseen") && !sp->unseen))
            continue;
        suite_pde(sp, &pde);
        lo = (double *)malloc(sizeof(double) * (size_t)d * 2);
        X = (double *)malloc(sizeof(double) * (size_t)N * d);
        Xb = (double *)malloc(sizeof(double) * (size_t)M * d);
        Xt = (double *)malloc(sizeof(double) * (size_t)n_test * d);
        ut = (double *)malloc(sizeof(double) * (size_t)n_test);
        if (!lo || !X || !Xb || !Xt || !ut) { fprintf(stderr, "out of memory\n"); return 1; }
        hi = lo + d;
        for (i = 0; i < d; ++i) { lo[i] = 0.0; hi[i] = 1.0; }
        sapm_rng_seed(&rng, 1);
        sapm_sample_halton(d, lo, hi, N, 0, 1, X);
        if (d == 1) { Xb[0] = 0.0; Xb[1] = 1.0; }
        else sapm_sample_boundary(d, lo, hi, sp->inflow ? faces : NULL, M, &rng, Xb);
        sapm_sample_uniform(d, lo, hi, n_test, &rng, Xt);
        sapm_pde_exact_values(&pde, n_test, Xt, ut);
        if (reference) {
            double rel[3];
            if (reference_levels(&pde, d, lo, hi, n_test, Xt, ut, rel))
                printf("%-11s reference: rel. L2 of the best constant %.2e, linear function %.2e, "
                       "sum of per-coordinate parabolas %.2e\n", sp->name, rel[0], rel[1], rel[2]);
            else printf("%-11s reference: out of memory or singular\n", sp->name);
        }
        pc.pde = &pde; pc.d = d; pc.N = N; pc.M = M; pc.n_test = n_test;
        pc.X = X; pc.Xb = Xb; pc.X_test = Xt; pc.u_test = ut;
        for (m = 0; m < N_ALL_METHODS; ++m) {
            const suite_method *sm = &all_methods[m];
            sapm_pde_options o = sapm_pde_default_options(sm->method);
            int widths[8], depth;
            sapm_net net0;
            pde_result r;
            double s3, s5, s7, s8;
            int i3, i5, i7, i8;
            char c3[32], c5[32], c7[32], c8[32];
            if (!in_list(mlist, sm->name)) continue;
            if (sm->wide) {
                depth = sapm_pde_default_widths(d, widths);
                if (width > 0) widths[1] = width;
            } else { depth = 4; widths[0] = d; widths[1] = widths[2] = widths[3] = 50; widths[4] = 1; }
            sapm_net_create(&net0, depth, widths, SAPM_ACT_TANH);
            sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, seed);
            o.base.max_iters = max_iters;
            o.base.time_budget = T;
            o.base.log_every = sm->method == SAPM_METHOD_LM ? 1 : 5;
            if (sm->variant == 1) o.balance = SAPM_BALANCE_NONE;
            if (sm->variant == 2) { o.balance = SAPM_BALANCE_NONE; o.base.ls.lm_trials = 0; }
            if (sm->variant == 3) o.balance = SAPM_BALANCE_NTK;
            if (sm->variant == 4) o.balance = SAPM_BALANCE_GRAD;
            if (sm->variant == 5) o.resample_every = 5;
            if (sm->variant == 6) o.resample_every = 20;
            if (sm->variant == 7) o.base.ls.lm_trials = 0;
            if (sm->variant == 8) o.base.ls.lm_geodesic = 0.0;
            else if (geodesic >= 0.0) o.base.ls.lm_geodesic = geodesic;
            if (sm->variant == 9) o.base.ls.lm_blocks = 1;
            if (sm->variant == 10) r = fit_run(&pc, &net0, T, max_iters);
            else r = pde_run(&pc, &net0, o, NULL);
            if (r.status != SAPM_OK) printf("  (%s: %s)\n", sapm_result_string(r.status), r.rep.message);
            hit(&r.rep, 1e-3, &s3, &i3); hit(&r.rep, 1e-5, &s5, &i5); hit(&r.rep, 1e-7, &s7, &i7);
            hit(&r.rep, 1e-8, &s8, &i8);
            cell(c3, sizeof c3, s3, i3); cell(c5, sizeof c5, s5, i5); cell(c7, sizeof c7, s7, i7);
            cell(c8, sizeof c8, s8, i8);
            printf("%-11s %-11s %6d %9.2e %9.2e %6d %10.3e %11s %11s %11s %11s\n", sp->name, sm->name,
                   (int)net0.n_params, r.rep.history_count > 0 ? r.rep.history[0].error : NAN,
                   r.rel_l2, r.iters, r.j_pinn, c3, c5, c7, c8);
            fflush(stdout);
            sapm_report_free(&r.rep);
            sapm_net_destroy(&net0);
        }
        free(lo); free(X); free(Xb); free(Xt); free(ut);
    }
    printf("\nerr at 0 / at T: held-out relative L2 at the start / the end of the run (fit-lbfgs:\n"
           "no start); 1e-k s/it: seconds and iterations until the logged error <= 1e-k (\"-\": not\n"
           "reached).\n");
    return 0;
}
