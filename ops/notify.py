"""Operator notifications: a failed task or a late night, POSTed as JSON to a webhook.

Both are Airflow's own mechanisms: `task_failed` is every task's `on_failure_callback`
(it runs in the task's process after the last retry failed), `night_late` is the
callback of the nightly DAG's Deadline Alert (Airflow 3's successor of SLA misses; the
scheduler hands it to the executor when a run has not finished by its deadline).

Where the POST goes is the Airflow connection `fraud_alerts` (for example
`AIRFLOW_CONN_FRAUD_ALERTS=https://hooks.example.org/fraud`): its scheme, host, port
and path make the URL; a login and password, when set, are sent as HTTP basic auth.
With an SMTP connection `fraud_alerts_smtp` (for example
`smtp://user:pw@mail.example.org:587?from=fraud%40example.org&to=ops%40example.org&starttls=true`)
the same notification is also e-mailed. Without either nothing is sent and the miss is
logged as a warning, so a developer's laptop needs no receiver. A notification that cannot be delivered is
logged and never fails the task or the scheduler.

Only the standard library and (lazily) airflow.sdk are imported: DAG files import this
module at parse time.
"""

from __future__ import annotations

import base64
import json
import logging
import smtplib
import urllib.error
import urllib.request
from datetime import date, datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

CONNECTION_ID = "fraud_alerts"
SMTP_CONNECTION_ID = "fraud_alerts_smtp"
RUN_TIMEZONE = ZoneInfo("Asia/Seoul")  # the run date is the logical date seen from Seoul (jobs/pipeline.py)
POST_TIMEOUT_SECONDS = 10
REASON_MAX_CHARS = 500


class NotificationError(Exception):
    """An alert connection is unusable or its receiver refused the notification."""


def webhook_url(conn_type: str | None, host: str | None, port: int | None, path: str | None) -> str:
    """The URL an Airflow connection describes. In a connection URI the path lands in
    `schema` (http://host:8080/hooks/fraud -> schema "hooks/fraud")."""
    scheme = (conn_type or "http").lower()
    if scheme not in ("http", "https"):
        raise NotificationError(f"connection {CONNECTION_ID!r} has type {conn_type!r}; expected http or https")
    if not host:
        raise NotificationError(f"connection {CONNECTION_ID!r} has no host")
    netloc = f"{host}:{port}" if port else host
    return f"{scheme}://{netloc}/{(path or '').lstrip('/')}"


def post_json(
    url: str,
    payload: dict,
    login: str | None = None,
    password: str | None = None,
    timeout: float = POST_TIMEOUT_SECONDS,
) -> int:
    """POST `payload` as JSON; the receiver's HTTP status (raises NotificationError on
    anything but 2xx or when it cannot be reached)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, sort_keys=True).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    if login:
        token = base64.b64encode(f"{login}:{password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https only)
            return response.status
    except urllib.error.HTTPError as error:
        raise NotificationError(f"{url} answered {error.code} {error.reason}") from error
    except (urllib.error.URLError, OSError) as error:
        raise NotificationError(f"cannot reach {url}: {getattr(error, 'reason', error)}") from error


def email_message(payload: dict, sender: str, recipients: list[str]) -> EmailMessage:
    """The e-mail form of a notification: the essentials in the subject, every field in
    the body."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    what = " ".join(str(part) for part in (payload.get("run_date"), payload.get("task_id")) if part)
    message["Subject"] = f"[{payload.get('dag_id')}] {payload.get('event')} {what}".strip()
    message.set_content(f"{payload.get('reason', '')}\n\n{json.dumps(payload, indent=2, sort_keys=True)}\n")
    return message


def send_email(connection, payload: dict) -> None:
    """Mail `payload` through an SMTP connection whose extras name the sender and the
    recipients (`from`, `to`: comma-separated) and whether to use STARTTLS (`starttls`)."""
    extra = connection.extra_dejson
    recipients = [address.strip() for address in str(extra.get("to", "")).split(",") if address.strip()]
    if not recipients:
        raise NotificationError(f"connection {SMTP_CONNECTION_ID!r} names no recipients (extra 'to')")
    sender = extra.get("from") or "fraud-nightly@localhost"
    with smtplib.SMTP(connection.host or "localhost", connection.port or 25, timeout=POST_TIMEOUT_SECONDS) as smtp:
        if str(extra.get("starttls", "false")).lower() in ("1", "true", "yes"):
            smtp.starttls()
        if connection.login:
            smtp.login(connection.login, connection.password or "")
        smtp.send_message(email_message(payload, sender, recipients))


