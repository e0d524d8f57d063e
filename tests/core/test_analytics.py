"""core.analytics: exact totals and per-day aggregates, scoped by coach, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from core import analytics
from core.store import ConversationStore


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.fixture
def usage(store: ConversationStore, coach, other_coach):
    """Two sessions of the coach (one archived) and a session of another coach."""
    chat = store.create_session(coach.id)
    store.add_message(
        coach.id, chat.id, "user", "one two three", created_at=at(1, 23, 59, 59, 999999)
    )
    issuing = store.add_message(
        coach.id,
        chat.id,
        "assistant",
        "four five",
        input_tokens=100,
        output_tokens=20,
        created_at=at(2, 0),
    )
    store.add_message(coach.id, chat.id, "tool", "", created_at=at(2, 0, 0, 1))
    store.add_message(
        coach.id,
        chat.id,
        "assistant",
        "six",
        input_tokens=150,
        output_tokens=30,
        created_at=at(2, 0, 1),
    )
    for is_error, duration, when in ((False, 10, at(2, 0)), (True, 30, at(2, 0, 0, 1))):
        store.record_tool_call(
            coach.id,
            chat.id,
            message_id=issuing.id,
            tool_use_id=f"t{duration}",
            name="calculator",
            input={"expression": "2+2"},
            output="4",
            is_error=is_error,
            duration_ms=duration,
            created_at=when,
        )

    drill = store.create_session(coach.id, kind="drill")
    store.add_message(coach.id, drill.id, "user", "alpha beta", created_at=at(4, 8))
    built = store.add_message(
        coach.id,
        drill.id,
        "assistant",
        "gamma",
        input_tokens=50,
        output_tokens=5,
        created_at=at(4, 9),
    )
    store.record_tool_call(
        coach.id,
        drill.id,
        message_id=built.id,
        tool_use_id="t5",
        name="create_drill",
        input={},
        output="saved",
        duration_ms=5,
        created_at=at(4, 9),
    )
    store.set_archived(coach.id, drill.id, True)

    theirs = store.create_session(other_coach.id)
    store.add_message(other_coach.id, theirs.id, "user", "not counted at all", created_at=at(2))
    store.add_message(
        other_coach.id, theirs.id, "assistant", "nor this", input_tokens=999, output_tokens=999
    )
    store.record_tool_call(
        other_coach.id,
        theirs.id,
        message_id=None,
        tool_use_id="x",
        name="calculator",
        input={},
        output="",
        created_at=at(2),
    )
    return chat, drill


def test_stats_counts_every_session_and_message_of_the_coach_only(store, coach, usage) -> None:
    stats = analytics.stats(store, coach.id)

    assert stats == analytics.Stats(
        sessions=2,
        messages=6,
        words_by_role={"user": 5, "assistant": 4, "tool": 0, "system": 0},
        tool_calls_by_name={"calculator": 2, "create_drill": 1},
        input_tokens=300,
        output_tokens=55,
    )
    assert (stats.words, stats.tool_calls) == (9, 3)
    assert stats.to_json() == {
        "sessions": 2,
        "messages": 6,
        "words": {"user": 5, "assistant": 4, "tool": 0, "system": 0},
        "tool_calls": {"calculator": 2, "create_drill": 1},
        "input_tokens": 300,
        "output_tokens": 55,
    }
    # The Database works as well as the store.
    assert analytics.stats(store.db, coach.id) == stats


def test_stats_of_a_coach_with_nothing_yet(store, coach) -> None:
    assert analytics.stats(store, coach.id).to_json() == {
        "sessions": 0,
        "messages": 0,
        "words": {"user": 0, "assistant": 0, "tool": 0, "system": 0},
        "tool_calls": {},
        "input_tokens": 0,
        "output_tokens": 0,
    }


def test_tool_usage_per_tool(store, coach, other_coach, usage) -> None:
    frame = analytics.tool_usage(store, coach.id)

    assert list(frame.columns) == ["tool", "calls", "errors", "sessions", "avg_duration_ms"]
    assert frame.to_dict("records") == [
        {"tool": "calculator", "calls": 2, "errors": 1, "sessions": 1, "avg_duration_ms": 20.0},
        {"tool": "create_drill", "calls": 1, "errors": 0, "sessions": 1, "avg_duration_ms": 5.0},
    ]
    # since is inclusive, until exclusive; a date means its midnight UTC.
    only_march_4 = analytics.tool_usage(store, coach.id, since=date(2026, 3, 3), until=at(4, 9))
    assert only_march_4.empty
    assert list(only_march_4.columns) == list(frame.columns)
    assert analytics.tool_usage(store, coach.id, since=at(4, 9))["tool"].tolist() == [
        "create_drill"
    ]
    (theirs,) = analytics.tool_usage(store, other_coach.id).to_dict("records")
    assert (theirs["tool"], theirs["calls"]) == ("calculator", 1)
    assert pd.isna(theirs["avg_duration_ms"])  # no duration recorded, so no mean


def test_activity_by_day_buckets_utc_days_and_fills_quiet_ones(store, coach, usage) -> None:
    frame = analytics.activity_by_day(store, coach.id, date(2026, 3, 1), date(2026, 3, 5))

    assert list(frame.columns) == analytics.ACTIVITY_COLUMNS
    assert frame["day"].tolist() == list(pd.date_range("2026-03-01", "2026-03-04"))
    assert frame.drop(columns="day").to_dict("records") == [
        # 23:59:59.999999 on March 1 stays on March 1; midnight is March 2.
        {
            "messages": 1,
            "sessions": 1,
            "words": 3,
            "user_words": 3,
            "assistant_words": 0,
            "input_tokens": 0,
            "output_tokens": 0,
        },
        {
            "messages": 3,
            "sessions": 1,
            "words": 3,
            "user_words": 0,
            "assistant_words": 3,
            "input_tokens": 250,
            "output_tokens": 50,
        },
        {
            "messages": 0,
            "sessions": 0,
            "words": 0,
            "user_words": 0,
            "assistant_words": 0,
            "input_tokens": 0,
            "output_tokens": 0,
        },
        {
            "messages": 2,
            "sessions": 1,
            "words": 3,
            "user_words": 2,
            "assistant_words": 1,
            "input_tokens": 50,
            "output_tokens": 5,
        },
    ]


def test_activity_by_day_respects_the_period_bounds(store, coach, usage) -> None:
    # until is exclusive: the midnight message of March 2 is left out, and so is its day.
    frame = analytics.activity_by_day(store, coach.id, at(1, 0), at(2, 0))
    assert frame["day"].tolist() == [pd.Timestamp("2026-03-01")]
    assert frame["messages"].tolist() == [1]
    # A period with no messages still has its days, all zero.
    empty = analytics.activity_by_day(store, coach.id, date(2026, 4, 1), date(2026, 4, 3))
    assert empty["day"].tolist() == list(pd.date_range("2026-04-01", "2026-04-02"))
    assert int(empty.drop(columns="day").to_numpy().sum()) == 0


def test_tool_usage_by_day(store, coach, usage) -> None:
    frame = analytics.tool_usage_by_day(store, coach.id, date(2026, 3, 1), date(2026, 3, 31))

    assert frame.to_dict("records") == [
        {"day": pd.Timestamp("2026-03-02"), "tool": "calculator", "calls": 2},
        {"day": pd.Timestamp("2026-03-04"), "tool": "create_drill", "calls": 1},
    ]
