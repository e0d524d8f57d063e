"""Analytics page: how you use the assistant (tools, words, tokens, latency, activity)."""

import streamlit as st

from core.analytics import page_data
from ui.analytics_controls import analytics_controls
from ui.analytics_view import charts, figures, per_coach, top_sessions
from ui.shell import app_services, require_coach

coach = require_coach()
services = app_services()

st.title("Analytics")
ask = analytics_controls(services.store, coach)
if ask.problem:
    st.warning(ask.problem)
    st.stop()
data = page_data(services.store, ask.scope, ask.period, zone=ask.zone, kind=ask.kind, tool=ask.tool)
st.subheader(ask.title, anchor=False)
if not data.figures.current.messages and not data.figures.previous.messages:
    st.info(
        "Nothing in this period yet. Chat on the Chat or Drill builder page, or pick a longer "
        "period: your figures and charts will appear here."
    )
figures(data)
charts(data)
if ask.scope.shows_text:
    top_sessions(data)
per_coach(data.per_coach)
