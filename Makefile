# sapm.h - build the examples, run the tests, run the benchmarks.
#
#   make            build every example into build/examples/
#   make demo       build and run the main example (sin(x^2) regression: LS vs PM vs SAPM,
#                   one start, then 10 starts at equal iterations and equal time);
#                   installs libstb-dev for the PNGs when root (APT=no: only say how)
#   make test       build the tests in every configuration and run them (with 30 s of
#                   fuzzing when clang has libFuzzer)
#   make fuzz       fuzz the model and checkpoint loaders for FUZZ_TIME seconds in all
#                   (default 600; clang libFuzzer)
#   make bench      build and run the benchmarks (OpenBLAS/LAPACKE/PyTorch peers when found)
#   make docs       regenerate the README's pictures under docs/
#   make mpi        build examples/mpi_poisson.c with mpicc (Open MPI: libopenmpi-dev)
#   make bench-mpi  data-parallel cost, memory and communication against N on 1 and 2 ranks
#   make install    PREFIX=/usr/local DESTDIR=: sapm.h, sapm.pc, CMake config (sapm::sapm)
#   make uninstall  the same variables: removes exactly those files
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

# (the MPI example builds with mpicc: make mpi)
EXAMPLES := $(patsubst examples/%.c,build/examples/%,$(filter-out examples/mpi_%.c,$(wildcard examples/*.c)))
TESTSRC  := $(wildcard tests/test_*.c)
TESTNAMES:= $(patsubst tests/%.c,%,$(TESTSRC))
# tests of the public API only (linked against the configuration's sapm_impl.o)
PUBLIC_TESTS := test_activations test_engine test_checkpoint test_options test_pde_robust
# tests of the internals: compiled into sapm_impl.o with the implementation, run by
# test_internal (tests/sapm_impl.c lists the groups)
UNITY_TESTS  := test_smoke test_kernels test_net test_ls test_sapm test_pde test_lysep test_pde_bc
UNITY_SRC    := $(addprefix tests/,$(addsuffix .c,$(UNITY_TESTS)))
# the rest set configuration macros of their own (SAPM_NO_PNG, SAPM_NO_STDIO, ...) and
# build alone
OWN_TESTS    := $(filter-out $(PUBLIC_TESTS) $(UNITY_TESTS) test_internal,$(TESTNAMES))
TESTBINNAMES := $(PUBLIC_TESTS) test_internal $(OWN_TESTS)
BENCHES  := $(patsubst bench/%.c,build/bench/%,$(filter-out bench/bench_mpi.c,$(wildcard bench/*.c)))

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
# low-level tests: test_internal's groups smoke, kernels and net, and the binaries below;
# the training tests run under ASan+UBSan instead (valgrind is ~50x slower).
VALGRIND_TESTS  := test_activations test_config test_output
VALGRIND_GROUPS := smoke,kernels,net
HAVE_VALGRIND   := $(shell command -v valgrind >/dev/null 2>&1 && echo 1)
ifeq ($(HAVE_VALGRIND)$(HAVE_AVX2),11)
VGRUNS := vg:build/test/avx2/test_internal:$(VALGRIND_GROUPS) \
          $(addprefix vg:build/test/avx2/,$(filter $(VALGRIND_TESTS),$(TESTNAMES)))
endif

# OpenBLAS + LAPACKE for the kernel benchmark's peer column (never linked by the library).
# (HASH: GNU make 4.3 keeps the backslash of \# inside $(shell ...), so printf got "\#include")
HASH := \#
BLAS_FLAGS := $(shell printf '$(HASH)include <cblas.h>\n$(HASH)include <lapacke.h>\nint main(void){return 0;}\n' | \
    $(CC) -x c - -o /dev/null -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -llapacke 2>/dev/null && \
    echo "-DSAPM_BENCH_OPENBLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -llapacke")

.PHONY: all test bench bench-mpi clean examples demo docs install uninstall mpi fuzz fuzz-seeds FORCE
all: examples
examples: $(EXAMPLES)

# Whether the compiler finds stb_image_write: rewritten only when that changes, so the
# examples are rebuilt with PNG output once libstb-dev is installed.
build/stb.state: FORCE
	@mkdir -p build
	@sh tools/stb.sh "$(CC)" state > $@.new; cmp -s $@.new $@ || mv $@.new $@; rm -f $@.new

# The demo writes its pictures and CSV into build/demo/.
demo:
	@sh tools/stb.sh "$(CC)" install
	@$(MAKE) --no-print-directory build/examples/sin_regression
	@mkdir -p build/demo
	@t0=$$(date +%s); ./build/examples/sin_regression --out build/demo/sin_regression || exit 1; \
	 t1=$$(date +%s); echo; echo "demo: the example ran $$((t1 - t0)) s"; \
	 if ls build/demo/*.png >/dev/null 2>&1; then echo "pictures:"; ls -1 "$$PWD"/build/demo/*.png; \
	 else echo "no pictures (stb_image_write not found: sudo apt-get install libstb-dev)"; fi

# The README's pictures: the main example's MSE curves and a transport heatmap triptych,
# regenerated in build/docs/ and copied to docs/ with their image data recompressed at zlib
# level 9 (tools/png_shrink.py, lossless) to keep each file small.
DOCS_TRANSPORT = PINN-LBFGS
docs: build/examples/sin_regression build/examples/transport
	@sh tools/stb.sh "$(CC)" state | grep -q yes || { echo "make docs needs stb_image_write (libstb-dev)"; exit 1; }
	@mkdir -p build/docs docs
	./build/examples/sin_regression --starts 0 --out build/docs/sin_regression
	cd build/docs && ../examples/transport --time 6
	$(PYTHON) tools/png_shrink.py build/docs/sin_regression_mse.png docs/sin_regression_mse.png
	$(PYTHON) tools/png_shrink.py build/docs/sin_regression_losses.png docs/sin_regression_losses.png
	$(PYTHON) tools/png_shrink.py build/docs/transport_$(DOCS_TRANSPORT).png docs/transport_heatmaps.png
	@ls -l docs/*.png

build/examples/%: examples/%.c examples/pde_util.h sapm.h build/stb.state
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(WARN) $< -o $@ -lm

# Each configuration compiles the implementation once into sapm_impl.o, together with the
# tests of the internals (they call its static functions) and the tests' allocator;
# test_internal and the tests of the public API link against it, and the tests that set
# configuration macros of their own (SAPM_NO_PNG, SAPM_NO_STDIO, ...) build alone.
# (-x none: in the C++ configurations the object is not a source file.)
define TEST_RULE
build/test/$(1)/sapm_impl.o: tests/sapm_impl.c $(UNITY_SRC) sapm.h tests/sapm_test.h tests/sapm_test_alloc.h
	@mkdir -p $$(dir $$@)
	$$(CFG_$(1)) -I. -Itests -c $$< -o $$@
$(addprefix build/test/$(1)/,$(PUBLIC_TESTS) test_internal): build/test/$(1)/%: tests/%.c build/test/$(1)/sapm_impl.o tests/sapm_test.h
	@mkdir -p $$(dir $$@)
	$$(CFG_$(1)) -I. -Itests $$< -x none build/test/$(1)/sapm_impl.o -o $$@ -lm
build/test/$(1)/%: tests/%.c sapm.h tests/sapm_test.h
	@mkdir -p $$(dir $$@)
	$$(CFG_$(1)) -I. -Itests $$< -o $$@ -lm
endef
$(foreach c,$(CONFIGS),$(eval $(call TEST_RULE,$(c))))

# tests/install.sh: make install into a temporary prefix, a consumer built through
# pkg-config and CMake, make uninstall (needs pkg-config and cmake);
# tests/mpi.sh: data-parallel runs on 1, 2 and 3 MPI ranks against the serial run (skipped
# without mpicc and mpirun);
# tests/fuzz.sh: libFuzzer on sapm_net_load_mem (tests/fuzz_net_load.c, seeds in
# tests/fuzz_corpus/) and on checkpoints given to opt.resume_from (tests/fuzz_checkpoint.c,
# seeds in tests/fuzz_corpus_ckpt/), FUZZ_TEST_TIME seconds in all (no libFuzzer: the
# corpora are replayed)
FUZZ_TIME      ?= 600
FUZZ_TEST_TIME ?= 30
test: $(TESTBINS)
	@OMP_NUM_THREADS=3 FUZZ_TIME=$(FUZZ_TEST_TIME) CLANG=$(CLANG) CC=$(GCC) bash tests/run.sh $(TESTBINS) $(VGRUNS) tests/install.sh tests/mpi.sh tests/fuzz.sh

fuzz:
	@FUZZ_TIME=$(FUZZ_TIME) CLANG=$(CLANG) CC=$(GCC) bash tests/fuzz.sh

# the seed corpora: valid model files of several shapes and every activation; a checkpoint
# of every optimizer state (GD, Adam, L-BFGS, LM, SAPM, Adam -> L-BFGS)
fuzz-seeds:
	@mkdir -p build/fuzz tests/fuzz_corpus tests/fuzz_corpus_ckpt
	$(GCC) -std=c99 $(WARN) -O1 -DFUZZ_WRITE_SEEDS -I. tests/fuzz_net_load.c -o build/fuzz/write_seeds -lm
	./build/fuzz/write_seeds tests/fuzz_corpus
	$(GCC) -std=c99 $(WARN) -O1 -DFUZZ_WRITE_SEEDS -I. tests/fuzz_checkpoint.c -o build/fuzz/write_ckpt_seeds -lm
	./build/fuzz/write_ckpt_seeds tests/fuzz_corpus_ckpt

MPICC ?= mpicc
MPIRUN = OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe
mpi: build/examples/mpi_poisson
# cost per iteration, memory and all-reduce payload against N, on 1 and 2 ranks
bench-mpi: build/bench/bench_mpi
	$(MPIRUN) -np 1 build/bench/bench_mpi $(BENCH_MPI_ARGS)
	$(MPIRUN) -np 2 build/bench/bench_mpi $(BENCH_MPI_ARGS)
build/bench/bench_mpi: bench/bench_mpi.c bench/bench_util.h sapm.h
	@mkdir -p $(dir $@)
	$(MPICC) -O3 -march=native $(WARN) $< -o $@ -lm
build/examples/mpi_poisson: examples/mpi_poisson.c sapm.h build/stb.state
	@mkdir -p $(dir $@)
	$(MPICC) $(OPT) $(WARN) $< -o $@ -lm

build/bench/%: bench/%.c bench/bench_util.h sapm.h
	@mkdir -p $(dir $@)
	$(CC) -O3 -march=native $(WARN) $< -o $@ $(BLAS_FLAGS) -lm

build/bench/bench_lysep: bench/bench_util.h

# the PDE benchmarks are built threaded (OpenMP); OMP_NUM_THREADS=1 make bench measures one
# core. bench_pde runs its PyTorch peer (bench/pde_torch.py) itself, on its own points.
build/bench/bench_pde build/bench/bench_pde_suite: build/bench/%: bench/%.c bench/bench_util.h sapm.h
	@mkdir -p $(dir $@)
	$(CC) -O3 -march=native -fopenmp $(WARN) $< -o $@ -lm

# the PDE suite's arguments in make bench (its own default: 60 s per run, ~20 minutes)
SUITE_ARGS ?= --quick
bench: $(BENCHES)
	@for b in $(filter-out build/bench/bench_pde_suite,$(BENCHES)); do echo "== $$b"; OPENBLAS_NUM_THREADS=1 $$b || exit 1; done
	@echo "== build/bench/bench_pde_suite $(SUITE_ARGS)"; build/bench/bench_pde_suite $(SUITE_ARGS)
	@for s in $(filter-out bench/pde_torch.py,$(wildcard bench/*.py)); do echo "== $$s"; $(PYTHON) $$s || exit 1; done

# Install: the header, a pkg-config file and a CMake package config (find_package(sapm)
# gives the INTERFACE target sapm::sapm). DESTDIR stages the files; the paths written into
# sapm.pc and sapmConfig.cmake are the final ones (PREFIX, INCLUDEDIR).
PREFIX       ?= /usr/local
INCLUDEDIR   ?= $(PREFIX)/include
DATADIR      ?= $(PREFIX)/share
PKGCONFIGDIR ?= $(DATADIR)/pkgconfig
CMAKEDIR     ?= $(DATADIR)/cmake/sapm
INSTALL      ?= install
VERSION      := $(shell sed -n 's/^$(HASH)define SAPM_VERSION_STRING "\(.*\)"/\1/p' sapm.h)
# sapm.pc says includedir=${prefix}/include when that is where the header goes
PC_INCLUDEDIR = $(if $(filter $(PREFIX)/include,$(INCLUDEDIR)),$${prefix}/include,$(INCLUDEDIR))
PKG_FILES    := build/pkg/sapm.pc build/pkg/sapmConfig.cmake build/pkg/sapmConfigVersion.cmake

build/pkg/%: packaging/%.in sapm.h FORCE
	@mkdir -p $(dir $@)
	@sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@PC_INCLUDEDIR@|$(PC_INCLUDEDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	     -e 's|@VERSION@|$(VERSION)|g' -e 's|@VERSION_MAJOR@|$(firstword $(subst ., ,$(VERSION)))|g' $< > $@

install: $(PKG_FILES)
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR)
	$(INSTALL) -m 644 sapm.h $(DESTDIR)$(INCLUDEDIR)/sapm.h
	$(INSTALL) -m 644 build/pkg/sapm.pc $(DESTDIR)$(PKGCONFIGDIR)/sapm.pc
	$(INSTALL) -m 644 build/pkg/sapmConfig.cmake build/pkg/sapmConfigVersion.cmake $(DESTDIR)$(CMAKEDIR)/

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/sapm.h $(DESTDIR)$(PKGCONFIGDIR)/sapm.pc \
	      $(DESTDIR)$(CMAKEDIR)/sapmConfig.cmake $(DESTDIR)$(CMAKEDIR)/sapmConfigVersion.cmake
	@rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null || true

clean:
	rm -rf build
