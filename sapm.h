/* sapm.h - v0.1.0 - MIT licence - deep least-squares training with
 * layer-separating auxiliary variables (SAPM, PM, LySep) and a backprop baseline.
 *
 * Do this:
 *      #define SAPM_IMPLEMENTATION
 * before you include this file in *one* C or C++ file to create the implementation.
 *
 *      #include ...
 *      #define SAPM_IMPLEMENTATION
 *      #include "sapm.h"
 *
 * Every other file includes "sapm.h" without the define.
 *
 * ABOUT
 *
 *   sapm.h trains fully connected least-squares models - regression networks and
 *   physics-informed neural networks (PINNs) - with
 *     LS     ordinary least squares by back-propagation: GD, Adam, L-BFGS (the baseline);
 *     PM     auxiliary variables per layer with a fixed penalty;
 *     SAPM   the self-adaptive penalty model (arXiv 2504.21501): penalty weights
 *            w_l = prod_{j>l} ||W_j||_F^2 keep the auxiliary loss consistent with the MSE,
 *            closed-form least-squares weight updates (own SYRK/GEMM + Cholesky);
 *     PINNs  SAPM-PINN for first-order linear PDEs and LySep (arXiv 2507.12766) for
 *            second-order elliptic/Poisson PDEs in d = 1..100 dimensions.
 *   It contains its own blocked matrix kernels with AVX-512 / AVX2+FMA / NEON paths
 *   (each with a scalar twin), a blocked Cholesky solver and a batched small-SPD solver.
 *   Double precision throughout. C99; also compiles as C++. The library prints nothing
 *   and keeps no mutable global state: everything a run needs lives in structs the
 *   caller owns, so two threads can train two models at once.
 *
 * BUILDING
 *
 *   cc -O2 -march=native my_program.c -lm
 *
 *   Configuration macros (define before the implementation include):
 *     SAPM_IMPLEMENTATION  compile the implementation into this translation unit.
 *     SAPMDEF              decoration of every public function (default: extern;
 *                          with SAPM_STATIC: static).
 *     SAPM_STATIC          make every public function static (private copy per TU).
 *     SAPM_MALLOC(sz), SAPM_REALLOC(p,sz), SAPM_FREE(p)
 *                          allocator; define all three or none (#error otherwise).
 *     SAPM_ASSERT(x)       internal invariant check (default: assert from <assert.h>).
 *                          Never used for argument validation: bad arguments return codes.
 *     SAPM_NO_STDIO        remove every function that touches FILE* (model files, PNG,
 *                          CSV); the in-memory variants remain.
 *     SAPM_NO_PNG          do not compile PNG output; the PNG functions then return
 *                          SAPM_ERR_NOT_COMPILED_IN. PNG output is also compiled out when
 *                          <stb/stb_image_write.h> (Debian libstb-dev) is not found.
 *     SAPM_NO_SIMD         force the scalar kernels (otherwise chosen at compile time:
 *                          AVX-512F, then AVX2+FMA, then NEON, then scalar).
 *     SAPM_NOW()           wall clock in seconds as double (default: clock_gettime
 *                          CLOCK_MONOTONIC where declared, else gettimeofday on
 *                          POSIX, else C11 timespec_get, else clock()).
 *
 * CONVENTIONS
 *
 *   Matrices are row-major with an explicit leading dimension (row stride) >= columns.
 *   Sizes are int (as in BLAS); they must be positive unless a function says otherwise.
 *   Every public function that can fail returns sapm_result (0 = SAPM_OK, errors < 0);
 *   sapm_result_string() turns a code into a sentence.
 *   Data sets are given sample-major: X is N rows of d inputs (ldx >= d), Y is N rows of
 *   m outputs (ldy >= m).
 *
 * USAGE (one line each; full comments at each declaration below)
 *
 *   -- errors and build info
 *   const char *sapm_result_string(sapm_result r);     sentence for a code
 *   const char *sapm_simd_path(void);                   "avx512", "avx2", "neon" or "scalar"
 *
 *   -- kernels (row-major, leading dimensions)
 *   sapm_gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)  C = a op(A) op(B) + b C
 *   sapm_syrk(t, n, k, alpha, A, lda, beta, C, ldc)    C = a A A^T + b C (t: A^T A), full C
 *   sapm_chol_factor(n, A, lda, &info)                 A = L L^T in place (lower)
 *   sapm_trsm_lower(t, n, nrhs, L, ldl, B, ldb)        B = L^{-1} B or L^{-T} B
 *   sapm_chol_solve(n, nrhs, L, ldl, B, ldb)           B = (L L^T)^{-1} B
 *   sapm_chol_solve_batched(count, n, nrhs, A, B, info) factor+solve many small SPD systems
 *
 *   -- activations
 *   sapm_activation_eval(act, n, z, s0, s1, s2, s3)    sigma and derivatives up to 3rd
 *
 *   -- random numbers
 *   sapm_rng_seed(&rng, seed), sapm_rng_next_u64, sapm_rng_uniform, sapm_rng_normal
 *
 *   -- networks
 *   sapm_net_create(&net, depth, widths, act)          allocate a network
 *   sapm_net_destroy(&net)                             free it
 *   sapm_net_init(&net, init, scale, seed)             U(-s,s) or Xavier, reproducible
 *   sapm_net_forward(&net, N, X, ldx, U, ldu)          u(x) for N samples
 *
 * LICENSE
 *
 *   See end of file.
 */

#ifndef SAPM_H_INCLUDED
#define SAPM_H_INCLUDED

#define SAPM_VERSION_MAJOR 0
#define SAPM_VERSION_MINOR 1
#define SAPM_VERSION_PATCH 0
#define SAPM_VERSION_STRING "0.1.0"

#include <stddef.h>
#include <stdint.h>

#ifndef SAPMDEF
#ifdef SAPM_STATIC
#define SAPMDEF static
#else
#ifdef __cplusplus
#define SAPMDEF extern "C"
#else
#define SAPMDEF extern
#endif
#endif
#endif

