"""One chat turn: store the coach's message, stream the model, run its tools, store every step.

    engine = ChatEngine(store, make_model(settings))
    for event in engine.send(user_id, session_id, "what is 12*7+3"):
        ...  # TextDelta, ToolStarted, ToolFinished, then TurnDone or TurnError

Persistence follows DESIGN.md ("The chat turn"): the user message is committed before the
model is called; each model round is one assistant message with its own usage and latency;
the tool results of a round are one `tool` message; a reply cut short is kept as `partial`
(some text) or `error` (none), with the error, and can be retried without storing the
question again.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from threading import Event
from typing import Any

from core.chat_context import (
    DEFAULT_CONTEXT_CHARS,
    api_blocks,
    build_context,
    store_cut_reply,
    tool_uses,
)
from core.config import DEFAULT_MAX_MESSAGE_CHARS, Settings
from core.drills import DRILL_TOOLS, drill_system_prompt, drill_to_dict
from core.errors import NotFound, ValidationError
from core.llm import ModelClient, ModelError, ModelReply, ModelRequest, TextDelta, make_model
from core.models import ChatSession, Drill, Message
from core.store import ConversationStore
from core.text import clean_text, make_title
from core.tools import GENERAL_TOOLS, ToolContext, ToolRegistry, ToolResult

MAX_TOOL_ROUNDS = 5
# What a reply stopped with the Stop button says (stored as its error; Retry answers again).
STOPPED = "You stopped this reply."

CHAT_SYSTEM_PROMPT = """\
You are Huddle, an assistant for sports coaches: training plans, drills, tactics, talking with
players and parents, and the work of running a team. Answer clearly and practically, for the
age and level the coach names, and keep safety in mind.

