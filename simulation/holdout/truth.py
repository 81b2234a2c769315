"""DOMAIN.md's overpayment rule on the generator's own objects, and the
person-level truth entries (planted cases, look-alikes, repeat offenders)."""

from __future__ import annotations

from . import util as U
from .util import days_incl

OPEN = ("FILED", "APPROVED")


def proves_work(wf, wt, wd, pf, pt) -> bool:
    """Does a statement's window/work_days prove work on a day inside pf..pt?"""
    lo = wf if wf > pf else pf
    hi = wt if wt < pt else pt
    if lo > hi:
        return False
    outside = days_incl(wf, wt) - days_incl(lo, hi)
    return outside == 0 or (wd is not None and wd > outside)


def uw_tainted(certs, stmts) -> list:
    out = []
    for c in certs:
        if c.declared != 0:
            continue
        for s in stmts:
            if proves_work(s.wf, s.wt, s.wd, c.pf, c.pt):
                out.append(c)
                break
    return out


def abroad_intervals(crosses, f_end: int):
    iv = []
    start = None
    for x in sorted((x for x in crosses if not x.hidden), key=lambda x: x.ts):
        if x.dir == "OUT":
            if start is None:
                start = x.ts
        elif start is not None:
            iv.append((start, x.ts))
            start = None
    if start is not None:
        iv.append((start, f_end + 10 * U.DAY))
    return iv


def abroad_tainted(certs, intervals) -> list:
    out = []
    for c in certs:
        lo = U.ts_of(c.cert_on, 0)
        hi = lo + U.DAY
        for a, b in intervals:
            if a < hi and b > lo:
                out.append(c)
                break
    return out


def from_first(certs, tainted) -> int:
    ids = {id(c) for c in tainted}
    total = 0
    on = False
    for c in sorted(certs, key=lambda c: (c.cert_on, c.pf)):
        if id(c) in ids:
            on = True
        if on:
            total += c.paid
    return total


def overpayment(typs, claim, life):
    """(amount, tainted certs) of one claim under DOMAIN.md's rule, from visible records."""
    certs = claim.certs
    best = 0
    tainted: dict[int, object] = {}
    for t in typs:
        if t in ("FALSE_SEPARATION", "GHOST_EMPLOYMENT"):
            amt = sum(c.paid for c in certs)
            tl = list(certs)
        elif t == "UNDECLARED_WORK":
            tl = uw_tainted(certs, life.stmts)
            amt = from_first(certs, tl)
        elif t == "ABROAD_CERTIFICATION":
            tl = abroad_tainted(certs, abroad_intervals(life.cross, life.ctx.F_END))
            amt = from_first(certs, tl)
        else:
            raise ValueError(t)
        best = max(best, amt)
        for c in tl:
            tainted[id(c)] = c
    return best, sorted(tainted.values(), key=lambda c: c.cid)


def person_truth(life):
    """Resolve a finished life's truth notes (ids are assigned by now)."""
    ctx = life.ctx
    F = ctx.F
    for note in life.planted:
        c = note["claim"]
        typs = note["typologies"]
        amt, tl = overpayment(typs, c, life)
        f = note.get("finding")
        if f is not None:
            f.amount = amt
        ctx.planted.append(
            {
                "claim_id": c.cid,
                "person_key": life.key,
                "workplace_id": c.wp.wid,
                "typologies": list(typs),
                "overpayment": amt,
                "tainted_cert_ids": [x.cid for x in tl],
                "ring_id": note.get("ring_id"),
                "past": f is not None,
                "finding_id": f.fid if f is not None else None,
            }
        )
    for c, kind in life.looks:
        ctx.lookalikes.append({"claim_id": c.cid, "person_key": life.key, "kind": kind, "workplace_id": c.wp.wid})
    if life.findings:
        current = {id(n["claim"]) for n in life.planted if n.get("finding") is None}
        for c in life.claims:
            if c.status_at(F) not in OPEN:
                continue
            prior = [f for f in life.findings if f.claim is not c and (f.decided < c.filed or f.claim.filed < c.filed)]
            if prior:
                ctx.repeat.append(
                    {
                        "person_key": life.key,
                        "open_claim_id": c.cid,
                        "suspected_now": id(c) in current,
                        "prior_findings": len(prior),
                        "last_decided_on": max(f.decided for f in prior).isoformat(),
                    }
                )
