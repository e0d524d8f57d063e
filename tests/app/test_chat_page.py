"""The chat page: a turn streamed and stored, the session sidebar, deep links, failed replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.db import Database
from core.models import ChatSession
from core.store import ConversationStore
from tests.app.driver import (
    PASSWORD,
    chat_bubbles,
    finish_turns,
    logged_in_app,
    page_text,
    password_hash,
    send,
)
from ui.markdown import escape_markdown
from ui.sidebar import group_by_day, menu_key


def _conversation(store, user, title: str, *texts: str) -> ChatSession:
    session = store.create_session(user.id, title=title)
    for index, text in enumerate(texts):
        store.add_message(user.id, session.id, "user" if index % 2 == 0 else "assistant", text)
    return store.get_session(user.id, session.id)


def _day_headings(at) -> list[str]:
    headings = {"Pinned", "Today", "Yesterday", "Previous 7 days", "Older"}
    return [c.value for c in at.sidebar.caption if c.value in headings]


def test_a_chat_turn_is_stored_and_shown_again_after_a_refresh(alice, app_store):
    at = logged_in_app("alice")
    assert "Ask about training plans" in page_text(at)  # a fresh conversation
    assert app_store.list_sessions(alice.id).total == 0  # ...not stored until used

    send(at, "what is 12*7+3")
    assert not at.exception
    assert chat_bubbles(at) == [("user", "what is 12*7+3"), ("assistant", "12*7+3 = 87")]
    [status] = at.status
    assert status.label.startswith("Calculator · ") and status.state == "complete"
    assert not at.chat_input[0].proto.disabled

    [session] = app_store.list_sessions(alice.id).items
    assert session.title == "what is 12*7+3"
    roles = [m.role for m in app_store.list_messages(alice.id, session.id)]
    assert roles == ["user", "assistant", "tool", "assistant"]
    [call] = app_store.list_tool_calls(alice.id, session.id)
    assert (call.name, call.input, call.output) == ("calculator", {"expression": "12*7+3"}, "87")
    assert at.query_params["session"] == session.id

    # A refresh: a new browser session, with the URL the page left behind.
    again = logged_in_app("alice", session=session.id)
    assert chat_bubbles(again) == chat_bubbles(at)
    assert [s.label for s in again.status] == [status.label]
    assert "Offline demo model" in page_text(again)
    # Without the link, the most recent conversation opens.
    assert chat_bubbles(logged_in_app("alice")) == chat_bubbles(at)


def test_a_second_message_continues_the_open_conversation(alice, app_store):
    at = logged_in_app("alice")
    send(at, "what is 2+2")
    send(at, "count the words in: quick passing drills")
    assert not at.exception
    [session] = app_store.list_sessions(alice.id).items
    assert session.message_count == 8
    assert [role for role, _ in chat_bubbles(at)] == ["user", "assistant"] * 2


def test_switching_sessions_from_the_sidebar(alice, app_store):
    older = _conversation(app_store, alice, "Warm-ups", "warm-up ideas", "try dynamic stretches")
    newer = _conversation(app_store, alice, "Set pieces", "corner routines", "near post flick")
    at = logged_in_app("alice")
    assert "corner routines" in page_text(at)
    assert at.sidebar.button(key=f"huddle_open_{newer.id}").proto.type == "secondary"

    at.sidebar.button(key=f"huddle_open_{older.id}").click().run()
    assert not at.exception
    assert chat_bubbles(at) == [("user", "warm-up ideas"), ("assistant", "try dynamic stretches")]
    assert at.query_params["session"] == older.id
    assert at.subheader[0].value == "Warm\\-ups"

    at.sidebar.button(key="huddle_new_chat").click().run()
    assert "Ask about training plans" in page_text(at)
    assert "session" not in at.query_params


def test_rename_a_session(alice, app_store):
    session = _conversation(app_store, alice, "Untitled", "a question")
    at = logged_in_app("alice")
    at.sidebar.button(key=f"huddle_rename_{session.id}").click().run()
    box = at.text_input(key=f"huddle_rename_title_{session.id}")
    assert box.value == "Untitled"
    save = f"FormSubmitter:huddle_rename_form_{session.id}-Save"

    box.input("   ")
    at.button(key=save).click().run()
    assert [e.value for e in at.error] == ["The title is empty."]
    assert app_store.get_session(alice.id, session.id).title == "Untitled"

    at.text_input(key=f"huddle_rename_title_{session.id}").input("U12 *spring* plan")
    at.button(key=save).click().run()
    assert not at.exception
    renamed = app_store.get_session(alice.id, session.id)
    assert (renamed.title, renamed.title_source) == ("U12 *spring* plan", "user")
    assert [s.value for s in at.success] == ["Conversation renamed."]
    # Shown as typed, not as Markdown.
    assert at.sidebar.button(key=f"huddle_open_{session.id}").label == escape_markdown(
        "U12 *spring* plan"
    )


def test_pin_and_unpin_a_session(alice, app_store):
    first = _conversation(app_store, alice, "First", "one")
    _conversation(app_store, alice, "Second", "two")
    at = logged_in_app("alice")
    assert _day_headings(at) == ["Today"]

    at.session_state[menu_key(first.id)] = True  # its menu open, as a click would leave it
    at.sidebar.button(key=f"huddle_pin_{first.id}").click().run()
    assert app_store.get_session(alice.id, first.id).pinned
    assert _day_headings(at) == ["Pinned", "Today"]
    # The pinned row moved to the top: its menu closed rather than staying at its old place.
    assert at.session_state[menu_key(first.id)] is False
    assert at.sidebar.button(key=f"huddle_pin_{first.id}").label == "Unpin"

    at.sidebar.button(key=f"huddle_pin_{first.id}").click().run()
    assert not app_store.get_session(alice.id, first.id).pinned


def test_delete_a_session_after_confirming(alice, app_store):
    keep = _conversation(app_store, alice, "Keep me", "keep this")
    doomed = _conversation(app_store, alice, "Delete me", "delete this")
    at = logged_in_app("alice")
    at.sidebar.button(key=f"huddle_delete_{doomed.id}").click().run()
    assert "will be deleted for good" in page_text(at)

    at.button(key="huddle_cancel_delete").click().run()
    assert app_store.get_session(alice.id, doomed.id)
    assert "will be deleted for good" not in page_text(at)

    at.sidebar.button(key=f"huddle_delete_{doomed.id}").click().run()
    at.button(key="huddle_confirm_delete").click().run()
    assert not at.exception
    assert [s.id for s in app_store.list_sessions(alice.id).items] == [keep.id]
    assert [s.value for s in at.success] == ["Conversation deleted."]
    assert chat_bubbles(at) == [("user", "keep this")]  # the page moved on


def test_a_deep_link_to_another_coachs_session_says_not_found(alice, bob, app_store):
    secret = _conversation(app_store, bob, "Bob's tactics", "our secret press")
    at = logged_in_app("alice", session=secret.id)
    assert not at.exception
    assert [w.value for w in at.warning] == ["That conversation was not found."]
    assert "secret press" not in page_text(at)
    assert "Bob" not in page_text(at)
    assert "session" not in at.query_params
    # The sentence stays (reruns, the log-in cookie's report) until the coach acts.
    at.run()
    assert [w.value for w in at.warning] == ["That conversation was not found."]
    send(at, "what is 1+1")
    assert not at.warning
    assert app_store.get_session(bob.id, secret.id).message_count == 1  # untouched


def test_a_deep_link_to_an_own_session_opens_it(alice, app_store):
    linked = _conversation(app_store, alice, "Linked", "the linked one")
    _conversation(app_store, alice, "Latest", "the latest one")
    at = logged_in_app("alice", session=linked.id)
    assert chat_bubbles(at) == [("user", "the linked one")]
    assert not at.warning


def test_a_deep_link_to_a_drill_conversation_opens_the_drill_page(alice, app_store):
    drill_chat = app_store.create_session(alice.id, kind="drill", title="Cone weave")
    app_store.add_message(alice.id, drill_chat.id, "user", "a dribbling drill please")
    _conversation(app_store, alice, "Chat", "a chat")
    at = logged_in_app("alice", session=drill_chat.id)
    assert not at.exception
    assert chat_bubbles(at) == [("user", "a dribbling drill please")]
    assert any(box.label == "My drills" for box in at.selectbox)  # the drill page


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("   ", "The message is empty."),
        ("bad \x00 byte", "The message contains a NUL character, which cannot be stored."),
    ],
)
def test_a_message_that_cannot_be_sent_changes_nothing(text, sentence, alice, app_store):
    # (A message over MAX_MESSAGE_CHARS is kept in an editor: see the test below.)
    at = logged_in_app("alice")
    send(at, text)
    assert not at.exception
    assert [w.value for w in at.warning] == [sentence]
    assert app_store.list_sessions(alice.id).total == 0


def test_long_sessions_load_older_messages_on_request(alice, app_store):
    texts = [f"message number {n}" for n in range(1, 46)]
    session = _conversation(app_store, alice, "Long one", *texts)
    at = logged_in_app("alice", session=session.id)
    shown = page_text(at)
    assert "message number 45" in shown and "message number 6\n" in shown + "\n"
    assert "message number 5\n" not in shown + "\n"
    at.button(key=f"huddle_older_{session.id}").click().run()
    assert "message number 1\n" in page_text(at) + "\n"
    with pytest.raises(KeyError):
        at.button(key=f"huddle_older_{session.id}")


def test_markdown_from_people_and_models_never_renders_html(alice, app_store):
    session = _conversation(app_store, alice, "<b>Title</b>", "<script>alert(1)</script> *hi*")
    at = logged_in_app("alice")
    assert at.markdown
    assert not any(m.proto.allow_html for m in at.markdown)
    title = at.sidebar.button(key=f"huddle_open_{session.id}").label
    assert title == escape_markdown("<b>Title</b>")


def test_downloads_for_the_open_session(alice, app_store):
    session = _conversation(app_store, alice, "Export me", "hello")
    at = logged_in_app("alice")
    keys = {button.key for button in at.get("download_button")}
    assert keys == {f"huddle_download_{kind}_{session.id}" for kind in ("md", "csv", "json")}


def test_a_failed_reply_is_marked_and_retried(alice, app_store, fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-test-1")
    fake.add_error_event_after("Start with a rondo and")
    at = logged_in_app("alice")
    assert "Claude · claude-test-1" in page_text(at)
    send(at, "plan a U10 session")
    assert not at.exception
    [(_, question), (_, reply)] = chat_bubbles(at)
    assert (question, reply) == ("plan a U10 session", "Start with a rondo and")
    assert at.warning[0].value.startswith("This reply was cut short: ")
    [session] = app_store.list_sessions(alice.id).items
    statuses = [(m.role, m.status) for m in app_store.list_messages(alice.id, session.id)]
    assert statuses == [("user", "complete"), ("assistant", "partial")]

    fake.add_text("Start with a rondo, then a small-sided game.")
    at.button(key=f"huddle_retry_{session.id}").click().run()
    finish_turns(at)
    assert not at.exception
    assert chat_bubbles(at)[-1] == (
        "assistant",
        "Start with a rondo and\nStart with a rondo, then a small-sided game.",
    )
    assert [e.label for e in at.expander] == ["An earlier attempt failed"]  # kept, folded away
    messages = app_store.list_messages(alice.id, session.id)
    assert [m.role for m in messages].count("user") == 1  # the question was not stored again
    with pytest.raises(KeyError):
        at.button(key=f"huddle_retry_{session.id}")


def test_sessions_are_grouped_by_day_in_the_coachs_time_zone():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

    def session(title: str, days_ago: float, pinned: bool = False) -> ChatSession:
        when = now - timedelta(days=days_ago)
        return ChatSession(title=title, pinned=pinned, created_at=when, last_message_at=when)

    sessions = [
        session("pinned old", 40, pinned=True),
        session("this morning", 0.2),
        session("yesterday", 1),
        session("last week", 5),
        session("long ago", 30),
    ]
    groups = [(h, [s.title for s in group]) for h, group in group_by_day(sessions, UTC, now)]
    assert groups == [
        ("Pinned", ["pinned old"]),
        ("Today", ["this morning"]),
        ("Yesterday", ["yesterday"]),
        ("Previous 7 days", ["last week"]),
        ("Older", ["long ago"]),
    ]


def test_the_chat_page_on_postgresql(app_url, postgres_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    db = Database(postgres_url)
    store = ConversationStore(db)
    try:
        coach = store.create_user("alice", name="Alice", password_hash=password_hash(PASSWORD))
        at = logged_in_app("alice")
        send(at, "what is 12*7+3")
        assert not at.exception
        assert chat_bubbles(at)[-1] == ("assistant", "12*7+3 = 87")
        [session] = store.list_sessions(coach.id).items
        assert session.message_count == 4
        assert chat_bubbles(logged_in_app("alice", session=session.id)) == chat_bubbles(at)
    finally:
        db.dispose()


def test_a_message_over_the_limit_is_kept_to_shorten_and_send(alice, app_store, monkeypatch):
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "40")
    pasted = "Plan a passing session for twelve players, please, with a warm-up"  # 65
    at = logged_in_app("alice")
    send(at, pasted)

    assert not at.exception
    assert [w.value for w in at.warning] == [
        "Your message is 65 characters long; the limit is 40. "
        "It is kept here: shorten it, then send it."
    ]
    draft = at.text_area(key="huddle_long_draft_chat")
    assert draft.value == pasted  # nothing the coach pasted is lost
    assert "65 of 40 characters (25 too many)" in [c.value for c in at.caption]
    assert app_store.list_sessions(alice.id).total == 0  # nothing stored yet

    # Still too long: it stays, saying so; shortened: it is sent and the editor goes.
    draft.set_value(pasted + " and more").run()
    at.button(key="huddle_long_draft_send_chat").click().run()
    assert at.text_area(key="huddle_long_draft_chat").value == pasted + " and more"
    assert app_store.list_sessions(alice.id).total == 0
    at.text_area(key="huddle_long_draft_chat").set_value("Plan a passing session").run()
    at.button(key="huddle_long_draft_send_chat").click().run()
    finish_turns(at)
    assert not at.exception
    assert not at.text_area
    [session] = app_store.list_sessions(alice.id).items
    assert app_store.list_messages(alice.id, session.id)[0].content == "Plan a passing session"

    # Discard drops a kept draft without sending it.
    send(at, pasted)
    at.button(key="huddle_long_draft_discard_chat").click().run()
    assert not at.text_area
    assert app_store.get_session(alice.id, session.id).message_count == 2


def test_conversations_with_the_same_title_are_told_apart(alice, app_store):
    first = _conversation(app_store, alice, "Rondo ideas", "rondo for u10")
    second = _conversation(app_store, alice, "Rondo ideas", "rondo for u14")
    other = _conversation(app_store, alice, "Set pieces", "corners")
    at = logged_in_app("alice")
    labels = {
        session.id: at.sidebar.button(key=f"huddle_open_{session.id}").label
        for session in (first, second, other)
    }
    assert labels[other.id] == "Set pieces"  # a title of its own is shown as it is
    # Written in the same minute: the start of their last message tells them apart.
    assert labels[first.id].startswith("Rondo ideas · ")
    assert labels[first.id].endswith(" · rondo for u10")
    assert labels[second.id].endswith(" · rondo for u14")


def test_a_title_or_preview_cannot_hide_or_turn_text_around(alice, app_store):
    """The sidebar's tooltip shows the preview as plain text (a tooltip renders Markdown),
    and bidi controls in a title are dropped wherever it is shown."""
    session = app_store.create_session(alice.id, title="Rondo \u202eslaiciffo\u202c notes")
    app_store.add_message(
        alice.id, session.id, "user", "[click me](javascript:alert(1)) **loud** <b>tag</b>"
    )
    at = logged_in_app("alice")
    row = at.sidebar.button(key=f"huddle_open_{session.id}")
    assert "\u202e" not in row.label and "slaiciffo" in row.label
    assert row.help == escape_markdown("[click me](javascript:alert(1)) **loud** <b>tag</b>")
    assert all("\u202e" not in text for text in page_text(at).splitlines())
