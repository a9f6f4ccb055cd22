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
#if defined(__GNUC__) || defined(__clang__)
#define SAPMDEF static __attribute__((unused)) /* no -Wunused-function for what a TU skips */
#else
#define SAPMDEF static
#endif
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
 * beta == 0 overwrites C (NaN in C is not propagated). k == 0 or alpha == 0 scales C by
 * beta without reading A or B. m, n >= 1, k >= 0. C must not overlap A or B. Never
 * fails for lack of memory (falls back to an unblocked loop). */
SAPMDEF sapm_result sapm_gemm(sapm_transpose transa, sapm_transpose transb, int m, int n,
                              int k, double alpha, const double *A, int lda, const double *B,
                              int ldb, double beta, double *C, int ldc);

/* Symmetric rank-k update, the Gram matrix of the closed-form weight updates:
 * trans == SAPM_NO_TRANS: C = alpha * A * A^T + beta * C, A is n x k (a wide matrix);
 * trans == SAPM_TRANS:    C = alpha * A^T * A + beta * C, A is k x n.
 * Both triangles of C (n x n) are written: the lower one is computed (beta scales the
 * lower triangle of the old C) and mirrored. n >= 1, k >= 0. */
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
 * unsolved (their B untouched, their A possibly partly overwritten) and the call returns
 * SAPM_ERR_NOT_POSITIVE_DEFINITE; the others are solved. On the SIMD paths systems with
 * n <= 64 are solved SIMD-width at a time (one system per vector lane). */
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
 * GEMM follows BLIS's "five loops around a micro-kernel": the k dimension is cut into
 * blocks of KC (pc loop), the columns of C into blocks of NC (jc loop, a KC x NC block of
 * op(B) is packed into NR-wide slivers), the rows into blocks of MC (ic loop, an MC x KC
 * block of op(A) is packed into MR-tall slivers), and the micro-kernel computes one
 * MR x NR tile of C as a sum of KC rank-1 updates held in registers (jr, ir loops).
 * Packing turns all four transpose combinations into the same contiguous access pattern,
 * so one micro-kernel per SIMD path serves GEMM, SYRK (only tiles touching the lower
 * triangle, then mirrored) and the trailing updates of the blocked Cholesky.
 * Small products skip what does not pay (tinyBLAS/BLASFEO's observation): m n k <= 512
 * runs the plain triple loop; packing buffers up to 24 KB live on the stack (no
 * allocation); on AVX-512 three direct paths read operands in place: small A^T B (the
 * Gram-like products of tall data: nothing packed), few-row products with contiguous
 * op(B) (feature-major W H: only A packed) and tall A times a small op(B) (N x width:
 * only op(B) packed). If the workspace cannot be allocated the plain loop runs: GEMM
 * and SYRK never fail for lack of memory.
 *
 * On top of GEMM: blocked TRSM (diagonal blocks by substitution, the rest GEMM),
 * right-looking blocked Cholesky (dpotrf's algorithm), and the batched small-SPD
 * solver, which on the SIMD paths puts one system in each vector lane.
 *
 *   path      MR x NR   accumulators
 *   AVX-512   8 x 16    16 zmm (2 per row)
 *   AVX2+FMA  6 x 8     12 ymm (2 per row)
 *   NEON      4 x 4      8 q   (2 per row)
 *   scalar    4 x 4     16 doubles
 * ====================================================================================== */

#if defined(SAPM__AVX512)
#define SAPM__MR 8
#define SAPM__NR 16
#elif defined(SAPM__AVX2)
#define SAPM__MR 6
#define SAPM__NR 8
#else
#define SAPM__MR 4
#define SAPM__NR 4
#endif
#define SAPM__KC 256   /* depth of one packed block: KC x NR sliver of B stays in L1 */
#define SAPM__MC 96    /* rows of a packed A block (multiple of every MR): MC x KC in L2 */
#define SAPM__NC 1024  /* columns of a packed B block (multiple of every NR): KC x NC in L2 */
#define SAPM__SMALL_GEMM 512.0   /* m n k at or below which the plain loop is used */
#define SAPM__GEMM_STACK 3072    /* packing buffers up to this many doubles live on the stack */
#define SAPM__DIRECT_MN 4096.0   /* AVX-512: A^T B with m n up to this skips packing */
#define SAPM__CHOL_NB 64         /* block size of the blocked Cholesky (unblocked at n <= 32) */
#define SAPM__CHOL_UNBLOCKED 32
#define SAPM__TRSM_NB 64         /* block size of the blocked triangular solves */
#define SAPM__BATCH_INTERLEAVE_MAX 64 /* batched SPD: systems up to this n are interleaved */

/* A thin layer over the two x86 vector widths, so the activation kernels and the
 * interleaved batched Cholesky are written once (lane l of a vector = element or system l). */
#if defined(SAPM__AVX512) || defined(SAPM__AVX2)
#define SAPM__VEC 1
#if defined(SAPM__AVX512)
#define SAPM__VL 8
typedef __m512d sapm__vd;
typedef __mmask8 sapm__vm;
#define sapm__vset(x) _mm512_set1_pd(x)
#define sapm__vload(p) _mm512_loadu_pd(p)
#define sapm__vstore(p, v) _mm512_storeu_pd(p, v)
#define sapm__vadd(a, b) _mm512_add_pd(a, b)
#define sapm__vsub(a, b) _mm512_sub_pd(a, b)
#define sapm__vmul(a, b) _mm512_mul_pd(a, b)
#define sapm__vdiv(a, b) _mm512_div_pd(a, b)
#define sapm__vsqrt(a) _mm512_maskz_sqrt_pd(0xFF, a)
#define sapm__vfma(a, b, c) _mm512_fmadd_pd(a, b, c)    /* a b + c */
#define sapm__vfnma(a, b, c) _mm512_fnmadd_pd(a, b, c)  /* c - a b */
#define sapm__vmin(a, b) _mm512_maskz_min_pd(0xFF, a, b) /* NaN in b propagates */
#define sapm__vmax(a, b) _mm512_maskz_max_pd(0xFF, a, b)
/* the masked forms: the unmasked ones trip g++ 12's -Wuninitialized (_mm512_undefined_pd) */
#define sapm__vround(a) _mm512_maskz_roundscale_pd(0xFF, a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define sapm__vfloor(a) _mm512_maskz_roundscale_pd(0xFF, a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define sapm__vlt(a, b) _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ)
#define sapm__vle(a, b) _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ)
#define sapm__vge(a, b) _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ)
#define sapm__veq(a, b) _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ)
#define sapm__vor_m(a, b) ((sapm__vm)((a) | (b)))
#define sapm__vsel(m, a, b) _mm512_mask_blend_pd(m, b, a) /* m ? a : b */
#define sapm__vany(m) ((m) != 0)
#define sapm__vall(m) ((m) == 0xFF)
static sapm__vd sapm__vxor_sign(sapm__vd a, sapm__vd s) /* a with its sign flipped where s < 0 */
{
    __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ull);
    return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(a),
                                                _mm512_and_si512(_mm512_castpd_si512(s), sign)));
}
static sapm__vd sapm__vabs(sapm__vd a)
{
    return _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(a),
                                                _mm512_set1_epi64(0x7FFFFFFFFFFFFFFFll)));
}
/* p 2^n for integral n in [-1080, 1030] (overflow to Inf, gradual underflow) */
static sapm__vd sapm__vscale(sapm__vd p, sapm__vd n) { return _mm512_maskz_scalef_pd(0xFF, p, n); }
#else
#define SAPM__VL 4
typedef __m256d sapm__vd;
typedef __m256d sapm__vm;
#define sapm__vset(x) _mm256_set1_pd(x)
#define sapm__vload(p) _mm256_loadu_pd(p)
#define sapm__vstore(p, v) _mm256_storeu_pd(p, v)
#define sapm__vadd(a, b) _mm256_add_pd(a, b)
#define sapm__vsub(a, b) _mm256_sub_pd(a, b)
#define sapm__vmul(a, b) _mm256_mul_pd(a, b)
#define sapm__vdiv(a, b) _mm256_div_pd(a, b)
#define sapm__vsqrt(a) _mm256_sqrt_pd(a)
#define sapm__vfma(a, b, c) _mm256_fmadd_pd(a, b, c)
#define sapm__vfnma(a, b, c) _mm256_fnmadd_pd(a, b, c)
#define sapm__vmin(a, b) _mm256_min_pd(a, b)
#define sapm__vmax(a, b) _mm256_max_pd(a, b)
#define sapm__vround(a) _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define sapm__vfloor(a) _mm256_round_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define sapm__vlt(a, b) _mm256_cmp_pd(a, b, _CMP_LT_OQ)
#define sapm__vle(a, b) _mm256_cmp_pd(a, b, _CMP_LE_OQ)
#define sapm__vge(a, b) _mm256_cmp_pd(a, b, _CMP_GE_OQ)
#define sapm__veq(a, b) _mm256_cmp_pd(a, b, _CMP_EQ_OQ)
#define sapm__vor_m(a, b) _mm256_or_pd(a, b)
#define sapm__vsel(m, a, b) _mm256_blendv_pd(b, a, m)
#define sapm__vany(m) (_mm256_movemask_pd(m) != 0)
#define sapm__vall(m) (_mm256_movemask_pd(m) == 0xF)
static sapm__vd sapm__vxor_sign(sapm__vd a, sapm__vd s)
{
    return _mm256_xor_pd(a, _mm256_and_pd(s, _mm256_set1_pd(-0.0)));
}
static sapm__vd sapm__vabs(sapm__vd a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
/* p 2^n for integral n in [-1080, 1030]: two exactly representable factors 2^n1 2^n2
 * (n1 = floor(n/2)), so results reach the subnormal range and overflow to Inf */
static sapm__vd sapm__vscale(sapm__vd p, sapm__vd n)
{
    __m128i ni = _mm256_cvtpd_epi32(n), n1 = _mm_srai_epi32(ni, 1), n2 = _mm_sub_epi32(ni, n1);
    __m128i bias = _mm_set1_epi32(1023);
    __m256i e1 = _mm256_slli_epi64(_mm256_cvtepi32_epi64(_mm_add_epi32(n1, bias)), 52);
    __m256i e2 = _mm256_slli_epi64(_mm256_cvtepi32_epi64(_mm_add_epi32(n2, bias)), 52);
    return _mm256_mul_pd(_mm256_mul_pd(p, _mm256_castsi256_pd(e1)), _mm256_castsi256_pd(e2));
}
#endif
#endif /* SAPM__AVX512 || SAPM__AVX2 */

static sapm_result sapm__check_matrix(const double *A, int rows, int cols, int ld)
{
    if (!A) return SAPM_ERR_NULL_ARGUMENT;
    if (rows < 0 || cols < 0) return SAPM_ERR_INVALID_SIZE;
    if (ld < cols || ld < 1) return SAPM_ERR_SIZE_MISMATCH;
    return SAPM_OK;
}

/* x . y over n contiguous doubles. */
static double sapm__dot(int n, const double *SAPM__RESTRICT x, const double *SAPM__RESTRICT y)
{
    int i = 0;
    double s = 0.0;
#if defined(SAPM__AVX512)
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    for (; i + 16 <= n; i += 16) {
        a0 = _mm512_fmadd_pd(_mm512_loadu_pd(x + i), _mm512_loadu_pd(y + i), a0);
        a1 = _mm512_fmadd_pd(_mm512_loadu_pd(x + i + 8), _mm512_loadu_pd(y + i + 8), a1);
    }
    if (i + 8 <= n) {
        a0 = _mm512_fmadd_pd(_mm512_loadu_pd(x + i), _mm512_loadu_pd(y + i), a0);
        i += 8;
    }
    if (i < n) {
        __mmask8 m = (__mmask8)((1u << (n - i)) - 1u);
        a1 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, x + i), _mm512_maskz_loadu_pd(m, y + i), a1);
    }
    {   /* horizontal sum (the masked extract avoids g++ 12's _mm512_undefined_pd warning) */
        __m256d h4;
        __m128d h2;
        a0 = _mm512_add_pd(a0, a1);
        h4 = _mm256_add_pd(_mm512_maskz_extractf64x4_pd(0xF, a0, 0), _mm512_maskz_extractf64x4_pd(0xF, a0, 1));
        h2 = _mm_add_pd(_mm256_castpd256_pd128(h4), _mm256_extractf128_pd(h4, 1));
        return _mm_cvtsd_f64(_mm_add_sd(h2, _mm_unpackhi_pd(h2, h2)));
    }
