/* Output section: colour map, tick labels, heatmap and plot pixels against their layout,
 * PNG files (signature, IHDR, and decoded pixels when stb_image.h is present), CSV round
 * trips, and a bad-argument table for every public output function. */
#include <stdlib.h>

/* Allocator with failure injection: the allocation after `test_alloc_budget` more
 * succeed fails, and so does every one after it (negative: never). It counts the calls
 * (malloc and realloc alike) and the blocks not yet freed. */
static long test_alloc_budget = -1;
static long test_alloc_calls = 0;
static long test_alloc_live = 0;
static void *test_malloc(size_t n)
{
    void *p;
    ++test_alloc_calls;
    if (test_alloc_budget == 0) return NULL;
    if (test_alloc_budget > 0) --test_alloc_budget;
    p = malloc(n);
    if (p) ++test_alloc_live;
    return p;
}
static void *test_realloc(void *p, size_t n)
{
    void *q;
    ++test_alloc_calls;
    if (test_alloc_budget == 0) return NULL;
    if (test_alloc_budget > 0) --test_alloc_budget;
    q = realloc(p, n);
    if (q && !p) ++test_alloc_live;
    return q;
}
static void test_free(void *p)
{
    if (p) --test_alloc_live;
    free(p);
}
#define SAPM_MALLOC(sz) test_malloc(sz)
#define SAPM_REALLOC(p, sz) test_realloc(p, sz)
#define SAPM_FREE(p) test_free(p)
/* A program's own settings for a copy of stb_image_write of its own: sapm's private copy
 * must not use them (user_stb_calls stays 0), and they must still be defined after sapm.h. */
static long user_stb_calls = 0;
static void *user_stb_malloc(size_t n) { ++user_stb_calls; return malloc(n); }
#define STBIW_MALLOC(sz) user_stb_malloc(sz)
#define STBIW_REALLOC(p, sz) (++user_stb_calls, realloc(p, sz))
#define STBIW_FREE(p) (++user_stb_calls, free(p))
#define STBIW_ASSERT(x) (++user_stb_calls, (void)(x))
#define SAPM_IMPLEMENTATION
#include "sapm.h"
#include "sapm_test.h"
#if SAPM__PNG
/* the program's declarations of stb_image_write after sapm.h: they are read (sapm's copy
 * is renamed sapm__stbi_* and leaves the include guard as it found it), so the program's
 * stbi_write_png_to_func is declared here (the test below only takes its size) */
#include <stb/stb_image_write.h>
#endif
#include <time.h>
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__))
#define TEST_POSIX 1
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#endif

#if defined(__has_include)
#if __has_include(<stb/stb_image.h>)
#define TEST_HAVE_STB_IMAGE 1
#define STB_IMAGE_IMPLEMENTATION
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
#endif

/* A temporary file name unique to this process (time and a stack address). */
static const char *tmp_path(char *buf, size_t n, const char *name)
{
    const char *dir = getenv("TMPDIR");
    int local = 0;
    snprintf(buf, n, "%s/sapm_test_output_%lx_%lx_%s", dir ? dir : "/tmp",
             (unsigned long)time(NULL), (unsigned long)((size_t)&local >> 4) & 0xFFFFFFul, name);
    return buf;
}

static unsigned char *read_file(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    *size = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (unsigned char *)malloc((size_t)*size + 1);
    if (b && fread(b, 1, (size_t)*size, f) != (size_t)*size) { free(b); b = NULL; }
    fclose(f);
    return b;
}

