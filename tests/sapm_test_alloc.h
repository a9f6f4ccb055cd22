/* sapm_test_alloc.h - the tests' instrumented allocator, installed through the library's
 * SAPM_MALLOC / SAPM_REALLOC / SAPM_FREE hooks. Include it before the implementation, in
 * one translation unit (it defines the allocator as static functions of that unit).
 *
 *   sapm_test_largest_alloc   the largest single request since it was last set to 0
 *                             (model-file loads must stay bounded by what the file says)
 *   sapm_test_alloc_limit     when nonzero, requests above it fail (memory bounds) */
#ifndef SAPM_TEST_ALLOC_H
#define SAPM_TEST_ALLOC_H
#include <stdlib.h>

static size_t sapm_test_largest_alloc, sapm_test_alloc_limit;

static void *sapm_test_malloc(size_t n)
{
    if (n > sapm_test_largest_alloc) sapm_test_largest_alloc = n;
    if (sapm_test_alloc_limit && n > sapm_test_alloc_limit) return NULL;
    return malloc(n);
}

static void *sapm_test_realloc(void *p, size_t n)
{
    if (n > sapm_test_largest_alloc) sapm_test_largest_alloc = n;
    return realloc(p, n);
}

#define SAPM_MALLOC(sz) sapm_test_malloc(sz)
#define SAPM_REALLOC(p, sz) sapm_test_realloc(p, sz)
#define SAPM_FREE(p) free(p)
#endif
