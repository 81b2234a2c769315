"""Conform: the tables as they stood on the run date.

For each table, the latest version of every record among the valid rows of drops
dated on or before `ds`: greatest `updated_at`, then the latest drop (crossings have
no `updated_at`; the latest drop wins). Only the drop dates decide what is visible,
so re-running an old date after newer drops landed gives the same tables.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fraud import contract
from fraud.layout import Layout
from fraud.storage import atomic_dir
from fraud.validation import DROP_DATE
from fraud.records import LINE_NO

log = logging.getLogger(__name__)


def latest_versions(validated: DataFrame, table: contract.Table, ds: date) -> DataFrame:
    """Valid rows of all drops -> one row per primary key as of `ds` (contract columns
    plus `_drop_date`, the drop the winning version came from)."""
    visible = validated.where(F.col(DROP_DATE) <= F.lit(ds))
    order = [F.col("updated_at").desc()] if table.has_updated_at else []
    order += [F.col(DROP_DATE).desc(), F.col(LINE_NO).desc()]
    newest_first = Window.partitionBy(table.primary_key).orderBy(*order)
    return (
        visible.withColumn("_version", F.row_number().over(newest_first))
        .where(F.col("_version") == 1)
        .select(*table.column_names, DROP_DATE)
    )


def _validated(spark, layout: Layout, table: contract.Table) -> DataFrame:
    path = layout.validated_table(table.source, table.name)
    if any(path.glob(f"{DROP_DATE}=*")):
        return spark.read.parquet(str(path))
    return spark.createDataFrame([], f"{table.spark_ddl}, `{DROP_DATE}` date, `{LINE_NO}` bigint")


def run(spark, inputs: dict, output: Path, params: dict) -> dict:
    """inputs: {} (reads validated/ in the warehouse); output: the warehouse root;
    params: {"ds": date}. Writes conformed/<ds>/<table>/ and returns row counts."""
    ds: date = params["ds"]
    layout = Layout(Path(output))
    counts = {}
    with atomic_dir(layout.conformed(ds)) as staging:
        for table in contract.TABLES.values():
            conformed = latest_versions(_validated(spark, layout, table), table, ds)
            conformed.write.parquet(str(staging / table.name))
            counts[table.name] = spark.read.parquet(str(staging / table.name)).count()
    log.info("conformed as of %s: %s", ds, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return {"ds": ds.isoformat(), "conformed": str(layout.conformed(ds)), "rows": counts}


def read_conformed(spark, conformed: Path) -> dict[str, DataFrame]:
    """The conformed tables of one run date, by name (what later stages read)."""
    conformed = Path(conformed)
    missing = [name for name in contract.TABLES if not (conformed / name).exists()]
    if missing:
        raise FileNotFoundError(f"conformed table(s) {', '.join(missing)} missing under {conformed}")
    return {name: spark.read.parquet(str(conformed / name)) for name in contract.TABLES}
