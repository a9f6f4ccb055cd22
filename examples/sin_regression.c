/* sin_regression - fit f(x) = sin(x^2) on [-2, 2] with a deep tanh network by the
 * least-squares optimizers (GD, Adam, L-BFGS, Levenberg-Marquardt), PM and SAPM (arXiv 2504.21501), and watch
 * J_SAPM and the MSE fall together.
 *
 *   cc -O2 -march=native examples/sin_regression.c -o sin_regression -lm
 *   ./sin_regression [--depth L] [--width W] [--iters K] [--seed S] [--n N] [--time T]
 *                    [--init xavier|uniform] [--out PREFIX] [--full]
 *
 * Trains the same network (depth 10, width 20 by default; Xavier initialisation from
 * --seed, or U(-1,1) weights and biases with --init uniform) from the same start with
 *   GD, Adam, L-BFGS            J_LS = (1/N) sum |u(x_n) - y_n|^2, back-propagated gradients;
 *   LM                          Levenberg-Marquardt on the residuals u(x_n) - y_n;
 *   PM (paper's form)           fixed penalty, gradient steps on the auxiliaries, no polish;
 *   SAPM (paper's form)         self-adaptive weights, gradient steps on the auxiliaries
 *                               (tau = 1e-4: above 1/(2 w_1) for deep nets, so it diverges);
 *   SAPM (paper's, scaled tau)  the same with our step tau / (2 (w_l + w_{l+1} ||W_{l+1}||^2));
 *   SAPM (ours, no polish)      Gauss-Newton auxiliaries, spectral weights, re-sync;
 *   SAPM (default)              the library default (rescaling, short phase, L-BFGS polish)
 * on N = 200 random training points and reports the test MSE on 1000 evenly spaced points.
 * Each method gets --iters iterations (default 2000) and --time seconds (default 3; --full:
 * 20000 iterations, 20 s). The loss curves (J_SAPM / J_PM / J_LS and the MSE against
 * iterations and seconds) go to PREFIX_history.csv (default sin_regression_history.csv)
 * and, when PNG output is compiled in, to PREFIX_mse.png and PREFIX_loss.png. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The methods compared: a label and an options setup on top of sapm_default_options(method)
 * (NULL: the defaults as they come). */
static void setup_gd(sapm_options *o) { o->learning_rate = 0.05; }
static void setup_adam(sapm_options *o) { o->learning_rate = 2e-3; }
static void setup_paper(sapm_options *o)            /* the paper's form, tau = 1e-4 */
{
    o->polish = SAPM_METHOD_NONE;
    sapm_aux_paper_options(&o->aux);
    o->aux.tau = 1e-4;
}
static void setup_paper_scaled(sapm_options *o)     /* ... with our tau / curvature */
{
    setup_paper(o);
    o->aux.update = SAPM_AUX_GD_SCALED;
    o->aux.tau = 1.0;
}
static void setup_no_polish(sapm_options *o) { o->polish = SAPM_METHOD_NONE; }

typedef struct method_config {
    const char *label;
    sapm_method method;
    void (*setup)(sapm_options *o);
} method_config;
static const method_config methods[] = {
    {"GD", SAPM_METHOD_GD, setup_gd},
    {"Adam", SAPM_METHOD_ADAM, setup_adam},
    {"L-BFGS", SAPM_METHOD_LBFGS, NULL},
    {"LM", SAPM_METHOD_LM, NULL},
    {"PM (paper's form)", SAPM_METHOD_PM, setup_paper},
    {"SAPM (paper's form)", SAPM_METHOD_SAPM, setup_paper},
    {"SAPM (paper's, scaled tau)", SAPM_METHOD_SAPM, setup_paper_scaled},
    {"SAPM (ours, no polish)", SAPM_METHOD_SAPM, setup_no_polish},
    {"SAPM (default)", SAPM_METHOD_SAPM, NULL},
};
enum { NMETHODS = (int)(sizeof methods / sizeof methods[0]) };

static double test_mse(const sapm_net *net, int n, const double *X, const double *Y)
{
    double j = NAN;
    sapm_net_loss(net, n, X, 1, Y, 1, &j);
    return j;
}

