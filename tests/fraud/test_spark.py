"""The session factory (fraud/spark.py) takes where Spark runs from configuration
alone: FRAUD_SPARK_MASTER and FRAUD_SPARK_CONF reach the session."""

import pytest
from conftest import spark_jobs

from fraud.config import Settings
from fraud.spark import session_config


def test_a_cluster_master_and_site_conf_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("FRAUD_SPARK_MASTER", "spark://127.0.0.1:7177")
    monkeypatch.setenv("FRAUD_SPARK_CONF", "spark.executor.memory=1g, spark.cores.max=2,spark.driver.host=10.0.0.5")
    config = session_config(Settings.from_env())
    assert config["spark.master"] == "spark://127.0.0.1:7177"
    assert config["spark.executor.memory"] == "1g" and config["spark.cores.max"] == "2"
    assert config["spark.driver.host"] == "10.0.0.5"  # not pinned to loopback off local mode
    assert "spark.driver.bindAddress" not in config


def test_local_mode_stays_on_loopback_and_site_conf_wins_over_defaults(monkeypatch):
    monkeypatch.delenv("FRAUD_SPARK_MASTER", raising=False)
    monkeypatch.setenv("FRAUD_SPARK_CONF", "spark.sql.shuffle.partitions=64")
    config = session_config(Settings.from_env())
    assert config["spark.master"] == "local[*]"
    assert config["spark.driver.host"] == config["spark.driver.bindAddress"] == "127.0.0.1"
    assert config["spark.sql.shuffle.partitions"] == "64"


def test_a_malformed_spark_conf_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("FRAUD_SPARK_CONF", "spark.executor.memory")
    with pytest.raises(ValueError, match="FRAUD_SPARK_CONF: expected key=value"):
        Settings.from_env()


def test_full_rebuild_is_a_setting_left_out_of_the_manifest(monkeypatch):
    monkeypatch.setenv("FRAUD_FULL_REBUILD", "1")
    settings = Settings.from_env()
    assert settings.full_rebuild is True
    assert "full_rebuild" not in settings.as_manifest()  # a rebuild and a nightly run compare equal
    monkeypatch.setenv("FRAUD_FULL_REBUILD", "0")
    assert Settings.from_env().full_rebuild is False


def test_a_directory_spark_wrote_is_read_with_its_footer_schema_and_no_job(spark, tmp_path):
    """read_parquet tells Spark the schema it wrote, so Spark starts no job to infer
    it; the frame is the one a plain read gives, nullability included."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fraud.spark import read_parquet, written_schema

    frame = spark.createDataFrame(
        [("C-1", 3, None), ("C-2", None, "x")], "claim_id string not null, days int, note string"
    )
    frame.write.parquet(str(tmp_path / "plain"))
    plain, plain_jobs = spark_jobs(spark, "plain", lambda: spark.read.parquet(str(tmp_path / "plain")))
    told, told_jobs = spark_jobs(spark, "told", lambda: read_parquet(spark, tmp_path / "plain"))
    assert plain_jobs >= 1 and told_jobs == 0
    assert told.schema == plain.schema and told.schema.json() == plain.schema.json()
    assert sorted(told.collect()) == sorted(plain.collect())

    # Anything else is read as before: a partitioned table, a file another writer
    # made, a directory with no file.
    frame.write.partitionBy("note").parquet(str(tmp_path / "partitioned"))
    (tmp_path / "arrow").mkdir()
    pq.write_table(pa.table({"claim_id": ["C-1"]}), tmp_path / "arrow" / "part-0.parquet")
    (tmp_path / "empty").mkdir()
    for other in ("partitioned", "arrow", "empty"):
        assert written_schema(tmp_path / other) is None, other
    assert sorted(read_parquet(spark, tmp_path / "partitioned").collect()) == sorted(
        spark.read.parquet(str(tmp_path / "partitioned")).collect()
    )


def test_dataframe_calls_record_no_python_call_site(spark):
    """fraud/spark.py turns off PySpark's DataFrame debugging: no Column or DataFrame
    call walks the stack and tells the JVM where it came from."""
    from pyspark.errors.utils import is_debugging_enabled

    assert session_config(Settings.from_env())["spark.python.sql.dataFrameDebugging.enabled"] == "false"
    assert spark.conf.get("spark.python.sql.dataFrameDebugging.enabled") == "false"
    assert is_debugging_enabled() is False


def test_join_keys_materialise_and_count_in_one_job_and_broadcast_only_a_small_set(spark, monkeypatch):
    """join_keys checkpoints the keys and counts them in the same Spark job (an
    observed metric); the broadcast hint depends on that count."""
    import fraud.spark as spark_module

    keys = spark.range(0, 30, 1, 3).selectExpr("concat('P', id) AS person_key")

    def hinted(frame) -> bool:
        return "strategy=broadcast" in frame._jdf.queryExecution().analyzed().toString()

    small, jobs = spark_jobs(spark, "join-keys-small", lambda: spark_module.join_keys(keys))
    assert jobs == 1 and hinted(small)
    assert sorted(row.person_key for row in small.collect()) == sorted(f"P{n}" for n in range(30))

    monkeypatch.setattr(spark_module, "BROADCAST_MAX_ROWS", 30)  # at the limit: still broadcast
    assert hinted(spark_module.join_keys(keys))
    monkeypatch.setattr(spark_module, "BROADCAST_MAX_ROWS", 29)
    large, jobs = spark_jobs(spark, "join-keys-large", lambda: spark_module.join_keys(keys))
    assert jobs == 1 and not hinted(large)
    assert large.count() == 30
    empty, _ = spark_jobs(spark, "join-keys-empty", lambda: spark_module.join_keys(keys.where("false")))
    assert hinted(empty) and empty.count() == 0
    # A caller that knows the bound saves the checkpoint: no job at all.
    bounded, jobs = spark_jobs(spark, "join-keys-bounded", lambda: spark_module.join_keys(keys, at_most=29))
    assert jobs == 0 and hinted(bounded)


def test_concurrently_keeps_the_items_order_the_callers_job_group_and_the_first_error(spark):
    """Work run side by side comes back in the items' order, its Spark jobs count in
    the caller's job group, and a failure is raised after every item ran."""
    from fraud.spark import concurrently

    frames = [spark.range(rows) for rows in (3, 1, 2, 5)]
    counts, jobs = spark_jobs(spark, "concurrently", lambda: concurrently(spark, lambda frame: frame.count(), frames))
    assert counts == [3, 1, 2, 5] and jobs >= len(frames)
    # Each thread works in the session: the JVM reads its configuration, not the defaults.
    zones = concurrently(
        spark, lambda _: spark._jvm.org.apache.spark.sql.internal.SQLConf.get().sessionLocalTimeZone(), range(4)
    )
    assert zones == ["Asia/Seoul"] * 4

    ran = []

    def work(item):
        ran.append(item)
        if item in (1, 2):
            raise ValueError(f"item {item} failed")
        return item

    with pytest.raises(ValueError, match="item 1 failed"):
        concurrently(spark, work, [0, 1, 2, 3])
    assert sorted(ran) == [0, 1, 2, 3]


