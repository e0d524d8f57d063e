"""The fast write path behind ConversationStore.insert_bulk: executemany or COPY of plain rows.

Archive import and demo-data insert hundreds of thousands of rows. Going through
SQLAlchemy's per-row bind processing costs more than the database work itself,
so rows are turned into plain tuples here, in exactly the form the ORM's column
types would have produced (SQLite: naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'
and JSON text; PostgreSQL: aware datetimes and JSON text parsed by jsonb), and
handed to the driver in one call per table. On SQLite, messages pass through a
temp table so that the search index is built once per batch, not once per row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Protocol

from sqlalchemy import JSON, Column, Table, column, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause

from core.analytics_rollup import add_batch_to_rollup
from core.models import Base, ChatSession, Drill, Message, SessionTag, ToolCall, UTCDateTime
from core.text import count_words


class RowBatch(Protocol):
    """The shape of core.store.BulkBatch (kept there, where its callers look for it)."""

    sessions: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    drills: list[dict[str, Any]]


Convert = Callable[[Any], Any]

# Where SQLite's messages wait before one INSERT … SELECT moves them into
# `messages` (see _SQLiteWriter.insert_messages). A connection's temp schema is
# its own: no other connection sees it, and the database file is not touched.
_STAGED_MESSAGES = "temp.huddle_staged_messages"


def _staged_table(names: Sequence[str]) -> TableClause:
    schema, name = _STAGED_MESSAGES.split(".")
    return table(name, *(column(name) for name in names), schema=schema)


def _sqlite_time(value: datetime | None) -> str | None:
    # The text SQLAlchemy's SQLite DATETIME writes for UTCDateTime's naive UTC
    # value: 'YYYY-MM-DD HH:MM:SS.ffffff', the first 26 characters of isoformat
    # (an aware time only adds "+00:00"; cutting is cheaper than replace()).
    if value is None:
        return None
    if value.tzinfo is not None and value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _postgres_time(value: datetime | None) -> datetime | None:
    # A time without a zone is UTC, as UTCDateTime takes it.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _json_text(value: Any) -> str:
    # None becomes JSON null, not SQL NULL: what the ORM's JSON type stores too.
    # The two commonest values skip the encoder (a million messages carry them).
    if value is None:
        return "null"
    if value == {} and isinstance(value, dict):
        return "{}"
    return json.dumps(value)


def _converter(column: Column, dialect: str) -> Convert | None:
    if isinstance(column.type, UTCDateTime):
        return _sqlite_time if dialect == "sqlite" else _postgres_time
    if isinstance(column.type, JSON):
        return _json_text
    return None


def _missing_value(column: Column) -> Callable[[dict[str, Any]], Any]:
    """What an absent key becomes: the column's default, as the ORM would have used it."""
    if column.table is Message.__table__ and column.name == "word_count":
        return lambda row: count_words(row.get("content") or "")
    if column.table is ChatSession.__table__ and column.name == "last_activity_at":
        # Derived, so callers (archive import, demo-data) never have to know of it.
        return lambda row: row.get("last_message_at") or row["created_at"]
    default = column.default
    if default is None:
        return lambda row: None
    if default.is_callable:
        return lambda row: default.arg(None)
    return lambda row: default.arg


