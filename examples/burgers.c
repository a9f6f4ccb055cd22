/* burgers - viscous Burgers u_t + u u_x = nu u_xx, nu = 0.01/pi, the standard PINN benchmark:
 * a nonlinear residual callback, an initial condition and Dirichlet walls per face of the
 * box, and a Laplacian weighted to u_xx alone (no u_tt), compared against the Cole-Hopf
 * solution that this program computes by quadrature.
 *
 *   cc -O2 -march=native examples/burgers.c -o burgers -lm
 *   ./burgers [--time T] [--n N] [--m M] [--width W] [--seed S]
 *
 * Domain (t, x) in [0, 1] x [-1, 1] (input 0 is t, input 1 is x); u(0, x) = -sin(pi x) on the
 * face t = 0, u(t, -1) = u(t, 1) = 0 on the faces x = -1 and x = 1; N interior points
 * (scrambled Halton, default 4000) and M boundary points on those three faces (default 400),
 * network 2-W-W-W-1 tanh (W = 20). Methods: L-BFGS, Levenberg-Marquardt, Adam then
 * L-BFGS, each for T seconds (default 30: under two minutes in all). Each reports the
 * relative L2 and max error against the reference on a 201 x 101 grid of (x, t) and the
 * wall time, and writes burgers_<method>.png (prediction | reference | |error| over (x, t)).
 *
 * Reference: the Cole-Hopf transformation gives
 *   u(t, x) = - int sin(pi (x - s)) F(x - s) G(s) ds / int F(x - s) G(s) ds,
 *   F(y) = exp(-cos(pi y) / (2 pi nu)),  G(s) = exp(-s^2 / (4 nu t)),
 * evaluated by the trapezoidal rule over s in +-12 sqrt(4 nu t) with K intervals (the
 * exponents shifted by their maximum so nothing overflows). The program measures its
 * accuracy by comparing K = 4000 (used) with K = 16000 and prints the largest difference. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
static const double NU = 0.01 / PI;

/* r = u_t + u u_x - nu u_xx with its partial derivatives (du = (u_t, u_x), lap = u_xx by
 * the weights (0, 1)). */
static int burgers_residual(int n, int d, const double *x, const double *u, const double *du,
                            const double *lap, const double *theta, double *r, double *r_u,
                            double *r_du, double *r_lap, double *r_theta, void *ud)
{
    int j;
    (void)x; (void)theta; (void)r_theta; (void)ud;
    for (j = 0; j < n; ++j) {
        double ut = du[(size_t)j * d], ux = du[(size_t)j * d + 1];
        r[j] = ut + u[j] * ux - NU * lap[j];
        r_u[j] = ux;
        r_du[(size_t)j * d] = 1.0;
        r_du[(size_t)j * d + 1] = u[j];
        r_lap[j] = -NU;
    }
    return 0;
}
static double initial(const double *x, int d, void *ud) { (void)d; (void)ud; return -sin(PI * x[1]); }
static double zero(const double *x, int d, void *ud) { (void)x; (void)d; (void)ud; return 0.0; }

/* The Cole-Hopf solution by the trapezoidal rule with K intervals (see the top). */
static double cole_hopf(double t, double x, int K)
{
    int k;
    double w = sqrt(4.0 * NU * t), a = -12.0 * w, h = 24.0 * w / K, num = 0.0, den = 0.0, emax = -1e300;
    if (t <= 0.0) return -sin(PI * x);
    for (k = 0; k <= K; ++k) {
        double s = a + h * k, e = -cos(PI * (x - s)) / (2.0 * PI * NU) - s * s / (w * w);
        if (e > emax) emax = e;
    }
    for (k = 0; k <= K; ++k) {
        double s = a + h * k, e = -cos(PI * (x - s)) / (2.0 * PI * NU) - s * s / (w * w);
        double q = exp(e - emax) * ((k == 0 || k == K) ? 0.5 : 1.0);
        num -= sin(PI * (x - s)) * q;
        den += q;
    }
    return num / den;
}

