"""The two cross-matches as a user might write them instead of the pipeline: plain SQL
in sqlite3 (stdlib, one process) over the landing's CSV files. The benchmark's
baseline (bench/pipeline_bench.py), not part of the pipeline.

- Undeclared work (as rule UW-01): a certification declaring 0 KRW whose certified
  period overlaps income statements of the claimant filed by the run date, with at
  least one worked day in the period (a statement's work days spread evenly over
  work_from..work_to, narrowed to the claimant's insured spells at that payer, as
  features/certifications.py does).
- Abroad (as rule AB-01): a certification made on a KST day between a departure and
  the next arrival (or the run date when there is none yet).

Each table is read from every drop dated on or before the run date and reduced to
the latest version per key (greatest updated_at, then the latest drop, then the
later line), in SQL. Claims with a finding decided by the run date are left out (the
pipeline does not queue them). No validation: rows are loaded as delivered, which is
what makes this a baseline and not a second pipeline.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from datetime import date
from pathlib import Path

from fraud import contract

UNDECLARED_WORK_SQL = """
WITH certs AS (
  SELECT c.cert_id, c.claim_id, k.person_key, c.period_from, c.period_to
  FROM certifications c JOIN claims k ON k.claim_id = c.claim_id
  WHERE CAST(c.declared_income AS INTEGER) = 0
),
spells AS (
  SELECT i.record_id, MIN(e.acquired_on) AS spell_from, MAX(COALESCE(e.lost_on, '9999-12-31')) AS spell_to
  FROM income i
  JOIN employments e ON e.person_key = i.person_key
  JOIN workplaces w ON w.workplace_id = e.workplace_id AND w.business_no = i.payer_business_no
  WHERE e.acquired_on <= i.work_to AND COALESCE(e.lost_on, '9999-12-31') >= i.work_from
  GROUP BY i.record_id
),
windows AS (
  SELECT i.person_key, CAST(i.work_days AS REAL) AS work_days,
         CASE WHEN s.spell_from IS NULL THEN i.work_from ELSE MAX(i.work_from, s.spell_from) END AS work_from,
         CASE WHEN s.spell_from IS NULL THEN i.work_to ELSE MIN(i.work_to, s.spell_to) END AS work_to
  FROM income i LEFT JOIN spells s ON s.record_id = i.record_id
  WHERE i.filed_on <= :ds
),
statements AS (
  SELECT person_key, work_from, work_to, julianday(work_to) - julianday(work_from) + 1 AS window_days, work_days
  FROM windows
),
overlaps AS (
  SELECT c.cert_id, c.claim_id,
         COALESCE(MIN(s.work_days, s.window_days), s.window_days)
           * (julianday(MIN(s.work_to, c.period_to)) - julianday(MAX(s.work_from, c.period_from)) + 1)
           / s.window_days AS worked
  FROM certs c JOIN statements s
    ON s.person_key = c.person_key AND s.work_from <= c.period_to AND s.work_to >= c.period_from
)
SELECT DISTINCT claim_id FROM (
  SELECT cert_id, claim_id, SUM(worked) AS worked_days FROM overlaps GROUP BY cert_id, claim_id
) WHERE worked_days >= 1
"""

ABROAD_SQL = """
WITH moves AS (
  SELECT person_key, direction, date(crossed_at, '+9 hours') AS day,
         LEAD(direction) OVER w AS next_direction, LEAD(date(crossed_at, '+9 hours')) OVER w AS next_day
  FROM crossings WHERE date(crossed_at, '+9 hours') <= :ds
  WINDOW w AS (PARTITION BY person_key ORDER BY crossed_at, crossing_id)
),
trips AS (
  SELECT person_key, day AS abroad_from, COALESCE(next_day, :ds) AS abroad_to
  FROM moves WHERE direction = 'OUT' AND (next_direction IS NULL OR next_direction = 'IN')
)
SELECT DISTINCT c.claim_id
FROM certifications c JOIN claims k ON k.claim_id = c.claim_id
JOIN trips t ON t.person_key = k.person_key AND c.cert_on BETWEEN t.abroad_from AND t.abroad_to
"""


def _drops(landing: Path, source: str, ds: date) -> list[tuple[str, Path, str]]:
    found = []
    for manifest in sorted((landing / source).glob("*/_MANIFEST.json")):
        day = manifest.parent.name
        if day <= ds.isoformat():
            found.append((day, manifest.parent, json.loads(manifest.read_text())["encoding"]))
    return found


def load(connection: sqlite3.Connection, landing: Path, ds: date) -> dict[str, int]:
    """Every table's rows of the drops dated <= ds, latest version per key, as text
    columns. Returns the row counts loaded (all versions)."""
    loaded = {}
    for table in contract.TABLES.values():
        names = list(table.column_names)
        connection.execute(f"CREATE TABLE raw_{table.name} ({', '.join(names)}, _drop_date, _line_no)")
        rows = 0
        for day, folder, encoding in _drops(landing, table.source, ds):
            path = folder / f"{table.name}.csv"
            if not path.exists():
                continue
            # Streamed: a million persons' income file is ~20 million rows, which as
            # Python lists outgrew 24 GiB (the OOM kills of 2026-11-26 were this, not sqlite).
            with open(
                path, encoding="cp949" if encoding == "cp949" else "utf-8-sig", errors="replace", newline=""
            ) as handle:
                inserted = connection.executemany(
                    f"INSERT INTO raw_{table.name} VALUES ({', '.join('?' * (len(names) + 2))})",
                    (
                        [(row.get(name) or None) for name in names] + [day, line]
                        for line, row in enumerate(csv.DictReader(handle), start=2)
                    ),
                )
            rows += inserted.rowcount
        order = "updated_at DESC, " if table.has_updated_at else ""
        connection.execute(
            f"CREATE TABLE {table.name} AS SELECT {', '.join(names)} FROM ("
            f" SELECT *, ROW_NUMBER() OVER (PARTITION BY {table.primary_key}"
            f" ORDER BY {order}_drop_date DESC, _line_no DESC) AS _version FROM raw_{table.name}"
            f") WHERE _version = 1"
        )
        connection.execute(f"DROP TABLE raw_{table.name}")
        loaded[table.name] = rows
    connection.execute("CREATE INDEX claims_key ON claims (claim_id)")
    connection.execute("CREATE INDEX income_person ON income (person_key)")
    connection.execute("CREATE INDEX employments_person ON employments (person_key)")
    connection.execute("CREATE INDEX workplaces_key ON workplaces (workplace_id)")
    connection.execute("CREATE INDEX crossings_person ON crossings (person_key, crossed_at)")
    return loaded


def cross_match(landing: Path, ds: date, database: Path | None = None) -> dict:
    """Load and run both cross-matches, in memory or in the sqlite file `database`
    (deleted after; the benchmark uses a file from 1,000,000 persons, where the
    database itself is several GiB).
    Returns the claims found by each (undecided claims only), the rows loaded and the
    seconds spent loading and querying."""
    started = time.perf_counter()
    if database is not None:
        Path(database).unlink(missing_ok=True)
    connection = sqlite3.connect(":memory:" if database is None else str(database))
    try:
        loaded = load(connection, Path(landing), ds)
        loaded_at = time.perf_counter()
        params = {"ds": ds.isoformat()}
        decided = {
            row[0]
            for row in connection.execute(
                "SELECT claim_id FROM findings WHERE claim_id IS NOT NULL AND decided_on <= :ds", params
            )
        }
        undeclared = {row[0] for row in connection.execute(UNDECLARED_WORK_SQL, params)} - decided
        matched_at = time.perf_counter()
        abroad = {row[0] for row in connection.execute(ABROAD_SQL, params)} - decided
        done = time.perf_counter()
    finally:
        connection.close()
        if database is not None:
            Path(database).unlink(missing_ok=True)
    return {
        "undeclared_work": sorted(undeclared),
        "abroad": sorted(abroad),
        "rows_loaded": sum(loaded.values()),
        "load_seconds": loaded_at - started,
        "undeclared_work_seconds": matched_at - loaded_at,
        "abroad_seconds": done - matched_at,
        "seconds": done - started,
    }
