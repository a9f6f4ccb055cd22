/* Checkpoint and resume through the public API: a run stopped by its callback after a
 * checkpoint and resumed from it ends bit for bit where the uninterrupted run ends (GD,
 * Adam, L-BFGS, LM, an Adam -> L-BFGS schedule stopped in either phase, a PDE), a periodic
 * checkpoint resumes the same way, damaged or foreign checkpoints are refused before any
 * iteration, a failed save leaves the previous checkpoint intact, and the phases that
 * cannot be checkpointed say so. */
#include "sapm.h"
#include "sapm_test.h"
#include <stdio.h>
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__))
#define TEST_POSIX 1
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#endif
#include <time.h>

enum { N = 80 };
static double X[N], Y[N];
static char g_path[512], g_path2[520];

static void make_data(void)
{
    int i;
    for (i = 0; i < N; ++i) { X[i] = -2.0 + 4.0 * i / (N - 1); Y[i] = sin(X[i] * X[i]); }
}

static void make_net(sapm_net *net, uint64_t seed)
{
    int w[4] = {1, 12, 12, 1};
    memset(net, 0, sizeof *net);
    CHECK_EQ_INT(sapm_net_create(net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(net, SAPM_INIT_XAVIER, 1.0, seed), SAPM_OK);
}

static void tmp_paths(void)
{
    const char *dir = getenv("TMPDIR");
    /* unique to this process: two test binaries (two configurations, or two checkouts on
     * one machine) may run at the same time */
#ifdef TEST_POSIX
    long id = (long)getpid();
#else
    int local = 0;
    long id = (long)(((unsigned long)time(NULL) << 20) ^ ((unsigned long)(size_t)&local >> 4));
#endif
    snprintf(g_path, sizeof g_path, "%.400s/sapm_test_ckpt_%ld.bin", dir ? dir : "/tmp", id);
    snprintf(g_path2, sizeof g_path2, "%s.2", g_path);
}

/* Stop (after a checkpoint) at the first logged iteration >= *at. */
static int checkpoint_and_stop(const sapm_progress *p, void *ud)
{
    return p->iter >= *(int *)ud ? SAPM_PROGRESS_CHECKPOINT | SAPM_PROGRESS_STOP : 0;
}

static int same_params(const sapm_net *a, const sapm_net *b)
{
    return a->n_params == b->n_params &&
           memcmp(a->params, b->params, a->n_params * sizeof(double)) == 0;
}

/* the uninterrupted run against stop-at-`at` + resume, for options o */
static void resume_matches(sapm_options o, int at)
{
    sapm_net full, part;
    sapm_report rf, rp, rr;
    int stop_at = at, i;
    make_net(&full, 5);
    make_net(&part, 5);
    o.log_every = 1;
    o.log_seconds = 0.0;
    CHECK_EQ_INT(sapm_train(&full, N, X, 1, Y, 1, &o, &rf), SAPM_OK);
    /* the interrupted run: a checkpoint at iteration `at`, then stop */
    o.checkpoint_path = g_path;
    o.progress = checkpoint_and_stop;
    o.user_data = &stop_at;
    CHECK_EQ_INT(sapm_train(&part, N, X, 1, Y, 1, &o, &rp), SAPM_OK);
    CHECK_EQ_INT(rp.stop, SAPM_STOP_USER);
    CHECK_EQ_INT(rp.iters, at);
    CHECK(!same_params(&full, &part));
    /* resume: a fresh start of the net does not matter, the checkpoint holds the parameters */
    CHECK_EQ_INT(sapm_net_init(&part, SAPM_INIT_XAVIER, 1.0, 99), SAPM_OK);
    o.progress = NULL;
    o.checkpoint_path = NULL;
    o.resume_from = g_path;
    CHECK_EQ_INT(sapm_train(&part, N, X, 1, Y, 1, &o, &rr), SAPM_OK);
    CHECK(same_params(&full, &part));                       /* bit for bit */
    CHECK_EQ_INT(rr.iters, rf.iters);
    CHECK_EQ_INT(rr.stop, rf.stop);
    CHECK(rr.mse == rf.mse);
    CHECK_EQ_INT(rr.history_count, rf.history_count);       /* the history goes on too */
    for (i = 0; i < rr.history_count && i < rf.history_count; ++i) {
        CHECK_EQ_INT(rr.history[i].iter, rf.history[i].iter);
        CHECK(rr.history[i].mse == rf.history[i].mse);
        CHECK(rr.history[i].phase && rf.history[i].phase &&
              strcmp(rr.history[i].phase, rf.history[i].phase) == 0);
    }
    sapm_report_free(&rf); sapm_report_free(&rp); sapm_report_free(&rr);
    sapm_net_destroy(&full); sapm_net_destroy(&part);
    remove(g_path);
}

static void test_resume_gd(void)
{
    sapm_options o = sapm_default_options(SAPM_METHOD_GD);
    o.max_iters = 60;
    resume_matches(o, 23);
}

static void test_resume_adam(void)
{
    sapm_options o = sapm_default_options(SAPM_METHOD_ADAM);
    o.max_iters = 60;
    resume_matches(o, 17);
}

static void test_resume_lbfgs(void)
{
    sapm_options o = sapm_default_options(SAPM_METHOD_LBFGS);
    o.max_iters = 80;
    o.ls.lbfgs_memory = 7;          /* the memory wraps around before the stop */
    resume_matches(o, 31);
}

static void test_resume_lm(void)
{
    sapm_options o = sapm_default_options(SAPM_METHOD_LM);
    o.max_iters = 30;
    resume_matches(o, 9);
    o = sapm_default_options(SAPM_METHOD_ADAM);      /* LM as the polish */
    o.max_iters = 40;
    o.polish = SAPM_METHOD_LM;
    o.phase_iters = 20;
    resume_matches(o, 27);
}

static void test_resume_schedule_in_each_phase(void)
{
    sapm_options o = sapm_default_options(SAPM_METHOD_ADAM);
    o.max_iters = 70;
    o.polish = SAPM_METHOD_LBFGS;
    o.phase_iters = 25;
    resume_matches(o, 12);          /* stopped in the Adam phase */
    resume_matches(o, 40);          /* stopped in the L-BFGS polish */
}

/* checkpoint_every: the file holds the newest multiple; resuming from it matches too */
static void test_checkpoint_every(void)
{
    sapm_net full, part;
    sapm_options o = sapm_default_options(SAPM_METHOD_LBFGS);
    sapm_report rf, rp;
    make_net(&full, 7);
    make_net(&part, 7);
    o.max_iters = 50;
    CHECK_EQ_INT(sapm_train(&full, N, X, 1, Y, 1, &o, &rf), SAPM_OK);
    o.max_iters = 37;
    o.checkpoint_path = g_path;
    o.checkpoint_every = 10;
    CHECK_EQ_INT(sapm_train(&part, N, X, 1, Y, 1, &o, &rp), SAPM_OK);   /* last at 30 */
    sapm_report_free(&rp);
    o.max_iters = 50;
    o.checkpoint_path = NULL;
    o.checkpoint_every = 0;
    o.resume_from = g_path;
    CHECK_EQ_INT(sapm_train(&part, N, X, 1, Y, 1, &o, &rp), SAPM_OK);
    CHECK(same_params(&full, &part));
    CHECK_EQ_INT(rp.iters, rf.iters);
    sapm_report_free(&rf); sapm_report_free(&rp);
    sapm_net_destroy(&full); sapm_net_destroy(&part);
    remove(g_path);
}

#define PI 3.14159265358979323846
static double pexact(const double *x, int d, void *ud) { (void)d; (void)ud; return sin(PI * x[0]) * sin(PI * x[1]); }
static double pf(const double *x, int d, void *ud) { return 2.0 * PI * PI * pexact(x, d, ud); }

static void test_resume_pde(void)
{
    enum { PN = 120, PMB = 60 };
    static double Xi[2 * PN], Xb[2 * PMB];
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    int w[4] = {2, 10, 10, 1}, at = 19;
    sapm_pde pde;
    sapm_net full, part;
    sapm_rng rng;
    sapm_report rf, rp;
    sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_LBFGS);
    memset(&pde, 0, sizeof pde);
    pde.d = 2; pde.kappa_const = -1.0; pde.f = pf; pde.g = pexact; pde.exact = pexact;
    sapm_rng_seed(&rng, 3);
    sapm_sample_halton(2, lo, hi, PN, 0, 1, Xi);
    sapm_sample_boundary(2, lo, hi, NULL, PMB, &rng, Xb);
    CHECK_EQ_INT(sapm_net_create(&full, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&full, SAPM_INIT_XAVIER, 1.0, 2), SAPM_OK);
    CHECK_EQ_INT(sapm_net_copy(&part, &full), SAPM_OK);
    o.base.max_iters = 45;
    CHECK_EQ_INT(sapm_pde_train(&full, &pde, PN, Xi, PMB, Xb, &o, &rf), SAPM_OK);
    o.base.checkpoint_path = g_path;
    o.base.progress = checkpoint_and_stop;
    o.base.user_data = &at;
    o.base.log_every = 1;
    CHECK_EQ_INT(sapm_pde_train(&part, &pde, PN, Xi, PMB, Xb, &o, &rp), SAPM_OK);
    CHECK_EQ_INT(rp.iters, at);
    sapm_report_free(&rp);
    o.base.checkpoint_path = NULL;
    o.base.progress = NULL;
    o.base.resume_from = g_path;
    CHECK_EQ_INT(sapm_pde_train(&part, &pde, PN, Xi, PMB, Xb, &o, &rp), SAPM_OK);
    CHECK(same_params(&full, &part));
    CHECK_EQ_INT(rp.iters, rf.iters);
    /* a data checkpoint is not a PDE one, and the other way round */
    {
        sapm_options od = sapm_default_options(SAPM_METHOD_LBFGS);
        sapm_net dn;
        sapm_report rd;
        make_net(&dn, 1);
        od.resume_from = g_path;
        CHECK_EQ_INT(sapm_train(&dn, N, X, 1, Y, 1, &od, &rd), SAPM_ERR_INVALID_ARGUMENT);
        CHECK_EQ_INT(rd.iters, 0);
        CHECK(strstr(rd.message, "resume_from") != NULL);
        sapm_report_free(&rd);
        sapm_net_destroy(&dn);
    }
    sapm_report_free(&rf); sapm_report_free(&rp);
    sapm_net_destroy(&full); sapm_net_destroy(&part);
    remove(g_path);
}

