"""The batched CSV export against the one it replaced, byte for byte, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TextIO

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from core import export_batches
from core.csv_export import CSV_COLUMNS, csv_bytes, write_csv
from core.export_batches import format_time, selected_sessions
from core.store import ConversationStore

# ------------------------------------------------- the export as it was


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _reference_cell(value: Any) -> Any:
    if value is None:
        return ""
    if type(value) is str and value.startswith(_FORMULA_STARTS):
        value = "'" + value
    if type(value) is str and len(value) > 32_767:
        mark = f" […cut: {len(value):,} characters in all; the JSON archive holds them all]"
        value = value[: 32_767 - len(mark)] + mark
    return value


def reference_write_csv(
    store: ConversationStore,
    user_id: int,
    out: TextIO,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> int:
    """The CSV export before batching: whole ORM messages and their calls, session by session."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for chat in selected_sessions(store, user_id, session_ids, query):
        tags = "; ".join(chat.tag_names)
        for message in store.iter_messages(user_id, chat.id):
            calls = store.list_tool_calls(user_id, chat.id, message_ids=[message.id])
            writer.writerow(
                [
                    _reference_cell(value)
                    for value in (
                        chat.id,
                        chat.title,
                        chat.kind,
                        message.seq,
                        message.role,
                        format_time(message.created_at),
                        message.content,
                        message.word_count,
                        message.status,
                        message.model,
                        message.input_tokens,
                        message.output_tokens,
                        "; ".join(call.name for call in calls),
                        tags,
                        "\n\n".join(f"{call.name}: {call.output}" for call in calls),
                    )
                ]
            )
            rows += 1
    return rows


def reference_bytes(store: ConversationStore, user_id: int, **selection: Any) -> bytes:
    buffer = io.StringIO(newline="")
    reference_write_csv(store, user_id, buffer, **selection)
    return buffer.getvalue().encode("utf-8")


# ------------------------------------------------------- a mixed corpus

TEXTS = [
    "=1+1",
    "+44 7700 900000",
    "-rondo passing",
    "@coach",
    "\tindented",
    "\rcarriage",
    'comma, "quote"\nnew line',
    "crlf\r\nline",
    "",
    "Übung für die U12 — passe décisive ⚽ 練習",
    "'already quoted",
    "plain words",
]
TITLES = ['=HYPERLINK("http://x")', "Rondo, 4v2", "Ünïcödé ⚽", "-minus", "plain", 'say "hi"']
TOOLS = ["calculator", "word_count", "search_history", "=imported", "-dash"]


@dataclass
class Corpus:
    mine: list[str]
    theirs: str


@pytest.fixture
def corpus(store, coach, other_coach) -> Corpus:
    rng = random.Random(11)
    base = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
    mine: list[str] = []
    # Interleave the two coaches' sessions so ids and times mix in every index.
    for number in range(14):
        owner = other_coach if number % 5 == 4 else coach
        chat = store.create_session(
            owner.id,
            kind="drill" if number % 3 == 0 else "chat",
            title=TITLES[number % len(TITLES)] + f" {number}",
        )
        if number % 2 == 0:
            store.set_tags(owner.id, chat.id, ["u12", "-fitness", "Élite"][: 1 + number % 3])
        if owner is coach:
            mine.append(chat.id)
        for seq in range(rng.randrange(0, 9) if number != 1 else 23):
            role = ["user", "assistant", "tool", "system"][seq % 4]
            when = base + timedelta(
                minutes=number * 60 + seq, microseconds=rng.choice([0, 7, 999_999])
            )
            if seq % 5 == 3:
                when = when.astimezone(timezone(timedelta(hours=-5)))  # another zone in, UTC out
            message = store.add_message(
                owner.id,
                chat.id,
                role,
                "" if role == "tool" else rng.choice(TEXTS),
                status=["complete", "partial", "error"][seq % 3]
                if role == "assistant"
                else "complete",
                model="claude-test" if role == "assistant" else None,
                input_tokens=seq * 10 if role == "assistant" else None,
                output_tokens=seq if role == "assistant" and seq % 2 else None,
                created_at=when,
            )
            if role == "assistant":
                for name in rng.sample(TOOLS, rng.randrange(0, 3)):
                    store.record_tool_call(
                        owner.id,
                        chat.id,
                        message_id=message.id,
                        tool_use_id=f"toolu_{number}_{seq}_{name}",
                        name=name,
                        input={"n": seq},
                        output="",
                    )
        # A call with no message never shows in the CSV.
        store.record_tool_call(
            owner.id,
            chat.id,
            message_id=None,
            tool_use_id="loose",
            name="loose",
            input={},
            output="",
        )
    theirs = store.create_session(other_coach.id, title="Theirs")
    store.add_message(other_coach.id, theirs.id, "user", "not yours")
    return Corpus(mine=mine, theirs=theirs.id)


def _selections(corpus: Corpus) -> list[dict[str, Any]]:
    return [
        {},
        {"session_ids": [*reversed(corpus.mine[:7]), corpus.theirs, "no-such-id"]},
        {"session_ids": []},
        {"query": "rondo"},
        {"query": "plain", "session_ids": corpus.mine[::2]},
    ]


