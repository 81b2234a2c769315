"""The training job: point-in-time examples from the conformed tables of the run
date, a deterministic model, its registration and the promotion decision.

One signature, as every job: `run(spark, inputs, output, params)`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pyspark.sql import DataFrame

from fraud import version
from fraud.config import Settings
from fraud.dispositions import applicable, label_sources, labels
from fraud.layout import Layout
from fraud.locks import nights_lock
from fraud.spark import spark_session
from fraud.storage import atomic_file, read_json
from jobs.collusion import analyse
from jobs.conform import BUILT_FROM, read_conformed
from jobs.pipeline import run_date
from jobs.stage_io import Night, StageResult
from models.dataset import INVESTIGATOR_LABELS_SCHEMA, dataset_checksum, training_examples
from models.fit import TrainingConfig, split_by_time, train
from models.registry import ModelRegistry

log = logging.getLogger(__name__)

DEFAULT_HOLDOUT_DAYS = 90


def collusion_with_rings(hub_max_degree: int = 50) -> Callable[[dict[str, DataFrame], dt.date], DataFrame]:
    """The graph stage's per-claim collusion features (with ring_id) as a function of
    the (cut) tables and the day (jobs/collusion.py:analyse), for the examples."""

    def collusion(tables: dict[str, DataFrame], day: dt.date) -> DataFrame:
        return analyse(tables, day, hub_max_degree).claims

    return collusion


DEFAULT_CAPACITY = 100
DEFAULT_BOOST_ROUNDS = TrainingConfig.num_boost_round
# Decisions of the last two years, their features at quarterly snapshots: each
# snapshot is a full pass of the cross-matches and the graph over the cut tables, so
# the snapshot count is the training job's cost.
DEFAULT_WINDOW_DAYS = 730
DEFAULT_SNAPSHOT_MONTHS = 3


@dataclass(frozen=True)
class TrainInputs:
    conformed: Path  # the training date's conformed directory
    holdout_days: int = DEFAULT_HOLDOUT_DAYS  # the holdout: the decisions of the last so many days
    capacity: int = DEFAULT_CAPACITY  # investigators' capacity (k) the holdout measures precision at
    num_boost_round: int = DEFAULT_BOOST_ROUNDS
    window_days: int = DEFAULT_WINDOW_DAYS
    snapshot_months: int = DEFAULT_SNAPSHOT_MONTHS


@dataclass(frozen=True)
class TrainResult(StageResult):
    ds: str
    model_version: str
    training_data_sha256: str
    metrics: dict | None
    promotion: str
    promotion_reason: str
    champion_version: str | None
    tracking_uri: str
    # The investigators' labels by where the claim was decided from: the queue or the
    # random control sample (fraud/dispositions.py:label_sources).
    investigator_labels: dict | None = None


def run(spark, inputs: TrainInputs, night: Night) -> TrainResult:
    """Train a challenger on the decisions up to `night.ds`, register it in the
    warehouse's registry (the embedded MLflow store lives in it) and promote it when it
    beats the champion on the holdout. Returns the version, the training data's
    checksum, the metrics and the promotion decision."""
    ds = night.ds
    config = TrainingConfig(
        holdout_from=ds - dt.timedelta(days=inputs.holdout_days),
        capacity=inputs.capacity,
        num_boost_round=inputs.num_boost_round,
    )
    examples = examples_of(
        spark,
        Path(inputs.conformed),
        night.warehouse,
        ds,
        night.hub_max_degree,
        inputs.window_days,
        inputs.snapshot_months,
    )
    checksum = dataset_checksum(examples)
    model = train(examples, config)
    registry = ModelRegistry(night.warehouse, tracking_uri=night.tracking_uri)
    training_data = {
        "ds": ds.isoformat(),
        "sha256": checksum,
        "rows": int(len(examples)),
        "positives": int(examples["label"].sum()),
        "snapshot_days": sorted({str(day) for day in examples["snapshot_on"]}),
        "window_days": inputs.window_days,
        "snapshot_months": inputs.snapshot_months,
        "conformed": str(inputs.conformed),
        "investigator_labels": label_sources(applicable(night.warehouse, ds)),
    }
    model_version = registry.log_version(
        model, examples, training_data, tags={"ds": ds.isoformat(), "code_version": night.code_version or ""}
    )
    decision = registry.promote(model_version, holdout=split_by_time(examples, config)["holdout"])
    log.info("model training %s: version %s %s (%s)", ds, model_version, decision.decision, decision.reason)
    return TrainResult(
        ds=ds.isoformat(),
        model_version=model_version,
        training_data_sha256=checksum,
        metrics=model.metrics,
        promotion=decision.decision,
        promotion_reason=decision.reason,
        champion_version=registry.champion_version(),
        tracking_uri=registry.tracking_uri,
        investigator_labels=training_data["investigator_labels"],
    )


def examples_of(
    spark,
    conformed: Path,
    warehouse: Path,
    ds: dt.date,
    hub_max_degree: int,
    window_days: int = DEFAULT_WINDOW_DAYS,
    snapshot_months: int = DEFAULT_SNAPSHOT_MONTHS,
):
    """The training examples of a conformed date, as pandas: computed once (a Spark
    pass per snapshot) and kept under <warehouse>/training/<ds>/ with what
    they were computed from; a later challenger of the same date reads them back, so
    that challengers of one date are compared on the very same examples."""
    import pandas as pd

    path = Layout(warehouse).training_examples(ds)
    label_rows = investigator_label_rows(warehouse, ds)
    made_from = examples_made_from(conformed, hub_max_degree, label_rows, window_days, snapshot_months)
    recorded = path.with_suffix(".json")
    if path.exists() and recorded.exists() and json.loads(recorded.read_text()) == made_from:
        log.info("training examples of %s: reusing %s", ds, path)
        return pd.read_parquet(path)
    tables = read_conformed(spark, conformed)
    examples = training_examples(
        tables,
        ds,
        collusion=collusion_with_rings(hub_max_degree),
        investigator_labels=investigator_labels(spark, label_rows),
        window_days=window_days,
        snapshot_months=snapshot_months,
    ).toPandas()
    with atomic_file(path, "wb") as handle:
        examples.to_parquet(handle, index=False)
    with atomic_file(recorded) as handle:
        handle.write(json.dumps(made_from, sort_keys=True))
    return pd.read_parquet(path)


def examples_made_from(
    conformed: Path,
    hub_max_degree: int,
    label_rows: list,
    window_days: int = DEFAULT_WINDOW_DAYS,
    snapshot_months: int = DEFAULT_SNAPSHOT_MONTHS,
) -> dict:
    """What a date's stored examples were computed from: reused only when it matches.
    The tables' own record (`_built_from.json`: the deliveries, validator and code that
    conformed them) and the code computing the examples are part of it, so tables
    rebuilt after a late delivery, or a new feature definition, make new examples."""
    marker = Path(conformed) / BUILT_FROM
    return {
        "conformed": str(conformed),
        "hub_max_degree": hub_max_degree,
        "window_days": window_days,
        "snapshot_months": snapshot_months,
        "investigator_labels_sha256": hashlib.sha256(repr(label_rows).encode()).hexdigest(),
        "tables_built_from": read_json(marker) if marker.exists() else None,
        "source_sha256": version.source_digest(),
    }


def investigator_label_rows(warehouse: Path, ds: dt.date) -> list:
    """Confirmed (positive) and cleared (negative) dispositions recorded on or before
    `ds` (fraud/dispositions.py), as rows of models/dataset.py INVESTIGATOR_LABELS_SCHEMA."""
    return labels(applicable(warehouse, ds))


def investigator_labels(spark, rows: list):
    """The investigator label rows as a DataFrame; None when there are none."""
    return spark.createDataFrame(rows, INVESTIGATOR_LABELS_SCHEMA) if rows else None


def latest_conformed(warehouse: Path, ds: dt.date) -> dt.date:
    """The latest date on or before `ds` with conformed tables in the warehouse."""
    root = Path(warehouse) / "conformed"
    dates = (
        [day for day in (_date_named(p) for p in root.iterdir()) if day is not None and day <= ds]
        if root.exists()
        else []
    )
    if not dates:
        raise FileNotFoundError(f"no conformed tables on or before {ds} under {root}")
    return max(dates)


def _date_named(path: Path) -> dt.date | None:
    """The date a conformed directory is named after (None for staging leftovers)."""
    try:
        return dt.date.fromisoformat(path.name) if path.is_dir() else None
    except ValueError:
        return None


def run_for_airflow(context: dict) -> dict:
    """The fraud_model_training task's one call: the run date from the task's
    context, the latest conformed tables on or before it, then `run`."""
    settings = Settings.from_env()
    layout = Layout(settings.warehouse)
    with nights_lock(layout):  # `fraudctl prune` waits while the tables are read
        ds = latest_conformed(
            settings.warehouse,
            run_date(context.get("logical_date"), getattr(context.get("dag_run"), "run_after", None)),
        )
        night = Night(
            ds=ds,
            warehouse=settings.warehouse,
            code_version=version.code_version(),
            hub_max_degree=settings.hub_max_degree,
        )
        return run(spark_session(settings), TrainInputs(layout.conformed(ds)), night).as_json()
