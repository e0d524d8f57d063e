"""Logging in: the form, the failed-login limit, the first account, registration, the cookie."""

from __future__ import annotations

import json
import time
import types

import bcrypt
import jwt
import pytest
import streamlit.runtime.context as streamlit_context

from tests.app.driver import (
    PASSWORD,
    fill_form,
    has_login_form,
    log_in,
    logged_in_app,
    open_app,
    page_text,
    popover_labels,
)
from ui.auth import COOKIE_KEY_SETTING, COOKIE_NAME, LOGIN_FAILURES_SETTING, MAX_LOGIN_ATTEMPTS

FIRST_ACCOUNT = "huddle_first_account"
REGISTER = "huddle_register"
NEW_ACCOUNT = {
    "First name": "Carol",
    "Last name": "Coach",
    "Email": "carol@example.com",
    "Username": "carol",
    "Password": "Passw0rd!",
    "Repeat password": "Passw0rd!",
}


def test_login_with_the_right_password_opens_the_chat_page(alice, app_store):
    session = app_store.create_session(alice.id, title="Passing patterns")
    app_store.add_message(alice.id, session.id, "user", "rondo ideas for U10")
    at = open_app().run()
    assert has_login_form(at)
    assert "rondo ideas" not in page_text(at)

    log_in(at, "alice")
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    assert "rondo ideas for U10" in page_text(at)  # the latest conversation opens
    at.run()
    assert not has_login_form(at)
    assert popover_labels(at.sidebar)[0] == "Alice Example"  # the account menu
    assert at.sidebar.button(key="huddle_log_out").label == "Log out"


def test_login_with_a_wrong_password_is_refused_and_counted(alice, app_store):
    at = log_in(open_app().run(), "alice", "wrong-password")
    assert not at.exception
    assert at.session_state["authentication_status"] is False
    assert [e.value for e in at.error] == ["The username or password is incorrect."]
    assert has_login_form(at)
    failures = json.loads(app_store.get_setting(LOGIN_FAILURES_SETTING))
    assert failures["alice"]["count"] == 1

    log_in(at, "ALICE ", PASSWORD)  # the library trims and lower-cases usernames
    assert at.session_state["authentication_status"] is True
    assert json.loads(app_store.get_setting(LOGIN_FAILURES_SETTING)) == {}


def test_too_many_failed_logins_lock_the_account_in_every_browser(alice, app_store):
    at = open_app().run()
    for _ in range(MAX_LOGIN_ATTEMPTS):
        log_in(at, "alice", "wrong-password")
    log_in(at, "alice", PASSWORD)
    assert at.session_state["authentication_status"] is not True
    assert any("Too many failed log-ins" in e.value for e in at.error)

    # Another browser (a new session, maybe another replica) is locked out too.
    other = log_in(open_app().run(), "alice", PASSWORD)
    assert other.session_state["authentication_status"] is not True
    assert any("Try again in 15 minutes" in e.value for e in other.error)

    # The lock ends by itself: here its time is moved back past the window.
    failures = json.loads(app_store.get_setting(LOGIN_FAILURES_SETTING))
    failures["alice"]["at"] -= 16 * 60
    app_store.set_setting(LOGIN_FAILURES_SETTING, json.dumps(failures))
    later = log_in(open_app().run(), "alice", PASSWORD)
    assert later.session_state["authentication_status"] is True


def test_an_unknown_username_gets_the_same_answer(alice):
    at = log_in(open_app().run(), "mallory", PASSWORD)
    assert at.session_state["authentication_status"] is False
    assert [e.value for e in at.error] == ["The username or password is incorrect."]


def test_the_first_account_is_created_on_a_fresh_install_and_becomes_admin(app_store):
    at = open_app().run()
    assert [t.value for t in at.title] == ["Welcome to Huddle"]
    assert not has_login_form(at)
    fill_form(at, FIRST_ACCOUNT, NEW_ACCOUNT)
    at.button(key=f"FormSubmitter:{FIRST_ACCOUNT}-Create account").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        "The admin account **carol** is ready. Log in with it below."
    ]
    carol = app_store.get_user("carol")
    assert (carol.role, carol.name, carol.email) == ("admin", "Carol Coach", "carol@example.com")
    assert bcrypt.checkpw(b"Passw0rd!", carol.password_hash.encode())
    assert not any(w.form_id == FIRST_ACCOUNT for w in at.text_input)  # the form is gone
    assert [t.value for t in at.title] == ["Huddle"]
    assert has_login_form(at)

    log_in(at, "carol", "Passw0rd!")
    assert at.session_state["authentication_status"] is True
    # Now that someone exists, nobody else sees the first-account screen.
    fresh = open_app().run()
    assert "Welcome to Huddle" not in page_text(fresh)
    assert not any(w.form_id in (FIRST_ACCOUNT, REGISTER) for w in fresh.text_input)


def test_a_weak_first_password_is_refused_and_nothing_is_stored(app_store):
    at = open_app().run()
    fill_form(at, FIRST_ACCOUNT, {**NEW_ACCOUNT, "Password": "short", "Repeat password": "short"})
    at.button(key=f"FormSubmitter:{FIRST_ACCOUNT}-Create account").click().run()
    assert at.error and at.error[0].value.startswith("**Password must:**")
    assert app_store.count_users() == 0


