"""The stages end to end on a tiny hand-made landing: counts that add up, point-in-time
tables, re-runs of old dates, drops that cannot be trusted, missing sources."""

import csv
import hashlib
import json
import logging
import re
from datetime import date

import pytest
from conftest import P2, claim_row, crossing_row, csv_text, empty_drops, write_drop

from fraud import contract
from fraud.config import Settings
from fraud.landing import DropError
from fraud.layers import read_table
from fraud.layout import Layout
from jobs import pipeline


def _landing(tmp_path):
    landing = tmp_path / "landing"
    write_drop(
        landing,
        "ei",
        "2026-03-02",
        {
            "claims": csv_text(
                [
                    claim_row("C1", updated_at="2026-03-01T10:00:00+09:00", status="FILED"),
                    claim_row("C2", person=P2, updated_at="2026-03-02T09:00:00+09:00", status="APPROVED"),
                    claim_row("C3", benefit_days="999"),  # bad: quarantined
                ]
            )
        },
    )
    write_drop(landing, "nts", "2026-03-02", {})
    write_drop(
        landing, "moj", "2026-03-02", {"crossings": csv_text([crossing_row("X1"), crossing_row("X2", direction="IN")])}
    )
    write_drop(
        landing,
        "ei",
        "2026-03-03",
        {
            "claims": csv_text(
                [
                    claim_row("C1", updated_at="2026-03-03T10:00:00+09:00", status="APPROVED"),
                    claim_row(
                        "C2", person=P2, updated_at="2026-03-01T09:00:00+09:00", status="REJECTED"
                    ),  # stale re-send
                ]
            )
        },
    )
    write_drop(landing, "nts", "2026-03-03", {})
    write_drop(landing, "moj", "2026-03-03", {"crossings": csv_text([crossing_row("X1", country="CN")])})
    return landing


def _settings(tmp_path, landing, warehouse="warehouse"):
    return Settings.from_env(
        landing=landing,
        warehouse=tmp_path / warehouse,
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        drop_wait_timeout_seconds=0,
    )


def _conformed(spark, settings, ds, table):
    path = Layout(settings.warehouse).conformed_table(ds, table)
    return {r[0]: r.asDict() for r in read_table(spark, path, contract.TABLES[table].primary_key).collect()}


def _manifest(settings, ds):
    return json.loads((Layout(settings.warehouse).outputs(ds) / "run_manifest.json").read_text())


