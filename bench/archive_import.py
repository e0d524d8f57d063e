"""Archive import rate: a large slice of the corpus exported, then imported into an empty
database through core.archive_in.import_archive, as `python -m core import` does."""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import column, table, text

from bench.archive_pydantic import Archive
from bench.machine import postgres_cpu_seconds, process_cpu_seconds
from core.analytics_rollup import add_batch_to_rollup
from core.archive_in import import_archive
from core.archive_out import write_archive
from core.archive_schema import DECODER as ARCHIVE_DECODER
from core.export_batches import without_cycle_collection
from core.models import Message
from core.store import ConversationStore


@dataclass(frozen=True)
class ArchiveSlice:
    path: Path
    coaches: int
    sessions: int
    messages: int
    bytes: int
    export_seconds: float


@dataclass(frozen=True)
class CopyStep:
    what: str
    seconds: float
    server_cpu_seconds: float | None
    sqlite: bool = False


@dataclass(frozen=True)
class ImportTimings:
    """The first import writes everything; the second of the same archive parses,
    validates and matches every session by id, then writes nothing. Their difference
    is the cost of writing."""

    slice: ArchiveSlice
    import_seconds: float
    reimport_seconds: float
    messages_added: int
    # CPU seconds during the first import: this process (parsing, validating,
    # preparing rows; SQLite's own work too) and the local PostgreSQL server.
    client_cpu_seconds: float
    server_cpu_seconds: float | None
    # Decoding and validating the archive's bytes against its schema, best of DECODE_RUNS:
    # msgspec (what Huddle uses) and the same schema as pydantic v2 models.
    msgspec_seconds: float = 0.0
    pydantic_seconds: float = 0.0
    # The same messages written again by one statement, parts of `messages` taken away one
    # by one (copy_steps on PostgreSQL, sqlite_steps on SQLite).
    copies: tuple[CopyStep, ...] = ()

    @property
    def copy_rate(self) -> float | None:
        """PostgreSQL: what one plain COPY of these messages reaches, one backend's limit."""
        if not self.copies or self.copies[0].sqlite:
            return None
        return self.messages_added / self.copies[0].seconds

    @property
    def rate(self) -> float:
        return self.messages_added / self.import_seconds

    @property
    def write_seconds(self) -> float | None:
        """None when the difference is lost in the noise (a small archive)."""
        difference = self.import_seconds - self.reimport_seconds
        return difference if difference > 0.1 * self.import_seconds else None

    @property
    def write_rate(self) -> float | None:
        seconds = self.write_seconds
        return None if seconds is None else self.messages_added / seconds


def export_slice(store: ConversationStore, messages: int, path: Path) -> ArchiveSlice:
    """One archive holding whole coaches, biggest first, until it has `messages` messages.

    write_archive exports one coach; the coaches' archives are joined into one
    (an archive names each session's owner, so one file can hold several).
    """
    with store.db.reading() as session:
        coaches = session.execute(
            text(
                "SELECT user_id, count(*) AS n FROM messages GROUP BY user_id "
                "ORDER BY n DESC, user_id"
            )
        ).all()
    started = time.perf_counter()
    archive: dict | None = None
    taken = included = 0
    for user_id, count in coaches:
        buffer = io.StringIO()
        write_archive(store, user_id, buffer)
        part = json.loads(buffer.getvalue())
        if archive is None:
            archive = part
        else:
            archive["sessions"].extend(part["sessions"])
            archive["drills"].extend(part["drills"])
        taken += 1
        included += count
        if included >= messages:
            break
    if archive is None:
        raise RuntimeError("The corpus has no messages to export.")
    path.write_text(json.dumps(archive, ensure_ascii=False), encoding="utf-8")
    return ArchiveSlice(
        path=path,
        coaches=taken,
        sessions=len(archive["sessions"]),
        messages=sum(len(chat["messages"]) for chat in archive["sessions"]),
        bytes=path.stat().st_size,
        export_seconds=time.perf_counter() - started,
    )


def time_import(store: ConversationStore, archive: ArchiveSlice) -> ImportTimings:
    """Import the archive file into the (empty) store, then import it again."""
    server_before = postgres_cpu_seconds() if store.db.dialect == "postgresql" else None
    cpu_before = time.process_time()
    started = time.perf_counter()
    first = import_archive(store, archive.path)
    import_seconds = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_before
    server_after = postgres_cpu_seconds() if server_before is not None else None
    server_cpu = None if server_after is None else server_after - server_before
    started = time.perf_counter()
    again = import_archive(store, archive.path)
    reimport_seconds = time.perf_counter() - started
    if again.messages_added or first.messages_added != archive.messages:
        raise RuntimeError(
            f"The import wrote {first.messages_added:,} of {archive.messages:,} messages and "
            f"{again.messages_added:,} on the second run; the benchmark cannot be trusted."
        )
    data = archive.path.read_bytes()
    copies = tuple(copy_steps(store) if store.db.dialect == "postgresql" else sqlite_steps(store))
    return ImportTimings(
        archive,
        import_seconds,
        reimport_seconds,
        first.messages_added,
        client_cpu_seconds=client_cpu,
        server_cpu_seconds=server_cpu,
        msgspec_seconds=_best_decode(lambda: ARCHIVE_DECODER.decode(data)),
        pydantic_seconds=_best_decode(lambda: Archive.model_validate_json(data)),
        copies=copies,
    )


DECODE_RUNS = 3


def _best_decode(decode: Callable[[], object]) -> float:
    """The fastest of DECODE_RUNS decodes, the cyclic GC paused as the import pauses it."""
    best = math.inf
    with without_cycle_collection():
        for _ in range(DECODE_RUNS):
            started = time.perf_counter()
            decoded = decode()
            best = min(best, time.perf_counter() - started)
            del decoded
    return best


