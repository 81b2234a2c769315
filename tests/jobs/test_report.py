"""The report job's readers (jobs/report.py): yesterday's queue, quarantine reasons per
drop, and the model card from the registry. The whole stage runs in the end-to-end DAG
test (tests/dags/test_fraud_nightly.py)."""

from __future__ import annotations

import datetime as dt

from conftest import register_tiny_model, train_tiny_model


def test_yesterday_is_the_latest_earlier_run_with_a_queue(tmp_path):
    from fraud.layout import Layout
    from jobs.report import previous_run

    for day, with_queue in (("2026-03-01", True), ("2026-03-03", True), ("2026-03-04", False), ("2026-03-06", True)):
        (tmp_path / "outputs" / day).mkdir(parents=True)
        if with_queue:
            (tmp_path / "outputs" / day / "cases.csv").write_text("case_id\n")
    (tmp_path / "outputs" / "not-a-date").mkdir()
    layout = Layout(tmp_path)
    assert previous_run(layout, dt.date(2026, 3, 5)) == dt.date(2026, 3, 3)  # 03-04 has no queue
    assert previous_run(layout, dt.date(2026, 3, 1)) is None


def test_quarantine_reasons_are_counted_per_column_and_check(tmp_path):
    from fraud.layout import Layout
    from jobs.report import quarantine_counts

    layout = Layout(tmp_path)
    path = layout.quarantine_file("ei", dt.date(2026, 3, 2), "claims")
    path.parent.mkdir(parents=True)
    path.write_text(
        "source,drop_date,table,line_no,column,check,reason,raw_line\n"
        "ei,2026-03-02,claims,2,person_key,format,bad,x\n"
        "ei,2026-03-02,claims,3,person_key,format,bad,y\n"
        "ei,2026-03-02,claims,4,filed_on,date,bad,z\n"
    )
    manifest = {
        "drops": [
            {
                "source": "ei",
                "drop_date": "2026-03-02",
                "tables": {"claims": {"quarantined": 3}, "findings": {"quarantined": 0}},
            }
        ]
    }
    assert quarantine_counts(layout, manifest) == [
        {
            "source": "ei",
            "drop_date": "2026-03-02",
            "table": "claims",
            "column": "filed_on",
            "check": "date",
            "rows": 1,
        },
        {
            "source": "ei",
            "drop_date": "2026-03-02",
            "table": "claims",
            "column": "person_key",
            "check": "format",
            "rows": 2,
        },
    ]


def test_a_quarantined_record_over_the_csv_field_limit_is_counted(tmp_path):
    # A record over 1 MiB is quarantined whole; the landing reader has set the csv
    # module's limit to 1 MiB (fraud/records.py), and must find it there afterwards.
    import csv

    from fraud.layout import Layout
    from fraud.records import MAX_FIELD_CHARS
    from fraud.storage import write_csv
    from jobs.report import quarantine_counts
    from jobs.validate import QUARANTINE_HEADER

    layout = Layout(tmp_path)
    huge = "C9," + "x" * (2 * MAX_FIELD_CHARS)
    write_csv(
        layout.quarantine_file("ei", dt.date(2026, 3, 2), "claims"),
        QUARANTINE_HEADER,
        [["ei", "2026-03-02", "claims", 2, "*", "record", "malformed CSV record", huge]],
    )
    manifest = {"drops": [{"source": "ei", "drop_date": "2026-03-02", "tables": {"claims": {"quarantined": 1}}}]}
    assert csv.field_size_limit() == MAX_FIELD_CHARS
    assert quarantine_counts(layout, manifest) == [
        {"source": "ei", "drop_date": "2026-03-02", "table": "claims", "column": "*", "check": "record", "rows": 1}
    ]
    assert csv.field_size_limit() == MAX_FIELD_CHARS


def test_model_card_of_a_registered_version_and_of_a_rules_only_night(tmp_path):
    from jobs.report import model_card
    from models.model_features import FEATURE_NAMES

    model = train_tiny_model()
    model.metrics = {"rows": 40, "average_precision": 0.8125, "recall_at_capacity": {"UNDECLARED_WORK": 0.75}}
    version = register_tiny_model(tmp_path, model)
    card, error = model_card(tmp_path, version)
    assert error is None and card["version"] == version
    assert [f["name"] for f in card["features"]] == list(FEATURE_NAMES)
    assert all(f["meaning"] for f in card["features"])
    assert card["metrics"] == [
        {"metric": "average_precision", "value": "0.8125"},
        {"metric": "recall_at_capacity UNDECLARED_WORK", "value": "0.7500"},
        {"metric": "rows", "value": 40},
    ]
    assert model_card(tmp_path, None) == (None, None)
    missing, why = model_card(tmp_path, "99")
    assert missing is None and "model version 99 could not be read" in why


def test_a_rings_claims_carry_their_person_and_workplace(spark, tmp_path):
    """The graph stage's claims hold the ring, not the subject: the report takes the
    person and workplace from the conformed claims (a ring page once showed them empty)."""
    from jobs.report import ring_claims

    collusion = tmp_path / "collusion"
    spark.createDataFrame([("CL-1", "R-1"), ("CL-2", None)], "claim_id string, ring_id string").write.parquet(
        str(collusion / "claims")
    )
    claims = spark.createDataFrame(
        [("CL-1", "a" * 64, "11111111111"), ("CL-2", "b" * 64, "22222222222")],
        "claim_id string, person_key string, workplace_id string",
    )
    assert ring_claims(spark, collusion, claims) == [
        {"claim_id": "CL-1", "person_key": "a" * 64, "workplace_id": "11111111111", "ring_id": "R-1"}
    ]
    assert ring_claims(spark, None, claims) == []