static uint32_t pixel(const sapm_image *im, int x, int y)
{
    const unsigned char *p = im->rgb + 3 * ((size_t)y * im->width + x);
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static uint32_t viridis_hex(double t)
{
    unsigned char c[3];
    sapm_viridis(t, c);
    return ((uint32_t)c[0] << 16) | ((uint32_t)c[1] << 8) | c[2];
}

static void test_viridis_reference(void)
{
    /* matplotlib's 256-entry viridis table (_viridis_data) at a few indices */
    static const double ref[9][4] = {
        {0, 0.267004, 0.004874, 0.329415}, {32, 0.278826, 0.175490, 0.483397},
        {64, 0.229739, 0.322361, 0.545706}, {96, 0.172719, 0.448791, 0.557885},
        {128, 0.127568, 0.566949, 0.550556}, {160, 0.157851, 0.683765, 0.501686},
        {192, 0.369214, 0.788888, 0.382914}, {224, 0.678489, 0.863742, 0.189503},
        {255, 0.993248, 0.906157, 0.143936}};
    unsigned char c[3];
    int k, ch;
    CHECK_EQ_INT(viridis_hex(0.0), 0x440154);   /* published endpoints */
    CHECK_EQ_INT(viridis_hex(1.0), 0xFDE725);
    CHECK_EQ_INT(viridis_hex(-3.0), 0x440154);  /* clamped */
    CHECK_EQ_INT(viridis_hex(7.0), 0xFDE725);
    CHECK_EQ_INT(viridis_hex(NAN), SAPM__NAN_RGB);
    for (k = 0; k < 9; ++k) {
        sapm_viridis(ref[k][0] / 255.0, c);
        /* the 65-node table interpolates the 256 entries within 0.53 of a level, plus the
         * final rounding to 8 bits: at most 1.03 levels */
        for (ch = 0; ch < 3; ++ch) CHECK_NEAR((double)c[ch], 255.0 * ref[k][ch + 1], 1.05);
    }
    sapm_viridis(0.5, NULL);                     /* no crash */
}

static void test_tick_labels(void)
{
    char b[32];
    sapm__ticks t;
    sapm__fmt_tick(b, 0.25, 0.05, 0); CHECK(strcmp(b, "0.25") == 0);
    sapm__fmt_tick(b, 1.0, 0.2, 0); CHECK(strcmp(b, "1.0") == 0);
    sapm__fmt_tick(b, -0.5, 0.5, 0); CHECK(strcmp(b, "-0.5") == 0);
    sapm__fmt_tick(b, 1000.0, 200.0, 0); CHECK(strcmp(b, "1000") == 0);
    sapm__fmt_tick(b, 0.001, 0.001, 0); CHECK(strcmp(b, "0.001") == 0);
    sapm__fmt_tick(b, 1e-17, 0.1, 0); CHECK(strcmp(b, "0") == 0);
    sapm__fmt_tick(b, 2.5e-4, 5e-5, 1); CHECK(strcmp(b, "2.5e-4") == 0);
    sapm__fmt_tick(b, 1e-4, 5e-5, 1); CHECK(strcmp(b, "1e-4") == 0);
    sapm__fmt_tick(b, -3e-6, 1e-6, 1); CHECK(strcmp(b, "-3e-6") == 0);
    sapm__fmt_tick(b, 2e5, 1e5, 1); CHECK(strcmp(b, "2e5") == 0);
    sapm__fmt_tick(b, 0.99999999e-3, 1e-4, 1); CHECK(strcmp(b, "1e-3") == 0);
    sapm__ticks_log(&t, -3, 0);
    CHECK_EQ_INT(t.n, 4);
    CHECK(strcmp(t.label[0], "1e-3") == 0 && strcmp(t.label[3], "1e0") == 0);
    sapm__ticks_log(&t, -20, 1);                 /* 21 decades: multiples of 3 labelled */
    CHECK_EQ_INT(t.n, 7);
    CHECK(strcmp(t.label[0], "1e-18") == 0 && strcmp(t.label[6], "1e0") == 0);
    sapm__ticks_linear(&t, 0.0, 1.0, sapm__nice_step(0.0, 1.0, 5));
    CHECK_EQ_INT(t.n, 6);
    CHECK(strcmp(t.label[0], "0") == 0 && strcmp(t.label[1], "0.2") == 0 && strcmp(t.label[5], "1.0") == 0);
}

/* 4 x 3 field f(i, j) = i + 10 j with a NaN cell, nearest sampling, range [0, 23]. */
static void test_heatmap_pixels(void)
{
    double f[12], vmin = 0.0, vmax = 23.0;
    const double *fields[2];
    const char *titles[2] = {"field", NULL};
    sapm_heatmap_options o;
    sapm__hm_geom g;
    sapm_image im;
    int i, j, k;
    for (j = 0; j < 3; ++j)
        for (i = 0; i < 4; ++i) f[j * 4 + i] = i + 10 * j;
    f[1 * 4 + 2] = NAN;
    f[2 * 4 + 3] = 23.0;
    fields[0] = fields[1] = f;
    memset(&o, 0, sizeof o);
    o.vmin = &vmin; o.vmax = &vmax;              /* only field 0 has a fixed range... */
    {
        double vmins[2] = {0.0, 1.0}, vmaxs[2] = {23.0, 1.0};   /* ...field 1: automatic */
        o.vmin = vmins; o.vmax = vmaxs;
        CHECK_EQ_INT(sapm__hm_plan(&g, 2, 4, 3, fields, titles, &o), SAPM_OK);
        CHECK_EQ_INT(sapm_render_heatmaps(&im, 2, 4, 3, fields, titles, &o), SAPM_OK);
    }
    CHECK_EQ_INT(im.width, 2 * g.panel_w);
    CHECK_EQ_INT(im.height, g.fig_h);
    CHECK_EQ_INT(g.iw, 370);                     /* 4:3 grid, area of a 320 x 320 square */
    CHECK_EQ_INT(g.ih, 277);
    CHECK(g.lo[1] == 0.0 && g.hi[1] == 23.0);    /* automatic range: finite min..max */
    for (k = 0; k < 2; ++k)
        for (j = 0; j < 3; ++j)
            for (i = 0; i < 4; ++i) {
                int u = k * g.panel_w + g.ix + (2 * i + 1) * g.iw / 8, v = g.iy + (2 * j + 1) * g.ih / 6;
                double val = f[j * 4 + i];
                uint32_t want = isfinite(val) ? viridis_hex(val / 23.0) : SAPM__NAN_RGB;
                CHECK_EQ_INT(pixel(&im, u, v), want);
            }
    /* cell (0, 0) holds the minimum, cell (3, 2) the maximum: the published endpoints */
    CHECK_EQ_INT(pixel(&im, g.ix + 2, g.iy + g.ih - 3), viridis_hex(20.0 / 23.0));
    CHECK_EQ_INT(pixel(&im, g.ix + 2, g.iy + 2), 0x440154);
    CHECK_EQ_INT(pixel(&im, g.ix + g.iw - 3, g.iy + g.ih - 3), 0xFDE725);
    /* colour bar: top row is the maximum's colour, bottom row the minimum's */
    {
        int bx = g.ix + g.iw + SAPM__BAR_GAP + SAPM__BAR_W / 2;
        CHECK_EQ_INT(pixel(&im, bx, g.iy), 0xFDE725);
        CHECK_EQ_INT(pixel(&im, bx, g.iy + g.ih - 1), 0x440154);
    }
    CHECK_EQ_INT(pixel(&im, 1, 1), 0xFFFFFF);     /* background */
    sapm_image_free(&im);
    CHECK(im.rgb == NULL && im.width == 0);
    sapm_image_free(&im);                         /* twice is fine */
    sapm_image_free(NULL);

    /* bilinear: the pixel nearest a cell centre shows (almost) the cell's value */
    o.bilinear = 1;
    o.vmin = &vmin; o.vmax = &vmax;
    f[1 * 4 + 2] = 12.0;
    CHECK_EQ_INT(sapm__hm_plan(&g, 1, 4, 3, fields, NULL, &o), SAPM_OK);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 4, 3, fields, NULL, &o), SAPM_OK);
    {
        unsigned char want[3];
        const unsigned char *p = im.rgb + 3 * ((size_t)(g.iy + g.ih / 2) * im.width + g.ix + 5 * g.iw / 8);
        sapm_viridis(12.0 / 23.0, want);          /* cell (2, 1); off-centre by half a pixel */
        for (k = 0; k < 3; ++k) CHECK_NEAR(p[k], want[k], 2.0);
    }
    sapm_image_free(&im);
    /* bilinear next to a NaN cell: grey where the NaN cell is nearest, the finite
     * neighbours' (renormalised) interpolation elsewhere */
    f[1 * 4 + 2] = NAN;
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 4, 3, fields, NULL, &o), SAPM_OK);
    CHECK_EQ_INT(pixel(&im, g.ix + 5 * g.iw / 8, g.iy + g.ih / 2), SAPM__NAN_RGB);
    {   /* between rows 0 and 1, columns 1 and 2: cells (1,0), (2,0), (1,1) mix, (2,1) is NaN */
        int u = g.iw / 2 - 1, v = g.ih / 3;
        double fx = (u + 0.5) * 4 / g.iw - 0.5, fy = (v + 0.5) * 3 / g.ih - 0.5;
        double wx = fx - 1.0, wy = fy, w00 = (1 - wx) * (1 - wy), w10 = wx * (1 - wy), w01 = (1 - wx) * wy;
        double val = (w00 * f[1] + w10 * f[2] + w01 * f[5]) / (w00 + w10 + w01);
        unsigned char want[3];
        const unsigned char *p = im.rgb + 3 * ((size_t)(g.iy + v) * im.width + g.ix + u);
        CHECK(fx > 1.0 && fx < 2.0 && fy > 0.0 && fy < 1.0);
        CHECK(val > 3.0 && val < 6.0);            /* far from the nearest cell's 11 */
        sapm_viridis(val / 23.0, want);
        for (k = 0; k < 3; ++k) CHECK_NEAR(p[k], want[k], 1.0);
    }
    sapm_image_free(&im);
}

/* Nearest sampling: every image pixel shows the cell that holds its centre
 * (3 cells over 320 pixels: boundaries at 106.7 and 213.3). */
static void test_heatmap_nearest_cells(void)
{
    double f[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    const double *fields[1];
    sapm__hm_geom g;
    sapm_image im;
    int u, v, bad = 0;
    fields[0] = f;
    CHECK_EQ_INT(sapm__hm_plan(&g, 1, 3, 3, fields, NULL, NULL), SAPM_OK);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 3, 3, fields, NULL, NULL), SAPM_OK);
    CHECK(g.iw == 320 && g.ih == 320);
    for (v = 0; v < g.ih; ++v)
        for (u = 0; u < g.iw; ++u) {
            int i = (int)((u + 0.5) * 3 / 320.0), j = (int)((v + 0.5) * 3 / 320.0);
            if (pixel(&im, g.ix + u, g.iy + v) != viridis_hex(f[3 * j + i] / 8.0)) ++bad;
        }
    CHECK_EQ_INT(bad, 0);
    sapm_image_free(&im);
}

static void test_heatmap_ranges_and_axes(void)
{
    double f[6] = {2.0, NAN, 5.0, 3.0, INFINITY, 4.0}, c[4] = {0, 0, 0, 0}, z[4] = {7, 7, 7, 7};
    double n[2] = {NAN, NAN}, lo, hi;
    const double *fields[1];
    sapm_heatmap_options o;
    sapm__hm_geom g;
    sapm_image im;
    memset(&o, 0, sizeof o);
    CHECK_EQ_INT(sapm__hm_range(&o, 0, 6, f, &lo, &hi), SAPM_OK);
    CHECK(lo == 2.0 && hi == 5.0);                /* finite values only */
    CHECK_EQ_INT(sapm__hm_range(&o, 0, 4, c, &lo, &hi), SAPM_OK);
    CHECK(lo == 0.0 && hi == 1.0);                /* constant zero */
    CHECK_EQ_INT(sapm__hm_range(&o, 0, 4, z, &lo, &hi), SAPM_OK);
    CHECK(lo < 7.0 && hi > 7.0);                  /* constant field widened */
    CHECK_EQ_INT(sapm__hm_range(&o, 0, 2, n, &lo, &hi), SAPM_ERR_NONFINITE_INPUT);
    /* a 2 x 1 domain: image twice as wide as high, ticks at 0, 0.5, ..., 2.0 */
    o.x0 = 0.0; o.x1 = 2.0; o.y0 = 0.0; o.y1 = 1.0;
    o.xlabel = "x"; o.ylabel = "t"; o.title = "title";
    fields[0] = f;
    CHECK_EQ_INT(sapm__hm_plan(&g, 1, 3, 2, fields, NULL, &o), SAPM_OK);
    CHECK(g.axes);
    CHECK_EQ_INT(g.iw, 453);                     /* 2:1, area 320^2: 320 sqrt(2) x 320 / sqrt(2) */
    CHECK_EQ_INT(g.ih, 226);
    CHECK(g.tx.n >= 3 && g.tx.v[0] == 0.0 && fabs(g.tx.v[g.tx.n - 1] - 2.0) < 1e-12);
    CHECK(g.ty.n >= 2 && g.ty.v[0] == 0.0 && fabs(g.ty.v[g.ty.n - 1] - 1.0) < 1e-12);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 3, 2, fields, NULL, &o), SAPM_OK);
    CHECK(im.width == g.panel_w && im.height == g.fig_h);
    sapm_image_free(&im);
}

