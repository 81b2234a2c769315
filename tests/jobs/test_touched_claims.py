"""jobs/collusion.py:spells_reach: a changed spell at a workplace makes a nightly run
recompute only the claims there whose layoff counts it can change, and those filed
while the workplace was young. Checked against the feature itself on seeded worlds:
every claim whose layoffs_while_hiring row the spell changes must be picked."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from features.collusion_evidence import YOUNG_WORKPLACE_DAYS, layoffs_while_hiring
from jobs.changes import NightChanges
from jobs.collusion import spells_reach

DAY = dt.timedelta(days=1)
EMPLOYMENTS = "employment_id string, workplace_id string, acquired_on date, lost_on date, separation_code string"
SPELL = "workplace_id string, acquired_on date, lost_on date"


def _spell(rng, employment_id, workplace):
    acquired = dt.date(2015, 1, 1) + rng.randrange(4000) * DAY
    lost = None if rng.random() < 0.25 else acquired + rng.randrange(30, 1500) * DAY
    code = rng.choice(["23", "23", "11", "26"]) if lost else None
    return (employment_id, workplace, acquired, lost, code)


def _world(seed):
    """One workplace's world, its ids prefixed with the seed: claims (claim_id,
    workplace_id), their base-night rows (claim_id, spell_to, workplace_age_days), the
    base night's spells, the night's changed spell and the version it replaces."""
    rng = random.Random(seed)
    w1, w2 = f"s{seed}W1", f"s{seed}W2"
    claims, before = [], []
    for c in range(40):
        workplace = rng.choice([w1, w1, w1, w2])
        spell_to = dt.date(2016, 1, 1) + rng.randrange(3700) * DAY
        age = rng.choice([100, 300, 800, 2000, 4000, None])
        claims.append((f"s{seed}c{c}", workplace))
        before.append((f"s{seed}c{c}", spell_to, age))
    employments = [_spell(rng, f"s{seed}e{n}", rng.choice([w1, w2])) for n in range(60)]
    # A layoff near a claim at W1, so that the night moves some claim's counts.
    near = rng.choice([s for (c, w), (_, s, _) in zip(claims, before) if w == w1])
    lost = near + rng.randrange(-100, 100) * DAY
    # Even seeds: a new version of a spell the base night held (its separation
    # recorded); odd seeds: a new spell.
    held = [e for e in employments if e[1] == w1 and e[2] <= lost]  # a spell ends after it starts
    if seed % 2 == 0 and held:
        previous = rng.choice(held)
        return claims, before, employments, (previous[0], w1, previous[2], lost, "23"), previous
    return claims, before, employments, (f"s{seed}e999", w1, lost - rng.randrange(30, 400) * DAY, lost, "23"), None


def _layoff_rows(spark, claims, before, employments, covered_from):
    spells = spark.createDataFrame([(c, s) for c, s, _ in before], "claim_id string, spell_to date")
    of_claims = spark.createDataFrame(claims, "claim_id string, workplace_id string")
    frame = spark.createDataFrame(employments, EMPLOYMENTS)
    return {
        row["claim_id"]: row.asDict() for row in layoffs_while_hiring(spells, of_claims, frame, covered_from).collect()
    }


SEEDS = range(16)


@pytest.mark.parametrize("covered_from", [None, dt.date(2019, 6, 1)])
def test_every_claim_whose_layoff_counts_a_changed_spell_moves_is_picked(spark, covered_from):
    worlds = [_world(seed) for seed in SEEDS]
    assert any(previous for *_, previous in worlds) and not all(previous for *_, previous in worlds)
    claims = [c for world in worlds for c in world[0]]
    before = [b for world in worlds for b in world[1]]
    base = [e for world in worlds for e in world[2]]
    replaced = {previous[0] for *_, previous in worlds if previous}
    night = [e for e in base if e[0] not in replaced] + [changed for *_, changed, _ in worlds]
    was = _layoff_rows(spark, claims, before, base, covered_from)
    now = _layoff_rows(spark, claims, before, night, covered_from)
    moved = {c for c in set(was) | set(now) if was.get(c) != now.get(c)}

    changes = NightChanges(
        dt.date(2026, 3, 6),
        {"employments": spark.createDataFrame([changed[1:4] for *_, changed, _ in worlds], SPELL)},
        {"employments": spark.createDataFrame([previous[1:4] for *_, previous in worlds if previous], SPELL)},
    )
    changed_workplaces = [(f"s{seed}W1",) for seed in SEEDS]
    picked = {
        row["claim_id"]
        for row in spells_reach(
            spark.createDataFrame(claims, "claim_id string, workplace_id string"),
            changes,
            spark.createDataFrame(before, "claim_id string, spell_to date, workplace_age_days int"),
            spark.createDataFrame(changed_workplaces, "workplace_id string"),
        ).collect()
    }
    for seed in SEEDS:
        at_w1 = {c for c, w in claims if w == f"s{seed}W1"}
        young = {c for c, _, age in before if age is not None and age <= YOUNG_WORKPLACE_DAYS}
        mine = {c for c in picked if c.startswith(f"s{seed}c")}
        assert moved & at_w1, f"seed {seed}: the night must move some claim's counts"
        assert moved & at_w1 <= mine, (seed, sorted(moved & at_w1 - mine))
        assert mine <= at_w1, seed  # never a claim at a workplace without a changed spell
        assert at_w1 & young <= mine, seed  # its people counted: every young claim there
    assert moved <= picked  # nothing moved at a workplace whose spells did not change
    # The rule must leave work out: most worlds hold claims at W1 the spell cannot reach.
    unreached = [seed for seed in SEEDS if {c for c, w in claims if w == f"s{seed}W1"} - picked]
    assert len(unreached) > len(SEEDS) / 2, unreached
