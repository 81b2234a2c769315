"""Scoring claims with a trained model: calibrated probability and reason codes.

The features come from Spark (models/model_features.py feature_frame); XGBoost scores them
inside Spark tasks, a partition at a time (mapInPandas: the model travels to the
executors, the claims never come to the driver), giving (claim_id, model_probability,
model_reasons) that rules/engine.py:cases combines with the rule evidence. A row's
score and reasons depend on that row alone, so the batching does not change them.
No I/O.
"""

from __future__ import annotations

import math

from pyspark.sql import DataFrame

from models.fit import TrainedModel

MODEL_REASON_COUNT = 3  # reason codes per claim, the largest contributions first
MODEL_SCORE_SCHEMA = "claim_id string, model_probability double, model_reasons array<string>"


def score_claims(model: TrainedModel, features: DataFrame, top: int = MODEL_REASON_COUNT) -> DataFrame:
    """Features (claim_id, one double per feature of the model) -> (claim_id,
    model_probability: the calibrated probability, model_reasons: the `top` features
    that raised it, in words), one row per claim."""
    names = list(model.features)

    def score_batches(batches):
        import pandas as pd

        for frame in batches:
            if frame.empty:
                continue
            frame = frame.astype({name: "float64" for name in names})
            probabilities = model.score(frame)
            reasons = model.reasons(frame, top)
            yield pd.DataFrame(
                {
                    "claim_id": frame["claim_id"].to_numpy(),
                    "model_probability": [None if math.isnan(p) else float(p) for p in probabilities],
                    "model_reasons": [list(words) for words in reasons],
                }
            )

    return features.select("claim_id", *names).mapInPandas(score_batches, schema=MODEL_SCORE_SCHEMA)
