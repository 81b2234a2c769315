"""What the flagged claimants are owed: a random control sample, the statistics that
say how precise the queue is and how much it misses, and the fairness of referrals.

Investigators' decisions are labels only for what was flagged. A random sample of the
claims the queue left out, decided like cases, says how much fraud the queue misses;
together with the decisions on queued cases it gives the queue's precision. Both come
with a 95% interval (Wilson), since a handful of decisions proves little.

Fairness: for each dimension the feeds allow (the workplace's region and industry,
the separation code, the certification channel, the benefit's size), each group's
share of the queue against its share of the claims the queue was drawn from (the
referral ratio) and, once there are decisions, each group's confirmed rate against
everyone's (the outcome disparity). A group is flagged when its ratio lies outside
0.8-1.25 (the four-fifths rule and its inverse) *and* an exact binomial test finds the
difference significant at 5% after a Bonferroni correction over the groups tested,
so that a small group's noise is not flagged.

The pure statistics take and return plain numbers; the DataFrame functions take and
return DataFrames. No I/O.
"""

from __future__ import annotations

import datetime as dt
import math

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fraud.proportions import wilson

RATIO_LOW, RATIO_HIGH = 0.8, 1.25
SIGNIFICANCE = 0.05
CONTROL = "control"
QUEUE = "queue"

# The dimensions fairness is measured on, and where each comes from.
DIMENSIONS = {
    "region": "the workplace's region_code (ei/workplaces)",
    "industry": "the workplace's industry_code (ei/workplaces)",
    "separation": "the claim's separation_code (ei/claims)",
    "channel": "the channel most of the claim's certifications used (ei/certifications)",
    "benefit_band": "the claim's entitlement (daily_amount x benefit_days) by quartile of the night's claims",
}
CONTROL_COLUMNS = ("draw_order", "case_id", "claim_id", "person_key", "workplace_id", "filed_on", "draw_key")
FAIRNESS_COLUMNS = (
    "dimension",
    "group",
    "claims",
    "queued",
    "claim_share",
    "queue_share",
    "referral_ratio",
    "referral_p",
    "referral_flagged",
    "decided",
    "confirmed",
    "confirmed_rate",
    "outcome_ratio",
    "outcome_p",
    "outcome_flagged",
)
RATE_COLUMNS = ("kind", "subject", "count", "decided", "confirmed", "cleared", "rate", "rate_low", "rate_high")


# --- statistics --------------------------------------------------------------------


def _log_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)


def binomial_p(k: int, n: int, p: float) -> float:
    """The exact two-sided p-value of k successes in n trials of probability p: the
    probability of an outcome no more likely than k (the method of R's binom.test)."""
    if n <= 0:
        return 1.0
    observed = _log_pmf(k, n, p)
    if observed == -math.inf:
        return 0.0
    tolerance = 1e-7  # outcomes as likely as k, up to rounding, count as extreme
    total = sum(
        math.exp(log_pmf)
        for i in range(n + 1)
        if (log_pmf := _log_pmf(i, n, p)) <= observed + tolerance and log_pmf > -745  # exp() of less is 0
    )
    return min(1.0, total)


def rate_row(kind: str, subject: str, count: int, confirmed: int, cleared: int) -> dict:
    """One RATE_COLUMNS row: how many were flagged (`count`) and what the decisions on
    them say, with the confirmed rate's 95% interval (empty without decisions)."""
    decided = confirmed + cleared
    interval = wilson(confirmed, decided)
    return {
        "kind": kind,
        "subject": subject,
        "count": count,
        "decided": decided,
        "confirmed": confirmed,
        "cleared": cleared,
        "rate": round(confirmed / decided, 4) if decided else None,
        "rate_low": round(interval[0], 4) if interval else None,
        "rate_high": round(interval[1], 4) if interval else None,
    }


def flagged(ratio: float | None, p_value: float | None, tests: int) -> bool:
    """Outside 0.8-1.25 and significant at 5% after Bonferroni over `tests` groups."""
    if ratio is None or p_value is None:
        return False
    outside = ratio < RATIO_LOW or ratio > RATIO_HIGH
    return outside and p_value < SIGNIFICANCE / max(tests, 1)


