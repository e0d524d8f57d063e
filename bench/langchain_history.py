"""LangChain's SQLChatMessageHistory beside ConversationStore, holding the same long session.

The session (demo data, tool rounds included) is copied into LangChain's own table in the
same scratch database, through the same SQLAlchemy engine, so both read the same messages
from the same server. Loads and appends are interleaved (one of each in turn), so a busy
moment of the machine falls on both. langchain-community is a benchmark-only requirement
(requirements-bench.txt): without it this part is reported as not measured.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from core.models import Message
from core.store import ConversationStore

TABLE = "langchain_message_store"
LATEST = 100  # what the chat page shows of a long session
WARM_UP = 3
_APPEND_TEXT = "What should the second half of Thursday's session look like? Number {n}."


def langchain_missing() -> str | None:
    """Why LangChain cannot be measured here, or None when it can."""
    try:
        with warnings.catch_warnings():
            # langchain-community announces its sunset on import; the report names its version.
            warnings.simplefilter("ignore", DeprecationWarning)
            import langchain_community.chat_message_histories  # noqa: F401
    except ImportError:
        return (
            "LangChain was not measured: langchain-community is not installed "
            "(`pip install -r requirements-bench.txt`)."
        )
    return None


@dataclass(frozen=True)
class LangChainTimings:
    messages: int  # in the session, in both stores
    version: str  # langchain-community / langchain-core
    load_ms: list[float]  # SQLChatMessageHistory.messages: the whole session
    latest_ms: list[float]  # ConversationStore.list_messages, the latest LATEST
    all_ms: list[float]  # ConversationStore.list_messages(limit=None), every message
    iter_ms: list[float]  # ConversationStore.iter_messages, every message by batches
    langchain_add_ms: list[float]
    huddle_add_ms: list[float]


def _as_langchain(message: Message):
    """The LangChain message a chain would keep for this Huddle message."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    if message.role == "user":
        return HumanMessage(message.content)
    if message.role == "assistant":
        uses = [b for b in message.blocks or [] if b.get("type") == "tool_use"]
        calls = [{"id": b["id"], "name": b["name"], "args": b.get("input", {})} for b in uses]
        return AIMessage(message.content, tool_calls=calls)
    if message.role == "tool":
        results = [b for b in message.blocks or [] if b.get("type") == "tool_result"]
        first = results[0].get("tool_use_id", "toolu") if results else "toolu"
        return ToolMessage(json.dumps(results, ensure_ascii=False), tool_call_id=first)
    return SystemMessage(message.content)


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def time_langchain(
    store: ConversationStore, user_id: int, session_id: str, runs: int, appends: int
) -> LangChainTimings:
    """Copy the session into LangChain's table, then time loads and appends in turn."""
    from importlib.metadata import version

    from langchain_community.chat_message_histories import SQLChatMessageHistory
    from langchain_core.messages import HumanMessage

    history = SQLChatMessageHistory(
        session_id=session_id, connection=store.db.engine, table_name=TABLE
    )
    history.add_messages([_as_langchain(m) for m in store.iter_messages(user_id, session_id)])
    count = len(history.messages)
    reads: dict[str, Callable[[], object]] = {
        "load": lambda: history.messages,
        "latest": lambda: store.list_messages(user_id, session_id, limit=LATEST),
        "all": lambda: store.list_messages(user_id, session_id, limit=None),
        "iter": lambda: sum(1 for _ in store.iter_messages(user_id, session_id)),
    }
    found: dict[str, list[float]] = {name: [] for name in reads}
    for attempt in range(WARM_UP + runs):
        for name, read in reads.items():
            elapsed = _timed(read)
            if attempt >= WARM_UP:
                found[name].append(elapsed)
    langchain_add, huddle_add = [], []
    for number in range(WARM_UP + appends):
        text = _APPEND_TEXT.format(n=number)
        lc = _timed(lambda text=text: history.add_message(HumanMessage(text)))
        hu = _timed(lambda text=text: store.add_message(user_id, session_id, "user", text))
        if number >= WARM_UP:
            langchain_add.append(lc)
            huddle_add.append(hu)
    return LangChainTimings(
        messages=count,
        version=f"{version('langchain-community')} / {version('langchain-core')}",
        load_ms=found["load"],
        latest_ms=found["latest"],
        all_ms=found["all"],
        iter_ms=found["iter"],
        langchain_add_ms=langchain_add,
        huddle_add_ms=huddle_add,
    )
