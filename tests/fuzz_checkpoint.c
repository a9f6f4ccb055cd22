/* libFuzzer harness for the checkpoint loader: each input is written to a file and given
 * to sapm_train as opt.resume_from, under each of the option sets below (GD, Adam, L-BFGS,
 * LM, SAPM without a polish, Adam -> L-BFGS), as it is and with its last 8 bytes replaced
 * by the FNV-1a hash of the rest (so that mutations of the header, the embedded model,
 * the history and the optimizer state get past the checksum to the checks behind it).
 * Invariants (abort() when one fails, which libFuzzer reports as a crash; ASan/UBSan and
 * LeakSanitizer report the rest):
 *   the call returns SAPM_OK or one of the statuses a damaged or foreign checkpoint may
 *   give, and a failing call says why in report.message;
 *   a refused checkpoint (any status but SAPM_OK / SAPM_ERR_DIVERGED) runs no iteration
 *   of its own: the callback, if called at all (a phase that refuses its saved optimizer
 *   state still reports the restored state), never sees an iteration past the saved one.
 * Builds:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_checkpoint.c   (libFuzzer)
 *   cc -DFUZZ_STANDALONE -I. tests/fuzz_checkpoint.c -lm   replays files: ./a.out FILE...
 *   cc -DFUZZ_WRITE_SEEDS -I. tests/fuzz_checkpoint.c -lm  ./a.out DIR writes seed
 *                                                          checkpoints (tests/fuzz_corpus_ckpt/)
 * tests/fuzz.sh runs it after the model-file harness. */
#define SAPM_IMPLEMENTATION
#include "sapm.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { FUZZ_N = 12, FUZZ_SETS = 6 };
static double fuzz_X[FUZZ_N], fuzz_Y[FUZZ_N];
static char fuzz_path[256];

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_checkpoint: invariant violated: %s\n", what);
    abort();
}

static void fuzz_setup(void)
{
    static int done = 0;
    int i;
    if (done) return;
    done = 1;
    for (i = 0; i < FUZZ_N; ++i) { fuzz_X[i] = -1.0 + 2.0 * i / (FUZZ_N - 1); fuzz_Y[i] = sin(3.0 * fuzz_X[i]); }
    snprintf(fuzz_path, sizeof fuzz_path, "/tmp/sapm_fuzz_ckpt_%ld.bin", (long)getpid());
}

/* the option sets a checkpoint may belong to; max_iters counts the saved iterations */
static sapm_options fuzz_options(int set)
{
    static const sapm_method first[FUZZ_SETS] = {SAPM_METHOD_GD, SAPM_METHOD_ADAM, SAPM_METHOD_LBFGS,
                                                 SAPM_METHOD_LM, SAPM_METHOD_SAPM, SAPM_METHOD_ADAM};
    sapm_options o = sapm_default_options(first[set]);
    o.polish = set == 5 ? SAPM_METHOD_LBFGS : SAPM_METHOD_NONE;
    o.phase_iters = set == 5 ? 2 : 0;
    o.max_iters = 4;
    o.time_budget = 0.0;
    o.log_every = 1;
    o.log_seconds = 0.0;
    o.ls.lbfgs_memory = 3;
    return o;
}

static void fuzz_net(sapm_net *net)
{
    static const int w[4] = {1, 4, 3, 1};
    memset(net, 0, sizeof *net);
    if (sapm_net_create(net, 3, w, SAPM_ACT_TANH) != SAPM_OK ||
        sapm_net_init(net, SAPM_INIT_XAVIER, 1.0, 7) != SAPM_OK)
        fuzz_fail("setup of the network");
}

/* the highest iteration the callback saw (-1: never called) */
static int fuzz_last_iter(const sapm_progress *p, void *ud)
{
    int *seen = (int *)ud;
    if (p->iter > *seen) *seen = p->iter;
    return 0;
}

