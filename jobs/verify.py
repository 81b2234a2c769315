"""Verify: re-run a past night from the drops and the rule set and model its run
manifest names, into a scratch warehouse, and compare every output with the checksums
the manifest recorded (`fraudctl verify`).

What the re-run uses, and why:
- Only the drops listed in the manifest, each checked first against its recorded
  `manifest_sha256` and per-file sha256: a drop altered since (or missing) is named
  and nothing is re-run. A drop dated on or before the night that landed after it ran
  (a late drop) is not in the manifest and is left out, so the night is reproduced as
  it was; `fraudctl run` for that date would include it (FEEDS.md).
- The rule set of this code, which must be the manifest's `rules_version` (else it
  stops: check out the manifest's `code_version`).
- The manifest's `model_version`, from the same registry (the original manifest is
  copied into the scratch outputs so that jobs/select_model.py pins it).
- The manifest's configuration.
- The same pipeline code as `fraudctl run` (jobs/pipeline.run_all).

The real warehouse is only read. The scratch warehouse lives under
`<warehouse>/tmp/verify-<ds>-<id>/` (owner and group only; it holds personal data)
and is deleted afterwards unless kept.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from fraud import dispositions, version
from fraud.config import Settings
from fraud.landing import DropError, delivered_sha256, landing_root, read_drop, verify_files, visible_drop_dirs
from fraud.layout import MANIFEST_NAME, Layout
from fraud.storage import ensure_dir, no_csv_field_limit, read_json, sha256_file
from fraud.validation import VALIDATOR_VERSION
from jobs.ingest import READER_VERSION
from rules.ruleset import RULES_VERSION

log = logging.getLogger(__name__)

# How many differing rows of a CSV to show per kind (added, removed, changed).
SHOW_ROWS = 3
# Manifest fields (besides `outputs`) a faithful re-run reproduces exactly.
COMPARED_FIELDS = (
    "rules_version",
    "model_version",
    "reader_version",
    "validator_version",
    "totals",
    "conformed_rows",
    "coverage",
    "detections",
    "dispositions",
)


class VerifyError(Exception):
    """The night cannot be re-run as it was (no manifest, another rule set, reader or
    validator, no landing). One line."""


@dataclass
class Report:
    ds: str
    altered_drops: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    compared: int = 0

    @property
    def ok(self) -> bool:
        return not self.altered_drops and not self.differences

    def lines(self) -> list[str]:
        out = [f"note: {note}" for note in self.notes]
        out += [f"ALTERED DROP {line}" for line in self.altered_drops]
        out += [f"DIFFERS {line}" for line in self.differences]
        if self.ok:
            out.append(f"verified {self.ds}: all {self.compared} output(s) match the run manifest")
        elif self.altered_drops:
            out.append(f"NOT verified {self.ds}: {len(self.altered_drops)} input drop problem(s); nothing re-run")
        else:
            out.append(f"NOT verified {self.ds}: {len(self.differences)} difference(s)")
        return out


def check_drops(manifest: dict, landing: Path) -> list[str]:
    """Each drop the manifest lists, as it is in `landing` now: one line per drop that
    is missing or no longer what the run read (naming the file when it can). Files are
    read only as regular files inside the landing (fraud/landing.py:open_delivered)."""
    problems = []
    root = landing_root(landing)
    for entry in manifest["drops"]:
        label = f"{entry['source']}/{entry['drop_date']}"
        path = landing / entry["source"] / entry["drop_date"]
        manifest_file = path / "_MANIFEST.json"
        if not manifest_file.exists():
            problems.append(f"{label}: missing from {landing}")
            continue
        recorded_files = {f"{name}.csv": t.get("file_sha256") for name, t in entry["tables"].items()}
        changed_files = []
        try:
            actual = delivered_sha256(manifest_file, root, f"{label}/_MANIFEST.json")
            for file_name, recorded in sorted(recorded_files.items()):
                if recorded is None:
                    continue
                if not os.path.lexists(path / file_name):
                    changed_files.append(f"{file_name} missing")
                    continue
                digest = delivered_sha256(path / file_name, root, f"{label}/{file_name}")
                if digest != recorded:
                    changed_files.append(f"{file_name} sha256 {digest[:12]}… (the run read {recorded[:12]}…)")
        except DropError as error:
            problems.append(str(error))
            continue
        if actual != entry["manifest_sha256"]:
            detail = "; ".join(changed_files) or "its file checksums are those the run read"
            problems.append(
                f"{label}/_MANIFEST.json: sha256 {actual[:12]}… differs from the run's "
                f"{entry['manifest_sha256'][:12]}… ({detail})"
            )
            continue
        try:
            verify_files(read_drop(entry["source"], date.fromisoformat(entry["drop_date"]), path, root))
        except DropError as error:
            problems.append(str(error))
            continue
        problems.extend(f"{label}/{line}" for line in changed_files)
    return problems


def late_drops(manifest: dict, landing: Path, ds: date) -> list[str]:
    """Complete drops dated on or before `ds` that the run did not see (they landed
    after it ran)."""
    used = {(d["source"], d["drop_date"]) for d in manifest["drops"]}
    return [
        f"{source}/{day.isoformat()}"
        for source, day, _ in visible_drop_dirs(landing, ds)
        if (source, day.isoformat()) not in used
    ]


def _csv_rows(path: Path) -> list[tuple[str, ...]]:
    with no_csv_field_limit(), open(path, newline="", encoding="utf-8") as handle:
        return [tuple(row) for row in csv.reader(handle)]


def csv_diff(recorded: Path, rerun: Path) -> list[str]:
    """Rows added, removed and changed (same first column, other values) between two
    CSVs with a header, a few of each."""
    before, after = _csv_rows(recorded), _csv_rows(rerun)
    if not before or not after:
        return [f"one file is empty ({len(before)} vs {len(after)} lines)"]
    if before[0] != after[0]:
        return [f"header {','.join(before[0])} -> {','.join(after[0])}"]
    header = before[0]
    old = {row[0]: row for row in before[1:]}
    new = {row[0]: row for row in after[1:]}
    removed = [key for key in old if key not in new]
    added = [key for key in new if key not in old]
    changed = [key for key in old if key in new and old[key] != new[key]]
    lines = [
        f"rows {len(before) - 1} -> {len(after) - 1}: {len(added)} added, {len(removed)} removed, "
        f"{len(changed)} changed"
    ]
    for key in removed[:SHOW_ROWS]:
        lines.append(f"  - {header[0]}={key}")
    for key in added[:SHOW_ROWS]:
        lines.append(f"  + {header[0]}={key}")
    for key in changed[:SHOW_ROWS]:
        cells = [f"{name}: {a!r} -> {b!r}" for name, a, b in zip(header, old[key], new[key]) if a != b]
        lines.append(f"  ~ {header[0]}={key}: {'; '.join(cells)}")
    if not (added or removed or changed):
        lines.append("  same rows in another order")
    return lines


def _rerun_settings(manifest: dict, landing: Path, warehouse: Path, landing_root: Path) -> Settings:
    recorded = manifest.get("configuration") or {}
    known = {f.name for f in dataclasses.fields(Settings)}
    overrides = {key: value for key, value in recorded.items() if key in known}
    # Only the manifest's drops are in the scratch landing: nothing to wait for. They are
    # links to the real landing's drops, which is where their files must lie.
    overrides.update(
        landing=landing,
        landing_root=landing_root,
        warehouse=warehouse,
        require_drops_for_ds=False,
        drop_wait_timeout_seconds=0,
    )
    return Settings.from_env(**overrides)


@contextlib.contextmanager
def _registry_of(warehouse: Path, model_version):
    """While re-running, the model registry is the real warehouse's (or the configured
    tracking server), never the scratch warehouse's."""
    from models.registry import TRACKING_URI_ENV, default_tracking_uri, embedded_store

    if model_version is None or os.environ.get(TRACKING_URI_ENV):
        yield
        return
    if not embedded_store(warehouse).exists():
        raise VerifyError(
            f"the run used model {model_version} but {warehouse} has no model registry "
            f"(set {TRACKING_URI_ENV} to the registry it came from)"
        )
    os.environ[TRACKING_URI_ENV] = default_tracking_uri(warehouse)
    try:
        yield
    finally:
        os.environ.pop(TRACKING_URI_ENV, None)


