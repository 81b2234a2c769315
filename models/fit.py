"""Deterministic XGBoost training on the point-in-time examples of models/dataset.py,
with a time-based holdout, calibration and reason codes.

- Determinism: fixed parameters, seed and thread count, `tree_method="hist"`, rows
  sorted by claim_id before training: the same examples and configuration give the
  same model bytes (`Booster.save_raw()`), whatever order the rows came in.
- Time-based split: decisions before `holdout_from` train; of those, the latest
  `calibration_share` (by decision day) fit the calibration instead of the trees;
  decisions on or after `holdout_from` are the holdout the metrics describe. The
  model that is evaluated is the model that is registered.
- Score: the booster's margin calibrated into a probability (isotonic regression by
  pool-adjacent-violators, or Platt scaling, in numpy: scikit-learn is not a
  dependency). By default (AUTO) isotonic when the calibration part has
  MIN_ISOTONIC_POSITIVES found claims, Platt below that: isotonic calibration is
  monotone but has steps, and on a few positives one step swallows nearly every claim.
- Metrics on the holdout: average precision, precision at the investigators'
  capacity k, and per typology the recall at k (the share of that typology's found
  claims that would have been in the first k).
- Reason codes: the top positive contributions of `pred_contribs`, in the words of
  models/model_features.py.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import xgboost as xgb

from models.model_features import FEATURE_MEANINGS, FEATURE_NAMES
from models.pyfunc_model import ISOTONIC, PLATT, calibrated_probability, sigmoid

AUTO = "auto"  # isotonic with enough found claims to calibrate on, else Platt
MIN_ISOTONIC_POSITIVES = 50
MIN_PLATT_SLOPE = 1e-3
REASON_SEPARATOR = ";"

XGB_PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "aucpr",
    "tree_method": "hist",
    "max_depth": 4,
    "eta": 0.1,
    "min_child_weight": 1.0,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "max_bin": 256,
}


@dataclass(frozen=True)
class TrainingConfig:
    holdout_from: dt.date  # decisions on or after this day are the holdout
    capacity: int = 100  # cases investigators can take: k of precision at k
    calibration_share: float = 0.25  # latest share of the training decisions fitting the calibration
    calibration: str = AUTO
    num_boost_round: int = 200
    seed: int = 0
    nthread: int = 1
    features: tuple[str, ...] = FEATURE_NAMES

    def booster_params(self) -> dict:
        return {**XGB_PARAMS, "seed": self.seed, "nthread": self.nthread}

    def as_dict(self) -> dict:
        values = asdict(self)
        values["holdout_from"] = self.holdout_from.isoformat()
        values["features"] = list(self.features)
        values["xgboost_params"] = self.booster_params()
        values["xgboost_version"] = xgb.__version__
        return values


# --- calibration -----------------------------------------------------------------


@dataclass(frozen=True)
class Calibrator:
    """Margin -> probability. Isotonic: a non-decreasing step function through
    (`x`, `y`), interpolated linearly between points and flat beyond them. Platt:
    1 / (1 + exp(-(a * margin + b)))."""

    method: str
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    a: float = 1.0
    b: float = 0.0

    def __call__(self, margin: np.ndarray) -> np.ndarray:
        return calibrated_probability(self.to_dict(), margin)

    def to_dict(self) -> dict:
        return {"method": self.method, "x": list(self.x), "y": list(self.y), "a": self.a, "b": self.b}

    @classmethod
    def from_dict(cls, values: dict) -> "Calibrator":
        return cls(values["method"], tuple(values["x"]), tuple(values["y"]), values["a"], values["b"])


def fit_isotonic(margin: np.ndarray, labels: np.ndarray) -> Calibrator:
    """Pool adjacent violators: the non-decreasing fit of the labels on the margin
    that minimises squared error; its values are label means, so within [0, 1]."""
    margin = np.asarray(margin, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if margin.size == 0:
        return Calibrator(ISOTONIC)
    order = np.lexsort((labels, margin))
    distinct, first_index, counts = np.unique(margin[order], return_index=True, return_counts=True)
    sums = np.add.reduceat(labels[order], first_index)
    blocks: list[list[float]] = []  # [sum, weight, x of the block's first point, x of its last]
    for x, total, weight in zip(distinct, sums, counts):
        blocks.append([float(total), float(weight), float(x), float(x)])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, weight, _, last = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += weight
            blocks[-1][3] = last
    xs, ys = [], []
    for total, weight, first, last in blocks:
        mean = total / weight
        xs.append(first)
        ys.append(mean)
        if last != first:
            xs.append(last)
            ys.append(mean)
    return Calibrator(ISOTONIC, tuple(xs), tuple(ys))


def fit_platt(margin: np.ndarray, labels: np.ndarray, iterations: int = 100) -> Calibrator:
    """Platt scaling by Newton's method with a backtracking line search, on Platt's
    smoothed targets: the optimum is finite even when the margin separates the
    classes, and every step lowers the loss, so the fit cannot run off to a slope that
    rounds every probability to 0 or 1."""
    margin = np.asarray(margin, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    positives, negatives = labels.sum(), labels.size - labels.sum()
    targets = np.where(labels > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))

    def loss(a: float, b: float) -> float:
        z = a * margin + b
        return float(np.sum(np.logaddexp(0.0, z) - targets * z))  # cross-entropy, overflow-free

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(iterations):
        p = sigmoid(a * margin + b)
        w = np.maximum(p * (1 - p), 1e-12)
        gradient = np.array([np.sum((p - targets) * margin), np.sum(p - targets)])
        hessian = np.array(
            [[np.sum(w * margin * margin), np.sum(w * margin)], [np.sum(w * margin), np.sum(w)]]
        ) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0
        while scale > 1e-10 and not loss(a - scale * step[0], b - scale * step[1]) <= current:  # NaN: no
            scale /= 2
        if scale <= 1e-10:
            break
        a, b = a - scale * step[0], b - scale * step[1]
        previous, current = current, loss(a, b)
        if previous - current < 1e-12 * max(1.0, abs(previous)):
            break
    if a <= 0:
        # The calibration days say the margin tells nothing (or less than nothing): the
        # base rate for every claim, with a slope just above 0 so that the order of the
        # margin, which the holdout figures measured, is still the order of the scores.
        a, b = MIN_PLATT_SLOPE, float(np.log(targets.mean() / (1 - targets.mean())))
    return Calibrator(PLATT, a=float(a), b=float(b))


def fit_calibrator(method: str, margin: np.ndarray, labels: np.ndarray) -> Calibrator:
    """AUTO: isotonic when the calibration part holds MIN_ISOTONIC_POSITIVES found claims
    or more, else Platt. Isotonic steps fitted on a handful of positives pool nearly
    every claim into one step, and the night's probabilities no longer rank anything;
    Platt is monotone in the margin, so the model's order survives calibration."""
    if method == AUTO:
        method = ISOTONIC if np.asarray(labels).sum() >= MIN_ISOTONIC_POSITIVES else PLATT
    if method == ISOTONIC:
        return fit_isotonic(margin, labels)
    if method == PLATT:
        return fit_platt(margin, labels)
    raise ValueError(f"unknown calibration {method!r}")


