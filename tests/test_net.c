/* Networks: input derivatives and Laplacians against finite differences, the derivative
 * tape's parameter gradients of losses on (u, du/dx_i, Lap u) against central differences,
 * reproducible initialisation, model files (round trip, truncation, bit flips) and the
 * argument checks of the public network functions. */
#ifndef SAPM_TEST_UNITY /* else tests/sapm_impl.c holds the implementation and allocator */
#include "sapm_test_alloc.h"
#define SAPM_IMPLEMENTATION
#endif
#include "sapm.h"
#include "sapm_test.h"
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__))
#define TEST_POSIX 1
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

static void rand_points(int N, int d, double *X, uint64_t seed)
{
    sapm_rng rng;
    int k;
    sapm_rng_seed(&rng, seed);
    for (k = 0; k < N * d; ++k) X[k] = 2.0 * sapm_rng_uniform(&rng) - 1.0;
}

static const int shapes[][7] = {
    /* depth, n_0 .. n_L */
    {1, 2, 1},
    {2, 1, 5, 1},
    {3, 3, 4, 6, 2},
    {4, 2, 5, 3, 4, 3},
};

static void test_forward_derivs_fd(void)
{
    /* du/dx_i by central differences of u (h = 1e-5: error ~ h^2 + eps/h ~ 1e-10) and the
     * Laplacian both by central differences of the exact du/dx_i (same accuracy) and by the
     * three-point stencil of u (h = 1e-4: error ~ h^2 + eps/h^2 ~ 1e-8) */
    int a, s;
    for (a = 0; a < SAPM_ACT_COUNT; ++a) {
        for (s = 0; s < 4; ++s) {
            sapm_net net;
            int L = shapes[s][0], d = shapes[s][1], m = shapes[s][L + 1], N = 5, n, i, k;
            double X[5 * 3], U[5 * 3], dU[5 * 3 * 3], lap[5 * 3], U0[5 * 3];  /* d, m <= 3 */
            CHECK_EQ_INT(sapm_net_create(&net, L, shapes[s] + 1, (sapm_activation)a), SAPM_OK);
            CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_UNIFORM, 0.9, 100 + s), SAPM_OK);
            rand_points(N, d, X, 7 + s);
            CHECK_EQ_INT(sapm_net_forward_derivs(&net, N, X, d, U, m, dU, lap), SAPM_OK);
            CHECK_EQ_INT(sapm_net_forward(&net, N, X, d, U0, m), SAPM_OK);
            for (k = 0; k < N * m; ++k) CHECK_NEAR(U[k], U0[k], 1e-13 * (1.0 + fabs(U0[k])));
            for (n = 0; n < N; ++n) {
                double lap_fd[3] = {0, 0, 0}, lap_fd2[3] = {0, 0, 0};
                int kink = 0;
                for (i = 0; i < d; ++i) {
                    double xp[3], xm[3], up[3], um[3], dp[3 * 3], dm[3 * 3], lp[3], lm[3];
                    double h = 1e-5, h2 = 1e-4, up2[3], um2[3];
                    memcpy(xp, X + n * d, d * sizeof(double)); memcpy(xm, xp, sizeof xp);
                    xp[i] += h; xm[i] -= h;
                    sapm_net_forward_derivs(&net, 1, xp, d, up, m, dp, lp);
                    sapm_net_forward_derivs(&net, 1, xm, d, um, m, dm, lm);
                    xp[i] = X[n * d + i] + h2; xm[i] = X[n * d + i] - h2;
                    sapm_net_forward(&net, 1, xp, d, up2, m);
                    sapm_net_forward(&net, 1, xm, d, um2, m);
                    for (k = 0; k < m; ++k) {
                        double fd = (up[k] - um[k]) / (2 * h);
                        /* ReLU: a kink within +-h shows as unequal one-sided slopes */
                        if (a == SAPM_ACT_RELU &&
                            fabs(dp[k * d + i] - dm[k * d + i]) > 1e-9) { kink = 1; continue; }
                        CHECK_NEAR(dU[n * m * d + k * d + i], fd, 1e-8 * (1.0 + fabs(fd)));
                        lap_fd[k] += (dp[k * d + i] - dm[k * d + i]) / (2 * h);
                        lap_fd2[k] += (up2[k] - 2.0 * U[n * m + k] + um2[k]) / (h2 * h2);
                    }
                }
                if (kink) continue;
                for (k = 0; k < m; ++k) {
                    CHECK_NEAR(lap[n * m + k], lap_fd[k], 1e-7 * (1.0 + fabs(lap_fd[k])));
                    CHECK_NEAR(lap[n * m + k], lap_fd2[k], 1e-5 * (1.0 + fabs(lap_fd2[k])));
                }
            }
            /* the optional outputs are independent: dU only, lapU only. Asking for fewer
             * outputs changes the widths of the GEMMs the tape issues, and the kernels may
             * sum a column in a different order at a different width (edge micro-kernels),
             * so the values agree to rounding (a few ulp), not bit for bit. */
            {
                double dU2[5 * 3 * 3], lap2[5 * 3];
                CHECK_EQ_INT(sapm_net_forward_derivs(&net, N, X, d, U0, m, dU2, NULL), SAPM_OK);
                for (k = 0; k < N * m * d; ++k) CHECK_NEAR(dU[k], dU2[k], 1e-14 * (1.0 + fabs(dU[k])));
                CHECK_EQ_INT(sapm_net_forward_derivs(&net, N, X, d, U0, m, NULL, lap2), SAPM_OK);
                for (k = 0; k < N * m; ++k) CHECK_NEAR(lap[k], lap2[k], 1e-14 * (1.0 + fabs(lap[k])));
            }
            sapm_net_destroy(&net);
        }
    }
}

