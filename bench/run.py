"""One benchmark run on one database: build the corpus, then time search, append and import
(the foundation part) and the History page (the history part)."""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.analytics import AnalyticsTimings, time_analytics
from bench.append import time_appends
from bench.archive_import import ImportTimings, export_slice, time_import
from bench.corpus import (
    BenchQuery,
    CorpusSize,
    build_corpus,
    coach_ids,
    count_matches,
    pick_queries,
)
from bench.history import CorpusTimings, time_corpus
from bench.machine import load_average
from bench.scratch import scratch_database, settle
from bench.search import QueryTimings, time_queries
from core.demo import DemoResult
from core.store import ConversationStore

PARTS = ("foundation", "history", "analytics")
# The History page's coaches: coach1 of the corpus, and a coach who holds a corpus alone.
ONE_COACH = "one coach"
SHARED = "coach1 of the corpus"


@dataclass(frozen=True)
class BenchOptions:
    size: CorpusSize
    seed: int
    runs: int
    appends: int
    import_messages: int
    postgres_url: str
    now: datetime
    parts: tuple[str, ...] = PARTS
    page_runs: int = 5
    csv_messages: int = 100_000


@dataclass(frozen=True)
class DialectResult:
    dialect: str
    server: str
    coaches: int
    demo: DemoResult
    settle_seconds: float
    # The query words picked from each corpus (the foundation corpus, ONE_COACH's).
    picked: dict[str, list[BenchQuery]]
    load_before: str
    load_after: str
    # The foundation part (None when it was not run).
    queries: list[QueryTimings] | None = None
    appends: list[float] | None = None
    imports: ImportTimings | None = None
    # The history part: SHARED, then ONE_COACH (empty when it was not run).
    history: list[CorpusTimings] = field(default_factory=list)
    one_coach_demo: DemoResult | None = None
    # The analytics part (None when it was not run).
    analytics: AnalyticsTimings | None = None


def _step(dialect: str, message: str) -> None:
    print(f"[{dialect}] {message}", file=sys.stderr, flush=True)


def run_dialect(
    dialect: str,
    server: str,
    options: BenchOptions,
    picked: dict[str, list[BenchQuery]] | None,
) -> DialectResult:
    """Everything measured on one database; `picked` None picks the words from its corpora."""
    picked = dict(picked or {})
    load_before = load_average()
    with scratch_database(dialect, options.postgres_url, "corpus") as db:
        store = ConversationStore(db)
        size = options.size
        _step(dialect, f"demo-data: {size.messages:,} messages, {size.sessions:,} sessions")
        demo = build_corpus(store, size, options.seed, options.now)
        started = time.perf_counter()
        settle(db)
        settle_seconds = time.perf_counter() - started
        if "corpus" not in picked:
            _step(dialect, "picking the query words from the corpus")
            picked["corpus"] = pick_queries(db)
        coaches = coach_ids(db)
        found = {}
        if "foundation" in options.parts:
            found = _foundation(store, coaches, picked["corpus"], options)
        if "analytics" in options.parts:
            _step(dialect, "analytics: every aggregate of the page")
            found["analytics"] = time_analytics(store, options.page_runs, options.now)
        history = []
        if "history" in options.parts:
            history.append(
                time_corpus(
                    store, "coach1", SHARED, picked["corpus"], options.page_runs, options.now, None
                )
            )
    one_coach_demo = None
    if "history" in options.parts:
        one_coach_demo, timings = _one_coach(dialect, options, picked)
        history.append(timings)
    return DialectResult(
        dialect=dialect,
        server=server,
        coaches=len(coaches),
        demo=demo,
        settle_seconds=settle_seconds,
        picked=picked,
        load_before=load_before,
        load_after=load_average(),
        history=history,
        one_coach_demo=one_coach_demo,
        **found,
    )


def _foundation(
    store: ConversationStore, coaches: list[int], queries: list[BenchQuery], options: BenchOptions
) -> dict:
    """Search beside the scan, append and import: DialectResult's foundation fields."""
    dialect, db = store.db.dialect, store.db
    timings = []
    for query in queries:
        _step(dialect, f"search and scan: {query.kind} {query.text}")
        matches = count_matches(db, query.text)
        timings.append(time_queries(store, coaches, query, matches, options.runs))
    _step(dialect, f"append: {options.appends:,} messages")
    appends = time_appends(store, options.appends, options.seed)
    with tempfile.TemporaryDirectory(prefix="huddle-bench-") as folder:
        _step(dialect, f"export: an archive of {options.import_messages:,}+ messages")
        archive = export_slice(store, options.import_messages, Path(folder) / "archive.json")
        with scratch_database(dialect, options.postgres_url, "import") as target:
            _step(dialect, f"import: {archive.messages:,} messages into an empty database")
            imports = time_import(ConversationStore(target), archive)
    return {"queries": timings, "appends": appends, "imports": imports}


def _one_coach(
    dialect: str, options: BenchOptions, picked: dict[str, list[BenchQuery]]
) -> tuple[DemoResult, CorpusTimings]:
    """A corpus of the same size held by one coach (demo-data --users 1), and its page."""
    size = CorpusSize(users=1, sessions=options.size.sessions, messages=options.size.messages)
    with scratch_database(dialect, options.postgres_url, "onecoach") as db:
        store = ConversationStore(db)
        _step(dialect, f"demo-data for one coach: {size.messages:,} messages, {size.sessions:,}")
        demo = build_corpus(store, size, options.seed, options.now)
        settle(db)
        if ONE_COACH not in picked:
            picked[ONE_COACH] = pick_queries(db)
        timings = time_corpus(
            store,
            "coach1",
            f"{ONE_COACH} with {size.sessions:,} sessions",
            picked[ONE_COACH],
            options.page_runs,
            options.now,
            options.csv_messages,
        )
    return demo, timings
