"""The scoring model's features: one list, one place.

Each feature is data (as the rules are, rules/ruleset.py): a name, what it means in
words (the reason codes of models/fit.py print it), where it comes from, and a
Spark SQL expression over the *claim inputs*, the per-claim table `claim_inputs`
builds. `claim_inputs` composes the same transforms as jobs/crossmatch.py:detect
(certification features, rule hits, overpayment, prior findings, collusion
features) and adds per-claim aggregates of the certifications and of the rule hits;
`feature_frame` turns it into (claim_id, one double per feature). Missing values stay
null (NaN for XGBoost, which learns where they go): a claim without a qualifying
spell has no `spell_days`, which is not the same as a spell of 0 days.

Left out on purpose: the claim's `status` and anything else a conformed table holds
only as its latest version (a claim TERMINATED *because* it was found would leak the
label), identifiers, and amounts that only measure the claim's size.

No I/O: DataFrames in, DataFrames out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.certifications import exact_sum
from rules.evidence import Evidence, gather_evidence
from rules.ruleset import RULES, Rule

TYPOLOGY_HIT_COLUMNS = {
    "UNDECLARED_WORK": "hits_undeclared_work",
    "ABROAD_CERTIFICATION": "hits_abroad_certification",
    "FALSE_SEPARATION": "hits_false_separation",
    "GHOST_EMPLOYMENT": "hits_ghost_employment",
}

CERTIFICATION_AGGREGATE_COLUMNS = (
    "claim_id",
    "certifications",
    "undeclared_work_certifications",
    "worked_days",
    "certain_worked_days",
    "unreported_worked_days",
    "attributable_income",
    "undeclared_income",
    "abroad_certifications",
    "possibly_abroad_certifications",
    "remote_certifications",
    "foreign_ip_certifications",
)


# What the model must not read: who the claimant is and where they work, not what the
# records show they did. Fairness is measured along the first two (jobs/safeguards.py);
# tests/models/test_dataset.py shows no feature moves when any of them changes, and
# that no feature's expression names one.
NOT_USED = {
    "region_code": "the workplace's region: where someone works is no evidence of fraud",
    "industry_code": "the workplace's industry",
    "daily_amount": "the benefit's size, set by the past wage: a proxy for age, sex and occupation",
    "person_key": "an identifier",
    "bank_account_key": "an identifier (a shared account is evidence only as a count of claimants)",
}


@dataclass(frozen=True)
class Feature:
    name: str
    meaning: str  # words an investigator reads in a reason code
    source: str  # the feed and the transform it comes from
    expression: str  # Spark SQL over the claim inputs, a number (null when unknown)


FEATURES: tuple[Feature, ...] = (
    # Cross-match evidence (features/certifications.py, features/claims.py)
    Feature(
        "tainted_certifications",
        "certifications tainted by undeclared work or abroad certification",
        "features/claims.py overpayment (rules UW-01, AB-01)",
        "size(tainted_cert_ids)",
    ),
    Feature("certifications", "certifications made so far on the claim", "ei/certifications", "certifications"),
    Feature(
        "undeclared_work_certifications",
        "certified periods with work on record and 0 KRW declared",
        "nts/income x ei/certifications (features/certifications.py)",
        "undeclared_work_certifications",
    ),
    Feature(
        "worked_days",
        "days of work on record inside certified periods",
        "nts/income (features/certifications.py worked_days)",
        "worked_days",
    ),
    Feature(
        "certain_worked_days",
        "days of work that certainly fall inside certified periods",
        "nts/income (features/certifications.py certain_worked_days)",
        "certain_worked_days",
    ),
    Feature(
        "unreported_worked_days",
        "days of wage work for payers that never reported the employment",
        "nts/income x ei/employments (features/certifications.py)",
        "unreported_worked_days",
    ),
    Feature(
        "undeclared_income_share",
        "share of the income on record in certified periods that was not declared",
        "nts/income x declared_income",
        "undeclared_income / greatest(attributable_income, 1)",
    ),
    Feature(
        "abroad_certifications",
        "certifications made on a day the claimant was abroad",
        "moj/crossings (features/trips.py, features/certifications.py)",
        "abroad_certifications",
    ),
    Feature(
        "possibly_abroad_certifications",
        "certifications on a day the claimant was possibly abroad (broken crossing record)",
        "moj/crossings (features/trips.py)",
        "possibly_abroad_certifications",
    ),
    Feature(
        "remote_certification_share",
        "share of certifications made online or by mobile",
        "ei/certifications channel",
        "remote_certifications / greatest(certifications, 1)",
    ),
    Feature(
        "foreign_ip_certifications",
        "certifications from a foreign internet address",
        "ei/certifications ip_country",
        "foreign_ip_certifications",
    ),
    Feature(
        "overpaid_share",
        "share of the benefit paid so far that the rules count as overpaid",
        "features/claims.py estimated_overpayment / total_paid",
        "estimated_overpayment / greatest(coalesce(total_paid, 0), 1)",
    ),
    # Claim and person history
    Feature(
        "prior_findings",
        "earlier fraud findings against the claimant",
        "ei/findings (features/claims.py prior_findings)",
        "prior_findings",
    ),
    Feature("earlier_claims", "earlier benefit claims of the claimant", "ei/claims", "earlier_claims"),
    Feature(
        "claimed_layoff_code_23",
        "the claim gives a layoff for business reasons (code 23)",
        "ei/claims separation_code",
        "CASE WHEN separation_code = '23' THEN 1 ELSE 0 END",
    ),
    # Qualifying spell and workplace (features/collusion_evidence.py)
    Feature(
        "spell_days",
        "length in days of the employment the claim rests on",
        "ei/employments (features/collusion_evidence.py qualifying_spells)",
        "spell_days",
    ),
    Feature(
        "is_just_past_threshold",
        "the qualifying employment ended just past the 180-day threshold",
        "features/collusion_evidence.py",
        "is_just_past_threshold",
    ),
    Feature(
        "has_wage_without_tax",
        "wages reported for the qualifying employment that the payer's tax statements do not match",
        "ei/employments x nts/income (features/collusion_evidence.py)",
        "has_wage_without_tax",
    ),
    Feature(
        "tax_statements",
        "tax statements the employer filed for the qualifying employment",
        "nts/income (features/collusion_evidence.py)",
        "tax_statements",
    ),
    Feature(
        "has_code_disagreement",
        "the employer's record gives a quit or dismissal where the claim says layoff",
        "ei/employments separation_code (features/collusion_evidence.py)",
        "has_code_disagreement",
    ),
    Feature(
        "is_rehired",
        "rehired by the same or a related workplace soon after the separation",
        "ei/employments (features/collusion_evidence.py rehires)",
        "is_rehired",
    ),
    Feature(
        "layoff_burst_ratio",
        "code-23 layoffs around the separation against the workplace's usual rate",
        "ei/employments (features/collusion_evidence.py layoffs_while_hiring)",
        "layoffs_23_nearby / greatest(layoffs_23_expected, 1.0)",
    ),
    Feature(
        "hires_nearby",
        "hires by the workplace around the separation",
        "ei/employments (features/collusion_evidence.py)",
        "hires_nearby",
    ),
    Feature(
        "is_layoff_while_hiring",
        "one of a collective layoff by a workplace that kept hiring",
        "features/collusion_evidence.py",
        "is_layoff_while_hiring",
    ),
    Feature(
        "workplace_age_days",
        "age of the workplace in days when the claim was filed",
        "ei/workplaces opened_on (features/collusion_evidence.py)",
        "workplace_age_days",
    ),
    Feature(
        "workplace_claims",
        "claims the workplace produced in its first two years",
        "ei/claims x ei/workplaces (features/collusion_evidence.py)",
        "workplace_claims",
    ),
    Feature(
        "account_claimants",
        "claimants paid into the same bank account",
        "ei/claims bank_account_key (features/collusion_evidence.py)",
        "account_claimants",
    ),
    Feature(
        "is_account_shared_with_workplace",
        "the benefit is paid into an account a workplace holds",
        "ei/workplaces x ei/claims (features/collusion_evidence.py)",
        "is_account_shared_with_workplace",
    ),
    # The ring the claim sits in (jobs/collusion.py, features/rings.py)
    Feature(
        "is_in_ring",
        "the claim's workplace belongs to a suspected collusion ring",
        "features/rings.py ring_id",
        "CASE WHEN ring_id IS NOT NULL THEN 1 ELSE 0 END",
    ),
    # Rule hits (rules/ruleset.py through rules/engine.py), per typology
    Feature(
        "hits_undeclared_work",
        "hits of the undeclared-work rules (UW-*)",
        "rules/engine.py rule_hits",
        "hits_undeclared_work",
    ),
    Feature(
        "hits_abroad_certification",
        "hits of the abroad-certification rules (AB-*)",
        "rules/engine.py rule_hits",
        "hits_abroad_certification",
    ),
    Feature(
        "hits_false_separation",
        "hits of the false-separation rules (FS-*)",
        "rules/engine.py rule_hits",
        "hits_false_separation",
    ),
    Feature(
        "hits_ghost_employment",
        "hits of the ghost-employment rules (GH-*)",
        "rules/engine.py rule_hits",
        "hits_ghost_employment",
    ),
    Feature(
        "aggravating_hits",
        "aggravating circumstances (young workplace with many claims, repeat offender)",
        "rules/engine.py rule_hits (aggravates_only)",
        "aggravating_hits",
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)
FEATURE_MEANINGS: dict[str, str] = {feature.name: feature.meaning for feature in FEATURES}


def feature_list() -> list[dict]:
    """The features as plain data (what a model version logs as its feature list)."""
    return [{"name": f.name, "meaning": f.meaning, "source": f.source, "expression": f.expression} for f in FEATURES]


def certification_aggregates(certification_table: DataFrame) -> DataFrame:
    """Certification features (features/certifications.py) -> one row per claim
    (CERTIFICATION_AGGREGATE_COLUMNS)."""
    has_undeclared_work = (F.col("declared_income") == 0) & (F.col("worked_days") >= 1)
    undeclared = F.greatest(F.col("attributable_income") - F.col("declared_income"), F.lit(0))

    def count_of(condition):
        return F.count(F.when(condition, F.lit(1)))

    return (
        certification_table.groupBy("claim_id")
        .agg(
            F.count(F.lit(1)).alias("certifications"),
            count_of(has_undeclared_work).alias("undeclared_work_certifications"),
            exact_sum("worked_days").alias("worked_days"),
            exact_sum("certain_worked_days").alias("certain_worked_days"),
            exact_sum("unreported_worked_days").alias("unreported_worked_days"),
            F.sum("attributable_income").alias("attributable_income"),  # whole won: exact
            F.sum(undeclared).alias("undeclared_income"),
            count_of(F.col("is_abroad")).alias("abroad_certifications"),
            count_of(F.col("is_possibly_abroad")).alias("possibly_abroad_certifications"),
            count_of(F.col("is_remote_channel")).alias("remote_certifications"),
            count_of(F.col("is_remote_channel") & F.col("has_foreign_ip")).alias("foreign_ip_certifications"),
        )
        .select(*CERTIFICATION_AGGREGATE_COLUMNS)
    )


def hit_counts(hits: DataFrame) -> DataFrame:
    """Rule hits (claim_id, HIT_COLUMNS of rules/engine.py, any level) -> (claim_id,
    one count per typology, aggravating_hits)."""
    counts = [
        F.count(F.when(F.col("typology") == typology, F.lit(1))).alias(column)
        for typology, column in TYPOLOGY_HIT_COLUMNS.items()
    ]
    aggravating = F.count(F.when(F.col("aggravates_only"), F.lit(1))).alias("aggravating_hits")
    return hits.groupBy("claim_id").agg(*counts, aggravating)


def earlier_claims(claims: DataFrame) -> DataFrame:
    """Claims -> (claim_id, earlier_claims): the claimant's claims filed before this one."""
    earlier = claims.select(
        F.col("person_key").alias("earlier_person_key"), F.col("filed_on").alias("earlier_filed_on")
    )
    is_earlier = (F.col("earlier_person_key") == F.col("person_key")) & (F.col("earlier_filed_on") < F.col("filed_on"))
    return (
        claims.select("claim_id", "person_key", "filed_on")
        .join(earlier, on=is_earlier, how="left")
        .groupBy("claim_id")
        .agg(F.count("earlier_filed_on").alias("earlier_claims"))
    )


