"""Per-claim roll-up: the estimated overpayment from the tainted certifications, the
claimant's earlier findings, and the repeat-offender list (반복 부정수급자).

Overpayment (DOMAIN.md): benefits stop from the first fraudulent act, so a claim's
overpayment is the `paid_amount` of its first tainted certification and of every
later one, "first" and "later" in the order of the certified periods
(`period_from`, then `period_to`, `cert_on`, `cert_id`). Which certifications are
tainted is decided by the rules (a rule with `taints=True`), not here.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

OPEN_CLAIM_STATUSES = ("FILED", "APPROVED")

# 수급자격 제한: repeat offenders lose eligibility (DOMAIN.md).
ACTION_REVIEW = "eligibility restriction review (수급자격 제한 검토)"
ACTION_SUSPECTED_NOW = (
    "priority investigation: suspected again on the open claim; hold payments and "
    "review eligibility restriction (지급 보류 및 수급자격 제한 검토)"
)

OVERPAYMENT_COLUMNS = (
    "claim_id",
    "first_tainted_cert_id",
    "first_tainted_period_from",
    "tainted_cert_ids",
    "estimated_overpayment",
)

CLAIM_FEATURE_COLUMNS = (
    "claim_id",
    "person_key",
    "workplace_id",
    "status",
    "filed_on",
    "is_open",
    "estimated_overpayment",
    "overpayment_if_confirmed",
    "first_tainted_cert_id",
    "tainted_cert_ids",
    "prior_findings",
    "last_decided_on",
    "prior_fraud_types",
)

REPEAT_OFFENDER_COLUMNS = (
    "person_key",
    "prior_findings",
    "last_decided_on",
    "open_claim_id",
    "suspected_now",
    "recommended_action",
)


def overpayment(certifications: DataFrame, tainted: DataFrame) -> DataFrame:
    """certifications (cert_id, claim_id, cert_on, period_from, period_to, paid_amount)
    and tainted (cert_id of each tainted certification) -> one row per claim with a
    tainted certification (OVERPAYMENT_COLUMNS)."""
    tainted_ids = tainted.select("cert_id").distinct().withColumn("is_tainted", F.lit(True))
    flagged = certifications.join(tainted_ids, on="cert_id", how="left").select(
        "claim_id",
        "cert_id",
        "period_from",
        "period_to",
        "cert_on",
        "paid_amount",
        F.coalesce(F.col("is_tainted"), F.lit(False)).alias("is_tainted"),
    )
    up_to_here_in_period_order = (
        Window.partitionBy("claim_id")
        .orderBy("period_from", "period_to", "cert_on", "cert_id")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    is_from_first_tainted_on = F.max(F.col("is_tainted").cast("int")).over(up_to_here_in_period_order) == 1
    in_period_order = F.struct("period_from", "period_to", "cert_on", "cert_id")
    tainted_in_order = F.when(F.col("is_tainted"), in_period_order)
    return (
        flagged.withColumn("is_from_first_tainted_on", is_from_first_tainted_on)
        .groupBy("claim_id")
        .agg(
            F.sum(F.when(F.col("is_from_first_tainted_on"), F.col("paid_amount")).otherwise(F.lit(0))).alias(
                "estimated_overpayment"
            ),
            F.min(tainted_in_order).alias("first_tainted"),
            F.array_sort(F.collect_list(tainted_in_order)).alias("tainted_in_order"),
        )
        .where(F.col("first_tainted").isNotNull())
        .select(
            "claim_id",
            F.col("first_tainted.cert_id").alias("first_tainted_cert_id"),
            F.col("first_tainted.period_from").alias("first_tainted_period_from"),
            F.transform("tainted_in_order", lambda cert: cert.getField("cert_id")).alias("tainted_cert_ids"),
            F.col("estimated_overpayment").cast("bigint").alias("estimated_overpayment"),
        )
    )


def decided_claims(findings: DataFrame, as_of: dt.date) -> DataFrame:
    """findings -> (claim_id) of every claim with a finding decided on or before `as_of`."""
    return (
        findings.where(F.col("claim_id").isNotNull() & (F.col("decided_on") <= F.lit(as_of)))
        .select("claim_id")
        .distinct()
    )


# 고용보험법 제107조: the right to recover benefits paid (구직급여를 반환받을 권리) lapses
# three years after it could first be exercised, taken here as the day of payment.
RECOVERY_LIMITATION_MONTHS = 36


def time_barred_claims(certifications: DataFrame, as_of: dt.date) -> DataFrame:
    """certifications (claim_id, cert_on, paid_amount) -> (claim_id) of the claims whose
    every payment was made more than RECOVERY_LIMITATION_MONTHS before `as_of`: nothing
    paid on them can be recovered any more, so they are no case for the queue."""
    limit = F.add_months(F.lit(as_of), -RECOVERY_LIMITATION_MONTHS)
    return (
        certifications.where(F.col("paid_amount") > 0)
        .groupBy("claim_id")
        .agg(F.max("cert_on").alias("last_paid_on"))
        .where(F.col("last_paid_on") < limit)
        .select("claim_id")
    )


def total_paid(certifications: DataFrame) -> DataFrame:
    """certifications (claim_id, paid_amount) -> (claim_id, total_paid): everything paid
    on each claim, what a claim that was never valid owes."""
    return certifications.groupBy("claim_id").agg(F.sum("paid_amount").cast("bigint").alias("total_paid"))


def with_invalidated_claims(claims: DataFrame, claim_hits: DataFrame) -> DataFrame:
    """claims (claim_id, estimated_overpayment, overpayment_if_confirmed, total_paid,
    ...) and the claim-level rule hits -> the same claims with `is_invalidated` and the
    overpayment DOMAIN.md asks for: a claim that was never valid (FALSE_SEPARATION,
    GHOST_EMPLOYMENT) owes everything paid on it; where that and tainted certifications
    both apply, the larger wins. The overpayment if estimates were confirmed counts the
    claim-level leads that would invalidate it (`proves_if_confirmed`) too."""
    invalidated = claim_hits.groupBy("claim_id").agg(
        F.bool_or("invalidates_claim").alias("_invalid"),
        F.bool_or(F.col("invalidates_claim") | F.col("proves_if_confirmed")).alias("_invalid_if_confirmed"),
    )
    is_invalidated = F.coalesce(F.col("_invalid"), F.lit(False))
    everything_paid = F.coalesce(F.col("total_paid"), F.lit(0).cast("bigint"))
    owed_if_invalid = F.when(is_invalidated, everything_paid).otherwise(F.lit(0).cast("bigint"))
    owed_if_confirmed = F.when(F.coalesce(F.col("_invalid_if_confirmed"), F.lit(False)), everything_paid).otherwise(
        F.lit(0).cast("bigint")
    )
    return (
        claims.join(invalidated, on="claim_id", how="left")
        .withColumn("is_invalidated", is_invalidated)
        .withColumn("estimated_overpayment", F.greatest(F.col("estimated_overpayment"), owed_if_invalid))
        .withColumn(
            "overpayment_if_confirmed",
            F.greatest(F.col("overpayment_if_confirmed"), F.col("estimated_overpayment"), owed_if_confirmed),
        )
        .drop("_invalid", "_invalid_if_confirmed")
    )


def prior_findings(claims: DataFrame, findings: DataFrame, as_of: dt.date) -> DataFrame:
    """Per claim, the claimant's earlier findings (부정수급 처분): decided before the
    claim was filed, or about another, earlier claim. A finding about the claim itself
    is not earlier. -> (claim_id, prior_findings, last_decided_on, prior_fraud_types)
    for claims with at least one."""
    claim_subjects = claims.select("claim_id", "person_key", "filed_on")
    filed_dates = claims.select(
        F.col("claim_id").alias("finding_claim_id"), F.col("filed_on").alias("finding_claim_filed_on")
    )
    decided_findings = (
        findings.where(F.col("decided_on") <= F.lit(as_of))
        .select(
            F.col("person_key").alias("finding_person_key"),
            "finding_id",
            F.col("claim_id").alias("finding_claim_id"),
            "fraud_type",
            "decided_on",
        )
        .join(filed_dates, on="finding_claim_id", how="left")
    )
    decided_before_filing = F.col("decided_on") < F.col("filed_on")
    is_about_an_earlier_claim = (
        F.col("finding_claim_id").isNotNull()
        & (F.col("finding_claim_id") != F.col("claim_id"))
        & F.coalesce(F.col("finding_claim_filed_on") < F.col("filed_on"), F.lit(True))
    )
    same_person = F.col("finding_person_key") == F.col("person_key")
    return (
        claim_subjects.join(decided_findings, on=same_person, how="inner")
        .where(decided_before_filing | is_about_an_earlier_claim)
        .groupBy("claim_id")
        .agg(
            F.count_distinct("finding_id").alias("prior_findings"),
            F.max("decided_on").alias("last_decided_on"),
            F.array_sort(F.collect_set("fraud_type")).alias("prior_fraud_types"),
        )
        .select(
            "claim_id",
            F.col("prior_findings").cast("bigint").alias("prior_findings"),
            "last_decided_on",
            "prior_fraud_types",
        )
    )


def claim_features(
    claims: DataFrame, overpayments: DataFrame, priors: DataFrame, if_confirmed: DataFrame | None = None
) -> DataFrame:
    """Claims with their overpayment and earlier findings (CLAIM_FEATURE_COLUMNS);
    claims without tainted certifications owe 0, claimants without findings have 0.
    `if_confirmed` (OVERPAYMENT_COLUMNS): the overpayments were the estimated taints
    confirmed too (`overpayment_if_confirmed`; the proven one where absent)."""
    is_open = F.col("status").isin(*OPEN_CLAIM_STATUSES)
    confirmed = (if_confirmed if if_confirmed is not None else overpayments).select(
        "claim_id", F.col("estimated_overpayment").alias("_if_confirmed")
    )
    return (
        claims.join(overpayments, on="claim_id", how="left")
        .join(priors, on="claim_id", how="left")
        .join(confirmed, on="claim_id", how="left")
        .select(
            "claim_id",
            "person_key",
            "workplace_id",
            "status",
            "filed_on",
            is_open.alias("is_open"),
            F.coalesce(F.col("estimated_overpayment"), F.lit(0).cast("bigint")).alias("estimated_overpayment"),
            F.coalesce(F.col("_if_confirmed"), F.col("estimated_overpayment"), F.lit(0).cast("bigint")).alias(
                "overpayment_if_confirmed"
            ),
            "first_tainted_cert_id",
            F.coalesce(F.col("tainted_cert_ids"), F.array().cast("array<string>")).alias("tainted_cert_ids"),
            F.coalesce(F.col("prior_findings"), F.lit(0).cast("bigint")).alias("prior_findings"),
            "last_decided_on",
            F.coalesce(F.col("prior_fraud_types"), F.array().cast("array<string>")).alias("prior_fraud_types"),
        )
    )


def repeat_offenders(claims: DataFrame, cases: DataFrame) -> DataFrame:
    """claims (CLAIM_FEATURE_COLUMNS) and cases (claim_id of each case) -> one row per
    open claim of a person with earlier findings (REPEAT_OFFENDER_COLUMNS), whether
    that claim is suspected now, and what to do."""
    has_earlier_findings = F.col("prior_findings") > 0
    suspected = cases.select("claim_id").distinct().withColumn("is_case", F.lit(True))
    suspected_now = F.coalesce(F.col("is_case"), F.lit(False))
    recommended_action = F.when(suspected_now, F.lit(ACTION_SUSPECTED_NOW)).otherwise(F.lit(ACTION_REVIEW))
    return (
        claims.where(F.col("is_open") & has_earlier_findings)
        .join(suspected, on="claim_id", how="left")
        .select(
            "person_key",
            "prior_findings",
            "last_decided_on",
            F.col("claim_id").alias("open_claim_id"),
            suspected_now.alias("suspected_now"),
            recommended_action.alias("recommended_action"),
        )
    )
