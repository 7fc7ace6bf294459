#!/usr/bin/env bash
# The whole test suite, run against the package installed in .venv:
#   1. zarr-python's own test suite with our pipeline switched on (conformance),
#   2. our tests (last, so the final line is their summary).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${OMEZARR_FAST_SKIP_CONFORMANCE:-0}" != 1 ] && [ "$#" -eq 0 ]; then
    .venv/bin/python tests/conformance/run_zarr_suite.py -n auto
fi
exec .venv/bin/python -m pytest -n auto -q tests "$@"
