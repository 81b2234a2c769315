"""Synthetic landing directory for the nightly pipeline, with its ground truth.

`generate(out, persons, seed, baseline, days)` writes what the three agencies would
deliver (../shared/contract/FEEDS.md):

    <out>/<source>/<YYYY-MM-DD>/<table>.csv + _MANIFEST.json (written last)

a baseline drop dated `baseline` holding the full history (about three years), then
`days` daily delta drops. It plants every fraud typology of DOMAIN.md (current cases,
still undetected, and past cases already decided in `ei/findings`), the look-alikes
that are not fraud, and fraud no feed shows (undeclared cash work: found in the past by
investigators, undecided now; what a model can rank and no rule can see), and injects
bad rows of every kind the row validator (fraud/validation.py, fraud/records.py)
rejects. It returns the truth, which is also written to `<out>/_truth/truth.json`.

How it works, in order:

1. A population: persons (`person_key` = sha256 of a seed-derived string), insured
   workplaces, and for every person a career of insured employment spells, with a
   benefit claim and its four-weekly certifications after most eligible separations.
2. Planted cases (`_Planter`), each built from the same spell/claim helpers and then
   given its evidence: income statements, trips abroad, codes that disagree, rehiring,
   shell workplaces.
3. Trips abroad of ordinary people, never covering one of their certification days.
4. The files. Every record has versions (a date and a time of day); a version is
   delivered in the drop of its date (the baseline for anything older), the latest
   version of a drop wins within it. Monthly wage statements of ordinary employment are
   streamed straight to the files (they are most of the rows). Each file gets its bad
   rows, interleaved: extra rows with fresh ids, so quarantining them never changes
   what the valid rows say.
5. The truth, computed from the records written, as visible on the last drop date:
   which certifications are tainted (DOMAIN.md), the overpayment of each planted claim,
   the rings, repeat offenders, look-alikes, and the exact number of rows the validator
   must quarantine per drop and table.

Same seed, same bytes: every random draw comes from a `random.Random` seeded from the
seed, records are iterated in a fixed order, and nothing reads the wall clock.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from itertools import accumulate
from pathlib import Path
from typing import Callable

from fraud import contract

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]

ONE_DAY = timedelta(days=1)
HISTORY_YEARS = 3
CERT_PERIOD_DAYS = 28
WAITING_DAYS = 7  # 대기기간: the first seven days after filing are not paid
ELIGIBLE = frozenset(contract.ELIGIBLE_SEPARATION_CODES)
OPEN_STATUSES = ("FILED", "APPROVED")
CLOSING = ("EXHAUSTED", "TERMINATED")

# Typologies (findings vocabulary) and look-alike kinds as they appear in the truth.
UNDECLARED_WORK = "UNDECLARED_WORK"
ABROAD_CERTIFICATION = "ABROAD_CERTIFICATION"
FALSE_SEPARATION = "FALSE_SEPARATION"
GHOST_EMPLOYMENT = "GHOST_EMPLOYMENT"
WHOLE_CLAIM_TYPOLOGIES = (FALSE_SEPARATION, GHOST_EMPLOYMENT)

BUSINESS_CLOSURE = "BUSINESS_CLOSURE"
SEASONAL_WORKER = "SEASONAL_WORKER"
DECLARED_PART_TIME = "DECLARED_PART_TIME"
SHORT_TRIP = "SHORT_TRIP"
SHARED_ACCOUNT_SPOUSES = "SHARED_ACCOUNT_SPOUSES"
MISSING_IN_CROSSING = "MISSING_IN_CROSSING"
LOOKALIKE_KINDS = (
    BUSINESS_CLOSURE,
    SEASONAL_WORKER,
    DECLARED_PART_TIME,
    SHORT_TRIP,
    SHARED_ACCOUNT_SPOUSES,
    MISSING_IN_CROSSING,
)

# ---------------------------------------------------------------------------------
# Vocabulary: regions (시도) with their spellings, districts, roads and area codes
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    code: str  # 2-digit 시도 code
    full: str  # 서울특별시
    middle: str  # 서울시
    short: str  # 서울
    area_code: str  # telephone area code
    districts: tuple[str, ...]
    roads: tuple[str, ...]
    weight: int


REGIONS = (
    Region(
        "11",
        "서울특별시",
        "서울시",
        "서울",
        "02",
        ("강남구", "서초구", "송파구", "마포구", "영등포구", "중구", "종로구", "구로구", "금천구", "성동구"),
        (
            "테헤란로",
            "강남대로",
            "세종대로",
            "올림픽로",
            "양화로",
            "국제금융로",
            "을지로",
            "디지털로",
            "가산디지털1로",
            "왕십리로",
        ),
        25,
    ),
    Region(
        "26",
        "부산광역시",
        "부산시",
        "부산",
        "051",
        ("해운대구", "부산진구", "사하구", "동래구"),
        ("해운대로", "중앙대로", "낙동대로", "충렬대로"),
        7,
    ),
    Region(
        "27",
        "대구광역시",
        "대구시",
        "대구",
        "053",
        ("수성구", "달서구", "북구"),
        ("달구벌대로", "국채보상로", "동대구로"),
        5,
    ),
    Region(
        "28",
        "인천광역시",
        "인천시",
        "인천",
        "032",
        ("남동구", "연수구", "부평구", "서구"),
        ("남동대로", "컨벤시아대로", "부평대로", "봉수대로"),
        6,
    ),
    Region(
        "29", "광주광역시", "광주시", "광주", "062", ("서구", "북구", "광산구"), ("상무대로", "무등로", "하남산단로"), 3
    ),
    Region(
        "30", "대전광역시", "대전시", "대전", "042", ("유성구", "서구", "대덕구"), ("대덕대로", "한밭대로", "대화로"), 3
    ),
    Region(
        "31",
        "울산광역시",
        "울산시",
        "울산",
        "052",
        ("남구", "동구", "울주군"),
        ("삼산로", "방어진순환도로", "온산로"),
        2,
    ),
    Region(
        "41",
        "경기도",
        "경기",
        "경기",
        "031",
        ("수원시 영통구", "성남시 분당구", "고양시 일산동구", "화성시", "용인시 기흥구", "안산시 단원구"),
        ("광교로", "판교역로", "중앙로", "동탄대로", "흥덕중앙로", "산단로"),
        25,
    ),
    Region("43", "충청북도", "충북", "충북", "043", ("청주시 흥덕구", "충주시"), ("직지대로", "충원대로"), 3),
    Region("44", "충청남도", "충남", "충남", "041", ("천안시 서북구", "아산시"), ("번영로", "온천대로"), 3),
    Region(
        "46", "전라남도", "전남", "전남", "061", ("여수시", "순천시", "목포시"), ("여수산단로", "순천만길", "영산로"), 3
    ),
    Region("47", "경상북도", "경북", "경북", "054", ("포항시 남구", "구미시"), ("포스코대로", "구미대로"), 3),
    Region("48", "경상남도", "경남", "경남", "055", ("창원시 성산구", "김해시"), ("중앙대로", "김해대로"), 4),
    Region("50", "제주특별자치도", "제주도", "제주", "064", ("제주시", "서귀포시"), ("연삼로", "중문관광로"), 2),
    Region(
        "51",
        "강원특별자치도",
        "강원도",
        "강원",
        "033",
        ("춘천시", "강릉시", "평창군"),
        ("중앙로", "경강로", "올림픽로"),
        2,
    ),
)
REGION_BY_CODE = {r.code: r for r in REGIONS}
# Road names found in most cities, added to each region's own.
COMMON_ROADS = tuple(
    f"{stem}{kind}"
    for stem in (
        "중앙",
        "시청",
        "번영",
        "산업",
        "공단",
        "문화",
        "평화",
        "희망",
        "신촌",
        "역전",
        "학교",
        "시장",
        "동부",
        "서부",
        "남부",
        "북부",
    )
    for kind in ("로", "길")
)
ROADS = {r.code: r.roads + COMMON_ROADS for r in REGIONS}
REGION_CUMULATIVE = list(accumulate(r.weight for r in REGIONS))

NAME_STEMS = (
    "한빛",
    "대성",
    "미래",
    "동양",
    "신성",
    "우리",
    "하나로",
    "태양",
    "세진",
    "청솔",
    "푸른",
    "새롬",
    "금강",
    "백두",
    "한길",
    "정우",
    "성원",
    "대명",
    "삼호",
    "유진",
    "가온",
    "누리",
    "다온",
    "라온",
    "보람",
    "서광",
    "아름",
    "은하",
    "진성",
    "해든",
    "한결",
    "동해",
    "남산",
    "송림",
    "영진",
    "창성",
    "효성",
    "동림",
    "명성",
    "광명",
)
NAME_TRADES = (
    "상사",
    "물산",
    "산업",
    "건설",
    "식품",
    "물류",
    "테크",
    "전자",
    "기계",
    "유통",
    "정밀",
    "디자인",
    "푸드",
    "서비스",
    "엔지니어링",
    "시스템",
    "개발",
    "무역",
    "소프트",
    "제약",
    "의원",
    "약국",
    "식당",
    "카페",
    "학원",
    "인쇄",
    "통상",
    "운수",
    "기획",
    "컨설팅",
)
BRANCHES = ("강남", "본점", "제2공장", "판교", "서면", "수원", "부평")
SHELL_TRADES = ("인력", "아웃소싱", "HR", "종합관리", "파트너스", "인재개발")
SEASONAL_TRADES = ("농원", "리조트", "영농조합법인", "스키리조트", "수산")
INDUSTRIES = (
    "10",
    "13",
    "20",
    "25",
    "26",
    "29",
    "41",
    "42",
    "46",
    "47",
    "49",
    "52",
    "55",
    "56",
    "58",
    "62",
    "68",
    "70",
    "71",
    "73",
    "74",
    "75",
    "85",
    "86",
    "87",
    "96",
)

TRIP_COUNTRIES = (
    ("JP",) * 30
    + ("CN",) * 12
    + ("VN",) * 12
    + ("TH",) * 8
    + ("US",) * 8
    + ("PH",) * 6
    + ("TW",) * 6
    + ("HK",) * 4
    + ("SG",) * 4
    + ("GU",) * 3
    + ("MN",) * 3
    + ("FR",) * 2
    + ("AU",) * 2
)
PORTS = ("ICN",) * 70 + ("GMP",) * 10 + ("PUS",) * 10 + ("CJU",) * 5 + ("TAE",) * 3 + ("CJJ",) * 2
CROSSING_REMARKS = ("자동출입국심사", "재입국, 자동심사", "승무원 아님", "단체여행")

# Separation codes of ordinary spell endings and how often they occur.
SEPARATION_WEIGHTS = (("11", 38), ("12", 7), ("22", 4), ("23", 18), ("26", 3), ("31", 4), ("32", 24), ("41", 2))
SEPARATION_CUMULATIVE = list(accumulate(w for _, w in SEPARATION_WEIGHTS))

# ---------------------------------------------------------------------------------
# Calendar helpers
# ---------------------------------------------------------------------------------


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + _days(4)).replace(day=1)


def _month_end(day: date) -> date:
    return _next_month(day) - ONE_DAY


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _stamp(day: date, second: int) -> str:
    """An ISO 8601 timestamp in KST for `second` seconds after midnight of `day`."""
    return f"{day.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+09:00"


def _overlap_days(a_from: date, a_to: date, b_from: date, b_to: date) -> int:
    first, last = max(a_from, b_from), min(a_to, b_to)
    return (last - first).days + 1 if first <= last else 0


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------


@dataclass(eq=False)
class Person:
    index: int
    key: str
    account: str
    role: str = "normal"
    random_trips: bool = True
    spells: list = field(default_factory=list)
    claims: list = field(default_factory=list)
    crossings: list = field(default_factory=list)
    planted_statements: list = field(default_factory=list)


@dataclass(eq=False)
class Workplace:
    workplace_id: str
    business_no: str
    name: str
    representative_key: str
    location: tuple  # (region code, district, road, number, floor)
    address: str
    phone_parts: tuple | None  # (area, exchange, line)
    phone: str | None
    bank_account_key: str | None
    industry_code: str
    opened_on: date
    reported_second: int
    kind: str = "ordinary"  # ordinary, shell, closure, seasonal, sister, new
    closed_on: date | None = None
    closure_reported: tuple | None = None  # (day, second)
    weight: float = 1.0

    @property
    def region_code(self) -> str:
        return self.location[0]

    def versions(self) -> list[tuple[date, int, dict]]:
        """(day, second, row) of every version, oldest first."""

        def row(closed: date | None, day: date, second: int) -> dict:
            return dict(
                workplace_id=self.workplace_id,
                business_no=self.business_no,
                name=self.name,
                representative_key=self.representative_key,
                address=self.address,
                phone=self.phone or "",
                bank_account_key=self.bank_account_key or "",
                industry_code=self.industry_code,
                region_code=self.region_code,
                opened_on=self.opened_on.isoformat(),
                closed_on=closed.isoformat() if closed else "",
                updated_at=_stamp(day, second),
            )

        out = [(self.opened_on, self.reported_second, row(None, self.opened_on, self.reported_second))]
        if self.closed_on is not None:
            day, second = self.closure_reported
            out.append((day, second, row(self.closed_on, day, second)))
        return out


@dataclass(eq=False)
class Spell:
    """An insured employment spell (피보험자격 취득·상실)."""

    person: Person
    workplace: Workplace
    acquired_on: date
    lost_on: date | None
    separation_code: str | None
    monthly_wage: int
    reported: tuple  # (day, second) the acquisition was reported
    loss_reported: tuple | None
    taxed: bool = True  # False: no NTS statements (a ghost employee)
    employment_id: str = ""

    def versions(self) -> list[tuple[date, int, dict]]:
        def row(lost: date | None, code: str | None, day: date, second: int) -> dict:
            return dict(
                employment_id=self.employment_id,
                person_key=self.person.key,
                workplace_id=self.workplace.workplace_id,
                acquired_on=self.acquired_on.isoformat(),
                lost_on=lost.isoformat() if lost else "",
                separation_code=code or "",
                monthly_wage=str(self.monthly_wage),
                updated_at=_stamp(day, second),
            )

        day, second = self.reported
        out = [(day, second, row(None, None, day, second))]
        if self.lost_on is not None:
            day, second = self.loss_reported
            out.append((day, second, row(self.lost_on, self.separation_code, day, second)))
        return out

    def visible_end(self, as_of: date) -> date | None:
        """lost_on as the feeds show it on `as_of` (None while the loss is unreported)."""
        if self.lost_on is not None and self.loss_reported[0] <= as_of:
            return self.lost_on
        return None


@dataclass(eq=False)
class Cert:
    """A certification of unemployment (실업인정) for period_from..period_to."""

    claim: "Claim"
    cert_on: date
    period_from: date
    period_to: date
    channel: str
    ip_country: str | None
    job_search_count: int
    declared_income: int
    paid_days: int
    paid_amount: int
    second: int
    cert_id: str = ""

    def row(self) -> dict:
        return dict(
            cert_id=self.cert_id,
            claim_id=self.claim.claim_id,
            cert_on=self.cert_on.isoformat(),
            period_from=self.period_from.isoformat(),
            period_to=self.period_to.isoformat(),
            channel=self.channel,
            ip_country=self.ip_country or "",
            job_search_count=str(self.job_search_count),
            declared_income=str(self.declared_income),
            paid_days=str(self.paid_days),
            paid_amount=str(self.paid_amount),
            updated_at=_stamp(self.cert_on, self.second),
        )

    @property
    def order(self) -> tuple:
        return (self.period_from, self.period_to, self.cert_on, self.cert_id)


@dataclass(eq=False)
class Claim:
    """A job-seeking benefit claim (구직급여 수급자격) with its status history."""

    person: Person
    spell: Spell
    workplace: Workplace
    separation_code: str
    filed_on: date
    eligible_from: date
    benefit_days: int
    daily_amount: int
    bank_account_key: str
    statuses: list  # (day, second, status), oldest first
    planned_end: date  # last day of the last period planned (re-employment or exhaustion)
    reemployed: bool
    certs: list = field(default_factory=list)
    intended: set = field(default_factory=set)  # typologies planted on purpose
    whole_claim: set = field(default_factory=set)  # FALSE_SEPARATION / GHOST_EMPLOYMENT
    ring_id: str | None = None
    past: bool = False
    finding: "Finding | None" = None
    cash_certs: list = field(default_factory=list)  # periods with undeclared cash work (no feed shows it)
    claim_id: str = ""

    def versions(self) -> list[tuple[date, int, dict]]:
        return [(day, second, self.row(status, day, second)) for day, second, status in self.statuses]

    def row(self, status: str, day: date, second: int) -> dict:
        return dict(
            claim_id=self.claim_id,
            person_key=self.person.key,
            workplace_id=self.workplace.workplace_id,
            separation_code=self.separation_code,
            filed_on=self.filed_on.isoformat(),
            eligible_from=self.eligible_from.isoformat(),
            benefit_days=str(self.benefit_days),
            daily_amount=str(self.daily_amount),
            bank_account_key=self.bank_account_key,
            status=status,
            updated_at=_stamp(day, second),
        )

    @staticmethod
    def closing_second(last: "Cert") -> int:
        """When the office closes a claim on its last certification's day: ten minutes
        after that certification."""
        return min(last.second + 600, 86_399)

    def restamp_closing(self) -> None:
        """After a plant re-times the certifications: a closing status dated on the last
        certification's day follows it again (a claim never closes before it is certified
        for the last time)."""
        if not self.certs:
            return
        last = self.certs[-1]
        self.statuses = [
            (day, Claim.closing_second(last) if day == last.cert_on and status in CLOSING else second, status)
            for day, second, status in self.statuses
        ]

    def status_on(self, day: date) -> str | None:
        current = None
        for version_day, _, status in self.statuses:
            if version_day <= day:
                current = status
        return current


@dataclass(eq=False)
class Statement:
    """An NTS income statement planted by a scenario (ordinary wages are streamed)."""

    person: Person
    payer_business_no: str
    income_type: str
    work_from: date
    work_to: date
    work_days: int | None
    amount: int
    filed_on: date
    second: int


@dataclass(eq=False)
class Crossing:
    person: Person
    day: date
    second: int
    direction: str
    port_code: str
    country: str
    bad_kind: str | None = None  # delivered as a bad row (the missing IN)
    crossing_id: str = ""

    @property
    def crossed_at(self) -> str:
        return _stamp(self.day, self.second)

    def row(self) -> dict:
        return dict(
            crossing_id=self.crossing_id,
            person_key=self.person.key,
            crossed_at=self.crossed_at,
            direction=self.direction,
            port_code=self.port_code,
            country=self.country,
        )


@dataclass(eq=False)
class Finding:
    """A past fraud decision (부정수급 처분)."""

    person: Person
    claim: Claim | None
    workplace: Workplace | None
    fraud_type: str
    decided_on: date
    collusion: str
    second: int
    overpaid_amount: int = 0
    finding_id: str = ""

    def row(self) -> dict:
        return dict(
            finding_id=self.finding_id,
            person_key=self.person.key,
            claim_id=self.claim.claim_id if self.claim else "",
            workplace_id=self.workplace.workplace_id if self.workplace else "",
            fraud_type=self.fraud_type,
            decided_on=self.decided_on.isoformat(),
            overpaid_amount=str(self.overpaid_amount),
            collusion=self.collusion,
            updated_at=_stamp(self.decided_on, self.second),
        )


@dataclass
class Ring:
    ring_id: str
    workplaces: list
    persons: list
    claims: list


@dataclass(frozen=True)
class Plan:
    """How many cases of each kind a population gets. Minimums keep every kind present
    in a small landing; above them the counts grow with the population (per 1,000
    persons) so that planted fraud is about 1–2% of claims."""

    undeclared_work: int
    abroad: int
    false_separation_codes: int
    false_separation_rehire_same: int
    false_separation_rehire_related: int
    mass_layoffs: int
    mass_layoff_workers: tuple
    rings: int
    ring_workplaces: tuple
    ring_employees: tuple
    past_per_typology: int
    past_ghost_shells: int
    past_other: int
    past_cash_work: int
    cash_work: int
    new_findings: int
    repeat_suspected: int
    repeat_clean: int
    closures: int
    closure_workers: tuple
    seasonal: int
    part_time: int
    short_trips: int
    spouse_pairs: int
    missing_in: int

    @classmethod
    def for_population(cls, persons: int, days: int) -> "Plan":
        per_thousand = persons / 1000

        def at_least(minimum: int, rate: float) -> int:
            return max(minimum, round(rate * per_thousand))

        small = persons < 5000
        return cls(
            undeclared_work=at_least(4, 2.0),
            abroad=at_least(4, 1.2),
            false_separation_codes=at_least(1, 0.25),
            false_separation_rehire_same=at_least(1, 0.2),
            false_separation_rehire_related=at_least(1, 0.15),
            mass_layoffs=at_least(1, 0.02),
            mass_layoff_workers=(6, 7) if small else (6, 10),
            rings=at_least(1, 0.04),
            ring_workplaces=(3, 3) if small else (3, 6),
            ring_employees=(5, 5) if small else (5, 15),
            past_per_typology=at_least(1, 0.25),
            past_ghost_shells=at_least(1, 0.04),
            past_other=at_least(1, 0.1),
            past_cash_work=at_least(4, 2.5),
            cash_work=at_least(2, 0.6),
            new_findings=min(days, at_least(1, 0.05)),
            repeat_suspected=at_least(1, 0.15),
            repeat_clean=at_least(1, 0.15),
            closures=at_least(1, 0.02),
            closure_workers=(20, 23) if small else (20, 35),
            seasonal=at_least(2, 0.5),
            part_time=at_least(3, 1.2),
            short_trips=at_least(3, 1.2),
            spouse_pairs=at_least(1, 0.4),
            missing_in=at_least(1, 0.01),
        )


# ---------------------------------------------------------------------------------
# The world: population, workplaces, careers, claims
# ---------------------------------------------------------------------------------


class World:
    """Every record of the landing, before it is cut into drops.

    Built from (persons, seed, baseline, days); all dates lie between about three years
    before `baseline` and `final` (the last drop date). Records are plain objects; ids
    are assigned once everything exists (`number_records`), in time order."""

    def __init__(self, persons: int, seed: int, baseline: date, days: int):
        self.seed = seed
        self.baseline = baseline
        self.final = baseline + _days(days)
        self.days = days
        self.drop_dates = [baseline + _days(i) for i in range(days + 1)]
        self.history_start = _years_before(baseline, HISTORY_YEARS)
        self.rng = random.Random(f"{seed}:world")
        self.persons = [Person(i, _sha(f"{seed}:person:{i}"), _sha(f"{seed}:account:{i}")) for i in range(persons)]
        order = list(range(persons))
        self.rng.shuffle(order)
        self._free = order[::-1]  # persons not yet given a role, popped from the end
        self.workplaces: list[Workplace] = []
        self.ordinary: list[Workplace] = []
        self._ordinary_cumulative: list[float] = []
        self._old_workplaces: list[Workplace] = []
        self.spells: list[Spell] = []
        self.claims: list[Claim] = []
        self.crossings: list[Crossing] = []
        self.findings: list[Finding] = []
        self.rings: list[Ring] = []
        self.lookalikes: list[tuple[Claim, str]] = []
        self.closures: list[Workplace] = []
        self.missing_in: list[dict] = []
        self._workplace_ids: set[str] = set()
        self._business_nos: set[str] = set()
        self._representatives = 0
        self._accounts = 0

    # -- small draws ---------------------------------------------------------------

    def between(self, low: int, high: int) -> int:
        """A uniform integer in low..high inclusive."""
        return low + int(self.rng.random() * (high - low + 1))

    def office_second(self) -> int:
        return self.between(8 * 3600, 19 * 3600 - 1)

    def any_second(self) -> int:
        return self.between(6 * 3600, 23 * 3600 - 1)

    def take_person(self, role: str) -> Person:
        """A person not yet used by any scenario (raises when the population is too small)."""
        if not self._free:
            raise ValueError("population too small for the planted cases; use more persons")
        person = self.persons[self._free.pop()]
        person.role = role
        return person

    def fresh_representative(self) -> str:
        self._representatives += 1
        return _sha(f"{self.seed}:representative:{self._representatives}")

    def fresh_account(self, purpose: str) -> str:
        self._accounts += 1
        return _sha(f"{self.seed}:{purpose}-account:{self._accounts}")

    def fresh_workplace_id(self) -> str:
        while True:
            candidate = str(self.between(10**10, 10**11 - 1))
            if candidate not in self._workplace_ids:
                self._workplace_ids.add(candidate)
                return candidate

    def fresh_business_no(self) -> str:
        """A 10-digit business number no workplace or other payer uses."""
        while True:
            candidate = str(self.between(10**9, 10**10 - 1))
            if candidate not in self._business_nos:
                self._business_nos.add(candidate)
                return candidate

    def wage(self) -> int:
        return max(2_100_000, min(12_000_000, int(round(self.rng.lognormvariate(15.0, 0.33), -4))))

    # -- workplaces ----------------------------------------------------------------

    def region(self) -> Region:
        return REGIONS[bisect_right(REGION_CUMULATIVE, self.rng.random() * REGION_CUMULATIVE[-1])]

    def location(self, region: Region | None = None) -> tuple:
        region = region or self.region()
        rng = self.rng
        number = str(self.between(1, 999))
        if rng.random() < 0.3:
            number += f"-{self.between(1, 30)}"  # 부번: a building behind the main number
        return (
            region.code,
            rng.choice(region.districts),
            rng.choice(ROADS[region.code]),
            number,
            self.between(1, 15),
            self.between(1, 9),
        )

    @staticmethod
    def address(location: tuple, spelling: int) -> str:
        """The address of `location` as an employer might type it. Spelling 0:
        `서울특별시 강남구 테헤란로 123 4층`; 1: `서울시 강남구 테헤란로123, 402호`;
        2: `서울 강남구  테헤란로 123`."""
        code, district, road, number, floor, unit = location
        region = REGION_BY_CODE[code]
        if spelling == 0:
            return f"{region.full} {district} {road} {number} {floor}층"
        if spelling == 1:
            return f"{region.middle} {district} {road}{number}, {floor}0{unit}호"
        return f"{region.short} {district}  {road} {number}"

    def phone_parts(self, region_code: str) -> tuple:
        area = REGION_BY_CODE[region_code].area_code
        exchange = str(self.between(200, 999)) if self.rng.random() < 0.5 else str(self.between(2000, 9999))
        return (area, exchange, f"{self.between(0, 9999):04d}")

    @staticmethod
    def phone(parts: tuple, style: int) -> str:
        """`02-555-1234` (0), `025551234` (1) or `02 555 1234` (2)."""
        return ("-", "", " ")[style].join(parts)

    def workplace_name(self, trades: tuple[str, ...] = NAME_TRADES) -> str:
        rng = self.rng
        stem, trade = rng.choice(NAME_STEMS), rng.choice(trades)
        form = rng.random()
        if form < 0.35:
            return f"{stem}{trade}"
        if form < 0.6:
            return f"(주){stem}{trade}"
        if form < 0.8:
            return f"주식회사 {stem}{trade}"
        if form < 0.95:
            return f"{stem}{trade} {rng.choice(BRANCHES)}점"
        if form < 0.98:
            return f"(주){stem}{trade}, {rng.choice(BRANCHES)}지점"  # a comma: the field is quoted
        return f'"{stem}" {trade}'  # quotes typed by the employer: doubled in the file

    def new_workplace(
        self,
        opened_on: date,
        *,
        kind: str = "ordinary",
        name: str | None = None,
        location: tuple | None = None,
        spelling: int | None = None,
        representative_key: str | None = None,
        phone_parts: tuple | None = None,
        phone_style: int | None = None,
        bank_account_key: str | None = None,
        industry_code: str | None = None,
        with_bank: bool = True,
    ) -> Workplace:
        rng = self.rng
        location = location or self.location()
        if spelling is None:
            spelling = 0 if rng.random() < 0.8 else self.between(1, 2)
        address = self.address(location, spelling)
        if kind == "ordinary" and rng.random() < 0.002:
            address = address.replace(f" {location[3]} ", f" {location[3]}\n", 1)  # typed with a line break
        if phone_parts is None and rng.random() < 0.92:
            phone_parts = self.phone_parts(location[0])
        if phone_style is None:
            phone_style = 0 if rng.random() < 0.75 else self.between(1, 2)
        if bank_account_key is None and with_bank and rng.random() < 0.85:
            bank_account_key = self.fresh_account("workplace")
        workplace = Workplace(
            workplace_id=self.fresh_workplace_id(),
            business_no=self.fresh_business_no(),
            name=name or self.workplace_name(),
            representative_key=representative_key or self.fresh_representative(),
            location=location,
            address=address,
            phone_parts=phone_parts,
            phone=self.phone(phone_parts, phone_style) if phone_parts else None,
            bank_account_key=bank_account_key,
            industry_code=industry_code or rng.choice(INDUSTRIES),
            opened_on=opened_on,
            reported_second=self.office_second(),
            kind=kind,
        )
        self.workplaces.append(workplace)
        return workplace

    def build_workplaces(self, count: int) -> None:
        """The ordinary insured workplaces new spells are drawn from (weighted by size):
        most old, some young; a few owned by the same representative as another."""
        history_start = self.history_start
        size_cap = min(300.0, max(8.0, count / 20))  # no single employer of half a small population
        for i in range(count):
            age = self.rng.random()
            if age < 0.7:
                opened = history_start - _days(self.between(6100, 12000))
            elif age < 0.9:
                opened = history_start - _days(self.between(1, 6099))
            else:
                opened = history_start + _days(self.between(0, (self.final - history_start).days - 60))
            representative = None
            if self.ordinary and self.rng.random() < 0.03:
                representative = self.rng.choice(self.ordinary).representative_key
            workplace = self.new_workplace(opened, representative_key=representative)
            if i == 1 and "\n" not in workplace.address:
                street, floor = self.address(workplace.location, 0).rsplit(" ", 1)
                workplace.address = f"{street}\n{floor}"  # typed with a line break before the floor
            workplace.weight = min(size_cap, self.rng.paretovariate(1.1))
            self.ordinary.append(workplace)
        self._ordinary_cumulative = list(accumulate(w.weight for w in self.ordinary))
        self._old_workplaces = [w for w in self.ordinary if w.opened_on <= history_start - _days(6100)]

    def pick_workplace(self, on: date, excluded_representatives: set[str] | frozenset = frozenset()) -> Workplace:
        """An ordinary workplace open on `on`, owned by none of the excluded representatives."""
        total = self._ordinary_cumulative[-1]
        for _ in range(12):
            workplace = self.ordinary[bisect_right(self._ordinary_cumulative, self.rng.random() * total)]
            if workplace.opened_on <= on and workplace.representative_key not in excluded_representatives:
                return workplace
        start = self.between(0, len(self._old_workplaces) - 1)
        for offset in range(len(self._old_workplaces)):
            workplace = self._old_workplaces[(start + offset) % len(self._old_workplaces)]
            if workplace.representative_key not in excluded_representatives:
                return workplace
        raise ValueError("no workplace left to hire")

    # -- spells and claims ---------------------------------------------------------

    def add_spell(
        self,
        person: Person,
        workplace: Workplace,
        acquired_on: date,
        lost_on: date | None,
        code: str | None,
        *,
        wage: int | None = None,
        taxed: bool = True,
    ) -> Spell:
        reported = acquired_on + _days(self.between(0, 14))
        loss_reported = None
        if lost_on is not None:
            loss_day = max(lost_on + _days(self.between(1, 10)), reported + ONE_DAY)
            loss_reported = (loss_day, self.office_second())
        spell = Spell(
            person,
            workplace,
            acquired_on,
            lost_on,
            code if lost_on else None,
            wage or self.wage(),
            (reported, self.office_second()),
            loss_reported,
            taxed,
        )
        person.spells.append(spell)
        self.spells.append(spell)
        return spell

    @staticmethod
    def benefit_days_for(tenure_days: int, older: bool) -> int:
        """소정급여일수 by insured tenure (and age 50+), 120..270."""
        if tenure_days < 365:
            days = 120
        elif tenure_days < 3 * 365:
            days = 150
        elif tenure_days < 5 * 365:
            days = 180
        elif tenure_days < 10 * 365:
            days = 210
        else:
            days = 240
        return min(270, days + (30 if older else 0))

    @staticmethod
    def daily_amount_for(monthly_wage: int) -> int:
        """60% of the average daily wage, between the floor and the cap."""
        return max(50_000, min(66_000, round(monthly_wage * 12 / 365 * 0.6)))

    def channel(self, first: bool) -> tuple[str, str | None]:
        draw = self.rng.random()
        if (first and draw < 0.5) or (not first and draw < 0.1):
            return "VISIT", None
        return ("ONLINE" if draw < 0.7 else "MOBILE"), "KR"

    def add_claim(
        self,
        spell: Spell,
        *,
        code: str | None = None,
        benefit_days: int | None = None,
        reemployed_after: int | None | str = "random",
        bank_account_key: str | None = None,
        filed_on: date | None = None,
    ) -> Claim | None:
        """A claim after `spell` ended, with its certifications up to the final date.

        reemployed_after: a number of four-week periods after which the claimant takes a
        job (status TERMINATED), None to run until the benefit days are used (EXHAUSTED),
        or "random". Returns None when the claim would be filed after the final date."""
        rng = self.rng
        lost = spell.lost_on
        if filed_on is None:
            filed_on = lost + _days(self.between(3, 21))
        filed_on = max(filed_on, spell.loss_reported[0] + ONE_DAY)
        if filed_on > self.final:
            return None
        tenure = (lost - spell.acquired_on).days + 1
        benefit_days = benefit_days or self.benefit_days_for(tenure, rng.random() < 0.3)
        eligible_from = filed_on + _days(WAITING_DAYS)
        chunks = [min(CERT_PERIOD_DAYS, benefit_days - start) for start in range(0, benefit_days, CERT_PERIOD_DAYS)]
        if reemployed_after == "random":
            reemployed_after = self.between(1, len(chunks) - 1) if len(chunks) > 1 and rng.random() < 0.5 else None
        reemployed = reemployed_after is not None and reemployed_after < len(chunks)
        if reemployed:
            chunks = chunks[:reemployed_after]
        approved_on = filed_on + _days(self.between(4, 12))
        claim = Claim(
            person=spell.person,
            spell=spell,
            workplace=spell.workplace,
            separation_code=code or spell.separation_code,
            filed_on=filed_on,
            eligible_from=eligible_from,
            benefit_days=benefit_days,
            daily_amount=self.daily_amount_for(spell.monthly_wage),
            bank_account_key=bank_account_key or spell.person.account,
            statuses=[(filed_on, self.office_second(), "FILED")],
            planned_end=eligible_from + _days(sum(chunks) - 1),
            reemployed=reemployed,
        )
        if approved_on <= self.final:
            claim.statuses.append((approved_on, self.office_second(), "APPROVED"))
        period_from = eligible_from
        for index, paid_days in enumerate(chunks):
            period_to = period_from + _days(paid_days - 1)
            cert_on = period_to + ONE_DAY
            if rng.random() < 0.08:
                cert_on += _days(self.between(1, 4))  # certified a few days late
            if cert_on > self.final:
                break
            channel, ip_country = self.channel(index == 0)
            claim.certs.append(
                Cert(
                    claim,
                    cert_on,
                    period_from,
                    period_to,
                    channel,
                    ip_country,
                    self.between(1, 2) if channel == "VISIT" else self.between(1, 4),
                    0,
                    paid_days,
                    paid_days * claim.daily_amount,
                    self.office_second() if channel == "VISIT" else self.any_second(),
                )
            )
            period_from = period_to + ONE_DAY
        if len(claim.certs) == len(chunks) and chunks:
            last = claim.certs[-1]
            closing_day = max(last.cert_on, approved_on + ONE_DAY)
            if closing_day <= self.final:
                claim.statuses.append(
                    (closing_day, Claim.closing_second(last), "TERMINATED" if reemployed else "EXHAUSTED")
                )
        spell.person.claims.append(claim)
        self.claims.append(claim)
        return claim

    def add_rejected_claim(self, spell: Spell) -> None:
        filed_on = max(spell.lost_on + _days(self.between(3, 21)), spell.loss_reported[0] + ONE_DAY)
        rejected_on = filed_on + _days(self.between(5, 15))
        if rejected_on > self.final:
            return
        claim = Claim(
            person=spell.person,
            spell=spell,
            workplace=spell.workplace,
            separation_code=spell.separation_code,
            filed_on=filed_on,
            eligible_from=filed_on + _days(WAITING_DAYS),
            benefit_days=self.benefit_days_for((spell.lost_on - spell.acquired_on).days + 1, False),
            daily_amount=self.daily_amount_for(spell.monthly_wage),
            bank_account_key=spell.person.account,
            statuses=[(filed_on, self.office_second(), "FILED"), (rejected_on, self.office_second(), "REJECTED")],
            planned_end=filed_on,
            reemployed=False,
        )
        spell.person.claims.append(claim)
        self.claims.append(claim)

    def spell_length(self) -> int:
        draw = self.rng.random()
        if draw < 0.3:
            return self.between(60, 400)
        if draw < 0.8:
            return self.between(365, 1500)
        return self.between(1500, 5000)

    def separation_code(self) -> str:
        return SEPARATION_WEIGHTS[bisect_right(SEPARATION_CUMULATIVE, self.rng.random() * SEPARATION_CUMULATIVE[-1])][0]

    def career(self, person: Person) -> None:
        """An ordinary working life over the history window: spells at ordinary
        workplaces, a claim after most eligible separations, re-employment elsewhere."""
        rng, start, final = self.rng, self.history_start, self.final
        if rng.random() < 0.8:
            acquired = start - _days(self.between(30, 6000))
        else:
            acquired = start + _days(self.between(0, 600))
        excluded: set[str] = set()
        while acquired < final:
            workplace = self.pick_workplace(acquired, excluded)
            excluded.add(workplace.representative_key)
            lost = acquired + _days(self.spell_length() - 1)
            if lost < start:
                lost = start + _days(self.between(0, 700))
            if lost >= final - _days(2):
                self.add_spell(person, workplace, acquired, None, None)
                return
            code = self.separation_code()
            spell = self.add_spell(person, workplace, acquired, lost, code)
            tenure = (lost - acquired).days + 1
            claim = None
            if code in ELIGIBLE and tenure >= 180 and rng.random() < 0.7:
                claim = self.add_claim(spell)
            elif tenure >= 180 and rng.random() < 0.02:
                self.add_rejected_claim(spell)
            if claim is not None and claim.reemployed:
                acquired = claim.planned_end + _days(self.between(1, 10))
            elif claim is not None:
                acquired = claim.planned_end + _days(self.between(10, 240))
            else:
                acquired = lost + _days(self.between(1, 200))

    def prehistory(self, person: Person, until: date, excluded: set[str] | frozenset = frozenset()) -> None:
        """Usually one ordinary spell (quit, no claim) ending on `until`."""
        if until - self.history_start < _days(200) or self.rng.random() < 0.25:
            return
        acquired = until - _days(self.between(200, 1500))
        self.add_spell(person, self.pick_workplace(acquired, excluded), acquired, until, "11")

    def settle(self, person: Person, after: date) -> None:
        """An open ordinary spell starting some weeks after `after`, if before the end."""
        acquired = after + _days(self.between(10, 90))
        if acquired < self.final - _days(20):
            excluded = {s.workplace.representative_key for s in person.spells}
            self.add_spell(person, self.pick_workplace(acquired, excluded), acquired, None, None)

    def claim_after_spell(
        self,
        person: Person,
        *,
        lost_on: date,
        tenure: int,
        code: str = "23",
        claim_code: str | None = None,
        workplace: Workplace | None = None,
        benefit_days: int | None = None,
        reemployed_after: int | None | str = None,
        wage: int | None = None,
        taxed: bool = True,
        bank_account_key: str | None = None,
        with_prehistory: bool = True,
    ) -> Claim:
        """A spell of `tenure` days ending on `lost_on` (after an optional earlier job)
        and the claim that follows it."""
        acquired = lost_on - _days(tenure - 1)
        if workplace is None:
            workplace = self.pick_workplace(acquired)
        if with_prehistory:
            self.prehistory(person, acquired - _days(self.between(10, 120)), {workplace.representative_key})
        spell = self.add_spell(person, workplace, acquired, lost_on, code, wage=wage, taxed=taxed)
        claim = self.add_claim(
            spell,
            code=claim_code,
            benefit_days=benefit_days,
            reemployed_after=reemployed_after,
            bank_account_key=bank_account_key,
        )
        if claim is None:
            raise ValueError(f"claim after {lost_on} would be filed after the final date")
        return claim

    def current_claim(self, person: Person, *, min_certs: int = 2, **kwargs) -> Claim:
        """An open claim (or one that ended recently) with `min_certs` or more
        certifications delivered by the final date."""
        lost_on = kwargs.pop("lost_on", None)
        if lost_on is None:
            lost_on = self.final - _days(self.between(60 + 28 * min_certs, 200 + 28 * min_certs // 2))
        tenure = kwargs.pop("tenure", None) or self.between(400, 2500)
        benefit_days = kwargs.pop("benefit_days", None) or self.rng.choice((210, 240, 270))
        return self.claim_after_spell(person, lost_on=lost_on, tenure=tenure, benefit_days=benefit_days, **kwargs)

    # -- ids -----------------------------------------------------------------------

    def number_records(self) -> None:
        """Give every record its id, in time order (as an agency's sequence would)."""
        self.spells.sort(key=lambda s: (s.acquired_on, s.person.index))
        for n, spell in enumerate(self.spells, 1):
            spell.employment_id = f"EMP{n:010d}"
        self.claims.sort(key=lambda c: (c.filed_on, c.person.index))
        certs = []
        for n, claim in enumerate(self.claims, 1):
            claim.claim_id = f"CLM{n:010d}"
            certs.extend(claim.certs)
        certs.sort(key=lambda c: (c.cert_on, c.second, c.claim.claim_id))
        for n, cert in enumerate(certs, 1):
            cert.cert_id = f"CRT{n:010d}"
        self.findings.sort(key=lambda f: (f.decided_on, f.person.index))
        for n, finding in enumerate(self.findings, 1):
            finding.finding_id = f"FND{n:08d}"
        self.crossings.sort(key=lambda x: (x.day, x.second, x.person.index, x.direction))
        for n, crossing in enumerate(self.crossings, 1):
            crossing.crossing_id = f"MOJ{n:011d}"
        for person in self.persons:
            person.crossings.sort(key=lambda x: (x.day, x.second, x.crossing_id))


# ---------------------------------------------------------------------------------
# Planted cases
# ---------------------------------------------------------------------------------


class _Planter:
    """Plants the typologies of DOMAIN.md and their look-alikes into a World."""

    def __init__(self, world: World, plan: Plan):
        self.world = world
        self.plan = plan
        self.rng = world.rng
        self.variant = 0

    # -- evidence: income statements -------------------------------------------------

    def _statement(
        self,
        person: Person,
        payer: str,
        income_type: str,
        work_from: date,
        work_to: date,
        work_days: int | None,
        amount: int,
        filed_on: date,
    ) -> Statement:
        statement = Statement(
            person, payer, income_type, work_from, work_to, work_days, amount, filed_on, self.world.office_second()
        )
        person.planted_statements.append(statement)
        return statement

    def _filing_day(self, earliest: date, latest: date, prefer: date | None) -> date | None:
        """A filing day in earliest..latest, `prefer` when it fits."""
        if earliest > latest:
            return None
        if prefer is not None and earliest <= prefer <= latest:
            return prefer
        return earliest + _days(self.world.between(0, min(26, (latest - earliest).days)))

    def _other_payer(self, person: Person, insured: bool, on: date) -> str:
        if not insured:
            return self.world.fresh_business_no()  # a business that never insured anyone
        excluded = {s.workplace.representative_key for s in person.spells}
        return self.world.pick_workplace(on, excluded).business_no

    def short_work(
        self, cert: Cert, deadline: date, *, income_type: str, insured: bool, prefer_filing: date | None = None
    ) -> Statement | None:
        """A few days of daily-wage or business work inside the certified period."""
        world = self.world
        period_days = (cert.period_to - cert.period_from).days + 1
        length = world.between(3, min(8, period_days))
        work_from = cert.period_from + _days(world.between(0, period_days - length))
        work_to = work_from + _days(length - 1)
        filed_on = self._filing_day(work_to + _days(14), min(deadline, work_to + _days(45)), prefer_filing)
        if filed_on is None:
            return None
        if income_type == "DAILY_WAGE":
            work_days = length if self.rng.random() < 0.7 else max(2, length - 1)
            amount = work_days * world.between(110, 170) * 1000
        else:
            work_days = None
            amount = world.between(40, 200) * 10_000
        payer = self._other_payer(cert.claim.person, insured, work_from)
        return self._statement(cert.claim.person, payer, income_type, work_from, work_to, work_days, amount, filed_on)

    def month_of_work(
        self, cert: Cert, deadline: date, *, insured: bool, prefer_filing: date | None = None
    ) -> Statement | None:
        """A monthly WAGE statement for part-time work (fewer days than the month) in the
        month around the middle of the certified period."""
        world = self.world
        month = _month_start(cert.period_from + _days(14))
        month_end = _month_end(month)
        filed_on = self._filing_day(month_end + _days(7), min(deadline, _month_end(_next_month(month))), prefer_filing)
        if filed_on is None:
            return None
        work_days = world.between(8, month_end.day - 4)
        amount = work_days * world.between(90, 140) * 1000
        payer = self._other_payer(cert.claim.person, insured, month)
        return self._statement(cert.claim.person, payer, "WAGE", month, month_end, work_days, amount, filed_on)

    def undeclared_work(self, claim: Claim, deadline: date, prefer_filing: date | None = None) -> bool:
        """Work the claimant did not declare, shown by statements filed weeks later (by
        `deadline`). The variants rotate: daily wages from an insured workplace that did
        not report the job, a month of part-time wages from a business that insures no
        one, business (freelance) income, a month from an insured workplace, and two
        stints of daily work in successive periods."""
        candidates = [c for c in claim.certs[1:] if c.period_to + _days(21) <= deadline] or [
            c for c in claim.certs if c.period_to + _days(21) <= deadline
        ]
        if not candidates:
            log.warning("claim of person %d: no certification early enough for income evidence", claim.person.index)
            return False
        if prefer_filing is not None:
            cert = candidates[-1]
        else:
            cert = candidates[self.world.between(0, min(2, len(candidates) - 1))]
        variant = self.variant % 5
        self.variant += 1
        if variant == 0:
            made = self.short_work(cert, deadline, income_type="DAILY_WAGE", insured=True, prefer_filing=prefer_filing)
        elif variant == 1:
            made = self.month_of_work(cert, deadline, insured=False, prefer_filing=prefer_filing)
        elif variant == 2:
            made = self.short_work(cert, deadline, income_type="BUSINESS", insured=False, prefer_filing=prefer_filing)
        elif variant == 3:
            made = self.month_of_work(cert, deadline, insured=True, prefer_filing=prefer_filing)
        else:
            made = self.short_work(cert, deadline, income_type="DAILY_WAGE", insured=False, prefer_filing=prefer_filing)
            later = [c for c in candidates if c.period_from > cert.period_to]
            if made is not None and later:
                self.short_work(later[0], deadline, income_type="DAILY_WAGE", insured=True)
        if made is None:
            log.warning("claim of person %d: income evidence would be filed too late", claim.person.index)
            return False
        claim.intended.add(UNDECLARED_WORK)
        return True

    # -- evidence: trips -------------------------------------------------------------

    def _trip(
        self, person: Person, out_day: date, out_second: int, in_day: date | None, in_second: int, country: str
    ) -> tuple[Crossing, Crossing | None]:
        world = self.world
        port = self.rng.choice(PORTS)
        out = Crossing(person, out_day, out_second, "OUT", port, country)
        back = None
        if in_day is not None and in_day <= world.final:
            back = Crossing(person, in_day, in_second, "IN", self.rng.choice(PORTS), country)
        for crossing in (out, back):
            if crossing is not None:
                world.crossings.append(crossing)
                person.crossings.append(crossing)
        return out, back

    def abroad(self, claim: Claim, open_allowed: bool = True) -> bool:
        """A trip abroad covering a certification day, certified online or by mobile:
        from the trip's country for some variants, from a Korean IP (VPN) for others.
        Variants: a trip around one certification, a long stay over two, a trip still
        going on the final date, a departure on the evening of the certification day."""
        world, rng = self.world, self.rng
        person = claim.person
        person.random_trips = False
        certs = claim.certs
        if not certs:
            return False
        variant = self.variant % 5
        self.variant += 1
        if variant == 3 and not open_allowed:
            variant = 0
        country = rng.choice(TRIP_COUNTRIES)
        index = world.between(1, len(certs) - 1) if len(certs) > 1 else 0
        if variant == 3:
            index = len(certs) - 1
        cert = certs[index]
        out_day = cert.cert_on - _days(world.between(1, 6))
        out_day = max(out_day, cert.period_from + ONE_DAY)
        out_second = world.between(7 * 3600, 21 * 3600)
        in_day = cert.cert_on + _days(world.between(1, 8))
        if variant == 2 and index + 1 < len(certs):
            in_day = certs[index + 1].cert_on + _days(world.between(1, 5))
        elif variant == 3:
            in_day = world.final + _days(world.between(3, 20))  # not back yet: no IN delivered
        elif variant == 4:
            out_day, out_second = cert.cert_on, world.between(20 * 3600, 23 * 3600)
            cert.second = world.between(8 * 3600, 11 * 3600)  # certified in the morning, left at night
            in_day = cert.cert_on + _days(world.between(3, 8))
        vpn = variant in (1, 4) or (variant == 3 and self.rng.random() < 0.5)
        for other in certs:
            if out_day <= other.cert_on <= in_day:
                other.channel = "ONLINE" if rng.random() < 0.6 else "MOBILE"
                other.ip_country = "KR" if vpn else country
                if other is not cert or variant != 4:
                    other.second = world.any_second()
        claim.restamp_closing()
        self._trip(person, out_day, out_second, in_day, world.between(5 * 3600, 23 * 3600), country)
        claim.intended.add(ABROAD_CERTIFICATION)
        return True

    # -- current typologies ------------------------------------------------------------

    def plant_current_undeclared_work(self) -> None:
        world = self.world
        for i in range(self.plan.undeclared_work):
            person = world.take_person("undeclared_work")
            claim = world.current_claim(person, min_certs=3)
            prefer = world.drop_dates[1 + i % world.days] if world.days and i < 2 * world.days else None
            self.undeclared_work(claim, world.final, prefer)

    def plant_current_abroad(self) -> None:
        world = self.world
        for _ in range(self.plan.abroad):
            person = world.take_person("abroad")
            self.abroad(world.current_claim(person, min_certs=3))

    def plant_false_separation(self) -> None:
        """Codes that disagree (the employer reported a voluntary quit, the claim says
        layoff), rehiring by the same or a sister workplace (same representative) soon
        after the benefit, and workplaces laying many off under 23 while hiring."""
        world, plan = self.world, self.plan
        for _ in range(plan.false_separation_codes):
            claim = world.current_claim(world.take_person("false_separation"), code="11", claim_code="23")
            claim.whole_claim.add(FALSE_SEPARATION)
        for i in range(plan.false_separation_rehire_same + plan.false_separation_rehire_related):
            person = world.take_person("false_separation")
            lost_on = world.final - _days(world.between(150, 230))
            claim = world.claim_after_spell(
                person,
                lost_on=lost_on,
                tenure=world.between(400, 2000),
                benefit_days=world.rng.choice((180, 210, 240)),
                reemployed_after=world.between(1, 3),
            )
            former = claim.workplace
            rehired_on = min(claim.planned_end + _days(world.between(3, 20)), world.final - _days(16))
            if i < plan.false_separation_rehire_same:
                rehiring = former
            else:
                opened = min(former.opened_on + _days(world.between(100, 1500)), rehired_on - _days(30))
                rehiring = world.new_workplace(opened, kind="sister", representative_key=former.representative_key)
            world.add_spell(person, rehiring, rehired_on, None, None, wage=claim.spell.monthly_wage)
            claim.whole_claim.add(FALSE_SEPARATION)
        for _ in range(plan.mass_layoffs):
            self._mass_layoff()

    def _mass_layoff(self) -> None:
        world = self.world
        workplace = world.pick_workplace(world.history_start - _days(2000))
        layoff_day = world.final - _days(world.between(150, 190))
        for _ in range(world.between(*self.plan.mass_layoff_workers)):
            person = world.take_person("false_separation")
            claim = world.current_claim(
                person,
                workplace=workplace,
                lost_on=layoff_day + _days(world.between(0, 25)),
                tenure=world.between(300, 2000),
            )
            claim.whole_claim.add(FALSE_SEPARATION)
        for _ in range(world.between(3, 5)):
            person = world.take_person("mass_layoff_hire")
            hired_on = layoff_day + _days(world.between(0, 45))
            world.prehistory(person, hired_on - _days(world.between(10, 60)), {workplace.representative_key})
            world.add_spell(person, workplace, hired_on, None, None)

    def plant_rings(self) -> None:
        for number in range(1, self.plan.rings + 1):
            self._ring(f"RING-{number:02d}")

    def _ring(self, ring_id: str) -> None:
        """Shell workplaces linked in a chain, each to the previous one by a shared
        representative, address (spelled differently), phone (formatted differently) or
        bank account; 'employees' registered 181–200 days then laid off under 23, with
        wages reported but never a tax statement; claims paid into shared accounts; some
        employees rotate from one shell to the next."""
        world, plan = self.world, self.plan
        base_day = world.final - _days(world.between(720, 780))
        shells: list[Workplace] = []
        spellings: list[int] = []
        phone_styles: list[int] = []
        for i in range(world.between(*plan.ring_workplaces)):
            link = ("representative", "address", "phone", "bank")[(i - 1) % 4] if i else None
            previous = shells[-1] if shells else None
            region = REGION_BY_CODE["11" if world.rng.random() < 0.6 else "41"]
            location, spelling = world.location(region), world.between(0, 2)
            phone_parts, phone_style = world.phone_parts(location[0]), world.between(0, 2)
            representative, bank = None, world.fresh_account("shell")
            if link == "representative":
                representative = previous.representative_key
            elif link == "address":
                location, spelling = previous.location, (spellings[-1] + 1) % 3
            elif link == "phone":
                phone_parts, phone_style = previous.phone_parts, (phone_styles[-1] + 1) % 3
            elif link == "bank":
                bank = previous.bank_account_key
            shell = world.new_workplace(
                base_day + _days(world.between(0, 40)),
                kind="shell",
                name=world.workplace_name(SHELL_TRADES),
                location=location,
                spelling=spelling,
                representative_key=representative,
                phone_parts=phone_parts,
                phone_style=phone_style,
                bank_account_key=bank,
                industry_code=world.rng.choice(("74", "75", "41")),
            )
            shells.append(shell)
            spellings.append(spelling)
            phone_styles.append(phone_style)
        ring = Ring(ring_id, shells, [], [])
        accounts = [world.fresh_account("broker") for _ in range(max(1, len(shells) - 1))]
        for i, shell in enumerate(shells):
            for _ in range(world.between(*plan.ring_employees)):
                person = world.take_person("ghost")
                ring.persons.append(person)
                rotating = i > 0 and world.rng.random() < 0.3
                if rotating:
                    first_shell = shells[i - 1]
                    acquired = first_shell.opened_on + _days(world.between(5, 20))
                else:
                    first_shell = shell
                    latest = min(base_day + _days(420), world.final - _days(270))
                    acquired = max(shell.opened_on + ONE_DAY, latest - _days(world.between(0, 220)))
                world.prehistory(person, acquired - _days(world.between(10, 90)))
                claim = self._ghost_claim(person, first_shell, acquired, accounts)
                ring.claims.append(claim)
                if rotating:
                    acquired = claim.planned_end + _days(world.between(3, 15))
                    ring.claims.append(self._ghost_claim(person, shell, acquired, accounts))
        for claim in ring.claims:
            claim.ring_id = ring_id
        world.rings.append(ring)

    def _ghost_claim(self, person: Person, shell: Workplace, acquired: date, accounts: list[str]) -> Claim:
        world = self.world
        lost = acquired + _days(world.between(181, 200) - 1)
        spell = world.add_spell(person, shell, acquired, lost, "23", wage=world.between(290, 340) * 10_000, taxed=False)
        shared = accounts[world.between(0, len(accounts) - 1)] if world.rng.random() < 0.6 else None
        claim = world.add_claim(spell, benefit_days=120, reemployed_after=None, bank_account_key=shared)
        if claim is None:
            raise ValueError("ghost claim would be filed after the final date")
        claim.whole_claim.add(GHOST_EMPLOYMENT)
        return claim

    # -- past cases and repeat offenders -------------------------------------------------

    def _finding(
        self, claim: Claim, fraud_type: str, decided_on: date, collusion: str = "N", workplace: Workplace | None = None
    ) -> Finding:
        finding = Finding(claim.person, claim, workplace, fraud_type, decided_on, collusion, self.world.office_second())
        claim.finding = finding
        claim.past = True
        self.world.findings.append(finding)
        return finding

    def _past_claim(self, role: str, *, code: str = "23", claim_code: str | None = None, earliest: int = 650) -> Claim:
        world = self.world
        person = world.take_person(role)
        lost_on = world.baseline - _days(world.between(earliest, 900))
        return world.claim_after_spell(
            person,
            lost_on=lost_on,
            tenure=world.between(400, 1800),
            code=code,
            claim_code=claim_code,
            benefit_days=world.rng.choice((150, 180)),
        )

    def _decision_day(self, claim: Claim, evidence_day: date) -> date:
        world = self.world
        decided = max(evidence_day, claim.planned_end) + _days(world.between(60, 150))
        return min(decided, world.baseline - ONE_DAY)

    def plant_past_cases(self) -> list[Claim]:
        """Past claims already decided in ei/findings: undeclared work, abroad, false
        separation, ghost employment (a shell with three claimants) and OTHER; some
        findings arrive in the delta drops. Returns the claims whose findings were decided
        before the baseline (candidates for repeat offenders)."""
        world, plan = self.world, self.plan
        decided_before_baseline: list[Claim] = []
        for i in range(2 * plan.past_per_typology + plan.new_findings):
            claim = self._past_claim("past_undeclared_work" if i % 2 == 0 else "past_abroad")
            planted = (
                self.undeclared_work(claim, claim.planned_end + _days(60))
                if i % 2 == 0
                else self.abroad(claim, open_allowed=False)
            )
            if not planted:
                continue
            evidence = max(
                [s.filed_on for s in claim.person.planted_statements]
                + [x.day for x in claim.person.crossings]
                + [claim.planned_end]
            )
            fraud_type = UNDECLARED_WORK if i % 2 == 0 else ABROAD_CERTIFICATION
            if i < plan.new_findings:
                self._finding(claim, fraud_type, world.drop_dates[1 + i])
            else:
                self._finding(claim, fraud_type, self._decision_day(claim, evidence))
                decided_before_baseline.append(claim)
        for _ in range(plan.past_per_typology):
            claim = self._past_claim("past_false_separation", code="11", claim_code="23")
            claim.whole_claim.add(FALSE_SEPARATION)
            self._finding(claim, FALSE_SEPARATION, self._decision_day(claim, claim.planned_end), "Y", claim.workplace)
            decided_before_baseline.append(claim)
        for _ in range(plan.past_ghost_shells):
            opened = world.baseline - _days(world.between(950, 1050))
            shell = world.new_workplace(
                opened, kind="shell", name=world.workplace_name(SHELL_TRADES), industry_code="75"
            )
            for _ in range(3):
                person = world.take_person("past_ghost")
                acquired = opened + _days(world.between(10, 40))
                world.prehistory(person, acquired - _days(world.between(10, 90)))
                claim = self._ghost_claim(person, shell, acquired, [person.account])
                self._finding(claim, GHOST_EMPLOYMENT, self._decision_day(claim, claim.planned_end), "Y", shell)
                decided_before_baseline.append(claim)
        for _ in range(plan.past_other):
            claim = self._past_claim("past_other")
            finding = self._finding(claim, "OTHER", self._decision_day(claim, claim.planned_end))
            claim.past = False  # an OTHER finding plants no typology of the cross-match
            finding.overpaid_amount = claim.certs[-1].paid_amount if claim.certs else 500_000
            decided_before_baseline.append(claim)
        return decided_before_baseline

    def plant_repeat_offenders(self, past: list[Claim]) -> None:
        """Persons with earlier findings who now have an open claim: some suspected again
        (undeclared work or abroad), some clean. Everyone else found in the past works."""
        world, plan = self.world, self.plan
        repeaters = past[: plan.repeat_suspected + plan.repeat_clean]
        for i, old in enumerate(repeaters):
            person = old.person
            acquired = old.planned_end + _days(world.between(20, 60))
            lost_on = world.final - _days(world.between(140, 200))
            excluded = {s.workplace.representative_key for s in person.spells}
            workplace = world.pick_workplace(acquired, excluded)
            spell = world.add_spell(person, workplace, acquired, lost_on, world.rng.choice(("23", "12", "32")))
            claim = world.add_claim(spell, benefit_days=world.rng.choice((210, 240)), reemployed_after=None)
            person.role = "repeat_offender"
            if i < plan.repeat_suspected:
                if i % 2 == 0:
                    self.undeclared_work(claim, world.final)
                else:
                    self.abroad(claim)
        for old in past[len(repeaters) :]:
            if all(s.lost_on is not None for s in old.person.spells):
                world.settle(old.person, old.planned_end)

    # -- fraud no feed shows ---------------------------------------------------------------

    def plant_cash_work(self) -> None:
        """Undeclared work paid in cash: no income statement is ever filed, so no feed
        shows it and no rule can find it. Investigators find some of it (tip-offs, site
        visits): past claims with an UNDECLARED_WORK finding and no evidence in nts;
        current ones are still open and undecided (truth "unevidenced").

        In this world the people who do it are serial claimants (an earlier claim a year
        or two before), qualify with a short spell (190-330 days), always certify online
        or by mobile, and a third of them were found doing it before. Honest claimants
        share each trait (ordinary careers claim again, spells are short, remote
        certification is the norm), so the traits rank, they do not prove: what the
        model can learn from past findings and the rules cannot use."""
        world, plan = self.world, self.plan
        for i in range(plan.past_cash_work + plan.cash_work):
            current = i >= plan.past_cash_work
            person = world.take_person("cash_work" if current else "past_cash_work")
            if current:
                lost_on = world.final - _days(world.between(144, 242))
            else:
                lost_on = world.baseline - _days(world.between(300, 750))  # decided over the last ~1.5 years
            tenure = world.between(190, 330)
            acquired = lost_on - _days(tenure - 1)
            earlier = world.claim_after_spell(
                person,
                lost_on=acquired - _days(world.between(160, 220)),
                tenure=world.between(200, 500),
                code=world.rng.choice(("23", "12", "32")),
                benefit_days=120,
                reemployed_after=None,
            )
            repeat = i % 3 == 0
            if repeat:
                self._cash_work(earlier)
                self._finding(
                    earlier,
                    UNDECLARED_WORK,
                    min(earlier.planned_end + _days(world.between(60, 120)), acquired - ONE_DAY),
                )
            claim = world.claim_after_spell(
                person,
                lost_on=lost_on,
                tenure=tenure,
                code=world.rng.choice(("23", "12", "32")),
                benefit_days=world.rng.choice((150, 180, 210)) if current else 150,
                reemployed_after=None,
                with_prehistory=False,
            )
            self._cash_work(claim)
            if not current:
                self._finding(claim, UNDECLARED_WORK, self._decision_day(claim, claim.planned_end))
            if all(s.lost_on is not None for s in person.spells) and not current:
                world.settle(person, claim.planned_end)

    def _cash_work(self, claim: Claim) -> None:
        """Cash work in every certified period after the first; every certification
        online or by mobile from Korea."""
        for cert in claim.certs:
            cert.channel = "ONLINE" if self.rng.random() < 0.5 else "MOBILE"
            cert.ip_country = "KR"
            cert.job_search_count = self.world.between(1, 2)
            cert.second = self.world.any_second()
        claim.cash_certs = claim.certs[1:] or claim.certs[:1]
        claim.restamp_closing()

    # -- look-alikes ---------------------------------------------------------------------

    def _lookalike(self, claim: Claim, kind: str) -> None:
        self.world.lookalikes.append((claim, kind))

    def plant_closures(self) -> None:
        """A real business closure: an old workplace, 20+ long-tenured workers laid off
        under 22 within a few weeks, closed_on set."""
        world = self.world
        for _ in range(self.plan.closures):
            closed_on = world.final - _days(world.between(90, 150))
            workplace = world.new_workplace(
                closed_on - _days(world.between(6700, 9500)),
                kind="closure",
                name=world.workplace_name(("정밀", "금속", "섬유", "기계", "인쇄")),
                industry_code=world.rng.choice(("25", "29", "13", "18")),
            )
            workplace.closed_on = closed_on
            workplace.closure_reported = (closed_on + _days(world.between(1, 10)), world.office_second())
            world.closures.append(workplace)
            for _ in range(world.between(*self.plan.closure_workers)):
                person = world.take_person("closure")
                claim = world.claim_after_spell(
                    person,
                    lost_on=closed_on - _days(world.between(0, 20)),
                    tenure=world.between(5 * 365, 18 * 365),
                    code="22",
                    workplace=workplace,
                    reemployed_after=None,
                    with_prehistory=False,
                    benefit_days=world.rng.choice((210, 240, 270)),
                )
                self._lookalike(claim, BUSINESS_CLOSURE)

    def plant_seasonal(self) -> None:
        """Seasonal workers: every April to October at the same farm or resort (end of
        a fixed-term contract, 32), an honest claim every winter, rehired each spring."""
        world = self.world
        last_season = world.final.year
        if date(last_season, 10, 31) > world.final - _days(70):
            last_season -= 1
        seasons = [last_season - 2, last_season - 1, last_season]
        employer = None
        for i in range(self.plan.seasonal):
            if i % 5 == 0:
                employer = world.new_workplace(
                    date(seasons[0] - world.between(3, 20), 3, 1),
                    kind="seasonal",
                    name=world.workplace_name(SEASONAL_TRADES),
                    location=world.location(REGION_BY_CODE[world.rng.choice(("50", "51", "46"))]),
                    industry_code=world.rng.choice(("01", "55")),
                )
            person = world.take_person("seasonal")
            world.prehistory(
                person, date(seasons[0], 3, 1) - _days(world.between(10, 60)), {employer.representative_key}
            )
            for year in seasons:
                acquired = date(year, 4, 1) + _days(world.between(0, 7))
                lost = date(year, 10, 31) - _days(world.between(0, 5))
                spell = world.add_spell(person, employer, acquired, lost, "32")
                claim = world.add_claim(
                    spell, filed_on=lost + _days(world.between(3, 12)), benefit_days=120, reemployed_after=None
                )
                if claim is not None:
                    self._lookalike(claim, SEASONAL_WORKER)

    def plant_part_time(self) -> None:
        """Claimants who declare their part-time income: a daily-wage statement inside a
        period, declared_income equal to it, those days not paid."""
        world = self.world
        for i in range(self.plan.part_time):
            person = world.take_person("part_time")
            claim = world.current_claim(person, min_certs=3)
            candidates = [c for c in claim.certs if c.period_to + _days(21) <= world.final]
            if not candidates:
                continue
            cert = candidates[-1]
            statement = self.short_work(cert, world.final, income_type="DAILY_WAGE", insured=i % 2 == 0)
            if statement is None:
                continue
            cert.declared_income = statement.amount
            cert.paid_days -= statement.work_days
            cert.paid_amount = cert.paid_days * claim.daily_amount
            self._lookalike(claim, DECLARED_PART_TIME)

    def plant_short_trips(self) -> None:
        """Short trips between two certification days; the first returns the evening
        before a certification day."""
        world = self.world
        for i in range(self.plan.short_trips):
            person = world.take_person("short_trip")
            person.random_trips = False
            claim = world.current_claim(person, min_certs=3)
            if len(claim.certs) < 2:
                continue
            before, after = claim.certs[-2], claim.certs[-1]
            country = world.rng.choice(TRIP_COUNTRIES)
            if i == 0:
                out_day = before.cert_on + _days(world.between(1, 5))
                in_day, in_second = after.cert_on - ONE_DAY, world.between(21 * 3600, 23 * 3600 + 1800)
            else:
                out_day = before.cert_on + _days(world.between(2, 10))
                in_day = min(out_day + _days(world.between(2, 6)), after.cert_on - _days(2))
                in_second = world.between(6 * 3600, 22 * 3600)
            if not before.cert_on < out_day < in_day < after.cert_on:
                continue
            self._trip(person, out_day, world.between(7 * 3600, 20 * 3600), in_day, in_second, country)
            self._lookalike(claim, SHORT_TRIP)

    def plant_spouses(self) -> None:
        """Two spouses, each with an honest claim, paid into one bank account."""
        world = self.world
        for _ in range(self.plan.spouse_pairs):
            first, second = world.take_person("spouse"), world.take_person("spouse")
            household = first.account
            for person in (first, second):
                claim = world.current_claim(person, bank_account_key=household)
                self._lookalike(claim, SHARED_ACCOUNT_SPOUSES)

    def plant_missing_in(self) -> None:
        """A trip whose IN is a bad row (quarantined), followed months later by another
        trip: a broken record that must not make the claimant abroad for months."""
        world = self.world
        for _ in range(self.plan.missing_in):
            person = world.take_person("missing_in")
            person.random_trips = False
            claim = world.current_claim(person, min_certs=6, benefit_days=270)
            certs = claim.certs
            if len(certs) < 5:
                continue
            country = world.rng.choice(TRIP_COUNTRIES)
            out_day = certs[0].cert_on + _days(world.between(2, 6))
            in_day = out_day + _days(world.between(4, 9))
            out, _ = self._trip(person, out_day, world.between(8 * 3600, 20 * 3600), None, 0, country)
            lost_in = Crossing(
                person, in_day, world.between(6 * 3600, 22 * 3600), "IN", "ICN", country, bad_kind="bad_country"
            )
            world.crossings.append(lost_in)
            person.crossings.append(lost_in)
            second_out_day = certs[3].cert_on + _days(world.between(2, 5))
            second_in_day = second_out_day + _days(world.between(3, 6))
            if second_in_day >= certs[4].cert_on:
                second_in_day = certs[4].cert_on - ONE_DAY
            second_out, second_in = self._trip(
                person,
                second_out_day,
                world.between(8 * 3600, 20 * 3600),
                second_in_day,
                world.between(6 * 3600, 22 * 3600),
                world.rng.choice(TRIP_COUNTRIES),
            )
            world.missing_in.append({"claim": claim, "out": out, "lost_in": lost_in, "next_out": second_out})
            self._lookalike(claim, MISSING_IN_CROSSING)

    def plant_everything(self) -> None:
        self.plant_current_undeclared_work()
        self.plant_current_abroad()
        self.plant_false_separation()
        self.plant_rings()
        past = self.plant_past_cases()
        self.plant_repeat_offenders(past)
        self.plant_cash_work()
        self.plant_closures()
        self.plant_seasonal()
        self.plant_part_time()
        self.plant_short_trips()
        self.plant_spouses()
        self.plant_missing_in()


# ---------------------------------------------------------------------------------
# Ordinary trips abroad
# ---------------------------------------------------------------------------------


def _cert_days(person: Person) -> set[int]:
    return {cert.cert_on.toordinal() for claim in person.claims for cert in claim.certs}


def add_ordinary_trips(world: World) -> None:
    """About one trip per person over the window (Korean outbound travel), never
    covering one of the traveller's certification days; and one departure on every
    delta day so that each moj drop has new crossings."""
    rng, final = world.rng, world.final
    span = (final - world.history_start).days
    for person in world.persons:
        if not person.random_trips:
            continue
        draw = rng.random()
        trips = 0 if draw < 0.55 else 1 if draw < 0.8 else 2 if draw < 0.92 else world.between(3, 5)
        if not trips:
            continue
        busy = _cert_days(person)
        starts = sorted(world.history_start + _days(world.between(0, span + 20)) for _ in range(trips))
        free_from = world.history_start
        for out_day in starts:
            if out_day > final or out_day < free_from:
                continue
            draw = rng.random()
            if draw < 0.5:
                length = world.between(1, 5)
            else:
                length = world.between(4, 10) if draw < 0.85 else world.between(10, 40)
            in_day = out_day + _days(length)
            if any(day in busy for day in range(out_day.toordinal(), in_day.toordinal() + 1)):
                continue
            _add_trip(world, person, out_day, in_day)
            free_from = in_day + _days(2)
    travellers = (p for p in world.persons if p.random_trips and not p.claims and not p.crossings)
    for day in world.drop_dates[1:]:
        person = next(travellers, None)
        if person is not None:
            _add_trip(world, person, day, day + _days(world.between(2, 7)))


def _add_trip(world: World, person: Person, out_day: date, in_day: date) -> None:
    country = world.rng.choice(TRIP_COUNTRIES)
    out = Crossing(person, out_day, world.between(6 * 3600, 22 * 3600), "OUT", world.rng.choice(PORTS), country)
    world.crossings.append(out)
    person.crossings.append(out)
    if in_day <= world.final:
        back = Crossing(person, in_day, world.between(5 * 3600, 23 * 3600), "IN", world.rng.choice(PORTS), country)
        world.crossings.append(back)
        person.crossings.append(back)


# ---------------------------------------------------------------------------------
# Bad rows
# ---------------------------------------------------------------------------------

# Every kind of row the validator rejects. Each bad row is one extra row with a fresh
# id; a duplicate_key bad row is two copies of one fresh id (both quarantined).
BAD_KINDS = (
    "bad_hex_key",
    "bad_workplace_id",
    "bad_business_no",
    "bad_record_id",
    "bad_phone",
    "bad_country",
    "unknown_code",
    "missing_required",
    "impossible_date",
    "date_out_of_range",
    "malformed_timestamp",
    "non_numeric_integer",
    "out_of_range_integer",
    "negative_amount",
    "date_after_drop",
    "period_from_after_period_to",
    "cert_on_before_period_from",
    "ip_country_on_visit",
    "lost_on_without_separation_code",
    "acquired_after_lost",
    "work_days_over_period",
    "work_from_after_work_to",
    "opened_after_closed",
    "text_too_long",
    "duplicate_key",
    "wrong_field_count",
    "broken_quoting",
    "undecodable_bytes",
)
# Kinds the reader itself rejects (the record cannot be split into the header's fields).
RECORD_KINDS = ("wrong_field_count", "broken_quoting", "undecodable_bytes")
ANY_TABLE_KINDS = ("duplicate_key", "wrong_field_count", "broken_quoting", "missing_required")


def _set(**values) -> Callable[[dict, date], None]:
    def mutate(row: dict, drop: date) -> None:
        for column, value in values.items():
            row[column] = value(row, drop) if callable(value) else value

    return mutate


def _swap(first: str, second: str) -> Callable[[dict, date], None]:
    def mutate(row: dict, drop: date) -> None:
        row[first], row[second] = row[second], row[first]

    return mutate


def _iso_after(column: str, days: int) -> Callable[[dict, date], str]:
    return lambda row, drop: (date.fromisoformat(row[column]) + _days(days)).isoformat()


def _drop_plus(days: int) -> Callable[[dict, date], str]:
    return lambda row, drop: (drop + _days(days)).isoformat()


# kind -> table -> mutation of a valid row that makes the validator reject it.
MUTATIONS: dict[str, dict[str, Callable[[dict, date], None]]] = {
    "bad_hex_key": {
        "workplaces": _set(representative_key=lambda r, d: r["representative_key"][:63]),
        "employments": _set(person_key=lambda r, d: r["person_key"].upper()),
        "claims": _set(bank_account_key=lambda r, d: r["bank_account_key"][:-1] + "g"),
        "findings": _set(person_key=lambda r, d: "0x" + r["person_key"][:62]),
        "income": _set(person_key=lambda r, d: r["person_key"] + "0"),
        "crossings": _set(person_key=lambda r, d: r["person_key"][:40]),
    },
    "bad_workplace_id": {
        "workplaces": _set(workplace_id=lambda r, d: r["workplace_id"][:10]),
        "employments": _set(workplace_id=lambda r, d: f"{r['workplace_id'][:3]}-{r['workplace_id'][3:]}"),
        "claims": _set(workplace_id=lambda r, d: r["workplace_id"] + "0"),
        "findings": _set(workplace_id=lambda r, d: "W" + r["workplace_id"][1:]),
    },
    "bad_business_no": {
        "workplaces": _set(business_no=lambda r, d: f"{r['business_no'][:3]}-{r['business_no'][3:]}"),
        "income": _set(payer_business_no=lambda r, d: r["payer_business_no"][:9]),
    },
    "bad_record_id": {
        "employments": _set(employment_id=lambda r, d: "#" + r["employment_id"]),
        "certifications": _set(claim_id=lambda r, d: r["claim_id"][:3] + " " + r["claim_id"][3:]),
        "findings": _set(claim_id=lambda r, d: "/" + r["claim_id"]),
        "crossings": _set(port_code="IC N"),
    },
    "bad_phone": {"workplaces": _set(phone="(02) 555-1234")},
    "bad_country": {
        "certifications": _set(ip_country="KOR"),
        "crossings": _set(country="Japan"),
    },
    "unknown_code": {
        "employments": _set(lost_on=_iso_after("acquired_on", 1), separation_code="99"),
        "claims": _set(status="PAID"),
        "certifications": _set(channel="KIOSK", ip_country=""),
        "findings": _set(fraud_type="IDENTITY_THEFT"),
        "income": _set(income_type="SALARY"),
        "crossings": _set(direction="TRANSIT"),
    },
    "missing_required": {
        "workplaces": _set(name=""),
        "employments": _set(person_key=""),
        "claims": _set(bank_account_key=""),
        "certifications": _set(cert_on=""),
        "findings": _set(decided_on=""),
        "income": _set(amount=""),
        "crossings": _set(crossed_at=""),
    },
    "impossible_date": {
        "workplaces": _set(opened_on="2019-02-29"),
        "employments": _set(acquired_on="2025-04-31"),
        "claims": _set(eligible_from="2026-02-30"),
        "certifications": _set(period_to="2025-06-31"),
        "findings": _set(decided_on="2025-09-31"),
        "income": _set(work_to="2025-11-31"),
    },
    "date_out_of_range": {
        "workplaces": _set(opened_on="1899-12-31"),
        "employments": _set(acquired_on="1900-01-01"),
        "claims": _set(eligible_from="2100-01-04"),
        "findings": _set(decided_on="1949-12-31"),
        "income": _set(work_from="1900-01-01"),
    },
    "malformed_timestamp": {
        **{
            name: _set(updated_at=lambda r, d: r["updated_at"][:19].replace("T", " "))
            for name in ("workplaces", "employments", "claims", "certifications", "findings", "income")
        },
        "crossings": _set(crossed_at=lambda r, d: r["crossed_at"][:16].replace("-", "/").replace("T", " ")),
    },
    "non_numeric_integer": {
        "employments": _set(monthly_wage="3,200,000"),
        "claims": _set(daily_amount="66000원"),
        "certifications": _set(paid_amount="1.5e6"),
        "findings": _set(overpaid_amount="N/A"),
        "income": _set(amount="12 000"),
    },
    "out_of_range_integer": {
        "employments": _set(monthly_wage="2000000000"),
        "claims": _set(benefit_days="999"),
        "certifications": _set(paid_days="400"),
        "income": _set(work_days="400"),
    },
    "negative_amount": {
        "employments": _set(monthly_wage="-3200000"),
        "certifications": _set(paid_amount="-64000"),
        "findings": _set(overpaid_amount="-1"),
        "income": _set(amount="-150000"),
    },
    "date_after_drop": {
        "workplaces": _set(opened_on=_drop_plus(30)),
        "employments": _set(acquired_on=_drop_plus(7)),
        "claims": _set(filed_on=_drop_plus(3), eligible_from=_drop_plus(10)),
        "certifications": _set(cert_on=_drop_plus(2)),
        "findings": _set(decided_on=_drop_plus(1)),
        "income": _set(filed_on=_drop_plus(5)),
        "crossings": _set(crossed_at=lambda r, d: _stamp(d + ONE_DAY, 8 * 3600)),
    },
    "period_from_after_period_to": {
        "certifications": _swap("period_from", "period_to"),
    },
    "cert_on_before_period_from": {"certifications": _set(cert_on=_iso_after("period_from", -3))},
    "ip_country_on_visit": {"certifications": _set(channel="VISIT", ip_country="KR")},
    "lost_on_without_separation_code": {"employments": _set(lost_on=_iso_after("acquired_on", 1), separation_code="")},
    "acquired_after_lost": {"employments": _set(lost_on=_iso_after("acquired_on", -10), separation_code="11")},
    "work_days_over_period": {"income": _set(work_to=_iso_after("work_from", 9), work_days="15")},
    "work_from_after_work_to": {
        "income": _swap("work_from", "work_to"),
    },
    "opened_after_closed": {"workplaces": _set(closed_on=_iso_after("opened_on", -30))},
    "text_too_long": {"workplaces": _set(address=lambda r, d: r["address"] + " " + "가나다라마바사" * 44)},
}


def _kinds_for(table: str, in_cp949: bool) -> list[str]:
    kinds = [k for k, tables in MUTATIONS.items() if table in tables]
    kinds += [k for k in ANY_TABLE_KINDS if k not in kinds]
    if in_cp949:
        kinds.append("undecodable_bytes")
    return kinds


class BadRows:
    """Makes bad rows: a valid-looking row with a fresh id (never any good record's id,
    in any drop), then one mutation the validator rejects."""

    def __init__(self, world: World):
        self.world = world
        self.rng = random.Random(f"{world.seed}:bad-rows")
        self.counter = 0
        self.claim_ids = [c.claim_id for c in world.claims] or ["CLM0000000001"]
        self.workplaces = world.workplaces

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}9{self.counter:09d}"

    def _between(self, low: int, high: int) -> int:
        return low + int(self.rng.random() * (high - low + 1))

    def base(self, table: str, drop: date) -> dict:
        """A valid row of `table` for the drop dated `drop` (fresh primary key)."""
        rng = self.rng
        person = self.world.persons[self._between(0, len(self.world.persons) - 1)].key
        workplace = self.workplaces[self._between(0, len(self.workplaces) - 1)]
        updated_at = _stamp(drop, self._between(8 * 3600, 18 * 3600))
        if table == "workplaces":
            while True:
                workplace_id = str(self._between(10**10, 10**11 - 1))
                if workplace_id not in self.world._workplace_ids:
                    self.world._workplace_ids.add(workplace_id)
                    break
            return {
                "workplace_id": workplace_id,
                "business_no": str(self._between(10**9, 10**10 - 1)),
                "name": f"{rng.choice(NAME_STEMS)}{rng.choice(NAME_TRADES)}",
                "representative_key": person,
                "address": workplace.address.replace("\n", " "),
                "phone": "02-555-1234",
                "bank_account_key": _sha(f"bad:{self.counter}:{drop}"),
                "industry_code": "47",
                "region_code": workplace.region_code,
                "opened_on": (drop - _days(self._between(30, 2000))).isoformat(),
                "closed_on": "",
                "updated_at": updated_at,
            }
        if table == "employments":
            return {
                "employment_id": self.fresh("EMP"),
                "person_key": person,
                "workplace_id": workplace.workplace_id,
                "acquired_on": (drop - _days(self._between(20, 400))).isoformat(),
                "lost_on": "",
                "separation_code": "",
                "monthly_wage": "3100000",
                "updated_at": updated_at,
            }
        if table == "claims":
            filed = drop - _days(self._between(1, 20))
            return {
                "claim_id": self.fresh("CLM"),
                "person_key": person,
                "workplace_id": workplace.workplace_id,
                "separation_code": "23",
                "filed_on": filed.isoformat(),
                "eligible_from": (filed + _days(WAITING_DAYS)).isoformat(),
                "benefit_days": "180",
                "daily_amount": "60120",
                "bank_account_key": _sha(f"bad-account:{self.counter}"),
                "status": "FILED",
                "updated_at": updated_at,
            }
        if table == "certifications":
            cert_on = drop - _days(self._between(0, 3))
            return {
                "cert_id": self.fresh("CRT"),
                "claim_id": rng.choice(self.claim_ids),
                "cert_on": cert_on.isoformat(),
                "period_from": (cert_on - _days(28)).isoformat(),
                "period_to": (cert_on - ONE_DAY).isoformat(),
                "channel": "ONLINE",
                "ip_country": "KR",
                "job_search_count": "2",
                "declared_income": "0",
                "paid_days": "28",
                "paid_amount": "1680000",
                "updated_at": updated_at,
            }
        if table == "findings":
            return {
                "finding_id": self.fresh("FND"),
                "person_key": person,
                "claim_id": rng.choice(self.claim_ids),
                "workplace_id": "",
                "fraud_type": "OTHER",
                "decided_on": (drop - _days(self._between(0, 30))).isoformat(),
                "overpaid_amount": "500000",
                "collusion": "N",
                "updated_at": updated_at,
            }
        if table == "income":
            month = _month_start(_month_start(drop) - ONE_DAY)
            return {
                "record_id": self.fresh("NTS"),
                "person_key": person,
                "payer_business_no": workplace.business_no,
                "income_type": "WAGE",
                "work_from": month.isoformat(),
                "work_to": _month_end(month).isoformat(),
                "work_days": "20",
                "amount": "3000000",
                "filed_on": (drop - _days(self._between(0, 3))).isoformat(),
                "updated_at": updated_at,
            }
        if table == "crossings":
            return {
                "crossing_id": self.fresh("MOJ"),
                "person_key": person,
                "crossed_at": _stamp(drop, self._between(6 * 3600, 22 * 3600)),
                "direction": "OUT",
                "port_code": "ICN",
                "country": "JP",
            }
        raise KeyError(table)

    def make(self, table: str, kind: str, drop: date) -> tuple[dict, str]:
        """(row, kind) for one bad row; the record kinds are rendered by the file writer."""
        row = self.base(table, drop)
        mutate = MUTATIONS.get(kind, {}).get(table)
        if mutate is not None:
            mutate(row, drop)
        return row, kind

    def random_kind(self, table: str, in_cp949: bool) -> str:
        return self.rng.choice(_kinds_for(table, in_cp949))


