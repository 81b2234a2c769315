"""The nightly pipeline's stages, in order, and the one function that runs a stage.

The Airflow DAG (one task per stage) and `fraudctl run` (all stages in a loop) both
call `run_stage`, so they run the same code. Stages hand each other paths: each
stage's result is written to runs/<ds>/<stage>.json and the next stage reads it.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

import pendulum

from fraud import contract
from fraud.config import Settings
from fraud.landing import sources_missing
from fraud.layout import Layout
from fraud.locks import nights_lock, shared_state_lock
from fraud.retention import today as today_in_seoul
from fraud.storage import read_json, sha256_file, write_json
from fraud.version import code_version
from jobs.stage_io import (
    CollusionInputs,
    CollusionResult,
    ConformInputs,
    ConformResult,
    CrossmatchInputs,
    CrossmatchResult,
    IngestInputs,
    IngestResult,
    Night,
    PublishInputs,
    PublishResult,
    ReportInputs,
    ReportResult,
    SafeguardsInputs,
    SafeguardsResult,
    SelectModelInputs,
    SelectModelResult,
    StageResult,
    ValidateInputs,
    ValidateResult,
)

log = logging.getLogger(__name__)


class MissingDropsError(Exception):
    """Not every source delivered a drop for the run date in time."""


class RunDateError(ValueError):
    """A run date no run may have (after today in Seoul). One line; no stage ran."""


def check_run_date(ds: date, today: date | None = None) -> None:
    """Refuse a run date after `today` (default: today in Seoul) before any stage runs.

    No drop can be dated after today, so such a night could only be a typo (9999-12-31
    with --no-require-drops); its outputs would look like the newest night's. This is
    the one place a run reads the clock, and only to refuse: what a run writes depends
    on `ds` alone."""
    today = today or today_in_seoul()
    if ds > today:
        raise RunDateError(f"run date {ds} is after today ({today}, {contract.TIMEZONE}): refused")


@dataclass(frozen=True)
class Stage:
    name: str
    uses_spark: bool
    job: Callable[[], Callable]  # returns the job's run(spark, inputs, night) -> result
    # The stage's inputs, from the settings and the earlier stages' results by name.
    inputs: Callable[[Settings, dict[str, StageResult]], object]
    result: type[StageResult]  # what the stage returns, and reads back from its JSON
    # How long the DAG lets one attempt run (Airflow's execution_timeout) before it is
    # killed as hung; FRAUD_STAGE_TIMEOUT (seconds) sets every stage's. Generous: a full
    # rebuild of a national history is the longest a stage legitimately takes.
    timeout: timedelta = timedelta(hours=3)


def _job(module: str) -> Callable[[], Callable]:
    def load():
        return importlib.import_module(f"jobs.{module}").run

    return load


def _safeguards_figures(result: StageResult | None) -> dict | None:
    if result is None:
        return None
    figures = result.as_json()
    figures.pop("files")
    return figures


def _publish_inputs(settings: Settings, done: dict[str, StageResult]) -> PublishInputs:
    conform, collusion, crossmatch = done["conform"], done["collusion"], done["crossmatch"]
    return PublishInputs(
        drops=done["ingest"].drops,
        conformed=Path(conform.conformed),
        conformed_rows=conform.rows,
        rules_version=crossmatch.rules_version,
        model_version=crossmatch.model_version,
        dispositions=crossmatch.dispositions,
        stages=tuple(name for name in STAGE_NAMES if name in done),
        safeguards=_safeguards_figures(done.get("safeguards")),
        detections={
            "cases": crossmatch.cases,
            "time_barred": crossmatch.time_barred,
            "workplaces": crossmatch.workplaces,
            "rings": collusion.rings,
            "hubs": collusion.hubs,
            "repeat_offenders": crossmatch.repeat_offenders,
        },
    )


STAGES: tuple[Stage, ...] = (
    Stage(
        "ingest",
        False,
        _job("ingest"),
        lambda s, done: IngestInputs(landing=s.landing, landing_root=s.landing_root or s.landing),
        IngestResult,
    ),
    Stage(
        "validate",
        True,
        _job("validate"),
        lambda s, done: ValidateInputs(drops=done["ingest"].drops),
        ValidateResult,
        timeout=timedelta(hours=6),
    ),
    Stage("conform", True, _job("conform"), lambda s, done: ConformInputs(drops=done["validate"].drops), ConformResult),
    Stage(
        "collusion",
        True,
        _job("collusion"),
        lambda s, done: CollusionInputs(conformed=Path(done["conform"].conformed), base=done["conform"].base),
        CollusionResult,
    ),
    Stage(
        "select_model",
        False,
        _job("select_model"),
        lambda s, done: SelectModelInputs(),
        SelectModelResult,
        timeout=timedelta(minutes=30),
    ),
    Stage(
        "crossmatch",
        True,
        _job("crossmatch"),
        lambda s, done: CrossmatchInputs(
            conformed=Path(done["conform"].conformed),
            collusion=Path(done["collusion"].collusion),
            model_version=done["select_model"].model_version,
            base=done["conform"].base,
        ),
        CrossmatchResult,
    ),
    Stage(
        "safeguards",
        True,
        _job("safeguards"),
        lambda s, done: SafeguardsInputs(
            conformed=Path(done["conform"].conformed),
            evidence=Layout(s.warehouse).crossmatch(date.fromisoformat(done["conform"].ds)),
            control_sample=s.control_sample,
        ),
        SafeguardsResult,
    ),
    Stage("publish", False, _job("publish"), _publish_inputs, PublishResult, timeout=timedelta(minutes=30)),
    Stage(
        "report",
        True,
        _job("report"),
        lambda s, done: ReportInputs(
            conformed=Path(done["conform"].conformed),
            collusion=Path(done["collusion"].collusion),
            manifest=Path(done["publish"].manifest),
        ),
        ReportResult,
    ),
)
STAGE_NAMES = tuple(stage.name for stage in STAGES)
# Stages that write state shared by every run date (landed/, validated/, quarantine/,
# state/): two dates running at once take turns in them. The other stages write only
# their own date's paths, each through a staging path unique to the attempt.
SHARED_STAGES = ("ingest", "validate")
# Stages that read conformed tables or a base night's state (fraud/retention.py).
NIGHT_READING_STAGES = ("conform", "collusion", "crossmatch", "safeguards", "report")


def stage_named(name: str) -> Stage:
    """The entry of STAGES called `name`."""
    return next(stage for stage in STAGES if stage.name == name)


def run_date(logical_date: datetime | None, run_after: datetime | None = None) -> date:
    """The run date (KST) of an Airflow run: its logical date, or for a manual run
    without one, when it was asked to run, seen from Seoul."""
    moment = logical_date or run_after
    if moment is None:
        raise ValueError("a run needs a logical date or a run_after time")
    return pendulum.instance(moment).in_timezone(contract.TIMEZONE).date()


def wait_for_drops(ds: date, settings: Settings | None = None, sleep=time.sleep, clock=time.monotonic) -> dict:
    """Wait until every source has a complete drop dated `ds`; fail naming the missing
    sources after `drop_wait_timeout_seconds` (0: look once)."""
    settings = settings or Settings.from_env()
    deadline = clock() + settings.drop_wait_timeout_seconds
    while True:
        missing = sources_missing(settings.landing, ds)
        if not missing:
            return {"ds": ds.isoformat(), "sources": list(contract.SOURCES)}
        if clock() >= deadline:
            raise MissingDropsError(
                f"no complete drop dated {ds} from source(s) {', '.join(missing)} in {settings.landing} "
                f"after waiting {settings.drop_wait_timeout_seconds}s"
            )
        log.info("waiting for %s drop(s) dated %s", ", ".join(missing), ds)
        sleep(min(settings.drop_poke_seconds, max(1, int(deadline - clock()))))


def _results(upstream: dict[str, str]) -> dict[str, StageResult]:
    """The earlier stages' results, read back from their files."""
    results = {stage.name: stage.result for stage in STAGES}
    return {name: results[name].from_json(read_json(Path(path))) for name, path in upstream.items()}


