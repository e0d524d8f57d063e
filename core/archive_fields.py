"""The field checks of the JSON archive reader: each bad value stops the import with
one sentence naming where it is (`sessions[3].messages[7].role must be one of …`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from core.errors import ArchiveError
from core.models import DRILL_INT_FIELDS, DRILL_LIST_FIELDS, MESSAGE_ROLES, MESSAGE_STATUSES
from core.store import MAX_STORED_CHARS, MAX_TAG_CHARS, MAX_TAGS, USERNAME_PATTERN, clean_tag

INT_MAX = 2**31 - 1  # PostgreSQL `integer`
# The drill columns' sizes, as the store checks them.
DRILL_TEXT_LIMITS = {
    "title": 200,
    "sport": 64,
    "objective": 20_000,
    "age_group": 64,
    "setup": 20_000,
}
DRILL_LIST_ITEM_CHARS = 2_000
DRILL_LIST_ITEMS = 1_000
DRILL_NUMBER_MAX = 10_000

MISSING: Any = object()
SESSION_FIELDS = frozenset(
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
MESSAGE_FIELDS = frozenset(
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
        "first_token_ms",
        "blocks",
        "metadata",
        "tool_calls",
    }
)
TOOL_CALL_FIELDS = frozenset(
    {"tool_use_id", "name", "input", "output", "is_error", "duration_ms", "created_at"}
)
DRILL_FIELDS = frozenset(
    {"id", "user", "source_session_id", "created_at", "updated_at"}
    | set(DRILL_TEXT_LIMITS)
    | set(DRILL_INT_FIELDS)
    | set(DRILL_LIST_FIELDS)
)
ARCHIVE_FIELDS = frozenset({"format", "version", "exported_at", "sessions", "drills"})
ROLES = frozenset(MESSAGE_ROLES)
STATUSES = frozenset(MESSAGE_STATUSES)


def bad(where: str, problem: str) -> NoReturn:
    raise ArchiveError(f"{where} {problem}.")


def show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not MISSING else "nothing"
    return text if len(text) <= 40 else text[:37] + "…"


def field_value(obj: dict[str, Any], key: str, where: str, default: Any) -> Any:
    value = obj.get(key, MISSING)
    if value is MISSING:
        if default is MISSING:
            bad(where, f"is missing {key!r}")
        return default
    return value


def check_fields(obj: Any, allowed: frozenset[str], where: str) -> dict[str, Any]:
    if type(obj) is not dict:
        bad(where, f"must be a JSON object, not {show(obj)}")
    unknown = obj.keys() - allowed
    if unknown:
        bad(where, f"has an unknown field {sorted(unknown)[0]!r}")
    return obj


def text_field(
    obj: dict[str, Any],
    key: str,
    where: str,
    *,
    max_chars: int,
    default: Any = MISSING,
    nullable: bool = False,
    required_text: bool = False,
) -> Any:
    value = field_value(obj, key, where, default)
    if value is None and nullable:
        return None
    if type(value) is not str:
        kind = "text or null" if nullable else "text"
        bad(f"{where}.{key}", f"must be {kind}, not {show(value)}")
    if len(value) > max_chars:
        bad(f"{where}.{key}", f"is {len(value):,} characters long; the limit is {max_chars:,}")
    if required_text and not value.strip():
        bad(f"{where}.{key}", "is empty")
    return value


def whole_number(
    obj: dict[str, Any], key: str, where: str, *, low: int = 0, high: int = INT_MAX
) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not int or not low <= value <= high:
        bad(
            f"{where}.{key}",
            f"must be a whole number from {low:,} to {high:,} or null, not {show(value)}",
        )
    return value


def flag(obj: dict[str, Any], key: str, where: str) -> bool:
    value = obj.get(key, False)
    if type(value) is not bool:
        bad(f"{where}.{key}", f"must be true or false, not {show(value)}")
    return value


def choice(
    obj: dict[str, Any], key: str, where: str, choices: Sequence[str], default: Any = MISSING
) -> str:
    value = field_value(obj, key, where, default)
    if value not in choices or type(value) is not str:
        bad(f"{where}.{key}", f"must be one of {', '.join(choices)}, not {show(value)}")
    return value


def time_field(obj: dict[str, Any], key: str, where: str, default: Any = MISSING) -> datetime:
    if key not in obj and default is not MISSING:
        return default
    value = field_value(obj, key, where, default)
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            # A time without a zone is UTC, as everywhere in Huddle.
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    bad(
        f"{where}.{key}",
        f"must be an ISO-8601 time such as 2026-11-21T10:00:00Z, not {show(value)}",
    )


def json_object(obj: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = obj.get(key, {})
    if type(value) is not dict:
        bad(f"{where}.{key}", f"must be a JSON object, not {show(value)}")
    return value


def record_id(obj: dict[str, Any], key: str, where: str, *, nullable: bool = False) -> Any:
    value = field_value(obj, key, where, None if nullable else MISSING)
    if value is None and nullable:
        return None
    if type(value) is not str or not 0 < len(value) <= 36 or value != value.strip():
        kind = "an id (1 to 36 characters, like a UUID)" + (" or null" if nullable else "")
        bad(f"{where}.{key}", f"must be {kind}, not {show(value)}")
    return value


def username_field(obj: dict[str, Any], where: str, *, required: bool) -> str | None:
    value = obj.get("user", MISSING)
    if value is MISSING:
        if required:
            bad(where, "is missing 'user' (or import it for one user with --user)")
        return None
    if type(value) is not str or not USERNAME_PATTERN.match(value):
        bad(
            f"{where}.user",
            f"must be a username (2 to 64 letters, digits, dots, dashes or underscores), "
            f"not {show(value)}",
        )
    return value


def string_list(
    obj: dict[str, Any], key: str, where: str, *, max_items: int, max_chars: int
) -> list[str]:
    value = obj.get(key, [])
    if type(value) is not list:
        bad(f"{where}.{key}", f"must be a list of text, not {show(value)}")
    if len(value) > max_items:
        bad(f"{where}.{key}", f"has {len(value):,} items; the limit is {max_items:,}")
    for index, item in enumerate(value):
        if type(item) is not str:
            bad(f"{where}.{key}[{index}]", f"must be text, not {show(item)}")
        if len(item) > max_chars:
            bad(
                f"{where}.{key}[{index}]",
                f"is {len(item):,} characters long; the limit is {max_chars:,}",
            )
    return value


def read_tags(obj: dict[str, Any], where: str) -> list[str]:
    raw = string_list(obj, "tags", where, max_items=MAX_TAGS * 5, max_chars=MAX_TAG_CHARS)
    for index, tag in enumerate(raw):
        if not tag.strip():
            bad(f"{where}.tags[{index}]", "is empty")
    # The store's own rule, so "U12" and "u12 " arrive as the one tag "u12".
    tags = sorted({clean_tag(tag) for tag in raw})
    if len(tags) > MAX_TAGS:
        bad(f"{where}.tags", f"has {len(tags)} tags; a conversation can have at most {MAX_TAGS}")
    return tags


def _read_tool_call(raw: Any, where: str, default_time: datetime) -> dict[str, Any]:
    call = check_fields(raw, TOOL_CALL_FIELDS, where)
    return {
        "tool_use_id": text_field(call, "tool_use_id", where, max_chars=100, default=""),
        "name": text_field(call, "name", where, max_chars=100, required_text=True),
        "input": call.get("input"),
        "output": text_field(call, "output", where, max_chars=MAX_STORED_CHARS, default=""),
        "is_error": flag(call, "is_error", where),
        "duration_ms": whole_number(call, "duration_ms", where),
        "created_at": time_field(call, "created_at", where, default_time),
    }


def read_tool_calls(
    obj: dict[str, Any], key: str, where: str, default_time: datetime, message_seq: int | None
) -> list[dict[str, Any]]:
    raw = obj.get(key, [])
    if type(raw) is not list:
        bad(f"{where}.{key}", f"must be a list, not {show(raw)}")
    calls = []
    for index, item in enumerate(raw):
        call = _read_tool_call(item, f"{where}.{key}[{index}]", default_time)
        call["message_seq"] = message_seq
        calls.append(call)
    return calls
