"""Coach-scoped search through the store, beside a LIKE / ILIKE scan of the same queries."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text

from bench.corpus import BenchQuery
from core.db import Database
from core.search import DEFAULT_LIMIT, SEARCH_ORDERS
from core.store import ConversationStore


@dataclass(frozen=True)
class QueryTimings:
    """Milliseconds per call for one query kind: search by each order, and the scan."""

    query: BenchQuery
    matches: int
    search: dict[str, list[float]]
    scan: list[float]


def time_search(
    store: ConversationStore, coaches: list[int], query: str, order: str, runs: int
) -> list[float]:
    """search_messages for every coach: one untimed call each to warm up, then `runs` timed."""
    for user_id in coaches:
        store.search_messages(user_id, query, order=order, limit=DEFAULT_LIMIT)
    timings = []
    for _ in range(runs):
        for user_id in coaches:
            started = time.perf_counter()
            store.search_messages(user_id, query, order=order, limit=DEFAULT_LIMIT)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _like_pattern(substring: str) -> str:
    escaped = substring.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def scan_sql(db: Database, substrings: tuple[str, ...]) -> str:
    """The scan a search index replaces: the coach's messages, newest first, filtered by
    substring (SQLite's LIKE ignores ASCII case; PostgreSQL needs ILIKE), one page."""
    operator = "LIKE" if db.dialect == "sqlite" else "ILIKE"
    conditions = " AND ".join(
        f"m.content {operator} :p{index} ESCAPE '\\'" for index in range(len(substrings))
    )
    return (
        "SELECT m.id, m.session_id, m.seq, m.role, m.created_at FROM messages AS m "
        f"WHERE m.user_id = :user_id AND {conditions} "
        "ORDER BY m.created_at DESC, m.id DESC LIMIT :limit"
    )


def time_scan(
    db: Database, coaches: list[int], substrings: tuple[str, ...], runs: int
) -> list[float]:
    """The LIKE / ILIKE scan for every coach, warmed up and timed like time_search."""
    sql = text(scan_sql(db, substrings))
    patterns = {f"p{index}": _like_pattern(value) for index, value in enumerate(substrings)}

    def scan(user_id: int) -> None:
        with db.reading() as session:
            session.execute(sql, {**patterns, "user_id": user_id, "limit": DEFAULT_LIMIT}).all()

    for user_id in coaches:
        scan(user_id)
    timings = []
    for _ in range(runs):
        for user_id in coaches:
            started = time.perf_counter()
            scan(user_id)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def time_queries(
    store: ConversationStore,
    coaches: list[int],
    query: BenchQuery,
    matches: int,
    runs: int,
) -> QueryTimings:
    return QueryTimings(
        query=query,
        matches=matches,
        search={
            order: time_search(store, coaches, query.text, order, runs) for order in SEARCH_ORDERS
        },
        scan=time_scan(store.db, coaches, query.substrings, runs),
    )
