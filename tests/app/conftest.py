"""Fixtures for driving the app with AppTest: a fresh SQLite database, the offline model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st

import ui.services
from core.db import Database
from core.store import ConversationStore
from tests.app.driver import PASSWORD, password_hash

# Settings come from the environment first; an empty value also hides .streamlit/secrets.toml,
# so a developer's own secrets (a Claude key) never leak into a test.
_SETTINGS = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_MODEL",
    "HUDDLE_COOKIE_KEY",
    "HUDDLE_ALLOW_REGISTRATION",
    "MAX_MESSAGE_CHARS",
)


@pytest.fixture
def app_url(tmp_path, monkeypatch) -> Iterator[str]:
    """The app's database (a fresh SQLite file), with Huddle configured as on a new laptop."""
    url = f"sqlite:///{tmp_path / 'huddle.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    for name in _SETTINGS:
        monkeypatch.setenv(name, "")
    # An unexpected error reaches the test (at.exception) instead of becoming a sentence.
    monkeypatch.setenv("HUDDLE_RAISE_ERRORS", "1")
    monkeypatch.setattr(ui.services, "OFFLINE_WORD_DELAY_S", 0.0)
    yield url
    # Each test has its own settings, hence its own cached services; let them go.
    st.cache_resource.clear()


@pytest.fixture
def app_store(app_url: str) -> Iterator[ConversationStore]:
    """A store on the app's database, to arrange data and to check what the app wrote."""
    db = Database(app_url)
    db.migrate()
    yield ConversationStore(db)
    db.dispose()


@pytest.fixture
def alice(app_store: ConversationStore):
    return app_store.create_user(
        "alice",
        name="Alice Example",
        email="alice@example.com",
        password_hash=password_hash(PASSWORD),
        role="admin",
    )


@pytest.fixture
def bob(app_store: ConversationStore):
    return app_store.create_user(
        "bob", name="Bob Builder", email="bob@example.com", password_hash=password_hash(PASSWORD)
    )
