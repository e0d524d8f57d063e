"""A search hit's link in a real browser: the message found is marked and scrolled into view."""

from __future__ import annotations

import pytest

from core.db import Database
from core.store import ConversationStore
from tests.app.driver import password_hash
from tests.e2e.browser import log_in

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

    log_in(page, app_server, USERNAME, PASSWORD)

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
