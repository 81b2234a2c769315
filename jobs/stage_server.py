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
open (mode 0600), and each side checks the other runs as the same user. The task sends
the stage, the run date, its upstream result paths, its settings and what identifies
its code and environment. The server answers `started` once it takes the stage, then
the Python log records the stage writes, then one last line: the stage's upstream
(`upstream`) or its error (`error`). Before `started` it may answer `refused` instead:
other code or environment, other Spark settings than its session was started with, a
Spark driver that has stopped. Refused, no server listening, or the connection lost
before `started`, and the task runs the stage itself, as it did before, saying why in
its log: a night never fails on a server that is not there. After `started`, a stage
that fails fails its task, and so does a server that dies during it (Airflow retries
the task). A task that goes away during its stage (killed by its timeout) has the
stage's Spark jobs cancelled. The server runs one stage at a time, in the order the
tasks connect; a task waiting for it waits within its own timeout.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import select
import socket
import stat
import struct
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fraud.config import PATH_SETTINGS, Settings
from fraud.storage import ensure_dir
from fraud.version import code_version, lock_digest, source_digest

log = logging.getLogger(__name__)

# The settings fixed when the server's Spark session starts: a stage sent with other
# values is refused (and runs in its task) rather than computed with the server's.
SESSION_SETTINGS = ("spark_master", "spark_conf", "spark_shuffle_partitions", "spark_driver_memory", "spark_ui")
# What a stage reads from the process environment beyond Settings: the model registry
# (models/registry.py:TRACKING_URI_ENV). A task and a server that differ here refuse.
PROCESS_ENVIRONMENT = ("FRAUD_MLFLOW_TRACKING_URI",)
REQUEST_KEYS = {"stage": str, "ds": str, "upstream": dict, "settings": dict, "identity": dict}
# A request is a few hundred bytes; a line longer than this is no request.
MAX_REQUEST_BYTES = 1 << 20
# Seconds a connected task has to send its request, and a log record to reach the task.
REQUEST_SECONDS = 10
SEND_SECONDS = 30
# A Unix socket's path holds at most 107 bytes on Linux.
MAX_SOCKET_PATH = 107


class StageServerError(Exception):
    """The stage failed on the server, or the server went away during it."""


def settings_to_json(settings: Settings) -> dict:
    return {
        name: str(value) if isinstance(value, Path) else value for name, value in dataclasses.asdict(settings).items()
    }


def settings_from_json(values: dict) -> Settings:
    paths = {name: Path(values[name]) for name in PATH_SETTINGS if values.get(name) is not None}
    return Settings(**{**values, **paths})


def identity() -> dict:
    """What must be the same in a task and the server for a stage to run on the server:
    the code (its commit, and the digest of its sources, which an uncommitted edit
    changes too), the environment's lock and the environment the stages read."""
    return {
        "code_version": code_version(),
        "source_digest": source_digest(),
        "lock_digest": lock_digest(),
        "environment": {name: os.environ.get(name) for name in PROCESS_ENVIRONMENT},
    }


def check_socket_path(path: Path) -> None:
    """A one-line error for a path no Unix socket can have."""
    if len(os.fsencode(str(path))) > MAX_SOCKET_PATH:
        raise ValueError(f"socket path {path} is longer than {MAX_SOCKET_PATH} bytes")


def _peer_uid(connection: socket.socket) -> int:
    return struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[1]


def _driver_stopped() -> bool:
    """Whether this process's Spark driver has stopped (its JVM died or was stopped)."""
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is None:
        return True
    try:
        return bool(context._jsc.sc().isStopped())
    except Exception:  # noqa: BLE001 -- a gateway that no longer answers is a stopped driver
        return True


def _cancel_spark_jobs() -> None:
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is not None:
        context.cancelAllJobs()


