"""The per-browser-session state of Huddle's pages: every st.session_state key, in one place.

Huddle keeps little state of its own in the browser session; what a coach sees is read from
the database on each run. The keys it owns all start with `huddle_`:

- `huddle_authenticator`  the streamlit-authenticator object, built once per browser session
  (building it twice in one run raises DuplicateWidgetID for its cookie component).
- `huddle_open_session`   {kind: session id or None}: the conversation open on the chat page
  ("chat") and on the drill page ("drill"); None is a fresh conversation not stored yet. A kind
  missing from the dict means "open the coach's most recent one".
- `huddle_shown_messages` {session id: n}: how many of the latest messages the page shows
  ("Load older messages" raises it).
- `huddle_sidebar_limit`  {kind: n}: how many sessions the sidebar lists.
- `huddle_pending_turn`   PendingTurn: a message sent (or a Retry clicked) that this run streams.
- `huddle_dialog`         DialogRequest: the confirmation dialog that is open, if any.
- `huddle_notice`         (level, sentence): a message to show once on the next run.

streamlit-authenticator owns `authentication_status`, `name`, `username`, `email`, `roles`,
`logout` and `password_hint`; Huddle reads them and never uses them as widget keys.
Widget keys Huddle creates start with `huddle_` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

AUTHENTICATOR = "huddle_authenticator"
OPEN_SESSION = "huddle_open_session"
SHOWN_MESSAGES = "huddle_shown_messages"
SIDEBAR_LIMIT = "huddle_sidebar_limit"
PENDING_TURN = "huddle_pending_turn"
DIALOG = "huddle_dialog"
NOTICE = "huddle_notice"

NoticeLevel = Literal["success", "info", "warning", "error"]


@dataclass(frozen=True)
class PendingTurn:
    """A turn to stream in the next run: `text` to send, or None to retry the failed reply."""

    kind: str
    session_id: str | None
    text: str | None


@dataclass(frozen=True)
class DialogRequest:
    """Which dialog is open: "rename" or "delete" (a session), or "password"."""

    name: str
    session_id: str | None = None


def _mapping(key: str) -> dict[str, Any]:
    return st.session_state.setdefault(key, {})


def is_open_known(kind: str) -> bool:
    """True once the page of this kind has chosen a conversation in this browser session."""
    return kind in _mapping(OPEN_SESSION)


def open_session_id(kind: str) -> str | None:
    return _mapping(OPEN_SESSION).get(kind)


def set_open_session(kind: str, session_id: str | None) -> None:
    """Open a conversation (None: a fresh one) and put it in the URL, so a refresh keeps it."""
    _mapping(OPEN_SESSION)[kind] = session_id
    link_session(session_id)


def forget_open_session(kind: str) -> None:
    """Let the page open the coach's most recent conversation again."""
    _mapping(OPEN_SESSION).pop(kind, None)


def link_session(session_id: str | None) -> None:
    """Keep `?session=` in the URL equal to the open conversation (a refresh reopens it)."""
    if session_id is None:
        st.query_params.pop("session", None)
    elif st.query_params.get("session") != session_id:
        st.query_params["session"] = session_id


def linked_session() -> str | None:
    """The conversation the URL names (`?session=`), if any."""
    return st.query_params.get("session") or None


def shown_messages(session_id: str, default: int) -> int:
    return _mapping(SHOWN_MESSAGES).get(session_id, default)


def show_more_messages(session_id: str, step: int, default: int) -> None:
    shown = _mapping(SHOWN_MESSAGES)
    shown[session_id] = shown.get(session_id, default) + step


def sidebar_limit(kind: str, default: int) -> int:
    return _mapping(SIDEBAR_LIMIT).get(kind, default)


def show_more_sessions(kind: str, step: int, default: int) -> None:
    limits = _mapping(SIDEBAR_LIMIT)
    limits[kind] = limits.get(kind, default) + step


def queue_turn(turn: PendingTurn) -> None:
    st.session_state[PENDING_TURN] = turn


def take_pending_turn(kind: str) -> PendingTurn | None:
    """The turn queued for this page, removed so that a rerun never sends it twice."""
    turn = st.session_state.get(PENDING_TURN)
    if isinstance(turn, PendingTurn) and turn.kind == kind:
        del st.session_state[PENDING_TURN]
        return turn
    return None


def open_dialog(name: str, session_id: str | None = None) -> None:
    st.session_state[DIALOG] = DialogRequest(name, session_id)


def close_dialog() -> None:
    st.session_state.pop(DIALOG, None)


def current_dialog() -> DialogRequest | None:
    dialog = st.session_state.get(DIALOG)
    return dialog if isinstance(dialog, DialogRequest) else None


def notify(level: NoticeLevel, sentence: str) -> None:
    """Show a sentence on the next run (e.g. after a dialog closes with st.rerun)."""
    st.session_state[NOTICE] = (level, sentence)


def show_notice() -> None:
    """Show, once, the sentence left by notify()."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        level, sentence = notice
        getattr(st, level)(sentence)
