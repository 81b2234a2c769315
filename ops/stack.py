"""Start and stop the Airflow stack of a checkout: scheduler, DAG processor and API
server (`fraudctl airflow up|down|status`).

Everything listens on loopback. Each component runs in its own session (its
LocalExecutor workers with it), logs to `<run_dir>/<component>.log` and records its
pid in `<run_dir>/<component>.pid`; `<run_dir>` (default `$AIRFLOW_HOME/airflow-run`,
gitignored, 0700) also holds the generated secrets (ops/secrets.py). `up` returns once
the API server reports the metadata DB, the scheduler and the DAG processor healthy;
`down` stops exactly the processes whose pids it recorded.

Unless told not to (`FRAUD_AIRFLOW_STAGE_SERVER=0`, `up --no-stage-server`), `up` also
starts `fraudctl stage-server` on `<run_dir>/stages.sock` and gives the components
FRAUD_STAGE_SERVER, so that the DAG's tasks run their Spark stages in that one
long-lived driver instead of a JVM each (jobs/stage_server.py, docs/scale.md); a task
that cannot use it runs its stage itself.

No triggerer: the deadline callback is a SyncCallback, which the executor runs.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jobs.stage_server import check_socket_path
from jobs.stage_server import listens as stage_server_answers
from ops.dag_defaults import SPARK_POOL, spark_pool_slots
from ops.secrets import ensure_secrets

log = logging.getLogger(__name__)

COMPONENTS = ("api-server", "scheduler", "dag-processor")
STAGE_SERVER = "stage-server"
STAGE_SOCKET = "stages.sock"
# What each process's command line holds (a recycled pid runs something else).
_MARKERS = {**{component: b"airflow" for component in COMPONENTS}, STAGE_SERVER: b"fraudctl.main\x00stage-server"}
HEALTHY = ("metadatabase", "scheduler", "dag_processor")
AIRFLOW = (sys.executable, "-m", "airflow")


class StackError(Exception):
    """The stack could not be started or stopped; the message says why in one line."""


@dataclass(frozen=True)
class StackConfig:
    """Where the stack lives and listens. From the environment: AIRFLOW_HOME (default:
    the current directory), FRAUD_AIRFLOW_RUN_DIR, FRAUD_AIRFLOW_SECRETS,
    FRAUD_AIRFLOW_PORT (default 8080), FRAUD_AIRFLOW_STAGE_SERVER (default on: `0`,
    `false`, `no` or `off` turn it off) and FRAUD_STAGE_SERVER (its socket)."""

    home: Path
    run_dir: Path
    secrets_file: Path
    host: str = "127.0.0.1"
    port: int = 8080
    stage_server: bool = True
    stage_socket: Path | None = None  # default <run_dir>/stages.sock

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, port: int | None = None) -> "StackConfig":
        environ = os.environ if environ is None else environ
        home = Path(environ.get("AIRFLOW_HOME") or Path.cwd()).resolve()
        run_dir = Path(environ.get("FRAUD_AIRFLOW_RUN_DIR") or home / "airflow-run").resolve()
        secrets_file = Path(environ.get("FRAUD_AIRFLOW_SECRETS") or run_dir / "secrets.env").resolve()
        return cls(
            home=home,
            run_dir=run_dir,
            secrets_file=secrets_file,
            port=port or int(environ.get("FRAUD_AIRFLOW_PORT", 8080)),
            stage_server=environ.get("FRAUD_AIRFLOW_STAGE_SERVER", "1").strip().lower()
            not in ("0", "false", "no", "off"),
            stage_socket=Path(environ["FRAUD_STAGE_SERVER"]).absolute() if environ.get("FRAUD_STAGE_SERVER") else None,
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def pid_file(self, component: str) -> Path:
        return self.run_dir / f"{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.run_dir / f"{component}.log"

    @property
    def socket_path(self) -> Path:
        """Where the stage server listens: FRAUD_STAGE_SERVER, or `<run_dir>/stages.sock`."""
        return self.stage_socket or self.run_dir / STAGE_SOCKET


def stack_environment(config: StackConfig, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What every component (and every `airflow` command an operator runs against the
    stack) needs on top of `environ`: AIRFLOW_HOME, the secrets (from `environ` or the
    secrets file), the loopback address and port and, with a stage server, its socket
    (FRAUD_STAGE_SERVER: tasks run their Spark stages there)."""
    overlay = ensure_secrets(config.secrets_file, os.environ if environ is None else environ)
    overlay.update(
        {
            "AIRFLOW_HOME": str(config.home),
            "AIRFLOW__API__HOST": config.host,
            "AIRFLOW__API__PORT": str(config.port),
            "AIRFLOW__API__BASE_URL": config.base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{config.base_url}/execution/",
        }
    )
    if config.stage_server:
        overlay["FRAUD_STAGE_SERVER"] = str(config.socket_path)
    return overlay


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


