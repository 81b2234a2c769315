"""Trips abroad from border crossings (출입국 기록), in Korean days.

A person is abroad from an `OUT` until the next `IN` (FEEDS.md). Days are KST
calendar days: a crossing at `2026-02-02T16:30:00Z` happened on 2026-02-03 in
Seoul. The KST day is computed from the instant itself, so it does not depend on
the Spark session's time zone.

Every crossing day is a day the person was abroad at some time (before arriving,
or after leaving), so a crossing is always certain evidence for its own day. What
lies between crossings is certain only when the record is whole:

| kind | crossings | certainly abroad on | return/departure |
| --- | --- | --- | --- |
| `COMPLETE` | OUT, then IN | OUT day .. IN day | known |
| `OPEN` | OUT, nothing after | OUT day .. the run date | not yet back (FEEDS.md: "one still abroad has no IN yet") |
| `BROKEN_NO_IN` | OUT, then another OUT | the OUT day only | unknown: the IN is missing |
| `BROKEN_NO_OUT` | IN with no OUT before it | the IN day only | unknown: the OUT is missing |

A missing `IN` (quarantined, or not yet delivered) must not make someone abroad
for a year, so a broken trip is certain only on its crossing day; the days in
which the person may or may not have been abroad are kept as a separate
"possibly abroad" window and flagged `uncertain`. An `OPEN` trip is also treated
as broken (return unknown, certain only on its OUT day) once other records put the
person in Korea after leaving (features/certifications.py:presence_in_korea: an
in-person certification, insured employment that began, wage work on an income
statement): that contradicts "still abroad" and shows the `IN` is missing. So is a
`COMPLETE` trip with such a record wholly between its OUT and IN days: a return and a
departure are missing between them, so it is certain on its OUT day only and possibly
abroad up to its IN. The contradiction is named in the trip's evidence; a missing
record is a gap, not a fact.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

KST_OFFSET_SECONDS = 9 * 3600  # Korea has kept UTC+09:00 without daylight saving since 1988
SECONDS_PER_DAY = 86_400

COMPLETE = "COMPLETE"
OPEN = "OPEN"
BROKEN_NO_IN = "BROKEN_NO_IN"
BROKEN_NO_OUT = "BROKEN_NO_OUT"

TRIP_COLUMNS = (
    "person_key",
    "trip_kind",
    "out_crossing_id",
    "in_crossing_id",
    "out_at",
    "in_at",
    "out_port",
    "in_port",
    "country",
    "abroad_from",
    "abroad_to",
    "possibly_abroad_from",
    "possibly_abroad_to",
    "uncertain",
    "crossing_ids",
    "trip_evidence",
)


def kst_day(instant: Column) -> Column:
    """The KST calendar day (DATE) of a TIMESTAMP, whatever the session time zone."""
    seconds_in_kst = F.unix_seconds(instant) + F.lit(KST_OFFSET_SECONDS)
    return F.date_from_unix_date(F.floor(seconds_in_kst / F.lit(SECONDS_PER_DAY)).cast("int"))


def _with_neighbours(crossings: DataFrame) -> DataFrame:
    """Each crossing with the person's previous and next crossing (by time, then id)."""
    in_time_order = Window.partitionBy("person_key").orderBy("crossed_at", "crossing_id")
    return crossings.select(
        "person_key",
        "crossing_id",
        "crossed_at",
        "direction",
        "port_code",
        "country",
        kst_day(F.col("crossed_at")).alias("crossed_day"),
    ).select(
        "*",
        F.lead("direction").over(in_time_order).alias("next_direction"),
        F.lead("crossing_id").over(in_time_order).alias("next_crossing_id"),
        F.lead("crossed_at").over(in_time_order).alias("next_crossed_at"),
        F.lead("port_code").over(in_time_order).alias("next_port"),
        F.lead(kst_day(F.col("crossed_at"))).over(in_time_order).alias("next_day"),
        F.lag("direction").over(in_time_order).alias("previous_direction"),
        F.lag(kst_day(F.col("crossed_at"))).over(in_time_order).alias("previous_day"),
    )