def private_umask() -> None:
    """Tighten the process umask to at least 027: files any library writes for a run
    (GX, MLflow, Spark's local files) are never world-readable."""
    current = os.umask(0o027)
    os.umask(current | 0o027)


def run_stage(
    name: str,
    ds: date,
    upstream: dict[str, str] | None = None,
    settings: Settings | None = None,
    progress=None,
    release_memory: bool = False,
) -> dict[str, str]:
    """Run one stage for `ds`. `upstream` maps earlier stages to their result files;
    the return value is `upstream` plus this stage's result file (paths only, so it
    fits in XCom)."""
    settings = settings or Settings.from_env()
    private_umask()
    stage = stage_named(name)
    layout = Layout(settings.warehouse)
    upstream = dict(upstream or {})
    done = _results(upstream)
    starting = None
    if stage.uses_spark:
        from fraud.spark import StartingSession

        starting = StartingSession(settings)
    job = stage.job()  # its module imports (Great Expectations, for validate) while Spark starts
    spark = starting.get() if starting is not None else None
    night = Night(
        ds=ds,
        warehouse=settings.warehouse,
        code_version=code_version(),
        configuration=settings.as_manifest(),
        hub_max_degree=settings.hub_max_degree,
        full_rebuild=settings.full_rebuild,
        incremental_min_rows=settings.incremental_min_rows,
        progress=progress,
        release_memory=release_memory,
    )
    started = time.monotonic()
    group = _tag_jobs(spark, name, ds)
    try:
        with contextlib.ExitStack() as locks:
            if name in SHARED_STAGES:
                locks.enter_context(shared_state_lock(layout))
            if name in NIGHT_READING_STAGES:
                locks.enter_context(nights_lock(layout))
            result = job(spark, stage.inputs(settings, done), night)
    finally:
        spark_jobs = _untag_jobs(spark, group)
    log.info(
        "stage %s for %s done in %.1fs%s",
        name,
        ds,
        time.monotonic() - started,
        "" if spark_jobs is None else f" ({spark_jobs} Spark jobs)",
    )
    result_path = layout.stage_result(ds, name)
    write_json(result_path, result.as_json())
    upstream[name] = str(result_path)
    return upstream


