"""A realistic synthetic corpus of coaching conversations, for demos and benchmarks.

`load_demo_data` writes coaches coach1..coachN, their chat and drill sessions,
messages (questions, long answers with lists, tool rounds), tool calls, tags
and drills through the same bulk path as archive import
(`ConversationStore.insert_bulk`), one transaction per batch. The corpus is
deterministic for a seed (ids included); times end at `now` and spread over
the months before it. Messages are written in created_at order across all
sessions, as a real server would have written them.
"""

from __future__ import annotations

import heapq
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select

from core.config import DEFAULT_MODEL
from core.demo_text import (
    AGE_GROUPS,
    CALC_QUESTIONS,
    CLOSINGS,
    DAYS,
    DRILL_OPENERS,
    FIRST_NAMES,
    FOLLOW_UPS,
    INTROS,
    LAST_NAMES,
    OPENERS,
    POINTS,
    SHORT_ANSWERS,
    SPORT_NAMES,
    SPORTS,
    TOOL_LEADS,
    TOPIC_TAGS,
)
from core.drills import SESSION_TITLE_PREFIX
from core.errors import NotFound, ValidationError
from core.models import ChatSession
from core.store import BulkBatch, ConversationStore
from core.text import count_words, make_preview, make_title

DEFAULT_BATCH_MESSAGES = 50_000
CONTEXT_BUDGET_TOKENS = 24_000
HISTORY_DAYS = 180
MAX_USER_GAP_SECONDS = 600
# The longest a message can wait for the one before it (a slow reply to a slow question).
MAX_GAP_SECONDS = MAX_USER_GAP_SECONDS + 15
MAX_USERS = 10_000
MAX_MESSAGES = 50_000_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoResult:
    """What load_demo_data wrote."""

    users: int
    users_created: int
    sessions: int
    messages: int
    tool_calls: int
    drills: int
    seconds: float

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class _Context:
    """The facts a session is about; every template fills its slots from here."""

    sport: str
    skill: str
    age: str
    players: int
    minutes: int
    equipment: str
    format: str
    info: dict[str, Any]

    def slots(self, rng: random.Random) -> dict[str, Any]:
        return {
            "sport": self.sport,
            "skill": self.skill,
            "age": self.age,
            "players": self.players,
            "small": max(4, self.players // 2),
            "minutes": self.minutes,
            "equipment": self.equipment,
            "format": self.format,
            "area": self.info["area"],
            "score": self.info["score"],
            "unit": self.info["unit"],
            "day": rng.choice(DAYS),
            "size": rng.choice((10, 15, 20, 25, 30)),
            "seconds": rng.choice((30, 45, 60, 90)),
            "reps": rng.choice((6, 8, 10, 12)),
        }


@dataclass
class _Coach:
    user_id: int
    sports: list[str]
    ages: list[str]
    weight: float


class _Pending(NamedTuple):
    """A message waiting in the time-ordered queue (with the tool calls it issued).

    A plain tuple, so the heap compares (created_at, order) in C; order is unique.
    """

    created_at: datetime
    order: int
    row: dict[str, Any]
    tool_calls: list[dict[str, Any]]


class _BatchWriter:
    """Collects rows into batches and writes each batch in its own transaction.

    Writing happens on the generating thread on purpose: a writer thread was
    measured to gain nothing, because sqlite3 takes the GIL back after every
    row and waits for the generator's switch interval each time.
    """

    def __init__(
        self, store: ConversationStore, batch_messages: int, total: int, progress: Progress | None
    ) -> None:
        self.store = store
        self.batch_messages = batch_messages
        self.total = total
        self.progress = progress
        self.batch = BulkBatch()
        self.messages = 0
        self.tool_calls = 0
        self.drills = 0

    def add_message(self, pending: _Pending) -> None:
        self.batch.messages.append(pending.row)
        self.batch.tool_calls.extend(pending.tool_calls)
        if len(self.batch.messages) >= self.batch_messages:
            self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, BulkBatch()
        if not (batch.sessions or batch.messages or batch.drills):
            return
        self.store.insert_bulk(batch)
        self.messages += len(batch.messages)
        self.tool_calls += len(batch.tool_calls)
        self.drills += len(batch.drills)
        if self.progress is not None:
            self.progress(self.messages, self.total)


@dataclass(frozen=True)
class _ToolRound:
    """One tool round as the coach experiences it: question, call, result, answer."""

    name: str
    question: str
    input: Any
    output: str
    answer: str
    drill_id: str | None = None


class _SessionBuilder:
    """Appends the messages of one session, keeping seq, clock and token counts."""

    def __init__(self, session_id: str, user_id: int, start: datetime, scale: float) -> None:
        self.session_id = session_id
        self.user_id = user_id
        self.clock = start
        self.scale = scale
        self.pending: list[_Pending] = []
        self.context_tokens = 400

    def advance(self, seconds: float) -> None:
        # Strictly increasing times, however small the scale.
        self.clock += timedelta(seconds=max(seconds * self.scale, 0.000001))

    def add(
        self,
        role: str,
        content: str,
        order: int,
        tool_calls: list[dict[str, Any]] | None = None,
        **columns: Any,
    ) -> dict[str, Any]:
        row = {
            "session_id": self.session_id,
            "user_id": self.user_id,
            "seq": len(self.pending) + 1,
            "role": role,
            "content": content,
            "blocks": None,
            "status": "complete",
            "error": None,
            "model": None,
            "input_tokens": None,
            "output_tokens": None,
            "word_count": count_words(content),
            "latency_ms": None,
            "first_token_ms": None,
            "created_at": self.clock,
            "metadata": {},
            **columns,
        }
        self.pending.append(_Pending(self.clock, order, row, tool_calls or []))
        return row


class _Corpus:
    """Turns a seed into sessions of messages; one instance writes one corpus."""

    def __init__(
        self,
        rng: random.Random,
        ids: random.Random,
        now: datetime,
        first_tokens: random.Random | None = None,
    ) -> None:
        self.rng = rng
        self.ids = ids
        # Its own generator: times to first token came later than the corpus, and drawing
        # them from `rng` would have changed every seed's sessions and messages.
        self.first_tokens = first_tokens or random.Random(0)
        self.now = now
        self.order = 0

    def _next_order(self) -> int:
        self.order += 1
        return self.order

    # ---- text

    def question(self, ctx: _Context, first: bool, kind: str) -> str:
        rng = self.rng
        if first:
            template = rng.choice(DRILL_OPENERS if kind == "drill" else OPENERS)
        else:
            template = rng.choice(FOLLOW_UPS)
        return template.format(**ctx.slots(rng))

    def answer(self, ctx: _Context) -> str:
        """Short replies, medium lists and long lists, as a chat assistant gives them."""
        rng = self.rng
        slots = ctx.slots(rng)
        shape = rng.random()
        if shape < 0.25:
            return rng.choice(SHORT_ANSWERS).format(**slots)
        points = rng.sample(POINTS, rng.randint(3, 7) if shape < 0.85 else rng.randint(8, 12))
        numbered = rng.random() < 0.5
        lines = [rng.choice(INTROS).format(**slots), ""]
        for index, point in enumerate(points, 1):
            marker = f"{index}." if numbered else "-"
            lines.append(f"{marker} {point.format(**slots)}")
        lines += ["", rng.choice(CLOSINGS).format(**slots)]
        return "\n".join(lines)

    def drill_fields(self, ctx: _Context) -> dict[str, Any]:
        rng = self.rng
        slots = ctx.slots(rng)
        equipment = rng.sample(ctx.info["equipment"], min(3, len(ctx.info["equipment"])))
        return {
            "title": f"{ctx.format} {ctx.skill} ({ctx.age})",
            "sport": ctx.sport,
            "objective": f"Improve {ctx.skill} in game-like situations.",
            "age_group": ctx.age,
            "players": ctx.players,
            "duration_min": ctx.minutes,
            "equipment": equipment,
            "setup": POINTS[0].format(**slots),
            "steps": [point.format(**slots) for point in rng.sample(POINTS, rng.randint(3, 5))],
            "coaching_points": [
                "Scan before receiving.",
                f"Quality of {ctx.skill} over speed at first.",
            ],
            "progressions": ["Reduce the space.", "Add a defender.", "Limit touches to two."],
            "tags": sorted({ctx.sport, ctx.age.lower()}),
        }

    def tool_round(self, name: str, ctx: _Context) -> _ToolRound:
        rng = self.rng
        if name == "calculator":
            a, b, c = rng.randint(2, 9), rng.randint(5, 30), rng.randint(1, 20)
            total = a * b + c
            return _ToolRound(
                name,
                rng.choice(CALC_QUESTIONS).format(a=a, b=b, c=c),
                {"expression": f"{a} * {b} + {c}"},
                str(total),
                f"That comes to {total}. " + rng.choice(SHORT_ANSWERS).format(**ctx.slots(rng)),
            )
        if name == "search_history":
            # Shaped like the real tool's JSON output.
            results = [
                {
                    "session_title": f"{ctx.skill.capitalize()} for {ctx.age}",
                    "seq": rng.randint(1, 40),
                    "role": "assistant",
                    "snippet": f"…keep the **{ctx.skill}** work short and game-like…",
                }
                for _ in range(rng.randint(1, 3))
            ]
            return _ToolRound(
                name,
                f"What did we say about {ctx.skill} last time?",
                {"query": f"{ctx.skill} {ctx.age}"},
                json.dumps({"query": f"{ctx.skill} {ctx.age}", "results": results}),
                f"You've asked about {ctx.skill} before; building on that:\n\n" + self.answer(ctx),
            )
        if name == "word_count":
            text = self.question(ctx, True, "chat")
            words = count_words(text)
            return _ToolRound(
                name,
                f"How many words is this team talk? {text}",
                {"text": text},
                json.dumps({"words": words, "characters": len(text)}),
                f"That team talk is {words} words, short enough to keep their attention.",
            )
        fields = self.drill_fields(ctx)
        drill_id = _uuid(self.ids)
        return _ToolRound(
            name,
            self.question(ctx, True, "drill"),
            fields,
            json.dumps({"id": drill_id, **fields}),
            "Saved. Here's how to run it:\n\n" + self.answer(ctx),
            drill_id=drill_id,
        )

    # ---- structure

    def _pick_tool(self, kind: str, turn: int, remaining: int) -> str | None:
        # A tool round takes four messages: question, tool_use, tool result, answer.
        if remaining < 4:
            return None
        if kind == "drill" and turn == 0:
            return "create_drill"
        roll = self.rng.random()
        if roll < 0.04:
            return "calculator"
        if roll < 0.06:
            return "search_history"
        if roll < 0.07:
            return "word_count"
        return None

    def _context(self, coach: _Coach) -> _Context:
        rng = self.rng
        sport = rng.choice(coach.sports)
        info = SPORTS[sport]
        return _Context(
            sport=sport,
            skill=rng.choice(info["skills"]),
            age=rng.choice(coach.ages),
            players=rng.choice((8, 10, 12, 14, 16, 18)),
            minutes=rng.choice((10, 15, 20, 25, 30)),
            equipment=rng.choice(info["equipment"]),
            format=rng.choice(info["formats"]),
            info=info,
        )

    def _assistant(self, builder: _SessionBuilder, content: str, **columns: Any) -> None:
        rng = self.rng
        latency = rng.randint(900, 14_000)
        builder.advance(latency / 1000)
        row = builder.add(
            "assistant",
            content,
            self._next_order(),
            model=DEFAULT_MODEL,
            latency_ms=latency,
            **columns,
        )
        if row["status"] != "error":  # an error reply never had a first token
            row["first_token_ms"] = self._first_token_ms(latency)
        if row["status"] == "complete":  # a failed call used no tokens
            # The engine sends the latest messages that fit its budget, not all of them.
            row["input_tokens"] = min(builder.context_tokens, CONTEXT_BUDGET_TOKENS)
            row["output_tokens"] = int(row["word_count"] * 1.35) + rng.randint(5, 40)
            builder.context_tokens += row["output_tokens"]

    def _first_token_ms(self, latency: int) -> int:
        # 300-1500 ms, most near half a second, as Claude streams; never after the reply ended.
        wait = 300 + round(1200 * self.first_tokens.betavariate(2, 5))
        return min(wait, latency - 100)

    def _run_tool_round(
        self, builder: _SessionBuilder, tool: _ToolRound, coach: _Coach
    ) -> dict[str, Any] | None:
        """tool_use from the assistant, the tool message with its result, the final answer."""
        rng = self.rng
        use_id = f"toolu_{rng.getrandbits(64):016x}"
        lead = TOOL_LEADS[tool.name]
        call = {
            "session_id": builder.session_id,
            "user_id": coach.user_id,
            "tool_use_id": use_id,
            "name": tool.name,
            "input": tool.input,
            "output": tool.output,
            "is_error": False,
            "duration_ms": rng.randint(1, 250),
            "message_seq": len(builder.pending) + 1,
        }
        blocks = [
            {"type": "text", "text": lead},
            {"type": "tool_use", "id": use_id, "name": tool.name, "input": tool.input},
        ]
        self._assistant(builder, lead, blocks=blocks, tool_calls=[call])
        builder.advance(call["duration_ms"] / 1000)
        call["created_at"] = builder.clock
        result = [{"type": "tool_result", "tool_use_id": use_id, "content": tool.output}]
        builder.add("tool", "", self._next_order(), blocks=result)
        self._assistant(builder, tool.answer)
        if tool.drill_id is None:
            return None
        return {
            "id": tool.drill_id,
            "user_id": coach.user_id,
            **tool.input,
            "source_session_id": builder.session_id,
            "created_at": call["created_at"],
            "updated_at": call["created_at"],
        }

    def session(
        self, coach: _Coach, length: int, start: datetime
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None, list[_Pending]]:
        """One session: its row, tags, drill (if one was built) and messages in order."""
        rng = self.rng
        kind = "drill" if rng.random() < 0.25 else "chat"
        ctx = self._context(coach)
        budget = (self.now - start).total_seconds()
        # Gaps shrink for very long sessions so that every message stays before `now`.
        scale = min(1.0, budget / 2 / (length * MAX_GAP_SECONDS))
        builder = _SessionBuilder(_uuid(self.ids), coach.user_id, start, scale)
        drill: dict[str, Any] | None = None
        turn = 0
        while len(builder.pending) < length:
            remaining = length - len(builder.pending)
            if turn > 0:
                # Most replies come within minutes; some sessions resume days later,
                # when there is room left before `now` for the rest of the session.
                resume = rng.uniform(86_400, 10 * 86_400)
                room = (self.now - builder.clock).total_seconds()
                if rng.random() < 0.03 and room > resume + remaining * MAX_GAP_SECONDS * scale:
                    builder.advance(resume / scale)
                else:
                    builder.advance(rng.uniform(20, MAX_USER_GAP_SECONDS))
            tool_name = self._pick_tool(kind, turn, remaining)
            tool = self.tool_round(tool_name, ctx) if tool_name else None
            question = tool.question if tool else self.question(ctx, turn == 0, kind)
            builder.add("user", question, self._next_order())
            builder.context_tokens += int(count_words(question) * 1.3)
            turn += 1
            if len(builder.pending) == length:
                break
            if tool is not None:
                drill = self._run_tool_round(builder, tool, coach) or drill
            elif rng.random() < 0.004:
                self._assistant(
                    builder, "", status="error", error="The model is overloaded; try again."
                )
            else:
                self._assistant(builder, self.answer(ctx))
        rows = [item.row for item in builder.pending]
        return (
            self._session_row(coach, builder.session_id, kind, start, rows, drill),
            self._tags(ctx, builder.session_id),
            drill,
            builder.pending,
        )

    def _session_row(
        self,
        coach: _Coach,
        session_id: str,
        kind: str,
        start: datetime,
        rows: list[dict[str, Any]],
        drill: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The session row with the counters add_message would have kept."""
        rng = self.rng
        last_text = next((row["content"] for row in reversed(rows) if row["content"].strip()), "")
        user_title = rng.random() < 0.1
        if user_title:
            title = f"{rng.choice(DAYS)} {rng.choice(('practice', 'session', 'training'))} plan"
        elif drill is not None:  # as the create_drill tool titles its session
            title = SESSION_TITLE_PREFIX + drill["title"]
        else:
            title = make_title(rows[0]["content"])
        return {
            "id": session_id,
            "user_id": coach.user_id,
            "kind": kind,
            "title": title,
            "title_source": "user" if user_title else "auto",
            "drill_id": drill["id"] if drill else None,
            "model": DEFAULT_MODEL,
            "pinned": rng.random() < 0.04,
            "archived": rng.random() < 0.1,
            "metadata": {},
            "message_count": len(rows),
            "word_count": sum(row["word_count"] for row in rows),
            "last_seq": len(rows),
            "last_message_at": rows[-1]["created_at"],
            "preview": make_preview(last_text),
            "created_at": start,
            "updated_at": rows[-1]["created_at"],
        }

    def _tags(self, ctx: _Context, session_id: str) -> list[dict[str, Any]]:
        rng = self.rng
        choices = [ctx.sport, ctx.age.lower(), rng.choice(TOPIC_TAGS), ctx.skill.lower()]
        chosen = sorted(set(rng.sample(choices, rng.randint(0, 3))))
        return [{"session_id": session_id, "tag": tag} for tag in chosen]


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` counts of at least one, unevenly, summing exactly to total."""
    weights = [rng.lognormvariate(0.0, 0.9) for _ in range(parts)]
    extra = total - parts
    scale = extra / sum(weights)
    shares = [weight * scale for weight in weights]
    counts = [1 + int(share) for share in shares]
    short = total - sum(counts)
    # Largest remainders get the leftover messages.
    by_remainder = sorted(range(parts), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    for index in by_remainder[:short]:
        counts[index] += 1
    return counts


def _check_size(users: int, sessions: int, messages: int, batch_messages: int) -> None:
    if not 1 <= users <= MAX_USERS:
        raise ValidationError(f"The number of users must be between 1 and {MAX_USERS:,}.")
    if sessions < 1:
        raise ValidationError("The number of sessions must be at least 1.")
    if not sessions <= messages <= MAX_MESSAGES:
        raise ValidationError(
            f"The number of messages must be between the number of sessions ({sessions:,}) "
            f"and {MAX_MESSAGES:,}."
        )
    if batch_messages < 1:
        raise ValidationError("The batch size must be at least 1 message.")


def _coaches(store: ConversationStore, users: int, rng: random.Random) -> tuple[list[_Coach], int]:
    coaches: list[_Coach] = []
    created = 0
    for number in range(1, users + 1):
        username = f"coach{number}"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        try:
            user = store.get_user(username)
        except NotFound:
            # No password: a demo coach cannot log in until one is set.
            user = store.create_user(
                username, name=f"{first} {last}", email=f"{username}@example.com"
            )
            created += 1
        sports = rng.sample(SPORT_NAMES, rng.choice((1, 1, 2)))
        first_age = rng.randrange(len(AGE_GROUPS) - 1)
        coaches.append(
            _Coach(
                user_id=user.id,
                sports=sports,
                ages=AGE_GROUPS[first_age : first_age + 2],
                weight=rng.uniform(0.5, 2.0),
            )
        )
    return coaches, created


def _refuse_reload(store: ConversationStore, first_session_id: str, seed: int) -> None:
    with store.db.reading() as session:
        exists = session.scalar(select(ChatSession.id).where(ChatSession.id == first_session_id))
    if exists is not None:
        raise ValidationError(
            f"Demo data for seed {seed} is already in this database; choose another --seed."
        )


def load_demo_data(
    store: ConversationStore,
    *,
    users: int = 5,
    sessions: int = 200,
    messages: int = 5_000,
    seed: int = 1,
    now: datetime | None = None,
    batch_messages: int = DEFAULT_BATCH_MESSAGES,
    progress: Progress | None = None,
) -> DemoResult:
    """Write a synthetic corpus with exactly this many sessions and messages.

    Coaches coach1..coach{users} are created without a password unless they
    exist. `progress(messages_written, messages_total)` is called after each
    batch. The same seed and `now` give the same corpus, ids included.
    """
    _check_size(users, sessions, messages, batch_messages)
    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(seed)
    # Ids come from their own generator, so the first session id is known
    # before anything is written.
    ids_seed = f"huddle-demo-ids-{seed}"
    _refuse_reload(store, _uuid(random.Random(ids_seed)), seed)
    ids = random.Random(ids_seed)
    coaches, created = _coaches(store, users, rng)
    owners = rng.choices(coaches, weights=[coach.weight for coach in coaches], k=sessions)
    lengths = _split(messages, sessions, rng)
    window = HISTORY_DAYS * 86_400
    # More sessions in recent weeks than months ago, as usage grows; none in the last hour.
    starts = sorted(
        now - timedelta(seconds=3_600 + rng.random() ** 1.5 * window) for _ in range(sessions)
    )
    corpus = _Corpus(rng, ids, now, random.Random(f"huddle-demo-first-token-{seed}"))
    writer = _BatchWriter(store, batch_messages, messages, progress)
    waiting: list[_Pending] = []
    for owner, length, start in zip(owners, lengths, starts, strict=True):
        # Everything said before this session started is written first, so
        # message ids follow created_at across the whole corpus.
        while waiting and waiting[0].created_at < start:
            writer.add_message(heapq.heappop(waiting))
        row, tags, drill, pending = corpus.session(owner, length, start)
        writer.batch.sessions.append(row)
        writer.batch.tags.extend(tags)
        if drill is not None:
            writer.batch.drills.append(drill)
        for item in pending:
            heapq.heappush(waiting, item)
    while waiting:
        writer.add_message(heapq.heappop(waiting))
    writer.flush()
    return DemoResult(
        users=users,
        users_created=created,
        sessions=sessions,
        messages=writer.messages,
        tool_calls=writer.tool_calls,
        drills=writer.drills,
        seconds=time.perf_counter() - started,
    )