static void fuzz_one(const unsigned char *buf, size_t size)
{
    FILE *f = fopen(fuzz_path, "wb");
    long saved = -1;        /* the iterations the checkpoint says it holds (bytes 40..43) */
    int set;
    if (size >= 64) saved = (long)buf[40] | (long)buf[41] << 8 | (long)buf[42] << 16 | (long)buf[43] << 24;
    if (!f || (size && fwrite(buf, 1, size, f) != size) || fclose(f) != 0) fuzz_fail("cannot write the input file");
    for (set = 0; set < FUZZ_SETS; ++set) {
        sapm_options o = fuzz_options(set);
        sapm_net net;
        sapm_report rep;
        sapm_result r;
        int seen = -1;
        fuzz_net(&net);
        o.resume_from = fuzz_path;
        o.progress = fuzz_last_iter;
        o.user_data = &seen;
        r = sapm_train(&net, FUZZ_N, fuzz_X, 1, fuzz_Y, 1, &o, &rep);
        if (r != SAPM_OK && r != SAPM_ERR_DIVERGED) {
            if (r != SAPM_ERR_CORRUPT && r != SAPM_ERR_BAD_FORMAT && r != SAPM_ERR_IO &&
                r != SAPM_ERR_INVALID_ARGUMENT && r != SAPM_ERR_SIZE_MISMATCH &&
                r != SAPM_ERR_OUT_OF_MEMORY && r != SAPM_ERR_NONFINITE_INPUT)
                fuzz_fail("a refused checkpoint returned an undocumented status");
            if (!rep.message[0]) fuzz_fail("a refused checkpoint gave no message");
            if (seen >= 0 && (long)seen > saved) fuzz_fail("a refused checkpoint ran iterations");
        }
        sapm_report_free(&rep);
        sapm_net_destroy(&net);
    }
    remove(fuzz_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    fuzz_one(data, size);
    if (size >= 16) {                     /* the same bytes with a matching checksum */
        uint64_t h = 0xcbf29ce484222325ull;
        unsigned char *copy = (unsigned char *)malloc(size);
        size_t i;
        if (!copy) fuzz_fail("malloc");
        memcpy(copy, data, size);
        for (i = 0; i < size - 8; ++i) { h ^= copy[i]; h *= 0x100000001b3ull; }
        for (i = 0; i < 8; ++i) copy[size - 8 + i] = (unsigned char)(h >> (8 * i));
        fuzz_one(copy, size);
        free(copy);
    }
    return 0;
}

#ifdef FUZZ_STANDALONE
int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; ++i) {
        FILE *f = fopen(argv[i], "rb");
        unsigned char *b;
        long n;
        if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 2;
        }
        b = (unsigned char *)malloc((size_t)n + 1);
        if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", argv[i]); return 2; }
        fclose(f);
        LLVMFuzzerTestOneInput(b, (size_t)n);
        free(b);
    }
    printf("fuzz_checkpoint: %d inputs replayed, invariants hold\n", argc - 1);
    return 0;
}
#endif

#ifdef FUZZ_WRITE_SEEDS
/* The seed corpus: a checkpoint of every option set, written at iteration 2. */
static int fuzz_stop_at_2(const sapm_progress *p, void *ud)
{
    (void)ud;
    return p->iter >= 2 ? SAPM_PROGRESS_CHECKPOINT | SAPM_PROGRESS_STOP : 0;
}

int main(int argc, char **argv)
{
    int set;
    char path[4096];
    if (argc != 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); return 2; }
    fuzz_setup();
    for (set = 0; set < FUZZ_SETS; ++set) {
        sapm_options o = fuzz_options(set);
        sapm_net net;
        sapm_report rep;
        fuzz_net(&net);
        snprintf(path, sizeof path, "%s/ckpt_%d_%s.sapmckp", argv[1], set, sapm_method_name(o.method));
        o.checkpoint_path = path;
        o.progress = fuzz_stop_at_2;
        if (sapm_train(&net, FUZZ_N, fuzz_X, 1, fuzz_Y, 1, &o, &rep) != SAPM_OK || rep.iters != 2) {
            fprintf(stderr, "cannot make seed %d: %s\n", set, rep.message);
            return 1;
        }
        sapm_report_free(&rep);
        sapm_net_destroy(&net);
    }
    printf("%d seeds written to %s\n", FUZZ_SETS, argv[1]);
    return 0;
}
#endif
