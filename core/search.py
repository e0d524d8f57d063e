"""Full-text search over a coach's messages: one query language, compiled for FTS5 and tsvector.

The query language (DESIGN.md, "Search semantics") is parsed by our code
(core/query.py) into a small tree; each dialect compiles that tree
(core/search_match.py) without ever putting user text into SQL. Any string
parses: what cannot be understood is dropped, and a query left with no
positive term finds nothing.

- Words must all match; `"a quoted phrase"` matches those words in that order.
- `OR` (upper case) joins its two neighbours into one alternative and binds
  tighter than the implicit AND: `passing drill OR game` = passing AND (drill OR game).
- `-word` and `-"a phrase"` exclude messages that contain them.
- English stop words are ignored and English stemming applies on both databases.

How it stays fast on a million messages: the coach is part of the index lookup
(FTS5 `user_id : "<id>"` inside the MATCH; PostgreSQL `user_id = … AND
search_vector @@ …` on the one GIN index over both), newest-first pages stop
after one page, and relevance ranks only a bounded pool of the newest matches
(see RANKING_POOL). Each statement picks its way to the matches from what it
finds, not from the planner's guess: SQLite first asks a second index, keyed
by coach, for a few candidates and answers a rare word from them
(FEW_MATCHES); PostgreSQL walks the coach's newest messages when a probe
finds matches dense enough and uses the GIN index otherwise (PROBE_ROWS,
WALK_MOST). Snippets are made only for the
rows of the page being returned. A search is one statement on a pooled
connection, sent to the driver as built once per query shape: no ORM session
and no SQLAlchemy compilation per call.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect

from core.db import Database, unavailable_as_error
from core.errors import ValidationError
from core.models import MESSAGE_ROLES, SESSION_KINDS, UTCDateTime

# The query language is parsed in core/query.py (with the History box's
# operators); these names stay importable from here.
from core.query import MAX_QUERY_CHARS as MAX_QUERY_CHARS
from core.query import MAX_TERMS as MAX_TERMS
from core.query import STOP_WORDS as STOP_WORDS
from core.query import ParsedQuery as ParsedQuery
from core.query import Term as Term
from core.query import parse_query as parse_query
from core.search_match import fts5_candidates, fts5_content_match
from core.search_match import fts5_match as fts5_match
from core.search_match import tsquery_sql as tsquery_sql

SEARCH_ORDERS = ("relevance", "recent")
DEFAULT_LIMIT = 20
MAX_LIMIT = 500
# Relevance ranks the newest RANKING_POOL matches, not every match: scoring
# all of a common word's matches costs hundreds of milliseconds on a million
# messages, the newest 500 a few. Hits past the pool follow it newest first,
# so pages never repeat or skip a hit.
RANKING_POOL = 500

# SQLite snippet(): highlight markers, ellipsis, and the window in tokens.
_SNIPPET_TOKENS = 24
# PostgreSQL ts_headline options giving a snippet of about the same size.
_HEADLINE_OPTIONS = "StartSel=**, StopSel=**, MaxWords=24, MinWords=12, ShortWord=2"


@dataclass(frozen=True)
class SearchHit:
    """One matching message, with its session's title and kind and a `**marked**` snippet."""

    message_id: int
    session_id: str
    session_title: str
    session_kind: str
    seq: int
    role: str
    snippet: str
    created_at: datetime


# ------------------------------------------------------------------ running

# Filters as fixed SQL fragments; only their values travel, as parameters.
# The kind is read by a scalar subquery rather than a join: PostgreSQL cannot
# turn it into a join order, and a join let it plan one GIN scan per session
# (seconds on 200,000 messages) instead of one scan in all.
_FILTER_SQL = {
    "kind": "(SELECT ks.kind FROM chat_sessions AS ks WHERE ks.id = m.session_id) = :kind",
    "role": "m.role = :role",
    "since": "m.created_at >= :since",
    "until": "m.created_at < :until",
    "session_id": "m.session_id = :session_id",
    "exclude_session_id": "m.session_id <> :exclude_session_id",
}
# Ranges of ix_messages_user_created: PostgreSQL's newest-first walk applies
# them inside its index scan.
_DATE_FILTERS = frozenset({"since", "until"})


def _filters_sql(names: Iterable[str]) -> str:
    return "".join(f" AND {_FILTER_SQL[name]}" for name in names)


