/* sapm.h - v0.6.0 - MIT licence - deep least-squares training with
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
 *     LS     ordinary least squares by back-propagation (GD, Adam, L-BFGS) and by
 *            Levenberg-Marquardt on the residuals (the baselines);
 *     PM     auxiliary variables per layer with a fixed penalty;
 *     SAPM   the self-adaptive penalty model (arXiv 2504.21501): penalty weights
 *            w_l = prod_{j>l} ||W_j||_F^2 keep the auxiliary loss consistent with the MSE,
 *            closed-form least-squares weight updates (own SYRK/GEMM + Cholesky);
 *     PINNs  SAPM-PINN for first-order linear PDEs and LySep (arXiv 2507.12766) for
 *            second-order elliptic/Poisson PDEs in d = 1..100 dimensions, next to the
 *            ordinary PINN by Adam, L-BFGS or Levenberg-Marquardt (the recommended
 *            method: the fastest to a given accuracy on nine of the ten PDEs of
 *            bench/bench_pde_suite.c, see WHICH METHOD, WHEN); the ordinary PINN also
 *            takes Neumann/Robin/initial conditions per face of a box, nonlinear
 *            residuals (Burgers, Allen-Cahn, ...), systems and inverse problems
 *            (coefficients fitted to measurements).
 *   It contains its own blocked matrix kernels with AVX-512 / AVX2+FMA / NEON paths
 *   (each with a scalar twin), a blocked Cholesky solver and a batched small-SPD solver.
 *   Double precision throughout. C99; also compiles as C++. The library prints nothing
 *   and keeps no mutable global state: everything a run needs lives in structs the
 *   caller owns, so two threads can train two models at once.
 *
 * BUILDING
 *
 *   cc -O2 -march=native my_program.c -lm
 *   cc -O2 -march=native -fopenmp my_program.c -lm     (multi-threaded, see THREADS)
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
 *     SAPM_NO_STDIO        no FILE* anywhere: sapm_net_save/sapm_net_load are not
 *                          declared, the PNG and CSV writers return SAPM_ERR_NOT_COMPILED_IN;
 *                          the in-memory variants (_mem, sapm_render_*) remain.
 *     SAPM_NO_PNG          do not compile PNG output; the PNG functions then return
 *                          SAPM_ERR_NOT_COMPILED_IN. PNG output is also compiled out when
 *                          <stb/stb_image_write.h> (Debian libstb-dev) is not found.
 *     SAPM_HAVE_STB        force PNG support where __has_include cannot find stb
 *                          (compilers without __has_include);
 *     SAPM_STB_IMAGE_WRITE_INCLUDE  the header to include instead of
 *                          <stb/stb_image_write.h>, e.g. "stb_image_write.h".
 *     SAPM_USE_MPI         declare the MPI adaptor (sapm_mpi, sapm_mpi_allreduce): the
 *                          including file must have <mpi.h> (build with mpicc); without it
 *                          no MPI name appears anywhere.
 *     SAPM_NO_SIMD         force the scalar kernels (otherwise chosen at compile time:
 *                          AVX-512F, then AVX2+FMA, then NEON, then scalar).
 *     SAPM_NO_OPENMP       stay single-threaded even when compiled with OpenMP.
 *     SAPM_NOW()           wall clock in seconds as double (default: clock_gettime
 *                          CLOCK_MONOTONIC where declared, else gettimeofday on
 *                          POSIX, else C11 timespec_get, else clock()).
 *
 * THREADS
 *
 *   Compiled with OpenMP (-fopenmp) the library uses OpenMP's thread count
 *   (OMP_NUM_THREADS, omp_set_num_threads) in three places: GEMM and SYRK above ~2.6e5
 *   multiply-adds cut C into one panel per thread (so do the Cholesky and TRSM updates
 *   built on them); every PINN evaluation (J_PINN, its gradient, the Levenberg-
 *   Marquardt Jacobian, the held-out error) spreads its blocks of points over threads
 *   with their own tapes; and the L-BFGS two-loop recursion (4 x memory x parameters
 *   multiply-adds per iteration) gives each thread a slice of the stored pairs, one
 *   barrier per inner product. Inside an enclosing parallel region it stays on the calling
 *   thread. Partitions are static: the same thread count gives bit-identical results;
 *   another count changes the order of the final sums (last-bit differences). The rest
 *   (the LS objective, the auxiliary updates of PM/SAPM/LySep) runs serially apart from
 *   its GEMMs. A custom SAPM_MALLOC/SAPM_FREE must then be thread-safe.
 *   SAPM_NO_OPENMP keeps a -fopenmp build single-threaded.
 *
 * WHICH METHOD, WHEN (measured with bench/bench_pde_suite.c: ten linear PDEs - Poisson in
 * d = 2, 10, 100, transport at speeds 1 and 4, reaction-diffusion in d = 1 and 5, variable
 * and anisotropic coefficients, convection-diffusion, non-zero boundary data - and
 * bench/bench_pde.c, bench/bench_ls.c; README "Which method, when" has the numbers)
 *
 *   Your own PDE: SAPM_METHOD_LM with sapm_pde_default_options (the boundary weight is
 *     chosen automatically: leave beta alone; geodesic acceleration on) on
 *     sapm_pde_default_widths(d) (one tanh layer of 8 d units within [32, 64]: d-32-1 up
 *     to d = 4, d-64-1 from d = 8), a few hundred to a few thousand points.
 *     On the suite (60 s, 2 threads): rel. L2 1e-3 on nine of ten problems within 1.3 s,
 *     1e-7 on eight within 8.2 s (seven within 1.5 s), 1e-8 on eight within 26 s (seven
 *     within 4.2 s). LM keeps the (N + M) x P Jacobian.
 *     The same held for the examples beyond linear Dirichlet problems (Burgers,
 *     Neumann/Robin faces, a system, an inverse problem).
 *   Too many parameters for that Jacobian: SAPM_METHOD_LBFGS with a boundary weight from
 *     sapm_pde_balance_beta.
 *   Second-order PDEs in d = 50..100 with a short budget: SAPM (LySep) with
 *     opt.base.polish = SAPM_METHOD_LBFGS, phase_iters = 3 was the most accurate method
 *     measured at 5 s (examples/poisson_highdim.c, three starts: 1.3-1.8x below the
 *     PINN's L-BFGS and LM at d = 100; at 60 s the recommended LM draws level), though
 *     no method reached 1e-2 there: the network class is the limit (bench_pde_suite
 *     fit-lbfgs: 100-64-1 or 100-32-1 fitted to the exact solution itself ends at 1.0e-2,
 *     the level of the best linear function of x). Elsewhere
 *     SAPM on a PDE (SAPM-PINN / LySep, arXiv 2507.12766) is for studying those methods:
 *     on par with the PINN's L-BFGS at best, behind LM.
 *   Regression data: LM for networks of up to a few thousand parameters, L-BFGS beyond.
 *     PM / SAPM run their auxiliary iteration for the whole budget and lost to both on
 *     every target measured (bench/bench_sapm.c); from a chaotic start (U(-1,1) weights,
 *     depth >= 14) call sapm_net_rescale_chaos first, whatever the method.
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
 *   sapm_net_forward_derivs(&net, N, X, ldx, U, ldu, dU, lapU)  u, du/dx_i, Laplacian
 *   sapm_net_loss(&net, N, X, ldx, Y, ldy, &j)         J_LS = mean |u - y|^2
 *   sapm_net_gradient(&net, N, X, ldx, Y, ldy, &j, g)  J_LS and dJ_LS/dparams
 *   sapm_net_save(&net, path), sapm_net_load(&net, path)   model files (+ _mem variants)
 *
 *   -- training (one method enum for data and PDEs: GD, ADAM, LBFGS, LM, PM, SAPM;
 *      opt.polish adds a second phase on the same run)
 *   sapm_default_options(method)                       options with measured defaults
 *   sapm_train(&net, N, X, ldx, Y, ldy, &opt, &rep)    train on data; rep: history, stop, message
 *   sapm_report_free(&rep)                             free a report's history
 *   sapm_method_name(m), sapm_stop_reason_string(s)    names for printing
 *   sapm_aux_default_options(&a), sapm_aux_paper_options(&a)  PM/SAPM: ours / the paper's
 *   sapm_aux_create / _step / _losses / _bytes / _destroy  PM/SAPM one outer iteration at a time
 *   sapm_net_rescale_chaos(&net, N, X, ldx, &chi)      edge-of-chaos rescale of a start
 *
 *   -- PDEs (sum_i c_i d_i u + kappa Lap u + c_0 u = f in Omega, u = g on Gamma)
 *   sapm_pde.bc, box_lo, box_hi                       Dirichlet/Neumann/Robin/initial rate per face
 *   sapm_pde.residual (sapm_pde_residual_fn)          nonlinear r(x, u, grad u, Lap u) + partials
 *   sapm_pde.theta, X_data, u_data                    inverse problems: fitted coefficients
 *   sapm_sample_uniform / _halton / _grid / _boundary  points in or on a box [lo, hi]^d
 *   sapm_pde_default_options(method)                   PINN by any method; SAPM = SAPM-PINN / LySep
 *   sapm_pde_default_widths(d, widths)                 the recommended network (d-W-1)
 *   sapm_pde_balance_beta(&net, &pde, ..., mode, alpha, &beta)  the automatic boundary weight
 *   sapm_pde_train(&net, &pde, N, X, M, Xb, &opt, &rep) train on interior + boundary points
 *   sapm_pde_loss(&net, &pde, ...), sapm_pde_errors(&net, n, X, ...)  J_PINN; rel. L2, max
 *   sapm_pde_exact_values(&pde, n, X, u)               the exact solution callback at points
 *   sapm_lysep_default_options(), sapm_lysep_bound_constant(L, order)  J_PINN <= C J_aux
 *   sapm_pde_aux_create / _step / _losses / _destroy  SAPM-PINN/LySep one iteration at a time
 *
 *   -- output (PNG needs stb_image_write; else SAPM_ERR_NOT_COMPILED_IN)
 *   sapm_png_heatmap(path, nx, ny, v, vmin, vmax, title) one field with a viridis colour bar
 *   sapm_png_heatmaps(path, count, nx, ny, fields, titles) panels side by side (_ex: axes)
 *   sapm_heatmap_grid(nx, ny, x0, x1, y0, y1, X)       the points a heatmap's cells show
 *   sapm_png_plot(path, n, series, title, xl, yl, log_y) line plot; _plot_history: reports
 *   sapm_csv_write_history(path, n, reports, labels), sapm_csv_write_grid(...)   CSV
 *   sapm_render_heatmaps / _plot, sapm_png_write, sapm_image_free  in-memory images
 *
 * LICENSE
 *
 *   See end of file.
 */

#ifndef SAPM_H_INCLUDED
#define SAPM_H_INCLUDED

#define SAPM_VERSION_MAJOR 0
#define SAPM_VERSION_MINOR 6
#define SAPM_VERSION_PATCH 0
#define SAPM_VERSION_STRING "0.6.0"

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
    SAPM_ERR_CALLBACK               = -14  /* a user callback returned NaN/Inf (or an error) */
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

/* Lipschitz constant K of sigma (sup |sigma'|), used by the SAPM weights:
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

/* A fully connected network depth L weight layers, widths n_0 = d .. n_L = m,
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
    SAPM_INIT_UNIFORM = 0,  /* the paper's start: every weight and bias U(-scale, scale) */
    SAPM_INIT_XAVIER        /* weights U(-r, r), r = scale * sqrt(6 / (n_in + n_out)),
                               biases 0 (scale 1 is Glorot's) */
} sapm_init;

SAPMDEF sapm_result sapm_net_create(sapm_net *net, int depth, const int *widths,
                                    sapm_activation act);
SAPMDEF void        sapm_net_destroy(sapm_net *net);   /* safe on a zeroed or NULL net */
SAPMDEF sapm_result sapm_net_init(sapm_net *net, sapm_init init, double scale, uint64_t seed);
/* Deep copy into dst (created by this call; destroy it yourself). */
SAPMDEF sapm_result sapm_net_copy(sapm_net *dst, const sapm_net *src);

/* u(x) for N samples: X is N x n_0 (ldx >= n_0), U is N x n_L (ldu >= n_L). NaN/Inf in X:
 * SAPM_ERR_NONFINITE_INPUT. Allocates nothing when min(N, 256) (n_0 + n_L + 2 x the sum of
 * the hidden widths) + 8 (L + 1) <= 2048 (one point of a net with up to ~1000 hidden units
 * in all, or a few points of a smaller one). */
SAPMDEF sapm_result sapm_net_forward(const sapm_net *net, int N, const double *X, int ldx,
                                     double *U, int ldu);

/* -- evaluation of a network on data */

/* J_LS = (1/N) sum_n |u(x_n) - y_n|^2 of the network as it is. X is N x n_0
 * (ldx >= n_0), Y is N x n_L (ldy >= n_L). NaN/Inf in X or Y: SAPM_ERR_NONFINITE_INPUT. */
SAPMDEF sapm_result sapm_net_loss(const sapm_net *net, int N, const double *X, int ldx,
                                  const double *Y, int ldy, double *j_ls);

/* J_LS and its exact gradient by back-propagation: grad has net->n_params entries in the
 * layout of net->params (W_1, b_1, W_2, b_2, ...). Either j_ls or grad may be NULL (not
 * both: SAPM_ERR_NULL_ARGUMENT). */
SAPMDEF sapm_result sapm_net_gradient(const sapm_net *net, int N, const double *X, int ldx,
                                      const double *Y, int ldy, double *j_ls, double *grad);

/* u, all first input derivatives and the Laplacian by the exact forward recursions of the derivative tape:
 *   U    N x m, row stride ldu >= m                  U[n*ldu + k]          = u_k(x_n)
 *   dU   N x (m*d), contiguous (may be NULL)          dU[n*(m*d) + k*d + i] = du_k/dx_i (x_n)
 *   lapU N x m, contiguous (may be NULL)              lapU[n*m + k]         = Laplacian of u_k
 * (d = n_0, m = n_L). ReLU nets: sigma'' = 0 is used, so lapU is the Laplacian almost
 * everywhere (0 for a piecewise linear net) and dU is exact away from the kinks. */
SAPMDEF sapm_result sapm_net_forward_derivs(const sapm_net *net, int N, const double *X,
                                            int ldx, double *U, int ldu, double *dU,
                                            double *lapU);

/* ======================================================================================
 * Declarations: model files
 * ====================================================================================== */

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
 * held before is destroyed first; pass a zeroed net the first time).
 * sapm_net_load reads the 32-byte header first and then only the size it states; a path
 * that is not a regular file (a FIFO, a device, a directory) is SAPM_ERR_IO, unread.
 * sapm_net_save (and the PNG and CSV writers) write a temporary file next to path and
 * rename it over path when complete: a failed save leaves path as it was. A device or a
 * FIFO (e.g. /dev/stdout) is written in place and never removed. */
SAPMDEF size_t      sapm_net_file_size(const sapm_net *net);  /* bytes, 0 for a bad net */
SAPMDEF sapm_result sapm_net_save_mem(const sapm_net *net, void *buf, size_t cap,
                                      size_t *written);
SAPMDEF sapm_result sapm_net_load_mem(sapm_net *net, const void *buf, size_t size);
#ifndef SAPM_NO_STDIO
SAPMDEF sapm_result sapm_net_save(const sapm_net *net, const char *path);
SAPMDEF sapm_result sapm_net_load(sapm_net *net, const char *path);
#endif

/* ======================================================================================
 * Declarations: training - one method enum, options, runs and reports
 *
 * Every training call (sapm_train for data, sapm_pde_train for PDEs) is one *run*: it owns
 * the clock, the iteration and time budgets (totals over every phase), the history, the
 * live progress callback and the stop rules. A run has one or two *phases*: the method in
 * opt.method and, when opt.polish names another method, a second phase that continues
 * from the first one's parameters on the same run (same budgets, same callback; each
 * history entry names the phase that produced it). Each method exists once and works on
 * any problem:
 *
 *   method         data (sapm_train)                   PDE (sapm_pde_train)
 *   GD, ADAM,      the least-squares loss J_LS by      J_PINN by back-propagated
 *   LBFGS          back-propagated gradients           gradients (the ordinary PINN)
 *   LM             Levenberg-Marquardt on the residuals u(x_n) - y_n  /  the PINN residuals
 *   PM             auxiliaries per layer, fixed        derivative auxiliaries, fixed
 *                  penalty (arXiv 2504.21501)          constraint weights
 *   SAPM           self-adaptive penalty model         SAPM-PINN for first-order operators,
 *                  (arXiv 2504.21501)                  LySep for second-order operators
 *                                                      (arXiv 2507.12766)
 *
 * The polish phase may be GD, ADAM, LBFGS or LM.
 * ====================================================================================== */

typedef enum sapm_method {
    SAPM_METHOD_NONE = 0,   /* no method (as opt.polish: no second phase) */
    SAPM_METHOD_GD,         /* full-batch gradient descent */
    SAPM_METHOD_ADAM,       /* Adam (Kingma & Ba, PyTorch's form) */
    SAPM_METHOD_LBFGS,      /* L-BFGS with a strong-Wolfe line search */
    SAPM_METHOD_LM,         /* Levenberg-Marquardt (damped Gauss-Newton, SYRK + Cholesky) */
    SAPM_METHOD_PM,         /* auxiliary variables with a fixed penalty */
    SAPM_METHOD_SAPM,       /* auxiliary variables with self-adaptive penalty weights */
    SAPM_METHOD_COUNT
} sapm_method;

typedef enum sapm_stop_reason {
    SAPM_STOP_NONE = 0,         /* not stopped (or not run) */
    SAPM_STOP_MAX_ITERS,        /* reached max_iters (total over the phases) */
    SAPM_STOP_TIME_BUDGET,      /* wall-clock budget spent (total over the phases) */
    SAPM_STOP_TARGET_LOSS,      /* true loss (J_LS / J_PINN) <= target_loss */
    SAPM_STOP_GRAD_TOL,         /* gradient norm <= grad_tol */
    SAPM_STOP_REL_TOL,          /* relative loss change <= rel_tol */
    SAPM_STOP_USER,             /* the progress callback asked to stop */
    SAPM_STOP_DIVERGED,         /* NaN/Inf loss: last good parameters restored */
    SAPM_STOP_LINE_SEARCH,      /* no decrease along the search direction (limit of precision) */
    SAPM_STOP_ERROR             /* an error code ended the run (see report.status) */
} sapm_stop_reason;

SAPMDEF const char *sapm_stop_reason_string(sapm_stop_reason s);
SAPMDEF const char *sapm_method_name(sapm_method m);   /* "L-BFGS", "SAPM", ... */

/* What a progress callback sees at each logged iteration. */
typedef struct sapm_progress {
    sapm_method method; /* the method of the phase that produced this entry */
    const char *phase;  /* its label: "Adam", "L-BFGS", "LM", "PM", "SAPM", "SAPM-PINN",
                           "LySep"; a polish phase reads e.g. "L-BFGS (polish)" */
    int iter;           /* iteration of the run, counted over every phase (0 = initial state) */
    double seconds;     /* wall time since the start of the run */
    double mse;         /* the true loss of the forward network: J_LS (data) or J_PINN */
    double loss;        /* the phase's own loss: J_LS, J_PM, J_SAPM, the auxiliary PINN loss */
    double error;       /* held-out error (data: test MSE; PDE: relative L2), NaN without
                           test points */
} sapm_progress;

/* Return 0 to go on, nonzero to stop the run (report.stop = SAPM_STOP_USER); the
 * parameters are those of the iteration the callback saw. SAPM_PROGRESS_CHECKPOINT
 * (alone: go on; or'ed with SAPM_PROGRESS_STOP: then stop) writes a checkpoint of that
 * iteration to opt.checkpoint_path first. */
typedef int (*sapm_progress_fn)(const sapm_progress *p, void *user_data);
#define SAPM_PROGRESS_STOP       1
#define SAPM_PROGRESS_CHECKPOINT 0x10000

/* Reduction hook for data-parallel training: sum buf[0..n) across all workers in place.
 * Every per-sample sum the optimizers form (losses, gradients, Gram matrices and their
 * right-hand sides) passes through it before it is used, and so do the run's decisions
 * (the clock read by time_budget / phase_time / log_seconds, a callback's stop request),
 * so every worker takes the same steps and stops at the same iteration. Each worker holds
 * its own share of the samples (sapm_shard) and passes the same options; the hook must
 * give every worker the same sums (MPI_Allreduce does: sapm_mpi_allreduce under
 * SAPM_USE_MPI). A bad argument on one worker returns there before the first reduction
 * while the others wait in it, so validate the data on every worker. NULL = one worker.
 * LM then solves in parameter space (P^2 + P + 1 numbers summed per Jacobian). */
typedef sapm_result (*sapm_allreduce_fn)(double *buf, size_t n, void *user_data);

/* This worker's contiguous share of n samples among `workers`: [*first, *first + *count),
 * the first n % workers workers holding one more. Returns SAPM_ERR_INVALID_SIZE (and an
 * empty share) unless n >= 0, workers >= 1 and 0 <= worker < workers. */
SAPMDEF sapm_result sapm_shard(int n, int worker, int workers, int *first, int *count);

typedef sapm_progress sapm_history_entry;

/* Filled by a training call. history is allocated by the library (one entry per logged
 * iteration, the initial state and the final state included); free with sapm_report_free.
 * message is a sentence naming the cause when status != SAPM_OK (the argument or option
 * and the phase that rejected it), "" otherwise. */
typedef struct sapm_report {
    sapm_result status;         /* SAPM_OK, or the error that ended the run */
    sapm_stop_reason stop;
    int iters;                  /* iterations performed, over every phase */
    double seconds;
    double mse;                 /* final true loss of the forward network */
    double loss;                /* final loss of the last phase */
    double error;               /* final held-out error (NaN without test points) */
    sapm_history_entry *history;
    int history_count;
    int history_capacity;
    char message[192];
} sapm_report;

SAPMDEF void sapm_report_free(sapm_report *rep);

/* Options of the gradient-based and Gauss-Newton methods. Adam is Kingma & Ba's with bias
 * correction in PyTorch's form; L-BFGS is the two-loop recursion with a strong-Wolfe line
 * search (c1 = 1e-4, c2 = 0.9, cubic interpolation, at most 25 evaluations per iteration);
 * LM is damped Gauss-Newton with Nielsen's damping rule, extra damping trials per
 * Jacobian and geodesic acceleration ("Levenberg-Marquardt phase" in the implementation).
 * Each field is validated whenever a phase of the run will read it. */
typedef struct sapm_ls_options {
    double adam_beta1;          /* Adam first-moment decay, in [0, 1) (default 0.9) */
    double adam_beta2;          /* Adam second-moment decay, in [0, 1) (default 0.999) */
    double adam_eps;            /* Adam denominator guard, > 0 (default 1e-8) */
    int lbfgs_memory;           /* number of stored (s, y) pairs, 1..1000 (default 10) */
    double lm_damping;          /* LM: initial damping mu_0 relative to the largest diagonal
                                   entry of the Gram matrix, > 0 (default 1e-3) */
    int lm_trials;              /* LM: extra damping trials per Jacobian after a very good
                                   step (gain > 3/4: mu / 10 while J keeps falling), each one
                                   Cholesky and one residual evaluation on the same Gram
                                   matrix, 0..30 (default 4; 0 = one accepted damping per
                                   Jacobian and Nielsen's rule alone, the form of 0.3) */
    double lm_geodesic;         /* LM: geodesic acceleration (Transtrum & Sethna, arXiv
                                   1201.5885): each damped step v gets the second-order
                                   correction a / 2 when 2 ||a|| <= lm_geodesic ||v||, at
                                   one more residual evaluation (no Jacobian) per trial;
                                   in [0, 2], 0 = off (default 0.75, Transtrum's value;
                                   on bench/bench_pde_suite.c the median error after 10 s
                                   fell 4-800x on all 9 problems, see the LM phase).
                                   Not used with lm_blocks = 1 */
    int lm_blocks;              /* LM: 0 = full Gauss-Newton (default); 1 = block-diagonal
                                   Gauss-Newton (the per-layer approximation used by
                                   K-FAC-type natural-gradient PINN optimizers): one block
                                   per layer (W_l with b_l; a PDE's trainable coefficients
                                   theta one more block), each solving
                                   (G_l^T G_l + mu I) delta_l = -G_l^T rho on its own with
                                   the same mu; the cross-layer curvature is dropped. Per
                                   Jacobian: SYRKs of n sum P_l k_l / 2 and per trial
                                   Choleskys of sum k_l^3 / 3, k_l = min(n, P_l), instead of
                                   n P k / 2 and k^3 / 3, k = min(n, P); memory 16 sum k_l^2
                                   bytes instead of 16 k^2; several workers sum sum P_l^2
                                   numbers instead of P^2. Measured (bench_pde_suite, 10 s,
                                   one thread): behind full LM on every problem tried, by
                                   a factor 7 to 8 orders of magnitude in the held-out
                                   error (Poisson 2-D, d-32-1: 5.3e-3 against 3.0e-11);
                                   see "Levenberg-Marquardt phase". 0..1 (default 0) */
} sapm_ls_options;

/* How PM/SAPM update the auxiliaries a_l (see "PM and SAPM" in the implementation). */
typedef enum sapm_aux_update {
    SAPM_AUX_GD = 0,    /* a gradient step with a fixed rate: a_l -= tau * grad_{a_l} (N J);
                           diverges once 2 tau w_1 > 1 (w_1 grows like prod ||W_j||^2, ~1e11
                           at L = 10), so no fixed tau serves every depth */
    SAPM_AUX_GD_SCALED, /* the paper's form (sapm_aux_paper_options): the same gradient step
                           with the rate normalised by the block's curvature bound,
                           tau / (2 (w_l + w_{l+1} K^2 ||W_{l+1}||_F^2)); tau = 1 is the
                           1/Lipschitz step of the Gauss-Newton part of the block loss */
    SAPM_AUX_GN,        /* ours (default): per-sample Gauss-Newton / Levenberg-Marquardt step,
                           (w_l (1 + mu) I + w_{l+1} D W^T W D) delta = -grad/2, one small SPD
                           solve per sample, accepted per sample only if it lowers the block loss */
    SAPM_AUX_UPDATE_COUNT
} sapm_aux_update;

/* Order in which the auxiliary layers are updated inside one outer iteration. */
typedef enum sapm_aux_sweep {
    SAPM_SWEEP_JACOBI = 0,  /* the paper's form: every layer from the same state (simultaneous) */
    SAPM_SWEEP_BACKWARD,    /* ours (default): Gauss-Seidel l = L-1 .. 1 (targets flow down) */
    SAPM_SWEEP_FORWARD,     /* ours: Gauss-Seidel l = 1 .. L-1 (data flows up from x) */
    SAPM_SWEEP_SYMMETRIC,   /* ours: backward then forward */
    SAPM_SWEEP_COUNT
} sapm_aux_sweep;

/* Options of PM and SAPM on data (sapm_train). Two presets, each documented field by field:
 *
 *   field          the paper's form (sapm_aux_paper_options)   ours (sapm_aux_default_options)
 *   pm_lambda      1 (PM only)                                  1 (PM only)
 *   tau            1 (relative to the curvature bound)          1e-2 (read by GD steps only)
 *   ridge          1e-10                                        1e-10
 *   update         SAPM_AUX_GD_SCALED (a gradient step)         SAPM_AUX_GN
 *   sweep          SAPM_SWEEP_JACOBI                            SAPM_SWEEP_BACKWARD
 *   lm_damping     (not read)                                   1e-2
 *   omega_norm     0 (Frobenius, as stated)                     1 (spectral)
 *   resync_every   1 (auxiliaries start each outer iteration    1
 *                  at the forward pass: a choice the paper
 *                  leaves open, see "PM and SAPM on data")
 *
 * Both run the auxiliary-variable iteration for the whole budget: neither adds a second
 * phase or touches the initial network (opt.polish and sapm_net_rescale_chaos are the
 * caller's to ask for). */
typedef struct sapm_aux_options {
    double pm_lambda;           /* paper: PM's fixed penalty lambda (w_l = lambda, l < L); 1.
                                   Also the fixed constraint weight of PM on a PDE */
    double tau;                 /* paper: the rate of the gradient steps on the auxiliaries:
                                   absolute with SAPM_AUX_GD, relative to the block's curvature
                                   bound with SAPM_AUX_GD_SCALED (paper preset 1); default 1e-2 */
    double ridge;               /* paper: the adaptive sqrt(lambda_n) I term of every weight
                                   solve, relative: lambda_n = ridge * tr(H H^T) / (n_{l-1} + 1),
                                   multiplied by 10 and retried while Cholesky fails; 1e-10 */
    sapm_aux_update update;     /* see sapm_aux_update; default SAPM_AUX_GN, paper
                                   SAPM_AUX_GD_SCALED */
    sapm_aux_sweep sweep;       /* see sapm_aux_sweep; default SAPM_SWEEP_BACKWARD, paper
                                   SAPM_SWEEP_JACOBI */
    double lm_damping;          /* ours: initial damping mu of the GN steps, relative to w_l,
                                   adapted per sample (x1/3 on success, x4 on failure); 1e-2 */
    int omega_norm;             /* 0 = the paper's form, w_l from ||W_j||_F^2; 1 = ours (default),
                                   from the spectral norm ||W_j||_2^2 (power iteration, +1%):
                                   smaller weights, and J_LS <= L J_SAPM still holds */
    int resync_every;           /* SAPM only: every k outer iterations the auxiliaries start
                                   at the forward pass a_l = z_l(x_n) of the current weights,
                                   take the auxiliary step, then the weights are solved;
                                   0 = they start at the forward pass once and persist.
                                   Default and paper preset 1 (the paper leaves the
                                   auxiliaries' initialisation open; see "PM and SAPM on
                                   data" for what 0 does) */
} sapm_aux_options;

/* Options of every training call. Budgets are totals over the run's phases:
 *   max_iters     iterations of the run; 0 = no cap when time_budget > 0, else the default
 *                 cap (1000 for sapm_train, 5000 for sapm_pde_train);
 *   time_budget   seconds of wall time, 0 = unlimited.
 * A polish phase (polish != NONE) starts when the first phase hands over: after
 * phase_iters iterations (0 = no iteration limit of its own), after phase_time *
 * time_budget seconds (0 = none), or when the first phase converges by its own rule
 * (gradient / relative-change tolerance, line search).
 * Stop rules (the first that holds ends the run and is reported in sapm_report.stop):
 *   SAPM_STOP_DIVERGED     the loss became NaN/Inf: the last parameters with a finite loss
 *                          are restored, status SAPM_ERR_DIVERGED;
 *   SAPM_STOP_USER         the progress callback returned nonzero;
 *   SAPM_STOP_TARGET_LOSS  target_loss > 0 and the true loss <= target_loss;
 *   SAPM_STOP_MAX_ITERS    max_iters iterations done over every phase;
 *   SAPM_STOP_TIME_BUDGET  time_budget > 0 and that many seconds spent;
 *   SAPM_STOP_GRAD_TOL     grad_tol > 0 and ||grad J||_2 <= grad_tol (also when grad = 0);
 *   SAPM_STOP_REL_TOL      rel_tol > 0 and |J_k - J_{k-1}| <= rel_tol max(|J_{k-1}|, DBL_MIN);
 *   SAPM_STOP_LINE_SEARCH  L-BFGS / LM found no decrease (status SAPM_OK).
 * The last three end the first phase and start the polish when there is one.
 * Every option that a phase of the run reads is validated before the first iteration. */
typedef struct sapm_options {
    sapm_method method;         /* the (first) phase's method */
    sapm_method polish;         /* second phase: NONE, GD, ADAM, LBFGS or LM */
    int phase_iters;            /* with a polish: iterations of the first phase (0: no limit) */
    double phase_time;          /* with a polish: the first phase's share of time_budget,
                                   in [0, 1] (0: no limit) */
    int max_iters;              /* see above (>= 0) */
    double time_budget;         /* see above (>= 0) */
    double target_loss;         /* stop when the true loss <= target, 0 = off */
    double grad_tol;            /* stop when ||grad||_2 <= grad_tol (gradient methods), 0 = off */
    double rel_tol;             /* stop when |dJ| <= rel_tol * max(|J|, tiny), 0 = off */
    double learning_rate;       /* GD / Adam step; 0 = method default (GD 1e-2, Adam 1e-3) */
    int log_every;              /* history + callback every log_every iterations, 0 = off */
    double log_seconds;         /* ... and whenever log_seconds of wall time have passed
                                   since the last entry, 0 = off (default 0.5); the initial
                                   and final states are always recorded */
    sapm_progress_fn progress;  /* may be NULL */
    void *user_data;
    sapm_allreduce_fn allreduce;/* may be NULL (one worker) */
    void *allreduce_user_data;
    int n_test;                 /* held-out points for progress.error, 0 = none */
    const double *X_test;       /* n_test x n_0, contiguous */
    const double *Y_test;       /* data: n_test x n_L targets, contiguous (error = test MSE);
                                   PDE: n_test exact values, or NULL to use pde->exact
                                   (error = relative L2) */
    const char *checkpoint_path;/* where checkpoints go (NULL: none): the run's whole state
                                   (parameters, the phase's optimizer state, counters,
                                   clock, history) in a checksummed file, written to a
                                   temporary file in the same directory and renamed over
                                   the old one, so a crash never leaves a broken file.
                                   GD, Adam, L-BFGS and LM phases (first phase or
                                   polish) and PM / SAPM on data (with their
                                   auxiliaries); SAPM-PINN, LySep and PM on a PDE
                                   reject it (SAPM_ERR_UNSUPPORTED).
                                   Several workers: give each its own path. */
    int checkpoint_every;       /* a checkpoint every k iterations (0: only when the
                                   callback returns SAPM_PROGRESS_CHECKPOINT) */
    const char *resume_from;    /* NULL: a new run; else continue the run of this
                                   checkpoint: the same call (method, polish, data or PDE,
                                   network shape) with the same options goes on from the
                                   saved iteration, bit for bit as the uninterrupted run
                                   (same thread count and workers); the net's parameters
                                   are replaced by the saved ones. The budgets count the
                                   saved iterations and seconds. */
    sapm_ls_options ls;
    sapm_aux_options aux;
} sapm_options;

/* Recommended options for a method on data (measured defaults; see each method's notes):
 * max_iters 0 (1000 without a time budget), log_every 10, log_seconds 0.5, polish NONE
 * for every method (so the method named runs for the whole budget), aux =
 * sapm_aux_default_options (ours). For the paper's form of PM/SAPM call
 * sapm_aux_paper_options(&opt.aux); for "SAPM, then L-BFGS" set polish =
 * SAPM_METHOD_LBFGS and phase_iters (measured: 5, bench/bench_sapm.c). */
SAPMDEF sapm_options sapm_default_options(sapm_method method);

/* Train net on the data set (X, Y) (sample-major; NaN/Inf rejected) with the phases of opt,
 * starting from the parameters net holds. rep (may be NULL) is overwritten - free an old
 * report with sapm_report_free first - and receives the history, the final J_LS and why the
 * run stopped. On SAPM_ERR_DIVERGED the net holds the last parameters whose loss was
 * finite. Every method of sapm_method runs here, LM on the residuals u(x_n) - y_n
 * (memory 8 (N m P + 2 k^2) bytes, k = min(N m, P), P parameters). */
SAPMDEF sapm_result sapm_train(sapm_net *net, int N, const double *X, int ldx, const double *Y,
                               int ldy, const sapm_options *opt, sapm_report *rep);

/* ======================================================================================
 * Declarations: PM and SAPM on data
 *
 * sapm_train with opt.method = SAPM_METHOD_PM or SAPM_METHOD_SAPM trains a regression
 * network by Algorithm 1 of arXiv 2504.21501 on pre-activation auxiliaries a_l ~ z_l(x_n):
 * closed-form least-squares weight blocks (SYRK + GEMM + Cholesky, with the adaptive
 * ridge), auxiliary updates, w_l recomputed every outer iteration. Every logged iteration
 * of this phase reports loss = J_SAPM (or J_PM) and mse = J_LS of the forward network; for
 * SAPM J_LS <= L J_SAPM holds at every state (tests/test_sapm.c checks it).
 *
 * Both presets below run this iteration for the whole budget (no second phase unless
 * opt.polish asks for one; the start is the caller's network, untouched).
 *
 *   the paper's form (sapm_aux_paper_options): what arXiv 2504.21501 states - closed-form
 *     least-squares weight blocks L..1, one gradient step on every a_l from the same state
 *     (Jacobi), w_l = prod_{j>l} ||W_j||_F^2 K^2 recomputed every outer iteration, fixed
 *     lambda for PM. The choices the paper leaves open, and ours for them:
 *     - the step rule: the rate is normalised by the block's curvature bound
 *       (SAPM_AUX_GD_SCALED, tau = 1). A fixed rate (SAPM_AUX_GD) cannot serve: it
 *       diverges once 2 tau w_1 > 1 and w_1 spans 1e2..1e20 across depths and starts.
 *     - the auxiliaries' initialisation: the forward pass a_l = z_l(x_n) of the current
 *       weights at the start of every outer iteration (resync_every = 1), then the
 *       gradient step, then the weight solves, which thus fit the stepped targets. Kept
 *       from one outer iteration to the next instead (resync_every = 0), the least-squares
 *       refit of consistent targets leaves errors ~1e-10 that w_1 ~ 1e12..1e20 amplifies
 *       into J_SAPM ~ 1e7, and from a Xavier start with zero biases the odd symmetry of
 *       the network holds the MSE at the target's variance (sin(x^2), L = 10: MSE 0.18
 *       after 1000 outer iterations, against 1.9e-3 with the re-initialisation).
 *     - the ridge: lambda_n = 1e-10 tr(H H^T) / (n + 1), grown tenfold while Cholesky fails.
 *     - iteration counts: one gradient step per outer iteration; the budget is the run's.
 *     Measured (examples/sin_regression.c, sin(x^2), L = 10, width 20, Xavier): J_SAPM rises
 *     over the first ~10 outer iterations while the output layer's least-squares solve
 *     grows ||W_L|| and with it every w_l, then J_SAPM and the MSE fall together; the
 *     MSE is far below gradient descent's at equal iterations (examples/sin_regression.c
 *     prints both).
 *   ours (sapm_aux_default_options, the default): per-sample Gauss-Newton/Levenberg-
 *     Marquardt steps on a_l (backward sweep) and w_l from spectral norms (the bound still
 *     holds), same re-initialisation. On the demo problem it is ahead of the paper's form
 *     for the first ~20 outer iterations (MSE 7.6e-4 at 20) and then drifts up to 2.9e-3 at
 *     1000 while J_SAPM keeps falling: spectral w_l are smaller, the bound looser (with
 *     omega_norm = 0 the same steps end at 2.1e-3, monotone). What we measured and why
 *     (bench/bench_sapm.c, examples/depth_study.c): both forms are far slower than
 *     L-BFGS on J_LS from a good start (each outer iteration moves layer l by
 *     ~ |du/dz_l|^2 / w_l, tiny for deep layers); a short auxiliary phase followed by an L-BFGS polish is opt.polish =
 *     SAPM_METHOD_LBFGS, opt.phase_iters = 5. The failures of every method from U(-1,1) at
 *     L >= 14 are a generalisation failure of chaotic networks (train MSE 1e-6, test
 *     1e-2); sapm_net_rescale_chaos before any method removes them.
 * ====================================================================================== */

/* Our best form of PM/SAPM, the default (chosen by bench/bench_sapm.c; the table above
 * sapm_aux_options lists every field). Overwrites every field. */
SAPMDEF void sapm_aux_default_options(sapm_aux_options *a);

/* The paper's form of Algorithm 1 (arXiv 2504.21501): gradient steps on the auxiliaries
 * with the rate normalised by each block's curvature (tau = 1), all layers from the same
 * state (Jacobi), w_l from Frobenius norms recomputed every outer iteration, auxiliaries
 * starting each outer iteration at the forward pass (see "PM and SAPM on data" for why).
 * Sets update, tau, sweep, omega_norm and resync_every; pm_lambda, ridge and lm_damping
 * are kept as given. */
SAPMDEF void sapm_aux_paper_options(sapm_aux_options *a);

/* Edge-of-chaos rescaling of a network for the inputs X (N x n_0, ldx >= n_0), an
 * initialisation utility (ours) for any method, called before training: for
 * the hidden layers l = 2..L-1 in order, W_l <- W_l / sqrt(chi_l) where the mean-field
 * gain chi_l = (||W_l||_F^2 / n_l) mean_n,i sigma'(z_{l-1,i}(x_n))^2 exceeds 1 (Poole et
 * al. 2016: chi > 1 is the chaotic phase, where a deep net interpolates its training points
 * wildly). *chi_max (may be NULL) receives max_l chi_l before the rescaling. No training
 * method calls it on its own. */
SAPMDEF sapm_result sapm_net_rescale_chaos(sapm_net *net, int N, const double *X, int ldx,
                                           double *chi_max);

/* -- step API: one outer iteration of PM/SAPM at a time (for studies and benchmarks)
 *
 *   sapm_aux_state *st;
 *   sapm_aux_create(&st, &net, N, X, ldx, Y, ldy, &opt);   auxiliaries = forward pass
 *   sapm_aux_step(st);                                     one outer iteration of Algorithm 1
 *   sapm_aux_losses(st, &j_aux, &j_ls);                    J_SAPM / J_PM and J_LS
 *   sapm_aux_destroy(st);
 *
 * The state keeps pointers to net, X and Y (they must outlive it) and updates net->params
 * in place. opt.method must be PM or SAPM; opt.aux and opt.allreduce are read (validated
 * by create); budgets, callback and polish are not (they belong to sapm_train's run). */
typedef struct sapm_aux_state sapm_aux_state;
SAPMDEF sapm_result sapm_aux_create(sapm_aux_state **st, sapm_net *net, int N, const double *X,
                                    int ldx, const double *Y, int ldy, const sapm_options *opt);
SAPMDEF sapm_result sapm_aux_step(sapm_aux_state *st);
SAPMDEF sapm_result sapm_aux_losses(sapm_aux_state *st, double *j_aux, double *j_ls);
SAPMDEF size_t      sapm_aux_bytes(const sapm_aux_state *st);  /* workspace held, bytes */
SAPMDEF void        sapm_aux_destroy(sapm_aux_state *st);      /* safe on NULL */

/* ======================================================================================
 * Declarations: PDE problems, samplers and PINN training
 *
 * A linear PDE of order <= 2 on a domain Omega in R^d (d = 1..SAPM_PDE_MAX_DIM), Dirichlet
 * data on Gamma:
 *
 *     L u = sum_i c_i(x) d_i u + kappa(x) Laplace(u) + c_0(x) u = f(x)   in Omega,
 *                                                         u = g(x)   on Gamma,
 *
 *     J_PINN = alpha/N sum_n |L u(x_n) - f(x_n)|^2 + beta/M sum_m |u(xb_m) - g(xb_m)|^2.
 *
 * The network must have n_0 = d inputs and n_L = 1 output (m for a system). Interior
 * points X (N x d) and boundary points Xb (M x d) are row-major, given by the caller or
 * produced by the samplers below. Each coefficient is either a callback (used when non-NULL) or a
 * constant; callbacks are evaluated once per training call at the given points, and
 * a NaN/Inf value makes the call return SAPM_ERR_CALLBACK.
 *
 * Beyond that linear Dirichlet problem (every field below defaults to it when zero):
 *   - boundary and initial conditions per face of a box (pde.bc): Dirichlet, Neumann,
 *     Robin and, on the initial face of a time coordinate, the initial rate u_t; the
 *     outward normal of each face is the library's. Each condition adds a residual
 *     a u + b du/dn - h (a row of the boundary sum of J_PINN);
 *   - a weighted Laplacian sum_i w_i d_i^2 u (pde.lap_weights: w = 0 on a time axis);
 *   - a nonlinear residual r(x, u, grad u, Laplace u; theta) from a callback with its
 *     partial derivatives (pde.residual), which replaces L u - f;
 *   - systems: m unknowns (the network's outputs) and n_eq equations coupled through
 *     that callback, conditions per component (pde.m, pde.n_eq, sapm_pde_bc.component);
 *   - inverse problems: trainable scalar coefficients theta of that residual fitted
 *     jointly with the network from measurements u(x_k) = u_k (pde.theta, pde.X_data):
 *
 *     J_PINN = alpha/N sum_n r_n^2 + beta/M' sum_rows (a u + b du/dn - h)^2
 *              + gamma/K sum_k (u(x_k) - u_k)^2      (M' = rows of the boundary sum;
 *                                                     a system: every sum is the mean
 *                                                     over its rows, N n_eq and K m).
 *
 * GD, Adam, L-BFGS and LM train all of these with exact gradients and Jacobian rows.
 * PM and SAPM on a PDE (SAPM-PINN, LySep) solve their layer blocks in closed form from
 * the linear operator and Dirichlet data: with a nonlinear residual, trainable
 * coefficients, measurements, a weighted Laplacian or a condition other than
 * Dirichlet, or a system, they return SAPM_ERR_UNSUPPORTED (report.message names the
 * reason).
 * ====================================================================================== */

/* A scalar field at one point x[0..d). */
typedef double (*sapm_pde_scalar_fn)(const double *x, int d, void *user_data);
/* A vector field at one point: writes out[0..d). */
typedef void (*sapm_pde_vector_fn)(const double *x, int d, double *out, void *user_data);

/* Boundary and initial conditions on one face of a box: a u + b du/dn = h, n the face's
 * outward unit normal (-e_i on {x_i = lo_i}, +e_i on {x_i = hi_i}). */
typedef enum sapm_bc_kind {
    SAPM_BC_DIRICHLET = 0,      /* u = h */
    SAPM_BC_NEUMANN,            /* du/dn = h */
    SAPM_BC_ROBIN,              /* a u + b du/dn = h (a, b finite, not both 0) */
    SAPM_BC_RATE,               /* du/dx_i = h along the face's own axis, +e_i whichever face:
                                   the initial rate u_t(0, x) = h on the face t = lo of a
                                   time coordinate (with a DIRICHLET initial value there) */
    SAPM_BC_KIND_COUNT
} sapm_bc_kind;

typedef struct sapm_pde_bc {
    int face;                   /* 2i: the face {x_i = lo_i}, 2i + 1: {x_i = hi_i} */
    sapm_bc_kind kind;
    double a, b;                /* ROBIN's coefficients (ignored by the other kinds) */
    sapm_pde_scalar_fn h;       /* the datum on the face, or NULL: pde->g */
    int component;              /* systems (pde->m > 1): the unknown u_c it constrains, 0..m-1 */
} sapm_pde_bc;

/* A nonlinear residual at n points (a block; called once per block and evaluation):
 * x (n x d), u (n), du (n x d: du/dx_i), lap (n: the weighted Laplacian, NULL unless
 * residual_order == 2), theta (the n_theta trainable coefficients, NULL without) in;
 * out: r (n residuals, preset to NaN: every one must be written), r_u (n), r_du (n x d),
 * r_lap (n; NULL unless order 2), r_theta (n x n_theta; NULL without): the partial
 * derivatives of r_j with respect to u_j, du_j/dx_i, lap_j and theta, preset to 0 (write
 * the nonzero ones). Return 0, or nonzero to stop the call with SAPM_ERR_CALLBACK. Before
 * the first iteration a NaN/Inf in r or a partial derivative is SAPM_ERR_CALLBACK; later
 * it counts as a diverging trial (line searches back off, GD/Adam stop as DIVERGED).
 * Systems (m = pde->m unknowns, q = pde->n_eq equations) use the same arrays with the
 * unknowns and equations innermost (all row-major; m = q = 1 is the layout above):
 *   u[j m + c], du[(j m + c) d + i], lap[j m + c]                 (unknown c at point j)
 *   r[j q + e], r_u[(j q + e) m + c], r_du[((j q + e) m + c) d + i],
 *   r_lap[(j q + e) m + c], r_theta[(j q + e) n_theta + k]        (equation e at point j)
 * Compiled with OpenMP the library calls it from several threads at once, each on its own
 * block of points and arrays: it must not write state that the calls share. */
typedef int (*sapm_pde_residual_fn)(int n, int d, const double *x, const double *u,
                                    const double *du, const double *lap, const double *theta,
                                    double *r, double *r_u, double *r_du, double *r_lap,
                                    double *r_theta, void *user_data);

typedef struct sapm_pde {
    int d;                      /* space dimension, 1..SAPM_PDE_MAX_DIM */
    sapm_pde_vector_fn c_fn;    /* first-order coefficients c(x), or NULL: then c_const */
    const double *c_const;      /* d constants c_i, or NULL (no first-order terms) */
    sapm_pde_scalar_fn kappa_fn;/* diffusion kappa(x), or NULL: then kappa_const */
    double kappa_const;         /* kappa constant (0: first-order operator) */
    sapm_pde_scalar_fn c0_fn;   /* reaction c_0(x), or NULL: then c0_const */
    double c0_const;
    sapm_pde_scalar_fn f;       /* right-hand side (required without residual) */
    sapm_pde_scalar_fn g;       /* Dirichlet data on Gamma (required unless every boundary
                                   point lies on a face with a condition in bc) */
    sapm_pde_scalar_fn exact;   /* exact solution for error reports (optional, may be NULL) */
    void *user_data;            /* passed to every callback */
    /* -- conditions per face of the box [box_lo, box_hi] (bc NULL: u = g at every Xb row).
     * A boundary point lies on face 2i (2i + 1) when |x_i - lo_i| (|x_i - hi_i|) <= 1e-10
     * (hi_i - lo_i); on an edge or corner it takes the conditions of its lowest-numbered
     * face that has any, on faces without any u = g (pde->g required then). Every
     * condition of that face gives the point one boundary residual (a face may carry
     * several: the initial value and rate of a wave equation). A point on no face is
     * SAPM_ERR_INVALID_ARGUMENT. */
    const double *box_lo, *box_hi;  /* d each (required with bc) */
    const sapm_pde_bc *bc;      /* n_bc conditions, in any order, or NULL */
    int n_bc;
    const double *lap_weights;  /* d weights w_i: Laplace(u) means sum_i w_i d_i^2 u in the
                                   kappa term and the residual (NULL: all 1) */
    /* -- nonlinear residual: used instead of c, kappa, c_0 and f when non-NULL */
    sapm_pde_residual_fn residual;
    int residual_order;         /* 1: r uses u and grad u; 2: also the Laplacian */
    /* -- systems: m unknowns u_0..u_{m-1} (the network's n_L = m outputs) and n_eq
     * equations per interior point, coupled through the residual callback (required for
     * m > 1); each condition of bc names its component, every boundary point must lie on
     * a face with conditions (pde->g is scalar), u_data is n_data x m, and the held-out
     * error needs Y_test (n_test x m). 0 means 1 (a scalar PDE). */
    int m;
    int n_eq;
    /* -- inverse problems: n_theta (0..SAPM_PDE_MAX_THETA) coefficients of the residual,
     * theta[] the initial guess, overwritten by sapm_pde_train with the fitted values;
     * n_data measurements u(X_data row k) = u_data[k] (X_data n_data x d; systems: u_data
 * n_data x m, every unknown measured), weighted by
     * gamma = data_weight (0: 1) in J_PINN. */
    int n_theta;
    double *theta;
    int n_data;
    const double *X_data, *u_data;
    double data_weight;
} sapm_pde;

#define SAPM_PDE_MAX_THETA 64
#define SAPM_PDE_MAX_UNKNOWNS 64

/* d above SAPM_PDE_MAX_DIM is rejected. Cost in d is linear: the samplers O(n d) (Halton
 * + O(d log d)); a second-order PINN's tape 8 (d + 2) (2 (n_1 + .. + n_L) + 2 max_l n_l)
 * bytes per point of a block (~1024 / (d + 2) points, at least 1, per thread), L-BFGS
 * 16 m P bytes for m pairs and P parameters (~ d n_1). Measured (bench/bench_dims.c, net
 * d-32-32-1, 32 + 32 points, L-BFGS memory 50): one iteration 0.11 s and 145 MB at
 * d = 5000, 7 s and 2.9 GB at d = 100000. The exception is LySep (SAPM on a second-order
 * PDE): its first weight block is a (d + 1)-square solve, 16 (d + 1)^2 bytes and O(d^3)
 * time per outer iteration (d = 5000: 5.5 s and 684 MB; d = 100000 would need 160 GB). */
#define SAPM_PDE_MAX_DIM 100000

/* -- samplers for boxes [lo_0, hi_0] x ... x [lo_{d-1}, hi_{d-1}] (lo_i < hi_i, the width
 *    hi_i - lo_i finite, else SAPM_ERR_NONFINITE_INPUT); every sampler writes n points as
 *    n rows of d into X. */

/* Uniform random points in the box from the portable generator (reproducible). */
SAPMDEF sapm_result sapm_sample_uniform(int d, const double *lo, const double *hi, int n,
                                        sapm_rng *rng, double *X);

/* Halton low-discrepancy points, base p_i = the (i+1)-th prime for coordinate i; point j
 * uses the radical inverses of index skip + j + 1 (so skip = 0 starts at 1/2, 1/3, 1/5..).
 * seed == 0: the plain sequence. seed != 0: generalized (scrambled) Halton, ours: each
 * coordinate's digits go through a random permutation of {1..p-1} (0 kept fixed, as
 * Faure's permutations do) and a random Cranley-Patterson shift mod 1 is added; this
 * removes the correlation of plain Halton between high-dimensional coordinates. Bases
 * p >= 16384 (coordinates i >= 1900) each draw from a stream of their own (from seed and
 * i) and permute only the digits that occur, so the cost stays O(d n log n + d log d) up
 * to SAPM_PDE_MAX_DIM; a point never depends on n. */
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

/* -- training
 *
 * sapm_pde_train runs the methods of sapm_method on J_PINN (see "Declarations: training"):
 * GD / ADAM / LBFGS / LM train the ordinary PINN (measured: L-BFGS the fastest first-order
 * method on bench/bench_pde.c's problems; LM on sapm_pde_default_widths' network the
 * fastest method on nine of the ten problems of bench/bench_pde_suite.c, see WHICH METHOD,
 * WHEN); SAPM is SAPM-PINN on a first-order operator (kappa = 0, c != 0) and
 * LySep on a second-order one (kappa != 0), both of arXiv 2507.12766, with derivative (and
 * Laplacian) auxiliaries and self-adaptive constraint weights; PM is the same alternating
 * method with every constraint weight fixed at opt.base.aux.pm_lambda (a penalty method,
 * ours; no consistency bound). Both need tanh-like activations (sigma'' exists) and
 * depth >= 2. LM keeps the n x P Jacobian: memory 8 (n P + 2 k^2) bytes with n = N + M,
 * P parameters, k = min(n, P); with n << P it fits every residual within a few dozen
 * iterations, and then only more points lower the error. */

/* Optional per-iteration diagnostics of a SAPM-PINN / LySep phase, arrays owned by the
 * caller (capacity entries each; any array may be NULL). Entry t is written at the t-th
 * recorded iteration (the initial state and every outer iteration while count < capacity). */
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
    int inner_sweeps;      /* auxiliary sweeps (layers 1..L-1) per weight update (1); ours */
    int halvings;          /* step halvings tried by the per-sample Gauss-Newton steps on the
                              value auxiliaries (and on the derivative auxiliaries of LySep)
                              before a sample keeps its old value, 0..60 (6); ours - the
                              paper takes plain gradient steps */
    double ridge;          /* ridge * (trace(G)/dim) * ||theta||^2 in every weight solve: the
                              paper's adaptive sqrt(lambda_n) I term (0 = off, the default:
                              a ridge towards 0 can raise J_aux, measured) */
    double prox;           /* prox * (trace(G)/dim) * ||theta - theta_old||^2 in every weight
                              solve (ours): keeps the Gram matrices positive definite
                              without ever raising J_aux. Default 1 (right before a polish:
                              with 1e-10 W_L blows up and the polish stalls, measured);
                              for the paper's pure alternating form use 1e-10 (the best
                              value measured for the alternating phase alone) */
    sapm_lysep_trace *trace; /* optional diagnostics (NULL = none) */
} sapm_lysep_options;

/* How sapm_pde_train weights the boundary term of J_PINN (opt.balance). The weight is
 * chosen once, at the starting parameters, and stays fixed for the run (the L-BFGS memory
 * and the LM damping stay valid); opt.beta multiplies it. With P parameters,
 * r_n = L u(x_n) - f(x_n), b_m = u(xb_m) - g(xb_m) and their gradients in parameter space:
 *   SAPM_BALANCE_NONE  beta_eff = beta (the weight as given);
 *   SAPM_BALANCE_NTK   beta_eff = beta alpha mean_n |grad r_n|^2 / mean_m |grad b_m|^2:
 *                      equal traces of the two blocks of the Gauss-Newton matrix (the
 *                      neural tangent kernel's blocks, arXiv 2007.14527); independent
 *                      of the size of f and g;
 *   SAPM_BALANCE_GRAD  beta_eff = beta alpha max_i |dJ_res/dtheta_i| / mean_i
 *                      |dJ_bc/dtheta_i| (gradient-norm balancing, arXiv 2001.04536). */
typedef enum sapm_pde_balance {
    SAPM_BALANCE_NONE = 0,
    SAPM_BALANCE_NTK,
    SAPM_BALANCE_GRAD,
    SAPM_BALANCE_COUNT
} sapm_pde_balance;

typedef struct sapm_pde_options {
    sapm_options base;          /* method, polish, budgets, target (on J_PINN), callback,
                                   log_every, allreduce, test points (Y_test: exact values
                                   or NULL for pde->exact), Adam/L-BFGS/LM settings */
    double alpha, beta;         /* residual and boundary weights of J_PINN (beta multiplies
                                   the automatic weight when balance != NONE) */
    sapm_pde_balance balance;   /* automatic boundary weight, see sapm_pde_balance; the
                                   report's J_PINN (mse, target_loss) uses beta_eff. Where
                                   it is undefined at the start (a block's gradients all
                                   zero or not finite) beta is used as given */
    int resample_every;         /* LM phases: every k accepted steps the N interior points
                                   are replaced by the next N points of a scrambled Halton
                                   sequence in the bounding box of X and Xb (the domain
                                   must be that box), the PDE's callbacks evaluated there;
                                   the boundary points stay; >= 0, 0 = never (default:
                                   on bench/bench_pde_suite.c, 10 s, fixed points ended
                                   lowest on 7 of 9 problems against resampling every 5
                                   or 20 steps, by 1.5-50x; LM's minimum-norm steps in
                                   sample space do not overfit smooth solutions, though
                                   with N + M = 84 < P = 257 on Poisson 2-D every 5 steps
                                   ended 4x lower, tests/test_pde_robust.c). The report's
                                   J_PINN is then on the latest points */
    sapm_lysep_options lysep;   /* SAPM-PINN / LySep settings */
} sapm_pde_options;

/* Recommended options: base = sapm_default_options(method) with log_every 50, L-BFGS
 * memory 50 (ours; measured better than 10 for PINNs) and max_iters 0 (5000 without a
 * time budget); alpha = beta = 1; balance = SAPM_BALANCE_GRAD for LM (the boundary weight
 * chosen at the start: no hand-set beta, also when |f| ~ 1e3), NONE for the other methods
 * (the unweighted J_PINN; raise beta when |f| is large, e.g. 10-100 for Poisson with
 * f ~ 2 pi^2); resample_every = 0. The recommended method is LM on the network of
 * sapm_pde_default_widths (see "which method, when" at the top of this file).
 * polish = SAPM_METHOD_NONE for every method, so SAPM / PM run the alternating iteration
 * for the whole budget; measured best (ours): polish = SAPM_METHOD_LBFGS after
 * phase_iters = 3 alternating iterations (18-40x better than the alternating iteration
 * alone at equal wall time, and on par with the PINN's L-BFGS, bench/bench_lysep.c); the
 * paper's form is lysep.prox = 1e-10. */
SAPMDEF sapm_pde_options sapm_pde_default_options(sapm_method method);

/* The boundary weight beta_eff that opt.balance = mode would give (with beta = 1) for net
 * at its current parameters on these points: see sapm_pde_balance. Memory 8 (N + M) P
 * bytes for one Jacobian. SAPM_ERR_INVALID_ARGUMENT for mode NONE or out of range or
 * alpha not finite and > 0; SAPM_ERR_DIVERGED when a block's gradients are all zero. */
SAPMDEF sapm_result sapm_pde_balance_beta(const sapm_net *net, const sapm_pde *pde, int N,
                                          const double *X, int M, const double *Xb,
                                          sapm_pde_balance mode, double alpha, double *beta);

/* The recommended network for a PDE in d dimensions (with LM and tanh): writes
 * widths[0..depth] (room for 4 entries) and returns depth: one hidden layer of
 * W = 8 d units, at least 32 and at most 64 (d-32-1 for d <= 4, d-40-1 at d = 5, d-64-1
 * from d = 8). Measured with LM on bench/bench_pde_suite.c (2 threads, 10 s, three
 * starts; the medians below):
 *   - in d = 1 and 2, 32 ended lower than 64 on seven of nine problems (up to 14x: 64
 *     does fewer iterations in the time) and level on the other two; an earlier measurement on one thread had 32
 *     ahead of 16, 24, 40 and 128 too (16 failed the anisotropic problem);
 *   - from d = 8, 32 units are too few: Poisson d = 10 stays at 2.7e-6 (J_PINN ~1e-7)
 *     where 64 reaches 3.5e-8, and on problems the rule was not chosen on (the suite's
 *     --set unseen) 64 ended 5x lower in d = 8 (a product of cosines, 6.7e-4 -> 1.4e-4)
 *     and 10x lower in d = 20 (3.9e-2 -> 4.0e-3);
 *   - in between neither wins throughout (32 / 64 units: d = 3 4.5e-7 / 6.2e-8, d = 5
 *     3.6e-10 / 2.6e-9; 40 units at d = 5: 1.0e-9).
 * The cap keeps P = (d + 2) W + 1 within LM's Jacobian: at d = 100 64 units ended where 32
 * did (3.0e-2 / 3.1e-2 at 60 s); every one-layer width beat 3 hidden layers of 50, on which
 * one LM iteration costs the (N + M)^2 P SYRK of 5301 parameters.
 * Returns 0 (and writes nothing) for widths == NULL or d < 1. */
SAPMDEF int sapm_pde_default_widths(int d, int *widths);

/* Train net (n_0 = d, n_L = 1) on the PDE with N interior points X and M >= 1 boundary
 * points Xb. rep (may be NULL) gets the history: mse = J_PINN of the forward network,
 * loss = the phase's own loss, error = relative L2 on the test points (NaN if none).
 * With n_theta > 0 pde->theta receives the fitted coefficients (checkpoints are then
 * refused). On SAPM_ERR_DIVERGED the last good parameters are kept. */
SAPMDEF sapm_result sapm_pde_train(sapm_net *net, const sapm_pde *pde, int N, const double *X,
                                   int M, const double *Xb, const sapm_pde_options *opt,
                                   sapm_report *rep);

/* J_PINN of the forward network at the given points (exact derivatives on the tape), at
 * the coefficients pde->theta. j_res / j_bc (may be NULL) receive the interior and
 * boundary terms without alpha, beta (the measurement term is in j_pinn only). */
SAPMDEF sapm_result sapm_pde_loss(const sapm_net *net, const sapm_pde *pde, int N,
                                  const double *X, int M, const double *Xb, double alpha,
                                  double beta, double *j_pinn, double *j_res, double *j_bc);

/* Relative L2 error sqrt(sum (u - u*)^2 / sum u*^2) and max |u - u*| of the network on
 * n points X (n x d = n_0) against exact values u_exact (n x n_L: every output; when
 * sum u*^2 == 0, rel_l2 is the root mean square error). Either output may be NULL. */
SAPMDEF sapm_result sapm_pde_errors(const sapm_net *net, int n, const double *X,
                                    const double *u_exact, double *rel_l2, double *max_err);

/* u_exact[j] = pde->exact(X_j) for n points (SAPM_ERR_NULL_ARGUMENT without exact). */
SAPMDEF sapm_result sapm_pde_exact_values(const sapm_pde *pde, int n, const double *X,
                                          double *u_exact);

/* -- step API: one outer iteration of SAPM-PINN / LySep (PM: fixed weights) at a time
 *
 *   sapm_pde_aux_state *st;
 *   sapm_pde_aux_create(&st, &net, &pde, N, X, M, Xb, &opt);  auxiliaries = forward pass
 *   sapm_pde_aux_step(st);                     one alternating outer iteration
 *   sapm_pde_aux_losses(st, &j_aux, &j_pinn);  J_aux and J_PINN of the forward network
 *   sapm_pde_aux_destroy(st);
 *
 * opt->base.method must be PM or SAPM; the PDE's callbacks are evaluated once by create;
 * the state keeps pointers to net (updated in place), X and Xb (they must outlive it).
 * lysep.trace and balance are not used here; budgets, callback and polish belong to
 * sapm_pde_train. */
typedef struct sapm_pde_aux_state sapm_pde_aux_state;
SAPMDEF sapm_result sapm_pde_aux_create(sapm_pde_aux_state **st, sapm_net *net, const sapm_pde *pde,
                                        int N, const double *X, int M, const double *Xb,
                                        const sapm_pde_options *opt);
SAPMDEF sapm_result sapm_pde_aux_step(sapm_pde_aux_state *st);
SAPMDEF sapm_result sapm_pde_aux_losses(sapm_pde_aux_state *st, double *j_aux, double *j_pinn);
SAPMDEF void        sapm_pde_aux_destroy(sapm_pde_aux_state *st);   /* safe on NULL */

/* Defaults of sapm_lysep_options. */
SAPMDEF sapm_lysep_options sapm_lysep_default_options(void);

/* The constant C of the consistency bound J_PINN <= C * J_aux of SAPM-PINN (second_order = 0)
 * and LySep (second_order != 0) for a network of the given depth (>= 2) with adaptive
 * weights: C = 2L - 1 (first order), C = 3L - 3 (second order, L >= 2; at least L).
 * Returns a negative value for depth < 2. */
SAPMDEF double sapm_lysep_bound_constant(int depth, int second_order);

/* ======================================================================================
 * Declarations: data-parallel training over MPI (SAPM_USE_MPI)
 *
 * Every worker (MPI rank) holds its share of the samples or collocation points and calls
 * sapm_train / sapm_pde_train with the same network, the same options and its share; the
 * adaptor below is the all-reduce hook. What is reduced per iteration is given for each
 * method in the table of the README ("Data-parallel training"); auxiliaries (PM, SAPM,
 * SAPM-PINN, LySep) stay local to their worker. Every worker ends with the same parameters
 * and the same report (losses and held-out errors are global); only the caller decides
 * which rank writes files.
 *
 *     MPI_Init(&argc, &argv);
 *     sapm_mpi mpi;  sapm_mpi_init(&mpi, MPI_COMM_WORLD);
 *     sapm_shard(N, mpi.rank, mpi.size, &first, &count);     this rank's samples
 *     sapm_mpi_attach(&mpi, &opt);                            opt.allreduce = the adaptor
 *     sapm_train(&net, count, X + first * d, d, Y + first * m, m, &opt, &rep);
 *
 * Build with mpicc and -DSAPM_USE_MPI (or #define SAPM_USE_MPI before including sapm.h
 * in every file that uses these names); the rest of the library never includes <mpi.h>.
 * ====================================================================================== */
#ifdef SAPM_USE_MPI
#include <mpi.h>

typedef struct sapm_mpi {
    MPI_Comm comm;              /* the workers (not duplicated: the caller's communicator) */
    int rank, size;
    unsigned long long calls;   /* all-reduce calls made through this adaptor */
    unsigned long long doubles; /* doubles summed by them (payload: 8 bytes each per call) */
    int mpi_error;              /* the last MPI error code (MPI_SUCCESS when none) */
} sapm_mpi;

/* Fill m for the communicator comm (MPI must be initialised). Counters start at 0. */
SAPMDEF sapm_result sapm_mpi_init(sapm_mpi *m, MPI_Comm comm);
/* The sapm_allreduce_fn: MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM) on
 * m->comm (user_data = the sapm_mpi), in pieces of at most INT_MAX doubles. An MPI error
 * returns SAPM_ERR_CALLBACK with the code in m->mpi_error (set MPI_ERRORS_RETURN on the
 * communicator to get errors back instead of the default abort). */
SAPMDEF sapm_result sapm_mpi_allreduce(double *buf, size_t n, void *m);
/* opt->allreduce = sapm_mpi_allreduce, opt->allreduce_user_data = m. */
SAPMDEF void        sapm_mpi_attach(sapm_mpi *m, sapm_options *opt);
#endif

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
 * PNG files are encoded by stb_image_write (public domain; Debian/Ubuntu libstb-dev; its
 * compressor: fixed Huffman codes, stored blocks when that is smaller), compiled privately
 * into the implementation (static functions renamed sapm__stbi_*, so a program's own copy
 * of stb_image_write, declared before or after sapm.h, is not touched; nor are STBIW_*
 * macros it defined). It is found by __has_include(<stb/stb_image_write.h>) where the
 * compiler has __has_include; elsewhere define SAPM_HAVE_STB. SAPM_STB_IMAGE_WRITE_INCLUDE
 * names another place (e.g. define it as "stb_image_write.h"; SAPM_HAVE_STB is then needed
 * too). Without it, or under SAPM_NO_PNG / SAPM_NO_STDIO, every sapm_png_* function
 * returns SAPM_ERR_NOT_COMPILED_IN at once (the render functions always work); under
 * SAPM_NO_STDIO the CSV writers do too.
 * Out of memory anywhere in a PNG write gives SAPM_ERR_OUT_OF_MEMORY, frees everything and
 * leaves path as it was: the private copy allocates through SAPM_MALLOC/SAPM_REALLOC/
 * SAPM_FREE into a list owned by the write, and a failed allocation jumps back (longjmp)
 * to sapm_png_write, which frees the list (stb asserts on such a failure otherwise). That
 * list is found through a thread-local pointer (C11 _Thread_local, C++11 thread_local, or
 * __thread / __declspec(thread)); on a compiler with none of these, write PNGs from one
 * thread at a time. A file that defines SAPM_IMPLEMENTATION and also compiles stb's
 * implementation (STB_IMAGE_WRITE_IMPLEMENTATION) must include it first and keep that macro
 * defined: sapm.h then encodes with that copy, whose allocator and out-of-memory behaviour
 * are the program's (stb_image_write 1.16 asserts, or leaks the compressed picture when its
 * last allocation fails).
 * Files are written as sapm_net_save writes them: into a temporary file next to path,
 * renamed over path once complete, so a failed write leaves path as it was (a device or
 * a FIFO is written in place and never removed).
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
 * SAPM_ERR_OUT_OF_MEMORY (nothing left allocated, path as it was); SAPM_ERR_INVALID_SIZE
 * for sides over 65535 or (3 width + 1) height > INT_MAX / 3 (about 680 MiB of pixels:
 * stb's buffers are sized in int). */
SAPMDEF sapm_result sapm_png_write(const char *path, const sapm_image *img);

/* CSV (header line, comma-separated, numbers in the shortest form that reads back to the
 * same double, NaN as "nan"). History: columns label,phase,iter,seconds,mse,loss,error, one
 * row per history entry of each report (long format); phase is the entry's phase label
 * ("Adam", "L-BFGS (polish)", ...; empty when the entry has none); labels (or labels[k])
 * NULL gives the method's name (else "run<k>"); labels with commas or quotes are quoted. Errors: NULL
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

/* Threads: OpenMP when the translation unit is compiled with it (-fopenmp). */
#if defined(_OPENMP) && !defined(SAPM_NO_OPENMP)
#define SAPM__OPENMP 1
#include <omp.h>
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

/* For the small vector kernels called once per vector inside a loop (activations): as
 * calls they store their results through memory and serialise on the division. */
#if defined(__GNUC__) || defined(__clang__)
#define SAPM__FORCE_INLINE __inline__ __attribute__((always_inline))
#elif defined(_MSC_VER)
#define SAPM__FORCE_INLINE __forceinline
#else
#define SAPM__FORCE_INLINE
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

/* Threads. Every parallel region is one call of a task fn(ctx, tid, nthreads) in which
 * thread tid (0 <= tid < nthreads) does a fixed share of the work (a static partition:
 * the same thread count gives the same floating-point result on every run). Without
 * OpenMP the task runs once with tid = 0, nthreads = 1, which is the serial code. */
#ifndef SAPM__PAR_MIN_WORK  /* (the tests set 1 to thread even tiny problems) */
#define SAPM__PAR_MIN_WORK 131072.0 /* multiply-adds per thread below which one is not
                                       worth its start-up (a few microseconds) */
#endif

typedef void (*sapm__task_fn)(void *ctx, int tid, int nthreads);

/* Threads worth using for a task of `work` multiply-adds: OpenMP's limit
 * (OMP_NUM_THREADS, omp_set_num_threads), at most one per SAPM__PAR_MIN_WORK, and 1
 * inside an enclosing parallel region (the caller has already spread the work). */
static int sapm__threads_for(double work)
{
#ifdef SAPM__OPENMP
    int nt;
    if (omp_in_parallel()) return 1;
    nt = omp_get_max_threads();
    if (work < nt * SAPM__PAR_MIN_WORK) nt = (int)(work / SAPM__PAR_MIN_WORK);
    return nt < 1 ? 1 : nt;
#else
    (void)work;
    return 1;
#endif
}

/* Run fn on up to nthreads threads. The team may be smaller than asked (OpenMP may
 * adjust it), so fn partitions by the nthreads it is given, never by the request. */
static void sapm__run_parallel(int nthreads, sapm__task_fn fn, void *ctx)
{
#ifdef SAPM__OPENMP
    if (nthreads > 1) {
#pragma omp parallel num_threads(nthreads)
        fn(ctx, omp_get_thread_num(), omp_get_num_threads());
        return;
    }
#endif
    (void)nthreads;
    fn(ctx, 0, 1);
}

/* Inside a task: wait until every thread of the team has arrived (an OpenMP barrier;
 * nothing without OpenMP, where the team is one thread). */
#ifdef SAPM__OPENMP
#define SAPM__BARRIER() _Pragma("omp barrier")
#else
#define SAPM__BARRIER() ((void)0)
#endif

/* Share [lo, hi) of thread tid when [0, n) is cut into nthreads parts at the fractions
 * f(t) of n, each cut rounded to a multiple of `align`: f(t) = t / nthreads (nearly equal
 * parts), or with triangle != 0 f(t) = sqrt(t / nthreads) (row panels of a lower
 * triangle of nearly equal areas). */
static size_t sapm__share_cut(size_t n, size_t align, int t, int nthreads, int triangle)
{
    double f = (double)t / nthreads, c;
    if (triangle) f = sqrt(f);
    c = (double)(size_t)(f * (double)n / (double)align + 0.5) * (double)align;
    return c < (double)n ? (size_t)c : n;
}
static void sapm__share(size_t n, size_t align, int tid, int nthreads, int triangle,
                        size_t *lo, size_t *hi)
{
    *lo = tid == 0 ? 0 : sapm__share_cut(n, align, tid, nthreads, triangle);
    *hi = tid == nthreads - 1 ? n : sapm__share_cut(n, align, tid + 1, nthreads, triangle);
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
 * allocation); direct paths read operands in place: small A^T B (the Gram-like products
 * of tall data: nothing packed; on AVX2 also the lower triangle of A^T A) and tall A
 * times a small op(B) (N x width: only op(B) packed) on AVX-512 and AVX2, few-row
 * products with contiguous op(B) (feature-major W H: only A packed) on AVX-512, and on
 * AVX2 the A B^T of at most 256 rows and columns over a longer k (the Gram matrix
 * A A^T of feature-major data) as blocks of dot products. If the workspace cannot be
 * allocated the plain loop runs: GEMM and SYRK never fail for lack of memory.
 *
 * On top of GEMM: blocked TRSM (diagonal blocks recursive on halves, substitution at
 * <= 8 rows, the rest GEMM), right-looking blocked Cholesky (LAPACK's reference dpotrf
 * is left-looking; small matrices and diagonal blocks recursive on halves as dpotrf2),
 * and the batched small-SPD solver, which on the SIMD paths puts one system in each
 * vector lane.
 * Blocking (KC, MC, NC below) assumes an L1d of 32 KB or more (a KC x NR sliver of op(B)
 * is 16 KB on AVX2, 32 KB on AVX-512) and an L2 of 512 KB or more (an MC x KC block of
 * op(A) is 192 KB); it was measured on a 48 KB L1d / 1 MB L2 core.
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
#define SAPM__NC 1024  /* columns of a packed B block (multiple of every NR): KC x NC (2 MB)
                          in L3, as BLIS's B panel */
#define SAPM__SMALL_GEMM 512.0   /* m n k at or below which the plain loop is used */
#define SAPM__GEMM_STACK 3072    /* packing buffers up to this many doubles live on the stack */
#define SAPM__DIRECT_MN 4096.0   /* A^T B (AVX2: also A^T A) with m n up to this skips packing */
#define SAPM__DOT_MAX 256        /* AVX2: A B^T with m, n <= this and k >= max(m, n, DOT_MIN_K)
                                    by dot products: a KC chunk of all m + n rows (<= 1 MB)
                                    stays in L2 */
#define SAPM__DOT_MIN_K 64       /* (a shorter k does not repay the dot products' reductions) */
#define SAPM__CHOL_NB 64         /* block size of the blocked Cholesky; n <= 2 NB and the
                                    diagonal blocks are factored recursively on halves */
#define SAPM__CHOL_LEAF 16       /* ... down to this order, where the unblocked loop runs */
#define SAPM__TRSM_NB 64         /* block size of the blocked triangular solves */
#define SAPM__BATCH_INTERLEAVE_MAX 64 /* batched SPD: systems up to this n are interleaved */
#define SAPM__PINN_BLOCK_ROWS 1024 /* stream rows per PINN tape block: the block's tape stays
                                      in L2 (measured against 4096: +5% L-BFGS iterations on
                                      transport, +13% Poisson 2-D, +8% Poisson d = 10) */

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
    /* step K of an unrolled trip over packed slivers (A: 8 per step, B: 16 per step) */
#define SAPM__ROWK(R, K) a = _mm512_set1_pd(Ap[8 * (K) + R]); \
        c##R##0 = _mm512_fmadd_pd(a, b0, c##R##0); c##R##1 = _mm512_fmadd_pd(a, b1, c##R##1);
#define SAPM__STEP(K) \
        b0 = _mm512_loadu_pd(Bp + 16 * (K)); b1 = _mm512_loadu_pd(Bp + 16 * (K) + 8); \
        SAPM__ROWK(0, K) SAPM__ROWK(1, K) SAPM__ROWK(2, K) SAPM__ROWK(3, K) \
        SAPM__ROWK(4, K) SAPM__ROWK(5, K) SAPM__ROWK(6, K) SAPM__ROWK(7, K)
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
    } else if (nr == SAPM__NR && a_ps == SAPM__MR && b_ps == SAPM__NR) {
        /* a full tile of packed operands (the bulk of a large GEMM or SYRK): C's tile
         * and the A sliver 4 steps ahead are prefetched, 4 steps per trip (measured
         * +23% on SYRK n = 1400, k = 5301 over the plain loop below) */
        for (r = 0; r < SAPM__MR; ++r) {
            _mm_prefetch((const char *)(C + (size_t)r * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(C + (size_t)r * ldc + 8), _MM_HINT_T0);
        }
        for (p = 0; p + 4 <= kc; p += 4, Ap += 32, Bp += 64) {
            _mm_prefetch((const char *)(Ap + 32), _MM_HINT_T0);
            _mm_prefetch((const char *)(Ap + 40), _MM_HINT_T0);
            _mm_prefetch((const char *)(Ap + 48), _MM_HINT_T0);
            _mm_prefetch((const char *)(Ap + 56), _MM_HINT_T0);
            SAPM__STEP(0)
            SAPM__STEP(1)
            SAPM__STEP(2)
            SAPM__STEP(3)
        }
        for (; p < kc; ++p, Ap += 8, Bp += 16) { SAPM__STEP(0) }
    } else {
        for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
            b0 = _mm512_maskz_loadu_pd(m0, Bp);
            b1 = _mm512_maskz_loadu_pd(m1, Bp + 8);
            SAPM__ROW(0) SAPM__ROW(1) SAPM__ROW(2) SAPM__ROW(3)
            SAPM__ROW(4) SAPM__ROW(5) SAPM__ROW(6) SAPM__ROW(7)
        }
    }
#undef SAPM__STEP
#undef SAPM__ROWK
#undef SAPM__ROW
#undef SAPM__ROW1
    {   /* C = alpha T + beta C straight from the registers; edge and triangle tiles
         * with masked loads/stores (row r: columns c < nr and, in a triangle tile,
         * c <= r + diag) */
        __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
        int full = mr == 8 && nr == 16 && !tri;
#define SAPM__ST(R) \
        if (R < mr) { \
            int nc_ = tri ? SAPM__MIN(nr, R + diag + 1) : nr; \
            double *cr_ = C + (size_t)R * ldc; \
            if (full) { \
                if (beta == 0.0) { \
                    _mm512_storeu_pd(cr_, _mm512_mul_pd(va, c##R##0)); \
                    _mm512_storeu_pd(cr_ + 8, _mm512_mul_pd(va, c##R##1)); \
                } else { \
                    _mm512_storeu_pd(cr_, _mm512_fmadd_pd(va, c##R##0, _mm512_mul_pd(vb, _mm512_loadu_pd(cr_)))); \
                    _mm512_storeu_pd(cr_ + 8, _mm512_fmadd_pd(va, c##R##1, _mm512_mul_pd(vb, _mm512_loadu_pd(cr_ + 8)))); \
                } \
            } else if (nc_ > 0) { \
                __mmask8 k0_ = (__mmask8)(nc_ >= 8 ? 0xFFu : (1u << nc_) - 1u); \
                __mmask8 k1_ = (__mmask8)(nc_ <= 8 ? 0u : nc_ >= 16 ? 0xFFu : (1u << (nc_ - 8)) - 1u); \
                if (beta == 0.0) { \
                    _mm512_mask_storeu_pd(cr_, k0_, _mm512_mul_pd(va, c##R##0)); \
                    if (k1_) _mm512_mask_storeu_pd(cr_ + 8, k1_, _mm512_mul_pd(va, c##R##1)); \
                } else { \
                    _mm512_mask_storeu_pd(cr_, k0_, _mm512_fmadd_pd(va, c##R##0, _mm512_mul_pd(vb, _mm512_maskz_loadu_pd(k0_, cr_)))); \
                    if (k1_) _mm512_mask_storeu_pd(cr_ + 8, k1_, _mm512_fmadd_pd(va, c##R##1, _mm512_mul_pd(vb, _mm512_maskz_loadu_pd(k1_, cr_ + 8)))); \
                } \
            } \
        }
        SAPM__ST(0) SAPM__ST(1) SAPM__ST(2) SAPM__ST(3)
        SAPM__ST(4) SAPM__ST(5) SAPM__ST(6) SAPM__ST(7)
#undef SAPM__ST
        (void)T; (void)r; (void)c;
        return;
    }
#elif defined(SAPM__AVX2)
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
            c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, b0, b1, a;
#define SAPM__ROW(R) a = _mm256_broadcast_sd(Ap + R); \
        c##R##0 = _mm256_fmadd_pd(a, b0, c##R##0); c##R##1 = _mm256_fmadd_pd(a, b1, c##R##1);
#define SAPM__ROW1(R) a = _mm256_broadcast_sd(Ap + R); c##R##0 = _mm256_fmadd_pd(a, b0, c##R##0);
    if (a_rs != 1) {
        /* op(A) = A read in place (the tall-A direct path): 6 full rows a_rs apart, row
         * p of the sliver is column p of those rows; op(B) packed */
        const double *A3 = Ap + 3 * a_rs;
        size_t r2 = 2 * a_rs;
#define SAPM__RS(R, X) a = _mm256_broadcast_sd(X); \
        c##R##0 = _mm256_fmadd_pd(a, b0, c##R##0); c##R##1 = _mm256_fmadd_pd(a, b1, c##R##1);
#define SAPM__RS1(R, X) a = _mm256_broadcast_sd(X); c##R##0 = _mm256_fmadd_pd(a, b0, c##R##0);
        SAPM_ASSERT(mr == SAPM__MR && b_ps == SAPM__NR);
        if (nr <= 4) {
            for (p = 0; p < kc; ++p, Ap += a_ps, A3 += a_ps, Bp += b_ps) {
                b0 = _mm256_loadu_pd(Bp);
                SAPM__RS1(0, Ap) SAPM__RS1(1, Ap + a_rs) SAPM__RS1(2, Ap + r2)
                SAPM__RS1(3, A3) SAPM__RS1(4, A3 + a_rs) SAPM__RS1(5, A3 + r2)
            }
        } else {
            for (p = 0; p < kc; ++p, Ap += a_ps, A3 += a_ps, Bp += b_ps) {
                b0 = _mm256_loadu_pd(Bp);
                b1 = _mm256_loadu_pd(Bp + 4);
                SAPM__RS(0, Ap) SAPM__RS(1, Ap + a_rs) SAPM__RS(2, Ap + r2)
                SAPM__RS(3, A3) SAPM__RS(4, A3 + a_rs) SAPM__RS(5, A3 + r2)
            }
        }
#undef SAPM__RS
#undef SAPM__RS1
    } else if (b_ps != SAPM__NR && nr < SAPM__NR) {
        /* op(B) read in place (the direct A^T B path): columns past nr are masked off,
         * never read (the last row of B may end the array) */
        __m256i k0 = _mm256_setr_epi64x(-(long long)(nr > 0), -(long long)(nr > 1),
                                        -(long long)(nr > 2), -(long long)(nr > 3));
        __m256i k1 = _mm256_setr_epi64x(-(long long)(nr > 4), -(long long)(nr > 5),
                                        -(long long)(nr > 6), 0);
        if (nr <= 4) {
            for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
                b0 = _mm256_maskload_pd(Bp, k0);
                SAPM__ROW1(0) SAPM__ROW1(1) SAPM__ROW1(2) SAPM__ROW1(3) SAPM__ROW1(4) SAPM__ROW1(5)
            }
        } else {
            for (p = 0; p < kc; ++p, Ap += a_ps, Bp += b_ps) {
                b0 = _mm256_loadu_pd(Bp);
                b1 = _mm256_maskload_pd(Bp + 4, k1);
                SAPM__ROW(0) SAPM__ROW(1) SAPM__ROW(2) SAPM__ROW(3) SAPM__ROW(4) SAPM__ROW(5)
            }
        }
    } else if (nr <= 4) { /* narrow edge tile: 6 x 4 */
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

#if defined(SAPM__AVX2)
/* (sum v0, sum v1, sum v2, sum v3): the lane sums of four vectors in one vector. */
static __m256d sapm__hsum4(__m256d v0, __m256d v1, __m256d v2, __m256d v3)
{
    __m256d s01 = _mm256_hadd_pd(v0, v1), s23 = _mm256_hadd_pd(v2, v3);
    return _mm256_add_pd(_mm256_permute2f128_pd(s01, s23, 0x20),
                         _mm256_permute2f128_pd(s01, s23, 0x31));
}

/* C = alpha A B^T + beta C (lower != 0: only j <= i) with A (m x k) and B (n x k) both
 * contiguous along k, for few rows and columns and a long k (the Gram matrix A A^T of
 * feature-major data): every entry is a dot product c_ij = sum_p a_ip b_jp, 3 x 4
 * entries at a time with the products summed along p in the vector lanes and reduced
 * at the end of each SAPM__KC chunk of p (the rows' chunks stay in cache). Nothing is
 * packed: the A A^T form would otherwise transpose both operands. Edge rows and
 * columns repeat the last one (computed, not stored). The equation is the plain loop's
 * (sapm__gemm_small), which it is tested against. */
static void sapm__gemm_nt_dot(int m, int n, int k, double alpha, const double *A, int lda,
                              const double *B, int ldb, double beta, double *C, int ldc,
                              int lower)
{
    int pc, i0, j0, p, r, c;
    __m256d va = _mm256_set1_pd(alpha);
    for (pc = 0; pc < k; pc += SAPM__KC) {
        int kc = SAPM__MIN(SAPM__KC, k - pc), kv = kc & ~3, first = pc == 0;
        __m256i tail = _mm256_setr_epi64x(-(long long)(kc - kv > 0), -(long long)(kc - kv > 1),
                                          -(long long)(kc - kv > 2), 0);
        for (i0 = 0; i0 < m; i0 += 3) {
            const double *a0 = A + (size_t)i0 * lda + pc;
            const double *a1 = A + (size_t)SAPM__MIN(i0 + 1, m - 1) * lda + pc;
            const double *a2 = A + (size_t)SAPM__MIN(i0 + 2, m - 1) * lda + pc;
            int jend = lower ? SAPM__MIN(n, i0 + 3) : n;
            for (j0 = 0; j0 < jend; j0 += 4) {
                const double *b0 = B + (size_t)j0 * ldb + pc;
                const double *b1 = B + (size_t)SAPM__MIN(j0 + 1, n - 1) * ldb + pc;
                const double *b2 = B + (size_t)SAPM__MIN(j0 + 2, n - 1) * ldb + pc;
                const double *b3 = B + (size_t)SAPM__MIN(j0 + 3, n - 1) * ldb + pc;
                __m256d c00 = _mm256_setzero_pd(), c01 = c00, c02 = c00, c03 = c00, c10 = c00,
                        c11 = c00, c12 = c00, c13 = c00, c20 = c00, c21 = c00, c22 = c00,
                        c23 = c00, x0, x1, x2, y, s[3];
                double out[12];
#define SAPM__DOTS(LOAD) \
                x0 = LOAD(a0 + p); x1 = LOAD(a1 + p); x2 = LOAD(a2 + p); \
                y = LOAD(b0 + p); c00 = _mm256_fmadd_pd(x0, y, c00); \
                c10 = _mm256_fmadd_pd(x1, y, c10); c20 = _mm256_fmadd_pd(x2, y, c20); \
                y = LOAD(b1 + p); c01 = _mm256_fmadd_pd(x0, y, c01); \
                c11 = _mm256_fmadd_pd(x1, y, c11); c21 = _mm256_fmadd_pd(x2, y, c21); \
                y = LOAD(b2 + p); c02 = _mm256_fmadd_pd(x0, y, c02); \
                c12 = _mm256_fmadd_pd(x1, y, c12); c22 = _mm256_fmadd_pd(x2, y, c22); \
                y = LOAD(b3 + p); c03 = _mm256_fmadd_pd(x0, y, c03); \
                c13 = _mm256_fmadd_pd(x1, y, c13); c23 = _mm256_fmadd_pd(x2, y, c23);
#define SAPM__LOADT(q) _mm256_maskload_pd(q, tail)
                for (p = 0; p < kv; p += 4) { SAPM__DOTS(_mm256_loadu_pd) }
                if (kv < kc) { SAPM__DOTS(SAPM__LOADT) }
#undef SAPM__LOADT
#undef SAPM__DOTS
                s[0] = _mm256_mul_pd(va, sapm__hsum4(c00, c01, c02, c03));
                s[1] = _mm256_mul_pd(va, sapm__hsum4(c10, c11, c12, c13));
                s[2] = _mm256_mul_pd(va, sapm__hsum4(c20, c21, c22, c23));
                _mm256_storeu_pd(out, s[0]);
                _mm256_storeu_pd(out + 4, s[1]);
                _mm256_storeu_pd(out + 8, s[2]);
                for (r = 0; r < 3 && i0 + r < m; ++r) {
                    double *cr = C + (size_t)(i0 + r) * ldc + j0;
                    int nc = SAPM__MIN(4, n - j0);
                    if (lower) nc = SAPM__MIN(nc, i0 + r - j0 + 1);
                    for (c = 0; c < nc; ++c)
                        cr[c] = first ? (beta == 0.0 ? 0.0 : beta * cr[c]) + out[4 * r + c]
                                      : cr[c] + out[4 * r + c];
                }
            }
        }
    }
}
#endif

/* Whether the direct (unpacked) A^T B path also forms lower triangles (SYRK A^T A). */
#if defined(SAPM__AVX512)
#define SAPM__DIRECT_LOWER 0
#else
#define SAPM__DIRECT_LOWER 1
#endif

/* sapm__gemm_core on one thread. */
static void sapm__gemm_serial(int ta, int tb, int m, int n, int k, double alpha,
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
#if defined(SAPM__AVX512) || defined(SAPM__AVX2)
#if defined(SAPM__AVX2)
    if (!ta && tb && m <= SAPM__DOT_MAX && n <= SAPM__DOT_MAX && k >= SAPM__DOT_MIN_K &&
        k >= m && k >= n) {
        sapm__gemm_nt_dot(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, lower);
        return;
    }
#endif
    /* Small A^T B and the lower triangle of A^T A (the Gram matrices of tall data): both
     * operands are read in place (op(A) columns and op(B) rows contiguous), only the last
     * partial sliver of A is packed (tinyBLAS/BLASFEO's choice); tiles above the diagonal
     * are skipped (AVX2; the AVX-512 build sends triangles to the packed path, measured
     * faster there). */
    if (ta && !tb && (double)m * n <= SAPM__DIRECT_MN && (SAPM__DIRECT_LOWER || !lower)) {
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
                for (jr = 0; jr < n; jr += SAPM__NR) {
                    int nr = SAPM__MIN(SAPM__NR, n - jr);
                    if (lower && jr > ir + mr - 1) break;  /* this tile and the rest: above */
                    sapm__micro_kernel(kc, a, a_ps, 1, B + (size_t)pc * ldb + jr, (size_t)ldb, alpha,
                                       beta_pc, C + (size_t)ir * ldc + jr, ldc, mr, nr,
                                       lower && jr + nr - 1 > ir, ir - jr);
                }
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
#if defined(SAPM__AVX512)
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

/* A multi-threaded GEMM cuts C into one block per thread and runs the serial GEMM on
 * each (every thread packs its own operands; k is never split, so no reduction):
 * a general C into column (or, when taller than wide, row) panels in whole micro-tiles;
 * a lower triangle into row panels [r_t, r_t+1) with r_t = m sqrt(t / T), each the
 * rectangle left of the diagonal block plus that block's triangle (equal areas). */
typedef struct sapm__gemm_args {
    int ta, tb, m, n, k, lda, ldb, ldc, lower;
    double alpha, beta;
    const double *A, *B;
    double *C;
} sapm__gemm_args;

/* op(A) from row i (A: m x k, or k x m when transposed) and op(B) from column j. */
static const double *sapm__op_rows(int t, const double *A, int ld, int i)
{
    return t ? A + i : A + (size_t)i * ld;
}
static const double *sapm__op_cols(int t, const double *B, int ld, int j)
{
    return t ? B + (size_t)j * ld : B + j;
}

static void sapm__gemm_task(void *ctx, int tid, int nthreads)
{
    const sapm__gemm_args *g = (const sapm__gemm_args *)ctx;
    size_t slo, shi;
    int lo, hi;
    /* a lower triangle: row panels of equal areas; else panels of C's longer side */
    if (g->lower) sapm__share((size_t)g->m, SAPM__MR, tid, nthreads, 1, &slo, &shi);
    else if (g->n >= g->m) sapm__share((size_t)g->n, SAPM__NR, tid, nthreads, 0, &slo, &shi);
    else sapm__share((size_t)g->m, SAPM__MR, tid, nthreads, 0, &slo, &shi);
    lo = (int)slo;
    hi = (int)shi;
    if (hi <= lo) return;
    if (g->lower) {
        if (lo > 0)   /* rows lo..hi-1, columns 0..lo-1 */
            sapm__gemm_serial(g->ta, g->tb, hi - lo, lo, g->k, g->alpha,
                              sapm__op_rows(g->ta, g->A, g->lda, lo), g->lda, g->B, g->ldb,
                              g->beta, g->C + (size_t)lo * g->ldc, g->ldc, 0);
        sapm__gemm_serial(g->ta, g->tb, hi - lo, hi - lo, g->k, g->alpha,
                          sapm__op_rows(g->ta, g->A, g->lda, lo), g->lda,
                          sapm__op_cols(g->tb, g->B, g->ldb, lo), g->ldb, g->beta,
                          g->C + (size_t)lo * g->ldc + lo, g->ldc, 1);
    } else if (g->n >= g->m) {
        sapm__gemm_serial(g->ta, g->tb, g->m, hi - lo, g->k, g->alpha, g->A, g->lda,
                          sapm__op_cols(g->tb, g->B, g->ldb, lo), g->ldb, g->beta,
                          g->C + lo, g->ldc, 0);
    } else {
        sapm__gemm_serial(g->ta, g->tb, hi - lo, g->n, g->k, g->alpha,
                          sapm__op_rows(g->ta, g->A, g->lda, lo), g->lda, g->B, g->ldb,
                          g->beta, g->C + (size_t)lo * g->ldc, g->ldc, 0);
    }
}

/* C = alpha op(A) op(B) + beta C, arguments already checked, m, n, k >= 1, alpha != 0.
 * lower != 0 (requires m == n, C on the diagonal): only the lower triangle (j <= i) is
 * computed and written; the strict upper triangle of C is not touched. Threaded when
 * the product is big enough (sapm__threads_for). */
static void sapm__gemm_core(int ta, int tb, int m, int n, int k, double alpha,
                            const double *A, int lda, const double *B, int ldb, double beta,
                            double *C, int ldc, int lower)
{
    double work = (double)m * n * k * (lower ? 0.5 : 1.0);
    int nt = sapm__threads_for(work);
    /* every thread needs at least a few whole tiles along the dimension it cuts */
    nt = SAPM__MIN(nt, SAPM__MAX(lower || n < m ? m / (2 * SAPM__MR) : n / (2 * SAPM__NR), 1));
    if (nt > 1) {
        sapm__gemm_args g;
        g.ta = ta; g.tb = tb; g.m = m; g.n = n; g.k = k; g.lda = lda; g.ldb = ldb;
        g.ldc = ldc; g.lower = lower; g.alpha = alpha; g.beta = beta; g.A = A; g.B = B;
        g.C = C;
        sapm__run_parallel(nt, sapm__gemm_task, &g);
    } else {
        sapm__gemm_serial(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, lower);
    }
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

/* Copy the strict lower triangle of the n x n matrix C onto its upper triangle,
 * C_ji = C_ij for j < i, in 8 x 8 tiles: a column-order pass over a whole row of the
 * upper triangle walks C at stride ldc and, with ldc a power of two, keeps reloading the
 * same few cache sets (measured n = 128: 19 us untiled, 2.8 us tiled; n = 512: 0.8 ms,
 * 0.07 ms, against 2.5 ms for the product itself). */
static void sapm__mirror_lower(int n, double *C, int ldc)
{
    int i0, j0, i, j;
    for (i0 = 0; i0 < n; i0 += 8) {
        int i1 = SAPM__MIN(n, i0 + 8);
        for (j0 = 0; j0 <= i0; j0 += 8)
            for (j = j0; j < j0 + 8 && j < i1; ++j) {
                double *d = C + (size_t)j * ldc;
                for (i = SAPM__MAX(i0, j + 1); i < i1; ++i) d[i] = C[(size_t)i * ldc + j];
            }
    }
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

/* Unblocked Cholesky, right-looking (LAPACK's dpotf2 is left-looking: dot products with
 * the columns to the left) with contiguous updates:
 * for each column j,
 *   L_jj = sqrt(A_jj),  c = L_{j+1:n, j} = A_{j+1:n, j} / L_jj  (copied to a contiguous
 *   vector), then the Schur complement update A_{i, j+1:i+1} -= c_i c_{0:i-j}
 * (one axpy per row, independent rows: no reductions on the critical path). n <= LEAF.
 * Returns 0, or the 1-based order of the first leading minor that is not positive
 * definite (a non-positive or non-finite pivot), as dpotrf's info. */
static int sapm__chol_unblocked(int n, double *A, int lda)
{
    double c[SAPM__CHOL_LEAF];
    int i, j;
    SAPM_ASSERT(n <= SAPM__CHOL_LEAF);
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
 * at <= 16 columns forward substitution x_c = (b_c - sum_{p<c} L_cp x_p) / L_cc, on the
 * SIMD paths with one row per vector lane, otherwise with the rows in the inner loop, so
 * that the rows' dependency chains overlap. */
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
#if defined(SAPM__VEC)
    {   /* 2 VL rows at a time, transposed into t[c][l] = B[i + l][c] (two vectors per
         * column: two dependency chains interleave; rows past m are zero), then the
         * right-looking substitution  x_p = t_p / L_pp,  t_c -= L_cp x_p  for p < c < nb */
        enum { W = 2 * SAPM__VL };
        double t[16 * W], inv[16];
        int l, p;
        for (c = 0; c < nb; ++c) inv[c] = 1.0 / L[(size_t)c * ldl + c];
        for (i = 0; i < m; i += W) {
            int rows = SAPM__MIN(W, m - i);
            for (l = 0; l < W; ++l) {
                const double *b = B + (size_t)(i + l) * ldb;
                if (l < rows) for (c = 0; c < nb; ++c) t[c * W + l] = b[c];
                else for (c = 0; c < nb; ++c) t[c * W + l] = 0.0;
            }
            for (p = 0; p < nb; ++p) {
                sapm__vd vi = sapm__vset(inv[p]);
                sapm__vd x0 = sapm__vmul(sapm__vload(t + p * W), vi);
                sapm__vd x1 = sapm__vmul(sapm__vload(t + p * W + SAPM__VL), vi);
                sapm__vstore(t + p * W, x0);
                sapm__vstore(t + p * W + SAPM__VL, x1);
                for (c = p + 1; c < nb; ++c) {
                    sapm__vd lcp = sapm__vset(L[(size_t)c * ldl + p]);
                    sapm__vstore(t + c * W, sapm__vfnma(lcp, x0, sapm__vload(t + c * W)));
                    sapm__vstore(t + c * W + SAPM__VL,
                                 sapm__vfnma(lcp, x1, sapm__vload(t + c * W + SAPM__VL)));
                }
            }
            for (l = 0; l < rows; ++l) {
                double *b = B + (size_t)(i + l) * ldb;
                for (c = 0; c < nb; ++c) b[c] = t[c * W + l];
            }
        }
    }
#else
    for (c = 0; c < nb; ++c) {
        const double *Lc = L + (size_t)c * ldl;
        double d = Lc[c];
        for (i = 0; i < m; ++i) {
            double *b = B + (size_t)i * ldb;
            b[c] = (b[c] - sapm__dot(c, Lc, b)) / d;
        }
    }
#endif
}

/* Cholesky of a diagonal block or a small matrix, recursive on halves (as LAPACK's
 * dpotrf2):  A11 = L11 L11^T,  L21 = A21 L11^{-T},  A22 - L21 L21^T = L22 L22^T,
 * down to SAPM__CHOL_LEAF columns, where the unblocked loop runs (measured n = 100:
 * 19 -> 16 us against one 64-column block step). Returns the info of dpotrf. */
static int sapm__chol_diag(int n, double *A, int lda)
{
    int n1, n2, info;
    double *A21, *A22;
    if (n <= SAPM__CHOL_LEAF) return sapm__chol_unblocked(n, A, lda);
    n1 = (n / 2 + 3) / 4 * 4;
    n2 = n - n1;
    A21 = A + (size_t)n1 * lda;
    A22 = A21 + n1;
    if ((info = sapm__chol_diag(n1, A, lda)) != 0) return info;
    sapm__trsm_right_lt(n2, n1, A, lda, A21, lda);
    sapm__gemm_core(0, 1, n2, n2, n1, -1.0, A21, lda, A21, lda, 1.0, A22, lda, 1);
    if ((info = sapm__chol_diag(n2, A22, lda)) != 0) return n1 + info;
    return 0;
}

/* Right-looking blocked Cholesky, lower (LAPACK's reference dpotrf is left-looking: it
 * updates each block column from the ones to its left; here each factored block column
 * updates the whole trailing matrix at once): for each block column
 *   A11 = L11 L11^T (recursive),  L21 = A21 L11^{-T} (TRSM),  A22 -= L21 L21^T (SYRK,
 * lower triangle only, through the GEMM micro-kernel). Returns the info of dpotrf. */
static int sapm__chol_blocked(int n, double *A, int lda)
{
    int j0;
    if (n <= 2 * SAPM__CHOL_NB) return sapm__chol_diag(n, A, lda);
    for (j0 = 0; j0 < n; j0 += SAPM__CHOL_NB) {
        int jb = SAPM__MIN(SAPM__CHOL_NB, n - j0), m2 = n - j0 - jb;
        double *A11 = A + (size_t)j0 * lda + j0;
        int info = sapm__chol_diag(jb, A11, lda);
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
            if (ldb == 1) sapm__axpy(i - i0, -x, Li + i0, B + i0);  /* contiguous vector */
            else for (p = i0; p < i; ++p) B[(size_t)p * ldb] -= Li[p] * x;
            continue;
        }
        for (j = 0; j < nrhs; ++j) bi[j] /= d;
        for (p = i0; p < i; ++p) sapm__axpy(nrhs, -Li[p], bi, B + (size_t)p * ldb);
    }
}

/* Rows [i0, i1) of B = L^{-1} B (trans = 0; rows [0, i0) solved and subtracted) or
 * L^{-T} B (trans = 1; rows [i1, n) solved and subtracted): a diagonal block, recursive
 * on halves [i0, h), [h, i1) so that most of its work is a GEMM,
 *   forward:  solve B_1,  B_2 -= L_21 B_1,    solve B_2;
 *   backward: solve B_2,  B_1 -= L_21^T B_2,  solve B_1;
 * at <= 8 rows (or fewer right-hand sides than a micro-tile is wide) by substitution. */
static void sapm__trsm_diag(int trans, int i0, int i1, int nrhs, const double *L, int ldl,
                            double *B, int ldb)
{
    int h;
    if (i1 - i0 <= 8 || nrhs < SAPM__NR) {
        if (trans) sapm__trsm_lt_unblocked(i0, i1, nrhs, L, ldl, B, ldb);
        else sapm__trsm_ln_unblocked(i0, i1, nrhs, L, ldl, B, ldb);
        return;
    }
    h = i0 + ((i1 - i0) / 2 + 3) / 4 * 4;
    if (!trans) {
        sapm__trsm_diag(0, i0, h, nrhs, L, ldl, B, ldb);
        sapm__gemm_core(0, 0, i1 - h, nrhs, h - i0, -1.0, L + (size_t)h * ldl + i0, ldl,
                        B + (size_t)i0 * ldb, ldb, 1.0, B + (size_t)h * ldb, ldb, 0);
        sapm__trsm_diag(0, h, i1, nrhs, L, ldl, B, ldb);
    } else {
        sapm__trsm_diag(1, h, i1, nrhs, L, ldl, B, ldb);
        sapm__gemm_core(1, 0, h - i0, nrhs, i1 - h, -1.0, L + (size_t)h * ldl + i0, ldl,
                        B + (size_t)h * ldb, ldb, 1.0, B + (size_t)i0 * ldb, ldb, 0);
        sapm__trsm_diag(1, i0, h, nrhs, L, ldl, B, ldb);
    }
}

/* B = L^{-1} B (trans = 0) or L^{-T} B (trans = 1), arguments checked. Blocked by
 * SAPM__TRSM_NB rows: the off-diagonal blocks are GEMM updates
 *   forward:  B_2 -= L_21 B_1,   backward: B_1 -= L_21^T B_2. */
static void sapm__trsm(int trans, int n, int nrhs, const double *L, int ldl, double *B, int ldb)
{
    int i0;
    if (n <= SAPM__TRSM_NB || nrhs < SAPM__NR) {
        sapm__trsm_diag(trans, 0, n, nrhs, L, ldl, B, ldb);  /* (substitution if nrhs < NR) */
        return;
    }
    if (!trans) {
        for (i0 = 0; i0 < n; i0 += SAPM__TRSM_NB) {
            int i1 = SAPM__MIN(n, i0 + SAPM__TRSM_NB);
            if (i0 > 0)
                sapm__gemm_core(0, 0, i1 - i0, nrhs, i0, -1.0, L + (size_t)i0 * ldl, ldl, B, ldb,
                                1.0, B + (size_t)i0 * ldb, ldb, 0);
            sapm__trsm_diag(0, i0, i1, nrhs, L, ldl, B, ldb);
        }
    } else {
        int nblk = (n + SAPM__TRSM_NB - 1) / SAPM__TRSM_NB, blk;
        for (blk = nblk - 1; blk >= 0; --blk) {
            int b0 = blk * SAPM__TRSM_NB, b1 = SAPM__MIN(n, b0 + SAPM__TRSM_NB);
            sapm__trsm_diag(1, b0, b1, nrhs, L, ldl, B, ldb);
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
    /* forward  Y_i = (B_i - sum_{p<i} L_ip Y_p) / L_ii  and backward
     * X_i = (Y_i - sum_{p>i} L_pi X_p) / L_ii, four right-hand sides at a time summed in
     * registers (one load per multiply-add) */
    for (i = 0; i < n; ++i) {
        sapm__vd dinv = sapm__vdiv(sapm__vset(1.0), sapm__vload(SAPM__AI(i, i)));
        for (r = 0; r < nrhs; r += 4) {
            int w = SAPM__MIN(4, nrhs - r), q;
            sapm__vd s[4];
            for (q = 0; q < w; ++q) s[q] = sapm__vload(SAPM__BI(i, r + q));
            if (w == 4) {
                for (k = 0; k < i; ++k) {
                    sapm__vd lik = sapm__vload(SAPM__AI(i, k));
                    const double *bk = SAPM__BI(k, r);
                    s[0] = sapm__vfnma(lik, sapm__vload(bk), s[0]);
                    s[1] = sapm__vfnma(lik, sapm__vload(bk + VL), s[1]);
                    s[2] = sapm__vfnma(lik, sapm__vload(bk + 2 * VL), s[2]);
                    s[3] = sapm__vfnma(lik, sapm__vload(bk + 3 * VL), s[3]);
                }
            } else {
                for (k = 0; k < i; ++k) {
                    sapm__vd lik = sapm__vload(SAPM__AI(i, k));
                    for (q = 0; q < w; ++q) s[q] = sapm__vfnma(lik, sapm__vload(SAPM__BI(k, r + q)), s[q]);
                }
            }
            for (q = 0; q < w; ++q) sapm__vstore(SAPM__BI(i, r + q), sapm__vmul(s[q], dinv));
        }
    }
    for (i = n - 1; i >= 0; --i) {
        sapm__vd dinv = sapm__vdiv(sapm__vset(1.0), sapm__vload(SAPM__AI(i, i)));
        for (r = 0; r < nrhs; r += 4) {
            int w = SAPM__MIN(4, nrhs - r), q;
            sapm__vd s[4];
            for (q = 0; q < w; ++q) s[q] = sapm__vload(SAPM__BI(i, r + q));
            if (w == 4) {
                for (k = i + 1; k < n; ++k) {
                    sapm__vd lki = sapm__vload(SAPM__AI(k, i));
                    const double *bk = SAPM__BI(k, r);
                    s[0] = sapm__vfnma(lki, sapm__vload(bk), s[0]);
                    s[1] = sapm__vfnma(lki, sapm__vload(bk + VL), s[1]);
                    s[2] = sapm__vfnma(lki, sapm__vload(bk + 2 * VL), s[2]);
                    s[3] = sapm__vfnma(lki, sapm__vload(bk + 3 * VL), s[3]);
                }
            } else {
                for (k = i + 1; k < n; ++k) {
                    sapm__vd lki = sapm__vload(SAPM__AI(k, i));
                    for (q = 0; q < w; ++q) s[q] = sapm__vfnma(lki, sapm__vload(SAPM__BI(k, r + q)), s[q]);
                }
            }
            for (q = 0; q < w; ++q) sapm__vstore(SAPM__BI(i, r + q), sapm__vmul(s[q], dinv));
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
 * Cephes's minimax rational for tanh on |z| <= 0.625, expm1 above), all within a few
 * ulp of libm (tanh: 2 ulp).
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

/* The shared core of exp and expm1: n = round(x / ln2), r = x - n ln2 (|r| <= ln2/2,
 * two-part ln2, exact for the n this library meets), and q(r) = 1/2 + r/3! + ... + r^11/13!,
 * so that exp(r) = 1 + r + r^2 q(r) and expm1(r) = r + r^2 q(r) (Taylor to r^13,
 * remainder < 5e-18 relative). */
static SAPM__FORCE_INLINE sapm__vd sapm__vexp_core(sapm__vd x, sapm__vd *n, sapm__vd *r)
{
    sapm__vd p;
    *n = sapm__vround(sapm__vmul(x, sapm__vset(SAPM__LOG2E)));
    *r = sapm__vfnma(*n, sapm__vset(SAPM__LN2_HI), x);
    *r = sapm__vfnma(*n, sapm__vset(SAPM__LN2_LO), *r);
    p = sapm__vfma(sapm__vset(1.6059043836821613e-10), *r, sapm__vset(2.08767569878681e-09));
    p = sapm__vfma(p, *r, sapm__vset(2.505210838544172e-08));
    p = sapm__vfma(p, *r, sapm__vset(2.755731922398589e-07));
    p = sapm__vfma(p, *r, sapm__vset(2.7557319223985893e-06));
    p = sapm__vfma(p, *r, sapm__vset(2.48015873015873e-05));
    p = sapm__vfma(p, *r, sapm__vset(0.0001984126984126984));
    p = sapm__vfma(p, *r, sapm__vset(0.001388888888888889));
    p = sapm__vfma(p, *r, sapm__vset(0.008333333333333333));
    p = sapm__vfma(p, *r, sapm__vset(0.041666666666666664));
    p = sapm__vfma(p, *r, sapm__vset(0.16666666666666666));
    return sapm__vfma(p, *r, sapm__vset(0.5));
}

/* exp(x) = 2^n exp(r). x is clamped to [-746, 710] first (exp underflows to 0 / overflows
 * to Inf there); NaN propagates. */
static sapm__vd sapm__vexp(sapm__vd x)
{
    sapm__vd n, r, q, one = sapm__vset(1.0);
    x = sapm__vmax(sapm__vset(-746.0), x);
    x = sapm__vmin(sapm__vset(710.0), x);
    q = sapm__vexp_core(x, &n, &r);
    return sapm__vscale(sapm__vfma(sapm__vfma(q, r, one), r, one), n);
}

/* tanh and its three derivatives, branch-free with one division. With a = |z|:
 *   a <= 0.625:  tanh a = a + (a s P(s)) / Q(s), s = z^2      (Cephes's rational)
 *   a >  0.625:  tanh a = E / (E + 2),  E = expm1(2a) = 2^n expm1(r) + (2^n - 1)
 * (a clamped to 20, where tanh is 1 in double); both kinds of lanes share the division by
 * selecting its numerator and denominator, then the sign of z is restored. Measured:
 * within 2 ulp of libm (tests/test_activations.c), 1.4 ns per element with the three
 * derivatives on AVX-512 (bench_kernels). */
static SAPM__FORCE_INLINE void sapm__vtanh(sapm__vd x, sapm__vd *v)
{
    sapm__vd ax = sapm__vabs(x), one = sapm__vset(1.0), s = sapm__vmul(x, x);
    sapm__vd y = sapm__vmul(sapm__vset(2.0), sapm__vmin(sapm__vset(20.0), ax));
    sapm__vd n, r, q, pw, E, P, Q, t, d1, d2;
    sapm__vm small = sapm__vle(ax, sapm__vset(0.625));
    q = sapm__vexp_core(y, &n, &r);
    pw = sapm__vscale(one, n);                                        /* 2^n */
    E = sapm__vfma(pw, sapm__vfma(sapm__vmul(q, r), r, r), sapm__vsub(pw, one));
    P = sapm__vfma(sapm__vset(SAPM__TANH_P0), s, sapm__vset(SAPM__TANH_P1));
    P = sapm__vfma(P, s, sapm__vset(SAPM__TANH_P2));
    Q = sapm__vadd(s, sapm__vset(SAPM__TANH_Q0));
    Q = sapm__vfma(Q, s, sapm__vset(SAPM__TANH_Q1));
    Q = sapm__vfma(Q, s, sapm__vset(SAPM__TANH_Q2));
    t = sapm__vdiv(sapm__vsel(small, sapm__vmul(sapm__vmul(ax, s), P), E),
                   sapm__vsel(small, Q, sapm__vadd(E, sapm__vset(2.0))));
    t = sapm__vxor_sign(sapm__vsel(small, sapm__vadd(ax, t), t), x); /* keeps tanh(-0) = -0 */
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
            double x = z[i], phi, Phi;
            if (fabs(x) > 40.0) {                 /* phi(x) = 0 in double: the limits, */
                int pos = x > 0.0;                /* never Inf * 0 at +-Inf or x^2 = Inf */
                if (s0) s0[i] = pos ? x : 0.0;
                if (s1) s1[i] = pos ? 1.0 : 0.0;
                if (s2) s2[i] = 0.0;
                if (s3) s3[i] = 0.0;
                continue;
            }
            phi = 0.39894228040143267794 * exp(-0.5 * x * x);
            Phi = 0.5 * erfc(-x * 0.70710678118654752440);
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
    if (dst == src) return SAPM_OK;               /* a copy onto itself is itself */
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

/* ======================================================================================
 * Implementation: derivative tape (forward pass with input derivatives, reverse pass)
 *
 * The tape is the one forward/backward engine of the library: inference (sapm_net_forward,
 * sapm_net_forward_derivs), J_LS gradients, LM Jacobians and the PINN gradients all run on it. It works on a block of
 * N <= cap points and a parameter vector in the layout of sapm_net.params (so optimizers
 * can evaluate trial points without touching the net).
 *
 * Storage. Every layer keeps a stack of nb = 1 + nd + nq row blocks of N rows each
 * (R = nb N rows, row-major, row stride = the layer width n_l):
 *     block 0        values             z_l(x_n)
 *     block 1 + i    first derivatives  d_{l,i} = dz_l/dx_i,  i = 0..d-1  (nd = d, TAPE_GRAD)
 *                    or one directional derivative d_l = v_n . grad z_l    (nd = 1, TAPE_DIR)
 *     block 1 + nd   Laplacian          q_l = Laplacian of z_l            (nq = 1, TAPE_LAP)
 * so row (b N + n) of a layer matrix belongs to block b and point n. Arrays:
 *     A[l], l = 1..L    pre-activation rows (z_l, d_{l,i}, q_l); A[L] = (u, du/dx_i, Lap u)
 *     P[l], l = 0..L-1  post-activation rows, the input of layer l+1:
 *                         h_l = sigma(z_l),  g_{l,i} = sigma'(z_l) . d_{l,i},
 *                         p_l = sigma''(z_l) . sum_i d_{l,i}^2 + sigma'(z_l) . q_l
 *                       P[0] = x_n only (TAPE_DIR: P[0] = (x_n; v_n), the input tangent)
 *     S1[l], S2[l], S3[l], l = 1..L-1   sigma', sigma'', sigma''' at z_l (N x n_l; S2 only
 *                       with derivatives, S3 only with the Laplacian)
 * Because d_{l,i} = W_l g_{l-1,i} and q_l = W_l p_{l-1} (the exact derivative recursions), one
 * GEMM per layer, A[l] = P[l-1] W_l^T (+ b_l on the value rows), computes all of them for
 * l >= 2. Layer 1 is folded (TAPE_GRAD, TAPE_LAP): the input's derivative rows would be the
 * unit vectors e_i and its Laplacian rows 0, so d_{1,i} = W_1 e_i = column i of W_1 at every
 * point, q_1 = 0 and sum_i d_{1,i}^2 = ||row j of W_1||^2 for unit j; only the value rows
 * go through the GEMM. The d x d block of unit vectors per point is never formed: memory
 * and time are O(d) per point and unit, not O(d^2) (d = 5000: 200 MB and a 5000 x 5000
 * x n_1 product per point before).
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
 * which is Abar_{l-1}. A weighted Laplacian sum_i w_i d_i^2 z (t->lapw, e.g. w = 0 on a
 * time coordinate: u_xx without u_tt) puts w_i on every d_i^2 above: p_l = sigma''(z_l) .
 * sum_i w_i d_{l,i}^2 + sigma'(z_l) . q_l, zbar's term s3 sum_i w_i d_i^2 pbar and
 * dbar_i's term 2 w_i s2 d_i pbar. With nd = nq = 0 this is ordinary back-propagation. Folded layer 1:
 * dJ/dW_1 += hbar_1^T X (the value rows) and dJ/dW_1[j, i] += sum_n dbar_{1,i}[n, j] (the
 * derivative rows against e_i; the Laplacian rows meet P[0]'s zero rows).
 * Usage:
 *     sapm__tape t;  sapm__tape_init(&t, net, cap, SAPM__TAPE_LAP);   once
 *     sapm__tape_forward(&t, params, N, X, ldx);                        per block
 *     ... read t.A[t.depth] ... write sapm__tape_adjoint(&t) ...
 *     sapm__tape_backward(&t, params, grad);                            grad += dJ/dparams
 *     sapm__tape_free(&t);
 * No allocation after init. The tape never reads the net again after init except for its
 * shape and activation, which it copies.
 * ====================================================================================== */

enum { SAPM__TAPE_VALUE = 0, SAPM__TAPE_GRAD = 1, SAPM__TAPE_LAP = 2, SAPM__TAPE_DIR = 3,
       SAPM__TAPE_INFER = 4 };

typedef struct sapm__tape {
    int depth;              /* L */
    int d, m;               /* n_0 and n_L */
    int cap;                /* most points per block */
    int nd, nq, nb;         /* derivative blocks (0, 1 or d), Laplacian blocks (0 or 1), 1+nd+nq */
    int dir;                /* SAPM__TAPE_DIR: one directional-derivative block, v_n . grad */
    const double *dirs;     /* ... with v_n = row n of dirs (N x d), set before every forward */
    int N, R;               /* points and rows of the current block (R = nb N) */
    int fold;               /* layer 1 folded (TAPE_GRAD, TAPE_LAP): P[0] holds values only */
    int wmax;               /* max width of layers 1..L */
    int infer;              /* SAPM__TAPE_INFER: values only, no sigma' and no adjoints kept
                               (inference; sapm__tape_backward must not be called) */
    const double *lapw;     /* TAPE_LAP: weights w_i of the Laplacian stream, which then
                               carries sum_i w_i d_i^2 z (NULL: all 1); set by the caller */
    sapm_activation act;
    int *widths;            /* n_0..n_L (copy) */
    size_t *woff, *boff;    /* offsets of W_l, b_l (l = 1..L at [l-1]) in a parameter vector */
    double **A, **P, **S1, **S2, **S3;  /* see the block comment; index = layer l */
    double *adj, *adj2;     /* adjoint buffers, cap nb x wmax each */
    double *colsum;         /* wmax: column sums of the next Abar (value mode, fused) */
    double *mem;            /* every double above */
    void *pmem;             /* every pointer/int above */
    int owned;              /* mem and pmem came from the allocator (not a caller's buffer) */
} sapm__tape;

static void sapm__tape_free(sapm__tape *t)
{
    if (!t) return;
    if (t->owned) {
        if (t->mem) SAPM_FREE(t->mem);
        if (t->pmem) SAPM_FREE(t->pmem);
    }
    memset(t, 0, sizeof *t);
}

/* mode: SAPM__TAPE_VALUE, SAPM__TAPE_GRAD (all d first derivatives), SAPM__TAPE_LAP
 * (first derivatives and the Laplacian), SAPM__TAPE_DIR (one directional derivative
 * v_n . grad z per point, v_n = row n of t->dirs, which the caller sets before every
 * forward: a first-order operator sum_i c_i d_i u costs one stream instead of d) or
 * SAPM__TAPE_INFER (values for inference only). buf (may be NULL) is caller memory of
 * buf_doubles doubles, aligned for double and pointers, used instead of the allocator when
 * the tape fits in it. */
static sapm_result sapm__tape_init_in(sapm__tape *t, const sapm_net *net, int cap, int mode,
                                      double *buf, size_t buf_doubles)
{
    int L = net->depth, l;
    size_t rows, total = 0, off = 0, npt, npt_doubles;
    char *pm;
    memset(t, 0, sizeof *t);
    if (cap <= 0) return SAPM_ERR_INVALID_SIZE;
    t->depth = L;
    t->d = net->widths[0];
    t->m = net->widths[L];
    t->cap = cap;
    t->infer = mode == SAPM__TAPE_INFER;
    t->dir = mode == SAPM__TAPE_DIR;
    t->nd = t->dir ? 1 : (mode == SAPM__TAPE_GRAD || mode == SAPM__TAPE_LAP) ? t->d : 0;
    t->nq = mode == SAPM__TAPE_LAP ? 1 : 0;
    t->nb = 1 + t->nd + t->nq;
    t->act = net->act;
    t->fold = t->nd > 0 && !t->dir;
    /* the adjoints hold Abar_l and Pbar_{l-1} for l >= 2 only: widths n_1..n_L (not n_0,
     * which would make them d x d per point) */
    t->wmax = 1;
    for (l = 1; l <= L; ++l) t->wmax = SAPM__MAX(t->wmax, net->widths[l]);
    rows = (size_t)cap * (size_t)t->nb;
    if (rows / (size_t)t->nb != (size_t)cap) return SAPM_ERR_INVALID_SIZE;
    /* pointer arrays: 5 x (L+1) double*, 2 x L size_t, L+1 int */
    npt = 5 * (size_t)(L + 1) * sizeof(double *) + 2 * (size_t)L * sizeof(size_t) +
          (size_t)(L + 1) * sizeof(int);
    npt_doubles = (npt + sizeof(double) - 1) / sizeof(double);
    /* doubles: A[1..L], P[0..L-1] (rows x n_l), S1..S3 for hidden layers, 2 adjoints
     * (inference: A and P only) */
    for (l = 0; l <= L; ++l) {
        size_t nl = (size_t)net->widths[l];
        if (l >= 1) total += rows * nl;                       /* A[l] */
        if (l <= L - 1) total += (l == 0 && t->fold ? (size_t)cap : rows) * nl; /* P[l] */
        if (l >= 1 && l <= L - 1 && !t->infer)
            total += (size_t)cap * nl * (size_t)(1 + (t->nd > 0 || t->nq > 0) + t->nq);
    }
    if (!t->infer) total += 2 * rows * (size_t)t->wmax + (size_t)t->wmax;
    if (buf && npt_doubles + total <= buf_doubles) {
        memset(buf, 0, npt_doubles * sizeof(double));
        t->pmem = buf;
        t->mem = buf + npt_doubles;
    } else {
        t->owned = 1;
        t->pmem = sapm__calloc(npt, 1);
        if (!t->pmem) return SAPM_ERR_OUT_OF_MEMORY;
        t->mem = (double *)sapm__alloc(total, sizeof(double));
        if (!t->mem) { sapm__tape_free(t); return SAPM_ERR_OUT_OF_MEMORY; }
    }
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
    off = 0;
    for (l = 0; l <= L; ++l) {
        size_t nl = (size_t)net->widths[l];
        if (l >= 1) { t->A[l] = t->mem + off; off += rows * nl; }
        if (l <= L - 1) { t->P[l] = t->mem + off; off += (l == 0 && t->fold ? (size_t)cap : rows) * nl; }
        if (l >= 1 && l <= L - 1 && !t->infer) {
            t->S1[l] = t->mem + off; off += (size_t)cap * nl;
            if (t->nd > 0 || t->nq > 0) { t->S2[l] = t->mem + off; off += (size_t)cap * nl; }
            if (t->nq) { t->S3[l] = t->mem + off; off += (size_t)cap * nl; }
        }
    }
    if (!t->infer) {
        t->adj = t->mem + off; off += rows * (size_t)t->wmax;
        t->adj2 = t->mem + off; off += rows * (size_t)t->wmax;
        t->colsum = t->mem + off; off += (size_t)t->wmax;
    }
    SAPM_ASSERT(off == total);
    return SAPM_OK;
}

static sapm_result sapm__tape_init(sapm__tape *t, const sapm_net *net, int cap, int mode)
{
    return sapm__tape_init_in(t, net, cap, mode, NULL, 0);
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
    /* P[0] = x_n (the value rows; with layer 1 folded there are no others) */
    for (n = 0; n < N; ++n)
        memcpy(t->P[0] + (size_t)n * d, X + (size_t)n * ldx, (size_t)d * sizeof(double));
    if (t->dir) {                    /* P[0] = (x_n; v_n): the direction is the input tangent */
        SAPM_ASSERT(t->dirs != NULL);
        for (n = 0; n < N; ++n)
            memcpy(t->P[0] + (size_t)(N + n) * d, t->dirs + (size_t)n * d, (size_t)d * sizeof(double));
    }
    for (l = 1; l <= L; ++l) {
        int n_in = t->widths[l - 1], n_out = t->widths[l];
        const double *W = params + t->woff[l - 1], *b = params + t->boff[l - 1];
        double *Al = t->A[l];
        if (l == 1 && t->fold) {
            /* z_1 = W_1 x + b_1; d_{1,i} = W_1 e_i = column i of W_1 (every point);
             * q_1 = W_1 0 = 0 */
            double *SAPM__RESTRICT row;
            sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, N, n_out, n_in, 1.0, t->P[0], n_in, W, n_in,
                      0.0, Al, n_out);
            for (i = 0; i < t->nd; ++i) {
                row = Al + (size_t)(1 + i) * N * n_out;
                for (j = 0; j < n_out; ++j) row[j] = W[(size_t)j * n_in + i];
                for (n = 1; n < N; ++n)
                    memcpy(row + (size_t)n * n_out, row, (size_t)n_out * sizeof(double));
            }
            if (t->nq) memset(Al + (size_t)(1 + t->nd) * N * n_out, 0, (size_t)N * n_out * sizeof(double));
        } else {
            /* z_l = W_l h_{l-1} + b_l, d_{l,i} = W_l g_{l-1,i}, q_l = W_l p_{l-1} */
            sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, t->R, n_out, n_in, 1.0, t->P[l - 1], n_in, W, n_in,
                      0.0, Al, n_out);
        }
        for (n = 0; n < N; ++n) {
            double *SAPM__RESTRICT z = Al + (size_t)n * n_out;
            for (j = 0; j < n_out; ++j) z[j] += b[j];
        }
        if (l == L) break;
        Nn = (size_t)N * (size_t)n_out;
        sapm_activation_eval(t->act, Nn, Al, t->P[l], t->infer ? NULL : t->S1[l],
                             t->nb > 1 ? t->S2[l] : NULL, t->nq ? t->S3[l] : NULL);
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
            if (t->nq && l == 1 && t->fold) {
                /* folded: sum_i d_{1,i}^2 = ||row j of W_1||^2, q_1 = 0 */
                double *SAPM__RESTRICT rn = t->colsum;
                double *SAPM__RESTRICT p = t->P[1] + (size_t)(1 + t->nd) * Nn;
                for (j = 0; j < n_out; ++j) {
                    const double *SAPM__RESTRICT w = W + (size_t)j * n_in;
                    double ss = 0.0;
                    if (t->lapw)            /* weighted: sum_i w_i W_1[j,i]^2 */
                        for (i = 0; i < n_in; ++i) ss += t->lapw[i] * w[i] * w[i];
                    else
                        for (i = 0; i < n_in; ++i) ss += w[i] * w[i];
                    rn[j] = ss;
                }
                for (n = 0; n < N; ++n)
                    for (j = 0; j < n_out; ++j)
                        p[(size_t)n * n_out + j] = s2[(size_t)n * n_out + j] * rn[j];
            } else if (t->nq) {
                const double *SAPM__RESTRICT q = Al + (size_t)(1 + t->nd) * Nn;
                double *SAPM__RESTRICT p = t->P[l] + (size_t)(1 + t->nd) * Nn;
                for (k = 0; k < Nn; ++k) p[k] = 0.0;
                for (i = 0; i < t->nd; ++i) {
                    const double *SAPM__RESTRICT a = Al + (size_t)(1 + i) * Nn;
                    double wi = t->lapw ? t->lapw[i] : 1.0;
                    if (wi == 1.0)
                        for (k = 0; k < Nn; ++k) p[k] += a[k] * a[k];
                    else if (wi != 0.0)     /* weighted: sum_i w_i d_{l,i}^2 */
                        for (k = 0; k < Nn; ++k) p[k] += wi * a[k] * a[k];
                }
                for (k = 0; k < Nn; ++k) p[k] = s2[k] * p[k] + s1[k] * q[k];
            }
        }
    }
    return SAPM_OK;
}

/* Abar_l from Pbar_l in place (hidden layer l, derivative streams present): the adjoint
 * recursions of h, g_i and p (see the block comment) with s1, s2, s3 = sigma', sigma'',
 * sigma''' at z_l, d_i = d_{l,i}, q = q_l:
 *     zbar   = s1 hbar + sum_i s2 d_i gbar_i + (s3 sum_i d_i^2 + s2 q) pbar
 *     dbar_i = s1 gbar_i + 2 s2 d_i pbar,   qbar = s1 pbar. */
static void sapm__tape_adjoint_hidden(const sapm__tape *t, int l, double *oth)
{
    size_t Nn = (size_t)t->N * (size_t)t->widths[l], k;
    const double *SAPM__RESTRICT s1 = t->S1[l], *SAPM__RESTRICT s2 = t->S2[l];
    const double *SAPM__RESTRICT s3 = t->S3[l];
    double *SAPM__RESTRICT zbar = oth;           /* hbar in, zbar out */
    int nd = t->nd, i;
    /* one pass per stream, each a plain vectorisable loop (the streams are Nn apart) */
    if (t->nq) {
        const double *SAPM__RESTRICT q = t->A[l] + (size_t)(1 + nd) * Nn;
        double *SAPM__RESTRICT pbar = oth + (size_t)(1 + nd) * Nn;
        for (k = 0; k < Nn; ++k) zbar[k] = s1[k] * zbar[k] + s2[k] * q[k] * pbar[k];
        for (i = 0; i < nd; ++i) {
            const double *SAPM__RESTRICT di = t->A[l] + (size_t)(1 + i) * Nn;
            double *SAPM__RESTRICT gbar = oth + (size_t)(1 + i) * Nn;
            double wi = t->lapw ? t->lapw[i] : 1.0;
            if (wi == 1.0) {
                for (k = 0; k < Nn; ++k) {
                    double sd = s2[k] * di[k];
                    zbar[k] += sd * gbar[k] + s3[k] * di[k] * di[k] * pbar[k];
                    gbar[k] = s1[k] * gbar[k] + 2.0 * sd * pbar[k];
                }
            } else {
                /* weighted Laplacian: the terms of d_i^2 carry w_i */
                for (k = 0; k < Nn; ++k) {
                    double sd = s2[k] * di[k];
                    zbar[k] += sd * gbar[k] + wi * s3[k] * di[k] * di[k] * pbar[k];
                    gbar[k] = s1[k] * gbar[k] + 2.0 * wi * sd * pbar[k];
                }
            }
        }
        for (k = 0; k < Nn; ++k) pbar[k] *= s1[k];
    } else {
        for (k = 0; k < Nn; ++k) zbar[k] *= s1[k];
        for (i = 0; i < nd; ++i) {
            const double *SAPM__RESTRICT di = t->A[l] + (size_t)(1 + i) * Nn;
            double *SAPM__RESTRICT gbar = oth + (size_t)(1 + i) * Nn;
            for (k = 0; k < Nn; ++k) {
                zbar[k] += s2[k] * di[k] * gbar[k];
                gbar[k] *= s1[k];
            }
        }
    }
}

/* Reverse pass: grad += dJ/dparams for the adjoint the caller wrote into
 * sapm__tape_adjoint(t) (clobbers it). Needs the last sapm__tape_forward's tape. */
static sapm_result sapm__tape_backward(sapm__tape *t, const double *params, double *grad)
{
    int L = t->depth, N = t->N, R = t->R, l, n, j, have_colsum = 0;
    double *cur = t->adj, *oth = t->adj2, *tmp;
    SAPM_ASSERT(!t->infer);
    for (l = L; l >= 1; --l) {
        int n_in = t->widths[l - 1], n_out = t->widths[l];
        const double *W = params + t->woff[l - 1];
        double *SAPM__RESTRICT gb = grad + t->boff[l - 1];
        /* dJ/dW_l += Abar_l^T P[l-1];  dJ/db_l += sum of the value rows of Abar_l (in value
         * mode already summed while Abar_l was formed) */
        if (l == 1 && t->fold) {
            /* folded: the value rows against x_n, dbar_{1,i} against e_i (column i) */
            double *SAPM__RESTRICT gw = grad + t->woff[0], *SAPM__RESTRICT cs = t->colsum;
            int i;
            sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n_out, n_in, N, 1.0, cur, n_out, t->P[0], n_in,
                      1.0, gw, n_in);
            for (i = 0; i < t->nd; ++i) {
                const double *SAPM__RESTRICT c = cur + (size_t)(1 + i) * N * n_out;
                for (j = 0; j < n_out; ++j) cs[j] = 0.0;
                for (n = 0; n < N; ++n)
                    for (j = 0; j < n_out; ++j) cs[j] += c[(size_t)n * n_out + j];
                for (j = 0; j < n_out; ++j) gw[(size_t)j * n_in + i] += cs[j];
            }
        } else {
            sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n_out, n_in, R, 1.0, cur, n_out, t->P[l - 1], n_in,
                      1.0, grad + t->woff[l - 1], n_in);
        }
        if (have_colsum) {
            for (j = 0; j < n_out; ++j) gb[j] += t->colsum[j];
        } else {
            for (n = 0; n < N; ++n) {
                const double *SAPM__RESTRICT c = cur + (size_t)n * n_out;
                for (j = 0; j < n_out; ++j) gb[j] += c[j];
            }
        }
        if (l == 1) break;
        /* Pbar_{l-1} = Abar_l W_l */
        sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, R, n_in, n_out, 1.0, cur, n_out, W, n_in, 0.0,
                  oth, n_in);
        {
            const double *SAPM__RESTRICT s1 = t->S1[l - 1];
            if (t->nb == 1) {
                /* zbar = sigma'(z) hbar (plain back-propagation), and its column sums */
                double *SAPM__RESTRICT cs = t->colsum;
                for (j = 0; j < n_in; ++j) cs[j] = 0.0;
                for (n = 0; n < N; ++n) {
                    double *SAPM__RESTRICT o = oth + (size_t)n * n_in;
                    const double *SAPM__RESTRICT sn = s1 + (size_t)n * n_in;
                    for (j = 0; j < n_in; ++j) { o[j] *= sn[j]; cs[j] += o[j]; }
                }
                have_colsum = 1;
            } else {
                sapm__tape_adjoint_hidden(t, l - 1, oth);
            }
        }
        tmp = cur; cur = oth; oth = tmp;
    }
    return SAPM_OK;
}

/* Per-point Jacobian rows (the Gauss-Newton / Levenberg-Marquardt Jacobian): the caller
 * writes into sapm__tape_adjoint(t) one seed per point and output row, exactly as for
 * sapm__tape_backward, so that point n's residual is rho_n = sum_s adj[sN+n] . A[L][sN+n]
 * (s over the stream blocks); row n of J (row stride ldj >= n_params) receives
 * d rho_n / dparams:
 *     J_n[W_l] = sum_s Abar_l[sN+n]^T P[l-1][sN+n]   (one n_l x S x n_{l-1} GEMM per point)
 *     J_n[b_l] = Abar_l[n]                           (the value row)
 * Points never mix in the reverse recursion, so one pass gives every row. Clobbers the
 * adjoint; needs the last sapm__tape_forward's tape. */
static void sapm__tape_jacobian(sapm__tape *t, const double *params, double *J, size_t ldj)
{
    int L = t->depth, N = t->N, R = t->R, S = t->nb, l, n, j;
    double *cur = t->adj, *oth = t->adj2, *tmp;
    SAPM_ASSERT(!t->infer);
    for (l = L; l >= 1; --l) {
        int n_in = t->widths[l - 1], n_out = t->widths[l];
        const double *W = params + t->woff[l - 1];
        for (n = 0; n < N; ++n) {
            double *SAPM__RESTRICT jb = J + (size_t)n * ldj + t->boff[l - 1];
            double *SAPM__RESTRICT jw = J + (size_t)n * ldj + t->woff[l - 1];
            const double *SAPM__RESTRICT c = cur + (size_t)n * n_out;
            if (l == 1 && t->fold) {
                /* folded: the value row against x_n, dbar_{1,i} against e_i (column i) */
                int i;
                sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n_out, n_in, 1, 1.0, c, n_out,
                          t->P[0] + (size_t)n * n_in, n_in, 0.0, jw, n_in);
                for (i = 0; i < t->nd; ++i) {
                    const double *SAPM__RESTRICT ci = cur + ((size_t)(1 + i) * N + n) * n_out;
                    for (j = 0; j < n_out; ++j) jw[(size_t)j * n_in + i] += ci[j];
                }
            } else {
                sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, n_out, n_in, S, 1.0, c, N * n_out,
                          t->P[l - 1] + (size_t)n * n_in, N * n_in, 0.0, jw, n_in);
            }
            for (j = 0; j < n_out; ++j) jb[j] = c[j];
        }
        if (l == 1) break;
        /* Pbar_{l-1} = Abar_l W_l, then Abar_{l-1} */
        sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, R, n_in, n_out, 1.0, cur, n_out, W, n_in, 0.0,
                  oth, n_in);
        if (S == 1) {
            const double *SAPM__RESTRICT s1 = t->S1[l - 1];
            size_t k, Nn = (size_t)N * (size_t)n_in;
            for (k = 0; k < Nn; ++k) oth[k] *= s1[k];
        } else {
            sapm__tape_adjoint_hidden(t, l - 1, oth);
        }
        tmp = cur; cur = oth; oth = tmp;
    }
}

/* --- network evaluation on the tape ------------------------------------------------ */

/* u (and du/dx_i with dU, Lap u with lapU) at N points, in blocks of at most 128 (256 for
 * values only) points. Values only for a few points run on a tape in stack memory, so
 * point-by-point inference in a loop never touches the allocator. */
static sapm_result sapm__net_eval(const sapm_net *net, int N, const double *X, int ldx,
                                  double *U, int ldu, double *dU, double *lapU)
{
    enum { BLOCK = 128, BLOCK_VALUES = 256, STACK = 2048 };
    double stackbuf[STACK];
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
    if (!dU && !lapU)
        r = sapm__tape_init_in(&t, net, SAPM__MIN(N, (int)BLOCK_VALUES), SAPM__TAPE_INFER,
                               stackbuf, STACK);
    else
        r = sapm__tape_init(&t, net, SAPM__MIN(N, (int)BLOCK),
                            lapU ? SAPM__TAPE_LAP : SAPM__TAPE_GRAD);
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

SAPMDEF sapm_result sapm_net_forward(const sapm_net *net, int N, const double *X, int ldx,
                                     double *U, int ldu)
{
    return sapm__net_eval(net, N, X, ldx, U, ldu, NULL, NULL);
}

SAPMDEF sapm_result sapm_net_forward_derivs(const sapm_net *net, int N, const double *X,
                                            int ldx, double *U, int ldu, double *dU,
                                            double *lapU)
{
    return sapm__net_eval(net, N, X, ldx, U, ldu, dU, lapU);
}

/* ======================================================================================
 * Implementation: model files
 *
 * Format "SAPMNET" version 1 (the byte layout is documented at sapm_net_save_mem's
 * declaration). Every integer and double is written byte by byte, little-endian, so the
 * files are identical on every machine and a round trip is bit-exact. The trailer is the
 * FNV-1a 64-bit hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of every byte
 * before it. Loading validates the whole buffer into a fresh net and only then replaces
 * the caller's net, so a failed load leaves it untouched.
 * ====================================================================================== */

#define SAPM__FILE_MAGIC "SAPMNET"          /* + the terminating 0: 8 bytes */
#define SAPM__FILE_VERSION 1u
#define SAPM__FILE_HEADER 32u

static uint64_t sapm__fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < n; ++i) { h ^= p[i]; h *= 0x100000001b3ull; }
    return h;
}

static void sapm__put_le(unsigned char *p, uint64_t v, int bytes)
{
    int i;
    for (i = 0; i < bytes; ++i) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t sapm__get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    int i;
    for (i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

SAPMDEF size_t sapm_net_file_size(const sapm_net *net)
{
    if (sapm__net_check(net) != SAPM_OK) return 0;
    return SAPM__FILE_HEADER + 4 * ((size_t)net->depth + 1) + 8 * net->n_params + 8;
}

SAPMDEF sapm_result sapm_net_save_mem(const sapm_net *net, void *buf, size_t cap,
                                      size_t *written)
{
    unsigned char *p = (unsigned char *)buf, *q;
    size_t size, i;
    int l;
    sapm_result r = sapm__net_check(net);
    if (written) *written = 0;
    if (r != SAPM_OK) return r;
    if (!buf) return SAPM_ERR_NULL_ARGUMENT;
    size = sapm_net_file_size(net);
    if (cap < size) return SAPM_ERR_INVALID_SIZE;
    if (!sapm__all_finite(net->params, net->n_params)) return SAPM_ERR_NONFINITE_INPUT;
    memcpy(p, SAPM__FILE_MAGIC, 8);
    sapm__put_le(p + 8, SAPM__FILE_VERSION, 4);
    sapm__put_le(p + 12, SAPM__FILE_HEADER, 4);
    sapm__put_le(p + 16, (uint64_t)net->depth, 4);
    sapm__put_le(p + 20, (uint64_t)net->act, 4);
    sapm__put_le(p + 24, (uint64_t)net->n_params, 8);
    q = p + SAPM__FILE_HEADER;
    for (l = 0; l <= net->depth; ++l, q += 4) sapm__put_le(q, (uint64_t)net->widths[l], 4);
    for (i = 0; i < net->n_params; ++i, q += 8) {
        uint64_t bits;
        memcpy(&bits, net->params + i, 8);   /* IEEE-754 binary64 bit pattern */
        sapm__put_le(q, bits, 8);
    }
    sapm__put_le(q, sapm__fnv1a64(p, (size_t)(q - p)), 8);
    if (written) *written = size;
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_net_load_mem(sapm_net *net, const void *buf, size_t size)
{
    const unsigned char *p = (const unsigned char *)buf, *q;
    sapm_net tmp;
    uint64_t depth, act, np, total, i;
    int widths_small[64], *widths = widths_small, l;
    sapm_result r;
    if (!net || !buf) return SAPM_ERR_NULL_ARGUMENT;
    /* magic (a short buffer that matches it so far is a truncated file) */
    if (memcmp(p, SAPM__FILE_MAGIC, size < 8 ? size : 8) != 0) return SAPM_ERR_BAD_FORMAT;
    if (size < SAPM__FILE_HEADER) return SAPM_ERR_CORRUPT;
    if (sapm__get_le(p + 8, 4) != SAPM__FILE_VERSION) return SAPM_ERR_BAD_FORMAT;
    if (sapm__get_le(p + 12, 4) != SAPM__FILE_HEADER) return SAPM_ERR_BAD_FORMAT;
    depth = sapm__get_le(p + 16, 4);
    act = sapm__get_le(p + 20, 4);
    np = sapm__get_le(p + 24, 8);
    if (depth < 1 || depth > 10000 || act >= (uint64_t)SAPM_ACT_COUNT) return SAPM_ERR_BAD_FORMAT;
    if (size < SAPM__FILE_HEADER + 4 * (depth + 1)) return SAPM_ERR_CORRUPT;
    /* sizes: every width in 1..10^6, P = sum n_l (n_{l-1} + 1) (fits: < 10^4 * 10^12) */
    total = 0;
    for (l = 0; l <= (int)depth; ++l) {
        uint64_t w = sapm__get_le(p + SAPM__FILE_HEADER + 4 * (size_t)l, 4);
        if (w < 1 || w > 1000000) return SAPM_ERR_BAD_FORMAT;
        if (l > 0) total += w * (sapm__get_le(p + SAPM__FILE_HEADER + 4 * (size_t)(l - 1), 4) + 1);
    }
    if (total != np) return SAPM_ERR_BAD_FORMAT;
    if (np > ((uint64_t)(size_t)-1 - 4 * (depth + 1) - 64) / 8) return SAPM_ERR_CORRUPT;
    total = SAPM__FILE_HEADER + 4 * (depth + 1) + 8 * np + 8;
    if (size != total) return SAPM_ERR_CORRUPT;       /* truncated or trailing bytes */
    if (sapm__fnv1a64(p, (size_t)total - 8) != sapm__get_le(p + total - 8, 8)) return SAPM_ERR_CORRUPT;
    /* everything checks: build the net aside, then swap it in */
    if (depth + 1 > 64) {
        widths = (int *)sapm__alloc((size_t)depth + 1, sizeof(int));
        if (!widths) return SAPM_ERR_OUT_OF_MEMORY;
    }
    for (l = 0; l <= (int)depth; ++l)
        widths[l] = (int)sapm__get_le(p + SAPM__FILE_HEADER + 4 * (size_t)l, 4);
    r = sapm_net_create(&tmp, (int)depth, widths, (sapm_activation)act);
    if (widths != widths_small) SAPM_FREE(widths);
    if (r != SAPM_OK) return r;
    q = p + SAPM__FILE_HEADER + 4 * (depth + 1);
    for (i = 0; i < np; ++i, q += 8) {
        uint64_t bits = sapm__get_le(q, 8);
        memcpy(tmp.params + i, &bits, 8);
    }
    if (!sapm__all_finite(tmp.params, tmp.n_params)) {
        sapm_net_destroy(&tmp);
        return SAPM_ERR_BAD_FORMAT;                    /* never written by sapm_net_save */
    }
    sapm_net_destroy(net);
    *net = tmp;
    return SAPM_OK;
}

#ifndef SAPM_NO_STDIO
#include <errno.h>
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__))
#include <sys/types.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#define SAPM__POSIX 1
#else
#define SAPM__POSIX 0
#endif

/* ---- files: every writer (model files, PNG, CSV) goes through sapm__out ---- */

/* 1 when path names an existing file that is not a regular file (a device, a FIFO, a
 * directory); 0 when it is regular, absent, or the platform cannot tell (not POSIX). */
static int sapm__path_special(const char *path)
{
#if SAPM__POSIX
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
#else
    (void)path;
    return 0;
#endif
}

/* A file being written: path itself when it is a device or a FIFO (written in place,
 * never removed), otherwise a new temporary file in path's directory that replaces path
 * by rename() once every byte reached it, and is removed otherwise. So a failed write
 * never destroys what path held before, and never removes a file the call did not make. */
typedef struct sapm__out { FILE *f; char *tmp; const char *path; } sapm__out;

static sapm_result sapm__out_open(sapm__out *o, const char *path, const char *mode)
{
    size_t n = strlen(path) + 40;
    int attempt;
    o->f = NULL; o->tmp = NULL; o->path = path;
    if (sapm__path_special(path)) {
        o->f = fopen(path, mode);
        return o->f ? SAPM_OK : SAPM_ERR_IO;
    }
    o->tmp = (char *)SAPM_MALLOC(n);
    if (!o->tmp) return SAPM_ERR_OUT_OF_MEMORY;
    for (attempt = 0; attempt < 64 && !o->f; ++attempt) {
#if SAPM__POSIX
        struct stat st;
        int fd;
        snprintf(o->tmp, n, "%s.tmp-%lx-%d", path, (unsigned long)getpid(), attempt);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);    /* ours, or taken */
        if (fd < 0) {
            if (errno == EEXIST) continue;
            break;
        }
        close(fd);
        if (stat(path, &st) == 0) chmod(o->tmp, st.st_mode & 07777);  /* keep path's mode */
        o->f = fopen(o->tmp, mode);
        if (!o->f) remove(o->tmp);
        break;
#else
        FILE *probe;
        snprintf(o->tmp, n, "%s.tmp-%lx-%d", path, (unsigned long)((size_t)o >> 4), attempt);
        probe = fopen(o->tmp, "rb");
        if (probe) { fclose(probe); continue; }               /* taken */
        o->f = fopen(o->tmp, mode);
        break;
#endif
    }
    if (!o->f) { SAPM_FREE(o->tmp); o->tmp = NULL; return SAPM_ERR_IO; }
    return SAPM_OK;
}

/* Closes the file; with r == SAPM_OK and every write through, the temporary file
 * replaces path. Returns r, or SAPM_ERR_IO when r was SAPM_OK and a write failed. */
static sapm_result sapm__out_close(sapm__out *o, sapm_result r)
{
    if (ferror(o->f) && r == SAPM_OK) r = SAPM_ERR_IO;
    if (fclose(o->f) != 0 && r == SAPM_OK) r = SAPM_ERR_IO;
    o->f = NULL;
    if (!o->tmp) return r;
    if (r == SAPM_OK && rename(o->tmp, o->path) != 0) {
#if SAPM__POSIX
        r = SAPM_ERR_IO;
#else
        /* rename() onto an existing file fails on some systems: the new file is complete,
         * so it replaces the old one; when even that fails it stays under its own name */
        if (remove(o->path) != 0 || rename(o->tmp, o->path) != 0) {
            SAPM_FREE(o->tmp);
            o->tmp = NULL;
            return SAPM_ERR_IO;
        }
#endif
    }
    if (r != SAPM_OK) remove(o->tmp);
    SAPM_FREE(o->tmp);
    o->tmp = NULL;
    return r;
}

SAPMDEF sapm_result sapm_net_save(const sapm_net *net, const char *path)
{
    size_t size, n;
    unsigned char *buf;
    sapm__out o;
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (!path) return SAPM_ERR_NULL_ARGUMENT;
    size = sapm_net_file_size(net);
    buf = (unsigned char *)sapm__alloc(size, 1);
    if (!buf) return SAPM_ERR_OUT_OF_MEMORY;
    r = sapm_net_save_mem(net, buf, size, &n);
    if (r == SAPM_OK && (r = sapm__out_open(&o, path, "wb")) == SAPM_OK) {
        if (fwrite(buf, 1, n, o.f) != n) r = SAPM_ERR_IO;
        r = sapm__out_close(&o, r);
    }
    SAPM_FREE(buf);
    return r;
}

/* The fixed header alone: 1 when it is a model file's header (magic, version, header
 * size, depth, activation) and the file's whole size 32 + 4 (L+1) + 8 P + 8 it implies
 * fits in 64 bits, which is then in *total. */
static int sapm__file_total(const unsigned char *p, size_t size, uint64_t *total)
{
    uint64_t depth, np;
    if (size < SAPM__FILE_HEADER || memcmp(p, SAPM__FILE_MAGIC, 8) != 0) return 0;
    if (sapm__get_le(p + 8, 4) != SAPM__FILE_VERSION) return 0;
    if (sapm__get_le(p + 12, 4) != SAPM__FILE_HEADER) return 0;
    depth = sapm__get_le(p + 16, 4);
    np = sapm__get_le(p + 24, 8);
    if (depth < 1 || depth > 10000 || sapm__get_le(p + 20, 4) >= (uint64_t)SAPM_ACT_COUNT) return 0;
    if (np > (~(uint64_t)0 - SAPM__FILE_HEADER - 4 * (depth + 1) - 8) / 8) return 0;
    *total = SAPM__FILE_HEADER + 4 * (depth + 1) + 8 * np + 8;
    return 1;
}

SAPMDEF sapm_result sapm_net_load(sapm_net *net, const char *path)
{
    /* The header first; then exactly the size it states, plus one byte to see trailing
     * data, in a buffer that grows only as bytes arrive (a short file claiming a huge P
     * costs at most twice its real size). What was read goes to sapm_net_load_mem, so
     * the file loads exactly as its bytes would from memory. */
    unsigned char head[SAPM__FILE_HEADER], *buf, *nb;
    uint64_t total;
    size_t got, len, cap, want;
    FILE *f;
    sapm_result r;
    if (!net || !path) return SAPM_ERR_NULL_ARGUMENT;
    if (sapm__path_special(path)) return SAPM_ERR_IO;   /* a FIFO blocks, /dev/zero never ends */
    f = fopen(path, "rb");
    if (!f) return SAPM_ERR_IO;
    got = fread(head, 1, sizeof head, f);
    if (ferror(f)) { fclose(f); return SAPM_ERR_IO; }
    if (!sapm__file_total(head, got, &total)) {
        fclose(f);
        r = sapm_net_load_mem(net, head, got);        /* says what is wrong with it */
        return r == SAPM_OK ? SAPM_ERR_CORRUPT : r;
    }
    want = total < (uint64_t)((size_t)-1) ? (size_t)total + 1 : (size_t)-1;
    cap = want < 65536 ? want : 65536;
    buf = (unsigned char *)SAPM_MALLOC(cap);
    if (!buf) { fclose(f); return SAPM_ERR_OUT_OF_MEMORY; }
    memcpy(buf, head, got);
    len = got;
    while (len < want) {
        size_t k;
        if (len == cap) {
            size_t ncap = cap > want / 2 ? want : 2 * cap;
            nb = (unsigned char *)SAPM_REALLOC(buf, ncap);
            if (!nb) { SAPM_FREE(buf); fclose(f); return SAPM_ERR_OUT_OF_MEMORY; }
            buf = nb;
            cap = ncap;
        }
        k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0) break;
    }
    r = ferror(f) ? SAPM_ERR_IO : sapm_net_load_mem(net, buf, len);
    fclose(f);
    SAPM_FREE(buf);
    return r;
}
#endif

/* ======================================================================================
 * Implementation: training engine - runs, option checks, problems
 *
 * A training call is one run (sapm__run): it owns the clock, the budgets (totals over the
 * phases), the history, the live progress callback, the stop rules and the label of the
 * phase that is running; nothing else writes the report. A phase is an optimizer working
 * on a problem (sapm__problem: objective + gradient, residuals + Jacobian rows, monitor)
 * for as long as the run lets it:
 *
 *   sapm__run_begin        zero the report, start the clock, resolve the iteration cap;
 *   sapm__run_phase        enter a phase: its method, label and hand-over limits;
 *   sapm__run_logs_next    whether the next iteration will be logged (so the phase knows
 *                          when the monitor - true loss and held-out error - is needed);
 *   sapm__run_step         after every iteration (and once for the initial state): log a
 *                          history entry and call the callback when wanted, then return
 *                          the first stop reason that holds:
 *                            SAPM_STOP_DIVERGED     mse or loss is NaN/Inf (nothing logged)
 *                            SAPM_STOP_USER         the callback returned nonzero
 *                            SAPM_STOP_ERROR        the history could not grow
 *                            SAPM_STOP_TARGET_LOSS  target_loss > 0 and mse <= target_loss
 *                            SAPM_STOP_MAX_ITERS    iterations of the run >= max_iters
 *                            SAPM_STOP_TIME_BUDGET  time_budget > 0 and elapsed >= budget;
 *   sapm__run_handover     whether the phase's own limits (phase_iters / phase_time) are
 *                          reached: the phase then returns with SAPM_STOP_NONE;
 *   sapm__run_end          record the final state (always in the history; the callback
 *                          is called for it unless it just saw the same iteration) and
 *                          fill the report.
 * Method-specific rules (gradient norm, relative change, line search) are decided by the
 * phase and returned as its stop reason.
 * ====================================================================================== */

SAPMDEF const char *sapm_method_name(sapm_method m)
{
    switch (m) {
    case SAPM_METHOD_NONE: return "none";
    case SAPM_METHOD_GD: return "GD";
    case SAPM_METHOD_ADAM: return "Adam";
    case SAPM_METHOD_LBFGS: return "L-BFGS";
    case SAPM_METHOD_LM: return "LM";
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
    o.polish = SAPM_METHOD_NONE;
    o.max_iters = 0;                /* 1000 without a time budget */
    o.log_every = 10;
    o.log_seconds = 0.5;
    o.ls.adam_beta1 = 0.9;
    o.ls.adam_beta2 = 0.999;
    o.ls.adam_eps = 1e-8;
    o.ls.lbfgs_memory = 10;
    o.ls.lm_damping = 1e-3;
    o.ls.lm_trials = 4;
    o.ls.lm_geodesic = 0.75;
    o.ls.lm_blocks = 0;             /* full Gauss-Newton */
    sapm_aux_default_options(&o.aux); /* measured defaults: see "PM and SAPM" */
    if (method == SAPM_METHOD_GD) o.learning_rate = 1e-2;
    if (method == SAPM_METHOD_ADAM) o.learning_rate = 1e-3;
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
static sapm_result sapm__report_push(sapm_report *rep, const sapm_progress *p)
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

/* A report for a call rejected before any iteration: status, stop = ERROR, the sentence. */
static sapm_result sapm__reject(sapm_report *rep, sapm_result r, const char *why)
{
    if (rep) {
        memset(rep, 0, sizeof *rep);
        rep->status = r;
        rep->stop = SAPM_STOP_ERROR;
        rep->mse = rep->loss = rep->error = NAN;
        if (why) {
            size_t n = strlen(why);
            if (n >= sizeof rep->message) n = sizeof rep->message - 1;
            memcpy(rep->message, why, n);
            rep->message[n] = '\0';
        }
    }
    return r;
}

/* --- all-reduce ------------------------------------------------------------------------
 * Every sum over samples that an optimizer uses (losses, gradients, Gram matrices, right-
 * hand sides) is formed locally over this worker's samples and then passed through here:
 * a no-op with one worker (opt == NULL or opt->allreduce == NULL), otherwise the user's
 * hook sums buf[0..n) across workers in place. */
static sapm_result sapm__allreduce(const sapm_options *opt, double *buf, size_t n)
{
    if (!opt || !opt->allreduce || n == 0) return SAPM_OK;
    if (!buf) return SAPM_ERR_NULL_ARGUMENT;
    return opt->allreduce(buf, n, opt->allreduce_user_data);
}

SAPMDEF sapm_result sapm_shard(int n, int worker, int workers, int *first, int *count)
{
    int q, rem;
    if (!first || !count) return SAPM_ERR_NULL_ARGUMENT;
    *first = *count = 0;
    if (n < 0 || workers < 1 || worker < 0 || worker >= workers) return SAPM_ERR_INVALID_SIZE;
    q = n / workers;
    rem = n % workers;
    *count = q + (worker < rem);
    *first = worker * q + SAPM__MIN(worker, rem);
    return SAPM_OK;
}

/* --- option checks ----------------------------------------------------------------------
 * Every option that a phase of the run will read is checked before the first iteration;
 * a failure names the option and the phase. */
#define SAPM__BAD(cond, why) do { if (cond) { *msg = (why); return SAPM_ERR_INVALID_ARGUMENT; } } while (0)

static int sapm__is_gradient_method(sapm_method m)
{
    return m == SAPM_METHOD_GD || m == SAPM_METHOD_ADAM || m == SAPM_METHOD_LBFGS;
}

/* The fields a GD / Adam / L-BFGS / LM phase reads (method m). */
static sapm_result sapm__check_ls_options(const sapm_options *opt, sapm_method m, const char **msg)
{
    const sapm_ls_options *ls = &opt->ls;
    if (m == SAPM_METHOD_GD || m == SAPM_METHOD_ADAM)
        SAPM__BAD(!(opt->learning_rate >= 0.0) || !isfinite(opt->learning_rate),
                  "learning_rate must be finite and >= 0 (GD / Adam phase)");
    if (m == SAPM_METHOD_ADAM) {
        SAPM__BAD(!(ls->adam_beta1 >= 0.0 && ls->adam_beta1 < 1.0), "ls.adam_beta1 must lie in [0, 1) (Adam phase)");
        SAPM__BAD(!(ls->adam_beta2 >= 0.0 && ls->adam_beta2 < 1.0), "ls.adam_beta2 must lie in [0, 1) (Adam phase)");
        SAPM__BAD(!(ls->adam_eps > 0.0) || !isfinite(ls->adam_eps), "ls.adam_eps must be finite and > 0 (Adam phase)");
    }
    if (m == SAPM_METHOD_LBFGS)
        SAPM__BAD(ls->lbfgs_memory < 1 || ls->lbfgs_memory > 1000,
                  "ls.lbfgs_memory must lie in 1..1000 (L-BFGS phase)");
    if (m == SAPM_METHOD_LM) {
        SAPM__BAD(!(ls->lm_damping > 0.0) || !isfinite(ls->lm_damping),
                  "ls.lm_damping must be finite and > 0 (LM phase)");
        SAPM__BAD(ls->lm_trials < 0 || ls->lm_trials > 30, "ls.lm_trials must lie in 0..30 (LM phase)");
        SAPM__BAD(!(ls->lm_geodesic >= 0.0 && ls->lm_geodesic <= 2.0),
                  "ls.lm_geodesic must lie in [0, 2] (LM phase)");
        SAPM__BAD(ls->lm_blocks != 0 && ls->lm_blocks != 1,
                  "ls.lm_blocks must be 0 (full Gauss-Newton) or 1 (block-diagonal) (LM phase)");
    }
    return SAPM_OK;
}

/* The fields of the run itself and of both phases' gradient / LM settings. */
static sapm_result sapm__check_run_options(const sapm_options *opt, const char **msg)
{
    sapm_result r;
    *msg = NULL;
    SAPM__BAD((int)opt->method <= (int)SAPM_METHOD_NONE || (int)opt->method >= (int)SAPM_METHOD_COUNT,
              "method must be one of SAPM_METHOD_GD .. SAPM_METHOD_SAPM");
    SAPM__BAD(opt->polish != SAPM_METHOD_NONE && !sapm__is_gradient_method(opt->polish) &&
                  opt->polish != SAPM_METHOD_LM,
              "polish must be SAPM_METHOD_NONE, GD, ADAM, LBFGS or LM");
    SAPM__BAD(opt->polish != SAPM_METHOD_NONE && opt->polish == opt->method,
              "polish must differ from method (one phase of a method is enough)");
    SAPM__BAD(opt->max_iters < 0, "max_iters must be >= 0");
    SAPM__BAD(opt->log_every < 0, "log_every must be >= 0");
    SAPM__BAD(!(opt->log_seconds >= 0.0) || !isfinite(opt->log_seconds), "log_seconds must be finite and >= 0");
    SAPM__BAD(!(opt->time_budget >= 0.0) || !isfinite(opt->time_budget), "time_budget must be finite and >= 0");
    SAPM__BAD(!(opt->target_loss >= 0.0) || !isfinite(opt->target_loss), "target_loss must be finite and >= 0");
    SAPM__BAD(!(opt->grad_tol >= 0.0) || !isfinite(opt->grad_tol), "grad_tol must be finite and >= 0");
    SAPM__BAD(!(opt->rel_tol >= 0.0) || !isfinite(opt->rel_tol), "rel_tol must be finite and >= 0");
    SAPM__BAD(opt->phase_iters < 0, "phase_iters must be >= 0");
    SAPM__BAD(!(opt->phase_time >= 0.0 && opt->phase_time <= 1.0), "phase_time must lie in [0, 1]");
    SAPM__BAD(opt->n_test < 0, "n_test must be >= 0");
    SAPM__BAD(opt->checkpoint_every < 0, "checkpoint_every must be >= 0");
    SAPM__BAD(opt->checkpoint_every > 0 && !opt->checkpoint_path,
              "checkpoint_every needs checkpoint_path");
    if (opt->checkpoint_path || opt->resume_from) {
#ifdef SAPM_NO_STDIO
        *msg = "checkpoints need stdio (SAPM_NO_STDIO is defined)";
        return SAPM_ERR_NOT_COMPILED_IN;
#else
        /* (PM / SAPM on a PDE - SAPM-PINN, LySep - are refused by sapm_pde_train) */
#endif
    }
    if ((r = sapm__check_ls_options(opt, opt->method, msg)) != SAPM_OK) return r;
    if (opt->polish != SAPM_METHOD_NONE && (r = sapm__check_ls_options(opt, opt->polish, msg)) != SAPM_OK)
        return r;
    return SAPM_OK;
}

/* --- the run ------------------------------------------------------------------------ */
typedef struct sapm__run {
    const sapm_options *opt;
    sapm_report *rep;
    double t0;                  /* SAPM_NOW() at begin */
    int max_iters;              /* resolved cap (INT_MAX: none) */
    int iter;                   /* iterations done, over every phase */
    int last_logged;            /* iteration of the newest history entry / callback, -1 none */
    double last_log_time;       /* elapsed seconds at that entry */
    sapm_method method;         /* the phase running */
    const char *label;
    int handover_iter;          /* the phase hands over at this iteration (INT_MAX: never) */
    double handover_time;       /* ... or at this elapsed time (HUGE_VAL: never) */
    double mse, loss, error;    /* the newest recorded state */
    sapm_result status;         /* an error of the plumbing itself (history out of memory, */
    const char *why;            /* ... a failed all-reduce) and its sentence */
    int workers;                /* the number of workers (1 without all-reduce) */
    double clock;               /* with all-reduce: the workers' mean elapsed time at the
                                   last step, which every time rule reads, so that all
                                   workers take the same decisions at the same iteration */
    int phase_index;            /* 0: the first phase, 1: the polish */
    /* checkpoints (see "checkpoints" below) */
    const sapm_net *net;        /* the shape saved with the parameters (NULL: none) */
    int kind;                   /* 0: sapm_train, 1: sapm_pde_train */
    int ckpt_request;           /* the callback asked for a checkpoint of this iteration */
    int ckpt_iter;              /* iteration of the last checkpoint written, -1 none */
    double *resume_state;       /* a loaded phase state for phase resume_phase (owned) */
    size_t resume_n;
    int resume_phase;
} sapm__run;

static void sapm__run_begin(sapm__run *run, const sapm_options *opt, sapm_report *rep,
                            int default_iters)
{
    memset(run, 0, sizeof *run);
    run->opt = opt;
    run->rep = rep;
    run->max_iters = opt->max_iters > 0 ? opt->max_iters
                     : opt->time_budget > 0.0 ? INT_MAX : default_iters;
    run->last_logged = -1;
    run->handover_iter = INT_MAX;
    run->handover_time = HUGE_VAL;
    run->mse = run->loss = run->error = NAN;
    run->workers = 1;
    run->ckpt_iter = -1;
    run->resume_phase = -1;
    if (rep) memset(rep, 0, sizeof *rep);
    run->t0 = SAPM_NOW();
    if (opt->allreduce) {           /* count the workers (every worker calls this too) */
        double one = 1.0;
        sapm_result r = sapm__allreduce(opt, &one, 1);
        if (r != SAPM_OK || !(one >= 1.0)) {
            run->status = r != SAPM_OK ? r : SAPM_ERR_CALLBACK;
            run->why = "the all-reduce hook failed counting the workers";
        } else {
            run->workers = (int)(one + 0.5);
        }
    }
}

static double sapm__run_elapsed(const sapm__run *run) { return SAPM_NOW() - run->t0; }

/* The elapsed time every time rule reads (time budget, phase_time, log_seconds): the
 * local clock with one worker, the agreed clock with several. */
static double sapm__run_clock(const sapm__run *run)
{
    return run->opt->allreduce ? run->clock : sapm__run_elapsed(run);
}

/* With all-reduce: agree on the clock and on the stop requests after an iteration, so
 * that every worker stops, logs, hands over and writes checkpoints at the same iteration
 * (a callback or a history that stops one worker stops all). One all-reduce of 4 numbers,
 * only when a time rule or a callback is in use. Returns the agreed stop request. */
static int sapm__run_agree(sapm__run *run, int stop_request, int called_back)
{
    const sapm_options *opt = run->opt;
    double v[4];
    sapm_result r;
    if (!opt->allreduce) return stop_request;
    if (!(opt->time_budget > 0.0 || opt->log_seconds > 0.0 || run->handover_time < HUGE_VAL ||
          called_back))
        return stop_request;
    v[0] = sapm__run_elapsed(run);
    v[1] = stop_request ? 1.0 : 0.0;
    v[2] = run->status != SAPM_OK ? 1.0 : 0.0;
    v[3] = run->ckpt_request ? 1.0 : 0.0;
    if ((r = sapm__allreduce(opt, v, 4)) != SAPM_OK) {
        if (run->status == SAPM_OK) { run->status = r; run->why = "the all-reduce hook failed"; }
        return stop_request;
    }
    run->clock = v[0] / (double)run->workers;
    run->ckpt_request = v[3] > 0.0;
    if (v[2] > 0.0 && run->status == SAPM_OK) {
        run->status = SAPM_ERR_CALLBACK;
        run->why = "another worker stopped with an error";
    }
    return v[1] > 0.0;
}

/* Enter a phase. first != 0: the first of two phases (the run's phase_iters / phase_time
 * limit it when a polish follows); otherwise the phase runs until the run stops. */
static void sapm__run_phase(sapm__run *run, sapm_method method, const char *label, int first)
{
    const sapm_options *opt = run->opt;
    run->method = method;
    run->label = label;
    run->phase_index = first ? 0 : 1;
    if (run->resume_state && run->resume_phase == run->phase_index)
        return;                     /* resumed in this phase: its hand-over limits are saved */
    run->handover_iter = INT_MAX;
    run->handover_time = HUGE_VAL;
    if (first && opt->polish != SAPM_METHOD_NONE) {
        if (opt->phase_iters > 0) run->handover_iter = run->iter + opt->phase_iters;
        if (opt->phase_time > 0.0 && opt->time_budget > 0.0)
            run->handover_time = sapm__run_clock(run) + opt->phase_time * opt->time_budget;
    }
}

static int sapm__run_handover(const sapm__run *run)
{
    return run->iter >= run->handover_iter ||
           (run->handover_time < HUGE_VAL && sapm__run_clock(run) >= run->handover_time);
}

/* Whether the next iteration (run->iter + 1) will be logged, or ends the phase or the
 * run: the phase computes its monitor (true loss, held-out error) for those only. */
static int sapm__run_logs_next(const sapm__run *run)
{
    const sapm_options *opt = run->opt;
    int next = run->iter + 1;
    if (opt->log_every > 0 && next % opt->log_every == 0) return 1;
    if (opt->target_loss > 0.0 || next >= run->max_iters || next >= run->handover_iter) return 1;
    if (opt->log_seconds > 0.0 && sapm__run_clock(run) - run->last_log_time >= opt->log_seconds)
        return 1;
    return 0;
}

/* History entry (replacing the newest one when it has the same iteration) and, when
 * call_back, the progress callback; returns the callback's stop request. */
static int sapm__run_log(sapm__run *run, int call_back)
{
    sapm_progress p;
    p.method = run->method;
    p.phase = run->label ? run->label : sapm_method_name(run->method);
    p.iter = run->iter;
    p.seconds = sapm__run_elapsed(run);
    p.mse = run->mse;
    p.loss = run->loss;
    p.error = run->error;
    if (run->rep) {
        if (run->last_logged == run->iter && run->rep->history_count > 0)
            run->rep->history[run->rep->history_count - 1] = p;
        else if (sapm__report_push(run->rep, &p) != SAPM_OK && run->status == SAPM_OK) {
            run->status = SAPM_ERR_OUT_OF_MEMORY;
            run->why = "out of memory while growing the history";
        }
    }
    run->last_logged = run->iter;
    run->last_log_time = sapm__run_clock(run);
    if (call_back && run->opt->progress) {
        int ret = run->opt->progress(&p, run->opt->user_data);
        if (ret & SAPM_PROGRESS_CHECKPOINT) run->ckpt_request = 1;
        return (ret & ~SAPM_PROGRESS_CHECKPOINT) != 0;
    }
    return 0;
}

/* After an iteration (advanced = 1) or for the initial state (advanced = 0): record the
 * state, log it when wanted (log = 1) and return the run's stop reason. */
static sapm_stop_reason sapm__run_step(sapm__run *run, int advanced, double mse, double loss,
                                       double error, int log)
{
    const sapm_options *opt = run->opt;
    int logged, user_stop = 0;
    if (!isfinite(mse) || !isfinite(loss)) return SAPM_STOP_DIVERGED;
    if (advanced) ++run->iter;
    run->mse = mse;
    run->loss = loss;
    run->error = error;
    logged = log || run->iter == 0;
    if (logged) user_stop = sapm__run_log(run, 1);
    user_stop = sapm__run_agree(run, user_stop, logged && opt->progress != NULL);
    if (user_stop) return SAPM_STOP_USER;
    if (run->status != SAPM_OK) return SAPM_STOP_ERROR;
    if (opt->target_loss > 0.0 && mse <= opt->target_loss) return SAPM_STOP_TARGET_LOSS;
    if (run->iter >= run->max_iters) return SAPM_STOP_MAX_ITERS;
    if (opt->time_budget > 0.0 && sapm__run_clock(run) >= opt->time_budget)
        return SAPM_STOP_TIME_BUDGET;
    return SAPM_STOP_NONE;
}

/* The state at a hand-over between phases is always in the history (with the callback,
 * which may stop the run there). */
static sapm_stop_reason sapm__run_mark(sapm__run *run)
{
    if (run->last_logged == run->iter) return SAPM_STOP_NONE;
    if (sapm__run_agree(run, sapm__run_log(run, 1), run->opt->progress != NULL))
        return SAPM_STOP_USER;
    return run->status != SAPM_OK ? SAPM_STOP_ERROR : SAPM_STOP_NONE;
}

/* The final state (mse, loss, error of the parameters the run leaves) and the report. */
static sapm_result sapm__run_end(sapm__run *run, double mse, double loss, double error,
                                 sapm_stop_reason stop, sapm_result status, const char *why)
{
    int again = run->last_logged != run->iter;
    if (run->resume_state) SAPM_FREE(run->resume_state);
    run->resume_state = NULL;
    run->mse = mse;
    run->loss = loss;
    run->error = error;
    sapm__run_log(run, again);
    if (status == SAPM_OK && run->status != SAPM_OK) {
        status = run->status;
        stop = SAPM_STOP_ERROR;
        why = run->why;
    }
    if (stop == SAPM_STOP_DIVERGED && status == SAPM_OK) status = SAPM_ERR_DIVERGED;
    if (run->rep) {
        sapm_report *rep = run->rep;
        rep->status = status;
        rep->stop = stop;
        rep->iters = run->iter;
        rep->seconds = sapm__run_elapsed(run);
        rep->mse = mse;
        rep->loss = loss;
        rep->error = error;
        rep->message[0] = '\0';
        if (status != SAPM_OK) {
            const char *w = why ? why : run->why ? run->why : sapm_result_string(status);
            const char *ph = run->label ? run->label : sapm_method_name(run->method);
            size_t cap = sizeof rep->message, k = 0, i;
            for (i = 0; w[i] && k + 1 < cap; ++i) rep->message[k++] = w[i];
            if (k + 1 < cap) { const char *s = " (phase "; for (i = 0; s[i] && k + 1 < cap; ++i) rep->message[k++] = s[i]; }
            for (i = 0; ph[i] && k + 1 < cap; ++i) rep->message[k++] = ph[i];
            if (k + 1 < cap) rep->message[k++] = ')';
            rep->message[k] = '\0';
        }
    }
    return status;
}

/* --- checkpoints ----------------------------------------------------------------------
 * A checkpoint is the run's whole state at the end of an iteration, so that a resumed run
 * repeats exactly the iterations the uninterrupted one would have made. File "SAPMCKP"
 * version 1, every number little-endian (doubles by their bits), like the model files:
 *     0   8  "SAPMCKP\0"                    36   4  phase (0 first, 1 polish)
 *     8   4  version (1)                    40   4  iterations done
 *     12  4  header size (64)               44   4  last logged iteration + 1 (0: none)
 *     16  8  file size                      48   8  history entries H
 *     24  4  0 sapm_train, 1 sapm_pde_train 56   8  phase state doubles S
 *     28  4  method      32  4  polish
 *     64     the network: a complete "SAPMNET" model file (shape and parameters)
 *     then   4 doubles: elapsed seconds, time of the last history entry, the hand-over
 *            iteration and time (-1: none)
 *     then   H x 7 doubles: iter, phase, method, seconds, mse, loss, error
 *     then   S doubles: the phase's optimizer state (see the phase)
 *     last   8  FNV-1a 64 of every byte before it.
 * The phase packs its own state; the run adds its counters, clock and history. */
#define SAPM__CKPT_MAGIC "SAPMCKP"
#define SAPM__CKPT_VERSION 1u
#define SAPM__CKPT_HEADER 64u

static SAPM__UNUSED void sapm__put_double(unsigned char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    sapm__put_le(p, u, 8);
}

static SAPM__UNUSED double sapm__get_double(const unsigned char *p)
{
    uint64_t u = sapm__get_le(p, 8);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* Whether a saved double is an iteration count: an integer in [0, INT_MAX - 1]. */
static SAPM__UNUSED int sapm__ckpt_count(double v)
{
    return v >= 0.0 && v <= (double)(INT_MAX - 1) && v == floor(v);
}

/* Whether a checkpoint is due after the iteration just recorded. */
static int sapm__run_checkpoint_due(const sapm__run *run)
{
    const sapm_options *opt = run->opt;
    if (!opt->checkpoint_path || !run->net || run->ckpt_iter == run->iter) return 0;
    return run->ckpt_request ||
           (opt->checkpoint_every > 0 && run->iter > 0 && run->iter % opt->checkpoint_every == 0);
}

#ifndef SAPM_NO_STDIO
/* Write the checkpoint: x (the parameters, n of them) and the phase's state, given as up
 * to four segments (ptr, count). */
static sapm_result sapm__run_checkpoint(sapm__run *run, const double *x, size_t n,
                                        const double *const *seg, const size_t *seg_n, int nseg)
{
    const sapm_options *opt = run->opt;
    sapm_net shape;
    size_t model, total, S = 0, H = run->rep ? (size_t)run->rep->history_count : 0, i, off;
    unsigned char *buf;
    sapm__out o;
    sapm_result r;
    int k;
    run->ckpt_request = 0;
    for (k = 0; k < nseg; ++k) S += seg_n[k];
    model = sapm_net_file_size(run->net);
    total = SAPM__CKPT_HEADER + model + 8 * (4 + 7 * H + S) + 8;
    if (n != run->net->n_params || model == 0) return SAPM_ERR_SIZE_MISMATCH;
    buf = (unsigned char *)SAPM_MALLOC(total);
    if (!buf) return SAPM_ERR_OUT_OF_MEMORY;
    memset(buf, 0, SAPM__CKPT_HEADER);
    memcpy(buf, SAPM__CKPT_MAGIC, 8);
    sapm__put_le(buf + 8, SAPM__CKPT_VERSION, 4);
    sapm__put_le(buf + 12, SAPM__CKPT_HEADER, 4);
    sapm__put_le(buf + 16, (uint64_t)total, 8);
    sapm__put_le(buf + 24, (uint64_t)run->kind, 4);
    sapm__put_le(buf + 28, (uint64_t)opt->method, 4);
    sapm__put_le(buf + 32, (uint64_t)opt->polish, 4);
    sapm__put_le(buf + 36, (uint64_t)run->phase_index, 4);
    sapm__put_le(buf + 40, (uint64_t)run->iter, 4);
    sapm__put_le(buf + 44, (uint64_t)(run->last_logged + 1), 4);
    sapm__put_le(buf + 48, (uint64_t)H, 8);
    sapm__put_le(buf + 56, (uint64_t)S, 8);
    /* the network with the parameters x: a shallow copy whose params are x (the model
     * writer reads the shape and params only) */
    shape = *run->net;
    shape.params = (double *)(size_t)x;
    if ((r = sapm_net_save_mem(&shape, buf + SAPM__CKPT_HEADER, model, NULL)) != SAPM_OK) {
        SAPM_FREE(buf);
        return r;
    }
    off = SAPM__CKPT_HEADER + model;
    sapm__put_double(buf + off, sapm__run_clock(run)); off += 8;
    sapm__put_double(buf + off, run->last_log_time); off += 8;
    sapm__put_double(buf + off, run->handover_iter == INT_MAX ? -1.0 : (double)run->handover_iter); off += 8;
    sapm__put_double(buf + off, run->handover_time == HUGE_VAL ? -1.0 : run->handover_time); off += 8;
    for (i = 0; i < H; ++i) {
        const sapm_history_entry *h = &run->rep->history[i];
        int ph = opt->polish != SAPM_METHOD_NONE && h->method == opt->polish;
        sapm__put_double(buf + off, (double)h->iter); off += 8;
        sapm__put_double(buf + off, (double)ph); off += 8;
        sapm__put_double(buf + off, (double)h->method); off += 8;
        sapm__put_double(buf + off, h->seconds); off += 8;
        sapm__put_double(buf + off, h->mse); off += 8;
        sapm__put_double(buf + off, h->loss); off += 8;
        sapm__put_double(buf + off, h->error); off += 8;
    }
    for (k = 0; k < nseg; ++k)
        for (i = 0; i < seg_n[k]; ++i) { sapm__put_double(buf + off, seg[k][i]); off += 8; }
    sapm__put_le(buf + off, sapm__fnv1a64(buf, off), 8);
    off += 8;
    SAPM_ASSERT(off == total);
    if ((r = sapm__out_open(&o, opt->checkpoint_path, "wb")) == SAPM_OK) {
        if (fwrite(buf, 1, total, o.f) != total) r = SAPM_ERR_IO;
        r = sapm__out_close(&o, r);
    }
    SAPM_FREE(buf);
    if (r == SAPM_OK) run->ckpt_iter = run->iter;
    return r;
}

/* Read a whole checkpoint file into *buf (SAPM_FREE it), checked: magic, version, the size
 * it states (read exactly, never more), the checksum. */
static sapm_result sapm__ckpt_read(const char *path, unsigned char **buf, size_t *size)
{
    unsigned char head[SAPM__CKPT_HEADER], *b;
    uint64_t total;
    size_t got, len;
    FILE *f;
    *buf = NULL;
    *size = 0;
    if (sapm__path_special(path)) return SAPM_ERR_IO;
    if (!(f = fopen(path, "rb"))) return SAPM_ERR_IO;
    got = fread(head, 1, sizeof head, f);
    if (ferror(f)) { fclose(f); return SAPM_ERR_IO; }
    if (got < 16 || memcmp(head, SAPM__CKPT_MAGIC, 8) != 0) { fclose(f); return SAPM_ERR_BAD_FORMAT; }
    if (sapm__get_le(head + 8, 4) != SAPM__CKPT_VERSION) { fclose(f); return SAPM_ERR_BAD_FORMAT; }
    if (got < SAPM__CKPT_HEADER) { fclose(f); return SAPM_ERR_CORRUPT; }
    total = sapm__get_le(head + 16, 8);
    if (sapm__get_le(head + 12, 4) != SAPM__CKPT_HEADER || total < SAPM__CKPT_HEADER + 8 ||
        total > (uint64_t)((size_t)-1 / 2)) {
        fclose(f);
        return SAPM_ERR_CORRUPT;
    }
    /* a file shorter than it claims costs only what it holds: read in growing pieces */
    {
        size_t cap = (size_t)SAPM__MIN(total, (uint64_t)65536);
        b = (unsigned char *)SAPM_MALLOC(cap);
        if (!b) { fclose(f); return SAPM_ERR_OUT_OF_MEMORY; }
        memcpy(b, head, got);
        len = got;
        while (len < (size_t)total) {
            size_t k;
            if (len == cap) {
                size_t ncap = cap > (size_t)total / 2 ? (size_t)total : 2 * cap;
                unsigned char *nb = (unsigned char *)SAPM_REALLOC(b, ncap);
                if (!nb) { SAPM_FREE(b); fclose(f); return SAPM_ERR_OUT_OF_MEMORY; }
                b = nb;
                cap = ncap;
            }
            k = fread(b + len, 1, cap - len, f);
            len += k;
            if (k == 0) break;
        }
    }
    if (ferror(f)) { fclose(f); SAPM_FREE(b); return SAPM_ERR_IO; }
    {
        int extra = fgetc(f) != EOF;
        fclose(f);
        if (len != (size_t)total || extra ||
            sapm__get_le(b + len - 8, 8) != sapm__fnv1a64(b, len - 8)) {
            SAPM_FREE(b);
            return SAPM_ERR_CORRUPT;
        }
    }
    *buf = b;
    *size = len;
    return SAPM_OK;
}

/* Resume: load opt->resume_from into the run (counters, clock, history - labelled with the
 * call's phase labels - and the phase state to hand to the phase) and net (its
 * parameters), after checking that the checkpoint is of this call: kind, method, polish
 * and the network's shape. */
static sapm_result sapm__run_resume(sapm__run *run, sapm_net *net, const char *first_label,
                                    const char *polish_label, const char **why)
{
    const sapm_options *opt = run->opt;
    unsigned char *b;
    size_t size, model, off, H, S, i;
    uint64_t mtotal;
    sapm_net saved;
    sapm_result r;
    int l, same;
    double v[4];
    if ((r = sapm__ckpt_read(opt->resume_from, &b, &size)) != SAPM_OK) {
        *why = r == SAPM_ERR_IO ? "resume_from: the checkpoint file could not be read"
                                : "resume_from: not an intact checkpoint file";
        return r;
    }
    *why = "resume_from: the checkpoint is of another call (method, polish, data/PDE or network)";
    if (sapm__get_le(b + 24, 4) != (uint64_t)run->kind || sapm__get_le(b + 28, 4) != (uint64_t)opt->method ||
        sapm__get_le(b + 32, 4) != (uint64_t)opt->polish || sapm__get_le(b + 36, 4) > 1) {
        SAPM_FREE(b);
        return SAPM_ERR_INVALID_ARGUMENT;
    }
    H = (size_t)sapm__get_le(b + 48, 8);
    S = (size_t)sapm__get_le(b + 56, 8);
    /* H and S are bounded by the file before they enter the size equation: a damaged
     * count that kept its checksum could otherwise wrap 8 (4 + 7 H + S) around to a
     * size that matches */
    if (H > size / 56 || S > size / 8 ||
        !sapm__file_total(b + SAPM__CKPT_HEADER, size - SAPM__CKPT_HEADER, &mtotal) ||
        (model = (size_t)mtotal) > size ||
        SAPM__CKPT_HEADER + model + 8 * (4 + 7 * (uint64_t)H + S) + 8 != size) {
        SAPM_FREE(b);
        *why = "resume_from: not an intact checkpoint file";
        return SAPM_ERR_CORRUPT;
    }
    memset(&saved, 0, sizeof saved);
    if ((r = sapm_net_load_mem(&saved, b + SAPM__CKPT_HEADER, model)) != SAPM_OK) {
        SAPM_FREE(b);
        *why = "resume_from: the saved network could not be read";
        return r;
    }
    same = saved.depth == net->depth && saved.act == net->act;
    for (l = 0; same && l <= net->depth; ++l) same = saved.widths[l] == net->widths[l];
    if (!same) { sapm_net_destroy(&saved); SAPM_FREE(b); return SAPM_ERR_SIZE_MISMATCH; }
    /* every count is checked before it is converted (a damaged file that kept its checksum
     * must not reach an out-of-range conversion) and before the net is touched */
    off = SAPM__CKPT_HEADER + model;
    for (i = 0; i < 4; ++i) v[i] = sapm__get_double(b + off + 8 * i);
    same = sapm__get_le(b + 40, 4) <= (uint64_t)INT_MAX - 1 &&
           sapm__get_le(b + 44, 4) >= 1 &&   /* the initial state is logged before any checkpoint */
           sapm__get_le(b + 44, 4) <= sapm__get_le(b + 40, 4) + 1 &&
           isfinite(v[0]) && v[0] >= 0.0 && isfinite(v[1]) &&
           (v[2] == -1.0 || sapm__ckpt_count(v[2])) && (v[3] == -1.0 || (isfinite(v[3]) && v[3] >= 0.0));
    for (i = 0; same && i < H; ++i) {
        const unsigned char *e = b + off + 32 + 56 * i;
        double method = sapm__get_double(e + 16);
        same = sapm__ckpt_count(sapm__get_double(e)) && method >= 0.0 &&
               method < (double)SAPM_METHOD_COUNT && method == floor(method);
    }
    if (!same) {
        sapm_net_destroy(&saved);
        SAPM_FREE(b);
        *why = "resume_from: not an intact checkpoint file";
        return SAPM_ERR_CORRUPT;
    }
    run->resume_state = (double *)sapm__alloc(S > 0 ? S : 1, sizeof(double));
    if (!run->resume_state) { sapm_net_destroy(&saved); SAPM_FREE(b); return SAPM_ERR_OUT_OF_MEMORY; }
    memcpy(net->params, saved.params, net->n_params * sizeof(double));
    sapm_net_destroy(&saved);
    run->resume_n = S;
    run->resume_phase = (int)sapm__get_le(b + 36, 4);
    run->iter = (int)sapm__get_le(b + 40, 4);
    run->last_logged = (int)sapm__get_le(b + 44, 4) - 1;
    run->ckpt_iter = run->iter;
    off = SAPM__CKPT_HEADER + model;
    for (i = 0; i < 4; ++i, off += 8) v[i] = sapm__get_double(b + off);
    run->t0 = SAPM_NOW() - v[0];               /* the clock goes on from the saved time */
    run->clock = v[0];
    run->last_log_time = v[1];
    run->handover_iter = v[2] < 0.0 ? INT_MAX : (int)v[2];
    run->handover_time = v[3] < 0.0 ? HUGE_VAL : v[3];
    for (i = 0; i < H; ++i, off += 56) {
        sapm_progress p;
        p.iter = (int)sapm__get_double(b + off);
        p.phase = sapm__get_double(b + off + 8) > 0.5 ? polish_label : first_label;
        p.method = (sapm_method)(int)sapm__get_double(b + off + 16);
        p.seconds = sapm__get_double(b + off + 24);
        p.mse = sapm__get_double(b + off + 32);
        p.loss = sapm__get_double(b + off + 40);
        p.error = sapm__get_double(b + off + 48);
        if ((r = sapm__report_push(run->rep, &p)) != SAPM_OK) { SAPM_FREE(b); return r; }
    }
    for (i = 0; i < S; ++i, off += 8) run->resume_state[i] = sapm__get_double(b + off);
    if (run->rep && run->last_logged >= 0 && H > 0) {
        const sapm_history_entry *h = &run->rep->history[H - 1];
        run->mse = h->mse; run->loss = h->loss; run->error = h->error;
    }
    SAPM_FREE(b);
    *why = NULL;
    return SAPM_OK;
}
#endif

/* --- problems ----------------------------------------------------------------------------
 * What an optimizer needs of the thing it trains, at a parameter vector x[0..n_params):
 *   objective  f(x) = the least-squares loss (J_LS or J_PINN) and, if grad != NULL, its
 *              gradient;
 *   residuals  the residual vector rho (n_res entries, f = ||rho||^2) and, row by row,
 *              its Jacobian G = d rho / dx (n_res x n_params; G == NULL: rho and f
 *              alone, one forward pass); NULL: no LM on it;
 *   monitor    the true loss (mse) and the held-out error at x, given f(x).
 * Implementations: data (regression, "data problem" below) and PDE ("PINN"). */
typedef struct sapm__problem {
    void *ctx;
    size_t n_params;
    size_t n_res;
    sapm_result (*objective)(void *ctx, const double *x, double *f, double *grad);
    sapm_result (*residuals)(void *ctx, const double *x, double *rho, double *G, double *f);
    sapm_result (*monitor)(void *ctx, const double *x, double f, double *mse, double *error);
    /* optional (NULL: none): replace the residuals' points by fresh ones (the objective
     * and residuals change); LM calls it every resample_every accepted steps */
    sapm_result (*resample)(void *ctx);
    void *resample_ctx;
    int resample_every;
    /* the parameter blocks of block-diagonal LM (ls.lm_blocks = 1): block l holds
     * x[block_start[l] .. block_start[l + 1]) for l < n_blocks, and the parameters from
     * block_start[n_blocks] to n_params (if any) form one more block; n_blocks = 0 (and
     * block_start NULL): one block of every parameter */
    const size_t *block_start;
    int n_blocks;
} sapm__problem;

/* The blocks of block-diagonal LM: writes the start of each block and, last, n_params
 * into start (room for pb->n_blocks + 2 entries) and returns the number of blocks. */
static int sapm__problem_blocks(const sapm__problem *pb, size_t *start)
{
    int l, nb = 0;
    start[0] = 0;
    for (l = 0; l < pb->n_blocks && pb->block_start; ++l)
        if (pb->block_start[l + 1] > start[nb] && pb->block_start[l + 1] <= pb->n_params)
            start[++nb] = pb->block_start[l + 1];
    if (start[nb] < pb->n_params) start[++nb] = pb->n_params;
    return nb;
}

/* The layer blocks of a network's parameters (the order of sapm_net.params: W_l then b_l
 * for l = 1..L): depth + 1 starts, the last one n_params; NULL when out of memory. */
static size_t *sapm__net_layer_starts(const sapm_net *net)
{
    size_t *start = (size_t *)sapm__alloc((size_t)net->depth + 1, sizeof(size_t));
    int l;
    if (!start) return NULL;
    for (l = 0; l < net->depth; ++l) start[l] = (size_t)(net->W[l] - net->params);
    start[net->depth] = net->n_params;
    return start;
}

/* The true loss and held-out error at x (mse = f, error = NaN without a monitor). */
static sapm_result sapm__problem_monitor(const sapm__problem *pb, const double *x, double f,
                                         double *mse, double *error)
{
    *mse = f;
    *error = NAN;
    return pb->monitor ? pb->monitor(pb->ctx, x, f, mse, error) : SAPM_OK;
}

/* --- shared numerical pieces of the auxiliary-variable phases ----------------------- */

/* F = G + shift I factored as L L^T (k x k, row-major), for a symmetric positive
 * semi-definite G: while Cholesky fails, shift grows tenfold (from jitter_scale * 1e-14
 * when it starts at 0), at most 60 times. Returns SAPM_ERR_NOT_POSITIVE_DEFINITE when
 * even that fails (G not finite or far from SPD). */
static sapm_result sapm__spd_factor_jitter(int k, const double *G, double *F, double shift,
                                           double jitter_scale)
{
    int tries, i;
    for (tries = 0; tries < 60; ++tries) {
        int info = 0;
        memcpy(F, G, (size_t)k * k * sizeof(double));
        for (i = 0; i < k; ++i) F[(size_t)i * k + i] += shift;
        if (sapm_chol_factor(k, F, k, &info) == SAPM_OK) return SAPM_OK;
        shift = shift > 0.0 ? 10.0 * shift : 1e-14 * jitter_scale;
    }
    return SAPM_ERR_NOT_POSITIVE_DEFINITE;
}

/* The regularised weight-block solve of PM/SAPM and SAPM-PINN/LySep: with the Gram matrix
 * G = H^T H and right-hand side R = H^T T of rows h = [h_{l-1} 1] (k = n_in + 1),
 *     (G + (lam + rho) I) Theta = R + rho Theta_old,   Theta = [W_l b_l]^T (k x n_out),
 * lam a ridge towards 0 and rho a proximal weight towards the current block (W, b). lam
 * grows by sapm__spd_factor_jitter while the matrix is not numerically SPD. R is
 * overwritten; W (n_out x n_in) and b receive the solution. F: k x k work. */
static sapm_result sapm__weight_block_solve(int n_in, int n_out, const double *G, double *R,
                                            double *F, double lam, double rho, double scale,
                                            double *W, double *b)
{
    int k = n_in + 1, i, j;
    sapm_result r;
    if ((r = sapm__spd_factor_jitter(k, G, F, lam + rho, scale)) != SAPM_OK) return r;
    if (rho > 0.0)
        for (i = 0; i < k; ++i)
            for (j = 0; j < n_out; ++j)
                R[(size_t)i * n_out + j] += rho * (i < n_in ? W[(size_t)j * n_in + i] : b[j]);
    sapm_chol_solve(k, n_out, F, k, R, n_out);
    if (!sapm__all_finite(R, (size_t)k * n_out)) return SAPM_ERR_DIVERGED;
    for (j = 0; j < n_out; ++j) {
        for (i = 0; i < n_in; ++i) W[(size_t)j * n_in + i] = R[(size_t)i * n_out + j];
        b[j] = R[(size_t)n_in * n_out + j];
    }
    return SAPM_OK;
}

/* ======================================================================================
 * Implementation: gradient phases (GD, Adam, L-BFGS) and the data problem
 *
 * sapm__phase_gradient(run, problem, method, x) minimises the problem's objective f(x)
 * over the flat vector x[0..n) (x = net->params) with full-batch gradients:
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
 *           min(1, 1/||g||_1) on the first step of the phase. A pair is stored only when
 *           s'y > 1e-10 ||s|| ||y|| (curvature condition; otherwise skipped).
 * The run's stop rules apply after every iteration (see "training engine"); the phase's
 * own rules end the phase:
 *   SAPM_STOP_DIVERGED     f or a gradient entry is NaN/Inf after a GD/Adam step: x is
 *                          restored to the last iterate with a finite loss and gradient,
 *                          status SAPM_ERR_DIVERGED (also if the initial point is
 *                          non-finite: x is left as given);
 *   SAPM_STOP_GRAD_TOL     grad_tol > 0 and ||g||_2 <= grad_tol at the current iterate
 *                          (also when g is exactly 0);
 *   SAPM_STOP_REL_TOL      rel_tol > 0 and |f_k - f_{k-1}| <= rel_tol max(|f_{k-1}|, DBL_MIN);
 *   SAPM_STOP_LINE_SEARCH  (L-BFGS) the line search found no point with f < f_k, also
 *                          after a restart along -g; x stays at the last iterate; status
 *                          SAPM_OK (this is how L-BFGS ends at the limit of precision);
 *   SAPM_STOP_ERROR        the objective or monitor returned an error (status = it).
 * No allocation after the start: every buffer is allocated once per phase.
 * ====================================================================================== */

typedef sapm_result (*sapm__objective_fn)(void *ctx, const double *x, double *f, double *grad);

/* a . b and y += alpha x over n (size_t) entries, on the SIMD kernels' sapm__dot/axpy. */
static double sapm__vec_dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    while (n > (size_t)INT_MAX) { s += sapm__dot(INT_MAX, a, b); a += INT_MAX; b += INT_MAX; n -= (size_t)INT_MAX; }
    return s + sapm__dot((int)n, a, b);
}

static void sapm__vec_axpy(size_t n, double alpha, const double *x, double *y)
{
    while (n > (size_t)INT_MAX) { sapm__axpy(INT_MAX, alpha, x, y); x += INT_MAX; y += INT_MAX; n -= (size_t)INT_MAX; }
    sapm__axpy((int)n, alpha, x, y);
}

/* q = c q + a y (c = 1: an axpy; a = 0: a scaling; y may alias q), then return s . q,
 * in one pass over the vectors: the fused step of the L-BFGS two-loop recursion (its cost
 * is memory traffic over the stored pairs, so every pass saved counts). */
static double sapm__axpy_dot(size_t n, double c, double a, const double *y, double *q,
                             const double *s)
{
    size_t i = 0;
    double acc = 0.0;
#if defined(SAPM__VEC)
    {
        const sapm__vd va = sapm__vset(a), vc = sapm__vset(c);
        sapm__vd v0 = sapm__vset(0.0), v1 = sapm__vset(0.0);
        double lane[SAPM__VL];
        int l;
        for (; i + 2 * SAPM__VL <= n; i += 2 * SAPM__VL) {
            sapm__vd q0 = sapm__vfma(va, sapm__vload(y + i), sapm__vmul(vc, sapm__vload(q + i)));
            sapm__vd q1 = sapm__vfma(va, sapm__vload(y + i + SAPM__VL),
                                     sapm__vmul(vc, sapm__vload(q + i + SAPM__VL)));
            sapm__vstore(q + i, q0);
            sapm__vstore(q + i + SAPM__VL, q1);
            v0 = sapm__vfma(q0, sapm__vload(s + i), v0);
            v1 = sapm__vfma(q1, sapm__vload(s + i + SAPM__VL), v1);
        }
        sapm__vstore(lane, sapm__vadd(v0, v1));
        for (l = 0; l < SAPM__VL; ++l) acc += lane[l];
    }
#endif
    for (; i < n; ++i) {
        q[i] = c * q[i] + a * y[i];
        acc += q[i] * s[i];
    }
    return acc;
}

/* xt = x + t d: the one expression for trial points and accepted steps, so the accepted
 * iterate is bit for bit the point whose gradient the line search returned. */
static void sapm__step_point(const double *SAPM__RESTRICT x, const double *SAPM__RESTRICT d,
                             double t, double *SAPM__RESTRICT xt, size_t n)
{
    size_t i;
    for (i = 0; i < n; ++i) xt[i] = x[i] + t * d[i];
}

/* Objective with NaN/Inf folded to +Inf, for the line search. */
static sapm_result sapm__ls_eval_point(sapm__objective_fn fn, void *ctx, const double *x,
                                       const double *d, double t, double *xt, size_t n,
                                       double *f, double *g, double *gtd)
{
    sapm_result r;
    sapm__step_point(x, d, t, xt, n);
    r = fn(ctx, xt, f, g);
    if (r != SAPM_OK) return r;
    *gtd = sapm__vec_dot(g, d, n);
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

/* One Adam step over n entries (PyTorch's form): m <- b1 m + (1-b1) g,
 * v <- b2 v + (1-b2) g^2, x <- x - step m / (sqrt(v) rc2 + eps), with step = lr/(1-b1^k)
 * and rc2 = 1/sqrt(1-b2^k). Vector body on the SIMD layer (libm's sqrt keeps errno, so
 * compilers leave the plain loop scalar), plain loop for the tail. */
static void sapm__adam_update(size_t n, double *SAPM__RESTRICT x, const double *SAPM__RESTRICT g,
                              double *SAPM__RESTRICT m1, double *SAPM__RESTRICT v, double b1,
                              double b2, double step, double rc2, double eps)
{
    size_t i = 0;
#if defined(SAPM__VEC)
    const sapm__vd vb1 = sapm__vset(b1), vc1 = sapm__vset(1.0 - b1), vb2 = sapm__vset(b2);
    const sapm__vd vc2 = sapm__vset(1.0 - b2), vstep = sapm__vset(step), vrc2 = sapm__vset(rc2);
    const sapm__vd veps = sapm__vset(eps);
    for (; i + SAPM__VL <= n; i += SAPM__VL) {
        sapm__vd gi = sapm__vload(g + i);
        sapm__vd mi = sapm__vadd(sapm__vmul(vb1, sapm__vload(m1 + i)), sapm__vmul(vc1, gi));
        sapm__vd vi = sapm__vadd(sapm__vmul(vb2, sapm__vload(v + i)), sapm__vmul(vc2, sapm__vmul(gi, gi)));
        sapm__vd den = sapm__vadd(sapm__vmul(sapm__vsqrt(vi), vrc2), veps);
        sapm__vstore(m1 + i, mi);
        sapm__vstore(v + i, vi);
        sapm__vstore(x + i, sapm__vsub(sapm__vload(x + i), sapm__vdiv(sapm__vmul(vstep, mi), den)));
    }
#endif
    for (; i < n; ++i) {
        m1[i] = b1 * m1[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * (g[i] * g[i]);
        x[i] -= (step * m1[i]) / (sqrt(v[i]) * rc2 + eps);
    }
}

/* The L-BFGS direction d = -H g by the two-loop recursion over the stored pairs
 * (s_j, y_j), j = newest .. oldest in a ring of mcap (S, Y: mcap x n, rho_j = 1/s_j'y_j):
 *     q = g;  newest to oldest: a_j = rho_j s_j'q,  q -= a_j y_j;   r = gamma q;
 *     oldest to newest: b_j = rho_j y_j'r,  r += (a_j - b_j) s_j;   d = -r.
 * Its cost is memory traffic over the pairs, so each update is fused with the next
 * product (sapm__axpy_dot) and every stored vector is read once per loop. With threads,
 * each owns a fixed slice of the vectors (so its slice of the pairs stays in its cache
 * from one iteration to the next) and every product is summed over the slices in thread
 * order, one barrier per product. */
typedef struct sapm__twoloop {
    size_t n;
    const double *S, *Y, *rho;
    double *alp;                /* nthreads x mcap: each thread's a_j */
    double *dv;                 /* in: -g; out: d */
    double gamma;               /* s'y / y'y of the newest pair */
    int mcap, mcount, mhead;
    double *part;               /* 2 x nthreads partial products (double-buffered) */
} sapm__twoloop;

/* The sum over the threads of their partial products v (product number k), the same on
 * every thread. Two buffers alternate: a thread can only overwrite buffer k % 2 after
 * the next barrier, which every thread passes only after reading it. */
static double sapm__twoloop_sum(sapm__twoloop *w, int k, int tid, int nthreads, double v)
{
    double *part = w->part + (size_t)(k & 1) * (size_t)nthreads, s = 0.0;
    int i;
    if (nthreads == 1) return v;
    part[tid] = v;
    SAPM__BARRIER();
    for (i = 0; i < nthreads; ++i) s += part[i];
    return s;
}

static void sapm__twoloop_task(void *ctx, int tid, int nthreads)
{
    sapm__twoloop *w = (sapm__twoloop *)ctx;
    const int mcap = w->mcap, mcount = w->mcount, mhead = w->mhead;
    size_t n = w->n, lo, hi, len;
    const double *S, *Y, *rho = w->rho;
    double *alp = w->alp + (size_t)tid * (size_t)w->mcap, *dv, beta;
    int j, idx, nxt, k = 0;
    /* slice of [0, n) with inner boundaries on multiples of 8 (whole cache lines) */
    sapm__share(n, 8, tid, nthreads, 0, &lo, &hi);
    len = hi - lo;
    S = w->S + lo; Y = w->Y + lo; dv = w->dv + lo;
    idx = (mhead - 1 + mcap) % mcap;                                  /* newest pair */
    alp[idx] = rho[idx] * sapm__twoloop_sum(w, k++, tid, nthreads,
                                            sapm__vec_dot(S + (size_t)idx * n, dv, len));
    for (j = 0; j < mcount; ++j) {
        idx = (mhead - 1 - j + mcap) % mcap;
        nxt = (mhead - 2 - j + 2 * mcap) % mcap;                      /* next older */
        if (j + 1 < mcount)
            alp[nxt] = rho[nxt] * sapm__twoloop_sum(w, k++, tid, nthreads,
                           sapm__axpy_dot(len, 1.0, -alp[idx], Y + (size_t)idx * n, dv,
                                          S + (size_t)nxt * n));
        else
            sapm__vec_axpy(len, -alp[idx], Y + (size_t)idx * n, dv);
    }
    idx = (mhead - mcount + mcap) % mcap;                             /* oldest pair */
    beta = rho[idx] * sapm__twoloop_sum(w, k++, tid, nthreads,
                                        sapm__axpy_dot(len, w->gamma, 0.0, dv, dv, Y + (size_t)idx * n));
    for (j = mcount - 1; j >= 0; --j) {
        idx = (mhead - 1 - j + mcap) % mcap;
        nxt = (mhead - j + mcap) % mcap;                              /* next newer */
        if (j > 0)
            beta = rho[nxt] * sapm__twoloop_sum(w, k++, tid, nthreads,
                       sapm__axpy_dot(len, 1.0, alp[idx] - beta, S + (size_t)idx * n, dv,
                                      Y + (size_t)nxt * n));
        else
            sapm__vec_axpy(len, alp[idx] - beta, S + (size_t)idx * n, dv);
    }
}

/* The gradient phase: GD, Adam or L-BFGS (method) on the problem from x (updated in place)
 * until the run stops or hands over (*stop = SAPM_STOP_NONE). Returns the status. On
 * divergence x is restored to the last iterate with a finite loss and gradient. */
/* A checkpoint of a gradient phase: its state at the top of its loop, GD [k]; Adam [k,
 * beta1^t, beta2^t, m, v] (m, v contiguous at mv); L-BFGS [k, gamma, count, head, S, Y, rho]
 * (contiguous at syr, memory mcap). f and g are recomputed at x on resume. */
static sapm_result sapm__gradient_checkpoint(sapm__run *run, sapm_method method, const double *x,
                                             size_t n, int k, double b1t, double b2t,
                                             const double *mv, double gamma, int mcount,
                                             int mhead, const double *syr, int mcap)
{
#ifndef SAPM_NO_STDIO
    double head[4];
    const double *seg[2];
    size_t seg_n[2];
    sapm_result r;
    head[0] = (double)k;
    head[1] = method == SAPM_METHOD_ADAM ? b1t : gamma;
    head[2] = method == SAPM_METHOD_ADAM ? b2t : (double)mcount;
    head[3] = (double)mhead;
    seg[0] = head;
    seg_n[0] = method == SAPM_METHOD_GD ? 1 : method == SAPM_METHOD_ADAM ? 3 : 4;
    seg[1] = method == SAPM_METHOD_ADAM ? mv : syr;
    seg_n[1] = method == SAPM_METHOD_GD ? 0 : method == SAPM_METHOD_ADAM ? 2 * n
               : (2 * n + 1) * (size_t)mcap;
    if ((r = sapm__run_checkpoint(run, x, n, seg, seg_n, 2)) != SAPM_OK)
        run->why = "the checkpoint could not be written (checkpoint_path)";
    return r;
#else
    (void)run; (void)method; (void)x; (void)n; (void)k; (void)b1t; (void)b2t; (void)mv;
    (void)gamma; (void)mcount; (void)mhead; (void)syr; (void)mcap;
    return SAPM_ERR_NOT_COMPILED_IN;
#endif
}

static sapm_result sapm__phase_gradient(sapm__run *run, const sapm__problem *pb,
                                        sapm_method method, double *x, sapm_stop_reason *stop_out)
{
    const sapm_options *opt = run->opt;
    const size_t n = pb->n_params;
    void *ctx = pb->ctx;
    sapm_stop_reason stop = SAPM_STOP_NONE;
    sapm_result status = SAPM_OK, r;
    double f = 0.0, f_new = 0.0, mse = 0.0, err = NAN, lr;
    double *mem, *g, *xg, *w1, *w2, *xt, *gt, *lsw, *S = NULL, *Yv = NULL, *rho = NULL, *alp = NULL;
    double *part = NULL, gamma = 1.0, b1t = 1.0, b2t = 1.0;
    const double *last_s = NULL;        /* L-BFGS: the newest step, to undo it */
    size_t i, nbuf;
    int k = 0, mcap = 0, mcount = 0, mhead = 0, lbfgs_threads = 1;
    lr = opt->learning_rate > 0.0 ? opt->learning_rate
                                  : (method == SAPM_METHOD_ADAM ? 1e-3 : 1e-2);
    /* buffers: g, x_good (GD/Adam) or d (L-BFGS), Adam m and v, L-BFGS trial x, trial g,
     * line-search work (3n), memory S, Y (mcap n each), rho (mcap), the two-loop's a_j
     * (mcap per thread) and partial products (2 per thread) */
    if (method == SAPM_METHOD_LBFGS) {
        mcap = opt->ls.lbfgs_memory;
        lbfgs_threads = sapm__threads_for(4.0 * mcap * (double)n);
    }
    nbuf = 4 * n + (method == SAPM_METHOD_LBFGS
                        ? 3 * n + 2 * (size_t)mcap * n + (size_t)mcap * (size_t)(1 + lbfgs_threads) +
                              2 * (size_t)lbfgs_threads
                        : 0);
    mem = (double *)sapm__alloc(nbuf, sizeof(double));
    if (!mem) { *stop_out = SAPM_STOP_ERROR; return SAPM_ERR_OUT_OF_MEMORY; }
    g = mem; xg = mem + n; w1 = mem + 2 * n; w2 = mem + 3 * n;
    xt = w1; gt = w2; lsw = mem + 4 * n;
    if (mcap) {
        S = lsw + 3 * n; Yv = S + (size_t)mcap * n; rho = Yv + (size_t)mcap * n; alp = rho + mcap;
        part = alp + (size_t)mcap * (size_t)lbfgs_threads;
    }
    r = pb->objective(ctx, x, &f, g);
    if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; goto done; }
    if (!isfinite(f) || !sapm__all_finite(g, n)) {
        status = SAPM_ERR_DIVERGED; stop = SAPM_STOP_DIVERGED; goto done;
    }
    if (run->last_logged < 0) {                 /* the run's initial state */
        r = sapm__problem_monitor(pb, x, f, &mse, &err);
        if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; goto done; }
        stop = sapm__run_step(run, 0, mse, f, err, 1);
        if (stop == SAPM_STOP_DIVERGED) status = SAPM_ERR_DIVERGED;
    }
    if (method == SAPM_METHOD_ADAM) memset(w1, 0, 2 * n * sizeof(double));
    if (status == SAPM_OK && sapm__run_checkpoint_due(run) &&   /* asked for at iteration 0 */
        (r = sapm__gradient_checkpoint(run, method, x, n, k, b1t, b2t, w1, gamma, mcount, mhead,
                                       S, mcap)) != SAPM_OK) {
        status = r; stop = SAPM_STOP_ERROR;
        goto done;
    }
    if (run->resume_state && run->resume_phase == run->phase_index) {
        /* a resumed run: the optimizer state of the checkpoint (see the packing below) */
        const double *st = run->resume_state;
        size_t want = method == SAPM_METHOD_GD ? 1 : method == SAPM_METHOD_ADAM ? 3 + 2 * n
                      : 4 + (2 * n + 1) * (size_t)mcap;
        run->resume_phase = -1;
        if (run->resume_n != want) {
            status = SAPM_ERR_CORRUPT; stop = SAPM_STOP_ERROR;
            run->why = "resume_from: the saved optimizer state does not fit these options";
            goto done;
        }
        if (!sapm__ckpt_count(st[0]) ||
            (method == SAPM_METHOD_LBFGS && (!sapm__ckpt_count(st[2]) || !sapm__ckpt_count(st[3])))) {
            status = SAPM_ERR_CORRUPT; stop = SAPM_STOP_ERROR;
            run->why = "resume_from: the saved optimizer state is inconsistent";
            goto done;
        }
        k = (int)st[0];
        if (method == SAPM_METHOD_ADAM) {
            b1t = st[1]; b2t = st[2];
            memcpy(w1, st + 3, 2 * n * sizeof(double));
        } else if (method == SAPM_METHOD_LBFGS) {
            gamma = st[1]; mcount = (int)st[2]; mhead = (int)st[3];
            if (mcount < 0 || mcount > mcap || mhead < 0 || mhead >= mcap) {
                status = SAPM_ERR_CORRUPT; stop = SAPM_STOP_ERROR;
                run->why = "resume_from: the saved L-BFGS memory is inconsistent";
                goto done;
            }
            memcpy(S, st + 4, (2 * n + 1) * (size_t)mcap * sizeof(double));  /* S, Y, rho */
        }
    }
    {
        while (stop == SAPM_STOP_NONE && !sapm__run_handover(run)) {
            double gn = sqrt(sapm__vec_dot(g, g, n));
            int wanted;
            if ((opt->grad_tol > 0.0 && gn <= opt->grad_tol) || gn == 0.0) { stop = SAPM_STOP_GRAD_TOL; break; }
            if (method != SAPM_METHOD_LBFGS) {
                memcpy(xg, x, n * sizeof(double));
                if (method == SAPM_METHOD_GD) {
                    for (i = 0; i < n; ++i) x[i] -= lr * g[i];     /* x <- x - lr g */
                } else {
                    const double b1 = opt->ls.adam_beta1, b2 = opt->ls.adam_beta2;
                    b1t *= b1; b2t *= b2;
                    sapm__adam_update(n, x, g, w1, w2, b1, b2, lr / (1.0 - b1t),
                                      1.0 / sqrt(1.0 - b2t), opt->ls.adam_eps);
                }
                r = pb->objective(ctx, x, &f_new, g);
                if (r != SAPM_OK) {
                    memcpy(x, xg, n * sizeof(double));
                    status = r; stop = SAPM_STOP_ERROR; break;
                }
                if (!isfinite(f_new) || !sapm__all_finite(g, n)) {
                    memcpy(x, xg, n * sizeof(double));   /* last good iterate */
                    status = SAPM_ERR_DIVERGED; stop = SAPM_STOP_DIVERGED; break;
                }
            } else {
                /* L-BFGS direction d = -H g (kept in xg) by the two-loop recursion */
                double *dv = xg, gtd, t, sy, yy, ss;
                int idx;
                for (i = 0; i < n; ++i) dv[i] = -g[i];
                if (mcount > 0) {
                    sapm__twoloop w;
                    w.n = n; w.S = S; w.Y = Yv; w.rho = rho; w.alp = alp; w.dv = dv;
                    w.gamma = gamma; w.mcap = mcap; w.mcount = mcount; w.mhead = mhead;
                    w.part = part;
                    sapm__run_parallel(SAPM__MIN(lbfgs_threads,
                                                 sapm__threads_for(4.0 * mcount * (double)n)),
                                       sapm__twoloop_task, &w);
                }
                gtd = sapm__vec_dot(g, dv, n);
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
                r = sapm__wolfe(pb->objective, ctx, n, x, f, g, dv, gtd, &t, xt, &f_new, gt, lsw);
                if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; break; }
                if (!(f_new < f) && mcount > 0) {       /* retry once along -g */
                    mcount = 0; mhead = 0;
                    for (i = 0; i < n; ++i) dv[i] = -g[i];
                    gtd = -gn * gn;
                    t = SAPM__MIN(1.0, 1.0 / gn);
                    r = sapm__wolfe(pb->objective, ctx, n, x, f, g, dv, gtd, &t, xt, &f_new, gt, lsw);
                    if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; break; }
                }
                if (!(f_new < f)) { stop = SAPM_STOP_LINE_SEARCH; break; }
                /* s = t d, y = g_new - g; x <- x + s, g <- g_new */
                sy = yy = ss = 0.0;
                idx = mhead;
                {
                    double *SAPM__RESTRICT s = S + (size_t)idx * n, *SAPM__RESTRICT y = Yv + (size_t)idx * n;
                    sapm__step_point(x, dv, t, xt, n);      /* the point the search evaluated */
                    for (i = 0; i < n; ++i) {
                        s[i] = xt[i] - x[i];
                        y[i] = gt[i] - g[i];
                    }
                    memcpy(x, xt, n * sizeof(double));
                    sy = sapm__vec_dot(s, y, n); yy = sapm__vec_dot(y, y, n); ss = sapm__vec_dot(s, s, n);
                }
                memcpy(g, gt, n * sizeof(double));
                last_s = S + (size_t)idx * n;
                if (sy > 1e-10 * sqrt(ss) * sqrt(yy) && yy > 0.0) {
                    rho[idx] = 1.0 / sy;
                    gamma = 1.0 / (rho[idx] * yy);          /* s'y / y'y of the newest pair */
                    mhead = (mhead + 1) % mcap;
                    if (mcount < mcap) ++mcount;
                }
            }
            ++k;
            {
                double f_old = f;
                f = f_new;
                wanted = sapm__run_logs_next(run);
                mse = f; err = NAN;
                if (wanted && (r = sapm__problem_monitor(pb, x, f, &mse, &err)) != SAPM_OK) {
                    status = r; stop = SAPM_STOP_ERROR; break;
                }
                stop = sapm__run_step(run, 1, mse, f, err, wanted);
                if (stop == SAPM_STOP_DIVERGED) {   /* the monitor's true loss is NaN/Inf */
                    if (method != SAPM_METHOD_LBFGS) memcpy(x, xg, n * sizeof(double));
                    else if (last_s) for (i = 0; i < n; ++i) x[i] -= last_s[i];
                    f = f_old;
                    status = SAPM_ERR_DIVERGED;
                }
                if (stop == SAPM_STOP_NONE && opt->rel_tol > 0.0 &&
                    fabs(f - f_old) <= opt->rel_tol * SAPM__MAX(fabs(f_old), DBL_MIN))
                    stop = SAPM_STOP_REL_TOL;
            }
            if (status == SAPM_OK && sapm__run_checkpoint_due(run) &&
                (r = sapm__gradient_checkpoint(run, method, x, n, k, b1t, b2t, w1, gamma, mcount,
                                               mhead, S, mcap)) != SAPM_OK) {
                status = r; stop = SAPM_STOP_ERROR;
                break;
            }
        }
    }
done:
    SAPM_FREE(mem);
    *stop_out = stop;
    return status;
}

/* --- the data problem (regression) -----------------------------------------------------
 * J_LS = (1/N) sum_n |u(x_n) - y_n|^2 on the tape, block by block: every block adds its
 * sum of squared residuals and, when a gradient is wanted, its share of dJ_LS/dparams to
 * one buffer; the buffer is then summed across workers by sapm__allreduce (one call per
 * evaluation) and scaled. The residual form for LM: rho_{n,k} = (u_k(x_n) - y_{n,k}) /
 * sqrt(N), so ||rho||^2 = J_LS, with Jacobian rows du_k(x_n)/dparams / sqrt(N) (one
 * reverse pass per output k). The monitor: mse = J_LS, error = the test MSE. */
typedef struct sapm__data_problem {
    sapm__tape tape;
    const sapm_options *opt;    /* its allreduce hook (may be NULL: one worker) */
    int N, ldx, ldy;
    const double *X, *Y;
    double n_total;             /* points over all workers */
    size_t n_params;
    double *buf;                /* n_params + 1: gradient sum, then the squared-error sum */
    int n_test;                 /* held-out points (0: none) */
    const double *X_test, *Y_test;
    size_t *layer_start;        /* depth + 1: the layer blocks of block-diagonal LM */
    int depth;
} sapm__data_problem;

static void sapm__data_problem_free(sapm__data_problem *e)
{
    sapm__tape_free(&e->tape);
    if (e->buf) SAPM_FREE(e->buf);
    if (e->layer_start) SAPM_FREE(e->layer_start);
    e->buf = NULL;
    e->layer_start = NULL;
}

static sapm_result sapm__data_problem_init(sapm__data_problem *e, const sapm_net *net, int N,
                                           const double *X, int ldx, const double *Y, int ldy,
                                           const sapm_options *opt)
{
    enum { BLOCK = 1024 };      /* points per tape block: one block for small data sets */
    sapm_result r;
    double cnt = (double)N;
    int cap = SAPM__MIN(N, (int)BLOCK);
    memset(e, 0, sizeof *e);
    e->opt = opt; e->N = N; e->X = X; e->ldx = ldx; e->Y = Y; e->ldy = ldy;
    e->n_params = net->n_params;
    if (opt && opt->n_test > 0) {
        e->n_test = opt->n_test; e->X_test = opt->X_test; e->Y_test = opt->Y_test;
        cap = SAPM__MAX(cap, SAPM__MIN(opt->n_test, (int)BLOCK));
    }
    r = sapm__tape_init(&e->tape, net, cap, SAPM__TAPE_VALUE);
    if (r != SAPM_OK) return r;
    e->buf = (double *)sapm__alloc(net->n_params + 1, sizeof(double));
    e->layer_start = sapm__net_layer_starts(net);
    e->depth = net->depth;
    if (!e->buf || !e->layer_start) { sapm__data_problem_free(e); return SAPM_ERR_OUT_OF_MEMORY; }
    /* the global number of points, for the 1/N of J_LS */
    r = sapm__allreduce(opt, &cnt, 1);
    if (r != SAPM_OK) { sapm__data_problem_free(e); return r; }
    if (!(cnt >= 1.0)) { sapm__data_problem_free(e); return SAPM_ERR_INVALID_SIZE; }
    e->n_total = cnt;
    return SAPM_OK;
}

/* objective: *f = J_LS(x), grad (may be NULL) = dJ_LS/dx. */
static sapm_result sapm__data_objective(void *ctx, const double *x, double *f, double *grad)
{
    sapm__data_problem *e = (sapm__data_problem *)ctx;
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

/* residuals: rho (N m, index n m + k) and G (N m x P; NULL: rho alone) at x, this
 * worker's rows; *f = ||rho||^2 of them (= J_LS with one worker; LM sums it over the
 * workers). */
static sapm_result sapm__data_residuals(void *ctx, const double *x, double *rho, double *G,
                                        double *f)
{
    sapm__data_problem *e = (sapm__data_problem *)ctx;
    sapm__tape *t = &e->tape;
    size_t np = e->n_params;
    int s0, m = t->m, L = t->depth;
    double w = 1.0 / sqrt(e->n_total), sse = 0.0;
    for (s0 = 0; s0 < e->N; s0 += t->cap) {
        int nb = SAPM__MIN(t->cap, e->N - s0), n, k, j;
        sapm__tape_forward(t, x, nb, e->X + (size_t)s0 * e->ldx, e->ldx);
        for (n = 0; n < nb; ++n)
            for (k = 0; k < m; ++k) {
                double res = t->A[L][(size_t)n * m + k] - e->Y[(size_t)(s0 + n) * e->ldy + k];
                rho[(size_t)(s0 + n) * m + k] = w * res;
                sse += res * res;
            }
        /* row (n, k) of G = w du_k(x_n)/dparams: the reverse pass seeded with w e_k */
        for (k = 0; G && k < m; ++k) {
            for (n = 0; n < nb; ++n)
                for (j = 0; j < m; ++j) t->adj[(size_t)n * m + j] = j == k ? w : 0.0;
            sapm__tape_jacobian(t, x, G + ((size_t)s0 * m + k) * np, (size_t)m * np);
        }
    }
    *f = sse / e->n_total;
    return SAPM_OK;
}

/* monitor: mse = J_LS (= f), error = mean over the test points of |u - y|^2. */
static sapm_result sapm__data_monitor(void *ctx, const double *x, double f, double *mse,
                                      double *error)
{
    sapm__data_problem *e = (sapm__data_problem *)ctx;
    sapm__tape *t = &e->tape;
    int s0, m = t->m, L = t->depth;
    double s[2] = {0.0, 0.0};
    sapm_result r;
    *mse = f;
    *error = NAN;
    if (e->n_test <= 0) return SAPM_OK;
    for (s0 = 0; s0 < e->n_test; s0 += t->cap) {
        int nb = SAPM__MIN(t->cap, e->n_test - s0), n, k;
        sapm__tape_forward(t, x, nb, e->X_test + (size_t)s0 * t->d, t->d);
        for (n = 0; n < nb; ++n)
            for (k = 0; k < m; ++k) {
                double res = t->A[L][(size_t)n * m + k] - e->Y_test[(size_t)(s0 + n) * m + k];
                s[0] += res * res;
            }
    }
    s[1] = (double)e->n_test;
    if ((r = sapm__allreduce(e->opt, s, 2)) != SAPM_OK) return r;
    *error = s[0] / s[1];
    return SAPM_OK;
}

static sapm__problem sapm__data_problem_table(sapm__data_problem *e)
{
    sapm__problem pb;
    pb.ctx = e;
    pb.n_params = e->n_params;
    pb.n_res = (size_t)e->N * (size_t)e->tape.m;
    pb.objective = sapm__data_objective;
    pb.residuals = sapm__data_residuals;
    pb.monitor = sapm__data_monitor;
    pb.resample = NULL; pb.resample_ctx = NULL; pb.resample_every = 0;
    pb.block_start = e->layer_start; pb.n_blocks = e->depth;
    return pb;
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
    sapm__data_problem e;
    double f = 0.0;
    sapm_result r = sapm__check_data(net, N, X, ldx, Y, ldy);
    if (r != SAPM_OK) return r;
    if (!grad && !j_ls) return SAPM_ERR_NULL_ARGUMENT;
    r = sapm__data_problem_init(&e, net, N, X, ldx, Y, ldy, NULL);
    if (r != SAPM_OK) return r;
    r = sapm__data_objective(&e, net->params, &f, grad);
    sapm__data_problem_free(&e);
    if (r == SAPM_OK && j_ls) *j_ls = f;
    return r;
}

SAPMDEF sapm_result sapm_net_loss(const sapm_net *net, int N, const double *X, int ldx,
                                  const double *Y, int ldy, double *j_ls)
{
    if (!j_ls) return SAPM_ERR_NULL_ARGUMENT;
    return sapm_net_gradient(net, N, X, ldx, Y, ldy, j_ls, NULL);
}

/* ======================================================================================
 * Implementation: Levenberg-Marquardt phase
 *
 * J = ||rho||^2 for the problem's residual vector rho in R^n with Jacobian G = d rho /
 * dparams (n x P). An iteration solves the damped Gauss-Newton problem
 *     min_delta ||rho + G delta||^2 + mu ||delta||^2
 * in sample space when n <= P (the push-through identity),
 *     (G G^T + mu I) y = rho,   delta = -G^T y,   rho + G delta = mu y,
 *     predicted decrease  pred = ||rho||^2 - mu^2 ||y||^2,
 * or in parameter space when P < n,
 *     (G^T G + mu I) delta = -G^T rho,   pred = -delta^T G^T rho + mu ||delta||^2,
 * with one SYRK (the Gram matrix) per Jacobian and one Cholesky and one residual
 * evaluation per trial damping. A step that does not lower J is retried with mu *= nu,
 * nu *= 2. A step that lowers J with a very good gain ratio q = (J - J_new) / pred > 3/4
 * (and no failed trial before it) is followed by a trial at mu / 10 on the same Gram
 * matrix, up to ls.lm_trials of them while each lowers J further; the best trial is taken
 * (ours: a trial costs a fraction of the Jacobian and the SYRK). Then mu follows the taken
 * step's gain by Nielsen's rule (mu *= max(1/3, 1 - (2q - 1)^3)), cut tenfold instead
 * when q > 0.9 (with trials on), and nu = 2: Nielsen's factor 1/3 alone lets mu lag
 * behind a problem that wants Gauss-Newton steps, and the iteration then creeps at a
 * linear rate (measured on bench/bench_pde_suite.c: the trials reached rel. L2 1e-3 in
 * 46 / 75 / 33 iterations on Poisson 2-D / transport / variable coefficients against
 * 58 / 234 / 56 without). mu_0 = ls.lm_damping * max diag(Gram), and mu never falls
 * below 4 eps max diag(Gram) (the Cholesky stays well posed).
 * Geodesic acceleration (ls.lm_geodesic = alpha > 0; Transtrum & Sethna, arXiv 1201.5885):
 * each trial's step v is corrected by a/2, a the damped solve on the same factor with the
 * residuals' second directional derivative along v (one extra residual evaluation, no
 * Jacobian), when 2 ||a|| <= alpha ||v||; otherwise v is tried as it is (ours: the
 * paper rejects the trial, which measured worse on transport). Near the solution the
 * Gauss-Newton steps of a PINN keep a gain of ~1/2 with mu ~ 1e-9 max diag: the residual
 * curves along the step and plain LM creeps at a linear rate (transport: J / 10 per ~1000
 * iterations); the correction follows that curvature. Measured on bench/bench_pde_suite.c
 * (10 s per run, 2 threads, three starts of each of the nine problems below d = 100):
 * lower in all 27 runs, the median 4-800x lower (Poisson 2-D 2.6e-11 against 2.1e-8,
 * transport 3.4e-7 against 5.2e-6, Poisson d = 10 4.3e-8 against 5.6e-6); on d-32-1, too
 * narrow at d = 10, two starts there settled in a minimum at J ~ 1e-7 with or without it;
 * alpha = 0.25, 0.5, 1 and 1.5 measured no better than Transtrum's 0.75. Only steps that
 * lower J are taken, so the phase never ends above its starting loss (the parameters it returns
 * are the best it saw). When nu reaches 2^40 without a decrease the damping starts once
 * more from mu_0 (a fallback for a damping that ran away); failing that too, the phase
 * ends with SAPM_STOP_LINE_SEARCH (the limit of precision). A PDE problem may replace its
 * interior points every k steps (sapm_pde_options.resample_every); J, rho and G are then
 * recomputed on the fresh points. Cost per iteration: the Jacobian (about two gradient
 * evaluations), the SYRK k^2 P with k = min(n, P), and per trial k^3/3 for the Cholesky
 * and one residual evaluation; memory 8 (n P + 2 k^2 + 3 P) bytes.
 * Several workers (opt.allreduce): always in parameter space, where the normal equations
 * are sums over the workers' rows: G^T G, G^T rho and J are summed (P^2 + P + 1 numbers per
 * Jacobian, however many residuals each worker holds), every trial J through the
 * objective's own reduction; each worker then solves the same system.
 *
 * Block-diagonal Gauss-Newton (ls.lm_blocks = 1; the per-layer approximation used by
 * K-FAC-type natural-gradient PINN optimizers): the Gram matrix keeps only its diagonal
 * blocks, one per layer of the network (W_l with b_l, in the order of sapm_net.params; a
 * PDE's trainable coefficients theta, stored after the network, one more block; a
 * problem that names no blocks is one block), and every block solves its own damped
 * system with the same mu,
 *     (G_l^T G_l + mu I) delta_l = -G_l^T rho,
 * in the smaller of its spaces (n < P_l: (G_l G_l^T + mu I) y_l = rho, delta_l = -G_l^T
 * y_l), the blocks concurrently over the threads. This is not the Gauss-Newton step, so
 * the predicted decrease is the model's own, pred = J - ||rho + G delta||^2 (one product
 * with G per trial); trials, gain ratio and damping rule are the ones above, and the
 * phase still never ends above its start. Cost: SYRKs of n sum P_l k_l / 2 per Jacobian and
 * Choleskys of sum k_l^3 / 3 per trial, k_l = min(n, P_l); with several workers every block
 * is in parameter space and sum P_l^2 + P + 1 numbers are summed per Jacobian (plus one per
 * trial for pred): 12621 instead of 19881 for 1-10-10-1, 13.0e6 instead of 28.1e6 for
 * 2-50-50-50-1. One block (a network without hidden layer) is full LM up to rounding.
 * Measured (bench_pde_suite --time 10 --width 32, one thread, held-out rel. L2 at 10 s,
 * full LM with its geodesic acceleration / block-diagonal): d-32-1: Poisson 2-D 3.0e-11 / 5.3e-3,
 * transport 7.2e-9 / 6.4e-3, Poisson d = 10 2.6e-6 / 4.7e-3, anisotropic 1.5e-9 / 2.7e-3,
 * reaction 5-D 5.9e-10 / 1.0e-5; 3 x 50: 3.9e-5 / 9.4e-2, 5.6e-4 / 1.1, 2.5e-3 / 9.1e-2,
 * 0.14 / 1.0, 9.8e-6 / 2.2e-2. The cross-layer curvature is what LM needs on these
 * problems; and at n ~ 1000 the blocks of 2550 are solved in sample space twice, so an
 * iteration even costs more than the full one (32 against 39 iterations in 10 s on
 * Poisson 2-D, 3 x 50). The option stays
 * for the cases it was designed for (n far above every P_l, several workers whose Gram
 * sums dominate) and for study; full LM is the default.
 * ====================================================================================== */

/* --- block-diagonal Gauss-Newton (ls.lm_blocks = 1) ----------------------------------
 * Block l holds the parameters start[l] .. start[l + 1] (P_l of them, the columns G_l of
 * G). Its damped system is solved in the smaller of its two spaces, k_l = min(n, P_l):
 * parameter space (P_l <= n, and always with several workers)
 *     (G_l^T G_l + mu I) delta_l = -G_l^T rho,
 * or sample space (n < P_l, by the push-through identity)
 *     (G_l G_l^T + mu I) y_l = rho,   delta_l = -G_l^T y_l.
 * Its Gram matrix (k_l x k_l) lies at K + koff[l], the blocks one after another
 * (koff[nb] = sum k_l^2). */
typedef struct sapm__lm_blocks {
    int nb;
    const size_t *start;        /* nb + 1 */
    const size_t *koff;         /* nb + 1 */
    const double *G;            /* n x P, row-major */
    const double *rho;          /* n */
    size_t n, P;
    int parameter_space;        /* every block in parameter space (several workers) */
    double *K, *F;              /* the Gram matrices; their damped factors */
    const double *g;            /* G^T rho (P) */
    double *ys;                 /* n per block: y_l of a sample-space block */
    double *delta;              /* the step (P) */
    double mu;
} sapm__lm_blocks;

static int sapm__lm_block_in_samples(const sapm__lm_blocks *b, int l)
{
    return !b->parameter_space && b->n < b->start[l + 1] - b->start[l];
}

/* The Gram matrix of block l: G_l^T G_l (one SYRK of n P_l^2 / 2 multiply-adds) or
 * G_l G_l^T (n^2 P_l / 2). */
static void sapm__lm_block_gram(const sapm__lm_blocks *b, int l)
{
    size_t s = b->start[l], pl = b->start[l + 1] - s;
    if (sapm__lm_block_in_samples(b, l))
        sapm_syrk(SAPM_NO_TRANS, (int)b->n, (int)pl, 1.0, b->G + s, (int)b->P, 0.0,
                  b->K + b->koff[l], (int)b->n);
    else
        sapm_syrk(SAPM_TRANS, (int)pl, (int)b->n, 1.0, b->G + s, (int)b->P, 0.0,
                  b->K + b->koff[l], (int)pl);
}

/* delta_l of the block's damped system: one Cholesky of k_l^3 / 3, two triangular solves
 * (and in sample space the product delta_l = -G_l^T y_l). Returns 0, or 1 when the
 * damped matrix is not numerically positive definite. */
static int sapm__lm_block_solve(const sapm__lm_blocks *b, int l)
{
    size_t s = b->start[l], pl = b->start[l + 1] - s, i;
    int samples = sapm__lm_block_in_samples(b, l), info = 0;
    size_t kl = samples ? b->n : pl;
    double *F = b->F + b->koff[l];
    memcpy(F, b->K + b->koff[l], kl * kl * sizeof(double));
    for (i = 0; i < kl; ++i) F[i * kl + i] += b->mu;
    if (sapm_chol_factor((int)kl, F, (int)kl, &info) != SAPM_OK) return 1;
    if (samples) {
        double *y = b->ys + (size_t)l * b->n;
        memcpy(y, b->rho, b->n * sizeof(double));
        sapm_chol_solve((int)kl, 1, F, (int)kl, y, 1);
        sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, (int)pl, 1, (int)b->n, -1.0, b->G + s, (int)b->P, y, 1,
                  0.0, b->delta + s, 1);
    } else {
        for (i = 0; i < pl; ++i) b->delta[s + i] = -b->g[s + i];
        sapm_chol_solve((int)kl, 1, F, (int)kl, b->delta + s, 1);
    }
    return 0;
}

/* Every block's Gram matrix (what = 0) or damped solve (what = 1; returns the number of
 * blocks whose Cholesky failed), the blocks concurrently over the threads (layer-parallel,
 * one block per thread at a time, each with the serial kernels). The alternative, the
 * blocks in sequence each with the threaded kernels, measured on the 2-50-50-50-1 blocks
 * (150 + 2550 + 2550 + 51) of a random Jacobian, 2 threads on a 2-vCPU AMD EPYC shared
 * with another job (best of 5-30 runs; layer-parallel / sequential):
 *     n = 1020 (the two large blocks in sample space): machine idle, Gram 0.069 / 0.069 s,
 *     solve 0.017 / 0.020 s; under load, Gram 0.133 / 0.152 s, solve 0.032 / 0.056 s
 *     (typically 0.035 / 0.40 s: the threaded Cholesky waits at every panel for a thread
 *     that has lost its core);
 *     n = 6000 (every block in parameter space): Gram 1.98 / 2.00 s, solve 0.41 / 0.58 s
 *     (typically 0.41 / 2.1 s);
 *     one thread: 0.125 s and 0.032 s (n = 1020).
 * Whole LM iterations (bench_pde_suite, lm-block-3x50, 10 iterations, best of 3): Poisson
 * 2-D 1.68 / 1.92 s, Poisson d = 10 4.04 / 4.30 s. Layer-parallel is never slower and
 * holds up under load, so it is the one kept. */
static int sapm__lm_blocks_each(const sapm__lm_blocks *b, int what)
{
    int l, failed = 0;
#ifdef SAPM__OPENMP
    double work = 0.0;
    int nt;
    for (l = 0; l < b->nb; ++l) {
        double pl = (double)(b->start[l + 1] - b->start[l]), n = (double)b->n;
        double kl = sapm__lm_block_in_samples(b, l) ? n : pl;
        work += what == 0 ? 0.5 * n * pl * kl : kl * kl * kl / 3.0 + n * pl;
    }
    nt = SAPM__MIN(sapm__threads_for(work), b->nb);
    if (nt > 1) {
        /* one block per thread at a time; inside the region the kernels run serially
         * (sapm__threads_for gives 1 there) */
#pragma omp parallel for schedule(dynamic) num_threads(nt) reduction(+:failed)
        for (l = 0; l < b->nb; ++l) {
            if (what == 0) sapm__lm_block_gram(b, l);
            else failed += sapm__lm_block_solve(b, l);
        }
        return failed;
    }
#endif
    for (l = 0; l < b->nb; ++l) {
        if (what == 0) sapm__lm_block_gram(b, l);
        else failed += sapm__lm_block_solve(b, l);
    }
    return failed;
}

static sapm_result sapm__phase_lm(sapm__run *run, const sapm__problem *pb, double *x,
                                  sapm_stop_reason *stop_out)
{
    const sapm_options *o = run->opt;
    size_t P = pb->n_params, n = pb->n_res, k, i, need, kk;
    int parallel = o->allreduce != NULL, blocked = o->ls.lm_blocks == 1, info, l;
    int sample_space = n <= P && !parallel && !blocked;
    double *mem, *G, *K, *F, *rho, *y, *delta, *xt;
    double *xb, *r2, *Gv, *acc, *rm = NULL;
    size_t *bstart = NULL;
    sapm__lm_blocks bl;
    double J, J_new = NAN, mu = -1.0, nu = 2.0, err = NAN, mse, dmax;
    double J_best, mu_best, gain_best;
    int trial, failed, restarted = 0;
    sapm_stop_reason stop = SAPM_STOP_NONE;
    sapm_result r, status = SAPM_OK;
    *stop_out = SAPM_STOP_ERROR;
    if (!pb->residuals) return SAPM_ERR_UNSUPPORTED;
    if (n > (size_t)INT_MAX || P > (size_t)INT_MAX) return SAPM_ERR_INVALID_SIZE; /* kernel ints */
    k = sample_space ? n : P;
    /* G: n P, K and F: k^2 each (blocks: sum k_l^2 <= P^2 each), rho: n, y: k, delta, xt
     * and xb: P, the geodesic acceleration's r2 and Gv: n, acc: P, and with blocks the
     * model residual rho + G delta and every block's y_l: n (nb + 1) */
    if (P > (size_t)-1 / 8 / (n + 1) || k > (size_t)-1 / 8 / k) return SAPM_ERR_OUT_OF_MEMORY;
    kk = k * k;
    memset(&bl, 0, sizeof bl);
    if (blocked) {
        /* starts (nb + 1) then the Gram offsets koff (nb + 1) */
        bstart = (size_t *)sapm__alloc(2 * ((size_t)pb->n_blocks + 2), sizeof(size_t));
        if (!bstart) return SAPM_ERR_OUT_OF_MEMORY;
        bl.nb = sapm__problem_blocks(pb, bstart);
        bl.start = bstart;
        bl.koff = bstart + bl.nb + 1;
        bl.n = n; bl.P = P; bl.parameter_space = parallel;
        bstart[bl.nb + 1] = 0;
        for (l = 0; l < bl.nb; ++l) {
            size_t kl = sapm__lm_block_in_samples(&bl, l) ? n : bstart[l + 1] - bstart[l];
            bstart[bl.nb + 2 + l] = bstart[bl.nb + 1 + l] + kl * kl;
        }
        kk = bl.koff[bl.nb];        /* sum k_l^2 <= (sum k_l)^2 <= k^2 with k = P */
    }
    need = n * P + 2 * kk + 3 * n + k + 4 * P + (blocked ? n + n * (size_t)bl.nb : 0);
    mem = (double *)sapm__alloc(need, sizeof(double));
    if (!mem) { if (bstart) SAPM_FREE(bstart); return SAPM_ERR_OUT_OF_MEMORY; }
    G = mem; K = G + n * P; F = K + kk; rho = F + kk; y = rho + n; delta = y + k;
    xt = delta + P; xb = xt + P; r2 = xb + P; Gv = r2 + n; acc = Gv + n;
    if (blocked) {
        rm = acc + P;
        bl.G = G; bl.rho = rho; bl.K = K; bl.F = F; bl.g = y; bl.delta = delta; bl.ys = rm + n;
    }
    if ((r = pb->residuals(pb->ctx, x, rho, G, &J)) != SAPM_OK ||
        (parallel && (r = sapm__allreduce(o, &J, 1)) != SAPM_OK)) {
        status = r; stop = SAPM_STOP_ERROR; goto done;
    }
    if (!isfinite(J)) { status = SAPM_ERR_DIVERGED; stop = SAPM_STOP_DIVERGED; goto done; }
    if (run->last_logged < 0) {                 /* the run's initial state */
        if ((r = sapm__problem_monitor(pb, x, J, &mse, &err)) != SAPM_OK) {
            status = r; stop = SAPM_STOP_ERROR; goto done;
        }
        stop = sapm__run_step(run, 0, mse, J, err, 1);
        if (stop == SAPM_STOP_DIVERGED) status = SAPM_ERR_DIVERGED;
    }
    if (run->resume_state && run->resume_phase == run->phase_index) {
        /* a resumed run: the damping of the checkpoint (rho, G and J are recomputed at x) */
        run->resume_phase = -1;
        if (run->resume_n != 2 || !(run->resume_state[1] >= 2.0) || !isfinite(run->resume_state[1]) ||
            !(run->resume_state[0] >= 0.0) || !isfinite(run->resume_state[0])) {
            status = SAPM_ERR_CORRUPT; stop = SAPM_STOP_ERROR;
            run->why = "resume_from: the saved LM state does not fit";
            goto done;
        }
        mu = run->resume_state[0];
        nu = run->resume_state[1];
    }
    while (stop == SAPM_STOP_NONE && !sapm__run_handover(run)) {
        double J_old = J, pred = 0.0, gain;
        int wanted;
        /* the Gram matrix: G G^T (sample space) or G^T G and y = G^T rho (parameter space) */
        if (sample_space) {
            sapm_syrk(SAPM_NO_TRANS, (int)n, (int)P, 1.0, G, (int)P, 0.0, K, (int)k);
        } else {
            if (blocked) sapm__lm_blocks_each(&bl, 0);      /* K_l = G_l^T G_l */
            else sapm_syrk(SAPM_TRANS, (int)P, (int)n, 1.0, G, (int)P, 0.0, K, (int)k);
            sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, (int)P, 1, (int)n, 1.0, G, (int)P, rho, 1, 0.0, y, 1);
            if (parallel && ((r = sapm__allreduce(o, K, kk)) != SAPM_OK ||
                             (r = sapm__allreduce(o, y, P)) != SAPM_OK)) {
                status = r; stop = SAPM_STOP_ERROR; break;
            }
        }
        dmax = 0.0;
        if (blocked) {
            for (l = 0; l < bl.nb; ++l) {
                size_t kl = sapm__lm_block_in_samples(&bl, l) ? n : bstart[l + 1] - bstart[l];
                for (i = 0; i < kl; ++i) dmax = SAPM__MAX(dmax, K[bl.koff[l] + i * kl + i]);
            }
        } else {
            for (i = 0; i < k; ++i) dmax = SAPM__MAX(dmax, K[i * k + i]);
        }
        if (!isfinite(dmax)) { status = SAPM_ERR_DIVERGED; stop = SAPM_STOP_DIVERGED; break; }
        if (dmax == 0.0) { stop = SAPM_STOP_GRAD_TOL; break; }     /* G = 0: a stationary point */
        if (mu < 0.0) mu = o->ls.lm_damping * dmax;
        mu = SAPM__MAX(mu, 4.0 * DBL_EPSILON * dmax);
        /* trial dampings on this Gram matrix: raise mu until J decreases; after a very
         * good step (gain > 3/4) try mu / 10 too, while that lowers J further and trials
         * remain; the best trial is taken */
        J_best = J; mu_best = mu; gain_best = 0.0; trial = 0; failed = 0;
        for (;;) {
            int ok = 0, solved;
            if (blocked) {
                /* every block's (K_l + mu I) delta_l = -g_l; the block-diagonal step is not
                 * the Gauss-Newton step, so the predicted decrease is the model's own,
                 * pred = J - ||rho + G delta||^2 (one product with G) */
                double model;
                bl.mu = mu;
                solved = sapm__lm_blocks_each(&bl, 1) == 0;
                if (solved) {
                    memcpy(rm, rho, n * sizeof(double));
                    sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, (int)n, 1, (int)P, 1.0, G, (int)P, delta, 1,
                              1.0, rm, 1);
                    model = sapm__vec_dot(rm, rm, n);
                    if (parallel && (r = sapm__allreduce(o, &model, 1)) != SAPM_OK) {
                        status = r; stop = SAPM_STOP_ERROR; break;
                    }
                    pred = J - model;
                }
            } else {
                memcpy(F, K, k * k * sizeof(double));
                for (i = 0; i < k; ++i) F[i * k + i] += mu;
                solved = sapm_chol_factor((int)k, F, (int)k, &info) == SAPM_OK;
            }
            if (solved) {
                if (blocked) {
                    /* delta and pred are set */
                } else if (sample_space) {
                    memcpy(y, rho, n * sizeof(double));
                    sapm_chol_solve((int)k, 1, F, (int)k, y, 1);
                    sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, (int)P, 1, (int)n, -1.0, G, (int)P, y, 1,
                              0.0, delta, 1);
                    pred = J - mu * mu * sapm__vec_dot(y, y, n);
                } else {
                    for (i = 0; i < P; ++i) delta[i] = -y[i];
                    sapm_chol_solve((int)k, 1, F, (int)k, delta, 1);
                    pred = -sapm__vec_dot(y, delta, P) + mu * sapm__vec_dot(delta, delta, P);
                }
                if (o->ls.lm_geodesic > 0.0 && !blocked) {
                    /* geodesic acceleration: r2 = the second directional derivative of rho
                     * along v = delta by finite differences with h = 0.1,
                     *     r2 = (2/h) ((rho(x + h v) - rho(x)) / h - G v),
                     * and the correction a solves the same damped system,
                     *     (G^T G + mu I) a = -G^T r2   (sample space: a = -G^T y2,
                     *     (G G^T + mu I) y2 = r2); the step is v + a/2 when 2||a|| <= alpha||v|| */
                    const double h = 0.1;
                    double na, nv;
                    for (i = 0; i < P; ++i) xt[i] = x[i] + h * delta[i];
                    if ((r = pb->residuals(pb->ctx, xt, r2, NULL, &J_new)) != SAPM_OK) {
                        status = r; stop = SAPM_STOP_ERROR; break;
                    }
                    sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, (int)n, 1, (int)P, 1.0, G, (int)P, delta, 1,
                              0.0, Gv, 1);
                    for (i = 0; i < n; ++i) r2[i] = (2.0 / h) * ((r2[i] - rho[i]) / h - Gv[i]);
                    if (sample_space) sapm_chol_solve((int)k, 1, F, (int)k, r2, 1);
                    sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, (int)P, 1, (int)n, -1.0, G, (int)P, r2, 1, 0.0,
                              acc, 1);
                    if (!sample_space) {
                        if (parallel && (r = sapm__allreduce(o, acc, P)) != SAPM_OK) {
                            status = r; stop = SAPM_STOP_ERROR; break;
                        }
                        sapm_chol_solve((int)k, 1, F, (int)k, acc, 1);
                    }
                    na = sapm__vec_dot(acc, acc, P);
                    nv = sapm__vec_dot(delta, delta, P);
                    /* a NaN/Inf (rho not finite at x + h v on some worker) fails the test */
                    if (4.0 * na <= o->ls.lm_geodesic * o->ls.lm_geodesic * nv)
                        for (i = 0; i < P; ++i) delta[i] += 0.5 * acc[i];
                }
                for (i = 0; i < P; ++i) xt[i] = x[i] + delta[i];
                if ((r = pb->objective(pb->ctx, xt, &J_new, NULL)) != SAPM_OK) {
                    status = r; stop = SAPM_STOP_ERROR; break;
                }
                ok = isfinite(J_new) && J_new < J_best;
            }
            if (ok) {
                gain = pred > 0.0 ? (J - J_new) / pred : 1.0;
                J_best = J_new; mu_best = mu; gain_best = gain;
                memcpy(xb, xt, P * sizeof(double));
                if (gain > 0.75 && !failed && trial < o->ls.lm_trials &&
                    mu / 10.0 >= 4.0 * DBL_EPSILON * dmax) {
                    ++trial;
                    mu /= 10.0;
                    continue;
                }
                break;
            }
            if (J_best < J) break;               /* the previous (larger) mu was better */
            failed = 1;
            mu *= nu;
            nu *= 2.0;
            if (nu > 1099511627776.0) {          /* 2^40: no decrease at any damping */
                if (!restarted && mu_best > o->ls.lm_damping * dmax) {
                    /* fallback: the damping ran away; start once more from mu_0 */
                    restarted = 1; nu = 2.0; mu = o->ls.lm_damping * dmax;
                    continue;
                }
                stop = SAPM_STOP_LINE_SEARCH;
                break;
            }
        }
        if (stop == SAPM_STOP_NONE && J_best < J) {
            /* Nielsen's rule on the taken step, with a tenfold cut after a very good one */
            double t = 2.0 * gain_best - 1.0;
            mu = mu_best * (gain_best > 0.9 && o->ls.lm_trials > 0 ? 0.1
                            : SAPM__MAX(1.0 / 3.0, 1.0 - t * t * t));
            nu = 2.0;
            restarted = 0;
            memcpy(xt, xb, P * sizeof(double));
        }
        if (stop != SAPM_STOP_NONE) break;
        memcpy(x, xt, P * sizeof(double));
        if (pb->resample && pb->resample_every > 0 && (run->iter + 1) % pb->resample_every == 0 &&
            (r = pb->resample(pb->resample_ctx)) != SAPM_OK) {
            status = r; stop = SAPM_STOP_ERROR;
            run->why = "resampling the interior points failed (a PDE callback returned NaN or Inf?)";
            break;
        }
        if ((r = pb->residuals(pb->ctx, x, rho, G, &J)) != SAPM_OK ||
            (parallel && (r = sapm__allreduce(o, &J, 1)) != SAPM_OK)) {
            status = r; stop = SAPM_STOP_ERROR; break;
        }
        wanted = sapm__run_logs_next(run);
        mse = J; err = NAN;
        if (wanted && (r = sapm__problem_monitor(pb, x, J, &mse, &err)) != SAPM_OK) {
            status = r; stop = SAPM_STOP_ERROR; break;
        }
        stop = sapm__run_step(run, 1, mse, J, err, wanted);
        if (stop == SAPM_STOP_DIVERGED) status = SAPM_ERR_DIVERGED;
        if (stop == SAPM_STOP_NONE && o->rel_tol > 0.0 &&
            fabs(J - J_old) <= o->rel_tol * SAPM__MAX(fabs(J_old), DBL_MIN))
            stop = SAPM_STOP_REL_TOL;
        if (status == SAPM_OK && sapm__run_checkpoint_due(run)) {
#ifndef SAPM_NO_STDIO
            /* the LM state at the top of the loop: [mu, nu] */
            double state[2];
            const double *seg[1];
            size_t seg_n[1];
            state[0] = mu; state[1] = nu;
            seg[0] = state; seg_n[0] = 2;
            if ((r = sapm__run_checkpoint(run, x, P, seg, seg_n, 1)) != SAPM_OK) {
                status = r; stop = SAPM_STOP_ERROR;
                run->why = "the checkpoint could not be written (checkpoint_path)";
                break;
            }
#endif
        }
    }
done:
    SAPM_FREE(mem);
    if (bstart) SAPM_FREE(bstart);
    *stop_out = stop;
    return status;
}

/* --- schedules ---------------------------------------------------------------------------
 * The polish phase of a run (opt.polish) on the problem, after a first phase that ended
 * with stop: it runs when the first phase handed over (SAPM_STOP_NONE) or converged by its
 * own rule (gradient / relative-change tolerance, line search). */
static int sapm__polish_wanted(const sapm__run *run, sapm_stop_reason stop, sapm_result status)
{
    return run->opt->polish != SAPM_METHOD_NONE && status == SAPM_OK &&
           (stop == SAPM_STOP_NONE || stop == SAPM_STOP_GRAD_TOL || stop == SAPM_STOP_REL_TOL ||
            stop == SAPM_STOP_LINE_SEARCH);
}

static const char *sapm__polish_label(sapm_method m)
{
    switch (m) {
    case SAPM_METHOD_GD: return "GD (polish)";
    case SAPM_METHOD_ADAM: return "Adam (polish)";
    case SAPM_METHOD_LBFGS: return "L-BFGS (polish)";
    case SAPM_METHOD_LM: return "LM (polish)";
    default: return "polish";
    }
}

/* One gradient or LM phase of the run on the problem. */
static sapm_result sapm__phase_on_problem(sapm__run *run, const sapm__problem *pb, sapm_method m,
                                          double *x, sapm_stop_reason *stop)
{
    return m == SAPM_METHOD_LM ? sapm__phase_lm(run, pb, x, stop)
                               : sapm__phase_gradient(run, pb, m, x, stop);
}

/* Hand over to the polish (the hand-over state is logged; the callback may stop there),
 * then run it. */
static sapm_result sapm__run_polish(sapm__run *run, const sapm__problem *pb, double *x,
                                    sapm_stop_reason *stop)
{
    sapm_stop_reason s;
    if (*stop == SAPM_STOP_NONE || *stop == SAPM_STOP_GRAD_TOL || *stop == SAPM_STOP_REL_TOL ||
        *stop == SAPM_STOP_LINE_SEARCH) {
        s = sapm__run_mark(run);
        if (s != SAPM_STOP_NONE) { *stop = s; return run->status; }
    }
    sapm__run_phase(run, run->opt->polish, sapm__polish_label(run->opt->polish), 0);
    return sapm__phase_on_problem(run, pb, run->opt->polish, x, stop);
}

/* Resume the run from opt->resume_from when it is set (sapm__run_resume); on failure the
 * report says why and no iteration has run. */
static sapm_result sapm__run_start(sapm__run *run, sapm_net *net, int kind,
                                   const char *first_label, sapm_report *rep)
{
    run->net = net;
    run->kind = kind;
#ifndef SAPM_NO_STDIO
    if (run->opt->resume_from) {
        const char *why = NULL;
        sapm_result r = sapm__run_resume(run, net, first_label,
                                         sapm__polish_label(run->opt->polish), &why);
        if (r != SAPM_OK) {
            if (run->resume_state) SAPM_FREE(run->resume_state);
            run->resume_state = NULL;
            if (rep) sapm_report_free(rep);
            return sapm__reject(rep, r, why);
        }
    }
#else
    (void)first_label; (void)rep;
#endif
    return SAPM_OK;
}

/* The gradient / LM phases of a run on a problem: the first phase and the polish, or,
 * resumed in the polish, the polish alone. */
static sapm_result sapm__run_phases(sapm__run *run, const sapm__problem *pb, double *x,
                                    const char *first_label, sapm_stop_reason *stop)
{
    const sapm_options *opt = run->opt;
    sapm_result status;
    if (run->resume_phase == 1) {
        sapm__run_phase(run, opt->polish, sapm__polish_label(opt->polish), 0);
        return sapm__phase_on_problem(run, pb, opt->polish, x, stop);
    }
    sapm__run_phase(run, opt->method, first_label, 1);
    status = sapm__phase_on_problem(run, pb, opt->method, x, stop);
    if (sapm__polish_wanted(run, *stop, status)) status = sapm__run_polish(run, pb, x, stop);
    return status;
}

/* The end of a run on a problem: the final true loss and held-out error of x. loss is
 * the last phase's own loss when it recorded one for this iteration (auxiliary methods),
 * else the objective. */
static sapm_result sapm__run_finish(sapm__run *run, const sapm__problem *pb, const double *x,
                                    sapm_stop_reason stop, sapm_result status, const char *why)
{
    double f = NAN, mse = NAN, err = NAN, loss;
    sapm_result r = pb->objective(pb->ctx, x, &f, NULL);
    if (r == SAPM_OK && isfinite(f)) r = sapm__problem_monitor(pb, x, f, &mse, &err);
    else mse = f;
    if (r != SAPM_OK && status == SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; }
    loss = isfinite(run->loss) && (run->method == SAPM_METHOD_PM || run->method == SAPM_METHOD_SAPM)
               ? run->loss : f;
    return sapm__run_end(run, mse, loss, err, stop, status, why);
}

/* A run of one gradient phase (and opt->polish, if any) on a caller's objective fn(ctx, x,
 * f, grad) over x[0..n), with an optional monitor: the engine without a network (the
 * tests use it on functions with known minima). */
static SAPM__UNUSED sapm_result sapm__minimize(
    sapm_method method, sapm__objective_fn fn,
    sapm_result (*monitor)(void *ctx, const double *x, double f, double *mse, double *error),
    void *ctx, double *x, size_t n, const sapm_options *opt, sapm_report *rep)
{
    sapm__problem pb;
    sapm__run run;
    sapm_stop_reason stop = SAPM_STOP_NONE;
    sapm_result r, status;
    const char *msg = NULL;
    if (!fn || !x || !opt) return sapm__reject(rep, SAPM_ERR_NULL_ARGUMENT, "fn, x or opt is NULL");
    if (n == 0) return sapm__reject(rep, SAPM_ERR_INVALID_SIZE, "n must be >= 1");
    if (!sapm__is_gradient_method(method))
        return sapm__reject(rep, SAPM_ERR_INVALID_ARGUMENT, "method must be GD, ADAM or LBFGS");
    if ((r = sapm__check_run_options(opt, &msg)) != SAPM_OK ||
        (r = sapm__check_ls_options(opt, method, &msg)) != SAPM_OK)
        return sapm__reject(rep, r, msg);
    if (opt->polish == SAPM_METHOD_LM)
        return sapm__reject(rep, SAPM_ERR_UNSUPPORTED, "an objective without residuals cannot be polished by LM");
    pb.ctx = ctx; pb.n_params = n; pb.n_res = 0;
    pb.objective = fn; pb.residuals = NULL; pb.monitor = monitor;
    pb.resample = NULL; pb.resample_ctx = NULL; pb.resample_every = 0;
    pb.block_start = NULL; pb.n_blocks = 0;
    sapm__run_begin(&run, opt, rep, 1000);
    sapm__run_phase(&run, method, method == SAPM_METHOD_LBFGS ? "L-BFGS" : sapm_method_name(method), 1);
    status = sapm__phase_gradient(&run, &pb, method, x, &stop);
    if (sapm__polish_wanted(&run, stop, status)) status = sapm__run_polish(&run, &pb, x, &stop);
    return sapm__run_finish(&run, &pb, x, stop, status, NULL);
}

/* ======================================================================================
 * Implementation: PM and SAPM (regression, Algorithm 1)
 *
 * State (arXiv 2504.21501): pre-activation auxiliaries a_{l,n} ~ z_l(x_n) for the hidden layers
 * l = 1..L-1, kept sample-major as A_l (N x n_l), and H_l = [sigma(A_l) 1] (N x (n_l+1),
 * the column of ones carries the bias), H_0 = [X 1]. Residuals
 *     e_l = a_l - W_l h_{l-1} - b_l (l < L),   r = W_L h_{L-1} + b_L - y,
 *     J = (1/N) sum_n [ |r|^2 + sum_l w_l |e_l|^2 ],
 * with w_l = lambda (PM) or w_l = prod_{j>l} ||W_j||_F^2 K^{2(L-l)} (SAPM), w_L = 1.
 *
 * One outer iteration (Algorithm 1):
 *   1. weight blocks l = L..1 (independent once a and w are frozen): the normal equations
 *      (H_{l-1}^T H_{l-1} + (lambda_n + rho) I) Theta = H_{l-1}^T T + rho Theta_old,
 *      Theta = [W_l b_l]^T, T = A_l (l < L) or Y: one SYRK, one GEMM, one Cholesky.
 *   2. auxiliary blocks in the chosen sweep order: per sample, the block loss
 *      f(a_l) = w_l |a_l - c|^2 + w_{l+1} |W_{l+1} sigma(a_l) + b_{l+1} - t|^2,
 *      c = W_l h_{l-1} + b_l, t = a_{l+1} (or y for l = L-1, w_L = 1), lowered by a
 *      gradient step (the paper's form) or a damped Gauss-Newton step (ours, one small SPD solve per
 *      sample), or all layers of a sample at once by a block-tridiagonal GN step (ours).
 *      With pre-activation auxiliaries a_{L-1} is NOT quadratic (it enters the output
 *      residual through sigma), so it has no exact closed form; its GN step is the exact
 *      minimiser of the linearised block loss.
 *   3. w recomputed from the new weights (SAPM).
 * Around it (sapm__phase_aux): the auxiliaries start each outer iteration at the forward
 * pass (resync_every, both presets; the weight solves then fit the stepped targets - this
 * also breaks the odd symmetry of a Xavier/zero-bias start), and, only when opt.polish asks,
 * the run's hand-over to a second method on J_LS (during it the auxiliaries are the forward
 * pass, so the logged loss is J_SAPM = J_LS). A non-finite state restores the last finite
 * weights.
 * ====================================================================================== */

/* --- state -------------------------------------------------------------------------- */

enum { SAPM__AUX_CHUNK = 64 };  /* samples per batched SPD solve in the GN step */

typedef struct sapm__aux {
    sapm_net *net;
    const sapm_options *opt;
    int N, L, nmax, pm;
    double n_total;             /* samples summed over all workers */
    const double *X, *Y;
    int ldx, ldy;
    double K2;                  /* K^2 of the activation (SAPM weights) */
    double **A;                 /* A[l], l = 1..L-1: N x n_l */
    double **H;                 /* H[l], l = 0..L-1: N x (n_l + 1) */
    double *omega;              /* omega[l], l = 1..L */
    double *mu;                 /* LM damping, (L x N): row l for layer l */
    double *red;                /* reduction buffer: Gram + rhs, or per-layer loss sums */
    double *gw;                 /* factor work of the weight solve */
    double *T0, *T1, *T2, *T3;  /* N x (nmax + 1) scratch */
    double *S0, *S1;            /* Jacobi sweep: saved H of the previous layer */
    double *GW, *Mb, *Bb;       /* nmax^2; CHUNK x nmax^2; CHUNK x nmax */
    double *fo;                 /* per-sample block loss before a step */
    double *pv;                 /* power-iteration vectors, L x nmax */
    int *info;                  /* CHUNK */
    void *block;                /* the one allocation */
    size_t bytes;               /* its size (memory report) */
} sapm__aux;

static void sapm__aux_free(sapm__aux *st)
{
    if (st->block) SAPM_FREE(st->block);
    if (st->A) SAPM_FREE(st->A);
    if (st->H) SAPM_FREE(st->H);
    if (st->info) SAPM_FREE(st->info);
    memset(st, 0, sizeof *st);
}

/* Allocate every buffer once for the whole training call. */
static sapm_result sapm__aux_alloc(sapm__aux *st, sapm_net *net, int N, const double *X, int ldx,
                                   const double *Y, int ldy, const sapm_options *opt)
{
    int l, L = net->depth, nm = sapm__net_max_width(net);
    size_t n1 = (size_t)nm + 1, total = 0, off = 0;
    double *p;
    memset(st, 0, sizeof *st);
    st->net = net; st->opt = opt; st->N = N; st->L = L; st->nmax = nm;
    st->X = X; st->Y = Y; st->ldx = ldx; st->ldy = ldy;
    st->pm = opt->method == SAPM_METHOD_PM;
    st->K2 = sapm_activation_lipschitz(net->act);
    st->K2 *= st->K2;
    for (l = 1; l < L; ++l) total += (size_t)N * (size_t)net->widths[l];       /* A */
    for (l = 0; l < L; ++l) total += (size_t)N * ((size_t)net->widths[l] + 1); /* H */
    total += (size_t)L + 1 + (size_t)(L + 1) * (size_t)N;                      /* omega, mu */
    total += n1 * n1 + n1 * (size_t)nm + (size_t)L + 1;                        /* red */
    total += n1 * n1;                                                          /* gw */
    total += 6 * (size_t)N * n1;                                               /* T0-3, S0-1 */
    total += (size_t)nm * nm + (size_t)SAPM__AUX_CHUNK * ((size_t)nm * nm + nm) + (size_t)N;
    total += (size_t)L * nm;                                                  /* pv */
    st->block = sapm__alloc(total, sizeof(double));
    st->A = (double **)sapm__calloc((size_t)L + 1, sizeof(double *));
    st->H = (double **)sapm__calloc((size_t)L + 1, sizeof(double *));
    st->info = (int *)sapm__alloc(SAPM__AUX_CHUNK, sizeof(int));
    if (!st->block || !st->A || !st->H || !st->info) { sapm__aux_free(st); return SAPM_ERR_OUT_OF_MEMORY; }
    st->bytes = total * sizeof(double);
    p = (double *)st->block;
    memset(p, 0, total * sizeof(double));
    for (l = 1; l < L; ++l) { st->A[l] = p + off; off += (size_t)N * (size_t)net->widths[l]; }
    for (l = 0; l < L; ++l) { st->H[l] = p + off; off += (size_t)N * ((size_t)net->widths[l] + 1); }
    st->omega = p + off; off += (size_t)L + 1;
    st->mu = p + off; off += (size_t)(L + 1) * (size_t)N;
    st->red = p + off; off += n1 * n1 + n1 * (size_t)nm + (size_t)L + 1;
    st->gw = p + off; off += n1 * n1;
    st->T0 = p + off; off += (size_t)N * n1;
    st->T1 = p + off; off += (size_t)N * n1;
    st->T2 = p + off; off += (size_t)N * n1;
    st->T3 = p + off; off += (size_t)N * n1;
    st->S0 = p + off; off += (size_t)N * n1;
    st->S1 = p + off; off += (size_t)N * n1;
    st->GW = p + off; off += (size_t)nm * nm;
    st->Mb = p + off; off += (size_t)SAPM__AUX_CHUNK * nm * nm;
    st->Bb = p + off; off += (size_t)SAPM__AUX_CHUNK * nm;
    st->fo = p + off; off += (size_t)N;
    st->pv = p + off; off += (size_t)L * nm;
    SAPM_ASSERT(off == total);
    /* H_0 = [X 1] */
    {
        int d = net->widths[0], i, j;
        for (i = 0; i < N; ++i) {
            double *h = st->H[0] + (size_t)i * (d + 1);
            for (j = 0; j < d; ++j) h[j] = X[(size_t)i * ldx + j];
            h[d] = 1.0;
        }
    }
    {
        double nt = (double)N;
        sapm_result r = sapm__allreduce(opt, &nt, 1);
        if (r != SAPM_OK) { sapm__aux_free(st); return r; }
        st->n_total = nt;
    }
    for (l = 0; l < (L + 1) * N; ++l) st->mu[l] = opt->aux.lm_damping;
    return SAPM_OK;
}

/* out (N x n_l, ld ldo) = Hin W_l^T + 1 b_l^T: the affine map of layer l (1-based) applied
 * to the rows of Hin (N x n_{l-1}, ld ldh). */
static void sapm__aux_affine(const sapm__aux *st, int l, const double *Hin, int ldh, double *out, int ldo)
{
    const sapm_net *net = st->net;
    int n_in = net->widths[l - 1], n_out = net->widths[l], i, j;
    const double *b = net->b[l - 1];
    for (i = 0; i < st->N; ++i)
        for (j = 0; j < n_out; ++j) out[(size_t)i * ldo + j] = b[j];
    sapm_gemm(SAPM_NO_TRANS, SAPM_TRANS, st->N, n_out, n_in, 1.0, Hin, ldh, net->W[l - 1], n_in,
              1.0, out, ldo);
}

/* H_l = [sigma(A_l) 1] for layer l (1..L-1): one vectorised sigma over the contiguous A_l
 * (into T2, free at every call site), then a strided copy (per-row calls measured ~10x
 * slower at width 20). */
static void sapm__aux_set_h(sapm__aux *st, int l)
{
    int n = st->net->widths[l], i, j;
    const double *s = st->T2;
    double *h = st->H[l];
    sapm_activation_eval(st->net->act, (size_t)st->N * n, st->A[l], st->T2, NULL, NULL, NULL);
    for (i = 0; i < st->N; ++i) {
        double *hi = h + (size_t)i * (n + 1);
        for (j = 0; j < n; ++j) hi[j] = s[(size_t)i * n + j];
        hi[n] = 1.0;
    }
}

/* Re-sync: a_l = z_l(x_n), the forward pass of the current weights (then J_SAPM = J_LS). */
static void sapm__aux_sync(sapm__aux *st)
{
    int l;
    for (l = 1; l < st->L; ++l) {
        int n_in = st->net->widths[l - 1];
        sapm__aux_affine(st, l, st->H[l - 1], n_in + 1, st->A[l], st->net->widths[l]);
        sapm__aux_set_h(st, l);
    }
}

/* ||W_l||_2^2 by power iteration on W_l^T W_l (warm-started from the last vector, kept in
 * st->pv), with 1% safety: the largest eigenvalue estimate is a lower bound, so it is
 * scaled up by the residual of the last iteration. */
static double sapm__spectral_norm2(sapm__aux *st, int l)
{
    const double *W = st->net->W[l - 1];
    int no = st->net->widths[l], n = st->net->widths[l - 1], it, i, j;
    double *v = st->pv + (size_t)(l - 1) * st->nmax, *u = st->T3, lam = 0.0, nv;
    for (it = 0; it < 30; ++it) {
        double prev = lam;
        nv = 0.0;
        for (i = 0; i < n; ++i) nv += v[i] * v[i];
        if (!(nv > 0.0)) { for (i = 0; i < n; ++i) v[i] = 1.0; nv = (double)n; }
        nv = sqrt(nv);
        for (i = 0; i < n; ++i) v[i] /= nv;
        for (j = 0; j < no; ++j) { double s = 0.0; for (i = 0; i < n; ++i) s += W[(size_t)j * n + i] * v[i]; u[j] = s; }
        lam = 0.0;
        for (j = 0; j < no; ++j) lam += u[j] * u[j];           /* |W v|^2 <= ||W||_2^2 */
        for (i = 0; i < n; ++i) { double s = 0.0; for (j = 0; j < no; ++j) s += W[(size_t)j * n + i] * u[j]; v[i] = s; }
        if (it > 3 && fabs(lam - prev) <= 1e-6 * lam) break;
    }
    return lam * 1.01;
}

/* w_l: SAPM w_l = prod_{j=l+1..L} ||W_j||_F^2 K^2, w_L = 1; PM w_l = lambda. */
static void sapm__aux_omega(sapm__aux *st)
{
    int l;
    st->omega[st->L] = 1.0;
    for (l = st->L - 1; l >= 1; --l) {
        if (st->pm) { st->omega[l] = st->opt->aux.pm_lambda; continue; }
        {
            size_t i, nw = (size_t)st->net->widths[l + 1] * (size_t)st->net->widths[l];
            const double *W = st->net->W[l];
            double f = 0.0, w;
            if (st->opt->aux.omega_norm == 1) f = sapm__spectral_norm2(st, l + 1);
            else for (i = 0; i < nw; ++i) f += W[i] * W[i];
            w = st->omega[l + 1] * f * st->K2;
            st->omega[l] = w < 1e250 ? w : 1e250; /* cap: keeps w finite at any depth */
        }
    }
}

/* J_SAPM (or J_PM) = (1/N) [sum |r|^2 + sum_l w_l |e_l|^2] at the current state. */
static sapm_result sapm__aux_loss(sapm__aux *st, double *J)
{
    int l, i, j, L = st->L;
    double *s = st->red, tot = 0.0;
    sapm_result r;
    for (l = 1; l <= L; ++l) {
        int n_in = st->net->widths[l - 1], n = st->net->widths[l];
        const double *t = l < L ? st->A[l] : st->Y;
        int ldt = l < L ? n : st->ldy;
        double acc = 0.0;
        sapm__aux_affine(st, l, st->H[l - 1], n_in + 1, st->T0, n);
        for (i = 0; i < st->N; ++i)
            for (j = 0; j < n; ++j) {
                double e = t[(size_t)i * ldt + j] - st->T0[(size_t)i * n + j]; /* e_l or -r */
                acc += e * e;
            }
        s[l - 1] = acc;
    }
    if ((r = sapm__allreduce(st->opt, s, (size_t)L)) != SAPM_OK) return r;
    for (l = 1; l <= L; ++l) tot += st->omega[l] * s[l - 1];
    *J = tot / st->n_total;
    return SAPM_OK;
}

/* --- the blocks of one outer iteration: weights, auxiliaries ------------------------ */

/* Weight block l: closed-form least squares from the normal equations
 *   (H^T H + (lambda_n + rho) I) Theta = H^T T + rho Theta_old,  Theta = [W_l b_l]^T,
 * H = H_{l-1}, T = A_l or Y. lambda_n = ridge * tr(H^T H)/(n+1) is the paper's adaptive
 * ridge; while Cholesky fails it grows tenfold (never stops training). */
static sapm_result sapm__aux_solve_weights(sapm__aux *st, int l)
{
    sapm_net *net = st->net;
    int n = net->widths[l - 1], k = n + 1, mo = net->widths[l], i;
    const double *T = l < st->L ? st->A[l] : st->Y;
    int ldt = l < st->L ? mo : st->ldy;
    double *G = st->red, *R = st->red + (size_t)k * k, scale, lam;
    double *W = net->W[l - 1], *b = net->b[l - 1];
    sapm_result r;
    /* Gram H^T H and right-hand side H^T T: sums over samples, then across workers */
    sapm_syrk(SAPM_TRANS, k, st->N, 1.0, st->H[l - 1], k, 0.0, G, k);
    sapm_gemm(SAPM_TRANS, SAPM_NO_TRANS, k, mo, st->N, 1.0, st->H[l - 1], k, T, ldt, 0.0, R, mo);
    if ((r = sapm__allreduce(st->opt, G, (size_t)k * k + (size_t)k * mo)) != SAPM_OK) return r;
    scale = 0.0;
    for (i = 0; i < k; ++i) scale += G[(size_t)i * k + i];
    scale /= (double)k;
    if (!isfinite(scale) || !sapm__all_finite(R, (size_t)k * mo)) return SAPM_ERR_DIVERGED;
    if (!(scale > 0.0)) scale = 1.0;
    lam = st->opt->aux.ridge * scale;
    return sapm__weight_block_solve(n, mo, G, R, st->gw, lam, 0.0, scale, W, b);
}

/* Auxiliary block l (1..L-1), all samples. Hprev = H_{l-1} to use (the saved old one in a
 * Jacobi sweep). Per sample, with c = W_l h_{l-1} + b_l, t = a_{l+1} (or y),
 *   f(a) = w_l |a - c|^2 + w_{l+1} |W_{l+1} sigma(a) + b_{l+1} - t|^2,
 *   grad f = 2 w_l (a - c) + 2 w_{l+1} D W_{l+1}^T r,   D = diag sigma'(a), r = W_{l+1} sigma(a) + b_{l+1} - t;
 * GD (the paper's form): a -= tau grad f;  GD_SCALED: tau / (2 (w_l + w_{l+1} K^2 ||W_{l+1}||_F^2));
 * GN (ours): (w_l (1 + mu) I + w_{l+1} D W^T W D) delta = -grad f / 2, accepted per sample
 * when f decreases (mu /= 3), else rejected (mu *= 4). */
static sapm_result sapm__aux_step_layer(sapm__aux *st, int l, const double *Hprev)
{
    sapm_net *net = st->net;
    const sapm_aux_options *ao = &st->opt->aux;
    int n = net->widths[l], no = net->widths[l + 1], N = st->N, i, j, s0;
    const double *t = l + 1 < st->L ? st->A[l + 1] : st->Y;
    int ldt = l + 1 < st->L ? no : st->ldy;
    const double *W = net->W[l];
    double wl = st->omega[l], wn = st->omega[l + 1];
    double *a = st->A[l], *C = st->T0, *Rr = st->T1, *Q = st->T2, *S = st->T3;
    double *mu = st->mu + (size_t)l * N;
    /* c = W_l h_{l-1} + b_l;  r = W_{l+1} h_l + b_{l+1} - t;  q = W_{l+1}^T r;  S = sigma'(a) */
    sapm__aux_affine(st, l, Hprev, net->widths[l - 1] + 1, C, n);
    sapm__aux_affine(st, l + 1, st->H[l], n + 1, Rr, no);
    for (i = 0; i < N; ++i)
        for (j = 0; j < no; ++j) Rr[(size_t)i * no + j] -= t[(size_t)i * ldt + j];
    sapm_gemm(SAPM_NO_TRANS, SAPM_NO_TRANS, N, n, no, 1.0, Rr, no, W, n, 0.0, Q, n);
    sapm_activation_eval(net->act, (size_t)N * n, a, NULL, S, NULL, NULL);
    if (ao->update == SAPM_AUX_GD || ao->update == SAPM_AUX_GD_SCALED) {
        double tau = ao->tau;
        if (ao->update == SAPM_AUX_GD_SCALED) {
            double f = 0.0;
            for (i = 0; i < n * no; ++i) f += W[i] * W[i];
            tau /= 2.0 * (wl + wn * st->K2 * f);
        }
        for (i = 0; i < N; ++i)
            for (j = 0; j < n; ++j) {
                size_t q = (size_t)i * n + j;
                a[q] -= tau * (2.0 * wl * (a[q] - C[q]) + 2.0 * wn * S[q] * Q[q]);
            }
        if (!sapm__all_finite(a, (size_t)N * n)) return SAPM_ERR_DIVERGED;
        sapm__aux_set_h(st, l);
        return SAPM_OK;
    }
    /* GN / LM. f before the step, per sample */
    for (i = 0; i < N; ++i) {
        double fa = 0.0, fr = 0.0;
        for (j = 0; j < n; ++j) { double e = a[(size_t)i * n + j] - C[(size_t)i * n + j]; fa += e * e; }
        for (j = 0; j < no; ++j) { double e = Rr[(size_t)i * no + j]; fr += e * e; }
        st->fo[i] = wl * fa + wn * fr;
    }
    /* GW = W_{l+1}^T W_{l+1} (n x n) */
    sapm_syrk(SAPM_TRANS, n, no, 1.0, W, n, 0.0, st->GW, n);
    for (s0 = 0; s0 < N; s0 += SAPM__AUX_CHUNK) {
        int cnt = SAPM__MIN(SAPM__AUX_CHUNK, N - s0), s;
        for (s = 0; s < cnt; ++s) {
            size_t row = (size_t)(s0 + s) * n;
            double *M = st->Mb + (size_t)s * n * n, *B = st->Bb + (size_t)s * n;
            const double *dd = S + row;
            double diag = wl * (1.0 + mu[s0 + s]);
            for (i = 0; i < n; ++i) {
                for (j = 0; j <= i; ++j) M[(size_t)i * n + j] = wn * dd[i] * st->GW[(size_t)i * n + j] * dd[j];
                M[(size_t)i * n + i] += diag;
                B[i] = -(wl * (a[row + i] - C[row + i]) + wn * dd[i] * Q[row + i]);
            }
        }
        sapm_chol_solve_batched(cnt, n, 1, st->Mb, st->Bb, st->info); /* failures: info != 0 */
        /* candidate a + delta into Q's rows (already consumed) */
        for (s = 0; s < cnt; ++s) {
            size_t row = (size_t)(s0 + s) * n;
            for (i = 0; i < n; ++i)
                Q[row + i] = st->info[s] == 0 ? a[row + i] + st->Bb[(size_t)s * n + i] : a[row + i];
        }
    }
    /* f at the candidates: S = sigma(a_new), Rr = W_{l+1} S + b_{l+1} - t */
    sapm_activation_eval(net->act, (size_t)N * n, Q, S, NULL, NULL, NULL);
    sapm__aux_affine(st, l + 1, S, n, Rr, no);
    for (i = 0; i < N; ++i) {
        double fa = 0.0, fr = 0.0, fn;
        for (j = 0; j < n; ++j) { double e = Q[(size_t)i * n + j] - C[(size_t)i * n + j]; fa += e * e; }
        for (j = 0; j < no; ++j) { double e = Rr[(size_t)i * no + j] - t[(size_t)i * ldt + j]; fr += e * e; }
        fn = wl * fa + wn * fr;
        if (fn <= st->fo[i] && isfinite(fn)) {
            memcpy(a + (size_t)i * n, Q + (size_t)i * n, (size_t)n * sizeof(double));
            mu[i] = SAPM__MAX(mu[i] / 3.0, 1e-12);
        } else {
            mu[i] = SAPM__MIN(mu[i] * 4.0, 1e12);
        }
    }
    sapm__aux_set_h(st, l);
    return SAPM_OK;
}

/* One sweep over the auxiliary layers in the chosen order. */
static sapm_result sapm__aux_sweep(sapm__aux *st, sapm_aux_sweep sweep)
{
    int l, L = st->L;
    sapm_result r = SAPM_OK;
    if (L < 2) return SAPM_OK;
    if (sweep == SAPM_SWEEP_JACOBI) {
        /* every layer from the same state: keep the old H_{l-1} before it is overwritten */
        double *prev = st->S0, *cur = st->S1, *tmp;
        for (l = 1; l < L; ++l) {
            size_t sz = (size_t)st->N * ((size_t)st->net->widths[l] + 1);
            memcpy(cur, st->H[l], sz * sizeof(double));
            r = sapm__aux_step_layer(st, l, l == 1 ? st->H[0] : prev);
            if (r != SAPM_OK) return r;
            tmp = prev; prev = cur; cur = tmp;
        }
        return SAPM_OK;
    }
    if (sweep == SAPM_SWEEP_BACKWARD || sweep == SAPM_SWEEP_SYMMETRIC)
        for (l = L - 1; l >= 1 && r == SAPM_OK; --l) r = sapm__aux_step_layer(st, l, st->H[l - 1]);
    if (sweep == SAPM_SWEEP_FORWARD || sweep == SAPM_SWEEP_SYMMETRIC)
        for (l = 1; l < L && r == SAPM_OK; ++l) r = sapm__aux_step_layer(st, l, st->H[l - 1]);
    return r;
}

/* One outer iteration of Algorithm 1: weights L..1, auxiliaries, w. */
static sapm_result sapm__aux_outer(sapm__aux *st, int iter)
{
    int l;
    sapm_result r;
    if (!st->pm && st->opt->aux.resync_every > 0 && iter % st->opt->aux.resync_every == 0) {
        /* re-sync, then auxiliaries first so that the weight solves see the new targets */
        sapm__aux_sync(st);
        if ((r = sapm__aux_sweep(st, st->opt->aux.sweep)) != SAPM_OK) return r;
        for (l = st->L; l >= 1; --l)
            if ((r = sapm__aux_solve_weights(st, l)) != SAPM_OK) return r;
        sapm__aux_omega(st);
        return SAPM_OK;
    }
    for (l = st->L; l >= 1; --l)
        if ((r = sapm__aux_solve_weights(st, l)) != SAPM_OK) return r;
    if ((r = sapm__aux_sweep(st, st->opt->aux.sweep)) != SAPM_OK) return r;
    sapm__aux_omega(st);
    return SAPM_OK;
}

/* --- options, the edge-of-chaos rescaling, the phase ---------------------------------- */

SAPMDEF void sapm_aux_default_options(sapm_aux_options *a)
{
    if (!a) return;
    memset(a, 0, sizeof *a);
    a->pm_lambda = 1.0;
    a->tau = 1e-2;
    a->ridge = 1e-10;
    a->update = SAPM_AUX_GN;
    a->sweep = SAPM_SWEEP_BACKWARD;
    a->lm_damping = 1e-2;
    a->omega_norm = 1;
    a->resync_every = 1;
}

SAPMDEF void sapm_aux_paper_options(sapm_aux_options *a)
{
    if (!a) return;
    a->update = SAPM_AUX_GD_SCALED;   /* a gradient step, rate relative to the curvature */
    a->tau = 1.0;
    a->sweep = SAPM_SWEEP_JACOBI;
    a->omega_norm = 0;
    a->resync_every = 1;              /* auxiliaries start each outer iteration at z_l(x_n) */
}

/* max over hidden layers l = 2..L-1 of the mean-field gain chi_l = (||W_l||_F^2 / n_l)
 * mean_n,i sigma'(a_{l-1,n,i})^2 (order-to-chaos criterion; chi > 1: chaotic). Local sums
 * over samples pass through the all-reduce. */
static sapm_result sapm__aux_max_chi(sapm__aux *st, double *chi_max)
{
    int l;
    double best = 0.0;
    for (l = 2; l < st->L; ++l) {
        int n = st->net->widths[l - 1], mo = st->net->widths[l];
        size_t q, nq = (size_t)st->N * (size_t)n;
        const double *W = st->net->W[l - 1];
        double fw = 0.0, buf[2];
        sapm_result r;
        for (q = 0; q < (size_t)mo * (size_t)n; ++q) fw += W[q] * W[q];
        sapm_activation_eval(st->net->act, nq, st->A[l - 1], NULL, st->T0, NULL, NULL);
        buf[0] = 0.0; buf[1] = (double)nq;
        for (q = 0; q < nq; ++q) buf[0] += st->T0[q] * st->T0[q];
        if ((r = sapm__allreduce(st->opt, buf, 2)) != SAPM_OK) return r;
        if (buf[1] > 0.0) best = SAPM__MAX(best, fw / (double)mo * buf[0] / buf[1]);
    }
    *chi_max = best;
    return SAPM_OK;
}

/* Edge-of-chaos rescaling (ours, sapm_net_rescale_chaos): for l = 2..L-1 in order, with the
 * auxiliaries at the forward pass, W_l <- W_l / sqrt(chi_l) when chi_l > 1, so that every
 * hidden layer ends with chi_l <= 1 (up to the change of sigma' it causes downstream,
 * which the sequential order accounts for). The auxiliaries are re-synced after each layer. */
static void sapm__aux_rescale_chaos(sapm__aux *st)
{
    int l;
    for (l = 2; l < st->L; ++l) {
        int n = st->net->widths[l - 1], mo = st->net->widths[l];
        size_t q, nq = (size_t)st->N * (size_t)n;
        double *W = st->net->W[l - 1], fw = 0.0, buf[2], chi;
        for (q = 0; q < (size_t)mo * (size_t)n; ++q) fw += W[q] * W[q];
        sapm_activation_eval(st->net->act, nq, st->A[l - 1], NULL, st->T0, NULL, NULL);
        buf[0] = 0.0; buf[1] = (double)nq;
        for (q = 0; q < nq; ++q) buf[0] += st->T0[q] * st->T0[q];
        if (sapm__allreduce(st->opt, buf, 2) != SAPM_OK || !(buf[1] > 0.0)) return;
        chi = fw / (double)mo * buf[0] / buf[1];
        if (chi > 1.0) {
            double f = 1.0 / sqrt(chi);
            for (q = 0; q < (size_t)mo * (size_t)n; ++q) W[q] *= f;
        }
        sapm__aux_sync(st);
    }
}

SAPMDEF sapm_result sapm_net_rescale_chaos(sapm_net *net, int N, const double *X, int ldx,
                                           double *chi_max)
{
    sapm__aux st;
    sapm_options o;
    double c = 0.0;
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (!X) return SAPM_ERR_NULL_ARGUMENT;
    if (N <= 0) return SAPM_ERR_INVALID_SIZE;
    if (ldx < net->widths[0]) return SAPM_ERR_SIZE_MISMATCH;
    if (!sapm__matrix_finite(X, N, net->widths[0], ldx)) return SAPM_ERR_NONFINITE_INPUT;
    o = sapm_default_options(SAPM_METHOD_SAPM);
    /* Y is never read by the forward sync and the gain; X stands in for it */
    r = sapm__aux_alloc(&st, net, N, X, ldx, X, ldx, &o);
    if (r != SAPM_OK) return r;
    sapm__aux_sync(&st);
    r = sapm__aux_max_chi(&st, &c);
    if (r == SAPM_OK) sapm__aux_rescale_chaos(&st);
    sapm__aux_free(&st);
    if (chi_max) *chi_max = c;
    return r;
}

/* Validation of the PM/SAPM fields of sapm_aux_options (the PM/SAPM phase on data). */
static sapm_result sapm__aux_check_options(const sapm_options *opt, const char **msg)
{
    const sapm_aux_options *a = &opt->aux;
    SAPM__BAD(opt->method == SAPM_METHOD_PM && (!(a->pm_lambda > 0.0) || !isfinite(a->pm_lambda)),
              "aux.pm_lambda must be finite and > 0 (PM phase)");
    SAPM__BAD((int)a->update < 0 || a->update >= SAPM_AUX_UPDATE_COUNT, "aux.update is not a sapm_aux_update (PM/SAPM phase)");
    SAPM__BAD((int)a->sweep < 0 || a->sweep >= SAPM_SWEEP_COUNT, "aux.sweep is not a sapm_aux_sweep (PM/SAPM phase)");
    SAPM__BAD((a->update == SAPM_AUX_GD || a->update == SAPM_AUX_GD_SCALED) &&
                  (!(a->tau > 0.0) || !isfinite(a->tau)),
              "aux.tau must be finite and > 0 with gradient steps (PM/SAPM phase)");
    SAPM__BAD(!(a->ridge >= 0.0) || !isfinite(a->ridge), "aux.ridge must be finite and >= 0 (PM/SAPM phase)");
    SAPM__BAD(!(a->lm_damping >= 0.0) || !isfinite(a->lm_damping), "aux.lm_damping must be finite and >= 0 (PM/SAPM phase)");
    SAPM__BAD(a->omega_norm != 0 && a->omega_norm != 1, "aux.omega_norm must be 0 or 1 (SAPM phase)");
    SAPM__BAD(a->resync_every < 0, "aux.resync_every must be >= 0 (SAPM phase)");
    return SAPM_OK;
}

/* A checkpoint of the PM/SAPM phase at the end of an outer iteration: [mse_prev], the
 * auxiliaries A[1..L-1] (contiguous), the per-sample damping mu ((L + 1) N) and the power-
 * iteration vectors pv (L nmax); H and omega follow from A and the weights on resume. */
static size_t sapm__aux_state_count(const sapm__aux *st)
{
    size_t a = 0;
    int l;
    for (l = 1; l < st->L; ++l) a += (size_t)st->N * (size_t)st->net->widths[l];
    return 1 + a + (size_t)(st->L + 1) * (size_t)st->N + (size_t)st->L * (size_t)st->nmax;
}

static sapm_result sapm__aux_checkpoint(sapm__run *run, const sapm__aux *st, double mse_prev)
{
#ifndef SAPM_NO_STDIO
    const double *seg[4];
    size_t seg_n[4];
    sapm_result r;
    seg[0] = &mse_prev; seg_n[0] = 1;
    seg[1] = st->L > 1 ? st->A[1] : &mse_prev;
    seg_n[1] = sapm__aux_state_count(st) - 1 - (size_t)(st->L + 1) * (size_t)st->N -
               (size_t)st->L * (size_t)st->nmax;
    seg[2] = st->mu; seg_n[2] = (size_t)(st->L + 1) * (size_t)st->N;
    seg[3] = st->pv; seg_n[3] = (size_t)st->L * (size_t)st->nmax;
    if ((r = sapm__run_checkpoint(run, st->net->params, st->net->n_params, seg, seg_n, 4)) != SAPM_OK)
        run->why = "the checkpoint could not be written (checkpoint_path)";
    return r;
#else
    (void)run; (void)st; (void)mse_prev;
    return SAPM_ERR_NOT_COMPILED_IN;
#endif
}

/* The PM/SAPM phase on data: outer iterations of Algorithm 1 (sapm__aux_outer) until the
 * run stops or hands over to the polish by the run's rules (phase_iters, phase_time,
 * rel_tol). Logged:
 * loss = J_SAPM / J_PM, mse = J_LS of the forward network, error = the problem's held-out
 * error. A non-finite state restores the last finite weights (status SAPM_ERR_DIVERGED). */
static sapm_result sapm__phase_aux(sapm__run *run, sapm__aux *st, const sapm__problem *pb,
                                   sapm_stop_reason *stop_out)
{
    const sapm_options *opt = run->opt;
    sapm_net *net = st->net;
    sapm_stop_reason stop;
    sapm_result r, status = SAPM_OK;
    double J = 0.0, mse = 0.0, mse_prev, err = NAN, *good;
    *stop_out = SAPM_STOP_ERROR;
    good = (double *)sapm__alloc(net->n_params, sizeof(double));
    if (!good) return SAPM_ERR_OUT_OF_MEMORY;
    memcpy(good, net->params, net->n_params * sizeof(double));
    /* initial state: auxiliaries = forward pass, so J = J_LS */
    sapm__aux_sync(st);
    sapm__aux_omega(st);
    r = sapm__aux_loss(st, &J);
    if (r == SAPM_OK) r = pb->objective(pb->ctx, net->params, &mse, NULL);
    if (r == SAPM_OK && isfinite(mse)) r = sapm__problem_monitor(pb, net->params, mse, &mse, &err);
    if (r != SAPM_OK) { SAPM_FREE(good); return r; }
    if (run->resume_state && run->resume_phase == run->phase_index) {
        /* a resumed run: the auxiliaries, damping and power vectors of the checkpoint (its
         * iteration 0 was done by the run that wrote it) */
        const double *s = run->resume_state;
        size_t off = 1, a;
        int l;
        run->resume_phase = -1;
        if (run->resume_n != sapm__aux_state_count(st)) {
            SAPM_FREE(good);
            run->why = "resume_from: the saved PM/SAPM state does not fit";
            return SAPM_ERR_CORRUPT;
        }
        mse_prev = s[0];
        for (l = 1; l < st->L; ++l, off += a) {
            a = (size_t)st->N * (size_t)net->widths[l];
            memcpy(st->A[l], s + off, a * sizeof(double));
            sapm__aux_set_h(st, l);
        }
        a = (size_t)(st->L + 1) * (size_t)st->N;
        memcpy(st->mu, s + off, a * sizeof(double));
        memcpy(st->pv, s + off + a, (size_t)st->L * (size_t)st->nmax * sizeof(double));
        sapm__aux_omega(st);
        stop = SAPM_STOP_NONE;
    } else {
        stop = sapm__run_step(run, 0, mse, J, err, 1);
        mse_prev = mse;
        if (stop != SAPM_STOP_DIVERGED && sapm__run_checkpoint_due(run) &&
            (r = sapm__aux_checkpoint(run, st, mse_prev)) != SAPM_OK) {   /* asked for at iteration 0 */
            status = r; stop = SAPM_STOP_ERROR;
        }
    }
    while (stop == SAPM_STOP_NONE && !sapm__run_handover(run)) {
        int wanted;
        r = sapm__aux_outer(st, run->iter + 1);
        if (r == SAPM_OK) r = sapm__aux_loss(st, &J);
        if (r == SAPM_OK) r = pb->objective(pb->ctx, net->params, &mse, NULL);
        if (r == SAPM_ERR_DIVERGED || (r == SAPM_OK && (!isfinite(J) || !isfinite(mse)))) {
            stop = SAPM_STOP_DIVERGED;
            break;
        }
        if (r != SAPM_OK) { status = r; stop = SAPM_STOP_ERROR; break; }
        wanted = sapm__run_logs_next(run);
        err = NAN;
        if (wanted && (r = sapm__problem_monitor(pb, net->params, mse, &mse, &err)) != SAPM_OK) {
            status = r; stop = SAPM_STOP_ERROR; break;
        }
        stop = sapm__run_step(run, 1, mse, J, err, wanted);
        if (stop == SAPM_STOP_DIVERGED) break;
        memcpy(good, net->params, net->n_params * sizeof(double));
        if (stop == SAPM_STOP_NONE && opt->rel_tol > 0.0 &&
            fabs(mse - mse_prev) <= opt->rel_tol * SAPM__MAX(fabs(mse_prev), DBL_MIN))
            stop = SAPM_STOP_REL_TOL;
        mse_prev = mse;
        if (sapm__run_checkpoint_due(run) && (r = sapm__aux_checkpoint(run, st, mse_prev)) != SAPM_OK) {
            status = r; stop = SAPM_STOP_ERROR;
        }
    }
    if (stop == SAPM_STOP_DIVERGED) {
        /* restore the last weights whose losses were finite */
        memcpy(net->params, good, net->n_params * sizeof(double));
        sapm__aux_sync(st);
        sapm__aux_omega(st);
        if (sapm__aux_loss(st, &J) != SAPM_OK || pb->objective(pb->ctx, net->params, &mse, NULL) != SAPM_OK) J = mse = NAN;
        run->loss = J;
        status = SAPM_ERR_DIVERGED;
    }
    SAPM_FREE(good);
    *stop_out = stop;
    return status;
}

/* --- step API ----------------------------------------------------------------------- */
struct sapm_aux_state {
    sapm__aux st;
    sapm__data_problem data;    /* J_LS of the forward network */
    sapm_options opt;           /* a copy: the state outlives the caller's struct */
    int iter;
};

SAPMDEF sapm_result sapm_aux_create(sapm_aux_state **out, sapm_net *net, int N, const double *X,
                                    int ldx, const double *Y, int ldy, const sapm_options *opt)
{
    sapm_aux_state *s;
    const char *msg = NULL;
    sapm_result r;
    if (!out) return SAPM_ERR_NULL_ARGUMENT;
    *out = NULL;
    if (!opt) return SAPM_ERR_NULL_ARGUMENT;
    if ((r = sapm__check_data(net, N, X, ldx, Y, ldy)) != SAPM_OK) return r;
    if (opt->method != SAPM_METHOD_PM && opt->method != SAPM_METHOD_SAPM) return SAPM_ERR_INVALID_ARGUMENT;
    if ((r = sapm__aux_check_options(opt, &msg)) != SAPM_OK) return r;
    if (!sapm__all_finite(net->params, net->n_params)) return SAPM_ERR_NONFINITE_INPUT;
    s = (sapm_aux_state *)sapm__calloc(1, sizeof *s);
    if (!s) return SAPM_ERR_OUT_OF_MEMORY;
    s->opt = *opt;
    if ((r = sapm__aux_alloc(&s->st, net, N, X, ldx, Y, ldy, &s->opt)) != SAPM_OK) { SAPM_FREE(s); return r; }
    if ((r = sapm__data_problem_init(&s->data, net, N, X, ldx, Y, ldy, &s->opt)) != SAPM_OK) {
        sapm__aux_free(&s->st);
        SAPM_FREE(s);
        return r;
    }
    sapm__aux_sync(&s->st);
    sapm__aux_omega(&s->st);
    *out = s;
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_aux_step(sapm_aux_state *s)
{
    if (!s) return SAPM_ERR_NULL_ARGUMENT;
    return sapm__aux_outer(&s->st, ++s->iter);
}

SAPMDEF sapm_result sapm_aux_losses(sapm_aux_state *s, double *j_aux, double *j_ls)
{
    sapm_result r = SAPM_OK;
    if (!s) return SAPM_ERR_NULL_ARGUMENT;
    if (j_aux && (r = sapm__aux_loss(&s->st, j_aux)) != SAPM_OK) return r;
    if (j_ls) r = sapm__data_objective(&s->data, s->st.net->params, j_ls, NULL);
    return r;
}

SAPMDEF size_t sapm_aux_bytes(const sapm_aux_state *s) { return s ? s->st.bytes + sizeof *s : 0; }

SAPMDEF void sapm_aux_destroy(sapm_aux_state *s)
{
    if (!s) return;
    sapm__aux_free(&s->st);
    sapm__data_problem_free(&s->data);
    SAPM_FREE(s);
}

/* ======================================================================================
 * Implementation: PDE problems - samplers and the evaluated problem data
 * ====================================================================================== */

/* A box [lo, hi] in R^d: finite, lo_i < hi_i, and a finite width hi_i - lo_i (the
 * samplers scale by it). */
static sapm_result sapm__box_check(int d, const double *lo, const double *hi)
{
    int i;
    if (!lo || !hi) return SAPM_ERR_NULL_ARGUMENT;
    if (d < 1 || d > SAPM_PDE_MAX_DIM) return SAPM_ERR_INVALID_SIZE;
    for (i = 0; i < d; ++i) {
        if (!isfinite(hi[i] - lo[i])) return SAPM_ERR_NONFINITE_INPUT;
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

/* The first d primes into primes[0..d) by a sieve of Eratosthenes up to the bound
 * p_d < d (ln d + ln ln d) for d >= 6 (Rosser's theorem; 15 covers d < 6): O(d log d log log d)
 * time and d (ln d + ln ln d) bytes, where trial division took ~d^2.8. */
static sapm_result sapm__first_primes(int d, int *primes)
{
    double ld = log((double)d);
    size_t bound = d < 6 ? 15 : (size_t)((double)d * (ld + log(ld))) + 1, i, j;
    unsigned char *composite = (unsigned char *)sapm__calloc(bound + 1, 1);
    int found = 0;
    if (!composite) return SAPM_ERR_OUT_OF_MEMORY;
    for (i = 2; i <= bound && found < d; ++i) {
        if (composite[i]) continue;
        primes[found++] = (int)i;
        if (i <= bound / i)
            for (j = i * i; j <= bound; j += i) composite[j] = 1;
    }
    SAPM_FREE(composite);
    SAPM_ASSERT(found == d);
    return SAPM_OK;
}

/* Bases below this scramble with a full Fisher-Yates over their digits from the call's
 * one stream; larger bases with the sparse form below (sapm__halton_sparse_perm). */
#define SAPM__HALTON_FULL_PERM 16384

/* The digit permutation of one large base p, restricted to the digits 0..m that indices
 * <= m can contain (m < p): the first m steps of a forward Fisher-Yates over 1..p-1 (step
 * t swaps positions t and a uniform u in t..p-1, so positions 1..m are final after step m,
 * whatever p), the displaced entries above m kept in an open-addressing map. O(m) time and
 * memory where the full permutation costs O(p) per coordinate (d^2 log d in all). */
static sapm_result sapm__halton_sparse_perm(int p, int m, sapm_rng *rng, int *perm)
{
    size_t cap = 16, mask, h;
    int *key, *val, t;
    while (cap < 2 * (size_t)m + 2) cap <<= 1;
    key = (int *)sapm__calloc(2 * cap, sizeof(int));  /* key 0 = empty (keys are > m >= 1) */
    if (!key) return SAPM_ERR_OUT_OF_MEMORY;
    val = key + cap;
    mask = cap - 1;
    for (t = 0; t <= m; ++t) perm[t] = t;
    for (t = 1; t <= m && t < p - 1; ++t) {
        int u = t + (int)(sapm_rng_uniform(rng) * (double)(p - t)), vt = perm[t];
        if (u > p - 1) u = p - 1;
        if (u <= m) {
            perm[t] = perm[u]; perm[u] = vt;
        } else {
            h = (size_t)((unsigned)u * 2654435761u) & mask;
            while (key[h] != 0 && key[h] != u) h = (h + 1) & mask;
            if (key[h] == 0) { key[h] = u; val[h] = u; }   /* untouched position: identity */
            perm[t] = val[h]; val[h] = vt;
        }
    }
    SAPM_FREE(key);
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_sample_halton(int d, const double *lo, const double *hi, int n,
                                       int skip, uint64_t seed, double *X)
{
    int i, j, kmax;
    int *perm = NULL, *primes;
    sapm_rng rng;
    sapm_result r = sapm__box_check(d, lo, hi);
    if (r != SAPM_OK) return r;
    if (!X) return SAPM_ERR_NULL_ARGUMENT;
    if (n <= 0 || skip < 0 || (double)skip + (double)n > 2147483647.0) return SAPM_ERR_INVALID_SIZE;
    kmax = skip + n;                             /* indices run over skip + 1 .. kmax */
    primes = (int *)sapm__alloc((size_t)d, sizeof(int));
    if (!primes) return SAPM_ERR_OUT_OF_MEMORY;
    if ((r = sapm__first_primes(d, primes)) != SAPM_OK) { SAPM_FREE(primes); return r; }
    if (seed != 0) sapm_rng_seed(&rng, seed);
    for (i = 0; i < d; ++i) {
        int p = primes[i];
        double shift = 0.0;
        if (seed != 0 && p < SAPM__HALTON_FULL_PERM) {
            /* Fisher-Yates over digits 1..p-1, digit 0 fixed (finite expansions stay finite) */
            int t;
            perm = (int *)sapm__alloc((size_t)p, sizeof(int));
            if (!perm) { SAPM_FREE(primes); return SAPM_ERR_OUT_OF_MEMORY; }
            for (t = 0; t < p; ++t) perm[t] = t;
            for (t = p - 1; t > 1; --t) {
                int u = 1 + (int)(sapm_rng_uniform(&rng) * (double)t); /* in 1..t */
                int tmp = perm[t];
                if (u > t) u = t;
                perm[t] = perm[u]; perm[u] = tmp;
            }
            shift = sapm_rng_uniform(&rng);
        } else if (seed != 0) {
            /* a large base: its own stream (seeded by seed and i, so the points do not
             * depend on n), the shift, then only the digits that occur (0..min(p-1, kmax)) */
            int m = SAPM__MIN(p - 1, kmax);
            sapm_rng ri;
            sapm_rng_seed(&ri, seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(i + 1)));
            shift = sapm_rng_uniform(&ri);
            perm = (int *)sapm__alloc((size_t)m + 1, sizeof(int));
            if (!perm) { SAPM_FREE(primes); return SAPM_ERR_OUT_OF_MEMORY; }
            if ((r = sapm__halton_sparse_perm(p, m, &ri, perm)) != SAPM_OK) {
                SAPM_FREE(perm); SAPM_FREE(primes); return r;
            }
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
    SAPM_FREE(primes);
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
    /* conditions beyond Dirichlet: boundary row m is ba_m u + bdir_m . grad u - g_m, and
     * Xb, g, M are then the rows (a point with two conditions gives two rows) */
    const double *ba;       /* M coefficients of u, NULL: all 1 (Dirichlet only) */
    const double *bdir;     /* M x d: b times the normal (or the axis), NULL: no derivative */
    const double *lapw;     /* d weights of the Laplacian, NULL: all 1 */
    const sapm_pde *pde;    /* the residual callback, its order and user data */
    sapm_pde_residual_fn res; /* nonlinear residual (c, kappa, c0, f then NULL) */
    int res_order;          /* 1 or 2 */
    int m, q;               /* unknowns (network outputs) and equations per interior point
                               (0 means 1: read them through SAPM__PDE_M / SAPM__PDE_Q) */
    const int *bcomp;       /* M components of the boundary rows, NULL: all 0 */
    int n_theta;            /* trainable coefficients: parameters n_params .. + n_theta */
    int K;                  /* measurements u(Xd_k) = ud_k, weight gamma */
    const double *Xd, *ud;
    double gamma;
    const char *why;        /* the sentence when the build failed on a check of its own */
} sapm__pde_data;

#define SAPM__PDE_M(p) ((p)->m > 1 ? (p)->m : 1)
#define SAPM__PDE_Q(p) ((p)->q > 1 ? (p)->q : 1)

/* Whether the problem is the linear Dirichlet one that SAPM-PINN / LySep / PM solve;
 * else the sentence why not. */
static const char *sapm__pde_nonlinear_reason(const sapm__pde_data *p)
{
    if (p->res) return "PM and SAPM on a PDE need the linear operator (their layer blocks are "
                       "closed-form solves): a nonlinear pde->residual trains with GD, ADAM, LBFGS or LM";
    if (p->ba || p->bdir) return "PM and SAPM on a PDE take Dirichlet data only (pde->bc has a "
                                 "Neumann, Robin or rate condition): use GD, ADAM, LBFGS or LM";
    if (p->lapw) return "PM and SAPM on a PDE need the full Laplacian (pde->lap_weights is set): "
                        "use GD, ADAM, LBFGS or LM";
    if (p->K > 0) return "PM and SAPM on a PDE do not fit measurements (pde->n_data > 0): use GD, "
                         "ADAM, LBFGS or LM";
    if (p->m > 1 || p->q > 1) return "PM and SAPM on a PDE solve scalar problems (pde->m or n_eq > 1): use "
                                     "GD, ADAM, LBFGS or LM";
    return NULL;
}

#define SAPM__WHY(cond, code, sentence) \
    do { if (cond) { if (why) *why = (sentence); return (code); } } while (0)

/* Checks a problem description alone (no points); *why (may be NULL) gets the sentence. */
static sapm_result sapm__pde_check_why(const sapm_pde *pde, const char **why)
{
    int i, k, d;
    SAPM__WHY(!pde, SAPM_ERR_NULL_ARGUMENT, "pde is NULL");
    d = pde->d;
    SAPM__WHY(d < 1 || d > SAPM_PDE_MAX_DIM, SAPM_ERR_INVALID_SIZE, "pde->d must lie in 1..SAPM_PDE_MAX_DIM");
    SAPM__WHY(!pde->f && !pde->residual, SAPM_ERR_NULL_ARGUMENT, "pde has no f or g: f is NULL and there is no pde->residual");
    SAPM__WHY(!pde->g && !pde->bc, SAPM_ERR_NULL_ARGUMENT, "pde has no f or g: g is NULL and there is no pde->bc");
    if (!pde->c_fn && pde->c_const)
        for (i = 0; i < d; ++i)
            SAPM__WHY(!isfinite(pde->c_const[i]), SAPM_ERR_NONFINITE_INPUT, "pde->c_const contains NaN or Inf");
    SAPM__WHY(!isfinite(pde->kappa_const) || !isfinite(pde->c0_const), SAPM_ERR_NONFINITE_INPUT,
              "pde->kappa_const or c0_const is NaN or Inf");
    if (pde->lap_weights)
        for (i = 0; i < d; ++i)
            SAPM__WHY(!isfinite(pde->lap_weights[i]), SAPM_ERR_NONFINITE_INPUT, "pde->lap_weights contains NaN or Inf");
    SAPM__WHY(pde->residual && pde->residual_order != 1 && pde->residual_order != 2,
              SAPM_ERR_INVALID_ARGUMENT, "pde->residual_order must be 1 (u, grad u) or 2 (and the Laplacian)");
    SAPM__WHY(pde->m < 0 || pde->m > SAPM_PDE_MAX_UNKNOWNS || pde->n_eq < 0 || pde->n_eq > SAPM_PDE_MAX_UNKNOWNS,
              SAPM_ERR_INVALID_SIZE, "pde->m and pde->n_eq must lie in 0..SAPM_PDE_MAX_UNKNOWNS (0 means 1)");
    SAPM__WHY((pde->m > 1 || pde->n_eq > 1) && !pde->residual, SAPM_ERR_INVALID_ARGUMENT,
              "a system (pde->m or n_eq > 1) needs pde->residual (the linear operator is scalar)");
    SAPM__WHY(pde->n_theta < 0 || pde->n_theta > SAPM_PDE_MAX_THETA, SAPM_ERR_INVALID_SIZE,
              "pde->n_theta must lie in 0..SAPM_PDE_MAX_THETA");
    if (pde->n_theta > 0) {
        SAPM__WHY(!pde->residual, SAPM_ERR_INVALID_ARGUMENT,
                  "pde->n_theta > 0 needs pde->residual (the coefficients enter through it)");
        SAPM__WHY(!pde->theta, SAPM_ERR_NULL_ARGUMENT, "pde->theta is NULL with n_theta > 0");
        SAPM__WHY(!sapm__all_finite(pde->theta, (size_t)pde->n_theta), SAPM_ERR_NONFINITE_INPUT,
                  "pde->theta contains NaN or Inf");
    }
    SAPM__WHY(pde->n_data < 0, SAPM_ERR_INVALID_SIZE, "pde->n_data must be >= 0");
    if (pde->n_data > 0) {
        SAPM__WHY(!pde->X_data || !pde->u_data, SAPM_ERR_NULL_ARGUMENT, "pde->X_data or u_data is NULL with n_data > 0");
        SAPM__WHY(!sapm__matrix_finite(pde->X_data, pde->n_data, d, d) ||
                      !sapm__all_finite(pde->u_data, (size_t)pde->n_data),
                  SAPM_ERR_NONFINITE_INPUT, "pde->X_data or u_data contains NaN or Inf");
    }
    SAPM__WHY(!isfinite(pde->data_weight) || pde->data_weight < 0.0, SAPM_ERR_INVALID_ARGUMENT,
              "pde->data_weight must be finite and >= 0");
    SAPM__WHY(pde->n_bc < 0 || (pde->bc && pde->n_bc == 0) || (!pde->bc && pde->n_bc > 0),
              SAPM_ERR_INVALID_SIZE, "pde->n_bc must be >= 1 with pde->bc and 0 without");
    if (pde->bc) {
        SAPM__WHY(!pde->box_lo || !pde->box_hi, SAPM_ERR_NULL_ARGUMENT, "pde->bc needs pde->box_lo and box_hi");
        SAPM__WHY(sapm__box_check(d, pde->box_lo, pde->box_hi) != SAPM_OK, SAPM_ERR_INVALID_ARGUMENT,
                  "pde->box_lo, box_hi must be finite with box_lo[i] < box_hi[i]");
        for (k = 0; k < pde->n_bc; ++k) {
            const sapm_pde_bc *c = &pde->bc[k];
            SAPM__WHY(c->face < 0 || c->face >= 2 * d, SAPM_ERR_INVALID_ARGUMENT,
                      "pde->bc[k].face must lie in 0..2d-1 (2i: x_i = lo_i, 2i+1: x_i = hi_i)");
            SAPM__WHY((int)c->kind < 0 || (int)c->kind >= (int)SAPM_BC_KIND_COUNT, SAPM_ERR_INVALID_ARGUMENT,
                      "pde->bc[k].kind is not a sapm_bc_kind");
            SAPM__WHY(c->kind == SAPM_BC_ROBIN && (!isfinite(c->a) || !isfinite(c->b) || (c->a == 0.0 && c->b == 0.0)),
                      SAPM_ERR_INVALID_ARGUMENT, "pde->bc[k] (Robin) needs finite a, b, not both 0");
            SAPM__WHY(!c->h && !pde->g, SAPM_ERR_NULL_ARGUMENT, "pde->bc[k].h and pde->g are both NULL");
            SAPM__WHY(c->component < 0 || c->component >= (pde->m > 1 ? pde->m : 1), SAPM_ERR_INVALID_ARGUMENT,
                      "pde->bc[k].component must lie in 0..pde->m-1");
        }
    }
    return SAPM_OK;
}

static sapm_result sapm__pde_check(const sapm_pde *pde)
{
    return sapm__pde_check_why(pde, NULL);
}

/* The face of the box whose conditions boundary point x takes (see sapm_pde.bc): the
 * lowest-numbered face through x with a condition (nbc[f] > 0), -1 for a point on faces
 * without any, -2 for a point on no face. */
static int sapm__bc_face(const sapm_pde *pde, const int *nbc, const double *x)
{
    int i, on = 0;
    for (i = 0; i < pde->d; ++i) {
        double lo = pde->box_lo[i], hi = pde->box_hi[i], tol = 1e-10 * (hi - lo);
        if (fabs(x[i] - lo) <= tol) { if (nbc[2 * i] > 0) return 2 * i; on = 1; }
        if (fabs(x[i] - hi) <= tol) { if (nbc[2 * i + 1] > 0) return 2 * i + 1; on = 1; }
    }
    return on ? -1 : -2;
}

/* Network shape for a PDE in d dimensions with m unknowns: n_0 = d, n_L = m. */
static sapm_result sapm__pde_net_check_m(const sapm_net *net, int d, int m)
{
    sapm_result r = sapm__net_check(net);
    if (r != SAPM_OK) return r;
    if (net->widths[0] != d || net->widths[net->depth] != m) return SAPM_ERR_SIZE_MISMATCH;
    return SAPM_OK;
}

/* ... for a scalar PDE: n_L = 1. */
static sapm_result sapm__pde_net_check(const sapm_net *net, int d)
{
    return sapm__pde_net_check_m(net, d, 1);
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

/* The boundary rows of pde->bc (see sapm_pde.bc): counts the rows (rows == NULL) or fills
 * Xr (rows x d), ba, bdir (rows x d) and g; *all_dirichlet = every row is u = h. */
static sapm_result sapm__bc_rows(const sapm_pde *pde, const int *nbc, int M, const double *Xb,
                                 int *rows, double *Xr, double *ba, double *bdir, double *g,
                                 int *comp, int *all_dirichlet, const char **why)
{
    int d = pde->d, m, k, nr = 0;
    *all_dirichlet = 1;
    for (m = 0; m < M; ++m) {
        const double *x = Xb + (size_t)m * d;
        int f = sapm__bc_face(pde, nbc, x);
        SAPM__WHY(f == -2, SAPM_ERR_INVALID_ARGUMENT,
                  "a row of Xb lies on no face of the box pde->box_lo, box_hi (tolerance 1e-10 of its width)");
        if (f == -1) {                      /* faces without conditions: u = g */
            SAPM__WHY(!pde->g, SAPM_ERR_NULL_ARGUMENT,
                      "a row of Xb lies only on faces without a condition in pde->bc, and pde->g is NULL");
            SAPM__WHY(pde->m > 1, SAPM_ERR_INVALID_ARGUMENT,
                      "a row of Xb lies only on faces without a condition in pde->bc (a system needs one per face)");
            if (Xr) {
                double v = pde->g(x, d, pde->user_data);
                SAPM__WHY(!isfinite(v), SAPM_ERR_CALLBACK, "pde->g returned NaN or Inf");
                memcpy(Xr + (size_t)nr * d, x, (size_t)d * sizeof(double));
                memset(bdir + (size_t)nr * d, 0, (size_t)d * sizeof(double));
                ba[nr] = 1.0; g[nr] = v; comp[nr] = 0;
            }
            ++nr;
            continue;
        }
        for (k = 0; k < pde->n_bc; ++k) {
            const sapm_pde_bc *c = &pde->bc[k];
            if (c->face != f) continue;
            SAPM__WHY(nr >= INT_MAX / 4, SAPM_ERR_INVALID_SIZE,
                      "too many boundary rows (rows of Xb times the conditions of their faces)");
            if (Xr) {
                /* a u + b du/dn - h with n = -e_i (face 2i) or +e_i (face 2i+1); RATE: +e_i */
                double a = 1.0, b = 0.0, sgn = (f % 2) ? 1.0 : -1.0, v;
                v = c->h ? c->h(x, d, pde->user_data) : pde->g(x, d, pde->user_data);
                SAPM__WHY(!isfinite(v), SAPM_ERR_CALLBACK, "pde->bc[k].h (or pde->g) returned NaN or Inf");
                switch (c->kind) {
                case SAPM_BC_NEUMANN: a = 0.0; b = 1.0; break;
                case SAPM_BC_ROBIN: a = c->a; b = c->b; break;
                case SAPM_BC_RATE: a = 0.0; b = 1.0; sgn = 1.0; break;
                default: break;
                }
                memcpy(Xr + (size_t)nr * d, x, (size_t)d * sizeof(double));
                memset(bdir + (size_t)nr * d, 0, (size_t)d * sizeof(double));
                bdir[(size_t)nr * d + f / 2] = b * sgn;
                ba[nr] = a; g[nr] = v; comp[nr] = c->component;
                if (a != 1.0 || b != 0.0) *all_dirichlet = 0;
            }
            ++nr;
        }
    }
    *rows = nr;
    return SAPM_OK;
}

/* Build the evaluated data: validates everything, evaluates the callbacks once. *storage
 * receives the one allocation holding c, kappa, c0, f, g and the boundary rows (free
 * with SAPM_FREE). Terms that are identically zero at the points get NULL (so kappa ==
 * NULL <=> first order; with a nonlinear residual c, kappa, c0 and f are all NULL). On a
 * failed check of its own p->why names the argument. */
static sapm_result sapm__pde_build(sapm__pde_data *p, double **storage, const sapm_pde *pde,
                                   int N, const double *X, int M, const double *Xb,
                                   double alpha, double beta)
{
    int d, j, i, nz, rows = M, all_dir = 1, *nbc = NULL;
    double *buf, *c, *kappa, *c0, *f, *g, *Xr = NULL, *ba = NULL, *bdir = NULL;
    size_t need;
    sapm_result r;
    if (!p || !storage) return SAPM_ERR_NULL_ARGUMENT;
    memset(p, 0, sizeof *p);
    *storage = NULL;
    if ((r = sapm__pde_check_why(pde, &p->why)) != SAPM_OK) return r;
    d = pde->d;
    if (!X || !Xb) return SAPM_ERR_NULL_ARGUMENT;
    if (N <= 0 || M <= 0) return SAPM_ERR_INVALID_SIZE;
    if (!isfinite(alpha) || !isfinite(beta) || alpha < 0.0 || beta < 0.0 || alpha + beta <= 0.0)
        return SAPM_ERR_INVALID_ARGUMENT;
    if (!sapm__matrix_finite(X, N, d, d) || !sapm__matrix_finite(Xb, M, d, d))
        return SAPM_ERR_NONFINITE_INPUT;
    if (pde->bc) {
        /* conditions per face, then the boundary rows they give */
        int k;
        nbc = (int *)sapm__calloc((size_t)2 * d, sizeof(int));
        if (!nbc) return SAPM_ERR_OUT_OF_MEMORY;
        for (k = 0; k < pde->n_bc; ++k) nbc[pde->bc[k].face] += 1;
        r = sapm__bc_rows(pde, nbc, M, Xb, &rows, NULL, NULL, NULL, NULL, NULL, &all_dir, &p->why);
        if (r != SAPM_OK) { SAPM_FREE(nbc); return r; }
        if (rows > INT_MAX / 2 || (size_t)rows > ((size_t)-1 / sizeof(double) - (size_t)N * (d + 3)) / (2 * (size_t)d + 2)) {
            SAPM_FREE(nbc);
            return SAPM_ERR_INVALID_SIZE;
        }
    }
    /* c, kappa, c0, f (N (d + 3)), g (rows); with bc: Xr, bdir (rows d each), ba (rows)
     * and the rows' components (ints, rows / 2 + 1 doubles) */
    need = (size_t)N * (d + 3) + (size_t)rows + (pde->bc ? (size_t)rows * (2 * (size_t)d + 1) + (size_t)rows / 2 + 1 : 0);
    buf = (double *)sapm__alloc(need, sizeof(double));
    if (!buf) { if (nbc) SAPM_FREE(nbc); return SAPM_ERR_OUT_OF_MEMORY; }
    c = buf; kappa = c + (size_t)N * d; c0 = kappa + N; f = c0 + N; g = f + N;
    p->d = d; p->N = N; p->M = M; p->X = X; p->Xb = Xb; p->alpha = alpha; p->beta = beta;
    p->pde = pde;
    p->m = pde->m > 1 ? pde->m : 1;
    p->q = pde->n_eq > 1 ? pde->n_eq : 1;
    p->lapw = pde->lap_weights;
    p->gamma = pde->data_weight > 0.0 ? pde->data_weight : 1.0;
    p->K = pde->n_data; p->Xd = pde->X_data; p->ud = pde->u_data;
    if (pde->bc) {
        int *comp, any_comp = 0;
        Xr = g + rows; ba = Xr + (size_t)rows * d; bdir = ba + rows;
        comp = (int *)(void *)(bdir + (size_t)rows * d);
        r = sapm__bc_rows(pde, nbc, M, Xb, &rows, Xr, ba, bdir, g, comp, &all_dir, &p->why);
        SAPM_FREE(nbc);
        if (r != SAPM_OK) { SAPM_FREE(buf); return r; }
        p->M = rows; p->Xb = Xr; p->g = g;
        if (!all_dir) { p->ba = ba; p->bdir = bdir; }
        for (j = 0; j < rows; ++j) any_comp |= comp[j] != 0;
        p->bcomp = any_comp ? comp : NULL;
    } else {
        if (sapm__pde_eval_scalar(pde, pde->g, 0.0, M, Xb, g) < 0) { SAPM_FREE(buf); return SAPM_ERR_CALLBACK; }
        p->g = g;
    }
    if (pde->residual) {
        /* nonlinear: the callback replaces c, kappa, c0 and f */
        p->res = pde->residual;
        p->res_order = pde->residual_order;
        p->n_theta = pde->n_theta;
        *storage = buf;
        return SAPM_OK;
    }
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
    if (!p->kappa) p->lapw = NULL;          /* no Laplacian to weigh */
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
 * Implementation: PINN - J_PINN, its exact gradient, residuals and Jacobian (the PDE problem)
 *
 * J_PINN and dJ_PINN/dparams run on ls's derivative tape (sapm__tape, "Implementation:
 * derivative tape"): one forward pass computes u, the first derivatives d_i u and the
 * Laplacian by the exact derivative recursions as one GEMM per layer over all streams, and one
 * reverse pass back-propagates the adjoints of the output streams,
 *
 *   r_n = sum_i c_i(x_n) d_i u(x_n) + kappa(x_n) Laplace u(x_n) + c_0(x_n) u(x_n) - f(x_n),
 *   dJ/du = (2 alpha / N) r_n c_0,  dJ/d(d_i u) = (2 alpha / N) r_n c_i,
 *   dJ/d(Laplace u) = (2 alpha / N) r_n kappa,     boundary: dJ/du = (2 beta / M)(u - g).
 *
 * Only the streams the operator needs are carried: the Laplacian only when kappa != 0
 * (it needs all d first derivatives); a first-order operator (kappa = 0, some c_i != 0)
 * carries the one directional derivative c(x_n) . grad u (the tape's TAPE_DIR mode, seeded
 * with v_n = c(x_n)); the boundary points carry the value stream only. Cost per point and
 * layer: ~6 S n_{l-1} n_l flops (forward GEMM + two reverse GEMMs) with S = 1 + d + 1
 * streams for a second-order operator and S = 2 for a first-order one. Sums over points
 * are local per block and then go through sapm__allreduce once per evaluation
 * (data-parallel ready).
 * ====================================================================================== */

/* The points are cut into blocks of at most cap points (cap_i interior, cap_b boundary
 * and test); with T threads thread t evaluates blocks t, t + T, ... on its own tapes into
 * its own accumulator, and the T accumulators are summed in thread order.
 * With trainable coefficients the problem's parameter vector is x = (network parameters,
 * theta): n_params = n_net + n_theta, and the tapes read the first n_net entries. */
typedef struct sapm__pinn_eval {
    int nthreads;               /* tapes and accumulators allocated (>= the team size) */
    sapm__tape *ti;             /* per thread: interior points, value (+ derivative,
                                   Laplacian) streams */
    sapm__tape *tb;             /* per thread: boundary points (value stream, and the
                                   directional stream b n . grad u with flux conditions) */
    sapm__tape *tv;             /* per thread: test points and measurements (value stream);
                                   NULL: tb serves */
    const sapm__pde_data *p;
    const sapm_options *opt;    /* allreduce hook (may be NULL) */
    double n_total, m_total, k_total; /* interior / boundary / measurement rows, all workers */
    size_t n_params;            /* n_net + n_theta */
    size_t n_net;               /* the network's parameters */
    double *buf;                /* n_params + 3: gradient sum, sum r^2, sum of the boundary
                                   rows^2, sum (u - u_k)^2 (the held-out error reuses the
                                   first two sums) */
    double *tbuf;               /* nthreads x (n_params + 3): each thread's share of buf */
    double *scr;                /* residual callback: per thread cap_i x sapm__pinn_scr_len */
    int *terr;                  /* per thread: 0, 1 = the callback returned nonzero,
                                   2 = NaN/Inf from it while strict */
    int strict;                 /* NaN/Inf from the residual callback is an error */
    double j_res, j_bc, j_data; /* mean squares of the last evaluation */
    int n_test;                 /* held-out points for the monitor (0: none) */
    const double *X_test, *u_test;
    size_t *layer_start;        /* depth + 1: the network's layer blocks of block-diagonal
                                   LM (theta, after them, is one more block) */
    int depth;
} sapm__pinn_eval;

static void sapm__pinn_eval_free(sapm__pinn_eval *e)
{
    int i;
    for (i = 0; i < e->nthreads; ++i) {
        if (e->ti) sapm__tape_free(&e->ti[i]);
        if (e->tb) sapm__tape_free(&e->tb[i]);
        if (e->tv) sapm__tape_free(&e->tv[i]);
    }
    if (e->ti) SAPM_FREE(e->ti);
    if (e->tb) SAPM_FREE(e->tb);
    if (e->tv) SAPM_FREE(e->tv);
    if (e->buf) SAPM_FREE(e->buf);
    if (e->tbuf) SAPM_FREE(e->tbuf);
    if (e->scr) SAPM_FREE(e->scr);
    if (e->terr) SAPM_FREE(e->terr);
    if (e->layer_start) SAPM_FREE(e->layer_start);
    memset(e, 0, sizeof *e);
}

/* Doubles of the residual callback's scratch per interior point: u, du, lap (m (d + 2))
 * in; r, r_u, r_du, r_lap, r_theta (q (1 + m (d + 2) + n_theta)) out. */
static size_t sapm__pinn_scr_len(const sapm__pde_data *p)
{
    size_t m = (size_t)SAPM__PDE_M(p), q = (size_t)SAPM__PDE_Q(p), d = (size_t)p->d;
    return m * (d + 2) + q * (1 + m * (d + 2) + (size_t)p->n_theta);
}

static sapm_result sapm__pinn_eval_init(sapm__pinn_eval *e, const sapm_net *net,
                                        const sapm__pde_data *p, const sapm_options *opt)
{
    /* second order: all d first derivatives (for the Laplacian) and the Laplacian; first
     * order: the one directional derivative c(x_n) . grad u; a nonlinear residual: u and
     * all d first derivatives (and the Laplacian when its order is 2) */
    int mode = p->res ? (p->res_order == 2 ? SAPM__TAPE_LAP : SAPM__TAPE_GRAD)
             : p->kappa ? SAPM__TAPE_LAP : p->c ? SAPM__TAPE_DIR : SAPM__TAPE_VALUE;
    int streams = mode == SAPM__TAPE_LAP ? 2 + p->d : mode == SAPM__TAPE_GRAD ? 1 + p->d
                : mode == SAPM__TAPE_DIR ? 2 : 1, i;
    /* threads by the multiply-adds of one evaluation (~ 3 per weight, stream and point) */
    int nt = sapm__threads_for(3.0 * (double)net->n_params *
                               ((double)streams * p->N * SAPM__PDE_Q(p) + (p->bdir ? 2.0 : 1.0) * p->M +
                                (double)p->K * SAPM__PDE_M(p)));
    /* blocks of ~SAPM__PINN_BLOCK_ROWS stream rows (big enough for efficient GEMMs, small
     * enough for the tape to stay in cache), at least one per thread */
    int cap_i = SAPM__MAX(1, SAPM__MIN((p->N + nt - 1) / nt, SAPM__PINN_BLOCK_ROWS / streams));
    int cap_b = SAPM__MAX(1, SAPM__MIN((p->M + nt - 1) / nt, SAPM__PINN_BLOCK_ROWS));
    int cap_v = SAPM__PINN_BLOCK_ROWS;
    size_t stride = net->n_params + (size_t)p->n_theta + 3;
    double cnt[3];
    sapm_result r = SAPM_OK;
    memset(e, 0, sizeof *e);
    e->p = p;
    e->opt = opt;
    e->n_net = net->n_params;
    e->n_params = net->n_params + (size_t)p->n_theta;
    e->ti = (sapm__tape *)sapm__calloc((size_t)nt, sizeof(sapm__tape));
    e->tb = (sapm__tape *)sapm__calloc((size_t)nt, sizeof(sapm__tape));
    if (p->bdir) e->tv = (sapm__tape *)sapm__calloc((size_t)nt, sizeof(sapm__tape));
    e->buf = (double *)sapm__alloc(stride, sizeof(double));
    e->tbuf = (double *)sapm__alloc((size_t)nt, stride * sizeof(double));
    e->terr = (int *)sapm__calloc((size_t)nt, sizeof(int));
    e->layer_start = sapm__net_layer_starts(net);
    e->depth = net->depth;
    if (p->res)
        e->scr = (double *)sapm__alloc((size_t)nt * (size_t)cap_i, sapm__pinn_scr_len(p) * sizeof(double));
    e->nthreads = nt;
    if (!e->ti || !e->tb || (p->bdir && !e->tv) || !e->buf || !e->tbuf || !e->terr || !e->layer_start ||
        (p->res && !e->scr))
        r = SAPM_ERR_OUT_OF_MEMORY;
    for (i = 0; i < nt && r == SAPM_OK; ++i) {
        if ((r = sapm__tape_init(&e->ti[i], net, cap_i, mode)) != SAPM_OK) break;
        e->ti[i].lapw = p->lapw;
        r = sapm__tape_init(&e->tb[i], net, cap_b, p->bdir ? SAPM__TAPE_DIR : SAPM__TAPE_VALUE);
        if (r == SAPM_OK && e->tv) r = sapm__tape_init(&e->tv[i], net, cap_v, SAPM__TAPE_VALUE);
    }
    if (r != SAPM_OK) { sapm__pinn_eval_free(e); return r; }
    cnt[0] = (double)p->N * SAPM__PDE_Q(p); cnt[1] = p->M; cnt[2] = (double)p->K * SAPM__PDE_M(p);  /* residual rows */
    if ((r = sapm__allreduce(opt, cnt, 3)) != SAPM_OK) { sapm__pinn_eval_free(e); return r; }
    e->n_total = cnt[0];
    e->m_total = cnt[1];
    e->k_total = cnt[2];
    return SAPM_OK;
}

/* The tape that evaluates values only (test points, measurements) for thread tid. */
static sapm__tape *sapm__pinn_value_tape(sapm__pinn_eval *e, int tid)
{
    return e->tv ? &e->tv[tid] : &e->tb[tid];
}

/* The residual r_n = sum_i c_i d_i u + kappa Laplace u + c_0 u - f of interior point gidx
 * from the output rows of the tape's current block (row n of each stream block). */
static double sapm__pinn_residual(const sapm__pde_data *p, const sapm__tape *t, int gidx,
                                  int n)
{
    const double *U = t->A[t->depth];
    double res = -p->f[gidx];
    int i, nb = t->N, nd = t->nd;
    if (p->c0) res += p->c0[gidx] * U[n];
    if (t->dir) {
        res += U[(size_t)nb + n];       /* the directional stream is already c(x_n) . grad u */
    } else if (p->c) {
        const double *c = p->c + (size_t)gidx * p->d;
        for (i = 0; i < nd; ++i) res += c[i] * U[(size_t)(1 + i) * nb + n];
    }
    if (t->nq) res += p->kappa[gidx] * U[(size_t)(1 + nd) * nb + n];
    return res;
}

/* Output-row adjoints of interior point gidx (row n of the block) for the reverse pass:
 * a * dr_n/d(u, d_i u, Laplace u) = a (c_0, c_i, kappa), or a (c_0, 1) in the directional
 * mode (a = dJ/dr_n for a gradient, the residual's scale for a Jacobian row). */
static void sapm__pinn_seed(const sapm__pde_data *p, sapm__tape *t, int gidx, int n, double a)
{
    double *adj = sapm__tape_adjoint(t);
    int i, nb = t->N, nd = t->nd;
    adj[n] = p->c0 ? a * p->c0[gidx] : 0.0;
    if (t->dir) adj[(size_t)nb + n] = a;
    else
        for (i = 0; i < nd; ++i)
            adj[(size_t)(1 + i) * nb + n] = p->c ? a * p->c[(size_t)gidx * p->d + i] : 0.0;
    if (t->nq) adj[(size_t)(1 + nd) * nb + n] = a * p->kappa[gidx];
}

/* The nonlinear residual of the tape's current block of nb interior points starting at
 * s0, through the callback: its scratch (scr, layout of sapm_pde_residual_fn) receives u,
 * du, lap in and r, r_u, r_du, r_lap, r_theta out. Returns 0, 1 (the callback returned
 * nonzero) or 2 (NaN/Inf in its output while strict). */
static int sapm__pinn_callback(const sapm__pinn_eval *e, const sapm__tape *t, double *scr,
                               int s0, int nb, const double *theta)
{
    const sapm__pde_data *p = e->p;
    const double *U = t->A[t->depth];       /* stream s, point n, unknown c: U[(s nb + n) m + c] */
    int d = p->d, k = p->n_theta, m = SAPM__PDE_M(p), q = SAPM__PDE_Q(p), n, i, c;
    size_t um = (size_t)nb * m, uq = (size_t)nb * q;
    double *u = scr, *du = u + um, *lap = du + um * d, *r = lap + um, *ru = r + uq;
    double *rdu = ru + uq * m, *rlap = rdu + uq * m * d, *rth = rlap + uq * m;
    size_t zero = uq * ((size_t)m * (d + 2) + k);
    for (n = 0; n < nb; ++n)
        for (c = 0; c < m; ++c) {
            size_t jc = (size_t)n * m + c;
            u[jc] = U[jc];
            for (i = 0; i < d; ++i) du[jc * d + i] = U[((size_t)(1 + i) * nb + n) * m + c];
            lap[jc] = t->nq ? U[((size_t)(1 + d) * nb + n) * m + c] : 0.0;
        }
    for (n = 0; n < (int)uq; ++n) r[n] = NAN;
    memset(ru, 0, zero * sizeof(double));
    if (p->res(nb, d, p->X + (size_t)s0 * d, u, du, t->nq ? lap : NULL, k ? theta : NULL, r, ru,
               rdu, t->nq ? rlap : NULL, k ? rth : NULL, p->pde->user_data) != 0)
        return 1;
    if (e->strict && (!sapm__all_finite(r, uq) || !sapm__all_finite(ru, zero))) return 2;
    return 0;
}

/* Output-row adjoints of point n of a callback block for the combination sum_e a_e r_e
 * of its equations (a: q weights; a Jacobian row passes one nonzero): the adjoint of
 * unknown c's streams is sum_e a_e (r_u, r_du_i, r_lap)[e][c]. */
static void sapm__pinn_callback_seed(const sapm__pde_data *p, sapm__tape *t, const double *scr,
                                     int n, const double *a)
{
    double *adj = sapm__tape_adjoint(t);
    int i, c, e, nb = t->N, d = p->d, m = SAPM__PDE_M(p), q = SAPM__PDE_Q(p);
    size_t um = (size_t)nb * m, uq = (size_t)nb * q;
    const double *ru = scr + um * (d + 2) + uq, *rdu = ru + uq * m, *rlap = rdu + uq * m * d;
    for (c = 0; c < m; ++c) {
        double su = 0.0, sl = 0.0;
        for (e = 0; e < q; ++e) {
            size_t ec = ((size_t)n * q + e) * m + c;
            su += a[e] * ru[ec];
            if (t->nq) sl += a[e] * rlap[ec];
        }
        adj[(size_t)n * m + c] = su;
        for (i = 0; i < d; ++i) {
            double sd = 0.0;
            for (e = 0; e < q; ++e) sd += a[e] * rdu[(((size_t)n * q + e) * m + c) * d + i];
            adj[((size_t)(1 + i) * nb + n) * m + c] = sd;
        }
        if (t->nq) adj[((size_t)(1 + d) * nb + n) * m + c] = sl;
    }
}

/* One thread's share of an evaluation at parameters x: rho (the Levenberg-Marquardt
 * residuals, when rho is set) and G (their Jacobian, when G is set too), else sums of
 * squares and, when grad is set, the gradient, into the thread's accumulator. */
typedef struct sapm__pinn_job {
    sapm__pinn_eval *e;
    const double *x;
    int grad;                   /* accumulate dJ_PINN/dparams */
    double *rho, *G;            /* residual mode: rho (n), and G (n x P) or NULL */
} sapm__pinn_job;

static void sapm__pinn_task(void *ctx, int tid, int nthreads)
{
    const sapm__pinn_job *job = (const sapm__pinn_job *)ctx;
    sapm__pinn_eval *e = job->e;
    const sapm__pde_data *p = e->p;
    const double *x = job->x, *theta = x + e->n_net;
    sapm__tape *t = &e->ti[tid];
    int s0, n, j, c, eq, d = p->d, L = t->depth, k = p->n_theta, m = SAPM__PDE_M(p), q = SAPM__PDE_Q(p);
    size_t np = e->n_params, P = e->n_net, nq = (size_t)p->N * q;
    double *acc = e->tbuf + (size_t)tid * (np + 3), sum_r = 0.0, sum_b = 0.0, sum_d = 0.0;
    double *scr = e->scr ? e->scr + (size_t)tid * (size_t)t->cap * sapm__pinn_scr_len(p) : NULL;
    double a[SAPM_PDE_MAX_UNKNOWNS];
    /* gradient: dJ/dr_n = 2 alpha r_n / N; residual mode: rho_n = sqrt(alpha / N) r_n */
    double wr = job->rho ? sqrt(p->alpha / e->n_total) : 2.0 * p->alpha / e->n_total;
    double wb = job->rho ? sqrt(p->beta / e->m_total) : 2.0 * p->beta / e->m_total;
    double wd = e->k_total > 0.0 ? (job->rho ? sqrt(p->gamma / e->k_total) : 2.0 * p->gamma / e->k_total) : 0.0;
    e->terr[tid] = 0;
    if (job->grad) memset(acc, 0, np * sizeof(double));
    /* interior points: the residual r_n of the operator (or the q residuals of the callback) */
    for (s0 = tid * t->cap; s0 < p->N; s0 += nthreads * t->cap) {
        int nb = SAPM__MIN(t->cap, p->N - s0);
        t->dirs = p->c ? p->c + (size_t)s0 * d : NULL;
        sapm__tape_forward(t, x, nb, p->X + (size_t)s0 * d, d);
        if (p->res) {
            /* r[n q + e] and its partial derivatives from the callback (scr) */
            const double *rr = scr + (size_t)nb * m * (d + 2);
            const double *rth = rr + (size_t)nb * q * (1 + (size_t)m * (d + 2));
            if ((e->terr[tid] = sapm__pinn_callback(e, t, scr, s0, nb, theta)) != 0) return;
            for (j = 0; j < nb * q; ++j) sum_r += rr[j] * rr[j];
            if (job->rho && !job->G) {
                for (j = 0; j < nb * q; ++j) job->rho[(size_t)s0 * q + j] = wr * rr[j];
            } else if (job->G) {
                /* one reverse pass per equation: rows (s0 + n) q + eq of rho and G */
                for (eq = 0; eq < q; ++eq) {
                    for (n = 0; n < nb; ++n) {
                        size_t row = (size_t)(s0 + n) * q + eq;
                        for (c = 0; c < q; ++c) a[c] = c == eq ? wr : 0.0;
                        job->rho[row] = wr * rr[(size_t)n * q + eq];
                        sapm__pinn_callback_seed(p, t, scr, n, a);
                        for (j = 0; j < k; ++j)
                            job->G[row * np + P + j] = wr * rth[((size_t)n * q + eq) * k + j];
                    }
                    sapm__tape_jacobian(t, x, job->G + ((size_t)s0 * q + eq) * np, (size_t)q * np);
                }
            } else if (job->grad) {
                /* one reverse pass for sum_e dJ/dr_e r_e */
                for (n = 0; n < nb; ++n) {
                    for (eq = 0; eq < q; ++eq) a[eq] = wr * rr[(size_t)n * q + eq];
                    sapm__pinn_callback_seed(p, t, scr, n, a);
                    for (j = 0; j < k; ++j) {       /* d r / d theta: their own entries */
                        double v = 0.0;
                        for (eq = 0; eq < q; ++eq) v += a[eq] * rth[((size_t)n * q + eq) * k + j];
                        acc[P + j] += v;
                    }
                }
                sapm__tape_backward(t, x, acc);
            }
            continue;
        }
        for (n = 0; n < nb; ++n) {     /* output rows (u; d_i u or c . grad u; Laplace u) */
            double res = sapm__pinn_residual(p, t, s0 + n, n);
            if (job->rho) {
                job->rho[s0 + n] = wr * res;
                if (job->G) sapm__pinn_seed(p, t, s0 + n, n, wr);
            } else if (job->grad) {
                sapm__pinn_seed(p, t, s0 + n, n, wr * res);
            }
            sum_r += res * res;
        }
        if (job->G) sapm__tape_jacobian(t, x, job->G + (size_t)s0 * np, np);
        else if (job->grad) sapm__tape_backward(t, x, acc);
    }
    /* boundary rows: u_c - g, or a u_c + b n . grad u_c - h (the directional stream) */
    t = &e->tb[tid];
    for (s0 = tid * t->cap; s0 < p->M; s0 += nthreads * t->cap) {
        int nb = SAPM__MIN(t->cap, p->M - s0);
        double *adj = sapm__tape_adjoint(t);
        t->dirs = p->bdir ? p->bdir + (size_t)s0 * d : NULL;
        sapm__tape_forward(t, x, nb, p->Xb + (size_t)s0 * d, d);
        for (n = 0; n < nb; ++n) {
            int cc = p->bcomp ? p->bcomp[s0 + n] : 0;
            double ba = p->ba ? p->ba[s0 + n] : 1.0;
            double res = ba * t->A[L][(size_t)n * m + cc] - p->g[s0 + n], w;
            if (t->dir) res += t->A[L][((size_t)nb + n) * m + cc];
            w = job->rho ? wb : wb * res;
            if (job->rho) job->rho[nq + s0 + n] = wb * res;
            if (job->G)
                for (j = 0; j < k; ++j) job->G[(nq + s0 + n) * np + P + j] = 0.0;
            if (job->G || job->grad) {
                for (c = 0; c < m; ++c) {
                    adj[(size_t)n * m + c] = c == cc ? w * ba : 0.0;
                    if (t->dir) adj[((size_t)nb + n) * m + c] = c == cc ? w : 0.0;
                }
            }
            sum_b += res * res;
        }
        if (job->G) sapm__tape_jacobian(t, x, job->G + (nq + s0) * np, np);
        else if (job->grad) sapm__tape_backward(t, x, acc);
    }
    /* measurements: u_c(x_k) - u_{k,c}, rows (N q + M) + k m + c */
    t = sapm__pinn_value_tape(e, tid);
    for (s0 = tid * t->cap; s0 < p->K; s0 += nthreads * t->cap) {
        int nb = SAPM__MIN(t->cap, p->K - s0);
        size_t row0 = nq + (size_t)p->M + (size_t)s0 * m;
        double *adj = sapm__tape_adjoint(t);
        const double *U = t->A[L];
        sapm__tape_forward(t, x, nb, p->Xd + (size_t)s0 * d, d);
        for (j = 0; j < nb * m; ++j) {
            double res = U[j] - p->ud[(size_t)s0 * m + j];
            sum_d += res * res;
            if (job->rho) job->rho[row0 + j] = wd * res;
            else if (job->grad) adj[j] = wd * res;
        }
        if (job->G) {
            for (c = 0; c < m; ++c) {           /* one reverse pass per unknown */
                for (j = 0; j < nb * m; ++j) adj[j] = j % m == c ? wd : 0.0;
                for (n = 0; n < nb; ++n)
                    for (j = 0; j < k; ++j) job->G[(row0 + (size_t)n * m + c) * np + P + j] = 0.0;
                sapm__tape_jacobian(t, x, job->G + (row0 + c) * np, (size_t)m * np);
            }
        } else if (job->grad) {
            sapm__tape_backward(t, x, acc);
        }
    }
    acc[np] = sum_r;
    acc[np + 1] = sum_b;
    acc[np + 2] = sum_d;
}

/* Run task (sapm__pinn_task or sapm__pinn_test_task) on the eval's threads and sum their
 * accumulators into e->buf (in thread order: deterministic for a given thread count):
 * the gradient and the sums when job->grad is set, else the three sums only. Returns
 * SAPM_ERR_CALLBACK when a thread's residual callback failed. */
static sapm_result sapm__pinn_run(sapm__task_fn task, sapm__pinn_job *job)
{
    sapm__pinn_eval *e = job->e;
    size_t np = e->n_params, len = job->grad ? np + 3 : 3, off = np + 3 - len, i;
    int tid;
    /* threads the team leaves out contribute zeros */
    for (tid = 0; tid < e->nthreads; ++tid) {
        memset(e->tbuf + (size_t)tid * (np + 3) + off, 0, len * sizeof(double));
        e->terr[tid] = 0;
    }
    sapm__run_parallel(e->nthreads, task, job);
    for (tid = 0; tid < e->nthreads; ++tid)
        if (e->terr[tid]) return SAPM_ERR_CALLBACK;
    memcpy(e->buf + off, e->tbuf + off, len * sizeof(double));
    for (tid = 1; tid < e->nthreads; ++tid) {
        const double *SAPM__RESTRICT a = e->tbuf + (size_t)tid * (np + 3) + off;
        double *SAPM__RESTRICT b = e->buf + off;
        for (i = 0; i < len; ++i) b[i] += a[i];
    }
    return SAPM_OK;
}

/* J_PINN = alpha J_res + beta J_bc (+ gamma J_data) from the summed squares in e->buf
 * (which also sets the mean squares e->j_res, e->j_bc, e->j_data). */
static double sapm__pinn_loss_from_sums(sapm__pinn_eval *e)
{
    e->j_res = e->buf[e->n_params] / e->n_total;
    e->j_bc = e->buf[e->n_params + 1] / e->m_total;
    e->j_data = e->k_total > 0.0 ? e->buf[e->n_params + 2] / e->k_total : 0.0;
    return e->p->alpha * e->j_res + e->p->beta * e->j_bc +
           (e->k_total > 0.0 ? e->p->gamma * e->j_data : 0.0);
}

/* sapm__objective_fn: *f = J_PINN at parameters x (layout of net->params), grad (may be
 * NULL) = dJ_PINN/dparams. */
static sapm_result sapm__pinn_objective(void *ctx, const double *x, double *f, double *grad)
{
    sapm__pinn_eval *e = (sapm__pinn_eval *)ctx;
    size_t np = e->n_params;
    sapm__pinn_job job;
    sapm_result r;
    job.e = e; job.x = x; job.grad = grad != NULL; job.rho = job.G = NULL;
    if ((r = sapm__pinn_run(sapm__pinn_task, &job)) != SAPM_OK) return r;
    r = grad ? sapm__allreduce(e->opt, e->buf, np + 3) : sapm__allreduce(e->opt, e->buf + np, 3);
    if (r != SAPM_OK) return r;
    *f = sapm__pinn_loss_from_sums(e);
    if (grad) memcpy(grad, e->buf, np * sizeof(double));
    return SAPM_OK;
}

/* One thread's sums of (u - u_exact)^2 and u_exact^2 over its blocks of test points. */
static void sapm__pinn_test_task(void *ctx, int tid, int nthreads)
{
    const sapm__pinn_job *job = (const sapm__pinn_job *)ctx;
    sapm__pinn_eval *e = job->e;
    sapm__tape *t = sapm__pinn_value_tape(e, tid);
    int s0, n, L = t->depth, d = e->p->d;
    double *acc = e->tbuf + (size_t)tid * (e->n_params + 3) + e->n_params;
    int m = SAPM__PDE_M(e->p);
    for (s0 = tid * t->cap; s0 < e->n_test; s0 += nthreads * t->cap) {
        int nb = SAPM__MIN(t->cap, e->n_test - s0);
        sapm__tape_forward(t, job->x, nb, e->X_test + (size_t)s0 * d, d);
        for (n = 0; n < nb * m; ++n) {          /* every unknown of every point */
            double ue = e->u_test[(size_t)s0 * m + n], err = t->A[L][n] - ue;
            acc[0] += err * err;
            acc[1] += ue * ue;
        }
    }
}

/* Relative L2 error of the network with parameters x on the test points (value tape). */
static sapm_result sapm__pinn_test_error(sapm__pinn_eval *e, const double *x, double *rel)
{
    double s[2];
    sapm__pinn_job job;
    sapm_result r;
    job.e = e; job.x = x; job.grad = 0; job.rho = job.G = NULL;
    if ((r = sapm__pinn_run(sapm__pinn_test_task, &job)) != SAPM_OK) return r;
    s[0] = e->buf[e->n_params];
    s[1] = e->buf[e->n_params + 1];
    if ((r = sapm__allreduce(e->opt, s, 2)) != SAPM_OK) return r;
    *rel = s[1] > 0.0 ? sqrt(s[0] / s[1]) : sqrt(s[0] / ((double)e->n_test * SAPM__PDE_M(e->p)));
    return SAPM_OK;
}

/* sapm__monitor_fn: the true loss of a PINN is J_PINN itself; error = test rel. L2. */
static sapm_result sapm__pinn_monitor(void *ctx, const double *x, double f, double *mse,
                                      double *error)
{
    sapm__pinn_eval *e = (sapm__pinn_eval *)ctx;
    *mse = f;
    *error = NAN;
    if (e->n_test > 0) return sapm__pinn_test_error(e, x, error);
    return SAPM_OK;
}

/* Whether the problem needs second derivatives (a Laplacian stream). */
static int sapm__pde_second_order(const sapm__pde_data *p)
{
    return p->kappa != NULL || (p->res && p->res_order == 2);
}

/* The problem's parameter vector at the net and pde->theta: net->params itself without
 * trainable coefficients, else a new copy (params, theta) the caller frees. */
static sapm_result sapm__pinn_point(const sapm_net *net, const sapm__pde_data *p, double **x)
{
    if (p->n_theta == 0) { *x = net->params; return SAPM_OK; }
    *x = (double *)sapm__alloc(net->n_params + (size_t)p->n_theta, sizeof(double));
    if (!*x) return SAPM_ERR_OUT_OF_MEMORY;
    memcpy(*x, net->params, net->n_params * sizeof(double));
    memcpy(*x + net->n_params, p->pde->theta, (size_t)p->n_theta * sizeof(double));
    return SAPM_OK;
}

/* J_PINN of the forward network (the contract's sapm__pde_loss; lysep uses it to report
 * the true loss of its forward network). */
static SAPM__UNUSED sapm_result sapm__pde_loss(const sapm_net *net, const sapm__pde_data *p,
                                               double *j_pinn)
{
    sapm__pinn_eval e;
    sapm_result r;
    if (!net || !p || !j_pinn) return SAPM_ERR_NULL_ARGUMENT;
    if ((r = sapm__pde_net_check(net, p->d)) != SAPM_OK) return r;
    if ((r = sapm__pinn_eval_init(&e, net, p, NULL)) != SAPM_OK) return r;
    r = sapm__pinn_objective(&e, net->params, j_pinn, NULL);
    sapm__pinn_eval_free(&e);
    if (r == SAPM_OK && !isfinite(*j_pinn)) r = SAPM_ERR_DIVERGED;
    return r;
}

/* Relative L2 and max error of the forward network (the contract's sapm__pde_errors). */
static sapm_result sapm__pde_errors(const sapm_net *net, int n_test, const double *X_test,
                                    const double *u_exact, double *rel_l2, double *max_err)
{
    double *u, num = 0.0, den = 0.0, mx = 0.0;
    size_t j, nm;
    int m;
    sapm_result r;
    if (!net || !X_test || !u_exact) return SAPM_ERR_NULL_ARGUMENT;
    if (n_test <= 0) return SAPM_ERR_INVALID_SIZE;
    m = net->widths[net->depth];
    nm = (size_t)n_test * (size_t)m;            /* every output of every point */
    u = (double *)sapm__alloc(nm, sizeof(double));
    if (!u) return SAPM_ERR_OUT_OF_MEMORY;
    r = sapm_net_forward(net, n_test, X_test, net->widths[0], u, m);
    if (r == SAPM_OK) {
        for (j = 0; j < nm; ++j) {
            double e = u[j] - u_exact[j];
            num += e * e;
            den += u_exact[j] * u_exact[j];
            if (fabs(e) > mx || e != e) mx = fabs(e);
        }
        if (rel_l2) *rel_l2 = den > 0.0 ? sqrt(num / den) : sqrt(num / (double)nm);
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
    if (!sapm__matrix_finite(X, n, net->widths[0], net->widths[0]) ||
        !sapm__all_finite(u_exact, (size_t)n * (size_t)net->widths[net->depth]))
        return SAPM_ERR_NONFINITE_INPUT;
    return sapm__pde_errors(net, n, X, u_exact, rel_l2, max_err);
}

SAPMDEF sapm_result sapm_pde_loss(const sapm_net *net, const sapm_pde *pde, int N,
                                  const double *X, int M, const double *Xb, double alpha,
                                  double beta, double *j_pinn, double *j_res, double *j_bc)
{
    sapm__pde_data p;
    sapm__pinn_eval e;
    double *storage = NULL, *x = NULL, jj;
    sapm_result r;
    if (!j_pinn) return SAPM_ERR_NULL_ARGUMENT;
    if ((r = sapm__pde_check(pde)) != SAPM_OK) return r;
    if ((r = sapm__pde_net_check_m(net, pde->d, pde->m > 1 ? pde->m : 1)) != SAPM_OK) return r;
    if ((r = sapm__pde_build(&p, &storage, pde, N, X, M, Xb, alpha, beta)) != SAPM_OK) return r;
    if (sapm__pde_second_order(&p) && net->act == SAPM_ACT_RELU) { SAPM_FREE(storage); return SAPM_ERR_UNSUPPORTED; }
    if ((r = sapm__pinn_point(net, &p, &x)) != SAPM_OK) { SAPM_FREE(storage); return r; }
    r = sapm__pinn_eval_init(&e, net, &p, NULL);
    if (r == SAPM_OK) {
        r = sapm__pinn_objective(&e, x, &jj, NULL);
        if (r == SAPM_OK) {
            *j_pinn = jj;
            if (j_res) *j_res = e.j_res;
            if (j_bc) *j_bc = e.j_bc;
        }
        sapm__pinn_eval_free(&e);
    }
    if (x != net->params) SAPM_FREE(x);
    SAPM_FREE(storage);
    return r;
}

SAPMDEF sapm_pde_options sapm_pde_default_options(sapm_method method)
{
    sapm_pde_options o;
    memset(&o, 0, sizeof o);
    o.base = sapm_default_options(method);
    o.base.log_every = 50;
    o.base.ls.lbfgs_memory = 50;    /* ours: 50 pairs beat 10 on Poisson 2-D (1.8e-4 vs 4.5e-4 rel. L2 at 1500 its) */
    o.base.phase_time = 0.0;
    o.base.phase_iters = 0;
    /* no polish for any method: SAPM / PM run the alternating iteration for the whole
     * budget (3 alternating iterations then L-BFGS: polish = LBFGS, phase_iters = 3) */
    o.alpha = 1.0;
    o.beta = 1.0;
    /* ours: the boundary weight by gradient-norm balancing for LM (measured best of NONE,
     * NTK and GRAD on bench/bench_pde_suite.c) */
    o.balance = method == SAPM_METHOD_LM ? SAPM_BALANCE_GRAD : SAPM_BALANCE_NONE;
    o.lysep = sapm_lysep_default_options();
    return o;
}

/* --- the PDE problem's table -------------------------------------------------------------
 * The residual form for LM: rho_n = sqrt(alpha/N) r_n (interior), rho_{N+m} = sqrt(beta/M)
 * (u(x_m) - g_m), so ||rho||^2 = J_PINN; G = d rho / dparams is one forward and one reverse
 * pass on the tape (sapm__pinn_seed gives the per-point adjoints, sapm__tape_jacobian the
 * rows). */

/* rho and G (n x P, row stride P; NULL: rho alone) at parameters x; *f = ||rho||^2 =
 * J_PINN. The rows:
 * N interior, M boundary, K measurements (rho = sqrt(gamma/K) (u(x_k) - u_k)); the
 * columns of theta (after the network's) are d rho / d theta (zero outside the interior). */
static sapm_result sapm__pinn_residuals(void *ctx, const double *x, double *rho, double *G,
                                        double *f);

/* ||rho||^2 = J_PINN with rho and G at x (NaN when the residual callback failed). */
static SAPM__UNUSED double sapm__pinn_lm_jacobian(sapm__pinn_eval *e, const double *x, double *rho,
                                                 double *G)
{
    double f = NAN;
    return sapm__pinn_residuals(e, x, rho, G, &f) == SAPM_OK ? f : NAN;
}

static sapm_result sapm__pinn_residuals(void *ctx, const double *x, double *rho, double *G,
                                        double *f)
{
    sapm__pinn_eval *e = (sapm__pinn_eval *)ctx;
    sapm__pinn_job job;
    sapm_result r;
    job.e = e; job.x = x; job.grad = 0; job.rho = rho; job.G = G;
    if ((r = sapm__pinn_run(sapm__pinn_task, &job)) != SAPM_OK) return r;
    *f = sapm__pinn_loss_from_sums(e);      /* this worker's share: LM sums it */
    return SAPM_OK;
}

static sapm__problem sapm__pinn_problem_table(sapm__pinn_eval *e)
{
    sapm__problem pb;
    pb.ctx = e;
    pb.n_params = e->n_params;
    pb.n_res = (size_t)e->p->N * (size_t)SAPM__PDE_Q(e->p) + (size_t)e->p->M +
               (size_t)e->p->K * (size_t)SAPM__PDE_M(e->p);
    pb.objective = sapm__pinn_objective;
    pb.residuals = sapm__pinn_residuals;
    pb.monitor = sapm__pinn_monitor;
    pb.resample = NULL; pb.resample_ctx = NULL; pb.resample_every = 0;
    pb.block_start = e->layer_start; pb.n_blocks = e->depth;
    return pb;
}

/* --- automatic boundary weight (sapm_pde_balance) -------------------------------------
 * One Jacobian at the starting parameters with alpha = beta = 1 (rows r_n / sqrt(N) and
 * b_m / sqrt(M)): NTK balancing compares the mean squared row norms of the two blocks,
 * gradient balancing the largest entry of dJ_res/dtheta with the mean magnitude of
 * dJ_bc/dtheta. With all-reduce the sums are over every worker. */
static sapm_result sapm__pde_balance(const sapm_net *net, const sapm__pde_data *p,
                                     sapm_pde_balance mode, double alpha,
                                     const sapm_options *opt, double *beta)
{
    sapm__pde_data q = *p;
    sapm__pinn_eval e;
    size_t P, n, n_int, n_bc, i, j;
    double *rho, *G, *gr, *x, s[2];
    sapm_result r;
    *beta = NAN;
    q.alpha = q.beta = 1.0;
    if ((r = sapm__pinn_eval_init(&e, net, &q, opt)) != SAPM_OK) return r;
    /* the residual rows: interior (N per equation), boundary (one per condition row), and
     * measurements last, which take no part in the balance; P includes trainable
     * coefficients */
    P = e.n_params;
    n_int = (size_t)q.N * (size_t)SAPM__PDE_Q(&q);
    n_bc = (size_t)q.M;
    n = sapm__pinn_problem_table(&e).n_res;
    if (P > (size_t)-1 / sizeof(double) / (n + 3)) { sapm__pinn_eval_free(&e); return SAPM_ERR_OUT_OF_MEMORY; }
    rho = (double *)sapm__alloc(n + n * P + 2 * P, sizeof(double));
    if (!rho) { sapm__pinn_eval_free(&e); return SAPM_ERR_OUT_OF_MEMORY; }
    G = rho + n; gr = G + n * P;
    if ((r = sapm__pinn_point(net, &q, &x)) != SAPM_OK) { sapm__pinn_eval_free(&e); SAPM_FREE(rho); return r; }
    sapm__pinn_lm_jacobian(&e, x, rho, G);
    if (mode == SAPM_BALANCE_NTK) {
        /* s = (sum_n |grad r_n|^2 / N, sum_m |grad b_m|^2 / M) = the rows' squared norms */
        s[0] = s[1] = 0.0;
        for (j = 0; j < n_int + n_bc; ++j) s[j < n_int ? 0 : 1] += sapm__vec_dot(G + j * P, G + j * P, P);
        if ((r = sapm__allreduce(opt, s, 2)) == SAPM_OK)
            *beta = s[1] > 0.0 && s[0] > 0.0 ? alpha * s[0] / s[1] : NAN;
    } else {
        /* gr[0..P) = dJ_res/dtheta / 2, gr[P..2P) = dJ_bc/dtheta / 2 (rows carry 1/sqrt(N)) */
        double mx = 0.0, mean = 0.0;
        memset(gr, 0, 2 * P * sizeof(double));
        for (j = 0; j < n_int + n_bc; ++j) {
            double *g = gr + (j < n_int ? 0 : P);
            for (i = 0; i < P; ++i) g[i] += rho[j] * G[j * P + i];
        }
        if ((r = sapm__allreduce(opt, gr, 2 * P)) == SAPM_OK) {
            for (i = 0; i < P; ++i) { mx = SAPM__MAX(mx, fabs(gr[i])); mean += fabs(gr[P + i]); }
            mean /= (double)P;
            *beta = mx > 0.0 && mean > 0.0 ? alpha * mx / mean : NAN;
        }
    }
    if (x != net->params) SAPM_FREE(x);
    sapm__pinn_eval_free(&e);
    SAPM_FREE(rho);
    if (r == SAPM_OK && !isfinite(*beta)) r = SAPM_ERR_DIVERGED;
    return r;
}

SAPMDEF sapm_result sapm_pde_balance_beta(const sapm_net *net, const sapm_pde *pde, int N,
                                          const double *X, int M, const double *Xb,
                                          sapm_pde_balance mode, double alpha, double *beta)
{
    sapm__pde_data p;
    double *storage = NULL;
    sapm_result r;
    if (!beta) return SAPM_ERR_NULL_ARGUMENT;
    *beta = NAN;
    if ((int)mode <= (int)SAPM_BALANCE_NONE || (int)mode >= (int)SAPM_BALANCE_COUNT ||
        !(alpha > 0.0) || !isfinite(alpha))
        return SAPM_ERR_INVALID_ARGUMENT;
    if ((r = sapm__pde_check(pde)) != SAPM_OK) return r;
    if ((r = sapm__pde_net_check(net, pde->d)) != SAPM_OK) return r;
    if ((r = sapm__pde_build(&p, &storage, pde, N, X, M, Xb, alpha, 1.0)) != SAPM_OK) return r;
    if (p.kappa && net->act == SAPM_ACT_RELU) { SAPM_FREE(storage); return SAPM_ERR_UNSUPPORTED; }
    r = sapm__pde_balance(net, &p, mode, alpha, NULL, beta);
    SAPM_FREE(storage);
    return r;
}

SAPMDEF int sapm_pde_default_widths(int d, int *widths)
{
    if (!widths || d < 1) return 0;
    widths[0] = d;
    widths[1] = d <= 4 ? 32 : d >= 8 ? 64 : 8 * d;     /* 8 d units within [32, 64] */
    widths[2] = 1;
    return 2;
}

/* --- point resampling (opt.resample_every) --------------------------------------------
 * Fresh interior points for LM: the next N points of the scrambled Halton sequence in the
 * bounding box of the given interior and boundary points (the box, for a box domain),
 * the PDE's callbacks evaluated there; the caller's boundary points stay (their condition
 * rows are rebuilt from them, as at the start). The problem data p is rebuilt in place
 * (the evaluator points to it). */
typedef struct sapm__pde_resampler {
    const sapm_pde *pde;
    sapm__pde_data *p;
    double *storage;            /* the current coefficients (owned; NULL until the first) */
    double *X;                  /* N x d fresh points (owned) */
    double *lo, *hi;            /* the box (owned, d each) */
    const double *Xb0;          /* the caller's M0 boundary points (p->Xb may be the rows
                                   built from them: one per condition) */
    int M0;
    double beta;                /* the run's boundary weight (beta_eff) */
    int round;
} sapm__pde_resampler;

static void sapm__pde_resampler_free(sapm__pde_resampler *rs)
{
    if (rs->storage) SAPM_FREE(rs->storage);
    if (rs->X) SAPM_FREE(rs->X);
    if (rs->lo) SAPM_FREE(rs->lo);
    memset(rs, 0, sizeof *rs);
}

static sapm_result sapm__pde_resampler_init(sapm__pde_resampler *rs, const sapm_pde *pde,
                                            sapm__pde_data *p, int M0, const double *Xb0)
{
    int d = p->d, i, j;
    memset(rs, 0, sizeof *rs);
    rs->pde = pde; rs->p = p; rs->beta = p->beta; rs->M0 = M0; rs->Xb0 = Xb0;
    rs->X = (double *)sapm__alloc((size_t)p->N, (size_t)d * sizeof(double));
    rs->lo = (double *)sapm__alloc(2 * (size_t)d, sizeof(double));
    if (!rs->X || !rs->lo) { sapm__pde_resampler_free(rs); return SAPM_ERR_OUT_OF_MEMORY; }
    rs->hi = rs->lo + d;
    for (i = 0; i < d; ++i) { rs->lo[i] = HUGE_VAL; rs->hi[i] = -HUGE_VAL; }
    for (j = 0; j < p->N + M0; ++j) {
        const double *x = j < p->N ? p->X + (size_t)j * d : Xb0 + (size_t)(j - p->N) * d;
        for (i = 0; i < d; ++i) { rs->lo[i] = SAPM__MIN(rs->lo[i], x[i]); rs->hi[i] = SAPM__MAX(rs->hi[i], x[i]); }
    }
    for (i = 0; i < d; ++i)
        if (!(rs->lo[i] < rs->hi[i])) { sapm__pde_resampler_free(rs); return SAPM_ERR_INVALID_ARGUMENT; }
    return SAPM_OK;
}

static sapm_result sapm__pde_resample(void *ctx)
{
    sapm__pde_resampler *rs = (sapm__pde_resampler *)ctx;
    sapm__pde_data *p = rs->p, q;
    double *storage = NULL;
    int d = p->d, N = p->N;
    sapm_result r;
    ++rs->round;
    r = sapm_sample_halton(d, rs->lo, rs->hi, N, rs->round * N, (uint64_t)0x9e3779b97f4a7c15ULL, rs->X);
    if (r == SAPM_OK) r = sapm__pde_build(&q, &storage, rs->pde, N, rs->X, rs->M0, rs->Xb0, p->alpha, 1.0);
    if (r != SAPM_OK) return r;
    /* the tape's streams were set up for the original operator: keep its terms even where
     * the callbacks vanish at every fresh point (the buffers hold those zeros) */
    if (p->c && !q.c) q.c = storage;           /* c_fn wrote its zeros there */
    if (p->kappa && !q.kappa) q.kappa = storage + (size_t)N * d;
    if (!p->c && q.c) q.c = NULL;               /* (not reached for a well-posed operator) */
    if (!p->kappa && q.kappa) q.kappa = NULL;
    q.beta = rs->beta;
    *p = q;
    if (rs->storage) SAPM_FREE(rs->storage);
    rs->storage = storage;
    return SAPM_OK;
}

/* ======================================================================================
 * Implementation: SAPM-PINN and LySep
 * ======================================================================================
 *
 * Auxiliary-variable training of PINNs (arXiv 2507.12766). Notation: L = net->depth weight layers,
 * widths n_0 = d .. n_L = 1, hidden layers l = 1..L-1, N interior and M boundary points.
 *
 * DIRECTIONS. The derivative auxiliaries are directional derivatives d_{l,k} ~ dz_l/dv_k
 * along K directions per interior point:
 *   LySep (kappa != NULL): v_k = e_k, k = 1..d (the Laplacian needs every coordinate);
 *     the first-order part is sum_k w_k d_k with w_k = c_k(x);
 *   SAPM-PINN (kappa == NULL): ONE direction v = c(x) (w = 1). Ours: the derivative
 *     recursion is linear in the direction, so dz_l/dv = sum_i c_i dz_l/dx_i exactly, and
 *     the first-order operator only needs this combination - K = 1 instead of the paper's
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
 * against the forward network. Subtracting the exact derivative recursions from the
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
 * depends on the derivative auxiliaries (through |d|_inf, S, q), as the paper states.
 * (tests/test_lysep.c checks the inequality on random states.)
 *
 * ALGORITHM (one outer iteration; the paper's alternating skeleton, our details):
 *  1. weights we, wf, wg, wb from the current state (adaptive) or fixed;
 *  2. weight blocks l = L..1, each ONE linear least-squares problem: Gram =
 *     SYRK(value rows [h_{l-1} 1]) + SYRK(derivative rows [sigma'(a_{l-1}) . d_{l-1,k}  0])
 *     + SYRK(Laplacian rows [sigma'' . S + sigma' . q  0]), rows scaled by sqrt(weight),
 *     + the proximal term lysep.prox (ours; default) or the paper's relative ridge
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
 * Schedule (ours, asked for by polish = LBFGS; no default polish): phase_iters = 3 alternating
 * iterations as a warm start, then the L-BFGS polish phase on J_PINN through the PINN's
 * exact gradient, within the run's totals (max_iters, time_budget); its entries are
 * labelled "L-BFGS (polish)" and carry loss = J_PINN. The paper's form (pure alternating
 * auxiliary updates until the run's budget) is polish = SAPM_METHOD_NONE with
 * lysep.prox = 1e-10.
 *
 * WHAT THE MEASUREMENTS SAY (bench/bench_lysep.c and bench/bench_pde.c print the tables;
 * README gives the commands). Every block step provably decreases J_aux (tests: the weight
 * block and the derivative block are exact minimisers, the value steps descend) and
 * J_PINN <= C J_aux holds along every run, but the alternating phase converges SLOWLY:
 * on transport it reaches relative L2 ~2e-1 in 10 s and then creeps, on Poisson 2-D ~8e-2.
 * The first output-layer solve is an excellent least-squares fit of the random features,
 * but it gives W_L a large norm, the adaptive weights (products of ||W_j||^2) then pin the
 * lower auxiliaries, and progress is limited to what the top layers can do. A tiny prox
 * (1e-10) is best for the alternating phase alone; before an L-BFGS polish prox ~1 is
 * (with 1e-10 the polish stalls at ~0.26 on transport, with 1 it reaches ~9e-4 in 20 s).
 * The ordinary PINN with L-BFGS beats the alternating phase alone on every bench problem;
 * that schedule is 18-40x better than the paper's form and on par with the PINN's
 * L-BFGS, not reliably ahead of it.
 *
 * DATA PARALLEL: the Gram matrices and right-hand sides of the weight blocks go through
 * sapm__allreduce (opt->base.allreduce); every auxiliary update is per point (local).
 * The logged J_PINN / J_aux of the alternating phase are this worker's sums (not
 * reduced) - a known gap. History entries carry method = SAPM_METHOD_SAPM.
 *
 * COST AND MEMORY per outer iteration (n = hidden width, K directions):
 *   memory: auxiliaries (L-1)(N+M) n + (L-1) N K n [+ (L-1) N n] doubles, the forward
 *   pass the same again, plus ~3 N K n doubles of work space: about 8 L N K n bytes * 2.
 *   d = 100, N = 1000, M = 5000, n = 50, L = 4: measured 389 MB peak RSS for the whole
 *   process and ~3.7 s per outer iteration on this 2-core machine under load ~8
 *   (dev run; d = 2: ~0.2 s for SAPM-PINN, ~0.45 s for LySep per iteration).
 *   time: O(L N n^2 K) for every product W d_k (the same order as one PINN forward pass
 *   with first derivatives) plus O(L N n^3) for the per-point n x n Cholesky factors.
 *   For SAPM-PINN K = 1, so the cost is O(L N n^2 (n + 1)) independent of d.
 *   In d: the first weight block is a (d + 1)-dimensional least-squares solve, so each
 *   outer iteration adds O((N + M) d^2 + d^3) time and 16 (d + 1)^2 bytes (Gram matrix and
 *   factor); every other buffer has the widths of layers 1..L. bench/bench_dims.c, net
 *   d-32-32-1, 32 + 32 points, one outer iteration: 0.3 s and 76 MB at d = 1000, 5.5 s
 *   and 684 MB at d = 5000 (the PINN's L-BFGS iteration: 0.1 s there).
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
    o.inner_sweeps = 1;
    o.halvings = 6;
    o.ridge = 0.0;
    o.prox = 1.0;           /* ours: warm start + polish (measured best); paper's form: 1e-10 */
    o.trace = NULL;
    return o;
}

SAPMDEF double sapm_lysep_bound_constant(int depth, int second_order)
{
    if (depth < 2) return -1.0;
    return second_order ? 3.0 * depth - 3.0 : 2.0 * depth - 1.0;   /* in double: no int overflow */
}

/* The state of one SAPM-PINN / LySep run. Hidden layer l = 1..L-1 lives in slot l of the
 * per-layer arrays (slot 0 unused). Row layouts: values (N + M) x n_l (interior rows then
 * boundary rows), derivatives N x K x n_l (point, direction, unit), Laplacians N x n_l. */
/* --- state, forward pass, weights and J_aux ----------------------------------------- */

/* Constraint weights: self-adaptive (SAPM: the bound J_PINN <= C J_aux holds) or every
 * constraint weight fixed (PM). */
enum { SAPM__LYSEP_WEIGHTS_ADAPTIVE = 0, SAPM__LYSEP_WEIGHTS_FIXED = 1 };

typedef struct sapm__lysep {
    const sapm__pde_data *p;
    sapm_net *net;
    const sapm_options *base;      /* its all-reduce hook (may be NULL: one worker) */
    int L, N, M, R, d, K, coord, second, nmax;   /* N, M: this worker's points; nmax: widest
                                                    of layers 1..L (not n_0 = d) */
    double wi, wb;                 /* alpha / N and beta / M over every worker's points */
    double K1, K2, K3;
    int weighting;
    double fixed_weight, ridge, prox, wscale;
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
    int l, N = p->N, M = p->M, L = net->depth, n, n0, nin, k, i;
    size_t nk, R;
    memset(S, 0, sizeof *S);
    S->p = p;
    S->net = net;
    S->L = L;
    S->N = N;
    S->M = M;
    S->R = N + M;
    S->wi = N > 0 ? p->alpha / N : 0.0;      /* one worker; sapm__lysep_begin counts all */
    S->wb = M > 0 ? p->beta / M : 0.0;
    S->d = p->d;
    S->second = second;
    S->coord = second;
    S->wscale = 1.0;
    S->K = second ? p->d : (p->c ? 1 : 0);
    /* the work buffers are sized by the widths of layers 1..L; only the rows [x 1] of the
     * first weight block, its derivative rows (SAPM-PINN: v = c(x)) and its (d+1)-square
     * Gram matrix have n_0 = d columns (LySep's layer-1 derivative rows are the unit
     * vectors, folded into the Gram's diagonal): memory O((N + M) d + d^2), not N d^2 */
    S->nmax = 1;
    for (l = 1; l <= L; ++l) S->nmax = SAPM__MAX(S->nmax, net->widths[l]);
    n0 = net->widths[0];
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
    nin = SAPM__MAX(n, n0);                  /* the widest input of a weight block */
    S->dirw = (double *)sapm__calloc(nk, sizeof(double));
    S->TA = (double *)sapm__alloc(R * (size_t)n, sizeof(double));
    S->TD = (double *)sapm__alloc(nk * (size_t)n, sizeof(double));
    S->TQ = (double *)sapm__alloc((size_t)N * (size_t)n, sizeof(double));
    S->hbuf = (double *)sapm__alloc(R * (size_t)(nin + 1), sizeof(double));
    S->ubuf = (double *)sapm__alloc(SAPM__MAX(nk * (size_t)n, S->coord ? 0 : (size_t)N * (size_t)n0),
                                    sizeof(double));
    S->pbuf = (double *)sapm__calloc((size_t)N * (size_t)n, sizeof(double));
    S->s1 = (double *)sapm__alloc((size_t)N * (size_t)n, sizeof(double));
    S->s2 = (double *)sapm__alloc((size_t)N * (size_t)n, sizeof(double));
    S->tbuf = (double *)sapm__alloc((nk > R ? nk : R) * (size_t)n, sizeof(double));
    S->gr = (double *)sapm__alloc((size_t)(nin + 1) * (size_t)(nin + 1 + n), sizeof(double));
    S->chol = (double *)sapm__alloc((size_t)(nin + 1) * (size_t)(nin + 1), sizeof(double));
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
 * Qsrc; ignored for l = 1, where the source is x, v_k and 0) through layer l (the tape's recursions
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
    return S->wi * si + S->wb * sb;
}

/* Forward pass of the network into Z, DZ, QZ; returns J_PINN. */
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
    if (S->weighting == SAPM__LYSEP_WEIGHTS_FIXED) {
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
    if (S->wscale != 1.0)
        for (l = 1; l < L; ++l) {
            for (i = 0; i < S->R; ++i) S->we[l][i] *= S->wscale;
            for (i = 0; i < N; ++i) { S->wf[l][i] *= S->wscale; S->wg[l][i] *= S->wscale; }
        }
}

/* J_aux of the current state (weights as stored). Uses TA/TD/TQ as scratch. */
static double sapm__lysep_jaux(sapm__lysep *S)
{
    int L = S->L, N = S->N, R = S->R, K = S->K, l, i, j;
    double wi = S->wi, wb = S->wb, J = 0.0;
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

/* --- weight blocks ------------------------------------------------------------------ */

/* Weight block of layer l (1..L): one weighted linear least-squares problem (see notes). */
static sapm_result sapm__lysep_update_W(sapm__lysep *S, const sapm_options *base, int l)
{
    const sapm__pde_data *p = S->p;
    sapm_net *net = S->net;
    int L = S->L, N = S->N, M = S->M, R = S->R, K = S->K;
    int nin = net->widths[l - 1], nout = net->widths[l], dim = nin + 1, ldh = nin + 1, i, j, k;
    double wi = S->wi, wb = S->wb;
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
    /* ridge (the paper's adaptive sqrt(lambda_n) I, relative to the mean diagonal) and prox (ours) */
    tr = 0.0;
    for (i = 0; i < dim; ++i) tr += gram[(size_t)i * dim + i];
    tr = tr / dim + DBL_MIN;
    lam = S->ridge * tr;
    if (!(lam > 0.0)) lam = 1e-15 * tr;
    return sapm__weight_block_solve(nin, nout, gram, rhs, S->chol, lam, S->prox * tr, tr, W, b);
}

/* --- auxiliary blocks, per point ---------------------------------------------------- */

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
    int j;
    double tr = 0.0;
    for (j = 0; j < n; ++j) tr += H[(size_t)j * n + j];
    tr = fabs(tr) / n;
    if (sapm__spd_factor_jitter(n, H, Hc, 1e-13 * tr + DBL_MIN, tr + DBL_MIN) != SAPM_OK) return 0;
    sapm_chol_solve(n, nrhs, Hc, n, B, nrhs);
    return sapm__all_finite(B, (size_t)n * nrhs);
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

/* --- the phase ---------------------------------------------------------------------- */

/* Argument checks of the SAPM-PINN / LySep phase (second: the operator is second order). */
static sapm_result sapm__lysep_check(const sapm_net *net, const sapm__pde_data *p,
                                     const sapm_pde_options *opt, int second, const char **msg)
{
    const sapm_lysep_options *lo = &opt->lysep;
    double K2, K3;
    if (net->depth < 2) { *msg = "SAPM-PINN / LySep need a network of depth >= 2"; return SAPM_ERR_UNSUPPORTED; }
    sapm__lysep_act_bounds(net->act, &K2, &K3);
    if (K2 < 0.0) { *msg = "SAPM-PINN / LySep need an activation with sigma'' (not ReLU)"; return SAPM_ERR_UNSUPPORTED; }
    if (!second && !p->c) {
        *msg = "SAPM on a PDE needs a first-order (c != 0) or second-order (kappa != 0) operator";
        return SAPM_ERR_UNSUPPORTED;
    }
    SAPM__BAD(opt->base.method == SAPM_METHOD_PM &&
                  (!(opt->base.aux.pm_lambda > 0.0) || !isfinite(opt->base.aux.pm_lambda)),
              "base.aux.pm_lambda must be finite and > 0 (PM phase on a PDE)");
    SAPM__BAD(lo->inner_sweeps < 1, "lysep.inner_sweeps must be >= 1 (SAPM-PINN / LySep phase)");
    SAPM__BAD(lo->halvings < 0 || lo->halvings > 60, "lysep.halvings must lie in 0..60 (SAPM-PINN / LySep phase)");
    SAPM__BAD(!(lo->prox >= 0.0) || !isfinite(lo->prox), "lysep.prox must be finite and >= 0 (SAPM-PINN / LySep phase)");
    SAPM__BAD(!(lo->ridge >= 0.0) || !isfinite(lo->ridge), "lysep.ridge must be finite and >= 0 (SAPM-PINN / LySep phase)");
    SAPM__BAD(lo->trace && lo->trace->capacity < 0, "lysep.trace->capacity must be >= 0");
    return SAPM_OK;
}

/* The state of the phase from the forward network: every auxiliary = the network's value,
 * derivatives and Laplacian; *jp = J_PINN, *ja = J_aux (equal up to rounding). */
/* J_PINN and J_aux summed over the workers (each worker's sums carry the global weights). */
static sapm_result sapm__lysep_reduce_losses(sapm__lysep *S, double *jp, double *ja)
{
    double v[2];
    sapm_result r;
    if (!S->base || !S->base->allreduce) return SAPM_OK;
    v[0] = *jp;
    v[1] = *ja;
    if ((r = sapm__allreduce(S->base, v, 2)) != SAPM_OK) return r;
    *jp = v[0];
    *ja = v[1];
    return SAPM_OK;
}

static sapm_result sapm__lysep_begin(sapm__lysep *S, sapm_net *net, const sapm__pde_data *p,
                                     const sapm_pde_options *opt, int second, double *jp,
                                     double *ja)
{
    const sapm_lysep_options *lo = &opt->lysep;
    double counts[2];
    sapm_result res = sapm__lysep_alloc(S, net, p, second);
    if (res != SAPM_OK) return res;
    /* the loss weights count every worker's points */
    S->base = &opt->base;
    counts[0] = S->N;
    counts[1] = S->M;
    if ((res = sapm__allreduce(S->base, counts, 2)) != SAPM_OK) { sapm__lysep_free(S); return res; }
    S->wi = counts[0] > 0.0 ? p->alpha / counts[0] : 0.0;
    S->wb = counts[1] > 0.0 ? p->beta / counts[1] : 0.0;
    S->weighting = opt->base.method == SAPM_METHOD_PM ? SAPM__LYSEP_WEIGHTS_FIXED : SAPM__LYSEP_WEIGHTS_ADAPTIVE;
    S->fixed_weight = opt->base.aux.pm_lambda;
    S->ridge = lo->ridge;
    S->prox = lo->prox;
    S->halvings = lo->halvings;
    S->wscale = 1.0;
    if (lo->trace) lo->trace->count = 0;
    *jp = sapm__lysep_forward(S);
    sapm__lysep_aux_from_forward(S);
    sapm__lysep_weights(S);
    *ja = sapm__lysep_jaux(S);
    if ((res = sapm__lysep_reduce_losses(S, jp, ja)) != SAPM_OK) { sapm__lysep_free(S); return res; }
    memcpy(S->old, net->params, net->n_params * sizeof(double));
    sapm__lysep_trace_push(lo->trace, 0, S, *ja, *jp);
    return SAPM_OK;
}

/* One outer iteration (see the section notes): weights, the weight blocks l = L..1, the
 * auxiliary sweeps, then J_PINN of the forward network (*jp) and J_aux (*ja). A non-finite
 * result restores the previous parameters (SAPM_ERR_DIVERGED); so does an error. */
static sapm_result sapm__lysep_outer(sapm__lysep *S, const sapm_pde_options *opt, int iter,
                                     double *jp, double *ja)
{
    sapm_net *net = S->net;
    sapm_result res = SAPM_OK;
    int l, s;
    /* 1-2. weights, then the weight blocks l = L..1 */
    sapm__lysep_weights(S);
    for (l = S->L; l >= 1 && res == SAPM_OK; --l) res = sapm__lysep_update_W(S, &opt->base, l);
    if (res != SAPM_OK) {
        memcpy(net->params, S->old, net->n_params * sizeof(double));
        return res;
    }
    /* 3. auxiliary sweeps, with weights of the new W */
    for (s = 0; s < opt->lysep.inner_sweeps; ++s) {
        sapm__lysep_weights(S);
        sapm__lysep_sweep(S);
    }
    /* 4. the true loss of the forward network and J_aux (sums over every worker) */
    *jp = sapm__lysep_forward(S);
    *ja = sapm__lysep_jaux(S);
    if ((res = sapm__lysep_reduce_losses(S, jp, ja)) != SAPM_OK) {
        memcpy(net->params, S->old, net->n_params * sizeof(double));
        return res;
    }
    if (!isfinite(*jp) || !isfinite(*ja)) {
        memcpy(net->params, S->old, net->n_params * sizeof(double));
        return SAPM_ERR_DIVERGED;
    }
    memcpy(S->old, net->params, net->n_params * sizeof(double));
    sapm__lysep_trace_push(opt->lysep.trace, iter, S, *ja, *jp);
    return SAPM_OK;
}

/* The SAPM-PINN / LySep phase (PM: fixed constraint weights): outer iterations until the
 * run stops or hands over. Logged: mse = J_PINN of the forward network, loss = J_aux,
 * error = the problem's held-out error. */
static sapm_result sapm__phase_lysep(sapm__run *run, sapm_net *net, const sapm__pde_data *p,
                                     const sapm_pde_options *opt, const sapm__problem *pb,
                                     int second, sapm_stop_reason *stop_out)
{
    sapm__lysep S;
    sapm_result res, status = SAPM_OK;
    sapm_stop_reason stop = SAPM_STOP_NONE;
    double jp, ja, err = NAN;
    *stop_out = SAPM_STOP_ERROR;
    if ((res = sapm__lysep_begin(&S, net, p, opt, second, &jp, &ja)) != SAPM_OK) return res;
    if (isfinite(jp) && (res = sapm__problem_monitor(pb, net->params, jp, &jp, &err)) != SAPM_OK) {
        sapm__lysep_free(&S);
        return res;
    }
    stop = sapm__run_step(run, 0, jp, ja, err, 1);
    if (stop == SAPM_STOP_DIVERGED) status = SAPM_ERR_DIVERGED;
    while (stop == SAPM_STOP_NONE && !sapm__run_handover(run)) {
        int wanted;
        res = sapm__lysep_outer(&S, opt, run->iter + 1, &jp, &ja);
        if (res == SAPM_ERR_DIVERGED) { stop = SAPM_STOP_DIVERGED; status = res; break; }
        if (res != SAPM_OK) { stop = SAPM_STOP_ERROR; status = res; break; }
        wanted = sapm__run_logs_next(run);
        err = NAN;
        if (wanted && (res = sapm__problem_monitor(pb, net->params, jp, &jp, &err)) != SAPM_OK) {
            stop = SAPM_STOP_ERROR; status = res; break;
        }
        stop = sapm__run_step(run, 1, jp, ja, err, wanted);
    }
    sapm__lysep_free(&S);
    *stop_out = stop;
    return status;
}

/* --- step API ------------------------------------------------------------------------ */
struct sapm_pde_aux_state {
    sapm__lysep S;
    sapm__pde_data p;
    double *storage;
    sapm_pde_options opt;       /* a copy: the state outlives the caller's struct */
    double jp, ja;              /* J_PINN and J_aux of the current state */
    int iter;
};

SAPMDEF sapm_result sapm_pde_aux_create(sapm_pde_aux_state **out, sapm_net *net, const sapm_pde *pde,
                                        int N, const double *X, int M, const double *Xb,
                                        const sapm_pde_options *opt)
{
    sapm_pde_aux_state *s;
    const char *msg = NULL;
    sapm_result r;
    if (!out) return SAPM_ERR_NULL_ARGUMENT;
    *out = NULL;
    if (!opt) return SAPM_ERR_NULL_ARGUMENT;
    if (opt->base.method != SAPM_METHOD_PM && opt->base.method != SAPM_METHOD_SAPM) return SAPM_ERR_INVALID_ARGUMENT;
    if ((r = sapm__pde_check(pde)) != SAPM_OK) return r;
    if ((r = sapm__pde_net_check(net, pde->d)) != SAPM_OK) return r;
    if (!sapm__all_finite(net->params, net->n_params)) return SAPM_ERR_NONFINITE_INPUT;
    s = (sapm_pde_aux_state *)sapm__calloc(1, sizeof *s);
    if (!s) return SAPM_ERR_OUT_OF_MEMORY;
    s->opt = *opt;
    s->opt.lysep.trace = NULL;
    r = sapm__pde_build(&s->p, &s->storage, pde, N, X, M, Xb, opt->alpha, opt->beta);
    if (r == SAPM_OK && sapm__pde_nonlinear_reason(&s->p)) r = SAPM_ERR_UNSUPPORTED; /* linear Dirichlet only */
    if (r == SAPM_OK) r = sapm__lysep_check(net, &s->p, &s->opt, s->p.kappa != NULL, &msg);
    if (r == SAPM_OK) r = sapm__lysep_begin(&s->S, net, &s->p, &s->opt, s->p.kappa != NULL, &s->jp, &s->ja);
    if (r != SAPM_OK) {
        if (s->storage) SAPM_FREE(s->storage);
        SAPM_FREE(s);
        return r;
    }
    *out = s;
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_pde_aux_step(sapm_pde_aux_state *s)
{
    if (!s) return SAPM_ERR_NULL_ARGUMENT;
    return sapm__lysep_outer(&s->S, &s->opt, ++s->iter, &s->jp, &s->ja);
}

SAPMDEF sapm_result sapm_pde_aux_losses(sapm_pde_aux_state *s, double *j_aux, double *j_pinn)
{
    if (!s) return SAPM_ERR_NULL_ARGUMENT;
    if (j_aux) *j_aux = s->ja;
    if (j_pinn) *j_pinn = s->jp;
    return SAPM_OK;
}

SAPMDEF void sapm_pde_aux_destroy(sapm_pde_aux_state *s)
{
    if (!s) return;
    sapm__lysep_free(&s->S);
    if (s->storage) SAPM_FREE(s->storage);
    SAPM_FREE(s);
}

/* ======================================================================================
 * Implementation: entry points - sapm_train and sapm_pde_train
 *
 * Each call validates everything every phase of its run will read, builds its problem
 * (data or PDE), and runs its schedule: the method's phase, then the polish phase when
 * opt.polish asks for one and the first phase handed over or converged.
 * ====================================================================================== */

/* The sentence for a status of sapm__check_data (each status comes from one check). */
static const char *sapm__data_reason(sapm_result r)
{
    switch (r) {
    case SAPM_ERR_NULL_ARGUMENT: return "net, X or Y is NULL";
    case SAPM_ERR_INVALID_ARGUMENT: return "net is not a network made by sapm_net_create (or sapm_net_load)";
    case SAPM_ERR_INVALID_SIZE: return "N (the number of samples) must be >= 1";
    case SAPM_ERR_SIZE_MISMATCH: return "ldx must be >= n_0 and ldy >= n_L";
    case SAPM_ERR_NONFINITE_INPUT: return "X or Y contains NaN or Inf";
    default: return "the network or the data set was rejected";
    }
}

/* The sentences for the statuses of sapm__pde_check, sapm__pde_net_check and
 * sapm__pde_build (stage 0, 1, 2; each status comes from one check of its stage). */
static const char *sapm__pde_reason(int stage, sapm_result r)
{
    if (stage == 0)
        return r == SAPM_ERR_INVALID_SIZE ? "pde->d must lie in 1..SAPM_PDE_MAX_DIM"
             : r == SAPM_ERR_NONFINITE_INPUT ? "pde->c_const, kappa_const or c0_const is NaN or Inf"
             : "pde is NULL or has no f or g";
    if (stage == 1)
        return r == SAPM_ERR_SIZE_MISMATCH ? "the network must have n_0 = pde->d inputs and one output (pde->m for a system)"
             : "net is NULL or not a network made by sapm_net_create";
    switch (r) {
    case SAPM_ERR_NULL_ARGUMENT: return "X or Xb is NULL";
    case SAPM_ERR_INVALID_SIZE: return "N and M (interior and boundary points) must be >= 1";
    case SAPM_ERR_INVALID_ARGUMENT: return "alpha and beta must be finite and >= 0, alpha + beta > 0";
    case SAPM_ERR_NONFINITE_INPUT: return "X or Xb contains NaN or Inf";
    case SAPM_ERR_CALLBACK: return "a PDE callback (c_fn, kappa_fn, c0_fn, f or g) returned NaN or Inf";
    case SAPM_ERR_OUT_OF_MEMORY: return "out of memory for the PDE's coefficients";
    default: return "the points or the PDE's coefficients were rejected";
    }
}

/* Held-out points: n_test rows of X_test (width d) and, when Y_test is required or given,
 * n_test x m values; everything finite. */
static sapm_result sapm__check_test_points(const sapm_options *opt, int d, int m, int need_y,
                                           const char **msg)
{
    if (opt->n_test <= 0) return SAPM_OK;
    if (!opt->X_test || (need_y && !opt->Y_test)) {
        *msg = need_y ? "n_test > 0 needs X_test and Y_test" : "n_test > 0 needs X_test";
        return SAPM_ERR_NULL_ARGUMENT;
    }
    if (!sapm__matrix_finite(opt->X_test, opt->n_test, d, d) ||
        (opt->Y_test && !sapm__all_finite(opt->Y_test, (size_t)opt->n_test * (size_t)m))) {
        *msg = "X_test / Y_test contain NaN or Inf";
        return SAPM_ERR_NONFINITE_INPUT;
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_train(sapm_net *net, int N, const double *X, int ldx, const double *Y,
                               int ldy, const sapm_options *opt, sapm_report *rep)
{
    sapm__data_problem e;
    sapm__problem pb;
    sapm__run run;
    sapm__aux st;
    sapm_stop_reason stop = SAPM_STOP_NONE;
    sapm_result r, status;
    const char *msg = NULL;
    int aux;
    if ((r = sapm__check_data(net, N, X, ldx, Y, ldy)) != SAPM_OK)
        return sapm__reject(rep, r, sapm__data_reason(r));
    if (!opt) return sapm__reject(rep, SAPM_ERR_NULL_ARGUMENT, "opt is NULL");
    if ((r = sapm__check_run_options(opt, &msg)) != SAPM_OK) return sapm__reject(rep, r, msg);
    aux = opt->method == SAPM_METHOD_PM || opt->method == SAPM_METHOD_SAPM;
    if (aux && (r = sapm__aux_check_options(opt, &msg)) != SAPM_OK) return sapm__reject(rep, r, msg);
    if ((r = sapm__check_test_points(opt, net->widths[0], net->widths[net->depth], 1, &msg)) != SAPM_OK)
        return sapm__reject(rep, r, msg);
    if (!sapm__all_finite(net->params, net->n_params))
        return sapm__reject(rep, SAPM_ERR_NONFINITE_INPUT, "the network's parameters contain NaN or Inf");
    if ((r = sapm__data_problem_init(&e, net, N, X, ldx, Y, ldy, opt)) != SAPM_OK)
        return sapm__reject(rep, r, "could not set up the data problem");
    pb = sapm__data_problem_table(&e);
    if (aux && (r = sapm__aux_alloc(&st, net, N, X, ldx, Y, ldy, opt)) != SAPM_OK) {
        sapm__data_problem_free(&e);
        return sapm__reject(rep, r, "could not allocate the PM/SAPM auxiliaries");
    }
    sapm__run_begin(&run, opt, rep, 1000);
    if ((r = sapm__run_start(&run, net, 0, sapm_method_name(opt->method), rep)) != SAPM_OK) {
        if (aux) sapm__aux_free(&st);
        sapm__data_problem_free(&e);
        return r;
    }
    if (aux && run.resume_phase == 1) {         /* resumed in the polish */
        sapm__aux_free(&st);
        sapm__run_phase(&run, opt->polish, sapm__polish_label(opt->polish), 0);
        status = sapm__phase_on_problem(&run, &pb, opt->polish, net->params, &stop);
    } else if (aux) {
        sapm__run_phase(&run, opt->method, sapm_method_name(opt->method), 1);
        status = sapm__phase_aux(&run, &st, &pb, &stop);
        sapm__aux_free(&st);
        if (sapm__polish_wanted(&run, stop, status)) status = sapm__run_polish(&run, &pb, net->params, &stop);
    } else {
        status = sapm__run_phases(&run, &pb, net->params, sapm_method_name(opt->method), &stop);
    }
    status = sapm__run_finish(&run, &pb, net->params, stop, status, NULL);
    sapm__data_problem_free(&e);
    return status;
}

SAPMDEF sapm_result sapm_pde_train(sapm_net *net, const sapm_pde *pde, int N, const double *X,
                                   int M, const double *Xb, const sapm_pde_options *opt,
                                   sapm_report *rep)
{
    sapm__pde_data p;
    sapm__pinn_eval e;
    sapm__problem pb;
    sapm__run run;
    sapm__pde_resampler rs;
    sapm_stop_reason stop = SAPM_STOP_NONE;
    double *storage = NULL, *u_test = NULL, *x = NULL;
    const double *u_ref;
    const char *msg = NULL, *label;
    sapm_result r, status;
    int aux, second, resample;
    if (!opt) return sapm__reject(rep, SAPM_ERR_NULL_ARGUMENT, "opt is NULL");
    if ((r = sapm__check_run_options(&opt->base, &msg)) != SAPM_OK) return sapm__reject(rep, r, msg);
    if ((r = sapm__pde_check_why(pde, &msg)) != SAPM_OK) return sapm__reject(rep, r, msg);
    if ((r = sapm__pde_net_check_m(net, pde->d, pde->m > 1 ? pde->m : 1)) != SAPM_OK)
        return sapm__reject(rep, r, sapm__pde_reason(1, r));
    if ((r = sapm__check_test_points(&opt->base, pde->d, pde->m > 1 ? pde->m : 1, !pde->exact || pde->m > 1,
                                     &msg)) != SAPM_OK)
        return sapm__reject(rep, r, msg);
    if (!sapm__all_finite(net->params, net->n_params))
        return sapm__reject(rep, SAPM_ERR_NONFINITE_INPUT, "the network's parameters contain NaN or Inf");
    if ((r = sapm__pde_build(&p, &storage, pde, N, X, M, Xb, opt->alpha, opt->beta)) != SAPM_OK)
        return sapm__reject(rep, r, p.why ? p.why : sapm__pde_reason(2, r));
    if (sapm__pde_second_order(&p) && net->act == SAPM_ACT_RELU) { /* no sigma'' */
        SAPM_FREE(storage);
        return sapm__reject(rep, SAPM_ERR_UNSUPPORTED, "a second-order PDE needs an activation with sigma'' (not ReLU)");
    }
    if ((int)opt->balance < (int)SAPM_BALANCE_NONE || (int)opt->balance >= (int)SAPM_BALANCE_COUNT ||
        (opt->balance != SAPM_BALANCE_NONE && !(opt->alpha > 0.0))) {
        SAPM_FREE(storage);
        return sapm__reject(rep, SAPM_ERR_INVALID_ARGUMENT, "balance must be SAPM_BALANCE_NONE, "
                            "NTK or GRAD (and alpha > 0 unless NONE)");
    }
    if (opt->balance != SAPM_BALANCE_NONE && opt->base.resume_from) {
        SAPM_FREE(storage);
        return sapm__reject(rep, SAPM_ERR_UNSUPPORTED, "resume_from with balance != NONE: resume with "
                            "balance = SAPM_BALANCE_NONE and beta = the first run's weight (sapm_pde_balance_beta)");
    }
    if (opt->balance != SAPM_BALANCE_NONE) {
        /* the automatic boundary weight at the starting parameters */
        double w;
        r = sapm__pde_balance(net, &p, opt->balance, opt->alpha, &opt->base, &w);
        if (r != SAPM_OK && r != SAPM_ERR_DIVERGED) {
            SAPM_FREE(storage);
            return sapm__reject(rep, r, "balance: could not compute the automatic boundary weight");
        }
        /* undefined (a block's gradients all zero or not finite): beta as given; a start
         * whose loss is not finite is then reported by the run as diverged */
        if (r == SAPM_OK) p.beta = opt->beta * w;
    }
    if (opt->resample_every < 0) {
        SAPM_FREE(storage);
        return sapm__reject(rep, SAPM_ERR_INVALID_ARGUMENT, "resample_every must be >= 0");
    }
    aux = opt->base.method == SAPM_METHOD_PM || opt->base.method == SAPM_METHOD_SAPM;
    second = p.kappa != NULL;
    if (aux && (msg = sapm__pde_nonlinear_reason(&p)) != NULL) {
        SAPM_FREE(storage);
        return sapm__reject(rep, SAPM_ERR_UNSUPPORTED, msg);
    }
    if (p.n_theta > 0 && (opt->base.checkpoint_path || opt->base.resume_from)) {
        SAPM_FREE(storage);
        return sapm__reject(rep, SAPM_ERR_UNSUPPORTED, "checkpoints of a PDE run do not hold trainable "
                            "coefficients (pde->n_theta > 0): unset checkpoint_path and resume_from");
    }
    if (aux && (opt->base.checkpoint_path || opt->base.resume_from)) {
        SAPM_FREE(storage);
        return sapm__reject(rep, SAPM_ERR_UNSUPPORTED, "checkpoints of a PDE run cover the GD, Adam, "
                            "L-BFGS and LM phases (not SAPM-PINN, LySep or PM on a PDE)");
    }
    if (aux && (r = sapm__lysep_check(net, &p, opt, second, &msg)) != SAPM_OK) {
        SAPM_FREE(storage);
        return sapm__reject(rep, r, msg);
    }
    u_ref = opt->base.Y_test;
    if (opt->base.n_test > 0 && !u_ref) {
        u_test = (double *)sapm__alloc((size_t)opt->base.n_test, sizeof(double));
        r = u_test ? sapm_pde_exact_values(pde, opt->base.n_test, opt->base.X_test, u_test)
                   : SAPM_ERR_OUT_OF_MEMORY;
        if (r != SAPM_OK) {
            if (u_test) SAPM_FREE(u_test);
            SAPM_FREE(storage);
            return sapm__reject(rep, r, "could not evaluate pde->exact at the test points");
        }
        u_ref = u_test;
    }
    if ((r = sapm__pinn_point(net, &p, &x)) != SAPM_OK ||
        (r = sapm__pinn_eval_init(&e, net, &p, &opt->base)) != SAPM_OK) {
        if (x && x != net->params) SAPM_FREE(x);
        if (u_test) SAPM_FREE(u_test);
        SAPM_FREE(storage);
        return sapm__reject(rep, r, "could not set up the PDE problem");
    }
    e.n_test = opt->base.n_test;
    e.X_test = opt->base.X_test;
    e.u_test = u_ref;
    pb = sapm__pinn_problem_table(&e);
    if (p.res) {
        /* the residual callback once at the start, strictly: NaN/Inf is its error here */
        double f0;
        e.strict = 1;
        r = sapm__pinn_objective(&e, x, &f0, NULL);
        e.strict = 0;
        if (r != SAPM_OK) {
            int i, kind = 0;
            for (i = 0; i < e.nthreads; ++i) kind = SAPM__MAX(kind, e.terr[i]);
            sapm__pinn_eval_free(&e);
            if (x != net->params) SAPM_FREE(x);
            if (u_test) SAPM_FREE(u_test);
            SAPM_FREE(storage);
            return sapm__reject(rep, r, kind == 2 ? "pde->residual gave NaN or Inf (in r, left unset, or in "
                                                    "a partial derivative) at the initial parameters"
                                                  : "pde->residual returned nonzero at the initial parameters");
        }
    }
    resample = opt->resample_every;
    if (resample > 0 && (opt->base.method == SAPM_METHOD_LM || opt->base.polish == SAPM_METHOD_LM)) {
        r = opt->base.resume_from ? SAPM_ERR_UNSUPPORTED : sapm__pde_resampler_init(&rs, pde, &p, M, Xb);
        if (r != SAPM_OK) {
            sapm__pinn_eval_free(&e);
            if (x != net->params) SAPM_FREE(x);
            if (u_test) SAPM_FREE(u_test);
            SAPM_FREE(storage);
            return sapm__reject(rep, r, r == SAPM_ERR_INVALID_ARGUMENT
                                ? "resample_every: the points X, Xb span no box (a coordinate is constant)"
                                : r == SAPM_ERR_UNSUPPORTED
                                ? "resample_every with resume_from: resume with resample_every = 0"
                                : "resample_every: out of memory");
        }
        pb.resample = sapm__pde_resample; pb.resample_ctx = &rs; pb.resample_every = resample;
    }
    label = !aux ? sapm_method_name(opt->base.method)
            : opt->base.method == SAPM_METHOD_PM ? "PM" : second ? "LySep" : "SAPM-PINN";
    sapm__run_begin(&run, &opt->base, rep, 5000);
    if ((r = sapm__run_start(&run, net, 1, label, rep)) != SAPM_OK) {
        sapm__pinn_eval_free(&e);
        if (x != net->params) SAPM_FREE(x);
        if (pb.resample) sapm__pde_resampler_free(&rs);
        if (u_test) SAPM_FREE(u_test);
        SAPM_FREE(storage);
        return r;
    }
    if (aux) {
        sapm__run_phase(&run, opt->base.method, label, 1);
        status = sapm__phase_lysep(&run, net, &p, opt, &pb, second, &stop);
        if (sapm__polish_wanted(&run, stop, status)) status = sapm__run_polish(&run, &pb, net->params, &stop);
    } else {
        status = sapm__run_phases(&run, &pb, x, label, &stop);
    }
    status = sapm__run_finish(&run, &pb, x, stop, status,
                              status == SAPM_ERR_CALLBACK && p.res ? "pde->residual returned nonzero during the run" : NULL);
    if (x != net->params) {                 /* (network, theta) back to their owners */
        memcpy(net->params, x, net->n_params * sizeof(double));
        memcpy(pde->theta, x + net->n_params, (size_t)p.n_theta * sizeof(double));
        SAPM_FREE(x);
    }
    sapm__pinn_eval_free(&e);
    if (pb.resample) sapm__pde_resampler_free(&rs);
    if (u_test) SAPM_FREE(u_test);
    SAPM_FREE(storage);
    return status;
}

/* ======================================================================================
 * Implementation: MPI adaptor (SAPM_USE_MPI)
 * ====================================================================================== */
#ifdef SAPM_USE_MPI
SAPMDEF sapm_result sapm_mpi_init(sapm_mpi *m, MPI_Comm comm)
{
    int initialised = 0, e;
    if (!m) return SAPM_ERR_NULL_ARGUMENT;
    memset(m, 0, sizeof *m);
    m->comm = comm;
    m->mpi_error = MPI_SUCCESS;
    if (MPI_Initialized(&initialised) != MPI_SUCCESS || !initialised) return SAPM_ERR_INVALID_ARGUMENT;
    if ((e = MPI_Comm_rank(comm, &m->rank)) != MPI_SUCCESS ||
        (e = MPI_Comm_size(comm, &m->size)) != MPI_SUCCESS) {
        m->mpi_error = e;
        return SAPM_ERR_INVALID_ARGUMENT;
    }
    return SAPM_OK;
}

SAPMDEF sapm_result sapm_mpi_allreduce(double *buf, size_t n, void *user_data)
{
    sapm_mpi *m = (sapm_mpi *)user_data;
    size_t done = 0;
    if (!m || (!buf && n > 0)) return SAPM_ERR_NULL_ARGUMENT;
    while (done < n) {
        int piece = (int)SAPM__MIN(n - done, (size_t)INT_MAX), e;
        e = MPI_Allreduce(MPI_IN_PLACE, buf + done, piece, MPI_DOUBLE, MPI_SUM, m->comm);
        if (e != MPI_SUCCESS) { m->mpi_error = e; return SAPM_ERR_CALLBACK; }
        done += (size_t)piece;
    }
    m->calls += 1;
    m->doubles += (unsigned long long)n;
    return SAPM_OK;
}

SAPMDEF void sapm_mpi_attach(sapm_mpi *m, sapm_options *opt)
{
    if (!opt) return;
    opt->allreduce = m ? sapm_mpi_allreduce : NULL;
    opt->allreduce_user_data = m;
}
#endif

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
#if !defined(STB_IMAGE_WRITE_IMPLEMENTATION)
#define SAPM__STB_TRACKED 1
#include <setjmp.h>

/* stb_image_write (1.16) compresses into growing buffers and asserts when one cannot grow
 * (with the assertion off it then writes through NULL), and leaks the compressed data when
 * its last allocation fails. So its private copy allocates through these hooks: every block
 * stb holds is on the list of the encoding in progress, an allocation that fails longjmps
 * back to sapm__stb_encode (stb holds no other resource: the file is written only after
 * the picture is encoded in memory), and whatever stb held is freed there. The hooks have
 * no argument to carry the encoding, so it is found through a thread-local pointer, set
 * only while stb runs (see sapm_png_write). */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define SAPM__THREAD_LOCAL thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define SAPM__THREAD_LOCAL _Thread_local
#elif defined(__GNUC__) || defined(__clang__)
#define SAPM__THREAD_LOCAL __thread
#elif defined(_MSC_VER)
#define SAPM__THREAD_LOCAL __declspec(thread)
#else
#define SAPM__THREAD_LOCAL   /* none known: one PNG write at a time (see the output docs) */
#endif

/* A block handed to stb: this header, then stb's bytes (the union keeps malloc's alignment). */
typedef union sapm__stb_block {
    struct { union sapm__stb_block *prev, *next; } link;
    long double align_ld; long long align_ll; void *align_p; double align_d;
} sapm__stb_block;

typedef struct sapm__stb_run {
    jmp_buf out_of_memory;
    sapm__stb_block live;      /* circular list of the blocks stb holds; this is its head */
} sapm__stb_run;

static SAPM__THREAD_LOCAL sapm__stb_run *sapm__stb_now;

static void sapm__stb_link(sapm__stb_block *b)
{
    sapm__stb_block *head;
    if (!sapm__stb_now) {                        /* stb called outside sapm_png_write */
        b->link.prev = b->link.next = b;
        return;
    }
    head = &sapm__stb_now->live;
    b->link.prev = head;
    b->link.next = head->link.next;
    head->link.next->link.prev = b;
    head->link.next = b;
}

static void sapm__stb_unlink(sapm__stb_block *b)
{
    b->link.prev->link.next = b->link.next;
    b->link.next->link.prev = b->link.prev;
}

static void *sapm__stb_malloc(size_t n)
{
    sapm__stb_block *b = n <= (size_t)-1 - sizeof *b ? (sapm__stb_block *)SAPM_MALLOC(sizeof *b + n) : NULL;
    if (!b) {
        if (sapm__stb_now) longjmp(sapm__stb_now->out_of_memory, 1);
        return NULL;                             /* outside sapm_png_write: stb's own way */
    }
    sapm__stb_link(b);
    return b + 1;
}

static void *sapm__stb_realloc(void *p, size_t n)
{
    sapm__stb_block *b, *nb;
    if (!p) return sapm__stb_malloc(n);
    b = (sapm__stb_block *)p - 1;
    sapm__stb_unlink(b);
    nb = n <= (size_t)-1 - sizeof *b ? (sapm__stb_block *)SAPM_REALLOC(b, sizeof *b + n) : NULL;
    if (!nb) {
        sapm__stb_link(b);                       /* still stb's, freed with the rest */
        if (sapm__stb_now) longjmp(sapm__stb_now->out_of_memory, 1);
        return NULL;
    }
    sapm__stb_link(nb);
    return nb + 1;
}

static void sapm__stb_free(void *p)
{
    sapm__stb_block *b = (sapm__stb_block *)p - 1;
    if (!p) return;
    sapm__stb_unlink(b);
    SAPM_FREE(b);
}

/* The private copy: static functions renamed sapm__stbi_* (so the user's own declarations
 * of stb_image_write, before or after this point, still name the user's copy) on the hooks
 * above. Its file-scope settings (compression level, filter, flip) are never changed.
 * STBIW_* macros the user defined for a copy of their own are set aside meanwhile. */
#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#pragma push_macro("STBIWDEF")
#pragma push_macro("STBIW_MALLOC")
#pragma push_macro("STBIW_REALLOC")
#pragma push_macro("STBIW_REALLOC_SIZED")
#pragma push_macro("STBIW_FREE")
#pragma push_macro("STBIW_ASSERT")
#pragma push_macro("STBIW_MEMMOVE")
#pragma push_macro("STBIW_ZLIB_COMPRESS")
#define SAPM__STB_PUSHED 1
#elif defined(STBIWDEF) || defined(STBIW_MALLOC) || defined(STBIW_REALLOC) || \
    defined(STBIW_REALLOC_SIZED) || defined(STBIW_FREE) || defined(STBIW_ASSERT) || \
    defined(STBIW_MEMMOVE) || defined(STBIW_ZLIB_COMPRESS)
#error "sapm.h: define STBIW_* after the implementation of sapm.h, or include stb_image_write.h before it"
#endif
#undef STBIWDEF
#undef STBIW_MALLOC
#undef STBIW_REALLOC
#undef STBIW_REALLOC_SIZED
#undef STBIW_FREE
#undef STBIW_ASSERT
#undef STBIW_MEMMOVE
#undef STBIW_ZLIB_COMPRESS
#ifdef INCLUDE_STB_IMAGE_WRITE_H               /* the user's declarations came first */
#define SAPM__STB_USER_DECLARED 1
#undef INCLUDE_STB_IMAGE_WRITE_H
#endif
#define stbi_write_func sapm__stbi_write_func
#define stbi_write_tga_with_rle sapm__stbi_write_tga_with_rle
#define stbi_write_png_compression_level sapm__stbi_write_png_compression_level
#define stbi_write_force_png_filter sapm__stbi_write_force_png_filter
#define stbi_write_png sapm__stbi_write_png
#define stbi_write_bmp sapm__stbi_write_bmp
#define stbi_write_tga sapm__stbi_write_tga
#define stbi_write_hdr sapm__stbi_write_hdr
#define stbi_write_jpg sapm__stbi_write_jpg
#define stbiw_convert_wchar_to_utf8 sapm__stbiw_convert_wchar_to_utf8
#define stbi_write_png_to_func sapm__stbi_write_png_to_func
#define stbi_write_bmp_to_func sapm__stbi_write_bmp_to_func
#define stbi_write_tga_to_func sapm__stbi_write_tga_to_func
#define stbi_write_hdr_to_func sapm__stbi_write_hdr_to_func
#define stbi_write_jpg_to_func sapm__stbi_write_jpg_to_func
#define stbi_flip_vertically_on_write sapm__stbi_flip_vertically_on_write
#define stbi_write_png_to_mem sapm__stbi_write_png_to_mem
#define stbi_zlib_compress sapm__stbi_zlib_compress
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_MALLOC(sz) sapm__stb_malloc(sz)
#define STBIW_REALLOC(p, sz) sapm__stb_realloc(p, sz)
#define STBIW_FREE(p) sapm__stb_free(p)
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
#undef stbi_write_func
#undef stbi_write_tga_with_rle
#undef stbi_write_png_compression_level
#undef stbi_write_force_png_filter
#undef stbi_write_png
#undef stbi_write_bmp
#undef stbi_write_tga
#undef stbi_write_hdr
#undef stbi_write_jpg
#undef stbiw_convert_wchar_to_utf8
#undef stbi_write_png_to_func
#undef stbi_write_bmp_to_func
#undef stbi_write_tga_to_func
#undef stbi_write_hdr_to_func
#undef stbi_write_jpg_to_func
#undef stbi_flip_vertically_on_write
#undef stbi_write_png_to_mem
#undef stbi_zlib_compress
#undef INCLUDE_STB_IMAGE_WRITE_H                /* a later #include declares the user's copy */
#ifdef SAPM__STB_USER_DECLARED
#define INCLUDE_STB_IMAGE_WRITE_H
#undef SAPM__STB_USER_DECLARED
#endif
#undef STBIWDEF
#undef STBIW_MALLOC
#undef STBIW_REALLOC
#undef STBIW_REALLOC_SIZED
#undef STBIW_FREE
#undef STBIW_ASSERT
#undef STBIW_MEMMOVE
#ifdef SAPM__STB_PUSHED
#pragma pop_macro("STBIWDEF")
#pragma pop_macro("STBIW_MALLOC")
#pragma pop_macro("STBIW_REALLOC")
#pragma pop_macro("STBIW_REALLOC_SIZED")
#pragma pop_macro("STBIW_FREE")
#pragma pop_macro("STBIW_ASSERT")
#pragma pop_macro("STBIW_MEMMOVE")
#pragma pop_macro("STBIW_ZLIB_COMPRESS")
#undef SAPM__STB_PUSHED
#endif
#else
#define SAPM__STB_TRACKED 0          /* the user's copy of stb, included before sapm.h */
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
    if (g.o.title) {   /* centred over the plot area, but never cut at the image's edges */
        int tw = sapm__text_width(g.o.title), cx = (g.px0 + px1) / 2;
        cx = SAPM__MIN(cx, img->width - SAPM__M - tw / 2);
        cx = SAPM__MAX(cx, SAPM__M + tw / 2);
        sapm__text(img, cx, SAPM__M, g.o.title, SAPM__INK, 1, 0);
    }
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

#if SAPM__STB_TRACKED
/* stb encodes the picture and hands it to the sink: 1 when done, 0 when an allocation
 * failed (the allocation hook longjmps here). Nothing local to this function changes
 * between setjmp and longjmp; the list of stb's blocks lives in the caller's *run. */
static int sapm__stb_encode(sapm__stb_run *run, sapm__file_sink *sink, const sapm_image *img)
{
    /* stb is called through a volatile pointer, so that it is never inlined here: its
     * locals then live in a frame of its own, which the longjmp discards, not in the frame
     * setjmp saved (where they could be clobbered, -Wclobbered at -O1) */
    int (*volatile encode)(sapm__stbi_write_func *, void *, int, int, int, const void *, int) =
        sapm__stbi_write_png_to_func;
    if (setjmp(run->out_of_memory) != 0) return 0;
    return encode(sapm__png_sink, sink, img->width, img->height, 3, img->rgb, 3 * img->width);
}
#endif
#endif

SAPMDEF sapm_result sapm_png_write(const char *path, const sapm_image *img)
{
#if SAPM__PNG
    sapm__file_sink sink;
    sapm__out o;
    sapm_result r;
    int ok;
    if (!path || !img || !img->rgb) return SAPM_ERR_NULL_ARGUMENT;
    /* stb's sizes are int: the filtered rows, (3 w + 1) h bytes, and its compressed buffer,
     * which grows by doubling up to 2.25 times that (9 bits a byte at worst): <= INT_MAX */
    if (img->width <= 0 || img->height <= 0 || img->width > 65535 || img->height > 65535 ||
        (3.0 * img->width + 1.0) * img->height > (double)(INT_MAX / 3))
        return SAPM_ERR_INVALID_SIZE;
    if ((r = sapm__out_open(&o, path, "wb")) != SAPM_OK) return r;
    sink.f = o.f;
    sink.failed = 0;
#if SAPM__STB_TRACKED
    {
        sapm__stb_run run;
        sapm__stb_block *b;
        run.live.link.prev = run.live.link.next = &run.live;
        sapm__stb_now = &run;
        ok = sapm__stb_encode(&run, &sink, img);
        sapm__stb_now = NULL;
        while ((b = run.live.link.next) != &run.live) {  /* what stb held when it failed */
            sapm__stb_unlink(b);
            SAPM_FREE(b);
        }
    }
#else
    ok = stbi_write_png_to_func(sapm__png_sink, &sink, img->width, img->height, 3, img->rgb, 3 * img->width);
#endif
    return sapm__out_close(&o, !ok ? SAPM_ERR_OUT_OF_MEMORY : sink.failed ? SAPM_ERR_IO : SAPM_OK);
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

#endif

SAPMDEF sapm_result sapm_csv_write_history(const char *path, int n_reports,
                                           const sapm_report *const *reports,
                                           const char *const *labels)
{
#ifdef SAPM_NO_STDIO
    (void)path; (void)n_reports; (void)reports; (void)labels;
    return SAPM_ERR_NOT_COMPILED_IN;
#else
    sapm__out o;
    FILE *f;
    sapm_result r;
    int k, i;
    if (!path || !reports) return SAPM_ERR_NULL_ARGUMENT;
    if (n_reports <= 0) return SAPM_ERR_INVALID_SIZE;
    for (k = 0; k < n_reports; ++k) {
        if (!reports[k]) return SAPM_ERR_NULL_ARGUMENT;
        if (reports[k]->history_count < 0) return SAPM_ERR_INVALID_SIZE;
        if (reports[k]->history_count > 0 && !reports[k]->history) return SAPM_ERR_NULL_ARGUMENT;
    }
    if ((r = sapm__out_open(&o, path, "w")) != SAPM_OK) return r;
    f = o.f;
    fputs("label,phase,iter,seconds,mse,loss,error\n", f);
    for (k = 0; k < n_reports; ++k) {
        const char *label = sapm__history_label(reports[k], labels, k);
        char run[24] = "run";
        if (!label) { run[3 + sapm__itoa(run + 3, k)] = 0; label = run; }
        for (i = 0; i < reports[k]->history_count; ++i) {
            const sapm_history_entry *h = &reports[k]->history[i];
            sapm__csv_text(f, label);
            fputc(',', f);
            sapm__csv_text(f, h->phase ? h->phase : "");
            fprintf(f, ",%d,", h->iter);
            sapm__csv_num(f, h->seconds); fputc(',', f);
            sapm__csv_num(f, h->mse); fputc(',', f);
            sapm__csv_num(f, h->loss); fputc(',', f);
            sapm__csv_num(f, h->error); fputc('\n', f);
        }
    }
    return sapm__out_close(&o, SAPM_OK);
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
    sapm__out o;
    FILE *f;
    sapm_result r;
    int i, j;
    if (!path || !prediction) return SAPM_ERR_NULL_ARGUMENT;
    if (nx <= 0 || ny <= 0 || nx > 100000 || ny > 100000) return SAPM_ERR_INVALID_SIZE;
    if (!isfinite(x1 - x0) || !isfinite(y1 - y0)) return SAPM_ERR_NONFINITE_INPUT;
    if (!(x0 < x1) || !(y0 < y1)) return SAPM_ERR_INVALID_ARGUMENT;
    if ((r = sapm__out_open(&o, path, "w")) != SAPM_OK) return r;
    f = o.f;
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
    return sapm__out_close(&o, SAPM_OK);
#endif
}

#endif /* SAPM_IMPLEMENTATION_DONE */
#endif /* SAPM_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
VERSION HISTORY

  0.6.0  (2026-12-08)  sapm_pde_default_widths: one tanh layer of 8 d units within
                       [32, 64] (was 32 in every d); from d = 8 the wider layer is what
                       LM needs (Poisson d = 10: 1e-7 in 8 s where d-32-1 stalled at
                       2.7e-6). bench/bench_pde_suite.c --set unseen: seven PDEs the
                       defaults were not chosen on, to judge them.
  0.5.0  (2026-12-07)  Levenberg-Marquardt with geodesic acceleration (ls.lm_geodesic,
                       default 0.75, Transtrum & Sethna): data and PDE problems; one extra
                       residual evaluation per damping trial. On bench/bench_pde_suite.c
                       it reaches rel. L2 1e-7 on 7 of the 10 PDEs within 5 s (3 without).
                       ls.lm_blocks = 1: block-diagonal (per-layer) Gauss-Newton in the LM
                       phase, the layers solved concurrently (off by default: measured
                       behind full LM).
  0.4.0  (2026-12-07)  PDEs beyond the linear Dirichlet problem (ordinary PINN: GD, Adam,
                       L-BFGS, LM): conditions per face of a box (sapm_pde_bc: Dirichlet,
                       Neumann, Robin, initial rate) with the library's outward normals,
                       a weighted Laplacian (lap_weights), nonlinear residual callbacks
                       with their partial derivatives (sapm_pde_residual_fn), systems
                       (m unknowns, n_eq equations), trainable coefficients fitted to
                       measurements (n_theta, theta, X_data, u_data); PM / SAPM on a PDE
                       refuse them with SAPM_ERR_UNSUPPORTED and a sentence. A robust LM:
                       ls.lm_trials damping trials per Jacobian after a very good step,
                       a tenfold cut of mu on a gain above 0.9, one restart from mu_0 when
                       the damping runs away; it never ends above its start. PINNs: an
                       automatic boundary weight (sapm_pde_options.balance, gradient
                       balancing by default for LM; sapm_pde_balance_beta), interior point
                       resampling (resample_every, off by default), the recommended network
                       (sapm_pde_default_widths: d-32-1); bench/bench_pde_suite.c (ten
                       PDEs) and bench_pde's PyTorch peer run in the same invocation.
                       Checkpoint fuzzing (tests/fuzz_checkpoint.c); the loader checks
                       every saved count before converting it.
                       A method runs for the whole budget unless opt.polish asks for a
                       second phase: sapm_default_options(PM / SAPM) and
                       sapm_pde_default_options(PM / SAPM) have polish NONE (was: L-BFGS
                       after 5, resp. 3, auxiliary iterations). Removed aux.switch_chi and
                       aux.chaos_rescale (the chaos test that handed an ordered start to
                       L-BFGS at iteration 0, so that the default "SAPM" from a Xavier
                       start was L-BFGS, and the rescaling of a chaotic one):
                       sapm_net_rescale_chaos is an initialisation utility the caller
                       applies before any method. sapm_aux_paper_options now sets the
                       paper's form that works as arXiv 2504.21501 reports: gradient steps
                       with the rate normalised by each block's curvature (GD_SCALED,
                       tau = 1), auxiliaries starting each outer iteration at the forward
                       pass (resync_every = 1), Jacobi sweep, Frobenius weights.
  0.3.0  (2026-12-02)  data-parallel training over MPI (SAPM_USE_MPI: sapm_mpi_init,
                       sapm_mpi_allreduce with call/payload counters, sapm_mpi_attach,
                       sapm_shard; every method; LM in parameter space, P^2 + P + 1 numbers
                       per Jacobian); checkpoint and resume (checkpoint_path,
                       checkpoint_every, resume_from, SAPM_PROGRESS_CHECKPOINT; GD, Adam,
                       L-BFGS, LM, and PM/SAPM on data; bit-identical resume); the CSV
                       history has a phase column; sapm_net_forward runs on the
                       derivative tape (one forward pass for everything); the tape folds
                       layer 1 (no d x d block per point); Halton primes by a sieve
                       (d = 16000 and beyond in milliseconds); LySep buffers sized by the
                       hidden widths; PNGs through a private copy of stb_image_write that
                       allocates through SAPM_MALLOC and returns SAPM_ERR_OUT_OF_MEMORY
                       with nothing leaked; make fuzz (libFuzzer on the model loader) and
                       table-driven bad-option tests; every test configuration links one
                       implementation object.
  0.2.0  (2026-12-02)  one training engine: one sapm_method enum for data and PDEs, runs
                       with two phases (opt.polish) on one budget and one live callback,
                       LM for regression, held-out test error for regression, log_seconds,
                       report.message, every option validated before the first iteration,
                       the PM/SAPM step API (sapm_aux_create/step/losses/destroy).
                       Removed options that measured no gain: aux.prox, aux.phase_ridge,
                       aux.omega_scale, aux.omega_fixed, aux.aux_steps, aux.switch_rel and
                       the joint chain update SAPM_AUX_GN_CHAIN (deleted); sapm_options.seed
                       (read nowhere); lysep.polish_after (deleted). Renamed: the paper's-form
                       setter is sapm_aux_paper_options; lysep.weighting
                       -> SAPM_METHOD_PM on a PDE; aux.polish / switch_iters / switch_time
                       and lysep.aux_iters / polish_iters -> opt.polish / phase_iters /
                       phase_time and the run's budgets.
  0.1.0  (2026-11-22)  first release: kernels, Cholesky, networks, LS/PM/SAPM, PINNs
                       (Adam, L-BFGS, Levenberg-Marquardt, SAPM-PINN, LySep);
                       optional OpenMP threads (GEMM/SYRK, PINN evaluations, the
                       L-BFGS two-loop recursion).

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
