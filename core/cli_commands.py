"""What each command of `python -m core` does: one small function per command over core/.

core/cli.py parses the arguments and calls these.

A command returns its exit status; an error is a HuddleError, which core/cli.py turns into
one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext

from core import demo
from core.analytics_report import stats_report
from core.archive_out import write_archive
from core.config import load_settings
from core.csv_export import write_csv
from core.db import describe_database
from core.engine import ChatEngine, TurnError
from core.errors import NotFound, ValidationError
from core.export_batches import format_time
from core.file_import import ImportPreview, OwnerNeeded, import_file, preview_import
from core.login_sessions import LoginSessions
from core.markdown_export import session_markdown, write_markdown_zip
from core.passwords import hash_password
from core.store import ConversationStore
from core.terminal import TerminalSafe, terminal_safe
from core.text import clean_text, one_line
from core.turn_output import write_turn

PROG = "python -m core"

Command = Callable[[argparse.Namespace, ConversationStore], int]


# ---------------------------------------------------------------- helpers


def _say(text: str = "") -> None:
    print(terminal_safe(text), file=sys.stdout)


def note(text: str) -> None:
    print(terminal_safe(text), file=sys.stderr)


def fail(sentence: str) -> int:
    note(f"error: {one_line(sentence)}")
    return 1


def _number(value: int) -> str:
    return f"{value:,}"


def _count(value: int, noun: str, plural: str | None = None) -> str:
    """'1 session', '2,000 sessions'."""
    return f"{value:,} {noun}" if value == 1 else f"{value:,} {plural or noun + 's'}"


def _local(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _read_password() -> str:
    """The new password: the first line of standard input, or typed twice at a terminal."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat it: ") != password:
            raise ValidationError("The two passwords differ; nothing was changed.")
    else:
        try:
            password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        except UnicodeDecodeError:
            raise ValidationError("The password is not valid UTF-8 text.") from None
    clean_text(password, what="password", max_chars=1_000)
    return password


