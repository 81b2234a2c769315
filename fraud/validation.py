"""Row-level validation of delivered records against the feed contract.

`check_rows` takes the landed records of one table (all strings, plus `_line_no`,
`_raw_line`, `_error`, `_drop_date`) and returns them with the contract's columns
converted to their types and `_valid`: whether the row passes every check. For the
rows that do not, `failures` lists every check the row fails, as (column, check,
message). The checks come from fraud/contract.py; nothing here knows a table by name.
"""

from __future__ import annotations

import functools
import operator
from typing import Callable, NamedTuple

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraud import contract
from fraud.records import ERROR, LINE_NO, RAW_LINE
from fraud.spark import join_keys

DROP_DATE = "_drop_date"
FAILURES = "_failures"
VALID = "_valid"
# Bump when a check changes: every drop is then validated again. "3": every drop's
# state holds its profile for the drift checks (fraud/expectations.py), so a night's
# history is the same whichever night validated each drop. "4": two rows of a key in
# one drop at different `updated_at` instants are two versions, not a duplicate.
VALIDATOR_VERSION = "4"

_SHOWN_VALUE_CHARS = 40
_FAILURES_TYPE = "array<struct<column:string,check:string,message:string>>"


class Check(NamedTuple):
    """One check on a row: `failed`, whether the row fails it (null counts as passing),
    and `failure`, which makes the struct<column, check, message> that says so. Only
    `failures` calls it, for a table whose rejected rows are explained: `check_rows`
    needs `failed` alone, and every Column function is a round trip to the JVM."""

    failed: SparkColumn
    failure: Callable[[], SparkColumn]


def _delivered(name: str) -> SparkColumn:
    return F.col(f"_s_{name}")


# A timestamp without seconds (`2026-03-01T10:00+09:00`) is ISO 8601 and within the
# contract, but Spark's cast does not read hh:mm followed by an offset: when the cast
# gives nothing, the seconds are written in and the value cast again.
_MINUTES_THEN_OFFSET = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2})(?=(?:Z|[+-][0-9]{2}:[0-9]{2})\z)"


def _typed(column: contract.Column) -> SparkColumn:
    text = _delivered(column.name)
    if column.spark_type == "string":
        return text
    typed = text.try_cast(column.spark_type)
    if column.kind == contract.TIMESTAMP:
        typed = F.coalesce(typed, F.regexp_replace(text, _MINUTES_THEN_OFFSET, "$1:00").try_cast(column.spark_type))
    return typed


def _failure(
    column: str, check: str, failed: SparkColumn, message: str | SparkColumn | Callable[[], SparkColumn]
) -> Check:
    """A check; `message` is its text, a Column, or a function making the Column."""

    def failure() -> SparkColumn:
        if isinstance(message, str):
            text = F.lit(message)
        else:
            text = message if isinstance(message, SparkColumn) else message()
        return F.struct(F.lit(column).alias("column"), F.lit(check).alias("check"), text.alias("message"))

    return Check(failed, failure)


def _quoted_value(name: str) -> SparkColumn:
    return F.concat(F.lit("'"), F.substring(_delivered(name), 1, _SHOWN_VALUE_CHARS), F.lit("'"))


