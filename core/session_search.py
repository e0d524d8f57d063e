"""Search grouped by session, for the History page: which sessions match, how often, best snippets.

A HistoryQuery's words are matched against the coach's messages (all roles
unless role: says one), restricted to the sessions its SessionFilter keeps
(the same `session_conditions` the listing uses, so an operator and its widget
select the same sessions). One statement reads the matches, newest first, of
the coach's kept sessions; Python groups them by session; a second reads the
scores of the newest RANKING_POOL of them (relevance only); a third the
sessions of the page; a fourth the snippets of the page's sessions only.

Cost is bounded by MATCH_CAP: a common word matches thousands of a coach's
messages (`players`: 9,000 of coach1's 21,800 in the demo corpus), and reading
all of them costs about 4 µs each on SQLite (75 ms for those 9,000). So at most
the newest MATCH_CAP matches are read. When there are more, the page says so:
`total_capped` (the total is "at least"), and `hits_capped` on each session
that may have older matches than the ones counted. Sessions whose every match
is older than the newest MATCH_CAP matches are not found; a narrower query or
a filter finds them.

Relevance, as in core/search.py, ranks only the newest RANKING_POOL matches:
a session's score is its best-scoring hit among them, and sessions with no
hit there follow, newest match first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    TextClause,
    bindparam,
    column,
    select,
    table,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import ValidationError
from core.models import ChatSession, Message
from core.query import HistoryQuery
from core.search import (
    _HEADLINE_OPTIONS,
    _SNIPPET_TOKENS,
    RANKING_POOL,
    SEARCH_ORDERS,
    SearchHit,
    _time_processors,
    fts5_match,
    tsquery_sql,
)
from core.session_list import session_conditions

MATCH_CAP = 2_000
SNIPPETS_PER_SESSION = 3
MAX_PAGE = 500


@dataclass(frozen=True)
class SessionMatch:
    """One session that matches, with how many of its messages do and its best snippets."""

    session: ChatSession
    hits: int  # matching messages counted; a lower bound when hits_capped
    snippets: list[SearchHit] = field(default_factory=list)  # the best three, **match** marked
    hits_capped: bool = False


@dataclass(frozen=True)
class SessionSearchPage:
    items: list[SessionMatch]
    total: int  # matching sessions; "at least" when total_capped
    offset: int
    limit: int
    total_capped: bool = False

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass
class _Found:
    """One session's matches among those read: ids newest first, and its best score."""

    session_id: str
    ids: list[int] = field(default_factory=list)
    score: float | None = None


# ------------------------------------------------------------ per dialect


_M = Message.__table__.alias("m")
_FTS = table("messages_fts", column("rowid"))


def _sqlite_matches(query: HistoryQuery, user_id: int, sessions: Select[Any]) -> Select[Any]:
    # FTS5 drives (its newest-first walk of the coach's matches, the coach
    # inside the MATCH; a test reads the plan), each match finds its message
    # by primary key, and the sessions the filter keeps are one list
    # subquery, evaluated once rather than per message.
    return _matches(
        _FTS.join(_M, _M.c.id == _FTS.c.rowid),
        text("messages_fts MATCH :match AND m.user_id = :user_id").bindparams(
            match=fts5_match(query.words, user_id), user_id=user_id
        ),
        query,
        sessions,
        order=[_FTS.c.rowid.desc()],
    )


# PostgreSQL: the newest MATCH_CAP + 1 matches, found the way core/search.py
# finds a page (read its comments on the probe, the walk and the gated GIN
# scan), with the kept sessions and the role tested inside both. A common
# word matches ~40 % of a coach's messages, so the 2,001 newest matches lie
# within ~5,000 messages; the GIN scan, which the planner picks because the
# scalar subquery hides the words, reads all 414,000 matches of a million
# (the bitmap goes lossy) and sorts them: 550 ms against ~12 ms for the walk.
# The probe is larger than search.py's because a filter can make matches
# sparse: it must still measure densities of one in a hundred. The walk
# tests a message's session (a hashed list of the kept sessions, built once)
# only after its words matched. Walked messages cost ~0.7 µs each and a GIN
# match ~1.3 µs, so the walk is worth it far deeper than search.py's one
# page: WALK_MOST bounds it.
PROBE_ROWS = 1_000
WALK_MOST = 400_000
SPARSE_WALK_MOST = 20_000
DENSE_WORDS = 25
WALK_FACTOR = 3


