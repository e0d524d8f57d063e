"""Huddle's entry point: every run goes through ui.shell.run_app (database check, login gate,
st.navigation over the pages)."""

from ui.shell import run_app

run_app()
