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

/* ======================================================================================
 * Declarations: LS training, input derivatives and model files (owner: ls)
 * ====================================================================================== */

/* J_LS = (1/N) sum_n |u(x_n) - y_n|^2 (SPEC 2) of the network as it is. X is N x n_0
 * (ldx >= n_0), Y is N x n_L (ldy >= n_L). NaN/Inf in X or Y: SAPM_ERR_NONFINITE_INPUT. */
SAPMDEF sapm_result sapm_net_loss(const sapm_net *net, int N, const double *X, int ldx,
                                  const double *Y, int ldy, double *j_ls);

/* J_LS and its exact gradient by back-propagation: grad has net->n_params entries in the
 * layout of net->params (W_1, b_1, W_2, b_2, ...). j_ls may be NULL. */
SAPMDEF sapm_result sapm_net_gradient(const sapm_net *net, int N, const double *X, int ldx,
                                      const double *Y, int ldy, double *j_ls, double *grad);

/* u, all first input derivatives and the Laplacian by the exact recursions of SPEC 4:
 *   U    N x m, row stride ldu >= m                  U[n*ldu + k]          = u_k(x_n)
 *   dU   N x (m*d), contiguous (may be NULL)          dU[n*(m*d) + k*d + i] = du_k/dx_i (x_n)
 *   lapU N x m, contiguous (may be NULL)              lapU[n*m + k]         = Laplacian of u_k
 * (d = n_0, m = n_L). ReLU nets: sigma'' = 0 is used, so lapU is the Laplacian almost
 * everywhere (0 for a piecewise linear net) and dU is exact away from the kinks. */
SAPMDEF sapm_result sapm_net_forward_derivs(const sapm_net *net, int N, const double *X,
                                            int ldx, double *U, int ldu, double *dU,
                                            double *lapU);

/* Train net on the data set (X, Y) (sample-major; NaN/Inf rejected) with the method in
 * opt->method, starting from the parameters net holds. The LS methods minimise J_LS with
 * exact back-propagated gradients (see "LS optimizers" in the implementation for every
 * stop rule). rep (may be NULL) is overwritten - free an old report with sapm_report_free
 * first - and receives the history, the final J_LS and why the run stopped. On
 * SAPM_ERR_DIVERGED the net holds the last parameters whose loss was finite. */
SAPMDEF sapm_result sapm_train(sapm_net *net, int N, const double *X, int ldx, const double *Y,
                               int ldy, const sapm_options *opt, sapm_report *rep);

/* Model files (format "SAPMNET", version 1), all integers and doubles little-endian,
 * written byte by byte (portable across machines; doubles as IEEE-754 binary64 bit
 * patterns, so a round trip is bit-exact):
 *   offset  size  field
 *        0     8  magic "SAPMNET\0"
 *        8     4  format version (uint32) = 1
 *       12     4  header size in bytes (uint32) = 32
 *       16     4  depth L (uint32, 1..10000)
 *       20     4  activation (uint32, sapm_activation)
 *       24     8  number of parameters P (uint64)
 *       32  4(L+1) widths n_0..n_L (uint32 each, 1..1000000)
 *        .   8 P  parameters in the order of net->params (binary64 each)
 *        .     8  FNV-1a 64-bit hash of every preceding byte (uint64)
 * P must equal sum_l n_l (n_{l-1} + 1). Load verifies everything (magic, version, sizes,
 * activation, length, hash; the values must be finite) before it touches the net:
 * SAPM_ERR_BAD_FORMAT for a wrong magic/version/activation/inconsistent sizes,
 * SAPM_ERR_CORRUPT for a truncated buffer/file or a hash mismatch. On any failure the
 * destination net is left as it was. On success *net is (re)created by the load (a net it
 * held before is destroyed first; pass a zeroed net the first time). */
SAPMDEF size_t      sapm_net_file_size(const sapm_net *net);  /* bytes, 0 for a bad net */
SAPMDEF sapm_result sapm_net_save_mem(const sapm_net *net, void *buf, size_t cap,
                                      size_t *written);
SAPMDEF sapm_result sapm_net_load_mem(sapm_net *net, const void *buf, size_t size);
#ifndef SAPM_NO_STDIO
SAPMDEF sapm_result sapm_net_save(const sapm_net *net, const char *path);
SAPMDEF sapm_result sapm_net_load(sapm_net *net, const char *path);
#endif

/* ======================================================================================
 * Declarations: PDE problems, samplers and PINN training (owner: pinn)
 *
 * A linear PDE of order <= 2 on a domain Omega in R^d (d = 1..100), Dirichlet data on
 * Gamma (SPEC 4):
 *
 *     L u = sum_i c_i(x) d_i u + kappa(x) Laplace(u) + c_0(x) u = f(x)   in Omega,
 *                                                         u = g(x)   on Gamma,
 *
 *     J_PINN = alpha/N sum_n |L u(x_n) - f(x_n)|^2 + beta/M sum_m |u(xb_m) - g(xb_m)|^2.
 *
 * The network must have n_0 = d inputs and n_L = 1 output. Interior points X (N x d)
 * and boundary points Xb (M x d) are row-major, given by the caller or produced by the
 * samplers below. Each coefficient is either a callback (used when non-NULL) or a
 * constant; callbacks are evaluated once per training call at the given points, and
 * a NaN/Inf value makes the call return SAPM_ERR_CALLBACK.
 * ====================================================================================== */

/* A scalar field at one point x[0..d). */
typedef double (*sapm_pde_scalar_fn)(const double *x, int d, void *user_data);
/* A vector field at one point: writes out[0..d). */
typedef void (*sapm_pde_vector_fn)(const double *x, int d, double *out, void *user_data);

typedef struct sapm_pde {
    int d;                      /* space dimension, 1..SAPM_PDE_MAX_DIM */
    sapm_pde_vector_fn c_fn;    /* first-order coefficients c(x), or NULL: then c_const */
    const double *c_const;      /* d constants c_i, or NULL (no first-order terms) */
    sapm_pde_scalar_fn kappa_fn;/* diffusion kappa(x), or NULL: then kappa_const */
    double kappa_const;         /* kappa constant (0: first-order operator) */
    sapm_pde_scalar_fn c0_fn;   /* reaction c_0(x), or NULL: then c0_const */
    double c0_const;
    sapm_pde_scalar_fn f;       /* right-hand side (required) */
    sapm_pde_scalar_fn g;       /* Dirichlet data on Gamma (required) */
    sapm_pde_scalar_fn exact;   /* exact solution for error reports (optional, may be NULL) */
    void *user_data;            /* passed to every callback */
} sapm_pde;

#define SAPM_PDE_MAX_DIM 100000 /* d above this is rejected (memory); examples go to 100 */

/* -- samplers for boxes [lo_0, hi_0] x ... x [lo_{d-1}, hi_{d-1}] (lo_i < hi_i, finite);
 *    every sampler writes n points as n rows of d into X. */

/* Uniform random points in the box from the portable generator (reproducible). */
SAPMDEF sapm_result sapm_sample_uniform(int d, const double *lo, const double *hi, int n,
                                        sapm_rng *rng, double *X);

/* Halton low-discrepancy points, base p_i = the (i+1)-th prime for coordinate i; point j
 * uses the radical inverses of index skip + j + 1 (so skip = 0 starts at 1/2, 1/3, 1/5..).
 * seed == 0: the plain sequence. seed != 0: generalized (scrambled) Halton, ours: each
 * coordinate's digits go through a random permutation of {1..p-1} (0 kept fixed, as
 * Faure's permutations do) and a random Cranley-Patterson shift mod 1 is added; this
 * removes the correlation of plain Halton between high-dimensional coordinates. */
SAPMDEF sapm_result sapm_sample_halton(int d, const double *lo, const double *hi, int n,
                                       int skip, uint64_t seed, double *X);

/* Tensor grid for d <= 3 with counts[i] points along coordinate i (n = prod counts);
 * the first coordinate varies slowest. endpoints != 0: lo_i + k (hi_i - lo_i)/(counts_i - 1)
 * (counts_i = 1 gives the midpoint); endpoints == 0: cell midpoints, strictly inside. */
SAPMDEF sapm_result sapm_sample_grid(int d, const double *lo, const double *hi,
                                     const int *counts, int endpoints, double *X);

/* Uniform random points on the chosen faces of the box. faces: NULL (all faces) or 2d
 * flags, face 2i is {x_i = lo_i}, face 2i+1 is {x_i = hi_i}; nonzero selects it (e.g.
 * the inflow faces t = 0 and x = 0 of transport on (t, x): faces = {1,0,1,0}). A face
 * is chosen with probability proportional to its (d-1)-volume (d = 1: equal), then the
 * other coordinates are uniform; the fixed coordinate is exactly lo_i or hi_i. */
SAPMDEF sapm_result sapm_sample_boundary(int d, const double *lo, const double *hi,
                                         const int *faces, int n, sapm_rng *rng, double *X);

/* -- training */

typedef enum sapm_pde_method {
    SAPM_PDE_PINN_ADAM = 0,     /* ordinary PINN: J_PINN by Adam (the baseline) */
    SAPM_PDE_PINN_LBFGS,        /* ordinary PINN: J_PINN by L-BFGS */
    SAPM_PDE_PINN_ADAM_LBFGS,   /* Adam for adam_fraction of the run, then L-BFGS (usual practice) */
    SAPM_PDE_SAPM_PINN,         /* SAPM-PINN, first-order operators (kappa = 0) */
    SAPM_PDE_LYSEP,             /* LySep, second-order operators */
    SAPM_PDE_METHOD_COUNT
} sapm_pde_method;

SAPMDEF const char *sapm_pde_method_name(sapm_pde_method m);

/* ---- begin: owned by lysep (SAPM-PINN / LySep options; lysep extends this struct) ---- */
/* How the constraint residuals of SAPM-PINN / LySep are weighted (see "SAPM-PINN and LySep"
 * in the implementation notes for the derivation). */
typedef enum sapm_lysep_weighting {
    SAPM_LYSEP_WEIGHTS_ADAPTIVE = 0, /* derived self-adaptive weights (default): per sample
                                        and layer, from the weights' Frobenius norms and the
                                        derivative auxiliaries, so that
                                        J_PINN <= C * J_aux for every state (the seeds' idea,
                                        our derivation) */
    SAPM_LYSEP_WEIGHTS_FIXED         /* every constraint weight = fixed_weight (a PM-style
                                        penalty, ours; no consistency bound) */
} sapm_lysep_weighting;

/* Optional per-iteration diagnostics of a SAPM-PINN / LySep run, arrays owned by the caller
 * (capacity entries each; any array may be NULL). Entry t is written at the t-th recorded
 * iteration (the initial state and every outer iteration while count < capacity). */
typedef struct sapm_lysep_trace {
    int capacity;        /* entries allocated by the caller */
    int count;           /* entries written by the run */
    int *iter;           /* outer iteration */
    double *value_gap;   /* max over points, layers, units of |a_l - z_l(x)| */
    double *deriv_gap;   /* max over interior points, layers, directions, units of
                            |d_{l,k} - dz_l/dv_k (x)|: the derivative auxiliaries against the
                            forward network's true input derivatives */
    double *j_aux;       /* the auxiliary loss J_aux */
    double *j_pinn;      /* J_PINN of the forward network */
} sapm_lysep_trace;

/* Options of SAPM-PINN and LySep (nested in sapm_pde_options as `lysep`). */
typedef struct sapm_lysep_options {
    sapm_lysep_weighting weighting; /* default SAPM_LYSEP_WEIGHTS_ADAPTIVE */
    double fixed_weight;   /* weight of every constraint under SAPM_LYSEP_WEIGHTS_FIXED (1) */
    int inner_sweeps;      /* auxiliary sweeps (layers 1..L-1) per weight update (1); ours */
    int halvings;          /* step halvings tried by the per-sample Gauss-Newton steps on the
                              value auxiliaries (and on the derivative auxiliaries of LySep)
                              before a sample keeps its old value (6); ours - the seeds
                              take plain gradient steps with rate base.aux.tau */
    double ridge;          /* ridge * (trace(G)/dim) * ||theta||^2 in every weight solve: the
                              seeds' adaptive sqrt(lambda_n) I term (0 = off, the default:
                              a ridge towards 0 can raise J_aux, measured) */
    double prox;           /* prox * (trace(G)/dim) * ||theta - theta_old||^2 in every weight
                              solve (1e-10): keeps the Gram matrices positive definite
                              without ever raising J_aux (ours) */
    int polish_iters;      /* L-BFGS iterations on J_PINN of the forward network after the
                              alternating phase (0 = off); ours, not the papers' */
    double polish_after;   /* start the polish when the relative decrease of J_PINN over the
                              last 10 outer iterations falls below this (0 = only after
                              max_iters / time); ours */
    sapm_lysep_trace *trace; /* optional diagnostics (NULL = none) */
} sapm_lysep_options;
/* ---- end: owned by lysep ---- */

typedef struct sapm_pde_options {
    sapm_options base;          /* iterations, time budget, target (on J_PINN), callback,
                                   log_every, allreduce, Adam/L-BFGS settings */
    sapm_pde_method method;
    double alpha, beta;         /* residual and boundary weights of J_PINN (seeds' form) */
    double adam_fraction;       /* PINN_ADAM_LBFGS: share of max_iters (and of time_budget,
                                   when set) given to Adam, in (0, 1); ours */
    int n_test;                 /* held-out points for progress.error (relative L2), 0 = none */
    const double *X_test;       /* n_test x d */
    const double *u_test;       /* exact values there, or NULL: then pde->exact is used */
    sapm_lysep_options lysep;   /* SAPM-PINN / LySep settings (owned by lysep) */
} sapm_pde_options;

/* Recommended options: base = sapm_default_options(LS_ADAM) with max_iters 5000,
 * alpha = beta = 1, adam_fraction 0.5, log_every 50. */
SAPMDEF sapm_pde_options sapm_pde_default_options(sapm_pde_method method);

/* Train net (n_0 = d, n_L = 1) on the PDE with N interior points X and M >= 1 boundary
 * points Xb. rep (may be NULL) gets the history: mse = J_PINN of the forward network,
 * loss = the method's own loss, error = relative L2 on the test points (NaN if none).
 * On SAPM_ERR_DIVERGED the last good parameters are kept. */
SAPMDEF sapm_result sapm_pde_train(sapm_net *net, const sapm_pde *pde, int N, const double *X,
                                   int M, const double *Xb, const sapm_pde_options *opt,
                                   sapm_report *rep);

/* J_PINN of the forward network at the given points (exact derivatives by the SPEC 4
 * recursions). j_res / j_bc (may be NULL) receive the two terms without alpha, beta. */
SAPMDEF sapm_result sapm_pde_loss(const sapm_net *net, const sapm_pde *pde, int N,
                                  const double *X, int M, const double *Xb, double alpha,
                                  double beta, double *j_pinn, double *j_res, double *j_bc);

/* Relative L2 error sqrt(sum (u - u*)^2 / sum u*^2) and max |u - u*| of the network on
 * n points X (n x d = n_0) against exact values u_exact (when sum u*^2 == 0, rel_l2 is
 * the root mean square error). Either output may be NULL. */
SAPMDEF sapm_result sapm_pde_errors(const sapm_net *net, int n, const double *X,
                                    const double *u_exact, double *rel_l2, double *max_err);

/* u_exact[j] = pde->exact(X_j) for n points (SAPM_ERR_NULL_ARGUMENT without exact). */
SAPMDEF sapm_result sapm_pde_exact_values(const sapm_pde *pde, int n, const double *X,
                                          double *u_exact);

/* ======================================================================================
 * Declarations: SAPM-PINN and LySep (owner: lysep; the option structs are declared
 * above, in the slot of sapm_pde_options)
 * ====================================================================================== */

/* Defaults of the options above. */
SAPMDEF sapm_lysep_options sapm_lysep_default_options(void);

/* The constant C of the consistency bound J_PINN <= C * J_aux of SAPM-PINN (second_order = 0)
 * and LySep (second_order != 0) for a network of the given depth (>= 2) with adaptive
 * weights: C = 2L - 1 (first order), C = 3L - 3 (second order, L >= 2; at least L).
 * Returns a negative value for depth < 2. */
SAPMDEF double sapm_lysep_bound_constant(int depth, int second_order);

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
 * Implementation: derivative tape (forward pass with input derivatives, reverse pass)
 *
 * The tape is the one forward/backward engine of the library: J_LS gradients,
 * sapm_net_forward_derivs and the PINN gradients all run on it. It works on a block of
 * N <= cap points and a parameter vector in the layout of sapm_net.params (so optimizers
 * can evaluate trial points without touching the net).
 *
 * Storage. Every layer keeps a stack of nb = 1 + nd + nq row blocks of N rows each
 * (R = nb N rows, row-major, row stride = the layer width n_l):
 *     block 0        values             z_l(x_n)
 *     block 1 + i    first derivatives  d_{l,i} = dz_l/dx_i,  i = 0..d-1  (nd = d, TAPE_GRAD)
 *     block 1 + nd   Laplacian          q_l = Laplacian of z_l            (nq = 1, TAPE_LAP)
 * so row (b N + n) of a layer matrix belongs to block b and point n. Arrays:
 *     A[l], l = 1..L    pre-activation rows (z_l, d_{l,i}, q_l); A[L] = (u, du/dx_i, Lap u)
 *     P[l], l = 0..L-1  post-activation rows, the input of layer l+1:
 *                         h_l = sigma(z_l),  g_{l,i} = sigma'(z_l) . d_{l,i},
 *                         p_l = sigma''(z_l) . sum_i d_{l,i}^2 + sigma'(z_l) . q_l
 *                       P[0] = (x_n; unit vectors e_i; 0), so layer 1 needs no special case
 *     S1[l], S2[l], S3[l], l = 1..L-1   sigma', sigma'', sigma''' at z_l (N x n_l; S2 only
 *                       with derivatives, S3 only with the Laplacian)
 * Because d_{l,i} = W_l g_{l-1,i} and q_l = W_l p_{l-1} (SPEC 4, "Exact recursions"), one
 * GEMM per layer, A[l] = P[l-1] W_l^T (+ b_l on the value rows), computes all of them.
 *
 * Reverse pass. The caller writes the adjoint of its loss J with respect to the output
 * rows into sapm__tape_adjoint(t) (R x m, row stride m: dJ/du, dJ/d(du/dx_i), dJ/d(Lap u)
 * in the block order above) and calls sapm__tape_backward, which ADDS dJ/dparams to grad:
 *     dJ/dW_l += Abar_l^T P[l-1]            (one GEMM over all R rows)
 *     dJ/db_l += sum over the value rows of Abar_l
 *     Pbar_{l-1} = Abar_l W_l               (rows hbar, gbar_i, pbar)
 * and, elementwise with s1, s2, s3 = sigma', sigma'', sigma''' at z_{l-1}, d_i = d_{l-1,i},
 * q = q_{l-1} (the adjoint recursions of h, g_i and p above):
 *     zbar   = s1 hbar + sum_i s2 d_i gbar_i + (s3 sum_i d_i^2 + s2 q) pbar
 *     dbar_i = s1 gbar_i + 2 s2 d_i pbar
 *     qbar   = s1 pbar
 * which is Abar_{l-1}. With nd = nq = 0 this is ordinary back-propagation.
 * Usage:
 *     sapm__tape t;  sapm__tape_init(&t, net, cap, SAPM__TAPE_LAP);   once
 *     sapm__tape_forward(&t, params, N, X, ldx);                        per block
 *     ... read t.A[t.depth] ... write sapm__tape_adjoint(&t) ...
 *     sapm__tape_backward(&t, params, grad);                            grad += dJ/dparams
 *     sapm__tape_free(&t);
 * No allocation after init. The tape never reads the net again after init except for its
 * shape and activation, which it copies.
 * ====================================================================================== */

enum { SAPM__TAPE_VALUE = 0, SAPM__TAPE_GRAD = 1, SAPM__TAPE_LAP = 2 };

typedef struct sapm__tape {
    int depth;              /* L */
    int d, m;               /* n_0 and n_L */
    int cap;                /* most points per block */
    int nd, nq, nb;         /* derivative blocks (0 or d), Laplacian blocks (0 or 1), 1+nd+nq */
    int N, R;               /* points and rows of the current block (R = nb N) */
    int p0_N;               /* N for which the constant rows of P[0] were written */
    int wmax;               /* max width */
    sapm_activation act;
    int *widths;            /* n_0..n_L (copy) */
    size_t *woff, *boff;    /* offsets of W_l, b_l (l = 1..L at [l-1]) in a parameter vector */
    double **A, **P, **S1, **S2, **S3;  /* see the block comment; index = layer l */
    double *adj, *adj2;     /* adjoint buffers, cap nb x wmax each */
    double *mem;            /* every double above */
    void *pmem;             /* every pointer/int above */
} sapm__tape;

static void sapm__tape_free(sapm__tape *t)
{
    if (!t) return;
    if (t->mem) SAPM_FREE(t->mem);
    if (t->pmem) SAPM_FREE(t->pmem);
    memset(t, 0, sizeof *t);
}

/* mode: SAPM__TAPE_VALUE, SAPM__TAPE_GRAD (all d first derivatives) or SAPM__TAPE_LAP
 * (first derivatives and the Laplacian). */
static sapm_result sapm__tape_init(sapm__tape *t, const sapm_net *net, int cap, int mode)
{
    int L = net->depth, l;
    size_t rows, total = 0, off = 0, npt;
    char *pm;
    memset(t, 0, sizeof *t);
    if (cap <= 0) return SAPM_ERR_INVALID_SIZE;
    t->depth = L;
    t->d = net->widths[0];
    t->m = net->widths[L];
    t->cap = cap;
    t->nd = mode >= SAPM__TAPE_GRAD ? t->d : 0;
    t->nq = mode >= SAPM__TAPE_LAP ? 1 : 0;
    t->nb = 1 + t->nd + t->nq;
    t->act = net->act;
    t->p0_N = -1;
    t->wmax = sapm__net_max_width(net);
    rows = (size_t)cap * (size_t)t->nb;
    if (rows / (size_t)t->nb != (size_t)cap) return SAPM_ERR_INVALID_SIZE;
    /* pointer arrays: 5 x (L+1) double*, 2 x L size_t, L+1 int */
    npt = 5 * (size_t)(L + 1) * sizeof(double *) + 2 * (size_t)L * sizeof(size_t) +
          (size_t)(L + 1) * sizeof(int);
    t->pmem = sapm__calloc(npt, 1);
    if (!t->pmem) return SAPM_ERR_OUT_OF_MEMORY;
    pm = (char *)t->pmem;
    t->A = (double **)(void *)pm;  pm += (size_t)(L + 1) * sizeof(double *);
    t->P = (double **)(void *)pm;  pm += (size_t)(L + 1) * sizeof(double *);
    t->S1 = (double **)(void *)pm; pm += (size_t)(L + 1) * sizeof(double *);
    t->S2 = (double **)(void *)pm; pm += (size_t)(L + 1) * sizeof(double *);
    t->S3 = (double **)(void *)pm; pm += (size_t)(L + 1) * sizeof(double *);
    t->woff = (size_t *)(void *)pm; pm += (size_t)L * sizeof(size_t);
    t->boff = (size_t *)(void *)pm; pm += (size_t)L * sizeof(size_t);
    t->widths = (int *)(void *)pm;
    for (l = 0; l <= L; ++l) t->widths[l] = net->widths[l];
    for (l = 0; l < L; ++l) {
        t->woff[l] = off; off += (size_t)net->widths[l + 1] * (size_t)net->widths[l];
        t->boff[l] = off; off += (size_t)net->widths[l + 1];
    }
    /* doubles: A[1..L], P[0..L-1] (rows x n_l), S1..S3 for hidden layers, 2 adjoints */
    for (l = 0; l <= L; ++l) {
        size_t nl = (size_t)net->widths[l];
        if (l >= 1) total += rows * nl;                       /* A[l] */
        if (l <= L - 1) total += rows * nl;                   /* P[l] */
        if (l >= 1 && l <= L - 1)
            total += (size_t)cap * nl * (size_t)(1 + (t->nd > 0 || t->nq > 0) + t->nq);
    }
    total += 2 * rows * (size_t)t->wmax;
    t->mem = (double *)sapm__alloc(total, sizeof(double));
    if (!t->mem) { sapm__tape_free(t); return SAPM_ERR_OUT_OF_MEMORY; }
    off = 0;
    for (l = 0; l <= L; ++l) {
        size_t nl = (size_t)net->widths[l];
        if (l >= 1) { t->A[l] = t->mem + off; off += rows * nl; }
        if (l <= L - 1) { t->P[l] = t->mem + off; off += rows * nl; }
        if (l >= 1 && l <= L - 1) {
            t->S1[l] = t->mem + off; off += (size_t)cap * nl;
            if (t->nd > 0 || t->nq > 0) { t->S2[l] = t->mem + off; off += (size_t)cap * nl; }
            if (t->nq) { t->S3[l] = t->mem + off; off += (size_t)cap * nl; }
        }
    }
    t->adj = t->mem + off; off += rows * (size_t)t->wmax;
    t->adj2 = t->mem + off; off += rows * (size_t)t->wmax;
    SAPM_ASSERT(off == total);
    return SAPM_OK;
}