# ---------------------------------------------------------------------------------
# Files and drops
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileLayout:
    """How one delivered file is laid out: column order, extra columns, BOM, line ends."""

    columns: tuple[str, ...]
    extra: tuple[str, ...] = ()
    bom: bool = False
    line_end: str = "\r\n"


_BROKEN = "\x1fBROKEN\x1f"
_UNDECODABLE = "\x1fUNDECODABLE\x1f"


def row_values(table: contract.Table, row: dict) -> list:
    """A row given by column name -> its values in the contract's column order. A
    column the generator does not know yet (FEEDS.md added one) is written empty; a
    name the contract does not have is a bug, refused."""
    columns = table.column_names
    values = [row.get(name, "") for name in columns]
    if sum(name in row for name in columns) != len(row):
        unknown = sorted(set(row) - set(columns))
        raise ValueError(f"{table.source}/{table.name}: no such column(s) {unknown}")
    return values


class TableFile:
    """One CSV file being written: rows by column name in, bytes out in the file's
    layout, counted and hashed as they are written."""

    FLUSH_ROWS = 4096

    def __init__(self, path: Path, table: contract.Table, layout: FileLayout, encoding: str):
        self.path = path
        self.table = table
        self.layout = layout
        self.codec = {"utf-8": "utf-8", "cp949": "cp949"}[encoding]
        positions = {name: i for i, name in enumerate(table.column_names)}
        self.order = None if layout.columns == table.column_names else [positions[c] for c in layout.columns]
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "wb")
        self.digest = hashlib.sha256()
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator=layout.line_end)
        self.rows = 0
        self.pending = 0
        self.bad: list[dict] = []
        self.countdown = 0
        self.extra_values = ("",) * len(layout.extra)
        if layout.bom:
            self._emit(b"\xef\xbb\xbf")
        self.writer.writerow(list(layout.columns) + list(layout.extra))

    def _emit(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)

    def _flush(self) -> None:
        text = self.buffer.getvalue()
        if text:
            self._emit(text.encode(self.codec))
            self.buffer.seek(0)
            self.buffer.truncate()
        self.pending = 0

    def _fields(self, values: tuple | list) -> list:
        fields = list(values) if self.order is None else [values[i] for i in self.order]
        if self.layout.extra:
            remark = ""
            if self.layout.extra[0] == "remarks" and self.rows % 37 == 5:
                remark = CROSSING_REMARKS[self.rows % len(CROSSING_REMARKS)]
            fields += [remark] + [""] * (len(self.layout.extra) - 1)
        return fields

    def write(self, row: dict) -> None:
        self.writer.writerow(self._fields(row_values(self.table, row)))
        self.rows += 1
        self.pending += 1
        if self.pending >= self.FLUSH_ROWS:
            self._flush()

    def write_bad(self, row: dict, kind: str, note: str | None = None) -> None:
        """Write one bad row (two for duplicate_key) and remember it."""
        values = row_values(self.table, row)
        row = dict(zip(self.table.column_names, values))
        key = row[self.table.primary_key]
        if kind in ("broken_quoting", "undecodable_bytes"):
            fields = self._fields(values)
            column = self._text_column()
            index = list(self.layout.columns).index(column)
            fields[index] = _BROKEN if kind == "broken_quoting" else f"{fields[index][:10]}{_UNDECODABLE}"
            self._flush()
            line = io.StringIO()
            csv.writer(line, lineterminator=self.layout.line_end).writerow(fields)
            if kind == "broken_quoting":
                # An unescaped quote inside a quoted field, as a naive exporter writes it.
                data = line.getvalue().replace(_BROKEN, '"(주)"한빛" 상사"').encode(self.codec)
            else:
                data = line.getvalue().encode(self.codec).replace(_UNDECODABLE.encode(self.codec), b"\xff")
            self._emit(data)
            self.rows += 1
            copies = 1
        elif kind == "wrong_field_count":
            self.writer.writerow(self._fields(values) + ["초과"])
            self.rows += 1
            copies = 1
        elif kind == "duplicate_key":
            self.writer.writerow(self._fields(values))
            self.writer.writerow(self._fields(values))
            self.rows += 2
            copies = 2
        else:
            self.writer.writerow(self._fields(values))
            self.rows += 1
            copies = 1
        entry = {"kind": kind, "key": key, "rows": copies}
        if note:
            entry["note"] = note
        self.bad.append(entry)

    def _text_column(self) -> str:
        for name in ("name", "status", "channel", "income_type", "fraud_type", "separation_code", "port_code"):
            if name in self.table.column_names:
                return name
        return self.table.column_names[1]

    def close(self) -> dict:
        self._flush()
        self.handle.close()
        return {"rows": self.rows, "sha256": self.digest.hexdigest()}


