"""Cross-matching: undeclared work (tax income x certified periods) and certification
from abroad (border crossings x certification days), the estimated overpayment, the
repeat offenders, and the investigation queue.

Reads the conformed tables of the run date, writes into the run's outputs directory:

- `cases.csv` (OUTPUTS.md): one row per suspicious claim, by rank;
- `repeat_offenders.csv` (OUTPUTS.md): persons with earlier findings and an open claim;
- `evidence.parquet`: per case and rule hit, the certification, income statements and
  crossings behind it (for the reports);
- `scores.parquet`, only when a model is in use: per undecided claim, the rule
  strength, the score without the model, the model's calibrated probability and the
  queue score (for evaluating rules, model and their combination).

With a model version (jobs/select_model.py), every undecided claim is scored with it
(models/scoring.py) and the queue combines rules and model (rules/engine.py
combine_scores); without one the queue is the rules' alone.

Every file is written to a staging name and renamed into place, rows sorted on a
unique key, so the same conformed input gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.claims import REPEAT_OFFENDER_COLUMNS, decided_claims, repeat_offenders, time_barred_claims
from features.coverage import coverage_of_tables
from features.rings import WORKPLACE_COLUMNS, suspected_workplaces
from fraud import dispositions
from fraud.layout import Layout
from fraud.spark import join_keys, read_parquet
from fraud.storage import atomic_dir, atomic_file, ensure_dir, read_json, write_csv, write_json
from jobs.changes import STATE_FILE, NightChanges, night_changes, stage_state, usable_base
from jobs.collusion import TOUCHED, TOUCHED_SINCE
from jobs.conform import coverage_of, read_conformed
from jobs.stage_io import CrossmatchInputs, CrossmatchResult, Night
from rules.cleared import CLEARED_SCHEMA, current_evidence, still_cleared
from rules.engine import CASE_COLUMNS, EVIDENCE_COLUMNS, HIT_COLUMNS, case_evidence, cases
from rules.evidence import Evidence, gather_evidence
from rules.ruleset import RULES, RULES_VERSION, Rule

if TYPE_CHECKING:
    from models.fit import TrainedModel

log = logging.getLogger(__name__)

CASES_FILE = "cases.csv"
REPEAT_OFFENDERS_FILE = "repeat_offenders.csv"
WORKPLACES_FILE = "workplaces.csv"
EVIDENCE_FILE = "evidence.parquet"
SCORES_FILE = "scores.parquet"
SCORE_COLUMNS = ("claim_id", "rule_strength", "rules_score", "model_probability", "score")
SCORES_SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("rule_strength", pa.float64()),  # null: no case by the rules
        ("rules_score", pa.float64()),  # the score without the model (null: no case)
        ("model_probability", pa.float64()),
        ("score", pa.float64()),  # the queue's score (null: not in the queue)
    ]
)
EVIDENCE_BATCH_ROWS = 10_000

EVIDENCE_SCHEMA = pa.schema(
    [
        ("case_id", pa.string()),
        ("claim_id", pa.string()),
        ("person_key", pa.string()),
        ("rule_id", pa.string()),
        ("typology", pa.string()),
        ("standard", pa.string()),
        ("taints", pa.bool_()),
        ("cert_id", pa.string()),
        ("cert_on", pa.date32()),
        ("period_from", pa.date32()),
        ("period_to", pa.date32()),
        ("channel", pa.string()),
        ("ip_country", pa.string()),
        ("declared_income", pa.int64()),
        ("paid_amount", pa.int64()),
        ("worked_days", pa.float64()),
        ("certain_worked_days", pa.float64()),
        ("attributable_income", pa.int64()),
        ("income_record_ids", pa.list_(pa.string())),
        ("crossing_ids", pa.list_(pa.string())),
        ("evidence", pa.string()),
    ]
)


@dataclass
class Detection:
    """What cross-matching found: the queue, the repeat offenders, the evidence behind
    each case and the certification features they were computed from."""

    cases: DataFrame
    repeat_offenders: DataFrame
    evidence: DataFrame
    certification_features: DataFrame
    scores: DataFrame | None = None  # with a model: SCORE_COLUMNS per undecided claim
    kept_out: DataFrame | None = None  # cleared claims kept out of the queue (claim_id)
    found: Evidence | None = None  # every claim's evidence (a later night builds on it)
    recomputed_claims: DataFrame | None = None  # a nightly run: the claims it recomputed (claim_id)
    # Claims with rule hits left out: every payment past the recovery limitation (claim_id).
    time_barred: DataFrame | None = None


@dataclass
class CarriedEvidence:
    """A nightly run's base: the base night's evidence, the collusion rows it was
    computed from and what the night changed."""

    changes: NightChanges
    evidence: Evidence
    collusion: DataFrame  # the base night's collusion rows
    # The claims whose collusion rows the graph stage says changed since the same base
    # (None: compare the rows).
    collusion_touched: DataFrame | None = None


PER_PERSON_TABLES = ("claims", "employments", "income", "crossings", "findings")


def open_trip_persons(crossings: DataFrame) -> DataFrame:
    """Persons whose last crossing is a departure: their trip lasts up to the run date
    (features/trips.py), so their evidence can change with no new record."""
    last = F.max_by("direction", F.struct("crossed_at", "crossing_id"))
    return (
        crossings.groupBy("person_key")
        .agg(last.alias("last_direction"))
        .where(F.col("last_direction") == "OUT")
        .select("person_key")
    )


def touched_persons(tables: dict[str, DataFrame], carried: CarriedEvidence, collusion: DataFrame) -> DataFrame:
    """The claimants whose evidence a night may change -> (person_key).

    A person's evidence reads their own claims, certifications, statements, crossings,
    findings and spells, the records of the workplaces that employed or paid them
    (insured payer, reported spell), the collusion rows of their claims and the filing
    date of any claim their findings name. So a person is recomputed when one of these
    changed, or when their last crossing is a departure (an open trip is abroad up to
    the run date)."""
    changes = carried.changes
    claims = tables["claims"]
    changed_workplaces = changes.values("workplace_id", "workplaces")
    payers = changes.values("business_no", "workplaces").withColumnRenamed("business_no", "payer_business_no")
    if carried.collusion_touched is not None:
        changed_collusion = carried.collusion_touched
    else:
        columns = collusion.columns
        now, before = collusion.select(*columns), carried.collusion.select(*columns)
        changed_collusion = now.subtract(before).select("claim_id").unionByName(before.subtract(now).select("claim_id"))
    claim_persons = claims.join(
        join_keys(changes.values("claim_id", "certifications").unionByName(changed_collusion)),
        on="claim_id",
        how="left_semi",
    )
    citing = tables["findings"].join(join_keys(changes.values("claim_id", "claims")), on="claim_id", how="left_semi")
    return (
        changes.values("person_key", "claims", "employments", "income", "crossings", "findings")
        .unionByName(claim_persons.select("person_key"))
        .unionByName(citing.select("person_key"))
        .unionByName(
            tables["employments"]
            .join(join_keys(changed_workplaces), on="workplace_id", how="left_semi")
            .select("person_key")
        )
        .unionByName(
            tables["income"].join(join_keys(payers), on="payer_business_no", how="left_semi").select("person_key")
        )
        .unionByName(open_trip_persons(tables["crossings"]))
        .distinct()
    )


def night_evidence(
    tables: dict[str, DataFrame],
    as_of: dt.date,
    rules: tuple[Rule, ...],
    collusion: DataFrame | None,
    carried: CarriedEvidence,
    coverage: dict,
) -> tuple[Evidence, DataFrame]:
    """A nightly run's Evidence: that of the touched persons (`touched_persons`)
    computed from their records, the rest the base night's -> (Evidence, the
    recomputed claim_ids). Every feature and hit is a
    claimant's own, so this is the Evidence a run over everything gives."""
    touched = touched_persons(tables, carried, collusion)
    claims = tables["claims"]
    # A finding can name a claim of another person (an identity corrected since): its
    # owner's claims are read too, so the owner's evidence is computed again as well.
    cited = tables["findings"].join(touched, on="person_key", how="left_semi").select("claim_id")
    owners = claims.join(cited, on="claim_id", how="left_semi").select("person_key")
    persons = join_keys(touched.unionByName(owners).distinct())
    claim_ids = join_keys(
        claims.join(persons, on="person_key", how="left_semi")
        .select("claim_id")
        .unionByName(carried.changes.values("claim_id", "claims"))
        .distinct()
    )
    # The touched claimants' records, each materialised once (the evidence reads them
    # several times); the key sets are broadcast when few, so no history is shuffled.
    theirs = dict(tables)
    for name in PER_PERSON_TABLES:
        theirs[name] = tables[name].join(persons, on="person_key", how="left_semi").localCheckpoint()
    theirs["certifications"] = (
        tables["certifications"].join(claim_ids, on="claim_id", how="left_semi").localCheckpoint()
    )
    their_collusion = (
        None if collusion is None else collusion.join(claim_ids, on="claim_id", how="left_semi").localCheckpoint()
    )
    fresh = gather_evidence(theirs, as_of, rules, their_collusion, cache=True, coverage=coverage)

    def merged(before: DataFrame, now: DataFrame) -> DataFrame:
        kept = before.join(claim_ids, on="claim_id", how="left_anti")
        return kept.select(*now.columns).unionByName(now).localCheckpoint()

    before = carried.evidence
    evidence = Evidence(
        certification_table=merged(before.certification_table, fresh.certification_table),
        certification_hits=merged(before.certification_hits, fresh.certification_hits),
        claim_table=merged(before.claim_table, fresh.claim_table),
        claim_hits=merged(before.claim_hits, fresh.claim_hits),
    )
    return evidence, claim_ids


