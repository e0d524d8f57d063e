"""The archive schema of core/archive_schema.py once more as pydantic v2 models, only to time
the two libraries on the same archive (Huddle decodes with msgspec, which was faster here).

Same fields, types, lengths, ranges, choices, unknown fields refused, strict types (no
"1" for 1): what each library checks in its one pass over the bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.archive_fields import DRILL_LIST_ITEM_CHARS, DRILL_LIST_ITEMS, DRILL_NUMBER_MAX, INT_MAX
from core.session_list import MAX_TAG_CHARS, MAX_TAGS
from core.store import MAX_STORED_CHARS, MAX_TITLE_CHARS, USERNAME_PATTERN

_NOT_BLANK = r"\S"
Stored = Annotated[str, Field(max_length=MAX_STORED_CHARS)]
Short = Annotated[str, Field(max_length=100)]
Count = Annotated[int, Field(ge=0, le=INT_MAX)]
RecordId = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^\S(?:[\s\S]*\S)?$")]
Username = Annotated[str, Field(pattern=USERNAME_PATTERN.pattern)]
DrillList = Annotated[
    list[Annotated[str, Field(max_length=DRILL_LIST_ITEM_CHARS)]],
    Field(max_length=DRILL_LIST_ITEMS),
]
DrillNumber = Annotated[int, Field(ge=1, le=DRILL_NUMBER_MAX)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ToolCall(_Strict):
    name: Annotated[str, Field(max_length=100, pattern=_NOT_BLANK)]
    tool_use_id: Short = ""
    input: Any = None
    output: Stored = ""
    is_error: bool = False
    duration_ms: Count | None = None
    created_at: datetime | None = None


class Message(_Strict):
    seq: Annotated[int, Field(ge=1, le=INT_MAX)]
    role: Literal["user", "assistant", "tool", "system"]
    created_at: datetime
    content: Stored = ""
    status: Literal["complete", "partial", "error"] = "complete"
    error: Stored | None = None
    model: Short | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    latency_ms: Count | None = None
    first_token_ms: Count | None = None
    blocks: list[Any] | dict[str, Any] | None = None
    metadata: dict[str, Any] = {}
    tool_calls: list[ToolCall] = []


class Session(_Strict):
    id: RecordId
    title: Annotated[str, Field(max_length=MAX_TITLE_CHARS, pattern=_NOT_BLANK)]
    created_at: datetime
    user: Username | None = None
    kind: Literal["chat", "drill"] = "chat"
    title_source: Literal["auto", "user"] = "auto"
    updated_at: datetime | None = None
    pinned: bool = False
    archived: bool = False
    tags: Annotated[
        list[Annotated[str, Field(max_length=MAX_TAG_CHARS, pattern=_NOT_BLANK)]],
        Field(max_length=MAX_TAGS),
    ] = []
    model: Short | None = None
    metadata: dict[str, Any] = {}
    drill_id: RecordId | None = None
    messages: list[Message] = []
    tool_calls_without_message: list[ToolCall] = []


class Drill(_Strict):
    id: RecordId
    title: Annotated[str, Field(max_length=200, pattern=_NOT_BLANK)]
    user: Username | None = None
    sport: Annotated[str, Field(max_length=64)] = ""
    objective: Annotated[str, Field(max_length=20_000)] = ""
    age_group: Annotated[str, Field(max_length=64)] = ""
    setup: Annotated[str, Field(max_length=20_000)] = ""
    players: DrillNumber | None = None
    duration_min: DrillNumber | None = None
    equipment: DrillList = []
    steps: DrillList = []
    coaching_points: DrillList = []
    progressions: DrillList = []
    tags: DrillList = []
    source_session_id: RecordId | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Archive(_Strict):
    format: Literal["huddle-archive"]
    version: Literal[1]
    exported_at: datetime | None = None
    sessions: list[Session] = []
    drills: list[Drill] = []
