"""Connected components of a link graph, on plain DataFrames.

The workplace-collusion graph (DOMAIN.md, GHOST_EMPLOYMENT: "workplaces sharing a
representative, address, phone or bank account; claimants sharing bank accounts;
people rotating among the same cluster of workplaces") is an edge list of string
node ids (`wp:12345678901`, `person:<hex>`, `addr:<key>`, `phone:<key>`, ...). Its
connected components are the candidate rings. GraphFrames would do this, but its jar
cannot be fetched here, so this module implements the large-star / small-star
algorithm of Kiveris, Lattanzi, Mirrokni, Rastogi and Vassilvitskii, "Connected
Components in MapReduce and Beyond" (SoCC 2014) with DataFrame operations.

Algorithm. Edges are kept undirected as (high, low) with high > low (string order),
without self-loops or duplicates. Γ(u) is the set of u's neighbours and
m(u) = min(Γ(u) ∪ {u}).

- large-star: for every node u and every neighbour v > u, link v to m(u);
- small-star: for every node u, link u and every neighbour v < u to the smallest
  of u's smaller neighbours.

Both steps keep the components and only ever re-link a node to a smaller one. They
are repeated until the edge set stops changing, which happens exactly when every
component is a star centred on its smallest node: no node has both a smaller and a
larger neighbour, and none has more than one smaller neighbour (one step of either
kind changes any other edge set; on such a star neither changes anything). That is
the convergence test: a count of the nodes that break it, taken from the per-node
minima and maxima that the next large-star needs anyway, so it never brings edges
to the driver. A node's component is then its star's centre, or itself when
it is a centre or has only self-loops. Rounds grow with the logarithm of the
diameter; a long chain is the worst case.

The state between rounds is the table of every node's neighbours (both directions,
with the minima and maxima the next large-star and the convergence test need). Each
round's table is materialised with `localCheckpoint()`, so the plan does not grow
with the number of rounds and no checkpoint directory is needed; the convergence
count is taken with `DataFrame.observe` while the table is written, so a round is one
Spark job with two shuffles. Nothing is `persist()`ed; the checkpoint blocks of
earlier rounds are freed by Spark's context cleaner once their DataFrames are
garbage-collected (classic PySpark has no call to release a local checkpoint).

Hubs. A node linked to very many others — the bank account of a payroll agency, a
big employer, a business centre's address or a tax accountant's phone — would join
thousands of unrelated workplaces and claimants into one component, and every ring
would vanish into it. `prune_hubs` removes such nodes (degree above a threshold)
before components are computed and returns them with their degree. They are not
cleared: a virtual-office address registered by 300 young workplaces is itself a
lead. The pipeline should report them apart from the rings — one row per hub with
its kind, degree and the number of flagged workplaces among its neighbours, for an
investigator to judge — and, in a ring's `reasons`, name the hubs its members also
share ("all 12 workplaces also use the address 서울강남구테헤란로123, shared by 340
workplaces and excluded from ring detection"), never silently drop them. A node
linked only through hubs is in no component after pruning.
"""

from __future__ import annotations

import logging

from pyspark.sql import Column, DataFrame, Observation, Window
from pyspark.sql import functions as F

log = logging.getLogger(__name__)

COMPONENT_COLUMNS = ("node", "component")
HUB_COLUMNS = ("node", "degree")

# Rounds grow with log(diameter); 2^30 nodes in one chain converge long before this.
DEFAULT_MAX_ITERATIONS = 100


def _undirected(edges: DataFrame) -> DataFrame:
    """(src, dst) -> distinct (high, low) with high > low as strings; self-loops and
    edges with a null end dropped."""
    src = F.col("src").cast("string")
    dst = F.col("dst").cast("string")
    is_link_between_two_nodes = src.isNotNull() & dst.isNotNull() & (src != dst)
    return (
        edges.where(is_link_between_two_nodes)
        .select(F.greatest(src, dst).alias("high"), F.least(src, dst).alias("low"))
        .distinct()
    )


def _nodes(edges: DataFrame) -> DataFrame:
    """Every non-null id that appears at either end of an edge, once."""
    ends = edges.select(F.explode(F.array(F.col("src").cast("string"), F.col("dst").cast("string"))).alias("node"))
    return ends.where(F.col("node").isNotNull()).distinct()


