#!/usr/bin/env bash
# Fuzz tests of the two loaders that read files a user may hand in:
#   tests/fuzz_net_load.c    sapm_net_load_mem (model files), seeds in tests/fuzz_corpus/
#   tests/fuzz_checkpoint.c  opt.resume_from (checkpoints), seeds in tests/fuzz_corpus_ckpt/
# Each harness is built with clang -fsanitize=fuzzer,address,undefined and runs for half of
# FUZZ_TIME seconds (default 30 in all) from its seed corpus (new inputs go to
# build/fuzz/corpus_NAME/, a crashing input to build/fuzz/crash-*). Without clang's
# libFuzzer it says so and replays each seed corpus through the harness built by $CC with
# ASan+UBSan instead. Prints "N passed, M failed" last (one test per harness).
# Run from anywhere; make fuzz (FUZZ_TIME=600) and make test (FUZZ_TIME=30) call it.
set -u
cd "$(dirname "$0")/.."
unset MAKEFLAGS MFLAGS MAKELEVEL
CLANG=${CLANG:-clang}
CC=${CC:-cc}
FUZZ_TIME=${FUZZ_TIME:-30}
HARNESSES="fuzz_net_load:tests/fuzz_corpus fuzz_checkpoint:tests/fuzz_corpus_ckpt"
each=$(( (FUZZ_TIME + 1) / 2 ))
out=build/fuzz
mkdir -p "$out"
flags="-std=c99 -g -O1 -I. -fno-omit-frame-pointer"
passed=0
failed=0
if printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){(void)d;(void)n;return 0;}\n' |
   "$CLANG" -x c - -fsanitize=fuzzer -o "$out/probe" >/dev/null 2>&1; then
    for h in $HARNESSES; do
        name=${h%%:*}; seeds=${h#*:}
        mkdir -p "$out/corpus_$name"
        if ! "$CLANG" $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                 "tests/$name.c" -o "$out/$name" -lm; then
            echo "$name: does not build"; failed=$((failed + 1)); continue
        fi
        "$out/$name" -max_total_time="$each" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
            -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus_$name" "$seeds" \
            >"$out/$name.log" 2>&1
        rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log" | tail -n 1)
        if [ "$rc" = 0 ]; then
            echo "$name: ${execs:-?} executions in $each s, 0 crashes (corpus $(ls "$out/corpus_$name" | wc -l) + $(ls "$seeds" | wc -l) seeds)"
            passed=$((passed + 1))
        else
            grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$out/$name.log" | head -n 20
            echo "$name: FAILED (exit $rc) after ${execs:-?} executions; log in $out/$name.log"
            failed=$((failed + 1))
        fi
    done
else
    echo "fuzz: no clang with libFuzzer; replaying the seed corpora instead"
    for h in $HARNESSES; do
        name=${h%%:*}; seeds=${h#*:}
        if "$CC" $flags -fsanitize=address,undefined -fno-sanitize-recover=all -DFUZZ_STANDALONE \
               "tests/$name.c" -o "$out/${name}_replay" -lm &&
           "$out/${name}_replay" "$seeds"/*; then
            passed=$((passed + 1))
        else
            echo "$name: replay FAILED"
            failed=$((failed + 1))
        fi
    done
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
