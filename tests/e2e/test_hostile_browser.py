"""No stored script runs on any page: hostile titles, messages, tags and drills, in Chromium.

A dialog handler records any alert/confirm/prompt, and the payloads that would not open one
set a flag on the window instead; every page a coach can reach shows the hostile text and
neither ever fires.
"""

from __future__ import annotations

import pytest

from tests.app.driver import password_hash
from tests.e2e.browser import app_store, log_in, wait_until_idle

pytestmark = pytest.mark.e2e

USERNAME = "mallory"
PASSWORD = "Hostile-But-Harmless-9"
PAYLOADS = [
    '<img src=x onerror="window.pwned=1;alert(1)">',
    "<script>window.pwned=2;alert(2)</script>",
    "[click me](javascript:window.pwned=3;alert(3))",
    "$\\href{javascript:alert(4)}{katex link}$ and $$\\unicode{x41}$$",
    '<svg onload="window.pwned=5;alert(5)"></svg>',
    '</details><iframe src="javascript:alert(6)"></iframe>',
    "\u202eevil\u202c rondo",
    "<style>body{display:none}</style> rondo",
]
HOSTILE = "\n\n".join(PAYLOADS)


@pytest.fixture
def mallory(app_server, app_database_url):
    store = app_store(app_database_url)
    coach = store.create_user(
        USERNAME, name="<b>Mallory</b>", password_hash=password_hash(PASSWORD)
    )
    chat = store.create_session(coach.id, title='<img src=x onerror="alert(7)"> rondo')
    store.set_tags(coach.id, chat.id, ["<script>alert(8)</script>"])
    store.add_message(coach.id, chat.id, "user", f"rondo {HOSTILE}")
    store.add_message(coach.id, chat.id, "assistant", f"A rondo reply. {HOSTILE}")
    drill = store.create_drill(
        coach.id,
        title="<script>alert(9)</script> Rondo",
        sport="soccer",
        objective=HOSTILE,
        steps=PAYLOADS[:3],
        equipment=['<img src=x onerror="alert(10)">'],
    )
    drill_chat = store.create_session(coach.id, kind="drill", drill_id=drill.id, title="Drill")
    store.add_message(coach.id, drill_chat.id, "user", f"rondo drill {HOSTILE}")
    yield store, chat, drill_chat
    store.db.dispose()


def test_no_stored_script_runs_on_any_page(chromium, app_server, mallory):
    from playwright.sync_api import expect

    _, chat, drill_chat = mallory
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    dialogs: list[str] = []

    def record(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    log_in(page, app_server, USERNAME, PASSWORD)

    visits = [
        (f"{app_server}/?session={chat.id}", "A rondo reply."),
        (f"{app_server}/drill_chat?session={drill_chat.id}", "Rondo"),
        (f"{app_server}/history?q=rondo", "rondo"),
        (f"{app_server}/analytics", "Analytics"),
    ]
    for url, seen in visits:
        page.goto(url)
        expect(page.get_by_text(seen).first).to_be_visible()
        wait_until_idle(page)
        # Hover what shows tooltips (the sidebar rows) and let any late script fire.
        for row in page.locator("[class*='st-key-huddle_open_'] button:visible").all()[:2]:
            row.hover()
        # Every image has loaded or failed: an onerror handler would have run by now.
        page.wait_for_function(ALL_IMAGES_SETTLED)
        assert dialogs == [], (url, dialogs)
        assert page.evaluate("() => window.pwned") is None, url
    # The hostile text is on the page as text.
    page.goto(f"{app_server}/?session={chat.id}")
    expect(page.get_by_text("window.pwned=2").first).to_be_visible()
    assert page.locator("iframe[src^='javascript']").count() == 0

    # The check itself can fail: markup that does become an element is caught by it.
    page.evaluate(
        """() => document.body.insertAdjacentHTML(
            'beforeend', '<img src=/no-such-image onerror="window.pwned=99;alert(99)">')"""
    )
    page.wait_for_function(ALL_IMAGES_SETTLED)
    page.wait_for_function("() => window.pwned === 99")
    assert dialogs == ["99"]
    context.close()


ALL_IMAGES_SETTLED = "() => [...document.images].every(image => image.complete)"
