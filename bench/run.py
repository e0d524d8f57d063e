"""One benchmark run on one database: build the corpora, then time search, append and import
(the foundation part), the History page (history), the Analytics page (analytics) and the
side-by-side measurements of bench/compare.py (compare)."""

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
from bench.compare import CompareSizes, CompareTimings, time_compare
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

PARTS = ("foundation", "history", "analytics", "compare")
# The parts measured on the shared corpus (of --users coaches).
SHARED_PARTS = ("foundation", "history", "analytics")
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
    compare: CompareSizes = field(default_factory=CompareSizes)
    # A corpus of the same size held by one coach (history, compare). Without it (--quick)
    # those parts measure coach1 of the shared corpus, and one corpus is built, not two.
    one_coach_corpus: bool = True


@dataclass(frozen=True)
class DialectResult:
    dialect: str
    server: str
    # The query words picked from each corpus (the foundation corpus, ONE_COACH's).
    picked: dict[str, list[BenchQuery]]
    load_before: str
    load_after: str
    # The shared corpus (None when only the compare part ran, on the one coach's corpus).
    demo: DemoResult | None = None
    coaches: int = 0
    settle_seconds: float = 0.0
    # The foundation part (None when it was not run).
    queries: list[QueryTimings] | None = None
    appends: list[float] | None = None
    imports: ImportTimings | None = None
    # The history part: SHARED, then ONE_COACH (empty when it was not run).
    history: list[CorpusTimings] = field(default_factory=list)
    one_coach_demo: DemoResult | None = None
    # The analytics part (None when it was not run).
    analytics: AnalyticsTimings | None = None
    # The compare part (None when it was not run).
    compare: CompareTimings | None = None


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
    parts = set(options.parts)
    compare_on_shared = "compare" in parts and not options.one_coach_corpus
    found: dict = {}
    history = []
    if parts & set(SHARED_PARTS) or compare_on_shared:
        found, history = _shared_corpus(dialect, options, picked)
    one_coach_demo = None
    if options.one_coach_corpus and parts & {"history", "compare"}:
        one_coach_demo, timings, compare = _one_coach(dialect, options, picked)
        history.extend(timings)
        found["compare"] = compare
    return DialectResult(
        dialect=dialect,
        server=server,
        picked=picked,
        load_before=load_before,
        load_after=load_average(),
        history=history,
        one_coach_demo=one_coach_demo,
        **found,
    )


def _shared_corpus(
    dialect: str, options: BenchOptions, picked: dict[str, list[BenchQuery]]
) -> tuple[dict, list[CorpusTimings]]:
    """The corpus of --users coaches and every part measured on it: DialectResult's fields."""
    with scratch_database(dialect, options.postgres_url, "corpus") as db:
        store = ConversationStore(db)
        size = options.size
        _step(dialect, f"demo-data: {size.messages:,} messages, {size.sessions:,} sessions")
        demo = build_corpus(store, size, options.seed, options.now)
        started = time.perf_counter()
        settle(db)
        found: dict = {"demo": demo, "settle_seconds": time.perf_counter() - started}
        if "corpus" not in picked and {"foundation", "history"} & set(options.parts):
            _step(dialect, "picking the query words from the corpus")
            picked["corpus"] = pick_queries(db)
        coaches = coach_ids(db)
        found["coaches"] = len(coaches)
        if "foundation" in options.parts:
            found.update(_foundation(store, coaches, picked["corpus"], options))
        if "analytics" in options.parts:
            _step(dialect, "analytics: every aggregate of the page")
            found["analytics"] = time_analytics(store, options.page_runs, options.now)
        history = []
        if "history" in options.parts:
            # Without a corpus of its own, the one coach's CSV export is coach1's.
            csv = None if options.one_coach_corpus else options.csv_messages
            history.append(
                time_corpus(
                    store, "coach1", SHARED, picked["corpus"], options.page_runs, options.now, csv
                )
            )
        if "compare" in options.parts and not options.one_coach_corpus:
            # Last: it adds sessions and messages to the corpus.
            found["compare"] = time_compare(store, SHARED, options.compare, options.now)
    return found, history


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
) -> tuple[DemoResult, list[CorpusTimings], CompareTimings | None]:
    """A corpus of the same size held by one coach (demo-data --users 1): its History page
    (history) and the compare part's measurements (compare), as asked."""
    size = CorpusSize(users=1, sessions=options.size.sessions, messages=options.size.messages)
    title = f"{ONE_COACH} with {size.sessions:,} sessions"
    history, compare = [], None
    with scratch_database(dialect, options.postgres_url, "onecoach") as db:
        store = ConversationStore(db)
        _step(dialect, f"demo-data for one coach: {size.messages:,} messages, {size.sessions:,}")
        demo = build_corpus(store, size, options.seed, options.now)
        settle(db)
        if "history" in options.parts:
            if ONE_COACH not in picked:
                picked[ONE_COACH] = pick_queries(db)
            history.append(
                time_corpus(
                    store,
                    "coach1",
                    title,
                    picked[ONE_COACH],
                    options.page_runs,
                    options.now,
                    options.csv_messages,
                )
            )
        if "compare" in options.parts:
            compare = time_compare(store, title, options.compare, options.now)
    return demo, history, compare
