#!/usr/bin/env bash
# Fuzz test of the in-memory model loader (tests/fuzz_net_load.c): builds the libFuzzer
# harness with clang -fsanitize=fuzzer,address,undefined and runs it for FUZZ_TIME seconds
# (default 30) from the seed corpus tests/fuzz_corpus/ (new inputs go to build/fuzz/corpus/,
# a crashing input to build/fuzz/crash-*). Without clang's libFuzzer it says so and
# replays the seed corpus through the harness built by $CC with ASan+UBSan instead.
# Prints "N passed, M failed" last (tests/run.sh counts it as one test).
# Run from anywhere; make fuzz (FUZZ_TIME=600) and make test (FUZZ_TIME=30) call it.
set -u
cd "$(dirname "$0")/.."
unset MAKEFLAGS MFLAGS MAKELEVEL
CLANG=${CLANG:-clang}
CC=${CC:-cc}
FUZZ_TIME=${FUZZ_TIME:-30}
out=build/fuzz
mkdir -p "$out/corpus"
flags="-std=c99 -g -O1 -I. -fno-omit-frame-pointer"
if printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){(void)d;(void)n;return 0;}\n' |
   "$CLANG" -x c - -fsanitize=fuzzer -o "$out/probe" >/dev/null 2>&1; then
    "$CLANG" $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        tests/fuzz_net_load.c -o "$out/fuzz_net_load" -lm || { echo "0 passed, 1 failed"; exit 1; }
    "$out/fuzz_net_load" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" tests/fuzz_corpus \
        >"$out/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
    if [ "$rc" = 0 ]; then
        echo "fuzz_net_load: ${execs:-?} executions in $FUZZ_TIME s, 0 crashes (corpus $(ls "$out/corpus" | wc -l) + $(ls tests/fuzz_corpus | wc -l) seeds)"
        echo "1 passed, 0 failed"
    else
        grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$out/log" | head -n 20
        echo "fuzz_net_load: FAILED (exit $rc) after ${execs:-?} executions; log in $out/log"
        echo "0 passed, 1 failed"
        exit 1
    fi
else
    echo "fuzz_net_load: skipped (no clang with libFuzzer); replaying the seed corpus instead"
    if "$CC" $flags -fsanitize=address,undefined -fno-sanitize-recover=all -DFUZZ_STANDALONE \
           tests/fuzz_net_load.c -o "$out/fuzz_net_load_replay" -lm &&
       "$out/fuzz_net_load_replay" tests/fuzz_corpus/*; then
        echo "1 passed, 0 failed"
    else
        echo "0 passed, 1 failed"
        exit 1
    fi
fi
