"""The evaluation against the generator's truth, on a hand-made queue."""

from simulation.evaluation import evaluate, render

HEADER = (
    "case_id,claim_id,person_key,workplace_id,score,rank,fraud_types,rule_hits,reasons,estimated_overpayment,ring_id\n"
)
COVERED = {"UNDECLARED_WORK", "ABROAD_CERTIFICATION"}


def _outputs(tmp_path, case_rows, offenders=()):
    (tmp_path / "cases.csv").write_text(HEADER + "".join(row + "\n" for row in case_rows))
    (tmp_path / "repeat_offenders.csv").write_text(
        "person_key,prior_findings,last_decided_on,open_claim_id,suspected_now,recommended_action\n"
        + "".join(f"{p},1,2025-01-01,{c},false,review\n" for p, c in offenders)
    )
    return tmp_path


TRUTH = {
    "planted": [
        {"claim_id": "UW1", "person_key": "p1", "typologies": ["UNDECLARED_WORK"], "overpayment": 1_000_000},
        {"claim_id": "AB1", "person_key": "p2", "typologies": ["ABROAD_CERTIFICATION"], "overpayment": 2_000_000},
        {
            "claim_id": "GH1",
            "person_key": "p3",
            "typologies": ["GHOST_EMPLOYMENT", "UNDECLARED_WORK"],
            "overpayment": 9_000_000,
        },
        {"claim_id": "OLD1", "person_key": "p6", "typologies": ["UNDECLARED_WORK"], "overpayment": 1, "past": True},
    ],
    "lookalikes": [{"claim_id": "LA1", "person_key": "p4", "kind": "declared_income"}],
    "repeat_offenders": [{"person_key": "p5", "open_claim_id": "RO1", "suspected_now": False}],
}


def test_everything_found_with_its_type_and_amount_meets_the_targets(tmp_path):
    outputs = _outputs(
        tmp_path,
        [
            "Ca,AB1,p2,w,0.9,1,ABROAD_CERTIFICATION,AB-01,r,1990000,",
            "Cb,UW1,p1,w,0.85,2,UNDECLARED_WORK,UW-01,r,1040000,",
            "Cc,GH1,p3,w,0.85,3,UNDECLARED_WORK,UW-01,r,500000,",
            "Cd,LA1,p4,w,0.45,4,UNDECLARED_WORK,UW-03,r,0,",
        ],
        offenders=[("p5", "RO1")],
    )
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
    outputs = _outputs(
        tmp_path,
        [
            "Cd,LA1,p4,w,0.9,1,UNDECLARED_WORK,UW-01,r,10,",
            "Cb,UW1,p1,w,0.85,2,UNDECLARED_WORK,UW-01,r,1100000,",
        ],
    )
    report = evaluate(outputs, TRUTH, COVERED)
    assert report["typologies"]["ABROAD_CERTIFICATION"]["missed"] == ["AB1"]
    assert report["typologies"]["UNDECLARED_WORK"]["wrong_overpayments"] == [["UW1", 1_000_000, 1_100_000]]
    assert report["lookalikes_above_a_planted_case"] == [[1, "declared_income", "LA1"]]
    assert report["repeat_offenders"]["expected_and_listed"] == 0
    assert report["targets_met"] is False


def test_a_past_case_queued_again_fails_the_targets(tmp_path):
    outputs = _outputs(
        tmp_path,
        [
            "Ca,AB1,p2,w,0.9,1,ABROAD_CERTIFICATION,AB-01,r,2000000,",
            "Cb,UW1,p1,w,0.85,2,UNDECLARED_WORK,UW-01,r,1000000,",
            "Cc,GH1,p3,w,0.85,3,UNDECLARED_WORK,UW-01,r,1,",
            "Co,OLD1,p6,w,0.8,4,UNDECLARED_WORK,UW-01,r,1,",
        ],
        offenders=[("p5", "RO1")],
    )
    report = evaluate(outputs, TRUTH, COVERED)
    assert report["typologies"]["UNDECLARED_WORK"]["planted"] == 2  # OLD1 is past: not counted
    assert report["queue"]["past_cases_requeued"] == 1
    assert report["targets_met"] is False
    assert "targets met: NO" in render(report)


