"""The agencies' landing directory: which drops a run may see, and whether each drop's
manifest is honest about its files.

`<landing>/<source>/<YYYY-MM-DD>/<table>.csv` plus `_MANIFEST.json`, written last.
A drop without a manifest is still being delivered and is invisible. A drop dated
after the run date is invisible (auditors re-run old dates after newer drops land).

Only regular files inside the landing are read (`open_delivered`): a symbolic link
that leads out of it, a named pipe, a device or a directory where a file should be
stops the run with one line naming it, and nothing is opened in a way that can wait
(a pipe or a device is refused before it is opened, and the open itself never blocks).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from fraud import contract
from fraud.storage import sha256_of
from fraud.text import one_line

log = logging.getLogger(__name__)

_DATE_DIR = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A manifest lists at most five tables; anything this large is not one.
MAX_MANIFEST_BYTES = 1 << 20


class DropError(Exception):
    """A drop cannot be trusted (its manifest disagrees with its files). The message is
    one line naming the file; the run stops on it."""


@dataclass(frozen=True)
class TableFile:
    """One table of one drop as the manifest declares it."""

    table: contract.Table
    path: Path
    rows: int
    sha256: str | None  # None when the manifest lists the table with no file (rows 0)

    @property
    def present(self) -> bool:
        # lexists: a link to nothing is there (and refused), not a table left out.
        return os.path.lexists(self.path)


@dataclass(frozen=True)
class Drop:
    source: str
    drop_date: date
    path: Path
    manifest_sha256: str
    encoding: str
    files: tuple[TableFile, ...]
    root: Path  # the landing (resolved): every file read must lie inside it

    @property
    def label(self) -> str:
        return f"{self.source}/{self.drop_date.isoformat()}"

    def open(self, table_file: TableFile) -> BinaryIO:
        """The table's file, opened for reading (`open_delivered`). Raises DropError."""
        return open_delivered(table_file.path, self.root, f"{self.label}/{table_file.path.name}")

    def file(self, table_name: str) -> TableFile | None:
        for table_file in self.files:
            if table_file.table.name == table_name:
                return table_file
        return None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def landing_root(landing: Path) -> Path:
    """The landing directory with every symbolic link resolved: what "inside" means."""
    return Path(os.path.realpath(landing))


def open_delivered(path: Path, root: Path, where: str) -> BinaryIO:
    """Open a delivered file for reading, if it is a regular file inside `root` (the
    resolved landing) once every symbolic link on its way is followed. `where` names it
    in the error. Never waits: the type is checked before the open, the open is
    non-blocking, and the descriptor is checked again (the file may have been swapped
    in between). Raises DropError, one line."""
    try:
        target = Path(os.path.realpath(path, strict=True))
    except OSError as error:
        raise DropError(f"{where}: cannot be read ({error.strerror or error})") from None
    if not target.is_relative_to(root):
        raise DropError(f"{where}: a symbolic link to {one_line(str(target))}, outside the landing: refused")
    try:
        mode = os.stat(target).st_mode
        if not stat.S_ISREG(mode):
            raise DropError(f"{where}: {_kind(mode)}, not a regular file: refused")
        descriptor = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        raise DropError(f"{where}: cannot be opened ({error.strerror or error})") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise DropError(f"{where}: {_kind(mode)}, not a regular file: refused")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def delivered_sha256(path: Path, root: Path, where: str) -> str:
    """The sha256 of a delivered file, read through `open_delivered`. Raises DropError."""
    with open_delivered(path, root, where) as handle:
        return sha256_of(handle)


def _parse_day(text: str) -> date | None:
    if not _DATE_DIR.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def visible_drop_dirs(landing: Path, ds: date) -> list[tuple[str, date, Path]]:
    """Complete drop directories dated on or before `ds`, ordered by date then source."""
    found = []
    for source in contract.SOURCES:
        source_dir = landing / source
        if not source_dir.is_dir():
            continue
        for entry in sorted(source_dir.iterdir()):
            day = _parse_day(entry.name)
            if day is None or not entry.is_dir():
                log.warning("ignoring %s: not a drop directory (YYYY-MM-DD)", entry)
                continue
            if day > ds:
                continue
            if not (entry / contract.MANIFEST_NAME).exists():
                log.info("drop %s/%s has no manifest yet: still being delivered, not visible", source, entry.name)
                continue
            found.append((source, day, entry))
    return sorted(found, key=lambda item: (item[1], item[0]))


