/* LS training: J_LS gradients against central finite differences, the optimizers on
 * problems with known minima, the trainer's stop rules, reproducibility, the all-reduce
 * hook, the blocks of block-diagonal LM and the argument checks of sapm_train / sapm_net_loss / sapm_net_gradient. */
#ifndef SAPM_TEST_UNITY /* else tests/sapm_impl.c holds the implementation */
#define SAPM_IMPLEMENTATION
#endif
#include "sapm.h"
#include "sapm_test.h"

/* A small regression set: y_k = sin(k + sum_i x_i) + 0.1 k, x uniform in [-1.5, 1.5]^d. */
static void make_data(int N, int d, int m, double *X, double *Y, uint64_t seed)
{
    sapm_rng rng;
    int n, i, k;
    sapm_rng_seed(&rng, seed);
    for (n = 0; n < N; ++n) {
        double s = 0.0;
        for (i = 0; i < d; ++i) { X[n * d + i] = 3.0 * sapm_rng_uniform(&rng) - 1.5; s += X[n * d + i]; }
        for (k = 0; k < m; ++k) Y[n * m + k] = sin(k + s) + 0.1 * k;
    }
}

/* J_LS by plain loops over sapm_net_forward (the reference for the tape). */
static double jls_ref(const sapm_net *net, int N, const double *X, const double *Y)
{
    int m = net->widths[net->depth], n, k;
    double *U = (double *)malloc((size_t)N * m * sizeof(double)), s = 0.0;
    sapm_net_forward(net, N, X, net->widths[0], U, m);
    for (n = 0; n < N; ++n)
        for (k = 0; k < m; ++k) s += (U[n * m + k] - Y[n * m + k]) * (U[n * m + k] - Y[n * m + k]);
    free(U);
    return s / N;
}

static void test_jls_gradient_fd(void)
{
    /* every activation, depths 1..4, multi-output; central differences with h = 1e-6
     * have truncation error O(h^2 f''') ~ 1e-12 and rounding ~ 1e-16/h ~ 1e-10. */
    static const int shapes[][6] = { {1, 2, 1}, {2, 3, 5, 2}, {3, 2, 4, 3, 1}, {4, 3, 6, 5, 4, 3} };
    int a, s;
    for (a = 0; a < SAPM_ACT_COUNT; ++a) {
        for (s = 0; s < 4; ++s) {
            sapm_net net;
            int depth = shapes[s][0], d = shapes[s][1], m = shapes[s][depth + 1], N = 7;
            double X[7 * 3], Y[7 * 3], j = 0.0, *g;
            size_t p;
            CHECK_EQ_INT(sapm_net_create(&net, depth, shapes[s] + 1, (sapm_activation)a), SAPM_OK);
            CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_UNIFORM, 0.8, 11 + s), SAPM_OK);
            make_data(N, d, m, X, Y, 5 + a);
            g = (double *)malloc(net.n_params * sizeof(double));
            CHECK_EQ_INT(sapm_net_gradient(&net, N, X, d, Y, m, &j, g), SAPM_OK);
            CHECK_REL(j, jls_ref(&net, N, X, Y), 1e-13, 1e-300);
            for (p = 0; p < net.n_params; ++p) {
                const double h = 1e-6;
                double save = net.params[p], fp, fm, f0 = j, fd, fwd, bwd;
                net.params[p] = save + h; fp = jls_ref(&net, N, X, Y);
                net.params[p] = save - h; fm = jls_ref(&net, N, X, Y);
                net.params[p] = save;
                fd = (fp - fm) / (2 * h);
                fwd = (fp - f0) / h; bwd = (f0 - fm) / h;
                /* ReLU: skip parameters whose +-h crosses a kink (one-sided slopes differ) */
                if (a == SAPM_ACT_RELU && fabs(fwd - bwd) > 1e-4 * (1.0 + fabs(fd))) continue;
                CHECK_NEAR(g[p], fd, 1e-7 * (1.0 + fabs(fd)));
            }
            free(g);
            sapm_net_destroy(&net);
        }
    }
}

/* The data problem's residuals rho_{n m + k} = (u_k(x_n) - y_{n,k}) / sqrt(N) against the
 * network's forward pass, and without the Jacobian (G = NULL, the geodesic acceleration's
 * call) the same rows bit for bit; ||rho||^2 = J_LS. */
