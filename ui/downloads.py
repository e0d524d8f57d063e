"""Download buttons: the open conversation (Markdown, CSV, JSON archive) and a drill (Markdown)."""

from __future__ import annotations

import re

import streamlit as st

from core.archive_out import archive_bytes
from core.csv_export import csv_bytes
from core.markdown_export import drill_markdown, session_markdown
from core.models import ChatSession, Drill
from ui.services import Services


def file_stem(title: str) -> str:
    """A safe file name from a title: lower-case words joined by dashes."""
    return re.sub(r"[\W_]+", "-", title.lower()).strip("-")[:60].rstrip("-") or "huddle"


def session_downloads(services: Services, user_id: int, session: ChatSession) -> None:
    """A Download menu for one conversation. Files are built only when a button is clicked."""
    store, session_id = services.store, session.id
    stem = file_stem(session.title)
    formats = (
        (
            "Markdown",
            "md",
            "text/markdown",
            ":material/description:",
            lambda: session_markdown(store, user_id, session_id),
        ),
        (
            "CSV (spreadsheet)",
            "csv",
            "text/csv",
            ":material/table:",
            lambda: csv_bytes(store, user_id, session_ids=[session_id]),
        ),
        (
            "JSON archive",
            "json",
            "application/json",
            ":material/data_object:",
            lambda: archive_bytes(store, user_id, session_ids=[session_id]),
        ),
    )
    with st.popover("Download", icon=":material/download:"):
        for label, extension, mime, icon, build in formats:
            st.download_button(
                label,
                data=build,
                file_name=f"{stem}.{extension}",
                mime=mime,
                key=f"huddle_download_{extension}_{session_id}",
                icon=icon,
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
