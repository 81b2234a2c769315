"""fraud_nightly: tonight's agency drops to validated, point-in-time tables and the
files investigators and auditors read (see ../docs/ARCHITECTURE.md).

wait_for_drops -> ingest -> validate -> conform -> collusion -> select_model -> crossmatch
-> publish -> report

The stages and their order are jobs/pipeline.py:STAGES, which `fraudctl run` runs
too; each task is one call into it, passing paths (not data) through XCom. The run
date is the logical date seen from Seoul. Spark stages share the `spark` pool; publish
emits the nightly outputs Asset the retention DAG (fraud_retention) is scheduled on.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import chain, dag, task

from jobs.pipeline import STAGES
from ops.dag_defaults import SPARK_POOL, default_args, late_run_alert, outputs_asset, run_params, stage_timeout

RUN_OUTPUTS = outputs_asset()
WAIT_TIMEOUT = timedelta(seconds=int(os.environ.get("FRAUD_DROP_WAIT_TIMEOUT", 6 * 3600)))
POKE_INTERVAL = timedelta(seconds=int(os.environ.get("FRAUD_DROP_POKE", 60)))


# The poke itself fails, naming the missing sources, once WAIT_TIMEOUT has passed;
# Airflow's own timeout is a backstop two looks later.
@task.sensor(mode="reschedule", poke_interval=POKE_INTERVAL, timeout=WAIT_TIMEOUT + 2 * POKE_INTERVAL, retries=0)
def wait_for_drops(**context):
    """Looks for every source's drop dated the run date, and frees its slot between looks."""
    from jobs.pipeline import drops_arrived

    return drops_arrived(context)


def stage_task(stage):
    """The task of one stage: Spark stages in the `spark` pool, each with its timeout."""
    outlets = [RUN_OUTPUTS] if stage.name == "publish" else []

    @task(
        task_id=stage.name,
        pool=SPARK_POOL if stage.uses_spark else "default_pool",
        execution_timeout=stage_timeout(stage.timeout),
        outlets=outlets,
    )
    def run(upstream: dict | None, **context):
        from jobs.pipeline import published_event, run_for_airflow

        result = run_for_airflow(stage.name, context, upstream)
        if outlets:
            context["outlet_events"][RUN_OUTPUTS].extra = published_event(result)
        return result

    return run


@dag(
    dag_id="fraud_nightly",
    description="Nightly unemployment-benefit fraud detection (실업급여 부정수급)",
    schedule="0 23 * * *",  # 23:00 KST: the run for day D sees the drops dated D
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Seoul"),
    catchup=False,
    max_active_runs=2,
    default_args=default_args(retries=2, retry_delay=timedelta(minutes=5)),
    deadline=late_run_alert(),  # a webhook POST when a night is late (ops/notify.py)
    params=run_params(),  # full_rebuild, require_drops: the trigger form
    tags=["fraud", "nightly"],
    doc_md=__doc__,
)
def fraud_nightly():
    stages, upstream = [], None
    for stage in STAGES:
        upstream = stage_task(stage)(upstream)
        stages.append(upstream)
    chain(wait_for_drops(), *stages)


fraud_nightly()
