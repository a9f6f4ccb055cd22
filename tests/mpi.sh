#!/usr/bin/env bash
# The MPI equivalence test (tests/mpi_equivalence.c) on 1, 2 and 3 ranks. Skipped with a
# message, counting nothing, when mpicc or mpirun is missing. Ends with the summed
# "N passed, M failed" like every test binary (tests/run.sh adds it up).
# Usage: tests/mpi.sh BUILD_DIR
set -u
out=${1:-build/test/mpi}
if ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; then
    echo "mpi: skipped (no mpicc/mpirun; Debian: apt-get install libopenmpi-dev openmpi-bin)"
    echo "0 passed, 0 failed"
    exit 0
fi
mkdir -p "$out"
if ! mpicc -std=c99 -O2 -Wall -Wextra -Werror -I. -Itests tests/mpi_equivalence.c \
        -o "$out/mpi_equivalence" -lm; then
    echo "mpi: build failed"
    echo "0 passed, 1 failed"
    exit 1
fi
# Open MPI refuses root unless told; --oversubscribe lets 3 ranks run on 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
pass=0; fail=0
for np in 1 2 3; do
    res=$(timeout 300 mpirun --oversubscribe -np "$np" "$out/mpi_equivalence" 2>&1)
    rc=$?
    last=$(printf '%s\n' "$res" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$last" ] || [ "$rc" != 0 ]; then
        printf '%s\n' "$res" | tail -n 30
        echo "mpi -np $np: FAILED (exit $rc)"
        p=${last%% passed*}; f=${last#*, }; f=${f%% failed*}
        [ -z "$last" ] && { p=0; f=1; }
        [ "$f" = 0 ] && f=1
    else
        p=${last%% passed*}; f=${last#*, }; f=${f%% failed*}
        echo "mpi -np $np: $last"
    fi
    pass=$((pass + p)); fail=$((fail + f))
done
echo "${pass} passed, ${fail} failed"
[ "$fail" = 0 ]
