"""The Airflow stack as operators run it: `fraudctl airflow up` (scheduler, DAG
processor, API server), login required, a backfill over three dates through the real
scheduler, a failed night and late nights reported to a webhook, `fraudctl airflow down`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from jobs import pipeline
from ops.stack import (
    StackConfig,
    StackError,
    down,
    stack_environment,
    stage_server_answers,
    start_stage_server,
    status,
)

REPO = Path(__file__).resolve().parents[2]
STAGE = "stage-server"
FRAUDCTL = Path(sys.executable).parent / "fraudctl"
AIRFLOW = Path(sys.executable).parent / "airflow"


# --- fast: configuration and pid handling ---------------------------------------------


def test_the_stack_listens_on_loopback_and_carries_its_secrets(tmp_path):
    config = StackConfig.from_env({"AIRFLOW_HOME": str(tmp_path), "FRAUD_AIRFLOW_PORT": "18123"})

    environment = stack_environment(config, {})

    assert config.run_dir == tmp_path / "airflow-run" and config.secrets_file == tmp_path / "airflow-run/secrets.env"
    assert environment["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert environment["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert environment["AIRFLOW__API_AUTH__JWT_SECRET"]  # generated: scheduler, workers and API server share it
    assert (
        stack_environment(config, {})["AIRFLOW__API_AUTH__JWT_SECRET"] == environment["AIRFLOW__API_AUTH__JWT_SECRET"]
    )


def test_down_stops_only_airflow_processes_it_recorded(tmp_path):
    config = StackConfig.from_env({"AIRFLOW_HOME": str(tmp_path)})
    config.run_dir.mkdir()
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        config.pid_file("scheduler").write_text(f"{bystander.pid}\n")  # a stale pid, reused by another program

        assert status(config)["scheduler"] is None
        assert down(config, timeout=1) == []
        assert bystander.poll() is None  # untouched
        assert not config.pid_file("scheduler").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_a_cmdline_read_mid_exec_is_read_again_before_deciding(monkeypatch):
    """Between a new program's exec and its arguments being set up, /proc/<pid>/cmdline
    reads empty: a bystander caught in that moment must not pass for airflow."""
    import ops.stack as stack

    reads = {"cmdline": [b"", b"", b"sleep\x0060\x00"], "renaming": [b""] * 1000}

    class FakeProc:
        def __init__(self, path):
            self.path = str(path)

        def read_bytes(self):
            queue = reads[FAKE["now"]]
            return queue.pop(0) if len(queue) > 1 else queue[0]

        def read_text(self):
            return "123 (x) S 1 1 1 0 -1 4194560"  # state, ppid, pgrp, session, tty, tpgid, flags

    FAKE = {"now": "cmdline"}
    monkeypatch.setattr(stack, "Path", FakeProc)
    assert stack._is_our_airflow(123) is False  # empty twice, then `sleep 60`
    FAKE["now"] = "renaming"
    assert stack._is_our_airflow(123, settle=0.1) is True  # empty all along: alive, ours


def test_a_kernel_thread_is_never_taken_for_airflow(monkeypatch):
    """A stale pid file after a reboot may name a kernel thread: its cmdline is empty
    like a component's while it renames itself, but its PF_KTHREAD flag gives it away."""
    import ops.stack as stack

    class KernelThread:
        def __init__(self, path):
            pass

        def read_bytes(self):
            return b""

        def read_text(self):
            return f"2 (kthreadd) S 0 0 0 0 -1 {0x208040}"  # PF_KTHREAD among its flags

    monkeypatch.setattr(stack, "Path", KernelThread)
    assert stack._is_our_airflow(2, settle=0.05) is False


def test_the_tasks_are_given_the_stage_server_s_socket_unless_it_is_turned_off(tmp_path):
    on = StackConfig.from_env({"AIRFLOW_HOME": str(tmp_path)})
    off = StackConfig.from_env({"AIRFLOW_HOME": str(tmp_path), "FRAUD_AIRFLOW_STAGE_SERVER": "off"})
    elsewhere = StackConfig.from_env({"AIRFLOW_HOME": str(tmp_path), "FRAUD_STAGE_SERVER": "/run/x/stages.sock"})

    assert stack_environment(on, {})["FRAUD_STAGE_SERVER"] == str(tmp_path / "airflow-run/stages.sock")
    assert "FRAUD_STAGE_SERVER" not in stack_environment(off, {})
    assert stack_environment(elsewhere, {})["FRAUD_STAGE_SERVER"] == "/run/x/stages.sock"
    # `status` names the stage server when `up` started one (its pid is recorded).
    assert list(status(on)) == ["api-server", "scheduler", "dag-processor"]
    on.run_dir.mkdir(exist_ok=True)
    on.pid_file("stage-server").write_text("999999999\n")  # started, and gone since
    assert status(on) == {"api-server": None, "scheduler": None, "dag-processor": None, "stage-server": None}


