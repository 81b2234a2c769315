"""Faults without Spark: two run dates at once take turns in the shared stages; a drop
delivered twice is read once; a drop re-delivered with another manifest is read again
and replaces the first delivery."""

import os
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
from conftest import claim_row, csv_text, empty_drops, write_drop

from fraud.layout import Layout
from jobs import ingest, pipeline
from jobs.stage_io import IngestInputs, Night

REPO = Path(__file__).resolve().parents[2]
D1, D2 = "2026-03-02", "2026-03-03"

INGEST = textwrap.dedent("""
    import sys
    from datetime import date
    from pathlib import Path
    from fraud.config import Settings
    from jobs import pipeline
    landing, warehouse, ds = Path(sys.argv[1]), Path(sys.argv[2]), date.fromisoformat(sys.argv[3])
    settings = Settings.from_env(landing=landing, warehouse=warehouse)
    print("ready", flush=True)
    pipeline.run_stage("ingest", ds, {}, settings)
    print("done", flush=True)
""")


def _landing(tmp_path):
    landing = tmp_path / "landing"
    write_drop(landing, "ei", D1, {"claims": csv_text([claim_row("C1")])})
    empty_drops(landing, D1, sources=("nts", "moj"))
    write_drop(landing, "ei", D2, {"claims": csv_text([claim_row("C2", updated_at="2026-03-03T09:00:00+09:00")])})
    empty_drops(landing, D2, sources=("nts", "moj"))
    return landing


def _ingest_process(tmp_path, landing, warehouse, ds):
    script = tmp_path / "ingest.py"
    script.write_text(INGEST)
    return subprocess.Popen(
        [sys.executable, str(script), str(landing), str(warehouse), ds],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_second_date_waits_for_the_shared_stages_of_the_first(tmp_path):
    landing, warehouse = _landing(tmp_path), tmp_path / "warehouse"
    with pipeline.shared_state_lock(Layout(warehouse)):
        other = _ingest_process(tmp_path, landing, warehouse, D2)
        assert other.stdout.readline().strip() == "ready"
        time.sleep(2)
        assert other.poll() is None, "the other date's ingest ran while this one held the shared state"
        assert not Layout(warehouse).landed_drop("ei", date(2026, 3, 3)).exists()
    assert other.wait(timeout=300) == 0
    assert Layout(warehouse).landed_drop("ei", date(2026, 3, 3)).exists()


def test_two_dates_ingesting_at_once_both_succeed_with_complete_drops(tmp_path):
    landing, warehouse = _landing(tmp_path), tmp_path / "warehouse"
    first = _ingest_process(tmp_path, landing, warehouse, D2)
    second = _ingest_process(tmp_path, landing, warehouse, D2)
    assert first.wait(timeout=300) == 0 and second.wait(timeout=300) == 0
    layout = Layout(warehouse)
    for day in (date(2026, 3, 2), date(2026, 3, 3)):
        landed = layout.landed_drop("ei", day)
        assert pq.read_table(landed / "claims.parquet").num_rows == 1
        assert (landed / ingest.READING_FILE).exists()
    leftovers = [p.name for p in (warehouse / "landed" / "ei").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_drop_delivered_twice_is_read_once(tmp_path):
    landing, warehouse = _landing(tmp_path), tmp_path / "warehouse"
    first = ingest.run(None, IngestInputs(landing), Night(date(2026, 3, 2), warehouse))
    assert first.landed_now == ["ei/2026-03-02", "moj/2026-03-02", "nts/2026-03-02"]
    again = ingest.run(None, IngestInputs(landing), Night(date(2026, 3, 2), warehouse))
    assert again.landed_now == []
    assert again.drops == first.drops


def test_a_drop_redelivered_with_another_manifest_is_read_again_and_replaces_the_first(tmp_path, caplog):
    landing, warehouse = _landing(tmp_path), tmp_path / "warehouse"
    ingest.run(None, IngestInputs(landing), Night(date(2026, 3, 2), warehouse))
    write_drop(landing, "ei", D1, {"claims": csv_text([claim_row("C1"), claim_row("C9")])})
    with caplog.at_level("WARNING"):
        result = ingest.run(None, IngestInputs(landing), Night(date(2026, 3, 2), warehouse))
    assert result.landed_now == ["ei/2026-03-02"]
    assert "ei/2026-03-02 was delivered again with a different manifest" in caplog.text
    landed = pq.read_table(Layout(warehouse).landed_drop("ei", date(2026, 3, 2)) / "claims.parquet")
    assert landed.column("claim_id").to_pylist() == ["C1", "C9"]
