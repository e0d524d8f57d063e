"""The History box's parser: operators, what they do to the widgets' filter, notes, describe()."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.query import MAX_QUERY_CHARS, parse_history_query, parse_query
from core.session_list import SessionFilter


def words_of(text: str) -> list[list[str]]:
    return [[term.text for term in group] for group in parse_history_query(text).words.required]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tag:u12", SessionFilter(tags=("u12",))),
        ("TAG:U12", SessionFilter(tags=("u12",))),
        ('tag:"Under  12"', SessionFilter(tags=("under 12",))),
        ("tag:u12 tag:pressing", SessionFilter(tags=("u12", "pressing"))),
        ("tag:u12 tag:u12", SessionFilter(tags=("u12",))),
        ("kind:drill", SessionFilter(kind="drill")),
        ("Kind:Chat", SessionFilter(kind="chat")),
        ("tool:calculator", SessionFilter(tool="calculator")),
        ("is:pinned", SessionFilter(pinned=True)),
        ("-is:pinned", SessionFilter(pinned=False)),
        ("is:archived", SessionFilter(archived=True)),
        ("is:all", SessionFilter(archived=None)),
        ("-is:archived", SessionFilter(archived=False)),
        ("after:2026-10-01", SessionFilter(since=datetime(2026, 10, 1, tzinfo=UTC))),
        ("before:2026-11-01", SessionFilter(until=datetime(2026, 11, 1, tzinfo=UTC))),
        ("after:2026-1-5", SessionFilter(since=datetime(2026, 1, 5, tzinfo=UTC))),
    ],
)
def test_each_operator_sets_its_filter_field(text, expected):
    query = parse_history_query(text)
    assert query.filters == expected
    assert query.notes == ()
    assert query.text == ""
    assert not query.searching


def test_role_is_kept_beside_the_filter():
    assert parse_history_query("role:user rondo").role == "user"
    assert parse_history_query("ROLE:Assistant rondo").role == "assistant"
    assert parse_history_query("rondo").role is None
    query = parse_history_query("role:tool rondo")
    assert query.role is None
    assert query.notes == ("role: is user or assistant, not tool: ignored.",)


def test_dates_are_the_coachs_days_in_utc():
    paris = ZoneInfo("Europe/Paris")
    query = parse_history_query("after:2026-10-01 before:2026-11-01", tz=paris)
    # 1 October is summer time (UTC+2), 1 November winter time (UTC+1).
    assert query.filters.since == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert query.filters.until == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert query.filters.since.tzinfo is UTC


def test_operators_combine_with_the_widgets_filter():
    base = SessionFilter(
        kind="chat", tags=("u12",), tool="word_count", pinned=True, title_contains="plan"
    )
    query = parse_history_query("kind:drill tag:pressing tool:calculator rondo", base)
    assert query.filters == SessionFilter(
        kind="drill",
        tags=("u12", "pressing"),
        tool="calculator",
        pinned=True,
        title_contains="plan",
    )
    # Without operators the widgets' filter comes back unchanged.
    assert parse_history_query("rondo", base).filters == base


def test_words_and_operators_are_separated():
    query = parse_history_query('passing tag:u12 "pass the ball" kind:drill OR rondo -cones')
    assert query.text == 'passing "pass the ball" OR rondo -cones'
    # An operator between two words does not come between an OR and its sides.
    assert words_of(query.text) == [["passing"], ["pass the ball", "rondo"]]
    assert [term.text for term in query.words.excluded] == ["cones"]
    assert query.words == parse_query(query.text)
    assert query.searching


def test_plain_search_still_reads_operators_as_words():
    # parse_query (the command line, search_history) knows no operators.
    parsed = parse_query("tag:u12 rondo")
    assert [[term.text for term in group] for group in parsed.required] == [["tag:u12"], ["rondo"]]


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("tag: rondo", "tag: needs a value, as in tag:u12."),
        ('tag:"" rondo', "tag: needs a value, as in tag:u12."),
        ("rondo kind:", "kind: needs a value, as in kind:drill."),
        ("after: rondo", "after: needs a value, as in after:2026-10-01."),
        ("kind:video", "kind: is chat or drill, not video: ignored."),
        ("is:starred", "is: takes pinned, archived or all, not starred: ignored."),
        ("after:2026-13-45", "2026-13-45 is not a date (use YYYY-MM-DD)."),
        ("before:yesterday", "yesterday is not a date (use YYYY-MM-DD)."),
        ("after:0001-01-01", None),  # the very first day is still a day in UTC
        (
            "before:2026-10-01 after:2026-11-01",
            "before: 2026-10-01 is earlier than after: 2026-11-01: dates ignored.",
        ),
        (
            "after:2026-10-01 before:2026-10-01",
            "before: 2026-10-01 is the same day as after: 2026-10-01: dates ignored.",
        ),
        ("-tag:u12 rondo", "-tag: is not supported (only words can be excluded): ignored."),
        ("kind:chat kind:drill", "kind: is given twice: the last one (kind drill) is used."),
    ],
)
def test_what_is_ignored_gets_one_sentence(text, note):
    query = parse_history_query(text)
    assert query.notes == (() if note is None else (note,))


def test_ignored_dates_leave_the_widgets_dates():
    base = SessionFilter(since=datetime(2026, 1, 1, tzinfo=UTC))
    query = parse_history_query("before:2025-06-01", base)
    assert query.filters.since == base.since
    assert query.filters.until is None
    assert query.notes == ("before: 2025-06-01 is earlier than after: 2026-01-01: dates ignored.",)


def test_unknown_operators_are_searched_as_words_with_a_note():
    query = parse_history_query("foo:bar rondo")
    assert query.notes == ("Unknown operator foo: searched as words.",)
    assert words_of(query.text) == [["foo:bar"], ["rondo"]]
    assert query.filters == SessionFilter()


@pytest.mark.parametrize(
    "text", ["http://example.com/drills rondo", "Agenda: rondo", "C:\\drills rondo", "3:1 ratio"]
)
def test_urls_and_prose_colons_are_words_without_notes(text):
    query = parse_history_query(text)
    assert query.notes == ()
    assert query.text == text
    assert query.filters == SessionFilter()


def test_a_quoted_phrase_hides_operators_inside_it():
    query = parse_history_query('"tag:u12 kind:drill"')
    assert query.filters == SessionFilter()
    assert words_of(query.text) == [["tag:u12 kind:drill"]]


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("", "no search words"),
        ("tag:u12 kind:drill", "no search words, tag u12, kind drill"),
        ("-cones", "no search words"),
        ("passing drill rondo tag:u12 after:2026-10-01", "3 words, tag u12, after 1 Oct 2026"),
        ('"pass the ball" rondo -cones', "1 word, 1 phrase, excluding 1"),
        ("drill OR game", "2 words with OR"),
        ("rondo is:archived role:user before:2026-11-01", None),
        ("rondo is:all is:pinned", "1 word, archived included, pinned"),
        ("rondo is:all is:archived", "1 word, archived only"),
    ],
)
def test_describe_says_what_was_understood(text, described):
    said = parse_history_query(text).describe()
    if described is None:
        assert said == "1 word, archived only, role user, before 1 Nov 2026"
    else:
        assert said == described


def test_hostile_input_never_raises():
    long = parse_history_query("tag:u12 " + "rondo " * 2_000)
    assert long.filters.tags == ("u12",)
    assert long.notes == (f"Only the first {MAX_QUERY_CHARS:,} characters were read.",)
    assert len(long.text) <= MAX_QUERY_CHARS
    nul = parse_history_query("tag:u1\x002 ron\x00do \ud800 kind:drill")
    assert nul.filters == SessionFilter(tags=("u12",), kind="drill")
    assert words_of(nul.text) == [["rondo"]]
    only = parse_history_query("tag: kind: is: after: before: role: tool:")
    assert not only.searching
    assert len(only.notes) == 7
    assert parse_history_query(None).describe() == "no search words"  # type: ignore[arg-type]
    many = parse_history_query(" ".join(f"tag:t{i}" for i in range(30)))
    assert len(many.filters.tags) == 20
    assert many.notes == ("At most 20 tags can be combined: the rest are ignored.",)
    too_long = parse_history_query("tag:" + "x" * 80)
    assert too_long.filters.tags == ()
    assert len(too_long.notes) == 1 and too_long.notes[0].startswith("tag: ")


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from(list('-":  tag:kind:is:after:before:role:tool:OR2026-10-01')),
            st.characters(),
        ),
        max_size=200,
    ),
    st.sampled_from([UTC, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("America/Santiago")]),
)
def test_any_text_parses(text, tz):
    query = parse_history_query(text, SessionFilter(tags=("u12",)), tz=tz)
    assert isinstance(query.describe(), str)
    assert query.words == parse_query(query.text)
    assert "u12" in query.filters.tags
    since, until = query.filters.since, query.filters.until
    assert since is None or until is None or since < until
    assert all(isinstance(note, str) and note.endswith(".") for note in query.notes)
