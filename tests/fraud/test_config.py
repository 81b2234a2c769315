"""The additional-collection multipliers (fraud/config.py): read from the environment,
recorded in the manifest's configuration, and refused above the legal 5x; the control
sample's size."""

from __future__ import annotations

import pytest

from fraud.config import SampleSize, Settings


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


def test_the_control_sample_is_a_count_or_a_share_and_reaches_the_manifest(monkeypatch):
    monkeypatch.setenv("FRAUD_CONTROL_SAMPLE", "0.5%")
    settings = Settings.from_env()
    assert settings.as_manifest()["control_sample"] == "0.5%"
    assert SampleSize.parse("0.5%").of(1000) == 5 and SampleSize.parse("0.5%").of(1001) == 6
    # Exact arithmetic: in floats 7% of 100 is 7.000000000000001 and 0.9% of 1,000 is
    # 9.000000000000002, which round up to one claim more than asked.
    assert SampleSize.parse("7%").of(100) == 7 and SampleSize.parse("0.9%").of(1000) == 9
    assert all(SampleSize.parse(f"{p}%").of(100 * n) == p * n for p in range(1, 101) for n in (1, 3, 7))
    assert SampleSize.parse("200").of(1000) == 200 and SampleSize.parse("200").of(50) == 50
    for bad in ("", "-3", "1.5", "101%", "ten", "5 %x"):
        with pytest.raises(ValueError, match="FRAUD_CONTROL_SAMPLE"):
            Settings(control_sample=bad)


def test_a_notice_gives_14_days_to_answer_unless_set_and_never_fewer_than_the_laws_10(monkeypatch):
    assert Settings.from_env().notice_response_days == 14
    monkeypatch.setenv("FRAUD_NOTICE_RESPONSE_DAYS", "30")
    settings = Settings.from_env()
    assert settings.notice_response_days == 30 and "notice_response_days" not in settings.as_manifest()
    monkeypatch.setenv("FRAUD_NOTICE_RESPONSE_DAYS", "9")
    with pytest.raises(ValueError, match="notice_response_days must be at least 10, got 9"):
        Settings.from_env()


def test_the_history_a_night_builds_on_comes_from_the_environment_and_not_the_manifest(monkeypatch):
    """How a night is computed, not what it finds: the manifest (and so `fraudctl
    verify`'s comparison) is the same whichever way a night went."""
    from fraud.config import INCREMENTAL_MIN_ROWS

    monkeypatch.delenv("FRAUD_INCREMENTAL_MIN_ROWS", raising=False)
    assert Settings.from_env().incremental_min_rows == INCREMENTAL_MIN_ROWS == 1_000_000
    monkeypatch.setenv("FRAUD_INCREMENTAL_MIN_ROWS", "0")
    settings = Settings.from_env()
    assert settings.incremental_min_rows == 0 and "incremental_min_rows" not in settings.as_manifest()
