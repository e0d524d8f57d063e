"""Logging in: the form, failed log-ins, the first account, registration, the cookie."""

from __future__ import annotations

import base64
import json
import tomllib
import types
from datetime import timedelta

import bcrypt
import jwt
import pytest
import streamlit.runtime.context as streamlit_context

from core.login_sessions import FREE_ATTEMPTS, LoginFailures, LoginSessions, sign
from core.models import LoginFailure
from core.passwords import PASSWORD_RULE
from tests.app.driver import (
    PASSWORD,
    ROOT,
    cookie_writes,
    fill_form,
    has_login_form,
    log_in,
    logged_in_app,
    open_app,
    page_text,
    popover_labels,
    start_login,
)
from ui.auth import COOKIE_KEY_SETTING, COOKIE_NAME
from ui.state import LOGIN_SESSION

FIRST_ACCOUNT = "huddle_first_account"
REGISTER = "huddle_register"
NEW_PASSWORD = "Corner-Flag-Hinge-42"
NEW_ACCOUNT = {
    "First name": "Carol",
    "Last name": "Coach",
    "Email": "carol@example.com",
    "Username": "carol",
    "Password": NEW_PASSWORD,
    "Repeat password": NEW_PASSWORD,
}
INCORRECT = ["The username or password is incorrect."]


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
    failures = LoginFailures(app_store.db)
    at = log_in(open_app().run(), "alice", "wrong-password")
    assert not at.exception
    assert at.session_state["authentication_status"] is False
    assert [e.value for e in at.error] == INCORRECT
    assert has_login_form(at)
    assert failures.count("user:alice") == 1

    log_in(at, "ALICE ", PASSWORD)  # the library trims and lower-cases usernames
    assert at.session_state["authentication_status"] is True
    assert failures.count("user:alice") == 0


def test_failed_logins_make_the_next_attempt_wait_in_every_browser(alice, app_store):
    at = open_app().run()
    for _ in range(FREE_ATTEMPTS):
        log_in(at, "alice", "wrong-password")
    # Now even the right password is refused until the wait is over, unchecked.
    log_in(at, "alice", PASSWORD)
    assert at.session_state["authentication_status"] is not True
    assert [e.value for e in at.error] == [
        "Too many failed log-ins for this username or from this address. Try again in 2 seconds."
    ]
    assert LoginFailures(app_store.db).count("user:alice") == FREE_ATTEMPTS

    # Another browser (a new session, maybe another replica) must wait too.
    other = log_in(open_app().run(), "alice", PASSWORD)
    assert other.session_state["authentication_status"] is not True
    assert "Try again in" in other.error[0].value

    # The wait ends by itself: here the last failure is moved back past it.
    _move_failures_back(app_store, seconds=3)
    later = log_in(open_app().run(), "alice", PASSWORD)
    assert later.session_state["authentication_status"] is True


@pytest.mark.parametrize("who", ["unknown", "password-less", "waiting"])
def test_every_refusal_looks_the_same_whether_or_not_the_account_exists(who, alice, app_store):
    """An unknown username, one without a password and a real one are answered alike, and a
    name nobody has must wait after failures just as a real one does."""
    if who == "password-less":
        app_store.create_user("dana")
    name = {"unknown": "mallory", "password-less": "dana", "waiting": "mallory"}[who]
    at = open_app().run()
    attempts = FREE_ATTEMPTS + 1 if who == "waiting" else 1
    for _ in range(attempts):
        log_in(at, name, PASSWORD)
    real = open_app().run()
    for _ in range(attempts):
        log_in(real, "alice", "wrong-password")
    assert at.session_state["authentication_status"] is False
    assert [e.value for e in at.error] == [e.value for e in real.error]
    assert LoginFailures(app_store.db).count(f"user:{name}") == (
        FREE_ATTEMPTS if who == "waiting" else 1
    )


def _move_failures_back(store, *, seconds: int) -> None:
    with store.db.writing() as session:
        for failure in session.query(LoginFailure).all():
            failure.last_at -= timedelta(seconds=seconds)


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
    assert bcrypt.checkpw(NEW_PASSWORD.encode(), carol.password_hash.encode())
    assert not any(w.form_id == FIRST_ACCOUNT for w in at.text_input)  # the form is gone
    assert [t.value for t in at.title] == ["Huddle"]
    assert has_login_form(at)

    log_in(at, "carol", NEW_PASSWORD)
    assert at.session_state["authentication_status"] is True
    # Now that someone exists, nobody else sees the first-account screen.
    fresh = open_app().run()
    assert "Welcome to Huddle" not in page_text(fresh)
    assert not any(w.form_id in (FIRST_ACCOUNT, REGISTER) for w in fresh.text_input)


