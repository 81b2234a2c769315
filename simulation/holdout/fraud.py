"""Fraud plants: current (open, undecided) cases of the four typologies,
collusion rings, and past cases with findings (some persons offend again)."""

from __future__ import annotations

import random

from . import util as U
from .episodes import (
    anchor_job,
    claim_with_slack,
    current_claim,
    current_lost,
    eligible_code,
    plan,
    rehire_after,
    role_hire,
    role_honest_open,
    role_stayer,
)
from .life import COUNTRIES, Finding, pick
from .truth import abroad_intervals, abroad_tainted, uw_tainted
from .util import d_add, days_incl

UW, AB, FS, GH = "UNDECLARED_WORK", "ABROAD_CERTIFICATION", "FALSE_SEPARATION", "GHOST_EMPLOYMENT"


# =============================================================== evidence
def _filed_for(r, wt, deadline):
    f = d_add(U.next_month_end(wt), -r.randint(0, 20))
    if f <= wt:
        f = d_add(wt, r.randint(1, 5))
    if f > deadline:
        if d_add(wt, 4) > deadline:
            return None
        f = d_add(wt, r.randint(4, (deadline - wt).days))
    return f


def _window_inside(r, x, max_len=5):
    n = days_incl(x.pf, x.pt)
    L = min(n, r.randint(1, max_len))
    a = d_add(x.pf, r.randrange(n - L + 1))
    return a, d_add(a, L - 1), L


def plant_uw(life, c, variant, deadline) -> bool:
    """Undeclared work inside certified periods, shown by tax statements filed by deadline."""
    ctx, r = life.ctx, life.rng
    certs = [x for x in c.certs if x.pt < d_add(deadline, -4)]
    if not certs:
        return False
    payer = r.choice(ctx.daily_payers)
    if variant == "late" and ctx.D > 0:
        cands = [x for x in certs if x.pt < ctx.B]
        if cands:
            x = cands[-1]
            a, b, L = _window_inside(r, x)
            life.add_stmt(
                payer, "DAILY_WAGE", a, b, L, L * r.randint(13, 22) * 10000, d_add(ctx.B, r.randint(1, ctx.D))
            )
    elif variant in ("daily", "under"):
        j0 = r.randrange(max(1, len(certs) - 1))
        chosen = certs[j0 : j0 + r.randint(1, 3)]
        for x in chosen:
            for _ in range(r.randint(1, 3)):
                a, b, L = _window_inside(r, x)
                f = _filed_for(r, b, deadline)
                if f:
                    life.add_stmt(
                        payer, "DAILY_WAGE", a, b, L if r.random() < 0.7 else None, L * r.randint(13, 22) * 10000, f
                    )
        if variant == "under" and len(chosen) >= 2:
            chosen[0].declared = r.randint(3, 12) * 10000  # declared, but far below the evidence
    elif variant == "gig":
        for x in r.sample(certs, min(len(certs), r.randint(1, 2))):
            a, b, L = _window_inside(r, x, 12)
            f = _filed_for(r, b, deadline)
            if f:
                life.add_stmt(
                    r.choice(ctx.payers), r.choice(("BUSINESS", "OTHER")), a, b, None, r.randint(30, 300) * 10000, f
                )
    elif variant == "monthly":
        j0 = r.randrange(max(1, len(certs) - 1))
        x = certs[j0]
        n = days_incl(x.pf, x.pt)
        start = d_add(x.pf, r.randint(1, max(1, n - 6)))
        payer = r.choice(ctx.payers) if r.random() < 0.5 else ctx.pick_wp(r, start).bno
        wage = life.wage(start.year, low=True)
        actual = r.random() < 0.5
        for k, m in enumerate(U.iter_months(start, deadline)):
            me = U.month_end(m)
            if me >= deadline:
                break
            a = max(m, start)
            f = _filed_for(r, me, deadline)
            if f is None:
                break
            wd = max(1, U.weekdays_in(a, me) - r.randint(0, 2))
            if r.random() < (0.35 if k == 0 else 0.2):
                wd = None  # only a monthly total: an estimate, not proof
            wf = a if (actual and k == 0) else m
            life.add_stmt(payer, "WAGE", wf, me, wd, wage * days_incl(a, me) / days_incl(m, me), f)
    if not uw_tainted(c.certs, life.stmts):
        for x in certs:  # fall back: a daily job plainly inside a period
            a, b, L = _window_inside(r, x, 4)
            f = _filed_for(r, b, deadline)
            if f:
                life.add_stmt(payer, "DAILY_WAGE", a, b, L, L * r.randint(13, 22) * 10000, f)
                break
    return bool(uw_tainted(c.certs, life.stmts))


