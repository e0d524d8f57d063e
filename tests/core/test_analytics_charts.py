"""core.analytics chart frames over the hand-made usage, and local-time buckets, both dialects."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from core import analytics
from core.analytics import Period, Scope
from core.errors import ValidationError
from core.time_buckets import bucket_for, zone_offsets
from tests.core.analytics_usage import PERIOD, build_usage


@pytest.fixture
def usage(store, coach, other_coach):
    return build_usage(store, coach, other_coach)


def nonzero(frame: pd.DataFrame, column: str) -> list[dict]:
    return frame[frame[column] != 0].to_dict("records")


def test_tool_frames(store, coach, usage) -> None:
    mine = Scope.own(coach.id)
    assert analytics.calls_per_tool(store, mine, PERIOD).to_dict("records") == [
        {"tool": "calculator", "calls": 2, "errors": 1, "error_share": 0.5},
        {"tool": "create_drill", "calls": 1, "errors": 0, "error_share": 0.0},
    ]
    over_time = analytics.tool_use_over_time(store, mine, PERIOD)
    assert len(over_time) == 10 * 2  # every day of the period for each tool
    assert nonzero(over_time, "calls") == [
        {"bucket": pd.Timestamp("2026-03-10"), "tool": "calculator", "calls": 2},
        {"bucket": pd.Timestamp("2026-03-15"), "tool": "create_drill", "calls": 1},
    ]
    durations = analytics.tool_durations(store, mine, PERIOD)
    assert durations.to_dict("records") == [
        {"tool": "create_drill", "calls": 1, "p50_ms": 50.0, "p95_ms": 50.0},
        {"tool": "calculator", "calls": 2, "p50_ms": 20.0, "p95_ms": pytest.approx(29.0)},
    ]
    only = analytics.calls_per_tool(store, mine, PERIOD, tool="create_drill")
    assert only["tool"].tolist() == ["create_drill"]
    assert analytics.calls_per_tool(store, mine, PERIOD, kind="chat")["calls"].tolist() == [2]


def test_message_frames_by_day_in_utc(store, coach, usage) -> None:
    mine = Scope.own(coach.id)
    words = analytics.words_over_time(store, mine, PERIOD)
    assert words["bucket"].nunique() == 10 and set(words["role"]) == {"user", "assistant"}
    assert nonzero(words, "words") == [
        {"bucket": pd.Timestamp("2026-03-10"), "role": "assistant", "words": 3},
        {"bucket": pd.Timestamp("2026-03-10"), "role": "user", "words": 3},
        {"bucket": pd.Timestamp("2026-03-15"), "role": "assistant", "words": 3},
        {"bucket": pd.Timestamp("2026-03-15"), "role": "user", "words": 2},
    ]
    tokens = analytics.tokens_over_time(store, mine, PERIOD)
    assert list(tokens.columns) == ["bucket", "input_tokens", "output_tokens"]
    assert nonzero(tokens, "input_tokens") == [
        {"bucket": pd.Timestamp("2026-03-10"), "input_tokens": 1500, "output_tokens": 250},
        {"bucket": pd.Timestamp("2026-03-15"), "input_tokens": 300, "output_tokens": 30},
    ]


def test_heatmap_in_utc_and_in_a_half_hour_zone(store, coach, usage) -> None:
    mine = Scope.own(coach.id)
    utc = analytics.activity_heatmap(store, mine, PERIOD)
    assert len(utc) == 7 * 24
    # 10 March 2026 is a Tuesday (1), 15 March a Sunday (6).
    assert nonzero(utc, "messages") == [
        {"weekday": 1, "hour": 9, "messages": 4},
        {"weekday": 6, "hour": 18, "messages": 2},
    ]
    # +5:30: 09:00 UTC is 14:30; 18:30 UTC on Sunday is midnight on Monday.
    kolkata = analytics.activity_heatmap(store, mine, PERIOD, zone="Asia/Kolkata")
    assert nonzero(kolkata, "messages") == [
        {"weekday": 0, "hour": 0, "messages": 2},
        {"weekday": 1, "hour": 14, "messages": 4},
    ]


def test_histogram_drills_and_top_sessions(store, coach, other_coach, usage) -> None:
    mine = Scope.own(coach.id)
    histogram = analytics.words_per_session_histogram(store, mine, PERIOD)
    assert histogram["label"].tolist()[:3] == ["0–49", "50–99", "100–199"]
    assert histogram["label"].iloc[-1] == "10,000+"
    assert nonzero(histogram, "sessions")[0]["sessions"] == 2  # 6 and 5 words
    assert histogram["sessions"].sum() == 2

    assert analytics.drills_by_sport_and_age(store, mine, PERIOD).to_dict("records") == [
        {"sport": "soccer", "age_group": "U12", "drills": 1}
    ]
    by_words = analytics.top_sessions(store, mine, PERIOD, by="words")
    assert by_words[["session_id", "kind", "value"]].values.tolist() == [
        [usage.chat, "chat", 6],
        [usage.drill, "drill", 5],
    ]
    assert by_words["title"].notna().all()
    by_calls = analytics.top_sessions(store, mine, PERIOD, by="tool_calls")
    assert by_calls[["session_id", "value"]].values.tolist() == [[usage.chat, 2], [usage.drill, 1]]
    with pytest.raises(ValidationError):
        analytics.top_sessions(store, mine, PERIOD, by="length")

    # An admin sees numbers of every coach's sessions, never their titles.
    admin = store.create_user("boss", role="admin")
    everyone = analytics.top_sessions(store, Scope.for_viewer(admin, all_coaches=True), PERIOD)
    assert set(everyone["session_id"]) == {usage.chat, usage.drill, usage.theirs}
    assert everyone["title"].isna().all()
    assert len(analytics.drills_by_sport_and_age(store, Scope(admin.id, None), PERIOD)) == 2


def test_words_per_session_bins(store, coach) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    for words in (0, 49, 50, 120, 10_000):
        session = store.create_session(coach.id).id
        store.add_message(coach.id, session, "user", "w " * words, created_at=start)
    period = Period(start, start + timedelta(days=1))
    histogram = analytics.words_per_session_histogram(store, Scope.own(coach.id), period)
    assert dict(zip(histogram["low"], histogram["sessions"], strict=True)) == {
        0: 2,
        50: 1,
        100: 1,
        200: 0,
        500: 0,
        1_000: 0,
        2_000: 0,
        5_000: 0,
        10_000: 1,
    }


def test_page_data_has_every_frame_and_the_admin_table(store, coach, usage) -> None:
    page = analytics.page_data(store, Scope.own(coach.id), PERIOD, zone="Europe/Paris")
    assert page.bucket == "day" and page.per_coach is None
    assert page.figures.current.messages == 6
    admin = store.create_user("boss", role="admin")
    everyone = analytics.page_data(store, Scope(admin.id, None), PERIOD)
    assert everyone.per_coach is not None and len(everyone.per_coach) == 3
    with pytest.raises(ValidationError, match="not a known time zone"):
        analytics.page_data(store, Scope.own(coach.id), PERIOD, zone="Mars/Olympus")


def test_an_empty_period_gives_empty_or_zero_frames(store, coach, usage) -> None:
    quiet = Period(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 8, tzinfo=UTC))
    page = analytics.page_data(store, Scope.own(coach.id), quiet)
    assert page.calls_per_tool.empty and page.tool_use_over_time.empty
    assert page.tool_durations.empty and page.drills_by_sport_and_age.empty
    assert page.top_sessions_by_words.empty and page.top_sessions_by_tool_calls.empty
    assert len(page.words_over_time) == 7 * 2 and page.words_over_time["words"].sum() == 0
    assert page.activity_heatmap["messages"].sum() == 0
    assert page.words_per_session["sessions"].sum() == 0


# ------------------------------------------------------------------- local-time buckets


def words_by_bucket(store, coach, period, zone, unit) -> dict:
    frame = analytics.words_over_time(store, Scope.own(coach.id), period, zone=zone, unit=unit)
    user = frame[(frame["role"] == "user") & (frame["words"] > 0)]
    return {row.bucket.date(): row.words for row in user.itertuples()}


def one_word_each(store, coach, *instants) -> None:
    session = store.create_session(coach.id).id
    for instant in instants:
        store.add_message(coach.id, session, "user", "word", created_at=instant)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_days_across_the_spring_and_autumn_changes_in_new_york(store, coach) -> None:
    one_word_each(
        store,
        coach,
        utc(2026, 3, 8, 4, 30),  # 23:30 EST on 7 March
        utc(2026, 3, 8, 6, 59),  # 01:59 EST on 8 March, the last minute before the change
        utc(2026, 3, 8, 7, 0),  # 03:00 EDT on 8 March
        utc(2026, 3, 9, 4, 30),  # 00:30 EDT on 9 March (23:30 on the 8th at the winter offset)
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT on 1 November
        utc(2026, 11, 1, 6, 30),  # 01:30 EST on 1 November: the hour that happens twice
        utc(2026, 11, 2, 4, 30),  # 23:30 EST on 1 November (00:30 on the 2nd at summer time)
    )
    zone = "America/New_York"
    spring = Period.of_days(date(2026, 3, 1), date(2026, 3, 14), zone)
    assert words_by_bucket(store, coach, spring, zone, "day") == {
        date(2026, 3, 7): 1,
        date(2026, 3, 8): 2,
        date(2026, 3, 9): 1,
    }
    # Weeks start on Monday: 8 March is a Sunday, 9 March a Monday.
    assert words_by_bucket(store, coach, spring, zone, "week") == {
        date(2026, 3, 2): 3,
        date(2026, 3, 9): 1,
    }
    autumn = Period.of_days(date(2026, 10, 25), date(2026, 11, 7), zone)
    assert words_by_bucket(store, coach, autumn, zone, "day") == {date(2026, 11, 1): 3}
    heatmap = analytics.activity_heatmap(store, Scope.own(coach.id), autumn, zone=zone)
    assert nonzero(heatmap, "messages") == [
        {"weekday": 6, "hour": 1, "messages": 2},
        {"weekday": 6, "hour": 23, "messages": 1},
    ]
    # The whole year, per month: the buckets follow the local calendar too.
    year = Period.of_days(date(2026, 1, 1), date(2026, 12, 31), zone)
    assert words_by_bucket(store, coach, year, zone, None) == {
        date(2026, 3, 1): 4,
        date(2026, 11, 1): 3,
    }


def test_month_and_year_ends_in_kolkata_and_utc(store, coach) -> None:
    one_word_each(
        store,
        coach,
        utc(2026, 1, 31, 23, 59, 59, 999_999),  # January in UTC, 1 February in Kolkata
        utc(2026, 2, 1, 0, 0),
        utc(2026, 12, 31, 18, 29),  # 23:59 on 31 December in Kolkata
        utc(2026, 12, 31, 18, 30),  # midnight, 1 January 2027 in Kolkata
    )
    whole = Period(utc(2025, 12, 1), utc(2027, 2, 1))
    assert words_by_bucket(store, coach, whole, "UTC", "month") == {
        date(2026, 1, 1): 1,
        date(2026, 2, 1): 1,
        date(2026, 12, 1): 2,
    }
    assert words_by_bucket(store, coach, whole, "Asia/Kolkata", "month") == {
        date(2026, 2, 1): 2,
        date(2026, 12, 1): 1,
        date(2027, 1, 1): 1,
    }
    new_year = Period.of_days(date(2026, 12, 28), date(2027, 1, 3), "Asia/Kolkata")
    assert words_by_bucket(store, coach, new_year, "Asia/Kolkata", "day") == {
        date(2026, 12, 31): 1,
        date(2027, 1, 1): 1,
    }
    # 1 January 2027 is a Friday: its week began on Monday 28 December 2026.
    assert words_by_bucket(store, coach, new_year, "Asia/Kolkata", "week") == {
        date(2026, 12, 28): 2
    }
    frame = analytics.words_over_time(
        store, Scope.own(coach.id), new_year, zone="Asia/Kolkata", unit="week"
    )
    assert frame["bucket"].unique().tolist() == [pd.Timestamp("2026-12-28")]


def test_a_bad_zone_is_a_sentence(store, coach) -> None:
    for name in ("Mars/Olympus", "", "../../etc/passwd", "UTC\x00"):
        with pytest.raises(ValidationError, match="not a known time zone"):
            analytics.words_over_time(store, Scope.own(coach.id), PERIOD, zone=name)


def test_the_bucket_follows_the_length_of_the_period() -> None:
    start = utc(2026, 1, 1)
    assert bucket_for(start, start + timedelta(days=45)) == "day"
    assert bucket_for(start, start + timedelta(days=46)) == "week"
    assert bucket_for(start, start + timedelta(days=270)) == "week"
    assert bucket_for(start, start + timedelta(days=271)) == "month"


def test_zone_offsets_find_each_transition() -> None:
    offsets = zone_offsets(ZoneInfo("America/New_York"), utc(2026, 1, 1), utc(2027, 1, 1))
    assert [(o.from_utc, o.minutes) for o in offsets] == [
        (utc(2026, 1, 1), -300),
        (utc(2026, 3, 8, 7), -240),
        (utc(2026, 11, 1, 6), -300),
    ]
    (only,) = zone_offsets(ZoneInfo("Asia/Kolkata"), utc(2026, 1, 1), utc(2027, 1, 1))
    assert only.minutes == 330


def test_all_coaches_frames_are_the_sum_over_coaches(store, coach, other_coach, usage) -> None:
    admin = store.create_user("boss", role="admin")
    everyone = Scope.for_viewer(admin, all_coaches=True)
    each = [Scope.for_viewer(admin, coach_id=user.id) for user in (coach, other_coach, admin)]
    for frame, keys, value in (
        (analytics.calls_per_tool, ["tool"], "calls"),
        (analytics.words_over_time, ["bucket", "role"], "words"),
        (analytics.tokens_over_time, ["bucket"], "input_tokens"),
        (analytics.activity_heatmap, ["weekday", "hour"], "messages"),
        (analytics.drills_by_sport_and_age, ["sport", "age_group"], "drills"),
    ):
        total = frame(store, everyone, PERIOD).groupby(keys)[value].sum()
        parts = pd.concat([frame(store, scope, PERIOD) for scope in each])
        assert total.to_dict() == parts.groupby(keys)[value].sum().to_dict(), frame.__name__
    assert analytics.calls_per_tool(store, everyone, PERIOD)["errors"].tolist() == [2, 0]
