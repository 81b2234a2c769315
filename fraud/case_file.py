"""What a notice to a claimant rests on (`fraudctl notice`, the workbench's notice;
pages/notice.py writes it): a confirmed case's row in the latest published queue dated
on or before the notice's date, its rows of that night's evidence.parquet, and the decision
that confirmed it. Only read, never written.

A notice goes only to the claimant of a case an investigator confirmed: the claim's
latest disposition recorded on or before the notice's date (fraud/dispositions.py: the
entries a run of that date would apply, the latest of a claim decides) must be
`confirmed`. No decision, `in_review` or `cleared` is refused (`NotConfirmed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fraud import dispositions

EVIDENCE_FILE = "evidence.parquet"


class CaseFileError(Exception):
    """A case whose facts cannot be read for a notice."""


class NoSuchCase(CaseFileError):
    """The case is in no published queue dated on or before the notice's date."""


class NotConfirmed(CaseFileError):
    """The case's latest decision on or before the notice's date is not `confirmed`."""


@dataclass(frozen=True)
class CaseFile:
    ds: date  # the night whose outputs hold the case
    case: dict  # its cases.csv row (text values)
    evidence: list[dict]  # its evidence.parquet rows (EVIDENCE_COLUMNS), by rule, period, certification
    decision: dispositions.Disposition  # the entry that confirmed it


def read_confirmed(warehouse: Path, case_id: str, on: date) -> CaseFile:
    """The case file of `case_id` for a notice dated `on` (KST): the latest published
    queue dated on or before `on` that holds the case, and its evidence there. Raises NoSuchCase,
    NotConfirmed, or CaseFileError when that night holds no evidence for the case."""
    found = dispositions.latest_queue_with(warehouse, case_id, on)
    if found is None:
        raise NoSuchCase(
            f"case {case_id} is in no queue of a night published in {Path(warehouse) / 'outputs'} "
            f"dated on or before {on}"
        )
    run_outputs, case = found
    decision = dispositions.latest_by_claim(dispositions.applicable(warehouse, on)).get(case["claim_id"])
    if decision is None or decision.status != dispositions.CONFIRMED:
        latest = f"its latest decision is {decision.status}" if decision else "it has no decision"
        raise NotConfirmed(
            f"case {case_id} is not confirmed ({latest} on or before {on}): "
            "a notice goes only to the claimant of a confirmed case"
        )
    evidence = _evidence_rows(run_outputs / EVIDENCE_FILE, case_id)
    if not evidence:
        raise CaseFileError(f"{run_outputs / EVIDENCE_FILE} holds no evidence of case {case_id}: a notice states facts")
    return CaseFile(date.fromisoformat(run_outputs.name), case, evidence, decision)


def _evidence_rows(path: Path, case_id: str) -> list[dict]:
    if not path.exists():
        return []
    import pyarrow.parquet as pq

    rows = pq.read_table(path, filters=[("case_id", "=", case_id)]).to_pylist()
    return sorted(rows, key=lambda r: (r["rule_id"], str(r.get("period_from") or ""), r.get("cert_id") or ""))
