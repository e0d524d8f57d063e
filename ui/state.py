"""The per-browser-session state of Huddle's pages: every st.session_state key, in one place.

Huddle keeps little state of its own in the browser session; what a coach sees is read from
the database on each run, a reply being written included (core/turns.py, ui/turn.py). The
keys it owns all start with `huddle_`:

- `huddle_authenticator`  the streamlit-authenticator object, built once per browser session,
  with Huddle's cookie controller and credential check in it (ui/login_session.py).
- `huddle_login_session`  the raw id of this tab's log-in row, checked every run.
- `huddle_login_wait`     how long a refused log-in must wait (set by the check, shown once).
- `huddle_cookie_writes`  cookies queued for the page's script to write.
- `huddle_open_session`   {kind: session id or None}: the conversation open on the chat page
  ("chat") and on the drill page ("drill"); None is a fresh conversation not stored yet. A kind
  missing from the dict means "open the coach's most recent one".
- `huddle_shown_messages` {session id: n}: how many of the latest messages the page shows
  ("Load older messages" raises it).
- `huddle_found_window`   {session id: FoundWindow}: the messages shown around a search hit
  while the URL names one (`?session=ID&seq=N`); "Load older" / "Load newer" widen it.
- `huddle_scroll_to_latest` True once the page leaves a search hit (a message sent, "Jump to
  latest", another conversation): the next run scrolls the messages to their end.
- `huddle_sidebar_limit`  {kind: n}: how many sessions the sidebar lists.
- `huddle_dialog`         DialogRequest: the confirmation dialog that is open, if any.
- `huddle_notice`         (level, sentence): a message to show once on the next run.
- `huddle_long_draft`     {kind: text}: a message sent over MAX_MESSAGE_CHARS, kept in an
  editor on that page until it is shortened and sent, or discarded (ui/turn.py).
- `huddle_held_message`   {session id: text}: a message sent while that conversation's reply
  was still being written; it is sent when the reply is done (ui/turn.py).
- `huddle_link_problem`   (kind, sentence): why a `?session=` link opened nothing, shown on
  that page until the coach opens a conversation or sends a message.
- `huddle_history_selected` [session id]: the History table's selection, as ids (the table
  reports positions; ui.history_table maps them).
- `huddle_history_delete_ids` [session id]: what the History page's delete dialog asks about.
- `huddle_history_import`  the import panel's preview of the file last uploaded.

The History page's filter widgets are bound to the address (`bind="query-params"`), and such a
widget's key is its query parameter's name: `q`, `kind`, `show`, `tags`, `tool`, `drill`,
`dates`, `sort`, `order`, `page`, `tab` (ui.history_filters lists them); the drill library's
start with `huddle_drills_`. The Analytics page's are `period`, `range`, `kind`, `tool`, `tz`,
and for admins `view` and `coach` (ui.analytics_controls). A bound widget's state only lives
while its page is shown, so the History and Analytics pages' `kind` and `tool` never meet.

streamlit-authenticator owns `authentication_status`, `name`, `username`, `email`, `roles`,
`logout` and `password_hint`; Huddle reads them and never uses them as widget keys.
Widget keys Huddle creates start with `huddle_` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

AUTHENTICATOR = "huddle_authenticator"
# The raw id of this tab's log-in row (core/login_sessions.py), and how long a refused
# log-in must wait.
LOGIN_SESSION = "huddle_login_session"
LOGIN_WAIT = "huddle_login_wait"
# Cookies to write in the page (ui/login_session.py).
COOKIE_WRITES = "huddle_cookie_writes"
OPEN_SESSION = "huddle_open_session"
SHOWN_MESSAGES = "huddle_shown_messages"
FOUND_WINDOW = "huddle_found_window"
SCROLL_TO_LATEST = "huddle_scroll_to_latest"
SIDEBAR_LIMIT = "huddle_sidebar_limit"
DIALOG = "huddle_dialog"
NOTICE = "huddle_notice"
LINK_PROBLEM = "huddle_link_problem"
HELD_MESSAGE = "huddle_held_message"
LONG_DRAFT = "huddle_long_draft"
HISTORY_SELECTED = "huddle_history_selected"
HISTORY_IMPORT = "huddle_history_import"
HISTORY_DELETE = "huddle_history_delete_ids"

NoticeLevel = Literal["success", "info", "warning", "error"]


@dataclass(frozen=True)
class FoundWindow:
    """The messages shown around the message `seq` a search hit names: `count` from `first` on."""

    seq: int
    first: int
    count: int


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
    st.session_state.pop(LINK_PROBLEM, None)  # the coach acted


def keep_long_draft(kind: str, text: str, problem: str | None = None) -> None:
    """Keep a message that could not be sent, to edit and send again: too long (no
    `problem`), or refused for the `problem` sentence (the database could not store it)."""
    _mapping(LONG_DRAFT)[kind] = (text, problem)


def long_draft(kind: str) -> tuple[str, str | None] | None:
    return _mapping(LONG_DRAFT).get(kind)


def drop_long_draft(kind: str) -> None:
    _mapping(LONG_DRAFT).pop(kind, None)


def hold_message(session_id: str, text: str) -> None:
    """Keep a message sent while the conversation's reply is written, to send it after."""
    held = _mapping(HELD_MESSAGE)
    held[session_id] = f"{held[session_id]}\n\n{text}" if session_id in held else text


