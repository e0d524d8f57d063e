"""Replies that always finish, in a real browser against the real server and a slow model.

The app talks to the fake Messages API through the real SDK; the fake streams its reply a
word at a time over several seconds, so the coach can click elsewhere while it is written.
Each test asserts what the database holds, not only what is drawn, and waits for the app's
state (an element, a row), never for a fixed time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.engine import STOPPED
from core.models import ChatTurn, Message
from tests.e2e.browser import WRITING_ICON_NAME, app_store, log_in, wait_until_idle
from tests.e2e.conftest import serve
from tests.fakes.anthropic_server import FakeAnthropic, TextBlock, ToolUseBlock
from tests.waiting import until as wait_for

pytestmark = pytest.mark.e2e

PASSWORD = "Whistle-2026!"
# About 70 words at 50 ms each: the reply takes 3 to 4 seconds to arrive.
REPLY = " ".join(
    f"Step {i}: pass, move and check your shoulder before the ball arrives." for i in range(1, 7)
)
LAST_WORDS = "Step 6: pass, move and check your shoulder"
LONG_REPLY = " ".join([REPLY] * 8)
WAIT_S = 60


@pytest.fixture(scope="module")
def slow_model() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(default_text=REPLY, event_delay=0.05) as fake:
        yield fake


@pytest.fixture(scope="module")
def turns_db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('turns-db') / 'huddle.db'}"


@pytest.fixture(scope="module")
def slow_app(tmp_path_factory, turns_db, slow_model) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("turns-app")
    with serve(
        turns_db,
        folder,
        ANTHROPIC_API_KEY="test-key",
        ANTHROPIC_BASE_URL=slow_model.base_url,
        ANTHROPIC_MODEL="claude-test",
    ) as url:
        yield url


@pytest.fixture(scope="module")
def store(turns_db):
    store = app_store(turns_db)
    yield store
    store.db.dispose()


def coach(store, username: str):
    import bcrypt

    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    return store.create_user(username, name=username.title(), password_hash=hashed)


def new_page(chromium, viewport=(1280, 900)):
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    return context, page


def send(page, text: str, *, idle: bool = True) -> float:
    """Type and send a message, by default once the page is idle (text typed into a box that
    a run is redrawing can be lost; a turn's polling fragment never redraws the box, and
    keeps the page from ever being idle); returns when it was sent (monotonic seconds)."""
    if idle:
        wait_until_idle(page)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")
    return time.monotonic()


def reply_started(chromium, url: str, store, username: str):
    """A new coach, logged in in a browser of their own, whose first reply is being written:
    (the coach, the browser context, its page)."""
    from playwright.sync_api import expect

    user = coach(store, username)
    context, page = new_page(chromium)
    log_in(page, url, username, PASSWORD)
    send(page, "Plan a passing warm-up")
    expect(stop_button(page)).to_be_visible()
    return user, context, page


def stop_button(page):
    return page.get_by_role("button", name="Stop")


def expect_reply(page, count: int = 1) -> None:
    """The turn over and the whole reply on screen, `count` times (a rerun's stale bubble may
    linger a moment). The Stop button goes only when the page has seen the turn end, so the
    reply is stored by then (while it streams, its text can show before it is stored)."""
    from playwright.sync_api import expect

    expect(stop_button(page)).to_have_count(0, timeout=WAIT_S * 1000)
    shown = page.get_by_text(LAST_WORDS)
    expect(shown).to_have_count(count, timeout=WAIT_S * 1000)
    expect(shown.first).to_be_visible()


def until(check, what: str):
    """tests.waiting.until with the browser tests' longer limit."""
    return wait_for(check, what, WAIT_S)


def only_session(store, user) -> str:
    page = store.list_sessions(user.id)
    assert page.total == 1
    return page.items[0].id


def replies(store, user, session_id: str) -> list[Message]:
    return [m for m in store.list_messages(user.id, session_id) if m.role == "assistant"]


def turns_of(store, session_id: str) -> list[ChatTurn]:
    with store.db.reading() as session:
        return list(session.scalars(select(ChatTurn).where(ChatTurn.session_id == session_id)))


def assert_stored_whole(store, user, session_id: str) -> None:
    [reply] = replies(store, user, session_id)
    assert (reply.status, reply.content) == ("complete", REPLY)
    [turn] = turns_of(store, session_id)
    assert turn.status == "complete"


