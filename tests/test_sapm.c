/* PM and SAPM (SPEC 2-3): block updates against their definitions, the consistency bound
 * J_LS <= L J_SAPM on random states and along training, training to a stated MSE, and
 * bad arguments. */
#ifndef SAPM_TEST_UNITY /* else tests/sapm_impl.c holds the implementation */
#define SAPM_IMPLEMENTATION
#endif
#include "sapm.h"
#include "sapm_test.h"

/* A random problem: net of depth L, width w, N samples of y = sin(x0^2) (+ x1 if d = 2). */
typedef struct tcase {
    sapm_net net;
    int N, d, m;
    double *X, *Y;
    sapm_options opt;
    sapm__aux st;
} tcase;

static int tcase_make(tcase *c, int L, int w, int d, int m, int N, sapm_activation act,
                      sapm_method method, sapm_aux_update upd, uint64_t seed)
{
    int widths[32], l, i, j;
    sapm_rng rng;
    memset(c, 0, sizeof *c);
    widths[0] = d;
    for (l = 1; l < L; ++l) widths[l] = w + (l % 2); /* uneven widths catch index slips */
    widths[L] = m;
    if (sapm_net_create(&c->net, L, widths, act) != SAPM_OK) return 0;
    sapm_net_init(&c->net, SAPM_INIT_UNIFORM, 1.0, seed);
    c->N = N; c->d = d; c->m = m;
    c->X = (double *)malloc(sizeof(double) * (size_t)N * d);
    c->Y = (double *)malloc(sizeof(double) * (size_t)N * m);
    sapm_rng_seed(&rng, seed + 100);
    for (i = 0; i < N; ++i) {
        for (j = 0; j < d; ++j) c->X[i * d + j] = -2.0 + 4.0 * sapm_rng_uniform(&rng);
        for (j = 0; j < m; ++j) c->Y[i * m + j] = sin(c->X[i * d] * c->X[i * d]) + 0.3 * j;
    }
    c->opt = sapm_default_options(method);
    c->opt.aux.update = upd;
    c->opt.aux.omega_norm = 0; /* the paper's w_l, which sapm_loss_ref computes */
    c->opt.polish = SAPM_METHOD_NONE;
    if (sapm__aux_alloc(&c->st, &c->net, N, c->X, d, c->Y, m, &c->opt) != SAPM_OK) return 0;
    sapm__aux_sync(&c->st);
    sapm__aux_omega(&c->st);
    return 1;
}

static void tcase_free(tcase *c)
{
    sapm__aux_free(&c->st);
    sapm_net_destroy(&c->net);
    free(c->X);
    free(c->Y);
}

/* a_l += amp * N(0,1), then H refreshed */
static void perturb_aux(tcase *c, double amp, uint64_t seed)
{
    sapm_rng rng;
    int l;
    size_t i;
    sapm_rng_seed(&rng, seed);
    for (l = 1; l < c->net.depth; ++l) {
        for (i = 0; i < (size_t)c->N * c->net.widths[l]; ++i) c->st.A[l][i] += amp * sapm_rng_normal(&rng);
        sapm__aux_set_h(&c->st, l);
    }
}

/* J_LS of the forward network, by sapm_net_forward and a plain loop */
static double forward_mse(tcase *c)
{
    double *U = (double *)malloc(sizeof(double) * (size_t)c->N * c->m), s = 0.0;
    int i;
    sapm_net_forward(&c->net, c->N, c->X, c->d, U, c->m);
    for (i = 0; i < c->N * c->m; ++i) s += (U[i] - c->Y[i]) * (U[i] - c->Y[i]);
    free(U);
    return s / c->N;
}

/* J_SAPM by plain loops from its definition (SPEC 2), independent of the library's loops */
static double sapm_loss_ref(tcase *c)
{
    const sapm_net *net = &c->net;
    int L = net->depth, l, i, j, k;
    double tot = 0.0, K = sapm_activation_lipschitz(net->act);
    for (l = 1; l <= L; ++l) {
        double wl = 1.0, acc = 0.0;
        int p;
        if (c->opt.method == SAPM_METHOD_PM) wl = l < L ? c->opt.aux.pm_lambda : 1.0;
        else for (p = l + 1; p <= L; ++p) {
            double f = 0.0;
            for (k = 0; k < net->widths[p] * net->widths[p - 1]; ++k) f += net->W[p - 1][k] * net->W[p - 1][k];
            wl *= f * K * K;
        }
        for (i = 0; i < c->N; ++i)
            for (j = 0; j < net->widths[l]; ++j) {
                double z = net->b[l - 1][j], t;
                for (k = 0; k < net->widths[l - 1]; ++k) {
                    double h = l == 1 ? c->X[i * c->d + k] : 0.0;
                    if (l > 1) sapm_activation_eval(net->act, 1, &c->st.A[l - 1][i * net->widths[l - 1] + k], &h, NULL, NULL, NULL);
                    z += net->W[l - 1][j * net->widths[l - 1] + k] * h;
                }
                t = l < L ? c->st.A[l][i * net->widths[l] + j] : c->Y[i * c->m + j];
                acc += (t - z) * (t - z);
            }
        tot += wl * acc;
    }
    return tot / c->N;
}