class _TableRows:
    """Turns row dicts of one table into tuples in a fixed column order."""

    def __init__(self, model: type[Base], dialect: str, skip: Sequence[str] = ()) -> None:
        self.table: Table = model.__table__
        self.columns = [c for c in self.table.columns if c.name not in skip]
        self.names = tuple(c.name for c in self.columns)
        # Row keys are column names; the ORM attribute name (metadata_) is accepted too.
        self._aliases = {
            c.name: model.__mapper__.get_property_by_column(c).key for c in self.columns
        }
        self._get = itemgetter(*self.names)
        self._missing = {c.name: _missing_value(c) for c in self.columns}
        self._convert = [
            (index, convert)
            for index, column in enumerate(self.columns)
            if (convert := _converter(column, dialect)) is not None
        ]

    def _slow_values(self, row: dict[str, Any]) -> list[Any]:
        values = []
        for name in self.names:
            if name in row:
                values.append(row[name])
            elif self._aliases[name] in row:
                values.append(row[self._aliases[name]])
            else:
                values.append(self._missing[name](row))
        return values

    def tuples(self, rows: Iterable[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
        convert = self._convert
        for row in rows:
            try:
                values = list(self._get(row))
            except KeyError:
                values = self._slow_values(row)
            for index, function in convert:
                values[index] = function(values[index])
            yield tuple(values)


def _without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in names}


def write_batch(session: Session, batch: RowBatch) -> None:
    """Insert a batch of prepared rows inside the session's current transaction.

    Order matters for the foreign keys: drills (without their source session),
    sessions, the drills' back-links, tags, messages, then tool calls, whose
    message_id is looked up from (session_id, message_seq).
    """
    # Rows the caller added through the ORM (a new user, say) must exist before
    # the driver-level statements below refer to them.
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        _write(_SQLiteWriter(connection), batch)
        return
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        _write(_PostgresWriter(connection), batch)
    except driver_error as exc:
        # COPY runs on psycopg's own cursor, beneath SQLAlchemy; its errors are
        # raised as SQLAlchemy's would be (IntegrityError for a duplicate key…),
        # so callers catch the same exceptions on both databases.
        raise DBAPIError.instance(
            None, None, exc, driver_error, dialect=connection.dialect
        ) from exc


def _write(writer: _SQLiteWriter | _PostgresWriter, batch: RowBatch) -> None:
    if batch.drills:
        writer.insert(Drill, [{**row, "source_session_id": None} for row in batch.drills])
    if batch.sessions:
        writer.insert(ChatSession, batch.sessions)
    linked = [
        (row["source_session_id"], row["id"])
        for row in batch.drills
        if row.get("source_session_id")
    ]
    if linked:
        writer.execute_many("UPDATE drills SET source_session_id = {0} WHERE id = {0}", linked)
    if batch.tags:
        writer.insert(SessionTag, batch.tags)
    if batch.messages:
        writer.insert_messages(batch.messages)
    if batch.tool_calls:
        writer.insert_tool_calls(batch.tool_calls)


class _SQLiteWriter:
    """sqlite3's executemany: one prepared statement, rows bound in C."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.connection.exec_driver_sql(sql.format("?"), [tuple(row) for row in rows])

    def insert(
        self, model: type[Base], rows: list[dict[str, Any]], skip: Sequence[str] = ()
    ) -> None:
        plan = _TableRows(model, "sqlite", skip)
        sql = (
            f"INSERT INTO {plan.table.name} ({', '.join(plan.names)}) "
            f"VALUES ({', '.join('?' for _ in plan.names)})"
        )
        self.connection.exec_driver_sql(sql, list(plan.tuples(rows)))

    def insert_messages(self, rows: list[dict[str, Any]]) -> None:
        """Messages go in by one INSERT … SELECT from a temp table, not by executemany.

        The FTS5 trigger indexes every row either way, but FTS5 writes its
        pending terms out at the end of each statement: executemany is one
        statement per row, so each message became a tiny index segment that
        had to be merged again (about 45 µs a message, three quarters of the
        write). Inside one statement the terms of the whole batch are
        collected and written together (about 5 µs a message). The temp table
        has no types or constraints, so each value reaches `messages` as it
        was bound and is stored exactly as a direct insert stores it; a
        constraint that fails rejects the whole statement.
        """
        plan = _TableRows(Message, "sqlite", skip=("id",))
        names = ", ".join(plan.names)
        run = self.connection.exec_driver_sql
        # Made afresh each time, so a table left by a failed batch (or made
        # before a migration added a column) is never reused.
        run(f"DROP TABLE IF EXISTS {_STAGED_MESSAGES}")
        run(f"CREATE TABLE {_STAGED_MESSAGES} ({names})")
        run(
            f"INSERT INTO {_STAGED_MESSAGES} ({names}) "
            f"VALUES ({', '.join('?' for _ in plan.names)})",
            list(plan.tuples(rows)),
        )
        # The rollup's per-row trigger stands aside while rollup_deferred holds a row
        # (migration 0007); the batch's sums are added below in two grouped upserts.
        run("INSERT INTO rollup_deferred (id) VALUES (1)")
        # Rowid order is the batch's order, which gives the ids their order.
        run(f"INSERT INTO messages ({names}) SELECT {names} FROM {_STAGED_MESSAGES} ORDER BY rowid")
        add_batch_to_rollup(self.connection, _staged_table(plan.names))
        run("DELETE FROM rollup_deferred")
        run(f"DROP TABLE {_STAGED_MESSAGES}")

    def insert_tool_calls(self, rows: list[dict[str, Any]]) -> None:
        plan = _TableRows(ToolCall, "sqlite", skip=("id", "message_id"))
        # The issuing message is found by the unique (session_id, seq) index.
        sql = (
            f"INSERT INTO tool_calls (message_id, {', '.join(plan.names)}) VALUES ("
            "(SELECT id FROM messages WHERE session_id = ? AND seq = ?), "
            f"{', '.join('?' for _ in plan.names)})"
        )
        keys = ((row["session_id"], row["message_seq"]) for row in rows)
        values = plan.tuples(_without(row, "message_seq") for row in rows)
        self.connection.exec_driver_sql(
            sql, [(*key, *value) for key, value in zip(keys, values, strict=True)]
        )


class _PostgresWriter:
    """COPY FROM STDIN for inserts: several times faster than executemany on PostgreSQL."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.raw = connection.connection.dbapi_connection

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(sql.format("%s"), list(rows))

    def _copy(self, table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        with (
            self.raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def insert(
        self, model: type[Base], rows: list[dict[str, Any]], skip: Sequence[str] = ()
    ) -> None:
        plan = _TableRows(model, "postgresql", skip)
        self._copy(plan.table.name, plan.names, plan.tuples(rows))

    def insert_messages(self, rows: list[dict[str, Any]]) -> None:
        self.insert(Message, rows, skip=("id",))

    def insert_tool_calls(self, rows: list[dict[str, Any]]) -> None:
        plan = _TableRows(ToolCall, "postgresql", skip=("id", "message_id"))
        # A tool call that belongs to no message (message_seq None) keeps message_id NULL.
        wanted = sorted(
            {(row["session_id"], seq) for row in rows if (seq := row["message_seq"]) is not None}
        )
        with self.raw.cursor() as cursor:
            cursor.execute(
                "SELECT m.session_id, m.seq, m.id FROM messages AS m "
                "JOIN unnest(%s::text[], %s::integer[]) AS w(session_id, seq) "
                "ON m.session_id = w.session_id AND m.seq = w.seq",
                ([key[0] for key in wanted], [key[1] for key in wanted]),
            )
            message_ids = {(session_id, seq): id_ for session_id, seq, id_ in cursor}
        keys = (message_ids.get((row["session_id"], row["message_seq"])) for row in rows)
        values = plan.tuples(_without(row, "message_seq") for row in rows)
        self._copy(
            "tool_calls",
            ("message_id", *plan.names),
            ([key, *value] for key, value in zip(keys, values, strict=True)),
        )
