"""The report's pages from a run's outputs and records (no I/O): `build` takes a
ReportInput and returns every page as (relative path -> HTML text).

Every page is rendered from sorted data with no clock, so the same run gives the same
bytes. Texts from the feeds are escaped by the templates; person and account keys are
shortened to a prefix everywhere (pages/mask.py), including inside reasons.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from jinja2 import DictLoader, Environment, StrictUndefined
from markupsafe import Markup

from features.normalize import normalize_address, normalize_phone
from fraud.dispositions import CLEARED, Disposition
from fraud.text import printable
from pages.mask import mask_keys, short_key
from pages.templates import TEMPLATES
from pages.timeline import Bar, Lane, shifted, timeline_svg, trips
from rules.ruleset import ESTIMATED, LEAD, PROVEN, RULES

RULES_BY_ID = {rule.rule_id: rule for rule in RULES}
STANDARD_MEANINGS = {
    PROVEN: "the records establish the overpayment",
    ESTIMATED: "it rests on an estimate, such as work days spread evenly over a statement: no overpayment is "
    "proven until what would settle it is known",
    LEAD: "circumstantial, or resting on a record that is missing: worth a look, nothing proven",
}
COLLUSION_TYPOLOGIES = ("FALSE_SEPARATION", "GHOST_EMPLOYMENT")
# Whole-name matches only (fullmatch): `$` would let a name end in a line break.
_SAFE_NAME = re.compile(r"[0-9A-Za-z_.-]+")


@dataclass
class ReportInput:
    ds: dt.date
    manifest: dict
    cases: list[dict]  # cases.csv rows (text values)
    workplaces: list[dict] = field(default_factory=list)  # workplaces.csv rows
    rings: list[dict] = field(default_factory=list)  # rings.csv rows
    ring_pictures: dict[str, str] = field(default_factory=dict)  # ring_id -> SVG text
    evidence: list[dict] = field(default_factory=list)  # evidence.parquet rows
    # Conformed records behind the queue: claims, certifications, income, crossings,
    # employments, findings (by person), workplaces, ring_claims (claim_id, person_key,
    # workplace_id, ring_id).
    records: dict[str, list[dict]] = field(default_factory=dict)
    previous_ds: str | None = None
    previous_cases: list[dict] = field(default_factory=list)
    dispositions: list[Disposition] = field(default_factory=list)  # applicable to ds
    quarantine: list[dict] = field(default_factory=list)  # source, drop_date, table, column, check, rows
    model: dict | None = None  # version, run_id, training_data_sha256, metrics, features
    model_error: str | None = None
    multiplier: float = 2.0
    collusion_multiplier: float = 5.0
    # The safeguards stage's files (jobs/safeguards.py): text rows as written.
    control_sample: list[dict] = field(default_factory=list)
    precision: list[dict] = field(default_factory=list)
    fairness: list[dict] = field(default_factory=list)
    not_used: dict[str, str] = field(default_factory=dict)  # models/model_features.py:NOT_USED


def _environment() -> Environment:
    def finalize(value):
        if isinstance(value, Markup):
            return Markup(mask_keys(str(value)))
        return mask_keys(value)

    return Environment(
        loader=DictLoader(TEMPLATES),
        autoescape=True,
        finalize=finalize,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _int(value) -> int:
    if value in (None, ""):
        return 0
    return int(float(value))


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").split(";") if part]


# A case page lists first the income statements whose work lies around the claim: from
# half a year before it was filed (its last wages) to a month after its last certified
# period; years of other monthly statements are folded below them.
MONTHS_BEFORE_THE_CLAIM_DAYS = 183
AFTER_THE_BENEFIT_DAYS = 31


def claim_window(claim: dict | None, certifications: list[dict]) -> tuple[dt.date, dt.date] | None:
    """The days around a claim whose income statements a case page shows first."""
    filed = _day(claim.get("filed_on")) if claim else None
    if filed is None:
        return None
    ends = [d for d in (_day(c.get("period_to")) for c in certifications) if d is not None]
    return (
        filed - dt.timedelta(days=MONTHS_BEFORE_THE_CLAIM_DAYS),
        max([filed, *ends]) + dt.timedelta(days=AFTER_THE_BENEFIT_DAYS),
    )


def _overlaps(statement: dict, window: tuple[dt.date, dt.date]) -> bool:
    start, end = _day(statement.get("work_from")), _day(statement.get("work_to"))
    if start is None or end is None:
        return True  # a statement without its period stays in sight
    return start <= window[1] and end >= window[0]


def _day(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _text(value) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _rows(rows: list[dict], sort_key: str, masked: tuple[str, ...] = ()) -> list[dict]:
    out = []
    for row in sorted(rows, key=lambda r: tuple(str(r.get(k) or "") for k in (sort_key,))):
        shown = {k: _text(v) for k, v in row.items()}
        for key in masked:
            if key in shown:
                shown[key] = short_key(row.get(key))
        out.append(shown)
    return out


def _by(rows: list[dict], key: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row.get(key)].append(row)
    return grouped


def changes_since(cases: list[dict], previous: list[dict]) -> dict[str, tuple[str, int | None]]:
    """case_id -> ("new" | "escalated" | "", rank yesterday)."""
    before = {row["case_id"]: row for row in previous}
    changes = {}
    for case in cases:
        old = before.get(case["case_id"])
        if old is None:
            changes[case["case_id"]] = ("new", None)
        elif _int(case["rank"]) < _int(old["rank"]) or float(case["score"]) > float(old["score"]):
            changes[case["case_id"]] = ("escalated", _int(old["rank"]))
        else:
            changes[case["case_id"]] = ("", _int(old["rank"]))
    return changes


def _totals(cases: list[dict], key) -> list[dict]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        for value in key(case):
            counts[value][0] += 1
            counts[value][1] += case["estimated_overpayment"]
    return [{"key": k, "cases": v[0], "amount": v[1]} for k, v in sorted(counts.items())]


def tainted_certifications(evidence: list[dict]) -> set[str]:
    """A case's evidence rows -> the certifications a tainting rule fired on (proven)."""
    return {e["cert_id"] for e in evidence if e.get("taints") and e.get("cert_id")}


