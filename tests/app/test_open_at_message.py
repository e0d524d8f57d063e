"""A search hit's link (`?session=ID&seq=N`) opens its conversation at that message, marked."""

from __future__ import annotations

import pytest

from core.models import ChatSession
from tests.app.driver import chat_bubbles, open_app, page_text, send, start_login
from ui.messages import FOUND_KEY, PAGE_SIZE
from ui.state import LOGIN_SESSION

LENGTH = 120
FOUND_BADGE = "Found by search"


def _text(seq: int) -> str:
    # The full stop keeps "number 5." from matching inside "number 50.".
    return f"Message number {seq}."


def _long_conversation(store, user, kind: str = "chat", length: int = LENGTH) -> ChatSession:
    session = store.create_session(user.id, kind=kind, title="A long season")
    for seq in range(1, length + 1):
        store.add_message(user.id, session.id, "user" if seq % 2 else "assistant", _text(seq))
    return store.get_session(user.id, session.id)


def _opened_at(session_id: str, seq: str, username: str = "alice"):
    at = open_app()
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state[LOGIN_SESSION] = start_login(username)
    at.query_params["session"] = session_id
    at.query_params["seq"] = seq
    return at.run()


def _shown_seqs(at) -> list[int]:
    """The message numbers of the bubbles drawn, in order."""
    return [int(text.split()[-1].rstrip(".")) for _, text in chat_bubbles(at) if text]


def _marked_text(at) -> str:
    """The text inside the search hit's mark (fails when there is none)."""
    box = at.get_by_key(FOUND_KEY)
    return "\n".join(str(node.value) for node in box if getattr(node, "type", "") == "markdown")


def _has_mark(at) -> bool:
    try:
        at.get_by_key(FOUND_KEY)
    except KeyError:
        return False
    return True


def test_an_old_message_opens_marked_with_a_page_around_it(alice, app_store):
    session = _long_conversation(app_store, alice)
    at = _opened_at(session.id, "5")
    assert not at.exception
    assert not at.warning
    shown = _shown_seqs(at)
    assert shown == list(range(1, PAGE_SIZE + 1))  # not the latest page, not all 120
    marked = _marked_text(at)
    assert _text(5) in marked and FOUND_BADGE in marked
    assert _text(4) not in marked and _text(6) not in marked  # only that bubble
    assert at.query_params["session"] == session.id and at.query_params["seq"] == "5"
    with pytest.raises(KeyError):
        at.button(key=f"huddle_older_{session.id}")  # message 1 is already shown

    at.button(key=f"huddle_newer_{session.id}").click().run()
    assert _shown_seqs(at) == list(range(1, 2 * PAGE_SIZE + 1))
    assert _text(5) in _marked_text(at)

    at.button(key=f"huddle_latest_{session.id}").click().run()
    assert "seq" not in at.query_params
    assert _shown_seqs(at) == list(range(LENGTH - PAGE_SIZE + 1, LENGTH + 1))
    assert not _has_mark(at) and FOUND_BADGE not in page_text(at)


def test_a_message_in_the_middle_opens_at_its_question_and_loads_older(alice, app_store):
    session = _long_conversation(app_store, alice)
    at = _opened_at(session.id, "60")
    shown = _shown_seqs(at)
    # From the question before it (59), a page on; older and newer both a click away.
    assert shown[0] == 57 and 60 in shown and shown[-1] < LENGTH
    assert _text(60) in _marked_text(at)
    at.button(key=f"huddle_older_{session.id}").click().run()
    older = _shown_seqs(at)
    assert older[0] < shown[0] and older[-1] == shown[-1]
    assert _text(60) in _marked_text(at)
    assert at.button(key=f"huddle_newer_{session.id}")


def test_a_message_on_the_last_page_shows_no_newer_controls(alice, app_store):
    session = _long_conversation(app_store, alice)
    at = _opened_at(session.id, str(LENGTH - 1))
    assert _shown_seqs(at)[-1] == LENGTH
    assert _text(LENGTH - 1) in _marked_text(at)
    for control in ("newer", "latest"):
        with pytest.raises(KeyError):
            at.button(key=f"huddle_{control}_{session.id}")


@pytest.mark.parametrize(
    ("seq", "sentence"),
    [
        ("abc", "That link names no message of this conversation: its latest messages are shown."),
        ("-3", "That link names no message of this conversation: its latest messages are shown."),
        ("5.5", "That link names no message of this conversation: its latest messages are shown."),
        ("0", "That message is not in this conversation: its latest messages are shown."),
        ("121", "That message is not in this conversation: its latest messages are shown."),
        (
            "99999999999999999999",
            "That link names no message of this conversation: its latest messages are shown.",
        ),
    ],
)
def test_a_bad_seq_opens_the_latest_messages_with_one_sentence(seq, sentence, alice, app_store):
    session = _long_conversation(app_store, alice)
    at = _opened_at(session.id, seq)
    assert not at.exception
    assert [w.value for w in at.warning] == [sentence]
    assert _shown_seqs(at) == list(range(LENGTH - PAGE_SIZE + 1, LENGTH + 1))
    assert not _has_mark(at)
    assert at.query_params["session"] == session.id and "seq" not in at.query_params
    at.run()
    assert not at.warning  # said once


def test_another_coachs_session_with_a_seq_is_not_found(alice, bob, app_store):
    secret = _long_conversation(app_store, bob, length=10)
    at = _opened_at(secret.id, "5")
    assert not at.exception
    assert [w.value for w in at.warning] == ["That conversation was not found."]
    assert _text(5) not in page_text(at) and not _has_mark(at)
    assert "session" not in at.query_params and "seq" not in at.query_params


def test_sending_a_message_drops_the_mark_and_shows_the_latest(alice, app_store):
    session = _long_conversation(app_store, alice)
    at = _opened_at(session.id, "5")
    send(at, "what is 2+2")
    assert not at.exception
    assert "seq" not in at.query_params and at.query_params["session"] == session.id
    assert not _has_mark(at)
    assert chat_bubbles(at)[-2:] == [("user", "what is 2+2"), ("assistant", "2+2 = 4")]
    assert app_store.get_session(alice.id, session.id).message_count == LENGTH + 4


def test_opening_another_session_drops_the_mark(alice, app_store):
    session = _long_conversation(app_store, alice)
    other = app_store.create_session(alice.id, title="Short one")
    app_store.add_message(alice.id, other.id, "user", "a short question")
    at = _opened_at(session.id, "5")
    at.sidebar.button(key=f"huddle_open_{other.id}").click().run()
    assert "seq" not in at.query_params and at.query_params["session"] == other.id
    assert chat_bubbles(at) == [("user", "a short question")]
    # Back to the long one from the sidebar: its latest messages, no mark.
    at.sidebar.button(key=f"huddle_open_{session.id}").click().run()
    assert _shown_seqs(at)[-1] == LENGTH and not _has_mark(at)


def test_a_drill_hit_opens_on_the_drill_page_even_from_the_chat_page(alice, app_store):
    session = _long_conversation(app_store, alice, kind="drill")
    at = _opened_at(session.id, "7")  # AppTest opens the default page: chat
    assert not at.exception
    assert any(box.label == "My drills" for box in at.selectbox)  # the drill page
    assert _text(7) in _marked_text(at)
    assert at.query_params["seq"] == "7"