static long file_bytes(const char *path, unsigned char *buf, long cap)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (!f) return -1;
    n = (long)fread(buf, 1, (size_t)cap, f);
    fclose(f);
    return n;
}

static void write_bytes(const char *path, const unsigned char *buf, long n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
}

/* every kind of damage is refused before any iteration, the net untouched */
static void test_damaged_checkpoints_refused(void)
{
    static unsigned char good[1 << 16], bad[1 << 16];
    sapm_net net, before;
    sapm_options o = sapm_default_options(SAPM_METHOD_ADAM);
    sapm_report rep;
    long n, k;
    int at = 5;
    make_net(&net, 4);
    o.max_iters = 20;
    o.log_every = 1;
    o.checkpoint_path = g_path;
    o.progress = checkpoint_and_stop;
    o.user_data = &at;
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_OK);
    sapm_report_free(&rep);
    n = file_bytes(g_path, good, (long)sizeof good);
    CHECK(n > 64);
    CHECK_EQ_INT(sapm_net_copy(&before, &net), SAPM_OK);
    o.checkpoint_path = NULL;
    o.progress = NULL;
    o.resume_from = g_path2;
    /* a flipped bit anywhere (every 37th byte), a truncation, a trailing byte */
    for (k = 0; k < n; k += 37) {
        memcpy(bad, good, (size_t)n);
        bad[k] ^= 0x10;
        write_bytes(g_path2, bad, n);
        rep.iters = -1;
        CHECK(sapm_train(&net, N, X, 1, Y, 1, &o, &rep) != SAPM_OK);
        CHECK_EQ_INT(rep.iters, 0);
        CHECK(same_params(&net, &before));
        sapm_report_free(&rep);
    }
    write_bytes(g_path2, good, n - 1);
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_CORRUPT);
    sapm_report_free(&rep);
    memcpy(bad, good, (size_t)n); bad[n] = 0;
    write_bytes(g_path2, bad, n + 1);
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_CORRUPT);
    sapm_report_free(&rep);
    write_bytes(g_path2, (const unsigned char *)"not a checkpoint at all", 23);
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_BAD_FORMAT);
    sapm_report_free(&rep);
    remove(g_path2);
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_IO);    /* no file */
    CHECK(strstr(rep.message, "resume_from") != NULL);
    sapm_report_free(&rep);
    /* another method, another shape */
    o.resume_from = g_path;
    o.method = SAPM_METHOD_LBFGS;
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_INVALID_ARGUMENT);
    sapm_report_free(&rep);
    o.method = SAPM_METHOD_ADAM;
    {
        sapm_net other;
        int w[4] = {1, 12, 11, 1};
        CHECK_EQ_INT(sapm_net_create(&other, 3, w, SAPM_ACT_TANH), SAPM_OK);
        CHECK_EQ_INT(sapm_train(&other, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_SIZE_MISMATCH);
        sapm_report_free(&rep);
        sapm_net_destroy(&other);
    }
    /* another L-BFGS memory than the saved one does not fit the saved state */
    CHECK(same_params(&net, &before));
    sapm_net_destroy(&net); sapm_net_destroy(&before);
    remove(g_path);
}