static void test_heatmap_grid_points(void)
{
    double X[2 * 12];
    CHECK_EQ_INT(sapm_heatmap_grid(4, 3, 0.0, 3.0, -1.0, 1.0, X), SAPM_OK);
    /* row 0 is the top (y = y1), column 0 the left (x = x0) */
    CHECK(X[0] == 0.0 && X[1] == 1.0);
    CHECK(X[2 * 3] == 3.0 && X[2 * 3 + 1] == 1.0);
    CHECK(X[2 * 4] == 0.0 && X[2 * 4 + 1] == 0.0);
    CHECK(X[2 * 11] == 3.0 && X[2 * 11 + 1] == -1.0);
    CHECK_EQ_INT(sapm_heatmap_grid(1, 1, 0.0, 3.0, -1.0, 1.0, X), SAPM_OK);
    CHECK(X[0] == 0.0 && X[1] == -1.0);
}

static unsigned be32(const unsigned char *p)
{
    return ((unsigned)p[0] << 24) | ((unsigned)p[1] << 16) | ((unsigned)p[2] << 8) | p[3];
}

/* CRC-32 as PNG chunks carry it (ISO 3309, polynomial 0xEDB88320 reflected), bit by bit. */
static uint32_t crc32_plain(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; ++i)
        for (c ^= p[i], k = 0; k < 8; ++k) c = c & 1u ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    return c ^ 0xFFFFFFFFu;
}

#ifdef TEST_HAVE_STB_IMAGE   /* the pixel check below inflates with stb_image */
static uint32_t adler32_plain(const unsigned char *p, size_t n)   /* RFC 1950 8.2 */
{
    uint32_t a = 1, b = 0;
    size_t i;
    for (i = 0; i < n; ++i) { a = (a + p[i]) % 65521u; b = (b + a) % 65521u; }
    return b << 16 | a;
}

static int paeth(int a, int b, int c)            /* PNG filter 4's predictor */
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
#endif

/* Reads the PNG bytes b[0..size) without stb's PNG reader: signature, every chunk's length
 * and CRC, IHDR (w x h, 8-bit RGB, no interlace) first, IEND last with nothing after it;
 * the IDAT chunks joined are a zlib stream (header check bits, Adler-32 of what it
 * inflates to: stb_image's inflate when present) of h rows, filter byte then 3 w bytes,
 * which unfiltered (PNG filters 0-4) are im's pixels. Returns the IDAT size (0: bad). */
static long check_png_bytes(const unsigned char *b, long size, const sapm_image *im)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    unsigned char *z = NULL;
    long pos = 8, zlen = 0, ok = 1, chunks = 0, iend = 0;
    if (size < 8 || memcmp(b, sig, 8) != 0) { CHECK(!"PNG signature"); return 0; }
    while (ok && !iend && pos + 12 <= size) {
        unsigned len = ((unsigned)b[pos] << 24) | ((unsigned)b[pos + 1] << 16) | ((unsigned)b[pos + 2] << 8) | b[pos + 3];
        const unsigned char *type = b + pos + 4, *data = b + pos + 8;
        uint32_t crc;
        if ((long)len > size - pos - 12) { CHECK(!"chunk runs past the end"); ok = 0; break; }
        crc = ((uint32_t)data[len] << 24) | ((uint32_t)data[len + 1] << 16) | ((uint32_t)data[len + 2] << 8) | data[len + 3];
        CHECK_EQ_INT(crc32_plain(type, len + 4), crc);
        if (crc32_plain(type, len + 4) != crc) ok = 0;
        if (chunks == 0) {
            ok = ok && memcmp(type, "IHDR", 4) == 0 && len == 13;
            CHECK(ok);
            if (ok) {
                CHECK_EQ_INT((int)(((unsigned)data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3]), im->width);
                CHECK_EQ_INT((int)(((unsigned)data[4] << 24) | (data[5] << 16) | (data[6] << 8) | data[7]), im->height);
                CHECK(data[8] == 8 && data[9] == 2 && data[10] == 0 && data[11] == 0 && data[12] == 0);
            }
        } else if (memcmp(type, "IDAT", 4) == 0) {
            unsigned char *nz = (unsigned char *)realloc(z, (size_t)(zlen + (long)len) + 1);
            if (!nz) { ok = 0; break; }
            z = nz;
            memcpy(z + zlen, data, len);
            zlen += (long)len;
        } else if (memcmp(type, "IEND", 4) == 0) {
            iend = 1;
            CHECK_EQ_INT((int)len, 0);
        }
        ++chunks;
        pos += 12 + (long)len;
    }
    CHECK(iend && pos == size);                   /* IEND ends the file */
    CHECK(zlen >= 6);
    if (!ok || !iend || pos != size || zlen < 6) { free(z); return 0; }
    CHECK((z[0] & 0x0F) == 8 && ((unsigned)z[0] << 8 | z[1]) % 31 == 0 && !(z[1] & 0x20));
#ifdef TEST_HAVE_STB_IMAGE
    {
        const size_t row = 3 * (size_t)im->width + 1;
        int rawlen = 0, y, x;
        unsigned char *raw = (unsigned char *)stbi_zlib_decode_malloc((const char *)z, (int)zlen, &rawlen);
        uint32_t adler = ((uint32_t)z[zlen - 4] << 24) | ((uint32_t)z[zlen - 3] << 16) | ((uint32_t)z[zlen - 2] << 8) | z[zlen - 1];
        CHECK(raw != NULL && (size_t)rawlen == row * (size_t)im->height);
        if (raw && (size_t)rawlen == row * (size_t)im->height) {
            long bad = 0;
            CHECK_EQ_INT(adler32_plain(raw, (size_t)rawlen), adler);
            for (y = 0; y < im->height; ++y) {       /* unfilter in place, row by row */
                unsigned char *r = raw + (size_t)y * row + 1, *up = y > 0 ? r - row : NULL;
                int f = r[-1];
                CHECK(f <= 4);
                for (x = 0; x < 3 * im->width; ++x) {
                    int a = x >= 3 ? r[x - 3] : 0, u = up ? up[x] : 0, c = up && x >= 3 ? up[x - 3] : 0;
                    int pred = f == 1 ? a : f == 2 ? u : f == 3 ? (a + u) / 2 : f == 4 ? paeth(a, u, c) : 0;
                    r[x] = (unsigned char)(r[x] + pred);
                    if (r[x] != im->rgb[(size_t)y * 3 * im->width + x]) ++bad;
                }
            }
            CHECK_EQ_INT(bad, 0);
        }
        free(raw);
    }
#endif
    free(z);
    return zlen;
}

/* The file is a PNG of the rendered size; decoded, it equals the rendered pixels. */
static void check_png_file(const char *path, const sapm_image *im)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    long size;
    unsigned char *b = read_file(path, &size);
    CHECK(b != NULL && size > 33);
    if (!b || size <= 33) { free(b); return; }
    CHECK(memcmp(b, sig, 8) == 0);
    CHECK_EQ_INT(be32(b + 8), 13);                /* IHDR length */
    CHECK(memcmp(b + 12, "IHDR", 4) == 0);
    CHECK_EQ_INT(be32(b + 16), im->width);
    CHECK_EQ_INT(be32(b + 20), im->height);
    CHECK_EQ_INT(b[24], 8);                       /* bit depth */
    CHECK_EQ_INT(b[25], 2);                       /* colour type RGB */
    CHECK(memcmp(b + size - 8, "IEND", 4) == 0);
    CHECK(check_png_bytes(b, size, im) > 0);