def _neighbourhoods(links: DataFrame) -> DataFrame:
    """(high, low) links, duplicates allowed -> one row per node and distinct neighbour,
    with the node's smallest and largest neighbour and its largest smaller neighbour
    (null when it has none).

    The statistics are minima and maxima, which duplicates do not change, so the
    duplicates are removed after the window, inside the partitions the window has
    already shuffled by node: one shuffle for both.
    """
    # One pass over the links (a union would compute them twice).
    both_ways = links.select(
        F.inline(
            F.array(
                F.struct(F.col("high").alias("node"), F.col("low").alias("neighbour")),
                F.struct(F.col("low").alias("node"), F.col("high").alias("neighbour")),
            )
        )
    )
    around_node = Window.partitionBy("node")
    is_smaller = F.col("neighbour") < F.col("node")
    return both_ways.select(
        "node",
        "neighbour",
        F.min("neighbour").over(around_node).alias("smallest_neighbour"),
        F.max("neighbour").over(around_node).alias("largest_neighbour"),
        F.max(F.when(is_smaller, F.col("neighbour"))).over(around_node).alias("largest_smaller_neighbour"),
    ).distinct()


def _is_unfinished() -> Column:
    """A node that keeps its component from being a star centred on its minimum."""
    has_smaller = F.col("largest_smaller_neighbour").isNotNull()
    has_larger = F.col("largest_neighbour") > F.col("node")
    has_several_smaller = F.col("smallest_neighbour") != F.col("largest_smaller_neighbour")
    return has_smaller & (has_larger | has_several_smaller)


def _large_star(neighbourhoods: DataFrame) -> DataFrame:
    """Every larger neighbour v of u is linked to m(u) instead of u."""
    is_larger_neighbour = F.col("neighbour") > F.col("node")
    smallest_around = F.least(F.col("node"), F.col("smallest_neighbour"))
    return neighbourhoods.where(is_larger_neighbour).select(
        F.col("neighbour").alias("high"), smallest_around.alias("low")
    )


def _small_star(links: DataFrame) -> DataFrame:
    """u and its smaller neighbours are all linked to the smallest of them (duplicates
    are left for `_neighbourhoods` to remove)."""
    smallest_below = F.min("low").over(Window.partitionBy("high"))
    star = links.select(F.explode(F.array(F.col("high"), F.col("low"))).alias("member"), smallest_below.alias("centre"))
    is_not_the_centre = F.col("member") != F.col("centre")
    return star.where(is_not_the_centre).select(F.col("member").alias("high"), F.col("centre").alias("low"))


def _materialise(neighbourhoods: DataFrame) -> tuple[DataFrame, dict[str, int]]:
    """Local-checkpoint a neighbourhood table (which cuts its plan off from the rounds
    before it) and count, on the way, its rows and its unfinished rows."""
    progress = Observation()
    observed = neighbourhoods.observe(
        progress,
        F.count(F.lit(1)).alias("directed_links"),
        F.count(F.when(_is_unfinished(), F.lit(1))).alias("unfinished"),
    )
    materialised = observed.localCheckpoint(eager=True)
    return materialised, progress.get


def connected_components_with_iterations(
    edges: DataFrame, max_iterations: int = DEFAULT_MAX_ITERATIONS
) -> tuple[DataFrame, int]:
    """`connected_components`, and the number of large-star/small-star rounds it took.

    Raises RuntimeError if the edges have not converged after `max_iterations` rounds
    (which the algorithm's bound rules out for any real graph).
    """
    # The state between rounds is the neighbourhood table of the current links: the
    # convergence count and the next large-star both read it. The count is observed
    # while the table is being materialised, so a round is one Spark job.
    neighbourhoods, progress = _materialise(_neighbourhoods(_undirected(edges)))
    iterations = 0
    while True:
        log.info(
            "connected components: after %d rounds, %d links, %d unfinished node-neighbour pairs",
            iterations,
            progress["directed_links"] // 2,
            progress["unfinished"],
        )
        if progress["unfinished"] == 0:
            break
        if iterations >= max_iterations:
            raise RuntimeError(f"connected components did not converge in {max_iterations} rounds")
        neighbourhoods, progress = _materialise(_neighbourhoods(_small_star(_large_star(neighbourhoods))))
        iterations += 1

    # Converged: every non-centre node has exactly one neighbour, its component's minimum.
    is_link_to_centre = F.col("neighbour") < F.col("node")
    centres = neighbourhoods.where(is_link_to_centre).select(
        F.col("node").alias("member"), F.col("neighbour").alias("centre")
    )
    components = _nodes(edges).join(centres, on=F.col("node") == F.col("member"), how="left")
    return (
        components.select("node", F.coalesce(F.col("centre"), F.col("node")).alias("component")),
        iterations,
    )


