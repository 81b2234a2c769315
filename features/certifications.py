"""Per-certification features: the income evidence of work inside each certified
period and whether the claimant was abroad on the day of certifying.

Income evidence (`nts/income`). A statement says a person was paid `amount` for work
in `work_from..work_to` (a month for monthly statements), on `work_days` days when
known. What the feeds really contain, and how each is read:

- Only statements filed on or before the run date count: evidence arrives weeks
  after the work, and a re-run of an old night must not see later filings.
- The work window of a statement is `work_from..work_to`, narrowed to the person's
  insured employment spells at that payer when there are any overlapping it: the
  last monthly statement of a job that ended before the claim covers the whole month
  but the work stopped at `lost_on`.
- Proof (DOMAIN.md). `certain_worked_days` is what no arrangement of the work can
  move out of the period: `work_days − (window days − overlap)`, at least 0. A
  statement proves work inside a period only then: more work days than the days of its
  window outside the period, or a window inside it. When `work_days` is unknown the
  statement proves one day of work somewhere in its window, no more.
- Estimate. `worked_days` spreads the `work_days` of a statement evenly over its work
  window (the whole window is worked when `work_days` is unknown): `work_days ×
  overlap / window days`. It is never proof: a monthly total spread over the month
  puts days inside a period that the work may never have touched (Australia's
  Robodebt raised debts on exactly that). It makes a lead, with what would settle it
  (the payer's record of the days worked).
- Income attributable to a period is the amount prorated the same way
  (`amount × overlap / window days`), an estimate; it is compared with
  `declared_income`.
- The payer is described by whether it is an insured workplace (its business number
  appears in `ei/workplaces`) and whether it reported the claimant's insured
  employment (a spell overlapping the statement). Wage income from a payer that did
  not report the employment is unreported employment.

Abroad: the trips of features/trips.py; a certification is abroad when `cert_on`
lies in a trip's certain days, possibly abroad when it lies only in a broken trip's
unknown window.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fraud.spark import join_keys

FAR_FUTURE = dt.date(9999, 12, 31)
WAGE_TYPES = ("WAGE", "DAILY_WAGE")
REMOTE_CHANNELS = ("ONLINE", "MOBILE")
HOME_COUNTRY = "KR"

# Payer of an income statement, as the employment-insurance records see it.
PAYER_NOT_INSURED = "NOT_INSURED"  # the business number is no insured workplace
PAYER_NOT_REPORTED = "INSURED_NOT_REPORTED"  # insured workplace, no spell of this person
PAYER_REPORTED = "INSURED_REPORTED"
# Work before the employment feed's span: whether insured employment was reported is
# not known (a gap in the feed, no fact).
PAYER_BEFORE_EMPLOYMENT_FEED = "BEFORE_EMPLOYMENT_FEED"

CERTIFICATION_FEATURE_COLUMNS = (
    "cert_id",
    "claim_id",
    "person_key",
    "workplace_id",
    "cert_on",
    "period_from",
    "period_to",
    "period_days",
    "channel",
    "ip_country",
    "is_remote_channel",
    "has_foreign_ip",
    "declared_income",
    "paid_days",
    "paid_amount",
    "worked_days",
    "certain_worked_days",
    "unreported_worked_days",
    "unreported_certain_days",
    "attributable_income",
    "income_record_ids",
    "income_evidence",
    "is_abroad",
    "is_possibly_abroad",
    "crossing_ids",
    "abroad_evidence",
)

STATEMENT_COLUMNS = (
    "cert_id",
    "record_id",
    "payer_business_no",
    "income_type",
    "payer_status",
    "window_from",
    "window_to",
    "overlap_days",
    "worked_days",
    "certain_worked_days",
    "attributable_income",
)


# Sums of fractional days and prorated amounts are added as decimals: exact, so the
# result does not depend on the order rows reach the aggregate (partitioning, a nightly
# run's subset), and a re-run or a nightly run gives the same bits as a full rebuild.
EXACT_SUM_TYPE = "decimal(38,12)"


def exact_sum(column: Column | str) -> Column:
    """The sum of a double column, added exactly (as EXACT_SUM_TYPE), as a double."""
    column = F.col(column) if isinstance(column, str) else column
    return F.sum(column.cast(EXACT_SUM_TYPE)).cast("double")


def _days_inclusive(first: Column, last: Column) -> Column:
    return F.datediff(last, first) + F.lit(1)


def claimed_certifications(certifications: DataFrame, claims: DataFrame) -> DataFrame:
    """Certifications with their claim's person and workplace (a certification of an
    unknown claim has no claimant to match and is left out)."""
    claimants = claims.select("claim_id", "person_key", "workplace_id")
    return certifications.join(claimants, on="claim_id", how="inner").select(
        "cert_id",
        "claim_id",
        "person_key",
        "workplace_id",
        "cert_on",
        "period_from",
        "period_to",
        _days_inclusive(F.col("period_from"), F.col("period_to")).alias("period_days"),
        "channel",
        "ip_country",
        "declared_income",
        "paid_days",
        "paid_amount",
    )


def _statement_work_windows(
    income: DataFrame,
    workplaces: DataFrame,
    employments: DataFrame,
    as_of: dt.date,
    employment_covered_from: dt.date | None = None,
) -> DataFrame:
    """Income statements filed by `as_of`, with their payer status and the window in
    which the work can have happened. A statement of work before
    `employment_covered_from` with no spell behind it: the employment feed is silent
    there, so its status is PAYER_BEFORE_EMPLOYMENT_FEED."""
    filed_by_run_date = F.col("filed_on") <= F.lit(as_of)
    statements = income.where(filed_by_run_date).select(
        "record_id",
        "person_key",
        "payer_business_no",
        "income_type",
        "work_from",
        "work_to",
        "work_days",
        "amount",
    )
    insured_payers = (
        workplaces.select(F.col("business_no").alias("payer_business_no"))
        .distinct()
        .withColumn("payer_is_insured", F.lit(True))
    )
    spells_by_payer = employments.join(
        workplaces.select("workplace_id", "business_no"), on="workplace_id", how="inner"
    ).select(
        F.col("person_key").alias("spell_person_key"),
        F.col("business_no").alias("spell_business_no"),
        "acquired_on",
        F.coalesce(F.col("lost_on"), F.lit(FAR_FUTURE)).alias("spell_to"),
    )
    spell_overlaps_statement = (
        (F.col("spell_person_key") == F.col("person_key"))
        & (F.col("spell_business_no") == F.col("payer_business_no"))
        & (F.col("acquired_on") <= F.col("work_to"))
        & (F.col("spell_to") >= F.col("work_from"))
    )
    reported_spells = (
        statements.join(spells_by_payer, on=spell_overlaps_statement, how="inner")
        .groupBy("record_id")
        .agg(
            F.min("acquired_on").alias("spell_from"),
            F.max("spell_to").alias("spell_to"),
        )
    )
    with_payer = statements.join(insured_payers, on="payer_business_no", how="left").join(
        reported_spells, on="record_id", how="left"
    )
    has_reported_spell = F.col("spell_from").isNotNull()
    before_employment_feed = (
        F.lit(True) if employment_covered_from is None else F.col("work_from") < F.lit(employment_covered_from)
    )
    payer_status = (
        F.when(has_reported_spell, F.lit(PAYER_REPORTED))
        .when(before_employment_feed, F.lit(PAYER_BEFORE_EMPLOYMENT_FEED))
        .when(F.col("payer_is_insured"), F.lit(PAYER_NOT_REPORTED))
        .otherwise(F.lit(PAYER_NOT_INSURED))
    )
    window_from = F.when(has_reported_spell, F.greatest("work_from", "spell_from")).otherwise(F.col("work_from"))
    window_to = F.when(has_reported_spell, F.least("work_to", "spell_to")).otherwise(F.col("work_to"))
    return with_payer.select(
        "record_id",
        "person_key",
        "payer_business_no",
        "income_type",
        "work_days",
        "amount",
        payer_status.alias("payer_status"),
        window_from.alias("window_from"),
        window_to.alias("window_to"),
    )


def income_in_periods(
    certifications: DataFrame,
    income: DataFrame,
    workplaces: DataFrame,
    employments: DataFrame,
    as_of: dt.date,
    employment_covered_from: dt.date | None = None,
) -> DataFrame:
    """One row per (certification, income statement) whose work window overlaps the
    certified period (STATEMENT_COLUMNS). `certifications` as from
    `claimed_certifications`."""
    periods = certifications.select("cert_id", F.col("person_key").alias("cert_person_key"), "period_from", "period_to")
    # A statement's work window lies inside its work_from..work_to: only a statement
    # whose dates reach into its person's certified span can overlap a period. The
    # others (most of a history of statements) are left out before anything is joined,
    # against the spans broadcast when they are few enough: the history of statements
    # is then scanned, not shuffled (fraud/spark.py:join_keys).
    spans = join_keys(
        periods.groupBy("cert_person_key").agg(
            F.min("period_from").alias("span_from"), F.max("period_to").alias("span_to")
        )
    )
    reaches_a_span = (
        (F.col("person_key") == F.col("cert_person_key"))
        & (F.col("work_from") <= F.col("span_to"))
        & (F.col("work_to") >= F.col("span_from"))
    )
    near_periods = income.join(spans, on=reaches_a_span, how="left_semi")
    windows = _statement_work_windows(near_periods, workplaces, employments, as_of, employment_covered_from)
    window_overlaps_period = (
        (F.col("cert_person_key") == F.col("person_key"))
        & (F.col("window_from") <= F.col("period_to"))
        & (F.col("window_to") >= F.col("period_from"))
    )
    overlapping = windows.join(periods, on=window_overlaps_period, how="inner")

    window_days = _days_inclusive(F.col("window_from"), F.col("window_to"))
    overlap_days = _days_inclusive(F.greatest("window_from", "period_from"), F.least("window_to", "period_to"))
    # The estimate assumes a statement of unknown work days was worked every day of its
    # window; the proof assumes only the one day that being paid for work implies.
    # (Spark's least() skips a null: work_days is tested for null first.)
    known_work_days = F.least(F.col("work_days"), window_days)
    days_worked_estimate = F.when(F.col("work_days").isNull(), window_days).otherwise(known_work_days)
    # Nothing paid is no proof of work (a statement of 0 KRW corrects or cancels one).
    days_worked_proven = (
        F.when(F.coalesce(F.col("amount") <= 0, F.lit(False)), F.lit(0))
        .when(F.col("work_days").isNull(), F.lit(1))
        .otherwise(known_work_days)
    )
    worked_days = F.try_divide(days_worked_estimate * overlap_days, window_days)
    certain_worked_days = F.greatest(F.lit(0), days_worked_proven - (window_days - overlap_days))
    attributable_income = F.try_divide(F.col("amount") * overlap_days, window_days)
    return overlapping.select(
        "cert_id",
        "record_id",
        "payer_business_no",
        "income_type",
        "payer_status",
        "window_from",
        "window_to",
        overlap_days.alias("overlap_days"),
        worked_days.cast("double").alias("worked_days"),
        certain_worked_days.cast("double").alias("certain_worked_days"),
        attributable_income.cast("double").alias("attributable_income"),
    )


def _payer_phrase(payer_status: Column, income_type: Column) -> Column:
    status = (
        F.when(payer_status == PAYER_NOT_INSURED, F.lit("not an insured workplace"))
        .when(payer_status == PAYER_NOT_REPORTED, F.lit("insured workplace, employment not reported"))
        .when(payer_status == PAYER_BEFORE_EMPLOYMENT_FEED, F.lit("employment records do not reach back to this work"))
        .otherwise(F.lit("insured workplace, employment reported"))
    )
    return F.format_string("payer %s (%s, %s)", F.col("payer_business_no"), F.lower(income_type), status)


def income_evidence(statements: DataFrame) -> DataFrame:
    """(certification, statement) rows -> one row per certification: worked days in the
    period, of which certain and of which for payers that did not report the
    employment, the attributable income, the statements and a readable summary."""
    is_unreported_wage = F.col("payer_status").isin(PAYER_NOT_INSURED, PAYER_NOT_REPORTED) & F.col("income_type").isin(
        *WAGE_TYPES
    )
    ordered_statement = F.struct(
        F.col("payer_business_no"),
        F.col("record_id"),
        _payer_phrase(F.col("payer_status"), F.col("income_type")).alias("phrase"),
    )
    return (
        statements.groupBy("cert_id")
        .agg(
            exact_sum("worked_days").alias("worked_days"),
            exact_sum("certain_worked_days").alias("certain_worked_days"),
            exact_sum(F.when(is_unreported_wage, F.col("worked_days")).otherwise(F.lit(0.0))).alias(
                "unreported_worked_days"
            ),
            exact_sum(F.when(is_unreported_wage, F.col("certain_worked_days")).otherwise(F.lit(0.0))).alias(
                "unreported_certain_days"
            ),
            exact_sum("attributable_income").alias("attributable_income"),
            F.array_sort(F.collect_set("record_id")).alias("income_record_ids"),
            F.array_sort(F.collect_set(ordered_statement)).alias("statements"),
        )
        .select(
            "cert_id",
            "worked_days",
            "certain_worked_days",
            "unreported_worked_days",
            "unreported_certain_days",
            F.round("attributable_income", 0).cast("bigint").alias("attributable_income"),
            "income_record_ids",
            F.array_join(
                F.array_distinct(F.transform("statements", lambda statement: statement.getField("phrase"))),
                ", ",
            ).alias("income_evidence"),
        )
    )


def abroad_on_cert_day(certifications: DataFrame, trips: DataFrame) -> DataFrame:
    """Certifications x trips -> one row per certification made while the claimant was
    abroad (is_abroad) or possibly abroad (is_possibly_abroad), with the crossings and
    a readable account of the trips."""
    trip_days = trips.select(
        F.col("person_key").alias("trip_person_key"),
        "abroad_from",
        "abroad_to",
        "possibly_abroad_from",
        "possibly_abroad_to",
        "crossing_ids",
        "trip_evidence",
    )
    same_person = F.col("trip_person_key") == F.col("person_key")
    certainly_abroad = F.col("cert_on").between(F.col("abroad_from"), F.col("abroad_to"))
    possibly_abroad = F.col("cert_on").between(F.col("possibly_abroad_from"), F.col("possibly_abroad_to"))
    matched = certifications.select("cert_id", "person_key", "cert_on").join(
        trip_days, on=same_person & (certainly_abroad | F.coalesce(possibly_abroad, F.lit(False))), how="inner"
    )
    # Certain trips first in the account; within each, by departure.
    trip_account = F.struct(
        (~certainly_abroad).alias("is_only_possible"),
        F.coalesce(F.col("abroad_from"), F.col("possibly_abroad_from")).alias("from_day"),
        F.col("trip_evidence").alias("text"),
    )
    return (
        matched.groupBy("cert_id")
        .agg(
            F.bool_or(certainly_abroad).alias("is_abroad"),
            F.bool_or(possibly_abroad & ~certainly_abroad).alias("is_possibly_abroad"),
            F.array_sort(F.array_distinct(F.flatten(F.collect_list("crossing_ids")))).alias("crossing_ids"),
            F.array_sort(F.collect_set(trip_account)).alias("trip_accounts"),
        )
        .select(
            "cert_id",
            "is_abroad",
            F.coalesce(F.col("is_possibly_abroad"), F.lit(False)).alias("is_possibly_abroad"),
            "crossing_ids",
            F.array_join(F.transform("trip_accounts", lambda account: account.getField("text")), " and ").alias(
                "abroad_evidence"
            ),
        )
    )


def certification_features(
    certifications: DataFrame,
    claims: DataFrame,
    income: DataFrame,
    workplaces: DataFrame,
    employments: DataFrame,
    trips: DataFrame,
    as_of: dt.date,
    employment_covered_from: dt.date | None = None,
) -> DataFrame:
    """The conformed tables -> one row per certification (CERTIFICATION_FEATURE_COLUMNS).
    `employment_covered_from`: where the employment feed's span begins
    (features/coverage.py); a payer's silence about insured employment counts only
    after it (None: nowhere).

    Certifications without income evidence have 0 worked days and no statements;
    those without a trip on the day are not abroad.
    """
    base = claimed_certifications(certifications, claims)
    statements = income_in_periods(base, income, workplaces, employments, as_of, employment_covered_from)
    evidence = income_evidence(statements)
    abroad = abroad_on_cert_day(base, trips)
    joined = base.join(evidence, on="cert_id", how="left").join(abroad, on="cert_id", how="left")

    is_remote_channel = F.col("channel").isin(*REMOTE_CHANNELS)
    has_foreign_ip = F.coalesce(F.col("ip_country") != F.lit(HOME_COUNTRY), F.lit(False))

    def days_in_period(name: str) -> Column:
        """A count of days, 0 without evidence, at most the period's days, rounded."""
        capped = F.least(F.coalesce(F.col(name), F.lit(0.0)), F.col("period_days").cast("double"))
        return F.round(capped, 2).alias(name)

    return joined.select(
        "cert_id",
        "claim_id",
        "person_key",
        "workplace_id",
        "cert_on",
        "period_from",
        "period_to",
        "period_days",
        "channel",
        "ip_country",
        is_remote_channel.alias("is_remote_channel"),
        has_foreign_ip.alias("has_foreign_ip"),
        "declared_income",
        "paid_days",
        "paid_amount",
        days_in_period("worked_days"),
        days_in_period("certain_worked_days"),
        days_in_period("unreported_worked_days"),
        days_in_period("unreported_certain_days"),
        F.coalesce(F.col("attributable_income"), F.lit(0).cast("bigint")).alias("attributable_income"),
        F.coalesce(F.col("income_record_ids"), F.array().cast("array<string>")).alias("income_record_ids"),
        F.coalesce(F.col("income_evidence"), F.lit("")).alias("income_evidence"),
        F.coalesce(F.col("is_abroad"), F.lit(False)).alias("is_abroad"),
        F.coalesce(F.col("is_possibly_abroad"), F.lit(False)).alias("is_possibly_abroad"),
        F.coalesce(F.col("crossing_ids"), F.array().cast("array<string>")).alias("crossing_ids"),
        F.coalesce(F.col("abroad_evidence"), F.lit("")).alias("abroad_evidence"),
    )


