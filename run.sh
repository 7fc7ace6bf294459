#!/usr/bin/env bash
# Quick start for omezarr_fast.
#   ./run.sh demo          set everything up, then run the demo
#   ./run.sh test [ARGS]   set everything up, then run the whole test suite
#   ./run.sh setup         only set up (.venv with the package and test tools)
# Set-up is idempotent: system libraries are installed with apt only when
# missing, the virtual environment is created once, the package is rebuilt.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES="pkg-config libzstd-dev libblosc-dev libdeflate-dev liblz4-dev"

log() { printf '[run.sh] %s\n' "$*" >&2; }

install_system_libs() {
    if command -v pkg-config >/dev/null && pkg-config --exists libzstd blosc libdeflate liblz4; then
        return
    fi
    command -v apt-get >/dev/null || { log "install $APT_PACKAGES with your package manager"; exit 1; }
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing system libraries: $APT_PACKAGES"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $APT_PACKAGES >/dev/null
}

# zstd before 1.5.7 compresses 64 KiB chunks at level 3 at about half the speed
# (same bytes out; benchmarks/compare_zstd.py).  Where the system's libzstd is
# older and apt can fetch from Debian 13, Debian 13's libzstd packages (checked
# by apt against the Debian archive keyring) are unpacked into .venv/opt/libzstd
# and the build links them with an rpath.  The system is not touched, and if
# anything here fails the build uses the system libzstd: slower, same results.
# OMEZARR_FAST_SYSTEM_ZSTD=1 skips this.
FAST_ZSTD=1.5.7

# The Debian archive this machine's apt already fetches its own release from
# (one-line sources.list entries or deb822 .sources stanzas), so the newer
# libzstd comes from the same mirror and no host is named in this script.
# Arguments (for tests): apt's configuration directory, the os-release file.
debian_mirror() {
    local etc="${1:-/etc/apt}" os_release="${2:-/etc/os-release}" codename
    codename="$(. "$os_release" 2>/dev/null && echo "${VERSION_CODENAME:-}")"
    [ -n "$codename" ] || return 0
    {
        cat "$etc/sources.list" "$etc"/sources.list.d/*.list 2>/dev/null \
            | sed -E -e 's/#.*//' -e 's/\[[^]]*\]//' | awk '$1 == "deb" {print $2, $3}'
        for f in "$etc"/sources.list.d/*.sources; do
            [ -r "$f" ] || continue
            # One stanza per paragraph: print "uri suite" for every pair of an enabled deb stanza.
            awk 'function flush() { if (deb && enabled) for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j];
                                    deb = 0; enabled = 1; nu = 0; ns = 0 }
                 BEGIN { enabled = 1 }
                 /^[ \t]*$/ { flush(); next }
                 /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
                 /^Enabled:/ { enabled = ($2 != "no") }
                 /^URIs:/ { for (i = 2; i <= NF; i++) u[++nu] = $i }
                 /^Suites:/ { for (i = 2; i <= NF; i++) s[++ns] = $i }
                 END { flush() }' "$f"
        done
    } | awk -v want="$codename" '$2 == want {print $1; exit}'
}
use_fast_zstd() {
    local prefix="$PWD/.venv/opt/libzstd"
    if [ -n "${OMEZARR_FAST_SYSTEM_ZSTD:-}" ] || pkg-config --atleast-version="$FAST_ZSTD" libzstd; then
        return
    fi
    if [ -f "$prefix/lib/pkgconfig/libzstd.pc" ]; then
        export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
        return
    fi
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    local glibc
    glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
    if ! command -v dpkg-deb >/dev/null || [ ! -r "$keyring" ] \
        || ! printf '2.34\n%s\n' "$glibc" | sort -V -C; then
        log "system libzstd $(pkg-config --modversion libzstd) is older than $FAST_ZSTD; zstd writes will be ~2x slower than they can be"
        return
    fi
    log "fetching libzstd $FAST_ZSTD from Debian 13 into .venv/opt/libzstd (system libzstd is $(pkg-config --modversion libzstd))"
    local tmp
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/deb"
    local mirror
    mirror="$(debian_mirror)"
    if [ -z "$mirror" ]; then
        log "no Debian archive in this machine's apt sources; building with the system libzstd (slower zstd writes)"
        rm -rf "$tmp"
        return
    fi
    echo "deb [signed-by=$keyring] $mirror trixie main" > "$tmp/sources.list"
    local apt=(apt-get -qq -o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
               -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Sandbox::User="$(id -un)")
    if "${apt[@]}" update >/dev/null 2>&1 \
        && (cd "$tmp/deb" && "${apt[@]}" download libzstd1 libzstd-dev >/dev/null 2>&1) \
        && (for deb in "$tmp"/deb/*.deb; do dpkg-deb -x "$deb" "$tmp/root" || exit 1; done) \
        && printf '%s\n%s\n' "$FAST_ZSTD" "$(sed -n 's/^Version: //p' "$tmp"/root/usr/lib/*/pkgconfig/libzstd.pc)" \
            | sort -V -C; then
        mkdir -p "$prefix/lib/pkgconfig"
        cp -a "$tmp/root/usr/include" "$prefix/"
        cp -a "$tmp"/root/usr/lib/*/libzstd.so* "$prefix/lib/"
        sed -e "s#^prefix=.*#prefix=$prefix#" -e 's#^libdir=.*#libdir=${prefix}/lib#' \
            "$tmp"/root/usr/lib/*/pkgconfig/libzstd.pc > "$prefix/lib/pkgconfig/libzstd.pc"
        export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    else
        log "could not fetch libzstd $FAST_ZSTD from Debian; building with the system libzstd (slower zstd writes)"
    fi
    rm -rf "$tmp"
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
    use_fast_zstd
    log "building and installing omezarr_fast (libzstd $(pkg-config --modversion libzstd))"
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