Use the tools when they help: calculator for any arithmetic, word_count to count words,
current_datetime for today's date and time, and search_history to find what the coach
discussed in earlier conversations (quote what you found). Use Markdown sparingly."""


__all__ = [
    "CHAT_SYSTEM_PROMPT",
    "STOPPED",
    "ChatEngine",
    "TextDelta",
    "ToolFinished",
    "ToolStarted",
    "TurnDone",
    "TurnError",
    "TurnEvent",
    "system_prompt",
    "tools_for_kind",
]


@dataclass(frozen=True)
class ToolStarted:
    """The model asked for a tool and it is about to run."""

    tool_use_id: str
    name: str
    input: Any


@dataclass(frozen=True)
class ToolFinished:
    tool_use_id: str
    name: str
    input: Any
    output: str
    is_error: bool
    duration_ms: int


@dataclass(frozen=True)
class TurnDone:
    """The turn ended with a reply; usage and latency are the turn's totals.

    `first_token_ms` is the first round's: how long the coach waited before the reply began.
    """

    session_id: str
    user_message_id: int
    message_ids: tuple[int, ...]  # the assistant and tool messages stored, in order
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: int
    tool_rounds: int
    first_token_ms: int | None = None


@dataclass(frozen=True)
class TurnError:
    """The turn failed; what arrived is stored (message_id), and `retryable` says if Retry helps."""

    session_id: str
    user_message_id: int
    message_id: int | None
    message: str
    retryable: bool


TurnEvent = TextDelta | ToolStarted | ToolFinished | TurnDone | TurnError


def tools_for_kind(kind: str) -> ToolRegistry:
    """Every session has the general tools; drill sessions also have the drill tools."""
    return ToolRegistry(GENERAL_TOOLS + DRILL_TOOLS if kind == "drill" else GENERAL_TOOLS)


def system_prompt(kind: str, drill: Drill | None = None) -> str:
    return drill_system_prompt(drill) if kind == "drill" else CHAT_SYSTEM_PROMPT


class ChatEngine:
    """Runs chat turns for any coach and session over one store and one model client.

    `tools` gives the tool registry for a session kind (tools_for_kind unless replaced).
    """

    def __init__(
        self,
        store: ConversationStore,
        model: ModelClient,
        *,
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        context_chars: int = DEFAULT_CONTEXT_CHARS,
        max_tool_rounds: int = MAX_TOOL_ROUNDS,
        tools: Callable[[str], ToolRegistry] = tools_for_kind,
    ) -> None:
        self.store = store
        self.tools = tools
        self.model = model
        self.max_message_chars = max_message_chars
        self.context_chars = context_chars
        self.max_tool_rounds = max_tool_rounds

    @classmethod
    def from_settings(cls, store: ConversationStore, settings: Settings) -> ChatEngine:
        """The configured model (Claude with a key, the offline model without)."""
        return cls(store, make_model(settings), max_message_chars=settings.max_message_chars)

    # ------------------------------------------------------------------ turns

    def check_message(self, text: str) -> str:
        """The message as it will be stored, or ValidationError (empty, oversize, NUL)."""
        return clean_text(text, what="message", max_chars=self.max_message_chars)

    def send(
        self,
        user_id: int,
        session_id: str,
        text: str,
        *,
        stop: Event | None = None,
        zone: str = "UTC",
    ) -> Iterator[TurnEvent]:
        """Store the coach's message, then return the turn's events to iterate.

        Raises ValidationError (empty, oversize, NUL) before anything is stored, and NotFound
        for a session that is not this coach's. The message is committed before this returns.
        Setting `stop` ends the turn at the next event, keeping what arrived (STOPPED);
        `zone` is the coach's time zone, which the tools answer in.
        """
        text = self.check_message(text)
        session = self.store.get_session(user_id, session_id)
        message = self.store.add_message(user_id, session.id, "user", text)
        if message.seq == 1:
            self.store.set_auto_title(user_id, session.id, make_title(text))
        return self._turn(user_id, session, message, message.seq, stop, zone)

    def retry_turn(
        self, user_id: int, session_id: str, *, stop: Event | None = None, zone: str = "UTC"
    ) -> Iterator[TurnEvent]:
        """Answer again the last message whose reply failed, without storing it again.

        The context runs to the end of the session, so the failed attempt's finished tool
        rounds (a drill already saved) are part of it and are not run a second time.
        """
        session = self.store.get_session(user_id, session_id)
        message = self.failed_turn(user_id, session.id)
        if message is None:
            raise ValidationError("There is no failed reply to retry in this conversation.")
        return self._turn(user_id, session, message, session.last_seq, stop, zone)

    def failed_turn(self, user_id: int, session_id: str) -> Message | None:
        """The session's last user message if its turn has no complete reply, else None."""
        later: list[Message] = []
        before: int | None = None
        while True:
            page = self.store.list_messages(user_id, session_id, limit=50, before_seq=before)
            for message in reversed(page):
                if message.role == "user":
                    answered = any(
                        m.role == "assistant" and m.status == "complete" and not tool_uses(m)
                        for m in later
                    )
                    return None if answered else message
                later.append(message)
            if len(page) < 50:
                return None
            before = page[0].seq

    def _turn(
        self,
        user_id: int,
        session: ChatSession,
        question: Message,
        context_upto: int,
        stop: Event | None,
        zone: str,
    ) -> Iterator[TurnEvent]:
        started = time.perf_counter()
        registry = self.tools(session.kind)
        tool_context = ToolContext(self.store, user_id, session.id, zone)
        if session.model != self.model.name:
            self.store.set_session_model(user_id, session.id, self.model.name)
        context = self.build_context(user_id, session.id, context_upto)
        stored: list[int] = []
        input_tokens = output_tokens = 0
        model_name = self.model.name
        rounds = 0
        first_token_ms: int | None = None
        for round_number in range(self.max_tool_rounds + 1):
            # After the last tool round the model must answer in text.
            tools_allowed = round_number < self.max_tool_rounds
            drill = self._linked_drill(user_id, session) if session.kind == "drill" else None
            request = ModelRequest(
                system=system_prompt(session.kind, drill),
                messages=list(context),
                tools=registry.definitions(),
                tool_choice="auto" if tools_allowed else "none",
                linked_drill=drill_to_dict(drill) if drill else None,
            )
            round_started = time.perf_counter()
            received: list[str] = []
            reply: ModelReply | None = None
            try:
                _check_stop(stop)
                with contextlib.closing(iter(self.model.stream(request))) as events:
                    for event in events:
                        if isinstance(event, TextDelta):
                            received.append(event.text)
                            yield event
                            _check_stop(stop)
                        else:
                            reply = event
                if reply is None:
                    raise ModelError("The model ended without a reply; try again.", retryable=True)
            except ModelError as exc:
                failed = self._store_failure(
                    user_id,
                    session.id,
                    "".join(received),
                    str(exc),
                    exc.retryable,
                    round_started,
                    first_token_ms=exc.first_token_ms,
                )
                yield TurnError(session.id, question.id, failed.id, str(exc), exc.retryable)
                return
            except BaseException:
                # Interrupted (the page stopped reading, Ctrl-C) or a bug: keep what arrived.
                self._store_failure(
                    user_id,
                    session.id,
                    "".join(received),
                    "The reply was interrupted.",
                    True,
                    round_started,
                )
                raise
            input_tokens += reply.input_tokens
            output_tokens += reply.output_tokens
            model_name = reply.model or self.model.name
            if round_number == 0:
                first_token_ms = reply.first_token_ms
            assistant = self.store.add_message(
                user_id,
                session.id,
                "assistant",
                reply.text,
                blocks=api_blocks(reply.blocks),
                model=model_name,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
                latency_ms=_elapsed_ms(round_started),
                first_token_ms=reply.first_token_ms,
                metadata=_reply_metadata(reply),
            )
            stored.append(assistant.id)
            tool_uses = reply.tool_uses if reply.stop_reason == "tool_use" else []
            if not tool_uses or not tools_allowed:
                break
            rounds += 1
            results: list[dict[str, Any]] = []
            try:
                for use in tool_uses:
                    yield ToolStarted(use["id"], use["name"], use["input"])
                    result = registry.run(tool_context, use["name"], use["input"])
                    self.store.record_tool_call(
                        user_id,
                        session.id,
                        message_id=assistant.id,
                        tool_use_id=use["id"],
                        name=use["name"],
                        input=use["input"],
                        output=result.output,
                        is_error=result.is_error,
                        duration_ms=result.duration_ms,
                    )
                    results.append(_tool_result_block(use["id"], result))
                    yield ToolFinished(
                        use["id"],
                        use["name"],
                        use["input"],
                        result.output,
                        result.is_error,
                        result.duration_ms,
                    )
            finally:
                # Stored even when the turn is interrupted between tools, so the results
                # that exist stay paired with their tool_use in later contexts.
                if results:
                    stored.append(
                        self.store.add_message(user_id, session.id, "tool", "", blocks=results).id
                    )
            context.append({"role": "assistant", "content": api_blocks(reply.blocks)})
            context.append({"role": "user", "content": results})
        yield TurnDone(
            session_id=session.id,
            user_message_id=question.id,
            message_ids=tuple(stored),
            model=model_name,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=_elapsed_ms(started),
            tool_rounds=rounds,
            first_token_ms=first_token_ms,
        )

    def _store_failure(
        self,
        user_id: int,
        session_id: str,
        text: str,
        error: str,
        retryable: bool,
        round_started: float,
        *,
        first_token_ms: int | None = None,
    ) -> Message:
        return store_cut_reply(
            self.store,
            user_id,
            session_id,
            text,
            error,
            model=self.model.name,
            metadata={"retryable": retryable},
            latency_ms=_elapsed_ms(round_started),
            first_token_ms=first_token_ms,
        )

    def _linked_drill(self, user_id: int, session: ChatSession) -> Drill | None:
        # Read each round: a tool of the previous round may have created or changed it.
        drill_id = self.store.get_session(user_id, session.id).drill_id
        if drill_id is None:
            return None
        try:
            return self.store.get_drill(user_id, drill_id)
        except NotFound:
            return None

    # ------------------------------------------------------------------ context

    def build_context(self, user_id: int, session_id: str, upto_seq: int) -> list[dict[str, Any]]:
        """The Messages API history up to message `upto_seq` (core/chat_context.py)."""
        return build_context(self.store, user_id, session_id, upto_seq, self.context_chars)


def _check_stop(stop: Event | None) -> None:
    if stop is not None and stop.is_set():
        raise ModelError(STOPPED, retryable=True)


def _elapsed_ms(since: float) -> int:
    return round((time.perf_counter() - since) * 1000)


def _reply_metadata(reply: ModelReply) -> dict[str, Any]:
    metadata: dict[str, Any] = {"stop_reason": reply.stop_reason}
    if reply.cache_read_tokens or reply.cache_write_tokens:
        metadata["cache_read_tokens"] = reply.cache_read_tokens
        metadata["cache_write_tokens"] = reply.cache_write_tokens
    return metadata


def _tool_result_block(tool_use_id: str, result: ToolResult) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": result.output,
    }
    if result.is_error:
        block["is_error"] = True
    return block
