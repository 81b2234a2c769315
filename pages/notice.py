"""The notice to the claimant of a confirmed case (사전통지 및 의견제출 안내), as plain
text (no I/O): `render` takes the case file (fraud/case_file.py), the notice's date and
the days the claimant has to answer, and returns the letter in Korean.

It tells the claimant, in this order:
1. the records matched: each certification's and the claim's evidence rows, with the
   agency and feed they come from, their dates and what they show;
2. each rule hit's title and legal basis (rules/ruleset.py);
3. the proven overpayment, kept apart from any estimate: the figures and the split are
   the report's case page's own (pages/site.py: `overpayment_figures`,
   `tainted_certifications`, `invalidating_rules`, `what_would_settle`);
4. how to answer and contest, and by when: 의견제출 within the response days
   (행정절차법 제21조, 제27조), 심사청구 within 90 days of a decision (고용보험법
   제87조); and, first and last, that the notice itself stops and recovers nothing and
   nothing is decided before the claimant's answer is considered.

Personal keys: the claimant's own records (claim, certification, income statement and
crossing ids, dates, amounts) are shown as they are; the person key never (a
pseudonym: nothing to the claimant); any other key inside a record's text is shortened
as the report shortens it (pages/mask.py). The queue's triage (score, rank, the
model's reasons, the ring) is no fact and is left out. Every value from the records is
written on one line (fraud/text.py:one_line), so none can change the letter's layout.
"""

from __future__ import annotations

import datetime as dt

from fraud.case_file import CaseFile
from fraud.text import one_line
from pages.mask import mask_keys
from pages.site import (
    RULES_BY_ID,
    invalidating_rules,
    overpayment_figures,
    tainted_certifications,
    what_would_settle,
)
from rules.ruleset import ESTIMATED, LEAD, PROVEN

# 고용보험법 제87조 제2항: 심사청구 within 90 days of learning of the decision.
APPEAL_DAYS = 90
# The evidence standards (rules/ruleset.py) in the letter's words: a name, and what it means.
STANDARD_NAMES = {PROVEN: "입증", ESTIMATED: "추정", LEAD: "단서"}
STANDARD_MEANINGS = {
    PROVEN: "기록으로 확인된 사실입니다",
    ESTIMATED: "추정일 뿐, 입증된 것이 아닙니다",
    LEAD: "정황이거나 빠진 기록에 근거한 것으로, 입증된 것이 아닙니다",
}
# The feeds (FEEDS.md) a case's evidence rows rest on.
CERTIFICATIONS_FEED = "고용보험 DB 실업인정 기록(ei/certifications)"
INCOME_FEED = "국세청 과세정보 소득자료(nts/income)"
CROSSINGS_FEED = "법무부 출입국 기록(moj/crossings)"
CLAIM_FEEDS = "고용보험 DB 수급자격·피보험자격·사업장 기록(ei/claims, ei/employments, ei/workplaces)과 국세청 과세정보"
NO_EFFECT_ON_ITS_OWN = (
    "이 통지만으로는 어떤 급여도 중지되거나 환수되지 않습니다. 귀하의 의견을 받아 검토하기 전에는 "
    "아무것도 결정되지 않았습니다."
)


def _shown(value) -> str:
    """A value from the records on one line, any key in it shortened."""
    if value is None or value == "":
        return "-"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(v) for v in value) or "-"
    return one_line(str(mask_keys(str(value))))


def _won(value) -> str:
    if value is None or value == "":
        return "-"
    return f"{int(float(value)):,}원"


def _period(row: dict) -> str:
    return f"{_shown(row.get('period_from'))} ~ {_shown(row.get('period_to'))}"


def _period_order(row: dict) -> tuple[str, str]:
    return _shown(row.get("period_from")), row["cert_id"]


def _effect(rule_id: str) -> str:
    rule = RULES_BY_ID[rule_id]
    if rule.taints:
        return "해당 실업인정부터 그 뒤에 지급된 급여가 반환 대상이 될 수 있습니다."
    if rule.invalidates_claim:
        return "수급자격이 처음부터 성립하지 않아, 이 수급자격으로 지급된 급여 전부가 반환 대상이 될 수 있습니다."
    if rule.aggravates_only:
        return "가중 사유입니다. 이것만으로는 부정수급의 근거가 되지 않습니다."
    return "확인되기 전에는 반환 대상 금액에 넣지 않습니다."