# --- metrics -----------------------------------------------------------------------


def ranking(scores: np.ndarray, claim_ids: np.ndarray) -> np.ndarray:
    """Indices from the highest score down; ties by claim_id (deterministic)."""
    return np.lexsort((np.asarray(claim_ids, dtype=str), -np.asarray(scores, dtype=np.float64)))


def average_precision(labels: np.ndarray, order: np.ndarray) -> float:
    """Mean over the positives of the precision at their rank (0 without positives)."""
    ranked = np.asarray(labels)[order]
    if ranked.sum() == 0:
        return 0.0
    hits = np.cumsum(ranked)
    precision_at_rank = hits / np.arange(1, ranked.size + 1)
    return float(np.sum(precision_at_rank[ranked == 1]) / ranked.sum())


def precision_at_k(labels: np.ndarray, order: np.ndarray, k: int) -> float:
    """Share of positives among the first k (the first n when there are fewer rows)."""
    top = np.asarray(labels)[order][:k]
    return float(top.mean()) if top.size else 0.0


def recall_at_k_by_typology(labels: np.ndarray, fraud_types: np.ndarray, order: np.ndarray, k: int) -> dict:
    """Per typology among the positives: the share of its claims in the first k."""
    in_top = np.zeros(len(order), dtype=bool)
    in_top[order[:k]] = True
    labels, fraud_types = np.asarray(labels), np.asarray(fraud_types, dtype=object)
    recall = {}
    for typology in sorted({t for t, label in zip(fraud_types, labels) if label == 1 and t is not None}):
        of_type = (labels == 1) & (fraud_types == typology)
        recall[typology] = float(in_top[of_type].mean())
    return recall


def evaluate(frame: pd.DataFrame, scores: np.ndarray, capacity: int) -> dict:
    """Examples (claim_id, label, fraud_type) and their scores -> the metrics."""
    order = ranking(scores, frame["claim_id"].to_numpy())
    labels = frame["label"].to_numpy()
    return {
        "rows": int(len(frame)),
        "positives": int(labels.sum()),
        "capacity": int(capacity),
        "average_precision": average_precision(labels, order),
        "precision_at_capacity": precision_at_k(labels, order, capacity),
        "recall_at_capacity": recall_at_k_by_typology(labels, frame["fraud_type"].to_numpy(), order, capacity),
    }


# --- the model -----------------------------------------------------------------------