static void test_sync_gives_equal_losses(void)
{
    /* auxiliaries at the forward pass: e_l = 0, so J_SAPM = J_PM = J_LS (to rounding) */
    int L;
    for (L = 1; L <= 6; L += 1) {
        tcase c;
        double J = 0.0, mse = 0.0;
        CHECK(tcase_make(&c, L, 5, 2, 2, 37, SAPM_ACT_TANH, L % 2 ? SAPM_METHOD_SAPM : SAPM_METHOD_PM, SAPM_AUX_GN, 3 + L));
        CHECK_EQ_INT(sapm__aux_loss(&c.st, &J), SAPM_OK);
        CHECK_EQ_INT(sapm_net_loss(&c.net, c.N, c.X, c.d, c.Y, c.m, &mse), SAPM_OK);
        CHECK_REL(J, forward_mse(&c), 1e-12, 1e-300);
        CHECK_REL(mse, forward_mse(&c), 1e-12, 1e-300);
        perturb_aux(&c, 0.1, 9);
        CHECK_EQ_INT(sapm__aux_loss(&c.st, &J), SAPM_OK);
        CHECK_REL(J, sapm_loss_ref(&c), 1e-11, 1e-300);  /* library loops vs definition */
        tcase_free(&c);
    }
}

static void test_consistency_bound_random_states(void)
{
    /* J_LS <= L J_SAPM for any weights and auxiliaries (SPEC 2), every activation with its
     * K, both w norms (Frobenius: seeds; spectral: ours), depths 2..9, perturbations from
     * tiny to large. The bound is checked, and so is that it is not vacuous (ratio seen). */
    sapm_activation acts[5] = {SAPM_ACT_TANH, SAPM_ACT_SIN, SAPM_ACT_SIGMOID, SAPM_ACT_SOFTPLUS, SAPM_ACT_GELU};
    int a, L, norm, trial, checked = 0;
    double worst = 0.0;
    for (a = 0; a < 5; ++a)
        for (L = 2; L <= 9; L += 7 - 3 * (L > 2))
            for (norm = 0; norm < 2; ++norm)
                for (trial = 0; trial < 3; ++trial) {
                    tcase c;
                    double J = 0.0, mse;
                    CHECK(tcase_make(&c, L, 4, 1, 1, 23, acts[a], SAPM_METHOD_SAPM, SAPM_AUX_GN, 77 + trial + 10 * L + 100 * a));
                    c.opt.aux.omega_norm = norm;
                    sapm__aux_omega(&c.st);
                    perturb_aux(&c, pow(10.0, -3.0 + 1.5 * trial), 5 + trial);
                    sapm__aux_loss(&c.st, &J);
                    mse = forward_mse(&c);
                    CHECK(mse <= L * J * (1.0 + 1e-12));
                    if (J > 0.0 && mse / (L * J) > worst) worst = mse / (L * J);
                    ++checked;
                    tcase_free(&c);
                }
    CHECK(checked >= 60);
    CHECK(worst > 1e-6); /* the bound is exercised, not trivially far */
}

