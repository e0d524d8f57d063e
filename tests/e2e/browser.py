"""Driving the running app in Chromium: wait for it to be idle, find a form, log in."""

from __future__ import annotations

from core.db import Database
from core.store import ConversationStore
from ui.auth import COOKIE_NAME
from ui.sidebar import WRITING_ICON

# The name of the sidebar's icon for a conversation whose reply is being written.
WRITING_ICON_NAME = WRITING_ICON.removeprefix(":material/").removesuffix(":")


def form(page, button: str):
    """The form (one of the login screen's) that has this submit button."""
    return page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name=button))


def wait_until_idle(page) -> None:
    """Wait until the app has finished its runs (a custom component's first value reruns it).

    Typing into a form while a run redraws it can lose the text.
    """
    app = page.get_by_test_id("stApp")
    quiet = 0
    for _ in range(300):
        idle = app.get_attribute("data-test-script-state") == "notRunning"
        quiet = quiet + 1 if idle else 0
        if quiet == 4:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the app never stopped running")


def create_first_account(page, first: str, last: str, username: str, password: str) -> None:
    """Fill a fresh install's first-account form and wait for its "ready" sentence."""
    from playwright.sync_api import expect

    signup = form(page, "Create account")
    for label, value in {
        "First name": first,
        "Last name": last,
        "Email": f"{username}@example.com",
        "Username": username,
        "Password": password,
        "Repeat password": password,
    }.items():
        signup.get_by_label(label, exact=True).fill(value)
    signup.get_by_role("button", name="Create account").click()
    expect(page.get_by_text(f"The admin account {username} is ready")).to_be_visible()


def wait_for_reply_end(page) -> None:
    """Wait until the page has drawn the open conversation's turn as ended.

    No Stop button is not enough: between a round's rerun and the next poll it can be gone
    for a moment mid-turn. The sidebar's "being written" mark is drawn by full runs only, so
    with it gone too, a run after the turn's end has drawn the page.
    """
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    writing = page.get_by_test_id("stSidebar").get_by_text(WRITING_ICON_NAME, exact=True)
    expect(writing).to_have_count(0)
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    wait_until_idle(page)


def log_in(page, url: str, username: str, password: str) -> None:
    """Open the app and log in through its form; returns once the chat page is ready."""
    from playwright.sync_api import Error, expect

    page.goto(url)
    for attempt in range(5):
        wait_until_idle(page)
        login = form(page, "Log in")
        try:
            # While a run redraws the screen, the previous run's fields can linger beside the
            # new ones: a strict locator then finds two, and filling waits for the next quiet
            # moment instead.
            login.get_by_label("Username", exact=True).fill(username, timeout=5_000)
            login.get_by_label("Password", exact=True).fill(password, timeout=5_000)
            login.get_by_role("button", name="Log in").click(timeout=5_000)
            break
        except Error:
            if attempt == 4:
                raise
    # On a busy two-core machine the first page after log-in can take a while.
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled(timeout=60_000)
    wait_until_idle(page)
    _wait_for_cookie(page)  # so that a reload or a deep link (a new page load) stays logged in


def _wait_for_cookie(page) -> None:
    """Wait until the log-in cookie is written (the browser writes it after the run)."""
    for _ in range(300):
        if any(cookie["name"] == COOKIE_NAME for cookie in page.context.cookies()):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the log-in cookie was never written")


def grid_click_row(page, index: int, row_px: int = 35) -> None:
    """Click a row's selection box in the page's one dataframe (drawn on a canvas)."""
    from playwright.sync_api import expect

    wait_until_idle(page)
    grid = page.get_by_test_id("stDataFrame")
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    assert box is not None, "the table is not on the page"
    page.mouse.click(box["x"] + 18, box["y"] + row_px * (index + 1) + row_px / 2)
    wait_until_idle(page)


def app_store(database_url: str) -> ConversationStore:
    """A store on the running app's database, to arrange data and check what the app wrote."""
    db = Database(database_url)
    db.migrate()
    return ConversationStore(db)