def detect(
    tables: dict[str, DataFrame],
    as_of: dt.date,
    rules: tuple[Rule, ...] = RULES,
    collusion: DataFrame | None = None,
    model: TrainedModel | None = None,
    cleared: DataFrame | None = None,
    rings: DataFrame | None = None,
    carried: CarriedEvidence | None = None,
    coverage: dict | None = None,
) -> Detection:
    """The conformed tables (by name, as of `as_of`), when the graph stage ran the
    claims' collusion features (features/collusion_evidence.py, with `ring_id`) and, when one
    is in use, the scoring model (models/fit.py TrainedModel) -> a Detection (no
    I/O). `cleared` (rules/cleared.py CLEARED_SCHEMA): claims investigators
    cleared, kept out of the queue unless their evidence grew (ring sizes from `rings`:
    ring_id, person_count). `carried` (a nightly run): only the touched claimants'
    evidence is computed (`night_evidence`). `coverage`: the feeds' spans
    (features/coverage.py), measured from `tables` when not given."""
    recomputed = None
    coverage = coverage if coverage is not None else coverage_of_tables(tables, as_of)
    if carried is None:
        found = gather_evidence(tables, as_of, rules, collusion, cache=True, coverage=coverage)
    else:
        found, recomputed = night_evidence(tables, as_of, rules, collusion, carried, coverage)
    certification_table, certification_hits = found.certification_table, found.certification_hits
    claim_table, claim_hits = found.claim_table, found.claim_hits

    in_period_order = F.concat_ws("|", F.col("period_from").cast("string"), F.col("cert_id"))
    every_hit = certification_hits.select(
        "claim_id", *HIT_COLUMNS, in_period_order.alias("evidence_order")
    ).unionByName(claim_hits.select("claim_id", *HIT_COLUMNS, F.lit("").alias("evidence_order")))
    # A claim with a finding of its own has been investigated and decided: it is not
    # queued again (its claimant's next claim is, and repeat_offenders.csv lists them).
    decided = decided_claims(tables["findings"], as_of)
    undecided_hits = every_hit.join(decided, on="claim_id", how="left_anti")
    kept_out = None
    if cleared is not None:
        evidence_now = current_evidence(every_hit, certification_hits, claim_table, rings)
        kept_out = still_cleared(evidence_now, cleared).localCheckpoint()
        undecided_hits = undecided_hits.join(kept_out, on="claim_id", how="left_anti")
    # A claim whose every payment is past the limitation for recovering it is no case.
    time_barred = (
        undecided_hits.join(time_barred_claims(certification_table, as_of), on="claim_id", how="left_semi")
        .select("claim_id")
        .distinct()
        .localCheckpoint()
    )
    undecided_hits = undecided_hits.join(time_barred, on="claim_id", how="left_anti")
    model_scores = None if model is None else model_scores_of(model, found, tables["claims"], decided)
    queue = cases(undecided_hits, claim_table, model_scores).localCheckpoint()
    return Detection(
        cases=queue,
        repeat_offenders=repeat_offenders(claim_table, queue),
        evidence=case_evidence(queue, certification_hits, claim_hits, certification_table),
        certification_features=certification_table,
        scores=None if model_scores is None else claim_scores(model_scores, queue),
        kept_out=kept_out,
        found=found,
        recomputed_claims=recomputed,
        time_barred=time_barred,
    )


