"""Full-text search over a coach's messages: one query language, compiled for FTS5 and tsvector.

The query language (DESIGN.md, "Search semantics") is parsed here, by our code,
into a small tree; each dialect compiles that tree without ever putting user
text into SQL. Any string parses: what cannot be understood is dropped, and a
query left with no positive term finds nothing.

- Words must all match; `"a quoted phrase"` matches those words in that order.
- `OR` (upper case) joins its two neighbours into one alternative and binds
  tighter than the implicit AND: `passing drill OR game` = passing AND (drill OR game).
- `-word` and `-"a phrase"` exclude messages that contain them.
- English stop words are ignored and English stemming applies on both databases.

How it stays fast on a million messages: the coach is part of the index lookup
(FTS5 `user_id : "<id>"` inside the MATCH; PostgreSQL `user_id = … AND
search_vector @@ …` on the one GIN index over both), newest-first pages walk
the index backwards and stop after one page, and relevance ranks only a
bounded pool of the newest matches (see RANKING_POOL). Snippets are made only
for the rows of the page being returned.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Row, bindparam, text
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import ValidationError
from core.models import MESSAGE_ROLES, SESSION_KINDS, UTCDateTime

SEARCH_ORDERS = ("relevance", "recent")
DEFAULT_LIMIT = 20
MAX_LIMIT = 500
# Longer input is cut here and terms past MAX_TERMS are ignored: a pasted
# page of text must not turn into a query with thousands of operators.
MAX_QUERY_CHARS = 1_000
MAX_TERMS = 24
# Relevance ranks the newest RANKING_POOL matches, not every match: scoring
# all of a common word's matches costs hundreds of milliseconds on a million
# messages, the newest 500 a few. Hits past the pool follow it newest first,
# so pages never repeat or skip a hit.
RANKING_POOL = 500

# PostgreSQL's English stop words, copied verbatim from
# /usr/share/postgresql/15/tsearch_data/english.stop (the list the 'english'
# configuration uses). FTS5 has no stop words, so the parser drops these for
# both databases and a query means the same thing on each.
STOP_WORDS = frozenset(
    [
        "i",
        "me",
        "my",
        "myself",
        "we",
        "our",
        "ours",
        "ourselves",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "he",
        "him",
        "his",
        "himself",
        "she",
        "her",
        "hers",
        "herself",
        "it",
        "its",
        "itself",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
        "what",
        "which",
        "who",
        "whom",
        "this",
        "that",
        "these",
        "those",
        "am",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "a",
        "an",
        "the",
        "and",
        "but",
        "if",
        "or",
        "because",
        "as",
        "until",
        "while",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "against",
        "between",
        "into",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "to",
        "from",
        "up",
        "down",
        "in",
        "out",
        "on",
        "off",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "here",
        "there",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "s",
        "t",
        "can",
        "will",
        "just",
        "don",
        "should",
        "now",
    ]
)

# A token is a run of letters and digits, as FTS5's unicode61 tokenizer cuts
# text (everything else separates tokens).
_TOKEN = re.compile(r"[^\W_]+")
# One lexeme of the query: an optional leading "-" (exclusion) then either a
# quoted phrase (the closing quote may be missing) or a bare word.
_LEXEME = re.compile(r'(?P<minus>-(?=\S))?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')

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


@dataclass(frozen=True)
class Term:
    """A word or phrase of the query.

    `text` is what the person typed (PostgreSQL's own parser reads it, so
    "3.5" or "3-on-3" are cut the way stored text was cut); `tokens` are its
    lower-cased letter-and-digit tokens in order, stop words included, because
    their positions matter inside a phrase.
    """

    text: str
    tokens: tuple[str, ...]

    @property
    def words(self) -> tuple[str, ...]:
        """The tokens that are searched for: stop words left out."""
        return tuple(token for token in self.tokens if token not in STOP_WORDS)


@dataclass(frozen=True)
class ParsedQuery:
    """A parsed query: an AND of OR groups, minus the excluded terms.

    Every group in `required` must match (any one term of a group will do);
    no term in `excluded` may.
    """

    required: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing positive is left to search for; such a query finds nothing."""
        return not self.required


