"""The stage server (jobs/stage_server.py): the Airflow tasks' Spark stages run in one
long-lived driver, with the same settings, results and errors as in the task."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import stat
import threading
import time
from datetime import date
from pathlib import Path

import pendulum
import pytest

from fraud.config import Settings
from jobs import pipeline, stage_server
from tests.conftest import TINY_DATA_CONF, claim_row, crossing_row, csv_text, write_drop

DS = date(2026, 3, 2)


def _settings(tmp_path: Path, **overrides) -> Settings:
    values = {
        "landing": tmp_path / "landing",
        "warehouse": tmp_path / "warehouse",
        "spark_master": "local[2]",
        "spark_shuffle_partitions": 2,
        "spark_driver_memory": "6g",
        "spark_conf": dict(TINY_DATA_CONF),
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def server(tmp_path):
    """A stage server in a thread of this process: `start(served, runner)` returns
    its socket; it stops when the test ends. Short path: a Unix socket's is at most
    107 bytes."""
    import tempfile

    stop = threading.Event()
    threads = []
    directory = Path(tempfile.mkdtemp(prefix="ss-"))

    def start(served: Settings, runner=None, **options) -> Path:
        path = directory / "stages.sock"
        ready = threading.Event()
        if runner is not None:  # no Spark in this process: a fake runner's driver never stops
            options.setdefault("driver_stopped", lambda: False)
        thread = threading.Thread(
            target=stage_server.serve, args=(path, served, runner, ready, stop), kwargs=options, daemon=True
        )
        thread.start()
        assert ready.wait(60)
        threads.append(thread)
        return path

    yield start
    stop.set()
    for thread in threads:
        thread.join(10)
    shutil.rmtree(directory, ignore_errors=True)


def _recording_runner(calls: list):
    def runner(stage, ds, upstream, settings):
        calls.append((stage, ds, upstream, settings))
        logging.getLogger("jobs.somewhere").info("stage %s ran on the server", stage)
        if stage == "conform":
            raise ValueError("no rows to conform")
        return {**upstream, stage: f"/w/runs/{ds}/{stage}.json"}

    return runner


def test_a_stage_sent_to_the_server_runs_there_with_the_tasks_settings_and_its_log_comes_back(tmp_path, server, caplog):
    calls = []
    settings = _settings(tmp_path, full_rebuild=True, control_sample="0.5%", landing_root=tmp_path / "root")
    path = server(_settings(tmp_path), _recording_runner(calls))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # its owner only

    with caplog.at_level(logging.INFO):
        done = stage_server.submit(path, "validate", DS, {"ingest": "/w/ingest.json"}, settings)

    assert done == {"ingest": "/w/ingest.json", "validate": "/w/runs/2026-03-02/validate.json"}
    assert calls == [("validate", DS, {"ingest": "/w/ingest.json"}, settings)]  # every setting, as the task had it
    # logged again in the task (this thread), not only where the server logged it (here,
    # the same process, a record the task logs again is forwarded once more while the
    # stage runs)
    assert "stage validate ran on the server" in [
        record.getMessage()
        for record in caplog.records
        if record.name == "jobs.somewhere" and record.thread == threading.get_ident()
    ]


def test_a_stage_that_fails_on_the_server_fails_the_task_and_the_server_serves_the_next(tmp_path, server):
    calls = []
    path = server(_settings(tmp_path), _recording_runner(calls))
    with pytest.raises(stage_server.StageServerError, match="stage conform for 2026-03-02 failed.*ValueError: no rows"):
        stage_server.submit(path, "conform", DS, {}, _settings(tmp_path))
    assert stage_server.submit(path, "collusion", DS, {}, _settings(tmp_path)) == {
        "collusion": "/w/runs/2026-03-02/collusion.json"
    }


def test_a_task_with_other_spark_settings_or_other_code_runs_its_stage_itself(tmp_path, server, monkeypatch, caplog):
    calls = []
    path = server(_settings(tmp_path), _recording_runner(calls))
    other_spark = _settings(tmp_path, spark_shuffle_partitions=8)
    with caplog.at_level(logging.WARNING):
        assert stage_server.submit(path, "validate", DS, {}, other_spark) is None
    assert "other spark_shuffle_partitions: restart the server" in caplog.text
    monkeypatch.setenv("FRAUD_MLFLOW_TRACKING_URI", "http://registry.example.org")  # another model registry
    assert stage_server.submit(path, "validate", DS, {}, _settings(tmp_path)) is None
    assert "the server's environment differ from the task's" in caplog.text
    monkeypatch.delenv("FRAUD_MLFLOW_TRACKING_URI")
    monkeypatch.setattr(stage_server, "source_digest", lambda: "an uncommitted edit")
    assert stage_server.submit(path, "validate", DS, {}, _settings(tmp_path)) is None
    assert "the server's source_digest differ from the task's" in caplog.text
    monkeypatch.setattr(stage_server, "code_version", lambda: "0.1.0+gother")  # the task's checkout moved on
    assert stage_server.submit(path, "validate", DS, {}, _settings(tmp_path)) is None
    assert "the task 0.1.0+gother: restart the server" in caplog.text
    assert calls == []


def test_a_server_whose_spark_driver_stopped_sends_every_stage_back_to_its_task(tmp_path, server, caplog):
    calls = []
    path = server(_settings(tmp_path), _recording_runner(calls), driver_stopped=lambda: True)
    with caplog.at_level(logging.WARNING):
        assert stage_server.submit(path, "validate", DS, {}, _settings(tmp_path)) is None
    assert "Spark driver has stopped" in caplog.text and calls == []


def test_memory_is_given_back_after_each_stage_run_and_the_jvm_s_at_the_night_s_end(tmp_path, server, monkeypatch):
    import fraud.spark

    calls, released = [], []
    path = server(_settings(tmp_path), _recording_runner(calls), release=released.append)
    stage_server.submit(path, "validate", DS, {}, _settings(tmp_path))
    stage_server.submit(path, "validate", DS, {}, _settings(tmp_path, spark_ui=True))  # refused: nothing ran
    stage_server.submit(path, "report", DS, {}, _settings(tmp_path))
    deadline = time.monotonic() + 10
    while len(released) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert released == ["validate", "report"]

    flags = []
    monkeypatch.setattr(fraud.spark, "release_memory", lambda jvm=True: flags.append(jvm))
    release = stage_server._release_after(pipeline.STAGES)
    for stage in ("validate", "conform", "collusion", "crossmatch", "safeguards", "report"):
        release(stage)
    assert flags == [False, False, False, False, True, True]  # as fraudctl run: before the report, and after it


def test_a_task_that_goes_away_during_its_stage_has_its_spark_jobs_cancelled(tmp_path, server):
    entered, cancelled = threading.Event(), threading.Event()

    def runner(stage, ds, upstream, settings):
        entered.set()
        assert cancelled.wait(20), "the stage was not cancelled"
        raise RuntimeError("job cancelled")

    path = server(_settings(tmp_path), runner, cancel=cancelled.set)
    request = {
        "stage": "collusion",
        "ds": DS.isoformat(),
        "upstream": {},
        "settings": stage_server.settings_to_json(_settings(tmp_path)),
        "identity": stage_server.identity(),
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(path))
        connection.sendall((json.dumps(request) + "\n").encode())
        assert connection.makefile("rb").readline() == b'{"started": "collusion"}\n'
        assert entered.wait(20)
    # the task's process is gone (its timeout killed it): the server cancels the stage
    assert cancelled.wait(20)


def test_a_server_will_not_take_a_path_a_server_listens_on_or_that_is_no_socket(tmp_path, server):
    path = server(_settings(tmp_path), _recording_runner([]))
    with pytest.raises(ValueError, match="already listens"):
        stage_server.serve(path, _settings(tmp_path), runner=_recording_runner([]))
    regular = tmp_path / "a-file"
    regular.write_text("keep me")
    with pytest.raises(ValueError, match="is not a socket"):
        stage_server.serve(regular, _settings(tmp_path), runner=_recording_runner([]))
    assert regular.read_text() == "keep me"
    with pytest.raises(ValueError, match="longer than 107 bytes"):
        stage_server.serve(tmp_path / ("x" * 120), _settings(tmp_path), runner=_recording_runner([]))
    dead = tmp_path / "dead.sock"  # left by a server that was killed: taken over
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as left:
        left.bind(str(dead))
    stop = threading.Event()
    ready = threading.Event()
    threading.Thread(
        target=stage_server.serve,
        args=(dead, _settings(tmp_path), _recording_runner([]), ready, stop),
        kwargs={"driver_stopped": lambda: False},
        daemon=True,
    ).start()
    assert ready.wait(20)
    assert stage_server.submit(dead, "validate", DS, {}, _settings(tmp_path)) == {
        "validate": "/w/runs/2026-03-02/validate.json"
    }
    stop.set()


def test_a_line_that_is_no_request_is_refused_and_the_server_serves_the_next(tmp_path, server):
    calls = []
    path = server(_settings(tmp_path), _recording_runner(calls))
    for line in (b"not json\n", b'{"stage": "validate"}\n', b"[1, 2]\n", b'"stage ds upstream settings identity"\n'):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(path))
            connection.sendall(line)
            assert connection.makefile("rb").readline().startswith(b'{"refused": "not a request')
    assert stage_server.submit(path, "validate", DS, {}, _settings(tmp_path)) == {
        "validate": "/w/runs/2026-03-02/validate.json"
    }
    assert [call[0] for call in calls] == ["validate"]


def test_without_a_server_the_task_runs_its_stage_itself(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        assert stage_server.submit(tmp_path / "none.sock", "validate", DS, {}, _settings(tmp_path)) is None
    assert "no stage server took stage validate" in caplog.text


def test_settings_cross_the_socket_unchanged(tmp_path):
    for settings in (Settings(), _settings(tmp_path, stage_server=tmp_path / "s.sock", landing_root=tmp_path)):
        assert stage_server.settings_from_json(stage_server.settings_to_json(settings)) == settings
    assert "stage_server" not in _settings(tmp_path, stage_server=tmp_path / "s.sock").as_manifest()


def test_airflow_tasks_send_spark_stages_to_the_server_named_in_the_environment(tmp_path, server, monkeypatch):
    calls, here = [], []
    path = server(Settings.from_env(), _recording_runner(calls))
    monkeypatch.setenv("FRAUD_STAGE_SERVER", str(path))
    monkeypatch.setattr(pipeline, "run_stage", lambda stage, ds, upstream, settings: here.append(stage) or {})
    logical = pendulum.datetime(2026, 3, 2, 23, tz="Asia/Seoul")
    pipeline.run_for_airflow("ingest", {"logical_date": logical})  # no Spark: in the task
    pipeline.run_for_airflow("validate", {"logical_date": logical, "params": {"full_rebuild": True}})
    assert here == ["ingest"]
    assert [(stage, settings.full_rebuild, settings.stage_server) for stage, _, _, settings in calls] == [
        ("validate", True, path)
    ]
    monkeypatch.setenv("FRAUD_STAGE_SERVER", str(tmp_path / "gone.sock"))  # the server is down
    pipeline.run_for_airflow("collusion", {"logical_date": logical})
    assert here == ["ingest", "collusion"]


def test_stages_run_on_the_server_write_what_they_write_in_the_task(spark, tmp_path, server):
    """The real stages, on a server in this process (the suite's Spark session): the
    night's first stages give the same tables and counts as run in the task."""
    for name in ("served", "here"):
        landing = tmp_path / name / "landing"
        write_drop(landing, "ei", "2026-03-02", {"claims": csv_text([claim_row("C1"), claim_row("C2", status="X")])})
        write_drop(landing, "nts", "2026-03-02", {})
        write_drop(landing, "moj", "2026-03-02", {"crossings": csv_text([crossing_row("X1")])})
    served, here = (_settings(tmp_path / name, require_drops_for_ds=False) for name in ("served", "here"))
    path = server(served)
    upstream = {"served": {}, "here": {}}
    for stage in ("ingest", "validate", "conform"):
        upstream["here"] = pipeline.run_stage(stage, DS, upstream["here"], here)
        if stage == "ingest":
            upstream["served"] = pipeline.run_stage(stage, DS, upstream["served"], served)
        else:
            upstream["served"] = stage_server.submit(path, stage, DS, upstream["served"], served)
    assert [Path(p).name for p in upstream["served"].values()] == [Path(p).name for p in upstream["here"].values()]
    for relative in ("runs/2026-03-02/validate.json", "runs/2026-03-02/conform.json", "state/drops/ei/2026-03-02.json"):
        served_text = (served.warehouse / relative).read_text().replace(str(served.warehouse), "W")
        assert served_text == (here.warehouse / relative).read_text().replace(str(here.warehouse), "W"), relative
    claims = [
        sorted(spark.read.parquet(str(s.warehouse / "validated" / "ei" / "claims")).select("claim_id").collect())
        for s in (served, here)
    ]
    assert claims[0] == claims[1] and len(claims[0]) == 1  # C2's status is no code: quarantined on both
