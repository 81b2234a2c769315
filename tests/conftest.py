"""Shared fixtures: one session-scoped SparkSession tuned for tiny data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("AIRFLOW_HOME", str(REPO))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def spark():
    from fraud.config import Settings
    from fraud.spark import spark_session

    settings = Settings.from_env(spark_master="local[2]", spark_shuffle_partitions=2,
                                 spark_driver_memory="2g", spark_ui=False)
    session = spark_session(settings, app_name="fraud-tests")
    yield session
    session.stop()


# --- tiny hand-made landings -------------------------------------------------------

P1 = "a" * 64
P2 = "b" * 64
ACCOUNT = "c" * 64
WP = "12345678901"


def claim_row(claim_id="C1", person=P1, updated_at="2026-03-01T10:00:00+09:00", **overrides):
    row = {
        "claim_id": claim_id, "person_key": person, "workplace_id": WP, "separation_code": "23",
        "filed_on": "2026-02-01", "eligible_from": "2026-02-08", "benefit_days": "180",
        "daily_amount": "64000", "bank_account_key": ACCOUNT, "status": "APPROVED", "updated_at": updated_at,
    }
    row.update(overrides)
    return row


def crossing_row(crossing_id="X1", person=P1, crossed_at="2026-02-10T09:00:00+09:00", direction="OUT", **overrides):
    row = {"crossing_id": crossing_id, "person_key": person, "crossed_at": crossed_at,
           "direction": direction, "port_code": "ICN", "country": "JP"}
    row.update(overrides)
    return row


def csv_text(rows: list[dict], header: list[str] | None = None) -> str:
    import csv
    import io

    header = header or list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header] if isinstance(row, dict) else row)
    return buffer.getvalue()


def write_drop(landing, source, day, files: dict[str, str | bytes], encoding="utf-8", rows=None,
               manifest_extra=None, bom=False):
    """Write <landing>/<source>/<day>/ with the given files (table name -> CSV text or
    bytes) and a manifest computed from them; `rows` overrides the row counts."""
    import csv
    import hashlib
    import io
    import json

    drop = landing / source / day
    drop.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode(encoding)
        if bom:
            data = b"\xef\xbb\xbf" + data
        (drop / f"{name}.csv").write_bytes(data)
        text = data.decode(encoding, errors="replace").lstrip("\ufeff")
        count = sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1
        tables[f"{name}.csv"] = {"rows": (rows or {}).get(name, count), "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {"source": source, "drop_date": day, "encoding": encoding, "tables": tables}
    manifest.update(manifest_extra or {})
    (drop / "_MANIFEST.json").write_text(json.dumps(manifest))
    return drop


def empty_drops(landing, day, sources=("ei", "nts", "moj")):
    for source in sources:
        write_drop(landing, source, day, {})
