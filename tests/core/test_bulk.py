"""ConversationStore.insert_bulk: rows written by the fast path read back as the ORM wrote them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from core.db import Database
from core.store import BulkBatch, ConversationStore
from core.text import count_words

WHEN = datetime(2026, 3, 1, 9, 30, 0, 120000, tzinfo=UTC)


def session_row(user_id: int, session_id: str, **values) -> dict:
    row = {
        "id": session_id,
        "user_id": user_id,
        "kind": "chat",
        "title": "Bulk",
        "title_source": "auto",
        "drill_id": None,
        "model": "m",
        "pinned": False,
        "archived": False,
        "metadata": {},
        "message_count": 0,
        "word_count": 0,
        "last_seq": 0,
        "last_message_at": None,
        "preview": "",
        "created_at": WHEN,
        "updated_at": WHEN,
    }
    return {**row, **values}


def message_row(user_id: int, session_id: str, seq: int, **values) -> dict:
    row = {
        "session_id": session_id,
        "user_id": user_id,
        "seq": seq,
        "role": "user",
        "content": "",
        "blocks": None,
        "status": "complete",
        "error": None,
        "model": None,
        "input_tokens": None,
        "output_tokens": None,
        "word_count": 0,
        "latency_ms": None,
        "created_at": WHEN,
        "metadata": {},
    }
    return {**row, **values}


def without_metadata(row: dict) -> dict:
    return {key: value for key, value in row.items() if key != "metadata"}


def raw(store: ConversationStore, sql: str, **params) -> list[tuple]:
    with store.db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def raw_columns(store: ConversationStore, table: str) -> list[str]:
    with store.db.engine.connect() as connection:
        return list(connection.execute(text(f"SELECT * FROM {table} LIMIT 0")).keys())


def check_search_index(store: ConversationStore) -> None:
    """SQLite: FTS5's own check that its index holds exactly what `messages` holds.

    With rank 1 the check compares the index with the external content table:
    a message missing from the index, or indexed with other text, fails it.
    """
    with store.db.engine.connect() as connection:
        connection.exec_driver_sql(
            "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)"
        )


def many_messages(user_id: int, sessions: list[str], count: int) -> list[dict]:
    """`count` messages dealt round the sessions in turn, each with one word of its own."""
    return [
        message_row(
            user_id,
            sessions[number % len(sessions)],
            number // len(sessions) + 1,
            content=f"Rondo variation marker{number} for the back four",
            word_count=8,
            created_at=WHEN + timedelta(seconds=number),
        )
        for number in range(count)
    ]


def test_bulk_rows_are_stored_exactly_as_the_orm_stores_them(store, coach) -> None:
    """Same message once through add_message and once through insert_bulk: same stored values."""
    orm_chat = store.create_session(coach.id)
    store.add_message(coach.id, orm_chat.id, "user", "Pressing drill?", created_at=WHEN)
    store.insert_bulk(
        BulkBatch(
            sessions=[session_row(coach.id, "bulk-1", message_count=1, last_seq=1)],
            messages=[message_row(coach.id, "bulk-1", 1, content="Pressing drill?", word_count=2)],
        )
    )
    # Every column but the two that must differ; on SQLite the storage class of
    # each value too, since the bulk path stages rows in an untyped temp table.
    names = [
        name
        for name in raw_columns(store, "messages")
        if name not in ("id", "session_id", "search_vector")
    ]
    if store.db.dialect == "sqlite":
        names += [f"typeof({name})" for name in names]
    columns = ", ".join(names)
    orm = raw(store, f"SELECT {columns} FROM messages WHERE session_id = :s", s=orm_chat.id)
    bulk = raw(store, f"SELECT {columns} FROM messages WHERE session_id = 'bulk-1'")
    assert bulk == orm
    stored = dict(zip(names, orm[0], strict=True))
    if store.db.dialect == "sqlite":
        assert stored["created_at"] == "2026-03-01 09:30:00.120000"
        assert stored["blocks"] == "null"  # the ORM's JSON type stores None as JSON null
        assert stored["typeof(word_count)"] == "integer"


def test_bulk_rows_read_back_through_the_store(store, coach) -> None:
    paris = timezone(timedelta(hours=1))
    first, second = WHEN, WHEN + timedelta(seconds=5)
    blocks = [{"type": "tool_use", "id": "t1", "name": "calculator", "input": {"e": "2+2"}}]
    store.insert_bulk(
        BulkBatch(
            drills=[
                {
                    "id": "drill-1",
                    "user_id": coach.id,
                    "title": "Rondo",
                    "sport": "soccer",
                    "objective": "",
                    "age_group": "U12",
                    "players": 8,
                    "duration_min": 20,
                    "equipment": ["cones"],
                    "setup": "",
                    "steps": ["Play 4v2."],
                    "coaching_points": [],
                    "progressions": [],
                    "tags": ["u12"],
                    "source_session_id": "bulk-1",
                    "created_at": first,
                    "updated_at": first,
                }
            ],
            sessions=[
                # The ORM attribute name metadata_ is accepted as well as the column name.
                {
                    **without_metadata(session_row(coach.id, "bulk-1")),
                    "kind": "drill",
                    "drill_id": "drill-1",
                    "pinned": True,
                    "metadata_": {"source": "test"},
                    "message_count": 2,
                    "word_count": 4,
                    "last_seq": 2,
                    "last_message_at": second,
                }
            ],
            tags=[{"session_id": "bulk-1", "tag": "u12"}],
            messages=[
                # A time in another zone is stored as the same instant in UTC; a missing
                # word_count is counted by the one word rule; missing columns get defaults.
                {
                    "session_id": "bulk-1",
                    "user_id": coach.id,
                    "seq": 1,
                    "role": "user",
                    "content": "Give me a 4-3-3 rondo",
                    "created_at": first.astimezone(paris),
                },
                message_row(
                    coach.id,
                    "bulk-1",
                    2,
                    role="assistant",
                    blocks=blocks,
                    input_tokens=10,
                    output_tokens=3,
                    created_at=second,
                ),
            ],
            tool_calls=[
                {
                    "session_id": "bulk-1",
                    "user_id": coach.id,
                    "tool_use_id": "t1",
                    "name": "calculator",
                    "input": {"e": "2+2"},
                    "output": "4",
                    "is_error": False,
                    "duration_ms": 3,
                    "created_at": second,
                    "message_seq": 2,
                },
                {
                    "session_id": "bulk-1",
                    "user_id": coach.id,
                    "tool_use_id": "t2",
                    "name": "word_count",
                    "input": None,
                    "output": "",
                    "created_at": second,
                    "message_seq": None,  # a call that belongs to no message
                },
            ],
        )
    )

    chat = store.get_session(coach.id, "bulk-1")
    assert (chat.kind, chat.drill_id, chat.pinned, chat.metadata_) == (
        "drill",
        "drill-1",
        True,
        {"source": "test"},
    )
    assert chat.tag_names == ["u12"]
    assert chat.last_message_at == second
    messages = store.list_messages(coach.id, "bulk-1")
    assert [(m.seq, m.role, m.created_at) for m in messages] == [
        (1, "user", first),
        (2, "assistant", second),
    ]
    assert messages[0].word_count == count_words("Give me a 4-3-3 rondo") == 5
    assert (messages[0].status, messages[0].metadata_, messages[0].blocks) == ("complete", {}, None)
    assert messages[1].blocks == blocks
    call, loose = store.list_tool_calls(coach.id, "bulk-1")
    assert (call.message_id, call.input, call.output, call.created_at) == (
        messages[1].id,
        {"e": "2+2"},
        "4",
        second,
    )
    assert (loose.message_id, loose.input, loose.is_error, loose.duration_ms) == (
        None,
        None,
        False,
        None,
    )
    drill = store.get_drill(coach.id, "drill-1")
    assert (drill.source_session_id, drill.equipment, drill.players) == ("bulk-1", ["cones"], 8)
    assert [s.id for s in store.sessions_for_drill(coach.id, "drill-1")] == ["bulk-1"]
    # Bulk-written messages are searchable like any other (FTS trigger / generated tsvector).
    assert [hit.seq for hit in store.search_messages(coach.id, "rondo")] == [1]


def test_bulk_insert_in_the_callers_transaction_rolls_back_with_it(store, coach) -> None:
    with pytest.raises(RuntimeError), store.db.writing() as session:
        store.insert_bulk(
            BulkBatch(
                sessions=[session_row(coach.id, "bulk-1", message_count=1, last_seq=1)],
                messages=[message_row(coach.id, "bulk-1", 1, content="kept?")],
            ),
            session=session,
        )
        raise RuntimeError("the caller fails after the insert")
    assert raw(store, "SELECT count(*) FROM chat_sessions") == [(0,)]
    assert raw(store, "SELECT count(*) FROM messages") == [(0,)]


def test_a_large_batch_is_indexed_for_search_exactly(store, coach) -> None:
    chat = store.create_session(coach.id)
    store.add_message(coach.id, chat.id, "user", "Prelude marker", created_at=WHEN)
    sessions = ["bulk-1", "bulk-2", "bulk-3"]
    messages = many_messages(coach.id, sessions, 600)
    store.insert_bulk(
        BulkBatch(
            sessions=[session_row(coach.id, s, message_count=200, last_seq=200) for s in sessions],
            messages=messages,
        )
    )
    store.add_message(coach.id, chat.id, "user", "Coda marker", created_at=WHEN)

    # Ids follow the batch's order, which is what recency order relies on.
    stored = raw(
        store, "SELECT session_id, seq FROM messages WHERE session_id LIKE 'bulk-%' ORDER BY id"
    )
    assert stored == [(row["session_id"], row["seq"]) for row in messages]
    if store.db.dialect == "sqlite":
        check_search_index(store)
    for number in (0, 299, 599):
        (hit,) = store.search_messages(coach.id, f"marker{number}")
        assert (hit.session_id, hit.seq) == (sessions[number % 3], number // 3 + 1)
    assert len(store.search_messages(coach.id, "rondo", order="recent", limit=500)) == 500
    # Messages written one at a time around the batch are indexed by the trigger as before.
    hits = store.search_messages(coach.id, "prelude OR coda", order="recent")
    assert [(hit.session_id, hit.seq) for hit in hits] == [(chat.id, 2), (chat.id, 1)]


@pytest.fixture
def sqlite_store(sqlite_url) -> Iterator[ConversationStore]:
    db = Database(sqlite_url)
    db.migrate()
    yield ConversationStore(db)
    db.dispose()


def test_the_index_check_catches_a_message_the_index_missed(sqlite_store) -> None:
    """The check used above is not a formality: a row that skipped the trigger fails it."""
    store = sqlite_store
    coach = store.create_user("coach1")
    store.insert_bulk(
        BulkBatch(
            sessions=[session_row(coach.id, "bulk-1", message_count=1, last_seq=1)],
            messages=[message_row(coach.id, "bulk-1", 1, content="indexed")],
        )
    )
    check_search_index(store)
    with store.db.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER messages_fts_insert")
        connection.exec_driver_sql(
            "INSERT INTO messages (session_id, user_id, seq, role, content, status, "
            "word_count, created_at, metadata) VALUES "
            f"('bulk-1', {coach.id}, 2, 'user', 'not indexed', 'complete', 2, "
            "'2026-03-01 09:30:00.000000', '{}')"
        )
    with pytest.raises(sa.exc.DatabaseError):
        check_search_index(store)


def test_a_failed_batch_leaves_nothing_and_the_next_one_works(store, coach) -> None:
    good = BulkBatch(
        sessions=[session_row(coach.id, "bulk-1", message_count=300, last_seq=300)],
        messages=many_messages(coach.id, ["bulk-1"], 300),
    )
    clashing = many_messages(coach.id, ["bulk-2"], 300)
    clashing[-1]["seq"] = 1  # (session_id, seq) is unique
    with pytest.raises(sa.exc.IntegrityError):
        store.insert_bulk(
            BulkBatch(
                sessions=[session_row(coach.id, "bulk-2", message_count=300, last_seq=300)],
                messages=clashing,
            )
        )
    assert raw(store, "SELECT count(*) FROM messages") == [(0,)]
    # Two batches in one transaction, on the connection the failed batch used.
    with store.db.writing() as session:
        store.insert_bulk(good, session=session)
        store.insert_bulk(
            BulkBatch(
                sessions=[session_row(coach.id, "bulk-3", message_count=1, last_seq=1)],
                messages=[message_row(coach.id, "bulk-3", 1, content="Third marker999")],
            ),
            session=session,
        )
    assert raw(store, "SELECT count(*) FROM messages") == [(301,)]
    if store.db.dialect == "sqlite":
        check_search_index(store)
    assert [hit.session_id for hit in store.search_messages(coach.id, "marker999")] == ["bulk-3"]