static void test_data_residuals(void)
{
    static const int widths[4] = {2, 5, 4, 3};
    enum { N = 9, D = 2, Mo = 3 };
    sapm_net net;
    sapm__data_problem e;
    double X[N * D], Y[N * Mo], U[N * Mo], rho[N * Mo], rho2[N * Mo], *G, f = NAN, f2 = NAN, j = NAN;
    int i, same = 1;
    CHECK_EQ_INT(sapm_net_create(&net, 3, widths, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 4), SAPM_OK);
    make_data(N, D, Mo, X, Y, 8);
    CHECK_EQ_INT(sapm__data_problem_init(&e, &net, N, X, D, Y, Mo, NULL), SAPM_OK);
    e.tape.cap = 4;                                   /* several blocks */
    G = (double *)malloc(sizeof(double) * N * Mo * net.n_params);
    CHECK_EQ_INT(sapm__data_residuals(&e, net.params, rho, G, &f), SAPM_OK);
    for (i = 0; i < N * Mo; ++i) rho2[i] = NAN;
    CHECK_EQ_INT(sapm__data_residuals(&e, net.params, rho2, NULL, &f2), SAPM_OK);
    CHECK_EQ_INT(sapm_net_forward(&net, N, X, D, U, Mo), SAPM_OK);
    for (i = 0; i < N * Mo; ++i) {
        same &= rho2[i] == rho[i];
        CHECK_NEAR(rho[i], (U[i] - Y[i]) / sqrt((double)N), 1e-14);
    }
    CHECK(same);
    CHECK(f2 == f);
    CHECK_EQ_INT(sapm_net_loss(&net, N, X, D, Y, Mo, &j), SAPM_OK);
    CHECK_REL(f, j, 1e-13, 1e-300);
    free(G);
    sapm__data_problem_free(&e);
    sapm_net_destroy(&net);
}

/* --- the minimiser on functions with known minima ---------------------------------- */

static sapm_result rosenbrock(void *ctx, const double *x, double *f, double *g)
{
    /* sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, minimum 0 at x = 1 */
    int n = *(int *)ctx, i;
    *f = 0.0;
    if (g) for (i = 0; i < n; ++i) g[i] = 0.0;
    for (i = 0; i + 1 < n; ++i) {
        double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
        *f += 100.0 * a * a + b * b;
        if (g) { g[i] += -400.0 * a * x[i] - 2.0 * b; g[i + 1] += 200.0 * a; }
    }
    return SAPM_OK;
}

/* The L-BFGS two-loop recursion against the inverse-Hessian update it factors, formed
 * densely: H = gamma I, then for each pair oldest to newest
 *     H <- (I - rho s y') H (I - rho y s') + rho s s',
 * d = -H g. The pairs sit in a ring (mhead != 0, so the ring wraps) and the vectors have
 * an odd length; with OpenMP the recursion also runs on 1 and 3 threads (its slices
 * are uneven and every product is summed across them). */
