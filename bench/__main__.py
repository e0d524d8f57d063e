"""python -m bench: the foundation, History and Analytics issues' benchmarks on both databases.

Builds a demo corpus in a scratch database per dialect (a SQLite file in a
temporary folder; a PostgreSQL database created and dropped on the server
given), then times coach-scoped search beside a LIKE / ILIKE scan, appending
one message, and archive import (the foundation part), and the History page's
script under AppTest, its core call and CSV export, for coach1 of that corpus and
for one coach holding a corpus of the same size alone (the history part; see
bench/history.py), and every aggregate of the Analytics page for the busiest
coach and for all coaches (the analytics part; see bench/analytics.py), and LangChain's
chat history beside the store, the session list, Markdown export, the engine's own time
in a turn and writers at once, for one coach (the compare part; see bench/compare.py).
`--only` runs one part. --quick measures the one coach's parts on coach1 of the shared
corpus instead of building a second corpus. The report goes to stdout, or with
--output into a file: an existing file keeps everything outside the generated
parts it holds, and a part that is not run keeps its old figures.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.analytics_report import render_analytics
from bench.compare import CompareSizes
from bench.compare_report import render_compare
from bench.corpus import CorpusSize
from bench.history_report import render_history
from bench.machine import describe_machine
from bench.report import MARKS, has_marks, render, splice
from bench.run import PARTS, BenchOptions, DialectResult, run_dialect
from bench.scratch import DIALECTS, check_postgres
from core.errors import HuddleError

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The corpus, and a small one for a smoke run (--quick).
FULL = {
    "messages": 1_000_000,
    "sessions": 20_000,
    "users": 50,
    "runs": 3,
    "appends": 1_000,
    "import_messages": 100_000,
    "page_runs": 5,
    "csv_messages": 100_000,
    "langchain_messages": 10_000,
    "markdown_messages": 1_000,
    "compare_runs": 30,
    "compare_appends": 1_000,
    "turns": 100,
    "writer_messages": 250,
    "writer_processes": 4,
}
QUICK = {
    "messages": 10_000,
    "sessions": 200,
    "users": 5,
    "runs": 1,
    "appends": 100,
    "import_messages": 2_000,
    "page_runs": 1,
    "csv_messages": 500,
    "langchain_messages": 1_000,
    "markdown_messages": 200,
    "compare_runs": 3,
    "compare_appends": 20,
    "turns": 5,
    "writer_messages": 20,
    "writer_processes": 2,
}


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark search, append, import, the History and Analytics pages and "
        "more, side by side, on SQLite and PostgreSQL.",
    )
    parser.add_argument(
        "--only",
        choices=PARTS,
        help="run one part: foundation (search, append, import), history (the History "
        "page and CSV export), analytics (every aggregate of the Analytics page) or compare "
        "(LangChain beside the store, the session list, Markdown export, the engine's own "
        "time, writers at once); default: all four",
    )
    parser.add_argument(
        "--dialect", choices=(*DIALECTS, "both"), default="both", help="default: both"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server on which a scratch database is created and dropped "
        f"(default: $BENCH_POSTGRES_URL or {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument("--quick", action="store_true", help="a small corpus, for a smoke run")
    for name in FULL:
        flag = "--" + name.replace("_", "-")
        parser.add_argument(
            flag, type=_positive, help=f"default {FULL[name]:,} (--quick: {QUICK[name]:,})"
        )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    for name, default in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    if not args.sessions <= args.messages:
        parser.error("--sessions cannot exceed --messages")
    return args


def _existing_report(path: Path | None) -> str | None:
    return path.read_text(encoding="utf-8") if path is not None and path.exists() else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    parts = (args.only,) if args.only else PARTS
    existing = _existing_report(args.output)
    for part in parts:
        if existing is not None and not has_marks(existing, part):
            # Checked before minutes of work, and never overwritten: it may be any file.
            begin, end = MARKS[part]
            print(
                f"bench: {args.output} exists but has no generated part to replace "
                f"(between the lines {begin} and {end}); choose another --output.",
                file=sys.stderr,
            )
            return 1
    dialects = list(DIALECTS) if args.dialect == "both" else [args.dialect]
    servers = {"sqlite": "SQLite"}
    notes = []
    if "postgresql" in dialects:
        try:
            servers["postgresql"] = "PostgreSQL " + check_postgres(args.postgres_url)
        except HuddleError as exc:
            if args.dialect == "postgresql":
                print(f"bench: {exc}", file=sys.stderr)
                return 1
            print(f"bench: {exc}; measuring SQLite only.", file=sys.stderr)
            notes.append(f"PostgreSQL was not measured: {exc}")
            dialects.remove("postgresql")
    options = BenchOptions(
        size=CorpusSize(users=args.users, sessions=args.sessions, messages=args.messages),
        seed=args.seed,
        runs=args.runs,
        appends=args.appends,
        import_messages=args.import_messages,
        postgres_url=args.postgres_url,
        parts=parts,
        page_runs=args.page_runs,
        csv_messages=args.csv_messages,
        compare=CompareSizes(
            langchain_messages=args.langchain_messages,
            markdown_messages=args.markdown_messages,
            runs=args.compare_runs,
            appends=args.compare_appends,
            turns=args.turns,
            writer_messages=args.writer_messages,
            writer_processes=args.writer_processes,
        ),
        one_coach_corpus=not args.quick,
        # One clock for every database, so each gets the same corpus.
        now=datetime.now(UTC),
    )
    started, clock = datetime.now(UTC), time.perf_counter()
    results: list[DialectResult] = []
    try:
        for dialect in dialects:
            # The second database gets the words picked from the first corpora (the same ones).
            picked = results[0].picked if results else None
            results.append(run_dialect(dialect, servers[dialect], options, picked))
    except HuddleError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    machine, seconds = describe_machine(), time.perf_counter() - clock
    command = shlex.join(["python", "-m", "bench", *argv])
    blocks = {}
    if "foundation" in parts:
        blocks["foundation"] = render(results, machine, command, args.runs, started, seconds, notes)
    if "history" in parts:
        blocks["history"] = render_history(results, machine, command, started, seconds, notes)
    if "analytics" in parts:
        blocks["analytics"] = render_analytics(results, machine, command, started, seconds, notes)
    if "compare" in parts:
        blocks["compare"] = render_compare(results, machine, command, started, seconds, notes)
    if args.output is None:
        sys.stdout.write("\n".join(blocks.values()))
        return 0
    report = _existing_report(args.output)
    for part, block in blocks.items():
        report = splice(report, block, part)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    print(f"bench: report written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
