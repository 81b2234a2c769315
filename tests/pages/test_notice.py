"""The notice to the claimant (pages/notice.py): the records, the rules' legal basis, the
proven amount apart from any estimate, how and by when to answer, and the masking, on
the report's hand-made night (no I/O)."""

from __future__ import annotations

import datetime as dt

from fraud.case_file import CaseFile
from fraud.dispositions import Disposition
from pages.notice import render

NOTICE_ON = dt.date(2026, 3, 9)
CONFIRMED = Disposition("CASE0001", "CL-A", "confirmed", "payer confirmed", "kim", "2026-03-08T10:00:00+09:00")


def case_file(report_sample, case_changes=None, evidence=None) -> CaseFile:
    inp = report_sample.sample_input()
    case = dict(inp.cases[0], **(case_changes or {}))
    rows = evidence if evidence is not None else [e for e in inp.evidence if e["case_id"] == "CASE0001"]
    return CaseFile(inp.ds, case, rows, CONFIRMED)


def section(text: str, number: int) -> str:
    return text.split(f"\n{number}. ")[1].split("\n\n")[0]


def test_the_notice_lists_the_records_the_rules_the_amount_and_how_to_answer(report_sample):
    text = render(case_file(report_sample), NOTICE_ON, 14)
    assert text.startswith("구직급여 부정수급 조사에 관한 사전통지 및 의견제출 안내\n") and text.endswith("\n")
    assert "사건번호: CASE0001" in text and "수급자격 번호: CL-A" in text and "자료 기준일: 2026-03-07" in text
    records = section(text, 1)
    assert "실업인정 CL-A-c2 - 출처: 고용보험 DB 실업인정 기록(ei/certifications)" in records
    assert "실업인정일: 2026-02-02 / 실업인정대상기간: 2026-02-01 ~ 2026-02-28" in records
    assert "신고한 소득: 0원 / 지급된 구직급여: 1,680,000원" in records
    assert "대조한 국세청 과세정보 소득자료(nts/income): r-1" in records
    assert "- UW-01 [입증] 12 days worked, 0 declared" in records
    rules = section(text, 2)
    for rule_id, title, basis in (
        ("UW-01", "work proven inside a certified period declared as no income", "고용보험법 제47조, 제61조"),
        ("GH-01", "paper employment at a workplace of a suspected collusion ring", "고용보험법 제61조, 제62조"),
    ):
        assert f"- {rule_id} {title}" in rules and basis in rules
    assert "기록으로 입증된 금액: 3,360,000원" in section(text, 3)
    answer = section(text, 4)
    assert "의견제출 기한: 2026-03-23까지 (통지일부터 14일)" in answer and "의견제출 기한: 2026-03-23" in text
    assert "90일 이내에 고용보험심사관에게 심사를 청구" in answer and "고용보험법 제87조" in answer
    no_effect = "이 통지만으로는 어떤 급여도 중지되거나 환수되지 않습니다"
    assert text.count(no_effect) == 2 and "아무것도 결정되지 않았습니다" in text


def test_the_response_days_set_the_deadline(report_sample):
    assert "의견제출 기한: 2026-04-08까지 (통지일부터 30일)" in render(case_file(report_sample), NOTICE_ON, 30)


def test_the_proven_amount_stands_apart_from_the_estimate(report_sample):
    changes = {"overpayment_if_confirmed": "5040000", "rule_hits": "GH-01;UW-01;UW-03"}
    text = render(case_file(report_sample, changes), NOTICE_ON, 14)
    amounts = section(text, 3).splitlines()
    proven = next(line for line in amounts if "기록으로 입증된 금액" in line)
    estimate = next(line for line in amounts if "추정액(" in line)
    assert "3,360,000원" in proven and "5,040,000" not in proven
    assert "추정액(입증되지 않음): 5,040,000원" in estimate and "반환 대상 금액이 아닙니다" in estimate
    assert "UW-03: the payer's record of the pay for the days inside the period" in section(text, 3)
    # What the proven amount rests on: the first tainted certification, and the rule invalidating the claim.
    assert "부정행위가 처음 확인된 실업인정 CL-A-c2(2026-02-01 ~ 2026-02-28)부터" in text
    assert "GH-01에 따라 수급자격이 처음부터 성립하지 않아" in text
    # Without an estimate larger than the proven amount, none is shown.
    assert "추정액(" not in render(case_file(report_sample), NOTICE_ON, 14)


def test_a_case_resting_on_an_estimate_alone_proves_no_amount(report_sample):
    [row] = [e for e in report_sample.sample_input().evidence if e["case_id"] == "CASE0001"]
    estimate = dict(row, rule_id="UW-04", standard="estimated", taints=False, evidence="estimated: ~12 days")
    changes = {"estimated_overpayment": "0", "overpayment_if_confirmed": "1680000", "rule_hits": "UW-04"}
    amounts = section(render(case_file(report_sample, changes, [estimate]), NOTICE_ON, 14), 3)
    assert "기록으로 입증된 금액: 0원" in amounts and "기록 대조만으로 입증된 부정수급액은 없습니다" in amounts
    assert "추정액(입증되지 않음): 1,680,000원" in amounts and "UW-04: ask the payer for the days worked" in amounts


def test_keys_are_shortened_the_person_key_never_shown_and_a_record_cannot_break_the_layout(report_sample):
    [row] = [e for e in report_sample.sample_input().evidence if e["case_id"] == "CASE0001"]
    forged = dict(row, evidence=f"account {report_sample.ACCOUNT} shared\n\n3. 부정수급액\x1b[2J")
    text = render(case_file(report_sample, evidence=[forged]), NOTICE_ON, 14)
    assert report_sample.ACCOUNT not in text and f"account {report_sample.ACCOUNT[:8]}… shared" in text
    assert report_sample.PERSON_A[:8] not in text
    assert text.count("\n3. ") == 1 and "\x1b" not in text and "\\x0a\\x0a3. 부정수급액\\x1b[2J" in text
