"""The JSON archive declared once as typed structs: msgspec decodes and validates it in one
pass, straight from the file's bytes, and docs/archive.schema.json is generated from it.

The schema is the archive as Huddle writes it: every field's type, length, range and
choices, required and unknown fields. The rules no JSON Schema can state (seq numbers
1, 2, 3 … in order; no id twice) are checked while the rows are built, and texts with a
NUL or half a surrogate pair are screened in the raw JSON by the caller. When anything
refuses, core.archive_in reads the archive again with its field-by-field reader, which
names where the problem is and what is wrong in one sentence. That reader also takes a
little more than this schema: what a hand-made archive may hold (a time without seconds,
a title padded past 200 characters by runs of spaces, more than 20 tags that are fewer
once trimmed and lower-cased), which it cleans as the store would.

docs/archive.schema.json is this schema: `python -m core.archive_schema > docs/archive.schema.json`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from core.archive_fields import (
    DRILL_LIST_ITEM_CHARS,
    DRILL_LIST_ITEMS,
    DRILL_NUMBER_MAX,
    INT_MAX,
)
from core.archive_out import ARCHIVE_FORMAT, ARCHIVE_VERSION
from core.archive_rows import IncomingArchive, IncomingDrill, IncomingSession, session_row
from core.errors import ValidationError
from core.models import utcnow
from core.session_list import MAX_TAG_CHARS, MAX_TAGS, clean_tag
from core.store import MAX_STORED_CHARS, MAX_TITLE_CHARS, USERNAME_PATTERN
from core.text import count_words

# Text with something other than spaces in it (Python's re.search, as msgspec runs it, and
# ECMA-262's, as JSON Schema validators run it, agree on \S).
_NOT_BLANK = r"\S"
Stored = Annotated[str, Meta(max_length=MAX_STORED_CHARS)]
Short = Annotated[str, Meta(max_length=100)]
Count = Annotated[int, Meta(ge=0, le=INT_MAX)]
RecordId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=36,
        pattern=r"^\S(?:[\s\S]*\S)?$",
        description="1 to 36 characters, like a UUID, without spaces around it",
    ),
]
Username = Annotated[str, Meta(pattern=USERNAME_PATTERN.pattern)]
Time = Annotated[
    datetime,
    Meta(
        description="RFC 3339; a time without a zone is UTC, as everywhere in Huddle",
        # What msgspec decodes as a datetime, for validators of the JSON Schema.
        extra_json_schema={
            "format": "date-time",
            "pattern": r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$",
        },
    ),
]
Role = Literal["user", "assistant", "tool", "system"]
Status = Literal["complete", "partial", "error"]
Kind = Literal["chat", "drill"]
Tag = Annotated[str, Meta(max_length=MAX_TAG_CHARS, pattern=_NOT_BLANK)]
ListItem = Annotated[str, Meta(max_length=DRILL_LIST_ITEM_CHARS)]
DrillList = Annotated[list[ListItem], Meta(max_length=DRILL_LIST_ITEMS)]
DrillNumber = Annotated[int, Meta(ge=1, le=DRILL_NUMBER_MAX)]


class ArchiveToolCall(Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """A tool the assistant called; created_at defaults to its message's time."""

    name: Annotated[str, Meta(max_length=100, pattern=_NOT_BLANK)]
    tool_use_id: Short = ""
    input: Any = None
    output: Stored = ""
    is_error: bool = False
    duration_ms: Count | None = None
    created_at: Time | UnsetType = UNSET