static void test_forward_derivs_blocks(void)
{
    /* more points than one tape block (128) and a row stride > d: the same numbers as one
     * point at a time */
    sapm_net net;
    int w[4] = {2, 7, 7, 1}, N = 300, n;
    double *X = (double *)malloc(N * 3 * sizeof(double)), *U = (double *)malloc(N * 2 * sizeof(double));
    double *dU = (double *)malloc(N * 2 * sizeof(double)), *lap = (double *)malloc(N * sizeof(double));
    sapm_net_create(&net, 3, w, SAPM_ACT_SIN);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3);
    rand_points(N, 3, X, 1);
    CHECK_EQ_INT(sapm_net_forward_derivs(&net, N, X, 3, U, 2, dU, lap), SAPM_OK);
    for (n = 0; n < N; n += 37) {
        double u1, d1[2], l1;
        sapm_net_forward_derivs(&net, 1, X + 3 * n, 3, &u1, 1, d1, &l1);
        /* not bitwise: the SIMD kernels treat a point differently in a vector body and in
         * a scalar tail (and GEMM blocking depends on the row count), so allow a few ulp */
        CHECK_NEAR(u1, U[2 * n], 1e-14 * (1.0 + fabs(u1)));
        CHECK_NEAR(d1[0], dU[2 * n], 1e-13 * (1.0 + fabs(d1[0])));
        CHECK_NEAR(d1[1], dU[2 * n + 1], 1e-13 * (1.0 + fabs(d1[1])));
        CHECK_NEAR(l1, lap[n], 1e-12 * (1.0 + fabs(l1)));
    }
    free(X); free(U); free(dU); free(lap);
    sapm_net_destroy(&net);
}

/* --- the tape's reverse pass on losses of derivatives --------------------------------- */

/* J = (1/N) sum_n sum_k [ c0 u_k + sum_i c_i du_k/dx_i + kappa Lap u_k - f_n ]^2, the PINN
 * residual form, evaluated through the public sapm_net_forward_derivs (the reference). */
typedef struct pde_case { int N, d, m, mode; const double *X, *c, *f; double c0, kappa; } pde_case;

static double pde_loss_ref(const sapm_net *net, const pde_case *p)
{
    int n, i, k, d = p->d, m = p->m;
    double *U = (double *)malloc(p->N * m * sizeof(double)), *dU = (double *)malloc(p->N * m * d * sizeof(double));
    double *lap = (double *)malloc(p->N * m * sizeof(double)), J = 0.0;
    sapm_net_forward_derivs(net, p->N, p->X, d, U, m, dU, lap);
    for (n = 0; n < p->N; ++n)
        for (k = 0; k < m; ++k) {
            double r = p->c0 * U[n * m + k] - p->f[n];
            if (p->mode >= SAPM__TAPE_GRAD) for (i = 0; i < d; ++i) r += p->c[i] * dU[n * m * d + k * d + i];
            if (p->mode >= SAPM__TAPE_LAP) r += p->kappa * lap[n * m + k];
            J += r * r;
        }
    free(U); free(dU); free(lap);
    return J / p->N;
}

/* The same J and its gradient on the tape: the adjoint of r^2/N is 2r/N times the
 * coefficient of each output row. */
static double pde_loss_tape(const sapm_net *net, const pde_case *p, double *grad)
{
    sapm__tape t;
    int n, i, k, d = p->d, m = p->m, N = p->N;
    const double *out;
    double J = 0.0, *adj;
    CHECK_EQ_INT(sapm__tape_init(&t, net, N, p->mode), SAPM_OK);
    CHECK_EQ_INT(sapm__tape_forward(&t, net->params, N, p->X, d), SAPM_OK);
    out = t.A[t.depth];
    adj = sapm__tape_adjoint(&t);
    for (n = 0; n < N; ++n)
        for (k = 0; k < m; ++k) {
            double r = p->c0 * out[n * m + k] - p->f[n];
            if (t.nd) for (i = 0; i < d; ++i) r += p->c[i] * out[((1 + i) * N + n) * m + k];
            if (t.nq) r += p->kappa * out[((1 + d) * N + n) * m + k];
            J += r * r;
            adj[n * m + k] = 2.0 * r / N * p->c0;
            if (t.nd) for (i = 0; i < d; ++i) adj[((1 + i) * N + n) * m + k] = 2.0 * r / N * p->c[i];
            if (t.nq) adj[((1 + d) * N + n) * m + k] = 2.0 * r / N * p->kappa;
        }
    memset(grad, 0, net->n_params * sizeof(double));
    CHECK_EQ_INT(sapm__tape_backward(&t, net->params, grad), SAPM_OK);
    sapm__tape_free(&t);
    return J / N;
}

