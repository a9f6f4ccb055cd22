/* Kernel tests: GEMM, SYRK, TRSM, Cholesky (unblocked and blocked), chol_solve and the
 * batched SPD solver against plain loops, on odd sizes, every transpose combination,
 * leading dimensions larger than the column count and pointers offset by one double.
 * It also tests internal kernels, so it shares the implementation's translation unit. */
#ifndef SAPM_TEST_UNITY /* else tests/sapm_impl.c holds the implementation */
#define SAPM_IMPLEMENTATION
#endif
#include "sapm.h"
#include "sapm_test.h"
#include <float.h>
#include <limits.h>

#define TEST_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TEST_MIN(a, b) ((a) < (b) ? (a) : (b))

static const int sizes[] = {1, 2, 3, 7, 17, 31, 64, 65, 129};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

/* Buffer of n doubles plus one, returned offset by one double (so 8-byte but not
 * 16/32/64-byte aligned) and filled with U(-1, 1). */
static double *rand_buf(sapm_rng *rng, size_t n, double **base)
{
    size_t i;
    *base = (double *)malloc((n + 1) * sizeof(double));
    for (i = 0; i <= n; ++i) (*base)[i] = 2.0 * sapm_rng_uniform(rng) - 1.0;
    return *base + 1;
}

/* op(X)[i][j] */
static double op_at(const double *X, int ld, int t, int i, int j)
{
    return t ? X[(size_t)j * ld + i] : X[(size_t)i * ld + j];
}

/* max |C - (alpha op(A) op(B) + beta C0)| relative to the scale sum |a||b| */
static double gemm_err(int ta, int tb, int m, int n, int k, double alpha, const double *A, int lda,
                       const double *B, int ldb, double beta, const double *C0, const double *C,
                       int ldc)
{
    int i, j, p;
    double worst = 0.0;
    for (i = 0; i < m; ++i)
        for (j = 0; j < n; ++j) {
            long double s = 0.0L, scale = 0.0L;
            double ref, c0 = C0[(size_t)i * ldc + j];
            for (p = 0; p < k; ++p) {
                double a = op_at(A, lda, ta, i, p), b = op_at(B, ldb, tb, p, j);
                s += (long double)a * b;
                scale += fabsl((long double)a * b);
            }
            ref = (double)(alpha * s + (beta == 0.0 ? 0.0L : (long double)beta * c0));
            scale = fabsl(alpha * scale) + fabs(beta * (isnan(c0) ? 0.0 : c0)) + 1e-300L;
            {
                double e = fabs(C[(size_t)i * ldc + j] - ref) / (double)scale;
                if (!(e <= worst)) worst = e; /* NaN -> NaN sticks */
            }
        }
    return worst;
}

static void test_gemm_all_forms(void)
{
    sapm_rng rng;
    int si, sj, sk, ta, tb, v;
    const double alphas[3] = {1.0, -0.75, 2.0}, betas[3] = {0.0, 1.0, -0.5};
    sapm_rng_seed(&rng, 1);
    for (si = 0; si < NSIZES; ++si)
        for (sj = 0; sj < NSIZES; ++sj)
            for (sk = 0; sk < NSIZES; ++sk) {
                int m = sizes[si], n = sizes[sj], k = sizes[sk];
                /* the full cube is slow under ASan: all of it for the small sizes, a
                 * diagonal band of the rest (every size still meets every other once) */
                if (m * n * k > 20000 && (si + sj + sk) % 3 != 0) continue;
                for (ta = 0; ta < 2; ++ta)
                    for (tb = 0; tb < 2; ++tb) {
                        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
                        int rowsA = ta ? k : m, rowsB = tb ? n : k;
                        double *Ab, *Bb, *Cb, *A, *B, *C, *C0;
                        size_t nc = (size_t)m * ldc, i;
                        double alpha, beta, err;
                        v = (si + sj + sk + ta + tb) % 3;
                        alpha = alphas[v];
                        beta = betas[(v + sk) % 3];
                        A = rand_buf(&rng, (size_t)rowsA * lda, &Ab);
                        B = rand_buf(&rng, (size_t)rowsB * ldb, &Bb);
                        C = rand_buf(&rng, nc, &Cb);
                        C0 = (double *)malloc(nc * sizeof(double));
                        if (beta == 0.0) for (i = 0; i < nc; ++i) C[i] = NAN; /* must not leak */
                        memcpy(C0, C, nc * sizeof(double));
                        CHECK_EQ_INT(sapm_gemm((sapm_transpose)ta, (sapm_transpose)tb, m, n, k, alpha,
                                               A, lda, B, ldb, beta, C, ldc), SAPM_OK);
                        err = gemm_err(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C0, C, ldc);
                        if (!(err <= 1e-14)) {
                            char msg[160];
                            snprintf(msg, sizeof msg, "gemm ta=%d tb=%d m=%d n=%d k=%d: rel err %.3g",
                                     ta, tb, m, n, k, err);
                            sapm_test_fail_(__FILE__, __LINE__, msg);
                        }
                        /* padding columns of C (j >= n) untouched */
                        for (i = 0; i < (size_t)m; ++i) {
                            CHECK(memcmp(&C[i * ldc + n], &C0[i * ldc + n], 2 * sizeof(double)) == 0);
                        }
                        free(Ab); free(Bb); free(Cb); free(C0);
                    }
            }
}