def test_registration_is_closed_unless_an_admin_or_the_server_opens_it(
    alice, app_store, monkeypatch
):
    assert not any(w.form_id == REGISTER for w in open_app().run().text_input)

    # The admin's switch in the account menu opens it.
    admin = logged_in_app("alice")
    admin.toggle(key="huddle_registration").set_value(True).run()
    assert app_store.get_setting("allow_registration") == "true"

    at = open_app().run()
    fill_form(at, REGISTER, NEW_ACCOUNT)
    at.button(key=f"FormSubmitter:{REGISTER}-Create account").click().run()
    assert not at.exception
    assert app_store.get_user("carol").role == "coach"
    log_in(at, "carol", "Passw0rd!")
    assert at.session_state["authentication_status"] is True

    # HUDDLE_ALLOW_REGISTRATION opens it without anyone's switch.
    app_store.set_setting("allow_registration", "false")
    assert not any(w.form_id == REGISTER for w in open_app().run().text_input)
    monkeypatch.setenv("HUDDLE_ALLOW_REGISTRATION", "1")
    assert any(w.form_id == REGISTER for w in open_app().run().text_input)


def test_a_username_the_store_refuses_creates_nothing(alice, app_store, monkeypatch):
    monkeypatch.setenv("HUDDLE_ALLOW_REGISTRATION", "true")
    at = open_app().run()
    fill_form(at, REGISTER, {**NEW_ACCOUNT, "Username": "c"})  # the store wants 2+ characters
    at.button(key=f"FormSubmitter:{REGISTER}-Create account").click().run()
    assert at.error and "username" in at.error[0].value
    assert [u.username for u in app_store.list_users()] == ["alice"]
    assert log_in(at, "c", "Passw0rd!").session_state["authentication_status"] is False


def test_log_out_shows_the_login_form_in_the_same_run(alice):
    at = logged_in_app("alice")
    at.button(key="huddle_log_out").click().run()
    assert not at.exception
    assert at.session_state["authentication_status"] is None
    assert has_login_form(at)
    assert "UnknownElement(key='delete')" in repr(at.main)  # the cookie is deleted
    assert "huddle_log_out" not in [b.key for b in at.button]


def test_log_out_forgets_the_open_conversation(alice, app_store):
    session = app_store.create_session(alice.id, title="Set pieces")
    app_store.add_message(alice.id, session.id, "user", "corner routines")
    at = logged_in_app("alice", session=session.id)
    assert at.query_params["session"] == session.id

    at.button(key="huddle_log_out").click().run()

    assert not at.exception
    assert "session" not in at.query_params
    assert "huddle_open_session" not in at.session_state


def test_change_password(alice, app_store):
    at = logged_in_app("alice")
    at.button(key="huddle_change_password").click().run()
    form = "huddle_reset_password"
    fill_form(at, form, {"Current password": "nope", "New password": "N3w-Secret!"})
    fill_form(at, form, {"Repeat password": "N3w-Secret!"})
    at.button(key=f"FormSubmitter:{form}-Change password").click().run()
    assert [e.value for e in at.error] == ["Password is incorrect"]
    assert bcrypt.checkpw(PASSWORD.encode(), app_store.get_user("alice").password_hash.encode())

    fill_form(at, form, {"Current password": PASSWORD})
    at.button(key=f"FormSubmitter:{form}-Change password").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Your password was changed."]
    assert bcrypt.checkpw(b"N3w-Secret!", app_store.get_user("alice").password_hash.encode())
    assert log_in(open_app().run(), "alice", "N3w-Secret!").session_state["authentication_status"]


def _browser_with_cookie(monkeypatch, token: str) -> None:
    # AppTest has no browser; a refresh sends the cookie with the page's request.
    client = types.SimpleNamespace(cookies={COOKIE_NAME: token}, headers={})
    monkeypatch.setattr(streamlit_context, "_get_client_context", lambda: client)


def test_a_refresh_keeps_the_coach_logged_in_through_the_cookie(alice, app_store, monkeypatch):
    open_app().run()  # the first start generates the cookie key and keeps it
    key = app_store.get_setting(COOKIE_KEY_SETTING)
    assert key and len(key) >= 32
    token = jwt.encode({"username": "alice", "exp_date": time.time() + 3600}, key, "HS256")
    _browser_with_cookie(monkeypatch, token)
    at = open_app().run()
    assert at.session_state["authentication_status"] is True
    assert not has_login_form(at)


@pytest.mark.parametrize("whose", ["forged", "deleted"])
def test_a_cookie_that_does_not_hold_shows_the_login_form(whose, alice, app_store, monkeypatch):
    open_app().run()
    key = app_store.get_setting(COOKIE_KEY_SETTING) if whose == "deleted" else "x" * 40
    name = "ghost" if whose == "deleted" else "alice"
    token = jwt.encode({"username": name, "exp_date": time.time() + 3600}, key, "HS256")
    _browser_with_cookie(monkeypatch, token)
    at = open_app().run()
    assert not at.exception
    assert at.session_state["authentication_status"] is not True
    assert has_login_form(at)


def test_cookie_key_from_the_environment(alice, app_store, monkeypatch):
    monkeypatch.setenv("HUDDLE_COOKIE_KEY", "k" * 48)
    token = jwt.encode({"username": "alice", "exp_date": time.time() + 3600}, "k" * 48, "HS256")
    _browser_with_cookie(monkeypatch, token)
    assert open_app().run().session_state["authentication_status"] is True
    assert app_store.get_setting(COOKIE_KEY_SETTING) is None
