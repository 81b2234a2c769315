"""The nightly DAG: it imports cleanly, reads like the pipeline, and runs end to end
with dag.test() on generated data."""

import ast
import json
from datetime import date
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as env:
        env.setenv("FRAUD_LATE_AFTER", "0")  # no Deadline Alert: dag.test() cannot finish with one (ops/dag_defaults.py)
        return DagBag(dag_folder=str(DAGS))


def test_dagbag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "fraud_nightly" in dagbag.dags


def test_task_graph_is_wait_ingest_validate_conform_collusion_select_model_crossmatch_publish_report(dagbag):
    dag = dagbag.dags["fraud_nightly"]
    order = ["wait_for_drops", "ingest", "validate", "conform", "collusion", "select_model", "crossmatch",
             "publish", "report"]
    assert sorted(dag.task_ids) == sorted(order)
    for upstream, downstream in zip(order, order[1:]):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}
    assert dag.get_task("ingest").retries >= 1
    assert str(dag.timezone) in ("Asia/Seoul", "Timezone('Asia/Seoul')")


def test_dag_file_imports_no_heavy_library_at_top_level():
    tree = ast.parse((DAGS / "fraud_nightly.py").read_text())
    top_level = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top_level |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert not top_level & {"pyspark", "xgboost", "networkx", "great_expectations", "pandas", "jobs", "fraud"}


@pytest.mark.slow
def test_dag_test_runs_every_stage_on_generated_data(spark, dagbag, tmp_path, monkeypatch):
    import pendulum

    from fraud.synth import generate

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    truth = generate(landing, persons=400, seed=11, baseline=date(2026, 3, 2), days=1)
    monkeypatch.setenv("FRAUD_LANDING", str(landing))
    monkeypatch.setenv("FRAUD_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("FRAUD_SPARK_MASTER", "local[2]")
    monkeypatch.setenv("FRAUD_DROP_WAIT_TIMEOUT", "0")
    monkeypatch.setenv("FRAUD_LATE_AFTER", "0")
    final = truth["final_date"]
    dag_run = dagbag.dags["fraud_nightly"].test(logical_date=pendulum.parse(final, tz="Asia/Seoul"))
    assert str(dag_run.state).endswith("success")

    outputs = warehouse / "outputs" / final
    manifest = json.loads((outputs / "run_manifest.json").read_text())
    assert manifest["ds"] == final
    contract_files = {"cases.csv", "workplaces.csv", "rings.csv", "repeat_offenders.csv"}
    assert contract_files <= set(manifest["outputs"])
    assert manifest["dispositions"] == {"applied": 0, "sha256": EMPTY_SHA256, "cleared_kept_out": 0}
    report_dir = outputs / "report"
    assert (report_dir / "index.html").is_file()
    assert len(list((report_dir / "cases").glob("*.html"))) == manifest["detections"]["cases"]

    # What the DAG found, against what the generator planted (fraudctl evaluate).
    from fraud.evaluation import evaluate
    from rules.ruleset import RULES

    report = evaluate(outputs, truth, {rule.typology for rule in RULES if rule.typology})
    assert report["targets_met"], report
    assert {d["drop_date"] for d in manifest["drops"]} == set(truth["drop_dates"])
    expected = truth["quarantine_expected"]
    for drop in manifest["drops"]:
        for table, counts in drop["tables"].items():
            assert counts["valid"] + counts["quarantined"] == counts["rows_in"]
            assert counts["quarantined"] == expected.get(f"{drop['source']}/{drop['drop_date']}/{table}", 0), (
                drop["source"], drop["drop_date"], table)
