/* pde_util.h - small helpers shared by the PDE examples and benches (not part
 * of the library; include after "../sapm.h" with SAPM_IMPLEMENTATION defined).
 *
 *   pde_run   train one network copy with one method, measure J_PINN of the forward
 *             network, relative L2 and max error on held-out points, wall time;
 *   pde_time_to_error   first time in a history at which the held-out error <= target;
 *   pde_heatmaps        prediction | exact | |error| on a 2-D slice, PNG + CSV;
 *   pde_median          median of a small array;
 *   pde_bench_problem   the three benchmark problems (transport, Poisson 2-D, Poisson d-D). */
#ifndef PDE_UTIL_H
#define PDE_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define PDE_UTIL_UNUSED __attribute__((unused))
#else
#define PDE_UTIL_UNUSED
#endif

typedef struct pde_case {
    const sapm_pde *pde;
    int d, N, M, n_test;
    const double *X, *Xb, *X_test, *u_test;
} pde_case;

typedef struct pde_result {
    sapm_result status;     /* SAPM_ERR_UNSUPPORTED: the method is not in this build */
    double seconds, j_pinn, rel_l2, max_err;
    int iters;
    sapm_report rep;        /* history (free with sapm_report_free) */
} pde_result;

/* Train a copy of net0 with opt (its test fields are filled here); the trained copy is
 * returned in *net_out when net_out != NULL (destroy it yourself). */
static PDE_UTIL_UNUSED pde_result pde_run(const pde_case *pc, const sapm_net *net0, sapm_pde_options opt,
                          sapm_net *net_out)
{
    pde_result res;
    sapm_net net;
    double t0;
    memset(&res, 0, sizeof res);
    res.j_pinn = res.rel_l2 = res.max_err = NAN;
    if (sapm_net_copy(&net, net0) != SAPM_OK) { res.status = SAPM_ERR_OUT_OF_MEMORY; return res; }
    opt.n_test = pc->n_test;
    opt.X_test = pc->X_test;
    opt.u_test = pc->u_test;
    t0 = SAPM_NOW();
    res.status = sapm_pde_train(&net, pc->pde, pc->N, pc->X, pc->M, pc->Xb, &opt, &res.rep);
    res.seconds = SAPM_NOW() - t0;
    res.iters = res.rep.iters;
    if (res.status == SAPM_OK || res.status == SAPM_ERR_DIVERGED) {
        sapm_pde_loss(&net, pc->pde, pc->N, pc->X, pc->M, pc->Xb, opt.alpha, opt.beta,
                      &res.j_pinn, NULL, NULL);
        sapm_pde_errors(&net, pc->n_test, pc->X_test, pc->u_test, &res.rel_l2, &res.max_err);
    }
    if (net_out) *net_out = net;
    else sapm_net_destroy(&net);
    return res;
}

/* Seconds until the logged held-out error first reached target (+Inf if never). */
static PDE_UTIL_UNUSED double pde_time_to_error(const sapm_report *rep, double target)
{
    int k;
    for (k = 0; k < rep->history_count; ++k)
        if (rep->history[k].error <= target) return rep->history[k].seconds;
    return HUGE_VAL;
}

/* The held-out error logged at the last entry with seconds <= t (NaN if none). */
static PDE_UTIL_UNUSED double pde_error_at_time(const sapm_report *rep, double t)
{
    int k;
    double e = NAN;
    for (k = 0; k < rep->history_count; ++k)
        if (rep->history[k].seconds <= t) e = rep->history[k].error;
    return e;
}

/* Prediction | exact | |error| over a 2-D slice through the point base (d coordinates):
 * coordinates ix (horizontal) and iy (vertical) run over [0,1]; PNG (when compiled in)
 * and CSV. Returns the PNG status (SAPM_ERR_NOT_COMPILED_IN is not an error here). */
