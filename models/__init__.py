"""Scoring models (XGBoost) trained on past findings: training, registry and scoring."""
