"""File names for exports that say what they hold: huddle-coach1-2026-12-01-12-sessions.csv."""

from __future__ import annotations

import re
from datetime import date

from core.models import utcnow

_SLUG_CHARS = 40


def _slug(username: str) -> str:
    """Lower-case letters, digits and dashes only: safe in any file system and header."""
    slug = re.sub(r"[^a-z0-9]+", "-", username.lower()).strip("-")[:_SLUG_CHARS].strip("-")
    return slug or "coach"


def export_file_name(
    username: str,
    count: int,
    extension: str,
    *,
    today: date | None = None,
    noun: str = "sessions",
) -> str:
    """`huddle-<user>-<date>-<count>-<noun>.<extension>`; a count of 1 takes the singular.

    `noun` is given in the plural ("sessions", "drills", "messages"); its singular
    drops the final s. `today` defaults to the current UTC date.
    """
    day = today or utcnow().date()
    word = noun.removesuffix("s") if count == 1 else noun
    ext = re.sub(r"[^a-z0-9]+", "", extension.lower().lstrip(".")) or "txt"
    return f"huddle-{_slug(username)}-{day:%Y-%m-%d}-{count}-{word}.{ext}"
