"""The drill domain: drill fields, the drill tools and the drill system prompt.

Reading a coach's description ("U12 soccer passing drill for 10 players, 20 minutes, cones and
balls") is core.drill_requests; turning it into drill fields is core.drill_builder, with the
text of each plan in core.drill_plans. Their public names are importable from here too.
"""

from __future__ import annotations

import json
from typing import Any

from core.drill_builder import (
    describe_drill,
    drill_changes,
    drill_from_request,
    drill_title,
    generated_content,
)
from core.drill_requests import DrillRequest, parse_drill_request
from core.errors import ValidationError
from core.models import DRILL_INT_FIELDS, DRILL_LIST_FIELDS, DRILL_TEXT_FIELDS, Drill
from core.tools import Tool, ToolContext

__all__ = [
    "DRILL_SYSTEM_PROMPT",
    "DRILL_TOOLS",
    "SESSION_TITLE_PREFIX",
    "DrillRequest",
    "describe_drill",
    "drill_changes",
    "drill_from_request",
    "drill_system_prompt",
    "drill_title",
    "drill_to_dict",
    "generated_content",
    "parse_drill_request",
]

SESSION_TITLE_PREFIX = "Drill Creation - "

DRILL_SYSTEM_PROMPT = """\
You are Huddle's drill builder, helping a sports coach design training drills.

Turn the coach's description into a practical drill and save it with the create_drill tool:
a short title, the sport, the objective, the age group, the number of players, the duration
in minutes, the equipment, the setup (area, groups, where the equipment goes), numbered steps,
coaching points and progressions. Ask one short question only when something essential is
missing; otherwise choose sensible values and say which ones you chose.

When the coach changes something about the drill of this conversation, call update_drill with
only the fields that change (lists are replaced whole, so send the full new list). Use
get_drill to read a drill and search_drills to find the coach's other drills. After saving,
answer with a short, readable summary of the drill in Markdown. Keep safety and the age group
in mind, and keep the coach's own words for things they named."""


# ------------------------------------------------------------------ fields


def drill_to_dict(drill: Drill) -> dict[str, Any]:
    """A drill as plain JSON-ready data (what the drill tools return to the model)."""
    return {
        "id": drill.id,
        **{name: getattr(drill, name) for name in DRILL_TEXT_FIELDS},
        **{name: getattr(drill, name) for name in DRILL_INT_FIELDS},
        **{name: list(getattr(drill, name) or []) for name in DRILL_LIST_FIELDS},
        "updated_at": drill.updated_at.isoformat() if drill.updated_at else None,
    }


def drill_system_prompt(drill: Drill | None) -> str:
    """The drill builder prompt, naming the drill this session is linked to (if any)."""
    if drill is None:
        return DRILL_SYSTEM_PROMPT + "\n\nThis conversation has no drill yet."
    current = json.dumps(drill_to_dict(drill), ensure_ascii=False)
    return (
        f"{DRILL_SYSTEM_PROMPT}\n\nThis conversation is linked to the drill below; changes the "
        f"coach asks for apply to it (drill_id {drill.id}).\n{current}"
    )


_LIST_OF_TEXT = {"type": "array", "items": {"type": "string"}}
_FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "title": {"type": "string", "description": "Short name, e.g. 'U12 Passing Triangles'"},
    "sport": {"type": "string", "description": "e.g. soccer, basketball"},
    "objective": {"type": "string", "description": "What the drill trains"},
    "age_group": {"type": "string", "description": "e.g. U12, U16, Adults"},
    "players": {"type": "integer", "description": "Number of players"},
    "duration_min": {"type": "integer", "description": "Duration in minutes"},
    "equipment": {**_LIST_OF_TEXT, "description": "e.g. ['cones', 'balls']"},
    "setup": {"type": "string", "description": "Area, groups and where things go"},
    "steps": {**_LIST_OF_TEXT, "description": "How the drill runs, in order"},
    "coaching_points": _LIST_OF_TEXT,
    "progressions": {**_LIST_OF_TEXT, "description": "Ways to make it harder or easier"},
    "tags": _LIST_OF_TEXT,
}
_DRILL_ID = {"type": "string", "description": "Defaults to the drill of this conversation"}


