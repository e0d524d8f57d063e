"""Analytics rollup: messages summed per coach, 15-minute UTC bucket and session, kept by triggers.

The Analytics page at a million messages cannot GROUP BY the raw rows a dozen
times per render (seconds for an admin's all-coaches view). Two tables hold the
sums instead:

- activity_rollup(user_id, bucket, session_id): messages, words (all roles, the
  coach's, the assistant's), input and output tokens;
- model_rollup(user_id, bucket, session_id, model): tokens and the number of
  messages that carried them, per model, for the cost estimate.

Buckets are 15 minutes wide because every time zone's offset is a multiple of
15 minutes (Asia/Kolkata +5:30, Asia/Kathmandu +5:45), so a bucket never
straddles a local hour, day or daylight-saving change. The session is part of
the key so that the sessions in a period, words per session and the tool filter
are answered from the rollup too.

Triggers keep both tables in the same transaction as every insert, update and
(cascading) delete of a message, so no write path (append, the bulk import,
demo-data, a finished reply, a deleted coach) can forget them: row triggers on
SQLite, statement triggers with transition tables on PostgreSQL (one grouped
upsert per statement, so a bulk insert pays once per batch). A row whose
messages drop to zero is removed. `python -m core analytics rebuild` recomputes
both tables from the messages. Tool calls stay in tool_calls (one row per call
is already small; a rollup per session and tool saves 2 % at a million
messages); an index on (user_id, created_at) serves their period queries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
stamp = sa.DateTime(timezone=True)

# The 15-minute bucket of a message's created_at, per dialect. SQLite stores naive
# UTC text 'YYYY-MM-DD HH:MM:SS.ffffff', so the bucket is the same text form.
_SQLITE_BUCKET = (
    "substr({c}, 1, 14) || printf('%02d', (CAST(substr({c}, 15, 2) AS INTEGER) / 15) * 15)"
    # ':' then the rest: a colon before a digit would read as a bind parameter.
    " || ':' || '00.000000'"
)
_PG_BUCKET = "date_bin('15 minutes', {c}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"

_SUMS = ("messages", "words", "user_words", "assistant_words", "input_tokens", "output_tokens")
_MODEL_SUMS = ("input_tokens", "output_tokens", "replies")


def _create_tables() -> None:
    counter = {"nullable": False, "server_default": "0"}
    op.create_table(
        "activity_rollup",
        sa.Column("user_id", big_id, primary_key=True),
        sa.Column("bucket", stamp, primary_key=True),
        sa.Column("session_id", sa.String(36), primary_key=True),
        *(sa.Column(name, sa.BigInteger, **counter) for name in _SUMS),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "model_rollup",
        sa.Column("user_id", big_id, primary_key=True),
        sa.Column("bucket", stamp, primary_key=True),
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("model", sa.String(100), primary_key=True),
        *(sa.Column(name, sa.BigInteger, **counter) for name in _MODEL_SUMS),
        sqlite_with_rowid=False,
    )
    # All coaches' view filters on the bucket alone.
    op.create_index("ix_activity_rollup_bucket", "activity_rollup", ["bucket"])
    # Tool calls by period, for one coach and (per tool, with durations) for everyone.
    op.create_index("ix_tool_calls_user_created", "tool_calls", ["user_id", "created_at"])
    op.create_index(
        "ix_tool_calls_name_created", "tool_calls", ["name", "created_at", "duration_ms"]
    )


def _create_reply_indexes(dialect: str) -> None:
    """Latency and time to first token are quantiles, which no sum can hold: they are
    read from the replies themselves, through partial indexes that carry every column
    the query needs.

    PostgreSQL (percentile_cont): one coach's replies by time, everyone's by time.
    SQLite has no percentile function; a quantile is the value at a rank, read with
    ORDER BY ... LIMIT 2 OFFSET k. One coach's replies are few, read by time and
    sorted; everyone's are read in the order of the value itself, one index per
    timing, so the rank is a walk along the index with no sort (core/quantiles.py).
    SQLite counts an index as covering only if it holds every column the query names,
    the role of the WHERE included, and without ANALYZE statistics (which Huddle never
    asks a SQLite file to keep) it prefers a covering index.
    """
    if dialect == "sqlite":
        for name, columns in (
            ("ix_messages_replies", "user_id, created_at, latency_ms, first_token_ms"),
            ("ix_messages_replies_latency", "latency_ms, created_at, user_id"),
            ("ix_messages_replies_first_token", "first_token_ms, created_at, user_id"),
        ):
            op.execute(
                f"CREATE INDEX {name} ON messages ({columns}, session_id, role) "
                "WHERE role = 'assistant'"
            )
        return
    op.execute(
        "CREATE INDEX ix_messages_replies ON messages (user_id, created_at) "
        "INCLUDE (latency_ms, first_token_ms, session_id) WHERE role = 'assistant'"
    )
    op.execute(
        "CREATE INDEX ix_messages_replies_when ON messages (created_at) "
        "INCLUDE (latency_ms, first_token_ms, user_id, session_id) WHERE role = 'assistant'"
    )


def _values(row: str) -> dict[str, str]:
    """The activity sums one message contributes, as SQL over NEW or OLD."""
    return {
        "messages": "1",
        "words": f"{row}.word_count",
        "user_words": f"CASE WHEN {row}.role = 'user' THEN {row}.word_count ELSE 0 END",
        "assistant_words": f"CASE WHEN {row}.role = 'assistant' THEN {row}.word_count ELSE 0 END",
        "input_tokens": f"COALESCE({row}.input_tokens, 0)",
        "output_tokens": f"COALESCE({row}.output_tokens, 0)",
    }


def _sqlite_triggers() -> None:
    def add(row: str) -> str:
        bucket = _SQLITE_BUCKET.format(c=f"{row}.created_at")
        values = _values(row)
        sums = ", ".join(f"{name} = {name} + excluded.{name}" for name in _SUMS)
        model_sums = ", ".join(f"{name} = {name} + excluded.{name}" for name in _MODEL_SUMS)
        return (
            f"INSERT INTO activity_rollup (user_id, bucket, session_id, {', '.join(_SUMS)}) "
            f"SELECT {row}.user_id, {bucket}, {row}.session_id, "
            f"{', '.join(values[name] for name in _SUMS)} WHERE true "
            f"ON CONFLICT (user_id, bucket, session_id) DO UPDATE SET {sums}; "
            f"INSERT INTO model_rollup (user_id, bucket, session_id, model, "
            f"{', '.join(_MODEL_SUMS)}) "
            f"SELECT {row}.user_id, {bucket}, {row}.session_id, COALESCE({row}.model, ''), "
            f"{values['input_tokens']}, {values['output_tokens']}, 1 "
            f"WHERE {row}.input_tokens IS NOT NULL OR {row}.output_tokens IS NOT NULL "
            f"ON CONFLICT (user_id, bucket, session_id, model) DO UPDATE SET {model_sums}; "
        )

    def remove(row: str) -> str:
        bucket = _SQLITE_BUCKET.format(c=f"{row}.created_at")
        values = _values(row)
        key = f"user_id = {row}.user_id AND bucket = {bucket} AND session_id = {row}.session_id"
        model_key = f"{key} AND model = COALESCE({row}.model, '')"
        sums = ", ".join(f"{name} = {name} - ({values[name]})" for name in _SUMS)
        return (
            f"UPDATE activity_rollup SET {sums} WHERE {key}; "
            f"DELETE FROM activity_rollup WHERE {key} AND messages <= 0; "
            f"UPDATE model_rollup SET input_tokens = input_tokens - {values['input_tokens']}, "
            f"output_tokens = output_tokens - {values['output_tokens']}, replies = replies - 1 "
            f"WHERE {model_key} "
            f"AND ({row}.input_tokens IS NOT NULL OR {row}.output_tokens IS NOT NULL); "
            f"DELETE FROM model_rollup WHERE {model_key} AND replies <= 0; "
        )

    op.execute(
        f"CREATE TRIGGER messages_rollup_insert AFTER INSERT ON messages BEGIN {add('new')}END"
    )
    op.execute(
        f"CREATE TRIGGER messages_rollup_delete AFTER DELETE ON messages BEGIN {remove('old')}END"
    )
    op.execute(
        "CREATE TRIGGER messages_rollup_update AFTER UPDATE OF user_id, session_id, role, model, "
        "word_count, input_tokens, output_tokens, created_at ON messages "
        f"BEGIN {remove('old')}{add('new')}END"
    )


def _postgresql_grouped(rows: str) -> str:
    bucket = _PG_BUCKET.format(c="created_at")
    values = {name: value.replace("row.", "") for name, value in _values("row").items()}
    values["messages"] = "count(*)"
    sums = ", ".join(f"sum({values[name]}) AS {name}" for name in _SUMS if name != "messages")
    return (
        f"SELECT user_id, {bucket} AS bucket, session_id, count(*) AS messages, {sums} "
        f"FROM {rows} GROUP BY 1, 2, 3"
    )


def _postgresql_model_grouped(rows: str) -> str:
    bucket = _PG_BUCKET.format(c="created_at")
    return (
        f"SELECT user_id, {bucket} AS bucket, session_id, COALESCE(model, '') AS model, "
        "sum(COALESCE(input_tokens, 0)) AS input_tokens, "
        "sum(COALESCE(output_tokens, 0)) AS output_tokens, count(*) AS replies "
        f"FROM {rows} WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL "
        "GROUP BY 1, 2, 3, 4"
    )


def _postgresql_triggers() -> None:
    key = "r.user_id = g.user_id AND r.bucket = g.bucket AND r.session_id = g.session_id"
    subtract = ", ".join(f"{name} = r.{name} - g.{name}" for name in _SUMS)
    add = ", ".join(f"{name} = r.{name} + excluded.{name}" for name in _SUMS)
    model_subtract = ", ".join(f"{name} = r.{name} - g.{name}" for name in _MODEL_SUMS)
    model_add = ", ".join(f"{name} = r.{name} + excluded.{name}" for name in _MODEL_SUMS)
    op.execute(
        f"""
        CREATE FUNCTION huddle_messages_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' THEN
            UPDATE activity_rollup r SET {subtract}
              FROM ({_postgresql_grouped("old_rows")}) g WHERE {key};
            DELETE FROM activity_rollup r USING ({_postgresql_grouped("old_rows")}) g
              WHERE {key} AND r.messages <= 0;
            UPDATE model_rollup r SET {model_subtract}
              FROM ({_postgresql_model_grouped("old_rows")}) g
              WHERE {key} AND r.model = g.model;
            DELETE FROM model_rollup r USING ({_postgresql_model_grouped("old_rows")}) g
              WHERE {key} AND r.model = g.model AND r.replies <= 0;
          END IF;
          IF TG_OP <> 'DELETE' THEN
            INSERT INTO activity_rollup AS r (user_id, bucket, session_id, {", ".join(_SUMS)})
              SELECT * FROM ({_postgresql_grouped("new_rows")}) g ORDER BY 1, 2, 3
              ON CONFLICT (user_id, bucket, session_id) DO UPDATE SET {add};
            INSERT INTO model_rollup AS r
                (user_id, bucket, session_id, model, {", ".join(_MODEL_SUMS)})
              SELECT * FROM ({_postgresql_model_grouped("new_rows")}) g ORDER BY 1, 2, 3, 4
              ON CONFLICT (user_id, bucket, session_id, model) DO UPDATE SET {model_add};
          END IF;
          RETURN NULL;
        END $$
        """
    )
    # One trigger per event: PostgreSQL allows transition tables only on single-event triggers.
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER messages_rollup_{event.lower()} AFTER {event} ON messages "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION huddle_messages_rollup()"
        )


def _backfill(dialect: str) -> None:
    if dialect == "sqlite":
        bucket = _SQLITE_BUCKET.format(c="created_at")
        values = {name: value.replace("row.", "") for name, value in _values("row").items()}
        sums = ", ".join(f"sum({values[name]})" for name in _SUMS)
        op.execute(
            f"INSERT INTO activity_rollup (user_id, bucket, session_id, {', '.join(_SUMS)}) "
            f"SELECT user_id, {bucket}, session_id, {sums} FROM messages GROUP BY 1, 2, 3"
        )
        op.execute(
            f"INSERT INTO model_rollup (user_id, bucket, session_id, model, "
            f"{', '.join(_MODEL_SUMS)}) "
            f"SELECT user_id, {bucket}, session_id, COALESCE(model, ''), "
            "sum(COALESCE(input_tokens, 0)), sum(COALESCE(output_tokens, 0)), count(*) "
            "FROM messages WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL "
            "GROUP BY 1, 2, 3, 4"
        )
        return
    op.execute(
        f"INSERT INTO activity_rollup (user_id, bucket, session_id, {', '.join(_SUMS)}) "
        f"{_postgresql_grouped('messages')}"
    )
    op.execute(
        f"INSERT INTO model_rollup (user_id, bucket, session_id, model, {', '.join(_MODEL_SUMS)}) "
        f"{_postgresql_model_grouped('messages')}"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _create_tables()
    _create_reply_indexes(dialect)
    _backfill(dialect)
    if dialect == "sqlite":
        _sqlite_triggers()
    else:
        _postgresql_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS messages_rollup_{event}")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS messages_rollup_{event} ON messages")
        op.execute("DROP FUNCTION IF EXISTS huddle_messages_rollup()")
    op.execute("DROP INDEX IF EXISTS ix_messages_replies_when")
    op.execute("DROP INDEX IF EXISTS ix_messages_replies_latency")
    op.execute("DROP INDEX IF EXISTS ix_messages_replies_first_token")
    op.drop_index("ix_messages_replies", "messages")
    op.drop_index("ix_tool_calls_name_created", "tool_calls")
    op.drop_index("ix_tool_calls_user_created", "tool_calls")
    op.drop_table("model_rollup")
    op.drop_table("activity_rollup")