def resolve_landing(layout: Layout, ds: date, landing: Path | None) -> Path:
    if landing is not None:
        return Path(landing).resolve()
    ingest = layout.stage_result(ds, "ingest")
    recorded = read_json(ingest).get("landing") if ingest.exists() else None
    if recorded is None:
        raise VerifyError(f"no landing directory recorded for {ds}; pass --landing")
    return Path(recorded)


def verify(
    warehouse: Path, ds: date, landing: Path | None = None, scratch: Path | None = None, keep: bool = False
) -> Report:
    """Re-run `ds` from the drops, rules and model of its manifest and compare."""
    warehouse = Path(warehouse).resolve()
    layout = Layout(warehouse)
    manifest_path = layout.outputs(ds) / MANIFEST_NAME
    if not manifest_path.exists():
        raise VerifyError(f"no run manifest {manifest_path}: {ds} never ran in {warehouse}")
    manifest = read_json(manifest_path)
    if manifest.get("rules_version") != RULES_VERSION:
        raise VerifyError(
            f"the run used rule set {manifest.get('rules_version')} but this code has "
            f"{RULES_VERSION}; check out its code_version {manifest.get('code_version')}"
        )
    # What counts as a well-formed line and a bad row decides every later row: a night
    # read or validated by other code cannot be re-run by this one.
    for what, recorded, ours in (
        ("reader", manifest.get("reader_version"), READER_VERSION),
        ("validator", manifest.get("validator_version"), VALIDATOR_VERSION),
    ):
        if recorded != ours:
            was = f"were checked by {what} version {recorded}" if recorded else f"record no {what} version"
            raise VerifyError(
                f"the run's drops {was} but this code's is {ours}; "
                f"check out its code_version {manifest.get('code_version')}"
            )
    landing = resolve_landing(layout, ds, landing)
    report = Report(ds.isoformat())

    if manifest.get("code_version") != version.code_version():
        report.notes.append(f"the run's code was {manifest.get('code_version')}, this is {version.code_version()}")
    recorded_lock = (manifest.get("lineage") or {}).get("environment_lock_sha256")
    if recorded_lock != version.lock_digest():
        report.notes.append(
            f"the run's environment lock (requirements.lock) was sha256 {recorded_lock}, this is "
            f"{version.lock_digest()}: library versions may differ, and outputs with them"
        )
    late = late_drops(manifest, landing, ds)
    if late:
        report.notes.append(f"left out drop(s) that landed after the run: {', '.join(late)}")
    for name, recorded in sorted(manifest["outputs"].items()):
        on_disk = layout.outputs(ds) / name
        if not on_disk.exists():
            report.differences.append(f"outputs/{ds}/{name}: missing from the warehouse")
        elif sha256_file(on_disk) != recorded:
            report.differences.append(f"outputs/{ds}/{name}: changed on disk since the run (sha256)")
    report.altered_drops = check_drops(manifest, landing)
    if report.altered_drops:
        return report

    scratch = Path(scratch) if scratch else layout.root / "tmp" / f"verify-{ds}-{uuid.uuid4().hex[:8]}"
    if scratch.exists() and any(scratch.iterdir()):
        raise VerifyError(f"scratch directory {scratch} is not empty; choose a new one")
    scratch_landing = ensure_dir(scratch / "landing")
    scratch_warehouse = scratch / "warehouse"
    try:
        for entry in manifest["drops"]:
            ensure_dir(scratch_landing / entry["source"])
            os.symlink(
                landing / entry["source"] / entry["drop_date"], scratch_landing / entry["source"] / entry["drop_date"]
            )
        # Investigators' dispositions are an input of the night too (the run applies
        # those recorded on or before ds, and records their sha256).
        if dispositions.log_dir(warehouse).is_dir():
            os.symlink(dispositions.log_dir(warehouse), dispositions.log_dir(ensure_dir(scratch_warehouse)))
        pinned = ensure_dir(Layout(scratch_warehouse).outputs(ds)) / MANIFEST_NAME
        shutil.copyfile(manifest_path, pinned)
        from jobs import pipeline

        with _registry_of(warehouse, manifest.get("model_version")):
            pipeline.run_all(
                ds,
                _rerun_settings(manifest, scratch_landing, scratch_warehouse, landing),
                release_between_stages=True,
            )
        rerun = read_json(pinned)
        _compare(report, manifest, rerun, layout.outputs(ds), Layout(scratch_warehouse).outputs(ds))
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            report.notes.append(f"re-run kept in {scratch_warehouse}")
    return report