/* ======================================================================================
 * Declarations: results and build information
 * ====================================================================================== */

typedef enum sapm_result {
    SAPM_OK                         =   0,
    SAPM_ERR_NULL_ARGUMENT          =  -1, /* a required pointer was NULL */
    SAPM_ERR_INVALID_SIZE           =  -2, /* a size was zero, negative or too large */
    SAPM_ERR_SIZE_MISMATCH          =  -3, /* sizes that must agree do not (e.g. ld < cols) */
    SAPM_ERR_INVALID_ARGUMENT       =  -4, /* an enum or option value out of range */
    SAPM_ERR_NONFINITE_INPUT        =  -5, /* NaN or Inf in input data */
    SAPM_ERR_OUT_OF_MEMORY          =  -6,
    SAPM_ERR_NOT_POSITIVE_DEFINITE  =  -7, /* Cholesky failed; see the info output */
    SAPM_ERR_DIVERGED               =  -8, /* training produced NaN/Inf; last good state kept */
    SAPM_ERR_IO                     =  -9, /* could not open/read/write a file */
    SAPM_ERR_BAD_FORMAT             = -10, /* not a sapm file, or an unknown version */
    SAPM_ERR_CORRUPT                = -11, /* truncated file or checksum mismatch */
    SAPM_ERR_NOT_COMPILED_IN        = -12, /* feature removed at compile time (PNG, stdio) */
    SAPM_ERR_UNSUPPORTED            = -13, /* valid request the method cannot do (e.g. ReLU PINN) */
    SAPM_ERR_CALLBACK               = -14  /* a user callback returned NaN/Inf */
} sapm_result;

/* A sentence describing a result code; never NULL. */
SAPMDEF const char *sapm_result_string(sapm_result r);

/* The SIMD path compiled in: "avx512", "avx2", "neon" or "scalar". */
SAPMDEF const char *sapm_simd_path(void);

/* ======================================================================================
 * Declarations: matrix kernels
 * ====================================================================================== */

typedef enum sapm_transpose {
    SAPM_NO_TRANS = 0,
    SAPM_TRANS = 1
} sapm_transpose;

/* C = alpha * op(A) * op(B) + beta * C, C m x n, op(A) m x k, op(B) k x n, row-major.
 * beta == 0 overwrites C (NaN in C is not propagated). k == 0 scales C by beta.
 * m, n >= 1, k >= 0. */
SAPMDEF sapm_result sapm_gemm(sapm_transpose transa, sapm_transpose transb, int m, int n,
                              int k, double alpha, const double *A, int lda, const double *B,
                              int ldb, double beta, double *C, int ldc);

/* Symmetric rank-k update, the Gram matrix of the closed-form weight updates:
 * trans == SAPM_NO_TRANS: C = alpha * A * A^T + beta * C, A is n x k (a wide matrix);
 * trans == SAPM_TRANS:    C = alpha * A^T * A + beta * C, A is k x n.
 * Both triangles of C (n x n) are written. n >= 1, k >= 0. */
SAPMDEF sapm_result sapm_syrk(sapm_transpose trans, int n, int k, double alpha,
                              const double *A, int lda, double beta, double *C, int ldc);

/* Cholesky factorisation A = L L^T of an SPD matrix, in place: the lower triangle of A
 * (diagonal included) is read and overwritten by L; the strict upper triangle is not
 * touched. On failure returns SAPM_ERR_NOT_POSITIVE_DEFINITE and sets *info = k (1-based,
 * as LAPACK's dpotrf) where the leading minor of order k is not positive definite; on
 * success *info = 0. info may be NULL. */
SAPMDEF sapm_result sapm_chol_factor(int n, double *A, int lda, int *info);

/* Triangular solve with a lower-triangular L (n x n), many right-hand sides B (n x nrhs):
 * trans == SAPM_NO_TRANS: B = L^{-1} B;  trans == SAPM_TRANS: B = L^{-T} B. */
SAPMDEF sapm_result sapm_trsm_lower(sapm_transpose trans, int n, int nrhs, const double *L,
                                    int ldl, double *B, int ldb);

/* Solve (L L^T) X = B in place given the factor from sapm_chol_factor. */
SAPMDEF sapm_result sapm_chol_solve(int n, int nrhs, const double *L, int ldl, double *B,
                                    int ldb);

/* Batched small SPD solver: count independent systems A_s X_s = B_s. A holds count
 * contiguous n x n matrices (lower triangles read, overwritten by their factors), B holds
 * count contiguous n x nrhs blocks (overwritten by the solutions). info (NULL or count
 * ints) receives each system's factorisation info. Systems that fail are left
 * unsolved and the call returns SAPM_ERR_NOT_POSITIVE_DEFINITE; the others are solved. */
SAPMDEF sapm_result sapm_chol_solve_batched(int count, int n, int nrhs, double *A, double *B,
                                            int *info);

/* ======================================================================================
 * Declarations: activations
 * ====================================================================================== */

typedef enum sapm_activation {
    SAPM_ACT_TANH = 0,
    SAPM_ACT_SIN,
    SAPM_ACT_SIGMOID,
    SAPM_ACT_SOFTPLUS,
    SAPM_ACT_GELU,     /* exact: z * Phi(z) */
    SAPM_ACT_RELU,     /* no second derivative: regression only */
    SAPM_ACT_COUNT
} sapm_activation;

/* Elementwise sigma and its derivatives: s0 = sigma(z), s1 = sigma', s2 = sigma'',
 * s3 = sigma''' for n values. Any output may be NULL (not computed); z may alias one
 * output. ReLU's s2, s3 are 0 (its sigma' is 1 for z > 0, else 0). */
SAPMDEF sapm_result sapm_activation_eval(sapm_activation act, size_t n, const double *z,
                                         double *s0, double *s1, double *s2, double *s3);

/* Name ("tanh", ...) or "unknown". */
SAPMDEF const char *sapm_activation_name(sapm_activation act);