def _drill_fields(tool_input: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in tool_input.items() if name in _FIELD_SCHEMAS}


def _session_drill_id(context: ToolContext, tool_input: dict[str, Any]) -> str:
    drill_id = tool_input.get("drill_id")
    if drill_id:
        return str(drill_id)
    linked = context.store.get_session(context.user_id, context.session_id).drill_id
    if linked is None:
        raise ValidationError("This conversation has no drill yet; create one with create_drill.")
    return linked


def _link_and_title(context: ToolContext, drill: Drill) -> None:
    context.store.link_drill(context.user_id, context.session_id, drill.id)
    # set_auto_title leaves a title the coach chose alone.
    context.store.set_auto_title(
        context.user_id, context.session_id, SESSION_TITLE_PREFIX + drill.title
    )


def _create_drill(context: ToolContext, tool_input: dict[str, Any]) -> dict[str, Any]:
    drill = context.store.create_drill(
        context.user_id, source_session_id=context.session_id, **_drill_fields(tool_input)
    )
    _link_and_title(context, drill)
    return drill_to_dict(drill)


def _update_drill(context: ToolContext, tool_input: dict[str, Any]) -> dict[str, Any]:
    fields = _drill_fields(tool_input)
    if not fields:
        raise ValidationError("Name at least one drill field to change.")
    drill_id = _session_drill_id(context, tool_input)
    drill = context.store.update_drill(context.user_id, drill_id, **fields)
    if "title" in fields:
        session = context.store.get_session(context.user_id, context.session_id)
        if session.drill_id == drill.id:
            _link_and_title(context, drill)
    return drill_to_dict(drill)


def _get_drill(context: ToolContext, tool_input: dict[str, Any]) -> dict[str, Any]:
    return drill_to_dict(
        context.store.get_drill(context.user_id, _session_drill_id(context, tool_input))
    )


def _search_drills(context: ToolContext, tool_input: dict[str, Any]) -> dict[str, Any]:
    drills = context.store.list_drills(
        context.user_id,
        query=tool_input.get("query"),
        sport=tool_input.get("sport"),
        limit=max(1, min(int(tool_input.get("limit") or 10), 50)),
    )
    return {
        "drills": [
            {
                "id": d.id,
                "title": d.title,
                "sport": d.sport,
                "age_group": d.age_group,
                "objective": d.objective,
                "players": d.players,
                "duration_min": d.duration_min,
            }
            for d in drills
        ]
    }


CREATE_DRILL = Tool(
    name="create_drill",
    description=(
        "Save a new drill for the coach and link it to this conversation. Fill every field "
        "you can; title is required."
    ),
    input_schema={"type": "object", "properties": _FIELD_SCHEMAS, "required": ["title"]},
    handler=_create_drill,
)
UPDATE_DRILL = Tool(
    name="update_drill",
    description=(
        "Change fields of a saved drill (by default the drill of this conversation). Send only "
        "the fields that change; a list field is replaced by the list you send."
    ),
    input_schema={
        "type": "object",
        "properties": {"drill_id": _DRILL_ID, **_FIELD_SCHEMAS},
    },
    handler=_update_drill,
)
GET_DRILL = Tool(
    name="get_drill",
    description="Read a saved drill (by default the drill of this conversation).",
    input_schema={"type": "object", "properties": {"drill_id": _DRILL_ID}},
    handler=_get_drill,
)
SEARCH_DRILLS = Tool(
    name="search_drills",
    description="Find the coach's saved drills by words in the title, objective or sport.",
    input_schema={
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "sport": {"type": "string"},
            "limit": {"type": "integer", "description": "at most 50, default 10"},
        },
    },
    handler=_search_drills,
)

DRILL_TOOLS: tuple[Tool, ...] = (CREATE_DRILL, UPDATE_DRILL, GET_DRILL, SEARCH_DRILLS)
