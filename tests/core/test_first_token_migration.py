"""Revision 0003: messages.first_token_ms added and removed again on both databases."""

from __future__ import annotations

import sqlalchemy as sa

from tests.migrating import migrate_to


def _message_columns(db) -> set[str]:
    return {column["name"] for column in sa.inspect(db.engine).get_columns("messages")}


def test_down_and_up_keeps_messages_and_search(db, store, coach):
    chat = store.create_session(coach.id)
    store.add_message(coach.id, chat.id, "user", "rondo passing drill")
    store.add_message(coach.id, chat.id, "assistant", "try a rondo", first_token_ms=420)
    assert "first_token_ms" in _message_columns(db)

    migrate_to(db, "0002", down=True)
    assert "first_token_ms" not in _message_columns(db)
    with db.engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM messages")).scalar_one()
        calls = connection.execute(sa.text("SELECT count(*) FROM tool_calls")).scalar_one()
    assert (count, calls) == (2, 0)

    migrate_to(db, "head", down=False)
    assert "first_token_ms" in _message_columns(db)
    messages = store.list_messages(coach.id, chat.id)
    # The value measured before the downgrade is gone with its column; old rows read NULL.
    assert [m.first_token_ms for m in messages] == [None, None]
    assert [hit.seq for hit in store.search_messages(coach.id, "rondo")] != []
    again = store.add_message(coach.id, chat.id, "assistant", "later", first_token_ms=77)
    assert store.list_messages(coach.id, chat.id)[-1].first_token_ms == 77
    assert again.first_token_ms == 77
