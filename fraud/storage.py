"""Writes are transactions: everything is written to a staging path beside its
destination and renamed into place, so a reader (or a retry) sees either the old or
the new output, never a mix. Re-running a write replaces, never appends.
"""

from __future__ import annotations

import contextlib
import csv
import fnmatch
import hashlib
import json
import os
import shutil
import stat
import sys
import time
import uuid
from pathlib import Path
from typing import Iterable, Iterator

# Outputs and quarantine hold personal data: owner and group only.
FILE_MODE = 0o640
DIR_MODE = 0o750


# OWASP's rule against CSV injection: a spreadsheet evaluates a cell that begins with
# one of these as a formula (`=HYPERLINK(...)`, `@SUM(...)`, `+cmd|...`).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def ensure_dir(path: Path) -> Path:
    """Create `path` and any missing parents as owner+group directories (0750), whatever
    the umask (mkdir -p gives parents the umask's mode, not `mode`)."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    for created in missing:
        os.chmod(created, DIR_MODE)
    return path


def restrict_tree(directory: Path) -> None:
    """Files 0640 and directories 0750 under (and including) `directory`."""
    _restrict(Path(directory))


def spreadsheet_safe(value):
    """A CSV cell that no spreadsheet evaluates: text beginning with a formula trigger
    (or with the escape quote itself, so the rule can be undone) gets a leading `'`.
    Numbers and None pass unchanged. `unescape_cell` gives back the original text."""
    if isinstance(value, str) and value and (value[0] in FORMULA_TRIGGERS or value[0] == ESCAPE):
        return ESCAPE + value
    return value


def unescape_cell(text: str) -> str:
    """The text as delivered, from a cell written by `write_csv`."""
    return text[1:] if text.startswith(ESCAPE) else text


def _staging_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.staging-{uuid.uuid4().hex[:12]}")


@contextlib.contextmanager
def atomic_file(final: Path, mode: str = "w", **open_kwargs) -> Iterator:
    """Open a staging file; on success fsync and rename it over `final`."""
    final = Path(final)
    ensure_dir(final.parent)
    staging = _staging_path(final)
    try:
        with open(staging, mode, opener=_private_opener, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staging, FILE_MODE)
        os.replace(staging, final)
    finally:
        if staging.exists():
            staging.unlink()


def _private_opener(path, flags):
    # Created owner+group-readable at once, not only after the chmod below.
    return os.open(path, flags, FILE_MODE)


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield an empty staging directory; on success swap it in for `final`.

    The old directory is moved aside first and deleted only after the new one is in
    place, so an interrupted swap leaves one complete version (see `recover`).
    """
    final = Path(final)
    ensure_dir(final.parent)
    recover(final)
    staging = _staging_path(final)
    staging.mkdir(mode=DIR_MODE)
    os.chmod(staging, DIR_MODE)
    try:
        yield staging
        _restrict(staging)
        previous = final.with_name(f".{final.name}.previous-{uuid.uuid4().hex[:12]}")
        if final.exists():
            os.replace(final, previous)
        os.replace(staging, final)
        if previous.exists():
            shutil.rmtree(previous)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def set_aside(final: Path) -> list[Path]:
    """The old versions of `final` that a swap moved aside (`atomic_dir`), oldest name
    first."""
    final = Path(final)
    return sorted(final.parent.glob(f".{final.name}.previous-*"))


def recover(final: Path) -> bool:
    """Undo a swap that was killed between moving the old version aside and moving the
    new one in: when `final` is missing and an old version waits beside it, put that
    back. Returns whether it did. (A killed write's staging path is never read and
    unique per attempt, so it cannot mix with anything; `sweep_abandoned` deletes it a
    day later.)"""
    final = Path(final)
    if final.exists():
        return False
    aside = set_aside(final)
    if not aside:
        return False
    os.replace(aside[0], final)
    return True


ABANDONED_NAMES = (".*.staging-*", ".*.previous-*")  # anywhere under the warehouse
SCRATCH_NAMES = ("checked-*",)  # validation's scratch, directly under <warehouse>/tmp
ABANDONED_AFTER_SECONDS = 24 * 3600


