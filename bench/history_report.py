"""The History part of the benchmark report: the issue's page and CSV targets, case by case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bench.history import CaseTimings, CorpusTimings, CsvTimings
from bench.machine import Machine
from bench.report import (
    HISTORY_BEGIN_MARK,
    HISTORY_END_MARK,
    NAMES,
    format_ms,
    machine_table,
    markdown_table,
    p50_p95,
    percentile,
)
from bench.run import DialectResult

# The History issue's page targets (script time of one run, ms) by case group; a filter
# or a sort is a rerun like a search, so it is held to the rerun's target.
PAGE_TARGET_MS = {
    "first render": 300.0,
    "search rerun": 200.0,
    "page change": 150.0,
    "filter": 200.0,
    "sort": 200.0,
}
CSV_TARGET_S = 2.0


def _worst(timings: CorpusTimings, group: str) -> CaseTimings | None:
    cases = [case for case in timings.cases if case.case.group in group.split("|")]
    return max(cases, key=lambda case: percentile(case.script_ms, 0.95), default=None)


def _page_verdict(timings: CorpusTimings, group: str) -> str:
    worst = _worst(timings, group)
    if worst is None:
        return "(no such case)"
    p95 = percentile(worst.script_ms, 0.95)
    limit = PAGE_TARGET_MS[worst.case.group]
    outcome = "met" if p95 <= limit else "**missed**"
    return f"{outcome}: {format_ms(p95)} ms ({worst.case.label})"


def _csv_verdict(csv: CsvTimings | None) -> str:
    if csv is None:
        return ""
    seconds = percentile(csv.memory_seconds, 0.5)
    outcome = "met" if seconds <= CSV_TARGET_S else "**missed**"
    return f"{outcome}: {seconds:.2f} s for {csv.messages:,} messages"


def _history_targets(results: Sequence[DialectResult]) -> str:
    columns = [(r.dialect, timings) for r in results for timings in r.history]
    header = ["target (p95 of the script time)", *(f"{NAMES[d]}: {t.title}" for d, t in columns)]
    rows = [
        [label, *(_page_verdict(timings, group) for _, timings in columns)]
        for label, group in (
            ("first render ≤ 300 ms", "first render"),
            ("search rerun ≤ 200 ms, every query", "search rerun"),
            ("page change ≤ 150 ms", "page change"),
            ("a filter or a sort alone ≤ 200 ms (as a rerun)", "filter|sort"),
        )
    ]
    rows.append(["CSV export (`csv_bytes`, p50) ≤ 2 s", *(_csv_verdict(t.csv) for _, t in columns)])
    return markdown_table(header, rows, right_from=len(header))


def _cases_section(dialect: str, timings: CorpusTimings, runs: int) -> str:
    rows = [
        [
            case.case.group,
            case.case.label,
            f"`{case.case.query}`" if case.case.query else "",
            str(case.case.page) if case.case.page != 1 else "",
            f"{case.total:,}{'+' if case.capped else ''}",
            p50_p95(case.script_ms),
            p50_p95(case.core_ms),
            f"{case.statements} / {format_ms(percentile(case.sql_ms, 0.5))}",
            f"≤ {PAGE_TARGET_MS[case.case.group]:.0f}",
        ]
        for case in timings.cases
    ]
    header = [
        "case",
        "",
        "search box",
        "page",
        "sessions matched",
        "script p50 / p95 ms",
        "`history_page` alone p50 / p95 ms",
        "SQL statements / their execute ms (p50)",
        "target ms",
    ]
    return (
        f"#### {NAMES[dialect]}: {timings.title} "
        f"({timings.sessions:,} sessions, {timings.messages:,} messages)\n\n"
        f"Each cell: {runs} timed run{'s' if runs != 1 else ''}"
        f"{' after one untimed' if runs > 1 else ''}"
        f"{' (so p95 is the slowest)' if 1 < runs < 20 else ''}. The first run after the server "
        f"started (its services created): {format_ms(timings.startup_ms)} ms.\n\n"
        + markdown_table(header, rows, right_from=4)
    )


def _mb(value: int | None) -> str:
    return "unknown" if value is None else f"{value / 1e6:.1f}"


def _csv_section(results: Sequence[DialectResult]) -> str:
    found = [(r, t.csv) for r in results for t in r.history if t.csv is not None]
    if not found:
        return "No CSV export was measured."
    rows = [
        ("sessions / messages", lambda c: f"{c.sessions:,} / {c.messages:,}"),
        ("CSV size, MB", lambda c: _mb(c.bytes)),
        ("`csv_bytes`, s p50 / slowest", lambda c: _seconds(c.memory_seconds)),
        ("`csv_bytes` tracemalloc peak, MB", lambda c: _mb(c.memory_peak)),
        ("`csv_bytes` peak RSS growth, MB", lambda c: _mb(c.memory_rss_growth)),
        ("`write_csv` to a file, s p50 / slowest", lambda c: _seconds(c.file_seconds)),
        ("`write_csv` tracemalloc peak, MB", lambda c: _mb(c.file_peak)),
        ("`write_csv` peak RSS growth, MB", lambda c: _mb(c.file_rss_growth)),
        ("messages/s (`csv_bytes`, p50)", lambda c: f"{c.messages / _p50(c.memory_seconds):,.0f}"),
    ]
    header = ["", *(NAMES[r.dialect] for r, _ in found)]
    return markdown_table(header, [[label, *(cell(c) for _, c in found)] for label, cell in rows])


def _p50(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def _seconds(values: Sequence[float]) -> str:
    return f"{_p50(values):.2f} / {max(values):.2f}"


def render_history(
    results: Sequence[DialectResult],
    machine: Machine,
    command: str,
    started: datetime,
    seconds: float,
    notes: Sequence[str] = (),
) -> str:
    """The History part of BENCHMARKS.md, marks included."""
    first = results[0]
    runs = len(first.history[0].cases[0].script_ms)
    one = first.one_coach_demo
    corpora = (
        f"Corpora: coach1 of the corpus of {first.demo.messages:,} messages in "
        f"{first.demo.sessions:,} sessions of {first.demo.users} coaches, and one coach "
        f"alone with {one.sessions:,} sessions and {one.messages:,} messages "
        f"(`python -m core demo-data --users 1 --sessions {one.sessions} --messages "
        f"{one.messages}`; {one.tool_calls:,} tool calls), the same on each database."
        if one is not None
        else f"Corpus: coach1 of the corpus of {first.demo.messages:,} messages in "
        f"{first.demo.sessions:,} sessions of {first.demo.users} coaches (a quick run: no "
        "corpus of one coach alone; the CSV export is coach1's)."
    )
    blocks = [
        HISTORY_BEGIN_MARK,
        "## History page results",
        f"Command: `{command}`  \nRun: {started:%Y-%m-%d %H:%M} UTC, "
        f"{seconds / 60:.1f} minutes in all.",
        machine_table(results, machine),
        *notes,
        corpora,
        "### History targets",
        _history_targets(results),
        "### The page's script time (`AppTest.run()`), case by case",
        *(_cases_section(r.dialect, timings, runs) for r in results for timings in r.history),
        "### CSV export (`core.csv_export`, the sessions of the one coach holding the messages)",
        _csv_section(results),
        HISTORY_END_MARK,
    ]
    return "\n\n".join(block.strip("\n") for block in blocks if block) + "\n"
