"""A hand-made night for the report tests (no Spark): two cases, one of them in a ring
whose workplace is named `<script>…`, keys that must never be shown whole, a case that
was in yesterday's queue and is not today, a disposition history and quarantine rows."""

from __future__ import annotations

import datetime as dt

from fraud.dispositions import Disposition, Evidence

DS = dt.date(2026, 3, 7)
PERSON_A = "a1" * 32
PERSON_B = "b2" * 32
ACCOUNT = "c3" * 32
REPRESENTATIVE = "d4" * 32
EVIL_NAME = "<script>alert('x')</script>(주)악성"
KST = dt.timezone(dt.timedelta(hours=9))


def sample_input(**overrides):
    from pages.site import ReportInput

    cases = [
        {
            "case_id": "CASE0001",
            "claim_id": "CL-A",
            "person_key": PERSON_A,
            "workplace_id": "11111111111",
            "score": "0.9500",
            "rank": "1",
            "fraud_types": "GHOST_EMPLOYMENT;UNDECLARED_WORK",
            "rule_hits": "GH-01;UW-01",
            "reasons": f"paper spell at a ring workplace;benefit account {ACCOUNT} shared",
            "estimated_overpayment": "3360000",
            "ring_id": "R-ring1",
        },
        {
            "case_id": "CASE0002",
            "claim_id": "CL-B",
            "person_key": PERSON_B,
            "workplace_id": "22222222222",
            "score": "0.7000",
            "rank": "2",
            "fraud_types": "ABROAD_CERTIFICATION",
            "rule_hits": "AB-01",
            "reasons": "abroad (JP) on cert day 2026-02-02",
            "estimated_overpayment": "3360000",
            "ring_id": "",
        },
    ]
    previous = [
        {
            "case_id": "CASE0002",
            "claim_id": "CL-B",
            "rank": "3",
            "score": "0.6000",
            "fraud_types": "ABROAD_CERTIFICATION",
            "estimated_overpayment": "1680000",
        },
        {
            "case_id": "CASE0009",
            "claim_id": "CL-Z",
            "rank": "1",
            "score": "0.9000",
            "fraud_types": "UNDECLARED_WORK",
            "estimated_overpayment": "500000",
        },
    ]
    certifications = [
        {
            "cert_id": f"{claim}-c{i}",
            "claim_id": claim,
            "cert_on": dt.date(2026, 1, 5) + dt.timedelta(days=28 * i),
            "period_from": dt.date(2026, 1, 4) + dt.timedelta(days=28 * (i - 1)),
            "period_to": dt.date(2026, 1, 4) + dt.timedelta(days=28 * i - 1),
            "channel": "ONLINE",
            "ip_country": "KR",
            "job_search_count": 2,
            "declared_income": 0,
            "paid_days": 28,
            "paid_amount": 1_680_000,
        }
        for claim in ("CL-A", "CL-B")
        for i in (1, 2, 3)
    ]
    evidence = [
        {
            "case_id": "CASE0001",
            "claim_id": "CL-A",
            "person_key": PERSON_A,
            "rule_id": "UW-01",
            "typology": "UNDECLARED_WORK",
            "taints": True,
            "cert_id": "CL-A-c2",
            "cert_on": dt.date(2026, 2, 2),
            "period_from": dt.date(2026, 2, 1),
            "period_to": dt.date(2026, 2, 28),
            "channel": "ONLINE",
            "ip_country": "KR",
            "declared_income": 0,
            "paid_amount": 1_680_000,
            "worked_days": 12.0,
            "certain_worked_days": 12.0,
            "attributable_income": 900_000,
            "income_record_ids": ["r-1"],
            "crossing_ids": [],
            "evidence": "12 days worked, 0 declared",
        },
        {
            "case_id": "CASE0002",
            "claim_id": "CL-B",
            "person_key": PERSON_B,
            "rule_id": "AB-01",
            "typology": "ABROAD_CERTIFICATION",
            "taints": True,
            "cert_id": "CL-B-c2",
            "cert_on": dt.date(2026, 2, 2),
            "period_from": dt.date(2026, 2, 1),
            "period_to": dt.date(2026, 2, 28),
            "channel": "ONLINE",
            "ip_country": "JP",
            "declared_income": 0,
            "paid_amount": 1_680_000,
            "worked_days": None,
            "certain_worked_days": None,
            "attributable_income": None,
            "income_record_ids": [],
            "crossing_ids": ["x-1", "x-2"],
            "evidence": "abroad on cert day",
        },
    ]
    workplace = {
        "business_no": "1234567890",
        "representative_key": REPRESENTATIVE,
        "address": "서울 중구 세종대로 1",
        "phone": "02-123-4567",
        "bank_account_key": ACCOUNT,
        "industry_code": "47",
        "region_code": "11",
        "opened_on": dt.date(2025, 6, 1),
        "closed_on": None,
    }
    records = {
        "claims": [
            {
                "claim_id": c,
                "person_key": p,
                "workplace_id": w,
                "separation_code": "23",
                "filed_on": dt.date(2025, 12, 28),
                "eligible_from": dt.date(2026, 1, 4),
                "benefit_days": 180,
                "daily_amount": 60_000,
                "bank_account_key": ACCOUNT,
                "status": "APPROVED",
            }
            for c, p, w in (("CL-A", PERSON_A, "11111111111"), ("CL-B", PERSON_B, "22222222222"))
        ],
        "certifications": certifications,
        "income": [
            {
                "record_id": "r-1",
                "person_key": PERSON_A,
                "payer_business_no": "9999999999",
                "income_type": "WAGE",
                "work_from": dt.date(2026, 2, 1),
                "work_to": dt.date(2026, 2, 28),
                "work_days": 12,
                "amount": 900_000,
                "filed_on": dt.date(2026, 3, 3),
            }
        ],
        "crossings": [
            {
                "crossing_id": "x-1",
                "person_key": PERSON_B,
                "crossed_at": dt.datetime(2026, 1, 30, 9, 0, tzinfo=KST),
                "direction": "OUT",
                "port_code": "ICN",
                "country": "JP",
            },
            {
                "crossing_id": "x-2",
                "person_key": PERSON_B,
                "crossed_at": dt.datetime(2026, 2, 5, 18, 0, tzinfo=KST),
                "direction": "IN",
                "port_code": "ICN",
                "country": "JP",
            },
        ],
        "employments": [
            {
                "employment_id": "e-1",
                "person_key": PERSON_A,
                "workplace_id": "11111111111",
                "acquired_on": dt.date(2025, 6, 1),
                "lost_on": dt.date(2025, 12, 1),
                "separation_code": "23",
                "monthly_wage": 2_100_000,
            }
        ],
        "findings": [
            {
                "finding_id": "f-old",
                "person_key": PERSON_B,
                "claim_id": "CL-OLD",
                "workplace_id": None,
                "fraud_type": "ABROAD_CERTIFICATION",
                "decided_on": dt.date(2024, 5, 1),
                "overpaid_amount": 800_000,
                "collusion": "N",
            }
        ],
        "workplaces": [
            dict(workplace, workplace_id="11111111111", name=EVIL_NAME),
            dict(workplace, workplace_id="33333333333", name="(주)동료", phone="021234567"),
            dict(
                workplace,
                workplace_id="22222222222",
                name="(주)평범",
                representative_key="e5" * 32,
                bank_account_key=None,
                address="부산 해운대구 1",
                phone="051-000-0000",
                region_code="26",
            ),
        ],
        "ring_claims": [
            {"claim_id": "CL-A", "person_key": PERSON_A, "workplace_id": "11111111111", "ring_id": "R-ring1"},
            {"claim_id": "CL-Q", "person_key": "f6" * 32, "workplace_id": "33333333333", "ring_id": "R-ring1"},
        ],
    }
    history = [
        Disposition("CASE0002", "CL-B", "in_review", "called the claimant", "kim", "2026-03-06T10:00:00+09:00"),
        Disposition(
            "CASE0009",
            "CL-Z",
            "cleared",
            "declared late",
            "lee",
            "2026-03-06T11:00:00+09:00",
            Evidence(("CL-Z-c1",), ("UW-01",), None, 0),
        ),
    ]
    values = dict(
        ds=DS,
        manifest={
            "ds": DS.isoformat(),
            "rules_version": "rules-1",
            "model_version": None,
            "totals": {"rows_in": 10, "valid": 8, "quarantined": 2},
            "dispositions": {"applied": 2, "sha256": "0" * 64, "cleared_kept_out": 1},
            "drops": [
                {
                    "source": "ei",
                    "drop_date": "2026-03-07",
                    "tables": {
                        "claims": {
                            "rows_in": 10,
                            "valid": 8,
                            "quarantined": 2,
                            "expectations": {"success": True, "evaluated": 46},
                        }
                    },
                },
                {
                    "source": "moj",
                    "drop_date": "2026-03-07",
                    "tables": {
                        "crossings": {
                            "rows_in": 0,
                            "valid": 0,
                            "quarantined": 0,
                            "expectations": {
                                "success": False,
                                "evaluated": 1,
                                "drift": [{"column": None, "reason": "0 rows; history 55 to 70 rows over 28 deltas"}],
                            },
                        }
                    },
                },
            ],
        },
        cases=cases,
        workplaces=[
            {
                "workplace_id": "11111111111",
                "score": "0.9000",
                "rank": "1",
                "ring_id": "R-ring1",
                "fraud_types": "GHOST_EMPLOYMENT",
                "reasons": "ring workplace",
                "flagged_claims": "1",
            }
        ],
        rings=[
            {
                "ring_id": "R-ring1",
                "workplace_ids": "11111111111;33333333333",
                "person_count": "2",
                "claim_count": "2",
                "score": "0.8800",
                "reasons": f"representative {REPRESENTATIVE} shared",
            }
        ],
        ring_pictures={
            "R-ring1": f'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
            f'<text x="5" y="20">P:{PERSON_A}</text></svg>'
        },
        evidence=evidence,
        records=records,
        previous_ds="2026-03-06",
        previous_cases=previous,
        dispositions=history,
        quarantine=[
            {
                "source": "ei",
                "drop_date": "2026-03-07",
                "table": "claims",
                "column": "person_key",
                "check": "format",
                "rows": 2,
            }
        ],
    )
    values.update(overrides)
    return ReportInput(**values)
