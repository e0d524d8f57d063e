"""The History table: one page of sessions with row selection, the pager, and search matches.

Streamlit reports a dataframe's selection as row positions, which stay put when the rows
change under them. So the table's key is derived from the ids it shows: new rows get a new
widget, pre-selected (`selection_default`) with the sessions still shown that were selected
before, and the selection is always read back as session ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import tzinfo

import pandas as pd
import streamlit as st

from core.history import HistoryPage, HistoryRow
from core.search import SearchHit
from core.text import inert_bidi
from ui.history_filters import PAGE
from ui.markdown import escape_markdown
from ui.shell import page_for_kind
from ui.state import HISTORY_SELECTED as SELECTED
from ui.timezone import browser_timezone

TABLE_PREFIX = "huddle_history_table_"
# The table shows this many rows before it scrolls (Streamlit's rows are 35 px high).
VISIBLE_ROWS = 15
ROW_PX = 35
KIND_LABELS = {"chat": "Chat", "drill": "Drill"}
_MATCH = re.compile(r"\*\*(.+?)\*\*")


def table_key(session_ids: Sequence[str]) -> str:
    """The dataframe's key for exactly these rows (tests use it to set a selection)."""
    digest = hashlib.sha1("\n".join(session_ids).encode()).hexdigest()[:12]
    return TABLE_PREFIX + digest


def _escaped_keeping_ends(text: str) -> str:
    escaped = escape_markdown(text)
    if escaped and text[:1].isspace():
        escaped = " " + escaped
    if escaped and text[-1:].isspace():
        escaped += " "
    return escaped or (" " if text and text.isspace() else "")


def marked_snippet(snippet: str) -> str:
    """A `**match**` snippet as Markdown: the matches highlighted, everything else escaped."""
    snippet = " ".join(snippet.split())
    parts: list[str] = []
    last = 0
    for match in _MATCH.finditer(snippet):
        parts.append(_escaped_keeping_ends(snippet[last : match.start()]))
        parts.append(f":orange-background[**{escape_markdown(match.group(1))}**]")
        last = match.end()
    parts.append(_escaped_keeping_ends(snippet[last:]))
    return "".join(parts)


def _plain(snippet: str) -> str:
    return " ".join(_MATCH.sub(r"\1", snippet).split())


def _frame(rows: Sequence[HistoryRow], zone: tzinfo, searching: bool) -> pd.DataFrame:
    records = []
    for row in rows:
        session = row.session
        record = {
            "id": session.id,
            "Pinned": "★" if session.pinned else "",
            "Title": inert_bidi(session.title) + (" (archived)" if session.archived else ""),
            "Kind": KIND_LABELS.get(session.kind, session.kind),
            "Tags": ", ".join(session.tag_names),
            "Messages": session.message_count,
            "Words": session.word_count,
            "Tools used": ", ".join(row.tools),
            "Last activity": row.last_activity.astimezone(zone).replace(tzinfo=None),
            "Preview": session.preview,
        }
        if searching:
            record["Hits"] = row.hits or 0
            record["Preview"] = _plain(row.snippets[0].snippet) if row.snippets else ""
        records.append(record)
    columns = ["id", "Pinned", "Title", "Kind", "Tags"]
    columns += ["Hits"] if searching else []
    columns += ["Messages", "Words", "Tools used", "Last activity", "Preview"]
    return pd.DataFrame.from_records(records, columns=columns)


def history_table(page: HistoryPage) -> list[str]:
    """Draw the page's rows; returns the ids of the selected sessions shown on it."""
    ids = [row.session.id for row in page.rows]
    if not ids:
        st.session_state[SELECTED] = []
        _nothing_shown(page)
        return []
    previously = set(st.session_state.get(SELECTED, ()))
    key = table_key(ids)
    default_rows = [index for index, session_id in enumerate(ids) if session_id in previously]
    frame = _frame(page.rows, browser_timezone(), page.searching)
    event = st.dataframe(
        frame,
        key=key,
        on_select="rerun",
        selection_mode="multi-row",
        selection_default={"selection": {"rows": default_rows, "columns": []}},
        hide_index=True,
        column_order=[name for name in frame.columns if name != "id"],
        height=min(len(ids), VISIBLE_ROWS) * ROW_PX + ROW_PX + 3,
        column_config={
            "Pinned": st.column_config.TextColumn("★", width=28, help="Pinned"),
            "Title": st.column_config.TextColumn(width="large"),
            "Hits": st.column_config.NumberColumn(help="Messages that match the search"),
            "Messages": st.column_config.NumberColumn(format="localized"),
            "Words": st.column_config.NumberColumn(format="localized"),
            "Last activity": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Preview": st.column_config.TextColumn(
                "Best match" if page.searching else "Preview", width="large"
            ),
        },
        width="stretch",
    )
    positions = event.selection.rows if event is not None else []
    selected = [ids[position] for position in positions if 0 <= position < len(ids)]
    st.session_state[SELECTED] = selected
    return selected


def requested_page() -> int:
    """The page number asked for (1 when it is missing or not a number).

    Before the pager exists in this browser session its value is only in the address.
    """
    wanted = st.session_state[PAGE] if PAGE in st.session_state else st.query_params.get(PAGE)
    try:
        return max(1, int(wanted or 1))
    except (TypeError, ValueError):
        return 1


def _nothing_shown(page: HistoryPage) -> None:
    if page.searching:
        st.info("No conversation matches this search. Try fewer words, or fewer filters.")
    else:
        st.info(
            "No conversations here. Change the filters, or start one on the Chat or "
            "Drill builder page: every conversation is kept and listed here."
        )


def history_pager(page: HistoryPage) -> None:
    """The page's range ("51–100 of 20,000") and page buttons, bound to `?page=`."""
    # The page shown may differ from the one asked for (past the end: the last page);
    # the pager is drawn after the table, so its state can still be set in this run.
    if st.session_state.get(PAGE) != page.page:
        st.session_state[PAGE] = page.page
    left, right = st.columns([1, 2], vertical_alignment="center")
    left.caption(page.describe_range())
    with right, st.container(horizontal=True, horizontal_alignment="right"):
        st.pagination(page.pages, key=PAGE, bind="query-params", max_visible_pages=7)


def search_matches(page: HistoryPage) -> None:
    """Under the table while searching: each session's best matches, each opening its message."""
    if not page.searching or not page.rows:
        return
    st.subheader("Matches", anchor=False)
    for row in page.rows:
        session = row.session
        count = row.hits or 0
        with st.container(border=True):
            st.markdown(
                f"**{escape_markdown(session.title)}** · {KIND_LABELS.get(session.kind, '')} · "
                f"{count:,} matching message{'' if count == 1 else 's'}"
            )
            for hit in row.snippets[:3]:
                _hit_link(session.kind, hit)


def _hit_link(kind: str, hit: SearchHit) -> None:
    # The whole snippet is the link: one element a hit keeps a page of 50 sessions cheap.
    when = hit.created_at.astimezone(browser_timezone()).strftime("%Y-%m-%d %H:%M")
    st.page_link(
        page_for_kind(kind),
        label=f"{hit.role.title()} · {when} — {marked_snippet(hit.snippet)}",
        icon=":material/open_in_new:",
        query_params={"session": hit.session_id, "seq": str(hit.seq)},
        help="Open the conversation at this message",
    )