/* The output-row adjoint the caller fills before sapm__tape_backward: R x m, stride m. */
static SAPM__UNUSED double *sapm__tape_adjoint(sapm__tape *t) { return t->adj; }

/* Forward pass over N <= cap points x_n = X[n*ldx ..] with parameters params (layout of
 * sapm_net.params): fills A, P, S1..S3 as described above. */
static sapm_result sapm__tape_forward(sapm__tape *t, const double *params, int N,
                                      const double *X, int ldx)
{
    int L = t->depth, d = t->d, l, n, j, i;
    size_t Nn;
    if (N <= 0 || N > t->cap) return SAPM_ERR_INVALID_SIZE;
    t->N = N;
    t->R = N * t->nb;
    /* P[0] = (x_n; e_i; 0): the derivative rows of layer 0 are d x_n / d x_i = e_i and its
     * Laplacian rows are 0 (they only depend on N, so they are written once per N). */
    for (n = 0; n < N; ++n)
        memcpy(t->P[0] + (size_t)n * d, X + (size_t)n * ldx, (size_t)d * sizeof(double));
    if (t->nb > 1 && t->p0_N != N) {
        memset(t->P[0] + (size_t)N * d, 0, (size_t)(t->R - N) * (size_t)d * sizeof(double));
        for (i = 0; i < t->nd; ++i)
            for (n = 0; n < N; ++n) t->P[0][((size_t)(1 + i) * N + n) * d + i] = 1.0;
        t->p0_N = N;
    }
    for (l = 1; l <= L; ++l) {
        int n_in = t->widths[l - 1], n_out = t->widths[l];
        const double *W = params + t->woff[l - 1], *b = params + t->boff[l - 1];
        double *Al = t->A[l];
        /* z_l = W_l h_{l-1} + b_l, d_{l,i} = W_l g_{l-1,i}, q_l = W_l p_{l-1} (SPEC 1, 4) */
        sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, t->R, n_out, n_in, 1.0, t->P[l - 1], n_in, W, n_in,
                  0.0, Al, n_out);
        for (n = 0; n < N; ++n) {
            double *SAPM__RESTRICT z = Al + (size_t)n * n_out;
            for (j = 0; j < n_out; ++j) z[j] += b[j];
        }
        if (l == L) break;
        Nn = (size_t)N * (size_t)n_out;
        sapm_activation_eval(t->act, Nn, Al, t->P[l], t->S1[l], t->nb > 1 ? t->S2[l] : NULL,
                             t->nq ? t->S3[l] : NULL);
        if (t->nb > 1) {
            const double *SAPM__RESTRICT s1 = t->S1[l], *SAPM__RESTRICT s2 = t->S2[l];
            size_t k;
            /* g_{l,i} = sigma'(z_l) . d_{l,i} */
            for (i = 0; i < t->nd; ++i) {
                const double *SAPM__RESTRICT a = Al + (size_t)(1 + i) * Nn;
                double *SAPM__RESTRICT p = t->P[l] + (size_t)(1 + i) * Nn;
                for (k = 0; k < Nn; ++k) p[k] = s1[k] * a[k];
            }
            /* p_l = sigma''(z_l) . sum_i d_{l,i}^2 + sigma'(z_l) . q_l */
            if (t->nq) {
                const double *SAPM__RESTRICT q = Al + (size_t)(1 + t->nd) * Nn;
                double *SAPM__RESTRICT p = t->P[l] + (size_t)(1 + t->nd) * Nn;
                for (k = 0; k < Nn; ++k) p[k] = 0.0;
                for (i = 0; i < t->nd; ++i) {
                    const double *SAPM__RESTRICT a = Al + (size_t)(1 + i) * Nn;
                    for (k = 0; k < Nn; ++k) p[k] += a[k] * a[k];
                }
                for (k = 0; k < Nn; ++k) p[k] = s2[k] * p[k] + s1[k] * q[k];
            }
        }
    }
    return SAPM_OK;
}

/* Reverse pass: grad += dJ/dparams for the adjoint the caller wrote into
 * sapm__tape_adjoint(t) (clobbers it). Needs the last sapm__tape_forward's tape. */
static sapm_result sapm__tape_backward(sapm__tape *t, const double *params, double *grad)
{
    int L = t->depth, N = t->N, R = t->R, l, n, j;
    double *cur = t->adj, *oth = t->adj2, *tmp;
    for (l = L; l >= 1; --l) {
        int n_in = t->widths[l - 1], n_out = t->widths[l];
        const double *W = params + t->woff[l - 1];
        double *SAPM__RESTRICT gb = grad + t->boff[l - 1];
        /* dJ/dW_l += Abar_l^T P[l-1];  dJ/db_l += sum of the value rows of Abar_l */
        sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n_out, n_in, R, 1.0, cur, n_out, t->P[l - 1], n_in,
                  1.0, grad + t->woff[l - 1], n_in);
        for (n = 0; n < N; ++n) {
            const double *SAPM__RESTRICT c = cur + (size_t)n * n_out;
            for (j = 0; j < n_out; ++j) gb[j] += c[j];
        }
        if (l == 1) break;
        /* Pbar_{l-1} = Abar_l W_l */
        sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, R, n_in, n_out, 1.0, cur, n_out, W, n_in, 0.0,
                  oth, n_in);
        {
            size_t Nn = (size_t)N * (size_t)n_in, k;
            const double *SAPM__RESTRICT s1 = t->S1[l - 1];
            if (t->nb == 1) {
                /* zbar = sigma'(z) hbar (plain back-propagation) */
                double *SAPM__RESTRICT o = oth;
                for (k = 0; k < Nn; ++k) o[k] *= s1[k];
            } else {
                const double *SAPM__RESTRICT s2 = t->S2[l - 1];
                const double *s3 = t->S3[l - 1];
                const double *Ad = t->A[l - 1] + Nn;             /* d_{l-1,i} blocks */
                int nd = t->nd, i;
                if (t->nq) {
                    const double *q = t->A[l - 1] + (size_t)(1 + nd) * Nn;
                    double *pbar = oth + (size_t)(1 + nd) * Nn;
                    for (k = 0; k < Nn; ++k) {
                        double zb = s1[k] * oth[k], sd2 = 0.0, pb = pbar[k];
                        for (i = 0; i < nd; ++i) {
                            double di = Ad[(size_t)i * Nn + k], gbi = oth[(size_t)(1 + i) * Nn + k];
                            zb += s2[k] * di * gbi;
                            sd2 += di * di;
                            /* dbar_i = s1 gbar_i + 2 s2 d_i pbar */
                            oth[(size_t)(1 + i) * Nn + k] = s1[k] * gbi + 2.0 * s2[k] * di * pb;
                        }
                        /* zbar = s1 hbar + sum_i s2 d_i gbar_i + (s3 sum_i d_i^2 + s2 q) pbar */
                        oth[k] = zb + (s3[k] * sd2 + s2[k] * q[k]) * pb;
                        pbar[k] = s1[k] * pb;                    /* qbar = s1 pbar */
                    }
                } else {
                    for (k = 0; k < Nn; ++k) {
                        double zb = s1[k] * oth[k];
                        for (i = 0; i < nd; ++i) {
                            double di = Ad[(size_t)i * Nn + k], gbi = oth[(size_t)(1 + i) * Nn + k];
                            zb += s2[k] * di * gbi;
                            oth[(size_t)(1 + i) * Nn + k] = s1[k] * gbi;
                        }
                        oth[k] = zb;
                    }
                }
            }
        }
        tmp = cur; cur = oth; oth = tmp;
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_net_forward_derivs(const sapm_net *net, int N, const double *X,
                                            int ldx, double *U, int ldu, double *dU,
                                            double *lapU)
{
    enum { BLOCK = 128 };
    sapm__tape t;
    int s0, d, m;
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (!X || !U) return SAPM_ERR_NULL_ARGUMENT;
    if (N <= 0) return SAPM_ERR_INVALID_SIZE;
    d = net->widths[0];
    m = net->widths[net->depth];
    if (ldx < d || ldu < m) return SAPM_ERR_SIZE_MISMATCH;
    if (!sapm__matrix_finite(X, N, d, ldx)) return SAPM_ERR_NONFINITE_INPUT;
    r = sapm__tape_init(&t, net, SAPM__MIN(N, (int)BLOCK),
                        lapU ? SAPM__TAPE_LAP : dU ? SAPM__TAPE_GRAD : SAPM__TAPE_VALUE);
    if (r != SAPM_OK) return r;
    for (s0 = 0; s0 < N; s0 += t.cap) {
        int nb = SAPM__MIN(t.cap, N - s0), n, k, i;
        const double *out = t.A[t.depth];        /* (u; du/dx_i; Lap u) blocks, stride m */
        sapm__tape_forward(&t, net->params, nb, X + (size_t)s0 * ldx, ldx);
        for (n = 0; n < nb; ++n) {
            for (k = 0; k < m; ++k) U[(size_t)(s0 + n) * ldu + k] = out[(size_t)n * m + k];
            if (dU)
                for (k = 0; k < m; ++k)
                    for (i = 0; i < d; ++i)
                        dU[(size_t)(s0 + n) * m * d + (size_t)k * d + i] =
                            out[((size_t)(1 + i) * nb + n) * m + k];
            if (lapU)
                for (k = 0; k < m; ++k)
                    lapU[(size_t)(s0 + n) * m + k] = out[((size_t)(1 + d) * nb + n) * m + k];
        }
    }
    sapm__tape_free(&t);
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


/* --- all-reduce ------------------------------------------------------------------------
 * Every sum over samples that an optimizer uses (losses, gradients, Gram matrices, right-
 * hand sides) is formed locally over this worker's samples and then passed through here:
 * a no-op with one worker (opt == NULL or opt->allreduce == NULL), otherwise the user's
 * hook sums buf[0..n) across workers in place. */
static SAPM__UNUSED sapm_result sapm__allreduce(const sapm_options *opt, double *buf, size_t n)
{
    if (!opt || !opt->allreduce || n == 0) return SAPM_OK;
    if (!buf) return SAPM_ERR_NULL_ARGUMENT;
    return opt->allreduce(buf, n, opt->allreduce_user_data);
}

/* Validation of the fields every method reads (and of the LS fields); the auxiliary-variable
 * methods check their own fields. */
static sapm_result sapm__check_options(const sapm_options *opt)
{
    if (!opt) return SAPM_ERR_NULL_ARGUMENT;
    if ((int)opt->method < 0 || opt->method >= SAPM_METHOD_COUNT) return SAPM_ERR_INVALID_ARGUMENT;
    if (opt->max_iters < 1 || opt->log_every < 0) return SAPM_ERR_INVALID_ARGUMENT;
    if (!(opt->time_budget >= 0.0) || !isfinite(opt->time_budget)) return SAPM_ERR_INVALID_ARGUMENT;
    if (!(opt->target_loss >= 0.0) || !isfinite(opt->target_loss)) return SAPM_ERR_INVALID_ARGUMENT;
    if (!(opt->grad_tol >= 0.0) || !isfinite(opt->grad_tol)) return SAPM_ERR_INVALID_ARGUMENT;
    if (!(opt->rel_tol >= 0.0) || !isfinite(opt->rel_tol)) return SAPM_ERR_INVALID_ARGUMENT;
    if (!(opt->learning_rate >= 0.0) || !isfinite(opt->learning_rate)) return SAPM_ERR_INVALID_ARGUMENT;
    if (opt->method == SAPM_METHOD_LS_ADAM) {
        if (!(opt->ls.adam_beta1 >= 0.0 && opt->ls.adam_beta1 < 1.0)) return SAPM_ERR_INVALID_ARGUMENT;
        if (!(opt->ls.adam_beta2 >= 0.0 && opt->ls.adam_beta2 < 1.0)) return SAPM_ERR_INVALID_ARGUMENT;
        if (!(opt->ls.adam_eps > 0.0) || !isfinite(opt->ls.adam_eps)) return SAPM_ERR_INVALID_ARGUMENT;
    }
    if (opt->method == SAPM_METHOD_LS_LBFGS &&
        (opt->ls.lbfgs_memory < 1 || opt->ls.lbfgs_memory > 1000))
        return SAPM_ERR_INVALID_ARGUMENT;
    return SAPM_OK;
}

/* --- trainer ---------------------------------------------------------------------------
 * The outer-loop driver every method shares:
 *   sapm__trainer_begin   zeroes rep (if any), starts the clock;
 *   sapm__trainer_step    called once per iteration (iter 0 = initial state): logs a
 *                         history entry and calls opt->progress when iter == 0,
 *                         iter % log_every == 0 (log_every > 0) or force; then returns the
 *                         first stop reason that holds, in this order:
 *                           SAPM_STOP_DIVERGED     mse or loss is NaN/Inf (nothing logged)
 *                           SAPM_STOP_USER         the callback returned nonzero
 *                           SAPM_STOP_ERROR        the history could not grow (out of memory)
 *                           SAPM_STOP_TARGET_LOSS  target_loss > 0 and mse <= target_loss
 *                                                  (mse is the TRUE loss: J_LS / J_PINN)
 *                           SAPM_STOP_MAX_ITERS    iter >= max_iters
 *                           SAPM_STOP_TIME_BUDGET  time_budget > 0 and elapsed >= budget
 *                         else SAPM_STOP_NONE;
 *   sapm__trainer_end     records the final state (always in the history; the callback is
 *                         called for it unless it was just called for the same iteration)
 *                         and fills rep's status, stop, iters, seconds, mse and loss.
 * Method-specific rules (gradient norm, relative change, line search) are decided by the
 * method and passed to sapm__trainer_end as the stop reason. */
typedef struct sapm__trainer {
    const sapm_options *opt;
    sapm_method method;
    sapm_report *rep;
    double t0;              /* SAPM_NOW() at begin */
    int last_logged;        /* iteration of the newest history entry / callback, -1 none */
    sapm_result status;     /* an error of the plumbing itself (history out of memory) */
} sapm__trainer;

static SAPM__UNUSED void sapm__trainer_begin(sapm__trainer *t, const sapm_options *opt,
                                             sapm_method method, sapm_report *rep)
{
    t->opt = opt;
    t->method = method;
    t->rep = rep;
    t->last_logged = -1;
    t->status = SAPM_OK;
    if (rep) memset(rep, 0, sizeof *rep);
    t->t0 = SAPM_NOW();
}

static SAPM__UNUSED double sapm__trainer_elapsed(const sapm__trainer *t)
{
    return SAPM_NOW() - t->t0;
}

/* Whether iteration iter is a logged one (history + callback). */
static SAPM__UNUSED int sapm__trainer_logs(const sapm__trainer *t, int iter)
{
    int every = t->opt ? t->opt->log_every : 0;
    return iter == 0 || (every > 0 && iter % every == 0);
}

/* History entry (replacing the newest one when it has the same iteration) and, when
 * call_back, the progress callback; returns the callback's stop request. */
static int sapm__trainer_log(sapm__trainer *t, int iter, double mse, double loss,
                             double error, int call_back)
{
    sapm_progress p;
    p.method = t->method;
    p.iter = iter;
    p.seconds = sapm__trainer_elapsed(t);
    p.mse = mse;
    p.loss = loss;
    p.error = error;
    if (t->rep) {
        if (t->last_logged == iter && t->rep->history_count > 0)
            t->rep->history[t->rep->history_count - 1] = p;
        else if (sapm__report_push(t->rep, &p) != SAPM_OK)
            t->status = SAPM_ERR_OUT_OF_MEMORY;
    }
    t->last_logged = iter;
    if (call_back && t->opt && t->opt->progress)
        return t->opt->progress(&p, t->opt->user_data) != 0;
    return 0;
}

static SAPM__UNUSED sapm_stop_reason sapm__trainer_step(sapm__trainer *t, int iter, double mse,
                                                        double loss, double error, int force)
{
    const sapm_options *opt = t->opt;
    if (!isfinite(mse) || !isfinite(loss)) return SAPM_STOP_DIVERGED;
    if (force || sapm__trainer_logs(t, iter)) {
        if (sapm__trainer_log(t, iter, mse, loss, error, 1)) return SAPM_STOP_USER;
        if (t->status != SAPM_OK) return SAPM_STOP_ERROR;
    }
    if (opt) {
        if (opt->target_loss > 0.0 && mse <= opt->target_loss) return SAPM_STOP_TARGET_LOSS;
        if (iter >= opt->max_iters) return SAPM_STOP_MAX_ITERS;
        if (opt->time_budget > 0.0 && sapm__trainer_elapsed(t) >= opt->time_budget)
            return SAPM_STOP_TIME_BUDGET;
    }
    return SAPM_STOP_NONE;
}

static SAPM__UNUSED void sapm__trainer_end(sapm__trainer *t, int iters, double mse, double loss,
                                           double error, sapm_stop_reason stop,
                                           sapm_result status)
{
    int again = t->last_logged != iters;
    sapm__trainer_log(t, iters, mse, loss, error, again);
    if (status == SAPM_OK && t->status != SAPM_OK) {
        status = t->status;
        stop = SAPM_STOP_ERROR;
    }
    if (t->rep) {
        t->rep->status = status;
        t->rep->stop = stop;
        t->rep->iters = iters;
        t->rep->seconds = sapm__trainer_elapsed(t);
        t->rep->mse = mse;
        t->rep->loss = loss;
    }
}

/* ======================================================================================
 * Implementation: LS optimizers (GD, Adam, L-BFGS) and sapm_train
 *
 * sapm__minimize(method, fn, monitor, ctx, x, n, opt, rep) minimises f(x) over a flat
 * vector x[0..n) (for J_LS: x = net->params) with full-batch gradients from fn.
 *   GD      x <- x - lr g                                    (lr: opt->learning_rate, 1e-2)
 *   Adam    Kingma & Ba with bias correction, PyTorch's form (lr default 1e-3):
 *           m <- b1 m + (1-b1) g,  v <- b2 v + (1-b2) g^2,
 *           x <- x - (lr / (1-b1^k)) m / (sqrt(v / (1-b2^k)) + eps)
 *   L-BFGS  two-loop recursion over the newest lbfgs_memory pairs (s, y), initial
 *           Hessian gamma I with gamma = s'y / y'y of the newest pair; direction -g when
 *           there are no pairs or the direction is not a descent direction (memory then
 *           cleared). Strong-Wolfe line search (c1 = 1e-4, c2 = 0.9; bracketing with
 *           cubic-interpolation extrapolation, then zoom with safeguarded cubic
 *           interpolation; at most 25 evaluations; NaN/Inf trial values count as +Inf so
 *           the search backs off instead of diverging). First trial step 1, except
 *           min(1, 1/||g||_1) on the first iteration. A pair is stored only when
 *           s'y > 1e-10 ||s|| ||y|| (curvature condition; otherwise skipped).
 * Stop rules (checked after every iteration; the first that holds ends the run):
 *   SAPM_STOP_DIVERGED     f or a gradient entry is NaN/Inf after a GD/Adam step: x is
 *                          restored to the last iterate with a finite loss and gradient,
 *                          status SAPM_ERR_DIVERGED (also if the initial point is
 *                          non-finite: x is left as given);
 *   SAPM_STOP_USER         the progress callback asked to stop;
 *   SAPM_STOP_TARGET_LOSS  target_loss > 0 and the true loss (monitor's mse, else f) <=
 *                          target_loss;
 *   SAPM_STOP_MAX_ITERS    max_iters iterations done;
 *   SAPM_STOP_TIME_BUDGET  time_budget > 0 seconds of wall time spent;
 *   SAPM_STOP_GRAD_TOL     grad_tol > 0 and ||g||_2 <= grad_tol at the current iterate
 *                          (also when g is exactly 0);
 *   SAPM_STOP_REL_TOL      rel_tol > 0 and |f_k - f_{k-1}| <= rel_tol max(|f_{k-1}|, DBL_MIN);
 *   SAPM_STOP_LINE_SEARCH  (L-BFGS) the line search found no point with f < f_k, also
 *                          after a restart along -g; x stays at the last iterate; status
 *                          SAPM_OK (this is how L-BFGS ends at the limit of precision);
 *   SAPM_STOP_ERROR        fn or monitor returned an error (x restored; status = it).
 * Iteration k's history entry holds f(x_k) (mse from monitor when given). No allocation
 * after the start: every buffer is allocated once per call.
 * ====================================================================================== */

typedef sapm_result (*sapm__objective_fn)(void *ctx, const double *x, double *f, double *grad);
typedef sapm_result (*sapm__monitor_fn)(void *ctx, const double *x, double f, double *mse,
                                        double *error);

static double sapm__dot(const double *a, const double *b, size_t n)
{
    size_t i;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (i = 0; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* The true loss and held-out error at x (monitor when given and wanted, else mse = f). */
static sapm_result sapm__min_monitor(sapm__monitor_fn monitor, void *ctx, const double *x,
                                     double f, int wanted, double *mse, double *error)
{
    *mse = f;
    *error = NAN;
    if (!monitor || !wanted) return SAPM_OK;
    return monitor(ctx, x, f, mse, error);
}

/* Objective with NaN/Inf folded to +Inf, for the line search. */
static sapm_result sapm__ls_eval_point(sapm__objective_fn fn, void *ctx, const double *x,
                                       const double *d, double t, double *xt, size_t n,
                                       double *f, double *g, double *gtd)
{
    size_t i;
    sapm_result r;
    for (i = 0; i < n; ++i) xt[i] = x[i] + t * d[i];
    r = fn(ctx, xt, f, g);
    if (r != SAPM_OK) return r;
    *gtd = sapm__dot(g, d, n);
    if (!isfinite(*f) || !isfinite(*gtd)) { *f = HUGE_VAL; *gtd = 0.0; }
    return SAPM_OK;
}

/* Minimiser of the cubic through (x1, f1, g1), (x2, f2, g2), clamped to [lo, hi]
 * (bisection when the cubic has no minimiser or the data are not finite). */
static double sapm__cubic_min(double x1, double f1, double g1, double x2, double f2, double g2,
                              double lo, double hi)
{
    double d1, d2s, t;
    if (!isfinite(f1) || !isfinite(f2) || x1 == x2) return 0.5 * (lo + hi);
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    d2s = d1 * d1 - g1 * g2;
    if (!(d2s >= 0.0)) return 0.5 * (lo + hi);
    {
        double d2 = sqrt(d2s);
        if (x1 <= x2) t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2));
        else          t = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2));
    }
    if (!isfinite(t)) return 0.5 * (lo + hi);
    return t < lo ? lo : t > hi ? hi : t;
}

