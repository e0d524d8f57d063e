"""Revision 0006: log-in sessions, failure counts and case-insensitive usernames, both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.login_sessions import LoginSessions
from tests.migrating import migrate_to, table_names


def test_down_and_up_keeps_users_and_starts_log_ins_afresh(db, store, coach):
    LoginSessions(db).start(coach.id)
    migrate_to(db, "0005", down=True)
    assert not {"login_sessions", "login_failures"} & table_names(db)
    migrate_to(db, "head")
    assert {"login_sessions", "login_failures"} <= table_names(db)
    assert store.get_user("COACH1").id == coach.id
    raw_id, _ = LoginSessions(db).start(coach.id)
    assert LoginSessions(db).check(raw_id).user.id == coach.id


def test_usernames_that_differ_only_in_case_stop_the_upgrade_with_their_names(db, store):
    migrate_to(db, "0005", down=True)
    with db.engine.begin() as connection:
        for name in ("Coach1", "coach1", "maya"):
            connection.execute(
                sa.text(
                    "INSERT INTO users (username, name, email, role, created_at) "
                    "VALUES (:name, :name, '', 'coach', CURRENT_TIMESTAMP)"
                ),
                {"name": name},
            )
    with pytest.raises(RuntimeError, match=r"name more than one account each: coach1\. Rename"):
        migrate_to(db, "head")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE users SET username = 'coach1-b' WHERE username = 'Coach1'")
        )
    migrate_to(db, "head")
    assert store.get_user("COACH1-B").username == "coach1-b"
