/* bench_sapm.c - PM / SAPM against the LS optimizers on the same wall-clock budget.
 *
 *   cc -O2 -march=native bench/bench_sapm.c -o bench_sapm -lm
 *   ./bench_sapm            quick mode (make bench): 3 starts, 1.5 s per run, uniform init
 *   ./bench_sapm --full     10 starts, 5 s per run, uniform and Xavier init
 *   options: --starts K --budget S --init u|x|both --problems LIST (default s6,s10,s14,p6,p10)
 *            --methods LIST (indices into the table, e.g. 2,6) --no-cost
 *   SAPM_BENCH_FULL=1 in the environment is the same as --full.
 *
 * Problems: a target letter and the depth L (e.g. s10, a6). Targets: s = sin(x^2) on
 * [-2,2]; k = tanh(10 x), g = two Gaussian bumps on [-1,1] (1-D: 256 random training
 * points, 1000 test points on a grid); p = sin(pi x) sin(pi y), r = sin(4 |x|) on [-1,1]^2,
 * f = Franke's function on [0,1]^2 (2-D: 400 random training points, 40x40 test grid);
 * a = sin(x1 + .. + x5), e = exp(-|x|^2) cos(2 x1) on [-1,1]^5 (5-D: 1000 random training
 * points, 2000 random test points). Width 20, tanh. Every method starts from the same weights for a
 * given seed. The held-out test MSE is evaluated in the progress callback at every 10th
 * iteration; the callback's own time is subtracted from the clock for "seconds to reach".
 * Failure: final test MSE > 1e-3. Medians of time-to-target count unreached runs as +inf.
 */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"

#define MAXSTARTS 64

typedef struct problem { const char *name; int d, L, N, Nt; double *X, *Y, *Xt, *Yt; } problem;
typedef struct monitor {
    const problem *pb; sapm_net *net; double *U;
    double cb_time, t3, t4;
} monitor;

static double test_mse(const problem *pb, const sapm_net *net, double *U)
{
    int i; double s = 0.0;
    sapm_net_forward(net, pb->Nt, pb->Xt, pb->d, U, 1);
    for (i = 0; i < pb->Nt; ++i) s += (U[i] - pb->Yt[i]) * (U[i] - pb->Yt[i]);
    return s / pb->Nt;
}

static int on_progress(const sapm_progress *p, void *ud)
{
    monitor *m = (monitor *)ud;
    double t0 = bench_now(), e = test_mse(m->pb, m->net, m->U), t = p->seconds - m->cb_time;
    if (e <= 1e-3 && m->t3 < 0) m->t3 = t;
    if (e <= 1e-4 && m->t4 < 0) m->t4 = t;
    m->cb_time += bench_now() - t0;
    return 0;
}

/* The targets: a letter, the input dimension, the box [lo, hi]^d and f. */
typedef struct target { char code; int d; double lo, hi; const char *name; double (*f)(const double *x); } target;
static double f_sin_x2(const double *x) { return sin(x[0] * x[0]); }
static double f_sinsin(const double *x) { return sin(3.14159265358979323846 * x[0]) * sin(3.14159265358979323846 * x[1]); }
static double f_step(const double *x) { return tanh(10.0 * x[0]); }
static double f_bumps(const double *x)
{
    return exp(-20.0 * (x[0] - 0.3) * (x[0] - 0.3)) - exp(-20.0 * (x[0] + 0.5) * (x[0] + 0.5));
}
static double f_franke(const double *x)
{
    double a = 9.0 * x[0], b = 9.0 * x[1];
    return 0.75 * exp(-((a - 2) * (a - 2) + (b - 2) * (b - 2)) / 4) + 0.75 * exp(-(a + 1) * (a + 1) / 49 - (b + 1) / 10) +
           0.5 * exp(-((a - 7) * (a - 7) + (b - 3) * (b - 3)) / 4) - 0.2 * exp(-(a - 4) * (a - 4) - (b - 7) * (b - 7));
}
static double f_radial(const double *x) { return sin(4.0 * sqrt(x[0] * x[0] + x[1] * x[1])); }
static double f_sin_sum5(const double *x) { return sin(x[0] + x[1] + x[2] + x[3] + x[4]); }
static double f_gauss_cos5(const double *x)
{
    double r2 = 0.0; int i;
    for (i = 0; i < 5; ++i) r2 += x[i] * x[i];
    return exp(-r2) * cos(2.0 * x[0]);
}
static const target targets[] = {
    {'s', 1, -2.0, 2.0, "sin(x^2)", f_sin_x2},
    {'p', 2, -1.0, 1.0, "sin(pi x)sin(pi y)", f_sinsin},
    {'k', 1, -1.0, 1.0, "tanh(10 x)", f_step},
    {'g', 1, -1.0, 1.0, "two Gaussian bumps", f_bumps},
    {'f', 2, 0.0, 1.0, "Franke 2-D", f_franke},
    {'r', 2, -1.0, 1.0, "sin(4r) 2-D", f_radial},
    {'a', 5, -1.0, 1.0, "sin(x1+..+x5) 5-D", f_sin_sum5},
    {'e', 5, -1.0, 1.0, "exp(-r^2) cos(2 x1) 5-D", f_gauss_cos5},
};

