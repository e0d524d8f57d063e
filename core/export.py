"""Markdown, CSV and JSON archive out of Huddle; the JSON archive back in.

Every export reads one coach's sessions a page at a time and their messages a
batch at a time, so its memory stays flat however much is stored. The JSON
archive is the lossless format: what import writes, export gives back equal.

What the archive holds, beyond the fields DESIGN.md shows, so that nothing is
lost: a session's `title_source` and its tool calls that belong to no message
(`tool_calls_without_message`); a message's `error`, `latency_ms` and
`metadata`. What it leaves out because import derives it: word counts,
`message_count`, `last_seq`, `last_message_at` and `preview`. Users appear only
by username, never with a password hash, email or role.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO, TypeVar

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.errors import ArchiveError, NotFound
from core.models import (
    DRILL_INT_FIELDS,
    DRILL_LIST_FIELDS,
    MESSAGE_ROLES,
    MESSAGE_STATUSES,
    SESSION_KINDS,
    ChatSession,
    Drill,
    Message,
    ToolCall,
    User,
    new_id,
    utcnow,
)
from core.search import matching_session_ids
from core.store import (
    MAX_STORED_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TITLE_CHARS,
    USERNAME_PATTERN,
    BulkBatch,
    ConversationStore,
    clean_tag,
)
from core.text import count_words, make_preview

ARCHIVE_FORMAT = "huddle-archive"
ARCHIVE_VERSION = 1
CSV_COLUMNS = (
    "session_id",
    "session_title",
    "session_kind",
    "seq",
    "role",
    "created_at",
    "content",
    "word_count",
    "status",
    "model",
    "input_tokens",
    "output_tokens",
    "tools",
    "tags",
)

# Rows fetched per query: sessions per page, messages per batch, ids per IN list.
_PAGE = 500
# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Ids that collide with another coach's are moved to a uuid5 of (id, new owner):
# the same archive imported again lands on the same ids and is skipped.
_MOVED_ID_NAMESPACE = uuid.UUID("93e7c5ca-e73e-406f-8541-699807be695c")
_MOVE_ROUNDS = 5
_INT_MAX = 2**31 - 1  # PostgreSQL `integer`
# The drill columns' sizes, as the store checks them.
_DRILL_TEXT_LIMITS = {
    "title": 200,
    "sport": 64,
    "objective": 20_000,
    "age_group": 64,
    "setup": 20_000,
}
_DRILL_LIST_ITEM_CHARS = 2_000
_DRILL_LIST_ITEMS = 1_000
_DRILL_NUMBER_MAX = 10_000
# JSON can carry a NUL or half a surrogate pair only as a \u escape; finding
# none in the raw text spares walking every string of the parsed archive.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")

T = TypeVar("T")


@dataclass(frozen=True)
class ImportResult:
    """What an archive import did; skipped sessions and drills were already there."""

    sessions_added: int
    sessions_skipped: int
    messages_added: int
    tool_calls_added: int
    drills_added: int
    drills_skipped: int
    users_created: list[str]


# ------------------------------------------------------------------ times


def format_time(value: datetime) -> str:
    """ISO-8601 in UTC with a Z and all six digits of microseconds."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _human_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -------------------------------------------------------------- selection


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _selected_sessions(
    store: ConversationStore,
    user_id: int,
    session_ids: Sequence[str] | None,
    query: str | None,
) -> Iterator[ChatSession]:
    """The coach's chosen sessions, oldest first, a page at a time; others' ids are ignored.

    Pages are keyed on (created_at, id) rather than offsets, so a session the
    coach pins or creates while an export runs is neither repeated nor skipped.
    """
    query = query if query and query.strip() else None
    if session_ids is None and query is None:
        yield from _all_sessions(store, user_id)
        return
    wanted = None if session_ids is None else {str(session_id) for session_id in session_ids}
    if query is not None:
        matching = set(matching_session_ids(store.db, user_id, query))
        wanted = matching if wanted is None else wanted & matching
    keys: list[tuple[datetime, str]] = []
    for chunk in _chunks(sorted(wanted), _PAGE):
        with store.db.reading() as session:
            keys.extend(
                session.execute(
                    select(ChatSession.created_at, ChatSession.id).where(
                        ChatSession.user_id == user_id, ChatSession.id.in_(chunk)
                    )
                ).all()
            )
    keys.sort()
    for chunk in _chunks((session_id for _, session_id in keys), _PAGE):
        with store.db.reading() as session:
            found = {
                chat.id: chat
                for chat in session.scalars(
                    select(ChatSession).where(
                        ChatSession.user_id == user_id, ChatSession.id.in_(chunk)
                    )
                )
            }
        # A session deleted since the first look is simply left out.
        yield from (found[session_id] for session_id in chunk if session_id in found)


def _all_sessions(store: ConversationStore, user_id: int) -> Iterator[ChatSession]:
    yield from _pages_in_creation_order(store, ChatSession, ChatSession.user_id == user_id)


def _pages_in_creation_order(
    store: ConversationStore,
    model: type[ChatSession] | type[Drill],
    condition: ColumnElement[bool],
) -> Iterator[Any]:
    after: tuple[datetime, str] | None = None
    while True:
        query = select(model).where(condition)
        if after is not None:
            query = query.where(
                or_(
                    model.created_at > after[0],
                    and_(model.created_at == after[0], model.id > after[1]),
                )
            )
        with store.db.reading() as session:
            page = list(session.scalars(query.order_by(model.created_at, model.id).limit(_PAGE)))
        yield from page
        if len(page) < _PAGE:
            return
        after = (page[-1].created_at, page[-1].id)