static void test_weight_block_is_minimiser(void)
{
    /* after sapm__aux_solve_weights(l), the gradient of the block loss
     *   sum_n |t_n - W h_n - b|^2 + (lambda_n + rho) |Theta|^2 - 2 rho <Theta, Theta_old> ...
     * i.e. of sum |t - W h - b|^2 + rho |Theta - Theta_old|^2 + lambda_n |Theta|^2, is 0. */
    int L = 4, l;
        for (l = 1; l <= L; ++l) {
            tcase c;
            const sapm_net *net;
            int n, mo, i, j, k;
            double *Wold, *bold, scale = 0.0, lam, rho, gmax = 0.0, gscale = 0.0;
            CHECK(tcase_make(&c, L, 5, 2, 2, 41, SAPM_ACT_TANH, SAPM_METHOD_SAPM, SAPM_AUX_GN, 11 + l));
            net = &c.net;
            c.opt.aux.ridge = 1e-6;
            perturb_aux(&c, 0.5, 21 + l);
            n = net->widths[l - 1]; mo = net->widths[l];
            Wold = (double *)malloc(sizeof(double) * n * mo);
            bold = (double *)malloc(sizeof(double) * mo);
            memcpy(Wold, net->W[l - 1], sizeof(double) * n * mo);
            memcpy(bold, net->b[l - 1], sizeof(double) * mo);
            for (i = 0; i < c.N; ++i) {
                for (k = 0; k < n; ++k) scale += c.st.H[l - 1][i * (n + 1) + k] * c.st.H[l - 1][i * (n + 1) + k];
                scale += 1.0;
            }
            scale /= (n + 1);
            lam = c.opt.aux.ridge * scale;
            rho = 0.0;  /* no proximal term: the regularised solve is ridge-only */
            CHECK_EQ_INT(sapm__aux_solve_weights(&c.st, l), SAPM_OK);
            /* gradient by plain loops: d/dW_jk = -2 sum_n e_nj h_nk + 2 lam W_jk + 2 rho (W - Wold)_jk */
            for (j = 0; j < mo; ++j)
                for (k = 0; k <= n; ++k) {
                    double g = 0.0, th = k < n ? net->W[l - 1][j * n + k] : net->b[l - 1][j];
                    double tho = k < n ? Wold[j * n + k] : bold[j];
                    for (i = 0; i < c.N; ++i) {
                        const double *h = c.st.H[l - 1] + i * (n + 1);
                        double z = net->b[l - 1][j], t, hk = k < n ? h[k] : 1.0;
                        int q;
                        for (q = 0; q < n; ++q) z += net->W[l - 1][j * n + q] * h[q];
                        t = l < L ? c.st.A[l][i * mo + j] : c.Y[i * c.m + j];
                        g += -2.0 * (t - z) * hk;
                        gscale += fabs(2.0 * t * hk);
                    }
                    g += 2.0 * lam * th + 2.0 * rho * (th - tho);
                    if (fabs(g) > gmax) gmax = fabs(g);
                }
            CHECK(gmax <= 1e-10 * gscale);
            free(Wold);
            free(bold);
            tcase_free(&c);
        }
}

/* block loss of layer l at sample i (SPEC 3): w_l |a - c|^2 + w_{l+1} |W sigma(a) + b - t|^2 */
static double block_loss(tcase *c, int l, int i, const double *a)
{
    const sapm_net *net = &c->net;
    int n = net->widths[l], np = net->widths[l - 1], no = net->widths[l + 1], j, k;
    double f1 = 0.0, f2 = 0.0, h[64];
    for (j = 0; j < n; ++j) {
        double z = net->b[l - 1][j];
        for (k = 0; k < np; ++k) z += net->W[l - 1][j * np + k] * c->st.H[l - 1][i * (np + 1) + k];
        f1 += (a[j] - z) * (a[j] - z);
    }
    sapm_activation_eval(net->act, (size_t)n, a, h, NULL, NULL, NULL);
    for (j = 0; j < no; ++j) {
        double z = net->b[l][j], t = l + 1 < net->depth ? c->st.A[l + 1][i * no + j] : c->Y[i * c->m + j];
        for (k = 0; k < n; ++k) z += net->W[l][j * n + k] * h[k];
        f2 += (z - t) * (z - t);
    }
    return c->st.omega[l] * f1 + c->st.omega[l + 1] * f2;
}

static void test_aux_gradient_step_matches_fd(void)
{
    /* seeds' form: a -= tau grad f; recover grad from the step and compare with central
     * finite differences of the block loss */
    int L = 4, l;
    for (l = 1; l < L; ++l) {
        tcase c;
        int n, i = 5, j;
        double a0[64], a1[64], tau = 1e-9, worst = 0.0;
        CHECK(tcase_make(&c, L, 5, 2, 2, 17, SAPM_ACT_TANH, SAPM_METHOD_PM, SAPM_AUX_GD, 31 + l));
        c.opt.aux.pm_lambda = 0.7;
        sapm__aux_omega(&c.st);
        perturb_aux(&c, 0.3, 3);
        n = c.net.widths[l];
        memcpy(a0, c.st.A[l] + i * n, sizeof(double) * n);
        c.opt.aux.tau = tau;
        CHECK_EQ_INT(sapm__aux_step_layer(&c.st, l, c.st.H[l - 1]), SAPM_OK);
        memcpy(a1, c.st.A[l] + i * n, sizeof(double) * n);
        for (j = 0; j < n; ++j) {
            double g = (a0[j] - a1[j]) / tau, ap[64], am[64], h = 1e-6, fd;
            memcpy(ap, a0, sizeof ap); memcpy(am, a0, sizeof am);
            ap[j] += h; am[j] -= h;
            fd = (block_loss(&c, l, i, ap) - block_loss(&c, l, i, am)) / (2.0 * h);
            if (fabs(g - fd) / (1e-3 + fabs(fd)) > worst) worst = fabs(g - fd) / (1e-3 + fabs(fd));
        }
        CHECK(worst < 1e-5); /* FD error O(h^2) plus cancellation ~1e-10/h */
        tcase_free(&c);
    }
}

