/* bench_kernels - sapm.h's GEMM / SYRK / Cholesky / batched SPD solver against OpenBLAS
 * and LAPACKE (single-threaded), measured side by side in the same run.
 *
 *   make bench          (the Makefile adds -DSAPM_BENCH_OPENBLAS and the flags when found)
 *   cc -O3 -march=native bench/bench_kernels.c -lm          (sapm.h's numbers only)
 *   build/bench/bench_kernels quick                          (smaller shape set)
 *   build/bench/bench_kernels solvers                        (only Cholesky and batched)
 *   cc -O3 -mavx2 -mfma ...                                  (the AVX2 path on an AVX-512 CPU)
 *
 * It first prints the CPU model, its L1d/L2 sizes, the SIMD path compiled in and the
 * peak FMA rate of one core on that path (measured by a loop of independent FMAs).
 * Every number is the median over repeats (at least 3, more for short calls, about
 * 0.1 s per configuration); the two libraries alternate within each repeat so machine
 * noise hits both. ratio = sapm GFLOP/s / OpenBLAS GFLOP/s (>= 1: sapm faster) for
 * GEMM/SYRK, and sapm time / LAPACK time (<= 1: sapm faster) for the solvers and the
 * activations (against the same derivative formulas evaluated with libm). */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"

#ifdef SAPM_BENCH_OPENBLAS
#include <cblas.h>
#include <lapacke.h>
void openblas_set_num_threads(int num_threads);
#define PEER 1
#else
#define PEER 0
#endif

#define MAXREP 41

/* The CPU model (Linux: /proc/cpuinfo) and its L1d / L2 sizes (sysfs), "unknown" elsewhere. */
static void cpu_description(char *out, size_t size)
{
    char line[256], l1[32] = "?", l2[32] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(out, size, "unknown");
    if (f) {
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
                char *v = strchr(line, ':') + 1;
                while (*v == ' ') ++v;
                v[strcspn(v, "\n")] = 0;
                snprintf(out, size, "%s", v);
                break;
            }
        fclose(f);
    }
    if ((f = fopen("/sys/devices/system/cpu/cpu0/cache/index0/size", "r"))) {
        if (fgets(l1, sizeof l1, f)) l1[strcspn(l1, "\n")] = 0;
        fclose(f);
    }
    if ((f = fopen("/sys/devices/system/cpu/cpu0/cache/index2/size", "r"))) {
        if (fgets(l2, sizeof l2, f)) l2[strcspn(l2, "\n")] = 0;
        fclose(f);
    }
    {
        size_t len = strlen(out);
        snprintf(out + len, size - len, " (L1d %s, L2 %s per core)", l1, l2);
    }
}

/* Peak FMA rate of one core on the SIMD path this file is compiled for (the same flags
 * as the library's kernels), measured: 12 independent chains x <- x a + b (more than
 * FMA latency x units on current cores) for about 0.05 s. */
#if defined(__AVX512F__) && !defined(SAPM_NO_SIMD)
#include <immintrin.h>
typedef __m512d peak_vec;
#define PEAK_LANES 8
#define PEAK_SET(v) _mm512_set1_pd(v)
#define PEAK_FMA(x, a, b) _mm512_fmadd_pd(x, a, b)
#define PEAK_SUM(x) _mm512_reduce_add_pd(x)
#define PEAK_ADD(x, y) _mm512_add_pd(x, y)
#elif defined(__AVX2__) && defined(__FMA__) && !defined(SAPM_NO_SIMD)
#include <immintrin.h>
typedef __m256d peak_vec;
#define PEAK_LANES 4
#define PEAK_SET(v) _mm256_set1_pd(v)
#define PEAK_FMA(x, a, b) _mm256_fmadd_pd(x, a, b)
#define PEAK_ADD(x, y) _mm256_add_pd(x, y)
static double peak_sum(__m256d x)
{
    double t[4];
    _mm256_storeu_pd(t, x);
    return t[0] + t[1] + t[2] + t[3];
}
#define PEAK_SUM(x) peak_sum(x)
#else
typedef double peak_vec;   /* no SIMD path: scalar multiply-adds */
#define PEAK_LANES 1
#define PEAK_SET(v) (v)
#define PEAK_FMA(x, a, b) ((x) * (a) + (b))
#define PEAK_ADD(x, y) ((x) + (y))
#define PEAK_SUM(x) (x)
#endif

