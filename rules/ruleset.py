"""The cross-matching rule set, as data.

A rule is an id, a title, the typology it evidences (findings vocabulary), its legal
basis, a severity (0..1), the level it is evaluated at (one row per certification or
per claim), a condition and an evidence text, both Spark SQL over the features of
that level (features/certifications.py, features/claims.py). `taints` marks the
rules whose hit makes a certification tainted in the sense of DOMAIN.md, which is
what the overpayment counts; `invalidates_claim` marks the claim-level rules whose
hit means the claim was never valid (FALSE_SEPARATION, GHOST_EMPLOYMENT): everything
paid on it is overpaid. `aggravates_only` rules add to a case's score and
reasons but never make a case by themselves. A rule that `strengthens` another
fires only on a row (certification or claim) where that one fired too. Dates in an
evidence text are cast to string (format_string prints a DATE as a day number). A new rule is a new entry here plus
its tests; rules/engine.py runs them.

A case is *proven* when one of its rules taints a certification or invalidates the
claim: the evidence then establishes an overpayment. rules/engine.py scores proven
cases in [0.5, 1] and the others in [0, 0.5), so a proven case always outranks one
resting on circumstantial evidence alone; within a tier, severities add up by
noisy-or.

Every rule states its evidence standard, and every reason it gives starts with it:
`proven` (the records establish what the reason says), `estimated` (it rests on an
estimate, such as work days spread evenly over a monthly statement: never proof) or
`lead` (circumstantial, or resting on a record that is missing: a gap in a feed is no
fact). A rule that is not proven says what would settle it (`settle`), and a rule
that would taint its certification or invalidate its claim if that were confirmed
(`proves_if_confirmed`) gives the overpayment it would then be, beside the proven
one, labelled as such.

Legal basis: 고용보험법 (Employment Insurance Act) 제47조 (reporting work and income
during the certified period, 실업인정대상기간 중의 취업 등의 신고), 제44조 (the
certification of unemployment, 실업의 인정), 제61조 (no benefit from a fraudulent
act on, 부정행위에 따른 급여의 지급 제한), 제62조 (repayment and additional
collection, 반환명령 등).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from fraud import contract

CERTIFICATION = "certification"
CLAIM = "claim"

# Bumped when the meaning of the rule set changes without a change of its text
# (e.g. a feature it reads is computed differently).
RULESET_REVISION = 7  # 7: FS-07; a ring's id on its members' claims only; no young mark on a closure

# Evidence standards (the first word of every reason).
PROVEN = "proven"
ESTIMATED = "estimated"
LEAD = "lead"
STANDARDS = (PROVEN, ESTIMATED, LEAD)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    title: str
    typology: str | None  # None: an aggravating circumstance, no typology of its own
    legal_basis: str
    severity: float
    level: str
    condition: str  # Spark SQL, true when the rule fires
    evidence: str  # Spark SQL, the reason shown to investigators (no ';')
    taints: bool = False
    aggravates_only: bool = False
    strengthens: str | None = None  # fires only on a row where this other rule fired
    invalidates_claim: bool = False
    standard: str = PROVEN
    settle: str | None = None  # what would settle a rule that is not proven
    # Taints the certification (certification level) or invalidates the claim (claim
    # level) once what `settle` names confirms it: counted in overpayment_if_confirmed.
    proves_if_confirmed: bool = False
    # Spark SQL, a number: how strongly a hit's records show the rule's pattern (larger
    # is stronger), such as how many layoffs make the burst. Severity says how much a
    # rule's hit weighs; the grade orders the cases whose rules weigh the same (equal
    # score): the stronger pattern first (rules/engine.py:cases). None: all hits alike.
    grade: str | None = None

    @property
    def proves(self) -> bool:
        """Whether a hit establishes an overpayment (see the module docstring)."""
        return self.taints or self.invalidates_claim


# FS-05's and FS-06's reason and what would settle them: the same pattern, of different
# strength.
_LAYOFF_PATTERN_EVIDENCE = (
    "format_string('workplace %s: %d layoffs under code 23 within six months of this separation (of %d "
    "employed then, its previous two years predict %s) while it hired %d', workplace_id, "
    "layoffs_23_nearby, headcount, format_number(layoffs_23_expected, 1), hires_nearby)"
)
# Whose months the payer's statements do not match: none filed, or paying less than half
# the reported wage (features/collusion_evidence.py:tax_statements_for_spells).
_UNMATCHED_WAGES = (
    "CASE WHEN tax_months_matching < tax_months_filed THEN format_string(', %d of them paying less than half the "
    "reported wage', tax_months_filed - tax_months_matching) ELSE '' END"
)
_LAYOFF_PATTERN_SETTLE = "the employer's record of the business reasons for the layoffs and the claimant's account"

RULES: tuple[Rule, ...] = (
    Rule(
        rule_id="UW-01",
        title="work proven inside a certified period declared as no income",
        typology="UNDECLARED_WORK",
        legal_basis="고용보험법 제47조, 제61조",
        severity=0.85,
        level=CERTIFICATION,
        # A statement proves work inside the period: its work days cannot all lie outside
        # it (features/certifications.py certain_worked_days), and nothing declared.
        condition="declared_income = 0 AND certain_worked_days >= 1",
        evidence=(
            "format_string('period %s..%s: at least %s days worked inside it for %s, declared 0 KRW', "
            "cast(period_from AS STRING), cast(period_to AS STRING), format_number(certain_worked_days, 0), "
            "income_evidence)"
        ),
        taints=True,
    ),
    Rule(
        rule_id="UW-02",
        title="undeclared wages from a payer that never reported the insured employment",
        typology="UNDECLARED_WORK",
        legal_basis="고용보험법 제47조, 제61조; 피보험자격 신고 의무 (제15조)",
        severity=0.4,
        level=CERTIFICATION,
        condition="unreported_certain_days >= 1",
        evidence=(
            "format_string('period %s..%s: wage work not reported as insured employment (at least %s days "
            "of it inside the period)', "
            "cast(period_from AS STRING), cast(period_to AS STRING), format_number(unreported_certain_days, 0))"
        ),
        strengthens="UW-01",
    ),
    Rule(
        rule_id="UW-03",
        title="declared income far below the income evidence (< 50%)",
        typology="UNDECLARED_WORK",
        legal_basis="고용보험법 제47조, 제61조",
        # Not tainted in the sense of DOMAIN.md (declared_income is not 0): it does not
        # add to the estimated overpayment, which an investigator establishes.
        severity=0.45,
        level=CERTIFICATION,
        condition="declared_income > 0 AND worked_days >= 1 AND declared_income < 0.5 * attributable_income",
        evidence=(
            "format_string('period %s..%s: declared %s KRW of ~%s KRW attributable to ~%s days worked for %s "
            "(the statements prorated evenly)', "
            "cast(period_from AS STRING), cast(period_to AS STRING), format_number(declared_income, 0), "
            "format_number(attributable_income, 0), "
            "format_number(worked_days, 0), income_evidence)"
        ),
        standard=ESTIMATED,
        settle="the payer's record of the pay for the days inside the period",
    ),
    Rule(
        rule_id="UW-04",
        title="income statements that may put work inside a certified period declared as no income",
        typology="UNDECLARED_WORK",
        legal_basis="고용보험법 제47조, 제61조",
        # Spread evenly, a statement's work days reach into the period, but they could
        # all lie outside it: an estimate, never proof (the error of income averaging).
        severity=0.3,
        level=CERTIFICATION,
        condition="declared_income = 0 AND worked_days >= 1 AND certain_worked_days < 1",
        evidence=(
            "format_string('period %s..%s: ~%s days inside it if the work of %s was spread evenly, but all of it "
            "can lie outside the period', cast(period_from AS STRING), cast(period_to AS STRING), "
            "format_number(worked_days, 0), income_evidence)"
        ),
        standard=ESTIMATED,
        settle="ask the payer for the days worked",
        proves_if_confirmed=True,
    ),
    Rule(
        rule_id="AB-01",
        title="certified on a day the claimant was abroad",
        typology="ABROAD_CERTIFICATION",
        legal_basis="고용보험법 제44조, 제61조",
        severity=0.85,
        level=CERTIFICATION,
        condition="is_abroad",
        evidence=(
            "format_string('cert %s: abroad (%s), %s%s', cast(cert_on AS STRING), abroad_evidence, channel, "
            "CASE WHEN ip_country IS NULL THEN '' ELSE concat(' from ', ip_country) END)"
        ),
        taints=True,
    ),
    Rule(
        rule_id="AB-02",
        title="certified online or by mobile while abroad",
        typology="ABROAD_CERTIFICATION",
        legal_basis="고용보험법 제44조, 제61조",
        severity=0.3,
        level=CERTIFICATION,
        condition="is_remote_channel",
        evidence="format_string('cert %s: %s certification while abroad', cast(cert_on AS STRING), channel)",
        strengthens="AB-01",
    ),
    Rule(
        rule_id="AB-03",
        title="certified from a foreign address while abroad",
        typology="ABROAD_CERTIFICATION",
        legal_basis="고용보험법 제44조, 제61조",
        severity=0.3,
        level=CERTIFICATION,
        condition="is_remote_channel AND has_foreign_ip",
        evidence="format_string('cert %s: client address in %s', cast(cert_on AS STRING), ip_country)",
        strengthens="AB-01",
    ),
    Rule(
        rule_id="AB-04",
        title="certified from a foreign address while possibly abroad (broken crossing record)",
        typology="ABROAD_CERTIFICATION",
        legal_basis="고용보험법 제44조, 제61조",
        # The crossing record is broken (a missing IN or OUT), so the day is not
        # certainly abroad and the certification is not tainted; the foreign address
        # makes it worth a look.
        severity=0.35,
        level=CERTIFICATION,
        condition="NOT is_abroad AND is_possibly_abroad AND is_remote_channel AND has_foreign_ip",
        evidence=(
            "format_string('cert %s: possibly abroad (%s), %s from %s', "
            "cast(cert_on AS STRING), abroad_evidence, channel, ip_country)"
        ),
        standard=LEAD,
        settle="the missing crossing record from the Ministry of Justice",
    ),
    Rule(
        rule_id="FS-01",
        title="claimed a layoff the employer's own record calls a quit or a dismissal",
        typology="FALSE_SEPARATION",
        legal_basis="고용보험법 제58조 (이직사유에 따른 수급자격 제한), 제61조",
        severity=0.7,
        level=CLAIM,
        condition="has_code_disagreement",
        evidence=(
            "format_string('claim says separation code %s, the employment record %s says %s', "
            "separation_code, spell_employment_id, spell_separation_code)"
        ),
        invalidates_claim=True,
    ),
    Rule(
        rule_id="FS-02",
        title="rehired by the same employer (workplace, representative, account) soon after leaving or while claiming",
        typology="FALSE_SEPARATION",
        legal_basis="고용보험법 제58조, 제61조",
        severity=0.65,
        level=CLAIM,
        # Within REHIRE_WINDOW_DAYS of the separation, or during the benefit: still
        # certifying as unemployed, or before the entitlement ran out (features/collusion_evidence.py).
        condition="is_rehired",
        evidence=(
            "format_string('rehired %s by %s (%s) %d days after leaving %s%s', cast(rehired_on AS STRING), "
            "rehire_workplace_id, rehire_relation, datediff(rehired_on, spell_to), workplace_id, "
            "CASE WHEN rehired_on <= last_certified_to THEN ', while the claim was still certified' "
            "WHEN rehired_on <= benefit_end THEN concat(', before the benefit ran out (entitled until ', "
            "cast(benefit_end AS STRING), ')') ELSE '' END)"
        ),
        invalidates_claim=True,
        # The sooner the same employer took the worker back, the less the separation was one.
        grade="-datediff(rehired_on, spell_to)",
    ),
    Rule(
        rule_id="FS-04",
        title="rehired soon after the benefit, or by a workplace sharing only an address or phone",
        typology="FALSE_SEPARATION",
        legal_basis="고용보험법 제58조, 제61조",
        # Months after the separation: a return after a real layoff looks the same in the
        # records as an agreed separation that was never one.
        severity=0.4,
        level=CLAIM,
        condition="is_rehired_after_benefit",
        evidence=(
            "format_string('rehired %s by %s (%s) %d days after leaving %s, last certified day %s', "
            "cast(rehired_on AS STRING), rehire_workplace_id, rehire_relation, datediff(rehired_on, spell_to), "
            "workplace_id, cast(last_certified_to AS STRING))"
        ),
        standard=LEAD,
        settle="the employer's and the worker's account of why the worker left and came back",
        proves_if_confirmed=True,
        grade="-datediff(rehired_on, spell_to)",
    ),
    Rule(
        rule_id="FS-03",
        title="one of the code-23 layoffs of a workplace that kept hiring as many",
        typology="FALSE_SEPARATION",
        legal_basis="고용보험법 제58조, 제61조",
        severity=0.55,
        level=CLAIM,
        condition="separation_code = '23' AND is_layoff_while_hiring",
        evidence=(
            "format_string('workplace %s: %d layoffs under code 23 within six months of this separation, %d of them "
            "within a month of it (of %d employed then, its previous two years predict %s) while it hired %d', "
            "workplace_id, layoffs_23_nearby, layoffs_23_together, headcount, format_number(layoffs_23_expected, 1), "
            "hires_nearby)"
        ),
        invalidates_claim=True,
        # The more layoffs the burst holds, the further it is from chance.
        grade="layoffs_23_together",
    ),
    Rule(
        rule_id="FS-05",
        title="one of several code-23 layoffs, spread over months, of a workplace that kept hiring",
        typology="FALSE_SEPARATION",
        legal_basis="고용보험법 제58조, 제61조",
        # FS-03's pattern without the layoffs together: honest churn at a small
        # workplace looks the same in the records.
        severity=0.45,
        level=CLAIM,
        condition="separation_code = '23' AND is_layoff_pattern_while_hiring",
        evidence=_LAYOFF_PATTERN_EVIDENCE,
        standard=LEAD,
        settle=_LAYOFF_PATTERN_SETTLE,
        proves_if_confirmed=True,
        grade="layoffs_23_nearby",
    ),
    Rule(
        rule_id="FS-06",
        title="one of two code-23 layoffs of a workplace that kept hiring",
        typology="FALSE_SEPARATION",
        legal_basis="고용보험법 제58조, 제61조",
        # FS-05's pattern with two layoffs only: as often everyday churn as not.
        severity=0.35,
        level=CLAIM,
        condition="separation_code = '23' AND is_few_layoffs_while_hiring",
        evidence=_LAYOFF_PATTERN_EVIDENCE,
        standard=LEAD,
        settle=_LAYOFF_PATTERN_SETTLE,
        proves_if_confirmed=True,
    ),
    Rule(
        rule_id="FS-07",
        title="laid off under code 23 by a workplace of a suspected collusion ring",
        typology="FALSE_SEPARATION",
        legal_basis="고용보험법 제58조, 제61조, 제62조 (공모형 추가징수)",
        # DOMAIN.md: a false separation is agreed between the employer and the worker.
        # At a ring's member by its own marked claims or a representative or account
        # it shares with the others, the employer's record that it laid the worker off
        # is what the claim rests on, and nothing of the claim's own contradicts it. A
        # member only because a paper employee once passed through it may be an honest
        # business in the ring's building: its layoffs are no lead. Claims GH-01's marks
        # or the young mark already explain are GH-01 or GH-05.
        severity=0.4,
        level=CLAIM,
        condition=(
            "ring_id IS NOT NULL AND ring_member_by <> 'rotation' AND separation_code = '23' "
            "AND spell_separation_code = '23' AND NOT (has_wage_without_tax OR is_just_past_threshold "
            "OR is_rotated_in_cluster OR is_young_workplace_with_many_claims)"
        ),
        evidence=(
            "format_string('ring %s: laid off under code 23 on %s by %s, a member of the ring (%s)', "
            "ring_id, cast(spell_to AS STRING), workplace_id, ring_member_by)"
        ),
        standard=LEAD,
        settle="the employer's record of the layoff (its notice, its reason, whom it hired in the worker's "
        "place) and the worker's account of why they left",
        proves_if_confirmed=True,
    ),
    Rule(
        rule_id="GH-01",
        title="paper employment at a workplace of a suspected collusion ring",
        typology="GHOST_EMPLOYMENT",
        legal_basis="고용보험법 제61조, 제62조 (공모형 추가징수)",
        severity=0.8,
        level=CLAIM,
        condition="ring_id IS NOT NULL AND (has_wage_without_tax OR is_just_past_threshold OR is_rotated_in_cluster)",
        evidence=(
            "format_string('ring %s: qualifying spell %s of %d days%s%s%s', ring_id, spell_employment_id, spell_days, "
            "CASE WHEN is_just_past_threshold THEN format_string(' (%d insured days in 18 months: just past the "
            "180-day threshold)', insured_days_18m) ELSE '' END, "
            "CASE WHEN has_wage_without_tax THEN format_string(', wages reported but tax statements from the payer "
            "for %d of its %d months due%s', tax_months_filed, tax_months_due, " + _UNMATCHED_WAGES + ") ELSE '' END, "
            "CASE WHEN is_rotated_in_cluster THEN format_string(', worked at %d workplaces of the ring', "
            "cluster_workplaces_worked) ELSE '' END)"
        ),
        invalidates_claim=True,
    ),
    Rule(
        rule_id="GH-02",
        title="paper employment: wages no tax statement confirms, just past 180 days or at a young workplace "
        "most of whose workers claimed",
        typology="GHOST_EMPLOYMENT",
        legal_basis="고용보험법 제61조",
        severity=0.6,
        level=CLAIM,
        condition=(
            "ring_id IS NULL AND has_wage_without_tax "
            "AND (is_just_past_threshold OR is_young_workplace_with_many_claims)"
        ),
        evidence=(
            "format_string('qualifying spell %s of %d days at %s, wages reported but tax statements from the payer "
            "for %d of its %d months due%s%s%s', spell_employment_id, spell_days, workplace_id, tax_months_filed, "
            "tax_months_due, " + _UNMATCHED_WAGES + ", "
            "CASE WHEN is_just_past_threshold THEN format_string(', %d insured days in 18 months', "
            "insured_days_18m) ELSE '' END, CASE WHEN is_young_workplace_with_many_claims THEN format_string("
            "', the workplace %d days old with %d claims from its %d workers', workplace_age_days, workplace_claims, "
            "workplace_workers) ELSE '' END)"
        ),
        invalidates_claim=True,
    ),
    Rule(
        rule_id="GH-03",
        title="benefit paid into an account shared by several claimants or held by a workplace",
        typology="GHOST_EMPLOYMENT",
        legal_basis="고용보험법 제61조",
        severity=0.45,
        level=CLAIM,
        condition="is_shared_account",
        evidence=(
            "format_string('benefit account %s… shared by %d claimants%s', substring(bank_account_key, 1, 8), "
            "account_claimants, CASE WHEN is_account_shared_with_workplace THEN ' and held by a workplace' ELSE '' END)"
        ),
        standard=LEAD,
        settle="the bank's record of the account holder",
    ),
    Rule(
        rule_id="GH-04",
        title="young workplace most of whose workers claimed",
        typology=None,
        legal_basis="고용보험법 제61조",
        severity=0.25,
        level=CLAIM,
        condition="is_young_workplace_with_many_claims",
        evidence=(
            "format_string('workplace %s was %d days old at the claim and produced %d claims in its first two years "
            "from %d workers', workplace_id, workplace_age_days, workplace_claims, workplace_workers)"
        ),
        aggravates_only=True,
    ),
    Rule(
        rule_id="GH-05",
        title="at a workplace of a suspected collusion ring: a young workplace most of whose workers claimed",
        typology="GHOST_EMPLOYMENT",
        legal_basis="고용보험법 제61조, 제62조 (공모형 추가징수)",
        # Two of DOMAIN.md's marks together (workplaces linked by a representative, an
        # address, a phone or an account; young workplaces with many claims), but no
        # record that the work was not done: the shell's statements can all be filed.
        severity=0.55,
        level=CLAIM,
        condition="ring_id IS NOT NULL AND is_young_workplace_with_many_claims",
        evidence=(
            "format_string('ring %s: workplace %s was %d days old at the claim and produced %d claims in its first "
            "two years from %d workers', ring_id, workplace_id, workplace_age_days, workplace_claims, "
            "workplace_workers)"
        ),
        standard=LEAD,
        settle="the workplace's operations: a site visit, its payroll and the work its employees did",
        proves_if_confirmed=True,
    ),
    Rule(
        rule_id="RP-01",
        title="claimant with earlier fraud findings (반복 부정수급)",
        typology=None,
        legal_basis="고용보험법 제61조 (반복 부정수급자 수급자격 제한)",
        severity=0.2,
        level=CLAIM,
        condition="prior_findings > 0",
        evidence=(
            "format_string('%s earlier finding(s) (%s), last decided %s', prior_findings, "
            "array_join(prior_fraud_types, ' '), cast(last_decided_on AS STRING))"
        ),
        aggravates_only=True,
    ),
)


def _check(rules: tuple[Rule, ...]) -> None:
    ids = [rule.rule_id for rule in rules]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate rule ids in {ids}")
    for rule in rules:
        if rule.typology is not None and rule.typology not in contract.FRAUD_TYPES:
            raise ValueError(f"{rule.rule_id}: {rule.typology} is not in the findings vocabulary")
        if rule.typology is None and not rule.aggravates_only:
            raise ValueError(f"{rule.rule_id}: a rule that makes a case needs a typology")
        if not 0.0 < rule.severity < 1.0:
            raise ValueError(f"{rule.rule_id}: severity must lie in (0, 1)")
        if rule.level not in (CERTIFICATION, CLAIM):
            raise ValueError(f"{rule.rule_id}: unknown level {rule.level}")
        if rule.taints and rule.level != CERTIFICATION:
            raise ValueError(f"{rule.rule_id}: only certifications are tainted")
        if rule.invalidates_claim and (rule.level != CLAIM or rule.aggravates_only):
            raise ValueError(f"{rule.rule_id}: only a claim-level rule that makes a case invalidates the claim")
        if rule.strengthens is not None:
            base = next((r for r in rules if r.rule_id == rule.strengthens), None)
            if base is None or base.level != rule.level or base.strengthens is not None:
                raise ValueError(f"{rule.rule_id}: strengthens {rule.strengthens}, no base rule of its level")
        if rule.standard not in STANDARDS:
            raise ValueError(f"{rule.rule_id}: unknown evidence standard {rule.standard}")
        if rule.proves and rule.standard != PROVEN:
            raise ValueError(f"{rule.rule_id}: a rule that establishes an overpayment must be proven")
        if (rule.standard == PROVEN) == bool(rule.settle):
            raise ValueError(
                f"{rule.rule_id}: a rule that is not proven says what would settle it, and only such a rule"
            )
        if rule.proves_if_confirmed and rule.standard == PROVEN:
            raise ValueError(f"{rule.rule_id}: only a rule that is not proven waits to be confirmed")


def ruleset_version(rules: tuple[Rule, ...] = RULES) -> str:
    """The revision and a content hash of the rule data: any change to a rule changes it."""
    payload = json.dumps([asdict(rule) for rule in rules], sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]
    return f"r{RULESET_REVISION}-{digest}"


_check(RULES)
RULES_VERSION = ruleset_version(RULES)


def changed_rules(path, rules: tuple[Rule, ...] = RULES) -> tuple[Rule, ...]:
    """The rule set with the changes a TOML file proposes, checked as the rule set is
    (`_check`), for `fraudctl rules backtest`. A table per rule id changes that rule's
    fields (`[FS-02] condition = "..."`, `severity = 0.7`); `enabled = false` drops
    it; a table for an id the set lacks adds a rule and must give every field. Raises
    ValueError naming what is wrong (one line)."""
    import dataclasses
    import tomllib

    try:
        with open(path, "rb") as handle:
            proposed = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: {error}") from error
    fields = {f.name for f in dataclasses.fields(Rule)}
    by_id = {rule.rule_id: rule for rule in rules}
    order = [rule.rule_id for rule in rules]
    for rule_id, change in proposed.items():
        if not isinstance(change, dict):
            raise ValueError(f"{path}: {rule_id} must be a table of fields ([{rule_id}])")
        unknown = sorted(set(change) - fields - {"enabled"})
        if unknown:
            raise ValueError(f"{path}: {rule_id}: no such rule field {', '.join(unknown)}")
        change = dict(change)
        if change.pop("enabled", True) is False:
            by_id.pop(rule_id, None)
            continue
        try:
            if rule_id in by_id:
                by_id[rule_id] = dataclasses.replace(by_id[rule_id], **change)
            else:
                by_id[rule_id] = Rule(rule_id=rule_id, **change)
                order.append(rule_id)
        except TypeError as error:
            raise ValueError(f"{path}: {rule_id}: {error}") from error
    changed = tuple(by_id[rule_id] for rule_id in order if rule_id in by_id)
    try:
        _check(changed)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    return changed
