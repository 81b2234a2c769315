"""The evaluation against the generator's truth, on a hand-made queue."""

from fraud.evaluation import evaluate, render

HEADER = "case_id,claim_id,person_key,workplace_id,score,rank,fraud_types,rule_hits,reasons,estimated_overpayment,ring_id\n"
COVERED = {"UNDECLARED_WORK", "ABROAD_CERTIFICATION"}


def _outputs(tmp_path, case_rows, offenders=()):
    (tmp_path / "cases.csv").write_text(HEADER + "".join(row + "\n" for row in case_rows))
    (tmp_path / "repeat_offenders.csv").write_text(
        "person_key,prior_findings,last_decided_on,open_claim_id,suspected_now,recommended_action\n"
        + "".join(f"{p},1,2025-01-01,{c},false,review\n" for p, c in offenders))
    return tmp_path


TRUTH = {
    "planted": [
        {"claim_id": "UW1", "person_key": "p1", "typologies": ["UNDECLARED_WORK"], "overpayment": 1_000_000},
        {"claim_id": "AB1", "person_key": "p2", "typologies": ["ABROAD_CERTIFICATION"], "overpayment": 2_000_000},
        {"claim_id": "GH1", "person_key": "p3", "typologies": ["GHOST_EMPLOYMENT", "UNDECLARED_WORK"],
         "overpayment": 9_000_000},
        {"claim_id": "OLD1", "person_key": "p6", "typologies": ["UNDECLARED_WORK"], "overpayment": 1, "past": True},
    ],
    "lookalikes": [{"claim_id": "LA1", "person_key": "p4", "kind": "declared_income"}],
    "repeat_offenders": [{"person_key": "p5", "open_claim_id": "RO1", "suspected_now": False}],
}


def test_everything_found_with_its_type_and_amount_meets_the_targets(tmp_path):
    outputs = _outputs(tmp_path, [
        "Ca,AB1,p2,w,0.9,1,ABROAD_CERTIFICATION,AB-01,r,1990000,",
        "Cb,UW1,p1,w,0.85,2,UNDECLARED_WORK,UW-01,r,1040000,",
        "Cc,GH1,p3,w,0.85,3,UNDECLARED_WORK,UW-01,r,500000,",
        "Cd,LA1,p4,w,0.45,4,UNDECLARED_WORK,UW-03,r,0,",
    ], offenders=[("p5", "RO1")])
    report = evaluate(outputs, TRUTH, COVERED)
    uw = report["typologies"]["UNDECLARED_WORK"]
    assert (uw["planted"], uw["with_type"], uw["recall"]) == (2, 2, 1.0)
    # GH1 is also a ghost employment: its amount is not the cross-matches' to find.
    assert (uw["overpayment_checked"], uw["overpayment_within_5pct"]) == (1, 1)
    assert report["lookalikes"]["declared_income"] == {"planted": 1, "in_queue": 1, "above_a_planted_case": 0}
    assert report["queue"]["precision"] == 0.75
    assert report["targets_met"] is True
    assert "targets met: yes" in render(report)


def test_a_miss_a_wrong_amount_or_a_look_alike_above_a_case_fails_the_targets(tmp_path):
    outputs = _outputs(tmp_path, [
        "Cd,LA1,p4,w,0.9,1,UNDECLARED_WORK,UW-01,r,10,",
        "Cb,UW1,p1,w,0.85,2,UNDECLARED_WORK,UW-01,r,1100000,",
    ])
    report = evaluate(outputs, TRUTH, COVERED)
    assert report["typologies"]["ABROAD_CERTIFICATION"]["missed"] == ["AB1"]
    assert report["typologies"]["UNDECLARED_WORK"]["wrong_overpayments"] == [["UW1", 1_000_000, 1_100_000]]
    assert report["lookalikes_above_a_planted_case"] == [[1, "declared_income", "LA1"]]
    assert report["repeat_offenders"]["expected_and_listed"] == 0
    assert report["targets_met"] is False


def test_a_past_case_queued_again_fails_the_targets(tmp_path):
    outputs = _outputs(tmp_path, [
        "Ca,AB1,p2,w,0.9,1,ABROAD_CERTIFICATION,AB-01,r,2000000,",
        "Cb,UW1,p1,w,0.85,2,UNDECLARED_WORK,UW-01,r,1000000,",
        "Cc,GH1,p3,w,0.85,3,UNDECLARED_WORK,UW-01,r,1,",
        "Co,OLD1,p6,w,0.8,4,UNDECLARED_WORK,UW-01,r,1,",
    ], offenders=[("p5", "RO1")])
    report = evaluate(outputs, TRUTH, COVERED)
    assert report["typologies"]["UNDECLARED_WORK"]["planted"] == 2  # OLD1 is past: not counted
    assert report["queue"]["past_cases_requeued"] == 1
    assert report["targets_met"] is False
    assert "targets met: NO" in render(report)
