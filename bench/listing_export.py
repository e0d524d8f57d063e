"""The session list a coach sees (one page of 50) and the Markdown export of one session, timed.

The list is timed as the sidebar asks for it (`ConversationStore.list_sessions`, one page
of the coach's chats, newest first) and as the History page's plain listing asks for it
(`core.history.history_page`: the page, its count and the tools of its sessions). Counts
and previews are columns of the session row, so neither reads a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.machine import traced_peak
from core.history import PAGE_SIZE, history_page
from core.markdown_export import session_markdown
from core.query import parse_history_query
from core.session_list import SessionFilter
from core.store import ConversationStore

WARM_UP = 3


@dataclass(frozen=True)
class ListTimings:
    sessions: int  # the coach's sessions
    sidebar_ms: list[float]  # list_sessions: one page of PAGE_SIZE chats
    history_ms: list[float]  # history_page: the History page's first page, unfiltered


@dataclass(frozen=True)
class MarkdownTimings:
    messages: int
    tool_calls: int
    bytes: int
    ms: list[float]
    peak: int  # tracemalloc peak, bytes


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _repeat(call: Callable[[], object], runs: int) -> list[float]:
    for _ in range(WARM_UP):
        call()
    return [_timed(call) for _ in range(runs)]


def time_session_list(store: ConversationStore, user_id: int, runs: int) -> ListTimings:
    """One page of 50 with counts and previews: the sidebar's call and the History list's."""
    listing = parse_history_query("", SessionFilter(archived=False))
    sidebar = SessionFilter(kind="chat")

    def sidebar_page() -> None:
        page = store.list_sessions(user_id, sidebar, sort="recent", limit=PAGE_SIZE)
        if len(page.items) != min(PAGE_SIZE, page.total):
            raise RuntimeError("The sidebar's page is short.")

    total = history_page(store, user_id, listing).total
    return ListTimings(
        sessions=total,
        sidebar_ms=_repeat(sidebar_page, runs),
        history_ms=_repeat(lambda: history_page(store, user_id, listing), runs),
    )


def time_markdown(
    store: ConversationStore, user_id: int, session_id: str, runs: int
) -> MarkdownTimings:
    """session_markdown of one session: time (untraced), then its tracemalloc peak apart."""
    text = session_markdown(store, user_id, session_id)
    chat = store.get_session(user_id, session_id)
    tool_calls = len(store.list_tool_calls(user_id, session_id))
    return MarkdownTimings(
        messages=chat.message_count,
        tool_calls=tool_calls,
        bytes=len(text.encode()),
        ms=_repeat(lambda: session_markdown(store, user_id, session_id), runs),
        peak=traced_peak(lambda: session_markdown(store, user_id, session_id)),
    )
