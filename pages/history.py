"""History page: every conversation, to search, filter, manage and export (coming soon)."""

import streamlit as st

from ui.shell import require_coach

coach = require_coach()

st.title("History")
st.info(
    "Searching and managing all your conversations is coming soon. Until then, every "
    "conversation is in the sidebar of the Chat and Drill builder pages."
)
