"""Query plans of the session listing, so the slow shapes cannot come back unnoticed.

SQLite once answered the tool filter (a correlated EXISTS) by reading every call
of that tool for each session: 28 s at 18,000 sessions. These tests read the
plans on both databases and check that the tool and tag filters start from
their own index and that a deep page walks a listing index, not a sort.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.session_list import SESSION_SORTS, page_ids, page_query
from core.store import BulkBatch, SessionFilter

START = datetime(2026, 1, 1, tzinfo=UTC)
SESSIONS = 3000


@pytest.fixture
def big(store, coach, other_coach):
    """3,000 sessions of coach1 and 300 of coach2.

    A third have calculator calls, a fifth the tag u12, each one of 60 topic tags.
    """
    for user, count in ((coach, SESSIONS), (other_coach, 300)):
        batch = BulkBatch()
        for n in range(count):
            sid = f"{user.id}-{n:05d}"
            at = START + timedelta(minutes=n)
            batch.sessions.append(
                {
                    "id": sid,
                    "user_id": user.id,
                    "kind": "drill" if n % 4 == 0 else "chat",
                    "title": f"Session {n % 97}",
                    "title_source": "auto",
                    "drill_id": None,
                    "model": None,
                    "pinned": n % 50 == 0,
                    "archived": n % 10 == 0,
                    "metadata": {},
                    "message_count": 1,
                    "word_count": n % 300,
                    "last_seq": 1,
                    "last_message_at": at,
                    "preview": "",
                    "created_at": at,
                    "updated_at": at,
                }
            )
            batch.messages.append(
                {
                    "session_id": sid,
                    "user_id": user.id,
                    "seq": 1,
                    "role": "assistant",
                    "content": "calc",
                    "blocks": None,
                    "status": "complete",
                    "error": None,
                    "model": None,
                    "input_tokens": None,
                    "output_tokens": None,
                    "latency_ms": None,
                    "created_at": at,
                    "metadata": {},
                }
            )
            if n % 3 == 0:
                for call in range(3):
                    batch.tool_calls.append(
                        {
                            "session_id": sid,
                            "message_seq": 1,
                            "user_id": user.id,
                            "tool_use_id": f"t{call}",
                            "name": "calculator",
                            "input": {},
                            "output": "2",
                            "is_error": False,
                            "duration_ms": 1,
                            "created_at": at,
                        }
                    )
            batch.tags.append({"session_id": sid, "tag": f"topic {n % 60}"})
            if n % 5 == 0:
                batch.tags.append({"session_id": sid, "tag": "u12"})
        store.insert_bulk(batch)
    if store.db.engine.dialect.name == "postgresql":
        with store.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    return coach


def _sql(store, query) -> str:
    return str(query.compile(store.db.engine, compile_kwargs={"literal_binds": True}))


def sqlite_plan(store, query) -> list[str]:
    with store.db.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + _sql(store, query))
        return [row[-1] for row in rows]


def postgres_plan(store, query) -> dict:
    with store.db.engine.connect() as connection:
        # Enough rows for the planner to care; seqscan off removes the "tiny table" shortcut.
        connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + _sql(store, query))
        plan = rows.scalar_one()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def _dialect(store) -> str:
    return store.db.engine.dialect.name


def _count(coach_id: int, filters: SessionFilter):
    from core.models import ChatSession
    from core.session_list import session_conditions

    return (
        sa.select(sa.func.count())
        .select_from(ChatSession)
        .where(*session_conditions(coach_id, filters))
    )


def _analyzed_too(store):
    """Plans without statistics (a fresh file) and with them (after ANALYZE / PRAGMA optimize)."""
    yield "no statistics"
    if _dialect(store) == "sqlite":
        with store.db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    yield "analyzed"


def test_tool_filter_reads_the_tool_once_from_its_own_index(store, big):
    filters = SessionFilter(tool="calculator")
    for state in _analyzed_too(store):
        for query in (page_query(big.id, filters, "recent", 50, 0), _count(big.id, filters)):
            if _dialect(store) == "sqlite":
                plan = sqlite_plan(store, query)
                text = "\n".join(plan)
                assert "ix_tool_calls_user_name_session" in text, (state, plan)
                # the trap: a subquery re-run for each session is marked CORRELATED
                assert "CORRELATED" not in text, (state, plan)
                assert not any(line.startswith("SCAN chat_sessions") for line in plan), plan
            else:
                used = [n for n in nodes(postgres_plan(store, query)) if n.get("Relation Name")]
                calls = [n for n in used if n["Relation Name"] == "tool_calls"]
                assert calls, used
                assert all(
                    n.get("Index Name") == "ix_tool_calls_user_name_session" for n in calls
                ), calls
                assert all(n["Node Type"] == "Index Only Scan" for n in calls), calls


def test_tag_filter_reads_the_tag_from_its_own_index(store, big):
    filters = SessionFilter(tags=("u12",))
    for state in _analyzed_too(store):
        for query in (page_query(big.id, filters, "title", 50, 0), _count(big.id, filters)):
            if _dialect(store) == "sqlite":
                plan = sqlite_plan(store, query)
                text = "\n".join(plan)
                assert "COVERING INDEX ix_session_tags_tag_session" in text, (state, plan)
                assert "CORRELATED" not in text, (state, plan)
            else:
                tags = [
                    n
                    for n in nodes(postgres_plan(store, query))
                    if n.get("Relation Name") == "session_tags"
                ]
                # Either the tag's own index, or a probe of the (session_id, tag) key
                # per session: both answered from the index alone, never a scan.
                assert tags, query
                assert all(n["Node Type"] == "Index Only Scan" for n in tags), tags
                assert {n["Index Name"] for n in tags} <= {
                    "ix_session_tags_tag_session",
                    "session_tags_pkey",
                }, tags


@pytest.mark.parametrize("sort", SESSION_SORTS)
def test_a_deep_page_walks_the_sort_index_without_sorting(store, big, sort):
    """Page 40 of 50: the ids come in order from the sort's own index, table untouched."""
    query = page_ids(big.id, SessionFilter(), sort, 50, 2000)
    if _dialect(store) == "sqlite":
        plan = sqlite_plan(store, query)
        assert plan == [
            f"SEARCH chat_sessions USING COVERING INDEX ix_chat_sessions_list_{sort} (user_id=?)"
        ], plan
    else:
        plan = postgres_plan(store, query)
        assert plan["Node Type"] == "Limit"
        scans = list(nodes(plan))[1:]
        assert [n["Node Type"] for n in scans] == ["Index Only Scan"], scans
        assert scans[0]["Index Name"] == f"ix_chat_sessions_list_{sort}"


