"""Suspected collusion rings: per-component analytics in networkx, ring scores, and
the evidence an investigator checks.

A candidate is a connected component of the link graph (features/collusion.py)
holding two or more workplaces. For each candidate, one grouped-pandas task
(`applyInPandas`, so candidates are analysed in parallel inside Spark and no graph is
ever built on the driver) builds a networkx graph of the component's links plus the
employment spells and claims of the claimants of its workplaces, and measures:

- density of the link graph, and its communities (greedy modularity);
- rotation: persons with spells at two or more of its workplaces;
- the broker: the person or shared attribute with the highest betweenness;
- the claim burst: the most claims filed from its workplaces within 30 days;
- a picture (SVG, no plotting library needed) of persons, workplaces and shared
  attributes, saved with the run for the reports.

Spark then adds what the claims say (features/collusion.py): how many of the
component's claims rest on a paper spell (wages without any tax statement, a spell
just past the 180-day threshold), a shared account, a rehire or a code the employer
contradicts. A candidate is a ring when at least RING_MIN_SUSPICIOUS_CLAIMS of its
claims, and at least RING_MIN_SUSPICIOUS_SHARE of them, are suspicious. Its score is
a noisy-or of that share and of rotation, young workplaces and a claim burst
(`ring_score`). A real business closure is one workplace (no candidate at all), and
two spouses' employers linked by the spouses' shared account have no suspicious
claims: neither becomes a ring.
"""

from __future__ import annotations

import html

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.collusion import ACCOUNT, ADDRESS, PERSON, PHONE, WORKPLACE

RING_MIN_WORKPLACES = 2
RING_MIN_SUSPICIOUS_CLAIMS = 2
RING_MIN_SUSPICIOUS_SHARE = 0.5
BURST_DAYS = 30
PICTURE_MAX_NODES = 250
RING_ID_HEX_DIGITS = 12

ANALYTICS_SCHEMA = (
    "component string, nodes int, links int, density double, communities int, "
    "rotating_persons int, rotation string, broker string, claim_burst int, picture string"
)

RING_COLUMNS = (
    "ring_id",
    "component",
    "workplace_ids",
    "person_count",
    "claim_count",
    "suspicious_claims",
    "score",
    "reasons",
    "density",
    "communities",
    "rotating_persons",
    "broker",
    "claim_burst",
    "picture",
)


def candidate_components(workplace_components: DataFrame) -> DataFrame:
    """(workplace_id, component) -> (component, workplace_count) of components with
    RING_MIN_WORKPLACES or more workplaces."""
    return (
        workplace_components.groupBy("component")
        .agg(F.count(F.lit(1)).alias("workplace_count"))
        .where(F.col("workplace_count") >= RING_MIN_WORKPLACES)
    )


def component_graph_rows(
    edges: DataFrame,
    components: DataFrame,
    candidates: DataFrame,
    claims: DataFrame,
    employments: DataFrame,
    workplace_components: DataFrame,
) -> DataFrame:
    """The rows each candidate's networkx graph is built from -> (component, src, dst,
    link, day): its link edges (day null), the spells at its workplaces of the
    claimants of its workplaces (link `employment`, day = acquired_on) and their claims
    (link `claim`, day = filed_on)."""
    in_candidate = components.join(candidates.select("component"), on="component", how="inner")
    link_rows = edges.join(in_candidate.select(F.col("node").alias("src"), "component"), on="src", how="inner").select(
        "component", "src", "dst", "link", F.lit(None).cast("date").alias("day")
    )
    candidate_workplaces = workplace_components.join(candidates.select("component"), on="component", how="inner")
    claimants = claims.join(candidate_workplaces, on="workplace_id", how="inner")
    claim_rows = claimants.select(
        "component",
        F.concat(F.lit(PERSON), F.col("person_key")).alias("src"),
        F.concat(F.lit(WORKPLACE), F.col("workplace_id")).alias("dst"),
        F.lit("claim").alias("link"),
        F.col("filed_on").alias("day"),
    )
    persons = claimants.select("component", "person_key").distinct()
    spell_rows = (
        employments.join(persons, on="person_key", how="inner")
        .join(candidate_workplaces.select(F.col("workplace_id"), F.col("component").alias("spell_component")),
              on="workplace_id", how="inner")
        .where(F.col("spell_component") == F.col("component"))
        .select(
            "component",
            F.concat(F.lit(PERSON), F.col("person_key")).alias("src"),
            F.concat(F.lit(WORKPLACE), F.col("workplace_id")).alias("dst"),
            F.lit("employment").alias("link"),
            F.col("acquired_on").alias("day"),
        )
    )
    return link_rows.unionByName(claim_rows).unionByName(spell_rows)


def _short(node: str) -> str:
    kind, _, key = node.partition(":")
    return f"{kind}:{key[:8]}" if kind in ("P", "A") else f"{kind}:{key}"


