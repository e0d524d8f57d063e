"""The offline model: drill parsing, and whole turns through the engine and its tools."""

from __future__ import annotations

import json

import pytest

from core.drills import drill_changes, drill_from_request, parse_drill_request
from core.engine import ChatEngine, TextDelta, ToolFinished, ToolStarted, TurnDone
from core.llm import OFFLINE_MODEL_NAME, ModelReply, ModelRequest
from core.offline_model import OfflineModel
from core.store import ConversationStore

DESCRIPTION = "U12 soccer passing drill for 10 players, 20 minutes, cones and balls"


# ------------------------------------------------------------------ parsing (no database)


def test_a_description_gives_every_fact() -> None:
    wanted = parse_drill_request(DESCRIPTION)
    assert (wanted.sport, wanted.age_group, wanted.players, wanted.duration_min) == (
        "soccer",
        "U12",
        10,
        20,
    )
    assert wanted.focus == "passing"
    assert wanted.equipment_added == ("cones", "balls")
    assert wanted.is_description


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        (
            "under-14 basketball shooting for 8 kids, half an hour, hoops and basketballs",
            ("basketball", "U14", 8, 30, "shooting", ("hoops", "balls")),
        ),
        (
            "Adults ice hockey 5v5 defending, 1 hour, pucks and medicine balls",
            ("ice hockey", "Adults", 10, 60, "defending", ("pucks", "medicine balls")),
        ),
        (
            "a 45-minute agility session for 10-year-olds with ladders and hurdles",
            (None, "10-year-olds", None, 45, "agility", ("agility ladders", "hurdles")),
        ),
        (
            "tennis footwork with tennis balls, no cones",
            ("tennis", None, None, None, "agility", ("tennis balls",)),
        ),
    ],
)
def test_descriptions_in_other_words(text: str, facts: tuple) -> None:
    wanted = parse_drill_request(text)
    assert (
        wanted.sport,
        wanted.age_group,
        wanted.players,
        wanted.duration_min,
        wanted.focus,
        wanted.equipment_added,
    ) == facts


def test_follow_ups_change_only_what_they_name() -> None:
    drill = {"id": "d1", **drill_from_request(parse_drill_request(DESCRIPTION))}
    assert drill["title"] == "U12 Soccer Passing Drill"

    changes = drill_changes(parse_drill_request("make it 30 minutes and add bibs"), drill)
    assert changes == {"duration_min": 30, "equipment": ["cones", "balls", "bibs"]}

    fewer = drill_changes(parse_drill_request("without the cones please"), drill)
    assert fewer == {"equipment": ["balls"]}

    older = drill_changes(parse_drill_request("change to U14"), drill)
    assert older["age_group"] == "U14"
    assert older["title"] == "U14 Soccer Passing Drill"

    bigger = drill_changes(parse_drill_request("for 14 players"), drill)
    assert bigger["players"] == 14
    assert "14 players" in bigger["setup"]

    assert drill_changes(parse_drill_request("sounds great, thanks"), drill) == {}


@pytest.mark.parametrize(
    ("text", "items", "players"),
    [
        (
            "change it to 14 players and add a progression with a defender",
            (("progressions", "Add a defender."),),
            14,
        ),
        ("add a progression: play 2v1", (("progressions", "Play 2v1."),), None),
        (
            "add a progression to the drill where they must use the weaker foot",
            (("progressions", "They must use the weaker foot."),),
            None,
        ),
        ("add another progression", (("progressions", ""),), None),
        (
            "add a coaching point: eyes up, then make it 12 players",
            (("coaching_points", "Eyes up."),),
            12,
        ),
    ],
)
def test_items_to_add_are_read_in_the_coachs_words(text: str, items: tuple, players) -> None:
    wanted = parse_drill_request(text)
    assert wanted.items_added == items
    assert wanted.players == players  # "2v1" inside the item is not a number of players
    assert wanted.focus is None  # nor is "defender" the drill's new focus


