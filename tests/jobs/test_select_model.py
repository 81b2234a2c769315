"""Selecting the night's model: none without a registry (and nothing created), the
champion when there is one, and the version an earlier run of the date recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import register_tiny_model, train_tiny_model

from fraud.layout import Layout
from fraud.storage import write_json
from jobs import select_model
from jobs.stage_io import Night, SelectModelInputs, SelectModelResult

OLD_NIGHT = dt.date(2026, 3, 2)
NEW_NIGHT = dt.date(2026, 3, 9)


def _select(warehouse, night: dt.date) -> SelectModelResult:
    return select_model.run(None, SelectModelInputs(), Night(night, warehouse))


@pytest.fixture(autouse=True)
def embedded_store_only(monkeypatch):
    monkeypatch.delenv("FRAUD_MLFLOW_TRACKING_URI", raising=False)


def test_without_a_registry_there_is_no_model_and_nothing_is_written(tmp_path):
    warehouse = tmp_path / "warehouse"
    result = _select(warehouse, OLD_NIGHT)
    assert result == SelectModelResult(model_version=None, chosen_by=select_model.NO_MODEL)
    assert not warehouse.exists()  # no mlflow/ store, nothing at all


def test_a_night_that_ran_on_the_rules_alone_reruns_on_the_rules_alone(tmp_path):
    from models.registry import ModelRegistry

    warehouse = tmp_path / "warehouse"
    write_json(Layout(warehouse).outputs(OLD_NIGHT) / "run_manifest.json", {"ds": "2026-03-02", "model_version": None})
    assert _select(warehouse, OLD_NIGHT) == SelectModelResult(model_version=None, chosen_by=select_model.PINNED)
    assert not (warehouse / "mlflow").exists()

    # A champion promoted later does not change what that night ran with.
    champion = register_tiny_model(warehouse, train_tiny_model(num_boost_round=5))
    assert ModelRegistry(warehouse).promote(champion).promoted
    assert _select(warehouse, OLD_NIGHT).model_version is None
    assert _select(warehouse, NEW_NIGHT).model_version == champion


def test_the_champion_then_the_pinned_version_after_a_newer_champion(tmp_path):
    from models.registry import CHAMPION, ModelRegistry

    warehouse = tmp_path / "warehouse"
    model = train_tiny_model(num_boost_round=5)
    first = register_tiny_model(warehouse, model)
    registry = ModelRegistry(warehouse)
    assert registry.promote(first).promoted
    assert _select(warehouse, OLD_NIGHT) == SelectModelResult(model_version=first, chosen_by=select_model.CHAMPION)

    # The old night ran with the first version and recorded it.
    write_json(Layout(warehouse).outputs(OLD_NIGHT) / "run_manifest.json", {"ds": "2026-03-02", "model_version": first})
    second = register_tiny_model(warehouse, model)
    registry.client.set_registered_model_alias(registry.model_name, CHAMPION, second)

    assert _select(warehouse, OLD_NIGHT) == SelectModelResult(model_version=first, chosen_by=select_model.PINNED)
    assert _select(warehouse, NEW_NIGHT) == SelectModelResult(model_version=second, chosen_by=select_model.CHAMPION)


def test_pipeline_passes_the_model_version_from_selection_to_the_manifest():
    from jobs.pipeline import STAGES

    stages = {stage.name: stage for stage in STAGES}
    names = [stage.name for stage in STAGES]
    assert names.index("collusion") < names.index("select_model") < names.index("crossmatch")
    written = {  # runs/<ds>/<stage>.json as the earlier stages wrote them
        "ingest": {"ds": "d", "landing": "l", "drops": [], "landed_now": []},
        "conform": {"ds": "d", "conformed": "c", "rows": {}, "storage": {}, "mode": "full", "base": None, "why": ""},
        "collusion": {
            "ds": "d",
            "collusion": "g",
            "rings": 0,
            "claims_in_rings": 0,
            "hubs": 0,
            "mode": "full",
            "base": None,
            "why": "",
            "recomputed_claims": None,
            "analysed_components": 0,
        },
        "select_model": {"model_version": "3", "chosen_by": select_model.CHAMPION},
        "crossmatch": {
            "rules_version": "r1",
            "model_version": "3",
            "cases": 0,
            "workplaces": 0,
            "repeat_offenders": 0,
            "files": [],
        },
    }
    done = {name: stages[name].result.from_json(payload) for name, payload in written.items()}
    assert stages["crossmatch"].inputs(None, done).model_version == "3"
    assert stages["publish"].inputs(None, done).model_version == "3"
