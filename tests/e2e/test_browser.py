"""A coach's first visit in a real browser: first account, chat, reload, build a drill.

Takes the screenshots README.md shows; they land in docs/screenshots/ when
HUDDLE_UPDATE_SCREENSHOTS=1 is set (so an ordinary `make test` leaves the tree clean),
otherwise in the test's temporary folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.browser import create_first_account, form, wait_for_reply_end, wait_until_idle

pytestmark = pytest.mark.e2e

PASSWORD = "Whistle-Cones-Bibs-2026"
OPEN_QUESTION = "Plan a 60-minute passing session for my U12 team"
ARITHMETIC = "what is 12*7+3"
DRILL = "U12 soccer passing drill for 10 players, 20 minutes, cones and balls"


def test_a_coach_chats_reloads_and_builds_a_drill(chromium, fresh_app_server, screenshots):
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)

    # A fresh install asks for the first account, then for a log-in with it.
    page.goto(fresh_app_server)
    wait_until_idle(page)
    # While a run redraws the screen the old heading can linger beside the new one.
    expect(page.get_by_role("heading", name="Welcome to Huddle")).to_have_count(1)
    create_first_account(page, "Maya", "Okafor", "maya", PASSWORD)
    wait_until_idle(page)
    login = form(page, "Log in")
    login.get_by_label("Username", exact=True).fill("maya")
    login.get_by_label("Password", exact=True).fill(PASSWORD)
    page.screenshot(path=str(screenshots / "login.png"))
    login.get_by_role("button", name="Log in").click()

    # The chat page; the reply streams in, with a Stop button while it is written.
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled()
    expect(form(page, "Log in")).to_have_count(0)
    box.fill(OPEN_QUESTION)
    box.press("Enter")
    reply = page.get_by_test_id("stChatMessage").nth(1)
    seen_while_streaming = _watch_stream(page, reply, box)
    wait_for_reply_end(page)
    final = reply.inner_text()
    assert "offline demo model" in final
    assert any(0 < len(text) < len(final) for text in seen_while_streaming), (
        "the reply arrived in one piece, not streamed"
    )

    box.fill(ARITHMETIC)
    box.press("Enter")
    expect(page.get_by_text("12*7+3 = 87")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Calculator · \d+ ms"))).to_be_visible()
    wait_for_reply_end(page)
    page.screenshot(path=str(screenshots / "chat.png"))

    # The conversation downloads as Markdown (the file is made when the button is clicked).
    page.get_by_role("button", name="Download").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Markdown").click()
    markdown = Path(download.value.path()).read_text()
    assert OPEN_QUESTION in markdown and "= 87" in markdown
    page.keyboard.press("Escape")

    # A reload keeps the coach logged in (the cookie) and in the same conversation.
    assert "session=" in page.url
    page.reload()
    expect(page.get_by_text(OPEN_QUESTION).first).to_be_visible()
    expect(page.get_by_text("12*7+3 = 87")).to_be_visible()
    expect(form(page, "Log in")).to_have_count(0)

    # The drill page: describe a drill, watch the card appear, change it. (A click while the
    # reloaded page still runs can be lost: wait for it to settle.)
    wait_until_idle(page)
    page.get_by_role("link", name="Drill builder").click()
    expect(page.get_by_text("No drill yet")).to_be_visible()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(DRILL)
    box.press("Enter")
    card_title = page.get_by_role("heading", name="U12 Soccer Passing Drill", exact=True)
    # The card is redrawn once the tool's round is stored (the page reruns then).
    expect(card_title).to_be_visible()
    expect(page.get_by_text(re.compile(r"Save new drill · \d+ ms"))).to_be_visible()
    # The reply goes on after the tool; the page shows Stop until it is written, then reruns
    # (text typed into a box that a run is redrawing can be lost: wait for it to settle).
    wait_for_reply_end(page)
    box.fill("make it 30 minutes and add bibs")
    box.press("Enter")
    expect(page.get_by_text(re.compile(r"Update drill · \d+ ms"))).to_be_visible()
    expect(page.get_by_text("30 min", exact=True)).to_be_visible()
    wait_for_reply_end(page)
    page.screenshot(path=str(screenshots / "drill.png"))
    context.close()

    for name in ("login.png", "chat.png", "drill.png"):
        assert (screenshots / name).stat().st_size > 10_000


def _watch_stream(page, reply, box) -> list[str]:
    """The reply's text each time it is looked at while it is written (Stop is shown)."""
    from playwright.sync_api import expect

    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    seen: list[str] = []
    for _ in range(400):
        if not stop.count():
            return seen
        if reply.count():
            seen.append(reply.inner_text())
        page.wait_for_timeout(50)
    raise AssertionError("the reply never finished streaming")
