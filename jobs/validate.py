"""Validate: split the landed records of every drop not yet validated into valid rows
(typed, under validated/) and quarantined rows (original text and reason, under
quarantine/), check each drop's valid rows against the table's earlier deltas with
Great Expectations (volume and drift, fraud/expectations.py), and record the counts,
the drift result and the drop's profile per drop and table in state/drops/. Counts
always add up: rows_in = valid + quarantined, and rows_in is the manifest's row count.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from fraud import contract, expectations
from fraud.layout import Layout
from fraud.records import landed_schema
from fraud.spark import concurrently, read_parquet
from fraud.storage import ensure_dir, read_json, recover, restrict_tree, write_csv, write_json
from fraud.text import printable
from fraud.validation import (
    DROP_DATE,
    VALID,
    VALIDATOR_VERSION,
    check_rows,
    packed,
    quarantined_rows,
    unpacked,
    validated_columns,
)
from jobs.ingest import READING_FILE
from jobs.stage_io import Night, ValidateInputs, ValidateResult

log = logging.getLogger(__name__)

QUARANTINE_HEADER = ["source", "drop_date", "table", "line_no", "column", "check", "reason", "raw_line"]
# Up to this many quarantined rows of a table are sorted on the driver, in one Spark job.
QUARANTINE_COLLECT_ROWS = 100_000
# Up to this many drops of a table (a night's: one) are counted as their checked rows are
# written, a metric per drop and column; a catch-up of more (a fresh warehouse, a new
# validator version) is counted after the write, in one grouped pass.
OBSERVED_DROPS_MAX = 8


class ValidationError(Exception):
    """Validation could not vouch for a drop (counts that do not add up). One line; the
    run stops on it."""


class History:
    """The profiles of one table's earlier deltas, oldest first: from the drop states on
    disk, or from this run for the drops it validates (which win). The baseline, the
    source's first drop, is no delta and never part of a history."""

    def __init__(self, layout: Layout, table: contract.Table, drop_dates: list[str]):
        self._layout, self._table = layout, table
        dates = sorted(set(drop_dates))
        self._deltas = dates[1:]
        self._fresh: dict[str, dict] = {}
        self._stored_profiles: dict[str, dict | None] = {}

    def add(self, drop_date: str, profile: dict) -> None:
        self._fresh[drop_date] = profile

    def before(self, drop_date: str) -> list[dict]:
        profiles = []
        for day in [d for d in self._deltas if d < drop_date]:
            profile = self._fresh.get(day) or self._stored(day)
            if profile is not None:
                profiles.append(profile)
        return profiles[-expectations.HISTORY_DROPS :]

    def _stored(self, drop_date: str) -> dict | None:
        """A drop's profile from its state file, read once per table and run."""
        if drop_date not in self._stored_profiles:
            path = self._layout.drop_state(self._table.source, date.fromisoformat(drop_date))
            state = read_json(path) if path.exists() else {"tables": {}}
            self._stored_profiles[drop_date] = (state["tables"].get(self._table.name) or {}).get("profile")
        return self._stored_profiles[drop_date]


def pending_drops(layout: Layout, drops: list[dict]) -> list[dict]:
    """Drops whose current delivery has not been validated by this validator version."""
    pending = []
    for drop in drops:
        state_path = layout.drop_state(drop["source"], date.fromisoformat(drop["drop_date"]))
        if state_path.exists():
            state = read_json(state_path)
            if (
                state.get("manifest_sha256") == drop["manifest_sha256"]
                and state.get("validator_version") == VALIDATOR_VERSION
            ):
                continue
        pending.append(drop)
    return pending


def _landed(spark, layout: Layout, table: contract.Table, drops: list[dict]) -> DataFrame:
    frames = []
    for drop in drops:
        path = layout.landed_drop(table.source, date.fromisoformat(drop["drop_date"])) / f"{table.name}.parquet"
        schema = landed_schema(path, table)
        reader = spark.read if schema is None else spark.read.schema(schema)
        frames.append(reader.parquet(str(path)).withColumn(DROP_DATE, F.lit(drop["drop_date"]).cast("date")))
    combined = frames[0]
    for frame in frames[1:]:
        combined = combined.unionByName(frame)
    return combined


