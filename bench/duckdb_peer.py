"""The peer: the two cross-matches as a user who does not pick this project would write
them, in DuckDB SQL over the landing's CSV files. The benchmark's yardstick
(bench/pipeline_bench.py), not part of the pipeline.

- Undeclared work (as rule UW-01 once did): a certification declaring 0 KRW whose
  certified period overlaps income statements of the claimant filed by the run date,
  with at least one worked day in the period (a statement's work days spread evenly
  over work_from..work_to, narrowed to the claimant's insured spells at that payer).
  The averaging is the peer's, kept as the issue measured it: the pipeline proves work
  inside a period before it taints one (docs/rules.md).
- Abroad (as rule AB-01): a certification made on a KST day between a departure and the
  next arrival (or the run date when there is none yet).

Each table is read from every drop dated on or before the run date and reduced to the
latest version per key (greatest updated_at, then the latest drop, then the later
line), in SQL. Claims with a finding decided by the run date are left out (the pipeline
does not queue them). No validation: rows are read as delivered (unparseable lines
skipped), which is what makes this a peer and not a second pipeline. DuckDB reads UTF-8
only without an extension it would have to download: a CP949 drop is first re-encoded
to a temporary UTF-8 file, as a user would with iconv, and that time is counted.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from fraud import contract

UNDECLARED_WORK_SQL = """
WITH certs AS (
  SELECT c.cert_id, c.claim_id, k.person_key, c.period_from, c.period_to
  FROM certifications c JOIN claims k ON k.claim_id = c.claim_id
  WHERE TRY_CAST(c.declared_income AS BIGINT) = 0
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
  SELECT i.person_key, TRY_CAST(i.work_days AS DOUBLE) AS work_days,
         CASE WHEN s.spell_from IS NULL THEN i.work_from ELSE GREATEST(i.work_from, s.spell_from) END AS work_from,
         CASE WHEN s.spell_from IS NULL THEN i.work_to ELSE LEAST(i.work_to, s.spell_to) END AS work_to
  FROM income i LEFT JOIN spells s ON s.record_id = i.record_id
  WHERE i.filed_on <= $ds
),
statements AS (
  SELECT person_key, work_from, work_to,
         date_diff('day', TRY_CAST(work_from AS DATE), TRY_CAST(work_to AS DATE)) + 1 AS window_days, work_days
  FROM windows
),
overlapping AS (
  SELECT c.cert_id, c.claim_id,
         COALESCE(LEAST(s.work_days, s.window_days), s.window_days)
           * (date_diff('day', TRY_CAST(GREATEST(s.work_from, c.period_from) AS DATE),
                        TRY_CAST(LEAST(s.work_to, c.period_to) AS DATE)) + 1)
           / s.window_days AS worked
  FROM certs c JOIN statements s
    ON s.person_key = c.person_key AND s.work_from <= c.period_to AND s.work_to >= c.period_from
)
SELECT DISTINCT claim_id FROM (
  SELECT cert_id, claim_id, SUM(worked) AS worked_days FROM overlapping GROUP BY cert_id, claim_id
) WHERE worked_days >= 1
"""

ABROAD_SQL = """
WITH crossed AS (
  SELECT person_key, direction, crossing_id, TRY_CAST(crossed_at AS TIMESTAMPTZ) AS crossed_at,
         CAST(TRY_CAST(crossed_at AS TIMESTAMPTZ) AT TIME ZONE 'Asia/Seoul' AS DATE) AS day
  FROM crossings
),
moves AS (
  SELECT person_key, direction, day,
         LEAD(direction) OVER w AS next_direction, LEAD(day) OVER w AS next_day
  FROM crossed WHERE day <= CAST($ds AS DATE)
  WINDOW w AS (PARTITION BY person_key ORDER BY crossed_at, crossing_id)
),
trips AS (
  SELECT person_key, day AS abroad_from, COALESCE(next_day, CAST($ds AS DATE)) AS abroad_to
  FROM moves WHERE direction = 'OUT' AND (next_direction IS NULL OR next_direction = 'IN')
)
SELECT DISTINCT c.claim_id
FROM certifications c JOIN claims k ON k.claim_id = c.claim_id
JOIN trips t ON t.person_key = k.person_key
 AND TRY_CAST(c.cert_on AS DATE) BETWEEN t.abroad_from AND t.abroad_to