static double peak_gflops(void)
{
    double best = 0.0, sink = 0.0;
    int rep;
    for (rep = 0; rep < 3; ++rep) {
        long it, iters = 1000000;
        double t0 = SAPM_NOW(), t;
        peak_vec x[12], a = PEAK_SET(0.999999), b = PEAK_SET(1e-7);
        int q;
        for (q = 0; q < 12; ++q) x[q] = PEAK_SET(1.0 + q);
        for (it = 0; it < iters; ++it)
            for (q = 0; q < 12; ++q) x[q] = PEAK_FMA(x[q], a, b);
        for (q = 1; q < 12; ++q) x[0] = PEAK_ADD(x[0], x[q]);
        sink += PEAK_SUM(x[0]);
        t = SAPM_NOW() - t0;
        if (12.0 * PEAK_LANES * 2.0 * iters / t > best) best = 12.0 * PEAK_LANES * 2.0 * iters / t;
    }
    if (sink == 12345.0) printf(" ");
    return best * 1e-9;
}

static double *rand_matrix(size_t n, unsigned seed)
{
    sapm_rng rng;
    size_t i;
    double *a = (double *)malloc((n ? n : 1) * sizeof(double));
    sapm_rng_seed(&rng, seed);
    for (i = 0; i < n; ++i) a[i] = 2.0 * sapm_rng_uniform(&rng) - 1.0;
    return a;
}

/* number of repeats for a call that takes about t seconds */
static int repeats_for(double t)
{
    int r = (int)(0.1 / (t > 1e-9 ? t : 1e-9));
    if (r < 3) r = 3;
    if (r > MAXREP) r = MAXREP;
    return r | 1;
}

typedef enum { OP_SYRK_T, OP_SYRK_N, OP_GEMM_TN, OP_GEMM_NT, OP_GEMM_NN, OP_GEMM_WH } op_kind;
static const char *op_names[] = {"SYRK A^T A", "SYRK A A^T", "GEMM A^T B", "GEMM A B^T", "GEMM A B", "GEMM W H"};

/* One matrix product of the training shapes, with N samples and widths n, m:
 *   SYRK_T: C(n x n) = A^T A, A N x n (sample-major)   SYRK_N: C = A A^T, A n x N (feature-major)
 *   GEMM_TN: C(n x m) = A^T B, A N x n, B N x m         GEMM_NT: C(N x m) = A B^T, A N x n, B m x n
 *   GEMM_NN: C(N x m) = A B, A N x n, B n x m           GEMM_WH: C(m x N) = W H, W m x n, H n x N */
typedef struct { op_kind op; int N, n, m; double *A, *B, *C; } shape;

static double flops_of(const shape *s)
{
    double N = s->N, n = s->n, m = s->m;
    switch (s->op) {
    case OP_SYRK_T: case OP_SYRK_N: return N * n * (n + 1); /* the triangle: n(n+1)/2 dots */
    default: return 2.0 * N * n * m;
    }
}

static void run_sapm(const shape *s)
{
    int N = s->N, n = s->n, m = s->m;
    switch (s->op) {
    case OP_SYRK_T: sapm_syrk(SAPM_TRANS, n, N, 1.0, s->A, n, 0.0, s->C, n); break;
    case OP_SYRK_N: sapm_syrk(SAPM_NO_TRANS, n, N, 1.0, s->A, N, 0.0, s->C, n); break;
    case OP_GEMM_TN: sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n, m, N, 1.0, s->A, n, s->B, m, 0.0, s->C, m); break;
    case OP_GEMM_NT: sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, N, m, n, 1.0, s->A, n, s->B, n, 0.0, s->C, m); break;
    case OP_GEMM_NN: sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, N, m, n, 1.0, s->A, n, s->B, m, 0.0, s->C, m); break;
    case OP_GEMM_WH: sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, m, N, n, 1.0, s->B, n, s->A, N, 0.0, s->C, N); break;
    }
}

