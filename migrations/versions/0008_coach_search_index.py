"""SQLite: a second FTS5 index whose rowids put the coach first, so that a rare word is
found among one coach's messages without walking every coach's.

messages_fts holds the coach as a term of its user_id column, and FTS5 answers
`user_id : "3" AND content : "basketball"` by stepping through both lists: for
a word in 0.08 % of a million messages that still decodes the whole list of the
coach's 20,000 messages (0.3-0.4 ms, most of such a search), whatever token the
coach is given. messages_coach_fts indexes the same text under the rowid
`user_id * 2^32 + id`, contentless and without positions or sizes (40 MB per
million messages; messages_fts takes 107 MB). A search bounds the rowid to its
coach's range, which FTS5 turns into a seek within the word's list, and reads
the few candidates there in 0.05 ms; messages_fts then checks them with the
full query and makes the snippets (core/search.py, FEW_MATCHES). User ids stay
below 2^31, so the rowid fits in 64 bits.

Triggers keep it with every insert, update and (cascading) delete, as they keep
messages_fts. The upgrade fills it from the messages already stored, in rowid
order, which FTS5 writes in one pass (6-10 s for a million messages).
PostgreSQL has nothing to change: its GIN index holds the coach and the words
together already.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The coach's range of rowids starts at user_id * COACH_SPAN (core/search.py has the same).
COACH_SPAN = 2**32
_TRIGGERS = ("messages_coach_fts_insert", "messages_coach_fts_delete", "messages_coach_fts_update")


def _key(row: str) -> str:
    return f"{row}.user_id * {COACH_SPAN} + {row}.id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE messages_coach_fts USING fts5("
        "content, content='', detail='none', columnsize=0, "
        "tokenize='porter unicode61 remove_diacritics 0')"
    )
    op.execute(
        "INSERT INTO messages_coach_fts(rowid, content) "
        f"SELECT user_id * {COACH_SPAN} + id, content FROM messages ORDER BY user_id, id"
    )
    # The fill leaves about ten segments; merged into one (1 s per million
    # messages), the first appends after the upgrade do not pay for merging them.
    op.execute("INSERT INTO messages_coach_fts(messages_coach_fts) VALUES ('optimize')")
    # A contentless index forgets a row only when given the very text it indexed.
    op.execute(
        "CREATE TRIGGER messages_coach_fts_insert AFTER INSERT ON messages BEGIN "
        f"INSERT INTO messages_coach_fts(rowid, content) VALUES ({_key('new')}, new.content); END"
    )
    op.execute(
        "CREATE TRIGGER messages_coach_fts_delete AFTER DELETE ON messages BEGIN "
        "INSERT INTO messages_coach_fts(messages_coach_fts, rowid, content) "
        f"VALUES ('delete', {_key('old')}, old.content); END"
    )
    op.execute(
        "CREATE TRIGGER messages_coach_fts_update AFTER UPDATE OF content, user_id ON messages "
        "BEGIN INSERT INTO messages_coach_fts(messages_coach_fts, rowid, content) "
        f"VALUES ('delete', {_key('old')}, old.content); "
        f"INSERT INTO messages_coach_fts(rowid, content) VALUES ({_key('new')}, new.content); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS messages_coach_fts")