def _clean_query(text: Any) -> str:
    # NUL and lone surrogates cannot be sent to either database; everything
    # else a person can type goes through as a bound parameter.
    if not isinstance(text, str):
        return ""
    text = text[:MAX_QUERY_CHARS]
    return "".join(ch for ch in text if ch != "\x00" and unicodedata.category(ch) != "Cs")


def parse_query(text: str) -> ParsedQuery:
    """Parse any string into a ParsedQuery; never raises."""
    groups: list[list[Term | None]] = []
    excluded: list[Term] = []
    pending_or = False
    after_positive = False  # whether the last term was a positive one (an OR's left side)
    terms_seen = 0
    for match in _LEXEME.finditer(_clean_query(text)):
        phrase, word = match.group("phrase"), match.group("word")
        if word == "OR" and not match.group("minus"):
            # Only joins two positive neighbours; a dangling OR is ignored.
            pending_or = after_positive
            continue
        if terms_seen == MAX_TERMS:
            break
        terms_seen += 1
        raw = phrase if phrase is not None else word
        tokens = tuple(token.lower() for token in _TOKEN.findall(raw))
        term = Term(text=raw.strip(), tokens=tokens)
        # A term with no word left (stop words, punctuation) still holds its
        # place, so `drill the OR game` means drill AND game, as in
        # PostgreSQL's websearch_to_tsquery, not drill OR game.
        searched = term if term.words else None
        if match.group("minus"):
            if searched is not None:
                excluded.append(searched)
        elif pending_or:
            groups[-1].append(searched)
        else:
            groups.append([searched])
        after_positive = not match.group("minus")
        pending_or = False
    required = tuple(
        kept for kept in (tuple(t for t in group if t is not None) for group in groups) if kept
    )
    return ParsedQuery(required=required, excluded=tuple(excluded))


# ------------------------------------------------------------- FTS5 MATCH


def _fts5_string(value: str) -> str:
    """An FTS5 string literal: nothing inside it can be read as FTS5 syntax."""
    return '"' + value.replace('"', '""') + '"'


def _fts5_term(term: Term) -> str:
    """A term as an FTS5 phrase, with stop words handled like phraseto_tsquery.

    PostgreSQL drops stop words from a phrase but keeps their places:
    "pass the ball" becomes 'pass' <2> 'ball', which matches "pass the ball"
    and "pass a ball". FTS5 has no stop words and no ordered "exactly n apart"
    operator, so a phrase with stop words inside becomes NEAR() of the runs of
    other words, allowing as many tokens between them as stop words were
    dropped. That finds everything PostgreSQL finds, and also the runs swapped
    or closer together ("ball, the pass", "pass ball"): FTS5's NEAR is
    unordered and "at most n apart". Stop words at either end are dropped, as
    PostgreSQL does.

    NEAR lets one occurrence stand for two equal runs, so "3 on 3" would find
    any "3"; a phrase with a repeated run stays literal instead, stop words
    included (it then finds "3 on 3" but not "3 v 3", which PostgreSQL finds).
    """
    runs: list[list[str]] = []
    gap = skipped = 0
    for token in term.tokens:
        if token in STOP_WORDS:
            skipped += 1
        elif runs and not skipped:
            runs[-1].append(token)
        else:
            gap += skipped if runs else 0
            runs.append([token])
            skipped = 0
    phrases = [_fts5_string(" ".join(run)) for run in runs]
    if len(phrases) == 1:
        return phrases[0]
    if len(set(phrases)) < len(phrases):
        kept = [i for i, token in enumerate(term.tokens) if token not in STOP_WORDS]
        return _fts5_string(" ".join(term.tokens[kept[0] : kept[-1] + 1]))
    return f"NEAR({' '.join(phrases)}, {gap})"


