"""python -m simulation.holdout --out DIR --persons N --seed S --baseline YYYY-MM-DD --days D"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import date
from pathlib import Path

from . import generate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulation.holdout", description=__doc__)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--baseline", type=date.fromisoformat, default=date(2026, 3, 2))
    ap.add_argument("--days", type=int, default=5)
    a = ap.parse_args(argv)
    t = generate(a.out, a.persons, a.seed, a.baseline, a.days)
    cur = Counter(x for p in t["planted"] if not p["past"] for x in p["typologies"])
    print(f"wrote {a.out}: drops {t['drop_dates'][0]}..{t['final_date']}; records {t['counts']}")
    print(
        f"planted current {sum(1 for p in t['planted'] if not p['past'])} {dict(cur)}; "
        f"past {sum(1 for p in t['planted'] if p['past'])}; rings {len(t['rings'])}; "
        f"look-alikes {len(t['lookalikes'])}; invalid rows {sum(t['quarantine_expected'].values())}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
