"""Writers at once: 8 threads, then 4 processes (2 in a quick run), appending to their own
sessions and to one shared session through ConversationStore.add_message, as chat turns of
one team do.

tests/core/test_concurrency.py proves nothing is lost or doubled under such load (with
tools running too); this measures it: messages per second over the window in which all
writers were writing, each append's latency, and every error that reached a caller,
"database is locked" and other lock errors counted apart (the target is none).
Each writer makes WARM_UP untimed appends (its connection opened) before a barrier.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from core.db import Database
from core.store import ConversationStore

THREADS = 8
PROCESSES = 4
WARM_UP = 2
TARGETS = ("separate sessions", "one shared session")
# What a lock error that reached the caller says (SQLite, PostgreSQL).
_LOCK_WORDS = ("locked", "deadlock", "could not serialize", "lock timeout")
_WAIT_S = 600


@dataclass(frozen=True)
class WriterRun:
    """What one writer did: its appends' latencies and errors, and its window."""

    latencies_ms: list[float]
    lock_errors: int
    other_errors: int
    started: float
    ended: float


@dataclass(frozen=True)
class WriterTimings:
    mode: str  # "8 threads in one process" or "4 processes"
    target: str
    writers: int
    messages: int
    seconds: float
    latencies_ms: list[float]
    lock_errors: int
    other_errors: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def _append(store: ConversationStore, user_id: int, session_id: str, text: str) -> None:
    store.add_message(user_id, session_id, "user", text)


def _write(
    store: ConversationStore, user_id: int, session_id: str, count: int, wait: Callable[[], object]
) -> WriterRun:
    """WARM_UP appends, wait for the others, then `count` timed appends; errors counted."""
    for number in range(WARM_UP):
        _append(store, user_id, session_id, f"warm-up {number} rondo")
    wait()
    latencies, lock_errors, other_errors = [], 0, 0
    started = time.perf_counter()
    for number in range(count):
        begun = time.perf_counter()
        try:
            _append(store, user_id, session_id, f"writer message {number} rondo pressing")
        except Exception as exc:  # counted: the report says what reached a caller
            if any(word in str(exc).lower() for word in _LOCK_WORDS):
                lock_errors += 1
            else:
                other_errors += 1
            continue
        latencies.append((time.perf_counter() - begun) * 1000)
    return WriterRun(latencies, lock_errors, other_errors, started, time.perf_counter())


def _combine(mode: str, target: str, runs: list[WriterRun]) -> WriterTimings:
    latencies = [value for run in runs for value in run.latencies_ms]
    return WriterTimings(
        mode=mode,
        target=target,
        writers=len(runs),
        messages=len(latencies),
        seconds=max(run.ended for run in runs) - min(run.started for run in runs),
        latencies_ms=latencies,
        lock_errors=sum(run.lock_errors for run in runs),
        other_errors=sum(run.other_errors for run in runs),
    )


def _sessions(store: ConversationStore, user_id: int, label: str, writers: int) -> list[str]:
    return [
        store.create_session(user_id, title=f"{label} writer {number}").id
        for number in range(writers)
    ]


def _threads(store: ConversationStore, user_id: int, count: int) -> list[WriterTimings]:
    found = []
    own = _sessions(store, user_id, "thread", THREADS)
    shared = store.create_session(user_id, title="threads' shared").id
    for target in TARGETS:
        barrier = threading.Barrier(THREADS, timeout=_WAIT_S)
        runs: list[WriterRun | None] = [None] * THREADS

        def writer(number: int, target: str = target, barrier=barrier, runs=runs) -> None:
            session_id = own[number] if target == TARGETS[0] else shared
            runs[number] = _write(store, user_id, session_id, count, barrier.wait)

        workers = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if any(run is None for run in runs):
            raise RuntimeError("A writer thread failed before its appends.")
        found.append(_combine(f"{THREADS} threads in one process", target, runs))
    return found


def _child(url: str, user_id: int, own_id: str, shared_id: str, count: int) -> None:
    """One writer process: both targets in turn, each run's figures a JSON line on stdout.

    Before each run it says "ready" and waits for a line on stdin, the parent's barrier.
    """
    db = Database(url)
    store = ConversationStore(db)

    def barrier() -> None:
        print("ready", flush=True)
        sys.stdin.readline()

    try:
        for target in TARGETS:
            session_id = own_id if target == TARGETS[0] else shared_id
            run = _write(store, user_id, session_id, count, barrier)
            print(json.dumps(asdict(run)), flush=True)
    finally:
        db.dispose()


def _expect(child: subprocess.Popen, what: str) -> str:
    line = child.stdout.readline()
    if not line or (what == "ready" and line.strip() != "ready"):
        raise RuntimeError(f"A writer process ended or said {line.strip()!r} ({what} expected).")
    return line


def _processes(
    store: ConversationStore, user_id: int, count: int, processes: int
) -> list[WriterTimings]:
    """`processes` writer processes. Started with `python -m bench.writers`, not multiprocessing:
    its spawn would import the parent's main module, bench.__main__ with Streamlit and all."""
    own = _sessions(store, user_id, "process", processes)
    shared = store.create_session(user_id, title="processes' shared").id
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.writers",
                store.db.url,
                str(user_id),
                own[n],
                shared,
                str(count),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],  # where `bench` is importable
        )
        for n in range(processes)
    ]
    found = []
    try:
        for target in TARGETS:
            for child in children:
                _expect(child, "ready")
            for child in children:
                child.stdin.write("go\n")
                child.stdin.flush()
            runs = [WriterRun(**json.loads(_expect(child, "figures"))) for child in children]
            found.append(_combine(f"{processes} processes", target, runs))
    finally:
        for child in children:
            child.stdin.close()
            child.wait(timeout=_WAIT_S)
    return found


def time_writers(
    store: ConversationStore, user_id: int, count: int, processes: int = PROCESSES
) -> list[WriterTimings]:
    """Threads, then processes, each to separate sessions and to one shared session."""
    return [*_threads(store, user_id, count), *_processes(store, user_id, count, processes)]


if __name__ == "__main__":
    _url, _user, _own, _shared, _count = sys.argv[1:]
    _child(_url, int(_user), _own, _shared, int(_count))
