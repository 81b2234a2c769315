"""fraud_retention: after each published night, delete the working state of all but
the newest FRAUD_RETENTION_KEEP nights (default 7; `fraudctl prune`, fraud/retention.py).

prune

Scheduled on the nightly outputs Asset: it runs when a night has published, never
while one is being built on (prune takes the nights lock exclusively). Outputs, run
manifests, drops and quarantine stay, so a pruned night can still be verified.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from ops.dag_defaults import default_args, outputs_asset


@dag(
    dag_id="fraud_retention",
    description="Delete old nights' working state after each published night (fraudctl prune)",
    schedule=[outputs_asset()],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Seoul"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=1, retry_delay=timedelta(minutes=10)),
    tags=["fraud", "retention"],
    doc_md=__doc__,
)
def fraud_retention():
    @task(execution_timeout=timedelta(hours=1))
    def prune(**context):
        from fraud.retention import run_for_airflow

        return run_for_airflow(context)

    prune()


fraud_retention()
