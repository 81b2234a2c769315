"""The one Spark session factory. Every job and test gets its session here."""

from __future__ import annotations

import logging
import os
import sys

from fraud.config import Settings

log = logging.getLogger(__name__)


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

    builder = (
        SparkSession.builder.appName(app_name)
        .master(settings.spark_master)
        .config("spark.sql.session.timeZone", "Asia/Seoul")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
        .config("spark.ui.enabled", "true" if settings.spark_ui else "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        # Tables hold personal data: files Spark writes are owner+group only (0640/0750).
        .config("spark.hadoop.fs.permissions.umask-mode", "027")
    )
    if settings.spark_master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    for key, value in settings.spark_conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    log.info("spark session %s on %s", spark.version, settings.spark_master)
    return spark