def _message_batches(
    store: ConversationStore, user_id: int, session_id: str
) -> Iterator[list[tuple[Message, list[ToolCall]]]]:
    """The session's messages in order with each one's tool calls, a batch at a time."""
    for batch in _chunks(store.iter_messages(user_id, session_id, batch=_PAGE), _PAGE):
        calls = store.list_tool_calls(
            user_id, session_id, message_ids=[message.id for message in batch]
        )
        by_message: dict[int | None, list[ToolCall]] = defaultdict(list)
        for call in calls:
            by_message[call.message_id].append(call)
        yield [(message, by_message.get(message.id, [])) for message in batch]


def _calls_without_message(
    store: ConversationStore, user_id: int, session_id: str
) -> list[ToolCall]:
    with store.db.reading() as session:
        return list(
            session.scalars(
                select(ToolCall)
                .where(
                    ToolCall.session_id == session_id,
                    ToolCall.user_id == user_id,
                    ToolCall.message_id.is_(None),
                )
                .order_by(ToolCall.id)
            )
        )


def _drills_for(
    store: ConversationStore, user_id: int, session_ids: set[str], drill_ids: set[str]
) -> list[Drill]:
    """The coach's drills that the exported sessions link to or were built in."""
    found: dict[str, Drill] = {}
    with store.db.reading() as session:
        for chunk in _chunks(sorted(drill_ids), _PAGE):
            for drill in session.scalars(
                select(Drill).where(Drill.user_id == user_id, Drill.id.in_(chunk))
            ):
                found[drill.id] = drill
        for chunk in _chunks(sorted(session_ids), _PAGE):
            for drill in session.scalars(
                select(Drill).where(Drill.user_id == user_id, Drill.source_session_id.in_(chunk))
            ):
                found[drill.id] = drill
    return sorted(found.values(), key=lambda drill: (drill.created_at, drill.id))


# ----------------------------------------------------------- JSON archive


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
    out.write(
        f'{{"format": {_json(ARCHIVE_FORMAT)}, "version": {ARCHIVE_VERSION}, '
        f'"exported_at": {_json(format_time(utcnow()))},\n"sessions": ['
    )
    for chat in _selected_sessions(store, user_id, session_ids, query):
        out.write(",\n" if written else "\n")
        written += 1
        if not whole:
            exported.add(chat.id)
            if chat.drill_id is not None:
                linked_drills.add(chat.drill_id)
        # The head object is written without its closing brace so the messages
        # can follow one batch at a time.
        out.write(_json(_session_head(chat, username))[:-1] + ', "messages": [')
        first = True
        for batch in _message_batches(store, user_id, chat.id):
            for message, calls in batch:
                out.write("\n " if first else ",\n ")
                out.write(_json(_message_entry(message, calls)))
                first = False
        loose = [_tool_call_entry(call) for call in _calls_without_message(store, user_id, chat.id)]
        out.write(f'],\n "tool_calls_without_message": {_json(loose)}}}')
    out.write('\n],\n"drills": [')
    drills: Iterable[Drill] = (
        _pages_in_creation_order(store, Drill, Drill.user_id == user_id)
        if whole
        else _drills_for(store, user_id, exported, linked_drills)
    )
    for index, drill in enumerate(drills):
        out.write(",\n" if index else "\n")
        out.write(_json(_drill_entry(drill, username)))
    out.write("\n]}\n")
    return written


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


# ------------------------------------------------------- reading archives

_MISSING: Any = object()
_SESSION_FIELDS = frozenset(
    {
        "id",
        "user",
        "kind",
        "title",
        "title_source",
        "created_at",
        "updated_at",
        "pinned",
        "archived",
        "tags",
        "model",
        "metadata",
        "drill_id",
        "messages",
        "tool_calls_without_message",
    }
)
_MESSAGE_FIELDS = frozenset(
    {
        "seq",
        "role",
        "content",
        "created_at",
        "status",
        "error",
        "model",
        "input_tokens",
        "output_tokens",
        "latency_ms",
        "blocks",
        "metadata",
        "tool_calls",
    }
)
_TOOL_CALL_FIELDS = frozenset(
    {"tool_use_id", "name", "input", "output", "is_error", "duration_ms", "created_at"}
)
_DRILL_FIELDS = frozenset(
    {"id", "user", "source_session_id", "created_at", "updated_at"}
    | set(_DRILL_TEXT_LIMITS)
    | set(DRILL_INT_FIELDS)
    | set(DRILL_LIST_FIELDS)
)
_ARCHIVE_FIELDS = frozenset({"format", "version", "exported_at", "sessions", "drills"})
_ROLES = frozenset(MESSAGE_ROLES)
_STATUSES = frozenset(MESSAGE_STATUSES)


@dataclass
class _IncomingSession:
    """One validated session of an archive, its rows ready but not yet given an owner."""

    id: str
    username: str | None
    drill_ref: str | None
    row: dict[str, Any]
    tags: list[str]
    messages: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    # Decided inside the import transaction.
    owner: int = 0
    final_id: str = ""
    new: bool = False


