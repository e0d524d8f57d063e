"""The drill domain: drill fields, the drill tools, the drill system prompt, and drill parsing.

The parsing half turns a coach's plain description ("U12 soccer passing drill for 10 players,
20 minutes, cones and balls") into drill fields; the offline model uses it so the drill page
works without a Claude key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from core.errors import ValidationError
from core.models import DRILL_INT_FIELDS, DRILL_LIST_FIELDS, DRILL_TEXT_FIELDS, Drill
from core.tools import Tool, ToolContext

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


# ------------------------------------------------------------------ parsing descriptions

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

_FOCUSES: tuple[tuple[str, str], ...] = (
    (r"first touch|receiving|ball control", "first touch"),
    (r"ball handling|dribbl\w*", "dribbling"),
    (r"pass\w*", "passing"),
    (r"shoot\w*|shots?|finishing|scoring", "shooting"),
    (r"defen\w*|tackling|marking|1v1 defending", "defending"),
    (r"possession|keep[- ]?away|rondos?", "possession"),
    (r"counter[- ]?attack\w*|transitions?", "transition"),
    (r"goalkeep\w*|keepers?|goalies?", "goalkeeping"),
    (r"conditioning|fitness|endurance|stamina", "conditioning"),
    (r"agility|footwork|speed|quickness|coordination", "agility"),
    (r"warm[- ]?ups?", "warm-up"),
    (r"communication|teamwork", "teamwork"),
)

_WORDS_BEFORE_REMOVAL = r"(?:without|remove|drop|no|minus|take away|lose|get rid of)"
_NEW_DRILL = re.compile(r"\b(?:new|another|different|second|separate)\s+drill\b", re.I)


@dataclass(frozen=True)
class DrillRequest:
    """What a coach's sentence says about a drill; None (or empty) where it says nothing."""

    sport: str | None = None
    age_group: str | None = None
    players: int | None = None
    duration_min: int | None = None
    focus: str | None = None
    equipment_added: tuple[str, ...] = ()
    equipment_removed: tuple[str, ...] = ()
    mentions_drill: bool = False
    wants_new_drill: bool = False

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
        )


def _first_match(text: str, vocabulary: tuple[tuple[str, str], ...]) -> str | None:
    best: tuple[int, str] | None = None
    for pattern, name in vocabulary:
        found = re.search(rf"\b(?:{pattern})\b", text, re.I)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), name)
    return best[1] if best else None


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
    versus = re.search(r"\b(\d{1,2})\s*(?:v|vs\.?|versus|on)\s*(\d{1,2})\b", text, re.I)
    if versus:
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


def parse_drill_request(text: str) -> DrillRequest:
    """Read the drill details a coach's sentence gives (see DrillRequest)."""
    added, removed = _equipment(text)
    # A sport word inside an equipment name ("tennis balls") is equipment, not the sport.
    without_equipment = re.sub(r"\btennis balls?\b|\bhockey sticks\b", " ", text, flags=re.I)
    return DrillRequest(
        sport=_first_match(without_equipment, _SPORTS),
        age_group=_age_group(text),
        players=_players(text),
        duration_min=_duration_min(text),
        focus=_first_match(text, _FOCUSES),
        equipment_added=tuple(added),
        equipment_removed=tuple(removed),
        mentions_drill=bool(
            re.search(r"\b(?:drills?|exercises?|sessions?|activity)\b", text, re.I)
        ),
        wants_new_drill=bool(_NEW_DRILL.search(text)),
    )


# ------------------------------------------------------------------ generating drills


@dataclass(frozen=True)
class _Plan:
    objective: str
    setup: str
    steps: tuple[str, ...]
    coaching_points: tuple[str, ...]
    progressions: tuple[str, ...]