static void test_lbfgs_two_loop_vs_dense(void)
{
    enum { n = 37, mcap = 6, mcount = 5, mhead = 3 };
    static double S[mcap * n], Y[mcap * n], H[n * n], T[n * n], g[n], d[n], dref[n];
    double rho[mcap], alp[3 * mcap], part[2 * 3], gamma = 0.0;
    int j, a, b, c, nt;
    sapm_rng rng;
    sapm_rng_seed(&rng, 77);
    for (a = 0; a < mcap * n; ++a) S[a] = sapm_rng_normal(&rng);
    for (j = 0; j < mcap; ++j) {            /* y = A s + small noise, A SPD: s'y > 0 */
        double sy = 0.0, yy = 0.0;
        for (a = 0; a < n; ++a) {
            Y[j * n + a] = (1.0 + 0.1 * a) * S[j * n + a] + 0.05 * sapm_rng_normal(&rng);
            sy += S[j * n + a] * Y[j * n + a];
            yy += Y[j * n + a] * Y[j * n + a];
        }
        CHECK(sy > 0.0);
        rho[j] = 1.0 / sy;
        if (j == (mhead - 1 + mcap) % mcap) gamma = sy / yy;
    }
    for (a = 0; a < n; ++a) g[a] = sapm_rng_normal(&rng);
    /* dense reference, oldest pair (mhead - mcount) to newest (mhead - 1) */
    for (a = 0; a < n * n; ++a) H[a] = 0.0;
    for (a = 0; a < n; ++a) H[a * n + a] = gamma;
    for (j = mcount; j >= 1; --j) {
        const double *s = S + ((mhead - j + mcap) % mcap) * n, *y = Y + ((mhead - j + mcap) % mcap) * n;
        double r = rho[(mhead - j + mcap) % mcap];
        /* T = H (I - rho y s'), then H = (I - rho s y') T + rho s s' */
        for (a = 0; a < n; ++a)
            for (b = 0; b < n; ++b) {
                double hy = 0.0;
                for (c = 0; c < n; ++c) hy += H[a * n + c] * y[c];
                T[a * n + b] = H[a * n + b] - r * hy * s[b];
            }
        for (a = 0; a < n; ++a)
            for (b = 0; b < n; ++b) {
                double yt = 0.0;
                for (c = 0; c < n; ++c) yt += y[c] * T[c * n + b];
                H[a * n + b] = T[a * n + b] - r * s[a] * yt + r * s[a] * s[b];
            }
    }
    for (a = 0; a < n; ++a) {
        dref[a] = 0.0;
        for (b = 0; b < n; ++b) dref[a] -= H[a * n + b] * g[b];
    }
    for (nt = 1; nt <= 3; nt += 2) {
        sapm__twoloop w;
        for (a = 0; a < n; ++a) d[a] = -g[a];
        w.n = n; w.S = S; w.Y = Y; w.rho = rho; w.alp = alp; w.dv = d; w.gamma = gamma;
        w.mcap = mcap; w.mcount = mcount; w.mhead = mhead; w.part = part;
        sapm__run_parallel(nt, sapm__twoloop_task, &w);
        /* two mathematically equal forms, rounding only: ~n mcount ulps of |H| |g| */
        for (a = 0; a < n; ++a) CHECK_NEAR(d[a], dref[a], 1e-12 * (1.0 + fabs(dref[a])));
    }
}

static void test_lbfgs_rosenbrock(void)
{
    int n = 10, i;
    double x[10];
    sapm_options o = sapm_default_options(SAPM_METHOD_LBFGS);
    sapm_report rep;
    for (i = 0; i < n; ++i) x[i] = i % 2 ? 1.0 : -1.2;
    o.max_iters = 500;
    o.grad_tol = 1e-10;
    CHECK_EQ_INT(sapm__minimize(SAPM_METHOD_LBFGS, rosenbrock, NULL, &n, x, (size_t)n, &o, &rep), SAPM_OK);
    CHECK(rep.stop == SAPM_STOP_GRAD_TOL || rep.stop == SAPM_STOP_LINE_SEARCH);
    CHECK(rep.iters < 200);
    for (i = 0; i < n; ++i) CHECK_NEAR(x[i], 1.0, 1e-7);
    CHECK(rep.mse < 1e-14);
    sapm_report_free(&rep);
}


static sapm_result illcond(void *ctx, const double *x, double *f, double *g)
{
    /* sum_i 0.5 c_i x_i^2, c_i = 1000^(i/(n-1)): condition number 1000, minimum 0 at 0 */
    int n = *(int *)ctx, i;
    *f = 0.0;
    for (i = 0; i < n; ++i) {
        double c = pow(1000.0, (double)i / (n - 1));
        *f += 0.5 * c * x[i] * x[i];
        if (g) g[i] = c * x[i];
    }
    return SAPM_OK;
}

static void test_lbfgs_illconditioned(void)
{
    /* n = 53 (SIMD bodies and tails of the fused two-loop recursion), memory 5 and 20,
     * ||g|| from ~2e3 to 1e-8: this L-BFGS needs 316-371 iterations, GD with step 1/1000
     * needs 18415, PyTorch 1.13's L-BFGS (strong Wolfe, same memory) 730-860 (measured);
     * a wrong two-loop direction falls back to -g steps and fails the bound */
    int n = 53, i, mem;
    for (mem = 5; mem <= 20; mem += 15) {
        double x[53];
        sapm_options o = sapm_default_options(SAPM_METHOD_LBFGS);
        sapm_report rep;
        for (i = 0; i < n; ++i) x[i] = 1.0;
        o.ls.lbfgs_memory = mem;
        o.max_iters = 2000;
        o.grad_tol = 1e-8;
        CHECK_EQ_INT(sapm__minimize(SAPM_METHOD_LBFGS, illcond, NULL, &n, x, (size_t)n, &o, &rep), SAPM_OK);
        CHECK_EQ_INT(rep.stop, SAPM_STOP_GRAD_TOL);
        CHECK(rep.iters < 500);
        for (i = 0; i < n; ++i) CHECK_NEAR(x[i], 0.0, 1e-8);
        sapm_report_free(&rep);
    }
}

