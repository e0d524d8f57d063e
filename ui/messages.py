"""The message list: a page of the latest messages, tool calls as status blocks, failed replies.

Messages are Markdown with unsafe HTML off. A turn is stored as a user message, assistant
messages (one per model round) and tool messages (the tool results); the list shows one
assistant bubble per turn, each tool call in it as an st.status block with its input and
output, and a reply that was cut short with a mark and a Retry button. Opened at a search
hit, it shows a page of messages from just before that message instead, the hit's bubble
marked "Found by search" and scrolled into view, with older and newer pages a click away.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.errors import HuddleError, NotFound, ValidationError
from core.models import Message, ToolCall
from ui import state
from ui.auth import Coach
from ui.conversation import Conversation
from ui.markdown import escape_markdown
from ui.services import Services
from ui.timezone import browser_timezone_name

PAGE_SIZE = 40
# Messages shown before the one a search hit opened, so its question is in view too.
FOUND_CONTEXT = 4
FOUND_KEY = "huddle_found_message"
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

    Opened at a search hit (`conversation.found_seq`), it draws a window of messages around
    that message instead, marks it and scrolls it into view. `busy` means a reply streams in
    this run; a Retry button would then be out of date.
    """
    session = conversation.session
    if conversation.found_seq is None and state.take_scroll_to_latest():
        _scroll_to_latest()
    if session is None or session.message_count == 0:
        with st.chat_message("assistant"):
            st.markdown(EMPTY_HINTS[conversation.kind])
        return
    if conversation.found_seq is not None:
        window = _found_window(services, coach, session.id, conversation.found_seq)
    else:
        window = _latest_window(services, coach, session.id)
    _draw_bubbles(services, coach, session.id, window.messages, conversation.found_seq)
    if window.has_newer:
        _newer_controls(session.id, window)
    elif not busy and window.messages:
        _retry_offer(services, coach, conversation, window.messages[-1])


@dataclass(frozen=True)
class _Window:
    """The messages a page shows; `found` and `has_newer` when it is opened at a search hit."""

    messages: list[Message]
    found: state.FoundWindow | None = None
    has_newer: bool = False


def _latest_window(services: Services, coach: Coach, session_id: str) -> _Window:
    shown = state.shown_messages(session_id, PAGE_SIZE)
    messages = services.store.list_messages(coach.id, session_id, limit=shown + 1)
    if len(messages) > shown:
        messages = messages[1:]
        _older_button(session_id, state.show_more_messages, (session_id, PAGE_SIZE, PAGE_SIZE))
    return _Window(messages)


def _found_window(services: Services, coach: Coach, session_id: str, seq: int) -> _Window:
    """A page of messages from a little before message `seq` on: only what is shown is read.

    The window starts at a question where it can, so its first bubble is not half a turn.
    """
    default = state.FoundWindow(seq, max(1, seq - FOUND_CONTEXT), PAGE_SIZE)
    found = state.found_window(session_id, seq, default)
    fetched = services.store.list_messages_from(
        coach.id, session_id, found.first, limit=found.count + 1
    )
    messages = fetched[: found.count]
    questions = [i for i, m in enumerate(messages) if m.role == "user" and m.seq <= seq]
    if questions:
        messages = messages[questions[0] :]
    if messages and messages[0].seq > 1:
        _older_button(session_id, state.widen_found_window, (session_id, found, PAGE_SIZE, 0))
    return _Window(messages, found, has_newer=len(fetched) > found.count)


def _older_button(session_id: str, on_click: Callable[..., None], args: tuple) -> None:
    st.button(
        "Load older messages",
        key=f"huddle_older_{session_id}",
        icon=":material/expand_less:",
        on_click=on_click,
        args=args,
    )


def _newer_controls(session_id: str, window: _Window) -> None:
    """Under a window that stops before the end: more of what follows, or the latest."""
    with st.container(horizontal=True):
        st.button(
            "Load newer messages",
            key=f"huddle_newer_{session_id}",
            icon=":material/expand_more:",
            on_click=state.widen_found_window,
            args=(session_id, window.found, 0, PAGE_SIZE),
        )
        st.button(
            "Jump to latest",
            key=f"huddle_latest_{session_id}",
            icon=":material/vertical_align_bottom:",
            type="tertiary",
            on_click=state.drop_found_message,
        )


def _draw_bubbles(
    services: Services,
    coach: Coach,
    session_id: str,
    window: list[Message],
    found_seq: int | None,
) -> None:
    assistant_ids = [m.id for m in window if m.role == "assistant"]
    calls: dict[int, list[ToolCall]] = {}
    if assistant_ids:
        for call in services.store.list_tool_calls(coach.id, session_id, message_ids=assistant_ids):
            if call.message_id is not None:
                calls.setdefault(call.message_id, []).append(call)
    marked = False
    for role, messages in _bubbles(window):
        # The bubble that holds the message found (or, for one never drawn, the next one).
        found = found_seq is not None and not marked and messages[-1].seq >= found_seq
        with _found_marker() if found else contextlib.nullcontext():
            _bubble(role, messages, calls)
        marked = marked or found
    if marked:
        _scroll_to_found()


