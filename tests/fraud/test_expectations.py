"""Great Expectations drift checks: a drop against its table's earlier deltas, run on
Spark DataFrames of tiny drops."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
from zoneinfo import ZoneInfo

import pytest
from conftest import spark_jobs

from fraud import contract, expectations
from fraud.expectations import build_suite, check_empty_drop, empty_profile, validate_drop, volume_bounds

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


def _crossing(crossing_id: str, **changes) -> dict:
    row = {
        "crossing_id": crossing_id,
        "person_key": PERSON,
        "crossed_at": UPDATED,
        "direction": "OUT",
        "port_code": "ICN",
        "country": "JP",
    }
    return {**row, **changes}


def _profile(rows: int, **parts) -> dict:
    return {**empty_profile(rows), **parts}


def _reasons(outcome: dict) -> list[str]:
    return [f["reason"] for f in outcome["failed"]]


# Five earlier deltas of crossings: 200 rows each, half of them IN.
CROSSINGS_HISTORY = [_profile(200, codes={"direction": {"IN": 100, "OUT": 100}}) for _ in range(5)]
# Five earlier deltas of employments: about a third of the spells open, wages 1.5 to 9 million.
EMPLOYMENTS_HISTORY = [
    _profile(
        300,
        nulls={"lost_on": 100, "separation_code": 100},
        codes={"separation_code": {"11": 120, "23": 80}},
        ranges={"monthly_wage": [1_500_000, 9_000_000]},
    )
    for _ in range(5)
]


# --- the pure parts: bounds from the history ---------------------------------------


def test_without_enough_history_every_expectation_only_observes():
    for history in ([], CROSSINGS_HISTORY[: expectations.MIN_HISTORY - 1]):
        suite = build_suite(contract.TABLES["crossings"], history, rows=50)
        for expectation in suite.expectations:
            assert getattr(expectation, "mostly", 0.0) == 0.0
            assert getattr(expectation, "max_value", None) is None
            assert expectation.description == "observed"
    assert volume_bounds(CROSSINGS_HISTORY[:2]) is None
    # Half the smallest to twice the largest, plus the noise of a small count.
    assert volume_bounds(CROSSINGS_HISTORY) == (100, 400 + expectations.NOISE_ROWS)
    assert volume_bounds([_profile(n) for n in (0, 40, 90)]) == (0, 180 + expectations.NOISE_ROWS)
    assert volume_bounds([_profile(0)] * 3) == (0, expectations.NOISE_ROWS)


def test_bounds_follow_the_history_and_widen_for_a_small_drop():
    def mostly(rows: int) -> dict:
        suite = build_suite(contract.TABLES["crossings"], CROSSINGS_HISTORY, rows=rows)
        return {(e.expectation_type, e.meta.get("code")): e.mostly for e in suite.expectations if e.meta.get("code")}

    large, small = mostly(10_000), mostly(100)
    # Half the history is IN (Wilson interval 0.45-0.55 at Z = 3, widened by SLACK): a
    # large drop may hold from about 39% to 61% IN.
    assert 0.38 < large[("expect_column_values_to_not_be_in_set", "IN")] < 0.40
    assert 0.38 < large[("expect_column_values_to_be_in_set", "IN")] < 0.40
    # A drop of a hundred rows has its own noise: from about a quarter to three quarters.
    assert 0.2 < small[("expect_column_values_to_not_be_in_set", "IN")] < 0.3
    assert 0.2 < small[("expect_column_values_to_be_in_set", "IN")] < 0.3
    # A drop of ten rows may hold any number of them.
    tiny = mostly(10)
    assert tiny[("expect_column_values_to_not_be_in_set", "IN")] == 0.0
    assert ("expect_column_values_to_be_in_set", "IN") not in tiny
    # A code none of 600 earlier rows had: up to SLACK plus the history's own noise
    # (0 of 600 may still mean 1.5%), about 7% of a large drop.
    never = build_suite(
        contract.TABLES["crossings"], [_profile(200, codes={"direction": {"OUT": 200}})] * 3, rows=10_000
    )
    capped = [e for e in never.expectations if e.meta.get("code") == "IN"]
    assert len(capped) == 1 and 0.92 < capped[0].mostly < 0.94


def test_shares_are_judged_beyond_noise():
    from fraud.expectations import _fewest_allowed, _most_allowed
    from fraud.proportions import wilson

    for n in (1, 2, 7, 50, 1000):
        for limit in (0.0, 0.05, 0.3, 0.99):
            most = _most_allowed(limit, n)
            assert wilson(most, n, expectations.Z)[0] <= limit
            assert most == n or wilson(most + 1, n, expectations.Z)[0] > limit
            fewest = _fewest_allowed(limit, n)
            assert fewest == 0 or wilson(fewest - 1, n, expectations.Z)[1] < limit
            assert wilson(fewest, n, expectations.Z)[1] >= limit


def test_an_empty_drop_is_drift_only_where_the_table_never_went_near_zero():
    table = contract.TABLES["crossings"]
    outcome = check_empty_drop(table, f"moj/{DROP}/crossings", CROSSINGS_HISTORY)
    assert outcome["success"] is False
    assert _reasons(outcome) == ["0 rows; history 200 to 200 rows over 5 deltas"]
    # A table that is often empty (findings) or without enough history says nothing.
    assert check_empty_drop(table, "x", [_profile(n) for n in (0, 3, 5)]) is None
    assert check_empty_drop(table, "x", CROSSINGS_HISTORY[:2]) is None


# --- on Spark --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VALID_DROPS))
def test_a_drop_is_observed_and_leaves_self_contained_docs(spark, sealed, capfd, name):
    table = contract.TABLES[name]

    def cached():
        return set(spark.sparkContext._jsc.getPersistentRDDs().keySet())

    cached_before = cached()
    rows = VALID_DROPS[name]

    outcome = validate_drop(_frame(spark, table, rows), table, f"{table.source}/{DROP}/{name}", sealed, rows=len(rows))

    assert outcome["success"] is True, outcome["failed"]
    assert outcome["failed"] == []
    assert outcome["evaluated"] == len(build_suite(table, rows=len(rows)).expectations)
    assert json.loads(json.dumps(outcome)) == outcome
    # GX leaves nothing cached (earlier tests' checkpoints may be cleaned up meanwhile).
    assert cached() <= cached_before
    assert "Calculating Metrics" not in capfd.readouterr().err
    assert outcome["profile"]["rows"] == len(rows)

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


def test_the_profile_holds_exact_counts(spark, sealed):
    table = contract.TABLES["employments"]
    rows = [
        _employment("E-1"),
        _employment("E-2", lost_on=None, separation_code=None, monthly_wage=1_000),
        _employment("E-3", separation_code="11", monthly_wage=12_000_000),
    ]
    outcome = validate_drop(_frame(spark, table, rows), table, f"ei/{DROP}/employments", sealed, rows=3)
    profile = outcome["profile"]
    assert profile["rows"] == 3
    assert profile["nulls"] == {"lost_on": 1, "separation_code": 1}
    assert profile["codes"]["separation_code"] == {
        code: {"23": 1, "11": 1}.get(code, 0)
        for code in contract.TABLES["employments"].column("separation_code").values
    }
    assert profile["ranges"] == {"monthly_wage": [1_000, 12_000_000]}


def test_a_drop_like_its_history_passes(spark, sealed):
    table = contract.TABLES["crossings"]
    rows = [_crossing(f"X-{i}", direction="IN" if i % 2 else "OUT") for i in range(180)]
    outcome = validate_drop(
        _frame(spark, table, rows), table, f"moj/{DROP}/crossings", sealed, rows=180, history=CROSSINGS_HISTORY
    )
    assert outcome["success"] is True, outcome["failed"]


def test_a_feed_that_stops_sending_one_direction_is_drift(spark, sealed):
    table = contract.TABLES["crossings"]
    rows = [_crossing(f"X-{i}", direction="IN" if i < 4 else "OUT") for i in range(200)]
    outcome = validate_drop(
        _frame(spark, table, rows), table, f"moj/{DROP}/crossings", sealed, rows=200, history=CROSSINGS_HISTORY
    )
    assert outcome["success"] is False
    assert sorted(_reasons(outcome)) == [
        "direction=IN: 4 of 200 (2.0%), less than history direction=IN 500 of 1000 (50.0%) over 5 deltas",
        "direction=OUT: 196 of 200 (98.0%), more than history direction=OUT 500 of 1000 (50.0%) over 5 deltas",
    ]
    page = (sealed / "crossings.html").read_text(encoding="utf-8")
    assert "2 expectation(s) outside the drop&#x27;s history" in page and "DRIFT" in page


def test_volume_nulls_and_a_new_unit_are_drift(spark, sealed):
    table = contract.TABLES["employments"]
    # 40 rows where 300 are usual, every spell open, wages in thousands of won.
    rows = [_employment(f"E-{i}", lost_on=None, separation_code=None, monthly_wage=2_900 + i) for i in range(40)]
    outcome = validate_drop(
        _frame(spark, table, rows), table, f"ei/{DROP}/employments", sealed, rows=40, history=EMPLOYMENTS_HISTORY
    )
    assert _reasons(outcome) == [
        "40 rows; history 300 to 300 rows over 5 deltas",
        "lost_on: 40 of 40 (100.0%) null; history 500 of 1500 (33.3%) null over 5 deltas",
        "separation_code: 40 of 40 (100.0%) null; history 500 of 1500 (33.3%) null over 5 deltas",
        "monthly_wage: 40 of 40 (100.0%) outside the history's range; "
        "history 1500 values in [1500000, 9000000] over 5 deltas",
    ]


def test_a_small_drop_is_not_drift_for_its_noise(spark, sealed):
    # Three spells, all closed under code 23 (about 40% of the history's codes, none of them
    # open where a third of the history's are): chance, not drift.
    table = contract.TABLES["employments"]
    rows = [_employment(f"E-{i}") for i in range(3)]
    history = [
        _profile(
            count,
            nulls={"lost_on": count // 3, "separation_code": count // 3},
            codes={"separation_code": {"11": count - count // 3 - count * 4 // 15, "23": count * 4 // 15}},
            ranges={"monthly_wage": [1_500_000, 9_000_000]},
        )
        for count in (2, 15, 4, 30, 9)
    ]
    outcome = validate_drop(
        _frame(spark, table, rows), table, f"ei/{DROP}/employments", sealed, rows=3, history=history
    )
    assert outcome["failed"] == []


def test_gx_runs_a_few_spark_jobs_however_many_expectations(spark, sealed):
    """The drift suite's metrics are aggregates GX bundles: a judged suite with many
    expectations starts no more Spark jobs than an observed one with few."""
    table = contract.TABLES["employments"]
    rows = [_employment(f"E-{i}") for i in range(20)]

    def jobs(history: list[dict], label: str) -> tuple[int, int]:
        outcome, started = spark_jobs(
            spark,
            label,
            lambda: validate_drop(
                _frame(spark, table, rows), table, f"ei/{DROP}/{label}", sealed / label, rows=20, history=history
            ),
        )
        return started, outcome["evaluated"]

    observed_jobs, observed = jobs([], "observed")
    judged_jobs, judged = jobs(EMPLOYMENTS_HISTORY, "judged")
    assert judged > observed
    assert judged_jobs <= observed_jobs <= 6


def test_the_results_page_holds_no_control_character():
    # GX's messages may quote a value; the page shows its control characters as \\xNN.
    from fraud.expectations import _render_html

    payload = {
        "results": [
            {
                "success": False,
                "result": {"unexpected_count": 1},
                "expectation_config": {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": "phone"},
                    "meta": {"measure": "nulls", "column": "phone"},
                    "description": "history: 0 of 9 null over 3 deltas",
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


def test_a_table_empty_until_now_and_a_column_with_few_values_are_judged_on_what_there_is():
    findings = contract.TABLES["findings"]
    # Three empty deltas, then rows: nothing to compare the null shares with.
    suite = build_suite(findings, [empty_profile()] * 3, rows=5)
    nulls = [e for e in suite.expectations if e.meta.get("measure") == expectations.NULLS]
    assert nulls and all(e.mostly == 0.0 and e.description == "observed" for e in nulls)

    # Shares of a nullable code are shares of its values. With 100 closed spells of
    # 1,000 and a history of 60% code 11 among closed spells, the noise is that of 100
    # values: up to about 83% of them, a looser bound than 1,000 rows would give.
    employments = contract.TABLES["employments"]

    def cap(present):
        suite = build_suite(employments, EMPLOYMENTS_HISTORY, rows=1000, present=present)
        return next(e.mostly for e in suite.expectations if e.meta.get("code") == "11" and e.meta["measure"] == "code")

    on_values = cap({"separation_code": 100, "lost_on": 100})
    assert 0.15 < on_values < 0.18 and on_values < cap(None)
    # With no value in a nullable column, only its nulls are measured.
    empty = build_suite(employments, EMPLOYMENTS_HISTORY, rows=40, present={"separation_code": 0, "lost_on": 0})
    assert not [e for e in empty.expectations if e.meta.get("column") == "separation_code" and e.meta.get("code")]


def test_an_integer_column_without_a_value_is_no_drift(spark, sealed):
    table = contract.TABLES["income"]
    rows = [
        {
            "record_id": f"N-{i}",
            "person_key": PERSON,
            "payer_business_no": "1234567890",
            "income_type": "DAILY_WAGE",
            "work_from": dt.date(2026, 2, 1),
            "work_to": dt.date(2026, 2, 28),
            "work_days": None,
            "amount": 1_000_000,
            "filed_on": dt.date(2026, 3, 1),
            "updated_at": UPDATED,
        }
        for i in range(3)
    ]
    outcome = validate_drop(
        _frame(spark, table, rows), table, f"nts/{DROP}/income", sealed, rows=3, present={"work_days": 0}
    )
    assert outcome["success"] is True, outcome["failed"]
    assert outcome["profile"]["nulls"] == {"work_days": 3} and "work_days" not in outcome["profile"]["ranges"]


def _results(outcome: dict) -> str:
    """GX's results without the ids it draws afresh on every run, as JSON text (an
    integer and a float of the same value differ)."""
    results = json.loads(open(outcome["results_path"], encoding="utf-8").read())["results"]
    for result in results:
        result["expectation_config"].pop("id")
    return json.dumps(results, sort_keys=True)


# Drops that pass, drift and observe, with nulls in code, date and integer columns.
ENGINE_CASES = {
    "crossings-drift": (
        "crossings",
        [_crossing(f"X-{i}", direction="IN" if i < 4 else "OUT") for i in range(200)],
        CROSSINGS_HISTORY,
        None,
    ),
    "employments-drift": (
        "employments",
        [_employment(f"E-{i}", lost_on=None, separation_code=None, monthly_wage=2_900 + i) for i in range(40)]
        + [_employment("E-x", monthly_wage=None)],
        EMPLOYMENTS_HISTORY,
        {"lost_on": 1, "separation_code": 1, "monthly_wage": 40},
    ),
    "claims-observed": ("claims", VALID_DROPS["claims"], [], None),
    "certifications-observed": ("certifications", VALID_DROPS["certifications"], [], {"ip_country": 1}),
}


@pytest.mark.parametrize("case", sorted(ENGINE_CASES))
def test_a_small_drop_checked_on_pandas_gets_what_spark_gives(spark, sealed, tmp_path, case):
    """A night's small drop is read from its Parquet and checked on GX's pandas
    engine (jobs/validate.py:_drop_rows): the same outcome, profile and results as on
    the Spark engine, with integers still exact and nulls still null."""
    name, rows, history, present = ENGINE_CASES[case]
    table = contract.TABLES[name]
    frame = _frame(spark, table, rows)
    parquet = tmp_path / "drop"
    frame.write.parquet(str(parquet))
    label = f"{table.source}/{DROP}/{name}"
    on_spark = validate_drop(frame, table, label, sealed / "spark", rows=len(rows), history=history, present=present)
    pandas_rows = expectations.read_parquet_frame(parquet)
    assert len(pandas_rows) == len(rows)
    on_pandas = validate_drop(
        pandas_rows, table, label, sealed / "pandas", rows=len(rows), history=history, present=present
    )
    for key in ("success", "evaluated", "failed", "profile"):
        assert on_pandas[key] == on_spark[key], key
    assert _results(on_pandas) == _results(on_spark)
    if case == "employments-drift":
        assert on_pandas["failed"] and on_pandas["profile"]["ranges"]["monthly_wage"] == [2_900, 2_939]
