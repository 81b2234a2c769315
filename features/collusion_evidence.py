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
| `benefit account` | the workplace a claim left | the benefit's account, when two or more claimants use it |

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
  the claim's?), and whether the payer's tax statements match the wages it reported
  (reported wages without statements, or with statements paying less than
  `WAGE_MATCH_SHARE` of the reported wage, are the mark of a paper employee, but only
  inside the span the tax feed covers: an older spell has no statement because the
  feed does not reach back that far);
- rehiring: a new spell of the claimant at the same workplace, or at a related one
  (sharing its representative, address, phone or account), while the claim was
  certified or within `REHIRE_WINDOW_DAYS` after it or the separation of the separation or while the
  claim was still being certified. Claims for the end of a fixed-term contract (32)
  or retirement (31) are not counted: seasonal workers are rehired by the same
  employer every season, honestly;
- layoffs while hiring: within `LAYOFF_WINDOW_DAYS` of the claimant's separation the
  workplace laid off under code 23 at least `PATTERN_LAYOFFS` people, at least
  `LAYOFF_SHARE_OF_WORKFORCE` of everyone it employed in that window and
  `BURST_FACTOR` times what its own code-23 separations of the previous two years
  predict, and it kept hiring: `MIN_HIRES` or more hires in the same window, at least
  `HIRES_PER_LAYOFF` per layoff. Every threshold but the two small floors is relative
  to the workplace: its size and its own history. A layoff for business reasons is a
  downsizing (근로기준법 제24조): a real one shrinks the workforce, while a workplace
  that lays off and hires as many is replacing people it calls laid off (a small one
  does it two or three at a time, repeatedly). A big employer's everyday turnover has
  code-23 separations every month, which is its normal rate and a small share of its
  workforce, not a burst. The records prove the claimant was one of the replaced only
  when the pattern holds and at least `PATTERN_LAYOFFS` of the layoffs, the claimant's
  among them and themselves `LAYOFF_SHARE_OF_WORKFORCE` of the workforce, fell within
  `BURST_WINDOW_DAYS` of the claimant's separation (`is_layoff_while_hiring`). The same
  pattern spread over months is a lead (`is_layoff_pattern_while_hiring`): honest churn
  at a small workplace looks the same from the records, so only the employer's reasons
  settle it. Two layoffs
  (`MIN_LAYOFFS`) are everyday churn as often as not (code 23 is among the commonest
  reasons for leaving): a weaker lead (`is_few_layoffs_while_hiring`);
- a young workplace with many claims; a benefit account shared by several claimants
  (two, as spouses do, is not enough) or with a workplace.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from features.certifications import FAR_FUTURE
from features.normalize import normalized_address, normalized_phone
from fraud.spark import join_keys

WORKPLACE = "W:"
PERSON = "P:"
ACCOUNT = "A:"
ADDRESS = "ADDR:"
PHONE = "TEL:"