def held_message(session_id: str) -> str | None:
    return _mapping(HELD_MESSAGE).get(session_id)


def take_held_message(session_id: str) -> str | None:
    return _mapping(HELD_MESSAGE).pop(session_id, None)


def report_link_problem(kind: str, sentence: str) -> None:
    """Say why the address's conversation did not open, until the coach acts."""
    st.session_state[LINK_PROBLEM] = (kind, sentence)


def link_problem(kind: str) -> str | None:
    found = st.session_state.get(LINK_PROBLEM)
    return found[1] if isinstance(found, tuple) and found[0] == kind else None


def clear_link_problem() -> None:
    st.session_state.pop(LINK_PROBLEM, None)


def forget_open_session(kind: str) -> None:
    """Let the page open the coach's most recent conversation again."""
    _mapping(OPEN_SESSION).pop(kind, None)


def forget_open_sessions() -> None:
    """After log-out: no conversation is open on any page."""
    st.session_state.pop(OPEN_SESSION, None)


def link_session(session_id: str | None) -> None:
    """Keep `?session=` in the URL equal to the open conversation (a refresh reopens it).

    A search hit's `?seq=` belongs to the conversation it came with, so it goes when that does.
    """
    if st.query_params.get("session") == session_id:
        return
    drop_found_message()
    if session_id is None:
        st.query_params.pop("session", None)
    else:
        st.query_params["session"] = session_id


def linked_session() -> str | None:
    """The conversation the URL names (`?session=`), if any."""
    return st.query_params.get("session") or None


def linked_seq() -> str | None:
    """The message the URL names (`?seq=`, as typed: it may be no number at all), if any."""
    return st.query_params.get("seq") or None


def drop_found_message() -> None:
    """Back to the latest messages: the search hit's mark and its window go."""
    if "seq" in st.query_params:
        st.session_state[SCROLL_TO_LATEST] = True
    st.query_params.pop("seq", None)
    session_id = st.query_params.get("session")
    if session_id:
        _mapping(FOUND_WINDOW).pop(session_id, None)


def take_scroll_to_latest() -> bool:
    """True once after the page left a search hit (the view was kept away from the end)."""
    return bool(st.session_state.pop(SCROLL_TO_LATEST, False))


def found_window(session_id: str, seq: int, default: FoundWindow) -> FoundWindow:
    """The window shown around message `seq`; `default` until the coach widens it."""
    window = _mapping(FOUND_WINDOW).get(session_id)
    return window if isinstance(window, FoundWindow) and window.seq == seq else default


def widen_found_window(session_id: str, window: FoundWindow, older: int, newer: int) -> None:
    """Show `older` more messages before the window and `newer` more after it."""
    first = max(1, window.first - older)
    count = window.count + (window.first - first) + newer
    _mapping(FOUND_WINDOW)[session_id] = FoundWindow(window.seq, first, count)


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
