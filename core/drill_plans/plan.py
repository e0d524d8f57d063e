"""The shape of the drill plans: what a drill with one focus is made of, and one sport's plans."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# A focus word table: (regular expression, focus). The expression is matched as whole words,
# case-insensitively; the focus names a plan.
FocusWords = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Plan:
    """The generated text of a drill with one focus.

    `setup` may name {side} (the side of the area in metres, from the number of players),
    {groups} (how the players split into groups, one ball each) and {squad} ("the 12 players").
    """

    name: str  # what the title calls it, e.g. "Pick and Roll"; empty for the general plan
    objective: str  # unique across all plans: a saved drill's objective tells its plan
    setup: str
    steps: tuple[str, ...]
    coaching_points: tuple[str, ...]
    progressions: tuple[str, ...]


@dataclass(frozen=True)
class SportPlans:
    """One sport's skill words and the plans they pick.

    `sports` are the sport names it serves; the first is the sport a skill word of this table
    implies when the coach names none ("a layup drill" is basketball).
    """

    sports: tuple[str, ...]
    focus_words: FocusWords
    plans: Mapping[str, Plan]