def _pg_matches_sql(words: str, matching: str, kept: str) -> str:
    window = (
        "SELECT m.id, m.session_id, m.role, m.created_at, m.search_vector FROM messages AS m "
        "WHERE m.user_id = CAST(:user_id AS bigint) ORDER BY m.created_at DESC, m.id DESC"
    )
    # :walk_budget / (found - 2) is WALK_FACTOR times the walk the probe's
    # density predicts, two matches fewer assumed; fewer than three: GIN.
    # Three, not search.py's two: the newest messages often match more
    # densely than older ones, and a walk that falls short pays for its
    # messages and then the GIN scan (is:pinned walked 129,000 messages for
    # 1,959 of 2,001 matches with two).
    # A walk longer than SPARSE_WALK_MOST only when the words alone match at
    # least one probed message in DENSE_WORDS (4 %): only then does the GIN scan
    # read more (a phrase in 3 % of messages: 30,000 matches, 40 ms, against
    # a walk of 200,000 messages for the same 2,001).
    walk_rows = (
        "SELECT CASE WHEN (found - 2) * :walk_most >= :walk_budget "
        "AND (words * :dense_words >= :probe_rows "
        "OR (found - 2) * :sparse_walk_most >= :walk_budget) "
        "THEN :walk_budget / (found - 2) ELSE 0 END FROM probe"
    )
    return (
        f"WITH kept AS MATERIALIZED ({kept}), "
        f"probe AS MATERIALIZED (SELECT count(*) FILTER (WHERE {matching}) AS found, "
        f"count(*) FILTER (WHERE {words}) AS words "
        f"FROM ({window} LIMIT :probe_rows) AS m), "
        "walk AS MATERIALIZED (SELECT m.id, m.session_id, m.created_at "
        f"FROM ({window} LIMIT ({walk_rows})) AS m "
        f"WHERE {matching} ORDER BY m.created_at DESC, m.id DESC LIMIT :need), "
        "newest AS (SELECT * FROM walk WHERE (SELECT count(*) FROM walk) = :need "
        "UNION ALL (SELECT * FROM ("
        # OFFSET 0: the GIN scan of every match, sorted top-N (see search.py).
        "SELECT m.id, m.session_id, m.created_at FROM messages AS m "
        f"WHERE m.user_id = CAST(:user_id AS bigint) AND {matching} OFFSET 0) AS m "
        "WHERE (SELECT count(*) FROM walk) < :need "
        "ORDER BY m.created_at DESC, m.id DESC LIMIT :need)) "
        "SELECT id, session_id FROM newest ORDER BY created_at DESC, id DESC"
    )


# Only for writing the kept sessions' subquery into the statement's text; its
# values stay bound parameters with their types (dates as stored), and the
# engine's own compiler adds psycopg's casts when the statement runs.
_PG_NAMED = postgresql.dialect(paramstyle="named")
_PG_NAMED.bind_typing = BindTyping.NONE


def _pg_matches(query: HistoryQuery, user_id: int, sessions: Select[Any]) -> TextClause:
    kept = sessions.compile(dialect=_PG_NAMED)
    params: dict[str, Any] = {}
    words = f"m.search_vector @@ (SELECT {tsquery_sql(query.words, params)})"
    matching = words
    if query.role is not None:
        matching += " AND m.role = :role"
        params["role"] = query.role
    # The kept sessions are read once (a CTE) and hashed by each use.
    matching += " AND m.session_id IN (SELECT id FROM kept)"
    need = MATCH_CAP + 1
    params.update(
        user_id=user_id,
        need=need,
        probe_rows=PROBE_ROWS,
        walk_most=WALK_MOST,
        sparse_walk_most=SPARSE_WALK_MOST,
        dense_words=DENSE_WORDS,
        walk_budget=WALK_FACTOR * need * PROBE_ROWS,
    )
    kept_params = [
        bindparam(name, value, type_=kept.binds[name].type) for name, value in kept.params.items()
    ]
    return text(_pg_matches_sql(words, matching, str(kept))).bindparams(*kept_params, **params)


