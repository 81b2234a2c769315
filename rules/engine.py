"""The one rule engine: rules (rules/ruleset.py) -> Spark expressions -> hits -> the
investigation queue (cases.csv, OUTPUTS.md).

- `rule_hits` evaluates the rules of one level over a feature DataFrame and returns one
  row per fired rule and feature row, with the rule's attributes and its evidence text.
- `combine_scores` is the single place where rule severities (and, when a model is
  in use, its calibrated probability) become a score.
- `cases` turns a claim's hits into one case: stable case_id, fraud types, rule ids,
  reasons, score, estimated overpayment and a gap-free rank.
- `case_evidence` keeps, per case, the certifications and records behind each hit.
"""

from __future__ import annotations

from typing import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from rules.ruleset import ESTIMATED, LEAD, PROVEN, Rule

LIST_SEPARATOR = ";"  # OUTPUTS.md: fraud_types, rule_hits and reasons are ';'-separated
CASE_ID_HEX_DIGITS = 16
SCORE_DECIMALS = 4
# The highest score of a case without proof: rounding to SCORE_DECIMALS must never lift
# one to 0.5, where the proven cases begin.
MAX_UNPROVEN_SCORE = 0.4999
MODEL_REASON_PREFIX = "model: "
MODEL_SCORE_COLUMNS = ("claim_id", "model_probability", "model_reasons")

HIT_COLUMNS = (
    "rule_id",
    "typology",
    "severity",
    "taints",
    "invalidates_claim",
    "aggravates_only",
    "standard",
    "proves_if_confirmed",
    "evidence",
    "grade",
)

CASE_COLUMNS = (
    "case_id",
    "claim_id",
    "person_key",
    "workplace_id",
    "score",
    "rank",
    "fraud_types",
    "rule_hits",
    "reasons",
    "estimated_overpayment",
    "ring_id",
    # Beyond OUTPUTS.md: the case's evidence standard (proven, estimated or lead) and
    # the overpayment if its estimates were confirmed (>= estimated_overpayment, which
    # counts proven evidence only).
    "evidence_standard",
    "overpayment_if_confirmed",
)

EVIDENCE_COLUMNS = (
    "case_id",
    "claim_id",
    "person_key",
    "rule_id",
    "typology",
    "standard",
    "taints",
    "cert_id",
    "cert_on",
    "period_from",
    "period_to",
    "channel",
    "ip_country",
    "declared_income",
    "paid_amount",
    "worked_days",
    "certain_worked_days",
    "attributable_income",
    "income_record_ids",
    "crossing_ids",
    "evidence",
)


def _fires(rule: Rule) -> Column:
    return F.coalesce(F.expr(rule.condition), F.lit(False))


def _reason(rule: Rule) -> Column:
    """A hit's reason: its evidence standard, what the records say and, for a rule
    that is not proven, what would settle it."""
    evidence = F.coalesce(F.expr(rule.evidence), F.lit(rule.title))
    parts = [F.lit(f"{rule.standard}: "), evidence]
    if rule.settle:
        parts.append(F.lit(f" — to settle: {rule.settle}"))
    # A ';' inside one reason would split it into two in the output.
    return F.regexp_replace(F.concat(*parts), LIST_SEPARATOR, ",")


def _hit(rule: Rule, fires: Column) -> Column:
    return F.when(
        fires,
        F.struct(
            F.lit(rule.rule_id).alias("rule_id"),
            F.lit(rule.typology).cast("string").alias("typology"),
            F.lit(rule.severity).cast("double").alias("severity"),
            F.lit(rule.taints).alias("taints"),
            F.lit(rule.invalidates_claim).alias("invalidates_claim"),
            F.lit(rule.aggravates_only).alias("aggravates_only"),
            F.lit(rule.standard).alias("standard"),
            F.lit(rule.proves_if_confirmed).alias("proves_if_confirmed"),
            _reason(rule).alias("evidence"),
            (F.lit(None) if rule.grade is None else F.expr(rule.grade)).cast("double").alias("grade"),
        ),
    )