static void test_aux_gn_step_decreases_block_loss(void)
{
    /* per-layer GN/LM step: every sample's block loss is non-increasing, and the sum drops */
    int L = 5, l;
    for (l = 1; l < L; ++l) {
        tcase c;
        int i, n;
        double before = 0.0, after = 0.0, *old;
        CHECK(tcase_make(&c, L, 6, 1, 1, 50, SAPM_ACT_TANH, SAPM_METHOD_SAPM, SAPM_AUX_GN, 41 + l));
        c.opt.aux.omega_norm = 1;
        sapm__aux_omega(&c.st);
        perturb_aux(&c, 0.2, 4);
        sapm__aux_solve_weights(&c.st, L); /* output residual nonzero and not yet optimal */
        n = c.net.widths[l];
        old = (double *)malloc(sizeof(double) * c.N);
        for (i = 0; i < c.N; ++i) { old[i] = block_loss(&c, l, i, c.st.A[l] + i * n); before += old[i]; }
        CHECK_EQ_INT(sapm__aux_step_layer(&c.st, l, c.st.H[l - 1]), SAPM_OK);
        for (i = 0; i < c.N; ++i) {
            double f = block_loss(&c, l, i, c.st.A[l] + i * n);
            CHECK(f <= old[i] * (1.0 + 1e-13));
            after += f;
        }
        CHECK(after < 0.9 * before);
        free(old);
        tcase_free(&c);
    }
}

/* ---- training through sapm_train ---------------------------------------------------- */

typedef struct bound_check { int L; int count, violations; double worst; } bound_check;

static int check_bound_cb(const sapm_progress *p, void *ud)
{
    bound_check *b = (bound_check *)ud;
    ++b->count;
    if (!(p->mse <= b->L * p->loss * (1.0 + 1e-12))) ++b->violations;
    if (p->loss > 0.0 && p->mse / (b->L * p->loss) > b->worst) b->worst = p->mse / (b->L * p->loss);
    return 0;
}

static void sapm_make_data(int N, double *X, double *Y, uint64_t seed)
{
    sapm_rng rng;
    int i;
    sapm_rng_seed(&rng, seed);
    for (i = 0; i < N; ++i) { X[i] = -2.0 + 4.0 * sapm_rng_uniform(&rng); Y[i] = sin(X[i] * X[i]); }
}

static double g_first_mse; /* J_LS at iteration 0 of the last train_small run */

static double train_small(sapm_method method, int seeds_form, int polish, int iters, bound_check *bc,
                          double tau, sapm_result expect)
{
    /* sin(x^2) on [-2,2], 64 points, L = 4, width 8, U(-1,1) init */
    enum { N = 64 };
    double X[N], Y[N];
    int widths[5] = {1, 8, 8, 8, 1};
    sapm_net net;
    sapm_options o = sapm_default_options(method);
    sapm_report rep;
    double mse = -1.0;
    sapm_make_data(N, X, Y, 5);
    sapm_net_create(&net, 4, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_UNIFORM, 1.0, 3);
    if (seeds_form) {
        sapm_aux_paper_options(&o.aux);
        o.aux.update = SAPM_AUX_GD;     /* with the fixed rate tau and auxiliaries that */
        o.aux.resync_every = 0;         /* persist between outer iterations */
    }
    if (tau > 0.0) o.aux.tau = tau;
    o.polish = polish ? SAPM_METHOD_LBFGS : SAPM_METHOD_NONE;
    if (polish) o.phase_iters = 5;     /* 5 auxiliary iterations, then L-BFGS */
    o.max_iters = iters;
    o.log_every = 1;
    if (bc) { o.progress = check_bound_cb; o.user_data = bc; }
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), expect);
    CHECK(rep.history_count >= 2);
    CHECK_EQ_INT(rep.history[0].iter, 0);
    g_first_mse = rep.history[0].mse;
    if (getenv("SAPM_TEST_VERBOSE")) fprintf(stderr, "  first %.3e final %.3e\n", rep.history[0].mse, rep.mse);
    CHECK(rep.iters <= iters);
    /* the report's final MSE is that of the returned network */
    { double j = 0.0; sapm_net_loss(&net, N, X, 1, Y, 1, &j); CHECK_REL(rep.mse, j, 1e-10, 1e-300); mse = j; }
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
    return mse;
}