def _layout(source: str, day: date, table: contract.Table, baseline: date) -> FileLayout:
    """The quirks of real deliveries, each somewhere: a BOM, an unknown extra column,
    columns in another order, LF line ends."""
    columns = table.column_names
    is_baseline = day == baseline
    if source == "nts" and is_baseline:
        return FileLayout(columns, bom=True)
    if source == "nts":
        return FileLayout(columns, extra=("remarks",), line_end="\n")
    if source == "moj":
        return FileLayout(columns, extra=("remarks",) if is_baseline else (), line_end="\n")
    if table.name == "claims" and is_baseline:
        return FileLayout(tuple(reversed(columns)))
    if table.name == "certifications" and not is_baseline:
        return FileLayout(columns[1:] + columns[:1], extra=("office_code",))
    if table.name == "employments" and not is_baseline:
        return FileLayout((columns[2], columns[0], columns[1]) + columns[3:])
    return FileLayout(columns)


class SourceDrops:
    """The drops of one source, written side by side: one file per (drop date, table),
    opened when its first row arrives. Bad rows are interleaved with the good ones, at
    a rate of one per 200–500 rows, at least one per drop and three per baseline file;
    every kind the validator can see appears in the baseline."""

    def __init__(self, world: World, out: Path, source: str, bad_rows: BadRows, cp949_drop: tuple[str, date]):
        self.world = world
        self.out = out
        self.source = source
        self.bad_rows = bad_rows
        self.rng = bad_rows.rng
        self.cp949_drop = cp949_drop
        self.files: dict[tuple[date, str], TableFile] = {}
        self.required: dict[tuple[date, str], list[str]] = {}

    def encoding(self, day: date) -> str:
        return "cp949" if (self.source, day) == self.cp949_drop else "utf-8"

    def require(self, day: date, table: str, kinds: list[str]) -> None:
        self.required.setdefault((day, table), []).extend(kinds)

    def file(self, day: date, table_name: str) -> TableFile:
        key = (day, table_name)
        handle = self.files.get(key)
        if handle is None:
            table = contract.table(self.source, table_name)
            path = self.out / self.source / day.isoformat() / table.file_name
            handle = TableFile(path, table, _layout(self.source, day, table, self.world.baseline), self.encoding(day))
            handle.countdown = self.rng.randint(1, 40) if key in self.required else self.rng.randint(30, 400)
            self.files[key] = handle
        return handle

    def write(self, day: date, table_name: str, row: dict) -> None:
        handle = self.file(day, table_name)
        handle.write(row)
        handle.countdown -= 1
        if handle.countdown <= 0:
            self._bad(handle, day, table_name)
            handle.countdown = self.rng.randint(200, 500)

    def write_planted_bad(self, day: date, table_name: str, row: dict, kind: str, note: str) -> None:
        self.file(day, table_name).write_bad(row, kind, note)

    def _bad(self, handle: TableFile, day: date, table_name: str) -> None:
        queue = self.required.get((day, table_name))
        kind = queue.pop(0) if queue else self.bad_rows.random_kind(table_name, self.encoding(day) == "cp949")
        row, kind = self.bad_rows.make(table_name, kind, day)
        handle.write_bad(row, kind)

    def close(self) -> list[dict]:
        """Complete the bad rows, close every file, write each drop's manifest last.
        Returns the bad rows as {source, drop_date, table, kind, key, rows}."""
        tables = [t.name for t in contract.tables_of(self.source)]
        for (day, table_name), kinds in sorted(self.required.items()):
            while kinds:
                self._bad(self.file(day, table_name), day, table_name)
        for day in self.world.drop_dates:
            present = [self.files[(day, t)] for t in tables if (day, t) in self.files]
            minimum = 3 if day == self.world.baseline else 0
            for handle in present:
                while len(handle.bad) < minimum:
                    self._bad(handle, day, handle.table.name)
            if not any(handle.bad for handle in present):
                target = max(present, key=lambda h: h.rows).table.name if present else tables[0]
                self._bad(self.file(day, target), day, target)
        planted = []
        for day in self.world.drop_dates:
            entries = {}
            for table_name in tables:
                handle = self.files.get((day, table_name))
                if handle is None:
                    continue
                entries[handle.table.file_name] = handle.close()
                for bad in handle.bad:
                    planted.append({"source": self.source, "drop_date": day.isoformat(), "table": table_name, **bad})
            manifest = {
                "source": self.source,
                "drop_date": day.isoformat(),
                "encoding": self.encoding(day),
                "tables": entries,
            }
            drop_dir = self.out / self.source / day.isoformat()
            drop_dir.mkdir(parents=True, exist_ok=True)
            (drop_dir / contract.MANIFEST_NAME).write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        return planted


