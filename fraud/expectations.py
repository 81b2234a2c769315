"""Great Expectations checks of each drop against the drops before it: volume and drift.

The row validator (fraud/validation.py) is the one row-level check: it checks every
delivered row against the contract and quarantines the bad ones. What it cannot see is
a drop that is valid row by row but unlike its own feed's past: a table that delivers a
tenth of its usual rows, a column that is suddenly mostly empty, a code whose share
collapses (a feed that stops sending `IN` crossings), amounts in another unit. Great
Expectations (GX) checks that, per drop and table, on the drop's valid rows:

- volume: the row count lies within half the smallest and twice the largest of the
  table's last HISTORY_DROPS deltas;
- null shares of the nullable columns, the share of each code of the code columns, and,
  for integer columns, the share of values outside the range the history holds: each an
  expectation with `mostly`. The `mostly` is computed so that a drop fails only when its
  share lies beyond the history's share, by more than sampling noise on both sides
  (Wilson intervals at Z standard errors) plus SLACK.

The history is the profile of each earlier delta of the same table: its row count, null
and code counts and integer ranges, exact integers read from GX's own results and kept in
the drop's state. The baseline, the first drop of a source, holds the agency's whole
history and is not a delta: it is compared with nothing and only observed. A table is
judged once it has MIN_HISTORY deltas. These numbers are relative to the table's own
past, not fitted to any data set.

A drop outside its history is a warning for the operator, not a failure of the run: its
rows are valid by the contract. The drop's state, the run manifest and the report say
which check and why, in one line each.

GX bundles a suite's aggregate metrics into a few Spark jobs over the drop (there is no
row-level expectation, no uniqueness, no query per expectation), so a drop costs in
proportion to its rows, not to the number of expectations. A drop of at most
PANDAS_MAX_ROWS valid rows (a night's delta) is handed over as a pandas frame read from
its validated Parquet instead, and checked by GX's pandas engine: the same suite gives
the same results, without the dozen Spark jobs (about two seconds a table) that cost
more than the rows they count. GX runs inside an in-memory (ephemeral) context: nothing
is written outside `docs_dir`, nothing goes to the network. GX's own data docs load
scripts from CDNs, so the HTML written here is our own single-file summary instead.
"""

from __future__ import annotations

import html
import json
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from fraud import contract
from fraud.proportions import wilson
from fraud.storage import atomic_file, ensure_dir
from fraud.text import printable

# GX reads this when a context is made; the context configuration below turns analytics
# off as well, so the env variable only backs it up.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# GX logs INFO lines at import (one per decorated API function) and per expectation;
# keep them out of the task logs unless someone configured GX's logger on purpose.
_gx_logger = logging.getLogger("great_expectations")
if _gx_logger.level == logging.NOTSET:
    _gx_logger.setLevel(logging.WARNING)

with warnings.catch_warnings():
    # GX imports the deprecated sre_constants/sre_parse modules.
    warnings.simplefilter("ignore", DeprecationWarning)
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

# The deltas a drop is compared with: the most recent ones, at most this many.
HISTORY_DROPS = 28
# A table is judged once it has this many earlier deltas; before that it is observed.
MIN_HISTORY = 3
# The row count may fall to 1/VOLUME_FACTOR of the smallest, or rise to VOLUME_FACTOR
# times the largest, of the history's.
VOLUME_FACTOR = 2
# Standard errors of sampling noise allowed on each side (Wilson intervals).
Z = 3.0
# Rows a count may rise above VOLUME_FACTOR times the history's largest: the noise of a
# small count (Z standard deviations of a count of about one, Poisson), so a table that
# is usually all but empty is not drift for delivering a handful.
NOISE_ROWS = 9
# A share may move this much beyond the noise (absolute) before it is drift.
SLACK = 0.05

# A drop of at most this many valid rows is checked on pandas (read_parquet_frame): one
# column of 100,000 values is a few MB in memory, and a night's deltas are below it.
PANDAS_MAX_ROWS = 100_000

# BASIC gives each expectation's unexpected_count and observed_value, which the profile
# is read from; no list of values (there is no bad row to show).
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}

# What each expectation measures (its meta "measure"); the observed ones are kept in
# the profile.
ROWS, NULLS, CODE, CODE_FLOOR, MINIMUM, MAXIMUM, OUTSIDE = (
    "rows",
    "nulls",
    "code",
    "code_floor",
    "min",
    "max",
    "outside_range",
)


