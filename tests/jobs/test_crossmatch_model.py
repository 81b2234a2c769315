"""Cross-matching with a scoring model: the model moves cases within their tier,
never across it; case ids, gap-free ranks and the rules' reasons stay, the model's
reason codes are added, and every undecided claim gets a probability.

A tiny world on 2026-04-30, every claim with the three certifications of
tests/rules/test_rules.py and, for February, a wage statement of w work days from a
payer that never reported the employment:

| claim | w | declared in c2 | rules | tier |
| --- | --- | --- | --- | --- |
| p06, p12, p20 | 6, 12, 20 | 0 | UW-01 (UW-02 needs an employment feed: none here) | proven (same strength) |
| u20, u25 | 20, 25 | 300,000 of 2,000,000 | UW-03 | lead |
| clean | — | 0 | none | no case |
| decided | 20 | 0 | UW-01, but found already | not queued, not scored |

The tiny model (tests/conftest.py) learned: the more days worked, the likelier fraud.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import conformed_frame as frame
from conftest import register_tiny_model

from fraud import contract
from jobs.stage_io import CrossmatchInputs, Night

RUN_DATE = dt.date(2026, 4, 30)
KST = dt.timezone(dt.timedelta(hours=9))
NOT_INSURED_PAYER = "9999999999"
WORKPLACE = ("11111111111", "1111111111")
WORKED = {"p06": 6, "p12": 12, "p20": 20, "u20": 20, "u25": 25, "decided": 20}
DECLARED = {"u20": 300_000, "u25": 300_000}
CLAIMANTS = ("p06", "p12", "p20", "u20", "u25", "clean", "decided")
PROVEN, LEADS = ("CL-p06", "CL-p12", "CL-p20"), ("CL-u20", "CL-u25")


def person(name: str) -> str:
    return f"{CLAIMANTS.index(name) + 1:064x}"


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), KST)


def world(spark) -> dict:
    periods = (
        ("c1", dt.date(2026, 1, 5), dt.date(2026, 2, 1), dt.date(2026, 2, 2)),
        ("c2", dt.date(2026, 2, 2), dt.date(2026, 3, 1), dt.date(2026, 3, 2)),
        ("c3", dt.date(2026, 3, 2), dt.date(2026, 3, 29), dt.date(2026, 3, 30)),
    )
    claims = [
        dict(
            claim_id=f"CL-{n}",
            person_key=person(n),
            workplace_id=WORKPLACE[0],
            separation_code="23",
            filed_on=dt.date(2026, 1, 2),
            eligible_from=dt.date(2026, 1, 5),
            benefit_days=180,
            daily_amount=60_000,
            bank_account_key="f" * 64,
            status="APPROVED",
            updated_at=at(dt.date(2026, 1, 2)),
        )
        for n in CLAIMANTS
    ]
    certifications = [
        dict(
            cert_id=f"{n}-{c}",
            claim_id=f"CL-{n}",
            cert_on=cert_on,
            period_from=start,
            period_to=end,
            channel="ONLINE",
            ip_country="KR",
            job_search_count=2,
            declared_income=DECLARED.get(n, 0) if c == "c2" else 0,
            paid_days=28,
            paid_amount=1_680_000,
            updated_at=at(cert_on),
        )
        for n in CLAIMANTS
        for c, start, end, cert_on in periods
    ]
    income = [
        dict(
            record_id=f"r-{n}",
            person_key=person(n),
            payer_business_no=NOT_INSURED_PAYER,
            income_type="WAGE",
            work_from=dt.date(2026, 2, 1),
            work_to=dt.date(2026, 2, 28),
            work_days=w,
            amount=2_000_000,
            filed_on=dt.date(2026, 3, 10),
            updated_at=at(dt.date(2026, 3, 10)),
        )
        for n, w in WORKED.items()
    ]
    workplaces = [
        dict(
            workplace_id=WORKPLACE[0],
            business_no=WORKPLACE[1],
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
    findings = [
        dict(
            finding_id="f-decided",
            person_key=person("decided"),
            claim_id="CL-decided",
            workplace_id=None,
            fraud_type="UNDECLARED_WORK",
            decided_on=dt.date(2026, 4, 20),
            overpaid_amount=1_680_000,
            collusion="N",
            updated_at=at(dt.date(2026, 4, 20)),
        )
    ]
    rows = {
        "claims": claims,
        "certifications": certifications,
        "income": income,
        "employments": [],
        "workplaces": workplaces,
        "crossings": [],
        "findings": findings,
    }
    return {name: frame(spark, name, rows[name]) for name in contract.TABLES}


def _rules_alone(spark, tables) -> dict:
    from jobs.crossmatch import detect

    detection = detect(tables, RUN_DATE)
    assert detection.scores is None  # no model, no scores
    cases = {row["claim_id"]: row.asDict() for row in detection.cases.collect()}
    return cases


def _with_the_model(spark, tables, tmp_path) -> dict:
    """crossmatch.run with the tiny model registered in the warehouse: its cases.csv
    (typed back), scores.parquet and what it returned."""
    import csv

    import pyarrow.parquet as pq

    from jobs import crossmatch

    conformed, warehouse = tmp_path / "conformed", tmp_path / "warehouse"
    for name, table in tables.items():
        table.write.parquet(str(conformed / name))
    version = register_tiny_model(warehouse)
    result = crossmatch.run(spark, CrossmatchInputs(conformed, model_version=version), Night(RUN_DATE, warehouse))
    outputs = warehouse / "outputs" / RUN_DATE.isoformat()
    with open(outputs / "cases.csv", newline="", encoding="utf-8") as handle:
        cases = {
            row["claim_id"]: dict(
                row,
                score=float(row["score"]),
                rank=int(row["rank"]),
                estimated_overpayment=int(row["estimated_overpayment"]),
            )
            for row in csv.DictReader(handle)
        }
    scores = {row["claim_id"]: row for row in pq.read_table(outputs / "scores.parquet").to_pylist()}
    for claim_id, row in cases.items():
        row.update(
            rule_strength=scores[claim_id]["rule_strength"], model_probability=scores[claim_id]["model_probability"]
        )
    return {"cases": cases, "scores": scores, "result": result, "version": version}


@pytest.fixture(scope="module")
def queues(spark, tmp_path_factory):
    tables = world(spark)
    warehouse = tmp_path_factory.mktemp("crossmatch")
    return {
        "rules": {"cases": _rules_alone(spark, tables)},
        "combined": _with_the_model(spark, tables, warehouse),
        "tables": tables,
        "warehouse": warehouse / "warehouse",
    }


def test_the_registered_pyfunc_returns_the_probability_the_night_used(queues, monkeypatch):
    """`models:/fraud_scoring@champion`, loaded as a plain MLflow pyfunc with nothing
    of the project, gives each claim the model_probability in the night's
    scores.parquet, from the night's features."""
    import mlflow.pyfunc
    import numpy as np

    from jobs.crossmatch import detect
    from models.model_features import FEATURE_NAMES, feature_frame, inputs_from_evidence
    from models.registry import ModelRegistry, default_tracking_uri

    tables = queues["tables"]
    found = detect(tables, RUN_DATE).found
    features = feature_frame(inputs_from_evidence(found, tables["claims"])).toPandas().set_index("claim_id")
    night = queues["combined"]["scores"]
    features = features.loc[sorted(night)]
    ModelRegistry(queues["warehouse"]).promote(queues["combined"]["version"])  # the first: champion
    monkeypatch.setenv("MLFLOW_TRACKING_URI", default_tracking_uri(queues["warehouse"]))
    pyfunc = mlflow.pyfunc.load_model("models:/fraud_scoring@champion")
    assert [c.name for c in pyfunc.metadata.get_input_schema().inputs] == list(FEATURE_NAMES)
    predicted = pyfunc.predict(features[list(FEATURE_NAMES)].reset_index(drop=True))
    expected = [night[claim_id]["model_probability"] for claim_id in features.index]
    assert len(expected) == 6 and len(set(np.round(expected, 9))) > 1  # the claims differ
    np.testing.assert_allclose(predicted["model_probability"].to_numpy(), expected, rtol=0, atol=1e-12)