def test_concurrently_cancels_its_spark_jobs_when_the_caller_is_interrupted(spark):
    """A stage's timeout interrupts the thread waiting for the work (as Airflow's
    execution_timeout does, with a signal): the running items' Spark jobs are cancelled,
    the items not started are dropped, and the interruption is raised once they stopped."""
    import signal
    import time

    from fraud.spark import concurrently

    started_items = []

    def slow(item):
        started_items.append(item)
        return spark.range(0, 10**12, 1, 2).where("id % 7 = 100").count()  # hours, uncancelled

    def time_out(signum, frame):
        raise TimeoutError("the stage timed out")

    previous = signal.signal(signal.SIGALRM, time_out)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 3.0)
        with pytest.raises(TimeoutError):
            concurrently(spark, slow, [1, 2, 3, 4])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 120
    assert sorted(started_items) == [1, 2]
    assert not spark.sparkContext.statusTracker().getActiveJobsIds()


def test_a_session_starts_in_a_thread_of_its_own_while_the_caller_works(monkeypatch):
    """StartingSession returns at once; get() waits for the session, and raises what
    starting raised."""
    import threading

    from fraud import spark as spark_module

    release, asked = threading.Event(), []

    def slow_start(settings, app_name):
        asked.append((threading.current_thread() is threading.main_thread(), app_name))
        release.wait(10)
        if app_name == "fails":
            raise RuntimeError("Java gateway process exited before sending its port number")
        return "session"

    monkeypatch.setattr(spark_module, "spark_session", slow_start)
    monkeypatch.setattr(spark_module, "make_active", lambda spark: None)
    starting = spark_module.StartingSession(Settings.from_env(), app_name="ok")
    failing = spark_module.StartingSession(Settings.from_env(), app_name="fails")
    assert not starting._started.done()  # the caller goes on while Spark starts
    release.set()
    assert starting.get() == "session"
    with pytest.raises(RuntimeError, match="Java gateway"):
        failing.get()
    assert sorted(asked) == [(False, "fails"), (False, "ok")]


def test_a_session_started_elsewhere_is_active_in_the_thread_that_takes_it(spark):
    """The JVM's active session is per thread: the taking thread gets it, with the
    session's own time zone."""
    import threading

    from pyspark.sql import SparkSession

    from fraud.spark import StartingSession

    seen = {}

    def take():
        session = StartingSession(Settings.from_env(spark_conf={})).get()
        seen["same"] = session is spark
        seen["active"] = SparkSession.getActiveSession() is not None
        # What Spark's own code reads in this thread, not the session's settings.
        seen["zone"] = session._jvm.org.apache.spark.sql.internal.SQLConf.get().sessionLocalTimeZone()

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(60)
    assert seen == {"same": True, "active": True, "zone": "Asia/Seoul"}


