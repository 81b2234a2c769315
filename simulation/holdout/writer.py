"""Landing-directory writer: one CSV per (source, drop, table), manifests last.

Records arrive as version lists ``[(ts, canonical_row), ...]``; each version
lands in the drop of its own date (the baseline takes everything up to and
including the baseline date).  Per file the writer picks an encoding, BOM,
column order, extra columns and timestamp rendering, and sprinkles a few
contract-invalid rows (fresh ids) that the truth counts."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from datetime import date
from pathlib import Path

from . import util as U
from .util import d_add

COLUMNS = {
    "workplaces": (
        "workplace_id",
        "business_no",
        "name",
        "representative_key",
        "address",
        "phone",
        "bank_account_key",
        "industry_code",
        "region_code",
        "opened_on",
        "closed_on",
        "updated_at",
    ),
    "employments": (
        "employment_id",
        "person_key",
        "workplace_id",
        "acquired_on",
        "lost_on",
        "separation_code",
        "monthly_wage",
        "updated_at",
    ),
    "claims": (
        "claim_id",
        "person_key",
        "workplace_id",
        "separation_code",
        "filed_on",
        "eligible_from",
        "benefit_days",
        "daily_amount",
        "bank_account_key",
        "status",
        "updated_at",
    ),
    "certifications": (
        "cert_id",
        "claim_id",
        "cert_on",
        "period_from",
        "period_to",
        "channel",
        "ip_country",
        "job_search_count",
        "declared_income",
        "paid_days",
        "paid_amount",
        "updated_at",
    ),
    "findings": (
        "finding_id",
        "person_key",
        "claim_id",
        "workplace_id",
        "fraud_type",
        "decided_on",
        "overpaid_amount",
        "collusion",
        "updated_at",
    ),
    "income": (
        "record_id",
        "person_key",
        "payer_business_no",
        "income_type",
        "work_from",
        "work_to",
        "work_days",
        "amount",
        "filed_on",
        "updated_at",
    ),
    "crossings": ("crossing_id", "person_key", "crossed_at", "direction", "port_code", "country"),
}
SOURCE_TABLES = {
    "ei": ("workplaces", "employments", "claims", "certifications", "findings"),
    "nts": ("income",),
    "moj": ("crossings",),
}
SOURCE_OF = {t: s for s, ts in SOURCE_TABLES.items() for t in ts}
TS_COL = {
    t: (cols.index("crossed_at") if t == "crossings" else cols.index("updated_at")) for t, cols in COLUMNS.items()
}
EXPECTED_PER_PERSON = {
    "workplaces": 0.08,
    "employments": 1.9,
    "claims": 0.5,
    "certifications": 3.0,
    "findings": 0.004,
    "income": 30.0,
    "crossings": 7.0,
}
OFFICES = (
    "서울강남고용센터",
    "서울관악고용센터",
    "부산북부고용센터",
    "대구고용센터",
    "인천고용센터",
    "경기고용센터",
    "광주고용센터",
    "대전고용센터",
    "제주고용센터",
    "수원고용센터",
)


class TableFile:
    def __init__(self, hub, source: str, drop: date, table: str, k: int):
        ctx = hub.ctx
        r = self.rng = random.Random(f"holdout/{ctx.seed}/file/{source}/{drop}/{table}")
        self.hub, self.source, self.drop, self.table = hub, source, drop, table
        self.baseline = k == 0
        cols = COLUMNS[table]
        self.encoding = "cp949" if (source == "ei" and k == hub.cp949_index) else "utf-8"
        self.bom = self.encoding == "utf-8" and ((k == 0 and table == "income") or r.random() < 0.2)
        order = list(range(len(cols)))
        if (k == 0 and table == "claims") or r.random() < 0.2:
            while order == sorted(order):
                r.shuffle(order)
        self.order = order
        extras = []
        if (k == 0 and table == "employments") or r.random() < 0.15:
            pool = ["load_batch", "row_seq", "비고", "exported_at", "src_office" if source == "ei" else "gate"]
            extras = r.sample(pool, r.randint(1, 2))
            pos = r.randint(0, len(order))
        self.extras = extras
        self.ts_style = "kst"
        if table == "crossings" and k % 2 == 1:
            self.ts_style = "utc"
        elif table == "certifications" and k == 1:
            self.ts_style = "frac"
        self.ts_pos = TS_COL[table]
        self.ts_at = order.index(self.ts_pos)
        self.path = hub.out / source / drop.isoformat() / f"{table}.csv"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(self.path, "w", encoding="utf-8-sig" if self.bom else self.encoding, newline="")
        quote = csv.QUOTE_ALL if r.random() < 0.05 else csv.QUOTE_MINIMAL
        self.w = csv.writer(self.f, lineterminator="\r\n", quoting=quote)
        header = [cols[i] for i in order]
        self.extra_pos = pos if extras else 0
        self.w.writerow(header[: self.extra_pos] + extras + header[self.extra_pos :] if extras else header)
        self.rows = 0
        self.valid = 0
        self.invalid = 0
        self.rate = 0.001
        if k == 0:  # every table's history carries at least one bad row, somewhere
            self.force_at = r.randint(1, max(5, int(ctx.N * EXPECTED_PER_PERSON[table] * 0.8)))
        else:
            self.force_at = r.randint(1, 40) if r.random() < 0.45 else -1

    def _ts(self, ts: int) -> str:
        if self.ts_style == "utc":
            return U.ts_text_utc(ts)
        if self.ts_style == "frac":
            t = U.ts_text(ts)
            return f"{t[:19]}.{(ts * 7919) % 1000:03d}{t[19:]}"
        return U.ts_text(ts)

    def _extra_vals(self):
        out = []
        for name in self.extras:
            if name == "load_batch":
                out.append(f"LB{self.drop:%Y%m%d}{self.rows // 5000:03d}")
            elif name == "row_seq":
                out.append(self.rows + 1)
            elif name == "비고":
                out.append("" if self.rng.random() < 0.9 else self.rng.choice(("정정", "재전송", "확인요망")))
            elif name == "exported_at":
                out.append(f"{d_add(self.drop, 1).isoformat()}T02:{self.rng.randint(0, 59):02d}:00+09:00")
            elif name == "src_office":
                out.append(self.rng.choice(OFFICES))
            else:
                out.append(self.rng.choice(("T1", "T2", "P1")))
        return out

    def _put(self, row):
        vals = [row[i] for i in self.order]
        p = self.ts_at
        if isinstance(vals[p], int):
            vals[p] = self._ts(vals[p])
        if self.extras:
            vals[self.extra_pos : self.extra_pos] = self._extra_vals()
        self.w.writerow(vals)
        self.rows += 1

    def write(self, row):
        self._put(row)
        self.valid += 1
        if self.valid == self.force_at or self.rng.random() < self.rate:
            self._put(invalid_row(self.table, self.rng, self.hub.next_fresh(), self.drop))
            self.invalid += 1

    def close(self):
        self.f.close()


def _fresh_person(r):
    return "%064x" % r.getrandbits(256)


def invalid_row(table: str, r: random.Random, n: int, drop: date):
    """A row that breaks FEEDS.md in exactly one field, with fresh ids."""
    ts = U.ts_of(drop, r.randint(9 * 3600, 18 * 3600))
    d = d_add(drop, -r.randint(30, 600)).isoformat()
    bad_dates = ("2025-02-30", "2025-13-05", "2025/03/01", "20250301", "2024-11-31")
    pk = _fresh_person(r)
    if table == "workplaces":
        row = [
            f"0{n:010d}",
            f"8{n:09d}",
            "정정상사",
            _fresh_person(r),
            "서울특별시 중구 세종대로 110",
            "02-120-0000",
            _fresh_person(r),
            "47",
            "11",
            d,
            None,
            ts,
        ]
        fix = r.choice(
            (
                (0, f"8{n:09d}"),
                (0, f"8{n:04d}-{n % 1000000:06d}"),
                (1, f"8{n % 100:02d}-45-{n % 100000:05d}"),
                (3, pk.upper()),
                (9, r.choice(bad_dates)),
                (7, "4A"),
                (6, pk[:40]),
                (11, "2026-03-02 10:00:00"),
            )
        )
    elif table == "employments":
        row = [f"EM{9000000 + n:07d}000", pk, f"0{n:010d}", d, None, None, 2500000, ts]
        fix = r.choice(
            (
                (1, pk[:63]),
                (1, pk.upper()),
                (2, f"8{n:09d}"),
                (3, r.choice(bad_dates)),
                (6, "2,500,000"),
                (0, None),
                (1, None),
            )
        )
        if r.random() < 0.4:
            row[4], row[5] = d_add(drop, -r.randint(1, 20)).isoformat(), "23"
            fix = r.choice((fix, (5, "99"), (5, "2")))
    elif table == "claims":
        row = [f"CL{9000000 + n:07d}00", pk, f"0{n:010d}", "23", d, d, 180, 66000, _fresh_person(r), "APPROVED", ts]
        fix = r.choice(
            (
                (6, 90),
                (6, 300),
                (9, "PENDING"),
                (4, r.choice(bad_dates)),
                (8, pk[:32]),
                (3, "27"),
                (7, "66000.5"),
                (0, None),
                (1, pk.upper()),
            )
        )
    elif table == "certifications":
        row = [f"CT{9000000 + n:07d}00000", f"CL{9000000 + n:07d}00", d, d, d, "ONLINE", "KR", 2, 0, 28, 1848000, ts]
        fix = r.choice(
            ((5, "KIOSK"), (6, "KOR"), (2, r.choice(bad_dates)), (10, "12.5"), (0, None), (11, "2026-03-02T10:00:00"))
        )
        if r.random() < 0.2:
            row[5] = "VISIT"
            fix = (6, "KR")  # ip_country must be null for visits
    elif table == "findings":
        row = [f"FD{9000000 + n:07d}0", pk, f"CL{9000000 + n:07d}00", None, "UNDECLARED_WORK", d, 1200000, "N", ts]
        fix = r.choice(((4, "SUSPECTED"), (7, "M"), (5, r.choice(bad_dates)), (1, pk[:50]), (6, "1e6"), (0, None)))
    elif table == "income":
        row = [f"NT{9000000 + n:07d}00000", pk, f"8{n:09d}", "DAILY_WAGE", d, d, 1, 150000, d, ts]
        fix = r.choice(
            (
                (3, "BONUS"),
                (2, f"8{n % 100:02d}-81-{n % 100000:05d}"),
                (4, r.choice(bad_dates)),
                (7, "150,000"),
                (1, pk.upper()),
                (0, None),
                (6, "1.5"),
            )
        )
    else:
        row = [f"MJ{9000000 + n:07d}0000", pk, ts, "OUT", "ICN", "JP"]
        fix = r.choice(((3, "TRANSIT"), (2, "2026-03-01 10:00"), (5, "KOR"), (1, pk[:10]), (0, None), (4, None)))
    row[fix[0]] = fix[1]
    return tuple(row)


class Hub:
    def __init__(self, ctx, out: Path):
        self.ctx = ctx
        self.out = Path(out)
        self.cp949_index = min(2, ctx.D)
        self.rng = random.Random(f"holdout/{ctx.seed}/emit")
        self.counts = {t: 0 for t in COLUMNS}
        self._fresh = 0
        self.files: dict[tuple, TableFile] = {}
        for k, d in enumerate(ctx.drop_dates):
            for src, tables in SOURCE_TABLES.items():
                for t in tables:
                    self.files[(t, d.toordinal())] = TableFile(self, src, d, t, k)
        self.b_ord = ctx.B.toordinal()
        self.resent = 0

    def next_fresh(self) -> int:
        self._fresh += 1
        return self._fresh

    def _file(self, table, ts):
        day = ts // U.DAY
        return self.files[(table, max(day, self.b_ord))]

    def emit(self, table: str, versions):
        """versions: [(ts, row)] in time order; row's timestamp column holds the int ts."""
        ctx = self.ctx
        vis = [v for v in versions if v[0] < ctx.F_END]
        if not vis:
            return False
        self.counts[table] += 1
        r = self.rng
        base = [v for v in vis if v[0] < ctx.B_END]
        if base:
            if len(base) >= 2 and r.random() < 0.004:  # the baseline carries an older version too
                self._file(table, base[-2][0]).write(base[-2][1])
            self._file(table, base[-1][0]).write(base[-1][1])
        last_day = {}
        for ts, row in vis:
            if ts >= ctx.B_END:
                last_day[ts // U.DAY] = (ts, row)
        for day in sorted(last_day):
            ts, row = last_day[day]
            self._file(table, ts).write(row)
        if table != "crossings" and ctx.D > 0:
            first = max(vis[-1][0] // U.DAY, self.b_ord) + 1
            later = range(first, ctx.F.toordinal() + 1)
            if later and r.random() < 0.0015:  # re-sent unchanged with a newer updated_at
                d = r.choice(later)
                ts = d * U.DAY + r.randint(1 * 3600, 6 * 3600)
                row = list(vis[-1][1])
                row[TS_COL[table]] = ts
                self.files[(table, d)].write(tuple(row))
                self.resent += 1
            elif later and len(vis) >= 2 and r.random() < 0.0015:  # a stale version re-sent late (it must lose)
                d = r.choice(later)
                self.files[(table, d)].write(vis[-2][1])
                self.resent += 1
        return True

    # ------------------------------------------------------------- persons
    def emit_life(self, life):
        key = life.key
        r = life.rng
        for s in life.spells:
            if s.eid is None:
                continue
            ta = U.ts_of(d_add(s.acq, s.lag_a), U.work_sec(r, 8, 19))
            opened = (s.eid, key, s.wp.wid, s.acq.isoformat(), None, None, s.wage, ta)
            if s.lost is None:
                self.emit("employments", [(ta, opened)])
                continue
            tl = U.ts_of(d_add(s.lost, s.lag_l), U.work_sec(r, 8, 19))
            closed = (s.eid, key, s.wp.wid, s.acq.isoformat(), s.lost.isoformat(), s.code, s.wage, tl)
            self.emit("employments", [(ta, opened), (tl, closed)] if ta < tl else [(tl, closed)])
        for c in life.claims:
            ev = [(U.ts_of(c.filed, c.sec), "FILED")]
            if not c.rejected:
                ev.append((U.ts_of(c.appr, U.work_sec(r, 9, 18)), "APPROVED"))
            if c.end is not None:
                ev.append((U.ts_of(c.end[1], U.work_sec(r, 9, 18)) + 1, c.end[0]))
            ev.sort()
            head = (c.cid, key, c.wp.wid, c.code, c.filed.isoformat(), c.eligible.isoformat(), c.bdays, c.daily, c.acct)
            self.emit("claims", [(ts, head + (st, ts)) for ts, st in ev])
            for x in c.certs:
                ts = U.ts_of(x.cert_on, x.sec)
                self.emit(
                    "certifications",
                    [
                        (
                            ts,
                            (
                                x.cid,
                                c.cid,
                                x.cert_on.isoformat(),
                                x.pf.isoformat(),
                                x.pt.isoformat(),
                                x.channel,
                                x.ip,
                                x.jsc,
                                x.declared,
                                x.paid_days,
                                x.paid,
                                ts,
                            ),
                        )
                    ],
                )
        for f in life.findings:
            ts = U.ts_of(f.decided, U.work_sec(r, 10, 18))
            self.emit(
                "findings",
                [
                    (
                        ts,
                        (
                            f.fid,
                            key,
                            f.claim.cid,
                            f.wp.wid if f.wp else None,
                            f.ftype,
                            f.decided.isoformat(),
                            f.amount,
                            f.collusion,
                            ts,
                        ),
                    )
                ],
            )
        for s in life.stmts:
            ts = U.ts_of(s.filed, s.sec)
            self.emit(
                "income",
                [
                    (
                        ts,
                        (
                            s.rid,
                            key,
                            s.payer,
                            s.itype,
                            s.wf.isoformat(),
                            s.wt.isoformat(),
                            s.wd,
                            s.amount,
                            s.filed.isoformat(),
                            ts,
                        ),
                    )
                ],
            )
        for x in life.cross:
            if not x.hidden:
                self.emit("crossings", [(x.ts, (x.xid, key, x.ts, x.dir, x.port, x.country))])

    def emit_workplaces(self):
        ctx = self.ctx
        r = random.Random(f"holdout/{ctx.seed}/workplaces")
        for w in ctx.workplaces:
            if w.closed is not None and w.closed < ctx.EMP_START:
                continue
            t0 = U.ts_of(max(w.opened, d_add(ctx.EMP_START, -1)), r.randint(9 * 3600, 12 * 3600))
            addr, phone = w.addr, w.phone
            vers = [(t0, w.row(addr, phone, None, t0))]
            for day, a, p in sorted(w.changes):
                ts = U.ts_of(day, r.randint(12 * 3600, 18 * 3600))
                if ts > vers[-1][0]:
                    addr, phone = a, p
                    vers.append((ts, w.row(addr, phone, None, ts)))
            if w.closed is not None:
                ts = max(U.ts_of(d_add(w.closed, r.randint(1, 15)), r.randint(9 * 3600, 18 * 3600)), vers[-1][0] + 60)
                vers.append((ts, w.row(addr, phone, w.closed, ts)))
            self.emit("workplaces", vers)

    # -------------------------------------------------------------- finish
    def close(self) -> dict:
        quarantine = {}
        manifests = {}
        for (table, o), tf in self.files.items():
            tf.close()
            src = SOURCE_OF[table]
            m = manifests.setdefault(
                (src, tf.drop), {"source": src, "drop_date": tf.drop.isoformat(), "encoding": "utf-8", "tables": {}}
            )
            if tf.encoding == "cp949":
                m["encoding"] = "cp949"
            name = f"{table}.csv"
            if tf.rows == 0 and not tf.baseline:
                x = tf.rng.random()
                if x < 0.4:
                    tf.path.unlink()
                    continue
                if x < 0.7:
                    tf.path.unlink()
                    m["tables"][name] = {"rows": 0}
                    continue
            m["tables"][name] = {"rows": tf.rows, "sha256": _sha(tf.path)}
            quarantine[f"{src}/{tf.drop.isoformat()}/{table}"] = tf.invalid
        for (src, d), m in sorted(manifests.items()):
            p = self.out / src / d.isoformat()
            p.mkdir(parents=True, exist_ok=True)
            m["tables"] = dict(sorted(m["tables"].items()))
            (p / "_MANIFEST.json").write_text(json.dumps(m, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return dict(sorted(quarantine.items()))


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