def _ip_for(r, country):
    x = r.random()
    if x < 0.55:
        return country
    if x < 0.9:
        return "KR"  # VPN
    return pick(r, COUNTRIES)


def plant_abroad(life, c, variant, j_min=1, last_day=None) -> bool:
    """Abroad (OUT..IN) on certification dates, certifying online or by mobile."""
    ctx, r = life.ctx, life.rng
    certs = c.certs
    if last_day is not None:
        certs = [x for x in certs if x.cert_on < d_add(last_day, -3)]
    if not certs:
        return False
    j_min = min(j_min, len(certs) - 1)
    j = r.randint(j_min, len(certs) - 1)
    if variant == "evening" and len(certs) >= 2:  # leave room for the next certification, made abroad
        j = r.randint(min(j_min, len(certs) - 2), len(certs) - 2)
    x = certs[j]
    prev = certs[j - 1].cert_on if j > 0 else c.filed
    nxt = certs[j + 1].cert_on if j + 1 < len(certs) else None
    country = pick(r, COUNTRIES)
    room = max(1, (x.cert_on - prev).days - 1)
    out_d = d_add(x.cert_on, -r.randint(1, min(12, room)))

    def back(d):
        if last_day is not None and d >= last_day:
            d = d_add(last_day, -1)
        return U.ts_of(d, r.randint(5 * 3600, 23 * 3600))

    special = None
    if variant == "stay":
        life.add_trip(
            U.ts_of(out_d, r.randint(7 * 3600, 23 * 3600)),
            None if last_day is None else back(d_add(x.cert_on, 20)),
            country,
        )
    elif variant == "evening":
        x.sec = r.randint(8 * 3600, 12 * 3600)
        in_d = d_add(nxt, r.randint(1, 6)) if nxt else d_add(x.cert_on, r.randint(3, 20))
        life.add_trip(U.ts_of(x.cert_on, r.randint(19 * 3600, 23 * 3600 + 1800)), back(in_d), country)
        special = x
    elif variant == "morning":  # landed early on the certification day, certified later that day
        if j < 2 and len(certs) > j + 2:
            j = j + 2
            x = certs[j]
            prev = certs[j - 1].cert_on
            out_d = d_add(x.cert_on, -r.randint(1, min(12, max(1, (x.cert_on - prev).days - 1))))
        x.sec = r.randint(11 * 3600, 21 * 3600)
        life.add_trip(
            U.ts_of(out_d, r.randint(7 * 3600, 22 * 3600)), U.ts_of(x.cert_on, r.randint(5 * 3600, 8 * 3600)), country
        )
        special = x
        y = certs[j - 2] if j >= 2 else (certs[j + 2] if j + 2 < len(certs) else None)
        if y is not None:  # and another trip over a second certification date
            life.add_trip(
                U.ts_of(d_add(y.cert_on, -r.randint(1, 5)), r.randint(8 * 3600, 22 * 3600)),
                U.ts_of(d_add(y.cert_on, r.randint(1, 4)), r.randint(6 * 3600, 22 * 3600)),
                country,
            )
    else:  # "trip" / "multi"
        in_d = d_add(x.cert_on, r.randint(1, 15))
        if nxt and in_d >= nxt and r.random() < 0.6:
            in_d = d_add(nxt, -1)
        in_ts = back(in_d)
        if in_ts >= ctx.F_END:
            in_ts = None
        life.add_trip(U.ts_of(out_d, r.randint(7 * 3600, 23 * 3600)), in_ts, country)
        if variant == "multi":
            k = j - 2 if j >= 2 else (j + 2 if j + 2 < len(certs) else None)
            if k is not None:
                y = certs[k]
                c2 = pick(r, COUNTRIES)
                life.add_trip(
                    U.ts_of(d_add(y.cert_on, -r.randint(1, 6)), r.randint(7 * 3600, 22 * 3600)),
                    back(d_add(y.cert_on, r.randint(1, 5))),
                    c2,
                )
    tl = abroad_tainted(c.certs, abroad_intervals(life.cross, ctx.F_END))
    outs = sorted((x.ts, x.country) for x in life.cross if x.dir == "OUT" and not x.hidden)
    for y in tl:
        if y.channel == "VISIT":
            y.channel = "ONLINE" if r.random() < 0.6 else "MOBILE"
            y.sec = r.randint(7 * 3600, 23 * 3600)
        there = [cc for ts, cc in outs if ts < U.ts_of(y.cert_on, U.DAY - 1)]
        y.ip = "KR" if y is special else _ip_for(r, there[-1] if there else country)
    return bool(tl)


