/* PINN training with the recommended defaults, through the public API: Levenberg-Marquardt
 * never ends above its starting loss (on PDEs and on data, from a fresh and from a trained
 * start, in sample and in parameter space, with and without the extra damping trials,
 * with full and with block-diagonal Gauss-Newton);
 * the automatic boundary weight makes a badly scaled problem (f ~ 1e3) converge with beta
 * untouched; LM solves a problem with far fewer points than parameters (N + M << P) to a
 * stated held-out error, with fixed and with resampled interior points; small versions of
 * three problems of bench/bench_pde_suite.c reach their stated errors. */
#include "sapm.h"
#include "sapm_test.h"

#define PI 3.14159265358979323846

/* -Laplace u = f on (0,1)^2, u = 50 sin(pi x) sin(pi y) + x + 2 y: f up to 987, g ~ 1 */
static double big_exact(const double *x, int d, void *u)
{
    (void)d; (void)u;
    return 50.0 * sin(PI * x[0]) * sin(PI * x[1]) + x[0] + 2.0 * x[1];
}
static double big_f(const double *x, int d, void *u)
{
    (void)d; (void)u;
    return 50.0 * 2.0 * PI * PI * sin(PI * x[0]) * sin(PI * x[1]);
}
/* -Laplace u = 2 pi^2 sin(pi x) sin(pi y), u = 0 on the boundary */
static double p2_exact(const double *x, int d, void *u) { (void)d; (void)u; return sin(PI * x[0]) * sin(PI * x[1]); }
static double p2_f(const double *x, int d, void *u) { return 2.0 * PI * PI * p2_exact(x, d, u); }

typedef struct {
    int N, M, nt;
    double X[2 * 200], Xb[2 * 80], Xt[2 * 1000], ut[1000];
    sapm_pde pde;
} problem;

static void make_problem(problem *pb, int big, int N, int M)
{
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    sapm_rng rng;
    memset(pb, 0, sizeof *pb);
    pb->N = N; pb->M = M; pb->nt = 1000;
    pb->pde.d = 2;
    pb->pde.kappa_const = -1.0;
    pb->pde.f = big ? big_f : p2_f;
    pb->pde.g = pb->pde.exact = big ? big_exact : p2_exact;
    sapm_rng_seed(&rng, 3);
    CHECK_EQ_INT(sapm_sample_halton(2, lo, hi, N, 0, 3, pb->X), SAPM_OK);
    CHECK_EQ_INT(sapm_sample_boundary(2, lo, hi, NULL, M, &rng, pb->Xb), SAPM_OK);
    CHECK_EQ_INT(sapm_sample_uniform(2, lo, hi, pb->nt, &rng, pb->Xt), SAPM_OK);
    CHECK_EQ_INT(sapm_pde_exact_values(&pb->pde, pb->nt, pb->Xt, pb->ut), SAPM_OK);
}

static void make_net(sapm_net *net, int width, uint64_t seed)
{
    int w[3] = {2, 0, 1};
    w[1] = width;
    CHECK_EQ_INT(sapm_net_create(net, 2, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(net, SAPM_INIT_XAVIER, 1.0, seed), SAPM_OK);
}

/* LM on pb from net (trained in place) for iters iterations; returns the held-out rel. L2 */
static double run_lm(problem *pb, sapm_net *net, sapm_pde_options o, int iters, sapm_report *rep)
{
    double rel = NAN;
    o.base.max_iters = iters;
    o.base.log_every = 1;
    CHECK_EQ_INT(sapm_pde_train(net, &pb->pde, pb->N, pb->X, pb->M, pb->Xb, &o, rep), SAPM_OK);
    CHECK_EQ_INT(sapm_pde_errors(net, pb->nt, pb->Xt, pb->ut, &rel, NULL), SAPM_OK);
    return rel;
}

/* Every logged J of the run is <= the one before, and the final J <= the starting J. */
static void check_monotone(const sapm_report *rep, const char *what)
{
    int k, ok = rep->history_count >= 2;
    for (k = 1; k < rep->history_count; ++k) ok &= rep->history[k].mse <= rep->history[k - 1].mse;
    ok &= rep->mse <= rep->history[0].mse;
    if (!ok) fprintf(stderr, "  %s: J rose (start %.6e, end %.6e)\n", what, rep->history[0].mse, rep->mse);
    CHECK(ok);
}

static void test_lm_never_above_start(void)
{
    /* from a fresh start (the badly scaled problem, beta as given: large early steps) and
     * from a trained start (near a minimum most trial steps fail and rounding decides),
     * in parameter space (2-16-1: 65 parameters < 280 residuals) and sample space (2-64-1:
     * 257 > 84), with 0 and 4 extra damping trials */
    problem *pb = (problem *)malloc(sizeof *pb);
    int space, trials, again;
    if (!pb) { CHECK(0); return; }
    for (space = 0; space < 2; ++space)
        for (trials = 0; trials <= 4; trials += 4) {
            sapm_net net;
            sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_LM);
            make_problem(pb, 1, space ? 60 : 200, space ? 24 : 80);
            make_net(&net, space ? 64 : 16, 7);
            o.balance = SAPM_BALANCE_NONE;
            o.base.ls.lm_trials = trials;
            for (again = 0; again < 3; ++again) {
                sapm_report rep;
                char what[96];
                run_lm(pb, &net, o, again == 0 ? 40 : 60, &rep);
                snprintf(what, sizeof what, "%s space, lm_trials %d, run %d",
                         space ? "sample" : "parameter", trials, again);
                check_monotone(&rep, what);
                sapm_report_free(&rep);
            }
            sapm_net_destroy(&net);
        }
    free(pb);
}

/* LM on regression data (sin(x^2), 1-8-8-1) with ls.lm_blocks = lm_blocks: a fresh, then
 * twice a trained, start; every run ends at or below its start */
static void data_lm_never_above_start(int lm_blocks, const char *what)
{
    enum { ND = 60 };
    double X[ND], Y[ND];
    int i, w[4] = {1, 8, 8, 1}, again;
    sapm_net net;
    sapm_options o = sapm_default_options(SAPM_METHOD_LM);
    for (i = 0; i < ND; ++i) { X[i] = -2.0 + 4.0 * i / (ND - 1); Y[i] = sin(X[i] * X[i]); }
    CHECK_EQ_INT(sapm_net_create(&net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 2), SAPM_OK);
    o.log_every = 1;
    o.max_iters = 80;
    o.ls.lm_blocks = lm_blocks;
    for (again = 0; again < 3; ++again) {
        sapm_report rep;
        CHECK_EQ_INT(sapm_train(&net, ND, X, 1, Y, 1, &o, &rep), SAPM_OK);
        check_monotone(&rep, what);
        sapm_report_free(&rep);
    }
    sapm_net_destroy(&net);
}

static void test_lm_data_never_above_start(void)
{
    data_lm_never_above_start(0, "data");
}

static void test_lm_blocks_never_above_start(void)
{
    /* block-diagonal LM (ls.lm_blocks = 1: one block per layer) on the PDE, fresh and
     * trained starts, 2-16-1 (blocks 48 + 17, all in parameter space: 280 residuals) and
     * 2-64-1 (blocks 192 + 65 against 84 residuals: the first in sample space), and on
     * regression data (1-8-8-1: blocks 16 + 72 + 9) */
    problem *pb = (problem *)malloc(sizeof *pb);
    int space, again;
    sapm_net net;
    if (!pb) { CHECK(0); return; }
    for (space = 0; space < 2; ++space) {
        sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_LM);
        make_problem(pb, 1, space ? 60 : 200, space ? 24 : 80);
        make_net(&net, space ? 64 : 16, 7);
        o.balance = SAPM_BALANCE_NONE;
        o.base.ls.lm_blocks = 1;
        for (again = 0; again < 3; ++again) {
            sapm_report rep;
            char what[96];
            run_lm(pb, &net, o, again == 0 ? 40 : 60, &rep);
            snprintf(what, sizeof what, "blocks, 2-%d-1, run %d", space ? 64 : 16, again);
            check_monotone(&rep, what);
            CHECK(rep.iters > 0);
            sapm_report_free(&rep);
        }
        sapm_net_destroy(&net);
    }
    free(pb);
    data_lm_never_above_start(1, "blocks, data");
}

