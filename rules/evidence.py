"""The rule set applied to the conformed tables: every feature the rules read and
every hit they make, for one run date. The nightly queue (jobs/crossmatch.py) and the
model's training examples (models/model_features.py) both start from here, so a rule or a
feature is computed one way only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.certifications import certification_features, presence_in_korea
from features.claims import (
    claim_features,
    overpayment,
    prior_findings,
    total_paid,
    with_invalidated_claims,
)
from features.collusion_evidence import no_collusion
from features.coverage import EMPLOYMENT_FEED, coverage_of_tables, covered_from
from features.trips import trip_spans, trips
from rules.engine import rule_hits
from rules.ruleset import CERTIFICATION, CLAIM, RULES, Rule


@dataclass
class Evidence:
    """Per certification: its features and hits; per claim: its features (with the
    overpayment and the collusion evidence) and hits."""

    certification_table: DataFrame
    certification_hits: DataFrame
    claim_table: DataFrame
    claim_hits: DataFrame

    def frames(self) -> list[DataFrame]:
        return [self.certification_table, self.certification_hits, self.claim_table, self.claim_hits]


def gather_evidence(
    tables: dict[str, DataFrame],
    as_of: dt.date,
    rules: tuple[Rule, ...] = RULES,
    collusion: DataFrame | None = None,
    cache: bool = False,
    coverage: dict | None = None,
) -> Evidence:
    """The conformed tables (by name, as known on `as_of`) and the claims' collusion
    features (features/collusion_evidence.py, with `ring_id`; None: no graph evidence) -> the
    Evidence. `cache` materialises the frames that later steps read more than once
    (local checkpoints, freed when the JVM collects them: they stay for the rest of a
    `fraudctl run`, on disk once memory is short; on a cluster, losing an executor
    fails the stage, which the task's retry runs again). `coverage`: the feeds' spans
    (features/coverage.py), measured from `tables` when not given: pass it when
    `tables` hold only some persons' records."""

    def kept(frame: DataFrame) -> DataFrame:
        # A checkpoint, not a cache: later plans start from its rows instead of
        # re-analysing (and matching against the cache) the whole lineage each time.
        return frame.localCheckpoint() if cache else frame

    claims, certifications = tables["claims"], tables["certifications"]
    coverage = coverage if coverage is not None else coverage_of_tables(tables, as_of)
    presence = presence_in_korea(
        certifications,
        claims,
        tables["income"],
        tables["employments"],
        as_of,
        within=trip_spans(tables["crossings"], as_of),
    )
    trip_table = trips(tables["crossings"], as_of, presence)
    certification_table = kept(
        certification_features(
            certifications,
            claims,
            tables["income"],
            tables["workplaces"],
            tables["employments"],
            trip_table,
            as_of,
            employment_covered_from=covered_from(coverage, EMPLOYMENT_FEED),
        )
    )
    certification_hits = kept(
        rule_hits(certification_table, rules, CERTIFICATION, keys=("claim_id", "cert_id", "period_from"))
    )
    paid = certification_table.select("cert_id", "claim_id", "cert_on", "period_from", "period_to", "paid_amount")
    overpayments = overpayment(paid, certification_hits.where(F.col("taints")).select("cert_id"))
    if_confirmed = overpayment(
        paid, certification_hits.where(F.col("taints") | F.col("proves_if_confirmed")).select("cert_id")
    )
    collusion = collusion if collusion is not None else no_collusion(claims)
    claim_evidence = (
        claim_features(claims, overpayments, prior_findings(claims, tables["findings"], as_of), if_confirmed)
        .join(claims.select("claim_id", "separation_code", "bank_account_key"), on="claim_id", how="inner")
        .join(collusion, on="claim_id", how="left")
        .join(total_paid(certification_table), on="claim_id", how="left")
    )
    claim_hits = kept(rule_hits(claim_evidence, rules, CLAIM, keys=("claim_id",)))
    claim_table = kept(with_invalidated_claims(claim_evidence, claim_hits))
    return Evidence(certification_table, certification_hits, claim_table, claim_hits)
