"""Scoring claims with a trained model: calibrated probability and reason codes.

The features come from Spark (models/features.py feature_frame); XGBoost scores them
on the driver, one batch, and the result goes back to Spark as a small DataFrame
(claim_id, model_probability, model_reasons) that rules/engine.py:cases combines with
the rule evidence. No I/O.
"""

from __future__ import annotations

import math

from pyspark.sql import DataFrame

from models.train import TrainedModel

MODEL_REASON_COUNT = 3  # reason codes per claim, the largest contributions first
MODEL_SCORE_SCHEMA = "claim_id string, model_probability double, model_reasons array<string>"


def score_claims(model: TrainedModel, features: DataFrame, top: int = MODEL_REASON_COUNT) -> DataFrame:
    """Features (claim_id, one double per feature of the model) -> (claim_id,
    model_probability: the calibrated probability, model_reasons: the `top` features
    that raised it, in words), one row per claim, in claim_id order."""
    frame = features.select("claim_id", *model.features).orderBy("claim_id").toPandas()
    spark = features.sparkSession
    if frame.empty:
        return spark.createDataFrame([], MODEL_SCORE_SCHEMA)
    for name in model.features:
        frame[name] = frame[name].astype("float64")
    probabilities = model.score(frame)
    reasons = model.reasons(frame, top)
    rows = [
        (claim_id, None if math.isnan(probability) else float(probability), list(words))
        for claim_id, probability, words in zip(frame["claim_id"], probabilities, reasons)
    ]
    return spark.createDataFrame(rows, MODEL_SCORE_SCHEMA)
