"""Cleared cases stay out of the queue until their evidence grows.

An investigator who clears a case (fraud/dispositions.py) records the evidence it
rested on: the certifications behind its hits, its rule ids and the size of its ring.
A later night keeps the claim out of the queue unless it now has a certification hit
or a rule hit that was not there, or its ring has more members than then.
DataFrames in, DataFrames out.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

CLEARED_SCHEMA = (
    "claim_id string, cleared_cert_ids array<string>, cleared_rule_ids array<string>, cleared_ring_person_count int"
)


def current_evidence(
    hits: DataFrame, certification_hits: DataFrame, claim_table: DataFrame, rings: DataFrame | None
) -> DataFrame:
    """hits (claim_id, rule_id), certification hits (claim_id, cert_id), claims
    (claim_id, ring_id) and rings (ring_id, person_count) -> per claim with a hit:
    claim_id, cert_ids, rule_ids, ring_person_count (0 outside a ring)."""
    rule_ids = hits.groupBy("claim_id").agg(F.array_sort(F.collect_set("rule_id")).alias("rule_ids"))
    cert_ids = (
        certification_hits.where(F.col("cert_id").isNotNull())
        .groupBy("claim_id")
        .agg(F.array_sort(F.collect_set("cert_id")).alias("cert_ids"))
    )
    ring_sizes = (
        rings.select("ring_id", F.col("person_count").cast("int").alias("ring_person_count"))
        if rings is not None
        else None
    )
    in_ring = claim_table.select("claim_id", "ring_id")
    if ring_sizes is not None:
        in_ring = in_ring.join(ring_sizes, on="ring_id", how="left")
    else:
        in_ring = in_ring.withColumn("ring_person_count", F.lit(0))
    return (
        rule_ids.join(cert_ids, on="claim_id", how="left")
        .join(in_ring.select("claim_id", "ring_person_count"), on="claim_id", how="left")
        .select(
            "claim_id",
            F.coalesce(F.col("cert_ids"), F.array().cast("array<string>")).alias("cert_ids"),
            "rule_ids",
            F.coalesce(F.col("ring_person_count"), F.lit(0)).alias("ring_person_count"),
        )
    )


def still_cleared(evidence: DataFrame, cleared: DataFrame) -> DataFrame:
    """current_evidence and the cleared claims (CLEARED_SCHEMA) -> claim_id of every
    cleared claim whose evidence has not grown since it was cleared (to keep out of the
    queue)."""
    new_certification = F.size(F.array_except("cert_ids", F.coalesce("cleared_cert_ids", F.array()))) > 0
    new_rule = F.size(F.array_except("rule_ids", F.coalesce("cleared_rule_ids", F.array()))) > 0
    ring_grew = F.col("ring_person_count") > F.coalesce(F.col("cleared_ring_person_count"), F.lit(0))
    has_new_evidence = new_certification | new_rule | ring_grew
    return evidence.join(cleared, on="claim_id", how="inner").where(~has_new_evidence).select("claim_id")
