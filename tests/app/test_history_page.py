"""The History page under AppTest: search, filters, sorts, pages, actions, exports, bad input."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from core.history import PAGE_SIZE
from tests.app.driver import open_page, page_text
from ui.history_table import table_key

HISTORY = "pages/history.py"
NOW = datetime.now(UTC)


def history(username: str = "alice", **params):
    return open_page(username, HISTORY, **params)


def table(at) -> pd.DataFrame:
    """The History table's rows (an empty frame when the page says nothing matches)."""
    frames = [frame.value for frame in at.dataframe]
    return frames[0] if frames else pd.DataFrame(columns=["id", "Title"])


def titles(at) -> list[str]:
    return [title.removesuffix(" (archived)") for title in table(at)["Title"]]


def select(at, positions: list[int]) -> None:
    """Select rows the way a click would, through the table's state."""
    ids = list(table(at)["id"])
    at.session_state[table_key(ids)] = {
        "selection": {"rows": positions, "columns": [], "cells": []}
    }
    at.run()
    assert not at.exception, at.exception


def button(at, key: str):
    return at.button(key=key)


def make_session(store, user, title, *, messages=(), kind="chat", when=None, **options):
    session = store.create_session(user.id, kind=kind, title=title)
    for index, text in enumerate(messages):
        store.add_message(
            user.id,
            session.id,
            "user" if index % 2 == 0 else "assistant",
            text,
            created_at=(when or NOW) + timedelta(seconds=index),
        )
    if options.get("tags"):
        store.set_tags(user.id, session.id, options["tags"])
    if options.get("pinned"):
        store.set_pinned(user.id, session.id, True)
    if options.get("archived"):
        store.set_archived(user.id, session.id, True)
    if options.get("tool"):
        store.record_tool_call(
            user.id,
            session.id,
            message_id=None,
            tool_use_id="toolu_1",
            name=options["tool"],
            input={},
            output="4",
        )
    return store.get_session(user.id, session.id)


@pytest.fixture
def corpus(app_store, alice, bob):
    """Alice's sessions of every sort, and one of Bob's that she must never see."""
    store = app_store
    rondo = make_session(
        store,
        alice,
        "Rondo warm-up",
        messages=["We play a rondo 4 v 2 to start.", "A rondo keeps the ball moving."],
        tags=["u12"],
        when=NOW - timedelta(days=2),
    )
    finishing = make_session(
        store,
        alice,
        "Finishing session",
        messages=["Shooting drill", "Finish low and hard", "Again", "More finishing"],
        tool="calculator",
        when=NOW - timedelta(days=20),
    )
    drill = make_session(
        store, alice, "Passing triangle", messages=["passing triangle drill"], kind="drill"
    )
    pinned = make_session(store, alice, "Season plan", messages=["plan the season"], pinned=True)
    archived = make_session(
        store, alice, "Old tryouts", messages=["tryouts rondo notes"], archived=True
    )
    theirs = make_session(store, bob, "Bob's rondo", messages=["rondo rondo rondo"], tags=["u12"])
    return {
        "rondo": rondo,
        "finishing": finishing,
        "drill": drill,
        "pinned": pinned,
        "archived": archived,
        "theirs": theirs,
    }


def test_lists_every_unarchived_session_with_its_columns(corpus):
    at = history()
    frame = table(at)
    assert set(titles(at)) == {
        "Rondo warm-up",
        "Finishing session",
        "Passing triangle",
        "Season plan",
    }
    assert titles(at)[0] == "Season plan"  # pinned first
    assert list(frame.columns) == [
        "id",
        "Pinned",
        "Title",
        "Kind",
        "Tags",
        "Messages",
        "Words",
        "Tools used",
        "Last activity",
        "Preview",
    ]
    row = frame[frame["id"] == corpus["finishing"].id].iloc[0]
    assert (row["Messages"], row["Tools used"], row["Kind"]) == (4, "calculator", "Chat")
    assert row["Words"] == corpus["finishing"].word_count
    assert "1–4 of 4" in page_text(at)
    assert "Bob's rondo" not in page_text(at)


