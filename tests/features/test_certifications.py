"""The income statements and presence records a certification's evidence reads: what
is left out early (statements far from any certified period, records outside
every trip's span) never changes what is found."""

from __future__ import annotations

import datetime as dt
import random

from conftest import operators_over, shuffled_before_a_broadcast_join, spark_conf

from features.certifications import income_in_periods, presence_in_korea

AS_OF = dt.date(2026, 3, 7)
DAY = dt.timedelta(days=1)

CERTIFICATIONS = "cert_id string, person_key string, period_from date, period_to date"
INCOME = (
    "record_id string, person_key string, payer_business_no string, income_type string, "
    "work_from date, work_to date, work_days bigint, amount bigint, filed_on date"
)
WORKPLACES = "workplace_id string, business_no string"
EMPLOYMENTS = "employment_id string, person_key string, workplace_id string, acquired_on date, lost_on date"


def _world(seed: int):
    """Persons with certified periods (gaps between them), statements before, between,
    across and after them, some at payers that reported a spell, and statements of
    persons never certified."""
    rng = random.Random(seed)
    start = dt.date(2024, 1, 1)
    certifications, income, employments = [], [], []
    workplaces = [(f"wp{n}", f"b{n}") for n in range(3)]
    for p in range(40):
        person = f"p{p}"
        day = start + rng.randrange(400) * DAY
        for c in range(rng.randrange(4) if p < 30 else 0):  # the last ten are never certified
            length = rng.randrange(1, 40)
            certifications.append((f"c{p}-{c}", person, day, day + (length - 1) * DAY))
            day += (length + rng.randrange(0, 60)) * DAY
        for s in range(rng.randrange(8)):
            work_from = start + rng.randrange(-60, 800) * DAY
            work_to = work_from + rng.randrange(0, 45) * DAY
            filed_on = work_to + rng.randrange(0, 120) * DAY
            payer = rng.choice(workplaces)[1]
            income.append(
                (f"r{p}-{s}", person, payer, "WAGE", work_from, work_to, rng.randrange(1, 20), 100_000, filed_on)
            )
        if rng.random() < 0.5:
            workplace = rng.choice(workplaces)[0]
            acquired = start + rng.randrange(0, 600) * DAY
            lost = None if rng.random() < 0.3 else acquired + rng.randrange(10, 200) * DAY
            employments.append((f"e{p}", person, workplace, acquired, lost))
    return certifications, income, workplaces, employments


def _expected_pairs(certifications, income, workplaces, employments):
    """By hand: a statement filed by the run date meets a period when its work window
    (narrowed to the payer's reported spells of the person) overlaps it."""
    business = dict(workplaces)
    pairs = set()
    for record_id, person, payer, _, work_from, work_to, _, _, filed_on in income:
        if filed_on > AS_OF:
            continue
        spells = [
            (acquired, lost or dt.date(9999, 12, 31))
            for _, who, workplace, acquired, lost in employments
            if who == person and business[workplace] == payer
        ]
        spells = [(a, b) for a, b in spells if a <= work_to and b >= work_from]
        window_from, window_to = work_from, work_to
        if spells:
            window_from = max(work_from, min(a for a, _ in spells))
            window_to = min(work_to, max(b for _, b in spells))
        for cert_id, who, period_from, period_to in certifications:
            if who == person and window_from <= period_to and window_to >= period_from:
                pairs.add((cert_id, record_id))
    return pairs


def _in_periods(spark, certifications, income, workplaces, employments):
    return income_in_periods(
        spark.createDataFrame(certifications, CERTIFICATIONS),
        spark.createDataFrame(income, INCOME),
        spark.createDataFrame(workplaces, WORKPLACES),
        spark.createDataFrame(employments, EMPLOYMENTS),
        AS_OF,
    )


def test_statements_meet_exactly_the_periods_their_work_windows_overlap(spark):
    for seed in (1, 2):
        certifications, income, workplaces, employments = _world(seed)
        found = _in_periods(spark, certifications, income, workplaces, employments)
        pairs = {(row["cert_id"], row["record_id"]) for row in found.select("cert_id", "record_id").collect()}
        expected = _expected_pairs(certifications, income, workplaces, employments)
        assert len(expected) >= 10  # the world gives the check something to find
        assert pairs == expected


