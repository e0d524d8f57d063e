"""The drill library: a coach's drills filtered and paged in SQL, and drills as a practice plan."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, cast, exists, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB

from core.db import Database
from core.errors import NotFound, ValidationError
from core.markdown_export import drill_markdown
from core.models import ChatSession, Drill
from core.text import clean_text

if TYPE_CHECKING:
    from core.store import ConversationStore

DRILL_SORTS = ("updated", "title", "duration")
MAX_PAGE = 500
MAX_TEXT_CHARS = 500
MAX_CHOICE_CHARS = 200
MAX_NUMBER = 10_000
# The columns the text box searches; list columns are searched item by item.
_TEXT_COLUMNS = (Drill.title, Drill.objective, Drill.sport, Drill.setup)
_LIST_COLUMNS = (Drill.steps, Drill.equipment, Drill.tags)


@dataclass(frozen=True)
class DrillFilter:
    """What the library shows. Empty means "any"; ranges are inclusive, in players and minutes.

    Text matching is case-insensitive (on SQLite for ASCII letters only, as SQLite's lower()).
    """

    text: str | None = None  # every word in title, objective, sport, setup, steps, equipment, tags
    sports: tuple[str, ...] = ()  # any of these
    age_groups: tuple[str, ...] = ()  # any of these
    players_min: int | None = None
    players_max: int | None = None
    duration_min: int | None = None
    duration_max: int | None = None
    equipment: tuple[str, ...] = ()  # drills needing all of these items


@dataclass(frozen=True)
class DrillPage:
    items: list[Drill]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class DrillFacets:
    """The values the coach's drills hold, as options for the filter widgets."""

    sports: list[str]
    age_groups: list[str]
    equipment: list[str]
    players: tuple[int, int] | None  # (fewest, most) among drills that say
    duration: tuple[int, int] | None  # (shortest, longest) in minutes
    drills: int = 0  # how many drills the coach has in all


def _database(store_or_db: ConversationStore | Database) -> Database:
    return store_or_db if isinstance(store_or_db, Database) else store_or_db.db


# ------------------------------------------------------------------- filters


def _number(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"The {what} must be a whole number.")
    if not 0 <= value <= MAX_NUMBER:
        raise ValidationError(f"The {what} must be between 0 and {MAX_NUMBER:,}.")
    return value


def _choices(values: Iterable[str] | str, what: str) -> tuple[str, ...]:
    items = [values] if isinstance(values, str) else list(values or ())
    cleaned = (
        " ".join(clean_text(item, what=what, max_chars=MAX_CHOICE_CHARS, allow_empty=True).split())
        for item in items
    )
    # Matching ignores case, so "Soccer" and "soccer" are one choice.
    return tuple(dict.fromkeys(item.lower() for item in cleaned if item))


def check_filter(filters: DrillFilter) -> DrillFilter:
    """The filter with its text trimmed and lower-cased; ValidationError for one that is wrong."""
    text = clean_text(
        filters.text or "", what="search text", max_chars=MAX_TEXT_CHARS, allow_empty=True
    )
    checked = replace(
        filters,
        text=" ".join(text.lower().split()) or None,
        sports=_choices(filters.sports, "sport"),
        age_groups=_choices(filters.age_groups, "age group"),
        equipment=_choices(filters.equipment, "equipment item"),
        players_min=_number(filters.players_min, "smallest number of players"),
        players_max=_number(filters.players_max, "largest number of players"),
        duration_min=_number(filters.duration_min, "shortest duration"),
        duration_max=_number(filters.duration_max, "longest duration"),
    )
    for low, high, what in (
        (checked.players_min, checked.players_max, "number of players"),
        (checked.duration_min, checked.duration_max, "duration"),
    ):
        if low is not None and high is not None and low > high:
            raise ValidationError(
                f"The smallest {what} ({low}) is larger than the largest ({high})."
            )
    return checked


def _like(word: str) -> str:
    return "%" + re.sub(r"([%_\\])", r"\\\1", word) + "%"


def _list_items(dialect: str, column: Any):
    """The items of a JSON list column as a table with one `value` column (one per dialect)."""
    if dialect == "postgresql":
        # jsonb_array_elements_text fails on a non-array; one odd row must not break the page.
        array = case(
            (func.jsonb_typeof(column) == "array", column), else_=cast(literal("[]"), JSONB)
        )
        return func.jsonb_array_elements_text(array).table_valued("value")
    return func.json_each(column).table_valued("value")


def _has_item(dialect: str, column: Any, condition) -> Any:
    items = _list_items(dialect, column)
    return exists(select(1).select_from(items).where(condition(func.lower(items.c.value))))


def _conditions(dialect: str, user_id: int, filters: DrillFilter) -> list[Any]:
    conditions: list[Any] = [Drill.user_id == user_id]
    for word in (filters.text or "").split():
        pattern = _like(word)

        def matches(value, pattern=pattern):
            return value.like(pattern, escape="\\")

        conditions.append(
            or_(
                *(matches(func.lower(column)) for column in _TEXT_COLUMNS),
                *(_has_item(dialect, column, matches) for column in _LIST_COLUMNS),
            )
        )
    if filters.sports:
        conditions.append(func.lower(func.trim(Drill.sport)).in_(filters.sports))
    if filters.age_groups:
        conditions.append(func.lower(func.trim(Drill.age_group)).in_(filters.age_groups))
    for item in filters.equipment:
        conditions.append(
            _has_item(dialect, Drill.equipment, lambda value, item=item: func.trim(value) == item)
        )
    for column, low, high in (
        (Drill.players, filters.players_min, filters.players_max),
        (Drill.duration_min, filters.duration_min, filters.duration_max),
    ):
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    return conditions


_ORDER = {
    "updated": (Drill.updated_at.desc(),),
    "title": (func.lower(Drill.title).asc(),),
    # Shortest first; drills that give no duration go last.
    "duration": (Drill.duration_min.is_(None), Drill.duration_min.asc()),
}


def list_drill_page(
    store_or_db: ConversationStore | Database,
    user_id: int,
    filters: DrillFilter | None = None,
    *,
    sort: str = "updated",
    limit: int = 50,
    offset: int = 0,
) -> DrillPage:
    """One page of the coach's drills that pass the filter, and how many pass in all."""
    filters = check_filter(filters or DrillFilter())
    if sort not in DRILL_SORTS:
        raise ValidationError(f"Drills can be sorted by {', '.join(DRILL_SORTS)}, not {sort!r}.")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} drills.")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValidationError("The page offset must be a whole number, 0 or more.")
    db = _database(store_or_db)
    conditions = _conditions(db.dialect, user_id, filters)
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Drill).where(*conditions)) or 0
        items = list(
            session.scalars(
                select(Drill)
                .where(*conditions)
                .order_by(*_ORDER[sort], Drill.id)
                .limit(limit)
                .offset(offset)
            )
        )
    return DrillPage(items=items, total=total, offset=offset, limit=limit)


