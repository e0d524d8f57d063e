"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and the store over it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from core.db import Database
from core.store import ConversationStore

DEFAULT_TEST_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = bool(os.environ.get("CI"))


def postgres_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_PG)


def _unreachable_postgres(reason: str) -> None:
    message = f"PostgreSQL at {postgres_admin_url()} cannot be reached: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI is set, so PostgreSQL is required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[sa.Engine]:
    """An autocommit engine on the PostgreSQL server, used to create throwaway databases."""
    engine = sa.create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        _unreachable_postgres(str(exc.orig).strip().splitlines()[0])
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: sa.Engine) -> Iterator[str]:
    """A migrated database that each test clones (CREATE DATABASE … TEMPLATE is fast)."""
    name = f"huddle_tpl_{uuid.uuid4().hex[:10]}"
    with postgres_server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(postgres_server.url.set(database=name).render_as_string(hide_password=False))
    db.migrate()
    db.dispose()
    yield name
    with postgres_server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url(postgres_server: sa.Engine, postgres_template: str) -> Iterator[str]:
    name = f"huddle_t_{uuid.uuid4().hex[:12]}"
    with postgres_server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield postgres_server.url.set(database=name).render_as_string(hide_password=False)
    with postgres_server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'huddle.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """A fresh, migrated database URL, once per dialect."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
        db = Database(url)
        db.migrate()
        db.dispose()
        return url
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def store(db: Database) -> ConversationStore:
    return ConversationStore(db)


@pytest.fixture
def coach(store: ConversationStore):
    return store.create_user("coach1", name="Coach One", email="one@example.com")


@pytest.fixture
def other_coach(store: ConversationStore):
    return store.create_user("coach2", name="Coach Two", email="two@example.com")


@pytest.fixture
def fake():
    """A local fake of the Anthropic Messages API, scripted per test."""
    from tests.fakes.anthropic_server import FakeAnthropic

    with FakeAnthropic() as server:
        yield server
