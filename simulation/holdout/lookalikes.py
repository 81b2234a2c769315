"""Honest look-alikes: claims that resemble a fraud typology to a naive reading
of the feeds, but are not fraud (DOMAIN.md's five kinds and five of our own)."""

from __future__ import annotations

import random

from . import util as U
from .episodes import anchor_job, current_claim, current_lost, eligible_code, plan, role_stayer
from .life import COUNTRIES, pick
from .util import d_add, days_incl


def _open_claim(life, lo=80, hi=220, code=None, **kw):
    r = life.rng
    lost = current_lost(life, lo, hi)
    s = anchor_job(life, lost, code or eligible_code(r, life.age_at(lost)), **kw)
    life.busy.append((s.acq, None))
    return s, current_claim(life, s)


# ------------------------------------------------------------- DOMAIN's five
def b_closure(life, wp, tenure, claim=True, **_):
    s = anchor_job(life, wp.closed, "22", wp=wp, tenure=tenure)
    if claim:
        life.busy.append((s.acq, None))
        c = current_claim(life, s, extra=life.rng.uniform(1, 8))
        life.looks.append((c, "BUSINESS_CLOSURE"))
    else:
        life.busy.append((s.acq, d_add(s.lost, 30)))


def b_seasonal(life, wp, end_cur, length, n_seasons, **_):
    r = life.rng
    seasons = []
    for k in range(n_seasons - 1, -1, -1):
        end = d_add(U.add_years(end_cur, -k), r.randint(-4, 4))
        seasons.append((d_add(end, -length + r.randint(-5, 5)), end))
    spells = [life.add_spell(wp, a, b, "32", wage=life.wage(a.year, True)) for a, b in seasons]
    life.busy.append((seasons[0][0], None))
    for k, s in enumerate(spells):
        last = k == len(spells) - 1
        if not last and r.random() > 0.85:
            continue
        nxt = spells[k + 1].acq if not last else None
        c = life.new_claim(s, d_add(s.lost, r.randint(3, 15)), stop=nxt, keep_open=last, extra_years=0)
        if last:
            life.looks.append((c, "SEASONAL_WORKER"))


