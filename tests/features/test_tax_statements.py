"""The payer's tax statements matched to a claim's qualifying spell
(features/collusion_evidence.py:tax_statements_for_spells), against a computation by
hand on seeded worlds: statements before, across and after each spell, filed late,
of unknown amount, at other payers; spells of unknown and zero wage, at workplaces
whose record is missing; the tax feed's span starting inside spells."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections import Counter

import pytest
from conftest import operators_over, shuffled_before_a_broadcast_join, spark_conf

from features.collusion_evidence import WAGE_MATCH_SHARE, tax_statements_for_spells

AS_OF = dt.date(2026, 3, 7)
DAY = dt.timedelta(days=1)

SPELLS = "claim_id string, spell_from date, spell_to date, monthly_wage bigint"
CLAIMS = "claim_id string, person_key string, workplace_id string"
WORKPLACES = "workplace_id string, business_no string"
INCOME = (
    "record_id string, person_key string, payer_business_no string, "
    "work_from date, work_to date, amount bigint, filed_on date"
)


def _world(seed: int):
    rng = random.Random(seed)
    workplaces = [(f"wp{n}", f"b{n}") for n in range(4)]  # wp4 and wp5 have no record
    spells, claims, income = [], [], []
    for c in range(60):
        person = f"p{c % 45}"  # some persons claim twice
        workplace = f"wp{rng.randrange(6)}"
        spell_from = dt.date(2023, 1, 1) + rng.randrange(900) * DAY
        spell_to = min(spell_from + rng.randrange(0, 500) * DAY, AS_OF)
        wage = rng.choice([None, 0, 2_000_000, 3_100_000, 2_500_000])
        spells.append((f"c{c}", spell_from, spell_to, wage))
        claims.append((f"c{c}", person, workplace))
        business = f"b{workplace[2:]}"
        for s in range(rng.randrange(12)):
            month = spell_from.replace(day=1) + rng.randrange(-40, 540) * DAY
            if rng.random() < 0.6:  # a monthly statement, else a few days of day work
                work_from = month.replace(day=1)
                work_to = work_from.replace(day=calendar.monthrange(work_from.year, work_from.month)[1])
            else:
                work_from = month
                work_to = month + rng.randrange(0, 6) * DAY
            amount = rng.choice([None, 500_000, 1_200_000, 1_600_000, 2_500_000, 3_000_000])
            payer = business if rng.random() < 0.85 else f"b{rng.randrange(6)}"
            filed_on = work_to + rng.randrange(0, 90) * DAY
            income.append((f"r{c}-{s}", person, payer, work_from, work_to, amount, filed_on))
        edge = rng.random()
        if edge < 0.3:  # day work in the spell's last month, after its last day
            last_day = spell_to.replace(day=calendar.monthrange(spell_to.year, spell_to.month)[1])
            if spell_to < last_day:
                income.append((f"r{c}-after", person, business, last_day, last_day, 900_000, last_day))
        elif edge < 0.6:  # two part payments in a whole month of the spell, each under half the wage
            month = (spell_from.replace(day=1) + 32 * DAY).replace(day=1)
            for part in range(2 if month + 31 * DAY <= spell_to else 0):
                income.append((f"r{c}-part{part}", person, business, month, month + 9 * DAY, 800_000, month))
    return spells, claims, workplaces, income


def _month_starts(first: dt.date, last: dt.date):
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = (month + 32 * DAY).replace(day=1)


def _by_hand(spells, claims, workplaces, income, covered_from):
    """-> (the four counts per claim, how often the cases this function is easiest to
    get wrong occur: a month filed only by statements outside the spell's days, a
    month matching only on the sum of its statements)."""
    business = dict(workplaces)
    of_claim = {claim_id: (person, workplace) for claim_id, person, workplace in claims}
    expected, seen = {}, Counter()
    for claim_id, spell_from, spell_to, wage in spells:
        person, workplace = of_claim[claim_id]
        payer = business.get(workplace)
        statements = [
            (work_from, work_to, amount)
            for _, who, to_payer, work_from, work_to, amount, filed_on in income
            if who == person and payer is not None and to_payer == payer and filed_on <= AS_OF
        ]
        overlapping = sum(1 for work_from, work_to, _ in statements if work_from <= spell_to and work_to >= spell_from)
        due = filed = matching = 0
        if covered_from is not None and payer is not None and spell_to >= covered_from:
            for month in _month_starts(max(spell_from, covered_from), spell_to):
                days_in_month = calendar.monthrange(month.year, month.month)[1]
                month_end = month.replace(day=days_in_month)
                next_month = month_end + DAY
                if next_month.replace(day=calendar.monthrange(next_month.year, next_month.month)[1]) > AS_OF:
                    continue  # its statement is not due yet
                due += 1
                of_month = [
                    (work_from, work_to, amount)
                    for work_from, work_to, amount in statements
                    if work_from <= month_end and work_to >= month
                ]
                in_month = [amount for _, _, amount in of_month]
                if not in_month:
                    continue
                filed += 1
                if all(work_from > spell_to or work_to < spell_from for work_from, work_to, _ in of_month):
                    seen["filed outside the spell's days"] += 1
                days = (min(spell_to, month_end) - max(spell_from, month)).days + 1
                wage_due = None if wage is None else wage * days / days_in_month
                if (
                    None in in_month
                    or wage_due is None
                    or wage_due <= 0
                    or sum(in_month) >= WAGE_MATCH_SHARE * wage_due
                ):
                    matching += 1
                    if None not in in_month and wage_due and max(in_month) < WAGE_MATCH_SHARE * wage_due:
                        seen["matching on the sum"] += 1
        expected[claim_id] = (overlapping, due, filed, matching)
    return expected, seen


def _statements(spark, world, covered_from):
    spells, claims, workplaces, income = world
    return tax_statements_for_spells(
        spark.createDataFrame(spells, SPELLS),
        spark.createDataFrame(claims, CLAIMS),
        spark.createDataFrame(workplaces, WORKPLACES),
        spark.createDataFrame(income, INCOME),
        AS_OF,
        covered_from,
    )


@pytest.mark.parametrize("covered_from", [None, dt.date(2024, 5, 1), dt.date(2020, 1, 1)])
def test_statements_and_months_of_each_spell_are_those_counted_by_hand(spark, covered_from):
    for seed in (1, 2):
        spells, claims, workplaces, income = world = _world(seed)
        found = _statements(spark, world, covered_from)
        collected = found.collect()
        rows = {
            row["claim_id"]: (
                row["tax_statements"],
                row["tax_months_due"],
                row["tax_months_filed"],
                row["tax_months_matching"],
            )
            for row in collected
        }
        expected, seen = _by_hand(spells, claims, workplaces, income, covered_from)
        # The world gives each count something to find, and some months fail to match.
        assert sum(counts[0] for counts in expected.values()) >= 20
        if covered_from is not None:
            assert sum(counts[2] - counts[3] for counts in expected.values()) >= 1
            assert sum(counts[1] - counts[2] for counts in expected.values()) >= 1
            assert seen["filed outside the spell's days"] >= 1
            assert seen["matching on the sum"] >= 1
        assert len(collected) == len(spells)  # one row per spell
        assert rows == expected


def test_the_history_of_statements_meets_the_broadcast_keys_before_any_shuffle(spark):
    """With Spark's own size-based broadcast off, as for a history of statements too
    large for it, the statements meet the subjects' (person, payer) keys in a broadcast
    join before any exchange: only the subjects' statements are shuffled, never the
    whole history."""
    with spark_conf(spark, "spark.sql.autoBroadcastJoinThreshold", "-1"):
        found = _statements(spark, _world(1), dt.date(2023, 6, 1))
        scans = operators_over(found, "filed_on")  # income's column alone
    assert scans
    assert shuffled_before_a_broadcast_join(scans) == []