def invalidating_rules(rule_ids: list[str]) -> list[str]:
    """The rules among `rule_ids` whose hit means the claim was never valid (proven)."""
    return [r for r in rule_ids if r in RULES_BY_ID and RULES_BY_ID[r].invalidates_claim]


def what_would_settle(rule_ids: list[str]) -> list[str]:
    """'<rule id>: <what would settle it>' for each rule among `rule_ids` that is not proven."""
    return [f"{r}: {RULES_BY_ID[r].settle}" for r in rule_ids if r in RULES_BY_ID and RULES_BY_ID[r].settle]


def overpayment_figures(case: dict) -> tuple[int, int]:
    """A cases.csv row -> (proven, if_confirmed): its estimated_overpayment, which counts
    proven evidence only, and the overpayment were its estimates confirmed too (the
    proven one in a queue without that column). A case page shows if_confirmed only
    when it is larger, and as an estimate."""
    proven = _int(case["estimated_overpayment"])
    return proven, _int(case.get("overpayment_if_confirmed") or case["estimated_overpayment"])


def overpayment_steps(certifications: list[dict], tainted: set[str], rule_ids: list[str]) -> tuple[list[str], int]:
    """The claim's certifications (cert_id, period_from, period_to, paid_amount), the
    tainted ones and the rules hit -> the computation in words (DOMAIN.md) and its
    result."""
    ordered = sorted(certifications, key=lambda c: (str(c["period_from"]), c["cert_id"]))
    paid = [_int(c["paid_amount"]) for c in ordered]
    steps = [f"{len(ordered)} certifications paid on the claim, {sum(paid):,} KRW in all."]
    from_first_taint = 0
    first = next((i for i, c in enumerate(ordered) if c["cert_id"] in tainted), None)
    if first is not None:
        later = paid[first:]
        from_first_taint = sum(later)
        cert = ordered[first]
        steps.append(
            f"First tainted certification: {cert['cert_id']} "
            f"({_text(cert['period_from'])}..{_text(cert['period_to'])}); "
            f"{len(tainted)} tainted in all. Benefits stop from the first fraudulent act: "
            f"{' + '.join(f'{p:,}' for p in later)} = {from_first_taint:,} KRW."
        )
    invalidating = invalidating_rules(rule_ids)
    whole_claim = sum(paid) if invalidating else 0
    if invalidating:
        steps.append(
            f"{', '.join(invalidating)} invalidates the claim (it was never valid): everything paid, "
            f"{whole_claim:,} KRW."
        )
    if first is None and not invalidating:
        steps.append("No tainted certification and no invalidating rule: no overpayment is proven (a lead).")
    result = max(from_first_taint, whole_claim)
    if first is not None and invalidating:
        steps.append(f"Both apply; the larger wins: {result:,} KRW.")
    return steps, result


