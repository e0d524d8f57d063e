"""The JSON archive back into Huddle: read, validate whole, then import in one transaction."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO

from core.archive_fields import (
    ARCHIVE_FIELDS,
    DRILL_FIELDS,
    DRILL_LIST_ITEM_CHARS,
    DRILL_LIST_ITEMS,
    DRILL_NUMBER_MAX,
    DRILL_TEXT_LIMITS,
    INT_MAX,
    MESSAGE_FIELDS,
    MISSING,
    ROLES,
    SESSION_FIELDS,
    STATUSES,
    bad,
    check_fields,
    choice,
    field_value,
    flag,
    json_object,
    read_tags,
    read_tool_calls,
    record_id,
    show,
    string_list,
    text_field,
    time_field,
    username_field,
    whole_number,
)
from core.archive_out import ARCHIVE_FORMAT, ARCHIVE_VERSION
from core.archive_rows import (
    ImportResult,
    IncomingArchive,
    IncomingDrill,
    IncomingSession,
    session_row,
    write_incoming,
)
from core.archive_schema import Refused, decode_archive
from core.errors import ArchiveError
from core.export_batches import without_cycle_collection
from core.models import (
    DRILL_INT_FIELDS,
    DRILL_LIST_FIELDS,
    MESSAGE_ROLES,
    MESSAGE_STATUSES,
    SESSION_KINDS,
    utcnow,
)
from core.store import MAX_STORED_CHARS, MAX_TITLE_CHARS, ConversationStore
from core.text import count_words

# JSON can carry a NUL or half a surrogate pair only as a \u escape; finding
# none in the raw text spares walking every string of the parsed archive.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_SUSPECT_ESCAPE_BYTES = re.compile(_SUSPECT_ESCAPE.pattern.encode())


def _read_message(raw: Any, where: str, seq: int) -> dict[str, Any]:
    """One message as a row. This runs for every message of an archive, so each field is
    checked inline first; only a value that fails goes to the helper that explains why.
    """
    if type(raw) is not dict or not raw.keys() <= MESSAGE_FIELDS:
        check_fields(raw, MESSAGE_FIELDS, where)
    get = raw.get
    value = get("seq", MISSING)
    if value != seq or type(value) is not int:
        field_value(raw, "seq", where, MISSING)  # a missing seq says so
        bad(
            f"{where}.seq",
            f"is {show(value)} but must be {seq}: seq numbers run 1, 2, 3 … without gaps "
            "or repeats, in order",
        )
    role = get("role")
    if type(role) is not str or role not in ROLES:
        role = choice(raw, "role", where, MESSAGE_ROLES)
    content = get("content", "")
    if type(content) is not str or len(content) > MAX_STORED_CHARS:
        content = text_field(raw, "content", where, max_chars=MAX_STORED_CHARS, default="")
    status = get("status", "complete")
    if type(status) is not str or status not in STATUSES:
        status = choice(raw, "status", where, MESSAGE_STATUSES)
    error = get("error")
    if error is not None and (type(error) is not str or len(error) > MAX_STORED_CHARS):
        error = text_field(raw, "error", where, max_chars=MAX_STORED_CHARS, nullable=True)
    model = get("model")
    if model is not None and (type(model) is not str or len(model) > 100):
        model = text_field(raw, "model", where, max_chars=100, nullable=True)
    counts = []
    # first_token_ms is optional: archives written before it was measured have none.
    for key in ("input_tokens", "output_tokens", "latency_ms", "first_token_ms"):
        number = get(key)
        if number is not None and (type(number) is not int or not 0 <= number <= INT_MAX):
            number = whole_number(raw, key, where)
        counts.append(number)
    blocks = get("blocks")
    if blocks is not None and type(blocks) is not list and type(blocks) is not dict:
        bad(f"{where}.blocks", f"must be a list of content blocks or null, not {show(blocks)}")
    metadata = get("metadata", {})
    if type(metadata) is not dict:
        metadata = json_object(raw, "metadata", where)
    created_at = get("created_at")
    try:
        created_at = datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        created_at = time_field(raw, "created_at", where)
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
        "first_token_ms": counts[3],
        "created_at": created_at,
        "metadata": metadata,
    }


def _read_session(raw: Any, where: str, *, need_user: bool) -> IncomingSession:
    obj = check_fields(raw, SESSION_FIELDS, where)
    session_id = record_id(obj, "id", where)
    username = username_field(obj, where, required=need_user)
    created_at = time_field(obj, "created_at", where)
    title = text_field(obj, "title", where, max_chars=MAX_TITLE_CHARS * 2, required_text=True)
    title = " ".join(title.split())  # as the store cleans every title
    if len(title) > MAX_TITLE_CHARS:
        bad(f"{where}.title", f"is longer than {MAX_TITLE_CHARS} characters")
    raw_messages = obj.get("messages", [])
    if type(raw_messages) is not list:
        bad(f"{where}.messages", f"must be a list, not {show(raw_messages)}")
    messages: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    for index, raw_message in enumerate(raw_messages):
        at = f"{where}.messages[{index}]"
        message = _read_message(raw_message, at, index + 1)
        messages.append(message)
        if raw_message.get("tool_calls", []) != []:
            tool_calls.extend(
                read_tool_calls(raw_message, "tool_calls", at, message["created_at"], index + 1)
            )
    tool_calls.extend(read_tool_calls(obj, "tool_calls_without_message", where, created_at, None))
    row = session_row(
        messages,
        kind=choice(obj, "kind", where, SESSION_KINDS, "chat"),
        title=title,
        title_source=choice(obj, "title_source", where, ("auto", "user"), "auto"),
        model=text_field(obj, "model", where, max_chars=100, default=None, nullable=True),
        pinned=flag(obj, "pinned", where),
        archived=flag(obj, "archived", where),
        metadata=json_object(obj, "metadata", where),
        created_at=created_at,
        updated_at=time_field(obj, "updated_at", where, created_at),
    )
    return IncomingSession(
        id=session_id,
        username=username,
        drill_ref=record_id(obj, "drill_id", where, nullable=True),
        row=row,
        tags=read_tags(obj, where),
        messages=messages,
        tool_calls=tool_calls,
    )


def _read_drill(raw: Any, where: str, *, need_user: bool) -> IncomingDrill:
    obj = check_fields(raw, DRILL_FIELDS, where)
    drill_id = record_id(obj, "id", where)
    created_at = time_field(obj, "created_at", where, utcnow())
    row: dict[str, Any] = {
        name: text_field(
            obj, name, where, max_chars=limit, default="", required_text=name == "title"
        )
        for name, limit in DRILL_TEXT_LIMITS.items()
    }
    for name in DRILL_INT_FIELDS:
        row[name] = whole_number(obj, name, where, low=1, high=DRILL_NUMBER_MAX)
    for name in DRILL_LIST_FIELDS:
        row[name] = string_list(
            obj, name, where, max_items=DRILL_LIST_ITEMS, max_chars=DRILL_LIST_ITEM_CHARS
        )
    row["created_at"] = created_at
    row["updated_at"] = time_field(obj, "updated_at", where, created_at)
    return IncomingDrill(
        id=drill_id,
        username=username_field(obj, where, required=need_user),
        source_ref=record_id(obj, "source_session_id", where, nullable=True),
        row=row,
    )


def _source_bytes(source: str | bytes | Path | BinaryIO | TextIO) -> bytes | str:
    """The archive as read: a str is the JSON itself; a Path is a file to read."""
    if isinstance(source, Path):
        try:
            return source.read_bytes()
        except OSError as exc:
            raise ArchiveError(f"The archive {source} cannot be read: {exc.strerror}.") from exc
    if isinstance(source, str | bytes):
        return source
    if isinstance(source, bytearray | memoryview):
        return bytes(source)
    data = source.read()
    return bytes(data) if isinstance(data, bytearray | memoryview) else data


def _source_text(data: bytes | str) -> str:
    """The archive's text from its bytes (UTF-8, a byte-order mark allowed)."""
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ArchiveError(
                f"The archive is not UTF-8 text (an invalid byte at position {exc.start:,})."
            ) from exc
    if not isinstance(data, str):
        raise ArchiveError("The archive must be JSON text.")
    return data.removeprefix("\ufeff")


