"""Driving Huddle under AppTest: open it, log in, read what a coach would see."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import bcrypt
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.db import Database
from core.login_sessions import LoginSessions
from core.store import ConversationStore
from ui.state import LOGIN_SESSION

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PASSWORD = "Secret123!"
LOGIN_FORM = "huddle_login"
TIMEOUT_S = 30
TURN_LIMIT_S = 60


def password_hash(password: str) -> str:
    # Few rounds: the app checks any bcrypt hash, and tests stay fast.
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def open_app(script: str = APP) -> AppTest:
    return AppTest.from_file(script, default_timeout=TIMEOUT_S)


def logged_in_app(username: str, *, session: str | None = None) -> AppTest:
    """The app as a coach sees it after logging in (the library's state and a log-in row,
    seeded)."""
    at = open_app()
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state[LOGIN_SESSION] = start_login(username)
    if session is not None:
        at.query_params["session"] = session
    return at.run()


def start_login(username: str) -> str:
    """A log-in row for this user in the app's database (DATABASE_URL); its raw id."""
    db = Database(os.environ["DATABASE_URL"])
    try:
        user = ConversationStore(db).get_user(username)
        return LoginSessions(db).start(user.id)[0]
    finally:
        db.dispose()


def open_page(username: str, page_file: str, /, **params: str | list[str]) -> AppTest:
    """A logged-in coach opening a page file with these query parameters (an address)."""
    at = logged_in_app(username)
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(page_file).run()
    assert not at.exception, at.exception
    return at


def log_in(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    """Fill streamlit-authenticator's login form and submit it."""
    username_box, password_box = [w for w in at.text_input if w.form_id == LOGIN_FORM][:2]
    username_box.input(username)
    password_box.input(password)
    return at.button(key=f"FormSubmitter:{LOGIN_FORM}-Log in").click().run()


def fill_form(at: AppTest, form: str, values: dict[str, str]) -> None:
    boxes = {w.label: w for w in at.text_input if w.form_id == form}
    for label, value in values.items():
        boxes[label].input(value)


def cookie_writes(at: AppTest) -> list[str]:
    """The cookies the run wrote in the page (document.cookie assignments)."""
    found = re.findall(r'document\.cookie = ("[^"]*")', " ".join(h.value for h in at.get("html")))
    return [json.loads(cookie) for cookie in found]


def has_login_form(at: AppTest) -> bool:
    return any(w.form_id == LOGIN_FORM for w in at.text_input)


def page_text(at: AppTest) -> str:
    """Every piece of text the run drew, main area and sidebar (for "is X shown" checks)."""
    parts: list[str] = []
    for kind in ("markdown", "title", "subheader", "caption", "header", "code", "text"):
        parts += [str(element.value) for element in getattr(at, kind)]
    for kind in ("error", "warning", "info", "success"):
        parts += [str(element.value) for element in getattr(at, kind)]
    parts += [str(button.label) for button in at.button]
    parts += [str(status.label) for status in at.status]
    return "\n".join(parts)


def chat_bubbles(at: AppTest) -> list[tuple[str, str]]:
    """(role, text) of each chat bubble, in order."""
    return [
        (bubble.name, "\n".join(str(m.value) for m in bubble.markdown))
        for bubble in at.chat_message
    ]


def send(at: AppTest, text: str) -> AppTest:
    """Send a message; if the page shows its reply being written (a Stop button), wait for
    it and show the page again (as the page's polling fragment would)."""
    at.chat_input[0].set_value(text).run()
    if any(button.key.startswith("huddle_stop_") for button in at.button):
        finish_turns(at)
    return at


def finish_turns(at: AppTest) -> AppTest:
    """Wait until no turn is running in the app's database (the workers of core/turns.py
    write the reply after the script run that sent it), then run the page again.

    Waits on the database's state, never for a fixed time, up to TURN_LIMIT_S.
    """
    engine = sa.create_engine(os.environ["DATABASE_URL"])
    try:
        deadline = time.monotonic() + TURN_LIMIT_S
        while True:
            with engine.connect() as connection:
                running = connection.execute(
                    sa.text("SELECT count(*) FROM chat_turns WHERE status = 'running'")
                ).scalar_one()
            if not running:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"a turn was still running after {TURN_LIMIT_S} s")
            time.sleep(0.02)
    finally:
        engine.dispose()
    return at.run()


def sidebar_buttons(at: AppTest) -> dict[str, str]:
    """Label -> key of the buttons in the sidebar."""
    return {button.label: button.key for button in at.sidebar.button}


def popover_labels(block) -> list[str]:
    """The labels of the popovers (menus) inside a block, e.g. `at.sidebar`."""
    found: list[str] = []
    for node in getattr(block, "children", {}).values():
        if getattr(node, "type", None) == "popover":
            found.append(node.proto.popover.label)
        found += popover_labels(node)
    return found