def test_fraudctl_airflow_env_gives_the_socket_only_of_a_stack_that_serves_stages(tmp_path):
    environ = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    for name in ("FRAUD_STAGE_SERVER", "FRAUD_AIRFLOW_RUN_DIR", "FRAUD_AIRFLOW_SECRETS"):
        environ.pop(name, None)

    def exported():
        done = subprocess.run([str(FRAUDCTL), "airflow", "env"], env=environ, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "FRAUD_STAGE_SERVER" not in exported()  # up --no-stage-server, or no stack
    (tmp_path / "airflow-run").mkdir(exist_ok=True)
    (tmp_path / "airflow-run/stage-server.pid").write_text("4242\n")
    assert f"export FRAUD_STAGE_SERVER={tmp_path}/airflow-run/stages.sock" in exported()


def test_up_refuses_a_socket_another_stage_server_listens_on():
    run_dir = Path(tempfile.mkdtemp(prefix="stk-"))
    config = StackConfig.from_env({"AIRFLOW_HOME": str(run_dir), "FRAUD_AIRFLOW_RUN_DIR": str(run_dir)})
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(config.socket_path))
        listener.listen(1)
        with pytest.raises(StackError, match="a stage server already listens on .*stages.sock"):
            start_stage_server(config, {})
        assert not config.pid_file("stage-server").exists()
    finally:
        listener.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def test_a_socket_path_too_long_for_linux_is_a_one_line_error(tmp_path):
    config = StackConfig.from_env({"AIRFLOW_HOME": str(tmp_path), "FRAUD_AIRFLOW_RUN_DIR": "/tmp/" + "r" * 100})

    with pytest.raises(StackError, match="longer than 107 bytes: set FRAUD_AIRFLOW_RUN_DIR to a shorter path"):
        start_stage_server(config, {})
    assert not config.pid_file("stage-server").exists()  # nothing was started


@pytest.mark.jvm
def test_the_stack_s_stage_server_serves_its_socket_and_down_stops_it():
    """What `up` starts first: `fraudctl stage-server` on the stack's socket, with the
    stack's environment; `status` names it and `down` stops it with the components."""
    run_dir = Path(tempfile.mkdtemp(prefix="stk-"))  # short: a socket's path is at most 107 bytes
    config = StackConfig.from_env({"AIRFLOW_HOME": str(run_dir), "FRAUD_AIRFLOW_RUN_DIR": str(run_dir)})
    env = {
        **os.environ,
        "FRAUD_SPARK_MASTER": "local[1]",
        "FRAUD_SPARK_DRIVER_MEMORY": "1g",
        **stack_environment(config, {}),
    }
    try:
        pid = start_stage_server(config, env)
        _wait_for("the stage server's socket", lambda: stage_server_answers(config.socket_path), 120, every=1)
        assert status(config)["stage-server"] == pid
        assert oct(config.socket_path.stat().st_mode & 0o777) == "0o600"

        assert down(config, timeout=30) == ["stage-server"]
        assert "stage-server" not in status(config)
        assert not Path(f"/proc/{pid}").exists()  # exited and reaped, not a zombie still dying
        _wait_for("the socket to close", lambda: not stage_server_answers(config.socket_path), 10, every=0.5)
    finally:
        down(config, timeout=5)
        shutil.rmtree(run_dir, ignore_errors=True)


