"""Holdout world: an independent synthetic landing directory (ei, nts, moj
feeds per FEEDS.md) with planted fraud, honest look-alikes and a truth file.

    generate(out, persons, seed, baseline, days) -> truth dict
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from .episodes import Allocator
from .fraud import plan_fraud
from .life import Life
from .lookalikes import plan_lookalikes
from .truth import person_truth
from .world import Ctx
from .writer import SOURCE_TABLES, Hub

__all__ = ["generate"]


def build_life(ctx, i: int) -> Life:
    life = Life(ctx, i)
    for fn, kw in ctx.plans.get(i, ()):
        fn(life, **kw)
    life.fill_generic()
    life.generic_claims()
    life.spell_income()
    life.side_income()
    life.generic_trips()
    life.finalize_ids()
    return life


def generate(out: Path, persons: int, seed: int, baseline: date, days: int) -> dict:
    out = Path(out)
    if isinstance(baseline, str):
        baseline = date.fromisoformat(baseline)
    for sub in list(SOURCE_TABLES) + ["_truth"]:  # a clean landing directory, same bytes every time
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    out.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(int(seed), int(persons), baseline, int(days))
    alloc = Allocator(ctx)
    plan_fraud(ctx, alloc)
    plan_lookalikes(ctx, alloc)
    hub = Hub(ctx, out)
    for i in range(ctx.N):
        life = build_life(ctx, i)
        person_truth(life)
        hub.emit_life(life)
    hub.emit_workplaces()
    quarantine = hub.close()

    planted = sorted(ctx.planted, key=lambda p: p["claim_id"])
    rings = []
    for ring in ctx.rings:
        mine = [p for p in planted if p["ring_id"] == ring["ring_id"]]
        rings.append(
            {
                "ring_id": ring["ring_id"],
                "workplace_ids": ring["workplace_ids"],
                "person_keys": sorted({p["person_key"] for p in mine}),
                "claim_ids": sorted(p["claim_id"] for p in mine),
            }
        )
    truth = {
        "generator": "holdout",
        "seed": ctx.seed,
        "persons": ctx.N,
        "baseline": ctx.B.isoformat(),
        "final_date": ctx.F.isoformat(),
        "drop_dates": [d.isoformat() for d in ctx.drop_dates],
        "planted": planted,
        "lookalikes": sorted(ctx.lookalikes, key=lambda x: x["claim_id"]),
        "rings": rings,
        "repeat_offenders": sorted(ctx.repeat, key=lambda x: (x["person_key"], x["open_claim_id"])),
        "closures": sorted(ctx.closures),
        "quarantine_expected": quarantine,
        "counts": dict(sorted(hub.counts.items())),
        "unevidenced": [],
    }
    (out / "_truth").mkdir(parents=True, exist_ok=True)
    (out / "_truth" / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth
