"""Report: the night's static HTML site for investigators and auditors,
`outputs/<ds>/report/` (pages/site.py renders it).

Reads the run's outputs (cases.csv, workplaces.csv, rings.csv, rings/*.svg,
evidence.parquet, run_manifest.json), the queue of the latest earlier run (for what
changed since yesterday), the conformed records behind the queued claims only (their
claims, certifications, income statements, crossings, employment spells, findings and
workplaces; selected by semi-joins in Spark, never whole tables), the claims of each
ring, the quarantine files of the run's drops, the dispositions recorded on or before
ds, and the model registry when the night used a model. Writes the site atomically
(fraud/storage.py atomic_dir). Nothing in it depends on the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraud import dispositions
from fraud.layout import Layout
from fraud.spark import read_parquet
from fraud.storage import atomic_dir, read_csv, read_json, reading_csv
from jobs.conform import read_conformed
from jobs.stage_io import Night, ReportInputs, ReportResult
from models.model_features import NOT_USED

log = logging.getLogger(__name__)

REPORT_DIR = "report"


def read_csv_rows(path: Path) -> list[dict]:
    return read_csv(path) if path.exists() else []


def previous_run(layout: Layout, ds: dt.date) -> dt.date | None:
    """The latest date before `ds` with a queue in the warehouse ("yesterday")."""
    root = layout.root / "outputs"
    if not root.is_dir():
        return None
    earlier = []
    for path in root.iterdir():
        try:
            day = dt.date.fromisoformat(path.name)
        except ValueError:
            continue
        if day < ds and (path / "cases.csv").exists():
            earlier.append(day)
    return max(earlier, default=None)


def _collect(frame: DataFrame, order: list[str]) -> list[dict]:
    return [row.asDict() for row in frame.orderBy(*order).collect()]


def records_behind(
    spark, tables: dict[str, DataFrame], cases: list[dict], workplace_ids: set[str], ds: dt.date
) -> dict:
    """The conformed records of the queued claims, their persons and the listed
    workplaces, as lists of dicts (semi-joins: only these rows reach the driver)."""
    # The queue's keys are few: broadcast, so each history table is scanned, not shuffled.
    claim_ids = F.broadcast(
        spark.createDataFrame(
            sorted({(c["claim_id"], c["person_key"]) for c in cases}) or [], "claim_id string, person_key string"
        )
    )
    persons = F.broadcast(claim_ids.select("person_key").distinct())
    places = F.broadcast(spark.createDataFrame(sorted((w,) for w in workplace_ids), "workplace_id string"))

    def of_claims(name):
        return tables[name].join(claim_ids.select("claim_id"), on="claim_id", how="left_semi")

    def of_persons(name):
        return tables[name].join(persons, on="person_key", how="left_semi")

    return {
        "claims": _collect(of_claims("claims"), ["claim_id"]),
        "certifications": _collect(of_claims("certifications"), ["claim_id", "period_from", "cert_id"]),
        "income": _collect(of_persons("income").where(F.col("filed_on") <= F.lit(ds)), ["person_key", "record_id"]),
        "crossings": _collect(of_persons("crossings"), ["person_key", "crossed_at", "crossing_id"]),
        "employments": _collect(of_persons("employments"), ["person_key", "acquired_on", "employment_id"]),
        "findings": _collect(of_persons("findings"), ["person_key", "decided_on", "finding_id"]),
        "workplaces": _collect(tables["workplaces"].join(places, on="workplace_id", how="left_semi"), ["workplace_id"]),
    }


def ring_claims(spark, collusion_dir: Path | None, claims: DataFrame) -> list[dict]:
    """claim_id, person_key, workplace_id, ring_id of every claim in a ring: the ring from
    the graph stage's claims, the person and workplace from the conformed `claims`."""
    if collusion_dir is None or not (collusion_dir / "claims").exists():
        return []
    in_rings = read_parquet(spark, collusion_dir / "claims").where(F.col("ring_id").isNotNull())
    subjects = claims.select("claim_id", "person_key", "workplace_id")
    joined = in_rings.select("claim_id", "ring_id").join(subjects, on="claim_id", how="left")
    return _collect(joined.select("claim_id", "person_key", "workplace_id", "ring_id"), ["ring_id", "claim_id"])


def quarantine_counts(layout: Layout, manifest: dict) -> list[dict]:
    """Per drop, table, column and check of the run's drops: quarantined rows."""
    rows = []
    for drop in manifest.get("drops", []):
        for table, counts in sorted(drop["tables"].items()):
            if not counts.get("quarantined"):
                continue
            path = layout.quarantine_file(drop["source"], dt.date.fromisoformat(drop["drop_date"]), table)
            if not path.exists():
                continue
            with reading_csv(path) as quarantined:  # a record kept whole may be longer than csv's limit
                tally = Counter((r.get("column") or "", r.get("check") or "") for r in quarantined)
            for (column, check), count in sorted(tally.items()):
                rows.append(
                    {
                        "source": drop["source"],
                        "drop_date": drop["drop_date"],
                        "table": table,
                        "column": column,
                        "check": check,
                        "rows": count,
                    }
                )
    return rows


