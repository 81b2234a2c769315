"""fraud_nightly: tonight's agency drops to validated, point-in-time tables and the
files investigators and auditors read (see ../docs/ARCHITECTURE.md).

wait_for_drops -> ingest -> validate -> conform -> collusion -> select_model -> crossmatch
-> publish -> report

Each task is one call into jobs/; tasks pass paths (not data) through XCom. The run
date is the logical date seen from Seoul. `fraudctl run` runs the same stages.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

from ops.dag_defaults import default_args, late_run_alert

RUN_OUTPUTS = Asset(name="fraud_nightly_outputs", uri="file:///fraud/outputs")
WAIT_TIMEOUT = timedelta(seconds=int(os.environ.get("FRAUD_DROP_WAIT_TIMEOUT", 6 * 3600)))


@dag(
    dag_id="fraud_nightly",
    description="Nightly unemployment-benefit fraud detection (실업급여 부정수급)",
    schedule="0 23 * * *",  # 23:00 KST: the run for day D sees the drops dated D
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Seoul"),
    catchup=False,
    max_active_runs=2,
    default_args=default_args(retries=2, retry_delay=timedelta(minutes=5)),
    deadline=late_run_alert(),  # a webhook POST when a night is late (ops/notify.py)
    tags=["fraud", "nightly"],
    doc_md=__doc__,
)
def fraud_nightly():
    @task(retries=0, execution_timeout=WAIT_TIMEOUT + timedelta(minutes=5))
    def wait_for_drops(**context):
        from jobs.pipeline import run_for_airflow

        return run_for_airflow("wait", context)

    @task
    def ingest(waited: dict, **context):
        from jobs.pipeline import run_for_airflow

        return run_for_airflow("ingest", context, waited)

    @task
    def validate(upstream: dict, **context):
        from jobs.pipeline import run_for_airflow

        return run_for_airflow("validate", context, upstream)

    @task
    def conform(upstream: dict, **context):
        from jobs.pipeline import run_for_airflow

        return run_for_airflow("conform", context, upstream)

    @task
    def collusion(upstream: dict, **context):
        from jobs.pipeline import run_for_airflow

        return run_for_airflow("collusion", context, upstream)

    @task
    def select_model(upstream: dict, **context):
        from jobs.pipeline import run_for_airflow

        return run_for_airflow("select_model", context, upstream)

    @task
    def crossmatch(upstream: dict, **context):
        from jobs.pipeline import run_for_airflow

        return run_for_airflow("crossmatch", context, upstream)

    @task(outlets=[RUN_OUTPUTS])
    def publish(upstream: dict, **context):
        from jobs.pipeline import run_for_airflow

        return run_for_airflow("publish", context, upstream)

    @task
    def report(upstream: dict, **context):
        from jobs.pipeline import run_for_airflow

        return run_for_airflow("report", context, upstream)

    report(publish(crossmatch(select_model(collusion(conform(validate(ingest(wait_for_drops()))))))))


fraud_nightly()
