"""What a chat turn costs Huddle itself: ChatEngine.send against a fake Messages API.

The fake (tests/fakes/anthropic_server.py, the one the engine's tests script) answers at
once over HTTP on 127.0.0.1, and the real anthropic SDK talks to it, as it would to the
API. The fake stamps when it read each request, when it wrote the first text delta and
when it wrote the last byte; its own time is taken off the turn's, leaving Huddle's
(validating and committing the question, building the context, the SDK and the HTTP
round trip, parsing the stream, committing the reply).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.engine import ChatEngine, TextDelta, TurnDone, TurnError
from core.llm import AnthropicModel
from core.store import ConversationStore
from tests.fakes.anthropic_server import FakeAnthropic

MODEL = "claude-bench"
WARM_UP = 3
# A question and a reply about the length of the demo corpus's.
QUESTION = (
    "My U14 side keeps losing the ball in the middle third when we play out from the back. "
    "What should Thursday's session look like? Turn {n}."
)
REPLY = (
    "Start with a 4v2 rondo in a 12 by 12 grid to rehearse the angles, then move to a "
    "positional game of 6v4 plus two keepers where the back line must find the pivot before "
    "the ball crosses halfway. Finish with an 8v8 where a goal after playing out counts "
    "double, and stop play to freeze the shape when the pivot hides behind a marker."
)


@dataclass(frozen=True)
class TurnTimings:
    turns: int
    first_text_ms: list[float]  # send() to the first TextDelta, the fake's time taken off
    bookkeeping_ms: list[float]  # send() to the turn's end, the fake's streaming taken off
    server_first_ms: list[float]  # the fake: request read to first text written
    server_total_ms: list[float]  # the fake: request read to last byte written
    context_messages: int  # messages the last request sent


def time_turns(store: ConversationStore, user_id: int, turns: int) -> TurnTimings:
    """`turns` turns in one session of the coach, one after another, after WARM_UP untimed."""
    session = store.create_session(user_id, title="Engine overhead")
    first_text, bookkeeping, server_first, server_total = [], [], [], []
    with FakeAnthropic() as fake:
        engine = ChatEngine(
            store, AnthropicModel("bench", model=MODEL, base_url=fake.base_url, max_retries=0)
        )
        for number in range(WARM_UP + turns):
            fake.add_text(REPLY, input_tokens=900, output_tokens=90)
            first, done = None, None
            started = time.perf_counter()
            for event in engine.send(user_id, session.id, QUESTION.format(n=number)):
                if first is None and isinstance(event, TextDelta):
                    first = time.perf_counter()
                if isinstance(event, TurnError):
                    raise RuntimeError(f"A benchmark turn failed: {event.message}")
                if isinstance(event, TurnDone):
                    done = event
            ended = time.perf_counter()
            if first is None or done is None:
                raise RuntimeError("A benchmark turn gave no text.")
            request = fake.request_log[-1]
            own_first = request.first_text_sent - request.received
            own_total = request.finished - request.received
            if number >= WARM_UP:
                first_text.append((first - started - own_first) * 1000)
                bookkeeping.append((ended - started - own_total) * 1000)
                server_first.append(own_first * 1000)
                server_total.append(own_total * 1000)
        context = len(fake.requests[-1]["messages"])
    return TurnTimings(turns, first_text, bookkeeping, server_first, server_total, context)
