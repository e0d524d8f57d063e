"""History page: find any conversation again, manage and export them, import, and the drills."""

import streamlit as st

from core.history import history_page
from ui.drill_library import drill_library_tab
from ui.history_actions import selection_actions
from ui.history_filters import history_search
from ui.history_table import history_pager, history_table, requested_page, search_matches
from ui.import_panel import import_panel
from ui.shell import app_services, require_coach

coach = require_coach()
services = app_services()

st.title("History")
conversations, drills, imports = st.tabs(
    ["Conversations", "Drill library", "Import"], key="tab", bind="query-params"
)
if conversations.open:
    with conversations:
        address = history_search(services, coach)
        shown = history_page(
            services.store, coach.id, address.query, sort=address.sort, page=requested_page()
        )
        selected = history_table(shown)
        selection_actions(services, coach, address, shown, selected)
        history_pager(shown)
        search_matches(shown)
if drills.open:
    with drills:
        drill_library_tab(services, coach)
if imports.open:
    with imports:
        import_panel(services, coach)
