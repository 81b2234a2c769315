"""The bad-input matrix (issue #7): every contract table x every kind of defect, on
tiny files through the real ingest and validate jobs. Each case asserts its exact
outcome (a one-line DropError naming the file, or a quarantine row with its check) and
that nothing is lost (rows_in = valid + quarantined).

File-level defects need no Spark (ingest only); row-level defects are planted all in
one drop per source, ingested and validated once for the module."""

import csv
import hashlib
import json
from datetime import date

import pyarrow.parquet as pq
import pytest
from conftest import (
    P2,
    cert_row,
    claim_row,
    crossing_row,
    csv_text,
    employment_row,
    finding_row,
    income_row,
    workplace_row,
    write_drop,
)

from fraud import contract
from fraud.landing import DropError
from fraud.layout import Layout
from fraud.records import ERROR, LINE_NO, MAX_FIELD_CHARS
from fraud.storage import read_json, unescape_cell
from fraud.validation import DROP_DATE, REJECTED
from jobs import ingest, validate
from jobs.stage_io import IngestInputs, Night, ValidateInputs

DAY = "2026-03-02"
DS = date(2026, 3, 2)
FORMULA = "=cmd|' /C calc'!A0"  # a DDE formula: no quote or comma, so the line starts with it


def valid_row(table_name: str) -> dict:
    rows = {
        "workplaces": workplace_row(),
        "employments": employment_row(),
        "claims": claim_row(),
        "certifications": cert_row(),
        "findings": finding_row(),
        "income": income_row(),
        "crossings": crossing_row(),
    }
    assert tuple(rows[table_name]) == contract.TABLES[table_name].column_names
    return rows[table_name]


def _key(table: contract.Table, n: int) -> str:
    # A distinct, well-formed primary key per planted row.
    return f"{n:011d}" if table.primary_key == "workplace_id" else f"R{n}"


def _first(table: contract.Table, kind: str) -> str:
    return next(c.name for c in table.columns if c.kind == kind)


def _has(table: contract.Table, kind: str) -> bool:
    return any(c.kind == kind for c in table.columns)


# --- row-level defects: (name, planted rows as CSV text, expected outcome per row) ----
# An outcome is "valid" or (column, check) of the quarantine row.


def row_defects(table: contract.Table) -> list[tuple[str, list[str], list]]:
    header = table.column_names
    key, first_date = table.primary_key, _first(table, contract.DATE) if _has(table, contract.DATE) else None

    def line(n, **overrides):
        row = valid_row(table.name)
        row[key] = _key(table, n)
        row.update(overrides)
        return csv_text([row], header).split("\r\n", 1)[1].removesuffix("\r\n")  # one record, no header

    defects = [("valid", [line(1)], ["valid"])]
    if _has(table, contract.TEXT):
        text = next(c.name for c in table.columns if c.kind == contract.TEXT)
        defects.append(("quotes_and_newline_in_text", [line(2, **{text: 'A, "B"\nC'})], ["valid"]))
        defects.append(("formula_text", [line(3, **{text: FORMULA})], ["valid"]))
    else:
        defects.append(("quotes_and_newline_in_key", [line(2, **{key: 'R2,"x"\ny'})], [(key, "format")]))
        defects.append(("formula_text", [line(3, **{key: FORMULA})], [(key, "format")]))
    defects.append(("duplicated_key", [line(4), line(4)], [(key, "duplicate_key")] * 2))
    if first_date:
        defects.append(("impossible_date", [line(5, **{first_date: "2026-02-30"})], [(first_date, "value")]))
    else:
        defects.append(
            ("impossible_date", [line(5, crossed_at="2026-02-30T09:00:00+09:00")], [("crossed_at", "value")])
        )
    if table.row_checks:
        check = table.row_checks[0]
        first, second = check.columns[:2]
        defects.append(
            (
                "reversed_dates",
                [line(6, **{first: "2026-02-27", second: "2026-02-01"})],
                [(f"{first},{second}", check.name)],
            )
        )
    if _has(table, contract.INTEGER):
        amount = _first(table, contract.INTEGER)
        defects.append(("enormous_number", [line(7, **{amount: "9" * 40})], [(amount, "format")]))
    defects.append(("enormous_field", [line(8, **{key: "x" * (MAX_FIELD_CHARS + 10)})], [("*", "record")]))
    defects.append(("extra_field_in_row", [line(9) + ",surplus"], [("*", "record")]))
    defects.append(("undecodable_bytes", ["\udcff" + line(10)], [("*", "record")]))  # \xff on disk
    if _has(table, contract.TEXT):
        text = next(c.name for c in table.columns if c.kind == contract.TEXT)
        defects.append(("nul_in_text", [line(13, **{text: "A\x00B"})], [(text, "control_character")]))
    else:
        defects.append(("nul_in_text", [line(13, **{key: "R13\x00"})], [(key, "format")]))
    if table.name == "crossings":
        defects.append(
            (
                "in_before_out",
                [
                    line(11, person_key=P2, direction="IN", crossed_at="2026-02-01T09:00:00+09:00"),
                    line(12, person_key=P2, direction="OUT", crossed_at="2026-02-05T09:00:00+09:00"),
                ],
                ["valid", "valid"],
            )
        )
    return defects


