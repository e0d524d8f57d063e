"""ConversationStore: every read and write of Huddle's tables, always scoped by user in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    insert,
    select,
    update,
)

from core.accounts import FIRST_ACCOUNT_SETTING as FIRST_ACCOUNT_SETTING
from core.accounts import USERNAME_PATTERN as USERNAME_PATTERN
from core.accounts import USERNAME_RULE as USERNAME_RULE
from core.accounts import AccountStore, check_choice
from core.bulk import write_batch
from core.db import Database
from core.drill_store import DrillStore
from core.errors import NotFound
from core.message_reads import MessageReads, owned_session
from core.models import (
    MESSAGE_ROLES,
    MESSAGE_STATUSES,
    SESSION_KINDS,
    ChatSession,
    Message,
    ToolCall,
    User,
    UTCDateTime,
    new_id,
    utcnow,
)
from core.session_list import MAX_TAG_CHARS as MAX_TAG_CHARS
from core.session_list import MAX_TAGS as MAX_TAGS
from core.session_list import SESSION_SORTS as SESSION_SORTS
from core.session_list import SessionFilter as SessionFilter
from core.session_list import SessionListing
from core.session_list import SessionPage as SessionPage
from core.session_list import SessionsSummary as SessionsSummary
from core.session_list import clean_tag as clean_tag
from core.session_list import session_conditions as session_conditions
from core.text import clean_text, count_words, make_preview

MAX_TITLE_CHARS = 200
MAX_STORED_CHARS = 1_000_000


@dataclass
class BulkBatch:
    """Plain rows for the bulk path shared by archive import and demo-data.

    Rows are dicts keyed by column name; sessions carry their counters already
    computed, messages their seq, tool calls the (session_id, seq) of the
    message that issued them in `message_seq`.
    """

    sessions: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    drills: list[dict[str, Any]] = field(default_factory=list)


def _clean_title(title: str) -> str:
    title = clean_text(title, what="title", max_chars=MAX_TITLE_CHARS).strip()
    return " ".join(title.split())


def _bump_session(*, with_preview: bool):
    """UPDATE chat_sessions' counters for one appended message, returning the new seq."""
    table = ChatSession.__table__
    values: dict[str, Any] = {
        "last_seq": table.c.last_seq + 1,
        "message_count": table.c.message_count + 1,
        "word_count": table.c.word_count + bindparam("b_words", type_=Integer()),
        "last_message_at": bindparam("b_at", type_=UTCDateTime()),
        "last_activity_at": bindparam("b_at", type_=UTCDateTime()),
        "updated_at": bindparam("b_at", type_=UTCDateTime()),
    }
    if with_preview:
        values["preview"] = bindparam("b_preview", type_=String())
    return (
        update(table)
        .where(table.c.id == bindparam("b_sid"), table.c.user_id == bindparam("b_uid"))
        .values(**values)
        .returning(table.c.last_seq)
    )


_BUMP = _bump_session(with_preview=False)
_BUMP_WITH_PREVIEW = _bump_session(with_preview=True)
_INSERT_MESSAGE = insert(Message.__table__).returning(Message.__table__.c.id)
# Column name -> ORM attribute, for every column add_message writes (all but id).
_MESSAGE_FIELDS = tuple(
    (column.name, "metadata_" if column.name == "metadata" else column.name)
    for column in Message.__table__.columns
    if column.name != "id"
)