def _timeline(
    claim: dict | None,
    certifications: list[dict],
    tainted: set[str],
    income: list[dict],
    employments: list[dict],
    crossings: list[dict],
    ds: dt.date,
) -> str:
    certified = tuple(
        Bar(
            _day(c["period_from"]),
            _day(c["period_to"]),
            "tainted" if c["cert_id"] in tainted else "certified",
            f"{c['cert_id']} {_text(c['period_from'])}..{_text(c['period_to'])} "
            f"declared {_int(c['declared_income']):,} KRW" + (" (tainted)" if c["cert_id"] in tainted else ""),
        )
        for c in sorted(certifications, key=lambda c: (str(c["period_from"]), c["cert_id"]))
        if _day(c["period_from"]) and _day(c["period_to"])
    )
    work = tuple(
        Bar(
            _day(e["acquired_on"]),
            _day(e["lost_on"]) or ds,
            "employment",
            f"insured at {e['workplace_id']} {_text(e['acquired_on'])}..{_text(e['lost_on']) or 'open'}",
        )
        for e in sorted(employments, key=lambda e: (str(e["acquired_on"]), e["employment_id"]))
    )
    paid_work = tuple(
        Bar(
            _day(i["work_from"]),
            _day(i["work_to"]),
            "income",
            f"{i['record_id']} {i['income_type']} from {i['payer_business_no']}: {_int(i['amount']):,} KRW"
            + (f", {_int(i['work_days'])} days" if i.get("work_days") not in (None, "") else ""),
        )
        for i in sorted(income, key=lambda i: (str(i["work_from"]), i["record_id"]))
        if _day(i["work_from"]) and _day(i["work_to"])
    )
    abroad = tuple(trips(crossings, ds))
    lanes = [
        Lane("certified periods", certified),
        Lane("insured employment", work),
        Lane("income statements", paid_work),
        Lane("abroad", abroad),
    ]
    anchor = [b for lane in lanes[:1] for b in lane.bars]
    if claim and _day(claim.get("filed_on")):
        first_day = shifted(_day(claim["filed_on"]), -210)
    elif anchor:
        first_day = shifted(min(b.start for b in anchor), -210)
    else:
        first_day = shifted(ds, -365)
    last_day = max([ds, *(b.end for lane in lanes for b in lane.bars if b.end <= shifted(ds, 60))])
    return timeline_svg(lanes, first_day, last_day, today=ds)


def _picture(svg: str | None) -> str | None:
    if not svg:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(str(mask_keys(svg)).encode("utf-8")).decode("ascii")


def _workplace_record(record: dict | None) -> dict:
    if not record:
        return {}
    shown = {k: _text(v) for k, v in record.items()}
    shown["workplace"] = record["workplace_id"]
    shown["representative"] = short_key(record.get("representative_key"))
    shown["bank_account"] = short_key(record.get("bank_account_key"))
    return shown


MISSING_RECORD = "no record as of the run date: quarantined or never delivered"
WORKPLACE_FIELDS = (
    "name",
    "representative",
    "address",
    "phone",
    "bank_account",
    "region_code",
    "opened_on",
    "closed_on",
)


def _missing_workplace(workplace_id: str) -> dict:
    """A ring member the workplaces feed holds no record of: what is known (its id) and
    what is missing."""
    return {"workplace": workplace_id, **{field: "" for field in WORKPLACE_FIELDS}, "name": MISSING_RECORD}


