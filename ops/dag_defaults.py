"""What the fraud DAGs share: their default_args (owner, retries, the failure
notification) and the nightly run's deadline (the late-night notification).

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
    return DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=interval,
                         callback=SyncCallback(notify.on_night_late), name="night_late")
