"""Hostile and unusual input (issue #19): rows generated outside the feed contract, for
every column kind, are each quarantined with their reason, no stage crashes and the
counts add up; and a generated night whose final drop holds the worst probes of the
issue (a key with a line break, ancient timestamps, a record over 1 MiB) still runs.

The properties are checked where they are cheap: Python's side of the format checks
(many examples), the row validator in Spark (many generated rows per Spark job, a few
jobs), and the whole pipeline on one landing of generated rows (once per test run)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, datetime

import pytest
from conftest import write_drop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_input import valid_row

from fraud import contract
from fraud.records import ERROR, LINE_NO, MAX_FIELD_CHARS, RAW_LINE, iter_records
from fraud.storage import no_csv_field_limit, read_csv, unescape_cell
from fraud.validation import DROP_DATE, FAILURES, check_rows, failures

DAY = "2026-03-02"
DS = date(2026, 3, 2)

# Few examples, no deadline (Spark), no example database in the work tree. The whole
# pipeline runs once per test run, on one landing of many generated rows.
SPARK_RUNS = settings(
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PIPELINE_RUNS = settings(
    max_examples=1,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

# Characters that end a line for Java's `$` (and \n for Python's), and other invisible
# or control characters a key may trail or hold.
LINE_TERMINATORS = ("\n", "\r\n", "\r", "\u0085", "\u2028", "\u2029")
CONTROLS = tuple(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
INVISIBLE = (*LINE_TERMINATORS, *CONTROLS, "\t", "\u00a0", "\u200b", "\ufeff", "\u3000")
# Digits of other scripts: Python's \d takes them, the contract's [0-9] does not.
OTHER_DIGITS = (
    "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",  # full width
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
)  # Arabic-Indic

PATTERN_KINDS = tuple(contract.PATTERNS)
NOT_TEXT_COLUMNS = [(t, c) for t in contract.TABLES.values() for c in t.columns if c.kind != contract.TEXT]


def _good_value(table: contract.Table, column: contract.Column) -> str:
    return valid_row(table.name)[column.name]


def _with_other_digits(value: str, script: str) -> str:
    return "".join(script[int(ch)] if ch.isdigit() else ch for ch in value)


@st.composite
def bad_value(draw, column: contract.Column, good: str) -> tuple[str | None, set[str]]:
    """A delivered value outside the contract for `column`, made from a `good` one, and
    the checks any one of which must reject it."""
    good = good or "X"
    pattern_check = {"code"} if column.kind == contract.CODE else {"format"}
    options = []
    if column.kind == contract.TEXT:
        control = st.sampled_from(CONTROLS)
        options.append(
            st.tuples(st.integers(0, len(good)), control).map(
                lambda p: (good[: p[0]] + p[1] + good[p[0] :], {"control_character"})
            )
        )
        options.append(
            st.integers(contract.MAX_TEXT_LENGTH + 1, 3 * contract.MAX_TEXT_LENGTH).map(
                lambda n: ((good * n)[:n], {"length"})
            )
        )
    else:
        # A trailing or embedded line break, control or invisible character.
        options.append(st.sampled_from(INVISIBLE).map(lambda ch: (good + ch, pattern_check)))
        options.append(
            st.tuples(st.integers(0, len(good)), st.sampled_from(CONTROLS)).map(
                lambda p: (good[: p[0]] + p[1] + good[p[0] :], pattern_check)
            )
        )
        # Unicode forms: a combining accent (the NFD of an accented letter), digits of another script.
        options.append(st.just((good + "\u0301", pattern_check)))
        if any(ch.isdigit() for ch in good):
            options.append(st.sampled_from(OTHER_DIGITS).map(lambda s: (_with_other_digits(good, s), pattern_check)))
        # Oversized: far longer than any value of its kind.
        options.append(st.integers(70, 2000).map(lambda n: ((good * n)[:n], pattern_check)))
    if column.kind == contract.DATE:
        early = st.dates(date(1, 1, 1), date(1949, 12, 31))
        late = st.dates(date(2100, 1, 1), date(9999, 12, 31))
        options.append((early | late).map(lambda d: (f"{d.year:04d}-{d.month:02d}-{d.day:02d}", {"range"})))
    if column.kind == contract.TIMESTAMP:
        offsets = st.sampled_from(["Z", "+09:00", "-05:00", "+14:00", "-12:00"])
        early = st.datetimes(datetime(1, 1, 2), datetime(1949, 12, 30))
        late = st.datetimes(datetime(2100, 1, 2), datetime(9999, 12, 30))
        options.append(
            st.tuples(early | late, offsets, st.booleans()).map(
                lambda p: (f"{p[0].year:04d}-{p[0]:%m-%dT%H:%M}" + (f":{p[0]:%S}" if p[2] else "") + p[1], {"range"})
            )
        )
    if column.kind == contract.INTEGER:
        if column.minimum is not None:
            options.append(st.integers(-(10**17), column.minimum - 1).map(lambda n: (str(n), {"minimum"})))
        if column.maximum is not None:
            options.append(st.integers(column.maximum + 1, 10**18 - 1).map(lambda n: (str(n), {"maximum"})))
    if column.required:
        options.append(st.just((None, {"required"})))
    return draw(st.one_of(*options))


@st.composite
def bad_rows(draw, table: contract.Table, first_number: int) -> list[tuple[dict, str, set[str]]]:
    """Valid rows of `table`, each with one column made bad: (row, column, checks)."""
    planted = []
    for n in range(first_number, first_number + draw(st.integers(8, 20))):
        column = draw(st.sampled_from(table.columns))
        row = valid_row(table.name)
        row[table.primary_key] = f"{n:011d}" if table.primary_key == "workplace_id" else f"R{n}"
        # A bad key is made from the row's own key: `R101\n` is one more copy of nothing.
        value, checks = draw(bad_value(column, row[column.name]))
        row[column.name] = value
        planted.append((row, column.name, checks))
    return planted


# --- Python's side of the format checks -------------------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(kind=st.sampled_from(PATTERN_KINDS), suffix=st.sampled_from(INVISIBLE), data=st.data())
def test_no_value_with_an_invisible_or_line_ending_character_passes_a_format(kind, suffix, data):
    column = next(c for _, c in NOT_TEXT_COLUMNS if c.kind == kind)
    table = next(t for t, c in NOT_TEXT_COLUMNS if c is column)
    good = _good_value(table, column)
    assert column.matches(good)
    position = data.draw(st.integers(0, len(good)))
    assert not column.matches(good + suffix)
    assert not column.matches(good[:position] + suffix + good[position:])


# --- the row validator in Spark: many generated rows per job ----------------------------


def _check(spark, table: contract.Table, rows: list[dict]):
    schema = ", ".join(
        [f"`{DROP_DATE}` date", f"`{LINE_NO}` bigint", f"`{RAW_LINE}` string", f"`{ERROR}` string"]
        + [f"`{c}` string" for c in table.column_names]
    )
    data = [
        (DS, i + 1, f"line {i + 1}", None, *[row.get(c) or None for c in table.column_names])
        for i, row in enumerate(rows)
    ]
    checked = check_rows(spark.createDataFrame(data, schema), table)
    return {
        r[LINE_NO]: [(f["column"], f["check"]) for f in r[FAILURES]]
        for r in checked.select(LINE_NO, failures(table).alias(FAILURES)).collect()
    }


@SPARK_RUNS
@given(data=st.data())
def test_every_generated_bad_row_is_rejected_by_the_check_its_fault_deserves(spark, data):
    for table in contract.TABLES.values():
        planted = data.draw(bad_rows(table, first_number=100), label=table.name)
        rows = [valid_row(table.name)] + [row for row, _, _ in planted]
        failures = _check(spark, table, rows)
        assert failures[1] == [], "the good row passes"
        for line, (row, column, checks) in enumerate(planted, start=2):
            found = {check for name, check in failures[line] if column in name.split(",")}
            assert found & checks, (table.name, column, row[column], failures[line])


# --- the whole pipeline on one landing of generated bad rows ------------------------------


def _csv(table: contract.Table, rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.column_names)
    for row in rows:
        writer.writerow(["" if row[name] is None else row[name] for name in table.column_names])
    return buffer.getvalue()


@pytest.mark.slow
@PIPELINE_RUNS
@given(data=st.data())
def test_a_landing_of_generated_bad_rows_runs_every_stage_and_quarantines_each(spark, tmp_path_factory, data):
    from fraud.config import Settings
    from fraud.layout import Layout
    from jobs import pipeline

    root = tmp_path_factory.mktemp("generated")
    landing = root / "landing"
    planted = {}
    for source in contract.SOURCES:
        files = {}
        for table in contract.tables_of(source):
            bad = data.draw(bad_rows(table, first_number=100), label=table.name)
            planted[table.name] = bad
            files[table.name] = _csv(table, [valid_row(table.name)] + [row for row, _, _ in bad])
        write_drop(landing, source, DAY, files)
    settings_ = Settings.from_env(
        landing=landing,
        warehouse=root / "warehouse",
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        drop_wait_timeout_seconds=0,
    )

    pipeline.run_all(DS, settings_)  # every stage, none crashes

    layout = Layout(settings_.warehouse)
    manifest = json.loads((layout.outputs(DS) / "run_manifest.json").read_text())
    counts = {name: c for d in manifest["drops"] for name, c in d["tables"].items()}
    for table in contract.TABLES.values():
        bad = planted[table.name]
        assert counts[table.name]["rows_in"] == len(bad) + 1
        assert (counts[table.name]["valid"], counts[table.name]["quarantined"]) == (1, len(bad)), table.name
        quarantined = {int(r["line_no"]): r for r in read_csv(layout.quarantine_file(table.source, DS, table.name))}
        assert sorted(quarantined) == list(range(2, len(bad) + 2))  # record 1 is the good row
        for number, (row, column, checks) in enumerate(bad, start=2):
            reason = quarantined[number]
            assert reason["reason"] and column in reason["column"].split(";"), (table.name, row[column], reason)
            assert set(reason["check"].split(";")) & checks, (table.name, row[column], reason)
    assert (layout.outputs(DS) / "report" / "index.html").is_file()


# --- a generated night whose final drop holds the issue's worst probes --------------------


def _append(drop, table_name: str, rows: list[dict], raw_lines: tuple[str, ...] = ()) -> None:
    """Add records to a delivered file in its own header order, encoding and line ends,
    and recompute the drop's manifest entry, as an agency would have delivered them."""
    manifest_path = drop / contract.MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    path = drop / f"{table_name}.csv"
    with no_csv_field_limit():
        header = next(iter_records(path, manifest["encoding"]))[2]
    data = path.read_bytes()
    line_end = "\r\n" if data.endswith(b"\r\n") else "\n"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=line_end).writerows([[row.get(name, "") for name in header] for row in rows])
    data += (buffer.getvalue() + "".join(line + line_end for line in raw_lines)).encode(manifest["encoding"])
    path.write_bytes(data)
    entry = manifest["tables"][path.name]
    entry["rows"] += len(rows) + len(raw_lines)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def _latest(landing, table_name: str, key: str, value: str) -> dict:
    found = []
    for path in sorted(landing.glob(f"ei/*/{table_name}.csv")):
        encoding = json.loads((path.parent / contract.MANIFEST_NAME).read_text())["encoding"]
        records = list(iter_records(path, encoding))
        header = records[0][2]
        found += [
            dict(zip(header, fields))
            for _, _, fields, _ in records[1:]
            if fields and dict(zip(header, fields)).get(key) == value
        ]
    return max(found, key=lambda row: row["updated_at"])