PF_KTHREAD = 0x00200000  # include/linux/sched.h


def _is_our_airflow(pid: int, settle: float = 0.5, marker: bytes = b"airflow") -> bool:
    """True when `pid` is alive and is an airflow process (not a recycled pid); with
    `marker`, a process whose command line holds that instead.

    A cmdline reads empty for a moment while a process renames itself (setproctitle,
    as the components do) and while a new program is being exec'd into it: read again
    for up to `settle` seconds; still empty, it is alive and taken for ours."""
    deadline = time.monotonic() + settle
    while True:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            state, flags = fields[0], int(fields[6])
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError, ValueError):
            return False
        if state == "Z" or flags & PF_KTHREAD:  # a kernel thread's cmdline is always empty
            return False
        if cmdline or time.monotonic() >= deadline:
            return marker in cmdline or cmdline == b""
        time.sleep(0.02)


def _is_ours(component: str, pid: int) -> bool:
    return _is_our_airflow(pid, marker=_MARKERS[component])


def status(config: StackConfig) -> dict[str, int | None]:
    """Each component's pid when it is running, else None; the stage server's too when
    `up` started one (its pid file is there until `down`)."""
    running = {}
    for component in (*COMPONENTS, STAGE_SERVER):
        pid = _read_pid(config.pid_file(component))
        if component != STAGE_SERVER or pid is not None:
            running[component] = pid if pid and _is_ours(component, pid) else None
    return running


def serves_stages(config: StackConfig) -> bool:
    """Whether the running stack was started with a stage server (`up` records its pid)."""
    return _read_pid(config.pid_file(STAGE_SERVER)) is not None


def health(config: StackConfig, timeout: float = 5) -> dict:
    """The API server's health report ({} when it does not answer)."""
    try:
        with urllib.request.urlopen(f"{config.base_url}/api/v2/monitor/health", timeout=timeout) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return {}


def _is_healthy(report: dict) -> bool:
    return all((report.get(part) or {}).get("status") == "healthy" for part in HEALTHY)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def ensure_spark_pool(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> int:
    """Create or resize the `spark` pool the nightly DAG's Spark stages share, with the
    slots this machine holds (ops/dag_defaults.py:spark_pool_slots). -> the slots."""
    slots = spark_pool_slots()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow",
            "pools",
            "set",
            SPARK_POOL,
            str(slots),
            "Spark stages of fraud_nightly (each takes every core of a local Spark)",
        ],
        env=dict(os.environ if env is None else env),
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise StackError(
            f"airflow pools set {SPARK_POOL} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
        )
    log.info("pool %s: %d slot(s)", SPARK_POOL, slots)
    return slots