static void test_forward_derivs_high_dim(void)
{
    /* d = 20000, net d-3-2-1 tanh, 2 points: du/dx_i and the Laplacian against the chain
     * rule written out with plain loops (s_l, t_l = sigma', sigma'' at z_l):
     *   D_1 = W_1,  D_2 = W_2 diag(s_1) W_1,  du/dx = W_3 diag(s_2) D_2,
     *   Lap z_2,k = sum_j W_2[k,j] t_1,j ||row j of W_1||^2,
     *   Lap u = sum_k W_3[k] (t_2,k ||row k of D_2||^2 + s_2,k Lap z_2,k).
     * The tape folds layer 1 (d_{1,i} = column i of W_1): its largest allocation is the
     * stream stack, 8 (d + 2) N (2 (3 + 2 + 1) + 2 3) bytes ~ 5.8 MB, so 64 MB is the limit
     * here (the unfolded tape asked for the (d + 2) N x d unit-vector block, 6.4 GB) */
    enum { D = 20000, N = 2 };
    int w[4] = {D, 3, 2, 1}, n, i, j, k, bad = 0;
    sapm_net net;
    double *X = (double *)malloc((size_t)N * D * sizeof(double));
    double *dU = (double *)malloc((size_t)N * D * sizeof(double)), *D2 = (double *)malloc(2 * (size_t)D * sizeof(double));
    double U[N], lap[N], rn1[3];
    CHECK_EQ_INT(sapm_net_create(&net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 17), SAPM_OK);
    for (j = 0; j < 3; ++j) net.b[0][j] = 0.3 * (j - 1);
    rand_points(N, D, X, 23);
    sapm_test_largest_alloc = 0;
    sapm_test_alloc_limit = (size_t)64 << 20;
    CHECK_EQ_INT(sapm_net_forward_derivs(&net, N, X, D, U, 1, dU, lap), SAPM_OK);
    sapm_test_alloc_limit = 0;
    CHECK(sapm_test_largest_alloc < ((size_t)64 << 20));
    for (j = 0; j < 3; ++j) {
        rn1[j] = 0.0;
        for (i = 0; i < D; ++i) rn1[j] += net.W[0][j * D + i] * net.W[0][j * D + i];
    }
    for (n = 0; n < N; ++n) {
        double z1[3], s1[3], t1[3], z2[2], s2[2], t2[2], lz2[2], u = net.b[2][0], lu = 0.0;
        for (j = 0; j < 3; ++j) {
            double h;
            z1[j] = net.b[0][j];
            for (i = 0; i < D; ++i) z1[j] += net.W[0][j * D + i] * X[(size_t)n * D + i];
            h = tanh(z1[j]);
            s1[j] = 1.0 - h * h; t1[j] = -2.0 * h * s1[j];
            z1[j] = h;
        }
        for (k = 0; k < 2; ++k) {
            double h, r2 = 0.0;
            z2[k] = net.b[1][k]; lz2[k] = 0.0;
            for (j = 0; j < 3; ++j) { z2[k] += net.W[1][k * 3 + j] * z1[j]; lz2[k] += net.W[1][k * 3 + j] * t1[j] * rn1[j]; }
            h = tanh(z2[k]);
            s2[k] = 1.0 - h * h; t2[k] = -2.0 * h * s2[k];
            u += net.W[2][k] * h;
            for (i = 0; i < D; ++i) {
                double v = 0.0;
                for (j = 0; j < 3; ++j) v += net.W[1][k * 3 + j] * s1[j] * net.W[0][j * D + i];
                D2[(size_t)k * D + i] = v;
                r2 += v * v;
            }
            lu += net.W[2][k] * (t2[k] * r2 + s2[k] * lz2[k]);
        }
        CHECK_NEAR(U[n], u, 1e-13 * (1.0 + fabs(u)));
        CHECK_NEAR(lap[n], lu, 1e-12 * (1.0 + fabs(lu)));
        for (i = 0; i < D; ++i) {
            double g = net.W[2][0] * s2[0] * D2[i] + net.W[2][1] * s2[1] * D2[D + i];
            bad += !(fabs(dU[(size_t)n * D + i] - g) <= 1e-14 * (1.0 + fabs(g)));
        }
    }
    CHECK_EQ_INT(bad, 0);
    free(X); free(dU); free(D2);
    sapm_net_destroy(&net);
}

