"""The History page benchmark: its real script under AppTest, its core call alone, CSV export.

Each case is a state of the page reached the way a coach reaches it (a new session
opening the page, typing in the search box, a page button, a filter, a sort), timed as
the wall clock of `AppTest.run()`: app.py's database check and login gate, the page
script, every query it makes and the elements it draws, nothing subtracted. Beside it
`core.history.history_page` alone, and the count and execute time of the SQL statements
the run sent, so the report shows where the time goes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import streamlit as st
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from bench.corpus import BenchQuery
from bench.machine import traced_peak
from core.csv_export import csv_bytes, write_csv
from core.db import Database
from core.history import HistoryPage, history_page
from core.login_sessions import LoginSessions
from core.query import parse_history_query
from core.session_list import SessionFilter
from core.store import ConversationStore
from ui.state import LOGIN_SESSION

APP = str(Path(__file__).resolve().parents[1] / "app.py")
HISTORY = "pages/history.py"
# A case that hits a slow query must still finish, so its figure can be reported.
RUN_TIMEOUT_S = 600
DEEP_PAGE = 200
# As tests/app/conftest.py: settings from the environment only (an empty value also
# hides .streamlit/secrets.toml), the offline model.
_EMPTY_SETTINGS = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_MODEL",
    "HUDDLE_COOKIE_KEY",
    "HUDDLE_ALLOW_REGISTRATION",
    "MAX_MESSAGE_CHARS",
)
# Streamlit warns of every call made outside a script run (AppTest's own thread makes some).
_CONTEXT_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"
# What the page's widgets give when nothing is chosen: "Show: not archived".
_WIDGET_FILTER = SessionFilter(archived=False)


@dataclass(frozen=True)
class PageCase:
    """One state of the History page: what the box says, the sort and the page.

    The first-render case opens it in a new session; every other case starts from the
    first page of the plain listing and changes only what it names.
    """

    group: str
    label: str
    query: str = ""
    sort: str | None = None
    page: int = 1

    @property
    def first_render(self) -> bool:
        return self.group == "first render"


@dataclass(frozen=True)
class CaseTimings:
    case: PageCase
    script_ms: list[float]
    core_ms: list[float]
    statements: int  # SQL statements of one script run
    sql_ms: list[float]  # their execute time, per run
    total: int  # sessions the case matches (the page's "of N")
    capped: bool = False  # the search stopped counting ("of N+")


@dataclass(frozen=True)
class CsvTimings:
    sessions: int
    messages: int
    bytes: int
    memory_seconds: list[float]  # csv_bytes
    file_seconds: list[float]  # write_csv into a file
    memory_peak: int  # tracemalloc peak, bytes
    file_peak: int
    memory_rss_growth: int | None  # peak RSS above the RSS before, bytes
    file_rss_growth: int | None


@dataclass(frozen=True)
class CorpusTimings:
    """The page on one corpus for one coach."""

    title: str
    coach: str
    sessions: int
    messages: int
    startup_ms: float  # the first run after the server starts (services created)
    cases: list[CaseTimings]
    csv: CsvTimings | None


def _step(dialect: str, message: str) -> None:
    print(f"[{dialect}] history: {message}", file=sys.stderr, flush=True)


def _coach(store: ConversationStore, username: str) -> tuple[int, int, int]:
    with store.db.reading() as session:
        row = session.execute(
            text(
                "SELECT u.id, count(s.id), coalesce(sum(s.message_count), 0) FROM users AS u "
                "LEFT JOIN chat_sessions AS s ON s.user_id = u.id "
                "WHERE u.username = :name GROUP BY u.id"
            ),
            {"name": username},
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


def page_cases(
    store: ConversationStore, user_id: int, queries: list[BenchQuery], now: datetime
) -> list[PageCase]:
    """The issue's cases for this coach; the words come from the corpus (bench.corpus)."""
    words = {query.kind: query.text for query in queries}
    tags = store.list_tags(user_id)
    tag = tags[0][0] if tags else "u12"
    listed = history_page(store, user_id, parse_history_query("", _WIDGET_FILTER))
    deep = min(DEEP_PAGE, listed.pages)
    since = (now - timedelta(days=120)).date()
    until = (now - timedelta(days=90)).date()
    cases = [
        PageCase("first render", "a new session opens the page"),
        PageCase("search rerun", "common word", words["common word"]),
        PageCase("search rerun", "rare word", words["rare word"]),
        PageCase("search rerun", "phrase and operator", f"{words['phrase']} tag:{tag}"),
        PageCase("page change", "page 2", page=2),
        PageCase("page change", f"page {deep}" if deep > 2 else "page 2", page=deep),
        PageCase("filter", "tool", "tool:calculator"),
        PageCase("filter", "tag (the coach's most used)", f"tag:{tag}"),
        PageCase("filter", "kind", "kind:drill"),
        PageCase("filter", "archived", "is:archived"),
        PageCase("filter", "30 days", f"after:{since} before:{until}"),
        PageCase("sort", "most words", sort="words"),
    ]
    # A page past the last is not a page change; a small corpus has no deep page.
    return list(dict.fromkeys(case for case in cases if case.page <= listed.pages))


