"""The one Spark session factory. Every job and test gets its session here."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from pathlib import Path

from fraud.config import Settings

log = logging.getLogger(__name__)

# Where Spark writes a Parquet file's schema, as its own JSON, in the file's footer.
SPARK_SCHEMA_KEY = b"org.apache.spark.sql.parquet.row.metadata"

# A key set this small is sent whole to every task (about 50 MB of 64-character keys).
BROADCAST_MAX_ROWS = 500_000


def join_keys(frame, at_most: int | None = None):
    """A set of join keys (a night's persons, claims, workplaces), materialised once
    (a local checkpoint), with a broadcast hint when it holds at most
    BROADCAST_MAX_ROWS rows: a history table joined with it is then scanned, never
    shuffled. A larger set (a monthly tax drop touches most earners) is left to the
    planner. The checkpoint counts its rows as it writes them (an observed metric):
    no count of its own afterwards, which under adaptive planning is two Spark jobs
    (3 jobs become 1; 4 become 2 for a `distinct()` set). A caller that knows
    the set holds at most `at_most` keys (the rows it came from) and uses it once
    saves the checkpoint too."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    if at_most is not None and at_most <= BROADCAST_MAX_ROWS:
        return F.broadcast(frame)
    counted = Observation()
    frame = frame.observe(counted, F.count(F.lit(1)).alias("rows")).localCheckpoint()
    return F.broadcast(frame) if counted.get["rows"] <= BROADCAST_MAX_ROWS else frame


# How many independent pieces of Spark work a stage submits at once (each table of a
# drop, say). A small job spends most of its time waiting on the scheduler, not on the
# cores (bench/spark_costs.py), so two at a time keep a small night's cores busy; a
# large one's tasks share the cores as they would have queued. A constant, not a
# setting: a night's configuration, in its manifest, does not change with it.
SPARK_THREADS = 2


def concurrently(spark, work, items, threads: int = SPARK_THREADS) -> list:
    """[work(item) for item in items], up to `threads` at a time. Each thread works
    in `spark` (its active session) and puts its Spark jobs in the caller's job group
    (the stage's, so they are counted with it); Spark's other thread-local properties
    (SQL execution ids) stay each thread's own.

    Every item runs to its end, so a failing item leaves the others' writes done, as
    an earlier item's were when they ran one at a time; then the first failing item's
    error, in the items' order, is raised. If the caller is interrupted while it waits
    (a stage's timeout), the items not started are dropped, the running ones' Spark
    jobs cancelled, and the interruption raised once they have stopped."""
    from concurrent.futures import ThreadPoolExecutor, wait

    items = list(items)
    if threads <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    context = spark.sparkContext
    group = context.getLocalProperty("spark.jobGroup.id")
    description = context.getLocalProperty("spark.job.description") or ""
    tag = f"concurrently-{uuid.uuid4().hex}"

    def run(item):
        make_active(spark)
        if group is not None:
            context.setJobGroup(group, description)
        context.addJobTag(tag)
        try:
            return work(item)
        finally:
            context.removeJobTag(tag)

    pool = ThreadPoolExecutor(max_workers=threads)
    futures = [pool.submit(run, item) for item in items]
    try:
        wait(futures)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        context.cancelJobsWithTag(tag)
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)
    return [future.result() for future in futures]


def make_active(spark) -> None:
    """Make `spark` the calling thread's active session. The JVM keeps one per thread
    (as PySpark's createDataFrame does it): a thread without one reads Spark's
    defaults, not the session's configuration, in some places (its time zone)."""
    from pyspark.sql import SparkSession

    SparkSession._get_j_spark_session_class(spark._jvm).setActiveSession(spark._jsparkSession)