/* Training points: N uniform random in the box (seed 12345); test points: a grid in 1-D
 * (1000) and 2-D (40 x 40), 2000 uniform random points in 5-D. */
static void make_problem(problem *pb, const target *tg, int L)
{
    sapm_rng rng; int i, k, d = tg->d;
    double w = tg->hi - tg->lo;
    pb->d = d; pb->L = L;
    pb->N = d == 1 ? 256 : d == 2 ? 400 : 1000; pb->Nt = d == 1 ? 1000 : d == 2 ? 1600 : 2000;
    pb->name = tg->name;
    pb->X = (double *)malloc(sizeof(double) * pb->N * d); pb->Y = (double *)malloc(sizeof(double) * pb->N);
    pb->Xt = (double *)malloc(sizeof(double) * pb->Nt * d); pb->Yt = (double *)malloc(sizeof(double) * pb->Nt);
    sapm_rng_seed(&rng, 12345);
    for (i = 0; i < pb->N; ++i) {
        for (k = 0; k < d; ++k) pb->X[i * d + k] = tg->lo + w * sapm_rng_uniform(&rng);
        pb->Y[i] = tg->f(pb->X + i * d);
    }
    for (i = 0; i < pb->Nt; ++i) {
        if (d == 1) pb->Xt[i] = tg->lo + w * (i + 0.5) / pb->Nt;
        else if (d == 2) { pb->Xt[2 * i] = tg->lo + w * ((i % 40) + 0.5) / 40; pb->Xt[2 * i + 1] = tg->lo + w * ((i / 40) + 0.5) / 40; }
        else for (k = 0; k < d; ++k) pb->Xt[i * d + k] = tg->lo + w * sapm_rng_uniform(&rng);
        pb->Yt[i] = tg->f(pb->Xt + i * d);
    }
}

/* The methods compared, each a label and an options setup on top of sapm_default_options. */
static void setup_paper(sapm_options *o)      /* the paper's form (arXiv 2504.21501) */
{
    sapm_aux_paper_options(&o->aux);
}
static void setup_polish(sapm_options *o)     /* ours: 5 outer iterations (or half the time), then L-BFGS */
{
    o->polish = SAPM_METHOD_LBFGS;
    o->phase_iters = 5;
    o->phase_time = 0.5;
}

typedef struct bench_method {
    const char *label;
    sapm_method method;
    void (*setup)(sapm_options *o);   /* NULL: sapm_default_options(method) as it comes */
    int rescale;                      /* sapm_net_rescale_chaos before the run (untimed) */
    int is_default;                   /* rescale + SAPM (ours) -> L-BFGS: its failures are summed */
} bench_method;

