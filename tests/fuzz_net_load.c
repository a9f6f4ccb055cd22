/* libFuzzer harness for the in-memory model loader sapm_net_load_mem. Each input is tried
 * as it is and with its last 8 bytes replaced by the FNV-1a hash of the rest (so mutations
 * of the header, widths and parameters get past the hash check to the checks behind it),
 * each into a zeroed net and into a net that holds a model. Invariants (abort() when one
 * fails, which libFuzzer reports as a crash):
 *   a failed load leaves the destination bit-identical (the struct, its widths and its
 *   parameters), and returns one of the documented errors;
 *   a successful load re-saves byte for byte (sapm_net_file_size == size and
 *   sapm_net_save_mem reproduces the input).
 * Builds:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_net_load.c   (libFuzzer)
 *   cc -DFUZZ_STANDALONE -I. tests/fuzz_net_load.c -lm   replays files: ./a.out FILE...
 *   cc -DFUZZ_WRITE_SEEDS -I. tests/fuzz_net_load.c -lm  ./a.out DIR writes the seed corpus
 *                                                        (tests/fuzz_corpus/)
 * tests/fuzz.sh runs it (make fuzz, FUZZ_TIME seconds; make test, 30 s). */
#define SAPM_IMPLEMENTATION
#include "sapm.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sapm_net fuzz_model;             /* the populated destination's contents */
static unsigned char fuzz_model_file[256];
static size_t fuzz_model_size;

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_net_load: invariant violated: %s\n", what);
    abort();
}

static void fuzz_setup(void)
{
    static int done = 0;
    static const int w[4] = {2, 3, 2, 1};
    if (done) return;
    done = 1;
    if (sapm_net_create(&fuzz_model, 3, w, SAPM_ACT_TANH) != SAPM_OK ||
        sapm_net_init(&fuzz_model, SAPM_INIT_XAVIER, 1.0, 42) != SAPM_OK ||
        sapm_net_save_mem(&fuzz_model, fuzz_model_file, sizeof fuzz_model_file, &fuzz_model_size) != SAPM_OK)
        fuzz_fail("setup");
}

/* One load of buf into dst (zeroed or holding fuzz_model) with the invariants. */
static void fuzz_one(const unsigned char *buf, size_t size, int populated)
{
    sapm_net net, before;
    int widths_before[4];
    double params_before[64];
    sapm_result r;
    memset(&net, 0, sizeof net);
    if (populated && sapm_net_load_mem(&net, fuzz_model_file, fuzz_model_size) != SAPM_OK)
        fuzz_fail("reload of the destination model");
    before = net;
    if (populated) {
        memcpy(widths_before, net.widths, sizeof widths_before);
        memcpy(params_before, net.params, net.n_params * sizeof(double));
    }
    r = sapm_net_load_mem(&net, buf, size);
    if (r != SAPM_OK) {
        if (r != SAPM_ERR_BAD_FORMAT && r != SAPM_ERR_CORRUPT && r != SAPM_ERR_OUT_OF_MEMORY)
            fuzz_fail("a failed load returned an undocumented status");
        if (memcmp(&net, &before, sizeof net) != 0) fuzz_fail("a failed load changed the net struct");
        if (populated && (memcmp(widths_before, net.widths, sizeof widths_before) != 0 ||
                          memcmp(params_before, net.params, net.n_params * sizeof(double)) != 0))
            fuzz_fail("a failed load changed the net's widths or parameters");
    } else {
        size_t n = sapm_net_file_size(&net), written = 0;
        unsigned char *out;
        if (n != size) fuzz_fail("sapm_net_file_size of a loaded net differs from the input size");
        out = (unsigned char *)malloc(n ? n : 1);
        if (!out) fuzz_fail("malloc");
        if (sapm_net_save_mem(&net, out, n, &written) != SAPM_OK || written != size ||
            memcmp(out, buf, size) != 0)
            fuzz_fail("a loaded net does not re-save byte for byte");
        free(out);
    }
    sapm_net_destroy(&net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy;
    fuzz_setup();
    fuzz_one(data, size, 0);
    fuzz_one(data, size, 1);
    if (size >= 16) {                     /* the same bytes with a matching hash */
        uint64_t h = 0xcbf29ce484222325ull;
        size_t i;
        copy = (unsigned char *)malloc(size);
        if (!copy) fuzz_fail("malloc");
        memcpy(copy, data, size);
        for (i = 0; i < size - 8; ++i) { h ^= copy[i]; h *= 0x100000001b3ull; }
        for (i = 0; i < 8; ++i) copy[size - 8 + i] = (unsigned char)(h >> (8 * i));
        fuzz_one(copy, size, 0);
        fuzz_one(copy, size, 1);
        free(copy);
    }
    return 0;
}

#ifdef FUZZ_STANDALONE
static int fuzz_read(const char *path, unsigned char **buf, size_t *size)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0, got;
    unsigned char *b = (unsigned char *)malloc(cap);
    if (!f || !b) { if (f) fclose(f); free(b); return -1; }
    while ((got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = (unsigned char *)realloc(b, cap *= 2);
            if (!nb) { free(b); fclose(f); return -1; }
            b = nb;
        }
    }
    fclose(f);
    *buf = b; *size = n;
    return 0;
}
#endif

