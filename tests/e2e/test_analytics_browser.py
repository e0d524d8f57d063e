"""The Analytics page in a real browser: its charts render and a chart's CSV downloads.

Takes docs/screenshots/analytics.png (with HUDDLE_UPDATE_SCREENSHOTS=1, as test_browser.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tests.app.driver import password_hash
from tests.e2e.browser import app_store, log_in, wait_until_idle

pytestmark = pytest.mark.e2e

USERNAME = "ines"
PASSWORD = "Give-And-Go-5!"


@pytest.fixture
def season(app_server, app_database_url):
    """Three weeks of Ines's chats: words both ways, tokens, tool calls, a drill."""
    store = app_store(app_database_url)
    coach = store.create_user(USERNAME, name="Ines Duarte", password_hash=password_hash(PASSWORD))
    start = datetime.now(UTC) - timedelta(days=20)
    for day in range(0, 20, 2):
        session = store.create_session(coach.id, title=f"Session plan {day}")
        when = start + timedelta(days=day, hours=day % 5)
        store.add_message(coach.id, session.id, "user", "Plan a rondo for twelve", created_at=when)
        reply = store.add_message(
            coach.id,
            session.id,
            "assistant",
            "Here is a rondo plan with three rounds and a cool-down.",
            created_at=when + timedelta(seconds=9),
            model="claude-sonnet-5-5",
            input_tokens=900 + day,
            output_tokens=120,
            latency_ms=4_000 + 100 * day,
        )
        store.record_tool_call(
            coach.id,
            session.id,
            message_id=reply.id,
            tool_use_id=f"toolu_{day}",
            name="calculator" if day % 4 else "word_count",
            input={},
            output="12",
            is_error=day == 6,
            duration_ms=5 + day,
            created_at=when + timedelta(seconds=5),
        )
    store.create_drill(
        coach.id, title="Rondo 4 v 2", sport="soccer", age_group="U12", duration_min=15
    )
    yield coach
    store.db.dispose()


def test_the_analytics_page_draws_its_charts(chromium, app_server, season, screenshots):
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1400, "height": 1750}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    log_in(page, app_server, USERNAME, PASSWORD)

    page.get_by_role("link", name="Analytics").click()
    wait_until_idle(page)
    expect(page.get_by_role("heading", name="Analytics")).to_have_count(1)
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 6
    # Vega-Lite drew real marks, not an empty frame.
    expect(
        page.locator(
            "[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg"
        ).first
    ).to_be_visible()
    page.screenshot(path=str(screenshots / "analytics.png"))

    with page.expect_download() as download:
        page.get_by_role("button", name="CSV").first.click()
    frame = pd.read_csv(download.value.path())
    assert set(frame["tool"]) == {"calculator", "word_count"}
    assert frame["calls"].sum() == 10 and frame["errors"].sum() == 1
    context.close()
    assert (screenshots / "analytics.png").stat().st_size > 10_000