def _refusal(request: dict, served: Settings, ours: dict, driver_stopped: Callable[[], bool]) -> str | None:
    """Why the server will not run `request`, or None."""
    theirs = request["identity"]
    if theirs.get("code_version") != ours["code_version"]:
        return f"the server runs code {ours['code_version']}, the task {theirs.get('code_version')}: restart the server"
    differing = [name for name in ("source_digest", "lock_digest", "environment") if theirs.get(name) != ours[name]]
    if differing:
        return f"the server's {', '.join(differing)} differ from the task's: restart the server"
    sent, served_json = request["settings"], settings_to_json(served)
    differing = [name for name in SESSION_SETTINGS if sent.get(name) != served_json[name]]
    if differing:
        return f"the server's Spark session was started with other {', '.join(differing)}: restart the server"
    if driver_stopped():
        return "the server's Spark driver has stopped: restart the server"
    return None


class _Forwarding(logging.Handler):
    """Sends each log record of a stage to the task that asked for it."""

    def __init__(self, send: Callable[[dict], None]):
        super().__init__()
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._send({"log": {"name": record.name, "level": record.levelno, "message": self.format(record)}})
        except OSError:  # the task went away: the stage is cancelled (_watch), its log stays here
            pass
        except Exception:  # noqa: BLE001 -- a bad log call never fails the stage, as on stderr
            self.handleError(record)


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
    request = json.loads(data)
    if not isinstance(request, dict):
        raise ValueError("not an object")
    wrong = [key for key, kind in REQUEST_KEYS.items() if not isinstance(request.get(key), kind)]
    if wrong:
        raise ValueError(f"no valid {', '.join(wrong)}")
    return request


def _watch(connection: socket.socket, done: threading.Event, cancel: Callable[[], None]) -> None:
    """Until `done`: when the task hangs up (its timeout killed it), cancel the stage's
    Spark jobs, so that the stage ends with an error instead of running on unseen."""
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
    while not done.is_set():
        if not poller.poll(500):
            continue
        try:
            gone = connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, TimeoutError):  # nothing to read after all
            gone = False
        except OSError:
            gone = True
        if gone:
            if not done.is_set():
                log.warning("the task went away during its stage: cancelling the stage's Spark jobs")
                cancel()
            return
        done.wait(0.5)  # the task sent more than its request: nothing to read, look again later


def handle(
    connection: socket.socket,
    served: Settings,
    runner: Callable,
    ours: dict,
    driver_stopped: Callable[[], bool] = _driver_stopped,
    cancel: Callable[[], None] = _cancel_spark_jobs,
) -> str | None:
    """Answer one request on `connection`: run its stage with `runner` (run_stage's
    signature) unless it is refused. Returns the stage run, if one was."""
    send = _send_to(connection)
    try:
        if _peer_uid(connection) != os.getuid():
            raise ValueError("the task runs as another user")
        connection.settimeout(REQUEST_SECONDS)
        request = _read_request(connection)
        connection.settimeout(SEND_SECONDS)
        refused = _refusal(request, served, ours, driver_stopped)
    except (ValueError, TypeError, AttributeError, OSError) as error:
        with contextlib.suppress(OSError):
            send({"refused": f"not a request: {error}"})
        return None
    if refused:
        log.warning("refused stage %s for %s: %s", request["stage"], request["ds"], refused)
        with contextlib.suppress(OSError):
            send({"refused": refused})
        return None
    try:
        send({"started": request["stage"]})
    except OSError:
        return None  # the task went away before its stage started: it runs nowhere
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(connection, done, cancel), daemon=True)
    watcher.start()
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
        done.set()
        watcher.join()
    with contextlib.suppress(OSError):
        send(answer)
    return request["stage"]


def _claim(path: Path) -> None:
    """Make `path` free for this server's socket: refused when a server answers there or
    something other than a socket is there; a socket left by a server that died goes."""
    check_socket_path(path)
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise ValueError(f"{path} exists and is not a socket")
    if not listens(path):
        path.unlink()  # a dead server's
        return
    raise ValueError(f"a stage server already listens on {path}")