/* Lipschitz constant K of sigma (sup |sigma'|), used by the SAPM weights (SPEC 2):
 * tanh, sin, softplus, relu 1; sigmoid 1/4; gelu 1.1289... Negative for a bad enum. */
SAPMDEF double sapm_activation_lipschitz(sapm_activation act);

/* ======================================================================================
 * Declarations: random numbers (portable: same seed -> same bits on every machine)
 * ====================================================================================== */

typedef struct sapm_rng {
    uint64_t s[4]; /* xoshiro256** state, seeded through splitmix64 */
} sapm_rng;

SAPMDEF void     sapm_rng_seed(sapm_rng *rng, uint64_t seed);
SAPMDEF uint64_t sapm_rng_next_u64(sapm_rng *rng);
SAPMDEF double   sapm_rng_uniform(sapm_rng *rng);            /* [0, 1), 53 random bits */
SAPMDEF double   sapm_rng_normal(sapm_rng *rng);             /* N(0, 1), Box-Muller */

/* ======================================================================================
 * Declarations: networks
 * ====================================================================================== */

/* A fully connected network (SPEC 1): depth L weight layers, widths n_0 = d .. n_L = m,
 *   z_1 = W_1 x + b_1,  z_l = W_l sigma(z_{l-1}) + b_l (l = 2..L),  u(x) = z_L.
 * All parameters live in one contiguous array `params`, layer by layer: W_1 (n_1 x n_0,
 * row-major), b_1 (n_1), W_2, b_2, ...; W[l-1] and b[l-1] point into it (so optimizers
 * see one flat vector). Create with sapm_net_create, free with sapm_net_destroy. */
typedef struct sapm_net {
    int depth;              /* L, number of weight layers (>= 1) */
    int *widths;            /* depth + 1 entries: n_0 .. n_L */
    sapm_activation act;    /* hidden activation (the output layer is linear) */
    double **W;             /* W[l] = W_{l+1}: widths[l+1] x widths[l] */
    double **b;             /* b[l] = b_{l+1}: widths[l+1] */
    double *params;         /* all parameters, n_params doubles */
    size_t n_params;
} sapm_net;

typedef enum sapm_init {
    SAPM_INIT_UNIFORM = 0,  /* seeds' form: every weight and bias U(-scale, scale) */
    SAPM_INIT_XAVIER        /* weights U(-r, r), r = scale * sqrt(6 / (n_in + n_out)),
                               biases 0 (scale 1 is Glorot's) */
} sapm_init;

SAPMDEF sapm_result sapm_net_create(sapm_net *net, int depth, const int *widths,
                                    sapm_activation act);
SAPMDEF void        sapm_net_destroy(sapm_net *net);   /* safe on a zeroed or NULL net */
SAPMDEF sapm_result sapm_net_init(sapm_net *net, sapm_init init, double scale, uint64_t seed);
/* Deep copy into dst (created by this call; destroy it yourself). */
SAPMDEF sapm_result sapm_net_copy(sapm_net *dst, const sapm_net *src);

/* u(x) for N samples: X is N x n_0 (ldx >= n_0), U is N x n_L (ldu >= n_L). */
SAPMDEF sapm_result sapm_net_forward(const sapm_net *net, int N, const double *X, int ldx,
                                     double *U, int ldu);

/* ======================================================================================
 * Declarations: training options and reports (shared by every method)
 * ====================================================================================== */

typedef enum sapm_method {
    SAPM_METHOD_LS_GD = 0,  /* J_LS, full-batch gradient descent */
    SAPM_METHOD_LS_ADAM,    /* J_LS, Adam */
    SAPM_METHOD_LS_LBFGS,   /* J_LS, L-BFGS with line search */
    SAPM_METHOD_PM,         /* J_PM, fixed penalty lambda */
    SAPM_METHOD_SAPM,       /* J_SAPM, self-adaptive weights */
    SAPM_METHOD_COUNT
} sapm_method;

typedef enum sapm_stop_reason {
    SAPM_STOP_NONE = 0,         /* not stopped (or not run) */
    SAPM_STOP_MAX_ITERS,        /* reached max_iters */
    SAPM_STOP_TIME_BUDGET,      /* wall-clock budget spent */
    SAPM_STOP_TARGET_LOSS,      /* true loss (J_LS / J_PINN) <= target_loss */
    SAPM_STOP_GRAD_TOL,         /* gradient norm <= grad_tol */
    SAPM_STOP_REL_TOL,          /* relative loss change <= rel_tol */
    SAPM_STOP_USER,             /* the progress callback asked to stop */
    SAPM_STOP_DIVERGED,         /* NaN/Inf loss: last good parameters restored */
    SAPM_STOP_LINE_SEARCH,      /* L-BFGS line search found no decrease */
    SAPM_STOP_ERROR             /* an error code ended the run (see report.status) */
} sapm_stop_reason;

SAPMDEF const char *sapm_stop_reason_string(sapm_stop_reason s);
SAPMDEF const char *sapm_method_name(sapm_method m);

/* What a progress callback sees at each logged iteration. */
typedef struct sapm_progress {
    sapm_method method;
    int iter;           /* outer iteration (0 = initial state) */
    double seconds;     /* wall time since the start of training */
    double mse;         /* the true loss of the forward network: J_LS (regression) or J_PINN */
    double loss;        /* the method's own loss: J_LS, J_PM, J_SAPM, auxiliary PINN loss */
    double error;       /* held-out error when the run computes one (PDE rel. L2), else NaN */
} sapm_progress;

/* Return nonzero to stop training (report.stop = SAPM_STOP_USER). */
typedef int (*sapm_progress_fn)(const sapm_progress *p, void *user_data);

/* Reduction hook for data-parallel training: sum buf[0..n) across all workers in place.
 * Every per-sample sum the optimizers form (losses, gradients, Gram matrices and their
 * right-hand sides) passes through it before it is used. NULL = one worker. */
typedef sapm_result (*sapm_allreduce_fn)(double *buf, size_t n, void *user_data);