static double hd_one(const double *x, int d, void *u) { (void)x; (void)d; (void)u; return 1.0; }
static double hd_zero(const double *x, int d, void *u) { (void)x; (void)d; (void)u; return 0.0; }

static void test_lysep_memory_high_dim(void)
{
    /* LySep (Poisson in d = 1000, net d-3-3-1, 4 + 4 points): its work buffers have the
     * widths of layers 1..L, so the largest allocation is the first weight block's Gram
     * matrix and right-hand side, 8 (d + 1)(d + 1 + 3) bytes = 8 MB (the buffers sized by
     * n_0 = d took N d^2 doubles each: 32 MB); one outer iteration then lowers J_aux
     * (measured 2.6 -> 0.22 at d = 1500) */
    enum { D = 1000, NI = 4, NB = 4 };
    int w[4] = {D, 3, 3, 1}, i;
    sapm_net net;
    sapm_pde pde;
    sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_SAPM);
    sapm_pde_aux_state *st = NULL;
    double *lo = (double *)calloc(D, sizeof(double)), *hi = (double *)malloc(D * sizeof(double));
    double *X = (double *)malloc((size_t)NI * D * sizeof(double)), *Xb = (double *)malloc((size_t)NB * D * sizeof(double));
    double ja0, jp0, ja1, jp1;
    sapm_rng rng;
    size_t gram = (size_t)8 * (D + 1) * (D + 1 + 3);
    for (i = 0; i < D; ++i) hi[i] = 1.0;
    sapm_rng_seed(&rng, 8);
    CHECK_EQ_INT(sapm_sample_uniform(D, lo, hi, NI, &rng, X), SAPM_OK);
    CHECK_EQ_INT(sapm_sample_boundary(D, lo, hi, NULL, NB, &rng, Xb), SAPM_OK);
    CHECK_EQ_INT(sapm_net_create(&net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 2), SAPM_OK);
    memset(&pde, 0, sizeof pde);
    pde.d = D; pde.kappa_const = -1.0; pde.f = hd_one; pde.g = hd_zero;
    sapm_test_largest_alloc = 0;
    sapm_test_alloc_limit = 2 * gram;
    CHECK_EQ_INT(sapm_pde_aux_create(&st, &net, &pde, NI, X, NB, Xb, &o), SAPM_OK);
    sapm_test_alloc_limit = 0;
    CHECK(sapm_test_largest_alloc <= gram);
    if (st) {
        CHECK_EQ_INT(sapm_pde_aux_losses(st, &ja0, &jp0), SAPM_OK);
        CHECK_EQ_INT(sapm_pde_aux_step(st), SAPM_OK);
        CHECK_EQ_INT(sapm_pde_aux_losses(st, &ja1, &jp1), SAPM_OK);
        CHECK(ja1 <= ja0);                      /* every block step lowers J_aux */
        sapm_pde_aux_destroy(st);
    }
    free(lo); free(hi); free(X); free(Xb);
    sapm_net_destroy(&net);
}

static void test_tape_gradient_fd(void)
{
    /* every activation with sigma'' (ReLU has none), all shapes, the three tape modes;
     * central differences in the parameters with h = 1e-6 */
    int a, s, mode;
    for (a = 0; a < SAPM_ACT_COUNT; ++a) {
        if (a == SAPM_ACT_RELU) continue;
        for (s = 0; s < 4; ++s) {
            for (mode = SAPM__TAPE_VALUE; mode <= SAPM__TAPE_LAP; ++mode) {
                sapm_net net;
                int L = shapes[s][0], d = shapes[s][1], m = shapes[s][L + 1], N = 6;
                double X[6 * 3], f[6], c[3] = {0.7, -1.3, 0.4}, *g, J;
                pde_case p;
                size_t q;
                sapm_net_create(&net, L, shapes[s] + 1, (sapm_activation)a);
                sapm_net_init(&net, SAPM_INIT_UNIFORM, 0.9, 200 + s);
                rand_points(N, d, X, 9 + s);
                rand_points(N, 1, f, 19 + s);
                p.N = N; p.d = d; p.m = m; p.mode = mode; p.X = X; p.c = c; p.f = f;
                p.c0 = 0.6; p.kappa = -0.8;
                g = (double *)malloc(net.n_params * sizeof(double));
                J = pde_loss_tape(&net, &p, g);
                CHECK_REL(J, pde_loss_ref(&net, &p), 1e-12, 1e-300);
                for (q = 0; q < net.n_params; ++q) {
                    const double h = 1e-6;
                    double save = net.params[q], fp, fm, fd;
                    net.params[q] = save + h; fp = pde_loss_ref(&net, &p);
                    net.params[q] = save - h; fm = pde_loss_ref(&net, &p);
                    net.params[q] = save;
                    fd = (fp - fm) / (2 * h);
                    CHECK_NEAR(g[q], fd, 1e-7 * (1.0 + fabs(fd)));
                }
                free(g);
                sapm_net_destroy(&net);
            }
        }
    }
}