static const bench_method methods[] = {
    {"GD", SAPM_METHOD_GD, NULL, 0, 0},
    {"Adam", SAPM_METHOD_ADAM, NULL, 0, 0},
    {"L-BFGS", SAPM_METHOD_LBFGS, NULL, 0, 0},
    {"PM (ours)", SAPM_METHOD_PM, NULL, 0, 0},
    {"SAPM (paper's form)", SAPM_METHOD_SAPM, setup_paper, 0, 0},
    {"SAPM (ours)", SAPM_METHOD_SAPM, NULL, 0, 0},
    {"rescale+SAPM->L-BFGS", SAPM_METHOD_SAPM, setup_polish, 1, 1},
    {"L-BFGS + rescale", SAPM_METHOD_LBFGS, NULL, 1, 0},
    {"LM", SAPM_METHOD_LM, NULL, 0, 0},
};
enum { NMETH = (int)(sizeof methods / sizeof methods[0]) };

static sapm_options meth_options(const bench_method *bm)
{
    sapm_options o = sapm_default_options(bm->method);
    if (bm->setup) bm->setup(&o);
    return o;
}

static void fmt_t(char *buf, double t) { if (isinf(t)) strcpy(buf, "-"); else sprintf(buf, "%.3f", t); }

/* bytes a method keeps besides the network: the optimizer's state vectors (GD 1, Adam 3,
 * L-BFGS 2m + 4 vectors of P doubles; the back-propagation tape is not counted) / for PM and
 * SAPM the auxiliaries and their workspace (sapm_aux_bytes of the step API's state) */
static double method_bytes(const bench_method *bm, const problem *pb, sapm_net *net)
{
    double P = (double)net->n_params;
    sapm_options o = meth_options(bm);
    sapm_aux_state *st = NULL;
    double b;
    if (o.method == SAPM_METHOD_GD) return 8 * P;
    if (o.method == SAPM_METHOD_ADAM) return 8 * 3 * P;
    if (o.method == SAPM_METHOD_LBFGS) return 8 * (2 * o.ls.lbfgs_memory + 4) * P;
    if (o.method == SAPM_METHOD_LM) {            /* Jacobian N x P and two k x k, k = min(N, P) */
        double k = pb->N < P ? (double)pb->N : P;
        return 8 * ((double)pb->N * P + 2 * k * k);
    }
    if (sapm_aux_create(&st, net, pb->N, pb->X, pb->d, pb->Y, 1, &o) != SAPM_OK) return -1;
    b = (double)sapm_aux_bytes(st);
    sapm_aux_destroy(st);
    return b;
}

static int g_nocost = 0;
static const char *g_methods = NULL; /* --methods: indices to run, e.g. "2,6" */
static int method_on(int k) { char c[4]; if (!g_methods) return 1; sprintf(c, "%d", k); return strstr(g_methods, c) != NULL; }

