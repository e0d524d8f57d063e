"""A whole Huddle in one file (format "huddle-backup", version 1), and back into an empty one.

    {"format": "huddle-backup", "version": 1, "exported_at": "…Z", "with_credentials": false,
     "users": [{"username": "…", "name": "…", "email": "…", "role": "coach",
                "created_at": "…Z", "password_hash": "$2b$…" (only with credentials)}],
     "settings": [{"key": "allow_registration", "value": "true"}],
     "archive": {…a "huddle-archive" of every coach's sessions and drills…}}

Users keep their names, emails, roles and creation times; password hashes (and the cookie
signing key among the settings) only with `with_credentials`, so a backup without them can be
handed around without handing out log-ins. What is not kept, because it is state of the
moment rather than data: log-ins (everyone logs in again after a restore), failed log-in
counts and replies being written. The analytics rollup and the search index are rebuilt by
the database as the archive is imported.

A restore goes into an empty database (no users) in one transaction: whole or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import select

from core.archive_fields import bad, check_fields, choice, show, text_field, time_field
from core.archive_in import parse_json, read_archive_document
from core.archive_out import write_every_archive
from core.archive_rows import write_rows
from core.errors import ArchiveError
from core.export_batches import format_time
from core.models import USER_ROLES, Setting, User, utcnow
from core.store import USERNAME_PATTERN, ConversationStore

BACKUP_FORMAT = "huddle-backup"
BACKUP_VERSION = 1
BACKUP_FIELDS = frozenset(
    {"format", "version", "exported_at", "with_credentials", "users", "settings", "archive"}
)
USER_FIELDS = frozenset({"username", "name", "email", "role", "created_at", "password_hash"})
# Settings that are credentials: kept only in a backup made with them.
SECRET_SETTINGS = frozenset({"cookie_key"})


@dataclass(frozen=True)
class BackupSummary:
    users: int
    sessions: int
    drills: int
    with_credentials: bool


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_backup(store: ConversationStore, out: TextIO, *, with_credentials: bool) -> BackupSummary:
    """Every user, setting, session and drill, streamed to `out`."""
    users = store.list_users()
    entries = []
    for user in users:
        entry = {
            "username": user.username,
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "created_at": format_time(user.created_at),
        }
        if with_credentials and user.password_hash:
            entry["password_hash"] = user.password_hash
        entries.append(entry)
    with store.db.reading() as session:
        settings = [
            {"key": key, "value": value}
            for key, value in session.execute(
                select(Setting.key, Setting.value).order_by(Setting.key)
            )
            if with_credentials or key not in SECRET_SETTINGS
        ]
    out.write(
        f'{{"format": {_json(BACKUP_FORMAT)}, "version": {BACKUP_VERSION}, '
        f'"exported_at": {_json(format_time(utcnow()))}, '
        f'"with_credentials": {_json(with_credentials)},\n'
        f'"users": {_json(entries)},\n"settings": {_json(settings)},\n"archive": '
    )
    sessions, drills = write_every_archive(store, out)
    out.write("}\n")
    return BackupSummary(len(users), sessions, drills, with_credentials)


def _read_user(raw: Any, where: str) -> User:
    check_fields(raw, USER_FIELDS, where)
    username = text_field(raw, "username", where, max_chars=64)
    if not USERNAME_PATTERN.match(username):
        bad(f"{where}.username", f"is not a username Huddle accepts: {show(username)}")
    password_hash = text_field(
        raw, "password_hash", where, max_chars=200, default=None, nullable=True
    )
    if password_hash is not None and not password_hash.startswith("$2"):
        bad(f"{where}.password_hash", "is not a bcrypt hash")
    return User(
        username=username.lower(),
        name=text_field(raw, "name", where, max_chars=200, default=""),
        email=text_field(raw, "email", where, max_chars=320, default=""),
        role=choice(raw, "role", where, USER_ROLES, default="coach"),
        created_at=time_field(raw, "created_at", where, default=utcnow()),
        password_hash=password_hash,
    )


def _read_settings(raw: Any) -> list[Setting]:
    if type(raw) is not list:
        bad("settings", f"must be a list, not {show(raw)}")
    found = []
    for index, entry in enumerate(raw):
        where = f"settings[{index}]"
        check_fields(entry, frozenset({"key", "value"}), where)
        found.append(
            Setting(
                key=text_field(entry, "key", where, max_chars=100),
                value=text_field(entry, "value", where, max_chars=10_000),
            )
        )
    return found


def restore_backup(store: ConversationStore, text: str) -> BackupSummary:
    """Load a backup into an empty database, whole or not at all; a problem raises
    ArchiveError (or ValidationError) with one sentence saying where and what."""
    document = parse_json(text, "The backup")
    if type(document) is not dict or document.get("format") != BACKUP_FORMAT:
        found = show(document.get("format")) if type(document) is dict else "not an object"
        raise ArchiveError(
            f"This is not a Huddle backup (its format is {found}, not {BACKUP_FORMAT!r}); "
            "an archive of conversations goes in with `import`."
        )
    version = document.get("version")
    if version != BACKUP_VERSION or type(version) is not int:
        raise ArchiveError(
            f"The backup is version {show(version)}; this Huddle reads version {BACKUP_VERSION}."
        )
    check_fields(document, BACKUP_FIELDS, "The backup")
    raw_users = document.get("users")
    if type(raw_users) is not list:
        bad("users", f"must be a list, not {show(raw_users)}")
    users = [_read_user(raw, f"users[{index}]") for index, raw in enumerate(raw_users)]
    seen: dict[str, int] = {}
    for index, user in enumerate(users):
        if user.username in seen:
            bad(f"users[{index}].username", f"repeats users[{seen[user.username]}]")
        seen[user.username] = index
    settings = _read_settings(document.get("settings", []))
    archive = read_archive_document(document.get("archive"), text, need_users=True)
    named = {str(record.username).lower() for record in [*archive.sessions, *archive.drills]}
    missing = sorted(named - seen.keys())
    if missing:
        bad("archive", f"names a user the backup does not hold: {missing[0]!r}")
    count = store.count_users()
    if count:
        raise ArchiveError(
            f"A backup is restored into an empty database; this one has {count:,} user"
            f"{'s' if count != 1 else ''}. Point DATABASE_URL at a new database and try again."
        )
    with store.db.writing() as session:
        session.add_all(users)
        for setting in settings:
            session.merge(setting)
        session.flush()
        write_rows(store, session, archive)
    return BackupSummary(
        len(users),
        len(archive.sessions),
        len(archive.drills),
        bool(document.get("with_credentials")),
    )
