"""Huddle's entry point: page config, database check, then the pages."""

import streamlit as st

from core.config import load_settings
from core.db import Database, describe_database
from core.errors import StorageUnavailable

st.set_page_config(page_title="Huddle", page_icon="🏟️", layout="wide")


@st.cache_resource
def open_database(url: str) -> Database:
    database = Database(url)
    database.migrate()
    return database


settings = load_settings()
try:
    database = open_database(settings.database_url)
    database.check()
except StorageUnavailable as exc:
    st.error(str(exc))
    st.stop()

st.title("Huddle")
st.success(f"Connected to {describe_database(settings.database_url)}.")