def read_archive_bytes(data: bytes, *, need_users: bool) -> IncomingArchive | None:
    """The archive's rows by the schema (core.archive_schema) in one pass, or None when the
    schema or one of its rules refuses it: then the field-by-field reader must say why.
    """
    if _SUSPECT_ESCAPE_BYTES.search(data):
        return None  # a NUL or half a surrogate pair, perhaps: the reader looks closer
    try:
        return decode_archive(data, need_users=need_users)
    except Refused:
        return None


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str, what: str = "The archive") -> Any:
    """The parsed JSON; broken JSON is one ArchiveError sentence about `what`."""
    if not text.strip():
        raise ArchiveError(f"{what} is empty.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise ArchiveError(
                f"{what} ends too early (line {exc.lineno:,}, column {exc.colno:,}); "
                "the file looks cut short."
            ) from None
        raise ArchiveError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno:,}, column {exc.colno:,}."
        ) from None
    except RecursionError:
        raise ArchiveError(f"{what} nests JSON too deeply to be read.") from None
    except ValueError as exc:
        raise ArchiveError(f"{what} is not valid JSON: {exc}.") from None


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
            # A key that is not a plain name is shown quoted, its control characters escaped,
            # so the sentence stays one line.
            name = key if key.isidentifier() else json.dumps(key)
            if found := _find_unstorable(key, f"{where} (a key)") or _find_unstorable(
                item, f"{where}.{name}" if where else name
            ):
                return found
    return None


