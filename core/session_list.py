"""Listing the coach's sessions: the one SessionFilter, its SQL conditions, pages and sorts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.db import Database
from core.errors import NotFound, ValidationError
from core.models import SESSION_KINDS, ChatSession, SessionTag, ToolCall
from core.text import clean_text

MAX_TAG_CHARS = 64
MAX_TAGS = 20
SESSION_SORTS = ("recent", "created", "title", "messages", "words")
# Ids per IN list: far below SQLite's bound-variable limit, so 20,000 selected
# sessions go in 40 statements of one transaction.
ID_BATCH = 500


@dataclass(frozen=True)
class SessionFilter:
    """What the history widgets and the search operators keep. None means "either".

    Archived sessions are hidden by default (archived=False); archived=None shows both.
    """

    kind: str | None = None
    pinned: bool | None = None
    archived: bool | None = False
    tags: tuple[str, ...] = ()  # every one of these tags (AND)
    tool: str | None = None  # sessions where this tool was called
    drill_id: str | None = None
    since: datetime | None = None  # last activity >= since
    until: datetime | None = None  # last activity < until
    title_contains: str | None = None


@dataclass(frozen=True)
class SessionPage:
    items: list[ChatSession]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class SessionsSummary:
    """The coach's part of a set of ids: "Delete 12 conversations with 3,480 messages?"."""

    sessions: int
    messages: int


def clean_tag(tag: str) -> str:
    """Tags are short, trimmed and lower case, so "U12" and "u12 " are one tag."""
    tag = clean_text(tag, what="tag", max_chars=MAX_TAG_CHARS).strip().lower()
    return " ".join(tag.split())


def check_sort(sort: str) -> str:
    if sort not in SESSION_SORTS:
        raise ValidationError(f"The sort must be one of {', '.join(SESSION_SORTS)}, not {sort!r}.")
    return sort


def activity_column() -> Any:
    """A session's last activity: its last message, or its creation when it has none.

    Stored (chat_sessions.last_activity_at, kept by every write path) rather than
    computed, so that sorting and date ranges walk an index on both databases.
    """
    return ChatSession.last_activity_at


