"""`python -m core stats`: a coach's totals and the Analytics page's figures, as text or JSON.

The numbers come from the same functions as the page (core/analytics.py), so
the command line and the page never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from core import analytics
from core.analytics import Figures, Period, Scope, Stats
from core.models import User
from core.store import ConversationStore
from core.time_buckets import check_zone


@dataclass(frozen=True)
class StatsReport:
    """What `stats` prints: the coach's totals (all time unless days were given) and the figures."""

    coach: User
    totals: Stats
    figures: Figures
    zone: str

    def to_json(self) -> dict[str, Any]:
        """Today's keys (sessions, messages, words, tool_calls, tokens) plus the figures' keys."""
        return {**self.totals.to_json(), **self.figures.to_json()}

    def lines(self) -> list[str]:
        coach, totals = self.coach, self.totals
        rows: list[tuple[str, str]] = [
            ("sessions", _number(totals.sessions)),
            ("messages", _number(totals.messages)),
            ("words", _number(totals.words)),
            *((f"  {role}", _number(words)) for role, words in totals.words_by_role.items()),
            ("input tokens", _number(totals.input_tokens)),
            ("output tokens", _number(totals.output_tokens)),
            ("tool calls", _number(totals.tool_calls)),
            *((f"  {name}", _number(calls)) for name, calls in totals.tool_calls_by_name.items()),
        ]
        label_width = max(len(label) for label, _ in rows)
        value_width = max(len(value) for _, value in rows)
        lines = [
            f"{coach.username} ({coach.name})" if coach.name != coach.username else coach.username
        ]
        lines += [
            f"  {label.ljust(label_width)}  {value.rjust(value_width)}" for label, value in rows
        ]
        period = self.figures.period
        lines.append(
            f"{_days(period, self.zone)} ({self.zone}), "
            f"change against {_days(period.previous(), self.zone)}:"
        )
        figure_rows = _figure_rows(self.figures)
        label_width = max(len(label) for label, _, _ in figure_rows)
        value_width = max(len(value) for _, value, _ in figure_rows)
        lines += [
            f"  {label.ljust(label_width)}  {value.rjust(value_width)}  {change}".rstrip()
            for label, value, change in figure_rows
        ]
        if self.figures.unpriced_models:
            lines.append(f"  unpriced models: {', '.join(self.figures.unpriced_models)}")
        return lines


def stats_report(
    store: ConversationStore,
    coach: User,
    *,
    since: date | None = None,
    until: date | None = None,
    zone: str = "UTC",
    now: datetime | None = None,
) -> StatsReport:
    """The days since..until (both included, local to `zone`); by default the first day to today.

    Without either day the totals keep their all-time meaning (every session,
    empty ones included); the figures always cover the chosen days.
    """
    tz = check_zone(zone)
    last = until or (now or datetime.now(tz)).astimezone(tz).date()
    first = since
    if first is None:
        began = analytics.first_activity(store, Scope.own(coach.id))
        first = min(began.astimezone(tz).date(), last) if began else last
    period = Period.of_days(first, last, zone)
    chosen = since is not None or until is not None
    return StatsReport(
        coach=coach,
        totals=analytics.stats(store, coach.id, period if chosen else None),
        figures=analytics.period_figures(store, Scope.own(coach.id), period),
        zone=zone,
    )


def _number(value: int) -> str:
    return f"{value:,}"


def _change(value: float | None) -> str:
    return "" if value is None else f"{value:+.0%}"


def _milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _days(period: Period, zone: str) -> str:
    tz = check_zone(zone)
    first = period.since.astimezone(tz).date()
    last = (period.until - timedelta(microseconds=1)).astimezone(tz).date()
    return f"{first} to {last}"


def _figure_rows(figures: Figures) -> list[tuple[str, str, str]]:
    """label, value, change against the previous period."""
    now = figures.current
    rate = now.tool_error_rate

    def row(label: str, name: str, shown: str) -> tuple[str, str, str]:
        return (label, shown, _change(figures.change(name)))

    return [
        row("active sessions", "sessions", _number(now.sessions)),
        row("messages", "messages", _number(now.messages)),
        row("words", "words", _number(now.words)),
        row("  coach", "user_words", _number(now.user_words)),
        row("  assistant", "assistant_words", _number(now.assistant_words)),
        row("tool calls", "tool_calls", _number(now.tool_calls)),
        row("tool error rate", "tool_error_rate", "-" if rate is None else f"{rate:.1%}"),
        row("input tokens", "input_tokens", _number(now.input_tokens)),
        row("output tokens", "output_tokens", _number(now.output_tokens)),
        row("estimated cost", "cost_usd", f"${now.cost_usd:,.2f}"),
        ("unpriced tokens", _number(now.unpriced_tokens), ""),
        row("reply latency p50", "latency_p50_ms", _milliseconds(now.latency_p50_ms)),
        row("reply latency p95", "latency_p95_ms", _milliseconds(now.latency_p95_ms)),
        row("first token p50", "first_token_p50_ms", _milliseconds(now.first_token_p50_ms)),
        row("first token p95", "first_token_p95_ms", _milliseconds(now.first_token_p95_ms)),
        row("drills created", "drills", _number(now.drills)),
    ]