static void test_tape_matches_net_gradient(void)
{
    /* the tape in value mode with adjoint 2(u - y)/N is sapm_net_gradient, bit for bit */
    sapm_net net;
    int w[4] = {2, 6, 5, 2}, N = 9, n, k;
    double X[18], Y[18], *g1, *g2, j;
    sapm__tape t;
    size_t q;
    sapm_net_create(&net, 3, w, SAPM_ACT_GELU);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 5);
    rand_points(N, 2, X, 1);
    rand_points(N, 2, Y, 2);
    g1 = (double *)malloc(net.n_params * sizeof(double));
    g2 = (double *)calloc(net.n_params, sizeof(double));
    CHECK_EQ_INT(sapm_net_gradient(&net, N, X, 2, Y, 2, &j, g1), SAPM_OK);
    sapm__tape_init(&t, &net, N, SAPM__TAPE_VALUE);
    sapm__tape_forward(&t, net.params, N, X, 2);
    for (n = 0; n < N; ++n)
        for (k = 0; k < 2; ++k) t.adj[n * 2 + k] = (2.0 / N) * (t.A[3][n * 2 + k] - Y[n * 2 + k]);
    sapm__tape_backward(&t, net.params, g2);
    for (q = 0; q < net.n_params; ++q) CHECK(g1[q] == g2[q]);
    sapm__tape_free(&t);
    free(g1); free(g2);
    sapm_net_destroy(&net);
}

/* --- initialisation --------------------------------------------------------------------- */

static void test_init_reproducible(void)
{
    sapm_net a, b;
    int w[4] = {3, 20, 20, 2};
    size_t i;
    double r;
    sapm_net_create(&a, 3, w, SAPM_ACT_TANH);
    sapm_net_create(&b, 3, w, SAPM_ACT_TANH);
    CHECK_EQ_INT(sapm_net_init(&a, SAPM_INIT_UNIFORM, 0.5, 42), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&b, SAPM_INIT_UNIFORM, 0.5, 42), SAPM_OK);
    CHECK(memcmp(a.params, b.params, a.n_params * sizeof(double)) == 0);
    for (i = 0; i < a.n_params; ++i) CHECK(fabs(a.params[i]) < 0.5);
    CHECK_EQ_INT(sapm_net_init(&b, SAPM_INIT_UNIFORM, 0.5, 43), SAPM_OK);
    CHECK(memcmp(a.params, b.params, a.n_params * sizeof(double)) != 0);
    CHECK_EQ_INT(sapm_net_init(&a, SAPM_INIT_XAVIER, 1.0, 42), SAPM_OK);
    r = sqrt(6.0 / 40.0);
    for (i = 0; i < 400; ++i) CHECK(fabs(a.W[1][i]) < r);
    for (i = 0; i < 20; ++i) CHECK(a.b[1][i] == 0.0);
    sapm_net_destroy(&a); sapm_net_destroy(&b);
}


/* --- model files ----------------------------------------------------------------------- */

