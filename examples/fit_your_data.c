/* fit_your_data - train a network on your own data.
 *   cc -O2 -march=native examples/fit_your_data.c -o fit_your_data -lm && ./fit_your_data */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>

static int show(const sapm_progress *p, void *ud)      /* one line per logged entry */
{
    (void)ud;
    printf("%-8s iter %5d  %6.2f s  train MSE %.3e\n", p->phase, p->iter, p->seconds, p->mse);
    return 0;                                           /* nonzero would stop the run */
}

int main(void)
{
    enum { N = 200 };
    double X[N], Y[N];                                  /* your data: N rows of inputs, targets */
    int widths[5] = {1, 20, 20, 20, 1}, i;              /* 1 input, 3 hidden layers, 1 output */
    sapm_net net;
    sapm_options opt = sapm_default_options(SAPM_METHOD_LBFGS);
    sapm_report rep;
    sapm_result r;
    for (i = 0; i < N; ++i) { X[i] = -2.0 + 4.0 * i / (N - 1); Y[i] = sin(X[i] * X[i]); }
    sapm_net_create(&net, 4, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1);      /* seed 1: reproducible */
    opt.time_budget = 3.0;                              /* seconds */
    opt.log_seconds = 0.5;                              /* a progress line every 0.5 s */
    opt.log_every = 0;
    opt.progress = show;
    r = sapm_train(&net, N, X, 1, Y, 1, &opt, &rep);
    if (r != SAPM_OK) printf("error: %s %s\n", sapm_result_string(r), rep.message);
    printf("%d iterations in %.2f s, train MSE %.3e, stopped: %s\n", rep.iters, rep.seconds,
           rep.mse, sapm_stop_reason_string(rep.stop));
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
    return r == SAPM_OK ? 0 : 1;
}