# What one COPY of the same messages costs PostgreSQL as parts of `messages` are taken
# away one by one (each step keeps the removals before it): where the server's time goes.
COPY_STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("messages as they are (plain COPY)", ()),
    (
        "without the rollup's statement trigger",
        ("DROP TRIGGER messages_rollup_insert ON messages",),
    ),
    (
        "without the two reply indexes",
        ("DROP INDEX ix_messages_replies", "DROP INDEX ix_messages_replies_when"),
    ),
    ("without the GIN index (user_id, search_vector)", ("DROP INDEX ix_messages_search",)),
    ("without the generated tsvector column", ("ALTER TABLE messages DROP COLUMN search_vector",)),
    (
        "without the two foreign keys",
        (
            "ALTER TABLE messages DROP CONSTRAINT messages_session_id_fkey",
            "ALTER TABLE messages DROP CONSTRAINT messages_user_id_fkey",
        ),
    ),
]


def copy_steps(store: ConversationStore) -> list[CopyStep]:
    """PostgreSQL: the imported messages written again by one plain COPY per step of
    COPY_STEPS; the first step is what one server backend reaches for these rows.

    The rows are read out in COPY's text form; before each step `messages` is emptied
    (TRUNCATE, which also empties tool_calls; the sessions stay) and the same bytes are
    copied back in one transaction, so the client does almost nothing. The scratch
    database is changed for good: this runs after the import's timings.
    """
    names = ", ".join(c.name for c in Message.__table__.columns if c.name != "id")
    steps = []
    with store.db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        read_out = f"COPY (SELECT {names} FROM messages ORDER BY id) TO STDOUT"
        with raw.cursor() as cursor, cursor.copy(read_out) as out:
            data = b"".join(bytes(chunk) for chunk in out)
        for what, changes in COPY_STEPS:
            with raw.cursor() as cursor:
                cursor.execute("TRUNCATE messages CASCADE")
                for change in changes:
                    cursor.execute(change)
            raw.commit()
            # The CPU of this connection's own backend, the one process that does the work.
            server_before = process_cpu_seconds(raw.info.backend_pid)
            started = time.perf_counter()
            with raw.cursor() as cursor, cursor.copy(f"COPY messages ({names}) FROM STDIN") as copy:
                copy.write(data)
            raw.commit()
            seconds = time.perf_counter() - started
            server_after = process_cpu_seconds(raw.info.backend_pid)
            server = None if None in (server_before, server_after) else server_after - server_before
            steps.append(CopyStep(what, seconds, server))
    return steps


# SQLite: the import's own INSERT … SELECT of the same messages from a temp table, with
# parts of `messages` taken away one by one (each step keeps the removals before it).
_NO_ROLLUP = "the rollup's two grouped upserts are left out"
SQLITE_STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("messages as they are (the import's INSERT … SELECT, rollup per batch)", ()),
    ("without the rollup's grouped upserts", (_NO_ROLLUP,)),
    (
        "without the three reply indexes",
        (
            "DROP INDEX ix_messages_replies",
            "DROP INDEX ix_messages_replies_latency",
            "DROP INDEX ix_messages_replies_first_token",
        ),
    ),
    ("without the FTS5 index (its trigger)", ("DROP TRIGGER messages_fts_insert",)),
    ("without the index (user_id, created_at)", ("DROP INDEX ix_messages_user_created",)),
    ("without the foreign keys (checked)", ("PRAGMA foreign_keys = OFF",)),
]


def sqlite_steps(store: ConversationStore) -> list[CopyStep]:
    """SQLite: the imported messages inserted again per step of SQLITE_STEPS, each time into
    an emptied `messages` in one transaction, as core/bulk.py inserts a batch (the rows
    come from a temp table; the rollup stands aside and gets the batch's sums after).
    The scratch database is changed for good: this runs after the import's timings."""
    names = [c.name for c in Message.__table__.columns if c.name != "id"]
    columns = ", ".join(names)
    batch = table("keep", *(column(name) for name in names), schema="temp")
    steps = []
    with store.db.engine.connect() as connection:
        run = connection.exec_driver_sql
        # Emptying the table between steps is not timed; it should not take minutes either.
        for trigger in ("fts_delete", "fts_update", "rollup_delete", "rollup_update"):
            run(f"DROP TRIGGER messages_{trigger}")
        run(f"CREATE TEMP TABLE keep AS SELECT {columns} FROM messages ORDER BY id")
        run("DELETE FROM tool_calls")
        connection.commit()
        rollup = True
        for what, changes in SQLITE_STEPS:
            run("DELETE FROM messages")
            run("INSERT INTO messages_fts (messages_fts) VALUES ('delete-all')")
            run("DELETE FROM activity_rollup")
            run("DELETE FROM model_rollup")
            rollup = rollup and _NO_ROLLUP not in changes
            for change in changes:
                if change.startswith("DROP"):
                    run(change)
            connection.commit()
            if "PRAGMA foreign_keys = OFF" in changes:  # only outside a transaction
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")
            started = time.perf_counter()
            run("INSERT INTO rollup_deferred (id) VALUES (1)")
            run(f"INSERT INTO messages ({columns}) SELECT {columns} FROM temp.keep ORDER BY rowid")
            if rollup:
                add_batch_to_rollup(connection, batch)
            run("DELETE FROM rollup_deferred")
            connection.commit()
            steps.append(CopyStep(what, time.perf_counter() - started, None, sqlite=True))
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")
    return steps
