"""Suspected collusion rings: per-component analytics in networkx, ring scores, and
the evidence an investigator checks.

A candidate is a connected component of the link graph (features/collusion_evidence.py)
holding two or more workplaces. For each candidate that Spark finds to be a ring (below),
one grouped-pandas task (`applyInPandas`, so rings are analysed in parallel inside
Spark and no graph is ever built on the driver) builds a networkx graph of the
component's links plus the employment spells and claims of the claimants of its
workplaces, and measures:

- density of the link graph, and its communities (greedy modularity);
- rotation: persons with spells at two or more of its workplaces;
- the broker: the person or shared attribute with the highest betweenness;
- the claim burst: the most claims filed from its workplaces within 30 days;
- a picture (SVG, no plotting library needed) of persons, workplaces and shared
  attributes, saved with the run for the reports.

Spark decides from what the claims say (features/collusion_evidence.py): how many of the
component's claims rest on a paper spell (wages without any tax statement, a spell
just past the 180-day threshold), a shared account, a rehire, a code the employer
contradicts, or (not laid off by a closure) a young workplace most of whose workers
claimed. Its members are the workplaces with a claim carrying one of the first five
marks, sharing a representative or an account, or through which a claimant with such
a claim rotated (`ring_members`); a business that only shares the building or a phone
line is a neighbour, named but not counted, whatever its age, and its claims are not
the ring's (jobs/collusion.py gives a ring's id to its members' claims only). A
candidate is a ring when it has RING_MIN_WORKPLACES members, at least
RING_MIN_SUSPICIOUS_CLAIMS of their claims, and at least RING_MIN_SUSPICIOUS_SHARE of
them, are suspicious. Its score is a noisy-or of that share and of rotation, young
workplaces and a claim burst (`ring_score`). A real business closure is one workplace (no candidate at all), and
two spouses' employers linked by the spouses' shared account have no suspicious
claims: neither becomes a ring.
"""

from __future__ import annotations

import html

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from features.collusion_evidence import (
    ACCOUNT,
    ADDRESS,
    PERSON,
    PHONE,
    QUALIFYING_WINDOW_DAYS,
    WORKPLACE,
    related_workplaces,
)
from fraud.spark import join_keys

RING_MIN_WORKPLACES = 2
RING_MIN_SUSPICIOUS_CLAIMS = 2
RING_MIN_SUSPICIOUS_SHARE = 0.5
BURST_DAYS = 30
PICTURE_MAX_NODES = 250
# A component's broker is the non-workplace node of highest betweenness: exact up to
# this many nodes, estimated from this many sampled sources above it.
BETWEENNESS_EXACT_NODES = 2000
BETWEENNESS_SAMPLE = 500
RING_ID_HEX_DIGITS = 12
# Why a workplace is a member of its ring (`ring_members`), strongest first: a claim
# there rests on its own records' marks; it shares a representative or an account with
# another of the component's workplaces; a claimant with such a claim rotated through it.
MEMBER_BY_MARKS = "marked claims"
MEMBER_BY_IDENTITY = "shared representative or account"
MEMBER_BY_ROTATION = "rotation"

ANALYTICS_SCHEMA = (
    "component string, nodes int, links int, density double, communities int, "
    "rotating_persons int, rotation string, broker string, claim_burst int, picture string"
)