def _deliveries(world: World, versions: list[tuple[date, int, tuple]]) -> list[tuple[date, tuple]]:
    """(drop date, row) for each drop a record appears in: the latest version of the
    drop's day (the baseline takes the latest version up to its date)."""
    chosen: dict[date, tuple] = {}
    for day, _, row in versions:
        if day > world.final:
            break
        chosen[max(day, world.baseline)] = row
    return list(chosen.items())


def _coverage() -> dict[str, dict[str, list[str]]]:
    """source -> table -> the bad-row kinds its baseline file must contain, so that the
    baseline covers every kind (undecodable bytes go to the CP949 drop)."""
    tables = list(contract.TABLES.values())
    load = {t.name: 0 for t in tables}
    plan: dict[str, dict[str, list[str]]] = {}
    for kind in BAD_KINDS:
        if kind == "undecodable_bytes":
            continue
        candidates = [t for t in tables if t.name in MUTATIONS.get(kind, {}) or kind in ANY_TABLE_KINDS]
        target = min(candidates, key=lambda t: load[t.name])
        load[target.name] += 1
        plan.setdefault(target.source, {}).setdefault(target.name, []).append(kind)
    return plan


# ---------------------------------------------------------------------------------
# Streams of rows per source
# ---------------------------------------------------------------------------------


