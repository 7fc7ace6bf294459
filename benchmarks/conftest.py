"""Shared setup for the benchmark suites.

pytest only collects test_*.py by default; the suites here are named
bench_<scenario>.py, so `pytest benchmarks/ --benchmark-only` collects them
through this hook (a file named on the command line is collected by pytest
itself, hence the isinitpath check: no duplicates).
"""
import pytest


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