static sapm_result quadratic(void *ctx, const double *x, double *f, double *g)
{
    /* sum_i (i + 1) (x_i - 0.5 i)^2 / 2, minimum 0 at x_i = 0.5 i */
    int n = *(int *)ctx, i;
    *f = 0.0;
    for (i = 0; i < n; ++i) {
        double r = x[i] - 0.5 * i;
        *f += 0.5 * (i + 1) * r * r;
        if (g) g[i] = (i + 1) * r;
    }
    return SAPM_OK;
}

static void test_gd_adam_quadratic(void)
{
    int n = 5, i, meth;
    for (meth = 0; meth < 2; ++meth) {
        double x[5] = {0, 0, 0, 0, 0};
        sapm_options o = sapm_default_options(meth ? SAPM_METHOD_ADAM : SAPM_METHOD_GD);
        sapm_report rep;
        o.max_iters = 5000;
        o.learning_rate = meth ? 0.05 : 0.3;  /* GD: stable for lr < 2 / 5 */
        o.target_loss = 1e-20;
        CHECK_EQ_INT(sapm__minimize(o.method, quadratic, NULL, &n, x, (size_t)n, &o, &rep), SAPM_OK);
        CHECK_EQ_INT(rep.stop, SAPM_STOP_TARGET_LOSS);
        for (i = 0; i < n; ++i) CHECK_NEAR(x[i], 0.5 * i, 1e-9);
        sapm_report_free(&rep);
    }
}

static void test_gd_exact_step(void)
{
    /* one GD step on the quadratic is x - lr g exactly; Adam's first step is lr sign(g)
     * (m/sqrt(v) = g/|g| after bias correction, up to eps); g = (1, 1, 0) at x = (1, 1, 1) */
    int n = 3, i;
    double x[3] = {1, 1, 1}, y[3] = {1, 1, 1};
    sapm_options o = sapm_default_options(SAPM_METHOD_GD);
    o.max_iters = 1;
    o.learning_rate = 0.1;
    CHECK_EQ_INT(sapm__minimize(SAPM_METHOD_GD, quadratic, NULL, &n, x, 3, &o, NULL), SAPM_OK);
    for (i = 0; i < 3; ++i) CHECK_NEAR(x[i], 1.0 - 0.1 * (i + 1) * (1.0 - 0.5 * i), 1e-15);
    o = sapm_default_options(SAPM_METHOD_ADAM);
    o.max_iters = 1;
    o.learning_rate = 0.1;
    CHECK_EQ_INT(sapm__minimize(SAPM_METHOD_ADAM, quadratic, NULL, &n, y, 3, &o, NULL), SAPM_OK);
    CHECK_NEAR(y[0], 0.9, 1e-8);
    CHECK_NEAR(y[1], 0.9, 1e-8);
    CHECK_NEAR(y[2], 1.0, 1e-15);    /* g_2 = 0 exactly: no move */
}


static void test_adam_steps_vs_plain_loop(void)
{
    /* three Adam steps on the quadratic with n = 37 (SIMD body + tail) against the textbook
     * loop; the SIMD body may round differently (a few ulp) */
    int n = 37, i, k;
    double x[37], xr[37], m[37], v[37], g[37];
    sapm_options o = sapm_default_options(SAPM_METHOD_ADAM);
    for (i = 0; i < n; ++i) { x[i] = xr[i] = 0.1 * i - 1.0; m[i] = v[i] = 0.0; }
    o.max_iters = 3;
    o.learning_rate = 0.05;
    CHECK_EQ_INT(sapm__minimize(SAPM_METHOD_ADAM, quadratic, NULL, &n, x, (size_t)n, &o, NULL), SAPM_OK);
    for (k = 1; k <= 3; ++k) {
        double f;
        quadratic(&n, xr, &f, g);
        for (i = 0; i < n; ++i) {
            double mh, vh;
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
            mh = m[i] / (1.0 - pow(0.9, k));
            vh = v[i] / (1.0 - pow(0.999, k));
            xr[i] -= 0.05 * mh / (sqrt(vh) + 1e-8);
        }
    }
    for (i = 0; i < n; ++i) CHECK_NEAR(x[i], xr[i], 1e-14);
}

/* --- training on a tiny network ------------------------------------------------------ */

typedef struct cb_state { int calls, stop_at, last_iter, monotone; } cb_state;

