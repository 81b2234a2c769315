"""fraud_model_training: the scoring model, retrained weekly (and on demand) on past
decisions, registered in MLflow and promoted only when it beats the champion (see
../models/registry.py).

train_and_register

The task is one call into jobs/train.py. The run date is the logical date seen from
Seoul; it trains on the latest conformed tables on or before it (the nightly run
made them).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from ops.dag_defaults import default_args


@dag(
    dag_id="fraud_model_training",
    description="Weekly training of the fraud scoring model (XGBoost, MLflow registry)",
    schedule="0 3 * * 0",  # Sundays 03:00 KST, after Saturday's nightly run; trigger by hand any time
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Seoul"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=1, retry_delay=timedelta(minutes=10)),
    tags=["fraud", "model"],
    doc_md=__doc__,
)
def fraud_model_training():
    @task
    def train_and_register(**context):
        from jobs.train import run_for_airflow

        return run_for_airflow(context)

    train_and_register()


fraud_model_training()
