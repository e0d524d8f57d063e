"""The Analytics page's chart data as DataFrames, each grouped by the database.

Every frame is built from a GROUP BY over the period's rows (never from the
rows themselves); buckets are the coach's local days, weeks or months
(core/time_buckets.py). Quiet buckets are filled with zeros here, after the
query, so a line chart does not draw across a gap.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import case, func, literal, select

from core.analytics_rollup import message_facts
from core.analytics_scope import (
    Filters,
    Period,
    Scope,
    database_of,
    message_conditions,
    period_condition,
    tool_call_conditions,
    user_condition,
)
from core.db import Database
from core.errors import ValidationError
from core.models import ChatSession, Drill, ToolCall
from core.quantiles import quantiles
from core.store import ConversationStore
from core.time_buckets import Bucketing, bucket_for

Source = Database | ConversationStore
# Words per session: bins of growing width, as conversations run from a line to an essay.
WORD_BIN_EDGES = (0, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000)
TOP_SESSIONS = 10
TOP_BY = ("words", "tool_calls")
CHART_ROLES = ("user", "assistant")


def _bucketing(db: Database, period: Period, zone: str) -> Bucketing:
    return Bucketing(db.dialect, zone, period.since, period.until)


def chart_bucket(period: Period) -> str:
    """The bucket the page uses for this period: day, week or month."""
    return bucket_for(period.since, period.until)


def calls_per_tool(
    source: Source,
    scope: Scope,
    period: Period,
    *,
    kind: str | None = None,
    tool: str | None = None,
) -> pd.DataFrame:
    """tool, calls, errors, error_share (0..1); most used first."""
    db = database_of(source)
    calls = func.count()
    query = (
        select(ToolCall.name, calls, func.sum(case((ToolCall.is_error, 1), else_=0)))
        .where(*tool_call_conditions(ToolCall, scope, period, Filters(kind, tool)))
        .group_by(ToolCall.name)
        .order_by(calls.desc(), ToolCall.name)
    )
    with db.reading() as session:
        rows = [(name, int(n), int(e or 0)) for name, n, e in session.execute(query)]
    frame = pd.DataFrame(rows, columns=["tool", "calls", "errors"]).astype(
        {"calls": "int64", "errors": "int64"}
    )
    frame["error_share"] = (frame["errors"] / frame["calls"]).astype("float64")
    return frame


def tool_use_over_time(
    source: Source,
    scope: Scope,
    period: Period,
    *,
    zone: str = "UTC",
    unit: str | None = None,
    kind: str | None = None,
    tool: str | None = None,
) -> pd.DataFrame:
    """bucket, tool, calls: every bucket of the period for every tool used in it."""
    db = database_of(source)
    buckets = _bucketing(db, period, zone)
    unit = unit or chart_bucket(period)
    bucket = buckets.bucket(ToolCall.created_at, unit).label("bucket")
    query = (
        select(bucket, ToolCall.name, func.count())
        .where(*tool_call_conditions(ToolCall, scope, period, Filters(kind, tool)))
        .group_by(bucket, ToolCall.name)
    )
    with db.reading() as session:
        rows = [(pd.Timestamp(b), name, int(n)) for b, name, n in session.execute(query)]
    found = pd.DataFrame(rows, columns=["bucket", "tool", "calls"])
    tools = sorted(found["tool"].unique())
    grid = pd.MultiIndex.from_product([buckets.bucket_index(unit), tools], names=["bucket", "tool"])
    return (
        found.set_index(["bucket", "tool"])
        .reindex(grid, fill_value=0)
        .astype({"calls": "int64"})
        .reset_index()
    )


def _message_buckets(
    source: Source,
    scope: Scope,
    period: Period,
    zone: str,
    unit: str | None,
    filters: Filters,
    columns: tuple[str, ...],
) -> pd.DataFrame:
    """One row per local bucket of the period with these MessageFacts sums, quiet ones as zeros."""
    db = database_of(source)
    buckets = _bucketing(db, period, zone)
    unit = unit or chart_bucket(period)
    per_instant = _per_instant(period, scope, filters, columns)
    bucket = buckets.bucket(per_instant.c.time, unit).label("bucket")
    query = select(
        bucket, *(func.coalesce(func.sum(per_instant.c[name]), 0) for name in columns)
    ).group_by(bucket)
    with db.reading() as session:
        rows = [(pd.Timestamp(row[0]), *map(int, row[1:])) for row in session.execute(query)]
    found = pd.DataFrame(rows, columns=["bucket", *columns]).set_index("bucket")
    return found.reindex(buckets.bucket_index(unit), fill_value=0).astype("int64").reset_index()


def _per_instant(period: Period, scope: Scope, filters: Filters, columns: tuple[str, ...]) -> Any:
    """The period's sums per stored instant (a rollup bucket), before any local-time arithmetic.

    Summing across sessions first leaves one row per 15-minute bucket, so the
    zone conversion (a CASE and datetime() per row on SQLite) runs on those few
    rows instead of on every session's.
    """
    facts = message_facts(period.since, period.until)
    return (
        select(
            facts.time.label("time"),
            *(func.sum(getattr(facts, name)).label(name) for name in columns),
        )
        .where(*message_conditions(facts, scope, period, filters))
        .group_by(facts.time)
        .subquery()
    )


def message_series(
    source: Source,
    scope: Scope,
    period: Period,
    *,
    zone: str = "UTC",
    unit: str | None = None,
    kind: str | None = None,
    tool: str | None = None,
) -> pd.DataFrame:
    """bucket, user_words, assistant_words, input_tokens, output_tokens, in one pass.

    The words and the tokens charts both come from it, so the page reads the
    period's messages once for the two.
    """
    return _message_buckets(
        source,
        scope,
        period,
        zone,
        unit,
        Filters(kind, tool),
        (*(f"{role}_words" for role in CHART_ROLES), "input_tokens", "output_tokens"),
    )


def words_of(series: pd.DataFrame) -> pd.DataFrame:
    """bucket, role (user, assistant), words: long format, from message_series."""
    wide = series[["bucket", *(f"{role}_words" for role in CHART_ROLES)]].rename(
        columns={f"{role}_words": role for role in CHART_ROLES}
    )
    long = wide.melt(id_vars="bucket", var_name="role", value_name="words")
    return long.sort_values(["bucket", "role"], ignore_index=True).astype({"words": "int64"})


def tokens_of(series: pd.DataFrame) -> pd.DataFrame:
    """bucket, input_tokens, output_tokens, from message_series."""
    return series[["bucket", "input_tokens", "output_tokens"]].copy()


def words_over_time(source: Source, scope: Scope, period: Period, **options: Any) -> pd.DataFrame:
    """bucket, role (user, assistant), words; options as message_series."""
    return words_of(message_series(source, scope, period, **options))


def tokens_over_time(source: Source, scope: Scope, period: Period, **options: Any) -> pd.DataFrame:
    """bucket, input_tokens, output_tokens; options as message_series."""
    return tokens_of(message_series(source, scope, period, **options))


def words_per_session_histogram(
    source: Source,
    scope: Scope,
    period: Period,
    *,
    kind: str | None = None,
    tool: str | None = None,
) -> pd.DataFrame:
    """low, high (None for the open last bin), label, sessions: words per session in the period.

    Sessions with messages but no words (tool rounds only) fall in the first bin.
    """
    db = database_of(source)
    facts = message_facts(period.since, period.until)
    per_session = (
        select(func.sum(facts.words).label("words"))
        .where(*message_conditions(facts, scope, period, Filters(kind, tool)))
        .group_by(facts.session_id)
        .subquery()
    )
    edges = WORD_BIN_EDGES
    bin_of = case(
        *((per_session.c.words >= edges[i], i) for i in range(len(edges) - 1, 0, -1)),
        else_=0,
    ).label("bin")
    query = select(bin_of, func.count()).group_by(bin_of)
    with db.reading() as session:
        counts = {int(b): int(n) for b, n in session.execute(query)}
    rows = []
    for index, low in enumerate(edges):
        high = edges[index + 1] if index + 1 < len(edges) else None
        label = f"{low:,}–{high - 1:,}" if high is not None else f"{low:,}+"
        rows.append((low, high, label, counts.get(index, 0)))
    frame = pd.DataFrame(rows, columns=["low", "high", "label", "sessions"])
    return frame.astype({"low": "int64", "high": "Int64", "sessions": "int64"})


def activity_heatmap(
    source: Source,
    scope: Scope,
    period: Period,
    *,
    zone: str = "UTC",
    kind: str | None = None,
    tool: str | None = None,
) -> pd.DataFrame:
    """weekday (0 Monday .. 6 Sunday), hour (0..23, local), messages: all 168 cells."""
    db = database_of(source)
    buckets = _bucketing(db, period, zone)
    # A 15-minute bucket lies in one local hour in every zone, so the rollup's
    # bucket start has the hour and weekday of each message it holds.
    per_instant = _per_instant(period, scope, Filters(kind, tool), ("messages",))
    weekday = buckets.weekday(per_instant.c.time).label("weekday")
    hour = buckets.hour(per_instant.c.time).label("hour")
    query = select(weekday, hour, func.sum(per_instant.c.messages)).group_by(weekday, hour)
    with db.reading() as session:
        counts = {(int(d), int(h)): int(n) for d, h, n in session.execute(query)}
    rows = [(d, h, counts.get((d, h), 0)) for d in range(7) for h in range(24)]
    return pd.DataFrame(rows, columns=["weekday", "hour", "messages"]).astype("int64")


def tool_durations(
    source: Source,
    scope: Scope,
    period: Period,
    *,
    kind: str | None = None,
    tool: str | None = None,
) -> pd.DataFrame:
    """tool, calls (with a duration), p50_ms, p95_ms; slowest p95 first."""
    db = database_of(source)
    conditions = tool_call_conditions(ToolCall, scope, period, Filters(kind, tool))
    with db.reading() as session:
        found = quantiles(session, ToolCall.duration_ms, conditions, group=ToolCall.name)
    frame = pd.DataFrame(
        [(row.group, row.count, *row.values) for row in found],
        columns=["tool", "calls", "p50_ms", "p95_ms"],
    ).astype({"calls": "int64", "p50_ms": "float64", "p95_ms": "float64"})
    return frame.sort_values(["p95_ms", "tool"], ascending=[False, True], ignore_index=True)


def drills_by_sport_and_age(source: Source, scope: Scope, period: Period) -> pd.DataFrame:
    """sport, age_group, drills created in the period ('' where a drill names none)."""
    db = database_of(source)
    count = func.count()
    query = (
        select(Drill.sport, Drill.age_group, count)
        .where(*user_condition(Drill.user_id, scope), *period_condition(Drill.created_at, period))
        .group_by(Drill.sport, Drill.age_group)
        .order_by(count.desc(), Drill.sport, Drill.age_group)
    )
    with db.reading() as session:
        rows = [(sport, age, int(n)) for sport, age, n in session.execute(query)]
    return pd.DataFrame(rows, columns=["sport", "age_group", "drills"]).astype({"drills": "int64"})


def top_sessions(
    source: Source,
    scope: Scope,
    period: Period,
    *,
    by: str = "words",
    kind: str | None = None,
    tool: str | None = None,
    limit: int = TOP_SESSIONS,
) -> pd.DataFrame:
    """session_id, title, kind, value: the sessions with the most words or tool calls in the period.

    Titles are made from the coach's words, so they come back only when the viewer
    looks at their own data; otherwise title is None.
    """
    if by not in TOP_BY:
        raise ValidationError(f"Top sessions are by {' or '.join(TOP_BY)}, not {by!r}.")
    db = database_of(source)
    filters = Filters(kind, tool)
    if by == "words":
        facts = message_facts(period.since, period.until)
        value = func.sum(facts.words)
        per_session = (
            select(facts.session_id.label("session_id"), value.label("value"))
            .where(*message_conditions(facts, scope, period, filters))
            .group_by(facts.session_id)
            .order_by(value.desc(), facts.session_id)
        )
    else:
        value = func.count()
        per_session = (
            select(ToolCall.session_id.label("session_id"), value.label("value"))
            .where(*tool_call_conditions(ToolCall, scope, period, filters))
            .group_by(ToolCall.session_id)
            .order_by(value.desc(), ToolCall.session_id)
        )
    ranked = per_session.limit(limit).subquery()
    title = ChatSession.title if scope.shows_text else literal(None)
    query = (
        select(ranked.c.session_id, title, ChatSession.kind, ranked.c.value)
        .join(ChatSession, ChatSession.id == ranked.c.session_id)
        .order_by(ranked.c.value.desc(), ranked.c.session_id)
    )
    with db.reading() as session:
        rows = [(sid, t, k, int(v or 0)) for sid, t, k, v in session.execute(query)]
    return pd.DataFrame(rows, columns=["session_id", "title", "kind", "value"]).astype(
        {"value": "int64"}
    )