#ifdef TEST_HAVE_STB_IMAGE
    {
        int w, h, n;
        unsigned char *px = stbi_load_from_memory(b, (int)size, &w, &h, &n, 3);
        CHECK(px != NULL);
        if (px) {
            CHECK(w == im->width && h == im->height);
            CHECK(memcmp(px, im->rgb, (size_t)w * h * 3) == 0);
            stbi_image_free(px);
        }
    }
#endif
    free(b);
}

/* sapm_png_write on pictures whose filtered rows are noise (stb then stores them
 * uncompressed), runs, a period, and a copy from 20000 bytes back (matches across the
 * 32 KiB window), at sizes 1 x 1 to 200 x 70: each file reads back to its pixels. */
static void test_png_patterns(void)
{
    static const int sizes[][2] = {{1, 1}, {1, 7}, {3, 1}, {17, 5}, {86, 2}, {200, 70}};
    char path[512];
    sapm_image im;
    sapm_rng rng;
    int kind, t;
    size_t i, n;
    tmp_path(path, sizeof path, "pattern.png");
    sapm_rng_seed(&rng, 5);
    for (kind = 0; kind < 4; ++kind)
        for (t = 0; t < (int)(sizeof sizes / sizeof sizes[0]); ++t) {
            long size = 0, zlen;
            unsigned char *b;
            im.width = sizes[t][0]; im.height = sizes[t][1];
            n = 3 * (size_t)im.width * (size_t)im.height;
            im.rgb = (unsigned char *)malloc(n);
            if (!im.rgb) { CHECK(!"malloc"); return; }
            for (i = 0; i < n; ++i)
                im.rgb[i] = kind == 0 ? (unsigned char)sapm_rng_next_u64(&rng)              /* noise */
                          : kind == 1 ? (unsigned char)(i / 300 * 37)                      /* runs */
                          : kind == 2 ? (unsigned char)((i * 7) % 251)                     /* period 251 */
                          : (unsigned char)(i % 40000 < 20000 ? sapm_rng_next_u64(&rng) % 4 : im.rgb[i - 20000]);
            CHECK_EQ_INT(sapm_png_write(path, &im), SAPM_OK);
            b = read_file(path, &size);
            zlen = b ? check_png_bytes(b, size, &im) : 0;
            CHECK(zlen > 0);
            /* noise is stored (5 bytes a block of up to 32767 and the zlib frame over the raw
             * rows; measured: exactly that at 200 x 70); runs and the period compress to
             * under a third (measured 1.8% and 2.8% at 200 x 70), the copied half to 38% */
            if (kind == 0) CHECK(zlen <= (long)(n + (size_t)im.height) + 6 + 5 * (long)((n + (size_t)im.height) / 32767 + 1));
            if ((kind == 1 || kind == 2) && n >= 40000) CHECK(zlen < (long)n / 3);
            if (kind == 3 && n >= 40000) CHECK(zlen < (long)(6 * n / 10));
            free(b);
            free(im.rgb);
            remove(path);
        }
}

/* sapm's copy of stb_image_write beside a program's own (see the top of this file). */
static void test_user_stb_settings(void)
{
    void *p;
#if SAPM__PNG
    sapm_image im;
    char path[512];
    unsigned char px[3 * 4 * 3];
    int i;
    for (i = 0; i < (int)sizeof px; ++i) px[i] = (unsigned char)(i * 29);
    im.width = 4; im.height = 3; im.rgb = px;
    tmp_path(path, sizeof path, "user_stb.png");
    CHECK_EQ_INT(sapm_png_write(path, &im), SAPM_OK);
    CHECK_EQ_INT(user_stb_calls, 0);              /* sapm's copy used sapm's allocator */
    remove(path);
    CHECK(sizeof(&stbi_write_png_to_func) == sizeof(int (*)(stbi_write_func *, void *, int, int, int, const void *, int)));
#endif
    /* with or without PNG output, the program's macros are still its own after sapm.h */
    p = STBIW_MALLOC(8);
    STBIW_FREE(p);
    CHECK_EQ_INT(user_stb_calls, 2);
}

static void test_png_files(void)
{
    double f[6 * 5];
    const double *fields[3];
    const char *titles[3] = {"prediction", "exact", "|error|"};
    sapm_image im;
    char path[512];
    int i;
    for (i = 0; i < 30; ++i) f[i] = sin(0.3 * i);
    fields[0] = fields[1] = fields[2] = f;
    tmp_path(path, sizeof path, "heat.png");
    CHECK_EQ_INT(sapm_png_heatmaps(path, 3, 6, 5, fields, titles), SAPM_OK);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 3, 6, 5, fields, titles, NULL), SAPM_OK);
    check_png_file(path, &im);
    sapm_image_free(&im);
    remove(path);

    CHECK_EQ_INT(sapm_png_heatmap(path, 6, 5, f, 0.0, 0.0, "auto range"), SAPM_OK);
    {
        const char *t1[1] = {"auto range"};
        CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 6, 5, fields, t1, NULL), SAPM_OK);
        check_png_file(path, &im);                /* vmin == vmax: automatic, as NULL options */
        sapm_image_free(&im);
    }
    remove(path);
}

/* Plot geometry helpers: pixel of a data point (x, y) given the plan. */
static void plot_pixel(const sapm__plot_geom *g, double x, double y, int *px, int *py)
{
    const sapm__plot_map *m = &g->m;
    double yy = m->log_y ? log10(y) : y;
    *px = g->px0 + (int)floor(0.5 + (x - m->xlo) / (m->xhi - m->xlo) * (m->pw - 1));
    *py = g->py0 + (int)floor(0.5 + (m->yhi - yy) / (m->yhi - m->ylo) * (m->ph - 1));
}

static void test_plot_pixels(void)
{
    double x[50], a[50], b[50];
    sapm_plot_series s[2];
    sapm_plot_options o;
    sapm__plot_geom g;
    sapm_image im;
    int i, px, py, found;
    for (i = 0; i < 50; ++i) {
        x[i] = 10.0 * i;
        a[i] = 1e-2;                              /* a horizontal line at 1e-2 */
        b[i] = i >= 20 && i < 30 ? (i == 25 ? NAN : -1.0) : 1e-4;   /* skipped points */
    }
    s[0].label = "flat"; s[0].count = 50; s[0].x = x; s[0].y = a;
    s[1].label = "gap"; s[1].count = 50; s[1].x = x; s[1].y = b;
    memset(&o, 0, sizeof o);
    o.log_y = 1; o.title = "t"; o.xlabel = "iteration"; o.ylabel = "loss";
    CHECK_EQ_INT(sapm__plot_plan(&g, 2, s, &o), SAPM_OK);
    CHECK_EQ_INT(sapm_render_plot(&im, 2, s, &o), SAPM_OK);
    CHECK(im.width == 800 && im.height == 520);
    CHECK(g.m.ylo <= -4.0 && g.m.yhi >= -2.0);    /* decades around the data */
    CHECK(g.m.xlo <= 0.0 && g.m.xhi >= 490.0);
    /* on the lines: exactly the series colours (full coverage at the centre line) */
    plot_pixel(&g, 245.0, 1e-2, &px, &py);
    CHECK_EQ_INT(pixel(&im, px, py), sapm__series_rgb[0]);
    plot_pixel(&g, 105.0, 1e-4, &px, &py);
    CHECK_EQ_INT(pixel(&im, px, py), sapm__series_rgb[1]);
    /* in the gap (points 20..29 are <= 0 or NaN): no line between x = 190 and 300 */
    plot_pixel(&g, 245.0, 1e-4, &px, &py);
    CHECK(pixel(&im, px, py) != sapm__series_rgb[1]);
    /* the legend box holds no data pixel outside its line samples */
    found = 0;
    for (py = g.ly + 1; py < g.ly + g.leg_h - 1; ++py)
        for (px = g.lx + 1; px < g.lx + g.leg_w - 1; ++px)
            if (px >= g.lx + SAPM__GAP + SAPM__SAMPLE && pixel(&im, px, py) == sapm__series_rgb[0]) found = 1;
    CHECK(!found);
    sapm_image_free(&im);

    /* x NULL: indices; linear axis holds the data */
    s[0].x = NULL;
    for (i = 0; i < 50; ++i) a[i] = 3.0 + 0.1 * i;
    o.log_y = 0;
    CHECK_EQ_INT(sapm__plot_plan(&g, 1, s, &o), SAPM_OK);
    CHECK(g.m.xlo <= 0.0 && g.m.xhi >= 49.0 && g.m.ylo <= 3.0 && g.m.yhi >= 7.9);
    CHECK(g.ty.n >= 3);
    /* everything non-positive on a log axis: nothing to plot */
    o.log_y = 1;
    for (i = 0; i < 50; ++i) a[i] = -1.0;
    CHECK_EQ_INT(sapm_render_plot(&im, 1, s, &o), SAPM_ERR_NONFINITE_INPUT);
    CHECK(im.rgb == NULL);
}

