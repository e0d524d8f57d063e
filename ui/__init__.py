"""Streamlit widgets shared by Huddle's pages: no SQL and no model SDK calls here, only core/."""
