"""Every run's entry (page config, database check, login gate, navigation) and the page guard.

app.py only calls run_app(). Each file of pages/ starts with `coach = require_coach()`, which
returns the logged-in coach when the page runs inside run_app's navigation, and otherwise
runs the entry itself and stops. That "otherwise" happens: with a folder named pages/ next to
app.py, Streamlit runs a page file directly, without app.py, until some run calls
st.navigation (the first run after a server starts with a page's URL, and every AppTest run
after the first). The nested run_app() calls st.navigation, which ends that mode for good,
and runs the page through the login gate like any other run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.config import load_settings
from core.errors import HuddleError, StorageUnavailable
from ui import auth, state
from ui.account import account_menu
from ui.auth import Coach
from ui.login_session import write_cookies
from ui.markdown import escape_markdown
from ui.page_style import page_style
from ui.services import Services, open_services

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
log = logging.getLogger("huddle")


@dataclass(frozen=True)
class PageFile:
    file: str
    title: str
    icon: str

    @property
    def url_path(self) -> str:
        # What Streamlit infers from the file name, also when it serves pages/ on its own.
        return Path(self.file).stem


PAGE_FILES = (
    PageFile("chat.py", "Chat", ":material/chat:"),
    PageFile("drill_chat.py", "Drill builder", ":material/sports:"),
    PageFile("history.py", "History", ":material/history:"),
    PageFile("analytics.py", "Analytics", ":material/insights:"),
)


KIND_PAGES = {"chat": "chat.py", "drill": "drill_chat.py"}


def page_for_kind(kind: str) -> Path:
    """The page file that shows conversations of this kind."""
    return PAGES_DIR / KIND_PAGES[kind]


class _Entry(threading.local):
    """What the entry knows while it runs a page (one script run per thread)."""

    running: bool = False
    coach: Coach | None = None
    services: Services | None = None


_entry = _Entry()


@contextlib.contextmanager
def _running_entry(services: Services | None, coach: Coach | None) -> Iterator[None]:
    _entry.running, _entry.services, _entry.coach = True, services, coach
    try:
        yield
    finally:
        _entry.running, _entry.services, _entry.coach = False, None, None


def require_coach() -> Coach:
    """The logged-in coach; a page's first line. Never returns without one.

    Run outside the entry (Streamlit serving a pages/ file directly), it runs the entry,
    which shows the login screen or this very page behind the login gate, and stops.
    """
    if not _entry.running:
        run_app()
        st.stop()
    if _entry.coach is None:
        st.stop()
    return _entry.coach


def app_services() -> Services:
    """The database, store and engine, for a page that require_coach() let through."""
    if _entry.services is None:
        st.stop()
    return _entry.services


def run_app() -> None:
    """One run of Huddle: check the database, log the coach in, then show the chosen page.

    Whatever goes wrong unexpectedly becomes one sentence with an error id, and the whole
    story goes to the server's log under that id (never to the page). HUDDLE_RAISE_ERRORS=1
    lets it through instead, for the tests that must see it.
    """
    with _as_entry_script():
        try:
            _run()
        except Exception:
            if os.environ.get("HUDDLE_RAISE_ERRORS") == "1":
                raise
            error_id = secrets.token_hex(4)
            log.exception("Unexpected error %s", error_id)
            st.error(
                f"Something went wrong here (error {error_id}). Nothing you typed has been "
                "lost: reload the page to carry on, and if it happens again, give that error "
                "number to whoever runs Huddle."
            )


@contextlib.contextmanager
def _as_entry_script() -> Iterator[None]:
    """Give the entry's widgets the identity they have when app.py runs first.

    Streamlit folds the running page into every widget's id. When it has run a pages/ file
    directly, the login form drawn here would otherwise get other ids than in the next run,
    and the browser's click on it would be lost.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        yield
        return
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
        yield


def _run() -> None:
    st.set_page_config(page_title="Huddle", page_icon=":material/sports:", layout="wide")
    write_cookies()  # any a previous run queued and could not write
    try:
        settings = load_settings()
    except ValueError as exc:
        _screen_only(partial(_problem_screen, "Huddle's settings are not valid", str(exc)))
        return
    try:
        services = open_services(settings)
        services.db.check()
        coach = _log_in(services)
        write_cookies()  # a log-in, a log-out or a renewal in this run
    except StorageUnavailable as exc:
        _screen_only(partial(_problem_screen, "Huddle cannot reach its database", str(exc)))
        return
    if coach is None:
        _screen_only(None, services)
        return
    page = st.navigation(_app_pages(), position="top")
    with _running_entry(services, coach):
        state.show_notice()
        page_style(services.settings.max_message_chars)
        try:
            page.run()
        except HuddleError as exc:
            # The last line of defence: one sentence, never a traceback.
            st.error(str(exc))


def _log_in(services: Services) -> Coach | None:
    coach = auth.logged_in_coach(services)
    if coach is not None:
        coach = account_menu(services, coach)
    if coach is None:
        coach = auth.sign_in_screen(services)
        if coach is not None:
            account_menu(services, coach)
    return coach


def _app_pages() -> list[st.Page]:
    return [
        st.Page(PAGES_DIR / page.file, title=page.title, icon=page.icon, default=index == 0)
        for index, page in enumerate(PAGE_FILES)
    ]


def _screen_only(draw: Callable[[], None] | None, services: Services | None = None) -> None:
    """Navigation with no page of pages/: only the screen the entry draws.

    Each page's address is kept (as a page that draws nothing), so a deep link survives the
    login screen and no "page not found" message appears.
    """
    if draw is not None:
        draw()
    pages = [
        st.Page(_nothing, title="Huddle", url_path=page.url_path, default=index == 0)
        for index, page in enumerate(PAGE_FILES)
    ]
    page = st.navigation(pages, position="hidden")
    with _running_entry(services, None):
        page.run()


def _nothing() -> None:
    """The page behind a screen the entry has already drawn."""


def _problem_screen(title: str, sentence: str) -> None:
    _, middle, _ = st.columns([1, 3, 1])
    with middle:
        st.title(title)
        st.error(escape_markdown(sentence))
        st.write(
            "Nothing has been lost. Check the database and the settings (DATABASE_URL), "
            "then reload this page."
        )
