"""Holdout world: an independent check of the generated landing directory
against FEEDS.md (layout, manifests, ids, codes, dates, encodings) and of the
truth file against the records (DOMAIN.md's overpayment rule recomputed from
the written CSVs).  The checker below is written from the contract only."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.holdout import generate  # noqa: E402

BASE = date(2026, 3, 2)
DAYS = 5
PERSONS = 3000
SEED = 7
KST = timezone(timedelta(hours=9))

# ------------------------------------------------------------------ contract
SCHEMA = {
    "workplaces": "workplace_id business_no name representative_key address phone bank_account_key industry_code "
    "region_code opened_on closed_on updated_at",
    "employments": "employment_id person_key workplace_id acquired_on lost_on separation_code monthly_wage updated_at",
    "claims": "claim_id person_key workplace_id separation_code filed_on eligible_from benefit_days daily_amount "
    "bank_account_key status updated_at",
    "certifications": "cert_id claim_id cert_on period_from period_to channel ip_country job_search_count "
    "declared_income paid_days paid_amount updated_at",
    "findings": "finding_id person_key claim_id workplace_id fraud_type decided_on overpaid_amount collusion "
    "updated_at",
    "income": "record_id person_key payer_business_no income_type work_from work_to work_days amount filed_on "
    "updated_at",
    "crossings": "crossing_id person_key crossed_at direction port_code country",
}
SCHEMA = {t: c.split() for t, c in SCHEMA.items()}
SOURCES = {
    "ei": ["workplaces", "employments", "claims", "certifications", "findings"],
    "nts": ["income"],
    "moj": ["crossings"],
}
ID_COL = {t: c[0] for t, c in SCHEMA.items()}
NULLABLE = {
    ("workplaces", "closed_on"),
    ("employments", "lost_on"),
    ("employments", "separation_code"),
    ("certifications", "ip_country"),
    ("findings", "workplace_id"),
    ("income", "work_days"),
}
SEP = {"11", "12", "22", "23", "26", "31", "32", "41"}
ELIGIBLE = {"12", "22", "23", "31", "32"}
KIND = {
    "person_key": "hex",
    "representative_key": "hex",
    "bank_account_key": "hex",
    "workplace_id": "d11",
    "business_no": "d10",
    "payer_business_no": "d10",
    "industry_code": "d2",
    "region_code": "d2",
    "opened_on": "date",
    "closed_on": "date",
    "acquired_on": "date",
    "lost_on": "date",
    "filed_on": "date",
    "eligible_from": "date",
    "cert_on": "date",
    "period_from": "date",
    "period_to": "date",
    "decided_on": "date",
    "work_from": "date",
    "work_to": "date",
    "updated_at": "ts",
    "crossed_at": "ts",
    "separation_code": SEP,
    "status": {"FILED", "APPROVED", "REJECTED", "EXHAUSTED", "TERMINATED"},
    "channel": {"ONLINE", "MOBILE", "VISIT"},
    "fraud_type": {"UNDECLARED_WORK", "ABROAD_CERTIFICATION", "FALSE_SEPARATION", "GHOST_EMPLOYMENT", "OTHER"},
    "collusion": {"Y", "N"},
    "income_type": {"WAGE", "DAILY_WAGE", "BUSINESS", "OTHER"},
    "direction": {"OUT", "IN"},
    "ip_country": "cc",
    "country": "cc",
    "monthly_wage": "amount",
    "daily_amount": "amount",
    "declared_income": "amount",
    "paid_amount": "amount",
    "overpaid_amount": "amount",
    "amount": "amount",
    "benefit_days": "bdays",
    "job_search_count": "int",
    "paid_days": "int",
    "work_days": "int",
}
RE = {
    "hex": re.compile(r"[0-9a-f]{64}\Z"),
    "d11": re.compile(r"\d{11}\Z"),
    "d10": re.compile(r"\d{10}\Z"),
    "d2": re.compile(r"\d{2}\Z"),
    "cc": re.compile(r"[A-Z]{2}\Z"),
    "amount": re.compile(r"-?\d+\Z"),
    "int": re.compile(r"\d+\Z"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}\Z"),
    "ts": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}\Z"),
}


def check_value(kind, v):
    if isinstance(kind, set):
        return v in kind
    if kind == "bdays":
        return RE["int"].match(v) is not None and 120 <= int(v) <= 270
    if not RE[kind].match(v):
        return False
    try:
        if kind == "date":
            date.fromisoformat(v)
        elif kind == "ts":
            datetime.fromisoformat(v)
    except ValueError:
        return False
    return True


def row_problem(table, row):
    for col in SCHEMA[table]:
        v = row.get(col)
        if v is None:
            if (table, col) not in NULLABLE:
                return f"missing {col}"
            continue
        kind = KIND.get(col)
        if kind is not None and not check_value(kind, v):
            return f"bad {col}={v!r}"
    if table == "employments" and (row["lost_on"] is None) != (row["separation_code"] is None):
        return "lost_on/separation_code"
    if table == "certifications" and (row["ip_country"] is None) != (row["channel"] == "VISIT"):
        return "ip_country vs channel"
    return None


def read_landing(out: Path):
    """Parse every drop; returns (files, rows) where rows[table] = [(drop_index, row, problem)]."""
    drops = sorted({p.name for s in SOURCES for p in (out / s).iterdir()})
    files = []
    rows = defaultdict(list)
    for src, tables in SOURCES.items():
        for k, d in enumerate(drops):
            man = json.loads((out / src / d / "_MANIFEST.json").read_text(encoding="utf-8"))
            present = sorted(p.name for p in (out / src / d).iterdir() if p.name != "_MANIFEST.json")
            for name in present:
                assert name in man["tables"], (src, d, name)
            for name, meta in man["tables"].items():
                table = name[:-4]
                assert table in tables, (src, d, name)
                path = out / src / d / name
                if not path.exists():
                    assert meta["rows"] == 0
                    continue
                raw = path.read_bytes()
                enc = man["encoding"]
                if enc == "cp949":
                    assert not raw.startswith(b"\xef\xbb\xbf")
                    text = raw.decode("cp949")
                else:
                    text = raw.decode("utf-8-sig")
                rd = list(csv.reader(io.StringIO(text, newline="")))
                header = rd[0]
                assert len(set(header)) == len(header)
                assert set(SCHEMA[table]) <= set(header), (src, d, name)
                data = rd[1:]
                files.append(
                    {
                        "src": src,
                        "drop": d,
                        "k": k,
                        "table": table,
                        "rows": len(data),
                        "meta": meta,
                        "sha": hashlib.sha256(raw).hexdigest(),
                        "bom": raw.startswith(b"\xef\xbb\xbf"),
                        "encoding": enc,
                        "header": header,
                        "bad": 0,
                    }
                )
                for vals in data:
                    assert len(vals) == len(header)
                    row = {h: (v if v != "" else None) for h, v in zip(header, vals)}
                    prob = row_problem(table, row)
                    files[-1]["bad"] += prob is not None
                    rows[table].append((k, row, prob))
    return drops, files, rows


def latest(rows):
    """The winning version per id: greatest updated_at, then latest drop."""
    out = {}
    for table, items in rows.items():
        best = {}
        for k, row, prob in items:
            if prob is not None:
                continue
            rid = row[ID_COL[table]]
            key = (datetime.fromisoformat(row["updated_at"]), k) if table != "crossings" else (0, k)
            if rid not in best or key >= best[rid][0]:
                best[rid] = (key, row)
        out[table] = {rid: v[1] for rid, v in best.items()}
    return out


# --------------------------------------------------------------- the rule
def D(s):
    return date.fromisoformat(s)


def n_days(a, b):
    return max(0, (b - a).days + 1)


def proves(st, pf, pt):
    wf, wt = D(st["work_from"]), D(st["work_to"])
    lo, hi = max(wf, pf), min(wt, pt)
    if lo > hi:
        return False
    outside = n_days(wf, wt) - n_days(lo, hi)
    wd = st["work_days"]
    return outside == 0 or (wd is not None and int(wd) > outside)


def abroad_spans(crossings):
    spans, start = [], None
    for x in sorted(crossings, key=lambda x: datetime.fromisoformat(x["crossed_at"])):
        t = datetime.fromisoformat(x["crossed_at"]).astimezone(KST)
        if x["direction"] == "OUT":
            start = start or t
        elif start is not None:
            spans.append((start, t))
            start = None
    if start is not None:
        spans.append((start, datetime(9999, 1, 1, tzinfo=KST)))
    return spans


def abroad_on(spans, day):
    lo = datetime(day.year, day.month, day.day, tzinfo=KST)
    hi = lo + timedelta(days=1)
    return any(a < hi and b > lo for a, b in spans)


class World:
    def __init__(self, out, truth):
        self.out, self.truth = out, truth
        self.drops, self.files, self.rows = read_landing(out)
        self.cur = latest(self.rows)
        final = D(truth["final_date"])
        self.certs = defaultdict(list)
        for c in self.cur["certifications"].values():
            if D(c["cert_on"]) <= final:
                self.certs[c["claim_id"]].append(c)
        for v in self.certs.values():
            v.sort(key=lambda c: (c["cert_on"], c["period_from"]))
        self.income = defaultdict(list)
        for s in self.cur["income"].values():
            if D(s["filed_on"]) <= final:
                self.income[s["person_key"]].append(s)
        self.spans = defaultdict(list)
        by_person = defaultdict(list)
        for x in self.cur["crossings"].values():
            by_person[x["person_key"]].append(x)
        for p, xs in by_person.items():
            self.spans[p] = abroad_spans(xs)

    def tainted(self, claim, typ):
        certs = self.certs[claim["claim_id"]]
        if typ in ("FALSE_SEPARATION", "GHOST_EMPLOYMENT"):
            return list(certs)
        if typ == "UNDECLARED_WORK":
            sts = self.income[claim["person_key"]]
            return [
                c
                for c in certs
                if int(c["declared_income"]) == 0
                and any(proves(s, D(c["period_from"]), D(c["period_to"])) for s in sts)
            ]
        sp = self.spans[claim["person_key"]]
        return [c for c in certs if abroad_on(sp, D(c["cert_on"]))]

    def overpayment(self, claim, typs):
        best, taint = 0, set()
        certs = self.certs[claim["claim_id"]]
        for t in typs:
            tl = self.tainted(claim, t)
            taint |= {c["cert_id"] for c in tl}
            ids = {c["cert_id"] for c in tl}
            amt, on = 0, False
            for c in certs:
                on = on or c["cert_id"] in ids
                amt += int(c["paid_amount"]) if on else 0
            best = max(best, amt)
        return best, taint


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("holdout")
    truth = generate(out, PERSONS, SEED, BASE, DAYS)
    return World(out, truth)


# ------------------------------------------------------------------- tests
def test_layout_manifests_and_formats(world):
    t = world.truth
    assert world.drops == t["drop_dates"]
    assert t["drop_dates"][0] == BASE.isoformat() and len(t["drop_dates"]) == DAYS + 1
    for src in SOURCES:
        for d in world.drops:
            man = json.loads((world.out / src / d / "_MANIFEST.json").read_text(encoding="utf-8"))
            assert man["source"] == src and man["drop_date"] == d and man["encoding"] in ("utf-8", "cp949")
    for f in world.files:
        assert f["meta"]["rows"] == f["rows"], f
        assert f["meta"]["sha256"] == f["sha"], f
    assert any(f["encoding"] == "cp949" for f in world.files)
    assert any(f["bom"] for f in world.files)
    assert any(set(f["header"]) - set(SCHEMA[f["table"]]) for f in world.files)
    assert any([h for h in f["header"] if h in SCHEMA[f["table"]]] != SCHEMA[f["table"]] for f in world.files)
    stamps = [r["crossed_at"] for _, r, p in world.rows["crossings"] if p is None]
    assert any(not s.endswith("+09:00") for s in stamps) and any(s.endswith("+09:00") for s in stamps)
    for table in SCHEMA:  # every table has history in the baseline and new rows in some delta
        assert any(f["table"] == table and f["k"] == 0 and f["rows"] > 0 for f in world.files), table
        if table != "findings":
            assert any(f["table"] == table and f["k"] > 0 and f["rows"] > 0 for f in world.files), table
    assert any(f["table"] == "findings" and f["k"] > 0 and f["rows"] > 0 for f in world.files)


def test_invalid_rows_counted_in_truth(world):
    q = world.truth["quarantine_expected"]
    got = {f"{f['src']}/{f['drop']}/{f['table']}": f["bad"] for f in world.files}
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in q.items() if v}
    assert set(q) <= set(got)
    total = sum(f["rows"] for f in world.files)
    bad = sum(got.values())
    assert 0.0003 * total <= bad <= 0.004 * total, (bad, total)
    assert len({k.split("/")[2] for k, v in q.items() if v}) >= 5
    assert any(v for k, v in q.items() if k.split("/")[1] != world.drops[0])
    valid_ids = {t: {r[ID_COL[t]] for _, r, p in rows if p is None} for t, rows in world.rows.items()}
    for t, rows in world.rows.items():  # quarantined rows are extra rows with fresh ids
        for _, r, p in rows:
            if p is not None and r.get(ID_COL[t]):
                assert r[ID_COL[t]] not in valid_ids[t]


def test_same_seed_same_bytes(tmp_path):
    def snap(out):
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, 500, 11, BASE, 3)
    generate(b, 500, 11, BASE, 3)
    generate(c, 500, 12, BASE, 3)
    sa = snap(a)
    assert sa == snap(b)
    assert sa != snap(c)


def test_counts_and_references(world):
    cur = world.cur
    assert world.truth["counts"] == {t: len(cur[t]) for t in sorted(SCHEMA)}
    wps = cur["workplaces"]
    for e in cur["employments"].values():
        assert e["workplace_id"] in wps
    for c in cur["claims"].values():
        assert c["workplace_id"] in wps and c["separation_code"] in ELIGIBLE
    for x in cur["certifications"].values():
        assert x["claim_id"] in cur["claims"]
        assert D(x["period_from"]) <= D(x["period_to"]) < D(x["cert_on"])
    for f in cur["findings"].values():
        assert f["claim_id"] in cur["claims"]


def test_planted_overpayment_recomputed(world):
    cur, t = world.cur, world.truth
    findings_by_claim = {f["claim_id"]: f for f in cur["findings"].values()}
    final = D(t["final_date"])
    for p in t["planted"]:
        c = cur["claims"][p["claim_id"]]
        assert c["person_key"] == p["person_key"] and c["workplace_id"] == p["workplace_id"]
        amt, taint = world.overpayment(c, p["typologies"])
        assert amt == p["overpayment"], p
        assert set(p["tainted_cert_ids"]) == taint, p
        assert amt > 0, p
        f = findings_by_claim.get(p["claim_id"])
        if p["past"]:
            assert f is not None and f["finding_id"] == p["finding_id"]
            assert int(f["overpaid_amount"]) == amt and D(f["decided_on"]) <= final
            assert f["fraud_type"] in p["typologies"]
        else:
            assert f is None and p["finding_id"] is None
            assert c["status"] in ("FILED", "APPROVED"), p
    assert {f["claim_id"] for f in cur["findings"].values()} == {p["claim_id"] for p in t["planted"] if p["past"]}


def test_typology_mix_and_rates(world):
    t = world.truth
    current = [p for p in t["planted"] if not p["past"]]
    assert 0.009 * PERSONS <= len(current) <= 0.016 * PERSONS
    for typ in ("UNDECLARED_WORK", "ABROAD_CERTIFICATION", "FALSE_SEPARATION", "GHOST_EMPLOYMENT"):
        share = sum(typ in p["typologies"] for p in current) / len(current)
        assert share >= 0.15, (typ, share)
    assert any(p["past"] for p in t["planted"])
    assert t["rings"] and all(r["claim_ids"] for r in t["rings"])
    assert t["unevidenced"] == []


def test_evidence_shapes(world):
    """Each current case shows its typology's evidence in the feeds (beyond the overpayment rule)."""
    cur = world.cur
    emps = defaultdict(list)
    for e in cur["employments"].values():
        emps[e["person_key"]].append(e)
    hires = defaultdict(list)
    for e in cur["employments"].values():
        hires[e["workplace_id"]].append(D(e["acquired_on"]))
    payers = defaultdict(set)
    for s in cur["income"].values():
        payers[s["payer_business_no"]].add(s["person_key"])
    wps = cur["workplaces"]
    for p in world.truth["planted"]:
        if p["past"]:
            continue
        c = cur["claims"][p["claim_id"]]
        if "ABROAD_CERTIFICATION" in p["typologies"]:
            assert all(x["channel"] != "VISIT" for x in world.tainted(c, "ABROAD_CERTIFICATION"))
        if "GHOST_EMPLOYMENT" in p["typologies"]:
            spell = [e for e in emps[c["person_key"]] if e["workplace_id"] == c["workplace_id"]]
            assert spell
            w = wps[c["workplace_id"]]
            assert (D(c["filed_on"]) - D(w["opened_on"])).days < 800
        if "FALSE_SEPARATION" in p["typologies"]:
            mine = emps[c["person_key"]]
            last = [e for e in mine if e["workplace_id"] == c["workplace_id"] and e["lost_on"]]
            rehired = any(D(e["acquired_on"]) > D(c["filed_on"]) for e in mine)
            mismatch = any(e["separation_code"] != c["separation_code"] for e in last)
            busy = sum(1 for d in hires[c["workplace_id"]] if abs((d - D(c["filed_on"])).days) < 120) > 0
            assert rehired or mismatch or busy or p["ring_id"], p