class StartingSession:
    """`spark_session(settings, app_name)`, started in a thread of its own.

    Starting Spark (its JVM, then the session) takes seconds in which the caller has
    other work for the other core: a stage's module to import (jobs/pipeline.py:
    run_stage; Great Expectations, for validate, takes over a second). `get()` waits
    for the session and raises what starting it raised. The thread does not keep the
    process alive: a run that fails before it takes the session exits at once, and
    the JVM with it."""

    def __init__(self, settings: Settings | None = None, app_name: str = "fraud-nightly"):
        self._started: Future = Future()

        def start() -> None:
            try:
                self._started.set_result(spark_session(settings, app_name))
            except BaseException as error:  # noqa: BLE001 -- handed to get()'s caller
                self._started.set_exception(error)

        threading.Thread(target=start, name=f"start-{app_name}", daemon=True).start()

    def get(self):
        """The session, once started, active in the calling thread. In the main
        thread, Ctrl-C then cancels the session's jobs before it interrupts, as it
        does when the main thread starts Spark itself (PySpark sets that up only
        there); a handler someone else installed is left alone."""
        spark = self._started.result()
        make_active(spark)
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):

            def cancel_then_interrupt(signum, frame):
                from pyspark import SparkContext

                try:
                    running = SparkContext._active_spark_context  # the session's, or a later one
                    if running is not None:
                        running.cancelAllJobs()
                finally:
                    raise KeyboardInterrupt()

            signal.signal(signal.SIGINT, cancel_then_interrupt)
        return spark


# How often release_memory has the JVM collect at most, and how long it gives Spark's
# cleaner between two collections. A stage's checkpoints and broadcasts are blocks
# Spark keeps until its cleaner learns, from a collection, that nothing refers to
# them; only the next collection then frees their memory. After the collusion stage
# of a 20,000-person night: one collection left 1,807 MiB of the 4,096 MiB heap in use,
# a second 100 MiB, and the JVM's RSS went from 4,764 to 870 MiB.
JVM_COLLECTIONS = 3
CLEANER_WAIT_SECONDS = 0.2
# After a full collection HotSpot gives committed heap back only down to where
# MaxHeapFreeRatio (70%) of it is free: at a million persons the report stage started
# with 1,207 MiB of a 3,974-MiB heap in use, 70% free, so nothing was given back and
# the JVM stayed at 4.9 GB. For release_memory's collections alone the ratios are set
# so that the heap shrinks to what is in use and this much more (both are flags
# HotSpot lets a running JVM change); the stage then grows it as it needs.
RELEASE_FREE_PERCENT = 10


def release_memory(jvm: bool = True) -> tuple[int, int]:
    """Give back memory a night no longer needs, when its stages run one after another in
    one process (`fraudctl run`, jobs/pipeline.py:run_all; each of Airflow's tasks is a
    process of its own). Returns the Python process's resident memory before and
    after, in bytes.

    Python's garbage goes first, so that the Spark objects only it still held are
    released over the gateway. Then, with `jvm` (before the report stage, and in it
    once its Spark work is done), Spark drops every block it still keeps
    (`_drop_blocks`: no frame computed before may be used after it) and the JVM
    collects in full (Spark's own cleaner does so on a timer), again while that frees a
    tenth of the heap or more (JVM_COLLECTIONS), and shrinks its heap to what is in use.
    Then the Python side hands freed memory back to the system: Arrow's pool (the
    columnar reader's buffers) and glibc's heap, which otherwise keep it for reuse.
    Nothing the next stage needs is lost: it reads its inputs from files."""
    import ctypes
    import gc

    import psutil
    from pyspark import SparkContext

    process = psutil.Process()
    before = process.memory_info().rss
    gc.collect()
    context = SparkContext._active_spark_context
    if jvm and context is not None:
        _drop_blocks(context)
        _collect_jvm(context._jvm)
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its allocator keeps what it keeps
        pass
    return before, process.memory_info().rss


def _drop_blocks(context) -> None:
    """Unpersist every RDD whose blocks Spark still keeps (local checkpoints, cached
    frames). Spark frees them on its own only once nothing refers
    to them; at a million persons the report stage started with 17 such blocks of 2.2
    million rows, 1.1 GB of the heap, from a stage before it. Only where no frame of the
    night is used again: between stages, which read their inputs from files."""
    for rdd in list(context._jsc.getPersistentRDDs().values()):
        rdd.unpersist(True)


