"""Revision 0004: the rollup tables, their triggers and the backfill, down and up, on both."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from core.analytics_rollup import rollup_differences
from core.db import _alembic_config
from tests.core.analytics_usage import build_usage


def _migrate(db, revision: str, *, down: bool) -> None:
    with db.engine.connect() as connection:
        step = command.downgrade if down else command.upgrade
        step(_alembic_config(connection), revision)
        connection.commit()


def _tables(db) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_fills_the_rollup_from_the_messages_already_stored(db, store, coach, other_coach):
    build_usage(store, coach, other_coach)
    _migrate(db, "0003", down=True)
    assert {"activity_rollup", "model_rollup"}.isdisjoint(_tables(db))
    # Written while no trigger exists: only the backfill can count it.
    chat = store.create_session(coach.id).id
    store.add_message(
        coach.id,
        chat,
        "assistant",
        "three more words",
        model="claude-sonnet-5-5",
        input_tokens=10,
        output_tokens=3,
        created_at=datetime(2026, 3, 15, 12, 7, tzinfo=UTC),
    )

    _migrate(db, "head", down=False)

    assert {"activity_rollup", "model_rollup"} <= _tables(db)
    assert rollup_differences(db) == []
    with db.engine.connect() as connection:
        rolled = connection.execute(sa.text("SELECT sum(messages) FROM activity_rollup")).scalar()
        stored = connection.execute(sa.text("SELECT count(*) FROM messages")).scalar()
    assert rolled == stored
    # And the triggers are back: a new message is counted at once.
    store.add_message(coach.id, chat, "user", "one more")
    assert rollup_differences(db) == []
