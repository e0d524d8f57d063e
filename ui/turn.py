"""A chat turn in the page: the chat input, and the reply streamed from the engine's events.

Sending queues the message (state.PendingTurn) in the chat input's callback; the run that
follows draws the chat input disabled, streams the turn with st.write_stream (tool calls as
st.status blocks), then reruns so that the page shows what the database now holds. The
engine stores the coach's message before the model is called, so nothing typed is lost even
when the reply fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import streamlit as st

from core.engine import TextDelta, ToolFinished, ToolStarted, TurnError, TurnEvent
from core.errors import NotFound, ValidationError
from ui import state
from ui.auth import Coach
from ui.conversation import Conversation
from ui.markdown import escape_markdown
from ui.messages import show_tool_io, show_tool_output, tool_label
from ui.services import Services

PLACEHOLDERS = {
    "chat": "Ask Huddle anything about coaching",
    "drill": "Describe a drill, or say what to change",
}

ToolListener = Callable[[ToolFinished], None]


def take_turn(kind: str) -> state.PendingTurn | None:
    """The message sent (or Retry clicked) that this run must answer, if any."""
    return state.take_pending_turn(kind)


def chat_input(services: Services, conversation: Conversation, *, busy: bool) -> None:
    """The chat input, disabled while a reply streams."""
    key = f"huddle_chat_input_{conversation.kind}"
    st.chat_input(
        PLACEHOLDERS[conversation.kind],
        key=key,
        max_chars=services.settings.max_message_chars,
        disabled=busy,
        submit_mode="disable",
        on_submit=_queue_message,
        args=(services, conversation.kind, conversation.session_id, key),
    )


def _queue_message(services: Services, kind: str, session_id: str | None, key: str) -> None:
    text = st.session_state.get(key)
    if not isinstance(text, str):
        return
    try:
        services.engine.check_message(text)
    except ValidationError as exc:
        state.notify("warning", str(exc))
        return
    state.queue_turn(state.PendingTurn(kind, session_id, text))


def stream_turn(
    services: Services,
    coach: Coach,
    turn: state.PendingTurn,
    *,
    on_tool_finished: ToolListener | None = None,
) -> None:
    """Answer the queued turn as it streams, then rerun to show the stored conversation."""
    try:
        events = _start(services, coach, turn)
    except (ValidationError, NotFound) as exc:
        state.notify("warning", str(exc))
        st.rerun()
    if turn.text is not None:
        with st.chat_message("user"):
            st.markdown(turn.text)
    with st.chat_message("assistant"):
        show_events(events, on_tool_finished)
    st.rerun()


def _start(services: Services, coach: Coach, turn: state.PendingTurn) -> Iterator[TurnEvent]:
    engine = services.engine
    if turn.text is None:
        if turn.session_id is None:
            raise ValidationError("There is no failed reply to retry in this conversation.")
        return engine.retry_turn(coach.id, turn.session_id)
    text = engine.check_message(turn.text)
    session_id = turn.session_id
    if session_id is None:
        # A fresh conversation is stored with its first message, never empty.
        session_id = services.store.create_session(
            coach.id, kind=turn.kind, model=engine.model.name
        ).id
        state.set_open_session(turn.kind, session_id)
    return engine.send(coach.id, session_id, text)


def show_events(events: Iterator[TurnEvent], on_tool_finished: ToolListener | None) -> None:
    """Draw a turn's events as they come: text streams, each tool call gets a status block."""
    events = iter(events)
    running: dict[str, Any] = {}  # tool_use id -> its st.status block
    waiting: TurnEvent | None = None
    wrote_text = False
    while True:
        event = waiting if waiting is not None else next(events, None)
        waiting = None
        if event is None:
            return
        if isinstance(event, TextDelta):
            after: list[TurnEvent] = []
            st.write_stream(_text_run(event, events, after))
            waiting = after[0] if after else None
            wrote_text = True
        elif isinstance(event, ToolStarted):
            status = st.status(f"{tool_label(event.name)}…", state="running", expanded=False)
            with status:
                show_tool_io(event.input, None)
            running[event.tool_use_id] = status
        elif isinstance(event, ToolFinished):
            status = running.pop(event.tool_use_id, None) or st.status(tool_label(event.name))
            with status:
                show_tool_output(event.output)
            label = f"{tool_label(event.name)} · {event.duration_ms} ms"
            status.update(
                label=label + (" (failed)" if event.is_error else ""),
                state="error" if event.is_error else "complete",
            )
            if on_tool_finished is not None:
                on_tool_finished(event)
        elif isinstance(event, TurnError):
            sentence = escape_markdown(event.message)
            if wrote_text:
                st.warning(f"This reply was cut short: {sentence}")
            else:
                st.error(f"No reply: {sentence}")


def _text_run(
    first: TextDelta, events: Iterator[TurnEvent], after: list[TurnEvent]
) -> Iterator[str]:
    """Reply text up to the next event that is not text (kept in `after`)."""
    yield first.text
    for event in events:
        if not isinstance(event, TextDelta):
            after.append(event)
            return
        yield event.text
