"""Incremental conform: a night merged into the previous conformed date gives the same
tables and byte-identical outputs as a full rebuild; late or re-delivered drops and
FRAUD_FULL_REBUILD fall back to the full rebuild."""

import datetime as dt
from datetime import date

from conftest import P2, claim_row, crossing_row, csv_text, empty_drops, write_drop

from fraud import contract
from fraud.config import Settings
from fraud.layout import Layout
from fraud.records import LINE_NO
from fraud.storage import read_json
from fraud.validation import DROP_DATE
from jobs import pipeline
from jobs.conform import latest_versions, read_conformed, redecide


def _landing(tmp_path):
    landing = tmp_path / "landing"
    write_drop(
        landing,
        "ei",
        "2026-03-02",
        {
            "claims": csv_text(
                [
                    claim_row("C1", updated_at="2026-03-01T10:00:00+09:00", status="FILED"),
                    claim_row("C2", person=P2, updated_at="2026-03-02T09:00:00+09:00", status="APPROVED"),
                    claim_row("C4", updated_at="2026-03-01T08:00:00+09:00", status="APPROVED"),
                ]
            )
        },
    )
    write_drop(landing, "nts", "2026-03-02", {})
    write_drop(
        landing, "moj", "2026-03-02", {"crossings": csv_text([crossing_row("X1"), crossing_row("X2", direction="IN")])}
    )
    write_drop(
        landing,
        "ei",
        "2026-03-03",
        {
            "claims": csv_text(
                [
                    claim_row("C1", updated_at="2026-03-03T10:00:00+09:00", status="APPROVED"),  # newer: wins
                    claim_row(
                        "C2", person=P2, updated_at="2026-03-01T09:00:00+09:00", status="REJECTED"
                    ),  # stale re-send
                    claim_row("C5", person=P2, updated_at="2026-03-03T11:00:00+09:00", status="FILED"),  # new key
                ]
            )
        },
    )
    write_drop(landing, "nts", "2026-03-03", {})
    write_drop(landing, "moj", "2026-03-03", {"crossings": csv_text([crossing_row("X1", country="CN")])})
    return landing


def _settings(tmp_path, landing, warehouse, **overrides):
    return Settings.from_env(
        landing=landing,
        warehouse=tmp_path / warehouse,
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        drop_wait_timeout_seconds=0,
        **overrides,
    )


def _tables(spark, settings, ds):
    layout = Layout(settings.warehouse)
    tables = read_conformed(spark, layout.conformed(ds))
    return {name: sorted(tuple(r) for r in tables[name].collect()) for name in contract.TABLES}


def _outputs(settings, ds):
    outputs = Layout(settings.warehouse).outputs(ds)
    return {p.relative_to(outputs).as_posix(): p.read_bytes() for p in sorted(outputs.rglob("*")) if p.is_file()}


def _conform_result(settings, ds):
    return read_json(Layout(settings.warehouse).stage_result(ds, "conform"))


def test_incremental_night_equals_full_rebuild_and_late_redelivery_falls_back(spark, tmp_path):
    landing = _landing(tmp_path)
    nightly = _settings(tmp_path, landing, "nightly")
    pipeline.run_all(date(2026, 3, 2), nightly)
    pipeline.run_all(date(2026, 3, 3), nightly)
    result = _conform_result(nightly, date(2026, 3, 3))
    assert (result["mode"], result["base"]) == ("incremental", "2026-03-02")
    tables, outputs = _tables(spark, nightly, date(2026, 3, 3)), _outputs(nightly, date(2026, 3, 3))
    assert {row[0] for row in tables["claims"]} == {"C1", "C2", "C4", "C5"}
    # The feeds' monthly counts, kept from the base night's and the night's changes.
    coverage = read_json(Layout(nightly.warehouse).conformed(date(2026, 3, 3)) / "_coverage.json")
    assert coverage["months"]["ei/claims"] and coverage["coverage"]["ei/claims"]["to"] == "2026-03-03"

    # What `fraudctl verify` does: the same night again, rebuilt from every validated
    # row. Same tables; every output file and the manifest byte for byte.
    rebuilt = _settings(tmp_path, landing, "nightly", full_rebuild=True)
    pipeline.run_all(date(2026, 3, 3), rebuilt)
    assert _conform_result(rebuilt, date(2026, 3, 3))["mode"] == "full"
    assert _tables(spark, rebuilt, date(2026, 3, 3)) == tables
    assert read_json(Layout(rebuilt.warehouse).conformed(date(2026, 3, 3)) / "_coverage.json") == coverage
    assert _outputs(rebuilt, date(2026, 3, 3)) == outputs
    assert "run_manifest.json" in outputs and "cases.csv" in outputs

    # The ei drop of 03-02 is delivered again, changed: the tables of 03-02 and 03-03
    # no longer describe what the run sees, so 03-04 is rebuilt from every drop.
    write_drop(
        landing,
        "ei",
        "2026-03-02",
        {"claims": csv_text([claim_row("C4", updated_at="2026-03-02T08:00:00+09:00", status="TERMINATED")])},
    )
    empty_drops(landing, "2026-03-04")
    result = _conform_only(date(2026, 3, 4), nightly)  # the later stages follow conform's mode
    assert result["mode"] == "full" and "changed since" in result["why"]
    claims = {row[0]: row for row in _tables(spark, nightly, date(2026, 3, 4))["claims"]}
    assert set(claims) == {"C1", "C2", "C4", "C5"}  # C2 now rests on its stale 03-03 re-send alone
    assert claims["C4"][contract.TABLES["claims"].column_names.index("status")] == "TERMINATED"