static void run_problem(problem *pb, int init, int nstarts, double budget, int *nfail_total)
{
    int widths[32], l, k, s;
    static double tm[NMETH][MAXSTARTS], t3[NMETH][MAXSTARTS], t4[NMETH][MAXSTARTS], per[NMETH][MAXSTARTS];
    printf("\n%s, L = %d, width 20, tanh, N = %d, %s init, budget %.1f s, %d starts\n", pb->name, pb->L, pb->N,
           init ? "Xavier (zero biases)" : "U(-1,1)", budget, nstarts);
    widths[0] = pb->d;
    for (l = 1; l < pb->L; ++l) widths[l] = 20;
    widths[pb->L] = 1;
    for (s = 0; s < nstarts; ++s)
        for (k = 0; k < NMETH; ++k) {
            sapm_net net; sapm_options o = meth_options(&methods[k]); sapm_report rep; monitor m;
            if (!method_on(k)) continue;
            sapm_net_create(&net, pb->L, widths, SAPM_ACT_TANH);
            sapm_net_init(&net, init ? SAPM_INIT_XAVIER : SAPM_INIT_UNIFORM, 1.0, 1000 + s);
            m.pb = pb; m.net = &net; m.U = (double *)malloc(sizeof(double) * pb->Nt);
            m.cb_time = 0; m.t3 = m.t4 = -1;
            if (methods[k].rescale) sapm_net_rescale_chaos(&net, pb->N, pb->X, pb->d, NULL); /* untimed, ~1 forward pass */
            o.max_iters = 100000000; o.time_budget = budget; o.log_every = 10;
            o.progress = on_progress; o.user_data = &m;
            sapm_train(&net, pb->N, pb->X, pb->d, pb->Y, 1, &o, &rep);
            tm[k][s] = test_mse(pb, &net, m.U);
            if (!isfinite(tm[k][s])) tm[k][s] = INFINITY;
            t3[k][s] = m.t3 < 0 ? INFINITY : m.t3;
            t4[k][s] = m.t4 < 0 ? INFINITY : m.t4;
            per[k][s] = rep.iters > 0 ? 1e3 * (rep.seconds - m.cb_time) / rep.iters : NAN;
            sapm_report_free(&rep);
            free(m.U);
            sapm_net_destroy(&net);
        }
    printf("%-20s %12s %12s %6s %10s %10s %9s %10s\n", "method", "median test", "worst test", "fails", "t(1e-3) s", "t(1e-4) s", "ms/iter", "state KiB");
    for (k = 0; k < NMETH; ++k) {
        double v[MAXSTARTS], worst = 0, med, m3, m4, pm, bytes;
        int fails = 0; char b3[32], b4[32];
        sapm_net net;
        if (!method_on(k)) continue;
        for (s = 0; s < nstarts; ++s) { v[s] = tm[k][s]; if (tm[k][s] > worst) worst = tm[k][s]; if (!(tm[k][s] <= 1e-3)) ++fails; }
        med = bench_median(v, nstarts);
        for (s = 0; s < nstarts; ++s) v[s] = t3[k][s];
        m3 = bench_median(v, nstarts);
        for (s = 0; s < nstarts; ++s) v[s] = t4[k][s];
        m4 = bench_median(v, nstarts);
        for (s = 0; s < nstarts; ++s) v[s] = per[k][s];
        pm = bench_median(v, nstarts);
        sapm_net_create(&net, pb->L, widths, SAPM_ACT_TANH);
        bytes = method_bytes(&methods[k], pb, &net);
        sapm_net_destroy(&net);
        fmt_t(b3, m3); fmt_t(b4, m4);
        printf("%-20s %12.3e %12.3e %3d/%-2d %10s %10s %9.3f %10.1f\n", methods[k].label, med, worst, fails, nstarts, b3, b4, pm, bytes / 1024.0);
        if (methods[k].is_default) *nfail_total += fails;
    }
}

/* Per-iteration cost against back-propagation: one J_LS gradient (sapm_net_gradient) vs
 * one PM/SAPM outer iteration through the step API (sapm_aux_step; the paper's form and
 * ours), medians of repeated timings. */
static void cost_table(void)
{
    static const bench_method steps[2] = {
        {"SAPM paper's form", SAPM_METHOD_SAPM, setup_paper, 0, 0},
        {"SAPM GN (ours)", SAPM_METHOD_SAPM, NULL, 0, 0},
    };
    problem pb; int widths[32], l, L, k, r;
    sapm_result res_step = SAPM_OK;
    printf("\nPer-iteration cost vs back-propagation (sin(x^2), N = 256, width 20; median of 15):\n"
           "one J_LS gradient vs one outer iteration (all weight solves + one auxiliary sweep)\n");
    printf("%4s %14s %20s %16s %12s %10s\n", "L", "backprop ms", "SAPM paper's ms", "SAPM GN ms",
           "paper/bp", "GN/bp");
    for (L = 6; L <= 20; L += L < 14 ? 4 : 6) {
        sapm_net net; double *g, t[3][15], med[3];
        make_problem(&pb, 0, L);
        widths[0] = 1; for (l = 1; l < L; ++l) widths[l] = 20; widths[L] = 1;
        sapm_net_create(&net, L, widths, SAPM_ACT_TANH);
        sapm_net_init(&net, SAPM_INIT_UNIFORM, 1.0, 1);
        g = (double *)malloc(sizeof(double) * net.n_params);
        for (r = 0; r < 15; ++r) { double f, t0 = bench_now(); sapm_net_gradient(&net, pb.N, pb.X, 1, pb.Y, 1, &f, g); t[0][r] = 1e3 * (bench_now() - t0); }
        for (k = 0; k < 2; ++k) {
            sapm_options o = meth_options(&steps[k]);
            sapm_aux_state *st = NULL;
            sapm_result res = sapm_aux_create(&st, &net, pb.N, pb.X, 1, pb.Y, 1, &o);
            int bad = res != SAPM_OK ? -1 : 0;    /* first failing step (timed all the same) */
            for (r = 0; r < 15; ++r) {
                double t0 = bench_now();
                sapm_result sr = res == SAPM_OK ? sapm_aux_step(st) : res;
                t[k + 1][r] = res == SAPM_OK ? 1e3 * (bench_now() - t0) : NAN;
                if (sr != SAPM_OK && !bad) { bad = r + 1; res_step = sr; }
            }
            if (bad) printf("     (L = %d, %s: step %d: %s)\n", L, steps[k].label, bad,
                            sapm_result_string(bad < 0 ? res : res_step));
            sapm_aux_destroy(st);
            sapm_net_init(&net, SAPM_INIT_UNIFORM, 1.0, 1);
        }
        for (k = 0; k < 3; ++k) med[k] = bench_median(t[k], 15);
        printf("%4d %14.3f %20.3f %16.3f %12.1f %10.1f\n", L, med[0], med[1], med[2], med[1] / med[0], med[2] / med[0]);
        free(g); sapm_net_destroy(&net);
        free(pb.X); free(pb.Y); free(pb.Xt); free(pb.Yt);
    }
}

