"""Session listing: a stored last-activity time and indexes every filter and sort can use.

The history page lists, filters and sorts a coach's sessions (20,000 and more)
fifty at a time. Before this revision SQLite answered the tool filter with
ix_tool_calls_user_name once per session (minutes at 20,000 sessions), and a
deep page or a sort by title, messages or words sorted every session of the
coach. Now:

- chat_sessions.last_activity_at = coalesce(last_message_at, created_at), kept
  by every write path, so "recent" and the date range are a plain column;
- one index per sort, in exactly the ORDER BY's column order and directions
  (pinned first, the key, then id), ending with archived and kind so the
  common filters and an OFFSET over the ids never leave the index;
- session_tags(tag, session_id) and tool_calls(user_id, name, session_id), so
  a tag or tool filter reads only that tag's or tool's rows and finds the
  session ids in the index itself.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# name -> (sort key SQL, key direction); the tie-breaking id follows the key's direction.
_SORT_INDEXES = {
    "ix_chat_sessions_list_recent": ("last_activity_at", "DESC"),
    "ix_chat_sessions_list_created": ("created_at", "DESC"),
    "ix_chat_sessions_list_title": ("lower(title)", "ASC"),
    "ix_chat_sessions_list_messages": ("message_count", "DESC"),
    "ix_chat_sessions_list_words": ("word_count", "DESC"),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("chat_sessions", sa.Column("last_activity_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE chat_sessions SET last_activity_at = COALESCE(last_message_at, created_at)")
    if dialect == "postgresql":
        # SQLite cannot add NOT NULL to an existing column without rebuilding the
        # table, and rebuilding chat_sessions under foreign_keys=ON would cascade
        # deletes into messages; there the write paths alone keep it filled.
        op.alter_column("chat_sessions", "last_activity_at", nullable=False)

    for name, (key, direction) in _SORT_INDEXES.items():
        # Raw SQL: per-column directions and an expression in one index, the same
        # text on both databases.
        # The title index also holds title itself: PostgreSQL's index-only scans
        # (and SQLite's covering ones) need the column, not only lower(title).
        extra = ", title" if key == "lower(title)" else ""
        op.execute(
            f"CREATE INDEX {name} ON chat_sessions "
            f"(user_id, pinned DESC, {key} {direction}, id {direction}, archived, kind{extra})"
        )
    # Superseded: the listing indexes above start with user_id and hold these keys.
    op.drop_index("ix_chat_sessions_user_recent", table_name="chat_sessions")
    op.drop_index("ix_chat_sessions_user_created", table_name="chat_sessions")

    op.create_index("ix_session_tags_tag_session", "session_tags", ["tag", "session_id"])
    op.drop_index("ix_session_tags_tag", table_name="session_tags")
    op.create_index(
        "ix_tool_calls_user_name_session", "tool_calls", ["user_id", "name", "session_id"]
    )
    op.drop_index("ix_tool_calls_user_name", table_name="tool_calls")


def downgrade() -> None:
    op.create_index("ix_tool_calls_user_name", "tool_calls", ["user_id", "name"])
    op.drop_index("ix_tool_calls_user_name_session", table_name="tool_calls")
    op.create_index("ix_session_tags_tag", "session_tags", ["tag"])
    op.drop_index("ix_session_tags_tag_session", table_name="session_tags")
    op.create_index("ix_chat_sessions_user_created", "chat_sessions", ["user_id", "created_at"])
    op.create_index("ix_chat_sessions_user_recent", "chat_sessions", ["user_id", "last_message_at"])
    for name in _SORT_INDEXES:
        op.drop_index(name, table_name="chat_sessions")
    if op.get_bind().dialect.name == "sqlite":
        # DROP COLUMN rewrites only this column on SQLite 3.35+, no table rebuild.
        op.execute("ALTER TABLE chat_sessions DROP COLUMN last_activity_at")
    else:
        op.drop_column("chat_sessions", "last_activity_at")