def test_lookalikes_and_honest_claims_clean(world):
    cur, t = world.cur, world.truth
    kinds = Counter(x["kind"] for x in t["lookalikes"])
    for k in ("BUSINESS_CLOSURE", "SEASONAL_WORKER", "DECLARED_PART_TIME", "SHORT_TRIP", "SHARED_ACCOUNT_SPOUSES"):
        assert kinds[k] >= 2, k
    assert len(kinds) >= 7
    planted = {p["claim_id"] for p in t["planted"]}
    missing_in = {x["claim_id"] for x in t["lookalikes"] if x["kind"] == "MISSING_IN_RECORD_VISITS"}
    for x in t["lookalikes"]:
        c = cur["claims"][x["claim_id"]]
        assert x["claim_id"] not in planted and c["status"] in ("FILED", "APPROVED")
        assert c["workplace_id"] == x["workplace_id"] and c["person_key"] == x["person_key"]
    for cid, c in cur["claims"].items():
        if cid in planted:
            continue
        assert not world.tainted(c, "UNDECLARED_WORK"), cid
        ab = world.tainted(c, "ABROAD_CERTIFICATION")
        if cid in missing_in:
            assert all(x["channel"] == "VISIT" for x in ab)
        else:
            assert not ab, cid
    spouses = defaultdict(set)
    for x in t["lookalikes"]:
        if x["kind"] == "SHARED_ACCOUNT_SPOUSES":
            spouses[cur["claims"][x["claim_id"]]["bank_account_key"]].add(x["person_key"])
    assert spouses and all(len(v) == 2 for v in spouses.values())
    declared = [x for x in t["lookalikes"] if x["kind"] == "DECLARED_PART_TIME"]
    assert any(int(c["declared_income"]) > 0 for x in declared for c in world.certs[x["claim_id"]])


