"""How well a run's outputs find what the synthetic generator planted.

Reads a run's `cases.csv` and `repeat_offenders.csv` (OUTPUTS.md) and the
generator's truth file (`<landing>/_truth/truth.json`, simulation/synth.py) and measures,
for every typology the rule set covers (rules/ruleset.py):

- recall: planted claims of the typology that are in the queue, and in it with that
  typology among their `fraud_types`;
- overpayment: planted claims whose estimated overpayment is within 5% of the truth
  (only claims whose every planted typology is covered: a claim that is also, say, a
  ghost employment owes everything paid, which the cross-matches alone cannot see);
- look-alikes: honest claims built to resemble fraud (DOMAIN.md) that reach the queue,
  and those that rank above a planted case;
- precision of the queue (cases that are planted frauds) and the repeat-offender list.

Planted cases marked `past` were decided already (they have a finding): they are
left out of the figures, and one queued again counts against the targets. A `past`
case whose truth names no finding (`finding_id` null) was never decided: it is
undecided fraud like the current cases, and counted with them (`decided`).

`targets_met` is what issue #3 asks: every planted case of a covered typology found
with its type, every overpayment within tolerance, no look-alike above a planted case.

With a model in use the run also wrote `scores.parquet` (every undecided claim's rule
score, model probability and queue score): `score_comparison` ranks the night's
undecided claims three ways (rules alone, model alone, the combination the queue
uses) and measures each against the planted undecided cases. The model never saw
those cases: it was trained on decisions taken before the night (a time-based
holdout), and the undecided cases have no finding yet.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fraud.storage import read_json
from models.fit import average_precision, precision_at_k

OVERPAYMENT_TOLERANCE = 0.05
RING_JACCARD_TARGET = 0.9
LIST_SEPARATOR = ";"

# What issue #18 asks of a night, on the project's generator and on the holdout world
# (simulation/holdout) alike (`acceptance`).
TARGETS = {
    "average_precision": 0.95,  # of the queue, planted current cases as positives
    "precision_at_k": 0.95,  # k = the planted current cases
    "recall_at_k": 0.95,  # per typology: its planted cases among the first k
    "lookalikes_in_top_k": 0,
    "overpayment_within_5pct": 0.98,  # share of the planted current cases
    "ring_best_jaccard": 0.9,  # per planted ring, the best Jaccard of a listed ring
    "rings_listed_per_planted": 2.0,  # at most this many rings listed per planted ring
}


@dataclass(frozen=True)
class Case:
    claim_id: str
    rank: int
    score: float
    fraud_types: frozenset[str]
    estimated_overpayment: int
    ring_id: str


def read_cases(path: Path) -> dict[str, Case]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            row["claim_id"]: Case(
                claim_id=row["claim_id"],
                rank=int(row["rank"]),
                score=float(row["score"]),
                fraud_types=frozenset(filter(None, row["fraud_types"].split(LIST_SEPARATOR))),
                estimated_overpayment=int(row["estimated_overpayment"] or 0),
                ring_id=row.get("ring_id") or "",
            )
            for row in csv.DictReader(handle)
        }


def read_repeat_offenders(path: Path) -> dict[tuple[str, str], bool]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            (row["person_key"], row["open_claim_id"]): row["suspected_now"] == "true" for row in csv.DictReader(handle)
        }


def read_rings(path: Path) -> dict[str, set[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            row["ring_id"]: set(filter(None, row["workplace_ids"].split(LIST_SEPARATOR)))
            for row in csv.DictReader(handle)
        }


def read_workplace_ranks(path: Path) -> dict[str, int]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["workplace_id"]: int(row["rank"]) for row in csv.DictReader(handle)}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def ring_figures(outputs: Path, truth: dict, planted: list[dict]) -> dict:
    """Planted rings against rings.csv (best Jaccard of workplaces per planted ring),
    colluding workplaces against workplaces.csv (their ranks), and the look-alikes that
    must never become rings (business closures, spouses' employers)."""
    rings_path, workplaces_path = outputs / "rings.csv", outputs / "workplaces.csv"
    if not rings_path.exists() or not workplaces_path.exists():
        return {}
    found = read_rings(rings_path)
    ranks = read_workplace_ranks(workplaces_path)
    per_ring = {}
    for ring in truth.get("rings", []):
        expected = set(ring["workplace_ids"])
        best_id, best = max(
            ((rid, _jaccard(expected, got)) for rid, got in found.items()),
            key=lambda item: (item[1], item[0]),
            default=(None, 0.0),
        )
        per_ring[ring["ring_id"]] = {"best_jaccard": round(best, 4), "found_as": best_id}
    colluding = {w for ring in truth.get("rings", []) for w in ring["workplace_ids"]}
    colluding |= {p["workplace_id"] for p in planted if {"FALSE_SEPARATION", "GHOST_EMPLOYMENT"} & set(p["typologies"])}
    colluding_ranks = sorted(ranks.get(w, 0) for w in colluding)
    missing = sorted(w for w in colluding if w not in ranks)
    in_rings = set().union(*found.values()) if found else set()
    spouse_workplaces = set()
    for item in truth.get("lookalikes", []):
        if item["kind"] == "SHARED_ACCOUNT_SPOUSES" and item.get("workplace_id"):
            spouse_workplaces.add(item["workplace_id"])
    closures_in_rings = sorted(set(truth.get("closures", [])) & in_rings)
    spouses_in_rings = sorted(spouse_workplaces & in_rings)
    return {
        "planted_rings": len(per_ring),
        "found_rings": len(found),
        "per_ring": per_ring,
        "min_best_jaccard": min((r["best_jaccard"] for r in per_ring.values()), default=None),
        "colluding_workplaces": len(colluding),
        "colluding_missing": missing,
        "colluding_worst_rank": max((r for r in colluding_ranks if r), default=None),
        "others_above_a_colluding_workplace": sum(
            1 for w, r in ranks.items() if w not in colluding and colluding_ranks and r < max(colluding_ranks)
        ),
        "closures_in_rings": closures_in_rings,
        "spouse_workplaces_in_rings": spouses_in_rings,
    }


def load_truth(path: Path) -> dict:
    """The truth file, given itself or the landing directory that holds `_truth/`."""
    path = Path(path)
    if path.is_dir():
        path = path / "_truth" / "truth.json"
    return read_json(path)


def _within(estimated: int, expected: int) -> bool:
    if expected == 0:
        return estimated == 0
    return abs(estimated - expected) <= OVERPAYMENT_TOLERANCE * expected


def _typology_figures(typology: str, planted: list[dict], cases: dict[str, Case], covered: set[str]) -> dict:
    of_type = [p for p in planted if typology in p["typologies"]]
    in_queue = [p for p in of_type if p["claim_id"] in cases]
    with_type = [p for p in in_queue if typology in cases[p["claim_id"]].fraud_types]
    amount_checked = [p for p in of_type if set(p["typologies"]) <= covered]
    amount_ok = [
        p
        for p in amount_checked
        if p["claim_id"] in cases and _within(cases[p["claim_id"]].estimated_overpayment, p["overpayment"])
    ]
    missed = sorted(p["claim_id"] for p in of_type if p["claim_id"] not in cases or p not in with_type)
    wrong_amounts = sorted(
        (
            p["claim_id"],
            p["overpayment"],
            cases[p["claim_id"]].estimated_overpayment if p["claim_id"] in cases else None,
        )
        for p in amount_checked
        if p not in amount_ok
    )
    return {
        "planted": len(of_type),
        "in_queue": len(in_queue),
        "with_type": len(with_type),
        "recall": len(with_type) / len(of_type) if of_type else None,
        "overpayment_checked": len(amount_checked),
        "overpayment_within_5pct": len(amount_ok),
        "missed": missed[:20],
        "wrong_overpayments": [list(item) for item in wrong_amounts[:20]],
    }


def decided(planted: dict) -> bool:
    """A planted case was decided when it is `past` and has a finding. The project's
    generator writes every past case with its finding; a truth that gives the field and
    leaves it null says no finding was ever made: the claim is undecided fraud, which
    the queue must hold however old it is (a past claim is no case only when its
    finding says so)."""
    return bool(planted.get("past")) and planted.get("finding_id", "unnamed") is not None


def evaluate(outputs: Path, truth: dict, covered: set[str]) -> dict:
    """A run's outputs directory and the generator's truth -> the figures (JSON-able)."""
    outputs = Path(outputs)
    cases = read_cases(outputs / "cases.csv")
    # Decided cases have a finding (ei/findings): the queue is for the undecided ones.
    everything_planted = truth["planted"]
    planted = [p for p in everything_planted if not decided(p)]
    planted_ids = {p["claim_id"] for p in planted}
    past_in_queue = sorted(p["claim_id"] for p in everything_planted if decided(p) and p["claim_id"] in cases)
    covered_planted = [p for p in planted if set(p["typologies"]) & covered]
    typologies = sorted({t for p in planted for t in p["typologies"]})
    by_typology = {t: _typology_figures(t, planted, cases, covered) for t in typologies}

    worst_planted_rank = max((cases[p["claim_id"]].rank for p in covered_planted if p["claim_id"] in cases), default=0)
    lookalikes = truth.get("lookalikes", [])
    lookalike_kinds: dict[str, dict] = {}
    above = []
    for item in lookalikes:
        figures = lookalike_kinds.setdefault(item["kind"], {"planted": 0, "in_queue": 0, "above_a_planted_case": 0})
        figures["planted"] += 1
        case = cases.get(item["claim_id"])
        if case is None or item["claim_id"] in planted_ids:
            continue
        figures["in_queue"] += 1
        if case.rank < worst_planted_rank:
            figures["above_a_planted_case"] += 1
            above.append((case.rank, item["kind"], item["claim_id"]))

    true_cases = [c for c in cases.values() if c.claim_id in planted_ids]
    top_k = sorted(cases.values(), key=lambda c: c.rank)[: len(covered_planted)]
    offenders_path = outputs / "repeat_offenders.csv"
    offenders = read_repeat_offenders(offenders_path) if offenders_path.exists() else {}
    expected_offenders = {(r["person_key"], r["open_claim_id"]) for r in truth.get("repeat_offenders", [])}
    report = {
        "covered_typologies": sorted(covered),
        "queue": {
            "cases": len(cases),
            "planted_in_queue": len(true_cases),
            "precision": len(true_cases) / len(cases) if cases else None,
            "precision_at_k": (sum(c.claim_id in planted_ids for c in top_k) / len(top_k)) if top_k else None,
            "k": len(top_k),
            "past_cases_requeued": len(past_in_queue),
        },
        "typologies": by_typology,
        "lookalikes": lookalike_kinds,
        "lookalikes_above_a_planted_case": [list(item) for item in sorted(above)[:20]],
        "repeat_offenders": {
            "expected": len(expected_offenders),
            "listed": len(offenders),
            "expected_and_listed": len(expected_offenders & set(offenders)),
        },
    }
    covered_figures = [by_typology[t] for t in typologies if t in covered]
    report["rings"] = ring_figures(outputs, truth, planted)
    report["scoring"] = score_comparison(outputs, truth, covered)
    rings_ok = True
    if report["rings"] and "GHOST_EMPLOYMENT" in covered:
        figures = report["rings"]
        rings_ok = (
            (figures["min_best_jaccard"] is None or figures["min_best_jaccard"] >= RING_JACCARD_TARGET)
            and not figures["colluding_missing"]
            and not figures["closures_in_rings"]
            and not figures["spouse_workplaces_in_rings"]
        )
    report["targets_met"] = (
        rings_ok
        and bool(covered_figures)
        and all(
            f["with_type"] == f["planted"] and f["overpayment_within_5pct"] == f["overpayment_checked"]
            for f in covered_figures
        )
        and not above
        and not past_in_queue
        and expected_offenders <= set(offenders)
    )
    return report


def quarantine_figures(outputs: Path, truth: dict) -> dict | None:
    """The rows a night quarantined, per drop and table (its run_manifest.json), against
    the bad rows the generator wrote (truth `quarantine_expected`, keyed
    "<source>/<drop date>/<table>") -> planted, quarantined and the keys where they
    differ; None when the truth or the manifest has no such counts."""
    expected = truth.get("quarantine_expected")
    manifest_path = Path(outputs) / "run_manifest.json"
    if expected is None or not manifest_path.exists():
        return None
    manifest = read_json(manifest_path)
    quarantined = {
        f"{drop['source']}/{drop['drop_date']}/{table}": figures.get("quarantined") or 0
        for drop in manifest.get("drops", [])
        for table, figures in drop.get("tables", {}).items()
    }
    # A night before the last sees only the drops dated up to its own date.
    night = manifest.get("ds")
    expected = {key: rows for key, rows in expected.items() if night is None or key.split("/")[1] <= night}
    differ = sorted(key for key in set(expected) | set(quarantined) if expected.get(key, 0) != quarantined.get(key, 0))
    return {"planted": sum(expected.values()), "quarantined": sum(quarantined.values()), "differ": differ}


def acceptance(outputs: Path, truth: dict) -> dict:
    """The figures issue #18 sets targets for (TARGETS), from a night's queue and
    rings against a truth file: positives are the planted undecided cases (`decided`).

    - average precision of the queue in rank order (a positive not queued adds 0);
    - precision in the first k and, per typology, the share of its cases in them;
    - look-alikes (truth `lookalikes` that are no planted case) in the first k;
    - the share of positives queued with `estimated_overpayment` within 5% of the truth;
    - per planted ring, the best Jaccard of a listed ring's workplaces, and how many
      rings are listed against how many were planted;
    - when the truth counts its bad rows, whether the night quarantined exactly those,
      drop by drop and table by table (`quarantine_figures`)."""
    outputs = Path(outputs)
    cases = sorted(read_cases(outputs / "cases.csv").values(), key=lambda case: case.rank)
    positives = {p["claim_id"]: p for p in truth["planted"] if not decided(p)}
    k = len(positives)
    hits, precision_sum = 0, 0.0
    for position, case in enumerate(cases, start=1):
        if case.claim_id in positives:
            hits += 1
            precision_sum += hits / position
    top_k = {case.claim_id for case in cases[:k]}
    by_id = {case.claim_id: case for case in cases}
    lookalikes = {
        item["claim_id"]: item["kind"] for item in truth.get("lookalikes", []) if item["claim_id"] not in positives
    }
    recall = {}
    for typology in sorted({t for p in positives.values() for t in p["typologies"]}):
        of_type = [claim_id for claim_id, p in positives.items() if typology in p["typologies"]]
        recall[typology] = round(sum(claim_id in top_k for claim_id in of_type) / len(of_type), 4)
    amounts_ok = sum(
        1
        for claim_id, p in positives.items()
        if claim_id in by_id and _within(by_id[claim_id].estimated_overpayment, p["overpayment"])
    )
    planted_rings = truth.get("rings", [])
    rings_path = outputs / "rings.csv"
    found = read_rings(rings_path) if rings_path.exists() else {}
    best = [
        max((_jaccard(set(ring["workplace_ids"]), listed) for listed in found.values()), default=0.0)
        for ring in planted_rings
    ]
    figures = {
        "positives": k,
        "queued": len(cases),
        "average_precision": round(precision_sum / k, 4) if k else None,
        "precision_at_k": round(len(top_k & set(positives)) / k, 4) if k else None,
        "recall_at_k": recall,
        "lookalikes_in_top_k": sum(claim_id in top_k for claim_id in lookalikes),
        "lookalikes_in_top_k_by_kind": dict(
            sorted(Counter(kind for claim_id, kind in lookalikes.items() if claim_id in top_k).items())
        ),
        "lookalikes_queued": sum(claim_id in by_id for claim_id in lookalikes),
        "overpayment_within_5pct": round(amounts_ok / k, 4) if k else None,
        "rings_planted": len(planted_rings),
        "rings_listed": len(found),
        "ring_best_jaccard": round(min(best), 4) if best else None,
    }
    checks = {
        "average_precision": (figures["average_precision"] or 0) >= TARGETS["average_precision"],
        "precision_at_k": (figures["precision_at_k"] or 0) >= TARGETS["precision_at_k"],
        "recall_at_k": all(value >= TARGETS["recall_at_k"] for value in recall.values()),
        "lookalikes_in_top_k": figures["lookalikes_in_top_k"] <= TARGETS["lookalikes_in_top_k"],
        "overpayment_within_5pct": (figures["overpayment_within_5pct"] or 0) >= TARGETS["overpayment_within_5pct"],
        "ring_best_jaccard": not best or min(best) >= TARGETS["ring_best_jaccard"],
        "rings_listed": len(found) <= TARGETS["rings_listed_per_planted"] * len(planted_rings),
    }
    quarantine = quarantine_figures(outputs, truth)
    figures["quarantine"] = quarantine
    if quarantine is not None:
        checks["quarantine_matches"] = not quarantine["differ"]
    return {**figures, "checks": checks, "targets_met": all(checks.values())}


def render_acceptance(worlds: dict[str, dict]) -> str:
    """Acceptance figures of one or more worlds (name -> `acceptance`), side by side."""
    names = list(worlds)
    width = max(12, *(len(name) for name in names))
    lines = [f"{'issue #18 target':<40}" + "".join(f"{name:>{width + 2}}" for name in names)]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"{label:<40}" + "".join(f"{value:>{width + 2}}" for value in values))

    def number(value, style="{:.3f}") -> str:
        return "-" if value is None else style.format(value)

    figures = [worlds[name] for name in names]
    row("current cases (k)", [str(f["positives"]) for f in figures])
    row("cases queued", [str(f["queued"]) for f in figures])
    row(f"average precision >= {TARGETS['average_precision']}", [number(f["average_precision"]) for f in figures])
    row(f"precision in top k >= {TARGETS['precision_at_k']}", [number(f["precision_at_k"]) for f in figures])
    for typology in sorted({t for f in figures for t in f["recall_at_k"]}):
        row(f"  recall in top k, {typology}", [number(f["recall_at_k"].get(typology)) for f in figures])
    row("look-alikes in top k = 0", [str(f["lookalikes_in_top_k"]) for f in figures])
    row("look-alikes queued (below the cases)", [str(f["lookalikes_queued"]) for f in figures])
    row(
        f"overpayment within 5% >= {TARGETS['overpayment_within_5pct']}",
        [number(f["overpayment_within_5pct"]) for f in figures],
    )
    row(f"ring best Jaccard >= {TARGETS['ring_best_jaccard']}", [number(f["ring_best_jaccard"]) for f in figures])
    row("rings listed / planted (<= 2x)", [f"{f['rings_listed']}/{f['rings_planted']}" for f in figures])
    row(
        "rows quarantined / bad rows planted",
        [f"{q['quarantined']}/{q['planted']}" if (q := f.get("quarantine")) else "-" for f in figures],
    )
    row("targets met", ["yes" if f["targets_met"] else "NO" for f in figures])
    for name, f in worlds.items():
        failed = [check for check, ok in f["checks"].items() if not ok]
        if failed:
            lines.append(
                f"{name}: missed {', '.join(failed)}"
                + (f" (look-alikes in top k: {f['lookalikes_in_top_k_by_kind']})" if f["lookalikes_in_top_k"] else "")
            )
    return "\n".join(lines)