def test_a_skill_word_in_passing_does_not_change_the_focus() -> None:
    drill = {"id": "d1", **drill_from_request(parse_drill_request(DESCRIPTION))}

    bibs = drill_changes(parse_drill_request("add bibs for the defenders"), drill)
    assert bibs == {"equipment": ["cones", "balls", "bibs"]}

    focused = drill_changes(parse_drill_request("make it a defending drill"), drill)
    assert focused["title"] == "U12 Soccer Defending Drill"

    another = drill_changes(parse_drill_request("add another progression"), drill)
    assert another["progressions"] == [*drill["progressions"], "Add pressure or a time limit."]


def test_a_one_v_one_drill_is_not_two_players() -> None:
    assert parse_drill_request("U10 soccer 1v1 drill").players is None
    assert parse_drill_request("a 4v2 rondo").players == 6


def test_a_title_the_coach_wrote_is_not_regenerated() -> None:
    drill = {"id": "d1", **drill_from_request(parse_drill_request(DESCRIPTION))}
    drill["title"] = "Saturday squares"
    assert "title" not in drill_changes(parse_drill_request("change to U14"), drill)


# ------------------------------------------------------------------ the model on its own


def test_the_model_streams_word_by_word_and_refers_to_the_question() -> None:
    request = ModelRequest(
        system="",
        messages=[{"role": "user", "content": [{"type": "text", "text": "Who won in 1966?"}]}],
    )
    events = list(OfflineModel().stream(request))

    *deltas, reply = events
    assert all(isinstance(event, TextDelta) for event in deltas)
    assert len(deltas) > 20
    assert isinstance(reply, ModelReply)
    assert "".join(d.text for d in deltas) == reply.text
    assert "offline demo model" in reply.text
    assert "“Who won in 1966?”" in reply.text
    assert (reply.model, reply.stop_reason) == (OFFLINE_MODEL_NAME, "end_turn")
    assert reply.input_tokens > 0
    assert reply.output_tokens == len(deltas)


def test_without_tools_it_answers_in_text() -> None:
    question = {"role": "user", "content": [{"type": "text", "text": "what is 2+2"}]}
    no_tools = list(OfflineModel().stream(ModelRequest(system="", messages=[question])))
    assert no_tools[-1].tool_uses == []
    calculator = {"name": "calculator", "description": "", "input_schema": {"type": "object"}}
    tools_off = ModelRequest(system="", messages=[question], tools=[calculator], tool_choice="none")
    assert list(OfflineModel().stream(tools_off))[-1].tool_uses == []


# ------------------------------------------------------------------ whole turns


@pytest.fixture
def engine(store: ConversationStore) -> ChatEngine:
    return ChatEngine(store, OfflineModel())


def turn(engine: ChatEngine, user_id: int, session_id: str, text: str):
    events = list(engine.send(user_id, session_id, text))
    reply = "".join(e.text for e in events if isinstance(e, TextDelta))
    return events, reply


def test_a_description_becomes_a_saved_drill(store, coach, engine) -> None:
    session = store.create_session(coach.id, kind="drill")

    events, reply = turn(engine, coach.id, session.id, DESCRIPTION)

    started = [e for e in events if isinstance(e, ToolStarted)]
    assert [e.name for e in started] == ["create_drill"]
    assert isinstance(events[-1], TurnDone)
    session = store.get_session(coach.id, session.id)
    drill = store.get_drill(coach.id, session.drill_id)
    assert (drill.sport, drill.age_group, drill.players, drill.duration_min) == (
        "soccer",
        "U12",
        10,
        20,
    )
    assert drill.equipment == ["cones", "balls"]
    assert drill.setup and drill.steps and drill.coaching_points and drill.progressions
    assert drill.source_session_id == session.id
    assert session.title == f"Drill Creation - {drill.title}"
    assert session.model == OFFLINE_MODEL_NAME
    assert drill.title in reply
    assert "- **Players:** 10" in reply

    # The final text was written from the tool result, in a second model round.
    user, asked, results, answer = store.list_messages(coach.id, session.id)
    assert (user.role, asked.role, results.role, answer.role) == (
        "user",
        "assistant",
        "tool",
        "assistant",
    )
    assert asked.blocks[0]["name"] == "create_drill"
    assert json.loads(results.blocks[0]["content"])["id"] == drill.id
    assert answer.content == reply
    assert answer.model == OFFLINE_MODEL_NAME
    assert answer.output_tokens > 0