static void test_gemm_large_blocks(void)
{
    /* crosses the KC (256), MC (96) blocking and uses every tile edge */
    sapm_rng rng;
    /* the last two: small A^T B over several KC blocks (the AVX-512 direct path) */
    int cases[6][3] = {{300, 70, 530}, {97, 301, 260}, {1, 200, 300}, {200, 1, 300},
                       {21, 20, 600}, {64, 64, 513}}, c, ta, tb;
    sapm_rng_seed(&rng, 2);
    for (c = 0; c < 6; ++c)
        for (ta = 0; ta < 2; ++ta)
            for (tb = 0; tb < 2; ++tb) {
                int m = cases[c][0], n = cases[c][1], k = cases[c][2];
                int lda = (ta ? m : k) + 1, ldb = (tb ? k : n), ldc = n + 5;
                double *Ab, *Bb, *Cb, *A, *B, *C, *C0, err;
                size_t nc = (size_t)m * ldc;
                if (c < 4 && (ta + tb + c) % 2) continue; /* half the combinations (time) */
                A = rand_buf(&rng, (size_t)(ta ? k : m) * lda, &Ab);
                B = rand_buf(&rng, (size_t)(tb ? n : k) * ldb, &Bb);
                C = rand_buf(&rng, nc, &Cb);
                C0 = (double *)malloc(nc * sizeof(double));
                memcpy(C0, C, nc * sizeof(double));
                CHECK_EQ_INT(sapm_gemm((sapm_transpose)ta, (sapm_transpose)tb, m, n, k, 0.5, A, lda,
                                       B, ldb, 1.5, C, ldc), SAPM_OK);
                err = gemm_err(ta, tb, m, n, k, 0.5, A, lda, B, ldb, 1.5, C0, C, ldc);
                CHECK(err <= 1e-14);
                free(Ab); free(Bb); free(Cb); free(C0);
            }
}

static void test_gemm_k0_alpha0(void)
{
    double A[4] = {NAN, NAN, NAN, NAN}, C[4] = {1, 2, 3, 4}, D[4] = {NAN, 1, 2, NAN};
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 2, 2, 0, 1.0, NULL, 1, NULL, 1, 2.0, C, 2), SAPM_OK);
    CHECK(C[0] == 2 && C[3] == 8);
    /* alpha == 0: A, B not read (their NaN do not appear), beta == 0 overwrites NaN */
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 2, 2, 2, 0.0, A, 2, A, 2, 0.0, D, 2), SAPM_OK);
    CHECK(D[0] == 0 && D[1] == 0 && D[2] == 0 && D[3] == 0);
}

