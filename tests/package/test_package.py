"""The package as a whole: a lazy root, one version, pipeline registration, and the house
rules the import contract cannot see (private names, zarr's private API)."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import zarr

import omezarr_fast

PACKAGE = Path(omezarr_fast.__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[2]  # the source tree (the package may be installed elsewhere)


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    full = {**os.environ, **env}
    full["PYTHONPATH"] = str(PACKAGE.parent) + os.pathsep + full.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)


def test_importing_ngff_loads_no_extension_and_no_zarr():
    code = ("import sys, omezarr_fast.ngff as n\n"
            "n.validate(n.image_attributes(n.build_multiscale(n.make_axes('yx'), [1, 1], [[2, 2]]), version='0.5'))\n"
            "print(sorted(m for m in sys.modules if m == 'omezarr_fast._native' or m.split('.')[0] in "
            "('zarr', 'numpy', 'numcodecs')))")
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_root_names_load_on_first_use():
    out = run_python("import sys, omezarr_fast\n"
                     "assert 'omezarr_fast._native' not in sys.modules\n"
                     "f = omezarr_fast.write_image\n"
                     "assert 'omezarr_fast._native' in sys.modules\n"
                     "import omezarr_fast.downsample\n"
                     "print(callable(omezarr_fast.downsample), f.__module__)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "omezarr_fast.ome.image"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        omezarr_fast.nope  # noqa: B018
    assert set(omezarr_fast.__all__) <= set(dir(omezarr_fast))


@pytest.mark.parametrize("how", ["enable", "config", "environment"])
def test_pipeline_registration(how, tmp_path):
    """zarr finds "omezarr_fast.CodecPipeline" by omezarr_fast.enable(), by its config key
    after importing the package, and from the environment alone (the entry point)."""
    make = (f"a = zarr.create_array({str(tmp_path / 'a.zarr')!r}, shape=(4,), dtype='u2', chunks=(2,))\n"
            "a[:] = 7\n"
            "print(type(a._async_array.codec_pipeline).__module__, type(a._async_array.codec_pipeline).__name__)")
    code = {"enable": "import omezarr_fast, zarr\nomezarr_fast.enable()\n",
            "config": "import omezarr_fast, zarr\n"
                      "zarr.config.set({'codec_pipeline.path': 'omezarr_fast.CodecPipeline'})\n",
            "environment": "import zarr\n"}[how] + make
    env = {"ZARR_CODEC_PIPELINE__PATH": "omezarr_fast.CodecPipeline"} if how == "environment" else {}
    out = run_python(code, **env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["omezarr_fast", "CodecPipeline"]


def test_one_version():
    """pyproject.toml reads the version from _version.py; the command and the multiscale
    metadata the writers add say the same."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    if "project" not in project:
        pytest.skip("not a source checkout")
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "omezarr_fast._version.__version__"}
    from omezarr_fast._version import __version__
    assert omezarr_fast.__version__ == __version__
    from omezarr_fast.cli import build_parser
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--version"])


def test_written_multiscale_names_the_version(tmp_path):
    path = omezarr_fast.write_image(np.zeros((8, 8), np.uint8), tmp_path / "a.zarr", levels=2, progress=False)
    ms = omezarr_fast.open_image(path).multiscale
    assert ms.metadata["version"] == omezarr_fast.__version__
    assert ms.metadata["method"] == "omezarr_fast.downsample.mean"


def test_native_dtype_rule_matches_the_binding():
    from omezarr_fast import _native
    from omezarr_fast.dtypes import NATIVE_KINDS

    assert _native._DTYPE_KINDS == NATIVE_KINDS


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path.name == "__init__.py", ast.parse(path.read_text(), str(path))


def _package_of(module: str, is_init: bool) -> str:
    return module if is_init else module.rpartition(".")[0]


def test_no_private_name_crosses_a_package():
    """``from a.b import _x`` only where the importer lives in package ``a``: what two
    packages share is public (a module of its own)."""
    bad = []
    for module, is_init, tree in _modules():
        here = _package_of(module, is_init)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.startswith("omezarr_fast"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        # The package the private name belongs to: the module's package.
                        owner = node.module if (PACKAGE.parent / node.module.replace(".", "/")).is_dir() \
                            else node.module.rpartition(".")[0]
                        if owner != here:
                            bad.append(f"{module}: from {node.module} import {alias.name}")
    # The binding (_native) is the one shared private module, by design (docs/architecture.md).
    bad = [b for b in bad if not b.endswith("import _native")]
    assert bad == []


ZARR_PRIVATE_ATTRS = {"_async_array", "_chunk_grid", "_ensure_open_sync", "_check_writable",
                      "_subchunk_order_iter", "_store_supports_sync_io", "_merge_chunk_array", "_get_chunk_spec"}


def test_only_zarr_compat_touches_zarr_private_names():
    bad = []
    for module, _, tree in _modules():
        if module == "omezarr_fast.pipeline._zarr_compat":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "zarr":
                if any(p.startswith("_") for p in node.module.split(".")) or \
                        any(a.name.startswith("_") for a in node.names):
                    bad.append(f"{module}: from {node.module} import ...")
            elif isinstance(node, ast.Attribute) and node.attr in ZARR_PRIVATE_ATTRS:
                bad.append(f"{module}: .{node.attr} (line {node.lineno})")
    assert bad == []


def test_zarr_compat_names_exist_in_this_zarr():
    from omezarr_fast.pipeline import _zarr_compat

    a = zarr.create_array(zarr.storage.MemoryStore(), shape=(4, 4), chunks=(2, 2), shards=(4, 4), dtype="u1")
    aa = _zarr_compat.async_array(a)
    assert aa is not a and _zarr_compat.chunk_grid(aa) is not None
    assert tuple(_zarr_compat.first_chunk_spec(aa).shape) == (4, 4)
    assert _zarr_compat.supports_sync_io(a.store)
