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
 * Declarations: output (PNG heatmaps and loss plots, CSV)
 *
 *   sapm_png_heatmap(path, nx, ny, values, vmin, vmax, title)      one field + colour bar
 *   sapm_png_heatmaps(path, count, nx, ny, fields, titles)        panels side by side
 *   sapm_png_heatmaps_ex(path, count, nx, ny, fields, titles, &o)  ... with axes, ranges
 *   sapm_heatmap_grid(nx, ny, x0, x1, y0, y1, X)                  the points of a heatmap
 *   sapm_png_plot(path, n_series, series, title, xlabel, ylabel, log_y)   line plot
 *   sapm_png_plot_history(path, n, reports, labels, x, y, title)  loss curves of runs
 *   sapm_render_heatmaps, sapm_render_plot                        the same, into memory
 *   sapm_png_write(path, &img), sapm_image_free(&img)             any RGB image
 *   sapm_viridis(t, rgb)                                          the colour map
 *   sapm_csv_write_history(path, n, reports, labels)              histories, one row each
 *   sapm_csv_write_grid(path, nx, ny, x0, x1, y0, y1, pred, exact)  x,y,prediction,exact,error
 *
 * PNG files are encoded by stb_image_write (public domain; Debian/Ubuntu libstb-dev),
 * compiled privately (static, SAPM_MALLOC/SAPM_FREE) into the implementation. It is found
 * by __has_include(<stb/stb_image_write.h>) where the compiler has __has_include; elsewhere
 * define SAPM_HAVE_STB. SAPM_STB_IMAGE_WRITE_INCLUDE names another place (e.g. define it
 * as "stb_image_write.h"; SAPM_HAVE_STB is then needed too). Without it, or under
 * SAPM_NO_PNG / SAPM_NO_STDIO, every sapm_png_* function returns SAPM_ERR_NOT_COMPILED_IN
 * at once (the render functions always work); under SAPM_NO_STDIO the CSV writers do too.
 * A file that defines SAPM_IMPLEMENTATION and also includes stb_image_write.h must include
 * it first: sapm.h then uses that copy (and its compressor; sapm's own copy compresses
 * with sapm's OOM-safe deflate). Out of memory gives SAPM_ERR_OUT_OF_MEMORY; when the very
 * last allocation of stb_image_write (1.16) fails, stb leaks the compressed buffer.
 *
 * Grids: a field is ny rows of nx values, row 0 at the top (y = y1), column 0 at the
 * left (x = x0): values[j * nx + i] is the value at (x_i, y_j) of sapm_heatmap_grid.
 * Non-finite values are drawn in grey; the automatic colour range uses the finite ones.
 * ====================================================================================== */

/* An 8-bit RGB picture in memory, row 0 at the top; rgb holds 3 * width * height bytes,
 * allocated by the render functions and freed by sapm_image_free. */
typedef struct sapm_image {
    int width, height;
    unsigned char *rgb;
} sapm_image;

SAPMDEF void sapm_image_free(sapm_image *img);   /* safe on a zeroed image or NULL */

/* Viridis colour map (perceptually uniform; van der Walt and Smith, matplotlib's default)
 * at t in [0, 1] (clamped): t = 0 is #440154, t = 1 is #FDE725. NaN gives grey. */
SAPMDEF void sapm_viridis(double t, unsigned char rgb[3]);

/* The nx * ny points of a heatmap grid over [x0, x1] x [y0, y1], in field order (row 0 =
 * top): X[2k] = x_i = x0 + i (x1 - x0) / (nx - 1), X[2k + 1] = y_j = y1 - j (y1 - y0) /
 * (ny - 1), k = j nx + i (a size of 1 gives x0, resp. y0). X holds 2 nx ny doubles:
 * evaluate u on it and pass the result as the field. Needs x0 < x1, y0 < y1, finite. */
SAPMDEF sapm_result sapm_heatmap_grid(int nx, int ny, double x0, double x1, double y0,
                                      double y1, double *X);

/* Heatmap options; all zero is the default (ours). */
typedef struct sapm_heatmap_options {
    double x0, x1, y0, y1;     /* the grid's domain (as in sapm_heatmap_grid): axes with ticks
                                  when x0 < x1 and y0 < y1; otherwise no axes */
    const char *xlabel, *ylabel;   /* axis names (NULL: none) */
    const char *title;         /* figure title above all panels (NULL: none) */
    const double *vmin, *vmax; /* count entries each, or NULL: colour range of field k is
                                  [vmin[k], vmax[k]] when vmin[k] < vmax[k] (values outside
                                  are clamped), else the field's own finite min..max */
    int panel_size;            /* each image has the area of a panel_size^2 square, 0 = 320 */
    int bilinear;              /* 0: nearest (each grid cell a block), 1: bilinear */
} sapm_heatmap_options;

/* Draws count fields side by side (e.g. prediction | exact | |error|), each with its own
 * colour bar labelled with its range, its title (titles or titles[k] may be NULL) and the
 * options' axes. Errors: NULL img/fields/fields[k]; count, nx, ny <= 0 or count > 16 or
 * nx, ny > 100000, panel_size < 0 or > 4096 (SAPM_ERR_INVALID_SIZE); a field without a
 * finite value, a non-finite range or domain (SAPM_ERR_NONFINITE_INPUT); a given range
 * narrower than 1e-290 (SAPM_ERR_INVALID_ARGUMENT). opt may be NULL (defaults). */
SAPMDEF sapm_result sapm_render_heatmaps(sapm_image *img, int count, int nx, int ny,
                                         const double *const *fields,
                                         const char *const *titles,
                                         const sapm_heatmap_options *opt);
SAPMDEF sapm_result sapm_png_heatmaps_ex(const char *path, int count, int nx, int ny,
                                         const double *const *fields,
                                         const char *const *titles,
                                         const sapm_heatmap_options *opt);
/* The same with default options: each field its own range, no axes. */
SAPMDEF sapm_result sapm_png_heatmaps(const char *path, int count, int nx, int ny,
                                      const double *const *fields, const char *const *titles);
/* One field; colour range [vmin, vmax], or automatic when vmin >= vmax (both must be
 * finite). */
SAPMDEF sapm_result sapm_png_heatmap(const char *path, int nx, int ny, const double *values,
                                     double vmin, double vmax, const char *title);

/* One line of a plot: count points (x[i], y[i]); x NULL means x = 0, 1, ..., count - 1.
 * Points with a non-finite coordinate (or y <= 0 on a log axis) are skipped and break
 * the line. label NULL leaves the series out of the legend. */
typedef struct sapm_plot_series {
    const char *label;
    int count;
    const double *x;
    const double *y;
} sapm_plot_series;

/* Line-plot options; all zero is the default (ours). */
typedef struct sapm_plot_options {
    const char *title, *xlabel, *ylabel;   /* NULL: none */
    int log_y;                 /* nonzero: log10 y axis, decades labelled 1e-3, 1e-2, ...
                                  (at least two decade ticks shown) */
    int width, height;         /* picture size in pixels, 0 = 800 x 520 (min 200 x 150) */
} sapm_plot_options;

/* Draws the series (distinct colours, legend in a corner free of data, else to the right
 * of the axes), ticks and grid lines, linear x. Errors: NULL img/series/series[k].y,
 * n_series <= 0 or > 64, a count <= 0, a size out of range (SAPM_ERR_INVALID_SIZE), no
 * plottable point at all (SAPM_ERR_NONFINITE_INPUT). opt may be NULL. */
SAPMDEF sapm_result sapm_render_plot(sapm_image *img, int n_series,
                                     const sapm_plot_series *series,
                                     const sapm_plot_options *opt);
SAPMDEF sapm_result sapm_png_plot(const char *path, int n_series, const sapm_plot_series *series,
                                  const char *title, const char *xlabel, const char *ylabel,
                                  int log_y);

/* What sapm_png_plot_history puts on an axis. */
typedef enum sapm_history_field {
    SAPM_FIELD_ITER = 0,       /* sapm_progress.iter */
    SAPM_FIELD_SECONDS,        /* .seconds */
    SAPM_FIELD_MSE,            /* .mse: true loss of the forward network */
    SAPM_FIELD_LOSS,           /* .loss: the method's own loss */
    SAPM_FIELD_ERROR           /* .error: held-out error */
} sapm_history_field;

/* Log-y plot of field y against field x of each report's history (one series per report,
 * labels[k] or the method's name as its legend entry; labels may be NULL). A report with an
 * empty history is left out (SAPM_ERR_INVALID_SIZE if all are). */
SAPMDEF sapm_result sapm_png_plot_history(const char *path, int n_reports,
                                          const sapm_report *const *reports,
                                          const char *const *labels, sapm_history_field x,
                                          sapm_history_field y, const char *title);

/* Encodes img as an 8-bit RGB PNG file. SAPM_ERR_IO when the file cannot be written;
 * SAPM_ERR_INVALID_SIZE for sides over 65535 or more than about 1 GiB of pixels. */
SAPMDEF sapm_result sapm_png_write(const char *path, const sapm_image *img);

/* CSV (header line, comma-separated, numbers in the shortest form that reads back to the
 * same double, NaN as "nan"). History: columns label,iter,seconds,mse,loss,error, one row
 * per history entry of each report (long format); labels (or labels[k]) NULL gives the
 * method's name (else "run<k>"); labels with commas or quotes are quoted. Errors: NULL
 * path/reports/reports[k] (or its history), n_reports <= 0, a negative history_count. */
SAPMDEF sapm_result sapm_csv_write_history(const char *path, int n_reports,
                                           const sapm_report *const *reports,
                                           const char *const *labels);
/* Grid: columns x,y,prediction,exact,error (error = prediction - exact), one row per grid
 * point in field order (see sapm_heatmap_grid, same domain rules); exact NULL writes
 * x,y,prediction only. */
SAPMDEF sapm_result sapm_csv_write_grid(const char *path, int nx, int ny, double x0, double x1,
                                        double y0, double y1, const double *prediction,
                                        const double *exact);

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

/* ======================================================================================
 * Implementation: output (PNG, CSV)
 *
 * Pictures are drawn into a sapm_image with a few primitives (filled rectangles,
 * anti-aliased polylines through a coverage buffer, a 5x7 bitmap font drawn at 2x) and
 * encoded by stb_image_write. Layout constants are in pixels.
 * ====================================================================================== */

#if !defined(SAPM_HAVE_STB) && !defined(SAPM_NO_PNG) && !defined(SAPM_NO_STDIO) && defined(__has_include)
#if __has_include(<stb/stb_image_write.h>)
#define SAPM_HAVE_STB 1
#endif
#endif

#if defined(SAPM_HAVE_STB) && !defined(SAPM_NO_PNG) && !defined(SAPM_NO_STDIO)
#define SAPM__PNG 1
#if !defined(INCLUDE_STB_IMAGE_WRITE_H) && !defined(STB_IMAGE_WRITE_IMPLEMENTATION)

/* zlib stream (RFC 1950/1951) for stb_image_write's IDAT: one fixed-Huffman block, LZ77
 * matches found through hash chains (3-byte hash, 32 KiB window, 16 candidates). Its two
 * allocations are made up front (output at its worst-case size), so running out of memory
 * returns NULL cleanly; stb's own compressor asserts when its buffers cannot grow. */
typedef struct sapm__bits { unsigned char *p; uint32_t acc; int n; } sapm__bits;

static void sapm__put_bits(sapm__bits *b, uint32_t v, int n)   /* LSB first */
{
    b->acc |= v << b->n;
    for (b->n += n; b->n >= 8; b->n -= 8, b->acc >>= 8) *b->p++ = (unsigned char)b->acc;
}

static void sapm__put_code(sapm__bits *b, uint32_t code, int n) /* Huffman codes: MSB first */
{
    uint32_t r = 0;
    int k;
    for (k = 0; k < n; ++k) r |= ((code >> k) & 1u) << (n - 1 - k);
    sapm__put_bits(b, r, n);
}

static void sapm__put_litlen(sapm__bits *b, int c)              /* fixed code, RFC 1951 3.2.6 */
{
    if (c < 144) sapm__put_code(b, 0x30u + (uint32_t)c, 8);
    else if (c < 256) sapm__put_code(b, 0x190u + (uint32_t)(c - 144), 9);
    else if (c < 280) sapm__put_code(b, (uint32_t)(c - 256), 7);
    else sapm__put_code(b, 0xC0u + (uint32_t)(c - 280), 8);
}

static unsigned char *sapm__zlib(unsigned char *data, int len, int *out_len, int quality)
{
    static const unsigned short lbase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23,
        27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const unsigned short dbase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97,
        129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    enum { WIN = 32768, HASH = 32768, DEPTH = 16 };
    /* worst case 9 bits per byte (literals; a match costs at most 25 bits for 3 bytes) */
    size_t cap = (size_t)(len > 0 ? len : 0) * 3 / 2 + 32;
    unsigned char *out = (unsigned char *)SAPM_MALLOC(cap);
    int *head = (int *)SAPM_MALLOC((size_t)(HASH + WIN) * sizeof(int)), *prev;
    uint32_t s1 = 1, s2 = 0;
    sapm__bits b;
    int i, k;
    (void)quality;
    if (!out || !head || len < 0) {
        if (out) SAPM_FREE(out);
        if (head) SAPM_FREE(head);
        return NULL;
    }
    prev = head + HASH;
    for (k = 0; k < HASH; ++k) head[k] = -WIN - 1;
    b.p = out; b.acc = 0; b.n = 0;
    *b.p++ = 0x78; *b.p++ = 0x5E;                 /* deflate, 32 KiB window; check bits */
    sapm__put_bits(&b, 1, 1);                     /* final block */
    sapm__put_bits(&b, 1, 2);                     /* fixed Huffman codes */
    for (i = 0; i < len;) {
        int best = 0, dist = 0, h, c, depth = DEPTH;
        if (i + 3 <= len) {
            h = (int)(((uint32_t)data[i] << 10 ^ (uint32_t)data[i + 1] << 5 ^ data[i + 2]) & (HASH - 1));
            for (c = head[h]; i - c <= WIN - 1 && depth-- > 0; c = prev[c & (WIN - 1)]) {
                int n = 0, lim = SAPM__MIN(258, len - i);
                while (n < lim && data[c + n] == data[i + n]) ++n;
                if (n > best) { best = n; dist = i - c; if (n == lim) break; }
            }
        }
        if (best < 3) {
            sapm__put_litlen(&b, data[i]);
            best = 1;
        } else {
            for (k = 28; lbase[k] > best; --k) {}
            sapm__put_litlen(&b, 257 + k);
            if (k >= 8 && k < 28) sapm__put_bits(&b, (uint32_t)(best - lbase[k]), (k - 4) / 4);
            for (k = 29; dbase[k] > dist; --k) {}
            sapm__put_code(&b, (uint32_t)k, 5);
            if (k >= 4) sapm__put_bits(&b, (uint32_t)(dist - dbase[k]), (k - 2) / 2);
        }
        for (k = 0; k < best; ++k, ++i) {         /* chain every position passed */
            if (i + 3 <= len) {
                h = (int)(((uint32_t)data[i] << 10 ^ (uint32_t)data[i + 1] << 5 ^ data[i + 2]) & (HASH - 1));
                prev[i & (WIN - 1)] = head[h];
                head[h] = i;
            }
        }
    }
    sapm__put_litlen(&b, 256);                    /* end of block */
    if (b.n > 0) sapm__put_bits(&b, 0, 8 - b.n);
    for (i = 0; i < len;) {                       /* Adler-32, in runs that cannot overflow */
        int end = SAPM__MIN(len, i + 5552);
        for (; i < end; ++i) { s1 += data[i]; s2 += s1; }
        s1 %= 65521u; s2 %= 65521u;
    }
    for (k = 24; k >= 0; k -= 8) *b.p++ = (unsigned char)(((s2 << 16) | s1) >> k);
    *out_len = (int)(b.p - out);
    SAPM_FREE(head);
    return out;
}

/* A private copy: static functions (no clash with the user's own copy elsewhere), our
 * allocator and compressor. Its file-scope settings (flip flag etc.) are never changed. */
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ZLIB_COMPRESS sapm__zlib
#define STBIW_MALLOC(sz) SAPM_MALLOC(sz)
#define STBIW_REALLOC(p, sz) SAPM_REALLOC(p, sz)
#define STBIW_FREE(p) SAPM_FREE(p)
#define STBIW_ASSERT(x) SAPM_ASSERT(x)
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#ifdef SAPM_STB_IMAGE_WRITE_INCLUDE
#include SAPM_STB_IMAGE_WRITE_INCLUDE
#else
#include <stb/stb_image_write.h>
#endif
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#undef STB_IMAGE_WRITE_STATIC
#undef STBIW_ZLIB_COMPRESS
#undef STBIW_MALLOC
#undef STBIW_REALLOC
#undef STBIW_FREE
#undef STBIW_ASSERT
#endif
#else
#define SAPM__PNG 0
#endif

/* ---- colours and the colour map ---- */

#define SAPM__WHITE   0xFFFFFFu
#define SAPM__INK     0x222222u   /* text, frames, ticks */
#define SAPM__GRID    0xE3E3E3u
#define SAPM__GRID2   0xF3F3F3u   /* minor (log) grid */
#define SAPM__NAN_RGB 0xBDBDBDu   /* non-finite values */

/* Viridis sampled at t = k/64 (k = 0..64) from matplotlib's 256-entry table (CC0, van der
 * Walt and Smith); linear interpolation between these nodes stays within 0.53 of one
 * 8-bit level of the full table. */
static const uint32_t sapm__viridis_rgb[65] = {
    0x440154, 0x46065A, 0x470D60, 0x471365, 0x48186A, 0x481D6F, 0x482374, 0x482878,
    0x472D7B, 0x46327E, 0x453681, 0x443B84, 0x424086, 0x404587, 0x3F4989, 0x3D4E8A,
    0x3B528B, 0x39568C, 0x375A8D, 0x355E8D, 0x33638D, 0x31668E, 0x2F6A8E, 0x2E6E8E,
    0x2C728E, 0x2B768E, 0x297A8E, 0x287D8E, 0x26818E, 0x25858E, 0x23898E, 0x228C8D,
    0x21908C, 0x20948C, 0x1F988B, 0x1E9B8A, 0x1F9F88, 0x20A387, 0x21A685, 0x24AA83,
    0x28AE80, 0x2CB17E, 0x31B57B, 0x37B877, 0x3EBC74, 0x45BF70, 0x4CC26C, 0x54C667,
    0x5DC963, 0x65CC5D, 0x6ECE58, 0x78D152, 0x82D34C, 0x8CD646, 0x96D83F, 0xA0DA39,
    0xABDC32, 0xB5DE2B, 0xC0DF24, 0xCBE11F, 0xD5E21A, 0xE0E318, 0xEAE51A, 0xF4E61E,
    0xFDE725
};

/* Ten distinct line colours (matplotlib's tab10, colour-blind-safe in its first six). */
static const uint32_t sapm__series_rgb[10] = {
    0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD,
    0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF
};

SAPMDEF void sapm_viridis(double t, unsigned char rgb[3])
{
    double x, f;
    int k, c;
    if (!rgb) return;
    if (t != t) {
        rgb[0] = rgb[1] = rgb[2] = (unsigned char)(SAPM__NAN_RGB & 0xFF);
        return;
    }
    x = (t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t) * 64.0;
    k = (int)x;
    if (k > 63) k = 63;
    f = x - k;
    for (c = 0; c < 3; ++c) {
        int sh = 16 - 8 * c;
        double a = (double)((sapm__viridis_rgb[k] >> sh) & 0xFF);
        double b = (double)((sapm__viridis_rgb[k + 1] >> sh) & 0xFF);
        rgb[c] = (unsigned char)(a + f * (b - a) + 0.5);
    }
}

/* ---- raster primitives ---- */

SAPMDEF void sapm_image_free(sapm_image *img)
{
    if (!img) return;
    if (img->rgb) SAPM_FREE(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

static sapm_result sapm__image_new(sapm_image *img, int w, int h)
{
    img->width = w;
    img->height = h;
    img->rgb = (unsigned char *)sapm__alloc((size_t)w * (size_t)h, 3);
    if (!img->rgb) {
        img->width = img->height = 0;
        return SAPM_ERR_OUT_OF_MEMORY;
    }
    memset(img->rgb, 0xFF, (size_t)w * (size_t)h * 3);
    return SAPM_OK;
}

/* The rectangle [x0, x1) x [y0, y1), clipped to the image. */
static void sapm__fill(sapm_image *im, int x0, int y0, int x1, int y1, uint32_t c)
{
    int x, y;
    x0 = SAPM__MAX(x0, 0); y0 = SAPM__MAX(y0, 0);
    x1 = SAPM__MIN(x1, im->width); y1 = SAPM__MIN(y1, im->height);
    for (y = y0; y < y1; ++y)
        for (x = x0; x < x1; ++x) {
            unsigned char *p = im->rgb + 3 * ((size_t)y * (size_t)im->width + (size_t)x);
            p[0] = (unsigned char)(c >> 16); p[1] = (unsigned char)(c >> 8); p[2] = (unsigned char)c;
        }
}

/* One-pixel outline of [x0, x1) x [y0, y1). */
static void sapm__frame(sapm_image *im, int x0, int y0, int x1, int y1, uint32_t c)
{
    sapm__fill(im, x0, y0, x1, y0 + 1, c);
    sapm__fill(im, x0, y1 - 1, x1, y1, c);
    sapm__fill(im, x0, y0, x0 + 1, y1, c);
    sapm__fill(im, x1 - 1, y0, x1, y1, c);
}

/* pixel = (1 - a) pixel + a c */
static void sapm__blend(sapm_image *im, int x, int y, uint32_t c, double a)
{
    unsigned char *p;
    int k;
    if (x < 0 || y < 0 || x >= im->width || y >= im->height || !(a > 0.0)) return;
    if (a > 1.0) a = 1.0;
    p = im->rgb + 3 * ((size_t)y * (size_t)im->width + (size_t)x);
    for (k = 0; k < 3; ++k) {
        double v = (double)((c >> (16 - 8 * k)) & 0xFF);
        p[k] = (unsigned char)((double)p[k] + a * (v - (double)p[k]) + 0.5);
    }
}

/* ---- text: 5x7 font (descenders of g j p q y in an 8th row), ASCII 32..126, one byte
 *      per column (bit 0 = top row), drawn at 2x: 10 x 14 pixels per glyph (16 with a
 *      descender), 12 pixels advance ---- */

enum { SAPM__FONT_SCALE = 2, SAPM__GLYPH_H = 7 * SAPM__FONT_SCALE, SAPM__ADVANCE = 6 * SAPM__FONT_SCALE };

static const unsigned char sapm__font5x7[95][5] = {
    {0x00,0x00,0x00,0x00,0x00}, {0x00,0x00,0x5F,0x00,0x00}, {0x00,0x07,0x00,0x07,0x00}, /*  !" */
    {0x14,0x7F,0x14,0x7F,0x14}, {0x24,0x2A,0x7F,0x2A,0x12}, {0x23,0x13,0x08,0x64,0x62}, /* #$% */
    {0x36,0x49,0x55,0x22,0x50}, {0x00,0x05,0x03,0x00,0x00}, {0x00,0x1C,0x22,0x41,0x00}, /* &'( */
    {0x00,0x41,0x22,0x1C,0x00}, {0x14,0x08,0x3E,0x08,0x14}, {0x08,0x08,0x3E,0x08,0x08}, /* )*+ */
    {0x00,0x50,0x30,0x00,0x00}, {0x08,0x08,0x08,0x08,0x08}, {0x00,0x60,0x60,0x00,0x00}, /* ,-. */
    {0x20,0x10,0x08,0x04,0x02}, {0x3E,0x51,0x49,0x45,0x3E}, {0x00,0x42,0x7F,0x40,0x00}, /* /01 */
    {0x42,0x61,0x51,0x49,0x46}, {0x21,0x41,0x45,0x4B,0x31}, {0x18,0x14,0x12,0x7F,0x10}, /* 234 */
    {0x27,0x45,0x45,0x45,0x39}, {0x3C,0x4A,0x49,0x49,0x30}, {0x01,0x71,0x09,0x05,0x03}, /* 567 */
    {0x36,0x49,0x49,0x49,0x36}, {0x06,0x49,0x49,0x29,0x1E}, {0x00,0x36,0x36,0x00,0x00}, /* 89: */
    {0x00,0x56,0x36,0x00,0x00}, {0x08,0x14,0x22,0x41,0x00}, {0x14,0x14,0x14,0x14,0x14}, /* ;<= */
    {0x00,0x41,0x22,0x14,0x08}, {0x02,0x01,0x51,0x09,0x06}, {0x32,0x49,0x79,0x41,0x3E}, /* >?@ */
    {0x7E,0x11,0x11,0x11,0x7E}, {0x7F,0x49,0x49,0x49,0x36}, {0x3E,0x41,0x41,0x41,0x22}, /* ABC */
    {0x7F,0x41,0x41,0x22,0x1C}, {0x7F,0x49,0x49,0x49,0x41}, {0x7F,0x09,0x09,0x09,0x01}, /* DEF */
    {0x3E,0x41,0x49,0x49,0x7A}, {0x7F,0x08,0x08,0x08,0x7F}, {0x00,0x41,0x7F,0x41,0x00}, /* GHI */
    {0x20,0x40,0x41,0x3F,0x01}, {0x7F,0x08,0x14,0x22,0x41}, {0x7F,0x40,0x40,0x40,0x40}, /* JKL */
    {0x7F,0x02,0x0C,0x02,0x7F}, {0x7F,0x04,0x08,0x10,0x7F}, {0x3E,0x41,0x41,0x41,0x3E}, /* MNO */
    {0x7F,0x09,0x09,0x09,0x06}, {0x3E,0x41,0x51,0x21,0x5E}, {0x7F,0x09,0x19,0x29,0x46}, /* PQR */
    {0x46,0x49,0x49,0x49,0x31}, {0x01,0x01,0x7F,0x01,0x01}, {0x3F,0x40,0x40,0x40,0x3F}, /* STU */
    {0x1F,0x20,0x40,0x20,0x1F}, {0x3F,0x40,0x38,0x40,0x3F}, {0x63,0x14,0x08,0x14,0x63}, /* VWX */
    {0x07,0x08,0x70,0x08,0x07}, {0x61,0x51,0x49,0x45,0x43}, {0x00,0x7F,0x41,0x41,0x00}, /* YZ[ */
    {0x02,0x04,0x08,0x10,0x20}, {0x00,0x41,0x41,0x7F,0x00}, {0x04,0x02,0x01,0x02,0x04}, /* \]^ */
    {0x40,0x40,0x40,0x40,0x40}, {0x00,0x01,0x02,0x04,0x00}, {0x20,0x54,0x54,0x54,0x78}, /* _`a */
    {0x7F,0x48,0x44,0x44,0x38}, {0x38,0x44,0x44,0x44,0x20}, {0x38,0x44,0x44,0x48,0x7F}, /* bcd */
    {0x38,0x54,0x54,0x54,0x18}, {0x08,0x7E,0x09,0x01,0x02}, {0x98,0xA4,0xA4,0xA4,0x7C}, /* efg */
    {0x7F,0x08,0x04,0x04,0x78}, {0x00,0x44,0x7D,0x40,0x00}, {0x80,0x80,0x84,0x7D,0x00}, /* hij */
    {0x7F,0x10,0x28,0x44,0x00}, {0x00,0x41,0x7F,0x40,0x00}, {0x7C,0x04,0x18,0x04,0x78}, /* klm */
    {0x7C,0x08,0x04,0x04,0x78}, {0x38,0x44,0x44,0x44,0x38}, {0xFC,0x24,0x24,0x24,0x18}, /* nop */
    {0x18,0x24,0x24,0x24,0xFC}, {0x7C,0x08,0x04,0x04,0x08}, {0x48,0x54,0x54,0x54,0x20}, /* qrs */
    {0x04,0x3F,0x44,0x40,0x20}, {0x3C,0x40,0x40,0x20,0x7C}, {0x1C,0x20,0x40,0x20,0x1C}, /* tuv */
    {0x3C,0x40,0x30,0x40,0x3C}, {0x44,0x28,0x10,0x28,0x44}, {0x9C,0xA0,0xA0,0xA0,0x7C}, /* wxy */
    {0x44,0x64,0x54,0x4C,0x44}, {0x00,0x08,0x36,0x41,0x00}, {0x00,0x00,0x7F,0x00,0x00}, /* z{| */
    {0x00,0x41,0x36,0x08,0x00}, {0x08,0x04,0x08,0x10,0x08}                              /* }~  */
};

static int sapm__text_width(const char *s)
{
    return (s && *s) ? (int)strlen(s) * SAPM__ADVANCE - SAPM__FONT_SCALE : 0;
}

/* Draws s. Horizontal (up == 0): top edge at y, x is the left end, centre or right end
 * for align 0, 1, 2. up != 0: reading upwards, left edge at x, y the bottom end, centre
 * or top end for align 0, 1, 2. Characters outside ASCII 32..126 show as '?'. */
static void sapm__text(sapm_image *im, int x, int y, const char *s, uint32_t c, int align, int up)
{
    int w = sapm__text_width(s), pos = 0, col, row, sx, sy;
    if (!s) return;
    if (up) y += align * w / 2; else x -= align * w / 2;
    for (; *s; ++s, pos += SAPM__ADVANCE) {
        int ch = (unsigned char)*s;
        const unsigned char *g = sapm__font5x7[(ch >= 32 && ch <= 126 ? ch : '?') - 32];
        for (col = 0; col < 5; ++col)
            for (row = 0; row < 8; ++row) {
                if (!((g[col] >> row) & 1)) continue;
                for (sy = 0; sy < SAPM__FONT_SCALE; ++sy)
                    for (sx = 0; sx < SAPM__FONT_SCALE; ++sx) {
                        int u = pos + col * SAPM__FONT_SCALE + sx, v = row * SAPM__FONT_SCALE + sy;
                        if (up) sapm__blend(im, x + v, y - 1 - u, c, 1.0);
                        else sapm__blend(im, x + u, y + v, c, 1.0);
                    }
            }
    }
}

/* ---- numbers on axes ---- */

/* A tick spacing 1, 2 or 5 times a power of ten giving about `target` intervals. */
static double sapm__nice_step(double lo, double hi, int target)
{
    double raw = (hi - lo) / target, mag = pow(10.0, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0) * mag;
}

/* Decimal digits of n into p; returns the count. */
static int sapm__utoa(char *p, unsigned long long n)
{
    char t[24];
    int k = 0, i;
    do { t[k++] = (char)('0' + n % 10); n /= 10; } while (n);
    for (i = 0; i < k; ++i) p[i] = t[k - 1 - i];
    return k;
}

static int sapm__itoa(char *p, int n)
{
    if (n < 0) { *p = '-'; return 1 + sapm__utoa(p + 1, (unsigned long long)(-(long long)n)); }
    return sapm__utoa(p, (unsigned long long)n);
}

/* Tick label of v on an axis with tick spacing `step` into buf (>= 32 chars): fixed
 * notation with the step's decimals ("0.25"), or with sci != 0 mantissa-exponent
 * ("2.5e-4", as many mantissa digits as the step needs). */
static void sapm__fmt_tick(char *buf, double v, double step, int sci)
{
    int e_step = (int)floor(log10(step) + 1e-9), n = 0, d, i, len;
    double a = fabs(v);
    char dig[24];
    if (a < 1e-6 * step) { buf[0] = '0'; buf[1] = 0; return; }
    if (v < 0) buf[n++] = '-';
    if (!sci) {
        d = e_step < 0 ? -e_step : 0;
        len = sapm__utoa(dig, (unsigned long long)floor(a * pow(10.0, d) + 0.5));
        if (len <= d) {                                     /* 0.0xy: leading zeros */
            memmove(dig + (d + 1 - len), dig, (size_t)len);
            memset(dig, '0', (size_t)(d + 1 - len));
            len = d + 1;
        }
        for (i = 0; i < len; ++i) {
            if (i == len - d) buf[n++] = '.';
            buf[n++] = dig[i];
        }
    } else {
        int ev = (int)floor(log10(a));
        unsigned long long m;
        d = SAPM__MIN(SAPM__MAX(ev - e_step, 0), 6);
        m = (unsigned long long)floor(a / pow(10.0, ev) * pow(10.0, d) + 0.5);
        len = sapm__utoa(dig, m);
        if (len > d + 1) { ++ev; --len; }                   /* 9.99 rounded up to 10.0 */
        while (d > 0 && dig[d] == '0') --d;                 /* strip trailing zeros */
        buf[n++] = dig[0];
        if (d > 0) { buf[n++] = '.'; for (i = 1; i <= d; ++i) buf[n++] = dig[i]; }
        buf[n++] = 'e';
        n += sapm__itoa(buf + n, ev);
    }
    buf[n] = 0;
}

/* Tick values and their labels on one axis. */
typedef struct sapm__ticks {
    int n, width;                  /* count, widest label in pixels */
    double v[24];                  /* positions in axis units (log10 for log axes) */
    char label[24][32];
} sapm__ticks;

/* The multiples of step inside [lo, hi]. */
static void sapm__ticks_linear(sapm__ticks *t, double lo, double hi, double step)
{
    double k;
    int sci = floor(log10(step) + 1e-9) < -3 || SAPM__MAX(fabs(lo), fabs(hi)) >= 1e5;
    t->n = t->width = 0;
    for (k = ceil(lo / step - 1e-9); k <= floor(hi / step + 1e-9) && t->n < 24; k += 1.0) {
        t->v[t->n] = k * step;
        sapm__fmt_tick(t->label[t->n], k * step, step, sci);
        t->width = SAPM__MAX(t->width, sapm__text_width(t->label[t->n]));
        ++t->n;
    }
}

/* Decades dlo..dhi, labelled "1e<k>" every ceil(decades / 8)-th. */
static void sapm__ticks_log(sapm__ticks *t, int dlo, int dhi)
{
    int every = (dhi - dlo + 7) / 8, e;
    t->n = t->width = 0;
    for (e = dlo; e <= dhi && t->n < 24; ++e) {
        if (((e % every) + every) % every) continue;
        t->v[t->n] = e;
        t->label[t->n][0] = '1';
        t->label[t->n][1] = 'e';
        t->label[t->n][2 + sapm__itoa(t->label[t->n] + 2, e)] = 0;
        t->width = SAPM__MAX(t->width, sapm__text_width(t->label[t->n]));
        ++t->n;
    }
}

/* ---- heatmaps ---- */

enum { SAPM__M = 14, SAPM__GAP = 8, SAPM__TICK = 5, SAPM__BAR_W = 18, SAPM__BAR_GAP = 14 };

/* Where things go; every panel has the same geometry, panel k starts at x = k * panel_w. */
typedef struct sapm__hm_geom {
    sapm_heatmap_options o;    /* the options used (zero when NULL was given) */
    int iw, ih;                /* image size */
    int ix, iy;                /* image corner relative to the panel's left edge / figure top */
    int panel_w, fig_h;
    int axes;                  /* domain given: tick labels and axis names */
    sapm__ticks tx, ty;        /* axis ticks (domain units) */
    double lo[16], hi[16];     /* colour range of each field */
} sapm__hm_geom;

/* Colour range of field k: the options' range, else its finite min..max (widened when
 * constant). SAPM_ERR_NONFINITE_INPUT when it has no finite value. */
static sapm_result sapm__hm_range(const sapm_heatmap_options *o, int k, size_t n, const double *f,
                                  double *lo, double *hi)
{
    size_t i;
    if (o->vmin && o->vmax && o->vmin[k] < o->vmax[k]) {
        *lo = o->vmin[k];
        *hi = o->vmax[k];
        if (!isfinite(*hi - *lo)) return SAPM_ERR_NONFINITE_INPUT;
        return *hi - *lo > 1e-290 ? SAPM_OK : SAPM_ERR_INVALID_ARGUMENT;
    }
    *lo = HUGE_VAL;
    *hi = -HUGE_VAL;
    for (i = 0; i < n; ++i)
        if (isfinite(f[i])) { *lo = SAPM__MIN(*lo, f[i]); *hi = SAPM__MAX(*hi, f[i]); }
    if (*lo > *hi) return SAPM_ERR_NONFINITE_INPUT;
    if (!(*hi - *lo > 1e-290)) {   /* (nearly) constant field: +-5%, or [c, c + 1] near 0 */
        double c = *lo, w = 0.05 * fabs(c);
        if (w > 1e-290) { *lo = c - w; *hi = c + w; } else *hi = c + 1.0;
    }
    return isfinite(*hi - *lo) ? SAPM_OK : SAPM_ERR_NONFINITE_INPUT;
}

/* Checks the arguments, finds the colour ranges and lays the figure out. */
static sapm_result sapm__hm_plan(sapm__hm_geom *g, int count, int nx, int ny,
                                 const double *const *fields, const char *const *titles,
                                 const sapm_heatmap_options *opt)
{
    const sapm_heatmap_options *o = &g->o;
    sapm__ticks cb;
    int k, P, cbw = 0, any_title = 0, top;
    double ar;
    sapm_result r;
    if (!fields) return SAPM_ERR_NULL_ARGUMENT;
    if (count <= 0 || count > 16 || nx <= 0 || ny <= 0 || nx > 100000 || ny > 100000)
        return SAPM_ERR_INVALID_SIZE;
    if (opt) g->o = *opt; else memset(&g->o, 0, sizeof g->o);
    if (o->panel_size < 0 || o->panel_size > 4096) return SAPM_ERR_INVALID_SIZE;
    if (!isfinite(o->x1 - o->x0) || !isfinite(o->y1 - o->y0)) return SAPM_ERR_NONFINITE_INPUT;
    for (k = 0; k < count; ++k) {
        if (!fields[k]) return SAPM_ERR_NULL_ARGUMENT;
        r = sapm__hm_range(o, k, (size_t)nx * (size_t)ny, fields[k], &g->lo[k], &g->hi[k]);
        if (r != SAPM_OK) return r;
        sapm__ticks_linear(&cb, g->lo[k], g->hi[k], sapm__nice_step(g->lo[k], g->hi[k], 5));
        cbw = SAPM__MAX(cbw, cb.width);
        if (titles && titles[k]) any_title = 1;
    }
    /* image: the area of a P x P square, the aspect of the domain (or of the grid) kept
     * within 1:4 .. 4:1 */
    P = o->panel_size > 0 ? o->panel_size : 320;
    g->axes = o->x0 < o->x1 && o->y0 < o->y1;
    ar = g->axes ? (o->x1 - o->x0) / (o->y1 - o->y0) : (double)nx / (double)ny;
    ar = ar < 0.25 ? 0.25 : ar > 4.0 ? 4.0 : ar;
    g->iw = (int)(P * sqrt(ar) + 0.5);
    g->ih = (int)(P / sqrt(ar) + 0.5);
    g->tx.n = g->ty.n = g->tx.width = g->ty.width = 0;
    if (g->axes) {
        sapm__ticks_linear(&g->tx, o->x0, o->x1, sapm__nice_step(o->x0, o->x1, SAPM__MAX(2, g->iw / 80)));
        sapm__ticks_linear(&g->ty, o->y0, o->y1, sapm__nice_step(o->y0, o->y1, SAPM__MAX(2, g->ih / 60)));
    }
    g->ix = SAPM__M + (o->ylabel && g->axes ? SAPM__GLYPH_H + 2 * SAPM__GAP : 0)
          + (g->axes ? g->ty.width + 4 + SAPM__TICK : 0);
    top = SAPM__M + (o->title ? SAPM__GLYPH_H + 2 * SAPM__GAP : 0);
    g->iy = top + (any_title ? SAPM__GLYPH_H + SAPM__GAP : 0);
    g->panel_w = g->ix + g->iw + SAPM__BAR_GAP + SAPM__BAR_W + SAPM__TICK + 4 + cbw + 2 * SAPM__M;
    g->fig_h = g->iy + g->ih + SAPM__M
             + (g->axes ? SAPM__TICK + 4 + SAPM__GLYPH_H : 0)
             + (g->axes && o->xlabel ? SAPM__GAP + SAPM__GLYPH_H : 0);
    return SAPM_OK;
}

/* Field value seen at image pixel (u, v): the grid cell under it (nearest), or bilinear
 * between cell centres over the finite neighbours (weights renormalised), non-finite
 * where the nearest cell is. */
static double sapm__hm_sample(const double *f, int nx, int ny, int iw, int ih, int u, int v,
                              int bilinear)
{
    double fx = (u + 0.5) * nx / iw - 0.5, fy = (v + 0.5) * ny / ih - 0.5, wx, wy, s = 0.0, ws = 0.0;
    int in = SAPM__MIN((int)((u + 0.5) * nx / iw), nx - 1), jn = SAPM__MIN((int)((v + 0.5) * ny / ih), ny - 1);
    int i0, j0, k;
    if (!bilinear || !isfinite(f[(size_t)jn * nx + in])) return f[(size_t)jn * nx + in];
    fx = fx < 0.0 ? 0.0 : fx > nx - 1 ? nx - 1 : fx;
    fy = fy < 0.0 ? 0.0 : fy > ny - 1 ? ny - 1 : fy;
    i0 = (int)fx; j0 = (int)fy;
    wx = fx - i0; wy = fy - j0;
    for (k = 0; k < 4; ++k) {                     /* corners (i0 + di, j0 + dj) */
        int di = k & 1, dj = k >> 1;
        double w = (di ? wx : 1.0 - wx) * (dj ? wy : 1.0 - wy);
        double val = f[(size_t)SAPM__MIN(j0 + dj, ny - 1) * nx + SAPM__MIN(i0 + di, nx - 1)];
        if (isfinite(val)) { s += w * val; ws += w; }
    }
    return s / ws;                                /* ws >= 1/4: the nearest cell is finite */
}

SAPMDEF sapm_result sapm_render_heatmaps(sapm_image *img, int count, int nx, int ny,
                                         const double *const *fields,
                                         const char *const *titles,
                                         const sapm_heatmap_options *opt)
{
    sapm__hm_geom g;
    sapm__ticks cb;
    const sapm_heatmap_options *o = &g.o;
    int k, u, v, t;
    sapm_result r;
    if (!img) return SAPM_ERR_NULL_ARGUMENT;
    memset(img, 0, sizeof *img);
    r = sapm__hm_plan(&g, count, nx, ny, fields, titles, opt);
    if (r == SAPM_OK) r = sapm__image_new(img, count * g.panel_w, g.fig_h);
    if (r != SAPM_OK) return r;
    if (o->title) sapm__text(img, img->width / 2, SAPM__M, o->title, SAPM__INK, 1, 0);
    for (k = 0; k < count; ++k) {
        int x0 = k * g.panel_w + g.ix, y0 = g.iy, bx = x0 + g.iw + SAPM__BAR_GAP;
        double lo = g.lo[k], span = g.hi[k] - g.lo[k];
        unsigned char c[3];
        /* the field through the colour map: t = (f - lo) / (hi - lo) */
        for (v = 0; v < g.ih; ++v)
            for (u = 0; u < g.iw; ++u) {
                double f = sapm__hm_sample(fields[k], nx, ny, g.iw, g.ih, u, v, o->bilinear);
                unsigned char *p = img->rgb + 3 * ((size_t)(y0 + v) * img->width + (size_t)(x0 + u));
                sapm_viridis(isfinite(f) ? (f - lo) / span : f * 0.0, p);
            }
        sapm__frame(img, x0 - 1, y0 - 1, x0 + g.iw + 1, y0 + g.ih + 1, SAPM__INK);
        if (titles && titles[k])
            sapm__text(img, x0 + g.iw / 2, y0 - SAPM__GAP - SAPM__GLYPH_H, titles[k], SAPM__INK, 1, 0);
        /* colour bar: t = 1 in the top row, 0 in the bottom row; ticks at nice values */
        for (v = 0; v < g.ih; ++v) {
            sapm_viridis(g.ih > 1 ? 1.0 - (double)v / (g.ih - 1) : 0.5, c);
            sapm__fill(img, bx, y0 + v, bx + SAPM__BAR_W, y0 + v + 1,
                       ((uint32_t)c[0] << 16) | ((uint32_t)c[1] << 8) | c[2]);
        }
        sapm__frame(img, bx - 1, y0 - 1, bx + SAPM__BAR_W + 1, y0 + g.ih + 1, SAPM__INK);
        sapm__ticks_linear(&cb, lo, g.hi[k], sapm__nice_step(lo, g.hi[k], 5));
        for (t = 0; t < cb.n; ++t) {
            int py = y0 + (int)floor((1.0 - (cb.v[t] - lo) / span) * (g.ih - 1) + 0.5);
            sapm__fill(img, bx + SAPM__BAR_W, py, bx + SAPM__BAR_W + SAPM__TICK, py + 1, SAPM__INK);
            sapm__text(img, bx + SAPM__BAR_W + SAPM__TICK + 4, py - SAPM__GLYPH_H / 2, cb.label[t],
                       SAPM__INK, 0, 0);
        }
        if (g.axes) {
            /* the image spans the domain plus half a cell on each side (cell centres are
             * the points of sapm_heatmap_grid) */
            double hx = nx > 1 ? (o->x1 - o->x0) / (nx - 1) : 0.0, hy = ny > 1 ? (o->y1 - o->y0) / (ny - 1) : 0.0;
            double ax = o->x0 - 0.5 * hx, aw = o->x1 - o->x0 + hx, ay = o->y0 - 0.5 * hy, ah = o->y1 - o->y0 + hy;
            for (t = 0; t < g.tx.n; ++t) {
                int px = SAPM__MIN(x0 + (int)floor((g.tx.v[t] - ax) / aw * g.iw), x0 + g.iw - 1);
                sapm__fill(img, px, y0 + g.ih + 1, px + 1, y0 + g.ih + 1 + SAPM__TICK, SAPM__INK);
                sapm__text(img, px, y0 + g.ih + 1 + SAPM__TICK + 4, g.tx.label[t], SAPM__INK, 1, 0);
            }
            for (t = 0; t < g.ty.n; ++t) {
                int py = SAPM__MAX(y0 + g.ih - 1 - (int)floor((g.ty.v[t] - ay) / ah * g.ih), y0);
                sapm__fill(img, x0 - 1 - SAPM__TICK, py, x0 - 1, py + 1, SAPM__INK);
                sapm__text(img, x0 - 1 - SAPM__TICK - 4, py - SAPM__GLYPH_H / 2, g.ty.label[t], SAPM__INK, 2, 0);
            }
            if (o->xlabel)
                sapm__text(img, x0 + g.iw / 2, y0 + g.ih + SAPM__TICK + 4 + SAPM__GLYPH_H + SAPM__GAP + 1,
                           o->xlabel, SAPM__INK, 1, 0);
            if (o->ylabel)
                sapm__text(img, k * g.panel_w + SAPM__M, y0 + g.ih / 2, o->ylabel, SAPM__INK, 1, 1);
        }
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_heatmap_grid(int nx, int ny, double x0, double x1, double y0,
                                      double y1, double *X)
{
    int i, j;
    if (!X) return SAPM_ERR_NULL_ARGUMENT;
    if (nx <= 0 || ny <= 0 || nx > 100000 || ny > 100000) return SAPM_ERR_INVALID_SIZE;
    if (!isfinite(x1 - x0) || !isfinite(y1 - y0)) return SAPM_ERR_NONFINITE_INPUT;
    if (!(x0 < x1) || !(y0 < y1)) return SAPM_ERR_INVALID_ARGUMENT;
    for (j = 0; j < ny; ++j)
        for (i = 0; i < nx; ++i) {
            double *p = X + 2 * ((size_t)j * nx + i);
            p[0] = nx > 1 ? x0 + i * (x1 - x0) / (nx - 1) : x0;
            p[1] = ny > 1 ? y1 - j * (y1 - y0) / (ny - 1) : y0;
        }
    return SAPM_OK;
}

/* ---- line plots ---- */

/* Data -> plot-area pixel coordinates (continuous: pixel i covers [i, i + 1)). */
typedef struct sapm__plot_map {
    double xlo, xhi, ylo, yhi;     /* y in log10 units on a log axis */
    int log_y, pw, ph;
} sapm__plot_map;

/* Point i of s in axis units (y as log10 y on a log axis); 0 when it is not plottable. */
static int sapm__plot_xy(const sapm_plot_series *s, int i, int log_y, double *x, double *y)
{
    *x = s->x ? s->x[i] : (double)i;
    *y = s->y[i];
    if (!isfinite(*x) || !isfinite(*y) || (log_y && !(*y > 0.0))) return 0;
    if (log_y) *y = log10(*y);
    return 1;
}

static int sapm__plot_point(const sapm__plot_map *m, const sapm_plot_series *s, int i,
                            double *px, double *py)
{
    double x, y;
    if (!sapm__plot_xy(s, i, m->log_y, &x, &y)) return 0;
    *px = 0.5 + (x - m->xlo) / (m->xhi - m->xlo) * (m->pw - 1);
    *py = 0.5 + (m->yhi - y) / (m->yhi - m->ylo) * (m->ph - 1);
    return 1;
}

/* Anti-aliased segment of width lw into the coverage buffer (max of coverages, so joints
 * are not drawn twice): coverage = clamp(lw/2 + 1/2 - distance to the segment, 0, 1). */
static void sapm__cover_segment(float *cov, int pw, int ph, double ax, double ay, double bx,
                                double by, double lw)
{
    double rad = 0.5 * lw + 1.0, dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    int x0 = SAPM__MAX(0, (int)floor(SAPM__MIN(ax, bx) - rad)), x1 = SAPM__MIN(pw - 1, (int)ceil(SAPM__MAX(ax, bx) + rad));
    int y0 = SAPM__MAX(0, (int)floor(SAPM__MIN(ay, by) - rad)), y1 = SAPM__MIN(ph - 1, (int)ceil(SAPM__MAX(ay, by) + rad));
    int x, y;
    for (y = y0; y <= y1; ++y)
        for (x = x0; x <= x1; ++x) {
            double px = x + 0.5 - ax, py = y + 0.5 - ay;
            double t = len2 > 0.0 ? (px * dx + py * dy) / len2 : 0.0, ex, ey, a;
            t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
            ex = px - t * dx; ey = py - t * dy;
            a = 0.5 * lw + 0.5 - sqrt(ex * ex + ey * ey);
            if (a > cov[(size_t)y * pw + x]) cov[(size_t)y * pw + x] = (float)(a > 1.0 ? 1.0 : a);
        }
}

/* Walks the segments of a series (a point with no plottable neighbour is a dot): with cov
 * rasterises them; otherwise returns 1 when one passes within box (x0, y0, x1, y1). */
static int sapm__plot_walk(const sapm__plot_map *m, const sapm_plot_series *s, float *cov,
                           double lw, const double *box)
{
    int i, have_prev = 0;
    double ax = 0, ay = 0;
    for (i = 0; i < s->count; ++i) {
        double bx, by;
        int ok = sapm__plot_point(m, s, i, &bx, &by), next_ok = 0;
        double nx_, ny_;
        if (!ok) { have_prev = 0; continue; }
        if (i + 1 < s->count) next_ok = sapm__plot_point(m, s, i + 1, &nx_, &ny_);
        if (have_prev || !next_ok) {               /* a segment, or an isolated dot */
            double sx = have_prev ? ax : bx, sy = have_prev ? ay : by;
            if (cov) {
                sapm__cover_segment(cov, m->pw, m->ph, sx, sy, bx, by, have_prev ? lw : 2.0 * lw);
            } else {
                double len = sqrt((bx - sx) * (bx - sx) + (by - sy) * (by - sy));
                int n = (int)(len / 2.0) + 1, j;
                for (j = 0; j <= n; ++j) {
                    double px = sx + (bx - sx) * j / n, py = sy + (by - sy) * j / n;
                    if (px >= box[0] && px <= box[2] && py >= box[1] && py <= box[3]) return 1;
                }
            }
        }
        ax = bx; ay = by; have_prev = 1;
    }
    return 0;
}

/* Axis range [lo, hi] widened to multiples of a nice step (about `target` intervals). */
static double sapm__nice_range(double *lo, double *hi, int target)
{
    double step;
    if (!(*hi - *lo > 1e-290)) {   /* (nearly) one value: +-10%, or +-1 near 0 */
        double c = *lo, w = 0.1 * fabs(c) > 1e-290 ? 0.1 * fabs(c) : 1.0;
        *lo = c - w; *hi = c + w;
    }
    step = sapm__nice_step(*lo, *hi, target);
    *lo = floor(*lo / step + 1e-9) * step;
    *hi = ceil(*hi / step - 1e-9) * step;
    return step;
}

enum { SAPM__ROW = 20, SAPM__SAMPLE = 28 };   /* legend row height, line sample length */
#define SAPM__LINE_W 2.0                      /* series line width in pixels */

/* Layout of a line plot: the plot area [px0, px0 + m.pw) x [py0, py0 + m.ph). */
typedef struct sapm__plot_geom {
    sapm_plot_options o;       /* the options used (zero when NULL was given) */
    sapm__plot_map m;
    sapm__ticks tx, ty;
    int W, H, px0, py0;
    int every;                 /* log axis: every every-th decade labelled */
    int n_leg, lx, ly, leg_w, leg_h;   /* legend entries and box */
} sapm__plot_geom;

/* Checks the arguments, finds the axis ranges and lays the plot out. */
static sapm_result sapm__plot_plan(sapm__plot_geom *g, int n_series,
                                   const sapm_plot_series *series, const sapm_plot_options *opt)
{
    sapm__plot_map *m = &g->m;
    double xmin = HUGE_VAL, xmax = -HUGE_VAL, ymin = HUGE_VAL, ymax = -HUGE_VAL;
    int k, i, px1, py1, outside = 0, target;
    if (!series) return SAPM_ERR_NULL_ARGUMENT;
    if (n_series <= 0 || n_series > 64) return SAPM_ERR_INVALID_SIZE;
    if (opt) g->o = *opt; else memset(&g->o, 0, sizeof g->o);
    g->W = g->o.width ? g->o.width : 800;
    g->H = g->o.height ? g->o.height : 520;
    if (g->W < 200 || g->H < 150 || g->W > 8192 || g->H > 8192) return SAPM_ERR_INVALID_SIZE;
    m->log_y = g->o.log_y != 0;
    g->n_leg = g->leg_w = 0;
    for (k = 0; k < n_series; ++k) {
        const sapm_plot_series *s = &series[k];
        if (!s->y) return SAPM_ERR_NULL_ARGUMENT;
        if (s->count <= 0) return SAPM_ERR_INVALID_SIZE;
        for (i = 0; i < s->count; ++i) {
            double x, y;
            if (!sapm__plot_xy(s, i, m->log_y, &x, &y)) continue;
            xmin = SAPM__MIN(xmin, x); xmax = SAPM__MAX(xmax, x);
            ymin = SAPM__MIN(ymin, y); ymax = SAPM__MAX(ymax, y);
        }
        if (s->label) {
            ++g->n_leg;
            g->leg_w = SAPM__MAX(g->leg_w, sapm__text_width(s->label));
        }
    }
    if (xmin > xmax || !isfinite(xmax - xmin) || !isfinite(ymax - ymin)) return SAPM_ERR_NONFINITE_INPUT;
    g->leg_w += 3 * SAPM__GAP + SAPM__SAMPLE;
    g->leg_h = g->n_leg * SAPM__ROW + SAPM__GAP;

    /* y axis: whole decades (log) or nice multiples (linear) */
    g->py0 = SAPM__M + (g->o.title ? SAPM__GLYPH_H + 12 : SAPM__GLYPH_H / 2);
    py1 = g->H - SAPM__M - SAPM__TICK - 4 - SAPM__GLYPH_H - (g->o.xlabel ? 10 + SAPM__GLYPH_H : 0);
    m->ph = SAPM__MAX(py1 - g->py0, 2);
    if (m->log_y) {
        /* the data plus 4% of their span (in decades); whole decades around them when
         * that would hold fewer than two decade ticks */
        double pad = 0.04 * (ymax - ymin);
        int dlo, dhi;
        m->ylo = ymin - pad;
        m->yhi = ymax + pad;
        if (floor(m->yhi + 1e-9) - ceil(m->ylo - 1e-9) < 1.0) {
            m->ylo = floor(ymin + 1e-9);
            m->yhi = ceil(ymax - 1e-9);
            if (m->yhi <= m->ylo) { m->ylo -= 1.0; m->yhi += 1.0; }
        }
        dlo = (int)ceil(m->ylo - 1e-9);
        dhi = (int)floor(m->yhi + 1e-9);
        sapm__ticks_log(&g->ty, dlo, dhi);
        g->every = (dhi - dlo + 7) / 8;
    } else {
        m->ylo = ymin; m->yhi = ymax;
        sapm__ticks_linear(&g->ty, m->ylo, m->yhi, sapm__nice_range(&m->ylo, &m->yhi, SAPM__MAX(2, m->ph / 70)));
        g->every = 0;
    }
    g->px0 = SAPM__M + (g->o.ylabel ? SAPM__GLYPH_H + 10 : 0) + g->ty.width + 4 + SAPM__TICK;

    /* x axis (fewer ticks while labels would touch) and legend: the first corner free of
     * data (top right, bottom left, top left, bottom right), else right of the axes */
    for (;;) {
        px1 = g->W - SAPM__M - 24 - (outside ? g->leg_w + SAPM__M : 0);
        m->pw = SAPM__MAX(px1 - g->px0, 2);
        for (target = SAPM__MAX(2, m->pw / 90); ; --target) {
            m->xlo = xmin; m->xhi = xmax;
            sapm__ticks_linear(&g->tx, m->xlo, m->xhi, sapm__nice_range(&m->xlo, &m->xhi, target));
            if (target <= 2 || (g->tx.width + 2 * SAPM__GAP) * g->tx.n < m->pw) break;
        }
        if (!isfinite(m->xhi - m->xlo) || !isfinite(m->yhi - m->ylo)) return SAPM_ERR_NONFINITE_INPUT;
        if (g->n_leg == 0) return SAPM_OK;
        if (outside) {
            g->lx = px1 + SAPM__M;
            g->ly = g->py0;
            return SAPM_OK;
        }
        for (k = 0; k < 4; ++k) {
            double box[4], pad = SAPM__LINE_W + 3;
            int hit = 0, inset = 10;
            g->lx = (k == 0 || k == 3) ? m->pw - inset - g->leg_w : inset;
            g->ly = (k == 0 || k == 2) ? inset : m->ph - inset - g->leg_h;
            if (g->lx < 0 || g->ly < 0) break;      /* legend larger than the plot area */
            box[0] = g->lx - pad; box[1] = g->ly - pad;
            box[2] = g->lx + g->leg_w + pad; box[3] = g->ly + g->leg_h + pad;
            for (i = 0; i < n_series && !hit; ++i) hit = sapm__plot_walk(m, &series[i], NULL, 0.0, box);
            if (!hit) {
                g->lx += g->px0;
                g->ly += g->py0;
                return SAPM_OK;
            }
        }
        if (g->W - g->px0 - g->leg_w - 2 * SAPM__M - 24 < 150) {   /* no room: top right */
            g->lx = g->px0 + SAPM__MAX(m->pw - 10 - g->leg_w, 0);
            g->ly = g->py0 + 10;
            return SAPM_OK;
        }
        outside = 1;
    }
}

SAPMDEF sapm_result sapm_render_plot(sapm_image *img, int n_series,
                                     const sapm_plot_series *series,
                                     const sapm_plot_options *opt)
{
    sapm__plot_geom g;
    const sapm__plot_map *m = &g.m;
    int k, t, px1, py1;
    float *cov;
    sapm_result r;
    if (!img) return SAPM_ERR_NULL_ARGUMENT;
    memset(img, 0, sizeof *img);
    r = sapm__plot_plan(&g, n_series, series, opt);
    if (r == SAPM_OK) r = sapm__image_new(img, g.W, g.H);
    if (r != SAPM_OK) return r;
    cov = (float *)sapm__alloc((size_t)m->pw * (size_t)m->ph, sizeof(float));
    if (!cov) { sapm_image_free(img); return SAPM_ERR_OUT_OF_MEMORY; }
    px1 = g.px0 + m->pw;
    py1 = g.py0 + m->ph;

    /* grid lines and ticks: minor decades (2..9 x 10^e) when every decade is labelled */
    if (m->log_y) {
        double e, f;
        for (e = floor(m->ylo); e <= m->yhi; e += 1.0)
            for (f = 1.0; f < 9.5; f += 1.0) {
                double v = e + log10(f);
                int py = g.py0 + (int)(0.5 + (m->yhi - v) / (m->yhi - m->ylo) * (m->ph - 1));
                if (v < m->ylo - 1e-9 || v > m->yhi + 1e-9 || (f > 1.0 && g.every > 1)) continue;
                if (f > 1.0) sapm__fill(img, g.px0, py, px1, py + 1, SAPM__GRID2);
                sapm__fill(img, g.px0 - 3, py, g.px0, py + 1, SAPM__INK);
            }
    }
    for (t = 0; t < g.ty.n; ++t) {
        int py = g.py0 + (int)(0.5 + (m->yhi - g.ty.v[t]) / (m->yhi - m->ylo) * (m->ph - 1));
        sapm__fill(img, g.px0, py, px1, py + 1, SAPM__GRID);
        sapm__fill(img, g.px0 - SAPM__TICK, py, g.px0, py + 1, SAPM__INK);
        sapm__text(img, g.px0 - SAPM__TICK - 4, py - SAPM__GLYPH_H / 2, g.ty.label[t], SAPM__INK, 2, 0);
    }
    for (t = 0; t < g.tx.n; ++t) {
        int px = g.px0 + (int)(0.5 + (g.tx.v[t] - m->xlo) / (m->xhi - m->xlo) * (m->pw - 1));
        sapm__fill(img, px, g.py0, px + 1, py1, SAPM__GRID);
        sapm__fill(img, px, py1, px + 1, py1 + SAPM__TICK, SAPM__INK);
        sapm__text(img, px, py1 + SAPM__TICK + 4, g.tx.label[t], SAPM__INK, 1, 0);
    }

    /* the series, each composited once from its coverage */
    for (k = 0; k < n_series; ++k) {
        uint32_t c = sapm__series_rgb[k % 10];
        int x, y;
        memset(cov, 0, (size_t)m->pw * (size_t)m->ph * sizeof(float));
        sapm__plot_walk(m, &series[k], cov, SAPM__LINE_W, NULL);
        for (y = 0; y < m->ph; ++y)
            for (x = 0; x < m->pw; ++x)
                sapm__blend(img, g.px0 + x, g.py0 + y, c, cov[(size_t)y * m->pw + x]);
    }
    SAPM_FREE(cov);
    sapm__frame(img, g.px0 - 1, g.py0 - 1, px1 + 1, py1 + 1, SAPM__INK);

    if (g.n_leg) {
        int row = 0;
        sapm__fill(img, g.lx, g.ly, g.lx + g.leg_w, g.ly + g.leg_h, SAPM__WHITE);
        sapm__frame(img, g.lx, g.ly, g.lx + g.leg_w, g.ly + g.leg_h, 0xBBBBBBu);
        for (k = 0; k < n_series; ++k) {
            int yc = g.ly + SAPM__GAP / 2 + row * SAPM__ROW + SAPM__ROW / 2;
            if (!series[k].label) continue;
            sapm__fill(img, g.lx + SAPM__GAP, yc - 1, g.lx + SAPM__GAP + SAPM__SAMPLE, yc + 2, sapm__series_rgb[k % 10]);
            sapm__text(img, g.lx + 2 * SAPM__GAP + SAPM__SAMPLE, yc - SAPM__GLYPH_H / 2, series[k].label, SAPM__INK, 0, 0);
            ++row;
        }
    }
    if (g.o.title) sapm__text(img, (g.px0 + px1) / 2, SAPM__M, g.o.title, SAPM__INK, 1, 0);
    if (g.o.xlabel) sapm__text(img, (g.px0 + px1) / 2, g.H - SAPM__M - SAPM__GLYPH_H, g.o.xlabel, SAPM__INK, 1, 0);
    if (g.o.ylabel) sapm__text(img, SAPM__M, (g.py0 + py1) / 2, g.o.ylabel, SAPM__INK, 1, 1);
    return SAPM_OK;
}

/* ---- files ---- */

#if SAPM__PNG
typedef struct sapm__file_sink { FILE *f; int failed; } sapm__file_sink;

static void sapm__png_sink(void *ctx, void *data, int size)
{
    sapm__file_sink *s = (sapm__file_sink *)ctx;
    if (!s->failed && fwrite(data, 1, (size_t)size, s->f) != (size_t)size) s->failed = 1;
}
#endif

SAPMDEF sapm_result sapm_png_write(const char *path, const sapm_image *img)
{
#if SAPM__PNG
    sapm__file_sink sink;
    int ok;
    if (!path || !img || !img->rgb) return SAPM_ERR_NULL_ARGUMENT;
    if (img->width <= 0 || img->height <= 0 || img->width > 65535 || img->height > 65535 ||
        (3.0 * img->width + 1.0) * img->height > (double)(INT_MAX / 2))   /* stb's int sizes */
        return SAPM_ERR_INVALID_SIZE;
    sink.f = fopen(path, "wb");
    if (!sink.f) return SAPM_ERR_IO;
    sink.failed = 0;
    ok = stbi_write_png_to_func(sapm__png_sink, &sink, img->width, img->height, 3, img->rgb, 3 * img->width);
    if (fclose(sink.f) != 0) sink.failed = 1;
    if (!ok || sink.failed) remove(path);
    return !ok ? SAPM_ERR_OUT_OF_MEMORY : sink.failed ? SAPM_ERR_IO : SAPM_OK;
#else
    (void)path; (void)img;
    return SAPM_ERR_NOT_COMPILED_IN;
#endif
}

/* Writes a rendered picture (when r is SAPM_OK) and frees it. */
static sapm_result sapm__png_save(const char *path, sapm_image *im, sapm_result r)
{
    if (r == SAPM_OK) r = sapm_png_write(path, im);
    sapm_image_free(im);
    return r;
}

SAPMDEF sapm_result sapm_png_heatmaps_ex(const char *path, int count, int nx, int ny,
                                         const double *const *fields,
                                         const char *const *titles,
                                         const sapm_heatmap_options *opt)
{
    sapm_image im;
    if (!SAPM__PNG) return SAPM_ERR_NOT_COMPILED_IN;
    if (!path) return SAPM_ERR_NULL_ARGUMENT;
    return sapm__png_save(path, &im, sapm_render_heatmaps(&im, count, nx, ny, fields, titles, opt));
}

SAPMDEF sapm_result sapm_png_heatmaps(const char *path, int count, int nx, int ny,
                                      const double *const *fields, const char *const *titles)
{
    return sapm_png_heatmaps_ex(path, count, nx, ny, fields, titles, NULL);
}

SAPMDEF sapm_result sapm_png_heatmap(const char *path, int nx, int ny, const double *values,
                                     double vmin, double vmax, const char *title)
{
    sapm_heatmap_options o;
    const double *fields[1];
    const char *titles[1];
    if (!SAPM__PNG) return SAPM_ERR_NOT_COMPILED_IN;
    if (!isfinite(vmin) || !isfinite(vmax)) return SAPM_ERR_NONFINITE_INPUT;
    memset(&o, 0, sizeof o);
    o.vmin = &vmin;
    o.vmax = &vmax;
    fields[0] = values;
    titles[0] = title;
    return sapm_png_heatmaps_ex(path, 1, nx, ny, fields, titles, &o);
}

SAPMDEF sapm_result sapm_png_plot(const char *path, int n_series, const sapm_plot_series *series,
                                  const char *title, const char *xlabel, const char *ylabel,
                                  int log_y)
{
    sapm_plot_options o;
    sapm_image im;
    if (!SAPM__PNG) return SAPM_ERR_NOT_COMPILED_IN;
    if (!path) return SAPM_ERR_NULL_ARGUMENT;
    memset(&o, 0, sizeof o);
    o.title = title; o.xlabel = xlabel; o.ylabel = ylabel; o.log_y = log_y;
    return sapm__png_save(path, &im, sapm_render_plot(&im, n_series, series, &o));
}

static double sapm__history_value(const sapm_history_entry *h, sapm_history_field f)
{
    switch (f) {
    case SAPM_FIELD_ITER: return (double)h->iter;
    case SAPM_FIELD_SECONDS: return h->seconds;
    case SAPM_FIELD_MSE: return h->mse;
    case SAPM_FIELD_LOSS: return h->loss;
    default: return h->error;
    }
}

static const char *sapm__history_label(const sapm_report *rep, const char *const *labels, int k)
{
    const char *m;
    if (labels && labels[k]) return labels[k];
    m = rep->history_count > 0 ? sapm_method_name(rep->history[0].method) : "unknown";
    return strcmp(m, "unknown") ? m : NULL;
}

SAPMDEF sapm_result sapm_png_plot_history(const char *path, int n_reports,
                                          const sapm_report *const *reports,
                                          const char *const *labels, sapm_history_field x,
                                          sapm_history_field y, const char *title)
{
    static const char *const names[5] = {"iteration", "seconds", "true loss", "method loss", "error"};
    sapm_plot_series *s;
    sapm_plot_options o;
    sapm_image im;
    double *buf;
    size_t total = 0, off = 0;
    int k, i, n = 0;
    sapm_result r;
    if (!SAPM__PNG) return SAPM_ERR_NOT_COMPILED_IN;
    if (!path || !reports) return SAPM_ERR_NULL_ARGUMENT;
    if (n_reports <= 0 || n_reports > 64) return SAPM_ERR_INVALID_SIZE;
    if ((int)x < 0 || (int)x > 4 || (int)y < 0 || (int)y > 4) return SAPM_ERR_INVALID_ARGUMENT;
    for (k = 0; k < n_reports; ++k) {
        if (!reports[k]) return SAPM_ERR_NULL_ARGUMENT;
        if (reports[k]->history_count < 0) return SAPM_ERR_INVALID_SIZE;
        if (reports[k]->history_count > 0 && !reports[k]->history) return SAPM_ERR_NULL_ARGUMENT;
        total += (size_t)reports[k]->history_count;
    }
    if (total == 0) return SAPM_ERR_INVALID_SIZE;
    s = (sapm_plot_series *)sapm__alloc((size_t)n_reports, sizeof *s);
    buf = (double *)sapm__alloc(2 * total, sizeof(double));
    if (!s || !buf) {
        if (s) SAPM_FREE(s);
        if (buf) SAPM_FREE(buf);
        return SAPM_ERR_OUT_OF_MEMORY;
    }
    for (k = 0; k < n_reports; ++k) {
        const sapm_report *rep = reports[k];
        if (rep->history_count == 0) continue;
        s[n].label = sapm__history_label(rep, labels, k);
        s[n].count = rep->history_count;
        s[n].x = buf + off;
        s[n].y = buf + total + off;
        for (i = 0; i < rep->history_count; ++i) {
            buf[off + i] = sapm__history_value(&rep->history[i], x);
            buf[total + off + i] = sapm__history_value(&rep->history[i], y);
        }
        off += (size_t)rep->history_count;
        ++n;
    }
    memset(&o, 0, sizeof o);
    o.title = title;
    o.xlabel = names[x];
    o.ylabel = names[y];
    o.log_y = y >= SAPM_FIELD_MSE;
    r = sapm__png_save(path, &im, sapm_render_plot(&im, n, s, &o));
    SAPM_FREE(s);
    SAPM_FREE(buf);
    return r;
}

#ifndef SAPM_NO_STDIO
#include <stdlib.h>

/* Shortest of %.15g / %.17g that reads back to v; "nan" for NaN. */
static void sapm__csv_num(FILE *f, double v)
{
    char b[40];
    if (v != v) { fputs("nan", f); return; }
    snprintf(b, sizeof b, "%.15g", v);
    if (strtod(b, NULL) != v) snprintf(b, sizeof b, "%.17g", v);
    fputs(b, f);
}

static void sapm__csv_text(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; ++s) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Closes f: SAPM_OK when every write reached the file. */
static sapm_result sapm__csv_close(FILE *f)
{
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    return bad ? SAPM_ERR_IO : SAPM_OK;
}
#endif

SAPMDEF sapm_result sapm_csv_write_history(const char *path, int n_reports,
                                           const sapm_report *const *reports,
                                           const char *const *labels)
{
#ifdef SAPM_NO_STDIO
    (void)path; (void)n_reports; (void)reports; (void)labels;
    return SAPM_ERR_NOT_COMPILED_IN;
#else
    FILE *f;
    int k, i;
    if (!path || !reports) return SAPM_ERR_NULL_ARGUMENT;
    if (n_reports <= 0) return SAPM_ERR_INVALID_SIZE;
    for (k = 0; k < n_reports; ++k) {
        if (!reports[k]) return SAPM_ERR_NULL_ARGUMENT;
        if (reports[k]->history_count < 0) return SAPM_ERR_INVALID_SIZE;
        if (reports[k]->history_count > 0 && !reports[k]->history) return SAPM_ERR_NULL_ARGUMENT;
    }
    f = fopen(path, "w");
    if (!f) return SAPM_ERR_IO;
    fputs("label,iter,seconds,mse,loss,error\n", f);
    for (k = 0; k < n_reports; ++k) {
        const char *label = sapm__history_label(reports[k], labels, k);
        char run[24] = "run";
        if (!label) { run[3 + sapm__itoa(run + 3, k)] = 0; label = run; }
        for (i = 0; i < reports[k]->history_count; ++i) {
            const sapm_history_entry *h = &reports[k]->history[i];
            sapm__csv_text(f, label);
            fprintf(f, ",%d,", h->iter);
            sapm__csv_num(f, h->seconds); fputc(',', f);
            sapm__csv_num(f, h->mse); fputc(',', f);
            sapm__csv_num(f, h->loss); fputc(',', f);
            sapm__csv_num(f, h->error); fputc('\n', f);
        }
    }
    return sapm__csv_close(f);
#endif
}

SAPMDEF sapm_result sapm_csv_write_grid(const char *path, int nx, int ny, double x0, double x1,
                                        double y0, double y1, const double *prediction,
                                        const double *exact)
{
#ifdef SAPM_NO_STDIO
    (void)path; (void)nx; (void)ny; (void)x0; (void)x1; (void)y0; (void)y1;
    (void)prediction; (void)exact;
    return SAPM_ERR_NOT_COMPILED_IN;
#else
    FILE *f;
    int i, j;
    if (!path || !prediction) return SAPM_ERR_NULL_ARGUMENT;
    if (nx <= 0 || ny <= 0 || nx > 100000 || ny > 100000) return SAPM_ERR_INVALID_SIZE;
    if (!isfinite(x1 - x0) || !isfinite(y1 - y0)) return SAPM_ERR_NONFINITE_INPUT;
    if (!(x0 < x1) || !(y0 < y1)) return SAPM_ERR_INVALID_ARGUMENT;
    f = fopen(path, "w");
    if (!f) return SAPM_ERR_IO;
    fputs(exact ? "x,y,prediction,exact,error\n" : "x,y,prediction\n", f);
    for (j = 0; j < ny; ++j)
        for (i = 0; i < nx; ++i) {
            size_t k = (size_t)j * nx + i;
            sapm__csv_num(f, nx > 1 ? x0 + i * (x1 - x0) / (nx - 1) : x0); fputc(',', f);
            sapm__csv_num(f, ny > 1 ? y1 - j * (y1 - y0) / (ny - 1) : y0); fputc(',', f);
            sapm__csv_num(f, prediction[k]);
            if (exact) {
                fputc(',', f); sapm__csv_num(f, exact[k]);
                fputc(',', f); sapm__csv_num(f, prediction[k] - exact[k]);
            }
            fputc('\n', f);
        }
    return sapm__csv_close(f);
#endif
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