@dataclass
class _IncomingDrill:
    id: str
    username: str | None
    source_ref: str | None
    row: dict[str, Any]
    owner: int = 0
    final_id: str = ""
    new: bool = False


@dataclass
class _Archive:
    sessions: list[_IncomingSession] = field(default_factory=list)
    drills: list[_IncomingDrill] = field(default_factory=list)


def _bad(where: str, problem: str) -> NoReturn:
    raise ArchiveError(f"{where} {problem}.")


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not _MISSING else "nothing"
    return text if len(text) <= 40 else text[:37] + "…"


def _field(obj: dict[str, Any], key: str, where: str, default: Any) -> Any:
    value = obj.get(key, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            _bad(where, f"is missing {key!r}")
        return default
    return value


def _check_fields(obj: Any, allowed: frozenset[str], where: str) -> dict[str, Any]:
    if type(obj) is not dict:
        _bad(where, f"must be a JSON object, not {_show(obj)}")
    unknown = obj.keys() - allowed
    if unknown:
        _bad(where, f"has an unknown field {sorted(unknown)[0]!r}")
    return obj


def _text(
    obj: dict[str, Any],
    key: str,
    where: str,
    *,
    max_chars: int,
    default: Any = _MISSING,
    nullable: bool = False,
    required_text: bool = False,
) -> Any:
    value = _field(obj, key, where, default)
    if value is None and nullable:
        return None
    if type(value) is not str:
        kind = "text or null" if nullable else "text"
        _bad(f"{where}.{key}", f"must be {kind}, not {_show(value)}")
    if len(value) > max_chars:
        _bad(f"{where}.{key}", f"is {len(value):,} characters long; the limit is {max_chars:,}")
    if required_text and not value.strip():
        _bad(f"{where}.{key}", "is empty")
    return value


def _whole_number(
    obj: dict[str, Any], key: str, where: str, *, low: int = 0, high: int = _INT_MAX
) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not int or not low <= value <= high:
        _bad(
            f"{where}.{key}",
            f"must be a whole number from {low:,} to {high:,} or null, not {_show(value)}",
        )
    return value


def _flag(obj: dict[str, Any], key: str, where: str) -> bool:
    value = obj.get(key, False)
    if type(value) is not bool:
        _bad(f"{where}.{key}", f"must be true or false, not {_show(value)}")
    return value


def _choice(
    obj: dict[str, Any], key: str, where: str, choices: Sequence[str], default: Any = _MISSING
) -> str:
    value = _field(obj, key, where, default)
    if value not in choices or type(value) is not str:
        _bad(f"{where}.{key}", f"must be one of {', '.join(choices)}, not {_show(value)}")
    return value


def _time(obj: dict[str, Any], key: str, where: str, default: Any = _MISSING) -> datetime:
    if key not in obj and default is not _MISSING:
        return default
    value = _field(obj, key, where, default)
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            # A time without a zone is UTC, as everywhere in Huddle.
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    _bad(
        f"{where}.{key}",
        f"must be an ISO-8601 time such as 2026-11-21T10:00:00Z, not {_show(value)}",
    )


def _json_object(obj: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = obj.get(key, {})
    if type(value) is not dict:
        _bad(f"{where}.{key}", f"must be a JSON object, not {_show(value)}")
    return value


def _record_id(obj: dict[str, Any], key: str, where: str, *, nullable: bool = False) -> Any:
    value = _field(obj, key, where, None if nullable else _MISSING)
    if value is None and nullable:
        return None
    if type(value) is not str or not 0 < len(value) <= 36 or value != value.strip():
        kind = "an id (1 to 36 characters, like a UUID)" + (" or null" if nullable else "")
        _bad(f"{where}.{key}", f"must be {kind}, not {_show(value)}")
    return value


def _username(obj: dict[str, Any], where: str, *, required: bool) -> str | None:
    value = obj.get("user", _MISSING)
    if value is _MISSING:
        if required:
            _bad(where, "is missing 'user' (or import it for one user with --user)")
        return None
    if type(value) is not str or not USERNAME_PATTERN.match(value):
        _bad(
            f"{where}.user",
            f"must be a username (2 to 64 letters, digits, dots, dashes or underscores), "
            f"not {_show(value)}",
        )
    return value


def _string_list(
    obj: dict[str, Any], key: str, where: str, *, max_items: int, max_chars: int
) -> list[str]:
    value = obj.get(key, [])
    if type(value) is not list:
        _bad(f"{where}.{key}", f"must be a list of text, not {_show(value)}")
    if len(value) > max_items:
        _bad(f"{where}.{key}", f"has {len(value):,} items; the limit is {max_items:,}")
    for index, item in enumerate(value):
        if type(item) is not str:
            _bad(f"{where}.{key}[{index}]", f"must be text, not {_show(item)}")
        if len(item) > max_chars:
            _bad(
                f"{where}.{key}[{index}]",
                f"is {len(item):,} characters long; the limit is {max_chars:,}",
            )
    return value


def _read_tags(obj: dict[str, Any], where: str) -> list[str]:
    raw = _string_list(obj, "tags", where, max_items=MAX_TAGS * 5, max_chars=MAX_TAG_CHARS)
    for index, tag in enumerate(raw):
        if not tag.strip():
            _bad(f"{where}.tags[{index}]", "is empty")
    # The store's own rule, so "U12" and "u12 " arrive as the one tag "u12".
    tags = sorted({clean_tag(tag) for tag in raw})
    if len(tags) > MAX_TAGS:
        _bad(f"{where}.tags", f"has {len(tags)} tags; a conversation can have at most {MAX_TAGS}")
    return tags


def _read_tool_call(raw: Any, where: str, default_time: datetime) -> dict[str, Any]:
    call = _check_fields(raw, _TOOL_CALL_FIELDS, where)
    return {
        "tool_use_id": _text(call, "tool_use_id", where, max_chars=100, default=""),
        "name": _text(call, "name", where, max_chars=100, required_text=True),
        "input": call.get("input"),
        "output": _text(call, "output", where, max_chars=MAX_STORED_CHARS, default=""),
        "is_error": _flag(call, "is_error", where),
        "duration_ms": _whole_number(call, "duration_ms", where),
        "created_at": _time(call, "created_at", where, default_time),
    }


def _read_tool_calls(
    obj: dict[str, Any], key: str, where: str, default_time: datetime, message_seq: int | None
) -> list[dict[str, Any]]:
    raw = obj.get(key, [])
    if type(raw) is not list:
        _bad(f"{where}.{key}", f"must be a list, not {_show(raw)}")
    calls = []
    for index, item in enumerate(raw):
        call = _read_tool_call(item, f"{where}.{key}[{index}]", default_time)
        call["message_seq"] = message_seq
        calls.append(call)
    return calls


def _read_message(raw: Any, where: str, seq: int) -> dict[str, Any]:
    """One message as a row. This runs for every message of an archive, so each field is
    checked inline first; only a value that fails goes to the helper that explains why.
    """
    if type(raw) is not dict or not raw.keys() <= _MESSAGE_FIELDS:
        _check_fields(raw, _MESSAGE_FIELDS, where)
    get = raw.get
    value = get("seq", _MISSING)
    if value != seq or type(value) is not int:
        _field(raw, "seq", where, _MISSING)  # a missing seq says so
        _bad(
            f"{where}.seq",
            f"is {_show(value)} but must be {seq}: seq numbers run 1, 2, 3 … without gaps "
            "or repeats, in order",
        )
    role = get("role")
    if type(role) is not str or role not in _ROLES:
        role = _choice(raw, "role", where, MESSAGE_ROLES)
    content = get("content", "")
    if type(content) is not str or len(content) > MAX_STORED_CHARS:
        content = _text(raw, "content", where, max_chars=MAX_STORED_CHARS, default="")
    status = get("status", "complete")
    if type(status) is not str or status not in _STATUSES:
        status = _choice(raw, "status", where, MESSAGE_STATUSES)
    error = get("error")
    if error is not None and (type(error) is not str or len(error) > MAX_STORED_CHARS):
        error = _text(raw, "error", where, max_chars=MAX_STORED_CHARS, nullable=True)
    model = get("model")
    if model is not None and (type(model) is not str or len(model) > 100):
        model = _text(raw, "model", where, max_chars=100, nullable=True)
    counts = []
    for key in ("input_tokens", "output_tokens", "latency_ms"):
        number = get(key)
        if number is not None and (type(number) is not int or not 0 <= number <= _INT_MAX):
            number = _whole_number(raw, key, where)
        counts.append(number)
    blocks = get("blocks")
    if blocks is not None and type(blocks) is not list and type(blocks) is not dict:
        _bad(f"{where}.blocks", f"must be a list of content blocks or null, not {_show(blocks)}")
    metadata = get("metadata", {})
    if type(metadata) is not dict:
        metadata = _json_object(raw, "metadata", where)
    created_at = get("created_at")
    try:
        created_at = datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        created_at = _time(raw, "created_at", where)
    else:
        # A time without a zone is UTC, as everywhere in Huddle.
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        elif created_at.utcoffset():
            created_at = created_at.astimezone(UTC)
    return {
        "seq": seq,
        "role": role,
        "content": content,
        "blocks": blocks,
        "status": status,
        "error": error,
        "model": model,
        "input_tokens": counts[0],
        "output_tokens": counts[1],
        "word_count": count_words(content),
        "latency_ms": counts[2],
        "created_at": created_at,
        "metadata": metadata,
    }


def _read_session(raw: Any, where: str, *, need_user: bool) -> _IncomingSession:
    obj = _check_fields(raw, _SESSION_FIELDS, where)
    session_id = _record_id(obj, "id", where)
    username = _username(obj, where, required=need_user)
    created_at = _time(obj, "created_at", where)
    title = _text(obj, "title", where, max_chars=MAX_TITLE_CHARS * 2, required_text=True)
    title = " ".join(title.split())  # as the store cleans every title
    if len(title) > MAX_TITLE_CHARS:
        _bad(f"{where}.title", f"is longer than {MAX_TITLE_CHARS} characters")
    raw_messages = obj.get("messages", [])
    if type(raw_messages) is not list:
        _bad(f"{where}.messages", f"must be a list, not {_show(raw_messages)}")
    messages: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    for index, raw_message in enumerate(raw_messages):
        at = f"{where}.messages[{index}]"
        message = _read_message(raw_message, at, index + 1)
        messages.append(message)
        if raw_message.get("tool_calls", []) != []:
            tool_calls.extend(
                _read_tool_calls(raw_message, "tool_calls", at, message["created_at"], index + 1)
            )
    tool_calls.extend(_read_tool_calls(obj, "tool_calls_without_message", where, created_at, None))
    preview = next(
        (
            make_preview(message["content"])
            for message in reversed(messages)
            if message["content"].strip()
        ),
        "",
    )
    row = {
        "kind": _choice(obj, "kind", where, SESSION_KINDS, "chat"),
        "title": title,
        "title_source": _choice(obj, "title_source", where, ("auto", "user"), "auto"),
        "model": _text(obj, "model", where, max_chars=100, default=None, nullable=True),
        "pinned": _flag(obj, "pinned", where),
        "archived": _flag(obj, "archived", where),
        "metadata": _json_object(obj, "metadata", where),
        "message_count": len(messages),
        "word_count": sum(message["word_count"] for message in messages),
        "last_seq": len(messages),
        "last_message_at": messages[-1]["created_at"] if messages else None,
        "preview": preview,
        "created_at": created_at,
        "updated_at": _time(obj, "updated_at", where, created_at),
    }
    return _IncomingSession(
        id=session_id,
        username=username,
        drill_ref=_record_id(obj, "drill_id", where, nullable=True),
        row=row,
        tags=_read_tags(obj, where),
        messages=messages,
        tool_calls=tool_calls,
    )


def _read_drill(raw: Any, where: str, *, need_user: bool) -> _IncomingDrill:
    obj = _check_fields(raw, _DRILL_FIELDS, where)
    drill_id = _record_id(obj, "id", where)
    created_at = _time(obj, "created_at", where, utcnow())
    row: dict[str, Any] = {
        name: _text(obj, name, where, max_chars=limit, default="", required_text=name == "title")
        for name, limit in _DRILL_TEXT_LIMITS.items()
    }
    for name in DRILL_INT_FIELDS:
        row[name] = _whole_number(obj, name, where, low=1, high=_DRILL_NUMBER_MAX)
    for name in DRILL_LIST_FIELDS:
        row[name] = _string_list(
            obj, name, where, max_items=_DRILL_LIST_ITEMS, max_chars=_DRILL_LIST_ITEM_CHARS
        )
    row["created_at"] = created_at
    row["updated_at"] = _time(obj, "updated_at", where, created_at)
    return _IncomingDrill(
        id=drill_id,
        username=_username(obj, where, required=need_user),
        source_ref=_record_id(obj, "source_session_id", where, nullable=True),
        row=row,
    )


def _source_text(source: str | bytes | Path | BinaryIO | TextIO) -> str:
    """The archive's text: a str is the JSON itself; a Path is a file to read."""
    if isinstance(source, Path):
        try:
            data: Any = source.read_bytes()
        except OSError as exc:
            raise ArchiveError(f"The archive {source} cannot be read: {exc.strerror}.") from exc
    elif isinstance(source, str | bytes | bytearray | memoryview):
        data = source
    else:
        data = source.read()
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            return bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ArchiveError(
                f"The archive is not UTF-8 text (an invalid byte at position {exc.start:,})."
            ) from exc
    if not isinstance(data, str):
        raise ArchiveError("The archive must be JSON text.")
    return data.removeprefix("\ufeff")


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _parse(text: str) -> Any:
    if not text.strip():
        raise ArchiveError("The archive is empty.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise ArchiveError(
                f"The archive ends too early (line {exc.lineno:,}, column {exc.colno:,}); "
                "the file looks cut short."
            ) from None
        raise ArchiveError(
            f"The archive is not valid JSON: {exc.msg} at line {exc.lineno:,}, "
            f"column {exc.colno:,}."
        ) from None
    except RecursionError:
        raise ArchiveError("The archive nests JSON too deeply to be read.") from None
    except ValueError as exc:
        raise ArchiveError(f"The archive is not valid JSON: {exc}.") from None


def _find_unstorable(value: Any, where: str) -> tuple[str, str] | None:
    """The first text in the archive a database cannot store, and why."""
    if type(value) is str:
        if "\x00" in value:
            return where, "contains a NUL character, which cannot be stored"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where, "contains half of a surrogate pair, which is not valid text"
        return None
    if type(value) is list:
        for index, item in enumerate(value):
            if found := _find_unstorable(item, f"{where}[{index}]"):
                return found
    elif type(value) is dict:
        for key, item in value.items():
            if found := _find_unstorable(key, f"{where} (a key)") or _find_unstorable(
                item, f"{where}.{key}" if where else key
            ):
                return found
    return None


def _read_archive(source: str | bytes | Path | BinaryIO | TextIO, *, need_users: bool) -> _Archive:
    """Parse and validate the whole archive; the first problem stops it with one sentence."""
    text = _source_text(source)
    document = _parse(text)
    if _SUSPECT_ESCAPE.search(text):
        try:
            found = _find_unstorable(document, "")
        except RecursionError:
            raise ArchiveError("The archive nests JSON too deeply to be read.") from None
        if found:
            _bad(found[0] or "The archive", found[1])
    if type(document) is not dict:
        raise ArchiveError(f'The archive must be a JSON object with "format": "{ARCHIVE_FORMAT}".')
    if document.get("format") != ARCHIVE_FORMAT:
        found = _show(document.get("format", _MISSING))
        raise ArchiveError(
            f"This is not a Huddle archive: its format is {found}, not {ARCHIVE_FORMAT!r}."
        )
    version = document.get("version", _MISSING)
    if version != ARCHIVE_VERSION or type(version) is not int:
        raise ArchiveError(
            f"The archive is version {_show(version)}; this Huddle reads version {ARCHIVE_VERSION}."
        )
    _check_fields(document, _ARCHIVE_FIELDS, "The archive")
    if "exported_at" in document:
        _time(document, "exported_at", "The archive")
    archive = _Archive()
    for key in ("sessions", "drills"):
        if type(document.get(key, [])) is not list:
            _bad(key, f"must be a list, not {_show(document[key])}")
    seen: dict[str, int] = {}
    for index, raw in enumerate(document.get("sessions", [])):
        incoming = _read_session(raw, f"sessions[{index}]", need_user=need_users)
        if incoming.id in seen:
            _bad(f"sessions[{index}].id", f"repeats the id of sessions[{seen[incoming.id]}]")
        seen[incoming.id] = index
        archive.sessions.append(incoming)
    seen = {}
    for index, raw in enumerate(document.get("drills", [])):
        drill = _read_drill(raw, f"drills[{index}]", need_user=need_users)
        if drill.id in seen:
            _bad(f"drills[{index}].id", f"repeats the id of drills[{seen[drill.id]}]")
        seen[drill.id] = index
        archive.drills.append(drill)
    return archive


# ------------------------------------------------------- writing archives


def _owners(
    session: Session, model: type[ChatSession] | type[Drill], ids: Iterable[str]
) -> dict[str, int]:
    """Who owns each of these ids now; ids nobody has are absent."""
    owners: dict[str, int] = {}
    for chunk in _chunks(sorted(set(ids)), _PAGE):
        owners.update(
            session.execute(select(model.id, model.user_id).where(model.id.in_(chunk))).all()
        )
    return owners


def _moved_id(record_id: str, user_id: int) -> str:
    return str(uuid.uuid5(_MOVED_ID_NAMESPACE, f"{record_id}/{user_id}"))


def _place(
    session: Session,
    model: type[ChatSession] | type[Drill],
    records: Sequence[_IncomingSession] | Sequence[_IncomingDrill],
) -> None:
    """Give each incoming record its final id, and say whether it is new or already there.

    An id nobody has is kept; one the same coach has means the record is already
    there; one another coach has moves to a derived id, the same one every time,
    so importing the archive again finds it instead of adding a copy.
    """
    archive_ids = {record.id for record in records}
    pending = {index: record.id for index, record in enumerate(records)}
    for _ in range(_MOVE_ROUNDS):
        owners = _owners(session, model, pending.values())
        still: dict[int, str] = {}
        for index, candidate in pending.items():
            record = records[index]
            owner = owners.get(candidate)
            if candidate != record.id and candidate in archive_ids:
                still[index] = _moved_id(candidate, record.owner)  # never another record's id
            elif owner is None or owner == record.owner:
                record.final_id, record.new = candidate, owner is None
            else:
                still[index] = _moved_id(candidate, record.owner)
        pending = still
        if not pending:
            return
    for index in pending:  # only an archive built to chase derived ids gets here
        records[index].final_id, records[index].new = new_id(), True


def _give_owners(session: Session, archive: _Archive, as_user: str | None) -> list[str]:
    """Set each record's owner from its username, creating missing users without a password
    (they cannot log in until one is set); returns their names. `as_user` owns everything.
    """
    records = [*archive.sessions, *archive.drills]
    if as_user is not None:
        user_id = session.scalar(select(User.id).where(User.username == as_user))
        if user_id is None:
            raise NotFound(f"There is no user {as_user!r}.")
        for record in records:
            record.owner = user_id
        return []
    names = sorted({str(record.username) for record in records})
    known: dict[str, int] = {}
    for chunk in _chunks(names, _PAGE):
        known.update(
            session.execute(select(User.username, User.id).where(User.username.in_(chunk))).all()
        )
    missing = [name for name in names if name not in known]
    if missing:
        now = utcnow()
        session.execute(
            insert(User),
            [
                {
                    "username": name,
                    "name": name,
                    "email": "",
                    "password_hash": None,
                    "role": "coach",
                    "created_at": now,
                }
                for name in missing
            ],
        )
        for chunk in _chunks(missing, _PAGE):
            known.update(
                session.execute(
                    select(User.username, User.id).where(User.username.in_(chunk))
                ).all()
            )
    for record in records:
        record.owner = known[str(record.username)]
    return missing


def _link(
    ref: str | None,
    owner: int,
    placed: dict[str, _IncomingSession] | dict[str, _IncomingDrill],
    outside: dict[str, int],
) -> str | None:
    """Where a reference points after import: kept only if it reaches the same coach's record."""
    if ref is None:
        return None
    if ref in placed:
        target, target_owner = placed[ref].final_id, placed[ref].owner
    else:
        target, target_owner = ref, outside.get(ref)
    return target if target_owner == owner else None


def _write_rows(
    store: ConversationStore, session: Session, archive: _Archive, as_user: str | None
) -> ImportResult:
    created = _give_owners(session, archive, as_user)
    _place(session, ChatSession, archive.sessions)
    _place(session, Drill, archive.drills)
    sessions = {incoming.id: incoming for incoming in archive.sessions}
    drills = {incoming.id: incoming for incoming in archive.drills}
    # References to records outside the archive stay only if the coach owns them.
    outside_drills = _owners(
        session,
        Drill,
        {s.drill_ref for s in archive.sessions if s.drill_ref and s.drill_ref not in drills},
    )
    outside_sessions = _owners(
        session,
        ChatSession,
        {d.source_ref for d in archive.drills if d.source_ref and d.source_ref not in sessions},
    )

    batch = BulkBatch()
    for incoming in archive.sessions:
        if not incoming.new:
            continue
        final_id, owner = incoming.final_id, incoming.owner
        batch.sessions.append(
            {
                **incoming.row,
                "id": final_id,
                "user_id": owner,
                "drill_id": _link(incoming.drill_ref, owner, drills, outside_drills),
            }
        )
        batch.tags.extend({"session_id": final_id, "tag": tag} for tag in incoming.tags)
        for row in incoming.messages:
            row["session_id"] = final_id
            row["user_id"] = owner
        for row in incoming.tool_calls:
            row["session_id"] = final_id
            row["user_id"] = owner
        batch.messages.extend(incoming.messages)
        batch.tool_calls.extend(incoming.tool_calls)
    for incoming in archive.drills:
        if incoming.new:
            source = _link(incoming.source_ref, incoming.owner, sessions, outside_sessions)
            batch.drills.append(
                {
                    **incoming.row,
                    "id": incoming.final_id,
                    "user_id": incoming.owner,
                    "source_session_id": source,
                }
            )
    store.insert_bulk(batch, session=session)
    return ImportResult(
        sessions_added=len(batch.sessions),
        sessions_skipped=len(archive.sessions) - len(batch.sessions),
        messages_added=len(batch.messages),
        tool_calls_added=len(batch.tool_calls),
        drills_added=len(batch.drills),
        drills_skipped=len(archive.drills) - len(batch.drills),
        users_created=created,
    )


def import_archive(
    store: ConversationStore,
    source: str | bytes | Path | BinaryIO | TextIO,
    *,
    as_user: str | None = None,
) -> ImportResult:
    """Import a JSON archive whole or not at all.

    `source` is the archive's text (str or bytes), a Path to a file, or an open
    file. The whole archive is validated before anything is written; a problem
    raises ArchiveError naming what and where. Sessions and drills are matched
    by id: one the coach already has is skipped, one another coach has is
    imported under a new id. `as_user` gives every session and drill to that
    user instead of the users the archive names.
    """
    archive = _read_archive(source, need_users=as_user is None)
    try:
        with store.db.writing() as session:
            return _write_rows(store, session, archive, as_user)
    except IntegrityError as exc:
        # Only a concurrent writer of the same ids (or a rule this module missed)
        # gets here; the transaction is rolled back either way.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ArchiveError(
            f"The database refused the archive ({reason}); nothing was imported."
        ) from exc


# ------------------------------------------------------------------- CSV


def _spreadsheet_cell(value: Any) -> Any:
    if value is None:
        return ""
    if type(value) is str and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(
    store: ConversationStore,
    user_id: int,
    out: TextIO,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> int:
    """One row per message of the chosen sessions; returns how many rows were written.

    RFC 4180 quoting (CRLF line ends, so open files with newline=""). Made for
    spreadsheets: any text cell that one would run as a formula (starting with
    = + - @, tab or carriage return) gets a leading apostrophe. The JSON archive
    is the lossless format.
    """
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for chat in _selected_sessions(store, user_id, session_ids, query):
        tags = "; ".join(chat.tag_names)
        for batch in _message_batches(store, user_id, chat.id):
            writer.writerows(
                [
                    _spreadsheet_cell(value)
                    for value in (
                        chat.id,
                        chat.title,
                        chat.kind,
                        message.seq,
                        message.role,
                        format_time(message.created_at),
                        message.content,
                        message.word_count,
                        message.status,
                        message.model,
                        message.input_tokens,
                        message.output_tokens,
                        "; ".join(call.name for call in calls),
                        tags,
                    )
                ]
                for message, calls in batch
            )
            rows += len(batch)
    return rows


def csv_bytes(
    store: ConversationStore,
    user_id: int,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> bytes:
    """The CSV as UTF-8 bytes, for a download button."""
    buffer = io.StringIO(newline="")
    write_csv(store, user_id, buffer, session_ids=session_ids, query=query)
    return buffer.getvalue().encode("utf-8")


# -------------------------------------------------------------- Markdown

_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>~])")


def _inline(text: str) -> str:
    """Text shown as itself inside a Markdown line (a title, a tag), not as markup."""
    return _INLINE_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _fence(text: str, info: str = "") -> str:
    """A fenced block that no run of backticks inside `text` can close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marker = "`" * max(3, longest + 1)
    return f"{marker}{info}\n{text}\n{marker}\n"


def _close_open_fence(text: str) -> str:
    """Close a code fence a message left open, so it cannot swallow what follows it."""
    if "```" not in text and "~~~" not in text:
        return text
    opened: str | None = None
    for line in text.splitlines():
        match = _FENCE_LINE.match(line)
        if match is None:
            continue
        marker, rest = match.groups()
        if opened is None:
            # A backtick fence's info string cannot hold a backtick (CommonMark).
            if not (marker[0] == "`" and "`" in rest):
                opened = marker
        elif marker[0] == opened[0] and len(marker) >= len(opened) and not rest.strip():
            opened = None
    return text if opened is None else f"{text}\n{opened}"


def _output_block(output: str) -> str:
    try:
        parsed = json.loads(output)
    except ValueError:
        return _fence(output, "text")
    return _fence(json.dumps(parsed, ensure_ascii=False, indent=2), "json")


def _tool_call_markdown(call: ToolCall) -> str:
    summary = f"Tool call: {html.escape(call.name)}"
    if call.is_error:
        summary += " (error)"
    if call.duration_ms is not None:
        summary += f" · {call.duration_ms} ms"
    return (
        f"<details>\n<summary>{summary}</summary>\n\nInput:\n\n"
        f"{_fence(json.dumps(call.input, ensure_ascii=False, indent=2), 'json')}\n"
        f"Output:\n\n{_output_block(call.output)}\n</details>\n"
    )


def _session_markdown(store: ConversationStore, chat: ChatSession) -> Iterator[str]:
    facts = [chat.kind, f"created {_human_time(chat.created_at)}", f"{chat.message_count} messages"]
    if chat.model:
        facts.append(f"model {chat.model}")
    if chat.tag_names:
        facts.append("tags: " + ", ".join(chat.tag_names))
    if chat.archived:
        facts.append("archived")
    yield f"# {_inline(chat.title)}\n\n*{_inline(' · '.join(facts))}*\n"
    for batch in _message_batches(store, chat.user_id, chat.id):
        for message, calls in batch:
            # A tool message only carries tool results, shown with the assistant's calls.
            if message.role == "tool" and not message.content.strip() and not calls:
                continue
            yield f"\n## {message.role.capitalize()} · {_human_time(message.created_at)}\n"
            if message.content.strip():
                yield "\n" + _close_open_fence(message.content.strip("\n")) + "\n"
            if message.status != "complete":
                reason = f": {_inline(message.error)}" if message.error else ""
                yield f"\n> *Reply {message.status}{reason}*\n"
            for call in calls:
                yield "\n" + _tool_call_markdown(call)
    loose = _calls_without_message(store, chat.user_id, chat.id)
    if loose:
        yield "\n## Tool calls without a message\n"
        for call in loose:
            yield "\n" + _tool_call_markdown(call)


def session_markdown(store: ConversationStore, user_id: int, session_id: str) -> str:
    """One session as Markdown; another coach's session is NotFound, like a missing one."""
    chat = store.get_session(user_id, session_id)
    return "".join(_session_markdown(store, chat))


def _file_name(chat: ChatSession, taken: set[str]) -> str:
    """A safe file name from the title: date, letters and digits, dashes; unique in `taken`."""
    stem = re.sub(r"[\W_]+", "-", chat.title.lower()).strip("-")[:60].rstrip("-") or "session"
    base = f"{chat.created_at:%Y-%m-%d}-{stem}"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    taken.add(name)
    return f"{name}.md"


def write_markdown_zip(
    store: ConversationStore,
    user_id: int,
    out: BinaryIO,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> int:
    """A zip with one Markdown file per chosen session; returns how many files it holds."""
    taken: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for chat in _selected_sessions(store, user_id, session_ids, query):
            bundle.writestr(_file_name(chat, taken), "".join(_session_markdown(store, chat)))
    return len(taken)


def markdown_bytes(
    store: ConversationStore,
    user_id: int,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> bytes:
    """The Markdown zip as bytes, for a download button."""
    buffer = io.BytesIO()
    write_markdown_zip(store, user_id, buffer, session_ids=session_ids, query=query)
    return buffer.getvalue()


def _bullets(items: Iterable[str], numbered: bool = False) -> str:
    return "".join(
        f"{f'{index}.' if numbered else '-'} {item.strip().replace(chr(10), chr(10) + '   ')}\n"
        for index, item in enumerate(items, start=1)
    )


def drill_markdown(drill: Drill) -> str:
    """A drill card as Markdown, for the drill page's download."""
    facts = [
        f"**{label}:** {_inline(str(value))}"
        for label, value in (
            ("Sport", drill.sport),
            ("Age group", drill.age_group),
            ("Players", drill.players),
            ("Duration", f"{drill.duration_min} min" if drill.duration_min else ""),
        )
        if value
    ]
    parts = [f"# {_inline(drill.title)}\n"]
    if facts:
        parts.append("\n" + " · ".join(facts) + "\n")
    sections = (
        ("Objective", _close_open_fence(drill.objective.strip())),
        ("Equipment", _bullets(drill.equipment)),
        ("Setup", _close_open_fence(drill.setup.strip())),
        ("Steps", _bullets(drill.steps, numbered=True)),
        ("Coaching points", _bullets(drill.coaching_points)),
        ("Progressions", _bullets(drill.progressions)),
    )
    for heading, body in sections:
        if body:
            parts.append(f"\n## {heading}\n\n{body.rstrip()}\n")
    if drill.tags:
        parts.append(f"\n*Tags: {_inline(', '.join(drill.tags))}*\n")
    return "".join(parts)
