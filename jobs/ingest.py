"""Ingest: find the drops a run may see, check them against their manifests, and read
the ones not read before into the warehouse's `landed/` area.

A manifest that disagrees with its files (sha256, row count, an unlisted or missing
file), or a listed file that is no regular file inside the landing (a link leading out
of it, a named pipe, a device, a directory), stops the run with a DropError naming the
file: the drop cannot be trusted, and guessing would make the run unrepeatable. Row-level problems do not stop anything:
they travel with the records to validation and end in quarantine.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from fraud import contract, records
from fraud.landing import Drop, DropError, discover, verify_file
from fraud.layout import Layout
from fraud.storage import atomic_dir, read_json, sweep_abandoned, write_json
from jobs.stage_io import IngestInputs, IngestResult, Night

log = logging.getLogger(__name__)

# Bump when the way files are read changes: every drop is then read again.
READER_VERSION = "1"
READING_FILE = "_reading.json"


def _already_landed(layout: Layout, drop: Drop) -> bool:
    reading = layout.landed_drop(drop.source, drop.drop_date) / READING_FILE
    if not reading.exists():
        return False
    previous = read_json(reading)
    return previous.get("manifest_sha256") == drop.manifest_sha256 and previous.get("reader_version") == READER_VERSION


def land_drop(drop: Drop, layout: Layout, progress=None, before_commit: Callable[[], object] = lambda: None) -> dict:
    """Read every table of `drop` into landed/<source>/<date>/<table>.parquet.
    `before_commit` runs once the tables are read, before they are put in place: an
    error it raises leaves nothing landed."""
    tables = {}
    with atomic_dir(layout.landed_drop(drop.source, drop.drop_date)) as staging:
        for table in contract.tables_of(drop.source):
            table_file = drop.file(table.name)
            out = staging / f"{table.name}.parquet"
            if table_file is None or not table_file.present:
                records.write_empty(table, out)
                tables[table.name] = {
                    "rows_in": 0,
                    "declared": table_file is not None,
                    "rejected": None,
                    "extra_columns": [],
                }
                continue
            with drop.open(table_file) as delivered:
                reading = records.tokenize(delivered, drop.encoding, table, out, progress)
            if reading.rows != table_file.rows:
                raise DropError(
                    f"{drop.label}/{table_file.path.name}: the manifest says {table_file.rows} rows, "
                    f"the file has {reading.rows}"
                )
            if reading.rejected:
                log.error("%s/%s: %s", drop.label, table_file.path.name, reading.rejected)
            if reading.extra_columns:
                log.info(
                    "%s/%s: ignoring extra column(s) %s",
                    drop.label,
                    table_file.path.name,
                    ", ".join(reading.extra_columns),
                )
            tables[table.name] = {
                "rows_in": reading.rows,
                "declared": True,
                "rejected": reading.rejected,
                "extra_columns": reading.extra_columns,
            }
        summary = {
            "source": drop.source,
            "drop_date": drop.drop_date.isoformat(),
            "encoding": drop.encoding,
            "manifest_sha256": drop.manifest_sha256,
            "reader_version": READER_VERSION,
            "tables": tables,
        }
        write_json(staging / READING_FILE, summary)
        before_commit()
    return summary


def _all_passed(checked: list[Future]) -> None:
    """Wait for every file's check; raise the first failure, in the drops' order."""
    for check in checked:
        check.result()


def _failed_so_far(checked: list[Future]) -> None:
    """Raise the first failure among the checks done so far, if every check before it
    passed (so the error named is the one `_all_passed` would name), without waiting."""
    for check in checked:
        if not check.done():
            return
        check.result()


def run(spark, inputs: IngestInputs, night: Night) -> IngestResult:
    """Land the drops dated up to the run date from `inputs.landing`.

    Returns the drops visible to the run (all verified), and which of them were read
    now (new, or re-delivered with a different manifest)."""
    ds = night.ds
    layout = Layout(night.warehouse)
    for path in sweep_abandoned(layout.root):  # a day old: no run still writes it
        log.warning("removed what a killed write left: %s", path)
    drops = discover(Path(inputs.landing), ds, Path(inputs.landing_root) if inputs.landing_root else None, verify=False)
    landed_now = []
    # Every file is checked against its manifest (sha256) before anything is landed, as
    # the first drop is read: a thread hashes while the reader parses (both leave
    # Python's lock for the bytes). A drop that fails the check is the run's error,
    # whatever reading its altered file ran into first. One file a task, so that an
    # interrupted run waits at most for the file being hashed, not for every drop.
    checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="landing-check")
    try:
        checked = [checks.submit(verify_file, drop, table_file) for drop in drops for table_file in drop.files]
        for drop in drops:
            try:
                _failed_so_far(checked)
                if _already_landed(layout, drop):
                    continue
                if (layout.landed_drop(drop.source, drop.drop_date) / READING_FILE).exists():
                    log.warning("%s was delivered again with a different manifest: reading it again", drop.label)
                land_drop(drop, layout, night.progress, before_commit=lambda: _all_passed(checked))
            except Exception:
                _all_passed(checked)
                raise
            landed_now.append(drop.label)
            log.info("landed %s", drop.label)
        _all_passed(checked)
    finally:
        checks.shutdown(wait=False, cancel_futures=True)
    return IngestResult(
        ds=ds.isoformat(),
        landing=str(Path(inputs.landing).resolve()),
        drops=[
            {
                "source": d.source,
                "drop_date": d.drop_date.isoformat(),
                "manifest_sha256": d.manifest_sha256,
                "files": {f.path.name: f.sha256 for f in d.files},
            }
            for d in drops
        ],
        landed_now=landed_now,
    )
