"""Row-level validation: every kind of bad value a validator can see, and its reason."""

import dataclasses
import uuid
from datetime import date

import pytest
from conftest import P1, cert_row, claim_row, crossing_row, employment_row, income_row, workplace_row
from pyspark.sql import functions as F

from fraud import contract, validation
from fraud.records import ERROR, LINE_NO, RAW_LINE
from fraud.validation import DROP_DATE, REJECTED, VALID, check_rows, packed, quarantined_rows, unpacked

DROP = date(2026, 3, 2)


def _check(spark, table_name, rows, errors=None):
    table = contract.TABLES[table_name]
    schema = ", ".join(
        [f"`{DROP_DATE}` date", f"`{LINE_NO}` bigint", f"`{RAW_LINE}` string", f"`{ERROR}` string"]
        + [f"`{c}` string" for c in table.column_names]
    )
    data = [
        (DROP, i + 1, f"line {i + 1}", (errors or {}).get(i), *[row.get(c) or None for c in table.column_names])
        for i, row in enumerate(rows)
    ]
    checked = check_rows(spark.createDataFrame(data, schema), table)
    rejected = unpacked(packed(checked, table).where(~F.col(VALID)))  # as jobs/validate.py stores and reads them
    return checked, {r["line_no"]: r for r in quarantined_rows(rejected, "ei", table).collect()}


# Java's `$` also matches before a final line terminator (\n, \r\n, \r, U+0085, U+2028,
# U+2029): a value followed by one must fail its format check all the same.
LINE_BREAKS = ("\n", "\r\n", "\r", "\u0085", "\u2028", "\u2029")
TRAILING_BREAK_CASES = [
    case
    for brk in LINE_BREAKS
    for case in (
        ("claims", claim_row(person_key=P1 + brk), "person_key", "format"),
        ("claims", claim_row(workplace_id="12345678901" + brk), "workplace_id", "format"),
        ("claims", claim_row(filed_on="2026-02-01" + brk), "filed_on", "format"),
        ("claims", claim_row(updated_at="2026-03-01T10:00:00+09:00" + brk), "updated_at", "format"),
        ("claims", claim_row(benefit_days="180" + brk), "benefit_days", "format"),
        ("claims", claim_row(status="APPROVED" + brk), "status", "code"),
        ("certifications", cert_row(claim_id="C1" + brk), "claim_id", "format"),
        ("income", income_row(payer_business_no="1234567890" + brk), "payer_business_no", "format"),
        ("crossings", crossing_row(country="JP" + brk), "country", "format"),
        ("workplaces", workplace_row(phone="02-123-4567" + brk), "phone", "format"),
        ("workplaces", workplace_row(region_code="11" + brk), "region_code", "format"),
    )
]

CASES = [
    ("claims", claim_row(person_key="A" * 64), "person_key", "format"),
    ("claims", claim_row(workplace_id="1234567890"), "workplace_id", "format"),
    ("claims", claim_row(filed_on="2026-02-30"), "filed_on", "value"),
    ("claims", claim_row(filed_on="2026/02/01"), "filed_on", "format"),
    ("claims", claim_row(updated_at="2026-03-01T10:00:00"), "updated_at", "format"),
    ("claims", claim_row(daily_amount="64,000"), "daily_amount", "format"),
    ("claims", claim_row(daily_amount="99999999999999"), "daily_amount", "maximum"),
    ("claims", claim_row(benefit_days="300"), "benefit_days", "maximum"),
    ("claims", claim_row(separation_code="99"), "separation_code", "code"),
    ("claims", claim_row(status="X"), "status", "code"),
    ("claims", claim_row(bank_account_key=""), "bank_account_key", "required"),
    ("claims", claim_row(filed_on="2026-03-03"), "filed_on", "after_drop"),
    ("claims", claim_row(updated_at="2026-03-02T16:00:00Z"), "updated_at", "after_drop"),  # 01:00 KST on the 3rd
    ("claims", claim_row(filed_on="1900-01-01"), "filed_on", "range"),
    ("employments", employment_row(lost_on="2024-12-31"), "acquired_on,lost_on", "acquired_on_not_after_lost_on"),
    ("employments", employment_row(lost_on=""), "lost_on,separation_code", "separation_code_iff_lost_on"),
    ("employments", employment_row(monthly_wage="-1"), "monthly_wage", "minimum"),
    ("certifications", cert_row(channel="VISIT"), "channel,ip_country", "ip_country_null_for_visit"),
    ("certifications", cert_row(channel="FAX"), "channel", "code"),
    ("certifications", cert_row(period_to="2026-01-31"), "period_from,period_to", "period_from_not_after_period_to"),
    ("income", income_row(work_days="40"), "work_days,work_from,work_to", "work_days_within_period"),
    ("crossings", crossing_row(direction="SIDEWAYS"), "direction", "code"),
    ("crossings", crossing_row(country="jp"), "country", "format"),
    # Timestamps get the dates' plausibility window (Great Expectations fails the whole
    # drop on one that slips through; year 1 cannot even be shown in Python).
    ("claims", claim_row(updated_at="1600-01-01T00:00:00+09:00"), "updated_at", "range"),
    ("crossings", crossing_row(crossed_at="0001-01-01T00:00:00+09:00"), "crossed_at", "range"),
    ("crossings", crossing_row(crossed_at="1949-12-31T23:59:59+09:00"), "crossed_at", "range"),
    ("crossings", crossing_row(crossed_at="0000-01-01T00:00:00Z"), "crossed_at", "range"),
    # Free text holds no control characters but tab, line feed and carriage return.
    ("workplaces", workplace_row(name="(주)테\x00스트"), "name", "control_character"),
    ("workplaces", workplace_row(address="서울 중구 세종대로 110\x1b[31m"), "address", "control_character"),
    ("workplaces", workplace_row(name="(주)테스트\x85"), "name", "control_character"),
    *TRAILING_BREAK_CASES,
]


