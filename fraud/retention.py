"""How long a warehouse keeps each night's working state (`fraudctl prune`).

Every night writes its conformed tables (`conformed/<ds>/`, the base the next night
builds on: a layer of the records it changed over hard links to the night before's
files, or a whole copy when it compacts, fraud/layers.py) and the graph and evidence
state of its collusion and cross-matching stages (`runs/<ds>/collusion/`,
`runs/<ds>/crossmatch/`). A night only ever builds on the latest earlier one, so older
nights just take disk: at 300,000 persons a full night's conformed tables are about
half a gigabyte, and they grow with the history. The size printed for a directory counts only the files
no kept night links to (what deleting it frees).

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
exclusively (fraud/locks.py:nights_lock), which every stage reading conformed
tables or a base night's state, and the training job, hold shared while they run:
it waits for them, and they wait for it. Between two stages of a run it may delete
the run's base night (with a small `keep`); the next stage then finds no state to
build on and computes everything, with the same outputs.

"Newest" counts only nights dated on or before today in Seoul: a night dated later
(a mistyped `--ds`, run with `--no-require-drops`) is neither deleted nor counted, so
it cannot push a real night out. `fraudctl prune` names it.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fraud import contract
from fraud.config import Settings
from fraud.layout import Layout
from fraud.locks import nights_lock
from fraud.storage import set_aside

log = logging.getLogger(__name__)

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


def today() -> date:
    """Today in Seoul (the agencies' and the run dates' time zone)."""
    return datetime.now(ZoneInfo(contract.TIMEZONE)).date()


def future_nights(layout: Layout, as_of: date | None = None) -> list[date]:
    """The nights dated after `as_of` (default: today in Seoul), which prune leaves alone."""
    as_of = as_of or today()
    return [night for night in nights(layout) if night > as_of]


def prune(layout: Layout, keep: int, dry_run: bool = False, as_of: date | None = None) -> list[Pruned]:
    """Delete the working state of every night dated on or before `as_of` (default:
    today in Seoul) but the newest `keep` of them, and what an interrupted prune left.
    Returns what was (with `dry_run`: would be) deleted."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (the next night builds on the newest), not {keep}")
    as_of = as_of or today()
    with nights_lock(layout, shared=False):
        found = [(None, path) for path in _leftovers(layout)]
        past = [night for night in nights(layout) if night <= as_of]
        found += [(night, path) for night in past[:-keep] for path in working_state(layout, night) if path.exists()]
        sizes = _freed([path for _, path in found])
        pruned = [Pruned(night, path, size) for (night, path), size in zip(found, sizes)]
        leftovers = [item for item in pruned if item.night is None]
        old = [item for item in pruned if item.night is not None]
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


def _freed(paths: list[Path]) -> list[int]:
    """Per path, the bytes that deleting all of `paths` frees, counting each file once
    (for the first path holding it) and only when every link to it is among them: a
    file a kept night links to stays (fraud/layers.py)."""
    files = {}  # (device, inode) -> [size, links among paths, links in all, first path]
    for index, path in enumerate(paths):
        for directory, _, names in os.walk(path):
            for name in names:
                try:
                    info = os.lstat(os.path.join(directory, name))
                except FileNotFoundError:
                    continue
                entry = files.setdefault((info.st_dev, info.st_ino), [info.st_size, 0, info.st_nlink, index])
                entry[1] += 1
    sizes = [0] * len(paths)
    for size, found, links, index in files.values():
        if found >= links:
            sizes[index] += size
    return sizes


def run_for_airflow(context: dict) -> dict:
    """The fraud_retention DAG's one call, after a night has published: prune
    FRAUD_WAREHOUSE to its newest FRAUD_RETENTION_KEEP nights. Logs the nights whose
    events triggered it (their date and run manifest sha256)."""
    for asset, events in (context.get("triggering_asset_events") or {}).items():
        for event in events:
            extra = event.extra or {}
            log.info(
                "after %s: night %s, run manifest sha256 %s",
                getattr(asset, "uri", asset),
                extra.get("ds"),
                extra.get("manifest_sha256"),
            )
    settings = Settings.from_env()
    removed = prune(Layout(settings.warehouse), settings.retention_keep)
    for item in removed:
        log.info("deleted %s (%s, %.1f MiB)", item.path, item.night or "interrupted prune", item.bytes / 2**20)
    return {
        "kept": settings.retention_keep,
        "deleted": [str(item.path) for item in removed],
        "freed_bytes": sum(item.bytes for item in removed),
    }
