import os
import subprocess
import sys

import pytest

import omezarr_fast


def test_set_and_get_num_threads():
    before = omezarr_fast.get_num_threads()
    try:
        omezarr_fast.set_num_threads(3)
        assert omezarr_fast.get_num_threads() == 3
        omezarr_fast.set_num_threads(1)
        assert omezarr_fast.get_num_threads() == 1
    finally:
        omezarr_fast.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -2])
def test_set_num_threads_rejects_non_positive(bad):
    with pytest.raises(ValueError, match="n must be >= 1"):
        omezarr_fast.set_num_threads(bad)


@pytest.mark.parametrize("bad", [1.5, "2", True])
def test_set_num_threads_rejects_non_int(bad):
    with pytest.raises(TypeError, match="n must be an int"):
        omezarr_fast.set_num_threads(bad)


def run_python(code, **env):
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env,
                          timeout=60)


def test_default_is_cpus_available():
    env = {k: v for k, v in os.environ.items() if k != "OMEZARR_FAST_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", "import omezarr_fast; print(omezarr_fast.get_num_threads())"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert int(out.stdout) == len(os.sched_getaffinity(0))


def test_environment_variable_sets_pool_size():
    out = run_python("import omezarr_fast; print(omezarr_fast.get_num_threads())", OMEZARR_FAST_NUM_THREADS="5")
    assert out.stdout.strip() == "5", out.stderr


def test_bad_environment_variable_names_it():
    out = run_python("import omezarr_fast", OMEZARR_FAST_NUM_THREADS="many")
    assert out.returncode != 0
    assert "OMEZARR_FAST_NUM_THREADS" in out.stderr
