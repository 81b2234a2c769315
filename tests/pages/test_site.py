"""The report's pages (pages/site.py) from a hand-made night: what they say, what they
escape and hide, and that the same night gives the same bytes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from report_sample import ACCOUNT, EVIL_NAME, PERSON_A, PERSON_B, REPRESENTATIVE, sample_input


@pytest.fixture(scope="module")
def pages():
    from pages.site import build

    return build(sample_input())


def test_every_page_of_the_night_is_built(pages):
    assert set(pages) == {
        "index.html",
        "quality.html",
        "model.html",
        "safeguards.html",
        "cases/CASE0001.html",
        "cases/CASE0002.html",
        "rings/R-ring1.html",
        "workplaces/11111111111.html",
    }


def test_a_workplace_named_script_is_shown_as_text(pages):
    for name in ("cases/CASE0001.html", "workplaces/11111111111.html", "rings/R-ring1.html"):
        assert "<script>alert" not in pages[name]
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;(주)악성" in pages[name], name
    assert EVIL_NAME not in "".join(pages.values())


def test_person_and_account_keys_are_never_shown_whole(pages):
    import base64

    site = "".join(pages.values())
    for key in (PERSON_A, PERSON_B, ACCOUNT, REPRESENTATIVE):
        assert key not in site
        assert f"{key[:8]}…" in site
    # not inside the ring picture either (an SVG carried as a data: URI)
    picture = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', pages["rings/R-ring1.html"]).group(1)
    assert PERSON_A not in base64.b64decode(picture).decode()
    assert not re.search(r"[0-9a-f]{64}", site)


def test_same_night_same_bytes():
    from pages.site import build

    assert build(sample_input()) == build(sample_input())


def test_pages_come_one_at_a_time_so_the_report_need_not_hold_the_site(pages):
    import inspect

    from pages.site import render_pages

    rendered = render_pages(sample_input())
    assert inspect.isgenerator(rendered)
    first = next(rendered)  # a case page, before any other page is rendered
    assert first == ("cases/CASE0001.html", pages["cases/CASE0001.html"])
    assert dict([first, *rendered]) == pages


def test_index_shows_changes_since_yesterday(pages):
    index = pages["index.html"]
    assert "Compared with the queue of 2026-03-06" in index
    assert '<span class="new">1 new</span>' in index  # CASE0001
    assert '<span class="escalated">1 escalated</span>' in index  # CASE0002: rank 3 -> 2
    assert "CASE0009" in index and "cleared by lee on 2026-03-06" in index


def test_index_totals_by_typology_and_region(pages):
    index = pages["index.html"]
    by_typology = re.search(r'<table id="by-typology">.*?</table>', index, re.S).group(0)
    assert re.search(
        r"ABROAD_CERTIFICATION</span></td><td class=\"num\">1</td><td class=\"num\">3,360,000", by_typology
    )
    by_region = re.search(r'<table id="by-region">.*?</table>', index, re.S).group(0)
    assert '<td>11</td><td class="num">1</td>' in by_region and "<td>26</td>" in by_region


def test_overpayment_step_by_step_from_the_first_tainted_certification():
    from pages.site import overpayment_steps

    certifications = [
        {"cert_id": f"c{i}", "period_from": f"2026-0{i}-01", "period_to": f"2026-0{i}-28", "paid_amount": 1_000_000 * i}
        for i in (1, 2, 3)
    ]
    steps, amount = overpayment_steps(certifications, {"c2"}, ["UW-01"])
    assert amount == 5_000_000  # c2 + c3
    assert "2,000,000 + 3,000,000 = 5,000,000 KRW" in steps[1]
    steps, amount = overpayment_steps(certifications, {"c3"}, ["UW-01", "FS-01"])
    assert amount == 6_000_000  # the claim was never valid: all paid
    assert "the larger wins: 6,000,000 KRW" in steps[-1]


def test_additional_collection_uses_the_collusion_multiplier_for_ring_cases(pages):
    from pages.site import build

    assert "up to 5× (collusion with the employer (공모형)) = <b>16,800,000 KRW</b>" in pages["cases/CASE0001.html"]
    assert "up to 2× (no collusion on record) = <b>6,720,000 KRW</b>" in pages["cases/CASE0002.html"]
    lower = build(sample_input(collusion_multiplier=3.0))["cases/CASE0001.html"]
    assert "up to 3× (collusion with the employer (공모형)) = <b>10,080,000 KRW</b>" in lower


def test_case_page_has_records_timeline_history_and_earlier_findings(pages):
    case = pages["cases/CASE0002.html"]
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="timeline"' in case
    assert 'class="bar abroad"' in case and 'class="bar tainted"' in case
    assert "x-1" in case and "2026-01-30T09:00:00+09:00" in case  # the crossings behind AB-01
    assert "f-old" in case  # an earlier finding of the person
    assert "called the claimant" in case and "in_review" in case
    assert '<tr class="tainted">' in case


def test_rules_only_night_says_so_on_the_model_page(pages):
    assert "ran on the rules alone" in pages["model.html"]


def test_quality_page_lists_drops_and_quarantine_reasons(pages):
    quality = pages["quality.html"]
    assert "10 rows delivered, 8 valid, 2 quarantined" in quality
    assert "<td>person_key</td><td>format</td><td>2</td>" in quality
    assert "<td>met</td><td>46</td>" in quality
    # A drop unlike its table's history says so, with the reason.
    assert "<td>drift</td><td>1</td><td>0 rows; history 55 to 70 rows over 28 deltas</td>" in quality


def test_ring_page_lists_members_shared_attributes_and_claims(pages):
    ring = pages["rings/R-ring1.html"]
    assert "2 workplaces, 2 persons, 2 claims" in ring
    shared = re.search(r'<table id="shared">.*?</table>', ring, re.S).group(0)
    assert "representative" in shared and "phone" in shared and "11111111111, 33333333333" in shared
    assert "CL-Q" in ring


def test_an_address_shared_in_composed_and_decomposed_hangul_is_shown_as_shared():
    import unicodedata

    from pages.site import _shared_attributes

    address = "서울특별시 중구 세종대로 110"
    members = [
        {"workplace_id": "11111111111", "address": address},
        {"workplace_id": "22222222222", "address": unicodedata.normalize("NFD", address)},
    ]
    assert _shared_attributes(members) == [
        {"attribute": "address", "value": address, "workplaces": "11111111111, 22222222222"}
    ]


def test_addresses_and_phones_the_graph_links_are_shown_as_shared_whatever_their_spelling():
    """The ring's picture links workplaces by the graph's address and phone keys: the
    shared-attributes table groups by the same keys (another floor, the city's long
    name, a full-width digit or +82 are one place and one line)."""
    from pages.site import _shared_attributes

    members = [
        {"workplace_id": "11111111111", "address": "서울특별시 중구 세종대로 110, 4층", "phone": "02-123-4567"},
        {"workplace_id": "22222222222", "address": "서울 중구 세종대로１１０ (태평로1가)", "phone": "+82 2 123 4567"},
        {"workplace_id": "33333333333", "address": "서울 중구 세종대로 111", "phone": "1588-0000"},
    ]
    assert _shared_attributes(members) == [
        {"attribute": "address", "value": members[0]["address"], "workplaces": "11111111111, 22222222222"},
        {"attribute": "phone", "value": "02-123-4567", "workplaces": "11111111111, 22222222222"},
    ]


@pytest.mark.parametrize("case_id", ["../escape", "CASE-1\n"])
def test_a_case_id_that_cannot_name_a_file_is_refused(case_id):
    from pages.site import build

    sample = sample_input()
    sample.cases[0]["case_id"] = case_id
    with pytest.raises(ValueError, match="cannot name a page"):
        build(sample)


def test_a_lead_shows_its_standard_its_estimate_and_what_would_settle_it():
    from pages.site import build

    lead = {
        "case_id": "CASE0003",
        "claim_id": "CL-C",
        "person_key": PERSON_B,
        "workplace_id": "44444444444",
        "score": "0.1500",
        "rank": "3",
        "fraud_types": "UNDECLARED_WORK",
        "rule_hits": "UW-04",
        "reasons": "estimated: period 2026-01-05..2026-02-01: ~3 days inside it if the work of payer 1 was spread "
        "evenly, but all of it can lie outside the period — to settle: ask the payer for the days worked",
        "estimated_overpayment": "0",
        "ring_id": "",
        "evidence_standard": "estimated",
        "overpayment_if_confirmed": "4860000",
    }
    sample = sample_input()
    sample.cases.append(lead)
    page = build(sample)["cases/CASE0003.html"]
    assert "Evidence standard: <b>estimated</b>" in page
    assert "Estimated overpayment, on proven evidence: <b>0 KRW</b>" in page
    assert "If the estimates are confirmed: 4,860,000 KRW. An estimate, not proven" in page
    assert "UW-04: ask the payer for the days worked" in page
    # Its workplace was quarantined or never delivered: the page says so, and the rest stands.
    assert "no record of this workplace as of 2026-03-07: quarantined or never delivered" in page
    proven = build(sample)["cases/CASE0001.html"]
    assert "If the estimates are confirmed" not in proven and "What would settle it" not in proven
    assert "no record of this workplace" not in proven


def test_a_ring_member_with_no_record_is_listed_as_missing():
    """A ring's workplace whose record was quarantined or never delivered: the page
    lists it with what is known (its id) and says the record is missing."""
    from pages.site import build

    sample = sample_input()
    sample.rings[0]["workplace_ids"] = "11111111111;33333333333;55555555555"
    page = build(sample)["rings/R-ring1.html"]
    assert "55555555555" in page and "no record as of the run date: quarantined or never delivered" in page


def test_a_night_on_the_last_day_of_the_calendar_is_still_drawn():
    # fraudctl refuses a run date after today; the pages must not overflow all the same.
    from report_sample import PERSON_A

    from pages.site import build

    ds = dt.date(9999, 12, 31)
    sample = sample_input(ds=ds)
    sample.records["employments"].append(
        {
            "employment_id": "e-open",
            "person_key": PERSON_A,
            "workplace_id": "11111111111",
            "acquired_on": dt.date(2026, 1, 5),
            "lost_on": None,
            "separation_code": None,
            "monthly_wage": 2_100_000,
        }
    )
    sample.records["crossings"].append(
        {
            "crossing_id": "x-open",
            "person_key": PERSON_A,
            "crossed_at": dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.timezone.utc),
            "direction": "OUT",
            "port_code": "ICN",
            "country": "VN",
        }
    )
    pages = build(sample)
    assert f"Queue {ds.isoformat()}" in pages["index.html"]
    assert "<svg" in pages["cases/CASE0001.html"]


def test_no_page_holds_a_control_character():
    # A NUL or an escape sequence in delivered text is shown as \\xNN, never sent to the browser.
    import re

    from pages.site import build

    sample = sample_input()
    for workplace in sample.records["workplaces"]:
        workplace["name"] = "(주)널\x00문자\x1b[2J"
    pages = build(sample)
    for path, page in pages.items():
        assert re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", page) is None, path
    assert "(주)널\\x00문자\\x1b[2J" in pages["workplaces/11111111111.html"]


def test_income_around_the_claim_comes_first_and_years_of_other_statements_fold():
    from pages.site import build

    sample = sample_input()
    old = dict(
        sample.records["income"][0], record_id="r-old", work_from=dt.date(2021, 3, 1), work_to=dt.date(2021, 3, 31)
    )
    sample.records["income"].append(old)
    page = build(sample)["cases/CASE0001.html"]
    shown = re.search(r'<table id="income">.*?</table>', page, re.S).group(0)
    folded = re.search(r'<details id="income-other">.*?</details>', page, re.S).group(0)
    assert "r-1" in shown and "r-old" not in shown
    assert "r-old" in folded and "1 more statements" in folded
    assert "income-other" not in build(sample_input())["cases/CASE0001.html"]  # nothing to fold


def test_the_safeguards_page_shows_the_estimates_the_control_sample_and_the_flags():
    from fraud.dispositions import Disposition
    from pages.site import build

    rate = dict(count="3", decided="0", confirmed="0", cleared="0", rate="", rate_low="", rate_high="")
    control = [
        dict(
            draw_order="1",
            case_id="Cabc",
            claim_id="CL-9",
            person_key=PERSON_B,
            workplace_id="22222222222",
            filed_on="2026-01-02",
            draw_key="0" * 64,
        ),
    ]
    precision = [
        dict(
            rate,
            kind="list",
            subject="queue",
            decided="5",
            confirmed="4",
            cleared="1",
            rate="0.8",
            rate_low="0.3755",
            rate_high="0.9638",
        ),
        dict(
            rate,
            kind="list",
            subject="control",
            decided="4",
            confirmed="1",
            cleared="3",
            rate="0.25",
            rate_low="0.0456",
            rate_high="0.6994",
        ),
        dict(
            rate,
            kind="rule",
            subject="UW-01",
            decided="5",
            confirmed="4",
            cleared="1",
            rate="0.8",
            rate_low="0.3755",
            rate_high="0.9638",
        ),
    ]
    fairness_row = dict(
        claims="20",
        queued="20",
        claim_share="0.5",
        queue_share="1",
        referral_p="1.8e-06",
        decided="0",
        confirmed="0",
        confirmed_rate="",
        outcome_ratio="",
        outcome_p="",
        outcome_flagged="false",
    )
    fairness = [
        dict(fairness_row, dimension="region", group="11", referral_ratio="2", referral_flagged="true"),
        dict(
            fairness_row,
            dimension="channel",
            group="ONLINE",
            referral_ratio="1",
            referral_p="1",
            referral_flagged="false",
        ),
    ]
    decided = Disposition("Cabc", "CL-9", "cleared", "", "kim", "2026-03-20T10:00:00+09:00", sample="control")
    manifest = dict(sample_input().manifest, safeguards={"control_candidates": 1000})
    pages = build(
        sample_input(
            control_sample=control,
            precision=precision,
            fairness=fairness,
            not_used={"region_code": "where someone works is no evidence"},
            manifest=manifest,
            dispositions=[decided],
        )
    )
    page = pages["safeguards.html"]
    assert "0.3755–0.9638" in page and "0.0456–0.6994" in page
    # 4.56% to 69.94% of the 1,000 claims left out
    assert "about 46 to 699 of the 1,000 undecided claims the queue left out" in page
    assert "Flagged tonight: region=11 (referral)." in page
    assert f"{PERSON_B[:8]}…" in page and PERSON_B not in page and "0" * 64 not in page
    assert "<td>Cabc</td>" in page and "<td>cleared</td>" in page
    assert "region_code" in page and 'href="safeguards.html"' in pages["index.html"]


def test_the_safeguards_page_says_there_are_no_decisions_yet(pages):
    assert "No decisions yet" in pages["safeguards.html"]
    assert "Nothing flagged tonight." in pages["safeguards.html"]