def _column_failures(column: contract.Column) -> list[Check]:
    """The checks on one delivered value."""
    name = column.name
    text = _delivered(name)
    typed = F.col(name)
    present = text.isNotNull()
    checks = []
    if column.required:
        checks.append(_failure(name, "required", text.isNull(), f"{name}: required value missing"))
    if column.java_regex:
        is_well_formed = text.rlike(column.java_regex)
        checks.append(
            _failure(
                name,
                "format",
                present & ~is_well_formed,
                lambda: F.concat(F.lit(f"{name}: "), _quoted_value(name), F.lit(f" is not a valid {column.kind}")),
            )
        )
        well_formed = present & is_well_formed
    else:
        well_formed = present
    if column.kind == contract.CODE:
        checks.append(
            _failure(
                name,
                "code",
                present & ~text.isin(*column.values),
                lambda: F.concat(F.lit(f"{name}: unknown code "), _quoted_value(name)),
            )
        )
    if column.kind == contract.TEXT:
        checks.append(
            _failure(
                name,
                "length",
                F.length(text) > contract.MAX_TEXT_LENGTH,
                f"{name}: longer than {contract.MAX_TEXT_LENGTH} characters",
            )
        )
        checks.append(
            _failure(
                name,
                "control_character",
                text.rlike(contract.CONTROL_CHARACTERS),
                lambda: F.concat(F.lit(f"{name}: "), _quoted_value(name), F.lit(" holds a control character")),
            )
        )
    if column.kind in (contract.DATE, contract.TIMESTAMP, contract.INTEGER):
        checks.append(
            _failure(
                name,
                "value",
                typed.isNull() & well_formed,
                lambda: F.concat(F.lit(f"{name}: "), _quoted_value(name), F.lit(f" is not a possible {column.kind}")),
            )
        )
    if column.kind in (contract.DATE, contract.TIMESTAMP):
        checks.append(
            _failure(
                name,
                "range",
                _outside_window(column, typed),
                lambda: F.concat(
                    F.lit(f"{name}: "),
                    _quoted_value(name),
                    F.lit(f" outside {contract.EARLIEST_DATE}..{contract.LATEST_DATE}"),
                ),
            )
        )
    if column.kind == contract.INTEGER:
        if column.minimum is not None:
            checks.append(
                _failure(
                    name,
                    "minimum",
                    typed < F.lit(column.minimum),
                    lambda: F.concat(F.lit(f"{name}: "), _quoted_value(name), F.lit(f" below {column.minimum}")),
                )
            )
        if column.maximum is not None:
            checks.append(
                _failure(
                    name,
                    "maximum",
                    typed > F.lit(column.maximum),
                    lambda: F.concat(F.lit(f"{name}: "), _quoted_value(name), F.lit(f" above {column.maximum}")),
                )
            )
    if column.not_after_drop:
        if column.kind == contract.DATE:
            after_drop = typed > F.col(DROP_DATE)
        else:
            # Timestamps are compared in KST (the session time zone): the drop covers its whole day.
            after_drop = typed >= F.date_add(F.col(DROP_DATE), 1).cast("timestamp")
        checks.append(
            _failure(
                name,
                "after_drop",
                after_drop,
                lambda: F.concat(F.lit(f"{name}: "), _quoted_value(name), F.lit(" is after the drop date")),
            )
        )
    return checks


def _outside_window(column: contract.Column, typed: SparkColumn) -> SparkColumn:
    """Whether a date, or a timestamp's KST day, lies outside EARLIEST_DATE..LATEST_DATE:
    the same window the Great Expectations suite holds the valid rows to, so a row
    outside it is one quarantined row rather than a failed drop."""
    earliest = F.lit(contract.EARLIEST_DATE).cast("date")
    latest = F.lit(contract.LATEST_DATE).cast("date")
    if column.kind == contract.DATE:
        return (typed < earliest) | (typed > latest)
    # Timestamps are instants; the window's days are KST days (the session time zone).
    return (typed < earliest.cast("timestamp")) | (typed >= F.date_add(latest, 1).cast("timestamp"))


def _row_failures(table: contract.Table) -> list[Check]:
    checks = []
    for row_check in table.row_checks:
        acceptable = F.coalesce(F.expr(row_check.expression), F.lit(True))
        checks.append(_failure(",".join(row_check.columns), row_check.name, ~acceptable, row_check.description))
    return checks


# Characters that cannot tell two keys apart (controls, format characters such as a
# zero-width space, separators and line breaks): `C1` and `C1\n` are one key sent twice.
_INVISIBLE = r"[\p{Cc}\p{Cf}\p{Z}]"


_KEY_AS_COMPARED = "_key_as_compared"
_DUPLICATED = "_duplicated"
_VERSION_AS_COMPARED = "_version_as_compared"


