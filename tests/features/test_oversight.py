"""The safeguards' statistics: Wilson intervals, the exact binomial test, the flagging
rule, the outcome disparity and a draw that does not depend on how Spark splits the
claims."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from features.oversight import (
    binomial_p,
    control_sample,
    draw_key,
    fairness_rows,
    flagged,
    rate_row,
)
from fraud.proportions import wilson


def test_wilson_matches_published_values_and_stays_inside_zero_and_one():
    low, high = wilson(4, 5)
    assert (round(low, 4), round(high, 4)) == (0.3755, 0.9638)
    low, high = wilson(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson(10, 10)
    assert round(low, 4) == 0.7225 and high == pytest.approx(1.0)
    assert wilson(0, 0) is None


def test_the_exact_binomial_test_matches_r_binom_test():
    assert binomial_p(3, 10, 0.5) == pytest.approx(0.34375)
    assert binomial_p(12, 12, 0.5) == pytest.approx(2 * 0.5**12)
    assert binomial_p(5, 10, 0.5) == pytest.approx(1.0)
    # By definition: the probability of every outcome no more likely than the one seen.
    pmf = [math.comb(20, i) * 0.3**i * 0.7 ** (20 - i) for i in range(21)]
    assert binomial_p(1, 20, 0.3) == pytest.approx(sum(p for p in pmf if p <= pmf[1]))
    assert binomial_p(0, 0, 0.3) == 1.0


def test_a_group_is_flagged_only_when_outside_the_band_and_significant_after_correction():
    assert flagged(2.0, 0.001, tests=10)
    assert not flagged(2.0, 0.01, tests=10)  # 0.01 > 0.05 / 10
    assert not flagged(1.2, 0.0000001, tests=10)  # inside 0.8-1.25
    assert flagged(0.5, 0.0000001, tests=10)
    assert not flagged(None, None, tests=10)


def counts(dimension, groups):
    return [
        {"dimension": dimension, "group": g, "claims": c, "queued": q, "decided": d, "confirmed": k}
        for g, c, q, d, k in groups
    ]


def test_a_small_group_far_from_the_band_is_noise_and_a_large_one_is_flagged():
    rows = fairness_rows(
        counts(
            "region",
            [
                # Half the claims each, a quarter and three quarters of the queue.
                ("11", 1000, 100, 0, 0),
                ("26", 1000, 300, 0, 0),
                # 6 claims, 2 queued: 1.7 times its share, but on 6 claims.
                ("51", 6, 2, 0, 0),
            ],
        )
    )
    by_group = {r["group"]: r for r in rows}
    assert by_group["26"]["referral_flagged"] and by_group["11"]["referral_flagged"]
    assert by_group["51"]["referral_ratio"] > 1.25 and not by_group["51"]["referral_flagged"]


def test_the_outcome_disparity_compares_a_groups_confirmed_rate_with_everyones():
    rows = fairness_rows(
        counts(
            "industry",
            [
                ("10", 500, 100, 100, 90),  # 90% confirmed
                ("20", 500, 100, 100, 30),  # 30% confirmed: referred as often, cleared far more
                ("30", 500, 100, 100, 60),
            ],
        )
    )
    by_group = {r["group"]: r for r in rows}
    assert by_group["20"]["outcome_ratio"] == 0.5 and by_group["20"]["outcome_flagged"]
    assert by_group["30"]["outcome_ratio"] == 1.0 and not by_group["30"]["outcome_flagged"]
    assert not any(r["referral_flagged"] for r in rows)
    undecided = fairness_rows(counts("industry", [("10", 5, 1, 0, 0)]))[0]
    assert undecided["outcome_ratio"] is None and undecided["outcome_p"] is None and not undecided["outcome_flagged"]


def test_a_rate_row_without_decisions_has_no_rate():
    row = rate_row("list", "queue", 12, 0, 0)
    assert row["decided"] == 0 and row["rate"] is None and row["rate_low"] is None
    assert rate_row("list", "queue", 12, 1, 3)["rate"] == 0.25


def test_the_draw_is_the_smallest_keys_however_the_claims_are_partitioned(spark):
    night = dt.date(2026, 4, 30)
    claims = [(f"CL-{n:04d}",) for n in range(300)]
    expected = sorted(claims, key=lambda c: draw_key(night, c[0]))[:25]
    for partitions in (1, 7):
        frame = spark.createDataFrame(claims, "claim_id string").repartition(partitions)
        drawn = control_sample(frame, night, 25)
        assert [(row["claim_id"],) for row in drawn] == expected
        assert [row["draw_order"] for row in drawn] == list(range(1, 26))
    other_night = control_sample(spark.createDataFrame(claims, "claim_id string"), night + dt.timedelta(days=1), 25)
    assert {row["claim_id"] for row in other_night} != {c[0] for c in expected}
