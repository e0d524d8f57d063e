"""Log-in sessions kept in the database, and failed log-ins counted there.

A log-in gets a random id. The browser's cookie carries it with an HMAC signature (so a
forged or damaged cookie is turned away before any query); the `login_sessions` row, found by
the id's SHA-256, says whose it is and until when. Every run checks the row, so log-out, a
password change, "log out everywhere" and a removed account end a log-in at once on every
replica, and neither the signing key nor a copy of the database logs anyone in.

A log-in lasts SESSION_IDLE after it was last used, renewed as it is used (at most every
RENEW_EVERY, to keep runs from writing), and never longer than SESSION_MAX after it began.

Failed log-ins are counted per typed username and per client address, with one atomic
upsert each, whether or not the username exists: after FREE_ATTEMPTS the next attempt must
wait, twice as long after each further failure, up to MAX_WAIT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import Database
from core.models import LoginFailure, LoginSession, User, utcnow

SESSION_IDLE = timedelta(days=7)
SESSION_MAX = timedelta(days=30)
RENEW_EVERY = timedelta(minutes=10)
# Ended log-ins are kept this long (to tell "logged out" from "never existed" in a log).
KEEP_ENDED = timedelta(days=1)

FREE_ATTEMPTS = 3
FIRST_WAIT = timedelta(seconds=2)
MAX_WAIT = timedelta(minutes=15)
# Failures older than this (counted from the last one) are forgotten.
FAILURE_WINDOW = timedelta(hours=1)


def _digest(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode()).hexdigest()


def _signature(raw_id: str, key: str) -> str:
    mac = hmac.new(key.encode(), raw_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def sign(raw_id: str, key: str) -> str:
    """The cookie's value for this log-in id."""
    return f"{raw_id}.{_signature(raw_id, key)}"


def unsign(value: object, key: str) -> str | None:
    """The log-in id a cookie carries, or None for anything not signed with this key."""
    if not isinstance(value, str) or value.count(".") != 1 or len(value) > 200:
        return None
    raw_id, signature = value.split(".")
    if not raw_id or not hmac.compare_digest(signature, _signature(raw_id, key)):
        return None
    return raw_id


@dataclass(frozen=True)
class LoginCheck:
    """A live log-in: its user, and its new expiry when this check renewed it."""

    user: User
    renewed_until: datetime | None


class LoginSessions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def start(self, user_id: int, now: datetime | None = None) -> tuple[str, datetime]:
        """A new log-in for this user: its random id (for the cookie) and its expiry."""
        now = now or utcnow()
        raw_id = secrets.token_urlsafe(32)
        expires = now + SESSION_IDLE
        with self.db.writing() as session:
            # Housekeeping on the way: log-ins long over go.
            session.execute(
                delete(LoginSession).where(
                    or_(
                        LoginSession.expires_at < now - KEEP_ENDED,
                        LoginSession.revoked_at < now - KEEP_ENDED,
                    )
                )
            )
            session.add(
                LoginSession(
                    id_hash=_digest(raw_id),
                    user_id=user_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires,
                )
            )
        return raw_id, expires

    def check(self, raw_id: str | None, now: datetime | None = None) -> LoginCheck | None:
        """The user of a live log-in (renewed if due), or None if it ended or never was."""
        if not raw_id:
            return None
        now = now or utcnow()
        id_hash = _digest(raw_id)
        with self.db.reading() as session:
            row = session.execute(
                select(User, LoginSession.created_at, LoginSession.last_seen_at)
                .join(LoginSession, LoginSession.user_id == User.id)
                .where(
                    LoginSession.id_hash == id_hash,
                    LoginSession.revoked_at.is_(None),
                    LoginSession.expires_at > now,
                )
            ).first()
        if row is None:
            return None
        user, created, last_seen = row
        if now - last_seen < RENEW_EVERY:
            return LoginCheck(user, None)
        expires = min(now + SESSION_IDLE, created + SESSION_MAX)
        with self.db.writing() as session:
            session.execute(
                update(LoginSession)
                .where(LoginSession.id_hash == id_hash, LoginSession.revoked_at.is_(None))
                .values(last_seen_at=now, expires_at=expires)
            )
        return LoginCheck(user, expires)

    def end(self, raw_id: str | None) -> None:
        """End one log-in (log-out)."""
        if not raw_id:
            return
        with self.db.writing() as session:
            session.execute(
                update(LoginSession)
                .where(LoginSession.id_hash == _digest(raw_id), LoginSession.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )

    def end_all(self, user_id: int, *, keep: str | None = None) -> int:
        """End every log-in of this user but `keep`'s; how many were live."""
        now = utcnow()
        conditions = [
            LoginSession.user_id == user_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > now,
        ]
        if keep:
            conditions.append(LoginSession.id_hash != _digest(keep))
        with self.db.writing() as session:
            result = session.execute(update(LoginSession).where(*conditions).values(revoked_at=now))
        return result.rowcount or 0

    def live_count(self, user_id: int) -> int:
        with self.db.reading() as session:
            return session.scalar(
                select(func.count())
                .select_from(LoginSession)
                .where(
                    LoginSession.user_id == user_id,
                    LoginSession.revoked_at.is_(None),
                    LoginSession.expires_at > utcnow(),
                )
            )


def failure_keys(username: str, address: str | None) -> list[str]:
    """What a failed log-in counts against: the typed username, and the client's address."""
    keys = [f"user:{username.strip().lower()[:150]}"]
    if address:
        keys.append(f"addr:{address[:150]}")
    return keys


def wait_after(failures: int) -> timedelta:
    """How long after its last failure a key must wait before the next attempt."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    doublings = min(failures - FREE_ATTEMPTS, 20)  # 2 s * 2**20 is far past MAX_WAIT already
    return min(FIRST_WAIT * 2**doublings, MAX_WAIT)


class LoginFailures:
    def __init__(self, db: Database) -> None:
        self.db = db

    def wait(self, keys: Iterable[str], now: datetime | None = None) -> timedelta:
        """How long these keys must still wait before an attempt (zero: go ahead)."""
        now = now or utcnow()
        with self.db.reading() as session:
            rows = session.execute(
                select(LoginFailure.count, LoginFailure.last_at).where(
                    LoginFailure.key.in_(list(keys))
                )
            ).all()
        waits = [
            last_at + wait_after(count) - now
            for count, last_at in rows
            if now - last_at < FAILURE_WINDOW
        ]
        return max([timedelta(0), *waits])

    def record(self, keys: Iterable[str], now: datetime | None = None) -> None:
        """Count one failure against each key, atomically (an upsert per key)."""
        now = now or utcnow()
        table = LoginFailure.__table__
        insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        with self.db.writing() as session:
            for key in keys:
                statement = insert(table).values(key=key, count=1, last_at=now)
                statement = statement.on_conflict_do_update(
                    index_elements=[table.c.key],
                    set_={
                        # A failure long after the last one starts the count again.
                        "count": case(
                            (table.c.last_at < now - FAILURE_WINDOW, 1),
                            else_=table.c.count + 1,
                        ),
                        "last_at": statement.excluded.last_at,
                    },
                )
                session.execute(statement)

    def count(self, key: str) -> int:
        with self.db.reading() as session:
            return session.scalar(select(LoginFailure.count).where(LoginFailure.key == key)) or 0

    def clear(self, keys: Iterable[str]) -> None:
        with self.db.writing() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.key.in_(list(keys))))