def _planted_file(table: contract.Table) -> tuple[bytes, list[tuple[str, int, object]]]:
    """The file's bytes and, per record, (defect, record number, expected outcome)."""
    text = ",".join(table.column_names) + "\r\n"
    expected, number = [], 1
    for name, lines, outcomes in row_defects(table):
        for raw, outcome in zip(lines, outcomes):
            text += raw if raw.endswith("\r\n") else raw + "\r\n"
            expected.append((name, number, outcome))
            number += 1
    return text.encode("utf-8", "surrogateescape"), expected


@pytest.fixture(scope="module")
def validated(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-input")
    landing, warehouse = root / "landing", root / "warehouse"
    expected = {}
    for source in contract.SOURCES:
        files = {}
        for table in contract.tables_of(source):
            files[table.name], expected[table.name] = _planted_file(table)
        csv.field_size_limit(4 * MAX_FIELD_CHARS)  # write_drop counts rows with the csv module
        try:
            write_drop(landing, source, DAY, files, rows={name: len(expected[name]) for name in files})
        finally:
            csv.field_size_limit(MAX_FIELD_CHARS)
    landed = ingest.run(None, IngestInputs(landing), Night(DS, warehouse))
    validate.run(spark, ValidateInputs(landed.drops), Night(DS, warehouse))
    return Layout(warehouse), landing, expected


ROW_CASES = [(table.name, name) for table in contract.TABLES.values() for name, _, _ in row_defects(table)]


@pytest.mark.parametrize("table_name,defect", ROW_CASES, ids=[f"{t}-{d}" for t, d in ROW_CASES])
def test_row_defect_gives_its_quarantine_row_or_stays_valid(validated, table_name, defect):
    layout, landing, expected = validated
    table = contract.TABLES[table_name]
    path = layout.quarantine_file(table.source, DS, table_name)
    csv.field_size_limit(4 * MAX_FIELD_CHARS)  # the enormous field's original line is kept whole
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            quarantined = {int(row["line_no"]): row for row in csv.DictReader(handle)}
    finally:
        csv.field_size_limit(MAX_FIELD_CHARS)
    delivered = (landing / table.source / DAY / f"{table_name}.csv").read_bytes()
    for name, number, outcome in expected[table_name]:
        if name != defect:
            continue
        if outcome == "valid":
            assert number not in quarantined, quarantined.get(number)
            continue
        row = quarantined[number]
        assert (row["column"].split(";")[0], row["check"].split(";")[0]) == outcome, row
        assert row["reason"]
        raw = unescape_cell(row["raw_line"])
        if defect == "undecodable_bytes":
            assert raw.startswith("\\xff")  # the undecodable byte shown, not dropped
        elif defect == "nul_in_text":
            # Escaped like an undecodable byte: the whole line is there, the NUL shown.
            assert "\x00" not in raw and "\x00" not in row["reason"]
            assert raw.replace("\\x00", "\x00").encode() in delivered
        else:
            assert raw.encode() in delivered  # the original record, exactly as delivered
        if defect == "formula_text":
            assert row["raw_line"].startswith("'=cmd|")  # inert in a spreadsheet


@pytest.mark.parametrize("table_name", list(contract.TABLES))
def test_no_quarantine_file_holds_a_control_character(validated, table_name):
    import re

    layout, _, _ = validated
    table = contract.TABLES[table_name]
    text = layout.quarantine_file(table.source, DS, table_name).read_text(encoding="utf-8")
    assert "\\x00" in text
    assert re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text) is None


