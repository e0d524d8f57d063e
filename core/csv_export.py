"""CSV out of Huddle: one row per message, made for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import TextIO

from core.csv_rows import MessagePage, message_pages, session_batches
from core.export_batches import selected_sessions, without_cycle_collection
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
    # After the design card's columns, so a reader of those by position is not misled.
    "tool_outputs",
)

# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# Excel keeps at most this many characters in a cell and cuts the rest without a word.
CELL_LIMIT = 32_767


def _text_cell(value: str | None) -> str:
    if not value:
        return ""
    if value.startswith(_FORMULA_STARTS):
        value = "'" + value
    if len(value) > CELL_LIMIT:
        mark = f" […cut: {len(value):,} characters in all; the JSON archive holds them all]"
        value = value[: CELL_LIMIT - len(mark)] + mark
    return value


def _tool_cells(calls: list[tuple[str, str]] | None) -> tuple[str, str]:
    """The tools column (names) and the tool_outputs column (each call's name and output)."""
    if not calls:
        return "", ""
    names = "; ".join(name for name, _ in calls)
    outputs = "\n\n".join(f"{name}: {output}" for name, output in calls)
    return _text_cell(names), _text_cell(outputs)


def _page_rows(page: MessagePage, sessions: dict[str, tuple[str, ...]]) -> Iterator[tuple]:
    tools = page.tools
    for (
        message_id,
        session_id,
        seq,
        role,
        content,
        word_count,
        status,
        model,
        input_tokens,
        output_tokens,
        created_at,
    ) in page.rows:
        chat_id, title, kind, tags = sessions[session_id]
        tool_names, tool_outputs = _tool_cells(tools.get(message_id))
        # The writer writes None as an empty cell; numbers and the time text
        # (it starts with the year's digits) can never read as a formula.
        yield (
            chat_id,
            title,
            kind,
            seq,
            _text_cell(role),
            created_at,
            _text_cell(content),
            word_count,
            _text_cell(status),
            _text_cell(model),
            input_tokens,
            output_tokens,
            tool_names,
            tags,
            tool_outputs,
        )


def _csv_pages(
    store: ConversationStore,
    user_id: int,
    session_ids: Sequence[str] | None,
    query: str | None,
) -> Iterator[tuple[str, int]]:
    """The CSV a page of messages at a time: (text, rows in it), the header first."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue(), 0
    for sessions in session_batches(selected_sessions(store, user_id, session_ids, query)):
        # The session's own cells are the same on each of its rows: made once.
        cells = {
            chat.id: (
                _text_cell(chat.id),
                _text_cell(chat.title),
                _text_cell(chat.kind),
                _text_cell("; ".join(chat.tag_names)),
            )
            for chat in sessions
        }
        for page in message_pages(store, user_id, [chat.id for chat in sessions]):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(_page_rows(page, cells))
            yield buffer.getvalue(), len(page.rows)


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
    = + - @, tab or carriage return) gets a leading apostrophe, and a cell longer
    than Excel keeps (32,767 characters) is cut with a mark that says so. The JSON
    archive is the lossless format.
    """
    rows = 0
    with without_cycle_collection():
        for text, count in _csv_pages(store, user_id, session_ids, query):
            out.write(text)
            rows += count
    return rows


def csv_bytes(
    store: ConversationStore,
    user_id: int,
    *,
    session_ids: Sequence[str] | None = None,
    query: str | None = None,
) -> bytes:
    """The CSV as UTF-8 bytes, for a download button.

    Encoded a page at a time into one growing buffer, so the peak stays near
    the file's own size (never the whole text and its encoded copy at once).
    """
    buffer = io.BytesIO()
    with without_cycle_collection():
        for text, _ in _csv_pages(store, user_id, session_ids, query):
            buffer.write(text.encode("utf-8"))
    return buffer.getvalue()
