/* plot_demo: the output section on known data, for a person to look at.
 *
 *   cc -O2 examples/plot_demo.c -o plot_demo -lm && ./plot_demo [output_dir]
 *
 * Writes plot_demo_heatmaps.png (prediction | exact | |error| of
 * u(x, y) = sin(pi x) sin(pi y) with a made-up "prediction" error), plot_demo_loss.png
 * (three loss curves on a log axis, one with a NaN gap), and the same data as
 * plot_demo_grid.csv and plot_demo_history.csv. */
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <string.h>

#define NX 64
#define NY 64
#define NIT 400

static void path_in(char *buf, size_t n, const char *dir, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

int main(int argc, char **argv)
{
    static double X[2 * NX * NY], pred[NX * NY], exact[NX * NY], err[NX * NY];
    static sapm_history_entry hist[3][NIT + 1];
    const double pi = 3.14159265358979323846;
    const char *dir = argc > 1 ? argv[1] : ".";
    const double *fields[3];
    const char *titles[3] = {"prediction", "exact", "|error|"};
    const char *labels[3] = {"PINN Adam", "PINN L-BFGS", "LySep"};
    double vmin[3], vmax[3];
    sapm_heatmap_options ho;
    sapm_report reps[3];
    const sapm_report *rp[3];
    char path[1024];
    sapm_result r;
    int k, i;

    /* heatmaps: grid points in field order, exact solution, a smooth "prediction" error */
    sapm_heatmap_grid(NX, NY, 0.0, 1.0, 0.0, 1.0, X);
    for (k = 0; k < NX * NY; ++k) {
        double x = X[2 * k], y = X[2 * k + 1];
        exact[k] = sin(pi * x) * sin(pi * y);
        pred[k] = exact[k] + 2e-3 * sin(3 * pi * x) * cos(2 * pi * y) * (1 + x);
        err[k] = fabs(pred[k] - exact[k]);
    }
    fields[0] = pred; fields[1] = exact; fields[2] = err;
    memset(&ho, 0, sizeof ho);
    ho.x0 = 0.0; ho.x1 = 1.0; ho.y0 = 0.0; ho.y1 = 1.0;
    ho.xlabel = "x"; ho.ylabel = "y";
    ho.title = "Poisson 2-D: u = sin(pi x) sin(pi y)";
    /* prediction and exact on one colour range, |error| on its own */
    vmin[0] = vmin[1] = 0.0; vmax[0] = vmax[1] = 1.0; vmin[2] = vmax[2] = 0.0;
    ho.vmin = vmin; ho.vmax = vmax;
    path_in(path, sizeof path, dir, "plot_demo_heatmaps.png");
    r = sapm_png_heatmaps_ex(path, 3, NX, NY, fields, titles, &ho);
    printf("%s: %s\n", path, sapm_result_string(r));
    path_in(path, sizeof path, dir, "plot_demo_grid.csv");
    r = sapm_csv_write_grid(path, NX, NY, 0.0, 1.0, 0.0, 1.0, pred, exact);
    printf("%s: %s\n", path, sapm_result_string(r));

    /* loss curves: made-up histories shaped like the three methods' */
    for (k = 0; k < 3; ++k) {
        memset(&reps[k], 0, sizeof reps[k]);
        reps[k].history = hist[k];
        reps[k].history_count = reps[k].history_capacity = NIT + 1;
        for (i = 0; i <= NIT; ++i) {
            sapm_history_entry *h = &hist[k][i];
            double t = (double)i;
            h->method = k == 0 ? SAPM_METHOD_ADAM : k == 1 ? SAPM_METHOD_LBFGS : SAPM_METHOD_SAPM;
            h->phase = labels[k];
            h->iter = 10 * i;
            h->seconds = 0.01 * t * (k + 1);
            h->mse = k == 0 ? 0.5 / (1.0 + 0.05 * t) * (1.0 + 0.3 * sin(0.3 * t) * sin(0.3 * t))
                   : k == 1 ? 0.5 * exp(-0.025 * t) + 1e-6
                            : 0.5 * exp(-0.06 * t) + 2e-9;
            h->loss = h->mse;
            h->error = sqrt(h->mse);
            if (k == 1 && i >= 150 && i < 170) h->mse = NAN; /* a gap, e.g. not logged */
        }
        rp[k] = &reps[k];
    }
    path_in(path, sizeof path, dir, "plot_demo_loss.png");
    r = sapm_png_plot_history(path, 3, rp, labels, SAPM_FIELD_ITER, SAPM_FIELD_MSE,
                              "Poisson 2-D: training loss");
    printf("%s: %s\n", path, sapm_result_string(r));
    path_in(path, sizeof path, dir, "plot_demo_history.csv");
    r = sapm_csv_write_history(path, 3, rp, labels);
    printf("%s: %s\n", path, sapm_result_string(r));
    return 0;
}