/* Strong-Wolfe line search along d from x (f, g, gtd = g'd < 0), first trial *t.
 * On return *t is the accepted step, *f_out / g_out its value and gradient (f_out may
 * equal f when nothing better was found; the caller checks). work: 3 n doubles. */
static sapm_result sapm__wolfe(sapm__objective_fn fn, void *ctx, size_t n, const double *x,
                               double f, const double *g, const double *d, double gtd,
                               double *t_io, double *xt, double *f_out, double *g_out,
                               double *work)
{
    const double c1 = 1e-4, c2 = 0.9, tol_change = 1e-9;
    const int max_ls = 25;
    double *g_new = g_out, *g_prev = work, *g_b0 = work + n, *g_b1 = work + 2 * n;
    double t = *t_io, f_new, gtd_new, t_prev = 0.0, f_prev = f, gtd_prev = gtd;
    double br[2], br_f[2], br_gtd[2], dmax = 0.0;
    double *br_g[2];
    int ls_iter = 0, done = 0, nbr = 0, lo, hi, insuf = 0;
    size_t i;
    sapm_result r;
    br_g[0] = g_b0; br_g[1] = g_b1;
    for (i = 0; i < n; ++i) dmax = SAPM__MAX(dmax, fabs(d[i]));
    memcpy(g_prev, g, n * sizeof(double));
    r = sapm__ls_eval_point(fn, ctx, x, d, t, xt, n, &f_new, g_new, &gtd_new);
    if (r != SAPM_OK) return r;
    /* bracketing phase */
    while (ls_iter < max_ls) {
        if (f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev)) {
            br[0] = t_prev; br_f[0] = f_prev; br_gtd[0] = gtd_prev; memcpy(g_b0, g_prev, n * sizeof(double));
            br[1] = t; br_f[1] = f_new; br_gtd[1] = gtd_new; memcpy(g_b1, g_new, n * sizeof(double));
            nbr = 2;
            break;
        }
        if (fabs(gtd_new) <= -c2 * gtd) {           /* strong Wolfe holds */
            br[0] = t; br_f[0] = f_new; memcpy(g_b0, g_new, n * sizeof(double));
            nbr = 1; done = 1;
            break;
        }
        if (gtd_new >= 0.0) {
            br[0] = t_prev; br_f[0] = f_prev; br_gtd[0] = gtd_prev; memcpy(g_b0, g_prev, n * sizeof(double));
            br[1] = t; br_f[1] = f_new; br_gtd[1] = gtd_new; memcpy(g_b1, g_new, n * sizeof(double));
            nbr = 2;
            break;
        }
        {   /* extrapolate: cubic step in [t + 0.01 (t - t_prev), 10 t] */
            double lo_s = t + 0.01 * (t - t_prev), hi_s = 10.0 * t, tmp = t;
            t = sapm__cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, lo_s, hi_s);
            t_prev = tmp; f_prev = f_new; gtd_prev = gtd_new;
            memcpy(g_prev, g_new, n * sizeof(double));
        }
        r = sapm__ls_eval_point(fn, ctx, x, d, t, xt, n, &f_new, g_new, &gtd_new);
        if (r != SAPM_OK) return r;
        ++ls_iter;
    }
    if (ls_iter == max_ls) {
        br[0] = 0.0; br_f[0] = f; br_gtd[0] = gtd; memcpy(g_b0, g, n * sizeof(double));
        br[1] = t; br_f[1] = f_new; br_gtd[1] = gtd_new; memcpy(g_b1, g_new, n * sizeof(double));
        nbr = 2;
    }
    /* zoom phase: keep br[lo] the best point satisfying sufficient decrease */
    lo = 0; hi = 1;
    if (nbr == 2 && br_f[1] < br_f[0]) { lo = 1; hi = 0; }
    while (!done && nbr == 2 && ls_iter < max_ls) {
        double bmin = SAPM__MIN(br[0], br[1]), bmax = SAPM__MAX(br[0], br[1]), eps;
        if (fabs(br[1] - br[0]) * dmax < tol_change) break;
        t = sapm__cubic_min(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1], bmin, bmax);
        /* safeguard: stay at least 10% of the bracket away from its ends */
        eps = 0.1 * (bmax - bmin);
        if (SAPM__MIN(bmax - t, t - bmin) < eps) {
            if (insuf || t >= bmax || t <= bmin) {
                t = fabs(t - bmax) < fabs(t - bmin) ? bmax - eps : bmin + eps;
                insuf = 0;
            } else {
                insuf = 1;
            }
        } else {
            insuf = 0;
        }
        r = sapm__ls_eval_point(fn, ctx, x, d, t, xt, n, &f_new, g_new, &gtd_new);
        if (r != SAPM_OK) return r;
        ++ls_iter;
        if (f_new > f + c1 * t * gtd || f_new >= br_f[lo]) {
            br[hi] = t; br_f[hi] = f_new; br_gtd[hi] = gtd_new; memcpy(br_g[hi], g_new, n * sizeof(double));
            if (br_f[0] <= br_f[1]) { lo = 0; hi = 1; } else { lo = 1; hi = 0; }
        } else {
            if (fabs(gtd_new) <= -c2 * gtd) done = 1;
            else if (gtd_new * (br[hi] - br[lo]) >= 0.0) {
                br[hi] = br[lo]; br_f[hi] = br_f[lo]; br_gtd[hi] = br_gtd[lo];
                memcpy(br_g[hi], br_g[lo], n * sizeof(double));
            }
            br[lo] = t; br_f[lo] = f_new; br_gtd[lo] = gtd_new; memcpy(br_g[lo], g_new, n * sizeof(double));
        }
    }
    if (nbr == 1) lo = 0;
    *t_io = br[lo];
    *f_out = br_f[lo];
    if (br_g[lo] != g_out) memcpy(g_out, br_g[lo], n * sizeof(double));
    return SAPM_OK;
}

static SAPM__UNUSED sapm_result sapm__minimize(sapm_method method, sapm__objective_fn fn,
                                               sapm__monitor_fn monitor, void *ctx, double *x,
                                               size_t n, const sapm_options *opt,
                                               sapm_report *rep)
{
    sapm__trainer tr;
    sapm_stop_reason stop = SAPM_STOP_NONE;
    sapm_result status = SAPM_OK, r;
    double f = 0.0, f_new = 0.0, mse = 0.0, err = NAN, lr;
    double *mem, *g, *xg, *w1, *w2, *xt, *gt, *lsw, *S = NULL, *Yv = NULL, *rho = NULL, *alp = NULL;
    const double *last_s = NULL;        /* L-BFGS: the newest step, to undo it */
    size_t i, nbuf;
    int k = 0, mcap = 0, mcount = 0, mhead = 0;
    if (!fn || !x) return SAPM_ERR_NULL_ARGUMENT;
    if (n == 0) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__check_options(opt)) != SAPM_OK) return r;
    if (method != SAPM_METHOD_LS_GD && method != SAPM_METHOD_LS_ADAM &&
        method != SAPM_METHOD_LS_LBFGS)
        return SAPM_ERR_INVALID_ARGUMENT;
    lr = opt->learning_rate > 0.0 ? opt->learning_rate
                                  : (method == SAPM_METHOD_LS_ADAM ? 1e-3 : 1e-2);
    /* buffers: g, x_good (GD/Adam) or d (L-BFGS), Adam m and v, L-BFGS trial x, trial g,
     * line-search work (3n), memory S, Y (mcap n each), rho, alpha */
    if (method == SAPM_METHOD_LS_LBFGS) mcap = opt->ls.lbfgs_memory;
    nbuf = 4 * n + (method == SAPM_METHOD_LS_LBFGS ? 3 * n + 2 * (size_t)mcap * n + 2 * (size_t)mcap : 0);
    mem = (double *)sapm__alloc(nbuf, sizeof(double));
    if (!mem) return SAPM_ERR_OUT_OF_MEMORY;
    g = mem; xg = mem + n; w1 = mem + 2 * n; w2 = mem + 3 * n;
    xt = w1; gt = w2; lsw = mem + 4 * n;
    if (mcap) {
        S = lsw + 3 * n; Yv = S + (size_t)mcap * n; rho = Yv + (size_t)mcap * n; alp = rho + mcap;
    }
    sapm__trainer_begin(&tr, opt, method, rep);
    r = fn(ctx, x, &f, g);
    if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; goto done; }
    if (!isfinite(f) || !sapm__all_finite(g, n)) {
        status = SAPM_ERR_DIVERGED; stop = SAPM_STOP_DIVERGED; goto done;
    }
    r = sapm__min_monitor(monitor, ctx, x, f, 1, &mse, &err);
    if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; goto done; }
    stop = sapm__trainer_step(&tr, 0, mse, f, err, 0);
    if (method == SAPM_METHOD_LS_ADAM) memset(w1, 0, 2 * n * sizeof(double));
    {
        double b1t = 1.0, b2t = 1.0;
        while (stop == SAPM_STOP_NONE) {
            double gn = sqrt(sapm__dot(g, g, n));
            int wanted;
            if ((opt->grad_tol > 0.0 && gn <= opt->grad_tol) || gn == 0.0) { stop = SAPM_STOP_GRAD_TOL; break; }
            if (method != SAPM_METHOD_LS_LBFGS) {
                memcpy(xg, x, n * sizeof(double));
                if (method == SAPM_METHOD_LS_GD) {
                    for (i = 0; i < n; ++i) x[i] -= lr * g[i];
                } else {
                    const double b1 = opt->ls.adam_beta1, b2 = opt->ls.adam_beta2, eps = opt->ls.adam_eps;
                    double step, rc2;
                    double *SAPM__RESTRICT m1 = w1, *SAPM__RESTRICT v = w2;
                    b1t *= b1; b2t *= b2;
                    step = lr / (1.0 - b1t);
                    rc2 = 1.0 / sqrt(1.0 - b2t);
                    for (i = 0; i < n; ++i) {
                        m1[i] = b1 * m1[i] + (1.0 - b1) * g[i];
                        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                        x[i] -= step * m1[i] / (sqrt(v[i]) * rc2 + eps);
                    }
                }
                r = fn(ctx, x, &f_new, g);
                if (r != SAPM_OK) {
                    memcpy(x, xg, n * sizeof(double));
                    status = r; stop = SAPM_STOP_ERROR; break;
                }
                if (!isfinite(f_new) || !sapm__all_finite(g, n)) {
                    memcpy(x, xg, n * sizeof(double));   /* last good iterate */
                    status = SAPM_ERR_DIVERGED; stop = SAPM_STOP_DIVERGED; break;
                }
            } else {
                /* L-BFGS direction d = -H g by the two-loop recursion (d kept in xg) */
                double *dv = xg, gtd, t, sy, yy, ss;
                int j, idx;
                for (i = 0; i < n; ++i) dv[i] = -g[i];
                for (j = 0; j < mcount; ++j) {          /* newest to oldest */
                    idx = (mhead - 1 - j + mcap) % mcap;
                    alp[idx] = rho[idx] * sapm__dot(S + (size_t)idx * n, dv, n);
                    for (i = 0; i < n; ++i) dv[i] -= alp[idx] * Yv[(size_t)idx * n + i];
                }
                if (mcount > 0) {
                    idx = (mhead - 1 + mcap) % mcap;
                    {
                        const double *yl = Yv + (size_t)idx * n;
                        double gamma = 1.0 / (rho[idx] * sapm__dot(yl, yl, n));
                        for (i = 0; i < n; ++i) dv[i] *= gamma;
                    }
                }
                for (j = mcount - 1; j >= 0; --j) {     /* oldest to newest */
                    double beta;
                    idx = (mhead - 1 - j + mcap) % mcap;
                    beta = rho[idx] * sapm__dot(Yv + (size_t)idx * n, dv, n);
                    for (i = 0; i < n; ++i) dv[i] += (alp[idx] - beta) * S[(size_t)idx * n + i];
                }
                gtd = sapm__dot(g, dv, n);
                if (!(gtd < 0.0) || !isfinite(gtd)) {   /* not a descent direction: restart */
                    mcount = 0; mhead = 0;
                    for (i = 0; i < n; ++i) dv[i] = -g[i];
                    gtd = -gn * gn;
                }
                if (k == 0 && mcount == 0) {
                    double g1 = 0.0;
                    for (i = 0; i < n; ++i) g1 += fabs(g[i]);
                    t = SAPM__MIN(1.0, 1.0 / g1);
                } else {
                    t = 1.0;
                }
                r = sapm__wolfe(fn, ctx, n, x, f, g, dv, gtd, &t, xt, &f_new, gt, lsw);
                if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; break; }
                if (!(f_new < f) && mcount > 0) {       /* retry once along -g */
                    mcount = 0; mhead = 0;
                    for (i = 0; i < n; ++i) dv[i] = -g[i];
                    gtd = -gn * gn;
                    t = SAPM__MIN(1.0, 1.0 / gn);
                    r = sapm__wolfe(fn, ctx, n, x, f, g, dv, gtd, &t, xt, &f_new, gt, lsw);
                    if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; break; }
                }
                if (!(f_new < f)) { stop = SAPM_STOP_LINE_SEARCH; break; }
                /* s = t d, y = g_new - g; x <- x + s, g <- g_new */
                sy = yy = ss = 0.0;
                idx = mhead;
                {
                    double *SAPM__RESTRICT s = S + (size_t)idx * n, *SAPM__RESTRICT y = Yv + (size_t)idx * n;
                    for (i = 0; i < n; ++i) {
                        s[i] = t * dv[i];
                        y[i] = gt[i] - g[i];
                        x[i] += s[i];
                        sy += s[i] * y[i]; yy += y[i] * y[i]; ss += s[i] * s[i];
                    }
                }
                memcpy(g, gt, n * sizeof(double));
                last_s = S + (size_t)idx * n;
                if (sy > 1e-10 * sqrt(ss) * sqrt(yy) && yy > 0.0) {
                    rho[idx] = 1.0 / sy;
                    mhead = (mhead + 1) % mcap;
                    if (mcount < mcap) ++mcount;
                }
            }
            ++k;
            {
                double f_old = f;
                f = f_new;
                wanted = sapm__trainer_logs(&tr, k) || opt->target_loss > 0.0;
                r = sapm__min_monitor(monitor, ctx, x, f, wanted, &mse, &err);
                if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; break; }
                stop = sapm__trainer_step(&tr, k, mse, f, err, 0);
                if (stop == SAPM_STOP_DIVERGED) {   /* the monitor's true loss is NaN/Inf */
                    if (method != SAPM_METHOD_LS_LBFGS) memcpy(x, xg, n * sizeof(double));
                    else if (last_s) for (i = 0; i < n; ++i) x[i] -= last_s[i];
                    f = f_old;
                    status = SAPM_ERR_DIVERGED;
                    --k;
                }
                if (stop == SAPM_STOP_NONE && opt->rel_tol > 0.0 &&
                    fabs(f - f_old) <= opt->rel_tol * SAPM__MAX(fabs(f_old), DBL_MIN))
                    stop = SAPM_STOP_REL_TOL;
            }
        }
    }
done:
    if (stop != SAPM_STOP_DIVERGED && stop != SAPM_STOP_ERROR && isfinite(f)) {
        r = sapm__min_monitor(monitor, ctx, x, f, 1, &mse, &err);
        if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; }
    } else if (stop == SAPM_STOP_DIVERGED && isfinite(f)) {
        mse = f;                                        /* last good state */
        if (monitor) sapm__min_monitor(monitor, ctx, x, f, 1, &mse, &err);
    } else if (!isfinite(f)) {
        mse = f;
    }
    sapm__trainer_end(&tr, k, mse, f, err, stop, status);
    SAPM_FREE(mem);
    return status;
}

/* J_LS on the tape, block by block (SPEC 2): every block adds its sum of squared residuals
 * and, when a gradient is wanted, its share of dJ_LS/dparams to one buffer; the buffer is
 * then summed across workers by sapm__allreduce (one call per evaluation) and scaled. */
typedef struct sapm__ls_eval {
    sapm__tape tape;
    const sapm_options *opt;    /* its allreduce hook (may be NULL: one worker) */
    int N, ldx, ldy;
    const double *X, *Y;
    double n_total;             /* points over all workers */
    size_t n_params;
    double *buf;                /* n_params + 1: gradient sum, then the squared-error sum */
} sapm__ls_eval;

static void sapm__ls_eval_free(sapm__ls_eval *e)
{
    sapm__tape_free(&e->tape);
    if (e->buf) SAPM_FREE(e->buf);
    e->buf = NULL;
}

static sapm_result sapm__ls_eval_init(sapm__ls_eval *e, const sapm_net *net, int N,
                                      const double *X, int ldx, const double *Y, int ldy,
                                      const sapm_options *opt)
{
    enum { BLOCK = 1024 };      /* points per tape block: one block for small data sets */
    sapm_result r;
    double cnt = (double)N;
    memset(e, 0, sizeof *e);
    e->opt = opt; e->N = N; e->X = X; e->ldx = ldx; e->Y = Y; e->ldy = ldy;
    e->n_params = net->n_params;
    r = sapm__tape_init(&e->tape, net, SAPM__MIN(N, (int)BLOCK), SAPM__TAPE_VALUE);
    if (r != SAPM_OK) return r;
    e->buf = (double *)sapm__alloc(net->n_params + 1, sizeof(double));
    if (!e->buf) { sapm__ls_eval_free(e); return SAPM_ERR_OUT_OF_MEMORY; }
    /* the global number of points, for the 1/N of J_LS */
    r = sapm__allreduce(opt, &cnt, 1);
    if (r != SAPM_OK) { sapm__ls_eval_free(e); return r; }
    if (!(cnt >= 1.0)) { sapm__ls_eval_free(e); return SAPM_ERR_INVALID_SIZE; }
    e->n_total = cnt;
    return SAPM_OK;
}

/* sapm__objective_fn for J_LS: *f = J_LS(x), grad (may be NULL) = dJ_LS/dx. */
static sapm_result sapm__ls_objective(void *ctx, const double *x, double *f, double *grad)
{
    sapm__ls_eval *e = (sapm__ls_eval *)ctx;
    sapm__tape *t = &e->tape;
    size_t np = e->n_params;
    int s0, m = t->m, L = t->depth;
    double sse = 0.0, scale = 2.0 / e->n_total;
    sapm_result r;
    if (grad) memset(e->buf, 0, np * sizeof(double));
    for (s0 = 0; s0 < e->N; s0 += t->cap) {
        int nb = SAPM__MIN(t->cap, e->N - s0), n, k;
        sapm__tape_forward(t, x, nb, e->X + (size_t)s0 * e->ldx, e->ldx);
        for (n = 0; n < nb; ++n) {
            const double *SAPM__RESTRICT u = t->A[L] + (size_t)n * m;
            const double *SAPM__RESTRICT y = e->Y + (size_t)(s0 + n) * e->ldy;
            double *SAPM__RESTRICT a = t->adj + (size_t)n * m;
            for (k = 0; k < m; ++k) {
                double res = u[k] - y[k];        /* r = u(x_n) - y_n */
                sse += res * res;
                a[k] = scale * res;              /* dJ_LS/du = (2/N) r */
            }
        }
        if (grad) sapm__tape_backward(t, x, e->buf);
    }
    e->buf[np] = sse;
    r = grad ? sapm__allreduce(e->opt, e->buf, np + 1) : sapm__allreduce(e->opt, e->buf + np, 1);
    if (r != SAPM_OK) return r;
    *f = e->buf[np] / e->n_total;
    if (grad) memcpy(grad, e->buf, np * sizeof(double));
    return SAPM_OK;
}