def b_declared(life, **_):
    ctx, r = life.ctx, life.rng
    s, c = _open_claim(life, 90, 225)
    certs = [x for x in c.certs if x.pt < d_add(ctx.F, -45)] or c.certs[:1]
    if not certs:
        life.looks.append((c, "DECLARED_PART_TIME"))
        return
    new = []
    for x in r.sample(certs, min(len(certs), r.randint(1, 3))):
        n = days_incl(x.pf, x.pt)
        v = r.random()
        if v < 0.5:
            L = min(n, r.randint(2, 5))
            a = d_add(x.pf, r.randrange(n - L + 1))
            b = d_add(a, L - 1)
            st = life.add_stmt(
                r.choice(ctx.daily_payers),
                "DAILY_WAGE",
                a,
                b,
                L,
                L * r.randint(10, 16) * 10000,
                d_add(U.next_month_end(b), -r.randint(0, 20)),
            )
        elif v < 0.75:
            L = min(n, r.randint(3, 10))
            a = d_add(x.pf, r.randrange(n - L + 1))
            b = d_add(a, L - 1)
            st = life.add_stmt(
                r.choice(ctx.payers),
                "BUSINESS",
                a,
                b,
                None,
                r.randint(20, 120) * 10000,
                d_add(U.next_month_end(b), -r.randint(0, 20)),
            )
        else:  # a part-time job from mid-period to the end of that month, reported monthly
            a = d_add(x.pf, r.randrange(n))
            me = U.month_end(a)
            wd = max(1, U.weekdays_in(a, me) // 2)
            st = life.add_stmt(
                ctx.pick_wp(r, a).bno,
                "WAGE",
                U.month_start(a) if r.random() < 0.5 else a,
                me,
                wd,
                wd * r.randint(6, 9) * 10000,
                d_add(U.next_month_end(me), -r.randint(0, 20)),
            )
        if st is not None:
            new.append(st)
    for x in c.certs:  # honest: every period any of this work touches is declared, worked days unpaid
        for st in new:
            lo, hi = max(st.wf, x.pf), min(st.wt, x.pt)
            if lo <= hi:
                share = st.amount * days_incl(lo, hi) / days_incl(st.wf, st.wt)
                x.declared += max(10000, int(share) // 1000 * 1000)
                life.set_paid(c, x, min(days_incl(lo, hi), st.wd or days_incl(lo, hi)))
    life.looks.append((c, "DECLARED_PART_TIME"))


def b_short_trip(life, **_):
    r = life.rng
    s, c = _open_claim(life, 90, 225)
    marks = [c.filed] + [x.cert_on for x in c.certs]
    pairs = [(a, b) for a, b in zip(marks, marks[1:]) if (b - a).days >= 8]
    for a, b in r.sample(pairs, min(len(pairs), r.randint(1, 2))):
        out_d = d_add(a, r.randint(1, (b - a).days - 6))
        in_d = d_add(out_d, r.randint(2, min(10, (b - out_d).days - 1)))
        life.add_trip(U.ts_of(out_d, r.randint(7 * 3600, 22 * 3600)), U.ts_of(in_d, r.randint(5 * 3600, 23 * 3600)))
    life.looks.append((c, "SHORT_TRIP"))


def b_spouse(life, acct, **_):
    s, c = _open_claim(life, 60, 200)
    c.acct = acct
    life.looks.append((c, "SHARED_ACCOUNT_SPOUSES"))


# ------------------------------------------------------------------ our own
def b_preclaim(life, variant="gig", **_):
    """Worked a few days in the month the claim started, before its first period;
    the monthly statement's window overlaps the period but the work_days fit outside it."""
    ctx, r = life.ctx, life.rng
    M = U.month_start(d_add(ctx.F, -r.randint(80, 190)))
    if variant == "gig":
        lost = d_add(M, -1 - r.randint(0, 4))
        s = anchor_job(life, lost, eligible_code(r, life.age_at(lost)))
        s.lag_l = 1
        k = r.randint(2, 6)
        a = d_add(M, r.randint(0, 1))
        b = d_add(a, k - 1)
        life.add_stmt(
            r.choice(ctx.daily_payers),
            r.choice(("DAILY_WAGE", "WAGE")),
            M,
            U.month_end(M),
            k,
            k * r.randint(12, 18) * 10000,
            d_add(U.next_month_end(M), -r.randint(0, 20)),
        )
        filed = d_add(b, r.randint(2, 5))
    else:  # the old employer reports the last, partial month as a whole month
        lost = d_add(M, r.randint(3, 8))
        s = anchor_job(life, lost, eligible_code(r, life.age_at(lost)), style="month")
        s.lag_l = 1
        filed = d_add(lost, r.randint(2, 5))
    life.busy.append((s.acq, None))
    c = current_claim(life, s, filed=filed)
    life.looks.append((c, "PRE_CLAIM_WORK_SAME_MONTH"))


def b_missing_in(life, **_):
    """Left the country, the IN record never reached the feed, yet keeps certifying in person."""
    r = life.rng
    s, c = _open_claim(life, 90, 225)
    if not c.certs:
        life.looks.append((c, "MISSING_IN_RECORD_VISITS"))
        return
    if len(c.certs) >= 2 and r.random() < 0.6:
        j = r.randint(1, len(c.certs) - 1)
        prev = c.certs[j - 1].cert_on
    else:
        j = 0
        prev = d_add(c.filed, -r.randint(8, 25))
    gap = (c.certs[j].cert_on - prev).days
    out_d = d_add(prev, r.randint(1, max(1, min(6, gap - 3))))
    in_d = d_add(out_d, r.randint(1, max(1, min(8, (c.certs[j].cert_on - out_d).days - 1))))
    life.add_trip(
        U.ts_of(out_d, r.randint(8 * 3600, 21 * 3600)), U.ts_of(in_d, r.randint(6 * 3600, 22 * 3600)), hide_in=True
    )
    for x in c.certs[j:]:
        x.channel, x.ip, x.sec = "VISIT", None, r.randint(9 * 3600, 17 * 3600)
    k = j + 1 + r.randint(0, 2)
    if k + 1 < len(c.certs) and r.random() < 0.5:  # a later trip, both records present
        o = d_add(c.certs[k].cert_on, r.randint(1, 8))
        life.add_trip(
            U.ts_of(o, r.randint(8 * 3600, 21 * 3600)),
            U.ts_of(d_add(o, r.randint(2, 6)), r.randint(6 * 3600, 22 * 3600)),
        )
    life.looks.append((c, "MISSING_IN_RECORD_VISITS"))


def b_foreign_ip(life, **_):
    """Certifies online from home through a VPN or a corporate proxy with a foreign exit."""
    r = life.rng
    s, c = _open_claim(life, 80, 220)
    ip = r.choice(("US", "JP", "NL", "SG", "DE", "HK"))
    for x in c.certs[1:]:
        if r.random() < 0.7:
            x.channel = "ONLINE" if r.random() < 0.7 else "MOBILE"
            x.ip = ip if r.random() < 0.85 else pick(r, COUNTRIES)
            x.sec = r.randint(8 * 3600, 23 * 3600)
    life.looks.append((c, "FOREIGN_IP_AT_HOME"))


def b_small_shop(life, wp, acq, lost, **_):
    s = life.add_spell(wp, acq, lost, "23")
    life.busy.append((acq, None))
    c = current_claim(life, s)
    life.looks.append((c, "SMALL_SHOP_GENUINE_LAYOFF"))


def b_startup(life, wp, acq, **_):
    s = life.add_spell(wp, acq, wp.closed, "22")
    life.busy.append((acq, None))
    c = current_claim(life, s)
    life.looks.append((c, "STARTUP_FAILURE"))


# =================================================================== plans
def plan_lookalikes(ctx, alloc):
    r = random.Random(f"holdout/{ctx.seed}/looks")
    F, N = ctx.F, ctx.N
    scale = N / 20000

    def n_of(rate, lo=2):
        return max(lo, round(rate * N))

    for _ in range(max(1, round(5 * scale))):  # real closures, long tenures, code 22
        wp = ctx.new_workplace(
            r,
            cap=r.randint(30, 150),
            opened=d_add(F, -r.randint(4000, 11000)),
            closed=d_add(F, -r.randint(60, 170)),
            special="closure",
            industry=r.choice(("10", "25", "29", "46", "47", "49", "56", "87")),
        )
        ctx.closures.append(wp.wid)
        for i in alloc.take(min(r.randint(12, 40), max(6, N // 400)), lo=30, hi=63):
            tenure = min((wp.closed - wp.opened).days - 10, r.randint(1100, 7000))
            plan(ctx, i, b_closure, wp=wp, tenure=tenure, claim=r.random() < 0.85)
    n = n_of(0.006)
    while n > 0:  # seasonal employers
        wp = ctx.new_workplace(
            r,
            cap=r.randint(10, 40),
            opened=d_add(F, -r.randint(4000, 9000)),
            special="seasonal",
            industry=r.choice(("01", "10", "55", "03")),
        )
        end_cur = d_add(F, -r.randint(60, 105))
        length = r.randint(205, 245)
        for i in alloc.take(min(n, r.randint(5, 10)), lo=25, hi=64):
            plan(ctx, i, b_seasonal, wp=wp, end_cur=end_cur, length=length, n_seasons=r.randint(2, 8))
            n -= 1
    for i in alloc.take(n_of(0.008)):
        plan(ctx, i, b_declared)
    for i in alloc.take(n_of(0.007)):
        plan(ctx, i, b_short_trip)
    want = n_of(0.0025, 2)  # couples who both claim, paid into one household account
    couples = [(i, ctx.spouse[i]) for i in alloc.order if i < ctx.spouse[i]]
    for i, sp in couples:
        if want <= 0:
            break
        if (
            i in alloc.used
            or sp in alloc.used
            or not all(ctx.kind[x] == "regular" and 24 <= ctx.age_at(x, F) <= 63 for x in (i, sp))
        ):
            continue
        alloc.used.update((i, sp))
        acct = ctx.acct(i, 9)
        plan(ctx, i, b_spouse, acct=acct)
        plan(ctx, sp, b_spouse, acct=acct)
        want -= 1
    for k, i in enumerate(alloc.take(n_of(0.005))):
        plan(ctx, i, b_preclaim, variant="gig" if k % 3 else "last_month")
    for i in alloc.take(n_of(0.002)):
        plan(ctx, i, b_missing_in)
    for i in alloc.take(n_of(0.003)):
        plan(ctx, i, b_foreign_ip)
    n = n_of(0.004)
    while n > 0:  # small honest shops shedding one or two people under code 23, not hiring
        wp = ctx.new_workplace(
            r,
            cap=r.randint(2, 6),
            opened=d_add(F, -r.randint(1500, 6000)),
            special="small_shop",
            industry=r.choice(("47", "56", "96", "25", "71", "85")),
        )
        staff = alloc.take(r.randint(2, 4), lo=28, hi=62)
        n_lay = min(len(staff), r.randint(1, 2))
        for k, i in enumerate(staff):
            acq = d_add(wp.opened, r.randint(0, max(1, (F - wp.opened).days - 700)))
            if k < n_lay:
                plan(ctx, i, b_small_shop, wp=wp, acq=acq, lost=d_add(F, -r.randint(60, 200)))
                n -= 1
            else:
                plan(ctx, i, role_stayer, wp=wp, acq=acq)
    n = n_of(0.0025)
    while n > 0:  # young businesses that genuinely failed
        closed = d_add(F, -r.randint(60, 130))
        wp = ctx.new_workplace(
            r,
            cap=r.randint(3, 9),
            opened=d_add(closed, -r.randint(270, 420)),
            closed=closed,
            special="startup",
            industry=r.choice(("62", "58", "56", "47", "70", "85")),
        )
        ctx.closures.append(wp.wid)
        for i in alloc.take(max(3, min(n, r.randint(3, 8))), lo=23, hi=55):
            plan(ctx, i, b_startup, wp=wp, acq=d_add(wp.opened, r.randint(0, 60)))
            n -= 1
