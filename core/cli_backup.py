"""`python -m core backup PATH` and `restore PATH`: a whole Huddle in one file and back."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.backup import restore_backup, write_backup
from core.cli_commands import _count, _output, _say, _size
from core.errors import ValidationError
from core.store import ConversationStore


def run_backup(args: argparse.Namespace, store: ConversationStore) -> int:
    if args.path in (None, "-"):
        raise ValidationError("A backup is written to a file: give its path.")
    with _output(args.path, private=args.with_credentials) as out:
        summary = write_backup(store, out, with_credentials=args.with_credentials)
    _say(
        f"Backed up {_count(summary.users, 'user')}, {_count(summary.sessions, 'session')} and "
        f"{_count(summary.drills, 'drill')} to {args.path} ({_size(args.path)})."
    )
    if summary.with_credentials:
        _say(
            "It holds password hashes and the cookie signing key: keep it as you keep the "
            "database (the file is readable by you alone)."
        )
    else:
        _say(
            "Without password hashes: after a restore, give each coach a password with "
            "`python -m core user set-password USERNAME` (or back up with --with-credentials)."
        )
    return 0


def run_restore(args: argparse.Namespace, store: ConversationStore) -> int:
    path = Path(args.path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(f"There is no file {args.path}.") from None
    except IsADirectoryError:
        raise ValidationError(f"{args.path} is a folder, not a backup file.") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{args.path} is not UTF-8 text, so not a Huddle backup.") from None
    except OSError as exc:
        raise ValidationError(f"Cannot read {args.path}: {exc.strerror}.") from None
    summary = restore_backup(store, text)
    _say(
        f"Restored {_count(summary.users, 'user')}, {_count(summary.sessions, 'session')} and "
        f"{_count(summary.drills, 'drill')} from {args.path}."
    )
    if not summary.with_credentials:
        _say("The backup held no password hashes: nobody can log in until given a password.")
    return 0
