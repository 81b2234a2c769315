"""The model registry: MLflow tracking and model registry, no hand-made store.

Where. By default an embedded store inside the warehouse: metadata in SQLite at
`<warehouse>/mlflow/mlflow.db`, artifacts under `<warehouse>/mlflow/artifacts`
(mlflow-skinny needs only sqlalchemy and alembic for it, which Airflow brings). A
site's tracking server by configuration: `FRAUD_MLFLOW_TRACKING_URI` (its artifact
store is then the server's). Scratch files (a model written before it is logged,
a model downloaded to be loaded) live under `<warehouse>/mlflow/tmp` and are
deleted after use.

What a version holds (one MLflow run per training, one registered version per run):
the model (`model/`, one self-contained pyfunc: models/pyfunc_model.py with the
booster, its calibration and the feature order, a signature and an input example, so
`models:/fraud_scoring@champion` loaded anywhere gives the night's calibrated
probability; versions logged before it hold MLflow's xgboost flavour), its calibration
(`calibration.json`), the feature list (`features.json`), the holdout metrics
(`metrics.json`, and as run metrics), the training data (`training_data/
examples.parquet`, `training_data/snapshot.json` with its sha256, also a tag of the
run and the version) and a model card (`model_card.md`).

Promotion. A challenger takes the `champion` alias only when, on the holdout, it
has a higher precision at the investigators' capacity, or the same and a higher
average precision, and no typology's recall at capacity drops. Given the holdout
examples, both models are scored on the same rows; otherwise the logged metrics are
compared. The decision, promoted or refused, with the figures of both, is recorded
on the challenger: tags `promotion`, `promotion_reason` and the artifact
`promotion/decision.json`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

# The pipeline handles personal data: MLflow must not report usage to anyone.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xgboost as xgb  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

from models.fit import Calibrator, TrainedModel, evaluate  # noqa: E402
from models.model_features import FEATURES, feature_list  # noqa: E402

log = logging.getLogger(__name__)

TRACKING_URI_ENV = "FRAUD_MLFLOW_TRACKING_URI"
MODEL_NAME = "fraud_scoring"
EXPERIMENT_NAME = "fraud_model_training"
CHAMPION = "champion"
PROMOTED = "promoted"
REFUSED = "refused"
TOLERANCE = 1e-12


def default_tracking_uri(warehouse: Path) -> str:
    return f"sqlite:///{embedded_store(warehouse).resolve()}"


def artifact_root(warehouse: Path) -> Path:
    return (Path(warehouse) / "mlflow" / "artifacts").resolve()


@dataclass(frozen=True)
class PromotionDecision:
    decision: str  # PROMOTED or REFUSED
    reason: str
    challenger_version: str
    champion_version: str | None
    challenger_metrics: dict
    champion_metrics: dict | None
    compared_on: str  # "the same holdout rows" or "the logged holdout metrics"

    @property
    def promoted(self) -> bool:
        return self.decision == PROMOTED


@dataclass
class RegisteredModel:
    """A model as loaded from the registry: the trained model and its version."""

    version: str
    model: TrainedModel
    run_id: str
    training_data_sha256: str | None


def compare(challenger: dict, champion: dict) -> tuple[bool, str]:
    """Holdout metrics of a challenger and of the champion -> (better, why)."""
    drops = [
        f"{typology} {champion_recall:.3f} -> {challenger['recall_at_capacity'].get(typology, 0.0):.3f}"
        for typology, champion_recall in sorted(champion.get("recall_at_capacity", {}).items())
        if challenger["recall_at_capacity"].get(typology, 0.0) < champion_recall - TOLERANCE
    ]
    if drops:
        return False, "recall at capacity drops for " + ", ".join(drops)
    c_precision, h_precision = challenger["precision_at_capacity"], champion["precision_at_capacity"]
    c_ap, h_ap = challenger["average_precision"], champion["average_precision"]
    figures = (
        f"precision at capacity {c_precision:.4f} vs {h_precision:.4f}, average precision {c_ap:.4f} vs {h_ap:.4f}"
    )
    if c_precision > h_precision + TOLERANCE:
        return True, f"higher precision at capacity ({figures})"
    if abs(c_precision - h_precision) <= TOLERANCE and c_ap > h_ap + TOLERANCE:
        return True, f"same precision at capacity, higher average precision ({figures})"
    return False, f"not better than the champion ({figures})"


def embedded_store(warehouse: Path) -> Path:
    """The SQLite file of the embedded store (it exists once a model was logged)."""
    return Path(warehouse) / "mlflow" / "mlflow.db"


def existing_registry(warehouse: Path, tracking_uri: str | None = None) -> "ModelRegistry | None":
    """The registry of a warehouse if there is one: the configured tracking server
    (`tracking_uri` or FRAUD_MLFLOW_TRACKING_URI), else the embedded store if its
    SQLite file exists; None otherwise, creating nothing (a warehouse that never
    trained a model gets no mlflow/ directory)."""
    configured = tracking_uri or os.environ.get(TRACKING_URI_ENV)
    if configured is None and not embedded_store(warehouse).exists():
        return None
    return ModelRegistry(warehouse, tracking_uri=configured)


class ModelRegistry:
    """The registered scoring models of one warehouse (or of the site's server)."""

    def __init__(
        self,
        warehouse: Path,
        tracking_uri: str | None = None,
        model_name: str = MODEL_NAME,
        experiment_name: str = EXPERIMENT_NAME,
    ):
        self.warehouse = Path(warehouse)
        configured = tracking_uri or os.environ.get(TRACKING_URI_ENV)
        self.embedded = configured is None
        if self.embedded:
            (self.warehouse / "mlflow").mkdir(parents=True, exist_ok=True)
        self.tracking_uri = configured or default_tracking_uri(self.warehouse)
        self.model_name = model_name
        self.client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        self.experiment_name = experiment_name

    @property
    def experiment_id(self) -> str:
        """The training experiment, created on first use: reading the registry (the
        nightly run asking for the champion) writes nothing."""
        found = self.client.get_experiment_by_name(self.experiment_name)
        if found is not None:
            return found.experiment_id
        location = artifact_root(self.warehouse).as_uri() if self.embedded else None
        return self.client.create_experiment(self.experiment_name, artifact_location=location)

    def _scratch(self) -> tempfile.TemporaryDirectory:
        scratch = self.warehouse / "mlflow" / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(dir=scratch)

    # --- logging a version --------------------------------------------------------

    def log_version(
        self, model: TrainedModel, examples: pd.DataFrame, training_data: dict, tags: dict | None = None
    ) -> str:
        """Log a trained model with its feature list, training data (the examples and
        `training_data`: at least `sha256`; as-of date, snapshot days...), metrics
        and model card; register it as a new version. -> the version."""
        checksum = training_data["sha256"]
        run_tags = {"training_data.sha256": checksum, **{k: str(v) for k, v in (tags or {}).items()}}
        run = self.client.create_run(self.experiment_id, tags=run_tags)
        run_id = run.info.run_id
        config = model.config.as_dict() if model.config else {}
        for key in (
            "holdout_from",
            "capacity",
            "calibration",
            "calibration_share",
            "num_boost_round",
            "seed",
            "nthread",
            "xgboost_version",
        ):
            if key in config:
                self.client.log_param(run_id, key, config[key])
        for name, value in _flat_metrics(model.metrics).items():
            self.client.log_metric(run_id, name, value)
        with self._scratch() as scratch:
            folder = Path(scratch)
            _write(folder / "calibration.json", json.dumps(model.calibrator.to_dict(), indent=2, sort_keys=True))
            _write(folder / "features.json", json.dumps(feature_list(), indent=2, ensure_ascii=False))
            _write(
                folder / "metrics.json",
                json.dumps(
                    {"holdout": model.metrics, "split": model.split, "config": config}, indent=2, sort_keys=True
                ),
            )
            save_pyfunc(model, examples, folder / "calibration.json", folder / "features.json", folder / "model")
            self.client.log_artifacts(run_id, str(folder / "model"), "model")
            for name in ("calibration.json", "features.json", "metrics.json"):
                self.client.log_artifact(run_id, str(folder / name))
            data = folder / "training_data"
            data.mkdir()
            examples.sort_values("claim_id", kind="mergesort").to_parquet(data / "examples.parquet", index=False)
            _write(data / "snapshot.json", json.dumps(training_data, indent=2, sort_keys=True, default=str))
            self.client.log_artifacts(run_id, str(data), "training_data")
            if not self.client.search_registered_models(f"name = '{self.model_name}'"):
                self.client.create_registered_model(self.model_name)
            version = self.client.create_model_version(
                self.model_name,
                source=f"{run.info.artifact_uri}/model",
                run_id=run_id,
                tags={"training_data.sha256": checksum},
            ).version
            _write(folder / "model_card.md", model_card(self.model_name, str(version), model, training_data))
            self.client.log_artifact(run_id, str(folder / "model_card.md"))
        self.client.set_terminated(run_id)
        log.info("registered %s version %s (run %s, training data %s)", self.model_name, version, run_id, checksum)
        return str(version)

    # --- loading --------------------------------------------------------------------

    def champion_version(self) -> str | None:
        registered = self.client.search_registered_models(f"name = '{self.model_name}'")
        if not registered or CHAMPION not in (registered[0].aliases or {}):
            return None
        return str(registered[0].aliases[CHAMPION])

    def load(self, alias: str | None = None, version: str | int | None = None) -> RegisteredModel:
        """The model of a version: by alias (e.g. `champion`) or pinned by number (a
        re-run of an old date uses the version its manifest recorded)."""
        if (alias is None) == (version is None):
            raise ValueError("give an alias or a version")
        found = (
            self.client.get_model_version_by_alias(self.model_name, alias)
            if alias is not None
            else self.client.get_model_version(self.model_name, str(version))
        )
        with self._scratch() as scratch:
            folder = Path(scratch)
            model_dir = Path(self.client.download_artifacts(found.run_id, "model", str(folder)))
            booster = xgb.Booster()
            # The pyfunc's booster; a version logged before the pyfunc (MLflow's xgboost
            # flavour) keeps its own, so an old night re-runs with its model.
            pyfunc_booster = model_dir / "artifacts" / PYFUNC_BOOSTER
            booster.load_model(str(pyfunc_booster if pyfunc_booster.exists() else model_dir / "model.ubj"))
            calibration = json.loads(
                Path(self.client.download_artifacts(found.run_id, "calibration.json", str(folder))).read_text()
            )
            features = json.loads(
                Path(self.client.download_artifacts(found.run_id, "features.json", str(folder))).read_text()
            )
            metrics = json.loads(
                Path(self.client.download_artifacts(found.run_id, "metrics.json", str(folder))).read_text()
            )
        model = TrainedModel(
            booster,
            Calibrator.from_dict(calibration),
            tuple(f["name"] for f in features),
            metrics=metrics["holdout"],
            split=metrics["split"],
        )
        return RegisteredModel(str(found.version), model, found.run_id, (found.tags or {}).get("training_data.sha256"))

    # --- promotion ------------------------------------------------------------------

    def promote(
        self, version: str | int, holdout: pd.DataFrame | None = None, capacity: int | None = None
    ) -> PromotionDecision:
        """Give `version` the champion alias if it beats the current champion (see the
        module docstring); record the decision on it either way."""
        version = str(version)
        challenger = self.load(version=version)
        champion_version = self.champion_version()
        capacity = capacity or challenger.model.metrics.get("capacity")
        if champion_version is None:
            decision = PromotionDecision(
                PROMOTED, "no champion yet", version, None, challenger.model.metrics, None, "the logged holdout metrics"
            )
        elif champion_version == version:
            decision = PromotionDecision(
                PROMOTED,
                "already the champion",
                version,
                version,
                challenger.model.metrics,
                challenger.model.metrics,
                "the logged holdout metrics",
            )
        else:
            champion = self.load(version=champion_version)
            comparable = holdout is not None and set(champion.model.features) <= set(holdout.columns)
            if comparable:
                challenger_metrics = evaluate(holdout, challenger.model.margin(holdout), capacity)
                champion_metrics = evaluate(holdout, champion.model.margin(holdout), capacity)
                compared_on = "the same holdout rows"
            else:
                challenger_metrics, champion_metrics = challenger.model.metrics, champion.model.metrics
                compared_on = "the logged holdout metrics"
            better, reason = compare(challenger_metrics, champion_metrics)
            decision = PromotionDecision(
                PROMOTED if better else REFUSED,
                reason,
                version,
                champion_version,
                challenger_metrics,
                champion_metrics,
                compared_on,
            )
        if decision.promoted:
            self.client.set_registered_model_alias(self.model_name, CHAMPION, version)
        self._record(challenger.run_id, decision)
        log.info("%s version %s %s: %s", self.model_name, version, decision.decision, decision.reason)
        return decision

    def _record(self, run_id: str, decision: PromotionDecision) -> None:
        version = decision.challenger_version
        self.client.set_model_version_tag(self.model_name, version, "promotion", decision.decision)
        self.client.set_model_version_tag(self.model_name, version, "promotion_reason", decision.reason)
        if decision.champion_version is not None:
            self.client.set_model_version_tag(
                self.model_name, version, "promotion_compared_with", decision.champion_version
            )
        with self._scratch() as scratch:
            path = Path(scratch) / "decision.json"
            _write(path, json.dumps(asdict(decision), indent=2, sort_keys=True))
            self.client.log_artifact(run_id, str(path), "promotion")

    def decision(self, version: str | int) -> dict:
        """The recorded promotion decision of a version."""
        found = self.client.get_model_version(self.model_name, str(version))
        with self._scratch() as scratch:
            path = self.client.download_artifacts(found.run_id, "promotion/decision.json", scratch)
            return json.loads(Path(path).read_text())


PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")
PYFUNC_BOOSTER = "booster.ubj"
INPUT_EXAMPLE_ROWS = 5


def save_pyfunc(model: TrainedModel, examples: pd.DataFrame, calibration: Path, features: Path, path: Path) -> None:
    """Write `model` as one self-contained MLflow pyfunc at `path` (models/pyfunc_model.py
    with the booster, the calibration and the feature order as artifacts), with its
    signature and an input example: the first examples' features, by claim id."""
    import mlflow
    import mlflow.pyfunc
    from mlflow.models import infer_signature

    from models.pyfunc_model import BOOSTER, CALIBRATION, FEATURES

    booster = path.parent / PYFUNC_BOOSTER
    model.booster.save_model(str(booster))
    example = (
        examples.sort_values("claim_id", kind="mergesort")[list(model.features)]
        .head(INPUT_EXAMPLE_ROWS)
        .astype("float64")
        .reset_index(drop=True)
    )
    output = pd.DataFrame({"model_probability": model.score(example)})
    mlflow.pyfunc.save_model(
        str(path),
        python_model=str(PYFUNC_CODE),
        artifacts={BOOSTER: str(booster), CALIBRATION: str(calibration), FEATURES: str(features)},
        signature=infer_signature(example, output),
        input_example=example,
        pip_requirements=[
            f"xgboost-cpu=={xgb.__version__}",
            f"numpy=={np.__version__}",
            f"pandas=={pd.__version__}",
            f"mlflow-skinny=={mlflow.__version__}",
        ],
    )


def _flat_metrics(metrics: dict) -> dict[str, float]:
    flat = {}
    for name in ("average_precision", "precision_at_capacity", "rows", "positives", "capacity"):
        if name in metrics:
            flat[f"holdout_{name}"] = float(metrics[name])
    for typology, recall in metrics.get("recall_at_capacity", {}).items():
        flat[f"holdout_recall_at_capacity_{typology}"] = float(recall)
    return flat


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def model_card(name: str, version: str, model: TrainedModel, training_data: dict) -> str:
    """A markdown model card: what the model is for, what it was trained on, how it
    did on the holdout, and its limits."""
    metrics = model.metrics or {}
    config = model.config.as_dict() if model.config else {}
    lines = [
        f"# {name} version {version}",
        "",
        "Ranks benefit claims by the probability that an investigation finds fraud (실업급여 부정수급). "
        "It orders the investigators' queue beside the rules; it proves nothing by itself.",
        "",
        "## Training data",
        f"- decisions up to {training_data.get('ds', '?')}; examples sha256 `{training_data['sha256']}`",
        f"- snapshot days: {', '.join(str(d) for d in training_data.get('snapshot_days', [])) or '?'}",
    ]
    for part, figures in model.split.items():
        lines.append(
            f"- {part}: {figures['rows']} claims, {figures['positives']} found "
            f"({figures['first_decision']} .. {figures['last_decision']})"
        )
    lines += [
        "",
        "Positives: claims with a finding of a fraud typology, their features as known on the day of the "
        "finding. Negatives: claims never found, at their last certification plus the typical decision "
        "lag. Features never use data dated after the decision point (models/dataset.py).",
        "",
        "## Holdout (decisions on or after " + str(config.get("holdout_from", "?")) + ")",
        f"- average precision: {metrics.get('average_precision', float('nan')):.4f}",
        f"- precision at capacity k={metrics.get('capacity', '?')}: "
        f"{metrics.get('precision_at_capacity', float('nan')):.4f}",
    ]
    for typology, recall in sorted(metrics.get("recall_at_capacity", {}).items()):
        lines.append(f"- recall at capacity, {typology}: {recall:.4f}")
    lines += [
        "",
        "## Model",
        f"- XGBoost {config.get('xgboost_version', xgb.__version__)}, parameters "
        f"`{json.dumps(config.get('xgboost_params', {}), sort_keys=True)}`, "
        f"{config.get('num_boost_round', '?')} rounds; calibration: {model.calibrator.method}",
        "",
        "## Features",
        "",
        "| feature | meaning | source |",
        "| --- | --- | --- |",
        *(f"| `{f.name}` | {f.meaning} | {f.source} |" for f in FEATURES if f.name in model.features),
        "",
        "## Limits",
        "- Labels are past findings: only investigated claims can be positive, so the model learns what "
        "was investigated as well as what was fraud; a never-found claim may be undetected fraud.",
        "- Claims whose decision window is still open are negatives for now.",
        "- A score is a probability calibrated on past decisions; it is not evidence for a sanction.",
        "",
    ]
    return "\n".join(lines)
