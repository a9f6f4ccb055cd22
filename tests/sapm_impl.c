/* The implementation, compiled once per test configuration into sapm_impl.o, with the
 * tests' allocator and the tests of the library's internals (kernels, tape, optimizer
 * phases, PM/SAPM and SAPM-PINN/LySep blocks), which need the implementation's static
 * functions and so share its translation unit. Every test binary links against this
 * object: test_internal runs the groups below, the tests of the public API (test_engine,
 * test_activations) only call the library. Each group's file also builds on its own
 * (cc ... tests/test_ls.c). */
#include "sapm_test_alloc.h"
#define SAPM_IMPLEMENTATION
#include "sapm.h"
#include "sapm_test.h"
#define SAPM_TEST_UNITY 1
#include "test_smoke.c"
#include "test_kernels.c"
#include "test_net.c"
#include "test_ls.c"
#include "test_sapm.c"
#include "test_pde.c"
#include "test_lysep.c"
#include "test_pde_bc.c"

#ifdef __cplusplus
extern "C" int sapm_test_internal_main(int argc, char **argv);
#else
int sapm_test_internal_main(int argc, char **argv);
#endif

/* Runs the groups named on the command line (all of them without arguments) and prints
 * the harness's "N passed, M failed". */
int sapm_test_internal_main(int argc, char **argv)
{
    static const struct { const char *name; void (*run)(void); } groups[] = {
        {"smoke", run_smoke_tests}, {"kernels", run_kernels_tests}, {"net", run_net_tests},
        {"ls", run_ls_tests},       {"sapm", run_sapm_tests},       {"pde", run_pde_tests},
        {"lysep", run_lysep_tests}, {"pdebc", run_pde_bc_tests}};
    const int n_groups = (int)(sizeof groups / sizeof groups[0]);
    int a, g;
    for (a = 1; a < argc; ++a) {
        for (g = 0; g < n_groups && strcmp(argv[a], groups[g].name) != 0; ++g) {}
        if (g == n_groups) {
            fprintf(stderr, "test_internal: no test group '%s' (groups:", argv[a]);
            for (g = 0; g < n_groups; ++g) fprintf(stderr, " %s", groups[g].name);
            fprintf(stderr, ")\n");
            return 2;
        }
    }
    for (g = 0; g < n_groups; ++g) {
        int run = argc <= 1;
        for (a = 1; a < argc; ++a) run |= strcmp(argv[a], groups[g].name) == 0;
        if (run) groups[g].run();
    }
    return sapm_test_summary();
}
