"""Failure and late-night notifications reach a webhook (a local receiver) through the
`fraud_alerts` Airflow connection, with what an operator needs to act."""

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from ops import notify


@pytest.fixture
def alerts_connection(webhook_receiver, monkeypatch):
    port = webhook_receiver.server_address[1]
    monkeypatch.setenv("AIRFLOW_CONN_FRAUD_ALERTS", f"http://127.0.0.1:{port}/hooks/fraud")
    monkeypatch.delenv("AIRFLOW_CONN_FRAUD_ALERTS_SMTP", raising=False)
    return webhook_receiver


def failed_task_context(error):
    ti = SimpleNamespace(
        dag_id="fraud_nightly", run_id="backfill__2026-03-04T14:00:00+00:00", task_id="wait_for_drops", try_number=1
    )
    dag_run = SimpleNamespace(
        dag_id="fraud_nightly",
        run_id=ti.run_id,
        logical_date=datetime(2026, 3, 4, 14, 0, tzinfo=timezone.utc),
        run_after=None,
    )
    return {"ti": ti, "dag_run": dag_run, "exception": error}


def test_a_failed_task_posts_dag_run_date_task_and_the_reason_in_one_line(alerts_connection):
    error = RuntimeError("no complete drop dated 2026-03-05 from source(s) moj\n  in /landing")

    notify.on_task_failure(failed_task_context(error))

    [post] = alerts_connection.received
    assert post["path"] == "/hooks/fraud"
    assert post["headers"]["Content-Type"] == "application/json"
    assert post["json"] == {
        "event": "task_failed",
        "dag_id": "fraud_nightly",
        "run_id": "backfill__2026-03-04T14:00:00+00:00",
        "run_date": "2026-03-04",  # 14:00 UTC is 23:00 in Seoul: the night of 4 March
        "task_id": "wait_for_drops",
        "try_number": 1,
        "reason": "RuntimeError: no complete drop dated 2026-03-05 from source(s) moj in /landing",
    }


def test_a_late_night_posts_dag_run_date_and_deadline(alerts_connection):
    # The context Airflow's Deadline.handle_miss gives the callback (DAGRunResponse as JSON).
    context = {
        "dag_run": {
            "dag_id": "fraud_nightly",
            "dag_run_id": "scheduled__2026-03-04T14:00:00+00:00",
            "logical_date": "2026-03-04T14:00:00Z",
            "run_after": "2026-03-04T14:00:00Z",
            "queued_at": "2026-03-04T14:00:02Z",
            "state": "running",
        },
        "deadline": {"id": "d-1", "deadline_time": datetime(2026, 3, 4, 22, 0, 2, tzinfo=timezone.utc)},
    }

    notify.on_night_late(context=context)

    [post] = alerts_connection.received
    body = post["json"]
    assert (body["event"], body["dag_id"], body["run_date"], body["state"]) == (
        "night_late",
        "fraud_nightly",
        "2026-03-04",
        "running",
    )
    assert body["deadline"] == "2026-03-04T22:00:02+00:00"
    assert "not finished by its deadline 2026-03-04T22:00:02+00:00" in body["reason"]


def test_a_manual_run_without_logical_date_takes_its_date_from_run_after():
    assert notify.run_date(None, "2026-03-05T15:30:00+00:00") == "2026-03-06"  # 00:30 in Seoul
    assert notify.run_date(None, None) is None


def test_credentials_of_the_connection_are_sent_as_basic_auth(webhook_receiver, monkeypatch):
    port = webhook_receiver.server_address[1]
    monkeypatch.setenv("AIRFLOW_CONN_FRAUD_ALERTS", f"http://ops:s3cr%40t@127.0.0.1:{port}/hook")

    assert notify.send({"event": "task_failed", "dag_id": "fraud_nightly"})

    [post] = webhook_receiver.received
    assert post["headers"]["Authorization"] == "Basic b3BzOnMzY3JAdA=="  # base64("ops:s3cr@t")


def test_a_receiver_that_refuses_is_logged_and_never_raises(alerts_connection, caplog):
    alerts_connection.status = 500

    assert notify.send({"event": "task_failed", "dag_id": "fraud_nightly"}) is False
    assert "answered 500" in caplog.text


def test_without_the_connection_nothing_is_sent(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_FRAUD_ALERTS", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_FRAUD_ALERTS_SMTP", raising=False)

    assert notify.send({"event": "task_failed", "dag_id": "fraud_nightly"}) is False
    assert "no Airflow connection 'fraud_alerts' or 'fraud_alerts_smtp'" in caplog.text


def test_a_connection_that_is_not_http_is_refused_with_a_clear_reason():
    with pytest.raises(notify.NotificationError, match="has type 'smtp'; expected http or https"):
        notify.webhook_url("smtp", "mail.example.org", 25, None)
    assert (
        notify.webhook_url("https", "hooks.example.org", None, "fraud/alerts")
        == "https://hooks.example.org/fraud/alerts"
    )


@pytest.fixture
def smtp_receiver():
    """A local SMTP server in a thread (the standard library's, Python 3.11) that keeps
    every message it is given."""
    import asyncore
    import email
    import smtpd
    import threading

    class Receiver(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            self.messages.append((mailfrom, rcpttos, email.message_from_bytes(data)))

    server = Receiver(("127.0.0.1", 0), None, decode_data=False)
    server.messages = []
    thread = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    yield server
    server.close()
    thread.join(timeout=2)


def test_with_an_smtp_connection_the_notification_is_also_mailed(alerts_connection, smtp_receiver, monkeypatch):
    port = smtp_receiver.socket.getsockname()[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_FRAUD_ALERTS_SMTP",
        f"smtp://127.0.0.1:{port}?from=fraud-nightly%40example.org&to=ops%40example.org,oncall%40example.org",
    )

    assert notify.send(notify.failure_payload(failed_task_context(RuntimeError("drops missing"))))

    assert len(alerts_connection.received) == 1
    [(sender, recipients, message)] = smtp_receiver.messages
    assert (sender, recipients) == ("fraud-nightly@example.org", ["ops@example.org", "oncall@example.org"])
    assert message["Subject"] == "[fraud_nightly] task_failed 2026-03-04 wait_for_drops"
    assert "RuntimeError: drops missing" in message.get_payload()


def test_an_smtp_connection_without_recipients_is_reported_not_raised(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_FRAUD_ALERTS", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_FRAUD_ALERTS_SMTP", "smtp://127.0.0.1:1")

    assert notify.send({"event": "night_late", "dag_id": "fraud_nightly"}) is False
    assert "names no recipients (extra 'to')" in caplog.text
