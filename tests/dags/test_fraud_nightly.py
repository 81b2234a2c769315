"""The nightly DAG: it imports cleanly, reads like the pipeline, and runs end to end
with dag.test() on generated data."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pendulum
import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as env:
        env.setenv(
            "FRAUD_LATE_AFTER", "0"
        )  # no Deadline Alert: dag.test() cannot finish with one (ops/dag_defaults.py)
        return DagBag(dag_folder=str(DAGS))


def test_dagbag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "fraud_nightly" in dagbag.dags


def test_task_graph_is_wait_ingest_validate_conform_collusion_select_model_crossmatch_safeguards_publish_report(dagbag):
    dag = dagbag.dags["fraud_nightly"]
    order = [
        "wait_for_drops",
        "ingest",
        "validate",
        "conform",
        "collusion",
        "select_model",
        "crossmatch",
        "safeguards",
        "publish",
        "report",
    ]
    assert sorted(dag.task_ids) == sorted(order)
    for upstream, downstream in zip(order, order[1:]):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}
    assert dag.get_task("ingest").retries >= 1
    assert str(dag.timezone) in ("Asia/Seoul", "Timezone('Asia/Seoul')")


HEAVY = ("pyspark", "xgboost", "networkx", "great_expectations", "pandas", "mlflow", "pyarrow")


@pytest.mark.parametrize("dag_file", ["fraud_nightly.py", "fraud_retention.py", "fraud_model_training.py"])
def test_parsing_a_dag_file_loads_no_heavy_library(dag_file):
    """The DAG processor parses the files often: Spark, XGBoost, networkx and the rest
    load only inside a task (the stage table and settings they read are light)."""
    script = (
        f"import runpy, sys; runpy.run_path({str(DAGS / dag_file)!r}); "
        f"print('loaded:', *(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "FRAUD_LATE_AFTER": "0"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "loaded:", done.stdout


def test_the_drops_are_awaited_by_a_sensor_that_frees_its_slot_between_looks(dagbag):
    sensor = dagbag.dags["fraud_nightly"].get_task("wait_for_drops")
    assert sensor.mode == "reschedule"
    assert sensor.poke_interval == 60  # FRAUD_DROP_POKE
    assert sensor.timeout == 6 * 3600 + 2 * 60  # FRAUD_DROP_WAIT_TIMEOUT, then two looks


def test_an_operator_sets_full_rebuild_and_require_drops_in_the_trigger_form(dagbag, monkeypatch):
    from airflow.sdk import Param

    params = dagbag.dags["fraud_nightly"].params
    assert {name: params[name] for name in ("full_rebuild", "require_drops")} == {
        "full_rebuild": False,
        "require_drops": True,
    }  # the environment's defaults
    for name in ("full_rebuild", "require_drops"):
        param = params.get_param(name)
        assert isinstance(param, Param) and param.schema["type"] == "boolean" and param.description

    from ops.dag_defaults import run_params

    monkeypatch.setenv("FRAUD_FULL_REBUILD", "1")
    monkeypatch.setenv("FRAUD_REQUIRE_DROPS", "0")
    assert {name: param.value for name, param in run_params().items()} == {"full_rebuild": True, "require_drops": False}


def test_spark_stages_share_the_spark_pool_and_every_stage_has_a_timeout(dagbag):
    from jobs.pipeline import STAGES

    dag = dagbag.dags["fraud_nightly"]
    for stage in STAGES:
        task = dag.get_task(stage.name)
        assert task.pool == ("spark" if stage.uses_spark else "default_pool"), stage.name
        assert task.execution_timeout == stage.timeout, stage.name
    assert {s.name for s in STAGES if s.uses_spark} == {
        "validate",
        "conform",
        "collusion",
        "crossmatch",
        "safeguards",
        "report",
    }


def test_retention_runs_on_the_nightly_outputs_asset_which_names_the_warehouse(monkeypatch, tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("FRAUD_WAREHOUSE", str(tmp_path / "warehouse"))
    monkeypatch.setenv("FRAUD_LATE_AFTER", "0")
    bag = DagBag(dag_folder=str(DAGS))
    [outlet] = bag.dags["fraud_nightly"].get_task("publish").outlets
    assert outlet.uri == f"file://{tmp_path}/warehouse/outputs"
    retention = bag.dags["fraud_retention"]
    assert list(retention.timetable.asset_condition.objects) == [outlet]
    assert retention.task_ids == ["prune"]


def test_the_sensor_looks_for_every_source_unless_the_run_does_not_require_drops(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from conftest import empty_drops

    from jobs.pipeline import MissingDropsError, drops_arrived

    monkeypatch.setenv("FRAUD_LANDING", str(tmp_path))
    monkeypatch.setenv("FRAUD_DROP_WAIT_TIMEOUT", "3600")
    started = pendulum.datetime(2026, 3, 2, 23, tz="Asia/Seoul")
    context = {
        "logical_date": started,
        "dag_run": SimpleNamespace(start_date=started),
        "params": {"full_rebuild": False, "require_drops": True},
    }
    empty_drops(tmp_path, "2026-03-02", sources=("ei", "nts"))
    assert not drops_arrived(context, now=started.add(minutes=59))
    with pytest.raises(MissingDropsError, match="no complete drop dated 2026-03-02 from source.s. moj .* 3600s"):
        drops_arrived(context, now=started.add(minutes=60))
    assert drops_arrived(
        {**context, "params": {"full_rebuild": False, "require_drops": False}}, now=started.add(hours=9)
    )
    empty_drops(tmp_path, "2026-03-02", sources=("moj",))
    assert drops_arrived(context, now=started.add(hours=9))


def test_a_runs_params_override_the_environment(monkeypatch):
    from jobs.pipeline import settings_for_run

    monkeypatch.setenv("FRAUD_FULL_REBUILD", "0")
    assert settings_for_run({"full_rebuild": True, "require_drops": False}).full_rebuild is True
    assert settings_for_run({"full_rebuild": True, "require_drops": False}).require_drops_for_ds is False
    assert settings_for_run(None).full_rebuild is False


def test_the_spark_pool_is_sized_for_the_machine(monkeypatch):
    from ops.dag_defaults import GIB, spark_pool_slots

    monkeypatch.delenv("FRAUD_SPARK_POOL_SLOTS", raising=False)
    assert spark_pool_slots(cpus=2, memory=24 * GIB) == 1
    assert spark_pool_slots(cpus=16, memory=64 * GIB) == 8
    assert spark_pool_slots(cpus=16, memory=16 * GIB) == 2  # memory bounds it
    assert spark_pool_slots(cpus=1, memory=4 * GIB) == 1  # never none
    monkeypatch.setenv("FRAUD_SPARK_POOL_SLOTS", "3")
    assert spark_pool_slots(cpus=2, memory=24 * GIB) == 3


@pytest.mark.slow
def test_dag_test_runs_every_stage_on_generated_data(spark, tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from simulation.synth import generate

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    truth = generate(landing, persons=400, seed=11, baseline=date(2026, 3, 2), days=1)
    monkeypatch.setenv("FRAUD_LANDING", str(landing))
    monkeypatch.setenv("FRAUD_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("FRAUD_SPARK_MASTER", "local[2]")
    monkeypatch.setenv("FRAUD_DROP_WAIT_TIMEOUT", "0")
    monkeypatch.setenv("FRAUD_LATE_AFTER", "0")
    final = truth["final_date"]
    dag = DagBag(dag_folder=str(DAGS)).dags["fraud_nightly"]  # parsed as the DAG processor would, with this env
    dag_run = dag.test(logical_date=pendulum.parse(final, tz="Asia/Seoul"))
    assert str(dag_run.state).endswith("success")

    outputs = warehouse / "outputs" / final
    manifest = json.loads((outputs / "run_manifest.json").read_text())
    assert manifest["ds"] == final
    # publish's event on the outputs Asset carries the night and its manifest's checksum
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    from fraud.storage import sha256_file

    with create_session() as session:
        extras = [event.extra for event in session.query(AssetEvent).filter(AssetEvent.source_run_id == dag_run.run_id)]
    assert extras == [{"ds": final, "manifest_sha256": sha256_file(outputs / "run_manifest.json")}]
    contract_files = {"cases.csv", "workplaces.csv", "rings.csv", "repeat_offenders.csv"}
    assert contract_files <= set(manifest["outputs"])
    assert manifest["dispositions"] == {"applied": 0, "sha256": EMPTY_SHA256, "cleared_kept_out": 0}
    report_dir = outputs / "report"
    assert (report_dir / "index.html").is_file()
    assert len(list((report_dir / "cases").glob("*.html"))) == manifest["detections"]["cases"]

    # What the DAG found, against what the generator planted (fraudctl evaluate).
    from rules.ruleset import RULES
    from simulation.evaluation import evaluate

    report = evaluate(outputs, truth, {rule.typology for rule in RULES if rule.typology})
    assert report["targets_met"], report
    assert {d["drop_date"] for d in manifest["drops"]} == set(truth["drop_dates"])
    expected = truth["quarantine_expected"]
    for drop in manifest["drops"]:
        for table, counts in drop["tables"].items():
            assert counts["valid"] + counts["quarantined"] == counts["rows_in"]
            assert counts["quarantined"] == expected.get(f"{drop['source']}/{drop['drop_date']}/{table}", 0), (
                drop["source"],
                drop["drop_date"],
                table,
            )
