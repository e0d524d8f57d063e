"""ConversationStore.insert_bulk: rows written by the fast path read back as the ORM wrote them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

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
    columns = "created_at, blocks, metadata, status, word_count"
    orm = raw(store, f"SELECT {columns} FROM messages WHERE session_id = :s", s=orm_chat.id)
    bulk = raw(store, f"SELECT {columns} FROM messages WHERE session_id = 'bulk-1'")
    assert bulk == orm
    if store.db.dialect == "sqlite":
        assert orm[0][0] == "2026-03-01 09:30:00.120000"
        assert orm[0][1] == "null"  # the ORM's JSON type stores None as JSON null


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
