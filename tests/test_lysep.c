/* SAPM-PINN and LySep: the consistency bound J_PINN <= C J_aux on random states, the
 * closed-form blocks against their definitions (gradients by central differences), the
 * forward-pass initialisation, small transport / Poisson problems solved to a stated
 * error, bad options. */
#ifndef SAPM_TEST_UNITY /* else tests/sapm_impl.c holds the implementation */
#define SAPM_IMPLEMENTATION
#endif
#include "sapm.h"
#include "sapm_test.h"

#define LYSEP_PI 3.14159265358979323846

/* ---- a random evaluated problem (first or second order) ------------------------------ */

typedef struct prob {
    int d, N, M;
    double X[40 * 3], Xb[20 * 3], c[40 * 3], kappa[40], c0[40], f[40], g[20];
    sapm__pde_data p;
} prob;

static void make_prob(prob *P, int d, int N, int M, int second, uint64_t seed)
{
    sapm_rng rng;
    int i;
    sapm_rng_seed(&rng, seed);
    P->d = d; P->N = N; P->M = M;
    for (i = 0; i < N * d; ++i) P->X[i] = sapm_rng_uniform(&rng);
    for (i = 0; i < M * d; ++i) P->Xb[i] = sapm_rng_uniform(&rng);
    for (i = 0; i < N * d; ++i) P->c[i] = 2.0 * sapm_rng_uniform(&rng) - 1.0;
    for (i = 0; i < N; ++i) {
        P->kappa[i] = -0.5 - sapm_rng_uniform(&rng);
        P->c0[i] = sapm_rng_normal(&rng);
        P->f[i] = sapm_rng_normal(&rng);
    }
    for (i = 0; i < M; ++i) P->g[i] = sapm_rng_normal(&rng);
    memset(&P->p, 0, sizeof P->p);
    P->p.d = d; P->p.N = N; P->p.M = M;
    P->p.X = P->X; P->p.Xb = P->Xb; P->p.f = P->f; P->p.g = P->g;
    P->p.c = P->c;
    P->p.c0 = P->c0;
    P->p.kappa = second ? P->kappa : NULL;
    P->p.alpha = 1.0 + sapm_rng_uniform(&rng);
    P->p.beta = 0.5 + sapm_rng_uniform(&rng);
}

/* Random auxiliaries around (or far from) the forward pass. */
static void random_aux(sapm__lysep *S, double s, sapm_rng *rng)
{
    int l;
    for (l = 1; l < S->L; ++l) {
        size_t n = (size_t)S->net->widths[l], i;
        for (i = 0; i < (size_t)S->R * n; ++i) S->A[l][i] = S->Z[l][i] + s * sapm_rng_normal(rng);
        for (i = 0; i < (size_t)S->N * S->K * n; ++i) S->D[l][i] = S->DZ[l][i] + s * sapm_rng_normal(rng);
        if (S->Q[l])
            for (i = 0; i < (size_t)S->N * n; ++i) S->Q[l][i] = S->QZ[l][i] + s * sapm_rng_normal(rng);
    }
}

/* ---- the bound J_PINN <= C J_aux on random states ------------------------------------ */

static void test_bound_random_states(void)
{
    static const sapm_activation acts[4] = {SAPM_ACT_TANH, SAPM_ACT_SIN, SAPM_ACT_SIGMOID, SAPM_ACT_GELU};
    int second, a, depth, trial, fails = 0, checks = 0;
    double worst = 0.0;
    for (second = 0; second <= 1; ++second)
        for (a = 0; a < 4; ++a)
            for (depth = 2; depth <= 4; ++depth)
                for (trial = 0; trial < 6; ++trial) {
                    prob P;
                    sapm_net net;
                    sapm__lysep S;
                    sapm_rng rng;
                    int widths[5], l;
                    double jp, jp_ref = NAN, ja, C, scale;
                    widths[0] = 2;
                    for (l = 1; l < depth; ++l) widths[l] = 3 + (l + trial) % 3;
                    widths[depth] = 1;
                    make_prob(&P, 2, 7, 5, second, 100u + (uint64_t)trial);
                    CHECK_EQ_INT(sapm_net_create(&net, depth, widths, acts[a]), SAPM_OK);
                    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_UNIFORM, 0.5 + 0.5 * trial, 7u + (uint64_t)trial), SAPM_OK);
                    CHECK_EQ_INT(sapm__lysep_alloc(&S, &net, &P.p, second), SAPM_OK);
                    S.weighting = SAPM__LYSEP_WEIGHTS_ADAPTIVE;
                    jp = sapm__lysep_forward(&S);
                    /* the forward pass agrees with pinn's J_PINN */
                    CHECK_EQ_INT(sapm__pde_loss(&net, &P.p, &jp_ref), SAPM_OK);
                    CHECK_REL(jp, jp_ref, 1e-11, 1e-300);
                    sapm_rng_seed(&rng, 1000u + (uint64_t)(trial + 10 * a + 100 * depth));
                    scale = trial < 2 ? 1e-3 : (trial < 4 ? 0.3 : 3.0);
                    random_aux(&S, scale, &rng);
                    sapm__lysep_weights(&S);
                    ja = sapm__lysep_jaux(&S);
                    C = sapm_lysep_bound_constant(depth, second);
                    ++checks;
                    if (!(jp <= C * ja)) ++fails;
                    if (jp / (C * ja) > worst) worst = jp / (C * ja);
                    sapm__lysep_free(&S);
                    sapm_net_destroy(&net);
                }
    CHECK_EQ_INT(fails, 0);
    CHECK(checks == 144);
    CHECK(worst <= 1.0);
    /* the bound is not vacuous: some state comes within a factor 100 of it */
    CHECK(worst > 1e-2);
}

