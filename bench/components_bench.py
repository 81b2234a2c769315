"""Benchmark of features.components.connected_components (not a test).

For each size, builds a seeded random graph shaped like the workplace-collusion
graph — many small components (a workplace, its representative, address and phone),
fewer mid-sized ones, a few large ones, some long chains (people rotating through
workplaces), duplicate edges and self-loops — times the DataFrame connected
components, checks the partition and min-id labels against networkx, and prints:

    edges  nodes  components  iterations  seconds  agree

`seconds` is the wall time of `connected_components_with_iterations` plus fully
computing its output (a no-op write); building the input DataFrame and the networkx
check are not timed, and an untimed 1,000-edge run first warms the JVM up.

    cd /work/main && AIRFLOW_HOME=$PWD SPARK_LOCAL_IP=127.0.0.1 \\
        .venv/bin/python bench/components_bench.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import logging
import random
import time

import networkx as nx
import pandas as pd

from features.components import connected_components_with_iterations
from fraud.config import Settings
from fraud.spark import spark_session

log = logging.getLogger("components_bench")

# (share of components, smallest size, largest size)
COMPONENT_SIZES = ((0.70, 2, 4), (0.25, 5, 30), (0.045, 31, 300), (0.005, 301, 3000))
CHAIN_SHARE = 0.02  # components that are a path, the slowest shape to converge
EXTRA_LINK_SHARE = 0.2  # links beyond a spanning tree: a second shared phone, account...
DUPLICATE_SHARE = 0.02
SELF_LOOP_SHARE = 0.01


class NodeIds:
    """Unique ids shaped like the graph's (`wp:`, `person:`, `addr:`, `phone:`), in an
    order unrelated to the component they are drawn for."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.issued = 0

    def next(self) -> str:
        self.issued += 1
        number = self.issued
        kind = self.rng.random()
        if kind < 0.4:
            return f"wp:{number * 7919 % 10**11:011d}"  # 7919 is prime to 10: no clashes
        if kind < 0.8:
            return f"person:{self.rng.getrandbits(64):016x}{number:x}"
        if kind < 0.9:
            return f"addr:서울강남구테헤란로{number}"
        return f"phone:0{number * 7919 % 10**10:010d}"


def _component_size(rng: random.Random) -> int:
    draw = rng.random()
    for share, smallest, largest in COMPONENT_SIZES:
        if draw < share:
            return rng.randint(smallest, largest)
        draw -= share
    return COMPONENT_SIZES[-1][2]


def collusion_like_edges(edge_count: int, seed: int) -> list[tuple[str, str]]:
    """About `edge_count` edges (src, dst), deterministic for a seed."""
    rng = random.Random(seed)
    ids = NodeIds(rng)
    edges: list[tuple[str, str]] = []
    linked_edge_count = int(edge_count * (1 - DUPLICATE_SHARE - SELF_LOOP_SHARE))
    while len(edges) < linked_edge_count:
        size = min(_component_size(rng), linked_edge_count - len(edges) + 1)
        members = [ids.next() for _ in range(max(size, 2))]
        if rng.random() < CHAIN_SHARE:
            edges.extend(zip(members, members[1:]))
            continue
        # A random recursive tree keeps the component connected with a short diameter.
        edges.extend((members[i], members[rng.randrange(i)]) for i in range(1, len(members)))
        extra = int(len(members) * EXTRA_LINK_SHARE)
        edges.extend((rng.choice(members), rng.choice(members)) for _ in range(extra))
    duplicate_count = (edge_count - len(edges)) * DUPLICATE_SHARE // (DUPLICATE_SHARE + SELF_LOOP_SHARE)
    edges.extend(rng.sample(edges, max(0, int(duplicate_count))))
    edges.extend((src, src) for src, _ in rng.sample(edges, max(0, edge_count - len(edges))))
    rng.shuffle(edges)
    # The extra links of the last component may overshoot a little; random edges go.
    return edges[:edge_count]


def networkx_labels(edges: list[tuple[str, str]]) -> dict[str, str]:
    graph = nx.Graph()
    graph.add_edges_from(edges)
    return {node: min(component) for component in nx.connected_components(graph) for node in component}


def run_size(spark, edge_count: int, seed: int) -> dict:
    edges = collusion_like_edges(edge_count, seed)
    frame = spark.createDataFrame(pd.DataFrame(edges, columns=["src", "dst"])).persist()
    frame.count()

    started = time.perf_counter()
    components, iterations = connected_components_with_iterations(frame)
    components.write.format("noop").mode("overwrite").save()
    seconds = time.perf_counter() - started

    got = dict(components.toPandas().itertuples(index=False, name=None))
    frame.unpersist()
    expected = networkx_labels(edges)
    return {
        "edges": len(edges),
        "nodes": len(expected),
        "components": len(set(expected.values())),
        "iterations": iterations,
        "seconds": seconds,
        "agree": got == expected,
    }


def format_table(rows: list[dict]) -> str:
    header = f"{'edges':>9} {'nodes':>9} {'components':>10} {'iterations':>10} {'seconds':>8} {'agree':>5}"
    lines = [header]
    for row in rows:
        lines.append(
            f"{row['edges']:>9} {row['nodes']:>9} {row['components']:>10} {row['iterations']:>10} "
            f"{row['seconds']:>8.1f} {str(row['agree']):>5}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=20140101)
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)

    spark = spark_session(
        Settings.from_env(spark_shuffle_partitions=args.shuffle_partitions), app_name="components-bench"
    )
    try:
        # The first Spark jobs of a JVM pay for class loading and JIT; keep that out of the table.
        run_size(spark, 1_000, args.seed)
        rows = []
        for size in args.sizes:
            rows.append(run_size(spark, size, args.seed))
            log.info("done: %s", rows[-1])
        print(f"master={spark.sparkContext.master} shuffle_partitions={args.shuffle_partitions} seed={args.seed}")
        print(format_table(rows))
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
