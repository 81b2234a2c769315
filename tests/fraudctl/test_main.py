"""fraudctl: help everywhere, meaningful exit codes, one-line errors, a run that says
where its outputs are."""

import json

import pytest
from click.testing import CliRunner
from conftest import claim_row, csv_text, empty_drops, write_drop

from fraudctl.main import EXIT_BAD_DROP, EXIT_MISSING_DROPS, EXIT_VALIDATION, main


def _invoke(*args):
    return CliRunner().invoke(main, ["--log-level", "ERROR", *args], catch_exceptions=False)


@pytest.mark.parametrize("command", [[], ["run"], ["synth"], ["evaluate"], ["rules"], ["train"], ["stage-server"]])
def test_every_command_has_help(command):
    result = _invoke(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_bad_date_is_a_usage_error(tmp_path):
    result = _invoke("run", "--landing", str(tmp_path), "--warehouse", str(tmp_path / "w"), "--ds", "2026-02-30")
    assert result.exit_code == 2 and "is not a date" in result.output


def test_a_stage_server_without_a_socket_is_a_one_line_error(monkeypatch):
    monkeypatch.delenv("FRAUD_STAGE_SERVER", raising=False)
    result = _invoke("stage-server")
    assert result.exit_code == 2
    assert result.output.strip().endswith("no socket: pass --socket or set FRAUD_STAGE_SERVER")


def test_a_stage_server_socket_path_too_long_is_a_one_line_error(tmp_path):
    result = _invoke("stage-server", "--socket", str(tmp_path / ("s" * 120)))
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].endswith("is longer than 107 bytes")


def test_altered_file_exits_3_with_one_line_naming_it(tmp_path):
    landing = tmp_path / "landing"
    write_drop(landing, "ei", "2026-03-02", {"claims": csv_text([claim_row()])})
    empty_drops(landing, "2026-03-02", sources=("nts", "moj"))
    (landing / "ei" / "2026-03-02" / "claims.csv").write_bytes(b"claim_id\r\nC1\r\n")
    result = _invoke(
        "run", "--landing", str(landing), "--warehouse", str(tmp_path / "w"), "--ds", "2026-03-02", "--no-progress"
    )
    assert result.exit_code == EXIT_BAD_DROP
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ei/2026-03-02/claims.csv" in lines[0]


def test_missing_source_exits_4_naming_it(tmp_path):
    landing = tmp_path / "landing"
    empty_drops(landing, "2026-03-02", sources=("ei", "moj"))
    result = _invoke("run", "--landing", str(landing), "--warehouse", str(tmp_path / "w"), "--ds", "2026-03-02")
    assert result.exit_code == EXIT_MISSING_DROPS
    assert "source(s) nts" in result.stderr


def test_run_prints_where_the_outputs_are(spark, tmp_path, monkeypatch):
    import fraud.spark
    from jobs import pipeline

    released = []
    release_memory = fraud.spark.release_memory
    monkeypatch.setattr(fraud.spark, "release_memory", lambda jvm=True: released.append(jvm) or release_memory(jvm))
    landing = tmp_path / "landing"
    write_drop(landing, "ei", "2026-03-02", {"claims": csv_text([claim_row(), claim_row("C2", status="?")])})
    empty_drops(landing, "2026-03-02", sources=("nts", "moj"))
    warehouse = tmp_path / "w"
    result = _invoke("run", "--landing", str(landing), "--warehouse", str(warehouse), "--ds", "2026-03-02")
    assert result.exit_code == 0, result.output
    manifest_path = warehouse / "outputs" / "2026-03-02" / "run_manifest.json"
    assert f"run manifest: {manifest_path}" in result.output
    assert "rows in 2, valid 1, quarantined 1" in result.output
    assert json.loads(manifest_path.read_text())["totals"]["quarantined"] == 1
    # The stages give their memory back, all but the last (Spark's JVM too before the
    # report stage), and the report stage its Spark work's before it renders the pages.
    assert released == [False] * (len(pipeline.STAGES) - 2) + [True] + [True]


def test_rules_lists_every_rule_with_the_rule_set_version():
    from rules.ruleset import RULES, RULES_VERSION

    result = _invoke("rules")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"rule set {RULES_VERSION}"
    assert [line.split()[0] for line in lines[1:]] == [rule.rule_id for rule in RULES]


def test_train_without_conformed_tables_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(
        main, ["--log-level", "ERROR", "train", "--warehouse", str(tmp_path), "--ds", "2026-03-05"]
    )
    assert result.exit_code == 2
    assert "no conformed tables on or before 2026-03-05" in result.output and not (tmp_path / "mlflow").exists()
    assert "fraudctl run --ds 2026-03-05" in result.output and len(result.output.strip().splitlines()) == 1


def test_train_holds_the_nights_lock_so_prune_cannot_delete_its_tables(tmp_path, monkeypatch):
    import fcntl

    import fraud.spark
    from jobs import train as job

    (tmp_path / "conformed" / "2026-03-04").mkdir(parents=True)
    held = []

    def fake_run(spark, inputs, night):
        with open(tmp_path / "state" / ".nights.lock", "a") as handle:
            try:  # what prune asks for: it must not get it while training reads the tables
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(False)
            except BlockingIOError:
                held.append(True)
        return job.TrainResult(
            ds=night.ds.isoformat(),
            model_version="1",
            training_data_sha256="0" * 64,
            metrics=None,
            promotion="kept",
            promotion_reason="test",
            champion_version="1",
            tracking_uri="",
        )

    monkeypatch.setattr(fraud.spark, "spark_session", lambda settings: None)
    monkeypatch.setattr(job, "run", fake_run)
    result = CliRunner().invoke(
        main, ["--log-level", "ERROR", "train", "--warehouse", str(tmp_path), "--ds", "2026-03-05"]
    )
    assert result.exit_code == 0, result.output
    assert held == [True] and result.output.startswith("trained on 2026-03-04")