GOOD = {
    "claims": claim_row("C0"),
    "employments": employment_row(employment_id="E0"),
    "certifications": cert_row(cert_id="K0"),
    "income": income_row(record_id="N0"),
    "crossings": crossing_row("X0"),
    "workplaces": workplace_row(workplace_id="00000000000"),
}


@pytest.fixture(scope="module")
def checked_cases(spark):
    """All CASES checked in one Spark pass per table: line 1 is a good row, case i is
    line i + 2 of its table (each with its own primary key)."""
    results = {}
    for table_name, good in GOOD.items():
        key = contract.TABLES[table_name].primary_key
        cases = [(i, row) for i, (name, row, _, _) in enumerate(CASES) if name == table_name]
        rows = [good] + [{**row, key: _bad_key(table_name, i)} for i, row in cases]
        checked, quarantined = _check(spark, table_name, rows)
        valid = {r[key] for r in checked.where(F.col(VALID)).collect()}
        results.update({i: (quarantined, valid, line + 2) for line, (i, _) in enumerate(cases)})
        assert 1 not in quarantined, "the good row passes"
    return results


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{c[0]}-{c[3]}-{c[2]}" for c in CASES])
def test_each_bad_value_is_quarantined_with_column_and_check(checked_cases, case):
    table_name, _, column, check = CASES[case]
    quarantined, valid, line = checked_cases[case]
    row = quarantined[line]
    assert row["column"] == column and row["check"] == check
    assert row["raw_line"] == f"line {line}" and row["table"] == table_name
    assert _bad_key(table_name, case) not in valid


def _bad_key(table_name, case):
    return f"{case:011d}" if table_name == "workplaces" else f"BAD{case}"


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=[repr(b) for b in LINE_BREAKS])
def test_a_primary_key_with_a_trailing_line_break_is_bad_and_a_duplicate_of_the_bare_key(spark, brk):
    # "C1" and "C1\n" are one key sent twice, not two records.
    _, quarantined = _check(spark, "claims", [claim_row("C1"), claim_row("C2"), claim_row("C1" + brk)])
    assert set(quarantined) == {1, 3}
    assert quarantined[1]["check"] == "duplicate_key"
    assert quarantined[3]["check"] == "format;duplicate_key"


def test_duplicate_primary_key_quarantines_every_copy(spark):
    _, quarantined = _check(spark, "claims", [claim_row("C1"), claim_row("C2"), claim_row("C1")])
    assert set(quarantined) == {1, 3}
    assert quarantined[1]["reason"] == "claim_id: 'C1' appears more than once in this drop with the same updated_at"


