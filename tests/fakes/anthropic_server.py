"""A local fake of the Anthropic Messages API, scripted per test, for the real SDK to talk to.

    with FakeAnthropic() as fake:
        fake.add_text("Hello there")
        client = anthropic.Anthropic(api_key="test", base_url=fake.base_url, max_retries=0)
        with client.messages.stream(model="claude-x", max_tokens=100, messages=[...]) as stream:
            message = stream.get_final_message()
        assert fake.requests[0]["messages"] == [...]

Each ``POST /v1/messages`` takes the next scripted response from a FIFO queue, so every SDK
retry and every concurrent request consumes one. A request with ``"stream": true`` gets
Server-Sent Events shaped exactly like Anthropic's (chunked, on a keep-alive connection); any
other request gets the same reply as one JSON message.

A scripted response may wait ``first_event_delay`` seconds after its headers before its first
event, so a test can check that time to first token is measured (at least that delay).

``event_delay`` (seconds) holds every stream back between its events, so a reply's text
arrives over seconds, as a real model's does.

When the queue is empty the fake serves ``default_text`` as a text reply if one was given, and
otherwise answers HTTP 500 ``api_error`` naming the missing script, with ``x-should-retry:
false`` so the SDK fails at once instead of retrying.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import secrets
import socket
import socketserver
import string
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

StopReason = Literal["end_turn", "tool_use", "max_tokens"]
FaultKind = Literal["error_event", "drop", "broken_chunk"]
Event = tuple[str, dict[str, Any]]

DEFAULT_INPUT_TOKENS = 10
# The SDK ignores `retry-after: 0` and falls back to its own backoff (0.5 s, 1 s, ...), so the
# fake asks for one millisecond instead, through the `retry-after-ms` header the SDK reads first.
FAST_RETRY_AFTER = 0.001

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_ERROR_MESSAGES = {
    "invalid_request_error": "Invalid request",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}
_JSON_PIECE_CHARS = 8


def _random_id(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(24))


def new_tool_use_id() -> str:
    """Return a fresh id shaped like Anthropic's (``toolu_01...``)."""
    return _random_id("toolu_01")


@dataclass(frozen=True)
class TextBlock:
    """A text content block of a scripted reply; streamed word by word."""

    text: str


@dataclass(frozen=True)
class ToolUseBlock:
    """A tool_use content block of a scripted reply; its input is streamed as JSON pieces."""

    name: str
    input: dict[str, Any]
    id: str = field(default_factory=new_tool_use_id)


Block = TextBlock | ToolUseBlock


@dataclass(frozen=True)
class Reply:
    """A complete assistant message: what a successful request returns."""

    blocks: tuple[Block, ...]
    stop_reason: StopReason
    input_tokens: int
    output_tokens: int
    first_event_delay: float = 0.0  # seconds between the headers and message_start