static int progress_cb(const sapm_progress *p, void *ud)
{
    cb_state *s = (cb_state *)ud;
    if (s->calls > 0 && p->iter <= s->last_iter) s->monotone = 0;
    s->last_iter = p->iter;
    ++s->calls;
    return s->stop_at >= 0 && p->iter >= s->stop_at;
}

#define TN 24
static void tiny_problem(sapm_net *net, double *X, double *Y)
{
    int w[4] = {1, 10, 10, 1}, n;
    sapm_net_create(net, 3, w, SAPM_ACT_TANH);
    sapm_net_init(net, SAPM_INIT_XAVIER, 1.0, 3);
    for (n = 0; n < TN; ++n) { X[n] = -2.0 + 4.0 * n / (TN - 1); Y[n] = sin(X[n] * X[n]); }
}

static void test_adam_lbfgs_reach_small_loss(void)
{
    sapm_net net;
    double X[TN], Y[TN], j;
    sapm_options o;
    sapm_report rep;
    /* L-BFGS: 1-10-10-1 tanh on sin(x^2) at 24 points reaches J_LS <= 1e-6 */
    tiny_problem(&net, X, Y);
    o = sapm_default_options(SAPM_METHOD_LBFGS);
    o.max_iters = 3000;
    o.target_loss = 1e-6;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_TARGET_LOSS);
    CHECK(rep.mse <= 1e-6);
    CHECK_EQ_INT(sapm_net_loss(&net, TN, X, 1, Y, 1, &j), SAPM_OK);
    CHECK_REL(j, rep.mse, 1e-12, 0.0);       /* the net holds the reported state */
    CHECK(rep.history_count >= 2 && rep.history[0].iter == 0);
    CHECK_EQ_INT(rep.history[rep.history_count - 1].iter, rep.iters);
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
    /* Adam (lr 1e-2): J_LS <= 1e-3 within 3000 steps */
    tiny_problem(&net, X, Y);
    o = sapm_default_options(SAPM_METHOD_ADAM);
    o.max_iters = 3000;
    o.learning_rate = 1e-2;
    o.target_loss = 1e-3;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_TARGET_LOSS);
    CHECK(rep.mse <= 1e-3);
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
}

static void test_same_start_same_run(void)
{
    int meth;
    for (meth = SAPM_METHOD_GD; meth <= SAPM_METHOD_LM; ++meth) {
        sapm_net a, b;
        double X[TN], Y[TN];
        sapm_options o = sapm_default_options((sapm_method)meth);
        sapm_report ra, rb;
        int i;
        tiny_problem(&a, X, Y);
        tiny_problem(&b, X, Y);
        CHECK(memcmp(a.params, b.params, a.n_params * sizeof(double)) == 0);
        o.max_iters = 60;
        o.log_every = 1;
        CHECK_EQ_INT(sapm_train(&a, TN, X, 1, Y, 1, &o, &ra), SAPM_OK);
        CHECK_EQ_INT(sapm_train(&b, TN, X, 1, Y, 1, &o, &rb), SAPM_OK);
        CHECK(memcmp(a.params, b.params, a.n_params * sizeof(double)) == 0);
        CHECK_EQ_INT(ra.history_count, rb.history_count);
        CHECK_EQ_INT(ra.history_count, ra.iters + 1);
        for (i = 0; i < ra.history_count && i < rb.history_count; ++i) {
            CHECK(ra.history[i].iter == rb.history[i].iter);
            CHECK(memcmp(&ra.history[i].mse, &rb.history[i].mse, sizeof(double)) == 0);
            CHECK(memcmp(&ra.history[i].loss, &rb.history[i].loss, sizeof(double)) == 0);
        }
        sapm_report_free(&ra); sapm_report_free(&rb);
        sapm_net_destroy(&a); sapm_net_destroy(&b);
    }
}

