"""The Analytics page's figures for a period and the one before it, and the admin's table per coach.

Each query covers both periods at once ([previous.since, period.until)) and
groups by which of the two a row falls in, so the change against the previous
period costs no second pass over the rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import case, distinct, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from core.analytics_rollup import message_facts, model_facts
from core.analytics_scope import (
    Filters,
    Period,
    Scope,
    database_of,
    message_conditions,
    period_condition,
    session_conditions,
    tool_call_conditions,
    user_condition,
)
from core.db import Database
from core.models import ChatSession, Drill, Message, ToolCall, User
from core.prices import ModelUsage, Price, estimate_cost
from core.quantiles import quantiles_of, unindexed
from core.store import ConversationStore

CURRENT, PREVIOUS = 1, 0
PER_COACH_COLUMNS = [
    "user_id",
    "username",
    "sessions",
    "messages",
    "words",
    "tool_calls",
    "input_tokens",
    "output_tokens",
    "tokens",
    "last_active",
]


@dataclass(frozen=True)
class PeriodNumbers:
    """Every figure of one period. Quantiles are None when no message had the value."""

    sessions: int = 0  # sessions with a message in the period
    messages: int = 0
    words: int = 0
    user_words: int = 0
    assistant_words: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0  # of the priced models only
    unpriced_tokens: int = 0  # input + output tokens of models missing from the price table
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    first_token_p50_ms: float | None = None
    first_token_p95_ms: float | None = None
    drills: int = 0  # drills created in the period

    @property
    def tool_error_rate(self) -> float | None:
        """Share of tool calls that failed, 0..1; None without calls."""
        return self.tool_errors / self.tool_calls if self.tool_calls else None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "tool_error_rate": self.tool_error_rate}


FIGURE_NAMES = (*(field.name for field in fields(PeriodNumbers)), "tool_error_rate")


@dataclass(frozen=True)
class Figures:
    """The figures of a period beside those of the previous period of the same length."""

    period: Period
    current: PeriodNumbers
    previous: PeriodNumbers
    unpriced_models: tuple[str, ...] = ()

    def change(self, name: str) -> float | None:
        """Relative change against the previous period (0.25 = +25 %); None when it had none."""
        now, before = getattr(self.current, name), getattr(self.previous, name)
        if now is None or not before:
            return None
        return (now - before) / before

    def to_json(self) -> dict[str, Any]:
        previous = self.period.previous()
        return {
            "period": {"since": _iso(self.period.since), "until": _iso(self.period.until)},
            "previous_period": {"since": _iso(previous.since), "until": _iso(previous.until)},
            "figures": self.current.to_json(),
            "previous": self.previous.to_json(),
            "change": {name: self.change(name) for name in FIGURE_NAMES},
            "unpriced_models": list(self.unpriced_models),
        }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _which(column: Any, period: Period) -> ColumnElement[int]:
    """1 for a row of the period, 0 for one of the previous period."""
    return case((column >= period.since, CURRENT), else_=PREVIOUS)


def _both(period: Period) -> Period:
    return Period(period.previous().since, period.until)


def period_figures(
    source: Database | ConversationStore,
    scope: Scope,
    period: Period,
    *,
    kind: str | None = None,
    tool: str | None = None,
    prices: dict[str, Price] | None = None,
) -> Figures:
    """Every figure for the period and the previous one, scoped and filtered in SQL.

    kind keeps messages and tool calls of sessions of that kind; tool keeps the
    calls of that tool and the messages of sessions where it was called. Drills
    are not sessions, so those two filters leave the drill count alone.
    """
    db = database_of(source)
    filters = Filters(kind=kind, tool=tool)
    both = _both(period)
    values: dict[int, dict[str, Any]] = {CURRENT: {}, PREVIOUS: {}}
    with db.reading() as session:
        facts = message_facts(both.since, both.until)
        which = _which(facts.time, period).label("which")
        for row in session.execute(
            select(
                which,
                func.count(distinct(facts.session_id)),
                *(
                    func.sum(getattr(facts, name))
                    for name in ("messages", "words", "user_words", "assistant_words")
                ),
            )
            .where(*message_conditions(facts, scope, both, filters))
            .group_by(which)
        ):
            values[row[0]].update(
                zip(
                    ("sessions", "messages", "words", "user_words", "assistant_words"),
                    (int(v or 0) for v in row[1:]),
                    strict=True,
                )
            )
        usage: dict[int, list[ModelUsage]] = {CURRENT: [], PREVIOUS: []}
        models = model_facts(both.since, both.until)
        model_which = _which(models.time, period).label("which")
        for flag, model, tokens_in, tokens_out in session.execute(
            select(
                model_which,
                models.model,
                func.coalesce(func.sum(models.input_tokens), 0),
                func.coalesce(func.sum(models.output_tokens), 0),
            )
            .where(*message_conditions(models, scope, both, filters), *models.conditions)
            .group_by(model_which, models.model)
        ):
            # The rollup keeps "no model" as '' (a key cannot be NULL).
            usage[flag].append(ModelUsage(model or None, int(tokens_in), int(tokens_out)))
        # One query per period rather than one grouped by period, so each reads
        # only its own range of the partial index on replies (migration 0004); the
        # role is a literal, not a bound value, so that both databases can use it.
        reply = Message.role == literal_column("'assistant'")
        for flag, part in ((CURRENT, period), (PREVIOUS, period.previous())):
            replies = [*_reply_conditions(db, scope, part, filters), reply]
            timings = quantiles_of(session, [Message.latency_ms, Message.first_token_ms], replies)
            for name, (found,) in zip(("latency", "first_token"), timings, strict=True):
                values[flag][f"{name}_p50_ms"] = found.values[0]
                values[flag][f"{name}_p95_ms"] = found.values[1]
        call_which = _which(ToolCall.created_at, period).label("which")
        for flag, calls, errors in session.execute(
            select(call_which, func.count(), func.sum(case((ToolCall.is_error, 1), else_=0)))
            .where(*tool_call_conditions(ToolCall, scope, both, filters))
            .group_by(call_which)
        ):
            values[flag].update(tool_calls=int(calls), tool_errors=int(errors or 0))
        drill_which = _which(Drill.created_at, period).label("which")
        for flag, drills in session.execute(
            select(drill_which, func.count())
            .where(*user_condition(Drill.user_id, scope), *period_condition(Drill.created_at, both))
            .group_by(drill_which)
        ):
            values[flag]["drills"] = int(drills)
    unpriced: set[str] = set()
    for flag in (CURRENT, PREVIOUS):
        cost = estimate_cost(usage[flag], prices)
        values[flag].update(
            input_tokens=sum(row.input_tokens for row in usage[flag]),
            output_tokens=sum(row.output_tokens for row in usage[flag]),
            cost_usd=cost.usd,
            unpriced_tokens=cost.unpriced_tokens,
        )
        if flag == CURRENT:
            unpriced.update(cost.unpriced_models)
    return Figures(
        period=period,
        current=PeriodNumbers(**values[CURRENT]),
        previous=PeriodNumbers(**values[PREVIOUS]),
        unpriced_models=tuple(sorted(unpriced)),
    )


def _reply_conditions(
    db: Database, scope: Scope, period: Period, filters: Filters
) -> list[ColumnElement[bool]]:
    """Which replies' timings count. Everyone's on SQLite: the period on `+created_at`, so
    that each quantile walks its index in value order instead of sorting the period's rows
    (core/quantiles.py, migration 0004); one coach's replies are few enough to sort."""
    if db.dialect != "sqlite" or not scope.all_coaches:
        return message_conditions(Message, scope, period, filters)
    return [
        *period_condition(unindexed(Message.created_at), period),
        *session_conditions(Message.session_id, scope, filters),
    ]


