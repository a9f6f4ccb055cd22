/* Configuration macros: SAPM_STATIC, a counting SAPM_MALLOC/REALLOC/FREE (every
 * allocation freed after create/destroy, after failing calls, and after injected
 * allocation failures), a custom SAPM_ASSERT, SAPM_NO_STDIO and SAPM_NO_SIMD, and a
 * second include of the header after the implementation. */
#include <stdlib.h>

typedef struct count_alloc {
    long live;      /* blocks currently allocated */
    long total;     /* allocations made */
    long fail_at;   /* the allocation with this 1-based number fails (0 = never) */
} count_alloc;
static count_alloc g_alloc;

/* With OpenMP the library allocates from several threads: the counters are updated in
 * one critical section (SAPM_MALLOC/FREE must be thread-safe in a threaded build). */
#ifdef _OPENMP
#include <omp.h>
#define COUNT_LOCKED(stmt) do { _Pragma("omp critical(count_alloc)") { stmt; } } while (0)
#else
#define COUNT_LOCKED(stmt) do { stmt; } while (0)
#endif

static void *count_malloc(size_t n)
{
    int fail = 0;
    COUNT_LOCKED(fail = g_alloc.fail_at && g_alloc.total + 1 == g_alloc.fail_at;
                 ++g_alloc.total; if (!fail) ++g_alloc.live);
    return fail ? NULL : malloc(n);
}

static void *count_realloc(void *p, size_t n)
{
    int fail = 0;
    if (!p) return count_malloc(n);
    COUNT_LOCKED(fail = g_alloc.fail_at && g_alloc.total + 1 == g_alloc.fail_at; ++g_alloc.total);
    return fail ? NULL : realloc(p, n);
}

static void count_free(void *p)
{
    if (p) COUNT_LOCKED(--g_alloc.live);
    free(p);
}

static long g_asserts;

#define SAPM_MALLOC(sz) count_malloc(sz)
#define SAPM_REALLOC(p, sz) count_realloc(p, sz)
#define SAPM_FREE(p) count_free(p)
#define SAPM_ASSERT(x) ((void)(++g_asserts, (x) ? 0 : (abort(), 0)))
#define SAPM_STATIC
#ifndef SAPM_NO_STDIO
#define SAPM_NO_STDIO
#endif
#ifndef SAPM_NO_SIMD /* the scalar configuration passes it on the command line */
#define SAPM_NO_SIMD
#endif
#define SAPM_IMPLEMENTATION
#include "sapm.h"
#include "sapm.h" /* a second include (declarations and implementation) is harmless */
#include "sapm_test.h"

static void test_paths_compiled(void)
{
    CHECK(strcmp(sapm_simd_path(), "scalar") == 0); /* SAPM_NO_SIMD */
#ifdef SAPM__AVX512
    CHECK(0);
#endif
#ifdef SAPM__AVX2
    CHECK(0);
#endif
}

static void test_alloc_balanced(void)
{
    sapm_net net;
    int widths[4] = {3, 17, 9, 2}, bad[3] = {3, 0, 1};
    double *A, *C, x[3] = {0.1, 0.2, 0.3}, u[2];
    int i, n = 130, k = 300;
    memset(&g_alloc, 0, sizeof g_alloc);
    CHECK_EQ_INT(sapm_net_create(&net, 3, widths, SAPM_ACT_TANH), SAPM_OK);
    CHECK(g_alloc.live > 0);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3), SAPM_OK);
    g_alloc.total = 0;
    CHECK_EQ_INT(sapm_net_forward(&net, 1, x, 3, u, 2), SAPM_OK);
    CHECK_EQ_INT((int)g_alloc.total, 0);        /* one point: work space on the stack */
    {   /* a batch too big for the stack allocates its tape and frees it */
        double *Xb = (double *)calloc(300 * 3, sizeof(double)), *Ub = (double *)malloc(300 * 2 * sizeof(double));
        long live = g_alloc.live;
        CHECK_EQ_INT(sapm_net_forward(&net, 300, Xb, 3, Ub, 2), SAPM_OK);
        CHECK(g_alloc.total > 0);
        CHECK(g_alloc.live == live);
        free(Xb); free(Ub);
    }
    sapm_net_destroy(&net);
    CHECK_EQ_INT(g_alloc.live, 0);
    /* a failing call leaves nothing allocated */
    CHECK_EQ_INT(sapm_net_create(&net, 2, bad, SAPM_ACT_TANH), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(g_alloc.live, 0);
    /* a product big enough to allocate its packing workspace frees it */
    A = (double *)malloc((size_t)n * k * sizeof(double));
    C = (double *)malloc((size_t)n * n * sizeof(double));
    for (i = 0; i < n * k; ++i) A[i] = (double)(i % 7) - 3.0;
    g_alloc.total = 0;
    CHECK_EQ_INT(sapm_syrk(SAPM_NO_TRANS, n, k, 1.0, A, k, 0.0, C, n), SAPM_OK);
    CHECK(g_alloc.total > 0);
    CHECK_EQ_INT(g_alloc.live, 0);
    {   /* Cholesky of C + k I (blocked path: allocates in its GEMM updates) */
        int info = -1;
        for (i = 0; i < n; ++i) C[i * n + i] += k;
        CHECK_EQ_INT(sapm_chol_factor(n, C, n, &info), SAPM_OK);
        CHECK_EQ_INT(g_alloc.live, 0);
    }
    free(A);
    free(C);
}

