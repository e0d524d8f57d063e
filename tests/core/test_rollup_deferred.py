"""Revision 0007: on SQLite a bulk insert adds to the analytics rollup once per batch, and
every other insert still through the per-row trigger; both databases stay equal to the
rollup recomputed from the messages."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from core.analytics_rollup import rollup_differences
from core.archive_in import import_archive
from core.demo import load_demo_data
from tests.core.test_export import _hand_archive
from tests.migrating import migrate_to, table_names


def _insert_trigger(db) -> str:
    with db.engine.connect() as connection:
        return connection.scalar(
            sa.text("SELECT sql FROM sqlite_master WHERE name = 'messages_rollup_insert'")
        )


def test_after_a_bulk_insert_the_trigger_counts_single_messages_again(store, coach):
    load_demo_data(store, users=2, sessions=8, messages=200, seed=5)
    import_archive(store, json.dumps(_hand_archive("coach1")))
    if store.db.dialect == "sqlite":
        with store.db.engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT count(*) FROM rollup_deferred")) == 0
    chat = store.create_session(coach.id, title="After the import")
    store.add_message(coach.id, chat.id, "user", "three more words")
    assert rollup_differences(store.db) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_down_and_up_keeps_the_rollup_kept(db, store):
    assert "WHEN NOT EXISTS (SELECT 1 FROM rollup_deferred)" in _insert_trigger(db)
    migrate_to(db, "0006", down=True)
    assert "rollup_deferred" not in table_names(db)
    assert "rollup_deferred" not in _insert_trigger(db)
    user = store.create_user("maya", name="Maya")
    chat = store.create_session(user.id, title="Before the upgrade")
    store.add_message(user.id, chat.id, "user", "counted by the plain trigger")
    migrate_to(db, "head")
    assert "rollup_deferred" in table_names(db)
    load_demo_data(store, users=2, sessions=5, messages=60, seed=2)
    store.add_message(user.id, chat.id, "assistant", "and by the deferrable one")
    assert rollup_differences(db) == []
