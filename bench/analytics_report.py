"""The Analytics part of the benchmark report: each aggregate and the whole page, per view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bench.analytics import ViewTimings
from bench.machine import Machine
from bench.report import (
    ANALYTICS_BEGIN_MARK,
    ANALYTICS_END_MARK,
    NAMES,
    format_ms,
    machine_table,
    markdown_table,
    percentile,
)
from bench.run import DialectResult

# The Analytics issue's targets: database time of the whole page, in ms.
COACH_TARGET_MS = 150.0
ALL_COACHES_TARGET_MS = 1_000.0


def _target(view: ViewTimings) -> float:
    return ALL_COACHES_TARGET_MS if view.scope == "all coaches" else COACH_TARGET_MS


def _p50(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def _verdict(view: ViewTimings) -> str:
    # Judged on the whole call, which includes the database's time: on SQLite a
    # streaming GROUP BY goes on working while rows are fetched, after execute returns.
    wall = _p50(view.page.wall_ms)
    outcome = "met" if wall <= _target(view) else "**missed**"
    statements = format_ms(_p50(view.page.db_ms))
    return f"{outcome}: {format_ms(wall)} ms (statements' execute {statements} ms)"


def _targets(results: Sequence[DialectResult]) -> str:
    found = [(r, r.analytics) for r in results if r.analytics is not None]
    views = found[0][1].views
    header = [
        "view (the whole page's call, p50)",
        "target",
        *(NAMES[r.dialect] for r, _ in found),
    ]
    rows = [
        [
            f"{view.scope}, {view.period}",
            f"≤ {_target(view):,.0f} ms",
            *(_verdict(timings.views[index]) for _, timings in found),
        ]
        for index, view in enumerate(views)
    ]
    return markdown_table(header, rows, right_from=len(header))


def _view_section(dialect: str, view: ViewTimings) -> str:
    rows = [
        [
            call.name,
            f"{format_ms(_p50(call.db_ms))} / {format_ms(max(call.db_ms))}",
            f"{format_ms(_p50(call.wall_ms))} / {format_ms(max(call.wall_ms))}",
        ]
        for call in view.calls
    ]
    header = ["call", "database ms p50 / slowest", "whole call ms p50 / slowest"]
    return (
        f"#### {NAMES[dialect]}: {view.scope}, {view.period} "
        f"({view.messages:,} messages in the period)\n\n" + markdown_table(header, rows)
    )


def _rollup_section(results: Sequence[DialectResult]) -> str:
    found = [(r, r.analytics) for r in results if r.analytics is not None]
    rows = [
        ("messages", lambda t: f"{t.messages:,}"),
        ("activity_rollup rows", lambda t: f"{t.activity_rows:,}"),
        ("model_rollup rows", lambda t: f"{t.model_rows:,}"),
        ("messages per activity row", lambda t: f"{t.messages / max(t.activity_rows, 1):.1f}"),
        (
            "`python -m core analytics rebuild` (every coach), s",
            lambda t: f"{t.rebuild_seconds:.1f}",
        ),
    ]
    header = ["", *(NAMES[r.dialect] for r, _ in found)]
    return markdown_table(header, [[label, *(cell(t) for _, t in found)] for label, cell in rows])


def render_analytics(
    results: Sequence[DialectResult],
    machine: Machine,
    command: str,
    started: datetime,
    seconds: float,
    notes: Sequence[str] = (),
) -> str:
    """The Analytics part of BENCHMARKS.md, marks included."""
    measured = [r for r in results if r.analytics is not None]
    first = measured[0]
    runs = len(first.analytics.views[0].page.db_ms)
    blocks = [
        ANALYTICS_BEGIN_MARK,
        "## Analytics page results",
        f"Command: `{command}`  \nRun: {started:%Y-%m-%d %H:%M} UTC, "
        f"{seconds / 60:.1f} minutes in all.",
        machine_table(results, machine),
        *notes,
        f"Corpus: {first.demo.messages:,} messages in {first.demo.sessions:,} sessions of "
        f"{first.demo.users} coaches (demo-data), the same on each database; zone "
        "America/New_York. Each call: one untimed call, then "
        f"{runs} timed (so the slowest is the p{100 - 100 // max(runs, 1)} at most). "
        "Database time is the sum of the statements' execute times (SQLAlchemy cursor "
        "events); the whole call adds fetching and building the DataFrames.",
        "### Analytics targets",
        _targets(measured),
        "### The rollup",
        _rollup_section(measured),
        "### Each aggregate, view by view",
        *(_view_section(r.dialect, view) for r in measured for view in r.analytics.views),
        ANALYTICS_END_MARK,
    ]
    return "\n\n".join(block.strip("\n") for block in blocks if block) + "\n"
