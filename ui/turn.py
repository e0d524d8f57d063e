"""A chat turn in the page: the chat input, Retry, and the reply followed while a worker writes it.

Sending starts the turn in a worker of the server (core/turns.py) from the chat input's
callback: the coach's message is stored at once, and the reply goes on being written
whatever the coach clicks, reloads or closes. The page *attaches* to a turn in progress: a
fragment re-reads the turn every POLL_S seconds and shows the text stored so far and the tool
that runs, with a Stop button; when a round of the reply is stored, or the turn ends, the
whole page reruns to show what the database now holds.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from core.errors import HuddleError, NotFound, ValidationError
from core.turns import TurnBusy, TurnView
from ui import state
from ui.auth import Coach
from ui.conversation import Conversation
from ui.markdown import escape_markdown
from ui.messages import tool_label
from ui.services import Services
from ui.timezone import browser_timezone_name

PLACEHOLDERS = {
    "chat": "Ask Huddle anything about coaching",
    "drill": "Describe a drill, or say what to change",
}
BUSY_PLACEHOLDER = "A reply is being written; a message sent now goes once it is done"
# How often a page in view re-reads a turn in progress.
POLL_S = 0.4


def running_turn(services: Services, coach: Coach, conversation: Conversation) -> TurnView | None:
    """The open conversation's turn in progress, if any; a held message starts once none is."""
    if conversation.session_id is None:
        return None
    turn = services.turns.running_turn(coach.id, conversation.session_id)
    if turn is None:
        turn = _send_held(services, coach, conversation.kind, conversation.session_id)
    return turn


def chat_input(services: Services, coach: Coach, conversation: Conversation, *, busy: bool) -> None:
    """The chat input, always enabled: a message sent while a reply is written waits for it.

    The browser does not reliably apply a chat input's `disabled` argument when it changes,
    in either direction (an input left disabled after the reply, or enabled during it), and
    submit_mode="disable" can stay disabled across the fragment's reruns. So the input is
    never disabled: what the coach sends meanwhile is held and sent when the reply is done
    (`_send`, `_send_held`), and the placeholder says so. No max_chars either: the browser
    would drop a longer paste without a word; such a message is kept in an editor instead
    (long_draft), with its length and the limit.
    """
    key = f"huddle_chat_input_{conversation.kind}"
    st.chat_input(
        BUSY_PLACEHOLDER if busy else PLACEHOLDERS[conversation.kind],
        key=key,
        on_submit=_send,
        args=(services, coach, conversation.kind, key),
    )


def _send(services: Services, coach: Coach, kind: str, key: str) -> None:
    """Store the message and start its turn (the chat input's callback)."""
    text = st.session_state.get(key)
    if not isinstance(text, str):
        return
    if len(text) > services.settings.max_message_chars:
        state.keep_long_draft(kind, text)
        return
    _start(services, coach, kind, text)


def _start(services: Services, coach: Coach, kind: str, text: str) -> bool:
    """Start the message's turn in the open conversation; False (and a sentence) if refused."""
    # The conversation open now, not the one open when the box was drawn.
    session_id = state.open_session_id(kind)
    created: str | None = None
    try:
        services.engine.check_message(text)
        if session_id is None:
            # A fresh conversation is stored with its first message, never empty.
            session_id = created = services.store.create_session(
                coach.id, kind=kind, model=services.engine.model.name
            ).id
            state.set_open_session(kind, session_id)
        services.turns.start(coach.id, session_id, text, zone=browser_timezone_name())
    except TurnBusy:
        state.hold_message(session_id, text)
        return True
    except (ValidationError, NotFound) as exc:
        state.notify("warning", str(exc))
        return False
    except HuddleError as exc:
        # The database could not take it (down, full, read-only): the text stays, to send
        # again, and a conversation made for it is not left empty.
        if created is not None:
            with contextlib.suppress(HuddleError):
                services.store.delete_session(coach.id, created)
            state.set_open_session(kind, None)
        state.keep_long_draft(kind, text, str(exc))
        return False
    # The reply lands at the end of the conversation: show the latest messages.
    state.drop_found_message()
    state.clear_link_problem()
    return True