def _hit_line(row: dict) -> str:
    # An evidence file of an older night has no `standard`: the rule's own.
    rule = RULES_BY_ID.get(row["rule_id"])
    standard = row.get("standard") or (rule.standard if rule else "")
    name = STANDARD_NAMES.get(standard, _shown(standard))
    return f"     - {_shown(row['rule_id'])} [{name}] {_shown(row.get('evidence'))}"


def _records(evidence: list[dict]) -> list[str]:
    """Section 1: the certifications in period order, each with its rule hits; then the
    hits on the claim as a whole."""
    by_cert: dict[str, list[dict]] = {}
    for row in evidence:
        if row.get("cert_id"):
            by_cert.setdefault(row["cert_id"], []).append(row)
    lines = []
    for number, rows in enumerate(sorted(by_cert.values(), key=lambda rows: _period_order(rows[0])), start=1):
        cert = rows[0]
        lines += [
            f" ({number}) 실업인정 {_shown(cert['cert_id'])} - 출처: {CERTIFICATIONS_FEED}",
            f"     실업인정일: {_shown(cert.get('cert_on'))} / 실업인정대상기간: {_period(cert)}",
            f"     인정 방법: {_shown(cert.get('channel'))} (접속 국가: {_shown(cert.get('ip_country'))})",
            f"     신고한 소득: {_won(cert.get('declared_income'))} / 지급된 구직급여: {_won(cert.get('paid_amount'))}",
        ]
        income_ids = sorted({i for row in rows for i in row.get("income_record_ids") or ()})
        crossing_ids = sorted({i for row in rows for i in row.get("crossing_ids") or ()})
        if income_ids:
            lines.append(f"     대조한 {INCOME_FEED}: {_shown(income_ids)}")
        if crossing_ids:
            lines.append(f"     대조한 {CROSSINGS_FEED}: {_shown(crossing_ids)}")
        lines += [_hit_line(row) for row in rows]
    on_claim = [row for row in evidence if not row.get("cert_id")]
    if on_claim:
        lines.append(f" ({len(by_cert) + 1}) 수급자격 전체에 관한 기록 - 출처: {CLAIM_FEEDS}")
        lines += [_hit_line(row) for row in on_claim]
    return lines


def _rules(rule_ids: list[str]) -> list[str]:
    """Section 2: each rule hit's title, legal basis, evidence standard and effect."""
    lines = []
    for rule_id in rule_ids:
        rule = RULES_BY_ID.get(rule_id)
        if rule is None:
            lines += [f" - {_shown(rule_id)}: 현재 기준에 없는 항목입니다 (법적 근거는 담당자에게 문의하십시오)."]
            continue
        lines += [
            f" - {rule.rule_id} {rule.title}",
            f"   법적 근거: {rule.legal_basis}",
            f"   증거 수준: {STANDARD_NAMES[rule.standard]} ({STANDARD_MEANINGS[rule.standard]})",
            f"   의미: {_effect(rule.rule_id)}",
        ]
    return lines