/* Arguments shared by the public data-set functions. */
static sapm_result sapm__check_data(const sapm_net *net, int N, const double *X, int ldx,
                                    const double *Y, int ldy)
{
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (!X || !Y) return SAPM_ERR_NULL_ARGUMENT;
    if (N <= 0) return SAPM_ERR_INVALID_SIZE;
    if (ldx < net->widths[0] || ldy < net->widths[net->depth]) return SAPM_ERR_SIZE_MISMATCH;
    if (!sapm__matrix_finite(X, N, net->widths[0], ldx) ||
        !sapm__matrix_finite(Y, N, net->widths[net->depth], ldy))
        return SAPM_ERR_NONFINITE_INPUT;
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_net_gradient(const sapm_net *net, int N, const double *X, int ldx,
                                      const double *Y, int ldy, double *j_ls, double *grad)
{
    sapm__ls_eval e;
    double f = 0.0;
    sapm_result r = sapm__check_data(net, N, X, ldx, Y, ldy);
    if (r != SAPM_OK) return r;
    if (!grad && !j_ls) return SAPM_ERR_NULL_ARGUMENT;
    r = sapm__ls_eval_init(&e, net, N, X, ldx, Y, ldy, NULL);
    if (r != SAPM_OK) return r;
    r = sapm__ls_objective(&e, net->params, &f, grad);
    sapm__ls_eval_free(&e);
    if (r == SAPM_OK && j_ls) *j_ls = f;
    return r;
}

SAPMDEF sapm_result sapm_net_loss(const sapm_net *net, int N, const double *X, int ldx,
                                  const double *Y, int ldy, double *j_ls)
{
    if (!j_ls) return SAPM_ERR_NULL_ARGUMENT;
    return sapm_net_gradient(net, N, X, ldx, Y, ldy, j_ls, NULL);
}

static sapm_result sapm__report_error(sapm_report *rep, sapm_result r)
{
    if (rep) {
        memset(rep, 0, sizeof *rep);
        rep->status = r;
        rep->stop = SAPM_STOP_ERROR;
        rep->mse = rep->loss = NAN;
    }
    return r;
}

static sapm_result sapm__train_ls(sapm_net *net, int N, const double *X, int ldx,
                                  const double *Y, int ldy, const sapm_options *opt,
                                  sapm_report *rep)
{
    sapm__ls_eval e;
    sapm_result r = sapm__ls_eval_init(&e, net, N, X, ldx, Y, ldy, opt);
    if (r != SAPM_OK) return sapm__report_error(rep, r);
    r = sapm__minimize(opt->method, sapm__ls_objective, NULL, &e, net->params, net->n_params,
                       opt, rep);
    sapm__ls_eval_free(&e);
    return r;
}

SAPMDEF sapm_result sapm_train(sapm_net *net, int N, const double *X, int ldx, const double *Y,
                               int ldy, const sapm_options *opt, sapm_report *rep)
{
    sapm_result r = sapm__check_data(net, N, X, ldx, Y, ldy);
    if (r == SAPM_OK) r = sapm__check_options(opt);
    if (r == SAPM_OK && !sapm__all_finite(net->params, net->n_params)) r = SAPM_ERR_NONFINITE_INPUT;
    if (r != SAPM_OK) return sapm__report_error(rep, r);
    switch (opt->method) {
    case SAPM_METHOD_LS_GD:
    case SAPM_METHOD_LS_ADAM:
    case SAPM_METHOD_LS_LBFGS:
        r = sapm__train_ls(net, N, X, ldx, Y, ldy, opt, rep);
        break;
    case SAPM_METHOD_PM:
    case SAPM_METHOD_SAPM:
        /* PM / SAPM dispatch: the `sapm` branch replaces the next line with
         * r = sapm__train_aux(net, N, X, ldx, Y, ldy, opt, rep); */
        r = sapm__report_error(rep, SAPM_ERR_UNSUPPORTED);
        break;
    default:
        r = sapm__report_error(rep, SAPM_ERR_INVALID_ARGUMENT);
        break;
    }
    return r;
}

/* ======================================================================================
 * Implementation: PDE problems - samplers and the evaluated problem data (owner: pinn)
 * ====================================================================================== */

SAPMDEF const char *sapm_pde_method_name(sapm_pde_method m)
{
    switch (m) {
    case SAPM_PDE_PINN_ADAM: return "PINN-Adam";
    case SAPM_PDE_PINN_LBFGS: return "PINN-LBFGS";
    case SAPM_PDE_PINN_ADAM_LBFGS: return "PINN-Adam+LBFGS";
    case SAPM_PDE_SAPM_PINN: return "SAPM-PINN";
    case SAPM_PDE_LYSEP: return "LySep";
    default: return "unknown";
    }
}

/* A box [lo, hi] in R^d: finite, lo_i < hi_i. */
static sapm_result sapm__box_check(int d, const double *lo, const double *hi)
{
    int i;
    if (!lo || !hi) return SAPM_ERR_NULL_ARGUMENT;
    if (d < 1 || d > SAPM_PDE_MAX_DIM) return SAPM_ERR_INVALID_SIZE;
    for (i = 0; i < d; ++i) {
        if (!isfinite(lo[i]) || !isfinite(hi[i])) return SAPM_ERR_NONFINITE_INPUT;
        if (!(lo[i] < hi[i])) return SAPM_ERR_INVALID_ARGUMENT;
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_sample_uniform(int d, const double *lo, const double *hi, int n,
                                        sapm_rng *rng, double *X)
{
    int j, i;
    sapm_result r = sapm__box_check(d, lo, hi);
    if (r != SAPM_OK) return r;
    if (!rng || !X) return SAPM_ERR_NULL_ARGUMENT;
    if (n <= 0) return SAPM_ERR_INVALID_SIZE;
    for (j = 0; j < n; ++j)
        for (i = 0; i < d; ++i)
            X[(size_t)j * d + i] = lo[i] + (hi[i] - lo[i]) * sapm_rng_uniform(rng);
    return SAPM_OK;
}

/* The (k+1)-th prime, k >= 0 (trial division; called once per coordinate). */
static int sapm__nth_prime(int k)
{
    int p = 1, found = -1;
    while (found < k) {
        int q, is_prime = 1;
        ++p;
        for (q = 2; q * q <= p; ++q)
            if (p % q == 0) { is_prime = 0; break; }
        if (is_prime) ++found;
    }
    return p;
}

SAPMDEF sapm_result sapm_sample_halton(int d, const double *lo, const double *hi, int n,
                                       int skip, uint64_t seed, double *X)
{
    int i, j;
    int *perm = NULL;
    sapm_rng rng;
    sapm_result r = sapm__box_check(d, lo, hi);
    if (r != SAPM_OK) return r;
    if (!X) return SAPM_ERR_NULL_ARGUMENT;
    if (n <= 0 || skip < 0 || (double)skip + (double)n > 2147483647.0) return SAPM_ERR_INVALID_SIZE;
    if (seed != 0) sapm_rng_seed(&rng, seed);
    for (i = 0; i < d; ++i) {
        int p = sapm__nth_prime(i);
        double shift = 0.0;
        if (seed != 0) {
            /* Fisher-Yates over digits 1..p-1, digit 0 fixed (finite expansions stay finite) */
            int t;
            perm = (int *)sapm__alloc((size_t)p, sizeof(int));
            if (!perm) return SAPM_ERR_OUT_OF_MEMORY;
            for (t = 0; t < p; ++t) perm[t] = t;
            for (t = p - 1; t > 1; --t) {
                int u = 1 + (int)(sapm_rng_uniform(&rng) * (double)t); /* in 1..t */
                int tmp = perm[t];
                if (u > t) u = t;
                perm[t] = perm[u]; perm[u] = tmp;
            }
            shift = sapm_rng_uniform(&rng);
        }
        for (j = 0; j < n; ++j) {
            /* radical inverse: index k = sum_m a_m p^m  ->  sum_m perm(a_m) p^{-m-1} */
            long k = (long)skip + j + 1;
            double v = 0.0, scale = 1.0 / (double)p;
            while (k > 0) {
                int a = (int)(k % p);
                v += (double)(perm ? perm[a] : a) * scale;
                scale /= (double)p;
                k /= p;
            }
            if (seed != 0) { v += shift; if (v >= 1.0) v -= 1.0; }
            X[(size_t)j * d + i] = lo[i] + (hi[i] - lo[i]) * v;
        }
        if (perm) { SAPM_FREE(perm); perm = NULL; }
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_sample_grid(int d, const double *lo, const double *hi,
                                     const int *counts, int endpoints, double *X)
{
    int i, j, n = 1;
    sapm_result r;
    if (d < 1 || d > 3) return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__box_check(d, lo, hi)) != SAPM_OK) return r;
    if (!counts || !X) return SAPM_ERR_NULL_ARGUMENT;
    for (i = 0; i < d; ++i) {
        if (counts[i] < 1 || counts[i] > 100000000 / n) return SAPM_ERR_INVALID_SIZE;
        n *= counts[i];
    }
    for (j = 0; j < n; ++j) {
        int rem = j;
        for (i = d - 1; i >= 0; --i) {          /* last coordinate fastest */
            int k = rem % counts[i], c = counts[i];
            double t;
            rem /= counts[i];
            if (endpoints) t = c == 1 ? 0.5 : (double)k / (double)(c - 1);
            else t = ((double)k + 0.5) / (double)c;
            X[(size_t)j * d + i] = endpoints && k == c - 1 && c > 1 ? hi[i] : lo[i] + (hi[i] - lo[i]) * t;
        }
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_sample_boundary(int d, const double *lo, const double *hi,
                                         const int *faces, int n, sapm_rng *rng, double *X)
{
    int i, j, f;
    double total = 0.0;
    double *area;
    sapm_result r = sapm__box_check(d, lo, hi);
    if (r != SAPM_OK) return r;
    if (!rng || !X) return SAPM_ERR_NULL_ARGUMENT;
    if (n <= 0) return SAPM_ERR_INVALID_SIZE;
    area = (double *)sapm__alloc((size_t)2 * d, sizeof(double));
    if (!area) return SAPM_ERR_OUT_OF_MEMORY;
    /* cumulative (d-1)-volumes of the selected faces; log-sum keeps d = 100 in range */
    {
        double logvol = 0.0;
        for (i = 0; i < d; ++i) logvol += log(hi[i] - lo[i]);
        for (f = 0; f < 2 * d; ++f) {
            int k = f / 2;
            double a = (faces && !faces[f]) ? 0.0 : exp(logvol - log(hi[k] - lo[k]) - logvol / d * (d - 1));
            total += a;
            area[f] = total;
        }
    }
    if (!(total > 0.0)) { SAPM_FREE(area); return SAPM_ERR_INVALID_ARGUMENT; } /* no face chosen */
    for (j = 0; j < n; ++j) {
        double u = sapm_rng_uniform(rng) * total;
        double *x = X + (size_t)j * d;
        f = 0;
        while (f < 2 * d - 1 && area[f] <= u) ++f;   /* first face whose cumulative area > u */
        while (area[f] - (f > 0 ? area[f - 1] : 0.0) <= 0.0) --f; /* rounding: never an unselected face */
        for (i = 0; i < d; ++i) x[i] = lo[i] + (hi[i] - lo[i]) * sapm_rng_uniform(rng);
        x[f / 2] = (f % 2) ? hi[f / 2] : lo[f / 2];
    }
    SAPM_FREE(area);
    return SAPM_OK;
}

/* The evaluated problem (see TEAM contract): every coefficient and datum at the points. */
typedef struct sapm__pde_data {
    int d, N, M;            /* dimension, interior points, boundary points */
    const double *X;        /* N x d interior points (row-major) */
    const double *c;        /* N x d first-order coefficients c_i(x_n), NULL if the operator has none */
    const double *kappa;    /* N values kappa(x_n), NULL if kappa == 0 (first-order operator) */
    const double *c0;       /* N values c_0(x_n), NULL if zero */
    const double *f;        /* N right-hand sides */
    const double *Xb;       /* M x d boundary points */
    const double *g;        /* M boundary values */
    double alpha, beta;     /* J_PINN = alpha/N sum |Lu - f|^2 + beta/M sum |u - g|^2 */
} sapm__pde_data;

/* Checks a problem description alone (no points). */
static sapm_result sapm__pde_check(const sapm_pde *pde)
{
    int i;
    if (!pde) return SAPM_ERR_NULL_ARGUMENT;
    if (pde->d < 1 || pde->d > SAPM_PDE_MAX_DIM) return SAPM_ERR_INVALID_SIZE;
    if (!pde->f || !pde->g) return SAPM_ERR_NULL_ARGUMENT;
    if (!pde->c_fn && pde->c_const)
        for (i = 0; i < pde->d; ++i)
            if (!isfinite(pde->c_const[i])) return SAPM_ERR_NONFINITE_INPUT;
    if (!isfinite(pde->kappa_const) || !isfinite(pde->c0_const)) return SAPM_ERR_NONFINITE_INPUT;
    return SAPM_OK;
}

/* Network shape for a scalar PDE in d dimensions: n_0 = d, n_L = 1. */
static sapm_result sapm__pde_net_check(const sapm_net *net, int d)
{
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (net->widths[0] != d || net->widths[net->depth] != 1) return SAPM_ERR_SIZE_MISMATCH;
    return SAPM_OK;
}

/* Evaluate a scalar coefficient at n points: callback when given, else the constant.
 * Returns 1 if some value is nonzero, 0 if all are zero, -1 on a NaN/Inf callback value. */
static int sapm__pde_eval_scalar(const sapm_pde *pde, sapm_pde_scalar_fn fn, double cst, int n,
                                 const double *X, double *out)
{
    int j, nz = 0;
    for (j = 0; j < n; ++j) {
        double v = fn ? fn(X + (size_t)j * pde->d, pde->d, pde->user_data) : cst;
        if (!isfinite(v)) return -1;
        out[j] = v;
        nz |= (v != 0.0);
    }
    return nz;
}

/* Build the evaluated data: validates everything, evaluates the callbacks once. *storage
 * receives the one allocation holding c, kappa, c0, f, g (free with SAPM_FREE). Terms
 * that are identically zero at the points get NULL (so kappa == NULL <=> first order). */
static sapm_result sapm__pde_build(sapm__pde_data *p, double **storage, const sapm_pde *pde,
                                   int N, const double *X, int M, const double *Xb,
                                   double alpha, double beta)
{
    int d, j, i, nz;
    double *buf, *c, *kappa, *c0, *f, *g;
    sapm_result r;
    if (!p || !storage) return SAPM_ERR_NULL_ARGUMENT;
    memset(p, 0, sizeof *p);
    *storage = NULL;
    if ((r = sapm__pde_check(pde)) != SAPM_OK) return r;
    d = pde->d;
    if (!X || !Xb) return SAPM_ERR_NULL_ARGUMENT;
    if (N <= 0 || M <= 0) return SAPM_ERR_INVALID_SIZE;
    if (!isfinite(alpha) || !isfinite(beta) || alpha < 0.0 || beta < 0.0 || alpha + beta <= 0.0)
        return SAPM_ERR_INVALID_ARGUMENT;
    if (!sapm__matrix_finite(X, N, d, d) || !sapm__matrix_finite(Xb, M, d, d))
        return SAPM_ERR_NONFINITE_INPUT;
    buf = (double *)sapm__alloc((size_t)N * (d + 3) + (size_t)M, sizeof(double));
    if (!buf) return SAPM_ERR_OUT_OF_MEMORY;
    c = buf; kappa = c + (size_t)N * d; c0 = kappa + N; f = c0 + N; g = f + N;
    p->d = d; p->N = N; p->M = M; p->X = X; p->Xb = Xb; p->alpha = alpha; p->beta = beta;
    /* first-order coefficients c_i(x_n) */
    nz = 0;
    if (pde->c_fn) {
        for (j = 0; j < N; ++j) {
            double *cj = c + (size_t)j * d;
            pde->c_fn(X + (size_t)j * d, d, cj, pde->user_data);
            if (!sapm__all_finite(cj, (size_t)d)) { SAPM_FREE(buf); return SAPM_ERR_CALLBACK; }
            for (i = 0; i < d; ++i) nz |= (cj[i] != 0.0);
        }
    } else if (pde->c_const) {
        for (i = 0; i < d; ++i) nz |= (pde->c_const[i] != 0.0);
        if (nz)
            for (j = 0; j < N; ++j) memcpy(c + (size_t)j * d, pde->c_const, (size_t)d * sizeof(double));
    }
    p->c = nz ? c : NULL;
    nz = sapm__pde_eval_scalar(pde, pde->kappa_fn, pde->kappa_const, N, X, kappa);
    if (nz < 0) { SAPM_FREE(buf); return SAPM_ERR_CALLBACK; }
    p->kappa = nz ? kappa : NULL;
    nz = sapm__pde_eval_scalar(pde, pde->c0_fn, pde->c0_const, N, X, c0);
    if (nz < 0) { SAPM_FREE(buf); return SAPM_ERR_CALLBACK; }
    p->c0 = nz ? c0 : NULL;
    if (sapm__pde_eval_scalar(pde, pde->f, 0.0, N, X, f) < 0) { SAPM_FREE(buf); return SAPM_ERR_CALLBACK; }
    p->f = f;
    if (sapm__pde_eval_scalar(pde, pde->g, 0.0, M, Xb, g) < 0) { SAPM_FREE(buf); return SAPM_ERR_CALLBACK; }
    p->g = g;
    *storage = buf;
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_pde_exact_values(const sapm_pde *pde, int n, const double *X,
                                          double *u_exact)
{
    sapm_result r = sapm__pde_check(pde);
    if (r != SAPM_OK) return r;
    if (!pde->exact || !X || !u_exact) return SAPM_ERR_NULL_ARGUMENT;
    if (n <= 0) return SAPM_ERR_INVALID_SIZE;
    if (!sapm__matrix_finite(X, n, pde->d, pde->d)) return SAPM_ERR_NONFINITE_INPUT;
    if (sapm__pde_eval_scalar(pde, pde->exact, 0.0, n, X, u_exact) < 0) return SAPM_ERR_CALLBACK;
    return SAPM_OK;
}

/* ======================================================================================
 * Implementation: PINN - derivative tape, J_PINN and its exact gradient (owner: pinn)
 *
 * Streams. For a block of nb points the tape keeps, per layer, one (S nb) x n_l matrix
 * whose row blocks are the value z_l, the first derivatives d_{l,i} for the directions
 * the operator needs (all d when kappa != 0, else those i with some c_i != 0) and, when
 * kappa != 0, the Laplacian q_l (SPEC 4). Because every stream passes through the same
 * W_l, one layer is ONE GEMM over S nb rows:
 *
 *   A_{l-1} = [ sigma(z) ; sigma'(z) (.) d_i ; sigma''(z) (.) P + sigma'(z) (.) q ],
 *             P = sum_i d_i (.) d_i
 *   Z_l     = A_{l-1} W_l^T  (+ b_l on the value rows only)
 *
 * with z_1 = W_1 x + b_1, d_{1,i} = W_1[:, i], q_1 = 0. The reverse pass: given the
 * adjoints Zb_l of the streams of layer l,
 *
 *   grad W_l += Zb_l^T A_{l-1},  grad b_l += sum of the value rows of Zb_l,
 *   Ab = Zb_l W_l, and through the elementwise map (s_k = sigma^(k)(z)):
 *   zb = Ab_v s1 + s2 sum_i Ab_i d_i + Ab_q (s3 P + s2 q),
 *   db_i = Ab_i s1 + 2 Ab_q s2 d_i,   qb = Ab_q s1,
 *
 * and at layer 1 grad W_1 += zb^T X, grad W_1[:, i] += sum_n db_{1,i}. Cost per point
 * and layer: 2 (forward) + 4 (reverse) S n_{l-1} n_l flops; memory 2 L S B n_max doubles
 * for a block of B points (B is chosen so S B ~ 4096 rows).
 * ====================================================================================== */

typedef struct sapm__pinn_tape {
    int L, d, S, nd, lap, B;    /* layers, dimension, streams, directions, Laplacian?, block */
    int *dirs;                  /* nd direction indices */
    int wmax;
    double **Z;                 /* Z[k], k = 0..L-1: (S B) x n_{k+1} streams of layer k+1 */
    double **A;                 /* A[k], k = 0..L-2: (S B) x n_{k+1} = act(Z[k]) streams */
    double *Ab, *Zb;            /* reverse buffers (S B) x wmax */
    double *s;                  /* 4 B wmax: s0..s3 of one layer */
    double *P;                  /* B wmax: sum_i d_i^2 */
    double *mem;
} sapm__pinn_tape;

static void sapm__pinn_tape_free(sapm__pinn_tape *t)
{
    if (t->dirs) SAPM_FREE(t->dirs);
    if (t->Z) SAPM_FREE(t->Z);
    if (t->mem) SAPM_FREE(t->mem);
    memset(t, 0, sizeof *t);
}

/* Allocate a tape for net and the operator of p (p == NULL: value stream only, S = 1). */
static sapm_result sapm__pinn_tape_init(sapm__pinn_tape *t, const sapm_net *net,
                                        const sapm__pde_data *p, int n_points)
{
    int k, i, j, L = net->depth, d = net->widths[0];
    size_t total = 0, off = 0;
    memset(t, 0, sizeof *t);
    t->L = L; t->d = d;
    t->dirs = (int *)sapm__alloc((size_t)d, sizeof(int));
    t->Z = (double **)sapm__alloc((size_t)2 * L, sizeof(double *));
    if (!t->dirs || !t->Z) { sapm__pinn_tape_free(t); return SAPM_ERR_OUT_OF_MEMORY; }
    t->A = t->Z + L;
    if (p) {
        t->lap = p->kappa != NULL;
        for (i = 0; i < d; ++i) {
            int need = t->lap;
            if (!need && p->c)
                for (j = 0; j < p->N && !need; ++j) need = p->c[(size_t)j * d + i] != 0.0;
            if (need) t->dirs[t->nd++] = i;
        }
    }
    t->S = 1 + t->nd + t->lap;
    t->B = SAPM__MAX(1, SAPM__MIN(n_points, 4096 / t->S));
    t->wmax = sapm__net_max_width(net);
    for (k = 0; k < L; ++k) total += (size_t)2 * t->S * t->B * net->widths[k + 1];
    total += (size_t)2 * t->S * t->B * t->wmax + (size_t)5 * t->B * t->wmax;
    t->mem = (double *)sapm__alloc(total, sizeof(double));
    if (!t->mem) { sapm__pinn_tape_free(t); return SAPM_ERR_OUT_OF_MEMORY; }
    for (k = 0; k < L; ++k) {
        t->Z[k] = t->mem + off; off += (size_t)t->S * t->B * net->widths[k + 1];
        t->A[k] = t->mem + off; off += (size_t)t->S * t->B * net->widths[k + 1];
    }
    t->Ab = t->mem + off; off += (size_t)t->S * t->B * t->wmax;
    t->Zb = t->mem + off; off += (size_t)t->S * t->B * t->wmax;
    t->s = t->mem + off; off += (size_t)4 * t->B * t->wmax;
    t->P = t->mem + off;
    return SAPM_OK;
}

/* Forward pass of nb <= B points X (nb x d) with S streams (S = 1: values only).
 * Afterwards Z[L-1] holds u (rows 0..nb), d_i u (row block 1 + j for dirs[j]) and
 * Laplace(u) (last row block when lap). */
static void sapm__pinn_forward(sapm__pinn_tape *t, const sapm_net *net, int nb, const double *X,
                               int S)
{
    int k, L = t->L, d = t->d, j, n, u;
    int nd = S > 1 ? t->nd : 0, lap = S > 1 ? t->lap : 0;
    int n1 = net->widths[1];
    double *Z0 = t->Z[0];
    /* layer 1: z_1 = W_1 x + b_1; d_{1,i} = W_1[:, i]; q_1 = 0 */
    for (n = 0; n < nb; ++n)
        memcpy(Z0 + (size_t)n * n1, net->b[0], (size_t)n1 * sizeof(double));
    sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, nb, n1, d, 1.0, X, d, net->W[0], d, 1.0, Z0, n1);
    for (j = 0; j < nd; ++j) {
        double *D = Z0 + (size_t)(1 + j) * nb * n1;
        for (u = 0; u < n1; ++u) D[u] = net->W[0][(size_t)u * d + t->dirs[j]];
        for (n = 1; n < nb; ++n) memcpy(D + (size_t)n * n1, D, (size_t)n1 * sizeof(double));
    }
    if (lap) memset(Z0 + (size_t)(1 + nd) * nb * n1, 0, (size_t)nb * n1 * sizeof(double));
    for (k = 1; k < L; ++k) {
        int nin = net->widths[k], nout = net->widths[k + 1];
        size_t blk = (size_t)nb * nin;
        const double *Zp = t->Z[k - 1];
        double *Ap = t->A[k - 1], *Zk = t->Z[k];
        double *s0 = t->s, *s1 = s0 + blk, *s2 = s1 + blk;
        size_t e;
        /* A_{l-1} = [sigma(z); sigma'(z) d_i; sigma''(z) P + sigma'(z) q] */
        sapm_activation_eval(net->act, blk, Zp, s0, nd ? s1 : NULL, lap ? s2 : NULL, NULL);
        memcpy(Ap, s0, blk * sizeof(double));
        for (j = 0; j < nd; ++j) {
            const double *D = Zp + (size_t)(1 + j) * blk;
            double *AD = Ap + (size_t)(1 + j) * blk;
            for (e = 0; e < blk; ++e) AD[e] = s1[e] * D[e];
        }
        if (lap) {
            const double *Q = Zp + (size_t)(1 + nd) * blk;
            double *AQ = Ap + (size_t)(1 + nd) * blk, *P = t->P;
            memset(P, 0, blk * sizeof(double));
            for (j = 0; j < nd; ++j) {
                const double *D = Zp + (size_t)(1 + j) * blk;
                for (e = 0; e < blk; ++e) P[e] += D[e] * D[e];
            }
            for (e = 0; e < blk; ++e) AQ[e] = s2[e] * P[e] + s1[e] * Q[e];
        }
        /* Z_l = A_{l-1} W_l^T (+ b_l on the value rows) */
        for (n = 0; n < nb; ++n)
            memcpy(Zk + (size_t)n * nout, net->b[k], (size_t)nout * sizeof(double));
        if (S > 1) memset(Zk + (size_t)nb * nout, 0, (size_t)(S - 1) * nb * nout * sizeof(double));
        sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, S * nb, nout, nin, 1.0, Ap, nin, net->W[k], nin,
                  1.0, Zk, nout);
    }
}

/* Reverse pass for the block last run forward: Zb_L = t->Zb ((S nb) x 1: adjoints of u,
 * d_i u, Laplace u) -> grad (layout of net->params) += d(loss)/d(params). */
static void sapm__pinn_backward(sapm__pinn_tape *t, const sapm_net *net, int nb, const double *X,
                                int S, double *grad)
{
    int k, L = t->L, d = t->d, j, n, u;
    int nd = S > 1 ? t->nd : 0, lap = S > 1 ? t->lap : 0;
    double *Zb = t->Zb, *Ab = t->Ab, *tmp;
    for (k = L - 1; k >= 0; --k) {
        int nin = net->widths[k], nout = net->widths[k + 1];
        double *gW = grad + (net->W[k] - net->params), *gb = grad + (net->b[k] - net->params);
        size_t blk = (size_t)nb * nin;
        for (n = 0; n < nb; ++n)                                 /* grad b_l: value rows */
            for (u = 0; u < nout; ++u) gb[u] += Zb[(size_t)n * nout + u];
        if (k == 0) {
            /* grad W_1 += zb^T X;  grad W_1[:, i] += sum_n db_{1,i} */
            sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, nout, d, nb, 1.0, Zb, nout, X, d, 1.0, gW, d);
            for (j = 0; j < nd; ++j) {
                const double *Db = Zb + (size_t)(1 + j) * nb * nout;
                for (n = 0; n < nb; ++n)
                    for (u = 0; u < nout; ++u) gW[(size_t)u * d + t->dirs[j]] += Db[(size_t)n * nout + u];
            }
            break;
        }
        /* grad W_l += Zb_l^T A_{l-1};  Ab = Zb_l W_l */
        sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, nout, nin, S * nb, 1.0, Zb, nout, t->A[k - 1], nin,
                  1.0, gW, nin);
        sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, S * nb, nin, nout, 1.0, Zb, nout, net->W[k], nin,
                  0.0, Ab, nin);
        /* elementwise reverse of A_{l-1} = act(Z_{l-1}); result into Ab (becomes Zb_{l-1}) */
        {
            const double *Zp = t->Z[k - 1];
            double *s0 = t->s, *s1 = s0 + blk, *s2 = s1 + blk, *s3 = s2 + blk, *P = t->P;
            size_t e;
            sapm_activation_eval(net->act, blk, Zp, NULL, s1, (nd || lap) ? s2 : NULL,
                                 lap ? s3 : NULL);
            (void)s0;
            if (!nd && !lap) {
                for (e = 0; e < blk; ++e) Ab[e] *= s1[e];
            } else {
                double *Av = Ab, *Aq = lap ? Ab + (size_t)(1 + nd) * blk : NULL;
                const double *Q = lap ? Zp + (size_t)(1 + nd) * blk : NULL;
                if (lap) {
                    memset(P, 0, blk * sizeof(double));
                    for (j = 0; j < nd; ++j) {
                        const double *D = Zp + (size_t)(1 + j) * blk;
                        for (e = 0; e < blk; ++e) P[e] += D[e] * D[e];
                    }
                }
                /* zb = Ab_v s1 + s2 sum_i Ab_i d_i + Ab_q (s3 P + s2 q) */
                for (e = 0; e < blk; ++e) {
                    double zb = Av[e] * s1[e];
                    if (lap) zb += Aq[e] * (s3[e] * P[e] + s2[e] * Q[e]);
                    Av[e] = zb;
                }
                for (j = 0; j < nd; ++j) {
                    const double *D = Zp + (size_t)(1 + j) * blk;
                    double *Ai = Ab + (size_t)(1 + j) * blk;
                    for (e = 0; e < blk; ++e) {
                        double a = Ai[e];
                        Av[e] += s2[e] * a * D[e];
                        /* db_i = Ab_i s1 + 2 Ab_q s2 d_i */
                        Ai[e] = a * s1[e] + (lap ? 2.0 * Aq[e] * s2[e] * D[e] : 0.0);
                    }
                }
                if (lap)                                       /* qb = Ab_q s1 */
                    for (e = 0; e < blk; ++e) Aq[e] *= s1[e];
            }
        }
        tmp = Zb; Zb = Ab; Ab = tmp;
    }
}

/* J_PINN at the network net (its params) and, when grad != NULL, its exact gradient
 * (n_params doubles, overwritten). j_res, j_bc (may be NULL): the mean squared residual
 * and boundary misfit without alpha, beta. Per-block local sums, so a thread pool or the
 * allreduce hook can sum them across workers. */
static sapm_result sapm__pinn_objective(sapm__pinn_tape *t, const sapm_net *net,
                                        const sapm__pde_data *p, double *j, double *grad,
                                        double *j_res, double *j_bc)
{
    int s0, n, jj, L = t->L, S = t->S, nd = t->nd, d = t->d;
    double sum_r = 0.0, sum_b = 0.0;
    double wr = 2.0 * p->alpha / p->N, wb = 2.0 * p->beta / p->M;
    if (grad) memset(grad, 0, net->n_params * sizeof(double));
    /* interior: r_n = sum_i c_i d_i u + kappa Laplace u + c_0 u - f (SPEC 4) */
    for (s0 = 0; s0 < p->N; s0 += t->B) {
        int nb = SAPM__MIN(t->B, p->N - s0);
        const double *U;
        sapm__pinn_forward(t, net, nb, p->X + (size_t)s0 * d, S);
        U = t->Z[L - 1];
        for (n = 0; n < nb; ++n) {
            int g = s0 + n;
            double r = -p->f[g];
            if (p->c0) r += p->c0[g] * U[n];
            for (jj = 0; jj < nd; ++jj)
                if (p->c) r += p->c[(size_t)g * d + t->dirs[jj]] * U[(size_t)(1 + jj) * nb + n];
            if (t->lap) r += p->kappa[g] * U[(size_t)(1 + nd) * nb + n];
            sum_r += r * r;
            if (grad) {                       /* adjoints of u, d_i u, Laplace u */
                double a = wr * r;
                t->Zb[n] = p->c0 ? a * p->c0[g] : 0.0;
                for (jj = 0; jj < nd; ++jj)
                    t->Zb[(size_t)(1 + jj) * nb + n] = p->c ? a * p->c[(size_t)g * d + t->dirs[jj]] : 0.0;
                if (t->lap) t->Zb[(size_t)(1 + nd) * nb + n] = a * p->kappa[g];
            }
        }
        if (grad) sapm__pinn_backward(t, net, nb, p->X + (size_t)s0 * d, S, grad);
    }
    /* boundary: u - g, value stream only */
    for (s0 = 0; s0 < p->M; s0 += t->B) {
        int nb = SAPM__MIN(t->B, p->M - s0);
        const double *U;
        sapm__pinn_forward(t, net, nb, p->Xb + (size_t)s0 * d, 1);
        U = t->Z[L - 1];
        for (n = 0; n < nb; ++n) {
            double r = U[n] - p->g[s0 + n];
            sum_b += r * r;
            if (grad) t->Zb[n] = wb * r;
        }
        if (grad) sapm__pinn_backward(t, net, nb, p->Xb + (size_t)s0 * d, 1, grad);
    }
    if (j_res) *j_res = sum_r / p->N;
    if (j_bc) *j_bc = sum_b / p->M;
    *j = p->alpha * sum_r / p->N + p->beta * sum_b / p->M;
    return isfinite(*j) ? SAPM_OK : SAPM_ERR_DIVERGED;
}

/* J_PINN of the forward network (the contract's sapm__pde_loss). */
static SAPM__UNUSED sapm_result sapm__pde_loss(const sapm_net *net, const sapm__pde_data *p,
                                               double *j_pinn)
{
    sapm__pinn_tape t;
    sapm_result r;
    if (!net || !p || !j_pinn) return SAPM_ERR_NULL_ARGUMENT;
    if ((r = sapm__pde_net_check(net, p->d)) != SAPM_OK) return r;
    if ((r = sapm__pinn_tape_init(&t, net, p, SAPM__MAX(p->N, p->M))) != SAPM_OK) return r;
    r = sapm__pinn_objective(&t, net, p, j_pinn, NULL, NULL, NULL);
    sapm__pinn_tape_free(&t);
    return r;
}

/* Relative L2 and max error of the forward network (the contract's sapm__pde_errors). */
static sapm_result sapm__pde_errors(const sapm_net *net, int n_test, const double *X_test,
                                    const double *u_exact, double *rel_l2, double *max_err)
{
    double *u, num = 0.0, den = 0.0, mx = 0.0;
    int j;
    sapm_result r;
    if (!net || !X_test || !u_exact) return SAPM_ERR_NULL_ARGUMENT;
    if (n_test <= 0) return SAPM_ERR_INVALID_SIZE;
    u = (double *)sapm__alloc((size_t)n_test, sizeof(double));
    if (!u) return SAPM_ERR_OUT_OF_MEMORY;
    r = sapm_net_forward(net, n_test, X_test, net->widths[0], u, 1);
    if (r == SAPM_OK) {
        for (j = 0; j < n_test; ++j) {
            double e = u[j] - u_exact[j];
            num += e * e;
            den += u_exact[j] * u_exact[j];
            if (fabs(e) > mx || e != e) mx = fabs(e);
        }
        if (rel_l2) *rel_l2 = den > 0.0 ? sqrt(num / den) : sqrt(num / n_test);
        if (max_err) *max_err = mx;
    }
    SAPM_FREE(u);
    return r;
}

SAPMDEF sapm_result sapm_pde_errors(const sapm_net *net, int n, const double *X,
                                    const double *u_exact, double *rel_l2, double *max_err)
{
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (!X || !u_exact) return SAPM_ERR_NULL_ARGUMENT;
    if (n <= 0) return SAPM_ERR_INVALID_SIZE;
    if (net->widths[net->depth] != 1) return SAPM_ERR_SIZE_MISMATCH;
    if (!sapm__matrix_finite(X, n, net->widths[0], net->widths[0]) ||
        !sapm__all_finite(u_exact, (size_t)n))
        return SAPM_ERR_NONFINITE_INPUT;
    return sapm__pde_errors(net, n, X, u_exact, rel_l2, max_err);
}

SAPMDEF sapm_result sapm_pde_loss(const sapm_net *net, const sapm_pde *pde, int N,
                                  const double *X, int M, const double *Xb, double alpha,
                                  double beta, double *j_pinn, double *j_res, double *j_bc)
{
    sapm__pde_data p;
    sapm__pinn_tape t;
    double *storage = NULL, jj;
    sapm_result r;
    if (!j_pinn) return SAPM_ERR_NULL_ARGUMENT;
    if ((r = sapm__pde_check(pde)) != SAPM_OK) return r;
    if ((r = sapm__pde_net_check(net, pde->d)) != SAPM_OK) return r;
    if ((r = sapm__pde_build(&p, &storage, pde, N, X, M, Xb, alpha, beta)) != SAPM_OK) return r;
    if (p.kappa && net->act == SAPM_ACT_RELU) { SAPM_FREE(storage); return SAPM_ERR_UNSUPPORTED; }
    r = sapm__pinn_tape_init(&t, net, &p, SAPM__MAX(N, M));
    if (r == SAPM_OK) {
        r = sapm__pinn_objective(&t, net, &p, &jj, NULL, j_res, j_bc);
        if (r == SAPM_OK) *j_pinn = jj;
        sapm__pinn_tape_free(&t);
    }
    SAPM_FREE(storage);
    return r;
}

SAPMDEF sapm_pde_options sapm_pde_default_options(sapm_pde_method method)
{
    sapm_pde_options o;
    memset(&o, 0, sizeof o);
    o.base = sapm_default_options(SAPM_METHOD_LS_ADAM);
    o.base.max_iters = 5000;
    o.base.log_every = 50;
    o.method = method;
    o.alpha = 1.0;
    o.beta = 1.0;
    o.adam_fraction = 0.5;
    o.lysep = sapm_lysep_default_options();
    return o;
}

/* Ordinary PINN training (Adam / L-BFGS / Adam then L-BFGS); defined below. */
static sapm_result sapm__pde_train_pinn(sapm_net *net, const sapm__pde_data *p,
                                        const sapm_pde_options *opt, const double *u_test,
                                        sapm_report *rep);

/* SAPM-PINN and LySep training (lysep's section, below). */
static sapm_result sapm__pde_train_sapm(sapm_net *net, const sapm__pde_data *p, const sapm_pde_options *opt,
                                        const double *u_test, sapm_report *rep);
static sapm_result sapm__pde_train_lysep(sapm_net *net, const sapm__pde_data *p, const sapm_pde_options *opt,
                                         const double *u_test, sapm_report *rep);

/* Argument checks of sapm_pde_train that do not need the points. */
static sapm_result sapm__pde_train_check(const sapm_net *net, const sapm_pde *pde,
                                         const sapm_pde_options *opt)
{
    sapm_result r;
    if (!opt) return SAPM_ERR_NULL_ARGUMENT;
    if ((int)opt->method < 0 || opt->method >= SAPM_PDE_METHOD_COUNT) return SAPM_ERR_INVALID_ARGUMENT;
    if (opt->base.max_iters < 1) return SAPM_ERR_INVALID_SIZE;
    if (opt->method == SAPM_PDE_PINN_ADAM_LBFGS &&
        !(opt->adam_fraction > 0.0 && opt->adam_fraction < 1.0)) return SAPM_ERR_INVALID_ARGUMENT;
    if ((r = sapm__pde_check(pde)) != SAPM_OK) return r;
    if ((r = sapm__pde_net_check(net, pde->d)) != SAPM_OK) return r;
    if (opt->n_test < 0) return SAPM_ERR_INVALID_SIZE;
    if (opt->n_test > 0) {
        if (!opt->X_test) return SAPM_ERR_NULL_ARGUMENT;
        if (!opt->u_test && !pde->exact) return SAPM_ERR_NULL_ARGUMENT;
        if (!sapm__matrix_finite(opt->X_test, opt->n_test, pde->d, pde->d)) return SAPM_ERR_NONFINITE_INPUT;
        if (opt->u_test && !sapm__all_finite(opt->u_test, (size_t)opt->n_test)) return SAPM_ERR_NONFINITE_INPUT;
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_pde_train(sapm_net *net, const sapm_pde *pde, int N, const double *X,
                                   int M, const double *Xb, const sapm_pde_options *opt,
                                   sapm_report *rep)
{
    sapm__pde_data p;
    double *storage = NULL, *u_test = NULL;
    sapm_result r;
    if (rep) memset(rep, 0, sizeof *rep);
    if ((r = sapm__pde_train_check(net, pde, opt)) != SAPM_OK) goto done;
    if ((r = sapm__pde_build(&p, &storage, pde, N, X, M, Xb, opt->alpha, opt->beta)) != SAPM_OK)
        goto done;
    if (p.kappa && net->act == SAPM_ACT_RELU) { r = SAPM_ERR_UNSUPPORTED; goto done; } /* no sigma'' */
    if (opt->n_test > 0 && !opt->u_test) {
        u_test = (double *)sapm__alloc((size_t)opt->n_test, sizeof(double));
        if (!u_test) { r = SAPM_ERR_OUT_OF_MEMORY; goto done; }
        if ((r = sapm_pde_exact_values(pde, opt->n_test, opt->X_test, u_test)) != SAPM_OK) goto done;
    }
    switch (opt->method) {
    case SAPM_PDE_PINN_ADAM: case SAPM_PDE_PINN_LBFGS: case SAPM_PDE_PINN_ADAM_LBFGS:
        r = sapm__pde_train_pinn(net, &p, opt, u_test ? u_test : opt->u_test, rep);
        break;
    case SAPM_PDE_SAPM_PINN: r = sapm__pde_train_sapm(net, &p, opt, u_test ? u_test : opt->u_test, rep); break;
    case SAPM_PDE_LYSEP:     r = sapm__pde_train_lysep(net, &p, opt, u_test ? u_test : opt->u_test, rep); break;
    default: r = SAPM_ERR_INVALID_ARGUMENT; break;
    }
done:
    if (rep && r != SAPM_OK && rep->status == SAPM_OK) rep->status = r;
    if (u_test) SAPM_FREE(u_test);
    SAPM_FREE(storage);
    return r;
}

static sapm_result sapm__pde_train_pinn(sapm_net *net, const sapm__pde_data *p,
                                        const sapm_pde_options *opt, const double *u_test,
                                        sapm_report *rep)
{
    /* Milestone 2 (needs ls's sapm__minimize): not implemented yet. */
    (void)net; (void)p; (void)opt; (void)u_test; (void)rep;
    return SAPM_ERR_UNSUPPORTED;
}

/* ======================================================================================
 * Implementation: SAPM-PINN and LySep
 * ======================================================================================
 *
 * Auxiliary-variable training of PINNs (SPEC 4). Notation: L = net->depth weight layers,
 * widths n_0 = d .. n_L = 1, hidden layers l = 1..L-1, N interior and M boundary points.
 *
 * DIRECTIONS. The derivative auxiliaries are directional derivatives d_{l,k} ~ dz_l/dv_k
 * along K directions per interior point:
 *   LySep (kappa != NULL): v_k = e_k, k = 1..d (the Laplacian needs every coordinate);
 *     the first-order part is sum_k w_k d_k with w_k = c_k(x);
 *   SAPM-PINN (kappa == NULL): ONE direction v = c(x) (w = 1). Ours: the derivative
 *     recursion is linear in the direction, so dz_l/dv = sum_i c_i dz_l/dx_i exactly, and
 *     the first-order operator only needs this combination - K = 1 instead of the seeds'
 *     d per-coordinate auxiliaries, for any d.
 * Since d_{0,k} = v_k, layer 1's derivative constraint is d_{1,k} = W_1 v_k; q_1 = 0 exactly
 * (no Laplacian auxiliary at layer 1).
 *
 * RESIDUALS (interior point; h_0 = x, h_l = sigma(a_l), S_l = sum_k d_{l,k}^2):
 *   e_l   = a_l - W_l h_{l-1} - b_l                                     (l = 1..L-1)
 *   f_l,k = d_{l,k} - W_l (sigma'(a_{l-1}) . d_{l-1,k})    (f_1,k = d_{1,k} - W_1 v_k)
 *   g_l   = q_l - W_l (sigma''(a_{l-1}) . S_{l-1} + sigma'(a_{l-1}) . q_{l-1})  (l = 2..L-1)
 *   r     = W_L phi + c_0 b_L - f,  phi = c_0 h_{L-1} + sigma'(a_{L-1}) . sum_k w_k d_{L-1,k}
 *                                  + kappa (sigma''(a_{L-1}) . S_{L-1} + sigma'(a_{L-1}) . q_{L-1})
 *   (r is the PDE residual of u = W_L h + b_L, du/dv_k = W_L (sigma' . d_k), Laplacian
 *    W_L (sigma'' . S + sigma' . q) built from the layer-(L-1) auxiliaries.)
 * Boundary point: e_l with its own a_l, and r_b = W_L h_{L-1} + b_L - g.
 *
 *   J_aux = alpha/N sum_n [ r^2 + sum_l ( we_l |e_l|^2 + wf_l sum_k |f_l,k|^2 + wg_l |g_l|^2 ) ]
 *         + beta/M  sum_m [ r_b^2 + sum_l wb_l |e_l|^2 ]
 *
 * SELF-ADAPTIVE WEIGHTS AND THE BOUND (derived here). K1 = sup|sigma'|, K2 = sup|sigma''|,
 * K3 = sup|sigma'''|, ||.|| = Frobenius norm (>= spectral). Let V_l, E_l,k, Q_l be the
 * errors |z_l - a_l|, |dz_l/dv_k - d_l,k|, |Laplacian z_l - q_l| of the auxiliaries
 * against the forward network. Subtracting the exact recursions (SPEC 4) from the
 * constraints and using |sigma^(j)(z) - sigma^(j)(a)| <= K_{j+1} |z - a| elementwise:
 *   V_l   <= K1 ||W_l|| V_{l-1} + |e_l|,                                V_1 = |e_1|
 *   E_l,k <= ||W_l|| (K1 E_{l-1,k} + K2 |d_{l-1,k}|_inf V_{l-1}) + |f_l,k|,  E_1,k = |f_1,k|
 *   Q_l   <= ||W_l|| (K1 Q_{l-1} + K2 sum_k s_{l-1,k} E_{l-1,k}
 *                     + (K3 |S_{l-1}|_inf + K2 |q_{l-1}|_inf) V_{l-1}) + |g_l|,     Q_1 = 0
 * where s_{l,k} = |dz_l/dv_k + d_{l,k}|_inf (from Shat - S = sum_k (dhat-d).(dhat+d); this
 * uses the forward network's derivatives, so the bound is exact, not only local), and the
 * PDE residual of the forward network obeys the same step at the output layer:
 *   |Lu - f| <= |r| + lamV V_{L-1} + sum_k lamE_k E_{L-1,k} + lamQ Q_{L-1},
 *   lamV = ||W_L|| (K1|c_0| + K2 sum_k |w_k| |d_{L-1,k}|_inf + |kappa|(K3 |S|_inf + K2 |q|_inf)),
 *   lamE_k = ||W_L|| (K1 |w_k| + K2 |kappa| s_{L-1,k}),  lamQ = K1 |kappa| ||W_L||.
 * All coefficients are >= 0, so unrolling the recursion (an adjoint sweep l = L-1..1 per
 * point: lamV <- K1||W_l|| lamV + K2 ||W_l|| sum_k |d_{l-1,k}|_inf lamE_k
 * + ||W_l||(K3|S_{l-1}|_inf + K2|q_{l-1}|_inf) lamQ, lamE_k <- K1||W_l|| lamE_k +
 * K2 ||W_l|| s_{l-1,k} lamQ, lamQ <- K1 ||W_l|| lamQ) gives
 *   |Lu - f| <= |r| + sum_l ( lamV_l |e_l| + sum_k lamE_l,k |f_l,k| + lamQ_l |g_l| )
 *            <= |r| + sum_l ( sqrt(we_l)|e_l| + sqrt(wf_l) |f_l| + sqrt(wg_l) |g_l| ),
 *   we_l = lamV_l^2,  wf_l = sum_k lamE_l,k^2 (Cauchy-Schwarz over k: ONE weight for all
 *   directions, so one SPD matrix per point serves every direction),  wg_l = lamQ_l^2.
 * Cauchy-Schwarz over the T = 1 + (L-1) + (L-1) [+ (L-2) if second order] terms, and the
 * same for boundary points (wb_{L-1} = K1^2 ||W_L||^2, wb_{l-1} = K1^2 ||W_l||^2 wb_l: the
 * regression SAPM weights, T_b = L), give for EVERY weights and auxiliaries
 *
 *   J_PINN(W) <= C * J_aux(W, a, d, q),   C = 2L - 1 (SAPM-PINN),  C = 3L - 3 (LySep),
 *
 * with J_aux = J_PINN when the auxiliaries are the forward pass. The value weight we_l
 * depends on the derivative auxiliaries (through |d|_inf, S, q), as the seeds state.
 * (tests/test_lysep.c checks the inequality on random states.)
 *
 * ALGORITHM (one outer iteration; the seeds' alternating skeleton, our details):
 *  1. weights we, wf, wg, wb from the current state (adaptive) or fixed;
 *  2. weight blocks l = L..1, each ONE linear least-squares problem: Gram =
 *     SYRK(value rows [h_{l-1} 1]) + SYRK(derivative rows [sigma'(a_{l-1}) . d_{l-1,k}  0])
 *     + SYRK(Laplacian rows [sigma'' . S + sigma' . q  0]), rows scaled by sqrt(weight),
 *     + the proximal term lysep.prox (ours; default) or the seeds' relative ridge
 *     lysep.ridge; Cholesky, n_l right-hand sides. The output layer has ONE PDE row per
 *     interior point ([phi c_0], target f) and one boundary row ([h 1], target g);
 *  3. auxiliary sweep l = 1..L-1, per point, each sub-step decreases the point's own
 *     objective (terms of layers l and l+1):
 *     a_l: Gauss-Newton step, H = we I + (W^T W) o (we' s1 s1^T + wf' D2 (sum_k d_k d_k^T) D2
 *          + wg' p p^T) (n x n Cholesky; at l = L-1 a rank-one Sherman-Morrison), halved
 *          until the point's objective decreases;
 *     d_l (SAPM-PINN): exact minimiser, (wf I + wf' D1 W^T W D1) d_k = wf t_k + wf' D1 W^T d_{l+1,k}
 *          for all k with one Cholesky (D1 = diag sigma'(a_l)); at l = L-1 a rank-one closed form;
 *     d_l (LySep): the Sigma d^2 term makes it nonlinear; one Gauss-Newton step whose
 *          cross-direction coupling through g_{l+1} is majorised by c I,
 *          c = 4 ||W^T W||_F max_j sigma''_j^2 S_j, so the SAME matrix serves all d
 *          directions; at l = L-1 the exact rank-one GN step; halved until decrease;
 *     q_l (LySep): exact minimiser (wg I + wg' D1 W^T W D1) q = ..., rank-one at l = L-1.
 *  4. forward pass: J_PINN (the logged "mse") and J_aux (the logged "loss").
 * Optional polish (ours): L-BFGS on J_PINN after the alternating phase.
 *
 * COST AND MEMORY per outer iteration (n = hidden width, K directions):
 *   memory: auxiliaries (L-1)(N+M) n + (L-1) N K n [+ (L-1) N n] doubles, the forward
 *   pass the same again, plus ~3 N K n doubles of work space: about 8 L N K n bytes * 2.
 *   d = 100, N = 1000, n = 50, L = 4: ~0.5 GB.
 *   time: O(L N n^2 K) for every product W d_k (the same order as one PINN forward pass
 *   with first derivatives) plus O(L N n^3) for the per-point n x n Cholesky factors.
 *   For SAPM-PINN K = 1, so the cost is O(L N n^2 (n + 1)) independent of d.
 */

static void sapm__lysep_act_bounds(sapm_activation act, double *K2, double *K3)
{
    /* sup |sigma''| and sup |sigma'''| (closed forms; gelu's K3 at z^2 = (7 - sqrt 33)/2) */
    switch (act) {
    case SAPM_ACT_TANH: *K2 = 0.76980035891950105; *K3 = 2.0; break;
    case SAPM_ACT_SIN: *K2 = 1.0; *K3 = 1.0; break;
    case SAPM_ACT_SIGMOID: *K2 = 0.096225044864937642; *K3 = 0.125; break;
    case SAPM_ACT_SOFTPLUS: *K2 = 0.25; *K3 = 0.096225044864937642; break;
    case SAPM_ACT_GELU: *K2 = 0.79788456080286541; *K3 = 0.77876963505573245; break;
    default: *K2 = -1.0; *K3 = -1.0; break;
    }
}

SAPMDEF sapm_lysep_options sapm_lysep_default_options(void)
{
    sapm_lysep_options o;
    memset(&o, 0, sizeof o);
    o.weighting = SAPM_LYSEP_WEIGHTS_ADAPTIVE;
    o.fixed_weight = 1.0;
    o.inner_sweeps = 1;
    o.halvings = 6;
    o.ridge = 0.0;
    o.prox = 1e-10;
    o.polish_iters = 0;
    o.polish_after = 0.0;
    o.trace = NULL;
    return o;
}

SAPMDEF double sapm_lysep_bound_constant(int depth, int second_order)
{
    if (depth < 2) return -1.0;
    return second_order ? (double)(3 * depth - 3) : (double)(2 * depth - 1);
}

/* The state of one SAPM-PINN / LySep run. Hidden layer l = 1..L-1 lives in slot l of the
 * per-layer arrays (slot 0 unused). Row layouts: values (N + M) x n_l (interior rows then
 * boundary rows), derivatives N x K x n_l (point, direction, unit), Laplacians N x n_l. */
typedef struct sapm__lysep {
    const sapm__pde_data *p;
    sapm_net *net;
    int L, N, M, R, d, K, coord, second, nmax;
    double K1, K2, K3;
    int weighting;
    double fixed_weight, ridge, prox;
    int halvings;
    double **A, **D, **Q;          /* auxiliaries */
    double **Z, **DZ, **QZ;        /* forward pass of the network (true values) */
    double **we, **wf, **wg;       /* weights: we (N + M), wf, wg (N) */
    double *dirw;                  /* N x K: coefficient of du/dv_k in the operator */
    double *V;                     /* N x d: the direction c(x) (SAPM-PINN), else NULL */
    double *TA, *TD, *TQ;          /* layer images of the layer below: targets */
    double *hbuf, *ubuf, *pbuf;    /* rows of the weight problems (sources of a push) */
    double *s1, *s2;               /* sigma', sigma'' of the source layer (N x nmax) */
    double *tbuf;                  /* scaled targets, N K x nmax */
    double *gr, *chol;             /* Gram + right-hand side, factor copy */
    double *G;                     /* W_{l+1}^T W_{l+1} */
    double *uout, *duout, *luout, *r; /* output layer: u (R), du/dv_k (N K), Lap u (N), residuals (R) */
    double *nrmW;                  /* Frobenius norms ||W_l||, l = 1..L */
    double *ws;                    /* per-point scratch */
    double *old;                   /* last good parameters */
} sapm__lysep;

static void sapm__lysep_free(sapm__lysep *S)
{
    int l;
    double **arrs[9];
    arrs[0] = S->A; arrs[1] = S->D; arrs[2] = S->Q; arrs[3] = S->Z; arrs[4] = S->DZ;
    arrs[5] = S->QZ; arrs[6] = S->we; arrs[7] = S->wf; arrs[8] = S->wg;
    for (l = 0; l < 9; ++l) {
        int j;
        if (!arrs[l]) continue;
        for (j = 0; j < S->L; ++j) if (arrs[l][j]) SAPM_FREE(arrs[l][j]);
        SAPM_FREE(arrs[l]);
    }
    if (S->dirw) SAPM_FREE(S->dirw);
    if (S->V) SAPM_FREE(S->V);
    if (S->TA) SAPM_FREE(S->TA);
    if (S->TD) SAPM_FREE(S->TD);
    if (S->TQ) SAPM_FREE(S->TQ);
    if (S->hbuf) SAPM_FREE(S->hbuf);
    if (S->ubuf) SAPM_FREE(S->ubuf);
    if (S->pbuf) SAPM_FREE(S->pbuf);
    if (S->s1) SAPM_FREE(S->s1);
    if (S->s2) SAPM_FREE(S->s2);
    if (S->tbuf) SAPM_FREE(S->tbuf);
    if (S->gr) SAPM_FREE(S->gr);
    if (S->chol) SAPM_FREE(S->chol);
    if (S->G) SAPM_FREE(S->G);
    if (S->uout) SAPM_FREE(S->uout);
    if (S->duout) SAPM_FREE(S->duout);
    if (S->luout) SAPM_FREE(S->luout);
    if (S->r) SAPM_FREE(S->r);
    if (S->nrmW) SAPM_FREE(S->nrmW);
    if (S->ws) SAPM_FREE(S->ws);
    if (S->old) SAPM_FREE(S->old);
    memset(S, 0, sizeof *S);
}

/* Allocate the state for net and problem p; second = LySep (Laplacian auxiliaries). */
static sapm_result sapm__lysep_alloc(sapm__lysep *S, sapm_net *net, const sapm__pde_data *p,
                                     int second)
{
    int l, N = p->N, M = p->M, L = net->depth, n, k, i;
    size_t nk, R;
    memset(S, 0, sizeof *S);
    S->p = p;
    S->net = net;
    S->L = L;
    S->N = N;
    S->M = M;
    S->R = N + M;
    S->d = p->d;
    S->second = second;
    S->coord = second;
    S->K = second ? p->d : (p->c ? 1 : 0);
    S->nmax = sapm__net_max_width(net);
    S->K1 = sapm_activation_lipschitz(net->act);
    sapm__lysep_act_bounds(net->act, &S->K2, &S->K3);
    R = (size_t)S->R;
    nk = (size_t)N * (size_t)(S->K > 0 ? S->K : 1);
#define SAPM__LY_ARR(name) do { S->name = (double **)sapm__calloc((size_t)L, sizeof(double *)); \
        if (!S->name) goto oom; } while (0)
    SAPM__LY_ARR(A); SAPM__LY_ARR(D); SAPM__LY_ARR(Q); SAPM__LY_ARR(Z); SAPM__LY_ARR(DZ);
    SAPM__LY_ARR(QZ); SAPM__LY_ARR(we); SAPM__LY_ARR(wf); SAPM__LY_ARR(wg);
#undef SAPM__LY_ARR
    for (l = 1; l < L; ++l) {
        size_t nl = (size_t)net->widths[l];
        S->A[l] = (double *)sapm__calloc(R * nl, sizeof(double));
        S->Z[l] = (double *)sapm__calloc(R * nl, sizeof(double));
        S->D[l] = (double *)sapm__calloc(nk * nl, sizeof(double));
        S->DZ[l] = (double *)sapm__calloc(nk * nl, sizeof(double));
        S->we[l] = (double *)sapm__calloc(R, sizeof(double));
        S->wf[l] = (double *)sapm__calloc((size_t)N, sizeof(double));
        S->wg[l] = (double *)sapm__calloc((size_t)N, sizeof(double));
        if (!S->A[l] || !S->Z[l] || !S->D[l] || !S->DZ[l] || !S->we[l] || !S->wf[l] || !S->wg[l])
            goto oom;
        if (second && l >= 2) {
            S->Q[l] = (double *)sapm__calloc((size_t)N * nl, sizeof(double));
            S->QZ[l] = (double *)sapm__calloc((size_t)N * nl, sizeof(double));
            if (!S->Q[l] || !S->QZ[l]) goto oom;
        }
    }
    n = S->nmax;
    S->dirw = (double *)sapm__calloc(nk, sizeof(double));
    S->TA = (double *)sapm__alloc(R * (size_t)n, sizeof(double));
    S->TD = (double *)sapm__alloc(nk * (size_t)n, sizeof(double));
    S->TQ = (double *)sapm__alloc((size_t)N * (size_t)n, sizeof(double));
    S->hbuf = (double *)sapm__alloc(R * (size_t)(n + 1), sizeof(double));
    S->ubuf = (double *)sapm__alloc(nk * (size_t)n, sizeof(double));
    S->pbuf = (double *)sapm__calloc((size_t)N * (size_t)n, sizeof(double));
    S->s1 = (double *)sapm__alloc((size_t)N * (size_t)n, sizeof(double));
    S->s2 = (double *)sapm__alloc((size_t)N * (size_t)n, sizeof(double));
    S->tbuf = (double *)sapm__alloc((nk > R ? nk : R) * (size_t)n, sizeof(double));
    S->gr = (double *)sapm__alloc((size_t)(n + 1) * (size_t)(2 * n + 1), sizeof(double));
    S->chol = (double *)sapm__alloc((size_t)(n + 1) * (size_t)(n + 1), sizeof(double));
    S->G = (double *)sapm__alloc((size_t)n * (size_t)n, sizeof(double));
    S->uout = (double *)sapm__alloc(R, sizeof(double));
    S->duout = (double *)sapm__alloc(nk, sizeof(double));
    S->luout = (double *)sapm__alloc((size_t)N, sizeof(double));
    S->r = (double *)sapm__alloc(R, sizeof(double));
    S->nrmW = (double *)sapm__alloc((size_t)L + 1, sizeof(double));
    S->ws = (double *)sapm__alloc((size_t)n * (size_t)(3 * n + 16) + (size_t)(6 * (S->K + 1)) * (size_t)n
                                  + 4 * (size_t)(S->K + 1), sizeof(double));
    S->old = (double *)sapm__alloc(net->n_params, sizeof(double));
    if (!S->dirw || !S->TA || !S->TD || !S->TQ || !S->hbuf || !S->ubuf || !S->pbuf || !S->s1 ||
        !S->s2 || !S->tbuf || !S->gr || !S->chol || !S->G || !S->uout || !S->duout || !S->luout ||
        !S->r || !S->nrmW || !S->ws || !S->old)
        goto oom;
    /* the first-order part of the operator: w_k = c_k(x) on coordinate directions, 1 on v = c(x) */
    if (second) {
        if (p->c)
            for (i = 0; i < N; ++i)
                for (k = 0; k < S->K; ++k) S->dirw[(size_t)i * S->K + k] = p->c[(size_t)i * p->d + k];
    } else if (S->K == 1) {
        S->V = (double *)sapm__alloc((size_t)N * (size_t)p->d, sizeof(double));
        if (!S->V) goto oom;
        memcpy(S->V, p->c, (size_t)N * (size_t)p->d * sizeof(double));
        for (i = 0; i < N; ++i) S->dirw[i] = 1.0;
    }
    return SAPM_OK;
oom:
    sapm__lysep_free(S);
    return SAPM_ERR_OUT_OF_MEMORY;
}

/* Push the quantities of layer l-1 (values Asrc pre-activation, derivatives Dsrc, Laplacians
 * Qsrc; ignored for l = 1, where the source is x, v_k and 0) through layer l (SPEC 4
 * recursions with the auxiliaries in place of the forward pass):
 *   OA = W_l h_{l-1} + b_l,  OD_k = W_l (sigma'(Asrc) . Dsrc_k),  OQ = W_l (sigma'' . S + sigma' . Qsrc).
 * Leaves the rows [h_{l-1}] in hbuf (row stride n_{l-1} + 1), sigma' . Dsrc_k in ubuf,
 * sigma'' . S + sigma' . Qsrc in pbuf, sigma', sigma'' of Asrc in s1, s2 (interior rows).
 * Any output may be NULL (not computed). Output row strides are n_l. */
static void sapm__lysep_push(sapm__lysep *S, int l, const double *Asrc, const double *Dsrc,
                             const double *Qsrc, double *OA, double *OD, double *OQ)
{
    const sapm_net *net = S->net;
    const sapm__pde_data *p = S->p;
    int nin = net->widths[l - 1], nout = net->widths[l], ldh = nin + 1, K = S->K;
    int N = S->N, M = S->M, R = S->R, i, j, k;
    const double *W = net->W[l - 1], *b = net->b[l - 1];
    if (l == 1) {
        for (i = 0; i < N; ++i) memcpy(S->hbuf + (size_t)i * ldh, p->X + (size_t)i * p->d, (size_t)nin * sizeof(double));
        for (i = 0; i < M; ++i) memcpy(S->hbuf + (size_t)(N + i) * ldh, p->Xb + (size_t)i * p->d, (size_t)nin * sizeof(double));
        if (!S->coord && K == 1) memcpy(S->ubuf, S->V, (size_t)N * nin * sizeof(double));
    } else {
        for (i = 0; i < R; ++i)
            sapm_activation_eval(net->act, (size_t)nin, Asrc + (size_t)i * nin, S->hbuf + (size_t)i * ldh, NULL, NULL, NULL);
        sapm_activation_eval(net->act, (size_t)N * nin, Asrc, NULL, S->s1, S->second ? S->s2 : NULL, NULL);
        /* u_k = sigma'(a_{l-1}) . d_{l-1,k} */
        for (i = 0; i < N; ++i)
            for (k = 0; k < K; ++k) {
                const double *dk = Dsrc + ((size_t)i * K + k) * nin;
                double *uk = S->ubuf + ((size_t)i * K + k) * nin;
                const double *s1 = S->s1 + (size_t)i * nin;
                for (j = 0; j < nin; ++j) uk[j] = s1[j] * dk[j];
            }
        /* p = sigma''(a_{l-1}) . S_{l-1} + sigma'(a_{l-1}) . q_{l-1} */
        if (S->second)
            for (i = 0; i < N; ++i) {
                double *pi = S->pbuf + (size_t)i * nin;
                const double *s1 = S->s1 + (size_t)i * nin, *s2 = S->s2 + (size_t)i * nin;
                for (j = 0; j < nin; ++j) pi[j] = Qsrc ? s1[j] * Qsrc[(size_t)i * nin + j] : 0.0;
                for (k = 0; k < K; ++k) {
                    const double *dk = Dsrc + ((size_t)i * K + k) * nin;
                    for (j = 0; j < nin; ++j) pi[j] += s2[j] * dk[j] * dk[j];
                }
            }
    }
    if (OA) {
        for (i = 0; i < R; ++i)
            for (j = 0; j < nout; ++j) OA[(size_t)i * nout + j] = b[j];
        sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, R, nout, nin, 1.0, S->hbuf, ldh, W, nin, 1.0, OA, nout);
    }
    if (OD && K > 0) {
        if (l == 1 && S->coord) {
            for (i = 0; i < N; ++i)
                for (k = 0; k < K; ++k)
                    for (j = 0; j < nout; ++j) OD[((size_t)i * K + k) * nout + j] = W[(size_t)j * nin + k];
        } else {
            sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, N * K, nout, nin, 1.0, S->ubuf, nin, W, nin, 0.0, OD, nout);
        }
    }
    if (OQ) {
        if (l == 1) memset(OQ, 0, (size_t)N * nout * sizeof(double));
        else sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, N, nout, nin, 1.0, S->pbuf, nin, W, nin, 0.0, OQ, nout);
    }
}