/* Auxiliaries = forward pass: every constraint residual is zero, J_aux = J_PINN. */
static void test_forward_init_consistent(void)
{
    int second;
    for (second = 0; second <= 1; ++second) {
        prob P;
        sapm_net net;
        sapm__lysep S;
        int widths[4] = {3, 5, 4, 1};
        double jp, ja, vg, dg;
        make_prob(&P, 3, 9, 6, second, 5);
        CHECK_EQ_INT(sapm_net_create(&net, 3, widths, SAPM_ACT_TANH), SAPM_OK);
        CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3), SAPM_OK);
        CHECK_EQ_INT(sapm__lysep_alloc(&S, &net, &P.p, second), SAPM_OK);
        jp = sapm__lysep_forward(&S);
        sapm__lysep_aux_from_forward(&S);
        sapm__lysep_weights(&S);
        ja = sapm__lysep_jaux(&S);
        CHECK_REL(ja, jp, 1e-12, 1e-300);
        sapm__lysep_gaps(&S, &vg, &dg);
        CHECK(vg == 0.0 && dg == 0.0);
        /* the derivative auxiliaries are true directional derivatives: central differences */
        {
            int i, j, n1 = widths[1], n2 = widths[2], k, K = S.K;
            double h = 1e-5;
            for (i = 0; i < 3; ++i)
                for (k = 0; k < K; ++k) {
                    double xp[3], xm[3], v[3], zp[8], zm[8];
                    sapm_net sub;
                    int sw[3];
                    for (j = 0; j < 3; ++j) v[j] = second ? (j == k) : P.c[i * 3 + j];
                    for (j = 0; j < 3; ++j) { xp[j] = P.X[i * 3 + j] + h * v[j]; xm[j] = P.X[i * 3 + j] - h * v[j]; }
                    /* z_2 of the two-layer prefix network (pre-activation of hidden layer 2) */
                    sw[0] = 3; sw[1] = n1; sw[2] = n2;
                    CHECK_EQ_INT(sapm_net_create(&sub, 2, sw, SAPM_ACT_TANH), SAPM_OK);
                    memcpy(sub.params, net.params, sub.n_params * sizeof(double));
                    sapm_net_forward(&sub, 1, xp, 3, zp, n2);
                    sapm_net_forward(&sub, 1, xm, 3, zm, n2);
                    for (j = 0; j < n2; ++j)
                        CHECK_NEAR(S.D[2][((size_t)i * K + k) * n2 + j], (zp[j] - zm[j]) / (2 * h), 1e-8);
                    sapm_net_destroy(&sub);
                }
        }
        sapm__lysep_free(&S);
        sapm_net_destroy(&net);
    }
}

/* ---- closed-form weight block: the gradient of J_aux in (W_l, b_l) vanishes ----------- */

static double grad_norm_W(sapm__lysep *S, int l)
{
    sapm_net *net = S->net;
    size_t nw = (size_t)net->widths[l] * (net->widths[l - 1] + 1), i;
    double *w = net->W[l - 1], s = 0.0, h = 1e-6; /* W_l then b_l are contiguous */
    for (i = 0; i < nw; ++i) {
        double o = w[i], jp, jm, gr;
        w[i] = o + h; jp = sapm__lysep_jaux(S);
        w[i] = o - h; jm = sapm__lysep_jaux(S);
        w[i] = o;
        gr = (jp - jm) / (2 * h);
        s += gr * gr;
    }
    return sqrt(s);
}