/* a save that fails (the file size limit cuts it short) keeps the previous checkpoint */
static void test_failed_save_keeps_old_file(void)
{
#ifdef TEST_POSIX
    static unsigned char before[1 << 16], after[1 << 16];
    sapm_net net;
    sapm_options o = sapm_default_options(SAPM_METHOD_ADAM);
    sapm_report rep;
    struct rlimit old, lim;
    long n1, n2;
    int at = 3;
    make_net(&net, 6);
    o.max_iters = 10; o.log_every = 1;
    o.checkpoint_path = g_path;
    o.progress = checkpoint_and_stop;
    o.user_data = &at;
    CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_OK);
    sapm_report_free(&rep);
    n1 = file_bytes(g_path, before, (long)sizeof before);
    CHECK(n1 > 1000);
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 512;                      /* the next save is cut short */
    if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
        at = 6;
        CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_IO);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK_EQ_INT(rep.stop, SAPM_STOP_ERROR);
        CHECK(strstr(rep.message, "checkpoint") != NULL);
        sapm_report_free(&rep);
        n2 = file_bytes(g_path, after, (long)sizeof after);
        CHECK(n2 == n1 && memcmp(before, after, (size_t)n1) == 0);
    }
    signal(SIGXFSZ, SIG_DFL);
    sapm_net_destroy(&net);
    remove(g_path);
