"""A ring's analytics and picture (features/rings.py analyse_component) depend on the
component's rows, not on the order a shuffle delivers them in (a local run and a
cluster, a full and an incremental night, must draw the same SVG)."""

import datetime as dt

import pandas as pd

from features.rings import WORKPLACE, analyse_component


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
