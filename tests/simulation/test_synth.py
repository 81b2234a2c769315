"""The synthetic landing: deterministic, honest manifests, the delivery quirks of
FEEDS.md, bad rows the validator rejects (and only those), and every typology and
look-alike of DOMAIN.md planted, with evidence in the delivered files."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from fraud import contract
from fraud.records import iter_records
from simulation.synth import BAD_KINDS, LOOKALIKE_KINDS, RECORD_KINDS, generate, row_values

BASELINE = date(2026, 3, 2)
TYPOLOGIES = ("UNDECLARED_WORK", "ABROAD_CERTIFICATION", "FALSE_SEPARATION", "GHOST_EMPLOYMENT")


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth") / "landing"
    return out, generate(out, persons=300, seed=5, baseline=BASELINE, days=2)


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _drops(root: Path):
    """(source, drop dir, manifest) of every drop."""
    for manifest_path in sorted(root.glob("*/*/_MANIFEST.json")):
        yield manifest_path.parent.parent.name, manifest_path.parent, json.loads(manifest_path.read_text("utf-8"))


def _records(path: Path, encoding: str) -> tuple[list[str], list[tuple[list[str] | None, str | None]]]:
    """Header and (fields, error) of every data record, as the pipeline's reader sees them."""
    records = list(iter_records(path, encoding))
    header = records[0][2]
    return header, [(fields, error) for _, _, fields, error in records[1:]]


def _rows(root: Path):
    """(source, drop_date, table name, header, fields, error) for every delivered record."""
    for source, drop_dir, manifest in _drops(root):
        for file_name in manifest["tables"]:
            header, records = _records(drop_dir / file_name, manifest["encoding"])
            for fields, error in records:
                yield source, drop_dir.name, file_name[:-4], header, fields, error


def test_same_seed_same_bytes_other_seed_other_bytes(landing, tmp_path):
    out, _ = landing
    again = tmp_path / "again"
    generate(again, persons=300, seed=5, baseline=BASELINE, days=2)
    assert _tree_digest(again) == _tree_digest(out)
    other = tmp_path / "other"
    generate(other, persons=300, seed=6, baseline=BASELINE, days=2)
    assert _tree_digest(other) != _tree_digest(out)


