"""Workplace-collusion features (부정수급 의심사업장): the graph that links workplaces,
and the per-claim evidence of false separations (허위 이직사유) and ghost employment
(위장고용).

The graph. Nodes are workplaces (`W:`), persons (`P:`, here the representatives, 대표자),
bank accounts (`A:`), normalised addresses (`ADDR:`) and phones (`TEL:`). Edges:

| link | from | to |
| --- | --- | --- |
| `representative` | workplace | its representative |
| `address` | workplace | its normalised address (features/normalize.py) |
| `phone` | workplace | its normalised phone |
| `workplace account` | workplace | its bank account |
| `benefit account` | the workplace a claim left | the account the benefit is paid into, when two or more claimants use it |

Workplaces that share a representative, an address, a phone or an account, or whose
former workers are paid into one account, fall into one connected component. A
claimant's own account, used again for each of their claims over the years, is not a
link: it would chain every employer they ever claimed from. Who
worked where is deliberately *not* an edge of the components: people change jobs, and
over years of spells the whole workforce would become one component. Employment enters
per component afterwards (rotation, rehiring), where it cannot percolate.

Per claim (one row per claim, `CLAIM_COLLUSION_COLUMNS`):

- the qualifying spell: the claimant's latest spell at the claim's workplace that
  ended on or before the claim was filed; its length (just past the 180-day
  threshold?), its separation code as the employer reported it (does it disagree with
  the claim's?), and whether the payer ever filed a tax statement for it (reported
  wages without any statement from the payer are the mark of a paper employee);
- rehiring: a new spell of the claimant at the same workplace, or at a related one
  (sharing its representative, address, phone or account), while the claim was
  certified or within `REHIRE_WINDOW_DAYS` after it or the separation of the separation or while the
  claim was still being certified. Claims for the end of a fixed-term contract (32)
  or retirement (31) are not counted: seasonal workers are rehired by the same
  employer every season, honestly;
- layoffs while hiring: the claimant was one of a collective layoff — `LAYOFF_BURST`
  or more separations under code 23 at the workplace within `LAYOFF_WINDOW_DAYS` of
  this one, at least `BURST_SHARE_OF_HEADCOUNT` of its headcount, and `BURST_FACTOR`
  times what the workplace's own code-23 separations of the previous two years
  predict for such a window — and the workplace hired
  `MIN_HIRES` or more in the `HIRING_WINDOW_DAYS` around it. A layoff for business
  reasons is a downsizing (근로기준법 제24조); a big employer's everyday turnover has
  code-23 separations every month, which is its normal rate, not a burst;
- a young workplace with many claims; a benefit account shared by several claimants
  (two, as spouses do, is not enough) or with a workplace.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from features.normalize import normalized_address, normalized_phone
from fraud.spark import join_keys

WORKPLACE = "W:"
PERSON = "P:"
ACCOUNT = "A:"
ADDRESS = "ADDR:"
PHONE = "TEL:"

QUALIFYING_DAYS = 180  # 피보험단위기간 180일 (DOMAIN.md)
JUST_PAST_THRESHOLD_DAYS = 30  # a spell of 181..210 days ends "just past" the threshold
REHIRE_WINDOW_DAYS = 90
LAYOFF_WINDOW_DAYS = 30
LAYOFF_BURST = 5
# The burst must also be this many times what the workplace's own code-23
# separations of the previous LAYOFF_HISTORY_DAYS predict for a window of that size.
BURST_FACTOR = 3.0
LAYOFF_HISTORY_DAYS = 730
# ... and this share of the workplace's headcount: a mass employment change is
# measured against the size of the workplace (고용정책기본법 제33조).
BURST_SHARE_OF_HEADCOUNT = 0.10
HIRING_WINDOW_DAYS = 90
MIN_HIRES = 3
YOUNG_WORKPLACE_DAYS = 365
MANY_CLAIMS = 3  # claims from one young workplace
SHARED_ACCOUNT_CLAIMANTS = 3  # distinct claimants paid into one account
# A monthly statement is due by the end of the next month: a spell younger than this
# on the run date cannot be expected to have one yet.
TAX_FILING_LAG_DAYS = 62
NOT_SEASONAL_CODES = ("31", "32")  # rehiring after these is normal
INELIGIBLE_CODES = ("11", "26", "41")

EDGE_COLUMNS = ("src", "dst", "link")

CLAIM_COLLUSION_COLUMNS = (
    "claim_id",
    "workplace_component",
    "spell_employment_id",
    "spell_to",
    "spell_days",
    "spell_separation_code",
    "is_just_past_threshold",
    "has_wage_without_tax",
    "tax_statements",
    "has_code_disagreement",
    "rehire_workplace_id",
    "rehired_on",
    "rehire_relation",
    "is_rehired",
    "layoffs_23_nearby",
    "layoffs_23_expected",
    "headcount",
    "hires_nearby",
    "is_layoff_while_hiring",
    "workplace_age_days",
    "workplace_claims",
    "is_young_workplace_with_many_claims",
    "account_claimants",
    "is_account_shared_with_workplace",
    "is_shared_account",
)


def _node(prefix: str, column: Column) -> Column:
    return F.concat(F.lit(prefix), column)


def graph_edges(workplaces: DataFrame, claims: DataFrame) -> DataFrame:
    """workplaces and claims (conformed) -> edges (src, dst, link): every workplace to
    its representative, normalised address and phone, and account; every claim's
    workplace to the benefit account. Nulls (no phone, an address that does not
    normalise) make no edge."""
    workplace = _node(WORKPLACE, F.col("workplace_id"))
    attributes = [
        ("representative", _node(PERSON, F.col("representative_key"))),
        ("address", _node(ADDRESS, normalized_address(F.col("address")))),
        ("phone", _node(PHONE, normalized_phone(F.col("phone")))),
        ("workplace account", _node(ACCOUNT, F.col("bank_account_key"))),
    ]
    links = [workplaces.select(workplace.alias("src"), node.alias("dst"), F.lit(link).alias("link"))
             for link, node in attributes]
    claimants_per_account = claims.groupBy("bank_account_key").agg(
        F.count_distinct("person_key").alias("claimants"))
    shared_benefit_accounts = claims.join(claimants_per_account, on="bank_account_key", how="inner").where(
        F.col("claimants") >= 2)
    links.append(shared_benefit_accounts.select(
        workplace.alias("src"), _node(ACCOUNT, F.col("bank_account_key")).alias("dst"),
        F.lit("benefit account").alias("link")))
    edges = links[0]
    for more in links[1:]:
        edges = edges.unionByName(more)
    return edges.where(F.col("dst").isNotNull()).distinct().select(*EDGE_COLUMNS)


def related_workplaces(edges: DataFrame) -> DataFrame:
    """Edges (after hub pruning) -> (workplace_id, related_workplace_id, link): pairs of
    distinct workplaces sharing a representative, address, phone or workplace account."""
    attribute_links = edges.where(F.col("link") != "benefit account").select(
        F.substring(F.col("src"), len(WORKPLACE) + 1, 64).alias("workplace_id"), "dst", "link"
    )
    other = attribute_links.select(F.col("workplace_id").alias("related_workplace_id"), "dst")
    return (
        attribute_links.join(other, on="dst", how="inner")
        .where(F.col("workplace_id") != F.col("related_workplace_id"))
        .groupBy("workplace_id", "related_workplace_id")
        .agg(F.array_join(F.array_sort(F.collect_set("link")), "+").alias("link"))
    )


def workplace_components(components: DataFrame) -> DataFrame:
    """(node, component) -> (workplace_id, component) for the workplace nodes."""
    return components.where(F.col("node").startswith(WORKPLACE)).select(
        F.substring(F.col("node"), len(WORKPLACE) + 1, 64).alias("workplace_id"), "component"
    )


def qualifying_spells(claims: DataFrame, employments: DataFrame) -> DataFrame:
    """Per claim, the claimant's latest spell at the claim's workplace that ended on or
    before filing -> (claim_id, spell_employment_id, spell_from, spell_to,
    spell_separation_code, monthly_wage, spell_days). Claims without one are absent."""
    spells = employments.where(F.col("lost_on").isNotNull()).select(
        F.col("employment_id").alias("spell_employment_id"),
        F.col("person_key").alias("spell_person_key"),
        F.col("workplace_id").alias("spell_workplace_id"),
        F.col("acquired_on").alias("spell_from"),
        F.col("lost_on").alias("spell_to"),
        F.col("separation_code").alias("spell_separation_code"),
        "monthly_wage",
    )
    ended_before_filing = (
        (F.col("spell_person_key") == F.col("person_key"))
        & (F.col("spell_workplace_id") == F.col("workplace_id"))
        & (F.col("spell_to") <= F.col("filed_on"))
    )
    latest_first = Window.partitionBy("claim_id").orderBy(F.col("spell_to").desc(), F.col("spell_employment_id"))
    return (
        claims.select("claim_id", "person_key", "workplace_id", "filed_on")
        .join(spells, on=ended_before_filing, how="inner")
        .withColumn("_order", F.row_number().over(latest_first))
        .where(F.col("_order") == 1)
        .select(
            "claim_id",
            "spell_employment_id",
            "spell_from",
            "spell_to",
            "spell_separation_code",
            "monthly_wage",
            (F.datediff("spell_to", "spell_from") + F.lit(1)).alias("spell_days"),
        )
    )


def tax_statements_for_spells(
    spells: DataFrame, claims: DataFrame, workplaces: DataFrame, income: DataFrame, as_of: dt.date
) -> DataFrame:
    """Per qualifying spell, the income statements its payer filed for the claimant
    by `as_of` overlapping it -> (claim_id, tax_statements, tax_due): `tax_due` is
    whether a statement should exist by now."""
    payer = workplaces.select("workplace_id", F.col("business_no").alias("payer_business_no"))
    subjects = spells.join(claims.select("claim_id", "person_key", "workplace_id"), on="claim_id", how="inner").join(
        payer, on="workplace_id", how="left"
    )
    statements = income.where(F.col("filed_on") <= F.lit(as_of)).select(
        F.col("person_key").alias("statement_person_key"),
        F.col("payer_business_no").alias("statement_payer"),
        "work_from",
        "work_to",
        "record_id",
    )
    statement_for_spell = (
        (F.col("statement_person_key") == F.col("person_key"))
        & (F.col("statement_payer") == F.col("payer_business_no"))
        & (F.col("work_from") <= F.col("spell_to"))
        & (F.col("work_to") >= F.col("spell_from"))
    )
    tax_due = F.date_add(F.col("spell_from"), TAX_FILING_LAG_DAYS) <= F.lit(as_of)
    return (
        subjects.join(statements, on=statement_for_spell, how="left")
        .groupBy("claim_id", "spell_from")
        .agg(F.count("record_id").alias("tax_statements"))
        .select("claim_id", "tax_statements", tax_due.alias("tax_due"))
    )


def _last_certified(certifications: DataFrame) -> DataFrame:
    return certifications.groupBy("claim_id").agg(F.max("period_to").alias("last_certified_to"))


def rehires(
    claims: DataFrame,
    spells: DataFrame,
    employments: DataFrame,
    certifications: DataFrame,
    related: DataFrame,
) -> DataFrame:
    """Per claim, the earliest new spell of the claimant at the same workplace or at a
    related one (`related_workplaces`), begun within REHIRE_WINDOW_DAYS of the
    separation or while the claim was still certified -> (claim_id,
    rehire_workplace_id, rehired_on, rehire_relation). Claims for the end of a
    fixed-term contract or retirement are left out (seasonal work)."""
    claim_side = (
        claims.where(~F.col("separation_code").isin(*NOT_SEASONAL_CODES))
        .select("claim_id", "person_key", "workplace_id")
        .join(spells.select("claim_id", "spell_to", "spell_employment_id"), on="claim_id", how="inner")
        .join(_last_certified(certifications), on="claim_id", how="left")
    )
    new_spells = employments.select(
        F.col("employment_id").alias("new_employment_id"),
        F.col("person_key").alias("new_person_key"),
        F.col("workplace_id").alias("rehire_workplace_id"),
        F.col("acquired_on").alias("rehired_on"),
    )
    # "Soon after (or during) the benefit" (DOMAIN.md): within the window of the
    # separation or of the last certified day, whichever is later.
    window_end = F.date_add(
        F.greatest(F.col("spell_to"), F.coalesce(F.col("last_certified_to"), F.col("spell_to"))), REHIRE_WINDOW_DAYS
    )
    is_rehire = (
        (F.col("new_person_key") == F.col("person_key"))
        & (F.col("new_employment_id") != F.col("spell_employment_id"))
        & (F.col("rehired_on") > F.col("spell_to"))
        & (F.col("rehired_on") <= window_end)
    )
    relations = related.select(
        F.col("workplace_id").alias("r_workplace_id"), F.col("related_workplace_id").alias("r_related_id"),
        F.col("link").alias("shared"),
    )
    same_workplace = F.col("rehire_workplace_id") == F.col("workplace_id")
    earliest = Window.partitionBy("claim_id").orderBy("rehired_on", "rehire_workplace_id")
    return (
        claim_side.join(new_spells, on=is_rehire, how="inner")
        .join(relations, on=(F.col("r_workplace_id") == F.col("workplace_id"))
              & (F.col("r_related_id") == F.col("rehire_workplace_id")), how="left")
        .where(same_workplace | F.col("shared").isNotNull())
        .withColumn("_order", F.row_number().over(earliest))
        .where(F.col("_order") == 1)
        .select(
            "claim_id",
            "rehire_workplace_id",
            "rehired_on",
            F.when(same_workplace, F.lit("same workplace"))
            .otherwise(F.format_string("related workplace: shared %s", F.col("shared")))
            .alias("rehire_relation"),
        )
    )


def layoffs_while_hiring(spells: DataFrame, claims: DataFrame, employments: DataFrame) -> DataFrame:
    """Per claim, the code-23 separations at its workplace within LAYOFF_WINDOW_DAYS of
    its separation, how many its previous LAYOFF_HISTORY_DAYS predict for a window of
    that size, and the hires within HIRING_WINDOW_DAYS of it -> (claim_id,
    layoffs_23_nearby, layoffs_23_expected, headcount, hires_nearby): headcount is the
    spells open at the start of the layoff window."""
    subject = spells.join(claims.select("claim_id", "workplace_id"), on="claim_id", how="inner").select(
        "claim_id", "workplace_id", "spell_to"
    )
    events = employments.select(
        F.col("workplace_id").alias("event_workplace_id"),
        "employment_id",
        "acquired_on",
        "lost_on",
        "separation_code",
    )

    def within(day: Column, days: int) -> Column:
        return F.abs(F.datediff(day, F.col("spell_to"))) <= days

    is_layoff_23 = (F.col("separation_code") == "23") & within(F.col("lost_on"), LAYOFF_WINDOW_DAYS)
    is_hire = within(F.col("acquired_on"), HIRING_WINDOW_DAYS)
    days_before_window = F.datediff(F.date_sub(F.col("spell_to"), LAYOFF_WINDOW_DAYS), F.col("lost_on"))
    is_earlier_layoff_23 = (F.col("separation_code") == "23") & days_before_window.between(1, LAYOFF_HISTORY_DAYS)
    window_share_of_history = (2 * LAYOFF_WINDOW_DAYS + 1) / LAYOFF_HISTORY_DAYS
    window_start = F.date_sub(F.col("spell_to"), LAYOFF_WINDOW_DAYS)
    is_employed_at_window_start = (F.col("acquired_on") <= window_start) & (
        F.col("lost_on").isNull() | (F.col("lost_on") >= window_start)
    )
    return (
        subject.join(events, on=F.col("event_workplace_id") == F.col("workplace_id"), how="inner")
        .groupBy("claim_id")
        .agg(
            F.count(F.when(is_layoff_23, F.col("employment_id"))).alias("layoffs_23_nearby"),
            F.count(F.when(is_earlier_layoff_23, F.col("employment_id"))).alias("_earlier"),
            F.count(F.when(is_hire, F.col("employment_id"))).alias("hires_nearby"),
            F.count(F.when(is_employed_at_window_start, F.col("employment_id"))).alias("headcount"),
        )
        .select(
            "claim_id",
            "layoffs_23_nearby",
            F.round(F.col("_earlier") * F.lit(window_share_of_history), 2).alias("layoffs_23_expected"),
            "headcount",
            "hires_nearby",
        )
    )


def workplace_claim_counts(claims: DataFrame, workplaces: DataFrame, subjects: DataFrame | None = None) -> DataFrame:
    """Per claim (of `subjects`, by default every claim), how old its workplace was
    when it was filed and how many claims that workplace produced in its first two
    years -> (claim_id, workplace_age_days, workplace_claims)."""
    opened = workplaces.select("workplace_id", "opened_on")

    def aged(frame: DataFrame) -> DataFrame:
        return frame.select("claim_id", "workplace_id", "filed_on").join(opened, on="workplace_id", how="left")

    with_age = aged(claims)
    early_claims = (
        with_age.where(F.datediff("filed_on", "opened_on") <= 2 * YOUNG_WORKPLACE_DAYS)
        .groupBy("workplace_id")
        .agg(F.count(F.lit(1)).alias("workplace_claims"))
    )
    subject_age = with_age if subjects is None else aged(subjects)
    return subject_age.join(early_claims, on="workplace_id", how="left").select(
        "claim_id",
        F.datediff("filed_on", "opened_on").alias("workplace_age_days"),
        F.coalesce(F.col("workplace_claims"), F.lit(0)).cast("bigint").alias("workplace_claims"),
    )


def shared_accounts(claims: DataFrame, workplaces: DataFrame, subjects: DataFrame | None = None) -> DataFrame:
    """Per claim (of `subjects`, by default every claim), how many distinct claimants
    are paid into its benefit account and whether a workplace holds that account ->
    (claim_id, account_claimants, is_account_shared_with_workplace)."""
    claimants = claims.groupBy("bank_account_key").agg(F.count_distinct("person_key").alias("account_claimants"))
    workplace_accounts = (
        workplaces.where(F.col("bank_account_key").isNotNull())
        .select("bank_account_key")
        .distinct()
        .withColumn("is_workplace_account", F.lit(True))
    )
    return (
        (claims if subjects is None else subjects).select("claim_id", "bank_account_key")
        .join(claimants, on="bank_account_key", how="left")
        .join(workplace_accounts, on="bank_account_key", how="left")
        .select(
            "claim_id",
            F.col("account_claimants").cast("bigint").alias("account_claimants"),
            F.coalesce(F.col("is_workplace_account"), F.lit(False)).alias("is_account_shared_with_workplace"),
        )
    )


def claim_collusion_features(
    tables: dict[str, DataFrame],
    components: DataFrame,
    edges: DataFrame,
    as_of: dt.date,
    subjects: DataFrame | None = None,
) -> DataFrame:
    """The conformed tables, the workplaces' components (workplace_id, component) and
    the graph's edges after hub pruning -> one row per claim (CLAIM_COLLUSION_COLUMNS).

    `subjects` (claims rows, by default every claim): the claims to compute the rows
    of. Every count over other claims (claims of the workplace, claimants of the
    account) still counts every claim, so a subject's row is the one a run over every
    claim gives it (a nightly run recomputes only the claims the night touched)."""
    claims, employments = tables["claims"], tables["employments"]
    income, certifications = tables["income"], tables["certifications"]
    subject = claims if subjects is None else subjects
    workplace_spells = employments
    if subjects is not None:
        # Only the subjects' claimants, workplaces and certifications are read: the
        # joins below never match another's (person, workplace and claim are join keys).
        # Each restricted table is materialised once: the joins below read it several
        # times, and a night's subjects are few (broadcast, so no history is shuffled).
        persons = join_keys(subjects.select("person_key").distinct())
        subject_workplaces = join_keys(subjects.select("workplace_id").distinct())
        employments = employments.join(persons, on="person_key", how="left_semi").localCheckpoint()
        workplace_spells = tables["employments"].join(
            subject_workplaces, on="workplace_id", how="left_semi").localCheckpoint()
        income = income.join(persons, on="person_key", how="left_semi").localCheckpoint()
        certifications = certifications.join(
            join_keys(subjects.select("claim_id")), on="claim_id", how="left_semi").localCheckpoint()
        # The counts over other claims are per workplace and per account: the claims at
        # the subjects' workplaces and on their accounts hold every claim they count.
        at_workplaces = claims.join(subject_workplaces, on="workplace_id", how="left_semi")
        on_accounts = claims.join(join_keys(subjects.select("bank_account_key").distinct()),
                                  on="bank_account_key", how="left_semi")
    spells = qualifying_spells(subject, employments)
    taxes = tax_statements_for_spells(spells, subject, tables["workplaces"], income, as_of)
    rehired = rehires(subject, spells, employments, certifications, related_workplaces(edges))
    layoffs = layoffs_while_hiring(spells, subject, workplace_spells)
    ages = workplace_claim_counts(claims if subjects is None else at_workplaces, tables["workplaces"], subjects)
    accounts = shared_accounts(claims if subjects is None else on_accounts, tables["workplaces"], subjects)

    joined = (
        subject.select("claim_id", "workplace_id", "separation_code")
        .join(components, on="workplace_id", how="left")
        .join(spells, on="claim_id", how="left")
        .join(taxes, on="claim_id", how="left")
        .join(rehired, on="claim_id", how="left")
        .join(layoffs, on="claim_id", how="left")
        .join(ages, on="claim_id", how="left")
        .join(accounts, on="claim_id", how="left")
    )
    is_just_past_threshold = F.col("spell_days").between(QUALIFYING_DAYS + 1, QUALIFYING_DAYS + JUST_PAST_THRESHOLD_DAYS)
    has_wage_without_tax = (
        (F.col("monthly_wage") > 0) & F.coalesce(F.col("tax_due"), F.lit(False)) & (F.col("tax_statements") == 0)
    )
    has_code_disagreement = (F.col("spell_separation_code") != F.col("separation_code")) & F.col(
        "spell_separation_code"
    ).isin(*INELIGIBLE_CODES)
    is_layoff_burst = (
        (F.col("layoffs_23_nearby") >= LAYOFF_BURST)
        & (F.col("layoffs_23_nearby") >= F.lit(BURST_SHARE_OF_HEADCOUNT) * F.col("headcount"))
        & (F.col("layoffs_23_nearby") >= F.lit(BURST_FACTOR) * F.greatest(F.col("layoffs_23_expected"), F.lit(1.0)))
    )
    is_layoff_while_hiring = is_layoff_burst & (F.col("hires_nearby") >= MIN_HIRES)
    is_young_with_many_claims = (F.col("workplace_age_days") <= YOUNG_WORKPLACE_DAYS) & (
        F.col("workplace_claims") >= MANY_CLAIMS
    )
    is_shared_account = (F.col("account_claimants") >= SHARED_ACCOUNT_CLAIMANTS) | F.col(
        "is_account_shared_with_workplace"
    )
    flag = lambda condition: F.coalesce(condition, F.lit(False))  # noqa: E731
    return joined.select(
        "claim_id",
        F.col("component").alias("workplace_component"),
        "spell_employment_id",
        "spell_to",
        "spell_days",
        "spell_separation_code",
        flag(is_just_past_threshold).alias("is_just_past_threshold"),
        flag(has_wage_without_tax).alias("has_wage_without_tax"),
        F.coalesce(F.col("tax_statements"), F.lit(0)).cast("bigint").alias("tax_statements"),
        flag(has_code_disagreement).alias("has_code_disagreement"),
        "rehire_workplace_id",
        "rehired_on",
        "rehire_relation",
        F.col("rehired_on").isNotNull().alias("is_rehired"),
        F.coalesce(F.col("layoffs_23_nearby"), F.lit(0)).cast("bigint").alias("layoffs_23_nearby"),
        F.coalesce(F.col("layoffs_23_expected"), F.lit(0.0)).cast("double").alias("layoffs_23_expected"),
        F.coalesce(F.col("headcount"), F.lit(0)).cast("bigint").alias("headcount"),
        F.coalesce(F.col("hires_nearby"), F.lit(0)).cast("bigint").alias("hires_nearby"),
        flag(is_layoff_while_hiring).alias("is_layoff_while_hiring"),
        "workplace_age_days",
        F.coalesce(F.col("workplace_claims"), F.lit(0)).cast("bigint").alias("workplace_claims"),
        flag(is_young_with_many_claims).alias("is_young_workplace_with_many_claims"),
        F.coalesce(F.col("account_claimants"), F.lit(0)).cast("bigint").alias("account_claimants"),
        flag(F.col("is_account_shared_with_workplace")).alias("is_account_shared_with_workplace"),
        flag(is_shared_account).alias("is_shared_account"),
    )


def no_collusion(claims: DataFrame) -> DataFrame:
    """Claims -> CLAIM_COLLUSION_COLUMNS plus `ring_id` with no evidence at all (for a
    detection run without the graph stage)."""
    types = {
        "spell_employment_id": "string", "spell_to": "date", "spell_days": "int", "spell_separation_code": "string",
        "rehire_workplace_id": "string", "rehired_on": "date", "rehire_relation": "string",
        "workplace_component": "string", "workplace_age_days": "int", "layoffs_23_expected": "double",
    }
    columns = []
    for name in CLAIM_COLLUSION_COLUMNS[1:]:
        if name in types:
            columns.append(F.lit(None).cast(types[name]).alias(name))
        elif name.startswith(("is_", "has_")):
            columns.append(F.lit(False).alias(name))
        else:
            columns.append(F.lit(0).cast("bigint").alias(name))
    return claims.select("claim_id", *columns, F.lit(None).cast("string").alias("ring_id"))
