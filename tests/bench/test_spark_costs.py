"""bench/spark_costs.py measures each unit cost it names, in milliseconds."""

from bench.spark_costs import measure


def test_each_unit_cost_is_measured(spark):
    costs = measure(spark, repeats=2)
    assert list(costs) == [
        "a Py4J call (driver to JVM and back)",
        "a column function (F.col: three Py4J calls)",
        "a job of one task, no shuffle",
        "a count with a shuffle (adaptive: two jobs)",
        "the first Python function in a session",
        "a later Python function",
    ]
    assert all(ms > 0 for ms in costs.values()), costs
    # A call over the gateway is far cheaper than a job, which runs tasks.
    assert costs["a Py4J call (driver to JVM and back)"] < costs["a job of one task, no shuffle"], costs