def _replace_partitions(staging: Path, target: Path, drop_dates: list[str]) -> None:
    """Swap each drop's partition written under `staging` into `target`; a drop with no
    valid rows loses any partition an earlier delivery left."""
    ensure_dir(target)
    for drop_date in drop_dates:
        name = f"{DROP_DATE}={drop_date}"
        new, old = staging / name, target / name
        recover(old)
        aside = target / f".{name}.previous-{uuid.uuid4().hex[:8]}"
        if old.exists():
            os.replace(old, aside)
        if new.exists():
            os.replace(new, old)
        if aside.exists():
            shutil.rmtree(aside)
    shutil.rmtree(staging, ignore_errors=True)


def _write_quarantine(
    spark, layout: Layout, table: contract.Table, checked: Path, schema, drop_dates: list[str], quarantined: int
) -> int:
    """One CSV per drop and table, from the rejected rows among the checked rows written
    to `checked` (with `schema`), in delivered order. `quarantined` rows in all:
    none costs no Spark job; up to QUARANTINE_COLLECT_ROWS are collected at once and
    sorted here (one job); more are sorted by Spark and streamed to the driver a
    partition at a time (never the whole table at once). Control characters in the
    delivered line and in the reason (which quotes the value) are written as \\xNN, the
    way fraud/records.py shows bytes it could not decode. Returns the rows written."""
    for drop_date in drop_dates:
        layout.quarantine_file(table.source, date.fromisoformat(drop_date), table.name).unlink(missing_ok=True)
    if not quarantined:
        return 0
    rejected = unpacked(_read_checked(spark, checked, schema).where(~F.col(VALID)))
    found = quarantined_rows(rejected, table.source, table)
    if quarantined <= QUARANTINE_COLLECT_ROWS:
        rows = iter(sorted(found.collect(), key=lambda row: (row["drop_date"], row["line_no"])))
    else:
        rows = found.orderBy("drop_date", "line_no").toLocalIterator()
    written = 0
    for drop_date, group in itertools.groupby(rows, key=lambda row: row["drop_date"]):
        path = layout.quarantine_file(table.source, date.fromisoformat(drop_date), table.name)
        written += write_csv(
            path, QUARANTINE_HEADER, ([_shown(row[name]) for name in QUARANTINE_HEADER] for row in group)
        )
    return written


def _read_checked(spark, path: Path, schema) -> DataFrame:
    """The checked rows `check_table` wrote to `path` with `schema`, the frame's it
    wrote: Spark would otherwise infer it (a job) and read `_valid`, a partition's
    value, back as text."""
    return spark.read.schema(schema).parquet(str(path))


def _shown(value):
    return printable(value) if isinstance(value, str) else value


def _drop_rows(spark, layout: Layout, table: contract.Table, drop_date: str, valid: int):
    """The valid rows of one drop, for GX: a pandas frame read from the drop's
    partition when they are few (expectations.PANDAS_MAX_ROWS), else a Spark frame."""
    validated = layout.validated_table(table.source, table.name)
    if valid <= expectations.PANDAS_MAX_ROWS:
        return expectations.read_parquet_frame(validated / f"{DROP_DATE}={drop_date}", list(table.column_names))
    return read_parquet(spark, validated).where(_of_drop(drop_date)).select(*validated_columns(table))


def _count_columns(nullable: list[str], among=None) -> dict:
    """What `check_table` counts of a drop, by name: `rows`, `valid`, and `present_j`,
    the non-null values of the j-th nullable column among the valid rows (what GX's
    shares of that column are shares of). `among`: which rows are the drop's (a
    condition), when the rows of other drops are counted in the same pass."""
    among = F.lit(True) if among is None else among
    is_valid = among & F.col(VALID)
    return {
        "rows": F.count_if(among),
        "valid": F.count_if(is_valid),
        **{f"present_{j}": F.count_if(is_valid & F.col(c).isNotNull()) for j, c in enumerate(nullable)},
    }


def _of_drop(drop_date: str):
    """The rows of the drop dated `drop_date`."""
    return F.col(DROP_DATE) == F.lit(drop_date).cast("date")


@dataclass
class Checked:
    """What the row validator found in one table's pending drops (`drop_dates`, in
    order): per drop date, the rows delivered and valid, and the non-null values of
    each nullable column among the valid rows."""

    drop_dates: list[str]
    counts: dict[str, tuple[int, int]]
    present: dict[str, dict[str, int]]