def test_repeat_offenders(world):
    cur = world.cur
    final = D(world.truth["final_date"])
    current = {p["claim_id"] for p in world.truth["planted"] if not p["past"]}
    fin = defaultdict(list)
    for f in cur["findings"].values():
        fin[f["person_key"]].append(f)
    want = []
    for cid, c in cur["claims"].items():
        if c["status"] not in ("FILED", "APPROVED") or c["person_key"] not in fin:
            continue
        prior = [
            f
            for f in fin[c["person_key"]]
            if f["claim_id"] != cid
            and (
                D(f["decided_on"]) < D(c["filed_on"]) or D(cur["claims"][f["claim_id"]]["filed_on"]) < D(c["filed_on"])
            )
        ]
        if prior:
            want.append(
                {
                    "person_key": c["person_key"],
                    "open_claim_id": cid,
                    "suspected_now": cid in current,
                    "prior_findings": len(prior),
                    "last_decided_on": max(f["decided_on"] for f in prior),
                }
            )
    got = world.truth["repeat_offenders"]
    key = lambda x: (x["person_key"], x["open_claim_id"])  # noqa: E731
    assert sorted(want, key=key) == sorted(got, key=key)
    assert any(x["suspected_now"] for x in got) and any(not x["suspected_now"] for x in got)
    assert all(D(x["last_decided_on"]) <= final for x in got)