def _tag_jobs(spark, name: str, ds: date) -> str | None:
    """Put the Spark jobs this stage starts in a job group of their own, so that they
    can be counted (issue #23: what a stage costs in jobs on a small night)."""
    if spark is None:
        return None
    group = f"stage-{name}-{ds}-{time.monotonic_ns()}"
    spark.sparkContext.setJobGroup(group, f"stage {name} for {ds}")
    return group


def _untag_jobs(spark, group: str | None) -> int | None:
    """How many Spark jobs the group started (as many as Spark retains:
    spark.ui.retainedJobs, 1,000 by default); the group is cleared."""
    if group is None:
        return None
    context = spark.sparkContext
    jobs = len(context.statusTracker().getJobIdsForGroup(group))
    for key in ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel"):
        context.setLocalProperty(key, None)
    return jobs


def run_all(
    ds: date, settings: Settings | None = None, progress=None, release_between_stages: bool = False
) -> dict[str, str]:
    """Every stage in order, as the DAG would run them (the CLI's path). With
    `release_between_stages` (`fraudctl run`, `fraudctl verify`), each stage but the
    last gives back its memory before the next starts (fraud/spark.py:release_memory):
    the Python driver's (its garbage, and the buffers Arrow and glibc keep for reuse:
    half a GiB after ingesting a million persons). Spark's JVM gives back its heap
    twice, when the night's computing is done and the JVM is at its largest: before
    the report stage, whose queries read a few thousand cases' records, and again
    inside it, before it renders the pages. It is not collected between the other
    stages: its heap grows back within the next one, and growing it again cost a
    20,000-person night more than it gave. A test's small nights skip all of it."""
    check_run_date(ds)
    settings = settings or Settings.from_env()
    if settings.require_drops_for_ds:
        wait_for_drops(ds, settings)
    upstream: dict[str, str] = {}
    for stage, after_it in zip(STAGES, (*STAGES[1:], None)):
        upstream = run_stage(
            stage.name, ds, upstream, settings, progress=progress, release_memory=release_between_stages
        )
        if release_between_stages and after_it is not None:
            from fraud.spark import release_memory

            before, after = release_memory(jvm=after_it is STAGES[-1])
            log.info("after stage %s: driver memory %d -> %d MiB", stage.name, before >> 20, after >> 20)
    return upstream


