"""Full-text search: the query language, filters, order, snippets and safety, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text

import core.search
from core.db import Database
from core.errors import ValidationError
from core.search import ParsedQuery, fts5_match, matching_session_ids, parse_query
from core.store import ConversationStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def add_session(store: ConversationStore, user, title: str, kind: str = "chat") -> str:
    return store.create_session(user.id, kind=kind, title=title).id


def say(
    store: ConversationStore,
    user,
    session_id: str,
    content: str,
    *,
    role: str = "user",
    minutes: int = 0,
) -> int:
    """Store a message `minutes` after T0 and return its id."""
    message = store.add_message(
        user.id, session_id, role, content, created_at=T0 + timedelta(minutes=minutes)
    )
    return message.id


def found(store: ConversationStore, user, query: str, **options) -> list[str]:
    """The contents of the matching messages, in the order search returns them."""
    hits = store.search_messages(user.id, query, **options)
    return [store.get_message(user.id, hit.message_id).content for hit in hits]


@pytest.fixture
def chat(store, coach) -> str:
    return add_session(store, coach, "Tuesday session")


# ---------------------------------------------------------------- parsing


def words(parsed: ParsedQuery) -> tuple[list[list[str]], list[str]]:
    return (
        [[term.text for term in group] for group in parsed.required],
        [term.text for term in parsed.excluded],
    )


@pytest.mark.parametrize(
    ("query", "required", "excluded"),
    [
        ("passing drill", [["passing"], ["drill"]], []),
        ("passing drill OR game", [["passing"], ["drill", "game"]], []),
        ("a OR b", [["b"]], []),  # "a" is a stop word: the OR has one side left
        ("rondo OR press OR overload", [["rondo", "press", "overload"]], []),
        ("OR rondo OR", [["rondo"]], []),
        ("rondo OR OR press", [["rondo", "press"]], []),
        ("rondo or press", [["rondo"], ["press"]], []),  # lower-case "or" is a stop word
        ("drill the OR game", [["drill"], ["game"]], []),  # as websearch_to_tsquery reads it
        ('"pass the ball" -"long ball" -cones', [["pass the ball"]], ["long ball", "cones"]),
        ("rondo -press OR overload", [["rondo"], ["overload"]], ["press"]),
        ('"unclosed phrase', [["unclosed phrase"]], []),
        ("-cones -bibs", [], ["cones", "bibs"]),
        ("the of and", [], []),
        ("- -- ... ** () :", [], []),
    ],
)
def test_parse_query(query, required, excluded):
    assert words(parse_query(query)) == (required, excluded)


def test_parse_query_caps_terms_and_length():
    parsed = parse_query(" ".join(f"word{i}" for i in range(5_000)))
    assert len(parsed.required) == core.search.MAX_TERMS
    assert parse_query("x" * 100_000).required[0][0].text == "x" * core.search.MAX_QUERY_CHARS


def test_fts5_match_quotes_every_token_and_confines_words_to_content():
    # Operators, quotes and column names typed by a person stay plain words.
    match = fts5_match(parse_query('user_id:7 NEAR(x "ab" * OR -"b c'), user_id=3)
    assert match == (
        '(user_id : "3" AND content : (("user id 7") AND ("near x") AND ("ab")))'
        ' NOT content : ("b c")'
    )


def test_fts5_match_turns_inner_stop_words_into_near():
    match = fts5_match(parse_query('"the pass to the far post"'), user_id=1)
    assert match == '(user_id : "1" AND content : ((NEAR("pass" "far post", 2))))'


# ------------------------------------------------------------ the language


def test_every_word_must_match(store, coach, chat):
    say(store, coach, chat, "A passing drill for defenders")
    say(store, coach, chat, "A passing game")
    say(store, coach, chat, "A finishing drill")
    assert found(store, coach, "passing drill") == ["A passing drill for defenders"]


def test_quoted_phrase_keeps_word_order(store, coach, chat):
    say(store, coach, chat, "Run the passing drill twice", minutes=1)
    say(store, coach, chat, "The drill: passing in pairs", minutes=2)
    assert found(store, coach, '"passing drill"') == ["Run the passing drill twice"]
    assert set(found(store, coach, "passing drill")) == {
        "Run the passing drill twice",
        "The drill: passing in pairs",
    }


def test_stop_words_inside_a_phrase_hold_their_place(store, coach, chat):
    say(store, coach, chat, "Always pass the ball early", minutes=1)
    say(store, coach, chat, "Pass a ball to your partner", minutes=2)
    say(store, coach, chat, "Pass it to the man with the ball", minutes=3)
    assert set(found(store, coach, '"pass the ball"')) == {
        "Always pass the ball early",
        "Pass a ball to your partner",
    }


def test_phrase_with_a_repeated_word_needs_both(store, coach, chat):
    say(store, coach, chat, "Play 3 on 3 to finish", minutes=1)
    say(store, coach, chat, "Run 3 laps", minutes=2)
    assert found(store, coach, '"3 on 3"') == ["Play 3 on 3 to finish"]
    assert found(store, coach, "3-on-3") == ["Play 3 on 3 to finish"]


def test_or_binds_tighter_than_and(store, coach, chat):
    say(store, coach, chat, "passing drill", minutes=1)
    say(store, coach, chat, "passing game", minutes=2)
    say(store, coach, chat, "passing warm-up", minutes=3)
    say(store, coach, chat, "drill game", minutes=4)
    assert set(found(store, coach, "passing drill OR game")) == {"passing drill", "passing game"}


def test_excluded_words_and_phrases(store, coach, chat):
    say(store, coach, chat, "Rondo with cones", minutes=1)
    say(store, coach, chat, "Rondo in a small sided game", minutes=2)
    say(store, coach, chat, "Rondo, small and sided", minutes=3)
    assert set(found(store, coach, "rondo -cones")) == {
        "Rondo in a small sided game",
        "Rondo, small and sided",
    }
    assert set(found(store, coach, 'rondo -"small sided"')) == {
        "Rondo with cones",
        "Rondo, small and sided",
    }


def test_english_stemming(store, coach, chat):
    say(store, coach, chat, "She passes well", minutes=1)
    say(store, coach, chat, "He passed it", minutes=2)
    say(store, coach, chat, "Passing lanes", minutes=3)
    say(store, coach, chat, "A passport check", minutes=4)
    expected = {"She passes well", "He passed it", "Passing lanes"}
    assert set(found(store, coach, "passing")) == expected
    assert set(found(store, coach, "pass")) == expected


def test_accents_are_not_folded(store, coach, chat):
    say(store, coach, chat, "Über drill", minutes=1)
    say(store, coach, chat, "Uber drill", minutes=2)
    assert found(store, coach, "über") == ["Über drill"]


@pytest.mark.parametrize("query", ["", "   ", "the", "the and of it", '"to be"', "-drill", "--"])
def test_queries_with_nothing_positive_find_nothing(store, coach, chat, query):
    say(store, coach, chat, "To be or not to be, the drill")
    assert store.search_messages(coach.id, query) == []


# --------------------------------------------------------- scope and filters


def test_another_coachs_messages_are_never_returned(store, coach, other_coach, chat):
    theirs = add_session(store, other_coach, "Their session")
    say(store, other_coach, theirs, "Secret rondo plan")
    say(store, coach, chat, "My rondo plan")
    assert found(store, coach, "rondo") == ["My rondo plan"]
    assert store.search_messages(coach.id, "secret") == []
    assert store.search_messages(coach.id, "rondo", session_id=theirs) == []
    # Naming the other coach's id in the query only searches for those words.
    hits = store.search_messages(coach.id, f"rondo OR user_id:{other_coach.id}")
    assert [hit.session_id for hit in hits] == [chat]
    assert matching_session_ids(store.db, coach.id, "secret") == []


def test_filters(store, coach, chat):
    drill = add_session(store, coach, "Drill builder", kind="drill")
    say(store, coach, chat, "rondo question", role="user", minutes=10)
    say(store, coach, chat, "rondo answer", role="assistant", minutes=20)
    say(store, coach, drill, "rondo drill request", role="user", minutes=30)
    say(store, coach, drill, "rondo drill made", role="assistant", minutes=40)
    everything = {"rondo question", "rondo answer", "rondo drill request", "rondo drill made"}
    assert set(found(store, coach, "rondo")) == everything
    assert set(found(store, coach, "rondo", kind="drill")) == {
        "rondo drill request",
        "rondo drill made",
    }
    assert set(found(store, coach, "rondo", role="assistant")) == {
        "rondo answer",
        "rondo drill made",
    }
    # since is inclusive, until exclusive.
    window = {"since": T0 + timedelta(minutes=20), "until": T0 + timedelta(minutes=40)}
    assert set(found(store, coach, "rondo", **window)) == {"rondo answer", "rondo drill request"}
    assert set(found(store, coach, "rondo", session_id=chat)) == {
        "rondo question",
        "rondo answer",
    }
    assert set(found(store, coach, "rondo", exclude_session_id=chat)) == {
        "rondo drill request",
        "rondo drill made",
    }
    assert found(store, coach, "rondo", kind="chat", role="assistant", session_id=chat) == [
        "rondo answer"
    ]


def test_bad_filter_values_are_validation_errors(store, coach):
    with pytest.raises(ValidationError):
        store.search_messages(coach.id, "rondo", kind="meeting")
    with pytest.raises(ValidationError):
        store.search_messages(coach.id, "rondo", role="coach")
    with pytest.raises(ValidationError):
        store.search_messages(coach.id, "rondo", order="alphabetical")


def test_archived_sessions_are_searched(store, coach, chat):
    say(store, coach, chat, "Archived rondo notes")
    store.set_archived(coach.id, chat, True)
    assert found(store, coach, "rondo") == ["Archived rondo notes"]


def test_hit_carries_session_and_message_details(store, coach):
    drill = add_session(store, coach, "U12 rondo builder", kind="drill")
    say(store, coach, drill, "Hello", minutes=1)
    message_id = say(store, coach, drill, "Build me a rondo", role="assistant", minutes=2)
    [hit] = store.search_messages(coach.id, "rondo")
    assert hit.message_id == message_id
    assert (hit.session_id, hit.session_title, hit.session_kind) == (
        drill,
        "U12 rondo builder",
        "drill",
    )
    assert (hit.seq, hit.role) == (2, "assistant")
    assert hit.created_at == T0 + timedelta(minutes=2)


def test_snippet_marks_each_match(store, coach, chat):
    before = " ".join(f"before{i}" for i in range(100))
    after = " ".join(f"after{i}" for i in range(100))
    say(store, coach, chat, f"{before} then the passing drill starts {after}")
    [hit] = store.search_messages(coach.id, "pass drill")
    assert "**passing** **drill**" in hit.snippet
    # A window around the matches, not the whole message.
    assert "before0 " not in hit.snippet
    assert "after99" not in hit.snippet


# --------------------------------------------------------- order and pages


def test_recent_order_is_newest_first(store, coach, chat):
    # Stored in time order, as live chats and imports store them.
    say(store, coach, chat, "rondo rondo rondo at minute 1", minutes=1)
    say(store, coach, chat, "rondo at minute 2", minutes=2)
    say(store, coach, chat, "rondo rondo at minute 3", minutes=3)
    assert found(store, coach, "rondo", order="recent") == [
        "rondo rondo at minute 3",
        "rondo at minute 2",
        "rondo rondo rondo at minute 1",
    ]


def test_relevance_puts_the_closest_match_first(store, coach, chat):
    say(store, coach, chat, "Rondo, rondo, rondo: the rondo session", minutes=1)
    say(store, coach, chat, "Long notes about pressing and shape; a rondo at the end", minutes=2)
    say(store, coach, chat, "Another note mentioning one rondo among many other words", minutes=3)
    ranked = found(store, coach, "rondo")
    assert ranked[0] == "Rondo, rondo, rondo: the rondo session"
    assert found(store, coach, "rondo", order="recent")[0] == (
        "Another note mentioning one rondo among many other words"
    )


@pytest.mark.parametrize("order", ["relevance", "recent"])
def test_pages_neither_repeat_nor_skip(store, coach, chat, order):
    for minute in range(7):
        say(store, coach, chat, "rondo " * (minute % 3 + 1) + f"note {minute}", minutes=minute)
    whole = found(store, coach, "rondo", order=order)
    assert len(whole) == 7
    pages = [found(store, coach, "rondo", order=order, limit=3, offset=o) for o in (0, 3, 6)]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert pages[0] + pages[1] + pages[2] == whole
    assert found(store, coach, "rondo", order=order, offset=7) == []


def test_relevance_ranks_the_newest_pool_then_continues_newest_first(
    store, coach, chat, monkeypatch
):
    monkeypatch.setattr(core.search, "RANKING_POOL", 3)
    for minute in range(7):
        # Older messages say "rondo" more often, so they would rank higher.
        say(store, coach, chat, "rondo " * (7 - minute) + f"note {minute}", minutes=minute)
    pages = [found(store, coach, "rondo", limit=2, offset=o) for o in (0, 2, 4, 6)]
    hits = [content.split("note ")[1] for page in pages for content in page]
    # The 3 newest, best first (here: oldest of them first); then the rest newest first.
    assert hits == ["4", "5", "6", "3", "2", "1", "0"]


# ------------------------------------------------ every way to a page

# Each database finds a page one of two ways, chosen by what the statement
# sees (core.search explains why): SQLite reads all of a coach's matches in
# ascending order when there are fewer than FEW_MATCHES, else newest first;
# PostgreSQL walks the coach's newest messages when a probe of the newest
# PROBE_ROWS finds matches dense enough, and scans the GIN index when it does
# not or when the walk falls short. These settings force each way on small
# data; the pages must not depend on the way taken.
WAYS = {
    "newest first, walk then GIN": {"FEW_MATCHES": 1, "PROBE_ROWS": 10, "WALK_MOST": 1_000},
    "all matches at once, GIN only": {"FEW_MATCHES": 1_000, "PROBE_ROWS": 10, "WALK_MOST": 1},
}


@dataclass(frozen=True)
class Note:
    minute: int
    content: str
    role: str
    kind: str


@pytest.fixture
def timeline(store, coach) -> list[Note]:
    """40 notes a minute apart, newest first: "alpha" in each of the newest 12 and in
    every fifth before them, "beta" in two old ones; roles alternate, every third is in a
    drill session."""
    sessions = {kind: add_session(store, coach, kind.title(), kind) for kind in ("chat", "drill")}
    notes = []
    for minute in range(40):
        words = [f"note{minute}"]
        words += ["alpha"] if minute >= 28 or minute % 5 == 0 else []
        words += ["beta"] if minute in (1, 2) else []
        note = Note(
            minute,
            " ".join(words),
            "assistant" if minute % 2 else "user",
            "drill" if minute % 3 == 0 else "chat",
        )
        say(store, coach, sessions[note.kind], note.content, role=note.role, minutes=minute)
        notes.append(note)
    return notes[::-1]


def take_way(monkeypatch, way: str) -> None:
    for name, value in WAYS[way].items():
        monkeypatch.setattr(core.search, name, value)


# Queries over the timeline, with which notes they match (by their words).
TIMELINE_QUERIES = {
    "alpha": lambda words: "alpha" in words,
    "beta": lambda words: "beta" in words,
    "alpha -beta": lambda words: "alpha" in words and "beta" not in words,
    "alpha OR beta": lambda words: bool({"alpha", "beta"} & words),
}
SLICES = {
    "no filter": ({}, lambda note: True),
    "role": ({"role": "assistant"}, lambda note: note.role == "assistant"),
    "kind": ({"kind": "drill"}, lambda note: note.kind == "drill"),
    "until": ({"until": T0 + timedelta(minutes=30)}, lambda note: note.minute < 30),
    "since": ({"since": T0 + timedelta(minutes=10)}, lambda note: note.minute >= 10),
}


def matching(timeline: list[Note], query: str, keep) -> list[str]:
    """The contents of the notes `query` matches and `keep` keeps, newest first."""
    matches = TIMELINE_QUERIES[query]
    return [n.content for n in timeline if matches(set(n.content.split())) and keep(n)]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("query", TIMELINE_QUERIES)
def test_recent_pages_are_exact_whichever_way_they_are_found(
    store, coach, timeline, monkeypatch, way, query
):
    take_way(monkeypatch, way)
    for name, (options, keep) in SLICES.items():
        expected = matching(timeline, query, keep)
        # Pages of 5: on PostgreSQL the first ones are walked, the later ones
        # need more matches than the walk's window holds and take the GIN scan.
        for offset in range(0, len(expected) + 5, 5):
            page = found(store, coach, query, order="recent", limit=5, offset=offset, **options)
            assert page == expected[offset : offset + 5], (name, offset)


@pytest.mark.parametrize("way", WAYS)
def test_relevance_pages_do_not_depend_on_the_way(store, coach, timeline, monkeypatch, way):
    monkeypatch.setattr(core.search, "RANKING_POOL", 7)
    whole = {
        name: found(store, coach, "alpha OR beta", limit=100, **options)
        for name, (options, _) in SLICES.items()
    }
    for name, (_, keep) in SLICES.items():
        assert sorted(whole[name]) == sorted(matching(timeline, "alpha OR beta", keep)), name
    take_way(monkeypatch, way)
    for name, (options, _) in SLICES.items():
        for offset in range(0, len(whole[name]) + 4, 4):
            page = found(store, coach, "alpha OR beta", limit=4, offset=offset, **options)
            assert page == whole[name][offset : offset + 4], (name, offset)


def _plan_nodes(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def gin_scans(store: ConversationStore, user_id: int, query: str, **options) -> int:
    """How many times the statement of one search scanned ix_messages_search on PostgreSQL,
    read from EXPLAIN ANALYZE of the very statement and values search_messages sent."""
    sent = []

    def capture(connection, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    event.listen(store.db.engine, "before_cursor_execute", capture)
    try:
        store.search_messages(user_id, query, **options)
    finally:
        event.remove(store.db.engine, "before_cursor_execute", capture)
    statement, parameters = sent[-1]
    with store.db.engine.connect() as connection:
        # The test's table holds one coach, whose messages are cheaper to
        # read in full than through an index; in a shared table they are not.
        connection.exec_driver_sql("SET enable_seqscan = off")
        [plan] = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
        ).scalar()
    return sum(
        node["Actual Loops"]
        for node in _plan_nodes(plan["Plan"])
        if node.get("Index Name") == "ix_messages_search"
    )


def test_postgresql_scans_the_gin_index_only_when_the_walk_falls_short(postgres_url, monkeypatch):
    take_way(monkeypatch, "newest first, walk then GIN")
    monkeypatch.setattr(core.search, "RANKING_POOL", 5)
    db = Database(postgres_url)
    try:
        store = ConversationStore(db)
        user = store.create_user("walker")
        chat = add_session(store, user, "Chat")
        for minute in range(40):
            dense = minute >= 28 or minute % 5 == 0  # the timeline fixture's "alpha"
            say(store, user, chat, "alpha" if dense else "beta", minutes=minute)
        # Older messages and fresh statistics, so that the planner sees a
        # coach with a history, as it would in use.
        with db.engine.connect() as connection:
            connection.execute(
                text(
                    "INSERT INTO messages (session_id, user_id, seq, role, content, created_at, "
                    "metadata) SELECT :chat, :user_id, 100 + n, 'user', 'older note', "
                    "CAST(:t0 AS timestamptz) - n * interval '1 minute', '{}' "
                    "FROM generate_series(1, 3000) AS n"
                ),
                {"chat": chat, "user_id": user.id, "t0": T0},
            )
            connection.execute(text("ANALYZE messages"))
            connection.commit()
        # The newest 10 all match: a walk of 12 messages fills a page of 5.
        assert gin_scans(store, user.id, "alpha", order="recent", limit=5) == 0
        assert gin_scans(store, user.id, "alpha", limit=5) == 0
        # 20 newest matches are more than all 18: the walk falls short.
        assert gin_scans(store, user.id, "alpha", order="recent", limit=5, offset=15) == 1
        # The probe finds no "beta" among the newest 10: no walk at all.
        assert gin_scans(store, user.id, "beta", order="recent", limit=5) == 1
        assert gin_scans(store, user.id, "beta", limit=5) == 1
    finally:
        db.dispose()


# ---------------------------------------------------------- kept in step


def test_deleting_a_session_removes_its_hits(store, coach, chat):
    other = add_session(store, coach, "Kept")
    say(store, coach, chat, "rondo to delete")
    say(store, coach, other, "rondo to keep")
    store.delete_session(coach.id, chat)
    assert found(store, coach, "rondo") == ["rondo to keep"]


def test_edited_message_is_found_by_its_new_text(store, coach, chat):
    message_id = say(store, coach, chat, "first draft about pressing")
    store.update_message(coach.id, message_id, content="final version about rondos")
    assert store.search_messages(coach.id, "pressing") == []
    assert found(store, coach, "rondo") == ["final version about rondos"]


def test_matching_session_ids(store, coach, chat):
    later = add_session(store, coach, "Later")
    quiet = add_session(store, coach, "Quiet")
    say(store, coach, chat, "rondo one", minutes=1)
    say(store, coach, chat, "rondo two", minutes=2)
    say(store, coach, later, "rondo three", minutes=3)
    say(store, coach, quiet, "nothing here", minutes=4)
    assert matching_session_ids(store.db, coach.id, "rondo") == [later, chat]
    assert matching_session_ids(store.db, coach.id, "rondo", limit=1) == [later]
    assert matching_session_ids(store.db, coach.id, "rondo -three") == [chat]
    assert matching_session_ids(store.db, coach.id, "-rondo") == []


# ------------------------------------------------------------ any input


HOSTILE_QUERIES = [
    '"',
    '""',
    '"""',
    "-",
    '-"',
    "OR",
    "OR OR",
    "rondo OR",
    "OR rondo",
    "AND",
    "rondo AND",
    "NOT rondo",
    "NEAR",
    "NEAR(rondo drill)",
    "NEAR(rondo drill, 2)",
    "*",
    "rondo*",
    "ron*do",
    ":",
    "content:rondo",
    "user_id:1",
    "{content}: rondo",
    "(",
    ")",
    "(rondo",
    "^rondo",
    "rondo +drill",
    "'; drop table messages; --",
    "'; DROP TABLE x; --",
    "1' OR '1'='1",
    ":user_id",
    "%(user_id)s",
    "$1",
    "?",
    "%",
    "_",
    "\\",
    "rondo\x00drill",
    "\x00",
    "\ud800",
    "🫨🏉⚽",
    "rondo 🫨",
    "!! rondo",
    "rondo & drill | game",
    "<b>rondo</b>",
    "rondo <-> drill",
    "3.5 3-on-3 coach@club.com https://club.example/u12",
    "\t\n\r",
    "a" * 3000,
    "rondo " * 2000,
    " ".join(f"w{i}" for i in range(2_500)),
]