def test_a_night_re_decides_touched_keys_only_as_a_layer_that_reads_as_latest_versions(spark, tmp_path):
    from fraud.layers import add_layer, layers, read_table

    table = contract.TABLES["crossings"]  # no updated_at: the later drop, then the later line, wins
    ddl = f"{table.spark_ddl}, `{DROP_DATE}` date, `{LINE_NO}` bigint"
    names = table.column_names

    def row(crossing_id, country, drop_day, line):
        values = {name: None for name in names}
        values.update(
            crossing_id=crossing_id,
            person_key="a" * 64,
            direction="OUT",
            port_code="ICN",
            country=country,
            crossed_at=dt.datetime(2026, 2, 10, 0, 0),
        )
        return (*[values[name] for name in names], drop_day, line)

    history = [
        row("X1", "JP", date(2026, 3, 1), 1),
        row("X2", "US", date(2026, 3, 1), 2),
        row("X3", "VN", date(2026, 3, 2), 1),
    ]
    delta = [
        row("X1", "CN", date(2026, 3, 3), 1),
        row("X4", "TH", date(2026, 3, 3), 2),
        row("X4", "LA", date(2026, 3, 3), 3),
        row("X9", "FR", date(2026, 3, 5), 1),
    ]  # X9: after ds
    previous_path, night, final = tmp_path / "previous", tmp_path / "night", tmp_path / "final"
    latest_versions(spark.createDataFrame(history, ddl), table, date(2026, 3, 2)).write.parquet(str(previous_path))
    previous = read_table(spark, previous_path, table.primary_key)
    redecide(previous, spark.createDataFrame(delta, ddl), table, date(2026, 3, 3)).write.parquet(str(night))
    assert sorted(r["crossing_id"] for r in spark.read.parquet(str(night)).collect()) == ["X1", "X4"]
    assert add_layer(spark, previous_path, night, final, table.primary_key) == "layered"
    assert [layer["rows"] for layer in layers(final)] == [3, 2]
    merged = read_table(spark, final, table.primary_key)
    full = latest_versions(spark.createDataFrame(history + delta, ddl), table, date(2026, 3, 3))
    assert sorted(merged.collect()) == sorted(full.select(*merged.columns).collect())
    countries = {r["crossing_id"]: r["country"] for r in merged.collect()}
    assert countries == {"X1": "CN", "X2": "US", "X3": "VN", "X4": "LA"}


def test_nights_stack_layers_then_compact_and_still_equal_a_full_rebuild(spark, tmp_path, monkeypatch):
    from fraud import layers

    monkeypatch.setattr(layers, "MAX_LAYERS", 2)  # the base and one night, then compaction
    landing = _landing(tmp_path)
    write_drop(
        landing,
        "ei",
        "2026-03-04",
        {"claims": csv_text([claim_row("C5", person=P2, updated_at="2026-03-04T11:00:00+09:00", status="APPROVED")])},
    )
    write_drop(landing, "nts", "2026-03-04", {})
    write_drop(landing, "moj", "2026-03-04", {})
    nightly = _settings(tmp_path, landing, "nightly")
    for day in (2, 3, 4):
        pipeline.run_all(date(2026, 3, day), nightly)
    assert _conform_result(nightly, date(2026, 3, 3))["storage"]["claims"] == "layered"
    storage = _conform_result(nightly, date(2026, 3, 4))["storage"]
    assert storage["claims"] == "compacted" and storage["crossings"] == "unchanged", storage
    assert layers.layers(Layout(nightly.warehouse).conformed_table(date(2026, 3, 4), "claims")) is None
    tables, outputs = _tables(spark, nightly, date(2026, 3, 4)), _outputs(nightly, date(2026, 3, 4))
    rebuilt = _settings(tmp_path, landing, "nightly", full_rebuild=True)
    pipeline.run_all(date(2026, 3, 4), rebuilt)
    assert _conform_result(rebuilt, date(2026, 3, 4))["mode"] == "full"
    assert _tables(spark, rebuilt, date(2026, 3, 4)) == tables
    assert _outputs(rebuilt, date(2026, 3, 4)) == outputs