def up(config: StackConfig, timeout: float = 180, environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Migrate the metadata DB, start every component, wait until healthy. Returns the
    pids. Raises StackError when something is already running or does not come up
    (what was started is stopped again)."""
    already = {name: pid for name, pid in status(config).items() if pid}
    if already:
        raise StackError(
            f"already running: {', '.join(f'{n} (pid {p})' for n, p in already.items())}; "
            "run `fraudctl airflow down` first"
        )
    config.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(config.run_dir, 0o700)
    environ = dict(os.environ if environ is None else environ)
    env = {**environ, **stack_environment(config, environ)}
    migrate = subprocess.run([*AIRFLOW, "db", "migrate"], env=env, cwd=config.home, capture_output=True, text=True)
    if migrate.returncode != 0:
        raise StackError(f"airflow db migrate failed: {(migrate.stderr or migrate.stdout).strip().splitlines()[-1:]}")
    ensure_spark_pool(env, cwd=config.home)
    try:
        return _start_and_wait(config, env, timeout)
    except BaseException:  # a failed start, or Ctrl-C while waiting: nothing left running
        down(config)
        raise


def _start_and_wait(config: StackConfig, env: Mapping[str, str], timeout: float) -> dict[str, int]:
    pids = {}
    if config.stage_server:  # first: its Spark session starts while the components do
        pids[STAGE_SERVER] = start_stage_server(config, env)
    arguments = {
        "api-server": ["api-server", "--host", config.host, "--port", str(config.port)],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
    }
    for component in COMPONENTS:
        pids[component] = _start(config, component, [*AIRFLOW, *arguments[component]], env)
    give_up = time.monotonic() + timeout
    while True:
        dead = [name for name, pid in pids.items() if not _is_ours(name, pid)]
        if dead:
            raise StackError(f"{dead[0]} exited while starting: {_tail(config.log_file(dead[0]))}")
        report = health(config)
        serving = not config.stage_server or stage_server_answers(config.socket_path)
        if _is_healthy(report) and serving:
            log.info("Airflow is up at %s", config.base_url)
            return pids
        if time.monotonic() > give_up:
            waiting = report or "API server not answering"
            if not serving:
                waiting = f"{waiting}; no stage server on {config.socket_path}"
            raise StackError(f"not healthy after {timeout:.0f}s: {waiting} (logs in {config.run_dir})")
        time.sleep(2)


def start_stage_server(config: StackConfig, env: Mapping[str, str]) -> int:
    """Start `fraudctl stage-server` on the stack's socket with the stack's environment
    (`env`: the settings its tasks send must match its own). -> its pid; it answers on
    the socket once its Spark session has started (`stage_server_answers`)."""
    try:
        check_socket_path(config.socket_path)
    except ValueError as error:
        raise StackError(f"{error}: set FRAUD_AIRFLOW_RUN_DIR to a shorter path, or FRAUD_AIRFLOW_STAGE_SERVER=0")
    if stage_server_answers(config.socket_path):
        raise StackError(
            f"a stage server already listens on {config.socket_path} (one started by hand?): "
            "stop it, or start the stack with --no-stage-server"
        )
    command = [sys.executable, "-m", "fraudctl.main", "stage-server", "--socket", str(config.socket_path)]
    return _start(config, STAGE_SERVER, command, env)


def _start(config: StackConfig, component: str, command: list[str], env: Mapping[str, str]) -> int:
    """Start one component in its own session, logging to its log file; record its pid."""
    with open(config.log_file(component), "ab") as log_handle:
        process = subprocess.Popen(
            command,
            env=dict(env),
            cwd=config.home,
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    config.pid_file(component).write_text(f"{process.pid}\n")
    log.info("started %s (pid %d, log %s)", component, process.pid, config.log_file(component))
    return process.pid


def down(config: StackConfig, timeout: float = 60) -> list[str]:
    """Stop the components whose pids `up` recorded (each with its session: the
    executor's workers), SIGTERM then, after `timeout`, SIGKILL. The stopped names."""
    stopped = []
    pids = {}
    for component in (*COMPONENTS, STAGE_SERVER):
        pid = _read_pid(config.pid_file(component))
        if pid and _is_ours(component, pid):
            pids[component] = pid
            _signal_session(pid, signal.SIGTERM)
    give_up = time.monotonic() + timeout
    while any(_is_alive(pid) for pid in pids.values()) and time.monotonic() < give_up:
        time.sleep(0.5)
    for component, pid in pids.items():
        if _is_alive(pid):
            log.warning("%s (pid %d) did not stop in %.0fs: killing it", component, pid, timeout)
            _signal_session(pid, signal.SIGKILL)
        stopped.append(component)
    for component in (*COMPONENTS, STAGE_SERVER):
        config.pid_file(component).unlink(missing_ok=True)
    return stopped


def _signal_session(pid: int, signum: int) -> None:
    """Signal the process group `up` created for this component (start_new_session:
    its id is the component's pid), so its executor workers stop with it."""
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def _is_alive(pid: int) -> bool:
    """Whether `pid` still runs, or is still dying: a process whose main thread has
    exited reads as a zombie while its other threads are torn down, and holds its
    files (a stage server's socket) until the last one has gone."""

    def reap() -> bool:  # when it is our child (the tests start it in-process)
        try:
            return os.waitpid(pid, os.WNOHANG)[0] == pid
        except ChildProcessError:
            return False

    reap()
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        if state != "Z":
            return True
        if reap():  # it exited since the first look
            return False
        return len(list(Path(f"/proc/{pid}/task").iterdir())) > 1
    except (FileNotFoundError, ProcessLookupError):  # gone, or reaped while read
        return False