static void test_plot_legend_placement(void)
{
    double x[200], y[200];
    sapm_plot_series s;
    sapm_plot_options o;
    sapm__plot_geom g;
    int i;
    /* falling line from top left to bottom right: top right corner is free */
    for (i = 0; i < 200; ++i) { x[i] = i; y[i] = pow(10.0, -i / 40.0); }
    s.label = "falling"; s.count = 200; s.x = x; s.y = y;
    memset(&o, 0, sizeof o);
    o.log_y = 1;
    CHECK_EQ_INT(sapm__plot_plan(&g, 1, &s, &o), SAPM_OK);
    CHECK_EQ_INT(g.lx, g.px0 + g.m.pw - 10 - g.leg_w);
    CHECK_EQ_INT(g.ly, g.py0 + 10);
    /* a zigzag over the whole area: the legend goes right of the axes */
    for (i = 0; i < 200; ++i) y[i] = i % 2 ? 1e-5 : 1.0;
    CHECK_EQ_INT(sapm__plot_plan(&g, 1, &s, &o), SAPM_OK);
    CHECK(g.lx >= g.px0 + g.m.pw);
    CHECK(g.lx + g.leg_w <= g.W);
}

static void test_plot_history_png(void)
{
    sapm_history_entry h[5];
    sapm_report rep, empty;
    const sapm_report *reps[2];
    const char *labels[2] = {"a", NULL};
    char path[512];
    int i;
    memset(&rep, 0, sizeof rep);
    memset(&empty, 0, sizeof empty);
    memset(h, 0, sizeof h);
    for (i = 0; i < 5; ++i) {
        h[i].method = SAPM_METHOD_SAPM; h[i].iter = i; h[i].seconds = 0.1 * i;
        h[i].mse = pow(10.0, -i); h[i].loss = 2 * h[i].mse; h[i].error = NAN;
    }
    rep.history = h; rep.history_count = 5;
    reps[0] = &empty; reps[1] = &rep;
    tmp_path(path, sizeof path, "hist.png");
    CHECK_EQ_INT(sapm_png_plot_history(path, 2, reps, labels, SAPM_FIELD_SECONDS, SAPM_FIELD_MSE, "runs"), SAPM_OK);
    {
        long size;
        unsigned char *b = read_file(path, &size);
        CHECK(b && size > 24 && be32(b + 16) == 800 && be32(b + 20) == 520);
        free(b);
    }
    remove(path);
    /* error is NaN everywhere: nothing to plot */
    CHECK_EQ_INT(sapm_png_plot_history(path, 2, reps, labels, SAPM_FIELD_ITER, SAPM_FIELD_ERROR, NULL), SAPM_ERR_NONFINITE_INPUT);
    reps[1] = &empty;
    CHECK_EQ_INT(sapm_png_plot_history(path, 2, reps, labels, SAPM_FIELD_ITER, SAPM_FIELD_MSE, NULL), SAPM_ERR_INVALID_SIZE);
}

/* Splits a CSV line (fields may be quoted, "" inside quotes) into at most 8 fields. */
static int csv_split(char *line, char **f)
{
    int n = 0;
    char *p = line, *w;
    while (n < 8) {
        f[n++] = w = p;
        if (*p == '"') {
            ++p;
            for (;;) {
                if (*p == '"' && p[1] == '"') { *w++ = '"'; p += 2; }
                else if (*p == '"') { ++p; break; }
                else if (!*p) break;
                else *w++ = *p++;
            }
        } else {
            while (*p && *p != ',' && *p != '\n') *w++ = *p++;
        }
        if (*p != ',') { *w = 0; break; }
        *w = 0;
        ++p;
    }
    return n;
}

static void test_csv_history_roundtrip(void)
{
    sapm_history_entry h1[3], h2[2];
    sapm_report r1, r2;
    const sapm_report *reps[2];
    const char *labels[2] = {"PINN, \"Adam\"", NULL};
    char path[512], line[512], *f[8];
    FILE *fp;
    int i, row = 0;
    memset(&r1, 0, sizeof r1); memset(&r2, 0, sizeof r2);
    memset(h1, 0, sizeof h1); memset(h2, 0, sizeof h2);
    for (i = 0; i < 3; ++i) {
        h1[i].method = i < 2 ? SAPM_METHOD_ADAM : SAPM_METHOD_LBFGS;
        h1[i].phase = i < 2 ? "Adam" : "L-BFGS (polish)";      /* two phases of one run */
        h1[i].iter = 10 * i; h1[i].seconds = 0.1 * i + 1.0 / 3.0;
        h1[i].mse = exp(-i) / 7.0; h1[i].loss = 1e-300 * (i + 1); h1[i].error = i == 1 ? NAN : 0.1;
    }
    for (i = 0; i < 2; ++i) {
        h2[i].method = SAPM_METHOD_SAPM; h2[i].iter = i; h2[i].seconds = i;
        h2[i].mse = 0.1 + i; h2[i].loss = -2.5; h2[i].error = 1.0 / 3.0;
    }
    r1.history = h1; r1.history_count = 3;
    r2.history = h2; r2.history_count = 2;
    reps[0] = &r1; reps[1] = &r2;
    tmp_path(path, sizeof path, "hist.csv");
    CHECK_EQ_INT(sapm_csv_write_history(path, 2, reps, labels), SAPM_OK);
    fp = fopen(path, "r");
    CHECK(fp != NULL);
    if (!fp) return;
    CHECK(fgets(line, sizeof line, fp) &&
          strcmp(line, "label,phase,iter,seconds,mse,loss,error\n") == 0);
    while (fgets(line, sizeof line, fp)) {
        const sapm_history_entry *h = row < 3 ? &h1[row] : &h2[row - 3];
        CHECK_EQ_INT(csv_split(line, f), 7);
        CHECK(strcmp(f[0], row < 3 ? labels[0] : "SAPM") == 0);   /* NULL label: method */
        CHECK(strcmp(f[1], h->phase ? h->phase : "") == 0);       /* NULL phase: empty */
        CHECK_EQ_INT(atoi(f[2]), h->iter);
        CHECK(strtod(f[3], NULL) == h->seconds);                  /* exact round trip */
        CHECK(strtod(f[4], NULL) == h->mse);
        CHECK(strtod(f[5], NULL) == h->loss);
        if (isnan(h->error)) CHECK(strcmp(f[6], "nan") == 0);
        else CHECK(strtod(f[6], NULL) == h->error);
        ++row;
    }
    CHECK_EQ_INT(row, 5);
    fclose(fp);
    remove(path);
}

