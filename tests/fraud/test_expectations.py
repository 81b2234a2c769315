"""Great Expectations suites from the contract, run on Spark DataFrames of tiny drops."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
from zoneinfo import ZoneInfo

import pytest

from fraud import contract
from fraud.expectations import build_suite, validate_drop

PERSON = "a" * 64
ACCOUNT = "b" * 64
KST = ZoneInfo(contract.TIMEZONE)
DROP = dt.date(2026, 3, 2)
UPDATED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=KST)


def _frame(spark, table: contract.Table, rows: list[dict]):
    """A DataFrame of the table's columns in their contract Spark types, plus a
    bookkeeping column the validator adds (`_source_file`), which must be ignored."""
    schema = ", ".join(f"{c.name} {c.spark_type}" for c in table.columns) + ", _source_file string"
    return spark.createDataFrame(
        [tuple(row.get(c) for c in table.column_names) + ("claims.csv",) for row in rows], schema
    )


def _claim(claim_id: str, **changes) -> dict:
    row = {
        "claim_id": claim_id,
        "person_key": PERSON,
        "workplace_id": "12345678901",
        "separation_code": "23",
        "filed_on": dt.date(2026, 2, 2),
        "eligible_from": dt.date(2026, 2, 9),
        "benefit_days": 120,
        "daily_amount": 66_000,
        "bank_account_key": ACCOUNT,
        "status": "APPROVED",
        "updated_at": UPDATED,
    }
    return {**row, **changes}


def _certification(cert_id: str, **changes) -> dict:
    row = {
        "cert_id": cert_id,
        "claim_id": "C-1",
        "cert_on": dt.date(2026, 3, 1),
        "period_from": dt.date(2026, 2, 16),
        "period_to": dt.date(2026, 2, 28),
        "channel": "ONLINE",
        "ip_country": "KR",
        "job_search_count": 2,
        "declared_income": 0,
        "paid_days": 13,
        "paid_amount": 858_000,
        "updated_at": UPDATED,
    }
    return {**row, **changes}


def _employment(employment_id: str, **changes) -> dict:
    row = {
        "employment_id": employment_id,
        "person_key": PERSON,
        "workplace_id": "12345678901",
        "acquired_on": dt.date(2024, 5, 1),
        "lost_on": dt.date(2026, 1, 31),
        "separation_code": "23",
        "monthly_wage": 2_900_000,
        "updated_at": UPDATED,
    }
    return {**row, **changes}


VALID_DROPS = {
    "claims": [_claim("C-1"), _claim("C-2", separation_code="32", benefit_days=270, status="FILED")],
    # A visit has no client address; an online certification may come from abroad.
    "certifications": [
        _certification("X-1", channel="VISIT", ip_country=None),
        _certification("X-2", ip_country="VN", cert_on=DROP, period_to=DROP),
    ],
    # An open spell has neither lost_on nor separation_code.
    "employments": [_employment("E-1"), _employment("E-2", lost_on=None, separation_code=None)],
}


@pytest.fixture
def sealed(tmp_path, monkeypatch):
    """Run the code under test from an empty cwd and HOME, with every connection to a
    non-loopback address refused and recorded."""
    cwd, home = tmp_path / "cwd", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(home))
    outside: list = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def is_loopback(address) -> bool:
        host = address[0] if isinstance(address, tuple) else None
        return host is None or host in ("localhost", "::1") or str(host).startswith("127.")

    def connect(self, address):
        if not is_loopback(address):
            outside.append(address)
            raise OSError(f"test forbids connecting to {address}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not is_loopback(address):
            outside.append(address)
            return 111
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield tmp_path / "docs"
    assert outside == [], "GX tried to reach the network"
    assert list(cwd.iterdir()) == [], "something was written into the current directory"
    assert list(home.iterdir()) == [], "something was written into HOME"


def _failures(outcome: dict) -> set[tuple]:
    return {(f["expectation"], f["column"], f["unexpected_count"]) for f in outcome["failed"]}


def test_suite_is_built_from_the_contract():
    claims = build_suite(contract.TABLES["claims"])
    by_type: dict[str, list] = {}
    for expectation in claims.expectations:
        by_type.setdefault(expectation.expectation_type, []).append(expectation)

    assert {e.column for e in by_type["expect_column_values_to_match_regex"]} == {
        "claim_id",
        "person_key",
        "workplace_id",
        "bank_account_key",
    }
    regex = {e.column: e.regex for e in by_type["expect_column_values_to_match_regex"]}
    assert regex["workplace_id"] == r"^(?:[0-9]{11})\z"
    assert {e.column: set(e.value_set) for e in by_type["expect_column_values_to_be_in_set"]} == {
        "separation_code": set(contract.SEPARATION_CODES),
        "status": set(contract.CLAIM_STATUSES),
    }
    bounds = {e.column: (e.min_value, e.max_value) for e in by_type["expect_column_values_to_be_between"]}
    assert bounds["benefit_days"] == (120, 270)
    assert bounds["filed_on"] == (dt.date(1950, 1, 1), dt.date(2100, 1, 1))  # strict upper bound
    assert [e.column for e in by_type["expect_column_values_to_be_unique"]] == ["claim_id"]
    assert len(by_type["expect_column_values_to_not_be_null"]) == len(contract.TABLES["claims"].columns)

    # The drop date tightens only the columns that cannot lie after it.
    dated = build_suite(contract.TABLES["claims"], drop_date=DROP)
    upper = {
        e.column: e.max_value for e in dated.expectations if e.expectation_type == "expect_column_values_to_be_between"
    }
    assert upper["filed_on"] == dt.date(2026, 3, 3)
    assert upper["eligible_from"] == dt.date(2100, 1, 1)
    assert upper["updated_at"] == dt.datetime(2026, 3, 3, tzinfo=KST)

    # Orderings become column-pair expectations; other row checks run as Spark SQL.
    certifications = build_suite(contract.TABLES["certifications"]).expectations
    pairs = [
        (e.column_B, e.column_A)
        for e in certifications
        if e.expectation_type == "expect_column_pair_values_a_to_be_greater_than_b"
    ]
    assert pairs == [("period_from", "period_to"), ("period_from", "cert_on")]
    queries = [e.unexpected_rows_query for e in certifications if e.expectation_type == "unexpected_rows_expectation"]
    assert len(queries) == 1 and "channel <> 'VISIT'" in queries[0]


@pytest.mark.parametrize("name", sorted(VALID_DROPS))
def test_valid_drop_passes_and_leaves_self_contained_docs(spark, sealed, capfd, name):
    table = contract.TABLES[name]
    cached_before = spark.sparkContext._jsc.getPersistentRDDs().size()

    outcome = validate_drop(
        _frame(spark, table, VALID_DROPS[name]), table, f"{table.source}/{DROP}/{name}", sealed, drop_date=DROP
    )

    assert outcome["success"] is True, outcome["failed"]
    assert outcome["failed"] == []
    assert outcome["evaluated"] == len(build_suite(table).expectations)
    assert json.loads(json.dumps(outcome)) == outcome
    assert spark.sparkContext._jsc.getPersistentRDDs().size() == cached_before
    assert "Calculating Metrics" not in capfd.readouterr().err

    results = (sealed / f"{name}.json").read_text(encoding="utf-8")
    assert outcome["results_path"] == str(sealed / f"{name}.json")
    assert results == json.dumps(json.loads(results), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    validation = json.loads(results)
    assert validation["success"] is True
    assert validation["meta"]["run_id"]["run_name"] == f"{table.source}/{DROP}/{name}"
    assert len(validation["results"]) == outcome["evaluated"]

    page = (sealed / f"{name}.html").read_text(encoding="utf-8")
    assert outcome["docs_path"] == str(sealed / f"{name}.html")
    assert "all expectations met" in page
    # Everything is inline: no URL of any kind, nothing loaded, no scripts.
    for text in (page, results):
        assert re.search(r"https?://|//cdn|unpkg|jsdelivr", text) is None
    assert re.search(r"<script|<link|<img|<iframe|\bsrc=|@import|url\(", page) is None
    assert sorted(p.name for p in sealed.iterdir()) == [f"{name}.html", f"{name}.json"]


def test_bad_claims_fail_with_the_expectation_and_column_named(spark, sealed):
    table = contract.TABLES["claims"]
    rows = [
        _claim("C-1"),
        _claim("C-2", person_key="A" * 64),  # upper-case hex
        _claim("C-3", status="<script>PAID</script>"),  # not a status
        _claim("C-4", benefit_days=300),  # above 270
        _claim("C-4"),  # the primary key again
        # Look-alikes that are fine: bounds are inclusive.
        _claim("C-6", benefit_days=120, daily_amount=1_000_000),
    ]

    outcome = validate_drop(_frame(spark, table, rows), table, f"ei/{DROP}/claims", sealed)

    assert outcome["success"] is False
    assert _failures(outcome) == {
        ("expect_column_values_to_match_regex", "person_key", 1),
        ("expect_column_values_to_be_in_set", "status", 1),
        ("expect_column_values_to_be_between", "benefit_days", 1),
        ("expect_column_values_to_be_unique", "claim_id", 2),
    }
    validation = json.loads((sealed / "claims.json").read_text(encoding="utf-8"))
    examples = {
        r["expectation_config"]["kwargs"].get("column"): r["result"].get("partial_unexpected_list")
        for r in validation["results"]
        if not r["success"]
    }
    assert examples == {
        "person_key": ["A" * 64],
        "status": ["<script>PAID</script>"],
        "benefit_days": [300],
        "claim_id": ["C-4", "C-4"],
    }
    page = (sealed / "claims.html").read_text(encoding="utf-8")
    assert "4 expectation(s) FAILED" in page
    assert "<script>" not in page and "&lt;script&gt;PAID&lt;/script&gt;" in page


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\u0085", "\u2028"], ids=repr)
def test_a_key_with_a_trailing_line_break_fails_the_regex(spark, sealed, brk):
    # Java's `$` matches before a final line break; the suite's patterns end at `\z`.
    table = contract.TABLES["claims"]
    rows = [_claim("C-1"), _claim("C-2", person_key=PERSON + brk, workplace_id="12345678901" + brk)]
    outcome = validate_drop(_frame(spark, table, rows), table, f"ei/{DROP}/claims", sealed)
    assert _failures(outcome) == {
        ("expect_column_values_to_match_regex", "person_key", 1),
        ("expect_column_values_to_match_regex", "workplace_id", 1),
    }


def test_a_timestamp_gx_cannot_turn_into_python_fails_without_examples_not_with_a_crash(spark, sealed):
    # 0001-01-01T00:00+09:00 is in year 0 in UTC: GX's examples query cannot collect it
    # and its result then has no partial_unexpected_list.
    from pyspark.sql import functions as F

    table = contract.TABLES["crossings"]
    rows = [
        {
            "crossing_id": f"X-{i}",
            "person_key": PERSON,
            "crossed_at": UPDATED,
            "direction": "OUT",
            "port_code": "ICN",
            "country": "JP",
        }
        for i in (1, 2)
    ]
    year_one = F.expr("cast('0001-01-01T00:00:00+09:00' as timestamp)")
    frame = _frame(spark, table, rows).withColumn(
        "crossed_at", F.when(F.col("crossing_id") == "X-2", year_one).otherwise(F.col("crossed_at"))
    )

    outcome = validate_drop(frame, table, f"moj/{DROP}/crossings", sealed, drop_date=DROP)

    assert _failures(outcome) == {("expect_column_values_to_be_between", "crossed_at", 1)}
    page = (sealed / "crossings.html").read_text(encoding="utf-8")
    assert "1 expectation(s) FAILED" in page and "no examples" in page


def test_bad_certifications_fail_on_row_checks_and_drop_date(spark, sealed):
    table = contract.TABLES["certifications"]
    rows = [
        _certification("X-1"),
        _certification("X-2", period_from=dt.date(2026, 3, 1), period_to=dt.date(2026, 2, 28)),
        _certification("X-3", channel="VISIT"),  # a visit with a client address
        _certification("X-4", updated_at=dt.datetime(2026, 3, 3, tzinfo=KST)),  # after the drop day (KST)
        # Look-alikes that are fine: a certification on its last day, and nulls in an ordering.
        _certification("X-5", period_to=dt.date(2026, 3, 1)),
        _certification("X-6", channel="MOBILE", ip_country=None),
        _certification("X-7", updated_at=dt.datetime(2026, 3, 2, 23, 59, 59, tzinfo=KST)),
    ]

    outcome = validate_drop(_frame(spark, table, rows), table, f"ei/{DROP}/certifications", sealed, drop_date=DROP)

    assert _failures(outcome) == {
        ("expect_column_pair_values_a_to_be_greater_than_b", "period_from,period_to", 1),
        ("unexpected_rows_expectation", "channel,ip_country", 1),
        ("expect_column_values_to_be_between", "updated_at", 1),
    }
    validation = json.loads((sealed / "certifications.json").read_text(encoding="utf-8"))
    rejected = [
        r["result"]["details"]["unexpected_rows"]
        for r in validation["results"]
        if r["expectation_config"]["type"] == "unexpected_rows_expectation"
    ]
    assert rejected == [[{"cert_id": "X-3", "channel": "VISIT", "ip_country": "KR"}]]


def test_the_results_page_holds_no_control_character():
    # GX's messages may quote a value; the page shows its control characters as \\xNN.
    from fraud.expectations import _render_html

    payload = {
        "results": [
            {
                "success": False,
                "result": {"unexpected_count": 1},
                "expectation_config": {
                    "type": "expect_column_values_to_match_regex",
                    "kwargs": {"column": "person_key"},
                },
                "exception_info": {"raised_exception": True, "exception_message": "cannot read 'a\x00b\x1b[2J'"},
            }
        ],
        "statistics": {"successful_expectations": 0},
        "meta": {},
    }
    summary = {"table": "claims", "drop": "ei/2026-03-02/claims", "success": False, "evaluated": 1, "failed": [{}]}
    page = _render_html(summary, payload)
    assert re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", page) is None
    assert "cannot read &#x27;a\\x00b\\x1b[2J&#x27;" in page