def fts5_match(query: ParsedQuery, user_id: int) -> str:
    """The FTS5 MATCH expression for a non-empty query, with the coach inside it.

    The coach's id is a term on the index's user_id column, so FTS5 intersects
    it with the words and never produces another coach's rows; the user's
    terms are confined to the content column.
    """
    groups = " AND ".join(
        "(" + " OR ".join(_fts5_term(term) for term in group) + ")" for group in query.required
    )
    expression = f"(user_id : {_fts5_string(str(int(user_id)))} AND content : ({groups}))"
    if query.excluded:
        excluded = " OR ".join(_fts5_term(term) for term in query.excluded)
        expression = f"{expression} NOT content : ({excluded})"
    return expression


# ------------------------------------------------------- PostgreSQL tsquery


def _tsquery_term(term: Term, params: dict[str, Any]) -> str:
    """A term as a tsquery, read two ways and OR-ed.

    PostgreSQL's parser reading the text as typed finds what it stored for
    "3-on-3" or "3.5"; the words joined by spaces also match "passing-drill"
    as "passing drill", as FTS5 does. phraseto_tsquery keeps a multi-word term
    in order, turns stop words inside it into distance, and never raises.
    """
    readings = [term.text]
    spaced = " ".join(term.tokens)
    if spaced != term.text.lower():
        readings.append(spaced)
    parts = []
    for reading in readings:
        name = f"t{len(params)}"
        params[name] = reading
        parts.append(f"phraseto_tsquery('english', :{name})")
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def tsquery_sql(query: ParsedQuery, params: dict[str, Any]) -> str:
    """The tsquery of a non-empty query, composed with tsquery operators from bound values.

    Adds the values to `params`; the SQL returned holds only our own text.
    """
    parts = [
        "(" + " || ".join(_tsquery_term(term, params) for term in group) + ")"
        for group in query.required
    ]
    parts += [f"(!! {_tsquery_term(term, params)})" for term in query.excluded]
    return "(" + " && ".join(parts) + ")"


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
_HIT_COLUMNS = "m.id, m.session_id, s.title, s.kind, m.seq, m.role, m.created_at"


@dataclass(frozen=True)
class _Search:
    """A non-empty parsed query with its coach and the filters that were given."""

    query: ParsedQuery
    user_id: int
    filters: dict[str, Any]

    @property
    def filters_sql(self) -> str:
        return "".join(f" AND {_FILTER_SQL[name]}" for name in self.filters)

    def execute(
        self,
        session: Session,
        sql: str,
        params: dict[str, Any],
        *binds: BindParameter,
        filtered: bool = True,
    ) -> Sequence[Row]:
        """Run one of our statements; `filtered` ones also get the filter values (dates typed)."""
        if filtered:
            dates = [bindparam(name, type_=UTCDateTime()) for name in ("since", "until")]
            binds = (*binds, *[param for param in dates if param.key in self.filters])
            params = {**params, **self.filters}
        statement = text(sql).bindparams(*binds).columns(created_at=UTCDateTime())
        return session.execute(statement, params).all()


def _hit(row: Row) -> SearchHit:
    return SearchHit(
        message_id=row.id,
        session_id=row.session_id,
        session_title=row.title,
        session_kind=row.kind,
        seq=row.seq,
        role=row.role,
        snippet=row.snippet or "",
        created_at=row.created_at,
    )


# SQLite. Recency is message id order: ids grow with insertion time, live
# messages are stored as they happen and imports insert in created_at order,
# so it is created_at order in practice (an archive of older messages imported
# after newer ones were written sorts by when it was imported). It is what
# lets FTS5 answer from its index alone. CROSS JOIN fixes SQLite's join order
# so that FTS5 always drives.

_SNIPPET = f"snippet(messages_fts, 0, '**', '**', '…', {_SNIPPET_TOKENS}) AS snippet"
_SQLITE_HIT_JOINS = (
    "CROSS JOIN messages AS m ON m.id = messages_fts.rowid "
    "CROSS JOIN chat_sessions AS s ON s.id = m.session_id "
)