def test_search_shows_sessions_with_their_hits_and_marked_snippets(corpus):
    """Each hit links to its message: `?session=ID&seq=N` on the page of its kind."""
    at = history()
    at.text_input(key="q").input("rondo").run()
    assert not at.exception
    assert titles(at) == ["Rondo warm-up"]  # archived hidden, Bob's never
    assert table(at)["Hits"].tolist() == [2]
    assert "2 matching messages" in page_text(at)
    labels = [link.proto.label for link in at.get("page_link")]
    assert any(":orange-background[**rondo**]" in label for label in labels)
    links = [
        link.proto.query_string for link in at.get("page_link") if "seq=" in link.proto.query_string
    ]
    session_id = corpus["rondo"].id
    assert sorted(links) == [f"session={session_id}&seq=1", f"session={session_id}&seq=2"]


def test_a_search_without_hits_says_so(corpus):
    at = history(q="volleyball")
    assert table(at).empty
    assert "No conversation matches this search." in page_text(at)


def test_the_address_is_a_bookmark(corpus):
    at = history(q="rondo", show="All")
    assert sorted(titles(at)) == ["Old tryouts", "Rondo warm-up"]
    assert at.text_input(key="q").value == "rondo"


@pytest.mark.parametrize(
    ("operator", "widget", "expected"),
    [
        ("tag:u12", {"tags": ["u12"]}, ["Rondo warm-up"]),
        ("kind:drill", {"kind": "drill"}, ["Passing triangle"]),
        ("tool:calculator", {"tool": "calculator"}, ["Finishing session"]),
        ("is:pinned", {"show": "pinned"}, ["Season plan"]),
        ("is:archived", {"show": "archived"}, ["Old tryouts"]),
    ],
)
def test_each_operator_means_what_its_widget_means(corpus, operator, widget, expected):
    typed = history(q=operator)
    assert sorted(titles(typed)) == expected
    picked = history()
    for key, value in widget.items():
        picked.session_state[key] = value
    picked.run()
    assert not picked.exception
    assert sorted(titles(picked)) == expected


def test_dates_filter_last_activity(corpus):
    since = (NOW - timedelta(days=10)).date().isoformat()
    at = history(q=f"after:{since}")
    assert "Finishing session" not in titles(at)
    assert "Rondo warm-up" in titles(at)
    until = (NOW - timedelta(days=10)).date().isoformat()
    at = history(q=f"before:{until}")
    assert titles(at) == ["Finishing session"]


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("Title", "Finishing session"),
        ("Most messages", "Finishing session"),
        ("Most words", "Rondo warm-up"),
    ],
)
def test_sorts(corpus, sort, first):
    at = history(sort=sort)
    unpinned = [title for title in titles(at) if title != "Season plan"]
    assert unpinned[0] == first


def test_pages_of_fifty_with_the_range_and_a_page_past_the_end(app_store, alice):
    for number in range(PAGE_SIZE * 2 + 5):
        app_store.create_session(alice.id, title=f"Session {number:03d}")
    at = history(sort="Title")
    assert len(table(at)) == PAGE_SIZE
    assert f"1–50 of {PAGE_SIZE * 2 + 5}" in page_text(at)
    at = history(sort="Title", page="2")
    assert titles(at)[0] == "Session 050"
    assert "51–100 of 105" in page_text(at)
    at = history(sort="Title", page="99")
    assert titles(at) == [f"Session {n:03d}" for n in range(100, 105)]
    assert "101–105 of 105" in page_text(at)
    at = history(sort="Title", page="nonsense")
    assert "1–50 of 105" in page_text(at)


def test_archive_three_selected_rows(corpus, app_store, alice):
    at = history(sort="Title")
    select(at, [0, 1, 2])
    chosen = list(table(at)["id"])[:3]
    assert "3 conversations selected" in page_text(at)
    button(at, "huddle_history_archive").click().run()
    assert not at.exception
    assert all(app_store.get_session(alice.id, sid).archived for sid in chosen)
    assert "Archived 3 conversations." in page_text(at)
    assert len(table(at)) == 1  # only the fourth is still unarchived


def test_selection_is_dropped_when_the_rows_change(corpus):
    at = history(sort="Title")
    select(at, [0, 1])
    at.text_input(key="q").input("rondo").run()
    assert not at.exception
    assert "selected" not in page_text(at)  # the rondo session was not among the two


