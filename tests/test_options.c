/* Bad arguments and options through the public API, table-driven: every option of
 * sapm_options (run fields, ls.*, aux.*) and sapm_pde_options (alpha, beta, lysep.*) is
 * set to each bad value (out of range, NaN, +-Inf) and tried with every schedule (method,
 * polish) that has a phase reading it; each call must be rejected before iteration 0:
 * the documented status, report.stop = SAPM_STOP_ERROR, iters == 0, the callback never
 * called, report.message naming the option (and the phase, for the phase options), the
 * network's parameters bit-identical, and the same status without a report. Then the
 * bad sizes / NULL pointers / NaN data of every training entry point, the step APIs
 * (sapm_aux_*, sapm_pde_aux_*) and the network functions. */
#include "sapm.h"
#include "sapm_test.h"

enum { N = 20, NP = 8, MP = 8 };
static double X[N], Y[N], XP[NP * 2], XB[MP * 2], XT[3], YT[3];
static int calls;

static int count_calls(const sapm_progress *p, void *ud) { (void)p; (void)ud; ++calls; return 0; }

#define BIT(m) (1u << (m))
#define ALL 0xffffffffu             /* read by the run itself: every schedule */
#define GRAD_PHASES (BIT(SAPM_METHOD_GD) | BIT(SAPM_METHOD_ADAM))
#define AUX_PHASES (BIT(SAPM_METHOD_PM) | BIT(SAPM_METHOD_SAPM))

/* One bad option: which phases read it, the status, what the message must contain. */
typedef struct bad_case {
    const char *field;      /* substring of report.message */
    const char *phase;      /* and this too (NULL: no phase named) */
    unsigned readers;       /* methods whose phase reads it (ALL: the run) */
    sapm_result want;
} bad_case;

/* Case k applied to o (data: pde == 0; PDE: pde != 0, po = the PDE options around o).
 * Returns 0 past the last case. */
