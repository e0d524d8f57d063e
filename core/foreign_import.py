"""Readers of ChatGPT and Claude.ai exports: their conversations as rows for the one import
write path (core/archive_rows.py), so a foreign import is whole or nothing like an archive.

Each conversation becomes a "chat" session whose id is derived from its source id
(uuid5 of "chatgpt:<id>" or "claude:<uuid>"), so importing the same export again
finds every session already there. The session's metadata keeps
{"source": ..., "source_id": ...}.

What is kept: the text of the user's and the assistant's messages, in the order
the export shows them. What is left out, on purpose:
- ChatGPT: the branches the coach did not keep (only the path from `current_node`
  up to the root is the conversation as shown), system and hidden messages
  (custom instructions, `is_visually_hidden_from_conversation`, weight 0), and
  ChatGPT's own tool traffic (messages of role "tool", assistant messages sent to a
  tool rather than to the user, code, browsing and reasoning parts). That output
  is not Huddle's tool calls and, as in Huddle's own tool messages, is neither
  searched nor counted as words. An image part becomes the placeholder "[image]".
- Claude.ai: attachments and files (only their names are in the export), and
  content blocks other than text (thinking, tool use and results).
A message whose text is empty after that is left out.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn

from core.archive_rows import IncomingArchive, IncomingSession, message_row, session_row
from core.errors import ArchiveError
from core.store import MAX_STORED_CHARS, MAX_TITLE_CHARS
from core.text import make_title, one_line

# Fixed forever: changing it would make every re-import add copies.
_SOURCE_NAMESPACE = uuid.UUID("5d0b7c53-3a8e-4a8f-9a61-2f7c0f1e4b21")
_MAX_MODEL_CHARS = 100
_MAX_SOURCE_ID_CHARS = 200
_IMAGE_PLACEHOLDER = "[image]"
_CHATGPT_TEXT_TYPES = frozenset({"text", "multimodal_text"})
# The ChatGPT senders Huddle keeps, and the Claude.ai senders it keeps, as Huddle roles.
_CHATGPT_ROLES = frozenset({"user", "assistant"})
_CLAUDE_ROLES = {"human": "user", "assistant": "assistant"}


def source_session_id(source: str, conversation_id: str) -> str:
    """The Huddle session id of a foreign conversation: the same every time it is imported."""
    return str(uuid.uuid5(_SOURCE_NAMESPACE, f"{source}:{conversation_id}"))


class _Conversation:
    """Where a problem is, for the one sentence: `Conversation 3 ("Warm-ups")`."""

    def __init__(self, index: int, raw: dict[str, Any], title_key: str) -> None:
        title = raw.get(title_key)
        shown = one_line(title)[:40] if type(title) is str and one_line(title) else ""
        self.name = (
            f'Conversation {index + 1} ("{shown}")' if shown else f"Conversation {index + 1}"
        )

    def fail(self, problem: str) -> NoReturn:
        raise ArchiveError(f"{self.name} {problem}.")


def _storable(text: str, where: _Conversation, what: str, max_chars: int) -> str:
    if "\x00" in text:
        where.fail(f"has a NUL character in {what}, which cannot be stored")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        where.fail(f"has half of a surrogate pair in {what}, which is not valid text")
    if len(text) > max_chars:
        where.fail(f"has {what} of {len(text):,} characters; the limit is {max_chars:,}")
    return text


def _source_id(raw: dict[str, Any], keys: tuple[str, ...], where: _Conversation) -> str:
    for key in keys:
        value = raw.get(key)
        if type(value) is str and value.strip():
            return _storable(value.strip(), where, "its id", _MAX_SOURCE_ID_CHARS)
    where.fail(f"has no id ({' or '.join(keys)})")


def _title(raw: Any, messages: list[dict[str, Any]], where: _Conversation) -> str:
    """The export's title on one line; without one, a title from the first message."""
    title = one_line(_storable(raw, where, "its title", 10_000)) if type(raw) is str else ""
    if not title:
        first = next((m["content"] for m in messages if m["role"] == "user"), "")
        return make_title(first) if first.strip() else "Imported conversation"
    return title if len(title) <= MAX_TITLE_CHARS else make_title(title, MAX_TITLE_CHARS - 1)


