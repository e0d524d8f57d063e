"""Which running turns have lost their worker, and marking them interrupted (core/turns.py).

On PostgreSQL each worker holds an advisory lock for its turn on a connection of
its own, which the server frees when that process dies, so any replica can tell
a live turn from a dead one; a turn is taken for dead only when its lock is free
and it has also missed two heartbeats (a worker takes its lock a moment after
claiming the turn). On SQLite one server owns the file: at start-up every
running turn of another owner is dead, later a heartbeat older than `stale_s`.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from sqlalchemy import Connection, Engine, select, text, update

from core.chat_context import store_cut_reply
from core.db import Database
from core.models import ChatSession, ChatTurn, utcnow
from core.store import ConversationStore

INTERRUPTED = "The server stopped while this reply was being written."
# pg_advisory_lock's first key: Huddle's turns, apart from any other lock in the database.
LOCK_SPACE = 0x48554444  # "HUDD"
_LOCK = text("SELECT pg_advisory_lock(:space, hashtext(:id))")
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:space, hashtext(:id))")
_UNLOCK = text("SELECT pg_advisory_unlock(:space, hashtext(:id))")


def turn_lock(db: Database, turn_id: str) -> contextlib.AbstractContextManager[object]:
    """Held while a worker runs the turn (PostgreSQL), on a connection of its own."""
    if db.dialect != "postgresql":
        return contextlib.nullcontext()
    return _AdvisoryLock(db.engine, turn_id)


class _AdvisoryLock:
    """pg_advisory_lock on a connection kept for the turn; the server drops it if we die."""

    def __init__(self, engine: Engine, turn_id: str) -> None:
        self.engine = engine
        self.key = {"space": LOCK_SPACE, "id": turn_id}
        self.connection: Connection | None = None

    def __enter__(self) -> None:
        self.connection = self.engine.connect()
        self.connection.execute(_LOCK, self.key)
        self.connection.commit()

    def __exit__(self, *exc: object) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(_UNLOCK, self.key)
            self.connection.commit()
        finally:
            self.connection.close()


def lock_is_held(db: Database, turn_id: str) -> bool:
    """True while some connection (a live worker, on any replica) holds the turn's lock."""
    key = {"space": LOCK_SPACE, "id": turn_id}
    with db.engine.connect() as connection:
        got = connection.execute(_TRY_LOCK, key).scalar()
        if got:
            connection.execute(_UNLOCK, key)
        connection.commit()
    return not got


def dead_turns(
    db: Database, owner: str, *, starting: bool, heartbeat_s: float, stale_s: float
) -> list[str]:
    """The running turns of other owners whose worker is gone."""
    with db.reading() as session:
        others = session.execute(
            select(ChatTurn.id, ChatTurn.heartbeat_at).where(
                ChatTurn.status == "running", ChatTurn.owner != owner
            )
        ).all()
    now = utcnow()
    if db.dialect == "postgresql":
        missed = now - timedelta(seconds=2 * heartbeat_s)
        return [
            turn_id for turn_id, beat in others if beat < missed and not lock_is_held(db, turn_id)
        ]
    stale = now - timedelta(seconds=stale_s)
    return [turn_id for turn_id, beat in others if starting or beat < stale]


def interrupt_turn(store: ConversationStore, turn_id: str, model: str) -> bool:
    """Mark a dead turn interrupted and store its partial text as a reply to retry.

    False when the turn is no longer running (its worker finished after all).
    """
    with store.db.writing() as session:
        turn = session.scalar(
            select(ChatTurn).where(ChatTurn.id == turn_id, ChatTurn.status == "running")
        )
        if turn is None:
            return False
        session.execute(
            update(ChatTurn)
            .where(ChatTurn.id == turn_id)
            .values(status="interrupted", error=INTERRUPTED, tool=None, finished_at=utcnow())
        )
        partial, user_id, session_id = turn.text, turn.user_id, turn.session_id
        # The text belongs to a round whose message was never stored.
        unsaved = turn.text_after_seq == session.scalar(
            select(ChatSession.last_seq).where(ChatSession.id == session_id)
        )
    store_cut_reply(
        store,
        user_id,
        session_id,
        partial if unsaved else "",
        INTERRUPTED,
        model=model,
        metadata={"retryable": True, "interrupted_turn": turn_id},
    )
    return True
