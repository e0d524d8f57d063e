"""The command line, `python -m core`: the arguments of each command, and main().

Exit status: 0 on success, 2 on a usage error (argparse's own), 1 on any other
error, with one line `error: <sentence>` on stderr and never a traceback.
Every command first brings the schema to the newest revision (a no-op there).
What each command does is in core/cli_commands.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from core import demo
from core.cli_analytics import run_analytics_check, run_analytics_rebuild
from core.cli_backup import run_backup, run_restore
from core.cli_commands import (
    PROG,
    Command,
    fail,
    note,
    run_chat,
    run_demo_data,
    run_export,
    run_import,
    run_migrate,
    run_search,
    run_stats,
    run_user_add,
    run_user_list,
    run_user_log_out,
    run_user_set_password,
)
from core.config import load_settings
from core.db import Database
from core.errors import HuddleError, ValidationError
from core.models import SESSION_KINDS, USER_ROLES
from core.search import MAX_LIMIT
from core.store import ConversationStore

# ------------------------------------------------------------ argument types


def _bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high]; anything else is a usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            upper = f" and {high:,}" if high is not None else " or more"
            between = f"between {low:,}{upper}" if high is not None else f"{low:,}{upper}"
            raise argparse.ArgumentTypeError(f"must be {between}, not {value:,}")
        return value

    return parse


def _day(text: str) -> date:
    """An argparse type: a calendar day written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day written YYYY-MM-DD") from None


# ----------------------------------------------------------------- parser


def _add_migrate(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "migrate", parents=[common], help="bring the database schema to the newest revision"
    )
    command.set_defaults(run=run_migrate)


def _add_user(commands: Any, common: argparse.ArgumentParser) -> None:
    user = commands.add_parser(
        "user", parents=[common], help="add users, set their passwords, log them out, list them"
    )
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", parents=[common], help="add a user (a coach by default)")
    add.add_argument("username")
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--email", help="email address")
    add.add_argument("--role", choices=USER_ROLES, default="coach")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input; without it the user cannot log in yet",
    )
    add.set_defaults(run=run_user_add)
    password = actions.add_parser(
        "set-password",
        parents=[common],
        help="set a user's password, read from standard input",
    )
    password.add_argument("username")
    password.set_defaults(run=run_user_set_password)
    log_out = actions.add_parser(
        "log-out", parents=[common], help="end every log-in of a user, on every server"
    )
    log_out.add_argument("username")
    log_out.set_defaults(run=run_user_log_out)
    listing = actions.add_parser("list", parents=[common], help="list every user")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_user_list)


def _add_import(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "import",
        parents=[common],
        help="import a Huddle archive, a ChatGPT or a Claude.ai export, whole or not at all",
        description="The format is detected: a Huddle JSON archive, or a ChatGPT or Claude.ai "
        "export (conversations.json or the export zip). Foreign exports need --user.",
    )
    command.add_argument("path", metavar="PATH", help="the file, or - for stdin")
    command.add_argument("--user", metavar="USERNAME", help="give every session to this user")
    command.add_argument(
        "--dry-run", action="store_true", help="show what would be imported; write nothing"
    )
    command.set_defaults(run=run_import)


def _add_export(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "export", parents=[common], help="export sessions as a JSON archive, CSV or Markdown"
    )
    command.add_argument("--user", metavar="USERNAME", required=True)
    command.add_argument(
        "--session",
        metavar="ID",
        nargs="+",
        action="extend",
        help="only these sessions (default: all of them)",
    )
    command.add_argument("--query", metavar="Q", help="only sessions with a message matching Q")
    command.add_argument("--format", choices=("json", "csv", "md"), required=True)
    command.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="write to this file (default, or -: stdout); Markdown of several sessions is a zip",
    )
    command.set_defaults(run=run_export)


def _add_search(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "search",
        parents=[common],
        help="full-text search of a coach's messages",
        description='Words must all match; "a phrase", OR, -excluded. '
        "A query starting with - goes after --.",
    )
    command.add_argument("--user", metavar="USERNAME", required=True)
    command.add_argument("query", metavar="QUERY", nargs="+")
    command.add_argument("--kind", choices=SESSION_KINDS)
    command.add_argument("--limit", type=_bounded_int(1, MAX_LIMIT), default=20)
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(run=run_search)


