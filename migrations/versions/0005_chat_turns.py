"""Chat turns that run in a worker of the server, not in the page: one row per turn.

A reply takes tens of seconds, and a Streamlit rerun (a click elsewhere, a reload,
a closed tab) stops the script that runs it. Turns now run in a worker thread of
the server process (core/turns.py), and this table is how a page finds a turn in
progress and follows it: the text of the round being written, the tool running,
whether the coach asked to stop, who runs it (owner: host, process, start) and
when that worker last said it is alive (heartbeat_at).

At most one running turn per session (a partial unique index), so two messages
are never answered at once in one conversation. A turn whose worker is gone (a
restart) is marked interrupted with its partial text stored as a reply to retry:
on PostgreSQL the worker holds an advisory lock for the turn on its own
connection, which the server frees when that process dies; the heartbeat is the
fallback, and on SQLite one server owns the file.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_turns",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("chat_sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", big_id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("question_seq", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="running"),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("text_after_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tool", sa.String(100)),
        sa.Column("error", sa.Text),
        sa.Column("stop_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("started_at", stamp, nullable=False),
        sa.Column("heartbeat_at", stamp, nullable=False),
        sa.Column("finished_at", stamp),
        sa.CheckConstraint(
            "status IN ('running', 'complete', 'failed', 'stopped', 'interrupted')",
            name="ck_chat_turns_status",
        ),
    )
    op.create_index(
        "ux_chat_turns_one_running",
        "chat_turns",
        ["session_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_index("ix_chat_turns_user_status", "chat_turns", ["user_id", "status"])
    op.create_index("ix_chat_turns_status_owner", "chat_turns", ["status", "owner"])


def downgrade() -> None:
    op.drop_table("chat_turns")
