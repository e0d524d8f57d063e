"""Search grouped by session (the History page), on both databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text

import core.session_search
from core.db import Database
from core.errors import ValidationError
from core.query import parse_history_query
from core.session_list import SessionFilter
from core.session_search import search_sessions
from core.store import ConversationStore

T0 = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)


@dataclass
class Corpus:
    """Six sessions of coach1 (and one of coach2), each marked by what sets it apart."""

    plain: str
    tagged: str  # tags u12 and pressing
    drill: str  # kind drill, linked to a drill
    tooled: str  # a calculator call
    pinned: str
    archived: str
    old: str  # last activity in September
    others: str  # coach2's


def say(store, user, session_id, content, *, role="user", at=T0):
    return store.add_message(user.id, session_id, role, content, created_at=at).id


@pytest.fixture
def corpus(store: ConversationStore, coach, other_coach) -> Corpus:
    def session(title, kind="chat", lines=("rondo warm-up",), at=T0):
        chat = store.create_session(coach.id, kind=kind, title=title)
        for minute, line in enumerate(lines):
            say(store, coach, chat.id, line, at=at + timedelta(minutes=minute))
        return chat.id

    plain = session("Plain", lines=("rondo warm-up", "a rondo with two touches", "cones only"))
    tagged = session("Tagged", lines=("rondo for the u12s", "pressing after the rondo"))
    store.set_tags(coach.id, tagged, ["u12", "pressing"])
    drill = store.create_drill(coach.id, title="Rondo 4v1")
    drilled = session("Drill", kind="drill", lines=("build a rondo drill",))
    store.link_drill(coach.id, drilled, drill.id)
    tooled = session("Tooled", lines=("rondo space per player",))
    message_id = say(store, coach, tooled, "the rondo grid is 12 by 12", role="assistant")
    store.record_tool_call(
        coach.id,
        tooled,
        message_id=message_id,
        tool_use_id="t1",
        name="calculator",
        input={"expression": "144 / 5"},
        output="28.8",
    )
    pinned = session("Pinned", lines=("pinned rondo notes",))
    store.set_pinned(coach.id, pinned, True)
    archived = session("Archived", lines=("an archived rondo",))
    store.set_archived(coach.id, archived, True)
    old = session("Old", lines=("a september rondo",), at=datetime(2026, 9, 5, 9, 0, tzinfo=UTC))
    others = store.create_session(other_coach.id, title="Theirs").id
    for line in ("rondo rondo rondo", "rondo for u12", "rondo pressing"):
        say(store, other_coach, others, line)
    return Corpus(plain, tagged, drilled, tooled, pinned, archived, old, others)


def found(db, coach, text_, base=None, **options) -> list[str]:
    page = search_sessions(db, coach.id, parse_history_query(text_, base), **options)
    return [match.session.id for match in page.items]


def test_sessions_with_matching_messages_and_their_hit_counts(db, coach, corpus):
    page = search_sessions(db, coach.id, parse_history_query("rondo"), order="recent")
    hits = {match.session.id: match.hits for match in page.items}
    assert hits == {
        corpus.plain: 2,
        corpus.tagged: 2,
        corpus.drill: 1,
        corpus.tooled: 2,
        corpus.pinned: 1,
        corpus.old: 1,
    }  # the archived session is hidden by default, as in the listing
    assert page.total == 6
    assert not page.total_capped
    assert not any(match.hits_capped for match in page.items)


def test_no_hits_and_no_words_find_nothing(db, coach, corpus):
    for query in ("volleyball", "", "-rondo", "the of", "tag:u12", "kind:drill is:all"):
        page = search_sessions(db, coach.id, parse_history_query(query))
        assert (page.items, page.total) == ([], 0), query


def test_role_restricts_the_messages_that_count(db, coach, corpus):
    page = search_sessions(db, coach.id, parse_history_query("grid role:assistant"))
    assert [(m.session.id, m.hits) for m in page.items] == [(corpus.tooled, 1)]
    assert found(db, coach, "grid role:user") == []
    tooled = {
        m.session.id: m.hits
        for m in search_sessions(db, coach.id, parse_history_query("rondo role:user")).items
    }[corpus.tooled]
    assert tooled == 1


def base_for(corpus: Corpus, name: str) -> SessionFilter:
    return {
        "tag": SessionFilter(tags=("u12",)),
        "tags": SessionFilter(tags=("u12", "pressing")),
        "kind": SessionFilter(kind="drill"),
        "tool": SessionFilter(tool="calculator"),
        "pinned": SessionFilter(pinned=True),
        "archived": SessionFilter(archived=True),
        "all": SessionFilter(archived=None),
        "after": SessionFilter(since=datetime(2026, 10, 1, tzinfo=UTC)),
        "before": SessionFilter(until=datetime(2026, 10, 1, tzinfo=UTC)),
    }[name]


@pytest.mark.parametrize(
    ("operators", "widget", "expected"),
    [
        ("tag:u12", "tag", ["tagged"]),
        ("tag:u12 tag:pressing", "tags", ["tagged"]),
        ("kind:drill", "kind", ["drill"]),
        ("tool:calculator", "tool", ["tooled"]),
        ("is:pinned", "pinned", ["pinned"]),
        ("is:archived", "archived", ["archived"]),
        (
            "is:all",
            "all",
            ["plain", "tagged", "drill", "tooled", "pinned", "archived", "old"],
        ),
        ("after:2026-10-01", "after", ["plain", "tagged", "drill", "tooled", "pinned"]),
        ("before:2026-10-01", "before", ["old"]),
    ],
)
def test_every_operator_equals_its_widget(db, coach, corpus, operators, widget, expected):
    by_operator = found(db, coach, f"rondo {operators}", order="recent")
    by_widget = found(db, coach, "rondo", base_for(corpus, widget), order="recent")
    assert by_operator == by_widget
    assert sorted(by_operator) == sorted(getattr(corpus, name) for name in expected)


def test_the_drill_widget_filters_too(store, db, coach, corpus):
    drill_id = store.get_session(coach.id, corpus.drill).drill_id
    assert found(db, coach, "rondo", SessionFilter(drill_id=drill_id)) == [corpus.drill]


def test_operators_combined_with_words_phrases_and_exclusions(db, coach, corpus):
    assert found(db, coach, '"two touches" after:2026-10-01') == [corpus.plain]
    assert found(db, coach, '"two touches" before:2026-10-01') == []
    assert sorted(found(db, coach, "rondo -pressing -touches -grid after:2026-10-01")) == sorted(
        [corpus.plain, corpus.tagged, corpus.drill, corpus.tooled, corpus.pinned]
    )  # an exclusion drops messages, not sessions: plain and tagged have other rondo lines
    assert found(db, coach, "pressing OR touches tag:u12") == [corpus.tagged]
    assert found(db, coach, "rondo drill kind:drill") == [corpus.drill]
    assert found(db, coach, "rondo kind:chat tag:u12 is:pinned") == []


def test_another_coachs_sessions_never_appear_or_count(db, coach, other_coach, corpus):
    for query in ("rondo", "rondo is:all", "rondo tag:u12", "pressing"):
        page = search_sessions(db, coach.id, parse_history_query(query))
        assert corpus.others not in [m.session.id for m in page.items]
        assert all(m.session.user_id == coach.id for m in page.items)
        for match in page.items:
            assert all(hit.session_id == match.session.id for hit in match.snippets)
    theirs = search_sessions(db, other_coach.id, parse_history_query("rondo is:all"))
    assert [(m.session.id, m.hits) for m in theirs.items] == [(corpus.others, 3)]
    assert theirs.total == 1


def test_snippets_mark_matches_and_keep_the_best_three(store, db, coach):
    chat = store.create_session(coach.id, title="Many").id
    for minute in range(5):
        say(
            store,
            coach,
            chat,
            f"note {minute}: rondo & [x](y) 100%",
            at=T0 + timedelta(minutes=minute),
        )
    match = search_sessions(db, coach.id, parse_history_query("rondo")).items[0]
    assert match.hits == 5
    assert len(match.snippets) == 3
    for hit in match.snippets:
        assert "**rondo**" in hit.snippet
        assert "[x](y) 100%" in hit.snippet  # the text as stored; the page escapes it
        assert hit.session_id == chat and hit.session_title == "Many"
        assert hit.created_at.tzinfo is not None
    recent = search_sessions(db, coach.id, parse_history_query("rondo"), order="recent")
    assert [hit.seq for hit in recent.items[0].snippets] == [5, 4, 3]


def test_orders_and_pages(store, db, coach):
    focused = store.create_session(coach.id, title="Focused").id
    say(store, coach, focused, "rondo rondo rondo", at=T0)
    passing = store.create_session(coach.id, title="Passing").id
    say(
        store,
        coach,
        passing,
        "rondo then a long passing drill with many words in it",
        at=T0 + timedelta(hours=1),
    )
    assert found(db, coach, "rondo", order="relevance") == [focused, passing]
    assert found(db, coach, "rondo", order="recent") == [passing, focused]
    second = search_sessions(db, coach.id, parse_history_query("rondo"), limit=1, offset=1)
    assert [m.session.id for m in second.items] == [passing]
    assert (second.total, second.offset, second.limit, second.has_more) == (2, 1, 1, False)
    with pytest.raises(ValidationError):
        search_sessions(db, coach.id, parse_history_query("rondo"), order="title")


def test_counting_stops_at_the_cap_and_says_so(store, db, coach, monkeypatch):
    monkeypatch.setattr(core.session_search, "MATCH_CAP", 3)
    early = store.create_session(coach.id, title="Early").id
    for _ in range(3):
        say(store, coach, early, "rondo", at=datetime.now(UTC))
    late = store.create_session(coach.id, title="Late").id
    for _ in range(2):
        say(store, coach, late, "rondo", at=datetime.now(UTC))
    page = search_sessions(db, coach.id, parse_history_query("rondo"), order="recent")
    assert page.total_capped
    assert [(m.session.id, m.hits, m.hits_capped) for m in page.items] == [
        (late, 2, False),  # begun after the oldest match counted: all of its matches are in
        (early, 1, True),
    ]


def test_sqlite_walks_the_fts_index_first(sqlite_url):
    # The plan that keeps a common word cheap: FTS5 drives, each match finds its
    # message by primary key, and the kept sessions are one list subquery, so
    # no filter turns into a scan of the coach's messages or sessions.
    db = Database(sqlite_url)
    db.migrate()
    store = ConversationStore(db)
    coach = store.create_user("coach1")
    say(store, coach, store.create_session(coach.id, title="A").id, "rondo")
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "messages_fts MATCH" in statement and "LIMIT" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    query = parse_history_query("rondo tag:u12 tool:calculator kind:chat after:2026-01-01")
    search_sessions(db, coach.id, query)
    event.remove(db.engine, "before_cursor_execute", keep)
    statement, parameters = statements[0]
    with db.engine.connect() as connection:
        plan = [
            row[3]
            for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
    db.dispose()
    assert plan[0].startswith("SCAN messages_fts VIRTUAL TABLE"), plan
    assert plan[1].startswith("SEARCH m USING INTEGER PRIMARY KEY"), plan
    scanned = [step.split()[1] for step in plan if step.startswith("SCAN ")]
    assert scanned == ["messages_fts"], plan


def test_hostile_queries_never_raise(db, coach, corpus):
    for query in ('"', "-", "OR", "tag:", "x" * 10_000, "rondo\x00", "\ud800rondo", 'NEAR(x "a" *'):
        search_sessions(db, coach.id, parse_history_query(query))
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM chat_sessions")).scalar() == 8


@pytest.fixture
def busy(store, coach):
    """Twelve sessions of four messages, every other one a match (the assistant's); two tagged."""
    ids = []
    for index in range(12):
        chat = store.create_session(coach.id, title=f"S{index}").id
        for line in range(4):
            content, role = ("rondo with players", "assistant") if line % 2 else ("bibs", "user")
            say(
                store, coach, chat, content, role=role, at=T0 + timedelta(hours=index, minutes=line)
            )
        ids.append(chat)
    store.set_tags(coach.id, ids[0], ["u12"])
    store.set_tags(coach.id, ids[1], ["u12"])
    return ids


def page_of(db, coach, text_):
    page = search_sessions(db, coach.id, parse_history_query(text_), order="recent")
    items = [(m.session.id, m.hits, m.hits_capped) for m in page.items]
    return items, page.total, page.total_capped


# PostgreSQL's ways to the newest matches (core/search.py's probe, walk and
# gated GIN scan): the thresholds as shipped walk this small corpus, WALK_MOST
# 0 always takes the GIN scan, and a probe that finds nothing (10 messages, a
# selective filter) takes it too. SQLite ignores them and must agree.
WAYS = {
    "walk": {},
    "gin": {"WALK_MOST": 0},
    "sparse probe": {"PROBE_ROWS": 10, "WALK_FACTOR": 1},
}


@pytest.mark.parametrize("way", list(WAYS))
def test_every_way_to_the_matches_finds_the_same_page(db, coach, busy, monkeypatch, way):
    monkeypatch.setattr(core.session_search, "MATCH_CAP", 3)
    for name, value in WAYS[way].items():
        monkeypatch.setattr(core.session_search, name, value)
    # Capped at the newest 3 matches (sessions created now, after their messages,
    # so none says its count may be short).
    assert page_of(db, coach, "rondo") == (
        [(busy[11], 2, False), (busy[10], 1, False)],
        2,
        True,
    )
    # The filter keeps the two oldest sessions: their 4 matches are all older
    # than the 44 messages after them, which a walk must pass or the GIN find.
    assert page_of(db, coach, "players tag:u12") == (
        [(busy[1], 2, False), (busy[0], 1, False)],
        2,
        True,
    )
    assert page_of(db, coach, "bibs role:assistant") == ([], 0, False)
    monkeypatch.setattr(core.session_search, "MATCH_CAP", 2_000)
    items, total, capped = page_of(db, coach, "rondo")
    assert (total, capped) == (12, False)
    assert [entry[0] for entry in items] == busy[::-1]
    assert {entry[1] for entry in items} == {2}


@pytest.mark.parametrize("probe_rows", [1_000, 8])
def test_a_walk_that_falls_short_is_completed_by_the_gin_scan(
    store, db, coach, busy, monkeypatch, probe_rows
):
    # Tagged: the two newest sessions and the two oldest. An 8-message probe
    # sees 4 matches and plans a walk of 44 of the 48 messages, which finds 6
    # of the 11 wanted; the GIN scan must then bring the oldest session's too.
    monkeypatch.setattr(core.session_search, "MATCH_CAP", 10)
    monkeypatch.setattr(core.session_search, "PROBE_ROWS", probe_rows)
    monkeypatch.setattr(core.session_search, "WALK_FACTOR", 1)
    for chat in (busy[11], busy[10]):
        store.set_tags(coach.id, chat, ["u12"])
    expected = [(chat, 2, False) for chat in (busy[11], busy[10], busy[1], busy[0])]
    assert page_of(db, coach, "players tag:u12") == (expected, 4, False)
    assert page_of(db, coach, "rondo tag:u12 role:assistant") == (expected, 4, False)