def rule_hits(features: DataFrame, rules: Sequence[Rule], level: str, keys: Sequence[str]) -> DataFrame:
    """features (one row per certification or claim) -> one row per (feature row,
    fired rule of `level`): `keys` followed by HIT_COLUMNS."""
    level_rules = [rule for rule in rules if rule.level == level]
    if not level_rules:
        return features.select(*keys, *(F.lit(None).alias(name) for name in HIT_COLUMNS)).where(F.lit(False))
    condition_of = {rule.rule_id: _fires(rule) for rule in level_rules}
    fired = {
        rule.rule_id: condition_of[rule.rule_id] & condition_of[rule.strengthens]
        if rule.strengthens
        else condition_of[rule.rule_id]
        for rule in level_rules
    }
    possible_hits = F.array(*(_hit(rule, fired[rule.rule_id]) for rule in level_rules))
    actual_hits = F.filter(possible_hits, lambda hit: hit.isNotNull())
    return features.select(*keys, F.explode(actual_hits).alias("hit")).select(
        *keys, *(F.col(f"hit.{name}").alias(name) for name in HIT_COLUMNS)
    )


def rule_strength(severities: Column) -> Column:
    """The severities of the distinct rules a claim hit -> the strength of the rule
    evidence, s = 1 - Π(1 - severity) (noisy-OR: each rule is independent evidence,
    and s is the chance that not all of them are wrong)."""
    all_wrong = F.aggregate(severities, F.lit(1.0), lambda product, severity: product * (F.lit(1.0) - severity))
    return F.lit(1.0) - all_wrong


def combine_scores(severities: Column, proven: Column, model_probability: Column | None = None) -> Column:
    """The severities of the distinct rules a claim hit, whether one of them proves an
    overpayment (rules/ruleset.py) and, when a model is in use, the model's calibrated
    probability that the claim is fraud -> its score in 0..1. The only place that
    knows how evidence adds up.

    Without a model the evidence is the rules' strength, e = s (`rule_strength`).
    With a model, rules and model are two independent pieces of evidence and add up
    the same way (noisy-OR): e = 1 - (1 - s)(1 - p). A proven case scores
    (1 + e) / 2, in [0.5, 1]; any other e / 2, in [0, 0.5) (at most
    MAX_UNPROVEN_SCORE): the tiers stay, a proven case always ranks first, and within
    a tier the model moves a case up by how likely it finds fraud. p = 0 gives the
    rules' score.
    """
    strength = rule_strength(severities)
    if model_probability is None:
        return F.round(F.when(proven, (F.lit(1.0) + strength) / 2).otherwise(strength / 2), SCORE_DECIMALS)
    probability = F.coalesce(model_probability.cast("double"), F.lit(0.0))
    evidence = F.lit(1.0) - (F.lit(1.0) - strength) * (F.lit(1.0) - probability)
    return F.when(proven, F.round((F.lit(1.0) + evidence) / 2, SCORE_DECIMALS)).otherwise(
        F.least(F.round(evidence / 2, SCORE_DECIMALS), F.lit(MAX_UNPROVEN_SCORE))
    )


def case_id(claim_id: Column) -> Column:
    """Stable across runs: derived from the claim id only."""
    return F.concat(F.lit("C"), F.substring(F.sha2(claim_id, 256), 1, CASE_ID_HEX_DIGITS))


