"""The queue's order among cases whose rules weigh the same: the place of the pattern's
grade (Rule.grade) among the cases graded by the same rule, then the overpayment, then
case_id (rules/engine.py:cases)."""

from __future__ import annotations

from pyspark.sql import functions as F

from rules.engine import cases, rule_hits
from rules.ruleset import CLAIM, RULES

FS03 = next(rule for rule in RULES if rule.rule_id == "FS-03")
FS02 = next(rule for rule in RULES if rule.rule_id == "FS-02")
FS05 = next(rule for rule in RULES if rule.rule_id == "FS-05")

CLAIMS_SCHEMA = (
    "claim_id string, person_key string, workplace_id string, estimated_overpayment bigint, "
    "overpayment_if_confirmed bigint, ring_id string"
)


def _claims(spark, overpayments: dict[str, int]):
    return spark.createDataFrame(
        [(claim_id, f"P-{claim_id}", "W1", amount, amount, None) for claim_id, amount in overpayments.items()],
        CLAIMS_SCHEMA,
    )


def _layoff_features(spark, layoffs_together: dict[str, int]):
    """Claim-level features on which FS-03 fires for every claim, with its burst of
    `layoffs_together[claim_id]` layoffs."""
    return spark.createDataFrame(
        [
            (claim_id, "W1", "23", True, together, together, 20, 0.0, together * 2)
            for claim_id, together in layoffs_together.items()
        ],
        "claim_id string, workplace_id string, separation_code string, is_layoff_while_hiring boolean, "
        "layoffs_23_nearby bigint, layoffs_23_together bigint, headcount bigint, layoffs_23_expected double, "
        "hires_nearby bigint",
    )


def _ranked(queue) -> list[str]:
    return [row["claim_id"] for row in queue.orderBy("rank").collect()]


def _hits(features):
    return rule_hits(features, [FS03], CLAIM, ["claim_id"]).withColumn("evidence_order", features["claim_id"])


def test_a_bigger_burst_of_layoffs_ranks_above_a_smaller_one_of_the_same_score(spark):
    # The smaller bursts would win on the overpayment, which used to break the tie.
    features = _layoff_features(spark, {"small": 3, "big": 10, "middle": 4})
    queue = cases(_hits(features), _claims(spark, {"small": 9_000_000, "big": 6_000_000, "middle": 8_000_000}))
    rows = {row["claim_id"]: row for row in queue.collect()}
    assert {row["score"] for row in rows.values()} == {0.775}  # one rule: one score
    assert [rows[claim]["grade"] for claim in ("big", "middle", "small")] == [10.0, 4.0, 3.0]
    assert _ranked(queue) == ["big", "middle", "small"]


def test_a_grade_s_place_is_its_mid_rank_among_its_rule_s_cases(spark):
    features = _layoff_features(spark, {"a": 3, "b": 3, "c": 6})
    rows = {
        row["claim_id"]: row["grade_place"]
        for row in cases(_hits(features), _claims(spark, dict.fromkeys("abc", 1))).collect()
    }
    assert rows == {"a": round(1 / 3, 6), "b": round(1 / 3, 6), "c": round(5 / 6, 6)}  # (lower + same / 2) / n
    [alone] = cases(_hits(_layoff_features(spark, {"alone": 9})), _claims(spark, {"alone": 1})).collect()
    assert alone["grade_place"] == 0.5


def test_equal_grades_fall_back_to_the_overpayment_then_the_case_id(spark):
    features = _layoff_features(spark, {"a": 3, "b": 3, "c": 3})
    queue = cases(_hits(features), _claims(spark, {"a": 1_000, "b": 5_000, "c": 1_000}))
    by_case_id = sorted(["a", "c"], key=lambda claim: queue.where(f"claim_id = '{claim}'").first()["case_id"])
    assert _ranked(queue) == ["b", *by_case_id]


def test_the_grade_never_lifts_a_case_above_a_higher_score(spark):
    # FS-02 weighs more than FS-03: a rehire 200 days later still ranks above a burst of 50.
    burst = _hits(_layoff_features(spark, {"burst": 50}))
    rehire_features = spark.createDataFrame(
        [("rehire", "W1", True, "W1", "same workplace", 200)],
        "claim_id string, workplace_id string, is_rehired boolean, rehire_workplace_id string, "
        "rehire_relation string, gap int",
    ).selectExpr(
        "*",
        "date_add(date'2025-01-01', gap) AS rehired_on",
        "date'2025-01-01' AS spell_to",
        "CAST(NULL AS DATE) AS last_certified_to",
        "CAST(NULL AS DATE) AS benefit_end",
    )
    rehire = rule_hits(rehire_features, [FS02], CLAIM, ["claim_id"]).selectExpr("*", "'' AS evidence_order")
    queue = cases(burst.unionByName(rehire), _claims(spark, {"burst": 1, "rehire": 1}))
    rows = {row["claim_id"]: row for row in queue.collect()}
    assert rows["rehire"]["grade"] == -200.0
    assert rows["rehire"]["score"] > rows["burst"]["score"]
    assert _ranked(queue) == ["rehire", "burst"]


def test_grades_of_different_rules_compare_by_their_place_among_their_own_rule_s_cases(spark):
    """At one score an FS-05 lead (graded by layoffs) ties with GH-03 (no grade): the
    strongest FS-05 pattern of the night first, the case with no grade in the middle,
    the weakest FS-05 last, whatever the overpayments."""
    features = _layoff_features(spark, {"weak": 3, "strong": 6}).withColumn(
        "is_layoff_pattern_while_hiring", F.lit(True)
    )
    layoffs = rule_hits(features, [FS05], CLAIM, ["claim_id"])
    ungraded = spark.createDataFrame(
        [row.asDict() | {"claim_id": "shared-account", "rule_id": "GH-03", "grade": None} for row in layoffs.collect()],
        layoffs.schema,
    ).limit(1)
    hits = layoffs.unionByName(ungraded).withColumn("evidence_order", F.lit(""))
    queue = cases(hits, _claims(spark, {"weak": 9_000, "strong": 1_000, "shared-account": 5_000}))
    rows = {row["claim_id"]: row for row in queue.collect()}
    assert {row["score"] for row in rows.values()} == {0.225}  # one severity, both leads
    assert [rows[claim]["grade_place"] for claim in ("strong", "shared-account", "weak")] == [0.75, 0.5, 0.25]
    assert _ranked(queue) == ["strong", "shared-account", "weak"]


def test_a_claim_s_grade_is_its_most_severe_graded_rule_s(spark):
    features = _layoff_features(spark, {"both": 4}).selectExpr(
        "*",
        "true AS is_rehired",
        "workplace_id AS rehire_workplace_id",
        "'same workplace' AS rehire_relation",
        "date'2025-04-01' AS rehired_on",
        "date'2025-01-01' AS spell_to",
        "CAST(NULL AS DATE) AS last_certified_to",
        "CAST(NULL AS DATE) AS benefit_end",
    )
    hits = rule_hits(features, [FS02, FS03], CLAIM, ["claim_id"]).withColumn("evidence_order", F.lit(""))
    [row] = cases(hits, _claims(spark, {"both": 1})).collect()
    assert (row["rule_hits"], row["graded_rule"], row["grade"]) == ("FS-02;FS-03", "FS-02", -90.0)
