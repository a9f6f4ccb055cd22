/* solve_your_pde - solve your own PDE: -Laplace u = f on (0,1)^2, u = g on the boundary,
 * with the recommended method: Levenberg-Marquardt with default options (the boundary
 * weight is chosen automatically) on the network of sapm_pde_default_widths (2-32-1).
 *   cc -O2 -march=native examples/solve_your_pde.c -o solve_your_pde -lm && ./solve_your_pde */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <string.h>

#define PI 3.14159265358979323846
static double exact(const double *x, int d, void *ud) { (void)d; (void)ud; return sin(PI * x[0]) * sin(PI * x[1]); }
static double f(const double *x, int d, void *ud) { return 2.0 * PI * PI * exact(x, d, ud); }

static int show(const sapm_progress *p, void *ud)
{
    (void)ud;
    printf("%-8s iter %5d  %6.2f s  J_PINN %.3e  rel. L2 %.3e\n", p->phase, p->iter, p->seconds,
           p->mse, p->error);
    return 0;
}

int main(void)
{
    enum { N = 900, M = 120, NT = 2000 };
    static double X[2 * N], Xb[2 * M], Xt[2 * NT];
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    int widths[4], depth = sapm_pde_default_widths(2, widths);
    sapm_pde pde; sapm_net net; sapm_rng rng; sapm_report rep; sapm_result r;
    sapm_pde_options opt = sapm_pde_default_options(SAPM_METHOD_LM);
    memset(&pde, 0, sizeof pde);                 /* L u = kappa Laplace(u) = f, u = g on Gamma */
    pde.d = 2; pde.kappa_const = -1.0; pde.f = f; pde.g = exact; pde.exact = exact;
    sapm_rng_seed(&rng, 1);
    sapm_sample_halton(2, lo, hi, N, 0, 1, X);           /* interior points */
    sapm_sample_boundary(2, lo, hi, NULL, M, &rng, Xb);  /* boundary points */
    sapm_sample_uniform(2, lo, hi, NT, &rng, Xt);        /* held-out test points */
    sapm_net_create(&net, depth, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1);
    opt.base.time_budget = 10.0;
    opt.base.log_every = 0; opt.base.log_seconds = 1.0;
    opt.base.progress = show;
    opt.base.n_test = NT; opt.base.X_test = Xt;  /* Y_test NULL: errors against pde.exact */
    r = sapm_pde_train(&net, &pde, N, X, M, Xb, &opt, &rep);
    if (r != SAPM_OK) printf("error: %s %s\n", sapm_result_string(r), rep.message);
    printf("%d iterations in %.1f s: relative L2 error %.3e (%s)\n", rep.iters, rep.seconds, rep.error,
           sapm_stop_reason_string(rep.stop));
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
    return r == SAPM_OK ? 0 : 1;
}
