"""Turns run by workers (core/turns.py): followed through the database, stopped, recovered.

Both databases, the real SDK against the fake Messages API. Tests wait for the
turn's state in the database (never for a fixed time), up to a generous limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from core.engine import STOPPED, ChatEngine
from core.errors import NotFound, ValidationError
from core.llm import AnthropicModel
from core.models import ChatTurn, Drill, ToolCall, utcnow
from core.turn_liveness import INTERRUPTED, LOCK_SPACE
from core.turns import BUSY, TurnBusy, TurnRunner, TurnView
from tests.fakes.anthropic_server import FakeAnthropic
from tests.waiting import until


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def runner(store, fake) -> Iterator[TurnRunner]:
    model = AnthropicModel("test", model="claude-test", base_url=fake.base_url, max_retries=0)
    runner = TurnRunner(ChatEngine(store, model), heartbeat_s=0.2, stale_s=1.0)
    yield runner
    runner.close(wait=True)


def ended(runner: TurnRunner, coach, turn: TurnView) -> TurnView:
    return until(
        lambda: (view := runner.get(coach.id, turn.id)).status != "running" and view,
        "the turn to end",
    )


def stored(store, coach, session_id) -> list[tuple[str, str, str]]:
    return [(m.role, m.status, m.content) for m in store.list_messages(coach.id, session_id)]


def test_a_turn_runs_in_a_worker_and_ends_complete(store, coach, fake, runner) -> None:
    fake.add_text("Start with a rondo.")
    session = store.create_session(coach.id)

    turn = runner.start(coach.id, session.id, "Plan Tuesday")

    # The question is stored before start returns; the reply comes from the worker.
    assert stored(store, coach, session.id)[0] == ("user", "complete", "Plan Tuesday")
    assert turn.question_seq == 1
    done = ended(runner, coach, turn)
    assert (done.status, done.error, done.text) == ("complete", None, "")
    assert stored(store, coach, session.id) == [
        ("user", "complete", "Plan Tuesday"),
        ("assistant", "complete", "Start with a rondo."),
    ]
    assert runner.running_turn(coach.id, session.id) is None
    assert runner.running_sessions(coach.id) == set()


def test_the_text_so_far_is_stored_as_it_streams(store, coach, fake, runner) -> None:
    fake.event_delay = 0.05
    fake.add_text("one two three four five six seven eight nine ten eleven twelve")
    session = store.create_session(coach.id)

    turn = runner.start(coach.id, session.id, "Count to twelve")

    partial = until(
        lambda: (view := runner.get(coach.id, turn.id)).text.startswith("one two") and view,
        "some of the reply",
    )
    assert partial.running and partial.text_after_seq == 1  # it follows the question
    assert runner.running_turn(coach.id, session.id).id == turn.id
    assert runner.running_sessions(coach.id) == {session.id}
    assert ended(runner, coach, turn).status == "complete"


def test_one_running_turn_per_session(store, coach, fake, runner) -> None:
    fake.event_delay = 0.05
    fake.add_text("a slow answer with quite a few words in it to take a while")
    session = store.create_session(coach.id)
    turn = runner.start(coach.id, session.id, "First question")

    with pytest.raises(TurnBusy, match="still being written"):
        runner.start(coach.id, session.id, "Second question")
    # Refused before anything was stored.
    assert [m.content for m in store.list_messages(coach.id, session.id)] == ["First question"]

    assert ended(runner, coach, turn).status == "complete"
    fake.add_text("Now the second.")
    second = runner.start(coach.id, session.id, "Second question")
    assert ended(runner, coach, second).status == "complete"
    assert BUSY.endswith("or stop it.")


def test_stop_keeps_what_arrived(store, coach, fake, runner) -> None:
    fake.event_delay = 0.05
    fake.add_text(" ".join(f"word{i}" for i in range(200)))
    session = store.create_session(coach.id)
    turn = runner.start(coach.id, session.id, "A long answer, please")
    until(lambda: runner.get(coach.id, turn.id).text.count("word") >= 3, "some text")

    runner.request_stop(coach.id, turn.id)

    done = ended(runner, coach, turn)
    assert (done.status, done.error) == ("stopped", STOPPED)
    (_question, reply) = store.list_messages(coach.id, session.id)
    assert (reply.role, reply.status, reply.error) == ("assistant", "partial", STOPPED)
    assert reply.content.startswith("word0 word1 word2")
    assert len(reply.content.split()) < 200
    # Stopping an ended turn changes nothing.
    runner.request_stop(coach.id, turn.id)
    assert runner.get(coach.id, turn.id).status == "stopped"


def test_a_stop_from_another_replica_reaches_the_worker(store, coach, fake, runner) -> None:
    """The Stop button may be clicked on a page served by another process: only the row says so."""
    fake.event_delay = 0.05
    fake.add_text(" ".join(f"word{i}" for i in range(200)))
    session = store.create_session(coach.id)
    turn = runner.start(coach.id, session.id, "A long answer, please")
    until(lambda: runner.get(coach.id, turn.id).text, "some text")

    with store.db.writing() as db_session:
        db_session.execute(
            update(ChatTurn).where(ChatTurn.id == turn.id).values(stop_requested=True)
        )

    assert ended(runner, coach, turn).status == "stopped"


def test_another_coach_cannot_read_or_stop_a_turn(store, coach, other_coach, fake, runner):
    fake.event_delay = 0.05
    fake.add_text(" ".join(f"word{i}" for i in range(100)))
    session = store.create_session(coach.id)
    turn = runner.start(coach.id, session.id, "Mine")
    with pytest.raises(NotFound):
        runner.get(other_coach.id, turn.id)
    runner.request_stop(other_coach.id, turn.id)
    assert runner.running_turn(other_coach.id, session.id) is None
    with pytest.raises(NotFound):
        runner.start(other_coach.id, session.id, "Theirs")
    assert ended(runner, coach, turn).status == "complete"


def test_bad_messages_are_refused_and_leave_no_claim(store, coach, runner) -> None:
    session = store.create_session(coach.id)
    with pytest.raises(ValidationError):
        runner.start(coach.id, session.id, "   ")
    with pytest.raises(ValidationError, match="no failed reply"):
        runner.retry(coach.id, session.id)
    with store.db.reading() as db_session:
        assert db_session.scalars(select(ChatTurn)).all() == []


def test_a_model_error_ends_the_turn_failed_and_retry_completes_it(
    store, coach, fake, runner
) -> None:
    fake.add_broken_chunk("Start with")
    session = store.create_session(coach.id)
    turn = runner.start(coach.id, session.id, "Plan Tuesday")
    done = ended(runner, coach, turn)
    assert done.status == "failed" and done.error

    fake.add_text("Start with a rondo.")
    retried = runner.retry(coach.id, session.id)
    assert retried.question_seq == 1
    assert ended(runner, coach, retried).status == "complete"
    assert stored(store, coach, session.id)[-1] == ("assistant", "complete", "Start with a rondo.")


def test_retry_after_a_saved_drill_does_not_save_it_again(store, coach, fake, runner) -> None:
    session = store.create_session(coach.id, kind="drill")
    fake.add_tool_use(
        "create_drill",
        {
            "title": "Rondo 4v2",
            "sport": "soccer",
            "objective": "Quick passing",
            "players": 6,
            "duration_min": 12,
        },
        text_before="Saving it.",
    )
    fake.add_broken_chunk("Here is your")
    turn = runner.start(coach.id, session.id, "A rondo for U12")
    assert ended(runner, coach, turn).status == "failed"
    with store.db.reading() as db_session:
        assert len(db_session.scalars(select(Drill)).all()) == 1

    fake.add_text("Your rondo is saved: 4v2, 12 minutes.")
    retried = runner.retry(coach.id, session.id)
    assert ended(runner, coach, retried).status == "complete"

    # The retry answered from the saved drill: no second create_drill, one drill.
    with store.db.reading() as db_session:
        assert len(db_session.scalars(select(Drill)).all()) == 1
        assert len(db_session.scalars(select(ToolCall)).all()) == 1
    messages = fake.requests[-1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[-1]["content"][0]["type"] == "tool_result"


def _dead_turn(store, coach, session_id: str, *, text: str, owner: str) -> str:
    """A running turn as a killed server leaves it: its text, an old heartbeat."""
    last = store.get_session(coach.id, session_id).last_seq
    turn = ChatTurn(
        session_id=session_id,
        user_id=coach.id,
        question_seq=last,
        text=text,
        text_after_seq=last,
        owner=owner,
        started_at=utcnow() - timedelta(minutes=1),
        heartbeat_at=utcnow() - timedelta(minutes=1),
    )
    with store.db.writing() as db_session:
        db_session.add(turn)
    return turn.id


def test_a_turn_whose_server_died_is_interrupted_and_retried(store, coach, fake) -> None:
    session = store.create_session(coach.id)
    store.add_message(coach.id, session.id, "user", "Plan Tuesday")
    dead = _dead_turn(store, coach, session.id, text="Start with a", owner="gone:1:x")
    model = AnthropicModel("test", model="claude-test", base_url=fake.base_url, max_retries=0)

    # A new server starts: its runner finds the turn and marks it.
    runner = TurnRunner(ChatEngine(store, model), heartbeat_s=0.2, stale_s=1.0)
    try:
        view = runner.get(coach.id, dead)
        assert (view.status, view.error) == ("interrupted", INTERRUPTED)
        assert stored(store, coach, session.id) == [
            ("user", "complete", "Plan Tuesday"),
            ("assistant", "partial", "Start with a"),
        ]
        fake.add_text("Start with a rondo.")
        retried = runner.retry(coach.id, session.id)
        assert ended(runner, coach, retried).status == "complete"
        assert stored(store, coach, session.id)[-1][2] == "Start with a rondo."
    finally:
        runner.close(wait=True)


def test_a_live_turn_of_another_replica_is_left_alone(store, coach, runner, db) -> None:
    """PostgreSQL: the other replica's worker holds the turn's advisory lock; SQLite: a fresh
    heartbeat. Once the lock is gone (the process died), the turn is interrupted."""
    session = store.create_session(coach.id)
    store.add_message(coach.id, session.id, "user", "Plan Tuesday")
    other = _dead_turn(store, coach, session.id, text="Warm", owner="replica-b:7:y")
    holder = db.engine.connect()
    try:
        if db.dialect == "postgresql":
            holder.execute(
                text("SELECT pg_advisory_lock(:space, hashtext(:id))"),
                {"space": LOCK_SPACE, "id": other},
            )
            holder.commit()
        else:
            with store.db.writing() as db_session:
                db_session.execute(
                    update(ChatTurn).where(ChatTurn.id == other).values(heartbeat_at=utcnow())
                )
        assert runner.recover(starting=False) == 0
        assert runner.get(coach.id, other).status == "running"
    finally:
        holder.close()  # the other replica dies: its connection, and so its lock, are gone
    until(lambda: runner.get(coach.id, other).status == "interrupted", "the turn to be marked")
    # The turn is marked first (so only one replica stores its text), then its text stored.
    until(lambda: stored(store, coach, session.id)[-1][0] == "assistant", "the partial reply")
    assert stored(store, coach, session.id)[-1] == ("assistant", "partial", "Warm")


def test_the_tools_of_a_turn_answer_in_the_coachs_zone(store, coach, fake, runner) -> None:
    fake.add_tool_use("current_datetime", {})
    fake.add_text("It is Tuesday.")
    session = store.create_session(coach.id)

    turn = runner.start(coach.id, session.id, "What day is it?", zone="America/New_York")

    assert ended(runner, coach, turn).status == "complete"
    [call] = store.list_tool_calls(coach.id, session.id)
    assert '"timezone": "America/New_York"' in call.output
