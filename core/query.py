"""The search box's language: words, "phrases", OR and -exclusions, and the filter operators.

One lexer reads both. `parse_query` turns any string into the full-text part
(DESIGN.md, "Search semantics"); `parse_history_query` reads the same string
with the operators of the History page's box (`tag:u12`, `kind:drill`,
`tool:calculator`, `is:pinned`, `is:archived`, `is:all`, `after:2026-10-01`,
`before:2026-11-01`, `role:user`) applied to the filter the widgets built, so
an operator and its widget mean exactly the same `SessionFilter`.

Neither ever raises: what cannot be understood is dropped, and the History
parser says so in one sentence per thing (`HistoryQuery.notes`).

What counts as an operator attempt: a run of letters, a colon, then a value
that starts with a letter, a digit or a quote (or no value at all before a
space or the end). So `http://x` and `C:\\drills` stay words. An unknown name
with a value (`foo:bar`) is searched as words, as `parse_query` always read
it, with a note; an unknown name with nothing after it (`Agenda: rondo`) is
plain prose and passes without a note. Known operators never reach the words.
Operators cannot be negated, except `-is:pinned` (not pinned) and
`-is:archived` (unarchived only, the default); any other `-name:value` is
ignored with a note.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from core.errors import ValidationError
from core.models import SESSION_KINDS
from core.session_list import MAX_TAGS, SessionFilter, clean_tag

# Longer input is cut here and terms past MAX_TERMS are ignored: a pasted
# page of text must not turn into a query with thousands of operators.
MAX_QUERY_CHARS = 1_000
MAX_TERMS = 24

# PostgreSQL's English stop words, copied verbatim from
# /usr/share/postgresql/15/tsearch_data/english.stop (the list the 'english'
# configuration uses). FTS5 has no stop words, so the parser drops these for
# both databases and a query means the same thing on each.
_ENGLISH_STOP_WORDS = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him
    his himself she her hers herself it its itself they them their theirs themselves
    what which who whom this that these those am is are was were be been being have
    has had having do does did doing a an the and but if or because as until while
    of at by for with about against between into through during before after above
    below to from up down in out on off over under again further then once here
    there when where why how all any both each few more most other some such no nor
    not only own same so than too very s t can will just don should now
"""
STOP_WORDS = frozenset(_ENGLISH_STOP_WORDS.split())

# A token is a run of letters and digits, as FTS5's unicode61 tokenizer cuts
# text (everything else separates tokens).
_TOKEN = re.compile(r"[^\W_]+")
# One lexeme of the full-text part: an optional leading "-" (exclusion) then
# either a quoted phrase (the closing quote may be missing) or a bare word.
_WORD_LEXEME = r'(?P<minus>-(?=\S))?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))'
# An operator: letters and a colon, then a quoted value, or a value starting
# with a letter or digit, or nothing before a space or the end. It ends where
# a word lexeme would end, so reading its text as words again gives exactly
# the lexemes the word-only lexer would have given.
_OPERATOR_LEXEME = (
    r'(?P<operator>(?P<negated>-)?(?P<name>[^\W\d_]+):(?:"(?P<quoted>[^"]*)"?'
    r'|(?P<value>[^\W_][^\s"]*)?(?=[\s"]|$)))'
)
_LEXEME = re.compile(f"{_OPERATOR_LEXEME}|{_WORD_LEXEME}")
_WORDS_ONLY = re.compile(_WORD_LEXEME)


@dataclass(frozen=True)
class Term:
    """A word or phrase of the query.

    `text` is what the person typed (PostgreSQL's own parser reads it, so
    "3.5" or "3-on-3" are cut the way stored text was cut); `tokens` are its
    lower-cased letter-and-digit tokens in order, stop words included, because
    their positions matter inside a phrase.
    """

    text: str
    tokens: tuple[str, ...]

    @property
    def words(self) -> tuple[str, ...]:
        """The tokens that are searched for: stop words left out."""
        return tuple(token for token in self.tokens if token not in STOP_WORDS)


