"""Great Expectations' drift checks through the real ingest and validate jobs: a feed
that stops sending one kind of record is flagged against its own earlier deltas, the
night goes on, and a night-by-night run finds what one run over every drop finds."""

from datetime import date, timedelta

import pytest
from conftest import crossing_row, csv_text, empty_drops, hex_key, write_drop

from fraud import expectations
from fraud.layout import Layout
from fraud.storage import read_json
from jobs import ingest, validate
from jobs.stage_io import IngestInputs, Night, ValidateInputs

FIRST = date(2026, 3, 2)
DAYS = [FIRST + timedelta(days=n) for n in range(5)]  # the baseline, then four deltas


def _crossings(day: date, directions: list[str]) -> str:
    rows = [
        crossing_row(
            crossing_id=f"X{day:%m%d}{n:03d}",
            person=hex_key(f"p{n}"),
            crossed_at=f"{day - timedelta(days=1)}T09:00:00+09:00",
            direction=direction,
        )
        for n, direction in enumerate(directions)
    ]
    return csv_text(rows)


def _landing(root):
    landing = root / "landing"
    for index, day in enumerate(DAYS):
        empty_drops(landing, day.isoformat(), sources=("ei", "nts"))
        # Each earlier delta: 60 crossings, half of them IN. The last: 60, none IN.
        directions = ["IN", "OUT"] * 30 if index < len(DAYS) - 1 else ["OUT"] * 60
        write_drop(landing, "moj", day.isoformat(), {"crossings": _crossings(day, directions)})
    return landing


def _night(spark, landing, warehouse, day):
    landed = ingest.run(None, IngestInputs(landing), Night(day, warehouse))
    return validate.run(spark, ValidateInputs(landed.drops), Night(day, warehouse))


def _crossings_state(warehouse, day) -> dict:
    return read_json(Layout(warehouse).drop_state("moj", day))["tables"]["crossings"]


def test_a_feed_that_stops_sending_entries_is_flagged_and_the_night_goes_on(spark, tmp_path):
    landing = _landing(tmp_path)

    at_once = tmp_path / "at-once"
    _night(spark, landing, at_once, DAYS[-1])  # every drop validated in one run
    nightly = tmp_path / "nightly"
    for day in DAYS:
        _night(spark, landing, nightly, day)  # one drop a night: the history comes from disk

    for warehouse in (at_once, nightly):
        # The baseline and the first deltas are only observed.
        for day in DAYS[:-1]:
            state = _crossings_state(warehouse, day)
            assert state["expectations"]["success"] is True and state["expectations"]["drift"] == []
            assert state["profile"]["codes"]["direction"] == {"IN": 30, "OUT": 30}
        last = _crossings_state(warehouse, DAYS[-1])
        assert last["valid"] == 60 and last["profile"]["codes"]["direction"] == {"IN": 0, "OUT": 60}
        assert last["expectations"]["success"] is False
        assert sorted(d["reason"] for d in last["expectations"]["drift"]) == [
            "direction=IN: 0 of 60 (0.0%), less than history direction=IN 90 of 180 (50.0%) over 3 deltas",
            "direction=OUT: 60 of 60 (100.0%), more than history direction=OUT 90 of 180 (50.0%) over 3 deltas",
        ]
    assert (
        _crossings_state(at_once, DAYS[-1])["expectations"]["drift"]
        == (_crossings_state(nightly, DAYS[-1])["expectations"]["drift"])
    )


def test_small_drops_checked_on_pandas_keep_the_states_spark_gives(spark, tmp_path, monkeypatch):
    """A night's drops are few rows, and GX checks them on pandas (jobs/validate.py:
    _drop_rows); checked on Spark instead, every drop state is the same."""
    landing = _landing(tmp_path)
    on_pandas, on_spark = tmp_path / "pandas", tmp_path / "spark"
    _night(spark, landing, on_pandas, DAYS[-1])
    monkeypatch.setattr(expectations, "PANDAS_MAX_ROWS", 0)
    _night(spark, landing, on_spark, DAYS[-1])

    def states(warehouse) -> list[str]:
        return [
            Layout(warehouse).drop_state(source, day).read_text().replace(str(warehouse), "<warehouse>")
            for source in ("ei", "moj", "nts")
            for day in DAYS
        ]

    assert states(on_pandas) == states(on_spark)
    assert _crossings_state(on_pandas, DAYS[-1])["expectations"]["drift"]


def test_a_tables_drops_are_checked_and_counted_in_three_spark_jobs_and_the_counts_add_up(spark, tmp_path, monkeypatch):
    """check_table on a small table: one job sends the keys delivered twice to the
    tasks (no checkpoint of them), one writes the checked rows, the valid partitions
    apart (they become the validated table as they are), and counts each drop's
    rows, valid rows and non-null values of each nullable column as it writes them,
    one collects the quarantined rows. Spark is told the landed files' and the
    checked rows' schemas, so it infers none (a job per file): 8 jobs before, 4 while
    the valid rows were written a second time. A catch-up of more drops than
    OBSERVED_DROPS_MAX counts them after, the same. The quarantine written must hold
    as many rows as were counted quarantined."""
    from conftest import spark_jobs, workplace_row

    from fraud import contract

    landing = tmp_path / "landing"
    first, second = DAYS[0], DAYS[1]
    workplaces = {
        first: [
            workplace_row(workplace_id="10000000001"),
            workplace_row(workplace_id="10000000002", phone=""),
            workplace_row(workplace_id="10000000003", phone="", closed_on="2024-05-31"),
            workplace_row(workplace_id="10000000004", opened_on="2010-02-30"),  # no such day: quarantined
        ],
        second: [workplace_row(workplace_id="10000000005", bank_account_key="")],
    }
    drops = []
    for day, rows in workplaces.items():
        write_drop(landing, "ei", day.isoformat(), {"workplaces": csv_text(rows)})
        drops += ingest.run(None, IngestInputs(landing), Night(day, tmp_path / "w")).drops
    layout = Layout(tmp_path / "w")
    ei = list({d["drop_date"]: d for d in drops if d["source"] == "ei"}.values())
    table = contract.TABLES["workplaces"]
    counts = {first.isoformat(): (4, 3), second.isoformat(): (1, 1)}
    present = {
        first.isoformat(): {"phone": 1, "bank_account_key": 3, "closed_on": 1},
        second.isoformat(): {"phone": 1, "bank_account_key": 0, "closed_on": 0},
    }

    checked, jobs = spark_jobs(spark, "check-workplaces", lambda: validate.check_table(spark, layout, table, ei))

    assert checked.drop_dates == [first.isoformat(), second.isoformat()]
    assert (checked.counts, checked.present, jobs) == (counts, present, 3)
    quarantine = layout.quarantine_file("ei", first, "workplaces").read_text()
    assert "2010-02-30" in quarantine and not layout.quarantine_file("ei", second, "workplaces").exists()

    monkeypatch.setattr(validate, "OBSERVED_DROPS_MAX", 1)
    checked = validate.check_table(spark, layout, table, ei)
    assert (checked.counts, checked.present) == (counts, present)

    real = validate.quarantined_rows
    monkeypatch.setattr(validate, "quarantined_rows", lambda *args: real(*args).limit(0))  # a row lost on the way
    with pytest.raises(validate.ValidationError, match="1 rows counted as quarantined but 0 written"):
        validate.check_table(spark, layout, table, ei)
