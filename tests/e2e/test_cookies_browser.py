"""Log-in cookies in a real browser: only a live log-in's signed id lets anyone in.

Each cookie is put in a fresh browser before it opens the app: a JWT with alg none, a
right-looking id signed with the wrong key, an expired log-in, a revoked one, and one copied
from a browser that has since logged out. Each shows the log-in form, never a traceback; a
live log-in's cookie, for contrast, goes straight to the chat page.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from core.login_sessions import SESSION_IDLE, LoginSessions, sign, unsign
from core.models import utcnow
from tests.app.driver import password_hash
from tests.e2e.browser import app_store, form, log_in, wait_until_idle
from tests.waiting import until
from ui.auth import COOKIE_KEY_SETTING, COOKIE_NAME

pytestmark = pytest.mark.e2e

USERNAME = "cora"
PASSWORD = "Cookie-Jar-On-The-Bench-4"


@pytest.fixture(scope="module")
def cora(app_server, app_database_url):
    store = app_store(app_database_url)
    user = store.create_user(USERNAME, name="Cora", password_hash=password_hash(PASSWORD))
    yield store, user
    store.db.dispose()


def _alg_none() -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'username': USERNAME, 'exp_date': 4e9})}."


def _cookie_for(case: str, chromium, app_server, store, user) -> str:
    from playwright.sync_api import expect

    key = store.get_setting(COOKIE_KEY_SETTING)
    sessions = LoginSessions(store.db)
    if case == "alg none":
        return _alg_none()
    if case == "wrong key":
        return sign(sessions.start(user.id)[0], "not-the-key" * 5)
    if case == "expired":
        return sign(
            sessions.start(user.id, now=utcnow() - SESSION_IDLE - timedelta(hours=1))[0], key
        )
    if case == "revoked":
        raw_id = sessions.start(user.id)[0]
        sessions.end(raw_id)
        return sign(raw_id, key)
    if case == "live":
        return sign(sessions.start(user.id)[0], key)
    # Copied after log-out: taken from a browser that logged in, which then logs out.
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, app_server, USERNAME, PASSWORD)
    [copied] = [c["value"] for c in context.cookies() if c["name"] == COOKIE_NAME]
    page.get_by_role("button", name="Cora").click()
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(form(page, "Log in")).to_have_count(1)
    # The log-out has reached the server: the row the cookie names has ended.
    until(lambda: sessions.check(unsign(copied, key)) is None, "the log-out to be stored")
    context.close()
    return copied


@pytest.mark.parametrize(
    "case", ["alg none", "wrong key", "expired", "revoked", "copied after log-out", "live"]
)
def test_a_cookie_lets_in_only_a_live_log_in(case, chromium, app_server, cora):
    from playwright.sync_api import expect

    store, user = cora
    value = _cookie_for(case, chromium, app_server, store, user)
    context = chromium.new_context()
    context.add_cookies([{"name": COOKIE_NAME, "value": value, "url": app_server}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_server)
    wait_until_idle(page)
    if case == "live":
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
        expect(form(page, "Log in")).to_have_count(0)
    else:
        expect(form(page, "Log in")).to_have_count(1)
        expect(page.get_by_test_id("stChatInputTextArea")).to_have_count(0)
    assert "Traceback" not in page.content()
    assert page.get_by_test_id("stException").count() == 0
    context.close()
