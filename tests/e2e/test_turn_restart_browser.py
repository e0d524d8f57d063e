"""A server killed mid-turn: the turn is marked interrupted, its text kept, and Retry finishes it.

On SQLite one server owns the file: the restarted server marks the dead turn as it starts.
On PostgreSQL two replicas share the database: the survivor leaves the other's live turn
alone (the worker's advisory lock says it is alive) and marks it only once that replica is
killed. Each test asserts what the database holds and waits for state, never for fixed times.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.models import ChatTurn
from core.turn_liveness import INTERRUPTED
from tests.e2e.browser import app_store, log_in
from tests.e2e.conftest import _free_port, start_app
from tests.e2e.test_turns_browser import (
    PASSWORD,
    REPLY,
    coach,
    expect_reply,
    new_page,
    only_session,
    replies,
    send,
    stop_button,
    until,
)
from tests.fakes.anthropic_server import FakeAnthropic

pytestmark = pytest.mark.e2e


@pytest.fixture
def slow_model() -> Iterator[FakeAnthropic]:
    # Slower than the other browser tests: the server is killed while the reply is written.
    with FakeAnthropic(default_text=REPLY, event_delay=0.15) as fake:
        yield fake


def model_settings(fake: FakeAnthropic) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": fake.base_url,
        "ANTHROPIC_MODEL": "claude-test",
    }


def turn_rows(store, session_id: str) -> list[ChatTurn]:
    with store.db.reading() as session:
        return list(
            session.scalars(
                select(ChatTurn)
                .where(ChatTurn.session_id == session_id)
                .order_by(ChatTurn.started_at)
            )
        )


def test_a_turn_cut_by_a_server_restart_is_interrupted_and_retried(chromium, tmp_path, slow_model):
    from playwright.sync_api import expect

    url = f"sqlite:///{tmp_path / 'huddle.db'}"
    store = app_store(url)
    user = coach(store, "sami")
    port = _free_port()
    first = start_app(url, tmp_path / "first.log", port=port, **model_settings(slow_model))
    try:
        context, page = new_page(chromium)
        log_in(page, first.url, "sami", PASSWORD)
        send(page, "Plan a passing warm-up")
        expect(stop_button(page)).to_be_visible()
        session_id = only_session(store, user)
        until(lambda: turn_rows(store, session_id)[0].text, "some of the reply stored")
    finally:
        first.kill()
    partial = turn_rows(store, session_id)[0].text
    assert turn_rows(store, session_id)[0].status == "running"  # nobody has noticed yet

    second = start_app(url, tmp_path / "second.log", port=port, **model_settings(slow_model))
    try:
        # The browser reconnects to the same address; the restarted server marks the turn.
        page.goto(f"{second.url}/?session={session_id}")
        expect(page.get_by_text(f"This reply was cut short: {INTERRUPTED}")).to_be_visible()
        [turn] = turn_rows(store, session_id)
        assert (turn.status, turn.error) == ("interrupted", INTERRUPTED)
        [reply] = replies(store, user, session_id)
        assert (reply.status, reply.error) == ("partial", INTERRUPTED)
        assert reply.content.startswith(partial) and len(reply.content) < len(REPLY)

        page.get_by_role("button", name="Retry").click()
        expect(stop_button(page)).to_be_visible()
        expect_reply(page)
        assert [r.status for r in replies(store, user, session_id)] == ["partial", "complete"]
        assert replies(store, user, session_id)[-1].content == REPLY
        assert [t.status for t in turn_rows(store, session_id)] == ["interrupted", "complete"]
        context.close()
    finally:
        second.stop()
        store.db.dispose()


def test_two_replicas_one_dies_mid_turn(chromium, tmp_path, slow_model, postgres_url):
    """Replica B leaves A's live turn alone and follows it; once A is killed, B marks it."""
    from playwright.sync_api import expect

    store = app_store(postgres_url)
    user = coach(store, "tomas")
    settings = model_settings(slow_model)
    replica_a = start_app(postgres_url, tmp_path / "a.log", **settings)
    replica_b = start_app(postgres_url, tmp_path / "b.log", **settings)
    try:
        context_a, page_a = new_page(chromium)
        log_in(page_a, replica_a.url, "tomas", PASSWORD)
        context_b, page_b = new_page(chromium)
        log_in(page_b, replica_b.url, "tomas", PASSWORD)

        # A turn runs on A; B, started while it runs, follows it to the end.
        send(page_a, "Plan a passing warm-up")
        expect(stop_button(page_a)).to_be_visible()
        session_id = only_session(store, user)
        page_b.goto(f"{replica_b.url}/?session={session_id}")
        expect(stop_button(page_b)).to_be_visible()
        expect_reply(page_b)
        assert [t.status for t in turn_rows(store, session_id)] == ["complete"]

        # A second turn on A; A dies mid-turn; B notices within a few heartbeats.
        page_a.goto(f"{replica_a.url}/?session={session_id}")
        send(page_a, "And a cool-down")
        until(lambda: len(turn_rows(store, session_id)) == 2, "the second turn")
        until(lambda: turn_rows(store, session_id)[-1].text, "some of the second reply")
        replica_a.kill()
        until(
            lambda: turn_rows(store, session_id)[-1].status == "interrupted",
            "replica B to mark the dead turn",
        )
        page_b.reload()
        expect(page_b.get_by_text(f"This reply was cut short: {INTERRUPTED}")).to_be_visible()
        page_b.get_by_role("button", name="Retry").click()
        until(lambda: turn_rows(store, session_id)[-1].status == "complete", "the retry")
        expect_reply(page_b, count=2)
        statuses = [r.status for r in replies(store, user, session_id)]
        assert statuses == ["complete", "partial", "complete"]
        context_a.close()
        context_b.close()
    finally:
        replica_a.stop()
        replica_b.stop()
        store.db.dispose()