def test_a_past_case_no_finding_decided_is_undecided_fraud_the_queue_must_hold(tmp_path):
    # A truth that names findings and names none for a past case: nobody decided it, so
    # it is one of the cases (k counts it) and queuing it is no case "queued again".
    truth = {
        **TRUTH,
        "planted": [
            *(p for p in TRUTH["planted"] if p["claim_id"] != "OLD1"),
            {**TRUTH["planted"][3], "overpayment": 700_000, "finding_id": None},
            {
                "claim_id": "OLD2",
                "person_key": "p7",
                "typologies": ["UNDECLARED_WORK"],
                "overpayment": 1,
                "past": True,
                "finding_id": "F2",
            },
        ],
    }
    rows = [
        "Ca,AB1,p2,w,0.9,1,ABROAD_CERTIFICATION,AB-01,r,2000000,",
        "Cb,UW1,p1,w,0.85,2,UNDECLARED_WORK,UW-01,r,1000000,",
        "Cc,GH1,p3,w,0.85,3,UNDECLARED_WORK,UW-01,r,1,",
        "Co,OLD1,p6,w,0.8,4,UNDECLARED_WORK,UW-01,r,700000,",
    ]
    report = evaluate(_outputs(tmp_path, rows, offenders=[("p5", "RO1")]), truth, COVERED)
    assert report["typologies"]["UNDECLARED_WORK"]["planted"] == 3  # OLD1 counts, OLD2 was decided
    assert (report["queue"]["k"], report["queue"]["precision_at_k"]) == (4, 1.0)
    assert report["queue"]["past_cases_requeued"] == 0
    assert report["targets_met"] is True
    # The decided one queued again still fails the targets.
    rows.append("Cp,OLD2,p7,w,0.7,5,UNDECLARED_WORK,UW-01,r,1,")
    report = evaluate(_outputs(tmp_path, rows, offenders=[("p5", "RO1")]), truth, COVERED)
    assert report["queue"]["past_cases_requeued"] == 1 and report["targets_met"] is False


RING_TRUTH = {
    "planted": [
        {
            "claim_id": "G1",
            "person_key": "p1",
            "workplace_id": "W1",
            "typologies": ["GHOST_EMPLOYMENT"],
            "overpayment": 100,
        },
        {
            "claim_id": "G2",
            "person_key": "p2",
            "workplace_id": "W2",
            "typologies": ["GHOST_EMPLOYMENT"],
            "overpayment": 100,
        },
    ],
    "rings": [{"ring_id": "RING-01", "workplace_ids": ["W1", "W2", "W3", "W4"]}],
    "closures": ["WC"],
    "lookalikes": [{"claim_id": "S1", "person_key": "p9", "kind": "SHARED_ACCOUNT_SPOUSES", "workplace_id": "WS"}],
}


def _ring_outputs(tmp_path, ring_members, workplace_ranks):
    outputs = _outputs(
        tmp_path,
        [
            "Ca,G1,p1,W1,0.9,1,GHOST_EMPLOYMENT,GH-01,r,100,Rx",
            "Cb,G2,p2,W2,0.9,2,GHOST_EMPLOYMENT,GH-01,r,100,Rx",
        ],
    )
    (outputs / "rings.csv").write_text(
        "ring_id,workplace_ids,person_count,claim_count,score,reasons\n"
        + "".join(f"R{i},{';'.join(members)},2,2,0.9,r\n" for i, members in enumerate(ring_members))
    )
    (outputs / "workplaces.csv").write_text(
        "workplace_id,score,rank,ring_id,fraud_types,reasons,flagged_claims\n"
        + "".join(f"{w},0.9,{rank},,GHOST_EMPLOYMENT,r,1\n" for w, rank in workplace_ranks)
    )
    return outputs