def connected_components(edges: DataFrame, max_iterations: int = DEFAULT_MAX_ITERATIONS) -> DataFrame:
    """Edges -> the connected component of every node (COMPONENT_COLUMNS).

    edges: `src`, `dst` node ids (strings; other columns are ignored). The graph is
    undirected; self-loops and duplicate edges are allowed, a self-loop alone makes
    its node a component of one, and an edge with a null end is ignored.

    Out: one row per node that appears in an edge, `node` and `component`, the
    smallest node id of its component in string order (so the label is the same
    whatever the partitioning or the order of the edges).
    """
    components, _ = connected_components_with_iterations(edges, max_iterations)
    return components


def changed_nodes(edges: DataFrame, before: DataFrame, columns: tuple[str, ...] = ("src", "dst")) -> DataFrame:
    """The nodes at either end of an edge that is in one of `edges` and `before` but
    not in the other, compared on `columns` -> (node)."""
    now, then = edges.select(*columns), before.select(*columns)
    return _nodes(now.subtract(then).unionByName(then.subtract(now)))


def update_components(edges: DataFrame, changed: DataFrame, before_components: DataFrame) -> DataFrame:
    """The components of `edges` (as `connected_components` gives them), from the
    components of an earlier edge set and the nodes its edges changed (`changed`:
    `changed_nodes` of the two sets, or more).

    Only the earlier components holding a changed node are computed again, with the
    changed nodes. That is exact: an edge in both sets joins two nodes of one earlier
    component, and a changed edge joins two changed nodes, so no edge leaves the
    recomputed node set, and an earlier component with no changed node kept every
    edge and gained none, so it is the same component under the same label (its
    smallest node)."""
    affected = before_components.join(changed, on="node", how="left_semi").select("component").distinct()
    recomputed_nodes = (
        before_components.join(affected, on="component", how="left_semi")
        .select("node")
        .unionByName(changed.select("node"))
        .distinct()
    )

    def with_end_in_recomputed(end: str) -> DataFrame:
        return edges.join(recomputed_nodes.withColumnRenamed("node", end), on=end, how="left_semi")

    recomputed = connected_components(with_end_in_recomputed("src").unionByName(with_end_in_recomputed("dst")))
    kept = before_components.join(recomputed_nodes, on="node", how="left_anti").select(*COMPONENT_COLUMNS)
    return kept.unionByName(recomputed)


def node_degrees(edges: DataFrame) -> DataFrame:
    """Edges (`src`, `dst`) -> (`node`, `degree`): the number of distinct other nodes
    each node is linked to (self-loops, duplicates and null ends do not count)."""
    links = _undirected(edges)
    ends = links.select(F.explode(F.array(F.col("high"), F.col("low"))).alias("node"))
    return ends.groupBy("node").agg(F.count(F.lit(1)).alias("degree")).select(*HUB_COLUMNS)


def prune_hubs(edges: DataFrame, max_degree: int) -> tuple[DataFrame, DataFrame]:
    """Edges -> (kept_edges, hubs): the nodes linked to more than `max_degree` other
    nodes, and the edges that touch none of them.

    kept_edges has the columns of `edges` (an edge's kind or evidence stays with it);
    hubs is (`node`, `degree`) as in `node_degrees`, for the hub report described in
    the module docstring.
    """
    is_hub = F.col("degree") > F.lit(max_degree)
    hubs = node_degrees(edges).where(is_hub).select(*HUB_COLUMNS)
    hub_ids = hubs.select(F.col("node").alias("hub"))
    kept_edges = edges.join(hub_ids, on=F.col("src").cast("string") == F.col("hub"), how="left_anti").join(
        hub_ids, on=F.col("dst").cast("string") == F.col("hub"), how="left_anti"
    )
    return kept_edges.select(*edges.columns), hubs