static void test_weight_block_minimiser(void)
{
    int second;
    for (second = 0; second <= 1; ++second) {
        prob P;
        sapm_net net;
        sapm__lysep S;
        sapm_options base = sapm_default_options(SAPM_METHOD_SAPM);
        sapm_rng rng;
        int widths[4] = {2, 4, 3, 1}, l;
        make_prob(&P, 2, 12, 6, second, 11);
        CHECK_EQ_INT(sapm_net_create(&net, 3, widths, SAPM_ACT_TANH), SAPM_OK);
        CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_UNIFORM, 0.8, 4), SAPM_OK);
        CHECK_EQ_INT(sapm__lysep_alloc(&S, &net, &P.p, second), SAPM_OK);
        S.weighting = SAPM__LYSEP_WEIGHTS_ADAPTIVE;
        S.prox = 0.0;
        S.ridge = 0.0;
        sapm__lysep_forward(&S);
        sapm_rng_seed(&rng, 77);
        random_aux(&S, 0.2, &rng);
        sapm__lysep_weights(&S);
        for (l = 3; l >= 1; --l) {
            double g0 = grad_norm_W(&S, l), g1, j0 = sapm__lysep_jaux(&S), j1;
            CHECK_EQ_INT(sapm__lysep_update_W(&S, &base, l), SAPM_OK);
            g1 = grad_norm_W(&S, l);
            j1 = sapm__lysep_jaux(&S);
            CHECK(g0 > 1e-3);
            CHECK(g1 <= 1e-6 * g0);   /* the block minimiser: gradient ~ 0 (FD noise ~1e-9) */
            CHECK(j1 <= j0);
        }
        sapm__lysep_free(&S);
        sapm_net_destroy(&net);
    }
}

/* ---- per-point auxiliary blocks -------------------------------------------------------- */

/* FD gradient of the point objective in the derivative auxiliaries of point i, layer l. */
static double grad_norm_D(sapm__lysep *S, sapm__lysep_pt *P, int l, int i)
{
    int n = S->net->widths[l], K = S->K, j;
    double *a = S->A[l] + (size_t)i * n, *Dn = S->D[l] + (size_t)i * K * n, s = 0.0, h = 1e-6;
    double *q = S->Q[l] ? S->Q[l] + (size_t)i * n : NULL;
    for (j = 0; j < K * n; ++j) {
        double o = Dn[j], fp, fm, gr;
        Dn[j] = o + h; fp = sapm__lysep_obj(S, P, l, i, a, Dn, q);
        Dn[j] = o - h; fm = sapm__lysep_obj(S, P, l, i, a, Dn, q);
        Dn[j] = o;
        gr = (fp - fm) / (2 * h);
        s += gr * gr;
    }
    return sqrt(s);
}

static void test_derivative_aux_closed_form(void)
{
    /* SAPM-PINN: the d-update is the exact minimiser of the point's objective (gradient 0),
     * at an inner layer (one SPD matrix for all directions) and at l = L-1 (rank one). */
    prob P;
    sapm_net net;
    sapm__lysep S;
    sapm__lysep_pt pt;
    sapm_rng rng;
    int widths[5] = {3, 5, 4, 6, 1}, l, i;
    make_prob(&P, 3, 10, 4, 0, 21);
    CHECK_EQ_INT(sapm_net_create(&net, 4, widths, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_UNIFORM, 0.7, 9), SAPM_OK);
    CHECK_EQ_INT(sapm__lysep_alloc(&S, &net, &P.p, 0), SAPM_OK);
    S.weighting = SAPM__LYSEP_WEIGHTS_ADAPTIVE;
    S.halvings = 6;
    sapm__lysep_forward(&S);
    sapm_rng_seed(&rng, 5);
    random_aux(&S, 0.5, &rng);
    sapm__lysep_weights(&S);
    sapm__lysep_pt_init(&S, &pt);
    for (l = 1; l < 4; ++l) {
        int n = widths[l];
        sapm__lysep_push(&S, l, l > 1 ? S.A[l - 1] : NULL, l > 1 ? S.D[l - 1] : NULL, NULL, S.TA, S.TD, NULL);
        if (l < 3) sapm_syrk(SAPM_TRANS, n, widths[l + 1], 1.0, net.W[l], n, 0.0, S.G, n);
        for (i = 0; i < 3; ++i) {
            double *a = S.A[l] + (size_t)i * n;
            double g0 = grad_norm_D(&S, &pt, l, i), g1, f0, f1;
            f0 = sapm__lysep_obj(&S, &pt, l, i, a, S.D[l] + (size_t)i * S.K * n, NULL);
            sapm__lysep_step_d(&S, &pt, l, i);
            f1 = sapm__lysep_obj(&S, &pt, l, i, a, S.D[l] + (size_t)i * S.K * n, NULL);
            g1 = grad_norm_D(&S, &pt, l, i);
            CHECK(g0 > 1e-3);
            CHECK(g1 <= 1e-6 * g0 + 1e-7);
            CHECK(f1 <= f0);
            /* the value step never increases the point's objective */
            f0 = sapm__lysep_obj(&S, &pt, l, i, a, S.D[l] + (size_t)i * S.K * n, NULL);
            sapm__lysep_step_a(&S, &pt, l, i);
            f1 = sapm__lysep_obj(&S, &pt, l, i, a, S.D[l] + (size_t)i * S.K * n, NULL);
            CHECK(f1 <= f0);
        }
    }
    sapm__lysep_free(&S);
    sapm_net_destroy(&net);
}