SCORINGS = ("rules", "model", "combined")


def score_orders(claim_ids, rules_score, model_probability, score) -> dict:
    """The three rankings of the undecided claims (indices, first = investigate first).

    - rules: the rules' score; claims without a rule hit after every case.
    - model: the calibrated probability alone.
    - combined: the queue's score (rule evidence and probability, rules/engine.py);
      claims the queue does not list follow it, by probability, as the combination
      would take them if investigators had capacity to spare.
    Ties go by claim_id, so every ranking is deterministic."""
    ids = np.asarray(claim_ids, dtype=str)

    def descending(values) -> "np.ndarray":
        return -np.nan_to_num(np.asarray(values, dtype=np.float64), nan=-1.0)

    return {
        "rules": np.lexsort((ids, descending(rules_score))),
        "model": np.lexsort((ids, descending(model_probability))),
        "combined": np.lexsort((ids, descending(model_probability), descending(score))),
    }


def score_comparison(outputs: Path, truth: dict, covered: set[str]) -> dict | None:
    """Average precision and precision at k (k = the current fraud cases) of the three
    rankings, over every undecided claim in `scores.parquet`; None for a night that ran
    on the rules alone (no scores.parquet). The current fraud is the planted undecided
    cases of the covered typologies and the fraud no feed shows (truth "unevidenced",
    cash work): the rules cannot see the latter, a model trained on past findings may
    rank it."""
    path = Path(outputs) / "scores.parquet"
    if not path.exists():
        return None
    import pyarrow.parquet as pq

    table = pq.read_table(path).to_pydict()
    positives = {p["claim_id"] for p in truth["planted"] if not decided(p) and set(p["typologies"]) & covered}
    unevidenced = {p["claim_id"] for p in truth.get("unevidenced", []) if not decided(p)}
    positives |= unevidenced
    labels = np.array([claim_id in positives for claim_id in table["claim_id"]], dtype=np.int64)
    k = len(positives)
    orders = score_orders(table["claim_id"], table["rules_score"], table["model_probability"], table["score"])
    figures = {
        name: {
            "average_precision": round(average_precision(labels, order), 4),
            "precision_at_k": round(precision_at_k(labels, order, k), 4),
        }
        for name, order in orders.items()
    }
    combined = figures["combined"]
    return {
        "claims": len(labels),
        "positives": int(labels.sum()),
        "positives_not_scored": k - int(labels.sum()),
        "unevidenced": len(unevidenced),
        "k": k,
        **figures,
        "combination_better": all(
            combined["average_precision"] > figures[other]["average_precision"]
            and combined["precision_at_k"] >= figures[other]["precision_at_k"]
            for other in ("rules", "model")
        ),
    }


