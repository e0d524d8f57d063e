"""The offline model: deterministic answers with no network, calling the same tools as Claude.

It streams the events of core.llm, so every page works on a fresh machine without a key.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.drill_builder import describe_drill, drill_changes, drill_from_request
from core.drill_requests import DrillRequest, parse_drill_request
from core.llm import (
    OFFLINE_MODEL_NAME,
    FirstTokenClock,
    ModelEvent,
    ModelReply,
    ModelRequest,
    TextDelta,
)
from core.text import one_line


def _pieces(text: str) -> list[str]:
    """Word-sized pieces that join back to exactly `text`."""
    return re.findall(r"\S+\s*|\s+", text)


_CALC = re.compile(
    r"^\s*(?:please\s+)?(?:what(?:'s|\s+is)|calculate|compute|how\s+much\s+is|work\s+out|"
    r"evaluate)?\s*(?P<expr>[\d\s.,+\-*/xX×÷^()%]+?)\s*[?=.!]*\s*$",
    re.I,
)
_OPERATION = re.compile(r"[\d)]\s*[-+*/xX×÷^%]\s*[-+(]*\d")
_WORDS = re.compile(
    r"\b(?:count\s+(?:the\s+)?words|how\s+many\s+words|word\s+count)\b"
    r"(?:\s+(?:are|is))?(?:\s+there)?(?:\s+(?:in|of|for))?"
    r"(?:\s+(?:this|the\s+following|that))?(?:\s+(?:text|sentence|paragraph|message))?"
    r"\s*[:\-–]?\s*(?P<text>.*)$",
    re.I | re.S,
)
_SEARCH = re.compile(
    r"\b(?:find|search|look\s+(?:up|for|through)|show(?:\s+me)?)\b(?:\s+(?:in|through))?"
    r"\s+(?:my|our|the)?\s*(?:old|earlier|past|previous|other)?\s*"
    r"(?:conversations?|chats?|history|sessions?|messages?|discussions?)\b\s*"
    r"(?:about|on|for|mentioning|that\s+mention|with)?\s*(?P<query>.+)$",
    re.I | re.S,
)
_RECALL = re.compile(
    r"\bwhat\s+did\s+(?:we|i)\s+(?:say|discuss|talk\s+about|write)\b\s*(?:about|on)?\s*"
    r"(?P<query>.+)$",
    re.I | re.S,
)
_DATETIME = re.compile(
    r"\b(?:what(?:'s|\s+is)\s+(?:the\s+)?(?:time|date|day)|what\s+time\s+is\s+it|"
    r"what\s+day\s+is\s+it|today'?s\s+date|current\s+(?:time|date))\b",
    re.I,
)
_QUOTES = "\"'“”‘’«» "


@dataclass(frozen=True)
class _ToolPlan:
    name: str
    input: dict[str, Any]


class OfflineModel:
    """Huddle's offline demo model: deterministic rules, no network, the same tools as Claude.

    It recognises arithmetic, word counts, history searches, date and time questions and, in
    drill sessions, drill descriptions and changes; it asks for the matching tool, then writes
    its answer from the tool's result. Anything else gets an honest offline answer.
    """

    offline = True
    label = "Offline demo model (no ANTHROPIC_API_KEY)"

    def __init__(self, *, word_delay_s: float = 0.0) -> None:
        self.name = OFFLINE_MODEL_NAME
        self.word_delay_s = word_delay_s

    def stream(self, request: ModelRequest) -> Iterator[ModelEvent]:
        clock = FirstTokenClock()
        input_tokens = max(1, (len(request.system) + len(json.dumps(request.messages))) // 4)
        last = request.messages[-1] if request.messages else {"role": "user", "content": []}
        blocks = _blocks(last)
        # Tool results are answered only when they end the message: a question after them
        # (another turn's unfinished round, merged in before it) is what this turn asks.
        results = [b for b in blocks if b.get("type") == "tool_result"]
        plan: _ToolPlan | str
        if results and blocks[-1].get("type") == "tool_result":
            plan = _answer_from_results(request.messages, results)
        else:
            question = _last_text(last)
            plan = _plan(question, request)
            if isinstance(plan, _ToolPlan) and (
                request.tool_choice == "none" or plan.name not in _tool_names(request)
            ):
                plan = _offline_answer(question, request)
        if isinstance(plan, _ToolPlan):
            block = {
                "type": "tool_use",
                "id": f"toolu_offline_{uuid.uuid4().hex[:20]}",
                "name": plan.name,
                "input": plan.input,
            }
            # The whole tool call arrives at once: its first token is the reply itself.
            clock.mark()
            yield ModelReply(
                blocks=[block],
                stop_reason="tool_use",
                input_tokens=input_tokens,
                output_tokens=max(1, len(json.dumps(plan.input)) // 4),
                model=self.name,
                first_token_ms=clock.ms,
            )
            return
        pieces = _pieces(plan)
        for piece in pieces:
            if self.word_delay_s:
                time.sleep(self.word_delay_s)
            clock.mark()
            yield TextDelta(piece)
        clock.mark()  # an empty answer has no pieces
        yield ModelReply(
            blocks=[{"type": "text", "text": plan}],
            stop_reason="end_turn",
            input_tokens=input_tokens,
            output_tokens=max(1, len(pieces)),
            model=self.name,
            first_token_ms=clock.ms,
        )


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content or [])


def _last_text(message: dict[str, Any]) -> str:
    """The newest text of a user message (merged messages keep each question in its block)."""
    texts = [b["text"] for b in _blocks(message) if b.get("type") == "text" and b.get("text")]
    return texts[-1].strip() if texts else ""


def _tool_names(request: ModelRequest) -> set[str]:
    return {tool["name"] for tool in request.tools}


def _plan(question: str, request: ModelRequest) -> _ToolPlan | str:
    calc = _CALC.match(question)
    if calc and _OPERATION.search(calc["expr"]):
        expression = re.sub(r"(?<=[\d)\s])[xX×](?=[\s\d(])", "*", calc["expr"].strip())
        return _ToolPlan("calculator", {"expression": expression})
    words = _WORDS.search(question)
    if words and words["text"].strip(_QUOTES):
        return _ToolPlan("word_count", {"text": words["text"].strip(_QUOTES)})
    search = _SEARCH.search(question) or _RECALL.search(question)
    if search and search["query"].strip(_QUOTES + "?.!"):
        return _ToolPlan("search_history", {"query": search["query"].strip(_QUOTES + "?.!")})
    if _DATETIME.search(question):
        return _ToolPlan("current_datetime", {})
    if "create_drill" in _tool_names(request):
        return _plan_drill(question, request)
    return _offline_answer(question, request)


def _plan_drill(question: str, request: ModelRequest) -> _ToolPlan | str:
    """A new drill, a change to the conversation's drill, or an answer saying what to write.

    With a drill in the conversation, a sentence changes it unless it asks for a new drill
    ("a new rondo drill", "another drill for 8 players") or describes one for another sport.
    """
    drill = request.linked_drill
    current_sport = (drill or {}).get("sport") or None
    wanted = parse_drill_request(question, current_sport=current_sport)
    if drill is None or wanted.wants_new_drill or _names_other_sport(wanted, drill):
        if not wanted.is_description:
            return _offline_answer(question, request, new_drill=True)
        if drill is not None:
            wanted = wanted.with_team_of(drill)
        return _ToolPlan("create_drill", drill_from_request(wanted))
    changes = drill_changes(wanted, drill)
    if changes:
        return _ToolPlan("update_drill", {"drill_id": drill["id"], **changes})
    if wanted.says_anything:
        return (
            f"I left “{drill.get('title') or 'the drill'}” as it is: it already has what you "
            "named, or I could not tell what to change. " + _CHANGES_I_CAN_MAKE
        )
    return _offline_answer(question, request)


def _names_other_sport(wanted: DrillRequest, drill: dict[str, Any]) -> bool:
    """A full description for another sport is a new drill, not a change to this one."""
    return bool(
        wanted.mentions_drill and wanted.sport and wanted.sport != (drill.get("sport") or None)
    )


_CHANGES_I_CAN_MAKE = (
    "To change this drill, say what changes: players, duration, age group, sport, focus or "
    "equipment, or add a progression, a step or a coaching point (“change it to 14 players and "
    "add a progression with a defender”)."
)


def _offline_answer(question: str, request: ModelRequest, *, new_drill: bool = False) -> str:
    quoted = one_line(question)
    if len(quoted) > 120:
        quoted = quoted[:119].rstrip() + "…"
    drill_session = "create_drill" in _tool_names(request)
    abilities = [
        "do arithmetic (“what is 12*7+3”)",
        "count words (“count the words in: …”)",
        "search your other conversations (“find my conversations about rondos”)",
        "tell today's date and time",
    ]
    if drill_session:
        abilities.append(
            "build a drill from a description (“U12 soccer passing drill for 10 players, "
            "20 minutes, cones and balls”) and change it (“make it 30 minutes and add bibs”)"
        )
    opening = (
        f"I'm Huddle's offline demo model, so I can't give a real answer to “{quoted}”."
        if quoted
        else "I'm Huddle's offline demo model."
    )
    if drill_session and request.linked_drill is not None and not new_drill:
        opening += " " + _CHANGES_I_CAN_MAKE
    elif drill_session:
        opening += (
            " To build a drill, tell me the sport, age group, number of players, duration, "
            "equipment and focus."
        )
    listed = "\n".join(f"- {ability}" for ability in abilities)
    return (
        f"{opening}\n\nWithout a Claude API key I can:\n{listed}\n\n"
        "Set ANTHROPIC_API_KEY to chat with Claude."
    )


def _answer_from_results(messages: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
    """The final text of a tool round, written from the tools' results."""
    uses: dict[str, dict[str, Any]] = {}
    for message in messages:
        if message.get("role") == "assistant":
            for block in _blocks(message):
                if block.get("type") == "tool_use":
                    uses[block["id"]] = block
    parts = []
    for result in results:
        use = uses.get(result.get("tool_use_id", ""), {"name": "tool", "input": {}})
        output = result.get("content")
        if isinstance(output, list):
            output = "".join(b.get("text", "") for b in output if isinstance(b, dict))
        parts.append(
            _describe_result(
                use["name"], use.get("input") or {}, str(output or ""), bool(result.get("is_error"))
            )
        )
    return "\n\n".join(parts)


