/* poisson_robin - -Laplace u = f on (0,1)^2 with a different condition on each face of the
 * square: Neumann (du/dn = h) on x = 0 and y = 1, Robin (u + du/dn = h) on x = 1, Dirichlet
 * on y = 0; the outward normals are the library's (sapm_pde.bc).
 *
 *   cc -O2 -march=native examples/poisson_robin.c -o poisson_robin -lm
 *   ./poisson_robin [--time T]
 *
 * Exact solution u = cos(2 x + 1/2) e^y (f = 3 u); each face's datum h = a u + b du/dn
 * is computed from it. PINN by Levenberg-Marquardt and by L-BFGS, T seconds each (default
 * 20), net 2-20-20-1 tanh, 1000 interior (scrambled Halton) and 400 boundary points. Prints
 * the relative L2 / max error on 2000 held-out points, then the flux du/dn of the trained
 * network against the exact one at a point of each face; writes poisson_robin_<method>.png
 * (prediction | exact | |error|). */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "pde_util.h"

static double exact(const double *x, int d, void *ud) { (void)d; (void)ud; return cos(2.0 * x[0] + 0.5) * exp(x[1]); }
static double f(const double *x, int d, void *ud) { return 3.0 * exact(x, d, ud); }
static double ux(const double *x) { return -2.0 * sin(2.0 * x[0] + 0.5) * exp(x[1]); }
static double uy(const double *x) { return cos(2.0 * x[0] + 0.5) * exp(x[1]); }
/* the data of each face (outward normals: -e_x on x = 0, +e_x on x = 1, +e_y on y = 1) */
static double h_left(const double *x, int d, void *ud) { (void)d; (void)ud; return -ux(x); }           /* Neumann */
static double h_right(const double *x, int d, void *ud) { return exact(x, d, ud) + ux(x); }             /* Robin a = b = 1 */
static double h_top(const double *x, int d, void *ud) { (void)d; (void)ud; return uy(x); }              /* Neumann */

int main(int argc, char **argv)
{
    enum { N = 1000, M = 400, NT = 2000 };
    static double X[2 * N], Xb[2 * M], Xt[2 * NT], ut[NT];
    double lo[2] = {0.0, 0.0}, hi[2] = {1.0, 1.0}, seconds = 20.0;
    int widths[4] = {2, 20, 20, 1}, m, f_;
    sapm_pde_bc bc[4];
    sapm_pde pde;
    sapm_net net0;
    sapm_rng rng;
    pde_case pc;
    static const sapm_method methods[2] = {SAPM_METHOD_LM, SAPM_METHOD_LBFGS};
    static const char *labels[2] = {"LM", "LBFGS"};
    if (argc == 3 && !strcmp(argv[1], "--time")) seconds = atof(argv[2]);
    if (!(seconds > 0.0)) { fprintf(stderr, "usage: %s [--time T]\n", argv[0]); return 2; }
    memset(bc, 0, sizeof bc);
    bc[0].face = 0; bc[0].kind = SAPM_BC_NEUMANN; bc[0].h = h_left;       /* x = 0 */
    bc[1].face = 1; bc[1].kind = SAPM_BC_ROBIN; bc[1].a = 1.0; bc[1].b = 1.0; bc[1].h = h_right; /* x = 1 */
    bc[2].face = 2; bc[2].kind = SAPM_BC_DIRICHLET; bc[2].h = exact;      /* y = 0 */
    bc[3].face = 3; bc[3].kind = SAPM_BC_NEUMANN; bc[3].h = h_top;        /* y = 1 */
    memset(&pde, 0, sizeof pde);
    pde.d = 2; pde.kappa_const = -1.0; pde.f = f; pde.exact = exact;
    pde.box_lo = lo; pde.box_hi = hi; pde.bc = bc; pde.n_bc = 4;
    sapm_rng_seed(&rng, 1);
    sapm_sample_halton(2, lo, hi, N, 0, 1, X);
    sapm_sample_boundary(2, lo, hi, NULL, M, &rng, Xb);
    sapm_sample_uniform(2, lo, hi, NT, &rng, Xt);
    sapm_pde_exact_values(&pde, NT, Xt, ut);
    sapm_net_create(&net0, 3, widths, SAPM_ACT_TANH);
    sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, 1);
    memset(&pc, 0, sizeof pc);
    pc.pde = &pde; pc.d = 2; pc.N = N; pc.M = M; pc.n_test = NT;
    pc.X = X; pc.Xb = Xb; pc.X_test = Xt; pc.u_test = ut;
    printf("-Laplace u = f on (0,1)^2: Neumann on x = 0 and y = 1, Robin on x = 1, Dirichlet on y = 0\n");
    for (m = 0; m < 2; ++m) {
        sapm_pde_options opt = sapm_pde_default_options(methods[m]);
        sapm_net net;
        pde_result res;
        char path[64];
        double base[2] = {0.0, 0.0};
        opt.base.time_budget = seconds;
        opt.base.log_every = 0; opt.base.log_seconds = 1.0;
        opt.beta = 10.0;                                  /* |f| ~ 8 here */
        res = pde_run(&pc, &net0, opt, labels[m], &net);
        printf("%-6s %6d iterations %6.1f s: J_PINN %.3e, rel. L2 %.3e, max error %.3e\n", labels[m],
               res.iters, res.seconds, res.j_pinn, res.rel_l2, res.max_err);
        for (f_ = 0; f_ < 4; ++f_) {                      /* du/dn at a point of each face */
            double x[2] = {0.3, 0.3}, u, du[2], dn, dn_exact;
            int i = f_ / 2;
            x[i] = (f_ % 2) ? 1.0 : 0.0;
            sapm_net_forward_derivs(&net, 1, x, 2, &u, 1, du, NULL);
            dn = (f_ % 2) ? du[i] : -du[i];
            dn_exact = (f_ % 2 ? 1.0 : -1.0) * (i == 0 ? ux(x) : uy(x));
            printf("       face %d (%s = %g): du/dn %+.5f, exact %+.5f\n", f_, i ? "y" : "x", x[i], dn, dn_exact);
        }
        snprintf(path, sizeof path, "poisson_robin_%s.png", labels[m]);
        if (pde_heatmaps(path, NULL, &net, &pde, base, 0, 1, "x", "y", labels[m]) == SAPM_OK)
            printf("       wrote %s\n", path);
        sapm_report_free(&res.rep);
        sapm_net_destroy(&net);
    }
    sapm_net_destroy(&net0);
    return 0;
}
