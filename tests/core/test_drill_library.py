"""The drill library on both databases: each filter, sorts and pages, facets, isolation, plans."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from core.drill_library import (
    DrillFilter,
    check_filter,
    drill_conversations,
    drill_facets,
    drills_markdown_zip,
    list_drill_page,
    practice_plan_markdown,
)
from core.errors import NotFound, ValidationError
from core.models import DRILL_LIST_FIELDS, DRILL_TEXT_FIELDS, Drill


@pytest.fixture
def library(store, coach):
    """Five drills of coach1, by short name."""
    specs = {
        "rondo": dict(
            title="Rondo 4v1",
            sport="Soccer",
            age_group="U12",
            players=5,
            duration_min=15,
            objective="Quick passing under pressure",
            equipment=["Cones", "balls", "bibs"],
            steps=["Pass in the square", "Swap the defender on a steal"],
            tags=["possession"],
        ),
        "finishing": dict(
            title="Finishing waves",
            sport="soccer",
            age_group="U14",
            players=12,
            duration_min=20,
            objective="Shots on goal",
            equipment=["balls", "mini goals"],
            setup="Two lines at the edge of the box",
        ),
        "layups": dict(
            title="Layup lines",
            sport="Basketball",
            age_group="U12",
            players=10,
            duration_min=10,
            equipment=["balls", 'cone "tall"'],
            steps=["Dribble in, lay up with the outside hand"],
        ),
        "cooldown": dict(title="Cool down", sport="Soccer", objective="Stretch 100% of the group"),
        "tackling": dict(
            title="Tackle technique",
            sport="Rugby",
            age_group="U16",
            players=8,
            duration_min=25,
            equipment=["tackle bags", "cones"],
            tags=["contact", "safety_first"],
        ),
    }
    return {name: store.create_drill(coach.id, **fields) for name, fields in specs.items()}


def titles(store, user_id, filters=None, **options) -> list[str]:
    return [d.title for d in list_drill_page(store, user_id, filters, **options).items]


def names(library, page) -> set[str]:
    by_id = {drill.id: name for name, drill in library.items()}
    return {by_id[drill.id] for drill in page.items}


def test_no_filter_lists_every_drill_of_the_coach_newest_change_first(store, coach, library):
    page = list_drill_page(store, coach.id, DrillFilter())
    assert page.total == 5 and page.offset == 0 and page.limit == 50
    assert [d.title for d in page.items] == [d.title for d in reversed(list(library.values()))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rondo", {"rondo"}),
        ("PASSING", {"rondo"}),  # objective, any case
        ("soccer", {"rondo", "finishing", "cooldown"}),  # sport
        ("edge box", {"finishing"}),  # setup; every word must match
        ("swap defender", {"rondo"}),  # steps
        ("mini goals", {"finishing"}),  # equipment
        ("possession", {"rondo"}),  # tags
        ("rondo shots", set()),  # words in different drills: no drill has both
        ("100%", {"cooldown"}),  # LIKE wildcards are literal
        ("safety_first", {"tackling"}),
        ("safety_", {"tackling"}),
        ("tackle_technique", set()),  # "_" is not "any character"
        ("   ", {"rondo", "finishing", "layups", "cooldown", "tackling"}),
    ],
)
def test_text_matches_every_word_in_the_searched_fields(store, coach, library, text, expected):
    assert names(library, list_drill_page(store, coach.id, DrillFilter(text=text))) == expected


def test_sports_and_age_groups_match_any_of_the_choices_ignoring_case(store, coach, library):
    page = list_drill_page(store, coach.id, DrillFilter(sports=("SOCCER",)))
    assert names(library, page) == {"rondo", "finishing", "cooldown"}
    page = list_drill_page(store, coach.id, DrillFilter(sports=("rugby", "basketball")))
    assert names(library, page) == {"layups", "tackling"}
    page = list_drill_page(store, coach.id, DrillFilter(age_groups=("u12",)))
    assert names(library, page) == {"rondo", "layups"}
    page = list_drill_page(store, coach.id, DrillFilter(age_groups=("U14", "U16")))
    assert names(library, page) == {"finishing", "tackling"}


def test_number_ranges_are_inclusive_and_leave_out_drills_that_do_not_say(store, coach, library):
    page = list_drill_page(store, coach.id, DrillFilter(players_min=8, players_max=10))
    assert names(library, page) == {"layups", "tackling"}
    page = list_drill_page(store, coach.id, DrillFilter(players_max=5))
    assert names(library, page) == {"rondo"}
    page = list_drill_page(store, coach.id, DrillFilter(duration_min=15, duration_max=20))
    assert names(library, page) == {"rondo", "finishing"}
    page = list_drill_page(store, coach.id, DrillFilter(duration_min=0))
    assert "cooldown" not in names(library, page) and page.total == 4


def test_equipment_needs_every_item_whole_and_ignoring_case(store, coach, library):
    page = list_drill_page(store, coach.id, DrillFilter(equipment=("cones",)))
    assert names(library, page) == {"rondo", "tackling"}  # "Cones" too; not 'cone "tall"'
    page = list_drill_page(store, coach.id, DrillFilter(equipment=("BALLS", "cones")))
    assert names(library, page) == {"rondo"}
    page = list_drill_page(store, coach.id, DrillFilter(equipment=('cone "tall"',)))
    assert names(library, page) == {"layups"}
    assert list_drill_page(store, coach.id, DrillFilter(equipment=("cone",))).total == 0
    assert list_drill_page(store, coach.id, DrillFilter(equipment=("ball%",))).total == 0


def test_filters_combine(store, coach, library):
    filters = DrillFilter(
        text="ball", sports=("soccer", "basketball"), players_min=6, equipment=("balls",)
    )
    assert names(library, list_drill_page(store, coach.id, filters)) == {"finishing", "layups"}
    filters = DrillFilter(sports=("soccer",), age_groups=("u12",), duration_max=15)
    assert names(library, list_drill_page(store, coach.id, filters)) == {"rondo"}


def test_sorts_and_pages(store, coach, library):
    assert titles(store, coach.id, sort="title") == [
        "Cool down",
        "Finishing waves",
        "Layup lines",
        "Rondo 4v1",
        "Tackle technique",
    ]
    by_duration = titles(store, coach.id, sort="duration")
    assert by_duration == [
        "Layup lines",
        "Rondo 4v1",
        "Finishing waves",
        "Tackle technique",
        "Cool down",  # no duration: last
    ]
    page = list_drill_page(store, coach.id, sort="duration", limit=2, offset=2)
    assert [d.title for d in page.items] == by_duration[2:4]
    assert (page.total, page.offset, page.limit, page.has_more) == (5, 2, 2, True)
    last = list_drill_page(store, coach.id, sort="duration", limit=2, offset=4)
    assert [d.title for d in last.items] == ["Cool down"] and not last.has_more


def test_another_coachs_drills_are_never_seen(store, coach, other_coach, library):
    theirs = store.create_drill(
        other_coach.id, title="Rondo secret", sport="Hockey", players=30, equipment=["pucks"]
    )
    assert list_drill_page(store, coach.id, DrillFilter(text="secret")).total == 0
    assert list_drill_page(store, coach.id, DrillFilter(equipment=("pucks",))).total == 0
    assert list_drill_page(store, other_coach.id).items[0].id == theirs.id
    assert list_drill_page(store, other_coach.id).total == 1
    facets = drill_facets(store, coach.id)
    assert "Hockey" not in facets.sports and "pucks" not in facets.equipment
    assert facets.players == (5, 12)
    with pytest.raises(NotFound):
        drill_conversations(store, coach.id, theirs.id)


@pytest.mark.parametrize(
    ("filters", "options", "sentence"),
    [
        (DrillFilter(players_min=10, players_max=4), {}, "smallest number of players (10)"),
        (DrillFilter(duration_min=30, duration_max=10), {}, "smallest duration (30)"),
        (DrillFilter(players_min=-1), {}, "between 0 and"),
        (DrillFilter(duration_max=-5), {}, "between 0 and"),
        (DrillFilter(players_min="3"), {}, "whole number"),  # type: ignore[arg-type]
        (DrillFilter(text="a\x00b"), {}, "NUL"),
        (DrillFilter(text="x" * 501), {}, "limit is 500"),
        (DrillFilter(sports=("soc\x00cer",)), {}, "NUL"),
        (DrillFilter(), {"sort": "newest"}, "sorted by"),
        (DrillFilter(), {"limit": 0}, "A page holds"),
        (DrillFilter(), {"offset": -1}, "offset"),
    ],
)
def test_bad_input_is_refused_with_a_sentence(store, coach, library, filters, options, sentence):
    with pytest.raises(ValidationError, match=re.escape(sentence)):
        list_drill_page(store, coach.id, filters, **options)


def test_check_filter_trims_and_folds_choices():
    checked = check_filter(
        DrillFilter(text="  Rondo   PASS ", sports=["Soccer", "soccer ", ""], equipment="Cones")
    )
    assert checked.text == "rondo pass"
    assert checked.sports == ("soccer",)
    assert checked.equipment == ("cones",)


def test_facets_offer_each_value_once_and_the_number_ranges(store, coach, library):
    facets = drill_facets(store, coach.id)
    assert facets.sports == ["Basketball", "Rugby", "Soccer"]
    assert facets.age_groups == ["U12", "U14", "U16"]
    assert [item.lower() for item in facets.equipment] == [
        "balls",
        "bibs",
        'cone "tall"',
        "cones",
        "mini goals",
        "tackle bags",
    ]
    assert facets.players == (5, 12)
    assert facets.duration == (10, 25)
    assert facets.drills == 5


def test_facets_of_an_empty_library(store, coach):
    facets = drill_facets(store, coach.id)
    assert (facets.sports, facets.age_groups, facets.equipment) == ([], [], [])
    assert facets.players is None and facets.duration is None and facets.drills == 0


def test_a_drills_conversations_are_its_source_and_its_linked_sessions(store, coach, library):
    source = store.create_session(coach.id, kind="drill", title="Built here")
    drill = store.create_drill(coach.id, title="Overlap", source_session_id=source.id)
    linked = store.create_session(coach.id, kind="drill", title="Later", drill_id=drill.id)
    store.create_session(coach.id, kind="drill", title="Unrelated")
    found = drill_conversations(store, coach.id, drill.id)
    assert {session.id for session in found} == {source.id, linked.id}
    assert drill_conversations(store, coach.id, library["rondo"].id) == []
    with pytest.raises(NotFound):
        drill_conversations(store, coach.id, "no-such-drill")


# ------------------------------------------------------- practice plan (no database)


def make_drill(title: str, minutes: int | None, **fields) -> Drill:
    values = {name: "" for name in DRILL_TEXT_FIELDS} | {name: [] for name in DRILL_LIST_FIELDS}
    values |= {"title": title, "duration_min": minutes, "players": None} | fields
    return Drill(id=title or "untitled", **values)


def test_the_plan_keeps_the_order_and_times_each_drill():
    drills = [
        make_drill("Warm up", 10, equipment=["cones", "balls"]),
        make_drill("Rondo", 15, equipment=["Balls", "bibs"], steps=["Pass", "Move"]),
        make_drill("Team talk", None),
        make_drill("Small-sided game", 25, equipment=["mini goals"]),
    ]
    plan = practice_plan_markdown(drills, title="Tuesday U12")
    assert plan.startswith("# Tuesday U12 · 50 min\n")
    assert "4 drills, 50 minutes in all." in plan
    assert [line for line in plan.splitlines() if re.match(r"^\d\. \d+:\d\d-", line)] == [
        "1. 0:00-0:10 · Warm up · 10 min",
        "2. 0:10-0:25 · Rondo · 15 min",
        "3. 0:25-0:25 · Team talk · (no duration)",
        "4. 0:25-0:50 · Small-sided game · 25 min",
    ]
    equipment = plan.split("## Equipment\n\n", 1)[1].split("\n\n", 1)[0]
    assert equipment.splitlines() == ["- cones", "- balls", "- bibs", "- mini goals"]
    cards = re.findall(r"^## (\d)\. (.+)$", plan, flags=re.M)
    assert cards == [
        ("1", "Warm up · 0:00-0:10 · 10 min"),
        ("2", "Rondo · 0:10-0:25 · 15 min"),
        ("3", "Team talk · 0:25-0:25 · (no duration)"),
        ("4", "Small-sided game · 0:25-0:50 · 25 min"),
    ]
    # Each card's own sections sit one level under its heading.
    rondo = plan.split("## 2. Rondo", 1)[1].split("## 3.", 1)[0]
    assert "### Steps\n\n1. Pass\n2. Move\n" in rondo and "### Equipment" in rondo


def test_a_long_plan_counts_hours():
    plan = practice_plan_markdown([make_drill("Scrimmage", 70), make_drill("Shootout", 5)])
    assert plan.startswith("# Practice plan · 75 min\n")
    assert "2. 1:10-1:15 · Shootout · 5 min" in plan


def test_typed_text_cannot_break_the_plan():
    sneaky = make_drill(
        "*Bold* [link](x) <b>",
        10,
        setup="Lay out cones\n```\nan unclosed fence",
        objective="# not a plan heading",
    )
    after = make_drill("After", 5)
    plan = practice_plan_markdown([sneaky, after], title="Plan <script>")
    assert plan.startswith("# Plan \\<script\\> · 15 min\n")
    assert "1. 0:00-0:10 · \\*Bold\\* \\[link\\](x) \\<b\\> · 10 min" in plan
    # The open fence is closed inside the card, so the next card's heading stays a heading.
    tail = plan.split("an unclosed fence", 1)[1]
    assert tail.index("```") < tail.index("## 2. After")
    assert "\n## not a plan heading" in plan  # the coach's heading moves down with the card


def test_headings_inside_a_code_fence_stay_as_typed():
    drill = make_drill("Fenced", 5, setup="Board:\n~~~\n# not a heading\n~~~\n# a heading")
    plan = practice_plan_markdown([drill])
    assert "\n# not a heading\n" in plan
    assert "\n## a heading" in plan


def test_an_empty_selection_is_an_empty_plan():
    plan = practice_plan_markdown([])
    assert plan == "# Practice plan · 0 min\n\n0 drills, 0 minutes in all.\n"


def test_each_drill_as_markdown_in_a_zip():
    data = drills_markdown_zip([make_drill("Rondo", 10), make_drill("Rondo", 5), make_drill("", 1)])
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert bundle.namelist() == ["rondo.md", "rondo-2.md", "drill.md"]
        assert bundle.read("rondo-2.md").decode().startswith("# Rondo\n")
        assert "5 min" in bundle.read("rondo-2.md").decode()