_PLANS: dict[str, _Plan] = {
    "passing": _Plan(
        "Accurate, well-weighted passing and movement after the pass.",
        "Mark a {side} x {side} m square with a cone at each corner; {groups}.",
        (
            "Players pass around the square and follow their pass to the next cone.",
            "Switch direction on the coach's call; passes on the ground, two touches.",
            "Add a second ball so players must scan before receiving.",
            "Finish with a small game where a goal counts only after five passes.",
        ),
        (
            "Open the body to receive on the back foot.",
            "Pass with the inside of the foot, ankle locked.",
            "Weight the pass so a teammate can play it first time.",
            "Move after every pass; call for the ball.",
        ),
        (
            "Limit to one touch.",
            "Add a defender in the middle (rondo).",
            "Widen the square to demand longer passes; narrow it to make it easier.",
        ),
    ),
    "shooting": _Plan(
        "Shooting technique and composure in front of goal.",
        "Set up a goal with a keeper if available; lay a line of cones 16-20 m out; {groups}.",
        (
            "Players take a touch out of their feet and shoot at the target.",
            "Add a lay-off from a server before the shot.",
            "Shoot after a turn or a dribble around a cone.",
            "Finish with a small-sided game with bonus points for shots on target.",
        ),
        (
            "Head over the ball, strike through the middle.",
            "Pick a corner before shooting; accuracy before power.",
            "Follow every shot in for the rebound.",
        ),
        (
            "Add a chasing defender.",
            "Limit the time from receiving to shooting.",
            "Shoot with the weaker foot.",
        ),
    ),
    "dribbling": _Plan(
        "Close control, changes of direction and beating an opponent.",
        "Mark a {side} x {side} m area with cones scattered inside as gates; one ball each.",
        (
            "Players dribble freely, keeping the ball close.",
            "Dribble through as many gates as possible in one minute.",
            "On the whistle, change direction with a turn or a feint.",
            "Finish with 1v1 duels: dribble over the opponent's end line to score.",
        ),
        (
            "Small touches, ball within a step.",
            "Eyes up between touches to see space.",
            "Change of pace after a change of direction.",
        ),
        (
            "Use the weaker foot only.",
            "Add defenders who try to win the ball.",
            "Shrink the area to make it harder.",
        ),
    ),
    "defending": _Plan(
        "Defending one against one: approach, body shape and winning the ball.",
        "Mark {side} x 10 m channels with cones; pair the players, attacker against defender.",
        (
            "Defender passes to the attacker and closes them down quickly.",
            "Attacker tries to dribble over the end line; defender tries to win or block.",
            "Swap roles after every repetition.",
            "Finish with 2v2 in the channels, defending together.",
        ),
        (
            "Close down fast, slow down on arrival.",
            "Side-on stance, knees bent, show the attacker one way.",
            "Be patient: tackle when the ball is away from the attacker's feet.",
        ),
        (
            "Widen the channel to give the attacker more room.",
            "Add a second attacker (2v1).",
            "Give the defender a counter-attack goal when they win the ball.",
        ),
    ),
    "possession": _Plan(
        "Keeping the ball as a team under pressure.",
        "Mark a {side} x {side} m area; split the players into two teams with bibs.",
        (
            "One team keeps the ball while the other presses.",
            "Count consecutive passes; ten in a row scores a point.",
            "Swap roles every two minutes.",
            "Add neutral players on the edges to help the team in possession.",
        ),
        (
            "Make the pitch big when you have the ball.",
            "Move to create passing angles.",
            "Scan before receiving.",
        ),
        (
            "Limit touches.",
            "Take the neutral players away.",
            "Make the area smaller.",
        ),
    ),
    "first touch": _Plan(
        "Receiving the ball cleanly and setting up the next action.",
        "Pair the players about 10 m apart, one ball per pair, with a cone gate beside each.",
        (
            "Partner serves; the receiver controls with one touch and passes back.",
            "Receive through the cone gate to one side, then the other.",
            "Vary the service: along the ground, bouncing, in the air.",
            "Finish with a rondo where every receive must go forward.",
        ),
        (
            "Cushion the ball; relax the receiving surface.",
            "Take the first touch away from pressure.",
            "Check the shoulder before the ball arrives.",
        ),
        (
            "Add a passive, then an active defender.",
            "Serve harder and from further away.",
            "Use the weaker foot.",
        ),
    ),
    "transition": _Plan(
        "Reacting fast when the ball changes hands.",
        "Mark a {side} x {side} m area with a goal at each end; two teams with bibs.",
        (
            "Play a small-sided game.",
            "When the coach calls, the team without the ball gets a new ball to attack.",
            "Winning the ball and scoring within 10 seconds counts double.",
            "Rest and reset between rounds.",
        ),
        (
            "First thought after winning the ball: forward.",
            "Nearest player presses at once when the ball is lost.",
            "Support the ball carrier quickly.",
        ),
        (
            "Shorten the scoring window.",
            "Add a neutral player for the attacking side.",
            "Play overloads such as 4v3.",
        ),
    ),
    "goalkeeping": _Plan(
        "Goalkeeper handling, positioning and shot stopping.",
        "One goal with cones marking the six-yard box; a server with several balls.",
        (
            "Handling: catches at chest, waist and above the head.",
            "Low dives to each side from the knees, then standing.",
            "Shots from angles; the keeper adjusts position on each.",
            "Finish with crosses and shots in a small game.",
        ),
        (
            "Set position as the shot is struck.",
            "Hands behind the ball; W-shape for high catches.",
            "Attack the ball; recover quickly to the feet.",
        ),
        (
            "Add a second server for quick rebounds.",
            "Shoot from closer range.",
            "Add an attacker to challenge the keeper.",
        ),
    ),
    "conditioning": _Plan(
        "Game-related fitness with the ball.",
        "Mark a {side} x {side} m area with cones at each corner; {groups}.",
        (
            "Dynamic warm-up around the area.",
            "Intervals: 30 seconds of work, 30 seconds of rest, with a ball where possible.",
            "Relay races between the cones.",
            "Cool down with light jogging and stretches.",
        ),
        (
            "Quality of movement first, then speed.",
            "Encourage effort and recovery breathing.",
            "Keep water breaks regular.",
        ),
        (
            "Lengthen the work intervals.",
            "Shorten the rest.",
            "Add a ball to every station.",
        ),
    ),
    "agility": _Plan(
        "Footwork, balance and quick changes of direction.",
        "Lay out the ladders, hurdles or cones in lines about 10 m long; {groups}.",
        (
            "Footwork patterns through the ladder or cones: in-in-out-out, side steps.",
            "Zig-zag runs around the cones, planting the outside foot.",
            "Reaction starts: sprint to the cone the coach points at.",
            "Finish with a race that ends with a ball skill.",
        ),
        (
            "Stay on the balls of the feet.",
            "Low centre of gravity when changing direction.",
            "Arms drive the movement.",
        ),
        (
            "Add a ball.",
            "Make the reaction cue visual instead of spoken.",
            "Race against a partner.",
        ),
    ),
    "warm-up": _Plan(
        "Raise the heart rate and prepare the body for training.",
        "Mark a {side} x {side} m area with cones; everyone inside.",
        (
            "Light jog with changes of direction.",
            "Dynamic stretches: leg swings, hip openers, lunges.",
            "Short accelerations across the area.",
            "A quick ball game to finish.",
        ),
        (
            "Start easy and build up.",
            "Full range of movement in the stretches.",
            "Keep everyone moving.",
        ),
        (
            "Add a ball for each player.",
            "Turn the accelerations into races.",
            "Use the warm-up to preview the session's theme.",
        ),
    ),
    "teamwork": _Plan(
        "Communication and working together.",
        "Mark a {side} x {side} m area; {groups}.",
        (
            "Groups complete a passing pattern and must call the receiver's name.",
            "Silent round: only gestures allowed.",
            "Groups solve a task together, e.g. keep the ball off the ground.",
            "Finish with a small game where every player must touch the ball before a goal.",
        ),
        (
            "Talk early and clearly.",
            "Praise teammates' effort.",
            "Everyone has a role.",
        ),
        (
            "Add a time limit.",
            "Mix the groups.",
            "Add an opposing team.",
        ),
    ),
}
_GENERAL_PLAN = _Plan(
    "Core skills in a game-like setting.",
    "Mark a {side} x {side} m area with cones; {groups}.",
    (
        "Warm up with the ball.",
        "Technical practice of the skill in pairs or small groups.",
        "Opposed practice: add defenders.",
        "Finish with a small-sided game.",
    ),
    (
        "Keep everyone active; short queues.",
        "Demonstrate once, then let them play.",
        "Praise good decisions, not only good outcomes.",
    ),
    (
        "Add pressure or a time limit.",
        "Change the size of the area.",
        "Add conditions to the game.",
    ),
)


