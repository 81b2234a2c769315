"""Benchmark of the nightly pipeline at several sizes (not a test; `make bench`).

For each size (persons): `fraudctl synth` a landing (baseline + daily deltas), then a
full run (`fraudctl run`, FRAUD_FULL_REBUILD=1, fresh warehouse: everything from the
raw CSV) for the landing's final date, timed per stage (the pipeline's own "stage X
done in Ns" log lines), with the peak RSS of the whole process tree (the Python
driver plus Spark's JVM and Python workers: psutil sums the RSS of the process and
all its descendants every 0.25 s, a child in its parent's address space not again; the
peak of those sums is reported). Then the peer:
the two cross-matches in DuckDB SQL (bench/duckdb_peer.py) on the same files, and the
ratio of the full and the nightly run to it.

At the largest size (or at each size `--nightly-at` names), also the nightly case: a
warehouse that ran the day before the final date, then the final date as a nightly
run (new drops only; built on the day before's tables once they hold
FRAUD_INCREMENTAL_MIN_ROWS rows, computed in full below that), compared file by file
with the full run's outputs.

Writes a Markdown report (bench/results.md by default) and prints it, and the figures
to WORK/results.json. Every size records the commit it was measured on. A long run can
be taken in parts: `--keep-other-sizes` keeps the sizes of WORK/results.json that this
invocation does not run, and the report then says when and on which commit each size
was measured.

    make bench BENCH_SIZES="10000 100000 300000"
    make bench BENCH_SIZES="10000 100000 300000 1000000" BENCH_NIGHTLY_AT="300000 1000000"
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.duckdb_peer import cross_match  # noqa: E402
from fraud.layout import MANIFEST_NAME  # noqa: E402

STAGE_LINE = re.compile(r"stage (\w+) for \S+ done in ([0-9.]+)s")
JOBS_LINE = re.compile(r"stage (\w+) for \S+ done in [0-9.]+s \((\d+) Spark jobs\)")
STAGES = ("ingest", "validate", "conform", "collusion", "select_model", "crossmatch", "safeguards", "publish", "report")


# The pipeline logs a stage's time to a tenth of a second; under a second a rate or a
# growth exponent over it is mostly that rounding (publish's "0.1 s" gave 355 million
# rows a second), so the report shows "-" for it.
MIN_RATED_SECONDS = 1.0


def stage_rate(rows: int | None, seconds: float | None) -> float | None:
    """Rows a second of a stage, or None when it took under MIN_RATED_SECONDS."""
    if rows is None or seconds is None or seconds < MIN_RATED_SECONDS:
        return None
    return rows / seconds


def exponent(n1: float, t1: float, n2: float, t2: float) -> float | None:
    """How time grows with size: t ~ n^k, k = log(t2/t1) / log(n2/n1)."""
    if min(n1, n2, t1, t2) <= 0 or n1 == n2:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


# kcmp(2)'s number on the two machines Spark's JVM runs on here, and its KCMP_VM.
_SYS_KCMP = {"x86_64": 312, "aarch64": 272}.get(platform.machine())
_KCMP_VM = 1


def shares_memory(pid: int, other: int) -> bool:
    """Whether processes `pid` and `other` run in one address space (Linux's kcmp).

    A child between vfork and exec does: Java starts every process with posix_spawn,
    which glibc does with a vfork-like clone (Hadoop runs `chmod` in one for each file
    and directory Spark writes, hundreds a night), and until it execs the child reads
    as a copy of the JVM's whole RSS while it holds no memory of its own. False where
    kcmp is not there or not allowed (TreePeak.exact then says so)."""
    if _SYS_KCMP is None:
        return False
    return _libc().syscall(_SYS_KCMP, pid, other, _KCMP_VM, 0, 0) == 0


@functools.cache
def _libc():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


class TreePeak:
    """Peak summed RSS of a process and its descendants, sampled in a thread. A child
    that shares its parent's address space (`shares_memory`) adds nothing: counted, a
    sample that caught one added a second JVM to a run's peak (docs/decisions.md).
    `exact` is False where kcmp cannot tell (such children are then counted)."""

    def __init__(self, pid: int, every: float = 0.25):
        self.root = psutil.Process(pid)
        self.every = every
        self.exact = shares_memory(os.getpid(), os.getpid())
        self.peak = 0
        self.split: dict[str, int] = {}  # the peak sample's RSS by kind of process (`kind`)
        self.peak_at = 0.0  # seconds after sampling started
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def kind(self, proc: psutil.Process) -> str:
        """`driver` (the process measured), `jvm` (Spark's), `python` (Spark's Python
        workers and any other Python child) or `other`."""
        if proc.pid == self.root.pid:
            return "driver"
        program = Path((proc.cmdline() or [proc.name()])[0]).name
        if program == "java":
            return "jvm"
        return "python" if program.startswith("python") else "other"

    def _sample(self):
        started = time.monotonic()
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            split: dict[str, int] = {}
            for proc in procs:
                try:
                    if proc.pid != self.root.pid and shares_memory(proc.pid, proc.ppid()):
                        continue
                    kind = self.kind(proc)
                    split[kind] = split.get(kind, 0) + proc.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            total = sum(split.values())
            if total > self.peak:
                self.peak, self.split, self.peak_at = total, split, time.monotonic() - started
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def fraudctl(*args: str, env: dict | None = None, log: Path) -> dict:
    """Run `fraudctl args...`; returns wall seconds, peak tree RSS and stage times."""
    command = [str(Path(sys.executable).with_name("fraudctl")), *args]
    started = time.perf_counter()
    with open(log, "w") as handle:
        process = subprocess.Popen(
            command,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "FRAUD_DROP_WAIT_TIMEOUT": "0", **(env or {})},
        )
        with TreePeak(process.pid) as peak:
            code = process.wait()
    seconds = time.perf_counter() - started
    text = log.read_text(errors="replace")
    if code != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({code}); last lines of {log}:\n" + "\n".join(text.splitlines()[-15:])
        )
    stages = {m.group(1): float(m.group(2)) for m in STAGE_LINE.finditer(text)}
    jobs = {m.group(1): int(m.group(2)) for m in JOBS_LINE.finditer(text)}
    return {
        "seconds": seconds,
        "peak_rss": peak.peak,
        "peak_split": peak.split,
        "peak_at": peak.peak_at,
        "peak_exact": peak.exact,
        "stages": stages,
        "spark_jobs": jobs,
    }


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def stage_rows(warehouse: Path, ds: str) -> dict[str, int]:
    """Rows each stage handled: ingest/validate the rows of the drops read now,
    the later stages the conformed rows of the run date."""
    runs = warehouse / "runs" / ds
    landed_now = set(_json(runs / "ingest.json")["landed_now"])
    read_now = 0
    for state in (warehouse / "state" / "drops").glob("*/*.json"):
        payload = _json(state)
        if f"{payload['source']}/{payload['drop_date']}" in landed_now:
            read_now += sum(t["rows_in"] for t in payload["tables"].values())
    conformed = sum(_json(runs / "conform.json")["rows"].values())
    return {stage: read_now if stage in ("ingest", "validate") else conformed for stage in STAGES}


def output_files(outputs: Path) -> dict[str, bytes]:
    return {p.relative_to(outputs).as_posix(): p.read_bytes() for p in sorted(outputs.rglob("*")) if p.is_file()}


def pipeline_claims(outputs: Path) -> dict[str, set[str]]:
    import pyarrow.parquet as pq

    evidence = pq.read_table(outputs / "evidence.parquet", columns=["claim_id", "rule_id"]).to_pylist()
    return {
        "undeclared_work": {r["claim_id"] for r in evidence if r["rule_id"] == "UW-01"},
        "abroad": {r["claim_id"] for r in evidence if r["rule_id"] == "AB-01"},
    }


PARTIAL = "result.json"  # WORK/p<PERSONS>/: a size's figures so far, saved after each phase


def bench_size(persons: int, work: Path, seed: int, days: int, nightly: bool, resume: bool = False) -> dict:
    """One size: synth (unless its landing exists), the full run, the DuckDB peer and,
    with `nightly`, the one-day delta. Each phase's figures are saved to
    WORK/p<PERSONS>/result.json as it ends, so a phase that dies (the sqlite baseline
    the peer replaced was OOM-killed at a million persons) loses no other; with
    `resume`, phases found there are not run again."""
    base = work / f"p{persons}"
    landing = base / "landing"
    if not (landing / "_truth" / "truth.json").exists():
        shutil.rmtree(landing, ignore_errors=True)
        started = time.perf_counter()
        fraudctl(
            "--log-level",
            "WARNING",
            "synth",
            "--out",
            str(landing),
            "--persons",
            str(persons),
            "--seed",
            str(seed),
            "--days",
            str(days),
            log=_log(base, "synth"),
        )
        print(f"[{persons}] synth {time.perf_counter() - started:.0f}s", flush=True)
    ds = _json(landing / "_truth" / "truth.json")["final_date"]
    partial = base / PARTIAL
    result = _json(partial) if resume and partial.exists() else {}
    if result.get("ds") != ds:
        result = {}
    result.update(persons=persons, ds=ds)
    result.setdefault("commit", _commit())
    result.setdefault("started", _now())
    result.setdefault("load_start", os.getloadavg()[0])
    save = lambda: partial.write_text(json.dumps(result, indent=1))  # noqa: E731

    full_wh = base / "warehouse-full"
    if "full" not in result:
        shutil.rmtree(full_wh, ignore_errors=True)
        result["full"] = fraudctl(
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(full_wh),
            "--ds",
            ds,
            env={"FRAUD_FULL_REBUILD": "1"},
            log=_log(base, "full"),
        )
        result["full"]["rows"] = stage_rows(full_wh, ds)
        result["rows_in"] = _json(full_wh / "runs" / ds / "publish.json")["totals"]["rows_in"]
        save()
        print(f"[{persons}] full run {result['full']['seconds']:.0f}s", flush=True)

    if "peer" not in result:
        result["peer"] = cross_match(landing, dt.date.fromisoformat(ds))
        found = pipeline_claims(full_wh / "outputs" / ds)
        result["agreement"] = {
            kind: {
                "pipeline": len(found[kind]),
                "peer": len(result["peer"][kind]),
                "both": len(found[kind] & set(result["peer"][kind])),
            }
            for kind in ("undeclared_work", "abroad")
        }
        save()
        print(f"[{persons}] duckdb peer {result['peer']['seconds']:.1f}s {result['agreement']}", flush=True)

    if nightly and "delta" not in result:
        result["delta"] = nightly_run(base, landing, ds, full_wh)
    result["finished"], result["load_end"] = _now(), os.getloadavg()[0]
    save()
    return result


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def _commit() -> str:
    """The checkout's commit (with `.dirty` for uncommitted pipeline edits): what the
    figures of a size were measured on."""
    from fraud.version import code_version

    return code_version().split("+g")[-1]


def nightly_run(base: Path, landing: Path, ds: str, full_wh: Path) -> dict:
    """The day before `ds` on a fresh warehouse, then `ds` as a nightly run (new
    drops only); its outputs compared with the full run's in `full_wh`."""
    night_wh = base / "warehouse-nightly"
    shutil.rmtree(night_wh, ignore_errors=True)
    before = (dt.date.fromisoformat(ds) - dt.timedelta(days=1)).isoformat()
    history = fraudctl(
        "run", "--landing", str(landing), "--warehouse", str(night_wh), "--ds", before, log=_log(base, "history")
    )
    delta = fraudctl(
        "run", "--landing", str(landing), "--warehouse", str(night_wh), "--ds", ds, log=_log(base, "delta")
    )
    delta["history_seconds"] = history["seconds"]
    # The day before is computed in full too (a fresh warehouse): its peak is a full
    # run's at almost the same size.
    delta["history_peak_rss"] = history["peak_rss"]
    delta["rows"] = stage_rows(night_wh, ds)
    delta["conform"] = _json(night_wh / "runs" / ds / "conform.json")["mode"]
    for stage in ("collusion", "crossmatch"):
        done = _json(night_wh / "runs" / ds / f"{stage}.json")
        delta[stage] = {
            "mode": done.get("mode"),
            "recomputed_claims": done.get("recomputed_claims"),
            "analysed_components": done.get("analysed_components"),
        }
    delta["claims"] = _json(night_wh / "runs" / ds / "conform.json")["rows"]["claims"]
    while not (full_wh / "outputs" / ds / MANIFEST_NAME).exists():  # the full run may still be going
        time.sleep(10)
    delta.update(compare_outputs(full_wh / "outputs" / ds, night_wh / "outputs" / ds))
    print(f"[{base.name}] one-day delta {delta['seconds']:.0f}s identical={delta['identical_outputs']}", flush=True)
    return delta


def _manifest_without_docs_paths(data: bytes) -> dict:
    """A run manifest without where each drop's GX results live: a drop validated by an
    earlier night has its data docs under that night's runs/ directory."""
    manifest = json.loads(data)
    for drop in manifest["drops"]:
        for table in drop["tables"].values():
            if table.get("expectations"):
                table["expectations"] = {k: v for k, v in table["expectations"].items() if k not in ("results", "docs")}
    return manifest


# Files that differ between a nightly run and a full rebuild by design, and why.
EXPECTED_DIFFERENCES = {
    "report/index.html": "the index compares the queue with the warehouse's previous night "
    "(new / escalated / resolved): the nightly warehouse ran the day before, "
    "the fresh full-rebuild warehouse ran nothing before",
}


def compare_outputs(full: Path, nightly: Path) -> dict:
    """Every output file byte for byte; the manifest as JSON without data docs paths."""
    full_files, night_files = output_files(full), output_files(nightly)
    differing = []
    for name in sorted(set(full_files) | set(night_files)):
        a, b = full_files.get(name), night_files.get(name)
        if name == MANIFEST_NAME and a and b:
            if _manifest_without_docs_paths(a) != _manifest_without_docs_paths(b):
                differing.append(name)
        elif a != b:
            differing.append(name)
    return {"identical_outputs": not differing, "differing_files": differing, "files_compared": len(full_files)}


def _log(base: Path, name: str) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    return base / f"{name}.log"


def _peak_splits(results: list[dict]) -> list[str]:
    """Where each full run's peak was: its sample's RSS by kind of process. A size
    measured before the split was kept, or where kcmp could not tell a child in its
    parent's address space, says its peak may count the JVM twice."""
    if not any(r["full"].get("peak_split") for r in results):
        return []
    lines = ["", "The peak sample of each full run, by process (MiB):", ""]
    for r in results:
        full = r["full"]
        if not full.get("peak_split"):
            lines.append(
                f"- {r['persons']:,} persons: not split; measured before the bench counted a child in "
                "its parent's address space once, so its peak may count Spark's JVM twice."
            )
            continue
        parts = ", ".join(
            f"{name} {_mib(full['peak_split'][kind])}"
            for kind, name in (
                ("driver", "Python driver"),
                ("jvm", "Spark's JVM"),
                ("python", "Python workers"),
                ("other", "other"),
            )
            if kind in full["peak_split"]
        )
        inexact = "" if full.get("peak_exact", True) else " (kcmp not available: may count Spark's JVM twice)"
        lines.append(f"- {r['persons']:,} persons: {parts}; {full['peak_at']:.0f} s into the run{inexact}.")
    return lines


def _mib(value: int | None) -> str:
    return "not recorded" if value is None else f"{value / 2**20:,.0f}"


def _stage_modes(delta: dict) -> str:
    """How the nightly run's graph and cross-matching stages ran, as text."""
    parts = []
    for stage in ("collusion", "crossmatch"):
        done = delta.get(stage)
        if not done:
            continue
        text = f"{stage}: {done['mode']}"
        if done.get("recomputed_claims") is not None:
            text += f", {done['recomputed_claims']:,} of {delta['claims']:,} claims recomputed"
        if done.get("analysed_components") is not None:
            text += f", {done['analysed_components']:,} candidate components analysed again"
        parts.append(text)
    return "".join(f"; {part}" for part in parts)


def bench_command(results: list[dict]) -> str:
    """The one command that measures every size in `results` (and the deltas they hold)."""
    sizes = [r["persons"] for r in results]
    nightly = [r["persons"] for r in results if "delta" in r]
    if not nightly:
        return ".venv/bin/python bench/pipeline_bench.py --sizes " + " ".join(map(str, sizes)) + " --no-nightly"
    command = 'make bench BENCH_SIZES="' + " ".join(map(str, sizes)) + '"'
    if nightly != sizes[-1:]:
        command += ' BENCH_NIGHTLY_AT="' + " ".join(map(str, nightly)) + '"'
    return command


def _provenance(results: list[dict]) -> list[str]:
    """When the sizes were measured by separate invocations (`--keep-other-sizes`):
    when and on which commit each was, so every figure can be traced."""
    runs = {(r.get("commit"), r.get("started")) for r in results}
    if len(runs) < 2:
        return []
    lines = [
        "Sizes measured by separate invocations of the same command (`--keep-other-sizes`):",
        "",
        "| persons | commit | started UTC | finished UTC | load (1 min) at start, at end |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        load = f"{r['load_start']:.1f}, {r['load_end']:.1f}" if "load_end" in r else "-"
        lines.append(
            f"| {r['persons']:,} | {r.get('commit') or 'not recorded'} | {r.get('started') or '-'} | "
            f"{r.get('finished') or '-'} | {load} |"
        )
    return lines + [""]


def report(results: list[dict], context: dict) -> str:
    lines = [
        "# Pipeline benchmark",
        "",
        f"Command: `{context['command']}`  ",
        f"Machine: {context['machine']}  ",
        f"Started {context['started']} UTC, finished {context['finished']} UTC; load average "
        f"(1 min) at start {context['load_start']:.1f}, at end {context['load_end']:.1f} "
        "(the machine is shared: other jobs ran at the same time, so times are upper bounds).",
        "",
        "Times are wall seconds of each stage as the pipeline logs it (`stage X for D done in Ns`); "
        "`total` is the whole `fraudctl run` process including Spark start-up. Peak RSS is the "
        "summed resident memory of the `fraudctl` process and all its descendants (Spark's JVM, "
        "Python workers), sampled every 0.25 s with psutil; a child that shares its parent's address "
        "space (Java's child between vfork and exec) is not counted again. Full run = "
        "FRAUD_FULL_REBUILD=1 on a fresh warehouse, everything from the raw CSV.",
        "",
        *_provenance(results),
        *targets(results),
        "## Full run per size",
        "",
        "| persons | rows in | " + " | ".join(STAGES) + " | total s | peak RSS MiB | rows/s (total) |",
        "|" + "---|" * (len(STAGES) + 5),
    ]
    for r in results:
        full = r["full"]
        lines.append(
            f"| {r['persons']:,} | {r['rows_in']:,} | "
            + " | ".join(f"{full['stages'].get(s, 0):.1f}" for s in STAGES)
            + f" | {full['seconds']:.1f} | {_mib(full['peak_rss'])} | {r['rows_in'] / full['seconds']:,.0f} |"
        )
    lines += _peak_splits(results)
    lines += [
        "",
        "Rows per second per stage (ingest/validate: rows read; later stages: conformed rows; "
        "`-` for a stage under a second, whose logged time is mostly rounding):",
        "",
        "| persons | " + " | ".join(STAGES) + " |",
        "|" + "---|" * (len(STAGES) + 1),
    ]
    for r in results:
        full = r["full"]
        lines.append(
            f"| {r['persons']:,} | "
            + " | ".join(
                "-" if rate is None else f"{rate:,.0f}"
                for rate in (stage_rate(full["rows"].get(s), full["stages"].get(s)) for s in STAGES)
            )
            + " |"
        )
    counted = [r for r in results if r["full"].get("spark_jobs")]
    if counted:
        lines += [
            "",
            "Spark jobs each stage started (its own job group; full run, then the nightly run where there is one):",
            "",
            "| persons | run | " + " | ".join(STAGES) + " |",
            "|" + "---|" * (len(STAGES) + 2),
        ]
        for r in counted:
            for run, figures in (("full", r["full"]), ("nightly", r.get("delta"))):
                if figures and figures.get("spark_jobs"):
                    jobs = figures["spark_jobs"]
                    lines.append(
                        f"| {r['persons']:,} | {run} | " + " | ".join(str(jobs.get(s, "-")) for s in STAGES) + " |"
                    )
    if len(results) > 1:
        lines += [
            "",
            "## Growth with size (exponent k in t ~ n^k, k = log(t2/t1)/log(n2/n1))",
            "",
            "| from | to | " + " | ".join(STAGES) + " | total |",
            "|" + "---|" * (len(STAGES) + 3),
        ]
        for a, b in zip(results, results[1:]):
            ks = [
                exponent(a["rows_in"], a["full"]["stages"].get(s, 0), b["rows_in"], b["full"]["stages"].get(s, 0))
                if min(a["full"]["stages"].get(s, 0), b["full"]["stages"].get(s, 0)) >= MIN_RATED_SECONDS
                else None
                for s in STAGES
            ]
            kt = exponent(a["rows_in"], a["full"]["seconds"], b["rows_in"], b["full"]["seconds"])
            lines.append(
                f"| {a['persons']:,} | {b['persons']:,} | "
                + " | ".join("-" if k is None else f"{k:.2f}" for k in ks)
                + f" | {kt:.2f} |"
            )
        a, b = results[-2], results[-1]
        kt = exponent(a["rows_in"], a["full"]["seconds"], b["rows_in"], b["full"]["seconds"])
        if b["persons"] < 1_000_000:
            scale = 1_000_000 / b["persons"]
            lines += [
                "",
                f"Projected full run at 1,000,000 persons from the last exponent ({kt:.2f}): "
                f"{b['full']['seconds'] * scale**kt / 60:,.0f} min (rows scale with persons).",
            ]
    lines += [
        "",
        "## The peer: the two cross-matches in DuckDB SQL, same CSV files, same run",
        "",
        "| persons | read s | undeclared work s | abroad s | peer total s | full run s | full / peer | "
        "nightly run s | nightly / peer |",
        "|" + "---|" * 9,
    ]
    for r in results:
        b, full = r.get("peer"), r["full"]
        if b is None:  # measured before the peer replaced the sqlite baseline
            lines.append(f"| {r['persons']:,} | not measured | | | | {full['seconds']:.1f} | | | |")
            continue
        nightly = r.get("delta", {}).get("seconds")
        lines.append(
            f"| {r['persons']:,} | {b['load_seconds']:.1f} | {b['undeclared_work_seconds']:.2f} | "
            f"{b['abroad_seconds']:.2f} | {b['seconds']:.1f} | {full['seconds']:.1f} | "
            f"{full['seconds'] / b['seconds']:.0f}x | "
            + ("- | - |" if nightly is None else f"{nightly:.1f} | {nightly / b['seconds']:.0f}x |")
        )
    lines += [
        "",
        "Claims found (undecided claims; pipeline = claims with a UW-01 / AB-01 hit in evidence.parquet):",
        "",
        "| persons | kind | pipeline | peer | both |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        for kind, a in r["agreement"].items():
            lines.append(f"| {r['persons']:,} | {kind} | {a['pipeline']} | {a.get('peer', '-')} | {a['both']} |")
    nightly = [r for r in results if "delta" in r]
    if len(nightly) > 1:
        lines += [
            "",
            "## One-day delta vs full rebuild by size",
            "",
            "| persons | full s | delta s | delta / full | delta peak RSS MiB | files compared | "
            "byte-identical but the files that differ by design |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in nightly:
            d, full = r["delta"], r["full"]
            unexplained = [name for name in d["differing_files"] if name not in EXPECTED_DIFFERENCES]
            lines.append(
                f"| {r['persons']:,} | {full['seconds']:.1f} | {d['seconds']:.1f} | "
                f"{d['seconds'] / full['seconds']:.2f} | {_mib(d['peak_rss'])} | {d['files_compared']:,} | "
                + ("yes" if not unexplained else "NO: " + ", ".join(unexplained))
                + " |"
            )
    for r in nightly:
        d, full = r["delta"], r["full"]
        lines += [
            "",
            f"## One-day delta vs full rebuild at {r['persons']:,} persons (run date {r['ds']})",
            "",
            "The same warehouse ran the day before, then the run date as a nightly run "
            f"(conform: {d['conform']}{_stage_modes(d)}); compared with the full run above.",
            "",
            "| | " + " | ".join(STAGES) + " | total s | peak RSS MiB |",
            "|" + "---|" * (len(STAGES) + 3),
            "| full | "
            + " | ".join(f"{full['stages'].get(s, 0):.1f}" for s in STAGES)
            + f" | {full['seconds']:.1f} | {_mib(full['peak_rss'])} |",
            "| delta | "
            + " | ".join(f"{d['stages'].get(s, 0):.1f}" for s in STAGES)
            + f" | {d['seconds']:.1f} | {_mib(d['peak_rss'])} |",
            "| delta / full | "
            + " | ".join(
                f"{d['stages'].get(s, 0) / full['stages'][s]:.2f}" if full["stages"].get(s) else "-" for s in STAGES
            )
            + f" | {d['seconds'] / full['seconds']:.2f} | |",
            "",
            f"Outputs identical to the full run: {d['identical_outputs']} "
            f"({d['files_compared']} files compared byte for byte"
            + (f"; differing: {', '.join(d['differing_files'])}" if d["differing_files"] else "")
            + ").",
        ]
        unexplained = [name for name in d["differing_files"] if name not in EXPECTED_DIFFERENCES]
        if d.get("history_peak_rss") is not None:
            lines.append(
                f"- The day before, computed in full on the fresh warehouse: {d['history_seconds']:.1f} s, "
                f"peak RSS {_mib(d['history_peak_rss'])} MiB."
            )
        lines += [
            f"- `{name}` differs by design: {EXPECTED_DIFFERENCES[name]}."
            for name in d["differing_files"]
            if name in EXPECTED_DIFFERENCES
        ]
        if d["differing_files"]:
            verdict = "yes" if not unexplained else "NO: " + ", ".join(unexplained)
            lines.append(f"- Every other file is byte-identical: {verdict}.")
    return "\n".join(lines) + "\n"


def targets(results: list[dict]) -> list[str]:
    """Issue #23's targets beside what this run measured (a size not run: not measured)."""
    by_size = {r["persons"]: r for r in results}

    def measured(persons: int, what) -> tuple[str, float | None]:
        r = by_size.get(persons)
        value = None if r is None else what(r)
        return ("not measured" if value is None else value), value

    def nightly(r):
        return r.get("delta", {}).get("seconds")

    def ratio(r):
        return None if nightly(r) is None else nightly(r) / r["full"]["seconds"]

    def ingest_rate(r):
        seconds = r["full"]["stages"].get("ingest")
        return r["rows_in"] / seconds if seconds else None

    largest = max(by_size) if by_size else None
    rows = [
        ("nightly run at 20,000 persons", "at most 20 s", *measured(20_000, nightly), lambda v: v <= 20, "{:.1f} s"),
        ("nightly / full at 20,000 persons", "at most 0.3", *measured(20_000, ratio), lambda v: v <= 0.3, "{:.2f}"),
        (
            "nightly run at 1,000,000 persons",
            "at most 90 s",
            *measured(1_000_000, nightly),
            lambda v: v <= 90,
            "{:.1f} s",
        ),
        (
            "full run at 1,000,000 persons",
            "at most 15 min",
            *measured(1_000_000, lambda r: r["full"]["seconds"] / 60),
            lambda v: v <= 15,
            "{:.1f} min",
        ),
        (
            f"ingest at the largest size measured ({largest:,} persons)" if largest else "ingest",
            "at least 1,000,000 rows/s",
            *(measured(largest, ingest_rate) if largest else ("not measured", None)),
            lambda v: v >= 1_000_000,
            "{:,.0f} rows/s",
        ),
    ]
    lines = ["## Targets (issue #23)", "", "| what | target | measured | met |", "|---|---|---|---|"]
    for what, target, shown, value, met, form in rows:
        lines.append(
            f"| {what} | {target} | {shown if value is None else form.format(value)} | "
            f"{'-' if value is None else ('yes' if met(value) else 'no')} |"
        )
    return [*lines, ""]


KEPT_BY_HAND = "## Measurements kept by hand"


def write_report(out: Path, text: str) -> None:
    """Write the generated report to `out`, carrying over from the file it replaces
    everything from KEPT_BY_HAND on: the project's other measured figures, which the
    guides under docs/ link to and no run of this script can measure again."""
    previous = out.read_text(encoding="utf-8") if out.exists() else ""
    at = previous.find(KEPT_BY_HAND)
    kept = previous[at:] if at >= 0 else ""
    out.write_text(text.rstrip("\n") + ("\n\n" + kept if kept else "\n"), encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    parser.add_argument("--no-nightly", action="store_true", help="full runs and the peer only")
    parser.add_argument(
        "--nightly-at",
        type=int,
        nargs="+",
        metavar="PERSONS",
        help="the sizes to run the one-day delta at (default: the largest)",
    )
    parser.add_argument(
        "--nightly-only",
        type=int,
        metavar="PERSONS",
        help="only the day-before + nightly runs for an already synthesised size; "
        "saved to WORK/p<PERSONS>/nightly.json and merged into the report",
    )
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from WORK/results.json")
    parser.add_argument(
        "--keep-other-sizes",
        action="store_true",
        help="keep the results of sizes not run now from WORK/results.json (a long run in parts); "
        "the report then lists when and on which commit each size was measured",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the phases of a size already in WORK/p<PERSONS>/result.json (same run date)",
    )
    args = parser.parse_args(argv)
    if args.nightly_only:
        base = args.work / f"p{args.nightly_only}"
        ds = _json(base / "landing" / "_truth" / "truth.json")["final_date"]
        delta = nightly_run(base, base / "landing", ds, base / "warehouse-full")
        (base / "nightly.json").write_text(json.dumps(delta, indent=1))
        return
    if args.report_only:
        saved = json.loads((args.work / "results.json").read_text())
        for result in saved["results"]:
            extra = args.work / f"p{result['persons']}" / "nightly.json"
            if "delta" not in result and extra.exists():
                result["delta"] = _json(extra)
        text = report(saved["results"], saved["context"])
        write_report(args.out, text)
        print(text)
        return
    context = {
        "machine": f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        "started": _now(),
        "load_start": os.getloadavg()[0],
    }
    sizes = sorted(args.sizes)
    nightly_at = [sizes[-1]] if args.nightly_at is None else sorted(args.nightly_at)
    if args.no_nightly:
        nightly_at = []
    if not set(nightly_at) <= set(sizes):
        parser.error(f"--nightly-at {' '.join(map(str, nightly_at))} is not among --sizes")
    kept = []
    if args.keep_other_sizes and (args.work / "results.json").exists():
        saved = json.loads((args.work / "results.json").read_text())
        kept = [r for r in saved["results"] if r["persons"] not in sizes]
        context["started"], context["load_start"] = saved["context"]["started"], saved["context"]["load_start"]
    measured = []
    for persons in sizes:
        measured.append(
            bench_size(persons, args.work, args.seed, args.days, nightly=persons in nightly_at, resume=args.resume)
        )
        results = sorted(kept + measured, key=lambda r: r["persons"])
        context["command"] = bench_command(results)
        context["finished"], context["load_end"] = _now(), os.getloadavg()[0]
        (args.work / "results.json").write_text(json.dumps({"results": results, "context": context}, indent=1))
    text = report(results, context)
    write_report(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
