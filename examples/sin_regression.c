/* sin_regression - fit f(x) = sin(x^2) on [-2, 2] with a deep tanh network by the
 * least-squares optimizers (GD, Adam, L-BFGS, Levenberg-Marquardt), PM and SAPM (arXiv
 * 2504.21501), and watch J_SAPM and the MSE fall together.
 *
 *   cc -O2 -march=native examples/sin_regression.c -o sin_regression -lm
 *   ./sin_regression [--depth L] [--width W] [--iters K] [--seed S] [--n N] [--time T]
 *                    [--init xavier|uniform] [--starts K] [--study-iters K] [--study-time T]
 *                    [--out PREFIX] [--full]
 *
 * Part 1 trains the same network (depth 10, width 20 by default; Xavier initialisation from
 * --seed, or U(-1,1) weights and biases with --init uniform) from the same start with
 *   GD, Adam, L-BFGS            J_LS = (1/N) sum |u(x_n) - y_n|^2, back-propagated gradients;
 *   LM                          Levenberg-Marquardt on the residuals u(x_n) - y_n;
 *   PM (paper's form)           fixed penalty, sapm_aux_paper_options;
 *   SAPM (paper's form)         self-adaptive weights, sapm_aux_paper_options: closed-form
 *                               weight blocks, curvature-normalised gradient steps on the
 *                               auxiliaries, w_l = prod ||W_j||_F^2;
 *   SAPM (ours)                 sapm_default_options: Gauss-Newton steps on the auxiliaries,
 *                               spectral weights;
 *   SAPM (ours) -> L-BFGS       the same for 5 outer iterations, then an L-BFGS polish on
 *                               J_LS (opt.polish asked for explicitly)
 * on N = 200 random training points, each for --iters iterations (default 1000: equal
 * iterations, the papers' comparison; --time T adds a wall-clock cap, default none), and
 * reports the test MSE on 1000 evenly spaced points. The "phases" column lists the phases
 * each run's history names, so every row shows the method that actually ran.
 *
 * Part 2 (--starts K, default 10; 0 skips it) repeats GD, Adam, L-BFGS, PM and both SAPM
 * forms from K Xavier starts (seed 1..K) at equal iterations (--study-iters, default
 * 300) and at equal time (--study-time seconds, default 0.5), and prints per method the
 * median, best and worst test MSE and the number of runs that diverged.
 *
 * --full: part 1 with 5000 iterations, part 2 with 2000 iterations and 3 s per run.
 *
 * Files (PREFIX default sin_regression):
 *   PREFIX_history.csv      part 1: every history entry (label,phase,iter,seconds,mse,loss,error)
 *   PREFIX_losses.png       part 1: J_SAPM and the MSE of both SAPM forms, and GD's MSE,
 *                           against iterations on one plot
 *   PREFIX_mse.png          part 1: the MSE of every method against seconds
 *   PREFIX_starts.csv        part 2: one row per method, start and budget
 *   PREFIX_starts.png        part 2: the median over starts of the MSE (and of J_SAPM for
 *                           the SAPM forms) against iterations */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The methods compared: a label and an options setup on top of sapm_default_options(method)
 * (NULL: the defaults as they come); study = 1: in part 2. */
static void setup_gd(sapm_options *o) { o->learning_rate = 0.05; }
static void setup_adam(sapm_options *o) { o->learning_rate = 2e-3; }
static void setup_paper(sapm_options *o) { sapm_aux_paper_options(&o->aux); }
static void setup_polish(sapm_options *o)
{
    o->polish = SAPM_METHOD_LBFGS;
    o->phase_iters = 5;
}

typedef struct method_config {
    const char *label;
    sapm_method method;
    void (*setup)(sapm_options *o);
    int study;
} method_config;
static const method_config methods[] = {
    {"GD", SAPM_METHOD_GD, setup_gd, 1},
    {"Adam", SAPM_METHOD_ADAM, setup_adam, 1},
    {"L-BFGS", SAPM_METHOD_LBFGS, NULL, 1},
    {"LM", SAPM_METHOD_LM, NULL, 0},
    {"PM (paper's form)", SAPM_METHOD_PM, setup_paper, 1},
    {"SAPM (paper's form)", SAPM_METHOD_SAPM, setup_paper, 1},
    {"SAPM (ours)", SAPM_METHOD_SAPM, NULL, 1},
    {"SAPM (ours) -> L-BFGS", SAPM_METHOD_SAPM, setup_polish, 0},
};
enum { NMETHODS = (int)(sizeof methods / sizeof methods[0]), MAXSTARTS = 64 };
enum { I_GD = 0, I_SAPM_PAPER = 5, I_SAPM_OURS = 6 };

