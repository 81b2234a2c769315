"""A cleared claim stays out of the queue until its evidence grows
(rules/cleared.py): one claim per way the evidence can grow, and one that did not."""

from __future__ import annotations


def test_only_cleared_claims_without_new_evidence_are_kept_out(spark):
    from rules.cleared import CLEARED_SCHEMA, current_evidence, still_cleared

    hits = spark.createDataFrame(
        [
            ("same", "UW-01"),
            ("new-cert", "UW-01"),
            ("new-rule", "UW-01"),
            ("new-rule", "AB-01"),
            ("ring-grew", "GH-01"),
            ("never-cleared", "UW-01"),
        ],
        "claim_id string, rule_id string",
    )
    certification_hits = spark.createDataFrame(
        [("same", "s-1"), ("new-cert", "n-1"), ("new-cert", "n-2"), ("new-rule", "r-1"), ("never-cleared", "x-1")],
        "claim_id string, cert_id string",
    )
    claims = spark.createDataFrame(
        [("same", None), ("new-cert", None), ("new-rule", None), ("ring-grew", "R1"), ("never-cleared", None)],
        "claim_id string, ring_id string",
    )
    rings = spark.createDataFrame([("R1", 5)], "ring_id string, person_count int")
    cleared = spark.createDataFrame(
        [
            ("same", ["s-1"], ["UW-01"], 0),
            ("new-cert", ["n-1"], ["UW-01"], 0),
            ("new-rule", ["r-1"], ["UW-01"], 0),
            ("ring-grew", [], ["GH-01"], 4),
        ],
        CLEARED_SCHEMA,
    )
    evidence = current_evidence(hits, certification_hits, claims, rings)
    kept_out = {row["claim_id"] for row in still_cleared(evidence, cleared).collect()}
    assert kept_out == {"same"}
