"""The scoring model as one self-contained MLflow pyfunc.

A registered version is this file (MLflow's "models from code": it is copied into the
model and run when the model is loaded) with three artifacts: the booster
(`booster.ubj`), its calibration (`calibration.json`) and the feature order
(`features.json`), plus a signature and an input example. So

    mlflow.pyfunc.load_model("models:/fraud_scoring@champion").predict(features)

returns, anywhere, the calibrated probability the nightly run used for the same
features (a DataFrame with one column per feature of `features.json`).

It imports nothing of the project: the calibration below is the one the project
itself applies (models/fit.py:Calibrator calls `calibrated_probability`).
"""

from __future__ import annotations

import json

import numpy as np

ISOTONIC = "isotonic"
PLATT = "platt"
BOOSTER, CALIBRATION, FEATURES = "booster", "calibration", "features"


def calibrated_probability(calibration: dict, margin) -> np.ndarray:
    """Margin -> probability. Isotonic: a non-decreasing step function through (`x`,
    `y`), interpolated linearly between points and flat beyond them. Platt:
    1 / (1 + exp(-(a * margin + b)))."""
    margin = np.asarray(margin, dtype=np.float64)
    if calibration["method"] == ISOTONIC:
        if not calibration["x"]:
            return np.zeros_like(margin)
        return np.clip(np.interp(margin, np.asarray(calibration["x"]), np.asarray(calibration["y"])), 0.0, 1.0)
    return sigmoid(calibration["a"] * margin + calibration["b"])


def sigmoid(z) -> np.ndarray:
    """1 / (1 + e^-z) without overflow: e^700 is finite, and beyond it p is 0 or 1 anyway."""
    return 1.0 / (1.0 + np.exp(np.clip(-np.asarray(z, dtype=np.float64), -700.0, 700.0)))


def scoring_model():
    """The pyfunc: features (a DataFrame) -> `model_probability` per row."""
    import mlflow.pyfunc
    import pandas as pd
    import xgboost as xgb

    class FraudScoringModel(mlflow.pyfunc.PythonModel):
        def load_context(self, context):
            self.booster = xgb.Booster()
            self.booster.load_model(context.artifacts[BOOSTER])
            with open(context.artifacts[CALIBRATION], encoding="utf-8") as handle:
                self.calibration = json.load(handle)
            with open(context.artifacts[FEATURES], encoding="utf-8") as handle:
                self.features = [feature["name"] for feature in json.load(handle)]

        def predict(self, context, model_input, params=None):
            values = pd.DataFrame(model_input)[self.features].to_numpy(dtype=np.float64)
            matrix = xgb.DMatrix(values, feature_names=self.features, nthread=1)
            margin = self.booster.predict(matrix, output_margin=True).astype(np.float64)
            return pd.DataFrame({"model_probability": calibrated_probability(self.calibration, margin)})

    return FraudScoringModel()


if __name__ != "models.pyfunc_model":  # run by MLflow as the model's code, not imported by the project
    from mlflow.models import set_model

    set_model(scoring_model())