typedef sapm_progress sapm_history_entry;

/* Filled by a training call. history is allocated by the library (one entry per logged
 * iteration, the initial state and the final state included); free with sapm_report_free. */
typedef struct sapm_report {
    sapm_result status;         /* SAPM_OK, or the error that ended the run */
    sapm_stop_reason stop;
    int iters;                  /* outer iterations performed */
    double seconds;
    double mse;                 /* final true loss of the forward network */
    double loss;                /* final method loss */
    sapm_history_entry *history;
    int history_count;
    int history_capacity;
} sapm_report;

SAPMDEF void sapm_report_free(sapm_report *rep);

/* Options of the LS optimizers (GD, Adam, L-BFGS). */
typedef struct sapm_ls_options {
    double adam_beta1, adam_beta2, adam_eps;
    int lbfgs_memory;           /* number of stored (s, y) pairs */
} sapm_ls_options;

/* Options of the auxiliary-variable methods (PM, SAPM). */
typedef struct sapm_aux_options {
    double pm_lambda;           /* PM's fixed penalty lambda */
    double tau;                 /* seeds' gradient step on the auxiliaries */
    double ridge;               /* the seeds' adaptive sqrt(lambda_n) I term, relative */
} sapm_aux_options;

typedef struct sapm_options {
    sapm_method method;
    int max_iters;              /* outer iterations (>= 1) */
    double time_budget;         /* seconds of wall time, 0 = unlimited */
    double target_loss;         /* stop when the true loss <= target, 0 = off */
    double grad_tol;            /* stop when ||grad||_2 <= grad_tol (LS methods), 0 = off */
    double rel_tol;             /* stop when |dJ| <= rel_tol * max(|J|, tiny), 0 = off */
    uint64_t seed;              /* for any randomness a method uses */
    double learning_rate;       /* GD / Adam step; 0 = method default */
    int log_every;              /* history + callback every log_every iterations, 0 = off
                                   (initial and final states are always recorded) */
    sapm_progress_fn progress;  /* may be NULL */
    void *user_data;
    sapm_allreduce_fn allreduce;/* may be NULL (one worker) */
    void *allreduce_user_data;
    sapm_ls_options ls;
    sapm_aux_options aux;
} sapm_options;

/* Recommended options for a method (measured defaults; see each method's notes). */
SAPMDEF sapm_options sapm_default_options(sapm_method method);

#endif /* SAPM_H_INCLUDED */

/* ######################################################################################
 * ######################################################################################
 *                                   IMPLEMENTATION
 * ######################################################################################
 * ###################################################################################### */

#ifdef SAPM_IMPLEMENTATION
#ifndef SAPM_IMPLEMENTATION_DONE
#define SAPM_IMPLEMENTATION_DONE

/* ======================================================================================
 * Implementation: configuration
 * ====================================================================================== */

#include <math.h>
#include <string.h>
#include <float.h>
#include <limits.h>
#include <time.h>

#if defined(SAPM_MALLOC) && defined(SAPM_FREE) && defined(SAPM_REALLOC)
/* ok: all three user-supplied */
#elif !defined(SAPM_MALLOC) && !defined(SAPM_FREE) && !defined(SAPM_REALLOC)
#include <stdlib.h>
#define SAPM_MALLOC(sz) malloc(sz)
#define SAPM_REALLOC(p, sz) realloc(p, sz)
#define SAPM_FREE(p) free(p)
#else
#error "Must define all or none of SAPM_MALLOC, SAPM_FREE, and SAPM_REALLOC."
#endif

#ifndef SAPM_ASSERT
#include <assert.h>
#define SAPM_ASSERT(x) assert(x)
#endif

#ifndef SAPM_NO_STDIO
#include <stdio.h>
#endif

/* SIMD path, chosen at compile time. */
#if !defined(SAPM_NO_SIMD) && defined(__AVX512F__)
#define SAPM__AVX512 1
#include <immintrin.h>
#elif !defined(SAPM_NO_SIMD) && defined(__AVX2__) && defined(__FMA__)
#define SAPM__AVX2 1
#include <immintrin.h>
#elif !defined(SAPM_NO_SIMD) && (defined(__ARM_NEON) || defined(__ARM_NEON__)) && defined(__aarch64__)
#define SAPM__NEON 1
#include <arm_neon.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SAPM__RESTRICT __restrict__
#elif defined(_MSC_VER)
#define SAPM__RESTRICT __restrict
#else
#define SAPM__RESTRICT
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SAPM__UNUSED __attribute__((unused))
#else
#define SAPM__UNUSED
#endif

#ifndef SAPM_NOW
#if defined(CLOCK_MONOTONIC)
static SAPM__UNUSED double sapm__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#elif defined(__unix__) || defined(__APPLE__)
#include <sys/time.h> /* strict C99 hides clock_gettime; gettimeofday is still declared */
static SAPM__UNUSED double sapm__now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && defined(TIME_UTC)
static SAPM__UNUSED double sapm__now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#else
static SAPM__UNUSED double sapm__now(void) { return (double)clock() / (double)CLOCKS_PER_SEC; }
#endif
#define SAPM_NOW() sapm__now()
#endif

#define SAPM__MIN(a, b) ((a) < (b) ? (a) : (b))
#define SAPM__MAX(a, b) ((a) > (b) ? (a) : (b))

/* Checked allocation of count * size bytes (overflow -> NULL). */
static void *sapm__alloc(size_t count, size_t size)
{
    if (size != 0 && count > ((size_t)-1) / size) return NULL;
    if (count * size == 0) return SAPM_MALLOC(1);
    return SAPM_MALLOC(count * size);
}

static void *sapm__calloc(size_t count, size_t size)
{
    void *p = sapm__alloc(count, size);
    if (p) memset(p, 0, count * size);
    return p;
}

static int sapm__all_finite(const double *x, size_t n)
{
    size_t i;
    double acc = 0.0;
    for (i = 0; i < n; ++i) acc += x[i] * 0.0; /* NaN/Inf make acc NaN */
    return acc == 0.0;
}