#elif defined(SAPM__AVX2)
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    __m128d h;
    for (; i + 8 <= n; i += 8) {
        a0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i), a0);
        a1 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i + 4), _mm256_loadu_pd(y + i + 4), a1);
    }
    if (i + 4 <= n) {
        a0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i), a0);
        i += 4;
    }
    a0 = _mm256_add_pd(a0, a1);
    h = _mm_add_pd(_mm256_castpd256_pd128(a0), _mm256_extractf128_pd(a0, 1));
    s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
#elif defined(SAPM__NEON)
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = vdupq_n_f64(0.0);
    for (; i + 4 <= n; i += 4) {
        a0 = vfmaq_f64(a0, vld1q_f64(x + i), vld1q_f64(y + i));
        a1 = vfmaq_f64(a1, vld1q_f64(x + i + 2), vld1q_f64(y + i + 2));
    }
    s = vaddvq_f64(vaddq_f64(a0, a1));
#endif
    for (; i < n; ++i) s += x[i] * y[i];
    return s;
}

/* y += a x over n contiguous doubles. */
static void sapm__axpy(int n, double a, const double *SAPM__RESTRICT x, double *SAPM__RESTRICT y)
{
    int i = 0;
#if defined(SAPM__AVX512)
    __m512d va = _mm512_set1_pd(a);
    for (; i + 8 <= n; i += 8)
        _mm512_storeu_pd(y + i, _mm512_fmadd_pd(va, _mm512_loadu_pd(x + i), _mm512_loadu_pd(y + i)));
    if (i < n) {
        __mmask8 m = (__mmask8)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_pd(y + i, m, _mm512_fmadd_pd(va, _mm512_maskz_loadu_pd(m, x + i),
                                                        _mm512_maskz_loadu_pd(m, y + i)));
        return;
    }
#elif defined(SAPM__AVX2)
    __m256d va = _mm256_set1_pd(a);
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(y + i, _mm256_fmadd_pd(va, _mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i)));
#elif defined(SAPM__NEON)
    float64x2_t va = vdupq_n_f64(a);
    for (; i + 2 <= n; i += 2) vst1q_f64(y + i, vfmaq_f64(vld1q_f64(y + i), va, vld1q_f64(x + i)));
#endif
    for (; i < n; ++i) y[i] += a * x[i];
}

/* C (rows x cols, lower triangle only when lower != 0) = beta C, beta == 0 overwriting. */
static void sapm__scale_matrix(int rows, int cols, double beta, double *C, int ldc, int lower)
{
    int i, j;
    for (i = 0; i < rows; ++i) {
        double *c = C + (size_t)i * ldc;
        int nj = lower ? SAPM__MIN(cols, i + 1) : cols;
        if (beta == 0.0) for (j = 0; j < nj; ++j) c[j] = 0.0;
        else if (beta != 1.0) for (j = 0; j < nj; ++j) c[j] *= beta;
    }
}

/* Plain triple loop C = alpha op(A) op(B) + beta C (lower: only j <= i written); the
 * reference the blocked path is tested against, and the path for tiny products. */
static void sapm__gemm_small(int ta, int tb, int m, int n, int k, double alpha,
                             const double *A, int lda, const double *B, int ldb, double beta,
                             double *C, int ldc, int lower)
{
    size_t ars = ta ? 1 : (size_t)lda, acs = ta ? (size_t)lda : 1;
    size_t brs = tb ? 1 : (size_t)ldb, bcs = tb ? (size_t)ldb : 1;
    int i, j, p;
    for (i = 0; i < m; ++i) {
        int nj = lower ? SAPM__MIN(n, i + 1) : n;
        for (j = 0; j < nj; ++j) {
            const double *a = A + i * ars, *b = B + j * bcs;
            double s = 0.0, *c = C + (size_t)i * ldc + j;
            for (p = 0; p < k; ++p) s += a[p * acs] * b[p * brs];
            *c = (beta == 0.0 ? 0.0 : beta * *c) + alpha * s;
        }
    }
}

/* Copy one full sliver row (MR or NR doubles) with vector moves: the compilers would
 * otherwise call memcpy for these 4..16-element copies. */
static SAPM__UNUSED void sapm__copy_mr(double *SAPM__RESTRICT d, const double *SAPM__RESTRICT s)
{
#if defined(SAPM__AVX2)
    _mm256_storeu_pd(d, _mm256_loadu_pd(s));
    _mm_storeu_pd(d + 4, _mm_loadu_pd(s + 4));
#elif defined(SAPM__NEON)
    vst1q_f64(d, vld1q_f64(s));
    vst1q_f64(d + 2, vld1q_f64(s + 2));
#else
    int r;
    for (r = 0; r < SAPM__MR; ++r) d[r] = s[r];
#endif
}

static SAPM__UNUSED void sapm__copy_nr(double *SAPM__RESTRICT d, const double *SAPM__RESTRICT s)
{
#if defined(SAPM__AVX2)
    _mm256_storeu_pd(d, _mm256_loadu_pd(s));
    _mm256_storeu_pd(d + 4, _mm256_loadu_pd(s + 4));
#elif defined(SAPM__NEON)
    vst1q_f64(d, vld1q_f64(s));
    vst1q_f64(d + 2, vld1q_f64(s + 2));
#else
    int c;
    for (c = 0; c < SAPM__NR; ++c) d[c] = s[c];
#endif
}

#if defined(SAPM__AVX512)
/* Transpose an 8 x 8 block (rows r < rows of src with stride lds, columns q < cols
 * valid; the rest read as zero) and store its first cols rows at dst + q dstride: the
 * packing of the transposed operands (op(A) = A, op(B) = B^T) without scalar gathers.
 * (The masked intrinsic forms avoid g++ 12's _mm512_undefined_pd warning.) */
static void sapm__transpose8(const double *src, size_t lds, int rows, int cols, double *dst,
                             size_t dstride)
{
    __m512d v[8], t[8], u[8];
    __mmask8 cm = (__mmask8)((1u << cols) - 1u);
    int r;
    for (r = 0; r < 8; ++r) v[r] = r < rows ? _mm512_maskz_loadu_pd(cm, src + r * lds) : _mm512_setzero_pd();
    for (r = 0; r < 8; r += 2) {
        t[r] = _mm512_maskz_unpacklo_pd(0xFF, v[r], v[r + 1]);     /* v_r[0] v_r+1[0] v_r[2] .. */
        t[r + 1] = _mm512_maskz_unpackhi_pd(0xFF, v[r], v[r + 1]); /* v_r[1] v_r+1[1] v_r[3] .. */
    }
    u[0] = _mm512_maskz_shuffle_f64x2(0xFF, t[0], t[2], 0x88); /* columns 0, 4 of rows 0-3 */
    u[1] = _mm512_maskz_shuffle_f64x2(0xFF, t[0], t[2], 0xDD); /* columns 2, 6 */
    u[2] = _mm512_maskz_shuffle_f64x2(0xFF, t[1], t[3], 0x88); /* columns 1, 5 */
    u[3] = _mm512_maskz_shuffle_f64x2(0xFF, t[1], t[3], 0xDD); /* columns 3, 7 */
    u[4] = _mm512_maskz_shuffle_f64x2(0xFF, t[4], t[6], 0x88); /* the same for rows 4-7 */
    u[5] = _mm512_maskz_shuffle_f64x2(0xFF, t[4], t[6], 0xDD);
    u[6] = _mm512_maskz_shuffle_f64x2(0xFF, t[5], t[7], 0x88);
    u[7] = _mm512_maskz_shuffle_f64x2(0xFF, t[5], t[7], 0xDD);
    v[0] = _mm512_maskz_shuffle_f64x2(0xFF, u[0], u[4], 0x88);
    v[4] = _mm512_maskz_shuffle_f64x2(0xFF, u[0], u[4], 0xDD);
    v[2] = _mm512_maskz_shuffle_f64x2(0xFF, u[1], u[5], 0x88);
    v[6] = _mm512_maskz_shuffle_f64x2(0xFF, u[1], u[5], 0xDD);
    v[1] = _mm512_maskz_shuffle_f64x2(0xFF, u[2], u[6], 0x88);
    v[5] = _mm512_maskz_shuffle_f64x2(0xFF, u[2], u[6], 0xDD);
    v[3] = _mm512_maskz_shuffle_f64x2(0xFF, u[3], u[7], 0x88);
    v[7] = _mm512_maskz_shuffle_f64x2(0xFF, u[3], u[7], 0xDD);
    for (r = 0; r < cols; ++r) _mm512_storeu_pd(dst + r * dstride, v[r]);
}
#endif

/* Pack rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into MR-tall slivers:
 * Ap[s][p][r] = op(A)[i0 + s MR + r][p0 + p], rows past mc zero. */
static void sapm__pack_a(int ta, const double *A, int lda, int i0, int mc, int p0, int kc,
                         double *SAPM__RESTRICT Ap)
{
    int s, p, r;
    for (s = 0; s < mc; s += SAPM__MR) {
        int mr = SAPM__MIN(SAPM__MR, mc - s);
        if (ta) {
            const double *src = A + (size_t)p0 * lda + i0 + s;
#if defined(SAPM__AVX512)
            __mmask8 msk = (__mmask8)((1u << mr) - 1u);  /* copy mr, zero the rest */
            for (p = 0; p < kc; ++p, src += lda, Ap += 8)
                _mm512_storeu_pd(Ap, _mm512_maskz_loadu_pd(msk, src));
#else
            if (mr == SAPM__MR) {
                for (p = 0; p < kc; ++p, src += lda, Ap += SAPM__MR)
                    sapm__copy_mr(Ap, src);
            } else {
                for (p = 0; p < kc; ++p, src += lda, Ap += SAPM__MR) {
                    for (r = 0; r < mr; ++r) Ap[r] = src[r];
                    for (; r < SAPM__MR; ++r) Ap[r] = 0.0;
                }
            }
#endif
        } else {
#if defined(SAPM__AVX512)
            const double *src = A + (size_t)(i0 + s) * lda + p0;
            for (p = 0; p < kc; p += 8)
                sapm__transpose8(src + p, (size_t)lda, mr, SAPM__MIN(8, kc - p), Ap + (size_t)p * 8, 8);
            r = SAPM__MR;
#else
            for (r = 0; r < mr; ++r) {
                const double *src = A + (size_t)(i0 + s + r) * lda + p0;
                for (p = 0; p < kc; ++p) Ap[(size_t)p * SAPM__MR + r] = src[p];
            }
#endif
            for (; r < SAPM__MR; ++r)
                for (p = 0; p < kc; ++p) Ap[(size_t)p * SAPM__MR + r] = 0.0;
            Ap += (size_t)kc * SAPM__MR;
        }
    }
}

/* Pack rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into NR-wide slivers:
 * Bp[s][p][c] = op(B)[p0 + p][j0 + s NR + c], columns past nc zero. */
static void sapm__pack_b(int tb, const double *B, int ldb, int p0, int kc, int j0, int nc,
                         double *SAPM__RESTRICT Bp)
{
    int s, p, c;
    for (s = 0; s < nc; s += SAPM__NR) {
        int nr = SAPM__MIN(SAPM__NR, nc - s);
        if (!tb) {
            const double *src = B + (size_t)p0 * ldb + j0 + s;
#if defined(SAPM__AVX512)
            __mmask8 m0 = (__mmask8)(nr >= 8 ? 0xFFu : (1u << nr) - 1u);
            __mmask8 m1 = (__mmask8)(nr <= 8 ? 0u : (1u << (nr - 8)) - 1u);
            for (p = 0; p < kc; ++p, src += ldb, Bp += 16) {
                _mm512_storeu_pd(Bp, _mm512_maskz_loadu_pd(m0, src));
                _mm512_storeu_pd(Bp + 8, _mm512_maskz_loadu_pd(m1, src + 8));
            }
#else
            if (nr == SAPM__NR) {
                for (p = 0; p < kc; ++p, src += ldb, Bp += SAPM__NR)
                    sapm__copy_nr(Bp, src);
            } else {
                for (p = 0; p < kc; ++p, src += ldb, Bp += SAPM__NR) {
                    for (c = 0; c < nr; ++c) Bp[c] = src[c];
                    for (; c < SAPM__NR; ++c) Bp[c] = 0.0;
                }
            }
#endif
        } else {
#if defined(SAPM__AVX512)
            const double *src = B + (size_t)(j0 + s) * ldb + p0;
            for (p = 0; p < kc; p += 8) {
                int w = SAPM__MIN(8, kc - p);
                sapm__transpose8(src + p, (size_t)ldb, SAPM__MIN(nr, 8), w, Bp + (size_t)p * 16, 16);
                sapm__transpose8(nr > 8 ? src + (size_t)8 * ldb + p : src, (size_t)ldb, nr - 8, w,
                                 Bp + (size_t)p * 16 + 8, 16);
            }
            c = SAPM__NR;
#else
            for (c = 0; c < nr; ++c) {
                const double *src = B + (size_t)(j0 + s + c) * ldb + p0;
                for (p = 0; p < kc; ++p) Bp[(size_t)p * SAPM__NR + c] = src[p];
            }
#endif
            for (; c < SAPM__NR; ++c)
                for (p = 0; p < kc; ++p) Bp[(size_t)p * SAPM__NR + c] = 0.0;
            Bp += (size_t)kc * SAPM__NR;
        }
    }
}

/* Micro-kernel: the MR x NR tile T = sum_p Ap[p][:]^T Bp[p][:] (kc rank-1 updates in
 * registers), then C[0:mr, 0:nr] = alpha T + beta C (beta == 0 overwrites). With
 * tri != 0 only the entries with c <= r + diag are written (the tile's part of the
 * lower triangle). Full tiles are stored straight from the registers. Row p of the A
 * sliver is Ap + p a_ps (MR values a_rs apart), of the B sliver Bp + p b_ps: packed
 * slivers have a_ps = MR, a_rs = 1, b_ps = NR; the AVX-512 direct paths also point them
 * into unpacked operands (B columns past nr are then masked off, never read; A slivers
 * read in place with a_rs != 1 are always full height). */
static void sapm__micro_kernel(int kc, const double *SAPM__RESTRICT Ap, size_t a_ps, size_t a_rs,
                               const double *SAPM__RESTRICT Bp, size_t b_ps, double alpha,
                               double beta, double *C, int ldc, int mr, int nr, int tri, int diag)
{
    double T[SAPM__MR * SAPM__NR];
    int r, c, p;
    (void)a_rs;
#if defined(SAPM__AVX512)
    __m512d c00 = _mm512_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
            c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00,
            c61 = c00, c70 = c00, c71 = c00, b0, b1, a;
    __mmask8 m0 = (__mmask8)(nr >= 8 ? 0xFFu : (1u << nr) - 1u);
    __mmask8 m1 = (__mmask8)(nr <= 8 ? 0u : nr >= 16 ? 0xFFu : (1u << (nr - 8)) - 1u);
#define SAPM__ROW(R) a = _mm512_set1_pd(Ap[R]); \
        c##R##0 = _mm512_fmadd_pd(a, b0, c##R##0); c##R##1 = _mm512_fmadd_pd(a, b1, c##R##1);
#define SAPM__ROW1(R) a = _mm512_set1_pd(Ap[R]); c##R##0 = _mm512_fmadd_pd(a, b0, c##R##0);
    /* edge tiles run on narrower loops (4 or 6 rows, 8 columns; the unused accumulators
     * stay zero), so narrow widths (n = 20 = 16 + 4, 21 = 8 + 8 + 5) waste fewer FMAs */
    if (a_rs != 1) {  /* A rows in place (op(A) = A read directly): 8 rows a_rs apart */
        const double *A4 = Ap + 4 * a_rs;
        size_t r2 = 2 * a_rs, r3 = 3 * a_rs;
#define SAPM__ROWS(ROWM) \
        ROWM(0, Ap[0]) ROWM(1, Ap[a_rs]) ROWM(2, Ap[r2]) ROWM(3, Ap[r3]) \
        ROWM(4, A4[0]) ROWM(5, A4[a_rs]) ROWM(6, A4[r2]) ROWM(7, A4[r3])
#define SAPM__RS2(R, X) a = _mm512_set1_pd(X); \
        c##R##0 = _mm512_fmadd_pd(a, b0, c##R##0); c##R##1 = _mm512_fmadd_pd(a, b1, c##R##1);
#define SAPM__RS1(R, X) a = _mm512_set1_pd(X); c##R##0 = _mm512_fmadd_pd(a, b0, c##R##0);
        SAPM_ASSERT(mr == 8);
        if (nr <= 8) {
            for (p = 0; p < kc; ++p, Ap += a_ps, A4 += a_ps, Bp += b_ps) {
                b0 = _mm512_maskz_loadu_pd(m0, Bp);
                SAPM__ROWS(SAPM__RS1)
            }
        } else {
            for (p = 0; p < kc; ++p, Ap += a_ps, A4 += a_ps, Bp += b_ps) {
                b0 = _mm512_maskz_loadu_pd(m0, Bp);
                b1 = _mm512_maskz_loadu_pd(m1, Bp + 8);
                SAPM__ROWS(SAPM__RS2)
            }
        }
#undef SAPM__ROWS
#undef SAPM__RS2
#undef SAPM__RS1
    } else if (mr <= 4 && nr <= 8) {
        for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
            b0 = _mm512_maskz_loadu_pd(m0, Bp);
            SAPM__ROW1(0) SAPM__ROW1(1) SAPM__ROW1(2) SAPM__ROW1(3)
        }
    } else if (mr <= 6 && nr <= 8) {
        for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
            b0 = _mm512_maskz_loadu_pd(m0, Bp);
            SAPM__ROW1(0) SAPM__ROW1(1) SAPM__ROW1(2) SAPM__ROW1(3) SAPM__ROW1(4) SAPM__ROW1(5)
        }
    } else if (nr <= 8) {
        for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
            b0 = _mm512_maskz_loadu_pd(m0, Bp);
            SAPM__ROW1(0) SAPM__ROW1(1) SAPM__ROW1(2) SAPM__ROW1(3)
            SAPM__ROW1(4) SAPM__ROW1(5) SAPM__ROW1(6) SAPM__ROW1(7)
        }
    } else if (mr <= 4) {
        for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
            b0 = _mm512_maskz_loadu_pd(m0, Bp);
            b1 = _mm512_maskz_loadu_pd(m1, Bp + 8);
            SAPM__ROW(0) SAPM__ROW(1) SAPM__ROW(2) SAPM__ROW(3)
        }
    } else if (mr <= 6) {
        for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
            b0 = _mm512_maskz_loadu_pd(m0, Bp);
            b1 = _mm512_maskz_loadu_pd(m1, Bp + 8);
            SAPM__ROW(0) SAPM__ROW(1) SAPM__ROW(2) SAPM__ROW(3) SAPM__ROW(4) SAPM__ROW(5)
        }
    } else {
        for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
            b0 = _mm512_maskz_loadu_pd(m0, Bp);
            b1 = _mm512_maskz_loadu_pd(m1, Bp + 8);
            SAPM__ROW(0) SAPM__ROW(1) SAPM__ROW(2) SAPM__ROW(3)
            SAPM__ROW(4) SAPM__ROW(5) SAPM__ROW(6) SAPM__ROW(7)
        }
    }
