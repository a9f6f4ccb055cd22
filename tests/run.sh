#!/usr/bin/env bash
# Runs every test binary given on the command line (each prints "N passed, M failed"
# as its last line), shows failures, and ends with the summed "N passed, M failed".
# A binary that crashes or prints no summary counts as one failed test.
# An argument written vg:BINARY runs BINARY under valgrind's memcheck (any memcheck error
# fails it); vg:BINARY:A,B passes the arguments A B to it (test_internal's groups).
set -u
VALGRIND=${VALGRIND:-valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite}
total_pass=0
total_fail=0
for arg in "$@"; do
    case "$arg" in
        vg:*:*) spec=${arg#vg:}; bin=${spec%%:*}; IFS=, read -r -a args <<< "${spec#*:}"
                out=$($VALGRIND "$bin" "${args[@]}" 2>&1); rc=$?; bin="valgrind $bin ${args[*]}" ;;
        vg:*) bin=${arg#vg:}; out=$($VALGRIND "$bin" 2>&1); rc=$?; bin="valgrind $bin" ;;
        *)    bin=$arg; out=$("$bin" 2>&1); rc=$? ;;
    esac
    last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$last" ]; then
        printf '%s\n' "$out" | tail -n 20
        echo "CRASH $bin (exit $rc, no summary line)"
        total_fail=$((total_fail + 1))
        continue
    fi
    p=${last%% passed*}
    f=${last#*, }; f=${f%% failed*}
    if [ "$f" != 0 ] || [ "$rc" != 0 ]; then
        printf '%s\n' "$out" | grep -E 'FAIL|ERROR|Sanitizer|runtime error|==[0-9]+==' | head -n 40
        [ "$f" = 0 ] && f=1
    fi
    printf '%-40s %s\n' "$bin" "$last"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done
echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" = 0 ]