"""


def _drops(landing: Path, source: str, ds: date) -> list[tuple[str, Path, str]]:
    found = []
    for manifest in sorted((landing / source).glob("*/_MANIFEST.json")):
        day = manifest.parent.name
        if day <= ds.isoformat():
            found.append((day, manifest.parent, json.loads(manifest.read_text())["encoding"]))
    return found


def _as_utf8(path: Path, scratch: Path) -> Path:
    """A CP949 file re-encoded to UTF-8 in `scratch`, streamed."""
    target = scratch / f"{path.parent.name}-{path.name}"
    with open(path, encoding="cp949", errors="replace", newline="") as source:
        with open(target, "w", encoding="utf-8", newline="") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
    return target


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load(connection: duckdb.DuckDBPyConnection, landing: Path, ds: date, scratch: Path) -> dict[str, int]:
    """Every table's rows of the drops dated <= ds, latest version per key, as text
    columns. Returns the row counts read (all versions)."""
    loaded = {}
    for table in contract.TABLES.values():
        names = list(table.column_names)
        reads = []
        for day, folder, encoding in _drops(landing, table.source, ds):
            path = folder / f"{table.name}.csv"
            if not path.exists():
                continue
            if encoding == "cp949":
                path = _as_utf8(path, scratch)
            reads.append(
                f"SELECT {', '.join(names)}, {_quote(day)} AS _drop_date, row_number() OVER () AS _line_no"
                f" FROM read_csv({_quote(str(path))}, header = true, all_varchar = true, delim = ',',"
                f" quote = '\"', escape = '\"', ignore_errors = true, strict_mode = false)"
            )
        if not reads:
            connection.execute(f"CREATE TABLE {table.name} ({', '.join(f'{name} VARCHAR' for name in names)})")
            loaded[table.name] = 0
            continue
        connection.execute(f"CREATE TABLE raw_{table.name} AS {' UNION ALL '.join(reads)}")
        loaded[table.name] = connection.execute(f"SELECT count(*) FROM raw_{table.name}").fetchone()[0]
        # As instants: "Z" and "+09:00" stamps do not sort as text.
        order = "TRY_CAST(updated_at AS TIMESTAMPTZ) DESC NULLS LAST, " if table.has_updated_at else ""
        connection.execute(
            f"CREATE TABLE {table.name} AS SELECT {', '.join(names)} FROM raw_{table.name}"
            f" QUALIFY row_number() OVER (PARTITION BY {table.primary_key}"
            f" ORDER BY {order}_drop_date DESC, _line_no DESC) = 1"
        )
        connection.execute(f"DROP TABLE raw_{table.name}")
    return loaded


def cross_match(landing: Path, ds: date) -> dict:
    """Read the drops and run both cross-matches in one in-memory DuckDB database (it
    spills to a temporary directory when memory runs short).
    Returns the claims found by each (undecided claims only), the rows read and the
    seconds spent reading and querying."""
    started = time.perf_counter()
    connection = duckdb.connect(":memory:")
    scratch = Path(tempfile.mkdtemp(prefix="duckdb-peer-"))
    try:
        connection.execute(f"SET temp_directory = {_quote(str(scratch))}")
        loaded = load(connection, Path(landing), ds, scratch)
        loaded_at = time.perf_counter()
        params = {"ds": ds.isoformat()}
        decided = {
            row[0]
            for row in connection.execute(
                "SELECT claim_id FROM findings WHERE claim_id IS NOT NULL AND decided_on <= $ds", params
            ).fetchall()
        }
        undeclared = {row[0] for row in connection.execute(UNDECLARED_WORK_SQL, params).fetchall()} - decided
        matched_at = time.perf_counter()
        abroad = {row[0] for row in connection.execute(ABROAD_SQL, params).fetchall()} - decided
        done = time.perf_counter()
    finally:
        connection.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "undeclared_work": sorted(undeclared),
        "abroad": sorted(abroad),
        "rows_loaded": sum(loaded.values()),
        "load_seconds": loaded_at - started,
        "undeclared_work_seconds": matched_at - loaded_at,
        "abroad_seconds": done - matched_at,
        "seconds": done - started,
    }
