#!/usr/bin/env bash
# The whole test suite, run against the package installed in .venv:
#   1. lint (ruff) and the import contract (import-linter: the layers of docs/architecture.md),
#      on the source tree: seconds, so they fail first,
#   2. zarr-python's own test suite with our pipeline switched on (conformance),
#   3. our tests (last, so the final line is their summary).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check src tests benchmarks
PYTHONPATH=src .venv/bin/lint-imports --no-cache
if [ "${OMEZARR_FAST_SKIP_CONFORMANCE:-0}" != 1 ] && [ "$#" -eq 0 ]; then
    .venv/bin/python tests/conformance/run_zarr_suite.py -n auto
fi
exec .venv/bin/python -m pytest -n auto -q tests "$@"
