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

    from jobs.train import latest_conformed

    for name in ("2026-03-01", "2026-03-08", "2026-03-15", ".2026-03-09.staging-abc"):
        (tmp_path / "conformed" / name).mkdir(parents=True)
    assert latest_conformed(tmp_path, dt.date(2026, 3, 10)) == dt.date(2026, 3, 8)


def test_challengers_of_one_date_reuse_its_stored_examples(tmp_path, examples):
    """The examples of a conformed date are computed once; a later challenger reads
    them back (no Spark: passing none proves nothing is recomputed), and examples
    made from other inputs are not reused."""
    import datetime as dt
    import json

    import pytest

    from fraud.layout import Layout
    from jobs.train import examples_made_from, examples_of
    from models.dataset import dataset_checksum

    ds = dt.date(2026, 3, 4)
    stored = Layout(tmp_path).training_examples(ds)
    stored.parent.mkdir(parents=True)
    examples.to_parquet(stored, index=False)
    conformed = tmp_path / "conformed" / ds.isoformat()
    stored.with_suffix(".json").write_text(json.dumps(examples_made_from(conformed, 50, [])))

    again = examples_of(None, conformed, tmp_path, ds, 50)
    assert dataset_checksum(again) == dataset_checksum(examples)
    with pytest.raises(FileNotFoundError):  # other graph settings: recomputed (no conformed tables here)
        examples_of(None, conformed, tmp_path, ds, 10)
    # The date's tables rebuilt after a late delivery: the stored examples no longer hold.
    conformed.mkdir(parents=True)
    (conformed / "_built_from.json").write_text(json.dumps({"drops": [["ei", "2026-03-04", "ab" * 32]]}))
    with pytest.raises(FileNotFoundError):
        examples_of(None, conformed, tmp_path, ds, 50)
    stored.with_suffix(".json").write_text(json.dumps(examples_made_from(conformed, 50, [])))
    assert dataset_checksum(examples_of(None, conformed, tmp_path, ds, 50)) == dataset_checksum(examples)


def test_snapshot_days_every_few_months_from_the_first_day():
    import datetime as dt

    from models.dataset import snapshot_days

    first, last = dt.date(2025, 1, 15), dt.date(2025, 8, 10)
    assert snapshot_days(first, last) == [first] + [dt.date(2025, m, 1) for m in range(2, 9)] + [last]
    # quarterly: counted from January, the month of `first` (whose 1st is before it)
    assert snapshot_days(first, last, months=3) == [first, dt.date(2025, 4, 1), dt.date(2025, 7, 1), last]
