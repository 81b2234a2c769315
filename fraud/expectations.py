"""Great Expectations suites built from the feed contract: the second line of defence.

Our own Spark validator checks every delivered row and quarantines the bad ones. The
suites here check the rows it let through (the valid rows of one drop of one table),
independently, with Great Expectations (GX). Any failing expectation means the row
validator let something through; the caller fails the run. The validation result and
an HTML page of it are kept with the run.

GX runs on its Spark data source against the DataFrame itself (no conversion to
pandas), inside an in-memory (ephemeral) context: nothing is written outside
`docs_dir`, nothing goes to the network. GX's own data docs load Bootstrap, jQuery and
Vega from CDNs and logos from S3, so they are not self-contained; the HTML written
here is our own single-file summary instead.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from fraud import contract
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

KST = ZoneInfo(contract.TIMEZONE)

# The GX (pyspark.sql.types) class name of each contract Spark type.
_SPARK_TYPE_NAMES = {
    "string": "StringType",
    "date": "DateType",
    "timestamp": "TimestampType",
    "bigint": "LongType",
}

# Kinds whose regex still means something on the typed column: dates, timestamps and
# integers were parsed from text by the row validator, their text form is gone.
_STRING_KINDS_WITH_PATTERN = frozenset(
    kind for kind, spark_type in contract.SPARK_TYPES.items() if spark_type == "string" and kind in contract.PATTERNS
)

# BASIC gives each expectation's unexpected_count. Its list of offending values costs
# one more Spark job per column expectation (a filter + limit that scans the whole batch
# when nothing is wrong: 71 jobs instead of 20 for certifications), so the run asks for
# none, and validate_drop collects examples only for the expectations that failed.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}
EXAMPLES = 20
# The temp view GX's Spark query metrics register the batch under (query_table.py).
_GX_QUERY_VIEW = "tmp_view"
EXAMPLES_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": EXAMPLES}

# The expression contract._ordered() writes: "<first> IS NULL OR <second> IS NULL OR <first> <= <second>".
_ORDERED = re.compile(r"(?P<first>\w+) IS NULL OR (?P<second>\w+) IS NULL OR (?P=first) <= (?P=second)")


def build_suite(table: contract.Table, *, drop_date: dt.date | None = None) -> gx.ExpectationSuite:
    """Return the expectation suite of one contract table.

    `drop_date`, when given, bounds the `not_after_drop` columns by the end of that day
    (KST); without it they are only bounded by contract.LATEST_DATE.
    The suite is not added to any context.
    """
    expectations = [
        # Columns starting with "_" are dropped by validate_drop before this runs; any
        # other column beyond the contract's is the caller's bug.
        gxe.ExpectTableColumnsToMatchSet(column_set=list(table.column_names), exact_match=True),
    ]
    for column in table.columns:
        expectations.extend(_column_expectations(column, drop_date))
    expectations.append(gxe.ExpectColumnValuesToBeUnique(column=table.primary_key))
    expectations.extend(_row_check_expectation(table, check) for check in table.row_checks)
    # Built in one call: ExpectationSuite.add_expectation needs an active data context.
    return gx.ExpectationSuite(
        name=f"{table.source}.{table.name}",
        expectations=expectations,
        meta={"contract_table": f"{table.source}/{table.name}"},
    )


def _column_expectations(column: contract.Column, drop_date: dt.date | None) -> list:
    name = column.name
    expectations = [
        gxe.ExpectColumnToExist(column=name),
        gxe.ExpectColumnValuesToBeOfType(column=name, type_=_SPARK_TYPE_NAMES[column.spark_type]),
    ]
    if column.required:
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=name))
    if column.kind in _STRING_KINDS_WITH_PATTERN:
        expectations.append(gxe.ExpectColumnValuesToMatchRegex(column=name, regex=column.java_regex))
    if column.kind == contract.CODE:
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.values)))
    if column.kind == contract.TEXT:
        expectations.append(gxe.ExpectColumnValueLengthsToBeBetween(column=name, max_value=contract.MAX_TEXT_LENGTH))
        expectations.append(gxe.ExpectColumnValuesToNotMatchRegex(column=name, regex=contract.CONTROL_CHARACTERS))
    if column.kind == contract.INTEGER and (column.minimum is not None or column.maximum is not None):
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(column=name, min_value=column.minimum, max_value=column.maximum)
        )
    if column.kind in (contract.DATE, contract.TIMESTAMP):
        expectations.append(_within_dates(column, drop_date))
    return expectations


def _within_dates(column: contract.Column, drop_date: dt.date | None):
    earliest = dt.date.fromisoformat(contract.EARLIEST_DATE)
    # The first day that is too late, compared strictly.
    too_late = dt.date.fromisoformat(contract.LATEST_DATE) + dt.timedelta(days=1)
    if column.not_after_drop and drop_date is not None:
        too_late = min(too_late, drop_date + dt.timedelta(days=1))
    if column.kind == contract.DATE:
        low, high = earliest, too_late
    else:
        # Timestamps are instants; the contract's dates are KST calendar days.
        low = dt.datetime.combine(earliest, dt.time(), tzinfo=KST)
        high = dt.datetime.combine(too_late, dt.time(), tzinfo=KST)
    return gxe.ExpectColumnValuesToBeBetween(column=column.name, min_value=low, max_value=high, strict_max=True)


def _row_check_expectation(table: contract.Table, row_check: contract.RowCheck):
    """An ordering rule becomes GX's column-pair comparison; any other rule, which GX has
    no column expectation for (an "iff" of two nulls, a conditional null, a bound that is
    a date difference), runs as its own Spark SQL expression through
    UnexpectedRowsExpectation: the query returns the rows the rule rejects."""
    meta = {"row_check": row_check.name, "columns": list(row_check.columns)}
    ordered = _ORDERED.fullmatch(row_check.expression)
    if ordered:
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=ordered["second"],
            column_B=ordered["first"],
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description=row_check.description,
            meta=meta,
        )
    shown = ", ".join(f"`{c}`" for c in dict.fromkeys((table.primary_key, *row_check.columns)))
    # A rule is true when the row is acceptable; a null verdict is not acceptable.
    # Braces are doubled because GX formats the query to put the batch in {batch}.
    rejected = f"NOT coalesce(({row_check.expression}), false)".replace("{", "{{").replace("}", "}}")
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=f"SELECT {shown} FROM {{batch}} WHERE {rejected}",
        description=row_check.description,
        meta=meta,
    )


def validate_drop(
    df: DataFrame,
    table: contract.Table,
    drop_label: str,
    docs_dir: Path,
    *,
    drop_date: dt.date | None = None,
) -> dict:
    """Validate the valid rows of one drop of one table with the table's GX suite.

    `df` has the contract columns in their Spark types, plus possibly bookkeeping
    columns whose names start with "_" (ignored). `drop_date` is passed on to
    build_suite. Writes `<table>.json` (the GX validation result, keys sorted, results
    in suite order) and `<table>.html` (a self-contained summary) into `docs_dir` and
    returns {"table", "drop", "success", "evaluated", "failed": [{"expectation",
    "column", "unexpected_count"}], "results_path", "docs_path"}, all JSON-serialisable.
    `column` is None for a table-level expectation and "a,b" for a row check.
    """
    docs_dir = Path(docs_dir)
    ensure_dir(docs_dir)
    delivered = df.select(*[c for c in df.columns if not c.startswith("_")])
    # GX bundles its aggregates per domain but still runs ~20 Spark jobs per table
    # (uniqueness, column pairs, row-check queries): read the drop once.
    delivered.cache()
    try:
        validation = _Validation(delivered, table, build_suite(table, drop_date=drop_date))
        result = validation.run(drop_label)
        examples = validation.examples(result) if not result.success else {}
    finally:
        delivered.unpersist(blocking=True)  # the cache is gone when this returns
        # UnexpectedRowsExpectation registers the batch as this session-wide temp view.
        delivered.sparkSession.catalog.dropTempView(_GX_QUERY_VIEW)

    payload = result.to_json_dict()
    position = {e.id: i for i, e in enumerate(validation.suite.expectations)}
    payload["results"].sort(key=lambda r: position.get(r["expectation_config"]["id"], len(position)))
    for entry in payload["results"]:
        entry["result"].update(examples.get(entry["expectation_config"]["id"], {}))
    failed = [_failure(r) for r in payload["results"] if not r["success"]]
    results_path = docs_dir / f"{table.name}.json"
    docs_path = docs_dir / f"{table.name}.html"
    summary = {
        "table": table.name,
        "drop": drop_label,
        "success": bool(result.success),
        "evaluated": int(result.statistics["evaluated_expectations"]),
        "failed": failed,
        "results_path": str(results_path),
        "docs_path": str(docs_path),
    }
    _write_text(results_path, json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
    _write_text(docs_path, _render_html(summary, payload))
    if failed:
        log.warning(
            "GX %s: %d of %d expectations failed on the valid rows: %s",
            drop_label,
            len(failed),
            summary["evaluated"],
            failed,
        )
    else:
        log.info("GX %s: all %d expectations met", drop_label, summary["evaluated"])
    return summary


class _Validation:
    """One table's suite bound to one cached DataFrame in a fresh in-memory context."""

    def __init__(self, delivered: DataFrame, table: contract.Table, suite: gx.ExpectationSuite):
        self._delivered = delivered
        context = gx.get_context(mode="ephemeral", project_config=_context_config())
        # persist=False: GX would otherwise persist the batch itself and never unpersist
        # it; validate_drop caches and releases it.
        datasource = context.data_sources.add_spark(name="feeds", persist=False)
        self._batch_definition = datasource.add_dataframe_asset(name=table.name).add_batch_definition_whole_dataframe(
            name="valid_rows"
        )
        # Adding the suite gives each expectation the id that its result carries.
        self.suite = context.suites.add(suite)
        self._definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=self._batch_definition, suite=self.suite)
        )

    def run(self, drop_label: str):
        return self._definition.run(
            batch_parameters={"dataframe": self._delivered},
            result_format=RESULT_FORMAT,
            run_id=RunIdentifier(run_name=drop_label),
        )

    def examples(self, result) -> dict[str, dict]:
        """Offending values (or rows, for a row check) of each failed expectation, by
        expectation id. Only failures pay for this: collecting examples costs one Spark
        job per expectation."""
        failed = {r.expectation_config.id: r.result or {} for r in result.results if not r.success}
        batch = self._batch_definition.get_batch(batch_parameters={"dataframe": self._delivered})
        found = {}
        for expectation in self.suite.expectations:
            outcome = failed.get(expectation.id, {})
            if isinstance(expectation, gxe.UnexpectedRowsExpectation) and outcome.get("observed_value"):
                # Only COMPLETE returns the rejected rows of a query expectation.
                checked = batch.validate(expectation, result_format="COMPLETE").to_json_dict()
                rows = ((checked.get("result") or {}).get("details") or {}).get("unexpected_rows")
                found[expectation.id] = (
                    {"details": {"unexpected_rows": rows[:EXAMPLES]}}
                    if rows is not None
                    else _no_examples(expectation, checked)
                )
            elif outcome.get("unexpected_count"):
                checked = batch.validate(expectation, result_format=EXAMPLES_FORMAT).to_json_dict()
                values = (checked.get("result") or {}).get("partial_unexpected_list")
                found[expectation.id] = (
                    {"partial_unexpected_list": values} if values is not None else _no_examples(expectation, checked)
                )
        return found


