"""Isolation as a property: three coaches and an admin act at random; none touches another's data.

A hypothesis state machine drives every store operation a page or the command line uses
(sessions, messages, tool calls, tags, pins, archives, bulk actions, drills, searches,
listings, exports, imports, and command-line search, stats and export), each time as one of
the four, often aimed at ids that belong to someone else. After every step:

- each of the others' data is unchanged (a digest of every row they own), and
- whatever the actor read (a listing, a search, an export) names only the actor's records,
- an operation on another's id fails exactly as one on a missing id (NotFound, same words).

At least 2,000 steps run on each database; the count is printed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from core.archive_out import archive_bytes
from core.cli import main
from core.csv_export import csv_bytes
from core.errors import NotFound, ValidationError
from core.file_import import import_file
from core.history import history_page
from core.markdown_export import session_markdown
from core.models import Base
from core.query import parse_history_query
from core.store import ConversationStore, SessionFilter

EXAMPLES = 45
STEPS = 65  # up to EXAMPLES × STEPS steps a round
MIN_STEPS = 2_000
OWNED = ("chat_sessions", "messages", "tool_calls", "drills", "activity_rollup", "model_rollup")
# Archived sessions too: listings here must see all of a coach's sessions.
EVERY = SessionFilter(archived=None)
WORDS = ["rondo", "passing", "pressing", "keeper", "corner", "futsal", "warm-up"]


def _digest(store: ConversationStore, user_id: int) -> str:
    """Every row the user owns, in a stable order, hashed."""
    parts = []
    with store.db.engine.connect() as connection:
        for name in OWNED:
            table = Base.metadata.tables[name]
            rows = connection.execute(sa.select(table).where(table.c.user_id == user_id)).all()
            parts.append(sorted(repr(tuple(row)) for row in rows))
        tags = Base.metadata.tables["session_tags"]
        sessions = Base.metadata.tables["chat_sessions"]
        rows = connection.execute(
            sa.select(tags)
            .join(sessions, sessions.c.id == tags.c.session_id)
            .where(sessions.c.user_id == user_id)
        ).all()
        parts.append(sorted(repr(tuple(row)) for row in rows))
        user = connection.execute(
            sa.select(Base.metadata.tables["users"]).where(
                Base.metadata.tables["users"].c.id == user_id
            )
        ).one()
        parts.append([repr(tuple(user))])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _missing_sentence(error: Exception) -> str:
    """The sentence with any id in it taken out, to compare a foreign id's answer with a
    missing one's."""
    return " ".join("ID" if len(word.strip("'.,")) >= 32 else word for word in str(error).split())