QUALIFYING_DAYS = 180  # 피보험단위기간 180일 (DOMAIN.md) ...
QUALIFYING_WINDOW_DAYS = 548  # ... in the 18 months before the separation
# 181..210 insured days in those 18 months: the spell ended "just past" the threshold.
JUST_PAST_THRESHOLD_DAYS = 30
REHIRE_WINDOW_DAYS = 90
# The benefit is paid only within 12 months after the separation (고용보험법 제48조).
CLAIM_WITHIN_MONTHS = 12
# Half a year either side of the separation: a small workplace's false layoffs come two
# or three at a time, months apart.
LAYOFF_WINDOW_DAYS = 183
MIN_LAYOFFS = 2  # this claimant and one more: a lead ...
PATTERN_LAYOFFS = 3  # ... and at least three, a pattern ...
# ... that proves the claimant one of the replaced only when that many were laid off
# together, within a month of the claimant's separation.
BURST_WINDOW_DAYS = 30
# The layoffs must be this share of everyone the workplace employed in the window (a
# mass employment change is measured against the size of the workplace, 고용정책기본법
# 제33조) ...
LAYOFF_SHARE_OF_WORKFORCE = 0.2
# ... and this many times what its own code-23 separations of the previous
# LAYOFF_HISTORY_DAYS predict for a window of that size.
BURST_FACTOR = 3.0
LAYOFF_HISTORY_DAYS = 730
# Kept hiring: at least MIN_HIRES hires in the window and HIRES_PER_LAYOFF per layoff
# (a real downsizing hires few, if any).
MIN_HIRES = 2
HIRES_PER_LAYOFF = 0.5
YOUNG_WORKPLACE_DAYS = 365
# Many claims from a young workplace: at least MIN_YOUNG_CLAIMS, and this share of
# everyone it ever employed (its size, not a count).
MIN_YOUNG_CLAIMS = 2
YOUNG_CLAIMS_SHARE_OF_WORKERS = 0.5
# A claim laid off by its workplace's closure (DOMAIN.md's look-alike) carries no young
# mark: the closure explains why everyone claimed.
CLOSURE_CODE = "22"
SHARED_ACCOUNT_CLAIMANTS = 3  # distinct claimants paid into one account
# Wages "without matching tax statements": fewer months matched by the payer's
# statements than this share of the spell's months that are due (a statement is due by
# the end of the next month, features/collusion_evidence.py:statement_due_on) inside the tax
# feed's span. A month is matched when the payer's statements for it pay at least
# WAGE_MATCH_SHARE of the monthly wage the employer reported for the spell, prorated
# to the spell's days in the month (relative to the person's own reported wage:
# bonuses and unpaid days move a month by far less than half).
TAX_MONTHS_FILED_SHARE = 0.5
WAGE_MATCH_SHARE = 0.5
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
    "insured_days_18m",
    "is_just_past_threshold",
    "has_wage_without_tax",
    "tax_statements",
    "tax_months_due",
    "tax_months_filed",
    "tax_months_matching",
    "has_code_disagreement",
    "rehire_workplace_id",
    "rehired_on",
    "rehire_relation",
    "last_certified_to",
    "benefit_end",
    "is_rehired",
    "is_rehired_after_benefit",
    "cluster_workplaces_worked",
    "is_rotated_in_cluster",
    "layoffs_23_nearby",
    "layoffs_23_together",
    "layoffs_23_expected",
    "headcount",
    "hires_nearby",
    "is_layoff_while_hiring",
    "is_layoff_pattern_while_hiring",
    "is_few_layoffs_while_hiring",
    "workplace_age_days",
    "workplace_claims",
    "workplace_workers",
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
    links = [
        workplaces.select(workplace.alias("src"), node.alias("dst"), F.lit(link).alias("link"))
        for link, node in attributes
    ]
    claimants_per_account = claims.groupBy("bank_account_key").agg(F.count_distinct("person_key").alias("claimants"))
    shared_benefit_accounts = claims.join(claimants_per_account, on="bank_account_key", how="inner").where(
        F.col("claimants") >= 2
    )
    links.append(
        shared_benefit_accounts.select(
            workplace.alias("src"),
            _node(ACCOUNT, F.col("bank_account_key")).alias("dst"),
            F.lit("benefit account").alias("link"),
        )
    )
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
    before filing and at most CLAIM_WITHIN_MONTHS before it (an older one cannot be the
    separation claimed for: its record of the claimed one is missing or still open)
    -> (claim_id, spell_employment_id, spell_from, spell_to,
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
        & (F.col("spell_to") >= F.add_months(F.col("filed_on"), -CLAIM_WITHIN_MONTHS))
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


def statement_due_on(month_start: Column) -> Column:
    """The day by which a month's statement is due: the end of the next month."""
    return F.last_day(F.add_months(month_start, 1))


def tax_statements_for_spells(
    spells: DataFrame,
    claims: DataFrame,
    workplaces: DataFrame,
    income: DataFrame,
    as_of: dt.date,
    covered_from: dt.date | None,
) -> DataFrame:
    """Per qualifying spell, the payer's income statements for the claimant, filed by
    `as_of` -> (claim_id, tax_statements: those overlapping the spell, tax_months_due:
    the spell's months whose statement is due by now inside the span the tax feed
    covers (from `covered_from`, features/coverage.py; none when the feed holds
    nothing), tax_months_filed: those of them with a statement from the payer,
    tax_months_matching: those whose statements pay at least WAGE_MATCH_SHARE of the
    reported monthly wage prorated to the spell's days in the month; a statement of
    unknown amount, or a spell without a reported wage, matches).
    Before the feed's span its silence says nothing: those months are not counted; nor
    are the months of a workplace whose own record is missing (its payer number is
    unknown).

    The statements are joined once, those reaching into the spell's first to last
    month, and gathered per spell; the spell and each month are then matched against
    that short list (the subjects' statements are shuffled once, not once per count)."""
    payer = workplaces.select("workplace_id", F.col("business_no").alias("payer_business_no"))
    subjects = spells.join(claims.select("claim_id", "person_key", "workplace_id"), on="claim_id", how="inner").join(
        payer, on="workplace_id", how="left"
    )
    # Only the statements of a subject's person from its payer can match: they are kept
    # against those keys, broadcast when few enough, so the history of statements is
    # scanned, not shuffled whole (fraud/spark.py:join_keys; a larger key set is
    # left to the planner).
    keys = join_keys(
        subjects.select(
            F.col("person_key").alias("statement_person_key"), F.col("payer_business_no").alias("statement_payer")
        ).distinct()
    )
    statements = (
        income.where(F.col("filed_on") <= F.lit(as_of))
        .select(
            F.col("person_key").alias("statement_person_key"),
            F.col("payer_business_no").alias("statement_payer"),
            "work_from",
            "work_to",
            "record_id",
            "amount",
        )
        .join(keys, on=["statement_person_key", "statement_payer"], how="left_semi")
    )
    of_payer_near_spell = (
        (F.col("statement_person_key") == F.col("person_key"))
        & (F.col("statement_payer") == F.col("payer_business_no"))
        & (F.col("work_from") <= F.last_day(F.col("spell_to")))
        & (F.col("work_to") >= F.trunc(F.col("spell_from"), "month"))
    )
    gathered = (
        subjects.join(statements, on=of_payer_near_spell, how="left")
        .groupBy("claim_id", "payer_business_no", "monthly_wage", "spell_from", "spell_to")
        .agg(
            F.collect_list(F.when(F.col("record_id").isNotNull(), F.struct("work_from", "work_to", "amount"))).alias(
                "statements"
            )
        )
    )

    def overlapping(first: Column, last: Column) -> Column:
        return F.filter("statements", lambda s: (s["work_from"] <= last) & (s["work_to"] >= first))

    tax_statements = F.size(overlapping(F.col("spell_from"), F.col("spell_to"))).cast("bigint")
    if covered_from is None:
        return gathered.select(
            "claim_id",
            tax_statements.alias("tax_statements"),
            F.lit(0).cast("bigint").alias("tax_months_due"),
            F.lit(0).cast("bigint").alias("tax_months_filed"),
            F.lit(0).cast("bigint").alias("tax_months_matching"),
        )
    first_month = F.trunc(F.greatest(F.col("spell_from"), F.lit(covered_from)), "month")
    # A workplace with no record (quarantined, never delivered) has no known payer
    # number: its statements cannot be matched, so no month is due (a gap, not
    # evidence of missing statements).
    has_months = (F.col("spell_to") >= F.lit(covered_from)) & F.col("payer_business_no").isNotNull()
    months_due = F.when(
        has_months,
        F.filter(
            F.sequence(first_month, F.trunc(F.col("spell_to"), "month"), F.expr("INTERVAL 1 MONTH")),
            lambda month: statement_due_on(month) <= F.lit(as_of),
        ),
    ).otherwise(F.array().cast("array<date>"))

    def judged(month: Column) -> Column:
        month_end = F.last_day(month)
        days = F.datediff(F.least(F.col("spell_to"), month_end), F.greatest(F.col("spell_from"), month)) + 1
        return F.struct(
            (F.col("monthly_wage") * days / F.dayofmonth(month_end)).alias("wage_due"),
            overlapping(month, month_end).alias("statements"),
        )

    def filed(month: Column) -> Column:
        return F.size(month["statements"]) > 0

    def matching(month: Column) -> Column:
        statements, wage_due = month["statements"], month["wage_due"]
        amount_unknown = F.exists(statements, lambda s: s["amount"].isNull())
        paid = F.aggregate(
            statements, F.lit(0).cast("bigint"), lambda total, s: total + F.coalesce(s["amount"], F.lit(0))
        )
        return filed(month) & (
            amount_unknown | F.coalesce(wage_due <= 0, F.lit(True)) | (paid >= F.lit(WAGE_MATCH_SHARE) * wage_due)
        )

    # Each due month with the statements of its days, gathered once (`judged`), then
    # counted (a column of its own: a projection keeps it from being computed per count).
    months = F.col("months")
    return gathered.withColumn("months", F.transform(months_due, judged)).select(
        "claim_id",
        tax_statements.alias("tax_statements"),
        F.size(months).cast("bigint").alias("tax_months_due"),
        F.size(F.filter(months, filed)).cast("bigint").alias("tax_months_filed"),
        F.size(F.filter(months, matching)).cast("bigint").alias("tax_months_matching"),
    )


def insured_days(spells: DataFrame, claims: DataFrame, employments: DataFrame) -> DataFrame:
    """Per claim, the claimant's insured days in the QUALIFYING_WINDOW_DAYS before the
    qualifying spell ended, over every spell at every workplace (피보험단위기간: the
    claim needs QUALIFYING_DAYS of them) -> (claim_id, insured_days_18m)."""
    window = spells.join(claims.select("claim_id", "person_key"), on="claim_id", how="inner").select(
        "claim_id",
        "person_key",
        F.date_sub(F.col("spell_to"), QUALIFYING_WINDOW_DAYS - 1).alias("window_from"),
        F.col("spell_to").alias("window_to"),
    )
    held = employments.select(
        F.col("person_key").alias("held_person_key"),
        "employment_id",
        "acquired_on",
        F.coalesce(F.col("lost_on"), F.lit(FAR_FUTURE)).alias("held_to"),
    )
    overlaps = (
        (F.col("held_person_key") == F.col("person_key"))
        & (F.col("acquired_on") <= F.col("window_to"))
        & (F.col("held_to") >= F.col("window_from"))
    )
    # Two jobs at once insure a day once: the spells' days inside the window are merged
    # into runs (a spell starting after every earlier one ended begins a new run), and
    # the runs' days are summed.
    clipped = window.join(held, on=overlaps, how="inner").select(
        "claim_id",
        F.greatest("acquired_on", "window_from").alias("run_from"),
        F.least("held_to", "window_to").alias("run_to"),
    )
    in_order = Window.partitionBy("claim_id").orderBy("run_from", "run_to")
    ended_before = F.max("run_to").over(in_order.rowsBetween(Window.unboundedPreceding, -1))
    starts_run = F.coalesce(F.col("run_from") > ended_before, F.lit(True)).cast("int")
    runs = clipped.withColumn("run", F.sum(starts_run).over(in_order.rowsBetween(Window.unboundedPreceding, 0)))
    return (
        runs.groupBy("claim_id", "run")
        .agg((F.datediff(F.max("run_to"), F.min("run_from")) + F.lit(1)).alias("days"))
        .groupBy("claim_id")
        .agg(F.sum("days").cast("int").alias("insured_days_18m"))
    )


def rotation_in_cluster(claims: DataFrame, employments: DataFrame, components: DataFrame) -> DataFrame:
    """Per claim, how many workplaces of its workplace's component (the cluster linked by
    shared representatives, addresses, phones and accounts) the claimant held spells
    at -> (claim_id, cluster_workplaces_worked)."""
    claim_component = claims.select("claim_id", "person_key", "workplace_id").join(
        components.withColumnRenamed("component", "claim_component"), on="workplace_id", how="inner"
    )
    spell_components = employments.select(
        F.col("person_key").alias("spell_person_key"), F.col("workplace_id").alias("spell_workplace_id")
    ).join(
        components.select(
            F.col("workplace_id").alias("spell_workplace_id"), F.col("component").alias("spell_component")
        ),
        on="spell_workplace_id",
        how="inner",
    )
    same_cluster = (F.col("spell_person_key") == F.col("person_key")) & (
        F.col("spell_component") == F.col("claim_component")
    )
    return (
        claim_component.join(spell_components, on=same_cluster, how="inner")
        .groupBy("claim_id")
        .agg(F.count_distinct("spell_workplace_id").cast("bigint").alias("cluster_workplaces_worked"))
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
    separation or of the last certified day -> (claim_id, rehire_workplace_id,
    rehired_on, last_certified_to, benefit_end: the last day of the entitlement if paid
    without a break, rehire_relation). Claims for the end of a
    fixed-term contract or retirement are left out (seasonal work)."""
    claim_side = (
        claims.where(~F.col("separation_code").isin(*NOT_SEASONAL_CODES))
        .select(
            "claim_id",
            "person_key",
            "workplace_id",
            "filed_on",
            # The last day the benefit could run if paid without a break.
            F.date_add(F.col("eligible_from"), F.col("benefit_days").cast("int") - 1).alias("benefit_end"),
        )
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
        # A spell begun before filing: the separation's own record may be missing or
        # still open, which is a gap, not a rehire.
        & (F.col("rehired_on") > F.col("filed_on"))
        & (F.col("rehired_on") <= window_end)
    )
    relations = related.select(
        F.col("workplace_id").alias("r_workplace_id"),
        F.col("related_workplace_id").alias("r_related_id"),
        F.col("link").alias("shared"),
    )
    same_workplace = F.col("rehire_workplace_id") == F.col("workplace_id")
    earliest = Window.partitionBy("claim_id").orderBy("rehired_on", "rehire_workplace_id")
    return (
        claim_side.join(new_spells, on=is_rehire, how="inner")
        .join(
            relations,
            on=(F.col("r_workplace_id") == F.col("workplace_id"))
            & (F.col("r_related_id") == F.col("rehire_workplace_id")),
            how="left",
        )
        .where(same_workplace | F.col("shared").isNotNull())
        .withColumn("_order", F.row_number().over(earliest))
        .where(F.col("_order") == 1)
        .select(
            "claim_id",
            "rehire_workplace_id",
            "rehired_on",
            "last_certified_to",
            "benefit_end",
            F.when(same_workplace, F.lit("same workplace"))
            .otherwise(F.format_string("related workplace: shared %s", F.col("shared")))
            .alias("rehire_relation"),
        )
    )


def layoffs_while_hiring(
    spells: DataFrame, claims: DataFrame, employments: DataFrame, covered_from: dt.date | None = None
) -> DataFrame:
    """Per claim, the code-23 separations at its workplace within LAYOFF_WINDOW_DAYS of
    its separation, how many its previous LAYOFF_HISTORY_DAYS predict for a window of
    that size, and the hires in the same window -> (claim_id, layoffs_23_nearby,
    layoffs_23_together, layoffs_23_expected, headcount, hires_nearby):
    layoffs_23_together counts those within BURST_WINDOW_DAYS of the separation,
    headcount everyone the workplace employed at some time in the window.

    The history is read only inside the employment feed's span (from `covered_from`):
    before it, no separation on record says nothing. The rate is the layoffs of the
    covered part of the history over its days; with less than a window's length of it
    covered, layoffs_23_expected is null (unknown, not zero), and no burst is judged."""
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
    is_hire = within(F.col("acquired_on"), LAYOFF_WINDOW_DAYS)
    days_before_window = F.datediff(F.date_sub(F.col("spell_to"), LAYOFF_WINDOW_DAYS), F.col("lost_on"))
    is_earlier_layoff_23 = (F.col("separation_code") == "23") & days_before_window.between(1, LAYOFF_HISTORY_DAYS)
    window_start = F.date_sub(F.col("spell_to"), LAYOFF_WINDOW_DAYS)
    window_days = 2 * LAYOFF_WINDOW_DAYS + 1
    history_days = F.lit(LAYOFF_HISTORY_DAYS)
    if covered_from is not None:
        # Only the covered part, counted from both ends: its days and the layoffs in
        # it. Less than a window's worth of it is no history to judge a burst against.
        is_earlier_layoff_23 = is_earlier_layoff_23 & (F.col("lost_on") >= F.lit(covered_from))
        covered_days = F.least(history_days, F.datediff(window_start, F.lit(covered_from)))
        history_days = F.when(covered_days >= window_days, covered_days)
    window_end = F.date_add(F.col("spell_to"), LAYOFF_WINDOW_DAYS)
    is_employed_in_window = (F.col("acquired_on") <= window_end) & (
        F.col("lost_on").isNull() | (F.col("lost_on") >= window_start)
    )
    return (
        subject.withColumn("_history_days", history_days)
        .join(events, on=F.col("event_workplace_id") == F.col("workplace_id"), how="inner")
        .groupBy("claim_id", "_history_days")
        .agg(
            F.count(F.when(is_layoff_23, F.col("employment_id"))).alias("layoffs_23_nearby"),
            F.count(F.when(is_layoff_23 & within(F.col("lost_on"), BURST_WINDOW_DAYS), F.col("employment_id"))).alias(
                "layoffs_23_together"
            ),
            F.count(F.when(is_earlier_layoff_23, F.col("employment_id"))).alias("_earlier"),
            F.count(F.when(is_hire, F.col("employment_id"))).alias("hires_nearby"),
            F.count(F.when(is_employed_in_window, F.col("employment_id"))).alias("headcount"),
        )
        .select(
            "claim_id",
            "layoffs_23_nearby",
            "layoffs_23_together",
            # Null when the history is unknown (history_days null).
            F.round(F.col("_earlier") * F.lit(window_days) / F.col("_history_days"), 2).alias("layoffs_23_expected"),
            "headcount",
            "hires_nearby",
        )
    )


def workplace_claim_counts(
    claims: DataFrame, workplaces: DataFrame, employments: DataFrame, subjects: DataFrame | None = None
) -> DataFrame:
    """Per claim (of `subjects`, by default every claim), how old its workplace was
    when it was filed, how many claims that workplace produced in its first two years
    and, for a claim filed while it was young (YOUNG_WORKPLACE_DAYS), how many people
    it ever employed -> (claim_id, workplace_age_days, workplace_claims,
    workplace_workers). `employments`: the spells at the claims' workplaces.

    workplace_workers is read only through the young-workplace mark (GH-02, GH-04,
    GH-05 and the rings, features/rings.py): for any other claim it is null, so that a
    hire at an older workplace changes none of its claims' rows, and a nightly run does
    not cross-match them again for it."""
    opened = workplaces.select("workplace_id", "opened_on")
    workers = employments.groupBy("workplace_id").agg(F.count_distinct("person_key").alias("workplace_workers"))

    def aged(frame: DataFrame) -> DataFrame:
        return frame.select("claim_id", "workplace_id", "filed_on").join(opened, on="workplace_id", how="left")

    with_age = aged(claims)
    early_claims = (
        with_age.where(F.datediff("filed_on", "opened_on") <= 2 * YOUNG_WORKPLACE_DAYS)
        .groupBy("workplace_id")
        .agg(F.count(F.lit(1)).alias("workplace_claims"))
    )
    subject_age = with_age if subjects is None else aged(subjects)
    age = F.datediff("filed_on", "opened_on")
    return (
        subject_age.join(early_claims, on="workplace_id", how="left")
        .join(workers, on="workplace_id", how="left")
        .select(
            "claim_id",
            age.alias("workplace_age_days"),
            F.coalesce(F.col("workplace_claims"), F.lit(0)).cast("bigint").alias("workplace_claims"),
            F.when(
                age <= YOUNG_WORKPLACE_DAYS,
                F.coalesce(F.col("workplace_workers"), F.lit(0)),
            )
            .cast("bigint")
            .alias("workplace_workers"),
        )
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
        (claims if subjects is None else subjects)
        .select("claim_id", "bank_account_key")
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
    tax_covered_from: dt.date | None = None,
    employment_covered_from: dt.date | None = None,
) -> DataFrame:
    """The conformed tables, the workplaces' components (workplace_id, component) and
    the graph's edges after hub pruning -> one row per claim (CLAIM_COLLUSION_COLUMNS).

    `subjects` (claims rows, by default every claim): the claims to compute the rows
    of. Every count over other claims (claims of the workplace, claimants of the
    account) still counts every claim, so a subject's row is the one a run over every
    claim gives it (a nightly run recomputes only the claims the night touched).
    `tax_covered_from`: where the tax feed's span begins (features/coverage.py); wages
    without a tax statement count only inside it (None: nowhere).
    `employment_covered_from`: where the employment feed's span begins; a workplace's
    layoff history is its rate over the part of the history inside it."""
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
        workplace_spells = (
            tables["employments"].join(subject_workplaces, on="workplace_id", how="left_semi").localCheckpoint()
        )
        income = income.join(persons, on="person_key", how="left_semi").localCheckpoint()
        certifications = certifications.join(
            join_keys(subjects.select("claim_id")), on="claim_id", how="left_semi"
        ).localCheckpoint()
        # The counts over other claims are per workplace and per account: the claims at
        # the subjects' workplaces and on their accounts hold every claim they count.
        at_workplaces = claims.join(subject_workplaces, on="workplace_id", how="left_semi")
        on_accounts = claims.join(
            join_keys(subjects.select("bank_account_key").distinct()), on="bank_account_key", how="left_semi"
        )
    spells = qualifying_spells(subject, employments)
    taxes = tax_statements_for_spells(spells, subject, tables["workplaces"], income, as_of, tax_covered_from)
    rehired = rehires(subject, spells, employments, certifications, related_workplaces(edges))
    layoffs = layoffs_while_hiring(spells, subject, workplace_spells, employment_covered_from)
    ages = workplace_claim_counts(
        claims if subjects is None else at_workplaces, tables["workplaces"], workplace_spells, subjects
    )
    insured = insured_days(spells, subject, employments)
    rotated = rotation_in_cluster(subject, employments, components)
    accounts = shared_accounts(claims if subjects is None else on_accounts, tables["workplaces"], subjects)

    joined = (
        subject.select("claim_id", "workplace_id", "separation_code")
        .join(components, on="workplace_id", how="left")
        .join(spells, on="claim_id", how="left")
        .join(taxes, on="claim_id", how="left")
        .join(insured, on="claim_id", how="left")
        .join(rotated, on="claim_id", how="left")
        .join(rehired, on="claim_id", how="left")
        .join(layoffs, on="claim_id", how="left")
        .join(ages, on="claim_id", how="left")
        .join(accounts, on="claim_id", how="left")
    )
    is_just_past_threshold = F.col("insured_days_18m").between(
        QUALIFYING_DAYS + 1, QUALIFYING_DAYS + JUST_PAST_THRESHOLD_DAYS
    )
    has_wage_without_tax = (
        (F.col("monthly_wage") > 0)
        & (F.col("tax_months_due") >= 1)
        & (F.col("tax_months_matching") < F.lit(TAX_MONTHS_FILED_SHARE) * F.col("tax_months_due"))
    )
    # Rehired soon after the separation, or during the benefit (still certified, or
    # before the entitlement ran out, which a true layoff would not give up to the same
    # employer): the records prove it. Rehired only after the benefit: a lead (FS-04).
    # Proof needs a relation that says the same employer: the workplace itself, its
    # representative or its account. An address or a phone alone is shared by every
    # business in a building: a rehire there is a lead (FS-04).
    is_same_employer = F.col("rehire_relation").rlike("same workplace|representative|workplace account")
    rehired_soon = is_same_employer & (
        (F.datediff("rehired_on", "spell_to") <= REHIRE_WINDOW_DAYS)
        | (F.col("rehired_on") <= F.coalesce(F.col("last_certified_to"), F.col("spell_to")))
        | (F.col("rehired_on") <= F.col("benefit_end"))
    )
    is_rotated = F.col("cluster_workplaces_worked") >= 2
    has_code_disagreement = (F.col("spell_separation_code") != F.col("separation_code")) & F.col(
        "spell_separation_code"
    ).isin(*INELIGIBLE_CODES)
    layoffs = F.col("layoffs_23_nearby")
    is_layoff_burst = (
        (layoffs >= MIN_LAYOFFS)
        & (layoffs >= F.lit(LAYOFF_SHARE_OF_WORKFORCE) * F.col("headcount"))
        & (layoffs > F.lit(BURST_FACTOR) * F.col("layoffs_23_expected"))
    )
    kept_hiring = (F.col("hires_nearby") >= MIN_HIRES) & (F.col("hires_nearby") >= F.lit(HIRES_PER_LAYOFF) * layoffs)
    is_pattern = is_layoff_burst & kept_hiring & (layoffs >= PATTERN_LAYOFFS)
    together = F.col("layoffs_23_together")
    is_together = (together >= PATTERN_LAYOFFS) & (together >= F.lit(LAYOFF_SHARE_OF_WORKFORCE) * F.col("headcount"))
    is_layoff_while_hiring = is_pattern & is_together
    is_layoff_pattern_while_hiring = is_pattern & ~is_together
    is_few_layoffs_while_hiring = is_layoff_burst & kept_hiring & (layoffs < PATTERN_LAYOFFS)
    is_young_with_many_claims = (
        (F.col("workplace_age_days") <= YOUNG_WORKPLACE_DAYS)
        & (F.col("workplace_claims") >= MIN_YOUNG_CLAIMS)
        & (F.col("workplace_claims") >= F.lit(YOUNG_CLAIMS_SHARE_OF_WORKERS) * F.col("workplace_workers"))
        & (F.col("separation_code") != F.lit(CLOSURE_CODE))
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
        F.coalesce(F.col("insured_days_18m"), F.lit(0)).cast("int").alias("insured_days_18m"),
        flag(is_just_past_threshold).alias("is_just_past_threshold"),
        flag(has_wage_without_tax).alias("has_wage_without_tax"),
        F.coalesce(F.col("tax_statements"), F.lit(0)).cast("bigint").alias("tax_statements"),
        F.coalesce(F.col("tax_months_due"), F.lit(0)).cast("bigint").alias("tax_months_due"),
        F.coalesce(F.col("tax_months_filed"), F.lit(0)).cast("bigint").alias("tax_months_filed"),
        F.coalesce(F.col("tax_months_matching"), F.lit(0)).cast("bigint").alias("tax_months_matching"),
        flag(has_code_disagreement).alias("has_code_disagreement"),
        "rehire_workplace_id",
        "rehired_on",
        "rehire_relation",
        "last_certified_to",
        "benefit_end",
        flag(F.col("rehired_on").isNotNull() & rehired_soon).alias("is_rehired"),
        flag(F.col("rehired_on").isNotNull() & ~rehired_soon).alias("is_rehired_after_benefit"),
        F.coalesce(F.col("cluster_workplaces_worked"), F.lit(0)).cast("bigint").alias("cluster_workplaces_worked"),
        flag(is_rotated).alias("is_rotated_in_cluster"),
        F.coalesce(F.col("layoffs_23_nearby"), F.lit(0)).cast("bigint").alias("layoffs_23_nearby"),
        F.coalesce(F.col("layoffs_23_together"), F.lit(0)).cast("bigint").alias("layoffs_23_together"),
        # Null when the workplace's history is unknown (outside the employment feed's span).
        F.col("layoffs_23_expected").cast("double").alias("layoffs_23_expected"),
        F.coalesce(F.col("headcount"), F.lit(0)).cast("bigint").alias("headcount"),
        F.coalesce(F.col("hires_nearby"), F.lit(0)).cast("bigint").alias("hires_nearby"),
        flag(is_layoff_while_hiring).alias("is_layoff_while_hiring"),
        flag(is_layoff_pattern_while_hiring).alias("is_layoff_pattern_while_hiring"),
        flag(is_few_layoffs_while_hiring).alias("is_few_layoffs_while_hiring"),
        "workplace_age_days",
        F.coalesce(F.col("workplace_claims"), F.lit(0)).cast("bigint").alias("workplace_claims"),
        # Null unless the workplace was young at the claim (workplace_claim_counts).
        F.col("workplace_workers").cast("bigint").alias("workplace_workers"),
        flag(is_young_with_many_claims).alias("is_young_workplace_with_many_claims"),
        F.coalesce(F.col("account_claimants"), F.lit(0)).cast("bigint").alias("account_claimants"),
        flag(F.col("is_account_shared_with_workplace")).alias("is_account_shared_with_workplace"),
        flag(is_shared_account).alias("is_shared_account"),
    )


# What the graph stage adds to a claim's row (jobs/collusion.py): the ring whose member
# its workplace is, and why the workplace is one (features/rings.py:ring_members).
RING_CLAIM_COLUMNS = ("ring_id", "ring_member_by")


def no_collusion(claims: DataFrame) -> DataFrame:
    """Claims -> CLAIM_COLLUSION_COLUMNS plus RING_CLAIM_COLUMNS with no evidence at all
    (for a detection run without the graph stage)."""
    types = {
        "spell_employment_id": "string",
        "spell_to": "date",
        "spell_days": "int",
        "spell_separation_code": "string",
        "rehire_workplace_id": "string",
        "rehired_on": "date",
        "rehire_relation": "string",
        "workplace_component": "string",
        "workplace_age_days": "int",
        "workplace_workers": "bigint",
        "layoffs_23_expected": "double",
        "insured_days_18m": "int",
        "last_certified_to": "date",
        "benefit_end": "date",
    }
    columns = []
    for name in CLAIM_COLLUSION_COLUMNS[1:]:
        if name in types:
            columns.append(F.lit(None).cast(types[name]).alias(name))
        elif name.startswith(("is_", "has_")):
            columns.append(F.lit(False).alias(name))
        else:
            columns.append(F.lit(0).cast("bigint").alias(name))
    return claims.select("claim_id", *columns, *(F.lit(None).cast("string").alias(name) for name in RING_CLAIM_COLUMNS))