def _compare(report: Report, manifest: dict, rerun: dict, outputs: Path, rerun_outputs: Path) -> None:
    recorded, produced = manifest["outputs"], rerun["outputs"]
    report.compared = len(recorded)
    for name in sorted(set(recorded) | set(produced)):
        if name not in produced:
            report.differences.append(f"{name}: in the manifest, not produced by the re-run")
        elif name not in recorded:
            report.differences.append(f"{name}: produced by the re-run, not in the manifest")
        elif recorded[name] != produced[name]:
            detail = [f"sha256 {recorded[name][:12]}… -> {produced[name][:12]}…"]
            original = outputs / name
            if name.endswith(".csv") and original.exists() and sha256_file(original) == recorded[name]:
                detail += csv_diff(original, rerun_outputs / name)
            report.differences.append(f"{name}: " + "\n    ".join(detail))
    for key in COMPARED_FIELDS:
        if manifest.get(key) != rerun.get(key):
            report.differences.append(f"run_manifest.json {key}: {manifest.get(key)!r} -> {rerun.get(key)!r}")
    counts, recounts = _drop_counts(manifest), _drop_counts(rerun)
    if counts != recounts:
        report.differences.append(
            "run_manifest.json drops: counts or quarantine differ: "
            + "; ".join(
                f"{key}: {counts.get(key)} -> {recounts.get(key)}"
                for key in sorted(set(counts) | set(recounts))
                if counts.get(key) != recounts.get(key)
            )[:1000]
        )


def _drop_counts(manifest: dict) -> dict[str, tuple]:
    return {
        f"{d['source']}/{d['drop_date']}/{name}": (
            t["rows_in"],
            t["valid"],
            t["quarantined"],
            t.get("quarantine_sha256"),
        )
        for d in manifest["drops"]
        for name, t in d["tables"].items()
    }
