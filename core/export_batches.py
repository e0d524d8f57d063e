"""What every export shares: the coach's chosen sessions a page at a time, their
messages a batch at a time, the one time format, and no cyclic GC while one runs.

Pages are keyed, never offset, and ids go to the database in IN lists of at most
PAGE, so a selection of any length keeps memory and statement size flat.
"""

from __future__ import annotations

import contextlib
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from core.models import ChatSession, Drill, Message, ToolCall
from core.search import matching_session_ids
from core.store import ConversationStore

# Rows fetched per query: sessions per page, messages per batch, ids per IN list.
PAGE = 500

T = TypeVar("T")


def format_time(value: datetime) -> str:
    """ISO-8601 in UTC with a Z and all six digits of microseconds."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def human_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def chunks(items: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """Lists of at most `size` (default PAGE, read at call time so tests can shrink it)."""
    size = size or PAGE
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def selected_sessions(
    store: ConversationStore,
    user_id: int,
    session_ids: Sequence[str] | None,
    query: str | None,
) -> Iterator[ChatSession]:
    """The coach's chosen sessions, oldest first, a page at a time; others' ids are ignored.

    Pages are keyed on (created_at, id) rather than offsets, so a session the
    coach pins or creates while an export runs is neither repeated nor skipped.
    """
    query = query if query and query.strip() else None
    if session_ids is None and query is None:
        yield from _all_sessions(store, user_id)
        return
    wanted = None if session_ids is None else {str(session_id) for session_id in session_ids}
    if query is not None:
        matching = set(matching_session_ids(store.db, user_id, query))
        wanted = matching if wanted is None else wanted & matching
    keys: list[tuple[datetime, str]] = []
    for chunk in chunks(sorted(wanted)):
        with store.db.reading() as session:
            keys.extend(
                session.execute(
                    select(ChatSession.created_at, ChatSession.id).where(
                        ChatSession.user_id == user_id, ChatSession.id.in_(chunk)
                    )
                ).all()
            )
    keys.sort()
    for chunk in chunks((session_id for _, session_id in keys)):
        with store.db.reading() as session:
            found = {
                chat.id: chat
                for chat in session.scalars(
                    select(ChatSession).where(
                        ChatSession.user_id == user_id, ChatSession.id.in_(chunk)
                    )
                )
            }
        # A session deleted since the first look is simply left out.
        yield from (found[session_id] for session_id in chunk if session_id in found)


def _all_sessions(store: ConversationStore, user_id: int) -> Iterator[ChatSession]:
    yield from pages_in_creation_order(store, ChatSession, ChatSession.user_id == user_id)


def pages_in_creation_order(
    store: ConversationStore,
    model: type[ChatSession] | type[Drill],
    condition: ColumnElement[bool],
) -> Iterator[Any]:
    after: tuple[datetime, str] | None = None
    while True:
        query = select(model).where(condition)
        if after is not None:
            query = query.where(
                or_(
                    model.created_at > after[0],
                    and_(model.created_at == after[0], model.id > after[1]),
                )
            )
        with store.db.reading() as session:
            page = list(session.scalars(query.order_by(model.created_at, model.id).limit(PAGE)))
        yield from page
        if len(page) < PAGE:
            return
        after = (page[-1].created_at, page[-1].id)


def message_batches(
    store: ConversationStore, user_id: int, session_id: str
) -> Iterator[list[tuple[Message, list[ToolCall]]]]:
    """The session's messages in order with each one's tool calls, a batch at a time."""
    for batch in chunks(store.iter_messages(user_id, session_id, batch=PAGE)):
        calls = store.list_tool_calls(
            user_id, session_id, message_ids=[message.id for message in batch]
        )
        by_message: dict[int | None, list[ToolCall]] = defaultdict(list)
        for call in calls:
            by_message[call.message_id].append(call)
        yield [(message, by_message.get(message.id, [])) for message in batch]


def calls_without_message(
    store: ConversationStore, user_id: int, session_id: str
) -> list[ToolCall]:
    with store.db.reading() as session:
        return list(
            session.scalars(
                select(ToolCall)
                .where(
                    ToolCall.session_id == session_id,
                    ToolCall.user_id == user_id,
                    ToolCall.message_id.is_(None),
                )
                .order_by(ToolCall.id)
            )
        )


@contextlib.contextmanager
def without_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collection while an export or an import runs.

    Both make hundreds of thousands of short-lived objects (rows, dicts, tuples), which
    are freed by reference counting; each 700 of them would start a collection that
    walks all the others. Reading a 126,000-message archive spent longer in those than
    in decoding the JSON (0.46 s against 0.15 s), and they were the slow tail of a
    Markdown export (a 233-message session: at most 70 ms with them, 10 ms without).
    Cycles made meanwhile are collected once it ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
