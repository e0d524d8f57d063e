"""The History page in a real browser: search, bookmark, open a hit, select, export, import.

Takes docs/screenshots/history.png (with HUDDLE_UPDATE_SCREENSHOTS=1, as test_browser.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from core.archive_out import archive_bytes
from core.store import SessionFilter
from tests.app.driver import password_hash
from tests.e2e.browser import app_store, grid_click_row, log_in, wait_until_idle

pytestmark = pytest.mark.e2e

USERNAME = "hana"
PASSWORD = "Through-Ball-7!"


@pytest.fixture
def arranged(app_server, app_database_url):
    """Hana's season: sessions with tags and tools, one long chat with an old rondo, drills."""
    store = app_store(app_database_url)
    coach = store.create_user(USERNAME, name="Hana Mori", password_hash=password_hash(PASSWORD))
    start = datetime.now(UTC) - timedelta(days=30)
    topics = [
        ("Pressing triggers", ["u14"], "When do we press the goalkeeper?"),
        ("Set pieces", ["u14", "corners"], "Corner routines for tall defenders"),
        ("Goalkeeper footwork", ["u12"], "Footwork ladder for keepers"),
        ("Small-sided games", ["u12"], "3 v 3 to small goals"),
        ("Parents meeting", [], "Agenda for the parents meeting"),
    ]
    for day, (title, tags, text) in enumerate(topics):
        session = store.create_session(coach.id, title=title)
        store.add_message(coach.id, session.id, "user", text, created_at=start + timedelta(day))
        store.add_message(
            coach.id,
            session.id,
            "assistant",
            f"Here is a plan: {text.lower()}.",
            created_at=start + timedelta(day, 60),
        )
        store.set_tags(coach.id, session.id, tags)
    long = store.create_session(coach.id, title="Whole season notes")
    for seq in range(1, 121):
        text = "Try a rondo with two touches." if seq == 7 else f"Season note {seq}."
        store.add_message(
            coach.id,
            long.id,
            "user" if seq % 2 else "assistant",
            text,
            created_at=start + timedelta(days=10, minutes=seq),
        )
    for title, minutes, equipment in (
        ("Rondo 4 v 2", 15, ["cones", "bibs"]),
        ("Passing gates", 20, ["cones"]),
        ("Shooting ladder", 25, ["goals"]),
    ):
        store.create_drill(
            coach.id,
            title=title,
            sport="soccer",
            age_group="U12",
            players=12,
            duration_min=minutes,
            equipment=equipment,
            steps=["Set up", "Play"],
        )
    # Another coach's archive to upload: it becomes Hana's own copy.
    other = store.create_user("kai", name="Kai")
    theirs = store.create_session(other.id, title="Kai's futsal warm-up")
    store.add_message(other.id, theirs.id, "user", "Futsal warm-up with a ball each")
    upload = archive_bytes(store, other.id, session_ids=[theirs.id])
    yield {"store": store, "coach": coach, "long": long, "upload": upload}
    store.db.dispose()


def test_a_coach_finds_manages_and_exports_conversations(
    chromium, app_server, arranged, tmp_path, screenshots
):
    from playwright.sync_api import expect

    store, coach = arranged["store"], arranged["coach"]
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    log_in(page, app_server, USERNAME, PASSWORD)

    # Search from the box; the address keeps the search, so a reload shows it again.
    page.get_by_role("link", name="History").click()
    wait_until_idle(page)
    box = page.get_by_role("textbox", name="Search your conversations")
    box.fill("rondo")
    box.press("Enter")
    wait_until_idle(page)
    expect(page.get_by_text("1–1 of 1")).to_be_visible()
    assert "q=rondo" in page.url
    page.reload()
    wait_until_idle(page)
    expect(page.get_by_role("textbox", name="Search your conversations")).to_have_value("rondo")
    expect(page.get_by_text("1–1 of 1")).to_be_visible()

    # The hit opens its conversation at message 7, far older than the latest page.
    page.get_by_role("link", name="Try a rondo with two touches").click()
    found = page.locator(".st-key-huddle_found_message")
    expect(found).to_contain_text("Try a rondo with two touches.")
    assert f"session={arranged['long'].id}" in page.url and "seq=7" in page.url

    # Back to the list: select three rows and archive them.
    page.goto(f"{app_server}/history?sort=Title")
    wait_until_idle(page)
    expect(page.get_by_text("1–6 of 6")).to_be_visible()
    for index in range(3):
        grid_click_row(page, index)
    expect(page.get_by_text("3 conversations selected")).to_be_visible()
    page.screenshot(path=str(screenshots / "history.png"))
    page.get_by_role("button", name="Archive", exact=True).click()
    expect(page.get_by_text("Archived 3 conversations.")).to_be_visible()
    archived = store.list_sessions(coach.id, SessionFilter(archived=True), sort="title").items
    assert [s.title for s in archived] == [
        "Goalkeeper footwork",
        "Parents meeting",
        "Pressing triggers",
    ]
    expect(page.get_by_text("1–3 of 3")).to_be_visible()

    # Export everything shown: the CSV and the archive hold the three sessions left.
    page.get_by_role("button", name="Export all 3 conversations").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV (spreadsheet)").click()
    assert download.value.suggested_filename.endswith("-3-sessions.csv")
    frame = pd.read_csv(download.value.path())
    assert set(frame["session_title"]) == {"Set pieces", "Small-sided games", "Whole season notes"}
    assert len(frame) == 2 + 2 + 120
    with page.expect_download() as download:
        page.get_by_role("button", name="JSON archive").click()
    archive = json.loads(Path(download.value.path()).read_text())
    assert sorted(s["title"] for s in archive["sessions"]) == [
        "Set pieces",
        "Small-sided games",
        "Whole season notes",
    ]
    page.keyboard.press("Escape")

    # Import another coach's archive: a preview first, then the import.
    upload = tmp_path / "kai.json"
    upload.write_bytes(arranged["upload"])
    page.get_by_role("tab", name="Import").click()
    wait_until_idle(page)
    page.locator("input[type=file]").set_input_files(str(upload))
    expect(page.get_by_text("Huddle archive")).to_be_visible()
    page.get_by_role("button", name="Import 1 conversation").click()
    expect(page.get_by_text("Imported 1 conversation with 1 message.")).to_be_visible()
    titles = [s.title for s in store.list_sessions(coach.id, limit=50).items]
    assert "Kai's futsal warm-up" in titles

    # The drill library: drills needing cones, both selected, as one practice plan.
    page.get_by_role("tab", name="Drill library").click()
    wait_until_idle(page)
    expect(page.get_by_text("3 drills")).to_be_visible()
    search = page.get_by_role("textbox", name="Search drills")
    search.fill("cones")
    search.press("Enter")
    wait_until_idle(page)
    expect(page.get_by_text("2 drills")).to_be_visible()
    for index in range(2):
        grid_click_row(page, index)
    with page.expect_download() as download:
        page.get_by_role("button", name="Practice plan (Markdown)").click()
    plan = Path(download.value.path()).read_text()
    assert "35 min" in plan and "Rondo 4 v 2" in plan and "Passing gates" in plan
    assert "Shooting ladder" not in plan
    context.close()
    assert (screenshots / "history.png").stat().st_size > 10_000
