/* Output section compiled with SAPM_NO_STDIO: the PNG and CSV writers answer
 * SAPM_ERR_NOT_COMPILED_IN; rendering into memory still works. (sapm.h is included
 * before the harness, so nothing in it may rely on <stdio.h> here.) */
#define SAPM_NO_STDIO
#define SAPM_IMPLEMENTATION
#include "sapm.h"
#include "sapm_test.h"

static void test_files_not_compiled_in(void)
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
    CHECK_EQ_INT(sapm_png_heatmaps("x.png", 1, 2, 2, fields, NULL), SAPM_ERR_NOT_COMPILED_IN);
    CHECK_EQ_INT(sapm_png_plot("x.png", 1, &s, NULL, NULL, NULL, 1), SAPM_ERR_NOT_COMPILED_IN);
    CHECK_EQ_INT(sapm_csv_write_history("x.csv", 1, reps, NULL), SAPM_ERR_NOT_COMPILED_IN);
    CHECK_EQ_INT(sapm_csv_write_grid("x.csv", 2, 2, 0, 1, 0, 1, f, f), SAPM_ERR_NOT_COMPILED_IN);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 2, 2, fields, NULL, NULL), SAPM_OK);
    CHECK(im.rgb != NULL);
    sapm_image_free(&im);
    CHECK_EQ_INT(sapm_render_plot(&im, 1, &s, NULL), SAPM_OK);
    CHECK(im.rgb != NULL);
    CHECK_EQ_INT(sapm_png_write("x.png", &im), SAPM_ERR_NOT_COMPILED_IN);
    sapm_image_free(&im);
}

int main(void)
{
    RUN(test_files_not_compiled_in);
    return sapm_test_summary();
}
