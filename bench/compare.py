"""The compare part: LangChain's chat history beside Huddle's store, the session list, the
Markdown export, the engine's own time in a turn, and writers at once, for one coach.

Run on the corpus of one coach with 20,000 sessions (a full run) or on coach1 of the
shared corpus (--quick). The long sessions it needs (10,000 messages for LangChain,
1,000 for Markdown) are added to that coach by demo-data, so they hold what a coach's
sessions hold (tool rounds included), in tables of the corpus's size.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from bench.engine_overhead import TurnTimings, time_turns
from bench.langchain_history import LangChainTimings, langchain_missing, time_langchain
from bench.listing_export import ListTimings, MarkdownTimings, time_markdown, time_session_list
from bench.writers import WriterTimings, time_writers
from core.demo import load_demo_data
from core.models import ChatSession
from core.store import ConversationStore

# Seeds of the added sessions, apart from the corpus's (demo-data refuses a seed twice).
_LONG_SEED, _MARKDOWN_SEED = 9_001, 9_002


@dataclass(frozen=True)
class CompareSizes:
    langchain_messages: int = 10_000  # the session both LangChain and Huddle hold
    markdown_messages: int = 1_000  # the session exported as Markdown
    runs: int = 30  # timed calls of each read, after a few untimed
    appends: int = 1_000  # appends to the long session, each store in turn
    turns: int = 100  # chat turns against the fake API
    writer_messages: int = 250  # timed appends of each writer, to each target
    writer_processes: int = 4


@dataclass(frozen=True)
class CompareTimings:
    title: str  # whose sessions: "one coach with 20,000 sessions" / "coach1 of the corpus"
    listing: ListTimings
    markdown: MarkdownTimings
    langchain: LangChainTimings | None
    turns: TurnTimings
    writers: list[WriterTimings] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not measured, and why


def _step(dialect: str, message: str) -> None:
    print(f"[{dialect}] compare: {message}", file=sys.stderr, flush=True)


def _session_ids(store: ConversationStore, user_id: int) -> set[str]:
    with store.db.reading() as session:
        return set(session.scalars(select(ChatSession.id).where(ChatSession.user_id == user_id)))


def add_session(
    store: ConversationStore, user_id: int, messages: int, seed: int, now: datetime
) -> str:
    """A demo session of `messages` messages for coach1 (demo-data's coach); its id."""
    before = _session_ids(store, user_id)
    load_demo_data(store, users=1, sessions=1, messages=messages, seed=seed, now=now)
    (added,) = _session_ids(store, user_id) - before
    return added


def time_compare(
    store: ConversationStore, title: str, sizes: CompareSizes, now: datetime
) -> CompareTimings:
    """Every measurement of the part, for coach1 of the store's corpus."""
    dialect = store.db.dialect
    user_id = store.get_user("coach1").id
    _step(dialect, f"{title}: the session list, one page of 50")
    listing = time_session_list(store, user_id, sizes.runs)
    _step(dialect, f"Markdown export of a {sizes.markdown_messages:,}-message session")
    short = add_session(store, user_id, sizes.markdown_messages, _MARKDOWN_SEED, now)
    markdown = time_markdown(store, user_id, short, sizes.runs)
    notes = []
    langchain = None
    missing = langchain_missing()
    if missing is None:
        _step(dialect, f"LangChain beside the store: {sizes.langchain_messages:,} messages")
        long = add_session(store, user_id, sizes.langchain_messages, _LONG_SEED, now)
        langchain = time_langchain(store, user_id, long, sizes.runs, sizes.appends)
    else:
        notes.append(missing)
    _step(dialect, f"{sizes.turns} chat turns against the fake Messages API")
    turns = time_turns(store, user_id, sizes.turns)
    _step(dialect, f"writers at once, {sizes.writer_messages} appends each")
    writers = time_writers(store, user_id, sizes.writer_messages, sizes.writer_processes)
    return CompareTimings(title, listing, markdown, langchain, turns, writers, notes)