SIDO_FORMS = [
    ("서울특별시", "서울시", "서울"),
    ("부산광역시", "부산시", "부산"),
    ("대구광역시", "대구시", "대구"),
    ("인천광역시", "인천시", "인천"),
    ("광주광역시", "광주시", "광주"),
    ("대전광역시", "대전시", "대전"),
    ("울산광역시", "울산시", "울산"),
    ("세종특별자치시", "세종시", "세종"),
    ("경기도", "경기"),
    ("강원특별자치도", "강원도", "강원"),
    ("충청북도", "충북"),
    ("충청남도", "충남"),
    ("전북특별자치도", "전라북도", "전북"),
    ("전라남도", "전남"),
    ("경상북도", "경북"),
    ("경상남도", "경남"),
    ("제주특별자치도", "제주도", "제주"),
]


def norm_address(a):
    """Same place, however typed: no parenthesised dong, no floor/unit, one spelling per 시도, no spaces."""
    a = re.sub(r"\(.*?\)", "", a)
    a = re.sub(r",?\s*(지하\d+층|\d+층|\d+호|B\d+)", "", a).strip()
    for forms in SIDO_FORMS:
        for f in forms:
            if a.startswith(f):
                a = forms[-1] + a[len(f) :]
                break
    return re.sub(r"[\s,]", "", a)