def test_run_validates_conforms_and_publishes_counts_that_add_up(spark, tmp_path, caplog):
    landing = _landing(tmp_path)
    settings = _settings(tmp_path, landing)
    caplog.set_level(logging.INFO, logger="jobs.pipeline")
    pipeline.run_all(date(2026, 3, 3), settings)
    # Each Spark stage says how many Spark jobs it started (make bench reads it).
    done = {r.args[0]: r.getMessage() for r in caplog.records if r.msg.startswith("stage %s for %s done")}
    conform_jobs = re.search(r"done in [0-9.]+s \((\d+) Spark jobs\)$", done["conform"])
    assert conform_jobs and int(conform_jobs.group(1)) > 0, done["conform"]
    assert "Spark jobs" not in done["publish"]  # publish starts no Spark

    claims = _conformed(spark, settings, date(2026, 3, 3), "claims")
    assert claims["C1"]["status"] == "APPROVED"  # newer updated_at wins
    assert claims["C2"]["status"] == "APPROVED"  # the stale re-send loses
    assert "C3" not in claims
    crossings = _conformed(spark, settings, date(2026, 3, 3), "crossings")
    assert crossings["X1"]["country"] == "CN"  # no updated_at: the later drop wins

    manifest = _manifest(settings, date(2026, 3, 3))
    assert [(d["source"], d["drop_date"]) for d in manifest["drops"]] == [
        ("ei", "2026-03-02"),
        ("moj", "2026-03-02"),
        ("nts", "2026-03-02"),
        ("ei", "2026-03-03"),
        ("moj", "2026-03-03"),
        ("nts", "2026-03-03"),
    ]
    baseline_claims = manifest["drops"][0]["tables"]["claims"]
    assert (baseline_claims["rows_in"], baseline_claims["valid"], baseline_claims["quarantined"]) == (3, 2, 1)
    for drop in manifest["drops"]:
        for counts in drop["tables"].values():
            assert counts["valid"] + counts["quarantined"] == counts["rows_in"]
    expected_sha = hashlib.sha256((landing / "ei" / "2026-03-02" / "_MANIFEST.json").read_bytes()).hexdigest()
    assert manifest["drops"][0]["manifest_sha256"] == expected_sha
    assert manifest["totals"] == {"rows_in": 8, "valid": 7, "quarantined": 1}

    with open(Layout(settings.warehouse).quarantine_file("ei", date(2026, 3, 2), "claims"), newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["line_no"] == "3" and row["check"] == "maximum" and row["raw_line"].startswith("C3,")
    assert baseline_claims["expectations"]["success"] is True

    outputs = Layout(settings.warehouse).outputs(date(2026, 3, 3))
    assert set(manifest["outputs"]) >= {
        "cases.csv",
        "workplaces.csv",
        "rings.csv",
        "repeat_offenders.csv",
        "hubs.csv",
        "evidence.parquet",
    }
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256((outputs / name).read_bytes()).hexdigest() == digest
    assert manifest["rules_version"].startswith("r")
    with open(outputs / "cases.csv", newline="") as handle:
        assert next(csv.reader(handle))[:3] == ["case_id", "claim_id", "person_key"]


def test_rerun_of_an_old_date_after_newer_drops_gives_the_same_tables_and_manifest(spark, tmp_path):
    landing = _landing(tmp_path)
    settings = _settings(tmp_path, landing)
    pipeline.run_all(date(2026, 3, 2), settings)
    first_manifest = _manifest(settings, date(2026, 3, 2))
    first_claims = _conformed(spark, settings, date(2026, 3, 2), "claims")
    assert first_claims["C1"]["status"] == "FILED"

    write_drop(
        landing,
        "ei",
        "2026-03-04",
        {"claims": csv_text([claim_row("C1", updated_at="2026-03-04T10:00:00+09:00", status="EXHAUSTED")])},
    )
    empty_drops(landing, "2026-03-04", sources=("nts", "moj"))
    pipeline.run_all(date(2026, 3, 4), settings)
    assert _conformed(spark, settings, date(2026, 3, 4), "claims")["C1"]["status"] == "EXHAUSTED"

    pipeline.run_all(date(2026, 3, 2), settings)
    assert _conformed(spark, settings, date(2026, 3, 2), "claims") == first_claims
    assert _manifest(settings, date(2026, 3, 2)) == first_manifest


def test_file_altered_after_its_manifest_stops_the_run_naming_it(spark, tmp_path):
    landing = _landing(tmp_path)
    settings = _settings(tmp_path, landing)
    with open(landing / "moj" / "2026-03-03" / "crossings.csv", "ab") as handle:
        handle.write(b"X9,tampered\r\n")
    with pytest.raises(DropError, match="moj/2026-03-03/crossings.csv: sha256"):
        pipeline.run_all(date(2026, 3, 3), settings)


def test_row_count_that_disagrees_with_the_manifest_stops_the_run(spark, tmp_path):
    landing = tmp_path / "landing"
    write_drop(landing, "ei", "2026-03-02", {"claims": csv_text([claim_row()])}, rows={"claims": 2})
    empty_drops(landing, "2026-03-02", sources=("nts", "moj"))
    with pytest.raises(DropError, match="ei/2026-03-02/claims.csv: the manifest says 2 rows, the file has 1"):
        pipeline.run_all(date(2026, 3, 2), _settings(tmp_path, landing))


def test_missing_source_fails_naming_it_after_the_timeout(tmp_path):
    landing = tmp_path / "landing"
    empty_drops(landing, "2026-03-02", sources=("ei", "nts"))
    settings = _settings(tmp_path, landing)
    waits = []
    clock = iter(range(0, 1000, 30))
    with pytest.raises(pipeline.MissingDropsError, match="source\\(s\\) moj"):
        pipeline.wait_for_drops(
            date(2026, 3, 2),
            Settings(**{**settings.__dict__, "drop_wait_timeout_seconds": 60, "drop_poke_seconds": 30}),
            sleep=waits.append,
            clock=lambda: next(clock),
        )
    assert waits, "it waited before giving up"


def test_run_date_is_the_logical_date_seen_from_seoul():
    import pendulum

    assert pipeline.run_date(pendulum.datetime(2026, 3, 2, 15, 0, tz="UTC")) == date(2026, 3, 3)
    assert pipeline.run_date(None, pendulum.datetime(2026, 3, 2, 14, 0, tz="UTC")) == date(2026, 3, 2)


def test_a_run_date_after_today_in_seoul_is_refused_before_any_stage(tmp_path, monkeypatch):
    from datetime import timedelta

    import pendulum

    from fraud.retention import today

    landing = tmp_path / "landing"
    landing.mkdir()
    settings = _settings(tmp_path, landing)
    tomorrow = today() + timedelta(days=1)
    with pytest.raises(pipeline.RunDateError, match=f"^run date {tomorrow} is after today"):
        pipeline.run_all(tomorrow, Settings(**{**settings.__dict__, "require_drops_for_ds": False}))
    # The DAG's tasks go through the same check.
    monkeypatch.setenv("FRAUD_LANDING", str(landing))
    monkeypatch.setenv("FRAUD_WAREHOUSE", str(settings.warehouse))
    monkeypatch.setenv("FRAUD_DROP_WAIT_TIMEOUT", "0")
    logical = pendulum.datetime(tomorrow.year, tomorrow.month, tomorrow.day, 23, tz="Asia/Seoul")
    for stage in ("wait", "ingest"):
        with pytest.raises(pipeline.RunDateError):
            pipeline.run_for_airflow(stage, {"logical_date": logical})
    assert not settings.warehouse.exists()
    pipeline.check_run_date(today())  # today itself is a run date


def test_a_run_gives_back_each_stages_memory_before_the_next_starts(tmp_path, monkeypatch):
    """`fraudctl run` runs every stage in one process: after each but the last, the
    driver gives back its memory (fraud/spark.py:release_memory), Spark's JVM too before
    the report stage, and each stage is told so (the report stage has Spark's JVM give
    back its memory again before rendering).
    The CLI asks for it (tests/fraudctl)."""
    import fraud.spark

    events = []

    def run_stage(name, ds, upstream, settings, progress=None, release_memory=False):
        events.append(name if release_memory else (name, "keeps its memory"))
        return {**upstream, name: f"{name}.json"}

    def release_memory(jvm=True):
        events.append(("release", jvm))
        return 2 << 20, 1 << 20

    monkeypatch.setattr(pipeline, "run_stage", run_stage)
    monkeypatch.setattr(fraud.spark, "release_memory", release_memory)
    landing = tmp_path / "landing"
    landing.mkdir()
    settings = Settings(**{**_settings(tmp_path, landing).__dict__, "require_drops_for_ds": False})
    upstream = pipeline.run_all(date(2026, 3, 2), settings, release_between_stages=True)
    expected = []
    for stage in pipeline.STAGES[:-2]:
        expected += [stage.name, ("release", False)]  # the driver's; Spark's JVM is left to grow
    # Before the report, the night's computing done, Spark's JVM gives back its heap too.
    expected += [pipeline.STAGES[-2].name, ("release", True)]
    assert events == [*expected, pipeline.STAGES[-1].name]
    assert list(upstream) == [stage.name for stage in pipeline.STAGES]
    events.clear()
    pipeline.run_all(date(2026, 3, 2), settings)  # a test's small night keeps its half second a stage
    assert events == [(stage.name, "keeps its memory") for stage in pipeline.STAGES]
