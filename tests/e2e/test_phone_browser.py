"""The chat and drill pages on a phone (390 × 844, a phone's user agent, touch), in Chromium.

Takes docs/screenshots/chat-phone.png and drill-phone.png (with HUDDLE_UPDATE_SCREENSHOTS=1,
as test_browser.py). Each check waits for the app's state, never for a fixed time.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import ChatTurn
from core.store import SessionFilter
from tests.app.driver import password_hash
from tests.e2e.browser import app_store, log_in, wait_for_reply_end, wait_until_idle
from tests.waiting import until

pytestmark = pytest.mark.e2e

USERNAME = "noa"
PASSWORD = "Quick-Throw-9!"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
    ),
}
TITLES = (
    "Passing warm-up for U10",
    "A very long conversation title about defending set pieces in the rain and wind",
    "Rondo ideas",
)
DRILL = "U12 soccer passing drill for 10 players, 20 minutes, cones and balls"


@pytest.fixture(scope="module")
def noa(app_server, app_database_url):
    store = app_store(app_database_url)
    coach = store.create_user(USERNAME, name="Noa Levi", password_hash=password_hash(PASSWORD))
    for title in TITLES:
        session = store.create_session(coach.id, title=title)
        store.add_message(coach.id, session.id, "user", f"Notes: {title.lower()}")
        store.add_message(coach.id, session.id, "assistant", f"Here is a plan for {title}.")
    yield store, coach
    store.db.dispose()


def test_chat_and_drill_pages_on_a_phone(chromium, app_server, noa, screenshots):
    from playwright.sync_api import expect

    store, coach = noa
    context, page = _logged_in_phone(chromium, app_server)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_have_attribute("data-collapsed", "true")

    # Each conversation's ⋮ menu sits on its own row, named for what it does and to which.
    _open_sidebar(page)
    for title in TITLES:
        row = page.get_by_role("button", name=title, exact=True)
        menu = page.get_by_role("button", name=f"Rename, pin or delete {title}", exact=True)
        expect(row).to_be_visible()
        expect(menu).to_be_visible()
        title_box, menu_box, side = row.bounding_box(), menu.bounding_box(), sidebar.bounding_box()
        assert abs(_middle(title_box) - _middle(menu_box)) < 6, f"{title}: menu off its row"
        assert menu_box["x"] >= title_box["x"] + title_box["width"] - 1, f"{title}: menu overlaps"
        assert menu_box["x"] + menu_box["width"] <= side["x"] + side["width"], f"{title}: cut off"

    # Choosing a conversation closes the sidebar and shows it.
    page.get_by_role("button", name="Rondo ideas", exact=True).click()
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    expect(page.get_by_text("Here is a plan for Rondo ideas.")).to_be_visible()
    wait_until_idle(page)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("what is 12*7+3")
    box.press("Enter")
    expect(page.get_by_text("12*7+3 = 87")).to_be_visible()
    wait_for_reply_end(page)
    _assert_nothing_covers_the_chat(page)
    page.screenshot(path=str(screenshots / "chat-phone.png"))

    # So does choosing a page.
    _open_sidebar(page)
    page.get_by_role("link", name="Drill builder").click()
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    expect(page.get_by_text("No drill yet")).to_be_visible()
    wait_until_idle(page)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(DRILL)
    box.press("Enter")
    card_title = page.get_by_role("heading", name="U12 Soccer Passing Drill", exact=True)
    expect(card_title).to_be_visible()
    until(lambda: _drill_turn_done(store, coach.id), what="the drill's reply stored")
    wait_for_reply_end(page)

    # The card comes above the chat, and neither scrolls in a pane of its own: the page does.
    card, chat = page.locator(".st-key-huddle_drill_pane"), page.locator(".st-key-huddle_chat_pane")
    assert card.bounding_box()["y"] < chat.bounding_box()["y"], "the card is not above the chat"
    for pane in (card, chat):
        assert not pane.evaluate(SCROLLS_ON_ITS_OWN), "a pane scrolls inside the page"
    _assert_nothing_covers_the_chat(page)
    page.evaluate(SCROLL_TO % "0")
    expect(card_title).to_be_in_viewport()
    page.screenshot(path=str(screenshots / "drill-phone.png"))
    context.close()

    for name in ("chat-phone.png", "drill-phone.png"):
        assert (screenshots / name).stat().st_size > 10_000


def test_the_chat_box_counts_characters_near_the_limit(chromium, app_server, noa):
    from playwright.sync_api import expect

    context, page = _logged_in_phone(chromium, app_server)
    box = page.get_by_test_id("stChatInputTextArea")
    counter = page.get_by_test_id("huddleCharCount")
    box.fill("word " * 5_000)  # 25,000 of 32,000: no counter yet
    expect(counter).to_have_count(0)
    box.fill("word " * 6_000)
    expect(counter).to_have_text("30,000 of 32,000 characters")
    assert counter.evaluate("c => c.dataset.over") == "false"
    box.fill("word " * 7_000)
    expect(counter).to_have_text("35,000 of 32,000 characters · 3,000 too many")
    assert counter.evaluate("c => c.dataset.over") == "true"
    # Sent over the limit, the message is kept in an editor and the box is empty again.
    box.press("Enter")
    expect(page.get_by_text("Your message is 35,000 characters long")).to_be_visible()
    expect(counter).to_have_count(0)
    context.close()


# Scrolls the page's main area (the scrolling ancestor of its content) to a place.
SCROLL_TO = """() => {
  let pane = document.querySelector("[data-testid=stMainBlockContainer]");
  while (pane && !(pane.scrollHeight > pane.clientHeight + 1
      && ["auto", "scroll"].includes(getComputedStyle(pane).overflowY))) {
    pane = pane.parentElement;
  }
  if (pane) pane.scrollTo(0, %s);
}"""
SCROLLS_ON_ITS_OWN = """pane => pane.scrollHeight > pane.clientHeight + 1
    && ["auto", "scroll"].includes(getComputedStyle(pane).overflowY)"""


def _logged_in_phone(chromium, url: str):
    """A phone's browser context and page, Noa logged in on the chat page."""
    from playwright.sync_api import expect

    context = chromium.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    log_in(page, url, USERNAME, PASSWORD)
    return context, page


def _open_sidebar(page) -> None:
    from playwright.sync_api import expect

    wait_until_idle(page)
    page.get_by_test_id("stExpandSidebarButton").click()
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "false")


def _middle(box: dict) -> float:
    return box["y"] + box["height"] / 2


def _drill_turn_done(store, user_id: int) -> bool:
    """The drill conversation's turns have all ended (its reply is stored)."""
    sessions = store.list_sessions(user_id, SessionFilter(kind="drill")).items
    if not sessions:
        return False
    with store.db.reading() as session:
        statuses = session.scalars(
            select(ChatTurn.status).where(ChatTurn.session_id == sessions[0].id)
        ).all()
    return bool(statuses) and "running" not in statuses


def _assert_nothing_covers_the_chat(page) -> None:
    """No Download button lies over a chat bubble or the chat box, wherever the page is
    scrolled: top and bottom."""
    for where in ("0", "pane.scrollHeight"):
        page.evaluate(SCROLL_TO % where)
        chat = [page.get_by_test_id("stChatInput"), *page.get_by_test_id("stChatMessage").all()]
        for button in page.get_by_role("button", name="Download").all():
            if not button.is_visible():
                continue
            mine = button.bounding_box()
            for part in chat:
                theirs = part.bounding_box()
                if theirs is not None and _overlap(mine, theirs):
                    raise AssertionError(f"a Download button covers {part.inner_text()[:40]!r}")


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )
