"""Continuous quantiles (p50, p95) computed by the database, the same numbers on both dialects.

PostgreSQL has percentile_cont. SQLite has none, so the same definition is
computed from the two values around position p * (n - 1) of each group, read
with ORDER BY ... LIMIT 2 OFFSET: the database sorts, and only those two values
per quantile ever reach Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression


def unindexed(column: Any) -> ColumnElement[Any]:
    """`+column`: the same value, which SQLite will not look up in an index.

    For the quantiles of many rows: a condition on the indexed time would lead
    SQLite to read the period's rows by time and sort them once per quantile;
    without it, it walks an index in the order of the value (migration 0004) and
    the rank is reached with no sort at all.
    """
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


@dataclass(frozen=True)
class GroupQuantiles:
    """The quantiles of one group's values (None when it has none) and how many there were."""

    group: Any
    values: tuple[float | None, ...]
    count: int


def _postgresql(
    values: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    ps: Sequence[float],
    group: Any,
) -> Any:
    # percentile_cont and count leave NULLs out, so several columns share one scan.
    columns = [func.percentile_cont(p).within_group(value) for value in values for p in ps]
    key = group if group is not None else literal(None)
    query = select(key, *columns, *(func.count(value) for value in values)).where(
        *conditions, or_(*(value.is_not(None) for value in values))
    )
    return query.group_by(group) if group is not None else query


def _sqlite_answers(
    session: Session,
    values: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    ps: Sequence[float],
    group: Any,
) -> list[tuple]:
    """The rows _postgresql's query gives, computed with ORDER BY ... LIMIT 2 OFFSET k.

    SQLite has no percentile_cont, and ranking every row with window functions
    costs about 10 microseconds a row. Instead: count each group's values, then
    for each quantile read just the two values around position p * (n - 1) in
    sorted order and interpolate between them.
    """
    key = group if group is not None else literal(0)
    counted = select(key, *(func.count(value) for value in values)).where(
        *conditions, or_(*(value.is_not(None) for value in values))
    )
    if group is not None:
        counted = counted.group_by(group)
    rows = []
    for found in session.execute(counted).all():
        name, counts = found[0], [int(n or 0) for n in found[1:]]
        in_group = [] if group is None else [group == name]
        picked: list[float | None] = []
        for value, n in zip(values, counts, strict=True):
            for p in ps:
                if not n:
                    picked.append(None)
                    continue
                position = p * (n - 1)
                low = int(position)  # positions are >= 0, so this is floor
                pair = session.scalars(
                    select(value)
                    .where(*conditions, *in_group, value.is_not(None))
                    .order_by(value)
                    .limit(2)
                    .offset(low)
                ).all()
                low_value = float(pair[0])
                high_value = float(pair[1]) if len(pair) > 1 else low_value
                picked.append(low_value + (high_value - low_value) * (position - low))
        rows.append((name, *picked, *counts))
    return rows


def quantiles_of(
    session: Session,
    values: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    ps: Sequence[float] = (0.5, 0.95),
    *,
    group: Any = None,
) -> list[list[GroupQuantiles]]:
    """percentile_cont(p) of each column over the rows meeting `conditions`.

    One query on PostgreSQL; on SQLite a count, then two values per quantile
    (_sqlite_answers). One list per column, in the order given; each as
    `quantiles` answers it.
    """
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(_postgresql(values, conditions, ps, group)).all()
    else:
        rows = _sqlite_answers(session, values, conditions, ps, group)
    answers: list[list[GroupQuantiles]] = []
    width = len(ps)
    for column in range(len(values)):
        found = []
        for row in rows:
            count = int(row[1 + len(values) * width + column] or 0)
            if count:
                picked = row[1 + column * width : 1 + (column + 1) * width]
                found.append(
                    GroupQuantiles(
                        group=row[0],
                        values=tuple(None if v is None else float(v) for v in picked),
                        count=count,
                    )
                )
        if group is None and not found:
            found = [GroupQuantiles(group=None, values=tuple(None for _ in ps), count=0)]
        answers.append(found)
    return answers


def quantiles(
    session: Session,
    value: Any,
    conditions: Sequence[ColumnElement[bool]],
    ps: Sequence[float] = (0.5, 0.95),
    *,
    group: Any = None,
) -> list[GroupQuantiles]:
    """percentile_cont(p) of `value` over the rows meeting `conditions`, per `group` if given.

    Rows whose value is NULL are left out; groups with no value are left out.
    Without a group the answer is one GroupQuantiles (values None, count 0 when
    no row has a value).
    """
    return quantiles_of(session, [value], conditions, ps, group=group)[0]
