"""Investigators' dispositions: an append-only log of decisions on cases.

`fraudctl disposition CASE_ID --status confirmed|cleared|in_review --note TEXT --by NAME`
appends one entry under `<warehouse>/dispositions/`, one JSON file per entry, written
atomically and never replaced (a second entry with the same name is refused). An entry
holds case_id, claim_id, status, note, by, recorded_at (ISO 8601, KST) and, for a
cleared case, the evidence the investigator saw when clearing it (its certification
ids, rule ids and ring size as of the latest run that queued it).

Which entries a run for date D applies: those recorded on or before D (KST). A re-run
of an old night therefore applies the same entries even after later decisions, and
the run manifest records how many were applied and their sha256.

What they do:
- `cleared`: the case leaves the queue until its evidence grows (a certification,
  a rule or a ring member that was not there when it was cleared);
- `confirmed`: the case stays queued until its finding arrives in `ei/findings`, and is
  a positive training label for the next model (`cleared` gives a negative one);
- `in_review`: recorded and shown in the report only.
The latest applicable entry of a claim decides.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fraud import contract
from fraud.layout import MANIFEST_NAME, Layout
from fraud.storage import atomic_file, ensure_dir, reading_csv

CONFIRMED = "confirmed"
CLEARED = "cleared"
IN_REVIEW = "in_review"
STATUSES = (CONFIRMED, CLEARED, IN_REVIEW)
QUEUE = "queue"
CONTROL = "control"
CONTROL_SAMPLE_FILE = "control_sample.csv"
KST = ZoneInfo(contract.TIMEZONE)
MAX_NOTE_CHARS = 2000
MAX_NAME_CHARS = 100
_CASE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


class DispositionError(Exception):
    """A disposition that cannot be recorded (unknown case, bad status, empty author)."""


@dataclass(frozen=True)
class Evidence:
    """What a case rested on when it was cleared."""

    cert_ids: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    ring_id: str | None = None
    ring_person_count: int = 0


@dataclass(frozen=True)
class Disposition:
    case_id: str
    claim_id: str
    status: str
    note: str
    by: str
    recorded_at: str  # ISO 8601 with the KST offset
    evidence: Evidence = field(default_factory=Evidence)
    fraud_types: str = ""  # the case's typologies when decided (';'-separated)
    # Which list the claim was decided from: the queue (a case) or a night's random
    # control sample (features/oversight.py), whose decisions are unbiased labels.
    sample: str = QUEUE
    rule_hits: str = ""  # the case's rule ids when decided (';'-separated)

    @property
    def recorded_on(self) -> date:
        return datetime.fromisoformat(self.recorded_at).astimezone(KST).date()

    def as_dict(self) -> dict:
        values = asdict(self)
        values["evidence"] = {
            **values["evidence"],
            "cert_ids": list(self.evidence.cert_ids),
            "rule_ids": list(self.evidence.rule_ids),
        }
        # Written only when they say something, so entries recorded before they
        # existed keep their bytes (and a re-run of an old night its checksum).
        for name, default in (("sample", QUEUE), ("rule_hits", "")):
            if values[name] == default:
                del values[name]
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "Disposition":
        evidence = values.get("evidence") or {}
        return cls(
            case_id=values["case_id"],
            claim_id=values["claim_id"],
            status=values["status"],
            note=values.get("note", ""),
            by=values["by"],
            recorded_at=values["recorded_at"],
            fraud_types=values.get("fraud_types", ""),
            sample=values.get("sample", QUEUE),
            rule_hits=values.get("rule_hits", ""),
            evidence=Evidence(
                tuple(evidence.get("cert_ids", ())),
                tuple(evidence.get("rule_ids", ())),
                evidence.get("ring_id"),
                int(evidence.get("ring_person_count", 0)),
            ),
        )


def log_dir(warehouse: Path) -> Path:
    return Path(warehouse) / "dispositions"


def _entry_name(entry: Disposition) -> str:
    moment = datetime.fromisoformat(entry.recorded_at).astimezone(KST).strftime("%Y%m%dT%H%M%S%f")
    digest = hashlib.sha256(json.dumps(entry.as_dict(), sort_keys=True).encode()).hexdigest()[:12]
    return f"{moment}-{entry.case_id}-{digest}.json"


def read_log(warehouse: Path) -> list[Disposition]:
    """Every entry, oldest first (recorded_at, then file name)."""
    folder = log_dir(warehouse)
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.glob("*.json")):
        try:
            entries.append((path.name, Disposition.from_dict(json.loads(path.read_text(encoding="utf-8")))))
        except (ValueError, KeyError) as error:
            raise DispositionError(f"{path}: unreadable disposition ({error})") from error
    entries.sort(key=lambda item: (datetime.fromisoformat(item[1].recorded_at), item[0]))
    return [entry for _, entry in entries]


def applicable(warehouse: Path, ds: date) -> list[Disposition]:
    """The entries a run for `ds` applies: recorded on or before `ds` (KST)."""
    return [entry for entry in read_log(warehouse) if entry.recorded_on <= ds]


def checksum(entries: list[Disposition]) -> str:
    """sha256 of the applied entries (canonical JSON lines), for the run manifest."""
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(json.dumps(entry.as_dict(), sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def latest_by_claim(entries: list[Disposition]) -> dict[str, Disposition]:
    latest: dict[str, Disposition] = {}
    for entry in entries:
        latest[entry.claim_id] = entry
    return latest


def history_by_case(entries: list[Disposition]) -> dict[str, list[Disposition]]:
    history: dict[str, list[Disposition]] = {}
    for entry in entries:
        history.setdefault(entry.case_id, []).append(entry)
    return history


# --- recording (the CLI) -------------------------------------------------------------


def published_nights(warehouse: Path) -> list[date]:
    """The nights whose outputs were published (a run manifest exists), oldest first."""
    outputs = Path(warehouse) / "outputs"
    if not outputs.is_dir():
        return []
    days = (path for path in outputs.iterdir() if _is_day(path.name))
    return sorted(date.fromisoformat(path.name) for path in days if (path / MANIFEST_NAME).is_file())


def latest_listing(
    warehouse: Path, case_id: str, on_or_before: date, lists: tuple[str, ...] = (QUEUE, CONTROL)
) -> tuple[Path, dict, str] | None:
    """The latest published night dated on or before `on_or_before` whose queue or
    control sample (of `lists`) lists the case: (its outputs, its row, QUEUE or CONTROL).

    The one answer to "which list is the case on" for the CLI (`record`) and the
    workbench: a claim that left an earlier night's queue undecided and was drawn into
    a later control sample is a control claim, and the reverse. A night that was never
    published is never the answer: its queue was shown to nobody."""
    listed = [(name, kind) for name, kind in (("cases.csv", QUEUE), (CONTROL_SAMPLE_FILE, CONTROL)) if kind in lists]
    for night in reversed(published_nights(warehouse)):
        if night > on_or_before:
            continue
        outputs = Layout(warehouse).outputs(night)
        for name, kind in listed:
            row = _row_with(outputs / name, case_id)
            if row is not None:
                return outputs, row, kind
    return None


def latest_queue_with(warehouse: Path, case_id: str, on_or_before: date) -> tuple[Path, dict] | None:
    """The latest published night dated on or before `on_or_before` whose queue holds
    the case, and its cases.csv row (`latest_listing` of the queue alone)."""
    found = latest_listing(warehouse, case_id, on_or_before, lists=(QUEUE,))
    return None if found is None else found[:2]


def _row_with(listed: Path, case_id: str) -> dict | None:
    if not listed.is_file():
        return None
    with reading_csv(listed) as rows:
        return next((row for row in rows if row["case_id"] == case_id), None)


def _is_day(name: str) -> bool:
    try:
        date.fromisoformat(name)
        return True
    except ValueError:
        return False


def evidence_of(run_outputs: Path, case: dict) -> Evidence:
    """A case's evidence in one run's outputs: the certifications behind its hits
    (evidence.parquet), its rule ids and its ring's size (rings.csv)."""
    import pyarrow.parquet as pq

    cert_ids: set[str] = set()
    evidence_file = run_outputs / "evidence.parquet"
    if evidence_file.exists():
        table = pq.read_table(
            evidence_file, columns=["case_id", "cert_id"], filters=[("case_id", "=", case["case_id"])]
        )
        cert_ids = {value for value in table.column("cert_id").to_pylist() if value}
    ring_id = case.get("ring_id") or None
    ring_persons = 0
    rings_file = run_outputs / "rings.csv"
    if ring_id and rings_file.exists():
        with open(rings_file, encoding="utf-8", newline="") as handle:
            ring_persons = next((int(r["person_count"]) for r in csv.DictReader(handle) if r["ring_id"] == ring_id), 0)
    rule_ids = tuple(sorted(filter(None, case.get("rule_hits", "").split(";"))))
    return Evidence(tuple(sorted(cert_ids)), rule_ids, ring_id, ring_persons)


