"""The drill page: the drill card follows the conversation, "My drills", drill downloads."""

from __future__ import annotations

import pytest

from tests.app.driver import chat_bubbles, logged_in_app, send
from ui.drill_card import my_drills_key

DRILL_PAGE = "pages/drill_chat.py"
DESCRIPTION = "U12 soccer passing drill for 10 players, 20 minutes, cones and balls"


@pytest.fixture
def drill_page(alice):
    at = logged_in_app("alice")
    at.switch_page(DRILL_PAGE).run()
    assert not at.exception
    return at


def card_text(at) -> str:
    """The text of the drill column (the one with the "My drills" picker)."""
    for column in at.columns:
        if any(box.label == "My drills" for box in column.selectbox):
            return "\n".join(str(m.value) for m in column.markdown)
    raise AssertionError("the page has no drill column")


def test_the_drill_card_updates_after_a_drill_building_turn(drill_page, alice, app_store):
    at = drill_page
    assert "No drill yet" in card_text(at)

    send(at, DESCRIPTION)
    assert not at.exception
    [drill] = app_store.list_drills(alice.id)
    [session] = app_store.list_sessions(alice.id).items
    assert (session.kind, session.drill_id) == ("drill", drill.id)
    assert session.title == f"Drill Creation - {drill.title}"
    statuses = [(s.label.split(" · ")[0], s.state) for s in at.status]
    assert statuses == [("Save new drill", "complete")]
    card = card_text(at)
    assert "No drill yet" not in card
    assert drill.title in card
    for badge in ("Soccer", "U12", "10 players", "20 min"):
        assert f":green-badge[{badge}]" in card
    for heading in ("Equipment", "Setup", "Steps", "Coaching points", "Progressions"):
        assert f"**{heading}**" in card
    assert drill.steps and all(step.split()[0] in card for step in drill.steps)
    assert at.selectbox(key=my_drills_key(session.id, drill)).value == drill.id

    send(at, "make it 30 minutes and add bibs")
    assert not at.exception
    updated = app_store.get_drill(alice.id, drill.id)
    assert updated.duration_min == 30 and "bibs" in updated.equipment
    card = card_text(at)
    assert ":green-badge[30 min]" in card and "20 min" not in card
    assert "bibs" in card
    assert [s.label.split(" · ")[0] for s in at.status] == [
        "Save new drill",
        "Update drill",
    ]
    assert len(app_store.list_drills(alice.id)) == 1


def test_my_drills_reopens_a_drills_conversation_or_starts_a_new_drill(
    drill_page, alice, app_store
):
    at = drill_page
    send(at, DESCRIPTION)
    first_session = app_store.list_sessions(alice.id).items[0]
    first_drill = app_store.list_drills(alice.id)[0]

    at.selectbox(key=my_drills_key(first_session.id, first_drill)).set_value("new").run()
    assert "No drill yet" in card_text(at)
    send(at, "basketball shooting drill for 8 players")
    second_drill = next(d for d in app_store.list_drills(alice.id) if d.id != first_drill.id)
    second_session = app_store.sessions_for_drill(alice.id, second_drill.id)[0]
    assert second_drill.sport == "basketball"

    picker = at.selectbox(key=my_drills_key(second_session.id, second_drill))
    picker.set_value(first_drill.id).run()
    assert not at.exception
    assert at.query_params["session"] == first_session.id
    assert chat_bubbles(at)[0] == ("user", DESCRIPTION)
    assert first_drill.title in card_text(at)
    # The drill's conversations are listed beside it, the open one marked.
    listed = at.button(key=f"huddle_drill_session_{first_session.id}")
    assert listed.disabled


def test_a_drill_without_conversations_gets_a_new_one(drill_page, alice, app_store):
    drill = app_store.create_drill(alice.id, title="Rondo 4v1", sport="soccer", steps=["Pass"])
    at = drill_page
    at.run()
    [picker] = [box for box in at.selectbox if box.label == "My drills"]
    picker.set_value(drill.id).run()
    [session] = app_store.sessions_for_drill(alice.id, drill.id)
    assert session.title == "Drill Creation - Rondo 4v1"
    assert "Rondo 4v1" in card_text(at)


def test_the_drill_is_downloadable_as_markdown(drill_page, alice, app_store):
    send(drill_page, DESCRIPTION)
    [drill] = app_store.list_drills(alice.id)
    keys = {button.key for button in drill_page.get("download_button")}
    assert f"huddle_download_drill_{drill.id}" in keys


def test_drill_text_is_shown_as_typed(drill_page, alice, app_store):
    session = app_store.create_session(alice.id, kind="drill")
    app_store.create_drill(
        alice.id,
        title="**Loud** <i>title</i>",
        steps=["[click](javascript:alert(1))"],
        source_session_id=session.id,
    )
    drill = app_store.list_drills(alice.id)[0]
    app_store.link_drill(alice.id, session.id, drill.id)
    at = drill_page
    at.query_params["session"] = session.id
    at.run()
    assert not any(m.proto.allow_html for m in at.markdown)
    card = card_text(at)
    assert "\\*\\*Loud\\*\\* \\<i\\>title\\</i\\>" in card
    assert "\\[click\\]\\(javascript\\:alert\\(1\\)\\)" in card
