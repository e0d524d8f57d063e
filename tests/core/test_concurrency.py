"""4 processes × 8 threads appending to their own sessions and to one shared session, and
running tools, on SQLite (WAL) and PostgreSQL: nothing lost, nothing doubled, seq dense, and
no "database is locked" (or any other error) reaching a caller."""

from __future__ import annotations

import multiprocessing
import sys
from collections import Counter

from tests import concurrent_writers as writers

PROCESSES = 4


def test_many_writers_at_once_lose_and_double_nothing(store, coach, database_url, capsys):
    if store.db.dialect == "sqlite":
        with store.db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    shared = store.create_session(coach.id, title="Everyone's")
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        results = pool.starmap(
            writers.write,
            [(database_url, coach.id, shared.id, process) for process in range(PROCESSES)],
        )
    errors = [error for result in results for error in result["errors"]]
    assert errors == [], errors[0]

    def check(session_id: str, expected: set[str]) -> None:
        messages = store.list_messages(coach.id, session_id, limit=100_000)
        assert [m.seq for m in messages] == list(range(1, len(messages) + 1))  # dense
        contents = Counter(m.content for m in messages)
        assert set(contents) == expected  # nothing lost
        assert max(contents.values()) == 1  # nothing doubled
        assert store.get_session(coach.id, session_id).message_count == len(messages)

    for process, result in enumerate(results):
        assert len(result["own"]) == writers.THREADS
        for thread, session_id in result["own"].items():
            check(
                session_id,
                {f"own p{process} t{thread} m{i} rondo" for i in range(writers.OWN)},
            )
    check(
        shared.id,
        {
            f"shared p{p} t{t} m{i} rondo"
            for p in range(PROCESSES)
            for t in range(writers.THREADS)
            for i in range(writers.SHARED)
        },
    )
    calls = Counter(call.tool_use_id for call in store.list_tool_calls(coach.id, shared.id))
    assert len(calls) == PROCESSES * writers.THREADS * (writers.SHARED // 5)
    assert max(calls.values()) == 1
    writes = PROCESSES * writers.THREADS * (writers.OWN + writers.SHARED)
    with capsys.disabled():
        print(
            f"\n{PROCESSES} processes x {writers.THREADS} threads: {writes:,} messages, "
            "each there once",
            file=sys.stderr,
        )
