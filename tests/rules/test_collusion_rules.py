"""The collusion rules (FALSE_SEPARATION, GHOST_EMPLOYMENT), each with a positive and a
look-alike, on one tiny world that goes through the graph stage and the cross-matching
once (module fixture).

| who | what | expected |
| --- | --- | --- |
| g1..g7 | paper employees of a ring of three young shell workplaces (one representative for W1 and W2, one address spelled two ways for W2 and W3, one phone typed two ways for W1 and W3); 185-day spells, wages without tax statements; g1 rotated W1 → W2; g4..g6 paid into one account; W1 (a year old) produced 3 claims | ring; GH-01 on every claim (+GH-03 for g4..g6, +GH-04 at W1), overpayment = all paid |
| c1..c3 | workers of a real business that closed after decades: 22 after 10 years, tax statements | no ring, no case |
| sp1, sp2 | spouses at two ordinary workplaces sharing one benefit account | no ring, no case |
| fs1 | claims 23, the employer reported 11 | FS-01 |
| fsd | as fs1, but a finding on the claim was decided already | not queued again |
| fs1x | claims 23, the employer reported 23 | no case |
| rh1 | laid off (23), rehired by the same workplace 30 days later | FS-02 |
| se1 | seasonal: contract ended (32), rehired by the same employer 60 days later | no case |
| jb1 | laid off (23), new job at an unrelated workplace 30 days later | no case |
| rh2 | laid off (23), rehired by a sister workplace (same representative) 33 days after the certified benefit, entitled for longer | FS-02 |
| rh3 | laid off (23), rehired by the same workplace 12 days after a 120-day entitlement ended | FS-04 (a lead) |
| lh1 | one of 5 laid off under 23 within 30 days by a workplace that hired 3 right after | FS-03 |
| sm1 | a 6-person shop lays off 2 under 23 two months apart while hiring 2 | FS-06 (a weaker lead) |
| sx1 | a 7-person shop lays off 3 under 23 within three months while hiring 2 | FS-05 (a lead: not together) |
| sd1 | a 6-person shop lays off 2 under 23 and hires no one (a real downsizing) | no case |
| bt1 | one of 5 laid off (23) this month by a big employer that lays off 5 a month as a rule | no case |
| old1 | 190-day spell in 2019, before the tax feed begins (2025-06): no statement, and none could be | no case |
| yw1, yw2 | two of the ten workers of a workplace opened 9 months before claim (12, justified cause) | no case |
| fr2 | laid off (23) by a member of the ring (its claims marked) after a year, every tax statement filed | FS-07 (a lead) |
| fr3 | claims 23 at the same member; the employer's record of the separation is missing | no case |
| fr1 | as fr2, at the ring's member only through g3's rotation (it may be an honest business in the building) | no case |
| nb1 | laid off (23) by an old, clean business in the ring's building (same address) | no case, no ring id; named in the ring, not a member |
| lone1 | 190-day spell at an unlinked workplace, wages without tax statements | GH-02 |
| lone2 | 190-day spell with monthly tax statements | no case |
| st1 | claims 23 in 2025; the only closed spell at the workplace ended in 2019 (code 11), a later one is still open | no case: the claimed separation's record is missing |
| ad1 | laid off (23), hired 30 days later, while claiming, by another business at the same street address (another floor) | FS-04 (a lead): a building is no employer |
| nw1 | 190-day spell at a workplace whose own record is missing (quarantined), statements from its business number | no case: its payer is unknown |
| tr1..tr4 | two young workplaces sharing a representative and a phone, each of whose two workers was laid off (23) and claimed; 280-day spells, every tax statement filed (no paper spell) | ring; GH-05 (a lead) on each claim, no GH-01 |
| yb1..yb4 | two young businesses in one building (other floors), both closed; their two workers each claimed (22); statements filed | no ring, no case |
| yc1..yc4 | two young branches of one owner, both closed; yc1 moved from one to the other; all claimed (22); statements filed | no ring, no case |
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import conformed_frame as frame
from conftest import hex_key as key

RUN_DATE = dt.date(2026, 4, 30)
D = dt.date.fromisoformat
REP = "e" * 64
SHARED_ACCOUNT = "f" * 63 + "1"
SPOUSE_ACCOUNT = "f" * 63 + "2"


UPDATED = dt.datetime(2026, 4, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def workplace(
    workplace_id, business_no, opened_on, representative=None, address=None, phone=None, account=None, closed_on=None
):
    return dict(
        workplace_id=workplace_id,
        business_no=business_no,
        name=f"사업장{workplace_id[-2:]}",
        representative_key=representative or key(f"rep{workplace_id}"),
        address=address or f"서울특별시 중구 세종대로 {int(workplace_id[0]) * 100 + int(workplace_id[-2:])}",
        phone=phone,
        bank_account_key=account,
        industry_code="47",
        region_code="11",
        opened_on=D(opened_on),
        closed_on=D(closed_on) if closed_on else None,
        updated_at=UPDATED,
    )


WORKPLACES = [
    workplace(
        "10000000001",
        "1000000001",
        "2025-01-10",
        representative=REP,
        address="서울특별시 강남구 테헤란로 123 4층",
        phone="02-555-1234",
    ),
    workplace(
        "10000000002", "1000000002", "2025-01-20", representative=REP, address="서울시 강남구 테헤란로123, 402호"
    ),
    workplace("10000000003", "1000000003", "2025-02-01", address="서울 강남구  테헤란로 123", phone="025551234"),
    # In the ring's building, sharing nothing else; g3 worked there before the ring.
    workplace("10000000004", "1000000004", "2024-10-01", address="서울특별시 강남구 테헤란로 123, 9층"),
    workplace("20000000001", "2000000001", "1998-03-01", closed_on="2026-01-31"),  # the closure
    workplace("30000000001", "3000000001", "2005-01-01"),  # spouse 1's employer
    workplace("30000000002", "3000000002", "2007-01-01"),  # spouse 2's employer
    workplace("40000000001", "4000000001", "2010-01-01"),  # fs1, fs1x
    workplace("40000000002", "4000000002", "2010-01-01"),  # rh1
    workplace("40000000003", "4000000003", "2010-01-01"),  # se1's seasonal employer
    workplace("40000000004", "4000000004", "2010-01-01"),  # jb1's old employer
    workplace("40000000005", "4000000005", "2010-01-01"),  # jb1's new, unrelated employer
    workplace("40000000006", "4000000006", "2010-01-01"),  # lh1: lays off while hiring
    workplace("40000000007", "4000000007", "2015-01-01"),  # lone1
    workplace("40000000008", "4000000008", "2015-01-01"),  # lone2
    workplace("40000000009", "4000000009", "2012-01-01", representative=key("owner9")),  # rh2's employer
    workplace("40000000010", "4000000010", "2024-01-01", representative=key("owner9")),  # its sister
    workplace("40000000011", "4000000011", "2000-01-01"),  # a big employer with everyday turnover
    workplace("40000000012", "4000000012", "2016-01-01"),  # sm1: a small shop laying off while hiring
    workplace("40000000013", "4000000013", "2016-01-01"),  # sd1: a small shop downsizing for real
    workplace("40000000014", "4000000014", "2010-01-01"),  # old1's employer in 2019
    workplace("40000000015", "4000000015", "2025-03-01"),  # a young workplace of ten, two claims
    workplace("40000000016", "4000000016", "2010-01-01"),  # rh3's employer
    workplace("40000000017", "4000000017", "2016-01-01"),  # sx1: a small shop laying off three while hiring
    workplace("40000000018", "4000000018", "2010-01-01"),  # st1's employer
    # ad1's employer and another business two floors up in the same building.
    workplace("40000000019", "4000000019", "2010-01-01", address="서울특별시 종로구 종로 1, 2층"),
    workplace("40000000020", "4000000020", "2012-01-01", address="서울특별시 종로구 종로 1, 5층"),
    workplace("40000000021", "4000000021", "2015-01-01"),  # lone3: statements far below the wage
    workplace("40000000022", "4000000022", "2015-01-01"),  # lone4: a first month's statement, prorated
    workplace("40000000023", "4000000023", "2015-01-01"),  # ov1's main job
    workplace("40000000024", "4000000024", "2015-01-01"),  # ov1's second job, at the same time
    # An old, clean business in the ring's building.
    workplace("50000000001", "5000000001", "2001-05-01", address="서울특별시 강남구 테헤란로 123, 7층"),
    # Two young shells of another broker that file every tax statement.
    workplace("60000000001", "6000000001", "2025-04-01", representative=key("broker2"), phone="070-1234-5678"),
    workplace("60000000002", "6000000002", "2025-04-10", representative=key("broker2"), phone="07012345678"),
    # Two young businesses in one building, and two young branches of one owner: all closed.
    workplace(
        "70000000001", "7000000001", "2025-04-01", address="부산광역시 해운대구 센텀로 10, 3층", closed_on="2026-01-20"
    ),
    workplace("70000000002", "7000000002", "2025-04-05", address="부산 해운대구 센텀로10 8층", closed_on="2026-01-20"),
    workplace("70000000003", "7000000003", "2025-04-01", representative=key("owner-yc"), closed_on="2026-01-20"),
    workplace("70000000004", "7000000004", "2025-04-01", representative=key("owner-yc"), closed_on="2026-01-20"),
]


class World:
    def __init__(self):
        self.employments, self.claims, self.certifications, self.income = [], [], [], []

    def spell(self, person, workplace_id, acquired_on, lost_on=None, code=None, wage=2_500_000):
        self.employments.append(
            dict(
                employment_id=f"e{len(self.employments) + 1}",
                person_key=key(person),
                workplace_id=workplace_id,
                acquired_on=D(acquired_on),
                lost_on=D(lost_on) if lost_on else None,
                separation_code=code,
                monthly_wage=wage,
                updated_at=UPDATED,
            )
        )

    def claim(self, person, workplace_id, code, filed_on, account=None, benefit_days=180):
        claim_id = f"CL-{person}"
        filed = D(filed_on)
        self.claims.append(
            dict(
                claim_id=claim_id,
                person_key=key(person),
                workplace_id=workplace_id,
                separation_code=code,
                filed_on=filed,
                eligible_from=filed + dt.timedelta(days=7),
                benefit_days=benefit_days,
                daily_amount=60_000,
                bank_account_key=account or key(f"acct{person}"),
                status="APPROVED",
                updated_at=UPDATED,
            )
        )
        start = filed + dt.timedelta(days=7)
        for n in range(2):
            period_from = start + dt.timedelta(days=28 * n)
            period_to = period_from + dt.timedelta(days=27)
            self.certifications.append(
                dict(
                    cert_id=f"{claim_id}-c{n + 1}",
                    claim_id=claim_id,
                    cert_on=period_to + dt.timedelta(days=1),
                    period_from=period_from,
                    period_to=period_to,
                    channel="VISIT",
                    ip_country=None,
                    job_search_count=2,
                    declared_income=0,
                    paid_days=25,
                    paid_amount=1_500_000,
                    updated_at=UPDATED,
                )
            )

    def monthly_statements(self, person, business_no, first_month, months, amounts=None):
        year, month = map(int, first_month.split("-"))
        for n in range(months):
            work_from = dt.date(year, month, 1)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            work_to = dt.date(year, month, 1) - dt.timedelta(days=1)
            self.income.append(
                dict(
                    record_id=f"r{len(self.income) + 1}",
                    person_key=key(person),
                    payer_business_no=business_no,
                    income_type="WAGE",
                    work_from=work_from,
                    work_to=work_to,
                    work_days=20,
                    amount=amounts[n] if amounts else 2_500_000,
                    filed_on=work_to + dt.timedelta(days=30),
                    updated_at=UPDATED,
                )
            )


def build_world() -> World:
    w = World()
    ring = ["10000000001", "10000000002", "10000000003"]
    for i in range(7):
        person = f"g{i + 1}"
        place = ring[i % 3]
        # 185 days: 2025-06-01..2025-12-02
        w.spell(person, place, "2025-06-01", "2025-12-02", "23")
        w.claim(person, place, "23", "2025-12-10", account=SHARED_ACCOUNT if 3 <= i < 6 else None)
    w.spell("g1", "10000000002", "2025-03-01", "2025-05-20", "11")  # g1 rotated W2 -> W1
    w.spell("g3", "10000000004", "2024-11-05", "2025-05-25", "11")  # g3 rotated W4 -> W3
    # Years before, g3 worked at the clean business in the ring's building: no rotation.
    w.spell("g3", "50000000001", "2012-01-01", "2018-06-30", "11")

    for i in range(3):  # the real closure
        person = f"c{i + 1}"
        w.spell(person, "20000000001", "2015-03-01", "2026-01-31", "22")
        w.monthly_statements(person, "2000000001", "2025-06", 8)
        w.claim(person, "20000000001", "22", "2026-02-05")

    for person, place, business in (("sp1", "30000000001", "3000000001"), ("sp2", "30000000002", "3000000002")):
        w.spell(person, place, "2018-01-01", "2026-01-15", "23")
        w.monthly_statements(person, business, "2025-06", 7)
        w.claim(person, place, "23", "2026-01-20", account=SPOUSE_ACCOUNT)

    w.spell("fs1", "40000000001", "2020-01-01", "2026-01-10", "11")
    w.claim("fs1", "40000000001", "23", "2026-01-15")
    w.spell("fsd", "40000000001", "2020-01-01", "2026-01-10", "11")  # as fs1, already decided
    w.claim("fsd", "40000000001", "23", "2026-01-15")
    w.spell("fs1x", "40000000001", "2020-01-01", "2026-01-10", "23")
    w.claim("fs1x", "40000000001", "23", "2026-01-15")

    w.spell("rh1", "40000000002", "2020-01-01", "2026-01-10", "23")
    w.claim("rh1", "40000000002", "23", "2026-01-15")
    w.spell("rh1", "40000000002", "2026-02-09")

    w.spell("se1", "40000000003", "2025-03-01", "2025-11-30", "32")
    w.claim("se1", "40000000003", "32", "2025-12-05")
    w.spell("se1", "40000000003", "2026-01-29")

    w.spell("jb1", "40000000004", "2020-01-01", "2026-01-10", "23")
    w.claim("jb1", "40000000004", "23", "2026-01-15")
    w.spell("jb1", "40000000005", "2026-02-09")

    w.spell("lh1", "40000000006", "2020-01-01", "2026-01-10", "23")
    w.claim("lh1", "40000000006", "23", "2026-01-15")
    for i in range(4):
        w.spell(f"lh-laid-{i}", "40000000006", "2019-01-01", f"2026-01-{20 + i}", "23")
    for i in range(3):
        w.spell(f"lh-hired-{i}", "40000000006", f"2026-02-0{2 + i}")

    # A big employer's everyday turnover: 5 code-23 separations this month, as in every
    # month of the last two years (48 in 730 days), and hiring all along.
    w.spell("bt1", "40000000011", "2018-01-01", "2026-01-10", "23")
    w.claim("bt1", "40000000011", "23", "2026-01-15")
    for i in range(4):
        w.spell(f"bt-left-{i}", "40000000011", "2017-01-01", f"2026-01-{12 + i}", "23")
    for i in range(48):
        left = dt.date(2024, 1, 5) + dt.timedelta(days=15 * i)
        w.spell(f"bt-earlier-{i}", "40000000011", "2016-01-01", left.isoformat(), "23")
    for i in range(8):
        w.spell(f"bt-hired-{i}", "40000000011", f"2026-01-{10 + i:02d}")

    # Small shops: two lay off two under code 23 two months apart, one hiring two others
    # meanwhile, the other no one; a third lays off three, a month apart, while hiring two.
    for shop, person, laid, hires in (
        ("40000000012", "sm", 1, 2),
        ("40000000013", "sd", 1, 0),
        ("40000000017", "sx", 2, 2),
    ):
        w.spell(f"{person}1", shop, "2021-01-01", "2025-11-10", "23")
        w.claim(f"{person}1", shop, "23", "2025-11-14")
        for i in range(laid):
            w.spell(f"{person}-laid-{i}", shop, "2020-05-01", f"2026-0{1 + i}-20", "23")
        for i in range(4 - hires):
            w.spell(f"{person}-staff-{i}", shop, "2019-03-01")
        for i in range(hires):
            w.spell(f"{person}-hired-{i}", shop, f"2025-12-{10 + i:02d}")
        w.monthly_statements(f"{person}1", f"{shop[0]}{shop[2:]}", "2025-06", 5)

    for i in range(10):  # a young workplace that hired ten; two left with justified cause (12) and claimed
        person = f"yw{i + 1}"
        left = ("2025-12-20", "12") if i < 2 else (None, None)
        w.spell(person, "40000000015", f"2025-03-{i + 1:02d}", left[0], left[1])
        w.monthly_statements(person, "4000000015", "2025-04", 8)
        if i < 2:
            w.claim(person, "40000000015", "12", "2025-12-26")

    w.spell("old1", "40000000014", "2019-01-01", "2019-07-10", "23")  # 190 days, before the tax feed
    w.claim("old1", "40000000014", "23", "2019-07-15")

    w.spell("rh2", "40000000009", "2020-01-01", "2026-01-10", "23")
    w.claim("rh2", "40000000009", "23", "2026-01-15")
    # The sister workplace (same representative), 100 days after the separation but 33
    # after the last certified day (2026-03-18): soon after the benefit.
    w.spell("rh2", "40000000010", "2026-04-20")

    w.spell("rh3", "40000000016", "2020-01-01", "2025-10-01", "23")
    w.monthly_statements("rh3", "4000000016", "2025-06", 4)
    w.claim("rh3", "40000000016", "23", "2025-10-05", benefit_days=120)  # entitled until 2026-02-08
    w.spell("rh3", "40000000016", "2026-02-20")

    # Workers laid off under 23 by members of the ring, every statement filed, no mark of
    # the ring's on their spells: at W3 (a member by its marked claims), and at W4 (a
    # member only because g3 passed through it). fr3's spell at W3 is missing.
    w.spell("fr1", "10000000004", "2024-10-15", "2026-02-27", "23")
    w.monthly_statements("fr1", "1000000004", "2025-06", 9)
    w.claim("fr1", "10000000004", "23", "2026-03-05")
    w.spell("fr2", "10000000003", "2025-02-10", "2026-02-27", "23")
    w.monthly_statements("fr2", "1000000003", "2025-06", 9)
    w.claim("fr2", "10000000003", "23", "2026-03-05")
    w.claim("fr3", "10000000003", "23", "2026-03-05")

    w.spell("nb1", "50000000001", "2015-01-01", "2026-01-10", "23")
    w.monthly_statements("nb1", "5000000001", "2025-06", 7)
    w.claim("nb1", "50000000001", "23", "2026-01-15")

    # Ordinary long-tenured employees: their payers file monthly statements.
    for person, business in (
        ("fs1", "4000000001"),
        ("fsd", "4000000001"),
        ("fs1x", "4000000001"),
        ("rh1", "4000000002"),
        ("rh2", "4000000009"),
        ("jb1", "4000000004"),
        ("lh1", "4000000006"),
        ("bt1", "4000000011"),
    ):
        w.monthly_statements(person, business, "2025-06", 7)
    w.monthly_statements("se1", "4000000003", "2025-06", 6)  # the season ended in November

    w.spell("lone1", "40000000007", "2025-06-01", "2025-12-07", "23")  # 190 days
    w.claim("lone1", "40000000007", "23", "2025-12-12")
    # st1: left in 2019 (11), back in 2023; the 2023 spell's end was never reported.
    w.spell("st1", "40000000018", "2015-01-01", "2019-12-31", "11")
    w.spell("st1", "40000000018", "2023-01-01")
    w.monthly_statements("st1", "4000000018", "2025-06", 7)
    w.claim("st1", "40000000018", "23", "2026-01-15")
    w.spell("ad1", "40000000019", "2020-01-01", "2026-01-10", "23")
    w.monthly_statements("ad1", "4000000019", "2025-06", 7)
    w.claim("ad1", "40000000019", "23", "2026-01-15")
    w.spell("ad1", "40000000020", "2026-02-09")
    # nw1: its workplace's record (40000000099) was quarantined; statements name its number.
    w.spell("nw1", "40000000099", "2025-06-01", "2025-12-07", "23")  # 190 days
    w.monthly_statements("nw1", "4000000099", "2025-06", 6)
    w.claim("nw1", "40000000099", "23", "2025-12-12")
    w.spell("lone2", "40000000008", "2025-06-01", "2025-12-07", "23")
    w.monthly_statements("lone2", "4000000008", "2025-06", 7)
    w.claim("lone2", "40000000008", "23", "2025-12-12")
    # lone3: a statement every month, each paying a quarter of the 2.5M wage reported.
    w.spell("lone3", "40000000021", "2025-06-01", "2025-12-07", "23")  # 190 days
    w.monthly_statements("lone3", "4000000021", "2025-06", 7, amounts=[625_000] * 7)
    w.claim("lone3", "40000000021", "23", "2025-12-12")
    # lone4: began on June 15th and ended on December 21st. June's statement pays
    # 800,000 and December's 1,000,000: less than half a whole month's wage, more than
    # half the wage of the 16 and 21 days worked. July and August (unpaid leave) pay
    # 1,000,000. Prorated, 5 of the 7 months match; compared with whole months, 3.
    w.spell("lone4", "40000000022", "2025-06-15", "2025-12-21", "23")  # 190 days
    w.monthly_statements(
        "lone4",
        "4000000022",
        "2025-06",
        7,
        amounts=[800_000, 1_000_000, 1_000_000, 2_300_000, 2_300_000, 2_300_000, 1_000_000],
    )
    w.claim("lone4", "40000000022", "23", "2025-12-26")
    # ov1: two jobs at once; the 190 days are insured once, not twice.
    w.spell("ov1", "40000000023", "2025-06-01", "2025-12-07", "23")  # 190 days
    w.spell("ov1", "40000000024", "2025-06-01", "2025-11-30", "11")
    w.monthly_statements("ov1", "4000000024", "2025-06", 6)
    w.claim("ov1", "40000000023", "23", "2025-12-12")
    # tr1..tr4: the second broker's shells, two workers each, every statement filed.
    for i, place in enumerate(("60000000001", "60000000001", "60000000002", "60000000002")):
        person = f"tr{i + 1}"
        w.spell(person, place, "2025-04-15", "2026-01-20", "23")  # 281 days
        w.monthly_statements(person, f"{place[0]}{place[2:]}", "2025-04", 9)
        w.claim(person, place, "23", "2026-01-26")
    # yb1..yb4 and yc1..yc4: honest young businesses that closed; yc1 moved between branches.
    for group, places in (("yb", ("70000000001", "70000000002")), ("yc", ("70000000003", "70000000004"))):
        for i, place in enumerate((places[0], places[0], places[1], places[1])):
            person = f"{group}{i + 1}"
            start = "2025-09-01" if person == "yc1" else "2025-04-15"
            w.spell(person, place, start, "2026-01-20", "22")
            w.monthly_statements(person, f"{place[0]}{place[2:]}", "2025-04", 9)
            w.claim(person, place, "22", "2026-01-26")
    w.spell("yc1", "70000000004", "2025-04-15", "2025-08-31", "11")  # the transfer
    return w


@pytest.fixture(scope="module")
def found(spark):
    from features.rings import suspected_workplaces
    from jobs.collusion import analyse
    from jobs.crossmatch import detect

    w = build_world()
    tables = {
        "workplaces": frame(spark, "workplaces", WORKPLACES),
        "employments": frame(spark, "employments", w.employments),
        "claims": frame(spark, "claims", w.claims),
        "certifications": frame(spark, "certifications", w.certifications),
        "income": frame(spark, "income", w.income),
        "crossings": frame(spark, "crossings", []),
        "findings": frame(
            spark,
            "findings",
            [
                dict(
                    finding_id="F-fsd",
                    person_key=key("fsd"),
                    claim_id="CL-fsd",
                    workplace_id="40000000001",
                    fraud_type="FALSE_SEPARATION",
                    decided_on=D("2026-03-01"),
                    overpaid_amount=3_000_000,
                    collusion="Y",
                    updated_at=UPDATED,
                )
            ],
        ),
    }
    collusion = analyse(tables, RUN_DATE, hub_max_degree=50)
    detection = detect(tables, RUN_DATE, collusion=collusion.claims)
    result = {
        "rings": [row.asDict() for row in collusion.rings.collect()],
        "cases": {row["claim_id"]: row.asDict() for row in detection.cases.collect()},
        "collusion": {row["claim_id"]: row.asDict() for row in collusion.claims.collect()},
        "workplaces": {
            row["workplace_id"]: row.asDict()
            for row in suspected_workplaces(detection.cases, collusion.rings).collect()
        },
    }
    return result


def case(found, person):
    return found["cases"].get(f"CL-{person}")


def ring_of(found, workplace_id):
    [ring] = [ring for ring in found["rings"] if workplace_id in ring["workplace_ids"].split(";")]
    return ring


def test_the_ring_of_shell_workplaces_is_found_with_its_workplaces_and_evidence(found):
    assert len(found["rings"]) == 2
    ring = ring_of(found, "10000000001")
    # 10000000004 shares only the building, but a paper employee of the ring rotated
    # through it: a member (DOMAIN.md: people rotating among the same workplaces).
    assert ring["workplace_ids"] == "10000000001;10000000002;10000000003;10000000004"
    assert (ring["person_count"], ring["claim_count"], ring["suspicious_claims"]) == (10, 10, 7)
    assert ring["member_by"] == {
        "10000000001": "marked claims",
        "10000000002": "marked claims",
        "10000000003": "marked claims",
        "10000000004": "rotation",
    }
    assert ring["rotating_persons"] == 2
    assert (
        "representative" in ring["reasons"]
        and "address 서울강남구테헤란로123 shared by 5 workplaces" in ring["reasons"]
    )
    assert "phone 025551234 shared by 2 workplaces" in ring["reasons"]
    assert "representative eeeeeeee shared by 2 workplaces" in ring["reasons"]
    assert "2 persons rotated among its workplaces" in ring["reasons"]
    assert "not counted: 50000000001 (same address or phone only, no suspicious claim)" in ring["reasons"]
    import xml.etree.ElementTree as ElementTree

    picture = ElementTree.fromstring(ring["picture"])  # well-formed, self-contained SVG
    titles = {element.text for element in picture.iter("{http://www.w3.org/2000/svg}title")}
    assert {"W:10000000001", "W:10000000002", "W:10000000003"} <= titles
    # 1 - (1 - 0.7 × 7 of 10 claims suspicious)(1 - 0.3 × two rotating)(1 - 0.2 × a young
    #   workplace)(1 - 0.2 × a burst of 7 claims)
    assert ring["score"] == 0.7715


def test_gh01_fires_on_every_paper_employee_of_the_ring_and_claims_everything_paid(found):
    for i in range(1, 8):
        hit = case(found, f"g{i}")
        assert "GH-01" in hit["rule_hits"].split(";"), hit
        assert hit["fraud_types"].split(";")[0] == "GHOST_EMPLOYMENT"
        assert hit["ring_id"] == ring_of(found, "10000000001")["ring_id"]
        assert hit["estimated_overpayment"] == 3_000_000  # both certifications
        assert hit["score"] >= 0.5
    # g2's 185 days are all its insured days in 18 months; g1 worked at W2 before W1.
    assert "185 insured days in 18 months: just past the 180-day threshold" in case(found, "g2")["reasons"]
    assert "worked at 2 workplaces of the ring" in case(found, "g1")["reasons"]


def test_gh03_fires_on_an_account_shared_by_three_claimants(found):
    assert "GH-03" in case(found, "g4")["rule_hits"].split(";")
    assert "GH-03" not in case(found, "g1")["rule_hits"].split(";")


def test_gh04_aggravates_the_claims_of_a_young_workplace_most_of_whose_workers_claimed(found):
    for person in ("g1", "g4", "g7"):  # the three claims from W1, opened 2025-01-10, of its three workers
        assert "GH-04" in case(found, person)["rule_hits"].split(";")
        assert (
            "workplace 10000000001 was 334 days old at the claim and produced 3 claims in its first two years "
            "from 3 workers"
        ) in case(found, person)["reasons"]


def test_gh05_shells_that_file_every_statement_are_a_ring_and_their_claims_leads(found):
    ring = ring_of(found, "60000000001")
    assert ring["workplace_ids"] == "60000000001;60000000002"
    assert (ring["claim_count"], ring["suspicious_claims"]) == (4, 4)
    assert ring["member_by"] == {
        "60000000001": "shared representative or account",
        "60000000002": "shared representative or account",
    }
    for person in ("tr1", "tr2", "tr3", "tr4"):
        hit = case(found, person)
        hits = hit["rule_hits"].split(";")
        assert "GH-05" in hits and not {"GH-01", "GH-02", "FS-07"} & set(hits), hit
        assert hit["ring_id"] == ring["ring_id"] and hit["estimated_overpayment"] == 0
        assert hit["overpayment_if_confirmed"] == 3_000_000  # the claim, were the lead confirmed
        assert "lead: ring " in hit["reasons"] and "days old at the claim and produced 2 claims" in hit["reasons"]
        assert "to settle: the workplace's operations" in hit["reasons"]
    # Below every proven case of the ring above.
    assert case(found, "tr1")["rank"] > max(case(found, f"g{i}")["rank"] for i in range(1, 8))


def test_gh05_look_alikes_young_businesses_that_closed_are_no_ring_and_no_case(found):
    """A closure explains why everyone claimed; a shared building makes no member; a
    shared owner makes members, but without a mark on the claims no ring."""
    in_rings = {w for ring in found["rings"] for w in ring["workplace_ids"].split(";")}
    assert not in_rings & {"70000000001", "70000000002", "70000000003", "70000000004"}
    for person in ("yb1", "yb2", "yb3", "yb4", "yc1", "yc2", "yc3", "yc4"):
        assert case(found, person) is None, person


def test_a_claim_laid_off_by_a_closure_carries_no_young_mark(found):
    """The closure explains why everyone claimed (GH-02, GH-04, GH-05 and a ring's count
    read the one mark)."""
    marks = {
        person: found["collusion"][f"CL-{person}"]["is_young_workplace_with_many_claims"]
        for person in ("yb1", "yb3", "yc1", "tr1", "tr3")
    }
    assert marks == {"yb1": False, "yb3": False, "yc1": False, "tr1": True, "tr3": True}


def test_gh04_look_alike_a_young_workplace_of_ten_with_two_claims_is_no_case(found):
    """Many claims means many for its size: 2 of 10 workers is no mark of a shell."""
    assert case(found, "yw1") is None and case(found, "yw2") is None


def test_gh04_look_alike_an_old_workplace_with_many_claims_is_no_case(found):
    assert all(case(found, person) is None for person in ("c1", "c2", "c3"))


def test_look_alike_neighbour_in_the_same_building_is_no_case(found):
    assert case(found, "nb1") is None
    assert "50000000001" not in found["workplaces"]


def test_fs07_a_layoff_by_a_ring_s_member_is_a_lead_that_says_what_settles_it(found):
    ring = ring_of(found, "10000000003")
    hit = case(found, "fr2")
    assert hit["rule_hits"] == "FS-07" and hit["fraud_types"] == "FALSE_SEPARATION"
    assert hit["ring_id"] == ring["ring_id"] and hit["evidence_standard"] == "lead"
    assert hit["estimated_overpayment"] == 0 and hit["overpayment_if_confirmed"] > 0
    assert (
        f"lead: ring {ring['ring_id']}: laid off under code 23 on 2026-02-27 by 10000000003, a member of the "
        "ring (marked claims)"
    ) in hit["reasons"]
    assert "to settle: the employer's record of the layoff" in hit["reasons"]
    # A lead: below every proven case of its ring.
    assert hit["rank"] > max(case(found, f"g{i}")["rank"] for i in range(1, 8))


def test_fs07_look_alikes_a_missing_separation_record_and_a_member_only_by_rotation(found):
    """fr3: a gap in the employment feed is no employer's word. fr1: the workplace is
    the ring's only because a paper employee once worked there; its own layoffs are no
    lead (it carries the ring's id: its ring is named on any case it has)."""
    assert case(found, "fr3") is None
    assert case(found, "fr1") is None
    assert found["collusion"]["CL-fr1"]["ring_member_by"] == "rotation"


def test_only_claims_at_a_ring_s_members_carry_its_ring_id(found):
    """A neighbour is named in the ring's reasons, not counted in it: its claims are
    not the ring's, whatever marks of their own they carry (GH-01, GH-05 and FS-07
    read ring_id)."""
    ring = ring_of(found, "10000000001")
    assert found["collusion"]["CL-nb1"]["ring_id"] is None
    assert found["collusion"]["CL-g1"]["ring_id"] == ring["ring_id"]


def test_gh03_look_alike_spouses_sharing_one_account_are_no_case_and_no_ring(found):
    assert case(found, "sp1") is None and case(found, "sp2") is None
    assert all("30000000001" not in ring["workplace_ids"] for ring in found["rings"])


def test_look_alike_real_business_closure_is_no_case_and_no_ring(found):
    for person in ("c1", "c2", "c3"):
        assert case(found, person) is None
    assert "20000000001" not in found["workplaces"]


def test_fs01_fires_when_the_employer_reported_a_quit(found):
    hit = case(found, "fs1")
    assert hit["rule_hits"] == "FS-01"
    assert hit["fraud_types"] == "FALSE_SEPARATION"
    assert hit["estimated_overpayment"] == 3_000_000
    assert "claim says separation code 23" in hit["reasons"] and "says 11" in hit["reasons"]


def test_a_claim_already_decided_is_not_queued_again(found):
    assert case(found, "fsd") is None


def test_fs01_look_alike_codes_that_agree_are_no_case(found):
    assert case(found, "fs1x") is None


def test_fs02_fires_on_a_rehire_by_the_same_workplace(found):
    hit = case(found, "rh1")
    assert hit["rule_hits"] == "FS-02"
    assert "rehired 2026-02-09 by 40000000002 (same workplace) 30 days after leaving" in hit["reasons"]


def test_fs02_fires_on_a_rehire_by_a_sister_workplace_before_the_benefit_ran_out(found):
    """100 days after the separation, but the claimant gave up the rest of an
    entitlement that ran to 2026-07-20 to go back to the same owner."""
    hit = case(found, "rh2")
    assert hit["rule_hits"] == "FS-02"
    assert (
        "by 40000000010 (related workplace: shared representative) 100 days after leaving 40000000009, before "
        "the benefit ran out (entitled until 2026-07-20)"
    ) in hit["reasons"]


def test_fs04_a_rehire_soon_after_the_benefit_ended_is_a_lead(found):
    """Rehired by the same workplace 12 days after a 120-day entitlement ended: a
    return after a real layoff looks the same in the records. A lead, with the
    overpayment if the separation proves false beside the proven 0."""
    hit = case(found, "rh3")
    assert hit["rule_hits"] == "FS-04"
    assert (hit["evidence_standard"], hit["estimated_overpayment"], hit["overpayment_if_confirmed"]) == (
        "lead",
        0,
        3_000_000,
    )
    assert hit["score"] < 0.5
    assert (
        "lead: rehired 2026-02-20 by 40000000016 (same workplace) 142 days after leaving 40000000016, last "
        "certified day 2025-12-06 — to settle: the employer's and the worker's account of why the worker "
        "left and came back"
    ) in hit["reasons"]


def test_a_rehire_by_a_business_sharing_only_the_address_is_a_lead(found):
    """Every business in a building shares its street address: a job two floors up,
    even while claiming, proves no agreed separation (FS-02 needs the same workplace,
    representative or account). A lead, with what would settle it."""
    hit = case(found, "ad1")
    assert hit["rule_hits"] == "FS-04"
    assert hit["evidence_standard"] == "lead" and hit["estimated_overpayment"] == 0
    assert "(related workplace: shared address)" in hit["reasons"]


def test_fs02_look_alikes_seasonal_rehire_and_a_new_unrelated_job_are_no_case(found):
    assert case(found, "se1") is None
    assert case(found, "jb1") is None


def test_fs03_fires_on_a_layoff_by_a_workplace_that_kept_hiring(found):
    hit = case(found, "lh1")
    assert "FS-03" in hit["rule_hits"].split(";")
    assert (
        "proven: workplace 40000000006: 5 layoffs under code 23 within six months of this separation, 5 of "
        "them within a month of it (of 8 employed then, its previous two years predict 0.0) while it hired 3"
    ) in hit["reasons"]


def test_fs05_a_small_workplace_laying_off_three_over_months_while_hiring_is_a_lead(found):
    """Thresholds relative to the workplace: three of seven laid off is nearly half of it,
    a pattern; but spread over three months it is what honest churn also looks like, so
    it is a lead whose claim the employer's reasons would invalidate."""
    hit = case(found, "sx1")
    assert hit["rule_hits"] == "FS-05"
    assert (hit["evidence_standard"], hit["estimated_overpayment"], hit["overpayment_if_confirmed"]) == (
        "lead",
        0,
        3_000_000,
    )
    assert (
        "lead: workplace 40000000017: 3 layoffs under code 23 within six months of this separation (of 7"
        in hit["reasons"]
    )


def test_a_stronger_lead_ranks_above_a_weaker_one(found):
    assert float(case(found, "sx1")["score"]) > float(case(found, "sm1")["score"])


def test_fs06_two_layoffs_of_a_small_workplace_that_kept_hiring_are_a_weaker_lead(found):
    """Two of six laid off while hiring two: the pattern, but as often everyday churn."""
    hit = case(found, "sm1")
    assert hit["rule_hits"] == "FS-06"
    assert (hit["evidence_standard"], hit["estimated_overpayment"], hit["overpayment_if_confirmed"]) == (
        "lead",
        0,
        3_000_000,
    )
    assert (
        "lead: workplace 40000000012: 2 layoffs under code 23 within six months of this separation (of 6"
        in hit["reasons"]
    )


def test_fs03_look_alike_a_small_workplace_downsizing_without_hiring_is_no_case(found):
    assert case(found, "sd1") is None


def test_an_old_spell_is_not_the_claimed_separation_and_an_earlier_spell_is_no_rehire(found):
    """The only closed spell at the workplace ended six years before the claim: the
    claimed separation's own record is missing (the 2023 spell was never closed), so
    neither its code (FS-01) nor the 2023 spell (FS-02) proves anything."""
    assert case(found, "st1") is None


def test_a_workplace_whose_record_is_missing_has_no_months_due(found):
    """Without the workplace's record its business number is unknown, so its
    statements cannot be matched: a gap, not wages without statements (GH-02)."""
    hit = case(found, "nw1")
    assert hit is None, (hit["rule_hits"], hit["reasons"])


def test_gh02_look_alike_a_spell_older_than_the_tax_feed_is_no_case(found):
    """No tax statement for a 2019 spell says nothing: the tax feed begins in 2025."""
    assert case(found, "old1") is None


def test_fs03_look_alike_everyday_turnover_of_a_big_employer_is_no_case(found):
    assert case(found, "bt1") is None


def test_gh02_fires_on_a_lone_paper_spell_and_not_on_one_with_tax_statements(found):
    hit = case(found, "lone1")
    assert hit["rule_hits"] == "GH-02"
    assert hit["ring_id"] is None
    assert case(found, "lone2") is None


def test_gh02_fires_on_statements_paying_far_less_than_the_wage_reported(found):
    """A statement every month, each paying a quarter of the reported wage: the wages
    reported are not matched by the payer's tax statements (DOMAIN.md). December's
    matches: the spell ended on the 7th, and a quarter of a month's wage is more than
    half of seven days' wages."""
    hit = case(found, "lone3")
    assert hit["rule_hits"] == "GH-02"
    assert "for 7 of its 7 months due, 6 of them paying less than half the reported wage" in hit["reasons"]


def test_gh02_look_alike_a_partial_first_month_matches_the_days_worked(found):
    """June's statement covers the 16 days of the spell in June: compared with the
    wage for those days, not a whole month's, it matches. With June and December,
    5 of the 7 months match (two months of unpaid leave do not make a paper spell);
    compared with whole months only 3 would, and GH-02 would fire."""
    assert case(found, "lone4") is None


def test_two_jobs_at_once_insure_each_day_once(found):
    """The 18 months' insured days merge overlapping spells: 190 days, just past the
    threshold, not 373."""
    hit = case(found, "ov1")
    assert hit["rule_hits"] == "GH-02"
    assert "190 insured days in 18 months" in hit["reasons"]


def test_suspected_workplaces_rank_the_ring_first(found):
    ranked = sorted(found["workplaces"].values(), key=lambda row: row["rank"])
    assert [row["rank"] for row in ranked] == list(range(1, len(ranked) + 1))
    assert {row["workplace_id"] for row in ranked[:3]} == {"10000000001", "10000000002", "10000000003"}
    assert ranked[0]["fraud_types"] == "GHOST_EMPLOYMENT"
    assert ranked[0]["workplace_id"] == "10000000001" and ranked[0]["flagged_claims"] == 3
    assert "member of ring" in ranked[0]["reasons"]
    assert {"40000000001", "40000000002", "40000000006", "40000000007"} <= set(found["workplaces"])
