"""Small shared helpers: dates, timestamps, identifiers and Korean free text.

Timestamps are kept internally as integer "KST seconds since 0001-01-01"
(``day.toordinal() * 86400 + seconds``) so that comparisons are cheap; they are
only turned into ISO 8601 text when a row is written.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

DAY = 86400
ONE = timedelta(days=1)


# --------------------------------------------------------------------- dates
def d_add(d: date, n: int) -> date:
    return date.fromordinal(d.toordinal() + n)


def days_incl(a: date, b: date) -> int:
    """Number of days of the inclusive window a..b (0 when empty)."""
    n = b.toordinal() - a.toordinal() + 1
    return n if n > 0 else 0


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    if d.month == 12:
        return date(d.year, 12, 31)
    return date(d.year, d.month + 1, 1) - ONE


def next_month_start(d: date) -> date:
    if d.month == 12:
        return date(d.year + 1, 1, 1)
    return date(d.year, d.month + 1, 1)


def next_month_end(d: date) -> date:
    return month_end(next_month_start(d))


def iter_months(a: date, b: date):
    """Yield the first day of every calendar month touching a..b."""
    m = month_start(a)
    while m <= b:
        yield m
        m = next_month_start(m)


def weekdays_in(a: date, b: date) -> int:
    n = 0
    o = a.toordinal()
    e = b.toordinal()
    while o <= e:
        if (o % 7) not in (0, 6):  # date.fromordinal(o).weekday() == (o + 6) % 7
            n += 1
        o += 1
    return n


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + years, day=28)


# ---------------------------------------------------------------- timestamps
def ts_of(d: date, sec: int) -> int:
    return d.toordinal() * DAY + sec


def ts_day(ts: int) -> date:
    return date.fromordinal(ts // DAY)


def ts_text(ts: int) -> str:
    d = date.fromordinal(ts // DAY)
    s = ts % DAY
    return f"{d.isoformat()}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+09:00"


def ts_text_utc(ts: int) -> str:
    t = ts - 9 * 3600
    d = date.fromordinal(t // DAY)
    s = t % DAY
    return f"{d.isoformat()}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00:00"


def work_sec(rng, lo_h: int = 9, hi_h: int = 18) -> int:
    return rng.randrange(lo_h * 3600, hi_h * 3600)


# --------------------------------------------------------------------- keys
def hkey(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def business_no(rng, corporate: bool) -> str:
    office = rng.randint(101, 899)
    mid = rng.choice((81, 86, 87, 88)) if corporate else rng.randint(1, 79)
    body = f"{office:03d}{mid:02d}{rng.randint(0, 9999):04d}"
    w = (1, 3, 7, 1, 3, 7, 1, 3, 5)
    s = sum(int(c) * k for c, k in zip(body, w)) + (int(body[8]) * 5) // 10
    return body + str((10 - s % 10) % 10)


# ------------------------------------------------------------ Korean text
# (region_code, spellings, phone area code, districts, roads)
SIDO = [
    (
        "11",
        ("서울특별시", "서울시", "서울"),
        "02",
        (
            "강남구",
            "서초구",
            "송파구",
            "마포구",
            "영등포구",
            "구로구",
            "금천구",
            "성동구",
            "중구",
            "종로구",
            "강서구",
            "노원구",
            "동대문구",
            "관악구",
        ),
        (
            "테헤란로",
            "강남대로",
            "디지털로",
            "가산디지털1로",
            "세종대로",
            "월드컵북로",
            "양재대로",
            "올림픽로",
            "왕십리로",
            "을지로",
            "국회대로",
            "도봉로",
        ),
    ),
    (
        "26",
        ("부산광역시", "부산시", "부산"),
        "051",
        ("해운대구", "부산진구", "사하구", "강서구", "동래구", "연제구"),
        ("중앙대로", "해운대로", "낙동대로", "녹산산업중로", "전포대로", "과정로"),
    ),
    (
        "27",
        ("대구광역시", "대구시", "대구"),
        "053",
        ("달서구", "북구", "수성구", "동구"),
        ("달구벌대로", "국채보상로", "성서공단로", "동대구로"),
    ),
    (
        "28",
        ("인천광역시", "인천시", "인천"),
        "032",
        ("남동구", "서구", "부평구", "연수구", "미추홀구"),
        ("남동대로", "인주대로", "봉수대로", "송도과학로", "부평대로"),
    ),
    ("29", ("광주광역시", "광주시", "광주"), "062", ("북구", "광산구", "서구"), ("첨단과기로", "하남대로", "무진대로")),
    (
        "30",
        ("대전광역시", "대전시", "대전"),
        "042",
        ("유성구", "서구", "대덕구"),
        ("대학로", "계룡로", "한밭대로", "대화로"),
    ),
    ("31", ("울산광역시", "울산시", "울산"), "052", ("남구", "북구", "울주군"), ("삼산로", "산업로", "온산로")),
    ("36", ("세종특별자치시", "세종시", "세종"), "044", ("",), ("한누리대로", "조치원로", "갈매로")),
    (
        "41",
        ("경기도", "경기"),
        "031",
        (
            "수원시 팔달구",
            "성남시 분당구",
            "고양시 일산동구",
            "화성시",
            "평택시",
            "김포시",
            "안산시 단원구",
            "용인시 기흥구",
            "부천시",
            "시흥시",
            "파주시",
        ),
        (
            "판교역로",
            "경수대로",
            "중앙로",
            "시화벨트로",
            "동탄대로",
            "김포한강로",
            "산업로",
            "평택로",
            "봉은사로",
            "덕영대로",
        ),
    ),
    (
        "42",
        ("강원특별자치도", "강원도", "강원"),
        "033",
        ("춘천시", "원주시", "강릉시", "평창군"),
        ("중앙로", "경강로", "대관령로", "원일로"),
    ),
    ("43", ("충청북도", "충북"), "043", ("청주시 흥덕구", "충주시", "음성군"), ("직지대로", "충주대로", "음성로")),
    (
        "44",
        ("충청남도", "충남"),
        "041",
        ("천안시 서북구", "아산시", "당진시", "서산시"),
        ("번영로", "온천대로", "당진중앙로", "서해로"),
    ),
    (
        "45",
        ("전북특별자치도", "전라북도", "전북"),
        "063",
        ("전주시 덕진구", "군산시", "익산시"),
        ("백제대로", "새만금북로", "익산대로"),
    ),
    ("46", ("전라남도", "전남"), "061", ("여수시", "순천시", "목포시", "나주시"), ("여수산단로", "순천만길", "영산로")),
    (
        "47",
        ("경상북도", "경북"),
        "054",
        ("포항시 남구", "구미시", "경주시", "안동시"),
        ("포스코대로", "구미대로", "태종로"),
    ),
    (
        "48",
        ("경상남도", "경남"),
        "055",
        ("창원시 성산구", "김해시", "거제시", "진주시"),
        ("중앙대로", "김해대로", "거제대로", "진주대로"),
    ),
    ("50", ("제주특별자치도", "제주도", "제주"), "064", ("제주시", "서귀포시"), ("연삼로", "중앙로", "일주동로")),
]
SIDO_WEIGHTS = (30, 6, 4, 6, 3, 3, 2, 1, 27, 3, 3, 4, 3, 3, 4, 5, 2)
DONG = (
    "역삼동",
    "서교동",
    "성수동",
    "가산동",
    "여의도동",
    "문래동",
    "중동",
    "상동",
    "신흥동",
    "송도동",
    "정자동",
    "우동",
    "연산동",
    "범어동",
)

SYL = (
    "한",
    "빛",
    "대",
    "성",
    "동",
    "아",
    "미",
    "래",
    "진",
    "우",
    "새",
    "솔",
    "가",
    "온",
    "누",
    "리",
    "태",
    "양",
    "청",
    "금",
    "강",
    "백",
    "두",
    "세",
    "명",
    "현",
    "일",
    "신",
    "광",
    "해",
    "오",
    "름",
    "다",
    "인",
    "라",
    "정",
    "수",
    "은",
    "하",
    "경",
    "보",
    "람",
    "승",
    "원",
    "영",
    "준",
    "삼",
    "호",
    "창",
    "효",
    "재",
    "민",
    "나",
    "윤",
    "서",
    "도",
    "희",
    "연",
    "월",
    "림",
)
NAME_FORMS = {
    "corp": ("(주){s}", "주식회사 {s}", "{s}(주)", "㈜{s}", "{s} 주식회사", "유한회사 {s}"),
    "10": ("{s}식품", "{s}푸드", "(주){s}식품"),
    "25": ("{s}정밀", "{s}금속", "(주){s}테크"),
    "29": ("{s}기계", "{s}산업"),
    "41": ("{s}건설", "(주){s}종합건설", "{s}개발"),
    "42": ("{s}토건", "{s}이앤씨"),
    "46": ("{s}상사", "{s}유통", "{s}무역"),
    "47": ("{s}마트", "{s}상회", "{s} 편의점", "{s}약국"),
    "49": ("{s}물류", "{s}운수", "{s}익스프레스"),
    "55": ("{s}호텔", "{s}리조트", "{s}펜션"),
    "56": ("{s}식당", "{s}가든", "{s}분식", "{s} 카페", "{s}치킨"),
    "58": ("{s}소프트", "{s}미디어"),
    "62": ("{s}시스템즈", "{s}소프트", "{s}랩"),
    "68": ("{s}부동산", "{s}공인중개사"),
    "70": ("{s}컨설팅",),
    "71": ("{s}세무회계", "{s}법무사사무소"),
    "74": ("{s}인력", "{s}시설관리", "{s}클린"),
    "75": ("{s}아웃소싱", "{s}인재개발"),
    "85": ("{s}학원", "{s}어학원", "{s}교육"),
    "86": ("{s}의원", "{s}치과", "{s}한의원"),
    "87": ("{s}요양원", "{s}복지센터"),
    "96": ("{s}미용실", "{s}세탁"),
    "01": ("{s}농원", "{s}영농조합법인", "{s}농장"),
    "03": ("{s}수산",),
}
INDUSTRY_WEIGHTS = (
    ("10", 4),
    ("25", 4),
    ("29", 3),
    ("41", 8),
    ("42", 2),
    ("46", 8),
    ("47", 12),
    ("49", 5),
    ("55", 2),
    ("56", 12),
    ("58", 2),
    ("62", 4),
    ("68", 2),
    ("70", 2),
    ("71", 3),
    ("74", 4),
    ("75", 3),
    ("85", 5),
    ("86", 6),
    ("87", 5),
    ("96", 4),
)


def company_stem(rng) -> str:
    n = 2 if rng.random() < 0.7 else 3
    return "".join(rng.choice(SYL) for _ in range(n))


def company_name(rng, industry: str, corporate: bool) -> str:
    stem = company_stem(rng)
    if corporate and (rng.random() < 0.5 or industry in ("47", "86", "96", "71", "68")):
        form = rng.choice(NAME_FORMS["corp"])
    else:
        form = rng.choice(NAME_FORMS.get(industry, ("{s}",)))
    name = form.format(s=stem)
    r = rng.random()
    if r < 0.02:
        name += ", 본점"  # needs quoting in CSV
    elif r < 0.03:
        name = f'"{stem}" {name}'  # embedded quotes
    elif r < 0.06:
        name += " " + rng.choice(("1호점", "2호점", "본사", "지점"))
    return name


def new_place(rng, sido_idx: int):
    s = SIDO[sido_idx]
    road = rng.choice(s[4])
    if rng.random() < 0.35:
        road = f"{road}{rng.randint(1, 60)}번길" if rng.random() < 0.5 else f"{road}{rng.randint(1, 40)}길"
    num = rng.randint(1, 480)
    sub = rng.randint(1, 30) if rng.random() < 0.15 else 0
    return (sido_idx, rng.choice(s[3]), road, num, sub, rng.choice(DONG))


def unit_suffix(rng) -> str:
    r = rng.random()
    if r < 0.4:
        return ""
    if r < 0.65:
        return f"{rng.randint(1, 15)}층"
    if r < 0.85:
        return f"{rng.randint(1, 12)}{rng.randint(1, 9):02d}호"
    if r < 0.93:
        return f"{rng.randint(2, 9)}층 {rng.randint(2, 9)}{rng.randint(1, 9):02d}호"
    return "지하1층"


def render_address(rng, place, unit: str) -> str:
    sido_idx, gu, road, num, sub, dong = place
    sido = rng.choice(SIDO[sido_idx][1])
    no = f"{num}-{sub}" if sub else str(num)
    glue = "" if rng.random() < 0.12 else " "
    head = sido + (glue + gu if gu else "")
    body = f"{road}{'' if rng.random() < 0.15 else ' '}{no}"
    addr = f"{head} {body}"
    if unit:
        addr += (", " if rng.random() < 0.5 else " ") + unit
    if rng.random() < 0.25:
        addr += f" ({dong})"
    if rng.random() < 0.05:
        addr = addr.replace(" ", "  ", 1)  # a double space as typed
    return addr


def new_phone(rng, sido_idx: int, size: int) -> str:
    r = rng.random()
    if size <= 4 and r < 0.45:
        return "010" + f"{rng.randint(1000, 9999)}{rng.randint(0, 9999):04d}"
    if r < 0.08:
        return "070" + f"{rng.randint(1000, 9999)}{rng.randint(0, 9999):04d}"
    area = SIDO[sido_idx][2]
    mid = rng.randint(200, 999) if (area != "02" and rng.random() < 0.5) else rng.randint(2000, 9999)
    return f"{area}{mid}{rng.randint(0, 9999):04d}"


def render_phone(rng, digits: str) -> str:
    if digits.startswith("02"):
        a, rest = "02", digits[2:]
    else:
        a, rest = digits[:3], digits[3:]
    b, c = rest[:-4], rest[-4:]
    r = rng.random()
    if r < 0.45:
        return f"{a}-{b}-{c}"
    if r < 0.7:
        return digits
    if r < 0.85:
        return f"{a} {b} {c}"
    if r < 0.93:
        return f"{a}-{b}{c}"
    return f"{a} {b}-{c}"


def phone_digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())
