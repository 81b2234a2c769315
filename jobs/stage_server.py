"""One Spark driver for every Spark task of every night (issue #23).

Each Airflow task is a process of its own, and so each Spark stage of a night started
its own JVM, which then compiled Spark's code again before it ran at speed: at 20,000
persons a night whose stages each ran in a new process took 341 s, the same night in
one process 151 to 171 s, and in a process that had already run the night before 89 to
92 s (bench/results.md). `fraudctl stage-server` is that process: it stays up between
nights, and the DAG's Spark tasks hand it their stage instead of starting Spark
themselves (`jobs/pipeline.py:run_for_airflow`, when FRAUD_STAGE_SERVER names its
socket). Not Spark Connect: the stages use the driver's SparkContext (job groups, the
status tracker, the active session per thread), which a Connect client does not have.

The protocol is one JSON object per line over a Unix socket that only its owner may
open (mode 0600). The task sends the stage, the run date, its upstream result paths,
its settings and its code version; the server answers with the log records the stage
writes, then one last line: the stage's upstream (`upstream`), its error (`error`), or
why it would not run it (`refused`: other code, or other Spark settings than the
server's session was started with). On `refused` or no server listening, the task runs
the stage itself, as it did before, and says so in its log: a night never waits for or
fails on a server that is not there. A server that dies during a stage fails the task,
which Airflow retries. Stages run one at a time, in the order their tasks connect.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fraud.config import Settings
from fraud.storage import ensure_dir
from fraud.version import code_version

log = logging.getLogger(__name__)

# The settings fixed when the server's Spark session starts: a stage sent with other
# values is refused (and runs in its task) rather than computed with the server's.
SESSION_SETTINGS = ("spark_master", "spark_conf", "spark_shuffle_partitions", "spark_driver_memory", "spark_ui")
REQUEST_KEYS = ("stage", "ds", "upstream", "settings", "code_version")
# A request is a few hundred bytes; a line longer than this is no request.
MAX_REQUEST_BYTES = 1 << 20


class StageServerError(Exception):
    """The stage failed on the server, or the server went away during it."""


def settings_to_json(settings: Settings) -> dict:
    return {
        name: str(value) if isinstance(value, Path) else value for name, value in dataclasses.asdict(settings).items()
    }


def settings_from_json(values: dict) -> Settings:
    paths = {field.name for field in dataclasses.fields(Settings) if "Path" in str(field.type)}
    return Settings(
        **{name: Path(value) if name in paths and value is not None else value for name, value in values.items()}
    )


def _refusal(request: dict, served: Settings, version: str) -> str | None:
    """Why the server will not run `request`, or None."""
    if request.get("code_version") != version:
        return f"the server runs code {version}, the task {request.get('code_version')}: restart the server"
    sent = request["settings"]
    ours = settings_to_json(served)
    differing = [name for name in SESSION_SETTINGS if sent.get(name) != ours[name]]
    if differing:
        return f"the server's Spark session was started with other {', '.join(differing)}: restart the server"
    return None


class _Forwarding(logging.Handler):
    """Sends each log record of a stage to the task that asked for it."""

    def __init__(self, send: Callable[[dict], None]):
        super().__init__()
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._send({"log": {"name": record.name, "level": record.levelno, "message": self.format(record)}})
        except OSError:  # the task went away: the stage still finishes, its log stays on the server
            pass


def _send_to(connection: socket.socket) -> Callable[[dict], None]:
    lock = threading.Lock()

    def send(message: dict) -> None:
        with lock:
            connection.sendall(json.dumps(message).encode() + b"\n")

    return send


def _read_request(connection: socket.socket) -> dict:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise ValueError(f"a request longer than {MAX_REQUEST_BYTES} bytes")
    return json.loads(data)


def handle(connection: socket.socket, served: Settings, runner: Callable, version: str) -> str | None:
    """Answer one request on `connection`: run its stage with `runner` (run_stage's
    signature) unless it is refused. Returns the stage run, if one was."""
    send = _send_to(connection)
    try:
        request = _read_request(connection)
        missing = [key for key in REQUEST_KEYS if key not in request]
        if missing:
            raise ValueError(f"no {', '.join(missing)}")
    except (ValueError, TypeError, OSError) as error:
        with contextlib.suppress(OSError):
            send({"refused": f"not a request: {error}"})
        return None
    refused = _refusal(request, served, version)
    if refused:
        log.warning("refused stage %s for %s: %s", request.get("stage"), request.get("ds"), refused)
        send({"refused": refused})
        return None
    forwarding = _Forwarding(send)
    forwarding.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(forwarding)
    try:
        settings = settings_from_json(request["settings"])
        upstream = runner(request["stage"], date.fromisoformat(request["ds"]), request["upstream"], settings)
        answer = {"upstream": upstream}
    except Exception as error:  # noqa: BLE001 -- the task raises it; the server serves the next
        log.exception("stage %s for %s failed", request["stage"], request["ds"])
        answer = {"error": f"{type(error).__name__}: {error}"}
    finally:
        root.removeHandler(forwarding)
    with contextlib.suppress(OSError):
        send(answer)
    return request["stage"]


def serve(
    path: Path,
    served: Settings | None = None,
    runner: Callable | None = None,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Listen on the Unix socket `path` and run the stages sent to it, one at a time,
    until `stop` is set (or the process is stopped). The Spark session starts at once,
    with `served`'s settings (default: the environment's)."""
    from jobs.pipeline import STAGES, run_stage

    served = served or Settings.from_env()
    runner = runner or run_stage
    version = code_version()
    if runner is run_stage:
        from fraud.spark import spark_session

        spark_session(served)  # started now, not by the first night's first task
    ensure_dir(path.parent)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # the socket: its owner only
    try:
        listener.bind(str(path))
    finally:
        os.umask(previous)
    listener.listen(8)
    listener.settimeout(0.5)
    log.info("stage server on %s (code %s, Spark master %s)", path, version, served.spark_master)
    if ready is not None:
        ready.set()
    try:
        while stop is None or not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(None)
                try:
                    stage = handle(connection, served, runner, version)
                except Exception:  # noqa: BLE001 -- one bad exchange never stops the server
                    log.exception("stage server: a request could not be answered")
                    stage = None
            if runner is run_stage and stage is not None:
                from fraud.spark import release_memory

                # As `fraudctl run` does (jobs/pipeline.py:run_all): Python's garbage after
                # each stage; Spark's blocks and the JVM's heap also after the last Spark
                # stage before the report, and after the report, the night's end.
                release_memory(jvm=stage in [s.name for s in STAGES if s.uses_spark][-2:])
    finally:
        listener.close()
        path.unlink(missing_ok=True)


