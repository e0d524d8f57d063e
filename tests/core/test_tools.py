"""The tool registry, the general tools and the drill tools, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from core.drills import DRILL_TOOLS
from core.engine import tools_for_kind
from core.errors import ValidationError
from core.store import ConversationStore
from core.tools import GENERAL_TOOLS, Tool, ToolContext, ToolRegistry, evaluate_arithmetic


def run(store: ConversationStore, user_id: int, session_id: str, name: str, tool_input):
    registry = ToolRegistry(GENERAL_TOOLS + DRILL_TOOLS)
    return registry.run(ToolContext(store, user_id, session_id), name, tool_input)


# ------------------------------------------------------------------ calculator (no database)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("12*7+3", 87),
        ("(12*7+3)/3", 29),
        ("7/2", 3.5),
        ("2^10", 1024),
        ("2**3**2", 512),
        ("-3 + +4", 1),
        ("17 // 5 + 17 % 5", 5),
        ("12 × 3 ÷ 4", 9),
        ("1,000 * 3", 3000),
        ("sqrt(16) + abs(-2) + max(1, 5) + round(2.567, 1)", 13.6),
        ("pi * 0", 0),
    ],
)
def test_calculator_evaluates_arithmetic(expression: str, expected: float) -> None:
    assert evaluate_arithmetic(expression) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1/0", "Division by zero"),
        ("__import__('os').system('true')", "Only numbers"),
        ("open('x')", "Only numbers"),
        ("(1).real", "Only numbers"),
        ("'a' * 3", "Only numbers"),
        ("9**9**9", "Exponents above"),
        ("10**99 * 10**99", "too large"),
        ("2 +", "not an arithmetic expression"),
        ("x" * 600, "longer than"),
        ("(-8) ** 0.5", "not a real number"),
    ],
)
def test_calculator_refuses_what_is_not_safe_arithmetic(expression: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        evaluate_arithmetic(expression)


def test_registry_lists_definitions_and_refuses_duplicate_names() -> None:
    registry = tools_for_kind("drill")
    assert registry.names == [
        "calculator",
        "word_count",
        "current_datetime",
        "search_history",
        "create_drill",
        "update_drill",
        "get_drill",
        "search_drills",
    ]
    assert tools_for_kind("chat").names == registry.names[:4]
    for definition in registry.definitions():
        assert set(definition) == {"name", "description", "input_schema"}
        assert definition["input_schema"]["type"] == "object"
    with pytest.raises(ValueError, match="Two tools"):
        ToolRegistry([GENERAL_TOOLS[0], GENERAL_TOOLS[0]])


# ------------------------------------------------------------------ registry.run on a database


@pytest.fixture
def chat(store: ConversationStore, coach):
    return store.create_session(coach.id, kind="chat")


def test_calculator_and_word_count_results(store, coach, chat) -> None:
    result = run(store, coach.id, chat.id, "calculator", {"expression": "12*7+3"})
    assert (result.output, result.is_error) == ("87", False)
    assert result.duration_ms >= 0

    counted = run(store, coach.id, chat.id, "word_count", {"text": "Don't stop: 4-3-3 now"})
    assert json.loads(counted.output) == {"words": 4, "characters": 21}


def test_current_datetime_in_a_time_zone(store, coach, chat) -> None:
    result = run(store, coach.id, chat.id, "current_datetime", {"timezone": "Asia/Tokyo"})
    data = json.loads(result.output)
    moment = datetime.fromisoformat(data["iso"])
    assert moment.utcoffset().total_seconds() == 9 * 3600
    assert data["weekday"] == moment.strftime("%A")
    assert data["timezone"] == "Asia/Tokyo"

    bad = run(store, coach.id, chat.id, "current_datetime", {"timezone": "Mars/Olympus"})
    assert bad.is_error
    assert "not a known time zone" in bad.output


def test_current_datetime_answers_in_the_coachs_zone_by_default(store, coach, chat) -> None:
    """The page passes the browser's zone: "what day is it" is the coach's day, not UTC's."""
    registry = ToolRegistry(GENERAL_TOOLS)
    context = ToolContext(store, coach.id, chat.id, zone="Asia/Kolkata")
    data = json.loads(registry.run(context, "current_datetime", {}).output)
    assert data["timezone"] == "Asia/Kolkata"
    assert datetime.fromisoformat(data["iso"]).utcoffset().total_seconds() == 5.5 * 3600
    plain = json.loads(run(store, coach.id, chat.id, "current_datetime", {}).output)
    assert plain["timezone"] == "UTC"  # the command line, with no browser


def test_failures_become_error_results(store, coach, chat) -> None:
    def explode(_context, _input):
        raise RuntimeError("the pump broke")

    registry = ToolRegistry(
        [Tool("explode", "Always fails", {"type": "object", "properties": {}}, explode)]
    )
    context = ToolContext(store, coach.id, chat.id)

    raised = registry.run(context, "explode", {})
    assert raised.is_error
    assert raised.output == "The tool 'explode' failed: RuntimeError: the pump broke"

    assert registry.run(context, "nope", {}).output == "There is no tool named 'nope'."
    assert registry.run(context, "explode", ["not", "an", "object"]).is_error

    missing = run(store, coach.id, chat.id, "calculator", {})
    assert (missing.is_error, missing.output) == (True, "The tool input is missing expression.")
    wrong_type = run(store, coach.id, chat.id, "calculator", {"expression": 12})
    assert wrong_type.output == "The tool input 'expression' must be of type string."
    divide = run(store, coach.id, chat.id, "calculator", {"expression": "1/0"})
    assert (divide.is_error, divide.output) == (True, "Division by zero.")


def test_search_history_leaves_out_the_asking_session_and_other_coaches(
    store, coach, other_coach, chat
) -> None:
    older = store.create_session(coach.id, title="Rondo ideas")
    store.add_message(coach.id, older.id, "user", "A rondo for passing under pressure")
    store.add_message(coach.id, chat.id, "user", "Today's rondo is a 4v1")
    theirs = store.create_session(other_coach.id)
    store.add_message(other_coach.id, theirs.id, "user", "My secret rondo")

    result = run(store, coach.id, chat.id, "search_history", {"query": "rondo"})

    data = json.loads(result.output)
    assert data["query"] == "rondo"
    assert [(hit["session_id"], hit["session_title"]) for hit in data["results"]] == [
        (older.id, "Rondo ideas")
    ]
    hit = data["results"][0]
    assert (hit["role"], hit["seq"], hit["session_kind"]) == ("user", 1, "chat")
    assert "**rondo**" in hit["snippet"].lower()
    assert datetime.fromisoformat(hit["created_at"]).tzinfo is not None


# ------------------------------------------------------------------ drill tools


@pytest.fixture
def drill_session(store: ConversationStore, coach):
    return store.create_session(coach.id, kind="drill")


def test_create_drill_saves_links_and_titles_the_session(store, coach, drill_session) -> None:
    result = run(
        store,
        coach.id,
        drill_session.id,
        "create_drill",
        {
            "title": "Passing Triangles",
            "sport": "soccer",
            "age_group": "U12",
            "players": 9,
            "duration_min": 15,
            "equipment": ["cones", "balls"],
            "steps": ["Pass", "Move"],
        },
    )

    assert not result.is_error, result.output
    data = json.loads(result.output)
    drill = store.get_drill(coach.id, data["id"])
    assert (drill.title, drill.sport, drill.players, drill.equipment) == (
        "Passing Triangles",
        "soccer",
        9,
        ["cones", "balls"],
    )
    assert drill.source_session_id == drill_session.id
    session = store.get_session(coach.id, drill_session.id)
    assert session.drill_id == drill.id
    assert session.title == "Drill Creation - Passing Triangles"
    assert session.title_source == "auto"


def test_create_drill_keeps_a_title_the_coach_chose(store, coach) -> None:
    session = store.create_session(coach.id, kind="drill", title="Tuesday practice")
    run(store, coach.id, session.id, "create_drill", {"title": "Rondo"})
    assert store.get_session(coach.id, session.id).title == "Tuesday practice"


def test_update_and_get_default_to_the_session_drill(store, coach, drill_session) -> None:
    none_yet = run(store, coach.id, drill_session.id, "update_drill", {"players": 12})
    assert none_yet.is_error
    assert "no drill yet" in none_yet.output

    run(store, coach.id, drill_session.id, "create_drill", {"title": "Rondo", "players": 8})
    updated = run(
        store, coach.id, drill_session.id, "update_drill", {"players": 12, "title": "Big rondo"}
    )
    assert json.loads(updated.output)["players"] == 12
    assert store.get_session(coach.id, drill_session.id).title == "Drill Creation - Big rondo"

    read = json.loads(run(store, coach.id, drill_session.id, "get_drill", {}).output)
    assert (read["title"], read["players"]) == ("Big rondo", 12)

    nothing = run(store, coach.id, drill_session.id, "update_drill", {"drill_id": read["id"]})
    assert (nothing.is_error, nothing.output) == (True, "Name at least one drill field to change.")
    bad = run(store, coach.id, drill_session.id, "update_drill", {"players": 0})
    assert bad.is_error
    assert "between 1 and 10,000" in bad.output


def test_drill_tools_never_reach_another_coachs_drill(
    store, coach, other_coach, drill_session
) -> None:
    theirs = store.create_drill(other_coach.id, title="Their drill")

    for name, tool_input in (
        ("get_drill", {"drill_id": theirs.id}),
        ("update_drill", {"drill_id": theirs.id, "players": 3}),
    ):
        result = run(store, coach.id, drill_session.id, name, tool_input)
        assert (result.is_error, result.output) == (True, "That drill was not found.")
    assert store.get_drill(other_coach.id, theirs.id).players is None


def test_search_drills_finds_the_coachs_drills(store, coach, other_coach, drill_session) -> None:
    store.create_drill(coach.id, title="Passing square", sport="soccer")
    store.create_drill(coach.id, title="Layup lines", sport="basketball")
    store.create_drill(other_coach.id, title="Passing their way", sport="soccer")

    found = json.loads(
        run(store, coach.id, drill_session.id, "search_drills", {"query": "passing"}).output
    )
    assert [d["title"] for d in found["drills"]] == ["Passing square"]
    by_sport = json.loads(
        run(store, coach.id, drill_session.id, "search_drills", {"sport": "Basketball"}).output
    )
    assert [d["title"] for d in by_sport["drills"]] == ["Layup lines"]
