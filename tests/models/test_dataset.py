"""Point-in-time training examples: labels, decision points and no leakage.

One tiny world, decided on 2026-04-01:

| who | what | expected |
| --- | --- | --- |
| pos | claim filed 2026-01-05, two online certifications (02-09, 03-09) declaring 0; income for the second period filed 03-10; left the country 03-01 (no return on record by 04-01); finding UNDECLARED_WORK decided 04-01 | positive at 04-01: 2 certifications, the second with undeclared work and abroad, not rehired |
| pos, late | a third certification (04-06), income for the first period filed 04-20, another departure 04-10 (so the 03-01 trip lacks its return), rehired by the same workplace 04-15 | invisible to the example; visible to features computed at ds |
| neg | claim filed 2026-01-05, two visits (02-09, 03-09), nothing found | negative at 03-09 + the median lag (23 days) = 04-01 |
| neg, late | income for its first period filed 04-25 | invisible to the example |
| posB, negB | pos and neg without the late records | the same examples as pos and neg |
| oth | claim with an OTHER finding only | no example |

The collusion features are left out here (computed from the cut tables like the
rest); the cut of the employment spells they read is tested on `as_of` itself.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import conformed_frame as frame
from conftest import hex_key as key
from pyspark.sql import functions as F

from fraud import contract

D = dt.date.fromisoformat
KST = dt.timezone(dt.timedelta(hours=9))
UPDATED = dt.datetime(2026, 5, 31, tzinfo=KST)
DS = D("2026-05-31")
DECIDED = D("2026-04-01")
SNAPSHOTS = [D("2026-03-15"), D("2026-04-01"), D("2026-05-01")]
WP = "40000000001"
PAYER = "9000000001"  # not an insured workplace


def claim(person, filed_on="2026-01-05"):
    filed = D(filed_on)
    return dict(
        claim_id=f"CL-{person}",
        person_key=key(person),
        workplace_id=WP,
        separation_code="23",
        filed_on=filed,
        eligible_from=filed + dt.timedelta(days=7),
        benefit_days=180,
        daily_amount=60_000,
        bank_account_key=key(f"acct{person}"),
        status="APPROVED",
        updated_at=UPDATED,
    )


def cert(person, n, period_from, period_to, cert_on, channel="ONLINE"):
    return dict(
        cert_id=f"CL-{person}-c{n}",
        claim_id=f"CL-{person}",
        cert_on=D(cert_on),
        period_from=D(period_from),
        period_to=D(period_to),
        channel=channel,
        ip_country="KR" if channel != "VISIT" else None,
        job_search_count=2,
        declared_income=0,
        paid_days=28,
        paid_amount=1_680_000,
        updated_at=UPDATED,
    )


def income(record_id, person, work_from, work_to, filed_on):
    return dict(
        record_id=record_id,
        person_key=key(person),
        payer_business_no=PAYER,
        income_type="WAGE",
        work_from=D(work_from),
        work_to=D(work_to),
        work_days=10,
        amount=1_000_000,
        filed_on=D(filed_on),
        updated_at=UPDATED,
    )


def crossing(crossing_id, person, day, direction):
    return dict(
        crossing_id=crossing_id,
        person_key=key(person),
        crossed_at=dt.datetime.combine(D(day), dt.time(10, 0), KST),
        direction=direction,
        port_code="ICN",
        country="JP",
    )


def spell(employment_id, person, acquired_on, lost_on=None, code=None):
    return dict(
        employment_id=employment_id,
        person_key=key(person),
        workplace_id=WP,
        acquired_on=D(acquired_on),
        lost_on=D(lost_on) if lost_on else None,
        separation_code=code,
        monthly_wage=2_500_000,
        updated_at=UPDATED,
    )


def finding(finding_id, person, fraud_type, decided_on):
    return dict(
        finding_id=finding_id,
        person_key=key(person),
        claim_id=f"CL-{person}",
        workplace_id=WP,
        fraud_type=fraud_type,
        decided_on=D(decided_on),
        overpaid_amount=1_000_000,
        collusion="N",
        updated_at=UPDATED,
    )


def world() -> dict[str, list[dict]]:
    """pos, neg, oth with the late records; posB and negB the same claims without
    them (one world, so that one feature run serves both)."""
    rows = {
        "workplaces": [
            dict(
                workplace_id=WP,
                business_no="4000000001",
                name="사업장01",
                representative_key=key("rep"),
                address="서울특별시 중구 세종대로 1",
                phone=None,
                bank_account_key=None,
                industry_code="47",
                region_code="11",
                opened_on=D("2010-01-01"),
                closed_on=None,
                updated_at=UPDATED,
            )
        ],
        "claims": [claim("oth")],
        "certifications": [cert("oth", 1, "2026-01-12", "2026-02-08", "2026-02-09", "VISIT")],
        "income": [],
        "crossings": [],
        "employments": [spell("e-oth", "oth", "2024-01-01", "2025-12-31", "23")],
        "findings": [finding("F-oth", "oth", "OTHER", "2026-03-20")],
    }
    for suffix in ("", "B"):
        pos, neg = f"pos{suffix}", f"neg{suffix}"
        rows["claims"] += [claim(pos), claim(neg)]
        rows["certifications"] += [
            cert(pos, 1, "2026-01-12", "2026-02-08", "2026-02-09"),
            cert(pos, 2, "2026-02-09", "2026-03-08", "2026-03-09"),
            cert(neg, 1, "2026-01-12", "2026-02-08", "2026-02-09", channel="VISIT"),
            cert(neg, 2, "2026-02-09", "2026-03-08", "2026-03-09", channel="VISIT"),
        ]
        rows["income"].append(income(f"r1{suffix}", pos, "2026-02-09", "2026-03-08", "2026-03-10"))
        rows["crossings"].append(crossing(f"x1{suffix}", pos, "2026-03-01", "OUT"))
        rows["employments"] += [spell(f"e-{p}", p, "2024-01-01", "2025-12-31", "23") for p in (pos, neg)]
        rows["findings"].append(finding(f"F-{pos}", pos, "UNDECLARED_WORK", "2026-04-01"))
    # What arrived after the decision, for pos and neg only.
    rows["certifications"].append(cert("pos", 3, "2026-03-09", "2026-04-05", "2026-04-06"))
    rows["income"] += [
        income("r2", "pos", "2026-01-12", "2026-02-08", "2026-04-20"),
        income("r3", "neg", "2026-01-12", "2026-02-08", "2026-04-25"),
    ]
    rows["crossings"].append(crossing("x2", "pos", "2026-04-10", "OUT"))
    rows["employments"].append(spell("e-pos-rehired", "pos", "2026-04-15"))
    return rows


def tables_of(spark, rows):
    return {name: frame(spark, name, rows[name]) for name in contract.TABLES}


@pytest.fixture(scope="module")
def built(spark):
    from models.dataset import training_examples, without_graph
    from models.model_features import claim_inputs, feature_frame

    tables = tables_of(spark, world())
    examples = training_examples(tables, DS, SNAPSHOTS, collusion=without_graph)
    at_ds = feature_frame(claim_inputs(tables, DS))
    return {
        "examples": {r["claim_id"]: r.asDict() for r in examples.collect()},
        "at_ds": {r["claim_id"]: r.asDict() for r in at_ds.collect()},
    }


def test_positives_at_their_finding_negatives_a_lag_after_their_last_certification(built):
    decisions = built["examples"]  # each example carries its decision point and label
    assert set(decisions) == {"CL-pos", "CL-neg", "CL-posB", "CL-negB"}  # an OTHER finding is no label
    assert (decisions["CL-pos"]["decision_on"], decisions["CL-pos"]["label"]) == (DECIDED, 1)
    assert decisions["CL-pos"]["fraud_type"] == "UNDECLARED_WORK"
    # the median lag of the positives: 2026-03-09 -> 2026-04-01, 23 days
    assert (decisions["CL-neg"]["decision_on"], decisions["CL-neg"]["label"]) == (D("2026-03-09") + dt.timedelta(23), 0)


def test_each_example_takes_the_latest_snapshot_on_or_before_its_decision(built):
    assert {claim_id: row["snapshot_on"] for claim_id, row in built["examples"].items()} == {
        "CL-pos": DECIDED,
        "CL-neg": DECIDED,
        "CL-posB": DECIDED,
        "CL-negB": DECIDED,
    }


def test_the_example_sees_what_was_known_at_the_decision(built):
    pos = built["examples"]["CL-pos"]
    assert pos["certifications"] == 2
    assert pos["undeclared_work_certifications"] == 1  # income filed 03-10
    assert pos["abroad_certifications"] == 1  # left 03-01, no return on record yet
    assert pos["tainted_certifications"] == 1  # the second: undeclared work, and abroad


def test_the_planted_late_records_change_the_features_when_visible(built):
    # Proof that the late records matter: computed at ds, they show.
    pos, neg = built["at_ds"]["CL-pos"], built["at_ds"]["CL-neg"]
    assert pos["certifications"] == 3
    assert pos["undeclared_work_certifications"] == 2
    # the 04-10 departure shows the 03-01 trip lacks its return: possibly abroad 03-01..04-09
    assert pos["abroad_certifications"] == 0 and pos["possibly_abroad_certifications"] == 2
    assert neg["worked_days"] > 0


def test_no_feature_uses_data_dated_after_the_decision_point(built):
    neg = built["examples"]["CL-neg"]
    assert neg["worked_days"] == 0 and neg["undeclared_work_certifications"] == 0
    for late, on_time in (("CL-pos", "CL-posB"), ("CL-neg", "CL-negB")):
        with_late_records = {k: v for k, v in built["examples"][late].items() if k != "claim_id"}
        without_them = {k: v for k, v in built["examples"][on_time].items() if k != "claim_id"}
        assert with_late_records == without_them


def test_as_of_cuts_by_the_records_own_dates(spark):
    from models.dataset import as_of

    rows = world()
    rows["crossings"].append(
        dict(
            crossing("x3", "neg", "2026-04-01", "OUT"),
            crossed_at=dt.datetime(2026, 3, 31, 16, 30, tzinfo=dt.timezone.utc),
        )
    )
    rows["employments"].append(spell("e-neg-2", "neg", "2026-01-01", "2026-04-20", "23"))
    rows["workplaces"].append(dict(rows["workplaces"][0], workplace_id="40000000002", closed_on=D("2026-05-01")))
    cut = as_of(tables_of(spark, rows), DECIDED)
    assert {r["crossing_id"] for r in cut["crossings"].collect()} == {"x1", "x1B", "x3"}  # 04-01 01:30 KST counts
    still_employed = cut["employments"].where(F.col("employment_id") == "e-neg-2").first()
    assert (still_employed["lost_on"], still_employed["separation_code"]) == (None, None)
    assert cut["employments"].where(F.col("employment_id") == "e-pos-rehired").count() == 0
    assert {r["finding_id"] for r in cut["findings"].collect()} == {"F-oth"}  # decided 04-01 is the label
    assert cut["workplaces"].where(F.col("workplace_id") == "40000000002").first()["closed_on"] is None
    assert "CL-pos-c3" not in {r["cert_id"] for r in cut["certifications"].collect()}
    assert {r["record_id"] for r in cut["income"].collect()} == {"r1", "r1B"}


def test_the_night_scores_the_features_training_would_see(spark, examples):
    """No training/serving skew: the nightly run (jobs/crossmatch.py detect, fed the
    graph stage's collusion features as jobs/collusion.py computes them) gives every
    undecided claim the probability the model gives the features a training example
    of that day holds (models/dataset.py snapshot_features). The model is trained on
    examples where every feature carries weight, so a feature computed differently
    on either side changes a probability."""
    from jobs.collusion import analyse
    from jobs.crossmatch import detect
    from jobs.train import collusion_with_rings
    from models.dataset import snapshot_features
    from models.fit import PLATT, TrainingConfig, train

    rows = world()
    for person in ("und", "und2"):  # undecided claims with evidence (pos's records, no finding)
        rows["claims"].append(claim(person))
        rows["certifications"] += [
            cert(person, 1, "2026-01-12", "2026-02-08", "2026-02-09"),
            cert(person, 2, "2026-02-09", "2026-03-08", "2026-03-09"),
        ]
        rows["employments"].append(spell(f"e-{person}", person, "2024-01-01", "2025-12-31", "23"))
    rows["income"].append(income("r-und", "und", "2026-02-09", "2026-03-08", "2026-03-10"))
    rows["crossings"].append(crossing("x-und2", "und2", "2026-03-01", "OUT"))
    tables = tables_of(spark, rows)
    # Platt scaling: a different margin is a different probability.
    model = train(examples, TrainingConfig(holdout_from=dt.date(2025, 10, 1), capacity=20, calibration=PLATT))

    night = detect(tables, DS, collusion=analyse(tables, DS, 50).claims, model=model)
    served = {r["claim_id"]: r["model_probability"] for r in night.scores.collect()}
    features = snapshot_features(tables, DS, collusion_with_rings(50)).orderBy("claim_id").toPandas()
    trained = dict(zip(features["claim_id"], model.score(features)))

    assert set(served) == {"CL-neg", "CL-negB", "CL-und", "CL-und2"}  # decided claims are not scored
    assert len({round(p, 6) for p in served.values()}) >= 3  # the claims differ, and so do their scores
    for claim_id, probability in served.items():
        assert probability == pytest.approx(trained[claim_id], abs=1e-12), claim_id


def test_investigators_labels_override_unfound_claims_only(spark):
    import datetime as dt

    from models.dataset import INVESTIGATOR_LABELS_SCHEMA, with_investigator_labels

    day = dt.date
    decisions = spark.createDataFrame(
        [
            ("found", day(2026, 2, 1), 1, "UNDECLARED_WORK"),
            ("confirmed", day(2026, 2, 5), 0, None),
            ("cleared", day(2026, 2, 5), 0, None),
            ("late", day(2026, 2, 5), 0, None),
        ],
        "claim_id string, decision_on date, label int, fraud_type string",
    )
    labels = spark.createDataFrame(
        [
            ("found", 0, day(2026, 2, 3), None),
            ("confirmed", 1, day(2026, 2, 10), "ABROAD_CERTIFICATION"),
            ("cleared", 0, day(2026, 2, 11), None),
            ("late", 1, day(2026, 4, 1), "OTHER"),
            ("unknown", 1, day(2026, 2, 1), "OTHER"),
        ],
        INVESTIGATOR_LABELS_SCHEMA,
    )
    result = {
        r["claim_id"]: (r["label"], r["decision_on"], r["fraud_type"])
        for r in with_investigator_labels(decisions, labels, day(2026, 3, 1)).collect()
    }
    assert result == {
        "found": (1, day(2026, 2, 1), "UNDECLARED_WORK"),  # a finding outranks a disposition
        "confirmed": (1, day(2026, 2, 10), "ABROAD_CERTIFICATION"),
        "cleared": (0, day(2026, 2, 11), None),
        "late": (0, day(2026, 2, 5), None),  # recorded after ds: not used
    }


def test_no_feature_names_an_attribute_the_model_must_not_use():
    import re

    from models.model_features import FEATURES, NOT_USED

    for feature in FEATURES:
        names = set(re.findall(r"[a-z_][a-z0-9_]*", feature.expression))
        assert not names & set(NOT_USED), feature.name


def test_the_features_do_not_move_when_an_attribute_the_model_must_not_use_changes(spark, built):
    """The same world with every workplace in another region and industry and every
    claim's daily amount changed gives the same features."""
    from models.model_features import NOT_USED, claim_inputs, feature_frame

    rows = world()
    for workplace in rows["workplaces"]:
        workplace.update(region_code="51", industry_code="01")
    for claim_row in rows["claims"]:
        claim_row.update(daily_amount=claim_row["daily_amount"] // 2 + 777)
    assert {"region_code", "industry_code", "daily_amount"} <= set(NOT_USED)
    changed = feature_frame(claim_inputs(tables_of(spark, rows), DS))
    assert {r["claim_id"]: r.asDict() for r in changed.collect()} == built["at_ds"]
