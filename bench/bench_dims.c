/* bench_dims - cost against the space dimension d, up to SAPM_PDE_MAX_DIM:
 *   the Halton sampler (plain and scrambled) at d = 16000 and 100000;
 *   one L-BFGS iteration of the PINN on Poisson -Laplace(u) = 1 in [0, 1]^d (u = 0 on the
 *   boundary), net d-32-32-1 tanh, 32 interior and 32 boundary points: wall time and the
 *   library's peak heap (counted by this file's allocator), d = 100 .. 100000.
 * and one LySep outer iteration (SAPM, no polish) at d = 100 .. 5000.
 * The PINN's Laplacian needs all d first-derivative streams, so its cost is linear in d
 * (the tape folds the first layer: no d x d block per point). LySep's first weight block
 * is a (d + 1)-dimensional least-squares solve: O(d^2) memory and O(d^3) time.
 *   cc -O3 -march=native bench/bench_dims.c -o bench_dims -lm && ./bench_dims */
#include <stdlib.h>
#include <string.h>

/* The library's heap: every block carries its size in a 16-byte header (alignment kept),
 * so frees can be counted. */
enum { HDR = 16 };
static size_t heap_now, heap_peak;
static void *bench_malloc(size_t n)
{
    size_t *p = (size_t *)malloc(n + HDR);
    if (!p) return NULL;
    p[0] = n;
    heap_now += n;
    if (heap_now > heap_peak) heap_peak = heap_now;
    return (char *)p + HDR;
}
static void bench_free(void *q)
{
    size_t *p;
    if (!q) return;
    p = (size_t *)(void *)((char *)q - HDR);
    heap_now -= p[0];
    free(p);
}
static void *bench_realloc(void *q, size_t n)
{
    void *r;
    size_t old;
    if (!q) return bench_malloc(n);
    old = ((size_t *)(void *)((char *)q - HDR))[0];
    r = bench_malloc(n);
    if (!r) return NULL;
    memcpy(r, q, old < n ? old : n);
    bench_free(q);
    return r;
}
#define SAPM_MALLOC(n) bench_malloc(n)
#define SAPM_REALLOC(p, n) bench_realloc(p, n)
#define SAPM_FREE(p) bench_free(p)
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "bench_util.h"

static double one(const double *x, int d, void *u) { (void)x; (void)d; (void)u; return 1.0; }
static double zero(const double *x, int d, void *u) { (void)x; (void)d; (void)u; return 0.0; }

static void halton_row(int d, int n, uint64_t seed)
{
    double *lo = (double *)calloc((size_t)d, sizeof(double)), *hi = (double *)calloc((size_t)d, sizeof(double));
    double *X = (double *)malloc((size_t)n * d * sizeof(double)), t0, t1;
    int i;
    sapm_result r;
    for (i = 0; i < d; ++i) hi[i] = 1.0;
    t0 = bench_now();
    r = sapm_sample_halton(d, lo, hi, n, 0, seed, X);
    t1 = bench_now();
    printf("halton  d = %6d  n = %4d  seed = %-2d  %8.3f s  %s\n", d, n, (int)seed, t1 - t0,
           sapm_result_string(r));
    free(lo); free(hi); free(X);
}

static void pinn_row(int d, sapm_method method)
{
    enum { N = 32, M = 32 };
    int w[4], i;
    double *lo = (double *)calloc((size_t)d, sizeof(double)), *hi = (double *)calloc((size_t)d, sizeof(double));
    double *X = (double *)malloc((size_t)N * d * sizeof(double)), *Xb = (double *)malloc((size_t)M * d * sizeof(double));
    double t0, t1;
    sapm_net net;
    sapm_pde pde;
    sapm_pde_options o;
    sapm_report rep;
    sapm_rng rng;
    sapm_result r;
    for (i = 0; i < d; ++i) hi[i] = 1.0;
    sapm_rng_seed(&rng, 1);
    sapm_sample_uniform(d, lo, hi, N, &rng, X);
    sapm_sample_boundary(d, lo, hi, NULL, M, &rng, Xb);
    w[0] = d; w[1] = 32; w[2] = 32; w[3] = 1;
    sapm_net_create(&net, 3, w, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3);
    memset(&pde, 0, sizeof pde);
    pde.d = d; pde.kappa_const = -1.0; pde.f = one; pde.g = zero;
    o = sapm_pde_default_options(method);
    o.base.max_iters = 1; o.base.log_every = 0; o.base.log_seconds = 0.0;
    o.base.polish = SAPM_METHOD_NONE;   /* SAPM: one LySep outer iteration */
    heap_peak = heap_now;
    t0 = bench_now();
    r = sapm_pde_train(&net, &pde, N, X, M, Xb, &o, &rep);
    t1 = bench_now();
    printf("%-6s 1 iteration  d = %6d  %8.3f s  peak heap %8.1f MB (net %.1f MB)  J_PINN %.4g  %s\n",
           method == SAPM_METHOD_SAPM ? "LySep" : "L-BFGS", d, t1 - t0, (double)(heap_peak - heap_now) / 1048576.0 + (double)net.n_params * 8.0 / 1048576.0,
           (double)net.n_params * 8.0 / 1048576.0, rep.mse, sapm_result_string(r));
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
    free(lo); free(hi); free(X); free(Xb);
}

int main(void)
{
    static const int dims[] = {100, 1000, 5000, 20000, 100000};
    size_t k;
    halton_row(16000, 100, 0);
    halton_row(16000, 100, 7);
    halton_row(100000, 100, 0);
    halton_row(100000, 100, 7);
    for (k = 0; k < sizeof dims / sizeof dims[0]; ++k) pinn_row(dims[k], SAPM_METHOD_LBFGS);
    /* LySep's layer-1 weight block is (d + 1)-dimensional: O(d^2) memory, O(d^3) time */
    for (k = 0; k < 3; ++k) pinn_row(dims[k], SAPM_METHOD_SAPM);
    return 0;
}
