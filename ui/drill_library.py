"""The History page's drill library tab: filter the coach's drills, open their chats, export a plan.

Session-state keys (all bound filter widgets are also query parameters, so the address keeps them):
- `huddle_drills_text`, `_sports`, `_ages`, `_players`, `_duration`, `_equipment`, `_sort`,
  `_page`: the filter, sort and page widgets.
- `huddle_drill_table`: the table's selection, as row positions (Streamlit's own).
- `huddle_drills_shown`: the drill ids the table showed in the last run, in order, to carry a
  selection over to the rows' new positions when the rows change.
- `huddle_drills_selected`: the ids of the selected drills, in table order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core.drill_library import (
    DrillFacets,
    DrillFilter,
    DrillPage,
    drill_conversations,
    drill_facets,
    drills_markdown_zip,
    list_drill_page,
    practice_plan_markdown,
)
from core.errors import NotFound, ValidationError
from core.models import Drill
from ui.auth import Coach
from ui.markdown import escape_markdown
from ui.services import Services
from ui.shell import page_for_kind
from ui.timezone import browser_timezone

TEXT = "huddle_drills_text"
SPORTS = "huddle_drills_sports"
AGES = "huddle_drills_ages"
PLAYERS = "huddle_drills_players"
DURATION = "huddle_drills_duration"
EQUIPMENT = "huddle_drills_equipment"
SORT = "huddle_drills_sort"
PAGE = "huddle_drills_page"
TABLE = "huddle_drill_table"
SHOWN = "huddle_drills_shown"
SELECTED = "huddle_drills_selected"
PAGE_SIZE = 50
EMPTY_LIBRARY = "Drills you build on the Drill builder page appear here."
NO_MATCH = "No drills match these filters."
SORTS = {"updated": "Last changed", "title": "Title", "duration": "Duration"}


def drill_library_tab(services: Services, coach: Coach) -> None:
    """Filters, the table of drills (50 a page), and what to do with the selected ones."""
    facets = drill_facets(services.store, coach.id)
    if facets.drills == 0:
        _forget_table()
        st.info(EMPTY_LIBRARY)
        return
    filters, sort = _filter_widgets(facets)
    try:
        page = _page(services, coach, filters, sort)
    except ValidationError as exc:
        _forget_table()
        st.warning(str(exc))
        return
    st.caption(f"{page.total:,} drill{'' if page.total == 1 else 's'}")
    if not page.items:
        _forget_table()
        st.info(NO_MATCH)
        return
    selected = _drill_table(page.items)
    _pager(page)
    _selection_actions(services, coach, selected)


# ------------------------------------------------------------------ filters


def _first_page() -> None:
    # A new filter starts again at page 1, not on a page past its end.
    st.session_state[PAGE] = 1


def _filter_widgets(facets: DrillFacets) -> tuple[DrillFilter, str]:
    text = st.text_input(
        "Search drills",
        key=TEXT,
        bind="query-params",
        placeholder="Words in the title, objective, setup, steps, equipment or tags",
        on_change=_first_page,
    )
    left, middle, right = st.columns(3)
    with left:
        sports = _choices("Sport", facets.sports, SPORTS)
        equipment = _choices("Equipment (all of)", facets.equipment, EQUIPMENT)
    with middle:
        age_groups = _choices("Age group", facets.age_groups, AGES)
        players = _range("Players", facets.players, PLAYERS)
    with right:
        sort = st.selectbox(
            "Sort by",
            list(SORTS),
            format_func=SORTS.__getitem__,
            key=SORT,
            bind="query-params",
            on_change=_first_page,
        )
        duration = _range("Minutes", facets.duration, DURATION)
    filters = DrillFilter(
        text=text or None,
        sports=tuple(sports),
        age_groups=tuple(age_groups),
        players_min=players[0],
        players_max=players[1],
        duration_min=duration[0],
        duration_max=duration[1],
        equipment=tuple(equipment),
    )
    return filters, sort or "updated"


def _choices(label: str, options: list[str], key: str) -> list[str]:
    return st.multiselect(
        label,
        options,
        key=key,
        bind="query-params",
        placeholder="Any",
        on_change=_first_page,
    )


def _range(label: str, bounds: tuple[int, int] | None, key: str) -> tuple[int | None, int | None]:
    """A range slider over the values the drills hold; (None, None) while it spans them all.

    The full span sets no bound, so drills that give no number stay in the list until the
    coach narrows the range.
    """
    if bounds is None or bounds[0] == bounds[1]:
        return None, None  # nothing to choose between
    low, high = bounds
    current = st.session_state.get(key)
    if isinstance(current, (tuple, list)) and len(current) == 2:
        # The drills' range can shrink (a drill deleted elsewhere); keep the value inside it.
        clamped = (min(max(current[0], low), high), max(min(current[1], high), low))
        if clamped != tuple(current):
            st.session_state[key] = clamped
    chosen = st.slider(
        label, low, high, value=(low, high), key=key, bind="query-params", on_change=_first_page
    )
    return (chosen[0] if chosen[0] > low else None, chosen[1] if chosen[1] < high else None)


# ------------------------------------------------------------- table, pages


def _requested_page() -> int:
    value = st.session_state.get(PAGE) or st.query_params.get(PAGE) or 1
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _page(services: Services, coach: Coach, filters: DrillFilter, sort: str) -> DrillPage:
    number = _requested_page()
    page = list_drill_page(
        services.store,
        coach.id,
        filters,
        sort=sort,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    if not page.items and page.total:
        # Past the end (a bookmark, drills deleted meanwhile): show the last page instead.
        last = (page.total - 1) // PAGE_SIZE
        page = list_drill_page(
            services.store,
            coach.id,
            filters,
            sort=sort,
            limit=PAGE_SIZE,
            offset=last * PAGE_SIZE,
        )
    return page


def _frame(drills: Sequence[Drill]) -> pd.DataFrame:
    zone = browser_timezone()
    return pd.DataFrame(
        {
            "id": [drill.id for drill in drills],
            "Title": [drill.title for drill in drills],
            "Sport": [drill.sport for drill in drills],
            "Age group": [drill.age_group for drill in drills],
            "Players": pd.array([drill.players for drill in drills], dtype="Int64"),
            "Minutes": pd.array([drill.duration_min for drill in drills], dtype="Int64"),
            "Equipment": [", ".join(drill.equipment or []) for drill in drills],
            "Updated": [drill.updated_at.astimezone(zone).replace(tzinfo=None) for drill in drills],
        }
    )


def _positions(state: Any) -> list[int]:
    try:
        return [int(row) for row in state["selection"]["rows"]]
    except (KeyError, TypeError, ValueError):
        return []


def _carry_selection(ids: list[str]) -> None:
    """Move the selection to where its drills now are, dropping drills no longer shown.

    Streamlit keeps a table's selection as positions; after a filter, sort or page change
    the same positions would otherwise name other drills.
    """
    before = st.session_state.get(SHOWN)
    if before is None or list(before) == ids:
        return
    positions = _positions(st.session_state.get(TABLE))
    chosen = {before[p] for p in positions if 0 <= p < len(before)}
    moved = [index for index, drill_id in enumerate(ids) if drill_id in chosen]
    if moved != positions:
        st.session_state[TABLE] = {"selection": {"rows": moved, "columns": [], "cells": []}}


def _drill_table(drills: Sequence[Drill]) -> list[Drill]:
    """Draw the page's drills; returns the selected ones, in table order."""
    ids = [drill.id for drill in drills]
    _carry_selection(ids)
    st.session_state[SHOWN] = ids
    event = st.dataframe(
        _frame(drills),
        key=TABLE,
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        column_order=["Title", "Sport", "Age group", "Players", "Minutes", "Equipment", "Updated"],
        column_config={
            "Title": st.column_config.TextColumn(width="medium"),
            "Players": st.column_config.NumberColumn(),
            "Minutes": st.column_config.NumberColumn(),
            "Equipment": st.column_config.TextColumn(width="medium"),
            "Updated": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
        width="stretch",
        placeholder="",
    )
    positions = sorted(set(event.selection.rows)) if event is not None else []
    selected = [drills[p] for p in positions if 0 <= p < len(drills)]
    st.session_state[SELECTED] = [drill.id for drill in selected]
    return selected


def _forget_table() -> None:
    st.session_state[SHOWN] = []
    st.session_state[SELECTED] = []


def _pager(page: DrillPage) -> None:
    pages = max(1, -(-page.total // PAGE_SIZE))
    number = page.offset // PAGE_SIZE + 1
    if pages == 1:
        return
    # The page shown may differ from the one asked for; the pager comes after the table,
    # so its state can still be set in this run.
    if st.session_state.get(PAGE) != number:
        st.session_state[PAGE] = number
    first = page.offset + 1
    left, right = st.columns([1, 2], vertical_alignment="center")
    left.caption(f"{first:,}–{page.offset + len(page.items):,} of {page.total:,}")
    with right, st.container(horizontal=True, horizontal_alignment="right"):
        st.pagination(pages, key=PAGE, bind="query-params", max_visible_pages=7)


# ---------------------------------------------------------------- selection


def _selection_actions(services: Services, coach: Coach, drills: list[Drill]) -> None:
    if not drills:
        st.caption(
            "Select drills to open their conversations or to download them as a practice plan."
        )
        return
    minutes = sum(drill.duration_min or 0 for drill in drills)
    count = f"{len(drills)} drill{'' if len(drills) == 1 else 's'}"
    st.markdown(f"**{count} selected** · {minutes} min")
    chosen = list(drills)
    with st.container(horizontal=True):
        if len(drills) == 1:
            _open_conversation(services, coach, drills[0])
        st.download_button(
            "Practice plan (Markdown)",
            data=lambda: practice_plan_markdown(chosen),
            file_name=f"huddle-{coach.username}-practice-plan-{len(chosen)}-drills.md",
            mime="text/markdown",
            key="huddle_drills_download_plan",
            icon=":material/assignment:",
            on_click="ignore",
        )
        st.download_button(
            "Each drill (Markdown, zip)",
            data=lambda: drills_markdown_zip(chosen),
            file_name=f"huddle-{coach.username}-{len(chosen)}-drills.zip",
            mime="application/zip",
            key="huddle_drills_download_zip",
            icon=":material/folder_zip:",
            on_click="ignore",
        )


def _open_conversation(services: Services, coach: Coach, drill: Drill) -> None:
    with st.popover("Open conversation", icon=":material/forum:"):
        try:
            sessions = drill_conversations(services.store, coach.id, drill.id)
        except NotFound as exc:  # deleted in another tab
            st.warning(str(exc))
            return
        if not sessions:
            st.caption("No conversation is linked to this drill.")
        for session in sessions:
            if st.button(
                escape_markdown(session.title),
                key=f"huddle_drills_open_{session.id}",
                icon=":material/chat_bubble_outline:",
                type="tertiary",
            ):
                st.switch_page(page_for_kind(session.kind), query_params={"session": session.id})