@dataclass(frozen=True)
class _Search:
    """A non-empty parsed query with its coach and the filters that were given.

    `filters` holds the values as the driver takes them (dates already in
    the database's form); `read_time` turns a stored created_at into an aware
    UTC datetime. Statements go to the driver as they are (exec_driver_sql):
    their text depends only on the query's shape and is built once per shape
    (the lru_caches below), so a search pays neither SQLAlchemy's compiler
    nor its cache-key walk.
    """

    query: ParsedQuery
    user_id: int
    filters: dict[str, Any]
    read_time: Callable[[Any], datetime]

    @property
    def filter_names(self) -> tuple[str, ...]:
        return tuple(self.filters)

    def hits(self, connection: Connection, sql: str, params: dict[str, Any]) -> list[SearchHit]:
        """Run a statement whose columns are those of SearchHit, in its order."""
        rows = connection.exec_driver_sql(sql, {**params, **self.filters}).all()
        return [
            SearchHit(
                row[0], row[1], row[2], row[3], row[4], row[5], row[6] or "", self.read_time(row[7])
            )
            for row in rows
        ]


_TIME_PROCESSORS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {}


def _time_processors(dialect: Dialect) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """UTCDateTime's own conversions (to and from the database) for one dialect.

    The same ones the ORM applies, so filter dates compare with stored times
    exactly as everywhere else; taken from the type once per dialect.
    """
    processors = _TIME_PROCESSORS.get(dialect.name)
    if processors is None:
        column_type = UTCDateTime().dialect_impl(dialect)
        processors = (
            column_type.bind_processor(dialect) or (lambda value: value),
            column_type.result_processor(dialect, None) or (lambda value: value),
        )
        _TIME_PROCESSORS[dialect.name] = processors
    return processors


@contextlib.contextmanager
def _connect(db: Database) -> Iterator[Connection]:
    """A connection of the engine's pool for one search, without an ORM session around it.

    On PostgreSQL it is in autocommit: every search there is one statement
    (two for a relevance page past the ranked pool), a statement is its own
    snapshot, and under READ COMMITTED a transaction would not make two of
    them share one; BEGIN and ROLLBACK would only be two more round trips
    (0.1 ms each here). On SQLite the engine's begin event opens a read
    transaction, so a search's statements share one snapshot.
    """
    with unavailable_as_error(db.url), db.engine.connect() as connection:
        if db.dialect == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


# SQLite. Recency is message id order: ids grow with insertion time, live
# messages are stored as they happen and imports insert in created_at order,
# so it is created_at order in practice (an archive of older messages imported
# after newer ones were written sorts by when it was imported). It is what
# lets FTS5 answer from its index alone. CROSS JOIN fixes SQLite's join order
# so that FTS5 always drives. sqlite3 reads the `:name` parameters itself.
#
# Both orders first read at most FEW_MATCHES of the coach's candidates, from
# the coach index (migration 0008): messages_coach_fts holds the same words
# under the rowid user_id * COACH_SPAN + id, so bounding the rowid to the
# coach's range lets FTS5 seek straight to the coach's few rows in a rare
# word's list (0.05 ms on a million messages), where messages_fts steps
# through the whole list of the coach's messages to intersect it with the
# word (0.3-0.4 ms). The candidates are every message the query's words are
# all in (fts5_candidates), so when fewer than FEW_MATCHES come back they
# hold all the matches, and the statement answers from them: messages_fts
# checks each with the full query and makes its snippet. Otherwise it reads
# newest first from messages_fts as before. A query with a word the coach
# index cannot take reads its first matches from messages_fts instead, in
# ascending order (FTS5's cheap direction). Each statement holds both ways;
# the one not taken matches the empty phrase "", which FTS5 answers at once.
# Were message ids ever to reach COACH_SPAN, the ranges would overlap and the
# statement keeps to messages_fts.

FEW_MATCHES = 20
COACH_SPAN = 2**32

