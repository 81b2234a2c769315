"""Both fraud DAGs notify on a failed task; the nightly one also on a late night."""

from datetime import timedelta
from pathlib import Path

import pytest

from ops import dag_defaults, notify

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as env:
        env.delenv("FRAUD_LATE_AFTER", raising=False)  # the default: 8 h
        return DagBag(dag_folder=str(DAGS))


@pytest.mark.parametrize("dag_id", ["fraud_nightly", "fraud_model_training"])
def test_every_task_posts_its_failure(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    for task in dag.tasks:
        assert task.on_failure_callback in (notify.on_task_failure, [notify.on_task_failure]), task.task_id
        assert task.owner == "fraud-analytics"


def test_the_nightly_run_has_a_deadline_that_calls_the_late_notification(dagbag):
    from airflow.sdk import DeadlineReference

    [alert] = dagbag.dags["fraud_nightly"].deadline
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == timedelta(hours=8)
    assert alert.callback.path == "ops.notify.on_night_late"
    assert dagbag.dags["fraud_model_training"].deadline in (None, [])


def test_the_late_interval_comes_from_fraud_late_after(monkeypatch):
    monkeypatch.setenv("FRAUD_LATE_AFTER", "90")
    assert dag_defaults.late_run_alert().interval == timedelta(seconds=90)
    monkeypatch.setenv("FRAUD_LATE_AFTER", "8h")
    with pytest.raises(ValueError, match="FRAUD_LATE_AFTER: expected whole seconds, got '8h'"):
        dag_defaults.late_after()
    monkeypatch.setenv("FRAUD_LATE_AFTER", "-5")
    with pytest.raises(ValueError, match=r"expected 0 \(off\) or a positive number of seconds, got -5"):
        dag_defaults.late_after()
    monkeypatch.setenv("FRAUD_LATE_AFTER", "0")  # what `airflow dags test` needs (ops/dag_defaults.py)
    assert dag_defaults.late_run_alert() is None


def test_retries_keep_each_dags_default_unless_fraud_task_retries_is_set(monkeypatch):
    monkeypatch.delenv("FRAUD_TASK_RETRIES", raising=False)
    assert dag_defaults.default_args(2, timedelta(minutes=5))["retries"] == 2
    monkeypatch.setenv("FRAUD_TASK_RETRIES", "0")
    assert dag_defaults.default_args(2, timedelta(minutes=5))["retries"] == 0