class Evidence:
    """Income evidence of work per certification, as DOMAIN.md reads it: a statement
    proves work inside a certified period only when its work days cannot all lie
    outside it (its window narrowed to the person's insured spells at that payer; a
    statement of unknown work days proves one day), summed per certified period. The
    work days spread evenly over the window are an estimate (`estimated`), never proof."""

    def __init__(self, world: World):
        self.world = world
        self.worked: dict[Cert, Fraction] = {}  # proven days
        self.estimated: dict[Cert, Fraction] = {}

    def credit(self, person: Person, payer: str, work_from: date, work_to: date, work_days: int | None) -> None:
        claims = [c for c in person.claims if c.certs]
        if not claims:
            return
        final = self.world.final
        spans = [
            (s.acquired_on, s.visible_end(final) or date.max)
            for s in person.spells
            if s.workplace.business_no == payer
            and s.reported[0] <= final
            and s.acquired_on <= work_to
            and (s.visible_end(final) or date.max) >= work_from
        ]
        window_from, window_to = work_from, work_to
        if spans:
            window_from = max(work_from, min(a for a, _ in spans))
            window_to = min(work_to, max(b for _, b in spans))
        window = (window_to - window_from).days + 1
        if window <= 0:
            return
        days_estimated = window if work_days is None else min(work_days, window)
        days_proven = 1 if work_days is None else min(work_days, window)
        for claim in claims:
            if claim.certs[0].period_from > window_to or claim.certs[-1].period_to < window_from:
                continue
            for cert in claim.certs:
                overlap = _overlap_days(cert.period_from, cert.period_to, window_from, window_to)
                if overlap:
                    certain = max(0, days_proven - (window - overlap))
                    self.worked[cert] = self.worked.get(cert, Fraction(0)) + certain
                    self.estimated[cert] = self.estimated.get(cert, Fraction(0)) + Fraction(
                        days_estimated * overlap, window
                    )