def test_rings_are_linked(world):
    wps = world.cur["workplaces"]
    planted = {p["claim_id"]: p for p in world.truth["planted"]}
    for ring in world.truth["rings"]:
        ids = ring["workplace_ids"]
        assert len(ids) >= 2
        keys = {}
        for w in ids:
            x = wps[w]
            keys[w] = {
                ("rep", x["representative_key"]),
                ("acct", x["bank_account_key"]),
                ("phone", re.sub(r"\D", "", x["phone"])),
                ("addr", norm_address(x["address"])),
            }
        seen, todo = {ids[0]}, [ids[0]]
        while todo:
            w = todo.pop()
            for v in ids:
                if v not in seen and keys[w] & keys[v]:
                    seen.add(v)
                    todo.append(v)
        assert seen == set(ids), ring["ring_id"]
        for cid in ring["claim_ids"]:
            assert planted[cid]["ring_id"] == ring["ring_id"]
            assert world.cur["claims"][cid]["workplace_id"] in ids


def test_history_depth_and_variety(world):
    cur = world.cur
    final = D(world.truth["final_date"])
    emp_first = min(D(e["acquired_on"]) if not e["lost_on"] else D(e["lost_on"]) for e in cur["employments"].values())
    tax_first = min(D(s["work_from"]) for s in cur["income"].values())
    x_first = min(datetime.fromisoformat(x["crossed_at"]).date() for x in cur["crossings"].values())
    assert (final - emp_first).days > 8 * 365
    assert 3 * 365 <= (final - tax_first).days <= 4.2 * 365
    assert 4.5 * 365 <= (final - x_first).days <= 5.1 * 365
    addrs = " ".join(w["address"] for w in cur["workplaces"].values())
    for s in ("서울특별시", "서울시 ", "서울 ", "층", "호"):
        assert s in addrs, s
    phones = [w["phone"] for w in cur["workplaces"].values()]
    assert any("-" in p for p in phones) and any(" " in p for p in phones) and any(p.isdigit() for p in phones)
    inc = list(cur["income"].values())
    assert {s["income_type"] for s in inc} == {"WAGE", "DAILY_WAGE", "BUSINESS", "OTHER"}
    assert any(s["income_type"] == "WAGE" and s["work_days"] is None for s in inc)
    assert any(s["income_type"] == "WAGE" and s["work_days"] is not None for s in inc)
    assert any(s["income_type"] == "DAILY_WAGE" and n_days(D(s["work_from"]), D(s["work_to"])) <= 5 for s in inc)
    assert all(D(s["filed_on"]) > D(s["work_to"]) for s in inc)
    certs = list(cur["certifications"].values())
    assert {c["channel"] for c in certs} == {"ONLINE", "MOBILE", "VISIT"}
    assert any(c["ip_country"] not in (None, "KR") for c in certs)
    seps = {e["separation_code"] for e in cur["employments"].values() if e["separation_code"]}
    assert seps == SEP
    by_person = defaultdict(list)
    for x in cur["crossings"].values():
        by_person[x["person_key"]].append(x)
    first_in = last_out = 0
    for xs in by_person.values():
        xs.sort(key=lambda x: datetime.fromisoformat(x["crossed_at"]))
        first_in += xs[0]["direction"] == "IN"
        last_out += xs[-1]["direction"] == "OUT"
    assert first_in and last_out
    ids_per_drop = defaultdict(set)
    for t in ("claims", "employments", "workplaces"):
        for k, r, p in world.rows[t]:
            if p is None:
                ids_per_drop[(t, r[ID_COL[t]])].add(k)
    assert any(len(v) > 1 for v in ids_per_drop.values())  # records re-sent / updated in later drops
    for cid in world.truth["closures"]:
        w = cur["workplaces"][cid]
        assert w["closed_on"]
        laid = [e for e in cur["employments"].values() if e["workplace_id"] == cid and e["separation_code"] == "22"]
        assert len(laid) >= 3
