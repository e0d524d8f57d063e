"""Waiting for state in tests: poll a check until it holds, never sleep a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(check: Callable[[], T], what: str, limit: float = 30.0) -> T:
    """The first truthy value `check` returns, polling every 20 ms for up to `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"waited {limit:.0f} s for {what}")
