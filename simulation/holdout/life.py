"""One person's life: employment spells, claims and certifications, tax
statements and border crossings, plus the generic (honest) filler around
whatever episodes a plan pinned down."""

from __future__ import annotations

import random
from datetime import date

from . import util as U
from .util import d_add, days_incl
from .world import ELIGIBLE

COUNTRIES = (
    ("JP", 25),
    ("CN", 11),
    ("VN", 12),
    ("TH", 8),
    ("US", 8),
    ("PH", 5),
    ("TW", 5),
    ("HK", 3),
    ("SG", 3),
    ("GU", 3),
    ("FR", 2),
    ("DE", 2),
    ("AU", 2),
    ("CA", 2),
    ("ID", 2),
    ("MY", 2),
    ("MN", 1),
    ("UZ", 1),
    ("GB", 1),
    ("IT", 1),
    ("ES", 1),
    ("NZ", 1),
    ("KH", 1),
    ("LA", 1),
)
PORTS = (("ICN", 70), ("GMP", 12), ("PUS", 9), ("CJU", 3), ("TAE", 2), ("BSP", 2), ("ICP", 1), ("PTK", 1))


class Spell:
    __slots__ = ("wp", "acq", "lost", "code", "wage", "tax", "generic", "lag_a", "lag_l", "eid", "style")


class Cert:
    __slots__ = ("cid", "cert_on", "pf", "pt", "channel", "ip", "jsc", "declared", "paid_days", "paid", "sec")


class Claim:
    __slots__ = (
        "cid",
        "wp",
        "code",
        "filed",
        "eligible",
        "bdays",
        "daily",
        "acct",
        "certs",
        "appr",
        "end",
        "spell",
        "rejected",
        "sec",
    )

    def status_at(self, F: date) -> str:
        st = "FILED"
        if self.rejected:
            return "REJECTED" if self.end and self.end[1] <= F else st
        if self.appr <= F:
            st = "APPROVED"
        if self.end and self.end[1] <= F:
            st = self.end[0]
        return st


class Stmt:
    __slots__ = ("rid", "payer", "itype", "wf", "wt", "wd", "amount", "filed", "sec")


class Cross:
    __slots__ = ("xid", "ts", "dir", "port", "country", "hidden")


class Finding:
    __slots__ = ("fid", "claim", "wp", "ftype", "decided", "amount", "collusion")


def pick(r, table):
    tot = 0
    for _, w in table:
        tot += w
    x = r.random() * tot
    for v, w in table:
        x -= w
        if x < 0:
            return v
    return table[-1][0]