def test_rings_found_whole_with_their_workplaces_on_top_meet_the_targets(tmp_path):
    outputs = _ring_outputs(
        tmp_path, [["W1", "W2", "W3", "W4"]], [("W1", 1), ("W2", 2), ("W3", 3), ("W4", 4), ("WX", 5)]
    )
    report = evaluate(outputs, RING_TRUTH, {"GHOST_EMPLOYMENT"})
    assert report["rings"]["per_ring"]["RING-01"] == {"best_jaccard": 1.0, "found_as": "R0"}
    assert report["rings"]["colluding_worst_rank"] == 4
    assert report["rings"]["others_above_a_colluding_workplace"] == 0
    assert report["targets_met"] is True


def test_a_partial_ring_or_a_closure_in_a_ring_fails_the_targets(tmp_path):
    outputs = _ring_outputs(tmp_path, [["W1", "W2", "W3"], ["WC", "WS"]], [("W1", 1), ("WC", 2), ("W2", 3), ("W3", 4)])
    report = evaluate(outputs, RING_TRUTH, {"GHOST_EMPLOYMENT"})
    assert report["rings"]["min_best_jaccard"] == 0.75
    assert report["rings"]["colluding_missing"] == ["W4"]
    assert report["rings"]["closures_in_rings"] == ["WC"]
    assert report["rings"]["spouse_workplaces_in_rings"] == ["WS"]
    assert report["rings"]["others_above_a_colluding_workplace"] == 1
    assert report["targets_met"] is False
    assert "worst best-Jaccard 0.75" in render(report)