def _bubble(role: str, messages: list[Message], calls: dict[int, list[ToolCall]]) -> None:
    with st.chat_message(role):
        if role == "user":
            st.markdown(messages[0].content)
            return
        replies = [m for m in messages if m.role == "assistant"]
        for index, message in enumerate(replies):
            if message.status != "complete" and index < len(replies) - 1:
                # A failed attempt that Retry answered again: kept, but out of the way.
                with st.expander("An earlier attempt failed", icon=":material/history:"):
                    _assistant_message(message, calls.get(message.id, []))
            else:
                _assistant_message(message, calls.get(message.id, []))


@contextlib.contextmanager
def _found_marker() -> Iterator[None]:
    """A bordered box with a badge around the bubble of the message a search hit opened."""
    with st.container(border=True, key=FOUND_KEY):
        st.badge("Found by search", icon=":material/search:", color="orange")
        yield


def _scroll_to_found() -> None:
    """Scroll the marked bubble into view (Streamlit has no scroll API of its own).

    st.html runs the script in the page itself. A chat page sticks to its bottom while its
    content grows (the main area with a chat input, the drill page's message pane), so one
    scrollIntoView is undone a moment later: the script brings the bubble back into view
    until the page has been still for a second, and stops at once when the coach scrolls,
    clicks or types. The flag on the element keeps a later rerun from doing it again.
    """
    st.html(f"<script>{SCROLL_SCRIPT % FOUND_KEY}</script>", unsafe_allow_javascript=True)


SCROLL_SCRIPT = """(() => {
  const selector = ".st-key-%s";
  let stillFor = 0, ticks = 0, stopped = false;
  const stop = (event) => { if (event.isTrusted) stopped = true; };
  for (const name of ["wheel", "pointerdown", "keydown", "touchstart"]) {
    window.addEventListener(name, stop, {capture: true, passive: true});
  }
  const inView = (element) => {
    const box = element.getBoundingClientRect();
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      if (parent.scrollHeight > parent.clientHeight + 1
          && getComputedStyle(parent).overflowY !== "visible") {
        const pane = parent.getBoundingClientRect();
        if (box.top < pane.top - 1 || box.top > pane.bottom - 40) return false;
      }
    }
    return box.top >= 0 && box.top < window.innerHeight - 40;
  };
  let first = null;
  const finish = () => {
    clearInterval(timer);
    for (const name of ["wheel", "pointerdown", "keydown", "touchstart"]) {
      window.removeEventListener(name, stop, {capture: true});
    }
  };
  const timer = setInterval(() => {
    const found = document.querySelector(selector);
    if (found && first === null) {
      if (found.dataset.huddleScrolled) { finish(); return; }
      first = found;
    }
    if (found) found.dataset.huddleScrolled = "1";
    if (stopped || ++ticks > 300 || stillFor >= 20) { finish(); return; }
    if (!found) return;
    if (inView(found)) { stillFor += 1; return; }
    stillFor = 0;
    // A wheel event is how a sticky pane learns that someone scrolled: it stops pulling down.
    found.dispatchEvent(new WheelEvent("wheel", {bubbles: true}));
    const fits = found.offsetHeight < window.innerHeight * 0.5;
    found.scrollIntoView({block: fits ? "center" : "start"});
  }, 50);
})();"""


def _scroll_to_latest() -> None:
    """Back at the end after a search hit: the view had been kept away from it on purpose.

    A chat page sticks to its end again once it is scrolled there with nothing growing, so
    the script scrolls to the end for a moment (a reply may be streaming in).
    """
    st.html(f"<script>{LATEST_SCRIPT}</script>", unsafe_allow_javascript=True)


LATEST_SCRIPT = """(() => {
  let ticks = 0, stopped = false;
  const stop = (event) => { if (event.isTrusted) stopped = true; };
  const names = ["wheel", "pointerdown", "touchstart"];
  for (const name of names) window.addEventListener(name, stop, {capture: true, passive: true});
  const timer = setInterval(() => {
    if (stopped || ++ticks > 40) {
      clearInterval(timer);
      for (const name of names) window.removeEventListener(name, stop, {capture: true});
      return;
    }
    const panes = document.querySelectorAll(
      "[data-testid=stAppScrollToBottomContainer], [data-testid=stVerticalBlock]");
    for (const pane of panes) {
      if (pane.scrollHeight > pane.clientHeight + 1
          && getComputedStyle(pane).overflowY !== "visible") {
        pane.scrollTop = pane.scrollHeight;
      }
    }
  }, 50);
})();"""


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
        on_click=_retry,
        args=(services, coach, conversation.session_id),
    )


def _retry(services: Services, coach: Coach, session_id: str) -> None:
    """Answer the failed message again, in a worker (core/turns.py)."""
    try:
        services.turns.retry(coach.id, session_id, zone=browser_timezone_name())
    except (ValidationError, NotFound) as exc:
        state.notify("warning", str(exc))
    except HuddleError as exc:
        state.notify("error", str(exc))
    else:
        state.drop_found_message()


def _asks_for_tools(message: Message) -> bool:
    blocks = message.blocks if isinstance(message.blocks, list) else []
    return any(isinstance(b, dict) and b.get("type") == "tool_use" for b in blocks)
