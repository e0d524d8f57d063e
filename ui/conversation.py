"""Which conversation a page shows (deep link, this session's, or the latest) and its header."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import streamlit as st

from core.errors import NotFound
from core.models import ChatSession
from ui import state
from ui.auth import Coach
from ui.downloads import session_downloads
from ui.markdown import escape_markdown
from ui.services import Services
from ui.shell import page_for_kind

FRESH_TITLES = {"chat": "New chat", "drill": "New drill"}
SEQ_PATTERN = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Conversation:
    """The conversation open on a page; `session` is None for a fresh one, stored on first use.

    `found_seq` is the message a search hit opened it at (`?seq=`), shown marked.
    """

    kind: str
    session: ChatSession | None
    found_seq: int | None = None

    @property
    def session_id(self) -> str | None:
        return self.session.id if self.session else None

    @property
    def title(self) -> str:
        return self.session.title if self.session else FRESH_TITLES[self.kind]


def open_conversation(services: Services, coach: Coach, kind: str) -> Conversation:
    """The conversation of this kind to show, kept in the URL (`?session=`) for a refresh.

    A `?session=` naming another conversation than the open one is a deep link: it opens when
    it is the coach's own (on the page of its kind). Otherwise the page keeps what it had open
    in this browser session, or opens the coach's most recent conversation. A `?seq=` beside
    the link (a search hit) opens the conversation at that message.
    """
    conversation = _choose_conversation(services, coach, kind)
    problem = state.link_problem(kind)
    if problem is not None:
        # Kept on screen (the address no longer names it) until the coach acts.
        st.warning(problem)
    if state.linked_seq() is None:
        return conversation
    if conversation.session is None or conversation.session.id != state.linked_session():
        state.drop_found_message()
        return conversation
    return replace(conversation, found_seq=_found_seq(conversation.session))


def _found_seq(session: ChatSession) -> int | None:
    """The message number of `?seq=` when this conversation has it; else a sentence, and None."""
    raw = state.linked_seq() or ""
    if not SEQ_PATTERN.fullmatch(raw):
        st.warning(
            "That link names no message of this conversation: its latest messages are shown."
        )
        state.drop_found_message()
        return None
    seq = int(raw)
    if not 1 <= seq <= session.last_seq:
        st.warning("That message is not in this conversation: its latest messages are shown.")
        state.drop_found_message()
        return None
    return seq


def _choose_conversation(services: Services, coach: Coach, kind: str) -> Conversation:
    store = services.store
    wanted = state.linked_session()
    if wanted and wanted != state.open_session_id(kind):
        try:
            session = store.get_session(coach.id, wanted)
        except NotFound:
            state.set_open_session(kind, None)
            state.report_link_problem(kind, "That conversation was not found.")
            return Conversation(kind, None)
        if session.kind != kind:
            # A link to a drill conversation from the chat page (or the reverse).
            link = {"session": session.id}
            if state.linked_seq() is not None:
                link["seq"] = state.linked_seq()
            st.switch_page(page_for_kind(session.kind), query_params=link)
        state.set_open_session(kind, session.id)
        return Conversation(kind, session)
    if state.is_open_known(kind):
        session_id = state.open_session_id(kind)
        if session_id is None:
            state.link_session(None)
            return Conversation(kind, None)
        try:
            session = store.get_session(coach.id, session_id)
        except NotFound:
            pass  # deleted meanwhile (another tab): open the latest instead
        else:
            state.link_session(session.id)
            return Conversation(kind, session)
    latest = store.latest_session(coach.id, kind=kind)
    state.set_open_session(kind, latest.id if latest else None)
    return Conversation(kind, latest)


def conversation_header(services: Services, coach: Coach, conversation: Conversation) -> None:
    """The title, the model badge and the Download menu."""
    title_column, tools_column = st.columns([3, 2], vertical_alignment="center")
    with title_column:
        st.subheader(escape_markdown(conversation.title), anchor=False)
    with tools_column, st.container(horizontal=True, horizontal_alignment="right"):
        if services.engine.model.offline:
            st.badge(services.model_label, icon=":material/cloud_off:", color="gray")
        else:
            st.badge(services.model_label, icon=":material/auto_awesome:", color="violet")
        if conversation.session is not None and conversation.session.message_count:
            session_downloads(services, coach.id, conversation.session)
