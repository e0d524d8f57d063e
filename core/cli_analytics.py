"""`python -m core analytics rebuild|check`: the operator's tools for the analytics rollup."""

from __future__ import annotations

import argparse

from core.analytics_rollup import rebuild, rollup_differences
from core.cli_commands import _count, _say, fail
from core.store import ConversationStore


def _user_id(args: argparse.Namespace, store: ConversationStore) -> int | None:
    return None if args.user is None else store.get_user(args.user).id


def _whose(args: argparse.Namespace) -> str:
    return "every coach" if args.user is None else args.user


def run_analytics_rebuild(args: argparse.Namespace, store: ConversationStore) -> int:
    result = rebuild(store.db, _user_id(args, store))
    _say(
        f"Rebuilt the analytics rollup for {_whose(args)}: "
        f"{_count(result.activity_rows, 'activity row')} and "
        f"{_count(result.model_rows, 'token row')} in {result.seconds:.1f} s."
    )
    return 0


def run_analytics_check(args: argparse.Namespace, store: ConversationStore) -> int:
    differences = rollup_differences(store.db, _user_id(args, store))
    if differences:
        return fail(
            f"The analytics rollup for {_whose(args)} differs from the messages in "
            f"{_count(len(differences), 'row')}; run `python -m core analytics rebuild`."
        )
    _say(f"The analytics rollup for {_whose(args)} equals the sums over the messages.")
    return 0
