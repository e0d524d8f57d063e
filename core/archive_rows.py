"""The in-memory rows of an import and the one path that writes them: whole or nothing,
sessions already there skipped, ids taken by another coach moved.

Every importer (the Huddle archive, ChatGPT and Claude.ai exports) builds an
IncomingArchive and hands it to write_incoming.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import ArchiveError, NotFound
from core.export_batches import chunks
from core.models import ChatSession, Drill, User, new_id, utcnow
from core.store import BulkBatch, ConversationStore
from core.text import count_words, make_preview

# Ids that collide with another coach's are moved to a uuid5 of (id, new owner):
# the same archive imported again lands on the same ids and is skipped.
_MOVED_ID_NAMESPACE = uuid.UUID("93e7c5ca-e73e-406f-8541-699807be695c")
_MOVE_ROUNDS = 5


@dataclass(frozen=True)
class ImportResult:
    """What an archive import did; skipped sessions and drills were already there."""

    sessions_added: int
    sessions_skipped: int
    messages_added: int
    tool_calls_added: int
    drills_added: int
    drills_skipped: int
    users_created: list[str]


@dataclass
class IncomingSession:
    """One validated session of an archive, its rows ready but not yet given an owner."""

    id: str
    username: str | None
    drill_ref: str | None
    row: dict[str, Any]
    tags: list[str]
    messages: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    # Decided inside the import transaction.
    owner: int = 0
    final_id: str = ""
    new: bool = False


@dataclass
class IncomingDrill:
    id: str
    username: str | None
    source_ref: str | None
    row: dict[str, Any]
    owner: int = 0
    final_id: str = ""
    new: bool = False


@dataclass
class IncomingArchive:
    sessions: list[IncomingSession] = field(default_factory=list)
    drills: list[IncomingDrill] = field(default_factory=list)


def message_row(
    seq: int,
    role: str,
    content: str,
    created_at: datetime,
    *,
    model: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message row with the defaults of a complete message; words by the one rule."""
    return {
        "seq": seq,
        "role": role,
        "content": content,
        "blocks": None,
        "status": "complete",
        "error": None,
        "model": model,
        "input_tokens": None,
        "output_tokens": None,
        "word_count": count_words(content),
        "latency_ms": None,
        "first_token_ms": None,
        "created_at": created_at,
        "metadata": metadata or {},
    }