# ============================================================ current cases
def b_uw(life, variant="daily", also_abroad=False, **_):
    ctx, r = life.ctx, life.rng
    lost = current_lost(life, 90, 235)
    s = anchor_job(life, lost, eligible_code(r, life.age_at(lost)))
    life.busy.append((s.acq, None))
    c = current_claim(life, s)
    typs = [UW]
    plant_uw(life, c, variant, ctx.F)
    if also_abroad and len(c.certs) >= 3 and plant_abroad(life, c, "trip", j_min=len(c.certs) - 1):
        typs.append(AB)
    life.planted.append({"claim": c, "typologies": typs})


def b_abroad(life, variant="trip", **_):
    r = life.rng
    lost = current_lost(life, 80, 230)
    s = anchor_job(life, lost, eligible_code(r, life.age_at(lost)))
    life.busy.append((s.acq, None))
    c = current_claim(life, s)
    plant_abroad(life, c, variant)
    life.planted.append({"claim": c, "typologies": [AB]})


def b_fs_rehire(life, **_):
    r = life.rng
    lost = current_lost(life, 70, 200)
    s = anchor_job(life, lost, "23" if r.random() < 0.85 else "12", min_cap=3, keep_open_wp=True)
    life.busy.append((s.acq, None))
    c = claim_with_slack(life, s)
    if not c.certs or rehire_after(life, c, s.wp) is None:
        s.code = "11"  # no room to show the rehire: the employment record contradicts the claim instead
    life.planted.append({"claim": c, "typologies": [FS]})


def b_fs_mismatch(life, rehire=False, **_):
    r = life.rng
    lost = current_lost(life, 70, 210)
    s = anchor_job(life, lost, "11" if r.random() < 0.7 else "26", keep_open_wp=True)
    life.busy.append((s.acq, None))
    code = "23" if r.random() < 0.8 else "12"
    if rehire:
        c = claim_with_slack(life, s, code=code)
        if c.certs:
            rehire_after(life, c, s.wp)
    else:
        c = current_claim(life, s, code=code)
    life.planted.append({"claim": c, "typologies": [FS]})


def b_fs_wave(life, shop, lost, rehire=False, **_):
    s = anchor_job(life, lost, "23", wp=shop, min_tenure=250, max_tenure=1800)
    life.busy.append((s.acq, None))
    if rehire:
        c = claim_with_slack(life, s)
        if c.certs:
            rehire_after(life, c, shop)
    else:
        c = current_claim(life, s)
    life.planted.append({"claim": c, "typologies": [FS]})


