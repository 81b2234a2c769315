"""The safeguards stage on a queue the rules made: a control sample drawn the same on
every re-run, decisions recorded through the CLI turned into precision with its
interval, and a planted referral disparity flagged while a balanced dimension is not.

The world: 40 claimants, 20 at a workplace in region 11 with undeclared February work
(UW-01: queued), 20 at one in region 26 with none. In each region half certify online
and half by mobile, so the channel is balanced between queue and population.
"""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from click.testing import CliRunner
from conftest import conformed_frame as frame

from fraud import dispositions
from jobs import crossmatch, safeguards
from jobs.stage_io import CrossmatchInputs, Night, SafeguardsInputs

KST = dt.timezone(dt.timedelta(hours=9))
NIGHT_1, NIGHT_2 = dt.date(2026, 4, 30), dt.date(2026, 5, 1)
PLACES = {"11": "11111111111", "26": "22222222222"}


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), KST)


def claimant(n: int) -> dict:
    region = "11" if n < 20 else "26"
    return {"n": n, "person": f"{n + 1:064x}", "region": region, "channel": "ONLINE" if n % 2 else "MOBILE"}


CLAIMANTS = [claimant(n) for n in range(40)]


def tables() -> dict[str, list[dict]]:
    claims, certifications, statements = [], [], []
    for c in CLAIMANTS:
        claims.append(
            dict(
                claim_id=f"CL-{c['n']:02d}",
                person_key=c["person"],
                workplace_id=PLACES[c["region"]],
                separation_code="23",
                filed_on=dt.date(2026, 1, 2),
                eligible_from=dt.date(2026, 1, 5),
                benefit_days=180,
                daily_amount=60_000 + 100 * c["n"],
                bank_account_key=f"{c['n'] + 100:064x}",
                status="APPROVED",
                updated_at=at(dt.date(2026, 1, 2)),
            )
        )
        for cert, start, end, cert_on in (
            ("c1", dt.date(2026, 1, 5), dt.date(2026, 2, 1), dt.date(2026, 2, 2)),
            ("c2", dt.date(2026, 2, 2), dt.date(2026, 3, 1), dt.date(2026, 3, 2)),
        ):
            certifications.append(
                dict(
                    cert_id=f"{cert}-{c['n']:02d}",
                    claim_id=f"CL-{c['n']:02d}",
                    cert_on=cert_on,
                    period_from=start,
                    period_to=end,
                    channel=c["channel"],
                    ip_country="KR",
                    job_search_count=2,
                    declared_income=0,
                    paid_days=28,
                    paid_amount=1_680_000,
                    updated_at=at(cert_on),
                )
            )
        if c["region"] == "11":
            statements.append(
                dict(
                    record_id=f"feb-{c['n']:02d}",
                    person_key=c["person"],
                    payer_business_no="9999999999",
                    income_type="WAGE",
                    work_from=dt.date(2026, 2, 1),
                    work_to=dt.date(2026, 2, 28),
                    work_days=12,
                    amount=1_500_000,
                    filed_on=dt.date(2026, 3, 10),
                    updated_at=at(dt.date(2026, 3, 10)),
                )
            )
    workplaces = [
        dict(
            workplace_id=workplace_id,
            business_no=workplace_id[:10],
            name=f"(주)테스트{region}",
            representative_key=region * 32,
            address=f"지역 {region} 대로 {region}",
            phone=None,
            bank_account_key=None,
            industry_code="47",
            region_code=region,
            opened_on=dt.date(2010, 1, 1),
            closed_on=None,
            updated_at=at(dt.date(2020, 1, 1)),
        )
        for region, workplace_id in PLACES.items()
    ]
    return {
        "claims": claims,
        "certifications": certifications,
        "income": statements,
        "employments": [],
        "workplaces": workplaces,
        "crossings": [],
        "findings": [],
    }


def night(spark, warehouse, day: dt.date, control_sample: str = "6") -> dict:
    conformed = warehouse / "conformed" / day.isoformat()
    if not conformed.exists():
        for name, rows in tables().items():
            frame(spark, name, rows).write.parquet(str(conformed / name))
    crossmatch.run(spark, CrossmatchInputs(conformed), Night(day, warehouse))
    inputs = SafeguardsInputs(conformed, warehouse / "runs" / day.isoformat() / "crossmatch", control_sample)
    result = safeguards.run(spark, inputs, Night(day, warehouse)).as_json()
    # Published (its manifest written last), so that its cases can be decided on.
    (warehouse / "outputs" / day.isoformat() / "run_manifest.json").write_text(json.dumps({"ds": day.isoformat()}))
    return result


def rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def decide(warehouse, case_id: str, status: str, day: dt.date) -> None:
    from fraudctl.main import main

    result = CliRunner().invoke(
        main,
        [
            "disposition",
            case_id,
            "--status",
            status,
            "--note",
            "looked at the records",
            "--by",
            "kim",
            "--warehouse",
            str(warehouse),
            "--at",
            at(day).isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def world(spark, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("safeguards") / "warehouse"
    first = night(spark, warehouse, NIGHT_1)
    outputs = warehouse / "outputs" / NIGHT_1.isoformat()
    sample_bytes = (outputs / "control_sample.csv").read_bytes()
    again = night(spark, warehouse, NIGHT_1)
    queue = rows(outputs / "cases.csv")
    control = rows(outputs / "control_sample.csv")
    # The next day investigators decide 5 queued cases (4 confirmed) and 4 control
    # claims (1 confirmed); the night of that day applies them.
    for case, status in zip(queue, ["confirmed"] * 4 + ["cleared"]):
        decide(warehouse, case["case_id"], status, NIGHT_2)
    for claim, status in zip(control, ["confirmed", "cleared", "cleared", "cleared"]):
        decide(warehouse, claim["case_id"], status, NIGHT_2)
    second = night(spark, warehouse, NIGHT_2)
    return {
        "warehouse": warehouse,
        "first": first,
        "again": again,
        "second": second,
        "sample_bytes": sample_bytes,
        "queue": queue,
        "control": control,
    }


def test_the_control_sample_is_drawn_from_the_claims_the_queue_left_out_the_same_on_a_re_run(world):
    queue_claims = {case["claim_id"] for case in world["queue"]}
    control = world["control"]
    assert len(queue_claims) == 20 and all(claim.startswith("CL-") for claim in queue_claims)
    assert len(control) == 6 and not queue_claims & {row["claim_id"] for row in control}
    assert [row["draw_order"] for row in control] == ["1", "2", "3", "4", "5", "6"]
    # The draw key is sha256("<ds>:<claim_id>"): anyone can draw the sample again.
    import hashlib

    for row in control:
        assert row["draw_key"] == hashlib.sha256(f"{NIGHT_1}:{row['claim_id']}".encode()).hexdigest()
    assert [row["draw_key"] for row in control] == sorted(row["draw_key"] for row in control)
    outputs = world["warehouse"] / "outputs" / NIGHT_1.isoformat()
    assert (outputs / "control_sample.csv").read_bytes() == world["sample_bytes"]
    assert world["first"] == world["again"]
    # A decided control claim is no longer undecided: the next night draws others.
    second = rows(world["warehouse"] / "outputs" / NIGHT_2.isoformat() / "control_sample.csv")
    decided = {row["claim_id"] for row in control[:4]}
    assert len(second) == 6 and not decided & {row["claim_id"] for row in second}


def test_decisions_on_control_claims_are_recorded_as_control(world):
    entries = dispositions.read_log(world["warehouse"])
    samples = {entry.case_id: entry.sample for entry in entries}
    assert [samples[row["case_id"]] for row in world["control"][:4]] == ["control"] * 4
    assert [samples[case["case_id"]] for case in world["queue"][:5]] == ["queue"] * 5
    queued = next(e for e in entries if e.case_id == world["queue"][0]["case_id"])
    assert "UW-01" in queued.rule_hits.split(";")


def test_precision_and_the_miss_rate_come_with_their_wilson_intervals(world):
    before = {
        (r["kind"], r["subject"]): r for r in rows(world["warehouse"] / "outputs" / "2026-04-30" / "precision.csv")
    }
    assert before[("list", "queue")]["decided"] == "0" and before[("list", "queue")]["rate"] == ""
    after = {
        (r["kind"], r["subject"]): r for r in rows(world["warehouse"] / "outputs" / "2026-05-01" / "precision.csv")
    }
    queue = after[("list", "queue")]
    assert (queue["decided"], queue["confirmed"], queue["cleared"], queue["rate"]) == ("5", "4", "1", "0.8")
    # Wilson 95% for 4 of 5: 0.3755 to 0.9638.
    assert (queue["rate_low"], queue["rate_high"]) == ("0.3755", "0.9638")
    control = after[("list", "control")]
    assert (control["count"], control["decided"], control["confirmed"], control["rate"]) == ("6", "4", "1", "0.25")
    rule = after[("rule", "UW-01")]
    assert (rule["count"], rule["decided"], rule["confirmed"]) == ("19", "5", "4")  # the cleared case left the queue
    assert after[("typology", "UNDECLARED_WORK")]["confirmed"] == "4"
    assert world["second"]["precision"]["queue"]["rate"] == 0.8


def test_the_planted_referral_disparity_is_flagged_and_the_balanced_channel_is_not(world):
    fairness = {
        (r["dimension"], r["group"]): r for r in rows(world["warehouse"] / "outputs" / "2026-04-30" / "fairness.csv")
    }
    region_11, region_26 = fairness[("region", "11")], fairness[("region", "26")]
    assert (region_11["claims"], region_11["queued"], region_11["referral_ratio"]) == ("20", "20", "2")
    assert region_11["referral_flagged"] == "true" and region_26["referral_flagged"] == "true"
    for channel in ("ONLINE", "MOBILE"):
        assert fairness[("channel", channel)]["referral_ratio"] == "1"
        assert fairness[("channel", channel)]["referral_flagged"] == "false"
    assert {"region=11 (referral)", "region=26 (referral)"} <= set(world["first"]["fairness"]["flagged"])
    assert not any(flag.startswith("channel=") for flag in world["first"]["fairness"]["flagged"])


def test_the_stage_result_round_trips_and_names_its_files(world):
    from jobs.stage_io import SafeguardsResult

    result = world["second"]
    assert SafeguardsResult.from_json(json.loads(json.dumps(result))).as_json() == result
    assert sorted(p.rsplit("/", 1)[1] for p in result["files"]) == [
        "control_sample.csv",
        "fairness.csv",
        "precision.csv",
    ]
    # 40 claims less the 9 decided, with the 4 confirmed cases back: they stay queued.
    assert (result["population"], result["control_candidates"]) == (35, 35 - 19)


def backtest(world, day: dt.date, ruleset):
    from fraudctl.main import main

    arguments = ["rules", "backtest", "--warehouse", str(world["warehouse"]), "--ds", day.isoformat()]
    return CliRunner().invoke(main, [*arguments, "--ruleset", str(ruleset)])


def test_a_backtest_of_a_raised_threshold_shows_the_cases_it_would_remove_and_their_decisions(spark, world, tmp_path):

    proposed = tmp_path / "uw01.toml"
    proposed.write_text('[UW-01]\ncondition = "declared_income = 0 AND certain_worked_days >= 20"\n', encoding="utf-8")
    result = backtest(world, NIGHT_1, proposed)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"night {NIGHT_1}: rules r") and "->" in lines[0]
    assert lines[1] == "queue: 20 cases -> 0 (-20); 0 cases kept with different rule hits"
    assert "added: 0 cases, 0 confirmed and 0 cleared by investigators" in lines
    assert "removed: 20 cases, 4 confirmed and 1 cleared by investigators" in lines
    removed = [line for line in lines if line.startswith("  - ")]
    assert len(removed) == 20 and all("[UW-01]" in line for line in removed)
    assert sum(line.endswith(" confirmed") for line in removed) == 4
    # The warehouse is unchanged: the night's published queue still has its 20 cases.
    assert len(rows(world["warehouse"] / "outputs" / NIGHT_1.isoformat() / "cases.csv")) == 20
    # The command left the process's Spark session running for whoever else uses it.
    assert spark.range(3).count() == 3


def test_a_ruleset_file_that_breaks_the_rule_set_is_refused_in_one_line(world, tmp_path):

    for text, reason in (
        ("[UW-01]\nseverity = 1.5\n", "severity must lie in (0, 1)"),
        ('[UW-01]\ncolour = "red"\n', "no such rule field colour"),
        ("[UW-01\n", "uw.toml"),
    ):
        proposed = tmp_path / "uw.toml"
        proposed.write_text(text, encoding="utf-8")
        result = backtest(world, NIGHT_1, proposed)
        assert result.exit_code == 2 and reason in result.output and len(result.output.strip().splitlines()) == 1
    proposed.write_text("[UW-01]\nseverity = 0.5\n", encoding="utf-8")
    gone = backtest(world, dt.date(2026, 1, 1), proposed)
    assert gone.exit_code == 2 and "are no longer kept" in gone.output


def test_rules_stats_prints_the_nights_precision(world):
    from fraudctl.main import main

    result = CliRunner().invoke(main, ["rules", "stats", "--warehouse", str(world["warehouse"])])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"night {NIGHT_2}:")
    assert any(
        line.split()[:6] == ["list", "queue", "19", "5", "4", "1"] and "0.8 (0.3755-0.9638)" in line
        for line in result.output.splitlines()
    )
    listing = CliRunner().invoke(main, ["rules"])
    assert listing.exit_code == 0 and "UW-01" in listing.output
