"""What Spark's fixed costs are on this machine (not a test): the floor under a small night.

A small night's time is the number of Spark jobs it starts and the Py4J calls that
build their plans, times what each costs, more than its rows (docs/scale.md#what-a-spark-job-costs-here).
This prints those unit costs in the pipeline's own session configuration:

    what                                          each
    a Py4J call (driver to JVM and back)          ... ms
    a column function (F.col: three Py4J calls)   ... ms
    a job of one task, no shuffle                 ... ms
    a count with a shuffle (adaptive: two jobs)   ... ms
    the first Python function in a session        ... ms
    a later Python function                       ... ms

Each is the mean over `--repeats` runs after as many untimed ones (the JVM warms up),
except the first Python function, which happens once per session.

    cd /work/main && AIRFLOW_HOME=$PWD SPARK_LOCAL_IP=127.0.0.1 .venv/bin/python bench/spark_costs.py
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
from pyspark.sql import functions as F

from fraud.config import Settings
from fraud.spark import spark_session


def _mean_ms(action, repeats: int) -> float:
    for _ in range(repeats):
        action()
    started = time.perf_counter()
    for _ in range(repeats):
        action()
    return (time.perf_counter() - started) / repeats * 1000


def _same_rows(rows: pd.DataFrame) -> pd.DataFrame:
    return rows


def measure(spark, repeats: int = 30) -> dict[str, float]:
    """The unit costs, in milliseconds, by what they are the cost of."""
    clock = spark.sparkContext._jvm.java.lang.System  # one lookup; then one call per use
    grouped = spark.range(0, 100, 1, 2).selectExpr("id % 10 AS id")

    def python_function():
        grouped.groupBy("id").applyInPandas(_same_rows, schema="id long").count()

    started = time.perf_counter()
    python_function()
    first_python = (time.perf_counter() - started) * 1000
    return {
        "a Py4J call (driver to JVM and back)": _mean_ms(clock.nanoTime, repeats * 30),
        # PySpark finds the JVM's functions object and the function by name, then calls it.
        "a column function (F.col: three Py4J calls)": _mean_ms(lambda: F.col("id"), repeats * 30),
        "a job of one task, no shuffle": _mean_ms(lambda: spark.range(0, 1000, 1, 1).count(), repeats),
        "a count with a shuffle (adaptive: two jobs)": _mean_ms(lambda: spark.range(0, 1000, 1, 2).count(), repeats),
        "the first Python function in a session": first_python,
        "a later Python function": _mean_ms(python_function, max(1, repeats // 10)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    spark = spark_session(Settings.from_env(), app_name="spark-costs")
    try:
        costs = measure(spark, args.repeats)
    finally:
        spark.stop()
    width = max(len(name) for name in costs)
    print(f"{'what':<{width}}  {'each':>10}")
    for name, ms in costs.items():
        print(f"{name:<{width}}  {ms:>7.2f} ms")


if __name__ == "__main__":
    main()