def b_ghost(life, wp, acq, dur, code="23", acct=None, pre=None, ring_id=None, **_):
    r = life.rng
    first = acq
    if pre is not None:
        wp0, acq0 = pre
        life.add_spell(wp0, acq0, d_add(acq, -1), "11", tax=wp0.tax, wage=life.wage(acq0.year, True))
        first = acq0
    s = life.add_spell(wp, acq, d_add(acq, dur), code, tax=wp.tax, wage=life.wage(acq.year, True))
    life.busy.append((first, None))
    c = current_claim(life, s, acct=acct, extra=r.uniform(0, 1.5))
    life.planted.append({"claim": c, "typologies": [GH], "ring_id": ring_id})


def b_ring_fs(life, wp, sibling, lost, ring_id, **_):
    r = life.rng
    s = anchor_job(life, lost, "23", wp=wp, min_tenure=260, max_tenure=700)
    life.busy.append((s.acq, None))
    if sibling is not None:
        c = claim_with_slack(life, s)
        if c.certs:
            rehire_after(life, c, sibling, min_gap=r.randint(1, 10))
    else:
        c = current_claim(life, s)
    life.planted.append({"claim": c, "typologies": [FS], "ring_id": ring_id})


# ================================================================ past cases
def _past_dates(ctx, r, lo, repeat, decided):
    F = ctx.F
    if decided is not None:
        return d_add(decided, -r.randint(160, 300)), decided
    hi = d_add(F, -860) if repeat else d_add(F, -200)
    P = d_add(lo, r.randint(0, max(0, (hi - lo).days)))
    dec = d_add(P, r.randint(150, 330))
    if dec > d_add(F, -1):
        dec = d_add(F, -r.randint(1, 30))
    return P, dec


def _finish_past(life, c, spell_acq, decided, ftype, wp=None, collusion="N", ring_id=None, typs=None, end=None):
    r = life.rng
    f = Finding()
    f.fid = None
    f.claim, f.wp, f.ftype, f.decided, f.amount, f.collusion = c, wp, ftype, decided, 0, collusion
    if c.end is None or c.end[1] > decided:
        c.end = ("TERMINATED", decided)
    life.findings.append(f)
    life.planted.append({"claim": c, "typologies": typs or [ftype], "finding": f, "ring_id": ring_id})
    stop = end or decided
    life.busy.append((spell_acq, None if stop is None else d_add(stop, 20)))
    life.cursor = d_add(max(decided, stop), r.randint(30, 90))


def b_past_uw(life, repeat=False, decided=None, variant="daily", **_):
    ctx, r = life.ctx, life.rng
    P, dec = _past_dates(ctx, r, d_add(ctx.NTS_START, 90), repeat, decided)
    s = anchor_job(life, d_add(P, -r.randint(5, 25)), eligible_code(r, life.age_at(P)))
    c = life.new_claim(s, P, horizon=d_add(dec, -1), extra_years=r.uniform(0, 6))
    plant_uw(life, c, variant, d_add(dec, -15))
    _finish_past(life, c, s.acq, dec, UW)


def b_past_abroad(life, repeat=False, decided=None, **_):
    ctx, r = life.ctx, life.rng
    P, dec = _past_dates(ctx, r, d_add(ctx.MOJ_START, 60), repeat, decided)
    s = anchor_job(life, d_add(P, -r.randint(5, 25)), eligible_code(r, life.age_at(P)))
    c = life.new_claim(s, P, horizon=d_add(dec, -1), extra_years=r.uniform(0, 6))
    plant_abroad(life, c, r.choice(("trip", "trip", "multi")), last_day=d_add(dec, -20))
    _finish_past(life, c, s.acq, dec, AB)


