/* sin_regression - seed experiment 1: fit f(x) = sin(x^2) on [-2, 2] with a deep tanh
 * network by LS (GD, Adam, L-BFGS), PM and SAPM, and watch J_SAPM and the MSE fall together.
 *
 *   cc -O2 -march=native examples/sin_regression.c -o sin_regression -lm
 *   ./sin_regression [--depth L] [--width W] [--iters K] [--seed S] [--n N] [--time T]
 *                    [--init xavier|uniform] [--out PREFIX] [--full]
 *
 * Trains the same network (depth 10, width 20 by default; Xavier initialisation from
 * --seed, or the seeds' U(-1,1) with --init uniform) from the same start with
 *   LS-GD, LS-Adam, LS-L-BFGS   J_LS = (1/N) sum |u(x_n) - y_n|^2, back-propagated gradients;
 *   PM                          fixed penalty, seeds' form (gradient steps on the auxiliaries);
 *   SAPM (seeds' form)          self-adaptive weights, gradient steps on the auxiliaries
 *                               (tau = 1e-4: above 1/(2 w_1) for deep nets, so it diverges);
 *   SAPM (seeds, scaled tau)    the same with our step tau / (2 (w_l + w_{l+1} ||W_{l+1}||^2));
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

enum { NMETHODS = 8 };

static double test_mse(const sapm_net *net, int n, const double *X, const double *Y)
{
    double j = NAN;
    sapm_net_loss(net, n, X, 1, Y, 1, &j);
    return j;
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
    const sapm_report *rp[NMETHODS];
    static const char *labels[NMETHODS] = {"LS-GD", "LS-Adam", "LS-LBFGS", "PM (seeds)",
                                           "SAPM (seeds)", "SAPM (seeds, scaled tau)",
                                           "SAPM (ours, no polish)", "SAPM (default)"};
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
    printf("%-24s %8s %7s %12s %12s %12s  %s\n", "method", "seconds", "iters", "final loss", "train MSE",
           "test MSE", "stop reason");
    for (i = 0; i < NMETHODS; ++i) {
        static const sapm_method methods[NMETHODS] = {SAPM_METHOD_LS_GD, SAPM_METHOD_LS_ADAM,
            SAPM_METHOD_LS_LBFGS, SAPM_METHOD_PM, SAPM_METHOD_SAPM, SAPM_METHOD_SAPM,
            SAPM_METHOD_SAPM, SAPM_METHOD_SAPM};
        sapm_net net;
        sapm_options opt = sapm_default_options(methods[i]);
        opt.max_iters = iters;
        opt.time_budget = budget;
        opt.log_every = 10;
        if (methods[i] == SAPM_METHOD_LS_GD) opt.learning_rate = 0.05;
        if (methods[i] == SAPM_METHOD_LS_ADAM) opt.learning_rate = 2e-3;
        if (i >= 3 && i <= 5) { sapm_aux_seeds_options(&opt.aux); opt.aux.tau = 1e-4; }
        if (i == 5) { opt.aux.update = SAPM_AUX_GD_SCALED; opt.aux.tau = 1.0; } /* ours: tau / curvature */
        if (i == 6) opt.aux.polish = 0;
        if ((r = sapm_net_copy(&net, &net0)) != SAPM_OK) { fprintf(stderr, "%s\n", sapm_result_string(r)); return 1; }
        r = sapm_train(&net, N, X, 1, Y, 1, &opt, &reps[i]);
        if (r != SAPM_OK && r != SAPM_ERR_DIVERGED) {
            fprintf(stderr, "%s: %s\n", labels[i], sapm_result_string(r));
            return 1;
        }
        printf("%-24s %8.3f %7d %12.3e %12.3e %12.3e  %s\n", labels[i], reps[i].seconds, reps[i].iters,
               reps[i].loss, reps[i].mse, test_mse(&net, n_test, Xt, Yt), sapm_stop_reason_string(reps[i].stop));
        rp[i] = &reps[i];
        sapm_net_destroy(&net);
    }
    printf("(loss = the method's own loss: J_LS, J_PM or J_SAPM; after the default SAPM's switch to\n"
           " L-BFGS the auxiliaries are the forward pass, so J_SAPM = J_LS there. SAPM keeps\n"
           " J_LS <= L J_SAPM at every logged iteration; PM has no such bound.)\n");
    sprintf(path, "%s_history.csv", prefix);
    r = sapm_csv_write_history(path, NMETHODS, rp, labels);
    printf("%s: %s\n", path, r == SAPM_OK ? "written (label,iter,seconds,mse,loss,error)" : sapm_result_string(r));
    sprintf(path, "%s_mse.png", prefix);
    r = sapm_png_plot_history(path, NMETHODS, rp, labels, SAPM_FIELD_SECONDS, SAPM_FIELD_MSE,
                              "sin(x^2): MSE of the forward network vs seconds");
    printf("%s: %s\n", path, r == SAPM_OK ? "written" : sapm_result_string(r));
    sprintf(path, "%s_loss.png", prefix);
    r = sapm_png_plot_history(path, NMETHODS - 2, rp + 2, labels + 2, SAPM_FIELD_ITER, SAPM_FIELD_LOSS,
                              "sin(x^2): method loss (J_LS, J_PM, J_SAPM) vs iterations");
    printf("%s: %s\n", path, r == SAPM_OK ? "written" : sapm_result_string(r));
    for (i = 0; i < NMETHODS; ++i) sapm_report_free(&reps[i]);
    sapm_net_destroy(&net0);
    free(X); free(Y); free(Xt); free(Yt); free(widths);
    return 0;
}
