"""Model clients for the chat engine: the shared events, and Claude through the anthropic SDK.

Both stream the same model-level events, so the engine has one loop: any number of TextDelta
pieces, then one ModelReply with the content blocks, stop reason, usage and time to first
token. A failure is a ModelError that says in one sentence what went wrong and whether trying
again can help (and, when text had begun to arrive, how long the first token took).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from core.config import DEFAULT_MODEL, Settings
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
        from core.offline_model import OfflineModel  # it builds on this module's types

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