def test_the_newer_of_two_versions_in_one_drop_wins_and_both_are_counted_valid(spark, tmp_path):
    landing = tmp_path / "landing"
    claims = [
        claim_row("C1", updated_at="2026-03-01T01:30:00+00:00", status="APPROVED"),  # 10:30 KST: newer
        claim_row("C1", updated_at="2026-03-01T10:00:00+09:00", status="FILED"),
        claim_row("C2", person=P2, updated_at="2026-03-01T10:00:00+09:00", status="FILED"),
    ]
    write_drop(landing, "ei", "2026-03-02", {"claims": csv_text(claims)})
    empty_drops(landing, "2026-03-02", sources=("nts", "moj"))
    settings = _settings(tmp_path, landing, "warehouse")
    _conform_only(date(2026, 3, 2), settings)
    status = contract.TABLES["claims"].column_names.index("status")
    conformed = {row[0]: row[status] for row in _tables(spark, settings, date(2026, 3, 2))["claims"]}
    assert conformed == {"C1": "APPROVED", "C2": "FILED"}
    validated = read_json(Layout(settings.warehouse).stage_result(date(2026, 3, 2), "validate"))["validated_now"]
    assert {(d["source"], d["quarantined"]) for d in validated} == {("ei", 0), ("moj", 0), ("nts", 0)}
    assert not Layout(settings.warehouse).quarantine_file("ei", date(2026, 3, 2), "claims").exists()


def test_two_versions_in_a_night_s_drop_conform_on_the_night_before_as_in_full(spark, tmp_path):
    """The incremental path: the delta drop carries C1's older version after its newer
    one (file order says nothing) and a version of C4 older than the base night's."""
    landing = tmp_path / "landing"
    write_drop(
        landing,
        "ei",
        "2026-03-02",
        {
            "claims": csv_text(
                [
                    claim_row("C1", updated_at="2026-03-01T10:00:00+09:00", status="FILED"),
                    claim_row("C4", updated_at="2026-03-02T08:00:00+09:00", status="APPROVED"),
                ]
            )
        },
    )
    delta = [
        claim_row("C1", updated_at="2026-03-03T11:00:00+09:00", status="APPROVED"),  # the newest: wins
        claim_row("C1", updated_at="2026-03-03T01:30:00+00:00", status="REJECTED"),  # 10:30 KST: older
        claim_row("C4", updated_at="2026-03-01T08:00:00+09:00", status="TERMINATED"),  # older than the base's
        claim_row("C4", updated_at="2026-03-01T09:00:00+09:00", status="REJECTED"),
    ]
    write_drop(landing, "ei", "2026-03-03", {"claims": csv_text(delta)})
    for ds in ("2026-03-02", "2026-03-03"):
        empty_drops(landing, ds, sources=("nts", "moj"))
    nightly = _settings(tmp_path, landing, "nightly")
    _conform_only(date(2026, 3, 2), nightly)
    result = _conform_only(date(2026, 3, 3), nightly)
    assert (result["mode"], result["base"]) == ("incremental", "2026-03-02"), result
    status = contract.TABLES["claims"].column_names.index("status")
    tables = _tables(spark, nightly, date(2026, 3, 3))
    assert {row[0]: row[status] for row in tables["claims"]} == {"C1": "APPROVED", "C4": "APPROVED"}
    validated = read_json(Layout(nightly.warehouse).stage_result(date(2026, 3, 3), "validate"))["validated_now"]
    assert {(d["source"], d["quarantined"]) for d in validated} == {("ei", 0), ("moj", 0), ("nts", 0)}

    rebuilt = _settings(tmp_path, landing, "nightly", full_rebuild=True)
    assert _conform_only(date(2026, 3, 3), rebuilt)["mode"] == "full"
    assert _tables(spark, rebuilt, date(2026, 3, 3)) == tables


def _conform_only(ds, settings):
    upstream = {}
    for stage in ("ingest", "validate", "conform"):
        upstream = pipeline.run_stage(stage, ds, upstream, settings)
    return _conform_result(settings, ds)


