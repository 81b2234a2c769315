"""features/coverage.py: the span each feed covers, measured from its own records."""

import datetime as dt

from conftest import conformed_frame as frame

from features.coverage import coverage_from, feed_coverage, monthly_counts, updated_counts


def test_a_feed_is_covered_from_the_first_month_that_reaches_a_quarter_of_its_usual_volume():
    months = {
        "2016-01": 1,
        "2016-02": 1,
        "2019-05": 2,
        "2022-03": 40,
        "2022-04": 52,
        "2022-05": 49,
        "2022-06": 51,
        "2022-07": 50,
    }
    # Stray old records (a correction re-sent for a spell of long ago) do not move it.
    assert coverage_from(months) == dt.date(2022, 3, 1)
    assert coverage_from({"2024-01": 3}) == dt.date(2024, 1, 1)
    assert coverage_from({}) is None


def test_the_manifest_entry_names_the_span_the_date_and_the_records():
    coverage = feed_coverage({"nts/income": {"2022-03": 40, "2022-04": 50}}, dt.date(2026, 3, 7))
    assert coverage["nts/income"] == {"from": "2022-03-01", "to": "2026-03-07", "by": "work_from", "records": 90}
    assert coverage["moj/crossings"] == {"from": None, "to": "2026-03-07", "by": "crossed_at", "records": 0}


def _income(record_id, work_from, updated="2026-03-01T10:00:00+09:00"):
    start = dt.date.fromisoformat(work_from)
    return dict(
        record_id=record_id,
        person_key="a" * 64,
        payer_business_no="1234567890",
        income_type="WAGE",
        work_from=start,
        work_to=start + dt.timedelta(days=27),
        work_days=20,
        amount=1_000_000,
        filed_on=start + dt.timedelta(days=40),
        updated_at=dt.datetime.fromisoformat(updated),
    )


def _tables(spark, income_rows, crossings=()):
    from fraud import contract

    rows = {name: [] for name in contract.TABLES}
    rows["income"] = income_rows
    rows["crossings"] = list(crossings)
    return {name: frame(spark, name, rows[name]) for name in contract.TABLES}


def test_a_nights_counts_from_the_base_and_its_changes_equal_the_counts_of_its_tables(spark):
    """What conform keeps (jobs/conform.py:_coverage): a record that moved to another
    month leaves the old one, a new record adds to its month."""
    base_rows = [_income("r1", "2022-03-01"), _income("r2", "2022-03-05"), _income("r3", "2022-04-01")]
    moved = _income("r2", "2022-05-02", updated="2026-03-02T10:00:00+09:00")
    added = _income("r4", "2022-05-10", updated="2026-03-02T10:00:00+09:00")
    night_rows = [base_rows[0], moved, base_rows[2], added]
    base = monthly_counts(_tables(spark, base_rows))
    assert base["nts/income"] == {"2022-03": 2, "2022-04": 1}
    new = _tables(spark, [moved, added])
    old = _tables(spark, [base_rows[1]])
    assert updated_counts(base, new, old) == monthly_counts(_tables(spark, night_rows))
    assert updated_counts(base, new, old)["nts/income"] == {"2022-03": 1, "2022-04": 1, "2022-05": 2}


def test_crossings_are_placed_on_their_day_in_seoul(spark):
    crossing = dict(
        crossing_id="X1",
        person_key="a" * 64,
        crossed_at=dt.datetime(2026, 1, 31, 16, 0, tzinfo=dt.timezone.utc),  # Feb 1 in Seoul
        direction="OUT",
        port_code="ICN",
        country="JP",
    )
    assert monthly_counts(_tables(spark, [], [crossing]))["moj/crossings"] == {"2026-02": 1}
