"""`fraudctl`: the command line of the nightly fraud pipeline.

Exit status: 0 success; 2 bad usage (also a run date after today in Seoul, or a notice
for a case that is not confirmed); 3 a drop that cannot be trusted (manifest and files
disagree); 4 drops missing for the run date; 5 validation could not vouch for the data;
1 anything else (for `verify`: outputs differ). A failure prints one line on
stderr.
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path

import click

EXIT_BAD_DROP = 3
EXIT_MISSING_DROPS = 4
EXIT_VALIDATION = 5

log = logging.getLogger("fraudctl")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Spark's and GX's own chatter stays at WARNING unless asked for.
    for noisy in ("py4j", "great_expectations", "pyspark"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, getattr(logging, level.upper())))


# The warehouse an investigator's or operator's command works on.
warehouse_option = click.option(
    "--warehouse",
    envvar="FRAUD_WAREHOUSE",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The pipeline's warehouse (default: $FRAUD_WAREHOUSE).",
)


def _fail(code: int, message: str) -> None:
    from fraud.text import one_line

    # One line, whatever a delivered file name or value in the message holds.
    click.echo(f"fraudctl: {one_line(message)}", err=True)
    sys.exit(code)


class _Day(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


DAY = _Day()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option(
    "--log-level", default="INFO", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)
)
@click.version_option(package_name="fraud-nightly", prog_name="fraudctl")
def main(log_level: str) -> None:
    """Nightly detection of unemployment-benefit fraud (실업급여 부정수급)."""
    _configure_logging(log_level)


@main.command()
@click.option(
    "--landing",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The agencies' landing directory (<landing>/<source>/<YYYY-MM-DD>/).",
)
@click.option(
    "--warehouse",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the pipeline keeps its tables, quarantine and outputs.",
)
@click.option("--ds", required=True, type=DAY, help="Run date (KST): drops dated on or before it are used.")
@click.option(
    "--wait",
    "wait_seconds",
    type=click.IntRange(min=0),
    default=0,
    help="Seconds to wait for every source's drop dated DS before failing.",
)
@click.option(
    "--require-drops/--no-require-drops", default=True, help="Fail when a source has not delivered a drop dated DS."
)
@click.option("--progress/--no-progress", default=True, help="Show a progress bar while reading drops.")
def run(landing: Path, warehouse: Path, ds: date, wait_seconds: int, require_drops: bool, progress: bool) -> None:
    """Run the nightly pipeline for one date (the same stages as the Airflow DAG)."""
    from fraud.config import Settings
    from fraud.landing import DropError
    from jobs import pipeline

    if not landing.is_dir():
        _fail(2, f"landing directory {landing} does not exist")
    settings = Settings.from_env(
        landing=landing, warehouse=warehouse, drop_wait_timeout_seconds=wait_seconds, require_drops_for_ds=require_drops
    )
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(desc="reading drops", unit=" rows", unit_scale=True, file=sys.stderr)
    try:
        results = pipeline.run_all(ds, settings, progress=bar.update if bar else None, release_between_stages=True)
    except DropError as error:
        _fail(EXIT_BAD_DROP, f"bad drop: {error}")
    except pipeline.MissingDropsError as error:
        _fail(EXIT_MISSING_DROPS, str(error))
    except pipeline.RunDateError as error:
        _fail(2, str(error))
    except Exception as error:
        # Not imported above: jobs.validate brings in Great Expectations, which the run
        # loads while Spark starts (jobs/pipeline.py:run_stage). A module the run never
        # imported raised nothing.
        kinds = tuple(
            getattr(sys.modules[module], name)
            for module, name in (("jobs.validate", "ValidationError"), ("jobs.publish", "PublishError"))
            if module in sys.modules
        )
        if not isinstance(error, kinds):
            raise
        _fail(EXIT_VALIDATION, str(error))
    finally:
        if bar is not None:
            bar.close()
    from fraud.storage import read_json

    published = read_json(Path(results["publish"]))
    totals = published["totals"]
    click.echo(f"outputs: {published['outputs']}")
    detections = published.get("detections", {})
    if detections:
        click.echo(f"cases: {detections.get('cases', 0)}, repeat offenders: {detections.get('repeat_offenders', 0)}")
    click.echo(f"run manifest: {published['manifest']}")
    click.echo(
        f"rows in {totals['rows_in']}, valid {totals['valid']}, quarantined {totals['quarantined']}"
        f" (quarantine: {settings.warehouse / 'quarantine'})"
    )


@main.command()
@click.option(
    "--warehouse",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The warehouse whose night is verified (only read).",
)
@click.option("--ds", required=True, type=DAY, help="The run date to re-run and compare.")
@click.option(
    "--landing",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Where the night's drops are (default: the landing the night's ingest recorded).",
)
@click.option(
    "--scratch",
    type=click.Path(file_okay=False, path_type=Path),
    help="Scratch directory for the re-run (default: <warehouse>/tmp/verify-<ds>-<id>).",
)
@click.option("--keep/--no-keep", default=False, help="Keep the scratch re-run for inspection.")
def verify(warehouse: Path, ds: date, landing: Path | None, scratch: Path | None, keep: bool) -> None:
    """Re-run a past night from its drops, pinned rule set and model into a scratch
    warehouse and compare every output with its run manifest. Exit 0 only when nothing
    differs; 1 when outputs differ; 2 when it cannot be re-run as it was (no manifest,
    another rule set, reader or validator, no landing); 3 when an input drop was
    altered or is missing."""
    from fraud.landing import DropError
    from jobs.publish import PublishError
    from jobs.validate import ValidationError
    from jobs.verify import VerifyError
    from jobs.verify import verify as reverify

    try:
        report = reverify(warehouse, ds, landing=landing, scratch=scratch, keep=keep)
    except VerifyError as error:
        _fail(2, f"cannot verify: {error}")
    except DropError as error:
        _fail(EXIT_BAD_DROP, f"re-run stopped on a bad drop: {error}")
    except (ValidationError, PublishError) as error:
        _fail(1, f"re-run could not vouch for the data: {error}")
    for line in report.lines():
        click.echo(line)
    if report.altered_drops:
        sys.exit(EXIT_BAD_DROP)
    if not report.ok:
        sys.exit(1)


@main.command()
@click.option(
    "--warehouse",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The warehouse to prune.",
)
@click.option(
    "--keep",
    type=int,
    default=None,
    help="Newest nights whose working state is kept (at least 1; default FRAUD_RETENTION_KEEP or 2).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
def prune(warehouse: Path, keep: int, dry_run: bool) -> None:
    """Delete the working state (conformed tables, graph and evidence state) of every
    night but the newest KEEP. Drops, quarantine, outputs, manifests, stage results and
    data docs stay: a pruned night can still be verified (fraud/retention.py)."""
    from fraud.config import Settings
    from fraud.layout import Layout
    from fraud.retention import future_nights, today
    from fraud.retention import prune as prune_warehouse

    if keep is None:
        keep = Settings.from_env().retention_keep
    if keep < 1:
        _fail(2, f"--keep must be at least 1 (the next night builds on the newest night), not {keep}")
    layout, as_of = Layout(warehouse), today()
    removed = prune_warehouse(layout, keep, dry_run=dry_run, as_of=as_of)
    verb = "would delete" if dry_run else "deleted"
    for item in removed:
        night = item.night.isoformat() if item.night else "interrupted prune"
        click.echo(f"{verb} {item.path.relative_to(warehouse)} ({night}, {item.bytes / 2**20:,.1f} MiB)")
    later = future_nights(layout, as_of)
    if later:
        click.echo(f"left alone, dated after today ({as_of}, Seoul): {', '.join(d.isoformat() for d in later)}")
    click.echo(
        f"{verb} {len(removed)} directories, {sum(i.bytes for i in removed) / 2**20:,.1f} MiB; "
        f"kept the newest {keep} nights"
    )


@main.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Landing directory to write (created; must be empty or absent).",
)
@click.option("--persons", type=click.IntRange(min=200), default=2000, help="Size of the insured population.")
@click.option("--seed", type=int, default=7, help="Same seed, same bytes.")
@click.option("--baseline", type=DAY, default="2026-03-02", help="Date of the baseline (full-history) drop.")
@click.option("--days", type=click.IntRange(min=0, max=60), default=5, help="Daily delta drops after the baseline.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.option(
    "--generator",
    type=click.Choice(["synth", "holdout"]),
    default="synth",
    show_default=True,
    help="synth: the project's generator; holdout: the independent world written from the contract "
    "alone (simulation/holdout), which no threshold is tuned on.",
)
def synth(out: Path, persons: int, seed: int, baseline: date, days: int, progress: bool, generator: str) -> None:
    """Write a synthetic landing directory (all typologies and look-alikes planted)
    with its truth file under OUT/_truth/."""
    if out.exists() and any(out.iterdir()):
        _fail(2, f"{out} is not empty; choose a new directory")
    if generator == "holdout":
        from simulation.holdout import generate as holdout

        truth = holdout(out, persons=persons, seed=seed, baseline=baseline, days=days)
        click.echo(f"landing: {out} (drops {truth['drop_dates'][0]}..{truth['drop_dates'][-1]})")
        click.echo(f"truth: {out / '_truth' / 'truth.json'}")
        return
    from simulation.synth import generate

    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(desc="generating", unit=" steps", file=sys.stderr)

    def report(stage: str, done: int) -> None:
        if bar is not None:
            bar.set_postfix_str(stage)
            bar.update(done)

    try:
        truth = generate(out, persons=persons, seed=seed, baseline=baseline, days=days, progress=report)
    finally:
        if bar is not None:
            bar.close()
    click.echo(f"landing: {out} (drops {truth['drop_dates'][0]}..{truth['drop_dates'][-1]})")
    click.echo(f"truth: {out / '_truth' / 'truth.json'}")


@main.command()
@click.option(
    "--warehouse",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The warehouse whose conformed tables train the model (its MLflow store lives in it).",
)
@click.option(
    "--ds", required=True, type=DAY, help="Train on the conformed tables of the latest run on or before this date."
)
@click.option(
    "--holdout-days",
    type=click.IntRange(min=1),
    default=90,
    help="Decisions of the last so many days are the time-based holdout.",
)
@click.option(
    "--capacity", type=click.IntRange(min=1), default=100, help="Cases investigators take a night: k of precision at k."
)
@click.option("--rounds", type=click.IntRange(min=1), default=200, help="Boosting rounds (trees).")
def train(warehouse: Path, ds: date, holdout_days: int, capacity: int, rounds: int) -> None:
    """Train a challenger on past decisions (as the weekly fraud_model_training DAG
    does), register it, and promote it to champion only when it beats the champion
    on the holdout."""
    from fraud.config import Settings
    from fraud.layout import Layout
    from fraud.locks import nights_lock
    from fraud.spark import spark_session
    from fraud.version import code_version
    from jobs import train as job
    from jobs.stage_io import Night

    settings = Settings.from_env(warehouse=warehouse)
    layout = Layout(settings.warehouse)
    with nights_lock(layout):  # `fraudctl prune` waits while the tables are read
        try:
            day = job.latest_conformed(settings.warehouse, ds)
        except FileNotFoundError as error:
            _fail(2, f"{error} (pruned? `fraudctl run --ds {ds}` rebuilds that night from its drops)")
        night = Night(day, settings.warehouse, code_version=code_version(), hub_max_degree=settings.hub_max_degree)
        inputs = job.TrainInputs(
            layout.conformed(day), holdout_days=holdout_days, capacity=capacity, num_boost_round=rounds
        )
        result = job.run(spark_session(settings), inputs, night)
    metrics = result.metrics
    click.echo(
        f"trained on {day}: version {result.model_version} (training data sha256 {result.training_data_sha256[:12]})"
    )
    sources = result.investigator_labels or {}
    click.echo(
        f"investigators' labels: {sources.get('queue', 0)} from queued cases, {sources.get('control', 0)} from "
        "the random control sample (labels like the others; the only ones on claims nothing flagged)"
    )
    if metrics:
        click.echo(
            f"holdout: {metrics['rows']} decisions, {metrics['positives']} found; average precision "
            f"{metrics['average_precision']:.4f}, precision@{metrics['capacity']} "
            f"{metrics['precision_at_capacity']:.4f}"
        )
    else:
        click.echo("holdout: no decisions in the holdout window")
    click.echo(f"promotion: {result.promotion} ({result.promotion_reason}); champion {result.champion_version}")


@main.group(invoke_without_command=True)
@click.pass_context
def rules(context: click.Context) -> None:
    """List the rule set (id, typology, severity, whether a hit taints the certification,
    invalidates the claim or only aggravates, title, legal basis); `rules stats` and
    `rules backtest` measure it against investigators' decisions."""
    if context.invoked_subcommand is not None:
        return
    from rules.ruleset import RULES, RULES_VERSION

    click.echo(f"rule set {RULES_VERSION}")
    for rule in RULES:
        taints = (
            "taints"
            if rule.taints
            else "invalidates"
            if rule.invalidates_claim
            else "aggravates"
            if rule.aggravates_only
            else ""
        )
        strengthens = f" (strengthens {rule.strengthens})" if rule.strengthens else ""
        click.echo(
            f"{rule.rule_id:<6} {rule.typology or '-':<21} {rule.severity:<5} {taints:<11} "
            f"{rule.title}{strengthens} [{rule.legal_basis}]"
        )