def per_coach_table(source: Database | ConversationStore, period: Period) -> pd.DataFrame:
    """One row per user (admins' page only): the period's aggregates and when they were last active.

    Numbers only, never text. last_active is the user's latest activity at any
    time (None if they have no session), so a quiet coach still shows when they were last seen.
    """
    db = database_of(source)
    with db.reading() as session:
        users = session.execute(select(User.id, User.username).order_by(User.username)).all()
        facts = message_facts(period.since, period.until)
        messages = {
            row[0]: row[1:]
            for row in session.execute(
                select(
                    facts.user_id,
                    func.count(distinct(facts.session_id)),
                    *(
                        func.coalesce(func.sum(getattr(facts, name)), 0)
                        for name in ("messages", "words", "input_tokens", "output_tokens")
                    ),
                )
                .where(*period_condition(facts.time, period))
                .group_by(facts.user_id)
            )
        }
        calls = dict(
            session.execute(
                select(ToolCall.user_id, func.count())
                .where(*period_condition(ToolCall.created_at, period))
                .group_by(ToolCall.user_id)
            ).all()
        )
        last = dict(
            session.execute(
                select(ChatSession.user_id, func.max(ChatSession.last_activity_at)).group_by(
                    ChatSession.user_id
                )
            ).all()
        )
    rows = []
    for user_id, username in users:
        sessions_, count, words, tokens_in, tokens_out = messages.get(user_id, (0, 0, 0, 0, 0))
        rows.append(
            (
                user_id,
                username,
                int(sessions_),
                int(count),
                int(words),
                int(calls.get(user_id, 0)),
                int(tokens_in),
                int(tokens_out),
                int(tokens_in) + int(tokens_out),
                _aware_timestamp(last.get(user_id)),
            )
        )
    frame = pd.DataFrame(rows, columns=PER_COACH_COLUMNS)
    numbers = [c for c in PER_COACH_COLUMNS if c not in ("username", "last_active")]
    frame = frame.astype(dict.fromkeys(numbers, "int64"))
    frame["last_active"] = pd.to_datetime(frame["last_active"], utc=True)
    return frame


def _aware_timestamp(value: Any) -> pd.Timestamp | None:
    """max() of a UTC column comes back as text on SQLite and aware on PostgreSQL."""
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
