"""Drill fields from a coach's request: a new drill, the changes to one, and a drill as a reply.

The text of a generated drill comes from the plan for its sport and focus (core.drill_plans);
the request comes from core.drill_requests. The offline model calls the drill tools with these.
"""

from __future__ import annotations

import re
from typing import Any

from core.drill_plans import GENERAL_PLAN, Plan, find_plan, plan_for
from core.drill_requests import DrillRequest

_GENERATED_LISTS = ("steps", "coaching_points", "progressions")


def _groups_phrase(players: int | None) -> str:
    if not players:
        return "split the players into groups of three or four, one ball per group"
    groups = max(1, players // 4) if players >= 6 else 1
    if groups == 1:
        return f"all {players} players work as one group with a ball"
    return f"split the {players} players into {groups} groups, one ball per group"


def _setup(plan: Plan, players: int | None) -> str:
    side = max(15, min(40, 5 * round((players or 10) * 2 / 5)))
    squad = f"the {players} players" if players else "the players"
    return plan.setup.format(side=side, groups=_groups_phrase(players), squad=squad)


def drill_title(sport: str | None, age_group: str | None, focus: str | None) -> str:
    """A plain title from the main facts, e.g. 'U12 Soccer Passing Drill'."""
    name = (plan_for(sport, focus).name or focus.title()) if focus else ""
    words = [age_group or "", (sport or "").title(), name, "Drill"]
    title = " ".join(word for word in words if word)
    return title if title != "Drill" else "Training Drill"


def generated_content(
    focus: str | None, players: int | None, sport: str | None = None
) -> dict[str, Any]:
    """Objective, setup, steps, coaching points and progressions for a focus in a sport."""
    plan = plan_for(sport, focus)
    return {
        "objective": plan.objective,
        "setup": _setup(plan, players),
        **{name: list(getattr(plan, name)) for name in _GENERATED_LISTS},
    }


def _with_items(
    request: DrillRequest, drill: dict[str, Any], plan: Plan | None
) -> dict[str, list[str]]:
    """The list fields after adding the items the request asks for (only those that change)."""
    lists: dict[str, list[str]] = {}
    for field, item in request.items_added:
        items = lists.get(field, list(drill.get(field) or []))
        if not item and field == "steps":
            continue  # a step needs the coach's words; a stock step would land out of order
        if not item:  # "add a progression": the next idea of its plan, then general ones
            ideas = [*getattr(plan or GENERAL_PLAN, field), *getattr(GENERAL_PLAN, field)]
            item = next((idea for idea in ideas if idea not in items), "")
        if item and item not in items:
            lists[field] = [*items, item]
    return lists


def drill_from_request(request: DrillRequest) -> dict[str, Any]:
    """Every create_drill field for a described drill, generated parts included."""
    content = generated_content(request.focus, request.players, request.sport)
    content.update(_with_items(request, content, plan_for(request.sport, request.focus)))
    fields: dict[str, Any] = {
        "title": drill_title(request.sport, request.age_group, request.focus),
        "sport": request.sport or "",
        "age_group": request.age_group or "",
        "players": request.players,
        "duration_min": request.duration_min,
        "equipment": list(request.equipment_added),
        **content,
        "tags": [tag for tag in (request.sport, request.focus, request.age_group) if tag],
    }
    return {name: value for name, value in fields.items() if value not in (None, "")}


def drill_changes(request: DrillRequest, drill: dict[str, Any]) -> dict[str, Any]:
    """The update_drill fields a follow-up asks for, given the drill as it is now.

    Generated text follows the facts it was made from: a new focus or a sport with its own plan
    rewrites it, a new number of players redraws the setup, and a generated title follows the
    facts it names. Text a person wrote is left alone.
    """
    changes: dict[str, Any] = {}
    for name in ("sport", "age_group", "players", "duration_min"):
        value = getattr(request, name)
        if value is not None and value != drill.get(name):
            changes[name] = value
    equipment = list(drill.get("equipment") or [])
    new_equipment = [item for item in equipment if item not in request.equipment_removed]
    new_equipment += [item for item in request.equipment_added if item not in new_equipment]
    if new_equipment != equipment:
        changes["equipment"] = new_equipment

    sport = changes.get("sport", drill.get("sport")) or None
    players = changes.get("players", drill.get("players"))
    generated = find_plan(drill.get("objective"))
    old_focus, old_plan = generated if generated else (None, None)
    # In a follow-up a skill word changes the focus only when the sentence is about it.
    new_focus = request.focus if request.names_focus and request.focus != old_focus else None
    focus = new_focus or old_focus
    plan = plan_for(sport, focus) if generated or new_focus else None
    if plan is GENERAL_PLAN:
        focus = None  # a skill of the old sport that the new one has no plan for
    rewritten = plan is not None and (
        new_focus is not None or ("sport" in changes and plan is not old_plan)
    )
    if rewritten:
        changes.update(generated_content(focus, players, sport))
    elif (
        old_plan is not None
        and "players" in changes
        and drill.get("setup") == _setup(old_plan, drill.get("players"))
    ):
        changes["setup"] = _setup(old_plan, players)
    changes.update(_with_items(request, {**drill, **changes}, plan))

    old_facts = {drill.get("sport"), drill.get("age_group"), old_focus} - {None, ""}
    new_facts = [sport, changes.get("age_group", drill.get("age_group")), focus]
    tags = [tag for tag in drill.get("tags") or [] if tag not in old_facts]
    tags += [fact for fact in new_facts if fact and fact not in tags]
    if tags != list(drill.get("tags") or []) and (
        rewritten or changes.keys() & {"sport", "age_group"}
    ):
        changes["tags"] = tags  # the facts a generated drill is tagged with follow the change
    old_title = drill_title(drill.get("sport"), drill.get("age_group"), old_focus)
    if drill.get("title") == old_title:  # a generated title follows the facts it names
        title = drill_title(sport, changes.get("age_group", drill.get("age_group")), focus)
        if title != old_title:
            changes["title"] = title
    return changes


_MARKUP = re.compile(r"([\\`*_\[\]<>~])")


def _plain(value: Any) -> str:
    """A drill's text shown as itself on one Markdown line, not as markup."""
    return _MARKUP.sub(r"\\\1", " ".join(str(value).split()))


def describe_drill(drill: dict[str, Any]) -> str:
    """A drill as Markdown for a reply: the title, then every field on its own line."""
    facts = [
        ("Sport", (drill.get("sport") or "").title()),
        ("Age group", drill.get("age_group")),
        ("Players", drill.get("players")),
        ("Duration", f"{drill['duration_min']} minutes" if drill.get("duration_min") else None),
        ("Equipment", ", ".join(drill.get("equipment") or [])),
        ("Objective", drill.get("objective")),
        ("Setup", drill.get("setup")),
    ]
    lines = [f"**{_plain(drill.get('title') or 'Drill')}**"]
    listed = [f"- **{name}:** {_plain(value)}" for name, value in facts if value]
    if listed:
        lines += ["", *listed]
    for heading, name, numbered in (
        ("Steps", "steps", True),
        ("Coaching points", "coaching_points", False),
        ("Progressions", "progressions", False),
    ):
        items = drill.get(name) or []
        if items:
            lines += ["", f"**{heading}**", ""]
            lines += [
                f"{i}. {_plain(item)}" if numbered else f"- {_plain(item)}"
                for i, item in enumerate(items, 1)
            ]
    return "\n".join(lines)
