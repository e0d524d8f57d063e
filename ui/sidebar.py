"""The session sidebar: New chat, the coach's conversations by day, and rename / pin / delete."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo

import streamlit as st

from core.errors import HuddleError
from core.models import ChatSession
from core.store import MAX_TITLE_CHARS, SessionFilter
from ui import state
from ui.auth import Coach
from ui.conversation import Conversation
from ui.markdown import escape_markdown
from ui.page_style import MENU_KEY_PREFIX, ROW_KEY_PREFIX
from ui.services import Services
from ui.timezone import browser_timezone

SIDEBAR_PAGE = 30
NEW_LABELS = {"chat": "New chat", "drill": "New drill"}
LIST_HEADINGS = {"chat": "Your chats", "drill": "Your drill chats"}
WRITING_ICON = ":material/edit_note:"
WRITING_HELP = "A reply is being written in this conversation."
# How often a page re-reads which replies are being written, while the sidebar marks any.
WATCH_S = 1.0


def session_sidebar(services: Services, coach: Coach, conversation: Conversation) -> None:
    """The sidebar of a chat page, and the rename / delete dialogs it opens."""
    kind = conversation.kind
    limit = state.sidebar_limit(kind, SIDEBAR_PAGE)
    page = services.store.list_sessions(
        coach.id, SessionFilter(kind=kind), sort="recent", limit=limit
    )
    writing = services.turns.running_sessions(coach.id)
    zone = browser_timezone()
    labels = _labels(page.items, zone)
    with st.sidebar:
        st.button(
            NEW_LABELS[kind],
            key=f"huddle_new_{kind}",
            icon=":material/add:",
            type="primary",
            width="stretch",
            on_click=state.set_open_session,
            args=(kind, None),
        )
        st.subheader(LIST_HEADINGS[kind], anchor=False)
        if not page.items:
            st.caption("Nothing yet: your conversations will be listed here.")
        for heading, sessions in group_by_day(page.items, zone):
            st.caption(heading)
            for session in sessions:
                label = labels[session.id]
                _session_row(services, coach, conversation, session, label, session.id in writing)
        if page.has_more:
            st.button(
                "Show more",
                key=f"huddle_more_sessions_{kind}",
                type="tertiary",
                on_click=state.show_more_sessions,
                args=(kind, SIDEBAR_PAGE, SIDEBAR_PAGE),
            )
    _open_dialog(services, coach, conversation)
    # One place in the page either way, so what follows keeps its place when the marks go
    # (an element that moves is drawn twice for a moment, at its old place and its new).
    if writing:
        _watch_writing(services, coach.id, frozenset(writing))
    else:
        st.empty()


@st.fragment(run_every=WATCH_S)
def _watch_writing(services: Services, user_id: int, shown: frozenset[str]) -> None:
    """While the sidebar marks replies being written, rerun the page once any of them ends
    (or another starts), so no mark stays after its reply is done."""
    if services.turns.running_sessions(user_id) != shown:
        st.rerun()


def _labels(sessions: list[ChatSession], zone: tzinfo) -> dict[str, str]:
    """Each row's label: the title, with when it was last active where titles repeat, and
    the start of its last message where even that repeats."""
    titles = Counter(session.title for session in sessions)
    labels = {
        session.id: f"{session.title} · {_when(session, zone)}"
        if titles[session.title] > 1
        else session.title
        for session in sessions
    }
    repeated = Counter(labels.values())
    for session in sessions:
        if repeated[labels[session.id]] > 1 and session.preview:
            labels[session.id] += f" · {session.preview[:30]}"
    return labels


def _when(session: ChatSession, zone: tzinfo) -> str:
    """When a conversation was last active, to tell apart two with the same title."""
    active = (session.last_message_at or session.created_at).astimezone(zone)
    return f"{active.day} {active:%b %H:%M}"


def group_by_day(
    sessions: list[ChatSession], zone: tzinfo, now: datetime | None = None
) -> Iterator[tuple[str, list[ChatSession]]]:
    """Pinned first, then Today / Yesterday / Previous 7 days / Older (in the coach's zone)."""
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    groups: dict[str, list[ChatSession]] = {}
    for session in sessions:
        if session.pinned:
            heading = "Pinned"
        else:
            active = (session.last_message_at or session.created_at).astimezone(zone).date()
            if active >= today:
                heading = "Today"
            elif active == today - timedelta(days=1):
                heading = "Yesterday"
            elif active > today - timedelta(days=8):
                heading = "Previous 7 days"
            else:
                heading = "Older"
        groups.setdefault(heading, []).append(session)
    for heading in ("Pinned", "Today", "Yesterday", "Previous 7 days", "Older"):
        if heading in groups:
            yield heading, groups[heading]


def _session_row(
    services: Services,
    coach: Coach,
    conversation: Conversation,
    session: ChatSession,
    label: str,
    writing: bool,
) -> None:
    """One conversation; `writing` marks one whose reply is still being written."""
    is_open = session.id == conversation.session_id
    # A horizontal container, not columns: columns stack on a phone, which would put the
    # menu under its row.
    row = st.container(
        horizontal=True,
        gap="small",
        vertical_alignment="center",
        key=f"{ROW_KEY_PREFIX}{session.id}",
    )
    row.button(
        escape_markdown(label),
        key=f"huddle_open_{session.id}",
        type="secondary" if is_open else "tertiary",
        width="content",
        icon=WRITING_ICON if writing else None,
        # A tooltip renders Markdown: the preview is shown as the plain text it is.
        help=WRITING_HELP if writing else (escape_markdown(session.preview) or None),
        on_click=state.set_open_session,
        args=(conversation.kind, session.id),
    )
    # Keyed by the conversation, so the menu belongs to its row, not to a place in the list
    # (after Pin the rows move, and a menu left open would act on the row that slid in).
    menu = row.popover(
        f"Rename, pin or delete {escape_markdown(label)}",  # read out, not shown (ui/page_style.py)
        icon=":material/more_vert:",
        type="tertiary",
        help="Rename, pin or delete this conversation",
        key=menu_key(session.id),
        on_change="rerun",
    )
    with menu:
        st.button(
            "Rename",
            key=f"huddle_rename_{session.id}",
            icon=":material/edit:",
            on_click=state.open_dialog,
            args=("rename", session.id),
        )
        st.button(
            "Unpin" if session.pinned else "Pin",
            key=f"huddle_pin_{session.id}",
            icon=":material/keep_off:" if session.pinned else ":material/keep:",
            on_click=_set_pinned,
            args=(services, coach, session.id, not session.pinned),
        )
        st.button(
            "Delete",
            key=f"huddle_delete_{session.id}",
            icon=":material/delete:",
            on_click=state.open_dialog,
            args=("delete", session.id),
        )


def menu_key(session_id: str) -> str:
    return f"{MENU_KEY_PREFIX}{session_id}"


def _set_pinned(services: Services, coach: Coach, session_id: str, pinned: bool) -> None:
    st.session_state[menu_key(session_id)] = False  # the row moves: close its menu
    try:
        services.store.set_pinned(coach.id, session_id, pinned)
    except HuddleError as exc:
        state.notify("warning", str(exc))


def _open_dialog(services: Services, coach: Coach, conversation: Conversation) -> None:
    dialog = state.current_dialog()
    if dialog is None or dialog.name not in ("rename", "delete") or dialog.session_id is None:
        return
    try:
        session = services.store.get_session(coach.id, dialog.session_id)
    except HuddleError:
        state.close_dialog()
        return
    if dialog.name == "rename":
        _rename_dialog(services, coach, session)
    else:
        _delete_dialog(services, coach, conversation, session)


@st.dialog("Rename conversation", on_dismiss=state.close_dialog)
def _rename_dialog(services: Services, coach: Coach, session: ChatSession) -> None:
    with st.form(f"huddle_rename_form_{session.id}", border=False):
        title = st.text_input(
            "Title",
            value=session.title,
            max_chars=MAX_TITLE_CHARS,
            key=f"huddle_rename_title_{session.id}",
        )
        saved = st.form_submit_button("Save", type="primary")
    if not saved:
        return
    try:
        services.store.rename_session(coach.id, session.id, title)
    except HuddleError as exc:
        st.error(str(exc))
        return
    state.close_dialog()
    state.notify("success", "Conversation renamed.")
    st.rerun()


@st.dialog("Delete conversation?", on_dismiss=state.close_dialog)
def _delete_dialog(
    services: Services, coach: Coach, conversation: Conversation, session: ChatSession
) -> None:
    count = session.message_count
    st.write(
        f"**{escape_markdown(session.title)}** and its {count} message"
        f"{'' if count == 1 else 's'} will be deleted for good."
    )
    with st.container(horizontal=True):
        confirmed = st.button("Delete", key="huddle_confirm_delete", type="primary")
        cancelled = st.button("Cancel", key="huddle_cancel_delete")
    if confirmed:
        try:
            services.store.delete_session(coach.id, session.id)
        except HuddleError as exc:
            st.error(str(exc))
            return
        if session.id == conversation.session_id:
            state.forget_open_session(conversation.kind)
            state.link_session(None)
        state.close_dialog()
        state.notify("success", "Conversation deleted.")
        st.rerun()
    if cancelled:
        state.close_dialog()
        st.rerun()