def _departures(neighbours: DataFrame, as_of: dt.date) -> DataFrame:
    is_departure = F.col("direction") == "OUT"
    followed_by_arrival = F.col("next_direction") == "IN"
    is_last_crossing = F.col("next_direction").isNull()
    trip_kind = (
        F.when(followed_by_arrival, F.lit(COMPLETE)).when(is_last_crossing, F.lit(OPEN)).otherwise(F.lit(BROKEN_NO_IN))
    )
    is_broken = trip_kind == BROKEN_NO_IN
    abroad_to = (
        F.when(followed_by_arrival, F.col("next_day"))
        .when(is_last_crossing, F.greatest(F.lit(as_of), F.col("crossed_day")))
        .otherwise(F.col("crossed_day"))
    )
    # Between a departure and the next departure the return happened on an unknown day;
    # the next OUT day is certain evidence of its own trip.
    possibly_abroad_to = F.when(is_broken, F.greatest(F.date_sub(F.col("next_day"), 1), F.col("crossed_day")))
    return neighbours.where(is_departure).select(
        "person_key",
        trip_kind.alias("trip_kind"),
        F.col("crossing_id").alias("out_crossing_id"),
        F.when(followed_by_arrival, F.col("next_crossing_id")).alias("in_crossing_id"),
        F.col("crossed_at").alias("out_at"),
        F.when(followed_by_arrival, F.col("next_crossed_at")).alias("in_at"),
        F.col("port_code").alias("out_port"),
        F.when(followed_by_arrival, F.col("next_port")).alias("in_port"),
        "country",
        F.col("crossed_day").alias("abroad_from"),
        abroad_to.alias("abroad_to"),
        F.when(is_broken, F.col("crossed_day")).alias("possibly_abroad_from"),
        possibly_abroad_to.alias("possibly_abroad_to"),
        F.when(is_broken, F.col("next_day")).alias("next_out_day"),
    )


def _orphan_arrivals(neighbours: DataFrame) -> DataFrame:
    is_arrival = F.col("direction") == "IN"
    has_no_departure_before = F.col("previous_direction").isNull() | (F.col("previous_direction") == "IN")
    return neighbours.where(is_arrival & has_no_departure_before).select(
        "person_key",
        F.lit(BROKEN_NO_OUT).alias("trip_kind"),
        F.lit(None).cast("string").alias("out_crossing_id"),
        F.col("crossing_id").alias("in_crossing_id"),
        F.lit(None).cast("timestamp").alias("out_at"),
        F.col("crossed_at").alias("in_at"),
        F.lit(None).cast("string").alias("out_port"),
        F.col("port_code").alias("in_port"),
        "country",
        F.col("crossed_day").alias("abroad_from"),
        F.col("crossed_day").alias("abroad_to"),
        # From the day after the previous arrival (or open-ended) up to the arrival.
        F.date_add(F.col("previous_day"), 1).alias("possibly_abroad_from"),
        F.col("crossed_day").alias("possibly_abroad_to"),
        F.lit(None).cast("date").alias("next_out_day"),
    )


def trip_spans(crossings: DataFrame, as_of: dt.date) -> DataFrame:
    """(person_key, span_from, span_to): the days of each trip another record can
    contradict (`_break_open_trips_seen_in_korea`: an OPEN or COMPLETE trip, a record
    after its OUT day and by its last day abroad), for reading only the records inside
    them (features/certifications.py:presence_in_korea)."""
    return (
        _departures(_with_neighbours(crossings), as_of)
        .where(F.col("trip_kind").isin(OPEN, COMPLETE))
        .select("person_key", F.col("abroad_from").alias("span_from"), F.col("abroad_to").alias("span_to"))
    )


def _break_open_trips_seen_in_korea(raw_trips: DataFrame, presence_in_korea: DataFrame | None) -> DataFrame:
    """An OPEN trip whose traveller other records put in Korea afterwards is missing
    its IN, and a COMPLETE trip with such a record wholly between its crossing days is
    missing a return and a departure: `seen_in_korea_on` is the first day by which
    they were back, and `seen_in_korea` what shows it."""
    if presence_in_korea is None:
        return raw_trips.withColumn("seen_in_korea_on", F.lit(None).cast("date")).withColumn(
            "seen_in_korea", F.lit(None).cast("string")
        )
    presence = presence_in_korea.select(
        F.col("person_key").alias("present_person_key"), "present_from", "present_on", "presence"
    )
    is_open = F.col("trip_kind") == OPEN
    is_complete = F.col("trip_kind") == COMPLETE
    seen_after_leaving = (
        (F.col("present_person_key") == F.col("person_key"))
        & (F.col("present_from") > F.col("abroad_from"))
        & ((is_open & (F.col("present_on") <= F.col("abroad_to"))) | (F.col("present_on") < F.col("abroad_to")))
    )
    first_seen = (
        raw_trips.where(is_open | is_complete)
        .join(presence, on=seen_after_leaving, how="inner")
        .groupBy("person_key", "out_crossing_id")
        .agg(
            F.min("present_on").alias("seen_in_korea_on"),
            F.min_by("presence", F.struct("present_on", "presence")).alias("seen_in_korea"),
        )
    )
    return raw_trips.join(first_seen, on=["person_key", "out_crossing_id"], how="left")


