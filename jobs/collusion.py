"""Collusion: the workplace-collusion graph, its suspected rings and hubs, and the
collusion evidence of every claim (features/collusion.py, features/rings.py).

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

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.collusion import claim_collusion_features, graph_edges, workplace_components
from features.components import connected_components, prune_hubs
from features.rings import candidate_components, component_analytics, component_graph_rows, rings
from fraud.layout import Layout
from fraud.storage import atomic_dir, atomic_file, ensure_dir, write_csv
from jobs.conform import read_conformed

log = logging.getLogger(__name__)

RINGS_FILE = "rings.csv"
HUBS_FILE = "hubs.csv"
RING_OUTPUT_COLUMNS = ("ring_id", "workplace_ids", "person_count", "claim_count", "score", "reasons")


@dataclass
class Collusion:
    """What the graph stage found: per-claim evidence (with ring_id), rings, hubs."""

    claims: DataFrame
    rings: DataFrame
    hubs: DataFrame


def analyse(tables: dict[str, DataFrame], as_of: dt.date, hub_max_degree: int) -> Collusion:
    """The conformed tables -> Collusion (no I/O)."""
    claims = tables["claims"]
    edges, hubs = prune_hubs(graph_edges(tables["workplaces"], claims), hub_max_degree)
    edges = edges.localCheckpoint()
    components = connected_components(edges).localCheckpoint()
    workplace_component = workplace_components(components)
    collusion = claim_collusion_features(tables, workplace_component, edges, as_of).localCheckpoint()

    candidates = candidate_components(workplace_component)
    graph_rows = component_graph_rows(
        edges, components, candidates, claims, tables["employments"], workplace_component
    )
    found = rings(edges, workplace_component, claims, collusion, component_analytics(graph_rows)).localCheckpoint()
    ring_of_component = found.select(F.col("component").alias("workplace_component"), "ring_id")
    claims_with_ring = collusion.join(ring_of_component, on="workplace_component", how="left")
    return Collusion(claims=claims_with_ring, rings=found, hubs=hubs)


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
    return write_csv(outputs / HUBS_FILE, ["kind", "node", "degree"],
                     ([row["kind"], row["node"], row["degree"]] for row in ordered.toLocalIterator()))


def run(spark, inputs: dict, output: Path, params: dict) -> dict:
    """inputs: {"conformed": the run date's conformed directory}; output: the warehouse
    root; params: {"ds": date, "hub_max_degree"?: int}. Returns counts and paths."""
    ds: dt.date = params["ds"]
    layout = Layout(Path(output))
    tables = read_conformed(spark, Path(inputs["conformed"]))
    found = analyse(tables, ds, int(params.get("hub_max_degree", 50)))
    with atomic_dir(layout.collusion(ds)) as staging:
        found.claims.write.parquet(str(staging / "claims"))
        found.rings.write.parquet(str(staging / "rings"))
    outputs = ensure_dir(layout.outputs(ds))
    saved_rings = spark.read.parquet(str(layout.collusion(ds) / "rings"))
    ring_count = _write_rings(saved_rings, outputs)
    hub_count = _write_hubs(found.hubs, outputs)
    claims_in_rings = spark.read.parquet(str(layout.collusion(ds) / "claims")).where(
        F.col("ring_id").isNotNull()).count()
    log.info("collusion %s: %d rings holding %d claims, %d hubs left out", ds, ring_count, claims_in_rings, hub_count)
    return {
        "ds": ds.isoformat(),
        "collusion": str(layout.collusion(ds)),
        "rings": ring_count,
        "claims_in_rings": claims_in_rings,
        "hubs": hub_count,
    }
