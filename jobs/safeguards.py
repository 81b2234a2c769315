"""Safeguards: the night's random control sample, what decisions say about the queue
and its rules, and the fairness of its referrals (features/oversight.py).

Runs after crossmatch, before publish (which lists the files' sha256). Reads the
conformed tables, every claim's evidence of the night (runs/<ds>/crossmatch/), the
night's queue (outputs/<ds>/cases.csv) and the dispositions recorded on or before the
run date. Writes into outputs/<ds>/:

- `control_sample.csv`: a reproducible random sample of the undecided claims the queue
  left out (the seed is the run date: `fraudctl verify` draws the same). They are no
  cases: not ranked, no reasons. Investigators decide them like cases.
- `precision.csv`: per list (`queue`, `control`), rule and typology, how many the
  night flagged and the confirmed and cleared decisions on them, with the confirmed
  rate's 95% interval (Wilson). The queue's row is its precision, the control's the
  rate of fraud among the claims the queue left out.
- `fairness.csv`: per dimension and group, the referral ratio and the outcome
  disparity, flagged only when outside 0.8-1.25 and significant.

The undecided claims (the population the queue is drawn from): every claim except one
with a finding, one an investigator confirmed or cleared, one rejected and one whose
every payment is past the recovery limitation; the queue's own claims always count.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.claims import decided_claims, time_barred_claims
from features.oversight import (
    CONTROL,
    CONTROL_COLUMNS,
    DIMENSIONS,
    FAIRNESS_COLUMNS,
    QUEUE,
    RATE_COLUMNS,
    claim_groups,
    control_sample,
    fairness_rows,
    group_counts,
    rate_row,
    with_benefit_band,
)
from fraud import dispositions
from fraud.config import SampleSize
from fraud.layout import Layout
from fraud.spark import read_parquet
from fraud.storage import ensure_dir, read_csv, write_csv
from jobs.conform import read_conformed
from jobs.stage_io import Night, SafeguardsInputs, SafeguardsResult
from rules.engine import case_id
from rules.ruleset import RULES

log = logging.getLogger(__name__)

TYPOLOGIES = tuple(sorted({rule.typology for rule in RULES if rule.typology}))
CONTROL_FILE = dispositions.CONTROL_SAMPLE_FILE
PRECISION_FILE = "precision.csv"
FAIRNESS_FILE = "fairness.csv"


def decided(entries: list[dispositions.Disposition]) -> dict[str, dispositions.Disposition]:
    """Each claim's latest confirmed or cleared entry (in_review decides nothing)."""
    return dispositions.latest_by_claim(
        [e for e in entries if e.status in (dispositions.CONFIRMED, dispositions.CLEARED)]
    )


def rule_ids_of(entry: dispositions.Disposition) -> list[str]:
    """The rule ids a decided case rested on: recorded with the decision, or, for an
    entry written before they were, the cleared evidence's."""
    recorded = entry.rule_hits or ";".join(entry.evidence.rule_ids)
    return [rule for rule in recorded.split(";") if rule]


def rate_rows(cases: list[dict], control_count: int, latest: dict[str, dispositions.Disposition]) -> list[dict]:
    """RATE_COLUMNS rows: the queue, the control sample, each rule and each typology."""

    def tally(entries) -> tuple[int, int]:
        entries = list(entries)
        confirmed = sum(1 for e in entries if e.status == dispositions.CONFIRMED)
        return confirmed, len(entries) - confirmed

    queue_decisions = [e for e in latest.values() if e.sample == QUEUE]
    control_decisions = [e for e in latest.values() if e.sample == CONTROL]
    rows = [
        rate_row("list", QUEUE, len(cases), *tally(queue_decisions)),
        rate_row("list", CONTROL, control_count, *tally(control_decisions)),
    ]
    for rule in RULES:
        hits = sum(1 for case in cases if rule.rule_id in case["rule_hits"].split(";"))
        rows.append(
            rate_row("rule", rule.rule_id, hits, *tally(e for e in queue_decisions if rule.rule_id in rule_ids_of(e)))
        )
    for typology in TYPOLOGIES:
        hits = sum(1 for case in cases if typology in case["fraud_types"].split(";"))
        rows.append(
            rate_row(
                "typology", typology, hits, *tally(e for e in queue_decisions if typology in e.fraud_types.split(";"))
            )
        )
    return rows


def undecided_claims(
    claim_table: DataFrame, certification_table: DataFrame, findings: DataFrame, decided_ids: DataFrame, ds
) -> DataFrame:
    """The claims the queue could have held (see the module's docstring) -> (claim_id)."""
    return (
        claim_table.where(F.col("status") != "REJECTED")
        .select("claim_id")
        .join(decided_claims(findings, ds), on="claim_id", how="left_anti")
        .join(decided_ids, on="claim_id", how="left_anti")
        .join(time_barred_claims(certification_table, ds), on="claim_id", how="left_anti")
    )


