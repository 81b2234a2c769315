"""features/collusion_evidence.py:workplace_claim_counts: how many people a workplace
ever employed is kept only on the claims filed while it was young, the only ones whose
rules read it (GH-02, GH-04). A hire at an older workplace then changes none of its
claims' collusion rows, and a nightly run does not cross-match them again for it."""

import datetime as dt

import pytest
from conftest import claim_row, conformed_frame, employment_row, hex_key, workplace_row

from features.collusion_evidence import CLAIM_COLLUSION_COLUMNS, YOUNG_WORKPLACE_DAYS, claim_collusion_features

AS_OF = dt.date(2026, 3, 7)
YOUNG, OLD = "11111111111", "22222222222"


def _spell(employment_id, person, workplace, acquired_on, lost_on=""):
    return employment_row(
        employment_id=employment_id,
        person_key=hex_key(person),
        workplace_id=workplace,
        acquired_on=acquired_on,
        lost_on=lost_on,
        separation_code="23" if lost_on else "",
    )


BASE = [
    _spell("E1", "young-claimant", YOUNG, "2025-09-01", "2026-01-20"),
    _spell("E2", "young-colleague", YOUNG, "2025-09-01"),
    _spell("E3", "old-claimant", OLD, "2018-01-02", "2024-01-20"),
    _spell("E4", "old-colleague", OLD, "2016-05-02"),
]
# Two years after the old workplace's claim: outside its layoff window, so nothing the
# claim's rules read changes with it.
HIRE_AT_OLD = _spell("E5", "new-hire", OLD, "2026-03-02")
HIRE_AT_YOUNG = _spell("E6", "new-hire", YOUNG, "2026-03-02")


def _rows(spark, employments):
    typed = {
        "claims": conformed_frame(
            spark,
            "claims",
            [
                claim_row("CY", hex_key("young-claimant"), workplace_id=YOUNG, filed_on="2026-02-01"),
                claim_row("CO", hex_key("old-claimant"), workplace_id=OLD, filed_on="2024-02-01"),
            ],
        ),
        "employments": conformed_frame(spark, "employments", employments),
        "workplaces": conformed_frame(
            spark,
            "workplaces",
            [
                workplace_row(workplace_id=YOUNG, business_no="1111111111", opened_on="2025-09-01"),
                workplace_row(workplace_id=OLD, business_no="2222222222", opened_on="2015-01-02"),
            ],
        ),
        "income": conformed_frame(spark, "income", []),
        "certifications": conformed_frame(spark, "certifications", []),
    }
    components = spark.createDataFrame([], "workplace_id string, component string")
    edges = spark.createDataFrame([], "src string, dst string, link string")
    found = claim_collusion_features(typed, components, edges, AS_OF)
    assert found.columns == list(CLAIM_COLLUSION_COLUMNS)
    return {row["claim_id"]: row.asDict() for row in found.collect()}


@pytest.fixture(scope="module")
def before(spark):
    return _rows(spark, BASE)


def test_the_workers_are_counted_for_a_claim_at_a_young_workplace_only(before):
    assert before["CY"]["workplace_age_days"] <= YOUNG_WORKPLACE_DAYS
    assert before["CY"]["workplace_workers"] == 2
    assert before["CO"]["workplace_age_days"] > YOUNG_WORKPLACE_DAYS
    assert before["CO"]["workplace_workers"] is None
    assert before["CO"]["workplace_claims"] == 0  # its claim came after its first two years


def test_a_hire_at_an_old_workplace_leaves_its_claims_rows_as_they_were(spark, before):
    after = _rows(spark, [*BASE, HIRE_AT_OLD])
    assert after["CO"] == before["CO"]
    assert after["CY"] == before["CY"]


def test_a_hire_at_a_young_workplace_counts_for_its_claims(spark, before):
    after = _rows(spark, [*BASE, HIRE_AT_YOUNG])
    assert after["CY"]["workplace_workers"] == 3
    assert after["CO"] == before["CO"]