def settings_for_run(params: dict | None = None) -> Settings:
    """The settings of an Airflow run: the environment, with what an operator set in
    the run's Params (full_rebuild, require_drops) on top."""
    params = params or {}
    return Settings.from_env(full_rebuild=params.get("full_rebuild"), require_drops_for_ds=params.get("require_drops"))


def _airflow_run_date(context: dict) -> date:
    return run_date(context.get("logical_date"), getattr(context.get("dag_run"), "run_after", None))


def drops_arrived(context: dict, now: datetime | None = None) -> bool:
    """The DAG's sensor, one look: has every source delivered a complete drop dated
    the run date? Always yes for a run whose Params do not require the night's drops.
    Airflow looks again after the poke interval, holding no slot in between
    (reschedule mode). Once FRAUD_DROP_WAIT_TIMEOUT has passed since the run started,
    a look that still misses a source fails, naming it (MissingDropsError)."""
    ds = _airflow_run_date(context)
    settings = settings_for_run(context.get("params"))
    if not settings.require_drops_for_ds:
        log.info("run for %s does not require the night's drops", ds)
        return True
    missing = sources_missing(settings.landing, ds)
    if not missing:
        return True
    started = getattr(context.get("dag_run"), "start_date", None)
    waited = ((now or pendulum.now("UTC")) - started).total_seconds() if started else 0.0
    if waited >= settings.drop_wait_timeout_seconds:
        raise MissingDropsError(
            f"no complete drop dated {ds} from source(s) {', '.join(missing)} in {settings.landing} "
            f"after waiting {settings.drop_wait_timeout_seconds}s"
        )
    log.warning("no complete drop dated %s yet from source(s) %s in %s", ds, ", ".join(missing), settings.landing)
    return False


def run_for_airflow(stage: str, context: dict, upstream: dict[str, str] | None = None) -> dict[str, str]:
    """An Airflow task's one call: the run date from the task's context (refused if it
    is after today in Seoul), the settings with the run's Params, then the stage: a
    Spark stage on the stage server when FRAUD_STAGE_SERVER names one that takes it
    (jobs/stage_server.py), else in this process."""
    ds = _airflow_run_date(context)
    check_run_date(ds)
    settings = settings_for_run(context.get("params"))
    if settings.stage_server is not None and stage_named(stage).uses_spark:
        from jobs.stage_server import submit

        done = submit(settings.stage_server, stage, ds, upstream, settings)
        if done is not None:
            return done
    return run_stage(stage, ds, upstream, settings)


def published_event(upstream: dict[str, str]) -> dict:
    """What the nightly outputs Asset's event carries, from the publish stage's result:
    the night's date and the sha256 of its run manifest."""
    published = read_json(Path(upstream["publish"]))
    return {"ds": published["ds"], "manifest_sha256": sha256_file(Path(published["manifest"]))}
