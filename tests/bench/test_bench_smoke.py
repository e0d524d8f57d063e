"""python -m bench: a tiny SQLite run gives a report with every section (no timings asserted)."""

from __future__ import annotations

from bench.__main__ import main
from bench.report import (
    ANALYTICS_BEGIN_MARK,
    ANALYTICS_END_MARK,
    BEGIN_MARK,
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
)


def test_a_tiny_run_writes_every_section_and_keeps_the_text_around_them(tmp_path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(
        f"# Benchmarks\n\nWritten by hand.\n\n{BEGIN_MARK}\nold\n{END_MARK}\n\nBetween.\n\n"
        f"{HISTORY_BEGIN_MARK}\nold\n{HISTORY_END_MARK}\n\nAfter.\n\n"
        f"{ANALYTICS_BEGIN_MARK}\nold\n{ANALYTICS_END_MARK}\n\nLast.\n"
    )

    assert main([*TINY, "--output", str(output)]) == 0

    report = output.read_text()
    assert report.startswith("# Benchmarks\n\nWritten by hand.\n\n" + BEGIN_MARK)
    assert END_MARK + "\n\nBetween.\n\n" + HISTORY_BEGIN_MARK in report
    assert HISTORY_END_MARK + "\n\nAfter.\n\n" + ANALYTICS_BEGIN_MARK in report
    assert report.endswith(ANALYTICS_END_MARK + "\n\nLast.\n")
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