static void test_alloc_failures(void)
{
    /* fail the j-th allocation of each call in turn: the call reports out-of-memory (or
     * still succeeds where a fallback exists) and leaks nothing */
    sapm_net net;
    int widths[4] = {3, 17, 9, 2}, j, n = 130, k = 300, i;
    double *A = (double *)malloc((size_t)n * k * sizeof(double));
    double *C = (double *)malloc((size_t)n * n * sizeof(double));
    double *R = (double *)malloc((size_t)n * n * sizeof(double));
    for (j = 1; j <= 4; ++j) {
        sapm_result r;
        memset(&g_alloc, 0, sizeof g_alloc);
        g_alloc.fail_at = j;
        r = sapm_net_create(&net, 3, widths, SAPM_ACT_TANH);
        CHECK_EQ_INT(r, SAPM_ERR_OUT_OF_MEMORY);
        CHECK_EQ_INT(g_alloc.live, 0);
        if (r == SAPM_OK) sapm_net_destroy(&net);
    }
    /* GEMM/SYRK without workspace fall back to the plain loop: same answer */
    for (i = 0; i < n * k; ++i) A[i] = (double)(i % 11) - 5.0;
    memset(&g_alloc, 0, sizeof g_alloc);
    CHECK_EQ_INT(sapm_syrk(SAPM_NO_TRANS, n, k, 1.0, A, k, 0.0, R, n), SAPM_OK);
#ifdef _OPENMP
    {   /* threaded: the thread whose allocation fails falls back, the others do not */
        memset(&g_alloc, 0, sizeof g_alloc);
        g_alloc.fail_at = 1;
        memset(C, 0, (size_t)n * n * sizeof(double));
        CHECK_EQ_INT(sapm_syrk(SAPM_NO_TRANS, n, k, 1.0, A, k, 0.0, C, n), SAPM_OK);
        CHECK_EQ_INT(g_alloc.live, 0);
        for (i = 0; i < n * n; ++i) CHECK(C[i] == R[i]);
    }
    omp_set_num_threads(1);   /* one thread: exactly one allocation is attempted */
#endif
    memset(&g_alloc, 0, sizeof g_alloc);
    g_alloc.fail_at = 1;
    memset(C, 0, (size_t)n * n * sizeof(double));
    CHECK_EQ_INT(sapm_syrk(SAPM_NO_TRANS, n, k, 1.0, A, k, 0.0, C, n), SAPM_OK);
    CHECK_EQ_INT(g_alloc.total, 1);
    CHECK_EQ_INT(g_alloc.live, 0);
    for (i = 0; i < n * n; ++i) CHECK(C[i] == R[i]); /* integer data: exact in any order */
    free(A);
    free(C);
    free(R);
}

static void test_custom_assert_used(void)
{
    /* the blocked Cholesky asserts its block bound through SAPM_ASSERT */
    double A[4] = {4, 0, 2, 5};
    int info;
    long before = g_asserts;
    CHECK_EQ_INT(sapm_chol_factor(2, A, 2, &info), SAPM_OK);
    CHECK(g_asserts > before);
}

int main(void)
{
    RUN(test_paths_compiled);
    RUN(test_alloc_balanced);
    RUN(test_alloc_failures);
    RUN(test_custom_assert_used);
    return sapm_test_summary();
}