/* Output-layer residuals from layer L-1 quantities: r_n = c0 u + sum_k w_k du/dv_k + kappa Lap u - f
 * (interior), r = u - g (boundary). Returns alpha/N sum r^2 + beta/M sum r_b^2. */
static double sapm__lysep_output(sapm__lysep *S, const double *A, const double *Dd, const double *Qq)
{
    const sapm__pde_data *p = S->p;
    int N = S->N, M = S->M, K = S->K, i, k;
    double si = 0.0, sb = 0.0;
    sapm__lysep_push(S, S->L, A, Dd, Qq, S->uout, S->duout, S->second ? S->luout : NULL);
    for (i = 0; i < N; ++i) {
        double v = -p->f[i];
        if (p->c0) v += p->c0[i] * S->uout[i];
        for (k = 0; k < K; ++k) v += S->dirw[(size_t)i * K + k] * S->duout[(size_t)i * K + k];
        if (S->second && p->kappa) v += p->kappa[i] * S->luout[i];
        S->r[i] = v;
        si += v * v;
    }
    for (i = 0; i < M; ++i) {
        double v = S->uout[N + i] - p->g[i];
        S->r[N + i] = v;
        sb += v * v;
    }
    return (N > 0 ? p->alpha * si / N : 0.0) + (M > 0 ? p->beta * sb / M : 0.0);
}

