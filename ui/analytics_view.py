"""The Analytics page's figures, charts and tables, drawn from core.analytics.PageData.

Every number comes from core (computed by the database); this module only draws. Each
chart has its data as a CSV download and, when empty, a sentence saying what will appear.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from core.analytics import PageData
from core.analytics_figures import PeriodNumbers
from ui.markdown import escape_markdown
from ui.shell import page_for_kind

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
BUCKET_LABELS = {"day": "Day", "week": "Week of", "month": "Month"}


def _change(now: float | None, before: float | None) -> str | None:
    if now is None or before is None:
        return None
    if before == 0:
        return None if now == 0 else "new"
    return f"{(now - before) / before:+.0%}"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def figures(data: PageData) -> None:
    """The period's figures, each with its change against the previous period."""
    now, before = data.figures.current, data.figures.previous
    error_rate = _rate(now)
    cards = [
        ("Sessions", f"{now.sessions:,}", _change(now.sessions, before.sessions), "normal"),
        ("Messages", f"{now.messages:,}", _change(now.messages, before.messages), "normal"),
        ("Words", f"{now.words:,}", _change(now.words, before.words), "normal"),
        ("Your words", f"{now.user_words:,}", _change(now.user_words, before.user_words), "normal"),
        (
            "Assistant's words",
            f"{now.assistant_words:,}",
            _change(now.assistant_words, before.assistant_words),
            "normal",
        ),
        ("Tool calls", f"{now.tool_calls:,}", _change(now.tool_calls, before.tool_calls), "normal"),
        (
            "Tool error rate",
            "–" if error_rate is None else f"{error_rate:.1%}",
            _change(error_rate, _rate(before)),
            "inverse",
        ),
        (
            "Input tokens",
            f"{now.input_tokens:,}",
            _change(now.input_tokens, before.input_tokens),
            "off",
        ),
        (
            "Output tokens",
            f"{now.output_tokens:,}",
            _change(now.output_tokens, before.output_tokens),
            "off",
        ),
        ("Estimated cost", f"${now.cost_usd:,.2f}", _change(now.cost_usd, before.cost_usd), "off"),
        (
            "Reply time p50",
            _ms(now.latency_p50_ms),
            _change(now.latency_p50_ms, before.latency_p50_ms),
            "inverse",
        ),
        (
            "Reply time p95",
            _ms(now.latency_p95_ms),
            _change(now.latency_p95_ms, before.latency_p95_ms),
            "inverse",
        ),
        (
            "First token p50",
            _ms(now.first_token_p50_ms),
            _change(now.first_token_p50_ms, before.first_token_p50_ms),
            "inverse",
        ),
        (
            "First token p95",
            _ms(now.first_token_p95_ms),
            _change(now.first_token_p95_ms, before.first_token_p95_ms),
            "inverse",
        ),
        ("Drills created", f"{now.drills:,}", _change(now.drills, before.drills), "normal"),
    ]
    for start in range(0, len(cards), 5):
        for column, (label, value, delta, color) in zip(
            st.columns(5), cards[start : start + 5], strict=False
        ):
            column.metric(
                label,
                value,
                delta=delta,
                delta_color=color,
                help="Change against the previous period of the same length.",
                border=True,
            )
    notes = []
    if now.unpriced_tokens:
        models = ", ".join(data.figures.unpriced_models) or "some models"
        notes.append(
            f"{now.unpriced_tokens:,} tokens of {escape_markdown(models)} are not in the price "
            "table (core/prices.toml) and are not priced."
        )
    if now.first_token_p50_ms is None and now.messages:
        notes.append("Time to first token is shown for replies written from now on.")
    for note in notes:
        st.caption(note)


def _rate(numbers: PeriodNumbers) -> float | None:
    return numbers.tool_errors / numbers.tool_calls if numbers.tool_calls else None


def _chart(title: str, frame: pd.DataFrame, chart, empty: str, key: str) -> None:
    """One chart under its title, or the sentence saying what will appear there."""
    with st.container(border=True):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(f"**{title}**")
        if frame.empty:
            st.caption(empty)
            return
        right.download_button(
            "CSV",
            data=frame.to_csv(index=False).encode("utf-8"),
            file_name=f"huddle-{key}.csv",
            mime="text/csv",
            key=f"huddle_analytics_csv_{key}",
            icon=":material/download:",
            on_click="ignore",
        )
        st.altair_chart(chart(frame), key=f"huddle_analytics_chart_{key}")


