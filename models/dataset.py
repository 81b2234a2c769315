"""Point-in-time training examples: past decisions as labels, features as they were
known when each decision was made.

Labels (`decision_points`). A claim with a finding (`ei/findings`) of a fraud type
other than OTHER is a positive; its decision point is the day of its first such
finding. A claim never found is a negative; its decision point is a comparable day:
its last certification (or, without one, its filing) plus the typical decision lag
of the positives (the median days from a found claim's last certification before the
finding to the finding), capped at `ds`. Claims with only OTHER findings are
neither.

No leakage. `as_of(tables, day)` cuts the conformed tables to what was known on
`day` by the records' own dates, and the features of an example are computed from
the tables cut at a day on or before its decision point, never later. Computing the
features once per claim would be as many feature runs as claims; instead they are
computed at a few snapshot days (`snapshot_days`; the training job takes quarterly ones over two years) and each
example takes its claim's row from the latest snapshot on or before its decision
point (so features are up to one snapshot interval older than the decision, never
newer).

The conformed tables of `ds` hold each record's latest version (jobs/conform.py);
what a later update changed in place (a claim's status) cannot be cut by date, which
is why models/model_features.py uses no such column.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Callable, Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.trips import kst_day
from models.model_features import FEATURE_NAMES, claim_inputs, feature_frame
from rules.ruleset import RULES, Rule

log = logging.getLogger(__name__)

NOT_A_TYPOLOGY = "OTHER"
DEFAULT_DECISION_LAG_DAYS = 90  # when there are no positives to measure it from
EXAMPLE_KEY_COLUMNS = ("claim_id", "decision_on", "snapshot_on", "label", "fraud_type")
EXAMPLE_COLUMNS = EXAMPLE_KEY_COLUMNS + FEATURE_NAMES


def as_of(tables: dict[str, DataFrame], day: dt.date) -> dict[str, DataFrame]:
    """The conformed tables -> the same tables as known on `day`, by the records' own
    dates: income filed, certifications made, crossings crossed (KST day), claims
    filed, employment spells acquired and workplaces opened on or before `day`;
    findings decided before `day` (a decision made on the day is the label, not a
    feature). A spell or workplace that ended after `day` had not ended yet: its
    `lost_on` and `separation_code` (`closed_on`) are nulled."""
    on_or_before = F.lit(day)
    employments = tables["employments"].where(F.col("acquired_on") <= on_or_before)
    has_ended_later = F.col("lost_on") > on_or_before
    workplaces = tables["workplaces"].where(F.col("opened_on") <= on_or_before)
    cut = dict(tables)
    cut.update(
        income=tables["income"].where(F.col("filed_on") <= on_or_before),
        certifications=tables["certifications"].where(F.col("cert_on") <= on_or_before),
        crossings=tables["crossings"].where(kst_day(F.col("crossed_at")) <= on_or_before),
        claims=tables["claims"].where(F.col("filed_on") <= on_or_before),
        employments=employments.withColumn(
            "separation_code", F.when(has_ended_later, F.lit(None).cast("string")).otherwise(F.col("separation_code"))
        ).withColumn("lost_on", F.when(has_ended_later, F.lit(None).cast("date")).otherwise(F.col("lost_on"))),
        findings=tables["findings"].where(F.col("decided_on") < on_or_before),
        workplaces=workplaces.withColumn(
            "closed_on",
            F.when(F.col("closed_on") > on_or_before, F.lit(None).cast("date")).otherwise(F.col("closed_on")),
        ),
    )
    return cut


def _last_certified_before(certifications: DataFrame, decisions: DataFrame) -> DataFrame:
    """(claim_id, decided_on) -> (claim_id, last_cert_on): the last certification made
    on or before the decision."""
    return (
        decisions.join(certifications.select("claim_id", "cert_on"), on="claim_id", how="left")
        .where(F.col("cert_on").isNull() | (F.col("cert_on") <= F.col("decided_on")))
        .groupBy("claim_id")
        .agg(F.max("cert_on").alias("last_cert_on"))
    )


def positive_decisions(findings: DataFrame, ds: dt.date) -> DataFrame:
    """Findings -> (claim_id, decided_on, fraud_type): each claim's first finding of a
    fraud typology decided on or before `ds` (ties: the lowest finding_id)."""
    first_finding = F.min(F.struct("decided_on", "finding_id", "fraud_type"))
    return (
        findings.where(
            F.col("claim_id").isNotNull() & (F.col("fraud_type") != NOT_A_TYPOLOGY) & (F.col("decided_on") <= F.lit(ds))
        )
        .groupBy("claim_id")
        .agg(first_finding.alias("first"))
        .select(
            "claim_id", F.col("first.decided_on").alias("decided_on"), F.col("first.fraud_type").alias("fraud_type")
        )
    )


def decision_lag_days(tables: dict[str, DataFrame], ds: dt.date) -> int:
    """The median days from a found claim's last certification before its finding to
    the finding (DEFAULT_DECISION_LAG_DAYS when nothing was found yet)."""
    positives = positive_decisions(tables["findings"], ds)
    lags = positives.join(_last_certified_before(tables["certifications"], positives), on="claim_id", how="inner")
    lag = (
        lags.where(F.col("last_cert_on").isNotNull())
        .select(F.percentile_approx(F.datediff("decided_on", "last_cert_on"), 0.5, 100_000).alias("lag"))
        .first()["lag"]
    )
    return DEFAULT_DECISION_LAG_DAYS if lag is None else int(lag)


def decision_points(tables: dict[str, DataFrame], ds: dt.date, lag_days: int | None = None) -> DataFrame:
    """The conformed tables of `ds` -> one row per labelled claim (claim_id,
    decision_on, label, fraud_type): positives at their first finding, negatives at
    their last certification (or filing) plus `lag_days` (default: measured,
    `decision_lag_days`), capped at `ds`."""
    lag_days = decision_lag_days(tables, ds) if lag_days is None else lag_days
    claims = tables["claims"].where(F.col("filed_on") <= F.lit(ds))
    positives = positive_decisions(tables["findings"], ds).join(claims.select("claim_id"), on="claim_id", how="inner")
    ever_found = tables["findings"].where(F.col("claim_id").isNotNull()).select("claim_id").distinct()
    last_certified = (
        tables["certifications"]
        .where(F.col("cert_on") <= F.lit(ds))
        .groupBy("claim_id")
        .agg(F.max("cert_on").alias("last_cert_on"))
    )
    comparable_day = F.least(F.date_add(F.coalesce(F.col("last_cert_on"), F.col("filed_on")), lag_days), F.lit(ds))
    negatives = (
        claims.join(ever_found, on="claim_id", how="left_anti")
        .join(last_certified, on="claim_id", how="left")
        .select(
            "claim_id",
            comparable_day.alias("decision_on"),
            F.lit(0).alias("label"),
            F.lit(None).cast("string").alias("fraud_type"),
        )
    )
    return positives.select(
        "claim_id", F.col("decided_on").alias("decision_on"), F.lit(1).alias("label"), "fraud_type"
    ).unionByName(negatives)


INVESTIGATOR_LABELS_SCHEMA = "claim_id string, label int, decision_on date, fraud_type string"


def with_investigator_labels(decisions: DataFrame, labels: DataFrame | None, ds: dt.date) -> DataFrame:
    """decision_points and investigators' dispositions (INVESTIGATOR_LABELS_SCHEMA, from
    fraud/dispositions.py `labels`) -> the decision points where a claim without a
    finding takes its investigator's label: confirmed a positive, cleared a negative, on
    the day it was recorded. A finding outranks a disposition; dispositions after `ds`
    and for claims not in `decisions` are ignored."""
    if labels is None:
        return decisions
    found = decisions.where(F.col("label") == 1).select("claim_id")
    overriding = (
        labels.where(F.col("decision_on") <= F.lit(ds))
        .join(found, on="claim_id", how="left_anti")
        .join(decisions.select("claim_id"), on="claim_id", how="left_semi")
        .select("claim_id", "decision_on", F.col("label").cast("int").alias("label"), "fraud_type")
    )
    kept = decisions.join(overriding.select("claim_id"), on="claim_id", how="left_anti")
    return kept.select("claim_id", "decision_on", F.col("label").cast("int").alias("label"), "fraud_type").unionByName(
        overriding
    )


def snapshot_days(first: dt.date, last: dt.date, months: int = 1) -> list[dt.date]:
    """Snapshot days: the first of every `months`-th month after `first` (counted from
    `first`'s month) up to `last`, with `first` and `last` themselves."""
    days = {first, last}
    month, step = dt.date(first.year, first.month, 1), 0
    while month <= last:
        if month >= first and step % months == 0:
            days.add(month)
        month = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        step += 1
    return sorted(days)


def with_snapshot(decisions: DataFrame, days: Iterable[dt.date]) -> DataFrame:
    """Decisions (claim_id, decision_on, ...) -> the same with `snapshot_on`, the
    latest of `days` on or before `decision_on` (decisions before every snapshot day
    are dropped)."""
    latest_on_or_before = None
    for day in sorted(days):
        candidate = F.when(F.lit(day) <= F.col("decision_on"), F.lit(day))
        latest_on_or_before = candidate if latest_on_or_before is None else F.coalesce(candidate, latest_on_or_before)
    return decisions.withColumn("snapshot_on", latest_on_or_before).where(F.col("snapshot_on").isNotNull())


def without_graph(tables: dict[str, DataFrame], day: dt.date) -> None:
    """No collusion features (features/collusion_evidence.py:no_collusion), for a run without
    the graph stage."""
    return None


def snapshot_features(
    tables: dict[str, DataFrame],
    day: dt.date,
    collusion: Callable[[dict[str, DataFrame], dt.date], DataFrame | None],
    rules: tuple[Rule, ...] = RULES,
) -> DataFrame:
    """Every claim's features (claim_id, FEATURE_NAMES) as known on `day`: the tables
    cut to `day` (`as_of`), the graph's collusion features of the cut tables. What a
    training example of that snapshot holds; the nightly run of `day` must score the
    same values (tests/models/test_dataset.py checks there is no skew)."""
    cut = as_of(tables, day)
    return feature_frame(claim_inputs(cut, day, collusion(cut, day), rules))


def training_examples(
    tables: dict[str, DataFrame],
    ds: dt.date,
    days: list[dt.date] | None = None,
    collusion: Callable[[dict[str, DataFrame], dt.date], DataFrame | None] = None,
    lag_days: int | None = None,
    rules: tuple[Rule, ...] = RULES,
    investigator_labels: DataFrame | None = None,
    window_days: int | None = None,
    snapshot_months: int = 1,
) -> DataFrame:
    """The conformed tables of `ds` (and investigators' dispositions,
    `with_investigator_labels`) -> one example per labelled claim
    (EXAMPLE_COLUMNS), its features as of its snapshot day (on or before its
    decision point). `days`: the snapshot days (default: every `snapshot_months`
    months, `snapshot_days`, from the first decision, or from `ds` - `window_days`
    when that is later: older decisions are left out); `collusion`: the per-claim collusion features
    of the cut tables and the day (the training job passes the graph stage's,
    jobs/train.py:collusion_with_rings; `without_graph`, the default, leaves the
    collusion features empty)."""
    collusion = collusion or without_graph
    decisions = with_investigator_labels(
        decision_points(tables, ds, lag_days), investigator_labels, ds
    ).localCheckpoint()
    first = decisions.agg(F.min("decision_on")).first()[0]
    if first is None:
        raise ValueError(f"no labelled claims as of {ds}")
    if window_days is not None:
        first = max(first, ds - dt.timedelta(days=window_days))
    days = sorted(days or snapshot_days(first, ds, snapshot_months))
    placed = with_snapshot(decisions, days).localCheckpoint()
    used_days = [row["snapshot_on"] for row in placed.select("snapshot_on").distinct().orderBy("snapshot_on").collect()]
    per_snapshot = []
    for day in used_days:
        features = snapshot_features(tables, day, collusion, rules)
        examples = placed.where(F.col("snapshot_on") == F.lit(day)).join(features, on="claim_id", how="inner")
        per_snapshot.append(examples.select(*EXAMPLE_COLUMNS).localCheckpoint())
        log.info("training examples: snapshot %s done", day)
    examples = per_snapshot[0]
    for more in per_snapshot[1:]:
        examples = examples.unionByName(more)
    return examples


def dataset_checksum(examples) -> str:
    """sha256 of a pandas frame of examples (EXAMPLE_COLUMNS), rows in claim_id order,
    values as text: the same examples give the same checksum."""
    ordered = examples.sort_values("claim_id", kind="mergesort").reset_index(drop=True)
    text = ordered.to_csv(index=False, lineterminator="\n", float_format="%.17g", date_format="%Y-%m-%d")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