def presence_in_korea(
    certifications: DataFrame,
    claims: DataFrame,
    income: DataFrame | None = None,
    employments: DataFrame | None = None,
    as_of: dt.date | None = None,
    within: DataFrame | None = None,
) -> DataFrame:
    """When a person was certainly in Korea at some time, from records other than the
    crossings -> (person_key, present_from, present_on, presence): in Korea on a day in
    `present_from..present_on`, and what shows it.

    - an in-person (VISIT) certification at a job centre, on its day;
    - insured employment that began (acquired_on), on its day;
    - wage or daily-wage work on an income statement filed by `as_of`, some day of its
      work window (a statement of no work days shows nothing).
    A trip whose IN is missing is contradicted by any of them after its OUT
    (features/trips.py). `within` (person_key, span_from, span_to): only the records
    with a window after the first span_from and up to the last span_to of their
    person's spans are read (the trips' days, features/trips.py:trip_spans: no other
    record can contradict a trip); None: every record."""

    # The others' records are left out before the evidence text is written: a night's
    # statements are millions, those inside a trip a small part of them. One span per
    # traveller (first OUT day to last day abroad), a key set broadcast up to
    # BROADCAST_MAX_ROWS as the travellers were: the history is scanned, and a record
    # outside every trip but between two of them is left to the trips' own join.
    spans = None
    if within is not None:
        spans = join_keys(
            within.groupBy(F.col("person_key").alias("_person_key")).agg(
                F.min("span_from").alias("_span_from"), F.max("span_to").alias("_span_to")
            )
        )

    def theirs(records: DataFrame, present_from: str, present_on: str) -> DataFrame:
        if spans is None:
            return records
        inside_the_span = (
            (F.col("_person_key") == F.col("person_key"))
            & (F.col(present_from) > F.col("_span_from"))
            & (F.col(present_on) <= F.col("_span_to"))
        )
        return records.join(spans, on=inside_the_span, how="left_semi")

    is_in_person = F.col("channel") == "VISIT"
    visits = theirs(
        certifications.where(is_in_person).join(claims.select("claim_id", "person_key"), on="claim_id", how="inner"),
        "cert_on",
        "cert_on",
    ).select(
        "person_key",
        F.col("cert_on").alias("present_from"),
        F.col("cert_on").alias("present_on"),
        F.format_string("in-person certification %s", F.col("cert_on").cast("string")).alias("presence"),
    )
    frames = [visits]
    if employments is not None:
        frames.append(
            theirs(employments, "acquired_on", "acquired_on").select(
                "person_key",
                F.col("acquired_on").alias("present_from"),
                F.col("acquired_on").alias("present_on"),
                F.format_string(
                    "insured employment began %s at %s", F.col("acquired_on").cast("string"), F.col("workplace_id")
                ).alias("presence"),
            )
        )
    if income is not None:
        worked = F.coalesce(F.col("work_days") > 0, F.lit(True))
        filed = F.lit(True) if as_of is None else F.col("filed_on") <= F.lit(as_of)
        frames.append(
            theirs(
                income.where(F.col("income_type").isin(*WAGE_TYPES) & worked & filed), "work_from", "work_to"
            ).select(
                "person_key",
                F.col("work_from").alias("present_from"),
                F.col("work_to").alias("present_on"),
                F.format_string(
                    "%s work %s..%s for payer %s",
                    F.lower("income_type"),
                    F.col("work_from").cast("string"),
                    F.col("work_to").cast("string"),
                    F.col("payer_business_no"),
                ).alias("presence"),
            )
        )
    presence = frames[0]
    for more in frames[1:]:
        presence = presence.unionByName(more)
    return presence.distinct()