def test_only_the_stage_server_s_own_command_line_passes_for_it(monkeypatch):
    """A recycled pid may now run `tail -f airflow-run/stage-server.log`: not ours."""
    import ops.stack as stack

    cmdline = {"now": b""}

    class FakeProc:
        def __init__(self, path):
            pass

        def read_bytes(self):
            return cmdline["now"]

        def read_text(self):
            return "123 (x) S 1 1 1 0 -1 4194560"

    monkeypatch.setattr(stack, "Path", FakeProc)
    cmdline["now"] = b"tail\x00-f\x00/srv/airflow-run/stage-server.log\x00"
    assert stack._is_ours("stage-server", 123) is False
    cmdline["now"] = b"/srv/.venv/bin/python\x00-m\x00fraudctl.main\x00stage-server\x00--socket\x00/srv/s.sock\x00"
    assert stack._is_ours("stage-server", 123) is True


def test_up_stops_what_it_started_when_a_later_start_fails(tmp_path, monkeypatch):
    import ops.stack as stack

    config = StackConfig.from_env({"AIRFLOW_HOME": str(tmp_path)})
    done = subprocess.CompletedProcess([], 0, "", "")
    monkeypatch.setattr(stack.subprocess, "run", lambda *args, **kwargs: done)  # db migrate, pools set
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)", "fraudctl.main", "stage-server"]
    servers = []

    def start_server(config, env):
        servers.append(stack._start(config, STAGE, sleeper, env))
        return servers[-1]

    monkeypatch.setattr(stack, "start_stage_server", start_server)
    started = stack._start

    def start(config, component, command, env):
        if component != STAGE:
            raise OSError(f"cannot start {component}")
        return started(config, component, command, env)

    monkeypatch.setattr(stack, "_start", start)
    with pytest.raises(OSError, match="cannot start api-server"):
        stack.up(config, timeout=5, environ={})
    [server] = servers
    assert not Path(f"/proc/{server}").exists()  # the stage server it had started is stopped
    assert not list(config.run_dir.glob("*.pid"))
    assert status(config) == {"api-server": None, "scheduler": None, "dag-processor": None}


# --- slow: the real stack ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(url: str, method: str = "GET", body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, TimeoutError):  # an API server slow under load: the poll asks again
        return None, None


def _wait_for(what: str, check, timeout: float, every: float = 5):
    give_up = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@pytest.mark.slow