static void test_syrk_both_forms(void)
{
    sapm_rng rng;
    int si, sk, t;
    sapm_rng_seed(&rng, 3);
    for (si = 0; si < NSIZES; ++si)
        for (sk = 0; sk < NSIZES; ++sk)
            for (t = 0; t < 2; ++t) {
                int n = sizes[si], k = sizes[sk], lda = (t ? n : k) + 2, ldc = n + 1, i, j;
                double *Ab, *Cb, *A, *C, *C0, err, beta = (si + sk) % 2 ? 0.0 : 0.5;
                size_t nc = (size_t)n * ldc;
                A = rand_buf(&rng, (size_t)(t ? k : n) * lda, &Ab);
                C = rand_buf(&rng, nc, &Cb);
                C0 = (double *)malloc(nc * sizeof(double));
                if (beta == 0.0) for (i = 0; i < (int)nc; ++i) C[i] = NAN;
                /* symmetric C0 so that beta C is symmetric (the update is defined by the
                 * lower triangle of C) */
                for (i = 0; i < n; ++i) for (j = 0; j < i; ++j) C[(size_t)j * ldc + i] = C[(size_t)i * ldc + j];
                memcpy(C0, C, nc * sizeof(double));
                CHECK_EQ_INT(sapm_syrk((sapm_transpose)t, n, k, -1.25, A, lda, beta, C, ldc), SAPM_OK);
                /* A A^T = op(A) op(A)^T with op = identity (t = 0) or transpose (t = 1) */
                err = gemm_err(t, !t, n, n, k, -1.25, A, lda, A, lda, beta, C0, C, ldc);
                CHECK(err <= 1e-14);
                for (i = 0; i < n; ++i)
                    for (j = 0; j < i; ++j) CHECK(C[(size_t)i * ldc + j] == C[(size_t)j * ldc + i]);
                free(Ab); free(Cb); free(C0);
            }
}

/* Gram matrices of few rows and a long k (several KC chunks; the AVX2 dot-product and
 * in-place paths), odd widths, unaligned strides, both forms. */
static void test_syrk_long_k(void)
{
    static const int ns[] = {1, 3, 7, 17, 21, 63, 65}, ks[] = {64, 67, 700};
    sapm_rng rng;
    int a, b, t;
    sapm_rng_seed(&rng, 10);
    for (a = 0; a < 7; ++a)
        for (b = 0; b < 3; ++b)
            for (t = 0; t < 2; ++t) {
                int n = ns[a], k = ks[b], lda = (t ? n : k) + 1, ldc = n + 3, i, j;
                double *Ab, *Cb, *A, *C, *C0, err, beta = (a + b) % 2 ? 0.0 : -0.5;
                size_t nc = (size_t)n * ldc;
                A = rand_buf(&rng, (size_t)(t ? k : n) * lda, &Ab);
                C = rand_buf(&rng, nc, &Cb);
                C0 = (double *)malloc(nc * sizeof(double));
                for (i = 0; i < n; ++i) for (j = 0; j < i; ++j) C[(size_t)j * ldc + i] = C[(size_t)i * ldc + j];
                memcpy(C0, C, nc * sizeof(double));
                CHECK_EQ_INT(sapm_syrk((sapm_transpose)t, n, k, 0.75, A, lda, beta, C, ldc), SAPM_OK);
                err = gemm_err(t, !t, n, n, k, 0.75, A, lda, A, lda, beta, C0, C, ldc);
                CHECK(err <= 1e-14);
                for (i = 0; i < n; ++i)
                    for (j = n; j < ldc; ++j) CHECK(C[(size_t)i * ldc + j] == C0[(size_t)i * ldc + j]);
                free(Ab); free(Cb); free(C0);
            }
}

/* Random SPD matrix M M^T / k + shift I (n x n, leading dimension ld) into S. */
static void make_spd(sapm_rng *rng, int n, double shift, double *S, int ld)
{
    int i, j, p, k = n + 3;
    double *M = (double *)malloc((size_t)n * k * sizeof(double));
    for (i = 0; i < n * k; ++i) M[i] = 2.0 * sapm_rng_uniform(rng) - 1.0;
    for (i = 0; i < n; ++i)
        for (j = 0; j < n; ++j) {
            double s = 0.0;
            for (p = 0; p < k; ++p) s += M[i * k + p] * M[j * k + p];
            S[(size_t)i * ld + j] = s / k + (i == j ? shift : 0.0);
        }
    free(M);
}