def _scores(tmp_path, rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jobs.crossmatch import SCORE_COLUMNS, SCORES_SCHEMA

    pq.write_table(
        pa.Table.from_pylist([dict(zip(SCORE_COLUMNS, row)) for row in rows], schema=SCORES_SCHEMA),
        tmp_path / "scores.parquet",
    )


def test_rules_model_and_combined_rankings_are_measured_against_the_planted_cases(tmp_path):
    from simulation.evaluation import score_comparison

    outputs = _outputs(tmp_path, [])
    # claim_id, rule_strength, rules_score, model_probability, score (null: not a case)
    _scores(
        outputs,
        [
            ("LA1", 0.9, 0.95, 0.05, 0.90),  # a look-alike the rules like and the model does not
            ("UW1", 0.8, 0.90, 0.90, 0.97),
            ("AB1", 0.5, 0.75, 0.80, 0.93),
            ("GH1", None, None, 0.70, None),  # the rules missed it; the model did not
            ("N1", None, None, 0.75, None),
            ("N2", None, None, 0.01, None),
        ],
    )
    comparison = score_comparison(outputs, TRUTH, COVERED)
    assert (comparison["k"], comparison["positives"], comparison["claims"]) == (3, 3, 6)
    # rules: LA1, UW1, AB1, then the rest by claim id (GH1 fourth): 2 of the first 3
    assert comparison["rules"] == {
        "average_precision": round((1 / 2 + 2 / 3 + 3 / 4) / 3, 4),
        "precision_at_k": round(2 / 3, 4),
    }
    # model: UW1 .90, AB1 .80, N1 .75, GH1 .70
    assert comparison["model"] == {
        "average_precision": round((1 + 1 + 3 / 4) / 3, 4),
        "precision_at_k": round(2 / 3, 4),
    }
    # combined: the queue by score (UW1, AB1, LA1), then by probability (N1, GH1)
    assert comparison["combined"] == {
        "average_precision": round((1 + 1 + 3 / 5) / 3, 4),
        "precision_at_k": round(2 / 3, 4),
    }
    assert comparison["combination_better"] is False  # the model alone ranks GH1 higher
    assert "combination better than either: NO" in render(evaluate(outputs, TRUTH, COVERED))


def test_a_rules_only_night_has_no_score_comparison(tmp_path):
    from simulation.evaluation import score_comparison

    assert score_comparison(_outputs(tmp_path, []), TRUTH, COVERED) is None


def test_fraud_no_feed_shows_counts_as_current_fraud_in_the_score_comparison(tmp_path):
    from simulation.evaluation import score_comparison

    outputs = _outputs(tmp_path, [])
    truth = {
        **TRUTH,
        "unevidenced": [
            {"claim_id": "CW1", "person_key": "p7", "typologies": ["UNDECLARED_WORK"], "overpayment": 5, "past": False},
            {"claim_id": "CW0", "person_key": "p8", "typologies": ["UNDECLARED_WORK"], "overpayment": 5, "past": True},
        ],
    }
    _scores(
        outputs,
        [
            ("UW1", 0.8, 0.90, 0.90, 0.97),
            ("AB1", 0.5, 0.75, 0.80, 0.93),
            ("GH1", 0.7, 0.85, 0.85, 0.95),
            ("A0", None, None, 0.10, None),  # the rules see neither A0 nor CW1: claim id order puts A0 first
            ("CW1", None, None, 0.60, None),
        ],
    )
    comparison = score_comparison(outputs, truth, COVERED)
    assert (comparison["k"], comparison["positives"], comparison["unevidenced"]) == (4, 4, 1)  # CW0 is past
    assert comparison["rules"]["precision_at_k"] == 0.75  # A0 before CW1
    assert comparison["combined"] == {"average_precision": 1.0, "precision_at_k": 1.0}
    assert "1 of them fraud no feed shows" in render(evaluate(outputs, truth, COVERED))


ACCEPTANCE_TRUTH = {
    "planted": [
        {"claim_id": "UW1", "person_key": "p1", "typologies": ["UNDECLARED_WORK"], "overpayment": 1_000_000},
        {"claim_id": "UW2", "person_key": "p2", "typologies": ["UNDECLARED_WORK"], "overpayment": 1_000_000},
        {"claim_id": "FS1", "person_key": "p3", "typologies": ["FALSE_SEPARATION"], "overpayment": 3_000_000},
        {"claim_id": "OLD", "person_key": "p4", "typologies": ["FALSE_SEPARATION"], "overpayment": 1, "past": True},
    ],
    "lookalikes": [{"claim_id": "LA1", "person_key": "p9", "kind": "PRE_CLAIM_WORK"}],
    "rings": [{"ring_id": "RING-01", "workplace_ids": ["W1", "W2"]}],
}


def test_acceptance_measures_the_queue_in_rank_order_against_the_targets(tmp_path):
    from simulation.evaluation import acceptance, render_acceptance

    outputs = _outputs(
        tmp_path,
        [
            "Ca,UW1,p1,w,0.9,1,UNDECLARED_WORK,UW-01,r,1000000,",
            "Cb,LA1,p9,w,0.8,2,UNDECLARED_WORK,UW-01,r,5,",
            "Cc,FS1,p3,w,0.7,3,FALSE_SEPARATION,FS-03,r,2000000,",
            "Cd,UW2,p2,w,0.2,4,UNDECLARED_WORK,UW-04,r,0,",
        ],
    )
    (outputs / "rings.csv").write_text(
        "ring_id,workplace_ids,person_count,claim_count,score,reasons\n"
        "R1,W1;W2;W3,2,2,0.9,r\nR2,W8;W9,2,2,0.5,r\nR3,W7;W6,2,2,0.5,r\n"
    )
    figures = acceptance(outputs, ACCEPTANCE_TRUTH)
    assert figures["positives"] == 3  # OLD is past
    assert figures["average_precision"] == round((1 / 1 + 2 / 3 + 3 / 4) / 3, 4)
    assert figures["precision_at_k"] == round(2 / 3, 4)  # UW1, LA1, FS1 in the first 3
    assert figures["recall_at_k"] == {"FALSE_SEPARATION": 1.0, "UNDECLARED_WORK": 0.5}
    assert (figures["lookalikes_in_top_k"], figures["lookalikes_in_top_k_by_kind"]) == (1, {"PRE_CLAIM_WORK": 1})
    assert figures["overpayment_within_5pct"] == round(1 / 3, 4)  # FS1 owes 3,000,000; UW2 proves 0
    assert (figures["rings_listed"], figures["ring_best_jaccard"]) == (3, round(2 / 3, 4))
    assert figures["checks"] == {
        "average_precision": False,
        "precision_at_k": False,
        "recall_at_k": False,
        "lookalikes_in_top_k": False,
        "overpayment_within_5pct": False,
        "ring_best_jaccard": False,
        "rings_listed": False,
    }
    table = render_acceptance({"synth": figures, "holdout": figures})
    assert "targets met" in table and table.splitlines()[0].endswith("holdout")
    assert "synth: missed average_precision" in table


def test_acceptance_is_met_by_a_queue_with_every_case_first_and_right(tmp_path):
    from simulation.evaluation import acceptance

    outputs = _outputs(
        tmp_path,
        [
            "Ca,UW1,p1,w,0.9,1,UNDECLARED_WORK,UW-01,r,1000000,",
            "Cc,FS1,p3,w,0.8,2,FALSE_SEPARATION,FS-03,r,3010000,",
            "Cd,UW2,p2,w,0.7,3,UNDECLARED_WORK,UW-01,r,990000,",
            "Cb,LA1,p9,w,0.2,4,UNDECLARED_WORK,UW-04,r,0,",
        ],
    )
    (outputs / "rings.csv").write_text(
        "ring_id,workplace_ids,person_count,claim_count,score,reasons\nR1,W1;W2,2,2,0.9,r\nR2,W8;W9,2,2,0.5,r\n"
    )
    figures = acceptance(outputs, ACCEPTANCE_TRUTH)
    assert (figures["average_precision"], figures["precision_at_k"], figures["lookalikes_queued"]) == (1.0, 1.0, 1)
    assert figures["targets_met"] is True


def test_acceptance_compares_the_rows_quarantined_with_the_bad_rows_planted(tmp_path):
    import json

    from simulation.evaluation import acceptance, render_acceptance

    outputs = _outputs(
        tmp_path,
        [
            "Ca,UW1,p1,w,0.9,1,UNDECLARED_WORK,UW-01,r,1000000,",
            "Cc,FS1,p3,w,0.8,2,FALSE_SEPARATION,FS-03,r,3010000,",
            "Cd,UW2,p2,w,0.7,3,UNDECLARED_WORK,UW-01,r,990000,",
        ],
    )
    (outputs / "rings.csv").write_text(
        "ring_id,workplace_ids,person_count,claim_count,score,reasons\nR1,W1;W2,2,2,0.9,r\n"
    )
    drops = [
        {"source": "ei", "drop_date": "2026-03-02", "tables": {"claims": {"quarantined": 3}, "findings": {}}},
        {"source": "moj", "drop_date": "2026-03-03", "tables": {"crossings": {"quarantined": 0}}},
    ]
    (outputs / "run_manifest.json").write_text(json.dumps({"drops": drops}))
    truth = ACCEPTANCE_TRUTH | {"quarantine_expected": {"ei/2026-03-02/claims": 3, "moj/2026-03-03/crossings": 0}}
    figures = acceptance(outputs, truth)
    assert figures["quarantine"] == {"planted": 3, "quarantined": 3, "differ": []}
    assert figures["checks"]["quarantine_matches"] and figures["targets_met"]
    # Two rows of a record lost to the quarantine that the generator did not plant as bad.
    truth["quarantine_expected"]["ei/2026-03-02/claims"] = 1
    figures = acceptance(outputs, truth)
    assert figures["quarantine"] == {"planted": 1, "quarantined": 3, "differ": ["ei/2026-03-02/claims"]}
    assert not figures["targets_met"]
    assert "rows quarantined / bad rows planted" in render_acceptance({"w": figures})
    assert "3/1" in render_acceptance({"w": figures})
    # A night before the last is held to the drops it could see.
    truth["quarantine_expected"] |= {"ei/2026-03-02/claims": 3, "ei/2026-03-04/claims": 5}
    (outputs / "run_manifest.json").write_text(json.dumps({"ds": "2026-03-03", "drops": drops}))
    assert acceptance(outputs, truth)["quarantine"] == {"planted": 3, "quarantined": 3, "differ": []}
    # No counts in the truth: not measured, not a check.
    assert "quarantine_matches" not in acceptance(outputs, ACCEPTANCE_TRUTH)["checks"]