static double test_mse(const sapm_net *net, int n, const double *X, const double *Y)
{
    double j = NAN;
    sapm_net_loss(net, n, X, 1, Y, 1, &j);
    return j;
}

/* The distinct phase labels of a history, in order, joined by " > ". */
static void phases_of(const sapm_report *rep, char *out, size_t cap)
{
    const char *last = NULL;
    int k;
    size_t len = 0;
    out[0] = '\0';
    for (k = 0; k < rep->history_count && len < cap; ++k) {
        const char *p = rep->history[k].phase;
        if (p && (!last || strcmp(p, last) != 0)) {
            len += (size_t)snprintf(out + len, cap - len, "%s%s", last ? " > " : "", p);
            last = p;
        }
    }
}

/* Progress through the library's callback: a line at most once a second. */
typedef struct progress_state { const char *label; double last; } progress_state;
static int print_progress(const sapm_progress *p, void *ud)
{
    progress_state *st = (progress_state *)ud;
    if (p->iter == 0 || p->seconds - st->last < 1.0) return 0;
    st->last = p->seconds;
    printf("  %-22s %-16s iter %6d %6.2f s  loss %.3e  MSE %.3e  test MSE %.3e\n", st->label,
           p->phase, p->iter, p->seconds, p->loss, p->mse, p->error);
    fflush(stdout);
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One training run of method k from net0: the report and the test MSE of the result. */
static sapm_result run_method(int k, const sapm_net *net0, int N, const double *X, const double *Y,
                              int n_test, const double *Xt, const double *Yt, int iters,
                              double budget, int log_every, progress_state *ps, sapm_report *rep,
                              double *tmse)
{
    sapm_net net;
    sapm_options opt = sapm_default_options(methods[k].method);
    sapm_result r;
    opt.max_iters = iters;
    opt.time_budget = budget;
    opt.log_every = log_every;
    opt.log_seconds = 0.0;          /* entries at fixed iterations only (medians over starts) */
    if (ps) { opt.progress = print_progress; opt.user_data = ps; opt.log_seconds = 0.25; }
    opt.n_test = n_test; opt.X_test = Xt; opt.Y_test = Yt;   /* progress.error = test MSE */
    if (methods[k].setup) methods[k].setup(&opt);
    if ((r = sapm_net_copy(&net, net0)) != SAPM_OK) return r;
    r = sapm_train(&net, N, X, 1, Y, 1, &opt, rep);
    *tmse = test_mse(&net, n_test, Xt, Yt);
    sapm_net_destroy(&net);
    return r;
}

int main(int argc, char **argv)
{
    int depth = 10, width = 20, iters = 1000, N = 200, n_test = 1000, i, l, k, uniform = 0;
    int starts = 10, study_iters = 300;
    uint64_t seed = 1;
    double budget = 0.0, study_time = 0.5;
    const char *prefix = "sin_regression";
    double *X, *Y, *Xt, *Yt;
    int *widths;
    sapm_net net0;
    sapm_rng rng;
    sapm_report reps[NMETHODS];
    const sapm_report *rp[NMETHODS];
    const char *labels[NMETHODS];
    char path[1024];
    sapm_result r;
    for (i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--full")) { iters = 5000; study_iters = 2000; study_time = 3.0; continue; }
        if (!v) { fprintf(stderr, "missing value after %s\n", a); return 2; }
        if (!strcmp(a, "--depth")) depth = atoi(v);
        else if (!strcmp(a, "--width")) width = atoi(v);
        else if (!strcmp(a, "--iters")) iters = atoi(v);
        else if (!strcmp(a, "--seed")) seed = (uint64_t)strtoull(v, NULL, 10);
        else if (!strcmp(a, "--n")) N = atoi(v);
        else if (!strcmp(a, "--time")) budget = atof(v);
        else if (!strcmp(a, "--init")) uniform = !strcmp(v, "uniform");
        else if (!strcmp(a, "--starts")) starts = atoi(v);
        else if (!strcmp(a, "--study-iters")) study_iters = atoi(v);
        else if (!strcmp(a, "--study-time")) study_time = atof(v);
        else if (!strcmp(a, "--out")) prefix = v;
        else { fprintf(stderr, "unknown option %s (see the comment at the top of the file)\n", a); return 2; }
        ++i;
    }
    if (depth < 2 || width < 1 || iters < 1 || N < 1 || !(budget >= 0.0) || strlen(prefix) > 900 ||
        starts < 0 || starts > MAXSTARTS || study_iters < 10 || !(study_time > 0.0)) {
        fprintf(stderr, "bad option value\n");
        return 2;
    }
    X = (double *)malloc((size_t)N * sizeof(double));
    Y = (double *)malloc((size_t)N * sizeof(double));
    Xt = (double *)malloc((size_t)n_test * sizeof(double));
    Yt = (double *)malloc((size_t)n_test * sizeof(double));
    widths = (int *)malloc(((size_t)depth + 1) * sizeof(int));
    if (!X || !Y || !Xt || !Yt || !widths) { fprintf(stderr, "out of memory\n"); return 1; }
    sapm_rng_seed(&rng, seed);
    for (i = 0; i < N; ++i) { X[i] = -2.0 + 4.0 * sapm_rng_uniform(&rng); Y[i] = sin(X[i] * X[i]); }
    for (i = 0; i < n_test; ++i) { Xt[i] = -2.0 + 4.0 * i / (n_test - 1); Yt[i] = sin(Xt[i] * Xt[i]); }
    widths[0] = 1;
    for (l = 1; l < depth; ++l) widths[l] = width;
    widths[depth] = 1;
    if ((r = sapm_net_create(&net0, depth, widths, SAPM_ACT_TANH)) != SAPM_OK ||
        (r = sapm_net_init(&net0, uniform ? SAPM_INIT_UNIFORM : SAPM_INIT_XAVIER, 1.0, seed)) != SAPM_OK) {
        fprintf(stderr, "network: %s\n", sapm_result_string(r));
        return 1;
    }
    printf("sin(x^2) on [-2, 2]: depth %d, width %d, tanh, %s init, %lu parameters, N = %d train, %d test points\n",
           depth, width, uniform ? "U(-1,1)" : "Xavier", (unsigned long)net0.n_params, N, n_test);
    printf("part 1: %d iterations per method%s\n", iters, budget > 0.0 ? " (or the time cap)" : "");
    printf("%-22s %8s %6s %11s %11s %11s %11s  %-18s %s\n", "method", "seconds", "iters", "initial loss",
           "final loss", "train MSE", "test MSE", "stop reason", "phases");
    for (k = 0; k < NMETHODS; ++k) {
        progress_state ps;
        double tm;
        char ph[160];
        labels[k] = methods[k].label;
        ps.label = labels[k]; ps.last = 0.0;
        r = run_method(k, &net0, N, X, Y, n_test, Xt, Yt, iters, budget, 10, &ps, &reps[k], &tm);
        if (r != SAPM_OK && r != SAPM_ERR_DIVERGED) {
            fprintf(stderr, "%s: %s %s\n", labels[k], sapm_result_string(r), reps[k].message);
            return 1;
        }
        phases_of(&reps[k], ph, sizeof ph);
        printf("%-22s %8.3f %6d %11.3e %11.3e %11.3e %11.3e  %-18s %s\n", labels[k], reps[k].seconds,
               reps[k].iters, reps[k].history_count > 0 ? reps[k].history[0].loss : NAN, reps[k].loss,
               reps[k].mse, tm, sapm_stop_reason_string(reps[k].stop), ph);
        rp[k] = &reps[k];
    }
    printf("(loss = the method's own loss: J_LS, J_PM or J_SAPM; during an L-BFGS polish the\n"
           " auxiliaries are the forward pass, so J_SAPM = J_LS there. SAPM keeps\n"
           " J_LS <= L J_SAPM at every logged iteration; PM has no such bound.)\n");
    sprintf(path, "%s_history.csv", prefix);
    r = sapm_csv_write_history(path, NMETHODS, rp, labels);
    printf("%s: %s\n", path, r == SAPM_OK ? "written (label,phase,iter,seconds,mse,loss,error)" : sapm_result_string(r));
    sprintf(path, "%s_mse.png", prefix);
    r = sapm_png_plot_history(path, NMETHODS, rp, labels, SAPM_FIELD_SECONDS, SAPM_FIELD_MSE,
                              "sin(x^2): MSE of the forward network vs seconds");
    printf("%s: %s\n", path, r == SAPM_OK ? "written" : sapm_result_string(r));
    {
        /* J_SAPM and the MSE of both SAPM forms, and GD's MSE, against iterations */
        static const int pick[3] = {I_SAPM_PAPER, I_SAPM_OURS, I_GD};
        static const char *names[5] = {"SAPM (paper's form): J_SAPM", "SAPM (paper's form): MSE",
                                       "SAPM (ours): J_SAPM", "SAPM (ours): MSE", "GD: MSE (= J_LS)"};
        sapm_plot_series s[5];
        double *buf[5];
        int ns = 0, q;
        for (q = 0; q < 3; ++q) {
            const sapm_report *rr = &reps[pick[q]];
            int nf = q < 2 ? 2 : 1, f;
            for (f = 0; f < nf; ++f, ++ns) {
                buf[ns] = (double *)malloc(2 * (size_t)(rr->history_count + 1) * sizeof(double));
                if (!buf[ns]) { fprintf(stderr, "out of memory\n"); return 1; }
                s[ns].label = names[ns];
                s[ns].count = rr->history_count;
                s[ns].x = buf[ns];
                s[ns].y = buf[ns] + rr->history_count;
                for (i = 0; i < rr->history_count; ++i) {
                    buf[ns][i] = rr->history[i].iter;
                    buf[ns][rr->history_count + i] = nf == 2 && f == 0 ? rr->history[i].loss : rr->history[i].mse;
                }
            }
        }
        sprintf(path, "%s_losses.png", prefix);
        r = sapm_png_plot(path, ns, s, "sin(x^2), L = 10: J_SAPM and MSE vs iterations", "iteration",
                          "loss (log)", 1);
        printf("%s: %s\n", path, r == SAPM_OK ? "written" : sapm_result_string(r));
        for (q = 0; q < ns; ++q) free(buf[q]);
    }
    for (k = 0; k < NMETHODS; ++k) sapm_report_free(&reps[k]);

    if (starts > 0) {
        /* part 2: K Xavier starts, equal iterations and equal time */
        enum { LOGE = 10 };
        int npts = study_iters / LOGE + 1, b, s;
        double *curve = (double *)malloc((size_t)NMETHODS * 2 * npts * MAXSTARTS * sizeof(double));
        FILE *csv;
        sprintf(path, "%s_starts.csv", prefix);
        csv = fopen(path, "w");
        if (!curve || !csv) { fprintf(stderr, "cannot write %s\n", path); return 1; }
        for (i = 0; i < NMETHODS * 2 * npts * MAXSTARTS; ++i) curve[i] = NAN;
        fprintf(csv, "method,budget,seed,iters,seconds,train_mse,test_mse,final_loss,diverged\n");
        printf("\npart 2: %d Xavier starts (seed 1..%d); equal iterations (%d) and equal time (%.2f s)\n",
               starts, starts, study_iters, study_time);
        printf("%-22s %-10s %7s %11s %11s %11s %9s\n", "method", "budget", "iters", "median", "best",
               "worst", "diverged");
        for (k = 0; k < NMETHODS; ++k) {
            if (!methods[k].study) continue;
            for (b = 0; b < 2; ++b) {
                double tm[MAXSTARTS], best = INFINITY, worst = 0.0, its[MAXSTARTS];
                int div = 0;
                for (s = 0; s < starts; ++s) {
                    sapm_net n0;
                    sapm_report rep;
                    double t = NAN;
                    if (sapm_net_create(&n0, depth, widths, SAPM_ACT_TANH) != SAPM_OK) return 1;
                    sapm_net_init(&n0, uniform ? SAPM_INIT_UNIFORM : SAPM_INIT_XAVIER, 1.0, (uint64_t)(s + 1));
                    r = run_method(k, &n0, N, X, Y, n_test, Xt, Yt, b ? 0 : study_iters, b ? study_time : 0.0,
                                   LOGE, NULL, &rep, &t);
                    sapm_net_destroy(&n0);
                    if (r != SAPM_OK && r != SAPM_ERR_DIVERGED) {
                        fprintf(stderr, "%s: %s %s\n", methods[k].label, sapm_result_string(r), rep.message);
                        return 1;
                    }
                    if (r == SAPM_ERR_DIVERGED || !isfinite(t)) { ++div; t = INFINITY; }
                    tm[s] = t; its[s] = rep.iters;
                    if (t < best) best = t;
                    if (t > worst) worst = t;
                    fprintf(csv, "\"%s\",%s,%d,%d,%.4g,%.17g,%.17g,%.17g,%d\n", methods[k].label,
                            b ? "time" : "iterations", s + 1, rep.iters, rep.seconds, rep.mse, t, rep.loss,
                            r == SAPM_ERR_DIVERGED);
                    if (!b)
                        for (i = 0; i < rep.history_count; ++i) {
                            int q = rep.history[i].iter / LOGE;
                            if (rep.history[i].iter % LOGE || q >= npts) continue;
                            curve[(((size_t)k * 2 + 0) * npts + q) * MAXSTARTS + s] = rep.history[i].mse;
                            curve[(((size_t)k * 2 + 1) * npts + q) * MAXSTARTS + s] = rep.history[i].loss;
                        }
                    sapm_report_free(&rep);
                }
                printf("%-22s %-10s %7.0f %11.3e %11.3e %11.3e %6d/%-2d\n", methods[k].label,
                       b ? "time" : "iterations", median(its, starts), median(tm, starts), best, worst, div, starts);
                fflush(stdout);
            }
        }
        fclose(csv);
        printf("%s: written (one row per method, budget and seed; test MSE on the 1000 points)\n", path);
        {
            /* medians over starts against iterations: MSE of each method, J_SAPM of both forms */
            sapm_plot_series ser[2 * NMETHODS];
            double *xs = (double *)malloc((size_t)npts * sizeof(double));
            double *ys = (double *)malloc((size_t)2 * NMETHODS * npts * sizeof(double));
            static char lab[2 * NMETHODS][64];
            int ns = 0, f, q;
            if (!xs || !ys) { fprintf(stderr, "out of memory\n"); return 1; }
            for (q = 0; q < npts; ++q) xs[q] = q * LOGE;
            for (k = 0; k < NMETHODS; ++k) {
                if (!methods[k].study) continue;
                for (f = 0; f < (methods[k].method == SAPM_METHOD_SAPM ? 2 : 1); ++f) {
                    double *y = ys + (size_t)ns * npts;
                    for (q = 0; q < npts; ++q) {
                        double v[MAXSTARTS];
                        int c = 0;
                        for (s = 0; s < starts; ++s) {
                            double e = curve[(((size_t)k * 2 + f) * npts + q) * MAXSTARTS + s];
                            v[c++] = isfinite(e) ? e : INFINITY;
                        }
                        y[q] = median(v, c);
                    }
                    snprintf(lab[ns], sizeof lab[ns], "%s: %s", methods[k].label, f ? "J_SAPM" : "MSE");
                    ser[ns].label = lab[ns]; ser[ns].count = npts; ser[ns].x = xs; ser[ns].y = y;
                    ++ns;
                }
            }
            sprintf(path, "%s_starts.png", prefix);
            r = sapm_png_plot(path, ns, ser, "sin(x^2), L = 10: median over starts vs iterations",
                              "iteration", "median (log)", 1);
            printf("%s: %s\n", path, r == SAPM_OK ? "written" : sapm_result_string(r));
            free(xs); free(ys);
        }
        free(curve);
    }
    sapm_net_destroy(&net0);
    free(X); free(Y); free(Xt); free(Yt); free(widths);
    return 0;
}