def _read_archive(
    source: str | bytes | Path | BinaryIO | TextIO, *, need_users: bool
) -> IncomingArchive:
    """Parse and validate the whole archive; the first problem stops it with one sentence."""
    data = _source_bytes(source)
    if isinstance(data, bytes) and (fast := read_archive_bytes(data, need_users=need_users)):
        return fast
    text = _source_text(data)
    del data
    return read_archive_document(parse_json(text), text, need_users=need_users)


def read_archive_document(document: Any, text: str, *, need_users: bool) -> IncomingArchive:
    """Validate a parsed archive (`text` is the JSON it was parsed from) into import rows."""
    if _SUSPECT_ESCAPE.search(text):
        try:
            found = _find_unstorable(document, "")
        except RecursionError:
            raise ArchiveError("The archive nests JSON too deeply to be read.") from None
        if found:
            bad(found[0] or "The archive", found[1])
    if type(document) is not dict:
        raise ArchiveError(f'The archive must be a JSON object with "format": "{ARCHIVE_FORMAT}".')
    if document.get("format") != ARCHIVE_FORMAT:
        found = show(document.get("format", MISSING))
        raise ArchiveError(
            f"This is not a Huddle archive: its format is {found}, not {ARCHIVE_FORMAT!r}."
        )
    version = document.get("version", MISSING)
    if version != ARCHIVE_VERSION or type(version) is not int:
        raise ArchiveError(
            f"The archive is version {show(version)}; this Huddle reads version {ARCHIVE_VERSION}."
        )
    check_fields(document, ARCHIVE_FIELDS, "The archive")
    if "exported_at" in document:
        time_field(document, "exported_at", "The archive")
    archive = IncomingArchive()
    for key in ("sessions", "drills"):
        if type(document.get(key, [])) is not list:
            bad(key, f"must be a list, not {show(document[key])}")
    seen: dict[str, int] = {}
    for index, raw in enumerate(document.get("sessions", [])):
        incoming = _read_session(raw, f"sessions[{index}]", need_user=need_users)
        if incoming.id in seen:
            bad(f"sessions[{index}].id", f"repeats the id of sessions[{seen[incoming.id]}]")
        seen[incoming.id] = index
        archive.sessions.append(incoming)
    seen = {}
    for index, raw in enumerate(document.get("drills", [])):
        drill = _read_drill(raw, f"drills[{index}]", need_user=need_users)
        if drill.id in seen:
            bad(f"drills[{index}].id", f"repeats the id of drills[{seen[drill.id]}]")
        seen[drill.id] = index
        archive.drills.append(drill)
    return archive


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
    with without_cycle_collection():
        archive = _read_archive(source, need_users=as_user is None)
        return write_incoming(store, archive, as_user)
