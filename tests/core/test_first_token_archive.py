"""first_token_ms in the JSON archive: exported, imported back, optional in old archives."""

from __future__ import annotations

import io
import json
import uuid

import pytest

from core.archive_in import import_archive
from core.archive_out import write_archive
from core.errors import ArchiveError


def _archive(store, user_id: int) -> dict:
    out = io.StringIO()
    write_archive(store, user_id, out)
    return json.loads(out.getvalue())


def _messages(archive: dict) -> list[dict]:
    (session,) = archive["sessions"]
    return session["messages"]


def test_export_then_import_keeps_it(store, coach, other_coach) -> None:
    chat = store.create_session(coach.id, title="Rondo")
    store.add_message(coach.id, chat.id, "user", "A rondo for eight?")
    store.add_message(
        coach.id, chat.id, "assistant", "Try 6v2.", latency_ms=2100, first_token_ms=640
    )
    store.add_message(coach.id, chat.id, "assistant", "Or 4v1.", status="partial")

    exported = _archive(store, coach.id)
    assert [m.get("first_token_ms", "absent") for m in _messages(exported)] == [None, 640, None]

    # Into another coach of the same database: the session comes in under a new id.
    result = import_archive(store, json.dumps(exported), as_user=other_coach.username)
    assert (result.sessions_added, result.messages_added) == (1, 3)
    (copy,) = store.list_sessions(other_coach.id).items
    stored = store.list_messages(other_coach.id, copy.id)
    assert [m.first_token_ms for m in stored] == [None, 640, None]
    assert [m["first_token_ms"] for m in _messages(_archive(store, other_coach.id))] == [
        None,
        640,
        None,
    ]


def _old_archive(**reply_fields) -> dict:
    """An archive as Huddle wrote it before first_token_ms existed."""
    return {
        "format": "huddle-archive",
        "version": 1,
        "exported_at": "2026-11-21T10:00:00Z",
        "sessions": [
            {
                "id": str(uuid.uuid4()),
                "user": "coach1",
                "kind": "chat",
                "title": "Old chat",
                "created_at": "2026-11-20T09:00:00Z",
                "updated_at": "2026-11-20T09:01:00Z",
                "messages": [
                    {
                        "seq": 1,
                        "role": "user",
                        "content": "Hi",
                        "created_at": "2026-11-20T09:00:00Z",
                    },
                    {
                        "seq": 2,
                        "role": "assistant",
                        "content": "Hello coach",
                        "created_at": "2026-11-20T09:01:00Z",
                        "latency_ms": 900,
                        **reply_fields,
                    },
                ],
            }
        ],
        "drills": [],
    }


def test_an_archive_without_it_still_imports(store, coach) -> None:
    result = import_archive(store, json.dumps(_old_archive()))

    assert result.messages_added == 2
    (chat,) = store.list_sessions(coach.id).items
    stored = store.list_messages(coach.id, chat.id)
    assert [(m.latency_ms, m.first_token_ms) for m in stored] == [(None, None), (900, None)]


@pytest.mark.parametrize("value", [-1, 1.5, "640", 2**31])
def test_a_bad_value_is_refused_and_nothing_is_written(store, coach, value) -> None:
    with pytest.raises(ArchiveError, match=r"sessions\[0\]\.messages\[1\]\.first_token_ms"):
        import_archive(store, json.dumps(_old_archive(first_token_ms=value)))
    assert store.list_sessions(coach.id).total == 0
