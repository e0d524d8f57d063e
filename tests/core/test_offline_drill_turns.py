"""The offline drill builder through whole turns: follow-ups edit, new requests create, and
replies put each field of the drill on its own line."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from core.drill_plans import plan_for
from core.engine import ChatEngine, TextDelta, ToolStarted
from core.offline_model import OfflineModel
from core.store import ConversationStore

DESCRIPTION = "U12 soccer passing drill for 10 players, 20 minutes, cones and balls"
FIELD_LABELS = ("Sport", "Age group", "Players", "Duration", "Equipment", "Objective", "Setup")


@pytest.fixture
def engine(store: ConversationStore) -> ChatEngine:
    return ChatEngine(store, OfflineModel())


def turn(engine: ChatEngine, user_id: int, session_id: str, text: str) -> tuple[list[str], str]:
    """The tools the turn started, and its reply."""
    events = list(engine.send(user_id, session_id, text))
    tools = [e.name for e in events if isinstance(e, ToolStarted)]
    return tools, "".join(e.text for e in events if isinstance(e, TextDelta))


def new_drill_session(store, coach, engine, description: str = DESCRIPTION):
    session = store.create_session(coach.id, kind="drill")
    assert turn(engine, coach.id, session.id, description)[0] == ["create_drill"]
    drill_id = store.get_session(coach.id, session.id).drill_id
    return session, store.get_drill(coach.id, drill_id)


def test_a_follow_up_edits_the_drill_instead_of_replacing_it(store, coach, engine) -> None:
    session, before = new_drill_session(store, coach, engine)

    tools, reply = turn(
        engine,
        coach.id,
        session.id,
        "change it to 14 players and add a progression with a defender",
    )

    assert tools == ["update_drill"]
    assert len(store.list_drills(coach.id)) == 1
    assert store.get_session(coach.id, session.id).drill_id == before.id
    after = store.get_drill(coach.id, before.id)
    assert after.players == 14
    assert after.progressions[:-1] == before.progressions  # exactly one more, at the end
    assert "defender" in after.progressions[-1].lower()
    # The rest of the drill stays what it was: no switch to a defending drill.
    assert (after.title, after.objective, after.steps) == (
        before.title,
        before.objective,
        before.steps,
    )
    assert (after.coaching_points, after.duration_min, after.age_group) == (
        before.coaching_points,
        20,
        "U12",
    )
    assert "14 players" in after.setup  # the setup's groups follow the new size
    assert "14 players" in reply and "a progression added" in reply


@pytest.mark.parametrize(
    ("follow_up", "check"),
    [
        ("make it 20 minutes", lambda d: d.duration_min == 20),
        ("add cones", lambda d: d.equipment == ["balls", "cones"]),
        (
            "for U10 instead",
            lambda d: (d.age_group, d.title) == ("U10", "U10 Soccer Passing Drill"),
        ),
        (
            "add a coaching point: eyes up before the pass",
            lambda d: d.coaching_points[-1] == "Eyes up before the pass.",
        ),
        ("make it a rondo", lambda d: d.objective == plan_for("soccer", "rondo").objective),
    ],
)
def test_other_follow_ups_edit_the_same_drill(store, coach, engine, follow_up, check) -> None:
    session, before = new_drill_session(
        store, coach, engine, "U12 soccer passing drill for 10 players, 30 minutes, balls"
    )

    tools, _ = turn(engine, coach.id, session.id, follow_up)

    assert tools == ["update_drill"]
    assert [d.id for d in store.list_drills(coach.id)] == [before.id]
    assert store.get_session(coach.id, session.id).drill_id == before.id
    assert check(store.get_drill(coach.id, before.id))


def test_a_follow_up_that_changes_nothing_says_so(store, coach, engine) -> None:
    session, before = new_drill_session(store, coach, engine)

    tools, reply = turn(engine, coach.id, session.id, "make it 20 minutes")

    assert tools == []
    assert reply.startswith(f"I left “{before.title}” as it is")
    assert store.get_drill(coach.id, before.id).updated_at == before.updated_at


def test_a_new_request_in_the_same_session_starts_a_new_drill(store, coach, engine) -> None:
    session, first = new_drill_session(store, coach, engine)

    tools, _ = turn(engine, coach.id, session.id, "a new rondo drill for 8 players")

    assert tools == ["create_drill"]
    second = store.get_drill(coach.id, store.get_session(coach.id, session.id).drill_id)
    assert second.id != first.id
    # The same team: sport and age group carry over; what the coach said wins.
    assert (second.sport, second.age_group, second.players) == ("soccer", "U12", 8)
    assert second.objective == plan_for("soccer", "rondo").objective
    assert store.get_drill(coach.id, first.id).players == 10  # the first drill is untouched

    tools, _ = turn(engine, coach.id, session.id, "now a basketball layup drill")
    third = store.get_drill(coach.id, store.get_session(coach.id, session.id).drill_id)
    assert tools == ["create_drill"]
    assert (third.sport, third.age_group) == ("basketball", "")  # another sport, another team
    assert third.objective == plan_for("basketball", "layups").objective
    assert len(store.list_drills(coach.id)) == 3


def test_asking_for_another_drill_without_details_asks_for_them(store, coach, engine) -> None:
    session, _ = new_drill_session(store, coach, engine)

    tools, reply = turn(engine, coach.id, session.id, "let's do another drill")

    assert tools == []
    assert "To build a drill, tell me the sport" in reply
    assert len(store.list_drills(coach.id)) == 1


def test_a_sports_skill_words_build_its_drill(store, coach, engine) -> None:
    _, drill = new_drill_session(
        store, coach, engine, "U14 basketball pick and roll drill for 8 players, 25 minutes"
    )

    plan = plan_for("basketball", "pick and roll")
    assert (drill.title, drill.objective) == ("U14 Basketball Pick and Roll Drill", plan.objective)
    assert drill.steps == list(plan.steps)
    assert "8 players" in drill.setup


# ------------------------------------------------------------------ the reply's layout


def assert_one_field_per_line(reply: str) -> None:
    lines = reply.split("\n")
    for label in FIELD_LABELS:
        [line] = [line for line in lines if f"**{label}:**" in line]
        assert line.startswith(f"- **{label}:** "), line
    # Markdown joins consecutive lines of text into one paragraph; each line that is not a
    # list item must stand apart from the next line of text.
    for line, following in pairwise(lines):
        if line and not re.match(r"^(?:- |\d+\. )", line):
            assert following == "", (line, following)


def test_the_reply_puts_each_field_on_its_own_line(store, coach, engine) -> None:
    session = store.create_session(coach.id, kind="drill")

    _, created = turn(engine, coach.id, session.id, DESCRIPTION)
    _, updated = turn(engine, coach.id, session.id, "make it 30 minutes and add bibs")

    assert_one_field_per_line(created)
    assert_one_field_per_line(updated)
    assert "- **Players:** 10" in created
    assert "- **Duration:** 20 minutes" in created
    assert "- **Equipment:** cones, balls, bibs" in updated
    assert "\n**Steps**\n\n1. " in created and "\n**Progressions**\n\n- " in created
