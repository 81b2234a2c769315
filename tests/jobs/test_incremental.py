"""Nightly runs build on the night before: the graph and cross-matching stages
recompute only the claims and rings the night touched (jobs/collusion.py
touched_claims, jobs/crossmatch.py touched_persons) and give byte for byte the outputs
of a full rebuild; anything else about the base night falls back to the full run."""

import csv
import io
import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from conftest import crossing_row, csv_text, write_drop

from fraud import contract
from fraud.config import Settings
from fraud.layout import Layout
from fraud.storage import read_json, write_json
from jobs import pipeline
from jobs.changes import STATE_FILE, stage_state, usable_base
from jobs.conform import read_conformed
from jobs.crossmatch import open_trip_persons
from jobs.stage_io import Night


def _settings(tmp_path, landing, **overrides):
    return Settings.from_env(
        landing=landing,
        warehouse=tmp_path / "warehouse",
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        drop_wait_timeout_seconds=0,
        **overrides,
    )


def _outputs(settings, ds):
    outputs = Layout(settings.warehouse).outputs(ds)
    return {p.relative_to(outputs).as_posix(): p.read_bytes() for p in sorted(outputs.rglob("*")) if p.is_file()}


def _rows(landing, source, day, table):
    drop = landing / source / day
    encoding = json.loads((drop / "_MANIFEST.json").read_text())["encoding"]
    text = (drop / f"{table}.csv").read_bytes().decode(encoding).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _row(rows, **changes):
    return {**rows[0], **changes}


def _crafted_night(landing, truth, day):
    """A night of every kind of change: a ring's workplace moves onto another
    workplace's phone line (two components become one) and takes a bank account whose
    key sorts first (the component's label changes), a claimant of the ring takes a
    new job at it, a certification, an income statement and a claim's new version
    arrive for planted claimants, one of them leaves the country (an open trip), and a
    finding of another claimant names a later claim of someone else (an identity
    corrected since: only that claim's filing date says it is not an earlier one)."""
    baseline = truth["drop_dates"][0]
    stamp = f"{day}T09:00:00+09:00"
    workplaces = {row["workplace_id"]: row for row in _rows(landing, "ei", baseline, "workplaces")}
    ring = truth["rings"][0]
    ring_workplace = ring["workplace_ids"][0]
    in_rings = {w for r in truth["rings"] for w in r["workplace_ids"]}
    claims = _rows(landing, "ei", baseline, "claims")
    other = next(
        w
        for w in sorted({row["workplace_id"] for row in claims} - in_rings)
        if w in workplaces and workplaces[w]["phone"] and workplaces[w]["phone"] != workplaces[ring_workplace]["phone"]
    )
    planted = truth["planted"][0]
    claim = [row for row in claims if row["claim_id"] == planted["claim_id"]]
    certification = [
        row for row in _rows(landing, "ei", baseline, "certifications") if row["claim_id"] == planted["claim_id"]
    ]
    statement = [row for row in _rows(landing, "nts", baseline, "income") if row["person_key"] == planted["person_key"]]
    spell = [row for row in _rows(landing, "ei", baseline, "employments") if row["workplace_id"] == ring_workplace]

    def table(name, *rows):
        return csv_text(list(rows), header=list(contract.TABLES[name].column_names))

    finder = truth["planted"][1]
    finder_filed = next(row["filed_on"] for row in claims if row["claim_id"] == finder["claim_id"])
    later = max(
        (row for row in claims if row["person_key"] != finder["person_key"] and row["filed_on"] > finder_filed),
        key=lambda row: (row["filed_on"], row["claim_id"]),
    )
    findings = _rows(landing, "ei", baseline, "findings")
    write_drop(
        landing,
        "ei",
        day,
        {
            "workplaces": table(
                "workplaces",
                dict(
                    workplaces[ring_workplace],
                    phone=workplaces[other]["phone"],
                    bank_account_key="0" * 64,
                    updated_at=stamp,
                ),
            ),
            "findings": table(
                "findings",
                _row(
                    findings,
                    finding_id="FNIGHT1",
                    person_key=finder["person_key"],
                    claim_id=later["claim_id"],
                    workplace_id="",
                    decided_on=day,
                ),
            ),
            "employments": table(
                "employments",
                _row(
                    spell,
                    employment_id="ENIGHT1",
                    person_key=ring["person_keys"][0],
                    acquired_on=day,
                    lost_on="",
                    separation_code="",
                    updated_at=stamp,
                ),
            ),
            "claims": table("claims", _row(claim, updated_at=stamp)),
            "certifications": table(
                "certifications", _row(certification, cert_id="CNIGHT1", cert_on=day, updated_at=stamp)
            ),
        },
    )
    write_drop(landing, "nts", day, {"income": table("income", _row(statement, record_id="INIGHT1", filed_on=day))})
    write_drop(
        landing,
        "moj",
        day,
        {
            "crossings": csv_text(
                [
                    crossing_row(
                        "XNIGHT1", person=planted["person_key"], crossed_at=f"{day}T08:00:00+09:00", direction="OUT"
                    )
                ]
            )
        },
    )


def _run(night, settings):
    """Every stage but the report (its pages are not compared here)."""
    upstream = {}
    for stage in pipeline.STAGE_NAMES:
        if stage != "report":
            upstream = pipeline.run_stage(stage, night, upstream, settings)


