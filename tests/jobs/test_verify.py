"""`fraudctl verify` on a tiny warehouse: a night re-run after newer drops landed
matches its manifest; an altered drop is named and nothing is re-run; the manifest
answers the lineage questions for a case; every file of the run is owner+group only
even under umask 000; CSV cells cannot run in a spreadsheet."""

import csv
import hashlib
import json
import os
import re
import shutil
import stat
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import P1, claim_row, crossing_row, csv_text, empty_drops, write_drop

from fraud.config import Settings
from fraud.layout import Layout
from fraud.storage import read_json, unescape_cell
from jobs import pipeline
from jobs.verify import VerifyError, csv_diff, verify

NIGHT = date(2026, 3, 2)
LATER = date(2026, 3, 3)
LATE = date(2026, 3, 1)
LATE_INCOME = {
    "record_id": "N1",
    "person_key": P1,
    "payer_business_no": "1234567890",
    "income_type": "WAGE",
    "work_from": "2026-02-01",
    "work_to": "2026-02-28",
    "work_days": "12",
    "amount": "1200000",
    "filed_on": "2026-02-28",
    "updated_at": "2026-02-28T10:00:00+09:00",
}
FORMULA_CLAIM = "=cmd|' /C calc'!A0"  # a DDE formula; unquoted in the delivered line


def _cert(cert_id="K1", claim_id="C1", **overrides):
    row = {
        "cert_id": cert_id,
        "claim_id": claim_id,
        "cert_on": "2026-02-20",
        "period_from": "2026-02-09",
        "period_to": "2026-02-19",
        "channel": "ONLINE",
        "ip_country": "JP",
        "job_search_count": "2",
        "declared_income": "0",
        "paid_days": "11",
        "paid_amount": "704000",
        "updated_at": "2026-02-20T10:00:00+09:00",
    }
    row.update(overrides)
    return row


def _landing(root):
    landing = root / "landing"
    write_drop(
        landing,
        "ei",
        NIGHT.isoformat(),
        {
            "claims": csv_text(
                [claim_row("C1"), claim_row(FORMULA_CLAIM, benefit_days="999")]
            ),  # quarantined: format, maximum
            "certifications": csv_text([_cert()]),
        },
    )
    write_drop(landing, "nts", NIGHT.isoformat(), {})
    write_drop(landing, "moj", NIGHT.isoformat(), {"crossings": csv_text([crossing_row("X1", person=P1)])})
    write_drop(
        landing,
        "ei",
        LATER.isoformat(),
        {
            "claims": csv_text(
                [claim_row("C1", updated_at="2026-03-03T10:00:00+09:00", status="TERMINATED", daily_amount="1")]
            )
        },
    )
    empty_drops(landing, LATER.isoformat(), sources=("nts", "moj"))
    return landing


@pytest.fixture(scope="module")
def warehouse(spark, tmp_path_factory):
    """Nights 2026-03-02 and 2026-03-03 run in order under umask 000 (so the later
    drops have landed when the first night is verified); between them a late drop
    dated 2026-03-01 arrives."""
    root = tmp_path_factory.mktemp("verify")
    landing = _landing(root)
    settings = Settings.from_env(
        landing=landing,
        warehouse=root / "warehouse",
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        drop_wait_timeout_seconds=0,
    )
    previous = os.umask(0)
    try:
        pipeline.run_all(NIGHT, settings)
        write_drop(landing, "nts", LATE.isoformat(), {"income": csv_text([LATE_INCOME])})
        pipeline.run_all(LATER, settings)
    finally:
        os.umask(previous)
    return settings


def _manifest(settings, ds=NIGHT):
    return read_json(Layout(settings.warehouse).outputs(ds) / "run_manifest.json")


def test_verify_matches_a_night_rerun_after_newer_drops(warehouse):
    outputs = Layout(warehouse.warehouse).outputs(NIGHT)
    before = {path: path.read_bytes() for path in outputs.rglob("*") if path.is_file()}

    report = verify(warehouse.warehouse, NIGHT)

    assert report.ok, report.lines()
    assert "note: left out drop(s) that landed after the run: nts/2026-03-01" in report.lines()
    assert report.compared == len(_manifest(warehouse)["outputs"]) >= 6
    assert report.lines()[-1].startswith("verified 2026-03-02: all")
    assert {path: path.read_bytes() for path in outputs.rglob("*") if path.is_file()} == before  # only read
    assert not list((warehouse.warehouse / "tmp").glob("verify-*"))  # scratch removed


