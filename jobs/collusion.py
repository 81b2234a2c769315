"""Collusion: the workplace-collusion graph, its suspected rings and hubs, and the
collusion evidence of every claim (features/collusion_evidence.py, features/rings.py).

Reads the conformed tables of the run date. Writes, for the run:

- `runs/<ds>/collusion/claims/`: one row per claim, its collusion features and
  `ring_id` (read by the cross-matching stage, which turns them into rule hits);
- `runs/<ds>/collusion/rings/`: the rings with their analytics (for the reports and
  `workplaces.csv`);
- `outputs/<ds>/rings.csv` (OUTPUTS.md), `outputs/<ds>/hubs.csv` (the nodes left out
  of the graph as hubs, with their degree) and `outputs/<ds>/rings/<ring_id>.svg`,
  a picture of each ring.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from features.collusion_evidence import (
    RING_CLAIM_COLUMNS,
    claim_collusion_features,
    graph_edges,
    workplace_components,
)
from features.components import changed_nodes, connected_components, prune_hubs, update_components
from features.coverage import EMPLOYMENT_FEED, TAX_FEED, coverage_of_tables, covered_from
from features.rings import candidate_components, rings
from fraud.layout import Layout
from fraud.spark import join_keys, read_parquet
from fraud.storage import atomic_dir, atomic_file, ensure_dir, write_csv, write_json
from jobs.changes import STATE_FILE, NightChanges, night_changes, stage_state, usable_base
from jobs.conform import coverage_of, read_conformed
from jobs.stage_io import CollusionInputs, CollusionResult, Night

log = logging.getLogger(__name__)

RINGS_FILE = "rings.csv"
TOUCHED = "touched"  # a nightly run: the claims whose rows may have changed since the base night
TOUCHED_SINCE = "_since.json"
HUBS_FILE = "hubs.csv"
RING_OUTPUT_COLUMNS = ("ring_id", "workplace_ids", "person_count", "claim_count", "score", "reasons")


@dataclass
class Collusion:
    """What the graph stage found: per-claim evidence (with ring_id), rings, hubs, and
    the graph (pruned edges, every node's component) a later night builds on."""

    claims: DataFrame
    rings: DataFrame
    hubs: DataFrame
    edges: DataFrame
    components: DataFrame
    recomputed_claims: DataFrame | None = None  # a nightly run: the claims it recomputed (claim_id)
    # A nightly run: every claim whose row (with ring_id) differs from the base night's,
    # for cross-matching (claim_id).
    touched: DataFrame | None = None
    analysed: DataFrame | None = None  # the candidate components whose ring was analysed (component)


@dataclass
class Carried:
    """A nightly run's base: the base night's results and what the night changed."""

    changes: NightChanges
    claims: DataFrame  # the base night's claims (CLAIM_COLLUSION_COLUMNS + ring_id)
    rings: DataFrame
    edges: DataFrame  # the base night's edges after hub pruning
    components: DataFrame  # the base night's (node, component)


def touched_claims(
    tables: dict[str, DataFrame],
    changed: DataFrame,
    components: DataFrame,
    carried: Carried,
    as_of: dt.date,
    tax_covered_from: dt.date | None,
) -> tuple[DataFrame, DataFrame]:
    """The claims whose collusion row a night may change, and the workplaces it touched
    -> (claims rows, (workplace_id)). `changed`: the nodes of the edges the night added
    or removed (features/components.py:changed_nodes).

    A claim's row reads its own record, its claimant's spells and statements, its
    certifications, the claims and spells of its workplace, the claims paid into its
    account and the workplaces of its component (related workplaces, the label). So a
    claim is recomputed when any of these changed: its workplace is touched (the
    workplace record, a claim or a spell at it, an edge anywhere in its component now
    or on the base night, a new component label), its claimant is (a claim, spell or
    statement), its account is (a claim or workplace paid into it), a certification
    of it changed, or a month of its qualifying spell became due for a tax statement
    since the base night (features/collusion_evidence.py:statement_due_on, inside the tax
    feed's span: the one feature that reads the run date)."""
    changes = carried.changes

    def workplaces_in_components_of(nodes: DataFrame, node_components: DataFrame) -> DataFrame:
        hit = node_components.join(nodes, on="node", how="left_semi").select("component").distinct()
        return workplace_components(node_components.join(hit, on="component", how="left_semi")).select("workplace_id")

    now_wc, before_wc = workplace_components(components), workplace_components(carried.components)
    relabelled = (
        now_wc.join(before_wc.withColumnRenamed("component", "before"), on="workplace_id", how="full")
        .where(~F.col("component").eqNullSafe(F.col("before")))
        .select("workplace_id")
    )
    workplaces = (
        changes.values("workplace_id", "workplaces", "claims", "employments")
        .unionByName(workplaces_in_components_of(changed, components))
        .unionByName(workplaces_in_components_of(changed, carried.components))
        .unionByName(relabelled)
        .distinct()
        .localCheckpoint()
    )
    persons = changes.values("person_key", "claims", "employments", "income")
    accounts = changes.values("bank_account_key", "claims", "workplaces")
    spell_from = F.date_sub(F.col("spell_to"), F.col("spell_days") - 1)
    # The months whose statement fell due in (base, as_of]: due at the end of the next
    # month, so the month before each month end passed.
    month_ends = [
        day
        for day in (changes.base + dt.timedelta(days=n + 1) for n in range((as_of - changes.base).days))
        if (day + dt.timedelta(days=1)).day == 1
    ]
    months_due = [(end.replace(day=1) - dt.timedelta(days=1)).replace(day=1) for end in month_ends]
    if tax_covered_from is None or not months_due:
        became_due = carried.claims.where(F.lit(False)).select("claim_id")
    else:  # the same span as the base night's (jobs/changes.py:usable_base)
        first_month = F.trunc(F.greatest(spell_from, F.lit(tax_covered_from)), "month")
        spans_a_month_due = F.lit(False)
        for month in months_due:
            spans_a_month_due = spans_a_month_due | (
                (first_month <= F.lit(month)) & (F.trunc(F.col("spell_to"), "month") >= F.lit(month))
            )
        became_due = carried.claims.where(F.col("spell_to").isNotNull() & spans_a_month_due).select("claim_id")
    claims = tables["claims"]
    claim_ids = (
        claims.join(join_keys(workplaces), on="workplace_id", how="left_semi")
        .select("claim_id")
        .unionByName(claims.join(join_keys(persons), on="person_key", how="left_semi").select("claim_id"))
        .unionByName(claims.join(join_keys(accounts), on="bank_account_key", how="left_semi").select("claim_id"))
        .unionByName(changes.values("claim_id", "certifications"))
        .unionByName(became_due)
        .distinct()
    )
    subjects = claims.join(join_keys(claim_ids), on="claim_id", how="left_semi").localCheckpoint()
    return subjects, workplaces


def changed_rows(now: DataFrame, before: DataFrame, claim_ids: DataFrame) -> DataFrame:
    """The claims of `claim_ids` whose row in `now` differs from, or is missing from,
    their row in `before` (same columns) -> (claim_id)."""
    claim_ids = join_keys(claim_ids)
    now = now.join(claim_ids, on="claim_id", how="left_semi")
    before = before.join(claim_ids, on="claim_id", how="left_semi").select(*now.columns)
    return now.subtract(before).select("claim_id").unionByName(before.subtract(now).select("claim_id")).distinct()


def stale_components(components: DataFrame, carried: Carried, workplaces: DataFrame) -> tuple[DataFrame, DataFrame]:
    """The components whose ring a night must analyse again, and the base night's
    components whose ring row no longer holds -> ((component), (component)).

    A component's ring reads its edges, the claims and spells at its workplaces and
    those claims' collusion rows: it is analysed again when one of its workplaces is
    touched (`touched_claims`) or holds a claim whose collusion row changed
    (`workplaces`: both). The base night's ring of any component that held such a
    workplace is dropped too, under its old label: a component can be relabelled,
    merged into another or no longer be a candidate. (A base component with no such
    workplace kept its edges, so it is the same component today, under the same
    label, and its ring row still holds.)"""
    now_wc, before_wc = workplace_components(components), workplace_components(carried.components)
    workplaces = join_keys(workplaces)
    again = now_wc.join(workplaces, on="workplace_id", how="left_semi").select("component").distinct()
    stale = before_wc.join(workplaces, on="workplace_id", how="left_semi").select("component")
    return again.localCheckpoint(), stale.unionByName(again).distinct()


def analyse(
    tables: dict[str, DataFrame],
    as_of: dt.date,
    hub_max_degree: int,
    carried: Carried | None = None,
    coverage: dict | None = None,
) -> Collusion:
    """The conformed tables -> Collusion (no I/O). With `carried` (a nightly run), only
    the components holding a changed edge, the claims the night touched
    (`touched_claims`) and the rings whose inputs changed (`stale_components`) are
    computed; the rest is the base night's, the same rows a run over everything
    gives. `coverage`: the feeds' spans (features/coverage.py), measured from `tables`
    when not given."""
    claims = tables["claims"]
    coverage = coverage if coverage is not None else coverage_of_tables(tables, as_of)
    tax_covered_from = covered_from(coverage, TAX_FEED)
    employment_covered_from = covered_from(coverage, EMPLOYMENT_FEED)
    # Materialised once: the kept edges and the hubs are both read from it.
    edges, hubs = prune_hubs(graph_edges(tables["workplaces"], claims).localCheckpoint(), hub_max_degree)
    edges, hubs = edges.localCheckpoint(), hubs.localCheckpoint()
    if carried is None:
        components = connected_components(edges).localCheckpoint()
    else:
        changed = changed_nodes(edges, carried.edges, ("src", "dst", "link")).localCheckpoint()
        components = update_components(edges, changed, carried.components).localCheckpoint()
    workplace_component = workplace_components(components)
    candidates = candidate_components(workplace_component)
    if carried is None:
        subjects = None
        collusion = claim_collusion_features(
            tables,
            workplace_component,
            edges,
            as_of,
            tax_covered_from=tax_covered_from,
            employment_covered_from=employment_covered_from,
        ).localCheckpoint()
    else:
        subjects, workplaces = touched_claims(tables, changed, components, carried, as_of, tax_covered_from)
        recomputed = claim_collusion_features(
            tables,
            workplace_component,
            edges,
            as_of,
            subjects,
            tax_covered_from=tax_covered_from,
            employment_covered_from=employment_covered_from,
        )
        before = carried.claims.drop(*RING_CLAIM_COLUMNS)
        kept = before.join(join_keys(subjects.select("claim_id")), on="claim_id", how="left_anti")
        collusion = kept.unionByName(recomputed).localCheckpoint()
        differs = changed_rows(collusion, before, subjects.select("claim_id"))
        ring_workplaces = (
            workplaces.unionByName(
                claims.join(join_keys(differs), on="claim_id", how="left_semi").select("workplace_id")
            )
            .distinct()
            .localCheckpoint()
        )
        ring_components, stale_rings = stale_components(components, carried, ring_workplaces)
        candidates = candidates.join(ring_components, on="component", how="left_semi").localCheckpoint()

    candidate_workplaces = workplace_component.join(candidates.select("component"), on="component", how="left_semi")
    found = rings(edges, candidate_workplaces, claims, collusion, components, tables["employments"])
    if carried is not None:
        unchanged = carried.rings.join(join_keys(stale_rings), on="component", how="left_anti")
        found = unchanged.select(*found.columns).unionByName(found)
    found = found.localCheckpoint()
    # A claim is a ring's when its workplace is one of the ring's members (and why it
    # is one: `ring_member_by`): a neighbour in the same component (the same building
    # or phone line only) is named in the ring's reasons, not counted in it, and
    # neither are its claims.
    ring_of_workplace = found.select("ring_id", F.explode("member_by").alias("workplace_id", "ring_member_by"))
    ring_of_claim = claims.select("claim_id", "workplace_id").join(ring_of_workplace, on="workplace_id", how="inner")
    claims_with_ring = collusion.join(ring_of_claim.drop("workplace_id"), on="claim_id", how="left").select(
        *collusion.columns, *RING_CLAIM_COLUMNS
    )
    touched = None
    if subjects is not None:
        # Cross-matching reads these rows: it needs the claims whose row differs from
        # the base night's, among those recomputed or in a ring analysed again.
        in_new_rings = collusion.join(
            candidates.select(F.col("component").alias("workplace_component")),
            on="workplace_component",
            how="left_semi",
        )
        maybe = subjects.select("claim_id").unionByName(in_new_rings.select("claim_id")).distinct()
        touched = changed_rows(claims_with_ring, carried.claims, maybe)
    return Collusion(
        claims=claims_with_ring,
        rings=found,
        hubs=hubs,
        edges=edges,
        components=components,
        recomputed_claims=None if subjects is None else subjects.select("claim_id"),
        touched=touched,
        analysed=candidates.select("component"),
    )


def _write_rings(rings_df: DataFrame, outputs: Path) -> int:
    ordered = rings_df.orderBy(F.col("score").desc(), "ring_id")
    rows = []
    pictures = ensure_dir(outputs / "rings")
    for row in ordered.select(*RING_OUTPUT_COLUMNS, "picture").toLocalIterator():
        rows.append([f"{row['score']:.4f}" if name == "score" else row[name] for name in RING_OUTPUT_COLUMNS])
        if row["picture"]:
            with atomic_file(pictures / f"{row['ring_id']}.svg", "w", encoding="utf-8") as handle:
                handle.write(row["picture"])
    return write_csv(outputs / RINGS_FILE, list(RING_OUTPUT_COLUMNS), rows)


def _write_hubs(hubs: DataFrame, outputs: Path) -> int:
    kind = F.substring_index(F.col("node"), ":", 1)
    ordered = hubs.select(kind.alias("kind"), "node", "degree").orderBy(F.col("degree").desc(), "node")
    return write_csv(
        outputs / HUBS_FILE,
        ["kind", "node", "degree"],
        ([row["kind"], row["node"], row["degree"]] for row in ordered.toLocalIterator()),
    )


def carried_over(
    spark, layout: Layout, ds: dt.date, tables: dict[str, DataFrame], inputs: CollusionInputs, night: Night
) -> tuple[Carried | None, str]:
    """The base night's graph results when this night may build on them
    (jobs/changes.py:usable_base), or None, and why."""
    base, why = usable_base("collusion", layout, ds, inputs.base, night, layout.collusion)
    if base is None:
        return None, why
    saved = layout.collusion(base)
    read = lambda name: read_parquet(spark, saved / name)  # noqa: E731
    carried = Carried(
        changes=night_changes(spark, layout, ds, base),
        claims=read("claims"),
        rings=read("rings"),
        edges=read("edges"),
        components=read("components"),
    )
    return carried, why


def run(spark, inputs: CollusionInputs, night: Night) -> CollusionResult:
    """Build and analyse the night's workplace graph from the conformed tables (on the
    base night's results when conform built on one). Returns counts, paths and how the
    night was computed."""
    ds = night.ds
    layout = Layout(night.warehouse)
    tables = read_conformed(spark, Path(inputs.conformed))
    carried, why = carried_over(spark, layout, ds, tables, inputs, night)
    found = analyse(
        tables,
        ds,
        night.hub_max_degree,
        carried,
        coverage=coverage_of(Path(inputs.conformed)) or None,
    )
    in_rings = Observation()  # counted as the claims are written, not in a pass of its own
    with atomic_dir(layout.collusion(ds)) as staging:
        found.claims.observe(in_rings, F.count_if(F.col("ring_id").isNotNull()).alias("claims")).write.parquet(
            str(staging / "claims")
        )
        found.rings.write.parquet(str(staging / "rings"))
        found.edges.write.parquet(str(staging / "edges"))
        found.components.write.parquet(str(staging / "components"))
        write_json(staging / STATE_FILE, stage_state("collusion", layout, ds, night))
        if found.touched is not None:
            found.touched.write.parquet(str(staging / TOUCHED))
            write_json(staging / TOUCHED / TOUCHED_SINCE, {"base": carried.changes.base.isoformat()})
    outputs = ensure_dir(layout.outputs(ds))
    saved_rings = read_parquet(spark, layout.collusion(ds) / "rings")
    ring_count = _write_rings(saved_rings, outputs)
    hub_count = _write_hubs(found.hubs, outputs)
    claims_in_rings = in_rings.get["claims"]
    recomputed = found.recomputed_claims.count() if found.recomputed_claims is not None else None
    analysed = found.analysed.count()
    mode = "full" if carried is None else "incremental"
    log.info(
        "collusion %s (%s: %s): %d rings holding %d claims, %d hubs left out, %d components analysed%s",
        ds,
        mode,
        why,
        ring_count,
        claims_in_rings,
        hub_count,
        analysed,
        "" if recomputed is None else f", {recomputed} claims recomputed",
    )
    return CollusionResult(
        ds=ds.isoformat(),
        collusion=str(layout.collusion(ds)),
        rings=ring_count,
        claims_in_rings=claims_in_rings,
        hubs=hub_count,
        mode=mode,
        base=carried.changes.base.isoformat() if carried else None,
        why=why,
        recomputed_claims=recomputed,
        analysed_components=analysed,
    )