class Isolation(RuleBasedStateMachine):
    store: ConversationStore
    database_url: str
    steps_taken = 0

    def __init__(self) -> None:
        super().__init__()
        tag = uuid.uuid4().hex[:8]
        self.people = [
            self.store.create_user(f"c{index}-{tag}", role="admin" if index == 3 else "coach")
            for index in range(4)
        ]
        self.sessions: dict[int, list[str]] = {p.id: [] for p in self.people}
        self.drills: dict[int, list[str]] = {p.id: [] for p in self.people}
        self.digests: dict[int, str] = {}
        self.actor = self.people[0]

    # -- whose turn, and the others' data before it -----------------------------------------

    def _act_as(self, index: int):
        """The actor of this step; the others' digests were taken after the last step."""
        self.actor = self.people[index % 4]
        Isolation.steps_taken += 1
        return self.actor

    def _anyone_id(self, data, kind: str) -> str:
        """An id of any of the four (often someone else's), or one nobody has."""
        pool = self.sessions if kind == "session" else self.drills
        every = [i for ids in pool.values() for i in ids]
        return data.draw(st.sampled_from([*every, str(uuid.uuid4())]))

    def _mine(self, kind: str) -> set[str]:
        pool = self.sessions if kind == "session" else self.drills
        return set(pool[self.actor.id])

    def _foreign_is_missing(self, call, data) -> None:
        """An operation on someone else's id fails as it does on an id nobody has."""
        foreign = [i for p, ids in self.sessions.items() if p != self.actor.id for i in ids]
        if not foreign:
            return
        target = data.draw(st.sampled_from(foreign))
        with pytest.raises(NotFound) as theirs:
            call(target)
        with pytest.raises(NotFound) as nobodys:
            call(str(uuid.uuid4()))
        assert _missing_sentence(theirs.value) == _missing_sentence(nobodys.value)

    # -- writes ---------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        for person in self.people:
            chat = self.store.create_session(person.id, title="First rondo")
            self.store.add_message(person.id, chat.id, "user", "rondo passing")
            self.sessions[person.id].append(chat.id)

    @rule(
        who=st.integers(0, 3), kind=st.sampled_from(["chat", "drill"]), word=st.sampled_from(WORDS)
    )
    def create_session(self, who, kind, word) -> None:
        me = self._act_as(who)
        chat = self.store.create_session(me.id, kind=kind, title=f"{word} plan")
        self.sessions[me.id].append(chat.id)

    @rule(who=st.integers(0, 3), data=st.data(), word=st.sampled_from(WORDS))
    def add_message(self, who, data, word) -> None:
        me = self._act_as(who)
        target = self._anyone_id(data, "session")
        role = data.draw(st.sampled_from(["user", "assistant"]))
        try:
            message = self.store.add_message(me.id, target, role, f"{word} drill notes")
        except NotFound:
            assert target not in self._mine("session")
            return
        assert target in self._mine("session")
        if role == "assistant" and data.draw(st.booleans()):
            self.store.record_tool_call(
                me.id, target, message_id=message.id, tool_use_id=f"t{uuid.uuid4().hex[:8]}",
                name="calculator", input={"expression": "1+1"}, output="2",
            )  # fmt: skip

    @rule(who=st.integers(0, 3), data=st.data())
    def change_a_session(self, who, data) -> None:
        me = self._act_as(who)
        target = self._anyone_id(data, "session")
        action = data.draw(st.sampled_from(["rename", "pin", "archive", "tags", "tag", "model"]))
        calls = {
            "rename": lambda s: self.store.rename_session(me.id, s, "Renamed rondo"),
            "pin": lambda s: self.store.set_pinned(me.id, s, True),
            "archive": lambda s: self.store.set_archived(me.id, s, True),
            "tags": lambda s: self.store.set_tags(me.id, s, ["u12", "mine"]),
            "tag": lambda s: self.store.add_tag(me.id, s, "extra"),
            "model": lambda s: self.store.set_session_model(me.id, s, "claude-x"),
        }
        try:
            calls[action](target)
        except NotFound:
            assert target not in self._mine("session")
        else:
            assert target in self._mine("session")
        self._foreign_is_missing(calls[action], data)

    @rule(who=st.integers(0, 3), data=st.data())
    def bulk_action(self, who, data) -> None:
        me = self._act_as(who)
        every = [i for ids in self.sessions.values() for i in ids] + [str(uuid.uuid4())]
        chosen = data.draw(st.lists(st.sampled_from(every), max_size=6, unique=True))
        action = data.draw(st.sampled_from(["pin", "archive", "tag", "untag", "delete"]))
        if action == "pin":
            self.store.set_pinned_many(me.id, chosen, True)
        elif action == "archive":
            self.store.set_archived_many(me.id, chosen, data.draw(st.booleans()))
        elif action == "tag":
            self.store.add_tag_many(me.id, chosen, "bulk")
        elif action == "untag":
            self.store.remove_tag_many(me.id, chosen, "bulk")
        else:
            self.store.delete_sessions(me.id, chosen)
            self.sessions[me.id] = [s for s in self.sessions[me.id] if s not in chosen]

    @rule(who=st.integers(0, 3), data=st.data())
    def delete_a_session(self, who, data) -> None:
        me = self._act_as(who)
        target = self._anyone_id(data, "session")
        try:
            self.store.delete_session(me.id, target)
        except NotFound:
            assert target not in self._mine("session")
        else:
            self.sessions[me.id].remove(target)

    @rule(who=st.integers(0, 3), data=st.data(), word=st.sampled_from(WORDS))
    def drills(self, who, data, word) -> None:
        me = self._act_as(who)
        action = data.draw(st.sampled_from(["create", "update", "delete", "link", "read"]))
        if action == "create":
            drill = self.store.create_drill(me.id, title=f"{word} drill", sport="soccer")
            self.drills[me.id].append(drill.id)
            return
        target = self._anyone_id(data, "drill")
        calls = {
            "update": lambda d: self.store.update_drill(me.id, d, players=10),
            "delete": lambda d: self.store.delete_drill(me.id, d),
            "link": lambda d: (
                self.store.link_drill(me.id, self.sessions[me.id][0], d)
                if self.sessions[me.id]
                else self.store.get_drill(me.id, d)
            ),
            "read": lambda d: self.store.get_drill(me.id, d),
        }
        try:
            calls[action](target)
        except NotFound:
            assert target not in self._mine("drill") or (
                action == "link" and not self.sessions[me.id]
            )
        else:
            assert target in self._mine("drill")
            if action == "delete":
                self.drills[me.id].remove(target)

    @rule(who=st.integers(0, 3), other=st.integers(0, 3))
    def import_an_export(self, who, other) -> None:
        """An archive one coach exported, imported by another (or the same): a copy. The
        exporter's rows stay as they were, under their ids."""
        me = self._act_as(who)
        source = self.people[other % 4]
        if len(self.sessions[source.id]) > 8:
            return  # copies of copies would grow the data without end
        try:
            import_file(self.store, archive_bytes(self.store, source.id), as_user=me.username)
        except ValidationError:
            return
        listed = self.store.list_sessions(me.id, EVERY, limit=10_000).items
        self.sessions[me.id] = [session.id for session in listed]

    # -- reads ----------------------------------------------------------------------------

    @rule(who=st.integers(0, 3), word=st.sampled_from(WORDS))
    def read(self, who, word) -> None:
        me = self._act_as(who)
        mine = {s.id for s in self.store.list_sessions(me.id, EVERY, limit=10_000).items}
        assert mine == self._mine("session")
        assert {hit.session_id for hit in self.store.search_messages(me.id, word)} <= mine
        page = history_page(self.store, me.id, parse_history_query(f"{word} is:all"))
        assert {row.session.id for row in page.rows} <= mine
        archive = json.loads(archive_bytes(self.store, me.id))
        assert {s["id"] for s in archive["sessions"]} == mine
        assert {d["id"] for d in archive["drills"]} <= set(self.drills[me.id]) | {
            d.id for d in self.store.list_drills(me.id, limit=10_000)
        }
        text = csv_bytes(self.store, me.id).decode()
        for other in self.people:
            if other.id != me.id:
                # Another's ids never show (an imported copy gets ids of its own).
                assert not any(session_id in text for session_id in self.sessions[other.id])
        for session_id in list(mine)[:2]:
            session_markdown(self.store, me.id, session_id)

    @rule(
        who=st.integers(0, 3),
        command=st.sampled_from(["search", "stats", "export"]),
        now=st.integers(0, 7),
    )
    def command_line(self, who, command, now) -> None:
        if now:
            return  # one time in eight: each run of the command line opens the database anew
        me = self._act_as(who)
        args = {
            "search": ["search", "--user", me.username, "rondo", "--json"],
            "stats": ["stats", "--user", me.username, "--json"],
            "export": ["export", "--user", me.username, "--format", "json"],
        }[command]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["--database-url", self.database_url, *args])
        assert code == 0
        printed = out.getvalue()
        for other in self.people:
            if other.id != me.id:
                assert other.username not in printed
                for session_id in self.sessions[other.id]:
                    assert session_id not in printed

    # -- the property ---------------------------------------------------------------------

    @invariant()
    def nobody_else_changed(self) -> None:
        now = {p.id: _digest(self.store, p.id) for p in self.people}
        for person_id, before in self.digests.items():
            if person_id != self.actor.id:
                assert now[person_id] == before, "another coach's data changed"
        self.digests = now


def test_nothing_one_coach_does_touches_another(store, database_url, capsys):
    Isolation.store = store
    Isolation.database_url = database_url
    Isolation.steps_taken = 0
    machine = Isolation.TestCase
    machine.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        # No shrinking: the database outlives each example, so a replay would not meet the
        # state the first run met. A failure still prints every step that led to it.
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # Hypothesis ends some examples early; rounds run until the steps reach MIN_STEPS.
    for _ in range(4):
        machine().runTest()
        if Isolation.steps_taken >= MIN_STEPS:
            break
    steps = Isolation.steps_taken
    with capsys.disabled():
        dialect = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        print(f"\nisolation on {dialect}: {steps:,} operations by 4 people", file=sys.stderr)
    assert steps >= MIN_STEPS