static void test_stop_reasons(void)
{
    sapm_net net;
    double X[TN], Y[TN], j, *p0;
    sapm_options o;
    sapm_report rep;
    cb_state cs;
    size_t i;
    /* max_iters, with log_every = 5: entries 0, 5, 10, ..., 20 and the callback in order */
    tiny_problem(&net, X, Y);
    o = sapm_default_options(SAPM_METHOD_ADAM);
    o.max_iters = 20; o.log_every = 5;
    memset(&cs, 0, sizeof cs); cs.stop_at = -1; cs.monotone = 1;
    o.progress = progress_cb; o.user_data = &cs;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_MAX_ITERS);
    CHECK_EQ_INT(rep.iters, 20);
    CHECK_EQ_INT(rep.history_count, 5);
    CHECK_EQ_INT(cs.calls, 5);
    CHECK(cs.monotone);
    sapm_report_free(&rep);
    /* the callback stops at iteration 7 (log every iteration) */
    o.max_iters = 100; o.log_every = 1;
    memset(&cs, 0, sizeof cs); cs.stop_at = 7; cs.monotone = 1;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_USER);
    CHECK_EQ_INT(rep.iters, 7);
    CHECK_EQ_INT(cs.calls, 8);
    sapm_report_free(&rep);
    o.progress = NULL;
    /* target loss above the initial loss: stops at iteration 0 */
    CHECK_EQ_INT(sapm_net_loss(&net, TN, X, 1, Y, 1, &j), SAPM_OK);
    o.target_loss = 2.0 * j;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_TARGET_LOSS);
    CHECK_EQ_INT(rep.iters, 0);
    sapm_report_free(&rep);
    o.target_loss = 0.0;
    /* time budget of 1 ns: spent after the first iteration at the latest */
    o.time_budget = 1e-9;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_TIME_BUDGET);
    CHECK(rep.iters <= 1);
    sapm_report_free(&rep);
    o.time_budget = 0.0;
    /* gradient tolerance larger than the initial gradient norm */
    o.grad_tol = 1e6;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_GRAD_TOL);
    CHECK_EQ_INT(rep.iters, 0);
    sapm_report_free(&rep);
    o.grad_tol = 0.0;
    /* relative tolerance 1: any step that does not double the loss stops */
    o.rel_tol = 1.0;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_OK);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_REL_TOL);
    CHECK_EQ_INT(rep.iters, 1);
    sapm_report_free(&rep);
    /* divergence: GD with a huge learning rate overflows; the net keeps the last
     * parameters with a finite loss, and the report describes that state */
    o = sapm_default_options(SAPM_METHOD_GD);
    o.learning_rate = 1e30;
    o.max_iters = 10000;
    p0 = (double *)malloc(net.n_params * sizeof(double));
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_ERR_DIVERGED);
    CHECK_EQ_INT(rep.status, SAPM_ERR_DIVERGED);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_DIVERGED);
    CHECK(rep.iters < 10000);
    for (i = 0; i < net.n_params; ++i) CHECK(isfinite(net.params[i]));
    CHECK_EQ_INT(sapm_net_loss(&net, TN, X, 1, Y, 1, &j), SAPM_OK);
    CHECK(isfinite(j));
    CHECK(memcmp(&j, &rep.mse, sizeof j) == 0);
    CHECK_EQ_INT(rep.history[rep.history_count - 1].iter, rep.iters);
    sapm_report_free(&rep);
    free(p0);
    sapm_net_destroy(&net);
}

/* all-reduce hook simulating two identical workers: sums double */
static sapm_result allreduce_twice(double *buf, size_t n, void *ud)
{
    size_t i;
    ++*(int *)ud;
    for (i = 0; i < n; ++i) buf[i] *= 2.0;
    return SAPM_OK;
}

static sapm_result allreduce_fail(double *buf, size_t n, void *ud)
{
    (void)buf; (void)n; (void)ud;
    return SAPM_ERR_IO;
}

static void test_allreduce_hook(void)
{
    /* two identical workers see the same J_LS and gradient as one: same trajectory */
    sapm_net a, b;
    double X[TN], Y[TN];
    sapm_options o = sapm_default_options(SAPM_METHOD_LBFGS);
    sapm_report ra, rb;
    int calls = 0;
    size_t i;
    tiny_problem(&a, X, Y);
    tiny_problem(&b, X, Y);
    o.max_iters = 30;
    CHECK_EQ_INT(sapm_train(&a, TN, X, 1, Y, 1, &o, &ra), SAPM_OK);
    o.allreduce = allreduce_twice; o.allreduce_user_data = &calls;
    CHECK_EQ_INT(sapm_train(&b, TN, X, 1, Y, 1, &o, &rb), SAPM_OK);
    CHECK(calls > 30);
    for (i = 0; i < a.n_params; ++i) CHECK_REL(a.params[i], b.params[i], 1e-10, 1e-12);
    CHECK_REL(ra.mse, rb.mse, 1e-10, 0.0);
    sapm_report_free(&ra); sapm_report_free(&rb);
    /* a failing hook ends the run with its code */
    o.allreduce = allreduce_fail;
    CHECK_EQ_INT(sapm_train(&b, TN, X, 1, Y, 1, &o, &rb), SAPM_ERR_IO);
    CHECK_EQ_INT(rb.status, SAPM_ERR_IO);
    sapm_report_free(&rb);
    sapm_net_destroy(&a); sapm_net_destroy(&b);
}

