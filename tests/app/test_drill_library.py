"""The drill library tab under AppTest: filters, selection, practice plan, pages, empty state."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.drill_library import practice_plan_markdown
from tests.app.driver import logged_in_app, open_app, page_text
from ui import drill_library as library

SCRIPT = str(Path(__file__).with_name("drill_library_script.py"))
HISTORY = "pages/history.py"

DRILLS = {
    "rondo": dict(
        title="Rondo 4v1",
        sport="Soccer",
        age_group="U12",
        players=5,
        duration_min=15,
        equipment=["cones", "balls"],
        steps=["Keep the ball"],
    ),
    "finishing": dict(
        title="Finishing waves",
        sport="Soccer",
        age_group="U14",
        players=12,
        duration_min=20,
        equipment=["balls", "mini goals"],
    ),
    "layups": dict(
        title="Layup lines",
        sport="Basketball",
        age_group="U12",
        players=10,
        duration_min=10,
        equipment=["balls"],
    ),
    "talk": dict(title="Team talk", sport="Soccer"),
}


@pytest.fixture
def drills(app_store, alice):
    return {name: app_store.create_drill(alice.id, **fields) for name, fields in DRILLS.items()}


def tab(monkeypatch, coach) -> object:
    monkeypatch.setenv("HUDDLE_TEST_COACH", str(coach.id))
    at = open_app(SCRIPT).run()
    assert not at.exception, at.exception
    return at


def run(at):
    at.run()
    assert not at.exception, at.exception
    return at


def shown(at) -> list[str]:
    [frame] = at.dataframe
    return list(frame.value["Title"])


def select(at, positions: list[int]):
    at.session_state[library.TABLE] = {"selection": {"rows": positions, "columns": [], "cells": []}}
    return run(at)


def selected_titles(at, app_store, coach) -> list[str]:
    return [app_store.get_drill(coach.id, i).title for i in at.session_state[library.SELECTED]]


def test_an_empty_library_says_how_drills_get_there(monkeypatch, alice):
    at = tab(monkeypatch, alice)
    assert library.EMPTY_LIBRARY in page_text(at)
    assert not at.dataframe and not at.text_input


def test_the_table_lists_the_coachs_drills_and_counts_them(monkeypatch, drills, alice, app_store):
    app_store.create_drill(app_store.create_user("carol").id, title="Not alice's")
    at = tab(monkeypatch, alice)
    assert "4 drills" in page_text(at)
    assert shown(at) == ["Team talk", "Layup lines", "Finishing waves", "Rondo 4v1"]
    [frame] = at.dataframe
    row = frame.value.set_index("Title").loc["Rondo 4v1"]
    assert (row["Sport"], row["Age group"], row["Players"], row["Minutes"]) == (
        "Soccer",
        "U12",
        5,
        15,
    )
    assert row["Equipment"] == "cones, balls"
    assert "No drills match" not in page_text(at)


def test_each_filter_narrows_the_table(monkeypatch, drills, alice):
    at = tab(monkeypatch, alice)
    at.text_input(key=library.TEXT).input("ball").run()
    assert sorted(shown(at)) == ["Finishing waves", "Layup lines", "Rondo 4v1"]
    at.text_input(key=library.TEXT).input("").run()

    at.multiselect(key=library.SPORTS).select("Basketball")
    assert shown(run(at)) == ["Layup lines"]
    at.multiselect(key=library.SPORTS).unselect("Basketball")

    at.multiselect(key=library.AGES).select("U12")
    assert sorted(shown(run(at))) == ["Layup lines", "Rondo 4v1"]
    at.multiselect(key=library.AGES).unselect("U12")

    at.multiselect(key=library.EQUIPMENT).select("balls").select("cones")
    assert shown(run(at)) == ["Rondo 4v1"]
    at.multiselect(key=library.EQUIPMENT).unselect("balls").unselect("cones")
    assert len(shown(run(at))) == 4

    players = at.slider(key=library.PLAYERS)
    assert (players.min, players.max) == (5, 12)
    players.set_range(6, 12)
    assert sorted(shown(run(at))) == ["Finishing waves", "Layup lines"]  # not "Team talk"
    at.slider(key=library.PLAYERS).set_range(5, 12)
    assert len(shown(run(at))) == 4  # the full span sets no bound

    at.slider(key=library.DURATION).set_range(10, 15)
    assert sorted(shown(run(at))) == ["Layup lines", "Rondo 4v1"]
    assert "2 drills" in page_text(at)

    at.text_input(key=library.TEXT).input("volleyball").run()
    assert not at.dataframe and library.NO_MATCH in page_text(at)


def test_sort_by_title_and_duration(monkeypatch, drills, alice):
    at = tab(monkeypatch, alice)
    at.selectbox(key=library.SORT).select("title")
    assert shown(run(at)) == ["Finishing waves", "Layup lines", "Rondo 4v1", "Team talk"]
    at.selectbox(key=library.SORT).select("duration")
    assert shown(run(at)) == ["Layup lines", "Rondo 4v1", "Finishing waves", "Team talk"]


def test_the_selection_becomes_a_practice_plan_in_table_order(
    monkeypatch, drills, alice, app_store
):
    at = tab(monkeypatch, alice)
    assert "Select drills" in page_text(at)
    select(at, [3, 1])  # Rondo, then Layup lines, clicked in that order
    assert selected_titles(at, app_store, alice) == ["Layup lines", "Rondo 4v1"]
    assert "2 drills selected" in page_text(at) and "25 min" in page_text(at)
    labels = {button.label for button in at.get("download_button")}
    assert labels == {"Practice plan (Markdown)", "Each drill (Markdown, zip)"}

    chosen = [app_store.get_drill(alice.id, i) for i in at.session_state[library.SELECTED]]
    plan = practice_plan_markdown(chosen)
    assert plan.startswith("# Practice plan · 25 min\n")
    assert "1. 0:00-0:10 · Layup lines · 10 min" in plan
    assert "2. 0:10-0:25 · Rondo 4v1 · 15 min" in plan


def test_a_selection_follows_its_drills_when_the_rows_change(monkeypatch, drills, alice, app_store):
    at = tab(monkeypatch, alice)
    select(at, [0, 3])  # Team talk and Rondo
    at.selectbox(key=library.SORT).select("title")
    run(at)
    assert shown(at) == ["Finishing waves", "Layup lines", "Rondo 4v1", "Team talk"]
    assert selected_titles(at, app_store, alice) == ["Rondo 4v1", "Team talk"]
    assert at.session_state[library.TABLE]["selection"]["rows"] == [2, 3]

    at.multiselect(key=library.AGES).select("U12")  # Team talk is no longer shown
    run(at)
    assert shown(at) == ["Layup lines", "Rondo 4v1"]
    assert selected_titles(at, app_store, alice) == ["Rondo 4v1"]


def test_pages_of_fifty(monkeypatch, app_store, alice):
    for number in range(library.PAGE_SIZE + 3):
        app_store.create_drill(alice.id, title=f"Drill {number:03d}", duration_min=5)
    at = tab(monkeypatch, alice)
    assert "53 drills" in page_text(at) and "1–50 of 53" in page_text(at)
    assert len(shown(at)) == library.PAGE_SIZE
    at.session_state[library.PAGE] = 2
    run(at)
    assert shown(at) == ["Drill 002", "Drill 001", "Drill 000"]
    assert "51–53 of 53" in page_text(at)
    at.text_input(key=library.TEXT).input("Drill 00").run()  # a new filter: back to page 1
    assert len(shown(at)) == 10 and "10 drills" in page_text(at)


def test_bad_filter_text_gets_a_sentence(monkeypatch, drills, alice):
    at = tab(monkeypatch, alice)
    at.text_input(key=library.TEXT).input("x" * 600).run()
    assert not at.exception
    assert any("limit is 500" in warning.value for warning in at.warning)
    assert not at.dataframe


def test_another_coachs_drills_are_not_shown(monkeypatch, drills, bob, app_store):
    app_store.create_drill(bob.id, title="Bob's own", sport="Hockey")
    at = tab(monkeypatch, bob)
    assert shown(at) == ["Bob's own"]
    assert at.multiselect(key=library.SPORTS).options == ["Hockey"]


# --------------------------------------------------------- on the History page itself


def history_drills(username: str):
    at = logged_in_app(username)
    at.query_params["tab"] = "Drill library"
    at.switch_page(HISTORY).run()
    assert not at.exception, at.exception
    return at


def test_history_page_has_the_drill_library_tab(alice):
    at = history_drills("alice")
    assert library.EMPTY_LIBRARY in page_text(at)


def test_history_page_opens_a_drills_conversation_on_the_drill_page(alice, app_store):
    built = app_store.create_session(alice.id, kind="drill", title="Building the rondo")
    app_store.create_drill(alice.id, title="Rondo", source_session_id=built.id)
    at = history_drills("alice")
    assert shown(at) == ["Rondo"]
    select(at, [0])
    at.button(key=f"huddle_drills_open_{built.id}").click()
    run(at)
    assert at.query_params["session"] == built.id
    assert any(box.label == "My drills" for box in at.selectbox)
    assert "Building the rondo" in page_text(at)


def test_open_conversation_is_offered_for_one_drill_only(monkeypatch, drills, alice):
    at = tab(monkeypatch, alice)
    select(at, [0, 1])
    assert not any(b.key and b.key.startswith("huddle_drills_open_") for b in at.button)
    assert "No conversation is linked" not in page_text(at)
    select(at, [0])
    assert "No conversation is linked to this drill." in page_text(at)
