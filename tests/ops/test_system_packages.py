"""scripts/system-packages.sh: what `make demo` and `make test` install when missing."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system-packages.sh"


def _bin_without(tmp_path, *absent):
    """A PATH of this machine's tools but `absent` (java, apt-get...)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("bash", "grep", "id", "dpkg-query", "cut", "env"):
        found = shutil.which(name)
        if found and name not in absent:
            (folder / name).symlink_to(found)
    return str(folder)


def _run(purpose, path):
    return subprocess.run(
        ["bash", str(SCRIPT), purpose], capture_output=True, text=True, env={**os.environ, "PATH": path}, timeout=60
    )


def test_it_names_what_is_missing_in_one_line_where_it_cannot_install(tmp_path):
    """Without Java and without apt-get: no install is tried, one line names the
    Debian package (Chromium is checked by path, /usr/bin, so it is not named here
    where it is installed)."""
    done = _run("demo", _bin_without(tmp_path, "java", "apt-get"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "missing system packages: openjdk-17-jre-headless (install them with your package manager; Debian's names)"
    ]


@pytest.mark.services  # needs what `make test` installs first; `make test-fast` does not
def test_nothing_is_installed_when_everything_is_there():
    done = _run("test", os.environ["PATH"])
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_an_unknown_purpose_is_refused():
    done = _run("deploy", os.environ["PATH"])
    assert done.returncode == 2 and "usage" in done.stderr
