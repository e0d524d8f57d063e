"""Showing text people typed (titles, names, snippets) as itself inside Streamlit's Markdown."""

from __future__ import annotations

import re

from core.text import inert_bidi

# Every ASCII character Markdown (and Streamlit's $math$ and :color[] extensions) treats
# specially; a backslash before any ASCII punctuation is always a literal in CommonMark.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str, *, keep_lines: bool = False) -> str:
    """The text, escaped so that Markdown shows it exactly as typed.

    On one line, unless `keep_lines`: then each line stays a line of its own. Bidi controls
    are dropped, so a title cannot turn the text around it backwards.
    """
    text = inert_bidi(text or "")
    if keep_lines:
        lines = [" ".join(line.split()) for line in (text or "").splitlines()]
        return "  \n".join(_SPECIAL.sub(r"\\\1", line) for line in lines if line)
    return _SPECIAL.sub(r"\\\1", " ".join((text or "").split()))