typedef struct progress_state { const char *name; double last; } progress_state;
static int progress(const sapm_progress *p, void *ud)
{
    progress_state *st = (progress_state *)ud;
    if (p->iter > 0 && p->seconds - st->last < 2.0) return 0;
    st->last = p->seconds;
    printf("  %-12s %-16s iter %6d %6.1f s  J_PINN %.3e  rel. L2 %.3e\n", st->name, p->phase,
           p->iter, p->seconds, p->mse, p->error);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    enum { NX = 201, NT = 101 };
    double seconds = 30.0, lo[2] = {0.0, -1.0}, hi[2] = {1.0, 1.0}, w[2] = {0.0, 1.0};
    int N = 4000, M = 400, width = 20, seed = 1, a, k, m, faces[4] = {1, 0, 1, 1};
    double *X, *Xb, *G, *Xt, *ut, *pred, *err, diff = 0.0, t0;
    sapm_pde_bc bc[3];
    sapm_pde pde;
    sapm_net net0;
    sapm_rng rng;
    static const struct { const char *label; sapm_method method; sapm_method polish; } methods[3] = {
        {"LBFGS", SAPM_METHOD_LBFGS, SAPM_METHOD_NONE},
        {"LM", SAPM_METHOD_LM, SAPM_METHOD_NONE},
        {"Adam+LBFGS", SAPM_METHOD_ADAM, SAPM_METHOD_LBFGS}};
    for (a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--time")) seconds = atof(argv[a + 1]);
        else if (!strcmp(argv[a], "--n")) N = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--m")) M = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--width")) width = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--seed")) seed = atoi(argv[a + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[a]); return 2; }
    }
    if (N < 1 || M < 1 || width < 1 || !(seconds > 0.0)) { fprintf(stderr, "bad option value\n"); return 2; }
    X = (double *)malloc(sizeof(double) * 2 * (size_t)N);
    Xb = (double *)malloc(sizeof(double) * 2 * (size_t)M);
    G = (double *)malloc(sizeof(double) * 2 * NX * NT);
    Xt = (double *)malloc(sizeof(double) * 2 * NX * NT);
    ut = (double *)malloc(sizeof(double) * 3 * NX * NT);
    if (!X || !Xb || !G || !Xt || !ut) { fprintf(stderr, "out of memory\n"); return 1; }
    pred = ut + NX * NT; err = pred + NX * NT;

    /* the reference on the heatmap grid: x across, t up; the network's input is (t, x) */
    t0 = SAPM_NOW();
    sapm_heatmap_grid(NX, NT, -1.0, 1.0, 0.0, 1.0, G);
    for (k = 0; k < NX * NT; ++k) {
        Xt[2 * k] = G[2 * k + 1];
        Xt[2 * k + 1] = G[2 * k];
        ut[k] = cole_hopf(Xt[2 * k], Xt[2 * k + 1], 4000);
    }
    for (k = 0; k < NX * NT; k += 97) {
        double dv = fabs(cole_hopf(Xt[2 * k], Xt[2 * k + 1], 16000) - ut[k]);
        if (dv > diff) diff = dv;
    }
    printf("Burgers, nu = 0.01/pi: reference by Cole-Hopf quadrature on %d x %d points (%.1f s);\n"
           "  K = 4000 vs 16000 intervals differ by at most %.1e on every 97th point\n",
           NX, NT, SAPM_NOW() - t0, diff);

    /* conditions per face: 0 is t = 0, 2 is x = -1, 3 is x = 1 (face 1, t = 1, has none) */
    memset(bc, 0, sizeof bc);
    bc[0].face = 0; bc[0].kind = SAPM_BC_DIRICHLET; bc[0].h = initial;
    bc[1].face = 2; bc[1].kind = SAPM_BC_DIRICHLET; bc[1].h = zero;
    bc[2].face = 3; bc[2].kind = SAPM_BC_DIRICHLET; bc[2].h = zero;
    memset(&pde, 0, sizeof pde);
    pde.d = 2;
    pde.residual = burgers_residual; pde.residual_order = 2;
    pde.lap_weights = w;                                 /* u_xx, not u_tt + u_xx */
    pde.box_lo = lo; pde.box_hi = hi; pde.bc = bc; pde.n_bc = 3;

    sapm_rng_seed(&rng, (uint64_t)seed);
    sapm_sample_halton(2, lo, hi, N, 0, (uint64_t)seed, X);
    sapm_sample_boundary(2, lo, hi, faces, M, &rng, Xb);
    {
        int widths[5] = {2, 0, 0, 0, 1};
        widths[1] = widths[2] = widths[3] = width;
        if (sapm_net_create(&net0, 4, widths, SAPM_ACT_TANH) != SAPM_OK) return 1;
        sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, (uint64_t)seed);
    }
    printf("N = %d interior, M = %d boundary points, net 2-%d-%d-%d-1 tanh, %.0f s per method\n\n",
           N, M, width, width, width, seconds);
    printf("%-12s %8s %12s %12s %12s %8s\n", "method", "iters", "J_PINN", "rel. L2", "max err", "time");
    for (m = 0; m < 3; ++m) {
        sapm_pde_options opt = sapm_pde_default_options(methods[m].method);
        sapm_net net;
        sapm_report rep;
        progress_state ps;
        double rel = NAN, mx = NAN;
        sapm_result r;
        const double *fields[3];
        const char *titles[3] = {"PINN", "Cole-Hopf", "|error|"};
        sapm_heatmap_options ho;
        char path[64];
        sapm_net_copy(&net, &net0);
        opt.base.polish = methods[m].polish;
        if (methods[m].polish != SAPM_METHOD_NONE) opt.base.phase_time = 0.3;  /* Adam 30% */
        opt.base.time_budget = seconds;
        opt.base.log_every = 0; opt.base.log_seconds = 2.0;
        ps.name = methods[m].label; ps.last = 0.0;
        opt.base.progress = progress; opt.base.user_data = &ps;
        opt.base.n_test = NX * NT; opt.base.X_test = Xt; opt.base.Y_test = ut;
        r = sapm_pde_train(&net, &pde, N, X, M, Xb, &opt, &rep);
        if (r != SAPM_OK) printf("  %s: %s (%s)\n", methods[m].label, sapm_result_string(r), rep.message);
        sapm_pde_errors(&net, NX * NT, Xt, ut, &rel, &mx);
        printf("%-12s %8d %12.3e %12.3e %12.3e %7.1fs\n", methods[m].label, rep.iters, rep.mse, rel, mx,
               rep.seconds);
        sapm_net_forward(&net, NX * NT, Xt, 2, pred, 1);
        for (k = 0; k < NX * NT; ++k) err[k] = fabs(pred[k] - ut[k]);
        memset(&ho, 0, sizeof ho);
        ho.x0 = -1.0; ho.x1 = 1.0; ho.y0 = 0.0; ho.y1 = 1.0;
        ho.xlabel = "x"; ho.ylabel = "t"; ho.title = methods[m].label; ho.bilinear = 1;
        fields[0] = pred; fields[1] = ut; fields[2] = err;
        snprintf(path, sizeof path, "burgers_%s.png", methods[m].label);
        r = sapm_png_heatmaps_ex(path, 3, NX, NT, fields, titles, &ho);
        if (r == SAPM_OK) printf("  wrote %s\n", path);
        sapm_report_free(&rep);
        sapm_net_destroy(&net);
    }
    sapm_net_destroy(&net0);
    free(X); free(Xb); free(G); free(Xt); free(ut);
    return 0;
}
