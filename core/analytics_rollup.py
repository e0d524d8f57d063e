"""The analytics rollup (migration 0004): where message figures come from, and its rebuild.

activity_rollup and model_rollup hold the messages' sums per coach, 15-minute
UTC bucket and session (and model), kept by database triggers. A period whose
ends fall on a 15-minute boundary (every period the page and `stats` ask for:
local midnights, in any zone) is answered from them; any other period from the
messages themselves. `MessageFacts` names the same sums over either source, so
each query is written once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from core.db import Database
from core.models import ActivityRollup, Message, ModelRollup

ACTIVITY_SUMS = (
    "messages",
    "words",
    "user_words",
    "assistant_words",
    "input_tokens",
    "output_tokens",
)
MODEL_SUMS = ("input_tokens", "output_tokens", "replies")


def on_boundary(instant: datetime) -> bool:
    """True for an instant on a 15-minute UTC boundary, such as any zone's local midnight."""
    instant = instant.astimezone(UTC)
    return instant.minute % 15 == 0 and instant.second == 0 and instant.microsecond == 0


def floor_to_bucket(instant: datetime) -> datetime:
    """The start of the 15-minute bucket holding `instant` (UTC)."""
    instant = instant.astimezone(UTC)
    return instant.replace(minute=instant.minute - instant.minute % 15, second=0, microsecond=0)


@dataclass(frozen=True)
class MessageFacts:
    """Sums over messages, from the rollup or from the rows: the same names either way.

    `time` is the instant to filter and bucket by (the bucket's start for the
    rollup); every other attribute is summed with SUM().
    """

    user_id: Any
    session_id: Any
    time: Any
    messages: Any
    words: Any
    user_words: Any
    assistant_words: Any
    input_tokens: Any
    output_tokens: Any


@dataclass(frozen=True)
class ModelFacts:
    """Tokens per model ('' or None for none), of the messages that carried tokens."""

    user_id: Any
    session_id: Any
    time: Any
    model: Any
    input_tokens: Any
    output_tokens: Any
    conditions: tuple[ColumnElement[bool], ...]  # extra row conditions (raw rows only)


def _words_of(role: str) -> ColumnElement[int]:
    return case((Message.role == role, Message.word_count), else_=0)


RAW_MESSAGES = MessageFacts(
    user_id=Message.user_id,
    session_id=Message.session_id,
    time=Message.created_at,
    messages=literal(1, Integer),
    words=Message.word_count,
    user_words=_words_of("user"),
    assistant_words=_words_of("assistant"),
    input_tokens=Message.input_tokens,
    output_tokens=Message.output_tokens,
)
ROLLED_MESSAGES = MessageFacts(
    user_id=ActivityRollup.user_id,
    session_id=ActivityRollup.session_id,
    time=ActivityRollup.bucket,
    **{name: getattr(ActivityRollup, name) for name in ACTIVITY_SUMS},
)
RAW_MODELS = ModelFacts(
    user_id=Message.user_id,
    session_id=Message.session_id,
    time=Message.created_at,
    model=Message.model,
    input_tokens=Message.input_tokens,
    output_tokens=Message.output_tokens,
    conditions=((Message.input_tokens.is_not(None)) | (Message.output_tokens.is_not(None)),),
)
ROLLED_MODELS = ModelFacts(
    user_id=ModelRollup.user_id,
    session_id=ModelRollup.session_id,
    time=ModelRollup.bucket,
    model=ModelRollup.model,
    input_tokens=ModelRollup.input_tokens,
    output_tokens=ModelRollup.output_tokens,
    conditions=(),
)


def message_facts(since: datetime, until: datetime) -> MessageFacts:
    """The rollup when both ends are on a bucket boundary, else the messages."""
    return ROLLED_MESSAGES if on_boundary(since) and on_boundary(until) else RAW_MESSAGES


def model_facts(since: datetime, until: datetime) -> ModelFacts:
    return ROLLED_MODELS if on_boundary(since) and on_boundary(until) else RAW_MODELS


# ------------------------------------------------------------------ rebuild


def _sqlite_bucket(column: Any) -> ColumnElement[Any]:
    minute = cast(func.substr(column, 15, 2), Integer) // 15 * 15
    return func.substr(column, 1, 14).concat(func.printf("%02d", minute)).concat(":00.000000")


def _postgresql_bucket(column: Any) -> ColumnElement[Any]:
    return func.date_bin(
        literal_column("INTERVAL '15 minutes'"),
        column,
        literal_column("TIMESTAMPTZ '2000-01-01 00:00:00+00'"),
    )


def bucket_expression(dialect: str, column: Any) -> ColumnElement[Any]:
    """The 15-minute UTC bucket of a timestamp column, as the triggers compute it."""
    builders: dict[str, Callable[[Any], ColumnElement[Any]]] = {
        "sqlite": _sqlite_bucket,
        "postgresql": _postgresql_bucket,
    }
    return builders[dialect](column)


