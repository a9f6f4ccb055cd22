/* The tests of the library's internals (the optimizers' phases, the
 * PM/SAPM and SAPM-PINN/LySep blocks) in one translation unit with one copy of the
 * implementation: each file below also builds on its own (cc ... tests/test_ls.c). */
#define SAPM_IMPLEMENTATION
#include "sapm.h"
#include "sapm_test.h"
#define SAPM_TEST_UNITY 1
#include "test_smoke.c"
#include "test_ls.c"
#include "test_sapm.c"
#include "test_pde.c"
#include "test_lysep.c"

int main(void)
{
    run_smoke_tests();
    run_ls_tests();
    run_sapm_tests();
    run_pde_tests();
    run_lysep_tests();
    return sapm_test_summary();
}
