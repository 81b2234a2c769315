"""What code produced a run: the package version and, in a git checkout, the commit."""

from __future__ import annotations

import functools
import hashlib
import subprocess
from pathlib import Path

from fraud import __version__

_REPO = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    try:
        commit = subprocess.run(
            ["git", "-C", str(_REPO), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(_REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}{'.dirty' if dirty else ''}"


# The packages whose code decides what a stage computes.
SOURCE_PACKAGES = ("features", "fraud", "jobs", "models", "rules")


@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """sha256 of the pipeline's Python sources (path and bytes of every module of
    SOURCE_PACKAGES): unlike the commit, it changes with an uncommitted edit too."""
    digest = hashlib.sha256()
    for package in SOURCE_PACKAGES:
        for path in sorted((_REPO / package).rglob("*.py")):
            digest.update(path.relative_to(_REPO).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


LOCK_FILE = _REPO / "requirements.lock"


@functools.lru_cache(maxsize=1)
def lock_digest() -> str | None:
    """sha256 of the environment's lock file (requirements.lock: every package pinned,
    with hashes), which `make` installs; None where the code runs without it."""
    try:
        return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
