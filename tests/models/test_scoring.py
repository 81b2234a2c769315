"""Scoring inside Spark tasks (models/scoring.py): the same probabilities and reasons
as scoring the whole frame at once with the model, whatever the partitioning."""

import math

import pytest
from conftest import tiny_examples, train_tiny_model

from models.scoring import score_claims


def test_scores_per_partition_equal_the_model_on_the_whole_frame(spark):
    model = train_tiny_model()
    examples = tiny_examples()
    frame = examples[["claim_id", *model.features]].astype({name: "float64" for name in model.features})
    frame.loc[frame.index[:3], "worked_days"] = float("nan")  # missing values travel too
    expected_probability = dict(zip(frame["claim_id"], model.score(frame)))
    expected_reasons = dict(zip(frame["claim_id"], model.reasons(frame)))

    features = spark.createDataFrame(frame).repartition(3)
    scored = {row["claim_id"]: row for row in score_claims(model, features).collect()}

    assert set(scored) == set(frame["claim_id"])
    for claim_id, probability in expected_probability.items():
        got = scored[claim_id]["model_probability"]
        assert (got is None and math.isnan(probability)) or got == pytest.approx(probability, abs=0, rel=0)
        assert list(scored[claim_id]["model_reasons"]) == expected_reasons[claim_id]
    assert len({round(p, 6) for p in expected_probability.values()}) > 2  # not a constant model


def test_no_claims_score_to_an_empty_frame(spark):
    model = train_tiny_model()
    empty = spark.createDataFrame([], "claim_id string, " + ", ".join(f"`{n}` double" for n in model.features))
    assert score_claims(model, empty).count() == 0
