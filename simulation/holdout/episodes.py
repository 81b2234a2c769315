"""Building blocks shared by the fraud plants and the look-alikes: person
allocation, an anchored last job, an open claim, plain honest roles."""

from __future__ import annotations

import random

from . import util as U
from .util import d_add


class Allocator:
    """Hands out distinct persons matching a predicate, in a seeded random order."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.order = list(range(ctx.N))
        random.Random(f"holdout/{ctx.seed}/alloc").shuffle(self.order)
        self.used: set[int] = set()
        self.pos = 0

    def take(self, n: int, lo: int = 22, hi: int = 62, kinds=("regular",)) -> list[int]:
        ctx = self.ctx
        out = []
        N = len(self.order)
        scanned = 0
        while len(out) < n and scanned < N:
            i = self.order[self.pos]
            self.pos = (self.pos + 1) % N
            scanned += 1
            if i in self.used:
                continue
            age = ctx.age_at(i, ctx.F)
            if lo <= age <= hi and (kinds is None or ctx.kind[i] in kinds):
                self.used.add(i)
                out.append(i)
        return out

    def one(self, **kw):
        got = self.take(1, **kw)
        return got[0] if got else None


def plan(ctx, i, fn, **kw):
    ctx.plans.setdefault(i, []).append((fn, kw))


# ------------------------------------------------------------------ helpers
def current_lost(life, lo=60, hi=210):
    F = life.ctx.F
    lost = d_add(F, -life.rng.randint(lo, hi))
    if life.cursor is not None:
        lost = max(lost, min(d_add(life.cursor, 210), d_add(F, -lo)))
    return lost


def anchor_job(
    life,
    lost,
    code,
    *,
    wp=None,
    tenure=None,
    min_tenure=200,
    max_tenure=2600,
    tax="normal",
    wage=None,
    style=None,
    min_cap=1,
    keep_open_wp=False,
    low=False,
):
    ctx, r = life.ctx, life.rng
    if tenure is None:
        tenure = r.randint(min_tenure, max_tenure)
    acq = d_add(lost, -tenure)
    if life.cursor is not None and acq < life.cursor:
        acq = life.cursor
    if wp is None:
        wp = ctx.pick_wp(r, acq, ctx.F if keep_open_wp else lost, min_cap=min_cap)
    if wp.opened > acq:
        acq = d_add(wp.opened, r.randint(0, 20))
    if acq >= d_add(lost, -30):
        acq = d_add(lost, -r.randint(200, 260))
    return life.add_spell(wp, acq, lost, code, tax=tax, wage=wage or life.wage(acq.year, low), style=style)


def eligible_code(r, age=40):
    if age >= 60 and r.random() < 0.3:
        return "31"
    return r.choices(("23", "32", "12", "22"), (50, 30, 12, 8))[0]


def current_claim(life, spell, *, code=None, acct=None, filed=None, first_len=None, extra=None):
    r = life.rng
    if filed is None:
        filed = d_add(spell.lost, r.randint(3, 20))
    return life.new_claim(
        spell,
        filed,
        code=code,
        acct=acct,
        keep_open=True,
        first_len=first_len,
        extra_years=r.uniform(0, 8) if extra is None else extra,
    )


def claim_with_slack(life, spell, min_slack=6, **kw):
    """An open claim whose last visible certification leaves room for an event before F."""
    r = life.rng
    F = life.ctx.F
    filed = d_add(spell.lost, r.randint(3, 15))
    c = None
    for _ in range(10):
        c = current_claim(life, spell, filed=filed, **kw)
        if c.certs:
            last = c.certs[-1]
            if (F - max(last.pt, last.cert_on)).days >= min_slack:
                return c
        life.claims.remove(c)
        filed = d_add(filed, 5)
    life.claims.append(c)
    return c


def rehire_after(life, c, wp, min_gap=1):
    """Insured again (open spell) after the claim's last visible certification, visible by F."""
    ctx, r = life.ctx, life.rng
    F = ctx.F
    last = c.certs[-1]
    lo = max(d_add(last.pt, min_gap), last.cert_on)
    hi = d_add(F, -3)
    if lo > hi:
        return None
    acq = d_add(lo, r.randint(0, (hi - lo).days))
    s = life.add_spell(wp, acq, None, None, lag_a=r.randint(0, (F - acq).days - 1))
    return s


def cert_ts_ok(x):
    return U.ts_of(x.cert_on, x.sec)


# ------------------------------------------------------------ honest roles
def role_honest_open(life, **_):
    """An ordinary open claim (used for repeat offenders who are honest this time)."""
    r = life.rng
    lost = current_lost(life, 60, 200)
    s = anchor_job(life, lost, eligible_code(r, life.age_at(lost)))
    life.busy.append((s.acq, None))
    current_claim(life, s)


def role_hire(life, wp, acq, **_):
    """An honest new hire at a given workplace (open spell)."""
    r = life.rng
    F = life.ctx.F
    acq = min(acq, d_add(F, -5))
    life.add_spell(wp, acq, None, None, lag_a=min(r.randint(1, 10), (F - acq).days - 1))
    life.busy.append((acq, None))


def role_stayer(life, wp, acq, lost=None, code=None, **_):
    """A long-serving employee of a special workplace (closed spell or still open)."""
    life.add_spell(wp, acq, lost, code)
    life.busy.append((acq, None if lost is None else d_add(lost, 30)))