static void test_derivative_aux_plain_solve(void)
{
    /* the shared-matrix solve equals a plain per-direction least-squares solve (normal
     * equations by Gaussian elimination, written out here) */
    prob P;
    sapm_net net;
    sapm__lysep S;
    sapm__lysep_pt pt;
    sapm_rng rng;
    int widths[4] = {2, 4, 3, 1}, l = 1, i = 2, n = 4, m = 3, j, c, r, k;
    double Mx[3 * 4], Amat[4 * 5], s1[4], dold[4];
    make_prob(&P, 2, 6, 3, 0, 8);
    CHECK_EQ_INT(sapm_net_create(&net, 3, widths, SAPM_ACT_SIN), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_UNIFORM, 0.9, 2), SAPM_OK);
    CHECK_EQ_INT(sapm__lysep_alloc(&S, &net, &P.p, 0), SAPM_OK);
    sapm__lysep_forward(&S);
    sapm_rng_seed(&rng, 6);
    random_aux(&S, 0.4, &rng);
    sapm__lysep_weights(&S);
    sapm__lysep_pt_init(&S, &pt);
    sapm__lysep_push(&S, l, NULL, NULL, NULL, S.TA, S.TD, NULL);
    sapm_syrk(SAPM_TRANS, n, m, 1.0, net.W[l], n, 0.0, S.G, n);
    memcpy(dold, S.D[l] + (size_t)i * n, sizeof dold);
    sapm__lysep_step_d(&S, &pt, l, i);
    /* plain: minimise wf |d - t|^2 + wf' |d_next - M d|^2, M = W_2 diag(cos(a)) */
    for (j = 0; j < n; ++j) s1[j] = cos(S.A[l][(size_t)i * n + j]);
    for (r = 0; r < m; ++r)
        for (j = 0; j < n; ++j) Mx[r * n + j] = net.W[l][r * n + j] * s1[j];
    for (k = 0; k < S.K; ++k) {
        double wf = S.wf[l][i], wf1 = S.wf[l + 1][i];
        for (j = 0; j < n; ++j) {
            for (c = 0; c < n; ++c) {
                double v = 0.0;
                for (r = 0; r < m; ++r) v += Mx[r * n + j] * Mx[r * n + c];
                Amat[j * 5 + c] = wf1 * v + (j == c ? wf : 0.0);
            }
            Amat[j * 5 + 4] = wf * S.TD[(size_t)i * n + j];
            for (r = 0; r < m; ++r) Amat[j * 5 + 4] += wf1 * Mx[r * n + j] * S.D[l + 1][(size_t)i * m + r];
        }
        for (c = 0; c < n; ++c)                   /* Gaussian elimination, no pivoting (SPD) */
            for (j = c + 1; j < n; ++j) {
                double fct = Amat[j * 5 + c] / Amat[c * 5 + c];
                for (r = c; r < 5; ++r) Amat[j * 5 + r] -= fct * Amat[c * 5 + r];
            }
        for (j = n - 1; j >= 0; --j) {
            double v = Amat[j * 5 + 4];
            for (c = j + 1; c < n; ++c) v -= Amat[j * 5 + c] * Amat[c * 5 + 4];
            Amat[j * 5 + 4] = v / Amat[j * 5 + j];
        }
        for (j = 0; j < n; ++j) CHECK_REL(S.D[l][(size_t)i * n + j], Amat[j * 5 + 4], 1e-10, 1e-12);
    }
    CHECK(fabs(dold[0] - S.D[l][(size_t)i * n]) > 1e-6); /* it moved */
    sapm__lysep_free(&S);
    sapm_net_destroy(&net);
}