def _duplicated_keys(typed: DataFrame, table: contract.Table, rows: int | None) -> DataFrame:
    """`typed` with `_duplicated`: whether the row's key, as compared, appears more than
    once in its drop in versions the contract cannot order (`_version_as_compared`). The keys
    are counted apart (a shuffle of keys, not of whole rows) and the few repeated ones
    joined back, broadcast: without a checkpoint of their own when `typed` holds at
    most `rows` rows and they are few enough (fraud/spark.py:join_keys)."""
    key = table.primary_key
    keyed = typed.withColumns(
        {
            _KEY_AS_COMPARED: F.regexp_replace(F.col(key), _INVISIBLE, ""),
            _VERSION_AS_COMPARED: _version_as_compared(table),
        }
    )
    compared = [DROP_DATE, _KEY_AS_COMPARED, _VERSION_AS_COMPARED]
    repeated = (
        keyed.where(F.col(key).isNotNull())
        .groupBy(*compared)
        .count()
        .where(F.col("count") > 1)
        .select(*compared, F.lit(True).alias(_DUPLICATED))
    )
    return keyed.join(join_keys(repeated, at_most=rows), on=compared, how="left").drop(_VERSION_AS_COMPARED)


def _version_as_compared(table: contract.Table) -> SparkColumn:
    """What tells two rows of one key in one drop apart as versions. FEEDS.md's rule
    (the greatest `updated_at` wins, then the latest drop) orders the rows of one drop
    by `updated_at` alone: two rows of a key at different instants are two versions,
    both valid, and conform keeps the newer (the older stays in history, as a late
    re-send does). At the same instant (however it is spelled), or in a table without
    `updated_at` (crossings), nothing says which one holds: every copy is quarantined.
    Copies whose `updated_at` did not convert count as one version (they are rejected
    for it anyway)."""
    if not table.has_updated_at:
        return F.lit("")
    return F.coalesce(F.unix_micros(F.col("updated_at")).cast("string"), F.lit(""))


def _duplicate_key_failure(table: contract.Table) -> Check:
    key = table.primary_key
    repeated = " appears more than once in this drop" + (" with the same updated_at" if table.has_updated_at else "")
    return _failure(
        key,
        "duplicate_key",
        F.coalesce(F.col(_DUPLICATED), F.lit(False)),
        lambda: F.concat(F.lit(f"{key}: "), _quoted_value(key), F.lit(repeated)),
    )


def _once_per_gateway(build):
    """`build(table)`, made once per table and JVM and kept: its Columns are unresolved
    expressions of the row and the contract alone, so every frame of the process can
    share them (the contract's constants are the module's: a test that changed one
    would have to build under another table value). Each Column function is a round
    trip to the JVM, and each object it leaves behind another when Python lets go of
    it: a table's checks took up to 4,700, about half a second, and a night built them
    for every table it checked and again for every table it quarantined from
    (docs/decisions.md). Keyed by the table's value and the Py4J gateway, which
    outlives a stopped SparkContext (a new JVM starts afresh)."""
    made: dict[contract.Table, tuple[object, object]] = {}

    @functools.wraps(build)
    def once(table: contract.Table):
        from pyspark import SparkContext

        gateway = SparkContext._gateway
        kept = made.get(table)
        if kept is None or kept[0] is not gateway:
            kept = made[table] = (gateway, build(table))
        return kept[1]

    return once


@_once_per_gateway
def _checks(table: contract.Table) -> tuple[Check, ...]:
    """Every check on a row of `table` but the record reader's, in the order a
    rejected row's failures are listed (a tuple: every caller shares it)."""
    checks = [check for column in table.columns for check in _column_failures(column)]
    checks += _row_failures(table)
    checks.append(_duplicate_key_failure(table))
    return tuple(checks)


def check_rows(landed: DataFrame, table: contract.Table, rows: int | None = None) -> DataFrame:
    """Landed records of `table` -> the same records, typed, with `_valid`.

    Output columns: `_drop_date`, `_line_no`, the contract columns in their Spark
    types (null where the delivered text did not convert), `_valid` (whether the row
    passes every check) and, for a rejected row only, what its quarantine row needs:
    the record reader's `_error`, the delivered line, the delivered text of each
    column and whether its key is repeated. `rows`: how many records `landed` holds,
    when the caller knows (it saves a small drop a Spark job).

    Most rows pass: for them the checks are one chain of conditions, evaluated once,
    and the messages that name a failure are built only for the rows that are
    rejected (`failures`). That keeps the code Spark generates for the checks small
    enough for HotSpot to compile whole (docs/decisions.md). A row is judged here and
    explained after the checked rows are written and read back: the checks must stay
    deterministic (no `current_date()`), or a rejected row could be explained by none."""
    meta = [F.col(DROP_DATE), F.col(LINE_NO), F.col(RAW_LINE), F.col(ERROR)]
    delivered = landed.select(*meta, *[F.col(name).alias(f"_s_{name}") for name in table.column_names])
    typed = _duplicated_keys(
        delivered.select("*", *[_typed(column).alias(column.name) for column in table.columns]), table, rows
    )
    checked = typed.select("*", _valid(table))
    return checked.select(
        DROP_DATE,
        LINE_NO,
        *table.column_names,
        VALID,
        *[F.when(~F.col(VALID), F.col(name)).alias(name) for name in _explaining(table)],
    )


