"""Publish: the run manifest an auditor needs to re-run a night and compare.

Written last, into outputs/<ds>/run_manifest.json: the run date, the code, rules,
model and validator versions, the configuration, every drop dated on or before the
run date with its per-table counts (rows_in = valid + quarantined), the span each
feed covers (`coverage`), and the sha256 of every output file. It holds no wall-clock
time, so a re-run writes the same bytes.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from fraud.layout import MANIFEST_NAME, Layout
from fraud.storage import ensure_dir, read_json, sha256_file, write_json
from fraud.validation import VALIDATOR_VERSION
from fraud.version import lock_digest
from jobs.conform import coverage_of
from jobs.ingest import READER_VERSION
from jobs.stage_io import Night, PublishInputs, PublishResult

log = logging.getLogger(__name__)


class PublishError(Exception):
    """The run cannot vouch for its outputs (a drop with no validation state, counts
    that do not add up)."""


def drop_entries(layout: Layout, drops: list[dict]) -> list[dict]:
    entries = []
    for drop in drops:
        day = date.fromisoformat(drop["drop_date"])
        state_path = layout.drop_state(drop["source"], day)
        if not state_path.exists():
            raise PublishError(f"{drop['source']}/{drop['drop_date']}: no validation state")
        state = read_json(state_path)
        if state["manifest_sha256"] != drop["manifest_sha256"]:
            raise PublishError(f"{drop['source']}/{drop['drop_date']}: validated delivery differs from the one on disk")
        tables = {}
        for name, counts in sorted(state["tables"].items()):
            if counts["valid"] + counts["quarantined"] != counts["rows_in"]:
                raise PublishError(f"{drop['source']}/{drop['drop_date']}/{name}: counts do not add up")
            quarantine = layout.quarantine_file(drop["source"], day, name)
            delivered_sha = (drop.get("files") or {}).get(f"{name}.csv")
            tables[name] = {
                "rows_in": counts["rows_in"],
                "valid": counts["valid"],
                "quarantined": counts["quarantined"],
                "rejected": counts["rejected"],
                "quarantine_file": str(quarantine.relative_to(layout.root)) if counts["quarantined"] else None,
                "expectations": counts["expectations"],
                # Lineage (additive): the delivered file's sha256 as its drop manifest
                # gave it, and the quarantine file's own sha256 and row count.
                "file_sha256": delivered_sha,
                "quarantine_rows": counts["quarantined"],
                "quarantine_sha256": sha256_file(quarantine) if counts["quarantined"] else None,
            }
        entries.append(
            {
                "source": drop["source"],
                "drop_date": drop["drop_date"],
                "manifest_sha256": drop["manifest_sha256"],
                "encoding": state["encoding"],
                "tables": tables,
            }
        )
    return entries


def lineage(code_version: str, inputs: PublishInputs) -> dict:
    """What produced the outputs, beside the OUTPUTS.md fields: the package version and
    git commit of the code, the rule set, the model, the stages in order, the sha256 of
    the environment's lock file. (Why the
    model was chosen is in runs/<ds>/select_model.json: it differs on a re-run, which
    pins the model, and the manifest must not.) With `drops` (files, quarantine) it answers which drops, which rows
    quarantined, which code, rules and model produced a case."""
    package, _, local = code_version.partition("+")
    commit = local[1:].split(".")[0] if local.startswith("g") else None
    return {
        "package_version": package,
        "git_commit": commit,
        "code_modified": local.endswith(".dirty"),
        "rules_version": inputs.rules_version,
        "model_version": inputs.model_version,
        "stages": list(inputs.stages),
        # The installed environment (requirements.lock): a re-run reproduces the
        # outputs only with the same library versions.
        "environment_lock_sha256": lock_digest(),
    }


def output_checksums(outputs: Path) -> dict[str, str]:
    return {
        path.name: sha256_file(path)
        for path in sorted(outputs.iterdir())
        if path.is_file() and path.name != MANIFEST_NAME and not path.name.startswith(".")
    }


def run(spark, inputs: PublishInputs, night: Night) -> PublishResult:
    """Write outputs/<ds>/run_manifest.json: the drops, counts, versions, spans and
    checksums of the night's outputs."""
    ds = night.ds
    layout = Layout(night.warehouse)
    outputs = ensure_dir(layout.outputs(ds))
    drops = drop_entries(layout, inputs.drops)
    totals = {
        key: sum(t[key] for d in drops for t in d["tables"].values()) for key in ("rows_in", "valid", "quarantined")
    }
    manifest = {
        "ds": ds.isoformat(),
        "code_version": night.code_version,
        "rules_version": inputs.rules_version,
        "model_version": inputs.model_version,
        "reader_version": READER_VERSION,
        "validator_version": VALIDATOR_VERSION,
        "configuration": dict(night.configuration),
        "drops": drops,
        "totals": totals,
        "conformed_rows": inputs.conformed_rows,
        # The span each feed covers, measured from its records (features/coverage.py):
        # a feed's silence is evidence only inside it.
        "coverage": coverage_of(Path(inputs.conformed)) if inputs.conformed else {},
        "detections": inputs.detections,
        # Investigators' dispositions the queue applied (recorded on or before ds).
        "dispositions": inputs.dispositions,
        # The control sample, the queue's precision and the fairness flags
        # (jobs/safeguards.py); absent when the stage did not run.
        **({"safeguards": inputs.safeguards} if inputs.safeguards is not None else {}),
        "outputs": output_checksums(outputs),
        "lineage": lineage(night.code_version or "", inputs),
    }
    write_json(outputs / MANIFEST_NAME, manifest)
    log.info(
        "published %s: %d drops, %d rows in, %d quarantined",
        outputs / MANIFEST_NAME,
        len(drops),
        totals["rows_in"],
        totals["quarantined"],
    )
    return PublishResult(
        ds=ds.isoformat(),
        outputs=str(outputs),
        manifest=str(outputs / MANIFEST_NAME),
        totals=totals,
        detections=manifest["detections"],
    )