#endif
}

/* PM / SAPM on data: the auxiliaries, their damping and the power vectors are part of the
 * state; without a polish (every iteration an auxiliary one), with the paper's gradient
 * steps, and with an L-BFGS polish stopped in either phase */
static void test_resume_sapm(void)
{
    sapm_options o = sapm_default_options(SAPM_METHOD_SAPM);
    o.polish = SAPM_METHOD_NONE;
    o.max_iters = 30;
    resume_matches(o, 11);
    sapm_aux_paper_options(&o.aux);
    resume_matches(o, 13);
    o = sapm_default_options(SAPM_METHOD_PM);
    o.polish = SAPM_METHOD_NONE;
    o.max_iters = 25;
    resume_matches(o, 8);
    o = sapm_default_options(SAPM_METHOD_SAPM);
    o.polish = SAPM_METHOD_LBFGS;
    o.max_iters = 40;
    o.phase_iters = 15;
    resume_matches(o, 9);           /* stopped in the SAPM phase */
    resume_matches(o, 27);          /* stopped in the L-BFGS polish */
}

/* the phases without checkpoints (the auxiliary methods on a PDE) refuse the options
 * before any iteration */
static void test_unsupported_phases_refuse(void)
{
    static const sapm_method methods[2] = {SAPM_METHOD_PM, SAPM_METHOD_SAPM};
    sapm_net net, pnet;
    sapm_report rep;
    int k, w[4] = {2, 8, 8, 1};
    double Xi[2 * 9], Xb[2 * 8], lo[2] = {0, 0}, hi[2] = {1, 1};
    sapm_pde pde;
    sapm_rng rng;
    make_net(&net, 2);
    memset(&pnet, 0, sizeof pnet);
    CHECK_EQ_INT(sapm_net_create(&pnet, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&pnet, SAPM_INIT_XAVIER, 1.0, 3), SAPM_OK);
    sapm_rng_seed(&rng, 4);
    CHECK_EQ_INT(sapm_sample_halton(2, lo, hi, 9, 0, 1, Xi), SAPM_OK);
    CHECK_EQ_INT(sapm_sample_boundary(2, lo, hi, NULL, 8, &rng, Xb), SAPM_OK);
    memset(&pde, 0, sizeof pde);
    pde.d = 2; pde.kappa_const = -1.0; pde.f = pf; pde.g = pexact;
    for (k = 0; k < 2; ++k) {
        sapm_pde_options po = sapm_pde_default_options(methods[k]);
        po.base.checkpoint_path = g_path;
        CHECK_EQ_INT(sapm_pde_train(&pnet, &pde, 9, Xi, 8, Xb, &po, &rep), SAPM_ERR_UNSUPPORTED);
        CHECK_EQ_INT(rep.iters, 0);
        CHECK(strstr(rep.message, "checkpoint") != NULL);
        sapm_report_free(&rep);
        po.base.checkpoint_path = NULL;
        po.base.resume_from = g_path;
        CHECK_EQ_INT(sapm_pde_train(&pnet, &pde, 9, Xi, 8, Xb, &po, &rep), SAPM_ERR_UNSUPPORTED);
        sapm_report_free(&rep);
    }
    sapm_net_destroy(&pnet);
    {
        sapm_options o = sapm_default_options(SAPM_METHOD_ADAM);
        o.checkpoint_every = 5;                         /* without a path */
        CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_INVALID_ARGUMENT);
        sapm_report_free(&rep);
        o.checkpoint_every = -1;
        o.checkpoint_path = g_path;
        CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, &rep), SAPM_ERR_INVALID_ARGUMENT);
        sapm_report_free(&rep);
    }
    sapm_net_destroy(&net);
}

int main(void)
{
    make_data();
    tmp_paths();
    RUN(test_resume_gd);
    RUN(test_resume_adam);
    RUN(test_resume_lbfgs);
    RUN(test_resume_lm);
    RUN(test_resume_schedule_in_each_phase);
    RUN(test_resume_sapm);
    RUN(test_checkpoint_every);
    RUN(test_resume_pde);
    RUN(test_damaged_checkpoints_refused);
    RUN(test_failed_save_keeps_old_file);
    RUN(test_unsupported_phases_refuse);
    return sapm_test_summary();
}
