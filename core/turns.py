"""Chat turns run by workers of the server process, followed by pages through the database.

A Streamlit rerun (a click elsewhere, a reload, a closed tab) stops the script
that runs it, so a turn must not run in the page's script. `TurnRunner.start`
stores the coach's message, claims the session in `chat_turns` (one running turn
per session) and hands the engine's events to a small thread pool. The worker
writes the round's text as it streams, the tool that runs and how the turn
ended; a page reads that row to show a turn in progress, from any tab or
replica, and `request_stop` asks the worker to stop.

A turn whose worker is gone (the server was killed or restarted) is marked
`interrupted` and its partial text stored as a reply to retry, at start-up and on
every heartbeat: core/turn_liveness.py says how a dead worker is told from a live
one, on one server or on several replicas.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.engine import ChatEngine, TextDelta, ToolFinished, ToolStarted, TurnDone, TurnError
from core.errors import HuddleError, NotFound, ValidationError
from core.models import ChatSession, ChatTurn, utcnow
from core.turn_liveness import dead_turns, interrupt_turn, turn_lock

log = logging.getLogger(__name__)

WORKERS = 8
# How often the streamed text is written (a page polls about as often).
FLUSH_S = 0.25
HEARTBEAT_S = 2.0
# A running turn whose heartbeat is older than this has lost its worker.
STALE_S = 30.0
BUSY = "A reply is still being written in this conversation: wait for it to finish, or stop it."


_KEEP = object()  # _write: leave the column as it is


class TurnBusy(ValidationError):
    """The session already has a turn running."""


@dataclass(frozen=True)
class TurnView:
    """What a page needs of a turn: how far it got and how it ended."""

    id: str
    session_id: str
    question_seq: int
    status: str
    text: str
    text_after_seq: int
    tool: str | None
    error: str | None
    stop_requested: bool

    @property
    def running(self) -> bool:
        return self.status == "running"

    @classmethod
    def of(cls, turn: ChatTurn) -> TurnView:
        return cls(
            turn.id,
            turn.session_id,
            turn.question_seq,
            turn.status,
            turn.text,
            turn.text_after_seq,
            turn.tool,
            turn.error,
            turn.stop_requested,
        )


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TurnRunner:
    """Runs turns in a thread pool; one per server process (the page caches it)."""

    def __init__(
        self,
        engine: ChatEngine,
        *,
        workers: int = WORKERS,
        flush_s: float = FLUSH_S,
        heartbeat_s: float = HEARTBEAT_S,
        stale_s: float = STALE_S,
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.db = engine.store.db
        self.owner = _owner()
        self.flush_s = flush_s
        self.heartbeat_s = heartbeat_s
        self.stale_s = stale_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="huddle-turn")
        self._stops: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.recover(starting=True)
        self._heart = threading.Thread(target=self._beat, name="huddle-turn-heartbeat", daemon=True)
        self._heart.start()

    # ------------------------------------------------------------------ starting

    def start(self, user_id: int, session_id: str, text: str, *, zone: str = "UTC") -> TurnView:
        """Store the coach's message and answer it in a worker (tools answer in `zone`).

        ValidationError (empty, oversize; TurnBusy while another turn of the session
        runs) and NotFound come before anything is stored.
        """
        text = self.engine.check_message(text)
        session = self.store.get_session(user_id, session_id)
        turn_id = self._claim(user_id, session, session.last_seq + 1)
        stop = self._stop_event(turn_id)
        try:
            events = self.engine.send(user_id, session.id, text, stop=stop, zone=zone)
        except BaseException:
            self._release(turn_id)
            raise
        # The question is the session's newest message now.
        with self.db.writing() as db_session:
            db_session.execute(
                update(ChatTurn)
                .where(ChatTurn.id == turn_id)
                .values(
                    question_seq=select(ChatSession.last_seq)
                    .where(ChatSession.id == session.id)
                    .scalar_subquery()
                )
            )
        return self._launch(turn_id, events)

    def retry(self, user_id: int, session_id: str, *, zone: str = "UTC") -> TurnView:
        """Answer again the session's last failed message, in a worker."""
        session = self.store.get_session(user_id, session_id)
        question = self.engine.failed_turn(user_id, session.id)
        if question is None:
            raise ValidationError("There is no failed reply to retry in this conversation.")
        turn_id = self._claim(user_id, session, question.seq)
        stop = self._stop_event(turn_id)
        try:
            events = self.engine.retry_turn(user_id, session.id, stop=stop, zone=zone)
        except BaseException:
            self._release(turn_id)
            raise
        return self._launch(turn_id, events)

    def _claim(self, user_id: int, session: ChatSession, question_seq: int) -> str:
        now = utcnow()
        turn = ChatTurn(
            session_id=session.id,
            user_id=user_id,
            question_seq=question_seq,
            text_after_seq=session.last_seq,
            owner=self.owner,
            started_at=now,
            heartbeat_at=now,
        )
        try:
            with self.db.writing() as db_session:
                db_session.add(turn)
        except IntegrityError:
            raise TurnBusy(BUSY) from None
        return turn.id

    def _release(self, turn_id: str) -> None:
        """A claim whose turn never started (the message was refused): remove it."""
        with self.db.writing() as session:
            session.execute(ChatTurn.__table__.delete().where(ChatTurn.id == turn_id))
        with self._lock:
            self._stops.pop(turn_id, None)

    def _stop_event(self, turn_id: str) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._stops[turn_id] = event
        return event

    def _launch(self, turn_id: str, events: Iterator) -> TurnView:
        self._pool.submit(self._work, turn_id, events)
        with self.db.reading() as session:
            return TurnView.of(session.get(ChatTurn, turn_id))

    # ------------------------------------------------------------------ the worker

    def _work(self, turn_id: str, events: Iterator) -> None:
        with turn_lock(self.db, turn_id):
            try:
                self._follow(turn_id, events)
            except Exception as exc:  # a bug: the turn must still end
                log.exception("chat turn %s failed", turn_id)
                self._finish(turn_id, "failed", f"Something went wrong ({type(exc).__name__}).")
            finally:
                with self._lock:
                    self._stops.pop(turn_id, None)

    def _follow(self, turn_id: str, events: Iterator) -> None:
        received: list[str] = []
        written = 0.0
        for event in events:
            if isinstance(event, TextDelta):
                # A round's first words: what is stored now is what they follow.
                new_round = not received
                received.append(event.text)
                if new_round or time.monotonic() - written >= self.flush_s:
                    self._write(turn_id, text="".join(received), new_round=new_round)
                    written = time.monotonic()
            elif isinstance(event, ToolStarted):
                # The round's message (its text and tool_use) is stored by now.
                received.clear()
                self._write(turn_id, text="", tool=event.name, new_round=True)
            elif isinstance(event, ToolFinished):
                self._write(turn_id, tool=None, new_round=True)
            elif isinstance(event, TurnDone):
                self._finish(turn_id, "complete", None)
                return
            elif isinstance(event, TurnError):
                stopped = self._stop_requested(turn_id)
                self._finish(turn_id, "stopped" if stopped else "failed", event.message)
                return
        self._finish(turn_id, "failed", "The reply ended without an answer; try again.")

    def _write(
        self,
        turn_id: str,
        *,
        text: str | None = None,
        tool: str | object | None = _KEEP,
        new_round: bool = False,
    ) -> None:
        values: dict[str, object] = {"heartbeat_at": utcnow()}
        if text is not None:
            values["text"] = text
        if tool is not _KEEP:
            values["tool"] = tool
        with self.db.writing() as session:
            if new_round:
                values["text_after_seq"] = (
                    select(ChatSession.last_seq)
                    .where(ChatSession.id == ChatTurn.session_id)
                    .scalar_subquery()
                )
            session.execute(update(ChatTurn).where(ChatTurn.id == turn_id).values(**values))

    def _finish(self, turn_id: str, status: str, error: str | None) -> None:
        with self.db.writing() as session:
            session.execute(
                update(ChatTurn)
                .where(ChatTurn.id == turn_id, ChatTurn.status == "running")
                .values(status=status, error=error, text="", tool=None, finished_at=utcnow())
            )

    def _stop_requested(self, turn_id: str) -> bool:
        with self._lock:
            event = self._stops.get(turn_id)
        return bool(event and event.is_set())

    # ------------------------------------------------------------------ reading, stopping

    def get(self, user_id: int, turn_id: str) -> TurnView:
        with self.db.reading() as session:
            turn = session.scalar(
                select(ChatTurn).where(ChatTurn.id == turn_id, ChatTurn.user_id == user_id)
            )
        if turn is None:
            raise NotFound("That reply was not found.")
        return TurnView.of(turn)

    def progress(self, user_id: int, turn_id: str) -> tuple[TurnView, int]:
        """The turn and its session's last seq, in one query (a page polls this)."""
        with self.db.reading() as session:
            found = session.execute(
                select(ChatTurn, ChatSession.last_seq)
                .join(ChatSession, ChatSession.id == ChatTurn.session_id)
                .where(ChatTurn.id == turn_id, ChatTurn.user_id == user_id)
            ).first()
        if found is None:
            raise NotFound("That reply was not found.")
        return TurnView.of(found[0]), int(found[1])

    def running_turn(self, user_id: int, session_id: str) -> TurnView | None:
        """The session's turn in progress, if any."""
        with self.db.reading() as session:
            turn = session.scalar(
                select(ChatTurn).where(
                    ChatTurn.session_id == session_id,
                    ChatTurn.user_id == user_id,
                    ChatTurn.status == "running",
                )
            )
        return None if turn is None else TurnView.of(turn)

    def running_sessions(self, user_id: int) -> set[str]:
        """The coach's sessions whose reply is being written (the sidebar marks them)."""
        with self.db.reading() as session:
            return set(
                session.scalars(
                    select(ChatTurn.session_id).where(
                        ChatTurn.user_id == user_id, ChatTurn.status == "running"
                    )
                )
            )

    def request_stop(self, user_id: int, turn_id: str) -> None:
        """Ask the turn's worker, on whichever replica, to stop; it keeps what arrived."""
        with self.db.writing() as session:
            found = session.execute(
                update(ChatTurn)
                .where(
                    ChatTurn.id == turn_id,
                    ChatTurn.user_id == user_id,
                    ChatTurn.status == "running",
                )
                .values(stop_requested=True)
            ).rowcount
        if not found:
            return  # already ended
        with self._lock:
            event = self._stops.get(turn_id)
        if event is not None:
            event.set()

    # ------------------------------------------------------------------ liveness

    def _beat(self) -> None:
        """Every few seconds: say our turns are alive, pass on stop requests, recover."""
        while not self._closed.wait(self.heartbeat_s):
            try:
                self._heartbeat()
                self.recover(starting=False)
            except HuddleError as exc:  # the database is away; try again next beat
                log.warning("turn heartbeat: %s", exc)
            except Exception:
                log.exception("turn heartbeat failed")

    def _heartbeat(self) -> None:
        with self._lock:
            mine = list(self._stops)
        if not mine:
            return
        with self.db.writing() as session:
            session.execute(
                update(ChatTurn)
                .where(ChatTurn.id.in_(mine), ChatTurn.status == "running")
                .values(heartbeat_at=utcnow())
            )
            stopped = session.scalars(
                select(ChatTurn.id).where(ChatTurn.id.in_(mine), ChatTurn.stop_requested)
            ).all()
        with self._lock:
            for turn_id in stopped:
                if turn_id in self._stops:
                    self._stops[turn_id].set()

    def recover(self, *, starting: bool) -> int:
        """Mark the running turns of workers that are gone as interrupted; how many.

        Each keeps its partial text as a reply with status partial (or error without
        text), which the page offers to retry (core/turn_liveness.py).
        """
        dead = dead_turns(
            self.db,
            self.owner,
            starting=starting,
            heartbeat_s=self.heartbeat_s,
            stale_s=self.stale_s,
        )
        return sum(interrupt_turn(self.store, turn_id, self.engine.model.name) for turn_id in dead)

    # ------------------------------------------------------------------ shutting down

    def close(self, wait: bool = False) -> None:
        self._closed.set()
        self._pool.shutdown(wait=wait)