/* Progress through the library's callback: a line at most once a second. */
typedef struct progress_state { const char *label; double last; } progress_state;
static int print_progress(const sapm_progress *p, void *ud)
{
    progress_state *st = (progress_state *)ud;
    if (p->iter == 0 || p->seconds - st->last < 1.0) return 0;
    st->last = p->seconds;
    printf("  %-26s %-16s iter %6d %6.2f s  loss %.3e  MSE %.3e  test MSE %.3e\n", st->label,
           p->phase, p->iter, p->seconds, p->loss, p->mse, p->error);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int depth = 10, width = 20, iters = 2000, N = 200, n_test = 1000, i, l, uniform = 0;
    uint64_t seed = 1;
    double budget = 3.0;
    const char *prefix = "sin_regression";
    double *X, *Y, *Xt, *Yt;
    int *widths;
    sapm_net net0;
    sapm_rng rng;
    sapm_report reps[NMETHODS];
    const sapm_report *rp[NMETHODS], *rp_aux[NMETHODS];
    const char *labels[NMETHODS], *labels_aux[NMETHODS];
    int n_aux = 0;
    char path[1024];
    sapm_result r;
    for (i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--full")) { iters = 20000; budget = 20.0; continue; }
        if (!v) { fprintf(stderr, "missing value after %s\n", a); return 2; }
        if (!strcmp(a, "--depth")) depth = atoi(v);
        else if (!strcmp(a, "--width")) width = atoi(v);
        else if (!strcmp(a, "--iters")) iters = atoi(v);
        else if (!strcmp(a, "--seed")) seed = (uint64_t)strtoull(v, NULL, 10);
        else if (!strcmp(a, "--n")) N = atoi(v);
        else if (!strcmp(a, "--time")) budget = atof(v);
        else if (!strcmp(a, "--init")) uniform = !strcmp(v, "uniform");
        else if (!strcmp(a, "--out")) prefix = v;
        else { fprintf(stderr, "unknown option %s (see the comment at the top of the file)\n", a); return 2; }
        ++i;
    }
    if (depth < 2 || width < 1 || iters < 1 || N < 1 || !(budget >= 0.0) || strlen(prefix) > 900) {
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
    printf("%-26s %8s %7s %12s %12s %12s  %s\n", "method", "seconds", "iters", "final loss", "train MSE",
           "test MSE", "stop reason");
    for (i = 0; i < NMETHODS; ++i) {
        sapm_net net;
        sapm_options opt = sapm_default_options(methods[i].method);
        progress_state ps;
        labels[i] = methods[i].label;
        ps.label = labels[i]; ps.last = 0.0;
        opt.max_iters = iters;
        opt.time_budget = budget;
        opt.log_every = 10;
        opt.progress = print_progress;
        opt.user_data = &ps;
        opt.n_test = n_test; opt.X_test = Xt; opt.Y_test = Yt;   /* progress.error = test MSE */
        if (methods[i].setup) methods[i].setup(&opt);
        if ((r = sapm_net_copy(&net, &net0)) != SAPM_OK) { fprintf(stderr, "%s\n", sapm_result_string(r)); return 1; }
        r = sapm_train(&net, N, X, 1, Y, 1, &opt, &reps[i]);
        if (r != SAPM_OK && r != SAPM_ERR_DIVERGED) {
            fprintf(stderr, "%s: %s %s\n", labels[i], sapm_result_string(r), reps[i].message);
            return 1;
        }
        printf("%-26s %8.3f %7d %12.3e %12.3e %12.3e  %s\n", labels[i], reps[i].seconds, reps[i].iters,
               reps[i].loss, reps[i].mse, test_mse(&net, n_test, Xt, Yt), sapm_stop_reason_string(reps[i].stop));
        rp[i] = &reps[i];
        if (methods[i].method != SAPM_METHOD_GD && methods[i].method != SAPM_METHOD_ADAM) {
            rp_aux[n_aux] = &reps[i]; labels_aux[n_aux++] = labels[i];
        }
        sapm_net_destroy(&net);
    }
    printf("(loss = the method's own loss: J_LS, J_PM or J_SAPM; after the default SAPM's switch to\n"
           " L-BFGS the auxiliaries are the forward pass, so J_SAPM = J_LS there. SAPM keeps\n"
           " J_LS <= L J_SAPM at every logged iteration; PM has no such bound.)\n");
    sprintf(path, "%s_history.csv", prefix);
    r = sapm_csv_write_history(path, NMETHODS, rp, labels);
    printf("%s: %s\n", path, r == SAPM_OK ? "written (label,phase,iter,seconds,mse,loss,error)" : sapm_result_string(r));
    sprintf(path, "%s_mse.png", prefix);
    r = sapm_png_plot_history(path, NMETHODS, rp, labels, SAPM_FIELD_SECONDS, SAPM_FIELD_MSE,
                              "sin(x^2): MSE of the forward network vs seconds");
    printf("%s: %s\n", path, r == SAPM_OK ? "written" : sapm_result_string(r));
    sprintf(path, "%s_loss.png", prefix);
    r = sapm_png_plot_history(path, n_aux, rp_aux, labels_aux, SAPM_FIELD_ITER, SAPM_FIELD_LOSS,
                              "sin(x^2): method loss (J_LS, J_PM, J_SAPM) vs iterations");
    printf("%s: %s\n", path, r == SAPM_OK ? "written" : sapm_result_string(r));
    for (i = 0; i < NMETHODS; ++i) sapm_report_free(&reps[i]);
    sapm_net_destroy(&net0);
    free(X); free(Y); free(Xt); free(Yt); free(widths);
    return 0;
}
