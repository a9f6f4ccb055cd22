/* Smoke tests: the header compiles in this configuration and the basics answer. */
#ifndef SAPM_TEST_UNITY /* else tests/sapm_impl.c holds the implementation */
#define SAPM_IMPLEMENTATION
#endif
#include "sapm.h"
#include "sapm_test.h"

static void test_result_strings(void)
{
    int r;
    for (r = 0; r >= -14; --r) CHECK(strcmp(sapm_result_string((sapm_result)r), "unknown sapm_result code") != 0);
    CHECK(strcmp(sapm_result_string((sapm_result)-999), "unknown sapm_result code") == 0);
}

static void test_rng_reproducible(void)
{
    sapm_rng a, b;
    int i;
    sapm_rng_seed(&a, 42);
    sapm_rng_seed(&b, 42);
    for (i = 0; i < 100; ++i) CHECK(sapm_rng_next_u64(&a) == sapm_rng_next_u64(&b));
    sapm_rng_seed(&a, 0);
    /* splitmix64(0) first output, a published constant */
    { uint64_t x = 0; CHECK(sapm__splitmix64(&x) == 0xE220A8397B1DCDAFull); }
}

static void test_net_forward_shallow(void)
{
    /* one hidden tanh layer, checked against the formula by hand */
    sapm_net net;
    int widths[3] = {2, 3, 1}, i;
    double x[2] = {0.3, -0.7}, u = 0.0, ref = 0.0;
    CHECK_EQ_INT(sapm_net_create(&net, 2, widths, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_UNIFORM, 1.0, 7), SAPM_OK);
    CHECK_EQ_INT(sapm_net_forward(&net, 1, x, 2, &u, 1), SAPM_OK);
    for (i = 0; i < 3; ++i) ref += net.W[1][i] * tanh(net.W[0][2 * i] * x[0] + net.W[0][2 * i + 1] * x[1] + net.b[0][i]);
    ref += net.b[1][0];
    CHECK_NEAR(u, ref, 1e-14);
    sapm_net_destroy(&net);
}

static void run_smoke_tests(void)
{
    RUN(test_result_strings);
    RUN(test_rng_reproducible);
    RUN(test_net_forward_shallow);
}

#ifndef SAPM_TEST_UNITY
int main(void)
{
    run_smoke_tests();
    return sapm_test_summary();
}
#endif