def _shared_attributes(members: list[dict]) -> list[dict]:
    """Values (representative, address, phone, account) that two or more member
    workplaces share: addresses and phones by the graph's own keys
    (features/normalize.py), so every spelling the ring's picture links is listed."""
    attributes = (
        ("representative", "representative_key", lambda v: v, short_key),
        ("address", "address", normalize_address, lambda v: v),
        ("phone", "phone", normalize_phone, lambda v: v),
        ("bank account", "bank_account_key", lambda v: v, short_key),
    )
    shared = []
    for label, key, normal, show in attributes:
        groups: dict[str, list[dict]] = defaultdict(list)
        for member in members:
            value = normal(member[key]) if member.get(key) else None
            if value:
                groups[value].append(member)
        for value, group in sorted(groups.items()):
            if len(group) > 1:
                shared.append(
                    {
                        "attribute": label,
                        "value": show(group[0][key]),
                        "workplaces": ", ".join(sorted(m["workplace_id"] for m in group)),
                    }
                )
    return shared


def _evidence_row(evidence: dict) -> dict:
    """One hit's evidence as shown; an evidence file of an older night has no
    `standard`, so the rule's own is shown."""
    row = {k: _text(v) for k, v in evidence.items()}
    if not evidence.get("standard"):
        rule = RULES_BY_ID.get(evidence.get("rule_id"))
        row["standard"] = rule.standard if rule else ""
    return row


def _case_view(
    case: dict,
    inp: ReportInput,
    records: dict,
    history: list[Disposition],
    workplace_pages: set[str],
    change: tuple[str, int | None],
) -> tuple[dict, str]:
    claim = records["claims"].get(case["claim_id"])
    certifications = records["certifications"].get(case["claim_id"], [])
    evidence = records["evidence"].get(case["case_id"], [])
    tainted = tainted_certifications(evidence)
    person = case["person_key"]
    income = records["income"].get(person, [])
    crossings = records["crossings"].get(person, [])
    employments = records["employments"].get(person, [])
    findings = records["findings"].get(person, [])
    window = claim_window(claim, certifications)
    near, far = income, []
    if window:
        near = [i for i in income if _overlaps(i, window)]
        far = [i for i in income if not _overlaps(i, window)]
    rule_ids = _split(case["rule_hits"])
    steps, computed = overpayment_steps(certifications, tainted, rule_ids)
    estimated = case["estimated_overpayment"]
    if computed != estimated:
        steps.append(
            f"The queue's estimate is {estimated:,} KRW (computed by the nightly run from the same "
            f"records as of {inp.ds.isoformat()})."
        )
    collusion = bool(case["ring_id"]) or any(t in COLLUSION_TYPOLOGIES for t in case["fraud_types"])
    multiplier = inp.collusion_multiplier if collusion else inp.multiplier
    workplace = records["workplaces"].get(case["workplace_id"]) or {}
    view = dict(case)
    view.update(
        workplace_name=workplace.get("name"),
        workplace_missing=case["workplace_id"] not in records["workplaces"],
        standard_meaning=STANDARD_MEANINGS.get(case["evidence_standard"], ""),
        settle=what_would_settle(rule_ids),
        workplace_page=case["workplace_id"] in workplace_pages,
        change=change[0],
        previous_rank=change[1],
        reasons=_split(case["reasons"]),
        rules=[
            {
                "rule_id": r,
                "typology": RULES_BY_ID[r].typology,
                "title": RULES_BY_ID[r].title,
                "legal_basis": RULES_BY_ID[r].legal_basis,
                "severity": RULES_BY_ID[r].severity,
                "effect": (
                    "taints the certification"
                    if RULES_BY_ID[r].taints
                    else "invalidates the claim"
                    if RULES_BY_ID[r].invalidates_claim
                    else "aggravates"
                    if RULES_BY_ID[r].aggravates_only
                    else "a lead"
                ),
            }
            if r in RULES_BY_ID
            else {"rule_id": r, "typology": "", "title": "", "legal_basis": "", "severity": "", "effect": ""}
            for r in rule_ids
        ],
        steps=steps,
        multiplier=f"{multiplier:g}",
        multiplier_basis="collusion with the employer (공모형)" if collusion else "no collusion on record",
        additional_collection=int(round(estimated * multiplier)),
        evidence=[_evidence_row(e) for e in evidence],
        claim=[dict(_rows([claim], "claim_id")[0], bank_account=short_key(claim.get("bank_account_key")))]
        if claim
        else [],
        certifications=[
            dict(c, tainted="yes" if c["cert_id"] in tainted else "") for c in _rows(certifications, "period_from")
        ],
        income=_rows(near, "work_from"),
        income_folded=_rows(far, "work_from"),
        income_window=f"{window[0].isoformat()}..{window[1].isoformat()}" if window else "",
        crossings=_rows(crossings, "crossed_at"),
        employments=_rows(employments, "acquired_on"),
        findings=_rows(findings, "decided_on"),
        history=[{"recorded_at": h.recorded_at, "status": h.status, "by": h.by, "note": h.note} for h in history],
    )
    timeline = _timeline(claim, certifications, tainted, income, employments, crossings, inp.ds)
    return view, timeline