def test_a_night_computes_everything_again_on_a_history_too_small_to_build_on(spark, tmp_path):
    """Below `incremental_min_rows` conformed rows (FRAUD_INCREMENTAL_MIN_ROWS; the
    suite sets 0 so that its small worlds build on the night before) a night conforms
    every table in full and says why; at that many rows it builds on the night before.
    The same tables either way."""
    landing = _landing(tmp_path)
    first = _settings(tmp_path, landing, "nightly")
    _conform_only(date(2026, 3, 2), first)
    rows = sum(_conform_result(first, date(2026, 3, 2))["rows"].values())
    assert rows > 1

    small = _settings(tmp_path, landing, "nightly", incremental_min_rows=rows + 1)
    result = _conform_only(date(2026, 3, 3), small)
    assert result["mode"] == "full", result
    assert result["why"] == f"conformed 2026-03-02 holds {rows:,} rows, under the {rows + 1:,} a night builds on"
    full = _tables(spark, small, date(2026, 3, 3))

    enough = _settings(tmp_path, landing, "nightly", incremental_min_rows=rows)
    result = _conform_only(date(2026, 3, 3), enough)
    assert (result["mode"], result["base"]) == ("incremental", "2026-03-02")
    assert _tables(spark, enough, date(2026, 3, 3)) == full


def test_a_night_after_a_deploy_rebuilds_rather_than_build_on_tables_other_code_decided(spark, tmp_path, monkeypatch):
    from fraud import version

    landing = _landing(tmp_path)
    nightly = _settings(tmp_path, landing, "nightly")
    _conform_only(date(2026, 3, 2), nightly)
    monkeypatch.setattr(version, "source_digest", lambda: "0" * 64)  # the code changed since
    result = _conform_only(date(2026, 3, 3), nightly)
    assert result["mode"] == "full" and "built by other code" in result["why"], result
    built = read_json(Layout(nightly.warehouse).conformed(date(2026, 3, 3)) / "_built_from.json")
    assert built["source_sha256"] == "0" * 64


def test_a_base_replaced_after_it_was_chosen_is_not_built_on(spark, tmp_path, monkeypatch):
    """A re-run of the base night can swap its tables in while the next night's conform
    starts: conform pins (hard-links) the base and checks the pinned copy is still the
    one it chose; if not, it rebuilds from every validated row."""
    from jobs import conform

    landing = _landing(tmp_path)
    nightly = _settings(tmp_path, landing, "nightly")
    _conform_only(date(2026, 3, 2), nightly)
    layout = Layout(nightly.warehouse)
    chosen = conform.incremental_base

    def chosen_then_replaced(layout_, ds, drops):
        base, why = chosen(layout_, ds, drops)
        assert base == date(2026, 3, 2)
        marker = layout.conformed(base) / "_built_from.json"
        marker.write_text(marker.read_text().replace('"drops"', '"drops_of_a_later_delivery"'))
        return base, why

    monkeypatch.setattr(conform, "incremental_base", chosen_then_replaced)
    result = _conform_only(date(2026, 3, 3), nightly)
    assert result["mode"] == "full" and result["why"] == "conformed 2026-03-02 was replaced while this run read it"
    assert {row[0] for row in _tables(spark, nightly, date(2026, 3, 3))["claims"]} == {"C1", "C2", "C4", "C5"}
    assert not (layout.conformed(date(2026, 3, 3)) / "_base").exists()


def test_the_size_check_counts_the_pinned_base(tmp_path, monkeypatch):
    """The size check reads the base's tables as pinned (hard links that a re-run of the
    base night cannot move), and reports the rows it counted there; a table whose
    count was not recorded (None) never makes a history small."""
    from jobs import conform

    counted = []
    monkeypatch.setattr(conform, "table_rows", lambda path: counted.append(path) or 10)
    rows = conform._base_rows(tmp_path / "_base")
    assert counted == [tmp_path / "_base" / name for name in contract.TABLES]
    assert rows == dict.fromkeys(contract.TABLES, 10)
    assert conform._worth_building_on(rows, date(2026, 3, 2), 1_000_000, "why") == (
        None,
        f"conformed 2026-03-02 holds {10 * len(contract.TABLES):,} rows, under the 1,000,000 a night builds on",
    )
    assert conform._worth_building_on(rows, date(2026, 3, 2), 0, "why") == (date(2026, 3, 2), "why")
    unrecorded = {**rows, "claims": None}
    assert conform._worth_building_on(unrecorded, date(2026, 3, 2), 1_000_000, "why") == (date(2026, 3, 2), "why")