class ConversationStore(AccountStore, MessageReads, SessionListing, DrillStore):
    """The only door to the tables. Every by-id call takes the acting user and filters on it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -------------------------------------------------------------- sessions

    def create_session(
        self,
        user_id: int,
        *,
        kind: str = "chat",
        title: str | None = None,
        model: str | None = None,
        drill_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ChatSession:
        check_choice(kind, SESSION_KINDS, "session kind")
        now = utcnow()
        chat = ChatSession(
            id=new_id(),
            user_id=user_id,
            kind=kind,
            title=_clean_title(title)
            if title
            else ("New drill" if kind == "drill" else "New chat"),
            title_source="user" if title else "auto",
            model=model,
            drill_id=None,
            pinned=False,
            archived=False,
            metadata_=metadata or {},
            message_count=0,
            word_count=0,
            last_seq=0,
            preview="",
            created_at=now,
            updated_at=now,
            last_activity_at=now,
            tags=[],
        )
        with self.db.writing() as session:
            if session.get(User, user_id) is None:
                raise NotFound("That user does not exist.")
            if drill_id is not None:
                self._require_drill(session, user_id, drill_id)
                chat.drill_id = drill_id
            session.add(chat)
        return chat

    def get_session(self, user_id: int, session_id: str) -> ChatSession:
        with self.db.reading() as session:
            chat = session.scalar(self._owned_session(user_id, session_id))
        if chat is None:
            raise NotFound("That conversation was not found.")
        return chat

    _owned_session = staticmethod(owned_session)

    def _update_session(self, user_id: int, session_id: str, **values: Any) -> ChatSession:
        with self.db.writing() as session:
            result = session.execute(
                update(ChatSession)
                .where(ChatSession.id == str(session_id), ChatSession.user_id == user_id)
                .values(**values)
            )
            if result.rowcount == 0:
                raise NotFound("That conversation was not found.")
            chat = session.scalar(self._owned_session(user_id, session_id))
            assert chat is not None
            return chat

    def rename_session(self, user_id: int, session_id: str, title: str) -> ChatSession:
        """A title the coach sets is never replaced automatically."""
        return self._update_session(
            user_id, session_id, title=_clean_title(title), title_source="user", updated_at=utcnow()
        )

    def set_auto_title(self, user_id: int, session_id: str, title: str) -> bool:
        """Give the session an automatic title unless the coach has set one. True if changed."""
        title = _clean_title(title)
        with self.db.writing() as session:
            result = session.execute(
                update(ChatSession)
                .where(
                    ChatSession.id == str(session_id),
                    ChatSession.user_id == user_id,
                    ChatSession.title_source == "auto",
                )
                .values(title=title)
            )
            if (
                result.rowcount == 0
                and session.scalar(self._owned_session(user_id, session_id)) is None
            ):
                raise NotFound("That conversation was not found.")
            return result.rowcount > 0

    def set_pinned(self, user_id: int, session_id: str, pinned: bool) -> ChatSession:
        return self._update_session(user_id, session_id, pinned=bool(pinned))

    def set_archived(self, user_id: int, session_id: str, archived: bool) -> ChatSession:
        return self._update_session(user_id, session_id, archived=bool(archived))

    def set_session_model(self, user_id: int, session_id: str, model: str) -> ChatSession:
        return self._update_session(user_id, session_id, model=model)

    # -------------------------------------------------------------- messages

    def add_message(
        self,
        user_id: int,
        session_id: str,
        role: str,
        content: str,
        *,
        blocks: Any | None = None,
        status: str = "complete",
        error: str | None = None,
        model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        latency_ms: int | None = None,
        first_token_ms: int | None = None,
        metadata: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> Message:
        """Append a message with the next seq, keeping the session's counters in the same write."""
        check_choice(role, MESSAGE_ROLES, "role")
        check_choice(status, MESSAGE_STATUSES, "status")
        content = clean_text(content, what="message", max_chars=MAX_STORED_CHARS, allow_empty=True)
        message = Message(
            session_id=str(session_id),
            user_id=user_id,
            role=role,
            content=content,
            blocks=blocks,
            status=status,
            error=error,
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            word_count=count_words(content),
            latency_ms=latency_ms,
            first_token_ms=first_token_ms,
            created_at=created_at or utcnow(),
            metadata_=metadata or {},
        )
        has_text = bool(content.strip())
        bump = {
            "b_sid": message.session_id,
            "b_uid": user_id,
            "b_words": message.word_count,
            "b_at": message.created_at,
        }
        if has_text:
            bump["b_preview"] = make_preview(content)
        # Every chat turn appends several messages, so this path skips the ORM's unit
        # of work: two prebuilt statements on one connection. Bumping last_seq locks
        # the session row (PostgreSQL) under the write lock (SQLite), so concurrent
        # appends get 1, 2, 3 … in turn.
        with self.db.writing_connection() as connection:
            seq = connection.execute(_BUMP_WITH_PREVIEW if has_text else _BUMP, bump).scalar()
            if seq is None:
                raise NotFound("That conversation was not found.")
            message.seq = seq
            message.id = connection.execute(
                _INSERT_MESSAGE, {name: getattr(message, attr) for name, attr in _MESSAGE_FIELDS}
            ).scalar_one()
        return message

    def update_message(
        self,
        user_id: int,
        message_id: int,
        *,
        content: str | None = None,
        blocks: Any | None = None,
        status: str | None = None,
        error: str | None = None,
        model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        latency_ms: int | None = None,
        first_token_ms: int | None = None,
    ) -> Message:
        """Finish or correct a stored message (e.g. a partial reply), keeping counters true."""
        with self.db.writing() as session:
            message = session.scalar(
                select(Message).where(Message.id == message_id, Message.user_id == user_id)
            )
            if message is None:
                raise NotFound("That message was not found.")
            session_values: dict[str, Any] = {"updated_at": utcnow()}
            if content is not None:
                content = clean_text(
                    content, what="message", max_chars=MAX_STORED_CHARS, allow_empty=True
                )
                words = count_words(content)
                session_values["word_count"] = ChatSession.word_count + (words - message.word_count)
                message.content, message.word_count = content, words
                last_seq = session.scalar(
                    select(ChatSession.last_seq).where(ChatSession.id == message.session_id)
                )
                if content.strip() and last_seq == message.seq:
                    session_values["preview"] = make_preview(content)
            if status is not None:
                message.status = check_choice(status, MESSAGE_STATUSES, "status")
                message.error = error
            elif error is not None:
                message.error = error
            for name, value in (
                ("blocks", blocks),
                ("model", model),
                ("input_tokens", input_tokens),
                ("output_tokens", output_tokens),
                ("latency_ms", latency_ms),
                ("first_token_ms", first_token_ms),
            ):
                if value is not None:
                    setattr(message, name, value)
            session.execute(
                update(ChatSession)
                .where(ChatSession.id == message.session_id, ChatSession.user_id == user_id)
                .values(**session_values)
            )
        return message

    # ------------------------------------------------------------ tool calls

    def record_tool_call(
        self,
        user_id: int,
        session_id: str,
        *,
        message_id: int | None,
        tool_use_id: str,
        name: str,
        input: Any,
        output: str,
        is_error: bool = False,
        duration_ms: int | None = None,
        created_at: datetime | None = None,
    ) -> ToolCall:
        call = ToolCall(
            session_id=str(session_id),
            message_id=message_id,
            user_id=user_id,
            tool_use_id=tool_use_id,
            name=name,
            input=input,
            output=output,
            is_error=bool(is_error),
            duration_ms=duration_ms,
            created_at=created_at or utcnow(),
        )
        with self.db.writing() as session:
            if session.scalar(self._owned_session(user_id, session_id)) is None:
                raise NotFound("That conversation was not found.")
            if (
                message_id is not None
                and session.scalar(
                    select(Message.id).where(
                        Message.id == message_id,
                        Message.user_id == user_id,
                        Message.session_id == str(session_id),
                    )
                )
                is None
            ):
                raise NotFound("That message was not found.")
            session.add(call)
        return call

    # ------------------------------------------------------------- bulk path

    def insert_bulk(self, batch: BulkBatch, *, session=None) -> None:
        """Insert prepared rows in one transaction (or in the caller's transaction).

        The one fast path for archive import and demo-data: plain row dicts keyed
        by column name, written with executemany (SQLite) or COPY (PostgreSQL) in
        exactly the form the ORM stores. Ownership, ids and counters are the
        caller's job.
        """
        if session is None:
            with self.db.writing() as own:
                self._insert_bulk(own, batch)
        else:
            self._insert_bulk(session, batch)

    @staticmethod
    def _insert_bulk(session, batch: BulkBatch) -> None:
        write_batch(session, batch)

    # ---------------------------------------------------------------- search

    def search_messages(self, user_id: int, query: str, **options: Any):
        """Full-text search over the coach's messages; see core.search.search_messages."""
        from core.search import search_messages

        return search_messages(self.db, user_id, query, **options)
