"""The agencies' landing directory: which drops a run may see, and whether each drop's
manifest is honest about its files.

`<landing>/<source>/<YYYY-MM-DD>/<table>.csv` plus `_MANIFEST.json`, written last.
A drop without a manifest is still being delivered and is invisible. A drop dated
after the run date is invisible (auditors re-run old dates after newer drops land).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fraud import contract
from fraud.storage import sha256_file

log = logging.getLogger(__name__)

_DATE_DIR = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
        return self.path.exists()


@dataclass(frozen=True)
class Drop:
    source: str
    drop_date: date
    path: Path
    manifest_sha256: str
    encoding: str
    files: tuple[TableFile, ...]

    @property
    def label(self) -> str:
        return f"{self.source}/{self.drop_date.isoformat()}"

    def file(self, table_name: str) -> TableFile | None:
        for table_file in self.files:
            if table_file.table.name == table_name:
                return table_file
        return None


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


def read_drop(source: str, drop_date: date, path: Path) -> Drop:
    """Read and check a drop's manifest against the contract. Raises DropError."""
    manifest_path = path / contract.MANIFEST_NAME
    raw = manifest_path.read_bytes()
    where = f"{source}/{drop_date.isoformat()}/{contract.MANIFEST_NAME}"
    try:
        manifest = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DropError(f"{where}: not valid JSON ({error})") from None
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
        if not isinstance(entry, dict) or not isinstance(entry.get("rows"), int) or entry["rows"] < 0:
            raise DropError(f"{where}: {file_name}: 'rows' must be a non-negative integer")
        sha = entry.get("sha256")
        if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
            raise DropError(f"{where}: {file_name}: 'sha256' must be 64 lowercase hex")
        files.append(TableFile(known[file_name], path / file_name, entry["rows"], sha))

    listed = {f.path.name for f in files}
    for entry in sorted(path.iterdir()):
        if entry.name != contract.MANIFEST_NAME and not entry.name.startswith(".") and entry.name not in listed:
            raise DropError(f"{source}/{drop_date}/{entry.name}: file is not listed in the manifest")
    return Drop(source, drop_date, path, hashlib.sha256(raw).hexdigest(), encoding, tuple(files))


def verify_files(drop: Drop) -> None:
    """Check every listed file exists (unless it declares 0 rows) and has the declared
    sha256. Row counts are checked while the file is read. Raises DropError."""
    for table_file in drop.files:
        where = f"{drop.label}/{table_file.path.name}"
        if not table_file.present:
            if table_file.rows == 0:
                continue
            raise DropError(f"{where}: listed in the manifest with {table_file.rows} rows but missing")
        if table_file.sha256 is None:
            raise DropError(f"{where}: the manifest gives no sha256 for a delivered file")
        actual = sha256_file(table_file.path)
        if actual != table_file.sha256:
            raise DropError(
                f"{where}: sha256 {actual[:12]}… does not match the manifest's {table_file.sha256[:12]}… "
                "(file altered or truncated after the manifest was written)"
            )


def discover(landing: Path, ds: date) -> list[Drop]:
    """Every complete drop visible to the run for `ds`, manifests read and files verified."""
    drops = []
    for source, day, path in visible_drop_dirs(landing, ds):
        drop = read_drop(source, day, path)
        verify_files(drop)
        drops.append(drop)
    return drops
