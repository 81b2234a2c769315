"""Deterministic training, calibration, metrics and reason codes (no Spark)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from models.fit import (
    PLATT,
    TrainingConfig,
    average_precision,
    fit_isotonic,
    fit_platt,
    precision_at_k,
    ranking,
    recall_at_k_by_typology,
    split_by_time,
    train,
)

CONFIG = TrainingConfig(holdout_from=dt.date(2025, 10, 1), capacity=30, num_boost_round=60)


def test_training_twice_on_the_same_data_gives_the_same_model_bytes(examples):
    first = train(examples, CONFIG)
    second = train(examples, CONFIG)
    shuffled = train(examples.sample(frac=1.0, random_state=3), CONFIG)
    assert first.model_bytes() == second.model_bytes() == shuffled.model_bytes()
    assert first.calibrator == second.calibrator == shuffled.calibrator
    assert first.metrics == shuffled.metrics


def test_the_split_is_by_decision_time(examples):
    parts = split_by_time(examples, CONFIG)
    assert max(parts["fit"]["decision_on"]) < min(parts["calibration"]["decision_on"])
    assert max(parts["calibration"]["decision_on"]) < CONFIG.holdout_from <= min(parts["holdout"]["decision_on"])
    assert sum(len(p) for p in parts.values()) == len(examples)


def test_the_model_learns_the_signal_and_reports_holdout_metrics(examples):
    model = train(examples, CONFIG)
    metrics = model.metrics
    base_rate = metrics["positives"] / metrics["rows"]
    assert metrics["average_precision"] > 2 * base_rate
    assert metrics["precision_at_capacity"] > 2 * base_rate
    assert set(metrics["recall_at_capacity"]) == {"UNDECLARED_WORK", "ABROAD_CERTIFICATION"}


@pytest.mark.parametrize("fit", [fit_isotonic, fit_platt])
def test_calibration_is_monotone_and_a_probability(fit):
    rng = np.random.default_rng(1)
    margin = rng.normal(size=500)
    labels = (rng.random(500) < 1 / (1 + np.exp(-2 * margin))).astype(float)
    calibrator = fit(margin, labels)
    grid = np.linspace(-10, 10, 2001)
    probabilities = calibrator(grid)
    assert np.all(np.diff(probabilities) >= 0)
    assert probabilities.min() >= 0.0 and probabilities.max() <= 1.0
    assert probabilities[0] < 0.2 and probabilities[-1] > 0.8


def test_auto_calibration_keeps_the_margins_order_when_few_claims_were_found():
    from models.fit import AUTO, ISOTONIC, MIN_ISOTONIC_POSITIVES, PLATT, fit_calibrator

    rng = np.random.default_rng(2)
    margin = rng.normal(size=2000)
    few = np.zeros(2000)
    few[np.argsort(margin)[-5:]] = 1.0  # 5 found claims, all at the top
    few[np.argsort(margin)[:3]] = 1.0  # and 3 at the bottom
    isotonic = fit_isotonic(margin, few)(margin)
    assert len(np.unique(isotonic)) <= 3  # the steps pool almost everything into one value
    auto = fit_calibrator(AUTO, margin, few)
    assert auto.method == PLATT
    assert len(np.unique(auto(margin))) == len(np.unique(margin))  # every claim keeps its place
    many = (rng.random(2000) < 1 / (1 + np.exp(-3 * margin))).astype(float)
    assert many.sum() >= MIN_ISOTONIC_POSITIVES and fit_calibrator(AUTO, margin, many).method == ISOTONIC


def test_isotonic_pools_violators_into_label_means():
    calibrator = fit_isotonic(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.0, 1.0]))
    assert list(calibrator(np.array([0.0, 1.0, 2.0, 3.0]))) == [0.0, 0.5, 0.5, 1.0]


def test_scores_are_calibrated_probabilities(examples):
    model = train(examples, TrainingConfig(holdout_from=dt.date(2025, 10, 1), num_boost_round=30, calibration=PLATT))
    scores = model.score(examples)
    margins = model.margin(examples)
    assert scores.min() >= 0 and scores.max() <= 1
    order = np.argsort(margins, kind="mergesort")
    assert np.all(np.diff(scores[order]) >= 0)


def test_metrics_on_a_ranking_worked_by_hand():
    labels = np.array([1, 0, 1, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.2, 0.2])
    order = ranking(scores, np.array(["a", "b", "c", "d", "e"]))
    assert average_precision(labels, order) == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert precision_at_k(labels, order, 2) == 0.5
    fraud_types = np.array(["UNDECLARED_WORK", None, "GHOST_EMPLOYMENT", None, None], dtype=object)
    assert recall_at_k_by_typology(labels, fraud_types, order, 2) == {"GHOST_EMPLOYMENT": 0.0, "UNDECLARED_WORK": 1.0}


def test_reason_codes_name_what_raised_the_score_in_words(examples):
    model = train(examples, CONFIG)
    suspicious = examples[examples["undeclared_work_certifications"] >= 3].head(1)
    [reasons] = model.reasons(suspicious)
    assert 1 <= len(reasons) <= 3
    assert reasons[0].startswith("certified periods with work on record and 0 KRW declared: ")


def test_platt_on_separable_classes_stays_finite_and_keeps_the_order():
    margin = np.concatenate([np.linspace(-5, 0, 300), np.linspace(2, 4, 6)])
    labels = np.concatenate([np.zeros(300), np.ones(6)])  # every found claim above every other
    calibrator = fit_platt(margin, labels)
    probabilities = calibrator(margin)
    assert 0 < calibrator.a < 100
    assert np.all(np.diff(probabilities) > 0)  # strictly increasing: nothing pooled, nothing reversed
    assert 1e-6 < probabilities.min() and probabilities.max() < 1 - 1e-6


def test_platt_never_turns_the_order_upside_down():
    margin = np.linspace(-3, 3, 200)
    labels = (margin < -2.5).astype(float)  # on this calibration set, high margins were never found
    calibrator = fit_platt(margin, labels)
    probabilities = calibrator(margin)
    assert 0 < calibrator.a <= 1e-3
    assert np.allclose(probabilities, labels.mean(), atol=0.02)  # the base rate: no information
    assert np.all(np.diff(probabilities) > 0)  # yet the margin's order, which the holdout measured