def b_past_fs(life, repeat=False, decided=None, **_):
    ctx, r = life.ctx, life.rng
    F = ctx.F
    P, dec = _past_dates(ctx, r, d_add(ctx.EMP_START, 400), repeat, decided)
    lost = d_add(P, -r.randint(5, 25))
    mismatch = r.random() < 0.3
    s = anchor_job(life, lost, "11" if mismatch else "23", min_cap=3, keep_open_wp=True)
    rehire = d_add(P, 7 + r.randint(40, 150))
    rehire = min(rehire, d_add(dec, -20))
    c = life.new_claim(s, P, code="23", stop=rehire, extra_years=r.uniform(0, 6))
    end = d_add(rehire, r.randint(120, 500))
    if repeat:
        end = min(end, d_add(F, -330))
    if end > d_add(F, -2):
        end = None
    life.add_spell(s.wp, rehire, end, "11" if end else None)
    dec = max(dec, d_add(rehire, 30))
    if dec > F:
        dec = F
    _finish_past(life, c, s.acq, dec, FS, wp=s.wp, collusion="Y", end=end)
    if end is None:
        life.busy[-1] = (s.acq, None)


def b_past_ghost(life, wp, acq, dur, decided, acct=None, ring_id=None, **_):
    r = life.rng
    s = life.add_spell(wp, acq, d_add(acq, dur), "23", tax=wp.tax, wage=life.wage(acq.year, True))
    c = life.new_claim(
        s, d_add(s.lost, r.randint(3, 15)), acct=acct, horizon=d_add(decided, -1), extra_years=r.uniform(0, 1)
    )
    _finish_past(life, c, acq, decided, GH, wp=wp, collusion="Y", ring_id=ring_id)


# =================================================================== plans
def _shell(ctx, r, opened, special, closed=None, **kw):
    return ctx.new_workplace(
        r,
        industry=r.choice(("41", "74", "75", "56", "47", "46", "49", "96")),
        cap=r.randint(1, 6),
        opened=opened,
        closed=closed,
        special=special,
        tax=r.choice(("none", "none", "none", "token", "low")),
        **kw,
    )


def _past_shell(ctx, r, alloc, n, ring_id=None, **kw):
    F = ctx.F
    opened = d_add(F, -r.randint(1000, 1500))
    w = _shell(ctx, r, opened, "past_shell", **kw)
    last = opened
    acct = ctx.acct(10_000_000 + len(ctx.workplaces), 3) if r.random() < 0.6 else None
    people = alloc.take(n, lo=24, hi=64, kinds=None)
    for i in people:
        acq = d_add(opened, r.randint(0, 50))
        dur = r.randint(181, 205)
        dec = d_add(acq, dur + r.randint(150, 320))
        last = max(last, d_add(acq, dur))
        plan(ctx, i, b_past_ghost, wp=w, acq=acq, dur=dur, decided=dec, acct=acct, ring_id=ring_id)
    w.closed = d_add(last, r.randint(10, 60))
    return w, people


def _link_workplaces(ctx, r, k, opened_lo, opened_hi, special):
    """k small workplaces, each linked to an earlier one by representative, address, phone or account."""
    wps = []
    for j in range(k):
        kw = {}
        if j:
            src = r.choice(wps)
            links = [
                x
                for x in ("rep", "addr", "phone", "acct")
                if r.random() < (0.55, 0.45, 0.35, 0.3)[("rep", "addr", "phone", "acct").index(x)]
            ] or [r.choice(("rep", "addr", "phone", "acct"))]
            if "rep" in links:
                kw["rep"] = src.rep
            if "addr" in links:
                kw["place"] = src.place
                kw["region_idx"] = src.place[0]
            if "phone" in links:
                kw["phone_d"] = src.phone_d
            if "acct" in links:
                kw["acct"] = src.acct
        opened = d_add(ctx.F, -r.randint(opened_lo, opened_hi))
        wps.append(_shell(ctx, r, opened, special, **kw))
    return wps


