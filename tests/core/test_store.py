"""ConversationStore on SQLite and PostgreSQL: scoping, counters, concurrent seq, cascades."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.db import Database
from core.errors import NotFound, ValidationError
from core.store import ConversationStore, SessionFilter


def _session_with_messages(store, user, texts, **kwargs):
    chat = store.create_session(user.id, **kwargs)
    for index, text in enumerate(texts):
        store.add_message(user.id, chat.id, "user" if index % 2 == 0 else "assistant", text)
    return chat


def _count(db: Database, sql: str, **params) -> int:
    with db.reading() as session:
        return session.execute(sa.text(sql), params).scalar_one()


# ------------------------------------------------------------------ users


def test_user_names_are_unique_and_validated(store):
    store.create_user("coach1")
    with pytest.raises(ValidationError, match="already taken"):
        store.create_user("coach1")
    for bad in ("", "a", "has space", "x" * 65, "-dash", "nul\x00"):
        with pytest.raises(ValidationError):
            store.create_user(bad)
    assert [user.username for user in store.list_users()] == ["coach1"]


def test_user_role_and_password(store):
    admin = store.create_user("boss", role="admin", password_hash="$2b$12$hash")
    assert store.get_user("boss").role == "admin"
    store.set_password_hash("boss", "$2b$12$other")
    assert store.get_user_by_id(admin.id).password_hash == "$2b$12$other"
    with pytest.raises(ValidationError):
        store.create_user("x1", role="owner")
    with pytest.raises(NotFound):
        store.set_password_hash("nobody", "h")


def test_setting_created_once(store):
    assert store.get_or_create_setting("cookie_key", lambda: "first") == "first"
    assert store.get_or_create_setting("cookie_key", lambda: "second") == "first"


# --------------------------------------------------------------- sessions


def test_messages_keep_session_counters(store, coach):
    chat = store.create_session(coach.id)
    store.add_message(coach.id, chat.id, "user", "Plan a U12 passing session")
    reply = store.add_message(coach.id, chat.id, "assistant", "Start with a rondo, then 4v2.")
    store.add_message(coach.id, chat.id, "tool", "", blocks=[{"type": "tool_result"}])

    chat = store.get_session(coach.id, chat.id)
    assert chat.message_count == 3
    assert chat.last_seq == 3
    assert chat.word_count == 5 + 6
    # an empty tool message does not replace the preview of the last words said
    assert chat.preview == "Start with a rondo, then 4v2."
    assert chat.last_message_at >= reply.created_at

    store.update_message(coach.id, reply.id, content="Rondo.", status="complete")
    chat = store.get_session(coach.id, chat.id)
    assert chat.word_count == 5 + 1
    assert [m.seq for m in store.list_messages(coach.id, chat.id)] == [1, 2, 3]


def test_partial_reply_is_finished_in_place(store, coach):
    chat = store.create_session(coach.id)
    partial = store.add_message(
        coach.id, chat.id, "assistant", "Half a", status="partial", error="Overloaded"
    )
    store.update_message(
        coach.id,
        partial.id,
        content="Half an answer, now whole.",
        status="complete",
        output_tokens=9,
    )
    stored = store.get_message(coach.id, partial.id)
    assert (stored.status, stored.error, stored.output_tokens) == ("complete", None, 9)
    assert store.get_session(coach.id, chat.id).preview == "Half an answer, now whole."


def test_list_messages_pages_backwards(store, coach):
    chat = _session_with_messages(store, coach, [f"message {n}" for n in range(1, 26)])
    latest = store.list_messages(coach.id, chat.id, limit=10)
    assert [m.seq for m in latest] == list(range(16, 26))
    older = store.list_messages(coach.id, chat.id, limit=10, before_seq=latest[0].seq)
    assert [m.seq for m in older] == list(range(6, 16))
    assert [m.seq for m in store.iter_messages(coach.id, chat.id, batch=7)] == list(range(1, 26))


def test_list_messages_from_a_seq_pages_forwards_and_is_scoped(store, coach, other_coach):
    chat = _session_with_messages(store, coach, [f"message {n}" for n in range(1, 26)])
    window = store.list_messages_from(coach.id, chat.id, 5, limit=10)
    assert [m.seq for m in window] == list(range(5, 15))
    assert [m.seq for m in store.list_messages_from(coach.id, chat.id, 20, limit=10)] == list(
        range(20, 26)
    )
    assert store.list_messages_from(coach.id, chat.id, 26, limit=10) == []  # past the end
    with pytest.raises(NotFound):
        store.list_messages_from(other_coach.id, chat.id, 1, limit=10)
    with pytest.raises(NotFound):
        store.list_messages_from(coach.id, "no-such-session", 1, limit=10)


def test_titles_auto_and_user(store, coach):
    chat = store.create_session(coach.id)
    assert store.set_auto_title(coach.id, chat.id, "Passing ideas") is True
    store.rename_session(coach.id, chat.id, "  My   session ")
    assert store.set_auto_title(coach.id, chat.id, "Something else") is False
    chat = store.get_session(coach.id, chat.id)
    assert (chat.title, chat.title_source) == ("My session", "user")
    for bad in ("", "   ", "x" * 201, "a\x00b"):
        with pytest.raises(ValidationError):
            store.rename_session(coach.id, chat.id, bad)
    assert store.get_session(coach.id, chat.id).title == "My session"


def test_list_sessions_filters_sort_and_pages(store, coach):
    now = datetime.now(UTC)
    ids = {}
    for name, kind in (("a", "chat"), ("b", "drill"), ("c", "chat"), ("d", "chat")):
        chat = store.create_session(coach.id, kind=kind, title=f"Session {name}")
        ids[name] = chat.id
    store.add_message(coach.id, ids["a"], "user", "old", created_at=now - timedelta(days=40))
    store.add_message(coach.id, ids["b"], "user", "newer", created_at=now - timedelta(days=2))
    store.add_message(coach.id, ids["c"], "user", "newest", created_at=now - timedelta(hours=1))
    store.add_message(coach.id, ids["d"], "user", "middle", created_at=now - timedelta(days=10))
    store.set_pinned(coach.id, ids["a"], True)
    store.set_archived(coach.id, ids["d"], True)
    store.set_tags(coach.id, ids["c"], ["U12", "passing", "u12 "])
    reply = store.add_message(
        coach.id, ids["b"], "assistant", "ok", created_at=now - timedelta(days=2, minutes=-1)
    )
    store.record_tool_call(
        coach.id,
        ids["b"],
        message_id=reply.id,
        tool_use_id="t1",
        name="calculator",
        input={"expression": "1+1"},
        output="2",
    )

    def titles(filters=None, **kwargs):
        page = store.list_sessions(coach.id, filters, **kwargs)
        return [chat.title[-1] for chat in page.items]

    # pinned first, then most recent activity; archived hidden by default
    assert titles() == ["a", "c", "b"]
    assert titles(SessionFilter(archived=None)) == ["a", "c", "b", "d"]
    assert titles(SessionFilter(archived=True)) == ["d"]
    assert titles(SessionFilter(kind="drill")) == ["b"]
    assert titles(SessionFilter(pinned=True)) == ["a"]
    assert titles(SessionFilter(tags=("u12",))) == ["c"]
    assert store.get_session(coach.id, ids["c"]).tag_names == ["passing", "u12"]
    assert titles(SessionFilter(tool="calculator")) == ["b"]
    assert titles(SessionFilter(tool="word_count")) == []
    assert titles(SessionFilter(since=now - timedelta(days=3))) == ["c", "b"]
    assert titles(SessionFilter(until=now - timedelta(days=3), archived=None)) == ["a", "d"]
    assert titles(SessionFilter(title_contains="SESSION C")) == ["c"]
    assert titles(SessionFilter(title_contains="%")) == []
    assert titles(sort="title") == ["a", "b", "c"]

    first = store.list_sessions(coach.id, limit=2)
    second = store.list_sessions(coach.id, limit=2, offset=2)
    assert (first.total, first.has_more, second.has_more) == (3, True, False)
    assert [c.id for c in first.items + second.items] == [ids["a"], ids["c"], ids["b"]]
    assert store.latest_session(coach.id).id == ids["c"]
    assert store.latest_session(coach.id, kind="drill").id == ids["b"]
    assert store.list_tags(coach.id) == [("passing", 1), ("u12", 1)]


def test_bulk_delete_and_validation(store, coach):
    chats = [store.create_session(coach.id) for _ in range(3)]
    assert store.delete_sessions(coach.id, [chats[0].id, chats[1].id, "missing"]) == 2
    assert store.list_sessions(coach.id).total == 1
    with pytest.raises(ValidationError):
        store.create_session(coach.id, kind="party")
    with pytest.raises(ValidationError):
        store.add_message(coach.id, chats[2].id, "robot", "hi")
    with pytest.raises(ValidationError):
        store.add_message(coach.id, chats[2].id, "user", "nul \x00 byte")
    with pytest.raises(ValidationError):
        store.set_tags(coach.id, chats[2].id, [f"tag{n}" for n in range(21)])
    assert store.get_session(coach.id, chats[2].id).message_count == 0


# ------------------------------------------------------------------ drills


def test_drills_create_update_link_and_unlink_on_delete(store, coach):
    chat = _session_with_messages(store, coach, ["build me a drill"], kind="drill")
    drill = store.create_drill(
        coach.id,
        title="Rondo 4v2",
        sport="Soccer",
        age_group="U12",
        players="10",
        duration_min=20,
        equipment=["cones", "balls"],
        steps="one step",
        source_session_id=chat.id,
    )
    assert (drill.players, drill.steps, drill.source_session_id) == (10, ["one step"], chat.id)
    store.link_drill(coach.id, chat.id, drill.id)
    updated = store.update_drill(coach.id, drill.id, duration_min=30, equipment=["cones", "bibs"])
    assert (updated.duration_min, updated.equipment) == (30, ["cones", "bibs"])
    assert [c.id for c in store.sessions_for_drill(coach.id, drill.id)] == [chat.id]
    assert [d.id for d in store.list_drills(coach.id, query="rondo")] == [drill.id]
    assert store.list_drills(coach.id, sport="hockey") == []
    for bad in ({"players": "ten"}, {"players": 0}, {"title": ""}, {"colour": "red"}):
        with pytest.raises(ValidationError):
            store.update_drill(coach.id, drill.id, **bad)

    store.delete_drill(coach.id, drill.id)
    chat = store.get_session(coach.id, chat.id)
    assert chat.drill_id is None
    assert chat.message_count == 1  # the conversation and its messages stay


# --------------------------------------------------------------- isolation


def test_another_coachs_things_look_missing(store, coach, other_coach):
    chat = _session_with_messages(store, coach, ["secret plan", "secret reply"])
    message = store.list_messages(coach.id, chat.id)[0]
    drill = store.create_drill(coach.id, title="Secret drill", source_session_id=chat.id)
    store.record_tool_call(
        coach.id,
        chat.id,
        message_id=message.id,
        tool_use_id="t",
        name="calculator",
        input={},
        output="1",
    )
    intruder = other_coach.id
    attempts = [
        lambda: store.get_session(intruder, chat.id),
        lambda: store.list_messages(intruder, chat.id),
        lambda: store.rename_session(intruder, chat.id, "mine now"),
        lambda: store.set_pinned(intruder, chat.id, True),
        lambda: store.set_archived(intruder, chat.id, True),
        lambda: store.set_tags(intruder, chat.id, ["stolen"]),
        lambda: store.set_auto_title(intruder, chat.id, "x"),
        lambda: store.delete_session(intruder, chat.id),
        lambda: store.add_message(intruder, chat.id, "user", "injected"),
        lambda: store.get_message(intruder, message.id),
        lambda: store.update_message(intruder, message.id, content="changed"),
        lambda: store.record_tool_call(
            intruder, chat.id, message_id=None, tool_use_id="t", name="x", input={}, output=""
        ),
        lambda: store.get_drill(intruder, drill.id),
        lambda: store.update_drill(intruder, drill.id, title="mine"),
        lambda: store.delete_drill(intruder, drill.id),
        lambda: store.sessions_for_drill(intruder, drill.id),
        lambda: store.link_drill(intruder, chat.id, None),
        lambda: store.create_drill(intruder, title="x", source_session_id=chat.id),
        lambda: store.create_session(intruder, drill_id=drill.id),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    # a session of the intruder's own cannot be linked to the coach's drill
    own = store.create_session(intruder)
    with pytest.raises(NotFound):
        store.link_drill(intruder, own.id, drill.id)
    # missing ids give exactly the same answer as another coach's ids
    with pytest.raises(NotFound) as missing:
        store.get_session(intruder, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound) as foreign:
        store.get_session(intruder, chat.id)
    assert str(missing.value) == str(foreign.value)

    assert store.delete_sessions(intruder, [chat.id]) == 0
    assert [c.id for c in store.list_sessions(intruder).items] == [own.id]
    assert store.list_tool_calls(intruder, chat.id) == []
    assert store.list_drills(intruder) == []
    assert store.list_tags(intruder) == []
    # nothing of the coach's changed
    kept = store.get_session(coach.id, chat.id)
    assert (kept.title, kept.pinned, kept.tag_names, kept.message_count) == (
        "New chat",
        False,
        [],
        2,
    )
    assert store.get_message(coach.id, message.id).content == "secret plan"
    assert store.get_drill(coach.id, drill.id).title == "Secret drill"


# ------------------------------------------------------------- concurrency


def test_concurrent_appends_keep_seq_dense(store, coach):
    chat = store.create_session(coach.id)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(worker: int) -> None:
        try:
            start.wait()
            for n in range(100):
                store.add_message(coach.id, chat.id, "user", f"worker {worker} message {n}")
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    seqs = [m.seq for m in store.iter_messages(coach.id, chat.id)]
    assert seqs == list(range(1, 801))
    contents = {m.content for m in store.iter_messages(coach.id, chat.id)}
    assert contents == {f"worker {w} message {n}" for w in range(8) for n in range(100)}
    chat = store.get_session(coach.id, chat.id)
    assert (chat.message_count, chat.last_seq, chat.word_count) == (800, 800, 800 * 4)


def _migrate_at_once(url: str, starts: int = 4) -> list[BaseException]:
    """Start the app `starts` times at once (each with its own engine); the errors they hit."""
    errors: list[BaseException] = []

    def start_app() -> None:
        database = Database(url)
        try:
            database.migrate()
        except BaseException as exc:  # collected: a thread cannot fail the test itself
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=start_app) for _ in range(starts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_migrate_is_safe(database_url):
    """Several processes starting at once: all migrate, the schema ends up at head once."""
    assert _migrate_at_once(database_url) == []
    database = Database(database_url)
    assert _count(database, "SELECT count(*) FROM alembic_version") == 1
    database.dispose()


def test_fresh_database_migrates_concurrently(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'huddle.db'}"
    assert _migrate_at_once(url) == []
    database = Database(url)
    assert _count(database, "SELECT count(*) FROM users") == 0
    database.dispose()


# ----------------------------------------------------------------- cascades


def test_deleting_a_user_or_session_leaves_no_orphans(store, db, coach, other_coach):
    keep = _session_with_messages(store, other_coach, ["keep this rondo", "kept"])
    chat = _session_with_messages(store, coach, ["rondo passing plan", "rondo answer"])
    store.set_tags(coach.id, chat.id, ["u12"])
    reply = store.list_messages(coach.id, chat.id)[-1]
    store.record_tool_call(
        coach.id,
        chat.id,
        message_id=reply.id,
        tool_use_id="t",
        name="calculator",
        input={},
        output="2",
    )
    second = _session_with_messages(store, coach, ["another rondo"])
    store.create_drill(coach.id, title="Rondo", source_session_id=second.id)

    store.delete_session(coach.id, chat.id)
    for table in ("messages", "tool_calls", "session_tags"):
        assert _count(db, f"SELECT count(*) FROM {table} WHERE session_id = :s", s=chat.id) == 0
    assert [hit.session_id for hit in _fts_hits(db, coach.id, "rondo")] == [second.id]

    store.delete_user(coach.id)
    for table in ("chat_sessions", "messages", "tool_calls", "drills"):
        assert _count(db, f"SELECT count(*) FROM {table} WHERE user_id = :u", u=coach.id) == 0
    assert _fts_hits(db, coach.id, "rondo") == []
    assert _count(db, "SELECT count(*) FROM session_tags") == 0
    assert [hit.session_id for hit in _fts_hits(db, other_coach.id, "rondo")] == [keep.id]
    if db.dialect == "sqlite":
        # the external-content index matches the table row for row
        with db.writing() as session:
            check = "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)"
            session.execute(sa.text(check))
        assert _count(db, "SELECT count(*) FROM messages_fts") == _count(
            db, "SELECT count(*) FROM messages"
        )


class _Hit:
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id


def _fts_hits(db: Database, user_id: int, word: str) -> list[_Hit]:
    """Ask the full-text index itself (not the messages table) who matches a word."""
    if db.dialect == "sqlite":
        sql = (
            "SELECT m.session_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
            "WHERE messages_fts MATCH :q ORDER BY m.id"
        )
        params = {"q": f'user_id : "{user_id}" AND content : "{word}"'}
    else:
        sql = (
            "SELECT session_id FROM messages WHERE user_id = :u "
            "AND search_vector @@ plainto_tsquery('english', :w) ORDER BY id"
        )
        params = {"u": user_id, "w": word}
    with db.reading() as session:
        rows = session.execute(sa.text(sql), params).scalars().all()
    return [_Hit(row) for row in dict.fromkeys(rows)]


def test_database_down_is_one_clear_error():
    from core.errors import StorageUnavailable

    database = Database("postgresql+psycopg://postgres@127.0.0.1:1/huddle?connect_timeout=2")
    with pytest.raises(StorageUnavailable, match=r"PostgreSQL at 127\.0\.0\.1:1/huddle"):
        database.check()
    with pytest.raises(StorageUnavailable):
        ConversationStore(database).list_users()


def test_drill_titles_are_the_coachs_own_newest_first(store, coach, other_coach):
    first = store.create_drill(coach.id, title="Rondo")
    second = store.create_drill(coach.id, title="Gates")
    store.create_drill(other_coach.id, title="Not mine")
    store.update_drill(coach.id, first.id, title="Rondo 4 v 2")
    assert store.drill_titles(coach.id) == [(first.id, "Rondo 4 v 2"), (second.id, "Gates")]
