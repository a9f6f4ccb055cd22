/* Activation tests: values against libm over wide ranges (tiny, moderate and huge |z|,
 * +-0, +-Inf, NaN), derivatives against central finite differences of the next lower
 * order, position independence of the SIMD tail, aliasing, and bad arguments. */
#include "sapm.h"
#include "sapm_test.h"
#include <float.h>

#define TEST_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TEST_MIN(a, b) ((a) < (b) ? (a) : (b))

/* error in units of the last place of ref (at least the smallest normal's ulp) */
static double ulp_err(double got, double ref)
{
    double u;
    if (isnan(ref)) return isnan(got) ? 0.0 : 1e300;
    if (isinf(ref)) return got == ref ? 0.0 : 1e300;
    u = fabs(ref) > DBL_MIN ? nextafter(fabs(ref), INFINITY) - fabs(ref) : 4.9e-324;
    return fabs(got - ref) / u;
}

/* values z: a spread over [-lim, lim] plus special cases */
static size_t fill_args(sapm_rng *rng, double *z, size_t n, double lim)
{
    size_t i, k = 0;
    static const double special[] = {0.0, -0.0, 1e-300, -1e-300, 4.9e-324, 1e-17, -1e-9, 1e-5,
                                     0.625, -0.625, 0.62500000000000011, 0.5, 1.0, -1.0,
                                     3.14159265358979312, 1.57079632679489656, 20.0, -20.0,
                                     19.06154746539849, 40.0, -710.0, 710.0, 1e5, -1e5};
    for (i = 0; i < sizeof special / sizeof special[0] && k < n; ++i) z[k++] = special[i];
    for (; k < n; ++k) {
        double u = sapm_rng_uniform(rng);
        if (k % 3 == 0) z[k] = lim * (2.0 * u - 1.0);
        else if (k % 3 == 1) z[k] = (u < 0.5 ? -1.0 : 1.0) * pow(10.0, -12.0 + 12.0 * sapm_rng_uniform(rng));
        else z[k] = 3.0 * (2.0 * u - 1.0);
    }
    return k;
}

static void test_tanh_vs_libm(void)
{
    enum { N = 20000 };
    static double z[N], s[N], d1[N], d2[N], d3[N];
    sapm_rng rng;
    size_t i;
    double worst = 0.0;
    sapm_rng_seed(&rng, 11);
    fill_args(&rng, z, N, 30.0);
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_TANH, N, z, s, d1, d2, d3), SAPM_OK);
    for (i = 0; i < N; ++i) {
        double t = tanh(z[i]), e = ulp_err(s[i], t);
        if (e > worst) worst = e;
        /* derivative formulas in terms of t (their own rounding only) */
        CHECK_NEAR(d1[i], 1.0 - t * t, 4e-16);
        CHECK_NEAR(d2[i], -2.0 * t * (1.0 - t * t), 1e-15);
        CHECK_NEAR(d3[i], -2.0 * ((1.0 - t * t) * (1.0 - t * t) - 2.0 * t * t * (1.0 - t * t)), 2e-15);
    }
    /* libm is within 1 ulp itself; the vector kernel is within a few */
    CHECK(worst <= 4.0);
    printf("  tanh: max error vs libm %.2f ulp\n", worst);
    /* special values */
    {
        double sp[6] = {INFINITY, -INFINITY, NAN, -0.0, 1e300, -1e300}, o[6];
        CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_TANH, 6, sp, o, NULL, NULL, NULL), SAPM_OK);
        CHECK(o[0] == 1.0 && o[1] == -1.0 && isnan(o[2]) && o[3] == 0.0 && signbit(o[3]));
        CHECK(o[4] == 1.0 && o[5] == -1.0);
    }
}

static void test_sin_vs_libm(void)
{
    enum { N = 20000 };
    static double z[N], s[N], c[N], ms[N], mc[N];
    sapm_rng rng;
    size_t i;
    double worst = 0.0, worst_abs = 0.0;
    sapm_rng_seed(&rng, 12);
    fill_args(&rng, z, N, 2e5); /* includes the libm fallback beyond 1e5 */
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_SIN, N, z, s, c, ms, mc), SAPM_OK);
    for (i = 0; i < N; ++i) {
        double rs = sin(z[i]), rc = cos(z[i]), e = ulp_err(s[i], rs), ec = ulp_err(c[i], rc);
        /* near a zero of sin/cos the absolute error (~1e-16 |z| / 2^53 of the reduction)
         * is what is guaranteed; elsewhere a few ulp */
        if (fabs(rs) > 1e-3 && e > worst) worst = e;
        if (fabs(rc) > 1e-3 && ec > worst) worst = ec;
        worst_abs = TEST_MAX(worst_abs, TEST_MAX(fabs(s[i] - rs), fabs(c[i] - rc)));
        CHECK(ms[i] == -s[i] && mc[i] == -c[i]);
    }
    CHECK(worst <= 4.0);
    CHECK(worst_abs <= 2.3e-16);
    printf("  sin/cos: max error vs libm %.2f ulp (|value| > 1e-3), max abs %.3g\n", worst, worst_abs);
    {
        double sp[5] = {INFINITY, -INFINITY, NAN, 1e22, 1e-310}, o[5], oc[5];
        CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_SIN, 5, sp, o, oc, NULL, NULL), SAPM_OK);
        CHECK(isnan(o[0]) && isnan(o[1]) && isnan(o[2]) && isnan(oc[0]) && isnan(oc[2]));
        CHECK(o[3] == sin(1e22) && oc[3] == cos(1e22));
        CHECK(o[4] == 1e-310 && oc[4] == 1.0);
    }
}