static void test_save_load_roundtrip(void)
{
    sapm_net a, b;
    int w[4] = {3, 7, 5, 2};
    size_t size, written;
    unsigned char *buf;
    memset(&b, 0, sizeof b);
    sapm_net_create(&a, 3, w, SAPM_ACT_GELU);
    sapm_net_init(&a, SAPM_INIT_UNIFORM, 1.0, 77);
    a.params[0] = -0.0;                       /* signs of zeros and tiny values survive */
    a.params[1] = 4.9406564584124654e-324;
    size = sapm_net_file_size(&a);
    CHECK_EQ_INT(size, 32 + 4 * 4 + 8 * a.n_params + 8);
    buf = (unsigned char *)malloc(size);
    CHECK_EQ_INT(sapm_net_save_mem(&a, buf, size, &written), SAPM_OK);
    CHECK_EQ_INT(written, size);
    CHECK(memcmp(buf, "SAPMNET", 8) == 0);
    CHECK(buf[8] == 1 && buf[9] == 0 && buf[16] == 3 && buf[20] == SAPM_ACT_GELU);
    CHECK_EQ_INT(sapm_net_load_mem(&b, buf, size), SAPM_OK);
    CHECK_EQ_INT(b.depth, 3);
    CHECK(b.act == SAPM_ACT_GELU);
    CHECK(memcmp(b.widths, a.widths, 4 * sizeof(int)) == 0);
    CHECK_EQ_INT(b.n_params, a.n_params);
    CHECK(memcmp(a.params, b.params, a.n_params * sizeof(double)) == 0);
    CHECK(b.W[2] == b.params + (7 * 3 + 7) + (5 * 7 + 5));
    /* loading again into a live net replaces it (no leak under ASan) */
    CHECK_EQ_INT(sapm_net_load_mem(&b, buf, size), SAPM_OK);
#ifndef SAPM_NO_STDIO
    {
        sapm_net c;
        const char *path = "build/test_net_roundtrip.sapm";
        FILE *f;
        memset(&c, 0, sizeof c);
        f = fopen(path, "wb");
        if (!f) path = "test_net_roundtrip.sapm";    /* not run from the repository root */
        else fclose(f);
        CHECK_EQ_INT(sapm_net_save(&a, path), SAPM_OK);
        CHECK_EQ_INT(sapm_net_load(&c, path), SAPM_OK);
        CHECK(c.n_params == a.n_params && memcmp(a.params, c.params, a.n_params * sizeof(double)) == 0);
        remove(path);
        CHECK_EQ_INT(sapm_net_load(&c, path), SAPM_ERR_IO);          /* gone */
        CHECK_EQ_INT(sapm_net_save(&a, "/nonexistent-dir/x.sapm"), SAPM_ERR_IO);
        CHECK_EQ_INT(sapm_net_save(NULL, path), SAPM_ERR_NULL_ARGUMENT);
        CHECK_EQ_INT(sapm_net_save(&a, NULL), SAPM_ERR_NULL_ARGUMENT);
        CHECK_EQ_INT(sapm_net_load(NULL, path), SAPM_ERR_NULL_ARGUMENT);
        CHECK_EQ_INT(sapm_net_load(&c, NULL), SAPM_ERR_NULL_ARGUMENT);
        sapm_net_destroy(&c);
    }
#endif
    free(buf);
    sapm_net_destroy(&a);
    sapm_net_destroy(&b);
}