def test_a_follow_up_updates_that_drill(store, coach, engine) -> None:
    session = store.create_session(coach.id, kind="drill")
    turn(engine, coach.id, session.id, DESCRIPTION)
    drill_id = store.get_session(coach.id, session.id).drill_id

    events, reply = turn(engine, coach.id, session.id, "make it 30 minutes and add bibs")

    assert [e.name for e in events if isinstance(e, ToolStarted)] == ["update_drill"]
    assert len(store.list_drills(coach.id)) == 1
    drill = store.get_drill(coach.id, drill_id)
    assert drill.duration_min == 30
    assert drill.equipment == ["cones", "balls", "bibs"]
    assert (drill.players, drill.age_group) == (10, "U12")
    assert "30 minutes" in reply

    turn(engine, coach.id, session.id, "change to U14")
    session = store.get_session(coach.id, session.id)
    assert store.get_drill(coach.id, drill_id).age_group == "U14"
    assert session.title == "Drill Creation - U14 Soccer Passing Drill"


def test_another_sport_starts_a_new_drill(store, coach, engine) -> None:
    session = store.create_session(coach.id, kind="drill")
    turn(engine, coach.id, session.id, DESCRIPTION)
    first = store.get_session(coach.id, session.id).drill_id

    turn(engine, coach.id, session.id, "now a basketball shooting drill for 6 players")

    drills = store.list_drills(coach.id)
    assert len(drills) == 2
    assert store.get_session(coach.id, session.id).drill_id != first
    assert store.get_drill(coach.id, first).sport == "soccer"


def test_arithmetic_goes_through_the_calculator(store, coach, engine) -> None:
    session = store.create_session(coach.id, kind="drill")

    events, reply = turn(engine, coach.id, session.id, "what is 12*7+3")

    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [(e.name, e.input, e.output) for e in finished] == [
        ("calculator", {"expression": "12*7+3"}, "87")
    ]
    assert reply == "12*7+3 = 87"
    (call,) = store.list_tool_calls(coach.id, session.id)
    assert (call.name, call.output, call.is_error) == ("calculator", "87", False)


def test_word_counts_and_history_search(store, coach, engine) -> None:
    old = store.create_session(coach.id, title="Pressing games")
    store.add_message(coach.id, old.id, "user", "Ideas for a pressing game with U10s")
    session = store.create_session(coach.id)

    _, counted = turn(engine, coach.id, session.id, 'count the words in "we press as one team"')
    assert counted == "That text has 5 words (20 characters)."

    _, found = turn(engine, coach.id, session.id, "find my conversations about pressing")
    assert "I found 1 message about “pressing”" in found
    assert "**Pressing games**" in found

    _, nothing = turn(engine, coach.id, session.id, "search my history for zonal marking")
    assert nothing == "I found nothing about “zonal marking” in your other conversations."


def test_anything_else_gets_an_honest_offline_answer(store, coach, engine) -> None:
    session = store.create_session(coach.id)

    events, reply = turn(engine, coach.id, session.id, "How do I talk to a nervous parent?")

    assert not [e for e in events if isinstance(e, ToolStarted)]
    assert "offline demo model" in reply
    assert "“How do I talk to a nervous parent?”" in reply
    assert "what is 12*7+3" in reply
    assert "U12 soccer" not in reply  # drill building is offered on the drill page only
    assert store.get_session(coach.id, session.id).title == "How do I talk to a nervous parent?"


def test_a_question_after_an_unfinished_round_is_the_one_answered() -> None:
    """Turns running at once can leave another turn's tool round just before this question."""
    use = {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "calculator",
        "input": {"expression": "4+4"},
    }
    request = ModelRequest(
        system="",
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "what is 4+4"}]},
            {"role": "assistant", "content": [use]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "8"},
                    {"type": "text", "text": "what is 1+1"},
                ],
            },
        ],
        tools=[{"name": "calculator", "description": "", "input_schema": {"type": "object"}}],
    )

    (reply,) = list(OfflineModel().stream(request))

    assert [(u["name"], u["input"]) for u in reply.tool_uses] == [
        ("calculator", {"expression": "1+1"})
    ]
