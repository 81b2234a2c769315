"""The MLflow registry inside the warehouse: versions with their evidence, promotion
of a better challenger, refusal of a worse one, loading by alias and by version."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from models.fit import TrainingConfig, split_by_time, train

CONFIG = TrainingConfig(holdout_from=dt.date(2025, 10, 1), capacity=30, num_boost_round=40)


@pytest.fixture(scope="module")
def registered(tmp_path_factory, examples, noise_examples):
    import os

    from models.dataset import dataset_checksum
    from models.registry import ModelRegistry

    os.environ.pop("FRAUD_MLFLOW_TRACKING_URI", None)
    warehouse = tmp_path_factory.mktemp("warehouse")
    registry = ModelRegistry(warehouse)
    weak = train(noise_examples, CONFIG)
    strong = train(examples, CONFIG)
    holdout = split_by_time(examples, CONFIG)["holdout"]
    steps = []
    for model, data in ((weak, noise_examples), (strong, examples), (weak, noise_examples)):
        version = registry.log_version(model, data, {"sha256": dataset_checksum(data), "ds": "2025-12-31"})
        steps.append((version, registry.promote(version, holdout=holdout)))
    return {
        "registry": registry,
        "warehouse": warehouse,
        "weak": weak,
        "strong": strong,
        "steps": steps,
        "examples": examples,
    }


def test_the_store_lives_in_the_warehouse(registered):
    warehouse = registered["warehouse"]
    assert registered["registry"].tracking_uri == f"sqlite:///{warehouse.resolve()}/mlflow/mlflow.db"
    assert (warehouse / "mlflow" / "mlflow.db").exists()
    assert len(list((warehouse / "mlflow" / "artifacts").rglob("booster.ubj"))) == 3
    assert not any((warehouse / "mlflow" / "tmp").iterdir())  # scratch cleaned up


def test_the_first_version_becomes_champion_when_there_is_none(registered):
    version, decision = registered["steps"][0]
    assert (version, decision.decision, decision.reason) == ("1", "promoted", "no champion yet")


def test_a_better_challenger_is_promoted_with_the_figures_of_both(registered):
    version, decision = registered["steps"][1]
    assert version == "2" and decision.promoted
    assert decision.champion_version == "1" and decision.compared_on == "the same holdout rows"
    assert decision.challenger_metrics["precision_at_capacity"] > decision.champion_metrics["precision_at_capacity"]
    recorded = registered["registry"].decision("2")
    assert recorded["decision"] == "promoted" and recorded["champion_metrics"] == decision.champion_metrics
    tags = registered["registry"].client.get_model_version("fraud_scoring", "2").tags
    assert tags["promotion"] == "promoted" and tags["promotion_compared_with"] == "1"


def test_a_worse_challenger_is_refused_and_the_refusal_recorded(registered):
    version, decision = registered["steps"][2]
    assert version == "3" and decision.decision == "refused" and decision.champion_version == "2"
    recorded = registered["registry"].decision("3")
    assert recorded["decision"] == "refused" and recorded["reason"] == decision.reason
    assert (
        recorded["challenger_metrics"]["precision_at_capacity"] <= recorded["champion_metrics"]["precision_at_capacity"]
    )
    assert registered["registry"].client.get_model_version("fraud_scoring", "3").tags["promotion"] == "refused"
    assert registered["registry"].champion_version() == "2"


def test_the_champion_loads_by_alias_and_scores_as_trained(registered):
    champion = registered["registry"].load(alias="champion")
    assert champion.version == "2"
    assert champion.model.model_bytes() == registered["strong"].model_bytes()
    examples = registered["examples"].head(50)
    assert list(champion.model.score(examples)) == list(registered["strong"].score(examples))


def test_a_pinned_version_loads_for_re_running_an_old_date(registered):
    old = registered["registry"].load(version=1)
    assert old.version == "1" and old.model.model_bytes() == registered["weak"].model_bytes()


def test_a_version_carries_its_features_training_data_and_model_card(registered):
    registry = registered["registry"]
    found = registry.client.get_model_version("fraud_scoring", "2")
    run = registry.client.get_run(found.run_id)
    assert run.data.tags["training_data.sha256"] == found.tags["training_data.sha256"]
    assert "holdout_precision_at_capacity" in run.data.metrics
    artifacts = {a.path for a in registry.client.list_artifacts(found.run_id)}
    assert {
        "model",
        "features.json",
        "calibration.json",
        "metrics.json",
        "training_data",
        "model_card.md",
        "promotion",
    } <= artifacts
    root = Path(registry.client.download_artifacts(found.run_id, "model_card.md", str(registered["warehouse"])))
    card = root.read_text()
    assert card.startswith("# fraud_scoring version 2") and found.tags["training_data.sha256"] in card
    features = json.loads(
        Path(
            registry.client.download_artifacts(found.run_id, "features.json", str(registered["warehouse"]))
        ).read_text()
    )
    assert [f["name"] for f in features] == list(registered["strong"].features)


def test_a_version_is_one_pyfunc_with_its_code_booster_calibration_and_feature_order(registered, tmp_path):
    client = registered["registry"].client
    found = client.get_model_version("fraud_scoring", "2")
    assert found.source.endswith("/model")
    model = Path(client.download_artifacts(found.run_id, "model", str(tmp_path)))
    described = (model / "MLmodel").read_text()
    assert "python_function" in described and "pyfunc_model.py" in described and "signature" in described
    assert {"booster.ubj", "calibration.json", "features.json"} <= {p.name for p in (model / "artifacts").iterdir()}
    example = json.loads((model / "input_example.json").read_text())
    assert example["columns"] == list(registered["strong"].features) and len(example["data"]) == 5


def test_a_version_logged_in_the_xgboost_flavour_still_loads(registered, tmp_path):
    """Versions registered before the pyfunc hold MLflow's xgboost flavour
    (`model/model.ubj`): an auditor's re-run of an old night still loads them."""
    registry, weak = registered["registry"], registered["weak"]
    client = registry.client
    run = client.create_run(registry.experiment_id)
    (tmp_path / "model").mkdir()
    weak.booster.save_model(str(tmp_path / "model" / "model.ubj"))
    client.log_artifacts(run.info.run_id, str(tmp_path / "model"), "model")
    for name, source_version in (("calibration.json", "1"), ("features.json", "1"), ("metrics.json", "1")):
        source = client.get_model_version("fraud_scoring", source_version)
        folder = tmp_path / "from" / name
        folder.mkdir(parents=True)
        client.log_artifact(run.info.run_id, client.download_artifacts(source.run_id, name, str(folder)))
    version = client.create_model_version(
        "fraud_scoring", source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
    ).version
    old = registry.load(version=version)
    assert old.model.model_bytes() == weak.model_bytes()
    examples = registered["examples"].head(20)
    assert list(old.model.score(examples)) == list(weak.score(examples))
