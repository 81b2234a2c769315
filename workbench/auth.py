"""Users, passwords and logins.

- Passwords are stored as Argon2id hashes (argon2-cffi's defaults, RFC 9106's
  low-memory profile), re-hashed on login when the parameters change.
- A login is a server-side session: the cookie holds a random token, the database its
  sha256 and when it expires (`SESSION_HOURS`). Logging out deletes it.
- Every form carries the session's CSRF token (`csrf_token`), checked on each POST.
- Failed logins are slowed down per name tried and client address: after
  `FREE_FAILURES`, each further failure blocks that pair for twice as long as the one
  before (up to `MAX_BLOCK_SECONDS`), whether the name exists or not, so a refusal
  tells nothing; failures are forgotten after `FORGET_AFTER` without one. Per pair, so
  that someone guessing cannot lock a colleague out from another desk. Attempts are
  serialised (one process: `fraudctl serve`), so parallel requests cannot slip past
  the count.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from workbench.store import ROLES, LoginFailure, Session, User

SESSION_HOURS = 8
FREE_FAILURES = 3
MAX_BLOCK_SECONDS = 15 * 60
FORGET_AFTER = timedelta(minutes=15)
MIN_PASSWORD_CHARS = 12
_NAME = re.compile(r"[0-9A-Za-z_.\-가-힣]{1,100}")
_hasher = PasswordHasher()
_attempts = threading.Lock()


class AuthError(Exception):
    """A refused login or account change: one line, safe to show."""


def add_user(db: DbSession, name: str, role: str, password: str, now: datetime) -> User:
    if not _NAME.fullmatch(name or ""):
        raise AuthError("a user name is 1 to 100 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    if db.get(User, name) is not None:
        raise AuthError(f"user {name} exists")
    user = User(name=name, role=role, password_hash=_hasher.hash(password), created_at=now)
    db.add(user)
    db.commit()
    return user


class Throttled(AuthError):
    """Too many failed logins from this address for this name, for now."""


def log_in(db: DbSession, name: str, password: str, now: datetime, client: str = "") -> tuple[str, Session]:
    """A new session for `name` logging in from `client` (its address), or AuthError.
    Returns the cookie's token and the session."""
    key = hashlib.sha256(f"{name}\n{client}".encode()).hexdigest()
    with _attempts:
        failure = db.get(LoginFailure, key)
        if failure is not None and failure.last_failed_at is not None and now - failure.last_failed_at > FORGET_AFTER:
            db.delete(failure)
            db.flush()
            failure = None
        if failure is not None and failure.blocked_until is not None and failure.blocked_until > now:
            wait = int((failure.blocked_until - now).total_seconds()) + 1
            raise Throttled(f"too many failed logins: try again in {wait} s")
        user = db.get(User, name) if _NAME.fullmatch(name or "") else None
        if user is None or not _verified(user, password):
            if user is None:
                _hasher.hash(password or "-")  # as slow as a wrong password: no hint which it was
            _count_failure(db, failure or LoginFailure(name=key, failures=0), now)
            raise AuthError("wrong name or password")
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        if failure is not None:
            db.delete(failure)
        return _new_session(db, user.name, now)


def _new_session(db: DbSession, name: str, now: datetime) -> tuple[str, Session]:
    token = secrets.token_urlsafe(32)
    session = Session(
        token_sha256=_digest(token),
        user_name=name,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=SESSION_HOURS),
    )
    db.execute(delete(Session).where(Session.expires_at <= now))
    db.add(session)
    db.commit()
    return token, session


def trusted_session(db: DbSession, name: str, now: datetime) -> tuple[str, Session]:
    """A session for a user a site's single sign-on proxy authenticated (no password)."""
    return _new_session(db, name, now)


def session_of(db: DbSession, token: str | None, now: datetime) -> tuple[Session, User] | None:
    """The live session a cookie's token opens, with its user; None when there is none
    or it expired."""
    if not token:
        return None
    session = db.get(Session, _digest(token))
    if session is None or session.expires_at <= now:
        return None
    user = db.get(User, session.user_name)
    return (session, user) if user is not None else None


def log_out(db: DbSession, token: str | None) -> None:
    if token:
        db.execute(delete(Session).where(Session.token_sha256 == _digest(token)))
        db.commit()


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and secrets.compare_digest(session.csrf_token.encode(), submitted.encode())


def users(db: DbSession) -> list[User]:
    return list(db.scalars(select(User).order_by(User.name)))


def _verified(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _count_failure(db: DbSession, failure: LoginFailure, now: datetime) -> None:
    failure.failures += 1
    failure.last_failed_at = now
    beyond = failure.failures - FREE_FAILURES
    if beyond > 0:
        failure.blocked_until = now + timedelta(seconds=min(2 ** (beyond - 1), MAX_BLOCK_SECONDS))
    db.add(failure)
    db.commit()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