static int bad_option(int k, sapm_options *o, sapm_pde_options *po, int pde, bad_case *c)
{
    static double xt_nan[3] = {0.1, NAN, 0.3}, yt_inf[3] = {1.0, INFINITY, 0.0};
    static sapm_lysep_trace trace;
    c->phase = NULL;
    c->readers = ALL;
    c->want = SAPM_ERR_INVALID_ARGUMENT;
    switch (k) {
    /* the run */
    case 0: c->field = "method"; o->method = SAPM_METHOD_NONE; break;
    case 1: c->field = "method"; o->method = SAPM_METHOD_COUNT; break;
    case 2: c->field = "method"; o->method = (sapm_method)-1; break;
    case 3: c->field = "polish"; o->polish = SAPM_METHOD_PM; break;
    case 4: c->field = "polish"; o->polish = SAPM_METHOD_SAPM; break;
    case 5: c->field = "polish"; o->polish = SAPM_METHOD_COUNT; break;
    case 6: c->field = "polish"; o->polish = (sapm_method)-3; break;
    case 7: c->field = "polish"; o->polish = o->method; break;
    case 8: c->field = "max_iters"; o->max_iters = -1; break;
    case 9: c->field = "time_budget"; o->time_budget = -1.0; break;
    case 10: c->field = "time_budget"; o->time_budget = NAN; break;
    case 11: c->field = "time_budget"; o->time_budget = INFINITY; break;
    case 12: c->field = "target_loss"; o->target_loss = -1e-3; break;
    case 13: c->field = "target_loss"; o->target_loss = NAN; break;
    case 14: c->field = "target_loss"; o->target_loss = INFINITY; break;
    case 15: c->field = "grad_tol"; o->grad_tol = -1.0; break;
    case 16: c->field = "grad_tol"; o->grad_tol = NAN; break;
    case 17: c->field = "grad_tol"; o->grad_tol = INFINITY; break;
    case 18: c->field = "rel_tol"; o->rel_tol = -1.0; break;
    case 19: c->field = "rel_tol"; o->rel_tol = NAN; break;
    case 20: c->field = "rel_tol"; o->rel_tol = INFINITY; break;
    case 21: c->field = "log_every"; o->log_every = -1; break;
    case 22: c->field = "log_seconds"; o->log_seconds = -0.5; break;
    case 23: c->field = "log_seconds"; o->log_seconds = NAN; break;
    case 24: c->field = "log_seconds"; o->log_seconds = INFINITY; break;
    case 25: c->field = "phase_iters"; o->phase_iters = -1; break;
    case 26: c->field = "phase_time"; o->phase_time = -0.1; break;
    case 27: c->field = "phase_time"; o->phase_time = 1.5; break;
    case 28: c->field = "phase_time"; o->phase_time = NAN; break;
    case 29: c->field = "n_test"; o->n_test = -1; break;
    case 30: c->field = "X_test"; o->n_test = 3; o->X_test = NULL; o->Y_test = YT;
             c->want = SAPM_ERR_NULL_ARGUMENT; break;
    case 31: c->field = "X_test"; o->n_test = 3; o->X_test = xt_nan; o->Y_test = YT;
             c->want = SAPM_ERR_NONFINITE_INPUT; break;
    case 32: c->field = "Y_test"; o->n_test = 3; o->X_test = pde ? XP : XT; o->Y_test = yt_inf;
             c->want = SAPM_ERR_NONFINITE_INPUT; break;
    case 33: c->field = "Y_test"; o->n_test = 3; o->X_test = pde ? XP : XT; o->Y_test = NULL;
             c->want = SAPM_ERR_NULL_ARGUMENT; break;  /* data; on the PDE: no pde->exact */
    /* the gradient phases and LM */
    case 34: c->field = "learning_rate"; c->phase = "Adam"; c->readers = GRAD_PHASES; o->learning_rate = -1e-3; break;
    case 35: c->field = "learning_rate"; c->phase = "GD"; c->readers = GRAD_PHASES; o->learning_rate = NAN; break;
    case 36: c->field = "learning_rate"; c->phase = "Adam"; c->readers = GRAD_PHASES; o->learning_rate = INFINITY; break;
    case 37: c->field = "ls.adam_beta1"; c->phase = "Adam"; c->readers = BIT(SAPM_METHOD_ADAM); o->ls.adam_beta1 = -0.1; break;
    case 38: c->field = "ls.adam_beta1"; c->phase = "Adam"; c->readers = BIT(SAPM_METHOD_ADAM); o->ls.adam_beta1 = 1.0; break;
    case 39: c->field = "ls.adam_beta1"; c->phase = "Adam"; c->readers = BIT(SAPM_METHOD_ADAM); o->ls.adam_beta1 = NAN; break;
    case 40: c->field = "ls.adam_beta2"; c->phase = "Adam"; c->readers = BIT(SAPM_METHOD_ADAM); o->ls.adam_beta2 = 1.0; break;
    case 41: c->field = "ls.adam_beta2"; c->phase = "Adam"; c->readers = BIT(SAPM_METHOD_ADAM); o->ls.adam_beta2 = -INFINITY; break;
    case 42: c->field = "ls.adam_beta2"; c->phase = "Adam"; c->readers = BIT(SAPM_METHOD_ADAM); o->ls.adam_beta2 = NAN; break;
    case 43: c->field = "ls.adam_eps"; c->phase = "Adam"; c->readers = BIT(SAPM_METHOD_ADAM); o->ls.adam_eps = 0.0; break;
    case 44: c->field = "ls.adam_eps"; c->phase = "Adam"; c->readers = BIT(SAPM_METHOD_ADAM); o->ls.adam_eps = NAN; break;
    case 45: c->field = "ls.adam_eps"; c->phase = "Adam"; c->readers = BIT(SAPM_METHOD_ADAM); o->ls.adam_eps = INFINITY; break;
    case 46: c->field = "ls.lbfgs_memory"; c->phase = "L-BFGS"; c->readers = BIT(SAPM_METHOD_LBFGS); o->ls.lbfgs_memory = 0; break;
    case 47: c->field = "ls.lbfgs_memory"; c->phase = "L-BFGS"; c->readers = BIT(SAPM_METHOD_LBFGS); o->ls.lbfgs_memory = -1; break;
    case 48: c->field = "ls.lbfgs_memory"; c->phase = "L-BFGS"; c->readers = BIT(SAPM_METHOD_LBFGS); o->ls.lbfgs_memory = 1001; break;
    case 49: c->field = "ls.lm_damping"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_damping = 0.0; break;
    case 50: c->field = "ls.lm_damping"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_damping = NAN; break;
    case 51: c->field = "ls.lm_damping"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_damping = INFINITY; break;
    case 52: c->field = "checkpoint_every"; o->checkpoint_every = -1; break;
    default: break;
    }
    if (k <= 52) return 1;
    if (!pde) {
        /* PM / SAPM on data */
        switch (k) {
        case 53: c->field = "aux.pm_lambda"; c->phase = "PM"; c->readers = BIT(SAPM_METHOD_PM); o->aux.pm_lambda = 0.0; break;
        case 54: c->field = "aux.pm_lambda"; c->phase = "PM"; c->readers = BIT(SAPM_METHOD_PM); o->aux.pm_lambda = NAN; break;
        case 55: c->field = "aux.pm_lambda"; c->phase = "PM"; c->readers = BIT(SAPM_METHOD_PM); o->aux.pm_lambda = INFINITY; break;
        case 56: c->field = "aux.update"; c->readers = AUX_PHASES; o->aux.update = SAPM_AUX_UPDATE_COUNT; break;
        case 57: c->field = "aux.update"; c->readers = AUX_PHASES; o->aux.update = (sapm_aux_update)-1; break;
        case 58: c->field = "aux.sweep"; c->readers = AUX_PHASES; o->aux.sweep = SAPM_SWEEP_COUNT; break;
        case 59: c->field = "aux.sweep"; c->readers = AUX_PHASES; o->aux.sweep = (sapm_aux_sweep)-1; break;
        case 60: c->field = "aux.tau"; c->readers = AUX_PHASES; o->aux.update = SAPM_AUX_GD; o->aux.tau = 0.0; break;
        case 61: c->field = "aux.tau"; c->readers = AUX_PHASES; o->aux.update = SAPM_AUX_GD_SCALED; o->aux.tau = NAN; break;
        case 62: c->field = "aux.tau"; c->readers = AUX_PHASES; o->aux.update = SAPM_AUX_GD; o->aux.tau = INFINITY; break;
        case 63: c->field = "aux.ridge"; c->readers = AUX_PHASES; o->aux.ridge = -1e-10; break;
        case 64: c->field = "aux.ridge"; c->readers = AUX_PHASES; o->aux.ridge = NAN; break;
        case 65: c->field = "aux.ridge"; c->readers = AUX_PHASES; o->aux.ridge = INFINITY; break;
        case 66: c->field = "aux.lm_damping"; c->readers = AUX_PHASES; o->aux.lm_damping = -1.0; break;
        case 67: c->field = "aux.lm_damping"; c->readers = AUX_PHASES; o->aux.lm_damping = NAN; break;
        case 68: c->field = "aux.lm_damping"; c->readers = AUX_PHASES; o->aux.lm_damping = INFINITY; break;
        case 69: c->field = "aux.omega_norm"; c->readers = AUX_PHASES; o->aux.omega_norm = 2; break;
        case 70: c->field = "aux.omega_norm"; c->readers = AUX_PHASES; o->aux.omega_norm = -1; break;
        case 71: c->field = "aux.resync_every"; c->readers = AUX_PHASES; o->aux.resync_every = -1; break;
        case 72: c->field = "ls.lm_trials"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_trials = -1; break;
        case 73: c->field = "ls.lm_trials"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_trials = 31; break;
        case 74: c->field = "ls.lm_geodesic"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_geodesic = -0.1; break;
        case 75: c->field = "ls.lm_geodesic"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_geodesic = 2.5; break;
        case 76: c->field = "ls.lm_geodesic"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_geodesic = NAN; break;
        case 77: c->field = "ls.lm_blocks"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_blocks = -1; break;
        case 78: c->field = "ls.lm_blocks"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_blocks = 2; break;
        default: return 0;
        }
        return 1;
    }
    /* the PDE problem and SAPM-PINN / LySep */
    switch (k) {
    case 53: c->field = "aux.pm_lambda"; c->phase = "PM"; c->readers = BIT(SAPM_METHOD_PM); o->aux.pm_lambda = 0.0; break;
    case 54: c->field = "aux.pm_lambda"; c->phase = "PM"; c->readers = BIT(SAPM_METHOD_PM); o->aux.pm_lambda = NAN; break;
    case 55: c->field = "aux.pm_lambda"; c->phase = "PM"; c->readers = BIT(SAPM_METHOD_PM); o->aux.pm_lambda = -INFINITY; break;
    case 56: c->field = "alpha and beta must"; po->alpha = -1.0; break;
    case 57: c->field = "alpha and beta must"; po->alpha = NAN; break;
    case 58: c->field = "alpha and beta must"; po->alpha = INFINITY; break;
    case 59: c->field = "alpha and beta must"; po->beta = -1.0; break;
    case 60: c->field = "alpha and beta must"; po->beta = NAN; break;
    case 61: c->field = "alpha and beta must"; po->beta = INFINITY; break;
    case 62: c->field = "alpha and beta must"; po->alpha = 0.0; po->beta = 0.0; break;
    case 63: c->field = "lysep.inner_sweeps"; c->readers = AUX_PHASES; po->lysep.inner_sweeps = 0; break;
    case 64: c->field = "lysep.inner_sweeps"; c->readers = AUX_PHASES; po->lysep.inner_sweeps = -5; break;
    case 65: c->field = "lysep.halvings"; c->readers = AUX_PHASES; po->lysep.halvings = -1; break;
    case 66: c->field = "lysep.halvings"; c->readers = AUX_PHASES; po->lysep.halvings = 61; break;
    case 67: c->field = "lysep.prox"; c->readers = AUX_PHASES; po->lysep.prox = -1.0; break;
    case 68: c->field = "lysep.prox"; c->readers = AUX_PHASES; po->lysep.prox = NAN; break;
    case 69: c->field = "lysep.prox"; c->readers = AUX_PHASES; po->lysep.prox = INFINITY; break;
    case 70: c->field = "lysep.ridge"; c->readers = AUX_PHASES; po->lysep.ridge = -1.0; break;
    case 71: c->field = "lysep.ridge"; c->readers = AUX_PHASES; po->lysep.ridge = NAN; break;
    case 72: c->field = "lysep.ridge"; c->readers = AUX_PHASES; po->lysep.ridge = INFINITY; break;
    case 73: c->field = "lysep.trace"; c->readers = AUX_PHASES; memset(&trace, 0, sizeof trace);
             trace.capacity = -1; po->lysep.trace = &trace; break;
    case 74: c->field = "ls.lm_trials"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_trials = -1; break;
    case 75: c->field = "ls.lm_trials"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_trials = 31; break;
    case 76: c->field = "balance"; po->balance = SAPM_BALANCE_COUNT; break;
    case 77: c->field = "balance"; po->balance = (sapm_pde_balance)-1; break;
    case 78: c->field = "balance"; po->balance = SAPM_BALANCE_GRAD; po->alpha = 0.0; break;
    case 79: c->field = "resample_every"; po->resample_every = -1; break;
    case 80: c->field = "ls.lm_geodesic"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_geodesic = -0.1; break;
    case 81: c->field = "ls.lm_geodesic"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_geodesic = INFINITY; break;
    case 82: c->field = "ls.lm_blocks"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_blocks = -1; break;
    case 83: c->field = "ls.lm_blocks"; c->phase = "LM"; c->readers = BIT(SAPM_METHOD_LM); o->ls.lm_blocks = 2; break;
    default: return 0;
    }
    return 1;
}