_SQLITE_FEW = {
    False: "early AS MATERIALIZED (SELECT rowid AS id FROM messages_fts "
    "WHERE messages_fts MATCH :match LIMIT :few), "
    "few AS MATERIALIZED (SELECT count(*) < :few AS yes FROM early)",
    True: "early AS MATERIALIZED (SELECT rowid - :coach_low AS id FROM messages_coach_fts "
    "WHERE messages_coach_fts MATCH :candidates "
    "AND rowid BETWEEN :coach_low AND :coach_low + :coach_span - 1 LIMIT :few), "
    "few AS MATERIALIZED (SELECT count(*) < :few "
    "AND (SELECT max(id) FROM messages) < :coach_span AS yes FROM early)",
}
_SQLITE_MANY_MATCH = """messages_fts MATCH (SELECT iif(yes, '""', :match) FROM few)"""
# The few rows are the coach's already (they came from the coach's matches or
# range), so FTS5 checks them without the coach's list: fts5_content_match.
_SQLITE_FEW_MATCH = (
    """messages_fts MATCH (SELECT iif(yes, :content_match, '""') FROM few) """
    "AND messages_fts.rowid IN (SELECT id FROM early)"
)
_SQLITE_HIT_COLUMNS = (
    "m.id, m.session_id, s.title, s.kind, m.seq, m.role, "
    f"snippet(messages_fts, 0, '**', '**', '…', {_SNIPPET_TOKENS}), m.created_at"
)
_SQLITE_HIT_JOINS = (
    "CROSS JOIN messages AS m ON m.id = messages_fts.rowid "
    "CROSS JOIN chat_sessions AS s ON s.id = m.session_id "
)


@functools.lru_cache(maxsize=64)
def _sqlite_recent_sql(filters: tuple[str, ...], coach_index: bool) -> str:
    # Newest first, FTS5 walks its index backwards: no sort, LIMIT ends the
    # walk after one page, and snippet() runs only for the rows returned.
    hits = (
        f"SELECT {_SQLITE_HIT_COLUMNS} FROM messages_fts {_SQLITE_HIT_JOINS}WHERE {{match}} "
        f"AND m.user_id = :user_id AND s.user_id = :user_id{_filters_sql(filters)} "
        "ORDER BY {order} DESC LIMIT :limit OFFSET :offset"
    )
    many = hits.format(match=_SQLITE_MANY_MATCH, order="messages_fts.rowid")
    # The unary + keeps the order out of FTS5: SQLite sorts the few rows.
    few = hits.format(match=_SQLITE_FEW_MATCH, order="+messages_fts.rowid")
    return (
        f"WITH {_SQLITE_FEW[coach_index]} "
        f"SELECT * FROM ({many}) UNION ALL SELECT * FROM ({few}) ORDER BY 1 DESC"
    )


@functools.lru_cache(maxsize=64)
def _sqlite_ranked_sql(filters: tuple[str, ...], coach_index: bool) -> str:
    # Not FTS5's bm25(): it first counts, for every term, the documents of
    # the whole index that contain it (the IDF), which costs 15-35 ms on a
    # million messages before a single row is scored. The same BM25 shape
    # without IDF is cheap and bounded by the pool: tf is how many matches
    # highlight() marks (one char(1) each), length is the message's word
    # count against the pool's average. Like PostgreSQL's ts_rank, it does
    # not weigh rare words above common ones.
    scored = (
        "SELECT messages_fts.rowid AS id, max(m.word_count, 1) AS words, "
        "length(highlight(messages_fts, 0, char(1), '')) - length(m.content) AS tf "
        "FROM messages_fts CROSS JOIN messages AS m ON m.id = messages_fts.rowid "
        f"WHERE {{match}} AND m.user_id = :user_id{_filters_sql(filters)}"
    )
    many = scored.format(match=_SQLITE_MANY_MATCH)
    few = scored.format(match=_SQLITE_FEW_MATCH)
    return (
        f"WITH {_SQLITE_FEW[coach_index]}, "
        f"pool AS MATERIALIZED (SELECT * FROM ({many} ORDER BY messages_fts.rowid DESC "
        f"LIMIT :pool) UNION ALL {few}), "
        "page AS MATERIALIZED ("
        "SELECT id, tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * words / average)) AS score FROM ("
        "SELECT id, tf, words, avg(words) OVER () AS average FROM pool) "
        "ORDER BY score DESC, id DESC LIMIT :limit OFFSET :offset) "
        # Snippets for the page: FTS5 seeking each rowid costs more than
        # walking the matches between the page's lowest and highest id (at
        # most the pool) and keeping the page's rows, which the join does.
        # An empty page matches the empty phrase: bounds of NULL would have
        # FTS5 look through every match for the first one from rowid 0.
        f"SELECT {_SQLITE_HIT_COLUMNS} FROM messages_fts "
        f"CROSS JOIN page ON page.id = messages_fts.rowid {_SQLITE_HIT_JOINS}"
        """WHERE messages_fts MATCH (SELECT iif(count(*), :match, '""') FROM page) """
        "AND messages_fts.rowid BETWEEN (SELECT min(id) FROM page) AND (SELECT max(id) FROM page) "
        "AND m.user_id = :user_id AND s.user_id = :user_id "
        "ORDER BY page.score DESC, page.id DESC"
    )


