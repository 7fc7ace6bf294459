#!/usr/bin/env bash
# The whole test suite, run against the installed package in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -n auto -q tests "$@"