def test_the_reply_finishes_while_the_coach_is_on_another_page(chromium, slow_app, store):
    from playwright.sync_api import expect

    user, context, page = reply_started(chromium, slow_app, store, "nina")
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    session_id = only_session(store, user)
    # Still being written while the coach reads another page.
    assert turns_of(store, session_id)[0].status == "running"

    page.get_by_role("link", name="Chat").click()
    expect_reply(page)
    assert_stored_whole(store, user, session_id)
    context.close()


def test_the_reply_finishes_across_a_reload(chromium, slow_app, store):

    user, context, page = reply_started(chromium, slow_app, store, "omar")
    page.reload()
    expect_reply(page)
    assert_stored_whole(store, user, only_session(store, user))
    context.close()


def test_the_reply_finishes_with_the_tab_closed(chromium, slow_app, store):

    user, context, page = reply_started(chromium, slow_app, store, "paula")
    session_id = only_session(store, user)
    page.close()
    until(lambda: turns_of(store, session_id)[0].status != "running", "the turn to end")
    assert_stored_whole(store, user, session_id)

    again = context.new_page()
    again.goto(slow_app)
    expect_reply(again)
    context.close()


def test_stop_stores_what_arrived(chromium, slow_app, store):
    from playwright.sync_api import expect

    user = coach(store, "quinn")
    context, page = new_page(chromium)
    log_in(page, slow_app, "quinn", PASSWORD)

    send(page, "Plan a passing warm-up")
    expect(page.get_by_text("Step 1: pass")).to_have_count(1)
    stop_button(page).click()
    expect(page.get_by_text(f"This reply was cut short: {STOPPED}")).to_be_visible()
    expect(page.get_by_role("button", name="Retry")).to_be_visible()

    session_id = only_session(store, user)
    [reply] = replies(store, user, session_id)
    assert (reply.status, reply.error) == ("partial", STOPPED)
    assert reply.content.startswith("Step 1: pass") and len(reply.content) < len(REPLY)
    assert [turn.status for turn in turns_of(store, session_id)] == ["stopped"]
    context.close()


@pytest.mark.xfail(
    strict=False,
    reason=(
        "Known, open: on a slow machine a message sent in a second tab just opened on a "
        "running turn is sometimes lost, or held without its caption showing (seen on "
        "2026-12-02, at c55f496 too); the first tab's turn always finishes."
    ),
)
def test_two_tabs_on_one_conversation_follow_one_turn(chromium, slow_app, slow_model, store):
    from playwright.sync_api import expect

    # The first reply is long (about 30 s), so it is still being written when the second
    # tab has opened and sent its message, however slowly the machine draws that tab.
    slow_model.add_text(LONG_REPLY)
    user, context, first = reply_started(chromium, slow_app, store, "rosa")
    session_id = only_session(store, user)

    second = context.new_page()
    second.goto(f"{slow_app}/?session={session_id}")
    # The second tab attaches to the turn in progress; a message sent there waits for it.
    expect(stop_button(second)).to_be_visible()
    send(second, "And a cool-down?", idle=False)
    expect(second.get_by_text("Waits until the reply above is done.")).to_be_visible()

    # One turn at a time: the first reply whole, then the waiting message and its own reply.
    until(lambda: len(turns_of(store, session_id)) == 2, "the waiting message's turn")
    until(lambda: turns_of(store, session_id)[-1].status == "complete", "its reply")
    expect_reply(second, count=2)
    # A tab follows the turns it finds running when it draws the page: the first tab, idle
    # since its reply ended, shows the second one after a reload.
    first.reload()
    expect_reply(first, count=2)
    messages = store.list_messages(user.id, session_id)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "Plan a passing warm-up"),
        ("assistant", LONG_REPLY),
        ("user", "And a cool-down?"),
        ("assistant", REPLY),
    ]
    first_turn, second_turn = sorted(turns_of(store, session_id), key=lambda t: t.question_seq)
    assert [first_turn.status, second_turn.status] == ["complete", "complete"]
    assert second_turn.started_at >= first_turn.finished_at  # one turn at a time
    context.close()