def model_scores_of(model: TrainedModel, found: Evidence, claims: DataFrame, decided: DataFrame) -> DataFrame:
    """The model's probability and reason codes for every undecided claim, its
    features built from the evidence the rules already computed."""
    from models.model_features import feature_frame, inputs_from_evidence
    from models.scoring import score_claims

    features = feature_frame(inputs_from_evidence(found, claims)).join(decided, on="claim_id", how="left_anti")
    return score_claims(model, features)


def claim_scores(model_scores: DataFrame, queue: DataFrame) -> DataFrame:
    """Per undecided claim (SCORE_COLUMNS): the rules' strength and score and the queue
    score when it is a case (null otherwise), and the model's probability."""
    return (
        model_scores.select("claim_id", "model_probability")
        .join(queue.select("claim_id", "rule_strength", "rules_score", "score"), on="claim_id", how="left")
        .select(*SCORE_COLUMNS)
    )


def _conformed_dir(path: Path, ds: dt.date) -> Path:
    """`inputs["conformed"]` is the run date's conformed directory; the conformed root
    (holding one directory per date) is accepted too."""
    if not (path / "claims").exists() and (path / ds.isoformat() / "claims").exists():
        return path / ds.isoformat()
    return path


def _text(value) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _case_rows(queue: DataFrame) -> Iterator[list]:
    for row in queue.orderBy("rank").select(*CASE_COLUMNS).toLocalIterator():
        values = row.asDict()
        values["score"] = f"{values['score']:.4f}"
        yield [_text(values[name]) for name in CASE_COLUMNS]


