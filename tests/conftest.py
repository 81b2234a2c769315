"""Shared fixtures: one session-scoped SparkSession tuned for tiny data, tiny landings,
synthetic training examples and a tiny scoring model."""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("AIRFLOW_HOME", str(REPO))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# The suite's worlds are small: a night builds on the night before at any size, so
# that the tests of incremental nights test it (fraud/config.py: INCREMENTAL_MIN_ROWS;
# tests/jobs/test_conform.py tests the size itself).
os.environ.setdefault("FRAUD_INCREMENTAL_MIN_ROWS", "0")

# pytest-xdist's workers run tests under an execnet `__main__` that has neither a spec
# nor a file, which pyspark.sql.connect (imported by GX) takes for a run of its own
# doctests and answers with sys.exit(0). Give that `__main__` a spec naming no file
# (multiprocessing's spawn, should anything use it, leaves a `__main__` so named alone).
if os.environ.get("PYTEST_XDIST_WORKER") and getattr(sys.modules["__main__"], "__spec__", None) is None:
    import importlib.machinery

    sys.modules["__main__"].__spec__ = importlib.machinery.ModuleSpec("__main__", None)

# `make test-fast` (FRAUD_TEST_TIER=fast) runs the tests that need no JVM. Java is made
# unreachable for it, in this process and in every subprocess it starts, so that a test
# that starts Spark without being marked `jvm` fails there instead of slowing it down.
FAST_TIER = os.environ.get("FRAUD_TEST_TIER") == "fast"
if FAST_TIER:
    os.environ["JAVA_HOME"] = "/nonexistent/no-jvm-in-the-fast-tier"

# Fixtures whose set-up starts a JVM (Spark, or a run of the pipeline in a subprocess).
JVM_FIXTURES = {"spark"}


def pytest_collection_modifyitems(config, items):
    """Mark `jvm` every test that starts Spark: those that use the `spark` fixture
    (directly or through another fixture) and those marked `slow` (whole runs in a
    subprocess); mark `services` those that start a PostgreSQL server (the same test
    runs on SQLite in the fast tier) or drive Chromium. `make test-fast` deselects
    both."""
    for item in items:
        if JVM_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.jvm)
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database") == "postgresql"
        if on_postgres or getattr(getattr(item, "module", None), "chromium", None) is chromium:
            item.add_marker(pytest.mark.services)


# The suite's session evaluates expressions without generated code and plans without
# adaptive execution: on a test's few rows, compiling each new plan's code and
# re-planning after each shuffle cost more than the rows themselves (a test of nightly
# runs: 145 s with both, 111 s without). They change how Spark computes, not what: the
# tests that run the pipeline in a subprocess (the DAG test, the CLI's, the bench) use
# the production configuration of fraud/spark.py, with both.
TINY_DATA_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
}


@pytest.fixture(scope="session")
def spark():
    from fraud.config import Settings
    from fraud.spark import spark_session

    settings = Settings.from_env(
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        spark_driver_memory="6g",
        spark_ui=False,
        spark_conf=TINY_DATA_CONF,
    )
    session = spark_session(settings, app_name="fraud-tests")
    yield session
    session.stop()


def spark_jobs(spark, label: str, action):
    """What `action()` returns, and how many Spark jobs it started (in job group
    `label`, which must be new)."""
    context = spark.sparkContext
    context.setJobGroup(label, label)
    try:
        result = action()
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    return result, len(context.statusTracker().getJobIdsForGroup(label))


def operators_over(frame, column: str) -> list[list[str]]:
    """For each leaf of `frame`'s physical plan whose output has `column` (a scan of
    one table): the operators above it, nearest first, up to the root. AQE off, as
    in the tests' session (`TINY_DATA_CONF`): the plan is the one that runs."""

    def names(attributes) -> list[str]:
        return [attributes.apply(i).name() for i in range(attributes.size())]

    found = []

    def walk(node, above: list[str]) -> None:
        children = node.children()
        if children.size() == 0:
            if column in names(node.output()):
                found.append(above[::-1])
            return
        for i in range(children.size()):
            walk(children.apply(i), [*above, node.nodeName()])

    walk(frame._jdf.queryExecution().executedPlan(), [])
    return found