static void test_csv_grid_roundtrip(void)
{
    double p[6] = {1, 2, 3, 4, 5, 6}, e[6] = {1, 2.5, 3, 4, 5, 7}, X[12];
    char path[512], line[256], *f[8];
    FILE *fp;
    int k = 0;
    sapm_heatmap_grid(3, 2, 0.0, 1.0, 0.0, 2.0, X);
    tmp_path(path, sizeof path, "grid.csv");
    CHECK_EQ_INT(sapm_csv_write_grid(path, 3, 2, 0.0, 1.0, 0.0, 2.0, p, e), SAPM_OK);
    fp = fopen(path, "r");
    CHECK(fp != NULL);
    if (!fp) return;
    CHECK(fgets(line, sizeof line, fp) && strcmp(line, "x,y,prediction,exact,error\n") == 0);
    while (fgets(line, sizeof line, fp) && k < 6) {
        CHECK_EQ_INT(csv_split(line, f), 5);
        CHECK(strtod(f[0], NULL) == X[2 * k] && strtod(f[1], NULL) == X[2 * k + 1]);
        CHECK(strtod(f[2], NULL) == p[k] && strtod(f[3], NULL) == e[k]);
        CHECK(strtod(f[4], NULL) == p[k] - e[k]);
        ++k;
    }
    CHECK_EQ_INT(k, 6);
    fclose(fp);
    CHECK_EQ_INT(sapm_csv_write_grid(path, 3, 2, 0.0, 1.0, 0.0, 2.0, p, NULL), SAPM_OK);
    fp = fopen(path, "r");
    CHECK(fp && fgets(line, sizeof line, fp) && strcmp(line, "x,y,prediction\n") == 0);
    if (fp) fclose(fp);
    remove(path);
}

/* Extreme but legal data (denormals, near-overflow values, tiny and huge spans): each
 * call either draws or returns an error code; under ASan/UBSan nothing undefined happens. */
static void test_extreme_values(void)
{
    static const double vals[][2] = {
        {0.0, 5e-324}, {1e-310, 1e-310}, {1e308, -1e308}, {1e308, 0.0}, {1.0, 1.0 + 1e-15},
        {-1e-300, 1e-300}, {1e300, 1e300}, {4.9e-324, 1e308}, {-5.0, -5.0}};
    int n = (int)(sizeof vals / sizeof vals[0]), a, b, k;
    sapm_heatmap_options o;
    sapm_plot_options po;
    memset(&o, 0, sizeof o);
    memset(&po, 0, sizeof po);
    o.panel_size = 48;
    po.width = 200; po.height = 150;
    for (a = 0; a < n; ++a)
        for (b = 0; b < n; ++b) {
            double f[4], x[4], y[4];
            const double *fields[1];
            sapm_plot_series s;
            sapm_image im;
            sapm_result r;
            for (k = 0; k < 4; ++k) {
                f[k] = vals[a][k & 1];
                x[k] = vals[b][k & 1];
                y[k] = vals[a][(k >> 1) & 1];
            }
            fields[0] = f;
            o.x0 = vals[b][0]; o.x1 = vals[b][1]; o.y0 = 0.0; o.y1 = vals[a][1];
            r = sapm_render_heatmaps(&im, 1, 2, 2, fields, NULL, &o);
            CHECK(r == SAPM_OK || r == SAPM_ERR_NONFINITE_INPUT);
            CHECK((r == SAPM_OK) == (im.rgb != NULL));
            sapm_image_free(&im);
            s.label = "x"; s.count = 4; s.x = x; s.y = y;
            for (po.log_y = 0; po.log_y < 2; ++po.log_y) {
                r = sapm_render_plot(&im, 1, &s, &po);
                CHECK(r == SAPM_OK || r == SAPM_ERR_NONFINITE_INPUT);
                CHECK((r == SAPM_OK) == (im.rgb != NULL));
                sapm_image_free(&im);
            }
        }
}

/* Every allocation failing in turn: SAPM_OK or SAPM_ERR_OUT_OF_MEMORY, no file left
 * behind, nothing leaked (counted here; LeakSanitizer in the ASan build). The renderers in
 * full; the writers' first allocations (the temporary file's name, stb's filter buffers,
 * its hash table): test_png_write_out_of_memory fails every allocation of the write. */
static void test_out_of_memory(void)
{
    double f[12], y[30];
    const double *fields[2];
    sapm_plot_series s;
    sapm_history_entry h[3];
    sapm_report rep;
    const sapm_report *reps[1];
    sapm_heatmap_options o;
    sapm_plot_options po;
    char path[512];
    int i, call, failures = 0;
    for (i = 0; i < 12; ++i) f[i] = i;
    for (i = 0; i < 30; ++i) y[i] = exp(-0.3 * i);
    fields[0] = fields[1] = f;
    s.label = "s"; s.count = 30; s.x = NULL; s.y = y;
    memset(h, 0, sizeof h);
    for (i = 0; i < 3; ++i) { h[i].iter = i; h[i].mse = 1.0 / (i + 1); }
    memset(&rep, 0, sizeof rep);
    rep.history = h; rep.history_count = 3;
    reps[0] = &rep;
    memset(&o, 0, sizeof o);
    o.panel_size = 40;
    memset(&po, 0, sizeof po);
    po.width = 240; po.height = 160; po.log_y = 1;
    tmp_path(path, sizeof path, "oom.png");
    for (call = 0; call < 4; ++call)
        for (i = 0; i < 20; ++i) {
            sapm_result r;
            sapm_image im;
            long live = test_alloc_live;
            if ((call == 2 && i > 1) || (call == 3 && i > 3)) break;
            if (call == 3) CHECK_EQ_INT(sapm_render_plot(&im, 1, &s, &po), SAPM_OK);
            test_alloc_budget = i;
            if (call == 0) r = sapm_render_heatmaps(&im, 2, 4, 3, fields, NULL, &o);
            else if (call == 1) r = sapm_render_plot(&im, 1, &s, &po);
            else if (call == 2) r = sapm_png_plot_history(path, 1, reps, NULL, SAPM_FIELD_ITER, SAPM_FIELD_MSE, NULL);
            else r = sapm_png_write(path, &im);
            test_alloc_budget = -1;
            CHECK(r == SAPM_OK || r == SAPM_ERR_OUT_OF_MEMORY);
            if (call == 0 || call == 1) CHECK((r == SAPM_OK) == (im.rgb != NULL));
            if (call != 2) sapm_image_free(&im);
            CHECK_EQ_INT(test_alloc_live, live);
            if (r == SAPM_ERR_OUT_OF_MEMORY) {
                FILE *fp = fopen(path, "rb");
                CHECK(fp == NULL);                /* a failed write leaves no file */
                if (fp) fclose(fp);
                ++failures;
            }
            remove(path);
            if (r == SAPM_OK) break;              /* budget enough for every allocation */
        }
    CHECK_EQ_INT(failures, 1 + 2 + 2 + 4);        /* image; image, coverage; 2 buffers; 4 */
}

#ifdef TEST_POSIX
static const char old_text[] = "what the file held before\n";

static void write_old(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f) { fputs(old_text, f); fclose(f); }
}

/* path still holds old_text, and no temporary file of this process is left next to it */
static int kept_old(const char *path)
{
    char tmp[600];
    struct stat st;
    long size;
    unsigned char *b = read_file(path, &size);
    int same = b && size == (long)strlen(old_text) && memcmp(b, old_text, (size_t)size) == 0;
    free(b);
    snprintf(tmp, sizeof tmp, "%s.tmp-%lx-0", path, (unsigned long)getpid());
    return same && stat(tmp, &st) != 0;
}
#endif

/* Fails each allocation of sapm_png_write(path, im) in turn: for k = 0, 1, ... below the
 * count a successful write makes (every k when step is 1, else the first 12, every step-th
 * and the last 3), the (k+1)-th allocation and all after it fail. Each must give
 * SAPM_ERR_OUT_OF_MEMORY, leave path holding what it held and no temporary file, and
 * free every block (the count of live blocks is back where it was). Returns the count. */