/* max |A - L L^T| over the lower triangle, relative to max |A| */
static double chol_residual(int n, const double *A, const double *L, int ld)
{
    int i, j, p;
    double worst = 0.0, amax = 0.0;
    for (i = 0; i < n; ++i)
        for (j = 0; j <= i; ++j) {
            double s = 0.0;
            for (p = 0; p <= j; ++p) s += L[(size_t)i * ld + p] * L[(size_t)j * ld + p];
            worst = TEST_MAX(worst, fabs(s - A[(size_t)i * ld + j]));
            amax = TEST_MAX(amax, fabs(A[(size_t)i * ld + j]));
        }
    return worst / amax;
}

static void test_chol_factor_solve(void)
{
    static const int ns[] = {1, 2, 3, 7, 17, 31, 32, 33, 64, 65, 129, 257};
    sapm_rng rng;
    int t;
    sapm_rng_seed(&rng, 4);
    for (t = 0; t < (int)(sizeof ns / sizeof ns[0]); ++t) {
        int n = ns[t], ld = n + 3, nrhs = t % 3 == 0 ? 1 : (t % 3 == 1 ? 5 : 40), ldb = nrhs + 1, info = -1, i, j, p;
        double *Ab, *A = rand_buf(&rng, (size_t)n * ld, &Ab), *L = (double *)malloc((size_t)n * ld * sizeof(double));
        double *Bb, *B = rand_buf(&rng, (size_t)n * ldb, &Bb), *X = (double *)malloc((size_t)n * ldb * sizeof(double));
        double res = 0.0, bmax = 0.0;
        make_spd(&rng, n, 0.1, A, ld);
        for (i = 0; i < n; ++i) for (j = i + 1; j < n; ++j) A[(size_t)i * ld + j] = 12345.0; /* upper: must stay */
        memcpy(L, A, (size_t)n * ld * sizeof(double));
        CHECK_EQ_INT(sapm_chol_factor(n, L, ld, &info), SAPM_OK);
        CHECK_EQ_INT(info, 0);
        CHECK(chol_residual(n, A, L, ld) <= 1e-14);
        for (i = 0; i < n; ++i) for (j = i + 1; j < n; ++j) CHECK(L[(size_t)i * ld + j] == 12345.0);
        memcpy(X, B, (size_t)n * ldb * sizeof(double));
        CHECK_EQ_INT(sapm_chol_solve(n, nrhs, L, ld, X, ldb), SAPM_OK);
        /* residual A X - B (A symmetric: lower triangle) relative to |A||X| + |B| */
        for (i = 0; i < n; ++i)
            for (j = 0; j < nrhs; ++j) {
                double s = -B[(size_t)i * ldb + j], sc = fabs(B[(size_t)i * ldb + j]);
                for (p = 0; p < n; ++p) {
                    double a = p <= i ? A[(size_t)i * ld + p] : A[(size_t)p * ld + i];
                    s += a * X[(size_t)p * ldb + j];
                    sc += fabs(a * X[(size_t)p * ldb + j]);
                }
                res = TEST_MAX(res, fabs(s) / sc);
                bmax = TEST_MAX(bmax, fabs(X[(size_t)i * ldb + j]));
            }
        CHECK(res <= 1e-12);
        CHECK(bmax > 0.0);
        free(Ab); free(L); free(Bb); free(X);
    }
}