def test_the_world_has_the_tiers_it_was_built_for(queues):
    rules = queues["rules"]["cases"]
    assert set(rules) == set(PROVEN) | set(LEADS)
    # UW-01 0.85 alone: (1 + 0.85) / 2. UW-02 ("a payer that never reported the
    # employment") reads the employment feed's silence, and this world delivers no
    # employment feed: its silence covers no span, so it is a gap, not evidence.
    assert {rules[c]["score"] for c in PROVEN} == {0.925}
    assert {rules[c]["score"] for c in LEADS} == {0.225}  # UW-03 0.45 / 2


def test_crossmatch_scores_with_the_model_version_it_was_given(queues):
    combined = queues["combined"]
    assert combined["result"].model_version == combined["version"] == "1"
    assert combined["result"].files[-1].endswith("scores.parquet")


def test_the_model_reorders_cases_within_their_tier(queues):
    combined = queues["combined"]["cases"]
    by_rank = [claim_id for claim_id, _ in sorted(combined.items(), key=lambda item: item[1]["rank"])]
    # More days worked, likelier fraud: the tie among the proven cases is broken by the model.
    assert by_rank == ["CL-p20", "CL-p12", "CL-p06", "CL-u25", "CL-u20"]
    scores = {claim_id: row["score"] for claim_id, row in combined.items()}
    assert scores["CL-p20"] > scores["CL-p12"] > scores["CL-p06"] > queues["rules"]["cases"]["CL-p06"]["score"]
    assert scores["CL-u25"] > scores["CL-u20"] > queues["rules"]["cases"]["CL-u20"]["score"]