/* All finite entries of a rows x cols matrix with row stride ld. */
static SAPM__UNUSED int sapm__matrix_finite(const double *A, int rows, int cols, int ld)
{
    int i;
    for (i = 0; i < rows; ++i)
        if (!sapm__all_finite(A + (size_t)i * (size_t)ld, (size_t)cols)) return 0;
    return 1;
}

/* ======================================================================================
 * Implementation: results and build information
 * ====================================================================================== */

SAPMDEF const char *sapm_result_string(sapm_result r)
{
    switch (r) {
    case SAPM_OK: return "success";
    case SAPM_ERR_NULL_ARGUMENT: return "a required pointer argument was NULL";
    case SAPM_ERR_INVALID_SIZE: return "a size argument was zero, negative or too large";
    case SAPM_ERR_SIZE_MISMATCH: return "sizes that must agree do not (check leading dimensions and widths)";
    case SAPM_ERR_INVALID_ARGUMENT: return "an enum or option value is out of range";
    case SAPM_ERR_NONFINITE_INPUT: return "the input contains NaN or Inf";
    case SAPM_ERR_OUT_OF_MEMORY: return "out of memory";
    case SAPM_ERR_NOT_POSITIVE_DEFINITE: return "the matrix is not positive definite (see info for the failing column)";
    case SAPM_ERR_DIVERGED: return "training diverged (NaN/Inf loss); the last good parameters were kept";
    case SAPM_ERR_IO: return "file could not be opened, read or written";
    case SAPM_ERR_BAD_FORMAT: return "not a sapm file, or an unsupported format version";
    case SAPM_ERR_CORRUPT: return "file is truncated or its checksum does not match";
    case SAPM_ERR_NOT_COMPILED_IN: return "feature not compiled in (SAPM_NO_PNG / SAPM_NO_STDIO or stb_image_write missing)";
    case SAPM_ERR_UNSUPPORTED: return "request not supported by this method (e.g. ReLU in a PINN)";
    case SAPM_ERR_CALLBACK: return "a user callback returned NaN or Inf";
    }
    return "unknown sapm_result code";
}

SAPMDEF const char *sapm_simd_path(void)
{
#if defined(SAPM__AVX512)
    return "avx512";
#elif defined(SAPM__AVX2)
    return "avx2";
#elif defined(SAPM__NEON)
    return "neon";
#else
    return "scalar";
#endif
}

/* ======================================================================================
 * Implementation: matrix kernels
 *
 * Reference (plain-loop) versions; SIMD/blocked versions replace the bodies with the
 * same contracts.
 * ====================================================================================== */