@pytest.mark.slow
def test_nightly_runs_recompute_what_the_night_touched_and_equal_a_full_rebuild(spark, tmp_path):
    from simulation.synth import generate

    landing = tmp_path / "landing"
    truth = generate(landing, persons=400, seed=11, baseline=date(2026, 3, 2), days=1)
    second = date.fromisoformat(truth["final_date"])
    third = second + timedelta(days=1)
    _crafted_night(landing, truth, third.isoformat())

    nightly = _settings(tmp_path, landing)
    layout = Layout(nightly.warehouse)
    _run(second, nightly)  # every generated drop: the full run
    before = _outputs(nightly, second)
    _run(third, nightly)
    night = _outputs(nightly, third)
    state = read_json(layout.drop_state("ei", third))
    assert all(counts["quarantined"] == 0 for counts in state["tables"].values()), state["tables"]
    claims = read_conformed(spark, layout.conformed(third))["claims"].count()
    # Conform wrote the night's records as layers over the day before's files, no copy.
    storage = read_json(layout.stage_result(third, "conform"))["storage"]
    assert storage["claims"] == "layered" and set(storage.values()) <= {"layered", "unchanged"}, storage
    for stage in ("collusion", "crossmatch"):
        result = read_json(layout.stage_result(third, stage))
        assert (result["mode"], result["base"]) == ("incremental", second.isoformat()), result
        assert 0 < result["recomputed_claims"] < claims, (stage, result)
    assert night["rings.csv"] != before["rings.csv"]  # the moved workplace changed a ring
    night_analysed = read_json(layout.stage_result(third, "collusion"))["analysed_components"]

    # The night again, everything from the validated rows: the same bytes.
    rebuilt = _settings(tmp_path, landing, full_rebuild=True)
    _run(third, rebuilt)
    assert read_json(layout.stage_result(third, "crossmatch"))["mode"] == "full"
    assert read_json(layout.stage_result(third, "collusion"))["why"] == "full rebuild asked for"
    assert _outputs(rebuilt, third) == night
    analysed = read_json(layout.stage_result(third, "collusion"))["analysed_components"]
    assert 0 < night_analysed <= analysed, (night_analysed, analysed)
    assert night["cases.csv"].count(b"\n") > 1  # the queue is not empty


def test_a_base_night_made_by_other_code_or_without_state_is_not_built_on(tmp_path, monkeypatch):
    from fraud import version
    from jobs.conform import CHANGES

    layout = Layout(tmp_path)
    base, ds = date(2026, 3, 3), date(2026, 3, 4)
    night = Night(ds, tmp_path, code_version="1.0+gabc", hub_max_degree=50)
    state_dir = layout.collusion
    assert usable_base("collusion", layout, ds, None, night, state_dir) == (None, "conform rebuilt every table")
    assert usable_base("collusion", layout, ds, "2026-03-03", night, state_dir)[1].startswith(
        "conform wrote no changes"
    )
    (layout.conformed(ds) / CHANGES).mkdir(parents=True)
    assert usable_base("collusion", layout, ds, "2026-03-03", night, state_dir)[1] == "no collusion state of 2026-03-03"
    write_json(state_dir(base) / STATE_FILE, stage_state("collusion", layout, base, night))
    assert usable_base("collusion", layout, ds, "2026-03-03", night, state_dir)[0] == base
    assert usable_base("collusion", layout, ds, base, replace(night, full_rebuild=True), state_dir)[0] is None
    for changed in ({"code_version": "1.0+gdef"}, {"hub_max_degree": 20}):
        found, why = usable_base("collusion", layout, ds, base, replace(night, **changed), state_dir)
        assert found is None and "other code, rules, configuration or drops" in why
    # An uncommitted edit leaves the commit as it was but not the sources.
    monkeypatch.setattr(version, "source_digest", lambda: "0" * 64)
    assert usable_base("collusion", layout, ds, base, night, state_dir)[0] is None


def test_open_trip_persons_are_those_whose_last_crossing_is_a_departure(spark):
    from conftest import P1, P2, hex_key

    P3 = hex_key("P3")
    rows = [
        ("X1", P1, "2026-02-01 09:00:00", "OUT"),
        ("X2", P1, "2026-02-10 09:00:00", "IN"),  # back home
        ("X3", P2, "2026-02-01 09:00:00", "IN"),
        ("X4", P2, "2026-02-20 09:00:00", "OUT"),  # abroad
        ("X5", P3, "2026-02-05 09:00:00", "IN"),
        ("X6", P3, "2026-02-05 09:00:00", "OUT"),  # same instant: id order
    ]
    crossings = spark.createDataFrame(
        rows, "crossing_id string, person_key string, crossed_at string, direction string"
    ).selectExpr("crossing_id", "person_key", "cast(crossed_at as timestamp) as crossed_at", "direction")
    assert sorted(r.person_key for r in open_trip_persons(crossings).collect()) == sorted([P2, P3])


def test_fractional_sums_do_not_depend_on_the_order_rows_arrive_in(spark):
    from pyspark.sql import functions as F

    from features.certifications import exact_sum

    values = [1e16, 1.0, -1e16, 0.1, 0.2]
    orders = [values, list(reversed(values)), [0.2, -1e16, 0.1, 1e16, 1.0]]
    sums = []
    for order in orders:
        frame = spark.createDataFrame([("C1", i, v) for i, v in enumerate(order)], "cert_id string, i int, v double")
        # One partition per row, so the aggregate adds them in the order given.
        frame = frame.repartition(len(order), "i").sortWithinPartitions("i")
        sums.append(frame.groupBy("cert_id").agg(exact_sum("v").alias("s")).first()["s"])
    assert sums == [1.3, 1.3, 1.3]
    plain = {
        spark.createDataFrame([(v,) for v in order], "v double").coalesce(1).agg(F.sum("v")).first()[0]
        for order in orders
    }
    assert len(plain) > 1  # what a plain double sum does with the same rows
