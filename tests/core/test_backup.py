"""Backup and restore: every table's rows come back equal, on each database and across them.

Each table is compared by its row count and a checksum over its rows, read with the tables'
own types and with surrogate keys (user and message ids) replaced by the natural keys they
stand for (username; session id and seq), since a restore numbers rows afresh.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import demo
from core.backup import restore_backup, write_backup
from core.db import Database
from core.errors import ArchiveError
from core.login_sessions import LoginSessions
from core.models import Base
from core.store import ConversationStore

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
T = Base.metadata.tables
# Tables a backup holds, compared row for row. Left out on purpose: login_sessions,
# login_failures and chat_turns (state of the moment, not data).
COMPARED = (
    "users",
    "settings",
    "chat_sessions",
    "session_tags",
    "messages",
    "tool_calls",
    "drills",
    "activity_rollup",
    "model_rollup",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def _rows(db: Database, table: str, *, credentials: bool) -> list[tuple]:
    users = T["users"]
    messages = T["messages"]
    t = T[table]
    columns = [c for c in t.columns if c.name not in ("id", "user_id", "message_id")]
    if table == "users":
        columns = [
            c for c in t.columns if c.name != "id" and (credentials or c.name != "password_hash")
        ]
        query = sa.select(*columns)
    elif table == "settings":
        query = sa.select(*columns)
        if not credentials:
            query = query.where(t.c.key != "cookie_key")
    elif table == "tool_calls":
        query = sa.select(users.c.username, messages.c.seq, *columns).select_from(
            t.join(users, users.c.id == t.c.user_id).outerjoin(
                messages, messages.c.id == t.c.message_id
            )
        )
    elif "user_id" in t.c:
        query = sa.select(users.c.username, *columns).join(users, users.c.id == t.c.user_id)
    else:
        query = sa.select(*columns)
    with db.engine.connect() as connection:
        return sorted(
            (tuple(_plain(value) for value in row) for row in connection.execute(query)),
            key=repr,
        )


def checksums(db: Database, *, credentials: bool) -> dict[str, tuple[int, str]]:
    found = {}
    for table in COMPARED:
        rows = _rows(db, table, credentials=credentials)
        digest = hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()
        found[table] = (len(rows), digest)
    return found


def _corpus(store: ConversationStore) -> None:
    """Demo coaches and conversations, plus every field a backup must carry."""
    demo.load_demo_data(store, users=3, sessions=12, messages=400, seed=11)
    coach = store.get_user("coach1")
    store.update_user(coach.id, name="Maya Okafor", email="maya@example.com", role="admin")
    store.set_password_hash("coach2", "$2b$04$" + "x" * 53)
    store.set_setting("allow_registration", "true")
    store.get_or_create_setting("cookie_key", lambda: "k" * 48)
    chat = store.create_session(coach.id, title="Set pieces ⚽ «U12»", kind="chat")
    store.set_tags(coach.id, chat.id, ["u12", "corners"])
    store.set_pinned(coach.id, chat.id, True)
    store.add_message(
        coach.id, chat.id, "user", "Corner routines\nfor tall defenders", created_at=WHEN
    )
    reply = store.add_message(
        coach.id,
        chat.id,
        "assistant",
        "Half a reply",
        status="partial",
        error="The reply was interrupted.",
        model="claude-test",
        input_tokens=12,
        output_tokens=3,
        blocks=[{"type": "text", "text": "Half a reply"}],
        created_at=WHEN + timedelta(seconds=5),
    )
    store.record_tool_call(
        coach.id,
        chat.id,
        message_id=reply.id,
        tool_use_id="toolu_1",
        name="calculator",
        input={"expression": "2+2"},
        output="4",
        duration_ms=3,
        created_at=WHEN + timedelta(seconds=4),
    )
    drill = store.create_drill(
        coach.id,
        title="Rondo 4 v 2",
        sport="soccer",
        players=6,
        duration_min=15,
        equipment=["cones", "bibs"],
        steps=["Set up", "Play"],
        source_session_id=chat.id,
    )
    linked = store.create_session(coach.id, kind="drill", drill_id=drill.id)
    store.add_message(coach.id, linked.id, "user", "make it 20 minutes")
    LoginSessions(store.db).start(coach.id)  # not carried over, by design


@pytest.fixture
def fresh_database(tmp_path, postgres_server, postgres_template) -> Iterator[Any]:
    """Makes empty, migrated databases of either kind; dropped afterwards."""
    made: list[tuple[Database, str | None]] = []

    def make(kind: str) -> Database:
        if kind == "sqlite":
            db = Database(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.db'}")
            db.migrate()
            made.append((db, None))
            return db
        name = f"huddle_b_{uuid.uuid4().hex[:12]}"
        with postgres_server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
        db = Database(postgres_server.url.set(database=name).render_as_string(hide_password=False))
        made.append((db, name))
        return db

    yield make
    for db, name in made:
        db.dispose()
        if name:
            with postgres_server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _backup(store: ConversationStore, *, credentials: bool) -> str:
    out = io.StringIO()
    write_backup(store, out, with_credentials=credentials)
    return out.getvalue()


OTHER = {"sqlite": "postgresql", "postgresql": "sqlite"}


@pytest.mark.parametrize("credentials", [False, True])
def test_a_round_trip_gives_back_every_table(store, database_url, fresh_database, credentials):
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    _corpus(store)
    before = checksums(store.db, credentials=credentials)
    assert before["messages"][0] > 400 and before["tool_calls"][0] > 0
    text = _backup(store, credentials=credentials)

    # The same kind of database, then the other kind and back again.
    same = ConversationStore(fresh_database(kind))
    restore_backup(same, text)
    assert checksums(same.db, credentials=credentials) == before

    across = ConversationStore(fresh_database(OTHER[kind]))
    restore_backup(across, text)
    assert checksums(across.db, credentials=credentials) == before
    back = ConversationStore(fresh_database(kind))
    restore_backup(back, _backup(across, credentials=credentials))
    assert checksums(back.db, credentials=credentials) == before

    users = {user.username: user for user in same.list_users()}
    assert (users["coach1"].role, users["coach1"].email) == ("admin", "maya@example.com")
    if credentials:
        assert users["coach2"].password_hash == store.get_user("coach2").password_hash
        assert same.get_setting("cookie_key") == "k" * 48
    else:
        assert all(user.password_hash is None for user in users.values())
        assert same.get_setting("cookie_key") is None
        assert '"$2b$' not in text
    with same.db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM login_sessions")).scalar() == 0


def test_restore_refuses_a_database_with_users_and_changes_nothing(store, fresh_database):
    _corpus(store)
    text = _backup(store, credentials=False)
    before = checksums(store.db, credentials=True)
    with pytest.raises(ArchiveError, match="restored into an empty database; this one has 3"):
        restore_backup(store, text)
    assert checksums(store.db, credentials=True) == before


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        (lambda d: d.update(format="huddle-archive"), "This is not a Huddle backup"),
        (lambda d: d.update(version=2), "The backup is version 2"),
        (lambda d: d["users"][0].update(role="owner"), "users[0].role must be one of"),
        (lambda d: d["users"].append(dict(d["users"][0])), "users[3].username repeats users[0]"),
        (lambda d: d["users"].pop(), "archive names a user the backup does not hold"),
        (lambda d: d["users"][0].update(password_hash="plain"), "is not a bcrypt hash"),
        (lambda d: d["archive"]["sessions"][0].update(kind="x"), "sessions[0].kind"),
    ],
)
def test_a_damaged_backup_restores_nothing(store, fresh_database, change, sentence):
    _corpus(store)
    document = json.loads(_backup(store, credentials=False))
    change(document)
    target = ConversationStore(fresh_database("sqlite"))
    with pytest.raises(ArchiveError, match=re.escape(sentence)):
        restore_backup(target, json.dumps(document))
    assert target.count_users() == 0