static void test_sigmoid_softplus_vs_libm(void)
{
    enum { N = 20000 };
    static double z[N], s[N], d1[N], d2[N], d3[N], p[N], q1[N];
    sapm_rng rng;
    size_t i;
    double worst = 0.0, worst_sp = 0.0;
    sapm_rng_seed(&rng, 13);
    fill_args(&rng, z, N, 800.0);
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_SIGMOID, N, z, s, d1, d2, d3), SAPM_OK);
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_SOFTPLUS, N, z, p, q1, NULL, NULL), SAPM_OK);
    for (i = 0; i < N; ++i) {
        double x = z[i], ref = x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
        double e = ulp_err(s[i], ref);
        double r1 = exp(-fabs(x)) / ((1.0 + exp(-fabs(x))) * (1.0 + exp(-fabs(x))));
        if (e > worst) worst = e;
        CHECK_REL(d1[i], r1, 1e-15, 1e-300);
        CHECK_NEAR(d2[i], r1 * (1.0 - 2.0 * ref), 1e-15);
        CHECK_NEAR(d3[i], r1 * ((1.0 - 2.0 * ref) * (1.0 - 2.0 * ref) - 2.0 * r1), 1e-15);
        CHECK(q1[i] == s[i]); /* softplus' = sigmoid, bit for bit */
        {
            double rsp = (x > 0 ? x : 0.0) + log1p(exp(-fabs(x)));
            double esp = ulp_err(p[i], rsp);
            if (esp > worst_sp) worst_sp = esp;
        }
    }
    CHECK(worst <= 4.0);
    CHECK(worst_sp <= 2.0);
    printf("  sigmoid: max error vs libm formula %.2f ulp; softplus %.2f ulp\n", worst, worst_sp);
    {
        double sp[4] = {INFINITY, -INFINITY, NAN, -1000.0}, o[4], o1[4];
        CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_SIGMOID, 4, sp, o, o1, NULL, NULL), SAPM_OK);
        CHECK(o[0] == 1.0 && o[1] == 0.0 && isnan(o[2]) && o[3] == 0.0);
        CHECK(o1[0] == 0.0 && o1[1] == 0.0 && isnan(o1[2]));
    }
}

static void test_gelu_relu_values(void)
{
    double z[7] = {-3.0, -0.5, 0.0, 1e-8, 0.7, 2.0, 40.0}, s[7], d1[7], d2[7], d3[7];
    int i;
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_GELU, 7, z, s, d1, d2, d3), SAPM_OK);
    /* erfc amplifies the rounding of its argument by ~2u^2 (u = z/sqrt 2): a few 1e-15
     * between z/sqrt(2) and z*(1/sqrt 2) at |z| = 3 */
    for (i = 0; i < 7; ++i) CHECK_REL(s[i], z[i] * 0.5 * erfc(-z[i] / sqrt(2.0)), 1e-14, 1e-300);
    CHECK(s[6] == 40.0 && d1[6] == 1.0);
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_RELU, 7, z, s, d1, d2, d3), SAPM_OK);
    for (i = 0; i < 7; ++i) {
        CHECK(s[i] == (z[i] > 0 ? z[i] : 0.0));
        CHECK(d1[i] == (z[i] > 0 ? 1.0 : 0.0));
        CHECK(d2[i] == 0.0 && d3[i] == 0.0);
    }
}

/* GELU at +-Inf and at |z| so large that z^2 overflows: the limits (z, 1, 0, 0 above,
 * 0, 0, 0, 0 below), never the NaN of Inf * 0 */
static void test_gelu_limits(void)
{
    double z[8] = {-INFINITY, -1e200, -1e160, -50.0, 50.0, 1e160, 1e200, INFINITY};
    double s[8], d1[8], d2[8], d3[8];
    int i;
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_GELU, 8, z, s, d1, d2, d3), SAPM_OK);
    for (i = 0; i < 8; ++i) {
        CHECK(s[i] == (z[i] > 0 ? z[i] : 0.0));
        CHECK(d1[i] == (z[i] > 0 ? 1.0 : 0.0));
        CHECK(d2[i] == 0.0 && d3[i] == 0.0);
    }
}

/* s_{d+1}(z) ~ (s_d(z+h) - s_d(z-h)) / 2h for d = 0, 1, 2 (central differences, error
 * O(h^2 |s_{d+3}|) + O(eps |s_d| / h)) */