def _groups_phrase(players: int | None) -> str:
    if not players:
        return "split the players into groups of three or four, one ball per group"
    groups = max(1, players // 4) if players >= 6 else 1
    if groups == 1:
        return f"all {players} players work as one group with a ball"
    return f"split the {players} players into {groups} groups, one ball per group"


def drill_title(sport: str | None, age_group: str | None, focus: str | None) -> str:
    """A plain title from the main facts, e.g. 'U12 Soccer Passing Drill'."""
    words = [age_group or "", (sport or "").title(), (focus or "").title(), "Drill"]
    title = " ".join(word for word in words if word)
    return title if title != "Drill" else "Training Drill"


def generated_content(focus: str | None, players: int | None) -> dict[str, Any]:
    """Objective, setup, steps, coaching points and progressions for a focus."""
    plan = _PLANS.get(focus or "", _GENERAL_PLAN)
    side = max(15, min(40, 5 * round((players or 10) * 2 / 5)))
    return {
        "objective": plan.objective,
        "setup": plan.setup.format(side=side, groups=_groups_phrase(players)),
        "steps": list(plan.steps),
        "coaching_points": list(plan.coaching_points),
        "progressions": list(plan.progressions),
    }


def drill_from_request(request: DrillRequest) -> dict[str, Any]:
    """Every create_drill field for a described drill, generated parts included."""
    fields: dict[str, Any] = {
        "title": drill_title(request.sport, request.age_group, request.focus),
        "sport": request.sport or "",
        "age_group": request.age_group or "",
        "players": request.players,
        "duration_min": request.duration_min,
        "equipment": list(request.equipment_added),
        **generated_content(request.focus, request.players),
        "tags": [tag for tag in (request.sport, request.focus, request.age_group) if tag],
    }
    return {name: value for name, value in fields.items() if value not in (None, "")}


def _focus_of(drill: dict[str, Any]) -> str | None:
    for name, plan in _PLANS.items():
        if drill.get("objective") == plan.objective:
            return name
    return None


def drill_changes(request: DrillRequest, drill: dict[str, Any]) -> dict[str, Any]:
    """The update_drill fields a follow-up asks for, given the drill as it is now."""
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
    old_focus = _focus_of(drill)
    focus = request.focus or old_focus
    if (request.focus and request.focus != old_focus) or (
        "players" in changes and old_focus is not None
    ):
        # The drill's generated text depends on its focus and size; regenerate it.
        changes.update(generated_content(focus, changes.get("players", drill.get("players"))))
    old_facts = {drill.get("sport"), drill.get("age_group"), old_focus} - {None, ""}
    new_facts = [
        changes.get("sport", drill.get("sport")),
        changes.get("age_group", drill.get("age_group")),
        focus,
    ]
    tags = [tag for tag in drill.get("tags") or [] if tag not in old_facts]
    tags += [fact for fact in new_facts if fact and fact not in tags]
    if tags != list(drill.get("tags") or []) and (changes.keys() & {"sport", "age_group", "steps"}):
        changes["tags"] = tags  # the facts a generated drill is tagged with follow the change
    old_title = drill_title(drill.get("sport"), drill.get("age_group"), old_focus)
    if drill.get("title") == old_title:  # a generated title follows the facts it names
        title = drill_title(
            changes.get("sport", drill.get("sport")),
            changes.get("age_group", drill.get("age_group")),
            focus,
        )
        if title != old_title:
            changes["title"] = title
    return changes


def describe_drill(drill: dict[str, Any]) -> str:
    """A drill as short Markdown, for a reply."""
    facts = [
        ("Sport", (drill.get("sport") or "").title()),
        ("Age group", drill.get("age_group")),
        ("Players", drill.get("players")),
        ("Duration", f"{drill['duration_min']} minutes" if drill.get("duration_min") else None),
    ]
    lines = [f"**{drill.get('title', 'Drill')}**", ""]
    summary = " · ".join(f"{name}: {value}" for name, value in facts if value)
    if summary:
        lines.append(summary)
    if drill.get("equipment"):
        lines.append(f"Equipment: {', '.join(drill['equipment'])}")
    if drill.get("objective"):
        lines.append(f"Objective: {drill['objective']}")
    if drill.get("setup"):
        lines += ["", f"**Setup:** {drill['setup']}"]
    for heading, name, numbered in (
        ("Steps", "steps", True),
        ("Coaching points", "coaching_points", False),
        ("Progressions", "progressions", False),
    ):
        items = drill.get(name) or []
        if items:
            lines += ["", f"**{heading}**"]
            lines += [
                f"{i}. {item}" if numbered else f"- {item}" for i, item in enumerate(items, 1)
            ]
    return "\n".join(lines)