def _sqlite_recent(session: Session, search: _Search, limit: int, offset: int) -> list[SearchHit]:
    # FTS5 walks its index newest rowid first: no sort, LIMIT ends the walk
    # after one page, and snippet() runs only for the rows returned.
    sql = (
        f"SELECT {_HIT_COLUMNS}, {_SNIPPET} FROM messages_fts {_SQLITE_HIT_JOINS}"
        "WHERE messages_fts MATCH :match AND m.user_id = :user_id AND s.user_id = :user_id"
        f"{search.filters_sql} ORDER BY messages_fts.rowid DESC LIMIT :limit OFFSET :offset"
    )
    params = {
        "match": fts5_match(search.query, search.user_id),
        "user_id": search.user_id,
        "limit": limit,
        "offset": offset,
    }
    return [_hit(row) for row in search.execute(session, sql, params)]


def _sqlite_ranked(session: Session, search: _Search, limit: int, offset: int) -> list[SearchHit]:
    # Not FTS5's bm25(): it first counts, for every term, the documents of
    # the whole index that contain it (the IDF), which costs 15-35 ms on a
    # million messages before a single row is scored. The same BM25 shape
    # without IDF is cheap and bounded by the pool: tf is how many matches
    # highlight() marks (one char(1) each), length is the message's word
    # count against the pool's average. Like PostgreSQL's ts_rank, it does
    # not weigh rare words above common ones.
    page_sql = (
        "SELECT id FROM ("
        "SELECT id, tf, words, avg(words) OVER () AS average FROM ("
        "SELECT messages_fts.rowid AS id, max(m.word_count, 1) AS words, "
        "length(highlight(messages_fts, 0, char(1), '')) - length(m.content) AS tf "
        "FROM messages_fts CROSS JOIN messages AS m ON m.id = messages_fts.rowid "
        f"WHERE messages_fts MATCH :match AND m.user_id = :user_id{search.filters_sql} "
        "ORDER BY messages_fts.rowid DESC LIMIT :pool)) "
        "ORDER BY tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * words / average)) DESC, id DESC "
        "LIMIT :limit OFFSET :offset"
    )
    match = fts5_match(search.query, search.user_id)
    params = {
        "match": match,
        "user_id": search.user_id,
        "pool": RANKING_POOL,
        "limit": limit,
        "offset": offset,
    }
    ids = [row.id for row in search.execute(session, page_sql, params)]
    if not ids:
        return []
    # Snippets for the page: FTS5 seeking each rowid costs more than walking
    # the matches between the page's lowest and highest id (at most the pool)
    # and keeping the page's rows; the unary + keeps the IN list out of FTS5.
    hits_sql = (
        f"SELECT {_HIT_COLUMNS}, {_SNIPPET} FROM messages_fts {_SQLITE_HIT_JOINS}"
        "WHERE messages_fts MATCH :match AND messages_fts.rowid BETWEEN :low AND :high "
        "AND +messages_fts.rowid IN :ids AND m.user_id = :user_id AND s.user_id = :user_id"
    )
    params = {
        "match": match,
        "low": min(ids),
        "high": max(ids),
        "ids": ids,
        "user_id": search.user_id,
    }
    rows = search.execute(
        session, hits_sql, params, bindparam("ids", expanding=True), filtered=False
    )
    by_id = {row.id: _hit(row) for row in rows}
    return [by_id[message_id] for message_id in ids if message_id in by_id]


def _sqlite_session_ids(session: Session, search: _Search, limit: int | None) -> list[str]:
    sql = (
        "SELECT m.session_id FROM messages_fts "
        "CROSS JOIN messages AS m ON m.id = messages_fts.rowid "
        "WHERE messages_fts MATCH :match AND m.user_id = :user_id "
        "GROUP BY m.session_id ORDER BY max(messages_fts.rowid) DESC"
    )
    params: dict[str, Any] = {
        "match": fts5_match(search.query, search.user_id),
        "user_id": search.user_id,
    }
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return list(session.scalars(text(sql), params))


# PostgreSQL. Recency is created_at order. `m.user_id = CAST(… AS bigint)`:
# psycopg sends a small int as smallint, and the GIN index's bigint operator
# class cannot use a bigint = smallint comparison; with the cast the coach and
# the words are answered by one scan of ix_messages_search (checked with
# EXPLAIN). For newest-first pages the planner may instead walk
# ix_messages_user_created backwards (common words: it stops after a page).

_PG_NEWEST = "ORDER BY m.created_at DESC, m.id DESC"


