"""Time to first token: messages.first_token_ms, measured on each assistant message from now on.

Nullable and without a backfill: messages stored before this revision were never
measured, and analytics shows the figure only for the messages that have it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("first_token_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # DROP COLUMN (SQLite 3.35+) removes only this column; Alembic's batch mode
        # would rebuild messages, dropping the FTS triggers and, under
        # foreign_keys=ON, cascading into tool_calls.
        op.execute("ALTER TABLE messages DROP COLUMN first_token_ms")
    else:
        op.drop_column("messages", "first_token_ms")
