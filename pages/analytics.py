"""Analytics page: tool usage, word counts, tokens and activity (coming soon)."""

import streamlit as st

from ui.shell import require_coach

coach = require_coach()

st.title("Analytics")
st.info("Charts of how you use the assistant (tools, words, tokens, activity) are coming soon.")
