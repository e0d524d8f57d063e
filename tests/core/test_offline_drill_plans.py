"""The offline drill builder's skill words: each sport's words pick that sport's plan."""

from __future__ import annotations

import re
import string

import pytest

from core.drill_plans import GENERAL_PLAN, GENERAL_PLANS, SPORT_PLANS, find_plan, plan_for
from core.drills import drill_changes, drill_from_request, parse_drill_request

# (description, sport, focus, words the title uses for the focus)
SKILL_WORDS = [
    ("U14 basketball layup drill for 10 players", "basketball", "layups", "Layup"),
    ("basketball give-and-go for U12", "basketball", "give-and-go", "Give-and-Go"),
    ("basketball pick and roll, 8 players", "basketball", "pick and roll", "Pick and Roll"),
    ("basketball rebounding and boxing out", "basketball", "rebounding", "Rebounding"),
    ("basketball free throws at the end of practice", "basketball", "free throws", "Free Throw"),
    ("ice hockey breakout drill for 15 players", "ice hockey", "breakout", "Breakout"),
    ("hockey forecheck, 2-1-2", "hockey", "forechecking", "Forecheck"),
    ("ice hockey power play 5v4", "ice hockey", "power play", "Power Play"),
    ("hockey one-timers from the slot", "hockey", "one-timers", "One-Timer"),
    ("U12 soccer rondo for 10 players", "soccer", "rondo", "Rondo"),
    ("soccer pressing game, 12 players", "soccer", "pressing", "Pressing"),
    ("soccer crossing from the wings", "soccer", "crossing", "Crossing"),
    ("U16 soccer finishing drill", "soccer", "finishing", "Finishing"),
    ("soccer 1v1 attacking drill for U10", "soccer", "1v1", "1v1"),
    ("rugby ruck and clear-out drill", "rugby", "ruck", "Ruck"),
    ("rugby lineout for the forwards", "rugby", "lineout", "Lineout"),
    ("rugby offload drill in contact", "rugby", "offloading", "Offload"),
    ("volleyball serve receive, 12 players", "volleyball", "serve receive", "Serve Receive"),
    ("volleyball spike approach", "volleyball", "spiking", "Spiking"),
    ("volleyball dig drill", "volleyball", "digging", "Digging"),
    ("volleyball blocking at the net", "volleyball", "blocking", "Blocking"),
    ("field hockey penalty corner routine", "field hockey", "penalty corners", "Penalty Corner"),
    ("field hockey drag flicks", "field hockey", "penalty corners", "Penalty Corner"),
    ("field hockey reverse stick shooting", "field hockey", "reverse stick", "Reverse Stick"),
    ("field hockey aerials", "field hockey", "aerials", "Aerial"),
    ("handball jump shot drill", "handball", "shooting", "Jump Shot"),
    ("handball fast break for 14 players", "handball", "transition", "Fast Break"),
    ("handball pivot play", "handball", "pivot play", "Pivot Play"),
    ("handball 6-0 defence", "handball", "defending", "6-0 Defence"),
]


@pytest.mark.parametrize(("text", "sport", "focus", "name"), SKILL_WORDS)
def test_a_sports_skill_word_picks_its_plan(text: str, sport: str, focus: str, name: str) -> None:
    wanted = parse_drill_request(text)
    assert (wanted.sport, wanted.focus) == (sport, focus)

    drill = drill_from_request(wanted)

    plan = plan_for(sport, focus)
    assert plan is not GENERAL_PLAN
    assert drill["objective"] == plan.objective != GENERAL_PLAN.objective
    assert (drill["steps"], drill["coaching_points"], drill["progressions"]) == (
        list(plan.steps),
        list(plan.coaching_points),
        list(plan.progressions),
    )
    assert drill["setup"] and "{" not in drill["setup"]
    assert f"{sport.title()} {name} Drill" in drill["title"]
    assert focus in drill["tags"]


def test_sports_each_have_at_least_two_skill_words_tested() -> None:
    tested = {sport for _, sport, _, _ in SKILL_WORDS}
    for table in SPORT_PLANS:
        words = [row for row in SKILL_WORDS if row[1] in table.sports]
        assert len({row[2] for row in words}) >= 2, table.sports
    assert tested >= {"basketball", "soccer", "rugby", "volleyball", "handball", "field hockey"}