def empty_profile(rows: int = 0) -> dict:
    return {"rows": rows, "nulls": {}, "codes": {}, "ranges": {}}


def volume_bounds(history: Sequence[dict]) -> tuple[int, int] | None:
    """The row counts a drop may have given its history, or None before MIN_HISTORY."""
    history = list(history)[-HISTORY_DROPS:]
    if len(history) < MIN_HISTORY:
        return None
    counts = [profile["rows"] for profile in history]
    return min(counts) // VOLUME_FACTOR, max(counts) * VOLUME_FACTOR + NOISE_ROWS


def _volume_history(history: Sequence[dict]) -> str:
    recent = list(history)[-HISTORY_DROPS:]
    counts = [profile["rows"] for profile in recent]
    return f"{min(counts)} to {max(counts)} rows over {len(recent)} deltas"


def _most_allowed(limit: float, n: int) -> int:
    """The largest count k of n whose share is not beyond `limit` by more than noise: the
    largest k with the Wilson lower bound of k/n at most `limit`."""
    if limit >= 1:
        return n
    low, high = 0, n  # wilson(low, n)[0] <= limit is always true for k = 0
    while low < high:
        middle = (low + high + 1) // 2
        if wilson(middle, n, Z)[0] <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _fewest_allowed(limit: float, n: int) -> int:
    """The smallest count k of n whose share is not below `limit` by more than noise: the
    smallest k with the Wilson upper bound of k/n at least `limit`."""
    if limit <= 0:
        return 0
    low, high = 0, n  # wilson(n, n)[1] == 1 >= limit
    while low < high:
        middle = (low + high) // 2
        if wilson(middle, n, Z)[1] >= limit:
            high = middle
        else:
            low = middle + 1
    return low


def _mostly_at_most(count: int, n: int) -> float:
    """`mostly` for an expectation whose unexpected values may number up to `count` of n
    (half a row of margin, so that float rounding never decides)."""
    return max(0.0, (n - count - 0.5) / n)


def _share(count: int, total: int) -> str:
    return f"{count} of {total} ({count / total:.1%})" if total else f"{count} of 0"


def build_suite(
    table: contract.Table, history: Sequence[dict] = (), rows: int = 0, present: Mapping[str, int] | None = None
) -> gx.ExpectationSuite:
    """Return the drift suite of one table for a drop of `rows` valid rows, given the
    profiles of the table's earlier deltas (oldest first). `present`: the non-null
    values of each nullable column among those rows (GX's `mostly` is a share of them;
    `rows` when not given). Without MIN_HISTORY deltas every expectation only
    observes. The suite is not added to any context."""
    history = list(history)[-HISTORY_DROPS:]
    judged = len(history) >= MIN_HISTORY and rows > 0
    if not judged:
        history = []
    bounds = volume_bounds(history)
    expectations = [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=bounds[0] if bounds else 0,
            max_value=bounds[1] if bounds else None,
            description=f"history: {_volume_history(history)}" if bounds else "observed",
            meta={"measure": ROWS},
        )
    ]
    for column in table.columns:
        values = rows if column.required or present is None else present.get(column.name, rows)
        if not column.required:
            expectations.append(_null_share(column, history, rows))
        if not values:
            continue  # nothing to measure but its nulls
        if column.kind == contract.CODE:
            expectations.extend(_code_shares(column, history, values))
        if column.kind == contract.INTEGER:
            expectations.extend(_integer_range(column, history, values))
    return gx.ExpectationSuite(
        name=f"{table.source}.{table.name}.drift",
        expectations=expectations,
        meta={"contract_table": f"{table.source}/{table.name}", "history_deltas": len(history)},
    )


def _null_share(column: contract.Column, history: list[dict], rows: int):
    meta = {"measure": NULLS, "column": column.name}
    if not history:
        return gxe.ExpectColumnValuesToNotBeNull(column=column.name, mostly=0.0, description="observed", meta=meta)
    nulls = sum(p["nulls"].get(column.name, 0) for p in history)
    total = sum(p["rows"] for p in history)
    if not total:  # every earlier delta was empty: nothing to compare with
        return gxe.ExpectColumnValuesToNotBeNull(column=column.name, mostly=0.0, description="observed", meta=meta)
    upper = wilson(nulls, total, Z)[1] + SLACK
    return gxe.ExpectColumnValuesToNotBeNull(
        column=column.name,
        mostly=_mostly_at_most(_most_allowed(upper, rows), rows),
        description=f"history: {_share(nulls, total)} null over {len(history)} deltas",
        meta=meta,
    )