def test_a_late_drop_is_used_by_the_next_night_and_left_out_of_the_earlier_one(warehouse):
    assert ("nts", "2026-03-01") not in {(d["source"], d["drop_date"]) for d in _manifest(warehouse)["drops"]}
    later = _manifest(warehouse, LATER)
    [late] = [d for d in later["drops"] if (d["source"], d["drop_date"]) == ("nts", "2026-03-01")]
    assert late["tables"]["income"]["valid"] == 1
    assert later["conformed_rows"]["income"] == 1
    # The earlier night's tables were built without it: the later night computes
    # everything again, in conform and in every stage that follows conform's mode.
    layout = Layout(warehouse.warehouse)
    conform = read_json(layout.stage_result(LATER, "conform"))
    assert conform["mode"] == "full" and "changed since" in conform["why"], conform
    for stage in ("collusion", "crossmatch"):
        result = read_json(layout.stage_result(LATER, stage))
        assert (result["mode"], result["why"]) == ("full", "conform rebuilt every table"), (stage, result)


def test_verify_names_an_altered_drop_file_and_reruns_nothing(warehouse, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(warehouse.landing, landing)
    claims = landing / "ei" / "2026-03-02" / "claims.csv"
    claims.write_bytes(claims.read_bytes().replace(b"64000", b"94000", 1))

    report = verify(warehouse.warehouse, NIGHT, landing=landing, scratch=tmp_path / "scratch")

    assert not report.ok
    assert report.altered_drops == [
        f"ei/2026-03-02/claims.csv: sha256 {hashlib.sha256(claims.read_bytes()).hexdigest()[:12]}… does not "
        f"match the manifest's {_manifest(warehouse)['drops'][0]['tables']['claims']['file_sha256'][:12]}… "
        "(file altered or truncated after the manifest was written)"
    ]
    assert not (tmp_path / "scratch").exists()


def test_verify_names_a_drop_whose_manifest_was_rewritten_with_its_file(warehouse, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(warehouse.landing, landing)
    drop = landing / "moj" / "2026-03-02"
    altered = csv_text([crossing_row("X1", person=P1, country="CN")]).encode()
    (drop / "crossings.csv").write_bytes(altered)
    manifest = read_json(drop / "_MANIFEST.json")
    manifest["tables"]["crossings.csv"]["sha256"] = hashlib.sha256(altered).hexdigest()
    (drop / "_MANIFEST.json").write_text(json.dumps(manifest))

    result = CliRunner().invoke(
        __import__("fraudctl.main", fromlist=["main"]).main,
        ["verify", "--warehouse", str(warehouse.warehouse), "--ds", "2026-03-02", "--landing", str(landing)],
    )

    assert result.exit_code == 3, result.output
    [line] = [out for out in result.output.splitlines() if out.startswith("ALTERED DROP")]
    assert line.startswith("ALTERED DROP moj/2026-03-02/_MANIFEST.json: sha256 ")
    assert "crossings.csv sha256" in line
    assert result.output.splitlines()[-1] == "NOT verified 2026-03-02: 1 input drop problem(s); nothing re-run"


def test_verify_refuses_a_night_that_never_ran(warehouse):
    with pytest.raises(VerifyError, match="no run manifest .*2026-03-01.*never ran"):
        verify(warehouse.warehouse, date(2026, 3, 1))


def test_verify_refuses_a_night_its_drops_were_validated_for_by_other_code(warehouse, monkeypatch):
    """Another validator decides other rows bad: its night cannot be re-run here, and
    verify says so up front rather than listing every difference."""
    import jobs.verify

    manifest = _manifest(warehouse)
    monkeypatch.setattr(jobs.verify, "VALIDATOR_VERSION", "0")
    expected = (
        f"checked by validator version {manifest['validator_version']} but this code's is 0; "
        f"check out its code_version {manifest['code_version']}"
    )
    with pytest.raises(VerifyError, match=re.escape(expected)):
        verify(warehouse.warehouse, NIGHT)
    monkeypatch.setattr(jobs.verify, "READER_VERSION", "0")
    with pytest.raises(VerifyError, match=re.escape(f"checked by reader version {manifest['reader_version']}")):
        verify(warehouse.warehouse, NIGHT)


def test_csv_diff_names_added_removed_and_changed_rows(tmp_path):
    recorded, rerun = tmp_path / "a.csv", tmp_path / "b.csv"
    recorded.write_text("case_id,score\nK1,0.5\nK2,0.4\nK3,0.1\n")
    rerun.write_text("case_id,score\nK1,0.7\nK3,0.1\nK4,0.2\n")
    assert csv_diff(recorded, rerun) == [
        "rows 3 -> 3: 1 added, 1 removed, 1 changed",
        "  - case_id=K2",
        "  + case_id=K4",
        "  ~ case_id=K1: score: '0.5' -> '0.7'",
    ]


def test_csv_diff_reads_a_field_over_the_csv_modules_limit(tmp_path):
    import csv

    from fraud.records import MAX_FIELD_CHARS  # the landing reader's limit, process-wide

    recorded, rerun = tmp_path / "a.csv", tmp_path / "b.csv"
    recorded.write_text("case_id,reasons\nK1," + "r" * (2 * MAX_FIELD_CHARS) + "\n")
    rerun.write_text("case_id,reasons\nK1,short\n")
    assert csv_diff(recorded, rerun)[0] == "rows 1 -> 1: 0 added, 0 removed, 1 changed"
    assert csv.field_size_limit() == MAX_FIELD_CHARS


def test_the_manifest_answers_the_lineage_questions_for_a_case(warehouse):
    """For one case of the night: which drops, which rows quarantined, which code,
    rules and model."""
    manifest = _manifest(warehouse)
    outputs = Layout(warehouse.warehouse).outputs(NIGHT)
    with open(outputs / "cases.csv", newline="") as handle:
        [case] = [row for row in csv.DictReader(handle) if row["claim_id"] == "C1"]
    assert "ABROAD_CERTIFICATION" in case["fraud_types"]

    # which drops: every drop dated on or before the night, each file by its sha256
    assert [(d["source"], d["drop_date"]) for d in manifest["drops"]] == [
        ("ei", "2026-03-02"),
        ("moj", "2026-03-02"),
        ("nts", "2026-03-02"),
    ]
    ei = manifest["drops"][0]
    delivered = warehouse.landing / "ei" / "2026-03-02" / "claims.csv"
    assert ei["tables"]["claims"]["file_sha256"] == hashlib.sha256(delivered.read_bytes()).hexdigest()
    # which rows quarantined: the file, its sha256 and row count
    claims = ei["tables"]["claims"]
    quarantine = warehouse.warehouse / claims["quarantine_file"]
    assert claims["quarantine_rows"] == claims["quarantined"] == 1
    assert claims["quarantine_sha256"] == hashlib.sha256(quarantine.read_bytes()).hexdigest()
    # which code, rules and model
    lineage = manifest["lineage"]
    assert manifest["code_version"].startswith(lineage["package_version"] + "+g" + lineage["git_commit"])
    assert lineage["rules_version"] == manifest["rules_version"]
    assert lineage["model_version"] is None
    assert lineage["stages"] == [
        "ingest",
        "validate",
        "conform",
        "collusion",
        "select_model",
        "crossmatch",
        "safeguards",
    ]
    assert manifest["configuration"]["hub_max_degree"] == 50
    # which libraries: the environment's lock file, as `make` installed it
    lock = Path(__file__).resolve().parents[2] / "requirements.lock"
    assert lineage["environment_lock_sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()


def test_verify_names_a_different_environment_lock_as_a_note(warehouse, monkeypatch):
    """A re-run in another environment may compute other bytes: verify says which
    lock the run had and which this one has (and still compares)."""
    from fraud import version

    monkeypatch.setattr(version, "lock_digest", lambda: "0" * 64)
    report = verify(warehouse.warehouse, NIGHT)
    recorded = _manifest(warehouse)["lineage"]["environment_lock_sha256"]
    assert (
        f"note: the run's environment lock (requirements.lock) was sha256 {recorded}, this is {'0' * 64}: "
        "library versions may differ, and outputs with them"
    ) in report.lines()
    assert report.ok, report.lines()


def test_quarantine_keeps_a_formula_line_recoverable_but_inert(warehouse):
    path = Layout(warehouse.warehouse).quarantine_file("ei", NIGHT, "claims")
    with open(path, newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["raw_line"].startswith("'=cmd|")  # a spreadsheet shows it as text
    delivered = (warehouse.landing / "ei" / "2026-03-02" / "claims.csv").read_bytes().decode().split("\r\n")[2]
    assert unescape_cell(row["raw_line"]) == delivered
    assert row["check"].split(";") == ["format", "maximum"]


def test_every_file_of_the_runs_is_owner_and_group_only_under_umask_000(warehouse):
    root = warehouse.warehouse
    checked = 0
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            mode = stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode)
            assert mode & 0o027 == 0, f"{os.path.join(directory, name)} is {oct(mode)}"
        for name in files:
            mode = stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode)
            assert mode & 0o137 == 0, f"{os.path.join(directory, name)} is {oct(mode)}"
            checked += 1
    assert stat.S_IMODE(os.stat(root).st_mode) & 0o027 == 0
    kinds = {path.relative_to(root).parts[0] for path in root.rglob("*") if path.is_file()}
    assert {"outputs", "quarantine", "runs", "landed", "validated", "state", "conformed"} <= kinds
    assert checked > 50