def _no_examples(expectation, checked: dict) -> dict:
    """GX leaves the examples out of a result when it cannot collect them (a timestamp
    that is in year 0 in UTC cannot become a Python datetime): the failure and its count
    stand; the page says why there are no examples."""
    errors = [
        str(info.get("exception_message") or "").splitlines()[0]
        for info in (checked.get("exception_info") or {}).values()
        if isinstance(info, dict) and info.get("exception_message")
    ]
    why = errors[0] if errors else "GX returned none"
    log.warning("GX could not collect examples for %s: %s", expectation.expectation_type, why)
    return {"examples_unavailable": why}


def _context_config() -> DataContextConfig:
    """An in-memory context: no gx/ directory, no data docs site, no analytics, no
    progress bars."""
    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )


def _failure(result: dict) -> dict:
    values = result.get("result") or {}
    count = values.get("unexpected_count")
    if count is None and result["expectation_config"]["type"] == "unexpected_rows_expectation":
        count = values.get("observed_value")
    return {
        "expectation": result["expectation_config"]["type"],
        "column": _column_of(result["expectation_config"]),
        "unexpected_count": None if count is None else int(count),
    }


def _column_of(config: dict) -> str | None:
    """The column an expectation is about; for a row check, its columns joined by ","."""
    meta_columns = (config.get("meta") or {}).get("columns")
    if meta_columns:
        return ",".join(meta_columns)
    kwargs = config.get("kwargs") or {}
    if kwargs.get("column"):
        return kwargs["column"]
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


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
        examples = values.get("partial_unexpected_list") or (values.get("details") or {}).get("unexpected_rows") or []
        exception = result.get("exception_info") or {}
        note = config.get("description") or ""
        if values.get("examples_unavailable"):
            note = f"{note} no examples: {values['examples_unavailable']}".strip()
        if exception.get("raised_exception"):
            note = f"{note} error: {exception.get('exception_message')}".strip()
        status = '<span class="pass">pass</span>' if result["success"] else '<span class="fail-word">FAIL</span>'
        rows.append(
            f'<tr class="{"pass" if result["success"] else "fail"}">'
            f"<td>{status}</td>"
            f"<td>{e(config['type'])}</td>"
            f"<td>{e(_column_of(config) or '')}</td>"
            f"<td><code>{e(json.dumps(kwargs, sort_keys=True, ensure_ascii=False, default=str))}</code></td>"
            f"<td>{e('' if observed is None else str(observed))}</td>"
            f"<td><code>{e(json.dumps(examples, ensure_ascii=False, default=str)) if examples else ''}</code></td>"
            f"<td>{e(note)}</td>"
            "</tr>"
        )
    outcome = "all expectations met" if summary["success"] else f"{len(summary['failed'])} expectation(s) FAILED"
    run = (payload.get("meta") or {}).get("run_id") or {}
    return printable(
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                f"<title>{e(summary['drop'])}: {e(summary['table'])} "
                f"({'pass' if summary['success'] else 'FAIL'})</title>",
                f"<style>{_STYLE}</style></head><body>",
                f"<h1>{e(summary['table'])} &mdash; {e(summary['drop'])}</h1>",
                f"<p><strong>{e(outcome)}</strong>: {e(str(statistics.get('successful_expectations', '')))} of "
                f"{e(str(summary['evaluated']))} met. Suite <code>{e(str(payload.get('suite_name', '')))}</code>, "
                f"validated {e(str(run.get('run_time', '')))} with Great Expectations "
                f"{e(str((payload.get('meta') or {}).get('great_expectations_version', '')))} "
                f"on the rows that passed the row validator.</p>",
                "<table><thead><tr><th>status</th><th>expectation</th><th>column</th><th>arguments</th>"
                "<th>unexpected / observed</th><th>examples</th><th>note</th></tr></thead><tbody>",
                *rows,
                "</tbody></table></body></html>",
                "",
            ]
        )
    )