def record(warehouse: Path, case_id: str, status: str, note: str, by: str, at: datetime) -> Disposition:
    """Append one disposition, made at `at` (aware), on a case queued by a run dated on
    or before `at`'s KST date. Returns the entry."""
    if status not in STATUSES:
        raise DispositionError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if not _CASE_ID.fullmatch(case_id or ""):
        raise DispositionError(f"{case_id!r} is not a case id")
    by = (by or "").strip()
    if not by or len(by) > MAX_NAME_CHARS:
        raise DispositionError(f"--by must name the investigator (1 to {MAX_NAME_CHARS} characters)")
    if len(note or "") > MAX_NOTE_CHARS:
        raise DispositionError(f"--note is longer than {MAX_NOTE_CHARS} characters")
    if at.tzinfo is None:
        raise DispositionError("the time of a disposition needs a UTC offset")
    at_kst = at.astimezone(KST)
    listed = latest_listing(warehouse, case_id, at_kst.date())
    if listed is None:
        raise DispositionError(
            f"case {case_id} is in no queue or control sample of a night published in "
            f"{Path(warehouse) / 'outputs'} dated on or before {at_kst.date()}"
        )
    run_outputs, case, sample = listed
    entry = Disposition(
        case_id=case_id,
        claim_id=case["claim_id"],
        status=status,
        note=note or "",
        by=by,
        recorded_at=at_kst.isoformat(timespec="seconds"),
        evidence=evidence_of(run_outputs, case) if status == CLEARED else Evidence(),
        fraud_types=case.get("fraud_types", ""),
        sample=sample,
        rule_hits=case.get("rule_hits", ""),
    )
    final = ensure_dir(log_dir(warehouse)) / _entry_name(entry)
    if final.exists():
        raise DispositionError(f"{final.name} is already recorded")
    with atomic_file(final, "w", encoding="utf-8") as handle:
        json.dump(entry.as_dict(), handle, ensure_ascii=False, indent=2, sort_keys=True)
        handle.write("\n")
    return entry