def test_bulk_pin_and_tags(corpus, app_store, alice):
    at = history(sort="Title")
    select(at, [0, 1])
    chosen = list(table(at)["id"])[:2]
    button(at, "huddle_history_pin").click().run()
    assert all(app_store.get_session(alice.id, sid).pinned for sid in chosen)
    at = history(sort="Title")
    ids = list(table(at)["id"])
    select(at, [ids.index(chosen[0]), ids.index(chosen[1])])
    at.text_input(key="huddle_history_tag").input("Spring")
    button(at, "huddle_history_tag_add").click().run()
    assert not at.exception
    assert all("spring" in app_store.get_session(alice.id, sid).tag_names for sid in chosen)
    assert "Tagged “Spring”: 2 conversations." in page_text(at)


def test_delete_asks_first_and_says_what_goes(corpus, app_store, alice):
    at = history(sort="Title")
    ids = list(table(at)["id"])
    finishing = ids.index(corpus["finishing"].id)
    rondo = ids.index(corpus["rondo"].id)
    select(at, [finishing, rondo])
    button(at, "huddle_history_delete").click().run()
    assert "Delete 2 conversations with 6 messages? This cannot be undone." in page_text(at)
    assert app_store.list_sessions(alice.id).total == 4  # nothing yet
    button(at, "huddle_history_confirm_delete").click().run()
    assert not at.exception
    assert app_store.list_sessions(alice.id).total == 2
    assert "Deleted 2 conversations." in page_text(at)


def test_an_action_on_a_session_deleted_in_another_tab(corpus, app_store, alice):
    at = history(sort="Title")
    select(at, [0])
    gone = table(at)["id"].iloc[0]
    app_store.delete_session(alice.id, gone)
    button(at, "huddle_history_archive").click().run()
    assert not at.exception
    assert "Archived 0 conversations. 1 were already archived or are gone." in page_text(at)


def test_bad_queries_get_a_sentence_and_no_traceback(corpus):
    for query in ("x" * 10_000, "rondo\x00", "tag:u12 is:pinned", "tag:", "colour:red rondo"):
        at = history()
        at.text_input(key="q").input(query).run()
        assert not at.exception, query
    at = history(q="tag:")
    assert "needs a value" in page_text(at)
    at = history(q="after:2026-11-01 before:2026-10-01")
    assert not at.exception


def test_import_a_huddle_archive_after_its_preview(app_store, alice, bob):
    from core.archive_out import archive_bytes

    session = make_session(app_store, bob, "Bob's passing", messages=["one", "two"])
    data = archive_bytes(app_store, bob.id, session_ids=[session.id])
    at = history(tab="Import")
    [uploader] = at.get("file_uploader")
    uploader.upload("huddle.json", data, "application/json").run()
    assert not at.exception
    text = page_text(at)
    assert "Huddle archive" in text
    assert app_store.list_sessions(alice.id).total == 0  # previewed, nothing written
    button(at, "huddle_history_import_go").click().run()
    assert not at.exception
    [mine] = app_store.list_sessions(alice.id).items
    assert mine.title == "Bob's passing" and mine.message_count == 2
    assert app_store.list_sessions(bob.id).total == 1  # Bob's own copy untouched
    assert "Imported 1 conversation with 2 messages." in page_text(at)


def test_an_upload_that_is_not_an_export(alice, app_store):
    at = history(tab="Import")
    [uploader] = at.get("file_uploader")
    uploader.upload("notes.json", b"this is not json", "application/json").run()
    assert not at.exception
    assert at.error and app_store.list_sessions(alice.id).total == 0


def test_exports_of_the_selection_match_the_store(corpus, app_store, alice):
    from core.history import matching_session_ids
    from core.query import parse_history_query
    from ui.history_actions import export_builders
    from ui.services import Services

    class Coach:
        id = alice.id
        username = "alice"

    services = Services(settings=None, db=app_store.db, store=app_store, engine=None, turns=None)
    query = parse_history_query("rondo")
    ids = matching_session_ids(app_store, alice.id, query)
    assert ids == [corpus["rondo"].id]
    builders = {
        ext: build
        for _l, ext, _m, _i, build in export_builders(
            services, Coach, None, query=query, sort="recent", count=1
        )
    }
    frame = pd.read_csv(io.BytesIO(builders["csv"]()))
    assert frame["content"].tolist() == [
        m.content for m in app_store.list_messages(alice.id, corpus["rondo"].id)
    ]
    archive = json.loads(builders["json"]())
    assert [s["id"] for s in archive["sessions"]] == [corpus["rondo"].id]
    assert "rondo" in builders["md"]().decode()


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


