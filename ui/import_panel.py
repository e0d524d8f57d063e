"""The History page's import panel: upload, see what the file holds, then import it whole.

Nothing is written until the coach confirms the preview; the import itself is one
transaction in core, and importing the same file again adds nothing.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from core.errors import HuddleError
from core.file_import import MAX_IMPORT_BYTES, ImportPreview, import_file, preview_import
from ui import state
from ui.auth import Coach
from ui.markdown import escape_markdown
from ui.services import Services

UPLOAD_KEY = "huddle_history_upload"
_UPLOAD_ROUND = "huddle_history_upload_round"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _uploader_key() -> str:
    # A new key empties the uploader once a file has been imported.
    return f"{UPLOAD_KEY}_{st.session_state.get(_UPLOAD_ROUND, 0)}"


def import_panel(services: Services, coach: Coach) -> None:
    st.markdown(
        "Bring conversations in from a **Huddle archive** (the JSON export), a **ChatGPT** "
        "export or a **Claude.ai** export (`conversations.json` or the whole zip). You see what "
        "the file holds before anything is written; a file imported twice adds nothing new."
    )
    upload = st.file_uploader(
        "File to import",
        type=["json", "zip"],
        key=_uploader_key(),
        max_upload_size=MAX_IMPORT_BYTES // (1024 * 1024),
    )
    if upload is None:
        return
    data = upload.getvalue()
    if len(data) > MAX_IMPORT_BYTES:
        st.error(
            f"This file is {len(data) / (1024 * 1024):,.0f} MB; Huddle imports files of up to "
            f"{MAX_IMPORT_BYTES // (1024 * 1024):,} MB."
        )
        return
    digest = hashlib.sha256(data).hexdigest()
    cached = st.session_state.get(state.HISTORY_IMPORT)
    if cached is not None and cached[0] == digest:
        preview = cached[1]
    else:
        try:
            preview = preview_import(services.store, data, as_user=coach.username)
        except HuddleError as exc:
            st.error(str(exc))
            return
        st.session_state[state.HISTORY_IMPORT] = (digest, preview)
    _show_preview(preview)
    new = preview.sessions - preview.already_there
    if not new and not preview.drills:
        st.info("Everything in this file is already in Huddle; importing it would add nothing.")
        return
    if st.button(
        f"Import {_plural(new, 'conversation')}",
        key="huddle_history_import_go",
        type="primary",
        icon=":material/upload:",
    ):
        try:
            result = import_file(services.store, data, as_user=coach.username)
        except HuddleError as exc:
            st.error(str(exc))
            return
        skipped = (
            f"; {_plural(result.sessions_skipped, 'conversation')} already there, skipped"
            if result.sessions_skipped
            else ""
        )
        drills = f" and {_plural(result.drills_added, 'drill')}" if result.drills_added else ""
        state.notify(
            "success",
            f"Imported {_plural(result.sessions_added, 'conversation')} with "
            f"{_plural(result.messages_added, 'message')}{drills}{skipped}.",
        )
        st.session_state.pop(state.HISTORY_IMPORT, None)
        st.session_state[_UPLOAD_ROUND] = st.session_state.get(_UPLOAD_ROUND, 0) + 1
        st.rerun()


def _show_preview(preview: ImportPreview) -> None:
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(preview.format_label)}**")
        columns = st.columns(4)
        columns[0].metric("Conversations", f"{preview.sessions:,}")
        columns[1].metric("Messages", f"{preview.messages:,}")
        columns[2].metric("Already here", f"{preview.already_there:,}")
        columns[3].metric("Drills", f"{preview.drills:,}")
        if preview.titles:
            shown = ", ".join(f"“{escape_markdown(title)}”" for title in preview.titles[:5])
            more = preview.sessions - min(len(preview.titles), 5)
            st.caption(f"Among them: {shown}" + (f" and {more:,} more." if more > 0 else "."))
