"""Where everything lives in the warehouse. One function per kind of path, so that a
change of layout is a change here (docs/ARCHITECTURE.md draws the tree)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

# A night's run manifest, written last by its publish stage (jobs/publish.py): a night
# without one was never published (its run failed or is still running). A re-run in
# place rewrites the night's files under the earlier manifest until publish replaces
# it: the manifest pins the model a re-run uses (jobs/select_model.py), so it stays.
MANIFEST_NAME = "run_manifest.json"


class Layout:
    def __init__(self, warehouse: Path):
        self.root = Path(warehouse)

    # Records as delivered: every row of every drop, as strings, with its line number
    # and original text (one Parquet file per table of a drop).
    def landed_drop(self, source: str, drop_date: date) -> Path:
        return self.root / "landed" / source / drop_date.isoformat()

    # Rows that passed validation, typed, partitioned by drop date.
    def validated_table(self, source: str, table: str) -> Path:
        return self.root / "validated" / source / table

    # What validation decided about a drop: counts per table, GX results.
    def drop_state(self, source: str, drop_date: date) -> Path:
        return self.root / "state" / "drops" / source / f"{drop_date.isoformat()}.json"

    def quarantine_file(self, source: str, drop_date: date, table: str) -> Path:
        return self.root / "quarantine" / source / drop_date.isoformat() / f"{table}.csv"

    # Point-in-time tables as of a run date.
    def conformed(self, ds: date) -> Path:
        return self.root / "conformed" / ds.isoformat()

    def conformed_table(self, ds: date, table: str) -> Path:
        return self.conformed(ds) / table

    # Files other systems read (OUTPUTS.md).
    def outputs(self, ds: date) -> Path:
        return self.root / "outputs" / ds.isoformat()

    # What each stage of a run reported, and the data docs.
    def run_dir(self, ds: date) -> Path:
        return self.root / "runs" / ds.isoformat()

    def stage_result(self, ds: date, stage: str) -> Path:
        return self.run_dir(ds) / f"{stage}.json"

    # What the graph stage found for a run: claims' collusion features, rings, hubs.
    def collusion(self, ds: date) -> Path:
        return self.run_dir(ds) / "collusion"

    # Every claim's evidence of a run (rules/evidence.py), for the next night to build on.
    def crossmatch(self, ds: date) -> Path:
        return self.run_dir(ds) / "crossmatch"

    # The training job's examples of a conformed date (jobs/train.py): the training-data
    # snapshot its models are registered with, reused by every challenger of that date.
    def training_examples(self, ds: date) -> Path:
        return self.root / "training" / ds.isoformat() / "examples.parquet"

    def data_docs(self, ds: date) -> Path:
        return self.run_dir(ds) / "data_docs"
