"""Connected components (large-star / small-star) against networkx, and hub pruning."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from features.components import (
    COMPONENT_COLUMNS,
    changed_nodes,
    connected_components,
    connected_components_with_iterations,
    prune_hubs,
    update_components,
)

EDGE_DDL = "src string, dst string"


def _node_id(rng: random.Random, number: int) -> str:
    """Ids shaped like the collusion graph's, in a random order relative to `number`."""
    kind = rng.choice(("wp", "person", "addr", "phone"))
    if kind == "wp":
        return f"wp:{rng.randrange(10**10, 10**11)}"
    if kind == "person":
        return f"person:{rng.getrandbits(64):016x}{number}"
    if kind == "addr":
        return f"addr:서울강남구테헤란로{number}"
    return f"phone:0{rng.randrange(10**8, 10**9)}"


def random_graph(seed: int, chain_length: int = 600) -> list[tuple[str, str]]:
    """Isolated pairs, a long chain, stars, small random clusters, self-loops and
    duplicate edges (also reversed), shuffled."""
    rng = random.Random(seed)
    counter = iter(range(seed * 10**6, (seed + 1) * 10**6))  # disjoint ids across seeds

    def fresh() -> str:
        return _node_id(rng, next(counter))

    edges: list[tuple[str, str]] = []
    edges += [(fresh(), fresh()) for _ in range(40)]  # isolated pairs
    chain = [fresh() for _ in range(chain_length)]
    edges += list(zip(chain, chain[1:]))
    for _ in range(5):  # stars, whose centre is sometimes the smallest id and sometimes not
        centre = fresh()
        edges += [(centre, fresh()) if rng.random() < 0.5 else (fresh(), centre) for _ in range(rng.randint(3, 25))]
    for _ in range(30):  # small random clusters
        members = [fresh() for _ in range(rng.randint(2, 12))]
        edges += [(rng.choice(members), rng.choice(members)) for _ in range(len(members) * 2)]
        edges += list(zip(members, members[1:]))[: rng.randint(0, len(members))]
    loner = fresh()
    edges.append((loner, loner))  # a node known only by its self-loop
    edges += [(src, src) for src, _ in rng.sample(edges, 10)]
    edges += rng.sample(edges, 40) + [(dst, src) for src, dst in rng.sample(edges, 40)]
    rng.shuffle(edges)
    return edges


def ordered_chains() -> list[tuple[str, str]]:
    """Ids increasing along a chain, and a chain listed from its far end: the slowest
    graphs to converge."""
    nodes = [f"wp:{n:011d}" for n in range(1500)]
    return list(zip(nodes, nodes[1:])) + [(f"x{n:04d}", f"x{n + 1:04d}") for n in reversed(range(500))]


def networkx_labels(edges: list[tuple[str, str]]) -> dict[str, str]:
    graph = nx.Graph()
    graph.add_edges_from(edges)
    return {node: min(component) for component in nx.connected_components(graph) for node in component}


GRAPHS = {"random-1": random_graph(1), "random-2": random_graph(2), "ordered-chains": ordered_chains()}


@pytest.fixture(scope="module")
def union_labels(spark):
    """The components of all GRAPHS at once (disjoint node sets), computed once: each
    run pays Spark's per-job overhead once per round, whatever the graph's size."""
    node_sets = [{node for edge in edges for node in edge} for edges in GRAPHS.values()]
    assert sum(map(len, node_sets)) == len(set().union(*node_sets)), "graphs must not share nodes"
    edges = [edge for graph in GRAPHS.values() for edge in graph]
    components, iterations = connected_components_with_iterations(spark.createDataFrame(edges, EDGE_DDL))
    rows = components.collect()
    assert len(rows) == len({row["node"] for row in rows}), "one row per node"
    return {row["node"]: row["component"] for row in rows}, iterations


def test_small_graph_is_labelled_with_the_smallest_id_as_a_string(spark):
    edges = [
        ("n9", "n10"),
        ("n10", "n100"),
        ("n100", "n9"),  # "n10" < "n100" < "n9" as strings
        ("b", "a"),
        ("a", "b"),
        ("c", "c"),  # a duplicate edge reversed, a lone self-loop
        ("wp:22222222222", "addr:서울강남구테헤란로123"),
        ("addr:서울강남구테헤란로123", "wp:11111111111"),
        ("person:ff", "wp:11111111111"),
    ]
    components = connected_components(spark.createDataFrame(edges, EDGE_DDL))
    assert tuple(components.columns) == COMPONENT_COLUMNS
    assert {row["node"]: row["component"] for row in components.collect()} == {
        "n9": "n10",
        "n10": "n10",
        "n100": "n10",
        "a": "a",
        "b": "a",
        "c": "c",
        "wp:22222222222": "addr:서울강남구테헤란로123",
        "wp:11111111111": "addr:서울강남구테헤란로123",
        "person:ff": "addr:서울강남구테헤란로123",
        "addr:서울강남구테헤란로123": "addr:서울강남구테헤란로123",
    }


