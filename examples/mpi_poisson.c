/* mpi_poisson - the PINN of solve_your_pde on several MPI ranks: -Laplace u = f on (0,1)^2,
 * u = g on the boundary, every rank holding its share of the interior, boundary and test
 * points. Every rank ends with the same network; rank 0 prints and writes the picture.
 *   mpicc -O2 -march=native examples/mpi_poisson.c -o mpi_poisson -lm
 *   mpirun -np 2 ./mpi_poisson [--method lbfgs|adam|lm|sapm] [--time SECONDS]
 * (as root, Open MPI also wants OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1) */
#define SAPM_USE_MPI
#define SAPM_IMPLEMENTATION
#include "../sapm.h"
#include <stdio.h>
#include <string.h>

#define PI 3.14159265358979323846
static double exact(const double *x, int d, void *ud) { (void)d; (void)ud; return sin(PI * x[0]) * sin(PI * x[1]); }
static double f(const double *x, int d, void *ud) { return 2.0 * PI * PI * exact(x, d, ud); }

static int show(const sapm_progress *p, void *ud)    /* every rank is called; rank 0 prints */
{
    if (((sapm_mpi *)ud)->rank == 0)
        printf("%-10s iter %5d  %6.2f s  J_PINN %.3e  rel. L2 %.3e\n", p->phase, p->iter,
               p->seconds, p->mse, p->error);
    return 0;
}

int main(int argc, char **argv)
{
    enum { N = 4000, M = 800, NT = 4000, GRID = 64 };
    static double X[2 * N], Xb[2 * M], Xt[2 * NT], G[2 * GRID * GRID], U[GRID * GRID];
    double lo[2] = {0, 0}, hi[2] = {1, 1}, seconds = 10.0;
    int widths[4] = {2, 64, 64, 1}, i, n0, n, b0, b, t0, t;
    sapm_method method = SAPM_METHOD_LBFGS;
    sapm_pde pde; sapm_net net; sapm_rng rng; sapm_report rep; sapm_result r; sapm_mpi mpi;
    sapm_pde_options opt;
    MPI_Init(&argc, &argv);
    sapm_mpi_init(&mpi, MPI_COMM_WORLD);
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--time") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--method") && i + 1 < argc) {
            ++i;
            method = !strcmp(argv[i], "adam") ? SAPM_METHOD_ADAM
                   : !strcmp(argv[i], "lm") ? SAPM_METHOD_LM
                   : !strcmp(argv[i], "sapm") ? SAPM_METHOD_SAPM : SAPM_METHOD_LBFGS;
        }
    }
    memset(&pde, 0, sizeof pde);
    pde.d = 2; pde.kappa_const = -1.0; pde.f = f; pde.g = exact; pde.exact = exact;
    /* every rank draws the same points (the same seed) and keeps its share */
    sapm_rng_seed(&rng, 1);
    sapm_sample_halton(2, lo, hi, N, 0, 1, X);
    sapm_sample_boundary(2, lo, hi, NULL, M, &rng, Xb);
    sapm_sample_uniform(2, lo, hi, NT, &rng, Xt);
    sapm_shard(N, mpi.rank, mpi.size, &n0, &n);
    sapm_shard(M, mpi.rank, mpi.size, &b0, &b);
    sapm_shard(NT, mpi.rank, mpi.size, &t0, &t);
    sapm_net_create(&net, 3, widths, SAPM_ACT_TANH);
    sapm_net_init(&net, SAPM_INIT_XAVIER, 1.0, 1);      /* the same start on every rank */
    opt = sapm_pde_default_options(method);
    opt.beta = 100.0;
    opt.base.max_iters = 0; opt.base.time_budget = seconds;
    opt.base.log_every = 0; opt.base.log_seconds = 1.0;
    opt.base.progress = show; opt.base.user_data = &mpi;
    opt.base.n_test = t; opt.base.X_test = Xt + 2 * t0;
    sapm_mpi_attach(&mpi, &opt.base);                  /* sums over the ranks */
    if (mpi.rank == 0)
        printf("%d ranks, %d interior + %d boundary points (rank 0 holds %d + %d)\n", mpi.size, N, M, n, b);
    r = sapm_pde_train(&net, &pde, n, X + 2 * n0, b, Xb + 2 * b0, &opt, &rep);
    if (mpi.rank == 0) {
        if (r != SAPM_OK) printf("error: %s %s\n", sapm_result_string(r), rep.message);
        printf("%d iterations in %.1f s: relative L2 error %.3e (%s); %llu all-reduce calls, "
               "%.1f kB summed per iteration\n", rep.iters, rep.seconds, rep.error,
               sapm_stop_reason_string(rep.stop), mpi.calls,
               rep.iters > 0 ? 8e-3 * (double)mpi.doubles / rep.iters : 0.0);
        sapm_heatmap_grid(GRID, GRID, 0, 1, 0, 1, G);
        if (sapm_net_forward(&net, GRID * GRID, G, 2, U, 1) == SAPM_OK) {
            r = sapm_png_heatmap("mpi_poisson.png", GRID, GRID, U, 0.0, 0.0, "u (PINN, MPI)");
            printf("mpi_poisson.png: %s\n", r == SAPM_OK ? "written" : sapm_result_string(r));
        }
    }
    sapm_report_free(&rep);
    sapm_net_destroy(&net);
    MPI_Finalize();
    return 0;
}