def _cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}" if value and abs(value) < 1e-3 else f"{value:.4f}".rstrip("0").rstrip(".")
    return value


def run(spark, inputs: SafeguardsInputs, night: Night) -> SafeguardsResult:
    """Draw the control sample and measure precision and fairness; write the three
    files into outputs/<ds>/."""
    ds = night.ds
    layout = Layout(night.warehouse)
    output = ensure_dir(layout.outputs(ds))
    tables = read_conformed(spark, Path(inputs.conformed))
    evidence = Path(inputs.evidence)
    claim_table = read_parquet(spark, evidence / "claim_table").select(
        "claim_id", "person_key", "workplace_id", "filed_on", "status", "separation_code"
    )
    certification_table = (
        read_parquet(spark, evidence / "certification_table")
        .select("claim_id", "cert_on", "paid_amount", "channel")
        .localCheckpoint()
    )
    cases = read_csv(output / "cases.csv")
    latest = decided(dispositions.applicable(night.warehouse, ds))

    decided_frame = spark.createDataFrame(
        [(claim, entry.status == dispositions.CONFIRMED) for claim, entry in sorted(latest.items())] or [("", False)],
        "claim_id string, confirmed boolean",
    ).where(F.col("claim_id") != "")
    queued = spark.createDataFrame([(c["claim_id"],) for c in cases] or [("",)], "claim_id string").where(
        F.col("claim_id") != ""
    )
    population = (
        undecided_claims(claim_table, certification_table, tables["findings"], decided_frame.select("claim_id"), ds)
        .unionByName(queued)
        .distinct()
        .localCheckpoint()
    )

    # The control sample: undecided claims the queue left out.
    candidates = population.join(queued, on="claim_id", how="left_anti").join(
        claim_table.select("claim_id", "person_key", "workplace_id", "filed_on"), on="claim_id"
    )
    candidate_count = candidates.count()
    size = SampleSize.parse(inputs.control_sample).of(candidate_count)
    sample = control_sample(candidates.withColumn("case_id", case_id(F.col("claim_id"))), ds, size)
    control_rows = [
        [row[name].isoformat() if name == "filed_on" else row[name] for name in CONTROL_COLUMNS] for row in sample
    ]
    control_count = write_csv(output / CONTROL_FILE, list(CONTROL_COLUMNS), control_rows)

    # Precision of the queue, of each rule and typology; fraud among the unflagged.
    rates = rate_rows(cases, control_count, latest)
    write_csv(output / PRECISION_FILE, list(RATE_COLUMNS), ([_cell(r[n]) for n in RATE_COLUMNS] for r in rates))

    # Fairness of referrals and of outcomes, on the queue's own decided cases.
    groups = claim_groups(claim_table, tables["claims"], tables["workplaces"], certification_table)
    groups, cuts = with_benefit_band(groups, population)
    queue_decided = decided_frame.join(
        spark.createDataFrame(
            [(claim,) for claim, entry in sorted(latest.items()) if entry.sample == QUEUE] or [("",)],
            "claim_id string",
        ),
        on="claim_id",
        how="left_semi",
    )
    fairness = fairness_rows(group_counts(groups, population, queued, queue_decided))
    write_csv(
        output / FAIRNESS_FILE, list(FAIRNESS_COLUMNS), ([_cell(r[n]) for n in FAIRNESS_COLUMNS] for r in fairness)
    )
    flagged = [
        f"{r['dimension']}={r['group']} ({kind})"
        for r in fairness
        for kind in ("referral", "outcome")
        if r[f"{kind}_flagged"]
    ]
    queue_rate = rates[0]
    control_rate = rates[1]
    log.info(
        "safeguards %s: control sample %d of %d candidates; queue precision %s of %d decided; "
        "fraud among the unflagged %s of %d decided; %d fairness flags",
        ds,
        control_count,
        candidate_count,
        queue_rate["rate"],
        queue_rate["decided"],
        control_rate["rate"],
        control_rate["decided"],
        len(flagged),
    )
    return SafeguardsResult(
        control_sample=control_count,
        control_candidates=candidate_count,
        population=population.count(),
        benefit_band_cuts=cuts,
        precision={"queue": queue_rate, "control": control_rate},
        fairness={"dimensions": list(DIMENSIONS), "groups": len(fairness), "flagged": flagged},
        files=[str(output / name) for name in (CONTROL_FILE, PRECISION_FILE, FAIRNESS_FILE)],
    )