/* Forward pass of the network into Z, DZ, QZ; returns J_PINN (SPEC 4). */
static double sapm__lysep_forward(sapm__lysep *S)
{
    int l, L = S->L;
    for (l = 1; l < L; ++l)
        sapm__lysep_push(S, l, l > 1 ? S->Z[l - 1] : NULL, l > 1 ? S->DZ[l - 1] : NULL,
                         l > 2 ? S->QZ[l - 1] : NULL, S->Z[l], S->DZ[l],
                         (S->second && l >= 2) ? S->QZ[l] : NULL);
    return sapm__lysep_output(S, S->Z[L - 1], S->DZ[L - 1], L > 2 ? S->QZ[L - 1] : NULL);
}

/* Frobenius norms of every W_l. */
static void sapm__lysep_norms(sapm__lysep *S)
{
    int l;
    for (l = 1; l <= S->L; ++l) {
        size_t i, n = (size_t)S->net->widths[l] * (size_t)S->net->widths[l - 1];
        double s = 0.0;
        for (i = 0; i < n; ++i) s += S->net->W[l - 1][i] * S->net->W[l - 1][i];
        S->nrmW[l] = sqrt(s);
    }
}

/* |d_{l,k}|_inf for every k, |S_l|_inf, |q_l|_inf and s_{l,k} = |dz_l/dv_k + d_{l,k}|_inf at
 * interior point i (the quantities of the bound's adjoint sweep). */
static void sapm__lysep_point_norms(const sapm__lysep *S, int l, int i, double *dinf, double *sk,
                                    double *Sinf, double *qinf)
{
    int n = S->net->widths[l], K = S->K, j, k;
    double smax = 0.0, qm = 0.0;
    for (k = 0; k < K; ++k) {
        const double *dk = S->D[l] + ((size_t)i * K + k) * n;
        const double *zk = S->DZ[l] + ((size_t)i * K + k) * n;
        double m = 0.0, m2 = 0.0;
        for (j = 0; j < n; ++j) {
            double a = fabs(dk[j]), b = fabs(dk[j] + zk[j]);
            if (a > m) m = a;
            if (b > m2) m2 = b;
        }
        dinf[k] = m;
        sk[k] = m2;
    }
    if (S->second) {
        for (j = 0; j < n; ++j) {
            double s = 0.0;
            for (k = 0; k < K; ++k) { double v = S->D[l][((size_t)i * K + k) * n + j]; s += v * v; }
            if (s > smax) smax = s;
            if (S->Q[l] && fabs(S->Q[l][(size_t)i * n + j]) > qm) qm = fabs(S->Q[l][(size_t)i * n + j]);
        }
    }
    *Sinf = smax;
    *qinf = qm;
}

/* The self-adaptive weights (adjoint sweep of the bound, see the section notes), or fixed. */
static void sapm__lysep_weights(sapm__lysep *S)
{
    const sapm__pde_data *p = S->p;
    int L = S->L, N = S->N, M = S->M, K = S->K, i, l, k;
    double *lamE = S->ws, *dinf = lamE + K + 1, *sk = dinf + K + 1;
    double K1 = S->K1, K2 = S->K2, K3 = S->K3;
    if (S->weighting == SAPM_LYSEP_WEIGHTS_FIXED) {
        for (l = 1; l < L; ++l) {
            for (i = 0; i < S->R; ++i) S->we[l][i] = S->fixed_weight;
            for (i = 0; i < N; ++i) S->wf[l][i] = S->wg[l][i] = S->fixed_weight;
        }
        return;
    }
    sapm__lysep_norms(S);
    for (i = 0; i < N; ++i) {
        double c0 = p->c0 ? fabs(p->c0[i]) : 0.0, ka = (S->second && p->kappa) ? fabs(p->kappa[i]) : 0.0;
        double lamV, lamQ, Sinf, qinf, nw = S->nrmW[L], sumw = 0.0;
        const double *w = S->dirw + (size_t)i * K;
        sapm__lysep_point_norms(S, L - 1, i, dinf, sk, &Sinf, &qinf);
        for (k = 0; k < K; ++k) sumw += fabs(w[k]) * dinf[k];
        lamV = nw * (K1 * c0 + K2 * sumw + ka * (K3 * Sinf + K2 * qinf));
        for (k = 0; k < K; ++k) lamE[k] = nw * (K1 * fabs(w[k]) + K2 * ka * sk[k]);
        lamQ = K1 * ka * nw;
        for (l = L - 1; l >= 1; --l) {
            double s = 0.0, nl, lv, lq;
            for (k = 0; k < K; ++k) s += lamE[k] * lamE[k];
            S->we[l][i] = lamV * lamV;
            S->wf[l][i] = s;
            S->wg[l][i] = l >= 2 ? lamQ * lamQ : 0.0;
            if (l == 1) break;
            /* propagate through W_l to layer l-1 */
            nl = S->nrmW[l];
            sapm__lysep_point_norms(S, l - 1, i, dinf, sk, &Sinf, &qinf);
            lv = K1 * nl * lamV;
            for (k = 0; k < K; ++k) lv += K2 * nl * dinf[k] * lamE[k];
            lv += nl * (K3 * Sinf + K2 * qinf) * lamQ;
            for (k = 0; k < K; ++k) lamE[k] = K1 * nl * lamE[k] + K2 * nl * sk[k] * lamQ;
            lq = K1 * nl * lamQ;
            lamV = lv;
            lamQ = lq;
        }
    }
    for (i = 0; i < M; ++i) {
        double lamV = K1 * S->nrmW[L];
        for (l = L - 1; l >= 1; --l) {
            S->we[l][N + i] = lamV * lamV;
            lamV *= K1 * S->nrmW[l];
        }
    }
}

/* J_aux of the current state (weights as stored). Uses TA/TD/TQ as scratch. */
static double sapm__lysep_jaux(sapm__lysep *S)
{
    const sapm__pde_data *p = S->p;
    int L = S->L, N = S->N, R = S->R, K = S->K, l, i, j;
    double wi = N > 0 ? p->alpha / N : 0.0, wb = S->M > 0 ? p->beta / S->M : 0.0, J = 0.0;
    for (l = 1; l < L; ++l) {
        int n = S->net->widths[l];
        int hasq = S->second && l >= 2;
        sapm__lysep_push(S, l, l > 1 ? S->A[l - 1] : NULL, l > 1 ? S->D[l - 1] : NULL,
                         l > 2 ? S->Q[l - 1] : NULL, S->TA, S->TD, hasq ? S->TQ : NULL);
        for (i = 0; i < R; ++i) {
            double s = 0.0;
            for (j = 0; j < n; ++j) { double e = S->A[l][(size_t)i * n + j] - S->TA[(size_t)i * n + j]; s += e * e; }
            J += (i < N ? wi : wb) * S->we[l][i] * s;
        }
        for (i = 0; i < N; ++i) {
            double s = 0.0;
            size_t o = (size_t)i * K * n;
            for (j = 0; j < K * n; ++j) { double e = S->D[l][o + j] - S->TD[o + j]; s += e * e; }
            J += wi * S->wf[l][i] * s;
            if (hasq) {
                s = 0.0;
                for (j = 0; j < n; ++j) { double e = S->Q[l][(size_t)i * n + j] - S->TQ[(size_t)i * n + j]; s += e * e; }
                J += wi * S->wg[l][i] * s;
            }
        }
    }
    J += sapm__lysep_output(S, S->A[L - 1], S->D[L - 1], L > 2 ? S->Q[L - 1] : NULL);
    return J;
}