static void test_pinn_balance(void)
{
    /* f ~ 1e3 with boundary data ~ 1, 2-16-1, 100 LM iterations. The default options
     * (balance = GRAD, beta untouched, geodesic acceleration on) measured 1.5e-4 (native
     * build). The balance alone is compared on plain LM (ls.lm_geodesic = 0): with the
     * acceleration the weight as given also reaches 2.5e-4 here, which would hide it.
     * Plain LM measured 6.7e-5 balanced and 1.6e-3 with the weight as given (balance =
     * NONE, beta = 1), 20x worse. Bound 5e-4 between them. */
    problem *pb = (problem *)malloc(sizeof *pb);
    sapm_net net, net2;
    sapm_report rep;
    sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_LM), o2;
    double rel, rel_none, rel_same, w = NAN, w_ntk = NAN;
    if (!pb) { CHECK(0); return; }
    make_problem(pb, 1, 200, 80);
    CHECK(o.balance == SAPM_BALANCE_GRAD && o.beta == 1.0);
    make_net(&net, 16, 1);
    CHECK_EQ_INT(sapm_net_copy(&net2, &net), SAPM_OK);
    CHECK_EQ_INT(sapm_pde_balance_beta(&net, &pb->pde, pb->N, pb->X, pb->M, pb->Xb,
                                       SAPM_BALANCE_GRAD, 1.0, &w), SAPM_OK);
    CHECK_EQ_INT(sapm_pde_balance_beta(&net, &pb->pde, pb->N, pb->X, pb->M, pb->Xb,
                                       SAPM_BALANCE_NTK, 1.0, &w_ntk), SAPM_OK);
    CHECK(w > 10.0 && isfinite(w) && w_ntk > 0.0 && isfinite(w_ntk));
    CHECK(o.base.ls.lm_geodesic > 0.0);
    rel = run_lm(pb, &net2, o, 100, &rep);
    sapm_report_free(&rep);
    CHECK(rel < 5e-4);
    fprintf(stderr, "  f ~ 1e3, default options: rel. L2 %.2e\n", rel);
    sapm_net_destroy(&net2);
    CHECK_EQ_INT(sapm_net_copy(&net2, &net), SAPM_OK);
    o.base.ls.lm_geodesic = 0.0;
    rel = run_lm(pb, &net, o, 100, &rep);
    sapm_report_free(&rep);
    CHECK(rel < 5e-4);
    /* the same run with the weight handed over by hand: bit for bit the same network */
    o2 = o; o2.balance = SAPM_BALANCE_NONE; o2.beta = w;
    rel_same = run_lm(pb, &net2, o2, 100, &rep);
    sapm_report_free(&rep);
    CHECK(rel_same == rel);
    sapm_net_destroy(&net2);
    /* without balancing the same budget falls short */
    make_net(&net2, 16, 1);
    o2.beta = 1.0;
    rel_none = run_lm(pb, &net2, o2, 100, &rep);
    sapm_report_free(&rep);
    CHECK(rel_none > 5e-4);
    fprintf(stderr, "  f ~ 1e3, plain LM: rel. L2 %.2e balanced (beta_eff %.3g), %.2e at beta = 1\n", rel, w, rel_none);
    /* bad arguments */
    CHECK_EQ_INT(sapm_pde_balance_beta(&net, &pb->pde, pb->N, pb->X, pb->M, pb->Xb,
                                       SAPM_BALANCE_NONE, 1.0, &w), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_pde_balance_beta(&net, &pb->pde, pb->N, pb->X, pb->M, pb->Xb,
                                       SAPM_BALANCE_GRAD, 0.0, &w), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_pde_balance_beta(&net, &pb->pde, pb->N, pb->X, pb->M, pb->Xb,
                                       SAPM_BALANCE_GRAD, 1.0, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_pde_balance_beta(&net, &pb->pde, 0, pb->X, pb->M, pb->Xb,
                                       SAPM_BALANCE_GRAD, 1.0, &w), SAPM_ERR_INVALID_SIZE);
    sapm_net_destroy(&net);
    sapm_net_destroy(&net2);
    free(pb);
}

