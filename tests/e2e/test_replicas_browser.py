"""Two `streamlit run` servers on one PostgreSQL, driven in Chromium, as a team runs Huddle.

An account made on one logs in on the other; a message sent on one is there after a reload on
the other; a log-out on one ends the same log-in on the other (a browser sends its cookie to
both: cookies ignore the port). Each step waits for the app's state and checks the database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.e2e.browser import (
    app_store,
    create_first_account,
    form,
    log_in,
    wait_for_reply_end,
    wait_until_idle,
)
from tests.e2e.conftest import start_app

pytestmark = pytest.mark.e2e

PASSWORD = "Two-Servers-One-Team-7"


def _live_log_ins(store, username: str) -> int:
    with store.db.engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT count(*) FROM login_sessions JOIN users ON users.id = user_id "
                "WHERE username = :name AND revoked_at IS NULL"
            ),
            {"name": username},
        ).scalar_one()


def test_two_replicas_share_accounts_messages_and_log_outs(chromium, tmp_path, postgres_url):
    from playwright.sync_api import expect

    store = app_store(postgres_url)
    replica_a = start_app(postgres_url, tmp_path / "a.log")
    replica_b = start_app(postgres_url, tmp_path / "b.log")
    try:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        expect.set_options(timeout=30_000)

        # The first account, made on A.
        page.goto(replica_a.url)
        wait_until_idle(page)
        create_first_account(page, "Ines", "Duarte", "ines", PASSWORD)
        assert store.get_user("ines").role == "admin"

        # It logs in on B (another browser), and a message is sent there.
        other = chromium.new_context(viewport={"width": 1280, "height": 900})
        on_b = other.new_page()
        on_b.set_default_timeout(30_000)
        log_in(on_b, replica_b.url, "ines", PASSWORD)
        box = on_b.get_by_test_id("stChatInputTextArea")
        box.fill("what is 12*7+3")
        box.press("Enter")
        expect(on_b.get_by_text("12*7+3 = 87")).to_be_visible()
        wait_for_reply_end(on_b)
        [session] = store.list_sessions(store.get_user("ines").id).items

        # On A, after log-in and a reload, the conversation is there.
        log_in(page, replica_a.url, "ines", PASSWORD)
        page.goto(f"{replica_a.url}/?session={session.id}")
        expect(page.get_by_text("12*7+3 = 87")).to_be_visible()
        asked = page.get_by_role("group", name="Chat message from user")
        expect(asked.get_by_text("what is 12*7+3", exact=True)).to_be_visible()

        # The same browser on B is logged in by its cookie: the row is found there too.
        page.goto(replica_b.url)
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
        expect(form(page, "Log in")).to_have_count(0)
        assert _live_log_ins(store, "ines") == 2  # this browser and the other

        # Log out on A: B lets that browser in no more; the other browser stays in.
        page.goto(replica_a.url)
        wait_until_idle(page)
        page.get_by_role("button", name="Ines Duarte").click()
        page.get_by_role("button", name="Log out", exact=True).click()
        expect(form(page, "Log in")).to_have_count(1)
        assert _live_log_ins(store, "ines") == 1
        page.goto(replica_b.url)
        expect(form(page, "Log in")).to_have_count(1)
        on_b.reload()
        expect(on_b.get_by_test_id("stChatInputTextArea")).to_be_enabled()
        expect(form(on_b, "Log in")).to_have_count(0)
        context.close()
        other.close()
    finally:
        replica_a.stop()
        replica_b.stop()
        store.db.dispose()
