"""A chat turn as the command line shows it (`python -m core chat`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from core.engine import TextDelta, ToolFinished, TurnDone, TurnError, TurnEvent
from core.text import one_line


def write_turn(events: Iterable[TurnEvent], out: TextIO) -> TurnDone | TurnError | None:
    """Write a turn as the command line shows it; returns how it ended.

    Reply text is written as it streams; each finished tool call gets its own line,
    `[tool] NAME <input json> -> <output> (N ms)`.
    """
    at_line_start = True
    outcome: TurnDone | TurnError | None = None
    for event in events:
        if isinstance(event, TextDelta):
            out.write(event.text)
            at_line_start = event.text.endswith("\n")
        elif isinstance(event, ToolFinished):
            shown_input = _clip(json.dumps(event.input, ensure_ascii=False))
            shown_output = ("error: " if event.is_error else "") + _clip(one_line(event.output))
            prefix = "" if at_line_start else "\n"
            out.write(
                f"{prefix}[tool] {event.name} {shown_input} -> {shown_output} "
                f"({event.duration_ms} ms)\n"
            )
            at_line_start = True
        elif isinstance(event, TurnDone | TurnError):
            outcome = event
        out.flush()
    if not at_line_start:
        out.write("\n")
    return outcome


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
