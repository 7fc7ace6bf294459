#!/usr/bin/env bash
# Quick start for omezarr_fast.
#   ./run.sh demo          set everything up, then run the demo
#   ./run.sh test [ARGS]   set everything up, then run the whole test suite
#   ./run.sh setup         only set up (.venv with the package and test tools)
# Set-up is idempotent: system libraries are installed with apt only when
# missing, the virtual environment is created once, the package is rebuilt.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES="pkg-config libzstd-dev libblosc-dev libdeflate-dev"

log() { printf '[run.sh] %s\n' "$*" >&2; }

install_system_libs() {
    if command -v pkg-config >/dev/null && pkg-config --exists libzstd blosc libdeflate; then
        return
    fi
    command -v apt-get >/dev/null || { log "install $APT_PACKAGES with your package manager"; exit 1; }
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing system libraries: $APT_PACKAGES"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $APT_PACKAGES >/dev/null
}

# A Python >= 3.12: pyenv's (as .python-version asks), else one on PATH.
find_python() {
    local candidates=()
    if command -v pyenv >/dev/null; then
        candidates+=("$(pyenv which python 2>/dev/null || true)")
    fi
    candidates+=(python3.14 python3.13 python3.12 python3)
    candidates+=("$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3)
    for py in "${candidates[@]}"; do
        [ -n "$py" ] || continue
        if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$py"
            return
        fi
    done
    log "omezarr_fast needs Python >= 3.12 (zarr 3.4 does); install it (e.g. with pyenv) and retry"
    exit 1
}

setup() {
    install_system_libs
    if ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        rm -rf .venv
        local py
        py="$(find_python)"
        log "creating .venv with $py"
        "$py" -m venv .venv
    fi
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q "setuptools>=77" wheel "cython>=3.0" -r requirements-dev.txt
    log "building and installing omezarr_fast"
    .venv/bin/python -m pip install -q --no-build-isolation --no-deps --force-reinstall .
}

cmd="${1:-demo}"
shift || true
case "$cmd" in
    setup) setup ;;
    demo) setup; exec .venv/bin/python -m omezarr_fast.demo "$@" ;;
    test) setup; exec bash scripts/test.sh "$@" ;;
    *) log "usage: ./run.sh [demo|test|setup]"; exit 2 ;;
esac
