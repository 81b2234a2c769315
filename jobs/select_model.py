"""Select the scoring model of a night: the version pinned by an earlier run of the
same date, else the registry's champion, else none (rules alone).

An auditor's re-run of an old night must rank with the model that night used: its
outputs/<ds>/run_manifest.json records `model_version` (jobs/publish.py), and that
version is used again even after a newer champion was promoted; a night that ran on
the rules alone (`model_version` null) runs on the rules alone again. A warehouse that
never trained a model has no registry; then nothing is opened or created (no
<warehouse>/mlflow) and the queue is the rules' alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from fraud.layout import MANIFEST_NAME, Layout
from fraud.storage import read_json
from jobs.stage_io import Night, SelectModelInputs, SelectModelResult

log = logging.getLogger(__name__)

PINNED = "pinned by the run manifest"
CHAMPION = "the registry's champion"
NO_MODEL = "no model registered"


def pinned_version(warehouse: Path, ds: dt.date) -> tuple[bool, str | None]:
    """Whether an earlier run of `ds` recorded its model, and the version it recorded:
    None when that night ran on the rules alone, which a re-run must do again."""
    manifest = Layout(warehouse).outputs(ds) / MANIFEST_NAME
    if not manifest.exists():
        return False, None
    version = read_json(manifest).get("model_version")
    return True, (str(version) if version is not None else None)


def champion_version(warehouse: Path, tracking_uri: str | None = None) -> str | None:
    """The registry's champion; None when there is no registry or no champion."""
    from models.registry import existing_registry

    registry = existing_registry(warehouse, tracking_uri)
    return None if registry is None else registry.champion_version()


def run(spark, inputs: SelectModelInputs, night: Night) -> SelectModelResult:
    """The version to score the night with, or None, and why."""
    is_pinned, version = pinned_version(night.warehouse, night.ds)
    chosen_by = PINNED
    if not is_pinned:
        version = champion_version(night.warehouse, night.tracking_uri)
        chosen_by = CHAMPION if version is not None else NO_MODEL
    log.info("model for %s: %s (%s)", night.ds, version or "none", chosen_by)
    return SelectModelResult(model_version=version, chosen_by=chosen_by)
