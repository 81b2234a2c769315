"""How long a warehouse keeps each night's working state (`fraudctl prune`).

Every night writes its conformed tables (`conformed/<ds>/`, the base the next night
builds on: a layer of the records it changed over hard links to the night before's
files, or a whole copy when it compacts, fraud/layers.py) and the graph and evidence
state of its collusion and cross-matching stages (`runs/<ds>/collusion/`,
`runs/<ds>/crossmatch/`). A night only ever builds on the latest earlier one, so older
nights just take disk: at 100,000 persons a night's state is about half a gigabyte,
and it grows with the history. The size printed for a directory counts only the files
no other night links to (what deleting it frees).

`prune` deletes that state for every night but the newest `keep`. It keeps what
investigators, auditors and other systems read: the drops (`landed/`, `validated/`,
`state/`), `quarantine/`, `outputs/<ds>/` with the run manifest, the stage results
`runs/<ds>/*.json` and the data docs. A pruned night can still be verified
(`fraudctl verify` re-runs it from its drops in a scratch warehouse), and a run whose
base night was pruned builds on the latest kept one or on the validated rows
(jobs/conform.py:incremental_base), with the same outputs either way.

A directory is first renamed out of the way, in one step, and then deleted: a prune
that is killed never leaves a half-deleted night that looks like a base. The old
version a killed swap left beside a pruned directory (`.<name>.previous-*`, which
`storage.recover` would put back) goes with it. Prune holds the nights lock
exclusively (jobs/pipeline.py:nights_lock), which every stage reading conformed
tables or a base night's state, and the training job, hold shared while they run:
it waits for them, and they wait for it. Between two stages of a run it may delete
the run's base night (with a small `keep`); the next stage then finds no state to
build on and computes everything, with the same outputs.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fraud.layout import Layout
from fraud.storage import set_aside

PRUNED = ".pruned-"  # a directory being deleted: `.<name>.pruned-<id>`


@dataclass(frozen=True)
class Pruned:
    night: date | None  # None: a leftover of a prune that was killed
    path: Path
    bytes: int


def nights(layout: Layout) -> list[date]:
    """The run dates with working state (conformed tables or stage state), oldest first."""
    found = set()
    for pattern in ("conformed/????-??-??", "runs/????-??-??/collusion", "runs/????-??-??/crossmatch"):
        for path in layout.root.glob(pattern):
            name = path.name if path.parent.name == "conformed" else path.parent.name
            try:
                found.add(date.fromisoformat(name))
            except ValueError:
                continue
    return sorted(found)


def working_state(layout: Layout, night: date) -> list[Path]:
    """A night's working state, with any old version a killed swap left beside it."""
    paths = [layout.conformed(night), layout.collusion(night), layout.crossmatch(night)]
    return paths + [aside for path in paths for aside in set_aside(path)]


def prune(layout: Layout, keep: int, dry_run: bool = False) -> list[Pruned]:
    """Delete the working state of every night but the newest `keep` (and what an
    interrupted prune left). Returns what was (with `dry_run`: would be) deleted."""
    from jobs.pipeline import nights_lock

    if keep < 1:
        raise ValueError(f"keep must be at least 1 (the next night builds on the newest), not {keep}")
    with nights_lock(layout, shared=False):
        leftovers = [Pruned(None, path, _size(path)) for path in _leftovers(layout)]
        old = [Pruned(night, path, _size(path)) for night in nights(layout)[:-keep]
               for path in working_state(layout, night) if path.exists()]
        if not dry_run:
            for item in leftovers:
                shutil.rmtree(item.path)
            for item in old:
                aside = item.path.with_name(f".{item.path.name}{PRUNED}{uuid.uuid4().hex[:8]}")
                os.replace(item.path, aside)
                shutil.rmtree(aside)
    return leftovers + old


def _leftovers(layout: Layout) -> list[Path]:
    return sorted([*layout.root.glob(f"conformed/.*{PRUNED}*"), *layout.root.glob(f"runs/*/.*{PRUNED}*")])


def _size(path: Path) -> int:
    """Bytes deleting `path` frees: files another night also links to stay."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(directory, name))
            except FileNotFoundError:
                continue
            if info.st_nlink == 1:
                total += info.st_size
    return total