#undef SAPM__ROW
#undef SAPM__ROW1
    if (mr == 8 && nr == 16 && !tri) {
        __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
#define SAPM__ST(R) \
        if (beta == 0.0) { \
            _mm512_storeu_pd(C + (size_t)R * ldc, _mm512_mul_pd(va, c##R##0)); \
            _mm512_storeu_pd(C + (size_t)R * ldc + 8, _mm512_mul_pd(va, c##R##1)); \
        } else { \
            _mm512_storeu_pd(C + (size_t)R * ldc, _mm512_fmadd_pd(va, c##R##0, _mm512_mul_pd(vb, _mm512_loadu_pd(C + (size_t)R * ldc)))); \
            _mm512_storeu_pd(C + (size_t)R * ldc + 8, _mm512_fmadd_pd(va, c##R##1, _mm512_mul_pd(vb, _mm512_loadu_pd(C + (size_t)R * ldc + 8)))); \
        }
        SAPM__ST(0) SAPM__ST(1) SAPM__ST(2) SAPM__ST(3)
        SAPM__ST(4) SAPM__ST(5) SAPM__ST(6) SAPM__ST(7)
#undef SAPM__ST
        return;
    }
    _mm512_storeu_pd(T + 0, c00); _mm512_storeu_pd(T + 8, c01);
    _mm512_storeu_pd(T + 16, c10); _mm512_storeu_pd(T + 24, c11);
    _mm512_storeu_pd(T + 32, c20); _mm512_storeu_pd(T + 40, c21);
    _mm512_storeu_pd(T + 48, c30); _mm512_storeu_pd(T + 56, c31);
    _mm512_storeu_pd(T + 64, c40); _mm512_storeu_pd(T + 72, c41);
    _mm512_storeu_pd(T + 80, c50); _mm512_storeu_pd(T + 88, c51);
    _mm512_storeu_pd(T + 96, c60); _mm512_storeu_pd(T + 104, c61);
    _mm512_storeu_pd(T + 112, c70); _mm512_storeu_pd(T + 120, c71);
#elif defined(SAPM__AVX2)
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
            c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, b0, b1, a;
#define SAPM__ROW(R) a = _mm256_broadcast_sd(Ap + R); \
        c##R##0 = _mm256_fmadd_pd(a, b0, c##R##0); c##R##1 = _mm256_fmadd_pd(a, b1, c##R##1);
#define SAPM__ROW1(R) a = _mm256_broadcast_sd(Ap + R); c##R##0 = _mm256_fmadd_pd(a, b0, c##R##0);
    if (nr <= 4) { /* narrow edge tile: 6 x 4 */
        for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
            b0 = _mm256_loadu_pd(Bp);
            SAPM__ROW1(0) SAPM__ROW1(1) SAPM__ROW1(2) SAPM__ROW1(3) SAPM__ROW1(4) SAPM__ROW1(5)
        }
    } else {
        for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
            b0 = _mm256_loadu_pd(Bp);
            b1 = _mm256_loadu_pd(Bp + 4);
            SAPM__ROW(0) SAPM__ROW(1) SAPM__ROW(2) SAPM__ROW(3) SAPM__ROW(4) SAPM__ROW(5)
        }
    }
#undef SAPM__ROW
#undef SAPM__ROW1
    if (mr == 6 && nr == 8 && !tri) {
        __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
#define SAPM__ST(R) \
        if (beta == 0.0) { \
            _mm256_storeu_pd(C + (size_t)R * ldc, _mm256_mul_pd(va, c##R##0)); \
            _mm256_storeu_pd(C + (size_t)R * ldc + 4, _mm256_mul_pd(va, c##R##1)); \
        } else { \
            _mm256_storeu_pd(C + (size_t)R * ldc, _mm256_fmadd_pd(va, c##R##0, _mm256_mul_pd(vb, _mm256_loadu_pd(C + (size_t)R * ldc)))); \
            _mm256_storeu_pd(C + (size_t)R * ldc + 4, _mm256_fmadd_pd(va, c##R##1, _mm256_mul_pd(vb, _mm256_loadu_pd(C + (size_t)R * ldc + 4)))); \
        }
        SAPM__ST(0) SAPM__ST(1) SAPM__ST(2) SAPM__ST(3) SAPM__ST(4) SAPM__ST(5)
#undef SAPM__ST
        return;
    }
    _mm256_storeu_pd(T + 0, c00); _mm256_storeu_pd(T + 4, c01);
    _mm256_storeu_pd(T + 8, c10); _mm256_storeu_pd(T + 12, c11);
    _mm256_storeu_pd(T + 16, c20); _mm256_storeu_pd(T + 20, c21);
    _mm256_storeu_pd(T + 24, c30); _mm256_storeu_pd(T + 28, c31);
    _mm256_storeu_pd(T + 32, c40); _mm256_storeu_pd(T + 36, c41);
    _mm256_storeu_pd(T + 40, c50); _mm256_storeu_pd(T + 44, c51);
#elif defined(SAPM__NEON)
    float64x2_t c00 = vdupq_n_f64(0.0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, b0, b1, a;
    for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
        b0 = vld1q_f64(Bp);
        b1 = vld1q_f64(Bp + 2);
#define SAPM__ROW(R) a = vdupq_n_f64(Ap[R]); \
        c##R##0 = vfmaq_f64(c##R##0, a, b0); c##R##1 = vfmaq_f64(c##R##1, a, b1);
        SAPM__ROW(0) SAPM__ROW(1) SAPM__ROW(2) SAPM__ROW(3)
#undef SAPM__ROW
    }
    vst1q_f64(T + 0, c00); vst1q_f64(T + 2, c01);
    vst1q_f64(T + 4, c10); vst1q_f64(T + 6, c11);
    vst1q_f64(T + 8, c20); vst1q_f64(T + 10, c21);
    vst1q_f64(T + 12, c30); vst1q_f64(T + 14, c31);
#else
    /* scalar twin: the same tile as 16 scalar accumulators */
    for (r = 0; r < SAPM__MR * SAPM__NR; ++r) T[r] = 0.0;
    for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps)
        for (r = 0; r < SAPM__MR; ++r)
            for (c = 0; c < SAPM__NR; ++c) T[r * SAPM__NR + c] += Ap[r] * Bp[c];
#endif
    /* edge tiles and triangle tiles: write back through T */
    for (r = 0; r < mr; ++r) {
        double *cr = C + (size_t)r * ldc;
        int nc = tri ? SAPM__MIN(nr, r + diag + 1) : nr;
        for (c = 0; c < nc; ++c)
            cr[c] = (beta == 0.0 ? 0.0 : beta * cr[c]) + alpha * T[r * SAPM__NR + c];
    }
}

/* C = alpha op(A) op(B) + beta C, arguments already checked, m, n, k >= 1, alpha != 0.
 * lower != 0 (requires m == n, C on the diagonal): only the lower triangle (j <= i) is
 * computed and written; the strict upper triangle of C is not touched. */
static void sapm__gemm_core(int ta, int tb, int m, int n, int k, double alpha,
                            const double *A, int lda, const double *B, int ldb, double beta,
                            double *C, int ldc, int lower)
{
    int kcmax, mcmax, ncmax, pc, jc, ic, jr, ir;
    double *buf = NULL, *Ap, *Bp, stackbuf[SAPM__GEMM_STACK + 8];
    size_t need;
    if ((double)m * n * k <= SAPM__SMALL_GEMM || (m < SAPM__MR && n < SAPM__NR)) {
        sapm__gemm_small(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, lower);
        return;
    }
#if defined(SAPM__AVX512)
    /* Small A^T B (the Gram-like products of tall data): both operands are already laid
     * out as the micro-kernel reads them (op(A) columns and op(B) rows contiguous), so
     * nothing is packed but the last partial sliver of A (tinyBLAS/BLASFEO's choice). */
    if (ta && !tb && !lower && (double)m * n <= SAPM__DIRECT_MN) {
        for (pc = 0; pc < k; pc += SAPM__KC) {
            int kc = SAPM__MIN(SAPM__KC, k - pc);
            double beta_pc = pc == 0 ? beta : 1.0;
            for (ir = 0; ir < m; ir += SAPM__MR) {
                int mr = SAPM__MIN(SAPM__MR, m - ir);
                const double *a = A + (size_t)pc * lda + ir;
                size_t a_ps = (size_t)lda;
                if (mr < SAPM__MR) {  /* reading past column m of A could leave the array */
                    sapm__pack_a(1, A, lda, ir, mr, pc, kc, stackbuf);
                    a = stackbuf;
                    a_ps = SAPM__MR;
                }
                for (jr = 0; jr < n; jr += SAPM__NR)
                    sapm__micro_kernel(kc, a, a_ps, 1, B + (size_t)pc * ldb + jr, (size_t)ldb, alpha,
                                       beta_pc, C + (size_t)ir * ldc + jr, ldc, mr,
                                       SAPM__MIN(SAPM__NR, n - jr), 0, 0);
            }
        }
        return;
    }
    /* Tall A (m x k, rows contiguous) times a small op(B) that fits the stack packed:
     * pack only op(B), read A in place (the last partial sliver of rows is packed);
     * C(N x m) = A B or A B^T with few columns and a short k (N samples x width). */
    if (!ta && !lower && m >= 4 * SAPM__MR &&
        (size_t)((n + SAPM__NR - 1) / SAPM__NR * SAPM__NR + SAPM__MR) * SAPM__MIN(k, SAPM__KC) <= SAPM__GEMM_STACK) {
        int npad = (n + SAPM__NR - 1) / SAPM__NR * SAPM__NR;
        for (pc = 0; pc < k; pc += SAPM__KC) {
            int kc = SAPM__MIN(SAPM__KC, k - pc);
            double beta_pc = pc == 0 ? beta : 1.0, *edge = stackbuf + (size_t)npad * kc;
            sapm__pack_b(tb, B, ldb, pc, kc, 0, n, stackbuf);
            for (ir = 0; ir < m; ir += SAPM__MR) {
                int mr = SAPM__MIN(SAPM__MR, m - ir);
                const double *a = A + (size_t)ir * lda + pc;
                size_t a_ps = 1, a_rs = (size_t)lda;
                if (mr < SAPM__MR) {
                    sapm__pack_a(0, A, lda, ir, mr, pc, kc, edge);
                    a = edge;
                    a_ps = SAPM__MR;
                    a_rs = 1;
                }
                for (jr = 0; jr < n; jr += SAPM__NR)
                    sapm__micro_kernel(kc, a, a_ps, a_rs, stackbuf + (size_t)jr * kc, SAPM__NR, alpha,
                                       beta_pc, C + (size_t)ir * ldc + jr, ldc, mr,
                                       SAPM__MIN(SAPM__NR, n - jr), 0, 0);
            }
        }
        return;
    }
    /* Few rows (op(A) fits the stack packed) and op(B) rows contiguous: pack only A,
     * read B in place; the W H products of feature-major data (m = width, n = samples). */
    if (!tb && !lower && (size_t)((m + SAPM__MR - 1) / SAPM__MR * SAPM__MR) * SAPM__MIN(k, SAPM__KC) <= SAPM__GEMM_STACK) {
        int mpad = (m + SAPM__MR - 1) / SAPM__MR * SAPM__MR;
        for (pc = 0; pc < k; pc += SAPM__KC) {
            int kc = SAPM__MIN(SAPM__KC, k - pc);
            double beta_pc = pc == 0 ? beta : 1.0;
            sapm__pack_a(ta, A, lda, 0, m, pc, kc, stackbuf);
            for (jr = 0; jr < n; jr += SAPM__NR)
                for (ir = 0; ir < mpad; ir += SAPM__MR)
                    sapm__micro_kernel(kc, stackbuf + (size_t)ir * kc, SAPM__MR, 1, B + (size_t)pc * ldb + jr,
                                       (size_t)ldb, alpha, beta_pc, C + (size_t)ir * ldc + jr, ldc,
                                       SAPM__MIN(SAPM__MR, m - ir), SAPM__MIN(SAPM__NR, n - jr), 0, 0);
        }
        return;
    }
#endif
    kcmax = SAPM__MIN(k, SAPM__KC);
    mcmax = (SAPM__MIN(m, SAPM__MC) + SAPM__MR - 1) / SAPM__MR * SAPM__MR;
    ncmax = (SAPM__MIN(n, SAPM__NC) + SAPM__NR - 1) / SAPM__NR * SAPM__NR;
    need = (size_t)kcmax * (size_t)(mcmax + ncmax);
    if (need <= SAPM__GEMM_STACK) {  /* small products: no allocation */
        Ap = stackbuf;
    } else {
        buf = (double *)sapm__alloc(need + 8, sizeof(double));
        if (!buf) { /* no workspace: the plain loop still gives the right answer */
            sapm__gemm_small(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, lower);
            return;
        }
        Ap = buf;
    }
    Ap = (double *)(((uintptr_t)Ap + 63) & ~(uintptr_t)63);   /* 64-byte aligned */
    Bp = Ap + (size_t)kcmax * mcmax;
    for (pc = 0; pc < k; pc += SAPM__KC) {
        int kc = SAPM__MIN(SAPM__KC, k - pc);
        double beta_pc = pc == 0 ? beta : 1.0;  /* later k blocks accumulate */
        for (jc = 0; jc < n; jc += SAPM__NC) {
            int nc = SAPM__MIN(SAPM__NC, n - jc);
            if (lower && jc >= m) break;
            sapm__pack_b(tb, B, ldb, pc, kc, jc, nc, Bp);
            for (ic = 0; ic < m; ic += SAPM__MC) {
                int mc = SAPM__MIN(SAPM__MC, m - ic);
                if (lower && ic + mc - 1 < jc) continue;  /* block above the diagonal */
                sapm__pack_a(ta, A, lda, ic, mc, pc, kc, Ap);
                for (jr = 0; jr < nc; jr += SAPM__NR) {
                    int nr = SAPM__MIN(SAPM__NR, nc - jr);
                    for (ir = 0; ir < mc; ir += SAPM__MR) {
                        int mr = SAPM__MIN(SAPM__MR, mc - ir), gi = ic + ir, gj = jc + jr;
                        int tri = lower && gj + nr - 1 > gi;  /* tile crosses the diagonal */
                        if (lower && gj > gi + mr - 1) continue;  /* tile above it */
                        sapm__micro_kernel(kc, Ap + (size_t)ir * kc, SAPM__MR, 1, Bp + (size_t)jr * kc,
                                           SAPM__NR, alpha, beta_pc, C + (size_t)gi * ldc + gj, ldc,
                                           mr, nr, tri, gi - gj);
                    }
                }
            }
        }
    }
    if (buf) SAPM_FREE(buf);
}

SAPMDEF sapm_result sapm_gemm(sapm_transpose transa, sapm_transpose transb, int m, int n,
                              int k, double alpha, const double *A, int lda, const double *B,
                              int ldb, double beta, double *C, int ldc)
{
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
    if (k == 0 || alpha == 0.0) sapm__scale_matrix(m, n, beta, C, ldc, 0);
    else sapm__gemm_core(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 0);
    return SAPM_OK;
}

/* Copy the strict lower triangle of the n x n matrix C onto its upper triangle. */
static void sapm__mirror_lower(int n, double *C, int ldc)
{
    int i, j;
    for (i = 1; i < n; ++i)
        for (j = 0; j < i; ++j) C[(size_t)j * ldc + i] = C[(size_t)i * ldc + j];
}

SAPMDEF sapm_result sapm_syrk(sapm_transpose trans, int n, int k, double alpha,
                              const double *A, int lda, double beta, double *C, int ldc)
{
    sapm_result r;
    if (trans != SAPM_NO_TRANS && trans != SAPM_TRANS) return SAPM_ERR_INVALID_ARGUMENT;
    if (n <= 0 || k < 0) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__check_matrix(C, n, n, ldc)) != SAPM_OK) return r;
    if (k > 0 && (r = trans ? sapm__check_matrix(A, k, n, lda) : sapm__check_matrix(A, n, k, lda)) != SAPM_OK) return r;
    /* lower triangle of the Gram matrix (A^T A: op(A) = A^T, op(B) = A; A A^T: the
     * reverse), then mirrored */
    if (k == 0 || alpha == 0.0) sapm__scale_matrix(n, n, beta, C, ldc, 1);
    else if (trans == SAPM_TRANS)
        sapm__gemm_core(1, 0, n, n, k, alpha, A, lda, A, lda, beta, C, ldc, 1);
    else
        sapm__gemm_core(0, 1, n, n, k, alpha, A, lda, A, lda, beta, C, ldc, 1);
    sapm__mirror_lower(n, C, ldc);
    return SAPM_OK;
}

/* Unblocked Cholesky, right-looking (LAPACK's dpotf2 order) with contiguous updates:
 * for each column j,
 *   L_jj = sqrt(A_jj),  c = L_{j+1:n, j} = A_{j+1:n, j} / L_jj  (copied to a contiguous
 *   vector), then the Schur complement update A_{i, j+1:i+1} -= c_i c_{0:i-j}
 * (one axpy per row, independent rows: no reductions on the critical path). n <= NB.
 * Returns 0, or the 1-based order of the first leading minor that is not positive
 * definite (a non-positive or non-finite pivot), as dpotrf's info. */
static int sapm__chol_unblocked(int n, double *A, int lda)
{
    double c[SAPM__CHOL_NB];
    int i, j;
    SAPM_ASSERT(n <= SAPM__CHOL_NB);
    for (j = 0; j < n; ++j) {
        double d = A[(size_t)j * lda + j], inv;
        int m = n - j - 1;
        if (!(d > 0.0) || !(d <= DBL_MAX)) return j + 1;
        d = sqrt(d);
        A[(size_t)j * lda + j] = d;
        inv = 1.0 / d;
        for (i = 0; i < m; ++i) {
            double *a = A + (size_t)(j + 1 + i) * lda + j;
            c[i] = *a = *a * inv;
        }
        for (i = 0; i < m; ++i)
            sapm__axpy(i + 1, -c[i], c, A + (size_t)(j + 1 + i) * lda + j + 1);
    }
    return 0;
}

/* B (m x nb) = B L^{-T} with L (nb x nb) lower, i.e. each row x of the result solves
 * L x^T = b^T: the panel step of the blocked Cholesky (L21 = A21 L11^{-T}). Recursive
 * on the columns, so most of the work is the GEMM B2 -= X1 L21^T:
 *   X1 = B1 L11^{-T},  B2 -= X1 L21^T,  X2 = B2 L22^{-T};
 * at <= 16 columns forward substitution x_c = (b_c - sum_{p<c} L_cp x_p) / L_cc, with
 * the rows in the inner loop so their dependency chains overlap. */
static void sapm__trsm_right_lt(int m, int nb, const double *L, int ldl, double *B, int ldb)
{
    int i, c;
    if (nb > 16) {
        int n1 = nb / 2;
        sapm__trsm_right_lt(m, n1, L, ldl, B, ldb);
        sapm__gemm_core(0, 1, m, nb - n1, n1, -1.0, B, ldb, L + (size_t)n1 * ldl, ldl, 1.0,
                        B + n1, ldb, 0);
        sapm__trsm_right_lt(m, nb - n1, L + (size_t)n1 * ldl + n1, ldl, B + n1, ldb);
        return;
    }
    for (c = 0; c < nb; ++c) {
        const double *Lc = L + (size_t)c * ldl;
        double d = Lc[c];
        for (i = 0; i < m; ++i) {
            double *b = B + (size_t)i * ldb;
            b[c] = (b[c] - sapm__dot(c, Lc, b)) / d;
        }
    }
}

/* Right-looking blocked Cholesky (as LAPACK's dpotrf, lower): for each block column
 *   A11 = L11 L11^T (unblocked),  L21 = A21 L11^{-T} (TRSM),  A22 -= L21 L21^T (SYRK,
 * lower triangle only, through the GEMM micro-kernel). Returns the info of dpotrf. */
static int sapm__chol_blocked(int n, double *A, int lda)
{
    int j0;
    if (n <= SAPM__CHOL_UNBLOCKED) return sapm__chol_unblocked(n, A, lda);
    for (j0 = 0; j0 < n; j0 += SAPM__CHOL_NB) {
        int jb = SAPM__MIN(SAPM__CHOL_NB, n - j0), m2 = n - j0 - jb;
        double *A11 = A + (size_t)j0 * lda + j0;
        int info = sapm__chol_unblocked(jb, A11, lda);
        if (info) return j0 + info;
        if (m2 > 0) {
            double *A21 = A11 + (size_t)jb * lda;
            sapm__trsm_right_lt(m2, jb, A11, lda, A21, lda);
            sapm__gemm_core(0, 1, m2, m2, jb, -1.0, A21, lda, A21, lda, 1.0, A21 + jb, lda, 1);
        }
    }
    return 0;
}

SAPMDEF sapm_result sapm_chol_factor(int n, double *A, int lda, int *info)
{
    int inf;
    sapm_result r;
    if (info) *info = 0;
    if (n <= 0) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__check_matrix(A, n, n, lda)) != SAPM_OK) return r;
    inf = sapm__chol_blocked(n, A, lda);
    if (info) *info = inf;
    return inf ? SAPM_ERR_NOT_POSITIVE_DEFINITE : SAPM_OK;
}

/* Rows [i0, i1) of B = L^{-1} B given that rows [0, i0) are solved and their
 * contributions already subtracted: B_i = (B_i - sum_{i0<=p<i} L_ip B_p) / L_ii. */
static void sapm__trsm_ln_unblocked(int i0, int i1, int nrhs, const double *L, int ldl,
                                    double *B, int ldb)
{
    int i, p, j;
    for (i = i0; i < i1; ++i) {
        const double *Li = L + (size_t)i * ldl;
        double *bi = B + (size_t)i * ldb, d = Li[i];
        if (nrhs == 1) {
            double s = bi[0];
            if (ldb == 1) s -= sapm__dot(i - i0, Li + i0, B + i0);  /* contiguous vector */
            else for (p = i0; p < i; ++p) s -= Li[p] * B[(size_t)p * ldb];
            bi[0] = s / d;
            continue;
        }
        for (p = i0; p < i; ++p) sapm__axpy(nrhs, -Li[p], B + (size_t)p * ldb, bi);
        for (j = 0; j < nrhs; ++j) bi[j] /= d;
    }
}

/* Rows [i0, i1) of B = L^{-T} B given that rows [i1, n) are solved and their
 * contributions subtracted; backward: B_i = (B_i - sum_{i<p<i1} L_pi B_p) / L_ii, done
 * column-oriented (after solving row i, B_p -= L_ip B_i for p in [i0, i)) so L is read
 * by rows. */
static void sapm__trsm_lt_unblocked(int i0, int i1, int nrhs, const double *L, int ldl,
                                    double *B, int ldb)
{
    int i, p, j;
    for (i = i1 - 1; i >= i0; --i) {
        const double *Li = L + (size_t)i * ldl;
        double *bi = B + (size_t)i * ldb, d = Li[i];
        if (nrhs == 1) {
            double x = bi[0] / d;
            bi[0] = x;
            for (p = i0; p < i; ++p) B[(size_t)p * ldb] -= Li[p] * x;
            continue;
        }
        for (j = 0; j < nrhs; ++j) bi[j] /= d;
        for (p = i0; p < i; ++p) sapm__axpy(nrhs, -Li[p], bi, B + (size_t)p * ldb);
    }
}

/* B = L^{-1} B (trans = 0) or L^{-T} B (trans = 1), arguments checked. Blocked by
 * SAPM__TRSM_NB rows: the off-diagonal blocks are GEMM updates
 *   forward:  B_2 -= L_21 B_1,   backward: B_1 -= L_21^T B_2. */
static void sapm__trsm(int trans, int n, int nrhs, const double *L, int ldl, double *B, int ldb)
{
    int i0;
    if (n <= SAPM__TRSM_NB || nrhs < SAPM__NR) {
        if (trans) sapm__trsm_lt_unblocked(0, n, nrhs, L, ldl, B, ldb);
        else sapm__trsm_ln_unblocked(0, n, nrhs, L, ldl, B, ldb);
        return;
    }
    if (!trans) {
        for (i0 = 0; i0 < n; i0 += SAPM__TRSM_NB) {
            int i1 = SAPM__MIN(n, i0 + SAPM__TRSM_NB);
            if (i0 > 0)
                sapm__gemm_core(0, 0, i1 - i0, nrhs, i0, -1.0, L + (size_t)i0 * ldl, ldl, B, ldb,
                                1.0, B + (size_t)i0 * ldb, ldb, 0);
            sapm__trsm_ln_unblocked(i0, i1, nrhs, L, ldl, B, ldb);
        }
    } else {
        int nblk = (n + SAPM__TRSM_NB - 1) / SAPM__TRSM_NB, blk;
        for (blk = nblk - 1; blk >= 0; --blk) {
            int b0 = blk * SAPM__TRSM_NB, b1 = SAPM__MIN(n, b0 + SAPM__TRSM_NB);
            sapm__trsm_lt_unblocked(b0, b1, nrhs, L, ldl, B, ldb);
            if (b0 > 0)
                sapm__gemm_core(1, 0, b0, nrhs, b1 - b0, -1.0, L + (size_t)b0 * ldl, ldl,
                                B + (size_t)b0 * ldb, ldb, 1.0, B, ldb, 0);
        }
    }
}

SAPMDEF sapm_result sapm_trsm_lower(sapm_transpose trans, int n, int nrhs, const double *L,
                                    int ldl, double *B, int ldb)
{
    sapm_result r;
    if (trans != SAPM_NO_TRANS && trans != SAPM_TRANS) return SAPM_ERR_INVALID_ARGUMENT;
    if (n <= 0 || nrhs <= 0) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__check_matrix(L, n, n, ldl)) != SAPM_OK) return r;
    if ((r = sapm__check_matrix(B, n, nrhs, ldb)) != SAPM_OK) return r;
    sapm__trsm(trans == SAPM_TRANS, n, nrhs, L, ldl, B, ldb);
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_chol_solve(int n, int nrhs, const double *L, int ldl, double *B,
                                    int ldb)
{
    sapm_result r;
    if (n <= 0 || nrhs <= 0) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__check_matrix(L, n, n, ldl)) != SAPM_OK) return r;
    if ((r = sapm__check_matrix(B, n, nrhs, ldb)) != SAPM_OK) return r;
    /* L L^T X = B:  Y = L^{-1} B, then X = L^{-T} Y */
    sapm__trsm(0, n, nrhs, L, ldl, B, ldb);
    sapm__trsm(1, n, nrhs, L, ldl, B, ldb);
    return SAPM_OK;
}

#if defined(SAPM__VEC)
/* SAPM__VL systems at once, lane l of every vector = system l, in the interleaved
 * layout M[(i cols + j) VL + l]: no horizontal operations and no per-system overhead,
 * which is what small systems (n ~ 10..50) need. The same right-looking Cholesky as
 * sapm__chol_unblocked, then Y = L^{-1} B and X = L^{-T} Y by substitution. A lane whose
 * pivot fails records its column in info[l] (the first one) and continues on a unit
 * pivot; its results are discarded by the caller. */
static void sapm__chol_solve_interleaved(int n, int nrhs, double *AI, double *BI, int *info)
{
    double c[SAPM__BATCH_INTERLEAVE_MAX * SAPM__VL];
    int i, j, k, r, l;
    SAPM_ASSERT(n <= SAPM__BATCH_INTERLEAVE_MAX);
    size_t VL = SAPM__VL;
#define SAPM__AI(I, J) (AI + ((size_t)(I) * n + (J)) * VL)
#define SAPM__BI(I, R) (BI + ((size_t)(I) * nrhs + (R)) * VL)
    for (l = 0; l < SAPM__VL; ++l) info[l] = 0;
    for (j = 0; j < n; ++j) {
        sapm__vd d = sapm__vload(SAPM__AI(j, j)), inv;
        if (!sapm__vall(sapm__vlt(sapm__vset(0.0), sapm__vmin(sapm__vset(DBL_MAX), d)))) {
            double dl[SAPM__VL];
            sapm__vstore(dl, d);
            for (l = 0; l < SAPM__VL; ++l)
                if (!(dl[l] > 0.0) || !(dl[l] <= DBL_MAX)) {
                    if (!info[l]) info[l] = j + 1;
                    dl[l] = 1.0;
                }
            d = sapm__vload(dl);
        }
        d = sapm__vsqrt(d);
        sapm__vstore(SAPM__AI(j, j), d);
        inv = sapm__vdiv(sapm__vset(1.0), d);
        /* L_ij = A_ij / L_jj, also copied to the contiguous column c */
        for (i = j + 1; i < n; ++i) {
            sapm__vd v = sapm__vmul(sapm__vload(SAPM__AI(i, j)), inv);
            sapm__vstore(SAPM__AI(i, j), v);
            sapm__vstore(c + (size_t)i * VL, v);
        }
        /* Schur complement A_ik -= L_ij L_kj, j < k <= i */
        for (i = j + 1; i < n; ++i) {
            sapm__vd lij = sapm__vload(c + (size_t)i * VL);
            double *ai = SAPM__AI(i, 0);
            for (k = j + 1; k <= i; ++k)
                sapm__vstore(ai + (size_t)k * VL, sapm__vfnma(lij, sapm__vload(c + (size_t)k * VL), sapm__vload(ai + (size_t)k * VL)));
        }
    }
    /* forward: Y_i = (B_i - sum_{p<i} L_ip Y_p) / L_ii, row by row as axpys */
    for (i = 0; i < n; ++i) {
        sapm__vd dinv = sapm__vdiv(sapm__vset(1.0), sapm__vload(SAPM__AI(i, i)));
        for (k = 0; k < i; ++k) {
            sapm__vd lik = sapm__vload(SAPM__AI(i, k));
            for (r = 0; r < nrhs; ++r)
                sapm__vstore(SAPM__BI(i, r), sapm__vfnma(lik, sapm__vload(SAPM__BI(k, r)), sapm__vload(SAPM__BI(i, r))));
        }
        for (r = 0; r < nrhs; ++r) sapm__vstore(SAPM__BI(i, r), sapm__vmul(sapm__vload(SAPM__BI(i, r)), dinv));
    }
    /* backward: X_i = Y_i / L_ii, then Y_p -= L_ip X_i for p < i */
    for (i = n - 1; i >= 0; --i) {
        sapm__vd dinv = sapm__vdiv(sapm__vset(1.0), sapm__vload(SAPM__AI(i, i)));
        for (r = 0; r < nrhs; ++r) sapm__vstore(SAPM__BI(i, r), sapm__vmul(sapm__vload(SAPM__BI(i, r)), dinv));
        for (k = 0; k < i; ++k) {
            sapm__vd lik = sapm__vload(SAPM__AI(i, k));
            for (r = 0; r < nrhs; ++r)
                sapm__vstore(SAPM__BI(k, r), sapm__vfnma(lik, sapm__vload(SAPM__BI(i, r)), sapm__vload(SAPM__BI(k, r))));
        }
    }
#undef SAPM__AI
#undef SAPM__BI
}
#endif

SAPMDEF sapm_result sapm_chol_solve_batched(int count, int n, int nrhs, double *A, double *B,
                                            int *info)
{
    int s = 0;
    sapm_result status = SAPM_OK;
    if (!A || !B) return SAPM_ERR_NULL_ARGUMENT;
    if (count <= 0 || n <= 0 || nrhs <= 0) return SAPM_ERR_INVALID_SIZE;
    if ((size_t)n > ((size_t)-1) / sizeof(double) / (size_t)n / (size_t)count ||
        (size_t)nrhs > ((size_t)-1) / sizeof(double) / (size_t)n / (size_t)count)
        return SAPM_ERR_INVALID_SIZE;
#if defined(SAPM__VEC)
    /* small systems: SAPM__VL at a time, interleaved (a missing lane of the last group is
     * an identity system); the workspace is one allocation per call */
    if (n <= SAPM__BATCH_INTERLEAVE_MAX && count >= 2) {
        size_t na = (size_t)n * n, nb = (size_t)n * nrhs;
        double *AI = (double *)sapm__alloc(SAPM__VL * (na + nb), sizeof(double)), *BI;
        if (AI) {
            BI = AI + SAPM__VL * na;
            for (s = 0; s < count; s += SAPM__VL) {
                int lanes = SAPM__MIN(SAPM__VL, count - s), l, i, j, inf[SAPM__VL];
                const double *As = A + (size_t)s * na, *Bs = B + (size_t)s * nb;
                /* interleave: element by element, the lanes' values side by side (the
                 * VL source rows are read sequentially) */
                for (i = 0; i < n; ++i)
                    for (j = 0; j <= i; ++j) {
                        size_t e = (size_t)i * n + j;
                        double *d = AI + e * SAPM__VL;
                        for (l = 0; l < lanes; ++l) d[l] = As[l * na + e];
                        for (; l < SAPM__VL; ++l) d[l] = (double)(i == j);
                    }
                for (i = 0; i < (int)nb; ++i) {
                    double *d = BI + (size_t)i * SAPM__VL;
                    for (l = 0; l < lanes; ++l) d[l] = Bs[l * nb + i];
                    for (; l < SAPM__VL; ++l) d[l] = 0.0;
                }
                sapm__chol_solve_interleaved(n, nrhs, AI, BI, inf);
                for (l = 0; l < lanes; ++l) {
                    if (info) info[s + l] = inf[l];
                    if (inf[l]) status = SAPM_ERR_NOT_POSITIVE_DEFINITE;
                }
                for (i = 0; i < n; ++i)
                    for (j = 0; j <= i; ++j) {
                        size_t e = (size_t)i * n + j;
                        const double *d = AI + e * SAPM__VL;
                        for (l = 0; l < lanes; ++l)
                            if (!inf[l]) A[(size_t)(s + l) * na + e] = d[l];
                    }
                for (i = 0; i < (int)nb; ++i) {
                    const double *d = BI + (size_t)i * SAPM__VL;
                    for (l = 0; l < lanes; ++l)
                        if (!inf[l]) B[(size_t)(s + l) * nb + i] = d[l];
                }
            }
            SAPM_FREE(AI);
            return status;
        }
        /* no workspace: the per-system path below */
    }
#endif
    for (s = 0; s < count; ++s) {
        double *As = A + (size_t)s * n * n, *Bs = B + (size_t)s * n * nrhs;
        int inf = sapm__chol_blocked(n, As, n);
        if (inf == 0) {
            sapm__trsm(0, n, nrhs, As, n, Bs, nrhs);
            sapm__trsm(1, n, nrhs, As, n, Bs, nrhs);
        } else {
            status = SAPM_ERR_NOT_POSITIVE_DEFINITE;
        }
        if (info) info[s] = inf;
    }
    return status;
}

/* ======================================================================================
 * Implementation: activations
 *
 * tanh, sin and sigmoid (and softplus's derivatives) are evaluated SIMD-wide on the
 * AVX-512 and AVX2 paths with our own exp / tanh / sin-cos kernels: range reduction,
 * then polynomials (Taylor series truncated where the remainder is below 1e-17, and
 * Cephes's minimax rational for tanh on |z| <= 0.625), all within a few ulp of libm.
 * The scalar path (and NEON, and GELU/softplus values, which need erfc/log1p) uses libm.
 * Derivatives follow from the values:
 *   tanh:    t' = 1 - t^2,  t'' = -2 t t',  t''' = -2 (t'^2 + t t'')
 *   sin:     cos, -sin, -cos
 *   sigmoid: with e = exp(-|z|), p = 1/(1+e): s = p (z >= 0) or e p (z < 0),
 *            s' = e p^2 (accurate in both tails), u = 1 - 2s = -sign(z) (1-e) p,
 *            s'' = s' u,  s''' = s'' u - 2 s'^2
 *   softplus: log(1+e^z) = max(z,0) + log1p(e); derivatives are the sigmoid's.
 *   gelu:    z Phi; Phi + z phi; phi (2 - z^2); z phi (z^2 - 4)
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
    case SAPM_ACT_GELU: return 1.1289041451851547; /* Phi(z)+z phi(z) at z = sqrt(2), where (Phi + z phi)' = phi (2 - z^2) = 0 */
    default: return -1.0;
    }
}

/* Polynomial coefficients shared by the vector kernels. */
#define SAPM__LOG2E   1.4426950408889634074
#define SAPM__LN2_HI  6.93147180369123816490e-01  /* fdlibm's split of ln 2: hi has */
#define SAPM__LN2_LO  1.90821492927058770002e-10  /* 21 trailing zero bits */
#define SAPM__2_PI    0.63661977236758134308      /* 2/pi */
#define SAPM__PIO2_1  1.5707963267948966          /* pi/2 = PIO2_1 + PIO2_2 + PIO2_3 */
#define SAPM__PIO2_2  6.123233995736766e-17       /* (161 bits; with FMA the reduction */
#define SAPM__PIO2_3  -1.4973849048591698e-33     /* r = z - q pi/2 is within 1 ulp) */
#define SAPM__SIN_MAXARG 1e5                      /* beyond: libm's sin/cos per lane */
/* Cephes tanh on |z| <= 0.625: tanh z = z + z s P(s)/Q(s), s = z^2 */
#define SAPM__TANH_P0 -9.64399179425052238628e-1
#define SAPM__TANH_P1 -9.92877231001918586564e1
#define SAPM__TANH_P2 -1.61468768441708447952e3
#define SAPM__TANH_Q0  1.12811678491632931402e2
#define SAPM__TANH_Q1  2.23548839060100448583e3
#define SAPM__TANH_Q2  4.84406305325125486048e3

#if defined(SAPM__VEC)

/* exp(x): n = round(x / ln2), r = x - n ln2 (|r| <= ln2/2, two-part ln2), exp(r) by its
 * Taylor series to r^13 (remainder < 5e-18 relative), times 2^n. x is clamped to
 * [-746, 710] first (exp underflows to 0 / overflows to Inf there); NaN propagates. */
static sapm__vd sapm__vexp(sapm__vd x)
{
    sapm__vd n, r, p;
    x = sapm__vmax(sapm__vset(-746.0), x);
    x = sapm__vmin(sapm__vset(710.0), x);
    n = sapm__vround(sapm__vmul(x, sapm__vset(SAPM__LOG2E)));
    r = sapm__vfnma(n, sapm__vset(SAPM__LN2_HI), x);
    r = sapm__vfnma(n, sapm__vset(SAPM__LN2_LO), r);
    p = sapm__vfma(sapm__vset(1.6059043836821613e-10), r, sapm__vset(2.08767569878681e-09));
    p = sapm__vfma(p, r, sapm__vset(2.505210838544172e-08));
    p = sapm__vfma(p, r, sapm__vset(2.755731922398589e-07));
    p = sapm__vfma(p, r, sapm__vset(2.7557319223985893e-06));
    p = sapm__vfma(p, r, sapm__vset(2.48015873015873e-05));
    p = sapm__vfma(p, r, sapm__vset(0.0001984126984126984));
    p = sapm__vfma(p, r, sapm__vset(0.001388888888888889));
    p = sapm__vfma(p, r, sapm__vset(0.008333333333333333));
    p = sapm__vfma(p, r, sapm__vset(0.041666666666666664));
    p = sapm__vfma(p, r, sapm__vset(0.16666666666666666));
    p = sapm__vfma(p, r, sapm__vset(0.5));
    p = sapm__vfma(p, r, sapm__vset(1.0));
    p = sapm__vfma(p, r, sapm__vset(1.0));
    return sapm__vscale(p, n);
}

/* tanh and its three derivatives. |z| > 0.625: tanh|z| = 1 - 2 / (exp(2|z|) + 1) (|z|
 * clamped to 20, where tanh is 1 in double); else Cephes's rational. */
static void sapm__vtanh(sapm__vd x, sapm__vd *v)
{
    sapm__vd ax = sapm__vabs(x), one = sapm__vset(1.0), t, d1, d2;
    sapm__vm big = sapm__vlt(sapm__vset(0.625), ax);
    if (sapm__vany(big)) {
        sapm__vd e = sapm__vexp(sapm__vmul(sapm__vset(2.0), sapm__vmin(sapm__vset(20.0), ax)));
        t = sapm__vxor_sign(sapm__vsub(one, sapm__vdiv(sapm__vset(2.0), sapm__vadd(e, one))), x);
    } else {
        t = x;
    }
    if (!sapm__vall(big)) {
        sapm__vd s = sapm__vmul(x, x), p, q, ts;
        p = sapm__vfma(sapm__vset(SAPM__TANH_P0), s, sapm__vset(SAPM__TANH_P1));
        p = sapm__vfma(p, s, sapm__vset(SAPM__TANH_P2));
        q = sapm__vadd(s, sapm__vset(SAPM__TANH_Q0));
        q = sapm__vfma(q, s, sapm__vset(SAPM__TANH_Q1));
        q = sapm__vfma(q, s, sapm__vset(SAPM__TANH_Q2));
        ts = sapm__vfma(sapm__vmul(x, s), sapm__vdiv(p, q), x);
        t = sapm__vsel(big, t, sapm__vxor_sign(sapm__vabs(ts), x)); /* keeps tanh(-0) = -0 */
    }
    d1 = sapm__vfnma(t, t, one);
    d2 = sapm__vmul(sapm__vset(-2.0), sapm__vmul(t, d1));
    v[0] = t;
    v[1] = d1;
    v[2] = d2;
    v[3] = sapm__vmul(sapm__vset(-2.0), sapm__vfma(d1, d1, sapm__vmul(t, d2)));
}

/* sin, cos, -sin, -cos. q = round(2z/pi), r = z - q pi/2 (three-part pi/2 with FMA),
 * sin r and cos r by their Taylor series to r^17 / r^16 (|r| <= pi/4, remainder
 * < 1e-17), then the quadrant q mod 4 picks and signs them. Lanes with |z| > 1e5, Inf
 * or NaN are recomputed with libm. */
static void sapm__vsin(sapm__vd x, sapm__vd *v)
{
    sapm__vd q, r, r2, sp, cp, qm, s, c;
    sapm__vm swap, ok = sapm__vle(sapm__vabs(x), sapm__vset(SAPM__SIN_MAXARG));
    q = sapm__vround(sapm__vmul(x, sapm__vset(SAPM__2_PI)));
    r = sapm__vfnma(q, sapm__vset(SAPM__PIO2_1), x);
    r = sapm__vfnma(q, sapm__vset(SAPM__PIO2_2), r);
    r = sapm__vfnma(q, sapm__vset(SAPM__PIO2_3), r);
    r2 = sapm__vmul(r, r);
    sp = sapm__vfma(sapm__vset(2.8114572543455206e-15), r2, sapm__vset(-7.647163731819816e-13));
    sp = sapm__vfma(sp, r2, sapm__vset(1.6059043836821613e-10));
    sp = sapm__vfma(sp, r2, sapm__vset(-2.505210838544172e-08));
    sp = sapm__vfma(sp, r2, sapm__vset(2.7557319223985893e-06));
    sp = sapm__vfma(sp, r2, sapm__vset(-0.0001984126984126984));
    sp = sapm__vfma(sp, r2, sapm__vset(0.008333333333333333));
    sp = sapm__vfma(sp, r2, sapm__vset(-0.16666666666666666));
    sp = sapm__vfma(sapm__vmul(r, r2), sp, r);
    cp = sapm__vfma(sapm__vset(4.779477332387385e-14), r2, sapm__vset(-1.1470745597729725e-11));
    cp = sapm__vfma(cp, r2, sapm__vset(2.08767569878681e-09));
    cp = sapm__vfma(cp, r2, sapm__vset(-2.755731922398589e-07));
    cp = sapm__vfma(cp, r2, sapm__vset(2.48015873015873e-05));
    cp = sapm__vfma(cp, r2, sapm__vset(-0.001388888888888889));
    cp = sapm__vfma(cp, r2, sapm__vset(0.041666666666666664));
    cp = sapm__vfma(cp, r2, sapm__vset(-0.5));
    cp = sapm__vfma(cp, r2, sapm__vset(1.0));
    qm = sapm__vfnma(sapm__vset(4.0), sapm__vfloor(sapm__vmul(q, sapm__vset(0.25))), q); /* q mod 4 */
    swap = sapm__vor_m(sapm__veq(qm, sapm__vset(1.0)), sapm__veq(qm, sapm__vset(3.0)));
    s = sapm__vsel(swap, cp, sp);
    c = sapm__vsel(swap, sp, cp);
    /* sin < 0 in quadrants 2, 3; cos < 0 in quadrants 1, 2 */
    s = sapm__vxor_sign(s, sapm__vsub(sapm__vset(1.5), qm));
    c = sapm__vxor_sign(c, sapm__vmul(sapm__vsub(qm, sapm__vset(0.5)), sapm__vsub(qm, sapm__vset(2.5))));
    if (!sapm__vall(ok)) {
        double xs[SAPM__VL], ss[SAPM__VL], cs[SAPM__VL];
        int l;
        sapm__vstore(xs, x);
        sapm__vstore(ss, s);
        sapm__vstore(cs, c);
        for (l = 0; l < SAPM__VL; ++l)
            if (!(fabs(xs[l]) <= SAPM__SIN_MAXARG)) { ss[l] = sin(xs[l]); cs[l] = cos(xs[l]); }
        s = sapm__vload(ss);
        c = sapm__vload(cs);
    }
    v[0] = s;
    v[1] = c;
    v[2] = sapm__vxor_sign(s, sapm__vset(-1.0));
    v[3] = sapm__vxor_sign(c, sapm__vset(-1.0));
}

/* sigmoid and its derivatives (formulas in the banner); v[4] = exp(-|z|) for softplus. */
static void sapm__vsigmoid(sapm__vd x, sapm__vd *v)
{
    sapm__vd one = sapm__vset(1.0), e = sapm__vexp(sapm__vxor_sign(sapm__vabs(x), sapm__vset(-1.0)));
    sapm__vd p = sapm__vdiv(one, sapm__vadd(one, e)), d1, u, d2;
    sapm__vm pos = sapm__vge(x, sapm__vset(0.0));
    d1 = sapm__vmul(e, sapm__vmul(p, p));
    u = sapm__vxor_sign(sapm__vmul(sapm__vsub(one, e), p), sapm__vsel(pos, sapm__vset(-1.0), one));
    d2 = sapm__vmul(d1, u);
    v[0] = sapm__vsel(pos, p, sapm__vmul(e, p));
    v[1] = d1;
    v[2] = d2;
    v[3] = sapm__vfma(d2, u, sapm__vmul(sapm__vset(-2.0), sapm__vmul(d1, d1)));
    v[4] = e;
}

/* softplus and its derivatives: max(z, 0) + log1p(exp(-|z|)) (log1p from libm, lane by
 * lane), then the sigmoid's value and two derivatives. */
static void sapm__vsoftplus(sapm__vd x, sapm__vd *v)
{
    double xs[SAPM__VL], es[SAPM__VL];
    int l;
    sapm__vsigmoid(x, v);
    sapm__vstore(xs, x);
    sapm__vstore(es, v[4]);
    for (l = 0; l < SAPM__VL; ++l) es[l] = (xs[l] > 0.0 ? xs[l] : 0.0) + log1p(es[l]);
    v[3] = v[2];
    v[2] = v[1];
    v[1] = v[0];
    v[0] = sapm__vload(es);
}

/* Run a vector kernel over n values: full vectors straight from z, the tail through a
 * zero-padded buffer (so a value gives the same bits wherever it sits in the array).
 * The input vector is loaded before any output is stored, so z may alias an output. */
#define SAPM__VEC_LOOP(KERNEL)                                                          \
    do {                                                                                 \
        sapm__vd v_[5];                                                                  \
        double buf_[5][SAPM__VL];                                                        \
        size_t i_ = 0, l_;                                                               \
        for (; i_ + SAPM__VL <= n; i_ += SAPM__VL) {                                     \
            KERNEL(sapm__vload(z + i_), v_);                                             \
            if (s0) sapm__vstore(s0 + i_, v_[0]);                                        \
            if (s1) sapm__vstore(s1 + i_, v_[1]);                                        \
            if (s2) sapm__vstore(s2 + i_, v_[2]);                                        \
            if (s3) sapm__vstore(s3 + i_, v_[3]);                                        \
        }                                                                                \
        if (i_ < n) {                                                                    \
            for (l_ = 0; l_ < SAPM__VL; ++l_) buf_[0][l_] = i_ + l_ < n ? z[i_ + l_] : 0.0; \
            KERNEL(sapm__vload(buf_[0]), v_);                                            \
            for (l_ = 0; l_ < 4; ++l_) sapm__vstore(buf_[l_], v_[l_]);                   \
            for (l_ = 0; i_ + l_ < n; ++l_) {                                            \
                if (s0) s0[i_ + l_] = buf_[0][l_];                                       \
                if (s1) s1[i_ + l_] = buf_[1][l_];                                       \
                if (s2) s2[i_ + l_] = buf_[2][l_];                                       \
                if (s3) s3[i_ + l_] = buf_[3][l_];                                       \
            }                                                                            \
        }                                                                                \
    } while (0)
#endif /* SAPM__VEC */

/* Scalar twin of sapm__vsigmoid (libm exp); v[4] = exp(-|z|). */
static SAPM__UNUSED void sapm__sigmoid_all(double x, double *v)
{
    double e = exp(-fabs(x)), p = 1.0 / (1.0 + e), d1 = e * p * p;
    double u = (x >= 0.0 ? -1.0 : 1.0) * (1.0 - e) * p, d2 = d1 * u;
    v[0] = x >= 0.0 ? p : e * p;
    v[1] = d1;
    v[2] = d2;
    v[3] = d2 * u - 2.0 * d1 * d1;
    v[4] = e;
}

SAPMDEF sapm_result sapm_activation_eval(sapm_activation act, size_t n, const double *z,
                                         double *s0, double *s1, double *s2, double *s3)
{
    size_t i;
    if ((int)act < 0 || act >= SAPM_ACT_COUNT) return SAPM_ERR_INVALID_ARGUMENT;
    if (n == 0) return SAPM_OK;
    if (!z) return SAPM_ERR_NULL_ARGUMENT;
    switch (act) {
    case SAPM_ACT_TANH:
#if defined(SAPM__VEC)
        SAPM__VEC_LOOP(sapm__vtanh);
#else
        for (i = 0; i < n; ++i) {
            double t = tanh(z[i]), d1 = 1.0 - t * t, d2 = -2.0 * t * d1;
            if (s0) s0[i] = t;
            if (s1) s1[i] = d1;
            if (s2) s2[i] = d2;
            if (s3) s3[i] = -2.0 * (d1 * d1 + t * d2);
        }
#endif
        break;
    case SAPM_ACT_SIN:
#if defined(SAPM__VEC)
        SAPM__VEC_LOOP(sapm__vsin);
#else
        for (i = 0; i < n; ++i) {
            double x = z[i], s = sin(x), c = cos(x);
            if (s0) s0[i] = s;
            if (s1) s1[i] = c;
            if (s2) s2[i] = -s;
            if (s3) s3[i] = -c;
        }
#endif
        break;
    case SAPM_ACT_SIGMOID:
#if defined(SAPM__VEC)
        SAPM__VEC_LOOP(sapm__vsigmoid);
#else
        for (i = 0; i < n; ++i) {
            double v[5];
            sapm__sigmoid_all(z[i], v);
            if (s0) s0[i] = v[0];
            if (s1) s1[i] = v[1];
            if (s2) s2[i] = v[2];
            if (s3) s3[i] = v[3];
        }
#endif
        break;
    case SAPM_ACT_SOFTPLUS:
        /* derivatives are the sigmoid's, shifted by one order; the value needs log1p */
#if defined(SAPM__VEC)
        SAPM__VEC_LOOP(sapm__vsoftplus);
#else
        for (i = 0; i < n; ++i) {
            double x = z[i], v[5];
            sapm__sigmoid_all(x, v);
            if (s0) s0[i] = (x > 0.0 ? x : 0.0) + log1p(v[4]);
            if (s1) s1[i] = v[0];
            if (s2) s2[i] = v[1];
            if (s3) s3[i] = v[2];
        }
#endif
        break;
    case SAPM_ACT_GELU:
        for (i = 0; i < n; ++i) {
            double x = z[i], phi = 0.39894228040143267794 * exp(-0.5 * x * x);
            double Phi = 0.5 * erfc(-x * 0.70710678118654752440);
            if (s0) s0[i] = x * Phi;
            if (s1) s1[i] = Phi + x * phi;
            if (s2) s2[i] = phi * (2.0 - x * x);
            if (s3) s3[i] = x * phi * (x * x - 4.0);
        }
        break;
    case SAPM_ACT_RELU:
        for (i = 0; i < n; ++i) {
            double x = z[i];
            if (s0) s0[i] = x > 0.0 ? x : 0.0;
            if (s1) s1[i] = x > 0.0 ? 1.0 : 0.0;
            if (s2) s2[i] = 0.0;
            if (s3) s3[i] = 0.0;
        }
        break;
    default: break;
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