def _collect_jvm(jvm) -> None:
    """Collect the JVM's heap in full, again while that frees a tenth of it or more
    (JVM_COLLECTIONS), and shrink the heap to what is in use (RELEASE_FREE_PERCENT)."""
    from py4j.protocol import Py4JError

    runtime = jvm.java.lang.Runtime.getRuntime()
    try:
        bean = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
            jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean")
        )
        ratios = {name: bean.getVMOption(name).getValue() for name in ("MinHeapFreeRatio", "MaxHeapFreeRatio")}
        bean.setVMOption("MinHeapFreeRatio", "0")  # never above MaxHeapFreeRatio, so first
        bean.setVMOption("MaxHeapFreeRatio", str(RELEASE_FREE_PERCENT))
    except Py4JError as error:  # not HotSpot, or the flags are not changeable: collect only
        log.info("the JVM's heap is collected but not shrunk: %s", str(error).splitlines()[0])
        bean = None
    try:
        used = None
        for _ in range(JVM_COLLECTIONS):
            jvm.java.lang.System.gc()
            now = runtime.totalMemory() - runtime.freeMemory()
            if used is not None and now > 0.9 * used:
                break
            used = now
            time.sleep(CLEANER_WAIT_SECONDS)
    finally:
        if bean is not None:
            bean.setVMOption("MaxHeapFreeRatio", ratios["MaxHeapFreeRatio"])
            bean.setVMOption("MinHeapFreeRatio", ratios["MinHeapFreeRatio"])


def written_schema(path: Path):
    """The Spark schema of a directory Spark wrote (no partition directories), read
    from one file's footer without Spark; None for anything else (a partitioned
    table, a file another writer made, no file)."""
    import pyarrow.parquet as pq
    from pyspark.sql.types import StructType

    path = Path(path)
    if not path.is_dir():
        return None
    files = []
    for item in sorted(path.iterdir()):
        if item.name.startswith(("_", ".")):
            continue
        if not item.is_file() or not item.name.endswith(".parquet"):
            return None  # a partition directory, or something Spark did not write
        files.append(item)
    if not files:
        return None
    written = (pq.read_schema(files[0]).metadata or {}).get(SPARK_SCHEMA_KEY)
    return None if written is None else StructType.fromJson(json.loads(written))


def read_parquet(spark, path: Path):
    """`spark.read.parquet(path)`, told the schema Spark wrote into the footer when
    `written_schema` finds it. Spark otherwise infers it in a job of its own, each time
    (about 50 ms; a nightly run reads some 150 directories). The frame is the same."""
    schema = written_schema(path)
    reader = spark.read if schema is None else spark.read.schema(schema)
    return reader.parquet(str(path))


def session_config(settings: Settings) -> dict[str, str]:
    """The Spark configuration a session gets from `settings`: spark.master and the
    defaults below, then FRAUD_SPARK_CONF on top (a site's cluster settings win)."""
    config = {
        "spark.master": settings.spark_master,
        "spark.sql.session.timeZone": "Asia/Seoul",
        "spark.sql.ansi.enabled": "true",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.ui.enabled": "true" if settings.spark_ui else "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # Tables hold personal data: files Spark writes are owner+group only (0640/0750).
        "spark.hadoop.fs.permissions.umask-mode": "027",
        # PySpark otherwise records the Python call site of every DataFrame and Column
        # call in the JVM (three calls over the gateway and a walk of the stack each), for
        # the "== DataFrame ==" part of an error; the traceback still names the line. A
        # small night builds tens of thousands of such calls: its run took about 15% less.
        "spark.python.sql.dataFrameDebugging.enabled": "false",
        # HotSpot never compiles a method over 8,000 bytes of bytecode to machine code;
        # Spark's default limit lets whole-stage code generation write methods up to
        # 65,535, which then run interpreted. The row validator's checks of a wide table
        # make such a method: at 200,000 persons its write of the checked rows ran
        # in the interpreter, and validation took 147.8 s against 110.6 s with Spark
        # told to leave such a subtree to its per-operator code (docs/decisions.md).
        "spark.sql.codegen.hugeMethodLimit": "8000",
    }
    if settings.spark_master.startswith("local"):
        config["spark.driver.host"] = "127.0.0.1"
        config["spark.driver.bindAddress"] = "127.0.0.1"
    config.update(settings.spark_conf)
    return config


def spark_session(settings: Settings | None = None, app_name: str = "fraud-nightly"):
    """Return a SparkSession configured from `settings` (local[*] on loopback by default).

    A site points the pipeline at its own cluster with FRAUD_SPARK_MASTER and
    FRAUD_SPARK_CONF (comma-separated key=value pairs); nothing else changes.
    """
    from pyspark.sql import SparkSession

    settings = settings or Settings.from_env()
    if settings.spark_master.startswith("local"):
        # Keep the driver, executors and block manager on loopback: the machine's
        # outside address is neither needed nor wanted.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers must use this interpreter (the venv), not whatever python3 is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

    builder = SparkSession.builder.appName(app_name)
    for key, value in session_config(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    log.info("spark session %s on %s", spark.version, settings.spark_master)
    return spark
