"""Workplace addresses and phone numbers as graph keys: one place, one key.

`ei/workplaces` carries `address` and `phone` exactly as the employer typed them
(FEEDS.md). The workplace-collusion graph links workplaces that share an address or
a phone, so every spelling of one place must become the same node, and two places
must never become one node: a false merge joins unrelated workplaces into a ring,
which is worse than a missed link.

Address key. A road-name address (도로명주소) reads
`시도 시군구 [읍면] 도로명 건물번호[, 상세주소] [(참고항목)]`; its key is built in steps:

0. the text is put in Unicode's composed form (NFC): Hangul typed or exported
   decomposed into jamo (NFD: `서` as ㅅ + ㅓ) is another string of code points, which
   no pattern below would match and which would key a place apart from itself;
1. full-width digits and punctuation become ASCII; every kind of whitespace becomes
   one space;
2. bracketed notes are dropped (`(역삼동)`, `(역삼동, 한빛빌딩)`, `[06234]`), and so
   is a leading postcode or `대한민국`;
3. the 시도 (province or metropolitan city) is written in its short form: `서울특별시`,
   `서울시` and `서울` all become `서울` (SIDO_SPELLINGS);
4. everything after the building number is dropped: floor, unit, room, building
   name (`4층`, `402호`, `B1층`, `지하1층`, `, 2층 201호`, `한빛빌딩 5층`). The
   building number is the first number after a word ending in 로 or 길 that is not
   itself part of a road name (`올림픽로35길 10`: 35 belongs to the road) or of a
   법정동 name (`을지로3가`); `지하` before it (`세종대로 지하 2`) and a sub-number
   (`123-4`) are kept. An address in which no such number is found (a lot-number
   address, 지번주소) keeps everything except trailing floor/unit tokens;
5. spaces and commas are removed, so `테헤란로 123` and `테헤란로123` match.

The key keeps the 시도, the 시군구, the road and the building number, so different
buildings, roads and districts stay apart. An address typed without its 시도
(`강남구 테헤란로 123`) does not match one typed with it: 중구 exists in six cities,
so the 시도 cannot be guessed. The one exception is 제주시/서귀포시, which exist only
in 제주.

Phone key (after NFC, for the `내선` below): digits only; `+82`, `82` or `0082` becomes the trunk prefix `0`; a second
number or a line range after `~`, `,`, `/`, `;`, `내선` or `ext` is dropped (so
`02-555-1234~6` does not become the different number 0255512346). A key of fewer than
9 or more than 11 digits is null: not a usable node (a 1588-xxxx call-centre number
has 8 digits and is shared by unrelated businesses anyway).

Each key exists twice, with identical results: as a Spark Column built from built-in
functions only (`normalized_address`, `normalized_phone`) and as plain Python
(`normalize_address`, `normalize_phone`) for tests, ad-hoc look-ups and the
investigators' tools. Both run the same regular expressions (ADDRESS_STEPS etc.),
which use only syntax that Java and Python read the same way. Spark has no NFC
function: `nfc` calls ICU's normaliser (ICU4J ships with Spark 4 for its collations)
through the built-in `reflect`, where Python uses `unicodedata`; both implement the
Unicode standard's NFC, so they agree (tests/features/test_normalize.py).
"""

from __future__ import annotations

import re
import unicodedata

from pyspark.sql import Column
from pyspark.sql import functions as F

# Look-alike characters typed from Korean IMEs and office suites, mapped one to one.
_FULL_WIDTH = "０１２３４５６７８９，－（）［］‐‑–—−"
_ASCII = "0123456789,-()[]-----"
_TRANSLATION = str.maketrans(_FULL_WIDTH, _ASCII)

# Canonical short form of each 시도 and the spellings that mean it, at the start of
# the address. A bare short form (`서울`) is already canonical. `광주시` is also the
# name of a city in 경기, so it means 광주광역시 only before one of that city's 구.
SIDO_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("서울", r"^서울(?:특별시|시)"),
    ("부산", r"^부산(?:광역시|시)"),
    ("대구", r"^대구(?:광역시|시)"),
    ("인천", r"^인천(?:광역시|시)"),
    ("광주", r"^광주(?:광역시|시(?= ?(?:동구|서구|남구|북구|광산구)))"),
    ("대전", r"^대전(?:광역시|시)"),
    ("울산", r"^울산(?:광역시|시)"),
    ("세종", r"^세종(?:특별자치시|시)"),
    ("경기", r"^경기도"),
    ("강원", r"^강원(?:특별자치도|도)"),
    ("충북", r"^충청북도"),
    ("충남", r"^충청남도"),
    ("전북", r"^(?:전라북도|전북특별자치도)"),
    ("전남", r"^전라남도"),
    ("경북", r"^경상북도"),
    ("경남", r"^경상남도"),
    ("제주", r"^제주(?:특별자치도|도)"),
)