def session_row(
    messages: list[dict[str, Any]],
    *,
    kind: str,
    title: str,
    title_source: str,
    model: str | None,
    pinned: bool,
    archived: bool,
    metadata: dict[str, Any],
    created_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    """A session row with the counters and preview add_message would have kept."""
    preview = next(
        (
            make_preview(message["content"])
            for message in reversed(messages)
            if message["content"].strip()
        ),
        "",
    )
    return {
        "kind": kind,
        "title": title,
        "title_source": title_source,
        "model": model,
        "pinned": pinned,
        "archived": archived,
        "metadata": metadata,
        "message_count": len(messages),
        "word_count": sum(message["word_count"] for message in messages),
        "last_seq": len(messages),
        "last_message_at": messages[-1]["created_at"] if messages else None,
        "preview": preview,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def _owners(
    session: Session, model: type[ChatSession] | type[Drill], ids: Iterable[str]
) -> dict[str, int]:
    """Who owns each of these ids now; ids nobody has are absent."""
    owners: dict[str, int] = {}
    for chunk in chunks(sorted(set(ids))):
        owners.update(
            session.execute(select(model.id, model.user_id).where(model.id.in_(chunk))).all()
        )
    return owners


def _moved_id(record_id: str, user_id: int) -> str:
    return str(uuid.uuid5(_MOVED_ID_NAMESPACE, f"{record_id}/{user_id}"))


def _place(
    session: Session,
    model: type[ChatSession] | type[Drill],
    records: Sequence[IncomingSession] | Sequence[IncomingDrill],
) -> None:
    """Give each incoming record its final id, and say whether it is new or already there.

    An id nobody has is kept; one the same coach has means the record is already
    there; one another coach has moves to a derived id, the same one every time,
    so importing the archive again finds it instead of adding a copy.
    """
    archive_ids = {record.id for record in records}
    pending = {index: record.id for index, record in enumerate(records)}
    for _ in range(_MOVE_ROUNDS):
        owners = _owners(session, model, pending.values())
        still: dict[int, str] = {}
        for index, candidate in pending.items():
            record = records[index]
            owner = owners.get(candidate)
            if candidate != record.id and candidate in archive_ids:
                still[index] = _moved_id(candidate, record.owner)  # never another record's id
            elif owner is None or owner == record.owner:
                record.final_id, record.new = candidate, owner is None
            else:
                still[index] = _moved_id(candidate, record.owner)
        pending = still
        if not pending:
            return
    for index in pending:  # only an archive built to chase derived ids gets here
        records[index].final_id, records[index].new = new_id(), True


def _give_owners(
    session: Session, archive: IncomingArchive, as_user: str | None, *, create: bool = True
) -> list[str]:
    """Set each record's owner from its username, creating missing users without a password
    (they cannot log in until one is set); returns their names. `as_user` owns everything.
    With create=False (a preview) nothing is written: a missing user's records get owner 0,
    which no user has, so they all count as new.
    """
    records = [*archive.sessions, *archive.drills]
    if as_user is not None:
        user_id = session.scalar(
            select(User.id).where(func.lower(User.username) == as_user.lower())
        )
        if user_id is None:
            raise NotFound(f"There is no user {as_user!r}.")
        for record in records:
            record.owner = user_id
        return []
    # Usernames are lower-case and matched without regard to case (core/store.py).
    names = sorted({str(record.username).lower() for record in records})
    lowered = func.lower(User.username)
    known: dict[str, int] = {}
    for chunk in chunks(names):
        known.update(session.execute(select(lowered, User.id).where(lowered.in_(chunk))).all())
    missing = [name for name in names if name not in known]
    if missing and not create:
        known.update(dict.fromkeys(missing, 0))
    elif missing:
        now = utcnow()
        session.execute(
            insert(User),
            [
                {
                    "username": name,
                    "name": name,
                    "email": "",
                    "password_hash": None,
                    "role": "coach",
                    "created_at": now,
                }
                for name in missing
            ],
        )
        for chunk in chunks(missing):
            known.update(session.execute(select(lowered, User.id).where(lowered.in_(chunk))).all())
    for record in records:
        record.owner = known[str(record.username).lower()]
    return missing


def _link(
    ref: str | None,
    owner: int,
    placed: dict[str, IncomingSession] | dict[str, IncomingDrill],
    outside: dict[str, int],
) -> str | None:
    """Where a reference points after import: kept only if it reaches the same coach's record."""
    if ref is None:
        return None
    if ref in placed:
        target, target_owner = placed[ref].final_id, placed[ref].owner
    else:
        target, target_owner = ref, outside.get(ref)
    return target if target_owner == owner else None


def _write_rows(
    store: ConversationStore, session: Session, archive: IncomingArchive, as_user: str | None
) -> ImportResult:
    created = _give_owners(session, archive, as_user)
    _place(session, ChatSession, archive.sessions)
    _place(session, Drill, archive.drills)
    sessions = {incoming.id: incoming for incoming in archive.sessions}
    drills = {incoming.id: incoming for incoming in archive.drills}
    # References to records outside the archive stay only if the coach owns them.
    outside_drills = _owners(
        session,
        Drill,
        {s.drill_ref for s in archive.sessions if s.drill_ref and s.drill_ref not in drills},
    )
    outside_sessions = _owners(
        session,
        ChatSession,
        {d.source_ref for d in archive.drills if d.source_ref and d.source_ref not in sessions},
    )

    batch = BulkBatch()
    for incoming in archive.sessions:
        if not incoming.new:
            continue
        final_id, owner = incoming.final_id, incoming.owner
        batch.sessions.append(
            {
                **incoming.row,
                "id": final_id,
                "user_id": owner,
                "drill_id": _link(incoming.drill_ref, owner, drills, outside_drills),
            }
        )
        batch.tags.extend({"session_id": final_id, "tag": tag} for tag in incoming.tags)
        for row in incoming.messages:
            row["session_id"] = final_id
            row["user_id"] = owner
        for row in incoming.tool_calls:
            row["session_id"] = final_id
            row["user_id"] = owner
        batch.messages.extend(incoming.messages)
        batch.tool_calls.extend(incoming.tool_calls)
    for incoming in archive.drills:
        if incoming.new:
            source = _link(incoming.source_ref, incoming.owner, sessions, outside_sessions)
            batch.drills.append(
                {
                    **incoming.row,
                    "id": incoming.final_id,
                    "user_id": incoming.owner,
                    "source_session_id": source,
                }
            )
    store.insert_bulk(batch, session=session)
    return ImportResult(
        sessions_added=len(batch.sessions),
        sessions_skipped=len(archive.sessions) - len(batch.sessions),
        messages_added=len(batch.messages),
        tool_calls_added=len(batch.tool_calls),
        drills_added=len(batch.drills),
        drills_skipped=len(archive.drills) - len(batch.drills),
        users_created=created,
    )


def write_rows(
    store: ConversationStore, session: Session, archive: IncomingArchive
) -> ImportResult:
    """Write a validated archive inside the caller's transaction (a restore's), each record
    to the user it names."""
    return _write_rows(store, session, archive, None)


def write_incoming(
    store: ConversationStore, archive: IncomingArchive, as_user: str | None
) -> ImportResult:
    """Write a validated import in one transaction; a refusal rolls all of it back."""
    try:
        with store.db.writing() as session:
            return _write_rows(store, session, archive, as_user)
    except IntegrityError as exc:
        # Only a concurrent writer of the same ids (or a rule this module missed)
        # gets here; the transaction is rolled back either way.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ArchiveError(
            f"The database refused the archive ({reason}); nothing was imported."
        ) from exc


def count_already_there(
    store: ConversationStore, archive: IncomingArchive, as_user: str | None
) -> int:
    """How many of the import's sessions write_incoming would skip; reads only.

    It runs the same owner and id placement as the import itself, so the preview
    and the import cannot disagree (ids moved off another coach's included).
    """
    with store.db.reading() as session:
        _give_owners(session, archive, as_user, create=False)
        _place(session, ChatSession, archive.sessions)
    return sum(not incoming.new for incoming in archive.sessions)
