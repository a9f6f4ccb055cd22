/* cauchy_riemann - a coupled first-order system with two unknowns: the Cauchy-Riemann
 * equations u_x - v_y = 0, u_y + v_x = 0 on (0,1)^2 for the real and imaginary parts of
 * an analytic function, one network with two outputs (sapm_pde.m = 2, n_eq = 2) and
 * per-component boundary data (sapm_pde_bc.component).
 *
 *   cc -O2 -march=native examples/cauchy_riemann.c -o cauchy_riemann -lm
 *   ./cauchy_riemann [--time T]
 *
 * Exact solution: e^z = e^x cos y + i e^x sin y. Boundary data: u on every face, v on the
 * face x = 0 only (u on the boundary fixes v up to a constant). PINN by Levenberg-Marquardt
 * and L-BFGS, T seconds each (default 15), net 2-20-20-2 tanh, 600 interior and 200
 * boundary points; prints the relative L2 error of (u, v) on 2000 held-out points and
 * writes cauchy_riemann_<method>.png (u, v, |error u|, |error v|). */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double u_exact(const double *x, int d, void *ud) { (void)d; (void)ud; return exp(x[0]) * cos(x[1]); }
static double v_exact(const double *x, int d, void *ud) { (void)d; (void)ud; return exp(x[0]) * sin(x[1]); }

/* r_0 = u_x - v_y, r_1 = u_y + v_x with unknowns (u, v) = (c 0, c 1): the layout of
 * sapm_pde_residual_fn, du[(j 2 + c) 2 + i], r_du[((j 2 + e) 2 + c) 2 + i]. */
static int cauchy_riemann(int n, int d, const double *x, const double *u, const double *du,
                          const double *lap, const double *theta, double *r, double *r_u,
                          double *r_du, double *r_lap, double *r_theta, void *ud)
{
    int j;
    (void)d; (void)x; (void)u; (void)lap; (void)theta; (void)r_u; (void)r_lap; (void)r_theta; (void)ud;
    for (j = 0; j < n; ++j) {
        const double *gu = du + (size_t)j * 4, *gv = gu + 2;   /* (u_x, u_y), (v_x, v_y) */
        double *rd = r_du + (size_t)j * 8;
        r[2 * j] = gu[0] - gv[1];
        rd[(0 * 2 + 0) * 2 + 0] = 1.0;  rd[(0 * 2 + 1) * 2 + 1] = -1.0;
        r[2 * j + 1] = gu[1] + gv[0];
        rd[(1 * 2 + 0) * 2 + 1] = 1.0;  rd[(1 * 2 + 1) * 2 + 0] = 1.0;
    }
    return 0;
}

static int progress(const sapm_progress *p, void *ud)
{
    (void)ud;
    if (p->iter > 0 && fmod(p->seconds, 3.0) > 1.0) return 0;
    printf("  %-8s iter %6d %6.1f s  J_PINN %.3e  rel. L2 (u, v) %.3e\n", p->phase, p->iter, p->seconds,
           p->mse, p->error);
    return 0;
}

