"""The query language compiled for each database: FTS5 MATCH expressions and tsquery SQL.

Nothing a person typed ever becomes SQL: FTS5 gets it inside string literals
of its own syntax, PostgreSQL as bound values of phraseto_tsquery().
"""

from __future__ import annotations

import re
from typing import Any

from core.query import STOP_WORDS, ParsedQuery, Term

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


def _fts5_words(query: ParsedQuery) -> str:
    """The query's words as FTS5 sees them: the groups confined to the content column."""
    return " AND ".join(
        "(" + " OR ".join(_fts5_term(term) for term in group) + ")" for group in query.required
    )


def _fts5_excluded(query: ParsedQuery) -> str:
    if not query.excluded:
        return ""
    return f" NOT content : ({' OR '.join(_fts5_term(term) for term in query.excluded)})"


def fts5_match(query: ParsedQuery, user_id: int) -> str:
    """The FTS5 MATCH expression for a non-empty query, with the coach inside it.

    The coach's id is a term on the index's user_id column, so FTS5 intersects
    it with the words and never produces another coach's rows; the user's
    terms are confined to the content column.
    """
    coach = _fts5_string(str(int(user_id)))
    return f"(user_id : {coach} AND content : ({_fts5_words(query)})){_fts5_excluded(query)}"


def fts5_content_match(query: ParsedQuery) -> str:
    """fts5_match without the coach, for rows already known to be the coach's.

    Checking a given rowid, FTS5 seeks in every term's list; the coach's
    list is the longest (0.08 against 0.03 ms a row on a million messages).
    """
    return f"content : ({_fts5_words(query)}){_fts5_excluded(query)}"


# Words FTS5's unicode61 tokenizer surely reads as one token each: the coach
# index cannot take a phrase (detail='none'), so anything else keeps a query
# off it.
_PLAIN_WORD = re.compile(r"[a-z0-9]+")


def fts5_candidates(query: ParsedQuery) -> str | None:
    """A MATCH expression for the coach index (messages_coach_fts) finding every message
    the query matches, and maybe more; None when the query has a word it cannot hold.

    It asks for the words each term needs, in any order and place, and leaves
    the excluded terms out: each phrase, NEAR and NOT of fts5_match only takes
    messages away from what it finds. Porter stemming applies to both indexes
    alike, so a word finds the same messages in each.
    """
    words = [word for group in query.required for term in group for word in term.words]
    if not all(_PLAIN_WORD.fullmatch(word) for word in words):
        return None
    return " AND ".join(
        "("
        + " OR ".join(
            "(" + " AND ".join(_fts5_string(word) for word in term.words) + ")" for term in group
        )
        + ")"
        for group in query.required
    )


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