static double one(const double *x, int d, void *u) { (void)x; (void)d; (void)u; return 1.0; }
static double zero(const double *x, int d, void *u) { (void)x; (void)d; (void)u; return 0.0; }

static const sapm_method methods[6] = {SAPM_METHOD_GD, SAPM_METHOD_ADAM, SAPM_METHOD_LBFGS,
                                       SAPM_METHOD_LM, SAPM_METHOD_PM, SAPM_METHOD_SAPM};
static const sapm_method polishes[5] = {SAPM_METHOD_NONE, SAPM_METHOD_GD, SAPM_METHOD_ADAM,
                                        SAPM_METHOD_LBFGS, SAPM_METHOD_LM};

static void make_data(void)
{
    int i;
    sapm_rng rng;
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    for (i = 0; i < N; ++i) { X[i] = -1.0 + 2.0 * i / (N - 1); Y[i] = sin(3.0 * X[i]); }
    for (i = 0; i < 3; ++i) { XT[i] = 0.3 * i; YT[i] = sin(3.0 * XT[i]); }
    sapm_rng_seed(&rng, 4);
    sapm_sample_uniform(2, lo, hi, NP, &rng, XP);
    sapm_sample_boundary(2, lo, hi, NULL, MP, &rng, XB);
}

/* Checks of one rejected call: status, report, no iteration, no callback, message. */
static void check_rejected(sapm_result got, const sapm_report *rep, sapm_result want,
                           const char *field, const char *phase, const sapm_net *net,
                           const double *params_before, const char *what)
{
    int ok = got == want && rep->status == want && rep->stop == SAPM_STOP_ERROR && rep->iters == 0 &&
             calls == 0 && strstr(rep->message, field) != NULL &&
             (!phase || strstr(rep->message, phase) != NULL) &&
             memcmp(net->params, params_before, net->n_params * sizeof(double)) == 0 &&
             rep->history_count == 0;
    if (!ok) {
        char m[400];
        snprintf(m, sizeof m, "%s: status %d (want %d), stop %d, iters %d, calls %d, message \"%s\" "
                 "(want \"%s\"%s%s)", what, (int)got, (int)want, (int)rep->stop, rep->iters, calls,
                 rep->message, field, phase ? " and " : "", phase ? phase : "");
        static int shown = 0;
        if (shown++ < 60) fprintf(stderr, "  %s\n", m);   /* every case, not only the first 5 */
        sapm_test_fail_(__FILE__, __LINE__, m);
    }
}

