/* sin_regression - fit f(x) = sin(x^2) on [-2, 2] with a deep tanh network.
 *
 *   cc -O2 -march=native examples/sin_regression.c -o sin_regression -lm
 *   ./sin_regression [--depth L] [--width W] [--iters K] [--seed S] [--n N] [--time T]
 *
 * Trains the same network (depth 10, width 20 by default; Xavier initialisation from
 * --seed) from the same start with each LS method (full-batch GD, Adam, L-BFGS on
 * J_LS = (1/N) sum |u(x_n) - y_n|^2, exact back-propagated gradients) on N = 200 random
 * training points and reports the test MSE on 1000 evenly spaced points. Each method gets
 * --iters iterations (default 2000) and --time seconds (default 10) at most. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double test_mse(const sapm_net *net, int n, const double *X, const double *Y)
{
    double j = NAN;
    sapm_net_loss(net, n, X, 1, Y, 1, &j);
    return j;
}

int main(int argc, char **argv)
{
    int depth = 10, width = 20, iters = 2000, N = 200, n_test = 1000, i, l;
    uint64_t seed = 1;
    double budget = 10.0;
    double *X, *Y, *Xt, *Yt;
    int *widths;
    sapm_net net0;
    sapm_rng rng;
    static const sapm_method methods[3] = {SAPM_METHOD_LS_GD, SAPM_METHOD_LS_ADAM, SAPM_METHOD_LS_LBFGS};
    sapm_result r;
    for (i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "missing value after %s\n", a); return 2; }
        if (!strcmp(a, "--depth")) depth = atoi(v);
        else if (!strcmp(a, "--width")) width = atoi(v);
        else if (!strcmp(a, "--iters")) iters = atoi(v);
        else if (!strcmp(a, "--seed")) seed = (uint64_t)strtoull(v, NULL, 10);
        else if (!strcmp(a, "--n")) N = atoi(v);
        else if (!strcmp(a, "--time")) budget = atof(v);
        else { fprintf(stderr, "unknown option %s (see the comment at the top of the file)\n", a); return 2; }
        ++i;
    }
    if (depth < 1 || width < 1 || iters < 1 || N < 1 || !(budget >= 0.0)) {
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
        (r = sapm_net_init(&net0, SAPM_INIT_XAVIER, 1.0, seed)) != SAPM_OK) {
        fprintf(stderr, "network: %s\n", sapm_result_string(r));
        return 1;
    }
    printf("sin(x^2) on [-2, 2]: depth %d, width %d, tanh, %lu parameters, N = %d train, %d test points\n",
           depth, width, (unsigned long)net0.n_params, N, n_test);
    printf("%-10s %9s %7s %12s %12s  %s\n", "method", "seconds", "iters", "train MSE", "test MSE", "stop reason");
    for (i = 0; i < 3; ++i) {
        sapm_net net;
        sapm_options opt = sapm_default_options(methods[i]);
        sapm_report rep;
        opt.max_iters = iters;
        opt.time_budget = budget;
        opt.log_every = 0;
        if (methods[i] == SAPM_METHOD_LS_GD) opt.learning_rate = 0.05;
        if (methods[i] == SAPM_METHOD_LS_ADAM) opt.learning_rate = 2e-3;
        if ((r = sapm_net_copy(&net, &net0)) != SAPM_OK) { fprintf(stderr, "%s\n", sapm_result_string(r)); return 1; }
        r = sapm_train(&net, N, X, 1, Y, 1, &opt, &rep);
        if (r != SAPM_OK && r != SAPM_ERR_DIVERGED) {
            fprintf(stderr, "%s: %s\n", sapm_method_name(methods[i]), sapm_result_string(r));
            return 1;
        }
        printf("%-10s %9.3f %7d %12.3e %12.3e  %s\n", sapm_method_name(methods[i]), rep.seconds, rep.iters,
               rep.mse, test_mse(&net, n_test, Xt, Yt), sapm_stop_reason_string(rep.stop));
        sapm_report_free(&rep);
        sapm_net_destroy(&net);
    }
    sapm_net_destroy(&net0);
    free(X); free(Y); free(Xt); free(Yt); free(widths);
    return 0;
}