def _core_call(store: ConversationStore, user_id: int, case: PageCase) -> HistoryPage:
    query = parse_history_query(case.query, _WIDGET_FILTER)
    sort = case.sort or ("relevance" if query.searching else "recent")
    return history_page(store, user_id, query, sort=sort, page=case.page)


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


class _SqlClock:
    """Counts the SQL statements of every engine in this process, and their execute time."""

    def __init__(self) -> None:
        self.statements = 0
        self.seconds = 0.0
        self._started: list[float] = []

    def _before(self, *_args) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *_args) -> None:
        self.seconds += time.perf_counter() - self._started.pop()
        self.statements += 1

    @contextlib.contextmanager
    def listening(self) -> Iterator[_SqlClock]:
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        try:
            yield self
        finally:
            event.remove(Engine, "before_cursor_execute", self._before)
            event.remove(Engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.statements, self.seconds = 0, 0.0


def _quiet_context_warning(record: logging.LogRecord) -> bool:
    return "missing ScriptRunContext" not in record.getMessage()


@contextlib.contextmanager
def app_settings(database_url: str) -> Iterator[None]:
    """The app's environment pointed at the benchmark's database, restored afterwards."""
    names = ("DATABASE_URL", *_EMPTY_SETTINGS)
    saved = {name: os.environ.get(name) for name in names}
    # A filter, not a level: Streamlit sets its loggers' levels again when it reads its config.
    logging.getLogger(_CONTEXT_LOGGER).addFilter(_quiet_context_warning)
    os.environ.update({name: "" for name in _EMPTY_SETTINGS}, DATABASE_URL=database_url)
    try:
        yield
    finally:
        # The services hold an engine on this database, which is dropped next.
        st.cache_resource.clear()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# The custom-component registry of the first AppTest, shared with the later ones.
_components: list[object] = []


def _new_session(username: str) -> AppTest:
    """A coach's new browser session on the History page (logged in, nothing run yet)."""
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    # A server finds the installed custom components once, when it starts; AppTest does it
    # in the first run of every new AppTest (about 0.1 s here). Sharing one registry times
    # a first render as a server renders it, without the harness's own start-up.
    if _components and getattr(at, "_bidi_component_manager", False) is None:
        at._bidi_component_manager = _components[0]
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state[LOGIN_SESSION] = _login_id(os.environ["DATABASE_URL"], username)
    return at.switch_page(HISTORY)


@functools.cache
def _login_id(database_url: str, username: str) -> str:
    """One log-in row per coach and database, made once: every run checks it, as a page does."""
    db = Database(database_url)
    try:
        return LoginSessions(db).start(ConversationStore(db).get_user(username).id)[0]
    finally:
        db.dispose()


def _run(at: AppTest, case: PageCase) -> AppTest:
    at.run()
    if not _components and getattr(at, "_bidi_component_manager", None) is not None:
        _components.append(at._bidi_component_manager)
    if at.exception:
        # The message is redacted by Streamlit; the last frames say what failed.
        where = " | ".join(line.strip() for line in at.exception[0].stack_trace[-2:])
        raise RuntimeError(f"The History page failed ({case.label}): {where}")
    # The run must have been the History page's (a search without hits draws no table).
    if not any("History" in str(title.value) for title in at.title):
        raise RuntimeError(f"The run did not show the History page ({case.label}).")
    return at


def _change(at: AppTest, case: PageCase, back: bool) -> None:
    """Put the case's change on the page (or take it back), as the coach's input would."""
    if case.query:
        at.text_input(key="q").input("" if back else case.query)
    if case.sort:
        at.selectbox(key="sort").set_value("recent" if back else case.sort)
    if case.page != 1:
        at.session_state["page"] = 1 if back else case.page


def time_page(
    username: str, cases: list[PageCase], runs: int, clock: _SqlClock
) -> dict[PageCase, tuple[list[float], list[float], int]]:
    """Script milliseconds, SQL milliseconds and statements per case.

    With several runs to time, one untimed run comes first (a smoke run of one skips it).
    """
    found: dict[PageCase, tuple[list[float], list[float], int]] = {}
    base = _run(_new_session(username), cases[0])
    warmups = 1 if runs > 1 else 0
    for case in cases:
        script, sql = [], []
        for attempt in range(runs + warmups):
            at = _new_session(username) if case.first_render else base
            if not case.first_render:
                _change(at, case, back=False)
            clock.reset()
            elapsed = _timed(lambda at=at, case=case: _run(at, case))
            statements = clock.statements
            if attempt >= warmups:
                script.append(elapsed)
                sql.append(clock.seconds * 1000)
            if not case.first_render:
                _change(at, case, back=True)
                _run(at, case)
        found[case] = (script, sql, statements)
    return found


def time_corpus(
    store: ConversationStore,
    username: str,
    title: str,
    queries: list[BenchQuery],
    runs: int,
    now: datetime,
    csv_messages: int | None,
) -> CorpusTimings:
    """Every page case for this coach (script and core), then CSV export when asked."""
    dialect = store.db.dialect
    user_id, sessions, messages = _coach(store, username)
    cases = page_cases(store, user_id, queries, now)
    clock = _SqlClock()
    _step(dialect, f"{title}: the page under AppTest, {len(cases)} cases × {runs} runs")
    with app_settings(store.db.url), clock.listening():
        startup = _timed(lambda: _run(_new_session(username), cases[0]))
        page = time_page(username, cases, runs, clock)
    _step(dialect, f"{title}: history_page alone")
    timings = []
    for case in cases:
        shown = _core_call(store, user_id, case)
        core = [_timed(lambda case=case: _core_call(store, user_id, case)) for _ in range(runs)]
        script, sql, statements = page[case]
        timings.append(
            CaseTimings(case, script, core, statements, sql, shown.total, shown.total_capped)
        )
    csv = None
    if csv_messages is not None:
        _step(dialect, f"{title}: CSV export of {csv_messages:,}+ messages")
        # An export of 100,000 messages takes seconds: three runs show its spread.
        csv = time_csv(store, user_id, csv_messages, min(runs, 3))
    return CorpusTimings(title, username, sessions, messages, startup, timings, csv)


def _sessions_holding(
    store: ConversationStore, user_id: int, messages: int
) -> tuple[list[str], int]:
    """The coach's newest sessions until they hold at least `messages` messages, and how many."""
    with store.db.reading() as session:
        rows = session.execute(
            text(
                "SELECT id, message_count FROM chat_sessions WHERE user_id = :user_id "
                "ORDER BY last_message_at DESC, id"
            ),
            {"user_id": user_id},
        ).all()
    chosen, held = [], 0
    for session_id, count in rows:
        if held >= messages:
            break
        chosen.append(session_id)
        held += count
    return chosen, held


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _rss_growth(call: Callable[[], object]) -> int | None:
    """Peak RSS during the call above the RSS before it (Linux: the peak is reset first)."""
    before = _status_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # 5: reset the peak (VmHWM)
    except OSError:
        return None
    call()
    peak = _status_kib("VmHWM")
    return None if before is None or peak is None else max(0, peak - before)


def time_csv(store: ConversationStore, user_id: int, messages: int, runs: int) -> CsvTimings:
    """csv_bytes and write_csv of the same sessions: time (untraced), then memory apart."""
    ids, held = _sessions_holding(store, user_id, messages)
    with tempfile.TemporaryDirectory(prefix="huddle-bench-") as folder:
        path = Path(folder) / "export.csv"
        size = 0

        def to_memory() -> None:
            nonlocal size
            size = len(csv_bytes(store, user_id, session_ids=ids))

        def to_file() -> None:
            with path.open("w", encoding="utf-8", newline="") as out:
                rows = write_csv(store, user_id, out, session_ids=ids)
            if rows != held:
                raise RuntimeError(f"The CSV has {rows:,} rows for {held:,} messages.")

        to_memory()  # warm the caches
        return CsvTimings(
            sessions=len(ids),
            messages=held,
            bytes=size,
            memory_seconds=[_timed(to_memory) / 1000 for _ in range(runs)],
            file_seconds=[_timed(to_file) / 1000 for _ in range(runs)],
            memory_peak=traced_peak(to_memory),
            file_peak=traced_peak(to_file),
            memory_rss_growth=_rss_growth(to_memory),
            file_rss_growth=_rss_growth(to_file),
        )
