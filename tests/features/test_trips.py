"""Trips abroad read against the records that put a traveller in Korea
(features/trips.py): the records read are only those inside the trips' spans
(`trip_spans`, as rules/evidence.py reads them), and the trips are the same as when
every record is read."""

from __future__ import annotations

import datetime as dt
import random

from features.certifications import presence_in_korea
from features.trips import trip_spans, trips

AS_OF = dt.date(2026, 3, 7)
DAY = dt.timedelta(days=1)
CROSSINGS = (
    "crossing_id string, person_key string, crossed_at timestamp, direction string, port_code string, country string"
)
VISITS = "claim_id string, cert_on date, channel string"
INCOME = (
    "record_id string, person_key string, payer_business_no string, income_type string, "
    "work_from date, work_to date, work_days bigint, amount bigint, filed_on date"
)
EMPLOYMENTS = "employment_id string, person_key string, workplace_id string, acquired_on date, lost_on date"


def _world(seed: int):
    """Travellers with whole trips, trips missing their IN (open to the run date, or
    followed by another OUT) or their OUT, several on one day; and visits, spells
    and statements before, during, between and after them, and of people who never
    travel."""
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, 9)
    crossings, visits, income, employments = [], [], [], []
    for p in range(30):
        person = f"p{p}"
        if p < 20:
            moment = start + rng.randrange(300) * DAY
            for t in range(rng.randrange(1, 5)):
                for direction in ("OUT", "IN"):
                    if rng.random() < 0.15:  # this crossing is missing
                        continue
                    crossings.append((f"x{p}-{t}-{direction}", person, moment, direction, "ICN", "JP"))
                    moment += rng.choice([0, 1, 5, 40, 200]) * DAY + rng.randrange(12) * dt.timedelta(hours=1)
        for r in range(rng.randrange(10)):
            day = start.date() + rng.randrange(-30, 820) * DAY
            kind = rng.randrange(3)
            if kind == 0:
                visits.append((f"{person}-{r}", person, day, rng.choice(["VISIT", "ONLINE"])))
            elif kind == 1:
                employments.append((f"e{p}-{r}", person, "wp0", day, None))
            else:
                income.append((f"r{p}-{r}", person, "b0", "WAGE", day, day + rng.randrange(30) * DAY, 3, 100_000, day))
    return crossings, visits, income, employments


def test_trips_read_against_the_records_inside_their_spans_are_the_trips_read_against_all(spark):
    for seed in (4, 5, 6):
        crossings, visits, income, employments = _world(seed)
        crossing_frame = spark.createDataFrame(crossings, CROSSINGS)
        tables = (
            spark.createDataFrame([(c, day, channel) for c, _, day, channel in visits], VISITS),
            spark.createDataFrame([(c, person) for c, person, _, _ in visits], "claim_id string, person_key string"),
            spark.createDataFrame(income, INCOME),
            spark.createDataFrame(employments, EMPLOYMENTS),
        )
        everyone = presence_in_korea(*tables, AS_OF)
        inside = presence_in_korea(*tables, AS_OF, within=trip_spans(crossing_frame, AS_OF))

        def read(presence):
            return {
                tuple(tuple(value) if isinstance(value, list) else value for value in row)
                for row in trips(crossing_frame, AS_OF, presence).collect()
            }

        against_all = read(everyone)
        evidence = [row[-1] for row in against_all]
        # Records contradict some open trips and some whole ones, and most records lie outside every trip.
        assert any("no IN on record but in Korea by" in text for text in evidence)
        assert any("a return and a departure between them are missing" in text for text in evidence)
        assert inside.count() < everyone.count() / 2
        assert read(inside) == against_all