def upload(at, name: str, data: bytes, mime: str = "application/json"):
    [uploader] = at.get("file_uploader")
    uploader.upload(name, data, mime).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    ("fixture", "label"),
    [
        ("chatgpt-conversations.json", "ChatGPT export"),
        ("claude-conversations.json", "Claude.ai export"),
    ],
)
@pytest.mark.parametrize("as_zip", [False, True])
def test_import_foreign_exports_once(app_store, alice, fixture, label, as_zip):
    data = (FIXTURES / fixture).read_bytes()
    name = "conversations.json"
    if as_zip:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr("export/conversations.json", data)
        data, name = buffer.getvalue(), "export.zip"
    conversations = json.loads((FIXTURES / fixture).read_text())
    at = upload(
        history(tab="Import"), name, data, "application/zip" if as_zip else "application/json"
    )
    assert f"**{label.replace('.', chr(92) + '.')}**" in page_text(at)  # as escaped Markdown
    assert app_store.list_sessions(alice.id).total == 0
    button(at, "huddle_history_import_go").click().run()
    assert not at.exception
    assert app_store.list_sessions(alice.id).total == len(conversations)
    # The same file again: everything is already there, nothing to import.
    at = upload(
        history(tab="Import"), name, data, "application/zip" if as_zip else "application/json"
    )
    assert "already in Huddle" in page_text(at)
    assert not [b for b in at.button if b.key == "huddle_history_import_go"]


def test_a_chatgpt_export_with_a_broken_tree_writes_nothing(app_store, alice):
    conversations = json.loads((FIXTURES / "chatgpt-conversations.json").read_text())
    first = conversations[0]["mapping"]
    child = next(node for node in first.values() if node.get("parent"))
    child["parent"] = "nowhere"
    at = upload(history(tab="Import"), "conversations.json", json.dumps(conversations).encode())
    [error] = at.error
    assert "broken message tree" in error.value
    assert app_store.list_sessions(alice.id).total == 0


def test_an_upload_over_the_limit_is_refused_with_a_sentence(app_store, alice):
    from core.file_import import MAX_IMPORT_BYTES

    at = upload(history(tab="Import"), "huge.json", b"[" + b" " * MAX_IMPORT_BYTES + b"]")
    [error] = at.error
    assert "MB" in error.value and "up to 200 MB" in error.value
    assert app_store.list_sessions(alice.id).total == 0


def test_one_session_rename_tags_and_open(corpus, app_store, alice):
    at = history(sort="Title")
    ids = list(table(at)["id"])
    select(at, [ids.index(corpus["rondo"].id)])
    links = [link.proto.query_string for link in at.get("page_link")]
    assert f"session={corpus['rondo'].id}" in links
    [title_box] = [box for box in at.text_input if box.label == "Title"]
    title_box.input("Rondo, two touches")
    [save] = [b for b in at.button if b.key and "huddle_history_rename" in b.key]
    save.click().run()
    assert not at.exception
    assert app_store.get_session(alice.id, corpus["rondo"].id).title == "Rondo, two touches"
    assert app_store.get_session(alice.id, corpus["rondo"].id).title_source == "user"

    at = history(sort="Title")
    ids = list(table(at)["id"])
    select(at, [ids.index(corpus["rondo"].id)])
    [tags] = [box for box in at.multiselect if box.label == "Tags" and box.form_id]
    tags.set_value(["u12", "spring"])
    [save] = [b for b in at.button if b.key and "huddle_history_tags" in b.key]
    save.click().run()
    assert not at.exception
    assert app_store.get_session(alice.id, corpus["rondo"].id).tag_names == ["spring", "u12"]
    assert "Tags saved: spring, u12." in page_text(at)


def test_archive_and_unarchive_one_session(corpus, app_store, alice):
    at = history(show="All", sort="Title")
    ids = list(table(at)["id"])
    select(at, [ids.index(corpus["archived"].id)])
    button(at, "huddle_history_unarchive").click().run()
    assert not app_store.get_session(alice.id, corpus["archived"].id).archived
    assert "Unarchived 1 conversation." in page_text(at)


def test_the_last_activity_widget_filters_like_the_operators(corpus):
    start = (NOW - timedelta(days=25)).date().isoformat()
    end = (NOW - timedelta(days=10)).date().isoformat()
    at = history(dates=[start, end])
    assert titles(at) == ["Finishing session"]
    assert titles(history(q=f"after:{start} before:{end}")) == ["Finishing session"]
