"""features/collusion_evidence.py:layoffs_while_hiring: a workplace's history of code-23
layoffs is read only inside the span the employment feed covers."""

import datetime as dt

import pytest

D = dt.date.fromisoformat
SPELL_TO = D("2024-06-30")  # the window is 2023-12-30..2024-12-30, its history the two years before


@pytest.fixture(scope="module")
def tables(spark):
    spells = spark.createDataFrame([("C1", SPELL_TO)], "claim_id string, spell_to date")
    claims = spark.createDataFrame([("C1", "W1")], "claim_id string, workplace_id string")
    employments = spark.createDataFrame(
        [
            ("E1", "W1", D("2015-01-01"), D("2022-06-01"), "23"),  # in the history, before a late feed's span
            ("E2", "W1", D("2015-01-01"), D("2023-06-01"), "23"),  # in the history
            ("E3", "W1", D("2015-01-01"), SPELL_TO, "23"),  # the claimant's own
        ],
        "employment_id string, workplace_id string, acquired_on date, lost_on date, separation_code string",
    )
    return spells, claims, employments


def expected(tables, covered_from):
    from features.collusion_evidence import layoffs_while_hiring

    [row] = layoffs_while_hiring(*tables, covered_from).collect()
    return row["layoffs_23_expected"]


def test_a_history_the_feed_covers_whole_predicts_from_every_earlier_layoff(tables):
    # 2 layoffs in 730 days, for a window of 367 days.
    assert expected(tables, None) == round(2 * 367 / 730, 2)
    assert expected(tables, D("2021-01-01")) == round(2 * 367 / 730, 2)


def test_only_the_covered_part_of_the_history_counts_its_days_and_its_layoffs(tables):
    # Covered from 2022-12-01: 394 days of history, and only the 2023 layoff in them.
    assert expected(tables, D("2022-12-01")) == round(1 * 367 / 394, 2)


def test_less_than_a_window_of_covered_history_is_unknown_not_zero(tables):
    # Covered from 2023-01-01: 363 days, less than the 367-day window.
    assert expected(tables, D("2023-01-01")) is None