@pytest.mark.parametrize(
    ("text", "sport", "focus"),
    [
        ("a layup drill for 8 kids", "basketball", "layups"),
        ("power play practice, 1 hour", "ice hockey", "power play"),
        ("rondo for U10s with bibs", "soccer", "rondo"),
        ("lineout drill for the forwards", "rugby", "lineout"),
        ("serve receive for 12 players", "volleyball", "serve receive"),
        ("a penalty corner drill", "field hockey", "penalty corners"),
    ],
)
def test_a_skill_word_of_one_sport_implies_the_sport(text: str, sport: str, focus: str) -> None:
    wanted = parse_drill_request(text)
    assert (wanted.sport, wanted.focus) == (sport, focus)
    assert drill_from_request(wanted)["sport"] == sport


def test_words_every_sport_uses_stay_general_without_a_sport() -> None:
    wanted = parse_drill_request("a passing drill for 10 players")
    assert (wanted.sport, wanted.focus) == (None, "passing")
    assert drill_from_request(wanted)["objective"] == GENERAL_PLANS["passing"].objective


def test_a_named_sport_reads_its_own_words_first() -> None:
    # "shooting" is a general word; basketball's own plan for it is what a coach expects.
    basketball = drill_from_request(parse_drill_request("basketball shooting for 8 kids"))
    assert basketball["objective"] == plan_for("basketball", "shooting").objective
    assert basketball["objective"] != GENERAL_PLANS["shooting"].objective
    # "hockey" reads ice hockey's words, then field hockey's.
    assert parse_drill_request("hockey penalty corners").focus == "penalty corners"
    assert plan_for("hockey", "power play") is plan_for("ice hockey", "power play")
    # A sport without a table of its own keeps the general words.
    assert parse_drill_request("tennis footwork").focus == "agility"


def test_the_drills_sport_reads_its_words_in_a_follow_up() -> None:
    wanted = parse_drill_request("make it a pick and roll drill", current_sport="basketball")
    assert (wanted.sport, wanted.focus, wanted.names_focus) == (None, "pick and roll", True)
    drill = {"id": "d1", **drill_from_request(parse_drill_request("U14 basketball passing"))}

    changes = drill_changes(wanted, drill)

    assert changes["objective"] == plan_for("basketball", "pick and roll").objective
    assert changes["title"] == "U14 Basketball Pick and Roll Drill"
    assert "sport" not in changes


def test_a_new_sport_brings_its_own_plan_for_the_same_focus() -> None:
    drill = {"id": "d1", **drill_from_request(parse_drill_request("U12 soccer passing drill"))}

    changes = drill_changes(parse_drill_request("make it basketball"), drill)

    assert changes["sport"] == "basketball"
    assert changes["objective"] == plan_for("basketball", "passing").objective
    assert changes["title"] == "U12 Basketball Passing Drill"


# ------------------------------------------------------------------ the tables themselves


def _all_plans():
    yield from GENERAL_PLANS.items()
    for table in SPORT_PLANS:
        yield from table.plans.items()


def test_every_skill_word_has_a_plan_and_every_plan_is_complete() -> None:
    for table in SPORT_PLANS:
        for pattern, focus in table.focus_words:
            re.compile(pattern)
            assert focus in table.plans or focus in GENERAL_PLANS, (table.sports, focus)
    objectives = [plan.objective for _, plan in _all_plans()] + [GENERAL_PLAN.objective]
    assert len(objectives) == len(set(objectives))  # a saved objective names its plan
    for focus, plan in _all_plans():
        assert plan.name and plan.objective, focus
        assert len(plan.steps) >= 3 and len(plan.coaching_points) >= 3, focus
        assert len(plan.progressions) >= 3, focus
        fields = {name for _, name, _, _ in string.Formatter().parse(plan.setup) if name}
        assert fields <= {"side", "groups", "squad"}, focus
        assert find_plan(plan.objective)[1] is plan