def _code_shares(column: contract.Column, history: list[dict], rows: int) -> list:
    """Per code, an upper bound on its share (which also observes its count) and, where
    the history's share is clearly above zero, a lower bound. Shares are of the `rows`
    non-null values, in the drop and in the history."""
    counts = {code: sum(p["codes"].get(column.name, {}).get(code, 0) for p in history) for code in column.values}
    total = sum(counts.values())
    expectations = []
    for code in column.values:
        meta = {"measure": CODE, "column": column.name, "code": code}
        if not total:
            expectations.append(
                gxe.ExpectColumnValuesToNotBeInSet(
                    column=column.name, value_set=[code], mostly=0.0, description="observed", meta=meta
                )
            )
            continue
        low, high = wilson(counts[code], total, Z)
        described = f"history: {column.name}={code} {_share(counts[code], total)} over {len(history)} deltas"
        expectations.append(
            gxe.ExpectColumnValuesToNotBeInSet(
                column=column.name,
                value_set=[code],
                mostly=_mostly_at_most(_most_allowed(high + SLACK, rows), rows),
                description=described,
                meta=meta,
            )
        )
        fewest = _fewest_allowed(low - SLACK, rows)
        if fewest:
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=column.name,
                    value_set=[code],
                    mostly=(fewest - 0.5) / rows,
                    description=described,
                    meta={**meta, "measure": CODE_FLOOR},
                )
            )
    return expectations


def _integer_range(column: contract.Column, history: list[dict], rows: int) -> list:
    """The drop's minimum and maximum (observed) and, with a history, the share of its
    `rows` non-null values outside the history's range. Of N exchangeable values a new
    one falls outside their range with probability 2/(N+1); more than that, beyond
    noise and SLACK, is drift (amounts in another unit, a new scale)."""
    name = column.name
    expectations = [
        gxe.ExpectColumnMinToBeBetween(column=name, description="observed", meta={"measure": MINIMUM, "column": name}),
        gxe.ExpectColumnMaxToBeBetween(column=name, description="observed", meta={"measure": MAXIMUM, "column": name}),
    ]
    ranged = [p for p in history if p["ranges"].get(name)]
    if not ranged:
        return expectations
    low = min(p["ranges"][name][0] for p in ranged)
    high = max(p["ranges"][name][1] for p in ranged)
    values = sum(p["rows"] - p["nulls"].get(name, 0) for p in ranged)
    expected = min(1.0, 2 / (values + 1))
    expectations.append(
        gxe.ExpectColumnValuesToBeBetween(
            column=name,
            min_value=low,
            max_value=high,
            mostly=_mostly_at_most(_most_allowed(expected + SLACK, rows), rows),
            description=f"history: {values} values in [{low}, {high}] over {len(ranged)} deltas",
            meta={"measure": OUTSIDE, "column": name},
        )
    )
    return expectations