def build(inp: ReportInput) -> dict[str, str]:
    """The site: index.html, cases/<case_id>.html, rings/<ring_id>.html,
    workplaces/<workplace_id>.html, quality.html, model.html, safeguards.html; each
    page's path to its HTML."""
    return dict(render_pages(inp))


def render_pages(inp: ReportInput) -> Iterator[tuple[str, str]]:
    """`build`'s pages one at a time, each (path, HTML) as soon as it is rendered: the
    report stage writes each and lets it go. At a million persons the site is 17,657
    pages and 317 MB, which held whole took some 700 MB of the driver's memory.
    Delivered text may hold control characters (a NUL, an escape sequence):
    autoescaping leaves them, so every page shows them as \\xNN instead (`printable`)."""
    env = _environment()

    def rendered(template: str, **context) -> str:
        return printable(env.get_template(template).render(**context))

    ds = inp.ds.isoformat()
    workplace_records = {w["workplace_id"]: w for w in inp.records.get("workplaces", [])}
    records = {
        "claims": {c["claim_id"]: c for c in inp.records.get("claims", [])},
        "certifications": _by(inp.records.get("certifications", []), "claim_id"),
        "income": _by(inp.records.get("income", []), "person_key"),
        "crossings": _by(inp.records.get("crossings", []), "person_key"),
        "employments": _by(inp.records.get("employments", []), "person_key"),
        "findings": _by(inp.records.get("findings", []), "person_key"),
        "workplaces": workplace_records,
        "evidence": _by(inp.evidence, "case_id"),
    }
    latest: dict[str, Disposition] = {}
    history: dict[str, list[Disposition]] = defaultdict(list)
    for entry in inp.dispositions:
        latest[entry.case_id] = entry
        history[entry.case_id].append(entry)
    workplace_pages = {w["workplace_id"] for w in inp.workplaces if _SAFE_NAME.fullmatch(w["workplace_id"])}
    changes = changes_since(inp.cases, inp.previous_cases)

    cases = []
    for row in sorted(inp.cases, key=lambda r: _int(r["rank"])):
        if not _SAFE_NAME.fullmatch(row["case_id"]):
            raise ValueError(f"case_id {row['case_id']!r} cannot name a page")
        workplace = workplace_records.get(row["workplace_id"]) or {}
        proven, if_confirmed = overpayment_figures(row)
        case = dict(
            row,
            rank=_int(row["rank"]),
            estimated_overpayment=proven,
            overpayment_if_confirmed=if_confirmed,
            evidence_standard=row.get("evidence_standard") or "",
            fraud_types=_split(row["fraud_types"]),
            person_short=short_key(row["person_key"]),
            region=workplace.get("region_code") or "?",
            status=latest[row["case_id"]].status if row["case_id"] in latest else "open",
        )
        cases.append(case)

    for case in cases:
        view, timeline = _case_view(
            case, inp, records, history.get(case["case_id"], []), workplace_pages, changes[case["case_id"]]
        )
        yield f"cases/{case['case_id']}.html", rendered("case", ds=ds, root="../", case=view, timeline=Markup(timeline))
    for case in cases:
        case["change"], case["previous_rank"] = changes[case["case_id"]]
        case["workplace_page"] = case["workplace_id"] in workplace_pages

    today_ids = {c["case_id"] for c in cases}
    resolved = []
    for old in sorted(inp.previous_cases, key=lambda r: _int(r["rank"])):
        if old["case_id"] in today_ids:
            continue
        entry = latest.get(old["case_id"])
        why = (
            f"cleared by {entry.by} on {entry.recorded_at[:10]}"
            if entry and entry.status == CLEARED
            else "no longer flagged (decided, or its evidence no longer holds)"
        )
        resolved.append(
            {
                "case_id": old["case_id"],
                "rank": _int(old["rank"]),
                "fraud_types": old["fraud_types"],
                "estimated_overpayment": _int(old["estimated_overpayment"]),
                "why": why,
            }
        )

    ring_claims = _by(inp.records.get("ring_claims", []), "ring_id")
    by_claim = {c["claim_id"]: c for c in cases}
    rings = []
    for ring in sorted(inp.rings, key=lambda r: r["ring_id"]):
        if not _SAFE_NAME.fullmatch(ring["ring_id"]):
            raise ValueError(f"ring_id {ring['ring_id']!r} cannot name a page")
        members = [workplace_records.get(w) or {"workplace_id": w} for w in _split(ring["workplace_ids"])]
        claims = []
        for claim in sorted(ring_claims.get(ring["ring_id"], []), key=lambda c: c["claim_id"]):
            case = by_claim.get(claim["claim_id"])
            claims.append(
                {
                    "claim_id": claim["claim_id"],
                    "person": short_key(claim.get("person_key")),
                    "workplace_id": claim.get("workplace_id"),
                    "case": case["case_id"] if case else "",
                    "rank": case["rank"] if case else "",
                    "fraud_types": ";".join(case["fraud_types"]) if case else "",
                    "estimated_overpayment": f"{case['estimated_overpayment']:,}" if case else "",
                }
            )
        queued = [c for c in cases if c["ring_id"] == ring["ring_id"]]
        view = dict(
            ring,
            workplace_ids=_split(ring["workplace_ids"]),
            cases=queued,
            amount=sum(c["estimated_overpayment"] for c in queued),
            members=[
                _workplace_record(m) if m.get("name") is not None else _missing_workplace(m["workplace_id"])
                for m in members
            ],
            shared=_shared_attributes([m for m in members if m.get("name") is not None]),
            claims=claims,
            picture=_picture(inp.ring_pictures.get(ring["ring_id"])),
        )
        rings.append(view)
        yield f"rings/{ring['ring_id']}.html", rendered("ring", ds=ds, root="../", ring=view)

    workplaces = []
    for row in sorted(inp.workplaces, key=lambda r: _int(r["rank"])):
        if row["workplace_id"] not in workplace_pages:
            continue
        record = workplace_records.get(row["workplace_id"])
        flagged = [
            {
                "case": c["case_id"],
                "rank": c["rank"],
                "claim_id": c["claim_id"],
                "person": c["person_short"],
                "fraud_types": ";".join(c["fraud_types"]),
                "estimated_overpayment": f"{c['estimated_overpayment']:,}",
            }
            for c in cases
            if c["workplace_id"] == row["workplace_id"]
        ]
        view = dict(
            row,
            rank=_int(row["rank"]),
            name=(record or {}).get("name", ""),
            record=[_workplace_record(record)] if record else [],
            claims=flagged,
        )
        workplaces.append(view)
        yield f"workplaces/{row['workplace_id']}.html", rendered("workplace", ds=ds, root="../", w=view)

    for case in cases:
        case["workplace_name"] = (workplace_records.get(case["workplace_id"]) or {}).get("name")
    yield (
        "index.html",
        rendered(
            "index",
            ds=ds,
            root="",
            manifest=inp.manifest,
            cases=cases,
            rings=rings,
            workplaces=workplaces,
            total_overpayment=sum(c["estimated_overpayment"] for c in cases),
            applied_dispositions=(inp.manifest.get("dispositions") or {}).get("applied", len(inp.dispositions)),
            kept_out=(inp.manifest.get("dispositions") or {}).get("cleared_kept_out", 0),
            previous_ds=inp.previous_ds,
            new_count=sum(1 for c in cases if c["change"] == "new"),
            escalated_count=sum(1 for c in cases if c["change"] == "escalated"),
            resolved=resolved,
            by_typology=_totals(cases, lambda c: c["fraud_types"]),
            by_region=_totals(cases, lambda c: [c["region"]]),
        ),
    )
    yield (
        "quality.html",
        rendered(
            "quality",
            ds=ds,
            root="",
            totals=inp.manifest.get("totals", {"rows_in": 0, "valid": 0, "quarantined": 0}),
            drops=quality_rows(inp.manifest),
            quarantine=sorted(
                inp.quarantine, key=lambda q: (q["source"], q["drop_date"], q["table"], q["column"], q["check"])
            ),
        ),
    )
    yield "model.html", rendered("model", ds=ds, root="", model=inp.model, model_error=inp.model_error)
    yield "safeguards.html", rendered("safeguards", ds=ds, root="", **safeguards_view(inp, latest))


