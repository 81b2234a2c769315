"""A conformed table on disk: one plain Parquet directory, or layers.

A full build writes a table as one plain Parquet directory. A nightly run does not
copy the history: it writes only the records the night re-decided, as a new layer,
and hard-links the earlier night's files beside it:

    <table>/_layers.json              {"key": ..., "layers": [{"name": "0000", "rows": n}, ...],
                                       "rows": the current records, when known}
    <table>/_layers/0000/part-*       the base (hard links to the earlier night's files)
    <table>/_layers/0001/part-*       a night's re-decided records, one per later night

A record's version is the one in the latest layer that holds its key (`read_table`).
Every night's directory holds its own links, so deleting one night (fraud/retention.py)
never touches another's files. A plain `spark.read.parquet` of a layered table fails
("Unable to infer schema": every path under it starts with `_`), so nothing can read
the superseded records by mistake.

A night compacts (writes the current rows as one plain directory again) when it would
make more than MAX_LAYERS layers or the layers above the base would hold more than
MAX_LAYER_ROWS rows: their keys are broadcast to every reader, so they must stay few.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraud.spark import BROADCAST_MAX_ROWS, read_parquet
from fraud.storage import ensure_dir, read_json, write_json

log = logging.getLogger(__name__)

MARKER = "_layers.json"
LAYERS_DIR = "_layers"
MAX_LAYERS = 8  # the base and seven nights: at most a weekly full write
MAX_LAYER_ROWS = BROADCAST_MAX_ROWS  # rows above the base (their keys are broadcast)


def layers(path: Path) -> list[dict] | None:
    """The layers of a layered table, base first, or None for a plain directory."""
    marker = Path(path) / MARKER
    return read_json(marker)["layers"] if marker.exists() else None


def parquet_rows(path: Path) -> int:
    """The rows of a Parquet directory Spark wrote, summed from its files' footers: no
    Spark job. Skips what Spark skips (names starting with "_" or ".", except
    partition directories such as `_drop_date=2026-03-02`)."""
    path = Path(path)
    total = 0
    for item in sorted(path.rglob("*")):
        parts = item.relative_to(path).parts
        hidden = any(part.startswith(".") or (part.startswith("_") and "=" not in part) for part in parts)
        if item.is_file() and not hidden:
            total += pq.read_metadata(item).num_rows
    return total


def table_rows(path: Path) -> int | None:
    """A table's current records, counted without Spark: a plain directory's rows, or
    what a layered table's marker recorded (None when it recorded nothing)."""
    path = Path(path)
    marker = path / MARKER
    if not marker.exists():
        return parquet_rows(path)
    return read_json(marker).get("rows")


def read_table(spark, path: Path, key: str) -> DataFrame:
    """A table's current records: each key's row from the latest layer holding it."""
    path = Path(path)
    stack = layers(path)
    if stack is None:
        return read_parquet(spark, path)
    frames = [read_parquet(spark, path / LAYERS_DIR / layer["name"]) for layer in stack]
    visible, later_keys = frames[-1], frames[-1].select(key)
    for frame in reversed(frames[:-1]):
        # A later layer's keys are few (see MAX_LAYER_ROWS): broadcast, so the base is
        # scanned, never shuffled.
        kept = frame.join(F.broadcast(later_keys), on=key, how="left_anti").select(*visible.columns)
        visible = kept.unionByName(visible)
        later_keys = later_keys.unionByName(frame.select(key))
    return visible


# Why a file system can refuse a hard link that a copy would still make.
LINK_REFUSED = frozenset({errno.EXDEV, errno.EPERM, errno.EACCES, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP})


def link_tree(source: Path, target: Path) -> int:
    """Hard-link every file of `source` into `target`, or copy it where the file
    system refuses the link (another file system, another user's file, too many
    links). Returns how many files were copied (one warning for the tree); any other
    error, a file that vanished say, is raised."""
    copied, reasons = _link_or_copy(Path(source), Path(target))
    if copied:
        log.warning(
            "%s: the file system refused hard links (%s); copied %d file(s) instead: a night then "
            "costs a copy of the history",
            source,
            ", ".join(sorted(reasons)),
            copied,
        )
    return copied


def _link_or_copy(source: Path, target: Path) -> tuple[int, set[str]]:
    ensure_dir(target)
    copied, reasons = 0, set()
    for item in sorted(source.iterdir()):
        if item.is_dir():
            more, why = _link_or_copy(item, target / item.name)
            copied, reasons = copied + more, reasons | why
            continue
        try:
            os.link(item, target / item.name)
        except OSError as error:
            if error.errno not in LINK_REFUSED:
                raise
            shutil.copy2(item, target / item.name)
            copied, reasons = copied + 1, reasons | {error.strerror or str(error.errno)}
    return copied, reasons


def add_layer(spark, previous: Path, night: Path, final: Path, key: str, rows: int | None = None) -> str:
    """The table `previous` with the rows written at `night` (each key the night
    re-decided, in its current version) on top -> written at `final` (which must not
    exist; `night` is moved or deleted). `rows`, the current records the result holds
    when the caller knows, is kept in the marker (`table_rows`). Returns "layered",
    "compacted" or, when the night re-decided nothing, "unchanged" (the earlier
    night's files, linked)."""
    previous, night, final = Path(previous), Path(night), Path(final)
    night_rows = parquet_rows(night)
    if night_rows == 0:  # nothing re-decided: the table as it was, no new layer
        shutil.rmtree(night)
        link_tree(previous, final)
        return "unchanged"
    stack = layers(previous)
    if stack is None:
        stack = [{"name": None, "rows": parquet_rows(previous)}]
    later_rows = sum(layer["rows"] for layer in stack[1:]) + night_rows
    if len(stack) + 1 > MAX_LAYERS or later_rows > MAX_LAYER_ROWS:
        night_frame = read_parquet(spark, night)
        carried = read_table(spark, previous, key).join(night_frame.select(key), on=key, how="left_anti")
        carried.select(*night_frame.columns).unionByName(night_frame).write.parquet(str(final))
        shutil.rmtree(night)
        return "compacted"
    written = []
    for index, layer in enumerate(stack):
        name = f"{index:04d}"
        source = previous if layer["name"] is None else previous / LAYERS_DIR / layer["name"]
        link_tree(source, final / LAYERS_DIR / name)
        written.append({"name": name, "rows": layer["rows"]})
    name = f"{len(stack):04d}"
    os.replace(night, final / LAYERS_DIR / name)
    written.append({"name": name, "rows": night_rows})
    marker = {"key": key, "layers": written}
    if rows is not None:
        marker["rows"] = rows
    write_json(final / MARKER, marker)
    return "layered"