#ifdef TEST_POSIX
static long png_write_out_of_memory(const char *path, const sapm_image *im, long step)
{
    long n, k, live = test_alloc_live, failed = 0;
    test_alloc_calls = 0;
    CHECK_EQ_INT(sapm_png_write(path, im), SAPM_OK);
    n = test_alloc_calls;
    CHECK_EQ_INT(test_alloc_live, live);
    for (k = 0; k < n; k += k < 12 || k >= n - 4 ? 1 : k + step < n - 3 ? step : n - 3 - k) {
        sapm_result r;
        write_old(path);
        test_alloc_budget = k;
        r = sapm_png_write(path, im);
        test_alloc_budget = -1;
        CHECK_EQ_INT(r, SAPM_ERR_OUT_OF_MEMORY);
        CHECK(kept_old(path));
        CHECK_EQ_INT(test_alloc_live, live);
        ++failed;
    }
    write_old(path);
    test_alloc_budget = n;                        /* exactly enough */
    CHECK_EQ_INT(sapm_png_write(path, im), SAPM_OK);
    test_alloc_budget = -1;
    CHECK(!kept_old(path));
    CHECK_EQ_INT(test_alloc_live, live);
    remove(path);
    CHECK(failed == n || step > 1);
    return n;
}
#endif

/* Out of memory anywhere in the PNG path: stb_image_write's compressor grows its buffers
 * (one per hash bucket, the output) by realloc, and its last allocation comes after the
 * compressed data; each failure gives SAPM_ERR_OUT_OF_MEMORY with nothing leaked. All
 * allocations of a 23 x 11 picture, and of a 120 x 80 plot the first 12, every 40th and the
 * last 3 (each a full encoding: all of them would take minutes under valgrind). */
static void test_png_write_out_of_memory(void)
{
#ifdef TEST_POSIX
    sapm_image small, plot;
    sapm_plot_series s;
    sapm_plot_options po;
    double y[40];
    char path[512];
    int i;
    long n;
    tmp_path(path, sizeof path, "oom_write.png");
    small.width = 23; small.height = 11;
    small.rgb = (unsigned char *)malloc(3 * 23 * 11);
    if (!small.rgb) { CHECK(!"malloc"); return; }
    for (i = 0; i < 3 * 23 * 11; ++i) small.rgb[i] = (unsigned char)((i % 69) * 3 + (i * 2654435761u >> 28));
    n = png_write_out_of_memory(path, &small, 1);
    CHECK(n > 20);                                /* the buckets' buffers are among them */
    free(small.rgb);
    for (i = 0; i < 40; ++i) y[i] = exp(-0.2 * i) + 0.01 * sin(3.0 * i);
    s.label = "loss"; s.count = 40; s.x = NULL; s.y = y;
    memset(&po, 0, sizeof po);
    po.width = 200; po.height = 150; po.log_y = 1; po.title = "t";
    CHECK_EQ_INT(sapm_render_plot(&plot, 1, &s, &po), SAPM_OK);
    n = png_write_out_of_memory(path, &plot, 40);
    CHECK(n > 100);
    sapm_image_free(&plot);
#endif
}

/* A write that fails never destroys what the path held: out of memory while encoding,
 * a write cut off by a file-size limit (standing in for a full disk), for the PNG and the
 * two CSV writers; a FIFO whose reader leaves at once (a special file, written in place)
 * gives SAPM_ERR_IO and is still there afterwards. */
static void test_failed_writes_keep_files(void)
{
#ifdef TEST_POSIX
    double f[64];
    const double *fields[1];
    sapm_history_entry h[20];
    sapm_report rep;
    const sapm_report *reps[1];
    sapm_image im, noise;
    struct rlimit old, lim;
    struct stat st;
    char path[512];
    int i, budget;
    sapm_result r;
    for (i = 0; i < 64; ++i) f[i] = sin(0.3 * i);
    memset(h, 0, sizeof h);
    for (i = 0; i < 20; ++i) { h[i].iter = i; h[i].mse = 1.0 / (i + 1); }
    memset(&rep, 0, sizeof rep);
    rep.history = h; rep.history_count = 20;
    reps[0] = &rep;
    tmp_path(path, sizeof path, "keep.png");
    fields[0] = f;
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 8, 8, fields, NULL, NULL), SAPM_OK);
    /* out of memory at the first allocations of the write */
    for (budget = 0; budget < 3; ++budget) {
        write_old(path);
        test_alloc_budget = budget;
        r = sapm_png_write(path, &im);
        test_alloc_budget = -1;
        CHECK_EQ_INT(r, SAPM_ERR_OUT_OF_MEMORY);
        CHECK(kept_old(path));
    }
    /* a file-size limit of 100 bytes: every writer fails, the old file stays whole */
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    lim = old;
    lim.rlim_cur = 100;
    signal(SIGXFSZ, SIG_IGN);
    for (i = 0; i < 3; ++i) {
        write_old(path);
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) break;
        r = i == 0 ? sapm_png_write(path, &im)
          : i == 1 ? sapm_csv_write_grid(path, 8, 8, 0, 1, 0, 1, f, f)
          : sapm_csv_write_history(path, 1, reps, NULL);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK_EQ_INT(r, SAPM_ERR_IO);
        CHECK(kept_old(path));
    }
    signal(SIGXFSZ, SIG_DFL);
    CHECK_EQ_INT(sapm_csv_write_grid(path, 8, 8, 0, 1, 0, 1, f, f), SAPM_OK);  /* room: replaced */
    CHECK(!kept_old(path));
    remove(path);
    /* a FIFO whose reader closes at once: more than a pipe's buffer (64 KiB) to write, so
     * the write cannot end before the reader has gone (random bytes: stored, 120 KB; the
     * pattern used before compressed to 2.5-5 KB and made the outcome a race) */
    noise.width = 200; noise.height = 200;
    noise.rgb = (unsigned char *)malloc(3 * 200 * 200);
    {
        sapm_rng rng;
        sapm_rng_seed(&rng, 11);
        for (i = 0; noise.rgb && i < 3 * 200 * 200; ++i) noise.rgb[i] = (unsigned char)sapm_rng_next_u64(&rng);
    }
    if (noise.rgb && mkfifo(path, 0600) == 0) {
        pid_t pid;
        signal(SIGPIPE, SIG_IGN);
        pid = fork();
        if (pid == 0) {
            int fd = open(path, O_RDONLY);
            if (fd >= 0) close(fd);
            _exit(0);
        }
        if (pid > 0) {
            alarm(30);
            r = sapm_png_write(path, &noise);
            alarm(0);
            waitpid(pid, NULL, 0);
            CHECK_EQ_INT(r, SAPM_ERR_IO);
            CHECK(stat(path, &st) == 0 && S_ISFIFO(st.st_mode));
        }
        signal(SIGPIPE, SIG_DFL);
        remove(path);
    }
    free(noise.rgb);
    sapm_image_free(&im);
#endif
}