static void test_pinn_few_points(void)
{
    /* N + M = 84 residuals, P = 257 parameters (2-64-1), Poisson 2-D, 200 LM iterations
     * with default options: held-out rel. L2 on 1000 uniform points measured 7.5e-6
     * (fixed points) and 1.8e-6 (fresh interior points every 5 steps); without the
     * geodesic acceleration 6.0e-5 and 7.6e-5; bound 5e-4 */
    problem *pb = (problem *)malloc(sizeof *pb);
    sapm_net net;
    sapm_report rep;
    sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_LM);
    double rel;
    int every, widths[4] = {0, 0, 0, 0};
    if (!pb) { CHECK(0); return; }
    make_problem(pb, 0, 60, 24);
    CHECK(sapm_pde_default_widths(2, widths) == 2 && widths[0] == 2 && widths[1] == 32 && widths[2] == 1);
    for (every = 0; every <= 5; every += 5) {
        make_net(&net, 64, 1);
        CHECK(net.n_params == 257);
        o.resample_every = every;
        rel = run_lm(pb, &net, o, 200, &rep);
        CHECK(rel < 5e-4);
        CHECK(isfinite(rep.mse) && rep.mse < 1e-3);
        fprintf(stderr, "  N + M = 84 < P = 257, resample_every %d: rel. L2 %.2e\n", every, rel);
        sapm_report_free(&rep);
        sapm_net_destroy(&net);
    }
    /* the option is checked before iteration 0 */
    make_net(&net, 64, 1);
    o.resample_every = -1;
    CHECK_EQ_INT(sapm_pde_train(&net, &pb->pde, pb->N, pb->X, pb->M, pb->Xb, &o, &rep),
                 SAPM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(rep.message, "resample_every") != NULL);
    CHECK(rep.iters == 0);
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
    free(pb);
}

/* The recommended network: one tanh layer of 8 d units within [32, 64] (the rule and its
 * measurements at sapm_pde_default_widths). */
static void test_default_widths(void)
{
    static const int dims[] = {1, 2, 4, 5, 6, 7, 8, 10, 100, 100000};
    static const int units[] = {32, 32, 32, 40, 48, 56, 64, 64, 64, 64};
    int k, widths[4];
    for (k = 0; k < (int)(sizeof dims / sizeof dims[0]); ++k) {
        widths[0] = widths[1] = widths[2] = widths[3] = -1;
        CHECK_EQ_INT(sapm_pde_default_widths(dims[k], widths), 2);
        CHECK_EQ_INT(widths[0], dims[k]);
        CHECK_EQ_INT(widths[1], units[k]);
        CHECK_EQ_INT(widths[2], 1);
        CHECK_EQ_INT(widths[3], -1);              /* depth 2: three entries written */
    }
    widths[0] = -1;
    CHECK_EQ_INT(sapm_pde_default_widths(0, widths), 0);
    CHECK_EQ_INT(sapm_pde_default_widths(-3, widths), 0);
    CHECK_EQ_INT(widths[0], -1);                  /* nothing written on refusal */
    CHECK_EQ_INT(sapm_pde_default_widths(5, NULL), 0);
}

/* small versions of three problems of bench/bench_pde_suite.c */
static double r1_exact(const double *x, int d, void *u) { (void)d; (void)u; return sin(6 * PI * x[0]) + x[0] * x[0]; }
static double r1_f(const double *x, int d, void *u)
{
    (void)d; (void)u;
    return (36 * PI * PI + 50) * sin(6 * PI * x[0]) - 2.0 + 50 * x[0] * x[0];
}
static double cd_exact(const double *x, int d, void *u) { (void)d; (void)u; return sin(PI * x[0]) * exp(x[1]); }
static double cd_f(const double *x, int d, void *u)
{
    double e = exp(x[1]), sn = sin(PI * x[0]), c = cos(PI * x[0]);
    (void)d; (void)u;
    return PI * c * e + 0.5 * sn * e - 0.1 * (1.0 - PI * PI) * sn * e;
}
static double tr_exact(const double *x, int d, void *u) { (void)d; (void)u; return sin(2 * PI * (x[1] - x[0])); }
static double zero_fn(const double *x, int d, void *u) { (void)x; (void)d; (void)u; return 0.0; }

