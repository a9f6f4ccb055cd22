/* Output section compiled with SAPM_NO_PNG: every PNG function answers
 * SAPM_ERR_NOT_COMPILED_IN, while rendering into memory and CSV still work. */
#define SAPM_NO_PNG
#define SAPM_IMPLEMENTATION
#include "sapm.h"
#include "sapm_test.h"

static void test_png_not_compiled_in(void)
{
    double f[4] = {0, 1, 2, 3}, y[2] = {1, 2};
    const double *fields[1];
    sapm_plot_series s;
    sapm_history_entry h[1];
    sapm_report rep;
    const sapm_report *reps[1];
    sapm_image im;
    fields[0] = f;
    s.label = "s"; s.count = 2; s.x = NULL; s.y = y;
    memset(h, 0, sizeof h);
    memset(&rep, 0, sizeof rep);
    rep.history = h; rep.history_count = 1;
    reps[0] = &rep;
    CHECK(!SAPM__PNG);
    CHECK_EQ_INT(sapm_png_heatmap("x.png", 2, 2, f, 0, 0, NULL), SAPM_ERR_NOT_COMPILED_IN);
    CHECK_EQ_INT(sapm_png_heatmaps("x.png", 1, 2, 2, fields, NULL), SAPM_ERR_NOT_COMPILED_IN);
    CHECK_EQ_INT(sapm_png_heatmaps_ex("x.png", 1, 2, 2, fields, NULL, NULL), SAPM_ERR_NOT_COMPILED_IN);
    CHECK_EQ_INT(sapm_png_plot("x.png", 1, &s, NULL, NULL, NULL, 0), SAPM_ERR_NOT_COMPILED_IN);
    CHECK_EQ_INT(sapm_png_plot_history("x.png", 1, reps, NULL, SAPM_FIELD_ITER, SAPM_FIELD_MSE, NULL),
                 SAPM_ERR_NOT_COMPILED_IN);
    CHECK_EQ_INT(sapm_render_plot(&im, 1, &s, NULL), SAPM_OK);   /* memory variants stay */
    CHECK_EQ_INT(sapm_png_write("x.png", &im), SAPM_ERR_NOT_COMPILED_IN);
    sapm_image_free(&im);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 2, 2, fields, NULL, NULL), SAPM_OK);
    CHECK(im.rgb != NULL && im.width > 0);
    sapm_image_free(&im);
    /* CSV does not need PNG: a bad path still reaches the file system */
    CHECK_EQ_INT(sapm_csv_write_history("/nonexistent-sapm-dir/h.csv", 1, reps, NULL), SAPM_ERR_IO);
}

int main(void)
{
    RUN(test_png_not_compiled_in);
    return sapm_test_summary();
}