def _distinct_text(session, column: Any, user_id: int, items: Any = None) -> list[str]:
    """The distinct non-empty values, case-insensitively (one spelling shown for each)."""
    folded = func.lower(func.trim(column))
    query = select(func.min(func.trim(column))).select_from(Drill)
    if items is not None:
        query = query.join(items, true())
    rows = session.execute(query.where(Drill.user_id == user_id, folded != "").group_by(folded))
    return sorted((value for (value,) in rows), key=str.lower)


def drill_facets(store_or_db: ConversationStore | Database, user_id: int) -> DrillFacets:
    """Every sport, age group and equipment item of the coach's drills, and the number ranges."""
    db = _database(store_or_db)
    items = _list_items(db.dialect, Drill.equipment)
    with db.reading() as session:
        sports = _distinct_text(session, Drill.sport, user_id)
        age_groups = _distinct_text(session, Drill.age_group, user_id)
        equipment = _distinct_text(session, items.c.value, user_id, items)
        count, players_low, players_high, minutes_low, minutes_high = session.execute(
            select(
                func.count(),
                func.min(Drill.players),
                func.max(Drill.players),
                func.min(Drill.duration_min),
                func.max(Drill.duration_min),
            ).where(Drill.user_id == user_id)
        ).one()
    return DrillFacets(
        sports=sports,
        age_groups=age_groups,
        equipment=equipment,
        players=None if players_low is None else (players_low, players_high),
        duration=None if minutes_low is None else (minutes_low, minutes_high),
        drills=count,
    )