static void test_lysep_aux_steps_descend(void)
{
    /* LySep: the d (majorised GN) and q (exact) steps never increase the point's objective;
     * q's update is the minimiser (gradient 0) */
    prob P;
    sapm_net net;
    sapm__lysep S;
    sapm__lysep_pt pt;
    sapm_rng rng;
    int widths[5] = {2, 4, 5, 3, 1}, l, i, j;
    make_prob(&P, 2, 8, 4, 1, 31);
    CHECK_EQ_INT(sapm_net_create(&net, 4, widths, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_UNIFORM, 0.8, 12), SAPM_OK);
    CHECK_EQ_INT(sapm__lysep_alloc(&S, &net, &P.p, 1), SAPM_OK);
    S.halvings = 8;
    sapm__lysep_forward(&S);
    sapm_rng_seed(&rng, 13);
    random_aux(&S, 0.3, &rng);
    sapm__lysep_weights(&S);
    sapm__lysep_pt_init(&S, &pt);
    for (l = 1; l < 4; ++l) {
        int n = widths[l];
        sapm__lysep_push(&S, l, l > 1 ? S.A[l - 1] : NULL, l > 1 ? S.D[l - 1] : NULL, l > 2 ? S.Q[l - 1] : NULL,
                         S.TA, S.TD, l >= 2 ? S.TQ : NULL);
        if (l < 3) sapm_syrk(SAPM_TRANS, n, widths[l + 1], 1.0, net.W[l], n, 0.0, S.G, n);
        for (i = 0; i < 4; ++i) {
            double *a = S.A[l] + (size_t)i * n, *Dn = S.D[l] + (size_t)i * S.K * n;
            double *q = S.Q[l] ? S.Q[l] + (size_t)i * n : NULL, f0, f1;
            f0 = sapm__lysep_obj(&S, &pt, l, i, a, Dn, q);
            sapm__lysep_step_a(&S, &pt, l, i);
            sapm__lysep_step_d(&S, &pt, l, i);
            f1 = sapm__lysep_obj(&S, &pt, l, i, a, Dn, q);
            CHECK(f1 <= f0);
            if (q) {
                double gs = 0.0, h = 1e-6;
                sapm__lysep_step_q(&S, &pt, l, i);
                CHECK(sapm__lysep_obj(&S, &pt, l, i, a, Dn, q) <= f1);
                for (j = 0; j < n; ++j) {
                    double o = q[j], fp, fm;
                    q[j] = o + h; fp = sapm__lysep_obj(&S, &pt, l, i, a, Dn, q);
                    q[j] = o - h; fm = sapm__lysep_obj(&S, &pt, l, i, a, Dn, q);
                    q[j] = o;
                    gs += ((fp - fm) / (2 * h)) * ((fp - fm) / (2 * h));
                }
                CHECK(sqrt(gs) <= 1e-6 * (1.0 + f1));
            }
        }
    }
    sapm__lysep_free(&S);
    sapm_net_destroy(&net);
}

/* ---- small problems solved through the public API ------------------------------------ */

static double tr_g(const double *x, int d, void *u) { (void)d; (void)u; return x[0] == 0.0 ? sin(LYSEP_PI * x[1]) : sin(-LYSEP_PI * x[0]); }
static double tr_ex(const double *x, int d, void *u) { (void)d; (void)u; return sin(LYSEP_PI * (x[1] - x[0])); }
static double lysep_zero_fn(const double *x, int d, void *u) { (void)x; (void)d; (void)u; return 0.0; }
static double p2_ex(const double *x, int d, void *u) { (void)d; (void)u; return sin(LYSEP_PI * x[0]) * sin(LYSEP_PI * x[1]); }
static double lysep_p2_f(const double *x, int d, void *u) { (void)d; (void)u; return 2 * LYSEP_PI * LYSEP_PI * sin(LYSEP_PI * x[0]) * sin(LYSEP_PI * x[1]); }

