"""What the Analytics figures are about: a Period, a Scope (whose data) and their SQL conditions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from core.db import Database
from core.errors import NotFound, ValidationError
from core.models import SESSION_KINDS, ChatSession, ToolCall, User
from core.store import ConversationStore
from core.time_buckets import check_zone


def database_of(source: Database | ConversationStore) -> Database:
    """The analytics functions take the store or its Database alike."""
    return source.db if isinstance(source, ConversationStore) else source


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(f"The {what} of the period needs a time zone.")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """[since, until) in UTC: since inclusive, until exclusive, as everywhere in Huddle."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        since = _aware(self.since, "start")
        until = _aware(self.until, "end")
        if until < since:
            raise ValidationError("The end of the period is before its start.")
        object.__setattr__(self, "since", since)
        object.__setattr__(self, "until", until)

    @property
    def length(self) -> timedelta:
        return self.until - self.since

    def previous(self) -> Period:
        """The period of the same length that ends where this one starts."""
        return Period(self.since - self.length, self.since)

    @classmethod
    def of_days(cls, first: date, last: date, zone: str = "UTC") -> Period:
        """From the start of `first` to the end of `last` (both included), local to `zone`."""
        if last < first:
            raise ValidationError("The end of the period is before its start.")
        tz = check_zone(zone)
        start = datetime.combine(first, time(), tz)
        end = datetime.combine(last + timedelta(days=1), time(), tz)
        return cls(start, end)

    @classmethod
    def last_days(cls, days: int, now: datetime, zone: str = "UTC") -> Period:
        """The last `days` local days, today included (7 days: today and the six before)."""
        if days < 1:
            raise ValidationError("A period needs at least one day.")
        today = now.astimezone(check_zone(zone)).date()
        return cls.of_days(today - timedelta(days=days - 1), today, zone)


@dataclass(frozen=True)
class Scope:
    """Whose data: one coach (user_id), or every coach (user_id None, admins only).

    `viewer_id` is who looks; only the viewer's own scope shows session titles,
    which are made from the coach's words, so an admin sees aggregates only.
    """

    viewer_id: int
    user_id: int | None

    @classmethod
    def own(cls, viewer_id: int) -> Scope:
        return cls(viewer_id=viewer_id, user_id=viewer_id)

    @classmethod
    def for_viewer(
        cls, viewer: User, *, coach_id: int | None = None, all_coaches: bool = False
    ) -> Scope:
        """The scope a viewer asked for; a coach asking for anyone else's is NotFound."""
        if not all_coaches and coach_id in (None, viewer.id):
            return cls.own(viewer.id)
        if viewer.role != "admin":
            raise NotFound("That coach was not found.")
        if all_coaches:
            return cls(viewer_id=viewer.id, user_id=None)
        return cls(viewer_id=viewer.id, user_id=coach_id)

    @classmethod
    def chosen(
        cls,
        store: ConversationStore,
        viewer: User,
        *,
        coach: str | None = None,
        all_coaches: bool = False,
    ) -> Scope:
        """The scope a page's query parameters name (a username, or all coaches).

        A coach naming anyone but themselves, and an admin naming a user that does
        not exist, both get the same NotFound: the page never confirms who exists.
        """
        someone_else = all_coaches or (coach is not None and coach != viewer.username)
        if someone_else and viewer.role != "admin":
            raise NotFound("That coach was not found.")
        if all_coaches:
            return cls(viewer_id=viewer.id, user_id=None)
        if coach is None or coach == viewer.username:
            return cls.own(viewer.id)
        try:
            chosen = store.get_user(coach)
        except NotFound:
            raise NotFound("That coach was not found.") from None
        return cls(viewer_id=viewer.id, user_id=chosen.id)

    @property
    def all_coaches(self) -> bool:
        return self.user_id is None

    @property
    def shows_text(self) -> bool:
        """True when the viewer looks at their own data, the only case titles may be shown."""
        return self.user_id == self.viewer_id


@dataclass(frozen=True)
class Filters:
    """The page's kind and tool filters; None means every kind or every tool."""

    kind: str | None = None
    tool: str | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in SESSION_KINDS:
            raise ValidationError(
                f"The kind must be one of {', '.join(SESSION_KINDS)}, not {self.kind!r}."
            )
        if self.tool is not None and not str(self.tool).strip():
            object.__setattr__(self, "tool", None)


def user_condition(column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """The coach filter in SQL; none for all coaches."""
    return [] if scope.user_id is None else [column == scope.user_id]


def period_condition(column: Any, period: Period) -> list[ColumnElement[bool]]:
    return [column >= period.since, column < period.until]


def session_conditions(
    session_column: Any, scope: Scope, filters: Filters
) -> list[ColumnElement[bool]]:
    """Rows of sessions of the chosen kind and, with a tool, sessions where that tool ran.

    `IN (SELECT ...)` from the rare side, as in core/session_list.py.
    """
    conditions: list[ColumnElement[bool]] = []
    if filters.kind is not None:
        conditions.append(
            session_column.in_(
                select(ChatSession.id).where(
                    ChatSession.kind == filters.kind, *user_condition(ChatSession.user_id, scope)
                )
            )
        )
    if filters.tool is not None:
        conditions.append(
            session_column.in_(
                select(ToolCall.session_id).where(
                    ToolCall.name == filters.tool, *user_condition(ToolCall.user_id, scope)
                )
            )
        )
    return conditions


def message_conditions(
    message: Any, scope: Scope, period: Period, filters: Filters
) -> list[ColumnElement[bool]]:
    """For the Message model or MessageFacts / ModelFacts (core/analytics_rollup.py) alike."""
    when = message.time if hasattr(message, "time") else message.created_at
    return [
        *user_condition(message.user_id, scope),
        *period_condition(when, period),
        *session_conditions(message.session_id, scope, filters),
    ]


def tool_call_conditions(
    call: Any, scope: Scope, period: Period, filters: Filters
) -> list[ColumnElement[bool]]:
    """Tool calls in the period; with a tool filter, that tool's calls only."""
    conditions = [
        *user_condition(call.user_id, scope),
        *period_condition(call.created_at, period),
    ]
    if filters.kind is not None:
        conditions += session_conditions(call.session_id, scope, Filters(kind=filters.kind))
    if filters.tool is not None:
        conditions.append(call.name == filters.tool)
    return conditions
