"""Reading a coach's sentence about a drill: the facts it gives and the changes it asks for.

"U12 soccer passing drill for 10 players, 20 minutes, cones and balls" gives a sport, an age
group, a number of players, a duration, equipment and a focus; "change it to 14 players and add
a progression with a defender" gives a number of players and a progression to add. The offline
model builds and changes drills from these, so the drill page works without a Claude key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from core.drill_plans import GENERAL_FOCUS_WORDS, SPORT_PLANS, FocusWords, plans_of_sport

# Longer names first, so "ice hockey" wins over "hockey".
_SPORTS: tuple[tuple[str, str], ...] = (
    (r"american football|gridiron", "american football"),
    (r"ice hockey", "ice hockey"),
    (r"field hockey", "field hockey"),
    (r"water polo", "water polo"),
    (r"ultimate frisbee", "ultimate frisbee"),
    (r"track and field|athletics", "athletics"),
    (r"soccer", "soccer"),
    (r"football", "football"),
    (r"futsal", "futsal"),
    (r"basketball", "basketball"),
    (r"volleyball", "volleyball"),
    (r"hockey", "hockey"),
    (r"rugby", "rugby"),
    (r"tennis", "tennis"),
    (r"badminton", "badminton"),
    (r"baseball", "baseball"),
    (r"softball", "softball"),
    (r"cricket", "cricket"),
    (r"handball", "handball"),
    (r"lacrosse", "lacrosse"),
    (r"netball", "netball"),
    (r"swimming", "swimming"),
)

_EQUIPMENT: tuple[tuple[str, str], ...] = (
    (r"medicine balls?|med balls?", "medicine balls"),
    (r"tennis balls?", "tennis balls"),
    (r"mini[- ]goals?|small goals?|pop[- ]up goals?", "mini goals"),
    (r"agility ladders?|speed ladders?|ladders?", "agility ladders"),
    (r"tackle bags?|tackling bags?", "tackle bags"),
    (r"resistance bands?|bands", "resistance bands"),
    (r"disc markers?|markers?|discs?|flat markers?", "markers"),
    (r"cones?", "cones"),
    (r"balls?|footballs|basketballs|volleyballs|rugby balls", "balls"),
    (r"bibs?|pinnies|pinny|vests?", "bibs"),
    (r"goals?(?!\s+(?:of|is|are|for|was)\b)", "goals"),
    (r"hurdles?", "hurdles"),
    (r"poles?", "poles"),
    (r"mannequins?|dummies", "mannequins"),
    (r"rebounders?", "rebounders"),
    (r"nets?", "nets"),
    (r"hoops?|rings", "hoops"),
    (r"stopwatch(?:es)?|timers?", "stopwatch"),
    (r"whistles?", "whistle"),
    (r"flags?", "flags"),
    (r"hockey sticks|sticks", "sticks"),
    (r"pucks?", "pucks"),
    (r"rackets?|racquets?", "rackets"),
    (r"shuttlecocks?|shuttles", "shuttlecocks"),
    (r"mats?", "mats"),
    (r"skipping ropes?|jump ropes?", "skipping ropes"),
)

_WORDS_BEFORE_REMOVAL = r"(?:without|remove|drop|no|minus|take away|lose|get rid of)"
_NEW_DRILL = re.compile(
    r"\b(?:new|another|different|second|separate|one more)\s+"
    r"(?:(?!(?:to|of|in|for|the|this|that|it|progressions?|steps?|points?)\b)[\w-]+\s+){0,3}?"
    r"(?:drill|exercise|activity)\b|\bstart (?:over|again|from scratch)\b",
    re.I,
)
_MENTIONS_DRILL = re.compile(r"\b(?:drills?|exercises?|sessions?|activity)\b", re.I)

# A skill word is what the drill is about, not a passing mention ("add bibs for the
# defenders"), when the words around it say so: "make it a rondo", "focus on finishing",
# "a shooting drill", "pressing instead".
_FOCUS_BEFORE = re.compile(
    r"\b(?:make it|turn it into|change (?:it|the focus) to|switch (?:it )?to|focus(?:ing)? on|"
    r"work(?:ing)? on|do|try|practi[cs]e|now an?)\s+(?:(?:a|an|some|the|more|on)\s+){0,2}$",
    re.I,
)
_FOCUS_AFTER = re.compile(
    r"^\s+(?:[\w-]+\s+){0,2}?(?:drills?|focus|session|practice|exercise|work|instead|game|"
    r"activity)\b",
    re.I,
)

# "add a progression with a defender": a list item to add, in the coach's words.
_ITEM_FIELDS: tuple[tuple[str, str], ...] = (
    (r"progressions?|variations?|harder versions?|challenges?", "progressions"),
    (r"coaching points?|coaching cues?|teaching points?|key points?|tips?", "coaching_points"),
    (r"steps?", "steps"),
)
# The item's words end with the sentence or where the next instruction starts.
_NEXT_INSTRUCTION = (
    r"(?:,\s*(?:and\s+|then\s+)?|\s+(?:and|then)\s+)(?:make|change|set|add|remove|drop|take|use|switch|turn|"
    r"cut|increase|reduce|shorten|lengthen|extend|put|give|include|for\s+(?:u\d|under))\b"
)
_ITEM_ADDED = tuple(
    (
        re.compile(
            r"\b(?:add|include|insert|put in|plus|with|and|also)\s+"
            r"(?:a|an|one|another|one more|a new|a further|an extra|a harder|some)\s+"
            rf"(?:{kind})\b(?!-)(?P<detail>(?:(?!{_NEXT_INSTRUCTION})[^.;!?\n])*)",
            re.I,
        ),
        field,
    )
    for kind, field in _ITEM_FIELDS
)
_ITEM_TARGET = re.compile(
    r"^(?:to|for|in|into|on)\s+(?:the|this|that|my|our)?\s*(?:drill|it|session|exercise)\b", re.I
)
_ITEM_VERB_3RD = re.compile(
    r"^(?:that|which)\s+(add|use|limit|make|put|bring|include|remove|allow|force|require|give|"
    r"let)s\b",
    re.I,
)


@dataclass(frozen=True)
class DrillRequest:
    """What a coach's sentence says about a drill; None (or empty) where it says nothing."""

    sport: str | None = None  # named, or implied by a skill word of one sport ("layups")
    age_group: str | None = None
    players: int | None = None
    duration_min: int | None = None
    focus: str | None = None
    equipment_added: tuple[str, ...] = ()
    equipment_removed: tuple[str, ...] = ()
    mentions_drill: bool = False
    wants_new_drill: bool = False
    names_focus: bool = False  # the focus is what the sentence is about ("make it a rondo")
    # (list field, item): "add a progression with a defender" gives
    # ("progressions", "Add a defender."); the item is "" when the coach gave no words for it.
    items_added: tuple[tuple[str, str], ...] = ()

    @property
    def is_description(self) -> bool:
        """Enough to build a drill from: a sport or a focus, or 'drill' and some detail."""
        details = (self.age_group, self.players, self.duration_min, self.equipment_added)
        return bool(self.sport or self.focus or (self.mentions_drill and any(details)))

    @property
    def says_anything(self) -> bool:
        return bool(
            self.sport
            or self.age_group
            or self.players
            or self.duration_min
            or self.focus
            or self.equipment_added
            or self.equipment_removed
            or self.items_added
        )

    def with_team_of(self, drill: dict[str, Any]) -> DrillRequest:
        """This request with the sport, age group and players of `drill` where it names none.

        For "another drill" in a conversation that has one: the same team, most likely. A
        request for another sport takes nothing (another sport, another team).
        """
        if self.sport and self.sport != (drill.get("sport") or None):
            return self
        return replace(
            self,
            sport=self.sport or drill.get("sport") or None,
            age_group=self.age_group or drill.get("age_group") or None,
            players=self.players or drill.get("players") or None,
        )