def _picture(graph, workplaces: set[str]) -> str:
    """A self-contained SVG of the component (deterministic layout)."""
    import networkx as nx

    if graph.number_of_nodes() > PICTURE_MAX_NODES:
        return ""
    positions = nx.spring_layout(graph, seed=7, iterations=100)
    size, margin = 640, 40
    xs = [p[0] for p in positions.values()] or [0.0]
    ys = [p[1] for p in positions.values()] or [0.0]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0

    def place(node):
        x, y = positions[node]
        return (margin + (x - min(xs)) / span_x * (size - 2 * margin),
                margin + (y - min(ys)) / span_y * (size - 2 * margin))

    colours = {WORKPLACE: "#c0392b", PERSON: "#2c7fb8", ACCOUNT: "#e6a700", ADDRESS: "#27ae60", PHONE: "#8e44ad"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
             'font-family="sans-serif" font-size="9">']
    for a, b, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        (x1, y1), (x2, y2) = place(a), place(b)
        dash = ' stroke-dasharray="3,2"' if data.get("link") in ("employment", "claim") else ""
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#999"{dash}/>')
    for node in sorted(graph.nodes):
        x, y = place(node)
        prefix = node.split(":", 1)[0] + ":"
        radius = 8 if node in workplaces else 5
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colours.get(prefix, "#555")}">'
                     f"<title>{html.escape(node)}</title></circle>")
        parts.append(f'<text x="{x + 9:.1f}" y="{y + 3:.1f}">{html.escape(_short(node))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def analyse_component(rows: pd.DataFrame) -> pd.DataFrame:
    """One candidate's rows (component, src, dst, link, day) -> one row of
    ANALYTICS_SCHEMA. Runs inside a Spark task (applyInPandas)."""
    import networkx as nx
    from networkx.algorithms.community import greedy_modularity_communities

    component = str(rows["component"].iloc[0])
    is_link = rows["day"].isna()
    links = nx.Graph()
    for src, dst, link in rows.loc[is_link, ["src", "dst", "link"]].itertuples(index=False):
        links.add_edge(src, dst, link=link)
    everything = links.copy()
    for src, dst, link in rows.loc[~is_link, ["src", "dst", "link"]].itertuples(index=False):
        everything.add_edge(src, dst, link=link)

    workplaces = {n for n in everything if n.startswith(WORKPLACE)}
    spells = rows[rows["link"] == "employment"]
    spell_places = spells.groupby("src")["dst"].nunique()
    rotating = sorted(spell_places[spell_places >= 2].index)
    rotation = "; ".join(
        f"{_short(p)} → {' → '.join(_short(w) for w in spells[spells['src'] == p].sort_values('day')['dst'])}"
        for p in rotating[:5]
    )
    claim_days = sorted(pd.to_datetime(rows.loc[rows["link"] == "claim", "day"]).tolist())
    burst = 0
    for i, start in enumerate(claim_days):
        burst = max(burst, sum(1 for day in claim_days[i:] if (day - start).days <= BURST_DAYS))
    communities = len(greedy_modularity_communities(links)) if links.number_of_edges() else 0
    brokers = [n for n in links if not n.startswith(WORKPLACE)]
    broker = ""
    if brokers and links.number_of_nodes() > 2:
        centrality = nx.betweenness_centrality(links)
        broker = min(brokers, key=lambda n: (-centrality[n], n))
    return pd.DataFrame([{
        "component": component,
        "nodes": links.number_of_nodes(),
        "links": links.number_of_edges(),
        "density": round(nx.density(links), 4) if links.number_of_nodes() > 1 else 0.0,
        "communities": communities,
        "rotating_persons": len(rotating),
        "rotation": rotation,
        "broker": broker,
        "claim_burst": burst,
        "picture": _picture(everything, workplaces),
    }])


def component_analytics(graph_rows: DataFrame) -> DataFrame:
    """Graph rows of the candidates -> one row per candidate (ANALYTICS_SCHEMA),
    computed with networkx in parallel, one candidate per group."""
    return graph_rows.groupBy("component").applyInPandas(analyse_component, schema=ANALYTICS_SCHEMA)


def is_suspicious_claim() -> Column:
    """A claim that rests on collusion evidence (features/collusion.py columns)."""
    return (
        F.col("has_wage_without_tax")
        | F.col("is_just_past_threshold")
        | F.col("is_shared_account")
        | F.col("is_rehired")
        | F.col("has_code_disagreement")
    )


def ring_score(share: Column, rotating: Column, young: Column, burst: Column) -> Column:
    """Noisy-or of the ring's evidence: the share of suspicious claims (weight 0.7),
    rotation among its workplaces (0.3), young workplaces with many claims (0.2) and a
    burst of claims (0.2)."""
    doubt = (
        (F.lit(1.0) - F.lit(0.7) * share)
        * (F.lit(1.0) - F.lit(0.3) * (rotating >= 2).cast("double"))
        * (F.lit(1.0) - F.lit(0.2) * (young >= 1).cast("double"))
        * (F.lit(1.0) - F.lit(0.2) * (burst >= 3).cast("double"))
    )
    return F.round(F.lit(1.0) - doubt, 4)


def ring_id(first_workplace_id: Column) -> Column:
    """Stable while the ring keeps its smallest workplace."""
    return F.concat(F.lit("R"), F.substring(F.sha2(first_workplace_id, 256), 1, RING_ID_HEX_DIGITS))


def _shared_attributes(edges: DataFrame, workplace_components: DataFrame) -> DataFrame:
    """Per component, the attributes two or more of its workplaces share, as text."""
    workplace_nodes = workplace_components.select(
        F.concat(F.lit(WORKPLACE), F.col("workplace_id")).alias("src"), "component"
    )
    shared = (
        edges.join(workplace_nodes, on="src", how="inner")
        .groupBy("component", "dst", "link")
        .agg(F.count_distinct("src").alias("sharing"))
        .where(F.col("sharing") >= 2)
    )
    shown = F.when(F.col("dst").startswith(ADDRESS) | F.col("dst").startswith(PHONE),
                   F.substring_index(F.col("dst"), ":", -1)).otherwise(
        F.substring(F.substring_index(F.col("dst"), ":", -1), 1, 8))
    text = F.format_string("%s %s shared by %d workplaces", F.col("link"), shown, F.col("sharing"))
    return shared.groupBy("component").agg(F.array_sort(F.collect_list(text)).alias("shared"))


def rings(
    edges: DataFrame,
    workplace_components: DataFrame,
    claims: DataFrame,
    collusion: DataFrame,
    analytics: DataFrame,
) -> DataFrame:
    """The candidates' analytics and the claims' collusion features -> one row per
    suspected ring (RING_COLUMNS)."""
    candidate_claims = claims.select("claim_id", "person_key", "workplace_id").join(
        workplace_components, on="workplace_id", how="inner"
    ).join(collusion.drop("workplace_component"), on="claim_id", how="inner")
    per_component = candidate_claims.groupBy("component").agg(
        F.count_distinct("person_key").alias("person_count"),
        F.count(F.lit(1)).alias("claim_count"),
        F.count(F.when(is_suspicious_claim(), F.lit(1))).alias("suspicious_claims"),
        F.count(F.when(F.col("has_wage_without_tax"), F.lit(1))).alias("without_tax"),
        F.count(F.when(F.col("is_just_past_threshold"), F.lit(1))).alias("just_past"),
        F.count(F.when(F.col("is_shared_account"), F.lit(1))).alias("shared_account"),
        F.count(F.when(F.col("is_rehired"), F.lit(1))).alias("rehired"),
        F.count_distinct(F.when(F.col("is_young_workplace_with_many_claims"), F.col("workplace_id"))).alias(
            "young_workplaces"),
    )
    members = workplace_components.groupBy("component").agg(
        F.array_sort(F.collect_list("workplace_id")).alias("workplace_list")
    )
    share = F.col("suspicious_claims") / F.col("claim_count")
    joined = (
        analytics.join(per_component, on="component", how="inner")
        .join(members, on="component", how="inner")
        .join(_shared_attributes(edges, workplace_components), on="component", how="left")
        .where((F.col("suspicious_claims") >= RING_MIN_SUSPICIOUS_CLAIMS) & (share >= RING_MIN_SUSPICIOUS_SHARE))
    )
    reasons = F.concat_ws(
        ";",
        F.format_string("%d workplaces linked: %s", F.size("workplace_list"),
                        F.array_join(F.coalesce(F.col("shared"), F.array().cast("array<string>")), ", ")),
        F.format_string("%d of %d claims rest on collusion evidence (%d wages without tax statements, "
                        "%d spells just past 180 days, %d shared accounts, %d rehired)",
                        F.col("suspicious_claims"), F.col("claim_count"), F.col("without_tax"),
                        F.col("just_past"), F.col("shared_account"), F.col("rehired")),
        F.when(F.col("rotating_persons") > 0,
               F.format_string("%d persons rotated among its workplaces: %s", F.col("rotating_persons"),
                               F.col("rotation"))),
        F.when(F.col("young_workplaces") > 0,
               F.format_string("%d young workplaces with many claims", F.col("young_workplaces"))),
        F.when(F.col("claim_burst") >= 3,
               F.format_string("%d claims filed within %d days", F.col("claim_burst"), F.lit(BURST_DAYS))),
        F.when(F.col("broker") != "", F.format_string("most central link %s", F.col("broker"))),
    )
    return joined.select(
        ring_id(F.element_at("workplace_list", 1)).alias("ring_id"),
        "component",
        F.array_join("workplace_list", ";").alias("workplace_ids"),
        F.col("person_count").cast("int").alias("person_count"),
        F.col("claim_count").cast("int").alias("claim_count"),
        F.col("suspicious_claims").cast("int").alias("suspicious_claims"),
        ring_score(share, F.col("rotating_persons"), F.col("young_workplaces"), F.col("claim_burst")).alias("score"),
        reasons.alias("reasons"),
        "density",
        "communities",
        "rotating_persons",
        "broker",
        "claim_burst",
        "picture",
    )