def test_two_versions_of_a_key_in_one_drop_are_both_valid_unless_at_the_same_instant(spark):
    # FEEDS.md: the greatest updated_at wins. A drop holding a record's history (the
    # baseline) may carry two of its versions: they are ordered, not a duplicate. The
    # same instant spelled in another offset cannot be ordered: every copy goes.
    rows = [
        claim_row("C1", updated_at="2026-03-01T10:00:00+09:00", status="APPROVED"),
        claim_row("C1", updated_at="2026-02-01T10:00:00+09:00", status="FILED"),
        claim_row("C3", updated_at="2026-03-01T10:00:00+09:00", status="APPROVED"),
        claim_row("C3", updated_at="2026-03-01T01:00:00+00:00", status="REJECTED"),
    ]
    checked, quarantined = _check(spark, "claims", rows)
    assert set(quarantined) == {3, 4}
    assert {r["check"] for r in quarantined.values()} == {"duplicate_key"}
    assert sorted(r["status"] for r in checked.where(F.col(VALID)).collect()) == ["APPROVED", "FILED"]


def test_a_crossing_sent_twice_in_one_drop_is_quarantined_whatever_its_fields(spark):
    # Crossings have no updated_at: two rows of one crossing_id in a drop cannot be ordered.
    _, quarantined = _check(spark, "crossings", [crossing_row("X1"), crossing_row("X1", country="CN")])
    assert set(quarantined) == {1, 2}
    assert quarantined[1]["reason"] == "crossing_id: 'X1' appears more than once in this drop"


def test_record_error_is_the_only_reason_and_valid_rows_are_typed(spark):
    checked, quarantined = _check(
        spark, "claims", [claim_row(), claim_row("C2")], errors={1: "expected 11 fields as in the header, got 3"}
    )
    assert (
        quarantined[2]["check"] == "record" and quarantined[2]["reason"] == "expected 11 fields as in the header, got 3"
    )
    valid = checked.where(F.col(VALID)).collect()
    assert valid[0]["filed_on"] == date(2026, 2, 1) and valid[0]["benefit_days"] == 180


def test_what_explains_a_rejected_row_is_kept_for_it_alone_in_one_column(spark):
    """The valid rows are written with the rejected ones and become the validated
    table as they are: what only a quarantine row needs (the delivered line and text,
    the reader's error) is one struct column, null for a valid row."""
    table = contract.TABLES["claims"]
    checked, quarantined = _check(spark, "claims", [claim_row(), claim_row("C2", status="X")])
    stored = {row[LINE_NO]: row for row in packed(checked, table).collect()}
    assert stored[1][VALID] and stored[1][REJECTED] is None
    assert not stored[2][VALID] and stored[2][REJECTED][RAW_LINE] == "line 2"
    assert stored[2][REJECTED]["_s_status"] == "X" and stored[2]["status"] == "X"
    assert set(stored[1].asDict()) == {*table.column_names, DROP_DATE, LINE_NO, VALID, REJECTED}
    assert quarantined[2]["raw_line"] == "line 2" and set(quarantined) == {2}


def test_several_failures_of_one_row_are_all_reported(spark):
    _, quarantined = _check(spark, "claims", [claim_row(person_key="x", status="X")])
    assert quarantined[1]["check"] == "format;code"
    assert quarantined[1]["reason"] == "person_key: 'x' is not a valid hex64; status: unknown code 'X'"


def test_tabs_and_line_breaks_in_free_text_are_valid(spark):
    _, quarantined = _check(
        spark, "workplaces", [workplace_row(name="(주)테스트\t본점", address="서울 중구\r\n세종대로 110")]
    )
    assert not quarantined


def test_the_first_instant_of_the_window_is_valid(spark):
    checked, quarantined = _check(spark, "crossings", [crossing_row(crossed_at="1950-01-01T00:00:00+09:00")])
    assert not quarantined
    assert checked.select(F.date_format("crossed_at", "yyyy-MM-dd HH:mm").alias("t")).first()["t"] == "1950-01-01 00:00"


@pytest.mark.parametrize(
    "delivered, kst",
    [
        ("2026-02-10T09:30+09:00", "2026-02-10 09:30:00"),
        ("2026-02-10T00:30Z", "2026-02-10 09:30:00"),
        ("2026-02-10T09:30:15+09:00", "2026-02-10 09:30:15"),
    ],
)
def test_a_timestamp_without_seconds_is_the_iso_8601_it_is(spark, delivered, kst):
    # ISO 8601 allows hh:mm; FEEDS.md asks for ISO 8601 with an offset, nothing finer.
    checked, quarantined = _check(spark, "crossings", [crossing_row(crossed_at=delivered)])
    assert not quarantined
    assert checked.select(F.date_format("crossed_at", "yyyy-MM-dd HH:mm:ss").alias("t")).first()["t"] == kst