def _first_match(text: str, vocabulary: tuple[tuple[str, str], ...]) -> str | None:
    best: tuple[int, str] | None = None
    for pattern, name in vocabulary:
        found = re.search(rf"\b(?:{pattern})\b", text, re.I)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), name)
    return best[1] if best else None


@dataclass(frozen=True)
class _SkillWord:
    focus: str
    start: int
    end: int
    rank: int  # of two words at the same place and length, the lower rank wins
    implies: str | None  # the sport a word of another sport's table implies


def _skill_words(text: str, words: FocusWords, rank: int, implies: str | None) -> list[_SkillWord]:
    found = []
    for pattern, focus in words:
        match = re.search(rf"\b(?:{pattern})\b", text, re.I)
        if match:
            found.append(_SkillWord(focus, match.start(), match.end(), rank, implies))
    return found


def _skill_word(text: str, named_sport: str | None, current_sport: str | None) -> _SkillWord | None:
    """The skill word that gives the focus: the first in the text, the longest of those that
    start together, a sport's own word before a general one.

    The sport named, else the drill's sport, reads its own words first. Unless a sport is
    named, every other sport's words count too, after the general ones, and a word found only
    there implies its sport ("a layup drill" is basketball).
    """
    own = plans_of_sport(named_sport or current_sport)
    found = [w for rank, t in enumerate(own) for w in _skill_words(text, t.focus_words, rank, None)]
    found += _skill_words(text, GENERAL_FOCUS_WORDS, len(own), None)
    if not named_sport:
        others = [table for table in SPORT_PLANS if table not in own]
        found += [
            word
            for rank, table in enumerate(others, len(own) + 1)
            for word in _skill_words(text, table.focus_words, rank, table.sports[0])
        ]
    return min(found, key=lambda w: (w.start, w.start - w.end, w.rank), default=None)