static sapm_result allreduce_twice_largest(double *buf, size_t n, void *ud)
{
    size_t i, *largest = (size_t *)ud;
    if (n > *largest) *largest = n;
    for (i = 0; i < n; ++i) buf[i] *= 2.0;
    return SAPM_OK;
}

static void test_lm_blocks_layout_and_workers(void)
{
    /* the blocks of block-diagonal LM: the layers of the network in the order of its
     * parameters (1-10-10-1: W_1 b_1 = 20, W_2 b_2 = 110, W_3 b_3 = 11), and parameters
     * past the layers (a PDE's theta) one more block */
    sapm_net net, b;
    sapm__data_problem e;
    sapm__problem pb;
    double X[TN], Y[TN];
    size_t start[8], largest = 0, i;
    static const size_t layers[4] = {0, 20, 130, 141};
    sapm_options o = sapm_default_options(SAPM_METHOD_LM);
    sapm_report ra, rb;
    int l;
    tiny_problem(&net, X, Y);
    CHECK_EQ_INT(sapm__data_problem_init(&e, &net, TN, X, 1, Y, 1, NULL), SAPM_OK);
    pb = sapm__data_problem_table(&e);
    CHECK_EQ_INT(pb.n_blocks, 3);
    CHECK_EQ_INT(sapm__problem_blocks(&pb, start), 3);
    for (l = 0; l <= 3; ++l) CHECK_EQ_INT((int)start[l], (int)layers[l]);
    pb.n_params = 143;                              /* two coefficients after the network */
    CHECK_EQ_INT(sapm__problem_blocks(&pb, start), 4);
    CHECK_EQ_INT((int)start[3], 141);
    CHECK_EQ_INT((int)start[4], 143);
    pb.block_start = NULL; pb.n_blocks = 0;         /* no blocks known: one */
    CHECK_EQ_INT(sapm__problem_blocks(&pb, start), 1);
    CHECK_EQ_INT((int)start[1], 143);
    sapm__data_problem_free(&e);
    /* two identical workers (every sum doubled) follow one worker's block-diagonal LM, and
     * the Gram matrices they sum hold sum P_l^2 = 400 + 12100 + 121 = 12621 numbers, not
     * P^2 = 19881 (one worker solves the 110-parameter block in sample space: 24 < 110) */
    tiny_problem(&b, X, Y);
    o.max_iters = 15;
    o.ls.lm_blocks = 1;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &ra), SAPM_OK);
    o.allreduce = allreduce_twice_largest; o.allreduce_user_data = &largest;
    CHECK_EQ_INT(sapm_train(&b, TN, X, 1, Y, 1, &o, &rb), SAPM_OK);
    CHECK_EQ_INT((int)largest, 12621);
    for (i = 0; i < net.n_params; ++i) CHECK_REL(net.params[i], b.params[i], 1e-8, 1e-10);
    CHECK_REL(ra.mse, rb.mse, 1e-8, 0.0);
    CHECK(ra.mse < 0.6 * ra.history[0].mse);      /* measured 0.521 -> 0.213 */
    sapm_report_free(&ra); sapm_report_free(&rb);
    sapm_net_destroy(&net); sapm_net_destroy(&b);
}

