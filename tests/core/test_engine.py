"""Chat turns against the fake Messages API: tool rounds, persistence, faults, retry, context."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.db import Database
from core.engine import (
    ChatEngine,
    TextDelta,
    ToolFinished,
    TurnDone,
    TurnError,
    tools_for_kind,
)
from core.errors import NotFound, ValidationError
from core.llm import AnthropicModel
from core.offline_model import OfflineModel
from core.store import ConversationStore
from core.tools import GENERAL_TOOLS, Tool, ToolRegistry
from tests.fakes.anthropic_server import FakeAnthropic

MODEL = "claude-test"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def claude(fake: FakeAnthropic) -> AnthropicModel:
    # The fake asks for 1 ms between retries, so two SDK retries cost nothing.
    return AnthropicModel("test", model=MODEL, base_url=fake.base_url, max_retries=2)


@pytest.fixture
def engine(store: ConversationStore, fake: FakeAnthropic) -> ChatEngine:
    return ChatEngine(store, claude(fake))


@pytest.fixture
def session(store: ConversationStore, coach):
    return store.create_session(coach.id)


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def user_text(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def assistant_text(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


# ------------------------------------------------------------------ a turn with tools


def test_two_tool_rounds_are_sent_and_stored(store, coach, session, engine, fake) -> None:
    first = fake.add_tool_use(
        "calculator",
        {"expression": "12*7"},
        text_before="Let me work that out.",
        input_tokens=40,
        output_tokens=11,
    )
    second = fake.add_tool_use(
        "word_count", {"text": "one two three"}, input_tokens=60, output_tokens=9
    )
    fake.add_text("12*7 is 84, and that text has 3 words.", input_tokens=80, output_tokens=13)

    events = list(engine.send(coach.id, session.id, "12*7, and count 'one two three'"))

    # Events: text, a tool, a tool, text, done (with the turn's totals).
    kinds = [type(e).__name__ for e in events if not isinstance(e, TextDelta)]
    assert kinds == ["ToolStarted", "ToolFinished", "ToolStarted", "ToolFinished", "TurnDone"]
    assert text_of(events) == "Let me work that out.12*7 is 84, and that text has 3 words."
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [(e.tool_use_id, e.name, e.output, e.is_error) for e in finished] == [
        (first, "calculator", "84", False),
        (second, "word_count", '{"words": 3, "characters": 13}', False),
    ]
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert (done.input_tokens, done.output_tokens, done.tool_rounds) == (180, 33, 2)
    assert done.model == MODEL

    # The requests: tool schemas (cached), then the earlier tool results in Anthropic's format.
    assert len(fake.requests) == 3
    for request in fake.requests:
        assert request["model"] == MODEL
        assert request["stream"] is True
        assert [t["name"] for t in request["tools"]] == tools_for_kind("chat").names
        assert request["tools"][0]["input_schema"] == GENERAL_TOOLS[0].input_schema
        assert request["tools"][-1]["cache_control"] == {"type": "ephemeral"}
        assert all("cache_control" not in t for t in request["tools"][:-1])
        (system,) = request["system"]
        assert system["cache_control"] == {"type": "ephemeral"}
        assert system["text"].startswith("You are Huddle")
        assert request["tool_choice"] == {"type": "auto"}
    question = user_text("12*7, and count 'one two three'")
    round_one = [
        {"type": "text", "text": "Let me work that out."},
        {"type": "tool_use", "id": first, "name": "calculator", "input": {"expression": "12*7"}},
    ]
    result_one = {"type": "tool_result", "tool_use_id": first, "content": "84"}
    assert fake.requests[0]["messages"] == [question]
    assert fake.requests[1]["messages"] == [
        question,
        {"role": "assistant", "content": round_one},
        {"role": "user", "content": [result_one]},
    ]
    assert fake.requests[2]["messages"][3:] == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": second,
                    "name": "word_count",
                    "input": {"text": "one two three"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": second,
                    "content": '{"words": 3, "characters": 13}',
                },
            ],
        },
    ]

    # The database: every step, in order, with its own usage.
    messages = store.list_messages(coach.id, session.id)
    assert [(m.seq, m.role, m.status) for m in messages] == [
        (1, "user", "complete"),
        (2, "assistant", "complete"),
        (3, "tool", "complete"),
        (4, "assistant", "complete"),
        (5, "tool", "complete"),
        (6, "assistant", "complete"),
    ]
    user, ask_one, tool_one, ask_two, tool_two, final = messages
    assert user.content == "12*7, and count 'one two three'"
    assert ask_one.blocks == round_one
    assert ask_one.content == "Let me work that out."
    assert (ask_one.input_tokens, ask_one.output_tokens, ask_one.model) == (40, 11, MODEL)
    assert tool_one.blocks == [result_one]
    assert (tool_one.content, tool_one.word_count) == ("", 0)
    assert ask_two.blocks[0]["type"] == "tool_use"
    assert tool_two.blocks[0]["tool_use_id"] == second
    assert final.content == "12*7 is 84, and that text has 3 words."
    assert (final.input_tokens, final.output_tokens, final.model) == (80, 13, MODEL)
    assert final.metadata_["stop_reason"] == "end_turn"
    assert all(m.latency_ms is not None and m.latency_ms >= 0 for m in (ask_one, ask_two, final))
    assert done.message_ids == tuple(m.id for m in messages[1:])
    assert done.user_message_id == user.id

    calls = store.list_tool_calls(coach.id, session.id)
    assert [(c.tool_use_id, c.name, c.message_id, c.output) for c in calls] == [
        (first, "calculator", ask_one.id, "84"),
        (second, "word_count", ask_two.id, '{"words": 3, "characters": 13}'),
    ]
    assert all(c.duration_ms is not None and c.duration_ms >= 0 for c in calls)
    assert calls[0].input == {"expression": "12*7"}

    chat = store.get_session(coach.id, session.id)
    assert chat.title == "12*7, and count 'one two three'"
    assert chat.model == MODEL
    assert chat.message_count == 6


def test_a_tool_that_raises_becomes_an_error_result(store, coach, session, fake) -> None:
    def broken(_context, _input):
        raise RuntimeError("scoreboard offline")

    tools = ToolRegistry([*GENERAL_TOOLS, Tool("scoreboard", "Scores", {"type": "object"}, broken)])
    engine = ChatEngine(store, claude(fake), tools=lambda kind: tools)
    tool_use_id = fake.add_tool_use("scoreboard", {})
    fake.add_text("The scoreboard is not available right now.")

    events = list(engine.send(coach.id, session.id, "What's the score?"))

    assert isinstance(events[-1], TurnDone)
    (finished,) = [e for e in events if isinstance(e, ToolFinished)]
    assert finished.is_error
    assert finished.output == "The tool 'scoreboard' failed: RuntimeError: scoreboard offline"
    sent = fake.requests[1]["messages"][-1]["content"]
    assert sent == [
        {
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "content": finished.output,
            "is_error": True,
        }
    ]
    (call,) = store.list_tool_calls(coach.id, session.id)
    assert call.is_error
    assert store.list_messages(coach.id, session.id)[-1].status == "complete"


def test_after_five_tool_rounds_the_model_must_answer_in_text(
    store, coach, session, engine, fake
) -> None:
    for n in range(5):
        fake.add_tool_use("calculator", {"expression": f"{n}+1"})
    fake.add_text("Enough arithmetic.")

    events = list(engine.send(coach.id, session.id, "Count to five the hard way"))

    assert [e.output for e in events if isinstance(e, ToolFinished)] == ["1", "2", "3", "4", "5"]
    assert [r["tool_choice"] for r in fake.requests] == [{"type": "auto"}] * 5 + [{"type": "none"}]
    assert events[-1].tool_rounds == 5
    roles = [m.role for m in store.list_messages(coach.id, session.id)]
    assert roles == ["user"] + ["assistant", "tool"] * 5 + ["assistant"]


def test_a_claude_drill_session_saves_and_links_the_drill(store, coach, fake) -> None:
    engine = ChatEngine(store, claude(fake))
    session = store.create_session(coach.id, kind="drill")
    fake.add_tool_use("create_drill", {"title": "Rondo 4v1", "sport": "soccer", "players": 5})
    fake.add_text("Saved **Rondo 4v1**.")

    list(engine.send(coach.id, session.id, "A rondo for five players"))

    chat = store.get_session(coach.id, session.id)
    assert chat.title == "Drill Creation - Rondo 4v1"
    assert store.get_drill(coach.id, chat.drill_id).players == 5
    assert [t["name"] for t in fake.requests[0]["tools"]][-4:] == [
        "create_drill",
        "update_drill",
        "get_drill",
        "search_drills",
    ]
    assert "no drill yet" in fake.requests[0]["system"][0]["text"]
    # The second round's prompt names the drill the first round created.
    assert chat.drill_id in fake.requests[1]["system"][0]["text"]


# ------------------------------------------------------------------ faults and retry


def stored(store, coach, session) -> list[tuple[str, str, str]]:
    return [(m.role, m.status, m.content) for m in store.list_messages(coach.id, session.id)]


def test_a_rate_limit_is_retried_by_the_sdk(store, coach, session, engine, fake) -> None:
    fake.add_status(429)
    fake.add_text("Here you go.")

    events = list(engine.send(coach.id, session.id, "Plan Tuesday"))

    assert isinstance(events[-1], TurnDone)
    assert len(fake.requests) == 2
    assert stored(store, coach, session) == [
        ("user", "complete", "Plan Tuesday"),
        ("assistant", "complete", "Here you go."),
    ]


# Each fault: how to script it, the text that arrives first, words the error must contain.
FAULTS = {
    "overloaded": (lambda f: [f.add_status(529) for _ in range(3)], "", "overloaded"),
    "server error": (lambda f: [f.add_status(500) for _ in range(3)], "", "server error 500"),
    "error event": (
        lambda f: f.add_error_event_after("Start with a rondo"),
        "Start with a rondo",
        "overloaded",
    ),
    "closed between events": (
        lambda f: f.add_drop_between_events("Start with a rondo"),
        "Start with a rondo",
        "closed before the reply was complete",
    ),
    "broken chunk": (
        lambda f: f.add_broken_chunk("Start with a rondo"),
        "Start with a rondo",
        "broke in the middle of the reply",
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failed_turn_keeps_what_arrived_and_retry_completes_it(
    store, coach, session, engine, fake, fault
) -> None:
    script, partial, words = FAULTS[fault]
    script(fake)

    events = list(engine.send(coach.id, session.id, "Plan Tuesday"))

    error = events[-1]
    assert isinstance(error, TurnError)
    assert error.retryable
    assert words in error.message
    assert text_of(events) == partial
    status = "partial" if partial else "error"
    assert stored(store, coach, session) == [
        ("user", "complete", "Plan Tuesday"),
        ("assistant", status, partial),
    ]
    failed = store.get_message(coach.id, error.message_id)
    assert failed.error == error.message
    assert failed.metadata_ == {"retryable": True}
    assert store.get_session(coach.id, session.id).title == "Plan Tuesday"

    fake.add_text("Start with a rondo, then a small-sided game.")
    sent_before = len(fake.requests)
    retried = list(engine.retry_turn(coach.id, session.id))

    assert isinstance(retried[-1], TurnDone)
    assert retried[-1].user_message_id == error.user_message_id
    # The question is asked once more, alone: the failed reply is not in the context.
    assert fake.requests[sent_before]["messages"] == [user_text("Plan Tuesday")]
    assert stored(store, coach, session) == [
        ("user", "complete", "Plan Tuesday"),
        ("assistant", status, partial),
        ("assistant", "complete", "Start with a rondo, then a small-sided game."),
    ]
    with pytest.raises(ValidationError, match="no failed reply"):
        engine.retry_turn(coach.id, session.id)


NOT_RETRYABLE = {
    401: "check ANTHROPIC_API_KEY",
    403: "403",
    404: "check ANTHROPIC_MODEL",
    400: "refused the request (400 invalid_request_error",
}


def test_errors_that_retrying_cannot_fix(store, coach, engine, fake) -> None:
    for status, words in NOT_RETRYABLE.items():
        session = store.create_session(coach.id)
        fake.add_status(status)
        sent_before = len(fake.requests)

        events = list(engine.send(coach.id, session.id, "Plan Tuesday"))

        error = events[-1]
        assert isinstance(error, TurnError)
        assert not error.retryable
        assert words in error.message
        assert len(fake.requests) == sent_before + 1  # the SDK does not retry these
        assert stored(store, coach, session) == [
            ("user", "complete", "Plan Tuesday"),
            ("assistant", "error", ""),
        ]
        assert store.get_message(coach.id, error.message_id).metadata_ == {"retryable": False}


def test_a_turn_that_fails_after_a_tool_round_keeps_the_round(
    store, coach, session, engine, fake
) -> None:
    tool_use_id = fake.add_tool_use("calculator", {"expression": "6*7"})
    fake.add_broken_chunk("The answer is")
    list(engine.send(coach.id, session.id, "6*7?"))
    assert [(m.role, m.status) for m in store.list_messages(coach.id, session.id)] == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("tool", "complete"),
        ("assistant", "partial"),
    ]

    fake.add_text("42.")
    list(engine.retry_turn(coach.id, session.id))

    # A retry goes on from the finished tool round instead of running the tool again
    # (a drill it saved would be saved twice): the question, the tool_use, its result.
    retried = fake.requests[-1]["messages"]
    assert retried[0] == user_text("6*7?")
    assert [m["role"] for m in retried] == ["user", "assistant", "user"]
    assert retried[-1]["content"][0]["tool_use_id"] == tool_use_id
    assert len(store.list_tool_calls(coach.id, session.id)) == 1
    assert store.list_messages(coach.id, session.id)[-1].content == "42."


def test_a_new_message_after_a_failure_is_merged_with_the_unanswered_one(
    store, coach, session, engine, fake
) -> None:
    fake.add_error_event_after("Half an ans")
    list(engine.send(coach.id, session.id, "First question"))
    fake.add_text("Both answered.")

    list(engine.send(coach.id, session.id, "Second question"))

    assert fake.requests[-1]["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "First question"},
                {"type": "text", "text": "Second question"},
            ],
        }
    ]


def test_a_dead_server_fails_with_one_clear_sentence(store, coach, session) -> None:
    with FakeAnthropic() as gone:
        dead_url = gone.base_url
    model = AnthropicModel("test", model=MODEL, base_url=dead_url, max_retries=0)

    events = list(ChatEngine(store, model).send(coach.id, session.id, "Hello?"))

    error = events[-1]
    assert isinstance(error, TurnError)
    assert error.retryable
    assert error.message.startswith(f"Could not reach Claude at {dead_url} (")
    assert "\n" not in error.message
    assert stored(store, coach, session)[0] == ("user", "complete", "Hello?")


def test_an_interrupted_turn_keeps_the_text_that_arrived(
    store, coach, session, engine, fake
) -> None:
    fake.add_text("One two three four five")
    events = engine.send(coach.id, session.id, "Count")
    assert next(events) == TextDelta("One ")
    assert next(events) == TextDelta("two ")

    events.close()  # the page stopped reading, e.g. the coach navigated away

    assert stored(store, coach, session) == [
        ("user", "complete", "Count"),
        ("assistant", "partial", "One two "),
    ]
    assert store.list_messages(coach.id, session.id)[-1].error == "The reply was interrupted."


# ------------------------------------------------------------------ validation and titles


def test_bad_messages_are_refused_before_anything_is_stored(store, coach, session, fake):
    engine = ChatEngine(store, claude(fake), max_message_chars=100)

    for text, words in [
        ("", "empty"),
        ("  \n", "empty"),
        # Only zero-width characters: nothing on screen, and no invisible sidebar row.
        ("\u200b\u200d \ufeff\u2060", "empty"),
        ("x" * 101, "limit is 100"),
        ("a\x00b", "NUL"),
    ]:
        with pytest.raises(ValidationError, match=words):
            engine.send(coach.id, session.id, text)

    assert store.list_messages(coach.id, session.id) == []
    assert store.get_session(coach.id, session.id).title == "New chat"
    assert fake.requests == []


def test_another_coachs_session_is_not_found(store, coach, other_coach, engine, fake) -> None:
    theirs = store.create_session(other_coach.id)
    with pytest.raises(NotFound):
        engine.send(coach.id, theirs.id, "Hello")
    with pytest.raises(NotFound):
        engine.retry_turn(coach.id, theirs.id)
    assert store.list_messages(other_coach.id, theirs.id) == []


def test_the_first_message_titles_the_session_unless_the_coach_did(
    store, coach, engine, fake
) -> None:
    fake.add_text("Sure.")
    fake.add_text("Sure again.")
    fake.add_text("Fine.")
    auto = store.create_session(coach.id)
    list(engine.send(coach.id, auto.id, "Warm-up ideas for a cold\nSaturday morning"))
    list(engine.send(coach.id, auto.id, "Something else entirely"))
    assert store.get_session(coach.id, auto.id).title == "Warm-up ideas for a cold Saturday morning"

    named = store.create_session(coach.id, title="Season plan")
    list(engine.send(coach.id, named.id, "Let's plan the season"))
    assert store.get_session(coach.id, named.id).title == "Season plan"


# ------------------------------------------------------------------ context


def test_a_new_engine_resumes_the_session_with_its_history(
    store, coach, session, database_url, fake
) -> None:
    fake.add_text("A rondo is a keep-away game.")
    list(ChatEngine(store, claude(fake)).send(coach.id, session.id, "What is a rondo?"))

    fresh_db = Database(database_url)
    try:
        fresh = ChatEngine(ConversationStore(fresh_db), claude(fake))
        fake.add_text("Use a 4v1 for U10s.")
        list(fresh.send(coach.id, session.id, "Which one for U10s?"))
    finally:
        fresh_db.dispose()

    assert fake.requests[-1]["messages"] == [
        user_text("What is a rondo?"),
        assistant_text("A rondo is a keep-away game."),
        user_text("Which one for U10s?"),
    ]


def add(store, coach, session, role, content="", **fields):
    return store.add_message(coach.id, session.id, role, content, **fields)


def tool_pair(store, coach, session, tool_use_id: str, text: str = "Checking.") -> None:
    use = {
        "type": "tool_use",
        "id": tool_use_id,
        "name": "calculator",
        "input": {"expression": "1"},
    }
    add(store, coach, session, "assistant", text, blocks=[{"type": "text", "text": text}, use])
    result = {"type": "tool_result", "tool_use_id": tool_use_id, "content": "1"}
    add(store, coach, session, "tool", blocks=[result])


def test_the_context_drops_broken_pieces_and_merges_user_messages(
    store, coach, session, engine
) -> None:
    add(store, coach, session, "user", "one")
    add(store, coach, session, "assistant", "cut sh", status="partial", error="broken")
    add(store, coach, session, "user", "two")
    tool_pair(store, coach, session, "toolu_paired")
    orphan_use = {"type": "tool_use", "id": "toolu_orphan", "name": "calculator", "input": {}}
    add(
        store,
        coach,
        session,
        "assistant",
        "Hmm.",
        blocks=[{"type": "text", "text": "Hmm."}, orphan_use],
    )
    add(
        store,
        coach,
        session,
        "tool",
        blocks=[{"type": "tool_result", "tool_use_id": "toolu_stray", "content": "?"}],
    )
    add(store, coach, session, "assistant", "Done.")
    asked = add(store, coach, session, "user", "three")
    add(store, coach, session, "user", "four (a later turn)")

    context = engine.build_context(coach.id, session.id, asked.seq)

    assert context == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "toolu_paired",
                    "name": "calculator",
                    "input": {"expression": "1"},
                },
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_paired", "content": "1"}],
        },
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Hmm."}, {"type": "text", "text": "Done."}],
        },
        user_text("three"),
    ]


def test_the_context_budget_keeps_the_newest_whole_exchanges(store, coach, session) -> None:
    for n in range(30):
        add(store, coach, session, "user", f"question {n} " + "x" * 200)
        tool_pair(store, coach, session, f"toolu_{n}", text=f"answer {n} " + "y" * 200)
    asked = add(store, coach, session, "user", "latest question")
    engine = ChatEngine(store, OfflineModel(), context_chars=3_000)

    context = engine.build_context(coach.id, session.id, asked.seq)

    assert context[0]["role"] == "user"
    assert context[0]["content"][0]["type"] == "text"  # never a tool_result cut from its call
    assert context[-1]["content"][-1] == {"type": "text", "text": "latest question"}
    assert len(str(context)) < 4_000
    uses = [b["id"] for m in context for b in m["content"] if b.get("type") == "tool_use"]
    results = [
        b["tool_use_id"] for m in context for b in m["content"] if b.get("type") == "tool_result"
    ]
    assert uses == results
    assert uses[-1] == "toolu_29"
    assert "toolu_0" not in uses
    assert engine.build_context(coach.id, session.id, asked.seq) == context
    # Even a question larger than the budget is sent.
    huge = add(store, coach, session, "user", "z" * 5_000)
    assert engine.build_context(coach.id, session.id, huge.seq)[-1] == user_text("z" * 5_000)
