"""Download buttons: the open conversation (Markdown, CSV, JSON archive) and a drill (Markdown)."""

from __future__ import annotations

import re

import streamlit as st

from core.export import archive_bytes, csv_bytes, drill_markdown, session_markdown
from core.models import ChatSession, Drill
from ui.services import Services


def file_stem(title: str) -> str:
    """A safe file name from a title: lower-case words joined by dashes."""
    return re.sub(r"[\W_]+", "-", title.lower()).strip("-")[:60].rstrip("-") or "huddle"


def session_downloads(services: Services, user_id: int, session: ChatSession) -> None:
    """A Download menu for one conversation. Files are built only when a button is clicked."""
    store, session_id = services.store, session.id
    stem = file_stem(session.title)
    with st.popover("Download", icon=":material/download:"):
        st.download_button(
            "Markdown",
            data=lambda: session_markdown(store, user_id, session_id),
            file_name=f"{stem}.md",
            mime="text/markdown",
            key=f"huddle_download_md_{session_id}",
            icon=":material/description:",
            on_click="ignore",
            width="stretch",
        )
        st.download_button(
            "CSV (spreadsheet)",
            data=lambda: csv_bytes(store, user_id, session_ids=[session_id]),
            file_name=f"{stem}.csv",
            mime="text/csv",
            key=f"huddle_download_csv_{session_id}",
            icon=":material/table:",
            on_click="ignore",
            width="stretch",
        )
        st.download_button(
            "JSON archive",
            data=lambda: archive_bytes(store, user_id, session_ids=[session_id]),
            file_name=f"{stem}.json",
            mime="application/json",
            key=f"huddle_download_json_{session_id}",
            icon=":material/data_object:",
            on_click="ignore",
            width="stretch",
        )


def drill_download(drill: Drill) -> None:
    st.download_button(
        "Download drill (Markdown)",
        data=drill_markdown(drill),
        file_name=f"{file_stem(drill.title)}.md",
        mime="text/markdown",
        key=f"huddle_download_drill_{drill.id}",
        icon=":material/download:",
        on_click="ignore",
    )