@dataclass(frozen=True)
class ParsedQuery:
    """A parsed query: an AND of OR groups, minus the excluded terms.

    Every group in `required` must match (any one term of a group will do);
    no term in `excluded` may.
    """

    required: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing positive is left to search for; such a query finds nothing."""
        return not self.required


def _clean_query(text: Any) -> str:
    # NUL and lone surrogates cannot be sent to either database; everything
    # else a person can type goes through as a bound parameter.
    if not isinstance(text, str):
        return ""
    text = text[:MAX_QUERY_CHARS]
    return "".join(ch for ch in text if ch != "\x00" and unicodedata.category(ch) != "Cs")


def _word_lexemes(text: str) -> Iterator[re.Match[str]]:
    """The lexer with operators read as words: what plain full-text search sees."""
    for match in _LEXEME.finditer(text):
        if match.group("operator") is None:
            yield match
        else:
            yield from _WORDS_ONLY.finditer(match.group())


def parse_query(text: str) -> ParsedQuery:
    """Parse any string into a ParsedQuery; never raises."""
    groups: list[list[Term | None]] = []
    excluded: list[Term] = []
    pending_or = False
    after_positive = False  # whether the last term was a positive one (an OR's left side)
    terms_seen = 0
    for match in _word_lexemes(_clean_query(text)):
        phrase, word = match.group("phrase"), match.group("word")
        if word == "OR" and not match.group("minus"):
            # Only joins two positive neighbours; a dangling OR is ignored.
            pending_or = after_positive
            continue
        if terms_seen == MAX_TERMS:
            break
        terms_seen += 1
        raw = phrase if phrase is not None else word
        tokens = tuple(token.lower() for token in _TOKEN.findall(raw))
        term = Term(text=raw.strip(), tokens=tokens)
        # A term with no word left (stop words, punctuation) still holds its
        # place, so `drill the OR game` means drill AND game, as in
        # PostgreSQL's websearch_to_tsquery, not drill OR game.
        searched = term if term.words else None
        if match.group("minus"):
            if searched is not None:
                excluded.append(searched)
        elif pending_or:
            groups[-1].append(searched)
        else:
            groups.append([searched])
        after_positive = not match.group("minus")
        pending_or = False
    required = tuple(
        kept for kept in (tuple(t for t in group if t is not None) for group in groups) if kept
    )
    return ParsedQuery(required=required, excluded=tuple(excluded))


# ------------------------------------------------------ the History box

HISTORY_ROLES = ("user", "assistant")  # tool and system messages hold no searchable text
_EXAMPLES = {
    "tag": "tag:u12",
    "kind": "kind:drill",
    "tool": "tool:calculator",
    "is": "is:pinned",
    "after": "after:2026-10-01",
    "before": "before:2026-11-01",
    "role": "role:user",
}
# is:VALUE -> (SessionFilter field, its value, how describe() says it).
_IS_VALUES: dict[str, tuple[str, bool | None, str]] = {
    "pinned": ("pinned", True, "pinned"),
    "archived": ("archived", True, "archived only"),
    "all": ("archived", None, "archived included"),
}
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class HistoryQuery:
    """What the History page's search box said: the words, the filter, the role, and notes.

    `text` is the full-text part as text (for search_messages); `words` is
    parse_query(text). `filters` is the widgets' filter with the operators
    applied. `notes` holds one sentence per thing that was ignored or read
    differently; `understood` the operators as they were read, in order.
    """

    words: ParsedQuery
    text: str
    filters: SessionFilter
    role: str | None = None
    notes: tuple[str, ...] = ()
    understood: tuple[str, ...] = ()

    @property
    def searching(self) -> bool:
        """True when there are positive words (only then is there a full-text search)."""
        return not self.words.is_empty

    def describe(self) -> str:
        """What was understood, as plain text: "3 words, tag u12, after 1 Oct 2026"."""
        return ", ".join([_describe_words(self.words), *self.understood])


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _describe_words(words: ParsedQuery) -> str:
    if words.is_empty:
        return "no search words"
    terms = [term for group in words.required for term in group]
    # Word lexemes hold no whitespace, so a term with a space came from quotes.
    phrases = sum(1 for term in terms if any(ch.isspace() for ch in term.text))
    counts = [_plural(len(terms) - phrases, "word")] if len(terms) > phrases else []
    if phrases:
        counts.append(_plural(phrases, "phrase"))
    said = ", ".join(counts)
    if any(len(group) > 1 for group in words.required):
        said += " with OR"
    if words.excluded:
        said += f", excluding {len(words.excluded):,}"
    return said


def _day(value: str) -> date | None:
    found = _DATE.fullmatch(value)
    if found is None:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def _day_start(day: date, tz: tzinfo) -> datetime | None:
    """Midnight at the start of the coach's day, in UTC (None when it is out of range)."""
    try:
        return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _show_day(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


@dataclass
class _Reading:
    """The operators read so far; turned into a HistoryQuery at the end."""

    tz: tzinfo
    values: dict[str, Any] = field(default_factory=dict)  # SessionFilter field -> value
    tags: list[str] = field(default_factory=list)
    role: str | None = None
    days: dict[str, tuple[date, datetime]] = field(default_factory=dict)  # after/before
    notes: list[str] = field(default_factory=list)
    # What describe() says, by what it sets: a later value replaces an earlier one.
    understood: dict[str, str] = field(default_factory=dict)

    def note(self, sentence: str) -> None:
        if sentence not in self.notes:
            self.notes.append(sentence)

    def set(self, name: str, key: str, value: Any, shown: str) -> None:
        if key in self.values and self.values[key] != value:
            self.note(f"{name}: is given twice: the last one ({shown}) is used.")
        self.values[key] = value
        self.understood.pop(key, None)
        self.understood[key] = shown

    def operator(self, name: str, value: str, negated: bool) -> None:
        """Apply one known operator with a non-empty value."""
        lowered = value.strip().lower()
        if negated:
            if name == "is" and lowered in ("pinned", "archived"):
                self.set("is", lowered, False, f"not {lowered}")
            else:
                self.note(f"-{name}: is not supported (only words can be excluded): ignored.")
        elif name == "tag":
            self.tag(value)
        elif name == "kind":
            if lowered in SESSION_KINDS:
                self.set(name, "kind", lowered, f"kind {lowered}")
            else:
                self.note(f"kind: is {' or '.join(SESSION_KINDS)}, not {value}: ignored.")
        elif name == "tool":
            # Tool names are stored lower case (ours and the imported ones).
            self.set(name, "tool", lowered, f"tool {lowered}")
        elif name == "is":
            if lowered in _IS_VALUES:
                self.set(name, *_IS_VALUES[lowered])
            else:
                self.note(f"is: takes pinned, archived or all, not {value}: ignored.")
        elif name == "role":
            if lowered in HISTORY_ROLES:
                if self.role not in (None, lowered):
                    self.note(f"role: is given twice: the last one ({lowered}) is used.")
                self.role = lowered
                self.understood.pop("role", None)
                self.understood["role"] = f"role {lowered}"
            else:
                self.note(f"role: is {' or '.join(HISTORY_ROLES)}, not {value}: ignored.")
        else:  # after, before
            day = _day(lowered)
            start = None if day is None else _day_start(day, self.tz)
            if day is None or start is None:
                self.note(f"{value} is not a date (use YYYY-MM-DD).")
                return
            if name in self.days and self.days[name][0] != day:
                self.note(f"{name}: is given twice: the last one ({day}) is used.")
            self.days[name] = (day, start)

    def tag(self, value: str) -> None:
        try:
            tag = clean_tag(value)
        except ValidationError as exc:
            self.note(f"tag: {exc} Ignored.")
            return
        if not tag:
            self.note("tag: needs a value, as in tag:u12.")
        elif tag not in self.tags:
            self.tags.append(tag)
            self.understood[f"tag {tag}"] = f"tag {tag}"

    def dates(self, base: SessionFilter) -> dict[str, datetime | None]:
        """since/until from after:/before:, unless together with the widgets' they leave no day."""
        chosen: dict[str, datetime | None] = {}
        if "after" in self.days:
            chosen["since"] = self.days["after"][1]
        if "before" in self.days:
            chosen["until"] = self.days["before"][1]
        since = chosen.get("since", base.since)
        until = chosen.get("until", base.until)
        if chosen and since is not None and until is not None and until <= since:
            after = self.days["after"][0] if "after" in self.days else since.date()
            before = self.days["before"][0] if "before" in self.days else until.date()
            how = "the same day as" if after == before else "earlier than"
            self.note(f"before: {before} is {how} after: {after}: dates ignored.")
            return {}
        for name in ("after", "before"):
            if name in self.days:
                self.understood[name] = f"{name} {_show_day(self.days[name][0])}"
        return chosen


def parse_history_query(
    text: str, base: SessionFilter | None = None, *, tz: tzinfo = UTC
) -> HistoryQuery:
    """Read the History box: the words, and the operators applied to `base` (the widgets).

    Several tag: operators and the widgets' tags are all required; any other
    operator replaces the widget's value. after:/before: are the coach's days
    in `tz` (after: inclusive, before: exclusive), turned into UTC. Never raises.
    """
    base = base if base is not None else SessionFilter()
    reading = _Reading(tz=tz)
    if not isinstance(text, str):
        text = ""
    if len(text) > MAX_QUERY_CHARS:
        reading.note(f"Only the first {MAX_QUERY_CHARS:,} characters were read.")
    cleaned = _clean_query(text)
    pieces: list[str] = []  # the text with the known operators taken out
    done = 0
    for match in _LEXEME.finditer(cleaned):
        name = (match.group("name") or "").lower()
        if match.group("operator") is None:
            continue
        value = match.group("quoted")
        value = match.group("value") if value is None else value
        if name not in _EXAMPLES:
            if value:
                reading.note(f"Unknown operator {name}: searched as words.")
            continue  # searched as words, like any other text
        pieces.append(cleaned[done : match.start()])
        done = match.end()
        if value and value.strip():
            reading.operator(name, value, bool(match.group("negated")))
        else:
            reading.note(f"{name}: needs a value, as in {_EXAMPLES[name]}.")
    pieces.append(cleaned[done:])
    # A space where an operator was: its neighbours stay the lexemes they were.
    words_text = " ".join(" ".join(pieces).split())

    values = dict(reading.values)
    values.update(reading.dates(base))
    tags = list(dict.fromkeys([*base.tags, *reading.tags]))
    if len(tags) > MAX_TAGS:
        reading.note(f"At most {MAX_TAGS} tags can be combined: the rest are ignored.")
        tags = tags[:MAX_TAGS]
    filters = dataclasses.replace(base, tags=tuple(tags), **values)
    return HistoryQuery(
        words=parse_query(words_text),
        text=words_text,
        filters=filters,
        role=reading.role,
        notes=tuple(reading.notes),
        understood=tuple(reading.understood.values()),
    )
