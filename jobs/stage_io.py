"""What a stage is given and what it returns, as frozen dataclasses.

Every nightly stage is one function, `run(spark, inputs, night) -> result`:
- `night` (`Night`) is the same for every stage of a run: the run date, the warehouse
  and the settings that shape results;
- `inputs` is the stage's own `...Inputs`, built by jobs/pipeline.py:STAGES from the
  earlier stages' results;
- the result is the stage's `...Result`, written to runs/<ds>/<stage>.json
  (`as_json`) and read back by the next stage, the DAG's next task and `verify`
  (`from_json`).

The JSON is what it was when stages returned dicts: the field names are its keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

R = TypeVar("R", bound="StageResult")


@dataclass(frozen=True)
class Night:
    """One run of the pipeline: what every stage of it is given."""

    ds: date
    warehouse: Path
    # The code's version (fraud/version.py); a stage's carried-over state records it.
    code_version: str | None = None
    # The run's settings as the manifest records them (fraud/config.py:as_manifest).
    configuration: Mapping[str, Any] = field(default_factory=dict)
    hub_max_degree: int = 50
    full_rebuild: bool = False
    # The fewest conformed rows a night builds on; 0: any. jobs/pipeline.py:run_stage
    # passes the setting (fraud/config.py: INCREMENTAL_MIN_ROWS); a Night made
    # elsewhere for conform must pass it too.
    incremental_min_rows: int = 0
    # The model registry's MLflow URI; None: the warehouse's own (models/registry.py).
    tracking_uri: str | None = None
    # Called with landing progress (fraud/landing.py); never part of a result.
    progress: Callable | None = field(default=None, compare=False)
    # The run gives back memory between its stages (jobs/pipeline.py:run_all); the
    # report stage then also gives back its Spark work's before it renders the pages.
    release_memory: bool = field(default=False, compare=False)


class StageResult:
    """A stage's result: `as_json` for runs/<ds>/<stage>.json, `from_json` back."""

    def as_json(self) -> dict:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls: type[R], payload: Mapping) -> R:
        """The result a stage wrote; a field an older run did not write takes its default."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in payload.items() if key in names})


def _plain(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


# Drops, as ingest lists them and validate, conform and publish pass them on: one
# {"source", "drop_date", "manifest_sha256", "files": {name: sha256}} per drop.
Drops = list[dict]


@dataclass(frozen=True)
class IngestInputs:
    landing: Path
    # The directory every delivered file must lie in (default: the landing).
    landing_root: Path | None = None


@dataclass(frozen=True)
class IngestResult(StageResult):
    ds: str
    landing: str
    drops: Drops
    landed_now: list[str]


@dataclass(frozen=True)
class ValidateInputs:
    drops: Drops


@dataclass(frozen=True)
class ValidateResult(StageResult):
    ds: str
    drops: Drops
    validated_now: list[str]


@dataclass(frozen=True)
class ConformInputs:
    # None: every validated drop in the warehouse (no record of what the run saw).
    drops: Drops | None = None


@dataclass(frozen=True)
class ConformResult(StageResult):
    ds: str
    conformed: str
    rows: dict[str, int]
    storage: dict[str, str]
    mode: str
    base: str | None
    why: str


@dataclass(frozen=True)
class CollusionInputs:
    conformed: Path
    # The night conform built on (a nightly run), as ISO text; None: a full build.
    base: str | None = None


@dataclass(frozen=True)
class CollusionResult(StageResult):
    ds: str
    collusion: str
    rings: int
    claims_in_rings: int
    hubs: int
    mode: str
    base: str | None
    why: str
    recomputed_claims: int | None
    analysed_components: int


@dataclass(frozen=True)
class SelectModelInputs:
    pass


@dataclass(frozen=True)
class SelectModelResult(StageResult):
    model_version: str | None
    chosen_by: str


@dataclass(frozen=True)
class CrossmatchInputs:
    conformed: Path
    # The graph stage's directory (claims/ and rings/); None: no collusion evidence.
    collusion: Path | None = None
    # The registered model to score with (jobs/select_model.py); None: rules alone.
    model_version: str | None = None
    base: str | None = None


@dataclass(frozen=True)
class CrossmatchResult(StageResult):
    cases: int
    workplaces: int
    repeat_offenders: int
    rules_version: str
    model_version: str | None
    files: list[str]
    dispositions: dict | None = None
    time_barred: int = 0
    mode: str = "full"
    base: str | None = None
    why: str = ""
    recomputed_claims: int | None = None


@dataclass(frozen=True)
class SafeguardsInputs:
    conformed: Path
    # Every claim's evidence of the night (runs/<ds>/crossmatch/, jobs/crossmatch.py).
    evidence: Path
    # FRAUD_CONTROL_SAMPLE: a count ("200") or a share ("0.5%") of the claims left out.
    control_sample: str = "200"


@dataclass(frozen=True)
class SafeguardsResult(StageResult):
    control_sample: int
    control_candidates: int
    population: int
    benefit_band_cuts: list[int]
    precision: dict  # "queue" and "control": features/oversight.py:rate_row
    fairness: dict  # dimensions, groups and the flagged groups ("region=11 (referral)")
    files: list[str]


@dataclass(frozen=True)
class PublishInputs:
    drops: Drops
    conformed: Path | None = None
    conformed_rows: dict[str, int] = field(default_factory=dict)
    rules_version: str | None = None
    model_version: str | None = None
    dispositions: dict | None = None
    # The stages run before publish, in order (the manifest's lineage).
    stages: tuple[str, ...] = ()
    detections: dict = field(default_factory=dict)
    # The safeguards stage's figures (its SafeguardsResult without the file paths).
    safeguards: dict | None = None


@dataclass(frozen=True)
class PublishResult(StageResult):
    ds: str
    outputs: str
    manifest: str
    totals: dict[str, int]
    detections: dict


@dataclass(frozen=True)
class ReportInputs:
    conformed: Path
    manifest: Path
    collusion: Path | None = None


@dataclass(frozen=True)
class ReportResult(StageResult):
    ds: str
    report: str
    pages: int
    index: str