def test_a_weak_first_password_is_refused_and_nothing_is_stored(app_store):
    at = open_app().run()
    for weak, sentence in (
        ("short", "A password needs at least 15 characters; this one has 5."),
        ("passwordpassword", "That password is too easy to guess"),
    ):
        fill_form(at, FIRST_ACCOUNT, {**NEW_ACCOUNT, "Password": weak, "Repeat password": weak})
        at.button(key=f"FormSubmitter:{FIRST_ACCOUNT}-Create account").click().run()
        assert at.error and at.error[0].value.startswith(sentence)
        assert app_store.count_users() == 0
    # The rule is stated on the form, before anyone trips over it.
    assert any(w.help == PASSWORD_RULE for w in at.text_input if w.label == "Password")


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
    log_in(at, "carol", NEW_PASSWORD)
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
    assert log_in(at, "c", NEW_PASSWORD).session_state["authentication_status"] is False


def test_log_out_ends_the_log_in_and_shows_the_form_in_the_same_run(alice, app_store):
    at = logged_in_app("alice")
    raw_id = at.session_state[LOGIN_SESSION]
    at.button(key="huddle_log_out").click().run()
    assert not at.exception
    assert at.session_state["authentication_status"] is None
    assert has_login_form(at)
    [deleted] = cookie_writes(at)
    assert deleted.startswith(f"{COOKIE_NAME}=; Path=/; Expires=Thu, 01 Jan 1970")
    assert "huddle_log_out" not in [b.key for b in at.button]
    # The row is over: a copy of the cookie logs nobody in, here or on another replica.
    assert LoginSessions(app_store.db).check(raw_id) is None
    key = app_store.get_setting(COOKIE_KEY_SETTING)
    assert not _open_with_cookie(sign(raw_id, key)).session_state["authentication_status"]


def test_log_out_forgets_the_open_conversation(alice, app_store):
    session = app_store.create_session(alice.id, title="Set pieces")
    app_store.add_message(alice.id, session.id, "user", "corner routines")
    at = logged_in_app("alice", session=session.id)
    assert at.query_params["session"] == session.id

    at.button(key="huddle_log_out").click().run()

    assert not at.exception
    assert "session" not in at.query_params
    assert "huddle_open_session" not in at.session_state


@pytest.mark.parametrize("how", ["log out everywhere", "account removed"])
def test_a_log_in_ended_elsewhere_ends_at_the_next_run(how, alice, app_store):
    app_store.create_user("bob")  # someone is left: the log-in form, not the first-account one
    at = logged_in_app("alice")
    assert not has_login_form(at)
    # Another replica, the command line or an admin acts on the database.
    if how == "log out everywhere":
        assert LoginSessions(app_store.db).end_all(alice.id) == 1
    else:
        app_store.delete_user(alice.id)
    at.run()
    assert not at.exception
    assert has_login_form(at)
    assert at.session_state["authentication_status"] is None


def test_log_out_on_other_devices_keeps_this_one(alice, app_store):
    other_device = start_login("alice")
    at = logged_in_app("alice")
    at.button(key="huddle_log_out_elsewhere").click().run()
    assert not at.exception
    sessions = LoginSessions(app_store.db)
    assert sessions.check(other_device) is None
    assert sessions.check(at.session_state[LOGIN_SESSION]) is not None
    assert "Logged out on 1 other device or browser" in page_text(at)
    at.run()
    assert not has_login_form(at)


def test_change_password_ends_the_other_log_ins(alice, app_store):
    other_device = start_login("alice")
    at = logged_in_app("alice")
    at.button(key="huddle_change_password").click().run()
    form = "huddle_reset_password"
    fill_form(at, form, {"Current password": "nope", "New password": NEW_PASSWORD})
    fill_form(at, form, {"Repeat password": NEW_PASSWORD})
    at.button(key=f"FormSubmitter:{form}-Change password").click().run()
    assert [e.value for e in at.error] == ["Password is incorrect"]
    assert bcrypt.checkpw(PASSWORD.encode(), app_store.get_user("alice").password_hash.encode())

    fill_form(at, form, {"Current password": PASSWORD, "New password": "short-one"})
    fill_form(at, form, {"Repeat password": "short-one"})
    at.button(key=f"FormSubmitter:{form}-Change password").click().run()
    assert at.error[0].value.startswith("A password needs at least 15 characters")

    fill_form(at, form, {"New password": NEW_PASSWORD, "Repeat password": NEW_PASSWORD})
    at.button(key=f"FormSubmitter:{form}-Change password").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Your password was changed; 1 other log-in ended."]
    assert bcrypt.checkpw(NEW_PASSWORD.encode(), app_store.get_user("alice").password_hash.encode())
    assert LoginSessions(app_store.db).check(other_device) is None
    at.run()
    assert not has_login_form(at)  # this browser stays logged in
    assert log_in(open_app().run(), "alice", NEW_PASSWORD).session_state["authentication_status"]


