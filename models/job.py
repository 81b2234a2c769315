"""The training job: point-in-time examples from the conformed tables of the run
date, a deterministic model, its registration and the promotion decision.

One signature, as every job: `run(spark, inputs, output, params)`.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from models.dataset import collusion_with_rings, dataset_checksum, snapshot_days, training_examples
from models.registry import ModelRegistry
from models.train import TrainingConfig, split_by_time, train

log = logging.getLogger(__name__)

DEFAULT_HOLDOUT_DAYS = 90
DEFAULT_CAPACITY = 100


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def run(spark, inputs: dict, output: Path, params: dict) -> dict:
    """inputs: {"conformed": the run date's conformed directory}; output: the
    warehouse root (the embedded MLflow store lives in it); params: {"ds": date,
    "capacity"?: investigators' capacity (k), "holdout_days"?: the holdout is the
    decisions of the last so many days, "hub_max_degree"?, "tracking_uri"?}.
    Returns the version, the training data's checksum, the metrics and the
    promotion decision."""
    from jobs.conform import read_conformed

    ds = _as_date(params["ds"])
    tables = read_conformed(spark, Path(inputs["conformed"]))
    holdout_from = ds - dt.timedelta(days=int(params.get("holdout_days", DEFAULT_HOLDOUT_DAYS)))
    config = TrainingConfig(holdout_from=holdout_from, capacity=int(params.get("capacity", DEFAULT_CAPACITY)))
    examples = training_examples(
        tables, ds, collusion=collusion_with_rings(int(params.get("hub_max_degree", 50))),
        investigator_labels=investigator_labels(spark, Path(output), ds),
    ).toPandas()
    checksum = dataset_checksum(examples)
    model = train(examples, config)
    registry = ModelRegistry(Path(output), tracking_uri=params.get("tracking_uri"))
    first = min(examples["decision_on"])
    training_data = {
        "ds": ds.isoformat(),
        "sha256": checksum,
        "rows": int(len(examples)),
        "positives": int(examples["label"].sum()),
        "snapshot_days": sorted({str(day) for day in examples["snapshot_on"]}),
        "monthly_snapshots_from": str(snapshot_days(first, ds)[0]),
        "conformed": str(inputs["conformed"]),
    }
    version = registry.log_version(model, examples, training_data,
                                   tags={"ds": ds.isoformat(), "code_version": params.get("code_version", "")})
    decision = registry.promote(version, holdout=split_by_time(examples, config)["holdout"])
    log.info("model training %s: version %s %s (%s)", ds, version, decision.decision, decision.reason)
    return {
        "ds": ds.isoformat(),
        "model_version": version,
        "training_data_sha256": checksum,
        "metrics": model.metrics,
        "promotion": decision.decision,
        "promotion_reason": decision.reason,
        "champion_version": registry.champion_version(),
        "tracking_uri": registry.tracking_uri,
    }


def investigator_labels(spark, warehouse: Path, ds: dt.date):
    """Confirmed (positive) and cleared (negative) dispositions recorded on or before
    `ds` (fraud/dispositions.py), as models/dataset.py INVESTIGATOR_LABELS_SCHEMA; None
    when there are none."""
    from fraud.dispositions import applicable, labels
    from models.dataset import INVESTIGATOR_LABELS_SCHEMA

    rows = labels(applicable(warehouse, ds))
    return spark.createDataFrame(rows, INVESTIGATOR_LABELS_SCHEMA) if rows else None


def latest_conformed(warehouse: Path, ds: dt.date) -> dt.date:
    """The latest date on or before `ds` with conformed tables in the warehouse."""
    root = Path(warehouse) / "conformed"
    dates = [day for day in (_date_named(p) for p in root.iterdir()) if day is not None and day <= ds] \
        if root.exists() else []
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
    from fraud.config import Settings
    from fraud.layout import Layout
    from fraud.spark import spark_session
    from fraud.version import code_version
    from jobs.pipeline import run_date

    settings = Settings.from_env()
    ds = latest_conformed(settings.warehouse,
                          run_date(context.get("logical_date"), getattr(context.get("dag_run"), "run_after", None)))
    inputs = {"conformed": str(Layout(settings.warehouse).conformed(ds))}
    params = {"ds": ds, "hub_max_degree": settings.hub_max_degree, "code_version": code_version()}
    return run(spark_session(settings), inputs, settings.warehouse, params)