@dataclass
class TrainedModel:
    booster: xgb.Booster
    calibrator: Calibrator
    features: tuple[str, ...]
    config: TrainingConfig | None = None
    metrics: dict = field(default_factory=dict)
    split: dict = field(default_factory=dict)

    def model_bytes(self) -> bytes:
        return bytes(self.booster.save_raw(raw_format="ubj"))

    def values(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[list(self.features)].to_numpy(dtype=np.float64)

    def matrix(self, frame: pd.DataFrame) -> xgb.DMatrix:
        return xgb.DMatrix(self.values(frame), feature_names=list(self.features), nthread=1)

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(self.matrix(frame), output_margin=True).astype(np.float64)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of fraud per row."""
        return self.calibrator(self.margin(frame))

    def reasons(self, frame: pd.DataFrame, top: int = 3) -> list[list[str]]:
        return reason_codes(self.booster, self.values(frame), self.features, top)


def reason_codes(booster: xgb.Booster, values: np.ndarray, features: tuple[str, ...], top: int = 3) -> list[list[str]]:
    """Feature values (rows x features, in the booster's order) -> per row, the
    `top` features that pushed its score up the most (positive contributions only,
    largest first; ties by feature order), in words with the row's value."""
    values = np.asarray(values, dtype=np.float64)
    matrix = xgb.DMatrix(values, feature_names=list(features), nthread=1)
    contributions = booster.predict(matrix, pred_contribs=True)[:, : len(features)]
    words = []
    for row_contributions, row_values in zip(contributions, values):
        order = np.lexsort((np.arange(len(features)), -row_contributions))
        chosen = [i for i in order if row_contributions[i] > 0][:top]
        words.append(
            [f"{FEATURE_MEANINGS.get(features[i], features[i])}: {_value_text(row_values[i])}" for i in chosen]
        )
    return words


def _value_text(value: float) -> str:
    if value is None or math.isnan(value):
        return "unknown"
    return f"{value:g}"


def split_by_time(examples: pd.DataFrame, config: TrainingConfig) -> dict[str, pd.DataFrame]:
    """Examples -> {"fit", "calibration", "holdout"}, each sorted by claim_id. The
    calibration part is the latest `calibration_share` of the training decisions by
    decision day (whole days, so the split does not depend on row order)."""
    decision_day = pd.to_datetime(examples["decision_on"]).dt.date
    before = examples[decision_day < config.holdout_from]
    holdout = examples[decision_day >= config.holdout_from]
    days = np.sort(pd.to_datetime(before["decision_on"]).dt.date.unique())
    if len(days) and config.calibration_share > 0:
        calibration_from = days[min(len(days) - 1, int(math.floor(len(days) * (1 - config.calibration_share))))]
    else:
        calibration_from = dt.date.max
    before_day = pd.to_datetime(before["decision_on"]).dt.date
    parts = {
        "fit": before[before_day < calibration_from],
        "calibration": before[before_day >= calibration_from],
        "holdout": holdout,
    }
    return {name: part.sort_values("claim_id", kind="mergesort").reset_index(drop=True) for name, part in parts.items()}


def fit_booster(fit: pd.DataFrame, config: TrainingConfig) -> xgb.Booster:
    """Trees on the fit part (sorted by claim_id), deterministically."""
    ordered = fit.sort_values("claim_id", kind="mergesort")
    matrix = xgb.DMatrix(
        ordered[list(config.features)].to_numpy(dtype=np.float64),
        label=ordered["label"].to_numpy(dtype=np.float64),
        feature_names=list(config.features),
        nthread=config.nthread,
    )
    return xgb.train(config.booster_params(), matrix, num_boost_round=config.num_boost_round, verbose_eval=False)


def train(examples: pd.DataFrame, config: TrainingConfig) -> TrainedModel:
    """Examples (models/dataset.py EXAMPLE_COLUMNS, as pandas) -> the trained,
    calibrated model and its holdout metrics."""
    parts = split_by_time(examples, config)
    if parts["fit"]["label"].nunique() < 2:
        raise ValueError("the training decisions need both found and never-found claims")
    booster = fit_booster(parts["fit"], config)
    model = TrainedModel(booster, Calibrator(config.calibration), tuple(config.features), config)
    calibration = parts["calibration"] if len(parts["calibration"]) else parts["fit"]
    model.calibrator = fit_calibrator(config.calibration, model.margin(calibration), calibration["label"].to_numpy())
    holdout = parts["holdout"]
    model.metrics = evaluate(holdout, model.margin(holdout), config.capacity) if len(holdout) else {}
    model.split = {
        name: {
            "rows": int(len(part)),
            "positives": int(part["label"].sum()),
            "first_decision": _first(part),
            "last_decision": _last(part),
        }
        for name, part in parts.items()
    }
    return model


def _first(part: pd.DataFrame) -> str | None:
    return str(min(part["decision_on"])) if len(part) else None


def _last(part: pd.DataFrame) -> str | None:
    return str(max(part["decision_on"])) if len(part) else None


def calibration_json(model: TrainedModel) -> str:
    return json.dumps(model.calibrator.to_dict(), indent=2, sort_keys=True)