def validate_drop(
    df: DataFrame | pd.DataFrame,
    table: contract.Table,
    drop_label: str,
    docs_dir: Path,
    *,
    rows: int,
    history: Sequence[dict] = (),
    present: Mapping[str, int] | None = None,
) -> dict:
    """Check the valid rows of one drop of one table (`rows` of them; `present`, the
    non-null values of each nullable column) against the profiles of the table's
    earlier deltas.

    `df` has the contract columns in their Spark types, plus possibly bookkeeping
    columns whose names start with "_" (ignored): a Spark DataFrame, checked on GX's
    Spark engine, or a pandas one (`read_parquet_frame`), checked on its pandas
    engine. Writes `<table>.json` (the GX validation result, keys sorted, results in
    suite order) and `<table>.html` (a self-contained summary) into `docs_dir` and
    returns {"table", "drop", "success", "evaluated", "failed": [{"expectation",
    "column", "reason"}], "profile", "results_path", "docs_path"}, all
    JSON-serialisable. `profile` is this drop's, for the drops after it.
    """
    docs_dir = Path(docs_dir)
    ensure_dir(docs_dir)
    delivered = df[[c for c in df.columns if not c.startswith("_")]]
    suite = build_suite(table, history, rows, present)
    context = gx.get_context(mode="ephemeral", project_config=_context_config())
    if isinstance(delivered, pd.DataFrame):
        datasource = context.data_sources.add_pandas(name="feeds")
    else:
        # persist=False: GX would otherwise persist the batch and never unpersist it.
        datasource = context.data_sources.add_spark(name="feeds", persist=False)
    batch = datasource.add_dataframe_asset(name=table.name).add_batch_definition_whole_dataframe(name="valid_rows")
    # Adding the suite gives each expectation the id that its result carries.
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=suite.name, data=batch, suite=suite))
    result = definition.run(
        batch_parameters={"dataframe": delivered},
        result_format=RESULT_FORMAT,
        run_id=RunIdentifier(run_name=drop_label),
    )

    payload = result.to_json_dict()
    position = {e.id: i for i, e in enumerate(suite.expectations)}
    payload["results"].sort(key=lambda r: position.get(r["expectation_config"]["id"], len(position)))
    errors = [r for r in payload["results"] if (r.get("exception_info") or {}).get("raised_exception")]
    if errors:
        # GX could not compute a metric: a bug here or in GX, not drift in the data.
        message = errors[0]["exception_info"]["exception_message"].splitlines()[0]
        raise RuntimeError(f"GX could not check {drop_label}: {printable(message)}")
    failed = [
        {
            "expectation": r["expectation_config"]["type"],
            "column": _column_of(r["expectation_config"]),
            "reason": _reason(r),
        }
        for r in payload["results"]
        if not r["success"]
    ]
    results_path = docs_dir / f"{table.name}.json"
    docs_path = docs_dir / f"{table.name}.html"
    summary = {
        "table": table.name,
        "drop": drop_label,
        "success": bool(result.success),
        "evaluated": int(result.statistics["evaluated_expectations"]),
        "failed": failed,
        "profile": _profile(payload["results"]),
        "results_path": str(results_path),
        "docs_path": str(docs_path),
    }
    _write_text(results_path, json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
    _write_text(docs_path, _render_html(summary, payload))
    if failed:
        log.warning("GX %s: outside its history: %s", drop_label, "; ".join(f["reason"] for f in failed))
    else:
        log.info("GX %s: all %d expectations met", drop_label, summary["evaluated"])
    return summary


def read_parquet_frame(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of a Parquet directory (a validated drop's partition) as a pandas
    frame for GX's pandas engine, of `columns` (all when None): integers stay exact
    integers with missing values (pandas' nullable Int64, not floats), strings stay
    strings, dates and times keep their values."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    integers = {pa.int8(), pa.int16(), pa.int32(), pa.int64()}
    table = pq.read_table(path, columns=columns)
    return table.to_pandas(types_mapper=lambda kind: pd.Int64Dtype() if kind in integers else None)


def check_empty_drop(table: contract.Table, drop_label: str, history: Sequence[dict]) -> dict | None:
    """The volume check of a drop with no valid rows of a table, which GX has nothing to
    run on: a table whose history never went below two rows now delivering none is
    drift. None when there is nothing to say."""
    bounds = volume_bounds(history)
    if bounds is None or bounds[0] == 0:
        return None
    reason = f"0 rows; history {_volume_history(history)}"
    log.warning("%s: outside its history: %s", drop_label, reason)
    return {
        "table": table.name,
        "drop": drop_label,
        "success": False,
        "evaluated": 1,
        "failed": [{"expectation": "expect_table_row_count_to_be_between", "column": None, "reason": reason}],
        "profile": empty_profile(),
        "results_path": None,
        "docs_path": None,
    }


def _profile(results: list[dict]) -> dict:
    """The drop's row count, null and code counts and integer ranges, from GX's results."""
    profile = empty_profile()
    for entry in results:
        meta = entry["expectation_config"].get("meta") or {}
        values = entry.get("result") or {}
        measure, column = meta.get("measure"), meta.get("column")
        if measure == ROWS:
            profile["rows"] = int(values["observed_value"])
        elif measure == NULLS:
            profile["nulls"][column] = int(values["unexpected_count"])
        elif measure == CODE:
            profile["codes"].setdefault(column, {})[meta["code"]] = int(values["unexpected_count"])
        elif measure in (MINIMUM, MAXIMUM) and values.get("observed_value") is not None:
            bounds = profile["ranges"].setdefault(column, [None, None])
            bounds[0 if measure == MINIMUM else 1] = int(values["observed_value"])
    return profile


def _reason(entry: dict) -> str:
    """One line: what the drop has, against what its history has."""
    config = entry["expectation_config"]
    meta = config.get("meta") or {}
    values = entry.get("result") or {}
    history = (config.get("description") or "").removeprefix("history: ")
    measure, column = meta.get("measure"), meta.get("column")
    unexpected = int(values.get("unexpected_count") or 0)
    checked = int(values.get("element_count") or 0) - int(values.get("missing_count") or 0)
    if measure == ROWS:
        return f"{values.get('observed_value')} rows; history {history}"
    if measure == NULLS:
        return f"{column}: {_share(unexpected, int(values.get('element_count') or 0))} null; history {history}"
    if measure == CODE:
        return f"{column}={meta['code']}: {_share(unexpected, checked)}, more than history {history}"
    if measure == CODE_FLOOR:
        return f"{column}={meta['code']}: {_share(checked - unexpected, checked)}, less than history {history}"
    if measure == OUTSIDE:
        return f"{column}: {_share(unexpected, checked)} outside the history's range; history {history}"
    return f"{config['type']} failed"


def _context_config() -> DataContextConfig:
    """An in-memory context: no gx/ directory, no data docs site, no analytics, no
    progress bars."""
    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )


def _column_of(config: dict) -> str | None:
    """The column an expectation is about (None for the row count)."""
    return (config.get("kwargs") or {}).get("column")


def _write_text(path: Path, text: str) -> None:
    with atomic_file(path, "w", encoding="utf-8") as handle:
        handle.write(text)


_HIDDEN_KWARGS = frozenset({"batch_id", "column"})

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}
tr.fail td{background:#fde8e8}
.pass{color:#176b2c;font-weight:600}.fail-word{color:#a11;font-weight:600}
code{font-size:.85rem;word-break:break-all}
"""


def _render_html(summary: dict, payload: dict) -> str:
    """A single HTML file, no scripts and no external references; every value escaped,
    control characters (in a GX message that quotes a value) shown as \\xNN."""
    e = html.escape
    statistics = payload.get("statistics") or {}
    rows = []
    for result in payload["results"]:
        config = result["expectation_config"]
        values = result.get("result") or {}
        kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k not in _HIDDEN_KWARGS}
        observed = values.get("unexpected_count")
        if observed is None:
            observed = values.get("observed_value")
        note = config.get("description") or ""
        if not result["success"]:
            note = _reason(result)
        exception = result.get("exception_info") or {}
        if exception.get("raised_exception"):
            note = f"{note} error: {exception.get('exception_message')}".strip()
        status = '<span class="pass">pass</span>' if result["success"] else '<span class="fail-word">DRIFT</span>'
        rows.append(
            f'<tr class="{"pass" if result["success"] else "fail"}">'
            f"<td>{status}</td>"
            f"<td>{e(config['type'])}</td>"
            f"<td>{e(_column_of(config) or '')}</td>"
            f"<td><code>{e(json.dumps(kwargs, sort_keys=True, ensure_ascii=False, default=str))}</code></td>"
            f"<td>{e('' if observed is None else str(observed))}</td>"
            f"<td>{e(note)}</td>"
            "</tr>"
        )
    outcome = (
        "all expectations met"
        if summary["success"]
        else f"{len(summary['failed'])} expectation(s) outside the drop's history"
    )
    run = (payload.get("meta") or {}).get("run_id") or {}
    return printable(
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                f"<title>{e(summary['drop'])}: {e(summary['table'])} "
                f"({'pass' if summary['success'] else 'drift'})</title>",
                f"<style>{_STYLE}</style></head><body>",
                f"<h1>{e(summary['table'])} &mdash; {e(summary['drop'])}</h1>",
                f"<p><strong>{e(outcome)}</strong>: {e(str(statistics.get('successful_expectations', '')))} of "
                f"{e(str(summary['evaluated']))} met. Suite <code>{e(str(payload.get('suite_name', '')))}</code>, "
                f"validated {e(str(run.get('run_time', '')))} with Great Expectations "
                f"{e(str((payload.get('meta') or {}).get('great_expectations_version', '')))} "
                f"on the rows that passed the row validator, against the table's earlier deltas.</p>",
                "<table><thead><tr><th>status</th><th>expectation</th><th>column</th><th>arguments</th>"
                "<th>unexpected / observed</th><th>history or reason</th></tr></thead><tbody>",
                *rows,
                "</tbody></table></body></html>",
                "",
            ]
        )
    )