def listens(path: Path) -> bool:
    """Whether a server listens on the Unix socket `path` (a stage server binds it once
    its Spark session has started). A connection that sends nothing is refused, not
    logged."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def serve(
    path: Path,
    served: Settings | None = None,
    runner: Callable | None = None,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
    release: Callable[[str], None] | None = None,
    driver_stopped: Callable[[], bool] = _driver_stopped,
    cancel: Callable[[], None] = _cancel_spark_jobs,
) -> None:
    """Listen on the Unix socket `path` and run the stages sent to it, one at a time,
    until `stop` is set (or the process is stopped). With the pipeline's own runner
    (the default), the Spark session starts at once with `served`'s settings (default:
    the environment's) and every stage's module is imported, so that what runs is the
    code on disk now; `release(stage)` runs after each stage run (default: memory
    given back as `fraudctl run` does)."""
    from jobs.pipeline import STAGES, run_stage

    served = served or Settings.from_env()
    _claim(path)
    if runner is None:
        from fraud.spark import spark_session

        runner = run_stage
        spark_session(served)  # started now, not by the first night's first task
        for stage in STAGES:
            stage.job()
        release = release or _release_after(STAGES)
    ours = identity()
    ensure_dir(path.parent)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # the socket: its owner only
    try:
        listener.bind(str(path))
    finally:
        os.umask(previous)
    bound = path.stat().st_ino
    listener.listen(8)
    listener.settimeout(0.5)
    log.info("stage server on %s (code %s, Spark master %s)", path, ours["code_version"], served.spark_master)
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
                    stage = handle(connection, served, runner, ours, driver_stopped, cancel)
                except Exception:  # noqa: BLE001 -- one bad exchange never stops the server
                    log.exception("stage server: a request could not be answered")
                    stage = None
            if stage is not None and release is not None:
                release(stage)
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_ino == bound:  # not a socket another server has bound since
                path.unlink()


def _release_after(stages) -> Callable[[str], None]:
    """As `fraudctl run` gives memory back (jobs/pipeline.py:run_all): Python's garbage
    after each stage; Spark's blocks and the JVM's heap also after the last Spark stage
    before the report, and after the report, the night's end."""
    from fraud.spark import release_memory

    last_two = [stage.name for stage in stages if stage.uses_spark][-2:]
    return lambda stage: release_memory(jvm=stage in last_two)


def submit(path: Path, stage: str, ds: date, upstream: dict | None, settings: Settings) -> dict[str, str] | None:
    """Run `stage` on the server listening on `path`; its log records are logged here.
    Returns the stage's upstream, or None when the stage did not start there (no server,
    another user's, a refusal, the connection lost before the server took the stage):
    the caller then runs the stage itself. Raises StageServerError when the stage
    failed on the server or the server went away during it."""
    request = {
        "stage": stage,
        "ds": ds.isoformat(),
        "upstream": dict(upstream or {}),
        "settings": settings_to_json(settings),
        "identity": identity(),
    }
    started = False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(path))
            if _peer_uid(connection) != os.getuid():
                log.warning("the stage server on %s runs as another user: running stage %s here", path, stage)
                return None
            connection.sendall(json.dumps(request).encode() + b"\n")
            with connection.makefile("rb") as answers:
                for line in answers:
                    message = json.loads(line)
                    if "log" in message:
                        record = message["log"]
                        logging.getLogger(record["name"]).log(record["level"], "%s", record["message"])
                    elif "started" in message:
                        started = True
                    elif "refused" in message and not started:
                        log.warning("stage server refused stage %s (%s): running it here", stage, message["refused"])
                        return None
                    elif "error" in message:
                        raise StageServerError(f"stage {stage} for {ds} failed on the stage server: {message['error']}")
                    elif "upstream" in message and started:
                        return message["upstream"]
                    else:
                        raise ValueError(f"an answer the protocol has no place for: {line[:200]!r}")
    except (OSError, ValueError) as error:
        if started:
            raise StageServerError(f"lost the stage server on {path} during stage {stage} for {ds}: {error}") from error
        log.warning("no stage server took stage %s on %s (%s): running it here", stage, path, error)
        return None
    if started:
        raise StageServerError(f"the stage server on {path} went away during stage {stage} for {ds}")
    log.warning("the stage server on %s closed before taking stage %s: running it here", path, stage)
    return None