def check_table(spark, layout: Layout, table: contract.Table, drops: list[dict]) -> Checked:
    """Check one table's rows over the pending drops of its source: its valid rows
    replace each drop's partition of the validated table, its rejected rows are the
    drop's quarantine file. Spark work only (no GX): the tables of a night are
    checked concurrently (fraud/spark.py:concurrently).

    The checked rows are written once, partitioned by drop and by whether they are
    valid: each drop's valid partition is moved into the validated table as it is
    (`packed`: its files carry one null column beside the validated columns), and the
    quarantine is read from the rejected partitions alone. Nothing is written twice."""
    drop_dates = sorted(d["drop_date"] for d in drops)
    checked_path = layout.root / "tmp" / f"checked-{table.source}-{table.name}-{uuid.uuid4().hex[:8]}"
    nullable = [column.name for column in table.columns if not column.required]
    rows_in = sum(_landed_rows(layout, drop, table.name) for drop in drops)
    checked = packed(check_rows(_landed(spark, layout, table, drops), table, rows=rows_in), table)
    names = list(_count_columns(nullable))
    counted = Observation() if len(drop_dates) <= OBSERVED_DROPS_MAX else None
    if counted is not None:  # counted as the checked rows are written, a metric per drop and count
        checked = checked.observe(
            counted,
            *[
                column.alias(f"{name}_{i}")
                for i, drop_date in enumerate(drop_dates)
                for name, column in _count_columns(nullable, _of_drop(drop_date)).items()
            ],
        )
    checked.write.partitionBy(DROP_DATE, VALID).parquet(str(checked_path))
    try:
        if counted is not None:
            by_drop = {d: {name: counted.get[f"{name}_{i}"] for name in names} for i, d in enumerate(drop_dates)}
        else:  # a catch-up of many drops: one grouped pass, not every row tested against each drop
            stored = _read_checked(spark, checked_path, checked.schema)
            grouped = stored.groupBy(DROP_DATE).agg(*[c.alias(n) for n, c in _count_columns(nullable).items()])
            found = {str(row[DROP_DATE]): row.asDict() for row in grouped.collect()}
            by_drop = {d: found.get(d, dict.fromkeys(names, 0)) for d in drop_dates}
        counts = {d: (by_drop[d]["rows"], by_drop[d]["valid"]) for d in drop_dates}
        present = {d: {c: by_drop[d][f"present_{j}"] for j, c in enumerate(nullable)} for d in drop_dates}
        staging = ensure_dir(
            layout.validated_table(table.source, table.name).with_name(f".{table.name}.staging-{uuid.uuid4().hex[:8]}")
        )
        for drop_date in drop_dates:
            kept = checked_path / f"{DROP_DATE}={drop_date}" / f"{VALID}=true"
            if kept.exists():
                os.replace(kept, staging / f"{DROP_DATE}={drop_date}")
        restrict_tree(staging)
        _replace_partitions(staging, layout.validated_table(table.source, table.name), drop_dates)
        quarantined = sum(rows - valid for rows, valid in counts.values())
        written = _write_quarantine(spark, layout, table, checked_path, checked.schema, drop_dates, quarantined)
        if written != quarantined:  # the counts come from the write of the checked rows, these from reading them
            raise ValidationError(
                f"{table.source}/{table.name}: {quarantined} rows counted as quarantined but {written} written"
            )
        return Checked(drop_dates=drop_dates, counts=counts, present=present)
    finally:
        shutil.rmtree(checked_path, ignore_errors=True)


def expect_drops(
    spark, layout: Layout, table: contract.Table, checked: Checked, docs_dir: Path, history: History
) -> dict:
    """GX over each checked drop's valid rows, in date order, adding each drop's
    profile to `history`. Returns per drop date {"rows", "valid", "quarantined", "gx"}."""
    results = {}
    for drop_date in checked.drop_dates:
        rows, valid_count = checked.counts.get(drop_date, (0, 0))
        gx = None
        if valid_count:
            drop_valid = _drop_rows(spark, layout, table, drop_date, valid_count)
            gx = expectations.validate_drop(
                drop_valid,
                table,
                f"{table.source}/{drop_date}/{table.name}",
                docs_dir / table.source / drop_date,
                rows=valid_count,
                history=history.before(drop_date),
                present=checked.present[drop_date],
            )
            history.add(drop_date, gx["profile"])
        else:
            history.add(drop_date, expectations.empty_profile())
        results[drop_date] = {"rows": rows, "valid": valid_count, "quarantined": rows - valid_count, "gx": gx}
    return results