def test_the_sidebar_marks_a_reply_being_written_until_it_is_done(chromium, slow_app, store):
    """The coach opens a new chat while a reply is written in the first: the sidebar marks the
    first conversation, and the mark goes by itself when the reply is done."""
    from playwright.sync_api import expect

    user, context, page = reply_started(chromium, slow_app, store, "tomas")
    page.get_by_role("button", name="New chat").click()
    writing = page.get_by_test_id("stSidebar").get_by_text(WRITING_ICON_NAME, exact=True)
    expect(writing.first).to_be_visible()
    session_id = only_session(store, user)
    assert turns_of(store, session_id)[0].status == "running"
    until(lambda: turns_of(store, session_id)[0].status == "complete", "the reply")
    expect(writing).to_have_count(0, timeout=WAIT_S * 1000)
    assert_stored_whole(store, user, session_id)
    context.close()


# Counts, every 5 ms in the page, the bubbles of a tool's call on screen (faded ones of the
# previous run included: the coach sees those too); keeps the most seen at once.
COUNT_TOOL_BUBBLES = """label => {
  window.mostToolBubbles = 0;
  setInterval(() => {
    const shown = [...document.querySelectorAll("[data-testid=stExpander]")]
      .filter(bubble => bubble.innerText.includes(label)).length;
    window.mostToolBubbles = Math.max(window.mostToolBubbles, shown);
  }, 5);
}"""


def test_a_tool_call_shows_once_while_and_after_it_runs(chromium, slow_app, slow_model, store):
    from playwright.sync_api import expect

    user = coach(store, "sami")
    context, page = new_page(chromium)
    log_in(page, slow_app, "sami", PASSWORD)
    page.evaluate(COUNT_TOOL_BUBBLES, "Calculator")
    for number in (1, 2):
        slow_model.add_reply(
            [
                TextBlock("Let me work that out with the calculator first."),
                ToolUseBlock("calculator", {"expression": f"12*7+{number}"}),
            ]
        )
        slow_model.add_text(f"So it comes to {84 + number} in all, counted twice over.")
        send(page, f"what is 12*7+{number}")
        expect(page.get_by_text(f"So it comes to {84 + number} in all")).to_have_count(1)
        expect(stop_button(page)).to_have_count(0, timeout=WAIT_S * 1000)
        wait_until_idle(page)
        # One call a turn: never more bubbles at once than calls made so far.
        assert page.evaluate("window.mostToolBubbles") == number
    session_id = only_session(store, user)
    assert [turn.status for turn in turns_of(store, session_id)] == ["complete", "complete"]
    context.close()


REPETITIONS = 3
COACHES = 6


def wait_for_replies(store, user, count: int) -> None:
    """Until the coach's one conversation holds `count` replies, each whole and complete."""

    def stored() -> bool:
        sessions = store.list_sessions(user.id).items
        if not sessions:
            return False
        found = replies(store, user, sessions[0].id)
        ended = all(turn.status != "running" for turn in turns_of(store, sessions[0].id))
        return len(found) == count and found[-1].status == "complete" and ended

    until(stored, f"{user.username}'s reply {count}")
    session_id = only_session(store, user)
    assert [r.content for r in replies(store, user, session_id)] == [REPLY] * count
    assert all(turn.status == "complete" for turn in turns_of(store, session_id))


def test_six_coaches_chatting_at_once_all_get_their_replies(chromium, slow_app, store):
    """Each coach in a browser of their own logs in and sends at once; every reply arrives and
    is stored complete, in each repetition. Prints the reply times (send to stored reply)."""
    from playwright.sync_api import expect

    users = [coach(store, f"load{index}") for index in range(COACHES)]
    pages = []
    for user in users:
        context, page = new_page(chromium)
        log_in(page, slow_app, user.username, PASSWORD)
        pages.append((context, page))
    seconds: list[float] = []
    for repetition in range(1, REPETITIONS + 1):
        sent = [send(page, f"Warm-up number {repetition}") for _, page in pages]
        for user, began in zip(users, sent, strict=True):
            wait_for_replies(store, user, repetition)
            seconds.append(time.monotonic() - began)
        for _, page in pages:
            expect(stop_button(page)).to_have_count(0, timeout=WAIT_S * 1000)
    p95 = sorted(seconds)[max(0, round(0.95 * len(seconds)) - 1)]
    print(
        f"\n{COACHES} coaches x {REPETITIONS} repetitions: reply time "
        f"p50 {statistics.median(seconds):.1f} s, p95 {p95:.1f} s, slowest {max(seconds):.1f} s"
    )
    for context, _ in pages:
        context.close()