@dataclass(frozen=True)
class StatusError:
    """An HTTP error status with Anthropic's error body, sent before any event."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True)
class StreamFault:
    """A stream that starts well (HTTP 200, ``text`` streamed) and then fails as ``kind`` says."""

    kind: FaultKind
    text: str
    error: dict[str, Any] | None = None
    first_event_delay: float = 0.0


Scripted = Reply | StatusError | StreamFault


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    # perf_counter() when the handler had read the request, and, for a streamed reply, when
    # its first text delta and its last byte were written: the fake's own time, which the
    # benchmark subtracts from a turn's (bench/engine_overhead.py).
    received: float = field(default_factory=time.perf_counter)
    first_text_sent: float | None = None
    finished: float | None = None


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _text_pieces(text: str) -> list[str]:
    """Split text into word-sized deltas that join back to exactly ``text``."""
    return re.findall(r"\S+\s*|\s+", text)


def _json_pieces(value: dict[str, Any]) -> list[str]:
    encoded = json.dumps(value)
    return [encoded[i : i + _JSON_PIECE_CHARS] for i in range(0, len(encoded), _JSON_PIECE_CHARS)]


def _block_deltas(block: Block) -> list[dict[str, Any]]:
    if isinstance(block, TextBlock):
        return [{"type": "text_delta", "text": piece} for piece in _text_pieces(block.text)]
    # Like the real API, a tool_use block's first delta is an empty piece of JSON.
    return [
        {"type": "input_json_delta", "partial_json": piece}
        for piece in ["", *_json_pieces(block.input)]
    ]


def _block_start(block: Block) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": ""}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}


def _block_json(block: Block) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}


def make_reply(
    blocks: tuple[Block, ...],
    *,
    stop_reason: StopReason | None = None,
    input_tokens: int = DEFAULT_INPUT_TOKENS,
    output_tokens: int | None = None,
    first_event_delay: float = 0.0,
) -> Reply:
    """Build a Reply; stop_reason defaults from the blocks, output_tokens to the delta count."""
    if stop_reason is None:
        stop_reason = "tool_use" if any(isinstance(b, ToolUseBlock) for b in blocks) else "end_turn"
    if output_tokens is None:
        output_tokens = max(1, sum(len(_block_deltas(b)) for b in blocks))
    return Reply(blocks, stop_reason, input_tokens, output_tokens, first_event_delay)


def _message_json(reply: Reply, *, message_id: str, model: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [_block_json(b) for b in reply.blocks],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def _reply_events(reply: Reply, *, message_id: str, model: str) -> list[Event]:
    """The full event sequence Anthropic streams for ``reply``, message_start to message_stop."""
    started = _message_json(reply, message_id=message_id, model=model)
    started.update(
        content=[], stop_reason=None, usage={"input_tokens": reply.input_tokens, "output_tokens": 1}
    )
    events: list[Event] = [("message_start", {"type": "message_start", "message": started})]
    for index, block in enumerate(reply.blocks):
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": _block_start(block),
                },
            )
        )
        if index == 0:
            events.append(("ping", {"type": "ping"}))
        events.extend(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
            for delta in _block_deltas(block)
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": reply.output_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _fault_events(fault: StreamFault, *, message_id: str, model: str) -> list[Event]:
    """The events a fault sends before failing: the text block's start and all its deltas."""
    events = _reply_events(make_reply((TextBlock(fault.text),)), message_id=message_id, model=model)
    first_stop = next(i for i, (name, _) in enumerate(events) if name == "content_block_stop")
    return events[:first_stop]


