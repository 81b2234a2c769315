"""The stages' types (jobs/stage_io.py): every job takes and returns what the stage
table says, and a result survives its JSON file."""

from __future__ import annotations

import dataclasses
import typing
from datetime import date
from pathlib import Path

import pytest

from fraud.config import Settings
from jobs import stage_io
from jobs.pipeline import STAGES
from jobs.stage_io import CrossmatchResult, IngestInputs, Night, PublishInputs

DS = date(2026, 3, 4)
STAGES_BY_NAME = {stage.name: stage for stage in STAGES}

# One result per stage, as its runs/<ds>/<stage>.json holds it.
WRITTEN = {
    "ingest": {
        "ds": "2026-03-04",
        "landing": "/l",
        "drops": [{"source": "ei", "drop_date": "2026-03-04", "manifest_sha256": "a", "files": {"claims.csv": "b"}}],
        "landed_now": ["ei/2026-03-04"],
    },
    "validate": {"ds": "2026-03-04", "drops": [], "validated_now": []},
    "conform": {
        "ds": "2026-03-04",
        "conformed": "/w/conformed/2026-03-04",
        "rows": {"claims": 3},
        "storage": {"claims": "full"},
        "mode": "incremental",
        "base": "2026-03-03",
        "why": "built on 2026-03-03",
    },
    "collusion": {
        "ds": "2026-03-04",
        "collusion": "/w/runs/2026-03-04/collusion",
        "rings": 1,
        "claims_in_rings": 4,
        "hubs": 0,
        "mode": "full",
        "base": None,
        "why": "conform rebuilt every table",
        "recomputed_claims": None,
        "analysed_components": 2,
    },
    "select_model": {"model_version": None, "chosen_by": "no model registered"},
    "crossmatch": {
        "cases": 5,
        "time_barred": 1,
        "workplaces": 2,
        "repeat_offenders": 0,
        "rules_version": "r5",
        "model_version": None,
        "files": ["/w/outputs/2026-03-04/cases.csv"],
        "dispositions": {"applied": 0, "sha256": "c", "cleared_kept_out": 0},
        "mode": "full",
        "base": None,
        "why": "conform rebuilt every table",
        "recomputed_claims": None,
    },
    "publish": {
        "ds": "2026-03-04",
        "outputs": "/w/outputs/2026-03-04",
        "manifest": "/w/outputs/2026-03-04/run_manifest.json",
        "totals": {"rows_in": 9, "valid": 8, "quarantined": 1},
        "detections": {"cases": 5},
    },
    "report": {"ds": "2026-03-04", "report": "/w/r", "pages": 7, "index": "/w/r/index.html"},
}


@pytest.mark.parametrize("stage", STAGES, ids=lambda stage: stage.name)
def test_every_job_takes_its_inputs_and_the_night_and_returns_its_result(stage, tmp_path):
    hints = typing.get_type_hints(stage.job())
    assert hints["night"] is Night and hints["return"] is stage.result
    settings = Settings.from_env(landing=tmp_path / "landing", warehouse=tmp_path / "w")
    done = {name: STAGES_BY_NAME[name].result.from_json(payload) for name, payload in WRITTEN.items()}
    inputs = stage.inputs(settings, done)
    assert type(inputs) is hints["inputs"]
    assert dataclasses.is_dataclass(inputs) and type(inputs).__dataclass_params__.frozen


@pytest.mark.parametrize("name", list(WRITTEN))
def test_a_result_reads_back_from_its_json_unchanged(name):
    result = STAGES_BY_NAME[name].result.from_json(WRITTEN[name])
    assert result.as_json() == WRITTEN[name]
    assert type(result).from_json(result.as_json()) == result


def test_a_result_an_older_run_wrote_without_a_later_field_takes_its_default():
    older = {key: value for key, value in WRITTEN["crossmatch"].items() if key not in ("time_barred", "dispositions")}
    result = CrossmatchResult.from_json(older)
    assert result.time_barred == 0 and result.dispositions is None


def test_paths_dates_and_tuples_become_plain_json():
    inputs = PublishInputs(drops=[], conformed=Path("/w/c"), stages=("ingest", "validate"))
    assert stage_io._plain(dataclasses.asdict(inputs)) == {
        "drops": [],
        "conformed": "/w/c",
        "conformed_rows": {},
        "rules_version": None,
        "model_version": None,
        "dispositions": None,
        "stages": ["ingest", "validate"],
        "detections": {},
        "safeguards": None,
    }
    assert stage_io._plain({"ds": DS}) == {"ds": "2026-03-04"}


def test_the_night_and_inputs_cannot_be_changed_by_a_stage(tmp_path):
    night = Night(DS, tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        night.full_rebuild = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        IngestInputs(tmp_path).landing = tmp_path / "elsewhere"  # type: ignore[misc]


def test_the_progress_callback_does_not_make_two_nights_differ(tmp_path):
    assert Night(DS, tmp_path, progress=print) == Night(DS, tmp_path)


def test_a_spark_stage_imports_its_module_while_spark_starts_then_runs_in_the_session(tmp_path, monkeypatch):
    """run_stage starts Spark first, imports the stage's module meanwhile, and only
    then waits for the session (fraud/spark.py:StartingSession)."""
    from fraud import spark as spark_module
    from jobs import pipeline

    events = []

    class Starting:
        def __init__(self, settings):
            events.append("start")

        def get(self):
            events.append("wait")
            return None  # no Spark here: run_stage's job accounting skips a missing session

    class Done:
        def as_json(self):
            return {}

    def load():
        events.append("import")
        return lambda spark, inputs, night: events.append("run") or Done()

    probe = pipeline.Stage(name="probe", uses_spark=True, job=load, inputs=lambda settings, done: None, result=Done)
    monkeypatch.setattr(spark_module, "StartingSession", Starting)
    monkeypatch.setattr(pipeline, "STAGES", (probe,))
    pipeline.run_stage("probe", date(2026, 3, 2), {}, Settings.from_env(warehouse=tmp_path / "w"))
    assert events == ["start", "import", "wait", "run"]