RING_COLUMNS = (
    "ring_id",
    "component",
    "workplace_ids",
    "member_by",
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
    """The rows the networkx graph of each of `candidates` (the rings, `rings`) is built
    from -> (component, src, dst, link, day): its link edges (day null), the spells at
    its workplaces of the claimants of its workplaces (link `employment`, day =
    acquired_on) and their claims (link `claim`, day = filed_on)."""
    candidates = join_keys(candidates.select("component"))  # few: the history is scanned, not shuffled
    in_candidate = components.join(candidates, on="component", how="inner")
    link_rows = edges.join(in_candidate.select(F.col("node").alias("src"), "component"), on="src", how="inner").select(
        "component", "src", "dst", "link", F.lit(None).cast("date").alias("day")
    )
    candidate_workplaces = workplace_components.join(candidates, on="component", how="inner")
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
        .join(
            candidate_workplaces.select(F.col("workplace_id"), F.col("component").alias("spell_component")),
            on="workplace_id",
            how="inner",
        )
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
        return (
            margin + (x - min(xs)) / span_x * (size - 2 * margin),
            margin + (y - min(ys)) / span_y * (size - 2 * margin),
        )

    colours = {WORKPLACE: "#c0392b", PERSON: "#2c7fb8", ACCOUNT: "#e6a700", ADDRESS: "#27ae60", PHONE: "#8e44ad"}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        'font-family="sans-serif" font-size="9">'
    ]
    for a, b, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        (x1, y1), (x2, y2) = place(a), place(b)
        dash = ' stroke-dasharray="3,2"' if data.get("link") in ("employment", "claim") else ""
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#999"{dash}/>')
    for node in sorted(graph.nodes):
        x, y = place(node)
        prefix = node.split(":", 1)[0] + ":"
        radius = 8 if node in workplaces else 5
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colours.get(prefix, "#555")}">'
            f"<title>{html.escape(node)}</title></circle>"
        )
        # Labels point inwards: right of a node on the left half, left of one on the
        # right half, so none runs past the picture's edge.
        if x > size / 2:
            parts.append(f'<text x="{x - 9:.1f}" y="{y + 3:.1f}" text-anchor="end">{html.escape(_short(node))}</text>')
        else:
            parts.append(f'<text x="{x + 9:.1f}" y="{y + 3:.1f}">{html.escape(_short(node))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def claim_burst(days: list) -> int:
    """The most claims filed within BURST_DAYS of one another (a window of
    BURST_DAYS + 1 calendar days), in one pass over the sorted days."""
    days = sorted(pd.to_datetime(days).date) if len(days) else []
    burst, first = 0, 0
    for last, day in enumerate(days):
        while (day - days[first]).days > BURST_DAYS:
            first += 1
        burst = max(burst, last - first + 1)
    return burst


def analyse_component(rows: pd.DataFrame) -> pd.DataFrame:
    """One candidate's rows (component, src, dst, link, day) -> one row of
    ANALYTICS_SCHEMA. Runs inside a Spark task (applyInPandas)."""
    import networkx as nx
    from networkx.algorithms.community import greedy_modularity_communities

    # Rows arrive in whatever order the shuffle gives (it differs between a local run
    # and a cluster, or a full and an incremental night): sort them so the graph, its
    # communities and its picture's layout depend on the data alone.
    rows = rows.sort_values(["src", "dst", "link", "day"], na_position="first", kind="mergesort").reset_index(drop=True)
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
    burst = claim_burst(rows.loc[rows["link"] == "claim", "day"].tolist())
    communities = len(greedy_modularity_communities(links)) if links.number_of_edges() else 0
    brokers = [n for n in links if not n.startswith(WORKPLACE)]
    broker = ""
    if brokers and links.number_of_nodes() > 2:
        # Exact betweenness costs nodes x links: past BETWEENNESS_EXACT_NODES it is
        # estimated from a fixed sample of sources (seeded, so every run agrees).
        sample = BETWEENNESS_SAMPLE if links.number_of_nodes() > BETWEENNESS_EXACT_NODES else None
        centrality = nx.betweenness_centrality(links, k=sample, seed=7 if sample else None)
        broker = min(brokers, key=lambda n: (-centrality[n], n))
    return pd.DataFrame(
        [
            {
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
            }
        ]
    )


def component_analytics(graph_rows: DataFrame) -> DataFrame:
    """Graph rows of the rings (`component_graph_rows`) -> one row per ring
    (ANALYTICS_SCHEMA), computed with networkx in parallel, one ring per group."""
    return graph_rows.groupBy("component").applyInPandas(analyse_component, schema=ANALYTICS_SCHEMA)


def rests_on_own_records() -> Column:
    """A claim whose own records carry a mark DOMAIN.md gives of ghost employment or a
    false separation (features/collusion_evidence.py columns): what makes its workplace
    a member of a ring (`ring_members`)."""
    return (
        F.col("has_wage_without_tax")
        | F.col("is_just_past_threshold")
        | F.col("is_shared_account")
        | F.col("is_rehired")
        | F.col("has_code_disagreement")
    )


def is_suspicious_claim() -> Column:
    """A claim that rests on collusion evidence: its own records' marks, or a young
    workplace most of whose workers claimed (never a claim its workplace's closure laid
    off: features/collusion_evidence.py). A broker whose shells file every tax statement
    to look genuine leaves the young mark and the links between the shells, and no
    paper spell; the mark counts toward a ring's suspicious claims, but it never makes a
    workplace a member: two young businesses in one building that both failed are
    neighbours still."""
    return rests_on_own_records() | F.col("is_young_workplace_with_many_claims")


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


def _shown_node(node: Column) -> Column:
    """A node id as shown to investigators: person and account keys cut to 8 characters."""
    is_key = node.startswith(PERSON) | node.startswith(ACCOUNT)
    return F.when(is_key, F.substring(node, 1, 10)).otherwise(node)


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
    shown = F.when(
        F.col("dst").startswith(ADDRESS) | F.col("dst").startswith(PHONE), F.substring_index(F.col("dst"), ":", -1)
    ).otherwise(F.substring(F.substring_index(F.col("dst"), ":", -1), 1, 8))
    text = F.format_string("%s %s shared by %d workplaces", F.col("link"), shown, F.col("sharing"))
    return shared.groupBy("component").agg(F.array_sort(F.collect_list(text)).alias("shared"))


def ring_members(
    edges: DataFrame,
    workplace_components: DataFrame,
    candidate_claims: DataFrame,
    employments: DataFrame,
) -> DataFrame:
    """The workplaces of each candidate that belong to its ring -> (workplace_id,
    component, is_member, member_by). A member produced a suspicious claim
    (MEMBER_BY_MARKS), shares its representative or an account with another workplace
    of the component (MEMBER_BY_IDENTITY), or employed a claimant with a suspicious
    claim who rotated among the component's workplaces within the 18 months the claim
    qualified on (MEMBER_BY_ROTATION; DOMAIN.md: people rotating among the same cluster
    of workplaces); `member_by` names the first that holds. A workplace that is only in
    the same building or on the same phone line, with none of these, is a neighbour:
    named in the ring's reasons, not counted in it (`member_by` null)."""
    suspicious = candidate_claims.groupBy("workplace_id").agg(
        F.count(F.when(rests_on_own_records(), F.lit(1))).alias("suspicious_here")
    )
    # Only the spells of the rotation itself: those within the 18 months of insured
    # employment the claim qualified on. A job the claimant held years before says
    # nothing of the business (a clean neighbour would otherwise join the ring).
    rotated = candidate_claims.where(rests_on_own_records() & F.col("is_rotated_in_cluster")).select(
        "person_key",
        F.col("component").alias("rotated_component"),
        F.date_sub(F.col("spell_to"), QUALIFYING_WINDOW_DAYS - 1).alias("rotation_from"),
        F.col("spell_to").alias("rotation_to"),
    )
    in_rotation = (F.col("acquired_on") <= F.col("rotation_to")) & (
        F.col("lost_on").isNull() | (F.col("lost_on") >= F.col("rotation_from"))
    )
    rotated_through = (
        employments.select("person_key", "workplace_id", "acquired_on", "lost_on")
        .join(rotated, on="person_key", how="inner")
        .where(in_rotation)
        .join(workplace_components, on="workplace_id", how="inner")
        .where(F.col("component") == F.col("rotated_component"))
        .select("workplace_id")
        .distinct()
        .withColumn("rotated_through", F.lit(True))
    )
    identity_links = (
        related_workplaces(edges)
        .where(F.col("link").rlike("representative|account"))
        .select("workplace_id")
        .distinct()
        .withColumn("shares_identity", F.lit(True))
    )
    member_by = (
        F.when(F.coalesce(F.col("suspicious_here"), F.lit(0)) > 0, F.lit(MEMBER_BY_MARKS))
        .when(F.coalesce(F.col("shares_identity"), F.lit(False)), F.lit(MEMBER_BY_IDENTITY))
        .when(F.coalesce(F.col("rotated_through"), F.lit(False)), F.lit(MEMBER_BY_ROTATION))
    )
    return (
        workplace_components.join(suspicious, on="workplace_id", how="left")
        .join(identity_links, on="workplace_id", how="left")
        .join(rotated_through, on="workplace_id", how="left")
        .select("workplace_id", "component", member_by.isNotNull().alias("is_member"), member_by.alias("member_by"))
    )


def rings(
    edges: DataFrame,
    workplace_components: DataFrame,
    claims: DataFrame,
    collusion: DataFrame,
    components: DataFrame,
    employments: DataFrame,
) -> DataFrame:
    """The candidates (`workplace_components`: their workplaces), the graph
    (`components`: every node's component) and the claims' collusion features -> one
    row per suspected ring (RING_COLUMNS). `employments`: whose spells make a workplace
    a member through rotation (`ring_members`) and enter the rings' graphs.

    Whether a candidate is a ring is decided from its members' claims alone; only the
    rings' graphs are then built (`component_graph_rows`) and analysed with networkx
    (`component_analytics`: a few dozen of some thousands of candidates at a million
    persons)."""
    candidate_claims = (
        claims.select("claim_id", "person_key", "workplace_id")
        .join(workplace_components, on="workplace_id", how="inner")
        .join(collusion.drop("workplace_component"), on="claim_id", how="inner")
    )
    membership = ring_members(edges, workplace_components, candidate_claims, employments)
    member_claims = candidate_claims.join(
        membership.where(F.col("is_member")).select("workplace_id"), on="workplace_id", how="inner"
    )
    per_component = member_claims.groupBy("component").agg(
        F.count_distinct("person_key").alias("person_count"),
        F.count(F.lit(1)).alias("claim_count"),
        F.count(F.when(is_suspicious_claim(), F.lit(1))).alias("suspicious_claims"),
        F.count(F.when(F.col("has_wage_without_tax"), F.lit(1))).alias("without_tax"),
        F.count(F.when(F.col("is_just_past_threshold"), F.lit(1))).alias("just_past"),
        F.count(F.when(F.col("is_shared_account"), F.lit(1))).alias("shared_account"),
        F.count(F.when(F.col("is_rehired"), F.lit(1))).alias("rehired"),
        F.count(F.when(~rests_on_own_records() & F.col("is_young_workplace_with_many_claims"), F.lit(1))).alias(
            "young_only"
        ),
        F.count_distinct(F.when(F.col("is_young_workplace_with_many_claims"), F.col("workplace_id"))).alias(
            "young_workplaces"
        ),
    )
    members = (
        membership.groupBy("component")
        .agg(
            F.map_from_entries(
                F.array_sort(F.collect_list(F.when(F.col("is_member"), F.struct("workplace_id", "member_by"))))
            ).alias("member_by"),
            F.array_sort(F.collect_list(F.when(~F.col("is_member"), F.col("workplace_id")))).alias("neighbours"),
        )
        .withColumn("workplace_list", F.array_sort(F.map_keys("member_by")))
    )
    share = F.col("suspicious_claims") / F.col("claim_count")
    found = (
        per_component.join(members, on="component", how="inner")
        .where(
            (F.size("workplace_list") >= RING_MIN_WORKPLACES)
            & (F.col("suspicious_claims") >= RING_MIN_SUSPICIOUS_CLAIMS)
            & (share >= RING_MIN_SUSPICIOUS_SHARE)
        )
        .localCheckpoint()  # read twice: which graphs to analyse, and the rows
    )
    graph_rows = component_graph_rows(
        edges, components, found.select("component"), claims, employments, workplace_components
    )
    analytics = component_analytics(graph_rows)
    joined = analytics.join(found, on="component", how="inner").join(
        _shared_attributes(edges, workplace_components), on="component", how="left"
    )
    reasons = F.concat_ws(
        ";",
        F.format_string(
            "%d workplaces linked: %s",
            F.size("workplace_list"),
            F.array_join(F.coalesce(F.col("shared"), F.array().cast("array<string>")), ", "),
        ),
        F.format_string(
            "%d of %d claims rest on collusion evidence (%d wages without tax statements, "
            "%d spells just past 180 days, %d shared accounts, %d rehired, %d only at a young workplace most "
            "of whose workers claimed)",
            F.col("suspicious_claims"),
            F.col("claim_count"),
            F.col("without_tax"),
            F.col("just_past"),
            F.col("shared_account"),
            F.col("rehired"),
            F.col("young_only"),
        ),
        F.when(
            F.col("rotating_persons") > 0,
            F.format_string(
                "%d persons rotated among its workplaces: %s", F.col("rotating_persons"), F.col("rotation")
            ),
        ),
        F.when(
            F.col("young_workplaces") > 0,
            F.format_string("%d young workplaces with many claims", F.col("young_workplaces")),
        ),
        F.when(
            F.col("claim_burst") >= 3,
            F.format_string("%d claims filed within %d days", F.col("claim_burst"), F.lit(BURST_DAYS)),
        ),
        F.when(F.col("broker") != "", F.format_string("most central link %s", _shown_node(F.col("broker")))),
        F.when(
            F.size("neighbours") > 0,
            F.format_string(
                "not counted: %s (same address or phone only, no suspicious claim)", F.array_join("neighbours", ", ")
            ),
        ),
    )
    return joined.select(
        ring_id(F.element_at("workplace_list", 1)).alias("ring_id"),
        "component",
        F.array_join("workplace_list", ";").alias("workplace_ids"),
        "member_by",
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


COLLUSION_TYPES = ("FALSE_SEPARATION", "GHOST_EMPLOYMENT")
WORKPLACE_COLUMNS = ("workplace_id", "score", "rank", "ring_id", "fraud_types", "reasons", "flagged_claims")
# A flagged claim counts at half its score towards its workplace: one false
# separation does not make an employer an organiser, five do.
CLAIM_WEIGHT = 0.5


def suspected_workplaces(cases: DataFrame, rings_df: DataFrame) -> DataFrame:
    """The queue (cases.csv columns) and the rings (RING_COLUMNS) -> suspected workplaces
    (부정수급 의심사업장, WORKPLACE_COLUMNS): every workplace of a ring and every
    workplace with a FALSE_SEPARATION or GHOST_EMPLOYMENT case. Score: noisy-or of its
    ring's score and of its collusion cases at CLAIM_WEIGHT; ranked 1..N by score, then
    workplace_id."""
    members = rings_df.select(
        "ring_id",
        F.col("score").alias("ring_score"),
        F.element_at(F.split("reasons", ";"), 1).alias("ring_reason"),
        F.explode(F.split("workplace_ids", ";")).alias("workplace_id"),
    )
    case_types = F.split("fraud_types", ";")
    collusion_types = F.filter(case_types, lambda t: t.isin(*COLLUSION_TYPES))
    is_collusion_case = F.size(collusion_types) > 0
    per_rule = (
        cases.where(is_collusion_case)
        .select("workplace_id", F.explode(F.split("rule_hits", ";")).alias("rule_id"))
        .groupBy("workplace_id", "rule_id")
        .agg(F.count(F.lit(1)).alias("hits"))
        .groupBy("workplace_id")
        .agg(
            F.array_sort(F.collect_list(F.format_string("%s×%d", F.col("rule_id"), F.col("hits")))).alias("rule_counts")
        )
    )
    per_workplace = (
        cases.groupBy("workplace_id")
        .agg(
            F.count(F.lit(1)).alias("flagged_claims"),
            F.count(F.when(is_collusion_case, F.lit(1))).alias("collusion_cases"),
            F.aggregate(
                F.array_sort(F.collect_list(F.when(is_collusion_case, F.col("score")))),  # order-free product
                F.lit(1.0),
                lambda doubt, score: doubt * (F.lit(1.0) - F.lit(CLAIM_WEIGHT) * score),
            ).alias("case_doubt"),
            F.array_distinct(F.flatten(F.collect_list(collusion_types))).alias("case_types"),
        )
        .join(per_rule, on="workplace_id", how="left")
    )
    joined = per_workplace.join(members, on="workplace_id", how="full").where(
        F.col("ring_id").isNotNull() | (F.coalesce(F.col("collusion_cases"), F.lit(0)) > 0)
    )
    score = F.round(
        F.lit(1.0)
        - (F.lit(1.0) - F.coalesce(F.col("ring_score"), F.lit(0.0))) * F.coalesce(F.col("case_doubt"), F.lit(1.0)),
        4,
    )
    types = F.array_sort(
        F.array_distinct(
            F.concat(
                F.coalesce(F.col("case_types"), F.array().cast("array<string>")),
                F.when(F.col("ring_id").isNotNull(), F.array(F.lit("GHOST_EMPLOYMENT"))).otherwise(
                    F.array().cast("array<string>")
                ),
            )
        )
    )
    reasons = F.concat_ws(
        ";",
        F.when(
            F.col("ring_id").isNotNull(),
            F.format_string(
                "member of ring %s (score %.2f): %s", F.col("ring_id"), F.col("ring_score"), F.col("ring_reason")
            ),
        ),
        F.when(
            F.col("collusion_cases") > 0,
            F.format_string(
                "%d claims flagged for collusion (%s)", F.col("collusion_cases"), F.array_join("rule_counts", ", ")
            ),
        ),
    )
    scored = joined.select(
        "workplace_id",
        score.alias("score"),
        "ring_id",
        F.array_join(types, ";").alias("fraud_types"),
        reasons.alias("reasons"),
        F.coalesce(F.col("flagged_claims"), F.lit(0)).cast("bigint").alias("flagged_claims"),
    )
    order = Window.orderBy(F.col("score").desc(), F.col("workplace_id"))
    return scored.select(
        "workplace_id",
        "score",
        F.row_number().over(order).alias("rank"),
        "ring_id",
        "fraud_types",
        "reasons",
        "flagged_claims",
    )
