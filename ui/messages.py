"""The message list: a page of the latest messages, tool calls as status blocks, failed replies.

Messages are Markdown with unsafe HTML off. A turn is stored as a user message, assistant
messages (one per model round) and tool messages (the tool results); the list shows one
assistant bubble per turn, each tool call in it as an st.status block with its input and
output, and a reply that was cut short with a mark and a Retry button.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import streamlit as st

from core.models import Message, ToolCall
from ui import state
from ui.auth import Coach
from ui.conversation import Conversation
from ui.markdown import escape_markdown
from ui.services import Services

PAGE_SIZE = 40
# Read well both while the tool runs ("Save new drill…") and once it has ("Save new drill").
TOOL_LABELS = {
    "calculator": "Calculator",
    "word_count": "Word count",
    "current_datetime": "Date and time",
    "search_history": "Search your conversations",
    "create_drill": "Save new drill",
    "update_drill": "Update drill",
    "get_drill": "Read drill",
    "search_drills": "Search your drills",
}
EMPTY_HINTS = {
    "chat": (
        "Ask about training plans, tactics, talking with players and parents, or anything "
        "else about coaching. Every conversation is kept in the sidebar."
    ),
    "drill": (
        "Describe the drill you want: sport, age group, number of players, duration, "
        "equipment and focus. For example: *U12 soccer passing drill for 10 players, "
        "20 minutes, cones and balls*. The drill appears on the right and changes as you "
        "talk about it."
    ),
}


def tool_label(name: str) -> str:
    return TOOL_LABELS.get(name, name.replace("_", " ").capitalize())


def show_messages(
    services: Services, coach: Coach, conversation: Conversation, *, busy: bool = False
) -> None:
    """Draw the latest messages of the open conversation, with "Load older messages".

    `busy` means a reply streams in this run; a Retry button would then be out of date.
    """
    session = conversation.session
    if session is None or session.message_count == 0:
        with st.chat_message("assistant"):
            st.markdown(EMPTY_HINTS[conversation.kind])
        return
    store = services.store
    shown = state.shown_messages(session.id, PAGE_SIZE)
    window = store.list_messages(coach.id, session.id, limit=shown + 1)
    if len(window) > shown:
        window = window[1:]
        st.button(
            "Load older messages",
            key=f"huddle_older_{session.id}",
            icon=":material/expand_less:",
            on_click=state.show_more_messages,
            args=(session.id, PAGE_SIZE, PAGE_SIZE),
        )
    assistant_ids = [m.id for m in window if m.role == "assistant"]
    calls: dict[int, list[ToolCall]] = {}
    if assistant_ids:
        for call in store.list_tool_calls(coach.id, session.id, message_ids=assistant_ids):
            if call.message_id is not None:
                calls.setdefault(call.message_id, []).append(call)
    for role, messages in _bubbles(window):
        with st.chat_message(role):
            if role == "user":
                st.markdown(messages[0].content)
                continue
            replies = [m for m in messages if m.role == "assistant"]
            for index, message in enumerate(replies):
                if message.status != "complete" and index < len(replies) - 1:
                    # A failed attempt that Retry answered again: kept, but out of the way.
                    with st.expander("An earlier attempt failed", icon=":material/history:"):
                        _assistant_message(message, calls.get(message.id, []))
                else:
                    _assistant_message(message, calls.get(message.id, []))
    if not busy and window:
        _retry_offer(services, coach, conversation, window[-1])


def _bubbles(messages: list[Message]) -> Iterator[tuple[str, list[Message]]]:
    """Each user message alone; everything between two user messages in one assistant bubble."""
    bubble: list[Message] = []
    for message in messages:
        if message.role == "user":
            if bubble:
                yield "assistant", bubble
                bubble = []
            yield "user", [message]
        elif message.role in ("assistant", "tool"):
            bubble.append(message)
    if any(m.role == "assistant" for m in bubble):
        yield "assistant", bubble


def _assistant_message(message: Message, calls: list[ToolCall]) -> None:
    if message.content.strip():
        st.markdown(message.content)
    for call in calls:
        tool_call_block(call.name, call.input, call.output, call.is_error, call.duration_ms)
    if message.status == "partial":
        st.warning(f"This reply was cut short: {escape_markdown(message.error or '')}")
    elif message.status == "error":
        st.error(f"No reply: {escape_markdown(message.error or 'the model failed.')}")


def tool_call_block(
    name: str, tool_input: Any, output: str, is_error: bool, duration_ms: int | None
) -> None:
    """One finished tool call: a closed status block that opens to its input and output."""
    timing = f" · {duration_ms} ms" if duration_ms is not None else ""
    label = f"{tool_label(name)}{timing}" + (" (failed)" if is_error else "")
    with st.status(label, state="error" if is_error else "complete", expanded=False):
        show_tool_io(tool_input, output)


def show_tool_io(tool_input: Any, output: str | None) -> None:
    """A tool call's input, and its output once there is one (JSON shown pretty)."""
    st.caption("Input")
    st.code(json.dumps(tool_input, indent=2, ensure_ascii=False), language="json")
    if output is not None:
        show_tool_output(output)


def show_tool_output(output: str) -> None:
    st.caption("Output")
    try:
        pretty = json.dumps(json.loads(output), indent=2, ensure_ascii=False)
    except ValueError:
        st.code(output, language=None, wrap_lines=True)
    else:
        st.code(pretty, language="json")


def _retry_offer(
    services: Services, coach: Coach, conversation: Conversation, last: Message
) -> None:
    """A Retry button under a reply that failed, or under a question left without one."""
    answered = last.role == "assistant" and last.status == "complete" and not _asks_for_tools(last)
    if answered or conversation.session_id is None:
        return
    if services.engine.failed_turn(coach.id, conversation.session_id) is None:
        return
    if last.role != "assistant" or last.status == "complete":
        st.info("This message has no reply yet.")
    st.button(
        "Retry",
        key=f"huddle_retry_{conversation.session_id}",
        icon=":material/refresh:",
        on_click=state.queue_turn,
        args=(state.PendingTurn(conversation.kind, conversation.session_id, None),),
    )


def _asks_for_tools(message: Message) -> bool:
    blocks = message.blocks if isinstance(message.blocks, list) else []
    return any(isinstance(b, dict) and b.get("type") == "tool_use" for b in blocks)