# --- the control sample ------------------------------------------------------------


def draw_key(ds: dt.date, claim_id: str) -> str:
    """The key a claim is drawn by on night `ds`: sha256 of "<ds>:<claim_id>". The
    sample is the candidates with the smallest keys: the same on every re-run, and an
    auditor can draw it again from the list of candidates alone."""
    import hashlib

    return hashlib.sha256(f"{ds.isoformat()}:{claim_id}".encode()).hexdigest()


def control_sample(candidates: DataFrame, ds: dt.date, size: int) -> list[dict]:
    """Candidates (claim_id, ...) -> the `size` with the smallest draw keys, in that
    order, each with `draw_key` and `draw_order` (1 = first drawn)."""
    keyed = candidates.withColumn("draw_key", F.sha2(F.concat(F.lit(f"{ds.isoformat()}:"), F.col("claim_id")), 256))
    chosen = keyed.orderBy("draw_key").limit(size).collect()
    return [dict(row.asDict(), draw_order=order) for order, row in enumerate(chosen, start=1)]


# --- fairness ----------------------------------------------------------------------


def claim_groups(
    claim_table: DataFrame, claims: DataFrame, workplaces: DataFrame, certifications: DataFrame
) -> DataFrame:
    """Per claim, its group in each dimension (DIMENSIONS) -> (claim_id, region,
    industry, separation, channel, entitlement). A value the feeds do not give is
    "unknown", never dropped."""
    channel_counts = certifications.groupBy("claim_id", "channel").agg(F.count(F.lit(1)).alias("n"))
    most = Window.partitionBy("claim_id").orderBy(F.col("n").desc(), F.col("channel"))
    channel = (
        channel_counts.withColumn("order", F.row_number().over(most))
        .where(F.col("order") == 1)
        .select("claim_id", "channel")
    )
    places = workplaces.select("workplace_id", "region_code", "industry_code")
    sizes = claims.select("claim_id", (F.col("daily_amount").cast("long") * F.col("benefit_days")).alias("entitlement"))
    unknown = F.lit("unknown")
    return (
        claim_table.select("claim_id", "workplace_id", "separation_code")
        .join(places, on="workplace_id", how="left")
        .join(channel, on="claim_id", how="left")
        .join(sizes, on="claim_id", how="left")
        .select(
            "claim_id",
            F.coalesce(F.col("region_code"), unknown).alias("region"),
            F.coalesce(F.col("industry_code"), unknown).alias("industry"),
            F.coalesce(F.col("separation_code"), unknown).alias("separation"),
            F.coalesce(F.col("channel"), F.lit("none")).alias("channel"),
            "entitlement",
        )
    )


def with_benefit_band(groups: DataFrame, population: DataFrame) -> tuple[DataFrame, list[int]]:
    """Groups -> groups with `benefit_band` (Q1..Q4 of the entitlement over the
    population: relative to the night's own claims), and the three cut points."""
    cuts_row = (
        groups.join(population, on="claim_id", how="left_semi")
        .where(F.col("entitlement").isNotNull())
        .agg(F.percentile(F.col("entitlement"), [0.25, 0.5, 0.75]).alias("cuts"))
        .first()
    )
    cuts = [int(c) for c in (cuts_row["cuts"] or [])] if cuts_row and cuts_row["cuts"] else []
    if not cuts:
        return groups.withColumn("benefit_band", F.lit("unknown")), []
    q1, q2, q3 = cuts
    entitlement = F.col("entitlement")
    band = (
        F.when(entitlement.isNull(), F.lit("unknown"))
        .when(entitlement <= q1, F.lit(f"Q1 (<= {q1})"))
        .when(entitlement <= q2, F.lit(f"Q2 (<= {q2})"))
        .when(entitlement <= q3, F.lit(f"Q3 (<= {q3})"))
        .otherwise(F.lit(f"Q4 (> {q3})"))
    )
    return groups.withColumn("benefit_band", band), cuts


