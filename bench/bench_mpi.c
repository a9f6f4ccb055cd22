/* bench_mpi - data-parallel training: cost per iteration, memory per rank and the numbers
 * summed over the ranks per iteration, against the number of samples N, for a regression
 * problem and a 2-D Poisson PINN (L-BFGS; the other methods: see the README's table).
 *   make bench-mpi                     (runs 1 and 2 ranks)
 *   mpirun -np R build/bench/bench_mpi [--quick] [--iters K] [--method gd|adam|lbfgs|lm|pm|sapm]
 *   (make bench-mpi BENCH_MPI_ARGS="--method sapm": PM / SAPM on the regression problem sum
 *   the Gram matrices and right-hand sides of their weight blocks, LySep / PM on the PDE
 *   theirs; default L-BFGS)
 * Columns: N (all ranks together), ranks, median seconds per iteration over K iterations
 * after a warm-up one, peak resident memory of rank 0 (MB, getrusage; it only grows, and
 * the runs go from small N to large), all-reduce calls and kilobytes summed per iteration
 * (the payload: a ring all-reduce sends about 2 (R - 1) / R times it from each rank). */
#define SAPM_USE_MPI
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include "bench_util.h"
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#define PI 3.14159265358979323846

static double exact(const double *x, int d, void *ud) { (void)d; (void)ud; return sin(PI * x[0]) * sin(PI * x[1]); }
static double f(const double *x, int d, void *ud) { return 2.0 * PI * PI * exact(x, d, ud); }

typedef struct timing { double t_last, dt[64]; int n; } timing;

static int record(const sapm_progress *p, void *ud)
{
    timing *t = (timing *)ud;
    if (p->iter >= 2 && t->n < 64) t->dt[t->n++] = p->seconds - t->t_last;   /* skip warm-up */
    t->t_last = p->seconds;
    return 0;
}

static void print_machine(int ranks)
{
    char line[256], model[256] = "unknown";
    FILE *fc = fopen("/proc/cpuinfo", "r");
    if (fc) {
        while (fgets(line, sizeof line, fc))
            if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
                snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
                model[strcspn(model, "\n")] = 0;
                break;
            }
        fclose(fc);
    }
    printf("CPU: %s, SIMD path %s, %d rank(s), one thread each\n", model, sapm_simd_path(), ranks);
}

static double peak_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;          /* Linux: kilobytes */
}

static sapm_method g_method = SAPM_METHOD_LBFGS;

static void run(int pde_problem, int N, int iters, sapm_mpi *mpi)
{
    int widths[4] = {2, 32, 32, 1}, first, count, bfirst, bcount, k;
    int M = pde_problem ? (N / 5 > 4 ? N / 5 : 4) : 0;
    double lo[2] = {0, 0}, hi[2] = {1, 1};
    double *X, *Y = NULL, *Xb = NULL;
    sapm_net net;
    sapm_report rep;
    sapm_result r;
    timing t;
    unsigned long long calls0, doubles0;
    sapm_shard(N, mpi->rank, mpi->size, &first, &count);
    sapm_shard(M, mpi->rank, mpi->size, &bfirst, &bcount);
    /* each rank makes only its share: Halton points by index, targets from them */
    X = (double *)malloc((size_t)2 * (count > 0 ? count : 1) * sizeof(double));
    sapm_sample_halton(2, lo, hi, count, first, 1, X);
    sapm_net_create(&net, 3, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1);
    memset(&t, 0, sizeof t);
    calls0 = mpi->calls;
    doubles0 = mpi->doubles;
    if (pde_problem) {
        sapm_pde pde;
        sapm_rng rng;
        sapm_pde_options opt = sapm_pde_default_options(g_method);
        Xb = (double *)malloc((size_t)2 * (bcount > 0 ? bcount : 1) * sizeof(double));
        sapm_rng_seed(&rng, 100 + (uint64_t)mpi->rank);
        sapm_sample_boundary(2, lo, hi, NULL, bcount, &rng, Xb);
        memset(&pde, 0, sizeof pde);
        pde.d = 2; pde.kappa_const = -1.0; pde.f = f; pde.g = exact;
        opt.base.max_iters = iters + 1; opt.base.log_every = 1; opt.base.log_seconds = 0.0;
        opt.base.progress = record; opt.base.user_data = &t;
        sapm_mpi_attach(mpi, &opt.base);
        r = sapm_pde_train(&net, &pde, count, X, bcount, Xb, &opt, &rep);
    } else {
        sapm_options opt = sapm_default_options(g_method);
        Y = (double *)malloc((size_t)(count > 0 ? count : 1) * sizeof(double));
        for (k = 0; k < count; ++k) Y[k] = exact(X + 2 * k, 2, NULL);
        opt.max_iters = iters + 1; opt.log_every = 1; opt.log_seconds = 0.0;
        opt.progress = record; opt.user_data = &t;
        sapm_mpi_attach(mpi, &opt);
        r = sapm_train(&net, count, X, 2, Y, 1, &opt, &rep);
    }
    if (mpi->rank == 0) {
        double it = rep.iters > 0 ? (double)rep.iters : 1.0;
        if (r != SAPM_OK) printf("  error: %s %s\n", sapm_result_string(r), rep.message);
        else
            printf("| %-11s | %8d | %5d | %10.4f | %7.1f | %6.1f | %10.1f |\n",
                   pde_problem ? "Poisson 2-D" : "regression", N + M, mpi->size,
                   t.n > 0 ? bench_median(t.dt, t.n) : NAN, peak_mb(),
                   (double)(mpi->calls - calls0) / it, 8e-3 * (double)(mpi->doubles - doubles0) / it);
        fflush(stdout);
    }
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
    free(X); free(Y); free(Xb);
}

int main(int argc, char **argv)
{
    int quick = 0, iters = 5, i, p;
    int sizes[4] = {1000, 10000, 100000, 1000000};
    sapm_mpi mpi;
    MPI_Init(&argc, &argv);
    sapm_mpi_init(&mpi, MPI_COMM_WORLD);
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--method") && i + 1 < argc) {
            static const char *names[] = {"gd", "adam", "lbfgs", "lm", "pm", "sapm"};
            static const sapm_method methods[] = {SAPM_METHOD_GD, SAPM_METHOD_ADAM, SAPM_METHOD_LBFGS,
                                                  SAPM_METHOD_LM, SAPM_METHOD_PM, SAPM_METHOD_SAPM};
            int m, found = 0;
            ++i;
            for (m = 0; m < 6; ++m)
                if (!strcmp(argv[i], names[m])) { g_method = methods[m]; found = 1; }
            if (!found) {
                if (mpi.rank == 0) fprintf(stderr, "bench_mpi: unknown method %s\n", argv[i]);
                MPI_Finalize();
                return 2;
            }
        }
    }
    if (iters < 1) iters = 1;
    if (mpi.rank == 0) {
        print_machine(mpi.size);
        printf("network 2-32-32-1 tanh, %s, %d timed iterations after a warm-up one; "
               "N counts every rank's samples (PDE: interior + boundary = 1.2 N)\n\n",
               sapm_method_name(g_method), iters);
        printf("| problem     |        N | ranks |   s / iter | peak MB | calls  | kB / iter  |\n");
        printf("|-------------|---------:|------:|-----------:|--------:|-------:|-----------:|\n");
    }
    for (p = 0; p < 2; ++p)
        for (i = 0; i < (quick ? 3 : 4); ++i) run(p, sizes[i], iters, &mpi);
    MPI_Finalize();
    return 0;
}
