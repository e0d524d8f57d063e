"""SQLite: a bulk insert of messages adds to the analytics rollup once per batch.

The rollup's SQLite trigger (0004) runs two upserts for every inserted message, which
was about a fifth of an archive import's writing. `rollup_deferred` holds a row only
inside a bulk insert's own transaction (core/bulk.py inserts it, adds the batch's sums
with two grouped upserts, and deletes it before the transaction ends); while it does,
the per-row trigger stands aside. No other connection ever sees the row: SQLite has one
writer at a time and readers see only committed data. PostgreSQL's triggers are
statement triggers already and stay as they are.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PLAIN = "AFTER INSERT ON messages BEGIN"
_DEFERRABLE = "AFTER INSERT ON messages WHEN NOT EXISTS (SELECT 1 FROM rollup_deferred) BEGIN"


def _replace_trigger(old: str, new: str) -> None:
    sql = op.get_bind().scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
        {"name": "messages_rollup_insert"},
    )
    if old not in sql:
        raise RuntimeError(f"messages_rollup_insert is not as expected: {sql[:200]}")
    op.execute("DROP TRIGGER messages_rollup_insert")
    op.execute(sql.replace(old, new, 1))


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE rollup_deferred (id INTEGER PRIMARY KEY CHECK (id = 1))")
    _replace_trigger(_PLAIN, _DEFERRABLE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _replace_trigger(_DEFERRABLE, _PLAIN)
    op.execute("DROP TABLE rollup_deferred")