static void lysep_solve_small(int second, int iters, int polish, double *rel, sapm_lysep_trace *trace, sapm_result *res)
{
    double lo[2] = {0, 0}, hi[2] = {1, 1}, X[150 * 2], Xb[60 * 2], Xt[400 * 2], cvec[2] = {1.0, 1.0}, ue[400];
    int faces[4] = {1, 0, 1, 0}, widths[4] = {2, 12, 12, 1};
    sapm_pde pde;
    sapm_rng rng;
    sapm_net net;
    sapm_report rep;
    sapm_pde_options opt = sapm_pde_default_options(SAPM_METHOD_SAPM); /* SAPM-PINN or LySep by the operator */
    memset(&pde, 0, sizeof pde);
    pde.d = 2;
    if (!second) { pde.c_const = cvec; pde.f = lysep_zero_fn; pde.g = tr_g; pde.exact = tr_ex; }
    else { pde.kappa_const = -1.0; pde.f = lysep_p2_f; pde.g = p2_ex; pde.exact = p2_ex; }
    sapm_rng_seed(&rng, 3);
    sapm_sample_uniform(2, lo, hi, 150, &rng, X);
    sapm_sample_boundary(2, lo, hi, second ? NULL : faces, 60, &rng, Xb);
    sapm_sample_uniform(2, lo, hi, 400, &rng, Xt);
    CHECK_EQ_INT(sapm_net_create(&net, 3, widths, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1), SAPM_OK);
    opt.base.max_iters = iters + polish;
    opt.base.log_every = 1;
    opt.base.n_test = 400;
    opt.base.X_test = Xt;
    opt.lysep.trace = trace;
    if (polish) {
        opt.lysep.prox = 1.0;
        opt.base.polish = SAPM_METHOD_LBFGS;
        opt.base.phase_iters = iters;     /* the alternating phase runs all `iters` first */
    } else {
        opt.base.polish = SAPM_METHOD_NONE;
        opt.lysep.prox = 1e-10;           /* the paper's pure alternating form */
    }
    *res = sapm_pde_train(&net, &pde, 150, X, 60, Xb, &opt, &rep);
    CHECK_EQ_INT(sapm_pde_exact_values(&pde, 400, Xt, ue), SAPM_OK);
    CHECK_EQ_INT(sapm_pde_errors(&net, 400, Xt, ue, rel, NULL), SAPM_OK);
    if (!polish) {
        CHECK_EQ_INT(rep.iters, iters);
        CHECK(rep.history_count == iters + 1);
    } else {
        CHECK(rep.iters > iters && rep.iters <= iters + polish);
        CHECK(rep.history_count == rep.iters + 1);
    }
    CHECK_REL(rep.history[rep.history_count - 1].error, *rel, 1e-12, 1e-300);
    /* the trained model is the forward network: rep.mse is its J_PINN */
    {
        double jp;
        CHECK_EQ_INT(sapm_pde_loss(&net, &pde, 150, X, 60, Xb, 1.0, 1.0, &jp, NULL, NULL), SAPM_OK);
        CHECK_REL(rep.mse, jp, 1e-10, 1e-300);
    }
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
}

static void test_transport_small(void)
{
    double rel;
    int it[64], t;
    double vg[64], dg[64], ja[64], jp[64];
    sapm_lysep_trace tr;
    sapm_result r;
    tr.capacity = 64; tr.count = 0; tr.iter = it; tr.value_gap = vg; tr.deriv_gap = dg;
    tr.j_aux = ja; tr.j_pinn = jp;
    lysep_solve_small(0, 40, 0, &rel, &tr, &r);
    CHECK_EQ_INT(r, SAPM_OK);
    CHECK(rel < 0.12);                    /* measured 8.0e-2 (u = sin(pi (x - t)), 2-12-12-1, 40 its) */
    CHECK_EQ_INT(tr.count, 41);
    for (t = 0; t < tr.count; ++t) CHECK(jp[t] <= sapm_lysep_bound_constant(3, 0) * ja[t]);
    CHECK(jp[tr.count - 1] < 0.05 * jp[0]);
}

static void test_poisson_small(void)
{
    double rel;
    sapm_result r;
    lysep_solve_small(1, 40, 0, &rel, NULL, &r);
    CHECK_EQ_INT(r, SAPM_OK);
    CHECK(rel < 0.9);                     /* measured 0.81 after 40 its: slow (see the bench) */
    lysep_solve_small(1, 5, 600, &rel, NULL, &r);  /* 5 LySep iterations + 600 L-BFGS (polish) */
    CHECK_EQ_INT(r, SAPM_OK);
    CHECK(rel < 0.03);                    /* measured 1.2e-2 (2-12-12-1, N = 150) */
}