@pytest.mark.parametrize("name", GRAPHS)
def test_graph_matches_networkx(union_labels, name):
    labels, _ = union_labels
    expected = networkx_labels(GRAPHS[name])
    assert {node: labels.get(node) for node in expected} == expected


def test_every_node_is_labelled_and_no_other(union_labels):
    labels, _ = union_labels
    assert set(labels) == {node for graph in GRAPHS.values() for edge in graph for node in edge}


def test_chains_are_labelled_by_their_first_id_in_few_rounds(union_labels):
    labels, iterations = union_labels
    assert {labels[node] for edge in GRAPHS["ordered-chains"] for node in edge} == {"wp:00000000000", "x0000"}
    # log2(1500) is about 11; the paper's bound is O(log^2 n) rounds.
    assert iterations <= 20


def test_update_components_matches_networkx_after_splits_merges_and_removals(spark):
    """A night's edges against the night before's: a chain cut in two (its far half is
    relabelled), two clusters merged (the larger label goes), a cluster gone, new
    nodes, a reversed duplicate and a self-loop. Only components holding a changed
    node are computed again, and the result is the full computation's."""
    before = random_graph(3, chain_length=60)
    rng = random.Random(33)
    graph = nx.Graph(before)
    chain_edge = max(before, key=lambda edge: len(nx.node_connected_component(graph, edge[0])))
    clusters = sorted({frozenset(c) for c in nx.connected_components(graph) if 3 <= len(c) <= 12}, key=min)
    gone, first, second = clusters[0], clusters[1], clusters[2]
    after = [edge for edge in before if edge != chain_edge and edge[::-1] != chain_edge and edge[0] not in gone]
    after += [(max(first), max(second)), ("wp:new-1", "wp:new-2"), ("wp:new-2", "wp:new-2"), (min(second), "wp:new-3")]
    after += [edge[::-1] for edge in rng.sample(after, 5)]
    expected = networkx_labels(after)
    assert expected[max(first)] == expected[max(second)] == min(first | second)  # merged
    assert expected[chain_edge[0]] != expected[chain_edge[1]]  # the chain is cut in two
    assert not gone & set(expected)

    old = connected_components(spark.createDataFrame(before, EDGE_DDL))
    new_edges, old_edges = spark.createDataFrame(after, EDGE_DDL), spark.createDataFrame(before, EDGE_DDL)
    changed = changed_nodes(new_edges, old_edges)
    assert 0 < changed.count() < len(expected) / 10
    updated = update_components(new_edges, changed, old)
    assert tuple(updated.columns) == COMPONENT_COLUMNS
    rows = updated.collect()
    assert len(rows) == len({row["node"] for row in rows}), "one row per node"
    assert {row["node"]: row["component"] for row in rows} == expected
    # Nothing changed: the earlier components as they were.
    assert sorted(update_components(old_edges, changed_nodes(old_edges, old_edges), old).collect()) == sorted(
        old.collect()
    )


def test_no_edges_give_no_components(spark):
    components = connected_components(spark.createDataFrame([], EDGE_DDL))
    assert tuple(components.columns) == COMPONENT_COLUMNS
    assert components.collect() == []


def test_prune_hubs_removes_the_centre_of_a_star_and_reports_its_degree(spark):
    bank = "account:" + "c" * 64
    workplaces = [f"wp:1111111111{n}" for n in range(6)]
    edges = spark.createDataFrame(
        [(bank, wp, "pays") for wp in workplaces]
        + [(workplaces[0], bank, "pays"), (bank, bank, "pays")]  # duplicate and self-loop: not more degree
        + [(workplaces[0], workplaces[1], "same_phone"), (workplaces[1], workplaces[2], "same_phone")]
        + [(workplaces[3], "addr:서울중구세종대로110", "same_address")],
        "src string, dst string, kind string",
    )
    kept, hubs = prune_hubs(edges, max_degree=3)

    assert [tuple(row) for row in hubs.collect()] == [(bank, 6)]
    # wp:...1 has degree 3 (the bank and two workplaces): at the limit, not a hub.
    assert sorted(tuple(row) for row in kept.collect()) == [
        (workplaces[0], workplaces[1], "same_phone"),
        (workplaces[1], workplaces[2], "same_phone"),
        (workplaces[3], "addr:서울중구세종대로110", "same_address"),
    ]
    assert kept.columns == ["src", "dst", "kind"]
    # Without the bank the workplaces fall apart; wp:...4 and wp:...5 were linked only through it.
    rings = {row["node"]: row["component"] for row in connected_components(kept).collect()}
    assert rings == {
        workplaces[0]: workplaces[0],
        workplaces[1]: workplaces[0],
        workplaces[2]: workplaces[0],
        workplaces[3]: "addr:서울중구세종대로110",
        "addr:서울중구세종대로110": "addr:서울중구세종대로110",
    }