/* Weight block of layer l (1..L): one weighted linear least-squares problem (see notes). */
static sapm_result sapm__lysep_update_W(sapm__lysep *S, const sapm_options *base, int l)
{
    const sapm__pde_data *p = S->p;
    sapm_net *net = S->net;
    int L = S->L, N = S->N, M = S->M, R = S->R, K = S->K;
    int nin = net->widths[l - 1], nout = net->widths[l], dim = nin + 1, ldh = nin + 1, i, j, k, tries;
    double wi = N > 0 ? p->alpha / N : 0.0, wb = M > 0 ? p->beta / M : 0.0;
    double *gram = S->gr, *rhs = S->gr + (size_t)dim * dim, tr, lam;
    double *W = net->W[l - 1], *b = net->b[l - 1];
    sapm_result res;
    sapm__lysep_push(S, l, l > 1 ? S->A[l - 1] : NULL, l > 1 ? S->D[l - 1] : NULL,
                     l > 2 ? S->Q[l - 1] : NULL, NULL, NULL, NULL);
    if (l < L) {
        /* value rows [h 1] sqrt(w we), targets a_l sqrt(w we) */
        for (i = 0; i < R; ++i) {
            double sc = sqrt((i < N ? wi : wb) * S->we[l][i]);
            double *h = S->hbuf + (size_t)i * ldh;
            for (j = 0; j < nin; ++j) h[j] *= sc;
            h[nin] = sc;
            for (j = 0; j < nout; ++j) S->tbuf[(size_t)i * nout + j] = sc * S->A[l][(size_t)i * nout + j];
        }
        sapm_syrk(SAPM_TRANS, dim, R, 1.0, S->hbuf, ldh, 0.0, gram, dim);
        sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, dim, nout, R, 1.0, S->hbuf, ldh, S->tbuf, nout, 0.0, rhs, nout);
        /* derivative rows [u_k 0] sqrt(w wf), targets d_{l,k} */
        if (K > 0) {
            if (l == 1 && S->coord) {
                double s = 0.0;
                for (i = 0; i < N; ++i) s += wi * S->wf[1][i];
                for (k = 0; k < K; ++k) gram[(size_t)k * dim + k] += s;
                for (i = 0; i < N; ++i)
                    for (k = 0; k < K; ++k)
                        for (j = 0; j < nout; ++j)
                            rhs[(size_t)k * nout + j] += wi * S->wf[1][i] * S->D[1][((size_t)i * K + k) * nout + j];
            } else {
                for (i = 0; i < N; ++i) {
                    double sc = sqrt(wi * S->wf[l][i]);
                    size_t o = (size_t)i * K;
                    for (k = 0; k < K; ++k) {
                        double *u = S->ubuf + (o + k) * nin, *t = S->tbuf + (o + k) * nout;
                        const double *dk = S->D[l] + (o + k) * nout;
                        for (j = 0; j < nin; ++j) u[j] *= sc;
                        for (j = 0; j < nout; ++j) t[j] = sc * dk[j];
                    }
                }
                sapm_syrk(SAPM_TRANS, nin, N * K, 1.0, S->ubuf, nin, 1.0, gram, dim);
                sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, nin, nout, N * K, 1.0, S->ubuf, nin, S->tbuf, nout, 1.0, rhs, nout);
            }
        }
        /* Laplacian rows [p 0] sqrt(w wg), targets q_l */
        if (S->second && l >= 2) {
            for (i = 0; i < N; ++i) {
                double sc = sqrt(wi * S->wg[l][i]);
                for (j = 0; j < nin; ++j) S->pbuf[(size_t)i * nin + j] *= sc;
                for (j = 0; j < nout; ++j) S->tbuf[(size_t)i * nout + j] = sc * S->Q[l][(size_t)i * nout + j];
            }
            sapm_syrk(SAPM_TRANS, nin, N, 1.0, S->pbuf, nin, 1.0, gram, dim);
            sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, nin, nout, N, 1.0, S->pbuf, nin, S->tbuf, nout, 1.0, rhs, nout);
        }
    } else {
        /* output layer: PDE rows [phi c0] sqrt(alpha/N), target f; boundary rows [h 1] sqrt(beta/M), target g */
        const double *Aq = L > 2 ? S->Q[L - 1] : NULL;
        double si = sqrt(wi), sb = sqrt(wb);
        for (i = 0; i < N; ++i) {
            double *h = S->hbuf + (size_t)i * ldh, c0 = p->c0 ? p->c0[i] : 0.0;
            double ka = (S->second && p->kappa) ? p->kappa[i] : 0.0;
            const double *s1 = S->s1 + (size_t)i * nin;
            for (j = 0; j < nin; ++j) {
                double m = 0.0;
                for (k = 0; k < K; ++k) m += S->dirw[(size_t)i * K + k] * S->D[L - 1][((size_t)i * K + k) * nin + j];
                h[j] = c0 * h[j] + s1[j] * m;
                if (ka != 0.0) h[j] += ka * S->pbuf[(size_t)i * nin + j];
                h[j] *= si;
            }
            h[nin] = si * c0;
            S->tbuf[i] = si * p->f[i];
        }
        (void)Aq;
        for (i = 0; i < M; ++i) {
            double *h = S->hbuf + (size_t)(N + i) * ldh;
            for (j = 0; j < nin; ++j) h[j] *= sb;
            h[nin] = sb;
            S->tbuf[N + i] = sb * p->g[i];
        }
        sapm_syrk(SAPM_TRANS, dim, R, 1.0, S->hbuf, ldh, 0.0, gram, dim);
        sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, dim, nout, R, 1.0, S->hbuf, ldh, S->tbuf, nout, 0.0, rhs, nout);
    }
    res = sapm__allreduce(base, S->gr, (size_t)dim * (dim + nout));
    if (res != SAPM_OK) return res;
    /* ridge (seeds' adaptive sqrt(lambda_n) I, relative to the mean diagonal) and prox (ours) */
    tr = 0.0;
    for (i = 0; i < dim; ++i) tr += gram[(size_t)i * dim + i];
    tr = tr / dim + DBL_MIN;
    if (S->prox > 0.0) {
        double lp = S->prox * tr;
        for (i = 0; i < dim; ++i) {
            gram[(size_t)i * dim + i] += lp;
            for (j = 0; j < nout; ++j)
                rhs[(size_t)i * nout + j] += lp * (i < nin ? W[(size_t)j * nin + i] : b[j]);
        }
    }
    lam = S->ridge * tr;
    if (!(lam > 0.0)) lam = 1e-15 * tr;
    for (tries = 0; tries < 8; ++tries, lam *= 100.0) {
        int info = 0;
        memcpy(S->chol, gram, (size_t)dim * dim * sizeof(double));
        for (i = 0; i < dim; ++i) S->chol[(size_t)i * dim + i] += lam;
        if (sapm_chol_factor(dim, S->chol, dim, &info) == SAPM_OK) break;
    }
    if (tries == 8) return SAPM_ERR_NOT_POSITIVE_DEFINITE;
    sapm_chol_solve(dim, nout, S->chol, dim, rhs, nout);
    if (!sapm__all_finite(rhs, (size_t)dim * nout)) return SAPM_ERR_DIVERGED;
    for (j = 0; j < nout; ++j) {
        for (i = 0; i < nin; ++i) W[(size_t)j * nin + i] = rhs[(size_t)i * nout + j];
        b[j] = rhs[(size_t)nin * nout + j];
    }
    return SAPM_OK;
}

/* Per-point scratch layout (n = n_l, m = n_{l+1} <= nmax). */
typedef struct sapm__lysep_pt {
    double *s0, *s1, *s2, *s3, *Sv, *mv, *ta;  /* n each */
    double *Re, *Rg;                            /* next-layer residuals (m) */
    double *Rk;                                 /* K x m */
    double *U, *Y;                              /* K x n */
    double *H, *Hc;                             /* n x n */
    double *g, *dlt, *tmp, *anew, *qnew;        /* n each; dnew K x n in U */
    double *dnew;                               /* K x n */
    double r;
} sapm__lysep_pt;

static void sapm__lysep_pt_init(sapm__lysep *S, sapm__lysep_pt *P)
{
    int n = S->nmax, K = S->K + 1;
    double *w = S->ws + 4 * (size_t)K;   /* the first 3(K+1) doubles are the weights' scratch */
    P->s0 = w; w += n; P->s1 = w; w += n; P->s2 = w; w += n; P->s3 = w; w += n;
    P->Sv = w; w += n; P->mv = w; w += n; P->ta = w; w += n;
    P->Re = w; w += n; P->Rg = w; w += n;
    P->g = w; w += n; P->dlt = w; w += n; P->tmp = w; w += n; P->anew = w; w += n; P->qnew = w; w += n;
    P->H = w; w += (size_t)n * n;
    P->Hc = w; w += (size_t)n * n;
    P->Rk = w; w += (size_t)K * n;
    P->U = w; w += (size_t)K * n;
    P->Y = w; w += (size_t)K * n;
    P->dnew = w; w += (size_t)K * n;
    P->r = 0.0;
}

/* Objective of interior point i at layer l (1..L-1): own terms of layer l (targets TA, TD, TQ
 * from the layer below) and the terms of layer l+1 (or the PDE row at l = L-1), at the trial
 * a, d (K x n), q (NULL when none). Leaves sigma^(0..3)(a), S, next-layer residuals in P. */
static double sapm__lysep_obj(sapm__lysep *S, sapm__lysep_pt *P, int l, int i, const double *a,
                              const double *Dn, const double *q)
{
    const sapm__pde_data *p = S->p;
    const sapm_net *net = S->net;
    int n = net->widths[l], K = S->K, L = S->L, j, k;
    const double *ta = S->TA + (size_t)i * n, *td = S->TD + (size_t)i * K * n, *tq = S->TQ + (size_t)i * n;
    double J = 0.0, s = 0.0;
    const double *W = net->W[l], *b = net->b[l];
    sapm_activation_eval(net->act, (size_t)n, a, P->s0, P->s1, P->s2, P->s3);
    for (j = 0; j < n; ++j) { double e = a[j] - ta[j]; s += e * e; }
    J += S->we[l][i] * s;
    s = 0.0;
    for (j = 0; j < K * n; ++j) { double e = Dn[j] - td[j]; s += e * e; }
    J += S->wf[l][i] * s;
    if (q) {
        s = 0.0;
        for (j = 0; j < n; ++j) { double e = q[j] - tq[j]; s += e * e; }
        J += S->wg[l][i] * s;
    }
    if (S->second)
        for (j = 0; j < n; ++j) {
            double v = 0.0;
            for (k = 0; k < K; ++k) v += Dn[(size_t)k * n + j] * Dn[(size_t)k * n + j];
            P->Sv[j] = v;
        }
    if (l < L - 1) {
        int m = net->widths[l + 1];
        const double *an = S->A[l + 1] + (size_t)i * m, *dn = S->D[l + 1] + (size_t)i * K * m;
        /* e_{l+1} */
        for (j = 0; j < m; ++j) P->Re[j] = an[j] - b[j];
        sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, m, 1, n, -1.0, W, n, P->s0, 1, 1.0, P->Re, 1);
        s = 0.0;
        for (j = 0; j < m; ++j) s += P->Re[j] * P->Re[j];
        J += S->we[l + 1][i] * s;
        /* f_{l+1,k} = d_{l+1,k} - W (sigma'(a) . d_k) */
        if (K > 0) {
            for (k = 0; k < K; ++k)
                for (j = 0; j < n; ++j) P->U[(size_t)k * n + j] = P->s1[j] * Dn[(size_t)k * n + j];
            memcpy(P->Rk, dn, (size_t)K * m * sizeof(double));
            sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, K, m, n, -1.0, P->U, n, W, n, 1.0, P->Rk, m);
            s = 0.0;
            for (j = 0; j < K * m; ++j) s += P->Rk[j] * P->Rk[j];
            J += S->wf[l + 1][i] * s;
        }
        /* g_{l+1} = q_{l+1} - W (sigma'' . S + sigma' . q) */
        if (S->second) {
            const double *qn = S->Q[l + 1] + (size_t)i * m;
            for (j = 0; j < n; ++j) P->tmp[j] = P->s2[j] * P->Sv[j] + (q ? P->s1[j] * q[j] : 0.0);
            memcpy(P->Rg, qn, (size_t)m * sizeof(double));
            sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, m, 1, n, -1.0, W, n, P->tmp, 1, 1.0, P->Rg, 1);
            s = 0.0;
            for (j = 0; j < m; ++j) s += P->Rg[j] * P->Rg[j];
            J += S->wg[l + 1][i] * s;
        }
    } else {
        /* PDE row r = W_L phi + c0 b_L - f */
        double c0 = p->c0 ? p->c0[i] : 0.0, ka = (S->second && p->kappa) ? p->kappa[i] : 0.0, r;
        const double *w = S->dirw + (size_t)i * K;
        for (j = 0; j < n; ++j) {
            double m = 0.0;
            for (k = 0; k < K; ++k) m += w[k] * Dn[(size_t)k * n + j];
            P->mv[j] = m;
        }
        r = c0 * b[0] - p->f[i];
        for (j = 0; j < n; ++j) {
            double ph = c0 * P->s0[j] + P->s1[j] * P->mv[j];
            if (ka != 0.0) ph += ka * (P->s2[j] * P->Sv[j] + (q ? P->s1[j] * q[j] : 0.0));
            r += W[j] * ph;
        }
        P->r = r;
        J += r * r;
    }
    return J;
}

/* Same for boundary point i (row N + ib): value auxiliaries only. */
static double sapm__lysep_obj_b(sapm__lysep *S, sapm__lysep_pt *P, int l, int row, const double *a)
{
    const sapm_net *net = S->net;
    int n = net->widths[l], j;
    const double *ta = S->TA + (size_t)row * n, *W = net->W[l], *b = net->b[l];
    double J = 0.0, s = 0.0;
    sapm_activation_eval(net->act, (size_t)n, a, P->s0, P->s1, NULL, NULL);
    for (j = 0; j < n; ++j) { double e = a[j] - ta[j]; s += e * e; }
    J += S->we[l][row] * s;
    if (l < S->L - 1) {
        int m = net->widths[l + 1];
        const double *an = S->A[l + 1] + (size_t)row * m;
        for (j = 0; j < m; ++j) P->Re[j] = an[j] - b[j];
        sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, m, 1, n, -1.0, W, n, P->s0, 1, 1.0, P->Re, 1);
        s = 0.0;
        for (j = 0; j < m; ++j) s += P->Re[j] * P->Re[j];
        J += S->we[l + 1][row] * s;
    } else {
        double r = b[0] - S->p->g[row - S->N];
        for (j = 0; j < n; ++j) r += W[j] * P->s0[j];
        P->r = r;
        J += r * r;
    }
    return J;
}

/* Solve (H + eps I) X = B for an SPD n x n H (read-only; factor in Hc), B n x nrhs in place;
 * eps grows from 1e-13 mean(diag H) until the factor succeeds. Returns 0 if it never does. */
static int sapm__lysep_spd_solve(int n, const double *H, double *Hc, double *B, int nrhs)
{
    int info = 0, j, t;
    double tr = 0.0, eps;
    for (j = 0; j < n; ++j) tr += H[(size_t)j * n + j];
    eps = 1e-13 * fabs(tr) / n + DBL_MIN;
    for (t = 0; t < 6; ++t, eps *= 1e3) {
        memcpy(Hc, H, (size_t)n * n * sizeof(double));
        for (j = 0; j < n; ++j) Hc[(size_t)j * n + j] += eps;
        if (sapm_chol_factor(n, Hc, n, &info) == SAPM_OK) {
            sapm_chol_solve(n, nrhs, Hc, n, B, nrhs);
            return sapm__all_finite(B, (size_t)n * nrhs);
        }
    }
    return 0;
}

/* Backtracking on a step dlt of the point's variable x (len entries): x + t dlt, t = 1, 1/2, ...
 * until obj decreases; returns 1 if a step was taken. obj_fn evaluates the trial in place. */

/* a_l at interior point i: one Gauss-Newton step with halvings. */
static void sapm__lysep_step_a(sapm__lysep *S, sapm__lysep_pt *P, int l, int i)
{
    const sapm__pde_data *p = S->p;
    const sapm_net *net = S->net;
    int n = net->widths[l], K = S->K, L = S->L, j, c, k, t;
    double *a = S->A[l] + (size_t)i * n, *Dn = S->D[l] + (size_t)i * K * n;
    double *q = (S->second && l >= 2) ? S->Q[l] + (size_t)i * n : NULL;
    const double *ta = S->TA + (size_t)i * n, *W = net->W[l];
    double we = S->we[l][i], f0, step;
    f0 = sapm__lysep_obj(S, P, l, i, a, Dn, q);
    for (j = 0; j < n; ++j) P->g[j] = we * (a[j] - ta[j]);
    if (l < L - 1) {
        int m = net->widths[l + 1];
        double we1 = S->we[l + 1][i], wf1 = S->wf[l + 1][i], wg1 = S->wg[l + 1][i];
        /* gradient: - sum_t w_t psi_t' . (W^T R_t) */
        sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n, 1, m, 1.0, W, n, P->Re, 1, 0.0, P->tmp, 1);
        for (j = 0; j < n; ++j) P->g[j] -= we1 * P->s1[j] * P->tmp[j];
        if (K > 0) {
            sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, K, n, m, 1.0, P->Rk, m, W, n, 0.0, P->Y, n);
            for (j = 0; j < n; ++j) {
                double v = 0.0;
                for (k = 0; k < K; ++k) v += Dn[(size_t)k * n + j] * P->Y[(size_t)k * n + j];
                P->g[j] -= wf1 * P->s2[j] * v;
            }
        }
        if (S->second) {
            sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n, 1, m, 1.0, W, n, P->Rg, 1, 0.0, P->tmp, 1);
            for (j = 0; j < n; ++j) {
                double dpsi = P->s3[j] * P->Sv[j] + (q ? P->s2[j] * q[j] : 0.0);
                P->g[j] -= wg1 * dpsi * P->tmp[j];
                P->mv[j] = dpsi;
            }
        }
        /* H = we I + G o (we1 s1 s1^T + wf1 diag(s2) D^T D diag(s2) + wg1 psi' psi'^T) */
        if (K > 0) sapm_syrk(SAPM_TRANS, n, K, 1.0, Dn, n, 0.0, P->H, n);
        else memset(P->H, 0, (size_t)n * n * sizeof(double));
        for (j = 0; j < n; ++j)
            for (c = 0; c < n; ++c) {
                double v = we1 * P->s1[j] * P->s1[c] + wf1 * P->s2[j] * P->s2[c] * P->H[(size_t)j * n + c];
                if (S->second) v += wg1 * P->mv[j] * P->mv[c];
                P->H[(size_t)j * n + c] = S->G[(size_t)j * n + c] * v + (j == c ? we : 0.0);
            }
        for (j = 0; j < n; ++j) P->dlt[j] = -P->g[j];
        if (!sapm__lysep_spd_solve(n, P->H, P->Hc, P->dlt, 1)) return;
    } else {
        /* PDE row: j = W_L . psi', H = we I + j j^T (Sherman-Morrison) */
        double c0 = p->c0 ? p->c0[i] : 0.0, ka = (S->second && p->kappa) ? p->kappa[i] : 0.0;
        double jj = 0.0, jg = 0.0;
        for (j = 0; j < n; ++j) {
            double dpsi = c0 * P->s1[j] + P->s2[j] * P->mv[j];
            if (ka != 0.0) dpsi += ka * (P->s3[j] * P->Sv[j] + (q ? P->s2[j] * q[j] : 0.0));
            P->tmp[j] = W[j] * dpsi;
            P->g[j] += P->r * P->tmp[j];
        }
        for (j = 0; j < n; ++j) { jj += P->tmp[j] * P->tmp[j]; jg += P->tmp[j] * P->g[j]; }
        if (!(we > 0.0)) return;
        for (j = 0; j < n; ++j) P->dlt[j] = -(P->g[j] - P->tmp[j] * jg / (we + jj)) / we;
    }
    for (t = 0, step = 1.0; t <= S->halvings; ++t, step *= 0.5) {
        double f1;
        for (j = 0; j < n; ++j) P->anew[j] = a[j] + step * P->dlt[j];
        f1 = sapm__lysep_obj(S, P, l, i, P->anew, Dn, q);
        if (f1 <= f0) { memcpy(a, P->anew, (size_t)n * sizeof(double)); return; }
    }
}

/* a_l at boundary row i (>= N): Gauss-Newton step with halvings. */
static void sapm__lysep_step_a_b(sapm__lysep *S, sapm__lysep_pt *P, int l, int row)
{
    const sapm_net *net = S->net;
    int n = net->widths[l], j, c, t;
    double *a = S->A[l] + (size_t)row * n;
    const double *ta = S->TA + (size_t)row * n, *W = net->W[l];
    double we = S->we[l][row], f0, step;
    f0 = sapm__lysep_obj_b(S, P, l, row, a);
    for (j = 0; j < n; ++j) P->g[j] = we * (a[j] - ta[j]);
    if (l < S->L - 1) {
        int m = net->widths[l + 1];
        double we1 = S->we[l + 1][row];
        sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n, 1, m, 1.0, W, n, P->Re, 1, 0.0, P->tmp, 1);
        for (j = 0; j < n; ++j) P->g[j] -= we1 * P->s1[j] * P->tmp[j];
        for (j = 0; j < n; ++j)
            for (c = 0; c < n; ++c)
                P->H[(size_t)j * n + c] = S->G[(size_t)j * n + c] * we1 * P->s1[j] * P->s1[c] + (j == c ? we : 0.0);
        for (j = 0; j < n; ++j) P->dlt[j] = -P->g[j];
        if (!sapm__lysep_spd_solve(n, P->H, P->Hc, P->dlt, 1)) return;
    } else {
        double jj = 0.0, jg = 0.0;
        for (j = 0; j < n; ++j) { P->tmp[j] = W[j] * P->s1[j]; P->g[j] += P->r * P->tmp[j]; }
        for (j = 0; j < n; ++j) { jj += P->tmp[j] * P->tmp[j]; jg += P->tmp[j] * P->g[j]; }
        if (!(we > 0.0)) return;
        for (j = 0; j < n; ++j) P->dlt[j] = -(P->g[j] - P->tmp[j] * jg / (we + jj)) / we;
    }
    for (t = 0, step = 1.0; t <= S->halvings; ++t, step *= 0.5) {
        double f1;
        for (j = 0; j < n; ++j) P->anew[j] = a[j] + step * P->dlt[j];
        f1 = sapm__lysep_obj_b(S, P, l, row, P->anew);
        if (f1 <= f0) { memcpy(a, P->anew, (size_t)n * sizeof(double)); return; }
    }
}

/* d_{l,k}, all k, at interior point i. SAPM-PINN: exact minimiser of the point's objective
 * over d (one SPD matrix for every direction). LySep: majorised Gauss-Newton step + halvings. */