@contextlib.contextmanager
def _output(path: str | None, *, binary: bool = False, private: bool = False) -> Iterator[IO[Any]]:
    """stdout for None or "-"; otherwise a file that appears whole or not at all (readable by
    its owner alone if `private`)."""
    if path in (None, "-"):
        # Piped, an export is the data as it is; on a terminal, it cannot steer the terminal.
        text_out = TerminalSafe(sys.stdout) if sys.stdout.isatty() else sys.stdout
        yield sys.stdout.buffer if binary else text_out
        sys.stdout.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise ValidationError(f"{path} is a folder; give a file name to write to.")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    except OSError as exc:
        raise ValidationError(f"Cannot write to {path}: {exc.strerror}.") from exc
    try:
        mode = "wb" if binary else "w"
        options = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(handle, mode, **options) as out:
            yield out
        os.chmod(temporary, 0o600 if private else 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _size(path: str) -> str:
    size = Path(path).stat().st_size
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


# --------------------------------------------------------------- commands


def run_migrate(args: argparse.Namespace, store: ConversationStore) -> int:
    with store.db.engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    _say(f"{describe_database(store.db.url)} is at the newest schema (revision {revision}).")
    return 0


def run_user_add(args: argparse.Namespace, store: ConversationStore) -> int:
    password_hash = hash_password(_read_password()) if args.password_stdin else None
    user = store.create_user(
        args.username,
        name=args.name or "",
        email=args.email or "",
        role=args.role,
        password_hash=password_hash,
    )
    _say(f"Created {user.role} {user.username} (id {user.id}).")
    if password_hash is None:
        _say(
            f"{user.username} has no password and cannot log in yet; set one with "
            f"`{PROG} user set-password {user.username}`."
        )
    return 0


def run_user_set_password(args: argparse.Namespace, store: ConversationStore) -> int:
    user = store.get_user(args.username)
    store.set_password_hash(user.username, hash_password(_read_password()))
    ended = LoginSessions(store.db).end_all(user.id)
    _say(f"The password of {user.username} was set; they can log in now.{_ended(ended)}")
    return 0


def run_user_log_out(args: argparse.Namespace, store: ConversationStore) -> int:
    user = store.get_user(args.username)
    ended = LoginSessions(store.db).end_all(user.id)
    _say(f"{user.username} is logged out everywhere.{_ended(ended)}")
    return 0


def _ended(count: int) -> str:
    if not count:
        return ""
    if count == 1:
        return " 1 log-in ended."
    return f" {count} log-ins ended."


def run_user_list(args: argparse.Namespace, store: ConversationStore) -> int:
    users = store.list_users()
    if args.json:
        entries = [
            {
                "id": user.id,
                "username": user.username,
                "name": user.name,
                "email": user.email,
                "role": user.role,
                "can_log_in": user.password_hash is not None,
                "created_at": format_time(user.created_at),
            }
            for user in users
        ]
        _say(json.dumps(entries, indent=2, ensure_ascii=False))
        return 0
    if not users:
        _say(f"No users yet. Add one with `{PROG} user add USERNAME --password-stdin`.")
        return 0
    rows = [("USERNAME", "ROLE", "LOGIN", "CREATED", "NAME", "EMAIL")]
    rows += [
        (
            user.username,
            user.role,
            "yes" if user.password_hash else "no",
            user.created_at.strftime("%Y-%m-%d"),
            user.name,
            user.email,
        )
        for user in users
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        _say("  ".join([*cells, row[-1]]).rstrip())
    return 0


def _print_preview(preview: ImportPreview) -> None:
    _say(
        f"{preview.format_label}: {_count(preview.sessions, 'session')}, "
        f"{_count(preview.messages, 'message')} and {_count(preview.drills, 'drill')}."
    )
    if preview.already_there:
        _say(f"Already there (would be skipped): {_count(preview.already_there, 'session')}.")
    for title in preview.titles:
        _say(f"  {one_line(title)}")
    if preview.sessions > len(preview.titles):
        _say(f"  … and {_count(preview.sessions - len(preview.titles), 'more session')}")
    _say("Dry run: nothing was written.")


def run_import(args: argparse.Namespace, store: ConversationStore) -> int:
    if args.user is not None:
        store.get_user(args.user)
    if args.path == "-":
        source: Path | IO[bytes] = sys.stdin.buffer
    else:
        source = Path(args.path)
        if not source.is_file():
            raise ValidationError(f"There is no file {args.path}.")
    try:
        if args.dry_run:
            _print_preview(preview_import(store, source, as_user=args.user))
            return 0
        result = import_file(store, source, as_user=args.user)
    except OwnerNeeded as exc:
        raise ValidationError(
            f"A {exc.format_label} does not say which coach it belongs to; "
            "give one with --user USERNAME."
        ) from None

    def skipped(count: int) -> str:
        return f" ({count:,} already there)" if count else ""

    _say(
        f"Imported {_count(result.sessions_added, 'session')}"
        f"{skipped(result.sessions_skipped)}, {_count(result.messages_added, 'message')}, "
        f"{_count(result.tool_calls_added, 'tool call')} and "
        f"{_count(result.drills_added, 'drill')}{skipped(result.drills_skipped)}."
    )
    if result.users_created:
        names = ", ".join(result.users_created)
        _say(f"New users without a password (they cannot log in yet): {names}.")
    return 0


def run_export(args: argparse.Namespace, store: ConversationStore) -> int:
    coach = store.get_user(args.user)
    session_ids = args.session
    for session_id in session_ids or ():
        # Checked before anything is written; export itself would skip them silently.
        try:
            store.get_session(coach.id, session_id)
        except NotFound:
            raise NotFound(f"{coach.username} has no session {session_id!r}.") from None
    selection = {"session_ids": session_ids, "query": args.query}
    to_file = args.output not in (None, "-")
    if args.format == "json":
        with _output(args.output) as out:
            count = write_archive(store, coach.id, out, **selection)
        what = _count(count, "session")
    elif args.format == "csv":
        with _output(args.output) as out:
            count = write_csv(store, coach.id, out, **selection)
        what = _count(count, "message")
    elif session_ids is not None and len(session_ids) == 1 and not args.query:
        text = session_markdown(store, coach.id, session_ids[0])
        with _output(args.output) as out:
            out.write(text)
        what = "1 session"
    else:
        if not to_file:
            raise ValidationError(
                "Markdown for several sessions is a zip file; write it to a file with -o PATH."
            )
        with _output(args.output, binary=True) as out:
            count = write_markdown_zip(store, coach.id, out, **selection)
        what = _count(count, "session")
    if to_file:
        _say(f"Exported {what} to {args.output} ({_size(args.output)}).")
    return 0


_MATCH = re.compile(r"\*\*(.+?)\*\*")


def run_search(args: argparse.Namespace, store: ConversationStore) -> int:
    coach = store.get_user(args.user)
    query = " ".join(args.query)
    hits = store.search_messages(coach.id, query, kind=args.kind, limit=args.limit)
    if args.json:
        entries = [
            {
                "session_id": hit.session_id,
                "session_title": hit.session_title,
                "seq": hit.seq,
                "role": hit.role,
                "snippet": hit.snippet,
                "created_at": format_time(hit.created_at),
            }
            for hit in hits
        ]
        _say(json.dumps(entries, indent=2, ensure_ascii=False))
        return 0
    if not hits:
        _say(f"No messages of {coach.username} match {query!r}.")
        return 0
    # Bold the matches on a terminal; keep the **marks** when piped.
    bold = sys.stdout.isatty()
    for number, hit in enumerate(hits, 1):
        snippet = one_line(hit.snippet)
        if bold:
            snippet = _MATCH.sub("\033[1m\\1\033[0m", snippet)
        _say(f"{number}. {hit.session_title}  ({hit.session_kind}, {_local(hit.created_at)})")
        _say(f"   #{hit.seq} {hit.role}: {snippet}")
        _say(f"   session {hit.session_id}")
    more = " (the limit; use --limit for more)" if len(hits) == args.limit else ""
    _say(f"{_count(len(hits), 'matching message')}{more}.")
    return 0


def run_stats(args: argparse.Namespace, store: ConversationStore) -> int:
    coach = store.get_user(args.user)
    report = stats_report(store, coach, since=args.since, until=args.until, zone=args.tz)
    if args.json:
        _say(json.dumps(report.to_json(), indent=2))
    else:
        for line in report.lines():
            _say(line)
    return 0


def run_demo_data(args: argparse.Namespace, store: ConversationStore) -> int:
    live = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        line = f"demo-data: {done:,} of {total:,} messages written ({done / total:.0%})"
        # One line rewritten in place on a terminal, a line per batch in a log.
        print(f"\r{line}" if live else line, end="" if live else "\n", file=sys.stderr)
        sys.stderr.flush()

    result = demo.load_demo_data(
        store,
        users=args.users,
        sessions=args.sessions,
        messages=args.messages,
        seed=args.seed,
        progress=progress,
    )
    if live:
        print(file=sys.stderr)
    _say(
        f"Wrote {_count(result.sessions, 'session')}, {_count(result.messages, 'message')}, "
        f"{_count(result.tool_calls, 'tool call')} and {_count(result.drills, 'drill')} "
        f"for {_count(result.users, 'coach', 'coaches')} ({result.users_created:,} new) "
        f"in {result.seconds:.1f} s ({result.messages_per_second:,.0f} messages/s)."
    )
    if result.users_created:
        _say(f"New demo coaches have no password; set one with `{PROG} user set-password coach1`.")
    return 0


def run_chat(args: argparse.Namespace, store: ConversationStore) -> int:
    coach = store.get_user(args.user)
    engine = ChatEngine.from_settings(store, load_settings())
    engine.check_message(args.message)  # before a new session is created for it
    if args.session:
        session = store.get_session(coach.id, args.session)
    else:
        session = store.create_session(coach.id, kind=args.kind)
    try:
        outcome = write_turn(
            engine.send(coach.id, session.id, args.message), TerminalSafe(sys.stdout)
        )
    finally:
        _say(f"session: {session.id}")
    return fail(outcome.message) if isinstance(outcome, TurnError) else 0