def _write_income(world: World, drops: SourceDrops, evidence: Evidence) -> int:
    """Stream the NTS statements: one monthly WAGE statement per month of every taxed
    spell, filed during the next month (mostly near its end), plus the planted ones.
    Returns how many are visible on the final date."""
    rng = random.Random(f"{world.seed}:income")
    final, baseline, start = world.final, world.baseline, world.history_start
    seconds = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(8, 19) for m in range(0, 60, 7) for s in (3, 17, 41)]
    count = 0

    def emit(
        person: Person,
        payer: str,
        income_type: str,
        work_from: date,
        work_to: date,
        work_days: int | None,
        amount: int,
        filed_on: date,
    ) -> None:
        nonlocal count
        count += 1
        filed = filed_on.isoformat()
        drops.write(
            max(filed_on, baseline),
            "income",
            dict(
                record_id=f"NTS{count:011d}",
                person_key=person.key,
                payer_business_no=payer,
                income_type=income_type,
                work_from=work_from.isoformat(),
                work_to=work_to.isoformat(),
                work_days="" if work_days is None else str(work_days),
                amount=str(amount),
                filed_on=filed,
                updated_at=f"{filed}T{seconds[count % len(seconds)]}+09:00",
            ),
        )
        evidence.credit(person, payer, work_from, work_to, work_days)

    for spell in world.spells:
        person = spell.person
        if spell.taxed:
            end = spell.lost_on or final
            month = _month_start(max(spell.acquired_on, start))
            payer = spell.workplace.business_no
            while month <= end:
                month_end = _month_end(month)
                worked_from, worked_to = max(spell.acquired_on, month), min(end, month_end)
                window = (worked_to - worked_from).days + 1
                following = _next_month(month)
                following_end = _month_end(following)
                if rng.random() < 0.3:
                    filed_on = following + _days(int(rng.random() * following_end.day))
                else:
                    filed_on = following_end - _days(int(rng.random() * 12))
                filed_on = max(filed_on, spell.reported[0])
                if spell.lost_on is not None and worked_to == spell.lost_on:
                    filed_on = max(filed_on, spell.loss_reported[0])
                if filed_on > final:
                    break
                emit(
                    person,
                    payer,
                    "WAGE",
                    month,
                    month_end,
                    max(1, window * 5 // 7),
                    spell.monthly_wage * window // month_end.day,
                    filed_on,
                )
                month = following
        if person.planted_statements:
            for statement in person.planted_statements:
                if statement.filed_on <= final:
                    emit(
                        person,
                        statement.payer_business_no,
                        statement.income_type,
                        statement.work_from,
                        statement.work_to,
                        statement.work_days,
                        statement.amount,
                        statement.filed_on,
                    )
            person.planted_statements = []
    return count


def _write_ei(world: World, drops: SourceDrops) -> list[dict]:
    """Write every ei table; returns the stale versions re-sent in delta drops."""
    for workplace in sorted(world.workplaces, key=lambda w: (w.opened_on, w.workplace_id)):
        for day, row in _deliveries(world, workplace.versions()):
            drops.write(day, "workplaces", row)
    delivered: dict[tuple[str, str], set[date]] = {}
    for spell in world.spells:
        for day, row in _deliveries(world, spell.versions()):
            drops.write(day, "employments", row)
            delivered.setdefault(("employments", spell.employment_id), set()).add(day)
    for claim in world.claims:
        for day, row in _deliveries(world, claim.versions()):
            drops.write(day, "claims", row)
            delivered.setdefault(("claims", claim.claim_id), set()).add(day)
    certs = sorted((c for claim in world.claims for c in claim.certs), key=lambda c: c.cert_id)
    for cert in certs:
        drops.write(max(cert.cert_on, world.baseline), "certifications", cert.row())
    for finding in world.findings:
        if finding.decided_on <= world.final:
            drops.write(max(finding.decided_on, world.baseline), "findings", finding.row())
    return _resend_stale_versions(world, drops, delivered)


def _resend_stale_versions(world: World, drops: SourceDrops, delivered: dict) -> list[dict]:
    """In each delta drop, re-send a claim and an employment spell with an OLDER
    updated_at than the version already delivered: the newer version must win."""
    rng = random.Random(f"{world.seed}:resend")
    resent = []
    records = {
        "claims": [c for c in world.claims if len(c.statuses) >= 2],
        "employments": [s for s in world.spells if s.lost_on is not None],
    }
    for day in world.drop_dates[1:]:
        for table_name, candidates in records.items():
            for _ in range(20):
                if not candidates:
                    break
                record = candidates[int(rng.random() * len(candidates))]
                versions = [v for v in record.versions() if v[0] < day]
                key = record.claim_id if table_name == "claims" else record.employment_id
                if len(versions) < 2 or day in delivered.get((table_name, key), set()):
                    continue
                stale, current = versions[-2], versions[-1]
                drops.write(day, table_name, stale[2])
                delivered.setdefault((table_name, key), set()).add(day)
                resent.append(
                    {
                        "table": table_name,
                        "key": key,
                        "drop_date": day.isoformat(),
                        "stale_updated_at": _stamp(stale[0], stale[1]),
                        "current_updated_at": _stamp(current[0], current[1]),
                    }
                )
                break
    return resent


def _write_moj(world: World, drops: SourceDrops) -> list[dict]:
    for crossing in world.crossings:
        if crossing.day > world.final:
            continue
        day = max(crossing.day, world.baseline)
        if crossing.bad_kind:
            row = crossing.row() | {"country": "KOR"}  # keyed with a 3-letter country: quarantined
            drops.write_planted_bad(
                day,
                "crossings",
                row,
                crossing.bad_kind,
                "the IN of a trip: its quarantine leaves the trip without a return",
            )
        else:
            drops.write(day, "crossings", crossing.row())
    return []


# ---------------------------------------------------------------------------------
# Truth
# ---------------------------------------------------------------------------------


def _abroad_days(world: World, person: Person) -> list[tuple[date, date]]:
    """Days the person was certainly abroad at some time, from the valid crossings
    delivered by the final date (FEEDS.md): OUT..next IN; OUT..final date while no IN
    yet; only the crossing day when the IN (or OUT) is missing."""
    crossings = sorted(
        (x for x in person.crossings if x.bad_kind is None and x.day <= world.final),
        key=lambda x: (x.crossed_at, x.crossing_id),
    )
    spans = []
    for i, crossing in enumerate(crossings):
        following = crossings[i + 1] if i + 1 < len(crossings) else None
        previous = crossings[i - 1] if i > 0 else None
        if crossing.direction == "OUT":
            if following is None:
                spans.append((crossing.day, world.final))
            elif following.direction == "IN":
                spans.append((crossing.day, following.day))
            else:
                spans.append((crossing.day, crossing.day))
        elif previous is None or previous.direction == "IN":
            spans.append((crossing.day, crossing.day))
    return spans


def _claim_truth(world: World, claim: Claim, evidence: Evidence) -> dict | None:
    """The planted entry of a claim, or None when nothing taints it."""
    typologies = set(claim.whole_claim)
    abroad = _abroad_days(world, claim.person) if claim.person.crossings else []
    certs = sorted(claim.certs, key=lambda c: c.order)
    tainted = []
    for cert in certs:
        worked = evidence.worked.get(cert, Fraction(0))
        undeclared = cert.declared_income == 0 and worked >= 1
        away = any(first <= cert.cert_on <= last for first, last in abroad)
        if undeclared:
            typologies.add(UNDECLARED_WORK)
        if away:
            typologies.add(ABROAD_CERTIFICATION)
        if undeclared or away:
            tainted.append(cert)
    if not typologies:
        return None
    if typologies & set(WHOLE_CLAIM_TYPOLOGIES):
        overpayment = sum(c.paid_amount for c in certs)
    elif tainted:
        first = certs.index(tainted[0])
        overpayment = sum(c.paid_amount for c in certs[first:])
    else:
        overpayment = 0
    return {
        "claim_id": claim.claim_id,
        "person_key": claim.person.key,
        "workplace_id": claim.workplace.workplace_id,
        "typologies": sorted(typologies),
        "overpayment": overpayment,
        "tainted_cert_ids": [c.cert_id for c in tainted],
        "ring_id": claim.ring_id,
        "past": claim.past,
        "finding_id": claim.finding.finding_id if claim.finding else None,
    }


def _planted(world: World, evidence: Evidence) -> list[dict]:
    planted = []
    for claim in world.claims:
        entry = _claim_truth(world, claim, evidence)
        if entry is None:
            if claim.intended or claim.whole_claim:
                log.warning("claim %s was planted as %s but shows no evidence", claim.claim_id, sorted(claim.intended))
            continue
        if not (claim.intended or claim.whole_claim):
            log.warning("claim %s shows %s without being planted", claim.claim_id, entry["typologies"])
        elif not claim.intended <= set(entry["typologies"]):
            log.warning(
                "claim %s was planted as %s, evidence shows %s",
                claim.claim_id,
                sorted(claim.intended),
                entry["typologies"],
            )
        planted.append(entry)
        if claim.finding is not None and claim.finding.fraud_type != "OTHER":
            claim.finding.overpaid_amount = entry["overpayment"]
    return sorted(planted, key=lambda e: e["claim_id"])


def _unevidenced(world: World) -> list[dict]:
    """The claims with cash work (`plant_cash_work`): fraud no feed shows. Overpayment
    as DOMAIN.md counts it had the work been on record: from the first period with cash
    work on. Fills the findings' overpaid amounts."""
    entries = []
    for claim in world.claims:
        if not claim.cash_certs:
            continue
        certs = sorted(claim.certs, key=lambda c: c.order)
        overpayment = sum(c.paid_amount for c in certs[certs.index(claim.cash_certs[0]) :])
        if claim.finding is not None:
            claim.finding.overpaid_amount = overpayment
        entries.append(
            {
                "claim_id": claim.claim_id,
                "person_key": claim.person.key,
                "workplace_id": claim.workplace.workplace_id,
                "typologies": [UNDECLARED_WORK],
                "overpayment": overpayment,
                "cash_cert_ids": [c.cert_id for c in claim.cash_certs],
                "past": claim.past,
                "finding_id": claim.finding.finding_id if claim.finding else None,
            }
        )
    return sorted(entries, key=lambda e: e["claim_id"])


def _repeat_offenders(world: World, planted: list[dict]) -> list[dict]:
    """Open claims (on the final date) of persons with an earlier finding: decided
    before the claim was filed, or about an earlier claim."""
    suspected = {e["claim_id"] for e in planted if not e["past"]}
    findings_of: dict[int, list[Finding]] = {}
    for finding in world.findings:
        findings_of.setdefault(finding.person.index, []).append(finding)
    entries = []
    for claim in world.claims:
        if claim.person.index not in findings_of or claim.status_on(world.final) not in OPEN_STATUSES:
            continue
        prior = [
            f
            for f in findings_of[claim.person.index]
            if f.decided_on <= world.final
            and (
                f.decided_on < claim.filed_on
                or (f.claim is not None and f.claim is not claim and f.claim.filed_on < claim.filed_on)
            )
        ]
        if prior:
            entries.append(
                {
                    "person_key": claim.person.key,
                    "open_claim_id": claim.claim_id,
                    "suspected_now": claim.claim_id in suspected,
                    "prior_findings": len(prior),
                    "last_decided_on": max(f.decided_on for f in prior).isoformat(),
                }
            )
    return sorted(entries, key=lambda e: e["open_claim_id"])


def _counts(world: World, income_rows: int) -> dict[str, int]:
    """Records per table as they stand on the final date (valid rows, latest versions)."""
    final = world.final
    return {
        "workplaces": sum(1 for w in world.workplaces if w.opened_on <= final),
        "employments": sum(1 for s in world.spells if s.reported[0] <= final),
        "claims": len(world.claims),
        "certifications": sum(len(c.certs) for c in world.claims),
        "findings": sum(1 for f in world.findings if f.decided_on <= final),
        "income": income_rows,
        "crossings": sum(1 for x in world.crossings if x.bad_kind is None and x.day <= final),
    }


# ---------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------


def generate(out: Path, persons: int, seed: int, baseline: date, days: int, progress: Progress | None = None) -> dict:
    """Write a synthetic landing directory into `out` and return its truth.

    out: the landing directory (created). persons: size of the insured population
    (about 200 at least, for the planted cases). seed: same seed, same bytes.
    baseline: date of the baseline (full-history) drop. days: daily delta drops after
    it. progress(stage, steps): called as each stage completes.

    The truth (also `out/_truth/truth.json`), as visible on the last drop date:
    seed, persons, baseline, final_date, drop_dates; quarantine_expected
    ("<source>/<drop_date>/<table>" -> rows the validator must quarantine) and bad_rows
    ({source, drop_date, table, kind, key, rows[, note]}); planted ({claim_id,
    person_key, workplace_id, typologies, overpayment, tainted_cert_ids, ring_id, past,
    finding_id}); unevidenced (fraud no feed shows, cash work: {claim_id, person_key,
    workplace_id, typologies, overpayment, cash_cert_ids, past, finding_id}); lookalikes
    ({claim_id, person_key, kind, workplace_id}); rings ({ring_id,
    workplace_ids, person_keys, claim_ids}); repeat_offenders ({person_key,
    open_claim_id, suspected_now, prior_findings, last_decided_on}); closures
    (workplace ids); counts (records per table on the final date); resent_older (stale
    versions re-sent in delta drops); missing_in (the trips whose IN is quarantined).
    """
    out = Path(out)
    report = progress or (lambda stage, done: None)
    world = World(persons, seed, baseline, days)
    plan = Plan.for_population(persons, days)
    world.build_workplaces(max(40, persons // 6))
    report("workplaces", 1)

    _Planter(world, plan).plant_everything()
    report("planted cases", 1)
    for day in world.drop_dates[1:]:
        world.new_workplace(day, kind="new")  # a business registered that day (new Korean text in every ei drop)
    for person in world.persons:
        if person.role == "normal":
            world.career(person)
    report("careers", 1)
    add_ordinary_trips(world)
    world.number_records()
    report("trips", 1)

    cp949_drop = ("ei", world.drop_dates[1] if days else baseline)
    bad_rows = BadRows(world)
    coverage = _coverage()
    evidence = Evidence(world)
    written: list[dict] = []

    nts = SourceDrops(world, out, "nts", bad_rows, cp949_drop)
    for table_name, kinds in coverage.get("nts", {}).items():
        nts.require(baseline, table_name, kinds)
    income_rows = _write_income(world, nts, evidence)
    written += nts.close()
    report("nts", 1)

    planted = _planted(world, evidence)  # fills the findings' overpaid amounts before ei is written
    unevidenced = _unevidenced(world)
    ei = SourceDrops(world, out, "ei", bad_rows, cp949_drop)
    for table_name, kinds in coverage.get("ei", {}).items():
        ei.require(baseline, table_name, kinds)
    ei.require(cp949_drop[1], "workplaces", ["undecodable_bytes"])
    resent = _write_ei(world, ei)
    written += ei.close()
    report("ei", 1)

    moj = SourceDrops(world, out, "moj", bad_rows, cp949_drop)
    for table_name, kinds in coverage.get("moj", {}).items():
        moj.require(baseline, table_name, kinds)
    _write_moj(world, moj)
    written += moj.close()
    report("moj", 1)

    truth = _truth(world, seed, planted, written, resent, income_rows)
    truth["unevidenced"] = unevidenced
    truth_dir = out / "_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    (truth_dir / "truth.json").write_text(
        json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    report("truth", 1)
    log.info(
        "synthetic landing %s: %d persons, %d claims (%d planted, %d look-alikes), %d bad rows, drops %s..%s",
        out,
        persons,
        len(world.claims),
        len(planted),
        len(truth["lookalikes"]),
        sum(truth["quarantine_expected"].values()),
        truth["drop_dates"][0],
        truth["final_date"],
    )
    return truth


def _truth(
    world: World, seed: int, planted: list[dict], bad_rows: list[dict], resent: list[dict], income_rows: int
) -> dict:
    quarantine: dict[str, int] = {}
    for bad in bad_rows:
        key = f"{bad['source']}/{bad['drop_date']}/{bad['table']}"
        quarantine[key] = quarantine.get(key, 0) + bad["rows"]
    lookalikes = sorted(
        (
            {"claim_id": c.claim_id, "person_key": c.person.key, "kind": kind, "workplace_id": c.workplace.workplace_id}
            for c, kind in world.lookalikes
        ),
        key=lambda e: (e["kind"], e["claim_id"]),
    )
    rings = [
        {
            "ring_id": r.ring_id,
            "workplace_ids": sorted(w.workplace_id for w in r.workplaces),
            "person_keys": sorted({p.key for p in r.persons}),
            "claim_ids": sorted(c.claim_id for c in r.claims),
        }
        for r in world.rings
    ]
    missing_in = [
        {
            "person_key": m["claim"].person.key,
            "claim_id": m["claim"].claim_id,
            "out_crossing_id": m["out"].crossing_id,
            "quarantined_in_crossing_id": m["lost_in"].crossing_id,
            "next_out_crossing_id": m["next_out"].crossing_id,
        }
        for m in world.missing_in
    ]
    return {
        "seed": seed,
        "persons": len(world.persons),
        "baseline": world.baseline.isoformat(),
        "final_date": world.final.isoformat(),
        "drop_dates": [d.isoformat() for d in world.drop_dates],
        "quarantine_expected": quarantine,
        "bad_rows": bad_rows,
        "planted": planted,
        "lookalikes": lookalikes,
        "rings": rings,
        "repeat_offenders": _repeat_offenders(world, planted),
        "closures": sorted(w.workplace_id for w in world.closures),
        "counts": _counts(world, income_rows),
        "resent_older": resent,
        "missing_in": missing_in,
    }