@_once_per_gateway
def _valid(table: contract.Table) -> SparkColumn:
    """Over typed rows of `table`: whether the record reader took the row and it
    passes every check (`_valid`)."""
    any_failed = functools.reduce(operator.or_, [check.failed for check in _checks(table)])
    return (F.col(ERROR).isNull() & ~F.coalesce(any_failed, F.lit(False))).alias(VALID)


def _explaining(table: contract.Table) -> list[str]:
    """The columns `check_rows` keeps for a rejected row only."""
    return [ERROR, RAW_LINE, *[f"_s_{name}" for name in table.column_names], _DUPLICATED]


# Where `packed` keeps what explains a rejected row: one column, null for a valid row.
REJECTED = "_rejected"


def packed(checked: DataFrame, table: contract.Table) -> DataFrame:
    """Checked rows of `table` with what explains a rejected row in one struct column,
    `_rejected`, null for a valid row: written partitioned by `_valid`, the valid rows'
    files are the validated table's, with that one null column beside the contract's
    (jobs/validate.py:check_table)."""
    explaining = _explaining(table)
    rejected = F.when(~F.col(VALID), F.struct(*explaining)).alias(REJECTED)
    return checked.select(*[name for name in checked.columns if name not in explaining], rejected)


def unpacked(stored: DataFrame) -> DataFrame:
    """`packed`'s rows, read back, with the struct's fields as columns again."""
    return stored.select("*", f"{REJECTED}.*").drop(REJECTED)


@_once_per_gateway
def failures(table: contract.Table) -> SparkColumn:
    """Over checked rows of `table`: every check the row fails, as an array of
    struct<column, check, message>, in the order of `_checks`; empty for a valid row.
    A record the reader rejected has its reader's error alone. The checks read the
    delivered text, which `check_rows` keeps for rejected rows only: they are evaluated
    here behind `_valid`, never on their own over checked rows (every valid row would
    then fail "required")."""
    record_error = _failure("*", "record", F.col(ERROR).isNotNull(), F.col(ERROR))
    failed = [F.when(check.failed, check.failure()) for check in _checks(table)]
    return (
        F.when(F.col(VALID), F.array().cast(_FAILURES_TYPE))
        .when(F.col(ERROR).isNotNull(), F.array(record_error.failure()))
        .otherwise(F.filter(F.array(*failed), lambda failure: failure.isNotNull()))
    )


def validated_columns(table: contract.Table) -> list[str]:
    """The columns of `table`'s validated rows: the contract's, the drop and the line."""
    return [*table.column_names, DROP_DATE, LINE_NO]


def quarantined_rows(checked: DataFrame, source: str, table: contract.Table) -> DataFrame:
    """One row per rejected record: where it came from, what failed, the original text."""
    return (
        checked.where(~F.col(VALID))
        .select("*", failures(table).alias(FAILURES))
        .select(
            F.lit(source).alias("source"),
            F.col(DROP_DATE).cast("string").alias("drop_date"),
            F.lit(table.name).alias("table"),
            F.col(LINE_NO).alias("line_no"),
            F.array_join(F.transform(FAILURES, lambda f: f["column"]), ";").alias("column"),
            F.array_join(F.transform(FAILURES, lambda f: f["check"]), ";").alias("check"),
            F.array_join(F.transform(FAILURES, lambda f: f["message"]), "; ").alias("reason"),
            F.col(RAW_LINE).alias("raw_line"),
        )
    )
