"""A small hand-made usage history for the analytics tests, every number chosen to be added by hand.

The period is [10 March, 20 March 2026) UTC; the previous period [28 February, 10 March).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update

from core.analytics import Period
from core.models import Drill
from core.store import ConversationStore

PERIOD = Period(datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC))


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, micro, tzinfo=UTC)


@dataclass
class Usage:
    chat: str  # the coach's chat session (calculator)
    drill: str  # the coach's drill session (create_drill)
    theirs: str  # the other coach's session


def drill_created(store: ConversationStore, user_id: int, when: datetime, **fields) -> str:
    drill = store.create_drill(user_id, **fields)
    with store.db.writing() as session:
        session.execute(update(Drill).where(Drill.id == drill.id).values(created_at=when))
    return drill.id


def call(store, user_id, session_id, message_id, name, when, *, error=False, ms=None) -> None:
    store.record_tool_call(
        user_id,
        session_id,
        message_id=message_id,
        tool_use_id=f"t-{name}-{when.isoformat()}-{ms}",
        name=name,
        input={},
        output="",
        is_error=error,
        duration_ms=ms,
        created_at=when,
    )


def build_usage(store: ConversationStore, coach, other) -> Usage:
    add = store.add_message
    chat = store.create_session(coach.id).id
    # Previous period: 2 messages (3 words), 1 call, 110 tokens, one latency of 500 ms.
    reply = add(
        coach.id,
        chat,
        "assistant",
        "z",
        model="claude-sonnet-5-5",
        input_tokens=100,
        output_tokens=10,
        latency_ms=500,
        created_at=at(5, 10),
    )
    call(store, coach.id, chat, reply.id, "calculator", at(5, 10), ms=20)
    add(coach.id, chat, "user", "x y", created_at=at(9, 23, 59, 59, 999_999))
    # This period, the chat session: 4 messages, 6 words, 2 calculator calls (one failed).
    add(coach.id, chat, "user", "one two three", created_at=at(10, 9))
    reply = add(
        coach.id,
        chat,
        "assistant",
        "four five",
        model="claude-sonnet-5-5",
        input_tokens=1000,
        output_tokens=200,
        latency_ms=1000,
        first_token_ms=100,
        created_at=at(10, 9, 0, 5),
    )
    call(store, coach.id, chat, reply.id, "calculator", at(10, 9, 0, 6), ms=10)
    call(store, coach.id, chat, reply.id, "calculator", at(10, 9, 0, 6), error=True, ms=30)
    add(coach.id, chat, "tool", "", created_at=at(10, 9, 0, 6))
    add(
        coach.id,
        chat,
        "assistant",
        "six",
        model="mystery-model",
        input_tokens=500,
        output_tokens=50,
        latency_ms=3000,
        created_at=at(10, 9, 0, 8),
    )
    # The end of the period is exclusive: this one belongs to the next period.
    add(coach.id, chat, "user", "later words here", created_at=at(20))

    drill = store.create_session(coach.id, kind="drill").id
    add(coach.id, drill, "user", "alpha beta", created_at=at(15, 18, 30))
    reply = add(
        coach.id,
        drill,
        "assistant",
        "gamma delta epsilon",
        model="huddle-offline",
        input_tokens=300,
        output_tokens=30,
        latency_ms=2000,
        first_token_ms=300,
        created_at=at(15, 18, 30, 2),
    )
    call(store, coach.id, drill, reply.id, "create_drill", at(15, 18, 30, 1), ms=50)
    drill_created(
        store, coach.id, at(15, 18, 30, 1), title="Rondo", sport="soccer", age_group="U12"
    )
    store.set_archived(coach.id, drill, True)  # archived sessions count like any other

    theirs = store.create_session(other.id).id
    add(other.id, theirs, "user", "not counted at all", created_at=at(12, 8))
    reply = add(
        other.id,
        theirs,
        "assistant",
        "nor this",
        model="claude-sonnet-5-5",
        input_tokens=999,
        output_tokens=999,
        latency_ms=9999,
        first_token_ms=999,
        created_at=at(12, 8, 0, 1),
    )
    call(store, other.id, theirs, reply.id, "calculator", at(12, 8, 0, 1), error=True, ms=7)
    drill_created(store, other.id, at(12, 9), title="Press", sport="hockey", age_group="U16")
    return Usage(chat=chat, drill=drill, theirs=theirs)
