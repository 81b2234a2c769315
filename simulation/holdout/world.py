"""The static world: time spans, persons' basic attributes and workplaces."""

from __future__ import annotations

import bisect
import random
from datetime import date

from . import util as U
from .util import d_add

ELIGIBLE = ("12", "22", "23", "31", "32")


class Workplace:
    __slots__ = (
        "wid",
        "bno",
        "name",
        "rep",
        "place",
        "addr",
        "phone_d",
        "phone",
        "acct",
        "industry",
        "region",
        "opened",
        "closed",
        "cap",
        "style",
        "wdp",
        "lag",
        "special",
        "tax",
        "changes",
    )

    def row(self, addr, phone, closed, ts):
        return (
            self.wid,
            self.bno,
            self.name,
            self.rep,
            addr,
            phone,
            self.acct,
            self.industry,
            self.region,
            self.opened.isoformat(),
            closed.isoformat() if closed else None,
            U.ts_text(ts),
        )


class Ctx:
    """Everything shared by all persons: spans, person basics, workplaces, plans, truth sinks."""

    def __init__(self, seed: int, persons: int, baseline: date, days: int):
        self.seed = seed
        self.N = persons
        self.B = baseline
        self.D = days
        self.F = d_add(baseline, days)
        self.drop_dates = [d_add(baseline, i) for i in range(days + 1)]
        self.EMP_START = d_add(baseline, -3560)  # ~9.75 years of insured employment
        self.NTS_START = U.month_start(d_add(baseline, -1300))  # ~3.5 years of tax statements
        self.MOJ_START = d_add(baseline, -1826)  # 5 years of border crossings
        self.F_END = U.ts_of(d_add(self.F, 1), 0)
        self.B_END = U.ts_of(d_add(baseline, 1), 0)
        self.rng = random.Random(f"holdout/{seed}/master")
        self.workplaces: list[Workplace] = []
        self.bnos: set[str] = set()
        self.wids: set[str] = set()
        self.plans: dict[int, list] = {}
        # truth sinks
        self.planted: list[dict] = []
        self.lookalikes: list[dict] = []
        self.rings: list[dict] = []
        self.repeat: list[dict] = []
        self.closures: list[str] = []
        self._make_persons()
        self._make_workplaces()
        self._make_payers()

    # ------------------------------------------------------------- persons
    def pkey(self, i: int) -> str:
        return U.hkey("holdout", self.seed, "person", i)

    def acct(self, i: int, k: int = 0) -> str:
        return U.hkey("holdout", self.seed, "acct", i, k)

    def _make_persons(self):
        r = self.rng
        n = self.N
        bands = ((18, 24, 10), (25, 34, 18), (35, 44, 19), (45, 54, 20), (55, 64, 19), (65, 80, 14))
        cum = []
        t = 0
        for b in bands:
            t += b[2]
            cum.append(t)
        self.birth = [0] * n
        self.kind = [""] * n
        self.spouse = [-1] * n
        fo = self.F.toordinal()
        for i in range(n):
            lo, hi, _ = bands[bisect.bisect_right(cum, r.random() * t)]
            age_days = r.randint(lo * 365, hi * 365 + 364)
            self.birth[i] = fo - age_days
            age = age_days // 365
            if age >= 66:
                self.kind[i] = "retired" if r.random() < 0.85 else "regular"
            else:
                x = r.random()
                self.kind[i] = (
                    "regular" if x < 0.72 else "daily" if x < 0.78 else "freelancer" if x < 0.84 else "inactive"
                )
        cands = [i for i in range(n) if 28 * 365 <= fo - self.birth[i] <= 72 * 365]
        r.shuffle(cands)
        cands = cands[: int(len(cands) * 0.45) // 2 * 2]
        for a, b in zip(cands[0::2], cands[1::2]):
            self.spouse[a] = b
            self.spouse[b] = a

    def age_at(self, i: int, d: date) -> int:
        return (d.toordinal() - self.birth[i]) // 365

    # ---------------------------------------------------------- workplaces
    def _new_ids(self, r, corporate: bool, share_bno: str | None = None):
        if share_bno:
            bno = share_bno
        else:
            while True:
                bno = U.business_no(r, corporate)
                if bno not in self.bnos:
                    break
            self.bnos.add(bno)
        while True:
            if r.random() < 0.9 or share_bno:
                wid = bno + str(r.randint(0, 9) if share_bno else 0)
            else:  # e.g. a construction site numbered separately
                wid = f"{r.randint(1, 9)}{r.randint(0, 9999999999):010d}"
            if wid not in self.wids:
                self.wids.add(wid)
                return bno, wid

    def new_workplace(
        self,
        r,
        *,
        industry=None,
        cap=1,
        opened=None,
        closed=None,
        region_idx=None,
        rep=None,
        place=None,
        unit=None,
        phone_d=None,
        acct=None,
        special=None,
        tax="normal",
        share_bno=None,
        name=None,
    ):
        if region_idx is None:
            region_idx = r.choices(range(len(U.SIDO)), U.SIDO_WEIGHTS)[0]
        if industry is None:
            industry = r.choices([x[0] for x in U.INDUSTRY_WEIGHTS], [x[1] for x in U.INDUSTRY_WEIGHTS])[0]
        corporate = cap >= 10 or r.random() < 0.25
        w = Workplace()
        w.bno, w.wid = self._new_ids(r, corporate, share_bno)
        w.name = name or U.company_name(r, industry, corporate)
        w.rep = rep or U.hkey("holdout", self.seed, "rep", len(self.workplaces))
        w.place = place or U.new_place(r, region_idx)
        w.addr = U.render_address(r, w.place, U.unit_suffix(r) if unit is None else unit)
        w.phone_d = phone_d or U.new_phone(r, w.place[0], cap)
        w.phone = U.render_phone(r, w.phone_d)
        w.acct = acct or U.hkey("holdout", self.seed, "wacct", len(self.workplaces))
        w.industry = industry
        w.region = U.SIDO[w.place[0]][0]
        w.opened = opened
        w.closed = closed
        w.cap = cap
        w.style = "month" if r.random() < 0.4 else "actual"
        w.wdp = "null" if r.random() < 0.45 else "count"
        w.lag = r.randint(0, 22)
        w.special = special
        w.tax = tax
        w.changes = []
        self.workplaces.append(w)
        return w

    def _make_workplaces(self):
        r = self.rng
        n_wp = max(80, int(self.N * 0.075))
        classes = ((1, 4, 72), (5, 9, 13), (10, 29, 9), (30, 99, 4), (100, 299, 1.5), (300, 900, 0.5))
        F = self.F
        places_by_region: dict[int, list] = {}
        for _ in range(n_wp):
            lo, hi, _w = r.choices(classes, [c[2] for c in classes])[0]
            cap = min(r.randint(lo, hi), max(20, self.N // 25))  # no single firm swallows a small world
            if cap >= 100:
                opened = d_add(date(1975, 1, 1), r.randint(0, 13000))
                p_close = 0.02
            elif cap >= 30:
                opened = d_add(date(1985, 1, 1), r.randint(0, 12500))
                p_close = 0.10
            else:
                if r.random() < 0.5:
                    opened = d_add(date(1990, 1, 1), r.randint(0, (self.EMP_START - date(1990, 1, 1)).days))
                else:
                    opened = d_add(self.EMP_START, -r.randint(0, 1800) + r.randint(0, (F - self.EMP_START).days + 1800))
                    opened = min(opened, d_add(F, -30))
                p_close = 0.35
            closed = None
            if r.random() < p_close:
                c = d_add(opened, 200 + int(r.expovariate(1 / 1500)))
                if c <= d_add(F, -5):
                    closed = c
            if closed and closed < self.EMP_START:
                closed = d_add(self.EMP_START, r.randint(30, 2000))
                if closed > d_add(F, -5):
                    closed = None
            region_idx = r.choices(range(len(U.SIDO)), U.SIDO_WEIGHTS)[0]
            place = None
            same = places_by_region.setdefault(region_idx, [])
            if same and r.random() < 0.12:  # same building as another workplace, typed differently
                place = r.choice(same)
            w = self.new_workplace(r, cap=cap, opened=opened, closed=closed, region_idx=region_idx, place=place)
            same.append(w.place)
            if cap >= 100 and r.random() < 0.15:  # a branch with the same business number
                b = self.new_workplace(
                    r,
                    industry=w.industry,
                    cap=max(5, cap // 4),
                    opened=d_add(opened, r.randint(100, 3000)),
                    rep=w.rep,
                    acct=w.acct,
                    share_bno=w.bno,
                    region_idx=r.randrange(len(U.SIDO)),
                )
                b.opened = min(b.opened, d_add(F, -60))
            elif cap <= 9 and r.random() < 0.04:  # an owner running two small shops (honest)
                b = self.new_workplace(
                    r,
                    industry=w.industry,
                    cap=r.randint(1, 6),
                    opened=min(d_add(F, -60), d_add(opened, r.randint(200, 2500))),
                    rep=w.rep,
                    region_idx=region_idx,
                )
        for i in range(1, self.D + 1):  # a few workplaces registered during the delta days
            for _ in range(1 + self.N // 40000):
                self.new_workplace(r, cap=r.randint(1, 5), opened=d_add(self.B, i))
        # honest changes re-sent later (phone or address retyped)
        for w in self.workplaces:
            if r.random() < 0.02:
                lo = max(w.opened, self.EMP_START).toordinal() + 1
                day = date.fromordinal(r.randint(lo, max(lo, self.F.toordinal())))
                if r.random() < 0.35 and self.D > 0:
                    day = d_add(self.B, r.randint(1, self.D))
                if w.closed and day > w.closed:
                    continue
                if r.random() < 0.5:
                    w.changes.append((day, w.addr, U.render_phone(r, w.phone_d)))
                else:
                    w.changes.append((day, U.render_address(r, w.place, U.unit_suffix(r)), w.phone))
        self.generic = list(self.workplaces)
        cum = []
        t = 0
        for w in self.generic:
            t += w.cap
            cum.append(t)
        self._cum = cum
        self._tot = t

    def pick_wp(self, r, acq: date, lost: date | None = None, min_cap: int = 1) -> Workplace:
        """A generic workplace open on acq (and still open on lost when given), by size."""
        g = self.generic
        for _ in range(40):
            w = g[bisect.bisect_right(self._cum, r.random() * self._tot)]
            if w.opened > acq or w.cap < min_cap:
                continue
            if w.closed is not None:
                if w.closed <= d_add(acq, 60):
                    continue
                if lost is not None and w.closed < lost:
                    continue
            return w
        # fall back to a long-lived large workplace
        for w in self.generic:
            if w.cap >= 30 and w.opened <= acq and w.closed is None:
                return w
        return self.new_workplace(r, cap=40, opened=d_add(acq, -3000))

    def _make_payers(self):
        """Businesses that pay people (tax statements) but insure nobody."""
        r = self.rng
        self.payers = []
        for _ in range(max(30, self.N // 50)):
            while True:
                b = U.business_no(r, r.random() < 0.3)
                if b not in self.bnos:
                    self.bnos.add(b)
                    break
            self.payers.append(b)
        self.daily_payers = (
            self.payers[: len(self.payers) // 2]
            + [w.bno for w in self.generic if w.industry in ("41", "42", "10", "49")][:200]
        )

    # ------------------------------------------------------------- money
    @staticmethod
    def daily_limits(year: int):
        table = {
            2016: (43416, 43416),
            2017: (46584, 50000),
            2018: (54216, 60000),
            2019: (60120, 66000),
            2020: (60120, 66000),
            2021: (60120, 66000),
            2022: (60120, 66000),
            2023: (61568, 66000),
            2024: (63104, 66000),
            2025: (64192, 66000),
        }
        if year in table:
            return table[year]
        return (66048, 68100) if year > 2025 else (40000, 43000)

    def daily_amount(self, wage: int, filed: date) -> int:
        lo, hi = self.daily_limits(filed.year)
        v = int(wage * 12 / 365 * 0.6)
        return max(lo, min(hi, v))

    @staticmethod
    def benefit_days(age: int, years: float) -> int:
        old = age >= 50
        if years < 1:
            return 120
        if years < 3:
            return 180 if old else 150
        if years < 5:
            return 210 if old else 180
        if years < 10:
            return 240 if old else 210
        return 270 if old else 240
