"""The database fails under a coach mid-session, and comes back.

- PostgreSQL stopped and started (a cluster of the test's own, so the shared server is
  untouched);
- the SQLite file made read-only (the immutable flag, which even root cannot write through;
  where the machine does not allow it, SQLite is told to refuse writes instead);
- a full disk: a small tmpfs holding the SQLite file (where mounting is not allowed, a
  size-limited database file instead).

Each time the coach sends a message while it fails: the page shows a clear sentence, no
traceback; the message stays, in an editor, to send again; nothing half-written is left (no
empty conversation, no message without its turn); and once the database is back, sending it
again works without restarting anything.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st

import ui.services
from core.db import Database
from core.store import ConversationStore, SessionFilter
from tests.app.driver import PASSWORD, finish_turns, logged_in_app, page_text, password_hash

IN_CI = bool(os.environ.get("CI"))
MESSAGE = "what is 2+2"
SETTINGS = ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "HUDDLE_COOKIE_KEY", "MAX_MESSAGE_CHARS")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI is set: the fault tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def app_on(monkeypatch) -> Iterator[Callable[[str], ConversationStore]]:
    """Points the app at a database and gives a store on it with Alice in it."""
    stores: list[ConversationStore] = []

    def use(url: str) -> ConversationStore:
        monkeypatch.setenv("DATABASE_URL", url)
        for name in SETTINGS:
            monkeypatch.setenv(name, "")
        monkeypatch.setattr(ui.services, "OFFLINE_WORD_DELAY_S", 0.0)
        db = Database(url)
        db.migrate()
        store = ConversationStore(db)
        store.create_user("alice", name="Alice", password_hash=password_hash(PASSWORD))
        stores.append(store)
        return store

    yield use
    st.cache_resource.clear()
    for store in stores:
        store.db.dispose()


def _send_while_broken_then_again(store: ConversationStore, broken: Callable[[], object]):
    """The coach's story, the same for every fault. `broken` is a context manager."""
    at = logged_in_app("alice")
    assert not at.exception and at.chat_input, page_text(at)
    alice = store.get_user("alice")
    with broken():
        at.chat_input[0].set_value(MESSAGE).run()
        assert not at.exception
        shown = page_text(at)
        assert "Traceback" not in shown
        assert "cannot be used" in shown or "cannot reach its database" in shown, shown
    # Back: the page says what happened, and the message waits in an editor.
    at.run()
    assert not at.exception
    assert "Your message could not be saved." in page_text(at)
    assert at.text_area(key="huddle_long_draft_chat").value == MESSAGE
    # Nothing half-written: no conversation was left without its message.
    every = store.list_sessions(alice.id, SessionFilter(archived=None)).items
    assert all(session.message_count for session in every)
    assert not any(m.content == MESSAGE for s in every for m in store.list_messages(alice.id, s.id))
    # Sent again, it goes through, once, and is answered.
    at.button(key="huddle_long_draft_send_chat").click().run()
    finish_turns(at)
    [chat] = store.list_sessions(alice.id).items
    messages = store.list_messages(alice.id, chat.id)
    assert [m.content for m in messages if m.role == "user"] == [MESSAGE]
    assert (messages[-1].role, messages[-1].content) == ("assistant", "2+2 = 4")
    assert "Your message could not be saved." not in page_text(at)


# ---------------------------------------------------------------- PostgreSQL stopped


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnPostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder)."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not found:
            _unavailable("PostgreSQL's server programs (/usr/lib/postgresql/*/bin) are missing")
        self.bin = found[-1].parent
        self.folder = Path(tempfile.mkdtemp(prefix="huddle-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to postgres
            shutil.chown(self.folder, "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bin / program), *args],
            check=True,
            capture_output=True,
            cwd=self.folder,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            [
                *self.as_owner,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    try:
        cluster = OwnPostgres()
    except subprocess.CalledProcessError as exc:
        _unavailable(f"a PostgreSQL cluster could not be made: {exc.stderr.decode()[-300:]}")
    try:
        yield cluster
    finally:
        cluster.remove()


def test_postgresql_stopped_and_started_mid_session(app_on, own_postgres):
    store = app_on(own_postgres.url)

    @contextmanager
    def stopped():
        own_postgres.stop()
        try:
            yield
        finally:
            own_postgres.start()

    _send_while_broken_then_again(store, stopped)


# ---------------------------------------------------------------- SQLite read-only


def _immutable(paths: list[Path], on: bool) -> bool:
    """Set or clear the immutable flag (chattr); False where the machine does not allow it."""
    result = subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)], capture_output=True)
    return result.returncode == 0


@contextmanager
def _sqlite_pragma_on_connect(pragma: str) -> Iterator[None]:
    """Every new SQLite connection runs `pragma` (the fallbacks below)."""

    def run(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(pragma)
        cursor.close()

    sa.event.listen(sa.engine.Engine, "connect", run)
    try:
        yield
    finally:
        sa.event.remove(sa.engine.Engine, "connect", run)


def _app_engine() -> sa.Engine:
    from core.config import load_settings

    return ui.services.open_services(load_settings()).db.engine


def _say_how(capsys, fault: str, how: str) -> None:
    with capsys.disabled():
        print(f"\n{fault}: {how}", file=sys.stderr)


def test_sqlite_file_made_read_only_mid_session(app_on, tmp_path, capsys):
    path = tmp_path / "huddle.db"
    store = app_on(f"sqlite:///{path}")

    @contextmanager
    def read_only():
        # The app's open connections go (a server restart would close them too), and the
        # file can no longer be opened for writing.
        _app_engine().dispose()
        store.db.dispose()
        for extra in ("-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        if _immutable([path], on=True):
            _say_how(capsys, "read-only SQLite file", "the file's immutable flag (chattr +i)")
            try:
                yield
            finally:
                _immutable([path], on=False)
        else:
            _say_how(capsys, "read-only SQLite file", "chattr not allowed: query_only")
            with _sqlite_pragma_on_connect("PRAGMA query_only=ON"):
                yield
            _app_engine().dispose()

    _send_while_broken_then_again(store, read_only)


# ---------------------------------------------------------------- full disk


def test_a_full_disk_mid_session(app_on, tmp_path, capsys):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
        ).returncode
        == 0
    )
    how = "a 4 MB tmpfs, filled" if mounted else "mounting not allowed: max_page_count"
    _say_how(capsys, "full disk", how)
    path = mount / "huddle.db"
    store = app_on(f"sqlite:///{path}")
    filler = mount / "filler"

    @contextmanager
    def full():
        if mounted:
            # Whatever room is left is taken by another file.
            with filler.open("wb") as out:
                try:
                    while True:
                        out.write(b"\0" * 65_536)
                        out.flush()
                except OSError:
                    pass
            try:
                yield
            finally:
                filler.unlink()
        else:
            with store.db.engine.connect() as connection:
                pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
            _app_engine().dispose()
            with _sqlite_pragma_on_connect(f"PRAGMA max_page_count={pages}"):
                yield
            _app_engine().dispose()

    try:
        _send_while_broken_then_again(store, full)
    finally:
        store.db.dispose()
        _app_engine().dispose()
        if mounted:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)