def _reasons_per_rule(hits: DataFrame) -> DataFrame:
    """One row per (claim, rule): the earliest hit's evidence, and how many more there are."""
    proves = F.col("taints") | F.col("invalidates_claim")
    return (
        hits.groupBy("claim_id", "rule_id", "typology", "severity", "aggravates_only", "standard")
        .agg(
            F.min_by("evidence", "evidence_order").alias("first_evidence"),
            F.count(F.lit(1)).alias("hit_count"),
            F.bool_or(proves).alias("proves"),
            F.max("grade").alias("grade"),
        )
        .select(
            "claim_id",
            "rule_id",
            "typology",
            "severity",
            "aggravates_only",
            "standard",
            "proves",
            "grade",
            F.when(
                F.col("hit_count") > 1,
                F.format_string("%s (+%d more)", F.col("first_evidence"), F.col("hit_count") - 1),
            )
            .otherwise(F.col("first_evidence"))
            .alias("reason"),
        )
    )


def cases(hits: DataFrame, claims: DataFrame, model_scores: DataFrame | None = None) -> DataFrame:
    """hits (claim_id, HIT_COLUMNS, evidence_order: the order of a claim's hits of one
    rule, e.g. the certified period), claims (claim_id, person_key, workplace_id,
    estimated_overpayment, ring_id) and, when a model is in use, its scores
    (MODEL_SCORE_COLUMNS: calibrated probability, reason codes in words) -> one row per
    claim hit by a rule that makes a case (CASE_COLUMNS, then rule_strength,
    rules_score: the score without the model, model_probability, and the claim's most
    severe graded rule, its grade and `grade_place`), ranked 1..N by score, then
    the place of that grade among the cases graded by the same rule (Rule.grade: among
    cases whose rules weigh the same, the stronger pattern first), then estimated
    overpayment, then case_id. The model's reason codes follow the
    rules' reasons, each prefixed MODEL_REASON_PREFIX."""
    per_rule = _reasons_per_rule(hits)
    most_severe_first = F.struct(-F.col("severity"), F.col("rule_id"), F.col("reason"))
    graded_first = F.when(F.col("grade").isNotNull(), F.struct("severity", "rule_id"))
    per_claim = (
        per_rule.groupBy("claim_id")
        .agg(
            F.bool_or(~F.col("aggravates_only")).alias("makes_case"),
            F.bool_or(F.col("proves")).alias("proven"),
            F.bool_or((F.col("standard") == ESTIMATED) & ~F.col("aggravates_only")).alias("has_estimate"),
            F.array_sort(F.collect_list("rule_id")).alias("rule_ids"),
            F.array_sort(F.collect_set("typology")).alias("typologies"),
            F.array_sort(F.collect_list(most_severe_first)).alias("reasons_in_order"),
            # Sorted: a float product must not depend on the order rows arrive in.
            F.array_sort(F.collect_list("severity")).alias("severities"),
            # The claim's most severe graded rule, and its grade.
            F.max_by("rule_id", graded_first).alias("graded_rule"),
            F.max_by("grade", graded_first).alias("grade"),
        )
        .where(F.col("makes_case"))
    )
    rules_score = combine_scores(F.col("severities"), F.col("proven"))
    rule_reasons = F.transform("reasons_in_order", lambda reason: reason.getField("reason"))
    model_reasons = F.transform(
        F.coalesce(F.col("model_reasons"), F.array().cast("array<string>")),
        lambda reason: F.concat(F.lit(MODEL_REASON_PREFIX), F.regexp_replace(reason, LIST_SEPARATOR, ",")),
    )
    claim_cases = per_claim.join(
        claims.select(
            "claim_id", "person_key", "workplace_id", "estimated_overpayment", "overpayment_if_confirmed", "ring_id"
        ),
        on="claim_id",
        how="inner",
    )
    evidence_standard = (
        F.when(F.col("proven"), F.lit(PROVEN)).when(F.col("has_estimate"), F.lit(ESTIMATED)).otherwise(F.lit(LEAD))
    )
    if model_scores is None:
        with_model = claim_cases.select(
            "*",
            F.lit(None).cast("double").alias("model_probability"),
            F.lit(None).cast("array<string>").alias("model_reasons"),
        )
    else:
        with_model = claim_cases.join(model_scores.select(*MODEL_SCORE_COLUMNS), on="claim_id", how="left")
    scored = with_model.select(
        case_id(F.col("claim_id")).alias("case_id"),
        "claim_id",
        "person_key",
        "workplace_id",
        F.when(F.col("model_probability").isNull(), rules_score)
        .otherwise(combine_scores(F.col("severities"), F.col("proven"), F.col("model_probability")))
        .alias("score"),
        F.array_join("typologies", LIST_SEPARATOR).alias("fraud_types"),
        F.array_join("rule_ids", LIST_SEPARATOR).alias("rule_hits"),
        F.array_join(F.concat(rule_reasons, model_reasons), LIST_SEPARATOR).alias("reasons"),
        "estimated_overpayment",
        "ring_id",
        evidence_standard.alias("evidence_standard"),
        F.greatest("overpayment_if_confirmed", "estimated_overpayment").alias("overpayment_if_confirmed"),
        F.round(rule_strength(F.col("severities")), SCORE_DECIMALS).alias("rule_strength"),
        rules_score.alias("rules_score"),
        "model_probability",
        "graded_rule",
        "grade",
    ).withColumn("grade_place", grade_place(F.col("graded_rule"), F.col("grade")))
    queue_order = Window.orderBy(
        F.col("score").desc(), F.col("grade_place").desc(), F.col("estimated_overpayment").desc(), F.col("case_id")
    )
    return scored.select(
        "case_id",
        "claim_id",
        "person_key",
        "workplace_id",
        "score",
        F.row_number().over(queue_order).alias("rank"),
        "fraud_types",
        "rule_hits",
        "reasons",
        "estimated_overpayment",
        "ring_id",
        "evidence_standard",
        "overpayment_if_confirmed",
        "rule_strength",
        "rules_score",
        "model_probability",
        "graded_rule",
        "grade",
        "grade_place",
    )