static PDE_UTIL_UNUSED sapm_result pde_heatmaps(const char *png_path, const char *csv_path, const sapm_net *net,
                                const sapm_pde *pde, const double *base, int ix, int iy,
                                const char *xlabel, const char *ylabel, const char *title)
{
    enum { NX = 101, NY = 101 };
    int d = pde->d, k;
    double *G = (double *)malloc(sizeof(double) * 2 * NX * NY);
    double *P = (double *)malloc(sizeof(double) * (size_t)NX * NY * d);
    double *pred = (double *)malloc(sizeof(double) * 3 * NX * NY);
    double *ex, *err;
    const double *fields[3];
    const char *titles[3] = {"prediction", "exact", "|error|"};
    sapm_heatmap_options ho;
    sapm_result r;
    if (!G || !P || !pred) { free(G); free(P); free(pred); return SAPM_ERR_OUT_OF_MEMORY; }
    ex = pred + NX * NY; err = ex + NX * NY;
    sapm_heatmap_grid(NX, NY, 0.0, 1.0, 0.0, 1.0, G);
    for (k = 0; k < NX * NY; ++k) {
        memcpy(P + (size_t)k * d, base, (size_t)d * sizeof(double));
        P[(size_t)k * d + ix] = G[2 * k];
        P[(size_t)k * d + iy] = G[2 * k + 1];
    }
    sapm_net_forward(net, NX * NY, P, d, pred, 1);
    sapm_pde_exact_values(pde, NX * NY, P, ex);
    for (k = 0; k < NX * NY; ++k) err[k] = fabs(pred[k] - ex[k]);
    if (csv_path) sapm_csv_write_grid(csv_path, NX, NY, 0.0, 1.0, 0.0, 1.0, pred, ex);
    memset(&ho, 0, sizeof ho);
    ho.x0 = 0.0; ho.x1 = 1.0; ho.y0 = 0.0; ho.y1 = 1.0;
    ho.xlabel = xlabel; ho.ylabel = ylabel; ho.title = title;
    ho.bilinear = 1;
    fields[0] = pred; fields[1] = ex; fields[2] = err;
    r = sapm_png_heatmaps_ex(png_path, 3, NX, NY, fields, titles, &ho);
    free(G); free(P); free(pred);
    return r;
}

static PDE_UTIL_UNUSED double pde_median(double *v, int n)
{
    int i, j;
    for (i = 1; i < n; ++i)                    /* insertion sort (no NaN expected) */
        for (j = i; j > 0 && v[j - 1] > v[j]; --j) {
            double t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
        }
    if (n <= 0) return NAN;
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The three benchmark problems of issue 5 (bench/bench_pde.c, bench/bench_lysep.c), on
 * the unit box (0,1)^d with Dirichlet data g = the exact solution:
 *   0  transport      u_t + u_x = 0 (x[0] = t, x[1] = x), u = sin(2 pi (x - t)), d = 2
 *                     (boundary data on the inflow faces t = 0 and x = 0 only)
 *   1  Poisson 2-D    -Laplace u = 2 pi^2 sin(pi x) sin(pi y), u = sin(pi x) sin(pi y)
 *   2  Poisson d-D    -Laplace u = (pi^2/4) sum_i sin(pi x_i / 2), u = sum_i sin(pi x_i / 2) */
#define PDE_UTIL_PI 3.14159265358979323846
static PDE_UTIL_UNUSED double pde_zero(const double *x, int d, void *ud) { (void)x; (void)d; (void)ud; return 0.0; }
static PDE_UTIL_UNUSED double pde_transport_exact(const double *x, int d, void *ud)
{
    (void)d; (void)ud;
    return sin(2.0 * PDE_UTIL_PI * (x[1] - x[0]));
}
static PDE_UTIL_UNUSED double pde_poisson2d_exact(const double *x, int d, void *ud)
{
    (void)d; (void)ud;
    return sin(PDE_UTIL_PI * x[0]) * sin(PDE_UTIL_PI * x[1]);
}
static PDE_UTIL_UNUSED double pde_poisson2d_f(const double *x, int d, void *ud)
{
    return 2.0 * PDE_UTIL_PI * PDE_UTIL_PI * pde_poisson2d_exact(x, d, ud);
}
static PDE_UTIL_UNUSED double pde_sines_exact(const double *x, int d, void *ud)
{
    int i;
    double s = 0.0;
    (void)ud;
    for (i = 0; i < d; ++i) s += sin(0.5 * PDE_UTIL_PI * x[i]);
    return s;
}
static PDE_UTIL_UNUSED double pde_sines_f(const double *x, int d, void *ud)
{
    return 0.25 * PDE_UTIL_PI * PDE_UTIL_PI * pde_sines_exact(x, d, ud);
}

/* Fill *pde with benchmark problem prob (0, 1, 2 above) in dimension d (2 for 0 and 1). */
static PDE_UTIL_UNUSED void pde_bench_problem(int prob, int d, sapm_pde *pde)
{
    static double transport_speed[2] = {1.0, 1.0};     /* (d/dt + d/dx) u */
    memset(pde, 0, sizeof *pde);
    pde->d = d;
    if (prob == 0) {
        pde->c_const = transport_speed; pde->f = pde_zero;
        pde->g = pde_transport_exact; pde->exact = pde_transport_exact;
    } else if (prob == 1) {
        pde->kappa_const = -1.0; pde->f = pde_poisson2d_f;
        pde->g = pde_poisson2d_exact; pde->exact = pde_poisson2d_exact;
    } else {
        pde->kappa_const = -1.0; pde->f = pde_sines_f;
        pde->g = pde_sines_exact; pde->exact = pde_sines_exact;
    }
}

#endif