def test_the_history_of_statements_meets_the_broadcast_spans_before_any_shuffle(spark):
    """Income is the largest table (every statement of every earner, for years). With
    Spark's own size-based broadcast off, as for a history too large for it, each scan
    of the statements still meets the certified persons' spans in a broadcast join
    before any exchange: the history is scanned, never shuffled whole (before, it was
    shuffled twice per night to be joined with a few thousand spans)."""
    certifications, income, workplaces, employments = _world(1)
    with spark_conf(spark, "spark.sql.autoBroadcastJoinThreshold", "-1"):
        found = _in_periods(spark, certifications, income, workplaces, employments)
        scans = operators_over(found, "filed_on")  # income's column alone
    assert scans
    assert shuffled_before_a_broadcast_join(scans) == []


def test_presence_read_within_spans_is_everyones_presence_inside_them(spark):
    certifications, income, workplaces, employments = _world(3)
    claims = spark.createDataFrame(
        [(cert_id, person) for cert_id, person, _, _ in certifications], "claim_id string, person_key string"
    )
    visits = spark.createDataFrame(
        [
            (cert_id, period_to, "VISIT" if n % 2 else "ONLINE")
            for n, (cert_id, _, _, period_to) in enumerate(certifications)
        ],
        "claim_id string, cert_on date, channel string",
    )
    tables = (visits, claims, spark.createDataFrame(income, INCOME), spark.createDataFrame(employments, EMPLOYMENTS))
    start = dt.date(2024, 1, 1)
    spans = [  # two trips of p1, one each of p4, p7, p33, a long one of p12, one of someone with no record
        ("p1", start + 30 * DAY, start + 200 * DAY),
        ("p1", start + 350 * DAY, start + 420 * DAY),
        ("p4", start, start + 400 * DAY),
        ("p7", start + 100 * DAY, start + 101 * DAY),
        ("p33", start + 10 * DAY, start + 500 * DAY),
        ("p12", start - 90 * DAY, start + 900 * DAY),
        ("nobody", start, start + 900 * DAY),
    ]
    everyone = {tuple(row) for row in presence_in_korea(*tables, AS_OF).collect()}
    theirs = {
        tuple(row)
        for row in presence_in_korea(
            *tables, AS_OF, within=spark.createDataFrame(spans, "person_key string, span_from date, span_to date")
        ).collect()
    }
    first = {person: min(f for p, f, _ in spans if p == person) for person, _, _ in spans}
    last = {person: max(t for p, _, t in spans if p == person) for person, _, _ in spans}
    # From the day after a person's first OUT to their last day abroad.
    expected = {row for row in everyone if row[0] in first and first[row[0]] < row[1] and row[2] <= last[row[0]]}
    assert {row[0] for row in expected} >= {"p1", "p4", "p12"}  # visits, spells and statements of several
    assert any(row[0] == "p1" and row not in expected for row in everyone)  # and records outside the span
    assert theirs == expected


def test_presence_within_a_span_keeps_a_record_on_its_last_day_not_on_its_first(spark):
    """A record contradicts a trip only after its OUT day, and up to its last day
    abroad (an open trip's run date): the span's edges, a record of each kind on
    each side of them."""
    span_from, span_to = dt.date(2025, 5, 1), dt.date(2025, 6, 30)
    days = {"on_out_day": span_from, "after_out_day": span_from + DAY, "on_last_day": span_to, "after": span_to + DAY}
    certifications = spark.createDataFrame(
        [(name, day, "VISIT") for name, day in days.items()], "claim_id string, cert_on date, channel string"
    )
    claims = spark.createDataFrame([(name, "p1") for name in days], "claim_id string, person_key string")
    employments = spark.createDataFrame([(name, "p1", "wp0", day, None) for name, day in days.items()], EMPLOYMENTS)
    windows = {  # work from .. to
        "from_out_day": (span_from, span_from + 3 * DAY),
        "to_last_day": (span_to - 2 * DAY, span_to),
        "past_last_day": (span_to - DAY, span_to + DAY),
    }
    income = spark.createDataFrame(
        [(name, "p1", "b0", "WAGE", first, last, 2, 100_000, AS_OF - DAY) for name, (first, last) in windows.items()],
        INCOME,
    )
    within = spark.createDataFrame([("p1", span_from, span_to)], "person_key string, span_from date, span_to date")
    found = presence_in_korea(certifications, claims, income, employments, AS_OF, within=within).collect()
    kept = sorted((row["present_from"], row["present_on"]) for row in found)
    after, last = days["after_out_day"], days["on_last_day"]
    assert kept == [(after, after), (after, after), windows["to_last_day"], (last, last), (last, last)]