@pytest.mark.parametrize("page", [500, 3, 7])
def test_csv_is_byte_for_byte_the_export_it_replaced(
    store, coach, other_coach, corpus, page, monkeypatch
):
    # Small pages put page and batch boundaries inside sessions and between them.
    monkeypatch.setattr(export_batches, "PAGE", page)
    for user in (coach, other_coach):
        for selection in _selections(corpus):
            expected = reference_bytes(store, user.id, **selection)
            assert csv_bytes(store, user.id, **selection) == expected, selection
            out = io.StringIO(newline="")
            rows = write_csv(store, user.id, out, **selection)
            assert out.getvalue().encode("utf-8") == expected
            assert rows == len(list(csv.reader(io.StringIO(expected.decode(), newline="")))) - 1
    everything = list(csv.reader(io.StringIO(csv_bytes(store, coach.id).decode(), newline="")))
    assert len(everything) > 60  # the corpus really is mixed and sizeable
    assert {row[0] for row in everything[1:]} <= set(corpus.mine)
    assert any(row[12] for row in everything[1:]) and any(not row[12] for row in everything[1:])


def test_a_session_whose_kept_count_is_wrong_still_exports_whole(store, coach, corpus, monkeypatch):
    # The counts only plan the batches; the pages are keyed, so a stale count
    # (too low or too high) neither drops nor repeats a message.
    monkeypatch.setattr(export_batches, "PAGE", 4)
    expected = reference_bytes(store, coach.id)
    for wrong in (0, 1_000):
        with store.db.writing() as session:
            session.execute(
                sa.text("UPDATE chat_sessions SET message_count = :n WHERE user_id = :u"),
                {"n": wrong, "u": coach.id},
            )
        assert csv_bytes(store, coach.id) == expected


def _statements_during(store: ConversationStore, call) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append((statement, params))

    event.listen(store.db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(store.db.engine, "before_cursor_execute", record)
    return seen


def test_many_sessions_go_to_the_database_in_a_few_queries(store, coach):
    for number in range(40):
        chat = store.create_session(coach.id, title=f"Session {number}")
        reply = store.add_message(coach.id, chat.id, "assistant", f"reply {number}")
        store.record_tool_call(
            coach.id,
            chat.id,
            message_id=reply.id,
            tool_use_id="t",
            name="calculator",
            input={},
            output="",
        )
    statements = _statements_during(store, lambda: csv_bytes(store, coach.id))
    reading = [s for s, _ in statements if "FROM messages" in s or "FROM tool_calls" in s]
    # One query for the messages of all 40 sessions and one for their tool calls
    # (the old export sent 80).
    assert len(reading) == 2
    rows = list(csv.reader(io.StringIO(csv_bytes(store, coach.id).decode(), newline="")))
    assert [row[12] for row in rows[1:]] == ["calculator"] * 40


def test_the_message_query_starts_from_the_sessions_not_the_coach(store, coach, corpus):
    """The trap: `user_id = ? AND session_id IN (...)` answered from ix_messages_user_created
    reads every message of the coach for each batch (80 ms a query at 100,000 messages)."""
    statements = _statements_during(store, lambda: csv_bytes(store, coach.id))
    chosen = [(s, p) for s, p in statements if "FROM messages" in s or "FROM tool_calls" in s]
    assert chosen
    dialect = store.db.engine.dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    with store.db.engine.connect() as connection:
        for statement, params in chosen:
            plan = " ".join(
                str(value)
                for row in connection.exec_driver_sql(prefix + statement, params)
                for value in row
            )
            assert "ix_messages_user_created" not in plan, plan
            assert "ix_tool_calls_user_name_session" not in plan, plan
            if dialect == "sqlite":  # PostgreSQL may scan a table this small whole
                assert "(session_id=?)" in plan, plan


def test_cells_longer_than_excel_keeps_are_cut_with_a_mark_and_tool_outputs_come_along(
    store, coach
):
    chat = store.create_session(coach.id, title="Long notes")
    long_text = "pass and move " * 3_000  # 42,000 characters
    reply = store.add_message(coach.id, chat.id, "assistant", long_text)
    store.record_tool_call(
        coach.id,
        chat.id,
        message_id=reply.id,
        tool_use_id="toolu_long",
        name="search_history",
        input={"query": "rondo"},
        output="=" + "x" * 50_000,
    )
    store.record_tool_call(
        coach.id,
        chat.id,
        message_id=reply.id,
        tool_use_id="toolu_short",
        name="calculator",
        input={"expression": "2+2"},
        output="4",
    )
    [row] = list(csv.DictReader(io.StringIO(csv_bytes(store, coach.id).decode("utf-8"))))
    for column in ("content", "tool_outputs"):
        assert len(row[column]) == 32_767
    assert row["content"].startswith("pass and move")
    assert row["content"].endswith(
        " […cut: 42,000 characters in all; the JSON archive holds them all]"
    )
    assert row["tool_outputs"].startswith("search_history: =xxx")
    assert row["tool_outputs"].endswith("characters in all; the JSON archive holds them all]")
    assert row["tools"] == "search_history; calculator"

    short = store.create_session(coach.id, title="Short")
    answer = store.add_message(coach.id, short.id, "assistant", "=SUM(A1)")
    store.record_tool_call(
        coach.id,
        short.id,
        message_id=answer.id,
        tool_use_id="toolu_2",
        name="calculator",
        input={"expression": "2+2"},
        output="4",
    )
    rows = list(csv.DictReader(io.StringIO(csv_bytes(store, coach.id).decode("utf-8"))))
    [cells] = [r for r in rows if r["session_title"] == "Short"]
    assert (cells["content"], cells["tool_outputs"]) == ("'=SUM(A1)", "calculator: 4")
