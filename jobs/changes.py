"""What a nightly run changed, and whether a stage may build on the night before.

A nightly run builds on an earlier run date P (jobs/conform.py:incremental_base):
conformed(ds) is conformed(P) with the keys the drops dated in (P, ds] touched
re-decided. A record of conformed(ds) whose `_drop_date` is after P is new or changed
(when the winning version is still the carried one, its `_drop_date` is P's or older:
nothing changed). Its version in conformed(P), when it had one, is what it replaced;
both matter, since a record can move (a claim to another workplace, a statement to
another payer) and then both its old and its new neighbours are affected. Conform
writes both, per table, under conformed/<ds>/_changes/ (`write_changes`).

The graph and cross-matching stages use them to recompute only what the night
touched and carry over the rest of the base night's results. A stage builds on P
only when it ran for P with the same code (commit and source digest), libraries,
rules and configuration on the conformed tables this night builds on, and every
feed's span (features/coverage.py) is where it was on P (`stage_state`,
`usable_base`); otherwise it computes everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import reduce
from importlib import metadata
from pathlib import Path
from typing import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraud import version
from fraud.layout import Layout
from fraud.storage import read_json
from jobs.conform import BUILT_FROM, CHANGES, coverage_of, read_changes
from jobs.stage_io import Night
from rules.ruleset import RULES_VERSION

STATE_FILE = "_state.json"
# Libraries whose version can change what a stage computes (rings' communities and
# pictures, pandas grouping, Spark itself).
STATE_LIBRARIES = ("pyspark", "networkx", "pandas", "numpy", "pyarrow")


@dataclass
class NightChanges:
    """Per table, the changed records of conformed(ds) (`new`) and the conformed(base)
    versions of the same keys (`old`; absent for a record the night added)."""

    base: dt.date
    new: dict[str, DataFrame]
    old: dict[str, DataFrame]

    def values(self, column: str, *tables: str) -> DataFrame:
        """The distinct non-null values of `column` in the new and old versions of the
        changed records of `tables`, as one column named `column`."""
        frames = [side[name].select(column) for name in tables for side in (self.new, self.old)]
        return reduce(DataFrame.unionByName, frames).where(F.col(column).isNotNull()).distinct()


def night_changes(spark, layout: Layout, ds: dt.date, base: dt.date) -> NightChanges:
    """The changes conform wrote for the night (jobs/conform.py:write_changes) ->
    NightChanges."""
    return NightChanges(base, *read_changes(spark, layout.conformed(ds) / CHANGES))


def stage_state(stage: str, layout: Layout, ds: dt.date, night: Night) -> dict:
    """What a stage's carried-over results of `ds` depend on: the code, the rule set,
    the stage's configuration (`night`'s) and the deliveries behind conformed(ds)."""
    built_from = layout.conformed(ds) / BUILT_FROM
    return {
        "stage": stage,
        "code_version": night.code_version,
        "source_sha256": version.source_digest(),
        "rules_version": RULES_VERSION,
        "hub_max_degree": night.hub_max_degree,
        "libraries": {name: metadata.version(name) for name in STATE_LIBRARIES},
        "built_from": read_json(built_from) if built_from.exists() else None,
    }


def usable_base(
    stage: str, layout: Layout, ds: dt.date, base, night: Night, state_dir: Callable[[dt.date], Path]
) -> tuple[dt.date | None, str]:
    """The date conform built on (`base`: a date, its ISO text or None), when `stage`
    may carry over that night's results (kept in `state_dir(base)`), or None and why
    not."""
    if night.full_rebuild:
        return None, "full rebuild asked for"
    if not base:
        return None, "conform rebuilt every table"
    base = base if isinstance(base, dt.date) else dt.date.fromisoformat(str(base))
    if not (layout.conformed(ds) / CHANGES).exists():
        return None, f"conform wrote no changes since {base}"
    marker = state_dir(base) / STATE_FILE
    if not marker.exists():
        return None, f"no {stage} state of {base}"
    if read_json(marker) != stage_state(stage, layout, base, night):
        return None, f"the {stage} state of {base} was made by other code, rules, configuration or drops"
    if _spans(layout.conformed(ds)) != _spans(layout.conformed(base)):
        # Silence counts as evidence only inside a feed's span: where it moved, any
        # claim's evidence can change.
        return (
            None,
            f"a feed's span changed since {base} ({_spans(layout.conformed(base))} -> {_spans(layout.conformed(ds))})",
        )
    return base, f"{stage} of {base} plus what the drops dated after it touched"


def _spans(conformed: Path) -> dict[str, str | None]:
    return {feed: span["from"] for feed, span in sorted(coverage_of(conformed).items())}
