"""The dispositions log (fraud/dispositions.py): append-only entries with time and
author, which entries a night applies, the evidence a cleared case rests on, and the
labels they give the model. No Spark: the run's outputs are written by hand."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fraud import dispositions
from fraud.dispositions import DispositionError, record

KST = dt.timezone(dt.timedelta(hours=9))
PERSON = "ab" * 32


def queue(
    warehouse,
    day: str,
    rows: list[tuple[str, str, str, str]],
    evidence: list[tuple[str, str | None]] = (),
    rings: str = "ring_id,workplace_ids,person_count,claim_count,score,reasons\n",
    published: bool = True,
):
    """outputs/<day>/ with cases.csv (case_id, claim_id, rule_hits, ring_id rows),
    evidence.parquet (case_id, cert_id), rings.csv and, when `published`, a run
    manifest (what a night's publish stage writes last)."""
    out = warehouse / "outputs" / day
    out.mkdir(parents=True)
    if published:
        (out / "run_manifest.json").write_text("{}")
    lines = [
        "case_id,claim_id,person_key,workplace_id,score,rank,fraud_types,rule_hits,reasons,estimated_overpayment,ring_id"
    ]
    lines += [
        f"{c},{cl},{PERSON},11111111111,0.9,{i + 1},UNDECLARED_WORK,{hits},r,100,{ring}"
        for i, (c, cl, hits, ring) in enumerate(rows)
    ]
    (out / "cases.csv").write_text("\n".join(lines) + "\n")
    pq.write_table(
        pa.table(
            {"case_id": [e[0] for e in evidence], "cert_id": [e[1] for e in evidence]},
            schema=pa.schema([("case_id", pa.string()), ("cert_id", pa.string())]),
        ),
        out / "evidence.parquet",
    )
    (out / "rings.csv").write_text(rings)


def test_a_cleared_case_records_the_evidence_it_was_cleared_on(tmp_path):
    queue(
        tmp_path,
        "2026-03-02",
        [("K1", "CL-1", "UW-01;UW-02", "R1")],
        [("K1", "c-2"), ("K1", "c-1"), ("K1", None)],
        rings="ring_id,workplace_ids,person_count,claim_count,score,reasons\nR1,1;2,4,5,0.9,x\n",
    )
    entry = record(tmp_path, "K1", "cleared", "declared late", "kim", dt.datetime(2026, 3, 3, 9, 0, tzinfo=KST))
    assert entry.claim_id == "CL-1" and entry.recorded_at == "2026-03-03T09:00:00+09:00"
    assert entry.evidence == dispositions.Evidence(("c-1", "c-2"), ("UW-01", "UW-02"), "R1", 4)
    stored = json.loads(next((tmp_path / "dispositions").glob("*.json")).read_text())
    assert stored["by"] == "kim" and stored["note"] == "declared late" and stored["status"] == "cleared"
    assert dispositions.cleared_rows(dispositions.read_log(tmp_path)) == [
        ("CL-1", ["c-1", "c-2"], ["UW-01", "UW-02"], 4)
    ]


def test_the_log_is_append_only_and_a_night_applies_what_was_recorded_by_its_date(tmp_path):
    queue(tmp_path, "2026-03-02", [("K1", "CL-1", "UW-01", "")])
    record(tmp_path, "K1", "in_review", "", "kim", dt.datetime(2026, 3, 3, 9, 0, tzinfo=KST))
    record(tmp_path, "K1", "confirmed", "admitted", "lee", dt.datetime(2026, 3, 4, 0, 30, tzinfo=dt.timezone.utc))
    assert [e.status for e in dispositions.read_log(tmp_path)] == ["in_review", "confirmed"]
    assert [e.status for e in dispositions.applicable(tmp_path, dt.date(2026, 3, 3))] == ["in_review"]
    on_4th = dispositions.applicable(tmp_path, dt.date(2026, 3, 4))  # 00:30 UTC is 09:30 KST on the 4th
    assert len(on_4th) == 2
    assert dispositions.checksum(on_4th) != dispositions.checksum(on_4th[:1])
    assert dispositions.checksum(dispositions.applicable(tmp_path, dt.date(2026, 3, 4))) == dispositions.checksum(
        on_4th
    )
    assert dispositions.labels(on_4th) == [("CL-1", 1, dt.date(2026, 3, 4), "UNDECLARED_WORK")]


@pytest.mark.parametrize(
    "case_id, status, by, message",
    [
        ("K9", "cleared", "kim", "in no queue"),
        ("K1", "closed", "kim", "status must be one of"),
        ("K1", "cleared", "  ", "must name the investigator"),
        ("../K1", "cleared", "kim", "is not a case id"),
        ("K1\n", "cleared", "kim", "is not a case id"),  # `$` would take the line break
    ],
)
def test_a_disposition_that_cannot_be_recorded_is_refused(tmp_path, case_id, status, by, message):
    queue(tmp_path, "2026-03-02", [("K1", "CL-1", "UW-01", "")])
    with pytest.raises(DispositionError, match=message):
        record(tmp_path, case_id, status, "", by, dt.datetime(2026, 3, 3, 9, 0, tzinfo=KST))
    assert not list((tmp_path / "dispositions").glob("*.json")) if (tmp_path / "dispositions").exists() else True


def test_a_case_only_queued_after_the_decision_time_is_refused(tmp_path):
    queue(tmp_path, "2026-03-05", [("K1", "CL-1", "UW-01", "")])
    with pytest.raises(DispositionError, match="dated on or before 2026-03-03"):
        record(tmp_path, "K1", "cleared", "", "kim", dt.datetime(2026, 3, 3, 9, 0, tzinfo=KST))


def test_cli_records_and_fails_with_one_line(tmp_path, monkeypatch):
    from fraudctl.main import main

    queue(tmp_path, "2026-03-02", [("K1", "CL-1", "UW-01", "")])
    monkeypatch.setenv("FRAUD_WAREHOUSE", str(tmp_path))
    done = CliRunner().invoke(
        main, ["disposition", "K1", "--status", "in_review", "--by", "kim", "--at", "2026-03-03T10:00:00+09:00"]
    )
    assert done.exit_code == 0, done.output
    assert "K1 (CL-1): in_review by kim at 2026-03-03T10:00:00+09:00" in done.output
    bad = CliRunner().invoke(main, ["disposition", "K1", "--status", "cleared", "--by", "kim", "--at", "2026-03-03"])
    assert bad.exit_code == 2 and bad.output.strip().count("\n") == 0 and "needs a UTC offset" in bad.output


def test_an_entry_written_before_sample_and_rule_hits_existed_keeps_its_bytes_and_checksum():
    old = {
        "case_id": "C1",
        "claim_id": "CL1",
        "status": "confirmed",
        "note": "",
        "by": "kim",
        "recorded_at": "2026-03-09T10:00:00+09:00",
        "fraud_types": "UNDECLARED_WORK",
        "evidence": {"cert_ids": [], "rule_ids": [], "ring_id": None, "ring_person_count": 0},
    }
    entry = dispositions.Disposition.from_dict(old)
    assert (entry.sample, entry.rule_hits) == ("queue", "")
    assert entry.as_dict() == old
    control = dispositions.Disposition.from_dict({**old, "sample": "control", "rule_hits": "UW-01"})
    assert control.as_dict()["sample"] == "control" and control.as_dict()["rule_hits"] == "UW-01"


def test_a_control_claim_is_decided_like_a_case_and_counted_apart_as_a_label(tmp_path):
    warehouse = tmp_path / "warehouse"
    queue(warehouse, "2026-03-08", [("C1", "CL1", "UW-01;UW-02", "")])
    sample = warehouse / "outputs" / "2026-03-08" / "control_sample.csv"
    sample.write_text(
        "draw_order,case_id,claim_id,person_key,workplace_id,filed_on,draw_key\n"
        f"1,C9,CL9,{PERSON},11111111111,2026-01-02,{'0' * 64}\n"
    )
    at = dt.datetime(2026, 3, 9, 10, 0, tzinfo=KST)
    queued = record(warehouse, "C1", "confirmed", "", "kim", at)
    control = record(warehouse, "C9", "cleared", "records agree", "kim", at)
    assert (queued.sample, queued.rule_hits) == ("queue", "UW-01;UW-02")
    assert (control.sample, control.claim_id, control.fraud_types) == ("control", "CL9", "")
    assert dispositions.label_sources(dispositions.read_log(warehouse)) == {"queue": 1, "control": 1}
    assert {row[0] for row in dispositions.labels(dispositions.read_log(warehouse))} == {"CL1", "CL9"}
    with pytest.raises(DispositionError, match="in no queue or control sample"):
        record(warehouse, "C7", "cleared", "x", "kim", at)


def _control_sample(warehouse, day: str, case_id: str, claim_id: str) -> None:
    out = warehouse / "outputs" / day
    out.mkdir(parents=True, exist_ok=True)
    (out / "run_manifest.json").write_text("{}")
    (out / "control_sample.csv").write_text(
        "draw_order,case_id,claim_id,person_key,workplace_id,filed_on,draw_key\n"
        f"1,{case_id},{claim_id},{PERSON},11111111111,2026-01-02,{'0' * 64}\n"
    )


def test_the_latest_night_that_listed_a_claim_says_whether_it_is_a_queue_or_a_control_claim(tmp_path):
    # C9 left the 03-01 queue undecided and was drawn into the 03-05 control sample: a
    # decision after 03-05 is on a control claim, one before it on a queued case.
    warehouse = tmp_path / "warehouse"
    queue(warehouse, "2026-03-01", [("C9", "CL9", "UW-01", "")])
    _control_sample(warehouse, "2026-03-05", "C9", "CL9")
    before = record(warehouse, "C9", "in_review", "", "kim", dt.datetime(2026, 3, 3, 10, 0, tzinfo=KST))
    after = record(warehouse, "C9", "cleared", "records agree", "kim", dt.datetime(2026, 3, 6, 10, 0, tzinfo=KST))
    assert (before.sample, before.rule_hits) == ("queue", "UW-01")
    assert (after.sample, after.rule_hits, after.fraud_types) == ("control", "", "")
    # Queued again on a later night: a queued case once more.
    queue(warehouse, "2026-03-07", [("C9", "CL9", "UW-02", "")])
    again = record(warehouse, "C9", "confirmed", "", "kim", dt.datetime(2026, 3, 8, 10, 0, tzinfo=KST))
    assert (again.sample, again.rule_hits) == ("queue", "UW-02")


def test_a_night_that_was_not_published_lists_no_case_for_the_cli_or_the_workbench(tmp_path):
    # 03-07's run wrote its queue and failed before publishing: nobody was shown it. A
    # decision is taken on the night the workbench shows, 03-01's, by both ways in.
    from workbench.night import queued_case

    warehouse = tmp_path / "warehouse"
    queue(warehouse, "2026-03-01", [("C9", "CL9", "UW-01", "")])
    queue(warehouse, "2026-03-07", [("C9", "CL9", "UW-02", ""), ("C8", "CL8", "UW-01", "")], published=False)
    assert dispositions.published_nights(warehouse) == [dt.date(2026, 3, 1)]
    assert queued_case(warehouse, "C9")[0] == dt.date(2026, 3, 1)
    assert queued_case(warehouse, "C8") is None
    entry = record(warehouse, "C9", "confirmed", "", "kim", dt.datetime(2026, 3, 8, 10, 0, tzinfo=KST))
    assert (entry.sample, entry.rule_hits) == ("queue", "UW-01")
    with pytest.raises(DispositionError, match="no queue or control sample of a night published"):
        record(warehouse, "C8", "confirmed", "", "kim", dt.datetime(2026, 3, 8, 10, 0, tzinfo=KST))
    # A night dated after today is no night a decision recorded now is taken on.
    queue(warehouse, "2999-01-01", [("C8", "CL8", "UW-02", "")])
    assert queued_case(warehouse, "C8") is None
    # Once published, it is the latest listing for both.
    (warehouse / "outputs" / "2026-03-07" / "run_manifest.json").write_text("{}")
    assert queued_case(warehouse, "C8")[0] == dt.date(2026, 3, 7)
    assert (
        record(warehouse, "C9", "in_review", "", "kim", dt.datetime(2026, 3, 8, 11, 0, tzinfo=KST)).rule_hits == "UW-02"
    )