def render_score_comparison(comparison: dict) -> str:
    lines = [
        f"scoring over {comparison['claims']} undecided claims, {comparison['positives']} current fraud "
        f"cases (k = {comparison['k']}; {comparison.get('unevidenced', 0)} of them fraud no feed shows):",
        f"{'ranking':<10} {'avg precision':>13} {'precision@k':>12}",
    ]
    for name in SCORINGS:
        figures = comparison[name]
        lines.append(f"{name:<10} {figures['average_precision']:>13.4f} {figures['precision_at_k']:>12.4f}")
    lines.append(f"combination better than either: {'yes' if comparison['combination_better'] else 'NO'}")
    return "\n".join(lines)


def render(report: dict) -> str:
    """The figures as a plain-text table (what `fraudctl evaluate` prints)."""
    lines = [f"{'typology':<22} {'planted':>7} {'queued':>7} {'w/ type':>7} {'recall':>7} {'amount ok':>10}"]
    for typology, f in report["typologies"].items():
        mark = "" if typology in report["covered_typologies"] else "  (no rule yet)"
        recall = "-" if f["recall"] is None else f"{f['recall']:.1%}"
        lines.append(
            f"{typology:<22} {f['planted']:>7} {f['in_queue']:>7} {f['with_type']:>7} {recall:>7} "
            f"{f['overpayment_within_5pct']:>4}/{f['overpayment_checked']:<5}{mark}"
        )
    lines.append("")
    lines.append(f"{'look-alike':<22} {'planted':>7} {'queued':>7} {'above a planted case':>21}")
    for kind, f in sorted(report["lookalikes"].items()):
        lines.append(f"{kind:<22} {f['planted']:>7} {f['in_queue']:>7} {f['above_a_planted_case']:>21}")
    queue = report["queue"]
    precision = "-" if queue["precision"] is None else f"{queue['precision']:.1%}"
    at_k = "-" if queue["precision_at_k"] is None else f"{queue['precision_at_k']:.1%}"
    offenders = report["repeat_offenders"]
    lines += [
        "",
        f"queue: {queue['cases']} cases, {queue['planted_in_queue']} planted (precision {precision}, "
        f"precision@{queue['k']} {at_k})",
        f"past (already decided) cases queued again: {queue['past_cases_requeued']}",
        f"repeat offenders: {offenders['expected_and_listed']}/{offenders['expected']} expected listed "
        f"({offenders['listed']} listed)",
    ]
    rings = report.get("rings") or {}
    if rings:
        jaccard = "-" if rings["min_best_jaccard"] is None else f"{rings['min_best_jaccard']:.2f}"
        lines += [
            f"rings: {rings['found_rings']} found for {rings['planted_rings']} planted, "
            f"worst best-Jaccard {jaccard} (target {RING_JACCARD_TARGET})",
            f"colluding workplaces: {rings['colluding_workplaces']}, missing from workplaces.csv "
            f"{len(rings['colluding_missing'])}, worst rank {rings['colluding_worst_rank']}, "
            f"other workplaces ranked above one: {rings['others_above_a_colluding_workplace']}",
            f"closures in rings: {len(rings['closures_in_rings'])}, "
            f"spouses' employers in rings: {len(rings['spouse_workplaces_in_rings'])}",
        ]
    lines.append(f"targets met: {'yes' if report['targets_met'] else 'NO'}")
    if report.get("scoring"):
        lines += ["", render_score_comparison(report["scoring"])]
    return "\n".join(lines)
