"""The login gate holds on every path into a page, and a down database gets one clear page."""

from __future__ import annotations

import pytest
import streamlit.runtime.scriptrunner.script_runner as script_runner
from streamlit.runtime.pages_manager import PagesManager

from tests.app.driver import ROOT, has_login_form, log_in, logged_in_app, open_app, page_text
from ui.shell import PAGE_FILES

SECRET = "zebra-crossing-rondo"


@pytest.fixture
def alice_data(alice, app_store):
    session = app_store.create_session(alice.id, title=f"Plan {SECRET}")
    app_store.add_message(alice.id, session.id, "user", f"my {SECRET} question")
    app_store.create_drill(alice.id, title=f"Drill {SECRET}", source_session_id=session.id)
    return session


@pytest.mark.parametrize("page", [page.file for page in PAGE_FILES])
def test_a_page_file_run_on_its_own_without_login_shows_no_data(page, alice_data):
    at = open_app(str(ROOT / "pages" / page)).run()
    assert not at.exception
    assert has_login_form(at)
    assert SECRET not in page_text(at)
    assert SECRET not in repr(at)


@pytest.fixture
def direct_runs(monkeypatch) -> list[str]:
    """Records each run in which Streamlit serves a pages/ file itself (its "MPA v1" mode)."""
    runs: list[str] = []
    serve_pages_folder = script_runner._mpa_v1

    def spy(main_script_path: str) -> None:
        runs.append(main_script_path)
        serve_pages_folder(main_script_path)

    monkeypatch.setattr(script_runner, "_mpa_v1", spy)
    return runs


def test_when_streamlit_serves_the_page_file_directly_the_gate_still_holds(alice_data, direct_runs):
    at = open_app().run()
    at.run()  # AppTest starts each run in pages/ mode: this one runs pages/chat.py itself
    assert len(direct_runs) == 2
    assert has_login_form(at)
    assert SECRET not in page_text(at)
    # The page's own call to the entry switched Streamlit to st.navigation again.
    assert PagesManager.uses_pages_directory is False

    log_in(at, "alice")  # a form drawn in a direct run still logs in
    assert at.session_state["authentication_status"] is True
    at.run()
    assert not at.exception
    assert f"my {SECRET} question" in page_text(at)
    assert len(direct_runs) == 4


def test_each_page_opens_through_the_gate_after_login(alice_data, direct_runs):
    at = logged_in_app("alice")
    for page in PAGE_FILES:
        at.switch_page(f"pages/{page.file}").run()
        assert not at.exception, page.file
        assert not has_login_form(at)
    assert direct_runs  # these runs started with the page file itself


def test_a_database_that_cannot_be_reached_gets_one_clear_page(app_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://huddle@127.0.0.1:1/huddle")
    at = open_app().run()
    assert not at.exception  # no traceback
    assert [t.value for t in at.title] == ["Huddle cannot reach its database"]
    [error] = at.error
    assert "PostgreSQL at 127\\.0\\.0\\.1\\:1/huddle" in error.value  # escaped Markdown
    assert "refused" in error.value.lower()
    assert not has_login_form(at)
    assert not at.chat_input


def test_settings_that_cannot_be_read_get_one_clear_page(app_url, monkeypatch):
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "lots")
    at = open_app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Huddle's settings are not valid"]
