"""What streamlit-authenticator is given in place of its stateless cookie and its lockout.

The library signs a JWT that names the username and an expiry, checks it with the key alone,
and lets an unreadable one raise. Here its cookie controller is swapped for one that keeps a
log-in row per browser (core/login_sessions.py): the cookie carries the row's random id,
signed; anything unreadable is no cookie at all. Its credential check is wrapped so that
failed log-ins are counted in the database per typed username and per client address, and
an attempt that must wait is refused before any password is checked, with the same answer
whether or not the account exists.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from typing import Any

import bcrypt
import streamlit as st
from streamlit_authenticator.models import cookie_model

from core.login_sessions import LoginFailures, LoginSessions, failure_keys, sign, unsign
from ui import state
from ui.services import Services

COOKIE_NAME = "huddle_auth"


# The library builds a cookie component (extra-streamlit-components' CookieManager) with every
# authenticator; it reads all cookies on its first draw and reports them back, which reruns
# every freshly loaded page once more. Its cookies are never used here (ServerCookie reads
# st.context.cookies and writes through the page, below), so it is not built at all.
cookie_model.stx = types.SimpleNamespace(CookieManager=lambda: None)


class ServerCookie:
    """The library's cookie controller, backed by a log-in row (same three methods)."""

    def __init__(self, services: Services, key: str) -> None:
        self.sessions = LoginSessions(services.db)
        self.key = key
        self.users = services.store

    def get_cookie(self) -> dict[str, str] | bool | None:
        """The username of the log-in the browser's cookie names, if it is live."""
        if st.session_state.get("logout"):
            return False  # logged out in this tab: its old cookie stays in st.context
        raw_id = unsign(st.context.cookies.get(COOKIE_NAME), self.key)
        check = self.sessions.check(raw_id)
        if check is None:
            return None
        st.session_state[state.LOGIN_SESSION] = raw_id
        if check.renewed_until is not None:
            self.write(raw_id, check.renewed_until)
        return {"username": check.user.username.lower()}

    def set_cookie(self) -> None:
        """A log-in through the form: a new row, and the cookie that names it."""
        user = self.users.get_user(st.session_state.get("username") or "")
        raw_id, expires = self.sessions.start(user.id)
        st.session_state[state.LOGIN_SESSION] = raw_id
        self.write(raw_id, expires)

    def delete_cookie(self) -> None:
        """Log-out: the row ends (on every replica) and the browser forgets the cookie."""
        self.sessions.end(st.session_state.pop(state.LOGIN_SESSION, None))
        _queue_cookie(f"{COOKIE_NAME}=; Path=/; Expires={_http_date(EPOCH)}; SameSite=Strict")

    def write(self, raw_id: str, expires: datetime) -> None:
        secure = "; Secure" if _url().startswith("https:") else ""
        _queue_cookie(
            f"{COOKIE_NAME}={sign(raw_id, self.key)}; Path=/; Expires={_http_date(expires)}; "
            f"SameSite=Strict{secure}"
        )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _url() -> str:
    try:
        return st.context.url or ""
    except Exception:  # AppTest and bare runs have no request
        return ""


def _queue_cookie(cookie: str) -> None:
    """Write this cookie (a document.cookie assignment) when the run next flushes."""
    st.session_state.setdefault(state.COOKIE_WRITES, []).append(cookie)


def write_cookies() -> None:
    """The queued cookie writes, as a script in the page. The entry calls this at the start
    and at the end of every run, outside any container a run may clear (a log-in screen),
    so a write is never lost with the element that carried it."""
    writes = st.session_state.pop(state.COOKIE_WRITES, None)
    if not writes:
        return
    script = "".join(f"document.cookie = {json.dumps(cookie)};" for cookie in writes)
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def client_address() -> str | None:
    """The browser's address as the server sees it (a proxy's, behind one)."""
    try:
        return st.context.ip_address
    except Exception:  # AppTest and bare runs have no request
        return None


@cache
def _stand_in_hash() -> bytes:
    """A hash to check unknown usernames against, so they cost as long as known ones."""
    return bcrypt.hashpw(b"no such account", bcrypt.gensalt())


def guard_credentials(model: Any, services: Services) -> None:
    """Wrap the library's credential check with the database's failure counts."""
    original: Callable[[str, str], bool | None] = model.check_credentials
    failures = LoginFailures(services.db)

    def check_credentials(username: str, password: str) -> bool:
        keys = failure_keys(username, client_address())
        wait = failures.wait(keys)
        if wait.total_seconds() > 0:
            st.session_state[state.LOGIN_WAIT] = wait.total_seconds()
            return False
        if username in model.credentials["usernames"]:
            passed = bool(original(username, password))
        else:  # unknown or password-less: as slow as a wrong password, and as wrong
            bcrypt.checkpw(password.encode()[:72], _stand_in_hash())
            passed = False
        if passed:
            failures.clear(keys[:1])
        else:
            failures.record(keys)
        return passed

    model.check_credentials = check_credentials