def _sqlite_params(search: _Search, **values: Any) -> dict[str, Any]:
    return {"match": fts5_match(search.query, search.user_id), "user_id": search.user_id, **values}


def _sqlite_few_params(search: _Search, **values: Any) -> tuple[bool, dict[str, Any]]:
    """Whether the statement reads its first few matches from the coach index, and its values.

    The coach index answers when the query's words fit it and the coach's
    range of rowids fits in 64 bits; otherwise messages_fts does, as before.
    """
    params = _sqlite_params(search, content_match=fts5_content_match(search.query), **values)
    candidates = fts5_candidates(search.query)
    if candidates is None or not 0 <= search.user_id < 2**31:
        return False, params
    params.update(
        candidates=candidates, coach_low=search.user_id * COACH_SPAN, coach_span=COACH_SPAN
    )
    return True, params


def _sqlite_recent(
    connection: Connection, search: _Search, limit: int, offset: int
) -> list[SearchHit]:
    coach_index, params = _sqlite_few_params(search, few=FEW_MATCHES, limit=limit, offset=offset)
    return search.hits(connection, _sqlite_recent_sql(search.filter_names, coach_index), params)


def _sqlite_ranked(
    connection: Connection, search: _Search, limit: int, offset: int
) -> list[SearchHit]:
    # All the matches, when fewer than FEW_MATCHES, are also the whole pool.
    few = min(FEW_MATCHES, RANKING_POOL)
    coach_index, params = _sqlite_few_params(
        search, few=few, pool=RANKING_POOL, limit=limit, offset=offset
    )
    return search.hits(connection, _sqlite_ranked_sql(search.filter_names, coach_index), params)


def _sqlite_session_ids(connection: Connection, search: _Search, limit: int | None) -> list[str]:
    sql = (
        "SELECT m.session_id FROM messages_fts "
        "CROSS JOIN messages AS m ON m.id = messages_fts.rowid "
        "WHERE messages_fts MATCH :match AND m.user_id = :user_id "
        "GROUP BY m.session_id ORDER BY max(messages_fts.rowid) DESC"
    )
    params = _sqlite_params(search)
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return list(connection.exec_driver_sql(sql, params).scalars())


# PostgreSQL. Recency is created_at order. `m.user_id = CAST(… AS bigint)`:
# psycopg sends a small int as smallint, and the GIN index's bigint operator
# class cannot use a bigint = smallint comparison; with the cast the coach and
# the words are answered by one scan of ix_messages_search (checked with
# EXPLAIN).
#
# Both orders start from the coach's newest `need` matches, and there the
# planner's guess cannot be trusted: it estimates how many messages match from
# sampled word frequencies (and, in the generic plan of a prepared statement,
# from a fixed 0.5 % whatever the words), while the two ways to find them
# differ by a hundred times. Walking ix_messages_user_created newest first and
# testing each message costs 1-3 µs a message (more as it goes deeper and
# leaves the cache), so it is the fast way when matches are dense among the
# newest messages: two words that meet in 8 % of messages, a page in 0.2 ms.
# The GIN index costs what the words' posting lists cost: 0.3 ms for a rare
# word, but 5-15 ms for two frequent ones, read whole and sorted, even when
# the newest 300 messages held the page. So the statement measures instead of
# guessing: a probe tests the coach's newest PROBE_ROWS messages; if they
# match densely enough that twice the expected walk stays within WALK_MOST
# messages, that bounded walk runs, and only when it found fewer than `need`
# does the GIN scan run (a gated branch: PostgreSQL skips it otherwise). A
# rare word pays the probe, 0.1 ms. Either way the rows are the exact newest
# `need` matches: a walk that filled up saw every message newer than its last
# match. The plan no longer depends on estimates, so PostgreSQL may keep one
# generic plan per prepared statement (psycopg prepares a statement run five
# times on a connection) and skip planning, 0.3 ms of a rare word's search.

PROBE_ROWS = 100
WALK_MOST = 5_000

_PG_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def _pyformat(sql: str) -> str:
    """Our `:name` parameters in psycopg's `%(name)s` style (a literal % doubled)."""
    return _PG_NAMED_PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))


