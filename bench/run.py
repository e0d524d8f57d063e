"""One benchmark run on one database: build the corpus, then time search, append and import."""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
from bench.machine import load_average
from bench.scratch import scratch_database, settle
from bench.search import QueryTimings, time_queries
from core.demo import DemoResult
from core.store import ConversationStore


@dataclass(frozen=True)
class BenchOptions:
    size: CorpusSize
    seed: int
    runs: int
    appends: int
    import_messages: int
    postgres_url: str
    now: datetime


@dataclass(frozen=True)
class DialectResult:
    dialect: str
    server: str
    coaches: int
    demo: DemoResult
    settle_seconds: float
    queries: list[QueryTimings]
    appends: list[float]
    imports: ImportTimings
    load_before: str
    load_after: str


def _step(dialect: str, message: str) -> None:
    print(f"[{dialect}] {message}", file=sys.stderr, flush=True)


def run_dialect(
    dialect: str, server: str, options: BenchOptions, queries: list[BenchQuery] | None
) -> DialectResult:
    """Everything measured on one database; `queries` None picks them from this corpus."""
    load_before = load_average()
    with scratch_database(dialect, options.postgres_url, "corpus") as db:
        store = ConversationStore(db)
        size = options.size
        _step(dialect, f"demo-data: {size.messages:,} messages, {size.sessions:,} sessions")
        demo = build_corpus(store, size, options.seed, options.now)
        started = time.perf_counter()
        settle(db)
        settle_seconds = time.perf_counter() - started
        if queries is None:
            _step(dialect, "picking the query words from the corpus")
            queries = pick_queries(db)
        coaches = coach_ids(db)
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
    return DialectResult(
        dialect=dialect,
        server=server,
        coaches=len(coaches),
        demo=demo,
        settle_seconds=settle_seconds,
        queries=timings,
        appends=appends,
        imports=imports,
        load_before=load_before,
        load_after=load_average(),
    )