def claim_inputs(
    tables: dict[str, DataFrame],
    as_of: dt.date,
    collusion: DataFrame | None = None,
    rules: tuple[Rule, ...] = RULES,
) -> DataFrame:
    """The conformed tables (as known on `as_of`, see models/dataset.py:as_of) and the
    claims' collusion features (with ring_id; none: no graph evidence) -> one row per
    claim: the columns of detect()'s claim table, the certification aggregates, the
    rule hits per typology and the claimant's earlier claims."""
    return inputs_from_evidence(gather_evidence(tables, as_of, rules, collusion), tables["claims"])


def inputs_from_evidence(found: Evidence, claims: DataFrame) -> DataFrame:
    """The Evidence of the run date (rules/evidence.py, as jobs/crossmatch.py:detect
    already computed it) and the conformed claims -> the claim inputs of
    `claim_inputs`, without computing the evidence a second time."""
    certification_table, certification_hits = found.certification_table, found.certification_hits
    claim_table, claim_hits = found.claim_table, found.claim_hits
    every_hit = certification_hits.select("claim_id", "typology", "aggravates_only").unionByName(
        claim_hits.select("claim_id", "typology", "aggravates_only")
    )
    return (
        claim_table.join(certification_aggregates(certification_table), on="claim_id", how="left")
        .join(hit_counts(every_hit), on="claim_id", how="left")
        .join(earlier_claims(claims), on="claim_id", how="left")
    )


def _as_number(feature: Feature):
    value = F.expr(feature.expression).cast("double")
    # Counts are 0 for a claim nothing was found for; only the spell and the
    # workplace's age are truly unknown when absent.
    if feature.name in ("spell_days", "workplace_age_days"):
        return value.alias(feature.name)
    return F.coalesce(value, F.lit(0.0)).alias(feature.name)


def feature_frame(claim_table: DataFrame, features: tuple[Feature, ...] = FEATURES) -> DataFrame:
    """Claim inputs (`claim_inputs`) -> (claim_id, one double column per feature, in
    the order of `features`)."""
    return claim_table.select("claim_id", *(_as_number(feature) for feature in features))
