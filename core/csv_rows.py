"""The CSV's own columns read straight from the tables: many sessions per query, no ORM rows.

The other exports need whole messages (blocks, metadata, tool input and output);
the CSV needs ten plain columns and the tool names, so it skips the ORM and the
JSON decoding and asks for a batch of sessions at a time instead of one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, String, case, func, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core import export_batches
from core.models import ChatSession, Message, ToolCall
from core.store import ConversationStore

MESSAGE_COLUMNS = (
    Message.id,
    Message.session_id,
    Message.seq,
    Message.role,
    Message.content,
    Message.word_count,
    Message.status,
    Message.model,
    Message.input_tokens,
    Message.output_tokens,
)


@dataclass(frozen=True)
class MessagePage:
    """Messages of consecutive sessions in export order (session, then seq), with tool names.

    Each row holds MESSAGE_COLUMNS in that order (by position and by name), then
    `created_at` as the export's time text (core.export_batches.format_time's
    form). `tools` maps a message id to the (name, output) of its tool calls in
    the order they were made; messages without any are absent.
    """

    rows: list[Row[Any]]
    tools: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


def _sessions_per_query() -> int:
    # Each id is bound twice (the IN list and the ordering CASE), and no
    # statement may carry more than about PAGE parameters.
    return max(1, export_batches.PAGE // 4)


def _messages_per_query() -> int:
    return export_batches.PAGE * 2


def _utc_time_text(dialect: str) -> ColumnElement[str]:
    """Message.created_at as format_time writes it, made by the database.

    Formatting 100,000 datetimes in Python costs more than the query; both
    databases produce the same text (ISO-8601, six digits of microseconds, Z).
    """
    if dialect == "postgresql":
        return func.to_char(
            func.timezone("UTC", Message.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
        )
    # SQLite keeps the fixed-width naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff"
    # (core.models.UTCDateTime); only the separator and the zone change.
    stored = type_coerce(Message.created_at, String)
    return func.substr(stored, 1, 10, type_=String) + "T" + func.substr(stored, 12) + "Z"


def _unindexed(column: Any) -> Any:
    """The column as an expression no index serves, for a filter that must not lead.

    Both planners (SQLite always, PostgreSQL with fresh or stale statistics)
    otherwise answer `user_id = ? AND session_id IN (...)` with the user's index
    and read every message of the coach for each batch; the user filter stays
    in SQL, applied to the rows the session index finds.
    """
    return column + 0


def session_batches(sessions: Iterable[ChatSession]) -> Iterator[list[ChatSession]]:
    """Consecutive sessions that one message query can hold, judged by their kept counts.

    The counts only plan the batches: message_pages pages by key, so a count that
    is off costs one more query, never a missed or repeated message.
    """
    batch: list[ChatSession] = []
    held = 0
    for chat in sessions:
        if batch and (
            len(batch) >= _sessions_per_query() or held + chat.message_count > _messages_per_query()
        ):
            yield batch
            batch, held = [], 0
        batch.append(chat)
        held += chat.message_count
    if batch:
        yield batch


def message_pages(
    store: ConversationStore, user_id: int, session_ids: Sequence[str]
) -> Iterator[MessagePage]:
    """Every message of these sessions (of this coach), in the order given, then by seq.

    Keyed by (position of the session, seq): a page resumes after the last row
    of the one before, so a session of any length is read in bounded pages.
    """
    ids = list(dict.fromkeys(session_ids))
    position = {session_id: index for index, session_id in enumerate(ids)}
    start = 0
    after_seq: int | None = None
    limit = _messages_per_query()
    time_text = _utc_time_text(store.db.engine.dialect.name)
    while start < len(ids):
        part = ids[start:]
        order = case(
            {session_id: literal_column(str(index)) for index, session_id in enumerate(part)},
            value=Message.session_id,
        )
        query = select(*MESSAGE_COLUMNS, time_text.label("created_at")).where(
            _unindexed(Message.user_id) == user_id, Message.session_id.in_(part)
        )
        if after_seq is not None:
            query = query.where(or_(Message.session_id != part[0], Message.seq > after_seq))
        with store.db.reading() as session:
            rows = list(session.execute(query.order_by(order, Message.seq).limit(limit)))
            tools = _tool_calls(session, user_id, rows)
        if rows:
            yield MessagePage(rows, tools)
        if len(rows) < limit:
            return
        start, after_seq = position[rows[-1].session_id], rows[-1].seq


def _tool_calls(
    session: Session, user_id: int, rows: list[Row[Any]]
) -> dict[int, list[tuple[str, str]]]:
    """The (name, output) of the tool calls of these messages, one query for the page."""
    if not rows:
        return {}
    owner = {row.id: row.session_id for row in rows}
    # All the calls of the page's sessions: a long session spread over several
    # pages is read again for each, and only this page's messages are kept.
    calls = session.execute(
        select(ToolCall.message_id, ToolCall.session_id, ToolCall.name, ToolCall.output)
        .where(
            _unindexed(ToolCall.user_id) == user_id,
            ToolCall.session_id.in_(list(dict.fromkeys(owner.values()))),
        )
        .order_by(ToolCall.id)
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for message_id, session_id, name, output in calls:
        if owner.get(message_id) == session_id:
            found.setdefault(message_id, []).append((name, output))
    return found