static void test_train_sapm_and_pm_reach_stated_mse(void)
{
    /* stated MSEs (measured values in the comments, bounds with margin): the initial J_LS
     * is ~0.9 */
    bound_check bc;
    double m;
    memset(&bc, 0, sizeof bc); bc.L = 4;
    m = train_small(SAPM_METHOD_SAPM, 0, 0, 60, &bc, 0.0, SAPM_OK); /* ours, no polish */
    if (getenv("SAPM_TEST_VERBOSE")) fprintf(stderr, "  SAPM (no polish) %.3e\n", m);
    CHECK(m < 2e-3);                                      /* measured 4.8e-4 */
    CHECK(bc.count >= 61 && bc.violations == 0);          /* J_LS <= L J_SAPM along the run */
    CHECK(bc.worst > 1e-3);
    /* 5.2e-6 was measured here under the old default "SAPM", which handed this start
     * (mean-field gain 1.37 < 1.5) to L-BFGS at iteration 0: it was L-BFGS alone, and is
     * checked as such; 5 SAPM iterations then L-BFGS end elsewhere */
    m = train_small(SAPM_METHOD_LBFGS, 0, 0, 200, NULL, 0.0, SAPM_OK);
    if (getenv("SAPM_TEST_VERBOSE")) fprintf(stderr, "  L-BFGS %.3e\n", m);
    CHECK(m < 5e-5);                                      /* measured 5.2e-6 */
    m = train_small(SAPM_METHOD_SAPM, 0, 1, 200, NULL, 0.0, SAPM_OK); /* + L-BFGS polish */
    if (getenv("SAPM_TEST_VERBOSE")) fprintf(stderr, "  SAPM + L-BFGS %.3e\n", m);
    CHECK(m < 2e-3);                                      /* measured 3.5e-4 */
    m = train_small(SAPM_METHOD_PM, 0, 0, 60, NULL, 0.0, SAPM_OK);   /* PM, our aux updates */
    if (getenv("SAPM_TEST_VERBOSE")) fprintf(stderr, "  PM %.3e\n", m);
    CHECK(m < 2e-3);                                      /* measured 5.5e-4 */
    memset(&bc, 0, sizeof bc); bc.L = 4;
    /* seeds' form with a step below 1/(2 w_1): bounded and slowly decreasing */
    m = train_small(SAPM_METHOD_SAPM, 1, 0, 60, &bc, 1e-5, SAPM_OK);
    if (getenv("SAPM_TEST_VERBOSE")) fprintf(stderr, "  SAPM seeds' form %.3e\n", m);
    CHECK(bc.violations == 0);
    /* measured 0.56 -> 0.78 (0.21 before the vectorised tanh landed): in 60 iterations
     * the seeds' form does not reliably lower the MSE here - J_SAPM is not monotone since
     * w is recomputed - so only the bound above and a finite, moderate MSE are stated */
    CHECK(isfinite(m) && m < 2.0 * g_first_mse);
    /* the seeds' default step tau = 1e-2 is far above 1/(2 w_1) here (w_1 ~ 1e3): the run
     * diverges, reports it, and returns the last finite network */
    m = train_small(SAPM_METHOD_SAPM, 1, 0, 60, NULL, 1e-2, SAPM_ERR_DIVERGED);
    CHECK(isfinite(m));
}

static void test_pm_failure_signature(void)
{
    /* SPEC 2: PM has no consistency bound. Seeds' form PM (lambda = 1, tau = 1e-2), L = 6:
     * between iteration 50 and 300 J_PM falls by more than 10x while the MSE of the
     * forward network rises (measured: J_PM 1.8e-6 -> 1.8e-8, MSE 2.0e-4 -> 2.8e-4) */
    enum { N = 64 };
    double X[N], Y[N], j50 = 0, m50 = 0, j300 = 0, m300 = 0;
    int widths[7] = {1, 20, 20, 20, 20, 20, 1}, k;
    sapm_net net;
    sapm_options o = sapm_default_options(SAPM_METHOD_PM);
    sapm_report rep;
    sapm_rng rng;
    sapm_rng_seed(&rng, 12345);
    for (k = 0; k < N; ++k) { X[k] = -2 + 4 * sapm_rng_uniform(&rng); Y[k] = sin(X[k] * X[k]); }
    sapm_net_create(&net, 6, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_UNIFORM, 1.0, 1);
    sapm_aux_paper_options(&o.aux);
    o.aux.update = SAPM_AUX_GD;     /* the paper's rule with the fixed rate tau = 1e-2 */
    o.aux.tau = 1e-2;
    o.polish = SAPM_METHOD_NONE;
    o.max_iters = 300;
    o.log_every = 50;
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_OK);
    for (k = 0; k < rep.history_count; ++k) {
        if (rep.history[k].iter == 50) { j50 = rep.history[k].loss; m50 = rep.history[k].mse; }
        if (rep.history[k].iter == 300) { j300 = rep.history[k].loss; m300 = rep.history[k].mse; }
    }
    if (getenv("SAPM_TEST_VERBOSE")) fprintf(stderr, "  PM: J %.3e -> %.3e, MSE %.3e -> %.3e\n", j50, j300, m50, m300);
    CHECK(j50 > 0.0 && j300 < 0.1 * j50);
    CHECK(m300 > 1.2 * m50);
    CHECK(m300 > 1e3 * j300); /* the MSE is far above J_PM: no bound like SAPM's */
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
}