@pytest.mark.stack
def test_backfill_of_three_nights_through_the_real_scheduler_with_login_and_notifications(tmp_path, webhook_receiver):
    from simulation.synth import generate

    # A tiny landing of a baseline and three daily drops; its own AIRFLOW_HOME.
    landing, warehouse, home = tmp_path / "landing", tmp_path / "warehouse", tmp_path / "airflow"
    truth = generate(landing, persons=200, seed=7, baseline=date(2026, 3, 2), days=3)
    nights = ["2026-03-03", "2026-03-04", "2026-03-05"]
    assert truth["final_date"] == nights[-1]
    home.mkdir()
    shutil.copy(REPO / "airflow.cfg", home / "airflow.cfg")
    port = _free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        # Only the backfill and the one manual run below: no scheduled run for today.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "FRAUD_AIRFLOW_PORT": str(port),
        "FRAUD_LANDING": str(landing),
        "FRAUD_WAREHOUSE": str(warehouse),
        "FRAUD_SPARK_MASTER": "local[1]",
        "FRAUD_DROP_WAIT_TIMEOUT": "0",
        "FRAUD_TASK_RETRIES": "0",
        "FRAUD_LATE_AFTER": "60",  # every night here takes longer: each is late
        "AIRFLOW_CONN_FRAUD_ALERTS": f"http://127.0.0.1:{webhook_receiver.server_address[1]}/fraud",
    }
    for name in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        env.pop(name, None)
    base = f"http://127.0.0.1:{port}"

    started = subprocess.run(
        [str(FRAUDCTL), "airflow", "up", "--timeout", "240"], env=env, capture_output=True, text=True, timeout=300
    )
    assert started.returncode == 0, started.stderr[-2000:]
    config = StackConfig.from_env(env)
    try:
        assert all(status(config).values())
        assert oct((home / "airflow-run/secrets.env").stat().st_mode & 0o777) == "0o600"

        # Login: refused without a token, accepted with the generated password.
        assert _request(f"{base}/api/v2/dags")[0] == 401
        passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
        assert _request(f"{base}/auth/token", "POST", {"username": "admin", "password": "wrong"})[0] == 401
        code, answer = _request(f"{base}/auth/token", "POST", {"username": "admin", "password": passwords["admin"]})
        assert code in (200, 201), code
        token = answer["access_token"]
        _wait_for(
            "the DAG processor to parse fraud_nightly",
            lambda: _request(f"{base}/api/v2/dags/fraud_nightly", token=token)[0] == 200,
            180,
        )
        assert _request(f"{base}/api/v2/dags/fraud_nightly", "PATCH", {"is_paused": False}, token)[0] == 200

        # The backfill, as docs/operations.md "The Airflow stack" documents it.
        backfill = subprocess.run(
            [
                str(AIRFLOW),
                "backfill",
                "create",
                "--dag-id",
                "fraud_nightly",
                "--from-date",
                f"{nights[0]}T23:00:00+09:00",
                "--to-date",
                f"{nights[-1]}T23:00:00+09:00",
                "--max-active-runs",
                "1",
            ],
            env={**env, **stack_environment(config, env)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert backfill.returncode == 0, backfill.stderr[-2000:]
        # A night whose drops never came: its wait_for_drops fails at once.
        code, _ = _request(
            f"{base}/api/v2/dags/fraud_nightly/dagRuns",
            "POST",
            {"dag_run_id": "manual__no_drops", "logical_date": "2026-03-06T14:00:00Z"},
            token,
        )
        assert code in (200, 201), code

        def finished_runs():
            code, answer = _request(f"{base}/api/v2/dags/fraud_nightly/dagRuns?limit=20", token=token)
            runs = {run["dag_run_id"]: run["state"] for run in (answer or {}).get("dag_runs", [])}
            backfilled = {run_id: state for run_id, state in runs.items() if run_id.startswith("backfill__")}
            done = len(backfilled) == 3 and all(s in ("success", "failed") for s in backfilled.values())
            return runs if done and runs.get("manual__no_drops") in ("success", "failed") else None

        runs = _wait_for("three backfilled nights and the failing night", finished_runs, timeout=2700, every=10)
        backfilled = sorted(run_id for run_id in runs if run_id.startswith("backfill__"))
        assert [runs[run_id] for run_id in backfilled] == ["success"] * 3, runs
        assert runs["manual__no_drops"] == "failed"

        for night in nights:
            outputs = warehouse / "outputs" / night
            manifest = json.loads((outputs / "run_manifest.json").read_text())
            assert manifest["ds"] == night
            assert {"cases.csv", "workplaces.csv", "rings.csv", "repeat_offenders.csv"} <= set(manifest["outputs"])
            assert max(drop["drop_date"] for drop in manifest["drops"]) == night

        # Every Spark stage of every night ran in the stage server `up` started, none in
        # its task, and the task's log has the stage's records.
        served = (home / "airflow-run/stage-server.log").read_text()
        task_logs = "\n".join(path.read_text(errors="replace") for path in (home / "logs").rglob("*.log"))
        for night in nights:
            for stage in (stage.name for stage in pipeline.STAGES if stage.uses_spark):
                assert f"stage {stage} for {night} done" in served, (stage, night)
                assert f"stage {stage} for {night} done" in task_logs, (stage, night)
        assert "running it here" not in task_logs

        # The failed night reached the webhook with what an operator needs.
        def posts(event):
            return [post["json"] for post in webhook_receiver.received if post["json"]["event"] == event]

        [failure] = posts("task_failed")
        assert (failure["dag_id"], failure["run_id"], failure["run_date"], failure["task_id"]) == (
            "fraud_nightly",
            "manual__no_drops",
            "2026-03-06",
            "wait_for_drops",
        )
        assert "2026-03-06" in failure["reason"] and "drop" in failure["reason"]
        # Late nights too (the deadline is 60 s after a run is queued; each took longer).
        late = _wait_for("a late-night notification", lambda: posts("night_late"), timeout=120)
        assert {post["dag_id"] for post in late} == {"fraud_nightly"}
        assert {post["run_date"] for post in late} <= set(nights) | {"2026-03-06"}
        assert all(post["deadline"] and post["run_id"] for post in late)
    finally:
        stopped = subprocess.run(
            [str(FRAUDCTL), "airflow", "down"], env=env, capture_output=True, text=True, timeout=180
        )
        print(stopped.stdout, stopped.stderr)
    assert not any(status(config).values())
    for pid_file in (home / "airflow-run").glob("*.pid"):
        pytest.fail(f"{pid_file} left behind")
