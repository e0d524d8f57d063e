"""The tool registry the chat engine offers the model, and the general tools every session has."""

from __future__ import annotations

import ast
import json
import math
import operator
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import HuddleError, ValidationError
from core.store import ConversationStore
from core.text import count_words

MAX_OUTPUT_CHARS = 20_000
MAX_EXPRESSION_CHARS = 500
SEARCH_HISTORY_LIMIT = 10


@dataclass(frozen=True)
class ToolContext:
    """Who is calling a tool, and from which session: every handler acts as this coach only.

    `zone` is the coach's time zone (the browser's, on the pages), for answers about now.
    """

    store: ConversationStore
    user_id: int
    session_id: str
    zone: str = "UTC"


ToolHandler = Callable[[ToolContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class Tool:
    """One tool: what the model is told about it, and the handler that runs it.

    A handler returns text, or anything JSON can encode (sent to the model as JSON).
    It raises HuddleError (or any exception) to report a failure to the model.
    """

    name: str
    description: str
    input_schema: dict[str, Any]
    handler: ToolHandler

    def definition(self) -> dict[str, Any]:
        """The tool as the Messages API expects it in `tools`."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


@dataclass(frozen=True)
class ToolResult:
    output: str
    is_error: bool
    duration_ms: int


class ToolRegistry:
    """Tools by name. run() never raises: a failure becomes an is_error result for the model."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"Two tools are named {tool.name!r}.")
            self._tools[tool.name] = tool

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def definitions(self) -> list[dict[str, Any]]:
        return [tool.definition() for tool in self._tools.values()]

    def run(self, context: ToolContext, name: str, tool_input: Any) -> ToolResult:
        started = time.perf_counter()
        try:
            tool = self._tools.get(name)
            if tool is None:
                raise ValidationError(f"There is no tool named {name!r}.")
            _check_input(tool.input_schema, tool_input)
            output, is_error = _as_text(tool.handler(context, tool_input)), False
        except HuddleError as exc:
            output, is_error = str(exc), True
        except Exception as exc:  # a broken tool must never break the turn
            output, is_error = f"The tool {name!r} failed: {type(exc).__name__}: {exc}", True
        duration_ms = round((time.perf_counter() - started) * 1000)
        if len(output) > MAX_OUTPUT_CHARS:
            output = output[:MAX_OUTPUT_CHARS] + " … (output cut)"
        return ToolResult(output=output, is_error=is_error, duration_ms=duration_ms)


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _check_input(schema: dict[str, Any], tool_input: Any) -> None:
    """Check the top level of a tool input: an object, required keys, simple types.

    Enough for the model to be told plainly what it got wrong; handlers check the rest.
    """
    if not isinstance(tool_input, dict):
        raise ValidationError("The tool input must be a JSON object.")
    missing = [key for key in schema.get("required", []) if key not in tool_input]
    if missing:
        raise ValidationError(f"The tool input is missing {', '.join(missing)}.")
    for key, spec in schema.get("properties", {}).items():
        value = tool_input.get(key)
        kinds = spec.get("type")
        if value is None or kinds is None:
            continue
        kinds = [kinds] if isinstance(kinds, str) else kinds
        allowed = tuple(t for kind in kinds for t in _JSON_TYPES.get(kind, ()))
        is_bool_as_number = isinstance(value, bool) and "boolean" not in kinds
        if allowed and (not isinstance(value, allowed) or is_bool_as_number):
            raise ValidationError(f"The tool input {key!r} must be of type {' or '.join(kinds)}.")


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


# ------------------------------------------------------------------ calculator

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "abs": abs,
    "round": round,
    "sqrt": math.sqrt,
    "min": min,
    "max": max,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
# Bounds that keep one expression from eating the CPU or memory (9**9**9 would).
_MAX_EXPONENT = 1_000
_MAX_MAGNITUDE = 10**100


def evaluate_arithmetic(expression: str) -> int | float:
    """Evaluate + - * / // % ** (or ^), parentheses and a few functions, without eval()."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ValidationError(f"The expression is longer than {MAX_EXPRESSION_CHARS} characters.")
    text = expression.replace("^", "**").replace("×", "*").replace("÷", "/")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # thousands separators: 1,000
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValidationError(f"{expression!r} is not an arithmetic expression.") from exc
    try:
        result = _evaluate(tree.body)
    except ZeroDivisionError as exc:
        raise ValidationError("Division by zero.") from exc
    except (OverflowError, ValueError) as exc:
        raise ValidationError(f"{expression!r} cannot be calculated: {exc}.") from exc
    if isinstance(result, float) and result.is_integer() and abs(result) < 2**53:
        return int(result)
    return result


def _evaluate(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise ValidationError(f"Exponents above {_MAX_EXPONENT} are not supported.")
        result = _BINARY[type(node.op)](left, right)
        if isinstance(result, complex):
            raise ValidationError("The result is not a real number.")
        if abs(result) > _MAX_MAGNITUDE:
            raise ValidationError("The result is too large.")
        return result
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_evaluate(arg) for arg in node.args))
    raise ValidationError(
        "Only numbers, + - * / // % ** ^, parentheses and abs, round, sqrt, min, max are allowed."
    )


def format_number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    return f"{value:.10g}"


def _calculator(_context: ToolContext, tool_input: dict[str, Any]) -> str:
    return format_number(evaluate_arithmetic(tool_input["expression"]))


# ------------------------------------------------------------------ the others


def _word_count(_context: ToolContext, tool_input: dict[str, Any]) -> dict[str, int]:
    text = tool_input["text"]
    return {"words": count_words(text), "characters": len(text)}


def _current_datetime(context: ToolContext, tool_input: dict[str, Any]) -> dict[str, str]:
    zone_name = tool_input.get("timezone") or context.zone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"{zone_name!r} is not a known time zone (try Europe/London)."
        ) from exc
    now = datetime.now(UTC).astimezone(zone)
    return {
        "iso": now.isoformat(timespec="seconds"),
        "date": now.date().isoformat(),
        "time": now.strftime("%H:%M"),
        "weekday": now.strftime("%A"),
        "timezone": zone_name,
    }


def _search_history(context: ToolContext, tool_input: dict[str, Any]) -> dict[str, Any]:
    query = tool_input["query"]
    limit = max(1, min(int(tool_input.get("limit") or SEARCH_HISTORY_LIMIT), 25))
    # The session asking is left out: the model already has it in its context.
    hits = context.store.search_messages(
        context.user_id, query, exclude_session_id=context.session_id, limit=limit
    )
    return {
        "query": query,
        "results": [
            {
                "session_id": hit.session_id,
                "session_title": hit.session_title,
                "session_kind": hit.session_kind,
                "seq": hit.seq,
                "role": hit.role,
                "snippet": hit.snippet,
                "created_at": hit.created_at.isoformat(),
            }
            for hit in hits
        ],
    }


CALCULATOR = Tool(
    name="calculator",
    description=(
        "Evaluate an arithmetic expression exactly: numbers, + - * / // % and ** (or ^), "
        "parentheses, and abs, round, sqrt, min, max. Use it for any calculation, e.g. "
        "training loads, rotations, minutes per player."
    ),
    input_schema={
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "e.g. (12*7+3)/2"}},
        "required": ["expression"],
    },
    handler=_calculator,
)
WORD_COUNT = Tool(
    name="word_count",
    description="Count the words and characters of a text, with Huddle's word rule.",
    input_schema={
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    },
    handler=_word_count,
)
CURRENT_DATETIME = Tool(
    name="current_datetime",
    description=(
        "The current date, time and weekday, in the coach's own time zone unless another "
        "IANA time zone is given."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "timezone": {"type": "string", "description": "IANA name, e.g. Europe/London"}
        },
    },
    handler=_current_datetime,
)
SEARCH_HISTORY = Tool(
    name="search_history",
    description=(
        "Full-text search over this coach's earlier conversations (not the current one). "
        'Words must all match; "quoted phrases", OR and -excluded words work. Returns '
        "matching messages with their session title and a snippet."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "limit": {"type": "integer", "description": "at most 25, default 10"},
        },
        "required": ["query"],
    },
    handler=_search_history,
)

GENERAL_TOOLS: tuple[Tool, ...] = (CALCULATOR, WORD_COUNT, CURRENT_DATETIME, SEARCH_HISTORY)