def _open_with_cookie(value: str, monkeypatch=None):
    """The app in a new browser that sends this cookie (AppTest has no browser: the page's
    request context is replaced)."""
    client = types.SimpleNamespace(cookies={COOKIE_NAME: value}, headers={})
    original = streamlit_context._get_client_context
    streamlit_context._get_client_context = lambda: client
    try:
        return open_app().run()
    finally:
        streamlit_context._get_client_context = original


def test_a_refresh_keeps_the_coach_logged_in_through_the_cookie(alice, app_store):
    at = log_in(open_app().run(), "alice")
    raw_id = at.session_state[LOGIN_SESSION]
    key = app_store.get_setting(COOKIE_KEY_SETTING)
    assert key and len(key) >= 32
    [written] = cookie_writes(at)
    value = written.split(";")[0].removeprefix(f"{COOKIE_NAME}=")
    assert value == sign(raw_id, key)
    assert "; SameSite=Strict" in written and "; Expires=" in written
    assert not has_login_form(at)  # the form went in the run that logged in
    again = _open_with_cookie(value)
    assert again.session_state["authentication_status"] is True
    assert not has_login_form(again)
    assert raw_id not in json.dumps(
        [
            str(row)
            for row in app_store.db.engine.connect().exec_driver_sql("SELECT * FROM login_sessions")
        ]
    ), "the table keeps only a digest of the id"


def _jwt_without_signature(header: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part(header)}.{part({'username': 'alice', 'exp_date': 4e9})}."


@pytest.mark.parametrize(
    "cookie",
    [
        "forged",
        "deleted user",
        "old-style JWT",
        "alg none",
        "alg RS256",
        "garbage",
        "empty",
        "huge",
    ],
)
def test_a_cookie_that_does_not_hold_shows_the_login_form(cookie, alice, app_store):
    """Whatever the browser sends, the page shows the log-in form: never a traceback."""
    app_store.create_user("bob")  # someone is left: the log-in form, not the first-account one
    at = log_in(open_app().run(), "alice")
    raw_id = at.session_state[LOGIN_SESSION]
    key = app_store.get_setting(COOKIE_KEY_SETTING)
    if cookie == "deleted user":
        value = sign(raw_id, key)
        app_store.delete_user(alice.id)
    else:
        value = {
            "forged": sign(raw_id, "x" * 48),
            "old-style JWT": jwt.encode({"username": "alice", "exp_date": 4e9}, key, "HS256"),
            "alg none": _jwt_without_signature({"alg": "none", "typ": "JWT"}),
            "alg RS256": _jwt_without_signature({"alg": "RS256", "typ": "JWT"}),
            "garbage": "%%%\x00not a cookie",
            "empty": "",
            "huge": "a." * 50_000,
        }[cookie]
    fresh = _open_with_cookie(value)
    assert not fresh.exception
    assert fresh.session_state["authentication_status"] is not True
    assert has_login_form(fresh)


def test_cookie_key_from_the_environment(alice, app_store, monkeypatch):
    monkeypatch.setenv("HUDDLE_COOKIE_KEY", "k" * 48)
    at = log_in(open_app().run(), "alice")
    cookie = sign(at.session_state[LOGIN_SESSION], "k" * 48)
    assert _open_with_cookie(cookie).session_state["authentication_status"] is True
    assert app_store.get_setting(COOKIE_KEY_SETTING) is None


def test_an_unexpected_error_is_one_sentence_with_an_id(alice, monkeypatch, caplog):
    import ui.sidebar

    monkeypatch.setenv("HUDDLE_RAISE_ERRORS", "")

    def broken(*args, **kwargs):
        raise RuntimeError("secret server path /srv/huddle/core.py")

    monkeypatch.setattr(ui.sidebar, "group_by_day", broken)
    at = logged_in_app("alice")
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("Something went wrong here (error ")
    assert "secret server path" not in page_text(at)
    error_id = error.value.split("(error ")[1].split(")")[0]
    assert any(error_id in record.getMessage() for record in caplog.records)


def test_streamlit_never_shows_a_stack_trace():
    """`false` means "stacktrace" in Streamlit 1.67; only "none" hides the details."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