static void test_load_rejects_damage(void)
{
    /* every truncation and every single-bit flip of a small file is rejected (FNV-1a
     * detects every single-byte change: each step is a bijection of the state), and the
     * destination net is left exactly as it was */
    sapm_net a, dst;
    int w[3] = {2, 3, 1}, wd[3] = {1, 2, 1};
    size_t size, k;
    int bit;
    unsigned char *buf;
    double *keep;
    sapm_net_create(&a, 2, w, SAPM_ACT_TANH);
    sapm_net_init(&a, SAPM_INIT_UNIFORM, 1.0, 5);
    sapm_net_create(&dst, 2, wd, SAPM_ACT_SIN);
    sapm_net_init(&dst, SAPM_INIT_UNIFORM, 1.0, 6);
    keep = (double *)malloc(dst.n_params * sizeof(double));
    memcpy(keep, dst.params, dst.n_params * sizeof(double));
    size = sapm_net_file_size(&a);
    buf = (unsigned char *)malloc(size + 1);
    CHECK_EQ_INT(sapm_net_save_mem(&a, buf, size, NULL), SAPM_OK);
    for (k = 0; k < size; ++k) {
        sapm_result r = sapm_net_load_mem(&dst, buf, k);
        CHECK(r == SAPM_ERR_CORRUPT || r == SAPM_ERR_BAD_FORMAT);
    }
    buf[size] = 0;
    CHECK_EQ_INT(sapm_net_load_mem(&dst, buf, size + 1), SAPM_ERR_CORRUPT);  /* trailing byte */
    for (k = 0; k < size; ++k) {
        for (bit = 0; bit < 8; ++bit) {
            sapm_result r;
            buf[k] ^= (unsigned char)(1u << bit);
            r = sapm_net_load_mem(&dst, buf, size);
            CHECK(r == SAPM_ERR_CORRUPT || r == SAPM_ERR_BAD_FORMAT);
            buf[k] ^= (unsigned char)(1u << bit);
        }
    }
    CHECK_EQ_INT(dst.depth, 2);
    CHECK(dst.act == SAPM_ACT_SIN && dst.widths[0] == 1 && dst.n_params == 7);
    CHECK(memcmp(keep, dst.params, dst.n_params * sizeof(double)) == 0);
    /* other format errors: version 2 (hash fixed up) is BAD_FORMAT, not CORRUPT */
    buf[8] = 2;
    {
        uint64_t h = 0xcbf29ce484222325ull;
        for (k = 0; k + 8 < size; ++k) { h ^= buf[k]; h *= 0x100000001b3ull; }
        for (k = 0; k < 8; ++k) buf[size - 8 + k] = (unsigned char)(h >> (8 * k));
    }
    CHECK_EQ_INT(sapm_net_load_mem(&dst, buf, size), SAPM_ERR_BAD_FORMAT);
    CHECK_EQ_INT(sapm_net_load_mem(&dst, "PNG\x89xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 40), SAPM_ERR_BAD_FORMAT);
    CHECK(memcmp(keep, dst.params, dst.n_params * sizeof(double)) == 0);
    /* argument checks */
    CHECK_EQ_INT(sapm_net_load_mem(NULL, buf, size), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_load_mem(&dst, NULL, size), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_save_mem(NULL, buf, size, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_save_mem(&a, NULL, size, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_save_mem(&a, buf, size - 1, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_net_file_size(NULL), 0);
    a.params[2] = NAN;
    CHECK_EQ_INT(sapm_net_save_mem(&a, buf, size, NULL), SAPM_ERR_NONFINITE_INPUT);
    free(buf);
    free(keep);
    sapm_net_destroy(&a);
    sapm_net_destroy(&dst);
}

#ifndef SAPM_NO_STDIO
static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(p, 1, n, f) == n);
    fclose(f);
}

static int same_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b = (unsigned char *)malloc(n + 1);
    int same = f && b && fread(b, 1, n + 1, f) == n && memcmp(b, p, n) == 0;
    if (f) fclose(f);
    free(b);
    return same;
}
#endif

/* sapm_net_load reads the header, then only the size it states: a large file that is no
 * model allocates nothing, trailing and missing bytes are rejected, a FIFO or a device
 * is refused without a read (a FIFO without a writer would block; /dev/zero never ends).
 * sapm_net_save into a file it cannot finish (a file-size limit stands in for a full
 * disk) leaves the old file as it was, with no temporary file left behind. */
static void test_load_file_bounds(void)
{
#ifndef SAPM_NO_STDIO
    sapm_net a, dst;
    int w[3] = {2, 3, 1};
    size_t size, junk = (size_t)1 << 20;
    unsigned char *buf, *big;
    char path[400], tmp[440];
    const char *dir = getenv("TMPDIR");
    double keep;
    snprintf(path, sizeof path, "%s/sapm_test_net_%lu.sapm", dir ? dir : "/tmp",
             (unsigned long)((size_t)&a >> 4) & 0xFFFFFFul);
    memset(&dst, 0, sizeof dst);
    sapm_net_create(&a, 2, w, SAPM_ACT_TANH);
    sapm_net_init(&a, SAPM_INIT_UNIFORM, 1.0, 3);
    size = sapm_net_file_size(&a);
    buf = (unsigned char *)malloc(size + 1);
    big = (unsigned char *)calloc(junk, 1);
    CHECK_EQ_INT(sapm_net_save_mem(&a, buf, size, NULL), SAPM_OK);
    CHECK_EQ_INT(sapm_net_load_mem(&dst, buf, size), SAPM_OK);
    keep = dst.params[0];
    memset(big, 'x', junk);
    write_bytes(path, big, junk);                 /* 1 MiB of something else */
    sapm_test_largest_alloc = 0;
    CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_ERR_BAD_FORMAT);
    CHECK(sapm_test_largest_alloc < 4096);
    memcpy(big, buf, size);                       /* a real header, then junk: P says 25 */
    write_bytes(path, big, junk);
    sapm_test_largest_alloc = 0;
    CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_ERR_CORRUPT);
    CHECK(sapm_test_largest_alloc <= size + 1);
    memcpy(big, buf, size);                       /* a header claiming P = 2^40 in 1 MiB */
    big[24 + 5] = 1;
    write_bytes(path, big, junk);
    sapm_test_largest_alloc = 0;
    CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_ERR_BAD_FORMAT);
    CHECK(sapm_test_largest_alloc <= 2 * junk);
    buf[size] = 0;
    write_bytes(path, buf, size + 1);             /* one trailing byte */
    CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_ERR_CORRUPT);
    write_bytes(path, buf, size - 1);             /* one byte short */
    CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_ERR_CORRUPT);
    write_bytes(path, buf, 20);                   /* inside the header */
    CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_ERR_CORRUPT);
    write_bytes(path, buf, 0);
    CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_ERR_CORRUPT);
    CHECK(dst.params[0] == keep && dst.n_params == a.n_params);
    write_bytes(path, buf, size);
    CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_OK);