def _repeat_offender_rows(offenders: DataFrame) -> Iterator[list]:
    ordered = offenders.orderBy("person_key", "open_claim_id").select(*REPEAT_OFFENDER_COLUMNS)
    for row in ordered.toLocalIterator():
        yield [_text(row[name]) for name in REPEAT_OFFENDER_COLUMNS]


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_parquet(ordered: DataFrame, columns: tuple[str, ...], schema: pa.Schema, final: Path) -> int:
    """Stream ordered rows into one Parquet file, a batch at a time (one file, no Spark
    part names: the same rows give the same bytes). Returns the row count."""
    count = 0
    with atomic_file(final, "wb") as handle:
        writer = pq.ParquetWriter(handle, schema, compression="zstd")
        try:
            for batch in _batches(ordered.select(*columns).toLocalIterator(), EVIDENCE_BATCH_ROWS):
                writer.write_table(pa.table({name: [row[name] for row in batch] for name in columns}, schema=schema))
                count += len(batch)
        finally:
            writer.close()
    return count


def write_evidence(evidence: DataFrame, final: Path) -> int:
    """The evidence rows, sorted on (case_id, rule_id, cert_id), into one Parquet file."""
    ordered = evidence.orderBy("case_id", "rule_id", F.col("cert_id").asc_nulls_first())
    return _write_parquet(ordered, EVIDENCE_COLUMNS, EVIDENCE_SCHEMA, final)