def _describe_result(name: str, tool_input: dict[str, Any], output: str, is_error: bool) -> str:
    if is_error:
        return f"The {name} tool could not do that: {output}"
    if name == "calculator":
        return f"{tool_input.get('expression', '')} = {output}"
    try:
        data = json.loads(output)
    except ValueError:
        return output
    if name == "word_count":
        words, plural = data["words"], "s" if data["words"] != 1 else ""
        return f"That text has {words} word{plural} ({data['characters']} characters)."
    if name == "current_datetime":
        return f"It is {data['weekday']}, {data['date']}, {data['time']} ({data['timezone']})."
    if name == "search_history":
        hits = data.get("results") or []
        if not hits:
            return f"I found nothing about “{data.get('query', '')}” in your other conversations."
        lines = [
            f"I found {len(hits)} message{'s' if len(hits) != 1 else ''} about "
            f"“{data.get('query', '')}” in your other conversations:"
        ]
        lines += [
            f"- **{hit['session_title']}** ({hit['role']}, {hit['created_at'][:10]}): "
            f"{hit['snippet']}"
            for hit in hits
        ]
        return "\n".join(lines)
    if name == "create_drill":
        return (
            "I saved this drill and linked it to this conversation:\n\n"
            f"{describe_drill(data)}\n\nTell me what to change, for example “make it "
            "30 minutes and add bibs”."
        )
    if name == "update_drill":
        return f"I updated the drill ({_changed_facts(tool_input)}):\n\n{describe_drill(data)}"
    return output


def _changed_facts(changes: dict[str, Any]) -> str:
    facts = []
    if "sport" in changes:
        facts.append(f"sport {changes['sport']}")
    if "age_group" in changes:
        facts.append(f"age group {changes['age_group']}")
    if "players" in changes:
        facts.append(f"{changes['players']} players")
    if "duration_min" in changes:
        facts.append(f"{changes['duration_min']} minutes")
    if "equipment" in changes:
        facts.append(f"equipment {', '.join(changes['equipment']) or 'none'}")
    if "objective" in changes:
        facts.append("new focus: objective, setup, steps, coaching points and progressions")
    elif "setup" in changes:
        facts.append("setup adjusted")
    if "objective" not in changes:
        for field, item in (
            ("steps", "a step"),
            ("coaching_points", "a coaching point"),
            ("progressions", "a progression"),
        ):
            if field in changes:
                facts.append(f"{item} added")
    return "; ".join(facts) or "as asked"