int main(int argc, char **argv)
{
    int full = getenv("SAPM_BENCH_FULL") != NULL, nstarts, i, inits = 1, nfail = 0;
    double budget;
    const char *problems = NULL;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress visible when redirected */
    for (i = 1; i < argc; ++i) if (!strcmp(argv[i], "--full")) full = 1;
    nstarts = full ? 10 : 3; budget = full ? 5.0 : 1.5; inits = full ? 3 : 1;
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--starts") && i + 1 < argc) nstarts = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--budget") && i + 1 < argc) budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--init") && i + 1 < argc) { ++i; inits = !strcmp(argv[i], "u") ? 1 : !strcmp(argv[i], "x") ? 2 : 3; }
        else if (!strcmp(argv[i], "--problems") && i + 1 < argc) problems = argv[++i];
        else if (!strcmp(argv[i], "--methods") && i + 1 < argc) g_methods = argv[++i];
        else if (!strcmp(argv[i], "--no-cost")) g_nocost = 1;
    }
    if (nstarts < 1) nstarts = 1;
    if (nstarts > MAXSTARTS) nstarts = MAXSTARTS;
    printf("bench_sapm: %s mode, SIMD path %s. Test MSE on held-out points; failure = test MSE > 1e-3.\n", full ? "full" : "quick", sapm_simd_path());
    printf("Methods: GD, Adam, L-BFGS on J_LS; PM (library defaults, lambda = 1); SAPM in the paper's\n"
           "form (arXiv 2504.21501: curvature-normalised gradient steps on the auxiliaries); SAPM with\n"
           "our auxiliary updates (the default); edge-of-chaos rescaling (sapm_net_rescale_chaos), 5\n"
           "SAPM (ours) iterations, then an L-BFGS polish; L-BFGS after the same rescaling.\n");
    {
        const char *list = problems ? problems : "s6,s10,s14,p6,p10", *c = list;
        int init;
        while (*c) {
            problem pb;
            const target *tg = NULL;
            int L, t;
            for (t = 0; t < (int)(sizeof targets / sizeof targets[0]); ++t) if (targets[t].code == *c) tg = &targets[t];
            L = atoi(c + 1);
            if (!tg || L < 2 || L > 31) { fprintf(stderr, "bad problem in --problems %s\n", list); return 2; }
            while (*c && *c != ',') ++c;
            if (*c == ',') ++c;
            make_problem(&pb, tg, L);
            for (init = 0; init < 2; ++init)
                if (inits & (1 << init)) run_problem(&pb, init, nstarts, budget, &nfail);
            free(pb.X); free(pb.Y); free(pb.Xt); free(pb.Yt);
        }
    }
    if (!g_nocost) cost_table();
    printf("\nrescale+SAPM->L-BFGS failures over all tables: %d\n", nfail);
    return 0;
}
