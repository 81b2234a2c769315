"""The agencies' feed contract (../shared/contract/FEEDS.md) as data.

Everything that reads, writes or validates a feed file takes its columns, types and
checks from here: the generator, the tokenizer, the row validator and the Great
Expectations suites. A column is described once, by what FEEDS.md says it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SOURCES: dict[str, tuple[str, ...]] = {
    "ei": ("workplaces", "employments", "claims", "certifications", "findings"),
    "nts": ("income",),
    "moj": ("crossings",),
}

ENCODINGS = ("utf-8", "cp949")
MANIFEST_NAME = "_MANIFEST.json"
TIMEZONE = "Asia/Seoul"

SEPARATION_CODES = ("11", "12", "22", "23", "26", "31", "32", "41")
ELIGIBLE_SEPARATION_CODES = ("12", "22", "23", "31", "32")
CLAIM_STATUSES = ("FILED", "APPROVED", "REJECTED", "EXHAUSTED", "TERMINATED")
CHANNELS = ("ONLINE", "MOBILE", "VISIT")
FRAUD_TYPES = (
    "UNDECLARED_WORK",
    "ABROAD_CERTIFICATION",
    "FALSE_SEPARATION",
    "GHOST_EMPLOYMENT",
    "OTHER",
)
INCOME_TYPES = ("WAGE", "DAILY_WAGE", "BUSINESS", "OTHER")
DIRECTIONS = ("OUT", "IN")

# Column kinds. Each kind has a format check (a regular expression on the delivered
# text) and a Spark type it is converted to once it passes.
HEX64 = "hex64"  # person_key, bank_account_key
WORKPLACE_ID = "workplace_id"  # 11 digits
BUSINESS_NO = "business_no"  # 10 digits
RECORD_ID = "record_id"  # an agency's own row id
DATE = "date"
TIMESTAMP = "timestamp"
INTEGER = "integer"
CODE = "code"  # one of a closed set of values
TEXT = "text"
PHONE = "phone"
COUNTRY = "country"  # ISO 3166-1 alpha-2
TWO_DIGITS = "two_digits"  # KSIC division, 시도 code

# What the WHOLE delivered text of each kind must be. No anchors here, on purpose: in
# Java and in Python `$` also matches before a final line break (Java: also before
# \r\n, \r, U+0085, U+2028, U+2029), so `^[0-9]{11}$` lets "12345678901\n" pass. Spark
# and Great Expectations apply a pattern through `java_regex` (anchored at the very end,
# `\z`), Python through `re.fullmatch` (`Column.matches`). Only syntax that Java and
# Python read alike ([0-9], never \d: Python's \d takes any script's digits).
PATTERNS: dict[str, str] = {
    HEX64: r"[0-9a-f]{64}",
    WORKPLACE_ID: r"[0-9]{11}",
    BUSINESS_NO: r"[0-9]{10}",
    RECORD_ID: r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}",
    DATE: r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    TIMESTAMP: r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})",
    INTEGER: r"-?[0-9]{1,18}",
    PHONE: r"[0-9][0-9 -]{6,19}",
    COUNTRY: r"[A-Z]{2}",
    TWO_DIGITS: r"[0-9]{2}",
}


def java_regex(pattern: str) -> str:
    r"""A PATTERNS entry as a Java regular expression (Spark's rlike, GX on Spark) that
    holds only when the whole text matches: `\z` is the end of the input, with no line
    break allowed before it."""
    return rf"^(?:{pattern})\z"


SPARK_TYPES: dict[str, str] = {
    HEX64: "string",
    WORKPLACE_ID: "string",
    BUSINESS_NO: "string",
    RECORD_ID: "string",
    DATE: "date",
    TIMESTAMP: "timestamp",
    INTEGER: "bigint",
    CODE: "string",
    TEXT: "string",
    PHONE: "string",
    COUNTRY: "string",
    TWO_DIGITS: "string",
}

# Dates outside this window are impossible for any record of the scheme (고용보험 began 1995).
EARLIEST_DATE = "1950-01-01"
LATEST_DATE = "2099-12-31"
MAX_TEXT_LENGTH = 300
# Free text is typed text: no control characters but tab, line feed and carriage return
# (a quoted CSV field may hold a line break). A NUL or an escape sequence is not typed.
# C0, DEL and C1; the same in Java and Python regular expressions.
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"


@dataclass(frozen=True)
class Column:
    """One delivered column: its name, kind and the checks on its value."""

    name: str
    kind: str
    required: bool = True
    values: tuple[str, ...] = ()  # for CODE
    minimum: int | None = None  # for INTEGER
    maximum: int | None = None  # for INTEGER
    not_after_drop: bool = False  # a date or time that cannot lie after the drop's date (KST)

    @property
    def spark_type(self) -> str:
        return SPARK_TYPES[self.kind]

    @property
    def java_regex(self) -> str | None:
        """The format check as a Java regular expression over the whole text, or None
        for a kind without one (CODE, TEXT)."""
        pattern = PATTERNS.get(self.kind)
        return None if pattern is None else java_regex(pattern)

    def matches(self, text: str) -> bool:
        """Whether `text` passes this column's format check (Python's side of it)."""
        pattern = PATTERNS.get(self.kind)
        return pattern is None or re.fullmatch(pattern, text) is not None


@dataclass(frozen=True)
class RowCheck:
    """A check across columns of one row. `expression` is Spark SQL over the typed
    columns and is true when the row is acceptable; nulls in either column pass
    (nullness is the per-column check's business)."""

    name: str
    columns: tuple[str, ...]
    expression: str
    description: str


@dataclass(frozen=True)
class Table:
    source: str
    name: str
    columns: tuple[Column, ...]
    primary_key: str
    row_checks: tuple[RowCheck, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def spark_ddl(self) -> str:
        """The contract columns in their Spark types, as a DDL schema string."""
        return ", ".join(f"`{c.name}` {c.spark_type}" for c in self.columns)

    @property
    def has_updated_at(self) -> bool:
        return "updated_at" in self.column_names

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _updated_at() -> Column:
    return Column("updated_at", TIMESTAMP, not_after_drop=True)


def _amount(name: str, maximum: int, required: bool = True) -> Column:
    return Column(name, INTEGER, required=required, minimum=0, maximum=maximum)


def _ordered(first: str, second: str, what: str) -> RowCheck:
    return RowCheck(
        name=f"{first}_not_after_{second}",
        columns=(first, second),
        expression=f"{first} IS NULL OR {second} IS NULL OR {first} <= {second}",
        description=f"{what}: {first} must not be after {second}",
    )


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            source="ei",
            name="workplaces",
            primary_key="workplace_id",
            columns=(
                Column("workplace_id", WORKPLACE_ID),
                Column("business_no", BUSINESS_NO),
                Column("name", TEXT),
                Column("representative_key", HEX64),
                Column("address", TEXT),
                Column("phone", PHONE, required=False),
                Column("bank_account_key", HEX64, required=False),
                Column("industry_code", TWO_DIGITS),
                Column("region_code", TWO_DIGITS),
                Column("opened_on", DATE, not_after_drop=True),
                Column("closed_on", DATE, required=False),
                _updated_at(),
            ),
            row_checks=(_ordered("opened_on", "closed_on", "a workplace closes after it opens"),),
        ),
        Table(
            source="ei",
            name="employments",
            primary_key="employment_id",
            columns=(
                Column("employment_id", RECORD_ID),
                Column("person_key", HEX64),
                Column("workplace_id", WORKPLACE_ID),
                Column("acquired_on", DATE, not_after_drop=True),
                Column("lost_on", DATE, required=False),
                Column("separation_code", CODE, required=False, values=SEPARATION_CODES),
                _amount("monthly_wage", 1_000_000_000),
                _updated_at(),
            ),
            row_checks=(
                _ordered("acquired_on", "lost_on", "a spell ends after it starts"),
                RowCheck(
                    name="separation_code_iff_lost_on",
                    columns=("lost_on", "separation_code"),
                    expression="(lost_on IS NULL) = (separation_code IS NULL)",
                    description="lost_on and separation_code are both null (open spell) or both set",
                ),
            ),
        ),
        Table(
            source="ei",
            name="claims",
            primary_key="claim_id",
            columns=(
                Column("claim_id", RECORD_ID),
                Column("person_key", HEX64),
                Column("workplace_id", WORKPLACE_ID),
                Column("separation_code", CODE, values=SEPARATION_CODES),
                Column("filed_on", DATE, not_after_drop=True),
                Column("eligible_from", DATE),
                Column("benefit_days", INTEGER, minimum=120, maximum=270),
                Column("daily_amount", INTEGER, minimum=1, maximum=1_000_000),
                Column("bank_account_key", HEX64),
                Column("status", CODE, values=CLAIM_STATUSES),
                _updated_at(),
            ),
        ),
        Table(
            source="ei",
            name="certifications",
            primary_key="cert_id",
            columns=(
                Column("cert_id", RECORD_ID),
                Column("claim_id", RECORD_ID),
                Column("cert_on", DATE, not_after_drop=True),
                Column("period_from", DATE),
                Column("period_to", DATE),
                Column("channel", CODE, values=CHANNELS),
                Column("ip_country", COUNTRY, required=False),
                Column("job_search_count", INTEGER, minimum=0, maximum=1_000),
                _amount("declared_income", 10_000_000_000),
                Column("paid_days", INTEGER, minimum=0, maximum=366),
                _amount("paid_amount", 1_000_000_000),
                _updated_at(),
            ),
            row_checks=(
                _ordered("period_from", "period_to", "a certified period"),
                _ordered("period_from", "cert_on", "a certification is made after its period starts"),
                RowCheck(
                    name="ip_country_null_for_visit",
                    columns=("channel", "ip_country"),
                    expression="channel IS NULL OR channel <> 'VISIT' OR ip_country IS NULL",
                    description="ip_country is null for a VISIT certification",
                ),
            ),
        ),
        Table(
            source="ei",
            name="findings",
            primary_key="finding_id",
            columns=(
                Column("finding_id", RECORD_ID),
                Column("person_key", HEX64),
                Column("claim_id", RECORD_ID, required=False),
                Column("workplace_id", WORKPLACE_ID, required=False),
                Column("fraud_type", CODE, values=FRAUD_TYPES),
                Column("decided_on", DATE, not_after_drop=True),
                _amount("overpaid_amount", 100_000_000_000),
                Column("collusion", CODE, values=("Y", "N")),
                _updated_at(),
            ),
        ),
        Table(
            source="nts",
            name="income",
            primary_key="record_id",
            columns=(
                Column("record_id", RECORD_ID),
                Column("person_key", HEX64),
                Column("payer_business_no", BUSINESS_NO),
                Column("income_type", CODE, values=INCOME_TYPES),
                Column("work_from", DATE),
                Column("work_to", DATE),
                Column("work_days", INTEGER, required=False, minimum=0, maximum=366),
                _amount("amount", 100_000_000_000),
                Column("filed_on", DATE, not_after_drop=True),
                _updated_at(),
            ),
            row_checks=(
                _ordered("work_from", "work_to", "an income period"),
                RowCheck(
                    name="work_days_within_period",
                    columns=("work_days", "work_from", "work_to"),
                    expression=(
                        "work_days IS NULL OR work_from IS NULL OR work_to IS NULL "
                        "OR work_days <= datediff(work_to, work_from) + 1"
                    ),
                    description="work_days cannot exceed the days of work_from..work_to",
                ),
            ),
        ),
        Table(
            source="moj",
            name="crossings",
            primary_key="crossing_id",
            columns=(
                Column("crossing_id", RECORD_ID),
                Column("person_key", HEX64),
                Column("crossed_at", TIMESTAMP, not_after_drop=True),
                Column("direction", CODE, values=DIRECTIONS),
                Column("port_code", RECORD_ID),
                Column("country", COUNTRY),
            ),
        ),
    )
}


def tables_of(source: str) -> tuple[Table, ...]:
    return tuple(TABLES[name] for name in SOURCES[source])


def table(source: str, name: str) -> Table:
    t = TABLES.get(name)
    if t is None or t.source != source:
        raise KeyError(f"{source}/{name} is not a table of the feed contract")
    return t
