"""Throwaway databases for a benchmark run: a SQLite file in a temporary folder, or a
PostgreSQL database created on the given server and dropped afterwards."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from core.db import Database, normalise_url
from core.errors import StorageUnavailable

DIALECTS = ("sqlite", "postgresql")


def check_postgres(server_url: str) -> str:
    """The server's version string; StorageUnavailable when it cannot be reached."""
    engine = sa.create_engine(normalise_url(server_url))
    try:
        with engine.connect() as connection:
            return str(connection.execute(sa.text("SHOW server_version")).scalar())
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StorageUnavailable(f"PostgreSQL at {server_url} cannot be reached: {reason}") from exc
    finally:
        engine.dispose()


@contextlib.contextmanager
def scratch_database(dialect: str, postgres_url: str, label: str) -> Iterator[Database]:
    """A migrated, empty database that is deleted when the block ends (also on errors)."""
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="huddle-bench-") as folder:
            db = Database(f"sqlite:///{Path(folder) / label}.db")
            try:
                db.migrate()
                yield db
            finally:
                db.dispose()
        return
    name = f"huddle_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        db = Database(admin.url.set(database=name).render_as_string(hide_password=False))
        try:
            db.migrate()
            yield db
        finally:
            db.dispose()
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def settle(db: Database) -> None:
    """Bring PostgreSQL to the state autovacuum reaches within minutes of a bulk load.

    VACUUM ANALYZE gives the planner statistics for the new rows, sets the
    visibility map and empties the GIN index's pending list. Without it the
    searches measured right after a load depend on whether autovacuum happened
    to run yet. SQLite has no counterpart that Huddle runs, so nothing is done.
    """
    if db.dialect != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
