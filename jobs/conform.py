"""Conform: the tables as they stood on the run date.

For each table, the latest version of every record among the valid rows of drops
dated on or before `ds`: greatest `updated_at`, then the latest drop (crossings have
no `updated_at`; the latest drop wins). Only the drop dates decide what is visible,
so re-running an old date after newer drops landed gives the same tables.

A nightly run is incremental: when an earlier run date P has conformed tables built
from exactly the drops dated on or before P that this run sees (same deliveries, same
validator; recorded in conformed/<P>/_built_from.json), conformed(ds) is conformed(P)
merged with the valid rows of the drops dated in (P, ds]: the keys a delta touches are
re-decided (`redecide`), the rest is carried over, with no sort of the history. That
is the same table as `latest_versions` over every drop, because every carried row
comes from a drop dated on or before P, older than any drop of the delta. The run
writes the re-decided records as a new layer over hard links to P's files
(fraud/layers.py:add_layer), so a night writes what it touched, not a copy of the
history. Read every table with `read_conformed` (or fraud/layers.py:read_table). With no
such P, a late or re-delivered drop dated on or before P, a P whose tables hold fewer
rows than FRAUD_INCREMENTAL_MIN_ROWS (`_worth_building_on`), or FRAUD_FULL_REBUILD=1,
the run rebuilds from every validated row.
"""

from __future__ import annotations

import logging
import shutil
from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from features.coverage import feed_coverage, monthly_counts, updated_counts
from fraud import contract, version
from fraud.layers import add_layer, link_tree, parquet_rows, read_table, table_rows
from fraud.layout import Layout
from fraud.records import LINE_NO
from fraud.spark import concurrently, join_keys, read_parquet
from fraud.storage import atomic_dir, read_json, write_json
from fraud.validation import DROP_DATE, VALIDATOR_VERSION, validated_columns
from jobs.stage_io import ConformInputs, ConformResult, Night

log = logging.getLogger(__name__)

BUILT_FROM = "_built_from.json"
CHANGES = "_changes"  # a nightly run: per table, the records it changed (new/ and old/)
NIGHT = "_night"  # a nightly run's scratch: per table, the re-decided records before they become a layer
BASE = "_base"  # a nightly run's scratch: hard links to the base night's tables, pinned for the stage
COVERAGE = "_coverage.json"  # the span each feed covers, and its records per month (features/coverage.py)


def latest_versions(validated: DataFrame, table: contract.Table, ds: date) -> DataFrame:
    """Valid rows of all drops -> one row per primary key as of `ds` (contract columns
    plus `_drop_date`, the drop the winning version came from)."""
    visible = validated.where(F.col(DROP_DATE) <= F.lit(ds))
    order = [F.col("updated_at").desc()] if table.has_updated_at else []
    order += [F.col(DROP_DATE).desc(), F.col(LINE_NO).desc()]
    newest_first = Window.partitionBy(table.primary_key).orderBy(*order)
    return (
        visible.withColumn("_version", F.row_number().over(newest_first))
        .where(F.col("_version") == 1)
        .select(*table.column_names, DROP_DATE)
    )


def redecide(
    previous: DataFrame, delta: DataFrame, table: contract.Table, ds: date, delta_rows: int | None = None
) -> DataFrame:
    """conformed(P) (contract columns plus `_drop_date`) and the valid rows of the drops
    dated after P (`delta_rows` of them, when known) -> the current version of every
    key the delta touches (a carried version can still win: a late delivery of an
    older `updated_at`)."""
    touched = latest_versions(delta, table, ds)
    keys = join_keys(touched.select(table.primary_key).distinct(), at_most=delta_rows)
    contested = (
        previous.select(*table.column_names, DROP_DATE)
        .join(keys, on=table.primary_key, how="left_semi")
        .withColumn(LINE_NO, F.lit(None).cast("bigint"))
    )
    return latest_versions(contested.unionByName(touched.withColumn(LINE_NO, F.lit(0).cast("bigint"))), table, ds)


def write_changes(redecided: DataFrame, previous: DataFrame, table: contract.Table, base: date, into: Path) -> None:
    """The records whose version now comes from a drop dated after the base (`new`:
    added or changed; all are among the night's re-decided records) and their
    versions in conformed(base) (`old`), for the later stages of a nightly run
    (jobs/changes.py)."""
    changed = redecided.where(F.col(DROP_DATE) > F.lit(base))
    changed.write.parquet(str(into / "new"))
    keys = join_keys(
        read_parquet(changed.sparkSession, into / "new").select(table.primary_key),
        at_most=parquet_rows(into / "new"),
    )
    previous.select(*table.column_names, DROP_DATE).join(keys, on=table.primary_key, how="left_semi").write.parquet(
        str(into / "old")
    )