def submit(path: Path, stage: str, ds: date, upstream: dict | None, settings: Settings) -> dict[str, str] | None:
    """Run `stage` on the server listening on `path`; its log records are logged here.
    Returns the stage's upstream, or None when no server listens there or it refused
    (the caller then runs the stage itself). Raises StageServerError when the stage
    failed on the server or the server went away during it."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
    except OSError as error:
        connection.close()
        log.warning("no stage server on %s (%s): running stage %s in this process", path, error, stage)
        return None
    request = {
        "stage": stage,
        "ds": ds.isoformat(),
        "upstream": dict(upstream or {}),
        "settings": settings_to_json(settings),
        "code_version": code_version(),
    }
    with connection, connection.makefile("rb") as answers:
        connection.sendall(json.dumps(request).encode() + b"\n")
        for line in answers:
            message = json.loads(line)
            if "log" in message:
                record = message["log"]
                logging.getLogger(record["name"]).log(record["level"], "%s", record["message"])
            elif "refused" in message:
                log.warning("the stage server refused stage %s (%s): running it here", stage, message["refused"])
                return None
            elif "error" in message:
                raise StageServerError(f"stage {stage} for {ds} failed on the stage server: {message['error']}")
            else:
                return message["upstream"]
    raise StageServerError(f"the stage server on {path} went away during stage {stage} for {ds}")