def plan_fraud(ctx, alloc):
    r = random.Random(f"holdout/{ctx.seed}/fraud")
    F, N = ctx.F, ctx.N
    scale = N / 20000
    cur = max(24, round(0.012 * N))
    t_uw, t_ab, t_fs = round(0.30 * cur), round(0.22 * cur), round(0.25 * cur)
    t_gh = cur - t_uw - t_ab - t_fs
    ring_ids = []

    # ---- rings (ghost and false-separation claims through linked small workplaces)
    n_rings = max(1, round(5 * scale))
    ring_gh = ring_fs = 0
    n_past = max(8, round(0.005 * N))
    past_gh_target = max(2, round(0.2 * n_past))
    past_gh = 0
    for rn in range(n_rings):
        rid = f"RING-{rn + 1:03d}"
        with_past = past_gh < past_gh_target and r.random() < 0.6  # the broker's earlier, already decided shell
        wps = _link_workplaces(ctx, r, r.randint(2, 5 if with_past else 6), 560, 760, "ring")
        members = []
        brokers = [U.hkey("holdout", ctx.seed, "broker", rn, k) for k in range(r.randint(1, 2))]
        for _ in range(r.randint(5, max(5, min(12, N // 250)))):
            if r.random() < 0.75:
                i = alloc.one(lo=21, hi=66, kinds=None)
                if i is None:
                    continue
                w = r.choice(wps)
                x = r.random()
                acct = r.choice(brokers) if x < 0.55 else (r.choice(wps).acct if x < 0.7 else None)
                lost = d_add(F, -r.randint(60, 210))
                if len(wps) > 1 and r.random() < 0.45:  # rotated in from another ring workplace
                    w0 = r.choice([v for v in wps if v is not w])
                    d0 = r.randint(60, 150)
                    dur = max(100, r.randint(185, 215) - d0)
                    acq = max(d_add(lost, -dur), d_add(max(w.opened, w0.opened), d0 + r.randint(1, 20)))
                    pre = (w0, d_add(acq, -d0))
                else:
                    dur = r.randint(181, 215) if r.random() < 0.8 else r.randint(216, 300)
                    acq = max(d_add(lost, -dur), d_add(w.opened, r.randint(1, 20)))
                    pre = None
                plan(
                    ctx,
                    i,
                    b_ghost,
                    wp=w,
                    acq=acq,
                    dur=dur,
                    acct=acct,
                    pre=pre,
                    ring_id=rid,
                    code="23" if r.random() < 0.85 else "22",
                )
                ring_gh += 1
            else:
                i = alloc.one(lo=22, hi=62)
                if i is None:
                    continue
                w = r.choice(wps)
                sib = r.choice([v for v in wps if v is not w]) if (len(wps) > 1 and r.random() < 0.7) else None
                plan(ctx, i, b_ring_fs, wp=w, sibling=sib, lost=d_add(F, -r.randint(70, 200)), ring_id=rid)
                ring_fs += 1
            members.append(i)
        if with_past:
            pw, people = _past_shell(
                ctx,
                r,
                alloc,
                r.randint(2, 3),
                ring_id=rid,
                rep=wps[0].rep,
                phone_d=wps[0].phone_d if r.random() < 0.5 else None,
            )
            past_gh += len(people)
            wps.append(pw)
            members += people
        ctx.rings.append(
            {
                "ring_id": rid,
                "workplace_ids": sorted(w.wid for w in wps),
                "person_keys": sorted(ctx.pkey(i) for i in members),
                "claim_ids": [],
            }
        )
        ring_ids.append(rid)

    # ---- past cases (findings); some persons offend again or claim again honestly
    while past_gh < past_gh_target:
        _, people = _past_shell(ctx, r, alloc, r.randint(2, 3))
        past_gh += len(people)
        if not people:
            break
    n_rest = max(3, n_past - past_gh)
    kinds = [UW] * round(n_rest * 0.44) + [AB] * round(n_rest * 0.31)
    kinds += [FS] * max(1, n_rest - len(kinds))
    r.shuffle(kinds)
    n_delta = min(3, ctx.D)
    repeat_cur = []
    n_rep = 0
    for k, typ in enumerate(kinds):
        i = alloc.one(lo=26, hi=62)
        if i is None:
            break
        fn = {UW: b_past_uw, AB: b_past_abroad, FS: b_past_fs}[typ]
        if k < n_delta:
            plan(ctx, i, fn, decided=d_add(ctx.B, 1 + k % ctx.D), variant=r.choice(("daily", "gig")))
            continue
        rep = (k - n_delta) % 3 == 1  # about a third offend or claim again
        plan(ctx, i, fn, repeat=rep, variant=r.choice(("daily", "monthly", "gig")))
        if rep:
            n_rep += 1
            if n_rep % 2:
                repeat_cur.append(i)
            else:
                plan(ctx, i, role_honest_open)

    # ---- current cases
    uw_variants = ("daily", "daily", "monthly", "monthly", "gig", "under", "late")
    ab_variants = ("trip", "trip", "stay", "evening", "morning", "multi")
    n_uw = n_ab = n_fs = 0
    for k, i in enumerate(repeat_cur):  # repeat offenders suspected again
        x = k % 4
        if x == 0:
            plan(ctx, i, b_uw, variant=r.choice(uw_variants))
            n_uw += 1
        elif x == 1:
            plan(ctx, i, b_abroad, variant=r.choice(ab_variants))
            n_ab += 1
        else:
            plan(ctx, i, b_fs_mismatch if x == 2 else b_fs_rehire, rehire=r.random() < 0.4)
            n_fs += 1
    for k, i in enumerate(alloc.take(max(0, t_uw - n_uw))):
        plan(ctx, i, b_uw, variant=uw_variants[k % len(uw_variants)], also_abroad=(k % 9 == 4))
    for k, i in enumerate(alloc.take(max(0, t_ab - n_ab))):
        plan(ctx, i, b_abroad, variant=ab_variants[k % len(ab_variants)])
    # false separation outside rings: rehires, layoff waves at small shops, contradicting codes
    fs_left = max(3, t_fs - ring_fs - n_fs)
    n_wave = max(2, round(fs_left * 0.4))
    made = 0
    while made < n_wave:
        shop = ctx.new_workplace(
            r,
            industry=r.choice(("56", "47", "10", "25", "74", "96", "86")),
            cap=r.randint(5, 14),
            opened=d_add(F, -r.randint(1500, 5000)),
            special="fs_shop",
        )
        waves = (
            [d_add(F, -r.randint(80, 200))]
            if r.random() < 0.6
            else [d_add(F, -r.randint(160, 205)), d_add(F, -r.randint(65, 115))]
        )
        for wd in waves:
            for i in alloc.take(r.randint(2, 4)):
                plan(ctx, i, b_fs_wave, shop=shop, lost=d_add(wd, r.randint(-6, 6)), rehire=r.random() < 0.25)
                made += 1
            for i in alloc.take(r.randint(1, 3), lo=20, hi=60):
                plan(ctx, i, role_hire, wp=shop, acq=d_add(wd, r.randint(-25, 35)))
        for i in alloc.take(r.randint(1, 3), lo=30, hi=63):
            plan(
                ctx, i, role_stayer, wp=shop, acq=d_add(shop.opened, r.randint(0, max(1, (F - shop.opened).days - 900)))
            )
    rest = fs_left - made
    for k, i in enumerate(alloc.take(max(0, rest))):
        if k % 2 == 0:
            plan(ctx, i, b_fs_rehire)
        else:
            plan(ctx, i, b_fs_mismatch, rehire=(k % 4 == 1))
    # ghost employment outside rings: single young shells with several near-threshold "employees"
    gh_left = max(3, t_gh - ring_gh)
    while gh_left > 0:
        n = min(gh_left, r.randint(3, 6))
        shell = _shell(ctx, r, d_add(F, -r.randint(340, 440)), "shell")
        acct = U.hkey("holdout", ctx.seed, "shellacct", shell.wid) if r.random() < 0.6 else None
        lost_max = shell.opened
        for i in alloc.take(n, lo=21, hi=66, kinds=None):
            acq = d_add(shell.opened, r.randint(0, 70))
            dur = r.randint(181, 212)
            lost_max = max(lost_max, d_add(acq, dur))
            plan(ctx, i, b_ghost, wp=shell, acq=acq, dur=dur, acct=acct if r.random() < 0.7 else None)
        if r.random() < 0.4:
            shell.closed = d_add(lost_max, r.randint(5, 40))
        gh_left -= n
    return ring_ids
