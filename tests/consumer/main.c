/* A project that uses an installed sapm.h (tests/install.sh builds it through pkg-config
 * and through CMake's find_package(sapm)). */
#define SAPM_IMPLEMENTATION
#include <sapm.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    if (strcmp(sapm_result_string(SAPM_OK), sapm_result_string(SAPM_ERR_OUT_OF_MEMORY)) == 0)
        return 1;
    printf("sapm %s consumer ok (%s)\n", SAPM_VERSION_STRING, sapm_simd_path());
    return 0;
}