def _epoch(value: Any, where: _Conversation, what: str) -> datetime | None:
    if value is None:
        return None
    if type(value) not in (int, float) or not math.isfinite(value):
        where.fail(f"has {what} that is not a time in seconds: {str(value)[:40]!r}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        where.fail(f"has {what} out of range: {value!r}")


def _iso(value: Any, where: _Conversation, what: str) -> datetime | None:
    if value is None:
        return None
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    where.fail(f"has {what} that is not an ISO-8601 time: {str(value)[:40]!r}")


def _session(
    source: str,
    source_id: str,
    title: Any,
    created: datetime | None,
    updated: datetime | None,
    messages: list[dict[str, Any]],
    model: str | None,
    where: _Conversation,
) -> IncomingSession:
    created_at = created or (messages[0]["created_at"] if messages else None)
    if created_at is None:
        where.fail("has no time at all (no create time, no message times)")
    for seq, message in enumerate(messages, 1):
        message["seq"] = seq
    row = session_row(
        messages,
        kind="chat",
        title=_title(title, messages, where),
        title_source="auto",
        model=model,
        pinned=False,
        archived=False,
        metadata={"source": source, "source_id": source_id},
        created_at=created_at,
        updated_at=max(updated or created_at, created_at),
    )
    return IncomingSession(
        id=source_session_id(source, source_id),
        username=None,
        drill_ref=None,
        row=row,
        tags=[],
        messages=messages,
        tool_calls=[],
    )


def _read_all(
    document: Any, read_one: Callable[[dict[str, Any], _Conversation], IncomingSession], key: str
) -> IncomingArchive:
    if type(document) is not list:
        raise ArchiveError("The export must be a JSON list of conversations.")
    archive = IncomingArchive()
    seen: dict[str, int] = {}
    for index, raw in enumerate(document):
        if type(raw) is not dict:
            raise ArchiveError(f"Conversation {index + 1} is not a JSON object.")
        where = _Conversation(index, raw, key)
        incoming = read_one(raw, where)
        if incoming.id in seen:
            where.fail(f"repeats the id of conversation {seen[incoming.id] + 1}")
        seen[incoming.id] = index
        archive.sessions.append(incoming)
    return archive


# ----------------------------------------------------------------- ChatGPT


def _chatgpt_branch(raw: dict[str, Any], where: _Conversation) -> list[dict[str, Any]]:
    """The nodes from the root down to `current_node`: the conversation as ChatGPT shows it."""
    mapping = raw.get("mapping")
    if type(mapping) is not dict:
        where.fail("has no message tree (its 'mapping' is not a JSON object)")
    current = raw.get("current_node")
    if current is None and not mapping:
        return []
    if type(current) is not str or current not in mapping:
        where.fail(f"has a broken message tree: its current node {str(current)[:40]} is not in it")
    branch: list[dict[str, Any]] = []
    seen: set[str] = set()
    node_id: Any = current
    child = current
    while node_id is not None:
        if type(node_id) is not str:
            where.fail(f"has a broken message tree: node {child} has a parent that is not an id")
        if node_id in seen:
            where.fail(f"has a broken message tree: node {node_id} is its own ancestor (a loop)")
        node = mapping.get(node_id)
        if node is None:
            where.fail(
                f"has a broken message tree: node {child} points to a parent that is not there"
            )
        if type(node) is not dict:
            where.fail(f"has a broken message tree: node {node_id} is not a JSON object")
        seen.add(node_id)
        branch.append(node)
        child, node_id = node_id, node.get("parent")
    branch.reverse()
    return branch


def _chatgpt_text(content: Any, where: _Conversation) -> str | None:
    """The shown text of a message's content, or None for content Huddle leaves out."""
    if type(content) is not dict or content.get("content_type") not in _CHATGPT_TEXT_TYPES:
        return None
    parts = content.get("parts")
    if type(parts) is not list:
        where.fail("has a text message whose 'parts' is not a list")
    pieces = []
    for part in parts:
        if type(part) is str:
            pieces.append(part)
        elif type(part) is dict and "image" in str(part.get("content_type", "")):
            pieces.append(_IMAGE_PLACEHOLDER)
        # Other parts (audio, files) carry no text to keep.
    return "\n".join(piece for piece in pieces if piece)


def _chatgpt_message(
    node: dict[str, Any], where: _Conversation, previous: datetime | None
) -> dict[str, Any] | None:
    message = node.get("message")
    if message is None:
        return None  # the root, and other nodes without a message
    if type(message) is not dict:
        where.fail("has a message that is not a JSON object")
    author = message.get("author")
    role = author.get("role") if type(author) is dict else None
    metadata = message.get("metadata") if type(message.get("metadata")) is dict else {}
    hidden = (
        metadata.get("is_visually_hidden_from_conversation")
        or metadata.get("is_user_system_message")
        or message.get("weight") == 0
        or message.get("recipient", "all") != "all"  # addressed to one of ChatGPT's tools
    )
    if role not in _CHATGPT_ROLES or hidden:
        return None
    text = _chatgpt_text(message.get("content"), where)
    if text is None or not text.strip():
        return None
    _storable(text, where, "a message", MAX_STORED_CHARS)
    created_at = _epoch(message.get("create_time"), where, "a message create_time") or previous
    if created_at is None:
        where.fail("has a message without a time, and no create_time to use instead")
    model = metadata.get("model_slug") if role == "assistant" else None
    if type(model) is not str or not model or len(model) > _MAX_MODEL_CHARS:
        model = None
    return message_row(0, role, text, created_at, model=model)


def _read_chatgpt_conversation(raw: dict[str, Any], where: _Conversation) -> IncomingSession:
    source_id = _source_id(raw, ("conversation_id", "id"), where)
    created = _epoch(raw.get("create_time"), where, "a create_time")
    messages: list[dict[str, Any]] = []
    previous = created
    for node in _chatgpt_branch(raw, where):
        message = _chatgpt_message(node, where, previous)
        if message is not None:
            messages.append(message)
            previous = message["created_at"]
    models = [m["model"] for m in messages if m["model"]]
    default = raw.get("default_model_slug")
    model = default if type(default) is str and 0 < len(default) <= _MAX_MODEL_CHARS else None
    return _session(
        "chatgpt",
        source_id,
        raw.get("title"),
        created,
        _epoch(raw.get("update_time"), where, "an update_time"),
        messages,
        model or (models[-1] if models else None),
        where,
    )


def read_chatgpt(document: Any) -> IncomingArchive:
    """A ChatGPT `conversations.json` (a list of conversations) as import rows."""
    return _read_all(document, _read_chatgpt_conversation, "title")


# --------------------------------------------------------------- Claude.ai


def _claude_text(message: dict[str, Any], where: _Conversation) -> str:
    """The text blocks of `content` when there are any, else the message's `text`."""
    content = message.get("content")
    if type(content) is list:
        texts = [
            block["text"]
            for block in content
            if type(block) is dict
            and block.get("type") == "text"
            and type(block.get("text")) is str
        ]
        if any(text.strip() for text in texts):
            return "\n\n".join(text for text in texts if text.strip())
    text = message.get("text", "")
    if type(text) is not str:
        where.fail("has a message whose 'text' is not text")
    return text


def _read_claude_conversation(raw: dict[str, Any], where: _Conversation) -> IncomingSession:
    source_id = _source_id(raw, ("uuid",), where)
    created = _iso(raw.get("created_at"), where, "a created_at")
    raw_messages = raw.get("chat_messages")
    if type(raw_messages) is not list:
        where.fail("has no list of messages ('chat_messages')")
    messages: list[dict[str, Any]] = []
    previous = created
    for raw_message in raw_messages:
        if type(raw_message) is not dict:
            where.fail("has a message that is not a JSON object")
        sender = raw_message.get("sender")
        role = _CLAUDE_ROLES.get(sender) if type(sender) is str else None
        text = _claude_text(raw_message, where)
        if role is None or not text.strip():
            continue
        _storable(text, where, "a message", MAX_STORED_CHARS)
        at = _iso(raw_message.get("created_at"), where, "a message created_at") or previous
        if at is None:
            where.fail("has a message without a time, and no created_at to use instead")
        messages.append(message_row(0, role, text, at))
        previous = at
    return _session(
        "claude",
        source_id,
        raw.get("name"),
        created,
        _iso(raw.get("updated_at"), where, "an updated_at"),
        messages,
        None,
        where,
    )


def read_claude(document: Any) -> IncomingArchive:
    """A Claude.ai `conversations.json` (a list of conversations) as import rows."""
    return _read_all(document, _read_claude_conversation, "name")