def write_scores(scores: DataFrame, final: Path) -> int:
    """The per-claim scores, sorted on claim_id, into one Parquet file."""
    return _write_parquet(scores.orderBy("claim_id"), SCORE_COLUMNS, SCORES_SCHEMA, final)


def load_model(warehouse: Path, version: str, tracking_uri: str | None = None) -> TrainedModel:
    """The pinned model version from the registry (models/registry.py)."""
    from models.registry import ModelRegistry

    return ModelRegistry(warehouse, tracking_uri=tracking_uri).load(version=version).model


def _workplace_rows(workplaces: DataFrame) -> Iterator[list]:
    for row in workplaces.orderBy("rank").select(*WORKPLACE_COLUMNS).toLocalIterator():
        values = row.asDict()
        values["score"] = f"{values['score']:.4f}"
        yield [_text(values[name]) for name in WORKPLACE_COLUMNS]


EVIDENCE_FRAMES = ("certification_table", "certification_hits", "claim_table", "claim_hits")


def save_evidence(found: Evidence, layout: Layout, night: Night) -> None:
    """Every claim's evidence of the night, for the next night to build on."""
    with atomic_dir(layout.crossmatch(night.ds)) as staging:
        for name in EVIDENCE_FRAMES:
            getattr(found, name).write.parquet(str(staging / name))
        write_json(staging / STATE_FILE, stage_state("crossmatch", layout, night.ds, night))


def carried_over(
    spark, layout: Layout, ds: dt.date, tables: dict[str, DataFrame], inputs: CrossmatchInputs, night: Night
) -> tuple[CarriedEvidence | None, str]:
    """The base night's evidence when this night may build on it
    (jobs/changes.py:usable_base), or None, and why."""
    if not inputs.collusion:
        return None, "no collusion stage"
    base, why = usable_base("crossmatch", layout, ds, inputs.base, night, layout.crossmatch)
    if base is None:
        return None, why
    if not (layout.collusion(base) / "claims").exists():
        return None, f"no collusion claims of {base}"
    saved = layout.crossmatch(base)
    frames = {name: read_parquet(spark, saved / name) for name in EVIDENCE_FRAMES}
    touched = Path(inputs.collusion) / TOUCHED
    since = touched / TOUCHED_SINCE
    same_base = since.exists() and read_json(since) == {"base": base.isoformat()}
    carried = CarriedEvidence(
        changes=night_changes(spark, layout, ds, base),
        evidence=Evidence(**frames),
        collusion=read_parquet(spark, layout.collusion(base) / "claims"),
        collusion_touched=read_parquet(spark, touched) if same_base else None,
    )
    return carried, why


def night_context(
    spark, warehouse: Path, ds: dt.date, collusion_dir: Path | None
) -> tuple[DataFrame | None, DataFrame, list, DataFrame | None]:
    """What a night's queue is decided with besides the conformed tables: the graph
    stage's claims and rings (none without a collusion directory), the dispositions
    recorded on or before the run date (fraud/dispositions.py: the same entries on
    every re-run of the night) and the cleared claims among them ->
    (collusion, rings, applied entries, cleared)."""
    collusion = read_parquet(spark, collusion_dir / "claims") if collusion_dir else None
    if collusion_dir is not None:
        rings_df = read_parquet(spark, collusion_dir / "rings")
    else:
        rings_df = spark.createDataFrame(
            [], "ring_id string, score double, reasons string, workplace_ids string, person_count int"
        )
    applied = dispositions.applicable(warehouse, ds)
    cleared_rows = dispositions.cleared_rows(applied)
    cleared = spark.createDataFrame(cleared_rows, CLEARED_SCHEMA) if cleared_rows else None
    return collusion, rings_df, applied, cleared