@pytest.fixture
def searchable(store, coach, chat):
    say(
        store,
        coach,
        chat,
        "Rondo drill: 3-on-3 (u12) — pass the ball, coach@club.com 3.5",
        minutes=1,
    )
    say(store, coach, chat, "Über-quick passing game 🫨", role="assistant", minutes=2)
    return store


@pytest.mark.parametrize("order", ["relevance", "recent"])
def test_hostile_queries_never_raise(searchable, coach, order):
    for query in HOSTILE_QUERIES:
        hits = searchable.search_messages(coach.id, query, order=order)
        assert all(hit.session_title == "Tuesday session" for hit in hits), query
        matching_session_ids(searchable.db, coach.id, query)


QUERY_PIECES = [
    "rondo",
    "drill",
    "pass",
    "the",
    "OR",
    "AND",
    "NOT",
    "NEAR",
    '"',
    "-",
    "*",
    ":",
    "(",
    ")",
    "'",
    ";",
    "^",
    "{",
    "\x00",
    "é",
    "🫨",
    "3-on-3",
    " ",
]


def test_generated_queries_never_raise(searchable, coach):
    # @given inside the test: the fixture's database is built once and only
    # read by the examples, so sharing it between them is safe.
    @settings(max_examples=120, deadline=None, database=None)
    @given(
        query=st.one_of(
            st.text(max_size=80),
            st.lists(st.sampled_from(QUERY_PIECES), max_size=12).map("".join),
            st.lists(st.sampled_from(QUERY_PIECES), max_size=12).map(" ".join),
        ),
        order=st.sampled_from(["relevance", "recent"]),
    )
    def search_anything(query: str, order: str) -> None:
        hits = searchable.search_messages(coach.id, query, order=order)
        assert len(hits) <= 2

    search_anything()