def _interval(row: dict) -> str:
    if not row.get("rate_low"):
        return "—"
    return f"{row['rate_low']}–{row['rate_high']}"


def safeguards_view(inp: ReportInput, latest: dict[str, Disposition]) -> dict:
    """The safeguards page: the estimates, the control sample (masked, with each
    claim's status), rule precision, fairness and what the model must not use."""
    rates = {(r["kind"], r["subject"]): dict(r, interval=_interval(r)) for r in inp.precision}
    empty = {"decided": 0, "confirmed": 0, "rate": "", "interval": "—"}
    queue = rates.get(("list", "queue"), empty)
    control = rates.get(("list", "control"), empty)
    candidates = _int((inp.manifest.get("safeguards") or {}).get("control_candidates", 0))
    missed = ""
    if control.get("rate_low"):
        low, high = (round(float(control[k]) * candidates) for k in ("rate_low", "rate_high"))
        missed = f"{low:,} to {high:,}"
    return dict(
        queue=queue,
        control=control,
        candidates=candidates,
        missed=missed,
        control_rows=[
            {
                "draw_order": row["draw_order"],
                "case_id": row["case_id"],
                "claim_id": row["claim_id"],
                "workplace_id": row["workplace_id"],
                "filed_on": row["filed_on"],
                "person": short_key(row["person_key"]),
                "status": latest[row["case_id"]].status if row["case_id"] in latest else "undecided",
            }
            for row in inp.control_sample
        ],
        rules=[row for key, row in rates.items() if key[0] in ("rule", "typology")],
        fairness=[
            dict(row, flag=row["referral_flagged"] == "true" or row["outcome_flagged"] == "true")
            for row in inp.fairness
        ],
        flagged=[
            f"{row['dimension']}={row['group']} ({kind})"
            for row in inp.fairness
            for kind in ("referral", "outcome")
            if row[f"{kind}_flagged"] == "true"
        ],
        not_used=[{"attribute": name, "why": why} for name, why in inp.not_used.items()],
    )


def quality_rows(manifest: dict) -> list[dict]:
    """Per drop and table of the run manifest: counts and the Great Expectations result
    (met, or drift: the checks outside the table's history, with their reasons)."""
    rows = []
    for drop in sorted(manifest.get("drops", []), key=lambda d: (d["drop_date"], d["source"])):
        for table, counts in sorted(drop["tables"].items()):
            gx = counts.get("expectations") or {}
            rows.append(
                {
                    "source": drop["source"],
                    "drop_date": drop["drop_date"],
                    "table": table,
                    "rows_in": counts["rows_in"],
                    "valid": counts["valid"],
                    "quarantined": counts["quarantined"],
                    "expectations": ("met" if gx.get("success") else "drift") if gx else "not run (no valid rows)",
                    "evaluated": gx.get("evaluated", ""),
                    "drift": "; ".join(d["reason"] for d in gx.get("drift") or []),
                }
            )
    return rows