static sapm_result sapm__check_matrix(const double *A, int rows, int cols, int ld)
{
    if (!A) return SAPM_ERR_NULL_ARGUMENT;
    if (rows < 0 || cols < 0) return SAPM_ERR_INVALID_SIZE;
    if (ld < cols || ld < 1) return SAPM_ERR_SIZE_MISMATCH;
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_gemm(sapm_transpose transa, sapm_transpose transb, int m, int n,
                              int k, double alpha, const double *A, int lda, const double *B,
                              int ldb, double beta, double *C, int ldc)
{
    int i, j, p;
    sapm_result r;
    if ((transa != SAPM_NO_TRANS && transa != SAPM_TRANS) ||
        (transb != SAPM_NO_TRANS && transb != SAPM_TRANS))
        return SAPM_ERR_INVALID_ARGUMENT;
    if (m <= 0 || n <= 0 || k < 0) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__check_matrix(C, m, n, ldc)) != SAPM_OK) return r;
    if (k > 0) {
        if ((r = transa ? sapm__check_matrix(A, k, m, lda) : sapm__check_matrix(A, m, k, lda)) != SAPM_OK) return r;
        if ((r = transb ? sapm__check_matrix(B, n, k, ldb) : sapm__check_matrix(B, k, n, ldb)) != SAPM_OK) return r;
    }
    for (i = 0; i < m; ++i) {
        for (j = 0; j < n; ++j) {
            double s = 0.0;
            for (p = 0; p < k; ++p) {
                double a = transa ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                double b = transb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
                s += a * b;
            }
            C[(size_t)i * ldc + j] = (beta == 0.0 ? 0.0 : beta * C[(size_t)i * ldc + j]) + alpha * s;
        }
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_syrk(sapm_transpose trans, int n, int k, double alpha,
                              const double *A, int lda, double beta, double *C, int ldc)
{
    int i, j;
    sapm_result r;
    if (trans != SAPM_NO_TRANS && trans != SAPM_TRANS) return SAPM_ERR_INVALID_ARGUMENT;
    if (n <= 0 || k < 0) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__check_matrix(C, n, n, ldc)) != SAPM_OK) return r;
    if (k > 0 && (r = trans ? sapm__check_matrix(A, k, n, lda) : sapm__check_matrix(A, n, k, lda)) != SAPM_OK) return r;
    for (i = 0; i < n; ++i) {
        for (j = 0; j <= i; ++j) {
            double s = 0.0;
            int p;
            for (p = 0; p < k; ++p) {
                double a = trans ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                double b = trans ? A[(size_t)p * lda + j] : A[(size_t)j * lda + p];
                s += a * b;
            }
            s = (beta == 0.0 ? 0.0 : beta * C[(size_t)i * ldc + j]) + alpha * s;
            C[(size_t)i * ldc + j] = s;
            C[(size_t)j * ldc + i] = s;
        }
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_chol_factor(int n, double *A, int lda, int *info)
{
    int i, j, p;
    sapm_result r;
    if (info) *info = 0;
    if (n <= 0) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__check_matrix(A, n, n, lda)) != SAPM_OK) return r;
    for (j = 0; j < n; ++j) {
        double d = A[(size_t)j * lda + j];
        for (p = 0; p < j; ++p) d -= A[(size_t)j * lda + p] * A[(size_t)j * lda + p];
        if (!(d > 0.0) || !isfinite(d)) {
            if (info) *info = j + 1;
            return SAPM_ERR_NOT_POSITIVE_DEFINITE;
        }
        d = sqrt(d);
        A[(size_t)j * lda + j] = d;
        for (i = j + 1; i < n; ++i) {
            double s = A[(size_t)i * lda + j];
            for (p = 0; p < j; ++p) s -= A[(size_t)i * lda + p] * A[(size_t)j * lda + p];
            A[(size_t)i * lda + j] = s / d;
        }
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_trsm_lower(sapm_transpose trans, int n, int nrhs, const double *L,
                                    int ldl, double *B, int ldb)
{
    int i, j, p;
    sapm_result r;
    if (trans != SAPM_NO_TRANS && trans != SAPM_TRANS) return SAPM_ERR_INVALID_ARGUMENT;
    if (n <= 0 || nrhs <= 0) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__check_matrix(L, n, n, ldl)) != SAPM_OK) return r;
    if ((r = sapm__check_matrix(B, n, nrhs, ldb)) != SAPM_OK) return r;
    for (j = 0; j < nrhs; ++j) {
        if (trans == SAPM_NO_TRANS) {
            for (i = 0; i < n; ++i) {
                double s = B[(size_t)i * ldb + j];
                for (p = 0; p < i; ++p) s -= L[(size_t)i * ldl + p] * B[(size_t)p * ldb + j];
                B[(size_t)i * ldb + j] = s / L[(size_t)i * ldl + i];
            }
        } else {
            for (i = n - 1; i >= 0; --i) {
                double s = B[(size_t)i * ldb + j];
                for (p = i + 1; p < n; ++p) s -= L[(size_t)p * ldl + i] * B[(size_t)p * ldb + j];
                B[(size_t)i * ldb + j] = s / L[(size_t)i * ldl + i];
            }
        }
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_chol_solve(int n, int nrhs, const double *L, int ldl, double *B,
                                    int ldb)
{
    sapm_result r = sapm_trsm_lower(SAPM_NO_TRANS, n, nrhs, L, ldl, B, ldb);
    if (r != SAPM_OK) return r;
    return sapm_trsm_lower(SAPM_TRANS, n, nrhs, L, ldl, B, ldb);
}

SAPMDEF sapm_result sapm_chol_solve_batched(int count, int n, int nrhs, double *A, double *B,
                                            int *info)
{
    int s;
    sapm_result status = SAPM_OK;
    if (!A || !B) return SAPM_ERR_NULL_ARGUMENT;
    if (count <= 0 || n <= 0 || nrhs <= 0) return SAPM_ERR_INVALID_SIZE;
    for (s = 0; s < count; ++s) {
        double *As = A + (size_t)s * n * n, *Bs = B + (size_t)s * n * nrhs;
        int inf = 0;
        if (sapm_chol_factor(n, As, n, &inf) == SAPM_OK)
            sapm_chol_solve(n, nrhs, As, n, Bs, nrhs);
        else
            status = SAPM_ERR_NOT_POSITIVE_DEFINITE;
        if (info) info[s] = inf;
    }
    return status;
}

/* ======================================================================================
 * Implementation: activations
 * ====================================================================================== */

SAPMDEF const char *sapm_activation_name(sapm_activation act)
{
    switch (act) {
    case SAPM_ACT_TANH: return "tanh";
    case SAPM_ACT_SIN: return "sin";
    case SAPM_ACT_SIGMOID: return "sigmoid";
    case SAPM_ACT_SOFTPLUS: return "softplus";
    case SAPM_ACT_GELU: return "gelu";
    case SAPM_ACT_RELU: return "relu";
    default: return "unknown";
    }
}

SAPMDEF double sapm_activation_lipschitz(sapm_activation act)
{
    switch (act) {
    case SAPM_ACT_TANH: case SAPM_ACT_SIN: case SAPM_ACT_SOFTPLUS: case SAPM_ACT_RELU: return 1.0;
    case SAPM_ACT_SIGMOID: return 0.25;
    case SAPM_ACT_GELU: return 1.1289371924387296; /* Phi(z)+z phi(z) at z = sqrt(2) */
    default: return -1.0;
    }
}

static double sapm__sigmoid(double z)
{
    if (z >= 0.0) return 1.0 / (1.0 + exp(-z));
    else { double e = exp(z); return e / (1.0 + e); }
}

SAPMDEF sapm_result sapm_activation_eval(sapm_activation act, size_t n, const double *z,
                                         double *s0, double *s1, double *s2, double *s3)
{
    size_t i;
    if ((int)act < 0 || act >= SAPM_ACT_COUNT) return SAPM_ERR_INVALID_ARGUMENT;
    if (n == 0) return SAPM_OK;
    if (!z) return SAPM_ERR_NULL_ARGUMENT;
    for (i = 0; i < n; ++i) {
        double x = z[i], v0 = 0, v1 = 0, v2 = 0, v3 = 0;
        switch (act) {
        case SAPM_ACT_TANH: {            /* t' = 1 - t^2, t'' = -2 t t', t''' = -2(t'^2 + t t'') */
            double t = tanh(x);
            v0 = t; v1 = 1.0 - t * t; v2 = -2.0 * t * v1; v3 = -2.0 * (v1 * v1 + t * v2);
        } break;
        case SAPM_ACT_SIN:
            v0 = sin(x); v1 = cos(x); v2 = -v0; v3 = -v1;
            break;
        case SAPM_ACT_SIGMOID: {         /* s' = s(1-s), s'' = s'(1-2s), s''' = s''(1-2s) - 2 s'^2 */
            double s = sapm__sigmoid(x);
            v0 = s; v1 = s * (1.0 - s); v2 = v1 * (1.0 - 2.0 * s); v3 = v2 * (1.0 - 2.0 * s) - 2.0 * v1 * v1;
        } break;
        case SAPM_ACT_SOFTPLUS: {        /* log(1+e^z); derivatives are the sigmoid's */
            double s = sapm__sigmoid(x);
            v0 = (x > 0.0 ? x : 0.0) + log1p(exp(-fabs(x)));
            v1 = s; v2 = s * (1.0 - s); v3 = v2 * (1.0 - 2.0 * s);
        } break;
        case SAPM_ACT_GELU: {            /* z Phi; Phi + z phi; phi (2 - z^2); z phi (z^2 - 4) */
            double phi = 0.39894228040143267794 * exp(-0.5 * x * x);
            double Phi = 0.5 * erfc(-x * 0.70710678118654752440);
            v0 = x * Phi; v1 = Phi + x * phi; v2 = phi * (2.0 - x * x); v3 = x * phi * (x * x - 4.0);
        } break;
        case SAPM_ACT_RELU:
            v0 = x > 0.0 ? x : 0.0; v1 = x > 0.0 ? 1.0 : 0.0; v2 = 0.0; v3 = 0.0;
            break;
        default: break;
        }
        if (s0) s0[i] = v0;
        if (s1) s1[i] = v1;
        if (s2) s2[i] = v2;
        if (s3) s3[i] = v3;
    }
    return SAPM_OK;
}

/* ======================================================================================
 * Implementation: random numbers
 * ====================================================================================== */

static uint64_t sapm__splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

SAPMDEF void sapm_rng_seed(sapm_rng *rng, uint64_t seed)
{
    int i;
    if (!rng) return;
    for (i = 0; i < 4; ++i) rng->s[i] = sapm__splitmix64(&seed);
}

static uint64_t sapm__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

SAPMDEF uint64_t sapm_rng_next_u64(sapm_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = sapm__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = sapm__rotl(s[3], 45);
    return result;
}

SAPMDEF double sapm_rng_uniform(sapm_rng *rng)
{
    return (double)(sapm_rng_next_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
}

SAPMDEF double sapm_rng_normal(sapm_rng *rng)
{
    /* Box-Muller on (0,1] x [0,1); uses two uniforms per call (no cached state). */
    double u1 = 1.0 - sapm_rng_uniform(rng), u2 = sapm_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

/* ======================================================================================
 * Implementation: networks
 * ====================================================================================== */

SAPMDEF sapm_result sapm_net_create(sapm_net *net, int depth, const int *widths,
                                    sapm_activation act)
{
    int l;
    size_t total = 0, off = 0;
    if (!net || !widths) return SAPM_ERR_NULL_ARGUMENT;
    memset(net, 0, sizeof *net);
    if (depth < 1 || depth > 10000) return SAPM_ERR_INVALID_SIZE;
    if ((int)act < 0 || act >= SAPM_ACT_COUNT) return SAPM_ERR_INVALID_ARGUMENT;
    for (l = 0; l <= depth; ++l)
        if (widths[l] < 1 || widths[l] > 1000000) return SAPM_ERR_INVALID_SIZE;
    for (l = 0; l < depth; ++l) total += (size_t)widths[l + 1] * (size_t)(widths[l] + 1);
    net->widths = (int *)sapm__alloc((size_t)depth + 1, sizeof(int));
    net->W = (double **)sapm__alloc((size_t)depth, sizeof(double *));
    net->b = (double **)sapm__alloc((size_t)depth, sizeof(double *));
    net->params = (double *)sapm__calloc(total, sizeof(double));
    if (!net->widths || !net->W || !net->b || !net->params) {
        sapm_net_destroy(net);
        return SAPM_ERR_OUT_OF_MEMORY;
    }
    net->depth = depth;
    net->act = act;
    net->n_params = total;
    for (l = 0; l <= depth; ++l) net->widths[l] = widths[l];
    for (l = 0; l < depth; ++l) {
        net->W[l] = net->params + off;
        off += (size_t)widths[l + 1] * (size_t)widths[l];
        net->b[l] = net->params + off;
        off += (size_t)widths[l + 1];
    }
    return SAPM_OK;
}

SAPMDEF void sapm_net_destroy(sapm_net *net)
{
    if (!net) return;
    if (net->widths) SAPM_FREE(net->widths);
    if (net->W) SAPM_FREE(net->W);
    if (net->b) SAPM_FREE(net->b);
    if (net->params) SAPM_FREE(net->params);
    memset(net, 0, sizeof *net);
}

static sapm_result sapm__net_check(const sapm_net *net)
{
    if (!net) return SAPM_ERR_NULL_ARGUMENT;
    if (!net->params || !net->widths || !net->W || !net->b || net->depth < 1)
        return SAPM_ERR_INVALID_ARGUMENT;
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_net_init(sapm_net *net, sapm_init init, double scale, uint64_t seed)
{
    sapm_rng rng;
    int l;
    size_t i;
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (init != SAPM_INIT_UNIFORM && init != SAPM_INIT_XAVIER) return SAPM_ERR_INVALID_ARGUMENT;
    if (!(scale > 0.0) || !isfinite(scale)) return SAPM_ERR_INVALID_ARGUMENT;
    sapm_rng_seed(&rng, seed);
    for (l = 0; l < net->depth; ++l) {
        size_t nw = (size_t)net->widths[l + 1] * (size_t)net->widths[l];
        double r_w = init == SAPM_INIT_XAVIER
                   ? scale * sqrt(6.0 / (double)(net->widths[l] + net->widths[l + 1])) : scale;
        for (i = 0; i < nw; ++i) net->W[l][i] = r_w * (2.0 * sapm_rng_uniform(&rng) - 1.0);
        for (i = 0; i < (size_t)net->widths[l + 1]; ++i)
            net->b[l][i] = init == SAPM_INIT_XAVIER ? 0.0 : scale * (2.0 * sapm_rng_uniform(&rng) - 1.0);
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_net_copy(sapm_net *dst, const sapm_net *src)
{
    sapm_result r = sapm__net_check(src);
    if (r != SAPM_OK) return r;
    if (!dst) return SAPM_ERR_NULL_ARGUMENT;
    r = sapm_net_create(dst, src->depth, src->widths, src->act);
    if (r != SAPM_OK) return r;
    memcpy(dst->params, src->params, src->n_params * sizeof(double));
    return SAPM_OK;
}

static int sapm__net_max_width(const sapm_net *net)
{
    int l, w = 0;
    for (l = 0; l <= net->depth; ++l) w = SAPM__MAX(w, net->widths[l]);
    return w;
}

SAPMDEF sapm_result sapm_net_forward(const sapm_net *net, int N, const double *X, int ldx,
                                     double *U, int ldu)
{
    /* Sample-major blocks of rows: Z_l = H_{l-1} W_l^T + 1 b_l^T (SPEC 1). */
    enum { BLOCK = 256 };
    int l, s0, wmax;
    double *h, *z;
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (!X || !U) return SAPM_ERR_NULL_ARGUMENT;
    if (N <= 0) return SAPM_ERR_INVALID_SIZE;
    if (ldx < net->widths[0] || ldu < net->widths[net->depth]) return SAPM_ERR_SIZE_MISMATCH;
    wmax = sapm__net_max_width(net);
    h = (double *)sapm__alloc((size_t)2 * BLOCK * wmax, sizeof(double));
    if (!h) return SAPM_ERR_OUT_OF_MEMORY;
    z = h + (size_t)BLOCK * wmax;
    for (s0 = 0; s0 < N; s0 += BLOCK) {
        int nb = SAPM__MIN(BLOCK, N - s0), i, j;
        const double *in = X + (size_t)s0 * ldx;
        int ld_in = ldx;
        for (l = 0; l < net->depth; ++l) {
            int n_out = net->widths[l + 1], n_in = net->widths[l];
            int last = (l == net->depth - 1);
            double *out = last ? U + (size_t)s0 * ldu : z;
            int ld_out = last ? ldu : n_out;
            for (i = 0; i < nb; ++i)
                for (j = 0; j < n_out; ++j) out[(size_t)i * ld_out + j] = net->b[l][j];
            sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, nb, n_out, n_in, 1.0, in, ld_in, net->W[l], n_in,
                      1.0, out, ld_out);
            if (!last) {
                sapm_activation_eval(net->act, (size_t)nb * n_out, z, h, NULL, NULL, NULL);
                in = h;
                ld_in = n_out;
            }
        }
    }
    SAPM_FREE(h);
    return SAPM_OK;
}

/* ======================================================================================
 * Implementation: training options, reports and shared optimizer plumbing
 * ====================================================================================== */

SAPMDEF const char *sapm_method_name(sapm_method m)
{
    switch (m) {
    case SAPM_METHOD_LS_GD: return "LS-GD";
    case SAPM_METHOD_LS_ADAM: return "LS-Adam";
    case SAPM_METHOD_LS_LBFGS: return "LS-LBFGS";
    case SAPM_METHOD_PM: return "PM";
    case SAPM_METHOD_SAPM: return "SAPM";
    default: return "unknown";
    }
}

SAPMDEF const char *sapm_stop_reason_string(sapm_stop_reason s)
{
    switch (s) {
    case SAPM_STOP_NONE: return "not stopped";
    case SAPM_STOP_MAX_ITERS: return "reached max_iters";
    case SAPM_STOP_TIME_BUDGET: return "wall-clock budget spent";
    case SAPM_STOP_TARGET_LOSS: return "reached target loss";
    case SAPM_STOP_GRAD_TOL: return "gradient norm below grad_tol";
    case SAPM_STOP_REL_TOL: return "relative loss change below rel_tol";
    case SAPM_STOP_USER: return "stopped by the progress callback";
    case SAPM_STOP_DIVERGED: return "diverged (NaN/Inf loss); last good parameters kept";
    case SAPM_STOP_LINE_SEARCH: return "line search found no decrease";
    case SAPM_STOP_ERROR: return "stopped by an error";
    }
    return "unknown stop reason";
}

SAPMDEF sapm_options sapm_default_options(sapm_method method)
{
    sapm_options o;
    memset(&o, 0, sizeof o);
    o.method = method;
    o.max_iters = 1000;
    o.seed = 1;
    o.log_every = 10;
    o.ls.adam_beta1 = 0.9;
    o.ls.adam_beta2 = 0.999;
    o.ls.adam_eps = 1e-8;
    o.ls.lbfgs_memory = 10;
    o.aux.pm_lambda = 1.0;
    o.aux.tau = 1e-2;
    o.aux.ridge = 1e-8;
    if (method == SAPM_METHOD_LS_GD) o.learning_rate = 1e-2;
    if (method == SAPM_METHOD_LS_ADAM) o.learning_rate = 1e-3;
    return o;
}

SAPMDEF void sapm_report_free(sapm_report *rep)
{
    if (!rep) return;
    if (rep->history) SAPM_FREE(rep->history);
    rep->history = NULL;
    rep->history_count = rep->history_capacity = 0;
}

/* Append one history entry (grows geometrically). */
static SAPM__UNUSED sapm_result sapm__report_push(sapm_report *rep, const sapm_progress *p)
{
    if (!rep) return SAPM_OK;
    if (rep->history_count == rep->history_capacity) {
        int cap = rep->history_capacity ? 2 * rep->history_capacity : 64;
        sapm_history_entry *h = (sapm_history_entry *)SAPM_REALLOC(rep->history, (size_t)cap * sizeof *h);
        if (!h) return SAPM_ERR_OUT_OF_MEMORY;
        rep->history = h;
        rep->history_capacity = cap;
    }
    rep->history[rep->history_count++] = *p;
    return SAPM_OK;
}

#endif /* SAPM_IMPLEMENTATION_DONE */
#endif /* SAPM_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
VERSION HISTORY

  0.1.0  (2026-11-22)  first release: kernels, Cholesky, networks, LS/PM/SAPM, PINNs.

------------------------------------------------------------------------------
MIT License

Copyright (c) 2026 The sapm.h authors

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
*/