#if PEER
static void run_peer(const shape *s)
{
    int N = s->N, n = s->n, m = s->m;
    switch (s->op) {
    case OP_SYRK_T: cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, n, N, 1.0, s->A, n, 0.0, s->C, n); break;
    case OP_SYRK_N: cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, N, 1.0, s->A, N, 0.0, s->C, n); break;
    case OP_GEMM_TN: cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, m, N, 1.0, s->A, n, s->B, m, 0.0, s->C, m); break;
    case OP_GEMM_NT: cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, m, n, 1.0, s->A, n, s->B, n, 0.0, s->C, m); break;
    case OP_GEMM_NN: cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, m, n, 1.0, s->A, n, s->B, m, 0.0, s->C, m); break;
    case OP_GEMM_WH: cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, N, n, 1.0, s->B, n, s->A, N, 0.0, s->C, N); break;
    }
}
#endif

static void bench_shape(op_kind op, int N, int n, int m)
{
    shape s;
    double ts[MAXREP], tp[MAXREP], t0, one, fl, gs, gp = 0.0;
    int r, reps;
    s.op = op; s.N = N; s.n = n; s.m = m;
    s.A = rand_matrix((size_t)N * n, 1);
    s.B = rand_matrix((size_t)(op == OP_GEMM_TN ? N : n) * m, 2);
    s.C = rand_matrix((size_t)(op == OP_SYRK_T || op == OP_SYRK_N ? n : N) * (op == OP_SYRK_T || op == OP_SYRK_N ? n : m), 3);
    fl = flops_of(&s);
    run_sapm(&s); /* warm up (and first-touch C) */
    t0 = bench_now(); run_sapm(&s); one = bench_now() - t0;
#if PEER
    run_peer(&s);
#endif
    reps = repeats_for(one);
    for (r = 0; r < reps; ++r) {
        t0 = bench_now(); run_sapm(&s); ts[r] = bench_now() - t0;
#if PEER
        t0 = bench_now(); run_peer(&s); tp[r] = bench_now() - t0;
#else
        tp[r] = 0.0;
#endif
    }
    gs = fl / bench_median(ts, reps) * 1e-9;
    if (PEER) gp = fl / bench_median(tp, reps) * 1e-9;
    if (op == OP_SYRK_T || op == OP_SYRK_N)
        printf("%-11s %6d x %-4d %5s %9.2f", op_names[op], N, n, "", gs);
    else
        printf("%-11s %6d x %-4d %5d %9.2f", op_names[op], N, n, m, gs);
    if (PEER) printf(" %9.2f %7.2f", gp, gs / gp);
    printf("\n");
    free(s.A); free(s.B); free(s.C);
}

static void header_products(void)
{
    printf("%-11s %-13s %5s %9s", "op", "N x n", "m", "sapm GF/s");
    if (PEER) printf(" %9s %7s", "OpenBLAS", "ratio");
    printf("\n");
}

/* SPD matrix (lower and upper filled) M M^T / k + I, row-major n x n */
static void make_spd(double *S, int n, unsigned seed)
{
    int k = n + 4, i, j, p;
    double *M = rand_matrix((size_t)n * k, seed);
    for (i = 0; i < n; ++i)
        for (j = 0; j <= i; ++j) {
            double t = 0.0;
            for (p = 0; p < k; ++p) t += M[i * k + p] * M[j * k + p];
            S[i * n + j] = S[j * n + i] = t / k + (i == j ? 1.0 : 0.0);
        }
    free(M);
}

