#!/bin/sh
# Checks that csrc/*.c and csrc/*.h follow .clang-format (exit 1 and the files
# that differ if not).  Without clang-format installed it says so and exits 0,
# so machines without it can still run the other checks.
# Fix with: clang-format -i csrc/*.c csrc/*.h
cd "$(dirname "$0")/.." || exit 1
CF=${CLANG_FORMAT:-clang-format}
if ! command -v "$CF" >/dev/null 2>&1; then
    echo "clang_format_check: $CF not found; skipped (Debian: apt-get install clang-format)"
    exit 0
fi
bad=0
for f in csrc/*.c csrc/*.h; do
    if ! "$CF" --style=file "$f" | cmp -s - "$f"; then
        echo "clang_format_check: $f is not formatted (clang-format -i $f)"
        bad=1
    fi
done
[ "$bad" = 0 ] && echo "clang_format_check: csrc is formatted ($("$CF" --version))"
exit "$bad"
