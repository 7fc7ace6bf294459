"""Build the one native extension, omezarr_fast._native.

All C sources in csrc/ and the Cython module (which includes one .pxi per
concern) compile into a single extension so the whole process shares one
thread pool.  System libraries are found with pkg-config; a missing one stops
the build with the Debian package that provides it.
"""
import glob
import shlex
import subprocess
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# pkg-config name -> Debian package that ships its .pc file and headers.
SYSTEM_LIBS = {"libzstd": "libzstd-dev", "blosc": "libblosc-dev", "libdeflate": "libdeflate-dev",
               "liblz4": "liblz4-dev"}


def pkg_config(*args):
    out = subprocess.run(["pkg-config", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return shlex.split(out.stdout)


def find_system_libs():
    try:
        subprocess.run(["pkg-config", "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        sys.exit("omezarr_fast build: pkg-config not found; install it (Debian: apt-get install pkg-config)")
    missing = [deb for pc, deb in SYSTEM_LIBS.items() if subprocess.run(
        ["pkg-config", "--exists", pc]).returncode != 0]
    if missing:
        sys.exit("omezarr_fast build: missing system libraries; install them with\n"
                 f"    apt-get install {' '.join(missing)}")
    cflags = pkg_config("--cflags", *SYSTEM_LIBS)
    libs = pkg_config("--libs", *SYSTEM_LIBS)
    # A library found outside the linker's default directories (run.sh puts a
    # newer libzstd in .venv/opt when the system one is slow) must be found at
    # run time too.  If that directory goes away, the loader falls back to the
    # system copy of the same soname.
    default_dirs = {"/usr/lib", "/lib", "/usr/local/lib", "/usr/lib64", "/lib64"}
    rpaths = [f"-Wl,-rpath,{flag[2:]}" for flag in libs if flag.startswith("-L")
              and not any(flag[2:].rstrip("/").startswith(d) for d in default_dirs)]
    return cflags, libs + rpaths


cflags, libs = find_system_libs()

native = Extension(
    "omezarr_fast._native",
    sources=["src/omezarr_fast/_native.pyx", *sorted(glob.glob("csrc/*.c"))],
    include_dirs=["csrc"],
    extra_compile_args=["-O3", "-std=gnu11", "-fvisibility=hidden", "-fno-strict-aliasing",
                        "-Wall", "-Wno-unused-function", *cflags],
    # Only PyInit__native is exported (PyMODINIT_FUNC marks it visible).
    extra_link_args=["-Wl,--exclude-libs,ALL", "-pthread", *libs],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
)

setup(
    ext_modules=cythonize(
        [native],
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False,
                             "cdivision": True, "embedsignature": True},
    ),
)
