"""The one rule for words, previews, titles and acceptable text, used wherever text is stored."""

from __future__ import annotations

import re

from core.errors import ValidationError

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
# The same rule for text that is all ASCII (most of it): ASCII \w is the same set of
# characters there, and matching it skips a Unicode lookup per character (about 20 %).
_ASCII_WORD = re.compile(r"\w+(?:['\-]\w+)*", re.ASCII)
_SPACE = re.compile(r"\s+")
# Characters that take no room on screen: a message of only these (and spaces) says nothing,
# and a title made of them is an invisible sidebar row.
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\u180e]+")
# Bidirectional embeddings, overrides and isolates: a title holding U+202E shows its text (and
# whatever follows it on the line) backwards. Shown text drops them (inert_bidi).
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
PREVIEW_CHARS = 200
TITLE_CHARS = 60


def count_words(text: str) -> int:
    """Words are runs of letters or digits, with inner apostrophes and hyphens (don't, 4-3-3)."""
    if not text:
        return 0
    return len((_ASCII_WORD if text.isascii() else _WORD).findall(text))


def inert_bidi(text: str) -> str:
    """The text without bidi controls, so it cannot reorder what it is shown beside."""
    return _BIDI_CONTROLS.sub("", text)


def one_line(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip()


def make_preview(text: str) -> str:
    """The first 200 characters of a message, on one line."""
    return one_line(text)[:PREVIEW_CHARS]


def make_title(text: str, limit: int = TITLE_CHARS) -> str:
    """A session title from its first message: its first line, cut at a word boundary."""
    line = one_line(text)
    if len(line) <= limit:
        return line or "New chat"
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip(" ,.;:-") + "…"


def clean_text(text: str, *, what: str, max_chars: int, allow_empty: bool = False) -> str:
    """Refuse text that cannot be stored as it is, with one sentence saying why."""
    if not isinstance(text, str):
        raise ValidationError(f"The {what} must be text.")
    if "\x00" in text:
        raise ValidationError(f"The {what} contains a NUL character, which cannot be stored.")
    if not allow_empty and not _INVISIBLE.sub("", text):
        raise ValidationError(f"The {what} is empty.")
    if len(text) > max_chars:
        raise ValidationError(
            f"The {what} is {len(text):,} characters long; the limit is {max_chars:,}."
        )
    return text