def test_an_impossible_time_without_seconds_says_so(spark):
    _, quarantined = _check(spark, "crossings", [crossing_row(crossed_at="2026-02-10T25:00+09:00")])
    assert quarantined[1]["check"] == "value"
    assert quarantined[1]["reason"] == "crossed_at: '2026-02-10T25:00+09:00' is not a possible timestamp"


def test_timestamp_offsets_are_read_in_kst(spark):
    checked, quarantined = _check(spark, "crossings", [crossing_row(crossed_at="2026-02-10T15:30:00Z")])
    assert not quarantined
    kst_day = checked.select(F.to_date("crossed_at").alias("day")).first()["day"]
    assert kst_day == date(2026, 2, 11)


def test_the_checks_every_row_passes_compile_whole_and_the_messages_of_rejected_rows_are_left_to_the_limit(spark):
    """HotSpot leaves a method over 8,000 bytes of bytecode to its interpreter. With
    whole-stage code generation on (as a night has it), the checks every row goes
    through (`check_rows`) make methods under that size for every table, so they run
    as one compiled method. Building the messages of the rejected rows
    (`quarantined_rows`) makes longer ones: the session sets
    spark.sql.codegen.hugeMethodLimit to 8,000, and Spark runs that subtree with
    per-operator code it splits into compilable methods (fraud/spark.py:session_config)."""
    from fraud.config import Settings
    from fraud.spark import session_config

    assert session_config(Settings.from_env())["spark.sql.codegen.hugeMethodLimit"] == "8000"
    assert spark.conf.get("spark.sql.codegen.hugeMethodLimit") == "8000"
    debug = spark._jvm.org.apache.spark.sql.execution.debug.package

    def largest_method(frame):
        generated = debug.codegenStringSeq(frame._jdf.queryExecution().executedPlan())
        return max(generated.apply(i)._3().maxMethodCodeSize() for i in range(generated.size()))

    tested = {"spark.sql.codegen.wholeStage": "true", "spark.sql.codegen.factoryMode": "FALLBACK"}
    before = {key: spark.conf.get(key) for key in tested}
    checks, messages = {}, {}
    try:
        for key, value in tested.items():
            spark.conf.set(key, value)
        for name in contract.TABLES:
            checked, _ = _check(spark, name, [])
            checks[name] = largest_method(packed(checked, contract.TABLES[name]))  # as it is written
            messages[name] = largest_method(quarantined_rows(checked, "ei", contract.TABLES[name]))
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)
    assert max(checks.values()) < 8000, checks  # measured: 3,057 (crossings) to 7,312 (certifications)
    assert messages["certifications"] > 8000  # measured: 23,261


def test_a_tables_checks_are_built_once_per_jvm_and_again_for_a_new_one(spark, monkeypatch):
    """Each Column function is a round trip to the JVM: a table's checks are built once
    and shared by every frame of the process, not once per drop and again to explain
    its rejected rows."""
    from pyspark import SparkContext

    table = dataclasses.replace(contract.TABLES["claims"], name="claims_built_once")
    first = validation._checks(table)
    assert validation._checks(table) is first
    assert validation.failures(table) is validation.failures(table)
    monkeypatch.setattr(SparkContext, "_gateway", object())  # another JVM: its Columns are not these
    assert validation._checks(table) is not first


def test_checking_rows_builds_no_message_until_rejected_rows_are_explained(spark, monkeypatch):
    """`check_rows` needs whether a row fails, not the words that say so: the messages'
    Columns are built only by `failures`, for a table whose rejected rows are explained."""
    # A table value of its own, never built before in this process (nor by a rerun of this test).
    table = dataclasses.replace(contract.TABLES["income"], name=f"income_not_yet_explained_{uuid.uuid4().hex}")
    structs = []
    struct = F.struct
    monkeypatch.setattr(validation.F, "struct", lambda *columns: structs.append(columns) or struct(*columns))
    schema = ", ".join(
        [f"`{DROP_DATE}` date", f"`{LINE_NO}` bigint", f"`{RAW_LINE}` string", f"`{ERROR}` string"]
        + [f"`{c}` string" for c in table.column_names]
    )
    check_rows(spark.createDataFrame([], schema), table, rows=0)
    assert structs == []
    validation.failures(table)
    assert len(structs) == len(validation._checks(table)) + 1  # and the record reader's error