def session_conditions(user_id: int, filters: SessionFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions on ChatSession for this filter, scoped to the coach in SQL.

    Tag and tool filters are `id IN (SELECT session_id ...)` rather than a
    correlated EXISTS: the subquery starts from the rare side (the tag's or the
    tool's rows, through an index that holds session_id) and is answered once,
    where SQLite answered a correlated EXISTS by reading every call of that tool
    again for each session (28 s at 18,000 sessions).
    """
    conditions: list[ColumnElement[bool]] = [ChatSession.user_id == user_id]
    if filters.kind is not None:
        if filters.kind not in SESSION_KINDS:
            raise ValidationError(
                f"The kind must be one of {', '.join(SESSION_KINDS)}, not {filters.kind!r}."
            )
        conditions.append(ChatSession.kind == filters.kind)
    if filters.pinned is not None:
        conditions.append(ChatSession.pinned == bool(filters.pinned))
    if filters.archived is not None:
        conditions.append(ChatSession.archived == bool(filters.archived))
    if filters.drill_id is not None:
        # From the rare side too: a drill has a handful of sessions, found by
        # ix_chat_sessions_drill, instead of a walk of the listing index that
        # reads each row to compare its drill_id.
        conditions.append(
            ChatSession.id.in_(
                select(ChatSession.id).where(
                    ChatSession.drill_id == str(filters.drill_id), ChatSession.user_id == user_id
                )
            )
        )
    for tag in sorted({clean_tag(tag) for tag in filters.tags if tag and tag.strip()}):
        conditions.append(
            ChatSession.id.in_(select(SessionTag.session_id).where(SessionTag.tag == tag))
        )
    if filters.tool:
        conditions.append(
            ChatSession.id.in_(
                select(ToolCall.session_id).where(
                    ToolCall.user_id == user_id, ToolCall.name == filters.tool
                )
            )
        )
    if filters.since is not None and filters.until is not None and filters.until < filters.since:
        raise ValidationError("The end of the date range is before its start.")
    activity = activity_column()
    if filters.since is not None:
        conditions.append(activity >= filters.since)
    if filters.until is not None:
        conditions.append(activity < filters.until)
    if filters.title_contains:
        pattern = "%" + re.sub(r"([%_\\])", r"\\\1", filters.title_contains.lower()) + "%"
        conditions.append(func.lower(ChatSession.title).like(pattern, escape="\\"))
    return conditions


def session_order(sort: str) -> Sequence[Any]:
    """ORDER BY for a sort: pinned first, then the sort's key, then id so pages are stable."""
    check_sort(sort)
    activity = activity_column()
    return {
        "recent": [ChatSession.pinned.desc(), activity.desc(), ChatSession.id.desc()],
        "created": [
            ChatSession.pinned.desc(),
            ChatSession.created_at.desc(),
            ChatSession.id.desc(),
        ],
        "title": [ChatSession.pinned.desc(), func.lower(ChatSession.title), ChatSession.id],
        "messages": [
            ChatSession.pinned.desc(),
            ChatSession.message_count.desc(),
            ChatSession.id.desc(),
        ],
        "words": [ChatSession.pinned.desc(), ChatSession.word_count.desc(), ChatSession.id.desc()],
    }[sort]


def page_ids(
    user_id: int, filters: SessionFilter, sort: str, limit: int, offset: int
) -> Select[tuple[str]]:
    """The ids of one page, in order: it names only columns of the sort's listing index."""
    return (
        select(ChatSession.id)
        .where(*session_conditions(user_id, filters))
        .order_by(*session_order(sort))
        .limit(limit)
        .offset(offset)
    )


def page_query(
    user_id: int, filters: SessionFilter, sort: str, limit: int, offset: int
) -> Select[tuple[ChatSession]]:
    """One page of sessions as a "deferred join": OFFSET over ids, then fetch those rows.

    The inner query (page_ids) walks the sort's listing index (migration 0002)
    without touching the table, so skipping 10,000 rows for page 200 costs
    about as much as the first page; the outer query reads just the rows shown.
    """
    ids = page_ids(user_id, filters, sort, limit, offset).subquery("page")
    return select(ChatSession).join(ids, ChatSession.id == ids.c.id).order_by(*session_order(sort))


def _unique_ids(session_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(session_id) for session_id in session_ids))


def _batches(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), ID_BATCH):
        yield ids[start : start + ID_BATCH]


