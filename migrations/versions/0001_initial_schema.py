"""Initial schema: users, sessions, messages, tool calls, drills, settings and full-text search.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
stamp = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", big_id, primary_key=True, autoincrement=True)


def _user_fk() -> sa.Column:
    return sa.Column(
        "user_id", big_id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name

    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("email", sa.String(320), nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("role", sa.String(16), nullable=False, server_default="coach"),
        sa.Column("created_at", stamp, nullable=False),
        sa.CheckConstraint("role IN ('coach', 'admin')", name="ck_users_role"),
    )

    # drills and chat_sessions point at each other; SQLite accepts the forward
    # reference, PostgreSQL gets the second foreign key once both tables exist.
    drill_source_fk = (
        [sa.ForeignKeyConstraint(["source_session_id"], ["chat_sessions.id"], ondelete="SET NULL")]
        if dialect == "sqlite"
        else []
    )
    op.create_table(
        "drills",
        sa.Column("id", sa.String(36), primary_key=True),
        _user_fk(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("sport", sa.String(64), nullable=False, server_default=""),
        sa.Column("objective", sa.Text, nullable=False, server_default=""),
        sa.Column("age_group", sa.String(64), nullable=False, server_default=""),
        sa.Column("players", sa.Integer),
        sa.Column("duration_min", sa.Integer),
        sa.Column("equipment", json_type, nullable=False),
        sa.Column("setup", sa.Text, nullable=False, server_default=""),
        sa.Column("steps", json_type, nullable=False),
        sa.Column("coaching_points", json_type, nullable=False),
        sa.Column("progressions", json_type, nullable=False),
        sa.Column("tags", json_type, nullable=False),
        sa.Column("source_session_id", sa.String(36)),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("updated_at", stamp, nullable=False),
        *drill_source_fk,
    )
    op.create_index("ix_drills_user_updated", "drills", ["user_id", "updated_at"])

    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        _user_fk(),
        sa.Column("kind", sa.String(16), nullable=False, server_default="chat"),
        sa.Column("title", sa.String(200), nullable=False, server_default="New chat"),
        sa.Column("title_source", sa.String(8), nullable=False, server_default="auto"),
        sa.Column("drill_id", sa.String(36), sa.ForeignKey("drills.id", ondelete="SET NULL")),
        sa.Column("model", sa.String(100)),
        sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("metadata", json_type, nullable=False),
        sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("word_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_message_at", stamp),
        sa.Column("preview", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("updated_at", stamp, nullable=False),
        sa.CheckConstraint("kind IN ('chat', 'drill')", name="ck_chat_sessions_kind"),
        sa.CheckConstraint(
            "title_source IN ('auto', 'user')", name="ck_chat_sessions_title_source"
        ),
    )
    op.create_index("ix_chat_sessions_user_recent", "chat_sessions", ["user_id", "last_message_at"])
    op.create_index("ix_chat_sessions_user_created", "chat_sessions", ["user_id", "created_at"])
    op.create_index("ix_chat_sessions_drill", "chat_sessions", ["drill_id"])
    if dialect == "postgresql":
        op.create_foreign_key(
            "fk_drills_source_session",
            "drills",
            "chat_sessions",
            ["source_session_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "session_tags",
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("chat_sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(64), primary_key=True),
    )
    op.create_index("ix_session_tags_tag", "session_tags", ["tag"])

    op.create_table(
        "messages",
        _id(),
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("chat_sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _user_fk(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False, server_default=""),
        sa.Column("blocks", json_type),
        sa.Column("status", sa.String(16), nullable=False, server_default="complete"),
        sa.Column("error", sa.Text),
        sa.Column("model", sa.String(100)),
        sa.Column("input_tokens", sa.Integer),
        sa.Column("output_tokens", sa.Integer),
        sa.Column("word_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.Integer),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("metadata", json_type, nullable=False),
        sa.UniqueConstraint("session_id", "seq", name="uq_messages_session_seq"),
        sa.CheckConstraint(
            "role IN ('user', 'assistant', 'tool', 'system')", name="ck_messages_role"
        ),
        sa.CheckConstraint("status IN ('complete', 'partial', 'error')", name="ck_messages_status"),
    )
    op.create_index("ix_messages_user_created", "messages", ["user_id", "created_at"])

    op.create_table(
        "tool_calls",
        _id(),
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("chat_sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("message_id", big_id, sa.ForeignKey("messages.id", ondelete="CASCADE")),
        _user_fk(),
        sa.Column("tool_use_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("input", json_type),
        sa.Column("output", sa.Text, nullable=False, server_default=""),
        sa.Column("is_error", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("created_at", stamp, nullable=False),
    )
    op.create_index("ix_tool_calls_session", "tool_calls", ["session_id"])
    op.create_index("ix_tool_calls_message", "tool_calls", ["message_id"])
    op.create_index("ix_tool_calls_user_name", "tool_calls", ["user_id", "name"])

    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )

    if dialect == "sqlite":
        _create_sqlite_fts()
    else:
        _create_postgresql_fts()


def _create_sqlite_fts() -> None:
    # External-content FTS5 over messages.content; user_id is a column of the
    # index too, so a coach-scoped search never leaves the index. Triggers keep
    # it in step with every insert, update and (cascading) delete.
    op.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5("
        "content, user_id, content='messages', content_rowid='id', "
        "tokenize='porter unicode61 remove_diacritics 0')"
    )
    op.execute(
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO messages_fts(rowid, content, user_id) "
        "VALUES (new.id, new.content, new.user_id); END"
    )
    op.execute(
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content, user_id) "
        "VALUES ('delete', old.id, old.content, old.user_id); END"
    )
    op.execute(
        "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, user_id ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content, user_id) "
        "VALUES ('delete', old.id, old.content, old.user_id); "
        "INSERT INTO messages_fts(rowid, content, user_id) "
        "VALUES (new.id, new.content, new.user_id); END"
    )


def _create_postgresql_fts() -> None:
    # btree_gin lets one GIN index hold (user_id, tsvector): the coach filter
    # and the text match are answered by the same index scan.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(
        "ALTER TABLE messages ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED"
    )
    op.execute("CREATE INDEX ix_messages_search ON messages USING gin (user_id, search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    else:
        op.drop_constraint("fk_drills_source_session", "drills", type_="foreignkey")
    for table in (
        "settings",
        "tool_calls",
        "messages",
        "session_tags",
        "chat_sessions",
        "drills",
        "users",
    ):
        op.drop_table(table)