def run(spark, inputs: CrossmatchInputs, night: Night) -> CrossmatchResult:
    """Run the rule set (and the model, when one was selected) over the conformed tables
    and the collusion evidence; write the queue's files to outputs/<ds>/. Returns the
    counts, the rule-set and model versions and the files written."""
    ds = night.ds
    warehouse = night.warehouse
    output = ensure_dir(Layout(warehouse).outputs(ds))
    tables = read_conformed(spark, _conformed_dir(Path(inputs.conformed), ds))
    collusion_dir = Path(inputs.collusion) if inputs.collusion else None
    model_version = inputs.model_version
    model = load_model(warehouse, str(model_version), night.tracking_uri) if model_version else None
    collusion, rings_df, applied, cleared = night_context(spark, warehouse, ds, collusion_dir)
    layout = Layout(warehouse)
    carried, why = carried_over(spark, layout, ds, tables, inputs, night)
    found = detect(
        tables,
        ds,
        collusion=collusion,
        model=model,
        cleared=cleared,
        rings=rings_df,
        carried=carried,
        coverage=coverage_of(Path(inputs.conformed)) or None,
    )

    cases_path = output / CASES_FILE
    offenders_path = output / REPEAT_OFFENDERS_FILE
    evidence_path = output / EVIDENCE_FILE
    workplaces_path = output / WORKPLACES_FILE
    case_count = write_csv(cases_path, list(CASE_COLUMNS), _case_rows(found.cases))
    offender_count = write_csv(
        offenders_path, list(REPEAT_OFFENDER_COLUMNS), _repeat_offender_rows(found.repeat_offenders)
    )
    evidence_count = write_evidence(found.evidence, evidence_path)
    kept_out_count = found.kept_out.count() if found.kept_out is not None else 0
    time_barred_count = found.time_barred.count() if found.time_barred is not None else 0
    workplace_count = write_csv(
        workplaces_path, list(WORKPLACE_COLUMNS), _workplace_rows(suspected_workplaces(found.cases, rings_df))
    )
    files = [str(cases_path), str(offenders_path), str(evidence_path), str(workplaces_path)]
    if found.scores is not None:
        scores_path = output / SCORES_FILE
        write_scores(found.scores, scores_path)
        files.append(str(scores_path))
    recomputed = found.recomputed_claims.count() if found.recomputed_claims is not None else None
    save_evidence(found.found, layout, night)
    mode = "full" if carried is None else "incremental"
    log.info(
        "crossmatch %s (%s: %s%s): %d cases (%d claims with hits past the recovery limitation left out), "
        "%d suspected workplaces, %d repeat offenders, %d evidence rows (rules %s, model %s)",
        ds,
        mode,
        why,
        "" if recomputed is None else f", {recomputed} claims recomputed",
        case_count,
        time_barred_count,
        workplace_count,
        offender_count,
        evidence_count,
        RULES_VERSION,
        model_version or "none",
    )
    return CrossmatchResult(
        cases=case_count,
        time_barred=time_barred_count,
        workplaces=workplace_count,
        repeat_offenders=offender_count,
        rules_version=RULES_VERSION,
        model_version=str(model_version) if model_version else None,
        files=files,
        dispositions={
            "applied": len(applied),
            "sha256": dispositions.checksum(applied),
            "cleared_kept_out": kept_out_count,
        },
        mode=mode,
        base=carried.changes.base.isoformat() if carried else None,
        why=why,
        recomputed_claims=recomputed,
    )