static int zero_cb(const sapm_progress *p, void *ud) { (void)p; (void)ud; return 0; }

static void test_train_bad_arguments(void)
{
    enum { N = 16 };
    double X[N], Y[N], Ynan[N];
    int widths[4] = {1, 5, 5, 1}, k;
    sapm_net net;
    sapm_options o;
    sapm_report rep;
    sapm_make_data(N, X, Y, 1);
    memcpy(Ynan, Y, sizeof Y);
    Ynan[7] = NAN;
    sapm_net_create(&net, 3, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_UNIFORM, 1.0, 1);
    for (k = 0; k < 2; ++k) {
        sapm_method m = k ? SAPM_METHOD_SAPM : SAPM_METHOD_PM;
        o = sapm_default_options(m);
        o.max_iters = 3;
        o.progress = zero_cb;
        CHECK_EQ_INT(sapm_train(&net, 0, X, 1, Y, 1, &o, &rep), SAPM_ERR_INVALID_SIZE);
        CHECK_EQ_INT(rep.status, SAPM_ERR_INVALID_SIZE);
        CHECK_EQ_INT(sapm_train(&net, N, X, 1, Ynan, 1, &o, &rep), SAPM_ERR_NONFINITE_INPUT);
        CHECK_EQ_INT(sapm_train(&net, N, X, 0, Y, 1, &o, &rep), SAPM_ERR_SIZE_MISMATCH);
        CHECK_EQ_INT(sapm_train(&net, N, NULL, 1, Y, 1, &o, &rep), SAPM_ERR_NULL_ARGUMENT);
        CHECK_EQ_INT(sapm_train(NULL, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_NULL_ARGUMENT);
        CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, NULL, &rep), SAPM_ERR_NULL_ARGUMENT);
#define BAD(field, value) do { sapm_options b_ = o; b_.aux.field = value; \
        CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &b_, &rep), SAPM_ERR_INVALID_ARGUMENT); \
        CHECK_EQ_INT(rep.stop, SAPM_STOP_ERROR); } while (0)
        BAD(update, (sapm_aux_update)99);
        BAD(update, (sapm_aux_update)-1);
        BAD(sweep, (sapm_aux_sweep)SAPM_SWEEP_COUNT);
        BAD(ridge, -1.0);
        BAD(ridge, NAN);
        BAD(lm_damping, -1e-3);
        BAD(omega_norm, 2);
        BAD(resync_every, -2);
        { sapm_options b_ = o; sapm_aux_paper_options(&b_.aux); b_.aux.tau = 0.0;
          CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &b_, &rep), SAPM_ERR_INVALID_ARGUMENT); }
        if (m == SAPM_METHOD_PM) { BAD(pm_lambda, 0.0); BAD(pm_lambda, -1.0); }
#undef BAD
        { sapm_options b_ = o; b_.max_iters = -1;
          CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &b_, &rep), SAPM_ERR_INVALID_ARGUMENT); }
        /* the run's phase options, and the L-BFGS option of the polish phase */
        { sapm_options b_ = o; b_.polish = SAPM_METHOD_PM;
          CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &b_, &rep), SAPM_ERR_INVALID_ARGUMENT); }
        { sapm_options b_ = o; b_.phase_iters = -1;
          CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &b_, &rep), SAPM_ERR_INVALID_ARGUMENT); }
        { sapm_options b_ = o; b_.phase_time = 1.5;
          CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &b_, &rep), SAPM_ERR_INVALID_ARGUMENT); }
        { sapm_options b_ = o; b_.polish = SAPM_METHOD_LBFGS; b_.ls.lbfgs_memory = 0;
          CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &b_, &rep), SAPM_ERR_INVALID_ARGUMENT);
          CHECK_EQ_INT(rep.iters, 0);
          CHECK(strstr(rep.message, "lbfgs_memory") != NULL); }
        /* and a valid call still works */
        CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_OK);
        CHECK(rep.iters >= 1);
        sapm_report_free(&rep);
    }
    /* the option setters ignore NULL */
    sapm_aux_default_options(NULL);
    sapm_aux_paper_options(NULL);
    sapm_net_destroy(&net);
}