def grade_place(graded_rule: Column, grade: Column) -> Column:
    """Where a case's grade stands among the night's cases graded by the same rule, in
    0..1: the share of them with a lower grade, those with the same counted half (a
    mid-rank; one case alone stands at 0.5). A case with no graded rule stands at 0.5.
    Grades of different rules are in different units (layoffs, days); their places
    compare: among cases of one score, the stronger pattern of its kind first."""
    of_rule = Window.partitionBy(graded_rule)
    lower = F.rank().over(of_rule.orderBy(grade)) - 1
    same = F.count(F.lit(1)).over(Window.partitionBy(graded_rule, grade))
    place = (lower + same / 2) / F.count(F.lit(1)).over(of_rule)
    return F.when(graded_rule.isNull(), F.lit(0.5)).otherwise(F.round(place, 6))


def case_evidence(
    cases_df: DataFrame, certification_hits: DataFrame, claim_hits: DataFrame, certification_features: DataFrame
) -> DataFrame:
    """The details behind each case (EVIDENCE_COLUMNS): one row per hit, with the
    certification it fired on (null for claim-level hits), the income statements and
    crossings it rests on."""
    subjects = cases_df.select("case_id", "claim_id", "person_key")
    certification_details = certification_features.select(
        "cert_id",
        "cert_on",
        "period_from",
        "period_to",
        "channel",
        "ip_country",
        "declared_income",
        "paid_amount",
        "worked_days",
        "certain_worked_days",
        "attributable_income",
        "income_record_ids",
        "crossing_ids",
    )
    on_certifications = certification_hits.select("claim_id", "cert_id", *HIT_COLUMNS).join(
        certification_details, on="cert_id", how="inner"
    )
    on_claims = claim_hits.select(
        "claim_id",
        *HIT_COLUMNS,
        *(F.lit(None).cast(field.dataType).alias(field.name) for field in certification_details.schema.fields),
    )
    every_hit = on_certifications.select("claim_id", *HIT_COLUMNS, *certification_details.columns).unionByName(
        on_claims
    )
    return every_hit.join(subjects, on="claim_id", how="inner").select(*EVIDENCE_COLUMNS)
