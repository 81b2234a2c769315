"""A ring's analytics and picture (features/rings.py analyse_component) depend on the
component's rows, not on the order a shuffle delivers them in (a local run and a
cluster, a full and an incremental night, must draw the same SVG)."""

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from features.rings import BETWEENNESS_EXACT_NODES, BURST_DAYS, WORKPLACE, analyse_component, claim_burst


def _rows():
    w1, w2, w3 = f"{WORKPLACE}11111111111", f"{WORKPLACE}22222222222", f"{WORKPLACE}33333333333"
    links = [
        (w1, "A:acct1", "account"),
        (w2, "A:acct1", "account"),
        (w2, "T:0212345678", "phone"),
        (w3, "T:0212345678", "phone"),
        (w1, "R:rep1", "representative"),
        (w3, "R:rep1", "representative"),
    ]
    rows = [{"component": "c1", "src": s, "dst": d, "link": k, "day": None} for s, d, k in links]
    for i, (person, place) in enumerate([("P:aa", w1), ("P:aa", w2), ("P:bb", w2), ("P:bb", w3), ("P:cc", w3)]):
        rows.append(
            {
                "component": "c1",
                "src": person,
                "dst": place,
                "link": "employment",
                "day": dt.date(2025, 1, 1) + dt.timedelta(days=30 * i),
            }
        )
    return pd.DataFrame(rows)


def test_analytics_and_picture_do_not_depend_on_row_order():
    rows = _rows()
    first = analyse_component(rows)
    for seed in (1, 2, 3):
        shuffled = rows.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        again = analyse_component(shuffled)
        pd.testing.assert_frame_equal(first, again)
    assert "<svg" in str(first["picture"].iloc[0])


@given(st.lists(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2024, 12, 31)), max_size=40))
@settings(max_examples=200, deadline=None)
def test_the_claim_burst_counts_the_most_claims_within_burst_days_of_the_first(days):
    """One pass over sorted days gives what comparing every pair gives (the count a
    component of tens of thousands of claims could not afford)."""
    pairwise = max((sum(1 for b in days if 0 <= (b - a).days <= BURST_DAYS) for a in days), default=0)
    assert claim_burst(days) == pairwise


def test_a_large_component_takes_the_estimated_broker_and_stays_reproducible():
    """Past BETWEENNESS_EXACT_NODES, betweenness is estimated from a seeded sample: the
    same rows give the same broker."""
    rows = [
        {"component": "big", "src": f"{WORKPLACE}{n:011d}", "dst": f"A:hub{n % 40}", "link": "account", "day": None}
        for n in range(BETWEENNESS_EXACT_NODES + 100)
    ]
    rows += [
        {"component": "big", "src": f"A:hub{n}", "dst": f"A:hub{n + 1}", "link": "account", "day": None}
        for n in range(39)
    ]
    frame = pd.DataFrame(rows)
    first = analyse_component(frame)
    assert first["nodes"].iloc[0] > BETWEENNESS_EXACT_NODES and first["broker"].iloc[0].startswith("A:hub")
    pd.testing.assert_frame_equal(
        first, analyse_component(frame.sample(frac=1.0, random_state=3).reset_index(drop=True))
    )


def test_no_label_of_the_picture_runs_past_its_edges():
    import re

    picture = analyse_component(_rows())["picture"].iloc[0]
    size = float(re.search(r'width="(\d+)"', picture).group(1))
    labels = re.findall(r'<text x="([\d.]+)" y="[\d.]+"( text-anchor="end")?>([^<]*)</text>', picture)
    assert len(labels) == 9  # 3 workplaces, 3 persons, an account, a phone, a representative
    for x, end, text in labels:
        width = len(text) * 9 * 0.6  # font-size 9: a character is about 0.6 em wide
        left, right = (float(x) - width, float(x)) if end else (float(x), float(x) + width)
        assert 0 <= left and right <= size, (x, end, text)
