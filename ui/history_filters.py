"""The History page's search box and filter widgets, kept in the page's address.

Every widget here is bound to a query parameter (`bind="query-params"`), so a search is a
bookmark: the widget's key is the parameter's name (`?q=rondo&kind=drill&page=2`). The
widgets build a SessionFilter; the operators typed in the box (`tag:u12`, `kind:drill`, …)
are parsed in core.query on top of it, so both ways mean the same filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

import streamlit as st

from core.history import LIST_SORTS, SEARCH_SORTS
from core.query import HistoryQuery, parse_history_query
from core.store import SessionFilter
from ui.auth import Coach
from ui.markdown import escape_markdown
from ui.services import Services
from ui.timezone import browser_timezone

# Query parameter names (and widget keys) of the History page's address.
QUERY = "q"
KIND = "kind"
SHOW = "show"
TAGS = "tags"
TOOL = "tool"
DRILL = "drill"
DATES = "dates"
SORT = "sort"
ORDER = "order"
PAGE = "page"
FILTER_KEYS = (QUERY, KIND, SHOW, TAGS, TOOL, DRILL, DATES)

# A bound selectbox keeps the label it shows in the address (`?show=Archived`).
KINDS = {"all": "All", "chat": "Chats", "drill": "Drills"}
SHOWN = {"active": "Active", "pinned": "Pinned", "archived": "Archived", "all": "All"}
SEARCH_HELP = """Words must all appear; `"a phrase"` keeps its words together; `OR` between two
words takes either; `-word` leaves out messages that have it. Filters can be typed too, and mean
the same as the filter boxes:

- `tag:u12` (several: all of them), `kind:drill` or `kind:chat`, `tool:calculator`
- `is:pinned`, `is:archived`, `role:user` or `role:assistant`
- `after:2026-10-01` (from that day on), `before:2026-11-01` (up to the day before)

Examples: `rondo "first touch" -u8`, `passing OR possession tag:u12 after:2026-10-01`"""


@dataclass(frozen=True)
class HistoryAddress:
    """What the address asks the page to show."""

    query: HistoryQuery
    sort: str


def reset_page() -> None:
    """A new search or filter starts again from the first page."""
    st.session_state[PAGE] = 1


def _session_filter(zone: tzinfo) -> SessionFilter:
    kind = st.session_state.get(KIND) or "all"
    show = st.session_state.get(SHOW) or "active"
    dates = st.session_state.get(DATES) or ()
    since = until = None
    if len(dates) >= 1 and isinstance(dates[0], date):
        since = datetime.combine(dates[0], time(), zone)
    if len(dates) == 2 and isinstance(dates[1], date):
        until = datetime.combine(dates[1] + timedelta(days=1), time(), zone)
    return SessionFilter(
        kind=None if kind == "all" else kind,
        pinned=True if show == "pinned" else None,
        archived={"active": False, "archived": True}.get(show),
        tags=tuple(st.session_state.get(TAGS) or ()),
        tool=st.session_state.get(TOOL) or None,
        drill_id=st.session_state.get(DRILL) or None,
        since=since,
        until=until,
    )


def history_search(services: Services, coach: Coach) -> HistoryAddress:
    """The search box, what it understood, and the filters; returns what to show."""
    store = services.store
    st.text_input(
        "Search your conversations",
        key=QUERY,
        bind="query-params",
        placeholder='Words, "a phrase", OR, -leave-out, tag:u12, kind:drill, after:2026-10-01 …',
        help=SEARCH_HELP,
        on_change=reset_page,
    )
    tags = [tag for tag, _count in store.list_tags(coach.id)]
    tools = store.list_tool_names(coach.id)
    drills = dict(store.drill_titles(coach.id))
    # Filled once the widgets below have their values (a bound widget's value from the
    # address reaches session state only when the widget is drawn).
    understood = st.container()
    columns = [
        *st.columns([1, 1, 2, 1.4], vertical_alignment="bottom"),
        *st.columns([2, 2, 1.4], vertical_alignment="bottom"),
    ]
    with columns[0]:
        _bound_choice("Kind", KINDS, KIND)
    with columns[1]:
        _bound_choice("Show", SHOWN, SHOW)
    with columns[2]:
        st.multiselect(
            "Tags",
            tags,
            key=TAGS,
            bind="query-params",
            placeholder="Any tag" if tags else "No tags yet",
            on_change=reset_page,
        )
    with columns[3]:
        _bound_choice("Tool used", {"": "Any tool", **{name: name for name in tools}}, TOOL)
    with columns[4]:
        _bound_choice("Drill", {"": "Any drill", **drills}, DRILL)
    with columns[5]:
        st.date_input(
            "Last activity",
            value=(),
            key=DATES,
            bind="query-params",
            format="YYYY-MM-DD",
            on_change=reset_page,
        )
    zone = browser_timezone()
    query = parse_history_query(st.session_state.get(QUERY) or "", _session_filter(zone), tz=zone)
    with understood:
        if (st.session_state.get(QUERY) or "").strip():
            st.caption(f"Understood: {escape_markdown(query.describe())}")
        for note in query.notes:
            st.caption(f":orange[{escape_markdown(note)}]")
    with columns[6]:
        sort = _sort_picker(query)
    return HistoryAddress(query=query, sort=sort)


def _bound_choice(label: str, choices: dict[str, str], key: str) -> str:
    """A selectbox over `choices` (value -> label) kept in the address as its label."""
    return st.selectbox(
        label,
        list(choices),
        format_func=choices.get,
        key=key,
        bind="query-params",
        on_change=reset_page,
    )


def _sort_picker(query: HistoryQuery) -> str:
    if query.searching:
        return _bound_choice("Sort results by", SEARCH_SORTS, ORDER)
    return _bound_choice("Sort by", LIST_SORTS, SORT)
