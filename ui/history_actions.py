"""What a coach can do from the History table: act on one session or on the selection, export.

Every action is one call into core (one transaction, scoped by user in SQL) and reports what
it did on the next run. A session deleted in another tab is simply no longer counted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import date

import streamlit as st

from core.archive_out import archive_bytes
from core.csv_export import csv_bytes
from core.errors import HuddleError, NotFound
from core.export_names import export_file_name
from core.history import HistoryPage, matching_session_ids
from core.markdown_export import markdown_bytes, session_markdown
from core.models import ChatSession
from core.query import HistoryQuery
from core.store import MAX_TAG_CHARS, MAX_TITLE_CHARS
from ui import state
from ui.auth import Coach
from ui.history_filters import HistoryAddress
from ui.services import Services
from ui.shell import page_for_kind

DELETE_DIALOG = "history_delete"


def _plural(count: int, noun: str = "conversation") -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _report(done: str, changed: int, asked: int, unchanged: str) -> None:
    sentence = f"{done} {_plural(changed)}."
    if changed < asked:
        sentence += f" {asked - changed:,} {unchanged}."
    state.notify("success" if changed else "info", sentence)


def _run(action: Callable[[], None]) -> None:
    try:
        action()
    except HuddleError as exc:
        state.notify("warning", str(exc))


# The selection's flag actions: (label, icon, flag, value, done, when unchanged).
FLAG_ACTIONS = {
    "archive": (
        "Archive", ":material/archive:", "archived", True,
        "Archived", "were already archived or are gone",
    ),
    "unarchive": (
        "Unarchive", ":material/unarchive:", "archived", False,
        "Unarchived", "were not archived or are gone",
    ),
    "pin": (
        "Pin", ":material/keep:", "pinned", True,
        "Pinned", "were already pinned or are gone",
    ),
    "unpin": (
        "Unpin", ":material/keep_off:", "pinned", False,
        "Unpinned", "were not pinned or are gone",
    ),
}  # fmt: skip


def _bulk(services: Services, coach: Coach, ids: Sequence[str], what: str) -> None:
    _label, _icon, flag, value, done, unchanged = FLAG_ACTIONS[what]
    setter = (
        services.store.set_archived_many if flag == "archived" else services.store.set_pinned_many
    )

    def act() -> None:
        _report(done, setter(coach.id, ids, value), len(ids), unchanged)

    _run(act)


def _tag(services: Services, coach: Coach, ids: Sequence[str], key: str, add: bool) -> None:
    tag = (st.session_state.get(key) or "").strip()
    if not tag:
        state.notify("warning", "Type a tag first, such as u12.")
        return

    def act() -> None:
        if add:
            changed = services.store.add_tag_many(coach.id, ids, tag)
            _report(f"Tagged “{tag}”:", changed, len(ids), "had it already or are gone")
        else:
            changed = services.store.remove_tag_many(coach.id, ids, tag)
            _report(f"Removed “{tag}” from", changed, len(ids), "did not have it or are gone")

    _run(act)
    st.session_state[key] = ""


def selection_actions(
    services: Services, coach: Coach, address: HistoryAddress, page: HistoryPage, ids: list[str]
) -> None:
    """The bar above the table: actions on the selection, or an export of everything."""
    if not ids:
        _export_menu(services, coach, address, page, None)
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(f"**{_plural(len(ids))} selected**")
        for what, (label, icon, *_rest) in FLAG_ACTIONS.items():
            st.button(
                label,
                key=f"huddle_history_{what}",
                icon=icon,
                on_click=_bulk,
                args=(services, coach, ids, what),
            )
        with st.popover("Tag", icon=":material/sell:"):
            st.text_input("Tag", key="huddle_history_tag", max_chars=MAX_TAG_CHARS)
            with st.container(horizontal=True):
                st.button(
                    "Add to selected",
                    key="huddle_history_tag_add",
                    on_click=_tag,
                    args=(services, coach, ids, "huddle_history_tag", True),
                )
                st.button(
                    "Remove from selected",
                    key="huddle_history_tag_remove",
                    on_click=_tag,
                    args=(services, coach, ids, "huddle_history_tag", False),
                )
        st.button(
            "Delete",
            key="huddle_history_delete",
            icon=":material/delete:",
            on_click=_ask_delete,
            args=(ids,),
        )
        _export_menu(services, coach, address, page, ids)
    if len(ids) == 1:
        _one_session(services, coach, page, ids[0])
    _delete_dialog_if_open(services, coach)


def _ask_delete(ids: Sequence[str]) -> None:
    st.session_state[state.HISTORY_DELETE] = list(ids)
    state.open_dialog(DELETE_DIALOG)


def _delete_dialog_if_open(services: Services, coach: Coach) -> None:
    dialog = state.current_dialog()
    if dialog is not None and dialog.name == DELETE_DIALOG:
        _delete_dialog(services, coach, st.session_state.get(state.HISTORY_DELETE) or [])


@st.dialog("Delete conversations?", on_dismiss=state.close_dialog)
def _delete_dialog(services: Services, coach: Coach, ids: list[str]) -> None:
    summary = services.store.sessions_summary(coach.id, ids)
    if not summary.sessions:
        st.write("These conversations are no longer there; nothing to delete.")
        if st.button("Close", key="huddle_history_delete_close"):
            state.close_dialog()
            st.rerun()
        return
    st.write(
        f"Delete {_plural(summary.sessions)} with {_plural(summary.messages, 'message')}? "
        "This cannot be undone."
    )
    with st.container(horizontal=True):
        confirmed = st.button("Delete", key="huddle_history_confirm_delete", type="primary")
        cancelled = st.button("Cancel", key="huddle_history_cancel_delete")
    if confirmed:
        try:
            deleted = services.store.delete_sessions(coach.id, ids)
        except HuddleError as exc:
            st.error(str(exc))
            return
        state.close_dialog()
        st.session_state[state.HISTORY_SELECTED] = []
        state.notify("success", f"Deleted {_plural(deleted)}.")
        st.rerun()
    if cancelled:
        state.close_dialog()
        st.rerun()


def _one_session(services: Services, coach: Coach, page: HistoryPage, session_id: str) -> None:
    """Open, rename, tags, pin, archive: for the one selected session."""
    session = next((row.session for row in page.rows if row.session.id == session_id), None)
    if session is None:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.page_link(
            page_for_kind(session.kind),
            label=f"Open “{session.title}”",
            icon=":material/open_in_new:",
            query_params={"session": session.id},
        )
        with st.popover("Rename", icon=":material/edit:"):
            _rename_form(services, coach, session)
        with st.popover("Edit tags", icon=":material/sell:"):
            _tags_form(services, coach, session)


def _rename_form(services: Services, coach: Coach, session: ChatSession) -> None:
    with st.form(f"huddle_history_rename_{session.id}", border=False):
        title = st.text_input("Title", value=session.title, max_chars=MAX_TITLE_CHARS)
        if not st.form_submit_button("Save", type="primary"):
            return
    try:
        services.store.rename_session(coach.id, session.id, title)
    except HuddleError as exc:
        st.error(str(exc))
        return
    state.notify("success", "Conversation renamed.")
    st.rerun()


def _tags_form(services: Services, coach: Coach, session: ChatSession) -> None:
    known = [tag for tag, _count in services.store.list_tags(coach.id)]
    with st.form(f"huddle_history_tags_{session.id}", border=False):
        tags = st.multiselect(
            "Tags",
            sorted({*known, *session.tag_names}),
            default=session.tag_names,
            accept_new_options=True,
            placeholder="Type a tag and press Enter",
        )
        if not st.form_submit_button("Save", type="primary"):
            return
    try:
        saved = services.store.set_tags(coach.id, session.id, tags)
    except HuddleError as exc:
        st.error(str(exc))
        return
    state.notify("success", f"Tags saved: {', '.join(saved) if saved else 'none'}.")
    st.rerun()


# ----------------------------------------------------------------- exports


def _export_ids(
    services: Services, coach: Coach, query: HistoryQuery, sort: str, ids: Sequence[str] | None
) -> list[str]:
    # The writers keep only the coach's sessions among the ids (one deleted in another tab
    # is simply not in the file), so a selection goes to them as it is.
    if ids is None:
        return matching_session_ids(services.store, coach.id, query, sort=sort)
    return list(ids)


def export_builders(
    services: Services,
    coach: Coach,
    ids: Sequence[str] | None,
    *,
    query: HistoryQuery,
    sort: str,
    count: int,
) -> list[tuple[str, str, str, str, Callable[[], bytes]]]:
    """(label, extension, mime, icon, build) per format; nothing is built until called.

    `ids` None means everything the query matches (`count` sessions, looked up on click).
    """
    store, user_id = services.store, coach.id
    single = count == 1

    def chosen() -> list[str]:
        return _export_ids(services, coach, query, sort, ids)

    def markdown() -> bytes:
        picked = chosen()
        if single and len(picked) == 1:
            with contextlib.suppress(NotFound):  # gone meanwhile: an empty zip, as for several
                return session_markdown(store, user_id, picked[0]).encode("utf-8")
        return markdown_bytes(store, user_id, session_ids=picked)

    return [
        (
            "CSV (spreadsheet)",
            "csv",
            "text/csv",
            ":material/table:",
            lambda: csv_bytes(store, user_id, session_ids=chosen()),
        ),
        (
            "JSON archive",
            "json",
            "application/json",
            ":material/data_object:",
            lambda: archive_bytes(store, user_id, session_ids=chosen()),
        ),
        (
            "Markdown" if single else "Markdown (zip, a file per conversation)",
            "md" if single else "zip",
            "text/markdown" if single else "application/zip",
            ":material/description:",
            markdown,
        ),
    ]


def _export_menu(
    services: Services,
    coach: Coach,
    address: HistoryAddress,
    page: HistoryPage,
    ids: list[str] | None,
) -> None:
    count = len(ids) if ids is not None else page.total
    if not count or (ids is None and page.total_capped):
        return
    label = "Export selected" if ids is not None else f"Export all {_plural(count)}"
    today = date.today()
    with st.popover(label, icon=":material/download:"):
        if ids is None:
            st.caption(f"Everything the search and filters match: {_plural(count)}.")
        for name, extension, mime, icon, build in export_builders(
            services, coach, ids, query=address.query, sort=address.sort, count=count
        ):
            st.download_button(
                name,
                data=build,
                file_name=export_file_name(coach.username, count, extension, today=today),
                mime=mime,
                key=f"huddle_history_export_{extension}_{'selected' if ids else 'all'}",
                icon=icon,
                on_click="ignore",
                width="stretch",
            )