static void test_suite_small(void)
{
    /* the recommended setup (LM, default options, sapm_pde_default_widths) for 300
     * iterations on reaction-diffusion 1-D (-u'' + 50 u, u = sin 6 pi x + x^2: non-zero
     * data), convection-diffusion 2-D (-0.1 Lap u + (1, 0.5).grad u, u = sin(pi x) e^y)
     * and transport (u_t + u_x = 0, inflow faces). Measured held-out rel. L2 (native
     * build): 3.8e-7, 5.6e-7, 6.2e-6; bounds 5e-6, 5e-6, 5e-5. The same runs without
     * the geodesic acceleration (ls.lm_geodesic = 0) measured 9.0e-6, 1.1e-5, 9.6e-5,
     * 15-24x higher: they must end at least 4x above the accelerated runs. */
    static const double bound[3] = {5e-6, 5e-6, 5e-5};
    static double cdc[2] = {1.0, 0.5}, trc[2] = {1.0, 1.0};
    int k, plain;
    for (k = 0; k < 3; ++k) {
        double rel_geodesic = NAN;
        for (plain = 0; plain <= 1; ++plain) {
            enum { NMAX = 200, MMAX = 60, NT = 500 };
            static double X[2 * NMAX], Xb[2 * MMAX], Xt[2 * NT], ut[NT];
            int d = k == 0 ? 1 : 2, N = k == 0 ? 100 : NMAX, M = k == 0 ? 2 : MMAX;
            int widths[4], depth = sapm_pde_default_widths(d, widths), faces[4] = {1, 0, 1, 0};
            double lo[2] = {0, 0}, hi[2] = {1, 1}, rel = NAN;
            sapm_rng rng;
            sapm_pde pde;
            sapm_net net;
            sapm_report rep;
            sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_LM);
            memset(&pde, 0, sizeof pde);
            pde.d = d;
            if (k == 0) { pde.kappa_const = -1.0; pde.c0_const = 50.0; pde.f = r1_f; pde.g = pde.exact = r1_exact; }
            if (k == 1) { pde.kappa_const = -0.1; pde.c_const = cdc; pde.f = cd_f; pde.g = pde.exact = cd_exact; }
            if (k == 2) { pde.c_const = trc; pde.f = zero_fn; pde.g = pde.exact = tr_exact; }
            sapm_rng_seed(&rng, 5);
            CHECK_EQ_INT(sapm_sample_halton(d, lo, hi, N, 0, 5, X), SAPM_OK);
            if (d == 1) { Xb[0] = 0.0; Xb[1] = 1.0; }
            else CHECK_EQ_INT(sapm_sample_boundary(d, lo, hi, k == 2 ? faces : NULL, M, &rng, Xb), SAPM_OK);
            CHECK_EQ_INT(sapm_sample_uniform(d, lo, hi, NT, &rng, Xt), SAPM_OK);
            CHECK_EQ_INT(sapm_pde_exact_values(&pde, NT, Xt, ut), SAPM_OK);
            CHECK_EQ_INT(sapm_net_create(&net, depth, widths, SAPM_ACT_TANH), SAPM_OK);
            CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1), SAPM_OK);
            o.base.max_iters = 300;
            if (plain) o.base.ls.lm_geodesic = 0.0;
            CHECK_EQ_INT(sapm_pde_train(&net, &pde, N, X, M, Xb, &o, &rep), SAPM_OK);
            CHECK_EQ_INT(sapm_pde_errors(&net, NT, Xt, ut, &rel, NULL), SAPM_OK);
            fprintf(stderr, "  suite problem %d%s: rel. L2 %.2e after %d iterations\n", k,
                    plain ? " (no geodesic acceleration)" : "", rel, rep.iters);
            if (!plain) {
                CHECK(rel < bound[k]);
                rel_geodesic = rel;
            } else {
                CHECK(rel > 4.0 * rel_geodesic);
            }
            sapm_report_free(&rep);
            sapm_net_destroy(&net);
        }
    }
}

int main(void)
{
    RUN(test_lm_never_above_start);
    RUN(test_lm_data_never_above_start);
    RUN(test_lm_blocks_never_above_start);
    RUN(test_pinn_balance);
    RUN(test_pinn_few_points);
    RUN(test_default_widths);
    RUN(test_suite_small);
    return sapm_test_summary();
}