def test_ctrl_c_cancels_the_jobs_of_a_session_started_in_another_thread(monkeypatch):
    """PySpark only sets Ctrl-C up to cancel the jobs when the main thread starts
    Spark; get() sets it up in the main thread, unless someone else set a handler."""
    import signal

    from fraud import spark as spark_module

    class Context:
        cancelled = 0

        def cancelAllJobs(self):
            Context.cancelled += 1

    class Session:
        sparkContext = Context()

    from pyspark import SparkContext

    monkeypatch.setattr(spark_module, "spark_session", lambda settings, app_name: Session())
    monkeypatch.setattr(spark_module, "make_active", lambda spark: None)
    monkeypatch.setattr(SparkContext, "_active_spark_context", Session.sparkContext)  # the running one
    previous = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        spark_module.StartingSession().get()
        handler = signal.getsignal(signal.SIGINT)
        assert handler is not signal.default_int_handler
        with pytest.raises(KeyboardInterrupt):
            handler(signal.SIGINT, None)
        assert Context.cancelled == 1

        def someone_elses(signum, frame):
            pass

        signal.signal(signal.SIGINT, someone_elses)
        spark_module.StartingSession().get()
        assert signal.getsignal(signal.SIGINT) is someone_elses
    finally:
        signal.signal(signal.SIGINT, previous)


def test_release_memory_collects_the_jvm_in_full_only_when_asked(spark):
    from fraud.spark import release_memory

    def full_collections() -> int:
        beans = spark._jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
        return sum(bean.getCollectionCount() for bean in beans if "Old" in bean.getName())

    spark.range(200_000).selectExpr("cast(id as string) as s").collect()  # garbage on both sides
    before = full_collections()
    driver_before, driver_after = release_memory(jvm=False)
    assert full_collections() == before
    assert driver_before > 0 and driver_after > 0
    release_memory()
    assert full_collections() > before  # System.gc(): G1 collects the whole heap


def test_release_memory_shrinks_the_jvms_heap_to_what_is_in_use_then_restores_the_ratios(spark):
    """HotSpot keeps committed heap after a full collection while no more than 70% of it
    is free (MaxHeapFreeRatio); release_memory has it give back all but
    RELEASE_FREE_PERCENT beyond what is in use, and leaves the flags as they were."""
    from fraud.spark import RELEASE_FREE_PERCENT, release_memory

    jvm = spark._jvm
    runtime = jvm.java.lang.Runtime.getRuntime()
    bean = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean")
    )
    ratios = {name: bean.getVMOption(name).getValue() for name in ("MinHeapFreeRatio", "MaxHeapFreeRatio")}
    held = [jvm.java.nio.ByteBuffer.allocate(64 << 20) for _ in range(16)]  # 1 GiB in use
    try:
        # A heap 60% free, as a busy stage leaves it: a full collection with the ratios
        # raised grows it to that, and with the defaults back it is kept.
        bean.setVMOption("MaxHeapFreeRatio", "80")
        bean.setVMOption("MinHeapFreeRatio", "60")
        jvm.java.lang.System.gc()
        bean.setVMOption("MinHeapFreeRatio", ratios["MinHeapFreeRatio"])
        bean.setVMOption("MaxHeapFreeRatio", ratios["MaxHeapFreeRatio"])
        grown = runtime.totalMemory()
        assert grown > 2 * (1 << 30)
        release_memory()
        used = runtime.totalMemory() - runtime.freeMemory()
        committed = runtime.totalMemory()
        assert used >= 1 << 30
        # in use plus the free share asked for, give or take a few of G1's regions
        assert committed <= used / (1 - RELEASE_FREE_PERCENT / 100) + (64 << 20)
        assert {name: bean.getVMOption(name).getValue() for name in ratios} == ratios
    finally:
        for buffer in held:
            spark.sparkContext._gateway.detach(buffer)


def test_release_memory_drops_the_blocks_spark_keeps_only_with_the_jvm(spark):
    """A stage's local checkpoints stay in Spark's block store while anything refers to
    them; giving back the JVM's memory drops them (the next stage reads files)."""
    from fraud.spark import release_memory

    kept = spark.range(1000).localCheckpoint()
    assert len(spark.sparkContext._jsc.getPersistentRDDs()) >= 1
    release_memory(jvm=False)
    assert len(spark.sparkContext._jsc.getPersistentRDDs()) >= 1
    release_memory()
    assert len(spark.sparkContext._jsc.getPersistentRDDs()) == 0
    del kept
