"""Calendar buckets (day, week, month, weekday x hour) in a coach's time zone, per dialect.

Times are stored in UTC. PostgreSQL converts them itself (`AT TIME ZONE`). SQLite
knows no zones, so the zone's UTC offsets over the period are worked out here with
zoneinfo and handed to the query as a CASE over the transition instants: the
database still does the grouping, and a day that has 23 or 25 hours (a
daylight-saving change) is bucketed with the offset in force at each instant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import Integer, String, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

from core.errors import ValidationError

BUCKETS = ("day", "week", "month")
# Longest period still shown per day, then per week; longer ones per month.
DAY_BUCKET_MAX_DAYS = 45
WEEK_BUCKET_MAX_DAYS = 270


def check_zone(name: str) -> ZoneInfo:
    """The IANA zone of that name, or ValidationError with a sentence."""
    try:
        if not name or not isinstance(name, str):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValidationError(
            f"{name!r} is not a known time zone; use an IANA name such as Europe/Paris."
        ) from exc


def bucket_for(since: datetime, until: datetime) -> str:
    """Day for up to 45 days, week (Monday start) for up to 270, month beyond."""
    days = (until - since) / timedelta(days=1)
    if days <= DAY_BUCKET_MAX_DAYS:
        return "day"
    return "week" if days <= WEEK_BUCKET_MAX_DAYS else "month"


@dataclass(frozen=True)
class Offset:
    """From this UTC instant on, the zone is `minutes` ahead of UTC."""

    from_utc: datetime
    minutes: int


def _minutes(zone: ZoneInfo, instant: datetime) -> int:
    offset = instant.astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def zone_offsets(zone: ZoneInfo, since: datetime, until: datetime) -> list[Offset]:
    """The zone's offsets over [since, until): the first from `since`, then one per transition.

    Transitions are found by stepping a day at a time and bisecting to the second
    where the offset changed; zones change at most twice a year, never twice a day.
    """
    start = since.astimezone(UTC)
    end = until.astimezone(UTC)
    offsets = [Offset(start, _minutes(zone, start))]
    step = timedelta(days=1)
    left = start
    while left < end:
        right = min(left + step, end)
        if _minutes(zone, right) != offsets[-1].minutes:
            low, high = left, right
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _minutes(zone, middle) == offsets[-1].minutes:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            offsets.append(Offset(high, _minutes(zone, high)))
        left = right
    return offsets


class Bucketing:
    """SQL expressions of a timestamp column's local calendar, for one zone and period."""

    def __init__(self, dialect: str, zone_name: str, since: datetime, until: datetime) -> None:
        self.zone = check_zone(zone_name)
        self.zone_name = zone_name
        self.dialect = dialect
        self.offsets = zone_offsets(self.zone, since, until)
        self.since = since
        self.until = until

    # The local wall-clock time as each dialect spells it.
    def _sqlite_local(self, column: Any) -> ColumnElement[Any]:
        first, *changes = self.offsets
        if changes:
            minutes = case(
                *((column >= offset.from_utc, offset.minutes) for offset in reversed(changes)),
                else_=first.minutes,
            )
            shift: Any = func.printf("%+d minutes", minutes)
        else:
            shift = literal(f"{first.minutes:+d} minutes")
        # Whole seconds only: datetime() would round 23:59:59.9999 up into the next day.
        return func.datetime(func.substr(column, 1, 19), shift)

    def _postgresql_local(self, column: Any) -> ColumnElement[Any]:
        return func.timezone(literal(self.zone_name, String), column)

    def local(self, column: Any) -> ColumnElement[Any]:
        return (self._sqlite_local if self.dialect == "sqlite" else self._postgresql_local)(column)

    def bucket(self, column: Any, unit: str) -> ColumnElement[Any]:
        """The local start of the bucket (day, week from Monday, month) holding each instant."""
        if unit not in BUCKETS:
            raise ValidationError(f"The bucket must be one of {', '.join(BUCKETS)}, not {unit!r}.")
        local = self.local(column)
        if self.dialect == "postgresql":
            return func.date(func.date_trunc(unit, local))
        spelled: dict[str, Callable[[Any], ColumnElement[Any]]] = {
            "day": lambda value: func.date(value),
            # 'weekday 1' moves forward to a Monday, so step back six days first.
            "week": lambda value: func.date(value, "-6 days", "weekday 1"),
            "month": lambda value: func.date(value, "start of month"),
        }
        return spelled[unit](local)

    def weekday(self, column: Any) -> ColumnElement[int]:
        """0 for Monday .. 6 for Sunday, in the local calendar."""
        local = self.local(column)
        if self.dialect == "postgresql":
            return cast(func.extract("isodow", local), Integer) - 1
        return (cast(func.strftime("%w", local), Integer) + 6) % 7

    def hour(self, column: Any) -> ColumnElement[int]:
        local = self.local(column)
        if self.dialect == "postgresql":
            return cast(func.extract("hour", local), Integer)
        return cast(func.strftime("%H", local), Integer)

    def bucket_index(self, unit: str) -> pd.DatetimeIndex:
        """Every bucket start of the period, in local calendar terms, for filling quiet ones."""
        first = self.since.astimezone(self.zone).date()
        last = (self.until - timedelta(microseconds=1)).astimezone(self.zone).date()
        if last < first:
            return pd.DatetimeIndex([], name="bucket")
        first = bucket_start(first, unit)
        freq = {"day": "D", "week": "W-MON", "month": "MS"}[unit]
        return pd.date_range(first, last, freq=freq, name="bucket")


def bucket_start(day: date, unit: str) -> date:
    """The first day of the bucket holding `day`: itself, its Monday, or the 1st."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def as_day(value: Any) -> pd.Timestamp:
    """A bucket value from either dialect (a date, or SQLite's 'YYYY-MM-DD' text) as a Timestamp."""
    return pd.Timestamp(value)