static void test_trsm_both(void)
{
    sapm_rng rng;
    int si, sr, t;
    static const int rhs[] = {1, 2, 9, 17, 70};
    sapm_rng_seed(&rng, 5);
    for (si = 0; si < NSIZES; ++si)
        for (sr = 0; sr < 5; ++sr)
            for (t = 0; t < 2; ++t) {
                int n = sizes[si], nrhs = rhs[sr], ldl = n + 1, ldb = nrhs + 3, i, j, p;
                double *Lb, *L = rand_buf(&rng, (size_t)n * ldl, &Lb), *Bb, *B = rand_buf(&rng, (size_t)n * ldb, &Bb);
                double *X = (double *)malloc((size_t)n * ldb * sizeof(double)), worst = 0.0;
                for (i = 0; i < n; ++i) {
                    L[(size_t)i * ldl + i] = 2.0 + fabs(L[(size_t)i * ldl + i]); /* well conditioned */
                    for (j = 0; j < i; ++j) L[(size_t)i * ldl + j] *= 0.3;
                    for (j = i + 1; j < n; ++j) L[(size_t)i * ldl + j] = NAN; /* upper: never read */
                }
                memcpy(X, B, (size_t)n * ldb * sizeof(double));
                CHECK_EQ_INT(sapm_trsm_lower((sapm_transpose)t, n, nrhs, L, ldl, X, ldb), SAPM_OK);
                /* op(L) X must give B */
                for (i = 0; i < n; ++i)
                    for (j = 0; j < nrhs; ++j) {
                        double s = 0.0, sc = 0.0;
                        for (p = 0; p < n; ++p) {
                            double l = t ? (p >= i ? L[(size_t)p * ldl + i] : 0.0) : (p <= i ? L[(size_t)i * ldl + p] : 0.0);
                            s += l * X[(size_t)p * ldb + j];
                            sc += fabs(l * X[(size_t)p * ldb + j]);
                        }
                        worst = TEST_MAX(worst, fabs(s - B[(size_t)i * ldb + j]) / (sc + 1e-300));
                        if (isnan(s)) worst = NAN;
                    }
                CHECK(worst <= 1e-14);
                for (i = 0; i < n; ++i) for (j = nrhs; j < ldb; ++j) CHECK(X[(size_t)i * ldb + j] == B[(size_t)i * ldb + j]);
                free(Lb); free(Bb); free(X);
            }
}

/* The Cholesky panel solve B = B L^{-T} (sapm__trsm_right_lt: recursive halves, rows
 * vectorised in its leaves) against plain forward substitution x_c = (b_c - sum_{p<c}
 * L_cp x_p) / L_cc per row, on odd sizes and unaligned leading dimensions. */
static void test_trsm_right_lt(void)
{
    static const int ms[] = {1, 3, 7, 17, 63, 65}, nbs[] = {1, 3, 7, 16, 17, 33, 64};
    sapm_rng rng;
    int a, b;
    sapm_rng_seed(&rng, 9);
    for (a = 0; a < 6; ++a)
        for (b = 0; b < 7; ++b) {
            int m = ms[a], nb = nbs[b], ldl = nb + 1, ldb = nb + 3, i, j, p;
            double *Lb, *L = rand_buf(&rng, (size_t)nb * ldl, &Lb), *Bb, *B = rand_buf(&rng, (size_t)m * ldb, &Bb);
            double *X = (double *)malloc((size_t)m * ldb * sizeof(double)), worst = 0.0;
            for (i = 0; i < nb; ++i) {
                L[(size_t)i * ldl + i] = 2.0 + fabs(L[(size_t)i * ldl + i]);
                for (j = 0; j < i; ++j) L[(size_t)i * ldl + j] *= 0.3;
                for (j = i + 1; j < nb; ++j) L[(size_t)i * ldl + j] = NAN; /* upper: never read */
            }
            memcpy(X, B, (size_t)m * ldb * sizeof(double));
            sapm__trsm_right_lt(m, nb, L, ldl, X, ldb);
            for (i = 0; i < m; ++i) {
                double x[64];
                for (j = 0; j < nb; ++j) {
                    double s = B[(size_t)i * ldb + j];
                    for (p = 0; p < j; ++p) s -= L[(size_t)j * ldl + p] * x[p];
                    x[j] = s / L[(size_t)j * ldl + j];
                    {
                        double e = fabs(X[(size_t)i * ldb + j] - x[j]) / (fabs(x[j]) + 1.0);
                        if (!(e <= worst)) worst = e;
                    }
                }
                for (j = nb; j < ldb; ++j) CHECK(X[(size_t)i * ldb + j] == B[(size_t)i * ldb + j]);
            }
            CHECK(worst <= 1e-13);
            free(Lb); free(Bb); free(X);
        }
}