static void test_ridge_rescues_rank_deficient_gram(void)
{
    /* duplicated inputs and ridge 0: H^T H is singular for layer 1 (two equal input columns);
     * the adaptive ridge must make every weight solve succeed and training continue */
    enum { N = 20 };
    double X[2 * N], Y[N];
    int widths[4] = {2, 4, 4, 1}, i;
    sapm_net net;
    sapm_options o = sapm_default_options(SAPM_METHOD_SAPM);
    sapm_report rep;
    for (i = 0; i < N; ++i) { X[2 * i] = X[2 * i + 1] = -1.0 + 2.0 * i / (N - 1); Y[i] = X[2 * i] * X[2 * i]; }
    sapm_net_create(&net, 3, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_UNIFORM, 1.0, 2);
    o.aux.ridge = 0.0;
    o.polish = SAPM_METHOD_NONE;
    o.max_iters = 10;
    CHECK_EQ_INT(sapm_train(&net, N, X, 2, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.iters, 10);
    CHECK(isfinite(rep.mse) && rep.mse < rep.history[0].mse);
    CHECK(sapm__all_finite(net.params, net.n_params));
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
}

static void test_rescale_chaos(void)
{
    /* U(-1,1) at width 20 is chaotic (chi ~ 3.4); after the rescaling every hidden layer
     * has chi_l <= 1 (each layer's own sigma' inputs are fixed when it is scaled), and an
     * ordered (Xavier) net is left alone */
    enum { N = 50 };
    double X[N], chi0 = 0.0, chi1 = 0.0, *p0;
    int widths[7] = {1, 20, 20, 20, 20, 20, 1}, i;
    sapm_net net;
    for (i = 0; i < N; ++i) X[i] = -2.0 + 4.0 * i / (N - 1);
    sapm_net_create(&net, 6, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_UNIFORM, 1.0, 4);
    CHECK_EQ_INT(sapm_net_rescale_chaos(&net, N, X, 1, &chi0), SAPM_OK);
    CHECK(chi0 > 1.5);
    CHECK_EQ_INT(sapm_net_rescale_chaos(&net, N, X, 1, &chi1), SAPM_OK);
    CHECK(chi1 <= 1.0 + 1e-12 && chi1 > 0.3);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 4);
    p0 = (double *)malloc(sizeof(double) * net.n_params);
    memcpy(p0, net.params, sizeof(double) * net.n_params);
    CHECK_EQ_INT(sapm_net_rescale_chaos(&net, N, X, 1, NULL), SAPM_OK);
    {   /* Xavier: only layers with chi > 1 (if any) move, and by little */
        double d = 0.0, nrm = 0.0; size_t k;
        for (k = 0; k < net.n_params; ++k) { d += (net.params[k] - p0[k]) * (net.params[k] - p0[k]); nrm += p0[k] * p0[k]; }
        CHECK(d <= 0.05 * nrm);
    }
    /* bad arguments */
    CHECK_EQ_INT(sapm_net_rescale_chaos(NULL, N, X, 1, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_rescale_chaos(&net, N, NULL, 1, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_rescale_chaos(&net, 0, X, 1, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_net_rescale_chaos(&net, N, X, 0, NULL), SAPM_ERR_SIZE_MISMATCH);
    X[3] = NAN;
    CHECK_EQ_INT(sapm_net_rescale_chaos(&net, N, X, 1, NULL), SAPM_ERR_NONFINITE_INPUT);
    free(p0);
    sapm_net_destroy(&net);
}

static void test_default_runs_the_method_throughout(void)
{
    /* sapm_default_options(SAPM / PM) with no polish asked for: every iteration of the
     * budget is an auxiliary-variable iteration (history labels all "SAPM" / "PM"), from an
     * ordered (Xavier) and a chaotic (U(-1,1)) start alike, and for SAPM the consistency
     * bound J_LS <= L J_SAPM holds at every logged state */
    enum { N = 48, L = 5, ITERS = 25 };
    double X[N], Y[N];
    int widths[L + 1] = {1, 10, 10, 10, 10, 1}, init, m, k;
    sapm_make_data(N, X, Y, 9);
    for (m = 0; m < 2; ++m)
        for (init = 0; init < 2; ++init) {
            sapm_method method = m ? SAPM_METHOD_PM : SAPM_METHOD_SAPM;
            const char *label = m ? "PM" : "SAPM";
            sapm_net net;
            sapm_options o = sapm_default_options(method);
            sapm_report rep;
            int aux = 0, bound_ok = 0;
            CHECK_EQ_INT(o.polish, SAPM_METHOD_NONE);
            sapm_net_create(&net, L, widths, SAPM_ACT_TANH);
            sapm_net_init(&net, init ? SAPM_INIT_UNIFORM : SAPM_INIT_XAVIER, 1.0, 4 + init);
            o.max_iters = ITERS;
            o.log_every = 1;
            CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_OK);
            CHECK_EQ_INT(rep.iters, ITERS);
            CHECK_EQ_INT(rep.stop, SAPM_STOP_MAX_ITERS);
            CHECK_EQ_INT(rep.history_count, ITERS + 1);
            for (k = 0; k < rep.history_count; ++k) {
                const sapm_history_entry *h = &rep.history[k];
                if (strcmp(h->phase, label) == 0 && h->method == method) ++aux;
                if (h->mse <= L * h->loss * (1.0 + 1e-12)) ++bound_ok;
            }
            CHECK_EQ_INT(aux, rep.history_count);
            if (method == SAPM_METHOD_SAPM) CHECK_EQ_INT(bound_ok, rep.history_count);
            /* the auxiliary iterations moved the network (not a stalled phase) */
            CHECK(rep.mse < 0.9 * rep.history[0].mse);
            sapm_report_free(&rep);
            sapm_net_destroy(&net);
        }
}

static void test_paper_form_lowers_both_losses(void)
{
    /* the paper's form (sapm_aux_paper_options) on sin(x^2), L = 10, width 20, Xavier, the
     * main example's problem: no divergence, J_LS <= L J_SAPM at every logged state, and
     * over iterations 20..300 both J_SAPM and the MSE fall (J_SAPM rises over the first
     * ~10 while w_l adapts to the least-squares output layer). Measured (native): MSE
     * 0.436 -> 4.2e-3 (it. 20) -> 2.1e-3 (it. 300); J_SAPM 2.6e3 (it. 20) -> 0.67 */
    enum { N = 200, L = 10, ITERS = 300 };
    double X[N], Y[N], j20 = 0.0, m20 = 0.0, jprev = 0.0;
    int widths[L + 1], l, k, bound_ok = 0, j_up = 0;
    sapm_net net;
    sapm_options o = sapm_default_options(SAPM_METHOD_SAPM);
    sapm_report rep;
    sapm_rng rng;
    sapm_rng_seed(&rng, 1);
    for (k = 0; k < N; ++k) { X[k] = -2.0 + 4.0 * sapm_rng_uniform(&rng); Y[k] = sin(X[k] * X[k]); }
    widths[0] = 1; for (l = 1; l < L; ++l) widths[l] = 20; widths[L] = 1;
    sapm_net_create(&net, L, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1);
    sapm_aux_paper_options(&o.aux);
    o.max_iters = ITERS;
    o.log_every = 10;
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.iters, ITERS);
    for (k = 0; k < rep.history_count; ++k) {
        const sapm_history_entry *h = &rep.history[k];
        CHECK(isfinite(h->loss) && isfinite(h->mse));
        if (h->mse <= L * h->loss * (1.0 + 1e-12)) ++bound_ok;
        if (h->iter == 20) { j20 = h->loss; m20 = h->mse; }
        if (h->iter > 20 && h->loss > jprev) ++j_up;   /* J_SAPM monotone from it. 20 on */
        jprev = h->loss;
        if (getenv("SAPM_TEST_VERBOSE") && h->iter % 50 == 0)
            fprintf(stderr, "  paper's form it %d: J_SAPM %.3e MSE %.3e\n", h->iter, h->loss, h->mse);
    }
    CHECK_EQ_INT(bound_ok, rep.history_count);
    CHECK(m20 < 0.05 * rep.history[0].mse);
    CHECK(rep.mse < 0.8 * m20);
    CHECK(rep.loss < 1e-2 * j20);
    CHECK_EQ_INT(j_up, 0);
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
}

static void run_sapm_tests(void)
{
    RUN(test_sync_gives_equal_losses);
    RUN(test_consistency_bound_random_states);
    RUN(test_weight_block_is_minimiser);
    RUN(test_aux_gradient_step_matches_fd);
    RUN(test_aux_gn_step_decreases_block_loss);
    RUN(test_train_sapm_and_pm_reach_stated_mse);
    RUN(test_default_runs_the_method_throughout);
    RUN(test_paper_form_lowers_both_losses);
    RUN(test_train_bad_arguments);
    RUN(test_pm_failure_signature);
    RUN(test_rescale_chaos);
    RUN(test_ridge_rescues_rank_deficient_gram);
}

#ifndef SAPM_TEST_UNITY
int main(void)
{
    run_sapm_tests();
    return sapm_test_summary();
}
#endif