def sweep_abandoned(root: Path, older_than: float = ABANDONED_AFTER_SECONDS, now: float | None = None) -> list[Path]:
    """Delete what killed writes left under `root`: staging paths (`atomic_file`,
    `atomic_dir`, a validated table's partition swap), old versions moved aside whose
    destination is in place again, and validation's scratch (`tmp/checked-*`), once
    untouched for `older_than` seconds. Age is the inode's change time, which a rename
    renews (a version moved aside a moment ago is young whatever its contents' age).
    An old version whose destination is missing is left for the next write to put back
    (`recover`). Paths that vanish while it looks (another date's run finishing a
    write) are skipped. Returns what it deleted."""
    now = time.time() if now is None else now
    root = Path(root)
    candidates = []
    for directory, dirs, files in os.walk(root):  # os.walk ignores directories that vanish
        abandoned = {name for name in dirs + files if any(fnmatch.fnmatch(name, p) for p in ABANDONED_NAMES)}
        candidates += [Path(directory) / name for name in sorted(abandoned)]
        dirs[:] = [d for d in dirs if d not in abandoned]  # nothing to look for inside them
    scratch = root / "tmp"
    if scratch.is_dir():
        candidates += [p for p in scratch.iterdir() if any(fnmatch.fnmatch(p.name, n) for n in SCRATCH_NAMES)]
    swept = []
    for path in sorted(candidates):
        try:
            if now - path.lstat().st_ctime <= older_than:
                continue
        except FileNotFoundError:
            continue
        if ".previous-" in path.name and not path.with_name(path.name[1:].split(".previous-")[0]).exists():
            continue  # the destination is missing: this is the version to put back
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        swept.append(path)
    return swept


def _restrict(directory: Path) -> None:
    for root, dirs, files in os.walk(directory):
        for name in dirs:
            _chmod(os.path.join(root, name), DIR_MODE)
        for name in files:
            _chmod(os.path.join(root, name), FILE_MODE)
    _chmod(directory, DIR_MODE)


def _chmod(path, mode: int) -> None:
    # Only when needed: a hard link to an earlier night's file (fraud/layers.py) already
    # has the mode, and may belong to another user.
    if stat.S_IMODE(os.lstat(path).st_mode) != mode:
        os.chmod(path, mode)


def write_json(final: Path, payload: dict) -> None:
    with atomic_file(final, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=2, sort_keys=True)
        handle.write("\n")


def read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_csv(final: Path, header: list[str], rows: Iterable[Iterable]) -> int:
    """Write a UTF-8 CSV (RFC 4180, `\\n` line ends) atomically; return the row count.
    Text cells are made spreadsheet-safe (`spreadsheet_safe`)."""
    count = 0
    with atomic_file(final, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if value is None else spreadsheet_safe(value) for value in row])
            count += 1
    return count


@contextlib.contextmanager
def no_csv_field_limit() -> Iterator[None]:
    """While inside: the csv module reads fields of any length (then the limit it had).

    For CSVs this pipeline wrote. A quarantine file keeps each rejected record as
    delivered, however long: the landing reader (fraud/records.py) sets the csv module's
    process-wide field limit to MAX_FIELD_CHARS so that a huge delivered field becomes
    an error row, and exactly such a row comes back when the quarantine is read."""
    previous = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


@contextlib.contextmanager
def reading_csv(path: Path) -> Iterator[csv.DictReader]:
    """A DictReader over a CSV this pipeline wrote (`write_csv`), with no field limit
    (`no_csv_field_limit`); read inside the `with`."""
    with no_csv_field_limit(), open(path, encoding="utf-8", newline="") as handle:
        yield csv.DictReader(handle)


def read_csv(path: Path) -> list[dict]:
    """Every row of a CSV this pipeline wrote, as dicts (`reading_csv`)."""
    with reading_csv(path) as rows:
        return list(rows)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    with open(path, "rb") as handle:
        return sha256_of(handle, chunk)


def sha256_of(handle, chunk: int = 1 << 20) -> str:
    """The sha256 of what is left to read in a binary file object."""
    digest = hashlib.sha256()
    while block := handle.read(chunk):
        digest.update(block)
    return digest.hexdigest()