def test_the_page_fetches_only_its_own_rows(store, big):
    """The outer query of the deferred join looks sessions up by id, one per row shown."""
    query = page_query(big.id, SessionFilter(), "recent", 50, 2000)
    if _dialect(store) == "sqlite":
        plan = sqlite_plan(store, query)
        assert "SEARCH chat_sessions USING INDEX sqlite_autoindex_chat_sessions_1 (id=?)" in plan
        assert not any(line.startswith("SCAN chat_sessions") for line in plan), plan
    else:
        outer = [
            n
            for n in nodes(postgres_plan(store, query))
            if n.get("Relation Name") == "chat_sessions" and n.get("Index Name")
        ]
        assert {n["Index Name"] for n in outer} == {
            "chat_sessions_pkey",
            "ix_chat_sessions_list_recent",
        }, outer


def test_the_plans_answer_what_the_listing_shows(store, big):
    """The same queries the plans were read for give the right sessions."""
    page = store.list_sessions(big.id, SessionFilter(tool="calculator"), limit=500, offset=0)
    expected = sum(1 for n in range(SESSIONS) if n % 3 == 0 and n % 10 != 0)
    assert page.total == expected
    assert all(int(chat.id.split("-")[1]) % 3 == 0 for chat in page.items)
    deep = store.list_sessions(big.id, sort="recent", limit=50, offset=2000)
    every = store.session_ids_matching(big.id, SessionFilter(), sort="recent")
    assert [chat.id for chat in deep.items] == every[2000:2050]