def _activity_rows(dialect: str, source: Any) -> Any:
    """The rollup's activity rows summed from `source`, messages or rows shaped like them."""
    c = source.c
    bucket = bucket_expression(dialect, c.created_at).label("bucket")

    def words_of(role: str) -> ColumnElement[int]:
        return case((c.role == role, c.word_count), else_=0)

    return select(
        c.user_id,
        bucket,
        c.session_id,
        func.count().label("messages"),
        func.sum(c.word_count).label("words"),
        func.sum(words_of("user")).label("user_words"),
        func.sum(words_of("assistant")).label("assistant_words"),
        func.sum(func.coalesce(c.input_tokens, 0)).label("input_tokens"),
        func.sum(func.coalesce(c.output_tokens, 0)).label("output_tokens"),
    ).group_by(c.user_id, bucket, c.session_id)


def _model_rows(dialect: str, source: Any) -> Any:
    c = source.c
    bucket = bucket_expression(dialect, c.created_at).label("bucket")
    model = func.coalesce(c.model, "").label("model")
    return (
        select(
            c.user_id,
            bucket,
            c.session_id,
            model,
            func.sum(func.coalesce(c.input_tokens, 0)).label("input_tokens"),
            func.sum(func.coalesce(c.output_tokens, 0)).label("output_tokens"),
            func.count().label("replies"),
        )
        .where(c.input_tokens.is_not(None) | c.output_tokens.is_not(None))
        .group_by(c.user_id, bucket, c.session_id, model)
    )


def raw_activity_rows(db: Database, user_id: int | None = None) -> Any:
    """The rollup's rows recomputed from the messages (a SELECT, for rebuild and checks)."""
    query = _activity_rows(db.dialect, Message.__table__)
    return query if user_id is None else query.where(Message.user_id == user_id)


def raw_model_rows(db: Database, user_id: int | None = None) -> Any:
    query = _model_rows(db.dialect, Message.__table__)
    return query if user_id is None else query.where(Message.user_id == user_id)


def add_batch_to_rollup(connection: Connection, batch: Any) -> None:
    """SQLite: add the sums of a batch of new messages to the rollup, two grouped upserts.

    `batch` is a table of rows shaped like messages (core/bulk.py's staged batch),
    inserted while `rollup_deferred` held its row, so the per-row trigger stood aside
    (migration 0007). The sums are the trigger's, bucket by bucket.
    """
    for table, rows, sums in (
        (ActivityRollup.__table__, _activity_rows("sqlite", batch), ACTIVITY_SUMS),
        (ModelRollup.__table__, _model_rows("sqlite", batch), MODEL_SUMS),
    ):
        keys = [column.name for column in table.primary_key.columns]
        upsert = sqlite_insert(table).from_select([*keys, *sums], rows.where(true()))
        connection.execute(
            upsert.on_conflict_do_update(
                index_elements=keys,
                set_={name: table.c[name] + upsert.excluded[name] for name in sums},
            )
        )


@dataclass(frozen=True)
class RebuildResult:
    activity_rows: int
    model_rows: int
    seconds: float


def rebuild(db: Database, user_id: int | None = None) -> RebuildResult:
    """Recompute the rollup from the messages (one coach's, or everyone's) in one transaction."""
    started = time.perf_counter()
    with db.writing() as session:
        for table, rows, names in (
            (ActivityRollup, raw_activity_rows(db, user_id), ACTIVITY_SUMS),
            (ModelRollup, raw_model_rows(db, user_id), MODEL_SUMS),
        ):
            clear = delete(table)
            if user_id is not None:
                clear = clear.where(table.user_id == user_id)
            session.execute(clear)
            keys = ["user_id", "bucket", "session_id"] + (["model"] if table is ModelRollup else [])
            session.execute(insert(table).from_select([*keys, *names], rows))
        activity = session.scalar(_count(ActivityRollup, user_id)) or 0
        models = session.scalar(_count(ModelRollup, user_id)) or 0
    return RebuildResult(int(activity), int(models), time.perf_counter() - started)


def _count(table: Any, user_id: int | None) -> Any:
    query = select(func.count()).select_from(table)
    return query if user_id is None else query.where(table.user_id == user_id)


def rollup_differences(db: Database, user_id: int | None = None) -> list[tuple[str, tuple]]:
    """Rows where the stored rollup and the one recomputed from the messages differ (none: equal).

    Each difference is ("missing", row) for a recomputed row the rollup lacks or
    holds with other sums, and ("extra", row) for a stored row the messages do
    not give. Used by the tests and by `python -m core analytics check`.
    """
    found: list[tuple[str, tuple]] = []
    with db.reading() as session:
        for table, rows in (
            (ActivityRollup, raw_activity_rows(db, user_id)),
            (ModelRollup, raw_model_rows(db, user_id)),
        ):
            stored_query = select(*(column for column in table.__table__.columns))
            if user_id is not None:
                stored_query = stored_query.where(table.user_id == user_id)
            stored = {_normal(row) for row in session.execute(stored_query)}
            fresh = {_normal(row) for row in session.execute(rows)}
            found += [("missing", row) for row in sorted(fresh - stored, key=str)]
            found += [("extra", row) for row in sorted(stored - fresh, key=str)]
    return found


def _normal(row: Any) -> tuple:
    """A row with its bucket as an aware UTC datetime and numbers as ints, to compare."""
    values = []
    for value in row:
        if isinstance(value, str) and len(value) == 26 and value[4] == "-" and value[10] == " ":
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        elif isinstance(value, datetime):
            value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        elif hasattr(value, "__int__") and not isinstance(value, (bool, str)):
            value = int(value)
        values.append(value)
    return tuple(values)