def _connection(conn_id: str):
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except Exception:  # the SDK raises its own not-found error types depending on the process
        return None


def _post_webhook(connection, payload: dict) -> None:
    url = webhook_url(connection.conn_type, connection.host, connection.port, connection.schema)
    post_json(url, payload, connection.login, connection.password)


def send(payload: dict) -> bool:
    """Send one notification to every configured channel: the webhook of the
    `fraud_alerts` connection, e-mail through the `fraud_alerts_smtp` connection. True
    when at least one is configured and every configured one accepted it; False (with a
    log line) otherwise: a notification never breaks the run it reports on."""
    outcomes = []
    for conn_id, deliver in ((CONNECTION_ID, _post_webhook), (SMTP_CONNECTION_ID, send_email)):
        connection = _connection(conn_id)
        if connection is None:
            continue
        try:
            deliver(connection, payload)
            outcomes.append(True)
        except (NotificationError, smtplib.SMTPException, OSError) as error:
            log.error(
                "notification %s for %s not delivered through %s: %s",
                payload.get("event"),
                payload.get("dag_id"),
                conn_id,
                error,
            )
            outcomes.append(False)
    if not outcomes:
        log.warning("no Airflow connection %r or %r: not sent: %s", CONNECTION_ID, SMTP_CONNECTION_ID, payload)
        return False
    if all(outcomes):
        log.info("notification %s for %s %s sent", payload["event"], payload.get("dag_id"), payload.get("run_date"))
    return all(outcomes)


def run_date(logical_date: datetime | str | None, run_after: datetime | str | None = None) -> str | None:
    """The run's date as the pipeline sees it (YYYY-MM-DD in Seoul), from the run's
    logical date or, for a manual run without one, its run_after."""
    moment = logical_date or run_after
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if isinstance(moment, datetime):
        return moment.astimezone(RUN_TIMEZONE).date().isoformat()
    return moment.isoformat() if isinstance(moment, date) else str(moment)


def one_line(error: BaseException | str | None) -> str:
    if error is None:
        return "unknown (no exception in the task context)"
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    text = " ".join(text.split())
    return text if len(text) <= REASON_MAX_CHARS else text[: REASON_MAX_CHARS - 1] + "…"


def failure_payload(context: dict[str, Any]) -> dict:
    """What operators need about a failed task, from an Airflow task context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    return {
        "event": "task_failed",
        "dag_id": getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None),
        "run_id": getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None),
        "run_date": run_date(
            getattr(dag_run, "logical_date", None) or context.get("logical_date"), getattr(dag_run, "run_after", None)
        ),
        "task_id": getattr(ti, "task_id", None),
        "try_number": getattr(ti, "try_number", None),
        "reason": one_line(context.get("exception")),
    }


def late_payload(context: dict[str, Any]) -> dict:
    """What operators need about a run that missed its deadline, from the context a
    Deadline Alert callback receives ({"dag_run": DAGRunResponse as JSON, "deadline":
    {"id", "deadline_time"}})."""
    dag_run = context.get("dag_run") or {}
    deadline = (context.get("deadline") or {}).get("deadline_time")
    if isinstance(deadline, datetime):
        deadline = deadline.isoformat()
    return {
        "event": "night_late",
        "dag_id": dag_run.get("dag_id"),
        "run_id": dag_run.get("dag_run_id") or dag_run.get("run_id"),
        "run_date": run_date(dag_run.get("logical_date"), dag_run.get("run_after")),
        "task_id": None,
        "state": dag_run.get("state"),
        "deadline": deadline,
        "reason": f"run not finished by its deadline {deadline} (queued at {dag_run.get('queued_at')})",
    }


def on_task_failure(context: dict[str, Any]) -> None:
    """`on_failure_callback` of every task of the fraud DAGs."""
    send(failure_payload(context))


def on_night_late(context: dict[str, Any] | None = None, **_: Any) -> None:
    """The nightly DAG's Deadline Alert callback (a SyncCallback: the executor runs it)."""
    send(late_payload(context or {}))