static void test_chol_near_singular(void)
{
    /* A = M M^T with M n x r (rank r < n) plus 1e-10 I: SPD but condition ~1e10 */
    sapm_rng rng;
    int n = 70, r = 20, i, j, p, info = -1;
    double *A = (double *)malloc((size_t)n * n * sizeof(double)), *L = (double *)malloc((size_t)n * n * sizeof(double));
    double *M = (double *)malloc((size_t)n * r * sizeof(double)), *x = (double *)malloc((size_t)n * sizeof(double));
    double *b = (double *)malloc((size_t)n * sizeof(double)), res = 0.0, bn = 0.0;
    sapm_rng_seed(&rng, 6);
    for (i = 0; i < n * r; ++i) M[i] = sapm_rng_normal(&rng);
    for (i = 0; i < n; ++i)
        for (j = 0; j < n; ++j) {
            double s = 0.0;
            for (p = 0; p < r; ++p) s += M[i * r + p] * M[j * r + p];
            A[i * n + j] = s + (i == j ? 1e-10 : 0.0);
        }
    memcpy(L, A, (size_t)n * n * sizeof(double));
    CHECK_EQ_INT(sapm_chol_factor(n, L, n, &info), SAPM_OK);
    CHECK_EQ_INT(info, 0);
    CHECK(chol_residual(n, A, L, n) <= 1e-14);
    for (i = 0; i < n; ++i) b[i] = x[i] = sapm_rng_uniform(&rng);
    CHECK_EQ_INT(sapm_chol_solve(n, 1, L, n, x, 1), SAPM_OK);
    /* backward stable: ||A x - b|| small relative to ||A|| ||x|| */
    {
        double xn = 0.0, an = 0.0;
        for (i = 0; i < n; ++i) {
            double s = -b[i];
            for (p = 0; p < n; ++p) { s += A[i * n + p] * x[p]; an = TEST_MAX(an, fabs(A[i * n + p])); }
            res = TEST_MAX(res, fabs(s));
            xn = TEST_MAX(xn, fabs(x[i]));
            bn = TEST_MAX(bn, fabs(b[i]));
        }
        CHECK(res <= 1e-12 * an * xn * n);
        CHECK(xn > 1.0); /* it did solve an ill-conditioned system (x is large) */
    }
    free(A); free(L); free(M); free(x); free(b);
}

static void test_chol_not_spd(void)
{
    /* SPD except that the leading minor of order k is made indefinite: info == k */
    static const int ns[] = {1, 5, 31, 40, 100, 257};
    sapm_rng rng;
    int t;
    sapm_rng_seed(&rng, 7);
    for (t = 0; t < 6; ++t) {
        int n = ns[t], ks[3], q, i;
        ks[0] = 1; ks[1] = (n + 1) / 2; ks[2] = n;
        for (q = 0; q < 3; ++q) {
            int k = ks[q], info = -1;
            double *A = (double *)malloc((size_t)n * n * sizeof(double));
            make_spd(&rng, n, 0.5, A, n);
            /* A_kk = sum_{p<k} L_kp^2 - 1 makes the k-th pivot exactly -1 (computed from
             * the factor of the leading (k-1) block) */
            {
                double *T = (double *)malloc((size_t)n * n * sizeof(double)), s = 0.0;
                int inf2 = 0, p;
                memcpy(T, A, (size_t)n * n * sizeof(double));
                if (k > 1) CHECK_EQ_INT(sapm_chol_factor(k - 1, T, n, &inf2), SAPM_OK);
                /* L_{k,p} for p < k-1... solve L y = a_k (row k's leading part) */
                if (k > 1) {
                    double *y = (double *)malloc((size_t)k * sizeof(double));
                    for (p = 0; p < k - 1; ++p) y[p] = A[(size_t)(k - 1) * n + p];
                    CHECK_EQ_INT(sapm_trsm_lower(SAPM_NO_TRANS, k - 1, 1, T, n, y, 1), SAPM_OK);
                    for (p = 0; p < k - 1; ++p) s += y[p] * y[p];
                    free(y);
                }
                A[(size_t)(k - 1) * n + (k - 1)] = s - 1.0;
                free(T);
            }
            CHECK_EQ_INT(sapm_chol_factor(n, A, n, &info), SAPM_ERR_NOT_POSITIVE_DEFINITE);
            CHECK_EQ_INT(info, k);
            free(A);
        }
        /* NaN on the diagonal: reported at its column */
        {
            double *A = (double *)malloc((size_t)n * n * sizeof(double));
            int info = 0;
            make_spd(&rng, n, 0.5, A, n);
            i = n / 3;
            A[(size_t)i * n + i] = NAN;
            CHECK_EQ_INT(sapm_chol_factor(n, A, n, &info), SAPM_ERR_NOT_POSITIVE_DEFINITE);
            CHECK_EQ_INT(info, i + 1);
            free(A);
        }
    }
}

