"""The analytics rollup (migration 0004) equals the sums over the raw messages, whatever wrote them.

Every test ends with core.analytics_rollup.rollup_differences: the rollup the
triggers kept, row by row, against the same table recomputed from the messages
by an independent GROUP BY. Both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from core import analytics
from core.analytics import Period, Scope
from core.analytics_rollup import (
    RAW_MESSAGES,
    ROLLED_MESSAGES,
    floor_to_bucket,
    message_facts,
    on_boundary,
    rebuild,
    rollup_differences,
)
from core.archive_in import import_archive
from core.archive_out import archive_bytes
from core.demo import load_demo_data
from core.models import ActivityRollup, Message, ModelRollup
from tests.core.analytics_usage import PERIOD, build_usage

T0 = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)


def rollup_rows(store, user_id=None) -> list[tuple]:
    with store.db.reading() as session:
        query = select(
            ActivityRollup.user_id,
            ActivityRollup.bucket,
            ActivityRollup.session_id,
            ActivityRollup.messages,
            ActivityRollup.words,
            ActivityRollup.user_words,
            ActivityRollup.assistant_words,
            ActivityRollup.input_tokens,
            ActivityRollup.output_tokens,
        ).order_by(ActivityRollup.bucket, ActivityRollup.session_id)
        if user_id is not None:
            query = query.where(ActivityRollup.user_id == user_id)
        return [tuple(row) for row in session.execute(query)]


def model_rows(store) -> list[tuple]:
    with store.db.reading() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    ModelRollup.bucket,
                    ModelRollup.model,
                    ModelRollup.input_tokens,
                    ModelRollup.output_tokens,
                    ModelRollup.replies,
                ).order_by(ModelRollup.bucket, ModelRollup.model)
            )
        ]


def test_boundaries() -> None:
    assert on_boundary(datetime(2026, 3, 1, 18, 30, tzinfo=UTC))  # Kolkata's midnight
    assert on_boundary(datetime(2026, 3, 1, 18, 15, tzinfo=UTC))  # Kathmandu's (+5:45)
    assert not on_boundary(datetime(2026, 3, 1, 18, 20, tzinfo=UTC))
    assert not on_boundary(datetime(2026, 3, 1, 18, 15, 0, 1, tzinfo=UTC))
    assert floor_to_bucket(datetime(2026, 3, 1, 10, 44, 59, 999_999, tzinfo=UTC)) == datetime(
        2026, 3, 1, 10, 30, tzinfo=UTC
    )
    assert message_facts(T0, T0 + timedelta(days=1)) is ROLLED_MESSAGES
    assert message_facts(T0, T0 + timedelta(minutes=20)) is RAW_MESSAGES


def test_appends_fill_fifteen_minute_buckets(store, coach) -> None:
    chat = store.create_session(coach.id).id
    store.add_message(coach.id, chat, "user", "one two three", created_at=T0)
    store.add_message(
        coach.id,
        chat,
        "assistant",
        "four five",
        model="claude-sonnet-5-5",
        input_tokens=100,
        output_tokens=20,
        created_at=T0 + timedelta(minutes=14, seconds=59, microseconds=999_999),
    )
    store.add_message(
        coach.id,
        chat,
        "assistant",
        "six",
        model="claude-sonnet-5-5",
        input_tokens=50,
        output_tokens=5,
        created_at=T0 + timedelta(minutes=15),
    )

    assert rollup_rows(store) == [
        (coach.id, T0, chat, 2, 5, 3, 2, 100, 20),
        (coach.id, T0 + timedelta(minutes=15), chat, 1, 1, 0, 1, 50, 5),
    ]
    assert model_rows(store) == [
        (T0, "claude-sonnet-5-5", 100, 20, 1),
        (T0 + timedelta(minutes=15), "claude-sonnet-5-5", 50, 5, 1),
    ]
    assert rollup_differences(store.db) == []


def test_a_finished_reply_moves_its_words_and_tokens(store, coach) -> None:
    chat = store.create_session(coach.id).id
    store.add_message(coach.id, chat, "user", "plan a session", created_at=T0)
    reply = store.add_message(
        coach.id, chat, "assistant", "", status="partial", created_at=T0 + timedelta(minutes=1)
    )
    store.update_message(
        coach.id,
        reply.id,
        content="a warm-up then three rondos",
        status="complete",
        model="claude-sonnet-5-5",
        input_tokens=300,
        output_tokens=40,
    )

    assert rollup_rows(store) == [(coach.id, T0, chat, 2, 8, 3, 5, 300, 40)]
    assert model_rows(store) == [(T0, "claude-sonnet-5-5", 300, 40, 1)]
    assert rollup_differences(store.db) == []


def test_deleting_sessions_and_coaches_removes_their_rows(store, coach, other_coach) -> None:
    usage = build_usage(store, coach, other_coach)
    assert rollup_rows(store, other_coach.id)
    store.delete_session(coach.id, usage.chat)
    assert rollup_differences(store.db) == []
    assert {row[2] for row in rollup_rows(store, coach.id)} == {usage.drill}

    store.delete_user(other_coach.id)
    assert rollup_rows(store, other_coach.id) == []
    assert rollup_differences(store.db) == []


def test_import_and_demo_data_fill_the_rollup(store, coach, other_coach) -> None:
    build_usage(store, coach, other_coach)
    archive = archive_bytes(store, coach.id)
    store.create_user("newcoach")
    import_archive(store, archive, as_user="newcoach")
    newcoach = store.get_user("newcoach")
    # The imported copy has the same sums, bucket by bucket, under the new owner.
    copied = [(row[1], *row[3:]) for row in rollup_rows(store, newcoach.id)]
    original = [(row[1], *row[3:]) for row in rollup_rows(store, coach.id)]
    assert sorted(copied, key=str) == sorted(original, key=str)

    load_demo_data(store, users=2, sessions=6, messages=120, seed=3, now=T0)
    with store.db.reading() as session:
        assert session.scalar(select(func.sum(ActivityRollup.messages))) == session.scalar(
            select(func.count()).select_from(Message)
        )
    assert rollup_differences(store.db) == []


def test_rebuild_restores_a_damaged_rollup(store, coach, other_coach) -> None:
    build_usage(store, coach, other_coach)
    before = rollup_rows(store)
    with store.db.writing() as session:
        session.execute(delete(ActivityRollup).where(ActivityRollup.user_id == coach.id))
        session.execute(delete(ModelRollup))
    assert rollup_differences(store.db) != []

    result = rebuild(store.db, coach.id)
    assert result.activity_rows == len([row for row in before if row[0] == coach.id])
    assert rollup_differences(store.db, coach.id) == []

    rebuild(store.db)
    assert rollup_differences(store.db) == []
    assert rollup_rows(store) == before


def test_page_figures_from_the_rollup_equal_those_from_the_rows(store, coach, other_coach) -> None:
    """The same period asked on a bucket boundary (rollup) and a microsecond off it (rows)."""
    build_usage(store, coach, other_coach)
    scope = Scope.own(coach.id)
    # No message sits in the first microsecond of either period, so both must agree.
    off = Period(PERIOD.since + timedelta(microseconds=1), PERIOD.until)
    rolled = analytics.period_figures(store, scope, PERIOD)
    raw = analytics.period_figures(store, scope, off)
    assert rolled.current == raw.current
    for name in ("message_series", "activity_heatmap", "words_per_session_histogram"):
        function = getattr(analytics, name)
        assert (
            function(store, scope, PERIOD)
            .drop(columns=["bucket"], errors="ignore")
            .equals(function(store, scope, off).drop(columns=["bucket"], errors="ignore"))
        ), name
    assert analytics.top_sessions(store, scope, PERIOD).equals(
        analytics.top_sessions(store, scope, off)
    )


def test_all_time_starts_at_the_bucket_of_the_first_message(store, coach, other_coach) -> None:
    build_usage(store, coach, other_coach)
    first = analytics.first_activity(store, Scope.own(coach.id))
    with store.db.reading() as session:
        earliest = session.scalar(
            select(func.min(Message.created_at)).where(Message.user_id == coach.id)
        )
    assert first is not None and on_boundary(first)
    assert first <= earliest < first + timedelta(minutes=15)
    assert analytics.first_activity(store, Scope.own(9_999)) is None


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Asia/Kathmandu"])
def test_local_buckets_from_the_rollup_match_the_rows(store, coach, zone) -> None:
    """Messages one minute either side of a local midnight land in the right local day."""
    chat = store.create_session(coach.id).id
    # 2026-03-08 is New York's spring-forward day; the others have no change.
    days = Period.of_days(datetime(2026, 3, 7).date(), datetime(2026, 3, 9).date(), zone)
    midnight = Period.of_days(datetime(2026, 3, 8).date(), datetime(2026, 3, 8).date(), zone).since
    for offset, text in ((-1, "before midnight"), (1, "after midnight one")):
        store.add_message(
            coach.id, chat, "user", text, created_at=midnight + timedelta(minutes=offset)
        )
    rolled = analytics.message_series(store, Scope.own(coach.id), days, zone=zone, unit="day")
    assert rolled["user_words"].tolist() == [2, 3, 0]
    off = Period(days.since + timedelta(microseconds=1), days.until)
    raw = analytics.message_series(store, Scope.own(coach.id), off, zone=zone, unit="day")
    assert raw["user_words"].tolist() == [2, 3, 0]