def _encode_event(event: Event) -> bytes:
    name, data = event
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, as the SDK sees in production
    timeout = 30  # an idle keep-alive connection cannot hold a handler thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: pytest output is for the tests."""

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = urlsplit(self.path).path
        request = RecordedRequest(
            "POST", path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        if path != "/v1/messages":
            self.server.fake.record(request)
            self._send_json(
                404, _error_body("not_found_error", f"FakeAnthropic does not serve {path}")
            )
            return
        if not isinstance(body, dict):
            self.server.fake.record(request)
            self._send_json(
                400, _error_body("invalid_request_error", "Request body is not a JSON object")
            )
            return

        scripted = self.server.fake.take_next(request)
        streaming = body.get("stream") is True
        message_id = _random_id("msg_01")
        model = str(body.get("model", "claude-fake"))
        if isinstance(scripted, StatusError):
            self._send_json(scripted.status, scripted.body, scripted.headers)
        elif isinstance(scripted, Reply) and not streaming:
            self._send_json(200, _message_json(scripted, message_id=message_id, model=model))
        elif isinstance(scripted, Reply):
            self._send_events(
                _reply_events(scripted, message_id=message_id, model=model),
                scripted.first_event_delay,
                request,
            )
        elif not streaming:
            message = f"FakeAnthropic: the scripted {scripted.kind} fault needs a streaming request"
            self._send_json(
                400, _error_body("invalid_request_error", message), {"x-should-retry": "false"}
            )
        else:
            self._send_fault(scripted, _fault_events(scripted, message_id=message_id, model=model))

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", _random_id("req_01"))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_event_stream(self, *, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", _random_id("req_01"))
        if chunked:
            self.send_header("transfer-encoding", "chunked")
        else:
            # No length and no chunking: the body ends where the connection closes.
            self.send_header("connection", "close")
        self.end_headers()

    def _send_events(
        self, events: list[Event], first_event_delay: float, request: RecordedRequest
    ) -> None:
        self._start_event_stream(chunked=True)
        # Headers first, like the real API: the SDK's request has returned, the model is
        # still thinking.
        time.sleep(first_event_delay)
        stamps: dict[str, float] = {}
        for name, data in events:
            self.wfile.write(_chunk(_encode_event((name, data))))
            if data.get("delta", {}).get("type") == "text_delta":
                stamps.setdefault("first_text_sent", time.perf_counter())
            if self.server.fake.event_delay:
                self.wfile.flush()
                time.sleep(self.server.fake.event_delay)
        self.wfile.write(b"0\r\n\r\n")
        self.server.fake.stamp(request, **stamps, finished=time.perf_counter())

    def _send_fault(self, fault: StreamFault, events: list[Event]) -> None:
        if fault.kind == "drop":
            self._start_event_stream(chunked=False)
            time.sleep(fault.first_event_delay)
            for event in events:
                self.wfile.write(_encode_event(event))
            return  # `connection: close` was sent, so the server closes the socket here
        self._start_event_stream(chunked=True)
        time.sleep(fault.first_event_delay)
        for event in events:
            self.wfile.write(_chunk(_encode_event(event)))
        if fault.kind == "error_event":
            assert fault.error is not None
            self.wfile.write(_chunk(_encode_event(("error", fault.error))))
            self.wfile.write(b"0\r\n\r\n")
            return
        # broken_chunk: announce more bytes than are sent, then hang up inside the chunk.
        payload = _encode_event(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        self.wfile.write(f"{len(payload) + 64:x}\r\n".encode() + payload[: len(payload) // 2])
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    def __init__(self, fake: FakeAnthropic) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._handler_threads: list[threading.Thread] = []
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name, which can stall on machines without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Each event is its own small write: without TCP_NODELAY, Nagle's algorithm holds the
        # second one until the client's delayed ACK (40 ms on Linux), a wait the real API's
        # servers do not add and that would be counted as Huddle's time.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # ThreadingMixIn does not keep daemon threads for server_close() to join, so keep them here.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="FakeAnthropic connection",
            daemon=True,
        )
        with self._connections_lock:
            self._connections.add(request)
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()] + [thread]
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Close the listening socket, wake handlers idling on keep-alive connections, join them."""
        super().server_close()
        with self._connections_lock:
            connections = list(self._connections)
            threads = list(self._handler_threads)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client hung up mid-response, e.g. a test that stopped reading a stream
        super().handle_error(request, client_address)


class FakeAnthropic:
    """A scripted Anthropic Messages API on 127.0.0.1; see the module docstring."""

    def __init__(self, *, default_text: str | None = None, event_delay: float = 0.0) -> None:
        self._default_text = default_text
        # Seconds between a stream's events: a slow model, text arriving over seconds.
        self.event_delay = event_delay
        self._lock = threading.Lock()
        self._queue: deque[Scripted] = deque()
        self._log: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port and serve from a daemon thread."""
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="FakeAnthropic",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and join every server thread."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The URL to give the SDK as ``base_url``, e.g. ``http://127.0.0.1:54321``."""
        if self._server is None:
            raise RuntimeError(
                "FakeAnthropic is not running; use it as a context manager or call start()"
            )
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- scripting -------------------------------------------------------------------------

    def add_reply(
        self,
        blocks: list[Block] | tuple[Block, ...],
        *,
        stop_reason: StopReason | None = None,
        input_tokens: int = DEFAULT_INPUT_TOKENS,
        output_tokens: int | None = None,
        first_event_delay: float = 0.0,
    ) -> None:
        """Queue a reply of these blocks; stop_reason defaults to tool_use if any, else end_turn.

        ``first_event_delay`` (seconds) holds the stream back after its headers.
        """
        reply = make_reply(
            tuple(blocks),
            stop_reason=stop_reason,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            first_event_delay=first_event_delay,
        )
        self._push(reply)

    def add_text(
        self,
        text: str,
        *,
        input_tokens: int = DEFAULT_INPUT_TOKENS,
        output_tokens: int | None = None,
        stop_reason: StopReason = "end_turn",
        first_event_delay: float = 0.0,
    ) -> None:
        """Queue a one-text-block reply."""
        self.add_reply(
            [TextBlock(text)],
            stop_reason=stop_reason,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            first_event_delay=first_event_delay,
        )

    def add_tool_use(
        self,
        name: str,
        input: dict[str, Any],
        *,
        text_before: str | None = None,
        tool_use_id: str | None = None,
        input_tokens: int = DEFAULT_INPUT_TOKENS,
        output_tokens: int | None = None,
        first_event_delay: float = 0.0,
    ) -> str:
        """Queue a reply calling one tool (after optional text); returns the tool_use id."""
        tool_use = ToolUseBlock(name, input, tool_use_id or new_tool_use_id())
        blocks: list[Block] = [TextBlock(text_before)] if text_before is not None else []
        self.add_reply(
            [*blocks, tool_use],
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            first_event_delay=first_event_delay,
        )
        return tool_use.id

    def add_status(
        self,
        status: int,
        *,
        error_type: str | None = None,
        message: str | None = None,
        retry_after: float | None = FAST_RETRY_AFTER,
        should_retry: bool | None = None,
    ) -> None:
        """Queue an HTTP error with Anthropic's error body.

        ``retry_after`` (seconds) is sent as ``retry-after-ms``, which the SDK honours first, and
        as ``retry-after`` in whole seconds like the real API; ``None`` sends neither, leaving the
        SDK to its own backoff. ``should_retry`` sets the ``x-should-retry`` header the SDK obeys.
        """
        if status < 400:
            raise ValueError(f"add_status() is for error statuses, got {status}")
        error_type = error_type or _ERROR_TYPES.get(status, "api_error")
        body = _error_body(error_type, message or _ERROR_MESSAGES.get(error_type, error_type))
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["retry-after-ms"] = f"{retry_after * 1000:g}"
            headers["retry-after"] = str(math.ceil(retry_after))
        if should_retry is not None:
            headers["x-should-retry"] = "true" if should_retry else "false"
        self._push(StatusError(status, body, headers))

    def add_error_event_after(
        self,
        text: str,
        *,
        error_type: str = "overloaded_error",
        message: str = "Overloaded",
        first_event_delay: float = 0.0,
    ) -> None:
        """Queue a stream that sends ``text`` as deltas, then an SSE ``error`` event."""
        error = _error_body(error_type, message)
        self._push(StreamFault("error_event", text, error, first_event_delay))

    def add_drop_between_events(self, text: str) -> None:
        """Queue a stream that sends ``text`` as deltas, then closes cleanly at an event boundary.

        The body is delimited by the connection closing (no chunking), so the HTTP layer sees a
        complete response; only ``content_block_stop``, ``message_delta`` and ``message_stop`` are
        missing.
        """
        self._push(StreamFault("drop", text))

    def add_broken_chunk(self, text: str) -> None:
        """Queue a chunked stream that sends ``text`` as deltas, then hangs up inside a chunk."""
        self._push(StreamFault("broken_chunk", text))

    # -- inspection ------------------------------------------------------------------------

    @property
    def requests(self) -> list[Any]:
        """The JSON bodies of every request received so far, in arrival order."""
        with self._lock:
            return [r.body for r in self._log]

    @property
    def request_log(self) -> list[RecordedRequest]:
        """Every request received so far, with method, path and headers."""
        with self._lock:
            return list(self._log)

    @property
    def pending(self) -> int:
        """How many scripted responses have not been consumed yet."""
        with self._lock:
            return len(self._queue)

    # -- used by the request handler -------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        """Record a request that takes no scripted response (an unknown path, a bad body)."""
        with self._lock:
            self._log.append(request)

    def take_next(self, request: RecordedRequest) -> Scripted:
        """Record a Messages request and return the response scripted for it."""
        with self._lock:
            self._log.append(request)
            if self._queue:
                return self._queue.popleft()
            number = len(self._log)
        if self._default_text is not None:
            return make_reply((TextBlock(self._default_text),))
        message = (
            f"FakeAnthropic: no scripted response left for request #{number}; "
            "script one with add_text(), add_tool_use(), add_reply() or add_status()"
        )
        return StatusError(500, _error_body("api_error", message), {"x-should-retry": "false"})

    def stamp(self, request: RecordedRequest, **times: float) -> None:
        """Put the stream's times on its recorded request (see RecordedRequest)."""
        with self._lock:
            self._log[self._log.index(request)] = replace(request, **times)

    def _push(self, scripted: Scripted) -> None:
        with self._lock:
            self._queue.append(scripted)
