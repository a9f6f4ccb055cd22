/* bench_util.h - helpers shared by the benchmarks (not part of the library; include after
 * "../sapm.h" with SAPM_IMPLEMENTATION defined).
 *
 *   bench_now            wall clock in seconds (clock_gettime CLOCK_MONOTONIC where declared);
 *   bench_median         median of a small array (sorts it; +Inf entries count as unreached);
 *   pde_run              train one network copy with one PDE method, measure J_PINN of the
 *                        forward network, relative L2 and max error on held-out points;
 *   pde_time_to_error    first time in a history at which the held-out error <= target;
 *   pde_bench_problem    the three benchmark problems (transport, Poisson 2-D, Poisson d-D). */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__) || defined(__clang__)
#define BENCH_UNUSED __attribute__((unused))
#else
#define BENCH_UNUSED
#endif

static BENCH_UNUSED double bench_now(void)
{
#ifdef CLOCK_MONOTONIC
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#else
    return (double)clock() / CLOCKS_PER_SEC;    /* without POSIX clocks: processor time */
#endif
}

static BENCH_UNUSED int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n) (v is sorted in place; NaN is not expected). NaN for n <= 0. */
static BENCH_UNUSED double bench_median(double *v, int n)
{
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof(double), bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* -- PDE benchmarks */

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
static BENCH_UNUSED pde_result pde_run(const pde_case *pc, const sapm_net *net0,
                                       sapm_pde_options opt, sapm_net *net_out)
{
    pde_result res;
    sapm_net net;
    double t0;
    memset(&res, 0, sizeof res);
    res.j_pinn = res.rel_l2 = res.max_err = NAN;
    if (sapm_net_copy(&net, net0) != SAPM_OK) { res.status = SAPM_ERR_OUT_OF_MEMORY; return res; }
    opt.base.n_test = pc->n_test;
    opt.base.X_test = pc->X_test;
    opt.base.Y_test = pc->u_test;
    t0 = bench_now();
    res.status = sapm_pde_train(&net, pc->pde, pc->N, pc->X, pc->M, pc->Xb, &opt, &res.rep);
    res.seconds = bench_now() - t0;
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
static BENCH_UNUSED double pde_time_to_error(const sapm_report *rep, double target)
{
    int k;
    for (k = 0; k < rep->history_count; ++k)
        if (rep->history[k].error <= target) return rep->history[k].seconds;
    return HUGE_VAL;
}

/* The three benchmark problems (bench/bench_pde.c, bench/bench_lysep.c), on the unit box
 * (0,1)^d with Dirichlet data g = the exact solution:
 *   0  transport      u_t + u_x = 0 (x[0] = t, x[1] = x), u = sin(2 pi (x - t)), d = 2
 *                     (boundary data on the inflow faces t = 0 and x = 0 only)
 *   1  Poisson 2-D    -Laplace u = 2 pi^2 sin(pi x) sin(pi y), u = sin(pi x) sin(pi y)
 *   2  Poisson d-D    -Laplace u = (pi^2/4) sum_i sin(pi x_i / 2), u = sum_i sin(pi x_i / 2) */
#define BENCH_PI 3.14159265358979323846
static BENCH_UNUSED double pde_zero(const double *x, int d, void *ud) { (void)x; (void)d; (void)ud; return 0.0; }
static BENCH_UNUSED double pde_transport_exact(const double *x, int d, void *ud)
{
    (void)d; (void)ud;
    return sin(2.0 * BENCH_PI * (x[1] - x[0]));
}
static BENCH_UNUSED double pde_poisson2d_exact(const double *x, int d, void *ud)
{
    (void)d; (void)ud;
    return sin(BENCH_PI * x[0]) * sin(BENCH_PI * x[1]);
}
static BENCH_UNUSED double pde_poisson2d_f(const double *x, int d, void *ud)
{
    return 2.0 * BENCH_PI * BENCH_PI * pde_poisson2d_exact(x, d, ud);
}
static BENCH_UNUSED double pde_sines_exact(const double *x, int d, void *ud)
{
    int i;
    double s = 0.0;
    (void)ud;
    for (i = 0; i < d; ++i) s += sin(0.5 * BENCH_PI * x[i]);
    return s;
}
static BENCH_UNUSED double pde_sines_f(const double *x, int d, void *ud)
{
    return 0.25 * BENCH_PI * BENCH_PI * pde_sines_exact(x, d, ud);
}

/* Fill *pde with benchmark problem prob (0, 1, 2 above) in dimension d (2 for 0 and 1). */
static BENCH_UNUSED void pde_bench_problem(int prob, int d, sapm_pde *pde)
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
