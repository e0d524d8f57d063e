"""Text made safe for a terminal: what `python -m core` prints never steers it.

A title or a message may hold escape sequences (colours, cursor moves, a cleared screen, a
window title, a hyperlink) or other control characters; printed as they are, they would act
on the operator's terminal; bidi controls would turn a line around. They are dropped; new
lines and tabs stay.
"""

from __future__ import annotations

import re
from typing import TextIO

from core.text import inert_bidi

# ESC followed by a CSI, OSC, DCS, PM or APC sequence (to its terminator), or any other
# two-character escape; then the C1 controls and the C0 controls but tab and new line.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing
    r"|\x1b[\]P^_][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (titles, links), DCS, PM, APC
    r"|\x1b[@-Z\\-_]?"  # any other escape, or a lone ESC
    r"|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]"
)


def terminal_safe(text: str) -> str:
    """The text without escape sequences, control characters (new lines and tabs kept) and
    bidi controls."""
    return inert_bidi(_SEQUENCE.sub("", text))


class TerminalSafe:
    """A text stream that writes terminal_safe text to the one it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(terminal_safe(text))

    def flush(self) -> None:
        self.stream.flush()
