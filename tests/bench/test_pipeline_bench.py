"""The benchmark's arithmetic and report (bench/pipeline_bench.py), on made-up timings."""

import math

import pytest

from bench.pipeline_bench import STAGES, exponent, report


def test_exponent_is_the_slope_in_log_log():
    assert exponent(10_000, 10.0, 100_000, 100.0) == pytest.approx(1.0)
    assert exponent(10_000, 10.0, 100_000, 1000.0) == pytest.approx(2.0)
    assert exponent(1, 5.0, 4, 10.0) == pytest.approx(math.log(2) / math.log(4))
    assert exponent(10, 0.0, 100, 1.0) is None


def _size(persons, seconds, delta=None):
    stages = {s: seconds / len(STAGES) for s in STAGES}
    result = {"persons": persons, "ds": "2026-03-07", "rows_in": persons * 10,
              "full": {"seconds": seconds, "peak_rss": 3 * 2**30, "stages": stages,
                       "rows": {s: persons * 10 for s in STAGES}},
              "baseline": {"load_seconds": 1.0, "undeclared_work_seconds": 0.5, "abroad_seconds": 0.5,
                           "seconds": 2.0, "undeclared_work": ["C1"], "abroad": []},
              "agreement": {"undeclared_work": {"pipeline": 1, "baseline": 1, "both": 1},
                            "abroad": {"pipeline": 0, "baseline": 0, "both": 0}}}
    if delta:
        result["delta"] = {"seconds": delta, "peak_rss": 2**30, "stages": {s: delta / len(STAGES) for s in STAGES},
                           "conform": "incremental", "identical_outputs": True, "differing_files": [],
                           "files_compared": 9, "claims": 4000,
                           "collusion": {"mode": "incremental", "recomputed_claims": 600, "analysed_components": 7},
                           "crossmatch": {"mode": "incremental", "recomputed_claims": 1200}}
    return result


def test_report_has_the_size_table_exponent_baseline_and_delta_ratio():
    context = {"command": "make bench", "machine": "2 CPUs", "started": "s", "finished": "f",
               "load_start": 1.0, "load_end": 2.0}
    text = report([_size(10_000, 70.0), _size(100_000, 700.0, delta=70.0)], context)
    assert "| 10,000 | 100,000 |" in text and "| 1.00 |" in text  # exponent of total time
    assert "| delta / full |" in text and "| 0.10 |" in text
    assert "35.0x" in text  # pipeline 70 s / baseline 2 s
    assert "Outputs identical to the full run: True (9 files" in text
    assert "3,072" in text  # peak RSS in MiB
    assert ("conform: incremental; collusion: incremental, 600 of 4,000 claims recomputed, 7 candidate "
            "components analysed again; "
            "crossmatch: incremental, 1,200 of 4,000 claims recomputed") in text