def long_draft(services: Services, coach: Coach, conversation: Conversation) -> None:
    """A message sent over the length limit, kept for the coach to shorten and send."""
    kind = conversation.kind
    kept = state.long_draft(kind)
    if kept is None:
        return
    draft, problem = kept
    limit = services.settings.max_message_chars
    key = f"huddle_long_draft_{kind}"
    text = st.session_state.get(key, draft)
    with st.container(border=True):
        if problem is not None:
            st.error(
                f"Your message could not be saved. {problem} It is kept here: send it "
                "again once the database is back."
            )
        else:
            st.warning(
                f"Your message is {len(text):,} characters long; the limit is {limit:,}. "
                "It is kept here: shorten it, then send it."
            )
        st.text_area("Your message", value=draft, key=key, height=200)
        over = len(text) - limit
        st.caption(
            f"{len(text):,} of {limit:,} characters" + (f" ({over:,} too many)" if over > 0 else "")
        )
        with st.container(horizontal=True):
            st.button(
                "Send",
                key=f"huddle_long_draft_send_{kind}",
                icon=":material/send:",
                on_click=_send_draft,
                args=(services, coach, kind, key),
            )
            st.button(
                "Discard",
                key=f"huddle_long_draft_discard_{kind}",
                type="tertiary",
                on_click=state.drop_long_draft,
                args=(kind,),
            )


def _send_draft(services: Services, coach: Coach, kind: str, key: str) -> None:
    text = st.session_state.get(key)
    if not isinstance(text, str):
        return
    if len(text) > services.settings.max_message_chars:
        state.keep_long_draft(kind, text)  # still too long: it stays, with its new length
        return
    if _start(services, coach, kind, text):
        state.drop_long_draft(kind)
        st.session_state.pop(key, None)


def _send_held(services: Services, coach: Coach, kind: str, session_id: str) -> TurnView | None:
    """Start the message held while the previous reply was written, if there is one."""
    text = state.take_held_message(session_id)
    if text is None:
        return None
    try:
        return services.turns.start(coach.id, session_id, text, zone=browser_timezone_name())
    except TurnBusy:
        state.hold_message(session_id, text)  # another tab started one meanwhile
    except (ValidationError, NotFound) as exc:
        state.notify("warning", str(exc))
    except HuddleError as exc:
        state.keep_long_draft(kind, text, str(exc))  # the database failed: kept to resend
    return None


def follow_turn(
    services: Services, coach: Coach, conversation: Conversation, turn: TurnView
) -> None:
    """Show the turn in progress and follow it until it ends (a fragment that polls)."""
    shown_seq = conversation.session.last_seq if conversation.session else 0
    _live_turn(services, coach.id, turn.id, shown_seq)


@st.fragment(run_every=POLL_S)
def _live_turn(services: Services, user_id: int, turn_id: str, shown_seq: int) -> None:
    try:
        turn, last_seq = services.turns.progress(user_id, turn_id)
    except NotFound:
        st.rerun()  # the conversation was deleted meanwhile (another tab)
    if not turn.running or last_seq != shown_seq:
        # A round of the reply was stored, or the turn ended: show what the database holds
        # (and send a held message, in the full run: running_turn).
        st.rerun()
    with st.chat_message("assistant"):
        if turn.tool:
            st.status(f"{tool_label(turn.tool)}…", state="running", expanded=False)
        if turn.text and turn.text_after_seq == last_seq:
            st.markdown(turn.text)
        elif not turn.tool:
            st.caption("Writing…")
        with st.container(horizontal=True):
            if turn.stop_requested:
                st.caption("Stopping…")
            else:
                st.button(
                    "Stop",
                    key=f"huddle_stop_{turn_id}",
                    icon=":material/stop_circle:",
                    type="tertiary",
                    on_click=services.turns.request_stop,
                    args=(user_id, turn_id),
                )
    held = state.held_message(turn.session_id)
    if held is not None:
        with st.chat_message("user"):
            st.markdown(escape_markdown(held, keep_lines=True))
            st.caption("Waits until the reply above is done.")