/* The DEFAULT options (ours: 3 alternating iterations with prox 1, then the L-BFGS polish)
 * against the papers' pure alternating form (polish_iters = 0, prox = 1e-10) on the small
 * Poisson 2-D problem of lysep_solve_small, same points, same initial network. */
static void test_poisson_default_vs_pure(void)
{
    double lo[2] = {0, 0}, hi[2] = {1, 1}, X[150 * 2], Xb[60 * 2], Xt[400 * 2], ue[400], rel[2];
    int widths[4] = {2, 12, 12, 1}, k;
    sapm_pde pde;
    sapm_rng rng;
    memset(&pde, 0, sizeof pde);
    pde.d = 2; pde.kappa_const = -1.0; pde.f = lysep_p2_f; pde.g = p2_ex; pde.exact = p2_ex;
    sapm_rng_seed(&rng, 3);
    sapm_sample_uniform(2, lo, hi, 150, &rng, X);
    sapm_sample_boundary(2, lo, hi, NULL, 60, &rng, Xb);
    sapm_sample_uniform(2, lo, hi, 400, &rng, Xt);
    CHECK_EQ_INT(sapm_pde_exact_values(&pde, 400, Xt, ue), SAPM_OK);
    for (k = 0; k < 2; ++k) {
        sapm_net net;
        sapm_report rep;
        sapm_pde_options opt = sapm_pde_default_options(SAPM_METHOD_SAPM);
        CHECK_EQ_INT(sapm_net_create(&net, 3, widths, SAPM_ACT_TANH), SAPM_OK);
        CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1), SAPM_OK);
        opt.base.max_iters = 0;  /* the default cap, 5000: 3 alternating + L-BFGS iterations */
        opt.base.polish = SAPM_METHOD_LBFGS;    /* our measured schedule, asked for */
        opt.base.phase_iters = 3;
        if (k == 1) {            /* the paper's form, 40 alternating iterations */
            opt.base.max_iters = 40;
            opt.base.polish = SAPM_METHOD_NONE;
            opt.lysep.prox = 1e-10;
        }
        CHECK_EQ_INT(sapm_pde_train(&net, &pde, 150, X, 60, Xb, &opt, &rep), SAPM_OK);
        CHECK_EQ_INT(sapm_pde_errors(&net, 400, Xt, ue, &rel[k], NULL), SAPM_OK);
        if (getenv("SAPM_TEST_VERBOSE")) printf("  %s: rel L2 %.3e, %d iterations\n",
                                                 k ? "pure" : "default", rel[k], rep.iters);
        sapm_report_free(&rep);
        sapm_net_destroy(&net);
    }
    CHECK(rel[0] < 1e-2);         /* measured 1.1e-3 (native, 5000 iterations); margin for the
                                     other builds' rounding along 5000 L-BFGS steps */
    CHECK(rel[0] < 0.05 * rel[1]); /* pure form measured 0.81 after 40 iterations: ~1000x worse */
}

/* ---- bad options ----------------------------------------------------------------------- */