#ifdef TEST_POSIX
    {
        struct rlimit old, lim;
        struct stat st;
        snprintf(tmp, sizeof tmp, "%s.tmp-%lx-0", path, (unsigned long)getpid());
        /* a save that cannot finish: the old file survives whole */
        CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
        lim = old;
        lim.rlim_cur = 100;
        signal(SIGXFSZ, SIG_IGN);
        a.params[0] += 1.0;
        if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
            sapm_result r = sapm_net_save(&a, path);
            setrlimit(RLIMIT_FSIZE, &old);
            CHECK_EQ_INT(r, SAPM_ERR_IO);
            CHECK(same_bytes(path, buf, size));
            CHECK(stat(tmp, &st) != 0);           /* no temporary file left */
        }
        signal(SIGXFSZ, SIG_DFL);
        CHECK_EQ_INT(sapm_net_save(&a, path), SAPM_OK);  /* and with room it replaces it */
        CHECK(!same_bytes(path, buf, size) && stat(tmp, &st) != 0);
        CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_OK);
        CHECK(dst.params[0] == a.params[0]);
        remove(path);
        /* a FIFO: refused at once (without the check the open blocks: alarm ends it) */
        if (mkfifo(path, 0600) == 0) {
            alarm(20);
            CHECK_EQ_INT(sapm_net_load(&dst, path), SAPM_ERR_IO);
            alarm(0);
            remove(path);
        }
        if (stat("/dev/zero", &st) == 0) CHECK_EQ_INT(sapm_net_load(&dst, "/dev/zero"), SAPM_ERR_IO);
        CHECK_EQ_INT(sapm_net_load(&dst, "/"), SAPM_ERR_IO);
        CHECK(dst.params[0] == a.params[0]);
    }
#else
    (void)tmp;
#endif
    remove(path);
    free(buf);
    free(big);
    sapm_net_destroy(&a);
    sapm_net_destroy(&dst);
#endif
}

/* A copy onto itself changes nothing and leaks nothing (LeakSanitizer in the ASan build). */
static void test_copy_self(void)
{
    sapm_net a, b;
    int w[3] = {2, 5, 1};
    double *keep;
    sapm_net_create(&a, 2, w, SAPM_ACT_TANH);
    sapm_net_init(&a, SAPM_INIT_UNIFORM, 1.0, 9);
    keep = (double *)malloc(a.n_params * sizeof(double));
    memcpy(keep, a.params, a.n_params * sizeof(double));
    CHECK_EQ_INT(sapm_net_copy(&a, &a), SAPM_OK);
    CHECK(a.depth == 2 && a.widths[1] == 5 && a.n_params == 21);
    CHECK(memcmp(keep, a.params, a.n_params * sizeof(double)) == 0);
    CHECK_EQ_INT(sapm_net_copy(&b, &a), SAPM_OK);
    CHECK(b.params != a.params && memcmp(keep, b.params, b.n_params * sizeof(double)) == 0);
    free(keep);
    sapm_net_destroy(&a);
    sapm_net_destroy(&b);
}

static void test_net_bad_arguments(void)
{
    sapm_net net, empty;
    int w[3] = {2, 4, 1};
    double X[4] = {0.1, 0.2, 0.3, 0.4}, U[2], dU[4], lap[2];
    memset(&empty, 0, sizeof empty);
    sapm_net_create(&net, 2, w, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_UNIFORM, 1.0, 1);
    CHECK_EQ_INT(sapm_net_forward_derivs(NULL, 2, X, 2, U, 1, dU, lap), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_forward_derivs(&empty, 2, X, 2, U, 1, dU, lap), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_net_forward_derivs(&net, 2, NULL, 2, U, 1, dU, lap), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_forward_derivs(&net, 2, X, 2, NULL, 1, dU, lap), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_net_forward_derivs(&net, 0, X, 2, U, 1, dU, lap), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_net_forward_derivs(&net, 2, X, 1, U, 1, dU, lap), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_net_forward_derivs(&net, 2, X, 2, U, 0, dU, lap), SAPM_ERR_SIZE_MISMATCH);
    X[1] = NAN;
    CHECK_EQ_INT(sapm_net_forward_derivs(&net, 2, X, 2, U, 1, dU, lap), SAPM_ERR_NONFINITE_INPUT);
    CHECK_EQ_INT(sapm_net_forward(&net, 2, X, 2, U, 1), SAPM_ERR_NONFINITE_INPUT);
    X[1] = INFINITY;
    CHECK_EQ_INT(sapm_net_forward(&net, 2, X, 2, U, 1), SAPM_ERR_NONFINITE_INPUT);
    X[1] = 0.2;
    CHECK_EQ_INT(sapm_net_forward_derivs(&net, 2, X, 2, U, 1, NULL, NULL), SAPM_OK);
    { sapm__tape t; CHECK_EQ_INT(sapm__tape_init(&t, &net, 0, SAPM__TAPE_LAP), SAPM_ERR_INVALID_SIZE); }
    sapm_net_destroy(&net);
}

static void run_net_tests(void)
{
    RUN(test_forward_derivs_fd);
    RUN(test_forward_derivs_blocks);
    RUN(test_forward_derivs_high_dim);
    RUN(test_lysep_memory_high_dim);
    RUN(test_tape_gradient_fd);
    RUN(test_tape_matches_net_gradient);
    RUN(test_init_reproducible);
    RUN(test_save_load_roundtrip);
    RUN(test_load_rejects_damage);
    RUN(test_load_file_bounds);
    RUN(test_copy_self);
    RUN(test_net_bad_arguments);
}

#ifndef SAPM_TEST_UNITY
int main(void)
{
    run_net_tests();
    return sapm_test_summary();
}
#endif
