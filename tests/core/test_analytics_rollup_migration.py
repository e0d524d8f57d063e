"""Revision 0004: the rollup tables, their triggers and the backfill, down and up, on both."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from core.analytics_rollup import rollup_differences
from tests.core.analytics_usage import build_usage
from tests.migrating import migrate_to, table_names


def test_upgrade_fills_the_rollup_from_the_messages_already_stored(db, store, coach, other_coach):
    build_usage(store, coach, other_coach)
    migrate_to(db, "0003", down=True)
    assert {"activity_rollup", "model_rollup"}.isdisjoint(table_names(db))
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

    migrate_to(db, "head", down=False)

    assert {"activity_rollup", "model_rollup"} <= table_names(db)
    assert rollup_differences(db) == []
    with db.engine.connect() as connection:
        rolled = connection.execute(sa.text("SELECT sum(messages) FROM activity_rollup")).scalar()
        stored = connection.execute(sa.text("SELECT count(*) FROM messages")).scalar()
    assert rolled == stored
    # And the triggers are back: a new message is counted at once.
    store.add_message(coach.id, chat, "user", "one more")
    assert rollup_differences(db) == []
