"""Export (JSON archive, CSV, Markdown) and archive import, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import export_batches
from core.archive_in import import_archive
from core.archive_out import archive_bytes, write_archive
from core.archive_rows import ImportResult
from core.csv_export import CSV_COLUMNS, csv_bytes, write_csv
from core.db import Database
from core.errors import ArchiveError, NotFound
from core.markdown_export import (
    drill_markdown,
    markdown_bytes,
    session_markdown,
    write_markdown_zip,
)
from core.store import ConversationStore

TABLES = ("users", "chat_sessions", "session_tags", "messages", "tool_calls", "drills")


def _row_counts(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {
            table: session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in TABLES
        }


def _archive_text(store: ConversationStore, user_id: int, **selection) -> str:
    out = io.StringIO()
    write_archive(store, user_id, out, **selection)
    return out.getvalue()


def _exported(store: ConversationStore, user_id: int, **selection) -> dict:
    """The parsed archive without exported_at, the one field that differs between exports."""
    archive = json.loads(_archive_text(store, user_id, **selection))
    del archive["exported_at"]
    return archive


def _at(minute: int, micro: int = 0) -> datetime:
    return datetime(2026, 3, 1, 9, minute, 0, micro, tzinfo=UTC)


@pytest.fixture
def empty_store(request, db: Database, tmp_path) -> Iterator[ConversationStore]:
    """A second, empty, migrated database of the same dialect as `store`."""
    if db.dialect == "sqlite":
        second = Database(f"sqlite:///{tmp_path / 'second.db'}")
        second.migrate()
        yield ConversationStore(second)
        second.dispose()
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = f"huddle_t_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    second = Database(server.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield ConversationStore(second)
    finally:
        second.dispose()
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Corpus:
    plan: str  # a chat with tool calls, a partial reply and a tool message
    drill_chat: str  # an archived drill session linked to `drill`
    empty: str  # a session without messages
    drill: str
    theirs: str  # the other coach's session


@pytest.fixture
def corpus(store: ConversationStore, coach, other_coach) -> Corpus:
    plan = store.create_session(
        coach.id, title="Passing plan", model="claude-test", metadata={"source": "test", "n": 1.5}
    )
    store.set_tags(coach.id, plan.id, ["U12", "passing"])
    store.set_pinned(coach.id, plan.id, True)
    store.add_message(
        coach.id, plan.id, "user", "How many cones for a 4-3-3 rondo?", created_at=_at(0, 123456)
    )
    reply = store.add_message(
        coach.id,
        plan.id,
        "assistant",
        "Let me count: 12 cones.",
        blocks=[
            {"type": "text", "text": "Let me count: 12 cones."},
            {"type": "tool_use", "id": "toolu_1", "name": "calculator", "input": {"e": "4*3"}},
        ],
        model="claude-test",
        input_tokens=120,
        output_tokens=40,
        latency_ms=870,
        metadata={"stop_reason": "tool_use"},
        created_at=_at(1, 5),
    )
    store.record_tool_call(
        coach.id,
        plan.id,
        message_id=reply.id,
        tool_use_id="toolu_1",
        name="calculator",
        input={"e": "4*3"},
        output="12",
        duration_ms=3,
        created_at=_at(1, 7),
    )
    store.record_tool_call(
        coach.id,
        plan.id,
        message_id=reply.id,
        tool_use_id="toolu_2",
        name="word_count",
        input={"text": "x"},
        output="boom",
        is_error=True,
        created_at=_at(1, 8),
    )
    store.record_tool_call(
        coach.id,
        plan.id,
        message_id=None,
        tool_use_id="toolu_3",
        name="search_history",
        input={"query": "rondo"},
        output="[]",
        duration_ms=11,
        created_at=_at(1, 9),
    )
    store.add_message(
        coach.id,
        plan.id,
        "tool",
        "",
        blocks=[{"type": "tool_result", "tool_use_id": "toolu_1", "content": "12"}],
        created_at=_at(2),
    )
    store.add_message(
        coach.id,
        plan.id,
        "assistant",
        "So you need tw",
        status="partial",
        error="overloaded_error: try again",
        created_at=_at(3),
    )

    drill_chat = store.create_session(coach.id, kind="drill")
    store.add_message(
        coach.id, drill_chat.id, "user", "Ünïcødé rondo – 🎯 for eight", created_at=_at(4)
    )
    drill = store.create_drill(
        coach.id,
        source_session_id=drill_chat.id,
        title="Rondo 6v2",
        sport="soccer",
        objective="Keep the ball under pressure.",
        age_group="U12",
        players=8,
        duration_min=15,
        equipment=["cones", "bibs"],
        setup="A 10 x 10 m square.",
        steps=["Six outside, two inside.", "Swap on a steal."],
        coaching_points=["Open body shape"],
        progressions=["Two touches"],
        tags=["possession"],
    )
    store.link_drill(coach.id, drill_chat.id, drill.id)
    store.set_archived(coach.id, drill_chat.id, True)

    empty = store.create_session(coach.id, title="Nothing yet")

    theirs = store.create_session(other_coach.id, title="Their secret plan")
    store.add_message(other_coach.id, theirs.id, "user", "rondo tactics nobody else sees")
    return Corpus(plan.id, drill_chat.id, empty.id, drill.id, theirs.id)


# ----------------------------------------------------------- JSON archive


def test_round_trip_into_an_empty_database_gives_an_equal_archive(
    store, coach, corpus, empty_store
):
    text = _archive_text(store, coach.id)
    original = json.loads(text)
    assert original["format"] == "huddle-archive" and original["version"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", original["exported_at"])
    sessions = {session["id"]: session for session in original["sessions"]}
    assert set(sessions) == {corpus.plan, corpus.drill_chat, corpus.empty}
    # No email, role or password hash ever leaves the database.
    assert (
        "one@example.com" not in text and "password" not in text and '"role": "coach"' not in text
    )

    plan = sessions[corpus.plan]
    assert plan["user"] == "coach1" and plan["tags"] == ["passing", "u12"] and plan["pinned"]
    assert plan["title_source"] == "user" and plan["metadata"] == {"source": "test", "n": 1.5}
    assert [m["role"] for m in plan["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert plan["messages"][0]["created_at"] == "2026-03-01T09:00:00.123456Z"
    reply = plan["messages"][1]
    assert (reply["model"], reply["input_tokens"], reply["output_tokens"]) == (
        "claude-test",
        120,
        40,
    )
    assert reply["latency_ms"] == 870 and reply["metadata"] == {"stop_reason": "tool_use"}
    assert [call["name"] for call in reply["tool_calls"]] == ["calculator", "word_count"]
    assert reply["tool_calls"][1]["is_error"] is True
    assert plan["messages"][3]["status"] == "partial"
    assert plan["messages"][3]["error"] == "overloaded_error: try again"
    assert [call["name"] for call in plan["tool_calls_without_message"]] == ["search_history"]
    assert sessions[corpus.drill_chat]["archived"] is True
    assert sessions[corpus.drill_chat]["drill_id"] == corpus.drill
    assert [drill["id"] for drill in original["drills"]] == [corpus.drill]
    assert original["drills"][0]["source_session_id"] == corpus.drill_chat

    result = import_archive(empty_store, text)
    assert result == ImportResult(
        sessions_added=3,
        sessions_skipped=0,
        messages_added=5,
        tool_calls_added=3,
        drills_added=1,
        drills_skipped=0,
        users_created=["coach1"],
    )
    created = empty_store.get_user("coach1")
    assert created.password_hash is None and created.email == "" and created.role == "coach"

    del original["exported_at"]
    assert _exported(empty_store, created.id) == original

    # The derived counters come out as add_message keeps them.
    for session_id in (corpus.plan, corpus.drill_chat, corpus.empty):
        before = store.get_session(coach.id, session_id)
        after = empty_store.get_session(created.id, session_id)
        for name in ("message_count", "word_count", "last_seq", "last_message_at", "preview"):
            assert getattr(after, name) == getattr(before, name), name
    assert [m.word_count for m in empty_store.list_messages(created.id, corpus.plan)] == [
        m.word_count for m in store.list_messages(coach.id, corpus.plan)
    ]

    counts = _row_counts(empty_store.db)
    again = import_archive(empty_store, text)
    assert again == ImportResult(0, 3, 0, 0, 0, 1, [])
    assert _row_counts(empty_store.db) == counts


def test_imported_messages_are_searchable(store, coach, corpus, empty_store):
    import_archive(empty_store, _archive_text(store, coach.id))
    created = empty_store.get_user("coach1")
    hits = empty_store.search_messages(created.id, "cones")
    assert sorted((hit.session_id, hit.seq) for hit in hits) == [(corpus.plan, 1), (corpus.plan, 2)]


def test_selection_by_ids_and_by_query(store, coach, corpus):
    chosen = _exported(store, coach.id, session_ids=[corpus.drill_chat])
    assert [session["id"] for session in chosen["sessions"]] == [corpus.drill_chat]
    # The drill the session links to (and was built in) travels with it.
    assert [drill["id"] for drill in chosen["drills"]] == [corpus.drill]

    matching = _exported(store, coach.id, query="cones")
    assert [session["id"] for session in matching["sessions"]] == [corpus.plan]
    assert matching["drills"] == []
    both = _exported(store, coach.id, session_ids=[corpus.drill_chat], query="cones")
    assert both["sessions"] == []
    assert _exported(store, coach.id, query="   ")["sessions"] != []  # blank means no filter


def test_another_coachs_sessions_never_leave_in_an_export(store, coach, other_coach, corpus):
    mine = [corpus.plan, corpus.drill_chat, corpus.empty]
    archive = _exported(store, other_coach.id, session_ids=mine)
    assert archive["sessions"] == [] and archive["drills"] == []
    everything = _exported(store, other_coach.id)
    assert [session["id"] for session in everything["sessions"]] == [corpus.theirs]
    assert everything["drills"] == []
    assert _exported(store, other_coach.id, query="cones")["sessions"] == []
    assert _exported(store, coach.id, session_ids=[corpus.theirs])["sessions"] == []

    rows = list(
        csv.reader(io.StringIO(csv_bytes(store, other_coach.id, session_ids=mine).decode()))
    )
    assert rows == [list(CSV_COLUMNS)]
    with zipfile.ZipFile(io.BytesIO(markdown_bytes(store, other_coach.id, session_ids=mine))) as z:
        assert z.namelist() == []
    with pytest.raises(NotFound):
        session_markdown(store, other_coach.id, corpus.plan)
    with pytest.raises(NotFound):
        session_markdown(store, coach.id, str(uuid.uuid4()))


def test_export_pages_through_sessions_messages_and_drills(store, coach, empty_store, monkeypatch):
    # Tiny pages make a small corpus cross every page and batch boundary.
    monkeypatch.setattr(export_batches, "PAGE", 3)
    sessions = []
    for number in range(7):
        chat = store.create_session(coach.id, title=f"Session {number}")
        sessions.append(chat.id)
        store.create_drill(coach.id, title=f"Drill {number}")
    long = sessions[0]
    for seq in range(1, 12):
        message = store.add_message(coach.id, long, "user", f"message number {seq}")
        if seq in (2, 7, 11):
            store.record_tool_call(
                coach.id,
                long,
                message_id=message.id,
                tool_use_id=f"toolu_{seq}",
                name="calculator",
                input={"seq": seq},
                output=str(seq),
            )

    archive = _exported(store, coach.id)
    assert [session["id"] for session in archive["sessions"]] == sessions
    assert [drill["title"] for drill in archive["drills"]] == [f"Drill {n}" for n in range(7)]
    messages = archive["sessions"][0]["messages"]
    assert [m["seq"] for m in messages] == list(range(1, 12))
    assert [m["content"] for m in messages] == [f"message number {n}" for n in range(1, 12)]
    assert {
        m["seq"]: [c["input"] for c in m["tool_calls"]] for m in messages if m["tool_calls"]
    } == {
        2: [{"seq": 2}],
        7: [{"seq": 7}],
        11: [{"seq": 11}],
    }

    csv_rows = list(csv.reader(io.StringIO(csv_bytes(store, coach.id).decode())))
    assert [row[6] for row in csv_rows[1:]] == [f"message number {n}" for n in range(1, 12)]
    markdown = session_markdown(store, coach.id, long)
    assert markdown.count("## User") == 11 and markdown.count("<details>") == 3

    import_archive(empty_store, _archive_text(store, coach.id))
    assert _exported(empty_store, empty_store.get_user("coach1").id) == archive


def test_a_session_with_many_messages_exports_whole(store, coach):
    # Built by import (the bulk path): 1,201 add_message calls take seconds on PostgreSQL.
    session_id = str(uuid.uuid4())
    messages = [
        {
            "seq": seq,
            "role": "user" if seq % 2 else "assistant",
            "content": f"line {seq}",
            "created_at": f"2026-03-01T09:00:00.{seq:06d}Z",
            "tool_calls": [{"name": "calculator", "input": {"n": seq}, "output": "ok"}]
            if seq in (500, 501, 1201)
            else [],
        }
        for seq in range(1, 1202)
    ]
    archive = {
        "format": "huddle-archive",
        "version": 1,
        "sessions": [
            {
                "id": session_id,
                "user": "coach1",
                "title": "Season log",
                "created_at": "2026-03-01T09:00:00Z",
                "messages": messages,
            }
        ],
    }
    result = import_archive(store, json.dumps(archive))
    assert (result.messages_added, result.tool_calls_added) == (1201, 3)
    assert store.get_session(coach.id, session_id).preview == "line 1201"

    out = io.StringIO()
    assert write_archive(store, coach.id, out) == 1
    exported = json.loads(out.getvalue())["sessions"][0]["messages"]
    assert [m["content"] for m in exported] == [f"line {seq}" for seq in range(1, 1202)]
    assert [m["seq"] for m in exported if m["tool_calls"]] == [500, 501, 1201]
    assert exported[1200]["tool_calls"][0]["input"] == {"n": 1201}


def _hand_archive(user: str = "newcoach") -> dict:
    """A small valid archive written by hand, as another tool might write one."""
    first, second, drill = (str(uuid.uuid4()) for _ in range(3))
    return {
        "format": "huddle-archive",
        "version": 1,
        "exported_at": "2026-03-01T12:00:00Z",
        "sessions": [
            {
                "id": first,
                "user": user,
                "kind": "drill",
                "title": "Rondo build",
                "created_at": "2026-03-01T09:00:00Z",
                "tags": ["U12"],
                "drill_id": drill,
                "messages": [
                    {
                        "seq": 1,
                        "role": "user",
                        "content": "Build me a rondo for eight players",
                        "created_at": "2026-03-01T09:00:01Z",
                    },
                    {
                        "seq": 2,
                        "role": "assistant",
                        "content": "Here is a 6 v 2 rondo.",
                        "created_at": "2026-03-01T09:00:05Z",
                        "model": "claude-test",
                        "tool_calls": [
                            {"tool_use_id": "toolu_1", "name": "save_drill", "output": "saved"}
                        ],
                    },
                ],
            },
            {
                "id": second,
                "user": user,
                "title": "Warm-ups",
                "created_at": "2026-03-01T10:00:00Z",
                "messages": [
                    {
                        "seq": 1,
                        "role": "user",
                        "content": "Warm-up ideas?",
                        "created_at": "2026-03-01T10:00:01Z",
                    }
                ],
            },
        ],
        "drills": [
            {
                "id": drill,
                "user": user,
                "title": "Rondo 6v2",
                "players": 8,
                "duration_min": 15,
                "steps": ["Six outside, two inside."],
                "source_session_id": first,
                "created_at": "2026-03-01T09:00:06Z",
            }
        ],
    }


def test_a_hand_written_archive_imports_with_defaults(store, coach):
    archive = _hand_archive()
    archive["sessions"][1]["messages"][0]["created_at"] = "2026-03-01T12:00:01+02:00"
    archive["sessions"][1]["created_at"] = "2026-03-01T10:00:00"  # no zone: UTC
    result = import_archive(store, json.dumps(archive).encode())
    assert result == ImportResult(2, 0, 3, 1, 1, 0, ["newcoach"])

    user = store.get_user("newcoach")
    assert user.password_hash is None
    exported = _exported(store, user.id)
    first, second = exported["sessions"]
    assert first["tags"] == ["u12"] and first["title_source"] == "auto" and not first["pinned"]
    assert first["drill_id"] == exported["drills"][0]["id"]
    assert exported["drills"][0]["source_session_id"] == first["id"]
    assert first["messages"][1]["tool_calls"][0]["created_at"] == "2026-03-01T09:00:05.000000Z"
    assert second["created_at"] == "2026-03-01T10:00:00.000000Z"
    assert second["messages"][0]["created_at"] == "2026-03-01T10:00:01.000000Z"
    assert second["messages"][0]["status"] == "complete"


def test_every_kind_of_source_is_read(store, coach, tmp_path):
    archive = _hand_archive("coach1")
    text = json.dumps(archive)
    path = tmp_path / "archive.json"
    path.write_text(text, encoding="utf-8")
    results = [
        import_archive(store, source)
        for source in (
            text,
            text.encode("utf-8-sig"),
            path,
            io.BytesIO(text.encode()),
            io.StringIO(text),
        )
    ]
    # Each source was read as the same archive: added once, then found already there.
    assert [(r.sessions_added, r.sessions_skipped) for r in results] == [(2, 0)] + [(0, 2)] * 4
    with pytest.raises(ArchiveError, match="cannot be read"):
        import_archive(store, tmp_path / "missing.json")


def _set(path: str, value) -> Callable[[dict], str]:
    """A change to one field of the hand archive, given as a dotted path."""

    def change(archive: dict) -> str:
        *parents, last = re.findall(r"\w+|\[\d+\]", path)
        target = archive
        for part in parents:
            target = target[int(part[1:-1])] if part.startswith("[") else target[part]
        target[int(last[1:-1]) if last.startswith("[") else last] = value
        return json.dumps(archive)

    return change


BROKEN_ARCHIVES = {
    "not JSON": (lambda archive: "this is not an archive", "not valid JSON"),
    "wrong format": (
        _set("format", "slack-export"),
        'This is not a Huddle archive: its format is "slack-export"',
    ),
    "wrong version": (_set("version", 2), "version 2; this Huddle reads version 1"),
    "bad role": (
        _set("sessions[0].messages[1].role", "bot"),
        r"sessions\[0\]\.messages\[1\]\.role must be one of user, assistant, tool, system",
    ),
    "duplicate seq": (
        _set("sessions[0].messages[1].seq", 1),
        r"sessions\[0\]\.messages\[1\]\.seq is 1 but must be 2",
    ),
    "NUL byte": (
        _set("sessions[1].messages[0].content", "warm\x00up"),
        r"sessions\[1\]\.messages\[0\]\.content contains a NUL character",
    ),
    "players as text": (
        _set("drills[0].players", "ten"),
        r'drills\[0\]\.players must be a whole number from 1 to 10,000 or null, not "ten"',
    ),
    "truncated file": (
        lambda archive: json.dumps(archive)[: len(json.dumps(archive)) // 2],
        "ends too early .* cut short",
    ),
    "valid first session, broken second": (
        _set("sessions[1].created_at", "yesterday"),
        r"sessions\[1\]\.created_at must be an ISO-8601 time",
    ),
}


@pytest.mark.parametrize("case", BROKEN_ARCHIVES)
def test_a_malformed_archive_writes_nothing(store, coach, case):
    change, message = BROKEN_ARCHIVES[case]
    before = _row_counts(store.db)
    with pytest.raises(ArchiveError, match=message):
        import_archive(store, change(_hand_archive()))
    assert _row_counts(store.db) == before
    with pytest.raises(NotFound):
        store.get_user("newcoach")


# More single-field damage, each with the sentence that names it.
MALFORMED_FIELDS = [
    (_set("sessions[0].messages[1].tool_calls[0].is_error", "yes"), "is_error must be true"),
    (_set("sessions[0].messages[0].input_tokens", -1), "input_tokens must be a whole number"),
    (_set("sessions[0].messages[0].input_tokens", True), "input_tokens must be a whole number"),
    (_set("sessions[0].messages[0].content", 42), r"messages\[0\]\.content must be text"),
    (_set("sessions[0].messages[0].status", "done"), "status must be one of complete"),
    (_set("sessions[0].messages[0].colour", "red"), "unknown field 'colour'"),
    (_set("sessions[0].kind", "video"), r"sessions\[0\]\.kind must be one of chat, drill"),
    (_set("sessions[0].title", "x" * 201), r"sessions\[0\]\.title is longer than 200"),
    (_set("sessions[0].tags", "u12"), r"sessions\[0\]\.tags must be a list of text"),
    (_set("sessions[0].tags", ["ok", 7]), r"sessions\[0\]\.tags\[1\] must be text"),
    (_set("sessions[0].user", "no spaces allowed"), r"sessions\[0\]\.user must be a username"),
    (_set("sessions[1].id", None), r"sessions\[1\]\.id must be an id"),
    (_set("drills[0].steps", ["fine", None]), r"drills\[0\]\.steps\[1\] must be text"),
    (_set("drills[0].duration_min", 15.5), "duration_min must be a whole number"),
    (_set("sessions", {}), "sessions must be a list"),
    (_set("sessions[1].messages[0].content", "\ud800"), "half of a surrogate pair"),
    (
        lambda archive: json.dumps(archive).replace('"duration_min": 15', '"duration_min": NaN'),
        "NaN is not a JSON number",
    ),
    (lambda archive: "[1, 2]", "must be a JSON object"),
    (lambda archive: "", "The archive is empty"),
    (lambda archive: b"\xff\xfe{}", "not UTF-8"),
]


def test_more_malformed_fields_each_get_one_clear_sentence(store, coach):
    before = _row_counts(store.db)
    for change, message in MALFORMED_FIELDS:
        with pytest.raises(ArchiveError, match=message):
            import_archive(store, change(_hand_archive()))
    duplicate = _hand_archive()
    duplicate["sessions"][1]["id"] = duplicate["sessions"][0]["id"]
    with pytest.raises(ArchiveError, match=r"sessions\[1\]\.id repeats the id of sessions\[0\]"):
        import_archive(store, json.dumps(duplicate))
    without_user = _hand_archive()
    del without_user["sessions"][0]["user"]
    with pytest.raises(ArchiveError, match=r"sessions\[0\] is missing 'user'"):
        import_archive(store, json.dumps(without_user))
    assert _row_counts(store.db) == before


def test_an_id_of_another_coach_is_imported_under_a_new_id(store, coach, other_coach):
    theirs = store.create_session(other_coach.id, title="Their plan")
    store.add_message(other_coach.id, theirs.id, "user", "secret tactics")
    their_drill = store.create_drill(
        other_coach.id, title="Their drill", source_session_id=theirs.id
    )
    archive = _hand_archive("coach1")
    archive["sessions"][0]["id"] = theirs.id
    archive["sessions"][0]["drill_id"] = their_drill.id
    archive["drills"][0]["id"] = their_drill.id
    archive["drills"][0]["source_session_id"] = theirs.id
    text = json.dumps(archive)

    result = import_archive(store, text)
    assert (result.sessions_added, result.drills_added, result.users_created) == (2, 1, [])

    untouched = store.get_session(other_coach.id, theirs.id)
    assert (untouched.title, untouched.message_count) == ("Their plan", 1)
    assert [m.content for m in store.list_messages(other_coach.id, theirs.id)] == ["secret tactics"]
    assert store.get_drill(other_coach.id, their_drill.id).title == "Their drill"
    assert store.get_drill(other_coach.id, their_drill.id).source_session_id == theirs.id

    mine = _exported(store, coach.id)
    moved = next(s for s in mine["sessions"] if s["title"] == "Rondo build")
    assert moved["id"] != theirs.id
    assert [drill["id"] for drill in mine["drills"]] == [moved["drill_id"]]
    assert moved["drill_id"] != their_drill.id
    assert mine["drills"][0]["source_session_id"] == moved["id"]
    assert moved["messages"][0]["content"] == "Build me a rondo for eight players"

    counts = _row_counts(store.db)
    again = import_archive(store, text)
    assert (again.sessions_added, again.sessions_skipped) == (0, 2)
    assert (again.drills_added, again.drills_skipped) == (0, 1)
    assert _row_counts(store.db) == counts


def test_as_user_gives_every_session_and_drill_to_that_coach(store, coach):
    archive = _hand_archive("ghost")
    del archive["drills"][0]["user"]  # not needed when the importer names the owner
    before = _row_counts(store.db)
    with pytest.raises(NotFound, match="nobody"):
        import_archive(store, json.dumps(archive), as_user="nobody")
    assert _row_counts(store.db) == before

    result = import_archive(store, json.dumps(archive), as_user="coach1")
    assert (result.sessions_added, result.drills_added, result.users_created) == (2, 1, [])
    with pytest.raises(NotFound):
        store.get_user("ghost")
    exported = _exported(store, coach.id)
    assert {s["user"] for s in exported["sessions"]} == {"coach1"}
    assert exported["sessions"][0]["drill_id"] == exported["drills"][0]["id"]


def test_a_reference_to_another_coachs_record_is_dropped(store, coach, other_coach):
    their_drill = store.create_drill(other_coach.id, title="Their drill")
    archive = _hand_archive("coach1")
    archive["drills"] = []
    archive["sessions"][0]["drill_id"] = their_drill.id  # not in the archive, not coach1's
    import_archive(store, json.dumps(archive))
    session = store.get_session(coach.id, archive["sessions"][0]["id"])
    assert session.drill_id is None
    assert store.sessions_for_drill(other_coach.id, their_drill.id) == []


# -------------------------------------------------------------------- CSV


def test_csv_neutralises_formulas_and_quotes_cells(store, coach):
    chat = store.create_session(coach.id, title='=HYPERLINK("http://x")')
    store.set_tags(coach.id, chat.id, ["-minus", "u12"])
    texts = ["=1+1", "+1", "-1", "@SUM(A1)", "\tTab", "\rCR", 'comma, "quote"\nnewline', "plain"]
    for text in texts:
        store.add_message(coach.id, chat.id, "user", text)
    reply = store.add_message(coach.id, chat.id, "assistant", "done", model="claude-test")
    for name in ("calculator", "word_count"):
        store.record_tool_call(
            coach.id, chat.id, message_id=reply.id, tool_use_id=name, name=name, input={}, output=""
        )

    out = io.StringIO(newline="")
    assert write_csv(store, coach.id, out) == len(texts) + 1
    raw = out.getvalue()
    assert raw.startswith(",".join(CSV_COLUMNS) + "\r\n")
    assert '"comma, ""quote""\nnewline"' in raw  # RFC 4180: quoted, quotes doubled

    header, *rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert header == list(CSV_COLUMNS)
    assert [row[6] for row in rows] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tTab",
        "'\rCR",
        'comma, "quote"\nnewline',
        "plain",
        "done",
    ]
    assert {row[1] for row in rows} == {'\'=HYPERLINK("http://x")'}
    assert {row[CSV_COLUMNS.index("tags")] for row in rows} == {"'-minus; u12"}
    last = dict(zip(CSV_COLUMNS, rows[-1], strict=True))
    assert last["tools"] == "calculator; word_count"
    assert last["tool_outputs"].startswith("calculator: ")
    assert (last["role"], last["seq"], last["model"], last["word_count"]) == (
        "assistant",
        "9",
        "claude-test",
        "1",
    )
    assert last["session_id"] == chat.id and last["session_kind"] == "chat"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", last["created_at"])


# --------------------------------------------------------------- Markdown


def test_session_markdown_shows_messages_and_tool_calls(store, coach, corpus):
    markdown = session_markdown(store, coach.id, corpus.plan)
    assert markdown.startswith("# Passing plan\n\n*chat · created ")
    assert "· 4 messages · model claude-test · tags: passing, u12*" in markdown
    headings = re.findall(r"^## (\w+) · (.+)$", markdown, flags=re.MULTILINE)
    # The tool message carries only tool results, which appear with the assistant's calls.
    assert headings == [
        ("User", "2026-03-01 09:00 UTC"),
        ("Assistant", "2026-03-01 09:01 UTC"),
        ("Assistant", "2026-03-01 09:03 UTC"),
    ]
    assert markdown.index("## Tool calls without a message") > markdown.index("Reply partial")
    assert "<summary>Tool call: calculator · 3 ms</summary>" in markdown
    assert '```json\n{\n  "e": "4*3"\n}\n```' in markdown
    assert "Output:\n\n```json\n12\n```" in markdown
    assert "<summary>Tool call: word_count (error)</summary>" in markdown
    assert "Output:\n\n```text\nboom\n```" in markdown
    assert "> *Reply partial: overloaded\\_error: try again*" in markdown
    assert "<summary>Tool call: search_history · 11 ms</summary>" in markdown


def test_markdown_keeps_fences_closed(store, coach):
    chat = store.create_session(coach.id, title="Code *and* <b>tags</b>")
    store.add_message(coach.id, chat.id, "user", "Closed:\n~~~\nx = 1\n~~~~\nand done.")
    store.add_message(coach.id, chat.id, "user", "Here:\n```python\nprint('left open')")
    reply = store.add_message(coach.id, chat.id, "assistant", "After the fence.")
    store.record_tool_call(
        coach.id,
        chat.id,
        message_id=reply.id,
        tool_use_id="t1",
        name="echo",
        input={"text": "```\n# not a heading"},
        output="````",
    )
    markdown = session_markdown(store, coach.id, chat.id)
    assert markdown.startswith("# Code \\*and\\* \\<b\\>tags\\</b\\>\n")
    # A closed fence is left alone; an open one is closed before the next heading.
    assert "Closed:\n~~~\nx = 1\n~~~~\nand done.\n\n## User" in markdown
    assert "```python\nprint('left open')\n```\n\n## Assistant" in markdown
    # Fences around tool input and output outrun the backticks inside them.
    assert '````json\n{\n  "text": "```\\n# not a heading"\n}\n````' in markdown
    assert "`````text\n````\n`````" in markdown


def test_markdown_zip_has_one_safely_named_file_per_session(store, coach):
    titles = ["Passing / shooting", "Passing / shooting", "../../etc/passwd", "Ünïcødé plan"]
    chats = [store.create_session(coach.id, title=title) for title in titles]
    for chat in chats:
        store.add_message(coach.id, chat.id, "user", f"hello from {chat.title}")

    out = io.BytesIO()
    assert write_markdown_zip(store, coach.id, out) == 4
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as bundle:
        names = bundle.namelist()
        files = {name: bundle.read(name).decode() for name in names}
    day = chats[0].created_at.strftime("%Y-%m-%d")
    assert names == [
        f"{day}-passing-shooting.md",
        f"{day}-passing-shooting-2.md",
        f"{day}-etc-passwd.md",
        f"{day}-ünïcødé-plan.md",
    ]
    for name, chat in zip(names, chats, strict=True):
        assert files[name] == session_markdown(store, coach.id, chat.id)

    chosen = markdown_bytes(store, coach.id, session_ids=[chat.id for chat in chats[2:]])
    with zipfile.ZipFile(io.BytesIO(chosen)) as bundle:
        assert bundle.namelist() == names[2:]


def test_drill_markdown_is_a_card(store, coach):
    drill = store.create_drill(
        coach.id,
        title="Rondo 6v2",
        sport="soccer",
        age_group="U12",
        players=8,
        duration_min=15,
        objective="Keep the ball.",
        equipment=["cones", "bibs"],
        steps=["Six outside.", "Swap on a steal."],
        coaching_points=["Open body shape"],
        tags=["possession"],
    )
    assert drill_markdown(drill) == (
        "# Rondo 6v2\n\n"
        "**Sport:** soccer · **Age group:** U12 · **Players:** 8 · **Duration:** 15 min\n\n"
        "## Objective\n\nKeep the ball.\n\n"
        "## Equipment\n\n- cones\n- bibs\n\n"
        "## Steps\n\n1. Six outside.\n2. Swap on a steal.\n\n"
        "## Coaching points\n\n- Open body shape\n\n"
        "*Tags: possession*\n"
    )


def test_archive_bytes_is_the_streamed_archive(store, coach, corpus):
    data = archive_bytes(store, coach.id, session_ids=[corpus.plan])
    archive = json.loads(data.decode("utf-8"))
    assert [session["id"] for session in archive["sessions"]] == [corpus.plan]


def test_path_sources_are_not_guessed_from_text(store, coach, tmp_path: Path):
    # A str is the archive's text, never a file name: reading files is for Path.
    with pytest.raises(ArchiveError, match="not valid JSON"):
        import_archive(store, str(tmp_path / "archive.json"))
