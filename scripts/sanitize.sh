#!/usr/bin/env bash
# Fuzz the C core (csrc/*.c) under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/sanitize.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds csrc/*.c with the fuzz targets of tests/c/fuzz_targets.c (every
# decoder: zstd, blosc, gzip, crc32c, numcodecs zlib and lz4 and chains of them with transpose and
# byte swaps; the shard index parser; shard read tasks from memory and from a
# file, with shared decoding; partial writes over corrupt chunks; downsampling;
# crc32c) and runs each target for SECONDS_PER_TARGET (default 60, or
# $OZF_SANITIZE_SECONDS).  With clang's libFuzzer (Debian: apt-get install
# clang) the targets are coverage-guided; otherwise a deterministic random-input
# driver (tests/c/fuzz_random.c) runs them.  Not part of the default test run.
#
# Environment: OZF_SANITIZE_CC (compiler; clang when installed, else cc),
# OZF_SANITIZE_ENGINE (libfuzzer | random), OZF_SANITIZE_OUT (build directory,
# default build/sanitize), PKG_CONFIG_PATH (as for the extension's build).
#
# Exit status 0 when no target reported anything; 1 otherwise.  Each target's
# report is OUT/TARGET.log; inputs that failed are OUT/TARGET-crash-* (libFuzzer)
# or OUT/fuzz-crash-TARGET.bin (random), replayed with
#   OZF_FUZZ_TARGET=TARGET OUT/fuzz_libfuzzer FILE   or   OUT/fuzz_random TARGET -replay FILE
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER=${1:-${OZF_SANITIZE_SECONDS:-60}}
[ "$#" -gt 0 ] && shift
OUT=${OZF_SANITIZE_OUT:-build/sanitize}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ALL_TARGETS=(chain_decode bb_decode shard_index shard_read write downsample crc32c)
TARGETS=("${@:-${ALL_TARGETS[@]}}")

if [ -z "${OZF_SANITIZE_CC:-}" ]; then
    if command -v clang >/dev/null; then OZF_SANITIZE_CC=clang; else OZF_SANITIZE_CC=cc; fi
fi
CC=$OZF_SANITIZE_CC
# A newer libzstd that run.sh unpacked, as for the extension's in-place build.
if [ -d .venv/opt/libzstd/lib/pkgconfig ]; then
    export PKG_CONFIG_PATH=$PWD/.venv/opt/libzstd/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
fi
read -r -a LIB_CFLAGS <<<"$(pkg-config --cflags libzstd blosc libdeflate liblz4)"
read -r -a LIBS <<<"$(pkg-config --libs libzstd blosc libdeflate liblz4)"
for flag in "${LIBS[@]}"; do
    case $flag in -L*) LIBS+=("-Wl,-rpath,${flag#-L}") ;; esac
done
CFLAGS=(-std=gnu11 -g -O1 -fno-omit-frame-pointer -Wall -Wno-unused-function
        -fsanitize=address,undefined -fno-sanitize-recover=all -pthread -Icsrc -Itests/c "${LIB_CFLAGS[@]}")
# csrc/downsample_fast.c uses GCC's __builtin_shuffle; clang gets it from here.
if "$CC" --version | grep -q clang; then CFLAGS+=(-include tests/c/clang_compat.h); fi

if [ -z "${OZF_SANITIZE_ENGINE:-}" ]; then
    OZF_SANITIZE_ENGINE=random
    if printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' |
        "$CC" -fsanitize=fuzzer,address -x c - -o "$OUT/probe" >/dev/null 2>&1; then
        OZF_SANITIZE_ENGINE=libfuzzer
    fi
    rm -f "$OUT/probe"
fi

echo "sanitize: $("$CC" --version | head -1); engine $OZF_SANITIZE_ENGINE; ${SECONDS_PER}s per target; output $OUT"
SOURCES=(csrc/*.c tests/c/fuzz_targets.c)
if [ "$OZF_SANITIZE_ENGINE" = libfuzzer ]; then
    EXE=$OUT/fuzz_libfuzzer
    "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer "${SOURCES[@]}" tests/c/fuzz_libfuzzer.c "${LIBS[@]}" -o "$EXE"
else
    EXE=$OUT/fuzz_random
    "$CC" "${CFLAGS[@]}" "${SOURCES[@]}" tests/c/fuzz_random.c "${LIBS[@]}" -o "$EXE"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for t in "${TARGETS[@]}"; do
    log=$OUT/$t.log
    rm -f "$OUT/$t"-crash-* "$OUT/$t"-leak-* "$OUT/$t"-oom-* "$OUT/$t"-timeout-* "$OUT/fuzz-crash-$t.bin"
    start=$(date +%s)
    if [ "$OZF_SANITIZE_ENGINE" = libfuzzer ]; then
        mkdir -p "$OUT/corpus-$t"
        # Fork mode goes on after a report, so one known failure does not hide
        # the next; every failing input is kept as OUT/TARGET-crash-*.
        (cd "$OUT" && OZF_FUZZ_TARGET=$t "$EXE" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
            -max_total_time="$SECONDS_PER" -timeout=30 -rss_limit_mb=2048 -max_len=4096 \
            -artifact_prefix="$OUT/$t-" "corpus-$t" >"$log" 2>&1) || true
        runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
        found=$(find "$OUT" -maxdepth 1 -name "$t-*" \( -name "$t-crash-*" -o -name "$t-leak-*" -o -name "$t-oom-*" \
                -o -name "$t-timeout-*" \) | wc -l)
        summary="${runs:-?} inputs, $(grep -o 'cov: [0-9]*' "$log" | tail -1 || true) edges"
    else
        (cd "$OUT" && "$EXE" "$t" "$SECONDS_PER" >"$log" 2>&1) && found=0 || found=1
        summary=$(grep -o '[0-9]* random inputs' "$log" || echo "stopped")
    fi
    if [ "$OZF_SANITIZE_ENGINE" = libfuzzer ] && [ "$found" -gt 0 ]; then
        # Fork mode keeps each report in a child's log: replay the inputs for them.
        for f in $(find "$OUT" -maxdepth 1 -name "$t-*" \( -name "$t-crash-*" -o -name "$t-leak-*" \) | head -50); do
            { OZF_FUZZ_TARGET=$t "$EXE" "$f" 2>&1 || true; } \
                | { grep -E -m 1 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|OZF-FUZZ:' || true; } \
                | sed "s|\$| [$(basename "$f")]|" >>"$log"
        done
    fi
    reports=$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|OZF-FUZZ:' "$log" || true)
    if [ "$found" -gt 0 ] || [ "$reports" -gt 0 ]; then
        failed=1
        printf '%-13s FAILED  %3ss  %s failing inputs, %s reports (%s): see %s\n' "$t" "$(( $(date +%s) - start ))" \
            "$found" "$reports" "$summary" "$log"
        { grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|OZF-FUZZ:' "$log" || true; } \
            | sed -E 's/ \[[^]]*\]$//; s/byte [0-9]+/byte N/; s/[0-9]+ then [0-9]+/N then M/' | sort | uniq -c | sed 's/^/      /'
    else
        printf '%-13s ok      %3ss  (%s)\n' "$t" "$(( $(date +%s) - start ))" "$summary"
    fi
done
exit $failed