def _pg_matches(search: _Search, q: str) -> str:
    return (
        "FROM messages AS m WHERE m.user_id = CAST(:user_id AS bigint) "
        f"AND m.search_vector @@ {q}{search.filters_sql}"
    )


def _pg_hits(page_sql: str, q: str, order_by: str) -> str:
    # ts_headline re-reads the whole message, so it runs for the page only.
    return (
        f"WITH page AS ({page_sql}) "
        f"SELECT {_HIT_COLUMNS}, ts_headline('english', m.content, {q}, :headline) AS snippet "
        "FROM page JOIN messages AS m ON m.id = page.id "
        "JOIN chat_sessions AS s ON s.id = m.session_id "
        f"WHERE s.user_id = CAST(:user_id AS bigint) {order_by}"
    )


def _pg_recent(session: Session, search: _Search, limit: int, offset: int) -> list[SearchHit]:
    params: dict[str, Any] = {"user_id": search.user_id, "headline": _HEADLINE_OPTIONS}
    q = tsquery_sql(search.query, params)
    page_sql = f"SELECT m.id {_pg_matches(search, q)} {_PG_NEWEST} LIMIT :limit OFFSET :offset"
    sql = _pg_hits(page_sql, q, _PG_NEWEST)
    rows = search.execute(session, sql, {**params, "limit": limit, "offset": offset})
    return [_hit(row) for row in rows]


def _pg_ranked(session: Session, search: _Search, limit: int, offset: int) -> list[SearchHit]:
    params: dict[str, Any] = {"user_id": search.user_id, "headline": _HEADLINE_OPTIONS}
    q = tsquery_sql(search.query, params)
    # ts_rank over the newest RANKING_POOL matches only.
    page_sql = (
        f"SELECT id, ts_rank(search_vector, {q}) AS score FROM ("
        f"SELECT m.id, m.created_at, m.search_vector {_pg_matches(search, q)} "
        f"{_PG_NEWEST} LIMIT :pool) AS pool "
        "ORDER BY score DESC, created_at DESC, id DESC LIMIT :limit OFFSET :offset"
    )
    sql = _pg_hits(page_sql, q, "ORDER BY page.score DESC, m.created_at DESC, m.id DESC")
    params.update(pool=RANKING_POOL, limit=limit, offset=offset)
    return [_hit(row) for row in search.execute(session, sql, params)]


def _pg_session_ids(session: Session, search: _Search, limit: int | None) -> list[str]:
    params: dict[str, Any] = {"user_id": search.user_id}
    q = tsquery_sql(search.query, params)
    sql = (
        f"SELECT m.session_id {_pg_matches(search, q)} "
        "GROUP BY m.session_id ORDER BY max(m.created_at) DESC"
    )
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return list(session.scalars(text(sql), params))


@dataclass(frozen=True)
class _Dialect:
    recent: Callable[[Session, _Search, int, int], list[SearchHit]]
    ranked: Callable[[Session, _Search, int, int], list[SearchHit]]
    session_ids: Callable[[Session, _Search, int | None], list[str]]


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
    given = {
        "kind": kind,
        "role": role,
        "since": since,
        "until": until,
        "session_id": None if session_id is None else str(session_id),
        "exclude_session_id": None if exclude_session_id is None else str(exclude_session_id),
    }
    search = _Search(
        parsed, user_id, {name: value for name, value in given.items() if value is not None}
    )
    dialect = _DIALECTS[db.dialect]
    with db.reading() as session:
        if order == "recent":
            return dialect.recent(session, search, limit, offset)
        hits = dialect.ranked(session, search, limit, offset) if offset < RANKING_POOL else []
        if len(hits) == limit or offset + len(hits) < RANKING_POOL:
            return hits  # a full page, or every match fitted in the pool
        # Past the ranked pool the remaining matches follow, newest first, so
        # pages never repeat or skip a hit.
        rest = dialect.recent(session, search, limit - len(hits), max(offset, RANKING_POOL))
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
    search = _Search(parsed, user_id, {})
    with db.reading() as session:
        return _DIALECTS[db.dialect].session_ids(
            session, search, None if limit is None else max(0, int(limit))
        )