@pytest.mark.parametrize("table_name", list(contract.TABLES))
def test_counts_add_up_for_every_table(validated, table_name):
    layout, _, expected = validated
    table = contract.TABLES[table_name]
    state = read_json(layout.drop_state(table.source, DS))["tables"][table_name]
    planted = expected[table_name]
    assert state["rows_in"] == len(planted)
    assert state["valid"] == sum(1 for _, _, outcome in planted if outcome == "valid")
    assert state["valid"] + state["quarantined"] == state["rows_in"]


@pytest.mark.parametrize("table_name", list(contract.TABLES))
def test_the_validated_rows_are_the_valid_ones_and_carry_nothing_of_the_rejected(validated, table_name):
    """The checked rows are written once; the valid ones' files become the validated
    table as they are, with the column that explains a rejected row null throughout."""
    layout, _, expected = validated
    table = contract.TABLES[table_name]
    stored = pq.read_table(layout.validated_table(table.source, table_name) / f"{DROP_DATE}={DAY}")
    assert set(stored.column_names) == {*table.column_names, LINE_NO, REJECTED}
    valid = sorted(number for _, number, outcome in expected[table_name] if outcome == "valid")
    assert sorted(stored.column(LINE_NO).to_pylist()) == valid
    assert stored.column(REJECTED).null_count == stored.num_rows
    assert not list(layout.root.glob("tmp/checked-*"))  # what was not moved is removed


def test_partitions_validated_before_the_rejected_column_read_beside_new_ones(spark, validated, tmp_path):
    """A warehouse validated before `_rejected` was written keeps its partitions (the
    checks did not change, so no drop is validated again): conform reads them beside
    new ones, the validated columns by name."""
    import shutil

    from jobs import conform

    layout, _, expected = validated
    table = contract.TABLES["claims"]
    copy = Layout(tmp_path / "w")
    new = copy.validated_table(table.source, table.name)
    shutil.copytree(layout.validated_table(table.source, table.name), new)
    earlier = pq.read_table(new / f"{DROP_DATE}={DAY}").drop_columns([REJECTED])
    (new / f"{DROP_DATE}=2026-03-01").mkdir()
    pq.write_table(earlier, new / f"{DROP_DATE}=2026-03-01" / "part-00000.parquet")  # as written before

    rows = conform._validated(spark, copy, table)
    assert rows.columns == [*table.column_names, DROP_DATE, LINE_NO]
    valid = sum(1 for _, _, outcome in expected["claims"] if outcome == "valid")
    by_drop = {str(row[DROP_DATE]): row["count"] for row in rows.groupBy(DROP_DATE).count().collect()}
    assert by_drop == {DAY: valid, "2026-03-01": valid}


# --- file-level defects: ingest alone -------------------------------------------------


def _good_file(table: contract.Table) -> str:
    return csv_text(
        [valid_row(table.name), {**valid_row(table.name), table.primary_key: _key(table, 2)}], table.column_names
    )


def _landing_with(tmp_path, table: contract.Table, content, **kwargs):
    landing = tmp_path / "landing"
    write_drop(landing, table.source, DAY, {table.name: content}, **kwargs)
    return landing


def _ingest(tmp_path, landing):
    return ingest.run(None, IngestInputs(landing), Night(DS, tmp_path / "warehouse"))


def _landed(tmp_path, table):
    return pq.read_table(Layout(tmp_path / "warehouse").landed_drop(table.source, DS) / f"{table.name}.parquet")


TABLE_NAMES = list(contract.TABLES)


@pytest.mark.parametrize("table_name", TABLE_NAMES)
def test_file_truncated_after_its_manifest_stops_the_run_naming_it(tmp_path, table_name):
    table = contract.TABLES[table_name]
    landing = _landing_with(tmp_path, table, _good_file(table))
    path = landing / table.source / DAY / f"{table_name}.csv"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(DropError, match=rf"^{table.source}/{DAY}/{table_name}.csv: sha256 .* does not match"):
        _ingest(tmp_path, landing)


@pytest.mark.parametrize("table_name", TABLE_NAMES)
def test_row_count_off_stops_the_run_naming_the_file(tmp_path, table_name):
    table = contract.TABLES[table_name]
    landing = _landing_with(tmp_path, table, _good_file(table), rows={table_name: 3})
    with pytest.raises(
        DropError,
        match=rf"^{table.source}/{DAY}/{table_name}.csv: the manifest says 3 rows, "
        "the file has 2$",
    ):
        _ingest(tmp_path, landing)