def test_every_source_delivers_every_day_with_honest_manifests(landing):
    out, truth = landing
    assert truth["drop_dates"] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert truth["final_date"] == "2026-03-04"
    seen = set()
    for source, drop_dir, manifest in _drops(out):
        seen.add((source, drop_dir.name))
        assert manifest["source"] == source and manifest["drop_date"] == drop_dir.name
        assert manifest["tables"], f"{source}/{drop_dir.name} delivers nothing"
        assert {p.name for p in drop_dir.iterdir()} == set(manifest["tables"]) | {"_MANIFEST.json"}
        for file_name, entry in manifest["tables"].items():
            data = (drop_dir / file_name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            _, records = _records(drop_dir / file_name, manifest["encoding"])
            assert len(records) == entry["rows"], f"{source}/{drop_dir.name}/{file_name}"
    assert seen == {(s, d) for s in contract.SOURCES for d in truth["drop_dates"]}
    assert (out / "_truth" / "truth.json").read_text("utf-8") == json.dumps(
        truth, indent=2, sort_keys=True, ensure_ascii=False
    ) + "\n"


def test_one_ei_delta_drop_is_cp949_with_korean_text(landing):
    out, truth = landing
    cp949 = [(s, d) for s, d, m in _drops(out) if m["encoding"] == "cp949"]
    assert [(s, d.name) for s, d in cp949] == [("ei", truth["drop_dates"][1])]
    data = (cp949[0][1] / "workplaces.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("cp949", errors="replace")
    assert re.search("[가-힣]{2,}", text)
    # Only the planted undecodable row holds bytes that are not CP949.
    broken = [line for line in data.split(b"\r\n") if b"\xff" in line]
    assert len(broken) == 1
    data.replace(broken[0], b"").decode("cp949")


def test_bom_extra_columns_and_another_column_order_are_delivered(landing):
    out, _ = landing
    headers = {}
    for source, drop_dir, manifest in _drops(out):
        for file_name in manifest["tables"]:
            path = drop_dir / file_name
            headers[path] = (
                path.read_bytes()[:3] == b"\xef\xbb\xbf",
                _records(path, manifest["encoding"])[0],
                contract.table(source, file_name[:-4]).column_names,
            )
    assert any(bom for bom, _, _ in headers.values())
    assert any(set(header) - set(columns) for _, header, columns in headers.values())
    assert any(
        tuple(header) != columns and sorted(header) == sorted(columns) for _, header, columns in headers.values()
    )


def test_every_bad_row_kind_is_planted_and_counted(landing):
    out, truth = landing
    assert {bad["kind"] for bad in truth["bad_rows"]} == set(BAD_KINDS)
    expected = Counter()
    for bad in truth["bad_rows"]:
        expected[f"{bad['source']}/{bad['drop_date']}/{bad['table']}"] += bad["rows"]
        assert bad["rows"] == (2 if bad["kind"] == "duplicate_key" else 1)
    assert dict(expected) == truth["quarantine_expected"]
    for source in contract.SOURCES:
        for day in truth["drop_dates"]:
            assert any(k.startswith(f"{source}/{day}/") for k in expected), f"no bad row in {source}/{day}"
    # Records the reader cannot split are exactly the planted ones, one record each.
    unsplittable = Counter(
        f"{s}/{d}/{t}"
        for s, d, t, header, fields, error in _rows(out)
        if error is not None or len(fields) != len(header)
    )
    assert unsplittable == Counter(
        f"{b['source']}/{b['drop_date']}/{b['table']}" for b in truth["bad_rows"] if b["kind"] in RECORD_KINDS
    )
    undecodable = [b for b in truth["bad_rows"] if b["kind"] == "undecodable_bytes"]
    assert [(b["source"], b["drop_date"]) for b in undecodable] == [("ei", truth["drop_dates"][1])]


# --- the validator's checks, from the contract, to show which rows it must reject -----


def _value_fails(column: contract.Column, text: str, drop_date: date) -> bool:
    if text == "":
        return column.required
    if not column.matches(text):
        return True
    if column.kind == contract.CODE:
        return text not in column.values
    if column.kind == contract.TEXT:
        return len(text) > contract.MAX_TEXT_LENGTH or re.search(contract.CONTROL_CHARACTERS, text) is not None
    if column.kind in (contract.DATE, contract.TIMESTAMP):
        try:
            day = date.fromisoformat(text[:10])
            if column.kind == contract.TIMESTAMP:
                from datetime import datetime

                datetime.fromisoformat(text)
        except ValueError:
            return True
        if not (contract.EARLIEST_DATE <= day.isoformat() <= contract.LATEST_DATE):
            return True
        return column.not_after_drop and day > drop_date  # every timestamp is delivered in +09:00
    if column.kind == contract.INTEGER:
        value = int(text)
        return (column.minimum is not None and value < column.minimum) or (
            column.maximum is not None and value > column.maximum
        )
    return False


def _as_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _row_check_fails(name: str, row: dict) -> bool:
    """The contract's row checks (a null or impossible value passes; that is another check)."""
    ordered = re.fullmatch(r"(\w+)_not_after_(\w+)", name)
    if ordered:
        first, second = _as_date(row[ordered[1]]), _as_date(row[ordered[2]])
        return first is not None and second is not None and first > second
    if name == "separation_code_iff_lost_on":
        return (row["lost_on"] == "") != (row["separation_code"] == "")
    if name == "ip_country_null_for_visit":
        return row["channel"] == "VISIT" and row["ip_country"] != ""
    if name == "work_days_within_period":
        first, last = _as_date(row["work_from"]), _as_date(row["work_to"])
        if first is None or last is None or not re.fullmatch(r"-?\d{1,18}", row["work_days"]):
            return False
        return int(row["work_days"]) > (last - first).days + 1
    raise AssertionError(f"row check {name} unknown to this test: add it")


def test_exactly_the_planted_bad_rows_fail_the_contract_and_their_ids_are_fresh(landing):
    out, truth = landing
    bad_keys = {(b["table"], b["key"]) for b in truth["bad_rows"]}
    failing = Counter()
    keys_by_file = defaultdict(Counter)
    passing = []
    for source, day, table_name, header, fields, error in _rows(out):
        table = contract.table(source, table_name)
        where = f"{source}/{day}/{table_name}"
        if error is not None or len(fields) != len(header):
            failing[where] += 1
            continue
        row = dict(zip(header, fields))
        key = row[table.primary_key]
        keys_by_file[where][key] += 1
        drop_date = date.fromisoformat(day)
        if any(_value_fails(c, row[c.name], drop_date) for c in table.columns) or any(
            _row_check_fails(check.name, row) for check in table.row_checks
        ):
            failing[where] += 1
            assert (table_name, key) in bad_keys, row
        else:
            passing.append((where, table_name, key))
    for where, counts in keys_by_file.items():
        failing[where] += sum(n for n in counts.values() if n > 1)
    good_keys = {(table_name, key) for where, table_name, key in passing if keys_by_file[where][key] == 1}
    assert {k: n for k, n in failing.items() if n} == truth["quarantine_expected"]
    # A bad row never carries the id of a good record, in any drop.
    assert not good_keys & bad_keys


# --- what is planted -------------------------------------------------------------------


def test_every_typology_is_planted_current_and_past_with_an_overpayment(landing):
    _, truth = landing
    planted = truth["planted"]
    for when in (False, True):
        found = {t for p in planted if p["past"] is when for t in p["typologies"]}
        assert found == set(TYPOLOGIES), f"past={when}: {found}"
    for case in planted:
        assert case["overpayment"] > 0, case
        if set(case["typologies"]) & {"UNDECLARED_WORK", "ABROAD_CERTIFICATION"}:
            assert case["tainted_cert_ids"], case
        assert case["past"] == (case["finding_id"] is not None)
    assert {p["claim_id"] for p in planted if p["ring_id"]} == {c for r in truth["rings"] for c in r["claim_ids"]}


def test_every_lookalike_kind_is_planted_and_none_is_counted_as_fraud(landing):
    _, truth = landing
    assert {entry["kind"] for entry in truth["lookalikes"]} == set(LOOKALIKE_KINDS)
    fraud = {p["claim_id"] for p in truth["planted"]}
    assert not fraud & {entry["claim_id"] for entry in truth["lookalikes"]}
    assert truth["closures"]
    assert {r["suspected_now"] for r in truth["repeat_offenders"]} == {True, False}


def _table(out: Path, table_name: str) -> list[dict]:
    """The latest version (by updated_at) of every record of a table, bad rows left out."""
    source = contract.TABLES[table_name].source
    key = contract.TABLES[table_name].primary_key
    bad_keys = {
        b["key"]
        for b in json.loads((out / "_truth" / "truth.json").read_text())["bad_rows"]
        if b["table"] == table_name
    }
    latest: dict[str, dict] = {}
    for row_source, _, name, header, fields, error in _rows(out):
        if row_source != source or name != table_name or error is not None or len(fields) != len(header):
            continue
        row = dict(zip(header, fields))
        if row[key] in bad_keys:
            continue
        current = latest.get(row[key])
        if current is None or row.get("updated_at", "") >= current.get("updated_at", ""):
            latest[row[key]] = row
    return list(latest.values())


def test_the_evidence_of_rings_closures_and_false_separations_is_in_the_files(landing):
    out, truth = landing
    workplaces = {w["workplace_id"]: w for w in _table(out, "workplaces")}
    claims = {c["claim_id"]: c for c in _table(out, "claims")}
    employments = _table(out, "employments")
    income_payers = {r["payer_business_no"] for r in _table(out, "income")}
    for ring in truth["rings"]:
        shells = [workplaces[w] for w in ring["workplace_ids"]]
        assert len(shells) >= 3 and len(ring["person_keys"]) >= 5
        for shell in shells:
            others = [w for w in shells if w is not shell]
            digits = re.sub(r"\D", "", shell["phone"])
            assert any(
                shell["representative_key"] == o["representative_key"]
                or shell["bank_account_key"] == o["bank_account_key"]
                or digits == re.sub(r"\D", "", o["phone"])
                or re.sub(r"\D", "", shell["address"])[:3] == re.sub(r"\D", "", o["address"])[:3]
                for o in others
            ), shell
            assert shell["business_no"] not in income_payers  # wages reported, never a tax statement
        spells = [e for e in employments if e["workplace_id"] in ring["workplace_ids"]]
        assert all(
            181 <= (date.fromisoformat(e["lost_on"]) - date.fromisoformat(e["acquired_on"])).days + 1 <= 200
            and e["separation_code"] == "23"
            for e in spells
        )
        accounts = Counter(claims[c]["bank_account_key"] for c in ring["claim_ids"])
        assert max(accounts.values()) >= 2
    for workplace_id in truth["closures"]:
        assert workplaces[workplace_id]["closed_on"]
        laid_off = [c for c in claims.values() if c["workplace_id"] == workplace_id]
        assert len(laid_off) >= 20 and {c["separation_code"] for c in laid_off} == {"22"}
    codes = {(e["person_key"], e["workplace_id"]): e["separation_code"] for e in employments if e["separation_code"]}
    disagreeing = [
        p
        for p in truth["planted"]
        if "FALSE_SEPARATION" in p["typologies"]
        and claims[p["claim_id"]]["separation_code"] == "23"
        and codes.get((p["person_key"], p["workplace_id"])) == "11"
    ]
    assert disagreeing


def test_missing_in_and_stale_resends_are_delivered_as_planned(landing):
    out, truth = landing
    crossings = {x["crossing_id"]: x for x in _table(out, "crossings")}
    for case in truth["missing_in"]:
        assert crossings[case["out_crossing_id"]]["direction"] == "OUT"
        assert crossings[case["next_out_crossing_id"]]["direction"] == "OUT"
        assert case["quarantined_in_crossing_id"] not in crossings
        assert ("crossings", case["quarantined_in_crossing_id"]) in {(b["table"], b["key"]) for b in truth["bad_rows"]}
    assert truth["resent_older"]
    for resent in truth["resent_older"]:
        table = contract.TABLES[resent["table"]]
        latest = {r[table.primary_key]: r for r in _table(out, resent["table"])}
        assert resent["stale_updated_at"] < resent["current_updated_at"]
        assert latest[resent["key"]]["updated_at"] == resent["current_updated_at"]


def test_a_landing_without_delta_drops_puts_the_cp949_drop_in_the_baseline(tmp_path):
    truth = generate(tmp_path / "landing", persons=200, seed=1, baseline=BASELINE, days=0)
    assert truth["drop_dates"] == [BASELINE.isoformat()] == [truth["final_date"]]
    manifest = json.loads((tmp_path / "landing" / "ei" / BASELINE.isoformat() / "_MANIFEST.json").read_text())
    assert manifest["encoding"] == "cp949"
    assert {b["kind"] for b in truth["bad_rows"]} == set(BAD_KINDS)


def test_cash_work_leaves_no_trace_in_the_feeds_but_its_traits(landing):
    """Fraud no feed shows (plant_cash_work): no income statement, so the rules cannot
    see it; past cases carry an UNDECLARED_WORK finding, current ones none; every
    certification is remote and the claimant claimed before."""
    out, truth = landing
    cash = truth["unevidenced"]
    assert {e["past"] for e in cash} == {True, False}
    assert not {e["claim_id"] for e in cash} & {p["claim_id"] for p in truth["planted"]}
    claims = {c["claim_id"]: c for c in _table(out, "claims")}
    findings = {f["claim_id"]: f for f in _table(out, "findings")}
    certs = [c for c in _table(out, "certifications") if c["claim_id"] in {e["claim_id"] for e in cash}]
    income_persons = {r["person_key"] for r in _table(out, "income")}
    for entry in cash:
        claim = claims[entry["claim_id"]]
        others = [c for c in claims.values() if c["person_key"] == entry["person_key"] and c is not claim]
        assert others, entry  # a serial claimant (a found earlier cash claim is itself an entry)
        if entry["past"]:
            finding = findings[entry["claim_id"]]
            assert (
                finding["fraud_type"] == "UNDECLARED_WORK" and int(finding["overpaid_amount"]) == entry["overpayment"]
            )
        else:
            assert entry["claim_id"] not in findings and entry["finding_id"] is None
        own = [c for c in certs if c["claim_id"] == entry["claim_id"]]
        assert own and {c["channel"] for c in own} <= {"ONLINE", "MOBILE"}
        assert set(entry["cash_cert_ids"]) <= {c["cert_id"] for c in own}
        assert entry["overpayment"] > 0
    # the only income on record for them is the wages of their insured jobs
    paid = {r["person_key"]: r for r in _table(out, "income") if r["person_key"] in {e["person_key"] for e in cash}}
    assert all(r["income_type"] == "WAGE" for r in paid.values()) and income_persons


def test_no_claim_closes_before_its_last_certification(landing):
    """Plants that re-time certifications (cash work, certified in the morning and left
    at night) re-time the closing status too: an EXHAUSTED or TERMINATED version never
    predates a certification of the same claim made that day."""
    out, _ = landing
    closed = {
        c["claim_id"]: c["updated_at"] for c in _table(out, "claims") if c["status"] in ("EXHAUSTED", "TERMINATED")
    }
    same_day = [
        (c["claim_id"], c["updated_at"])
        for c in _table(out, "certifications")
        if c["claim_id"] in closed and c["updated_at"][:10] == closed[c["claim_id"]][:10]
    ]
    assert same_day  # the check has cases to look at
    late = [(claim_id, at, closed[claim_id]) for claim_id, at in same_day if at > closed[claim_id]]
    assert not late, late[:5]


def test_rows_are_built_by_column_name_from_the_contract():
    """A row is a dict by column name, written in the contract's order: a column the
    contract gains is written empty until the generator fills it, and a name the
    contract does not have is refused."""
    table = contract.table("moj", "crossings")
    row = dict(crossing_id="X1", person_key="p" * 64, crossed_at="2026-03-02T09:00:00+09:00", direction="OUT")
    values = row_values(table, row)
    columns = table.column_names
    assert values == [row.get(name, "") for name in columns]
    assert values[columns.index("country")] == ""  # not given: written empty
    with pytest.raises(ValueError, match="no such column"):
        row_values(table, {**row, "passport_no": "M1234567"})
