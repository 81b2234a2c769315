"""Each rule of the rule set, positive and look-alike negative, on tiny conformed tables.

One small world of claimants, each the subject of one scenario, goes through the whole
cross-matching once (module fixture); every test asserts on its claimant's real
output. Every claim has three certifications:

| cert | period | cert_on | paid |
| --- | --- | --- | --- |
| c1 | 2026-01-05..2026-02-01 | 2026-02-02 | 1,680,000 |
| c2 | 2026-02-02..2026-03-01 | 2026-03-02 | 1,680,000 |
| c3 | 2026-03-02..2026-03-29 | 2026-03-30 | 1,500,000 |
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import conformed_frame as frame

RUN_DATE = dt.date(2026, 4, 30)
KST = dt.timezone(dt.timedelta(hours=9))
UTC = dt.timezone.utc
NOT_INSURED_PAYER = "9999999999"
FORMER_WORKPLACE = ("11111111111", "1111111111")
REPORTING_WORKPLACE = ("22222222222", "2222222222")

SCENARIOS = (
    "uw-unreported",
    "uw-reported",
    "uw-spread-before-claim",
    "uw-proven-monthly",
    "uw-unknown-days",
    "declared",
    "underdeclared",
    "late-filed",
    "job-ended",
    "abroad-vpn",
    "abroad-foreign-ip",
    "back-day-before",
    "visit-before-flight",
    "broken-foreign",
    "broken-kr",
    "open-seen-in-korea",
    "open-still-abroad",
    "open-then-hired",
    "repeat",
    "repeat-clean",
    "complete-seen-in-korea",
    "uw-zero-amount",
)


def person(scenario: str) -> str:
    return f"{SCENARIOS.index(scenario) + 1:064x}"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _claims():
    return [
        dict(
            claim_id=f"CL-{s}",
            person_key=person(s),
            workplace_id=FORMER_WORKPLACE[0],
            separation_code="23",
            filed_on=dt.date(2026, 1, 2),
            eligible_from=dt.date(2026, 1, 5),
            benefit_days=180,
            daily_amount=60_000,
            bank_account_key="f" * 64,
            status="APPROVED",
            updated_at=at("2026-01-02T09:00:00+09:00"),
        )
        for s in SCENARIOS
    ]


def _certifications():
    periods = (
        ("c1", dt.date(2026, 1, 5), dt.date(2026, 2, 1), dt.date(2026, 2, 2), 1_680_000),
        ("c2", dt.date(2026, 2, 2), dt.date(2026, 3, 1), dt.date(2026, 3, 2), 1_680_000),
        ("c3", dt.date(2026, 3, 2), dt.date(2026, 3, 29), dt.date(2026, 3, 30), 1_500_000),
    )
    # (scenario, cert) -> channel, ip_country, declared_income
    special = {
        ("declared", "c2"): ("ONLINE", "KR", 760_000),
        ("underdeclared", "c2"): ("ONLINE", "KR", 300_000),
        ("abroad-foreign-ip", "c2"): ("MOBILE", "VN", 0),
        ("visit-before-flight", "c2"): ("VISIT", None, 0),
        ("broken-foreign", "c1"): ("ONLINE", "TH", 0),
        ("open-seen-in-korea", "c2"): ("VISIT", None, 0),
        ("open-still-abroad", "c3"): ("ONLINE", "US", 0),
        ("open-then-hired", "c2"): ("MOBILE", "CN", 0),
        ("complete-seen-in-korea", "c2"): ("VISIT", None, 0),
    }
    rows = []
    for s in SCENARIOS:
        for cert, period_from, period_to, cert_on, paid in periods:
            channel, ip_country, declared = special.get((s, cert), ("ONLINE", "KR", 0))
            rows.append(
                dict(
                    cert_id=f"{s}-{cert}",
                    claim_id=f"CL-{s}",
                    cert_on=cert_on,
                    period_from=period_from,
                    period_to=period_to,
                    channel=channel,
                    ip_country=ip_country,
                    job_search_count=2,
                    declared_income=declared,
                    paid_days=28,
                    paid_amount=paid,
                    updated_at=at(f"{cert_on.isoformat()}T10:00:00+09:00"),
                )
            )
    return rows


def _income():
    def statement(record_id, s, payer, income_type, work_from, work_to, work_days, amount, filed_on):
        return dict(
            record_id=record_id,
            person_key=person(s),
            payer_business_no=payer,
            income_type=income_type,
            work_from=work_from,
            work_to=work_to,
            work_days=work_days,
            amount=amount,
            filed_on=filed_on,
            updated_at=at(f"{filed_on.isoformat()}T00:00:00+09:00"),
        )

    feb1, feb28 = dt.date(2026, 2, 1), dt.date(2026, 2, 28)
    mar10 = dt.date(2026, 3, 10)
    return [
        # 20 of February's 28 days: 27 of them fall in c2, 1 in c1 (20 × 1/28 < 1 day).
        statement("r-unrep-feb", "uw-unreported", NOT_INSURED_PAYER, "WAGE", feb1, feb28, 20, 2_000_000, mar10),
        # March's statement is filed after the run date: not evidence yet.
        statement(
            "r-unrep-mar",
            "uw-unreported",
            NOT_INSURED_PAYER,
            "WAGE",
            dt.date(2026, 3, 1),
            dt.date(2026, 3, 31),
            21,
            2_100_000,
            dt.date(2026, 5, 8),
        ),
        statement(
            "r-reported",
            "uw-reported",
            REPORTING_WORKPLACE[1],
            "DAILY_WAGE",
            dt.date(2026, 2, 9),
            dt.date(2026, 2, 20),
            10,
            1_200_000,
            dt.date(2026, 3, 5),
        ),
        statement("r-declared", "declared", NOT_INSURED_PAYER, "WAGE", feb1, feb28, 8, 800_000, mar10),
        statement("r-under", "underdeclared", NOT_INSURED_PAYER, "WAGE", feb1, feb28, 20, 2_000_000, mar10),
        statement(
            "r-late",
            "late-filed",
            NOT_INSURED_PAYER,
            "WAGE",
            dt.date(2026, 3, 2),
            dt.date(2026, 3, 29),
            20,
            2_000_000,
            dt.date(2026, 5, 10),
        ),
        # The last month of the job the claim is about: work_days unknown, the job ended on Jan 2.
        statement(
            "r-ended",
            "job-ended",
            FORMER_WORKPLACE[1],
            "WAGE",
            dt.date(2026, 1, 1),
            dt.date(2026, 1, 31),
            None,
            150_000,
            dt.date(2026, 2, 10),
        ),
        # A statement of 0 KRW (a correction, or nothing paid) proves no work.
        statement("r-zero", "uw-zero-amount", NOT_INSURED_PAYER, "WAGE", feb1, feb28, 20, 0, mar10),
        statement("r-repeat", "repeat", NOT_INSURED_PAYER, "WAGE", feb1, feb28, 20, 2_000_000, mar10),
        # January's statement, the month the claim began (c1 is Jan 5..Feb 1, so Jan 1..4
        # lie outside it): 3 days of day work fit before the claim, 10 cannot.
        statement(
            "r-spread",
            "uw-spread-before-claim",
            NOT_INSURED_PAYER,
            "WAGE",
            dt.date(2026, 1, 1),
            dt.date(2026, 1, 31),
            3,
            300_000,
            dt.date(2026, 2, 10),
        ),
        statement(
            "r-proven",
            "uw-proven-monthly",
            NOT_INSURED_PAYER,
            "WAGE",
            dt.date(2026, 1, 1),
            dt.date(2026, 1, 31),
            10,
            1_000_000,
            dt.date(2026, 2, 10),
        ),
        # Work days unknown: a month's statement proves one day of work somewhere in it
        # (a lead for c1, which it overlaps by 27 days); three days wholly inside c2
        # prove work in c2.
        statement(
            "r-unknown-month",
            "uw-unknown-days",
            NOT_INSURED_PAYER,
            "WAGE",
            dt.date(2026, 1, 1),
            dt.date(2026, 1, 31),
            None,
            900_000,
            dt.date(2026, 2, 10),
        ),
        statement(
            "r-unknown-days",
            "uw-unknown-days",
            NOT_INSURED_PAYER,
            "DAILY_WAGE",
            dt.date(2026, 2, 10),
            dt.date(2026, 2, 12),
            None,
            300_000,
            dt.date(2026, 3, 5),
        ),
    ]


def _employments():
    return [
        dict(
            employment_id="e-ended",
            person_key=person("job-ended"),
            workplace_id=FORMER_WORKPLACE[0],
            acquired_on=dt.date(2024, 3, 1),
            lost_on=dt.date(2026, 1, 2),
            separation_code="23",
            monthly_wage=2_300_000,
            updated_at=at("2026-01-03T09:00:00+09:00"),
        ),
        dict(
            employment_id="e-reported",
            person_key=person("uw-reported"),
            workplace_id=REPORTING_WORKPLACE[0],
            acquired_on=dt.date(2026, 2, 9),
            lost_on=None,
            separation_code=None,
            monthly_wage=2_600_000,
            updated_at=at("2026-02-10T09:00:00+09:00"),
        ),
        # Insured employment in Korea after an OUT whose IN never came: the IN is missing.
        dict(
            employment_id="e-hired",
            person_key=person("open-then-hired"),
            workplace_id=REPORTING_WORKPLACE[0],
            acquired_on=dt.date(2026, 4, 1),
            lost_on=None,
            separation_code=None,
            monthly_wage=2_600_000,
            updated_at=at("2026-04-02T09:00:00+09:00"),
        ),
    ]


def _workplaces():
    return [
        dict(
            workplace_id=workplace_id,
            business_no=business_no,
            name="(주)테스트",
            representative_key="e" * 64,
            address="서울특별시 중구 세종대로 110",
            phone="02-123-4567",
            bank_account_key=None,
            industry_code="47",
            region_code="11",
            opened_on=dt.date(2010, 1, 1),
            closed_on=None,
            updated_at=at("2020-01-01T00:00:00+09:00"),
        )
        for workplace_id, business_no in (FORMER_WORKPLACE, REPORTING_WORKPLACE)
    ]


def _crossings():
    def crossing(crossing_id, s, crossed_at, direction, country, port="ICN"):
        return dict(
            crossing_id=crossing_id,
            person_key=person(s),
            crossed_at=at(crossed_at),
            direction=direction,
            port_code=port,
            country=country,
        )

    return [
        # Back at 01:30 KST on Feb 2 (still Feb 1 in UTC), the day of certifying.
        crossing("x-vpn-out", "abroad-vpn", "2026-01-28T10:00:00+09:00", "OUT", "JP"),
        crossing("x-vpn-in", "abroad-vpn", "2026-02-01T16:30:00Z", "IN", "JP"),
        crossing("x-vn-out", "abroad-foreign-ip", "2026-02-20T09:00:00+09:00", "OUT", "VN"),
        crossing("x-vn-in", "abroad-foreign-ip", "2026-03-05T18:00:00+09:00", "IN", "VN"),
        # Back at 23:59 KST on Feb 1, the day before certifying.
        crossing("x-back-out", "back-day-before", "2026-01-25T09:00:00+09:00", "OUT", "JP"),
        crossing("x-back-in", "back-day-before", "2026-02-01T14:59:00Z", "IN", "JP"),
        # Certified in person on Mar 2, flew out that evening.
        crossing("x-visit-out", "visit-before-flight", "2026-03-02T20:00:00+09:00", "OUT", "US"),
        crossing("x-visit-in", "visit-before-flight", "2026-03-20T10:00:00+09:00", "IN", "US"),
        # OUT, OUT: the IN between them is missing.
        crossing("x-bf-out1", "broken-foreign", "2026-01-10T09:00:00+09:00", "OUT", "TH"),
        crossing("x-bf-out2", "broken-foreign", "2026-03-20T09:00:00+09:00", "OUT", "TH"),
        crossing("x-bf-in", "broken-foreign", "2026-03-25T09:00:00+09:00", "IN", "TH"),
        crossing("x-bk-out1", "broken-kr", "2026-01-10T09:00:00+09:00", "OUT", "TH"),
        crossing("x-bk-out2", "broken-kr", "2026-03-20T09:00:00+09:00", "OUT", "TH"),
        crossing("x-bk-in", "broken-kr", "2026-03-25T09:00:00+09:00", "IN", "TH"),
        # Left on Jan 10, no IN ever delivered, but came to the job centre on Mar 2.
        crossing("x-seen-out", "open-seen-in-korea", "2026-01-10T09:00:00+09:00", "OUT", "JP"),
        # Left on Mar 10 and not back yet.
        crossing("x-open-out", "open-still-abroad", "2026-03-10T09:00:00+09:00", "OUT", "US"),
        # Left on Jan 20 with no IN on record, insured in Korea from Apr 1.
        crossing("x-hired-out", "open-then-hired", "2026-01-20T09:00:00+09:00", "OUT", "CN"),
        # OUT Feb 10, IN Mar 20, yet at the job centre in person on Mar 2: a return and a
        # departure between them are missing.
        crossing("x-cs-out", "complete-seen-in-korea", "2026-02-10T09:00:00+09:00", "OUT", "JP"),
        crossing("x-cs-in", "complete-seen-in-korea", "2026-03-20T09:00:00+09:00", "IN", "JP"),
    ]


def _findings():
    def finding(finding_id, s, claim_id, decided_on):
        return dict(
            finding_id=finding_id,
            person_key=person(s),
            claim_id=claim_id,
            workplace_id=None,
            fraud_type="ABROAD_CERTIFICATION",
            decided_on=decided_on,
            overpaid_amount=900_000,
            collusion="N",
            updated_at=at(f"{decided_on.isoformat()}T00:00:00+09:00"),
        )

    return [
        finding("f-repeat", "repeat", "CL-old-repeat", dt.date(2025, 6, 1)),
        finding("f-clean", "repeat-clean", "CL-old-clean", dt.date(2025, 6, 1)),
    ]


@pytest.fixture(scope="module")
def found(spark):
    from jobs.crossmatch import detect

    tables = {
        "claims": frame(spark, "claims", _claims()),
        "certifications": frame(spark, "certifications", _certifications()),
        "income": frame(spark, "income", _income()),
        "employments": frame(spark, "employments", _employments()),
        "workplaces": frame(spark, "workplaces", _workplaces()),
        "crossings": frame(spark, "crossings", _crossings()),
        "findings": frame(spark, "findings", _findings()),
    }
    detection = detect(tables, RUN_DATE)
    result = {
        "cases": {row["claim_id"]: row.asDict() for row in detection.cases.collect()},
        "repeat_offenders": {row["open_claim_id"]: row.asDict() for row in detection.repeat_offenders.collect()},
        "evidence": [row.asDict() for row in detection.evidence.collect()],
    }
    return result


def case(found, scenario):
    return found["cases"].get(f"CL-{scenario}")


# UW-01: work during a certified period declared as no income


def test_uw01_fires_on_undeclared_work_and_counts_from_the_first_tainted_period(found):
    hit = case(found, "uw-unreported")
    assert hit["rule_hits"] == "UW-01;UW-02"
    assert hit["fraud_types"] == "UNDECLARED_WORK"
    # c2 (Feb 2..Mar 1) is the first tainted certification: c2 + c3 = 1,680,000 + 1,500,000.
    assert hit["estimated_overpayment"] == 3_180_000
    assert hit["reasons"].startswith(
        "proven: period 2026-02-02..2026-03-01: at least 19 days worked inside it for payer 9999999999 (wage, "
        "not an insured workplace), declared 0 KRW"
    )
    assert hit["evidence_standard"] == "proven"
    assert hit["overpayment_if_confirmed"] == 3_180_000
    # UW-02 counts the days proven inside the period too, never the spread estimate.
    assert (
        "proven: period 2026-02-02..2026-03-01: wage work not reported as insured employment (at least 19 days "
        "of it inside the period)" in hit["reasons"]
    )


def test_uw01_look_alike_a_statement_of_nothing_paid_proves_no_work(found):
    """20 days in February on a statement of 0 KRW: nothing was paid, so nothing is
    proven; the days spread over the month are an estimate at most."""
    hit = case(found, "uw-zero-amount")
    assert "UW-01" not in hit["rule_hits"].split(";")
    assert hit["evidence_standard"] == "estimated"
    assert hit["estimated_overpayment"] == 0


def test_uw01_fires_on_a_monthly_statement_whose_work_cannot_all_lie_outside_the_period(found):
    """10 days in January, of which at most 4 (Jan 1..4) fall before c1: at least 6 in it."""
    hit = case(found, "uw-proven-monthly")
    assert hit["rule_hits"] == "UW-01;UW-02"
    assert hit["estimated_overpayment"] == 1_680_000 + 1_680_000 + 1_500_000
    assert "at least 6 days worked inside it" in hit["reasons"]


def test_uw01_statements_of_unknown_work_days_prove_one_day_and_estimate_the_rest(found):
    hit = case(found, "uw-unknown-days")
    assert hit["rule_hits"] == "UW-01;UW-02;UW-04"
    assert hit["estimated_overpayment"] == 1_680_000 + 1_500_000  # from c2, the first proven
    assert hit["overpayment_if_confirmed"] == 1_680_000 + 1_680_000 + 1_500_000  # from c1, if confirmed
    assert "estimated: period 2026-01-05..2026-02-01: ~27 days inside it" in hit["reasons"]
    assert "proven: period 2026-02-02..2026-03-01: at least 1 days worked inside it" in hit["reasons"]


def test_uw01_look_alike_day_work_before_the_claim_spread_over_its_month_is_a_lead_not_a_taint(found):
    """3 days of day work in January all fit in Jan 1..4, before the first certified
    period: spread evenly over the month they would put ~2.6 days in c1. That is an
    estimate (income averaging, Robodebt's error), never proof: a lead, no overpayment,
    the estimate beside it, and what would settle it."""
    hit = case(found, "uw-spread-before-claim")
    assert hit["rule_hits"] == "UW-04"
    assert hit["evidence_standard"] == "estimated"
    assert hit["estimated_overpayment"] == 0
    assert hit["overpayment_if_confirmed"] == 1_680_000 + 1_680_000 + 1_500_000
    assert hit["score"] < 0.5
    assert hit["reasons"] == (
        "estimated: period 2026-01-05..2026-02-01: ~3 days inside it if the work of payer 9999999999 (wage, "
        "not an insured workplace) was spread evenly, but all of it can lie outside the period — to settle: ask "
        "the payer for the days worked"
    )


def test_uw01_look_alike_claimant_who_declared_the_income_is_no_case(found):
    assert case(found, "declared") is None


def test_uw01_look_alike_job_that_ended_before_the_claim_is_no_case(found):
    assert case(found, "job-ended") is None


def test_uw01_look_alike_statement_filed_after_the_run_date_does_not_count(found):
    assert case(found, "late-filed") is None


# UW-02: undeclared wages from a payer that did not report the insured employment


def test_uw02_fires_when_the_payer_is_not_an_insured_workplace(found):
    assert "UW-02" in case(found, "uw-unreported")["rule_hits"].split(";")


def test_uw02_look_alike_employment_reported_by_the_payer(found):
    hit = case(found, "uw-reported")
    assert hit["rule_hits"] == "UW-01"
    assert hit["estimated_overpayment"] == 3_180_000


# UW-03: declared income far below the evidence


def test_uw03_fires_on_income_declared_far_below_the_evidence_without_overpayment(found):
    hit = case(found, "underdeclared")
    assert hit["rule_hits"] == "UW-03"
    assert hit["fraud_types"] == "UNDECLARED_WORK"
    # Not tainted in DOMAIN.md's sense (declared_income is not 0).
    assert hit["estimated_overpayment"] == 0
    assert hit["reasons"].startswith("estimated: period 2026-02-02..2026-03-01: declared 300,000 KRW of ~1,928,571 KRW")
    assert hit["reasons"].endswith("— to settle: the payer's record of the pay for the days inside the period")
    assert hit["evidence_standard"] == "estimated"


def test_uw03_look_alike_declared_most_of_the_income(found):
    assert case(found, "declared") is None


# AB-01: certified on a day the claimant was abroad


def test_ab01_fires_on_the_kst_day_of_an_arrival_given_in_utc(found):
    hit = case(found, "abroad-vpn")
    assert hit["rule_hits"] == "AB-01;AB-02"
    assert hit["fraud_types"] == "ABROAD_CERTIFICATION"
    assert hit["estimated_overpayment"] == 1_680_000 + 1_680_000 + 1_500_000
    assert hit["reasons"].startswith(
        "proven: cert 2026-02-02: abroad (OUT 2026-01-28 ICN→JP, IN 2026-02-02), ONLINE from KR"
    )


def test_ab01_look_alike_back_the_day_before_is_no_case(found):
    assert case(found, "back-day-before") is None


def test_ab01_fires_on_a_trip_with_no_in_yet(found):
    hit = case(found, "open-still-abroad")
    assert hit["rule_hits"] == "AB-01;AB-02;AB-03"
    assert hit["estimated_overpayment"] == 1_500_000
    assert "OUT 2026-03-10 ICN→US, no IN yet" in hit["reasons"]


def test_ab01_look_alike_a_whole_trip_with_an_in_person_visit_inside_it_is_no_case(found):
    """The crossings say abroad from Feb 10 to Mar 20; the claimant certified in person
    at a job centre on Mar 2. The records contradict each other: a return and a
    departure are missing, so Mar 2 is at most possibly abroad, never proof."""
    assert case(found, "complete-seen-in-korea") is None


def test_a_whole_trip_contradicted_by_a_visit_is_certain_on_its_out_day_only(spark):
    from features.certifications import presence_in_korea
    from features.trips import trips

    certifications, claims = frame(spark, "certifications", _certifications()), frame(spark, "claims", _claims())
    presence = presence_in_korea(certifications, claims)
    [trip] = [
        row.asDict()
        for row in trips(frame(spark, "crossings", _crossings()), RUN_DATE, presence).collect()
        if row["out_crossing_id"] == "x-cs-out"
    ]
    assert (trip["trip_kind"], trip["abroad_from"], trip["abroad_to"], trip["uncertain"]) == (
        "BROKEN_NO_IN",
        dt.date(2026, 2, 10),
        dt.date(2026, 2, 10),
        True,
    )
    assert (trip["possibly_abroad_from"], trip["possibly_abroad_to"]) == (dt.date(2026, 2, 10), dt.date(2026, 3, 20))
    assert trip["trip_evidence"] == (
        "OUT 2026-02-10 ICN→JP, IN 2026-03-20, but in Korea by 2026-03-02 (in-person certification 2026-03-02): "
        "a return and a departure between them are missing"
    )


def test_ab01_look_alike_missing_in_of_someone_seen_in_korea_is_no_case(found):
    assert case(found, "open-seen-in-korea") is None


def test_ab01_look_alike_missing_in_of_someone_insured_in_korea_since_is_at_most_possibly_abroad(found):
    """No IN after the OUT of Jan 20, but insured employment in Korea from Apr 1: the IN
    is missing (a gap, no fact), so the certifications are possibly abroad only, and the
    reason names the contradiction."""
    hit = case(found, "open-then-hired")
    assert hit["rule_hits"] == "AB-04"
    assert hit["estimated_overpayment"] == 0 and hit["evidence_standard"] == "lead"
    assert (
        "no IN on record but in Korea by 2026-04-01 (insured employment began 2026-04-01 at 22222222222): "
        "the IN is missing"
    ) in hit["reasons"]


# AB-02: online/mobile while abroad


def test_ab02_fires_on_mobile_certification_from_abroad(found):
    assert case(found, "abroad-foreign-ip")["rule_hits"] == "AB-01;AB-02;AB-03"


def test_ab02_look_alike_in_person_visit_before_an_evening_flight(found):
    hit = case(found, "visit-before-flight")
    assert hit["rule_hits"] == "AB-01"
    assert hit["estimated_overpayment"] == 3_180_000


# AB-03: foreign client address while abroad


def test_ab03_fires_on_a_foreign_client_address(found):
    hit = case(found, "abroad-foreign-ip")
    assert hit["estimated_overpayment"] == 3_180_000
    assert "cert 2026-03-02: client address in VN" in hit["reasons"]


def test_ab03_look_alike_korean_address_through_a_vpn(found):
    assert "AB-03" not in case(found, "abroad-vpn")["rule_hits"].split(";")


# AB-04: foreign client address while possibly abroad (broken record)


def test_ab04_fires_on_a_foreign_address_in_a_broken_trip_without_tainting(found):
    hit = case(found, "broken-foreign")
    assert hit["rule_hits"] == "AB-04"
    assert hit["estimated_overpayment"] == 0
    assert hit["reasons"] == (
        "lead: cert 2026-02-02: possibly abroad (OUT 2026-01-10 ICN→TH, IN missing (next OUT 2026-03-20), "
        "return date unknown), ONLINE from TH — to settle: the missing crossing record from the Ministry of Justice"
    )
    assert hit["evidence_standard"] == "lead"


def test_ab04_look_alike_broken_record_certified_from_korea_is_no_case(found):
    assert case(found, "broken-kr") is None


# RP-01: earlier findings (aggravating only)


def test_rp01_adds_to_a_case_of_a_repeat_offender(found):
    hit = case(found, "repeat")
    assert hit["rule_hits"] == "RP-01;UW-01;UW-02"
    assert hit["score"] == 0.964  # proven: (1 + 0.928) / 2
    offender = found["repeat_offenders"]["CL-repeat"]
    assert offender["suspected_now"] is True
    assert offender["prior_findings"] == 1
    assert offender["last_decided_on"] == dt.date(2025, 6, 1)


def test_rp01_look_alike_repeat_offender_without_evidence_is_no_case(found):
    assert case(found, "repeat-clean") is None
    offender = found["repeat_offenders"]["CL-repeat-clean"]
    assert offender["suspected_now"] is False
    assert offender["recommended_action"] == "eligibility restriction review (수급자격 제한 검토)"


# The queue


def test_queue_is_ranked_without_gaps_by_score_then_overpayment_then_case_id(found):
    ranked = sorted(found["cases"].values(), key=lambda row: row["rank"])
    assert [row["rank"] for row in ranked] == list(range(1, 15))
    assert [(row["claim_id"], row["score"]) for row in ranked] == [
        # Proven cases (a tainted certification) score (1 + s) / 2 ...
        # UW-04 adds to a proven case's strength: 1 - 0.15 × 0.6 × 0.7.
        ("CL-uw-unknown-days", 0.9685),
        ("CL-repeat", 0.964),
        ("CL-abroad-foreign-ip", 0.9632),  # 0.96325 in binary is just below .5
        ("CL-open-still-abroad", 0.9632),
        # Same score: the larger overpayment first.
        ("CL-uw-proven-monthly", 0.955),
        ("CL-uw-unreported", 0.955),
        ("CL-abroad-vpn", 0.9475),
        # Same score and overpayment: case_id decides (C665b… before Cfef0…).
        ("CL-uw-reported", 0.925),
        ("CL-visit-before-flight", 0.925),
        # ... the others s / 2, below every proven case: estimates and leads by strength.
        ("CL-underdeclared", 0.225),
        ("CL-broken-foreign", 0.175),
        ("CL-open-then-hired", 0.175),
        ("CL-uw-zero-amount", 0.15),
        ("CL-uw-spread-before-claim", 0.15),
    ]


def test_case_id_depends_on_the_claim_id_only(found):
    assert case(found, "uw-unreported")["case_id"] == "C2971f167deef38ae"
    assert case(found, "uw-unreported")["ring_id"] is None


def test_evidence_lists_the_records_behind_each_hit(found):
    rows = [row for row in found["evidence"] if row["claim_id"] == "CL-abroad-vpn" and row["rule_id"] == "AB-01"]
    assert len(rows) == 1
    assert rows[0]["cert_id"] == "abroad-vpn-c1"
    assert rows[0]["crossing_ids"] == ["x-vpn-in", "x-vpn-out"]
    assert rows[0]["taints"] is True
    income_rows = [
        row for row in found["evidence"] if row["claim_id"] == "CL-uw-unreported" and row["rule_id"] == "UW-01"
    ]
    assert [(row["cert_id"], row["income_record_ids"]) for row in income_rows] == [
        ("uw-unreported-c2", ["r-unrep-feb"])
    ]