def _add_stats(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "stats", parents=[common], help="a coach's sessions, messages, words, tools and tokens"
    )
    command.add_argument("--user", metavar="USERNAME", required=True)
    command.add_argument(
        "--since", type=_day, metavar="YYYY-MM-DD", help="first day counted (default: the first)"
    )
    command.add_argument(
        "--until", type=_day, metavar="YYYY-MM-DD", help="last day counted (default: today)"
    )
    command.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="time zone of the days (default: UTC)"
    )
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(run=run_stats)


def _add_demo_data(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "demo-data",
        parents=[common],
        help="write a synthetic corpus of coaching conversations",
    )
    command.add_argument("--users", type=_bounded_int(1, demo.MAX_USERS), default=5)
    command.add_argument("--sessions", type=_bounded_int(1), default=200)
    command.add_argument("--messages", type=_bounded_int(1, demo.MAX_MESSAGES), default=5_000)
    command.add_argument("--seed", type=int, default=1)
    command.set_defaults(run=run_demo_data)


def _add_analytics(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "analytics", parents=[common], help="rebuild or check the analytics rollup"
    )
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, run, text in (
        ("rebuild", run_analytics_rebuild, "recompute the rollup from the messages"),
        (
            "check",
            run_analytics_check,
            "compare the rollup with the messages (exit 1 if they differ)",
        ),
    ):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("--user", metavar="USERNAME", help="one coach (default: every coach)")
        action.set_defaults(run=run)


def _add_backup(commands: Any, common: argparse.ArgumentParser) -> None:
    backup = commands.add_parser(
        "backup", parents=[common], help="write every user's data to one file"
    )
    backup.add_argument("path", metavar="PATH")
    backup.add_argument(
        "--with-credentials",
        action="store_true",
        help="include password hashes and the cookie key (the file is then yours alone)",
    )
    backup.set_defaults(run=run_backup)
    restore = commands.add_parser(
        "restore", parents=[common], help="load a backup into an empty database"
    )
    restore.add_argument("path", metavar="PATH")
    restore.set_defaults(run=run_restore)


def _add_chat(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "chat",
        parents=[common],
        help="one chat turn with the configured model (offline without ANTHROPIC_API_KEY)",
        description="Streams the reply, prints each tool call as `[tool] NAME <input> -> "
        "<output> (N ms)` and ends with `session: ID`. A message starting with - goes after --.",
    )
    command.add_argument("--user", metavar="USERNAME", required=True)
    command.add_argument("--session", metavar="ID", help="continue this session (default: new)")
    command.add_argument("--kind", choices=SESSION_KINDS, default="chat", help="of a new session")
    command.add_argument("message", metavar="MESSAGE")
    command.set_defaults(run=run_chat)


# Each adds one command (its parser and its `run` function); a new command is one more entry.
COMMANDS: list[Callable[[Any, argparse.ArgumentParser], None]] = [
    _add_migrate,
    _add_user,
    _add_import,
    _add_export,
    _add_search,
    _add_stats,
    _add_demo_data,
    _add_analytics,
    _add_backup,
    _add_chat,
]


def build_parser() -> argparse.ArgumentParser:
    # --database-url is accepted before or after the command; SUPPRESS keeps a
    # subcommand's absent option from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="the database (default: $DATABASE_URL, else sqlite:///data/huddle.db)",
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        description="Huddle's command line: users, import and export, search, stats, demo data.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(commands, common)
    return parser


# ------------------------------------------------------------------- main


def _unusable_argument(argv: Sequence[str]) -> str | None:
    """A sentence about the first argument that cannot be text, or None."""
    for position, argument in enumerate(argv, 1):
        if "\x00" in argument:
            return f"Argument {position} contains a NUL character, which cannot be used."
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            return f"Argument {position} is not valid UTF-8 text."
    return None


def _run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    url = getattr(args, "database_url", None) or settings.database_url
    db = Database(url)
    try:
        db.migrate()
        command: Command = args.run
        return command(args, ConversationStore(db))
    finally:
        db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status instead of raising SystemExit."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    problem = _unusable_argument(arguments)
    if problem is not None:
        return fail(problem)
    try:
        args = build_parser().parse_args(arguments)
    except SystemExit as exit_:  # argparse: 2 after a usage message, 0 after --help
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return _run(args)
    except HuddleError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        note("error: Interrupted.")
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`); say nothing more to it.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        return fail(f"Something unexpected went wrong ({type(exc).__name__}: {exc}).")
