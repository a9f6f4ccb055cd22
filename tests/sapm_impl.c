/* The implementation, compiled once per test configuration; the tests that use only the
 * public API link against it. */
#define SAPM_IMPLEMENTATION
#include "sapm.h"
