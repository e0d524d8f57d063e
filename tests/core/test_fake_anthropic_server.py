"""The fake Messages API against the real anthropic SDK: replies, tool use, retries, faults."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anthropic
import httpx2
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, TextBlock, ToolUseBlock

MODEL = "claude-test"
MESSAGES: list[Any] = [{"role": "user", "content": "Plan a passing drill"}]
WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def make_client(fake: FakeAnthropic, *, max_retries: int = 0) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="test", base_url=fake.base_url, max_retries=max_retries)


def stream_reply(
    client: anthropic.Anthropic, received: list[str], **params: Any
) -> anthropic.types.Message:
    """Stream one reply, appending every text delta to ``received`` as it arrives."""
    with client.messages.stream(model=MODEL, max_tokens=256, messages=MESSAGES, **params) as stream:
        received.extend(stream.text_stream)
        return stream.get_final_message()


def test_text_reply_streams_word_by_word_with_usage(fake: FakeAnthropic) -> None:
    fake.add_text("Hello there, coach! Ready to train?", input_tokens=12, output_tokens=5)
    received: list[str] = []

    message = stream_reply(make_client(fake), received)

    assert received == ["Hello ", "there, ", "coach! ", "Ready ", "to ", "train?"]
    assert message.content[0].type == "text"
    assert message.content[0].text == "Hello there, coach! Ready to train?"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (12, 5)
    assert message.model == MODEL
    assert message.id.startswith("msg_")
    assert fake.pending == 0


def test_tool_use_reply_is_parsed_and_request_is_recorded(fake: FakeAnthropic) -> None:
    tool_use_id = fake.add_tool_use(
        "get_weather", {"city": "Paris", "days": [1, 2]}, text_before="Checking."
    )
    received: list[str] = []

    message = stream_reply(make_client(fake), received, tools=[WEATHER_TOOL])

    assert received == ["Checking."]
    text, tool_use = message.content
    assert text.type == "text"
    assert tool_use.type == "tool_use"
    assert (tool_use.id, tool_use.name, tool_use.input) == (
        tool_use_id,
        "get_weather",
        {"city": "Paris", "days": [1, 2]},
    )
    assert tool_use_id.startswith("toolu_")
    assert message.stop_reason == "tool_use"
    (request,) = fake.request_log
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.headers["authorization"] == "Bearer test"  # how SDK 2.11 sends api_key
    assert request.body["tools"] == [WEATHER_TOOL]
    assert request.body["messages"] == MESSAGES
    assert request.body["stream"] is True


def test_reply_with_several_tool_uses(fake: FakeAnthropic) -> None:
    fake.add_reply(
        [
            TextBlock("Two lookups."),
            ToolUseBlock("get_weather", {"city": "Paris"}, id="toolu_01paris"),
            ToolUseBlock("get_weather", {"city": "Lyon"}, id="toolu_01lyon"),
        ]
    )

    message = stream_reply(make_client(fake), [], tools=[WEATHER_TOOL])

    assert [(b.type, getattr(b, "id", None)) for b in message.content] == [
        ("text", None),
        ("tool_use", "toolu_01paris"),
        ("tool_use", "toolu_01lyon"),
    ]
    assert [b.input for b in message.content if b.type == "tool_use"] == [
        {"city": "Paris"},
        {"city": "Lyon"},
    ]
    assert message.stop_reason == "tool_use"


def test_max_tokens_stop_reason(fake: FakeAnthropic) -> None:
    fake.add_text("Cut short", stop_reason="max_tokens")

    assert stream_reply(make_client(fake), []).stop_reason == "max_tokens"


def test_non_streaming_request_gets_a_json_message(fake: FakeAnthropic) -> None:
    fake.add_text("Plain reply", input_tokens=3, output_tokens=2)

    message = make_client(fake).messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)

    assert message.content[0].type == "text"
    assert message.content[0].text == "Plain reply"
    assert (message.stop_reason, message.usage.output_tokens) == ("end_turn", 2)
    assert "stream" not in fake.requests[0]


def test_rate_limit_is_retried_by_the_sdk(fake: FakeAnthropic) -> None:
    fake.add_status(429)
    fake.add_text("After the retry")

    message = stream_reply(make_client(fake, max_retries=2), [])

    assert message.content[0].type == "text"
    assert message.content[0].text == "After the retry"
    assert len(fake.requests) == 2
    assert fake.requests[0] == fake.requests[1]
    assert [r.headers["x-stainless-retry-count"] for r in fake.request_log] == ["0", "1"]


def test_overloaded_status_without_retries_raises_overloaded_error(fake: FakeAnthropic) -> None:
    fake.add_status(529)

    with pytest.raises(anthropic.OverloadedError) as raised:
        stream_reply(make_client(fake), [])

    error = raised.value
    assert isinstance(error, anthropic.InternalServerError)
    assert isinstance(error, anthropic.APIStatusError)
    assert (error.status_code, error.type, error.api_message) == (
        529,
        "overloaded_error",
        "Overloaded",
    )
    assert error.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert error.request_id is not None
    assert len(fake.requests) == 1


def test_server_error_status_raises_internal_server_error(fake: FakeAnthropic) -> None:
    fake.add_status(500)

    with pytest.raises(anthropic.InternalServerError) as raised:
        stream_reply(make_client(fake), [])

    assert (raised.value.status_code, raised.value.type) == (500, "api_error")


def test_error_event_mid_stream_raises_plain_api_status_error_with_status_200(
    fake: FakeAnthropic,
) -> None:
    fake.add_error_event_after("Partial answer so far")
    received: list[str] = []

    with pytest.raises(anthropic.APIStatusError) as raised:
        stream_reply(make_client(fake, max_retries=2), received)

    error = raised.value
    assert type(error) is anthropic.APIStatusError
    assert (error.status_code, error.type, error.api_message) == (
        200,
        "overloaded_error",
        "Overloaded",
    )
    assert error.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert "".join(received) == "Partial answer so far"
    assert len(fake.requests) == 1  # the SDK never retries once the stream has started


def test_drop_between_events_ends_the_stream_quietly_without_stop_reason(
    fake: FakeAnthropic,
) -> None:
    fake.add_drop_between_events("Partial answer")
    client = make_client(fake)

    with client.messages.stream(model=MODEL, max_tokens=256, messages=MESSAGES) as stream:
        event_types = [event.type for event in stream]
        message = stream.get_final_message()

    assert "message_stop" not in event_types
    assert message.stop_reason is None
    assert message.content[0].type == "text"
    assert message.content[0].text == "Partial answer"
    assert message.usage.output_tokens == 1  # only message_start's count arrived


def test_broken_chunk_raises_raw_httpx2_protocol_error(fake: FakeAnthropic) -> None:
    fake.add_broken_chunk("Partial answer")
    received: list[str] = []

    with pytest.raises(httpx2.RemoteProtocolError) as raised:
        stream_reply(make_client(fake, max_retries=2), received)

    assert isinstance(raised.value, httpx2.TransportError)
    assert not isinstance(raised.value, anthropic.APIError)
    assert "incomplete chunked read" in str(raised.value)
    assert "".join(received) == "Partial answer"
    assert len(fake.requests) == 1


def test_empty_queue_fails_at_once_with_a_clear_message(fake: FakeAnthropic) -> None:
    with pytest.raises(anthropic.InternalServerError) as raised:
        stream_reply(make_client(fake, max_retries=2), [])

    assert raised.value.api_message is not None
    assert "no scripted response left" in raised.value.api_message
    assert len(fake.requests) == 1  # x-should-retry: false stops the SDK's retries


def test_default_text_answers_every_unscripted_request() -> None:
    with FakeAnthropic(default_text="Offline fallback") as fake:
        client = make_client(fake)
        texts = [stream_reply(client, []).content[0] for _ in range(2)]

    assert [t.text for t in texts if t.type == "text"] == ["Offline fallback", "Offline fallback"]


def test_concurrent_requests_each_take_one_scripted_reply(fake: FakeAnthropic) -> None:
    scripted = [f"Reply number {n}" for n in range(8)]
    for text in scripted:
        fake.add_text(text)
    client = make_client(fake)

    def one_turn(_: int) -> str:
        received: list[str] = []
        stream_reply(client, received)
        return "".join(received)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(one_turn, range(8)))

    assert sorted(answers) == sorted(scripted)
    assert len(fake.requests) == 8


def test_stop_closes_keep_alive_connections_and_joins_threads() -> None:
    fake = FakeAnthropic().start()
    fake.add_text("Hello")
    client = make_client(fake)
    stream_reply(client, [])  # leaves a pooled keep-alive connection open on the server

    fake.stop()

    assert [t.name for t in threading.enumerate() if t.name.startswith("FakeAnthropic")] == []
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.base_url
    client.close()