# --- what a run applies --------------------------------------------------------------


def cleared_rows(entries: list[Disposition]) -> list[tuple]:
    """The claims whose latest applicable entry is `cleared`, with the evidence they were
    cleared on: (claim_id, cert_ids, rule_ids, ring_person_count) rows for
    rules/cleared.py CLEARED_SCHEMA."""
    return [
        (entry.claim_id, list(entry.evidence.cert_ids), list(entry.evidence.rule_ids), entry.evidence.ring_person_count)
        for claim_id, entry in sorted(latest_by_claim(entries).items())
        if entry.status == CLEARED
    ]


def labels(entries: list[Disposition]) -> list[tuple[str, int, date, str | None]]:
    """(claim_id, label, decision_on, fraud_type) from each claim's latest confirmed (1,
    its case's first typology) or cleared (0) entry, for models/dataset.py; in_review
    gives none."""
    decided = latest_by_claim([e for e in entries if e.status in (CONFIRMED, CLEARED)])
    return [
        (
            claim_id,
            1 if entry.status == CONFIRMED else 0,
            entry.recorded_on,
            (entry.fraud_types.split(";")[0] or "OTHER") if entry.status == CONFIRMED else None,
        )
        for claim_id, entry in sorted(decided.items())
    ]


def label_sources(entries: list[Disposition]) -> dict[str, int]:
    """How many of the `labels` come from queued cases and how many from the random
    control sample (the only labels on claims nothing flagged: they tell the model what
    the claims the queue leaves out look like, which labels from the queue alone cannot)."""
    decided = latest_by_claim([e for e in entries if e.status in (CONFIRMED, CLEARED)])
    counts = {QUEUE: 0, CONTROL: 0}
    for entry in decided.values():
        counts[entry.sample if entry.sample in counts else QUEUE] += 1
    return counts
