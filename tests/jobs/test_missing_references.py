"""References to records that are not there: a ring's workplaces quarantined in the
baseline drop, so every claim, spell and finding of theirs names a workplace no
conformed table holds. Both nights of the landing run to the end (issue #18: the
report stage crashed on such a ring member), the report shows what is known and says
what is missing, and the counts add up."""

import csv
import hashlib
import io
import json
from datetime import date

import pyarrow.parquet as pq
import pytest

from fraud.config import Settings
from fraud.layout import Layout
from jobs import pipeline


def quarantine_rows(landing, source, day, table, keys: set[str], key: str) -> int:
    """Make the rows of `table` whose `key` is in `keys` contract-invalid (an
    impossible date, so the validator quarantines them) and rewrite the drop's
    manifest for the new bytes. -> rows changed."""
    drop = landing / source / day
    manifest = json.loads((drop / "_MANIFEST.json").read_text())
    encoding = manifest["encoding"]
    raw = (drop / f"{table}.csv").read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode(encoding).lstrip("\ufeff"), newline="")))
    header, changed = rows[0], 0
    date_column = header.index("opened_on")
    for row in rows[1:]:
        if row[header.index(key)] in keys:
            row[date_column] = "2019-02-30"
            changed += 1
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    data = (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding)
    (drop / f"{table}.csv").write_bytes(data)
    manifest["tables"][f"{table}.csv"]["sha256"] = hashlib.sha256(data).hexdigest()
    (drop / "_MANIFEST.json").write_text(json.dumps(manifest))
    return changed


@pytest.mark.slow
def test_both_nights_run_when_a_rings_workplaces_were_quarantined(spark, tmp_path):
    from simulation.synth import generate

    landing = tmp_path / "landing"
    truth = generate(landing, persons=400, seed=11, baseline=date(2026, 3, 2), days=1)
    ring_workplaces = set(truth["rings"][0]["workplace_ids"])
    baseline, final = truth["drop_dates"][0], truth["drop_dates"][-1]
    assert quarantine_rows(landing, "ei", baseline, "workplaces", ring_workplaces, "workplace_id") == len(
        ring_workplaces
    )
    settings = Settings.from_env(
        landing=landing,
        warehouse=tmp_path / "warehouse",
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        drop_wait_timeout_seconds=0,
    )
    layout = Layout(settings.warehouse)
    for night in (baseline, final):
        pipeline.run_all(date.fromisoformat(night), settings)
        manifest = json.loads((layout.outputs(date.fromisoformat(night)) / "run_manifest.json").read_text())
        for drop in manifest["drops"]:
            for counts in drop["tables"].values():
                assert counts["valid"] + counts["quarantined"] == counts["rows_in"]
        assert (layout.outputs(date.fromisoformat(night)) / "report" / "index.html").is_file()
        # The claims in rings the stage reports are counted as it writes them.
        in_rings = pq.read_table(layout.collusion(date.fromisoformat(night)) / "claims", columns=["ring_id"])["ring_id"]
        reported = json.loads(layout.stage_result(date.fromisoformat(night), "collusion").read_text())
        assert reported["claims_in_rings"] == len(in_rings) - in_rings.null_count > 0

    outputs = layout.outputs(date.fromisoformat(final))
    [baseline_drop] = [d for d in manifest["drops"] if (d["source"], d["drop_date"]) == ("ei", baseline)]
    assert baseline_drop["tables"]["workplaces"]["quarantined"] >= len(ring_workplaces)
    with open(outputs / "cases.csv", newline="", encoding="utf-8") as handle:
        cases = list(csv.DictReader(handle))
    queued_there = [c for c in cases if c["workplace_id"] in ring_workplaces]
    assert queued_there, "the ring's claims are still judged on what is known of them"
    page = (outputs / "report" / "cases" / f"{queued_there[0]['case_id']}.html").read_text(encoding="utf-8")
    assert "no record of this workplace" in page
