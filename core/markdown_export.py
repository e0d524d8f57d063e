"""Markdown out of Huddle: a session as a readable page, a zip of them, a drill card."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from core.export_batches import (
    calls_without_message,
    human_time,
    message_batches,
    selected_sessions,
    without_cycle_collection,
)
from core.models import ChatSession, Drill, ToolCall
from core.store import ConversationStore
from core.text import inert_bidi

_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>~])")


def _inline(text: str) -> str:
    """Text shown as itself inside a Markdown line (a title, a tag), not as markup."""
    return _INLINE_SPECIAL.sub(r"\\\1", " ".join(inert_bidi(text).split()))


def _fence(text: str, info: str = "") -> str:
    """A fenced block that no run of backticks inside `text` can close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marker = "`" * max(3, longest + 1)
    return f"{marker}{info}\n{text}\n{marker}\n"


_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def _inert_html(text: str) -> str:
    """Text whose HTML shows as text wherever the Markdown is rendered.

    `<` and `&` become entities outside code (fences and inline code show their text as it
    is already), so `<script>`, `<img onerror=…>` or a stray `</details>` stay words on the
    page; Markdown itself (emphasis, lists, links) keeps working. Entities inside an indented
    code block would show as typed: replies fence their code.
    """
    if "<" not in text and "&" not in text:
        return text
    lines = []
    opened: str | None = None
    for line in text.split("\n"):
        match = _FENCE_LINE.match(line)
        if opened is not None:
            marker, rest = match.groups() if match else ("", "")
            if match and marker[0] == opened[0] and len(marker) >= len(opened) and not rest.strip():
                opened = None
            lines.append(line)
        elif match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
            opened = match.group(1)
            lines.append(line)
        else:
            lines.append(_inert_outside_spans(line))
    return "\n".join(lines)


def _inert_outside_spans(line: str) -> str:
    parts, last = [], 0
    for span in _CODE_SPAN.finditer(line):
        parts += [_entities(line[last : span.start()]), span.group(0)]
        last = span.end()
    parts.append(_entities(line[last:]))
    return "".join(parts)


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _shown(text: str) -> str:
    """A message or drill field as Markdown that renders safely: HTML inert, fences closed."""
    return _close_open_fence(_inert_html(text))


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
    facts = [chat.kind, f"created {human_time(chat.created_at)}", f"{chat.message_count} messages"]
    if chat.model:
        facts.append(f"model {chat.model}")
    if chat.tag_names:
        facts.append("tags: " + ", ".join(chat.tag_names))
    if chat.archived:
        facts.append("archived")
    yield f"# {_inline(chat.title)}\n\n*{_inline(' · '.join(facts))}*\n"
    for batch in message_batches(store, chat.user_id, chat.id):
        for message, calls in batch:
            # A tool message only carries tool results, shown with the assistant's calls.
            if message.role == "tool" and not message.content.strip() and not calls:
                continue
            yield f"\n## {message.role.capitalize()} · {human_time(message.created_at)}\n"
            if message.content.strip():
                yield "\n" + _shown(message.content.strip("\n")) + "\n"
            if message.status != "complete":
                reason = f": {_inline(message.error)}" if message.error else ""
                yield f"\n> *Reply {message.status}{reason}*\n"
            for call in calls:
                yield "\n" + _tool_call_markdown(call)
    loose = calls_without_message(store, chat.user_id, chat.id)
    if loose:
        yield "\n## Tool calls without a message\n"
        for call in loose:
            yield "\n" + _tool_call_markdown(call)


def session_markdown(store: ConversationStore, user_id: int, session_id: str) -> str:
    """One session as Markdown; another coach's session is NotFound, like a missing one."""
    chat = store.get_session(user_id, session_id)
    with without_cycle_collection():
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
    with (
        without_cycle_collection(),
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle,
    ):
        for chat in selected_sessions(store, user_id, session_ids, query):
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
        f"{f'{index}.' if numbered else '-'} {_shown(item.strip()).replace(NL, NL + '   ')}\n"
        for index, item in enumerate(items, start=1)
    )


NL = "\n"


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
        ("Objective", _shown(drill.objective.strip())),
        ("Equipment", _bullets(drill.equipment)),
        ("Setup", _shown(drill.setup.strip())),
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