static void test_bad_arguments(void)
{
    double f[4] = {0, 1, 2, 3}, nan4[4] = {NAN, NAN, NAN, NAN}, X[8], y1[2] = {1, 2};
    double vmin[1] = {0.0}, vmax_inf[1] = {INFINITY};
    const double *fields[2], *nullf[1] = {NULL}, *nanf[1];
    sapm_plot_series s, s_null, s_zero;
    sapm_heatmap_options o;
    sapm_plot_options po;
    sapm_history_entry h[1];
    sapm_report rep, bad;
    const sapm_report *reps[1], *nullrep[1] = {NULL}, *badrep[1];
    sapm_image im, empty;
    char path[512];
    const char *bad_dir = "/nonexistent-sapm-dir/x";
    fields[0] = fields[1] = f;
    nanf[0] = nan4;
    memset(&o, 0, sizeof o);
    memset(&po, 0, sizeof po);
    memset(&empty, 0, sizeof empty);
    memset(h, 0, sizeof h);
    memset(&rep, 0, sizeof rep); rep.history = h; rep.history_count = 1;
    memset(&bad, 0, sizeof bad); bad.history = NULL; bad.history_count = 3;
    reps[0] = &rep; badrep[0] = &bad;
    s.label = "s"; s.count = 2; s.x = NULL; s.y = y1;
    s_null = s; s_null.y = NULL;
    s_zero = s; s_zero.count = 0;
    tmp_path(path, sizeof path, "bad");

    /* render_heatmaps */
    CHECK_EQ_INT(sapm_render_heatmaps(NULL, 1, 2, 2, fields, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 2, 2, NULL, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 2, 2, nullf, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 0, 2, 2, fields, NULL, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 17, 2, 2, fields, NULL, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 0, 2, fields, NULL, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 2, -1, fields, NULL, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 2, 2, nanf, NULL, NULL), SAPM_ERR_NONFINITE_INPUT);
    o.panel_size = -1;
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 2, 2, fields, NULL, &o), SAPM_ERR_INVALID_SIZE);
    o.panel_size = 0; o.x1 = NAN;
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 2, 2, fields, NULL, &o), SAPM_ERR_NONFINITE_INPUT);
    o.x1 = 0.0; o.vmin = vmin; o.vmax = vmax_inf;
    CHECK_EQ_INT(sapm_render_heatmaps(&im, 1, 2, 2, fields, NULL, &o), SAPM_ERR_NONFINITE_INPUT);
    CHECK(im.rgb == NULL);                        /* nothing allocated on failure */
    memset(&o, 0, sizeof o);

    /* png_heatmap(s) */
    CHECK_EQ_INT(sapm_png_heatmap(NULL, 2, 2, f, 0, 1, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_heatmap(path, 2, 2, NULL, 0, 1, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_heatmap(path, 0, 2, f, 0, 1, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_png_heatmap(path, 2, 2, f, NAN, 1, NULL), SAPM_ERR_NONFINITE_INPUT);
    CHECK_EQ_INT(sapm_png_heatmap(path, 2, 2, nan4, 0, 0, NULL), SAPM_ERR_NONFINITE_INPUT);
    CHECK_EQ_INT(sapm_png_heatmap(bad_dir, 2, 2, f, 0, 1, NULL), SAPM_ERR_IO);
    CHECK_EQ_INT(sapm_png_heatmaps(NULL, 2, 2, 2, fields, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_heatmaps(path, 2, 2, 2, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_heatmaps(path, 0, 2, 2, fields, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_png_heatmaps(bad_dir, 2, 2, 2, fields, NULL), SAPM_ERR_IO);
    CHECK_EQ_INT(sapm_png_heatmaps_ex(path, 1, 2, 2, nullf, NULL, &o), SAPM_ERR_NULL_ARGUMENT);

    /* heatmap_grid */
    CHECK_EQ_INT(sapm_heatmap_grid(2, 2, 0, 1, 0, 1, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_heatmap_grid(0, 2, 0, 1, 0, 1, X), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_heatmap_grid(2, 2, 1, 0, 0, 1, X), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_heatmap_grid(2, 2, 0, 1, 0, INFINITY, X), SAPM_ERR_NONFINITE_INPUT);

    /* render_plot / png_plot */
    CHECK_EQ_INT(sapm_render_plot(NULL, 1, &s, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_render_plot(&im, 1, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_render_plot(&im, 1, &s_null, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_render_plot(&im, 1, &s_zero, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_render_plot(&im, 0, &s, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_render_plot(&im, 65, &s, NULL), SAPM_ERR_INVALID_SIZE);
    po.width = 100;
    CHECK_EQ_INT(sapm_render_plot(&im, 1, &s, &po), SAPM_ERR_INVALID_SIZE);
    po.width = 0; po.height = -5;
    CHECK_EQ_INT(sapm_render_plot(&im, 1, &s, &po), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_png_plot(NULL, 1, &s, NULL, NULL, NULL, 0), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_plot(path, 1, NULL, NULL, NULL, NULL, 0), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_plot(path, 0, &s, NULL, NULL, NULL, 0), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_png_plot(bad_dir, 1, &s, NULL, NULL, NULL, 1), SAPM_ERR_IO);

    /* png_plot_history */
    CHECK_EQ_INT(sapm_png_plot_history(NULL, 1, reps, NULL, SAPM_FIELD_ITER, SAPM_FIELD_MSE, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_plot_history(path, 1, NULL, NULL, SAPM_FIELD_ITER, SAPM_FIELD_MSE, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_plot_history(path, 1, nullrep, NULL, SAPM_FIELD_ITER, SAPM_FIELD_MSE, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_plot_history(path, 1, badrep, NULL, SAPM_FIELD_ITER, SAPM_FIELD_MSE, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_plot_history(path, 0, reps, NULL, SAPM_FIELD_ITER, SAPM_FIELD_MSE, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_png_plot_history(path, 1, reps, NULL, (sapm_history_field)9, SAPM_FIELD_MSE, NULL), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_png_plot_history(path, 1, reps, NULL, SAPM_FIELD_ITER, (sapm_history_field)-1, NULL), SAPM_ERR_INVALID_ARGUMENT);

    /* png_write */
    CHECK_EQ_INT(sapm_png_write(NULL, &empty), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_write(path, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_png_write(path, &empty), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_render_plot(&im, 1, &s, NULL), SAPM_OK);
    im.width = -im.width;
    CHECK_EQ_INT(sapm_png_write(path, &im), SAPM_ERR_INVALID_SIZE);
    im.width = -im.width;
    {   /* a size stb's int arithmetic cannot hold (nothing is read: checked first) */
        sapm_image huge = im;
        huge.width = 60000; huge.height = 60000;
        CHECK_EQ_INT(sapm_png_write(path, &huge), SAPM_ERR_INVALID_SIZE);
        huge.width = 70000; huge.height = 1;
        CHECK_EQ_INT(sapm_png_write(path, &huge), SAPM_ERR_INVALID_SIZE);
        /* (3 w + 1) h just over INT_MAX / 3: stb's output buffer, doubled up to 2.25 times
         * that, would overflow its int size */
        huge.width = 65535; huge.height = 3641;
        CHECK((3.0 * 65535 + 1) * 3641 > INT_MAX / 3 && (3.0 * 65535 + 1) * 3640 <= INT_MAX / 3);
        CHECK_EQ_INT(sapm_png_write(path, &huge), SAPM_ERR_INVALID_SIZE);
    }
    CHECK_EQ_INT(sapm_png_write(bad_dir, &im), SAPM_ERR_IO);
    sapm_image_free(&im);

    /* CSV */
    CHECK_EQ_INT(sapm_csv_write_history(NULL, 1, reps, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_csv_write_history(path, 1, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_csv_write_history(path, 1, nullrep, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_csv_write_history(path, 1, badrep, NULL), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_csv_write_history(path, 0, reps, NULL), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_csv_write_history(bad_dir, 1, reps, NULL), SAPM_ERR_IO);
    CHECK_EQ_INT(sapm_csv_write_grid(NULL, 2, 2, 0, 1, 0, 1, f, f), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_csv_write_grid(path, 2, 2, 0, 1, 0, 1, NULL, f), SAPM_ERR_NULL_ARGUMENT);
    CHECK_EQ_INT(sapm_csv_write_grid(path, 2, 0, 0, 1, 0, 1, f, f), SAPM_ERR_INVALID_SIZE);
    CHECK_EQ_INT(sapm_csv_write_grid(path, 2, 2, 0, 1, 1, 1, f, f), SAPM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sapm_csv_write_grid(path, 2, 2, NAN, 1, 0, 1, f, f), SAPM_ERR_NONFINITE_INPUT);
    CHECK_EQ_INT(sapm_csv_write_grid(bad_dir, 2, 2, 0, 1, 0, 1, f, f), SAPM_ERR_IO);
    remove(path);
}

int main(void)
{
    RUN(test_viridis_reference);
    RUN(test_tick_labels);
    RUN(test_heatmap_pixels);
    RUN(test_heatmap_nearest_cells);
    RUN(test_heatmap_ranges_and_axes);
    RUN(test_heatmap_grid_points);
    RUN(test_png_patterns);
    RUN(test_user_stb_settings);
    RUN(test_png_files);
    RUN(test_plot_pixels);
    RUN(test_plot_legend_placement);
    RUN(test_plot_history_png);
    RUN(test_csv_history_roundtrip);
    RUN(test_csv_grid_roundtrip);
    RUN(test_extreme_values);
    RUN(test_out_of_memory);
    RUN(test_png_write_out_of_memory);
    RUN(test_failed_writes_keep_files);
    RUN(test_bad_arguments);
    return sapm_test_summary();
}