static void sapm__lysep_step_d(sapm__lysep *S, sapm__lysep_pt *P, int l, int i)
{
    const sapm__pde_data *p = S->p;
    const sapm_net *net = S->net;
    int n = net->widths[l], K = S->K, L = S->L, j, c, k, t;
    double *a = S->A[l] + (size_t)i * n, *Dn = S->D[l] + (size_t)i * K * n;
    double *q = (S->second && l >= 2) ? S->Q[l] + (size_t)i * n : NULL;
    const double *td = S->TD + (size_t)i * K * n, *W = net->W[l];
    double wf = S->wf[l][i], f0 = 0.0, step;
    if (K == 0) return;
    if (!S->second) {
        sapm_activation_eval(net->act, (size_t)n, a, P->s0, P->s1, NULL, NULL);
        if (l < L - 1) {
            /* (wf I + wf1 D1 G D1) d_k = wf t_k + wf1 D1 W^T d_{l+1,k}, all k at once (n x K rhs) */
            int m = net->widths[l + 1];
            double wf1 = S->wf[l + 1][i];
            const double *dn = S->D[l + 1] + (size_t)i * K * m;
            sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, K, n, m, 1.0, dn, m, W, n, 0.0, P->Y, n);
            for (j = 0; j < n; ++j)
                for (k = 0; k < K; ++k)
                    P->U[(size_t)j * K + k] = wf * td[(size_t)k * n + j] + wf1 * P->s1[j] * P->Y[(size_t)k * n + j];
            for (j = 0; j < n; ++j)
                for (c = 0; c < n; ++c)
                    P->H[(size_t)j * n + c] = wf1 * P->s1[j] * P->s1[c] * S->G[(size_t)j * n + c] + (j == c ? wf : 0.0);
            if (!sapm__lysep_spd_solve(n, P->H, P->Hc, P->U, K)) return;
            for (k = 0; k < K; ++k)
                for (j = 0; j < n; ++j) Dn[(size_t)k * n + j] = P->U[(size_t)j * K + k];
        } else {
            /* rank one: d_k = t_k - w_k m r0 / (wf + |w|^2 |m|^2), m = W_L . sigma'(a) */
            double c0 = p->c0 ? p->c0[i] : 0.0, r0 = c0 * net->b[l][0] - p->f[i], mm = 0.0, ww = 0.0, den;
            const double *w = S->dirw + (size_t)i * K;
            for (j = 0; j < n; ++j) {
                double tm = 0.0;
                for (k = 0; k < K; ++k) tm += w[k] * td[(size_t)k * n + j];
                r0 += W[j] * (c0 * P->s0[j] + P->s1[j] * tm);
                P->tmp[j] = W[j] * P->s1[j];
                mm += P->tmp[j] * P->tmp[j];
            }
            for (k = 0; k < K; ++k) ww += w[k] * w[k];
            den = wf + ww * mm;
            if (!(den > 0.0)) return;
            for (k = 0; k < K; ++k)
                for (j = 0; j < n; ++j) Dn[(size_t)k * n + j] = td[(size_t)k * n + j] - w[k] * P->tmp[j] * r0 / den;
        }
        return;
    }
    /* LySep: gradient g_k and a step from a shared matrix */
    f0 = sapm__lysep_obj(S, P, l, i, a, Dn, q);
    for (k = 0; k < K; ++k)
        for (j = 0; j < n; ++j) P->dnew[(size_t)k * n + j] = wf * (Dn[(size_t)k * n + j] - td[(size_t)k * n + j]);
    if (l < L - 1) {
        int m = net->widths[l + 1];
        double wf1 = S->wf[l + 1][i], wg1 = S->wg[l + 1][i], gn = 0.0, smax = 0.0;
        /* - wf1 s1 . W^T Rk_k - 2 wg1 s2 . d_k . W^T Rg */
        sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, K, n, m, 1.0, P->Rk, m, W, n, 0.0, P->Y, n);
        sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n, 1, m, 1.0, W, n, P->Rg, 1, 0.0, P->tmp, 1);
        for (k = 0; k < K; ++k)
            for (j = 0; j < n; ++j)
                P->dnew[(size_t)k * n + j] -= wf1 * P->s1[j] * P->Y[(size_t)k * n + j]
                                            + 2.0 * wg1 * P->s2[j] * Dn[(size_t)k * n + j] * P->tmp[j];
        for (j = 0; j < n * n; ++j) gn += S->G[j] * S->G[j];
        for (j = 0; j < n; ++j) { double v = P->s2[j] * P->s2[j] * P->Sv[j]; if (v > smax) smax = v; }
        /* (wf + wg1 c) I + wf1 D1 G D1, c = 4 ||G||_F max s2^2 S */
        for (j = 0; j < n; ++j)
            for (c = 0; c < n; ++c)
                P->H[(size_t)j * n + c] = wf1 * P->s1[j] * P->s1[c] * S->G[(size_t)j * n + c]
                                        + (j == c ? wf + wg1 * 4.0 * sqrt(gn) * smax : 0.0);
        for (j = 0; j < n; ++j)
            for (k = 0; k < K; ++k) P->U[(size_t)j * K + k] = -P->dnew[(size_t)k * n + j];
        if (!sapm__lysep_spd_solve(n, P->H, P->Hc, P->U, K)) return;
        for (k = 0; k < K; ++k)
            for (j = 0; j < n; ++j) P->Y[(size_t)k * n + j] = P->U[(size_t)j * K + k];
    } else {
        /* exact rank-one GN: j_k = w_k W_L . s1 + 2 kappa W_L . s2 . d_k */
        double ka = p->kappa ? p->kappa[i] : 0.0, jj = 0.0, jg = 0.0;
        const double *w = S->dirw + (size_t)i * K;
        for (k = 0; k < K; ++k)
            for (j = 0; j < n; ++j) {
                double jv = W[j] * (w[k] * P->s1[j] + 2.0 * ka * P->s2[j] * Dn[(size_t)k * n + j]);
                P->U[(size_t)k * n + j] = jv;
                P->dnew[(size_t)k * n + j] += P->r * jv;
            }
        for (j = 0; j < K * n; ++j) { jj += P->U[j] * P->U[j]; jg += P->U[j] * P->dnew[j]; }
        if (!(wf > 0.0)) return;
        for (j = 0; j < K * n; ++j) P->Y[j] = -(P->dnew[j] - P->U[j] * jg / (wf + jj)) / wf;
    }
    for (t = 0, step = 1.0; t <= S->halvings; ++t, step *= 0.5) {
        double f1;
        for (j = 0; j < K * n; ++j) P->dnew[j] = Dn[j] + step * P->Y[j];
        f1 = sapm__lysep_obj(S, P, l, i, a, P->dnew, q);
        if (f1 <= f0) { memcpy(Dn, P->dnew, (size_t)K * n * sizeof(double)); return; }
    }
}

/* q_l at interior point i (LySep, l >= 2): exact minimiser (linear least squares). */
static void sapm__lysep_step_q(sapm__lysep *S, sapm__lysep_pt *P, int l, int i)
{
    const sapm__pde_data *p = S->p;
    const sapm_net *net = S->net;
    int n = net->widths[l], K = S->K, L = S->L, j, c, k;
    double *a = S->A[l] + (size_t)i * n, *Dn = S->D[l] + (size_t)i * K * n, *q = S->Q[l] + (size_t)i * n;
    const double *tq = S->TQ + (size_t)i * n, *W = net->W[l];
    double wg = S->wg[l][i];
    sapm_activation_eval(net->act, (size_t)n, a, P->s0, P->s1, P->s2, NULL);
    for (j = 0; j < n; ++j) {
        double v = 0.0;
        for (k = 0; k < K; ++k) v += Dn[(size_t)k * n + j] * Dn[(size_t)k * n + j];
        P->Sv[j] = v;
    }
    if (l < L - 1) {
        /* (wg I + wg1 D1 G D1) q = wg t + wg1 D1 W^T (q_{l+1} - W (s2 . S)) */
        int m = net->widths[l + 1];
        double wg1 = S->wg[l + 1][i];
        const double *qn = S->Q[l + 1] + (size_t)i * m;
        for (j = 0; j < n; ++j) P->tmp[j] = P->s2[j] * P->Sv[j];
        memcpy(P->Rg, qn, (size_t)m * sizeof(double));
        sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, m, 1, n, -1.0, W, n, P->tmp, 1, 1.0, P->Rg, 1);
        sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n, 1, m, 1.0, W, n, P->Rg, 1, 0.0, P->g, 1);
        for (j = 0; j < n; ++j) P->qnew[j] = wg * tq[j] + wg1 * P->s1[j] * P->g[j];
        for (j = 0; j < n; ++j)
            for (c = 0; c < n; ++c)
                P->H[(size_t)j * n + c] = wg1 * P->s1[j] * P->s1[c] * S->G[(size_t)j * n + c] + (j == c ? wg : 0.0);
        if (!sapm__lysep_spd_solve(n, P->H, P->Hc, P->qnew, 1)) return;
        memcpy(q, P->qnew, (size_t)n * sizeof(double));
    } else {
        /* rank one: q = t - m r0 / (wg + |m|^2), m = kappa W_L . s1, r0 = r at q = t */
        double c0 = p->c0 ? p->c0[i] : 0.0, ka = p->kappa ? p->kappa[i] : 0.0;
        double r0 = c0 * net->b[l][0] - p->f[i], mm = 0.0;
        const double *w = S->dirw + (size_t)i * K;
        for (j = 0; j < n; ++j) {
            double mv = 0.0;
            for (k = 0; k < K; ++k) mv += w[k] * Dn[(size_t)k * n + j];
            r0 += W[j] * (c0 * P->s0[j] + P->s1[j] * mv + ka * (P->s2[j] * P->Sv[j] + P->s1[j] * tq[j]));
            P->tmp[j] = ka * W[j] * P->s1[j];
            mm += P->tmp[j] * P->tmp[j];
        }
        if (!(wg + mm > 0.0)) return;
        for (j = 0; j < n; ++j) q[j] = tq[j] - P->tmp[j] * r0 / (wg + mm);
    }
}

/* One auxiliary sweep over the hidden layers l = 1..L-1. */
static void sapm__lysep_sweep(sapm__lysep *S)
{
    sapm__lysep_pt P;
    int l, i, L = S->L;
    sapm__lysep_pt_init(S, &P);
    for (l = 1; l < L; ++l) {
        int n = S->net->widths[l], hasq = S->second && l >= 2;
        sapm__lysep_push(S, l, l > 1 ? S->A[l - 1] : NULL, l > 1 ? S->D[l - 1] : NULL,
                         l > 2 ? S->Q[l - 1] : NULL, S->TA, S->TD, hasq ? S->TQ : NULL);
        if (l < L - 1)
            sapm_syrk(SAPM_TRANS, n, S->net->widths[l + 1], 1.0, S->net->W[l], n, 0.0, S->G, n);
        for (i = 0; i < S->N; ++i) {
            sapm__lysep_step_a(S, &P, l, i);
            sapm__lysep_step_d(S, &P, l, i);
            if (hasq) sapm__lysep_step_q(S, &P, l, i);
        }
        for (i = S->N; i < S->R; ++i) sapm__lysep_step_a_b(S, &P, l, i);
    }
}

/* Max |aux - forward| over values and derivatives (the trace's gaps). */
static void sapm__lysep_gaps(const sapm__lysep *S, double *vg, double *dg)
{
    int l;
    double v = 0.0, dd = 0.0;
    for (l = 1; l < S->L; ++l) {
        size_t n = (size_t)S->net->widths[l], j;
        for (j = 0; j < (size_t)S->R * n; ++j) v = SAPM__MAX(v, fabs(S->A[l][j] - S->Z[l][j]));
        for (j = 0; j < (size_t)S->N * S->K * n; ++j) dd = SAPM__MAX(dd, fabs(S->D[l][j] - S->DZ[l][j]));
    }
    *vg = v;
    *dg = dd;
}

/* Set the auxiliaries to the forward pass (zero constraint residuals). */
static void sapm__lysep_aux_from_forward(sapm__lysep *S)
{
    int l;
    for (l = 1; l < S->L; ++l) {
        size_t n = (size_t)S->net->widths[l];
        memcpy(S->A[l], S->Z[l], (size_t)S->R * n * sizeof(double));
        memcpy(S->D[l], S->DZ[l], (size_t)S->N * S->K * n * sizeof(double));
        if (S->Q[l]) memcpy(S->Q[l], S->QZ[l], (size_t)S->N * n * sizeof(double));
    }
}

static void sapm__lysep_trace_push(sapm_lysep_trace *tr, int iter, const sapm__lysep *S, double jaux,
                                   double jpinn)
{
    double vg, dg;
    int t;
    if (!tr || tr->count < 0 || tr->count >= tr->capacity) return;
    sapm__lysep_gaps(S, &vg, &dg);
    t = tr->count++;
    if (tr->iter) tr->iter[t] = iter;
    if (tr->value_gap) tr->value_gap[t] = vg;
    if (tr->deriv_gap) tr->deriv_gap[t] = dg;
    if (tr->j_aux) tr->j_aux[t] = jaux;
    if (tr->j_pinn) tr->j_pinn[t] = jpinn;
}

/* Argument checks shared by both methods. */
static sapm_result sapm__lysep_check(const sapm_net *net, const sapm__pde_data *p,
                                     const sapm_pde_options *opt, int second)
{
    const sapm_lysep_options *lo;
    double K2, K3;
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (!p || !opt) return SAPM_ERR_NULL_ARGUMENT;
    if (net->depth < 2 || net->widths[net->depth] != 1) return SAPM_ERR_UNSUPPORTED;
    if (net->widths[0] != p->d || p->d < 1 || p->N < 1 || p->M < 0) return SAPM_ERR_SIZE_MISMATCH;
    sapm__lysep_act_bounds(net->act, &K2, &K3);
    if (K2 < 0.0) return SAPM_ERR_UNSUPPORTED;             /* ReLU: no sigma'' */
    if (second && !p->kappa) return SAPM_ERR_UNSUPPORTED;  /* LySep needs a Laplacian term */
    if (!second && (p->kappa || !p->c)) return SAPM_ERR_UNSUPPORTED; /* SAPM-PINN: first order */
    if (!p->X || !p->f || (p->M > 0 && (!p->Xb || !p->g))) return SAPM_ERR_NULL_ARGUMENT;
    lo = &opt->lysep;
    if ((int)lo->weighting < 0 || lo->weighting > SAPM_LYSEP_WEIGHTS_FIXED) return SAPM_ERR_INVALID_ARGUMENT;
    if (lo->weighting == SAPM_LYSEP_WEIGHTS_FIXED && !(lo->fixed_weight > 0.0 && isfinite(lo->fixed_weight)))
        return SAPM_ERR_INVALID_ARGUMENT;
    if (lo->inner_sweeps < 1 || lo->halvings < 0 || lo->halvings > 60 || lo->polish_iters < 0)
        return SAPM_ERR_INVALID_ARGUMENT;
    if (!(lo->prox >= 0.0) || !isfinite(lo->prox) || !(lo->polish_after >= 0.0)) return SAPM_ERR_INVALID_ARGUMENT;
    if (!(lo->ridge >= 0.0) || !isfinite(lo->ridge)) return SAPM_ERR_INVALID_ARGUMENT;
    if (opt->base.max_iters < 1) return SAPM_ERR_INVALID_ARGUMENT;
    if (lo->trace && (lo->trace->capacity < 0)) return SAPM_ERR_INVALID_ARGUMENT;
    return SAPM_OK;
}

/* Polish (ours): L-BFGS on J_PINN of the forward network through pinn's exact gradient. */
typedef struct sapm__lysep_polish_ctx {
    sapm__pinn_tape *tape;
    sapm_net *net;
    const sapm__pde_data *p;
    const double *u_test;
    int n_test;
    const double *X_test;
} sapm__lysep_polish_ctx;

static sapm_result sapm__lysep_polish_fn(void *ctx, const double *x, double *f, double *grad)
{
    sapm__lysep_polish_ctx *c = (sapm__lysep_polish_ctx *)ctx;
    memcpy(c->net->params, x, c->net->n_params * sizeof(double));
    return sapm__pinn_objective(c->tape, c->net, c->p, f, grad, NULL, NULL);
}

static sapm_result sapm__lysep_polish_monitor(void *ctx, const double *x, double f, double *mse,
                                              double *error)
{
    sapm__lysep_polish_ctx *c = (sapm__lysep_polish_ctx *)ctx;
    *mse = f;
    *error = NAN;
    if (c->n_test > 0 && c->u_test) {
        memcpy(c->net->params, x, c->net->n_params * sizeof(double));
        return sapm__pde_errors(c->net, c->n_test, c->X_test, c->u_test, error, NULL);
    }
    return SAPM_OK;
}

/* Relative L2 error on the held-out points, NaN when there are none. */
static double sapm__lysep_test_error(const sapm_net *net, const sapm_pde_options *opt, const double *u_test)
{
    double e = NAN;
    if (opt->n_test > 0 && u_test && opt->X_test)
        if (sapm__pde_errors(net, opt->n_test, opt->X_test, u_test, &e, NULL) != SAPM_OK) e = NAN;
    return e;
}

/* The alternating SAPM-PINN / LySep loop (see the section notes), then the optional polish. */
static sapm_result sapm__lysep_run(sapm_net *net, const sapm__pde_data *p, const sapm_pde_options *opt,
                                   const double *u_test, sapm_report *rep, int second)
{
    sapm__lysep S;
    sapm__trainer tr;
    sapm_result res = sapm__lysep_check(net, p, opt, second), status = SAPM_OK;
    sapm_stop_reason stop = SAPM_STOP_NONE;
    const sapm_lysep_options *lo;
    double jp, ja, err, hist[10];
    int it = 0, l, s;
    if (rep) memset(rep, 0, sizeof *rep);
    if (res != SAPM_OK) { if (rep) rep->status = res; return res; }
    lo = &opt->lysep;
    res = sapm__lysep_alloc(&S, net, p, second);
    if (res != SAPM_OK) { if (rep) rep->status = res; return res; }
    S.weighting = lo->weighting;
    S.fixed_weight = lo->fixed_weight;
    S.ridge = lo->ridge;
    S.prox = lo->prox;
    S.halvings = lo->halvings;
    if (lo->trace) lo->trace->count = 0;
    sapm__trainer_begin(&tr, &opt->base, SAPM_METHOD_SAPM, rep);
    jp = sapm__lysep_forward(&S);
    sapm__lysep_aux_from_forward(&S);
    sapm__lysep_weights(&S);
    ja = sapm__lysep_jaux(&S);
    memcpy(S.old, net->params, net->n_params * sizeof(double));
    sapm__lysep_trace_push(lo->trace, 0, &S, ja, jp);
    err = sapm__lysep_test_error(net, opt, u_test);
    stop = sapm__trainer_step(&tr, 0, jp, ja, err, 1);
    for (l = 0; l < 10; ++l) hist[l] = jp;
    while (stop == SAPM_STOP_NONE) {
        ++it;
        /* 1-2. weights, then the weight blocks l = L..1 */
        sapm__lysep_weights(&S);
        for (l = S.L; l >= 1 && res == SAPM_OK; --l) res = sapm__lysep_update_W(&S, &opt->base, l);
        if (res != SAPM_OK) break;
        /* 3. auxiliary sweeps, with weights of the new W */
        for (s = 0; s < lo->inner_sweeps; ++s) {
            sapm__lysep_weights(&S);
            sapm__lysep_sweep(&S);
        }
        /* 4. the true loss of the forward network and J_aux */
        jp = sapm__lysep_forward(&S);
        ja = sapm__lysep_jaux(&S);
        if (!isfinite(jp) || !isfinite(ja)) {
            memcpy(net->params, S.old, net->n_params * sizeof(double));
            stop = SAPM_STOP_DIVERGED;
            status = SAPM_ERR_DIVERGED;
            jp = sapm__lysep_forward(&S);
            break;
        }
        memcpy(S.old, net->params, net->n_params * sizeof(double));
        sapm__lysep_trace_push(lo->trace, it, &S, ja, jp);
        err = sapm__trainer_logs(&tr, it) ? sapm__lysep_test_error(net, opt, u_test) : NAN;
        stop = sapm__trainer_step(&tr, it, jp, ja, err, 0);
        /* hand over to the polish when J_PINN stagnates */
        if (stop == SAPM_STOP_NONE && lo->polish_iters > 0 && lo->polish_after > 0.0 && it >= 10 &&
            hist[it % 10] - jp <= lo->polish_after * hist[it % 10])
            break;
        hist[it % 10] = jp;
    }
    if (res != SAPM_OK) {
        memcpy(net->params, S.old, net->n_params * sizeof(double));
        jp = sapm__lysep_forward(&S);
        status = res;
        stop = SAPM_STOP_ERROR;
    }
    sapm__lysep_free(&S);
    /* optional polish: L-BFGS on J_PINN (ours), unless the user stopped or the run failed */
    if (status == SAPM_OK && lo->polish_iters > 0 &&
        (stop == SAPM_STOP_NONE || stop == SAPM_STOP_MAX_ITERS)) {
        sapm__pinn_tape tape;
        sapm__lysep_polish_ctx ctx;
        sapm_options po = opt->base;
        sapm_report prep;
        double t_used = sapm__trainer_elapsed(&tr);
        memset(&prep, 0, sizeof prep);
        po.max_iters = lo->polish_iters;
        if (po.time_budget > 0.0) po.time_budget = SAPM__MAX(po.time_budget - t_used, 1e-3);
        po.progress = NULL;
        double *xbuf = (double *)sapm__alloc(net->n_params, sizeof(double));
        res = xbuf ? sapm__pinn_tape_init(&tape, net, p, SAPM__MAX(p->N, p->M)) : SAPM_ERR_OUT_OF_MEMORY;
        if (res == SAPM_OK) {
            /* the minimiser owns xbuf; net->params is only the evaluation point */
            memcpy(xbuf, net->params, net->n_params * sizeof(double));
            ctx.tape = &tape; ctx.net = net; ctx.p = p; ctx.u_test = u_test;
            ctx.n_test = opt->n_test; ctx.X_test = opt->X_test;
            res = sapm__minimize(SAPM_METHOD_LS_LBFGS, sapm__lysep_polish_fn,
                                 sapm__lysep_polish_monitor, &ctx, xbuf, net->n_params, &po, &prep);
            memcpy(net->params, xbuf, net->n_params * sizeof(double));
            sapm__pinn_tape_free(&tape);
            if (res == SAPM_OK || res == SAPM_ERR_DIVERGED) {
                int h;
                /* append the polish history after the alternating phase's */
                for (h = 1; h < prep.history_count; ++h) {
                    sapm_progress e = prep.history[h];
                    int logit = h == prep.history_count - 1 || sapm__trainer_logs(&tr, it + e.iter);
                    e.iter += it;
                    if (!logit) continue;
                    e.seconds += t_used;
                    e.loss = e.mse;
                    e.method = SAPM_METHOD_SAPM;
                    if (rep && sapm__report_push(rep, &e) != SAPM_OK) res = SAPM_ERR_OUT_OF_MEMORY;
                    if (opt->base.progress && opt->base.progress(&e, opt->base.user_data)) break;
                }
                it += prep.iters;
                jp = prep.mse;
                ja = prep.mse;
                stop = prep.stop;
                tr.last_logged = it;
                if (res != SAPM_OK) status = res;
            } else {
                status = res;
                stop = SAPM_STOP_ERROR;
            }
            sapm_report_free(&prep);
        } else {
            status = res;
            stop = SAPM_STOP_ERROR;
        }
        if (xbuf) SAPM_FREE(xbuf);
    }
    err = sapm__lysep_test_error(net, opt, u_test);
    sapm__trainer_end(&tr, it, jp, ja, err, stop, status);
    return status;
}

static sapm_result sapm__pde_train_sapm(sapm_net *net, const sapm__pde_data *p, const sapm_pde_options *opt,
                                        const double *u_test, sapm_report *rep)
{
    return sapm__lysep_run(net, p, opt, u_test, rep, 0);
}

static sapm_result sapm__pde_train_lysep(sapm_net *net, const sapm__pde_data *p, const sapm_pde_options *opt,
                                         const double *u_test, sapm_report *rep)
{
    return sapm__lysep_run(net, p, opt, u_test, rep, 1);
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