@pytest.mark.parametrize("table_name", TABLE_NAMES)
def test_checksum_off_stops_the_run_naming_the_file(tmp_path, table_name):
    table = contract.TABLES[table_name]
    landing = _landing_with(tmp_path, table, _good_file(table))
    manifest_path = landing / table.source / DAY / "_MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"][f"{table_name}.csv"]["sha256"] = hashlib.sha256(b"another file").hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DropError, match=rf"^{table.source}/{DAY}/{table_name}.csv: sha256"):
        _ingest(tmp_path, landing)


@pytest.mark.parametrize("table_name", TABLE_NAMES)
def test_file_cut_inside_a_quoted_field_keeps_the_cut_record_as_an_error(tmp_path, table_name):
    # Truncated before the manifest was written (the manifest agrees with the cut file).
    table = contract.TABLES[table_name]
    cut = _good_file(table) + f'"{_key(table, 3)},unterminated'
    landing = _landing_with(tmp_path, table, cut, rows={table_name: 3})
    _ingest(tmp_path, landing)
    errors = _landed(tmp_path, table).column(ERROR).to_pylist()
    assert errors[:2] == [None, None]
    assert errors[2].startswith("malformed CSV record")


@pytest.mark.parametrize("table_name", TABLE_NAMES)
def test_missing_column_rejects_every_row_with_one_reason(tmp_path, table_name):
    table = contract.TABLES[table_name]
    header = [c for c in table.column_names if c != table.primary_key]
    landing = _landing_with(tmp_path, table, csv_text([valid_row(table_name)] * 2, header))
    result = _ingest(tmp_path, landing)
    landed = _landed(tmp_path, table)
    assert landed.num_rows == 2  # nothing lost
    assert set(landed.column(ERROR).to_pylist()) == {
        f"file rejected: header lacks required column(s) {table.primary_key}"
    }
    assert result.landed_now == [f"{table.source}/{DAY}"]


@pytest.mark.parametrize("table_name", TABLE_NAMES)
def test_extra_column_is_ignored_and_recorded(tmp_path, table_name):
    table = contract.TABLES[table_name]
    rows = [{**valid_row(table_name), "remarks": "x"}]
    landing = _landing_with(tmp_path, table, csv_text(rows, ["remarks", *table.column_names]))
    _ingest(tmp_path, landing)
    reading = read_json(Layout(tmp_path / "warehouse").landed_drop(table.source, DS) / ingest.READING_FILE)
    assert reading["tables"][table_name]["extra_columns"] == ["remarks"]
    assert _landed(tmp_path, table).column(ERROR).to_pylist() == [None]


@pytest.mark.parametrize("table_name", TABLE_NAMES)
def test_file_in_another_encoding_than_declared_quarantines_the_rows_it_garbles(tmp_path, table_name):
    # A CP949 export under a manifest that says utf-8: the record with Korean text is an
    # error row (kept, quarantined later); the plain-ASCII record reads as it is.
    table = contract.TABLES[table_name]
    korean = {**valid_row(table_name), table.primary_key: "부정2"}
    data = csv_text([valid_row(table_name), korean], table.column_names).encode("cp949")
    landing = _landing_with(tmp_path, table, data, rows={table_name: 2})
    _ingest(tmp_path, landing)
    landed = _landed(tmp_path, table)
    garbled = "encoding: bytes that are not valid utf-8"
    plain_ascii = table_name != "workplaces"  # a workplace's name and address are Korean
    assert landed.column(ERROR).to_pylist() == [None if plain_ascii else garbled, garbled]
    assert landed.column("_raw_line").to_pylist()[1].startswith("\\x")  # the bytes shown, not dropped


def test_a_large_quarantine_is_streamed_in_the_same_order_as_a_small_one_is_collected(
    spark, validated, tmp_path, monkeypatch
):
    # Up to QUARANTINE_COLLECT_ROWS rejected rows are collected and sorted on the
    # driver; more are sorted by Spark and streamed. Both write the same files.
    layout, landing, _ = validated
    monkeypatch.setattr(validate, "QUARANTINE_COLLECT_ROWS", 0)
    streamed = tmp_path / "warehouse"
    landed = ingest.run(None, IngestInputs(landing), Night(DS, streamed))
    validate.run(spark, ValidateInputs(landed.drops), Night(DS, streamed))
    for table in contract.TABLES.values():
        collected = layout.quarantine_file(table.source, DS, table.name)
        assert collected.read_bytes() == Layout(streamed).quarantine_file(table.source, DS, table.name).read_bytes()