static void test_train_options_table(void)
{
    sapm_net net;
    int w[4] = {1, 4, 4, 1}, mi, pi, k, tried = 0;
    double *before;
    CHECK_EQ_INT(sapm_net_create(&net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3), SAPM_OK);
    before = (double *)malloc(net.n_params * sizeof(double));
    memcpy(before, net.params, net.n_params * sizeof(double));
    for (mi = 0; mi < 6; ++mi)
        for (pi = 0; pi < 5; ++pi) {
            sapm_method m = methods[mi], p = polishes[pi];
            if (p == m) continue;
            for (k = 0;; ++k) {
                sapm_options o = sapm_default_options(m);
                sapm_pde_options unused;
                sapm_report rep;
                bad_case c;
                int more;
                char what[128];
                sapm_result got;
                o.polish = p;
                o.progress = count_calls;
                more = bad_option(k, &o, &unused, 0, &c);
                if (!more) break;
                if (c.readers != ALL && !(c.readers & (BIT(m) | (p ? BIT(p) : 0u)))) continue;
                /* the polish cases with the method as its own polish are method cases */
                calls = 0;
                snprintf(what, sizeof what, "sapm_train %s + %s, case %d (%s)", sapm_method_name(m),
                         sapm_method_name(p), k, c.field);
                got = sapm_train(&net, N, X, 1, Y, 1, &o, &rep);
                check_rejected(got, &rep, c.want, c.field, c.phase, &net, before, what);
                sapm_report_free(&rep);
                calls = 0;
                CHECK_EQ_INT(sapm_train(&net, N, X, 1, Y, 1, &o, NULL), c.want);
                CHECK_EQ_INT(calls, 0);
                ++tried;
            }
        }
    CHECK(tried > 1000);
    free(before);
    sapm_net_destroy(&net);
}

static void test_pde_train_options_table(void)
{
    /* second order (Poisson: LySep for SAPM) and first order (transport: SAPM-PINN) */
    sapm_net net;
    sapm_pde pois, trans;
    static const double c2[2] = {1.0, 0.5};
    int w[4] = {2, 4, 4, 1}, mi, pi, k, q, tried = 0;
    double *before;
    CHECK_EQ_INT(sapm_net_create(&net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3), SAPM_OK);
    before = (double *)malloc(net.n_params * sizeof(double));
    memcpy(before, net.params, net.n_params * sizeof(double));
    memset(&pois, 0, sizeof pois);
    pois.d = 2; pois.kappa_const = -1.0; pois.f = one; pois.g = zero;
    trans = pois; trans.kappa_const = 0.0; trans.c_const = c2;
    for (q = 0; q < 2; ++q)
        for (mi = 0; mi < 6; ++mi)
            for (pi = 0; pi < 5; ++pi) {
                sapm_method m = methods[mi], p = polishes[pi];
                if (p == m) continue;
                if (q == 1 && m != SAPM_METHOD_PM && m != SAPM_METHOD_SAPM) continue;
                for (k = 0;; ++k) {
                    sapm_pde_options o = sapm_pde_default_options(m);
                    sapm_report rep;
                    bad_case c;
                    int more;
                    char what[128];
                    sapm_result got;
                    o.base.polish = p;
                    o.base.progress = count_calls;
                    more = bad_option(k, &o.base, &o, 1, &c);
                    if (!more) break;
                    if (c.readers != ALL && !(c.readers & (BIT(m) | (p ? BIT(p) : 0u)))) continue;
                    calls = 0;
                    snprintf(what, sizeof what, "sapm_pde_train (%s) %s + %s, case %d (%s)",
                             q ? "transport" : "Poisson", sapm_method_name(m), sapm_method_name(p), k, c.field);
                    got = sapm_pde_train(&net, q ? &trans : &pois, NP, XP, MP, XB, &o, &rep);
                    check_rejected(got, &rep, c.want, c.field, c.phase, &net, before, what);
                    sapm_report_free(&rep);
                    calls = 0;
                    CHECK_EQ_INT(sapm_pde_train(&net, q ? &trans : &pois, NP, XP, MP, XB, &o, NULL), c.want);
                    CHECK_EQ_INT(calls, 0);
                    ++tried;
                }
            }
    CHECK(tried > 1000);
    free(before);
    sapm_net_destroy(&net);
}

/* A PDE callback that returns NaN on the right half of the square. */
static double nan_at_right(const double *x, int d, void *u) { (void)d; (void)u; return x[0] > 0.5 ? NAN : 0.0; }
static void cvec(const double *x, int d, double *c, void *u) { (void)x; (void)u; c[0] = 1.0; c[d - 1] = INFINITY; }

static void test_train_bad_data(void)
{
    /* every argument of sapm_train, for every method: the status, no iteration, and a
     * message naming the argument */
    sapm_net net, empty, bad;
    int w[4] = {1, 4, 4, 1}, mi, k;
    double Xn[N], Yi[N];
    memcpy(Xn, X, sizeof Xn); Xn[7] = NAN;
    memcpy(Yi, Y, sizeof Yi); Yi[N - 1] = -INFINITY;
    memset(&empty, 0, sizeof empty);
    CHECK_EQ_INT(sapm_net_create(&net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3), SAPM_OK);
    CHECK_EQ_INT(sapm_net_copy(&bad, &net), SAPM_OK);
    bad.params[2] = NAN;
    for (mi = 0; mi < 6; ++mi)
        for (k = 0; k < 12; ++k) {
            sapm_options o = sapm_default_options(methods[mi]);
            const sapm_options *op = &o;
            sapm_net *nt = &net;
            const double *x = X, *y = Y;
            int n = N, ldx = 1, ldy = 1;
            sapm_result want, got;
            const char *field;
            sapm_report rep;
            o.progress = count_calls;
            switch (k) {
            case 0: nt = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "net"; break;
            case 1: nt = &empty; want = SAPM_ERR_INVALID_ARGUMENT; field = "sapm_net_create"; break;
            case 2: x = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "X or Y is NULL"; break;
            case 3: y = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "X or Y is NULL"; break;
            case 4: n = 0; want = SAPM_ERR_INVALID_SIZE; field = "N "; break;
            case 5: n = -4; want = SAPM_ERR_INVALID_SIZE; field = "N "; break;
            case 6: ldx = 0; want = SAPM_ERR_SIZE_MISMATCH; field = "ldx"; break;
            case 7: ldy = 0; want = SAPM_ERR_SIZE_MISMATCH; field = "ldy"; break;
            case 8: x = Xn; want = SAPM_ERR_NONFINITE_INPUT; field = "NaN or Inf"; break;
            case 9: y = Yi; want = SAPM_ERR_NONFINITE_INPUT; field = "NaN or Inf"; break;
            case 10: nt = &bad; want = SAPM_ERR_NONFINITE_INPUT; field = "parameters"; break;
            default: op = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "opt"; break;
            }
            calls = 0;
            got = sapm_train(nt, n, x, ldx, y, ldy, op, &rep);
            CHECK_EQ_INT(got, want);
            CHECK_EQ_INT(rep.status, want);
            CHECK_EQ_INT(rep.stop, SAPM_STOP_ERROR);
            CHECK_EQ_INT(rep.iters, 0);
            CHECK_EQ_INT(calls, 0);
            if (!strstr(rep.message, field)) {
                fprintf(stderr, "  sapm_train %s case %d: message \"%s\" lacks \"%s\"\n",
                        sapm_method_name(methods[mi]), k, rep.message, field);
                CHECK(0);
            }
            sapm_report_free(&rep);
            CHECK_EQ_INT(sapm_train(nt, n, x, ldx, y, ldy, op, NULL), want);
        }
    sapm_net_destroy(&net);
    sapm_net_destroy(&bad);
}

