"""SQLAlchemy 2 typed ORM tables: users, sessions, messages, tool calls, drills, settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SESSION_KINDS = ("chat", "drill")
MESSAGE_ROLES = ("user", "assistant", "tool", "system")
MESSAGE_STATUSES = ("complete", "partial", "error")
USER_ROLES = ("coach", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, microseconds kept on both databases.

    SQLite has no time zones, so values are stored there as naive UTC text; the
    fixed-width text sorts and compares like the instants it names.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSON on SQLite, JSONB on PostgreSQL; ids as 64-bit on PostgreSQL but the
# rowid alias INTEGER on SQLite (FTS5 external content keys on it).
JSONType = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


class User(Base):
    __tablename__ = "users"
    # Usernames are told apart without regard to case (migration 0006): Coach1 is coach1.
    __table_args__ = (Index("ux_users_username_lower", text("lower(username)"), unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="coach")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginSession(Base):
    """One log-in of one browser (migration 0006; core/login_sessions.py).

    The cookie carries a random id, signed; the table keeps only the id's SHA-256, so
    neither a copy of the database nor the signing key is enough to log anyone in.
    """

    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_user", "user_id"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """Failed log-ins counted per typed username and per client address (migration 0006)."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatSession(Base):
    __tablename__ = "chat_sessions"
    # One index per history sort, in the ORDER BY's own order (see
    # migrations/versions/0002_session_listing_indexes.py and core/session_list.py).
    __table_args__ = (
        *(
            Index(
                f"ix_chat_sessions_list_{sort}",
                "user_id",
                text("pinned DESC"),
                text(f"{key} {direction}"),
                text(f"id {direction}"),
                "archived",
                "kind",
                *(["title"] if sort == "title" else []),
            )
            for sort, key, direction in (
                ("recent", "last_activity_at", "DESC"),
                ("created", "created_at", "DESC"),
                ("title", "lower(title)", "ASC"),
                ("messages", "message_count", "DESC"),
                ("words", "word_count", "DESC"),
            )
        ),
        Index("ix_chat_sessions_drill", "drill_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="chat")
    title: Mapped[str] = mapped_column(String(200), default="New chat")
    title_source: Mapped[str] = mapped_column(String(8), default="auto")
    drill_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("drills.id", ondelete="SET NULL")
    )
    model: Mapped[str | None] = mapped_column(String(100))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    # The highest seq handed out; bumping it locks the row, which keeps seq
    # dense under concurrent writers on both databases.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_message_at: Mapped[datetime | None]
    # coalesce(last_message_at, created_at), stored so that "recent" and the
    # date range are one indexed column; every write path sets it.
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    preview: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    tags: Mapped[list[SessionTag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def tag_names(self) -> list[str]:
        return sorted(tag.tag for tag in self.tags)


class SessionTag(Base):
    __tablename__ = "session_tags"
    __table_args__ = (Index("ix_session_tags_tag_session", "tag", "session_id"),)

    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("chat_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("session_id", "seq", name="uq_messages_session_seq"),
        Index("ix_messages_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("chat_sessions.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    blocks: Mapped[Any | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="complete")
    error: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(100))
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    # Milliseconds from the request to the model's first text or tool_use delta
    # (assistant messages only; NULL where it was never measured, e.g. before 0003).
    first_token_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class ToolCall(Base):
    __tablename__ = "tool_calls"
    __table_args__ = (
        Index("ix_tool_calls_session", "session_id"),
        Index("ix_tool_calls_message", "message_id"),
        Index("ix_tool_calls_user_name_session", "user_id", "name", "session_id"),
        Index("ix_tool_calls_user_created", "user_id", "created_at"),
        Index("ix_tool_calls_name_created", "name", "created_at", "duration_ms"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("chat_sessions.id", ondelete="CASCADE")
    )
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    tool_use_id: Mapped[str] = mapped_column(String(100), default="")
    name: Mapped[str] = mapped_column(String(100))
    input: Mapped[Any | None] = mapped_column(JSONType)
    output: Mapped[str] = mapped_column(Text, default="")
    is_error: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityRollup(Base):
    """Messages summed per coach, 15-minute UTC bucket and session (migration 0004).

    Kept by database triggers on messages in the same transaction as every
    write; read by core/analytics_* instead of the raw rows.
    """

    __tablename__ = "activity_rollup"
    __table_args__ = (
        Index("ix_activity_rollup_bucket", "bucket"),
        {"sqlite_with_rowid": False},
    )

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)
    words: Mapped[int] = mapped_column(BigInteger, default=0)
    user_words: Mapped[int] = mapped_column(BigInteger, default=0)
    assistant_words: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)


class ModelRollup(Base):
    """Tokens per coach, bucket, session and model ('' for none), of messages that carried them."""

    __tablename__ = "model_rollup"
    __table_args__ = ({"sqlite_with_rowid": False},)

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    replies: Mapped[int] = mapped_column(BigInteger, default=0)


class ChatTurn(Base):
    """A chat turn run by a worker of the server (migration 0005; core/turns.py).

    `text` is the reply text of the round being written, stored as it streams;
    it belongs on screen only while the session's last_seq is `text_after_seq`
    (once the round's message is stored, that message shows instead).
    """

    __tablename__ = "chat_turns"
    __table_args__ = (
        Index(
            "ux_chat_turns_one_running",
            "session_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
        Index("ix_chat_turns_user_status", "user_id", "status"),
        Index("ix_chat_turns_status_owner", "status", "owner"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("chat_sessions.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    question_seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="running")
    text: Mapped[str] = mapped_column(Text, default="")
    text_after_seq: Mapped[int] = mapped_column(Integer, default=0)
    tool: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Drill(Base):
    __tablename__ = "drills"
    __table_args__ = (Index("ix_drills_user_updated", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    sport: Mapped[str] = mapped_column(String(64), default="")
    objective: Mapped[str] = mapped_column(Text, default="")
    age_group: Mapped[str] = mapped_column(String(64), default="")
    players: Mapped[int | None] = mapped_column(Integer)
    duration_min: Mapped[int | None] = mapped_column(Integer)
    equipment: Mapped[list[str]] = mapped_column(JSONType, default=list)
    setup: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[list[str]] = mapped_column(JSONType, default=list)
    coaching_points: Mapped[list[str]] = mapped_column(JSONType, default=list)
    progressions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    source_session_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("chat_sessions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


DRILL_LIST_FIELDS = ("equipment", "steps", "coaching_points", "progressions", "tags")
DRILL_TEXT_FIELDS = ("title", "sport", "objective", "age_group", "setup")
DRILL_INT_FIELDS = ("players", "duration_min")