def shuffled_before_a_broadcast_join(scans: list[list[str]]) -> list[list[str]]:
    """Of `operators_over`'s scans, those whose rows are shuffled or broadcast (an
    exchange of either kind: the scanned table would be the broadcast side), or joined
    otherwise than against a broadcast, before their first join is over."""

    def first_join(above: list[str]) -> int:
        return next((n for n, name in enumerate(above) if name.endswith("Join")), len(above))

    return [
        above
        for above in scans
        if any(name.endswith("Exchange") for name in above[: first_join(above)])
        or above[first_join(above) : first_join(above) + 1] != ["BroadcastHashJoin"]
    ]


@contextlib.contextmanager
def spark_conf(spark, key: str, value: str):
    """`spark` with `key` set to `value` inside the block, as it was after it."""
    before = spark.conf.get(key, None)
    spark.conf.set(key, value)
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


@pytest.fixture(autouse=True, scope="module")
def _release_spark_memory():
    """After each test module: drop what it cached and let Spark's cleaner free the
    checkpoints and broadcasts of frames nobody holds any more, so that the one
    session of the suite does not fill its heap module after module."""
    yield
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        from fraud.spark import release_memory

        session.catalog.clearCache()
        release_memory()


# --- tiny hand-made landings -------------------------------------------------------

P1 = "a" * 64
P2 = "b" * 64
ACCOUNT = "c" * 64
WP = "12345678901"


# One contract-valid row per table, as a feed delivers it (text cells); keyword
# arguments replace cells. Tests build their rows from these.
def claim_row(claim_id="C1", person=P1, updated_at="2026-03-01T10:00:00+09:00", **overrides):
    row = {
        "claim_id": claim_id,
        "person_key": person,
        "workplace_id": WP,
        "separation_code": "23",
        "filed_on": "2026-02-01",
        "eligible_from": "2026-02-08",
        "benefit_days": "180",
        "daily_amount": "64000",
        "bank_account_key": ACCOUNT,
        "status": "APPROVED",
        "updated_at": updated_at,
    }
    row.update(overrides)
    return row


def crossing_row(crossing_id="X1", person=P1, crossed_at="2026-02-10T09:00:00+09:00", direction="OUT", **overrides):
    row = {
        "crossing_id": crossing_id,
        "person_key": person,
        "crossed_at": crossed_at,
        "direction": direction,
        "port_code": "ICN",
        "country": "JP",
    }
    row.update(overrides)
    return row


def employment_row(**overrides):
    row = {
        "employment_id": "E1",
        "person_key": P1,
        "workplace_id": "12345678901",
        "acquired_on": "2025-01-02",
        "lost_on": "2025-12-31",
        "separation_code": "23",
        "monthly_wage": "2500000",
        "updated_at": "2026-01-05T10:00:00+09:00",
    }
    row.update(overrides)
    return row


def cert_row(**overrides):
    row = {
        "cert_id": "K1",
        "claim_id": "C1",
        "cert_on": "2026-03-01",
        "period_from": "2026-02-01",
        "period_to": "2026-02-28",
        "channel": "ONLINE",
        "ip_country": "KR",
        "job_search_count": "2",
        "declared_income": "0",
        "paid_days": "28",
        "paid_amount": "1792000",
        "updated_at": "2026-03-01T10:00:00+09:00",
    }
    row.update(overrides)
    return row


def income_row(**overrides):
    row = {
        "record_id": "N1",
        "person_key": P1,
        "payer_business_no": "1234567890",
        "income_type": "WAGE",
        "work_from": "2026-01-01",
        "work_to": "2026-01-31",
        "work_days": "12",
        "amount": "1200000",
        "filed_on": "2026-02-28",
        "updated_at": "2026-02-28T10:00:00+09:00",
    }
    row.update(overrides)
    return row


def workplace_row(**overrides):
    row = {
        "workplace_id": "12345678901",
        "business_no": "1234567890",
        "name": "(주)테스트",
        "representative_key": P1,
        "address": "서울특별시 중구 세종대로 110",
        "phone": "02-123-4567",
        "bank_account_key": ACCOUNT,
        "industry_code": "47",
        "region_code": "11",
        "opened_on": "2010-01-01",
        "closed_on": "",
        "updated_at": "2020-01-01T10:00:00+09:00",
    }
    row.update(overrides)
    return row


