"""Back-testing a changed rule set on a past night, before anyone activates it.

`fraudctl rules backtest --ds D --ruleset FILE` reads night D's working state (its
conformed tables and the graph stage's claims and rings: retention keeps the newest
nights' only) and the dispositions that night applied, decides the queue twice, with
the rule set in force and with the proposed one (rules/ruleset.py:changed_rules), and
says how the queue would change: the cases added and removed, and among them the ones
investigators have since confirmed or cleared (every decision in the log, whenever it
was recorded: a back-test wants every outcome known). Both queues are the rules'
alone: the model ranks cases, the rules decide which claims are cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from fraud import dispositions
from fraud.layout import Layout
from jobs.conform import coverage_of, read_conformed
from jobs.crossmatch import detect, night_context
from rules.ruleset import RULES, Rule, ruleset_version

CASE_FIELDS = ("case_id", "claim_id", "rank", "fraud_types", "rule_hits", "estimated_overpayment")


class BacktestError(Exception):
    """A night that cannot be back-tested (its working state is gone). One line."""


@dataclass(frozen=True)
class Backtest:
    ds: dt.date
    rules_before: str
    rules_after: str
    before: int  # cases in the queue with the rules in force
    after: int  # cases with the proposed rules
    added: list[dict] = field(default_factory=list)  # CASE_FIELDS and `decision`
    removed: list[dict] = field(default_factory=list)
    changed_hits: int = 0  # cases in both queues whose rule hits differ

    def decided(self, cases: list[dict], status: str) -> int:
        return sum(1 for case in cases if case["decision"] == status)

    def lines(self) -> list[str]:
        """What `fraudctl rules backtest` prints."""
        out = [
            f"night {self.ds}: rules {self.rules_before} -> {self.rules_after}",
            f"queue: {self.before} cases -> {self.after} ({self.after - self.before:+d}); "
            f"{self.changed_hits} cases kept with different rule hits",
        ]
        for name, cases in (("added", self.added), ("removed", self.removed)):
            confirmed = self.decided(cases, dispositions.CONFIRMED)
            cleared = self.decided(cases, dispositions.CLEARED)
            out.append(f"{name}: {len(cases)} cases, {confirmed} confirmed and {cleared} cleared by investigators")
            for case in cases:
                out.append(
                    f"  {'+' if name == 'added' else '-'} {case['case_id']} {case['claim_id']} rank {case['rank']} "
                    f"{case['fraud_types']} [{case['rule_hits']}] {case['decision'] or 'undecided'}"
                )
        return out


def queue_rows(queue) -> dict[str, dict]:
    return {row["claim_id"]: row.asDict() for row in queue.select(*CASE_FIELDS).collect()}


def backtest(spark, warehouse: Path, ds: dt.date, proposed: tuple[Rule, ...]) -> Backtest:
    """Night `ds`'s queue under the rules in force and under `proposed`, compared."""
    layout = Layout(warehouse)
    conformed = layout.conformed(ds)
    if not (conformed / "claims").exists():
        raise BacktestError(
            f"the conformed tables of {ds} are no longer kept (retention keeps the newest nights' working "
            f"state, {conformed}): back-test a night still kept"
        )
    collusion_dir = layout.collusion(ds)
    collusion_dir = collusion_dir if (collusion_dir / "claims").exists() else None
    tables = read_conformed(spark, conformed)
    collusion, rings, _, cleared = night_context(spark, warehouse, ds, collusion_dir)
    coverage = coverage_of(conformed) or None

    def queue(rules):
        found = detect(tables, ds, rules, collusion=collusion, cleared=cleared, rings=rings, coverage=coverage)
        return queue_rows(found.cases)

    before, after = queue(RULES), queue(proposed)
    outcomes = {
        claim: entry.status
        for claim, entry in dispositions.latest_by_claim(
            [e for e in dispositions.read_log(warehouse) if e.status != dispositions.IN_REVIEW]
        ).items()
    }

    def listed(rows: dict[str, dict], claims) -> list[dict]:
        return sorted(
            ({**rows[c], "decision": outcomes.get(c, "")} for c in claims),
            key=lambda case: (case["rank"], case["case_id"]),
        )

    kept = set(before) & set(after)
    return Backtest(
        ds=ds,
        rules_before=ruleset_version(RULES),
        rules_after=ruleset_version(proposed),
        before=len(before),
        after=len(after),
        added=listed(after, set(after) - set(before)),
        removed=listed(before, set(before) - set(after)),
        changed_hits=sum(1 for c in kept if before[c]["rule_hits"] != after[c]["rule_hits"]),
    )