static void test_bad_options(void)
{
    double lo[2] = {0, 0}, hi[2] = {1, 1}, X[20 * 2], Xb[8 * 2], cvec[2] = {1.0, 1.0};
    int widths[4] = {2, 4, 4, 1}, w1[2] = {2, 1}, k;
    sapm_pde first, second, reaction;
    sapm_net net, net1, netr;
    sapm_rng rng;
    sapm_lysep_trace tr;
    sapm_report rep;
    memset(&first, 0, sizeof first);
    first.d = 2; first.c_const = cvec; first.f = lysep_zero_fn; first.g = tr_g;
    memset(&second, 0, sizeof second);
    second.d = 2; second.kappa_const = -1.0; second.f = lysep_p2_f; second.g = p2_ex;
    memset(&reaction, 0, sizeof reaction);  /* u = f: no derivative term for the auxiliaries */
    reaction.d = 2; reaction.c0_const = 1.0; reaction.f = lysep_p2_f; reaction.g = p2_ex;
    sapm_rng_seed(&rng, 1);
    sapm_sample_uniform(2, lo, hi, 20, &rng, X);
    sapm_sample_boundary(2, lo, hi, NULL, 8, &rng, Xb);
    CHECK_EQ_INT(sapm_net_create(&net, 3, widths, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_create(&net1, 1, w1, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_create(&netr, 3, widths, SAPM_ACT_RELU), SAPM_OK);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1);
    sapm_net_init(&net1, SAPM_INIT_XAVIER, 1.0, 1);
    sapm_net_init(&netr, SAPM_INIT_XAVIER, 1.0, 1);
    for (k = 0; k < 15; ++k) {
        sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_SAPM);
        const sapm_pde *pde = &first;
        sapm_net *nt = &net;
        sapm_result want = SAPM_ERR_INVALID_ARGUMENT;
        o.base.max_iters = 2;
        switch (k) {
        case 0: pde = &reaction; want = SAPM_ERR_UNSUPPORTED; break;         /* no derivative term */
        case 1: o.base.method = SAPM_METHOD_PM; o.base.aux.pm_lambda = 0.0; break;
        case 2: nt = &net1; want = SAPM_ERR_UNSUPPORTED; break;              /* no hidden layer */
        case 3: nt = &netr; want = SAPM_ERR_UNSUPPORTED; break;              /* ReLU: no sigma'' */
        case 4: o.lysep.inner_sweeps = 0; break;
        case 5: o.lysep.halvings = -1; break;
        case 6: o.lysep.prox = -1.0; break;
        case 7: o.lysep.ridge = NAN; break;
        case 8: o.base.polish = (sapm_method)42; break;
        case 9: o.base.phase_iters = -1; break;
        case 10: o.base.polish = SAPM_METHOD_LBFGS; o.base.ls.lbfgs_memory = 0; break; /* read by the L-BFGS polish only */
        case 11: o.base.polish = SAPM_METHOD_LBFGS; o.base.ls.lbfgs_memory = 1001; break;
        case 12: tr.capacity = -1; tr.count = 0; o.lysep.trace = &tr; break;
        case 13: o.lysep.prox = INFINITY; break;
        case 14: o.base.log_every = -1; break;
        }
        CHECK_EQ_INT(sapm_pde_train(nt, pde, 20, X, 8, Xb, &o, &rep), want);
        CHECK_EQ_INT(rep.status, want);
        CHECK_EQ_INT(rep.iters, 0);               /* rejected before any iteration */
        CHECK(rep.message[0] != '\0');
        sapm_report_free(&rep);
    }
    CHECK(sapm_lysep_bound_constant(1, 0) < 0.0);
    CHECK(sapm_lysep_bound_constant(4, 0) == 7.0);
    CHECK(sapm_lysep_bound_constant(4, 1) == 9.0);
    /* a good call still works after the bad ones, and fixed weights run */
    {
        sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_SAPM);
        o.base.max_iters = 7;     /* keep it short: 2 alternating + <= 5 L-BFGS iterations */
        o.base.polish = SAPM_METHOD_LBFGS;
        o.base.phase_iters = 2;
        o.base.method = SAPM_METHOD_PM;
        CHECK_EQ_INT(sapm_pde_train(&net, &first, 20, X, 8, Xb, &o, &rep), SAPM_OK);
        sapm_report_free(&rep);
    }
    sapm_net_destroy(&net);
    sapm_net_destroy(&net1);
    sapm_net_destroy(&netr);
}

static void test_defaults(void)
{
    sapm_lysep_options o = sapm_lysep_default_options();
    sapm_pde_options p = sapm_pde_default_options(SAPM_METHOD_SAPM);
    CHECK(o.inner_sweeps == 1 && o.halvings >= 0 && o.prox > 0.0);
    /* no second phase unless asked for: SAPM runs the alternating iteration throughout */
    CHECK(p.base.polish == SAPM_METHOD_NONE && p.base.phase_iters == 0);
    CHECK(p.lysep.inner_sweeps == o.inner_sweeps && p.lysep.prox == o.prox);
}

static void run_lysep_tests(void)
{
    RUN(test_defaults);
    RUN(test_bound_random_states);
    RUN(test_forward_init_consistent);
    RUN(test_weight_block_minimiser);
    RUN(test_derivative_aux_closed_form);
    RUN(test_derivative_aux_plain_solve);
    RUN(test_lysep_aux_steps_descend);
    RUN(test_transport_small);
    RUN(test_poisson_small);
    RUN(test_poisson_default_vs_pure);
    RUN(test_bad_options);
}

#ifndef SAPM_TEST_UNITY
int main(void)
{
    run_lysep_tests();
    return sapm_test_summary();
}
#endif
