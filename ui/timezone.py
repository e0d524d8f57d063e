"""The coach's time zone: the browser's (st.context.timezone), UTC when it is unknown."""

from __future__ import annotations

from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st


def browser_timezone() -> tzinfo:
    name = st.context.timezone
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def browser_timezone_name() -> str:
    """The browser's IANA zone name, or "UTC" when it is unknown or not a zone."""
    zone = browser_timezone()
    return zone.key if isinstance(zone, ZoneInfo) else "UTC"
