"""core.demo: exact sizes, consistent counters and links, determinism, through the bulk path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from core.db import Database
from core.demo import load_demo_data
from core.errors import ValidationError
from core.store import ConversationStore, SessionFilter
from core.text import count_words, make_preview

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def rows(store: ConversationStore, sql: str) -> list[tuple]:
    with store.db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def corpus(store: ConversationStore) -> dict[str, list[tuple]]:
    """Everything demo-data wrote, read through the store (typed the same on both databases)."""
    dump: dict[str, list[tuple]] = {"users": [], "sessions": [], "messages": [], "drills": []}
    for user in store.list_users():
        dump["users"].append((user.username, user.name, user.email, user.role))
        every = SessionFilter(archived=None)
        for chat in store.list_sessions(user.id, every, sort="created", limit=500).items:
            dump["sessions"].append(
                (
                    *(user.username, chat.id, chat.kind, chat.title, chat.title_source),
                    *(chat.drill_id, chat.pinned, chat.archived, chat.tag_names),
                    *(chat.message_count, chat.word_count, chat.last_seq, chat.last_message_at),
                    *(chat.preview, chat.created_at, chat.updated_at),
                )
            )
            calls = {call.message_id: call for call in store.list_tool_calls(user.id, chat.id)}
            for m in store.list_messages(user.id, chat.id, limit=None):
                call = calls.get(m.id)
                dump["messages"].append(
                    (chat.id, m.seq, m.role, m.content, m.blocks, m.status, m.error, m.model)
                    + (m.input_tokens, m.output_tokens, m.word_count, m.latency_ms, m.created_at)
                    + ((call.tool_use_id, call.name, call.input, call.output) if call else ())
                    + ((call.duration_ms, call.created_at) if call else ())
                )
        for drill in store.list_drills(user.id, limit=500):
            dump["drills"].append(
                (
                    *(drill.id, drill.title, drill.sport, drill.players, drill.steps),
                    *(drill.tags, drill.source_session_id, drill.created_at),
                )
            )
    return dump


@pytest.fixture
def small(store: ConversationStore):
    calls: list[tuple[int, int]] = []
    result = load_demo_data(
        store,
        users=3,
        sessions=30,
        messages=600,
        seed=7,
        now=NOW,
        # Small batches: sessions and their messages land in different transactions.
        batch_messages=70,
        progress=lambda done, total: calls.append((done, total)),
    )
    return result, calls


def test_sizes_are_exactly_as_asked(store, small) -> None:
    result, progress = small

    assert (result.users, result.users_created, result.sessions, result.messages) == (3, 3, 30, 600)
    assert [user.username for user in store.list_users()] == ["coach1", "coach2", "coach3"]
    assert all(user.password_hash is None for user in store.list_users())
    assert rows(store, "SELECT count(*) FROM chat_sessions") == [(30,)]
    assert rows(store, "SELECT count(*) FROM messages") == [(600,)]
    assert rows(store, "SELECT count(*) FROM tool_calls") == [(result.tool_calls,)]
    assert rows(store, "SELECT count(*) FROM drills") == [(result.drills,)]
    assert result.tool_calls > 0 and result.drills > 0
    # Progress after every batch of 70 messages, ending at the total.
    assert progress[-1] == (600, 600)
    assert [done for done, _ in progress] == sorted({done for done, _ in progress})
    assert len(progress) >= 600 // 70


def test_sessions_are_consistent_with_their_messages(store, small) -> None:
    everything = []
    for user in store.list_users():
        every = SessionFilter(archived=None)
        for chat in store.list_sessions(user.id, every, limit=500).items:
            messages = store.list_messages(user.id, chat.id, limit=None)
            everything += messages
            assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
            assert (chat.message_count, chat.last_seq) == (len(messages), len(messages))
            assert chat.word_count == sum(m.word_count for m in messages)
            assert (chat.created_at, chat.last_message_at) == (
                messages[0].created_at,
                messages[-1].created_at,
            )
            times = [m.created_at for m in messages]
            assert times == sorted(set(times))  # strictly increasing
            assert messages[0].role == "user"
            last_text = next(m.content for m in reversed(messages) if m.content.strip())
            assert chat.preview == make_preview(last_text)
    assert len(everything) == 600
    assert all(m.word_count == count_words(m.content) for m in everything)
    # Written in created_at order across sessions: ids follow time, all before `now`.
    by_id = sorted(everything, key=lambda m: m.id)
    assert [m.created_at for m in by_id] == sorted(m.created_at for m in everything)
    assert by_id[-1].created_at < NOW


def test_tool_rounds_and_drills_are_linked(store) -> None:
    load_demo_data(store, users=2, sessions=40, messages=800, seed=3, now=NOW)
    user = store.get_user("coach1")
    drills = {drill.id: drill for drill in store.list_drills(user.id, limit=500)}
    assert drills
    for drill in drills.values():
        linked = store.sessions_for_drill(user.id, drill.id)
        assert [chat.id for chat in linked] == [drill.source_session_id]
        assert linked[0].kind == "drill"
    every = SessionFilter(archived=None)
    for chat in store.list_sessions(user.id, every, limit=500).items:
        messages = {m.seq: m for m in store.list_messages(user.id, chat.id, limit=None)}
        for call in store.list_tool_calls(user.id, chat.id):
            issuing = next(m for m in messages.values() if m.id == call.message_id)
            assert issuing.role == "assistant"
            uses = [b for b in issuing.blocks if b["type"] == "tool_use"]
            assert [(b["id"], b["name"], b["input"]) for b in uses] == [
                (call.tool_use_id, call.name, call.input)
            ]
            result = messages[issuing.seq + 1]
            assert (result.role, result.content) == ("tool", "")
            assert result.blocks == [
                {"type": "tool_result", "tool_use_id": call.tool_use_id, "content": call.output}
            ]
            if call.name == "create_drill":
                assert chat.drill_id in drills


def test_the_same_seed_gives_the_same_corpus(store, small, tmp_path) -> None:
    """On both databases: the second run is always on a fresh SQLite file."""
    other = Database(f"sqlite:///{tmp_path / 'again.db'}")
    other.migrate()
    try:
        load_demo_data(
            ConversationStore(other), users=3, sessions=30, messages=600, seed=7, now=NOW
        )
        first, second = corpus(store), corpus(ConversationStore(other))
    finally:
        other.dispose()
    assert [len(first[part]) for part in first] == [3, 30, 600, small[0].drills]
    assert first == second


def test_another_seed_gives_another_corpus(store, small, tmp_path) -> None:
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    other.migrate()
    try:
        load_demo_data(
            ConversationStore(other), users=3, sessions=30, messages=600, seed=8, now=NOW
        )
        first, second = corpus(store), corpus(ConversationStore(other))
    finally:
        other.dispose()
    assert {s[1] for s in first["sessions"]}.isdisjoint(s[1] for s in second["sessions"])
    assert [m[3] for m in first["messages"]] != [m[3] for m in second["messages"]]


def test_loading_the_same_seed_twice_is_refused_before_writing(store, small) -> None:
    before = corpus(store)
    with pytest.raises(ValidationError, match="seed 7 is already in this database"):
        load_demo_data(store, users=5, sessions=30, messages=600, seed=7, now=NOW)
    assert corpus(store) == before  # coach4 and coach5 were not even created


def test_existing_coaches_are_reused(store) -> None:
    existing = store.create_user("coach1", name="Real Coach", password_hash="$2b$12$kept")
    result = load_demo_data(store, users=2, sessions=4, messages=10, seed=1, now=NOW)
    assert (result.users, result.users_created) == (2, 1)
    coach1 = store.get_user("coach1")
    assert (coach1.id, coach1.name, coach1.password_hash) == (
        existing.id,
        "Real Coach",
        "$2b$12$kept",
    )


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        ({"users": 0}, "number of users"),
        ({"sessions": 0}, "number of sessions"),
        ({"sessions": 10, "messages": 9}, "number of messages"),
    ],
)
def test_impossible_sizes_are_refused(store, size, problem) -> None:
    with pytest.raises(ValidationError, match=problem):
        load_demo_data(store, **{"users": 1, "sessions": 1, "messages": 1, **size})
    assert store.count_users() == 0
