"""The JSON archive out of Huddle (format "huddle-archive", version 1), streamed.

The archive is the lossless format: what import writes, export gives back equal.
What it holds, beyond the fields DESIGN.md shows, so that nothing is lost: a
session's `title_source` and its tool calls that belong to no message
(`tool_calls_without_message`); a message's `error`, `latency_ms`,
`first_token_ms` and `metadata`. What it leaves out because import derives it:
word counts, `message_count`, `last_seq`, `last_message_at` and `preview`. Users
appear only by username, never with a password hash, email or role.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO

from sqlalchemy import select

from core.export_batches import (
    calls_without_message,
    chunks,
    format_time,
    message_batches,
    pages_in_creation_order,
    selected_sessions,
)
from core.models import ChatSession, Drill, Message, ToolCall, utcnow
from core.store import ConversationStore

ARCHIVE_FORMAT = "huddle-archive"
ARCHIVE_VERSION = 1


def _drills_for(
    store: ConversationStore, user_id: int, session_ids: set[str], drill_ids: set[str]
) -> list[Drill]:
    """The coach's drills that the exported sessions link to or were built in."""
    found: dict[str, Drill] = {}
    with store.db.reading() as session:
        for chunk in chunks(sorted(drill_ids)):
            for drill in session.scalars(
                select(Drill).where(Drill.user_id == user_id, Drill.id.in_(chunk))
            ):
                found[drill.id] = drill
        for chunk in chunks(sorted(session_ids)):
            for drill in session.scalars(
                select(Drill).where(Drill.user_id == user_id, Drill.source_session_id.in_(chunk))
            ):
                found[drill.id] = drill
    return sorted(found.values(), key=lambda drill: (drill.created_at, drill.id))


def _tool_call_entry(call: ToolCall) -> dict[str, Any]:
    return {
        "tool_use_id": call.tool_use_id,
        "name": call.name,
        "input": call.input,
        "output": call.output,
        "is_error": call.is_error,
        "duration_ms": call.duration_ms,
        "created_at": format_time(call.created_at),
    }


def _message_entry(message: Message, calls: list[ToolCall]) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "role": message.role,
        "content": message.content,
        "created_at": format_time(message.created_at),
        "status": message.status,
        "error": message.error,
        "model": message.model,
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
        "latency_ms": message.latency_ms,
        "first_token_ms": message.first_token_ms,
        "blocks": message.blocks,
        "metadata": message.metadata_,
        "tool_calls": [_tool_call_entry(call) for call in calls],
    }


def _session_head(chat: ChatSession, username: str) -> dict[str, Any]:
    return {
        "id": chat.id,
        "user": username,
        "kind": chat.kind,
        "title": chat.title,
        "title_source": chat.title_source,
        "created_at": format_time(chat.created_at),
        "updated_at": format_time(chat.updated_at),
        "pinned": chat.pinned,
        "archived": chat.archived,
        "tags": chat.tag_names,
        "model": chat.model,
        "metadata": chat.metadata_,
        "drill_id": chat.drill_id,
    }


def _drill_entry(drill: Drill, username: str) -> dict[str, Any]:
    return {
        "id": drill.id,
        "user": username,
        "title": drill.title,
        "sport": drill.sport,
        "objective": drill.objective,
        "age_group": drill.age_group,
        "players": drill.players,
        "duration_min": drill.duration_min,
        "equipment": drill.equipment,
        "setup": drill.setup,
        "steps": drill.steps,
        "coaching_points": drill.coaching_points,
        "progressions": drill.progressions,
        "tags": drill.tags,
        "source_session_id": drill.source_session_id,
        "created_at": format_time(drill.created_at),
        "updated_at": format_time(drill.updated_at),
    }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _open_archive(out: TextIO) -> None:
    out.write(
        f'{{"format": {_json(ARCHIVE_FORMAT)}, "version": {ARCHIVE_VERSION}, '
        f'"exported_at": {_json(format_time(utcnow()))},\n"sessions": ['
    )


def _write_session(out: TextIO, store: ConversationStore, chat: ChatSession, username: str) -> None:
    """One session with its messages, a batch at a time (the head is written without its
    closing brace so the messages can follow)."""
    out.write(_json(_session_head(chat, username))[:-1] + ', "messages": [')
    first = True
    for batch in message_batches(store, chat.user_id, chat.id):
        for message, calls in batch:
            out.write("\n " if first else ",\n ")
            out.write(_json(_message_entry(message, calls)))
            first = False
    loose = [_tool_call_entry(call) for call in calls_without_message(store, chat.user_id, chat.id)]
    out.write(f'],\n "tool_calls_without_message": {_json(loose)}}}')


def _write_drills(out: TextIO, drills: Iterable[tuple[Drill, str]]) -> None:
    out.write('\n],\n"drills": [')
    for index, (drill, username) in enumerate(drills):
        out.write(",\n" if index else "\n")
        out.write(_json(_drill_entry(drill, username)))
    out.write("\n]}")


def write_archive(
    store: ConversationStore,
    user_id: int,
    out: TextIO,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> int:
    """Stream the coach's sessions (all, the given ids, or those matching `query`) as a JSON
    archive, with the drills they use (all the coach's drills for a full export).

    Returns how many sessions were written. One message per line keeps the file
    readable and greppable.
    """
    username = store.get_user_by_id(user_id).username
    whole = session_ids is None and not (query and query.strip())
    written = 0
    # A selection takes the drills its sessions use; a full export takes them all.
    exported: set[str] = set()
    linked_drills: set[str] = set()
    _open_archive(out)
    for chat in selected_sessions(store, user_id, session_ids, query):
        out.write(",\n" if written else "\n")
        written += 1
        if not whole:
            exported.add(chat.id)
            if chat.drill_id is not None:
                linked_drills.add(chat.drill_id)
        _write_session(out, store, chat, username)
    drills: Iterable[Drill] = (
        pages_in_creation_order(store, Drill, Drill.user_id == user_id)
        if whole
        else _drills_for(store, user_id, exported, linked_drills)
    )
    _write_drills(out, ((drill, username) for drill in drills))
    out.write("\n")
    return written


def write_every_archive(store: ConversationStore, out: TextIO) -> tuple[int, int]:
    """Every coach's sessions and drills as one archive (each names its coach), streamed;
    returns how many sessions and drills it holds. For backups: no selection, no user."""
    users = {user.id: user.username for user in store.list_users()}
    sessions = drills = 0
    _open_archive(out)
    for user_id, username in users.items():
        for chat in selected_sessions(store, user_id, None, None):
            out.write(",\n" if sessions else "\n")
            sessions += 1
            _write_session(out, store, chat, username)

    def every_drill() -> Iterator[tuple[Drill, str]]:
        nonlocal drills
        for user_id, username in users.items():
            for drill in pages_in_creation_order(store, Drill, Drill.user_id == user_id):
                drills += 1
                yield drill, username

    _write_drills(out, every_drill())
    return sessions, drills


def archive_bytes(
    store: ConversationStore,
    user_id: int,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> bytes:
    """The archive as UTF-8 bytes, for a download button (the command line streams instead)."""
    buffer = io.StringIO()
    write_archive(store, user_id, buffer, session_ids=session_ids, query=query)
    return buffer.getvalue().encode("utf-8")
