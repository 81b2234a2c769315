"""The benchmark's arithmetic and report (bench/pipeline_bench.py), on made-up timings."""

import math
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.pipeline_bench import STAGES, exponent, report


def test_stage_times_and_spark_jobs_are_read_from_the_pipelines_log_lines():
    from bench.pipeline_bench import JOBS_LINE, STAGE_LINE

    text = (
        "2026-12-04 16:07:51,787 INFO jobs.pipeline: stage ingest for 2026-03-07 done in 0.2s\n"
        "2026-12-04 16:08:39,334 INFO jobs.pipeline: stage validate for 2026-03-07 done in 39.9s (980 Spark jobs)\n"
    )
    assert {m.group(1): float(m.group(2)) for m in STAGE_LINE.finditer(text)} == {"ingest": 0.2, "validate": 39.9}
    assert {m.group(1): int(m.group(2)) for m in JOBS_LINE.finditer(text)} == {"validate": 980}


def test_exponent_is_the_slope_in_log_log():
    assert exponent(10_000, 10.0, 100_000, 100.0) == pytest.approx(1.0)
    assert exponent(10_000, 10.0, 100_000, 1000.0) == pytest.approx(2.0)
    assert exponent(1, 5.0, 4, 10.0) == pytest.approx(math.log(2) / math.log(4))
    assert exponent(10, 0.0, 100, 1.0) is None


