"""The shared objects of every page (database, store, engine, turn runner), once per process."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.config import Settings
from core.db import Database
from core.engine import ChatEngine
from core.llm import make_model
from core.offline_model import OfflineModel
from core.store import ConversationStore
from core.turns import TurnRunner

# The offline model answers at once; a short pause between words lets a coach see the
# reply being written, as with Claude. Tests set it to 0.
OFFLINE_WORD_DELAY_S = 0.02


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    store: ConversationStore
    engine: ChatEngine
    turns: TurnRunner  # runs chat turns in workers of this server process

    @property
    def model_label(self) -> str:
        """What the model badge says: the Claude model, or the offline demo model."""
        if self.engine.model.offline:
            return "Offline demo model"
        return f"Claude · {self.engine.model.name}"


def _close(services: Services) -> None:
    services.turns.close()
    services.db.dispose()


@st.cache_resource(show_spinner=False, on_release=_close)
def open_services(settings: Settings) -> Services:
    """Connect, bring the schema up to date, and build the engine (once per settings).

    Raises StorageUnavailable when the database cannot be reached; nothing is cached then,
    so the next run tries again.
    """
    db = Database(settings.database_url)
    try:
        db.migrate()
    except Exception:
        db.dispose()
        raise
    store = ConversationStore(db)
    model = make_model(settings)
    if model.offline:
        model = OfflineModel(word_delay_s=OFFLINE_WORD_DELAY_S)
    engine = ChatEngine(store, model, max_message_chars=settings.max_message_chars)
    # Starting the runner also marks the turns a previous server left running as interrupted.
    turns = TurnRunner(engine)
    return Services(settings=settings, db=db, store=store, engine=engine, turns=turns)