def _validated_rows(layout: Layout, table: contract.Table, after: date) -> int:
    """The valid rows of the drops of `table` dated after `after`, from the files."""
    path = layout.validated_table(table.source, table.name)
    return sum(
        parquet_rows(partition)
        for partition in path.glob(f"{DROP_DATE}=*")
        if date.fromisoformat(partition.name.split("=", 1)[1]) > after
    )


def _validated(spark, layout: Layout, table: contract.Table, after: date | None = None) -> DataFrame:
    """The valid rows of every drop of `table` (or only of those dated after `after`)."""
    path = layout.validated_table(table.source, table.name)
    if any(path.glob(f"{DROP_DATE}=*")):
        rows = read_parquet(spark, path).select(*validated_columns(table))
        return rows if after is None else rows.where(F.col(DROP_DATE) > F.lit(after))
    return spark.createDataFrame([], f"{table.spark_ddl}, `{DROP_DATE}` date, `{LINE_NO}` bigint")


def built_from(drops: list[dict], up_to: date) -> dict:
    """What conformed tables as of `up_to` are built from: the deliveries of the drops
    dated on or before it, the validator that checked them and the pipeline's sources
    (fraud/version.py:source_digest; a night never builds on tables an earlier version
    of the code decided: the first night after a deploy rebuilds)."""
    seen = sorted(
        (d["source"], d["drop_date"], d["manifest_sha256"])
        for d in drops
        if date.fromisoformat(d["drop_date"]) <= up_to
    )
    return {
        "validator_version": VALIDATOR_VERSION,
        "source_sha256": version.source_digest(),
        "drops": [list(entry) for entry in seen],
    }


def _conformed_dates(layout: Layout, before: date) -> list[date]:
    dates = []
    for path in (layout.root / "conformed").glob("????-??-??"):
        try:
            day = date.fromisoformat(path.name)
        except ValueError:
            continue
        if day < before:
            dates.append(day)
    return sorted(dates, reverse=True)


def incremental_base(layout: Layout, ds: date, drops: list[dict] | None) -> tuple[date | None, str]:
    """The latest earlier run date whose conformed tables this run can build on, or
    None, and why."""
    if drops is None:
        return None, "no list of drops"
    checked, newest_by_other_code = [], False
    for day in _conformed_dates(layout, ds):
        marker = layout.conformed(day) / BUILT_FROM
        wanted = built_from(drops, day)
        found = read_json(marker) if marker.exists() else None
        if found == wanted:
            return day, f"conformed {day} plus the drops dated after it"
        if not checked:  # why the newest is no base: other code, or other drops
            newest_by_other_code = found is not None and {**found, "source_sha256": None} == {
                **wanted,
                "source_sha256": None,
            }
        checked.append(day.isoformat())
    if newest_by_other_code:
        return None, f"conformed {checked[0]} was built by other code (the pipeline's sources differ)"
    if checked:
        return None, f"drops dated on or before {', '.join(checked[:3])} changed since their tables were conformed"
    return None, "no earlier conformed date"


def _base_rows(pinned: Path) -> dict[str, int | None]:
    """Each table's rows in the base night's tables pinned in `pinned` (`_pin_base`),
    counted without Spark (None where a layered table recorded no count). Counted on
    the pinned links, which a re-run of the base night cannot move; the size check and
    each table's count after the night's changes both use them."""
    return {name: table_rows(pinned / name) for name in contract.TABLES}


def _worth_building_on(
    base_rows: dict[str, int | None], base: date, at_least: int, why: str
) -> tuple[date | None, str]:
    """(base, why) when the base's tables (`_base_rows`) hold at least `at_least` rows,
    else (None, why not). Building on a night costs Spark work of its own in every later
    stage (the changes, the layers, the carried-over results), whatever the drops hold;
    on a small history computing everything costs less, with the same tables and
    outputs."""
    counted = list(base_rows.values())
    rows = sum(count or 0 for count in counted)
    if at_least > 0 and None not in counted and rows < at_least:
        return None, f"conformed {base} holds {rows:,} rows, under the {at_least:,} a night builds on"
    return base, why


def _pin_base(layout: Layout, base: date, drops: list[dict], pinned: Path, why: str) -> tuple[date | None, str]:
    """Hard-link conformed(base) into `pinned` and check it is still what
    `incremental_base` accepted -> (base, why), or (None, why) for a full rebuild.

    Another run date can re-run `base` meanwhile (a cleared Airflow run, with the
    nightly DAG's two active runs), swapping in new tables: the links keep the version
    checked here for the whole stage, so no table is built on one version of the base
    and another table on the next."""
    try:
        link_tree(layout.conformed(base), pinned)
        same = read_json(pinned / BUILT_FROM) == built_from(drops, base)
    except FileNotFoundError:
        same = False
    if same:
        return base, why
    shutil.rmtree(pinned, ignore_errors=True)
    return None, f"conformed {base} was replaced while this run read it"