#ifdef FUZZ_STANDALONE
int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; ++i) {
        unsigned char *buf;
        size_t size;
        if (fuzz_read(argv[i], &buf, &size) != 0) { fprintf(stderr, "cannot read %s\n", argv[i]); return 2; }
        LLVMFuzzerTestOneInput(buf, size);
        free(buf);
    }
    printf("fuzz_net_load: %d inputs replayed, invariants hold\n", argc - 1);
    return 0;
}
#endif

#ifdef FUZZ_WRITE_SEEDS
/* The seed corpus: valid model files of several shapes (depth 1 to 70, the last above the
 * loader's 64-entry width buffer) and every activation. */
int main(int argc, char **argv)
{
    static const int shapes[][8] = {
        /* depth, n_0 .. n_L */
        {1, 1, 1}, {1, 3, 2}, {2, 1, 5, 1}, {2, 2, 4, 1}, {3, 3, 4, 6, 2}, {4, 2, 5, 3, 4, 3},
    };
    int s, a, count = 0;
    char path[4096];
    if (argc != 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); return 2; }
    for (s = 0; s < 7; ++s)
        for (a = 0; a < SAPM_ACT_COUNT; ++a) {
            sapm_net net;
            unsigned char buf[4096];
            size_t n;
            int w[71], l;
            FILE *f;
            if (s < 6) {
                memcpy(w, shapes[s] + 1, (size_t)(shapes[s][0] + 1) * sizeof(int));
                l = shapes[s][0];
            } else {
                if (a != 0) continue;
                l = 70;
                for (n = 0; n <= 70; ++n) w[n] = 1;
            }
            if (sapm_net_create(&net, l, w, (sapm_activation)a) != SAPM_OK ||
                sapm_net_init(&net, a % 2 ? SAPM_INIT_UNIFORM : SAPM_INIT_XAVIER, 0.7, (uint64_t)(10 * s + a)) != SAPM_OK ||
                sapm_net_save_mem(&net, buf, sizeof buf, &n) != SAPM_OK) {
                fprintf(stderr, "cannot make seed %d/%d\n", s, a);
                return 1;
            }
            snprintf(path, sizeof path, "%s/model_d%d_%s_%d.sapmnet", argv[1], l,
                     sapm_activation_name((sapm_activation)a), s);
            f = fopen(path, "wb");
            if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) { fprintf(stderr, "cannot write %s\n", path); return 1; }
            sapm_net_destroy(&net);
            ++count;
        }
    printf("%d seeds written to %s\n", count, argv[1]);
    return 0;
}
#endif
