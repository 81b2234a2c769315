"""What the workbench reads from the warehouse: the published nights' queues and their
report pages, and the decisions in the disposition log. It writes none of them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from fraud import dispositions
from fraud.dispositions import published_nights
from fraud.storage import read_csv
from pages.mask import short_key
from pages.site import changes_since

_PAGE_NAME = re.compile(r"[0-9A-Za-z_.-]{1,100}")
_MAIN = re.compile(r"<main>\n?(.*)\n?</main>\n(.*)</body>", re.DOTALL)


@dataclass(frozen=True)
class Queue:
    ds: date | None
    previous_ds: date | None
    cases: list[dict]  # cases.csv, each with `change` (new, escalated or "") and `person_short`
    # The night's random control sample (control_sample.csv, jobs/safeguards.py), each
    # with `person_short`: no cases, decided like them.
    control: list[dict] = field(default_factory=list)


def latest_queue(warehouse: Path) -> Queue:
    """The latest published night's cases, with what changed since the night before."""
    nights = published_nights(warehouse)
    if not nights:
        return Queue(None, None, [])
    ds, previous = nights[-1], (nights[-2] if len(nights) > 1 else None)
    cases = read_csv(Path(warehouse) / "outputs" / ds.isoformat() / "cases.csv")
    before = read_csv(Path(warehouse) / "outputs" / previous.isoformat() / "cases.csv") if previous else []
    changes = changes_since(cases, before)
    for case in cases:
        case["change"] = changes[case["case_id"]][0]
        case["person_short"] = short_key(case["person_key"])
        case["estimated_overpayment"] = int(case["estimated_overpayment"] or 0)
        case["rank"] = int(case["rank"])
    control_file = Path(warehouse) / "outputs" / ds.isoformat() / dispositions.CONTROL_SAMPLE_FILE
    control = read_csv(control_file) if control_file.is_file() else []
    for claim in control:
        claim["person_short"] = short_key(claim["person_key"])
    return Queue(ds, previous, cases, control)


def report_page(warehouse: Path, ds: date, kind: str, name: str) -> tuple[str, str] | None:
    """The body and script of the night's report page `<kind>/<name>.html` (kind: cases,
    rings, workplaces), as the report stage rendered them with its templates and
    masking; None when there is no such page."""
    if kind not in ("cases", "rings", "workplaces") or not _PAGE_NAME.fullmatch(name):
        return None
    path = Path(warehouse) / "outputs" / ds.isoformat() / "report" / kind / f"{name}.html"
    if not path.is_file():
        return None
    found = _MAIN.search(path.read_text(encoding="utf-8"))
    return (found.group(1), found.group(2)) if found else None


def queued_case(warehouse: Path, case_id: str) -> tuple[date, dict] | None:
    """The latest published night, dated today (KST) or earlier, whose queue or control
    sample holds the case, and its row (a control claim's with `list` = "control"):
    fraud/dispositions.py:latest_listing, the night a decision recorded now is taken on."""
    found = dispositions.latest_listing(warehouse, case_id, datetime.now(dispositions.KST).date())
    if found is None:
        return None
    outputs, row, kind = found
    return date.fromisoformat(outputs.name), dict(row, list=kind) if kind == dispositions.CONTROL else row


def decisions(warehouse: Path) -> dict[str, list[dispositions.Disposition]]:
    """Every recorded decision by case, oldest first (the log, not only what a night
    applied: the workbench shows a decision the moment it is made)."""
    return dispositions.history_by_case(dispositions.read_log(warehouse))
