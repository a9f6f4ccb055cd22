/* The tests of the library's internals: the groups live in sapm_impl.o (tests/sapm_impl.c),
 * next to the implementation whose static functions they test.
 *   test_internal                 every group
 *   test_internal kernels net     only those groups (smoke kernels net ls sapm pde lysep pdebc) */
#ifdef __cplusplus
extern "C" int sapm_test_internal_main(int argc, char **argv);
#else
int sapm_test_internal_main(int argc, char **argv);
#endif

int main(int argc, char **argv) { return sapm_test_internal_main(argc, argv); }