def finding_row(**overrides):
    row = {
        "finding_id": "F1",
        "person_key": P1,
        "claim_id": "C1",
        "workplace_id": "",
        "fraud_type": "UNDECLARED_WORK",
        "decided_on": "2026-01-20",
        "overpaid_amount": "1000000",
        "collusion": "N",
        "updated_at": "2026-01-20T10:00:00+09:00",
    }
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


def write_drop(
    landing, source, day, files: dict[str, str | bytes], encoding="utf-8", rows=None, manifest_extra=None, bom=False
):
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


# --- a tiny scoring model ------------------------------------------------------------


def tiny_examples(days_step: int = 3, copies: int = 10):
    """Training examples (models/dataset.py EXAMPLE_COLUMNS) whose only signal is
    `worked_days`: of the `copies` claims with w worked days, a share of about w / 30
    was found. Every other feature is 0."""
    import datetime as dt

    import pandas as pd

    from models.model_features import FEATURE_NAMES

    rows = []
    for worked_days in range(0, 31, days_step):
        found = round(copies * worked_days / 30)
        for copy in range(copies):
            decided = dt.date(2025, 1, 1) + dt.timedelta(days=(worked_days * 7 + copy * 31) % 360)
            rows.append(
                {
                    "claim_id": f"CL-{worked_days:02d}-{copy}",
                    "decision_on": decided,
                    "snapshot_on": decided.replace(day=1),
                    "label": int(copy < found),
                    "fraud_type": "UNDECLARED_WORK" if copy < found else None,
                    **{name: 0.0 for name in FEATURE_NAMES},
                    "worked_days": float(worked_days),
                }
            )
    return pd.DataFrame(rows)


def train_tiny_model(num_boost_round: int = 30):
    """A deterministic model on `tiny_examples`: the more days of work on record in
    certified periods, the likelier fraud (Platt-calibrated, so probabilities differ)."""
    import datetime as dt

    from models.fit import PLATT, TrainingConfig, train

    config = TrainingConfig(
        holdout_from=dt.date(2026, 1, 1),
        capacity=10,
        calibration=PLATT,
        calibration_share=0.0,
        num_boost_round=num_boost_round,
    )
    return train(tiny_examples(), config)


def register_tiny_model(warehouse, model=None) -> str:
    """Log a tiny model into the warehouse's embedded MLflow store; its version."""
    from models.dataset import dataset_checksum
    from models.registry import ModelRegistry

    examples = tiny_examples()
    registry = ModelRegistry(warehouse)
    return registry.log_version(
        model or train_tiny_model(), examples, {"sha256": dataset_checksum(examples), "ds": "2025-12-31"}
    )


# --- synthetic training examples for the model tests (no Spark) ----------------------
# Here and not in tests/models/conftest.py: a second module named `conftest` would
# shadow this one for the other tests' `from conftest import ...`.

TYPOLOGIES = ("UNDECLARED_WORK", "ABROAD_CERTIFICATION")


