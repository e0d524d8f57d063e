"""Model clients for the chat engine: Claude through the anthropic SDK, and the offline model.

Both stream the same model-level events, so the engine has one loop: any number of TextDelta
pieces, then one ModelReply with the content blocks, stop reason, usage and time to first
token. A failure is a ModelError that says in one sentence what went wrong and whether trying
again can help (and, when text had begun to arrive, how long the first token took).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from core.config import DEFAULT_MODEL, Settings
from core.drills import (
    DrillRequest,
    describe_drill,
    drill_changes,
    drill_from_request,
    parse_drill_request,
)
from core.errors import HuddleError
from core.text import one_line

if TYPE_CHECKING:
    import anthropic

OFFLINE_MODEL_NAME = "huddle-offline"
DEFAULT_MAX_TOKENS = 4096
# Read timeout for one streamed reply; the SDK's default (10 minutes) is longer than a coach waits.
DEFAULT_TIMEOUT_S = 300.0
CACHE_EPHEMERAL = {"type": "ephemeral"}

ToolChoice = Literal["auto", "none"]


@dataclass(frozen=True)
class TextDelta:
    """A piece of reply text, as it arrives."""

    text: str


@dataclass(frozen=True)
class ModelRequest:
    """One call to a model: what the Messages API gets, plus the session's linked drill.

    `messages` are in the API's format (user/assistant, content blocks). `linked_drill` is
    the drill the session is linked to, as drills.drill_to_dict gives it; Claude reads it in
    the system prompt, the offline model reads it here.
    """

    system: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    linked_drill: dict[str, Any] | None = None


@dataclass(frozen=True)
class ModelReply:
    """A finished reply: content blocks (text and tool_use) as the API writes them."""

    blocks: list[dict[str, Any]]
    stop_reason: str | None
    input_tokens: int
    output_tokens: int
    model: str
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    # Milliseconds from the request to the first text or tool_use delta, as the client measured.
    first_token_ms: int | None = None

    @property
    def text(self) -> str:
        return "".join(b["text"] for b in self.blocks if b.get("type") == "text")

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        return [b for b in self.blocks if b.get("type") == "tool_use"]


ModelEvent = TextDelta | ModelReply


class ModelError(HuddleError):
    """The model call failed; `retryable` says whether trying again may work."""

    def __init__(self, message: str, *, retryable: bool, first_token_ms: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        # Set when the reply had begun (a partial reply keeps its time to first token).
        self.first_token_ms = first_token_ms


class FirstTokenClock:
    """Milliseconds from the request to the first token, on the monotonic clock."""

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self.ms: int | None = None

    def mark(self) -> None:
        """Note that a token arrived; only the first call counts."""
        if self.ms is None:
            self.ms = round((time.perf_counter() - self._started) * 1000)


class ModelClient(Protocol):
    """What the engine needs from a model."""

    name: str
    offline: bool

    def stream(self, request: ModelRequest) -> Iterator[ModelEvent]:
        """Yield TextDelta pieces, then one ModelReply; raise ModelError on failure."""
        ...


def make_model(settings: Settings) -> ModelClient:
    """Claude when a key is configured, otherwise the offline model."""
    if settings.offline:
        return OfflineModel()
    assert settings.anthropic_api_key is not None
    return AnthropicModel(
        settings.anthropic_api_key,
        model=settings.anthropic_model,
        base_url=settings.anthropic_base_url,
    )


# ------------------------------------------------------------------ Claude


class AnthropicModel:
    """Claude through the official SDK: messages.stream with tools, SDK retries on."""

    offline = False

    def __init__(
        self,
        api_key: str,
        *,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        max_retries: int = 2,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        # Imported here: the SDK takes a while to import and the offline model never needs it.
        import anthropic

        self.name = model
        self.max_tokens = max_tokens
        self.client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout_s
        )
        self._where = base_url or "the Anthropic API"

    def stream(self, request: ModelRequest) -> Iterator[ModelEvent]:
        # Started before the SDK sends the request, so connecting and any SDK retries count.
        clock = FirstTokenClock()
        try:
            yield from self._stream(request, clock)
        except ModelError as exc:
            exc.first_token_ms = clock.ms
            raise

    def _stream(self, request: ModelRequest, clock: FirstTokenClock) -> Iterator[ModelEvent]:
        import anthropic
        import httpx2

        params: dict[str, Any] = {
            "model": self.name,
            "max_tokens": self.max_tokens,
            # The system prompt and tool definitions repeat on every call: cache them.
            "system": [{"type": "text", "text": request.system, "cache_control": CACHE_EPHEMERAL}],
            "messages": request.messages,
        }
        if request.tools:
            tools = [dict(tool) for tool in request.tools]
            tools[-1]["cache_control"] = CACHE_EPHEMERAL
            params["tools"] = tools
            params["tool_choice"] = {"type": request.tool_choice}
        try:
            with self.client.messages.stream(**params) as stream:
                started = False
                for event in stream:
                    if event.type == "message_start":
                        started = True
                    elif event.type == "text":
                        clock.mark()
                        yield TextDelta(event.text)
                    elif event.type == "input_json":
                        # A reply that opens with a tool call: its first piece of input is
                        # its first token.
                        clock.mark()
                if not started:
                    raise ModelError(
                        "Claude's reply ended before it began; try again.", retryable=True
                    )
                message = stream.get_final_message()
        except anthropic.APIStatusError as exc:
            raise _status_error(exc) from exc
        except anthropic.APITimeoutError as exc:
            raise ModelError("Claude did not answer in time; try again.", retryable=True) from exc
        except anthropic.APIConnectionError as exc:
            reason = _root_cause(exc)
            raise ModelError(
                f"Could not reach Claude at {self._where} ({reason}); try again.", retryable=True
            ) from exc
        except httpx2.HTTPError as exc:
            # Once the stream has started the SDK lets transport errors through unwrapped.
            raise ModelError(
                f"The connection to Claude broke in the middle of the reply ({_root_cause(exc)}); "
                "try again.",
                retryable=True,
            ) from exc
        except anthropic.AnthropicError as exc:
            raise ModelError(f"Claude's reply could not be read: {exc}", retryable=True) from exc
        if message.stop_reason is None:
            # A connection closed between two events ends the stream quietly, unfinished.
            raise ModelError(
                "The connection to Claude closed before the reply was complete; try again.",
                retryable=True,
            )
        yield _reply_from_message(message, clock.ms)


def _reply_from_message(message: anthropic.types.Message, first_token_ms: int | None) -> ModelReply:
    blocks: list[dict[str, Any]] = []
    for block in message.content:
        if block.type == "text":
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    usage = message.usage
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_creation_input_tokens or 0
    return ModelReply(
        blocks=blocks,
        stop_reason=message.stop_reason,
        # Every token Claude read for this reply, cached or not.
        input_tokens=(usage.input_tokens or 0) + cache_read + cache_write,
        output_tokens=usage.output_tokens or 0,
        model=message.model or "",
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        first_token_ms=first_token_ms,
    )


_NOT_RETRYABLE_TYPES = {
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
}


def _status_error(exc: Any) -> ModelError:
    """One sentence for an error status (or an SSE error event, which arrives as status 200)."""
    status, kind = exc.status_code, exc.type or ""
    detail = (exc.api_message or "").strip().rstrip(".")
    if status == 401 or kind == "authentication_error":
        return ModelError(
            "Claude refused the API key (401 authentication error); check ANTHROPIC_API_KEY.",
            retryable=False,
        )
    if status == 403 or kind == "permission_error":
        return ModelError(
            f"The API key may not use this model (403: {detail}); check ANTHROPIC_API_KEY "
            "and ANTHROPIC_MODEL.",
            retryable=False,
        )
    if status == 404 or kind == "not_found_error":
        return ModelError(
            f"Claude answered 404 not found ({detail}); check ANTHROPIC_MODEL and "
            "ANTHROPIC_BASE_URL.",
            retryable=False,
        )
    if status == 429 or kind == "rate_limit_error":
        return ModelError(
            "Claude is rate-limiting requests (429); wait a moment and try again.", retryable=True
        )
    if status == 529 or kind == "overloaded_error":
        return ModelError("Claude is overloaded right now; try again in a moment.", retryable=True)
    if status in (408, 409):  # request timeout, lock conflict: both pass on their own
        return ModelError(
            f"Claude could not take the request now ({status}); try again.", retryable=True
        )
    if status >= 500 or (status == 200 and kind not in _NOT_RETRYABLE_TYPES):
        label = f"server error {status}" if status >= 500 else f"stream error {kind or 'unknown'}"
        return ModelError(f"Claude had a {label} ({detail}); try again.", retryable=True)
    return ModelError(f"Claude refused the request ({status} {kind}: {detail}).", retryable=False)


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = one_line(str(exc))
    return text[:200] or type(exc).__name__


# ------------------------------------------------------------------ the offline model


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
    wanted = parse_drill_request(question)
    drill = request.linked_drill
    starts_new = drill is None or wanted.wants_new_drill or _names_other_sport(wanted, drill)
    if starts_new and wanted.is_description:
        return _ToolPlan("create_drill", drill_from_request(wanted))
    if drill is not None and not starts_new:
        changes = drill_changes(wanted, drill)
        if changes:
            return _ToolPlan("update_drill", {"drill_id": drill["id"], **changes})
    return _offline_answer(question, request)


def _names_other_sport(wanted: DrillRequest, drill: dict[str, Any]) -> bool:
    """A full description for another sport is a new drill, not a change to this one."""
    return bool(
        wanted.mentions_drill and wanted.sport and wanted.sport != (drill.get("sport") or None)
    )


def _offline_answer(question: str, request: ModelRequest) -> str:
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
    if drill_session and request.linked_drill is not None:
        opening += (
            " To change this drill, say what changes: players, duration, age group, sport, "
            "focus or equipment."
        )
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
    if "steps" in changes:
        facts.append("setup and steps adjusted")
    return "; ".join(facts) or "as asked"
