/* pde_util.h - small helpers shared by the PDE examples (not part of the library;
 * include after "../sapm.h" with SAPM_IMPLEMENTATION defined).
 *
 *   pde_run        train one network copy with one method, measure J_PINN of the forward
 *                  network, relative L2 and max error on held-out points, wall time; prints
 *                  a progress line about once a second through the library's callback;
 *   pde_heatmaps   prediction | exact | |error| on a 2-D slice, PNG + CSV;
 *   pde_median     median of a small array. */
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

/* Progress through the library's callback: a line at most once a second per run
 * (the history itself is logged every log_every iterations). */
typedef struct pde_progress_state { const char *name; double last; } pde_progress_state;
static PDE_UTIL_UNUSED int pde_print_progress(const sapm_progress *p, void *ud)
{
    pde_progress_state *st = (pde_progress_state *)ud;
    if (p->iter == 0) { st->last = 0.0; return 0; }
    if (p->seconds - st->last < 1.0) return 0;
    st->last = p->seconds;
    printf("  %-18s %-18s iter %6d %7.2f s  loss %.3e  J_PINN %.3e  rel. L2 %.3e\n",
           st->name, p->phase, p->iter, p->seconds, p->loss, p->mse, p->error);
    fflush(stdout);
    return 0;
}

/* Train a copy of net0 with opt (its test fields and, unless opt sets one, the progress
 * callback are filled here; name labels the progress lines); the trained copy is returned
 * in *net_out when net_out != NULL (destroy it yourself). */
static PDE_UTIL_UNUSED pde_result pde_run(const pde_case *pc, const sapm_net *net0,
                                          sapm_pde_options opt, const char *name,
                                          sapm_net *net_out)
{
    pde_result res;
    pde_progress_state ps;
    sapm_net net;
    memset(&res, 0, sizeof res);
    res.j_pinn = res.rel_l2 = res.max_err = NAN;
    if (sapm_net_copy(&net, net0) != SAPM_OK) { res.status = SAPM_ERR_OUT_OF_MEMORY; return res; }
    opt.base.n_test = pc->n_test;
    opt.base.X_test = pc->X_test;
    opt.base.Y_test = pc->u_test;
    if (!opt.base.progress) {
        ps.name = name; ps.last = 0.0;
        opt.base.progress = pde_print_progress;
        opt.base.user_data = &ps;
    }
    res.status = sapm_pde_train(&net, pc->pde, pc->N, pc->X, pc->M, pc->Xb, &opt, &res.rep);
    res.seconds = res.rep.seconds;
    res.iters = res.rep.iters;
    if (res.status != SAPM_OK && res.status != SAPM_ERR_UNSUPPORTED)
        printf("  %s: %s %s\n", name, sapm_result_string(res.status), res.rep.message);
    if (res.status == SAPM_OK || res.status == SAPM_ERR_DIVERGED) {
        sapm_pde_loss(&net, pc->pde, pc->N, pc->X, pc->M, pc->Xb, opt.alpha, opt.beta,
                      &res.j_pinn, NULL, NULL);
        sapm_pde_errors(&net, pc->n_test, pc->X_test, pc->u_test, &res.rel_l2, &res.max_err);
    }
    if (net_out) *net_out = net;
    else sapm_net_destroy(&net);
    return res;
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

#endif