def test_every_proven_case_stays_above_every_lead(queues):
    combined = queues["combined"]["cases"]
    assert min(combined[c]["score"] for c in PROVEN) >= 0.5 > max(combined[c]["score"] for c in LEADS)
    assert max(combined[c]["rank"] for c in PROVEN) < min(combined[c]["rank"] for c in LEADS)
    # u25's model probability is above p06's; the tier still decides.
    assert combined["CL-u25"]["model_probability"] > combined["CL-p06"]["model_probability"]


def test_the_score_is_the_one_combination_of_rule_strength_and_probability(queues):
    for row in queues["combined"]["cases"].values():
        evidence = 1 - (1 - row["rule_strength"]) * (1 - row["model_probability"])
        tier_base = 0.5 if row["claim_id"] in PROVEN else 0.0
        assert row["score"] == pytest.approx(tier_base + evidence / 2, abs=1e-4)


def test_case_ids_ranks_and_rule_reasons_stay_model_reasons_are_added(queues):
    rules, combined = queues["rules"]["cases"], queues["combined"]["cases"]
    assert {c: row["case_id"] for c, row in combined.items()} == {c: row["case_id"] for c, row in rules.items()}
    assert sorted(row["rank"] for row in combined.values()) == [1, 2, 3, 4, 5]
    for claim_id, row in combined.items():
        assert row["rule_hits"] == rules[claim_id]["rule_hits"]
        assert row["estimated_overpayment"] == rules[claim_id]["estimated_overpayment"]
    # Reason codes are what raised the probability: none for p06, unlikely by the model.
    assert combined["CL-p06"]["reasons"] == rules["CL-p06"]["reasons"]
    for claim_id in ("CL-p20", "CL-u25"):
        assert combined[claim_id]["reasons"] == (
            rules[claim_id]["reasons"]
            + f";model: days of work on record inside certified periods: {WORKED[claim_id[3:]]}"
        )


def test_every_undecided_claim_is_scored_for_evaluation(queues):
    scores = queues["combined"]["scores"]
    assert set(scores) == set(PROVEN) | set(LEADS) | {"CL-clean"}  # the decided claim is not
    clean = scores["CL-clean"]
    assert (clean["rule_strength"], clean["rules_score"], clean["score"]) == (None, None, None)
    assert 0 <= clean["model_probability"] < scores["CL-p06"]["model_probability"]
    assert scores["CL-p20"]["rules_score"] == queues["rules"]["cases"]["CL-p20"]["score"]
    assert scores["CL-p20"]["score"] == queues["combined"]["cases"]["CL-p20"]["score"]
    assert list(scores) == sorted(scores)  # rows in claim_id order: the same run writes the same bytes