static void bench_chol(int n, int nrhs)
{
    double *S = (double *)malloc((size_t)n * n * sizeof(double)), *A = (double *)malloc((size_t)n * n * sizeof(double));
    double *B0 = rand_matrix((size_t)n * nrhs, 5), *B = (double *)malloc((size_t)n * nrhs * sizeof(double));
    double ts[MAXREP], tp[MAXREP], tsf[MAXREP], tpf[MAXREP], t0, t1, one;
    int r, reps, info;
    make_spd(S, n, 4);
    memcpy(A, S, (size_t)n * n * sizeof(double)); memcpy(B, B0, (size_t)n * nrhs * sizeof(double));
    t0 = bench_now();
    sapm_chol_factor(n, A, n, &info);
    sapm_chol_solve(n, nrhs, A, n, B, nrhs);
    one = bench_now() - t0;
    reps = repeats_for(one);
    for (r = 0; r < reps; ++r) {
        memcpy(A, S, (size_t)n * n * sizeof(double)); memcpy(B, B0, (size_t)n * nrhs * sizeof(double));
        t0 = bench_now();
        sapm_chol_factor(n, A, n, &info);
        t1 = bench_now();
        sapm_chol_solve(n, nrhs, A, n, B, nrhs);
        ts[r] = bench_now() - t0;
        tsf[r] = t1 - t0;
#if PEER
        /* row-major lower = column-major upper, the same memory; B column-major n x nrhs
         * (LAPACK's native layouts, so LAPACKE copies nothing) */
        memcpy(A, S, (size_t)n * n * sizeof(double)); memcpy(B, B0, (size_t)n * nrhs * sizeof(double));
        t0 = bench_now();
        LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', n, A, n);
        t1 = bench_now();
        LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', n, nrhs, A, n, B, n);
        tp[r] = bench_now() - t0;
        tpf[r] = t1 - t0;
#else
        tp[r] = tpf[r] = 0.0;
#endif
    }
    {
        double ms = bench_median(ts, reps) * 1e6, mp = bench_median(tp, reps) * 1e6;
        double mfs = bench_median(tsf, reps) * 1e6, mfp = bench_median(tpf, reps) * 1e6;
        printf("%5d %5d %11.1f %11.1f", n, nrhs, mfs, ms);
        if (PEER) printf(" %11.1f %11.1f %7.2f %7.2f", mfp, mp, mfs / mfp, ms / mp);
        printf("\n");
    }
    free(S); free(A); free(B0); free(B);
}

static void bench_batched(int count, int n, int nrhs)
{
    size_t na = (size_t)count * n * n, nb = (size_t)count * n * nrhs;
    double *S = (double *)malloc(na * sizeof(double)), *A = (double *)malloc(na * sizeof(double));
    double *B0 = rand_matrix(nb, 7), *B = (double *)malloc(nb * sizeof(double));
    double ts[MAXREP], tp[MAXREP], t0, one;
    int r, reps, s;
    for (s = 0; s < count; ++s) make_spd(S + (size_t)s * n * n, n, 100 + s);
    memcpy(A, S, na * sizeof(double)); memcpy(B, B0, nb * sizeof(double));
    t0 = bench_now();
    sapm_chol_solve_batched(count, n, nrhs, A, B, NULL);
    one = bench_now() - t0;
    reps = repeats_for(one);
    if (reps > 9) reps = 9;
    for (r = 0; r < reps; ++r) {
        memcpy(A, S, na * sizeof(double)); memcpy(B, B0, nb * sizeof(double));
        t0 = bench_now();
        sapm_chol_solve_batched(count, n, nrhs, A, B, NULL);
        ts[r] = bench_now() - t0;
#if PEER
        memcpy(A, S, na * sizeof(double)); memcpy(B, B0, nb * sizeof(double));
        t0 = bench_now();
        for (s = 0; s < count; ++s) {
            double *As = A + (size_t)s * n * n, *Bs = B + (size_t)s * n * nrhs;
            if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', n, As, n) == 0)
                LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', n, nrhs, As, n, Bs, n);
        }
        tp[r] = bench_now() - t0;
#else
        tp[r] = 0.0;
#endif
    }
    {
        double ms = bench_median(ts, reps) * 1e3, mp = bench_median(tp, reps) * 1e3;
        printf("%6d %5d %5d %11.3f", count, n, nrhs, ms);
        if (PEER) printf(" %11.3f %7.2f", mp, ms / mp);
        printf("\n");
    }
    free(S); free(A); free(B0); free(B);
}

