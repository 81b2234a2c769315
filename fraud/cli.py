"""`fraudctl`: the command line of the nightly fraud pipeline.

Exit status: 0 success; 2 bad usage; 3 a drop that cannot be trusted (manifest and
files disagree); 4 drops missing for the run date; 5 validation could not vouch for
the data; 1 anything else. A failure prints one line on stderr.
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


def _fail(code: int, message: str) -> None:
    click.echo(f"fraudctl: {message}", err=True)
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
@click.option("--log-level", default="INFO", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"],
                                                                  case_sensitive=False))
@click.version_option(package_name="fraud-nightly", prog_name="fraudctl")
def main(log_level: str) -> None:
    """Nightly detection of unemployment-benefit fraud (실업급여 부정수급)."""
    _configure_logging(log_level)


@main.command()
@click.option("--landing", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The agencies' landing directory (<landing>/<source>/<YYYY-MM-DD>/).")
@click.option("--warehouse", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the pipeline keeps its tables, quarantine and outputs.")
@click.option("--ds", required=True, type=DAY, help="Run date (KST): drops dated on or before it are used.")
@click.option("--wait", "wait_seconds", type=click.IntRange(min=0), default=0,
              help="Seconds to wait for every source's drop dated DS before failing.")
@click.option("--require-drops/--no-require-drops", default=True,
              help="Fail when a source has not delivered a drop dated DS.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar while reading drops.")
def run(landing: Path, warehouse: Path, ds: date, wait_seconds: int, require_drops: bool, progress: bool) -> None:
    """Run the nightly pipeline for one date (the same stages as the Airflow DAG)."""
    from fraud.config import Settings
    from fraud.landing import DropError
    from jobs import pipeline
    from jobs.publish import PublishError
    from jobs.validate import ValidationError

    if not landing.is_dir():
        _fail(2, f"landing directory {landing} does not exist")
    settings = Settings.from_env(landing=landing, warehouse=warehouse, drop_wait_timeout_seconds=wait_seconds,
                                 require_drops_for_ds=require_drops)
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(desc="reading drops", unit=" rows", unit_scale=True, file=sys.stderr)
    try:
        results = pipeline.run_all(ds, settings, progress=bar.update if bar else None)
    except DropError as error:
        _fail(EXIT_BAD_DROP, f"bad drop: {error}")
    except pipeline.MissingDropsError as error:
        _fail(EXIT_MISSING_DROPS, str(error))
    except (ValidationError, PublishError) as error:
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
    click.echo(f"rows in {totals['rows_in']}, valid {totals['valid']}, quarantined {totals['quarantined']}"
               f" (quarantine: {settings.warehouse / 'quarantine'})")


@main.command()
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Landing directory to write (created; must be empty or absent).")
@click.option("--persons", type=click.IntRange(min=200), default=2000, help="Size of the insured population.")
@click.option("--seed", type=int, default=7, help="Same seed, same bytes.")
@click.option("--baseline", type=DAY, default="2026-03-02", help="Date of the baseline (full-history) drop.")
@click.option("--days", type=click.IntRange(min=0, max=60), default=5, help="Daily delta drops after the baseline.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def synth(out: Path, persons: int, seed: int, baseline: date, days: int, progress: bool) -> None:
    """Write a synthetic landing directory (all typologies and look-alikes planted)
    with its truth file under OUT/_truth/."""
    from fraud.synth import generate

    if out.exists() and any(out.iterdir()):
        _fail(2, f"{out} is not empty; choose a new directory")
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
def rules() -> None:
    """List the rule set (id, typology, severity, whether a hit taints the certification,
    invalidates the claim or only aggravates, title, legal basis)."""
    from rules.ruleset import RULES, RULES_VERSION

    click.echo(f"rule set {RULES_VERSION}")
    for rule in RULES:
        taints = ("taints" if rule.taints else "invalidates" if rule.invalidates_claim
                  else "aggravates" if rule.aggravates_only else "")
        strengthens = f" (strengthens {rule.strengthens})" if rule.strengthens else ""
        click.echo(f"{rule.rule_id:<6} {rule.typology or '-':<21} {rule.severity:<5} {taints:<11} "
                   f"{rule.title}{strengthens} [{rule.legal_basis}]")


@main.command()
@click.option("--truth", required=True, type=click.Path(exists=True, path_type=Path),
              help="The generator's truth file, or the landing directory holding _truth/truth.json.")
@click.option("--outputs", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A run's outputs directory (<warehouse>/outputs/<ds>).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the figures as JSON here.")
@click.option("--check/--no-check", default=False, help="Exit 1 when the targets are not met.")
def evaluate(truth: Path, outputs: Path, json_path: Path | None, check: bool) -> None:
    """Compare a run's outputs with what the synthetic generator planted."""
    import json

    from fraud.evaluation import evaluate as measure
    from fraud.evaluation import load_truth, render
    from rules.ruleset import RULES

    if not (outputs / "cases.csv").exists():
        _fail(2, f"{outputs} has no cases.csv: not a run's outputs directory")
    covered = {rule.typology for rule in RULES if rule.typology is not None}
    report = measure(outputs, load_truth(truth), covered)
    click.echo(render(report))
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    if check and not report["targets_met"]:
        sys.exit(1)


def _add_airflow_commands() -> None:
    from ops.cli import airflow

    main.add_command(airflow)


_add_airflow_commands()

if __name__ == "__main__":
    main()