def _trip_evidence(trip_kind: Column) -> Column:
    def day(column: str) -> Column:
        return F.date_format(kst_day(F.col(column)), "yyyy-MM-dd")

    departure = F.format_string("OUT %s %s→%s", day("out_at"), F.col("out_port"), F.col("country"))
    seen = F.date_format(F.col("seen_in_korea_on"), "yyyy-MM-dd")
    return (
        F.when(
            F.col("seen_in_korea_on").isNotNull() & F.col("in_at").isNotNull(),
            F.format_string(
                "%s, IN %s, but in Korea by %s (%s): a return and a departure between them are missing",
                departure,
                day("in_at"),
                seen,
                F.col("seen_in_korea"),
            ),
        )
        .when(trip_kind == COMPLETE, F.format_string("%s, IN %s", departure, day("in_at")))
        .when(trip_kind == OPEN, F.format_string("%s, no IN yet", departure))
        .when(
            F.col("seen_in_korea_on").isNotNull(),
            F.format_string(
                "%s, no IN on record but in Korea by %s (%s): the IN is missing, return date unknown",
                departure,
                F.date_format(F.col("seen_in_korea_on"), "yyyy-MM-dd"),
                F.col("seen_in_korea"),
            ),
        )
        .when(
            trip_kind == BROKEN_NO_IN,
            F.format_string(
                "%s, IN missing (next OUT %s), return date unknown",
                departure,
                F.date_format(F.col("next_out_day"), "yyyy-MM-dd"),
            ),
        )
        .otherwise(
            F.format_string(
                "IN %s %s←%s with no OUT before it, departure date unknown",
                day("in_at"),
                F.col("in_port"),
                F.col("country"),
            )
        )
    )


def trips(crossings: DataFrame, as_of: dt.date, presence_in_korea: DataFrame | None = None) -> DataFrame:
    """Crossings -> one row per trip abroad (TRIP_COLUMNS).

    crossings: the conformed `moj/crossings` (crossing_id, person_key, crossed_at,
    direction, port_code, country). as_of: the run date; an OPEN trip is abroad up to
    it. presence_in_korea: optional (person_key, present_from, present_on, presence):
    the person was in Korea on some day of `present_from..present_on`, shown by
    `presence` (features/certifications.py:presence_in_korea); an OPEN trip with such
    a window wholly after its OUT day becomes BROKEN_NO_IN.

    `abroad_from..abroad_to` are the days the person was certainly abroad at some time;
    `possibly_abroad_from..possibly_abroad_to` is the window of a broken trip in which
    the person may have been abroad (null for whole trips); `uncertain` marks broken
    trips. `crossing_ids` lists the crossings the trip is built from.
    """
    neighbours = _with_neighbours(crossings)
    raw_trips = _departures(neighbours, as_of).unionByName(_orphan_arrivals(neighbours))
    checked = _break_open_trips_seen_in_korea(raw_trips, presence_in_korea)

    was_seen_in_korea = F.col("seen_in_korea_on").isNotNull()
    trip_kind = F.when(was_seen_in_korea, F.lit(BROKEN_NO_IN)).otherwise(F.col("trip_kind"))
    abroad_to = F.when(was_seen_in_korea, F.col("abroad_from")).otherwise(F.col("abroad_to"))
    possibly_abroad_from = F.when(was_seen_in_korea, F.col("abroad_from")).otherwise(F.col("possibly_abroad_from"))
    # An open trip: possibly abroad until the day before they were seen; a complete
    # one: they may have left again, so up to its IN day.
    possibly_abroad_to = (
        F.when(was_seen_in_korea & F.col("in_at").isNotNull(), F.col("abroad_to"))
        .when(was_seen_in_korea, F.date_sub(F.col("seen_in_korea_on"), 1))
        .otherwise(F.col("possibly_abroad_to"))
    )
    is_broken = trip_kind.isin(BROKEN_NO_IN, BROKEN_NO_OUT)
    crossing_ids = F.filter(
        F.array(F.col("out_crossing_id"), F.col("in_crossing_id")), lambda crossing: crossing.isNotNull()
    )
    return checked.select(
        "person_key",
        trip_kind.alias("trip_kind"),
        "out_crossing_id",
        "in_crossing_id",
        "out_at",
        "in_at",
        "out_port",
        "in_port",
        "country",
        "abroad_from",
        abroad_to.alias("abroad_to"),
        possibly_abroad_from.alias("possibly_abroad_from"),
        possibly_abroad_to.alias("possibly_abroad_to"),
        is_broken.alias("uncertain"),
        crossing_ids.alias("crossing_ids"),
        _trip_evidence(trip_kind).alias("trip_evidence"),
    )
