# sapm.h - build the examples, run the tests, run the benchmarks.
#
#   make            build every example into build/examples/
#   make demo       build and run the main example (sin(x^2) regression: LS vs PM vs SAPM)
#   make test       build the tests in every configuration and run them
#   make bench      build and run the benchmarks (OpenBLAS/LAPACKE/PyTorch peers when found)
#   make clean
#
# Any example also builds by hand:  cc -O2 -march=native examples/NAME.c -o NAME -lm

CC      ?= cc
CXX     ?= c++
GCC     ?= gcc
CLANG   ?= clang
GXX     ?= g++
CLANGXX ?= clang++
PYTHON  ?= /usr/bin/python3

OPT      = -O2 -march=native
WARN     = -Wall -Wextra -Werror
C99      = -std=c99 $(WARN) -pedantic
CXX11    = -std=c++11 $(WARN)
SAN      = -O1 -g -march=native -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

EXAMPLES := $(patsubst examples/%.c,build/examples/%,$(wildcard examples/*.c))
TESTSRC  := $(wildcard tests/test_*.c)
TESTNAMES:= $(patsubst tests/%.c,%,$(TESTSRC))
# tests of the public API only (linked against the configuration's sapm_impl.o)
PUBLIC_TESTS := test_kernels test_activations test_engine
# tests of the internals, built together as test_internal
UNITY_TESTS  := test_smoke test_net test_ls test_sapm test_pde test_lysep
UNITY_SRC    := $(addprefix tests/,$(addsuffix .c,$(UNITY_TESTS)))
# the rest set configuration macros of their own and build alone
OWN_TESTS    := $(filter-out $(PUBLIC_TESTS) $(UNITY_TESTS) test_internal,$(TESTNAMES))
TESTBINNAMES := $(PUBLIC_TESTS) test_internal $(OWN_TESTS)
BENCHES  := $(patsubst bench/%.c,build/bench/%,$(wildcard bench/*.c))

# Which SIMD paths this machine can run (the scalar path always runs).
HAVE_AVX2   := $(shell grep -q -w avx2 /proc/cpuinfo 2>/dev/null && grep -q -w fma /proc/cpuinfo && echo 1)
HAVE_AVX512 := $(shell grep -q -w avx512f /proc/cpuinfo 2>/dev/null && echo 1)

# Test configurations: name:compiler:flags. Each builds every test (see TEST_RULE).
CONFIGS  = native openmp scalar c99-clang cxx-gcc cxx-clang asan
ifeq ($(HAVE_AVX2),1)
CONFIGS += avx2
endif
ifeq ($(HAVE_AVX512),1)
CONFIGS += avx512
endif

CFG_native    = $(GCC) $(C99) $(OPT)
# openmp: threaded, with the work threshold at 1 so that even the tests' tiny problems are
# spread over threads (run with OMP_NUM_THREADS=3: uneven shares on a 2-core machine)
CFG_openmp    = $(GCC) $(C99) $(OPT) -fopenmp -DSAPM__PAR_MIN_WORK=1.0
CFG_scalar    = $(GCC) $(C99) -O2 -DSAPM_NO_SIMD
CFG_avx2      = $(GCC) $(C99) -O2 -mavx2 -mfma
CFG_avx512    = $(GCC) $(C99) -O2 -mavx2 -mfma -mavx512f
CFG_c99-clang = $(CLANG) $(C99) $(OPT)
CFG_cxx-gcc   = $(GXX) -x c++ $(CXX11) $(OPT)
CFG_cxx-clang = $(CLANGXX) -x c++ $(CXX11) -Wno-deprecated $(OPT)
CFG_asan      = $(GCC) -std=c99 $(WARN) $(SAN)

TESTBINS := $(foreach c,$(CONFIGS),$(addprefix build/test/$(c)/,$(TESTBINNAMES)))

# valgrind memcheck runs the AVX2 build (valgrind 3.19 cannot decode AVX-512) of the
# low-level tests; the training tests run under ASan+UBSan instead (valgrind is ~50x slower).
# (test_smoke and test_net are built alone for this from their own files.)
VALGRIND_TESTS := test_smoke test_kernels test_activations test_config test_net test_output
HAVE_VALGRIND  := $(shell command -v valgrind >/dev/null 2>&1 && echo 1)
ifeq ($(HAVE_VALGRIND)$(HAVE_AVX2),11)
VGBINS := $(addprefix build/test/avx2/,$(filter $(VALGRIND_TESTS),$(TESTNAMES)))
VGRUNS := $(addprefix vg:,$(VGBINS))
endif

# OpenBLAS + LAPACKE for the kernel benchmark's peer column (never linked by the library).
# (HASH: GNU make 4.3 keeps the backslash of \# inside $(shell ...), so printf got "\#include")
HASH := \#
BLAS_FLAGS := $(shell printf '$(HASH)include <cblas.h>\n$(HASH)include <lapacke.h>\nint main(void){return 0;}\n' | \
    $(CC) -x c - -o /dev/null -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -llapacke 2>/dev/null && \
    echo "-DSAPM_BENCH_OPENBLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -llapacke")

.PHONY: all test bench clean examples demo
all: examples
examples: $(EXAMPLES)

demo: build/examples/sin_regression
	./build/examples/sin_regression

build/examples/%: examples/%.c sapm.h
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(WARN) $< -o $@ -lm

# Each configuration compiles the implementation once into sapm_impl.o; the tests of the
# public API link against it, the tests of the internals share one translation unit
# (tests/test_internal.c includes them after one copy of the implementation), and the
# tests that set configuration macros of their own (allocators, SAPM_NO_PNG, ...) build
# alone. (-x none: in the C++ configurations the object is not a source file.)
define TEST_RULE
build/test/$(1)/sapm_impl.o: tests/sapm_impl.c sapm.h
	@mkdir -p $$(dir $$@)
	$$(CFG_$(1)) -I. -c $$< -o $$@
build/test/$(1)/test_internal: tests/test_internal.c $(UNITY_SRC) sapm.h tests/sapm_test.h
	@mkdir -p $$(dir $$@)
	$$(CFG_$(1)) -I. -Itests $$< -o $$@ -lm
$(addprefix build/test/$(1)/,$(PUBLIC_TESTS)): build/test/$(1)/%: tests/%.c build/test/$(1)/sapm_impl.o tests/sapm_test.h
	@mkdir -p $$(dir $$@)
	$$(CFG_$(1)) -I. -Itests $$< -x none build/test/$(1)/sapm_impl.o -o $$@ -lm
build/test/$(1)/%: tests/%.c sapm.h tests/sapm_test.h
	@mkdir -p $$(dir $$@)
	$$(CFG_$(1)) -I. -Itests $$< -o $$@ -lm
endef
$(foreach c,$(CONFIGS),$(eval $(call TEST_RULE,$(c))))

test: $(TESTBINS) $(VGBINS)
	@OMP_NUM_THREADS=3 bash tests/run.sh $(TESTBINS) $(VGRUNS)

build/bench/%: bench/%.c sapm.h
	@mkdir -p $(dir $@)
	$(CC) -O3 -march=native $(WARN) $< -o $@ $(BLAS_FLAGS) -lm

build/bench/bench_lysep: examples/pde_util.h

# the PDE benchmark is built threaded (OpenMP); OMP_NUM_THREADS=1 make bench measures one core
build/bench/bench_pde: bench/bench_pde.c examples/pde_util.h sapm.h
	@mkdir -p $(dir $@)
	$(CC) -O3 -march=native -fopenmp $(WARN) $< -o $@ -lm

bench: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; OPENBLAS_NUM_THREADS=1 $$b || exit 1; done
	@for s in bench/*.py; do [ -f "$$s" ] || continue; echo "== $$s"; $(PYTHON) $$s || exit 1; done

clean:
	rm -rf build