# (pattern, replacement) applied in order before the building number is looked for.
# Replacements use Java's `$1`; the Python side converts them.
ADDRESS_STEPS: tuple[tuple[str, str], ...] = (
    # Line separators too: Java's `$` matches before a final one and `.` stops at them,
    # Python's do neither, so none may reach the patterns below.
    (r"[\t\n\x0b\f\r\u0085\u00a0\u200b\u2028\u2029\u3000]", " "),
    # 참고항목 such as (역삼동) and bracketed postcodes; an unclosed one runs to the end.
    (r"[(\[][^)\]]*(?:[)\]]|$)", " "),
    (r" {2,}", " "),
    (r"^ +| +$", ""),
    (r"^(?:(?:대한민국|[0-9]{5}|[0-9]{3}-[0-9]{3}) +)+", ""),
    *((pattern, canonical) for canonical, pattern in SIDO_SPELLINGS),
    # 제주시 and 서귀포시 exist only in 제주, so a missing 시도 is known.
    (r"^(제주시|서귀포시)", "제주 $1"),
)

# The address up to its building number. After the number must not come more of the
# number, a road-name suffix (`35길`, `53번길`, `173가길`, also after a space) or the
# `가` of a 법정동 such as 을지로3가; any of those means the number was part of a name.
ADDRESS_HEAD = (
    r"^(.*?(?:로|길) ?(?:지하 ?)?[0-9]+(?:-[0-9]+)?)"
    r"(?![0-9]|-|가(?![가-힣])| ?(?:번길|[가나다라마바사아자차카타파하]?길)(?![가-힣]))"
)

# Without a building number (lot-number addresses), floor and unit tokens at the end.
ADDRESS_TRAILING_UNITS = r"(?:[ ,]+(?:지하 ?|[Bb])?[0-9]+ ?(?:층|호|동|[Ff]))+[ ,]*$"

ADDRESS_SEPARATORS = r"[ ,]"

PHONE_STEPS: tuple[tuple[str, str], ...] = (
    # A second number or a line range: keep the first number only. (?s): `.` crosses
    # line separators in Java as in Python, and no `$` (Java's stops before a final one).
    (r"(?s)(?:~|,|/|;|내선|[Ee][Xx][Tt]).*", ""),
    (r"[^0-9]", ""),
    # Country code 82, with or without the international prefix 00 and a kept trunk 0.
    (r"^(?:00)?820?", "0"),
)

PHONE_MIN_DIGITS = 9
PHONE_MAX_DIGITS = 11


def _as_column(col: Column | str) -> Column:
    return F.col(col) if isinstance(col, str) else col


def nfc(col: Column | str) -> Column:
    """A STRING column in Unicode's composed form (NFC); null stays null.

    ICU's `Normalizer.compose(text, false)` is NFC (true would be NFKC); `reflect` calls
    a static Java method with no UDF and no Python worker. ICU4J is on Spark's own
    classpath, driver and executors alike. Spark marks `reflect` nondeterministic, so
    the column is best used in a select, not in a join condition."""
    text = _as_column(col)
    composed = F.reflect(F.lit("com.ibm.icu.text.Normalizer"), F.lit("compose"), text, F.lit(False))
    return F.when(text.isNotNull(), composed)  # ICU throws on a null


def nfc_text(text: str) -> str:
    """The plain-Python `nfc`."""
    return unicodedata.normalize("NFC", text)


def _python_replacement(java_replacement: str) -> str:
    return re.sub(r"\$(\d)", r"\\g<\1>", java_replacement)


def _replace_all(column: Column, steps: tuple[tuple[str, str], ...]) -> Column:
    for pattern, replacement in steps:
        column = F.regexp_replace(column, pattern, replacement)
    return column


def _replace_all_text(text: str, steps: tuple[tuple[str, str], ...]) -> str:
    for pattern, replacement in steps:
        text = re.sub(pattern, _python_replacement(replacement), text)
    return text


def normalized_address(col: Column | str) -> Column:
    """A workplace `address` (STRING) -> its place key (STRING), null for null or blank.

    See the module docstring for what the key keeps and drops.
    """
    cleaned = _replace_all(F.translate(nfc(col), _FULL_WIDTH, _ASCII), ADDRESS_STEPS)
    has_building_number = cleaned.rlike(ADDRESS_HEAD)
    up_to_building = F.when(has_building_number, F.regexp_extract(cleaned, ADDRESS_HEAD, 1)).otherwise(
        F.regexp_replace(cleaned, ADDRESS_TRAILING_UNITS, "")
    )
    key = F.regexp_replace(up_to_building, ADDRESS_SEPARATORS, "")
    return F.when(key != "", key)


def normalize_address(text: str | None) -> str | None:
    """The plain-Python `normalized_address`: an address -> its place key, or None."""
    if text is None:
        return None
    cleaned = _replace_all_text(nfc_text(text).translate(_TRANSLATION), ADDRESS_STEPS)
    head = re.search(ADDRESS_HEAD, cleaned)
    up_to_building = head.group(1) if head else re.sub(ADDRESS_TRAILING_UNITS, "", cleaned)
    key = re.sub(ADDRESS_SEPARATORS, "", up_to_building)
    return key or None


def normalized_phone(col: Column | str) -> Column:
    """A workplace `phone` (STRING) -> its digits with a domestic 0 prefix (STRING),
    null when null, blank, or not 9 to 11 digits long."""
    digits = _replace_all(nfc(col), PHONE_STEPS)
    is_usable_length = F.length(digits).between(PHONE_MIN_DIGITS, PHONE_MAX_DIGITS)
    return F.when(is_usable_length, digits)


def normalize_phone(text: str | None) -> str | None:
    """The plain-Python `normalized_phone`: a phone -> its key, or None."""
    if text is None:
        return None
    digits = _replace_all_text(nfc_text(text), PHONE_STEPS)
    return digits if PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS else None
