"""Time to first token: measured by each model client, stored on every assistant message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.demo import load_demo_data
from core.engine import ChatEngine, TurnDone, TurnError
from core.llm import AnthropicModel, ModelReply, ModelRequest
from core.models import Message
from core.offline_model import OfflineModel

MODEL = "claude-test"


def claude(fake) -> AnthropicModel:
    return AnthropicModel("test", model=MODEL, base_url=fake.base_url, max_retries=2)


def assistants(store, coach, session) -> list:
    return [m for m in store.list_messages(coach.id, session.id) if m.role == "assistant"]


@pytest.fixture
def session(store, coach):
    return store.create_session(coach.id)


# ------------------------------------------------------------------ the clients (no database)


def test_claude_measures_at_least_the_servers_delay(fake) -> None:
    fake.add_text("Start with a rondo.", first_event_delay=0.12)
    request = ModelRequest(system="s", messages=[{"role": "user", "content": "hi"}])

    (*_, reply) = list(claude(fake).stream(request))

    assert isinstance(reply, ModelReply)
    assert reply.text == "Start with a rondo."
    assert reply.first_token_ms is not None and reply.first_token_ms >= 120


def test_a_reply_that_opens_with_a_tool_call_has_a_first_token(fake) -> None:
    fake.add_tool_use("calculator", {"expression": "2+2"}, first_event_delay=0.05)
    request = ModelRequest(system="s", messages=[{"role": "user", "content": "2+2"}])

    (reply,) = list(claude(fake).stream(request))

    assert reply.tool_uses and not reply.text
    assert reply.first_token_ms is not None and reply.first_token_ms >= 50


def test_the_offline_model_reports_its_own() -> None:
    request = ModelRequest(system="s", messages=[{"role": "user", "content": "hello"}])

    (*pieces, reply) = list(OfflineModel(word_delay_s=0.03).stream(request))

    assert pieces and isinstance(reply, ModelReply)
    # It waits word_delay_s before its first piece, as a streaming model would.
    assert reply.first_token_ms is not None and reply.first_token_ms >= 30
    (*_, quick) = list(OfflineModel().stream(request))
    assert quick.first_token_ms is not None and quick.first_token_ms >= 0


# ------------------------------------------------------------------ stored by the engine


def test_each_round_stores_its_own_and_the_turn_reports_the_first(
    store, coach, session, fake
) -> None:
    fake.add_tool_use("calculator", {"expression": "12*7"}, first_event_delay=0.1)
    fake.add_text("12*7 is 84.", first_event_delay=0.3)

    events = list(ChatEngine(store, claude(fake)).send(coach.id, session.id, "12*7?"))

    done = events[-1]
    assert isinstance(done, TurnDone)
    tool_round, answer = assistants(store, coach, session)
    assert tool_round.first_token_ms >= 100
    assert answer.first_token_ms >= 300
    assert done.first_token_ms == tool_round.first_token_ms
    # The tool message and the coach's message were never answered by a model.
    others = [m for m in store.list_messages(coach.id, session.id) if m.role != "assistant"]
    assert [(m.role, m.first_token_ms) for m in others] == [("user", None), ("tool", None)]


def test_a_partial_reply_keeps_its_first_token_and_an_error_has_none(
    store, coach, session, fake
) -> None:
    engine = ChatEngine(store, claude(fake))
    fake.add_error_event_after("Start with a rondo", first_event_delay=0.08)
    events = list(engine.send(coach.id, session.id, "Plan Tuesday"))
    assert isinstance(events[-1], TurnError)

    fake.add_status(401)
    events = list(engine.retry_turn(coach.id, session.id))
    assert isinstance(events[-1], TurnError)

    partial, failed = assistants(store, coach, session)
    assert (partial.status, failed.status) == ("partial", "error")
    assert partial.first_token_ms >= 80
    assert failed.first_token_ms is None


def test_the_offline_model_through_the_engine(store, coach, session) -> None:
    engine = ChatEngine(store, OfflineModel(word_delay_s=0.02))

    events = list(engine.send(coach.id, session.id, "what is 12*7+3"))

    done = events[-1]
    assert isinstance(done, TurnDone) and done.tool_rounds == 1
    tool_round, answer = assistants(store, coach, session)
    assert tool_round.first_token_ms is not None and tool_round.first_token_ms >= 0
    assert answer.first_token_ms >= 20
    assert done.first_token_ms == tool_round.first_token_ms


# ------------------------------------------------------------------ the store


def test_update_message_sets_first_token_and_leaves_it_otherwise(store, coach, session) -> None:
    message = store.add_message(coach.id, session.id, "assistant", "Start", status="partial")
    assert store.get_message(coach.id, message.id).first_token_ms is None

    store.update_message(coach.id, message.id, first_token_ms=640)
    store.update_message(coach.id, message.id, content="Start with a rondo", status="complete")

    stored = store.get_message(coach.id, message.id)
    assert (stored.first_token_ms, stored.content) == (640, "Start with a rondo")


# ------------------------------------------------------------------ the demo corpus


def test_demo_data_gives_assistant_replies_a_plausible_first_token(store) -> None:
    load_demo_data(store, users=2, sessions=12, messages=300, seed=5, now=datetime.now(UTC))

    with store.db.reading() as session:
        messages = list(session.scalars(select(Message)))
    replies = [m for m in messages if m.role == "assistant" and m.status != "error"]
    assert len(replies) > 50
    assert all(300 <= m.first_token_ms <= 1500 for m in replies)
    assert all(m.first_token_ms < m.latency_ms for m in replies)
    assert len({m.first_token_ms for m in replies}) > 20  # spread out, not one constant
    others = [m for m in messages if m.role != "assistant" or m.status == "error"]
    assert others and all(m.first_token_ms is None for m in others)
