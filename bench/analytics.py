"""The Analytics issue's benchmark: every aggregate of the page, and the whole page, timed.

For the busiest coach of the corpus and for an admin's all-coaches view, over
the last 30 days and over all time, in America/New_York (a zone with a
daylight-saving change inside the corpus): each function the page calls, then
`page_data` (everything at once). Two clocks per call: the database's (the sum
of the statements' execute times, from SQLAlchemy's cursor events) and the
whole call (statements, fetching and building the DataFrame).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select

from core import analytics
from core.analytics import Period, Scope
from core.analytics_rollup import rebuild
from core.db import Database
from core.models import ActivityRollup, Message, ModelRollup
from core.store import ConversationStore

ZONE = "America/New_York"
PAGE = "whole page (page_data)"


@dataclass(frozen=True)
class CallTimings:
    name: str
    db_ms: list[float]
    wall_ms: list[float]


@dataclass(frozen=True)
class ViewTimings:
    """One scope and period: its calls, the whole page last."""

    scope: str  # "busiest coach (N messages)" or "all coaches"
    period: str  # "30 days" or "all time"
    messages: int  # messages of the scope in the period
    calls: list[CallTimings]

    @property
    def page(self) -> CallTimings:
        return self.calls[-1]


@dataclass(frozen=True)
class AnalyticsTimings:
    views: list[ViewTimings]
    activity_rows: int
    model_rows: int
    messages: int
    rebuild_seconds: float


class _StatementClock:
    """Adds up the execute time of every statement on an engine while it is on."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine
        self.total = 0.0
        self._started: dict[int, float] = {}

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        began = self._started.pop(id(cursor), None)
        if began is not None:
            self.total += time.perf_counter() - began

    @contextmanager
    def running(self) -> Iterator[None]:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        try:
            yield
        finally:
            event.remove(self.engine, "before_cursor_execute", self._before)
            event.remove(self.engine, "after_cursor_execute", self._after)


def _calls(store: ConversationStore, scope: Scope, period: Period) -> dict[str, Callable[[], Any]]:
    a = analytics
    zoned = {"zone": ZONE}
    calls: dict[str, Callable[[], Any]] = {
        "period_figures (16 figures, both periods)": lambda: a.period_figures(store, scope, period),
        "calls_per_tool": lambda: a.calls_per_tool(store, scope, period),
        "tool_use_over_time": lambda: a.tool_use_over_time(store, scope, period, **zoned),
        "message_series (words and tokens)": lambda: a.message_series(
            store, scope, period, **zoned
        ),
        "words_per_session_histogram": lambda: a.words_per_session_histogram(store, scope, period),
        "activity_heatmap": lambda: a.activity_heatmap(store, scope, period, **zoned),
        "tool_durations": lambda: a.tool_durations(store, scope, period),
        "drills_by_sport_and_age": lambda: a.drills_by_sport_and_age(store, scope, period),
        "top_sessions by words": lambda: a.top_sessions(store, scope, period, by="words"),
        "top_sessions by tool calls": lambda: a.top_sessions(store, scope, period, by="tool_calls"),
    }
    if scope.all_coaches:
        calls["per_coach_table"] = lambda: a.per_coach_table(store, period)
    calls[PAGE] = lambda: a.page_data(store, scope, period, zone=ZONE)
    return calls


def _time(clock: _StatementClock, name: str, call: Callable[[], Any], runs: int) -> CallTimings:
    call()  # warm: the first call pays for planning and the cache, as a page's first render
    db_ms, wall_ms = [], []
    for _ in range(runs):
        clock.total = 0.0
        started = time.perf_counter()
        call()
        wall_ms.append((time.perf_counter() - started) * 1000)
        db_ms.append(clock.total * 1000)
    return CallTimings(name, db_ms, wall_ms)


def _messages_in(store: ConversationStore, scope: Scope, period: Period) -> int:
    conditions = [Message.created_at >= period.since, Message.created_at < period.until]
    if scope.user_id is not None:
        conditions.append(Message.user_id == scope.user_id)
    with store.db.reading() as session:
        return int(session.scalar(select(func.count()).where(*conditions)) or 0)


def _busiest_coach(store: ConversationStore) -> tuple[int, int]:
    with store.db.reading() as session:
        row = session.execute(
            select(ActivityRollup.user_id, func.sum(ActivityRollup.messages).label("n"))
            .group_by(ActivityRollup.user_id)
            .order_by(func.sum(ActivityRollup.messages).desc())
            .limit(1)
        ).one()
    return int(row[0]), int(row[1])


def _rows(store: ConversationStore, table: Any) -> int:
    with store.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def time_analytics(store: ConversationStore, runs: int, now: datetime) -> AnalyticsTimings:
    """Every view of the page, each call `runs` times after one warm-up call."""
    clock = _StatementClock(store.db)
    coach_id, coach_messages = _busiest_coach(store)
    admin = Scope(viewer_id=coach_id, user_id=None)
    views = []
    with clock.running():
        for scope, label in (
            (Scope.own(coach_id), f"busiest coach ({coach_messages:,} messages)"),
            (admin, "all coaches"),
        ):
            first = analytics.first_activity(store, scope)
            for period_label, period in (
                ("30 days", Period.last_days(30, now, ZONE)),
                ("all time", Period(first, Period.last_days(1, now, ZONE).until)),
            ):
                print(f"  analytics: {label}, {period_label}", file=sys.stderr, flush=True)
                calls = [
                    _time(clock, name, call, runs)
                    for name, call in _calls(store, scope, period).items()
                ]
                views.append(
                    ViewTimings(label, period_label, _messages_in(store, scope, period), calls)
                )
    rebuilt = rebuild(store.db)
    return AnalyticsTimings(
        views=views,
        activity_rows=_rows(store, ActivityRollup),
        model_rows=_rows(store, ModelRollup),
        messages=_rows(store, Message),
        rebuild_seconds=rebuilt.seconds,
    )
