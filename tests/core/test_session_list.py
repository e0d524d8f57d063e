"""Session listing and bulk actions on SQLite and PostgreSQL: filters, sorts, pages, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import NotFound, ValidationError
from core.store import (
    MAX_TAGS,
    SESSION_SORTS,
    BulkBatch,
    SessionFilter,
    SessionsSummary,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _tool(store, coach, chat_id, name, at=None):
    message = store.add_message(coach.id, chat_id, "assistant", f"using {name}", created_at=at)
    store.record_tool_call(
        coach.id,
        chat_id,
        message_id=message.id,
        tool_use_id=f"t-{name}",
        name=name,
        input={},
        output="ok",
    )


@pytest.fixture
def corpus(store, coach, other_coach):
    """Six sessions of coach1 with known activity, counts, tags and tools; one of coach2."""
    drill = store.create_drill(coach.id, title="Rondo")
    specs = {
        # name: (kind, days ago of last activity, words of its one message)
        "alpha": ("chat", 1, 3),
        "bravo": ("drill", 2, 8),
        "charlie": ("chat", 3, 1),
        "delta": ("chat", 10, 5),
        "echo": ("drill", 20, 2),
        "foxtrot": ("chat", 30, 13),
    }
    ids = {}
    for name, (kind, days, words) in specs.items():
        chat = store.create_session(coach.id, kind=kind, title=name.capitalize())
        ids[name] = chat.id
        store.add_message(
            coach.id,
            chat.id,
            "user",
            " ".join(["word"] * words),
            created_at=NOW - timedelta(days=days),
        )
    # Make message counts differ from word counts: charlie gets two more messages.
    for _ in range(2):
        store.add_message(coach.id, ids["charlie"], "user", "x", created_at=NOW - timedelta(days=3))
    store.set_tags(coach.id, ids["alpha"], ["u12", "passing"])
    store.set_tags(coach.id, ids["bravo"], ["u12"])
    store.set_tags(coach.id, ids["delta"], ["passing"])
    # Each tool turn is one assistant message of two words, at the session's activity time.
    _tool(store, coach, ids["bravo"], "calculator", NOW - timedelta(days=2))
    _tool(store, coach, ids["delta"], "calculator", NOW - timedelta(days=10))
    _tool(store, coach, ids["delta"], "word_count", NOW - timedelta(days=10))
    store.link_drill(coach.id, ids["echo"], drill.id)
    store.set_pinned(coach.id, ids["delta"], True)
    store.set_archived(coach.id, ids["foxtrot"], True)
    theirs = store.create_session(other_coach.id, title="Alpha theirs")
    store.set_tags(other_coach.id, theirs.id, ["u12"])
    _tool(store, other_coach, theirs.id, "calculator")
    return {"ids": ids, "drill": drill, "theirs": theirs.id}


def titles(store, coach, filters=None, **kwargs):
    return [chat.title for chat in store.list_sessions(coach.id, filters, **kwargs).items]


def test_each_filter(store, coach, corpus):
    drill_id = corpus["drill"].id
    # pinned delta first, then most recent activity; archived foxtrot hidden
    assert titles(store, coach) == ["Delta", "Alpha", "Bravo", "Charlie", "Echo"]
    assert titles(store, coach, SessionFilter(archived=True)) == ["Foxtrot"]
    assert titles(store, coach, SessionFilter(archived=None))[-1] == "Foxtrot"
    assert titles(store, coach, SessionFilter(kind="drill")) == ["Bravo", "Echo"]
    assert titles(store, coach, SessionFilter(pinned=True)) == ["Delta"]
    assert titles(store, coach, SessionFilter(pinned=False))[0] == "Alpha"
    assert titles(store, coach, SessionFilter(tags=("u12",))) == ["Alpha", "Bravo"]
    assert titles(store, coach, SessionFilter(tags=("U12 ", "passing"))) == ["Alpha"]
    assert titles(store, coach, SessionFilter(tags=("u12", "nope"))) == []
    assert titles(store, coach, SessionFilter(tool="calculator")) == ["Delta", "Bravo"]
    assert titles(store, coach, SessionFilter(tool="word_count")) == ["Delta"]
    assert titles(store, coach, SessionFilter(tool="search_history")) == []
    assert titles(store, coach, SessionFilter(drill_id=drill_id)) == ["Echo"]
    assert titles(store, coach, SessionFilter(since=NOW - timedelta(days=2, hours=1))) == [
        "Alpha",
        "Bravo",
    ]
    assert titles(
        store,
        coach,
        SessionFilter(since=NOW - timedelta(days=10), until=NOW - timedelta(days=2)),
    ) == ["Delta", "Charlie"]
    assert titles(store, coach, SessionFilter(title_contains="HAR")) == ["Charlie"]
    assert titles(store, coach, SessionFilter(title_contains="_")) == []


def test_filters_combined(store, coach, corpus):
    assert titles(store, coach, SessionFilter(tool="calculator", tags=("u12",))) == ["Bravo"]
    assert titles(store, coach, SessionFilter(tool="calculator", kind="chat")) == ["Delta"]
    assert titles(
        store, coach, SessionFilter(tags=("passing",), since=NOW - timedelta(days=5))
    ) == ["Alpha"]
    assert titles(store, coach, SessionFilter(kind="drill", archived=None, title_contains="o")) == [
        "Bravo",
        "Echo",
    ]
    assert titles(store, coach, SessionFilter(pinned=True, tool="calculator")) == ["Delta"]
    assert titles(store, coach, SessionFilter(pinned=True, kind="drill")) == []


def test_each_sort_keeps_pinned_first(store, coach, corpus):
    every = SessionFilter(archived=None)
    assert titles(store, coach, every, sort="recent") == [
        "Delta",
        "Alpha",
        "Bravo",
        "Charlie",
        "Echo",
        "Foxtrot",
    ]
    assert titles(store, coach, every, sort="title") == [
        "Delta",
        "Alpha",
        "Bravo",
        "Charlie",
        "Echo",
        "Foxtrot",
    ]
    # created: the order the fixture created them, newest first
    assert titles(store, coach, every, sort="created") == [
        "Delta",
        "Foxtrot",
        "Echo",
        "Charlie",
        "Bravo",
        "Alpha",
    ]
    # messages: bravo and delta carry their tool turn (2), charlie 3, the rest 1
    messages = store.list_sessions(coach.id, every, sort="messages").items
    assert [c.title for c in messages][:2] == ["Delta", "Charlie"]
    counts = [c.message_count for c in messages[1:]]
    assert counts == sorted(counts, reverse=True)
    words = store.list_sessions(coach.id, every, sort="words").items
    assert words[0].title == "Delta"
    assert [c.title for c in words[1:3]] == ["Foxtrot", "Bravo"]
    counts = [c.word_count for c in words[1:]]
    assert counts == sorted(counts, reverse=True)
    assert set(SESSION_SORTS) == {"recent", "created", "title", "messages", "words"}
    with pytest.raises(ValidationError, match="sort"):
        store.list_sessions(coach.id, sort="relevance")


def test_ties_are_broken_by_id_so_pages_never_repeat(store, coach):
    chats = [store.create_session(coach.id, title="Same") for _ in range(7)]
    seen = []
    for offset in range(0, 7, 3):
        page = store.list_sessions(coach.id, sort="title", limit=3, offset=offset)
        seen += [chat.id for chat in page.items]
    assert sorted(seen) == sorted(chat.id for chat in chats)
    assert len(set(seen)) == 7


def test_pagination_edges(store, coach):
    for n in range(7):
        store.create_session(coach.id, title=f"S{n}")
    full = [c.id for c in store.list_sessions(coach.id, limit=500).items]
    last = store.list_sessions(coach.id, limit=3, offset=6)
    assert ([c.id for c in last.items], last.total, last.has_more) == (full[6:], 7, False)
    exact = store.list_sessions(coach.id, limit=3, offset=3)
    assert ([c.id for c in exact.items], exact.has_more) == (full[3:6], True)
    past = store.list_sessions(coach.id, limit=3, offset=30)
    assert (past.items, past.total, past.has_more) == ([], 7, False)
    clamped = store.list_sessions(coach.id, limit=0, offset=-5)
    assert (clamped.limit, clamped.offset, len(clamped.items)) == (1, 0, 1)
    assert store.list_sessions(coach.id, limit=10_000).limit == 500


def test_bad_filters_are_refused(store, coach):
    with pytest.raises(ValidationError, match="kind"):
        store.list_sessions(coach.id, SessionFilter(kind="party"))
    with pytest.raises(ValidationError, match="before its start"):
        store.list_sessions(coach.id, SessionFilter(since=NOW, until=NOW - timedelta(days=1)))
    with pytest.raises(ValidationError):
        store.list_sessions(coach.id, SessionFilter(tags=("nul\x00",)))
    # blank tags mean no tag filter rather than "a tag called ''"
    store.create_session(coach.id)
    assert store.list_sessions(coach.id, SessionFilter(tags=("", "  "))).total == 1


def test_listing_is_scoped_to_the_coach(store, coach, other_coach, corpus):
    theirs = corpus["theirs"]
    for filters in (
        SessionFilter(archived=None),
        SessionFilter(tags=("u12",)),
        SessionFilter(tool="calculator"),
        SessionFilter(title_contains="theirs"),
    ):
        ids = [c.id for c in store.list_sessions(coach.id, filters).items]
        assert theirs not in ids
        assert theirs not in store.session_ids_matching(coach.id, filters)
    assert titles(store, other_coach, SessionFilter(tool="calculator")) == ["Alpha theirs"]
    assert titles(store, other_coach, SessionFilter(drill_id=corpus["drill"].id)) == []
    assert store.list_tool_names(coach.id) == ["calculator", "word_count"]
    assert store.list_tool_names(other_coach.id) == ["calculator"]


def test_session_ids_matching_lists_every_match_in_order(store, coach, corpus):
    every = SessionFilter(archived=None)
    page = store.list_sessions(coach.id, every, sort="words", limit=500)
    assert store.session_ids_matching(coach.id, every, sort="words") == [c.id for c in page.items]
    assert store.session_ids_matching(coach.id, SessionFilter(tool="calculator")) == [
        corpus["ids"]["delta"],
        corpus["ids"]["bravo"],
    ]
    assert store.session_ids_matching(coach.id, SessionFilter(tags=("none",))) == []


def test_last_activity_follows_every_write_path(store, coach):
    chat = store.create_session(coach.id)
    assert chat.last_activity_at == chat.created_at
    message = store.add_message(coach.id, chat.id, "user", "hi", created_at=NOW)
    assert store.get_session(coach.id, chat.id).last_activity_at == message.created_at == NOW
    # The bulk path (archive import, demo-data) derives it when the row does not carry it.
    store.insert_bulk(
        BulkBatch(
            sessions=[
                _bulk_session(coach.id, "s-with-messages", last_message_at=NOW),
                _bulk_session(coach.id, "s-empty", last_message_at=None),
            ]
        )
    )
    assert store.get_session(coach.id, "s-with-messages").last_activity_at == NOW
    empty = store.get_session(coach.id, "s-empty")
    assert empty.last_activity_at == empty.created_at == NOW - timedelta(days=9)


def _bulk_session(user_id, session_id, **values):
    return {
        "id": session_id,
        "user_id": user_id,
        "kind": "chat",
        "title": session_id,
        "title_source": "auto",
        "drill_id": None,
        "model": None,
        "pinned": False,
        "archived": False,
        "metadata": {},
        "message_count": 0,
        "word_count": 0,
        "last_seq": 0,
        "preview": "",
        "created_at": NOW - timedelta(days=9),
        "updated_at": NOW - timedelta(days=9),
        **values,
    }


# ---------------------------------------------------------------- bulk actions


def test_pin_and_archive_many_count_only_changes(store, coach, corpus):
    ids = corpus["ids"]
    chosen = [ids["alpha"], ids["bravo"], ids["delta"], "missing", corpus["theirs"]]
    # delta is already pinned: two change, not three
    assert store.set_pinned_many(coach.id, chosen, True) == 2
    assert store.set_pinned_many(coach.id, chosen, True) == 0
    assert titles(store, coach, SessionFilter(pinned=True)) == ["Alpha", "Bravo", "Delta"]
    assert store.set_pinned_many(coach.id, [ids["alpha"], ids["alpha"]], False) == 1
    assert store.set_archived_many(coach.id, chosen, True) == 3
    assert titles(store, coach) == ["Charlie", "Echo"]
    assert store.set_archived_many(coach.id, [ids["alpha"], ids["foxtrot"]], False) == 2
    assert store.set_archived_many(coach.id, [], True) == 0
    theirs = store.get_session(store.get_user("coach2").id, corpus["theirs"])
    assert (theirs.pinned, theirs.archived) == (False, False)


def test_tag_many(store, coach, other_coach, corpus):
    ids = corpus["ids"]
    chosen = [ids["alpha"], ids["charlie"], ids["echo"], "missing", corpus["theirs"]]
    # alpha already has u12: charlie and echo gain it
    assert store.add_tag_many(coach.id, chosen, " U12") == 2
    assert titles(store, coach, SessionFilter(tags=("u12",))) == [
        "Alpha",
        "Bravo",
        "Charlie",
        "Echo",
    ]
    assert store.add_tag_many(coach.id, chosen, "u12") == 0
    assert store.remove_tag_many(coach.id, [*chosen, ids["bravo"]], "u12") == 4
    assert titles(store, coach, SessionFilter(tags=("u12",))) == []
    assert store.remove_tag_many(coach.id, chosen, "u12") == 0
    assert store.get_session(other_coach.id, corpus["theirs"]).tag_names == ["u12"]
    assert store.add_tag_many(other_coach.id, [ids["alpha"]], "stolen") == 0
    assert "stolen" not in store.get_session(coach.id, ids["alpha"]).tag_names
    for bad in ("", "   ", "x" * 65, "nul\x00"):
        with pytest.raises(ValidationError):
            store.add_tag_many(coach.id, chosen, bad)


def test_tag_many_skips_a_session_already_at_the_limit(store, coach):
    full = store.create_session(coach.id)
    store.set_tags(coach.id, full.id, [f"t{n}" for n in range(MAX_TAGS)])
    roomy = store.create_session(coach.id)
    assert store.add_tag_many(coach.id, [full.id, roomy.id], "extra") == 1
    assert "extra" not in store.get_session(coach.id, full.id).tag_names
    assert store.get_session(coach.id, roomy.id).tag_names == ["extra"]
    # a tag it already has is no change either, limit or not
    assert store.add_tag_many(coach.id, [full.id], "t0") == 0


def test_summary_and_delete_many(store, coach, other_coach, corpus):
    ids = corpus["ids"]
    chosen = [ids["alpha"], ids["charlie"], ids["charlie"], "missing", corpus["theirs"]]
    assert store.sessions_summary(coach.id, chosen) == SessionsSummary(sessions=2, messages=4)
    assert store.sessions_summary(coach.id, []) == SessionsSummary(sessions=0, messages=0)
    assert store.delete_sessions(coach.id, chosen) == 2
    with pytest.raises(NotFound):
        store.get_session(coach.id, ids["alpha"])
    assert store.get_session(other_coach.id, corpus["theirs"]).message_count == 1
    assert store.list_sessions(coach.id, SessionFilter(archived=None)).total == 4


def test_bulk_actions_take_twenty_thousand_ids(store, coach):
    chats = [store.create_session(coach.id) for _ in range(3)]
    ids = [f"missing-{n}" for n in range(20_000)] + [chat.id for chat in chats]
    assert store.set_archived_many(coach.id, ids, True) == 3
    assert store.add_tag_many(coach.id, ids, "big") == 3
    assert store.sessions_summary(coach.id, ids) == SessionsSummary(sessions=3, messages=0)
    assert store.remove_tag_many(coach.id, ids, "big") == 3
    assert store.delete_sessions(coach.id, ids) == 3


def test_bulk_action_is_one_transaction(store, coach, monkeypatch):
    """A failure in a later batch leaves the earlier batches unchanged."""
    import core.session_list as session_list

    chats = [store.create_session(coach.id) for _ in range(4)]
    monkeypatch.setattr(session_list, "ID_BATCH", 2)
    original = session_list._batches

    def failing(ids):
        for index, batch in enumerate(original(ids)):
            if index == 1:
                raise RuntimeError("database went away")
            yield batch

    monkeypatch.setattr(session_list, "_batches", failing)
    with pytest.raises(RuntimeError):
        store.set_archived_many(coach.id, [chat.id for chat in chats], True)
    assert store.list_sessions(coach.id).total == 4


def test_migration_backfills_last_activity(db, store, coach):
    """0002 on a database that already holds sessions: activity = last message, else creation."""
    from alembic import command

    from core.db import _alembic_config

    chat = store.create_session(coach.id)
    store.add_message(coach.id, chat.id, "user", "hi", created_at=NOW)
    empty = store.create_session(coach.id)
    with db.engine.connect() as connection:
        command.downgrade(_alembic_config(connection), "0001")
        connection.commit()
    with db.engine.connect() as connection:
        command.upgrade(_alembic_config(connection), "head")
        connection.commit()
    assert store.get_session(coach.id, chat.id).last_activity_at == NOW
    assert store.get_session(coach.id, empty.id).last_activity_at == empty.created_at
    assert [c.id for c in store.list_sessions(coach.id).items] == [empty.id, chat.id]
