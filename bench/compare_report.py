"""The compare part of the benchmark report: each target met or missed, then the detail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bench.compare import CompareTimings
from bench.history import CsvTimings
from bench.history_report import CSV_TARGET_S
from bench.langchain_history import LATEST
from bench.machine import Machine
from bench.report import (
    COMPARE_BEGIN_MARK,
    COMPARE_END_MARK,
    NAMES,
    format_ms,
    machine_table,
    markdown_table,
    p50_p95,
    percentile,
)
from bench.run import DialectResult

LIST_TARGET_MS = 20.0
MARKDOWN_TARGET_MS = 50.0
FIRST_TEXT_TARGET_MS = 10.0

Measured = tuple[DialectResult, CompareTimings]


def _p50(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def _p95(values: Sequence[float]) -> float:
    return percentile(values, 0.95)


def _within(values: Sequence[float], limit: float) -> str:
    """Met when the p95 is within the limit; the cell shows p50 / p95."""
    outcome = "met" if _p95(values) <= limit else "**missed**"
    return f"{outcome}: {p50_p95(values)} ms"


def _csv(result: DialectResult) -> CsvTimings | None:
    return next((t.csv for t in result.history if t.csv is not None), None)


def _csv_verdict(result: DialectResult) -> str:
    csv = _csv(result)
    if csv is None:
        return "not in this run (the history part measures it)"
    seconds = _p50(csv.memory_seconds)
    outcome = "met" if seconds <= CSV_TARGET_S else "**missed**"
    return f"{outcome}: {seconds:.2f} s for {csv.messages:,} messages"


def _lock_verdict(timings: CompareTimings) -> str:
    errors = sum(w.lock_errors for w in timings.writers)
    appends = sum(w.messages + w.lock_errors + w.other_errors for w in timings.writers)
    outcome = "met" if errors == 0 else "**missed**"
    return f"{outcome}: {errors} in {appends:,} appends"


def _targets(found: Sequence[Measured]) -> str:
    first = found[0][1]
    rows: list[tuple[str, str, Callable[[DialectResult, CompareTimings], str]]] = [
        (
            "session list, one page of 50: `list_sessions` (the sidebar's call), p95",
            f"≤ {LIST_TARGET_MS:.0f} ms",
            lambda r, t: _within(t.listing.sidebar_ms, LIST_TARGET_MS),
        ),
        (
            "session list, one page of 50: `history_page` (the History list), p95",
            f"≤ {LIST_TARGET_MS:.0f} ms",
            lambda r, t: _within(t.listing.history_ms, LIST_TARGET_MS),
        ),
        (
            f"Markdown of a {first.markdown.messages:,}-message session (`session_markdown`), p95",
            f"≤ {MARKDOWN_TARGET_MS:.0f} ms",
            lambda r, t: _within(t.markdown.ms, MARKDOWN_TARGET_MS),
        ),
        (
            "CSV export (`csv_bytes`, the history part's figure), p50",
            f"≤ {CSV_TARGET_S:.0f} s",
            lambda r, t: _csv_verdict(r),
        ),
        (
            "`ChatEngine.send` to the first text, the fake API's own time taken off, p95",
            f"≤ {FIRST_TEXT_TARGET_MS:.0f} ms",
            lambda r, t: _within(t.turns.first_text_ms, FIRST_TEXT_TARGET_MS),
        ),
        (
            "lock errors that reached a caller, writers at once (every run below)",
            "0",
            lambda r, t: _lock_verdict(t),
        ),
    ]
    header = ["target", "", *(NAMES[r.dialect] for r, _ in found)]
    body = [[label, wanted, *(cell(r, t) for r, t in found)] for label, wanted, cell in rows]
    return markdown_table(header, body, right_from=2)


def _by_dialect(found: Sequence[Measured], rows: Sequence[tuple[str, Callable]]) -> str:
    header = ["", *(NAMES[r.dialect] for r, _ in found)]
    return markdown_table(header, [[label, *(cell(t) for _, t in found)] for label, cell in rows])


def _times(slow: Sequence[float], fast: Sequence[float]) -> str:
    return f"{_p50(slow) / _p50(fast):,.0f}×" if _p50(fast) else "n/a"


def _langchain(found: Sequence[Measured]) -> str:
    measured = [(r, t) for r, t in found if t.langchain is not None]
    if not measured:
        return next((note for _, t in found for note in t.notes), "LangChain was not measured.")
    lc = measured[0][1].langchain
    return _by_dialect(
        measured,
        [
            ("messages in the session (both stores)", lambda t: f"{t.langchain.messages:,}"),
            ("langchain-community / langchain-core", lambda t: t.langchain.version),
            (
                "LangChain `SQLChatMessageHistory.messages` (the whole session), ms p50 / p95",
                lambda t: p50_p95(t.langchain.load_ms),
            ),
            (
                f"Huddle `list_messages(limit={LATEST})` (the latest {LATEST}), ms p50 / p95",
                lambda t: p50_p95(t.langchain.latest_ms),
            ),
            (
                f"Huddle `list_messages(limit=None)` (all {lc.messages:,}), ms p50 / p95",
                lambda t: p50_p95(t.langchain.all_ms),
            ),
            (
                f"Huddle `iter_messages` (all {lc.messages:,}, 500 a query), ms p50 / p95",
                lambda t: p50_p95(t.langchain.iter_ms),
            ),
            (
                f"LangChain's load ÷ Huddle's latest {LATEST} (p50)",
                lambda t: _times(t.langchain.load_ms, t.langchain.latest_ms),
            ),
            (
                "LangChain's load ÷ Huddle's all, one query (p50)",
                lambda t: _times(t.langchain.load_ms, t.langchain.all_ms),
            ),
            (
                "LangChain `add_message`, ms p50 / p95",
                lambda t: p50_p95(t.langchain.langchain_add_ms),
            ),
            (
                "Huddle `ConversationStore.add_message`, ms p50 / p95",
                lambda t: p50_p95(t.langchain.huddle_add_ms),
            ),
        ],
    )


def _mb(value: int) -> str:
    return f"{value / 1e6:.1f}"


def _exports(found: Sequence[Measured]) -> str:
    rows = [
        (
            "Markdown: messages / tool calls",
            lambda r, t: f"{t.markdown.messages:,} / {t.markdown.tool_calls:,}",
        ),
        ("Markdown: size, MB", lambda r, t: _mb(t.markdown.bytes)),
        ("Markdown: `session_markdown`, ms p50 / p95", lambda r, t: p50_p95(t.markdown.ms)),
        ("Markdown: tracemalloc peak, MB", lambda r, t: _mb(t.markdown.peak)),
    ]
    csv_rows = [
        ("CSV: messages", lambda c: f"{c.messages:,}"),
        ("CSV: `csv_bytes`, s p50", lambda c: f"{_p50(c.memory_seconds):.2f}"),
        ("CSV: `csv_bytes` tracemalloc peak, MB", lambda c: _mb(c.memory_peak)),
        ("CSV: `write_csv` to a file, s p50", lambda c: f"{_p50(c.file_seconds):.2f}"),
        ("CSV: `write_csv` tracemalloc peak, MB", lambda c: _mb(c.file_peak)),
    ]
    for label, cell in csv_rows:
        rows.append(
            (
                label,
                lambda r, t, cell=cell: cell(_csv(r)) if _csv(r) else "(history part not run)",
            )
        )
    header = ["", *(NAMES[r.dialect] for r, _ in found)]
    return markdown_table(
        header, [[label, *(cell(r, t) for r, t in found)] for label, cell in rows]
    )


def _engine(found: Sequence[Measured]) -> str:
    return _by_dialect(
        found,
        [
            ("turns timed", lambda t: f"{t.turns.turns:,}"),
            (
                "`send` to the first text, the fake's time taken off, ms p50 / p95",
                lambda t: p50_p95(t.turns.first_text_ms),
            ),
            (
                "the whole turn, the fake's streaming taken off (bookkeeping), ms p50 / p95",
                lambda t: p50_p95(t.turns.bookkeeping_ms),
            ),
            (
                "the fake's own time to the first text, ms p50 / p95",
                lambda t: p50_p95(t.turns.server_first_ms),
            ),
            ("the fake's whole stream, ms p50 / p95", lambda t: p50_p95(t.turns.server_total_ms)),
            (
                "SQL statements before the first text / their execute ms (p50)",
                lambda t: f"{_p50(t.turns.statements):.0f} / {format_ms(_p50(t.turns.sql_ms))}",
            ),
            ("messages sent in the last turn's context", lambda t: f"{t.turns.context_messages}"),
        ],
    )


def _writers(found: Sequence[Measured]) -> str:
    header = [
        "database",
        "writers",
        "appending to",
        "messages",
        "messages/s",
        "latency ms p50 / p95",
        "lock errors",
        "other errors",
    ]
    rows = [
        [
            NAMES[r.dialect],
            w.mode,
            w.target,
            f"{w.messages:,}",
            f"{w.rate:,.0f}",
            f"{format_ms(_p50(w.latencies_ms))} / {format_ms(_p95(w.latencies_ms))}",
            str(w.lock_errors),
            str(w.other_errors),
        ]
        for r, t in found
        for w in t.writers
    ]
    return markdown_table(header, rows, right_from=3)


def render_compare(
    results: Sequence[DialectResult],
    machine: Machine,
    command: str,
    started: datetime,
    seconds: float,
    notes: Sequence[str] = (),
) -> str:
    """The compare part of BENCHMARKS.md, marks included."""
    found = [(r, r.compare) for r in results if r.compare is not None]
    first = found[0][1]
    blocks = [
        COMPARE_BEGIN_MARK,
        "## Side by side results",
        f"Command: `{command}`  \nRun: {started:%Y-%m-%d %H:%M} UTC, "
        f"{seconds / 60:.1f} minutes in all.",
        machine_table(results, machine),
        *notes,
        f"Coach: coach1 ({first.title}; the list shows the {first.listing.sessions:,} that are "
        "not archived), the same on each database. Each read: a few untimed calls, then "
        f"{len(first.markdown.ms)} timed.",
        "### Compare targets",
        _targets(found),
        "### LangChain's `SQLChatMessageHistory` beside `ConversationStore`, one long session",
        _langchain(found),
        "### The session list (one page of 50, counts and previews from the session rows)",
        _by_dialect(
            found,
            [
                (
                    "the coach's sessions the list shows (not archived)",
                    lambda t: f"{t.listing.sessions:,}",
                ),
                ("`list_sessions`, ms p50 / p95", lambda t: p50_p95(t.listing.sidebar_ms)),
                ("`history_page`, ms p50 / p95", lambda t: p50_p95(t.listing.history_ms)),
            ],
        ),
        "### Exports (Markdown of one session; CSV from the history part)",
        _exports(found),
        "### The engine's own time in a turn (`ChatEngine.send`, the fake Messages API)",
        _engine(found),
        "### Writers at once (`ConversationStore.add_message`, each its own transaction)",
        _writers(found),
        COMPARE_END_MARK,
    ]
    return "\n\n".join(block.strip("\n") for block in blocks if block) + "\n"