# A process with a child in its own address space, as Java's child is between vfork
# and exec: clone(2) with CLONE_VM, the child running libc's sleep() on a stack of its
# own (it ends by itself even if nobody kills it). Prints the child's pid, then waits.
_PARENT_OF_A_CLONE = """
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
stack = ctypes.create_string_buffer(1 << 16)
top = ctypes.c_void_p(ctypes.addressof(stack) + len(stack) - 64)
child = libc.clone(ctypes.cast(libc.sleep, ctypes.c_void_p), top, 0x100 | 17, ctypes.c_void_p(60))
print(child, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="kcmp's number")
def test_a_child_in_its_parents_address_space_adds_nothing_to_the_peak():
    import psutil

    from bench.pipeline_bench import TreePeak, shares_memory

    parent = subprocess.Popen([sys.executable, "-c", _PARENT_OF_A_CLONE], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert child > 0
        measured = psutil.Process(parent.pid)
        # What the peak summed before: the child reads as a copy of its parent.
        assert psutil.Process(child).memory_info().rss > measured.memory_info().rss / 2
        assert shares_memory(child, parent.pid)
        with TreePeak(parent.pid, every=0.01) as peak:
            time.sleep(0.2)
        assert peak.exact
        assert 0 < peak.peak < 1.5 * measured.memory_info().rss
        assert set(peak.split) == {"driver"} and peak.split["driver"] == peak.peak
    finally:
        parent.kill()
        parent.wait()
    forked = os.fork()
    if forked == 0:
        time.sleep(5)
        os._exit(0)
    try:
        assert not shares_memory(forked, os.getpid())  # a fork has memory of its own
    finally:
        os.kill(forked, signal.SIGKILL)
        os.waitpid(forked, 0)


def _size(persons, seconds, delta=None):
    stages = {s: seconds / len(STAGES) for s in STAGES}
    result = {
        "persons": persons,
        "ds": "2026-03-07",
        "rows_in": persons * 10,
        "full": {
            "seconds": seconds,
            "peak_rss": 3 * 2**30,
            "stages": stages,
            "rows": {s: persons * 10 for s in STAGES},
            "spark_jobs": {"validate": persons // 100, "conform": 42},
        },
        "peer": {
            "load_seconds": 1.0,
            "undeclared_work_seconds": 0.5,
            "abroad_seconds": 0.5,
            "seconds": 2.0,
            "undeclared_work": ["C1"],
            "abroad": [],
        },
        "agreement": {
            "undeclared_work": {"pipeline": 1, "peer": 1, "both": 1},
            "abroad": {"pipeline": 0, "peer": 0, "both": 0},
        },
    }
    if delta:
        result["delta"] = {
            "seconds": delta,
            "peak_rss": 2**30,
            "stages": {s: delta / len(STAGES) for s in STAGES},
            "spark_jobs": {"validate": 7, "conform": 60},
            "conform": "incremental",
            "identical_outputs": True,
            "differing_files": [],
            "files_compared": 9,
            "claims": 4000,
            "collusion": {"mode": "incremental", "recomputed_claims": 600, "analysed_components": 7},
            "crossmatch": {"mode": "incremental", "recomputed_claims": 1200},
        }
    return result


def test_report_has_the_size_table_exponent_the_peer_and_delta_ratio():
    context = {
        "command": "make bench",
        "machine": "2 CPUs",
        "started": "s",
        "finished": "f",
        "load_start": 1.0,
        "load_end": 2.0,
    }
    old = _size(1_000, 7.0)
    del old["peer"]  # measured before the peer replaced the sqlite baseline
    text = report([old, _size(10_000, 70.0), _size(100_000, 700.0, delta=70.0)], context)
    assert "| 1,000 | not measured | | | | 7.0 |" in text
    assert "| 10,000 | 100,000 |" in text and "| 1.00 |" in text  # exponent of total time
    assert "| delta / full |" in text and "| 0.10 |" in text
    assert "| 2.0 | 70.0 | 35x | - | - |" in text  # full run 70 s / peer 2 s, no nightly run
    assert "| 2.0 | 700.0 | 350x | 70.0 | 35x |" in text  # nightly run 70 s / peer 2 s
    assert "Outputs identical to the full run: True (9 files" in text
    assert "3,072" in text  # peak RSS in MiB
    assert "| 100,000 | full | - | 1000 | 42 | - |" in text  # Spark jobs per stage
    assert "| 100,000 | nightly | - | 7 | 60 | - |" in text
    assert (
        "conform: incremental; collusion: incremental, 600 of 4,000 claims recomputed, 7 candidate "
        "components analysed again; "
        "crossmatch: incremental, 1,200 of 4,000 claims recomputed"
    ) in text
    assert "by process" not in text  # no run here recorded where its peak was


def test_a_stage_under_a_second_gets_no_rate_and_no_exponent():
    from bench.pipeline_bench import stage_rate

    assert stage_rate(5_000_000, 2.5) == 2_000_000
    assert stage_rate(5_000_000, 0.1) is None  # a logged "0.1 s" is mostly rounding
    assert stage_rate(None, 3.0) is None
    context = dict.fromkeys(("command", "machine", "started", "finished"), "x") | {"load_start": 1.0, "load_end": 1.0}
    small, large = _size(10_000, 90.0), _size(100_000, 900.0)
    small["full"]["stages"]["publish"], large["full"]["stages"]["publish"] = 0.0, 0.1
    small["full"]["stages"]["report"], large["full"]["stages"]["report"] = 2.0, 20.0
    text = report([small, large], context)

    def cells(line):
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    rates_table = text[text.index("Rows per second per stage") :]
    rates = cells(next(line for line in rates_table.splitlines() if line.startswith("| 100,000 |")))
    assert rates[1 + STAGES.index("publish")] == "-"  # not 10 million rows a second
    assert rates[1 + STAGES.index("report")] == "50,000"
    growth_table = text[text.index("## Growth with size") :]
    growth = cells(next(line for line in growth_table.splitlines() if line.startswith("| 10,000 | 100,000 |")))
    assert growth[2 + STAGES.index("publish")] == "-"
    assert growth[2 + STAGES.index("report")] == "1.00"


def test_report_says_where_each_full_runs_peak_was():
    context = dict.fromkeys(("command", "machine", "started", "finished"), "x") | {"load_start": 1.0, "load_end": 1.0}
    measured = _size(10_000, 70.0)
    measured["full"] |= {"peak_split": {"driver": 2**30, "jvm": 5 * 2**30, "python": 2**29}, "peak_at": 61.4}
    text = report([_size(1_000, 7.0), measured], context)
    assert "- 10,000 persons: Python driver 1,024, Spark's JVM 5,120, Python workers 512; 61 s into the run." in text
    assert "- 1,000 persons: not split; measured before" in text
    measured["full"]["peak_exact"] = False
    assert "into the run (kcmp not available: may count Spark's JVM twice)." in report([measured], context)


def test_a_delta_at_two_sizes_gets_a_ratio_row_each_and_the_command_that_reruns_both():
    from bench.pipeline_bench import bench_command

    results = [_size(10_000, 70.0), _size(100_000, 700.0, delta=140.0), _size(1_000_000, 7000.0, delta=700.0)]
    context = {
        "command": bench_command(results),
        "machine": "2 CPUs",
        "started": "s",
        "finished": "f",
        "load_start": 1.0,
        "load_end": 2.0,
    }
    text = report(results, context)
    assert context["command"] == 'make bench BENCH_SIZES="10000 100000 1000000" BENCH_NIGHTLY_AT="100000 1000000"'
    assert "## One-day delta vs full rebuild by size" in text
    assert "| 100,000 | 700.0 | 140.0 | 0.20 | 1,024 | 9 | yes |" in text
    assert "| 1,000,000 | 7000.0 | 700.0 | 0.10 |" in text
    results[2]["delta"]["differing_files"] = ["cases.csv"]
    assert "| 1,000,000 | 7000.0 | 700.0 | 0.10 | 1,024 | 9 | NO: cases.csv |" in report(results, context)
    assert "at 100,000 persons (run date" in text and "at 1,000,000 persons (run date" in text
    assert bench_command(results[:2]) == 'make bench BENCH_SIZES="10000 100000"'  # the default: the largest


def test_sizes_measured_apart_say_when_and_on_which_commit():
    results = [_size(10_000, 70.0), _size(100_000, 700.0)]
    results[0].update(
        commit="aaaa", started="2026-11-26 06:52", finished="2026-11-26 07:00", load_start=0.5, load_end=1.5
    )
    results[1].update(
        commit="bbbb", started="2026-11-26 09:00", finished="2026-11-26 10:00", load_start=0.1, load_end=2.0
    )
    context = {
        "command": "make bench",
        "machine": "2 CPUs",
        "started": "s",
        "finished": "f",
        "load_start": 1.0,
        "load_end": 2.0,
    }
    text = report(results, context)
    assert "| 10,000 | aaaa | 2026-11-26 06:52 | 2026-11-26 07:00 | 0.5, 1.5 |" in text
    assert "| 100,000 | bbbb | 2026-11-26 09:00 |" in text
    results[1].update(commit="aaaa", started="2026-11-26 06:52")
    assert "separate invocations" not in report(results, context)  # one run: no such table


def test_keep_other_sizes_merges_a_run_in_parts_and_without_it_a_run_stands_alone(tmp_path, monkeypatch):
    import json

    from bench import pipeline_bench

    first = _size(10_000, 70.0, delta=35.0)
    first.update(commit="aaaa", started="2026-11-26 06:52")
    (tmp_path / "results.json").write_text(
        json.dumps(
            {"results": [first], "context": {"command": "make bench", "started": "2026-11-26 06:52", "load_start": 0.5}}
        )
    )
    calls = []

    def fake_size(persons, work, seed, days, nightly, resume=False):
        calls.append((persons, nightly))
        return _size(persons, 700.0, delta=70.0 if nightly else None)

    monkeypatch.setattr(pipeline_bench, "bench_size", fake_size)
    out = tmp_path / "results.md"
    pipeline_bench.main(["--sizes", "100000", "--work", str(tmp_path), "--out", str(out), "--keep-other-sizes"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert calls == [(100_000, True)]
    assert [r["persons"] for r in saved["results"]] == [10_000, 100_000]
    assert saved["context"]["command"] == 'make bench BENCH_SIZES="10000 100000" BENCH_NIGHTLY_AT="10000 100000"'
    assert saved["context"]["started"] == "2026-11-26 06:52"
    assert "| 10,000 | 100,000 |" in out.read_text()  # the exponent spans both parts
    pipeline_bench.main(["--sizes", "100000", "--work", str(tmp_path), "--out", str(out), "--no-nightly"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [r["persons"] for r in saved["results"]] == [100_000] and calls[-1] == (100_000, False)
    assert saved["context"]["command"] == ".venv/bin/python bench/pipeline_bench.py --sizes 100000 --no-nightly"


def test_a_size_saves_each_phase_and_resume_runs_only_what_is_missing(tmp_path, monkeypatch):
    import json

    from bench import pipeline_bench

    landing = tmp_path / "p1000" / "landing" / "_truth"
    landing.mkdir(parents=True)
    (landing / "truth.json").write_text(json.dumps({"final_date": "2026-03-07"}))
    ran = []

    def fake_fraudctl(*args, env=None, log):
        ran.append("full")
        return {"seconds": 10.0, "peak_rss": 2**30, "stages": {"ingest": 1.0}}

    def dying_peer(landing_, ds):
        ran.append("peer")
        raise MemoryError("killed")

    monkeypatch.setattr(pipeline_bench, "fraudctl", fake_fraudctl)
    monkeypatch.setattr(pipeline_bench, "stage_rows", lambda warehouse, ds: {"ingest": 5})
    monkeypatch.setattr(
        pipeline_bench,
        "_json",
        lambda path: (
            json.loads(Path(path).read_text()) if not str(path).endswith("publish.json") else {"totals": {"rows_in": 5}}
        ),
    )
    monkeypatch.setattr(pipeline_bench, "cross_match", dying_peer)
    monkeypatch.setattr(pipeline_bench, "pipeline_claims", lambda outputs: {"undeclared_work": set(), "abroad": set()})
    with pytest.raises(MemoryError):
        pipeline_bench.bench_size(1000, tmp_path, 7, 5, nightly=False)
    saved = json.loads((tmp_path / "p1000" / "result.json").read_text())
    assert saved["full"]["seconds"] == 10.0 and "peer" not in saved  # the full run is not lost

    monkeypatch.setattr(
        pipeline_bench,
        "cross_match",
        lambda landing_, ds: {
            "undeclared_work": [],
            "abroad": [],
            "seconds": 2.0,
            "load_seconds": 1.0,
            "undeclared_work_seconds": 0.5,
            "abroad_seconds": 0.5,
        },
    )
    result = pipeline_bench.bench_size(1000, tmp_path, 7, 5, nightly=False, resume=True)
    assert ran == ["full", "peer"] and result["full"]["seconds"] == 10.0 and result["peer"]["seconds"] == 2.0
    pipeline_bench.bench_size(1000, tmp_path, 7, 5, nightly=False)  # without resume: measured again
    assert ran == ["full", "peer", "full"]


def test_report_sets_the_issues_targets_beside_what_was_measured():
    context = {
        "command": "make bench",
        "machine": "2 CPUs",
        "started": "s",
        "finished": "f",
        "load_start": 1,
        "load_end": 2,
    }
    text = report([_size(20_000, 70.0, delta=14.0), _size(100_000, 700.0)], context)
    assert "| nightly run at 20,000 persons | at most 20 s | 14.0 s | yes |" in text
    assert "| nightly / full at 20,000 persons | at most 0.3 | 0.20 | yes |" in text
    assert "| nightly run at 1,000,000 persons | at most 90 s | not measured | - |" in text
    assert "| full run at 1,000,000 persons | at most 15 min | not measured | - |" in text
    # 1,000,000 rows read in 700 / 9 s (the stages share the time equally here).
    assert (
        "| ingest at the largest size measured (100,000 persons) | at least 1,000,000 rows/s | 12,857 rows/s | no |"
        in text
    )


def test_a_new_report_carries_over_the_measurements_kept_by_hand(tmp_path):
    """The guides link to hand-kept sections of bench/results.md; a run rewrites the
    generated part and keeps them."""
    from bench.pipeline_bench import KEPT_BY_HAND, write_report

    out = tmp_path / "results.md"
    write_report(out, "# Pipeline benchmark\n\nold figures\n")
    assert out.read_text() == "# Pipeline benchmark\n\nold figures\n"
    kept = f"{KEPT_BY_HAND}\n\n### The Airflow stack\n\n48 s\n"
    out.write_text(out.read_text() + "\n" + kept)
    write_report(out, "# Pipeline benchmark\n\nnew figures\n")
    assert out.read_text() == "# Pipeline benchmark\n\nnew figures\n\n" + kept


def test_outputs_compare_byte_for_byte_and_the_manifest_without_its_data_docs_paths(tmp_path):
    import json

    from bench.pipeline_bench import compare_outputs
    from fraud.layout import MANIFEST_NAME

    def night(name: str, docs: str, cases: str) -> Path:
        outputs = tmp_path / name
        outputs.mkdir()
        expectations = {"success": True, "results": f"runs/{docs}/gx.json", "docs": f"runs/{docs}/index.html"}
        manifest = {"drops": [{"tables": {"claims": {"expectations": expectations}}}]}
        (outputs / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
        (outputs / "cases.csv").write_text(cases, encoding="utf-8")
        return outputs

    full = night("full", "2026-03-07", "case_id\nK1\n")
    assert compare_outputs(full, night("nightly", "2026-03-06", "case_id\nK1\n")) == {
        "identical_outputs": True,
        "differing_files": [],
        "files_compared": 2,
    }
    other = compare_outputs(full, night("other", "2026-03-06", "case_id\nK2\n"))
    assert other["identical_outputs"] is False and other["differing_files"] == ["cases.csv"]
