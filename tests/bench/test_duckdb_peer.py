"""The DuckDB peer (bench/duckdb_peer.py) finds undeclared work and abroad
certifications on a tiny hand-made landing, with the latest version of each record, in
either of the contract's encodings."""

from datetime import date

from conftest import P1, P2, claim_row, crossing_row, csv_text, workplace_row, write_drop

from bench.duckdb_peer import cross_match


def _cert(cert_id, claim_id, declared="0", period=("2026-02-08", "2026-02-21"), cert_on="2026-02-22", **extra):
    row = {
        "cert_id": cert_id,
        "claim_id": claim_id,
        "cert_on": cert_on,
        "period_from": period[0],
        "period_to": period[1],
        "channel": "ONLINE",
        "ip_country": "KR",
        "job_search_count": "2",
        "declared_income": declared,
        "paid_days": "14",
        "paid_amount": "896000",
        "updated_at": "2026-02-22T10:00:00+09:00",
    }
    row.update(extra)
    return row


def _income(record_id, person, work_from, work_to, work_days, filed_on="2026-02-28"):
    return {
        "record_id": record_id,
        "person_key": person,
        "payer_business_no": "1234567890",
        "income_type": "DAILY_WAGE",
        "work_from": work_from,
        "work_to": work_to,
        "work_days": work_days,
        "amount": "500000",
        "filed_on": filed_on,
        "updated_at": f"{filed_on}T09:00:00+09:00",
    }


def test_the_peer_finds_both_cross_matches_and_respects_versions_and_run_date(tmp_path):
    landing = tmp_path / "landing"
    write_drop(
        landing,
        "ei",
        "2026-03-02",
        {
            "claims": csv_text([claim_row("C1"), claim_row("C2", person=P2), claim_row("C3", person=P2)]),
            "certifications": csv_text(
                [
                    _cert("K1", "C1"),
                    _cert("K2", "C2", cert_on="2026-02-25"),
                    _cert("K3", "C3", declared="300000", cert_on="2026-02-26"),
                ]
            ),
        },
    )
    write_drop(
        landing,
        "nts",
        "2026-03-02",
        {
            "income": csv_text(
                [
                    _income("I1", P1, "2026-02-01", "2026-02-28", "28"),  # ~14 days inside C1's period
                    _income("I2", P2, "2026-02-01", "2026-02-28", "28", filed_on="2026-03-10"),  # filed after ds
                ]
            )
        },
    )
    write_drop(
        landing,
        "moj",
        "2026-03-02",
        {
            "crossings": csv_text(
                [
                    crossing_row("X1", person=P2, crossed_at="2026-02-24T23:30:00+09:00", direction="OUT"),
                    crossing_row("X2", person=P2, crossed_at="2026-02-27T10:00:00+09:00", direction="IN"),
                ]
            )
        },
    )
    found = cross_match(landing, date(2026, 3, 2))
    assert found["undeclared_work"] == ["C1"]
    assert found["abroad"] == ["C2", "C3"]  # C3 declared income but certified while abroad too

    # A later drop re-sends K1 declaring income: no longer undeclared work as of 03-03,
    # still as of 03-02.
    write_drop(
        landing,
        "ei",
        "2026-03-03",
        {"certifications": csv_text([_cert("K1", "C1", declared="400000", updated_at="2026-03-03T10:00:00+09:00")])},
    )
    assert cross_match(landing, date(2026, 3, 3))["undeclared_work"] == []
    assert cross_match(landing, date(2026, 3, 2))["undeclared_work"] == ["C1"]


def test_a_cp949_drop_with_a_quoted_newline_reads_like_a_utf8_one(tmp_path):
    results = []
    for encoding, bom in (("utf-8", True), ("cp949", False)):
        landing = tmp_path / encoding
        claims = [claim_row("C1"), claim_row("C2", person=P2), claim_row("C3", person=P2)]
        write_drop(
            landing,
            "ei",
            "2026-03-02",
            {
                "claims": csv_text(claims),
                "certifications": csv_text(
                    [
                        _cert("K1", "C1"),
                        _cert("K2", "C2", cert_on="2026-02-25"),
                        _cert("K3", "C3", cert_on="2026-02-26"),
                    ]
                ),
                "workplaces": csv_text([workplace_row(name='주식회사 "한빛"\n물류')]),
            },
            encoding=encoding,
            bom=bom,
        )
        write_drop(
            landing,
            "nts",
            "2026-03-02",
            {"income": csv_text([_income("I1", P1, "2026-02-01", "2026-02-28", "28")])},
            encoding=encoding,
        )
        write_drop(
            landing,
            "moj",
            "2026-03-02",
            {"crossings": csv_text([crossing_row("X1", person=P2, crossed_at="2026-02-25T16:00:00Z")])},
            encoding=encoding,
        )
        found = cross_match(landing, date(2026, 3, 2))
        results.append((found["undeclared_work"], found["abroad"], found["rows_loaded"]))
    # 2026-02-25T16:00Z is 02-26 01:00 in Korea: K3 was certified abroad, K2 (02-25) not.
    assert results[0] == results[1] == (["C1"], ["C3"], 9)
