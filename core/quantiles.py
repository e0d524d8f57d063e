"""Continuous quantiles (p50, p95) computed by the database, the same numbers on both dialects.

PostgreSQL has percentile_cont. SQLite has none, so the same definition is
spelled with window functions: rank the values of each group, take the two rows
around position p * (n - 1) and interpolate between them, all inside one query,
so the values are never fetched to be sorted in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


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


def _sqlite(
    values: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    ps: Sequence[float],
    group: Any,
) -> Any:
    key = group if group is not None else literal(0)
    window = {"partition_by": key} if group is not None else {}
    ranked_columns = [key.label("g")]
    for index, value in enumerate(values):
        # NULLs last: the first n ranks are the n values, whatever the other columns hold.
        order = value.asc().nulls_last()
        ranked_columns += [
            value.label(f"v{index}"),
            (func.row_number().over(order_by=order, **window) - 1).label(f"i{index}"),
            func.count(value).over(**window).label(f"n{index}"),
        ]
    ranked = (
        select(*ranked_columns)
        .where(*conditions, or_(*(value.is_not(None) for value in values)))
        .subquery()
    )
    columns = []
    for index in range(len(values)):
        v, i, n = (ranked.c[f"{name}{index}"] for name in ("v", "i", "n"))
        for p in ps:
            position = literal(p, Float) * (n - 1)
            low = cast(position, Integer)  # the values are >= 0, so truncation is floor
            low_value = func.max(case((i == low, v)))
            high_value = func.coalesce(func.max(case(((i == low + 1) & (i < n), v))), low_value)
            fraction = func.max(position - low)
            columns.append(low_value + (high_value - low_value) * fraction)
    counts = [func.max(ranked.c[f"n{index}"]) for index in range(len(values))]
    return select(ranked.c.g, *columns, *counts).group_by(ranked.c.g)


def quantiles_of(
    session: Session,
    values: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    ps: Sequence[float] = (0.5, 0.95),
    *,
    group: Any = None,
) -> list[list[GroupQuantiles]]:
    """percentile_cont(p) of each column over the rows meeting `conditions`, in one query.

    One list per column, in the order given; each as `quantiles` answers it.
    """
    build = _postgresql if session.get_bind().dialect.name == "postgresql" else _sqlite
    rows = session.execute(build(values, conditions, ps, group)).all()
    answers: list[list[GroupQuantiles]] = []
    width = len(ps)
    for index in range(len(values)):
        found = []
        for row in rows:
            count = int(row[1 + len(values) * width + index] or 0)
            if count:
                picked = row[1 + index * width : 1 + (index + 1) * width]
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