def _matches(
    source: FromClause,
    match: ColumnElement[bool],
    query: HistoryQuery,
    sessions: Select[Any],
    order: list[Any],
) -> Select[Any]:
    """(id, session_id) of the newest MATCH_CAP + 1 matches in the kept sessions."""
    statement = (
        select(_M.c.id, _M.c.session_id)
        .select_from(source)
        .where(match, _M.c.session_id.in_(sessions))
        .order_by(*order)
        .limit(MATCH_CAP + 1)
    )
    if query.role is not None:
        statement = statement.where(_M.c.role == query.role)
    return statement


def _sqlite_scores(session: Session, query: HistoryQuery, user_id: int, ids: list[int]):
    # The BM25 shape without IDF of core/search.py: tf is how many matches
    # highlight() marks, length the message's word count. The unary + keeps
    # the id list out of FTS5, which walks the matches between the lowest and
    # highest id: seeking each id costs 3-10 times more (phrases the most).
    rows = session.execute(
        text(
            "SELECT messages_fts.rowid, "
            "length(highlight(messages_fts, 0, char(1), '')) - length(m.content), "
            "max(m.word_count, 1) FROM messages_fts "
            "CROSS JOIN messages AS m ON m.id = messages_fts.rowid "
            "WHERE messages_fts MATCH :match AND m.user_id = :user_id "
            "AND messages_fts.rowid BETWEEN :low AND :high AND +messages_fts.rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {
            "match": fts5_match(query.words, user_id),
            "user_id": user_id,
            "low": min(ids),
            "high": max(ids),
            "ids": ids,
        },
    ).all()
    if not rows:
        return {}
    average = sum(row[2] for row in rows) / len(rows)
    return {
        row[0]: row[1] * 2.2 / (row[1] + 1.2 * (0.25 + 0.75 * row[2] / average)) for row in rows
    }


def _pg_scores(session: Session, query: HistoryQuery, user_id: int, ids: list[int]):
    params: dict[str, Any] = {}
    q = tsquery_sql(query.words, params)
    rows = session.execute(
        text(
            f"SELECT m.id, ts_rank(m.search_vector, (SELECT {q})) FROM messages AS m "
            "WHERE m.id IN :ids AND m.user_id = CAST(:user_id AS bigint)"
        ).bindparams(bindparam("ids", expanding=True)),
        {**params, "ids": ids, "user_id": user_id},
    ).all()
    return {row[0]: float(row[1]) for row in rows}


_HIT_COLUMNS = "m.id, m.session_id, s.title, s.kind, m.seq, m.role, {snippet}, m.created_at"


def _sqlite_snippets(session: Session, query: HistoryQuery, user_id: int, ids: list[int]):
    snippet = f"snippet(messages_fts, 0, '**', '**', '…', {_SNIPPET_TOKENS})"
    return session.execute(
        text(
            f"SELECT {_HIT_COLUMNS.format(snippet=snippet)} FROM messages_fts "
            "CROSS JOIN messages AS m ON m.id = messages_fts.rowid "
            "CROSS JOIN chat_sessions AS s ON s.id = m.session_id "
            "WHERE messages_fts MATCH :match AND m.user_id = :user_id AND s.user_id = :user_id "
            "AND messages_fts.rowid BETWEEN :low AND :high AND +messages_fts.rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {
            "match": fts5_match(query.words, user_id),
            "user_id": user_id,
            "low": min(ids),
            "high": max(ids),
            "ids": ids,
        },
    ).all()


def _pg_snippets(session: Session, query: HistoryQuery, user_id: int, ids: list[int]):
    params: dict[str, Any] = {}
    q = tsquery_sql(query.words, params)
    snippet = f"ts_headline('english', m.content, (SELECT {q}), :headline)"
    return session.execute(
        text(
            f"SELECT {_HIT_COLUMNS.format(snippet=snippet)} FROM messages AS m "
            "JOIN chat_sessions AS s ON s.id = m.session_id "
            "WHERE m.id IN :ids AND m.user_id = CAST(:user_id AS bigint) "
            "AND s.user_id = CAST(:user_id AS bigint)"
        ).bindparams(bindparam("ids", expanding=True)),
        {**params, "ids": ids, "user_id": user_id, "headline": _HEADLINE_OPTIONS},
    ).all()