@pytest.mark.slow
def test_a_night_of_the_issues_probes_exits_0_and_keeps_the_planted_case(spark, tmp_path):
    from click.testing import CliRunner

    from fraud.layout import Layout
    from fraudctl.main import main
    from simulation.synth import generate

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    truth = generate(landing, persons=400, seed=11, baseline=date(2026, 3, 2), days=1)
    final = truth["final_date"]
    case = next(p for p in truth["planted"] if not p["past"] and p["typologies"] == ["UNDECLARED_WORK"])
    claim = _latest(landing, "claims", "claim_id", case["claim_id"])
    huge_id = "H" * (MAX_FIELD_CHARS + 10)
    # 1. The planted claim re-sent, newest, with a line break after its person_key.
    # 3. A record over 1 MiB.
    _append(
        landing / "ei" / final,
        "claims",
        [{**claim, "person_key": case["person_key"] + "\n", "updated_at": f"{final}T23:59:00+09:00"}],
        raw_lines=(f"{huge_id},{case['person_key']}",),
    )
    # 2. Ancient crossings of the claimant.
    ancient = {"XA1600": "1600-01-01T00:00:00+09:00", "XA0001": "0001-01-01T00:00:00+09:00"}
    _append(
        landing / "moj" / final,
        "crossings",
        [
            {
                "crossing_id": crossing_id,
                "person_key": case["person_key"],
                "crossed_at": at,
                "direction": "OUT",
                "port_code": "ICN",
                "country": "JP",
            }
            for crossing_id, at in ancient.items()
        ],
    )

    result = CliRunner().invoke(
        main,
        [
            "--log-level",
            "ERROR",
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--ds",
            final,
            "--no-progress",
        ],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    layout = Layout(warehouse)
    outputs = layout.outputs(date.fromisoformat(final))
    queued = {row["claim_id"] for row in read_csv(outputs / "cases.csv")}
    assert case["claim_id"] in queued
    claims = read_csv(layout.quarantine_file("ei", date.fromisoformat(final), "claims"))
    resent = [r for r in claims if case["person_key"] + "\n" in unescape_cell(r["raw_line"])]
    assert [(r["column"], r["check"]) for r in resent] == [("person_key", "format")]
    assert case["claim_id"] in resent[0]["raw_line"]
    [huge] = [r for r in claims if r["raw_line"].startswith(huge_id)]
    assert huge["check"] == "record" and "field larger than field limit" in huge["reason"]
    crossings = read_csv(layout.quarantine_file("moj", date.fromisoformat(final), "crossings"))
    assert sorted(
        (crossing_id, r["column"], r["check"])
        for r in crossings
        for crossing_id in ancient
        if crossing_id in r["raw_line"]
    ) == [("XA0001", "crossed_at", "range"), ("XA1600", "crossed_at", "range")]
    manifest = json.loads((outputs / "run_manifest.json").read_text())
    for drop in manifest["drops"]:
        for counts in drop["tables"].values():
            assert counts["valid"] + counts["quarantined"] == counts["rows_in"]
    expected = truth["quarantine_expected"]
    final_drops = {
        (d["source"], name): c for d in manifest["drops"] if d["drop_date"] == final for name, c in d["tables"].items()
    }
    assert final_drops[("ei", "claims")]["quarantined"] == expected.get(f"ei/{final}/claims", 0) + 2
    assert final_drops[("moj", "crossings")]["quarantined"] == expected.get(f"moj/{final}/crossings", 0) + 2
    assert (outputs / "report" / "index.html").is_file()
    assert (outputs / "report" / "quality.html").is_file()