def group_counts(groups: DataFrame, population: DataFrame, queued: DataFrame, decided: DataFrame) -> list[dict]:
    """Per dimension and group: claims in the population, queued claims, decided and
    confirmed queued claims. `decided`: (claim_id, confirmed boolean)."""
    marked = (
        groups.join(population.withColumn("in_population", F.lit(True)), on="claim_id", how="left")
        .join(queued.withColumn("is_queued", F.lit(True)), on="claim_id", how="left")
        .join(decided, on="claim_id", how="left")
        .where(F.col("in_population") | F.col("confirmed").isNotNull())
    )
    # One row per claim and dimension, so that one aggregation counts every group.
    melted = marked.select(
        "in_population",
        "is_queued",
        "confirmed",
        F.explode(
            F.array(
                *(F.struct(F.lit(d).alias("dimension"), F.col(d).cast("string").alias("group")) for d in DIMENSIONS)
            )
        ).alias("cell"),
    )
    union = melted.groupBy(F.col("cell.dimension").alias("dimension"), F.col("cell.group").alias("group")).agg(
        F.count(F.when(F.col("in_population"), 1)).alias("claims"),
        F.count(F.when(F.col("in_population") & F.col("is_queued"), 1)).alias("queued"),
        F.count(F.col("confirmed")).alias("decided"),
        F.count(F.when(F.col("confirmed"), 1)).alias("confirmed"),
    )
    return [row.asDict() for row in union.orderBy("dimension", "group").collect()]


def fairness_rows(counts: list[dict]) -> list[dict]:
    """Group counts (`group_counts`) -> FAIRNESS_COLUMNS rows: the referral ratio and,
    with decisions, the outcome ratio, each with its exact binomial p-value and
    whether it is flagged (`flagged`, Bonferroni over the groups with a ratio)."""
    total_claims = {}
    total_queued = {}
    total_decided = {}
    total_confirmed = {}
    for row in counts:
        d = row["dimension"]
        total_claims[d] = total_claims.get(d, 0) + row["claims"]
        total_queued[d] = total_queued.get(d, 0) + row["queued"]
        total_decided[d] = total_decided.get(d, 0) + row["decided"]
        total_confirmed[d] = total_confirmed.get(d, 0) + row["confirmed"]
    rows = []
    for row in counts:
        d = row["dimension"]
        claims, queued, decided, confirmed = row["claims"], row["queued"], row["decided"], row["confirmed"]
        claim_share = claims / total_claims[d] if total_claims[d] else None
        queue_share = queued / total_queued[d] if total_queued[d] else None
        referral = queue_share / claim_share if claim_share and queue_share is not None else None
        referral_p = binomial_p(queued, total_queued[d], claim_share) if referral is not None else None
        overall = total_confirmed[d] / total_decided[d] if total_decided[d] else None
        rate = confirmed / decided if decided else None
        outcome = rate / overall if rate is not None and overall else None
        outcome_p = binomial_p(confirmed, decided, overall) if outcome is not None else None
        rows.append(
            {
                "dimension": d,
                "group": row["group"],
                "claims": claims,
                "queued": queued,
                "claim_share": claim_share,
                "queue_share": queue_share,
                "referral_ratio": referral,
                "referral_p": referral_p,
                "decided": decided,
                "confirmed": confirmed,
                "confirmed_rate": rate,
                "outcome_ratio": outcome,
                "outcome_p": outcome_p,
            }
        )
    referral_tests = sum(1 for r in rows if r["referral_ratio"] is not None)
    outcome_tests = sum(1 for r in rows if r["outcome_ratio"] is not None)
    for r in rows:
        r["referral_flagged"] = flagged(r["referral_ratio"], r["referral_p"], referral_tests)
        r["outcome_flagged"] = flagged(r["outcome_ratio"], r["outcome_p"], outcome_tests)
        for key in ("claim_share", "queue_share", "referral_ratio", "confirmed_rate", "outcome_ratio"):
            r[key] = None if r[key] is None else round(r[key], 4)
        for key in ("referral_p", "outcome_p"):
            r[key] = None if r[key] is None else float(f"{r[key]:.4g}")
    return [{name: r[name] for name in FAIRNESS_COLUMNS} for r in rows]