int main(int argc, char **argv)
{
    enum { N = 600, M = 200, NT = 2000, G = 101 };
    static double X[2 * N], Xb[2 * M], Xt[2 * NT], ut[2 * NT], Xg[2 * G * G], ug[2 * G * G], fld[4 * G * G];
    double lo[2] = {0.0, 0.0}, hi[2] = {1.0, 1.0}, seconds = 15.0;
    int widths[4] = {2, 20, 20, 2}, k, m;
    sapm_pde_bc bc[5];
    sapm_pde pde;
    sapm_net net0;
    sapm_rng rng;
    static const sapm_method methods[2] = {SAPM_METHOD_LM, SAPM_METHOD_LBFGS};
    static const char *labels[2] = {"LM", "LBFGS"};
    if (argc == 3 && !strcmp(argv[1], "--time")) seconds = atof(argv[2]);
    if (!(seconds > 0.0)) { fprintf(stderr, "usage: %s [--time T]\n", argv[0]); return 2; }
    memset(bc, 0, sizeof bc);
    for (k = 0; k < 4; ++k) { bc[k].face = k; bc[k].kind = SAPM_BC_DIRICHLET; bc[k].h = u_exact; bc[k].component = 0; }
    bc[4].face = 0; bc[4].kind = SAPM_BC_DIRICHLET; bc[4].h = v_exact; bc[4].component = 1;
    memset(&pde, 0, sizeof pde);
    pde.d = 2; pde.m = 2; pde.n_eq = 2;
    pde.residual = cauchy_riemann; pde.residual_order = 1;
    pde.box_lo = lo; pde.box_hi = hi; pde.bc = bc; pde.n_bc = 5;
    sapm_rng_seed(&rng, 1);
    sapm_sample_halton(2, lo, hi, N, 0, 1, X);
    sapm_sample_boundary(2, lo, hi, NULL, M, &rng, Xb);
    sapm_sample_uniform(2, lo, hi, NT, &rng, Xt);
    for (k = 0; k < NT; ++k) { ut[2 * k] = u_exact(Xt + 2 * k, 2, NULL); ut[2 * k + 1] = v_exact(Xt + 2 * k, 2, NULL); }
    sapm_heatmap_grid(G, G, 0.0, 1.0, 0.0, 1.0, Xg);
    sapm_net_create(&net0, 3, widths, SAPM_ACT_TANH);
    sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, 1);
    printf("Cauchy-Riemann u_x = v_y, u_y = -v_x on (0,1)^2 for e^z: u on every face, v on x = 0\n");
    for (m = 0; m < 2; ++m) {
        sapm_pde_options opt = sapm_pde_default_options(methods[m]);
        sapm_net net;
        sapm_report rep;
        sapm_heatmap_options ho;
        const double *fields[4];
        const char *titles[4] = {"u (PINN)", "v (PINN)", "|error u|", "|error v|"};
        double rel = NAN;
        char path[64];
        sapm_result r;
        sapm_net_copy(&net, &net0);
        opt.base.time_budget = seconds;
        opt.base.log_every = 0; opt.base.log_seconds = 1.0;
        opt.base.progress = progress;
        opt.base.n_test = NT; opt.base.X_test = Xt; opt.base.Y_test = ut;   /* n_test x 2 */
        r = sapm_pde_train(&net, &pde, N, X, M, Xb, &opt, &rep);
        if (r != SAPM_OK) printf("  %s: %s (%s)\n", labels[m], sapm_result_string(r), rep.message);
        sapm_pde_errors(&net, NT, Xt, ut, &rel, NULL);                     /* over both outputs */
        printf("%-6s %6d iterations %5.1f s: rel. L2 of (u, v) %.3e\n", labels[m], rep.iters, rep.seconds, rel);
        sapm_net_forward(&net, G * G, Xg, 2, ug, 2);
        for (k = 0; k < G * G; ++k) {
            fld[k] = ug[2 * k];
            fld[G * G + k] = ug[2 * k + 1];
            fld[2 * G * G + k] = fabs(ug[2 * k] - u_exact(Xg + 2 * k, 2, NULL));
            fld[3 * G * G + k] = fabs(ug[2 * k + 1] - v_exact(Xg + 2 * k, 2, NULL));
        }
        for (k = 0; k < 4; ++k) fields[k] = fld + (size_t)k * G * G;
        memset(&ho, 0, sizeof ho);
        ho.x0 = 0.0; ho.x1 = 1.0; ho.y0 = 0.0; ho.y1 = 1.0;
        ho.xlabel = "x"; ho.ylabel = "y"; ho.title = labels[m]; ho.bilinear = 1;
        snprintf(path, sizeof path, "cauchy_riemann_%s.png", labels[m]);
        if (sapm_png_heatmaps_ex(path, 4, G, G, fields, titles, &ho) == SAPM_OK) printf("       wrote %s\n", path);
        sapm_report_free(&rep);
        sapm_net_destroy(&net);
    }
    sapm_net_destroy(&net0);
    return 0;
}
