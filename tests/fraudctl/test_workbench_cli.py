"""`fraudctl users` and `fraudctl serve`: the workbench's commands."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from fraudctl.main import main
from workbench.store import User, database_url, engine_for


def test_a_user_is_added_with_the_password_from_standard_input_and_listed(tmp_path):
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["users", "add", "kim", "--role", "supervisor", "--warehouse", str(tmp_path)],
        input="a long enough password\n",
    )
    assert added.exit_code == 0, added.output
    with Session(engine_for(database_url(tmp_path))) as db:
        [user] = db.scalars(select(User)).all()
    assert (user.name, user.role) == ("kim", "supervisor") and user.password_hash.startswith("$argon2id$")
    listed = runner.invoke(main, ["users", "list", "--warehouse", str(tmp_path)])
    assert listed.exit_code == 0 and listed.output.startswith("kim\tsupervisor")


def test_a_short_password_or_a_second_user_of_one_name_is_a_one_line_error(tmp_path):
    runner = CliRunner()
    args = ["users", "add", "kim", "--role", "investigator", "--warehouse", str(tmp_path)]
    short = runner.invoke(main, args, input="short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    assert runner.invoke(main, args, input="a long enough password\n").exit_code == 0
    again = runner.invoke(main, args, input="a long enough password\n")
    assert again.exit_code == 2 and "user kim exists" in again.output and len(again.output.strip().splitlines()) == 1


def test_serve_refuses_a_warehouse_without_a_night(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--warehouse", str(tmp_path)])
    assert result.exit_code == 2 and "run a night first" in result.output
