"""`fraudctl airflow up|down|status|env`: the project's own command for the Airflow
stack (ops/stack.py)."""

from __future__ import annotations

import dataclasses
import shlex
import sys

import click

from ops.secrets import SecretsError
from ops.stack import (
    StackConfig,
    StackError,
    down,
    ensure_spark_pool,
    health,
    serves_stages,
    stack_environment,
    status,
    up,
)


def _fail(message: str) -> None:
    click.echo(f"fraudctl airflow: {message}", err=True)
    sys.exit(1)


@click.group("airflow")
def airflow() -> None:
    """Start, stop and inspect the Airflow stack (scheduler, DAG processor, API server,
    and the stage server its tasks' Spark stages run in) of AIRFLOW_HOME, on loopback;
    logs, pids and generated secrets in $AIRFLOW_HOME/airflow-run/ (FRAUD_AIRFLOW_RUN_DIR)."""


@airflow.command("up")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="API server port (default FRAUD_AIRFLOW_PORT or 8080)."
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=180,
    show_default=True,
    help="Seconds to wait until every component is healthy.",
)
@click.option(
    "--stage-server/--no-stage-server",
    default=None,
    help="Start the stage server, one Spark driver for every task's Spark stage "
    "(default: on, unless FRAUD_AIRFLOW_STAGE_SERVER=0).",
)
def airflow_up(port: int | None, timeout: int, stage_server: bool | None) -> None:
    """Migrate the DB, start every component, return once all are healthy."""
    config = StackConfig.from_env(port=port)
    if stage_server is not None:
        config = dataclasses.replace(config, stage_server=stage_server)
    try:
        pids = up(config, timeout=timeout)
    except (StackError, SecretsError) as error:
        _fail(str(error))
    for component, pid in pids.items():
        click.echo(f"{component:<14} pid {pid:<8} log {config.log_file(component)}")
    click.echo(
        f"Airflow UI and API: {config.base_url}  (users: [core] simple_auth_manager_users; "
        f"passwords: {config.home / 'simple_auth_manager_passwords.json.generated'})"
    )


@airflow.command("down")
def airflow_down() -> None:
    """Stop the components `up` started (by their recorded pids)."""
    stopped = down(StackConfig.from_env())
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@airflow.command("status")
def airflow_status() -> None:
    """Each component's pid, and the API server's health report; exit 1 unless all run."""
    config = StackConfig.from_env()
    running = status(config)
    for component, pid in running.items():
        click.echo(f"{component:<14} {'pid ' + str(pid) if pid else 'stopped'}")
    report = health(config)
    click.echo(f"health: {report or 'API server not answering at ' + config.base_url}")
    if not all(running.values()):
        sys.exit(1)


@airflow.command("env")
def airflow_env() -> None:
    """Print `export` lines for the stack's environment (secrets included), so that
    `airflow` commands in this shell reach the same stack: eval "$(fraudctl airflow env)"."""
    config = StackConfig.from_env()
    # The socket only of a stage server the running stack has (`up --no-stage-server`).
    config = dataclasses.replace(config, stage_server=serves_stages(config))
    try:
        environment = stack_environment(config)
    except SecretsError as error:
        _fail(str(error))
    for name in sorted(environment):
        click.echo(f"export {name}={shlex.quote(environment[name])}")


@airflow.command("pool")
def airflow_pool() -> None:
    """Create or resize the `spark` pool the nightly DAG's Spark stages share: slots for
    what this machine holds, or FRAUD_SPARK_POOL_SLOTS (`make` and `up` run it)."""
    try:
        slots = ensure_spark_pool()
    except (StackError, ValueError) as error:
        _fail(str(error))
    click.echo(f"pool spark: {slots} slot(s)")