class ArchiveMessage(Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    seq: Annotated[int, Meta(ge=1, le=INT_MAX, description="1, 2, 3 … in order, no gaps")]
    role: Role
    created_at: Time
    content: Stored = ""
    status: Status = "complete"
    error: Stored | None = None
    model: Short | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    latency_ms: Count | None = None
    first_token_ms: Count | None = None
    blocks: list[Any] | dict[str, Any] | None = None
    metadata: dict[str, Any] = {}
    tool_calls: list[ArchiveToolCall] = []


class ArchiveSession(Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    id: RecordId
    title: Annotated[str, Meta(max_length=MAX_TITLE_CHARS, pattern=_NOT_BLANK)]
    created_at: Time
    user: Username | UnsetType = UNSET
    kind: Kind = "chat"
    title_source: Literal["auto", "user"] = "auto"
    updated_at: Time | UnsetType = UNSET
    pinned: bool = False
    archived: bool = False
    tags: Annotated[list[Tag], Meta(max_length=MAX_TAGS)] = []
    model: Short | None = None
    metadata: dict[str, Any] = {}
    drill_id: RecordId | None = None
    messages: list[ArchiveMessage] = []
    tool_calls_without_message: list[ArchiveToolCall] = []


class ArchiveDrill(Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    id: RecordId
    title: Annotated[str, Meta(max_length=200, pattern=_NOT_BLANK)]
    user: Username | UnsetType = UNSET
    sport: Annotated[str, Meta(max_length=64)] = ""
    objective: Annotated[str, Meta(max_length=20_000)] = ""
    age_group: Annotated[str, Meta(max_length=64)] = ""
    setup: Annotated[str, Meta(max_length=20_000)] = ""
    players: DrillNumber | None = None
    duration_min: DrillNumber | None = None
    equipment: DrillList = []
    steps: DrillList = []
    coaching_points: DrillList = []
    progressions: DrillList = []
    tags: DrillList = []
    source_session_id: RecordId | None = None
    created_at: Time | UnsetType = UNSET
    updated_at: Time | UnsetType = UNSET


class HuddleArchive(Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """A Huddle archive (docs/DESIGN.md, "Archive format")."""

    format: Literal["huddle-archive"]
    version: Literal[1]
    exported_at: Time | UnsetType = UNSET
    sessions: list[ArchiveSession] = []
    drills: list[ArchiveDrill] = []


assert ARCHIVE_FORMAT == "huddle-archive" and ARCHIVE_VERSION == 1  # the Literals above

DECODER = msgspec.json.Decoder(HuddleArchive)


class Refused(Exception):
    """The fast path does not take this archive; the field-by-field reader says why."""


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC) if moment.utcoffset() else moment


def _tool_calls(
    calls: list[ArchiveToolCall], default_time: datetime, message_seq: int | None
) -> list[dict[str, Any]]:
    return [
        {
            "tool_use_id": call.tool_use_id,
            "name": call.name,
            "input": call.input,
            "output": call.output,
            "is_error": call.is_error,
            "duration_ms": call.duration_ms,
            "created_at": default_time if call.created_at is UNSET else _utc(call.created_at),
            "message_seq": message_seq,
        }
        for call in calls
    ]


def _session(raw: ArchiveSession, need_user: bool) -> IncomingSession:
    if need_user and raw.user is UNSET:
        raise Refused
    raw_tags = raw.tags
    try:
        tags = sorted({clean_tag(tag) for tag in raw_tags}) if raw_tags else []
    except ValidationError as exc:  # a tag the store would refuse (invisible characters only)
        raise Refused from exc
    created_at = _utc(raw.created_at)
    messages: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    for seq, message in enumerate(raw.messages, 1):
        if message.seq != seq:
            raise Refused
        moment = message.created_at
        if moment.tzinfo is not UTC:
            moment = _utc(moment)
        content = message.content
        messages.append(
            {
                "seq": seq,
                "role": message.role,
                "content": content,
                "blocks": message.blocks,
                "status": message.status,
                "error": message.error,
                "model": message.model,
                "input_tokens": message.input_tokens,
                "output_tokens": message.output_tokens,
                "word_count": count_words(content),
                "latency_ms": message.latency_ms,
                "first_token_ms": message.first_token_ms,
                "created_at": moment,
                "metadata": message.metadata,
            }
        )
        if message.tool_calls:
            tool_calls.extend(_tool_calls(message.tool_calls, moment, seq))
    tool_calls.extend(_tool_calls(raw.tool_calls_without_message, created_at, None))
    row = session_row(
        messages,
        kind=raw.kind,
        title=" ".join(raw.title.split()),  # as the store cleans every title
        title_source=raw.title_source,
        model=raw.model,
        pinned=raw.pinned,
        archived=raw.archived,
        metadata=raw.metadata,
        created_at=created_at,
        updated_at=created_at if raw.updated_at is UNSET else _utc(raw.updated_at),
    )
    return IncomingSession(
        id=raw.id,
        username=None if raw.user is UNSET else raw.user,
        drill_ref=raw.drill_id,
        row=row,
        tags=tags,
        messages=messages,
        tool_calls=tool_calls,
    )


def _drill(raw: ArchiveDrill, need_user: bool) -> IncomingDrill:
    if need_user and raw.user is UNSET:
        raise Refused
    created_at = utcnow() if raw.created_at is UNSET else _utc(raw.created_at)
    row: dict[str, Any] = {
        name: getattr(raw, name)
        for name in (
            "title",
            "sport",
            "objective",
            "age_group",
            "setup",
            "players",
            "duration_min",
            "equipment",
            "steps",
            "coaching_points",
            "progressions",
            "tags",
        )
    }
    row["created_at"] = created_at
    row["updated_at"] = created_at if raw.updated_at is UNSET else _utc(raw.updated_at)
    return IncomingDrill(
        id=raw.id,
        username=None if raw.user is UNSET else raw.user,
        source_ref=raw.source_session_id,
        row=row,
    )


def _unique(ids: list[str]) -> None:
    if len(set(ids)) != len(ids):
        raise Refused


def decode_archive(data: bytes, *, need_users: bool) -> IncomingArchive:
    """The archive's import rows, or Refused for anything the schema or a rule refuses.

    `data` is the file's UTF-8 bytes (a byte-order mark is allowed). Texts holding a NUL
    or half a surrogate pair arrive only as \\u escapes, which the caller screens for.
    """
    try:
        document = DECODER.decode(data.removeprefix(b"\xef\xbb\xbf"))
    except (msgspec.DecodeError, RecursionError) as exc:
        raise Refused from exc
    sessions = [_session(raw, need_users) for raw in document.sessions]
    drills = [_drill(raw, need_users) for raw in document.drills]
    _unique([incoming.id for incoming in sessions])
    _unique([incoming.id for incoming in drills])
    return IncomingArchive(sessions=sessions, drills=drills)


def json_schema() -> dict[str, Any]:
    """The archive's JSON Schema (draft 2020-12), as written to docs/archive.schema.json."""
    schema = msgspec.json.schema(HuddleArchive)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://huddle.example/archive.schema.json",
        "title": "Huddle archive",
        "description": (
            "What `python -m core export` writes and `python -m core import` reads. Beyond "
            "this schema the importer checks that each session's messages have seq 1, 2, 3 … "
            "in order, that no session id and no drill id appears twice, and that no text "
            "holds a NUL character or half of a surrogate pair."
        ),
        **schema,
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(schema_text())