def run(spark, inputs: ConformInputs, night: Night) -> ConformResult:
    """Read validated/ and conformed/ in the warehouse; write conformed/<ds>/<table>/ and
    its _built_from.json. Returns row counts and how the tables were built."""
    ds = night.ds
    layout = Layout(night.warehouse)
    drops = inputs.drops
    if night.full_rebuild:
        base, why = None, "full rebuild asked for"
    else:
        base, why = incremental_base(layout, ds, drops)
    counts, storage, base_rows = {}, {}, {}
    with atomic_dir(layout.conformed(ds)) as staging:
        if base is not None:
            base, why = _pin_base(layout, base, drops, staging / BASE, why)
        if base is not None:  # a base not built on stays pinned until the rmtree below
            base_rows = _base_rows(staging / BASE)
            base, why = _worth_building_on(base_rows, base, night.incremental_min_rows, why)

        def conform(table: contract.Table) -> tuple[str, int]:
            """One table, built in full or as the base's table plus the night's layer
            -> (how it is stored, its rows)."""
            key, final = table.primary_key, staging / table.name
            if base is None:
                latest_versions(_validated(spark, layout, table), table, ds).write.parquet(str(final))
                stored, rows = "full", parquet_rows(final)
            else:
                previous_path = staging / BASE / table.name
                previous = read_table(spark, previous_path, key)
                changed, changes = staging / NIGHT / table.name, staging / CHANGES / table.name
                delta = _validated(spark, layout, table, after=base)
                redecide(previous, delta, table, ds, _validated_rows(layout, table, base)).write.parquet(str(changed))
                write_changes(read_parquet(spark, changed), previous, table, base, changes)
                # Each changed record either replaced its old version or is new.
                before = base_rows[table.name]
                rows = (
                    None if before is None else before + parquet_rows(changes / "new") - parquet_rows(changes / "old")
                )
                stored = add_layer(spark, previous_path, changed, final, key, rows)
            return stored, read_table(spark, final, key).count() if rows is None else rows

        # Each table is built from its own inputs into its own directories: side by side.
        tables = list(contract.TABLES.values())
        for table, (stored, rows) in zip(tables, concurrently(spark, conform, tables)):
            storage[table.name], counts[table.name] = stored, rows
        write_json(staging / COVERAGE, _coverage(spark, staging, base, ds))
        shutil.rmtree(staging / NIGHT, ignore_errors=True)
        shutil.rmtree(staging / BASE, ignore_errors=True)
        if drops is not None:
            write_json(staging / BUILT_FROM, built_from(drops, ds))
    mode = "full" if base is None else "incremental"
    log.info(
        "conformed as of %s (%s: %s): %s",
        ds,
        mode,
        why,
        ", ".join(f"{k} {v} ({storage[k]})" for k, v in counts.items()),
    )
    return ConformResult(
        ds=ds.isoformat(),
        conformed=str(layout.conformed(ds)),
        rows=counts,
        storage=storage,
        mode=mode,
        base=base.isoformat() if base else None,
        why=why,
    )


def read_changes(spark, changes: Path) -> tuple[dict[str, DataFrame], dict[str, DataFrame]]:
    """The change sets `write_changes` wrote under `changes`, per table -> (new
    versions, old versions)."""
    new = {name: read_parquet(spark, changes / name / "new") for name in contract.TABLES}
    old = {name: read_parquet(spark, changes / name / "old") for name in contract.TABLES}
    return new, old


def _coverage(spark, staging: Path, base: date | None, ds: date) -> dict:
    """The feeds' monthly counts and the span each covers (features/coverage.py), for
    the tables just written under `staging`: from the base night's counts and the
    night's changes when it built on one, else from the tables."""
    base_file = staging / BASE / COVERAGE
    if base is not None and base_file.exists():
        new, old = read_changes(spark, staging / CHANGES)
        months = updated_counts(read_json(base_file)["months"], new, old)
    else:
        months = monthly_counts(
            {name: read_table(spark, staging / name, table.primary_key) for name, table in contract.TABLES.items()}
        )
    return {"coverage": feed_coverage(months, ds), "months": months}


def coverage_of(conformed: Path) -> dict:
    """The spans the feeds of conformed tables cover (`_coverage.json`), by
    "source/table" (features/coverage.py:feed_coverage)."""
    path = Path(conformed) / COVERAGE
    return read_json(path)["coverage"] if path.exists() else {}


def read_conformed(spark, conformed: Path) -> dict[str, DataFrame]:
    """The conformed tables of one run date, by name (what later stages read)."""
    conformed = Path(conformed)
    missing = [name for name in contract.TABLES if not (conformed / name).exists()]
    if missing:
        raise FileNotFoundError(f"conformed table(s) {', '.join(missing)} missing under {conformed}")
    return {name: read_table(spark, conformed / name, table.primary_key) for name, table in contract.TABLES.items()}
