"""What the fraud DAGs share: their default_args (owner, retries, the failure
notification), the nightly run's deadline (the late-night notification), its Params,
the `spark` pool and the nightly outputs Asset the retention DAG is scheduled on.

Read from the environment at parse time, like the DAGs' other knobs:
FRAUD_TASK_RETRIES (retries per task) and FRAUD_LATE_AFTER (seconds after a run is
queued by which it must have finished; default 8 h: a night queued at 23:00 KST is
late at 07:00, when investigators start work; 0 turns the alert off).

`airflow dags test` / `dag.test()` need FRAUD_LATE_AFTER=0: in Airflow 3.3.2 their
loop looks the DAG's Deadline Alerts up by id but holds them serialized, and fails
(`'dict' object has no attribute 'hex'`) once the run has succeeded. The scheduler's
path is not affected.
"""

from __future__ import annotations

import os
from datetime import timedelta

from ops import notify

OWNER = "fraud-analytics"
LATE_AFTER_DEFAULT_SECONDS = 8 * 3600


def default_args(retries: int, retry_delay: timedelta) -> dict:
    """default_args of a fraud DAG: `retries` unless FRAUD_TASK_RETRIES says
    otherwise, and a webhook POST when a task has failed its last try."""
    return {
        "owner": OWNER,
        "retries": int(os.environ.get("FRAUD_TASK_RETRIES", retries)),
        "retry_delay": retry_delay,
        "on_failure_callback": notify.on_task_failure,
    }


def late_after() -> timedelta | None:
    """FRAUD_LATE_AFTER as a duration; None when it is 0 (no late-night alert)."""
    raw = os.environ.get("FRAUD_LATE_AFTER", str(LATE_AFTER_DEFAULT_SECONDS))
    try:
        seconds = int(raw)
    except ValueError:
        raise ValueError(f"FRAUD_LATE_AFTER: expected whole seconds, got {raw!r}") from None
    if seconds < 0:
        raise ValueError(f"FRAUD_LATE_AFTER: expected 0 (off) or a positive number of seconds, got {seconds}")
    return timedelta(seconds=seconds) if seconds else None


def late_run_alert():
    """A Deadline Alert: a run not finished `late_after()` after it was queued calls
    ops.notify.on_night_late through the executor (no triggerer needed). None (no
    deadline) when FRAUD_LATE_AFTER is 0."""
    from airflow.sdk import DeadlineAlert, DeadlineReference, SyncCallback

    interval = late_after()
    if interval is None:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=interval,
        callback=SyncCallback(notify.on_night_late),
        name="night_late",
    )


# --- what the nightly DAG and the retention DAG share ---------------------------------

SPARK_POOL = "spark"
GIB = 1 << 30
# What one Spark stage needs to itself: a driver (FRAUD_SPARK_DRIVER_MEMORY, 4 GiB by
# default) and room beside it for the Python workers and the page cache.
SPARK_STAGE_MEMORY = 8 * GIB


def spark_pool_slots(cpus: int | None = None, memory: int | None = None) -> int:
    """How many Spark stages may run at once (the `spark` pool's slots):
    FRAUD_SPARK_POOL_SLOTS, else what the machine holds: a local Spark stage takes
    every core, so two cores per stage and SPARK_STAGE_MEMORY each, at least one."""
    configured = os.environ.get("FRAUD_SPARK_POOL_SLOTS")
    if configured:
        slots = int(configured)
        if slots < 1:
            raise ValueError(f"FRAUD_SPARK_POOL_SLOTS: expected a positive number, got {slots}")
        return slots
    cpus = cpus or os.cpu_count() or 1
    memory = memory or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(1, min(cpus // 2, memory // SPARK_STAGE_MEMORY))


def stage_timeout(default: timedelta) -> timedelta:
    """A stage's execution_timeout: FRAUD_STAGE_TIMEOUT (seconds) for every stage, else
    the stage's own default (jobs/pipeline.py:STAGES)."""
    raw = os.environ.get("FRAUD_STAGE_TIMEOUT")
    return timedelta(seconds=int(raw)) if raw else default


def outputs_asset():
    """The nightly outputs as an Airflow Asset: its URI names the warehouse's outputs
    directory (FRAUD_WAREHOUSE). Publish emits an event per night, with the night's
    date and its run manifest's sha256; the retention DAG is scheduled on it."""
    from airflow.sdk import Asset

    warehouse = os.path.abspath(os.environ.get("FRAUD_WAREHOUSE", "warehouse"))
    # Named by its URI: Airflow deactivates assets that share a name but not a URI, and
    # each warehouse has its own outputs.
    return Asset(uri=f"file://{warehouse}/outputs")


def run_params() -> dict:
    """The nightly DAG's Params: what an operator may set when triggering a night by
    hand, shown in the trigger form, defaulting to the environment (FRAUD_FULL_REBUILD,
    FRAUD_REQUIRE_DROPS) so a scheduled night runs as configured."""
    from airflow.sdk import Param

    from fraud.config import Settings

    configured = Settings.from_env()
    return {
        "full_rebuild": Param(
            configured.full_rebuild,
            type="boolean",
            title="Full rebuild",
            description="Conform every table and recompute collusion and cross-matching from all validated rows "
            "instead of building on the night before (same outputs; slower).",
        ),
        "require_drops": Param(
            configured.require_drops_for_ds,
            type="boolean",
            title="Require the night's drops",
            description="Wait until every source has delivered a drop dated the run date. Off: run at once on "
            "the drops there are (a re-run, or a night an agency delivered nothing).",
        ),
    }
