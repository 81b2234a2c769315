"""fraud/retention.py and `fraudctl prune`: old nights' working state goes, what
investigators, auditors and other systems read stays."""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest
from click.testing import CliRunner

from fraud.layout import Layout
from fraud.retention import PRUNED, nights, prune
from fraudctl.main import main

NIGHTS = [date(2026, 3, d) for d in (3, 4, 5, 6)]


def _file(path, size=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def _warehouse(root):
    layout = Layout(root)
    for night in NIGHTS:
        _file(layout.conformed_table(night, "claims") / "part-0.parquet", 1000)
        _file(layout.conformed(night) / "_built_from.json")
        _file(layout.collusion(night) / "claims" / "part-0.parquet", 500)
        _file(layout.crossmatch(night) / "claim_table" / "part-0.parquet", 300)
        _file(layout.stage_result(night, "crossmatch"))
        _file(layout.data_docs(night) / "ei" / "claims.html")
        _file(layout.outputs(night) / "run_manifest.json")
    _file(layout.validated_table("ei", "claims") / "_drop_date=2026-03-03" / "part-0.parquet")
    _file(layout.quarantine_file("ei", NIGHTS[0], "claims"))
    _file(layout.root / "conformed" / ".2026-03-07.staging-1234" / "claims" / "part-0.parquet")  # a run writing
    return layout


def test_prune_keeps_the_newest_nights_and_everything_read_later(tmp_path):
    layout = _warehouse(tmp_path)
    assert nights(layout) == NIGHTS
    removed = prune(layout, keep=2)
    assert sorted({item.night for item in removed}) == NIGHTS[:2]
    assert sum(item.bytes for item in removed) == 2 * (1000 + 100 + 500 + 300)
    assert nights(layout) == NIGHTS[2:]
    for night in NIGHTS[:2]:
        assert not layout.conformed(night).exists()
        assert not layout.collusion(night).exists() and not layout.crossmatch(night).exists()
    for night in NIGHTS:
        assert layout.stage_result(night, "crossmatch").exists()
        assert (layout.data_docs(night) / "ei" / "claims.html").exists()
        assert (layout.outputs(night) / "run_manifest.json").exists()
    for night in NIGHTS[2:]:
        assert (layout.conformed_table(night, "claims") / "part-0.parquet").exists()
        assert (layout.crossmatch(night) / "claim_table" / "part-0.parquet").exists()
    assert layout.quarantine_file("ei", NIGHTS[0], "claims").exists()
    assert (layout.validated_table("ei", "claims") / "_drop_date=2026-03-03" / "part-0.parquet").exists()
    assert (layout.root / "conformed" / ".2026-03-07.staging-1234").exists()  # not a night: not touched
    assert prune(layout, keep=2) == []


def test_a_dry_run_deletes_nothing_and_keep_must_leave_a_night(tmp_path):
    layout = _warehouse(tmp_path)
    listed = prune(layout, keep=1, dry_run=True)
    assert {item.night for item in listed} == set(NIGHTS[:3])
    assert nights(layout) == NIGHTS
    with pytest.raises(ValueError, match="at least 1"):
        prune(layout, keep=0)
    assert nights(layout) == NIGHTS


def test_what_an_interrupted_prune_left_is_deleted_and_is_never_a_base(tmp_path):
    layout = _warehouse(tmp_path)
    # Killed between the rename and the delete: the night is already out of the way.
    aside = layout.conformed(NIGHTS[0]).with_name(f".{NIGHTS[0].isoformat()}{PRUNED}deadbeef")
    layout.conformed(NIGHTS[0]).rename(aside)
    from jobs.conform import _conformed_dates

    assert NIGHTS[0] not in _conformed_dates(layout, date(2026, 3, 8))
    removed = prune(layout, keep=4)
    assert [(item.night, item.path) for item in removed] == [(None, aside)]
    assert not aside.exists()


def test_fraudctl_prune_prints_one_line_per_directory_and_refuses_keep_zero(tmp_path):
    _warehouse(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["prune", "--warehouse", str(tmp_path), "--keep", "3", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "would delete conformed/2026-03-03 (2026-03-03, 0.0 MiB)"
    assert lines[-1].startswith("would delete 3 directories,") and lines[-1].endswith("kept the newest 3 nights")
    result = runner.invoke(main, ["prune", "--warehouse", str(tmp_path), "--keep", "3"])
    assert result.exit_code == 0 and result.output.startswith("deleted conformed/2026-03-03")
    assert nights(Layout(tmp_path)) == NIGHTS[1:]
    result = runner.invoke(main, ["prune", "--warehouse", str(tmp_path), "--keep", "0"])
    assert result.exit_code == 2
    assert "--keep must be at least 1" in result.output and len(result.output.strip().splitlines()) == 1


def test_an_old_version_a_killed_swap_left_goes_with_its_night(tmp_path):
    layout = _warehouse(tmp_path)
    aside = layout.collusion(NIGHTS[0]).with_name(".collusion.previous-0badc0de")
    _file(aside / "claims" / "part-0.parquet", 700)
    removed = prune(layout, keep=3)
    assert aside in {item.path for item in removed}
    assert not aside.exists()


def test_prune_waits_for_a_stage_reading_the_nights(tmp_path):
    from fraud.locks import nights_lock

    layout = _warehouse(tmp_path)
    reading, release, pruned = threading.Event(), threading.Event(), threading.Event()

    def stage():
        with nights_lock(layout):  # shared, as a running stage holds it
            reading.set()
            release.wait(10)

    holder = threading.Thread(target=stage)
    holder.start()
    assert reading.wait(10)
    pruner = threading.Thread(target=lambda: (prune(layout, keep=1), pruned.set()))
    pruner.start()
    assert not pruned.wait(0.5)  # still waiting: nothing deleted under the stage
    assert nights(layout) == NIGHTS
    release.set()
    holder.join(10)
    assert pruned.wait(10)
    pruner.join(10)
    assert nights(layout) == NIGHTS[-1:]


def _link_as_base_layer(layout, night, later):
    """`later`'s claims as a layer over a hard link to `night`'s file (fraud/layers.py)
    -> (the file, its link)."""
    original = layout.conformed_table(night, "claims") / "part-0.parquet"
    linked = layout.conformed_table(later, "claims") / "_layers" / "0000" / "part-0.parquet"
    linked.parent.mkdir(parents=True)
    os.link(original, linked)
    return original, linked


def test_a_pruned_nights_files_that_a_kept_night_links_to_stay_and_are_not_counted(tmp_path):
    layout = _warehouse(tmp_path)
    # The newest night's claims are a layer over hard links to the night before's files
    # (fraud/layers.py): pruning that night frees nothing of them.
    shared, linked = _link_as_base_layer(layout, NIGHTS[2], NIGHTS[3])
    removed = prune(layout, keep=1)
    assert sum(item.bytes for item in removed) == 3 * (1000 + 100 + 500 + 300) - 1000
    assert linked.read_bytes() == b"x" * 1000 and not shared.exists()


def test_a_file_linked_only_by_pruned_nights_is_counted_once(tmp_path):
    layout = _warehouse(tmp_path)
    _link_as_base_layer(layout, NIGHTS[0], NIGHTS[1])
    removed = prune(layout, keep=2)
    assert sum(item.bytes for item in removed) == 2 * (1000 + 100 + 500 + 300)


def test_a_night_dated_after_today_is_neither_pruned_nor_counted_among_the_newest(tmp_path):
    layout = _warehouse(tmp_path)
    typo = date(2062, 3, 6)  # a mistyped --ds run with --no-require-drops
    _file(layout.conformed_table(typo, "claims") / "part-0.parquet", 1000)
    removed = prune(layout, keep=2, as_of=date(2026, 3, 6))
    assert sorted({item.night for item in removed}) == NIGHTS[:2]  # not NIGHTS[:3]
    assert nights(layout) == NIGHTS[2:] + [typo]
    # Seen from the night before the last one, that last night is in the future too.
    assert {item.night for item in prune(layout, keep=1, as_of=date(2026, 3, 5), dry_run=True)} == set()
    assert {item.night for item in prune(layout, keep=1, as_of=date(2026, 3, 6), dry_run=True)} == {NIGHTS[2]}


def test_fraudctl_prune_names_the_nights_it_left_alone_as_dated_after_today(tmp_path):
    layout = _warehouse(tmp_path)
    _file(layout.conformed_table(date(2062, 3, 6), "claims") / "part-0.parquet")
    result = CliRunner().invoke(main, ["prune", "--warehouse", str(tmp_path), "--keep", "4", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "left alone, dated after today (" in result.output and "2062-03-06" in result.output
    assert "would delete 0 directories" in result.output


def test_the_retention_dag_prunes_to_the_configured_nights_after_a_published_night(tmp_path, monkeypatch, caplog):
    """fraud_retention's task: FRAUD_RETENTION_KEEP nights stay; the triggering
    event's night and manifest checksum are logged."""
    from types import SimpleNamespace

    from fraud.retention import run_for_airflow

    layout = _warehouse(tmp_path)
    monkeypatch.setenv("FRAUD_WAREHOUSE", str(tmp_path))
    monkeypatch.setenv("FRAUD_RETENTION_KEEP", "3")
    event = SimpleNamespace(extra={"ds": "2026-03-06", "manifest_sha256": "ab" * 32})
    with caplog.at_level("INFO", logger="fraud.retention"):
        result = run_for_airflow({"triggering_asset_events": {"file:///w/outputs": [event]}})
    assert nights(layout) == NIGHTS[1:]
    assert result["kept"] == 3 and result["freed_bytes"] == 1000 + 100 + 500 + 300
    assert f"night 2026-03-06, run manifest sha256 {'ab' * 32}" in caplog.text
