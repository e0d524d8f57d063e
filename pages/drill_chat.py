"""Drill page: build a training drill by chatting; the drill shows as a card beside the chat."""

import streamlit as st

from ui.conversation import conversation_header, open_conversation
from ui.drill_card import PANE_HEIGHT_PX, drill_panel
from ui.messages import show_messages
from ui.page_style import CHAT_PANE_KEY
from ui.shell import app_services, require_coach
from ui.sidebar import session_sidebar
from ui.turn import chat_input, follow_turn, long_draft, running_turn

coach = require_coach()
services = app_services()

conversation = open_conversation(services, coach, "drill")
# The turn first: the sidebar's "being written" marks then never show a turn that this page
# does not follow to its end.
turn = running_turn(services, coach, conversation)
session_sidebar(services, coach, conversation)
conversation_header(services, coach, conversation)

chat_column, drill_column = st.columns([3, 2], gap="large")
with drill_column:
    drill_panel(services, coach, conversation)
with chat_column:
    # Opened at a search hit, the pane stays at that message instead of sticking to its end.
    autoscroll = conversation.found_seq is None
    messages = st.container(
        height=PANE_HEIGHT_PX, border=False, autoscroll=autoscroll, key=CHAT_PANE_KEY
    )
with messages:
    show_messages(services, coach, conversation, busy=turn is not None)
    if turn is not None:
        follow_turn(services, coach, conversation, turn)
long_draft(services, coach, conversation)
chat_input(services, coach, conversation, busy=turn is not None)