def model_card(warehouse: Path, version: str | None, tracking_uri: str | None = None) -> tuple[dict | None, str | None]:
    """The model of the night (version, run, training data, holdout figures, features),
    or (None, why) on a rules-only night or when the registry cannot be read."""
    if not version:
        return None, None
    try:
        from models.model_features import FEATURE_MEANINGS, FEATURES
        from models.registry import ModelRegistry

        registered = ModelRegistry(warehouse, tracking_uri=tracking_uri).load(version=version)
    except Exception as error:  # the report must still be written; the page says why
        log.warning("model %s could not be read from the registry: %s", version, error)
        return None, f"model version {version} could not be read from the registry: {type(error).__name__}"
    sources = {feature.name: feature.source for feature in FEATURES}
    metrics = []
    for name, value in sorted(registered.model.metrics.items()):
        if isinstance(value, dict):
            metrics.extend(
                {"metric": f"{name} {key}", "value": f"{v:.4f}" if isinstance(v, float) else v}
                for key, v in sorted(value.items())
            )
        else:
            metrics.append({"metric": name, "value": f"{value:.4f}" if isinstance(value, float) else value})
    features = [
        {"name": name, "meaning": FEATURE_MEANINGS.get(name, ""), "source": sources.get(name, "")}
        for name in registered.model.features
    ]
    return {
        "version": registered.version,
        "run_id": registered.run_id,
        "training_data_sha256": registered.training_data_sha256,
        "metrics": metrics,
        "features": features,
    }, None


def run(spark, inputs: ReportInputs, night: Night) -> ReportResult:
    """Write outputs/<ds>/report/ from the night's outputs, its manifest and the records
    behind its cases (the configuration gives the additional-collection multipliers).
    Returns its path and page count."""
    from pages.site import ReportInput, render_pages

    ds = night.ds
    warehouse = night.warehouse
    layout = Layout(warehouse)
    outputs = layout.outputs(ds)
    manifest = read_json(Path(inputs.manifest))
    cases = read_csv_rows(outputs / "cases.csv")
    workplaces = read_csv_rows(outputs / "workplaces.csv")
    rings = read_csv_rows(outputs / "rings.csv")
    pictures = {path.stem: path.read_text(encoding="utf-8") for path in sorted((outputs / "rings").glob("*.svg"))}
    evidence_file = outputs / "evidence.parquet"
    if evidence_file.exists():
        import pyarrow.parquet as pq

        evidence = pq.read_table(evidence_file).to_pylist()
    else:
        evidence = []
    collusion_dir = Path(inputs.collusion) if inputs.collusion else None
    tables = read_conformed(spark, Path(inputs.conformed))
    in_rings = ring_claims(spark, collusion_dir, tables["claims"])
    wanted_workplaces = (
        {c["workplace_id"] for c in cases}
        | {w["workplace_id"] for w in workplaces}
        | {w for r in rings for w in r["workplace_ids"].split(";") if w}
    )
    records = records_behind(spark, tables, cases, wanted_workplaces, ds)
    records["ring_claims"] = in_rings
    if night.release_memory:
        # The stage's Spark work is done: its JVM gives back the heap it grew while
        # Python renders the pages.
        from fraud.spark import release_memory

        release_memory()
    yesterday = previous_run(layout, ds)
    model, model_error = model_card(warehouse, manifest.get("model_version"), night.tracking_uri)
    configuration = night.configuration
    site = render_pages(
        ReportInput(
            ds=ds,
            manifest=manifest,
            cases=cases,
            workplaces=workplaces,
            rings=rings,
            ring_pictures=pictures,
            evidence=evidence,
            records=records,
            previous_ds=yesterday.isoformat() if yesterday else None,
            previous_cases=read_csv_rows(layout.outputs(yesterday) / "cases.csv") if yesterday else [],
            dispositions=dispositions.applicable(warehouse, ds),
            quarantine=quarantine_counts(layout, manifest),
            model=model,
            model_error=model_error,
            multiplier=configuration.get("additional_collection_multiplier", 2.0),
            collusion_multiplier=configuration.get("additional_collection_collusion_multiplier", 5.0),
            control_sample=read_csv_rows(outputs / "control_sample.csv"),
            precision=read_csv_rows(outputs / "precision.csv"),
            fairness=read_csv_rows(outputs / "fairness.csv"),
            not_used=dict(NOT_USED),
        )
    )
    final = outputs / REPORT_DIR
    pages = 0
    with atomic_dir(final) as staging:
        for relative, html in site:  # each page written as it is rendered, then let go
            page = staging / relative
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(html, encoding="utf-8")
            pages += 1
    log.info("report %s: %d pages in %s", ds, pages, final)
    return ReportResult(ds=ds.isoformat(), report=str(final), pages=pages, index=str(final / "index.html"))