static void test_derivatives_fd(void)
{
    enum { N = 203 };
    sapm_rng rng;
    int a, i, d;
    double z[N], zp[N], zm[N], v[4][N], vp[4][N], vm[4][N], h = 1e-5;
    sapm_rng_seed(&rng, 14);
    for (i = 0; i < N; ++i) z[i] = 8.0 * sapm_rng_uniform(&rng) - 4.0;
    for (a = 0; a < SAPM_ACT_COUNT; ++a) {
        if (a == SAPM_ACT_RELU) continue;
        for (i = 0; i < N; ++i) {
            if (a == SAPM_ACT_RELU && fabs(z[i]) < 2 * h) z[i] = 0.5;
            zp[i] = z[i] + h;
            zm[i] = z[i] - h;
        }
        sapm_activation_eval((sapm_activation)a, N, z, v[0], v[1], v[2], v[3]);
        sapm_activation_eval((sapm_activation)a, N, zp, vp[0], vp[1], vp[2], vp[3]);
        sapm_activation_eval((sapm_activation)a, N, zm, vm[0], vm[1], vm[2], vm[3]);
        for (d = 0; d < 3; ++d)
            for (i = 0; i < N; ++i) {
                double fd = (vp[d][i] - vm[d][i]) / (zp[i] - zm[i]);
                CHECK_NEAR(fd, v[d + 1][i], 1e-8);
            }
    }
    /* relu: s1 by differences away from the kink */
    for (i = 0; i < N; ++i) { zp[i] = z[i] + h; zm[i] = z[i] - h; }
    sapm_activation_eval(SAPM_ACT_RELU, N, z, v[0], v[1], NULL, NULL);
    sapm_activation_eval(SAPM_ACT_RELU, N, zp, vp[0], NULL, NULL, NULL);
    sapm_activation_eval(SAPM_ACT_RELU, N, zm, vm[0], NULL, NULL, NULL);
    for (i = 0; i < N; ++i)
        if (fabs(z[i]) > 2 * h) CHECK_NEAR((vp[0][i] - vm[0][i]) / (zp[i] - zm[i]), v[1][i], 1e-9);
}

static void test_tail_alias_null(void)
{
    /* every length 1..19: element i gives the same bits as evaluating it alone, with
     * outputs NULL in any combination and z aliasing s0 */
    sapm_rng rng;
    int a, n, i;
    sapm_rng_seed(&rng, 15);
    for (a = 0; a < SAPM_ACT_COUNT; ++a)
        for (n = 1; n < 20; ++n) {
            double z[20], s0[20], s1[20], s3[20], one0, one1, one3, al[20];
            for (i = 0; i < n; ++i) z[i] = 6.0 * sapm_rng_uniform(&rng) - 3.0;
            memcpy(al, z, sizeof z);
            CHECK_EQ_INT(sapm_activation_eval((sapm_activation)a, (size_t)n, z, s0, s1, NULL, s3), SAPM_OK);
            CHECK_EQ_INT(sapm_activation_eval((sapm_activation)a, (size_t)n, al, al, NULL, NULL, NULL), SAPM_OK);
            for (i = 0; i < n; ++i) {
                sapm_activation_eval((sapm_activation)a, 1, z + i, &one0, &one1, NULL, &one3);
                CHECK(one0 == s0[i] && one1 == s1[i] && one3 == s3[i]);
                CHECK(al[i] == s0[i]);
            }
        }
}

static void test_bad_arguments(void)
{
    double z[2] = {0.1, 0.2}, s[2];
    CHECK_EQ_INT(sapm_activation_eval((sapm_activation)-1, 2, z, s, NULL, NULL, NULL), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_COUNT, 2, z, s, NULL, NULL, NULL), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_TANH, 2, NULL, s, NULL, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_TANH, 0, NULL, NULL, NULL, NULL, NULL), SAPM_OK);
    CHECK_EQ_INT(sapm_activation_eval(SAPM_ACT_SIN, 2, z, NULL, NULL, NULL, NULL), SAPM_OK); /* nothing asked */
    CHECK(strcmp(sapm_activation_name(SAPM_ACT_GELU), "gelu") == 0);
    CHECK(strcmp(sapm_activation_name((sapm_activation)99), "unknown") == 0);
    CHECK(sapm_activation_lipschitz((sapm_activation)99) < 0.0);
    CHECK(sapm_activation_lipschitz(SAPM_ACT_SIGMOID) == 0.25);
    /* GELU's Lipschitz constant is max Phi + z phi, at z = sqrt 2 (where s'' = 0) */
    {
        double zz = sqrt(2.0), d1, d2;
        sapm_activation_eval(SAPM_ACT_GELU, 1, &zz, NULL, &d1, &d2, NULL);
        CHECK_NEAR(d1, sapm_activation_lipschitz(SAPM_ACT_GELU), 1e-15);
        CHECK_NEAR(d2, 0.0, 1e-15);
    }
}

int main(void)
{
    printf("simd path: %s\n", sapm_simd_path());
    RUN(test_tanh_vs_libm);
    RUN(test_sin_vs_libm);
    RUN(test_sigmoid_softplus_vs_libm);
    RUN(test_gelu_relu_values);
    RUN(test_gelu_limits);
    RUN(test_derivatives_fd);
    RUN(test_tail_alias_null);
    RUN(test_bad_arguments);
    return sapm_test_summary();
}
