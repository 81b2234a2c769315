"""A tiny conformed world of two claimants on disk, and one night of the crossmatch job
over it (no ingest, no Spark stage but crossmatch): the queue a cleared case must leave
and come back to. Used by tests/jobs/test_dispositions_queue.py and the workbench's
browser test.

| claimant | evidence on 2026-04-30 | later |
| --- | --- | --- |
| p | February work (12 days), 0 declared: UW-01 taints c2 | on 05-02 April work, 0 declared in c4 |
| q | the same | (keeps the queue non-empty, ranks stay 1..N) |
"""

from __future__ import annotations

import csv
import datetime as dt
import json

from conftest import conformed_frame as frame

from fraud import contract

KST = dt.timezone(dt.timedelta(hours=9))
NIGHT_1, NIGHT_2, NIGHT_3 = dt.date(2026, 4, 30), dt.date(2026, 5, 1), dt.date(2026, 5, 2)
CLAIMANTS = ("p", "q")
PERIODS = (
    ("c1", dt.date(2026, 1, 5), dt.date(2026, 2, 1), dt.date(2026, 2, 2)),
    ("c2", dt.date(2026, 2, 2), dt.date(2026, 3, 1), dt.date(2026, 3, 2)),
    ("c3", dt.date(2026, 3, 2), dt.date(2026, 3, 29), dt.date(2026, 3, 30)),
)
NEW_PERIOD = ("c4", dt.date(2026, 3, 30), dt.date(2026, 4, 26), dt.date(2026, 4, 27))


def person(name: str) -> str:
    return f"{CLAIMANTS.index(name) + 1:064x}"


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), KST)


def income(name: str, record: str, start: dt.date, end: dt.date, filed: dt.date) -> dict:
    return dict(
        record_id=f"{record}-{name}",
        person_key=person(name),
        payer_business_no="9999999999",
        income_type="WAGE",
        work_from=start,
        work_to=end,
        work_days=12,
        amount=1_500_000,
        filed_on=filed,
        updated_at=at(filed),
    )


def certification(name: str, period: tuple) -> dict:
    cert, start, end, cert_on = period
    return dict(
        cert_id=f"{name}-{cert}",
        claim_id=f"CL-{name}",
        cert_on=cert_on,
        period_from=start,
        period_to=end,
        channel="ONLINE",
        ip_country="KR",
        job_search_count=2,
        declared_income=0,
        paid_days=28,
        paid_amount=1_680_000,
        updated_at=at(cert_on),
    )


def write_world(spark, root, night: dt.date, with_new_evidence: bool):
    claims = [
        dict(
            claim_id=f"CL-{n}",
            person_key=person(n),
            workplace_id="11111111111",
            separation_code="23",
            filed_on=dt.date(2026, 1, 2),
            eligible_from=dt.date(2026, 1, 5),
            benefit_days=180,
            daily_amount=60_000,
            bank_account_key=f"{CLAIMANTS.index(n) + 10:064x}",
            status="APPROVED",
            updated_at=at(dt.date(2026, 1, 2)),
        )
        for n in CLAIMANTS
    ]
    certifications = [certification(n, period) for n in CLAIMANTS for period in PERIODS]
    statements = [income(n, "feb", dt.date(2026, 2, 1), dt.date(2026, 2, 28), dt.date(2026, 3, 10)) for n in CLAIMANTS]
    if with_new_evidence:
        certifications.append(certification("p", NEW_PERIOD))
        statements.append(income("p", "apr", dt.date(2026, 4, 1), dt.date(2026, 4, 30), dt.date(2026, 5, 1)))
    workplaces = [
        dict(
            workplace_id="11111111111",
            business_no="1111111111",
            name="(주)테스트",
            representative_key="e" * 64,
            address="서울특별시 중구 세종대로 110",
            phone="02-123-4567",
            bank_account_key=None,
            industry_code="47",
            region_code="11",
            opened_on=dt.date(2010, 1, 1),
            closed_on=None,
            updated_at=at(dt.date(2020, 1, 1)),
        )
    ]
    rows = {
        "claims": claims,
        "certifications": certifications,
        "income": statements,
        "employments": [],
        "workplaces": workplaces,
        "crossings": [],
        "findings": [],
    }
    conformed = root / "conformed" / night.isoformat()
    for name in contract.TABLES:
        frame(spark, name, rows[name]).write.mode("overwrite").parquet(str(conformed / name))
    return conformed


def night(spark, warehouse, day: dt.date, with_new_evidence: bool = False) -> tuple[dict, dict[str, dict]]:
    from jobs.crossmatch import run
    from jobs.stage_io import CrossmatchInputs, Night

    conformed = write_world(spark, warehouse, day, with_new_evidence)
    result = run(spark, CrossmatchInputs(conformed), Night(day, warehouse)).as_json()
    # Published, as its publish stage would leave it (the manifest written last): only a
    # published night's cases can be decided on.
    (warehouse / "outputs" / day.isoformat() / "run_manifest.json").write_text(json.dumps({"ds": day.isoformat()}))
    with open(warehouse / "outputs" / day.isoformat() / "cases.csv", encoding="utf-8", newline="") as handle:
        queue = {row["claim_id"]: row for row in csv.DictReader(handle)}
    return result, queue
