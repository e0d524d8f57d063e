"""Database engine, per-dialect connection settings, transactions and migrate()."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.config import PROJECT_ROOT
from core.errors import StorageUnavailable

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
# Any constant works; it only has to be the same in every process of Huddle.
_MIGRATE_LOCK_KEY = 0x48554444  # "HUDD"
_WRITE_OPTION = "huddle_write"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def describe_database(url: str) -> str:
    """A short, password-free name for the database, for messages to people."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return "the configured database"
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database or ':memory:'}"
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"PostgreSQL at {host}{port}/{parsed.database or ''}"


def _writable(path: str | None) -> bool:
    """Whether this process may write the database file now (its mode, an immutable flag, a
    read-only mount). Asked with access(2), never by opening the file: closing any
    descriptor of a SQLite file drops every lock this process holds on it, which lets
    other connections corrupt it."""
    if not path or path == ":memory:" or not os.path.exists(path):
        return True
    return os.access(path, os.W_OK)


def _configure_sqlite(engine: Engine) -> None:
    path = engine.url.database

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record) -> None:
        # Let SQLAlchemy's "begin" event decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite opens a file it cannot write read-only, and the connection stays so.
        record.info["read_only_file"] = not _writable(path)

    @event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi_connection, record, _proxy) -> None:
        # Once the file can be written again, a connection opened read-only is replaced, so
        # the app takes writes again by itself.
        if record.info.get("read_only_file") and _writable(path):
            raise DisconnectionError("the database file can be written again")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front, so two writers never deadlock
        # upgrading a read lock; readers start a plain snapshot transaction.
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL, creating the SQLite folder when needed."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageUnavailable(f"The database URL {url!r} is not valid.") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise StorageUnavailable(f"Huddle supports SQLite and PostgreSQL databases, not {backend!r}.")


class Database:
    """One engine and its two kinds of unit of work: read and write."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        with unavailable_as_error(self.url), self._read() as session:
            yield session

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on error."""
        with self._fresh_after_failure(), self._write() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def writing_connection(self) -> Iterator[Connection]:
        """A write transaction on a bare connection, for the hot path that needs no ORM."""
        with self._fresh_after_failure(), self._write_engine.begin() as connection:
            yield connection

    @contextlib.contextmanager
    def _fresh_after_failure(self) -> Iterator[None]:
        """A write that the database refused (read-only, full, gone) closes the pooled
        connections, so the next one opens afresh: SQLite keeps a file it opened read-only
        read-only for the life of the connection, and nothing else needs the old ones."""
        try:
            with unavailable_as_error(self.url):
                yield
        except StorageUnavailable:
            self.engine.dispose()
            raise

    def check(self) -> None:
        """Raise StorageUnavailable unless the database answers."""
        with self.reading() as session:
            session.execute(text("SELECT 1"))

    def migrate(self) -> None:
        migrate(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


@contextlib.contextmanager
def unavailable_as_error(url: str) -> Iterator[None]:
    """Turn a database that cannot be reached into StorageUnavailable with one sentence."""
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StorageUnavailable(
            f"The database ({describe_database(url)}) cannot be used: {reason}"
        ) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StorageUnavailable(
                f"The connection to the database ({describe_database(url)}) was lost."
            ) from exc
        raise


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _at_head(connection: Connection) -> bool:
    heads = set(ScriptDirectory.from_config(_alembic_config(connection)).get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


@contextlib.contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).expanduser().with_suffix(".migrate.lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe when several processes start at once."""
    url = engine.url.render_as_string(hide_password=False)
    with unavailable_as_error(url):
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                # A session-level advisory lock: the second process waits, then
                # finds the schema at head and does nothing.
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATE_LOCK_KEY})
                connection.commit()
                try:
                    if not _at_head(connection):
                        command.upgrade(_alembic_config(connection), "head")
                        connection.commit()
                finally:
                    connection.rollback()
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATE_LOCK_KEY}
                    )
                    connection.commit()
        else:
            with _sqlite_migration_lock(engine), engine.connect() as connection:
                if not _at_head(connection):
                    command.upgrade(_alembic_config(connection), "head")
                    connection.commit()
