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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event

from core.db import Database
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
    # Where Huddle's time to the first text goes: SQL statements sent before it, and their
    # execute time (SQLAlchemy's cursor events), per turn.
    statements: list[int]
    sql_ms: list[float]


class _Statements:
    """Counts one engine's statements and adds up their execute time while listening."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine
        self.count, self.seconds = 0, 0.0
        self._began = 0.0

    def _before(self, *_args) -> None:
        self._began = time.perf_counter()

    def _after(self, *_args) -> None:
        self.seconds += time.perf_counter() - self._began
        self.count += 1

    @contextmanager
    def listening(self) -> Iterator[_Statements]:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._before)
            event.remove(self.engine, "after_cursor_execute", self._after)


def time_turns(store: ConversationStore, user_id: int, turns: int) -> TurnTimings:
    """`turns` turns in one session of the coach, one after another, after WARM_UP untimed."""
    session = store.create_session(user_id, title="Engine overhead")
    first_text, bookkeeping, server_first, server_total = [], [], [], []
    statements, sql_ms = [], []
    clock = _Statements(store.db)
    with FakeAnthropic() as fake, clock.listening():
        engine = ChatEngine(
            store, AnthropicModel("bench", model=MODEL, base_url=fake.base_url, max_retries=0)
        )
        for number in range(WARM_UP + turns):
            fake.add_text(REPLY, input_tokens=900, output_tokens=90)
            first, done = None, None
            clock.count, clock.seconds = 0, 0.0
            started = time.perf_counter()
            for shown in engine.send(user_id, session.id, QUESTION.format(n=number)):
                if first is None and isinstance(shown, TextDelta):
                    first = time.perf_counter()
                    before_text = (clock.count, clock.seconds * 1000)
                if isinstance(shown, TurnError):
                    raise RuntimeError(f"A benchmark turn failed: {shown.message}")
                if isinstance(shown, TurnDone):
                    done = shown
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
                statements.append(before_text[0])
                sql_ms.append(before_text[1])
        context = len(fake.requests[-1]["messages"])
    return TurnTimings(
        turns, first_text, bookkeeping, server_first, server_total, context, statements, sql_ms
    )
