"""The history a chat turn sends to the model: the newest whole exchanges that fit a budget.

Stored messages become Messages API messages: a tool_use always travels with its
tool_result (a pair missing either half is dropped), replies cut short are left
out, and two messages of the same role in a row are merged, as the API wants.
How a reply cut short is stored (store_cut_reply) lives here too, beside the rule
that leaves it out.
"""

from __future__ import annotations

import json
from typing import Any

from core.models import Message
from core.store import ConversationStore

# About 75k tokens of history: room for long sessions, far below Claude's context window.
DEFAULT_CONTEXT_CHARS = 300_000
_CONTEXT_PAGE = 100


def build_context(
    store: ConversationStore, user_id: int, session_id: str, upto_seq: int, budget_chars: int
) -> list[dict[str, Any]]:
    """The Messages API history of a turn whose user message has seq `upto_seq`.

    The newest messages that fit the budget, whole: a tool_use always travels with its
    tool_result, and a pair missing either half is dropped. Replies cut short are left
    out, and two user messages in a row are merged.
    """
    units: list[list[dict[str, Any]]] = []  # newest first
    results: dict[str, dict[str, Any]] = {}  # tool results met so far, by tool_use id
    used = 0
    before = upto_seq + 1
    while True:
        page = store.list_messages(user_id, session_id, limit=_CONTEXT_PAGE, before_seq=before)
        full = False
        for message in reversed(page):
            unit = _context_unit(message, results)
            if unit is None:
                continue
            size = len(json.dumps(unit, ensure_ascii=False))
            if units and used + size > budget_chars:
                full = True
                break
            units.append(unit)
            used += size
        if full or len(page) < _CONTEXT_PAGE:
            break
        before = page[0].seq
    units.reverse()
    while units and units[0][0]["role"] != "user":
        units.pop(0)  # the API's history starts with the user
    return _merge_roles([message for unit in units for message in unit])


def store_cut_reply(
    store: ConversationStore,
    user_id: int,
    session_id: str,
    text: str,
    error: str,
    *,
    model: str,
    metadata: dict[str, Any],
    latency_ms: int | None = None,
    first_token_ms: int | None = None,
) -> Message:
    """Store a reply that did not finish: `partial` with the text that arrived, else `error`.

    The page offers Retry under it (metadata "retryable"); later contexts leave it out.
    """
    return store.add_message(
        user_id,
        session_id,
        "assistant",
        text,
        blocks=[{"type": "text", "text": text}] if text else None,
        status="partial" if text else "error",
        error=error,
        model=model,
        latency_ms=latency_ms,
        first_token_ms=first_token_ms,
        metadata=metadata,
    )


def api_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks the API accepts back: it refuses empty text blocks."""
    return [b for b in blocks if b.get("type") != "text" or b.get("text")]


def tool_uses(message: Message) -> list[dict[str, Any]]:
    blocks = message.blocks if isinstance(message.blocks, list) else []
    return [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"]


def _context_unit(
    message: Message, results: dict[str, dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """A message as API messages, walking history newest first (None: leave it out).

    Tool messages are newer than the assistant message that asked for them, so their
    results are collected first and attached when that assistant message is reached.
    """
    if message.role == "tool":
        for block in message.blocks or []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                results[str(block.get("tool_use_id"))] = block
        return None
    if message.role == "user":
        if not message.content.strip():
            return None
        return [{"role": "user", "content": [{"type": "text", "text": message.content}]}]
    if message.role != "assistant" or message.status != "complete":
        return None
    blocks = message.blocks if isinstance(message.blocks, list) else None
    if blocks is None:
        blocks = [{"type": "text", "text": message.content}]
    kept: list[dict[str, Any]] = []
    paired: list[dict[str, Any]] = []
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and block.get("text"):
            kept.append({"type": "text", "text": block["text"]})
        elif kind == "tool_use" and block.get("id") in results:
            kept.append(
                {
                    "type": "tool_use",
                    "id": block["id"],
                    "name": block["name"],
                    "input": block.get("input") or {},
                }
            )
            paired.append(results.pop(block["id"]))
    if not kept:
        return None
    unit = [{"role": "assistant", "content": kept}]
    if paired:
        unit.append({"role": "user", "content": paired})
    return unit


def _merge_roles(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge neighbours of the same role (the API wants user and assistant to alternate)."""
    merged: list[dict[str, Any]] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            merged[-1] = {
                "role": message["role"],
                "content": merged[-1]["content"] + message["content"],
            }
        else:
            merged.append({"role": message["role"], "content": list(message["content"])})
    return merged
