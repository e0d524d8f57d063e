"""Revision 0008: SQLite's coach index (messages_coach_fts), filled on upgrade, kept by
triggers, dropped on downgrade; a no-op on PostgreSQL. And the candidates it is asked for."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.query import parse_query
from core.search import COACH_SPAN, FEW_MATCHES
from core.search_match import fts5_candidates
from tests.migrating import migrate_to, table_names


def _coach_rows(db, word: str) -> set[int]:
    """The rowids the coach index holds for a word."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT rowid FROM messages_coach_fts WHERE messages_coach_fts MATCH :w"),
            {"w": f'"{word}"'},
        )
        return set(rows.scalars())


def _found(store, user_id: int, query: str, order: str) -> list[int]:
    return [hit.message_id for hit in store.search_messages(user_id, query, order=order)]


def test_upgrade_indexes_the_messages_already_stored_and_downgrade_drops_it(
    db, store, coach, other_coach
):
    chat = store.create_session(coach.id).id
    other = store.create_session(other_coach.id).id
    before = store.add_message(coach.id, chat, "user", "basketball closeouts").id
    store.add_message(other_coach.id, other, "user", "basketball closeouts")

    migrate_to(db, "0007", down=True)
    assert "messages_coach_fts" not in table_names(db)
    # Written while no trigger keeps the coach index: only the upgrade's fill can hold it.
    while_down = store.add_message(coach.id, chat, "assistant", "closeouts and basketball").id

    migrate_to(db, "head")
    if db.dialect == "sqlite":
        assert "messages_coach_fts" in table_names(db)
        expected = {coach.id * COACH_SPAN + before, coach.id * COACH_SPAN + while_down}
        assert _coach_rows(db, "basketball") >= expected
    else:
        assert "messages_coach_fts" not in table_names(db)
    for order in ("recent", "relevance"):
        assert sorted(_found(store, coach.id, "basketball", order)) == [before, while_down]
        assert len(_found(store, other_coach.id, "basketball", order)) == 1


@pytest.fixture
def sqlite_store(sqlite_url):
    from core.db import Database
    from core.store import ConversationStore

    db = Database(sqlite_url)
    db.migrate()
    yield ConversationStore(db)
    db.dispose()


def test_triggers_follow_every_insert_update_and_delete(sqlite_store):
    store, db = sqlite_store, sqlite_store.db
    coach = store.create_user("coach1")
    chat = store.create_session(coach.id).id
    key = coach.id * COACH_SPAN + store.add_message(coach.id, chat, "user", "rondo warm-up").id
    assert _coach_rows(db, "rondo") == {key}
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE messages SET content = 'pressing drill'"))
    assert _coach_rows(db, "rondo") == set()
    assert _coach_rows(db, "pressing") == {key}
    store.delete_user(coach.id)
    assert _coach_rows(db, "pressing") == set()
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO messages_coach_fts(messages_coach_fts, rank) VALUES ('integrity-check', 0)"
        )


def test_a_coach_with_many_matches_and_one_with_few_get_the_same_as_before(sqlite_store):
    # Either side of FEW_MATCHES candidates, the statement takes another way to the matches.
    store = sqlite_store
    many, few = store.create_user("many"), store.create_user("few")
    for user, count in ((many, FEW_MATCHES + 5), (few, 3)):
        chat = store.create_session(user.id).id
        for number in range(count):
            store.add_message(user.id, chat, "user", f"basketball drill number {number}")
            store.add_message(user.id, chat, "user", "a drill with no ball")
    for user, count in ((many, FEW_MATCHES + 5), (few, 3)):
        for order in ("recent", "relevance"):
            hits = store.search_messages(user.id, "basketball", order=order, limit=100)
            assert len(hits) == count
            assert all(hit.snippet.startswith("**basketball**") for hit in hits)
        recent = store.search_messages(user.id, "basketball drill", order="recent")
        assert [hit.message_id for hit in recent] == sorted(
            (hit.message_id for hit in recent), reverse=True
        )


@pytest.mark.parametrize(
    ("query", "candidates"),
    [
        ("basketball", '(("basketball"))'),
        ('"pass the ball" OR rondo', '(("pass" AND "ball") OR ("rondo"))'),
        ("3-on-3 -game", '(("3" AND "3"))'),
        ("drill u12", '(("drill")) AND (("u12"))'),
        ("café", None),
        ("naïve drill", None),
    ],
)
def test_candidates_ask_for_every_word_a_match_needs(query, candidates):
    assert fts5_candidates(parse_query(query)) == candidates