static void test_pde_train_bad_problem(void)
{
    /* every argument of sapm_pde_train and every field of sapm_pde, for every method */
    sapm_net net, empty, wrong_d, two_out, shallow, relu;
    sapm_pde pois, pd;
    static const double cnan[2] = {1.0, NAN};
    int w[4] = {2, 4, 4, 1}, w3[4] = {3, 4, 4, 1}, w2[4] = {2, 4, 4, 2}, w1[2] = {2, 1}, mi, k;
    double Xn[NP * 2], Xbn[MP * 2];
    memcpy(Xn, XP, sizeof Xn); Xn[5] = NAN;
    memcpy(Xbn, XB, sizeof Xbn); Xbn[0] = INFINITY;
    memset(&empty, 0, sizeof empty);
    CHECK_EQ_INT(sapm_net_create(&net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_create(&wrong_d, 3, w3, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_create(&two_out, 3, w2, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_create(&shallow, 1, w1, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_create(&relu, 3, w, SAPM_ACT_RELU), SAPM_OK);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3);
    sapm_net_init(&shallow, SAPM_INIT_XAVIER, 1.0, 3);
    sapm_net_init(&relu, SAPM_INIT_XAVIER, 1.0, 3);
    memset(&pois, 0, sizeof pois);
    pois.d = 2; pois.kappa_const = -1.0; pois.f = one; pois.g = zero;
    for (mi = 0; mi < 6; ++mi)
        for (k = 0; k < 26; ++k) {
            sapm_pde_options o = sapm_pde_default_options(methods[mi]);
            const sapm_pde_options *op = &o;
            const sapm_pde *pp = &pd;
            sapm_net *nt = &net;
            const double *x = XP, *xb = XB;
            int n = NP, m = MP, aux = methods[mi] == SAPM_METHOD_PM || methods[mi] == SAPM_METHOD_SAPM;
            sapm_result want, got;
            const char *field;
            sapm_report rep;
            pd = pois;
            o.base.progress = count_calls;
            switch (k) {
            case 0: pp = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "pde is NULL"; break;
            case 1: pd.f = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "no f or g"; break;
            case 2: pd.g = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "no f or g"; break;
            case 3: pd.d = 0; want = SAPM_ERR_INVALID_SIZE; field = "pde->d"; break;
            case 4: pd.d = SAPM_PDE_MAX_DIM + 1; want = SAPM_ERR_INVALID_SIZE; field = "pde->d"; break;
            case 5: pd.kappa_const = NAN; want = SAPM_ERR_NONFINITE_INPUT; field = "kappa_const"; break;
            case 6: pd.c_const = cnan; want = SAPM_ERR_NONFINITE_INPUT; field = "c_const"; break;
            case 7: pd.c0_const = INFINITY; want = SAPM_ERR_NONFINITE_INPUT; field = "c0_const"; break;
            case 8: nt = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "net"; break;
            case 9: nt = &empty; want = SAPM_ERR_INVALID_ARGUMENT; field = "sapm_net_create"; break;
            case 10: nt = &wrong_d; want = SAPM_ERR_SIZE_MISMATCH; field = "n_0 = pde->d"; break;
            case 11: nt = &two_out; want = SAPM_ERR_SIZE_MISMATCH; field = "one output"; break;
            case 12: x = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "X or Xb is NULL"; break;
            case 13: xb = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "X or Xb is NULL"; break;
            case 14: n = 0; want = SAPM_ERR_INVALID_SIZE; field = "N and M"; break;
            case 15: m = -1; want = SAPM_ERR_INVALID_SIZE; field = "N and M"; break;
            case 16: x = Xn; want = SAPM_ERR_NONFINITE_INPUT; field = "X or Xb contains NaN"; break;
            case 17: xb = Xbn; want = SAPM_ERR_NONFINITE_INPUT; field = "X or Xb contains NaN"; break;
            case 18: pd.f = nan_at_right; want = SAPM_ERR_CALLBACK; field = "callback"; break;
            case 19: pd.g = nan_at_right; want = SAPM_ERR_CALLBACK; field = "callback"; break;
            case 20: pd.kappa_fn = nan_at_right; want = SAPM_ERR_CALLBACK; field = "callback"; break;
            case 21: pd.c_fn = cvec; want = SAPM_ERR_CALLBACK; field = "callback"; break;
            case 22: nt = &relu; want = SAPM_ERR_UNSUPPORTED; field = "ReLU"; break;
            case 23: if (!aux) continue;
                     nt = &shallow; want = SAPM_ERR_UNSUPPORTED; field = "depth >= 2"; break;
            case 24: if (!aux) continue;        /* c_0 u = f: no derivative term */
                     pd.kappa_const = 0.0; pd.c0_const = 1.0; want = SAPM_ERR_UNSUPPORTED; field = "operator"; break;
            default: op = NULL; want = SAPM_ERR_NULL_ARGUMENT; field = "opt"; break;
            }
            calls = 0;
            got = sapm_pde_train(nt, pp, n, x, m, xb, op, &rep);
            CHECK_EQ_INT(got, want);
            CHECK_EQ_INT(rep.status, want);
            CHECK_EQ_INT(rep.stop, SAPM_STOP_ERROR);
            CHECK_EQ_INT(rep.iters, 0);
            CHECK_EQ_INT(calls, 0);
            if (!strstr(rep.message, field)) {
                fprintf(stderr, "  sapm_pde_train %s case %d: message \"%s\" lacks \"%s\"\n",
                        sapm_method_name(methods[mi]), k, rep.message, field);
                CHECK(0);
            }
            sapm_report_free(&rep);
            CHECK_EQ_INT(sapm_pde_train(nt, pp, n, x, m, xb, op, NULL), want);
        }
    sapm_net_destroy(&net); sapm_net_destroy(&wrong_d); sapm_net_destroy(&two_out);
    sapm_net_destroy(&shallow); sapm_net_destroy(&relu);
}

/* One call and the status it must return, with the call's text in the failure. */
#define EXPECT(call, want) \
    do { sapm_result got_ = (call); if (got_ != (want)) { char m_[300]; \
         snprintf(m_, sizeof m_, "%s returned %d, want %d", #call, (int)got_, (int)(want)); \
         sapm_test_fail_(__FILE__, __LINE__, m_); } } while (0)

static void test_aux_step_api_bad_arguments(void)
{
    /* sapm_aux_*: every argument and every aux.* case of the table; a failed create
     * leaves *st NULL and the net untouched */
    sapm_net net, empty, bad;
    sapm_aux_state *st;
    int w[4] = {1, 4, 4, 1}, k, mi;
    double j1, j2, *before;
    memset(&empty, 0, sizeof empty);
    CHECK_EQ_INT(sapm_net_create(&net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3), SAPM_OK);
    CHECK_EQ_INT(sapm_net_copy(&bad, &net), SAPM_OK);
    bad.params[0] = INFINITY;
    before = (double *)malloc(net.n_params * sizeof(double));
    memcpy(before, net.params, net.n_params * sizeof(double));
    {
        sapm_options o = sapm_default_options(SAPM_METHOD_SAPM), oa = sapm_default_options(SAPM_METHOD_ADAM);
        EXPECT(sapm_aux_create(NULL, &net, N, X, 1, Y, 1, &o), SAPM_ERR_NULL_ARGUMENT);
        st = (sapm_aux_state *)&net;
        EXPECT(sapm_aux_create(&st, &net, N, X, 1, Y, 1, NULL), SAPM_ERR_NULL_ARGUMENT);
        CHECK(st == NULL);
        EXPECT(sapm_aux_create(&st, NULL, N, X, 1, Y, 1, &o), SAPM_ERR_NULL_ARGUMENT);
        EXPECT(sapm_aux_create(&st, &empty, N, X, 1, Y, 1, &o), SAPM_ERR_INVALID_ARGUMENT);
        EXPECT(sapm_aux_create(&st, &net, 0, X, 1, Y, 1, &o), SAPM_ERR_INVALID_SIZE);
        EXPECT(sapm_aux_create(&st, &net, N, NULL, 1, Y, 1, &o), SAPM_ERR_NULL_ARGUMENT);
        EXPECT(sapm_aux_create(&st, &net, N, X, 1, NULL, 1, &o), SAPM_ERR_NULL_ARGUMENT);
        EXPECT(sapm_aux_create(&st, &net, N, X, 0, Y, 1, &o), SAPM_ERR_SIZE_MISMATCH);
        EXPECT(sapm_aux_create(&st, &net, N, X, 1, Y, 0, &o), SAPM_ERR_SIZE_MISMATCH);
        EXPECT(sapm_aux_create(&st, &bad, N, X, 1, Y, 1, &o), SAPM_ERR_NONFINITE_INPUT);
        EXPECT(sapm_aux_create(&st, &net, N, X, 1, Y, 1, &oa), SAPM_ERR_INVALID_ARGUMENT);
        CHECK(st == NULL);
    }
    for (mi = 4; mi < 6; ++mi)
        for (k = 53;; ++k) {
            sapm_options o = sapm_default_options(methods[mi]);
            sapm_pde_options unused;
            bad_case c;
            if (!bad_option(k, &o, &unused, 0, &c)) break;
            if (!(c.readers & BIT(methods[mi]))) continue;
            st = (sapm_aux_state *)&net;
            EXPECT(sapm_aux_create(&st, &net, N, X, 1, Y, 1, &o), c.want);
            CHECK(st == NULL);
        }
    CHECK(memcmp(net.params, before, net.n_params * sizeof(double)) == 0);
    EXPECT(sapm_aux_step(NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_aux_losses(NULL, &j1, &j2), SAPM_ERR_NULL_ARGUMENT);
    CHECK(sapm_aux_bytes(NULL) == 0);
    sapm_aux_destroy(NULL);
    free(before);
    sapm_net_destroy(&net);
    sapm_net_destroy(&bad);
}

static void test_pde_aux_step_api_bad_arguments(void)
{
    sapm_net net, empty, wrong_d, shallow;
    sapm_pde pois, pd;
    sapm_pde_aux_state *st;
    int w[4] = {2, 4, 4, 1}, w3[4] = {3, 4, 4, 1}, w1[2] = {2, 1}, k, mi;
    double j1, j2, Xn[NP * 2];
    memcpy(Xn, XP, sizeof Xn); Xn[1] = NAN;
    memset(&empty, 0, sizeof empty);
    CHECK_EQ_INT(sapm_net_create(&net, 3, w, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_create(&wrong_d, 3, w3, SAPM_ACT_TANH), SAPM_OK);
    CHECK_EQ_INT(sapm_net_create(&shallow, 1, w1, SAPM_ACT_TANH), SAPM_OK);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 3);
    memset(&pois, 0, sizeof pois);
    pois.d = 2; pois.kappa_const = -1.0; pois.f = one; pois.g = zero;
    {
        sapm_pde_options o = sapm_pde_default_options(SAPM_METHOD_SAPM), ol = sapm_pde_default_options(SAPM_METHOD_LBFGS);
        EXPECT(sapm_pde_aux_create(NULL, &net, &pois, NP, XP, MP, XB, &o), SAPM_ERR_NULL_ARGUMENT);
        st = (sapm_pde_aux_state *)&net;
        EXPECT(sapm_pde_aux_create(&st, &net, &pois, NP, XP, MP, XB, NULL), SAPM_ERR_NULL_ARGUMENT);
        CHECK(st == NULL);
        EXPECT(sapm_pde_aux_create(&st, &net, &pois, NP, XP, MP, XB, &ol), SAPM_ERR_INVALID_ARGUMENT);
        EXPECT(sapm_pde_aux_create(&st, &net, NULL, NP, XP, MP, XB, &o), SAPM_ERR_NULL_ARGUMENT);
        EXPECT(sapm_pde_aux_create(&st, NULL, &pois, NP, XP, MP, XB, &o), SAPM_ERR_NULL_ARGUMENT);
        EXPECT(sapm_pde_aux_create(&st, &empty, &pois, NP, XP, MP, XB, &o), SAPM_ERR_INVALID_ARGUMENT);
        EXPECT(sapm_pde_aux_create(&st, &wrong_d, &pois, NP, XP, MP, XB, &o), SAPM_ERR_SIZE_MISMATCH);
        EXPECT(sapm_pde_aux_create(&st, &shallow, &pois, NP, XP, MP, XB, &o), SAPM_ERR_UNSUPPORTED);
        EXPECT(sapm_pde_aux_create(&st, &net, &pois, 0, XP, MP, XB, &o), SAPM_ERR_INVALID_SIZE);
        EXPECT(sapm_pde_aux_create(&st, &net, &pois, NP, XP, 0, XB, &o), SAPM_ERR_INVALID_SIZE);
        EXPECT(sapm_pde_aux_create(&st, &net, &pois, NP, NULL, MP, XB, &o), SAPM_ERR_NULL_ARGUMENT);
        EXPECT(sapm_pde_aux_create(&st, &net, &pois, NP, XP, MP, NULL, &o), SAPM_ERR_NULL_ARGUMENT);
        EXPECT(sapm_pde_aux_create(&st, &net, &pois, NP, Xn, MP, XB, &o), SAPM_ERR_NONFINITE_INPUT);
        pd = pois; pd.f = NULL;
        EXPECT(sapm_pde_aux_create(&st, &net, &pd, NP, XP, MP, XB, &o), SAPM_ERR_NULL_ARGUMENT);
        pd = pois; pd.d = 0;
        EXPECT(sapm_pde_aux_create(&st, &net, &pd, NP, XP, MP, XB, &o), SAPM_ERR_INVALID_SIZE);
        CHECK(st == NULL);
    }
    for (mi = 4; mi < 6; ++mi)
        for (k = 53;; ++k) {
            sapm_pde_options o = sapm_pde_default_options(methods[mi]);
            bad_case c;
            if (!bad_option(k, &o.base, &o, 1, &c)) break;
            if (c.readers != ALL && !(c.readers & BIT(methods[mi]))) continue;
            if (k == 73) continue;              /* lysep.trace is not used by the step API */
            if (k >= 76 && k <= 79) continue;   /* nor balance, resample_every (sapm_pde_train's) */
            st = (sapm_pde_aux_state *)&net;
            EXPECT(sapm_pde_aux_create(&st, &net, &pois, NP, XP, MP, XB, &o), c.want);
            CHECK(st == NULL);
        }
    EXPECT(sapm_pde_aux_step(NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_pde_aux_losses(NULL, &j1, &j2), SAPM_ERR_NULL_ARGUMENT);
    sapm_pde_aux_destroy(NULL);
    sapm_net_destroy(&net); sapm_net_destroy(&wrong_d); sapm_net_destroy(&shallow);
}

static void test_net_entry_points_bad_arguments(void)
{
    /* NULL, zero and mismatched sizes, NaN data on the network and PDE evaluation functions */
    sapm_net net, empty, dst;
    int w[3] = {2, 3, 1}, wbad[3] = {2, 0, 1}, wneg[3] = {2, -1, 1};
    double U[NP], G[64], j, rel, mx, ue[NP], Xn[NP * 2], buf[16];
    size_t written;
    sapm_pde pois;
    memcpy(Xn, XP, sizeof Xn); Xn[3] = NAN;
    memset(U, 0, sizeof U);
    memset(buf, 0, sizeof buf);
    memset(&empty, 0, sizeof empty);
    memset(&dst, 0, sizeof dst);
    memset(&pois, 0, sizeof pois);
    pois.d = 2; pois.kappa_const = -1.0; pois.f = one; pois.g = zero;
    EXPECT(sapm_net_create(NULL, 2, w, SAPM_ACT_TANH), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_create(&net, 2, NULL, SAPM_ACT_TANH), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_create(&net, 0, w, SAPM_ACT_TANH), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_net_create(&net, -2, w, SAPM_ACT_TANH), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_net_create(&net, 2, wbad, SAPM_ACT_TANH), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_net_create(&net, 2, wneg, SAPM_ACT_TANH), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_net_create(&net, 2, w, SAPM_ACT_COUNT), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_net_create(&net, 2, w, (sapm_activation)-1), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_net_create(&net, 2, w, SAPM_ACT_TANH), SAPM_OK);
    EXPECT(sapm_net_init(NULL, SAPM_INIT_XAVIER, 1.0, 1), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_init(&empty, SAPM_INIT_XAVIER, 1.0, 1), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_net_init(&net, (sapm_init)7, 1.0, 1), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_net_init(&net, SAPM_INIT_XAVIER, 0.0, 1), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_net_init(&net, SAPM_INIT_UNIFORM, NAN, 1), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_net_init(&net, SAPM_INIT_UNIFORM, INFINITY, 1), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1), SAPM_OK);
    EXPECT(sapm_net_copy(NULL, &net), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_copy(&dst, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_copy(&dst, &empty), SAPM_ERR_INVALID_ARGUMENT);
    CHECK(dst.params == NULL);
    EXPECT(sapm_net_forward(NULL, NP, XP, 2, U, 1), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_forward(&empty, NP, XP, 2, U, 1), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_net_forward(&net, 0, XP, 2, U, 1), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_net_forward(&net, NP, NULL, 2, U, 1), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_forward(&net, NP, XP, 2, NULL, 1), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_forward(&net, NP, XP, 1, U, 1), SAPM_ERR_SIZE_MISMATCH);
    EXPECT(sapm_net_forward(&net, NP, XP, 2, U, 0), SAPM_ERR_SIZE_MISMATCH);
    EXPECT(sapm_net_forward(&net, NP, Xn, 2, U, 1), SAPM_ERR_NONFINITE_INPUT);
    EXPECT(sapm_net_loss(&net, NP, XP, 2, NULL, 1, &j), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_loss(&net, -1, XP, 2, U, 1, &j), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_net_loss(&net, NP, XP, 2, U, 1, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_gradient(&net, NP, XP, 2, U, 1, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_gradient(&net, NP, Xn, 2, U, 1, &j, G), SAPM_ERR_NONFINITE_INPUT);
    EXPECT(sapm_net_rescale_chaos(NULL, NP, XP, 2, &j), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_rescale_chaos(&net, 0, XP, 2, &j), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_net_rescale_chaos(&net, NP, XP, 1, &j), SAPM_ERR_SIZE_MISMATCH);
    EXPECT(sapm_net_rescale_chaos(&net, NP, Xn, 2, &j), SAPM_ERR_NONFINITE_INPUT);
    CHECK(sapm_net_file_size(NULL) == 0);
    CHECK(sapm_net_file_size(&empty) == 0);
    EXPECT(sapm_net_save_mem(&net, NULL, 1000, &written), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_save_mem(&net, buf, sizeof buf, &written), SAPM_ERR_INVALID_SIZE); /* too small */
    CHECK(written == 0);
    EXPECT(sapm_net_save_mem(NULL, buf, sizeof buf, &written), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_load_mem(NULL, buf, sizeof buf), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_load_mem(&dst, NULL, 100), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_load_mem(&dst, buf, 0), SAPM_ERR_CORRUPT);
#ifndef SAPM_NO_STDIO
    EXPECT(sapm_net_save(&net, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_load(&dst, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_net_load(NULL, "x"), SAPM_ERR_NULL_ARGUMENT);
#endif
    /* PDE evaluation */
    EXPECT(sapm_pde_loss(&net, &pois, NP, XP, MP, XB, 1.0, 1.0, NULL, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_pde_loss(&net, NULL, NP, XP, MP, XB, 1.0, 1.0, &j, NULL, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_pde_loss(&net, &pois, 0, XP, MP, XB, 1.0, 1.0, &j, NULL, NULL), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_pde_loss(&net, &pois, NP, XP, MP, XB, NAN, 1.0, &j, NULL, NULL), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_pde_loss(&net, &pois, NP, XP, MP, XB, 1.0, -1.0, &j, NULL, NULL), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_pde_loss(&net, &pois, NP, Xn, MP, XB, 1.0, 1.0, &j, NULL, NULL), SAPM_ERR_NONFINITE_INPUT);
    EXPECT(sapm_pde_errors(&net, NP, XP, NULL, &rel, &mx), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_pde_errors(&net, 0, XP, ue, &rel, &mx), SAPM_ERR_INVALID_SIZE);
    memset(ue, 0, sizeof ue); ue[2] = NAN;
    EXPECT(sapm_pde_errors(&net, NP, XP, ue, &rel, &mx), SAPM_ERR_NONFINITE_INPUT);
    EXPECT(sapm_pde_exact_values(&pois, NP, XP, ue), SAPM_ERR_NULL_ARGUMENT);   /* no exact */
    pois.exact = one;
    EXPECT(sapm_pde_exact_values(&pois, 0, XP, ue), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_pde_exact_values(&pois, NP, NULL, ue), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_pde_exact_values(&pois, NP, Xn, ue), SAPM_ERR_NONFINITE_INPUT);
    pois.exact = nan_at_right;
    EXPECT(sapm_pde_exact_values(&pois, NP, XP, ue), SAPM_ERR_CALLBACK);
    CHECK(sapm_lysep_bound_constant(1, 1) < 0.0);
    CHECK(sapm_lysep_bound_constant(-5, 0) < 0.0);
    CHECK(sapm_lysep_bound_constant(2147483647, 1) > 6e9);   /* no int overflow */
    sapm_net_destroy(&net);
}

static void test_samplers_bad_arguments(void)
{
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1}, same[3] = {0, 1, 1}, nanb[3] = {1, NAN, 1};
    double big_lo[3] = {-1e308, 0, 0}, big_hi[3] = {1e308, 1, 1}, out[64 * 3];
    int counts[3] = {2, 2, 2}, zero_counts[3] = {2, 0, 2}, faces0[6] = {0, 0, 0, 0, 0, 0};
    sapm_rng rng;
    sapm_rng_seed(&rng, 1);
    EXPECT(sapm_sample_uniform(0, lo, hi, 4, &rng, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_uniform(SAPM_PDE_MAX_DIM + 1, lo, hi, 4, &rng, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_uniform(3, NULL, hi, 4, &rng, out), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_sample_uniform(3, lo, NULL, 4, &rng, out), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_sample_uniform(3, lo, hi, 0, &rng, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_uniform(3, lo, hi, 4, NULL, out), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_sample_uniform(3, lo, hi, 4, &rng, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_sample_uniform(3, lo, same, 4, &rng, out), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_sample_uniform(3, lo, nanb, 4, &rng, out), SAPM_ERR_NONFINITE_INPUT);
    EXPECT(sapm_sample_uniform(3, big_lo, big_hi, 4, &rng, out), SAPM_ERR_NONFINITE_INPUT);
    EXPECT(sapm_sample_halton(0, lo, hi, 4, 0, 0, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_halton(3, lo, hi, 4, -1, 0, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_halton(3, lo, hi, 4, 2147483647, 0, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_halton(3, lo, hi, -4, 0, 0, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_halton(3, lo, hi, 4, 0, 5, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_sample_halton(3, lo, nanb, 4, 0, 5, out), SAPM_ERR_NONFINITE_INPUT);
    EXPECT(sapm_sample_grid(4, lo, hi, counts, 1, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_grid(3, lo, hi, NULL, 1, out), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_sample_grid(3, lo, hi, zero_counts, 1, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_grid(3, lo, hi, counts, 1, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_sample_grid(3, lo, same, counts, 0, out), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_sample_boundary(3, lo, hi, faces0, 4, &rng, out), SAPM_ERR_INVALID_ARGUMENT);
    EXPECT(sapm_sample_boundary(3, lo, hi, NULL, 0, &rng, out), SAPM_ERR_INVALID_SIZE);
    EXPECT(sapm_sample_boundary(3, lo, hi, NULL, 4, NULL, out), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_sample_boundary(3, lo, hi, NULL, 4, &rng, NULL), SAPM_ERR_NULL_ARGUMENT);
    EXPECT(sapm_sample_boundary(3, big_lo, big_hi, NULL, 4, &rng, out), SAPM_ERR_NONFINITE_INPUT);
}

int main(void)
{
    make_data();
    RUN(test_train_options_table);
    RUN(test_pde_train_options_table);
    RUN(test_train_bad_data);
    RUN(test_pde_train_bad_problem);
    RUN(test_aux_step_api_bad_arguments);
    RUN(test_pde_aux_step_api_bad_arguments);
    RUN(test_net_entry_points_bad_arguments);
    RUN(test_samplers_bad_arguments);
    return sapm_test_summary();
}