def _names_focus(text: str, word: _SkillWord) -> bool:
    return bool(_FOCUS_BEFORE.search(text[: word.start]) or _FOCUS_AFTER.search(text[word.end :]))


def _age_group(text: str) -> str | None:
    patterns: tuple[tuple[str, Any], ...] = (
        (r"\bu[- ]?(\d{1,2})s?\b", lambda m: f"U{int(m[1])}"),
        (r"\bunder[- ]?(\d{1,2})s?\b", lambda m: f"U{int(m[1])}"),
        (r"\b(\d{1,2})[- ]?(?:year|yr)[- ]?olds?\b", lambda m: f"{int(m[1])}-year-olds"),
        (r"\b(?:adults?|seniors?|men'?s|women'?s)\b", lambda m: "Adults"),
        (r"\b(?:veterans|masters)\b", lambda m: "Masters"),
        (r"\bhigh[- ]school\b", lambda m: "High school"),
        (r"\b(?:college|university)\b", lambda m: "College"),
    )
    for pattern, make in patterns:
        found = re.search(pattern, text, re.I)
        if found:
            return make(found)
    return None


def _players(text: str) -> int | None:
    found = re.search(
        r"\b(\d{1,3})\s*(?:players?|kids|athletes|children|girls|boys|swimmers|runners|"
        r"people|participants)\b",
        text,
        re.I,
    )
    if found:
        return int(found[1])
    # "5v5" is ten players; a "1v1 drill" is a skill for a whole squad, not a count.
    for versus in re.finditer(r"\b(\d{1,2})\s*(?:v|vs\.?|versus|on)\s*(\d{1,2})\b", text, re.I):
        if (versus[1], versus[2]) != ("1", "1"):
            return int(versus[1]) + int(versus[2])
    return None


