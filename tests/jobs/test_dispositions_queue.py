"""Must show: a case an investigator cleared stays out of the next night's queue, and
comes back when new evidence is planted (a new tainted certification). The crossmatch
job runs on a tiny conformed world written to disk; the disposition goes through the
CLI as an investigator would record it.

| claimant | evidence on 2026-04-30 | later |
| --- | --- | --- |
| p | February work (12 days), 0 declared: UW-01 taints c2 | cleared on 05-01; on 05-02 April work, 0 declared in c4 |
| q | the same | never cleared (keeps the queue non-empty, ranks stay 1..N) |
"""

from __future__ import annotations

import json

from click.testing import CliRunner
from queue_world import NIGHT_1, NIGHT_2, NIGHT_3, night


def test_a_cleared_case_stays_out_until_new_evidence_arrives(spark, tmp_path):
    from fraudctl.main import main

    warehouse = tmp_path / "warehouse"
    _, first = night(spark, warehouse, NIGHT_1)
    assert set(first) == {"CL-p", "CL-q"}
    case_id = first["CL-p"]["case_id"]

    cleared = CliRunner().invoke(
        main,
        [
            "disposition",
            case_id,
            "--status",
            "cleared",
            "--by",
            "kim",
            "--note",
            "part-time work declared at the job centre",
            "--warehouse",
            str(warehouse),
            "--at",
            "2026-05-01T09:30:00+09:00",
        ],
    )
    assert cleared.exit_code == 0, cleared.output
    entry = json.loads(next((warehouse / "dispositions").glob("*.json")).read_text())
    assert entry["evidence"]["cert_ids"] == ["p-c2"] and entry["evidence"]["rule_ids"] == first["CL-p"][
        "rule_hits"
    ].split(";")

    result, second = night(spark, warehouse, NIGHT_2)
    assert set(second) == {"CL-q"} and second["CL-q"]["rank"] == "1"
    assert result["dispositions"]["applied"] == 1 and result["dispositions"]["cleared_kept_out"] == 1

    result, third = night(spark, warehouse, NIGHT_3, with_new_evidence=True)
    assert set(third) == {"CL-p", "CL-q"}
    assert third["CL-p"]["case_id"] == case_id
    assert "p-c4" in third["CL-p"]["reasons"] or int(third["CL-p"]["estimated_overpayment"]) > int(
        first["CL-p"]["estimated_overpayment"]
    )
    assert result["dispositions"] == {"applied": 1, "sha256": result["dispositions"]["sha256"], "cleared_kept_out": 0}