# ---------------------------------------------------------------- parity

PARITY_CORPUS = [
    ("Passing", "chat", "user", "Design a passing drill for U12 defenders"),
    (
        "Passing",
        "chat",
        "assistant",
        "Here is a passing drill: pairs, two touches, cones 10m apart",
    ),
    ("Passing", "chat", "user", "She passes well but passed too late in the game"),
    ("Rondo", "drill", "user", "A 4v2 rondo in a small sided game"),
    ("Rondo", "drill", "assistant", "Rondo: keep possession, one-touch when pressed"),
    ("Rondo", "drill", "assistant", "Warm-up first, then the rondo; no cones needed"),
    ("Keepers", "chat", "user", "Keeper shot stopping and pass the ball out from the back"),
    ("Keepers", "chat", "assistant", "Pass a ball wide, then shoot; small-sided finishing game"),
    ("Keepers", "chat", "user", "Über drill for the 3-on-3 tournament"),
    ("Admin", "chat", "user", "Email the parents at coach@club.com about the 3.5 km run"),
]
PARITY_QUERIES = {
    # query: whether it finds anything (so the comparison is never vacuous)
    "passing": True,
    "passes": True,
    '"passing drill"': True,
    "passing drill": True,
    "passing drill OR game": True,
    "drill -cones": True,
    'game -"small sided"': True,
    '"pass the ball"': True,
    "one-touch": True,
    "small-sided": True,
    "warm-up": True,
    "u12": True,
    "rondo OR keeper": True,
    "3-on-3": True,
    "über": True,
    "shoot -keeper": True,
    "the": False,
    "-rondo": False,
    '"ball pass"': False,
}


def _parity_results(url: str) -> dict[str, set[tuple[str, int]]]:
    db = Database(url)
    try:
        db.migrate()
        store = ConversationStore(db)
        user = store.create_user("parity")
        sessions: dict[str, str] = {}
        for minute, (title, kind, role, content) in enumerate(PARITY_CORPUS):
            if title not in sessions:
                sessions[title] = add_session(store, user, title, kind)
            say(store, user, sessions[title], content, role=role, minutes=minute)
        return {
            query: {
                (hit.session_title, hit.seq)
                for hit in store.search_messages(user.id, query, limit=50)
            }
            for query in PARITY_QUERIES
        }
    finally:
        db.dispose()


def test_sqlite_and_postgresql_find_the_same_messages(sqlite_url, postgres_url):
    sqlite_results = _parity_results(sqlite_url)
    postgres_results = _parity_results(postgres_url)
    for query, finds_something in PARITY_QUERIES.items():
        assert sqlite_results[query] == postgres_results[query], query
        assert bool(sqlite_results[query]) is finds_something, query