def _duration_min(text: str) -> int | None:
    found = re.search(r"\b(\d{1,3})[- ]?(?:minutes?|mins?)\b", text, re.I)
    if found:
        return int(found[1])
    hours = re.search(r"\b(\d{1,2}(?:\.\d+)?)[- ]?(?:hours?|hrs?)\b", text, re.I)
    if hours:
        return round(float(hours[1]) * 60)
    if re.search(r"\bhalf an hour\b", text, re.I):
        return 30
    if re.search(r"\b(?:an|one) hour\b", text, re.I):
        return 60
    return None


def _equipment(text: str) -> tuple[list[str], list[str]]:
    """Equipment the text names, split into (added, removed), in the order written."""
    found: list[tuple[int, str, bool]] = []
    taken: list[tuple[int, int]] = []
    for pattern, name in _EQUIPMENT:
        for match in re.finditer(rf"\b(?:{pattern})\b", text, re.I):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue  # already part of a longer name ("medicine balls")
            taken.append((match.start(), match.end()))
            before = text[max(0, match.start() - 30) : match.start()]
            removed = re.search(
                rf"\b{_WORDS_BEFORE_REMOVAL}\s+(?:the\s+|any\s+)?(?:\w+\s+)?$", before, re.I
            )
            found.append((match.start(), name, bool(removed)))
    added: list[str] = []
    removed_names: list[str] = []
    for _, name, removed in sorted(found):
        target = removed_names if removed else added
        if name not in target:
            target.append(name)
    return added, removed_names


def _item_text(detail: str) -> str:
    """The coach's words for a list item as a sentence: "with a defender" -> "Add a defender."."""
    text = " ".join(detail.split()).strip(" :;,-–—")
    text = _ITEM_TARGET.sub("", text).strip(" :;,-–—")
    text = _ITEM_VERB_3RD.sub(lambda m: m[1], text)
    text = re.sub(r"^(?:where|in which|so that|so|that|which|to)\s+", "", text, flags=re.I)
    text = re.sub(r"^with\s+", "add ", text, flags=re.I)
    text = re.sub(r"^using\s+", "use ", text, flags=re.I)
    if not text:
        return ""
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _items_added(text: str) -> tuple[list[tuple[str, str]], str]:
    """The list items a sentence adds, in order, and the sentence without them.

    The item's own words are left out of the rest: "add a progression with a defender" adds
    a progression, it does not make the drill about defending.
    """
    found: list[tuple[int, int, str, str]] = []
    for pattern, field in _ITEM_ADDED:
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end, *_ in found):
                continue
            found.append((match.start(), match.end(), field, _item_text(match["detail"])))
    rest = text
    for start, end, *_ in sorted(found, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    return [(field, item) for _, _, field, item in sorted(found)], rest


def parse_drill_request(text: str, *, current_sport: str | None = None) -> DrillRequest:
    """Read the drill details a coach's sentence gives (see DrillRequest).

    `current_sport` is the sport of the drill the conversation already has, if any: its skill
    words are read first when the sentence names no sport.
    """
    items, facts = _items_added(text)
    added, removed = _equipment(facts)
    # A sport word inside an equipment name ("tennis balls") is equipment, not the sport.
    without_equipment = re.sub(r"\btennis balls?\b|\bhockey sticks\b", " ", facts, flags=re.I)
    named_sport = _first_match(without_equipment, _SPORTS)
    skill = _skill_word(facts, named_sport, current_sport)
    return DrillRequest(
        sport=named_sport or (skill.implies if skill else None),
        age_group=_age_group(facts),
        players=_players(facts),
        duration_min=_duration_min(facts),
        focus=skill.focus if skill else None,
        equipment_added=tuple(added),
        equipment_removed=tuple(removed),
        mentions_drill=bool(_MENTIONS_DRILL.search(facts)),
        wants_new_drill=bool(_NEW_DRILL.search(facts)),
        names_focus=bool(skill and _names_focus(facts, skill)),
        items_added=tuple(items),
    )
