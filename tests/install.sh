#!/usr/bin/env bash
# Install test: make install into a temporary prefix, build tests/consumer/main.c against
# the installed copy through pkg-config and through CMake (find_package(sapm), target
# sapm::sapm), run it, make uninstall; then the same with DESTDIR staging. Prints one line
# per check and "N passed, M failed" last (tests/run.sh runs it like a test binary).
# Run from the repository root. Needs pkg-config and cmake.
set -u
cd "$(dirname "$0")/.."
unset MAKEFLAGS MFLAGS MAKELEVEL          # a make of its own, not a job of the caller's
CC=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sapm-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {   # check NAME COMMAND...: run COMMAND, its output into $tmp/log
    if "${@:2}" >"$tmp/log" 2>&1; then
        echo "ok   $1"; pass=$((pass + 1))
    else
        echo "FAIL $1"; sed 's/^/     /' "$tmp/log" | tail -n 20; fail=$((fail + 1))
    fi
}
installed_files() { (cd "$1" 2>/dev/null && find . -type f | sort); }

p=$tmp/prefix
check "make install PREFIX=..." make -s install PREFIX="$p"
check "installed files" test "$(installed_files "$p" | tr '\n' ' ')" = \
    "./include/sapm.h ./share/cmake/sapm/sapmConfig.cmake ./share/cmake/sapm/sapmConfigVersion.cmake ./share/pkgconfig/sapm.pc "
check "installed header is sapm.h" cmp sapm.h "$p/include/sapm.h"

version=$(sed -n 's/^#define SAPM_VERSION_STRING "\(.*\)"/\1/p' sapm.h)
if command -v pkg-config >/dev/null 2>&1; then
    export PKG_CONFIG_PATH="$p/share/pkgconfig"
    check "pkg-config --modversion sapm = $version" test "$(pkg-config --modversion sapm 2>&1)" = "$version"
    check "pkg-config build" sh -c "$CC -O0 tests/consumer/main.c -o '$tmp/consumer_pc' \$(pkg-config --cflags --libs sapm)"
    check "pkg-config build runs" sh -c "'$tmp/consumer_pc' | grep -q 'consumer ok'"
    unset PKG_CONFIG_PATH
else
    echo "FAIL pkg-config not found (apt-get install pkg-config)"; fail=$((fail + 1))
fi

if command -v cmake >/dev/null 2>&1; then
    check "cmake find_package(sapm 0.1) configure" cmake -S tests/consumer -B "$tmp/cmake" \
        -DCMAKE_PREFIX_PATH="$p" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Debug
    check "cmake build" cmake --build "$tmp/cmake"
    check "cmake build runs" sh -c "'$tmp/cmake/consumer' | grep -q 'consumer ok'"
    check "find_package(sapm 1.0) is refused (major version differs)" sh -c "! cmake -S tests/consumer \
        -B '$tmp/cmake1' -DCMAKE_PREFIX_PATH='$p' -DCMAKE_C_COMPILER='$CC' -DSAPM_WANT_VERSION=1.0"
else
    echo "FAIL cmake not found (apt-get install cmake)"; fail=$((fail + 1))
fi

check "make uninstall removes every installed file" sh -c \
    "make -s uninstall PREFIX='$p' && test -z \"\$(cd '$p' && find . -type f)\""

s=$tmp/stage
check "make install DESTDIR=... PREFIX=/opt/sapm" make -s install DESTDIR="$s" PREFIX=/opt/sapm
check "DESTDIR: files under the stage, sapm.pc names the final prefix" sh -c \
    "test -f '$s/opt/sapm/include/sapm.h' && grep -qx 'prefix=/opt/sapm' '$s/opt/sapm/share/pkgconfig/sapm.pc' &&
     grep -q '\"/opt/sapm/include\"' '$s/opt/sapm/share/cmake/sapm/sapmConfig.cmake'"
check "make uninstall DESTDIR=..." sh -c \
    "make -s uninstall DESTDIR='$s' PREFIX=/opt/sapm && test -z \"\$(cd '$s' && find . -type f)\""

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
