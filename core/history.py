"""What the History page shows: a page of sessions (listed, or found by search), ids to act on.

The page asks for one thing per render: `history_page`, which runs one page query and
one count (the listing's, or the grouped search's) plus one small query for the tools
of the page's own sessions. Exports and bulk actions over "everything that matches"
take `matching_session_ids`, which returns ids only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from core.models import ChatSession, ToolCall
from core.query import HistoryQuery
from core.search import SearchHit
from core.search import matching_session_ids as text_matching_session_ids
from core.session_search import search_sessions
from core.store import ConversationStore

PAGE_SIZE = 50
LIST_SORTS = {
    "recent": "Last activity",
    "created": "Created",
    "title": "Title",
    "messages": "Most messages",
    "words": "Most words",
}
SEARCH_SORTS = {"relevance": "Relevance", "recent": "Newest match"}


@dataclass(frozen=True)
class HistoryRow:
    """One row of the History table, with its hits when the page is a search."""

    session: ChatSession
    tools: list[str] = field(default_factory=list)
    hits: int | None = None
    snippets: list[SearchHit] = field(default_factory=list)

    @property
    def last_activity(self) -> datetime:
        return self.session.last_message_at or self.session.created_at


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    total: int
    page: int
    pages: int
    page_size: int
    searching: bool
    total_capped: bool = False

    @property
    def first(self) -> int:
        """1-based position of the first row shown (0 when nothing is shown)."""
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    def describe_range(self) -> str:
        """ "51–100 of 20,000" (or "No conversations")."""
        if not self.total:
            return "No conversations"
        more = "+" if self.total_capped else ""
        return f"{self.first:,}–{self.last:,} of {self.total:,}{more}"


def pages_for(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // page_size))


def history_page(
    store: ConversationStore,
    user_id: int,
    query: HistoryQuery,
    *,
    sort: str = "recent",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> HistoryPage:
    """The requested page of the coach's sessions; a page past the end gives the last page."""
    page = max(1, int(page))
    if query.searching:
        order = sort if sort in SEARCH_SORTS else "relevance"

        def fetch(number: int):
            return search_sessions(
                store.db,
                user_id,
                query,
                order=order,
                limit=page_size,
                offset=(number - 1) * page_size,
            )
    else:
        order = sort if sort in LIST_SORTS else "recent"

        def fetch(number: int):
            return store.list_sessions(
                user_id, query.filters, sort=order, limit=page_size, offset=(number - 1) * page_size
            )

    found = fetch(page)
    if not found.items and found.total and page > 1:
        # A bookmark or a deletion elsewhere can leave the asked page past the end.
        page = pages_for(found.total, page_size)
        found = fetch(page)
    if query.searching:
        matches = found.items
        sessions = [match.session for match in matches]
    else:
        matches = [None] * len(found.items)
        sessions = found.items
    tools = tools_by_session(store, user_id, [session.id for session in sessions])
    rows = [
        HistoryRow(
            session,
            tools.get(session.id, []),
            match.hits if match else None,
            match.snippets if match else [],
        )
        for session, match in zip(sessions, matches, strict=True)
    ]
    return HistoryPage(
        rows,
        found.total,
        page,
        pages_for(found.total, page_size),
        page_size,
        searching=query.searching,
        total_capped=getattr(found, "total_capped", False),
    )


def tools_by_session(
    store: ConversationStore, user_id: int, session_ids: Sequence[str]
) -> dict[str, list[str]]:
    """The names of the tools called in each of these sessions (the coach's only), sorted."""
    found: dict[str, set[str]] = defaultdict(set)
    if not session_ids:
        return {}
    with store.db.reading() as session:
        rows = session.execute(
            select(ToolCall.session_id, ToolCall.name)
            .where(ToolCall.user_id == user_id, ToolCall.session_id.in_(list(session_ids)))
            .distinct()
        ).all()
    for session_id, name in rows:
        found[session_id].add(name)
    return {session_id: sorted(names) for session_id, names in found.items()}


def matching_session_ids(
    store: ConversationStore, user_id: int, query: HistoryQuery, *, sort: str = "recent"
) -> list[str]:
    """Every session id the search and filters match, in the listing's order (ids only).

    For "export everything that matches": the filters pick the sessions, the words (when
    there are any) keep those with at least one matching message.
    """
    listed = store.session_ids_matching(
        user_id, query.filters, sort=sort if sort in LIST_SORTS else "recent"
    )
    if not query.searching:
        return listed
    with_words = set(text_matching_session_ids(store.db, user_id, query.text))
    return [session_id for session_id in listed if session_id in with_words]