class SessionListing:
    """ConversationStore's listing, tagging and bulk actions (mixed into it).

    Every bulk action is one transaction scoped by user in SQL: ids of other
    coaches and missing ids are skipped and not counted, never an error that
    would tell they exist.
    """

    db: Database

    def list_sessions(
        self,
        user_id: int,
        filters: SessionFilter | None = None,
        *,
        sort: str = "recent",
        limit: int = 50,
        offset: int = 0,
    ) -> SessionPage:
        """One page of the coach's sessions: pinned first, then the sort, then id.

        One page query and one count, whatever the filter and however deep the page.
        """
        filters = filters or SessionFilter()
        check_sort(sort)
        limit = max(1, min(int(limit), 500))
        offset = max(0, int(offset))
        conditions = session_conditions(user_id, filters)
        with self.db.reading() as session:
            total = session.scalar(select(func.count()).select_from(ChatSession).where(*conditions))
            items = list(session.scalars(page_query(user_id, filters, sort, limit, offset)))
        return SessionPage(items=items, total=total or 0, offset=offset, limit=limit)

    def latest_session(self, user_id: int, kind: str | None = None) -> ChatSession | None:
        """The coach's most recently active unarchived session (of a kind), pinned or not."""
        conditions = session_conditions(user_id, SessionFilter(kind=kind))
        with self.db.reading() as session:
            return session.scalar(
                select(ChatSession)
                .where(*conditions)
                .order_by(ChatSession.last_activity_at.desc(), ChatSession.id.desc())
                .limit(1)
            )

    def session_ids_matching(
        self, user_id: int, filters: SessionFilter | None = None, *, sort: str = "recent"
    ) -> list[str]:
        """Every id the filter matches, in the list's order (for "export everything")."""
        filters = filters or SessionFilter()
        query = (
            select(ChatSession.id)
            .where(*session_conditions(user_id, filters))
            .order_by(*session_order(sort))
        )
        with self.db.reading() as session:
            return list(session.scalars(query))

    def sessions_summary(self, user_id: int, session_ids: Iterable[str]) -> SessionsSummary:
        """How many of these ids are the coach's sessions, and how many messages they hold."""
        sessions = messages = 0
        with self.db.reading() as session:
            for batch in _batches(_unique_ids(session_ids)):
                count, total = session.execute(
                    select(
                        func.count(), func.coalesce(func.sum(ChatSession.message_count), 0)
                    ).where(ChatSession.user_id == user_id, ChatSession.id.in_(batch))
                ).one()
                sessions, messages = sessions + count, messages + total
        return SessionsSummary(sessions=sessions, messages=messages)

    def list_tool_names(self, user_id: int) -> list[str]:
        """The tools this coach's sessions called, by name, for the tool filter."""
        with self.db.reading() as session:
            return list(
                session.scalars(
                    select(ToolCall.name)
                    .where(ToolCall.user_id == user_id)
                    .distinct()
                    .order_by(ToolCall.name)
                )
            )

    def list_tags(self, user_id: int) -> list[tuple[str, int]]:
        """The coach's tags with how many sessions carry each, most used first."""
        with self.db.reading() as session:
            rows = session.execute(
                select(SessionTag.tag, func.count())
                .join(ChatSession, ChatSession.id == SessionTag.session_id)
                .where(ChatSession.user_id == user_id)
                .group_by(SessionTag.tag)
                .order_by(func.count().desc(), SessionTag.tag)
            ).all()
        return [(tag, count) for tag, count in rows]

    # ------------------------------------------------------- one session's tags

    def set_tags(self, user_id: int, session_id: str, tags: Iterable[str]) -> list[str]:
        """Replace the session's tags with this set."""
        cleaned = sorted({clean_tag(tag) for tag in tags if tag and tag.strip()})
        if len(cleaned) > MAX_TAGS:
            raise ValidationError(f"A conversation can have at most {MAX_TAGS} tags.")
        with self.db.writing() as session:
            if session.scalar(_owned_id(user_id, session_id)) is None:
                raise NotFound("That conversation was not found.")
            session.execute(delete(SessionTag).where(SessionTag.session_id == str(session_id)))
            if cleaned:
                session.execute(
                    insert(SessionTag),
                    [{"session_id": str(session_id), "tag": tag} for tag in cleaned],
                )
        return cleaned

    def add_tag(self, user_id: int, session_id: str, tag: str) -> list[str]:
        return self.set_tags(user_id, session_id, [*self._tag_names(user_id, session_id), tag])

    def remove_tag(self, user_id: int, session_id: str, tag: str) -> list[str]:
        tag = clean_tag(tag)
        current = self._tag_names(user_id, session_id)
        return self.set_tags(user_id, session_id, [t for t in current if t != tag])

    def _tag_names(self, user_id: int, session_id: str) -> list[str]:
        with self.db.reading() as session:
            if session.scalar(_owned_id(user_id, session_id)) is None:
                raise NotFound("That conversation was not found.")
            return list(
                session.scalars(
                    select(SessionTag.tag).where(SessionTag.session_id == str(session_id))
                )
            )

    # ------------------------------------------------------------ bulk actions

    def set_pinned_many(self, user_id: int, session_ids: Iterable[str], pinned: bool) -> int:
        """Pin or unpin the coach's sessions among these ids; returns how many changed."""
        return self._set_flag_many(user_id, session_ids, ChatSession.pinned, bool(pinned))

    def set_archived_many(self, user_id: int, session_ids: Iterable[str], archived: bool) -> int:
        """Archive or unarchive the coach's sessions among these ids; returns how many changed."""
        return self._set_flag_many(user_id, session_ids, ChatSession.archived, bool(archived))

    def _set_flag_many(self, user_id: int, session_ids: Iterable[str], flag, value: bool) -> int:
        changed = 0
        with self.db.writing() as session:
            for batch in _batches(_unique_ids(session_ids)):
                result = session.execute(
                    update(ChatSession)
                    .where(
                        ChatSession.user_id == user_id,
                        ChatSession.id.in_(batch),
                        flag != value,  # rows already so are not "changed"
                    )
                    .values({flag.key: value})
                )
                changed += result.rowcount
        return changed

    def add_tag_many(self, user_id: int, session_ids: Iterable[str], tag: str) -> int:
        """Give the tag to the coach's sessions among these ids; returns how many gained it.

        A session that already has the tag, or already has MAX_TAGS tags, is
        skipped and counted as not changed (the action never fails half way).
        """
        tag = clean_tag(tag)
        if not tag:
            raise ValidationError("A tag cannot be empty.")
        gained = 0
        with self.db.writing() as session:
            dialect = session.get_bind().dialect.name
            for batch in _batches(_unique_ids(session_ids)):
                tag_count = (
                    select(func.count())
                    .where(SessionTag.session_id == ChatSession.id)
                    .scalar_subquery()
                )
                wanted = select(ChatSession.id, literal(tag)).where(
                    ChatSession.user_id == user_id,
                    ChatSession.id.in_(batch),
                    ChatSession.id.not_in(
                        select(SessionTag.session_id).where(SessionTag.tag == tag)
                    ),
                    tag_count < MAX_TAGS,
                )
                statement = (
                    _insert_ignoring_duplicates(dialect)
                    .from_select(["session_id", "tag"], wanted)
                    .returning(SessionTag.session_id)
                )
                # Counted from RETURNING: psycopg reports no rowcount for this form.
                gained += len(session.execute(statement).all())
        return gained

    def remove_tag_many(self, user_id: int, session_ids: Iterable[str], tag: str) -> int:
        """Take the tag off the coach's sessions among these ids; returns how many lost it."""
        tag = clean_tag(tag)
        lost = 0
        with self.db.writing() as session:
            for batch in _batches(_unique_ids(session_ids)):
                owned = select(ChatSession.id).where(
                    ChatSession.user_id == user_id, ChatSession.id.in_(batch)
                )
                result = session.execute(
                    delete(SessionTag).where(
                        SessionTag.tag == tag, SessionTag.session_id.in_(owned)
                    )
                )
                lost += result.rowcount
        return lost

    def delete_session(self, user_id: int, session_id: str) -> None:
        if self.delete_sessions(user_id, [session_id]) == 0:
            raise NotFound("That conversation was not found.")

    def delete_sessions(self, user_id: int, session_ids: Iterable[str]) -> int:
        """Delete the coach's sessions among these ids (others' are ignored); returns how many.

        Their messages, tool calls and tags go with them (ON DELETE CASCADE).
        """
        deleted = 0
        with self.db.writing() as session:
            for batch in _batches(_unique_ids(session_ids)):
                result = session.execute(
                    delete(ChatSession).where(
                        ChatSession.user_id == user_id, ChatSession.id.in_(batch)
                    )
                )
                deleted += result.rowcount
        return deleted


def _owned_id(user_id: int, session_id: str) -> Select[tuple[str]]:
    return select(ChatSession.id).where(
        ChatSession.id == str(session_id), ChatSession.user_id == user_id
    )


def _insert_ignoring_duplicates(dialect: str) -> Any:
    """INSERT INTO session_tags that skips a (session, tag) added meanwhile by another writer.

    SQLite serialises writers, but two PostgreSQL transactions tagging the same
    session at once would otherwise fail on the primary key.
    """
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(SessionTag).on_conflict_do_nothing()
