"""python -m bench: a tiny SQLite run gives a report with every section (no timings asserted)."""

from __future__ import annotations

import sys

from bench.__main__ import main
from bench.report import (
    ANALYTICS_BEGIN_MARK,
    ANALYTICS_END_MARK,
    BEGIN_MARK,
    COMPARE_BEGIN_MARK,
    COMPARE_END_MARK,
    END_MARK,
    HISTORY_BEGIN_MARK,
    HISTORY_END_MARK,
)

TINY = [
    "--dialect",
    "sqlite",
    "--quick",
    "--messages",
    "3000",
    "--sessions",
    "60",
    "--users",
    "3",
    "--appends",
    "20",
    "--import-messages",
    "500",
    "--langchain-messages",
    "200",
    "--markdown-messages",
    "40",
    "--compare-runs",
    "1",
    "--turns",
    "2",
    "--writer-messages",
    "3",
    "--compare-appends",
    "5",
]
SECTIONS = (
    "## Results",
    "### Targets",
    "### Search",
    "### Append one message",
    "### Archive import",
    "### Demo data",
    "## History page results",
    "### History targets",
    "### The page's script time",
    "### CSV export",
    "## Analytics page results",
    "### Analytics targets",
    "### The rollup",
    "### Each aggregate, view by view",
    "## Side by side results",
    "### Compare targets",
    "### LangChain's `SQLChatMessageHistory` beside `ConversationStore`",
    "### The session list",
    "### Exports",
    "### The engine's own time in a turn",
    "### Writers at once",
)
# The compare part's targets, one row each.
COMPARE_TARGETS = (
    "| session list, one page of 50: `list_sessions` (the sidebar's call), p95 | ≤ 20 ms | ",
    "| session list, one page of 50: `history_page` (the History list), p95 | ≤ 20 ms | ",
    "| Markdown of a 40-message session (`session_markdown`), p95 | ≤ 50 ms | ",
    "| CSV export (`csv_bytes`, the history part's figure), p50 | ≤ 2 s | ",
    "| `ChatEngine.send` to the first text, the fake API's own time taken off, p95 | ≤ 10 ms | ",
    "| lock errors that reached a caller, writers at once (every run below) | 0 | ",
)
WRITERS = (
    "| SQLite | 8 threads in one process | separate sessions | ",
    "| SQLite | 8 threads in one process | one shared session | ",
    "| SQLite | 2 processes | separate sessions | ",
    "| SQLite | 2 processes | one shared session | ",
)


def test_a_tiny_run_writes_every_section_and_keeps_the_text_around_them(tmp_path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(
        f"# Benchmarks\n\nWritten by hand.\n\n{BEGIN_MARK}\nold\n{END_MARK}\n\nBetween.\n\n"
        f"{HISTORY_BEGIN_MARK}\nold\n{HISTORY_END_MARK}\n\nAfter.\n\n"
        f"{ANALYTICS_BEGIN_MARK}\nold\n{ANALYTICS_END_MARK}\n\nAnd.\n\n"
        f"{COMPARE_BEGIN_MARK}\nold\n{COMPARE_END_MARK}\n\nLast.\n"
    )

    assert main([*TINY, "--output", str(output)]) == 0

    report = output.read_text()
    assert report.startswith("# Benchmarks\n\nWritten by hand.\n\n" + BEGIN_MARK)
    assert END_MARK + "\n\nBetween.\n\n" + HISTORY_BEGIN_MARK in report
    assert HISTORY_END_MARK + "\n\nAfter.\n\n" + ANALYTICS_BEGIN_MARK in report
    assert ANALYTICS_END_MARK + "\n\nAnd.\n\n" + COMPARE_BEGIN_MARK in report
    assert report.endswith(COMPARE_END_MARK + "\n\nLast.\n")
    assert "\nold\n" not in report
    for section in SECTIONS:
        assert section in report
    for kind in ("rare word", "common word", "phrase", "two words"):
        assert f"| {kind} | `" in report
    assert "Command: `python -m bench --dialect sqlite --quick" in report
    for case in ("first render", "search rerun", "page change", "filter", "sort"):
        assert f"| {case} | " in report
    for view in ("all coaches, 30 days", "all coaches, all time"):
        assert f"| {view} | ≤ 1,000 ms | " in report
    assert "| whole page (page_data) | " in report
    for row in (*COMPARE_TARGETS, *WRITERS):
        assert row in report
    assert "CSV export (`csv_bytes`, the history part's figure), p50 | ≤ 2 s | met" in report or (
        "CSV export (`csv_bytes`, the history part's figure), p50 | ≤ 2 s | **missed**" in report
    )


def test_a_part_not_run_keeps_its_old_figures(tmp_path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    kept = f"{HISTORY_BEGIN_MARK}\nhistory figures\n{HISTORY_END_MARK}\n"
    output.write_text(f"{BEGIN_MARK}\nold\n{END_MARK}\n\n{kept}")

    assert main([*TINY, "--only", "foundation", "--output", str(output)]) == 0

    report = output.read_text()
    assert report.endswith(END_MARK + "\n\n" + kept)
    assert "### Targets" in report and "\nold\n" not in report
    assert "### History targets" not in report


def test_an_existing_file_without_marks_is_refused_and_left_alone(tmp_path, capsys) -> None:
    notes = tmp_path / "NOTES.md"
    notes.write_text("# Someone's notes\n")

    assert main([*TINY, "--output", str(notes)]) == 1

    assert notes.read_text() == "# Someone's notes\n"
    assert "has no generated part" in capsys.readouterr().err


def test_without_langchain_the_compare_part_says_so_in_one_line_and_goes_on(
    tmp_path, monkeypatch
) -> None:
    # As in CI, where requirements-bench.txt is not installed: the import fails.
    monkeypatch.setitem(sys.modules, "langchain_community", None)
    output = tmp_path / "BENCHMARKS.md"

    assert main([*TINY, "--only", "compare", "--output", str(output)]) == 0

    report = output.read_text()
    assert "LangChain was not measured: langchain-community is not installed" in report
    assert "SQLChatMessageHistory.messages" not in report
    for row in (*COMPARE_TARGETS, *WRITERS):
        assert row in report
    assert (
        "| CSV export (`csv_bytes`, the history part's figure), p50 | ≤ 2 s | not in this run"
        in (report)
    )
