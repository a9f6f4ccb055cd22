/* inverse_diffusion - recover a diffusion coefficient and a reaction rate from noisy samples
 * of u: -kappa Laplace u + c u = f on (0,1)^2, u = 0 on the boundary, kappa and c unknown,
 * fitted jointly with the network (sapm_pde.theta, a nonlinear residual callback with its
 * derivatives in kappa and c, and measurements sapm_pde.X_data / u_data).
 *
 *   cc -O2 -march=native examples/inverse_diffusion.c -o inverse_diffusion -lm
 *   ./inverse_diffusion [--time T] [--noise S]
 *
 * Truth: kappa = 0.5, c = 10, u = x (1 - x) sin(pi y), f = kappa (2 + pi^2 x (1 - x)) sin(pi y)
 * + c u (not an eigenfunction: with u = sin(pi x) sin(pi y) only 2 pi^2 kappa + c could be
 * told apart); 200 measurements of u at random points with Gaussian noise of standard
 * deviation S (default 0.0025, 1% of max |u| = 0.25); start kappa = 1, c = 0. PINN by Levenberg-Marquardt and by L-BFGS,
 * T seconds each (default 20), net 2-20-20-1 tanh, 800 interior and 200 boundary points,
 * measurement weight 1. Prints the recovered kappa and c with their errors and the
 * relative L2 error of u on 2000 held-out points; writes inverse_diffusion_<method>.png
 * (prediction | exact | |error|). */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "pde_util.h"

#define PI 3.14159265358979323846
static const double KAPPA = 0.5, RATE = 10.0;

static double exact(const double *x, int d, void *ud) { (void)d; (void)ud; return x[0] * (1.0 - x[0]) * sin(PI * x[1]); }
/* the source of the true coefficients: -kappa Laplace u + c u */
static double source(const double *x)
{
    return KAPPA * (2.0 + PI * PI * x[0] * (1.0 - x[0])) * sin(PI * x[1]) + RATE * exact(x, 2, NULL);
}
static double zero(const double *x, int d, void *ud) { (void)x; (void)d; (void)ud; return 0.0; }

/* r = -theta_0 Laplace u + theta_1 u - f(x): r_u = theta_1, r_lap = -theta_0,
 * r_theta = (-Laplace u, u). f is known; kappa = theta_0 and c = theta_1 are not. */
static int residual(int n, int d, const double *x, const double *u, const double *du,
                    const double *lap, const double *th, double *r, double *r_u, double *r_du,
                    double *r_lap, double *r_th, void *ud)
{
    int j;
    (void)d; (void)du; (void)r_du; (void)ud;
    for (j = 0; j < n; ++j) {
        double f = source(x + (size_t)j * d);
        r[j] = -th[0] * lap[j] + th[1] * u[j] - f;
        r_u[j] = th[1];
        r_lap[j] = -th[0];
        r_th[2 * j] = -lap[j];
        r_th[2 * j + 1] = u[j];
    }
    return 0;
}

int main(int argc, char **argv)
{
    enum { N = 800, M = 200, K = 200, NT = 2000 };
    static double X[2 * N], Xb[2 * M], Xd[2 * K], ud[K], Xt[2 * NT], ut[NT];
    double lo[2] = {0.0, 0.0}, hi[2] = {1.0, 1.0}, seconds = 20.0, noise = 0.0025;
    int widths[4] = {2, 20, 20, 1}, a, k, m;
    sapm_pde pde;
    sapm_net net0;
    sapm_rng rng;
    pde_case pc;
    static const sapm_method methods[2] = {SAPM_METHOD_LM, SAPM_METHOD_LBFGS};
    static const char *labels[2] = {"LM", "LBFGS"};
    for (a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--time")) seconds = atof(argv[a + 1]);
        else if (!strcmp(argv[a], "--noise")) noise = atof(argv[a + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[a]); return 2; }
    }
    if (!(seconds > 0.0) || !(noise >= 0.0)) { fprintf(stderr, "bad option value\n"); return 2; }
    sapm_rng_seed(&rng, 7);
    sapm_sample_halton(2, lo, hi, N, 0, 7, X);
    sapm_sample_boundary(2, lo, hi, NULL, M, &rng, Xb);
    sapm_sample_uniform(2, lo, hi, K, &rng, Xd);
    for (k = 0; k < K; ++k) ud[k] = exact(Xd + 2 * k, 2, NULL) + noise * sapm_rng_normal(&rng);
    sapm_sample_uniform(2, lo, hi, NT, &rng, Xt);
    for (k = 0; k < NT; ++k) ut[k] = exact(Xt + 2 * k, 2, NULL);
    sapm_net_create(&net0, 3, widths, SAPM_ACT_TANH);
    sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, 3);
    printf("-kappa Laplace u + c u = f on (0,1)^2: true kappa = %g, c = %g; %d measurements, noise %g\n",
           KAPPA, RATE, K, noise);
    for (m = 0; m < 2; ++m) {
        sapm_pde_options opt = sapm_pde_default_options(methods[m]);
        double theta[2] = {1.0, 0.0};            /* the initial guess, overwritten by the fit */
        sapm_net net;
        pde_result res;
        char path[64];
        double base[2] = {0.0, 0.0};
        memset(&pde, 0, sizeof pde);
        pde.d = 2; pde.g = zero; pde.exact = exact;
        pde.residual = residual; pde.residual_order = 2;
        pde.n_theta = 2; pde.theta = theta;
        pde.n_data = K; pde.X_data = Xd; pde.u_data = ud; pde.data_weight = 1.0;
        memset(&pc, 0, sizeof pc);
        pc.pde = &pde; pc.d = 2; pc.N = N; pc.M = M; pc.n_test = NT;
        pc.X = X; pc.Xb = Xb; pc.X_test = Xt; pc.u_test = ut;
        opt.base.time_budget = seconds;
        opt.base.log_every = 0; opt.base.log_seconds = 1.0;
        res = pde_run(&pc, &net0, opt, labels[m], &net);
        printf("%-6s %6d iterations %5.1f s: kappa %.5f (error %.2e), c %.5f (error %.2e), u rel. L2 %.3e\n",
               labels[m], res.iters, res.seconds, theta[0], fabs(theta[0] - KAPPA), theta[1],
               fabs(theta[1] - RATE), res.rel_l2);
        snprintf(path, sizeof path, "inverse_diffusion_%s.png", labels[m]);
        if (pde_heatmaps(path, NULL, &net, &pde, base, 0, 1, "x", "y", labels[m]) == SAPM_OK)
            printf("       wrote %s\n", path);
        sapm_report_free(&res.rep);
        sapm_net_destroy(&net);
    }
    sapm_net_destroy(&net0);
    return 0;
}
