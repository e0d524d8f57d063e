"""The Analytics page under AppTest: figures and charts with data, without, coach and admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest

from tests.app.driver import open_page, page_text

ANALYTICS = "pages/analytics.py"
NOW = datetime.now(UTC)


def analytics(username: str, **params):
    return open_page(username, ANALYTICS, **params)


def metrics(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def chart_frames(at) -> list[pd.DataFrame]:
    """The data of every chart drawn, as AppTest sees it (Vega-Lite datasets in Arrow)."""
    frames = []
    for chart in at.get("vega_lite_chart"):
        frames += [
            pa.ipc.open_stream(dataset.data.data).read_pandas() for dataset in chart.proto.datasets
        ]
        if chart.proto.HasField("data") and chart.proto.data.data:
            frames.append(pa.ipc.open_stream(chart.proto.data.data).read_pandas())
    return frames


def chart_with(at, column: str) -> pd.DataFrame:
    [frame] = [frame for frame in chart_frames(at) if column in frame.columns]
    return frame


def _chat(store, user, title, texts, *, days_ago=1, tool=None):
    session = store.create_session(user.id, title=title)
    when = NOW - timedelta(days=days_ago)
    for index, text in enumerate(texts):
        store.add_message(
            user.id,
            session.id,
            "user" if index % 2 == 0 else "assistant",
            text,
            created_at=when + timedelta(minutes=index),
            input_tokens=100 if index % 2 else None,
            output_tokens=20 if index % 2 else None,
            latency_ms=900 if index % 2 else None,
            model="claude-sonnet-5-5" if index % 2 else None,
        )
    if tool:
        store.record_tool_call(
            user.id,
            session.id,
            message_id=None,
            tool_use_id="toolu_1",
            name=tool,
            input={"expression": "2+2"},
            output="4",
            duration_ms=12,
            created_at=when,
        )
    return session


@pytest.fixture
def usage(app_store, alice, bob):
    _chat(app_store, alice, "Alice's pressing", ["one two three", "four five"], tool="calculator")
    _chat(app_store, alice, "Alice's older plan", ["six seven", "eight"], days_ago=45)
    _chat(app_store, bob, "Bob's secret rondo", ["bob bob bob bob", "bob"])
    return app_store


def test_a_coach_sees_their_own_figures(usage, bob):
    at = analytics("bob")
    shown = metrics(at)
    assert shown["Messages"] == "2"
    assert shown["Your words"] == "4"
    assert shown["Words"] == "5"
    assert "Whose data" not in [box.label for box in at.selectbox]  # no switch for a coach
    assert "Alice" not in page_text(at)


def test_a_crafted_address_does_not_open_another_coachs_data(usage, alice, bob):
    at = analytics("bob", view="All coaches", coach=str(alice.id))
    assert metrics(at)["Messages"] == "2"
    assert "pressing" not in page_text(at)


def test_the_period_and_its_previous_period(usage):
    at = analytics("alice", period="Last 30 days")
    shown = metrics(at)
    assert shown["Messages"] == "2" and shown["Tool calls"] == "1"
    at = analytics("alice", period="Last 90 days")
    assert metrics(at)["Messages"] == "4"


def test_charts_carry_the_data_and_can_be_downloaded(usage):
    at = analytics("alice")
    calls = chart_with(at, "outcome")
    assert calls.groupby("outcome")["value"].sum().to_dict() == {"failed": 0, "succeeded": 1}
    heat = chart_with(at, "day")
    assert heat["messages"].sum() == 2  # the 30 days hold Alice's two messages
    assert len(chart_frames(at)) >= 6
    assert {b.label for b in at.get("download_button")} >= {"CSV"}


def test_an_admin_sees_all_coaches_without_their_text(usage, alice):
    at = analytics("alice", view="All coaches")
    assert metrics(at)["Messages"] == "4"  # 2 of Alice's in 30 days + Bob's 2
    text = page_text(at)
    assert "Per coach" in text
    assert "secret rondo" not in text and "pressing" not in text


def test_a_coach_with_no_messages_gets_an_empty_state(app_store, alice):
    at = analytics("alice")
    assert "Nothing in this period yet." in page_text(at)
    assert "will appear here" in page_text(at)


def test_bad_addresses_get_a_sentence(usage):
    for params in (
        {"tz": "Mars/Olympus_Mons"},
        {"period": "Custom range", "range": ["2026-11-30", "2026-11-01"]},
        {"period": "nonsense"},
    ):
        at = analytics("alice", **params)
        assert not at.exception, params


def test_an_admin_can_look_at_one_coach(usage, alice, bob):
    at = analytics("alice", view="One coach", coach="bob")
    assert metrics(at)["Messages"] == "2"
    assert "bob's assistant use" in page_text(at)
    assert "secret rondo" not in page_text(at)  # figures only, never the coach's titles