def _world(root, name, rows, truth):
    outputs = root / name
    outputs.mkdir()
    (outputs / "cases.csv").write_text(
        "case_id,claim_id,person_key,workplace_id,score,rank,fraud_types,rule_hits,reasons,estimated_overpayment,"
        "ring_id\n" + "".join(row + "\n" for row in rows)
    )
    truth_file = root / f"{name}.json"
    truth_file.write_text(json.dumps(truth))
    return str(truth_file), str(outputs)


def test_evaluate_puts_both_worlds_side_by_side_and_checks_their_targets(tmp_path):
    truth = {
        "generator": "holdout",
        "planted": [{"claim_id": "UW1", "person_key": "p1", "typologies": ["UNDECLARED_WORK"], "overpayment": 100}],
    }
    good = _world(tmp_path, "good", ["Ca,UW1,p1,w,0.9,1,UNDECLARED_WORK,UW-01,r,100,"], truth)
    bad = _world(tmp_path, "bad", ["Cb,LA1,p2,w,0.9,1,UNDECLARED_WORK,UW-01,r,9,"], truth)
    result = _invoke(
        "evaluate",
        "--name",
        "synth",
        "--truth",
        good[0],
        "--outputs",
        good[1],
        "--name",
        "holdout",
        "--truth",
        bad[0],
        "--outputs",
        bad[1],
        "--check",
    )
    assert result.exit_code == 1
    table = result.output[result.output.index("issue #18 target") :]
    assert table.splitlines()[0].split()[-2:] == ["synth", "holdout"]
    assert "precision in top k >= 0.95" in table and "holdout: missed" in table
    alone = _invoke("evaluate", "--truth", good[0], "--outputs", good[1], "--check")
    assert alone.exit_code == 0 and alone.output.splitlines()[-1].split()[-1] == "yes"
    unpaired = _invoke("evaluate", "--truth", good[0], "--truth", bad[0], "--outputs", good[1])
    assert unpaired.exit_code == 2 and "one --outputs" in unpaired.stderr


def test_synth_writes_the_holdout_world_on_request(tmp_path):
    result = _invoke(
        "synth",
        "--generator",
        "holdout",
        "--out",
        str(tmp_path / "landing"),
        "--persons",
        "2000",
        "--days",
        "1",
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "landing" / "_truth" / "truth.json").read_text())
    assert truth["generator"] == "holdout" and truth["planted"]
    assert sorted(p.name for p in (tmp_path / "landing").iterdir()) == ["_truth", "ei", "moj", "nts"]


def test_a_named_pipe_listed_as_a_table_exits_3_with_one_line_and_no_hang(tmp_path):
    # Opening a pipe for reading waits for a writer: before issue #19 ingest waited
    # forever, holding the warehouse lock. Its own process, with a timeout.
    import os
    import subprocess
    import sys
    from pathlib import Path

    landing = tmp_path / "landing"
    drop = write_drop(landing, "ei", "2026-03-02", {"claims": csv_text([claim_row()])})
    empty_drops(landing, "2026-03-02", sources=("nts", "moj"))
    (drop / "claims.csv").unlink()
    os.mkfifo(drop / "claims.csv")
    fraudctl = Path(sys.executable).parent / "fraudctl"
    finished = subprocess.run(
        [
            str(fraudctl),
            "--log-level",
            "ERROR",
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(tmp_path / "w"),
            "--ds",
            "2026-03-02",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == EXIT_BAD_DROP
    assert finished.stderr.splitlines() == [
        "fraudctl: bad drop: ei/2026-03-02/claims.csv: a named pipe, not a regular file: refused"
    ]


def test_a_run_date_after_today_in_seoul_exits_2_before_any_stage(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "w"
    landing.mkdir()
    result = _invoke(
        "run",
        "--landing",
        str(landing),
        "--warehouse",
        str(warehouse),
        "--ds",
        "9999-12-31",
        "--no-require-drops",
        "--no-progress",
    )
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("fraudctl: run date 9999-12-31 is after today (") and "Seoul" in line
    assert not warehouse.exists()  # no stage ran


def _raising(error):
    def run_all(*args, **kwargs):
        raise error

    return run_all


def test_a_validation_or_publish_error_exits_5_with_one_line_and_others_propagate(tmp_path, monkeypatch):
    from jobs import pipeline
    from jobs.publish import PublishError
    from jobs.validate import ValidationError

    landing = tmp_path / "landing"
    landing.mkdir()
    args = ["run", "--landing", str(landing), "--warehouse", str(tmp_path / "w"), "--ds", "2026-03-02"]
    for error in (
        ValidationError("ei/2026-03-02/claims: 3 rows landed but 2 valid + 0 quarantined"),
        PublishError("a count does not add up"),
    ):
        monkeypatch.setattr(pipeline, "run_all", _raising(error))
        result = _invoke(*args, "--no-progress")
        assert result.exit_code == EXIT_VALIDATION
        assert result.stderr.strip() == f"fraudctl: {error}"
    monkeypatch.setattr(pipeline, "run_all", _raising(KeyError("stage")))
    with pytest.raises(KeyError):
        _invoke(*args, "--no-progress")