def _pg_newest_sql(q: str, filters: tuple[str, ...]) -> str:
    """CTEs ending in `newest`: (id, created_at, search_vector) of the coach's newest :need
    matches."""
    dates = _filters_sql(name for name in filters if name in _DATE_FILTERS)
    matching = f"m.search_vector @@ {q}" + _filters_sql(
        name for name in filters if name not in _DATE_FILTERS
    )
    window = (
        "SELECT m.id, m.created_at, m.session_id, m.role, m.search_vector FROM messages AS m "
        f"WHERE m.user_id = CAST(:user_id AS bigint){dates} "
        "ORDER BY m.created_at DESC, m.id DESC"
    )
    # :walk_budget is 2 × need × PROBE_ROWS: budget / found messages is twice
    # the walk the probe's density predicts. Two matches fewer than found are
    # assumed, because a density read from a handful of matches is often
    # twice the true one and a walk that falls short costs its messages and
    # the GIN scan; fewer than three found means the GIN scan.
    walk_rows = (
        "SELECT CASE WHEN (found - 2) * :walk_most >= :walk_budget "
        "THEN :walk_budget / (found - 2) ELSE 0 END FROM probe"
    )
    return (
        f"probe AS MATERIALIZED (SELECT count(*) FILTER (WHERE {matching}) AS found "
        f"FROM ({window} LIMIT :probe_rows) AS m), "
        "walk AS MATERIALIZED (SELECT m.id, m.created_at, m.search_vector "
        f"FROM ({window} LIMIT ({walk_rows})) AS m "
        f"WHERE {matching} ORDER BY m.created_at DESC, m.id DESC LIMIT :need), "
        "newest AS (SELECT * FROM walk WHERE (SELECT count(*) FROM walk) = :need "
        "UNION ALL (SELECT * FROM ("
        # OFFSET 0 plans this as the GIN scan of every match, sorted top-N:
        # planned under the ORDER BY … LIMIT, it could be the index walk
        # again, through all of the coach's messages.
        "SELECT m.id, m.created_at, m.search_vector FROM messages AS m "
        f"WHERE m.user_id = CAST(:user_id AS bigint){dates} AND {matching} OFFSET 0) AS m "
        "WHERE (SELECT count(*) FROM walk) < :need "
        "ORDER BY m.created_at DESC, m.id DESC LIMIT :need))"
    )


def _pg_hits_sql(q: str, order_by: str) -> str:
    # ts_headline re-reads the whole message, so it runs for the page only.
    return (
        "SELECT m.id, m.session_id, s.title, s.kind, m.seq, m.role, "
        f"ts_headline('english', m.content, {q}, :headline), m.created_at "
        "FROM page JOIN messages AS m ON m.id = page.id "
        "JOIN chat_sessions AS s ON s.id = m.session_id "
        f"WHERE s.user_id = CAST(:user_id AS bigint) ORDER BY {order_by}"
    )


@functools.lru_cache(maxsize=256)
def _pg_recent_sql(q: str, filters: tuple[str, ...]) -> str:
    return _pyformat(
        f"WITH {_pg_newest_sql(q, filters)}, "
        "page AS (SELECT id, created_at FROM newest "
        "ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset) "
        + _pg_hits_sql(q, "page.created_at DESC, page.id DESC")
    )


@functools.lru_cache(maxsize=256)
def _pg_ranked_sql(q: str, filters: tuple[str, ...]) -> str:
    # ts_rank over the newest RANKING_POOL matches only.
    return _pyformat(
        f"WITH {_pg_newest_sql(q, filters)}, "
        f"page AS (SELECT id, created_at, ts_rank(search_vector, {q}) AS score FROM newest "
        "ORDER BY score DESC, created_at DESC, id DESC LIMIT :limit OFFSET :offset) "
        + _pg_hits_sql(q, "page.score DESC, page.created_at DESC, page.id DESC")
    )


def _pg_params(search: _Search, need: int, **values: Any) -> tuple[str, dict[str, Any]]:
    """The query's tsquery SQL (numbered from t0, so its text is the shape) and all values.

    The tsquery is a scalar subquery, computed once per statement: once
    psycopg has prepared a statement PostgreSQL may run a generic plan, in
    which phraseto_tsquery() of a parameter is no longer folded into a
    constant but called again for every message tested (2 µs each, 2.5 ms
    over a walk of 1,200 messages).
    """
    params: dict[str, Any] = {}
    q = f"(SELECT {tsquery_sql(search.query, params)})"
    params.update(
        user_id=search.user_id,
        headline=_HEADLINE_OPTIONS,
        need=need,
        probe_rows=PROBE_ROWS,
        walk_most=WALK_MOST,
        walk_budget=2 * need * PROBE_ROWS,
        **values,
    )
    return q, params