def _amounts(file: CaseFile, rule_ids: list[str]) -> list[str]:
    """Section 3: the proven overpayment and what it rests on; any estimate apart, as one."""
    proven, if_confirmed = overpayment_figures(file.case)
    tainted = tainted_certifications(file.evidence)
    invalidating = invalidating_rules(rule_ids)
    lines = [f" - 기록으로 입증된 금액: {_won(proven)}"]
    if tainted:
        first = min((row for row in file.evidence if row.get("cert_id") in tainted), key=_period_order)
        lines.append(
            f"   근거: 부정행위가 처음 확인된 실업인정 {_shown(first['cert_id'])}({_period(first)})부터 그 뒤에 "
            f"지급된 구직급여 (부정행위가 처음 있었던 때부터 급여를 받을 수 없습니다). "
            f"부정으로 확인된 실업인정: {_shown(sorted(tainted))}."
        )
    if invalidating:
        lines.append(
            f"   근거: {_shown(invalidating)}에 따라 수급자격이 처음부터 성립하지 않아, 이 수급자격으로 지급된 "
            "구직급여 전부."
        )
    if tainted and invalidating:
        lines.append("   두 근거가 함께 해당하면 더 큰 금액 하나만 셉니다.")
    if not tainted and not invalidating:
        lines.append("   기록 대조만으로 입증된 부정수급액은 없습니다.")
    if if_confirmed > proven:
        lines.append(
            f" - 추정액(입증되지 않음): {_won(if_confirmed)}. 아래 추정·단서가 사실로 확인될 경우의 금액일 뿐, "
            "반환 대상 금액이 아닙니다."
        )
    settle = what_would_settle(rule_ids)
    if settle:
        lines.append(" - 확인되지 않은 사항과 이를 확인할 자료:")
        lines += [f"     {_shown(item)}" for item in settle]
    lines += [
        " - 검토 중인 조치: 고용보험법 제61조에 따른 구직급여 지급 제한, 제62조에 따른 반환명령과 추가징수.",
        "   귀하의 의견을 검토한 뒤에 결정하며, 금액은 달라질 수 있습니다.",
    ]
    return lines


def render(file: CaseFile, notice_on: dt.date, response_days: int) -> str:
    """The notice of `file`'s case dated `notice_on`, the claimant's answer due
    `response_days` days later: UTF-8 text, one line per line, ending in a line break."""
    respond_by = notice_on + dt.timedelta(days=response_days)
    case = file.case
    rule_ids = [r for r in (case.get("rule_hits") or "").split(";") if r]
    lines = [
        "구직급여 부정수급 조사에 관한 사전통지 및 의견제출 안내",
        "",
        f"사건번호: {_shown(case['case_id'])}",
        f"수급자격 번호: {_shown(case['claim_id'])}",
        f"이직한 사업장(관리번호): {_shown(case.get('workplace_id'))}",
        f"통지일: {notice_on.isoformat()}",
        f"자료 기준일: {file.ds.isoformat()} (이 날까지 받은 관계 기관의 기록을 대조했습니다)",
        f"조사 담당자가 기록을 확인한 날: {file.decision.recorded_on.isoformat()}",
        f"의견제출 기한: {respond_by.isoformat()}",
        "",
        "귀하의 구직급여(실업급여) 수급에 관하여 관계 기관의 기록을 대조한 결과 아래 사실이 확인되어, "
        "처분에 앞서 알려 드립니다(행정절차법 제21조).",
        "",
        f"※ {NO_EFFECT_ON_ITS_OWN}",
        "",
        "1. 대조한 기록",
        *_records(file.evidence),
        "",
        "2. 해당 기준과 법적 근거",
        *_rules(rule_ids),
        "",
        "3. 부정수급액: 입증된 금액과 추정액을 나누어 알려 드립니다",
        *_amounts(file, rule_ids),
        "",
        "4. 의견을 내는 방법과 불복 방법",
        f" - 의견제출 기한: {respond_by.isoformat()}까지 (통지일부터 {response_days}일).",
        " - 위 사실과 금액에 대하여 서면, 방문, 우편, 팩스 또는 정보통신망으로 의견을 낼 수 있고, 근로계약서,",
        "   급여명세서, 출입국사실증명처럼 다른 사실을 보여 주는 자료를 함께 낼 수 있습니다(행정절차법 제27조).",
        " - 기한 안에 낼 수 없는 사정이 있으면 기한 전에 연장을 요청할 수 있습니다. 기한까지 의견이 없으면",
        "   의견이 없는 것으로 보고 위 기록에 따라 검토합니다.",
        f" - 처분이 내려지면, 그 처분이 있음을 안 날부터 {APPEAL_DAYS}일 이내에 고용보험심사관에게 심사를 청구할 수",
        "   있습니다(고용보험법 제87조).",
        "",
        f"※ 다시 알려 드립니다. {NO_EFFECT_ON_ITS_OWN}",
        "",
        "문의 및 제출처: ______________________ (보내는 고용센터가 적습니다)",
    ]
    return "\n".join(lines) + "\n"
