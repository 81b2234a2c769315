"""Writes are transactions, even under SIGKILL; files are owner+group only whatever
the umask; no CSV cell the system writes runs in a spreadsheet."""

import csv
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fraud.storage import atomic_dir, ensure_dir, recover, spreadsheet_safe, unescape_cell, write_csv, write_json

REPO = Path(__file__).resolve().parents[2]

# A real writer in its own process, slow enough to be killed half-way: `write_csv`
# of ROWS deterministic rows, or `atomic_dir` with FILES files.
WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from fraud.storage import atomic_dir, write_csv
    kind, final, rows = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    slow = len(sys.argv) > 4
    def lines():
        for n in range(rows):
            if slow and n % 2000 == 0:
                time.sleep(0.05)
            yield [f"K{n:07d}", n * 7 % 1000, "=HYPERLINK(\\"x\\")" if n % 3 == 0 else "plain"]
    if kind == "csv":
        write_csv(final, ["case_id", "score", "reasons"], lines())
    else:
        with atomic_dir(final) as staging:
            for n in range(rows):
                (staging / f"part-{n:05d}").write_text(f"new {n}\\n")
                if slow:
                    time.sleep(0.01)
""")


def _writer(tmp_path, kind, final, rows, slow):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    args = [sys.executable, str(script), kind, str(final), str(rows)] + (["slow"] if slow else [])
    return subprocess.Popen(args, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


def _kill_when(process, ready, timeout=120):
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the writer finished before it could be killed"
        assert time.monotonic() < deadline, "the writer never got half-way"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def test_csv_killed_mid_write_leaves_the_old_file_and_a_retry_equals_an_uninterrupted_write(tmp_path):
    final = tmp_path / "outputs" / "cases.csv"
    write_csv(final, ["case_id", "score", "reasons"], [["OLD", 1, "old version"]])
    old = final.read_bytes()
    rows = 60_000

    def half_written():
        return any(p.stat().st_size > 200_000 for p in final.parent.glob(".cases.csv.staging-*"))

    _kill_when(_writer(tmp_path, "csv", final, rows, slow=True), half_written)
    assert final.read_bytes() == old  # the old version, whole

    assert _writer(tmp_path, "csv", final, rows, slow=False).wait() == 0  # the retry
    uninterrupted = tmp_path / "uninterrupted" / "cases.csv"
    assert _writer(tmp_path, "csv", uninterrupted, rows, slow=False).wait() == 0
    assert final.read_bytes() == uninterrupted.read_bytes()
    assert final.read_bytes().count(b"\n") == rows + 1


def test_directory_killed_mid_write_keeps_the_old_version_whole(tmp_path):
    final = tmp_path / "conformed" / "2026-03-02"
    with atomic_dir(final) as staging:
        for n in range(3):
            (staging / f"part-{n:05d}").write_text(f"old {n}\n")

    def half_written():
        return any(len(list(p.iterdir())) >= 20 for p in final.parent.glob(".2026-03-02.staging-*"))

    _kill_when(_writer(tmp_path, "dir", final, 400, slow=True), half_written)
    assert sorted(p.read_text() for p in final.iterdir()) == ["old 0\n", "old 1\n", "old 2\n"]

    assert _writer(tmp_path, "dir", final, 40, slow=False).wait() == 0
    assert sorted(p.name for p in final.iterdir()) == [f"part-{n:05d}" for n in range(40)]


def test_a_swap_killed_between_its_two_renames_is_undone_by_the_next_write(tmp_path):
    final = tmp_path / "outputs" / "2026-03-02"
    with atomic_dir(final) as staging:
        (staging / "cases.csv").write_text("old\n")
    # The state a kill between `os.replace(final, previous)` and `os.replace(staging,
    # final)` leaves: no final, the old version aside.
    os.replace(final, final.with_name(".2026-03-02.previous-0123456789ab"))
    assert recover(final) is True
    assert (final / "cases.csv").read_text() == "old\n"
    assert recover(final) is False


def test_two_dates_written_at_once_use_their_own_staging_paths(tmp_path):
    first, second = tmp_path / "outputs" / "2026-03-02", tmp_path / "outputs" / "2026-03-03"
    with atomic_dir(first) as staging_a, atomic_dir(second) as staging_b:
        assert staging_a != staging_b
        (staging_a / "cases.csv").write_text("night a\n")
        (staging_b / "cases.csv").write_text("night b\n")
    with atomic_dir(first) as again:  # a second attempt of the same date: its own path too
        assert again != staging_a
        (again / "cases.csv").write_text("night a, retried\n")
    assert (first / "cases.csv").read_text() == "night a, retried\n"
    assert (second / "cases.csv").read_text() == "night b\n"


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tfoo", "\rbar", "'quoted"]
)
def test_cells_a_spreadsheet_would_evaluate_are_escaped_and_recoverable(cell):
    escaped = spreadsheet_safe(cell)
    assert escaped == "'" + cell
    assert unescape_cell(escaped) == cell


@pytest.mark.parametrize("value", ["plain", "서울특별시", "", -5, 0.25, None])
def test_plain_text_and_numbers_pass_unchanged(value):
    assert spreadsheet_safe(value) == value


def test_write_csv_escapes_formulas_but_not_numbers(tmp_path):
    path = tmp_path / "cases.csv"
    write_csv(path, ["case_id", "score", "reasons"], [["=cmd|' /C calc'!A0", -1, "@risk"]])
    with open(path, newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle))[1] == ["'=cmd|' /C calc'!A0", "-1", "'@risk"]


def test_files_and_directories_are_owner_and_group_only_under_umask_000(tmp_path):
    previous = os.umask(0)
    try:
        nested = ensure_dir(tmp_path / "a" / "b" / "c")
        write_csv(nested / "x.csv", ["h"], [["v"]])
        write_json(tmp_path / "a" / "d" / "x.json", {"k": 1})
        with atomic_dir(tmp_path / "a" / "e") as staging:
            (staging / "sub").mkdir()
            (staging / "sub" / "part").write_text("p")
    finally:
        os.umask(previous)
    for path in (tmp_path / "a").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o750 if path.is_dir() else 0o640), f"{path}: {oct(mode)}"
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o750


def test_the_sweep_removes_what_killed_writes_left_once_it_is_old(tmp_path):
    import time

    from fraud.storage import ABANDONED_AFTER_SECONDS, sweep_abandoned

    table = tmp_path / "validated" / "ei" / "claims"
    table.mkdir(parents=True)
    (table / "part-0.parquet").write_bytes(b"kept")
    killed_file = table / ".cases.csv.staging-0123456789ab"
    killed_file.write_text("half")
    killed_dir = tmp_path / "validated" / "ei" / ".claims.staging-89abcdef"
    killed_dir.mkdir()
    (killed_dir / "part-0.parquet").write_bytes(b"half")
    scratch = tmp_path / "tmp" / "checked-ei-claims-12345678"
    scratch.mkdir(parents=True)
    # an old version moved aside before the swap was killed: the destination is missing
    waiting = tmp_path / "outputs" / ".2026-03-04.previous-abcd"
    waiting.mkdir(parents=True)
    (waiting / "cases.csv").write_text("old")
    young = table / ".rings.csv.staging-fedcba987654"
    young.write_text("now")
    # an old version left aside after its swap completed: the destination is in place
    done = tmp_path / "outputs" / "2026-03-03"
    done.mkdir()
    left_aside = tmp_path / "outputs" / ".2026-03-03.previous-ef01"
    left_aside.mkdir()
    named_like_scratch = tmp_path / "outputs" / "checked-report"  # not under tmp/: not scratch

    later = time.time() + ABANDONED_AFTER_SECONDS + 60  # age counts from the last rename (ctime)
    swept = sweep_abandoned(tmp_path, now=later)

    assert sorted(swept) == sorted([killed_file, killed_dir, scratch, left_aside, young])
    assert not killed_file.exists() and not killed_dir.exists() and not scratch.exists() and not left_aside.exists()
    assert (waiting / "cases.csv").read_text() == "old"  # its destination is missing: left for recover()
    assert (table / "part-0.parquet").read_bytes() == b"kept" and done.exists()
    named_like_scratch.mkdir()
    assert sweep_abandoned(tmp_path, now=later) == [] and named_like_scratch.exists()
    assert sweep_abandoned(tmp_path / "outputs") == []  # nothing is a day old yet


def test_the_sweep_leaves_young_paths_alone(tmp_path):
    from fraud.storage import sweep_abandoned

    staging = tmp_path / "outputs" / ".cases.csv.staging-0123456789ab"
    staging.parent.mkdir()
    staging.write_text("a write going on")
    assert sweep_abandoned(tmp_path) == [] and staging.exists()