/* activations: sapm_activation_eval (value + 3 derivatives, and value only) against the
 * same formulas on libm, ns per element */
static void bench_activation(sapm_activation act, int n)
{
    double *z = rand_matrix((size_t)n, 9), *s0 = (double *)malloc((size_t)n * 4 * sizeof(double));
    double *s1 = s0 + n, *s2 = s1 + n, *s3 = s2 + n, t0, ta[MAXREP], tv[MAXREP], tl[MAXREP];
    int r, i, reps = 15;
    for (i = 0; i < n; ++i) z[i] *= 4.0;
    for (r = 0; r < reps; ++r) {
        t0 = bench_now();
        sapm_activation_eval(act, (size_t)n, z, s0, s1, s2, s3);
        ta[r] = bench_now() - t0;
        t0 = bench_now();
        sapm_activation_eval(act, (size_t)n, z, s0, NULL, NULL, NULL);
        tv[r] = bench_now() - t0;
        t0 = bench_now();
        if (act == SAPM_ACT_TANH)
            for (i = 0; i < n; ++i) { double t = tanh(z[i]), d1 = 1.0 - t * t, d2 = -2.0 * t * d1;
                s0[i] = t; s1[i] = d1; s2[i] = d2; s3[i] = -2.0 * (d1 * d1 + t * d2); }
        else if (act == SAPM_ACT_SIN)
            for (i = 0; i < n; ++i) { double a = sin(z[i]), b = cos(z[i]); s0[i] = a; s1[i] = b; s2[i] = -a; s3[i] = -b; }
        else
            for (i = 0; i < n; ++i) { double e = exp(-fabs(z[i])), p = 1.0 / (1.0 + e), d1 = e * p * p;
                double u = (z[i] >= 0 ? -1.0 : 1.0) * (1.0 - e) * p;
                s0[i] = z[i] >= 0 ? p : e * p; s1[i] = d1; s2[i] = d1 * u; s3[i] = d1 * u * u - 2.0 * d1 * d1; }
        tl[r] = bench_now() - t0;
    }
    {
        double a = bench_median(ta, reps) / n * 1e9, v = bench_median(tv, reps) / n * 1e9, l = bench_median(tl, reps) / n * 1e9;
        printf("%-9s %8d %12.2f %12.2f %12.2f %7.2f\n", sapm_activation_name(act), n, v, a, l, a / l);
    }
    free(z); free(s0);
}

