"""Ingest on its own (no Spark): every file is checked against its manifest before any
drop is landed, though the check runs while the first drop is read."""

import threading
from datetime import date

import pytest
from conftest import claim_row, crossing_row, csv_text, empty_drops, write_drop

from fraud.config import Settings
from fraud.landing import DropError
from fraud.layout import Layout
from jobs import ingest, pipeline


def _landing(tmp_path):
    landing = tmp_path / "landing"
    write_drop(landing, "ei", "2026-03-02", {"claims": csv_text([claim_row("C1"), claim_row("C2")])})
    empty_drops(landing, "2026-03-02", sources=("nts",))
    write_drop(landing, "moj", "2026-03-02", {"crossings": csv_text([crossing_row("X1")])})
    empty_drops(landing, "2026-03-03")
    write_drop(landing, "moj", "2026-03-03", {"crossings": csv_text([crossing_row("X2")])})
    return landing


def _settings(tmp_path, landing):
    return Settings.from_env(landing=landing, warehouse=tmp_path / "warehouse", drop_wait_timeout_seconds=0)


def _landed(settings) -> list[str]:
    root = Layout(settings.warehouse).root / "landed"
    return sorted(str(path.parent.relative_to(root)) for path in root.glob("*/*/" + ingest.READING_FILE))


def test_a_drop_altered_after_its_manifest_lands_nothing_and_is_named_before_its_row_count(tmp_path):
    landing = _landing(tmp_path)
    settings = _settings(tmp_path, landing)
    # The last drop read gains a row: its sha256 and its row count both disagree with
    # the manifest. The sha256 is the error, and the drops read before it stay unlanded.
    with open(landing / "moj" / "2026-03-03" / "crossings.csv", "ab") as handle:
        handle.write(b"X9,tampered\r\n")
    with pytest.raises(DropError, match=r"^moj/2026-03-03/crossings.csv: sha256 .* does not match"):
        pipeline.run_stage("ingest", date(2026, 3, 3), settings=settings)
    assert _landed(settings) == []


def test_the_drops_are_landed_once_every_file_is_checked(tmp_path, monkeypatch):
    landing = _landing(tmp_path)
    settings = _settings(tmp_path, landing)
    events = []
    real_verify, real_land = ingest.verify_file, ingest.land_drop

    def verify(drop, table_file):
        real_verify(drop, table_file)
        events.append(f"checked {drop.label}/{table_file.path.name}")

    def land(drop, layout, progress=None, before_commit=lambda: None):
        def commit():
            before_commit()
            events.append(f"landed {drop.label}")

        return real_land(drop, layout, progress, before_commit=commit)

    monkeypatch.setattr(ingest, "verify_file", verify)
    monkeypatch.setattr(ingest, "land_drop", land)
    pipeline.run_stage("ingest", date(2026, 3, 3), settings=settings)
    labels = [f"{source}/2026-03-0{day}" for day in (2, 3) for source in ("ei", "moj", "nts")]
    checked = [event for event in events if event.startswith("checked")]
    assert sorted(checked) == [  # every file the six drops' manifests list
        "checked ei/2026-03-02/claims.csv",
        "checked moj/2026-03-02/crossings.csv",
        "checked moj/2026-03-03/crossings.csv",
    ]
    assert events[: len(checked)] == checked  # all checked before the first is landed
    assert sorted(events[len(checked) :]) == sorted(f"landed {label}" for label in labels)
    assert _landed(settings) == sorted(labels)


def test_an_interrupted_ingest_does_not_wait_to_check_every_file(tmp_path, monkeypatch):
    landing = _landing(tmp_path)
    settings = _settings(tmp_path, landing)
    release, started = threading.Event(), []

    def slow_check(drop, table_file):
        started.append(table_file.path.name)
        release.wait(30)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest, "verify_file", slow_check)
    monkeypatch.setattr(ingest, "land_drop", interrupted)
    try:
        with pytest.raises(KeyboardInterrupt):
            pipeline.run_stage("ingest", date(2026, 3, 3), settings=settings)
        assert started == ["claims.csv"]  # the file being checked; the two others never started
    finally:
        release.set()