def _nonzero(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame if frame.empty or frame[column].sum() else frame.iloc[0:0]


def charts(data: PageData) -> None:
    bucket = BUCKET_LABELS.get(data.bucket, "Day")
    left, right = st.columns(2)
    with left:
        _chart(
            "Calls per tool",
            data.calls_per_tool,
            _calls_per_tool,
            "Each tool the assistant uses will appear here, with its share of errors.",
            "calls-per-tool",
        )
        _chart(
            f"Words per {data.bucket}",
            _nonzero(data.words_over_time, "words"),
            lambda f: _stacked_bars(f, "words", "role", bucket),
            "Your words and the assistant's will appear here once you chat.",
            "words",
        )
        _chart(
            "Words per session",
            _nonzero(data.words_per_session, "sessions"),
            _histogram,
            "How long your conversations run will appear here.",
            "words-per-session",
        )
        _chart(
            "Tool duration p50 / p95",
            data.tool_durations,
            _durations,
            "How long each tool takes will appear here once tools are used.",
            "tool-durations",
        )
    with right:
        _chart(
            f"Tool use per {data.bucket}",
            _nonzero(data.tool_use_over_time, "calls"),
            lambda f: _lines(f, "calls", "tool", bucket),
            "Tool use over time will appear here once the assistant uses tools.",
            "tool-use",
        )
        _chart(
            f"Tokens per {data.bucket}",
            _nonzero(data.tokens_over_time.assign(total=_total_tokens), "total"),
            lambda f: _tokens(f, bucket),
            "Input and output tokens will appear here once the assistant replies.",
            "tokens",
        )
        _chart(
            "When you use the assistant",
            _nonzero(data.activity_heatmap, "messages"),
            _heatmap,
            "Your busiest days and hours will appear here.",
            "activity",
        )
        _chart(
            "Drills by sport and age group",
            data.drills_by_sport_and_age,
            _drills,
            "Drills built on the Drill builder page will appear here.",
            "drills",
        )


def _total_tokens(frame: pd.DataFrame) -> pd.Series:
    return frame["input_tokens"] + frame["output_tokens"]


def _calls_per_tool(frame: pd.DataFrame):
    long = frame.assign(ok=frame["calls"] - frame["errors"]).melt(
        id_vars=["tool", "error_share"], value_vars=["ok", "errors"], var_name="outcome"
    )
    long["outcome"] = long["outcome"].map({"ok": "succeeded", "errors": "failed"})
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title="calls", stack=True),
            y=alt.Y("tool:N", sort="-x", title=None),
            color=alt.Color(
                "outcome:N",
                scale=alt.Scale(domain=["succeeded", "failed"], range=["#1f6f50", "#d1495b"]),
                title=None,
            ),
            tooltip=["tool", "outcome", "value", alt.Tooltip("error_share:Q", format=".1%")],
        )
    )


def _stacked_bars(frame: pd.DataFrame, value: str, color: str, bucket: str):
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("bucket:T", title=bucket),
            y=alt.Y(f"{value}:Q", title=value),
            color=alt.Color(f"{color}:N", title=None),
            tooltip=["bucket:T", color, value],
        )
    )


def _lines(frame: pd.DataFrame, value: str, color: str, bucket: str):
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("bucket:T", title=bucket),
            y=alt.Y(f"{value}:Q", title=value),
            color=alt.Color(f"{color}:N", title=None),
            tooltip=["bucket:T", color, value],
        )
    )


def _tokens(frame: pd.DataFrame, bucket: str):
    long = frame.melt(
        id_vars=["bucket"], value_vars=["input_tokens", "output_tokens"], var_name="kind"
    )
    long["kind"] = long["kind"].str.replace("_tokens", "", regex=False)
    return _lines(long.rename(columns={"value": "tokens"}), "tokens", "kind", bucket)


def _histogram(frame: pd.DataFrame):
    return (
        alt.Chart(frame)
        .mark_bar(color="#1f6f50")
        .encode(
            x=alt.X("label:N", sort=list(frame["label"]), title="words in the session"),
            y=alt.Y("sessions:Q"),
            tooltip=["label", "sessions"],
        )
    )


def _heatmap(frame: pd.DataFrame):
    named = frame.assign(day=frame["weekday"].map(dict(enumerate(WEEKDAYS))))
    return (
        alt.Chart(named)
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title="hour"),
            y=alt.Y("day:N", sort=WEEKDAYS, title=None),
            color=alt.Color("messages:Q", scale=alt.Scale(scheme="greens")),
            tooltip=["day", "hour", "messages"],
        )
    )


def _durations(frame: pd.DataFrame):
    long = frame.melt(id_vars=["tool", "calls"], value_vars=["p50_ms", "p95_ms"], var_name="q")
    long["q"] = long["q"].str.replace("_ms", "", regex=False)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title="ms"),
            y=alt.Y("tool:N", title=None),
            yOffset="q:N",
            color=alt.Color("q:N", title=None),
            tooltip=["tool", "q", "value", "calls"],
        )
    )


def _drills(frame: pd.DataFrame):
    labelled = frame.assign(
        sport=frame["sport"].replace("", "(no sport)"),
        age_group=frame["age_group"].replace("", "(no age group)"),
    )
    return (
        alt.Chart(labelled)
        .mark_bar()
        .encode(
            x=alt.X("drills:Q"),
            y=alt.Y("sport:N", title=None),
            color=alt.Color("age_group:N", title="age group"),
            tooltip=["sport", "age_group", "drills"],
        )
    )


def top_sessions(data: PageData) -> None:
    """The sessions with the most words and the most tool calls, each opening its session.

    Only for the coach's own data: titles are made from the coach's words.
    """
    left, right = st.columns(2)
    for column, title, frame, unit in (
        (left, "Most words", data.top_sessions_by_words, "words"),
        (right, "Most tool calls", data.top_sessions_by_tool_calls, "tool calls"),
    ):
        with column, st.container(border=True):
            st.markdown(f"**{title}**")
            if frame.empty:
                st.caption("Your longest conversations will appear here.")
                continue
            for row in frame.itertuples(index=False):
                st.page_link(
                    page_for_kind(row.kind),
                    label=escape_markdown(f"{row.title} · {row.value:,} {unit}"),
                    query_params={"session": row.session_id},
                )


def per_coach(frame: pd.DataFrame | None) -> None:
    if frame is None:
        return
    st.subheader("Per coach", anchor=False)
    if frame.empty:
        st.caption("Coaches' activity will appear here.")
        return
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(
        "CSV",
        data=frame.to_csv(index=False).encode("utf-8"),
        file_name="huddle-per-coach.csv",
        mime="text/csv",
        key="huddle_analytics_csv_per_coach",
        icon=":material/download:",
        on_click="ignore",
    )
