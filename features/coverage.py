"""What span of time each feed covers, measured from its own records.

Each agency's baseline holds the history that agency keeps, and the spans differ
(FEEDS.md): employment spells may reach back a decade while tax statements start a few
years ago. A feed's silence (no tax statement for a spell, no insured employment behind
a wage) is evidence only inside the span that feed covers; before it, a missing record
is a gap in the feed, not a fact about the person.

The span of a table runs from the first month in which its records reach
`DENSITY` of its typical (median) monthly volume, counted by the table's own date
(`COVERAGE_DATES`), to the run date. A few stray old records (a correction re-sent for
a spell of long ago) do not move the start; a feed whose history begins later than
another's shows that in its own counts. Months are counted per table and kept, so the
measure is the same whatever the run reads (`monthly_counts`, `coverage_from`).
"""

from __future__ import annotations

import datetime as dt
from statistics import median

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.trips import kst_day

TAX_FEED = "nts/income"
EMPLOYMENT_FEED = "ei/employments"

# A month is covered once its records reach this share of the table's median month.
DENSITY = 0.25

# (source, table) -> the date that places a record in time.
COVERAGE_DATES = {
    ("ei", "employments"): "acquired_on",
    ("ei", "claims"): "filed_on",
    ("ei", "certifications"): "cert_on",
    ("ei", "findings"): "decided_on",
    ("nts", "income"): "work_from",
    ("moj", "crossings"): "crossed_at",
}


def _record_day(table: DataFrame, column: str):
    return kst_day(F.col(column)) if dict(table.dtypes)[column] == "timestamp" else F.col(column)


def _months(frames: dict[tuple[str, str], tuple[DataFrame, str]]) -> dict[tuple[str, str], dict[str, int]]:
    """Records per month of their coverage date for several (frame, date column)
    pairs keyed by (table, side), in one aggregate: one Spark job, not one a frame."""
    parts = [
        frame.select(F.lit(table).alias("_table"), F.lit(side).alias("_side"), _record_day(frame, column).alias("_day"))
        for (table, side), (frame, column) in frames.items()
    ]
    counted: dict[tuple[str, str], dict[str, int]] = {tag: {} for tag in frames}
    if not parts:
        return counted
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    rows = (
        union.select("_table", "_side", F.date_format("_day", "yyyy-MM").alias("month"))
        .where(F.col("month").isNotNull())
        .groupBy("_table", "_side", "month")
        .count()
        .collect()
    )
    for row in rows:
        counted[(row["_table"], row["_side"])][row["month"]] = int(row["count"])
    return counted


def monthly_counts(tables: dict[str, DataFrame]) -> dict[str, dict[str, int]]:
    """The conformed tables -> per "source/table", records per month ("YYYY-MM") of its
    coverage date. One aggregate over every table."""
    counted = _months({(name, "all"): (tables[name], column) for (_, name), column in COVERAGE_DATES.items()})
    return {f"{source}/{name}": dict(sorted(counted[(name, "all")].items())) for source, name in COVERAGE_DATES}


def updated_counts(
    counts: dict[str, dict[str, int]], new: dict[str, DataFrame], old: dict[str, DataFrame]
) -> dict[str, dict[str, int]]:
    """A base night's monthly counts and, per table, the records a night changed
    (`new`) with their base versions (`old`, jobs/conform.py:write_changes) -> the
    counts of the night: exactly `monthly_counts` of its tables, without reading them."""
    counted = _months(
        {
            (name, side): (frames[name], column)
            for (_, name), column in COVERAGE_DATES.items()
            for side, frames in (("new", new), ("old", old))
        }
    )
    result = {}
    for source, name in COVERAGE_DATES:
        months = dict(counts.get(f"{source}/{name}", {}))
        for month, count in counted[(name, "new")].items():
            months[month] = months.get(month, 0) + count
        for month, count in counted[(name, "old")].items():
            months[month] = months.get(month, 0) - count
        result[f"{source}/{name}"] = dict(sorted((m, c) for m, c in months.items() if c > 0))
    return result


def coverage_from(months: dict[str, int]) -> dt.date | None:
    """Monthly counts -> the first day of the first month that reaches DENSITY of the
    median month (None: the table is empty)."""
    if not months:
        return None
    typical = median(months.values())
    first = min(month for month, count in months.items() if count >= DENSITY * typical)
    return dt.date.fromisoformat(f"{first}-01")


def feed_coverage(counts: dict[str, dict[str, int]], as_of: dt.date) -> dict[str, dict]:
    """Monthly counts (`monthly_counts`) -> per "source/table": the span it covers
    (`from`, `to` = the run date; `from` null for an empty table), the date that places
    its records and how many there are. What the run manifest records."""
    coverage = {}
    for (source, name), column in COVERAGE_DATES.items():
        months = counts.get(f"{source}/{name}", {})
        start = coverage_from(months)
        coverage[f"{source}/{name}"] = {
            "from": start.isoformat() if start else None,
            "to": as_of.isoformat(),
            "by": column,
            "records": sum(months.values()),
        }
    return coverage


def covered_from(coverage: dict[str, dict], feed: str) -> dt.date | None:
    """The first day `feed` ("source/table") covers, or None when it holds nothing."""
    start = (coverage.get(feed) or {}).get("from")
    return dt.date.fromisoformat(start) if start else None


def coverage_of_tables(tables: dict[str, DataFrame], as_of: dt.date) -> dict[str, dict]:
    """The spans of complete conformed tables, measured from them (what conform
    records in `_coverage.json`; for a caller holding the whole tables)."""
    return feed_coverage(monthly_counts(tables), as_of)