static void test_batched_vs_single(void)
{
    static const int cfg[][3] = {{50, 1, 1}, {37, 3, 2}, {20, 10, 1}, {9, 20, 7}, {5, 33, 40}, {3, 100, 100}, {4, 65, 3}};
    sapm_rng rng;
    int c;
    sapm_rng_seed(&rng, 8);
    for (c = 0; c < (int)(sizeof cfg / sizeof cfg[0]); ++c) {
        int count = cfg[c][0], n = cfg[c][1], nrhs = cfg[c][2], s, bad = count / 2;
        size_t na = (size_t)count * n * n, nb = (size_t)count * n * nrhs;
        double *A = (double *)malloc(na * sizeof(double)), *B = (double *)malloc(nb * sizeof(double));
        double *A1 = (double *)malloc(na * sizeof(double)), *B1 = (double *)malloc(nb * sizeof(double));
        int *info = (int *)malloc((size_t)count * sizeof(int));
        for (s = 0; s < count; ++s) make_spd(&rng, n, 0.2, A + (size_t)s * n * n, n);
        for (s = 0; s < (int)nb; ++s) B[s] = sapm_rng_normal(&rng);
        /* one failing system in the batch (when there are several) */
        if (count > 1) A[(size_t)bad * n * n + (size_t)(n - 1) * n + (n - 1)] = -1.0;
        memcpy(A1, A, na * sizeof(double));
        memcpy(B1, B, nb * sizeof(double));
        CHECK_EQ_INT(sapm_chol_solve_batched(count, n, nrhs, A, B, info),
                     count > 1 ? SAPM_ERR_NOT_POSITIVE_DEFINITE : SAPM_OK);
        for (s = 0; s < count; ++s) {
            int inf1 = -1;
            double *As = A1 + (size_t)s * n * n, *Bs = B1 + (size_t)s * n * nrhs;
            sapm_result r1 = sapm_chol_factor(n, As, n, &inf1);
            size_t q;
            CHECK_EQ_INT(info[s], inf1);
            if (count > 1 && s == bad) { CHECK_EQ_INT(info[s], n); continue; }
            CHECK_EQ_INT(r1, SAPM_OK);
            sapm_chol_solve(n, nrhs, As, n, Bs, nrhs);
            for (q = 0; q < (size_t)n * nrhs; ++q)
                CHECK_REL(B[(size_t)s * n * nrhs + q], Bs[q], 1e-11, 1.0);
        }
        free(A); free(B); free(A1); free(B1); free(info);
    }
}

