"""CSV out of Huddle: one row per message, made for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, TextIO

from core.export_batches import format_time, message_batches, selected_sessions
from core.store import ConversationStore

CSV_COLUMNS = (
    "session_id",
    "session_title",
    "session_kind",
    "seq",
    "role",
    "created_at",
    "content",
    "word_count",
    "status",
    "model",
    "input_tokens",
    "output_tokens",
    "tools",
    "tags",
)

# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_cell(value: Any) -> Any:
    if value is None:
        return ""
    if type(value) is str and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(
    store: ConversationStore,
    user_id: int,
    out: TextIO,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> int:
    """One row per message of the chosen sessions; returns how many rows were written.

    RFC 4180 quoting (CRLF line ends, so open files with newline=""). Made for
    spreadsheets: any text cell that one would run as a formula (starting with
    = + - @, tab or carriage return) gets a leading apostrophe. The JSON archive
    is the lossless format.
    """
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for chat in selected_sessions(store, user_id, session_ids, query):
        tags = "; ".join(chat.tag_names)
        for batch in message_batches(store, user_id, chat.id):
            writer.writerows(
                [
                    _spreadsheet_cell(value)
                    for value in (
                        chat.id,
                        chat.title,
                        chat.kind,
                        message.seq,
                        message.role,
                        format_time(message.created_at),
                        message.content,
                        message.word_count,
                        message.status,
                        message.model,
                        message.input_tokens,
                        message.output_tokens,
                        "; ".join(call.name for call in calls),
                        tags,
                    )
                ]
                for message, calls in batch
            )
            rows += len(batch)
    return rows


def csv_bytes(
    store: ConversationStore,
    user_id: int,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> bytes:
    """The CSV as UTF-8 bytes, for a download button."""
    buffer = io.StringIO(newline="")
    write_csv(store, user_id, buffer, session_ids=session_ids, query=query)
    return buffer.getvalue().encode("utf-8")
