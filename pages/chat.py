"""Chat page: talk with the assistant; every conversation is kept (session kind "chat")."""

from ui.conversation import conversation_header, open_conversation
from ui.messages import show_messages
from ui.shell import app_services, require_coach
from ui.sidebar import session_sidebar
from ui.turn import chat_input, follow_turn, long_draft, running_turn

coach = require_coach()
services = app_services()

conversation = open_conversation(services, coach, "chat")
# The turn first: the sidebar's "being written" marks then never show a turn that this page
# does not follow to its end.
turn = running_turn(services, coach, conversation)
session_sidebar(services, coach, conversation)
conversation_header(services, coach, conversation)

show_messages(services, coach, conversation, busy=turn is not None)
if turn is not None:
    follow_turn(services, coach, conversation, turn)
long_draft(services, coach, conversation)
chat_input(services, coach, conversation, busy=turn is not None)