@rules.command("stats")
@click.option("--warehouse", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--ds", type=DAY, default=None, help="The night (default: the latest published one).")
def rules_stats(warehouse: Path, ds: date | None) -> None:
    """Per rule and typology, and for the queue and the control sample: how many the
    night flagged, the decisions on them and the confirmed rate with its 95% interval
    (the night's precision.csv: decisions recorded on or before the night)."""
    from fraud.config import Settings
    from fraud.storage import read_csv
    from jobs.safeguards import PRECISION_FILE

    settings = Settings.from_env(warehouse=warehouse)
    outputs = settings.warehouse / "outputs"
    nights = sorted(path.parent.name for path in outputs.glob("*/" + PRECISION_FILE))
    night = ds.isoformat() if ds else (nights[-1] if nights else None)
    path = outputs / str(night) / PRECISION_FILE
    if night is None or not path.is_file():
        _fail(2, f"no {PRECISION_FILE} for {night or 'any night'} under {outputs}: run the night first")
    click.echo(f"night {night}: decisions recorded on or before it")
    click.echo(f"{'kind':<9} {'subject':<22} {'count':>6} {'decided':>8} {'confirmed':>10} {'cleared':>8}  rate (95%)")
    for row in read_csv(path):
        rate = f"{row['rate']} ({row['rate_low']}-{row['rate_high']})" if row["rate"] else "-"
        click.echo(
            f"{row['kind']:<9} {row['subject']:<22} {row['count']:>6} {row['decided']:>8} "
            f"{row['confirmed']:>10} {row['cleared']:>8}  {rate}"
        )


@rules.command("backtest")
@click.option("--warehouse", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--ds", type=DAY, required=True, help="The past night to decide again.")
@click.option(
    "--ruleset",
    "ruleset_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML: a table per rule id changing its fields ([FS-02] condition = ...; enabled = false drops it).",
)
def rules_backtest(warehouse: Path, ds: date, ruleset_file: Path) -> None:
    """Decide a past night's queue again with a changed rule set and show how it would
    change: cases added and removed, and the confirmed and cleared ones among them.
    Changes nothing in the warehouse."""
    from fraud.config import Settings
    from rules.ruleset import changed_rules

    try:
        proposed = changed_rules(ruleset_file)
    except ValueError as error:
        _fail(2, str(error))
    settings = Settings.from_env(warehouse=warehouse)
    from pyspark.errors import AnalysisException

    from fraud.spark import spark_session
    from jobs.backtest import BacktestError, backtest

    # The session is left to end with the process, as every other command does: stopping
    # it would stop the one a caller in the same process (a test, a notebook) still uses.
    spark = spark_session(settings, app_name="fraud-backtest")
    try:
        result = backtest(spark, settings.warehouse, ds, proposed)
    except BacktestError as error:
        _fail(2, str(error))
    except AnalysisException as error:
        _fail(2, f"{ruleset_file}: a condition or evidence Spark cannot run: {str(error).splitlines()[0]}")
    for line in result.lines():
        click.echo(line)


@main.command()
@click.option(
    "--truth",
    "truths",
    required=True,
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="The generator's truth file, or the landing directory holding _truth/truth.json; once per world.",
)
@click.option(
    "--outputs",
    "outputs_dirs",
    required=True,
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A run's outputs directory (<warehouse>/outputs/<ds>), in the order of --truth.",
)
@click.option(
    "--name",
    "names",
    multiple=True,
    help="A name per world for the side-by-side table (default: the truth's generator).",
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures as JSON here."
)
@click.option("--check/--no-check", default=False, help="Exit 1 when a world misses a target.")
def evaluate(
    truths: tuple[Path, ...],
    outputs_dirs: tuple[Path, ...],
    names: tuple[str, ...],
    json_path: Path | None,
    check: bool,
) -> None:
    """Compare runs' outputs with what a generator planted: the project's own
    (fraudctl synth) and the holdout world (fraudctl synth --generator holdout), each
    given as --truth and --outputs, side by side against issue #18's targets."""
    import json

    from rules.ruleset import RULES
    from simulation.evaluation import acceptance, load_truth, render, render_acceptance
    from simulation.evaluation import evaluate as measure

    if len(truths) != len(outputs_dirs) or (names and len(names) != len(truths)):
        _fail(2, "give one --outputs (and --name, if any) per --truth")
    covered = {rule.typology for rule in RULES if rule.typology is not None}
    reports, worlds = {}, {}
    for index, (truth_path, outputs) in enumerate(zip(truths, outputs_dirs)):
        if not (outputs / "cases.csv").exists():
            _fail(2, f"{outputs} has no cases.csv: not a run's outputs directory")
        truth = load_truth(truth_path)
        name = names[index] if names else f"{truth.get('generator', 'synth')}"
        if name in worlds:
            name = f"{name}-{index + 1}"
        reports[name] = measure(outputs, truth, covered)
        worlds[name] = reports[name]["acceptance"] = acceptance(outputs, truth)
        if len(truths) > 1:
            click.echo(f"== {name}: {outputs}")
        click.echo(render(reports[name]))
        click.echo()
    click.echo(render_acceptance(worlds))
    if json_path is not None:
        single = len(reports) == 1
        payload = next(iter(reports.values())) if single else reports
        json_path.write_text(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    if check and not all(world["targets_met"] for world in worlds.values()):
        sys.exit(1)


def _add_airflow_commands() -> None:
    from fraudctl.airflow import airflow

    main.add_command(airflow)


_add_airflow_commands()


@main.command()
@click.argument("case_id")
@click.option(
    "--status",
    required=True,
    type=click.Choice(["confirmed", "cleared", "in_review"]),
    help="The investigator's decision.",
)
@click.option("--note", default="", help="Why (shown in the report's case history).")
@click.option("--by", "by", required=True, help="Who decided (the investigator's name or id).")
@warehouse_option
@click.option(
    "--at",
    "at",
    default=None,
    help="When the decision was made, ISO 8601 with offset (default: now); for back-filled entries.",
)
def disposition(case_id: str, status: str, note: str, by: str, warehouse: Path, at: str | None) -> None:
    """Record an investigator's decision on a case (append-only, with time and author).

    A run for date D applies the decisions recorded on or before D (KST). A cleared case
    leaves the queue until new evidence arrives; confirmed and cleared cases become
    training labels for the next model."""
    from datetime import datetime, timezone

    from fraud.dispositions import DispositionError, record

    if at is None:
        moment = datetime.now(timezone.utc)
    else:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            _fail(2, f"--at {at!r} is not an ISO 8601 time")
        if moment.tzinfo is None:
            _fail(2, f"--at {at!r} needs a UTC offset (e.g. +09:00)")
    try:
        entry = record(warehouse, case_id, status, note, by, moment)
    except DispositionError as error:
        _fail(2, str(error))
    click.echo(f"{entry.case_id} ({entry.claim_id}): {entry.status} by {entry.by} at {entry.recorded_at}")


@main.command()
@click.argument("case_id")
@warehouse_option
@click.option(
    "--ds",
    "notice_on",
    type=DAY,
    default=None,
    help="The notice's date (default: today in Seoul): the facts of the latest queue on or before it, the "
    "decisions recorded on or before it.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the notice to this file (UTF-8) instead of standard output.",
)
def notice(case_id: str, warehouse: Path, notice_on: date | None, out: Path | None) -> None:
    """Draft the notice to the claimant of a confirmed case (사전통지 및 의견제출 안내): the
    records matched, each rule's legal basis, the proven overpayment apart from any
    estimate, and how and by when to answer and contest. Refused (exit 2) unless the
    case's latest decision on or before the notice's date is `confirmed`; the notice
    itself stops and recovers nothing."""
    from fraud.case_file import CaseFileError, NoSuchCase, NotConfirmed, read_confirmed
    from fraud.config import Settings
    from fraud.dispositions import DispositionError
    from fraud.retention import today
    from fraud.storage import atomic_file
    from pages.notice import render

    on = notice_on or today()
    try:
        response_days = Settings.from_env().notice_response_days
    except ValueError as error:
        _fail(2, str(error))
    try:
        case_file = read_confirmed(warehouse, case_id, on)
    except (NoSuchCase, NotConfirmed) as error:
        _fail(2, str(error))
    except (CaseFileError, DispositionError) as error:
        _fail(1, str(error))
    text = render(case_file, on, response_days)
    if out is None:
        click.echo(text, nl=False)
        return
    with atomic_file(out, "w", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"notice for {case_id}: {out}")


@main.command()
@warehouse_option
@click.option("--host", default="127.0.0.1", help="The address to listen on (behind the site's TLS proxy).")
@click.option("--port", default=8090, type=click.IntRange(1, 65535))
@click.option("--ageing-days", default=14, type=click.IntRange(min=1), help="Days after which a case is ageing.")
@click.option(
    "--trusted-user-header",
    default=None,
    help="Behind a single sign-on proxy: the header naming the authenticated user (docs/workbench.md).",
)
def serve(warehouse: Path, host: str, port: int, ageing_days: int, trusted_user_header: str | None) -> None:
    """Serve the investigators' workbench over the warehouse (its state: FRAUD_WORKBENCH_DB,
    else SQLite under <warehouse>/workbench/)."""
    import uvicorn

    from workbench.app import create_app

    if not (warehouse / "outputs").is_dir():
        _fail(2, f"{warehouse} holds no outputs/: run a night first (fraudctl run)")
    app = create_app(warehouse, ageing_days=ageing_days, trusted_user_header=trusted_user_header)
    click.echo(f"workbench on http://{host}:{port}/ over {warehouse} (log in with a user of `fraudctl users add`)")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


@main.command("stage-server")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(path_type=Path),
    default=None,
    help="The Unix socket to listen on (default: $FRAUD_STAGE_SERVER).",
)
def stage_server(socket_path: Path | None) -> None:
    """Run the Airflow DAG's Spark stages in one long-lived Spark driver (until stopped).

    Tasks whose FRAUD_STAGE_SERVER names this socket hand it their stage instead of
    starting a JVM each; one started with other code or Spark settings runs its stage
    itself (docs/scale.md)."""
    from fraud.config import Settings
    from jobs.stage_server import serve

    settings = Settings.from_env()
    path = socket_path or settings.stage_server
    if path is None:
        _fail(2, "no socket: pass --socket or set FRAUD_STAGE_SERVER")
    click.echo(f"stage server starting on {path.resolve()} (Spark first; stop it with SIGTERM or Ctrl-C)")
    try:
        serve(path.resolve(), settings)
    except ValueError as error:  # the socket's path: too long, taken, not a socket
        _fail(2, str(error))


@main.group()
def users() -> None:
    """The workbench's users and their roles (investigator, supervisor, auditor)."""


def _workbench_db(warehouse: Path):
    from sqlalchemy.orm import Session

    from workbench.store import database_url, engine_for, migrate

    url = database_url(warehouse)
    migrate(url)
    return Session(engine_for(url))


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["investigator", "supervisor", "auditor"]))
@warehouse_option
def users_add(name: str, role: str, warehouse: Path) -> None:
    """Add a user; the password is read from standard input (never an argument, which
    the process list and shell history would show)."""
    from datetime import UTC, datetime

    from workbench.auth import AuthError, add_user

    password = sys.stdin.readline().rstrip("\r\n")
    with _workbench_db(warehouse) as db:
        try:
            add_user(db, name, role, password, datetime.now(UTC))
        except AuthError as error:
            _fail(2, str(error))
    click.echo(f"added {name} ({role})")


@users.command("list")
@warehouse_option
def users_list(warehouse: Path) -> None:
    """The users and their roles."""
    from workbench.auth import users as all_users

    with _workbench_db(warehouse) as db:
        for user in all_users(db):
            click.echo(f"{user.name}\t{user.role}\tsince {user.created_at:%Y-%m-%d}")


if __name__ == "__main__":
    main()