static void test_bad_arguments(void)
{
    sapm_net net, empty;
    double X[TN], Y[TN], Xbad[TN], j, g[200], X2[2 * TN];
    sapm_options o = sapm_default_options(SAPM_METHOD_ADAM), ob;
    sapm_report rep;
    int n;
    tiny_problem(&net, X, Y);
    memset(&empty, 0, sizeof empty);
    memcpy(Xbad, X, sizeof X);
    for (n = 0; n < TN; ++n) { X2[2 * n] = X[n]; X2[2 * n + 1] = 0.0; }
    o.max_iters = 2;
    /* sapm_train */
    CHECK_EQ_INT(sapm_train(NULL, TN, X, 1, Y, 1, &o, &rep), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(rep.status, SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_train(&empty, TN, X, 1, Y, 1, &o, &rep), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_train(&net, TN, NULL, 1, Y, 1, &o, &rep), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, NULL, 1, &o, &rep), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, NULL, &rep), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_train(&net, 0, X, 1, Y, 1, &o, &rep), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_train(&net, -3, X, 1, Y, 1, &o, &rep), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_train(&net, TN, X, 0, Y, 1, &o, &rep), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 0, &o, &rep), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_train(&net, TN, X2, 2, Y, 1, &o, NULL), SAPM_OK);  /* ldx > d is fine */
    Xbad[5] = NAN;
    CHECK_EQ_INT(sapm_train(&net, TN, Xbad, 1, Y, 1, &o, &rep), SAPM_ERR_NONFINITE_INPUT);
    Xbad[5] = INFINITY;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Xbad, 1, &o, &rep), SAPM_ERR_NONFINITE_INPUT);
    CHECK_EQ_INT(rep.stop, SAPM_STOP_ERROR);
    ob = o; ob.method = (sapm_method)99;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.method = (sapm_method)-1;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.max_iters = -1;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.method = SAPM_METHOD_NONE;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.time_budget = -1.0;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.target_loss = NAN;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.grad_tol = -1.0;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.rel_tol = INFINITY;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.learning_rate = -0.1;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.log_every = -1;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.ls.adam_beta1 = 1.0;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.ls.adam_beta2 = -0.1;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = o; ob.ls.adam_eps = 0.0;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    ob = sapm_default_options(SAPM_METHOD_LBFGS); ob.ls.lbfgs_memory = 0;
    CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &ob, &rep), SAPM_ERR_INVALID_ARGUMENT);
    /* NaN in the starting parameters */
    {
        double save = net.params[3];
        net.params[3] = NAN;
        CHECK_EQ_INT(sapm_train(&net, TN, X, 1, Y, 1, &o, &rep), SAPM_ERR_NONFINITE_INPUT);
        net.params[3] = save;
    }
    /* sapm_net_loss / sapm_net_gradient */
    CHECK_EQ_INT(sapm_net_loss(NULL, TN, X, 1, Y, 1, &j), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_loss(&net, TN, X, 1, Y, 1, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_loss(&net, 0, X, 1, Y, 1, &j), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_net_loss(&net, TN, X, 0, Y, 1, &j), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_net_loss(&net, TN, Xbad, 1, Y, 1, &j), SAPM_ERR_NONFINITE_INPUT);
    CHECK_EQ_INT(sapm_net_loss(&empty, TN, X, 1, Y, 1, &j), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_net_gradient(&net, TN, X, 1, Y, 1, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_gradient(&net, TN, NULL, 1, Y, 1, &j, g), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_gradient(&net, -1, X, 1, Y, 1, &j, g), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_net_gradient(&net, TN, X, 1, Y, 0, &j, g), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_net_gradient(&net, TN, X, 1, Xbad, 1, &j, g), SAPM_ERR_NONFINITE_INPUT);
    CHECK_EQ_INT(sapm_net_gradient(&net, TN, X, 1, Y, 1, NULL, g), SAPM_OK);
    /* the minimiser */
    CHECK_EQ_INT(sapm__minimize(SAPM_METHOD_GD, NULL, NULL, NULL, g, 3, &o, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm__minimize(SAPM_METHOD_PM, quadratic, NULL, &n, g, 3, &o, NULL), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm__minimize(SAPM_METHOD_GD, quadratic, NULL, &n, g, 0, &o, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm__minimize(SAPM_METHOD_GD, quadratic, NULL, &n, g, 3, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    sapm_net_destroy(&net);
}

static void run_ls_tests(void)
{
    RUN(test_jls_gradient_fd);
    RUN(test_data_residuals);
    RUN(test_lbfgs_two_loop_vs_dense);
    RUN(test_lbfgs_rosenbrock);
    RUN(test_lbfgs_illconditioned);
    RUN(test_gd_adam_quadratic);
    RUN(test_gd_exact_step);
    RUN(test_adam_steps_vs_plain_loop);
    RUN(test_adam_lbfgs_reach_small_loss);
    RUN(test_same_start_same_run);
    RUN(test_stop_reasons);
    RUN(test_allreduce_hook);
    RUN(test_lm_blocks_layout_and_workers);
    RUN(test_bad_arguments);
}

#ifndef SAPM_TEST_UNITY
int main(void)
{
    run_ls_tests();
    return sapm_test_summary();
}
#endif
