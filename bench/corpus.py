"""The benchmark corpus: demo data of a given size, and the query words picked from it."""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations, pairwise

from sqlalchemy import text

from core.db import Database
from core.demo import DemoResult, load_demo_data
from core.search import STOP_WORDS, fts5_match, parse_query, tsquery_sql
from core.store import ConversationStore

# Share of the corpus the picked words should match (see pick_queries).
RARE_SHARE = 0.0005
PHRASE_SHARE = 0.01
TWO_WORDS_SHARE = 0.05
# About how many messages are read to find the words (every n-th id).
SAMPLE_MESSAGES = 50_000
_WORD = re.compile(r"[^\W_]+")
# A phrase is two words with only spaces between them, not across punctuation.
_CLAUSE = re.compile(r"[^\w\s]+|_")


@dataclass(frozen=True)
class CorpusSize:
    users: int
    sessions: int
    messages: int


@dataclass(frozen=True)
class BenchQuery:
    """One query kind: the search text, and the substrings a LIKE scan must find for it."""

    kind: str
    text: str
    substrings: tuple[str, ...]


def build_corpus(
    store: ConversationStore, size: CorpusSize, seed: int, now: datetime
) -> DemoResult:
    """core.demo.load_demo_data into the store, with a progress line per batch on stderr."""

    def progress(done: int, total: int) -> None:
        print(f"  demo-data: {done:,} of {total:,} messages", file=sys.stderr, flush=True)

    return load_demo_data(
        store,
        users=size.users,
        sessions=size.sessions,
        messages=size.messages,
        seed=seed,
        now=now,
        progress=progress,
    )


def coach_ids(db: Database) -> list[int]:
    with db.reading() as session:
        return list(session.scalars(text("SELECT id FROM users ORDER BY id")))


def _sample(db: Database) -> list[list[list[str]]]:
    """An evenly spread sample of messages with text: each one's clauses, as lower-cased
    tokens."""
    with db.reading() as session:
        total = session.scalar(text("SELECT count(*) FROM messages")) or 1
        every = max(1, total // SAMPLE_MESSAGES)
        contents = session.scalars(
            text("SELECT content FROM messages WHERE id % :every = 0 AND content <> ''"),
            {"every": every},
        )
        return [
            [_WORD.findall(clause) for clause in _CLAUSE.split(content.lower())]
            for content in contents
        ]


def _is_word(token: str, shortest: int = 4) -> bool:
    return token.isalpha() and len(token) >= shortest and token not in STOP_WORDS


def _nearest(counts: Counter, total: int, share: float) -> list:
    return sorted(counts, key=lambda key: (abs(counts[key] / total - share), key))


def pick_queries(db: Database) -> list[BenchQuery]:
    """The four query kinds, with words chosen from the corpus itself.

    Rare word: the word whose share of messages in the sample is nearest
    RARE_SHARE (about 500 of a million messages), confirmed by the index
    (stemming can join several surface words into one search). Common word:
    the most frequent word. Phrase: the two-word phrase nearest PHRASE_SHARE.
    Two words: two frequent words that are not a phrase together, whose
    messages in common are nearest TWO_WORDS_SHARE.
    """
    sample = _sample(db)
    total = len(sample) or 1
    words: Counter = Counter()
    phrases: Counter = Counter()
    for clauses in sample:
        words.update({token for tokens in clauses for token in tokens if _is_word(token)})
        phrases.update(
            {
                (first, second)
                for tokens in clauses
                for first, second in pairwise(tokens)
                if _is_word(first) and _is_word(second)
            }
        )
    common = words.most_common(1)[0][0]
    # The index has the last word: of the nearest candidates by sample, the one
    # whose real match count is nearest the target.
    candidates = _nearest(words, total, RARE_SHARE)[:12]
    corpus = count_messages(db)
    rare = min(
        candidates,
        key=lambda word: (abs(count_matches(db, word) / corpus - RARE_SHARE), word),
    )
    phrase = _nearest(phrases, total, PHRASE_SHARE)[0]
    frequent = [word for word, _ in words.most_common(40) if word != common]
    holders: dict[str, set[int]] = {word: set() for word in frequent}
    for index, clauses in enumerate(sample):
        for word in holders.keys() & {token for tokens in clauses for token in tokens}:
            holders[word].add(index)
    together = Counter(
        {
            (first, second): len(holders[first] & holders[second])
            for first, second in combinations(frequent, 2)
            if (first, second) not in phrases and (second, first) not in phrases
        }
    )
    pair = _nearest(together, total, TWO_WORDS_SHARE)[0]
    return [
        BenchQuery("rare word", rare, (rare,)),
        BenchQuery("common word", common, (common,)),
        BenchQuery("phrase", f'"{phrase[0]} {phrase[1]}"', (f"{phrase[0]} {phrase[1]}",)),
        BenchQuery("two words", f"{pair[0]} {pair[1]}", pair),
    ]


def count_messages(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(text("SELECT count(*) FROM messages")) or 0)


def count_matches(db: Database, query: str) -> int:
    """How many messages of all coaches the search query matches, as search_messages matches.

    The search is coach-scoped, so this adds up the coaches' counts, each
    compiled exactly as core.search compiles it.
    """
    parsed = parse_query(query)
    found = 0
    with db.reading() as session:
        for user_id in session.scalars(text("SELECT id FROM users")):
            if db.dialect == "sqlite":
                sql = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH :match"
                params: dict = {"match": fts5_match(parsed, user_id)}
            else:
                params = {"user_id": user_id}
                sql = (
                    "SELECT count(*) FROM messages WHERE user_id = CAST(:user_id AS bigint) "
                    f"AND search_vector @@ {tsquery_sql(parsed, params)}"
                )
            found += int(session.scalar(text(sql), params) or 0)
    return found
