"""Synthetic training examples for the model tests (no Spark): features with a known
signal per typology, decisions spread over 2025."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

TYPOLOGIES = ("UNDECLARED_WORK", "ABROAD_CERTIFICATION")


def synthetic_examples(rows: int = 800, seed: int = 7, signal: bool = True):
    """Examples in the shape of models/dataset.py EXAMPLE_COLUMNS. Positives of
    UNDECLARED_WORK have more undeclared-work certifications, ABROAD_CERTIFICATION
    more abroad certifications; `signal=False` gives the same labels with features
    that carry no information."""
    import pandas as pd

    from models.features import FEATURE_NAMES

    rng = np.random.default_rng(seed)
    labels = (rng.random(rows) < 0.15).astype(int)
    fraud_types = np.where(labels == 1, rng.choice(TYPOLOGIES, rows), None)
    features = {name: rng.poisson(1.0, rows).astype(float) for name in FEATURE_NAMES}
    features["spell_days"] = np.where(rng.random(rows) < 0.1, np.nan, rng.integers(90, 2000, rows)).astype(float)
    if signal:
        features["undeclared_work_certifications"] += 3 * (fraud_types == "UNDECLARED_WORK") * rng.random(rows)
        features["abroad_certifications"] += 3 * (fraud_types == "ABROAD_CERTIFICATION") * rng.random(rows)
    first = dt.date(2025, 1, 1)
    decisions = [first + dt.timedelta(days=int(d)) for d in rng.integers(0, 365, rows)]
    frame = pd.DataFrame({
        "claim_id": [f"CL-{i:05d}" for i in range(rows)],
        "decision_on": decisions,
        "snapshot_on": [dt.date(d.year, d.month, 1) for d in decisions],
        "label": labels,
        "fraud_type": fraud_types,
        **features,
    })
    return frame


@pytest.fixture(scope="session")
def examples():
    return synthetic_examples()


@pytest.fixture(scope="session")
def noise_examples():
    return synthetic_examples(signal=False)
