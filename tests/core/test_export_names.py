"""Export file names, and exports of long selections (the History page's "export all 20,000")."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
import zipfile
from datetime import date

import pytest
from sqlalchemy import event

from core.archive_out import archive_bytes
from core.csv_export import csv_bytes
from core.export_batches import PAGE
from core.export_names import export_file_name
from core.markdown_export import markdown_bytes

DAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("username", "count", "extension", "noun", "expected"),
    [
        ("coach1", 12, "csv", "sessions", "huddle-coach1-2026-12-01-12-sessions.csv"),
        ("coach1", 1, "json", "sessions", "huddle-coach1-2026-12-01-1-session.json"),
        ("coach1", 0, "zip", "sessions", "huddle-coach1-2026-12-01-0-sessions.zip"),
        ("Coach.One_2", 3, ".MD", "drills", "huddle-coach-one-2-2026-12-01-3-drills.md"),
        ("../../etc", 2, "csv", "sessions", "huddle-etc-2026-12-01-2-sessions.csv"),
        ("__", 1, "csv", "messages", "huddle-coach-2026-12-01-1-message.csv"),
    ],
)
def test_export_file_name_says_what_the_file_holds(username, count, extension, noun, expected):
    name = export_file_name(username, count, extension, today=DAY, noun=noun)
    assert name == expected


def test_export_file_name_defaults_to_today_and_sessions():
    name = export_file_name("coach1", 20_000, "csv")
    assert name.startswith("huddle-coach1-20") and name.endswith("-20000-sessions.csv")


def test_a_selection_of_twenty_thousand_ids_exports_in_bounded_batches(store, coach, other_coach):
    mine = []
    for number in range(3):
        chat = store.create_session(coach.id, title=f"Session {number}")
        store.add_message(coach.id, chat.id, "user", f"message {number}")
        mine.append(chat.id)
    theirs = store.create_session(other_coach.id, title="Theirs")
    store.add_message(other_coach.id, theirs.id, "user", "not yours")
    ids = [str(uuid.uuid4()) for _ in range(19_996)] + mine + [theirs.id]
    random.Random(7).shuffle(ids)

    # Every statement the exports send: none may carry an IN list longer than a page.
    parameters: list[int] = []

    def count_parameters(conn, cursor, statement, params, context, executemany):
        parameters.append(len(params))

    event.listen(store.db.engine, "before_cursor_execute", count_parameters)
    try:
        archive = json.loads(archive_bytes(store, coach.id, session_ids=ids))
        rows = list(csv.reader(io.StringIO(csv_bytes(store, coach.id, session_ids=ids).decode())))
        with zipfile.ZipFile(io.BytesIO(markdown_bytes(store, coach.id, session_ids=ids))) as z:
            files = z.namelist()
    finally:
        event.remove(store.db.engine, "before_cursor_execute", count_parameters)

    assert [session["id"] for session in archive["sessions"]] == mine
    assert [row[6] for row in rows[1:]] == ["message 0", "message 1", "message 2"]
    assert len(files) == 3
    assert parameters and max(parameters) <= PAGE + 5