static void test_kernels_bad_arguments(void)
{
    double A[16] = {4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4}, B[16] = {0}, C[16] = {0};
    int info[2];
    /* gemm */
    CHECK_EQ_INT(sapm_gemm((sapm_transpose)2, SAPM_NO_TRANS, 2, 2, 2, 1, A, 2, B, 2, 0, C, 2), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, (sapm_transpose)-1, 2, 2, 2, 1, A, 2, B, 2, 0, C, 2), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 0, 2, 2, 1, A, 2, B, 2, 0, C, 2), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 2, -1, 2, 1, A, 2, B, 2, 0, C, 2), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 2, 2, -1, 1, A, 2, B, 2, 0, C, 2), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 2, 2, 2, 1, NULL, 2, B, 2, 0, C, 2), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 2, 2, 2, 1, A, 2, NULL, 2, 0, C, 2), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 2, 2, 2, 1, A, 2, B, 2, 0, NULL, 2), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 2, 3, 2, 1, A, 2, B, 3, 0, C, 2), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, 2, 2, 3, 1, A, 2, B, 2, 0, C, 2), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, 3, 2, 2, 1, A, 2, B, 2, 0, C, 2), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, 2, 2, 3, 1, A, 3, B, 2, 0, C, 2), SAPM_ERR_SIZE_MISMATCH);
    /* syrk */
    CHECK_EQ_INT(sapm_syrk((sapm_transpose)5, 2, 2, 1, A, 2, 0, C, 2), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_syrk(SAPM_NO_TRANS, 0, 2, 1, A, 2, 0, C, 2), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_syrk(SAPM_NO_TRANS, 2, -2, 1, A, 2, 0, C, 2), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_syrk(SAPM_NO_TRANS, 2, 2, 1, NULL, 2, 0, C, 2), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_syrk(SAPM_NO_TRANS, 2, 2, 1, A, 2, 0, NULL, 2), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_syrk(SAPM_NO_TRANS, 2, 3, 1, A, 2, 0, C, 2), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_syrk(SAPM_TRANS, 3, 2, 1, A, 2, 0, C, 3), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_syrk(SAPM_TRANS, 2, 2, 1, A, 2, 0, C, 1), SAPM_ERR_SIZE_MISMATCH);
    /* chol_factor */
    info[0] = 99;
    CHECK_EQ_INT(sapm_chol_factor(0, A, 4, info), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(info[0], 0);
    CHECK_EQ_INT(sapm_chol_factor(-3, A, 4, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_chol_factor(4, NULL, 4, info), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_chol_factor(4, A, 3, info), SAPM_ERR_SIZE_MISMATCH);
    /* trsm_lower */
    CHECK_EQ_INT(sapm_trsm_lower((sapm_transpose)7, 2, 2, A, 2, B, 2), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_trsm_lower(SAPM_NO_TRANS, 0, 2, A, 2, B, 2), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_trsm_lower(SAPM_NO_TRANS, 2, 0, A, 2, B, 2), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_trsm_lower(SAPM_NO_TRANS, 2, 2, NULL, 2, B, 2), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_trsm_lower(SAPM_TRANS, 2, 2, A, 2, NULL, 2), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_trsm_lower(SAPM_NO_TRANS, 2, 2, A, 1, B, 2), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_trsm_lower(SAPM_NO_TRANS, 2, 3, A, 2, B, 2), SAPM_ERR_SIZE_MISMATCH);
    /* chol_solve */
    CHECK_EQ_INT(sapm_chol_solve(0, 1, A, 4, B, 1), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_chol_solve(4, -1, A, 4, B, 1), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_chol_solve(4, 1, NULL, 4, B, 1), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_chol_solve(4, 1, A, 4, NULL, 1), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_chol_solve(4, 1, A, 2, B, 1), SAPM_ERR_SIZE_MISMATCH);
    CHECK_EQ_INT(sapm_chol_solve(4, 2, A, 4, B, 1), SAPM_ERR_SIZE_MISMATCH);
    /* chol_solve_batched */
    CHECK_EQ_INT(sapm_chol_solve_batched(1, 2, 1, NULL, B, info), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_chol_solve_batched(1, 2, 1, A, NULL, info), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_chol_solve_batched(0, 2, 1, A, B, info), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_chol_solve_batched(1, 0, 1, A, B, info), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_chol_solve_batched(1, 2, -1, A, B, info), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_chol_solve_batched(INT_MAX, INT_MAX, INT_MAX, A, B, info), SAPM_ERR_INVALID_SIZE);
    /* the valid call still works after all that (and info may be NULL) */
    CHECK_EQ_INT(sapm_chol_solve_batched(1, 4, 1, A, B, NULL), SAPM_OK);
    CHECK(A[0] == 2.0);
}

static void run_kernels_tests(void)
{
    printf("simd path: %s\n", sapm_simd_path());
    RUN(test_gemm_all_forms);
    RUN(test_gemm_large_blocks);
    RUN(test_gemm_k0_alpha0);
    RUN(test_syrk_both_forms);
    RUN(test_syrk_long_k);
    RUN(test_trsm_both);
    RUN(test_trsm_right_lt);
    RUN(test_chol_factor_solve);
    RUN(test_chol_near_singular);
    RUN(test_chol_not_spd);
    RUN(test_batched_vs_single);
    RUN(test_kernels_bad_arguments);
}

#ifndef SAPM_TEST_UNITY
int main(void)
{
    run_kernels_tests();
    return sapm_test_summary();
}
#endif
