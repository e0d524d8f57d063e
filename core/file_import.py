"""One entry point for an uploaded or named file: detect its format (Huddle archive, ChatGPT
export, Claude.ai export; bare JSON or the export zip), preview it, import it whole or not at all.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from core.archive_in import (
    parse_json,
    read_archive_bytes,
    read_archive_document,
)
from core.archive_rows import ImportResult, IncomingArchive, count_already_there, write_incoming
from core.errors import ArchiveError
from core.export_batches import without_cycle_collection
from core.foreign_import import read_chatgpt, read_claude
from core.store import ConversationStore

# The largest file, and the largest JSON inside a zip, that is read at all. The
# History page limits uploads to the same size.
MAX_IMPORT_BYTES = 200 * 1024 * 1024
PREVIEW_TITLES = 5

FORMAT_LABELS = {
    "huddle-archive": "Huddle archive",
    "chatgpt": "ChatGPT export",
    "claude": "Claude.ai export",
}
_FOREIGN_FILE = "conversations.json"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with files, an empty zip
_UNKNOWN = "This file is not a Huddle archive, a ChatGPT export or a Claude.ai export."
_NEITHER = "This file is neither JSON nor a zip archive."

Source = bytes | bytearray | memoryview | Path | BinaryIO


class OwnerNeeded(ArchiveError):
    """A foreign export names no Huddle user, so the importing user must be given."""

    def __init__(self, format_label: str) -> None:
        super().__init__(
            f"A {format_label} does not say which coach it belongs to; "
            "choose the user to import it for."
        )
        self.format_label = format_label


@dataclass(frozen=True)
class ImportPreview:
    """What importing a file would do, found without writing anything."""

    format: str  # "huddle-archive" | "chatgpt" | "claude"
    format_label: str  # "Huddle archive", "ChatGPT export", "Claude.ai export"
    sessions: int  # in the file
    messages: int
    already_there: int  # sessions of the file this user already has (would be skipped)
    drills: int  # in the file (0 for foreign formats)
    titles: list[str]  # the first few session titles


def _too_large(size: int) -> ArchiveError:
    return ArchiveError(
        f"The file is {size / 1024 / 1024:,.0f} MB; the limit is "
        f"{MAX_IMPORT_BYTES // 1024 // 1024:,} MB."
    )


def _read_bytes(source: Source) -> bytes:
    """The file's bytes, refusing one over the limit before reading it all."""
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
            if size > MAX_IMPORT_BYTES:
                raise _too_large(size)
            return source.read_bytes()
        except OSError as exc:
            raise ArchiveError(f"The file {source} cannot be read: {exc.strerror}.") from exc
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        data = source.read(MAX_IMPORT_BYTES + 1)
        if not isinstance(data, bytes):
            raise ArchiveError("The file must be opened in binary mode to be imported.")
    if len(data) > MAX_IMPORT_BYTES:
        raise _too_large(len(data))
    return data


def _json_in_zip(data: bytes) -> bytes:
    """The JSON file an export zip holds: conversations.json, else its one .json file."""
    try:
        bundle = zipfile.ZipFile(io.BytesIO(data))
        members = [
            info
            for info in bundle.infolist()
            if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        ]
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ArchiveError("This zip archive is damaged and cannot be read.") from exc
    with bundle:
        named = [info for info in members if PurePosixPath(info.filename).name == _FOREIGN_FILE]
        jsons = [info for info in members if info.filename.lower().endswith(".json")]
        if named:
            # The export's own, shallowest conversations.json (a folder may wrap it).
            chosen = min(named, key=lambda info: info.filename.count("/"))
        elif len(jsons) == 1:
            chosen = jsons[0]
        elif jsons:
            raise ArchiveError(
                f"The zip holds {len(jsons)} JSON files and no {_FOREIGN_FILE}; "
                "import the one archive on its own."
            )
        else:
            raise ArchiveError("The zip holds no JSON file to import.")
        # The sizes a zip declares can lie (a zip bomb), so read at most one byte past the limit.
        if chosen.file_size > MAX_IMPORT_BYTES:
            raise _too_large(chosen.file_size)
        try:
            with bundle.open(chosen) as member:
                content = member.read(MAX_IMPORT_BYTES + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise ArchiveError(
                f"{chosen.filename} in the zip is damaged or encrypted and cannot be read."
            ) from exc
    if len(content) > MAX_IMPORT_BYTES:
        raise _too_large(len(content))
    return content


def _text(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArchiveError(_NEITHER) from None
    if text.lstrip()[:1] not in ("{", "["):
        raise ArchiveError(_NEITHER if text.strip() else "The file is empty.")
    return text


def _unwrap(document: Any) -> Any:
    """Some tools save a foreign export as {"conversations": [...]} with account details."""
    if type(document) is dict and "format" not in document:
        inner = document.get("conversations")
        if type(inner) is list:
            return inner
    return document


def _detect(document: Any) -> str:
    if type(document) is dict and document.get("format") == "huddle-archive":
        return "huddle-archive"
    if type(document) is list:
        first = next((item for item in document if type(item) is dict), None)
        if first is not None and "mapping" in first:
            return "chatgpt"
        if first is not None and "chat_messages" in first:
            return "claude"
        if not document:
            raise ArchiveError("The export holds no conversations; there is nothing to import.")
    raise ArchiveError(_UNKNOWN)


def _read_file(source: Source, *, need_users: bool) -> tuple[str, IncomingArchive]:
    """The file's format and its rows, validated whole; nothing is written."""
    data = _read_bytes(source)
    if data.startswith(_ZIP_MAGIC):
        data = _json_in_zip(data)
    if fast := read_archive_bytes(data, need_users=need_users):
        return "huddle-archive", fast
    text = _text(data)
    document = _unwrap(parse_json(text, "The file"))
    del data
    kind = _detect(document)
    readers: dict[str, Callable[[Any], IncomingArchive]] = {
        "chatgpt": read_chatgpt,
        "claude": read_claude,
    }
    if kind == "huddle-archive":
        return kind, read_archive_document(document, text, need_users=need_users)
    if need_users:
        raise OwnerNeeded(FORMAT_LABELS[kind])
    return kind, readers[kind](document)


def preview_import(
    store: ConversationStore, source: Source, *, as_user: str | None
) -> ImportPreview:
    """What import_file would add and skip for `as_user`; reads only, writes nothing.

    Without `as_user` (a Huddle archive naming its users) sessions count as already
    there for the users that exist; foreign exports need `as_user` (OwnerNeeded).
    """
    with without_cycle_collection():
        kind, archive = _read_file(source, need_users=as_user is None)
    return ImportPreview(
        format=kind,
        format_label=FORMAT_LABELS[kind],
        sessions=len(archive.sessions),
        messages=sum(len(incoming.messages) for incoming in archive.sessions),
        already_there=count_already_there(store, archive, as_user),
        drills=len(archive.drills),
        titles=[incoming.row["title"] for incoming in archive.sessions[:PREVIEW_TITLES]],
    )


def import_file(store: ConversationStore, source: Source, *, as_user: str | None) -> ImportResult:
    """Detect the file's format and import it in one transaction, whole or not at all.

    `as_user` gives every session to that user (the web app passes the logged-in
    coach); only a Huddle archive may leave it None, its sessions then going to
    the users it names. Sessions already there are skipped, so importing the same
    file twice adds nothing the second time.
    """
    with without_cycle_collection():
        _, archive = _read_file(source, need_users=as_user is None)
        return write_incoming(store, archive, as_user)
