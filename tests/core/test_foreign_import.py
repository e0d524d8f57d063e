"""ChatGPT and Claude.ai exports, format detection and the import preview, on both databases."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import file_import
from core.archive_out import archive_bytes
from core.archive_rows import ImportResult
from core.db import Database
from core.errors import ArchiveError, NotFound
from core.file_import import ImportPreview, OwnerNeeded, import_file, preview_import
from core.foreign_import import source_session_id
from core.store import ConversationStore
from core.text import count_words

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
CHATGPT = FIXTURES / "chatgpt-conversations.json"
CLAUDE = FIXTURES / "claude-conversations.json"
TABLES = ("users", "chat_sessions", "session_tags", "messages", "tool_calls", "drills")
WARMUPS = "6770a1b2-0000-4000-8000-000000000001"


def _row_counts(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {
            table: session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in TABLES
        }


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def _export_zip(path: Path) -> bytes:
    """The export zip as the services ship it: a folder, conversations.json and friends."""
    return _zip(
        {
            "export-2026-01-07/users.json": b'[{"uuid": "u"}]',
            "export-2026-01-07/conversations.json": path.read_bytes(),
            "export-2026-01-07/chat.html": b"<html></html>",
        }
    )


def _chatgpt() -> list:
    return json.loads(CHATGPT.read_text())


def _conversations(store: ConversationStore, user_id: int) -> dict[str, list[tuple]]:
    """Each session title with its messages as (seq, role, content, model)."""
    return {
        chat.title: [
            (m.seq, m.role, m.content, m.model) for m in store.list_messages(user_id, chat.id)
        ]
        for chat in store.list_sessions(user_id).items
    }


# ----------------------------------------------------------------- ChatGPT


def test_a_chatgpt_export_keeps_the_shown_branch_of_each_conversation(store, coach):
    result = import_file(store, CHATGPT, as_user="coach1")
    assert result == ImportResult(2, 0, 6, 0, 0, 0, [])

    assert _conversations(store, coach.id) == {
        "Pressing triggers": [
            (1, "user", "When should a U14 team press high?", None),
            (2, "assistant", "Press on a poor first touch or a back pass.", "gpt-4o"),
        ],
        # The hidden system message, the regenerated answer on the other branch, the
        # code sent to the python tool and its output are left out; the image is a placeholder.
        "Warm-ups for U10": [
            (1, "user", "Give me three warm-ups for ten-year-olds.", None),
            (2, "assistant", "1. Rondo tag\n2. Dynamic stretches\n3. Dribble gates", "gpt-4o"),
            (3, "user", "[image]\nHow many cones for this layout?", None),
            (4, "assistant", "You need 12 cones.", "gpt-4o-mini"),
        ],
    }
    session_id = source_session_id("chatgpt", WARMUPS)
    chat = store.get_session(coach.id, session_id)
    assert (chat.kind, chat.model, chat.message_count) == ("chat", "gpt-4o", 4)
    assert chat.metadata_ == {"source": "chatgpt", "source_id": WARMUPS}
    assert chat.created_at.isoformat() == "2026-01-01T10:00:00.123456+00:00"
    assert chat.preview == "You need 12 cones."
    messages = store.list_messages(coach.id, session_id)
    assert chat.word_count == sum(count_words(m.content) for m in messages) == 26
    assert [m.word_count for m in messages] == [count_words(m.content) for m in messages]
    # A message without a time takes the time of the one before it.
    assert messages[2].created_at == messages[1].created_at
    hits = store.search_messages(coach.id, "cones")
    assert sorted((hit.session_id, hit.seq) for hit in hits) == [(session_id, 3), (session_id, 4)]


@pytest.mark.parametrize("fixture", [CHATGPT, CLAUDE], ids=["chatgpt", "claude"])
def test_the_export_zip_and_every_kind_of_source_import_alike(store, coach, fixture):
    import_file(store, fixture, as_user="coach1")
    expected = _conversations(store, coach.id)
    for session in store.list_sessions(coach.id).items:
        store.delete_session(coach.id, session.id)

    wrapped = b'{"account": {"uuid": "a"}, "conversations": ' + fixture.read_bytes() + b"}"
    sources = [
        _export_zip(fixture),
        wrapped,
        io.BytesIO(_export_zip(fixture)),
        fixture.read_bytes(),
        io.BytesIO(fixture.read_bytes()),
    ]
    first = import_file(store, sources[0], as_user="coach1")
    assert first.sessions_added == 2
    assert _conversations(store, coach.id) == expected
    for source in sources[1:]:
        assert import_file(store, source, as_user="coach1").sessions_skipped == 2


# ---------------------------------------------------------------- Claude.ai


def test_a_claude_export_keeps_the_text_of_both_sides(store, coach):
    result = import_file(store, CLAUDE, as_user="coach1")
    assert (result.sessions_added, result.messages_added) == (2, 4)
    assert _conversations(store, coach.id) == {
        # No name: the title comes from the first message.
        "How long should a U8 session last?": [
            (1, "user", "How long should a U8 session last?", None),
            (2, "assistant", "About 45 to 60 minutes.", None),
        ],
        # Text blocks are joined; thinking and tool blocks, and an attachment-only
        # message, are left out.
        "Small-sided games": [
            (1, "user", "Suggest a 4v4 game for U12.", None),
            (2, "assistant", "Try 4v4 to four goals.\n\nPlay three-minute rounds.", None),
        ],
    }
    second = store.get_session(
        coach.id, source_session_id("claude", "0b9c7a7e-1111-4c2d-9e3f-000000000002")
    )
    assert second.metadata_["source"] == "claude"
    assert second.created_at.isoformat() == "2026-01-06T07:00:00+00:00"  # +01:00 to UTC
    first_message = store.list_messages(coach.id, second.id)[0]
    assert first_message.created_at.isoformat() == "2026-01-06T07:00:05+00:00"


# ------------------------------------------------------- re-import, preview


@pytest.mark.parametrize("fixture", [CHATGPT, CLAUDE], ids=["chatgpt", "claude"])
def test_importing_the_same_export_twice_adds_nothing(store, coach, fixture):
    import_file(store, fixture, as_user="coach1")
    counts = _row_counts(store.db)
    again = import_file(store, _export_zip(fixture), as_user="coach1")
    assert again == ImportResult(0, 2, 0, 0, 0, 0, [])
    assert _row_counts(store.db) == counts


def test_the_preview_counts_and_writes_nothing(store, coach, other_coach):
    before = _row_counts(store.db)
    preview = preview_import(store, CHATGPT, as_user="coach1")
    assert preview == ImportPreview(
        format="chatgpt",
        format_label="ChatGPT export",
        sessions=2,
        messages=6,
        already_there=0,
        drills=0,
        titles=["Warm-ups for U10", "Pressing triggers"],
    )
    assert _row_counts(store.db) == before

    import_file(store, CHATGPT, as_user="coach1")
    assert preview_import(store, CHATGPT, as_user="coach1").already_there == 2
    # The other coach has none of them: their import would move the ids, not skip.
    assert preview_import(store, CHATGPT, as_user="coach2").already_there == 0
    claude = preview_import(store, _export_zip(CLAUDE), as_user="coach1")
    assert (claude.format, claude.format_label, claude.sessions, claude.messages) == (
        "claude",
        "Claude.ai export",
        2,
        4,
    )
    with pytest.raises(NotFound, match="nobody"):
        preview_import(store, CHATGPT, as_user="nobody")


def test_a_huddle_archive_goes_through_the_same_entry_point(store, coach, other_coach):
    chat = store.create_session(coach.id, title="Rondo plan")
    store.add_message(coach.id, chat.id, "user", "Rondo for eight")
    store.create_drill(coach.id, title="Rondo 6v2", source_session_id=chat.id)
    data = archive_bytes(store, coach.id)

    preview = preview_import(store, data, as_user="coach1")
    assert (preview.format, preview.format_label) == ("huddle-archive", "Huddle archive")
    assert (preview.sessions, preview.messages, preview.drills) == (1, 1, 1)
    assert (preview.already_there, preview.titles) == (1, ["Rondo plan"])
    # Without as_user the archive's own users decide; a zip with the archive alone works too.
    assert preview_import(store, _zip({"a/coach1.json": data}), as_user=None).already_there == 1
    result = import_file(store, _zip({"coach1.json": data}), as_user="coach2")
    assert (result.sessions_added, result.drills_added, result.users_created) == (1, 1, [])
    assert import_file(store, data, as_user=None).sessions_skipped == 1


# ------------------------------------------------------------- isolation


def test_as_user_writes_only_into_that_coachs_data(store, coach, other_coach):
    import_file(store, CHATGPT, as_user="coach1")
    mine = _conversations(store, coach.id)
    counts = _row_counts(store.db)

    # The same export imported by another coach: their own copies, under moved ids.
    result = import_file(store, CHATGPT, as_user="coach2")
    assert (result.sessions_added, result.sessions_skipped) == (2, 0)
    assert _conversations(store, coach.id) == mine
    assert _conversations(store, other_coach.id) == mine
    theirs = {chat.id for chat in store.list_sessions(other_coach.id).items}
    assert theirs.isdisjoint(chat.id for chat in store.list_sessions(coach.id).items)
    assert import_file(store, CHATGPT, as_user="coach2").sessions_added == 0

    # An archive naming coach1 and an unknown coach, imported as coach2, touches neither.
    archive = json.loads(archive_bytes(store, coach.id))
    ghost = copy.deepcopy(archive["sessions"][0])
    ghost.update(id="8c1c2f0e-0000-4000-8000-00000000abcd", user="ghost", title="Ghost's")
    archive["sessions"].append(ghost)
    after = _row_counts(store.db)
    result = import_file(store, json.dumps(archive).encode(), as_user="coach2")
    assert (result.sessions_added, result.users_created) == (1, [])  # only the ghost's is new
    assert _row_counts(store.db)["users"] == counts["users"] == after["users"]
    assert _conversations(store, coach.id) == mine
    with pytest.raises(NotFound):
        store.get_user("ghost")
    assert "Ghost's" in _conversations(store, other_coach.id)


def test_a_foreign_export_needs_the_user_to_import_it_for(store, coach):
    before = _row_counts(store.db)
    for source in (CHATGPT, CLAUDE):
        with pytest.raises(OwnerNeeded, match="does not say which coach"):
            import_file(store, source, as_user=None)
        with pytest.raises(OwnerNeeded):
            preview_import(store, source, as_user=None)
    assert _row_counts(store.db) == before


# --------------------------------------------------------------- bad files


def _with(change) -> bytes:
    conversations = _chatgpt()
    change(conversations)
    return json.dumps(conversations).encode()


def _set_parent(node: str, parent: str):
    def change(conversations: list) -> None:
        conversations[0]["mapping"][node]["parent"] = parent

    return change


def _set_part(value):
    def change(conversations: list) -> None:
        conversations[1]["mapping"]["n2"]["message"]["content"]["parts"] = value

    return change


BAD_FILES = {
    "parent missing": (
        _with(_set_parent("u2", "gone")),
        r'^Conversation 1 \("Warm-ups for U10"\) has a broken message tree: node u2 points '
        r"to a parent that is not there\.$",
    ),
    "cycle": (
        _with(_set_parent("u1", "a2")),
        r"Conversation 1 .* broken message tree: node \w+ is its own ancestor",
    ),
    "unknown current node": (
        _with(lambda c: c[1].update(current_node="nowhere")),
        r'Conversation 2 \("Pressing triggers"\) has a broken message tree: its current node '
        r"nowhere is not in it\.",
    ),
    "mapping not an object": (
        _with(lambda c: c[1].update(mapping=[])),
        r"Conversation 2 .* has no message tree",
    ),
    "parts not a list": (_with(_set_part("text")), "whose 'parts' is not a list"),
    "NUL in a message": (
        _with(_set_part(["press\x00high"])),
        r"Conversation 2 .* has a NUL character in a message",
    ),
    "NUL in a title": (
        _with(lambda c: c[0].update(title="warm\x00ups")),
        "NUL character in its title",
    ),
    "time as text": (
        _with(lambda c: c[1].update(create_time="yesterday")),
        "create_time that is not a time in seconds",
    ),
    "no id": (
        _with(lambda c: [c[1].pop("id"), c[1].pop("conversation_id", None)]),
        r"Conversation 2 .* has no id \(conversation_id or id\)",
    ),
    "duplicate conversation": (
        _with(lambda c: c.append(copy.deepcopy(c[0]))),
        "Conversation 3 .* repeats the id of conversation 1",
    ),
    "claude messages not a list": (
        json.dumps([{"uuid": "x", "name": "A", "chat_messages": {}}]).encode(),
        r'Conversation 1 \("A"\) has no list of messages',
    ),
    "claude bad time": (
        json.dumps(
            [{"uuid": "x", "chat_messages": [], "created_at": "soon", "name": "A"}]
        ).encode(),
        "created_at that is not an ISO-8601 time",
    ),
    "not JSON": (b"\x89PNG\r\n\x1a\n\x00\x00binary", r"^This file is neither JSON nor a zip"),
    "plain text": (b"hello coach", r"^This file is neither JSON nor a zip archive\.$"),
    "raw NUL bytes": (b"\x00" * 64, "neither JSON nor a zip"),
    "empty": (b"  \n", "The file is empty"),
    "broken JSON": (b'[{"mapping": ', "The file ends too early"),
    "unknown JSON object": (
        b'{"format": "slack-export", "channels": []}',
        r"^This file is not a Huddle archive, a ChatGPT export or a Claude\.ai export\.$",
    ),
    "unknown JSON list": (b"[1, 2, 3]", "not a Huddle archive, a ChatGPT export or a Claude"),
    "empty list": (b"[]", "holds no conversations"),
    "damaged zip": (b"PK\x03\x04" + b"\x00" * 40, "zip archive is damaged"),
    "zip without JSON": (_zip({"readme.txt": b"hi"}), "holds no JSON file"),
    "zip with two archives": (
        _zip({"a.json": b"{}", "b.json": b"{}"}),
        "holds 2 JSON files and no conversations.json",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_one_sentence_and_writes_nothing(store, coach, case):
    data, message = BAD_FILES[case]
    before = _row_counts(store.db)
    with pytest.raises(ArchiveError, match=message):
        preview_import(store, data, as_user="coach1")
    with pytest.raises(ArchiveError, match=message):
        import_file(store, data, as_user="coach1")
    assert _row_counts(store.db) == before


def test_a_file_over_the_limit_is_refused_before_it_is_read(store, coach, tmp_path, monkeypatch):
    monkeypatch.setattr(file_import, "MAX_IMPORT_BYTES", 1_000)
    before = _row_counts(store.db)
    big = tmp_path / "conversations.json"
    big.write_bytes(b"[" + b" " * 2_000 + b"]")
    for source in (big, big.read_bytes(), io.BytesIO(big.read_bytes())):
        with pytest.raises(ArchiveError, match="the limit is 0 MB"):
            import_file(store, source, as_user="coach1")
    # A zip bomb: small on the wire, over the limit once inflated.
    bomb = _zip({"conversations.json": b"[" + b" " * 50_000 + b"]"})
    assert len(bomb) < 1_000
    with pytest.raises(ArchiveError, match="the limit is"):
        import_file(store, bomb, as_user="coach1")
    assert _row_counts(store.db) == before


def test_a_zip_that_understates_its_size_is_still_cut_at_the_limit(monkeypatch):
    monkeypatch.setattr(file_import, "MAX_IMPORT_BYTES", 1_000)
    bomb = bytearray(_zip({"conversations.json": b"[" + b" " * 50_000 + b"]"}))
    # Rewrite the declared uncompressed size (central directory and local header) to 10.
    real = (50_002).to_bytes(4, "little")
    assert bomb.count(real) == 2
    bomb = bomb.replace(real, (10).to_bytes(4, "little"))
    with pytest.raises(ArchiveError):
        file_import._json_in_zip(bytes(bomb))
