"""A search hit's link in a real browser: the message found is marked and scrolled into view."""

from __future__ import annotations

import pytest

from core.db import Database
from core.store import ConversationStore
from tests.app.driver import password_hash
from ui.auth import COOKIE_NAME

pytestmark = pytest.mark.e2e

USERNAME = "jordan"
PASSWORD = "Corner-Kick-9!"
LENGTH = 120
FOUND = 60
# Tall messages just before the one found: without the scroll it would sit below the fold.
TALL = "\n\n".join(f"Paragraph {n} of the warm-up plan." for n in range(1, 41))


MARK = ".st-key-huddle_found_message"
# One mark with the message's text, the app idle and the mark not moving for a second. (While
# a run redraws the page the last run's elements linger, so a second mark can show briefly.)
SETTLED_MARK = """([selector, text]) => {
  const marks = document.querySelectorAll(selector);
  const app = document.querySelector("[data-testid=stApp]");
  const idle = app && app.getAttribute("data-test-script-state") === "notRunning";
  const top = marks.length === 1 && idle && marks[0].innerText.includes(text)
    ? marks[0].getBoundingClientRect().top : null;
  const still = top !== null && top === window.huddleTestLastTop;
  window.huddleTestLastTop = top;
  window.huddleTestStill = still ? (window.huddleTestStill || 0) + 1 : 0;
  return window.huddleTestStill >= 10;
}"""


def _text(seq: int) -> str:
    return f"Message number {seq}." + (f"\n\n{TALL}" if FOUND - 4 <= seq < FOUND else "")


@pytest.fixture
def long_sessions(app_database_url) -> dict[str, str]:
    """A coach with a 120-message chat and a 120-message drill chat: {kind: session id}."""
    db = Database(app_database_url)
    db.migrate()
    store = ConversationStore(db)
    coach = store.create_user(USERNAME, name="Jordan Lee", password_hash=password_hash(PASSWORD))
    ids = {}
    for kind in ("chat", "drill"):
        session = store.create_session(coach.id, kind=kind, title=f"A long {kind}")
        for seq in range(1, LENGTH + 1):
            role = "user" if seq % 2 else "assistant"
            store.add_message(coach.id, session.id, role, _text(seq))
        ids[kind] = session.id
    db.dispose()
    return ids


def test_a_search_hit_opens_scrolled_to_the_marked_message(
    chromium, app_server, long_sessions, tmp_path
):
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)

    page.goto(app_server)
    _wait_until_idle(page)
    login = _form(page, "Log in")
    login.get_by_label("Username", exact=True).fill(USERNAME)
    login.get_by_label("Password", exact=True).fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
    _wait_for_cookie(context)  # the deep links below are new page loads

    for path, kind in (("", "chat"), ("drill_chat", "drill")):  # chat is the default page
        page.goto(f"{app_server}/{path}?session={long_sessions[kind]}&seq={FOUND}")
        found = page.locator(MARK)
        page.wait_for_function(SETTLED_MARK, arg=[MARK, f"Message number {FOUND}."], polling=100)
        expect(found).to_contain_text("Found by search")
        expect(found).to_be_in_viewport()
        # The page starts at the question before it, so the tall messages are above it.
        expect(page.get_by_text(f"Message number {FOUND - 3}.", exact=True)).to_have_count(1)
        expect(page.get_by_text(f"Message number {LENGTH}.", exact=True)).to_have_count(0)
        page.screenshot(path=str(tmp_path / f"found-{kind}.png"))

        # Sending a message leaves the hit: the latest messages, no mark, no seq in the URL.
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("what is 2+2")
        box.press("Enter")
        expect(page.get_by_text("2+2 = 4")).to_be_in_viewport()
        expect(found).to_have_count(0)
        expect(box).to_be_enabled()
        assert "seq=" not in page.url and f"session={long_sessions[kind]}" in page.url
    context.close()


def _wait_for_cookie(context) -> None:
    """Wait until the log-in cookie is written (the browser writes it after the run)."""
    for _ in range(200):
        if any(cookie["name"] == COOKIE_NAME for cookie in context.cookies()):
            return
        context.pages[0].wait_for_timeout(100)
    raise AssertionError("the log-in cookie was never written")


def _form(page, button: str):
    return page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name=button))


def _wait_until_idle(page) -> None:
    """Wait until the app has finished its runs (the cookie component's first value reruns it)."""
    app = page.get_by_test_id("stApp")
    quiet = 0
    for _ in range(200):
        idle = app.get_attribute("data-test-script-state") == "notRunning"
        quiet = quiet + 1 if idle else 0
        if quiet == 4:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the app never stopped running")
