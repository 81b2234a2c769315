"""The additional-collection multipliers (fraud/config.py): read from the environment,
recorded in the manifest's configuration, and refused above the legal 5x."""

from __future__ import annotations

import pytest

from fraud.config import Settings


def test_multipliers_come_from_the_environment_and_reach_the_manifest(monkeypatch):
    monkeypatch.setenv("FRAUD_ADDITIONAL_COLLECTION", "1")
    monkeypatch.setenv("FRAUD_ADDITIONAL_COLLECTION_COLLUSION", "3.5")
    recorded = Settings.from_env().as_manifest()
    assert recorded["additional_collection_multiplier"] == 1.0
    assert recorded["additional_collection_collusion_multiplier"] == 3.5


def test_a_multiplier_beyond_the_law_is_refused(monkeypatch):
    monkeypatch.setenv("FRAUD_ADDITIONAL_COLLECTION_COLLUSION", "6")
    with pytest.raises(ValueError, match="additional_collection_collusion_multiplier must be between 0 and 5.0"):
        Settings.from_env()
