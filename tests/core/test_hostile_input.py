"""Hostile input, generated: History searches, archive imports and message text, both databases.

Whatever comes in gets a clear sentence (a ValidationError, one line) or is handled safely;
nothing raises anything else, and a refused import changes nothing.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from core.archive_out import archive_bytes
from core.csv_export import csv_bytes
from core.errors import ValidationError
from core.file_import import import_file
from core.history import history_page
from core.markdown_export import session_markdown
from core.query import parse_history_query

FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HISTORY_PIECES = [
    "rondo", "passing", "OR", "-", '"', "tag:", "tag:u12", "kind:drill", "kind:x", "tool:",
    "tool:calculator", "is:pinned", "is:archived", "is:all", "is:nope", "after:", "before:",
    "after:2026-10-01", "before:2026-13-45", "after:yesterday", "role:user", "role:bot", ":",
    "*", "(", ")", "'", ";", "%", "_", "\\", "\x00", "\u202e", "é", "🫨", "NEAR", "AND",
    " ", "  ", "tag:" + "x" * 300, "-\"", "OR OR", "\t", "\n",
]  # fmt: skip


def _corpus(store, coach) -> None:
    for index, (title, text) in enumerate(
        [
            ("Rondo ideas", "A 4v2 rondo for U12"),
            ("Passing", "Passing patterns, two touches"),
            ("Set pieces", "Corners and free kicks"),
        ]
    ):
        chat = store.create_session(coach.id, title=title, kind="drill" if index else "chat")
        store.add_message(coach.id, chat.id, "user", text)
        store.add_message(coach.id, chat.id, "assistant", f"Here is a plan: {text}")
        store.set_tags(coach.id, chat.id, ["u12"] if index else [])


def _report(capsys, what: str, count: int) -> None:
    with capsys.disabled():
        print(f"\n{what}: {count:,} generated inputs", file=sys.stderr)


def test_history_searches_never_raise(store, coach, capsys):
    _corpus(store, coach)
    tried = []

    @FUZZ
    @given(
        text=st.one_of(
            st.text(max_size=120),
            st.lists(st.sampled_from(HISTORY_PIECES), max_size=14).map("".join),
            st.lists(st.sampled_from(HISTORY_PIECES), max_size=14).map(" ".join),
        ),
        sort=st.sampled_from(["recent", "created", "title", "relevance", "newest", "bogus"]),
        page=st.integers(min_value=-5, max_value=10**12),
    )
    def search(text: str, sort: str, page: int) -> None:
        tried.append(text)
        query = parse_history_query(text)
        found = history_page(store, coach.id, query, sort=sort, page=page)
        assert found.total <= 3

    search()
    _report(capsys, "History searches", len(tried))


# ------------------------------------------------------------------ archive imports

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(
        ["\x00", "a\x00b", "x" * 100_001, "\ud800"[:0] + "🫨", "2026-13-01T00:00:00Z"]
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += _paths(item, (*prefix, index))
    return found


def _set(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


def _drop(document: Any, path: tuple) -> Any:
    if not path:
        return document
    target = document
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return document


def _counts(store) -> tuple[int, ...]:
    with store.db.engine.connect() as connection:
        return tuple(
            connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("users", "chat_sessions", "messages", "tool_calls", "drills")
        )


def test_damaged_archives_get_one_sentence_and_change_nothing(store, coach, capsys):
    _corpus(store, coach)
    original = json.loads(archive_bytes(store, coach.id))
    outcomes = {"refused": 0, "imported": 0}

    @FUZZ
    @given(data=st.data())
    def damage(data) -> None:
        document = copy.deepcopy(original)
        how = data.draw(st.sampled_from(["replace", "drop", "duplicate", "bytes", "truncate"]))
        if how in ("replace", "drop"):
            path = data.draw(st.sampled_from(_paths(document)))
            if how == "replace":
                document = _set(document, path, data.draw(JSON_VALUES))
            else:
                document = _drop(document, path)
            raw = json.dumps(document).encode()
        elif how == "duplicate":
            document["sessions"].append(copy.deepcopy(document["sessions"][0]))
            raw = json.dumps(document).encode()
        elif how == "bytes":
            raw = data.draw(st.binary(max_size=200))
        else:
            text = json.dumps(document)
            raw = text[: data.draw(st.integers(0, len(text) - 1))].encode()
        before = _counts(store)
        try:
            import_file(store, raw, as_user="coach1")
        except ValidationError as exc:
            sentence = str(exc)
            assert sentence and "\n" not in sentence and "Traceback" not in sentence
            assert _counts(store) == before
            outcomes["refused"] += 1
        else:
            outcomes["imported"] += 1  # a harmless change: new sessions, or already there

    damage()
    assert outcomes["refused"] > 50 and outcomes["imported"] > 0, outcomes
    _report(capsys, f"Damaged archives ({outcomes['refused']} refused)", sum(outcomes.values()))


# ------------------------------------------------------------------ message text

HOSTILE_TEXT = [
    '<img src=x onerror="alert(1)">',
    "<script>alert(document.cookie)</script>",
    "[click](javascript:alert(1))",
    "$$\\href{javascript:alert(1)}{x}$$ and $\\unicode{x41}$",
    "</details><details open><summary>x",
    "\u202eevil\u202c",
    "```\nunclosed fence",
    "\x1b[2Jcleared",
]
ACTIVE = re.compile(r"<(script|img|iframe|style|a\b)", re.IGNORECASE)
RENDER = MarkdownIt("commonmark", {"html": True})


def test_any_message_text_is_stored_and_exported_safely(store, coach, capsys):
    chat = store.create_session(coach.id, title="Anything goes")
    tried = []

    @FUZZ
    @given(
        text=st.one_of(
            st.text(max_size=200),
            st.lists(st.sampled_from(HOSTILE_TEXT), min_size=1, max_size=4).map("\n".join),
        )
    )
    def store_and_export(text: str) -> None:
        tried.append(text)
        try:
            store.add_message(coach.id, chat.id, "user", text)
        except ValidationError as exc:
            assert "\n" not in str(exc)
            return
        html = RENDER.render(session_markdown(store, coach.id, chat.id))
        assert not ACTIVE.search(html), ACTIVE.search(html)
        csv_bytes(store, coach.id, session_ids=[chat.id])

    store_and_export()
    _report(capsys, "Message texts", len(tried))
    # Nearly a megabyte of text (the limit is 1,000,000 characters): stored and exported whole.
    big = "rondo " * 160_000
    store.add_message(coach.id, chat.id, "assistant", big)
    assert big in session_markdown(store, coach.id, chat.id)
    [exported] = json.loads(archive_bytes(store, coach.id))["sessions"]
    assert exported["messages"][-1]["content"] == big