def _pg_recent(connection: Connection, search: _Search, limit: int, offset: int) -> list[SearchHit]:
    q, params = _pg_params(search, offset + limit, limit=limit, offset=offset)
    return search.hits(connection, _pg_recent_sql(q, search.filter_names), params)


def _pg_ranked(connection: Connection, search: _Search, limit: int, offset: int) -> list[SearchHit]:
    q, params = _pg_params(search, RANKING_POOL, limit=limit, offset=offset)
    return search.hits(connection, _pg_ranked_sql(q, search.filter_names), params)


def _pg_session_ids(connection: Connection, search: _Search, limit: int | None) -> list[str]:
    params: dict[str, Any] = {"user_id": search.user_id}
    q = f"(SELECT {tsquery_sql(search.query, params)})"
    sql = (
        "SELECT m.session_id FROM messages AS m WHERE m.user_id = CAST(:user_id AS bigint) "
        f"AND m.search_vector @@ {q} GROUP BY m.session_id ORDER BY max(m.created_at) DESC"
    )
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return list(connection.exec_driver_sql(_pyformat(sql), params).scalars())


@dataclass(frozen=True)
class _Dialect:
    recent: Callable[[Connection, _Search, int, int], list[SearchHit]]
    ranked: Callable[[Connection, _Search, int, int], list[SearchHit]]
    session_ids: Callable[[Connection, _Search, int | None], list[str]]


_DIALECTS = {
    "sqlite": _Dialect(_sqlite_recent, _sqlite_ranked, _sqlite_session_ids),
    "postgresql": _Dialect(_pg_recent, _pg_ranked, _pg_session_ids),
}


def _check_choice(value: str | None, choices: Sequence[str], what: str) -> None:
    if value is not None and value not in choices:
        raise ValidationError(f"The {what} must be one of {', '.join(choices)}, not {value!r}.")


def search_messages(
    db: Database,
    user_id: int,
    query: str,
    *,
    kind: str | None = None,
    role: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    session_id: str | None = None,
    exclude_session_id: str | None = None,
    order: str = "relevance",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[SearchHit]:
    """One page of the coach's messages matching `query`, archived sessions included.

    Any query string is accepted; one with nothing positive left finds
    nothing. `order` is "relevance" (best first among the newest RANKING_POOL
    matches, ties newest first, then the rest newest first) or "recent".
    `since` is inclusive and `until` exclusive, both on the message's
    created_at. A bad `kind`, `role` or `order` raises ValidationError.
    """
    _check_choice(kind, SESSION_KINDS, "session kind")
    _check_choice(role, MESSAGE_ROLES, "role")
    _check_choice(order, SEARCH_ORDERS, "search order")
    parsed = parse_query(query)
    if parsed.is_empty:
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    write_time, read_time = _time_processors(db.engine.dialect)
    given = {
        "kind": kind,
        "role": role,
        "since": None if since is None else write_time(since),
        "until": None if until is None else write_time(until),
        "session_id": None if session_id is None else str(session_id),
        "exclude_session_id": None if exclude_session_id is None else str(exclude_session_id),
    }
    filters = {name: value for name, value in given.items() if value is not None}
    search = _Search(parsed, user_id, filters, read_time)
    dialect = _DIALECTS[db.dialect]
    with _connect(db) as connection:
        if order == "recent":
            return dialect.recent(connection, search, limit, offset)
        hits = dialect.ranked(connection, search, limit, offset) if offset < RANKING_POOL else []
        if len(hits) == limit or offset + len(hits) < RANKING_POOL:
            return hits  # a full page, or every match fitted in the pool
        # Past the ranked pool the remaining matches follow, newest first, so
        # pages never repeat or skip a hit.
        rest = dialect.recent(connection, search, limit - len(hits), max(offset, RANKING_POOL))
        return hits + rest


def matching_session_ids(
    db: Database, user_id: int, query: str, *, limit: int | None = None
) -> list[str]:
    """Ids of the coach's sessions with at least one matching message, latest match first.

    `limit` None means all of them (export --query takes every such session).
    """
    parsed = parse_query(query)
    if parsed.is_empty:
        return []
    search = _Search(parsed, user_id, {}, _time_processors(db.engine.dialect)[1])
    with _connect(db) as connection:
        return _DIALECTS[db.dialect].session_ids(
            connection, search, None if limit is None else max(0, int(limit))
        )
