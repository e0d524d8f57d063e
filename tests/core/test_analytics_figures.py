"""core.analytics figures: each one equals the number added up by hand, on both databases."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import pytest

from core import analytics
from core.analytics import Period, PeriodNumbers, Scope
from core.errors import NotFound, ValidationError
from core.prices import ModelUsage, Price, estimate_cost
from tests.core.analytics_usage import PERIOD, at, build_usage

ADDITIVE = [f.name for f in fields(PeriodNumbers) if not f.name.startswith(("latency", "first"))]


@pytest.fixture
def usage(store, coach, other_coach):
    return build_usage(store, coach, other_coach)


def test_every_figure_of_the_period_and_the_previous_one(store, coach, usage) -> None:
    figures = analytics.period_figures(store, Scope.own(coach.id), PERIOD)

    assert figures.current == PeriodNumbers(
        sessions=2,
        messages=6,  # the chat's 4 (user, assistant, tool, assistant) and the drill session's 2
        words=11,  # 3 + 2 + 0 + 1, then 2 + 3
        user_words=5,
        assistant_words=6,
        tool_calls=3,
        tool_errors=1,
        input_tokens=1800,  # 1000 + 500 + 300
        output_tokens=280,  # 200 + 50 + 30
        # claude-sonnet-5-5 at $3 / $15 per million: 1000 * 3 + 200 * 15 = 6,000 micro-dollars;
        # huddle-offline is free, mystery-model's 550 tokens are not priced at all.
        cost_usd=pytest.approx(0.006),
        unpriced_tokens=550,
        latency_p50_ms=2000.0,  # of 1000, 2000, 3000
        latency_p95_ms=pytest.approx(2900.0),  # 2000 + 0.9 * (3000 - 2000)
        first_token_p50_ms=200.0,  # of 100 and 300; the reply without one is left out
        first_token_p95_ms=pytest.approx(290.0),  # 100 + 0.95 * 200
        drills=1,
    )
    assert figures.current.tool_error_rate == pytest.approx(1 / 3)
    assert figures.unpriced_models == ("mystery-model",)
    assert figures.previous == PeriodNumbers(
        sessions=1,
        messages=2,
        words=3,
        user_words=2,
        assistant_words=1,
        tool_calls=1,
        tool_errors=0,
        input_tokens=100,
        output_tokens=10,
        cost_usd=pytest.approx(0.00045),
        unpriced_tokens=0,
        latency_p50_ms=500.0,
        latency_p95_ms=500.0,
        drills=0,
    )
    assert figures.previous.tool_error_rate == 0
    assert figures.change("messages") == 2.0  # 6 against 2
    assert figures.change("drills") is None  # nothing to compare with
    assert figures.change("first_token_p50_ms") is None
    document = figures.to_json()
    assert document["period"] == {"since": "2026-03-10T00:00:00Z", "until": "2026-03-20T00:00:00Z"}
    assert document["previous_period"]["since"] == "2026-02-28T00:00:00Z"  # 10 days before
    assert document["figures"]["messages"] == 6
    assert document["figures"]["tool_error_rate"] == pytest.approx(1 / 3)
    assert document["change"]["messages"] == 2.0


def test_the_kind_and_tool_filters(store, coach, usage) -> None:
    drills_only = analytics.period_figures(store, Scope.own(coach.id), PERIOD, kind="drill")
    assert (drills_only.current.messages, drills_only.current.words) == (2, 5)
    assert (drills_only.current.tool_calls, drills_only.current.input_tokens) == (1, 300)
    assert drills_only.current.drills == 1  # drills are not sessions: not filtered
    assert drills_only.previous.messages == 0

    calculator = analytics.period_figures(store, Scope.own(coach.id), PERIOD, tool="calculator")
    # The messages of sessions where the calculator ran, and only the calculator's calls.
    assert (calculator.current.sessions, calculator.current.messages) == (1, 4)
    assert (calculator.current.tool_calls, calculator.current.tool_errors) == (2, 1)
    assert calculator.previous.tool_calls == 1

    with pytest.raises(ValidationError, match="kind"):
        analytics.period_figures(store, Scope.own(coach.id), PERIOD, kind="essay")


def test_a_coach_never_sees_another_coachs_figures(store, coach, other_coach, usage) -> None:
    theirs = analytics.period_figures(store, Scope.own(other_coach.id), PERIOD).current
    assert (theirs.sessions, theirs.messages, theirs.words) == (1, 2, 6)
    assert (theirs.tool_calls, theirs.tool_errors, theirs.drills) == (1, 1, 1)
    assert (theirs.input_tokens, theirs.latency_p50_ms, theirs.first_token_p95_ms) == (
        999,
        9999.0,
        999.0,
    )
    mine = analytics.period_figures(store, Scope.own(coach.id), PERIOD).current
    assert mine.latency_p95_ms == pytest.approx(2900.0)  # 9,999 ms of the other coach not in it
    # A coach asking for someone else's scope is told the coach does not exist.
    with pytest.raises(NotFound):
        Scope.for_viewer(coach, coach_id=other_coach.id)
    with pytest.raises(NotFound):
        Scope.for_viewer(coach, all_coaches=True)
    assert Scope.for_viewer(coach, coach_id=coach.id) == Scope.own(coach.id)
    # The same from query parameters, by username: another coach and a missing one look alike.
    for crafted in ({"coach": "coach2"}, {"coach": "nobody"}, {"all_coaches": True}):
        with pytest.raises(NotFound, match="That coach was not found"):
            Scope.chosen(store, coach, **crafted)
    assert Scope.chosen(store, coach, coach="coach1") == Scope.own(coach.id)
    admin = store.create_user("boss", role="admin")
    assert Scope.chosen(store, admin, coach="coach2") == Scope(admin.id, other_coach.id)
    assert Scope.chosen(store, admin, all_coaches=True) == Scope(admin.id, None)
    with pytest.raises(NotFound, match="That coach was not found"):
        Scope.chosen(store, admin, coach="nobody")


def test_all_coaches_totals_are_the_sum_over_coaches(store, coach, other_coach, usage) -> None:
    admin = store.create_user("boss", role="admin")
    everyone = Scope.for_viewer(admin, all_coaches=True)
    assert everyone.all_coaches and not everyone.shows_text
    total = analytics.period_figures(store, everyone, PERIOD)
    parts = [
        analytics.period_figures(store, Scope.for_viewer(admin, coach_id=user.id), PERIOD)
        for user in (coach, other_coach, admin)
    ]
    for name in ADDITIVE:
        for which in ("current", "previous"):
            expected = sum(getattr(getattr(part, which), name) for part in parts)
            assert getattr(getattr(total, which), name) == pytest.approx(expected), name
    # Quantiles are not sums: of 1000, 2000, 3000 and 9999 (on SQLite read by walking the
    # replies' latency index, on PostgreSQL by percentile_cont: the same numbers).
    assert total.current.latency_p50_ms == 2500.0
    assert total.current.latency_p95_ms == pytest.approx(3000 + 0.85 * (9999 - 3000))
    assert (total.previous.latency_p50_ms, total.previous.latency_p95_ms) == (500.0, 500.0)
    assert total.current.messages == 8

    table = analytics.per_coach_table(store, PERIOD)
    assert table["username"].tolist() == ["boss", "coach1", "coach2"]
    by_name = table.set_index("username")
    assert by_name.loc["coach1", ["sessions", "messages", "words", "tool_calls"]].tolist() == [
        2,
        6,
        11,
        3,
    ]
    assert by_name.loc["coach1", "tokens"] == 2080
    assert by_name.loc["coach2", ["messages", "words", "tokens"]].tolist() == [2, 6, 1998]
    assert by_name.loc["boss", "messages"] == 0
    # last active is the latest activity at any time: the message of 20 March.
    assert by_name.loc["coach1", "last_active"] == at(20)
    for name in ("sessions", "messages", "words", "tool_calls", "input_tokens", "output_tokens"):
        assert table[name].sum() == getattr(total.current, name), name
    assert "title" not in table.columns


def test_an_empty_period_and_a_coach_with_nothing(store, coach, usage) -> None:
    quiet = Period(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
    figures = analytics.period_figures(store, Scope.own(coach.id), quiet)
    assert figures.current == PeriodNumbers() and figures.previous == PeriodNumbers()
    assert figures.current.tool_error_rate is None
    assert figures.change("messages") is None
    newcomer = store.create_user("newcomer")
    assert analytics.period_figures(store, Scope.own(newcomer.id), PERIOD).current == (
        PeriodNumbers()
    )
    assert analytics.first_activity(store, Scope.own(newcomer.id)) is None
    assert analytics.first_activity(store, Scope.own(coach.id)) == at(5, 10)
    # A period of no length is empty, not an error.
    instant = Period(at(10), at(10))
    assert analytics.period_figures(store, Scope.own(coach.id), instant).current.messages == 0


def test_periods() -> None:
    with pytest.raises(ValidationError, match="before its start"):
        Period(at(10), at(9))
    with pytest.raises(ValidationError, match="time zone"):
        Period(datetime(2026, 3, 1), datetime(2026, 3, 2))
    assert PERIOD.previous() == Period(datetime(2026, 2, 28, tzinfo=UTC), at(10))
    # Days in a zone: from local midnight to local midnight, both days included.
    kolkata = Period.of_days(
        datetime(2026, 3, 1).date(), datetime(2026, 3, 1).date(), "Asia/Kolkata"
    )
    assert (kolkata.since, kolkata.until) == (
        datetime(2026, 2, 28, 18, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 18, 30, tzinfo=UTC),
    )
    week = Period.last_days(7, datetime(2026, 3, 10, 12, tzinfo=UTC))
    assert (week.since, week.until) == (at(4), at(11))
    with pytest.raises(ValidationError, match="not a known time zone"):
        Period.of_days(datetime(2026, 3, 1).date(), datetime(2026, 3, 2).date(), "Mars/Olympus")


def test_cost_prices_each_model_and_never_guesses() -> None:
    prices = {"a": Price(input=2.0, output=10.0)}
    cost = estimate_cost(
        [
            ModelUsage("a", 1_000_000, 100_000),
            ModelUsage("b", 10, 5),
            ModelUsage(None, 7, 0),
            ModelUsage("c", 0, 0),
        ],
        prices,
    )
    assert cost.usd == pytest.approx(3.0)
    assert cost.unpriced_tokens == 22
    assert cost.unpriced_models == ("(no model)", "b")


def test_the_price_table_file_reads(tmp_path) -> None:
    from core.prices import default_prices, read_prices

    assert default_prices()["huddle-offline"] == Price(0.0, 0.0)
    bad = tmp_path / "prices.toml"
    bad.write_text('[models."x"]\ninput = "cheap"\noutput = 1\n')
    with pytest.raises(ValidationError, match="needs numbers"):
        read_prices(bad)


def test_quantiles_of_columns_with_gaps(store, coach) -> None:
    session = store.create_session(coach.id).id
    when = datetime(2026, 7, 1, 12, tzinfo=UTC)
    for latency, first_token in ((None, 2), (5, None), (1, None), (3, 4)):
        store.add_message(
            coach.id,
            session,
            "assistant",
            "reply",
            latency_ms=latency,
            first_token_ms=first_token,
            created_at=when,
        )
    store.add_message(coach.id, session, "user", "not a reply", latency_ms=1000, created_at=when)
    period = Period(when, datetime(2026, 7, 2, tzinfo=UTC))
    now = analytics.period_figures(store, Scope.own(coach.id), period).current
    # Latency of 1, 3, 5; first token of 2, 4; the user's message is no reply.
    assert (now.latency_p50_ms, now.latency_p95_ms) == (3.0, pytest.approx(4.8))
    assert (now.first_token_p50_ms, now.first_token_p95_ms) == (3.0, pytest.approx(3.9))
