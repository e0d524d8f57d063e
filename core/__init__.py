"""Huddle's core: persistence, search, export, models and the chat engine (no Streamlit here)."""
