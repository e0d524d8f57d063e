"""The drill page's side panel: "My drills", the current drill as a card, its conversations."""

from __future__ import annotations

import streamlit as st

from core.drills import SESSION_TITLE_PREFIX
from core.errors import NotFound
from core.models import Drill
from ui import state
from ui.auth import Coach
from ui.conversation import Conversation
from ui.downloads import drill_download
from ui.markdown import escape_markdown
from ui.page_style import DRILL_PANE_KEY
from ui.services import Services

MY_DRILLS_LIMIT = 200
# The chat and the drill panel scroll inside panes of this height, so the card stays in view
# beside a long conversation (on a phone the page scrolls instead: ui/page_style.py).
PANE_HEIGHT_PX = 560
NEW_DRILL = "new"


def drill_panel(services: Services, coach: Coach, conversation: Conversation) -> None:
    """Draw the picker, the card and the drill's conversations.

    A drill tool of a turn in progress stores its round, which reruns the page
    (ui/turn.py), so the card shows the drill as the tool left it.
    """
    drill = _open_session_drill(services, coach, conversation.session_id)
    with st.container(height=PANE_HEIGHT_PX, border=False, key=DRILL_PANE_KEY):
        _my_drills(services, coach, conversation, drill)
        drill_card(drill)
        if drill is not None:
            drill_download(drill)
            _drill_conversations(services, coach, conversation, drill)


def _open_session_drill(services: Services, coach: Coach, session_id: str | None) -> Drill | None:
    if session_id is None:
        return None
    try:
        drill_id = services.store.get_session(coach.id, session_id).drill_id
        return services.store.get_drill(coach.id, drill_id) if drill_id else None
    except NotFound:
        return None


def _my_drills(
    services: Services, coach: Coach, conversation: Conversation, current: Drill | None
) -> None:
    """A picker of the coach's drills; choosing one reopens its conversation."""
    drills = services.store.list_drills(coach.id, limit=MY_DRILLS_LIMIT)
    titles = {NEW_DRILL: "＋ Start a new drill"} | {drill.id: drill.title for drill in drills}
    if current is not None:
        titles.setdefault(current.id, current.title)
    options = list(titles)
    # Keyed by the open conversation and its drill, so the picker shows the drill whenever
    # either changes (a turn in progress saves the drill after the picker was first drawn).
    key = my_drills_key(conversation.session_id, current)
    st.selectbox(
        "My drills",
        options,
        index=options.index(current.id) if current is not None else None,
        format_func=titles.__getitem__,
        placeholder="Open one of your drills",
        key=key,
        on_change=_open_drill,
        args=(services, coach, key),
    )


def my_drills_key(session_id: str | None, drill: Drill | None) -> str:
    return f"huddle_my_drills_{session_id}_{drill.id if drill else 'none'}"


def _open_drill(services: Services, coach: Coach, key: str) -> None:
    """Reopen the drill's latest conversation (or start one about it if none is left)."""
    drill_id = st.session_state.get(key)
    if drill_id == NEW_DRILL:
        state.set_open_session("drill", None)
        return
    if not drill_id:
        return
    try:
        sessions = services.store.sessions_for_drill(coach.id, drill_id)
        if sessions:
            session_id = sessions[0].id
        else:
            drill = services.store.get_drill(coach.id, drill_id)
            session_id = services.store.create_session(coach.id, kind="drill", drill_id=drill.id).id
            services.store.set_auto_title(coach.id, session_id, SESSION_TITLE_PREFIX + drill.title)
    except NotFound as exc:
        state.notify("warning", str(exc))
        return
    state.set_open_session("drill", session_id)


def _facts(drill: Drill) -> list[str]:
    facts = [
        drill.sport.capitalize() if drill.sport else "",
        drill.age_group,
        f"{drill.players} players" if drill.players else "",
        f"{drill.duration_min} min" if drill.duration_min else "",
    ]
    return [fact for fact in facts if fact]


def drill_card(drill: Drill | None) -> None:
    """The drill as a card; everything in it is shown as typed (escaped Markdown)."""
    with st.container(border=True):
        if drill is None:
            st.markdown("**No drill yet**")
            st.caption("Describe one in the chat and it appears here, updated after every change.")
            return
        st.markdown(f"### {escape_markdown(drill.title)}")
        facts = _facts(drill)
        if facts:
            with st.container(horizontal=True, gap="small"):
                for fact in facts:
                    st.badge(fact, color="green")
        if drill.objective:
            st.markdown(escape_markdown(drill.objective, keep_lines=True))
        if drill.equipment:
            st.markdown("**Equipment** · " + ", ".join(escape_markdown(e) for e in drill.equipment))
        if drill.setup:
            st.markdown("**Setup**")
            st.markdown(escape_markdown(drill.setup, keep_lines=True))
        _list_section("Steps", drill.steps, numbered=True)
        _list_section("Coaching points", drill.coaching_points)
        _list_section("Progressions", drill.progressions)


def _list_section(heading: str, items: list[str], *, numbered: bool = False) -> None:
    if not items:
        return
    st.markdown(f"**{heading}**")
    st.markdown(
        "\n".join(
            f"{f'{index}.' if numbered else '-'} {escape_markdown(item)}"
            for index, item in enumerate(items, start=1)
        )
    )


def _drill_conversations(
    services: Services, coach: Coach, conversation: Conversation, drill: Drill
) -> None:
    sessions = services.store.sessions_for_drill(coach.id, drill.id)
    st.markdown("**Conversations about this drill**")
    for session in sessions:
        is_open = session.id == conversation.session_id
        st.button(
            escape_markdown(session.title),
            key=f"huddle_drill_session_{session.id}",
            icon=":material/chat_bubble:" if is_open else ":material/chat_bubble_outline:",
            type="secondary" if is_open else "tertiary",
            disabled=is_open,
            on_click=state.set_open_session,
            args=("drill", session.id),
        )
