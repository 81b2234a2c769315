"""The workbench's own state, in a real database through SQLAlchemy: users, their
sessions, failed logins, case assignments, notes and the access log.

Decisions are not here: they go into the pipeline's append-only disposition log
(fraud/dispositions.py), which the nightly run, `verify` and training read. The schema
is made and upgraded by Alembic (workbench/migrations/), never by `create_all`.

An SQLite file in the warehouse by default (`<warehouse>/workbench/workbench.db`);
PostgreSQL, or any database SQLAlchemy speaks, by URL (`FRAUD_WORKBENCH_DB`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fraud.storage import ensure_dir

DB_ENV = "FRAUD_WORKBENCH_DB"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

INVESTIGATOR = "investigator"
SUPERVISOR = "supervisor"
AUDITOR = "auditor"
ROLES = (INVESTIGATOR, SUPERVISOR, AUDITOR)


class Utc(TypeDecorator):
    """A moment, stored as UTC without an offset, read back aware: SQLite keeps no
    offset, and every database then compares the same way."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a workbench time needs a UTC offset")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))  # Argon2id, with its parameters
    created_at: Mapped[datetime] = mapped_column(Utc())


class Session(Base):
    """A login. The cookie holds a random token; only its sha256 is stored."""

    __tablename__ = "sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Utc())
    expires_at: Mapped[datetime] = mapped_column(Utc())


class LoginFailure(Base):
    """Failed logins by the name tried (known or not, so a refusal tells nothing) and the
    client's address: `name` holds the sha256 of the two."""

    __tablename__ = "login_failures"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(Utc(), nullable=True)
    last_failed_at: Mapped[datetime | None] = mapped_column(Utc(), nullable=True)


class Assignment(Base):
    """Who works a case, appended: a case's latest row is its assignment (an empty
    assignee: back to the pool)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime] = mapped_column(Utc())


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Utc())


class Access(Base):
    """One view of a case, ring or workplace page, or of the access log itself."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Utc(), index=True)
    user_name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # case, ring, workplace, queue, access_log
    target: Mapped[str] = mapped_column(String(100))


def database_url(warehouse: Path, url: str | None = None) -> str:
    """The workbench database: `url`, else FRAUD_WORKBENCH_DB, else an SQLite file in
    the warehouse (made private to its owner)."""
    url = url or os.environ.get(DB_ENV)
    if url:
        return url
    folder = ensure_dir(Path(warehouse) / "workbench")
    os.chmod(folder, 0o700)
    return f"sqlite:///{folder / 'workbench.db'}"


def migrate(url: str) -> None:
    """Bring the database's schema to the latest migration (Alembic)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    command.upgrade(config, "head")


def engine_for(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        # SQLite checks foreign keys only when asked, per connection.
        event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA foreign_keys=ON"))
    return engine