int main(int argc, char **argv)
{
    static const int Ns[] = {1000, 4000, 16000, 64000};
    static const int widths[] = {16, 32, 64, 128, 256};
    static const int sq[] = {16, 32, 64, 128, 256, 512};
    static const int chol_n[] = {17, 33, 65, 129, 257, 513};
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0, i, j, o;
    int nN = quick ? 2 : 4, solvers = argc > 1 && strcmp(argv[1], "solvers") == 0;
#if PEER
    openblas_set_num_threads(1);
#endif
    {
        char cpu[320];
        cpu_description(cpu, sizeof cpu);
        printf("sapm.h %s kernels, SIMD path %s; peer: %s (single-threaded)\n", SAPM_VERSION_STRING,
               sapm_simd_path(), PEER ? "OpenBLAS + LAPACKE" : "none (built without SAPM_BENCH_OPENBLAS)");
        printf("CPU: %s\npeak FMA rate assumed: %.1f GFLOP/s per core (measured: 12 independent FMA\n"
               "chains on the %s path; GF/s columns below are read against it)\n", cpu, peak_gflops(),
               sapm_simd_path());
    }

    if (solvers) goto solver_section;
    printf("\n-- small training shapes (width 20 + bias, N = 200 samples)\n");
    header_products();
    bench_shape(OP_SYRK_T, 200, 21, 21);
    bench_shape(OP_SYRK_N, 200, 21, 21);
    bench_shape(OP_GEMM_TN, 200, 21, 20);
    bench_shape(OP_GEMM_NT, 200, 21, 20);
    bench_shape(OP_GEMM_NN, 200, 20, 20);
    bench_shape(OP_GEMM_WH, 200, 21, 20);

    printf("\n-- Gram matrices and products of tall data (N samples x width n, m = n)\n");
    header_products();
    for (o = 0; o < 6; ++o)
        for (i = 0; i < nN; ++i)
            for (j = 0; j < 5; ++j) {
                if (o >= 2 && (i == 1 || i == 2) && j != 2) continue; /* products: N = 4k, 16k at width 64 only */
                bench_shape((op_kind)o, Ns[i], widths[j], widths[j]);
            }
    bench_shape(OP_SYRK_T, 16000, 257, 257);
    bench_shape(OP_GEMM_TN, 16000, 257, 257);

    printf("\n-- square (N = n = m)\n");
    header_products();
    for (i = 0; i < 6; ++i) bench_shape(OP_GEMM_NN, sq[i], sq[i], sq[i]);
    for (i = 0; i < 6; ++i) bench_shape(OP_SYRK_T, sq[i], sq[i], sq[i]);

    printf("\n-- PINN shapes: one derivative-tape block (1024 stream rows, width 50: forward\n"
           "   A B^T, weight gradient A^T B, back-propagation A B) and the Levenberg-Marquardt\n"
           "   Gram matrix J J^T (N + M residuals x P = 5301 / 5751 parameters)\n");
    header_products();
    bench_shape(OP_GEMM_NT, 1024, 50, 50);
    bench_shape(OP_GEMM_TN, 1024, 50, 50);
    bench_shape(OP_GEMM_NN, 1024, 50, 50);
    bench_shape(OP_SYRK_N, 5301, 1400, 1400);
    if (!quick) bench_shape(OP_SYRK_N, 5751, 2000, 2000);

solver_section:
    printf("\n-- Cholesky factor, factor + solve (microseconds)\n");
    printf("%5s %5s %11s %11s", "n", "nrhs", "sapm fact", "sapm f+s");
    if (PEER) printf(" %11s %11s %7s %7s", "LAPACK fact", "LAPACK f+s", "r fact", "r f+s");
    printf("\n");
    for (i = 0; i < 6; ++i) {
        bench_chol(chol_n[i], 1);
        bench_chol(chol_n[i], chol_n[i]);
    }

    printf("\n-- batched SPD factor + solve (milliseconds for all systems; LAPACK: a loop of dpotrf+dpotrs)\n");
    printf("%6s %5s %5s %11s", "count", "n", "nrhs", "sapm ms");
    if (PEER) printf(" %11s %7s", "LAPACK ms", "ratio");
    printf("\n");
    bench_batched(1000, 20, 1);
    bench_batched(1000, 20, 20);
    bench_batched(1000, 50, 1);
    bench_batched(1000, 50, 50);
    bench_batched(1000, 100, 1);
    bench_batched(300, 100, 100);

    printf("\n-- activations (ns per element; libm = the same formulas on libm tanh/sin/cos/exp)\n");
    printf("%-9s %8s %12s %12s %12s %7s\n", "act", "n", "sapm value", "sapm v+3d", "libm v+3d", "ratio");
    bench_activation(SAPM_ACT_TANH, 100000);
    bench_activation(SAPM_ACT_SIN, 100000);
    bench_activation(SAPM_ACT_SIGMOID, 100000);
    return 0;
}
