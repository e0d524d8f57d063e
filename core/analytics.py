"""How a coach uses the assistant, aggregated in SQL: the Analytics page's one entry point.

The figures live in core/analytics_figures.py, the chart frames in
core/analytics_charts.py, Period and Scope in core/analytics_scope.py; this
module names them all, adds `page_data` (everything the page shows, in one
call) and keeps the all-time totals of `python -m core stats`.

Every function scopes by user in the query and lets the database do the
counting (GROUP BY), so the cost follows the number of groups shown, never the
number of messages stored. Times are bucketed into UTC calendar days by the
database itself, through one small function per dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Date, case, cast, distinct, func, select
from sqlalchemy.sql.elements import ColumnElement

from core.analytics_charts import (
    activity_heatmap,
    calls_per_tool,
    chart_bucket,
    drills_by_sport_and_age,
    message_series,
    tokens_of,
    tokens_over_time,
    tool_durations,
    tool_use_over_time,
    top_sessions,
    words_of,
    words_over_time,
    words_per_session_histogram,
)
from core.analytics_figures import (
    FIGURE_NAMES,
    Figures,
    PeriodNumbers,
    per_coach_table,
    period_figures,
)
from core.analytics_scope import Filters, Period, Scope, database_of, user_condition
from core.db import Database
from core.models import MESSAGE_ROLES, ActivityRollup, ChatSession, Message, ToolCall
from core.store import ConversationStore
from core.time_buckets import check_zone

__all__ = [
    "FIGURE_NAMES",
    "Figures",
    "Filters",
    "PageData",
    "Period",
    "PeriodNumbers",
    "Scope",
    "Stats",
    "activity_by_day",
    "activity_heatmap",
    "calls_per_tool",
    "chart_bucket",
    "drills_by_sport_and_age",
    "first_activity",
    "message_series",
    "page_data",
    "per_coach_table",
    "period_figures",
    "stats",
    "tokens_over_time",
    "tool_durations",
    "tool_usage",
    "tool_usage_by_day",
    "tool_use_over_time",
    "top_sessions",
    "words_over_time",
    "words_per_session_histogram",
]

ACTIVITY_COLUMNS = [
    "day",
    "messages",
    "sessions",
    "words",
    "user_words",
    "assistant_words",
    "input_tokens",
    "output_tokens",
]
TOOL_USAGE_COLUMNS = ["tool", "calls", "errors", "sessions", "avg_duration_ms"]
TOOL_DAY_COLUMNS = ["day", "tool", "calls"]


@dataclass(frozen=True)
class Stats:
    """A coach's totals: every session (archived included), every message of every role."""

    sessions: int
    messages: int
    words_by_role: dict[str, int]
    tool_calls_by_name: dict[str, int]
    input_tokens: int
    output_tokens: int

    @property
    def words(self) -> int:
        return sum(self.words_by_role.values())

    @property
    def tool_calls(self) -> int:
        return sum(self.tool_calls_by_name.values())

    def to_json(self) -> dict[str, Any]:
        """The shape `python -m core stats --json` prints."""
        return {
            "sessions": self.sessions,
            "messages": self.messages,
            "words": dict(self.words_by_role),
            "tool_calls": dict(self.tool_calls_by_name),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


def _database(source: Database | ConversationStore) -> Database:
    return source.db if isinstance(source, ConversationStore) else source


def _instant(value: date | datetime) -> datetime:
    """A date means its midnight in UTC; a time without a zone is UTC."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_day(column: Any) -> ColumnElement[date]:
    # Stored as naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'; date() keeps the day.
    return func.date(column, type_=Date)


def _postgresql_day(column: Any) -> ColumnElement[date]:
    return cast(func.date_trunc("day", func.timezone("UTC", column)), Date)


_DAY_BUCKETS: dict[str, Callable[[Any], ColumnElement[date]]] = {
    "sqlite": _sqlite_day,
    "postgresql": _postgresql_day,
}


def utc_day(db: Database, column: Any) -> ColumnElement[date]:
    """The UTC calendar day of a timestamp column, computed by the database."""
    return _DAY_BUCKETS[db.dialect](column)


def _period(column: Any, since: date | datetime | None, until: date | datetime | None) -> list:
    conditions = []
    if since is not None:
        conditions.append(column >= _instant(since))
    if until is not None:
        conditions.append(column < _instant(until))
    return conditions


def stats(
    source: Database | ConversationStore, user_id: int, period: Period | None = None
) -> Stats:
    """The coach's totals, read in one snapshot; roles with no messages count zero words.

    Without a period: every session (archived and empty ones included) and every
    message. With one: the messages and tool calls of the period, and the
    sessions that had a message in it.
    """
    db = _database(source)
    message_when = [] if period is None else _period(Message.created_at, period.since, period.until)
    call_when = [] if period is None else _period(ToolCall.created_at, period.since, period.until)
    with db.reading() as session:
        if period is None:
            sessions = session.scalar(
                select(func.count()).select_from(ChatSession).where(ChatSession.user_id == user_id)
            )
        else:
            sessions = session.scalar(
                select(func.count(distinct(Message.session_id))).where(
                    Message.user_id == user_id, *message_when
                )
            )
        by_role = session.execute(
            select(
                Message.role,
                func.count(),
                func.coalesce(func.sum(Message.word_count), 0),
                func.coalesce(func.sum(Message.input_tokens), 0),
                func.coalesce(func.sum(Message.output_tokens), 0),
            )
            .where(Message.user_id == user_id, *message_when)
            .group_by(Message.role)
        ).all()
        by_tool = session.execute(
            select(ToolCall.name, func.count())
            .where(ToolCall.user_id == user_id, *call_when)
            .group_by(ToolCall.name)
            .order_by(func.count().desc(), ToolCall.name)
        ).all()
    words = dict.fromkeys(MESSAGE_ROLES, 0)
    for role, _count, role_words, _in, _out in by_role:
        words[role] = int(role_words)
    return Stats(
        sessions=int(sessions or 0),
        messages=sum(int(row[1]) for row in by_role),
        words_by_role=words,
        tool_calls_by_name={name: int(count) for name, count in by_tool},
        input_tokens=sum(int(row[3]) for row in by_role),
        output_tokens=sum(int(row[4]) for row in by_role),
    )


def tool_usage(
    source: Database | ConversationStore,
    user_id: int,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> pd.DataFrame:
    """One row per tool: calls, errors, sessions it was used in and mean duration; most used first.

    `since` is inclusive and `until` exclusive, as everywhere in Huddle.
    """
    db = _database(source)
    query = (
        select(
            ToolCall.name,
            func.count(),
            func.coalesce(func.sum(case((ToolCall.is_error, 1), else_=0)), 0),
            func.count(distinct(ToolCall.session_id)),
            func.avg(ToolCall.duration_ms),
        )
        .where(ToolCall.user_id == user_id, *_period(ToolCall.created_at, since, until))
        .group_by(ToolCall.name)
        .order_by(func.count().desc(), ToolCall.name)
    )
    with db.reading() as session:
        rows = session.execute(query).all()
    frame = pd.DataFrame(
        [
            (name, int(calls), int(errors), int(sessions), None if avg is None else float(avg))
            for name, calls, errors, sessions, avg in rows
        ],
        columns=TOOL_USAGE_COLUMNS,
    )
    return frame.astype({"calls": "int64", "errors": "int64", "sessions": "int64"}).astype(
        {"avg_duration_ms": "float64"}
    )


def _day_index(since: date | datetime, until: date | datetime) -> pd.DatetimeIndex:
    first = _instant(since).date()
    last = (_instant(until) - pd.Timedelta(microseconds=1)).date()
    return (
        pd.date_range(first, last, freq="D", name="day")
        if first <= last
        else pd.DatetimeIndex([], name="day")
    )


def activity_by_day(
    source: Database | ConversationStore,
    user_id: int,
    since: date | datetime,
    until: date | datetime,
) -> pd.DataFrame:
    """One row per UTC day in [since, until), days without activity included as zeros.

    Columns: day, messages, sessions (with a message that day), words, user_words,
    assistant_words, input_tokens, output_tokens.
    """
    db = _database(source)
    day = utc_day(db, Message.created_at).label("day")
    query = (
        select(
            day,
            func.count(),
            func.count(distinct(Message.session_id)),
            func.coalesce(func.sum(Message.word_count), 0),
            func.coalesce(func.sum(case((Message.role == "user", Message.word_count), else_=0)), 0),
            func.coalesce(
                func.sum(case((Message.role == "assistant", Message.word_count), else_=0)), 0
            ),
            func.coalesce(func.sum(Message.input_tokens), 0),
            func.coalesce(func.sum(Message.output_tokens), 0),
        )
        .where(Message.user_id == user_id, *_period(Message.created_at, since, until))
        .group_by(day)
        .order_by(day)
    )
    with db.reading() as session:
        rows = session.execute(query).all()
    found = pd.DataFrame(
        [[pd.Timestamp(row[0]), *(int(value) for value in row[1:])] for row in rows],
        columns=ACTIVITY_COLUMNS,
    ).set_index("day")
    filled = found.reindex(_day_index(since, until), fill_value=0)
    return filled.astype("int64").reset_index()


def tool_usage_by_day(
    source: Database | ConversationStore,
    user_id: int,
    since: date | datetime,
    until: date | datetime,
) -> pd.DataFrame:
    """Calls per UTC day and tool in [since, until), long format (day, tool, calls) for charts."""
    db = _database(source)
    day = utc_day(db, ToolCall.created_at).label("day")
    query = (
        select(day, ToolCall.name, func.count())
        .where(ToolCall.user_id == user_id, *_period(ToolCall.created_at, since, until))
        .group_by(day, ToolCall.name)
        .order_by(day, ToolCall.name)
    )
    with db.reading() as session:
        rows = session.execute(query).all()
    frame = pd.DataFrame(
        [(pd.Timestamp(day_), name, int(calls)) for day_, name, calls in rows],
        columns=TOOL_DAY_COLUMNS,
    )
    return frame.astype({"day": "datetime64[ns]", "calls": "int64"})


def first_activity(source: Database | ConversationStore, scope: Scope) -> datetime | None:
    """The start of "all time": the 15-minute bucket of the scope's first message, or None.

    A bucket boundary, so an all-time period is answered from the rollup; the
    bucket holds the first message, so nothing is left out.
    """
    db = database_of(source)
    with db.reading() as session:
        first = session.scalar(
            select(func.min(ActivityRollup.bucket)).where(
                *user_condition(ActivityRollup.user_id, scope)
            )
        )
    if first is None:
        return None
    return _instant(first if isinstance(first, datetime) else datetime.fromisoformat(first))


@dataclass(frozen=True)
class PageData:
    """Every figure and chart frame of the Analytics page for one scope, period and filter."""

    figures: Figures
    bucket: str
    calls_per_tool: pd.DataFrame
    tool_use_over_time: pd.DataFrame
    words_over_time: pd.DataFrame
    tokens_over_time: pd.DataFrame
    words_per_session: pd.DataFrame
    activity_heatmap: pd.DataFrame
    tool_durations: pd.DataFrame
    drills_by_sport_and_age: pd.DataFrame
    top_sessions_by_words: pd.DataFrame
    top_sessions_by_tool_calls: pd.DataFrame
    per_coach: pd.DataFrame | None  # all coaches only


def page_data(
    source: Database | ConversationStore,
    scope: Scope,
    period: Period,
    *,
    zone: str = "UTC",
    kind: str | None = None,
    tool: str | None = None,
) -> PageData:
    """Everything the page shows; bad zone, kind or period raise ValidationError first."""
    check_zone(zone)
    Filters(kind=kind, tool=tool)
    unit = chart_bucket(period)
    filters = {"kind": kind, "tool": tool}
    series = message_series(source, scope, period, zone=zone, **filters)
    return PageData(
        figures=period_figures(source, scope, period, **filters),
        bucket=unit,
        calls_per_tool=calls_per_tool(source, scope, period, **filters),
        tool_use_over_time=tool_use_over_time(source, scope, period, zone=zone, **filters),
        words_over_time=words_of(series),
        tokens_over_time=tokens_of(series),
        words_per_session=words_per_session_histogram(source, scope, period, **filters),
        activity_heatmap=activity_heatmap(source, scope, period, zone=zone, **filters),
        tool_durations=tool_durations(source, scope, period, **filters),
        drills_by_sport_and_age=drills_by_sport_and_age(source, scope, period),
        top_sessions_by_words=top_sessions(source, scope, period, by="words", **filters),
        top_sessions_by_tool_calls=top_sessions(source, scope, period, by="tool_calls", **filters),
        per_coach=per_coach_table(source, period) if scope.all_coaches else None,
    )