class Life:
    def __init__(self, ctx, i: int):
        self.ctx = ctx
        self.i = i
        self.key = ctx.pkey(i)
        r = self.rng = random.Random(f"holdout/{ctx.seed}/p/{i}")
        self.birth = date.fromordinal(ctx.birth[i])
        self.kind = ctx.kind[i]
        self.spells: list[Spell] = []
        self.claims: list[Claim] = []
        self.stmts: list[Stmt] = []
        self.cross: list[Cross] = []
        self.findings: list[Finding] = []
        self.busy: list[tuple] = []
        self.cursor: date | None = None
        self.skill = r.lognormvariate(0, 0.33)
        x = r.random()
        self.p_online, self.p_mobile = (0.7, 0.2) if x < 0.5 else (0.3, 0.55) if x < 0.85 else (0.15, 0.15)
        self.planted: list[dict] = []  # truth notes, resolved to ids at the end
        self.looks: list[tuple] = []
        self.no_generic_trips = False

    # ------------------------------------------------------------ basics
    def age_at(self, d: date) -> int:
        return (d.toordinal() - self.birth.toordinal()) // 365

    def wage(self, year: int, low: bool = False) -> int:
        floor = int(2156880 * 1.05 ** (year - 2026))
        base = 3_300_000 * self.skill * 1.03 ** (year - 2026)
        if low:
            base = floor * self.rng.uniform(1.0, 1.25)
        return int(max(floor, base) // 1000 * 1000)

    def own_acct(self) -> str:
        sp = self.ctx.spouse[self.i]
        if sp >= 0 and self.rng.random() < 0.1:
            return self.ctx.acct(min(self.i, sp), 9)  # household account
        return self.ctx.acct(self.i)

    def add_spell(
        self, wp, acq, lost, code, *, wage=None, tax="normal", generic=False, lag_a=None, lag_l=None, style=None
    ) -> Spell:
        r = self.rng
        s = Spell()
        s.wp, s.acq, s.lost, s.code = wp, acq, lost, code
        s.wage = wage or self.wage(acq.year)
        s.tax = tax
        s.generic = generic
        s.lag_a = r.randint(1, 14) if lag_a is None else lag_a
        if r.random() < 0.05 and lag_a is None:
            s.lag_a = r.randint(15, 45)
        s.lag_l = r.randint(1, 12) if lag_l is None else lag_l
        s.style = style
        s.eid = None
        self.spells.append(s)
        return s

    def insured_years(self, upto: date, extra: float = 0.0) -> float:
        n = 0
        for s in self.spells:
            if s.acq < upto:
                n += days_incl(s.acq, min(upto, s.lost or upto))
        return n / 365 + extra

    # -------------------------------------------------------- claims
    def new_claim(
        self,
        spell: Spell,
        filed: date,
        *,
        code=None,
        acct=None,
        stop=None,
        horizon=None,
        bdays=None,
        extra_years=0.0,
        rejected=False,
        keep_open=False,
        first_len=None,
    ) -> Claim:
        ctx, r = self.ctx, self.rng
        c = Claim()
        c.cid = None
        c.wp = spell.wp
        c.code = code or spell.code
        c.filed = max(filed, d_add(spell.lost, spell.lag_l + 1))
        c.eligible = d_add(c.filed, 7)
        c.bdays = bdays or ctx.benefit_days(self.age_at(spell.lost), self.insured_years(spell.lost, extra_years))
        if keep_open:
            need = (ctx.F - c.eligible).days + 20
            for v in (120, 150, 180, 210, 240, 270):
                if c.bdays < need and v > c.bdays:
                    c.bdays = v
        c.daily = ctx.daily_amount(spell.wage, c.filed)
        c.acct = acct or self.own_acct()
        c.spell = spell
        c.appr = d_add(c.filed, r.randint(2, 12))
        c.rejected = rejected
        c.sec = U.work_sec(r)
        c.end = None
        c.certs = []
        if rejected:
            c.end = ("REJECTED", d_add(c.filed, r.randint(5, 20)))
        else:
            self.run_certs(c, stop, horizon, first_len)
        self.claims.append(c)
        return c

    def run_certs(self, c: Claim, stop=None, horizon=None, first_len=None):
        ctx, r = self.ctx, self.rng
        hz = horizon or ctx.F
        remaining = c.bdays
        pf = c.eligible
        k = 0
        c.certs = []
        c.end = None
        fl = first_len or r.randint(14, 27)
        last = None
        while remaining > 0:
            pt = d_add(pf, (fl if k == 0 else 28) - 1)
            reemp = stop is not None and stop <= pt
            if reemp:
                pt = d_add(stop, -1)
                if pt < pf:
                    end = d_add(stop, r.randint(1, 9))
                    if end <= hz:
                        c.end = ("TERMINATED", end)
                    return
            cert_on = d_add(pt, 1)
            if reemp:
                cert_on = d_add(stop, r.randint(0, 9))
            elif r.random() < 0.08:
                cert_on = d_add(cert_on, r.randint(1, 4))
            if cert_on > hz:
                return
            x = Cert()
            x.cid = None
            x.cert_on, x.pf, x.pt = cert_on, pf, pt
            if k == 0 and r.random() < 0.85:
                x.channel = "VISIT"
            else:
                y = r.random()
                x.channel = (
                    "ONLINE" if y < self.p_online else "MOBILE" if y < self.p_online + self.p_mobile else "VISIT"
                )
            x.ip = None if x.channel == "VISIT" else "KR"
            x.sec = U.work_sec(r, 9, 17) if x.channel == "VISIT" else U.work_sec(r, 7, 23)
            x.jsc = 1 if k == 0 else r.randint(1, 4)
            x.declared = 0
            x.paid_days = min(days_incl(pf, pt), remaining)
            x.paid = x.paid_days * c.daily
            c.certs.append(x)
            last = x
            remaining -= x.paid_days
            pf = d_add(pt, 1)
            k += 1
            if reemp:
                c.end = ("TERMINATED", cert_on)
                return
        if last is not None:
            c.end = ("EXHAUSTED", d_add(last.cert_on, r.randint(0, 2)))

    def set_paid(self, c: Claim, cert: Cert, unpaid_days: int):
        cert.paid_days = max(0, min(cert.paid_days, days_incl(cert.pf, cert.pt) - unpaid_days))
        cert.paid = cert.paid_days * c.daily

    def claim_window(self, c: Claim):
        F = self.ctx.F
        if c.rejected:
            return c.filed, c.end[1]
        st = c.status_at(F)
        end = F if st in ("FILED", "APPROVED") else (c.certs[-1].pt if c.certs else c.end[1])
        if c.certs:
            end = max(end, c.certs[-1].cert_on)
        return c.filed, end

    # ------------------------------------------------- statements, trips
    def add_stmt(self, payer, itype, wf, wt, wd, amount, filed) -> Stmt | None:
        ctx = self.ctx
        if filed > ctx.F or wf < ctx.NTS_START:
            return None
        s = Stmt()
        s.rid = None
        s.payer, s.itype, s.wf, s.wt, s.wd = payer, itype, wf, wt, wd
        s.amount = max(1000, int(amount) // 10 * 10)
        s.filed = filed
        s.sec = U.work_sec(self.rng, 8, 20)
        self.stmts.append(s)
        return s

    def add_cross(self, ts: int, direction: str, country: str, hidden=False, port=None):
        ctx = self.ctx
        if ts >= ctx.F_END or ts < U.ts_of(ctx.MOJ_START, 0):
            return None
        x = Cross()
        x.xid = None
        x.ts, x.dir, x.country, x.hidden = ts, direction, country, hidden
        x.port = port or pick(self.rng, PORTS)
        self.cross.append(x)
        return x

    def add_trip(self, out_ts: int, in_ts: int | None, country=None, hide_in=False, hide_out=False):
        country = country or pick(self.rng, COUNTRIES)
        self.add_cross(out_ts, "OUT", country, hide_out)
        if in_ts is not None:
            back = country if self.rng.random() < 0.9 else pick(self.rng, COUNTRIES)
            self.add_cross(in_ts, "IN", back, hide_in)
        return country

    # ------------------------------------------------------ generic filler
    def fill_generic(self):
        ctx, r = self.ctx, self.rng
        F = ctx.F
        cstart = U.add_years(self.birth, r.randint(18, 27))
        floor = d_add(ctx.EMP_START, -4000)
        if cstart < floor:
            cstart = d_add(floor, r.randint(0, 3000))
        retire = None
        age_now = self.age_at(F)
        if self.kind == "retired" or (age_now >= 60 and r.random() < 0.5):
            retire = U.add_years(self.birth, r.randint(55, 65))
        cutoff = None
        if self.kind in ("inactive", "daily", "freelancer"):
            if r.random() < 0.6 and not self.busy:
                return
            cutoff = d_add(cstart, r.randint(300, max(400, (F - cstart).days)))
        windows = []
        t = cstart
        for a, b in sorted(self.busy, key=lambda x: x[0]):
            if d_add(a, -90) > t:
                windows.append((t, d_add(a, -45)))
            if b is None:
                t = None
                break
            t = max(t, d_add(b, r.randint(30, 120)))
        if t is not None:
            windows.append((t, None))
        for s, e in windows:
            if cutoff is not None:
                e = cutoff if e is None else min(e, cutoff)
            if retire is not None:
                e = retire if e is None else min(e, retire)
            self._fill_window(s, e, retire)

    def _fill_window(self, s: date, e: date | None, retire: date | None):
        ctx, r = self.ctx, self.rng
        F = ctx.F
        t = s
        while True:
            acq = t
            if acq > d_add(F, -3) or (e is not None and acq > d_add(e, -60)):
                return
            x = r.random()
            dur = r.randint(60, 365) if x < 0.3 else r.randint(366, 1460) if x < 0.75 else r.randint(1461, 5500)
            lost = d_add(acq, dur)
            wp = ctx.pick_wp(r, acq)
            code = None
            if wp.closed is not None and lost >= wp.closed:
                lost, code = wp.closed, "22"
            if e is not None and lost > e:
                lost = d_add(e, -r.randint(0, 15))
                code = "31" if (retire is not None and e == retire) else r.choice(("11", "11", "12", "32", "26", "41"))
            if lost is not None and lost > F:
                lost, code = None, None
            elif code is None:
                code = self._sep_code(wp, lost)
            if lost is not None and lost <= acq:
                return
            self.add_spell(wp, acq, lost, code, generic=True)
            if lost is None or code == "31":
                return
            x = r.random()
            if code in ELIGIBLE:
                gap = r.randint(40, 420)
            else:
                gap = r.randint(1, 20) if x < 0.4 else r.randint(21, 180) if x < 0.8 else r.randint(181, 700)
            t = d_add(lost, gap)

    def _sep_code(self, wp, lost) -> str:
        r = self.rng
        if self.age_at(lost) >= 60 and r.random() < 0.15:
            return "31"
        if wp.cap <= 4:
            table = (("11", 55), ("12", 6), ("22", 3), ("23", 3), ("26", 4), ("32", 22), ("41", 7))
        else:
            table = (("11", 45), ("12", 6), ("22", 1), ("23", 14), ("26", 4), ("32", 24), ("41", 6))
        return pick(r, table)

    def generic_claims(self):
        ctx, r = self.ctx, self.rng
        spells = sorted(self.spells, key=lambda s: s.acq)
        for s in spells:
            if not s.generic or s.lost is None or s.code not in ELIGIBLE:
                continue
            filed = d_add(s.lost, r.randint(5, 35))
            filed = max(filed, d_add(s.lost, s.lag_l + 1))
            if filed < ctx.EMP_START or filed > ctx.F:
                continue
            lo = d_add(s.lost, -547)
            ins = 0
            for o in spells:
                if o.acq <= s.lost and (o.lost is None or o.lost >= lo):
                    ins += days_incl(max(o.acq, lo), min(o.lost or s.lost, s.lost))
            if ins < 180:
                continue
            if r.random() > {"22": 0.8, "23": 0.8, "12": 0.6, "31": 0.45, "32": 0.6}[s.code]:
                continue
            nxt = None
            for o in spells:
                if o.acq > s.lost and (nxt is None or o.acq < nxt):
                    nxt = o.acq
            if nxt is not None and nxt < d_add(filed, 25):
                continue
            self.new_claim(s, filed, stop=nxt, rejected=r.random() < 0.03)

    # ------------------------------------------------------ income
    def spell_income(self):
        ctx, r = self.ctx, self.rng
        F = ctx.F
        for s in self.spells:
            if s.tax == "none":
                continue
            end = s.lost or F
            if end < ctx.NTS_START:
                continue
            wp = s.wp
            style = s.style or wp.style
            k = 0
            for m in U.iter_months(max(s.acq, ctx.NTS_START), end):
                me = U.month_end(m)
                a, b = max(m, s.acq), min(me, end)
                filed = d_add(U.next_month_end(m), -wp.lag)
                if r.random() < 0.04:
                    filed = d_add(filed, r.randint(1, 60))
                if filed > F:
                    continue
                k += 1
                if s.tax == "token" and k > 2:
                    break
                wf, wt = (m, me) if style == "month" else (a, b)
                wd = None
                if wp.wdp == "count":
                    wd = max(0, U.weekdays_in(a, b) - r.randint(0, 2)) or None
                amount = s.wage * days_incl(a, b) / days_incl(m, me) * r.uniform(0.96, 1.1)
                if m.month in (1, 7) and wp.cap >= 30 and r.random() < 0.5:
                    amount *= r.uniform(1.4, 2.0)
                if s.tax == "low":
                    amount *= r.uniform(0.2, 0.4)
                self.add_stmt(wp.bno, "WAGE", wf, wt, wd, amount, filed)

    def _excl(self):
        return [self.claim_window(c) for c in self.claims]

    @staticmethod
    def _hits(excl, a, b, pad=0):
        for x, y in excl:
            if a <= d_add(y, pad) and b >= d_add(x, -pad):
                return True
        return False

    def side_income(self):
        ctx, r = self.ctx, self.rng
        F = ctx.F
        excl = self._excl()
        kind = self.kind
        stop = min(F, d_add(F, -1))
        if kind in ("daily", "inactive", "freelancer"):
            p_month = {"daily": 0.7, "inactive": 0.06, "freelancer": 0.75}[kind]
            for m in U.iter_months(ctx.NTS_START, stop):
                if r.random() > p_month:
                    continue
                me = min(U.month_end(m), stop)
                if kind == "freelancer":
                    self._business(m, me, excl)
                else:
                    self._daily(m, me, excl)
        if r.random() < 0.3:  # occasional lecture fees, prizes, honoraria
            n = r.randint(1, 4)
            span = (F - ctx.NTS_START).days
            for _ in range(n):
                a = d_add(ctx.NTS_START, r.randint(0, span))
                b = d_add(a, r.choice((0, 0, 0, 1, 2)))
                if b > F or self._hits(excl, a, b):
                    continue
                self.add_stmt(
                    r.choice(ctx.payers),
                    "OTHER",
                    a,
                    b,
                    None,
                    r.randint(10, 150) * 10000,
                    d_add(U.next_month_end(b), -r.randint(0, 25)),
                )

    def _daily(self, m, me, excl):
        ctx, r = self.ctx, self.rng
        for _ in range(1 if r.random() < 0.7 else 2):
            n_days = days_incl(m, me)
            k = min(n_days, r.randint(2, 18))
            days = sorted(r.sample(range(n_days), k))
            payer = r.choice(ctx.daily_payers)
            wage = r.randint(12, 22) * 10000
            filed = d_add(U.next_month_end(m), -r.randint(0, 20))
            style = r.random()
            if style < 0.4:
                a, b = d_add(m, days[0]), d_add(m, days[-1])
                if not self._hits(excl, a, b):
                    self.add_stmt(payer, "DAILY_WAGE", a, b, k, k * wage, filed)
            elif style < 0.7:
                if not self._hits(excl, m, U.month_end(m)):
                    self.add_stmt(payer, "DAILY_WAGE", m, U.month_end(m), k, k * wage, filed)
            else:
                runs = []
                for d in days:
                    if runs and runs[-1][1] == d - 1:
                        runs[-1][1] = d
                    else:
                        runs.append([d, d])
                for x, y in runs:
                    a, b = d_add(m, x), d_add(m, y)
                    if not self._hits(excl, a, b):
                        n = y - x + 1
                        self.add_stmt(payer, "DAILY_WAGE", a, b, n if r.random() < 0.6 else None, n * wage, filed)

    def _business(self, m, me, excl):
        ctx, r = self.ctx, self.rng
        for _ in range(1 if r.random() < 0.6 else 2):
            payer = r.choice(ctx.payers)
            if r.random() < 0.6:
                a, b = m, U.month_end(m)
            else:
                n = days_incl(m, me)
                x = r.randrange(n)
                a = d_add(m, x)
                b = min(me, d_add(a, r.randint(2, 20)))
            if self._hits(excl, a, b):
                continue
            self.add_stmt(
                payer,
                r.choice(("BUSINESS", "BUSINESS", "OTHER")),
                a,
                b,
                None,
                r.randint(40, 450) * 10000,
                d_add(U.next_month_end(b), -r.randint(0, 25)),
            )

    # ------------------------------------------------------------- trips
    def generic_trips(self):
        ctx, r = self.ctx, self.rng
        if self.no_generic_trips or r.random() < 0.38:
            return
        rate = r.uniform(0.2, 2.4) / 365
        excl = self._excl()
        t = d_add(ctx.MOJ_START, -400)
        F = ctx.F
        trips = []
        while True:
            t = d_add(t, 1 + int(r.expovariate(rate)))
            if t > F:
                break
            x = r.random()
            n = r.randint(2, 7) if x < 0.75 else r.randint(8, 30) if x < 0.95 else r.randint(31, 400)
            b = d_add(t, n)
            if self._hits(excl, t, b, 3):
                t = b
                continue
            trips.append((t, b))
            t = d_add(b, 3)
        last_cert = max((x.cert_on for c in self.claims for x in c.certs), default=None)
        for a, b in trips:
            out_ts = U.ts_of(a, r.randint(6 * 3600, 23 * 3600 + 1800))
            in_ts = U.ts_of(b, r.randint(5 * 3600, 23 * 3600 + 3000))
            hide_in = r.random() < 0.004 and (last_cert is None or last_cert < a)
            self.add_trip(out_ts, in_ts, hide_in=hide_in, hide_out=r.random() < 0.004)

    # ------------------------------------------------------------ finish
    def finalize_ids(self):
        i = self.i
        ctx = self.ctx
        vis = [s for s in self.spells if s.lost is None or s.lost >= ctx.EMP_START]
        vis.sort(key=lambda s: (s.acq, s.wp.wid))
        for k, s in enumerate(vis):
            s.eid = f"EM{i:07d}{k:03d}"
        self.claims = [c for c in self.claims if c.filed >= ctx.EMP_START and c.filed <= ctx.F]
        self.claims.sort(key=lambda c: c.filed)
        for k, c in enumerate(self.claims):
            c.cid = f"CL{i:07d}{k:02d}"
            c.certs.sort(key=lambda x: (x.cert_on, x.pf))
            for j, x in enumerate(c.certs):
                x.cid = f"CT{i:07d}{k:02d}{j:03d}"
        self.stmts.sort(key=lambda s: (s.filed, s.wf, s.payer))
        for k, s in enumerate(self.stmts):
            s.rid = f"NT{i:07d}{k:05d}"
        self.cross.sort(key=lambda x: x.ts)
        for k, x in enumerate(self.cross):
            x.xid = f"MJ{i:07d}{k:04d}"
        self.findings.sort(key=lambda f: f.decided)
        for k, f in enumerate(self.findings):
            f.fid = f"FD{f.decided.year}{i:07d}{k}"
