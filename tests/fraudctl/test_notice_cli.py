"""`fraudctl notice`: the notice of a confirmed case, from the latest queue on or before
its date; a refusal in one line, exit 2, for any other case (fraud/case_file.py)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fraud import dispositions
from fraud.storage import write_csv
from fraudctl.main import main

KST = dt.timezone(dt.timedelta(hours=9))
NOTICE_ON = "2026-03-09"


@pytest.fixture
def warehouse(tmp_path, report_sample):
    """The report's hand-made night as a warehouse's published outputs: its queue,
    evidence and a run manifest."""
    inp = report_sample.sample_input()
    outputs = tmp_path / "warehouse" / "outputs" / inp.ds.isoformat()
    columns = list(inp.cases[0])
    write_csv(outputs / "cases.csv", columns, ([case[k] for k in columns] for case in inp.cases))
    pq.write_table(pa.Table.from_pylist(inp.evidence), outputs / "evidence.parquet")
    (outputs / "run_manifest.json").write_text("{}")
    return tmp_path / "warehouse"


def decide(warehouse, status: str) -> None:
    dispositions.record(warehouse, "CASE0001", status, "why", "kim", dt.datetime(2026, 3, 8, 10, 0, tzinfo=KST))


def notice(warehouse, *args):
    runner = CliRunner()
    return runner.invoke(
        main, ["notice", "CASE0001", "--warehouse", str(warehouse), "--ds", NOTICE_ON, *args], catch_exceptions=False
    )


def test_notice_has_help():
    result = CliRunner().invoke(main, ["notice", "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_a_confirmed_case_gets_its_notice_on_stdout_or_in_a_file(warehouse, tmp_path):
    decide(warehouse, "confirmed")
    result = notice(warehouse)
    assert result.exit_code == 0 and result.stderr == ""
    assert "사건번호: CASE0001" in result.stdout and "통지일: 2026-03-09" in result.stdout
    assert "자료 기준일: 2026-03-07" in result.stdout and "기록으로 입증된 금액: 3,360,000원" in result.stdout
    assert "의견제출 기한: 2026-03-23" in result.stdout and "12 days worked, 0 declared" in result.stdout
    out = tmp_path / "letters" / "CASE0001.txt"
    written = notice(warehouse, "--out", str(out))
    assert written.exit_code == 0 and written.stdout == f"notice for CASE0001: {out}\n"
    assert out.read_text(encoding="utf-8") == result.stdout


def test_the_response_days_come_from_the_settings(warehouse, monkeypatch):
    decide(warehouse, "confirmed")
    monkeypatch.setenv("FRAUD_NOTICE_RESPONSE_DAYS", "21")
    assert "의견제출 기한: 2026-03-30까지 (통지일부터 21일)" in notice(warehouse).stdout
    monkeypatch.setenv("FRAUD_NOTICE_RESPONSE_DAYS", "7")
    short = notice(warehouse)
    assert short.exit_code == 2 and "notice_response_days must be at least 10" in short.stderr


@pytest.mark.parametrize(
    ("decisions", "latest"),
    [
        ((), "it has no decision"),
        (("in_review",), "its latest decision is in_review"),
        (("cleared",), "its latest decision is cleared"),
        (("confirmed", "cleared"), "its latest decision is cleared"),
        (("in_review", "confirmed@10"), "its latest decision is in_review"),  # confirmed after the notice's date
    ],
)
def test_a_case_not_confirmed_on_the_notices_date_is_refused_in_one_line(warehouse, decisions, latest):
    for hour, decision in enumerate(decisions):
        status, _, day = decision.partition("@")
        at = dt.datetime(2026, 3, int(day or 8), 10 + hour, 0, tzinfo=KST)
        dispositions.record(warehouse, "CASE0001", status, "why", "kim", at)
    result = notice(warehouse, "--out", str(warehouse / "notice.txt"))
    [line] = result.stderr.splitlines()
    assert result.exit_code == 2 and result.stdout == ""
    assert line.startswith("fraudctl: case CASE0001 is not confirmed") and latest in line
    assert not (warehouse / "notice.txt").exists()


def test_a_case_in_no_queue_up_to_the_notices_date_is_refused(warehouse):
    decide(warehouse, "confirmed")
    early = CliRunner().invoke(main, ["notice", "CASE0001", "--warehouse", str(warehouse), "--ds", "2026-03-06"])
    [line] = early.stderr.splitlines()
    assert early.exit_code == 2 and "is in no queue" in line and "on or before 2026-03-06" in line


def test_a_night_that_was_not_published_gives_no_notice(warehouse):
    decide(warehouse, "confirmed")
    night = next((warehouse / "outputs").iterdir())
    (night / "run_manifest.json").unlink()  # the night failed before publishing
    result = CliRunner().invoke(main, ["notice", "CASE0001", "--warehouse", str(warehouse), "--ds", NOTICE_ON])
    [line] = result.stderr.splitlines()
    assert result.exit_code == 2 and "is in no queue" in line