def synthetic_examples(rows: int = 800, seed: int = 7, signal: bool = True):
    """Examples in the shape of models/dataset.py EXAMPLE_COLUMNS. Positives of
    UNDECLARED_WORK have more undeclared-work certifications, ABROAD_CERTIFICATION
    more abroad certifications; `signal=False` gives the same labels with features
    that carry no information."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    from models.model_features import FEATURE_NAMES

    rng = np.random.default_rng(seed)
    labels = (rng.random(rows) < 0.15).astype(int)
    fraud_types = np.where(labels == 1, rng.choice(TYPOLOGIES, rows), None)
    features = {name: rng.poisson(1.0, rows).astype(float) for name in FEATURE_NAMES}
    features["spell_days"] = np.where(rng.random(rows) < 0.1, np.nan, rng.integers(90, 2000, rows)).astype(float)
    if signal:
        features["undeclared_work_certifications"] += 3 * (fraud_types == "UNDECLARED_WORK") * rng.random(rows)
        features["abroad_certifications"] += 3 * (fraud_types == "ABROAD_CERTIFICATION") * rng.random(rows)
    first = dt.date(2025, 1, 1)
    decisions = [first + dt.timedelta(days=int(d)) for d in rng.integers(0, 365, rows)]
    frame = pd.DataFrame(
        {
            "claim_id": [f"CL-{i:05d}" for i in range(rows)],
            "decision_on": decisions,
            "snapshot_on": [dt.date(d.year, d.month, 1) for d in decisions],
            "label": labels,
            "fraud_type": fraud_types,
            **features,
        }
    )
    return frame


@pytest.fixture(scope="session")
def examples():
    return synthetic_examples()


@pytest.fixture(scope="session")
def noise_examples():
    return synthetic_examples(signal=False)


def hex_key(name: str) -> str:
    """A readable stand-in for a 64-hex person or account key."""
    return name.encode().hex().ljust(64, "0")[:64]


def conformed_frame(spark, table_name: str, rows: list[dict]):
    """A conformed table (contract columns, contract types) from a few dicts of typed
    values, or of text cells as a feed delivers them (the row helpers above): a date,
    timestamp or number given as text is read as conform reads it, an empty one as
    null; text stays as given."""
    from fraud import contract

    table = contract.TABLES[table_name]
    kinds = {column.name: column.spark_type for column in table.columns}
    read = {
        "date": dt.date.fromisoformat,
        "timestamp": dt.datetime.fromisoformat,
        "bigint": int,
    }

    def typed(name, value):
        if not isinstance(value, str) or kinds[name] == "string":
            return value
        return read[kinds[name]](value) if value else None

    return spark.createDataFrame(
        [tuple(typed(name, row.get(name)) for name in table.column_names) for row in rows], table.spark_ddl
    )


# --- a local webhook receiver (operator notifications, ops/notify.py) ---------------


@pytest.fixture
def webhook_receiver():
    """An HTTP server on a free loopback port, in a thread, that records every POST
    (path, headers, JSON body) in `.received` and answers `.status` (204)."""
    import http.server
    import json
    import threading

    class Receiver(http.server.ThreadingHTTPServer):
        received: list[dict]
        status = 204

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.server.received.append(
                {"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"null")}
            )
            self.send_response(self.server.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = Receiver(("127.0.0.1", 0), Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --- the workbench's databases and sample night (tests/workbench/) ---------------------
# SQLite (the default, a file in the warehouse), and a real PostgreSQL started from the
# system's packages for this test session. `make test` installs PostgreSQL
# (scripts/system-packages.sh) and sets FRAUD_TEST_POSTGRES=required, so there a missing
# or broken server fails the tests; elsewhere the PostgreSQL half is skipped, saying why.

PAGES_TESTS = Path(__file__).resolve().parent / "pages"


@pytest.fixture(scope="session")
def report_sample():
    """tests/pages/report_sample.py: the report tests' hand-made night."""
    spec = importlib.util.spec_from_file_location("report_sample", PAGES_TESTS / "report_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: then run it as the package's `postgres` user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster on a free local port: its base URL, or a skip."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    required = os.environ.get("FRAUD_TEST_POSTGRES") == "required"
    if not found:
        if required:
            pytest.fail("PostgreSQL is required (FRAUD_TEST_POSTGRES=required) but no initdb is installed")
        pytest.skip("no PostgreSQL installed (scripts/system-packages.sh test installs it)")
    bin_dir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    data, port = root / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    try:
        subprocess.run(
            _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(root / "server.log"),
                    "-o",
                    f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, OSError) as error:
        detail = getattr(error, "stderr", b"") or b""
        message = f"PostgreSQL did not start: {error} {detail.decode(errors='replace')[-300:]}"
        shutil.rmtree(root, ignore_errors=True)
        if required:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request):
    """None: the default SQLite file in the warehouse; else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, text

    base = request.getfixturevalue("postgres_server")
    name = f"workbench_{time.monotonic_ns()}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


# --- headless Chromium (Debian's chromium + chromium-driver; never a download) --------
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def chromium(profile: Path):
    """A headless Chromium driven by Selenium, its profile in `profile`, logging every
    network request (DevTools' performance log)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
