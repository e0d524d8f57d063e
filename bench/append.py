"""Appending one message to an existing session through the store, as a chat turn does."""

from __future__ import annotations

import random
import time

from sqlalchemy import text

from core.store import ConversationStore

WARM_UP = 20
# About the length of a demo message, so the search index does the usual work.
_TEXTS = (
    "How do I keep a rondo game-like for U12s when the weaker players lose the ball "
    "every second touch? Number {n}.",
    "Give me a 15 minute finishing block for 14 players with two keepers, mini goals "
    "and a progression for the strikers. Number {n}.",
    "Last time we worked on closeouts; what should the follow-up practice look like "
    "for my varsity group? Number {n}.",
)


def time_appends(store: ConversationStore, count: int, seed: int) -> list[float]:
    """Milliseconds per ConversationStore.add_message, each its own transaction.

    Messages go to sessions spread over all coaches (existing sessions of the
    corpus, taken at random), after WARM_UP untimed appends.
    """
    rng = random.Random(seed)
    with store.db.reading() as session:
        sessions = session.execute(
            text("SELECT user_id, id FROM chat_sessions ORDER BY id LIMIT 5000")
        ).all()
    timings = []
    for number in range(WARM_UP + count):
        user_id, session_id = rng.choice(sessions)
        content = rng.choice(_TEXTS).format(n=number)
        started = time.perf_counter()
        store.add_message(user_id, session_id, "user", content)
        if number >= WARM_UP:
            timings.append((time.perf_counter() - started) * 1000)
    return timings