def drill_conversations(
    store_or_db: ConversationStore | Database, user_id: int, drill_id: str
) -> list[ChatSession]:
    """The conversations about a drill: the one it was built in and those linked to it."""
    db = _database(store_or_db)
    with db.reading() as session:
        drill = session.scalar(
            select(Drill).where(Drill.id == str(drill_id), Drill.user_id == user_id)
        )
        if drill is None:
            raise NotFound("That drill was not found.")
        linked = ChatSession.drill_id == drill.id
        if drill.source_session_id:
            linked = or_(linked, ChatSession.id == drill.source_session_id)
        return list(
            session.scalars(
                select(ChatSession)
                .where(ChatSession.user_id == user_id, linked)
                .order_by(
                    func.coalesce(ChatSession.last_message_at, ChatSession.created_at).desc(),
                    ChatSession.id,
                )
            )
        )


# ------------------------------------------------------------ practice plan

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>~#])")


def _inline(text: str) -> str:
    """Text shown as itself on one Markdown line (a title, an item), not as markup."""
    return _INLINE_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _demote_headings(markdown: str, levels: int = 1) -> str:
    """Push every heading outside code fences down a level, so a card nests under the plan."""
    lines, fence = [], None
    for line in markdown.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match is not None:
            # A backtick fence's info string cannot hold a backtick (CommonMark).
            if not (match.group(1)[0] == "`" and "`" in match.group(2)):
                fence = match.group(1)
        elif fence is not None:
            closes = (
                match is not None
                and match.group(1)[0] == fence[0]
                and len(match.group(1)) >= len(fence)
                and not match.group(2).strip()
            )
            if closes:
                fence = None
        else:
            heading = _HEADING.match(line)
            if heading is not None:
                hashes = "#" * min(6, len(heading.group(2)) + levels)
                line = heading.group(1) + hashes + line[heading.end() :]
        lines.append(line)
    return "\n".join(lines)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _equipment_union(drills: Sequence[Drill]) -> list[str]:
    seen: dict[str, str] = {}
    for drill in drills:
        for item in drill.equipment or []:
            name = " ".join(str(item).split())
            if name:
                seen.setdefault(name.lower(), name)
    return list(seen.values())


def practice_plan_markdown(drills: Sequence[Drill], *, title: str = "Practice plan") -> str:
    """The drills in this order as one session plan: a timed outline, the equipment, each card.

    A drill with no duration counts as 0 minutes and is marked "(no duration)".
    """
    total = sum(drill.duration_min or 0 for drill in drills)
    count = f"{len(drills)} drill{'' if len(drills) == 1 else 's'}"
    parts = [
        f"# {_inline(title) or 'Practice plan'} · {total} min\n",
        f"\n{count}, {total} minutes in all.\n",
    ]
    outline, cards, start = [], [], 0
    for number, drill in enumerate(drills, start=1):
        minutes = drill.duration_min or 0
        span = f"{_clock(start)}-{_clock(start + minutes)}"
        length = f"{minutes} min" if drill.duration_min else "(no duration)"
        start += minutes
        first_line, _, body = drill_markdown(drill).partition("\n")
        # drill_markdown's first line is "# <escaped title>"; the plan numbers and times it.
        heading = first_line.removeprefix("# ")
        outline.append(f"{number}. {span} · {heading} · {length}\n")
        cards.append(
            f"\n---\n\n## {number}. {heading} · {span} · {length}\n{_demote_headings(body)}"
        )
    if outline:
        parts.append("\n" + "".join(outline))
    equipment = _equipment_union(drills)
    if equipment:
        parts.append("\n## Equipment\n\n" + "".join(f"- {_inline(item)}\n" for item in equipment))
    parts.extend(cards)
    return "".join(parts)


def _file_name(title: str, taken: set[str]) -> str:
    base = re.sub(r"[\W_]+", "-", title.lower()).strip("-")[:60].rstrip("-") or "drill"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    taken.add(name)
    return f"{name}.md"


def drills_markdown_zip(drills: Sequence[Drill]) -> bytes:
    """A zip with one Markdown card per drill, named after its title."""
    buffer, taken = io.BytesIO(), set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for drill in drills:
            bundle.writestr(_file_name(drill.title, taken), drill_markdown(drill))
    return buffer.getvalue()