def run(spark, inputs: ValidateInputs, night: Night) -> ValidateResult:
    """Validate the drops ingest listed that were not validated before, and write their
    state files. Returns the drops validated now."""
    ds = night.ds
    layout = Layout(night.warehouse)
    pending = pending_drops(layout, inputs.drops)
    docs_dir = layout.data_docs(ds)
    by_source: dict[str, list[dict]] = {}
    for drop in pending:
        by_source.setdefault(drop["source"], []).append(drop)

    per_drop: dict[tuple[str, str], dict] = {}
    histories: dict[tuple[str, str], History] = {}
    to_check: list[tuple[contract.Table, list[dict]]] = []
    for source, drops in sorted(by_source.items()):
        visible = [d["drop_date"] for d in inputs.drops if d["source"] == source]
        for table in contract.tables_of(source):
            history = histories[(source, table.name)] = History(layout, table, visible)
            delivered = []
            for drop in drops:
                if _landed_rows(layout, drop, table.name):
                    delivered.append(drop)
                else:
                    history.add(drop["drop_date"], expectations.empty_profile())
            if delivered:  # nothing delivered for this table in any pending drop: nothing to check
                to_check.append((table, delivered))
    # The row checks of different tables are independent Spark work: run them side
    # by side. GX then runs table by table, in order, on what they wrote.
    checked = concurrently(spark, lambda item: check_table(spark, layout, *item), to_check)
    for (table, _), found in zip(to_check, checked):
        history = histories[(table.source, table.name)]
        for drop_date, result in expect_drops(spark, layout, table, found, docs_dir, history).items():
            per_drop.setdefault((table.source, drop_date), {})[table.name] = result

    validated = []
    for drop in pending:
        key = (drop["source"], drop["drop_date"])
        day = date.fromisoformat(drop["drop_date"])
        reading = read_json(layout.landed_drop(drop["source"], day) / READING_FILE)
        tables = {}
        for name, landed in reading["tables"].items():
            result = per_drop.get(key, {}).get(name, {"rows": 0, "valid": 0, "quarantined": 0, "gx": None})
            if result["gx"] is None:
                history = histories[(drop["source"], name)]
                result = {
                    **result,
                    "gx": expectations.check_empty_drop(
                        contract.TABLES[name],
                        f"{drop['source']}/{drop['drop_date']}/{name}",
                        history.before(drop["drop_date"]),
                    ),
                }
            if result["rows"] != landed["rows_in"] or result["valid"] + result["quarantined"] != landed["rows_in"]:
                raise ValidationError(
                    f"{drop['source']}/{drop['drop_date']}/{name}: {landed['rows_in']} rows landed but "
                    f"{result['valid']} valid + {result['quarantined']} quarantined"
                )
            tables[name] = {
                "rows_in": landed["rows_in"],
                "valid": result["valid"],
                "quarantined": result["quarantined"],
                "rejected": landed["rejected"],
                "extra_columns": landed["extra_columns"],
                "expectations": _gx_summary(result["gx"], layout),
                "profile": result["gx"]["profile"] if result["gx"] else expectations.empty_profile(),
            }
        state = {
            "source": drop["source"],
            "drop_date": drop["drop_date"],
            "manifest_sha256": drop["manifest_sha256"],
            "encoding": reading["encoding"],
            "validator_version": VALIDATOR_VERSION,
            "tables": tables,
        }
        write_json(layout.drop_state(drop["source"], day), state)
        validated.append(
            {
                "source": drop["source"],
                "drop_date": drop["drop_date"],
                "quarantined": sum(t["quarantined"] for t in tables.values()),
            }
        )
        log.info(
            "validated %s/%s: %s",
            drop["source"],
            drop["drop_date"],
            ", ".join(f"{n} {t['valid']}/{t['rows_in']}" for n, t in tables.items()),
        )
    return ValidateResult(ds=ds.isoformat(), drops=inputs.drops, validated_now=validated)


def _landed_rows(layout: Layout, drop: dict, table_name: str) -> int:
    reading = read_json(layout.landed_drop(drop["source"], date.fromisoformat(drop["drop_date"])) / READING_FILE)
    return reading["tables"][table_name]["rows_in"]


def _gx_summary(gx: dict | None, layout: Layout) -> dict | None:
    """Whether the drop lies within its table's history, the checks outside it with their
    reasons, and where GX's result and page are (none for a drop without valid rows)."""
    if gx is None:
        return None
    return {
        "success": gx["success"],
        "evaluated": gx["evaluated"],
        "drift": [{"column": f["column"], "reason": f["reason"]} for f in gx["failed"]],
        "results": os.path.relpath(gx["results_path"], layout.root) if gx["results_path"] else None,
        "docs": os.path.relpath(gx["docs_path"], layout.root) if gx["docs_path"] else None,
    }