_DIALECTS = {
    "sqlite": (_sqlite_matches, _sqlite_scores, _sqlite_snippets),
    "postgresql": (_pg_matches, _pg_scores, _pg_snippets),
}


# ---------------------------------------------------------------- search


def _group(rows: Sequence[Any]) -> dict[str, _Found]:
    """Matches (newest first) by session, in order of each session's newest match."""
    found: dict[str, _Found] = {}
    for message_id, session_id in rows:
        entry = found.get(session_id)
        if entry is None:
            entry = found[session_id] = _Found(session_id)
        entry.ids.append(message_id)
    return found


def _ordered(found: dict[str, _Found], scores: dict[int, float], order: str) -> list[_Found]:
    sessions = list(found.values())  # newest match first already
    if order == "recent":
        return sessions
    for entry in sessions:
        scored = [scores[i] for i in entry.ids if i in scores]
        entry.score = max(scored) if scored else None
    ranked = [entry for entry in sessions if entry.score is not None]
    ranked.sort(key=lambda entry: -entry.score)  # stable: ties stay newest first
    return ranked + [entry for entry in sessions if entry.score is None]


def search_sessions(
    db: Database,
    user_id: int,
    query: HistoryQuery,
    *,
    order: str = "relevance",
    limit: int = 50,
    offset: int = 0,
) -> SessionSearchPage:
    """One page of the coach's sessions with messages matching the query's words.

    Only sessions that query.filters keeps; only messages of query.role when
    it is set. `order` is "relevance" (best hit first) or "recent" (newest
    match first). A query without positive words finds nothing. The counts
    cover the newest MATCH_CAP matches (see the module docstring). A bad
    order or filter value raises ValidationError.
    """
    if order not in SEARCH_ORDERS:
        raise ValidationError(
            f"The search order must be one of {', '.join(SEARCH_ORDERS)}, not {order!r}."
        )
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    if not query.searching:
        return SessionSearchPage([], 0, offset, limit)
    kept = select(ChatSession.id).where(*session_conditions(user_id, query.filters))
    matches, scores_of, snippets_of = _DIALECTS[db.dialect]
    with db.reading() as session:
        rows = session.execute(matches(query, user_id, kept)).all()
        capped = len(rows) > MATCH_CAP
        rows = rows[:MATCH_CAP]
        found = _group(rows)
        scores: dict[int, float] = {}
        if order == "relevance":
            ranked = [row[0] for row in rows[:RANKING_POOL]]
            scores = scores_of(session, query, user_id, ranked) if ranked else {}
        page = _ordered(found, scores, order)[offset : offset + limit]
        chats = {
            chat.id: chat
            for chat in session.scalars(
                select(ChatSession).where(
                    ChatSession.user_id == user_id,
                    ChatSession.id.in_([entry.session_id for entry in page]),
                )
            )
        }
        # Best score first; unscored hits (and ties) stay newest first (a stable sort).
        best = {
            entry.session_id: sorted(entry.ids, key=lambda i: -scores.get(i, -1.0))[
                :SNIPPETS_PER_SESSION
            ]
            for entry in page
        }
        wanted = [i for ids in best.values() for i in ids]
        hits = (
            {row[0]: row for row in snippets_of(session, query, user_id, wanted)} if wanted else {}
        )
        # The oldest match read: a session begun after it has all its matches counted.
        oldest = (
            session.scalar(select(Message.created_at).where(Message.id == rows[-1][0]))
            if capped
            else None
        )
    read_time = _time_processors(db.engine.dialect)[1]
    items = [
        SessionMatch(
            session=chats[entry.session_id],
            hits=len(entry.ids),
            snippets=[_hit(hits[i], read_time) for i in best[entry.session_id] if i in hits],
            hits_capped=oldest is not None and chats[entry.session_id].created_at <= oldest,
        )
        for entry in page
        if entry.session_id in chats
    ]
    return SessionSearchPage(items, len(found), offset, limit, total_capped=capped)


def _hit(row: Any, read_time: Callable[[Any], datetime]) -> SearchHit:
    return SearchHit(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6] or "", read_time(row[7])
    )
