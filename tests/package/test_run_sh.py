"""run.sh finds the Debian archive from the machine's own apt configuration.

The newer libzstd comes from the mirror apt already uses, so the script names
no host; these tests feed `debian_mirror` made-up apt directories.
"""
import re
import subprocess
from pathlib import Path

import pytest

RUN_SH = Path(__file__).resolve().parents[2] / "run.sh"


def mirror(tmp_path: Path, files: dict[str, str], codename: str = "bookworm") -> str:
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (etc / name).write_text(text)
    os_release = tmp_path / "os-release"
    os_release.write_text(f"ID=debian\nVERSION_CODENAME={codename}\n")
    script = f'source <(sed -n "/^debian_mirror()/,/^}}/p" "{RUN_SH}"); debian_mirror "{etc}" "{os_release}"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_one_line_sources(tmp_path):
    text = ("# deb http://old.example/debian bookworm main\n"
            "deb-src http://src.example/debian bookworm main\n"
            "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main contrib\n"
            "deb http://mirror.example/debian-security bookworm-security main\n")
    assert mirror(tmp_path, {"sources.list": text}) == "http://mirror.example/debian"


def test_deb822_sources_skip_disabled_and_other_suites(tmp_path):
    text = ("Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n"
            "Components: main\n\n"
            "Types: deb\nEnabled: no\nURIs: http://disabled.example/debian\nSuites: bookworm\n\n"
            "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n"
            "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
            "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    assert mirror(tmp_path, {"sources.list.d/debian.sources": text}) == "http://mirror.example/debian"


@pytest.mark.parametrize("files", [{}, {"sources.list": "deb http://mirror.example/ubuntu noble main\n"}])
def test_no_matching_archive_gives_nothing(tmp_path, files):
    assert mirror(tmp_path, files) == ""


def test_no_host_named_in_run_sh():
    assert re.search(r"https?://\w", RUN_SH.read_text()) is None
