"""The training DAG file only orchestrates: no heavy library at its top level, one
call into models/ per task."""

import ast
from pathlib import Path

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "fraud_model_training.py"
HEAVY = {"pyspark", "xgboost", "networkx", "great_expectations", "pandas", "jobs", "fraud", "models", "mlflow"}


def test_training_dag_imports_no_heavy_library_at_top_level():
    tree = ast.parse(DAG_FILE.read_text())
    top_level = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top_level |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert not top_level & HEAVY


def test_latest_conformed_skips_later_dates_and_staging_leftovers(tmp_path):
    import datetime as dt

    from models.job import latest_conformed

    for name in ("2026-03-01", "2026-03-08", "2026-03-15", ".2026-03-09.staging-abc"):
        (tmp_path / "conformed" / name).mkdir(parents=True)
    assert latest_conformed(tmp_path, dt.date(2026, 3, 10)) == dt.date(2026, 3, 8)