def sources_missing(landing: Path, ds: date) -> list[str]:
    """Sources that have not delivered a complete drop dated exactly `ds`."""
    return [
        source
        for source in contract.SOURCES
        if not (landing / source / ds.isoformat() / contract.MANIFEST_NAME).exists()
    ]


def read_drop(source: str, drop_date: date, path: Path, root: Path | None = None) -> Drop:
    """Read and check a drop's manifest against the contract. `root` is the landing
    every file must lie in (default: the drop's landing, `path`'s grandparent). Raises
    DropError."""
    root = landing_root(root if root is not None else path.parent.parent)
    where = f"{source}/{drop_date.isoformat()}/{contract.MANIFEST_NAME}"
    with open_delivered(path / contract.MANIFEST_NAME, root, where) as handle:
        raw = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise DropError(f"{where}: larger than {MAX_MANIFEST_BYTES} bytes, not a manifest")
    try:
        manifest = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:  # ValueError: JSONDecodeError, an int too long
        raise DropError(f"{where}: not valid JSON ({one_line(str(error))})") from None
    except RecursionError:
        raise DropError(f"{where}: not valid JSON (nested too deeply)") from None
    if not isinstance(manifest, dict):
        raise DropError(f"{where}: expected a JSON object")
    if manifest.get("source") != source:
        raise DropError(f"{where}: source {manifest.get('source')!r} does not match directory {source!r}")
    if manifest.get("drop_date") != drop_date.isoformat():
        raise DropError(f"{where}: drop_date {manifest.get('drop_date')!r} does not match directory {drop_date}")
    encoding = manifest.get("encoding")
    if encoding not in contract.ENCODINGS:
        raise DropError(f"{where}: encoding {encoding!r} is not one of {', '.join(contract.ENCODINGS)}")
    tables = manifest.get("tables")
    if not isinstance(tables, dict):
        raise DropError(f"{where}: 'tables' must be an object")

    known = {t.file_name: t for t in contract.tables_of(source)}
    files = []
    for file_name, entry in sorted(tables.items()):
        if file_name not in known:
            raise DropError(f"{where}: lists {file_name!r}, which is not a table of source {source}")
        rows = entry.get("rows") if isinstance(entry, dict) else None
        # bool is an int in Python: `"rows": true` must not pass as 1.
        if type(rows) is not int or rows < 0:
            raise DropError(f"{where}: {file_name}: 'rows' must be a non-negative integer")
        sha = entry.get("sha256")
        if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
            raise DropError(f"{where}: {file_name}: 'sha256' must be 64 lowercase hex")
        files.append(TableFile(known[file_name], path / file_name, entry["rows"], sha))

    listed = {f.path.name for f in files}
    for entry in sorted(path.iterdir()):
        if entry.name != contract.MANIFEST_NAME and not entry.name.startswith(".") and entry.name not in listed:
            raise DropError(f"{source}/{drop_date}/{one_line(entry.name)}: file is not listed in the manifest")
    return Drop(source, drop_date, path, hashlib.sha256(raw).hexdigest(), encoding, tuple(files), root)


def verify_files(drop: Drop) -> None:
    """Check every listed file exists (unless it declares 0 rows) and has the declared
    sha256. Row counts are checked while the file is read. Raises DropError."""
    for table_file in drop.files:
        verify_file(drop, table_file)


def verify_file(drop: Drop, table_file: TableFile) -> None:
    """Check one listed file of `drop` (see `verify_files`). Raises DropError."""
    where = f"{drop.label}/{table_file.path.name}"
    if not table_file.present:
        if table_file.rows == 0:
            return
        raise DropError(f"{where}: listed in the manifest with {table_file.rows} rows but missing")
    if table_file.sha256 is None:
        raise DropError(f"{where}: the manifest gives no sha256 for a delivered file")
    with drop.open(table_file) as handle:
        actual = sha256_of(handle)
    if actual != table_file.sha256:
        raise DropError(
            f"{where}: sha256 {actual[:12]}… does not match the manifest's {table_file.sha256[:12]}… "
            "(file altered or truncated after the manifest was written)"
        )


def discover(landing: Path, ds: date, root: Path | None = None, verify: bool = True) -> list[Drop]:
    """Every complete drop visible to the run for `ds`, manifests read and (unless
    `verify` is False: the caller's to do, with `verify_files`) files verified.
    `root`: the directory every file must lie in (default: `landing`; fraudctl verify's
    scratch landing links to the drops of the real one)."""
    root = landing_root(root if root is not None else landing)
    drops = []
    for source, day, path in visible_drop_dirs(landing, ds):
        drop = read_drop(source, day, path, root)
        if verify:
            verify_files(drop)
        drops.append(drop)
    return drops
