"""Logging in with streamlit-authenticator over the users table: the sign-in screen and the coach.

The authenticator reads its credentials from the users table (refreshed before each sign-in
attempt, so an account made on another replica can log in) and every account it creates is
written there. It is built once per browser session: its cookie component has a fixed key, so
a second one in the same run raises DuplicateWidgetID. Failed log-ins are counted in the
settings table, shared by every replica, and lock an account for a while after too many.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth

from core.errors import NotFound, ValidationError
from core.store import ConversationStore
from ui import state
from ui.services import Services

COOKIE_NAME = "huddle_auth"
COOKIE_EXPIRY_DAYS = 30
COOKIE_KEY_SETTING = "cookie_key"
REGISTRATION_SETTING = "allow_registration"
LOGIN_FAILURES_SETTING = "login_failures"
MAX_LOGIN_ATTEMPTS = 5
LOCKOUT_SECONDS = 15 * 60
LOGIN_FORM = "huddle_login"
REGISTER_FORM = "huddle_register"
FIRST_ACCOUNT_FORM = "huddle_first_account"
# PyJWT warns about HMAC keys shorter than this many bytes.
_MIN_COOKIE_KEY_BYTES = 32


@dataclass(frozen=True)
class Coach:
    """The logged-in person, as every page sees them."""

    id: int
    username: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# ------------------------------------------------------------------ settings


def cookie_key(services: Services) -> str:
    """HUDDLE_COOKIE_KEY, else a random key generated once and kept in the settings table."""
    key = services.settings.cookie_key or services.store.get_or_create_setting(
        COOKIE_KEY_SETTING, lambda: secrets.token_urlsafe(48)
    )
    if len(key.encode()) < _MIN_COOKIE_KEY_BYTES:
        # A short key from the environment still works, stretched to a length PyJWT accepts.
        key = hashlib.sha256(key.encode()).hexdigest()
    return key


def registration_open(services: Services) -> bool:
    """True when new coaches may create accounts (HUDDLE_ALLOW_REGISTRATION, or an admin)."""
    return services.settings.allow_registration or (
        services.store.get_setting(REGISTRATION_SETTING) == "true"
    )


def set_registration_open(services: Services, allowed: bool) -> None:
    services.store.set_setting(REGISTRATION_SETTING, "true" if allowed else "false")


# --------------------------------------------------------------- credentials


def credentials_from_users(store: ConversationStore) -> dict[str, Any]:
    """The users table in the shape streamlit-authenticator reads (accounts with a password)."""
    return {
        "usernames": {
            # The library lower-cases what people type; the user id leads back to the row.
            user.username.lower(): {
                "name": user.name or user.username,
                "email": user.email,
                "password": user.password_hash,
                "roles": [user.role],
                "huddle_user_id": user.id,
                "logged_in": False,
            }
            for user in store.list_users()
            if user.password_hash
        }
    }


def get_authenticator(services: Services) -> stauth.Authenticate:
    """The authenticator of this browser session, built on its first run."""
    if state.AUTHENTICATOR not in st.session_state:
        st.session_state[state.AUTHENTICATOR] = stauth.Authenticate(
            credentials_from_users(services.store),
            cookie_name=COOKIE_NAME,
            cookie_key=cookie_key(services),
            cookie_expiry_days=COOKIE_EXPIRY_DAYS,
            auto_hash=False,  # the users table holds bcrypt hashes already
            login_sleep_time=0,  # the library sleeps 0.7 s on every signed-out run otherwise
        )
    return st.session_state[state.AUTHENTICATOR]


def live_credentials(authenticator: stauth.Authenticate) -> dict[str, Any]:
    """The credentials dict the library reads and changes (the very object it was given)."""
    return authenticator.authentication_controller.authentication_model.credentials


def _refresh_credentials(authenticator: stauth.Authenticate, store: ConversationStore) -> None:
    usernames = live_credentials(authenticator)["usernames"]
    usernames.clear()
    usernames.update(credentials_from_users(store)["usernames"])


# ------------------------------------------------------------- the coach


def logged_in_coach(services: Services) -> Coach | None:
    """The coach this browser session is logged in as, read fresh from the users table."""
    if not st.session_state.get("authentication_status"):
        return None
    authenticator = get_authenticator(services)
    username = st.session_state.get("username") or ""
    entry = live_credentials(authenticator)["usernames"].get(username, {})
    try:
        if "huddle_user_id" in entry:
            user = services.store.get_user_by_id(entry["huddle_user_id"])
        else:
            user = services.store.get_user(username)
    except NotFound:
        # The account was deleted while logged in: end the session.
        authenticator.logout(location="unrendered")
        return None
    return Coach(id=user.id, username=user.username, name=user.name, role=user.role)


def log_out(services: Services) -> None:
    """Log out here and delete the cookie (no rerun: that could drop the cookie change).

    The address forgets the conversation it named (`?session=`), and the browser
    session which conversations were open, so the next person at this screen sees
    neither.
    """
    get_authenticator(services).logout(location="unrendered")
    st.query_params.clear()
    state.forget_open_sessions()


# ------------------------------------------------------- failed log-ins


def _load_failures(services: Services) -> dict[str, dict[str, float]]:
    raw = services.store.get_setting(LOGIN_FAILURES_SETTING)
    try:
        failures = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return failures if isinstance(failures, dict) else {}


def _recent(entry: Any, now: float) -> int:
    """The failures that still count: those within the lockout window of the last one."""
    if not isinstance(entry, dict) or now - float(entry.get("at", 0)) > LOCKOUT_SECONDS:
        return 0
    return int(entry.get("count", 0))


def _login_counting_failures(services: Services, authenticator: stauth.Authenticate) -> None:
    """Render the login form; failures are kept in the settings table, for every replica."""
    usernames = live_credentials(authenticator)["usernames"]
    failures = _load_failures(services)
    now = time.time()
    before = {}
    for username, entry in usernames.items():
        entry["failed_login_attempts"] = before[username] = _recent(failures.get(username), now)
    try:
        authenticator.login(
            location="main",
            max_login_attempts=MAX_LOGIN_ATTEMPTS,
            key=LOGIN_FORM,
            fields={"Form name": "Log in", "Login": "Log in"},
        )
    except stauth.LoginError:
        locked = max(
            (failures.get(name, {}) for name in usernames if before[name] >= MAX_LOGIN_ATTEMPTS),
            key=lambda entry: entry.get("at", 0),
            default={"at": now},
        )
        minutes = max(1, math.ceil((locked.get("at", now) + LOCKOUT_SECONDS - now) / 60))
        st.error(
            f"Too many failed log-ins for this account. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}."
        )
        return
    changed = {
        name: entry.get("failed_login_attempts", 0)
        for name, entry in usernames.items()
        if entry.get("failed_login_attempts", 0) != before.get(name, 0)
    }
    if changed:
        for name, count in changed.items():
            if count:
                failures[name] = {"count": count, "at": now}
            else:
                failures.pop(name, None)
        services.store.set_setting(LOGIN_FAILURES_SETTING, json.dumps(failures))
    if st.session_state.get("authentication_status") is False:
        st.error("The username or password is incorrect.")


# ------------------------------------------------------------ new accounts


def _register(
    services: Services,
    authenticator: stauth.Authenticate,
    *,
    key: str,
    role: str,
    form_name: str,
    button: str,
    may_create: Callable[[], str | None],
) -> str | None:
    """The library's sign-up form, written to the users table. Returns the new username.

    `may_create` is asked just before writing and returns a sentence when the account must
    not be created after all; then nothing is kept.
    """
    try:
        email, username, name = authenticator.register_user(
            location="main",
            captcha=False,
            password_hint=False,
            merge_username_email=False,
            roles=[role],
            key=key,
            fields={"Form name": form_name, "Register": button},
        )
    except stauth.RegisterError as exc:
        st.error(str(exc))
        return None
    if not username:
        return None
    usernames = live_credentials(authenticator)["usernames"]
    entry = usernames[username]
    refusal = may_create()
    try:
        if refusal:
            raise ValidationError(refusal)
        user = services.store.create_user(
            username, name=name, email=email, password_hash=entry["password"], role=role
        )
    except ValidationError as exc:
        del usernames[username]
        st.error(str(exc))
        return None
    entry.update(name=user.name, huddle_user_id=user.id)
    return username


def _first_account_screen(services: Services, authenticator: stauth.Authenticate) -> bool:
    """The screen of a fresh install. True once the first account exists."""
    screen = st.empty()
    with screen.container():
        st.title("Welcome to Huddle")
        st.write(
            "Nobody has an account yet. Create the first one: it becomes the admin account, "
            "which can open registration to the other coaches."
        )
        created = _register(
            services,
            authenticator,
            key=FIRST_ACCOUNT_FORM,
            role="admin",
            form_name="Create the first account",
            button="Create account",
            may_create=lambda: (
                "Someone has just created the first account; log in, or ask them for one."
                if services.store.count_users()
                else None
            ),
        )
    if created is None:
        return False
    screen.empty()
    _brand()
    st.success(f"The admin account **{created}** is ready. Log in with it below.")
    return True


def _brand() -> None:
    st.title("Huddle")
    st.caption("Your coaching assistant. Every conversation is kept.")


def _registration(services: Services, authenticator: stauth.Authenticate) -> None:
    with st.expander("New coach? Create an account"):
        created = _register(
            services,
            authenticator,
            key=REGISTER_FORM,
            role="coach",
            form_name="Create an account",
            button="Create account",
            may_create=lambda: None,
        )
        if created:
            st.success(f"The account **{created}** is ready. Log in with it above.")


def sign_in_screen(services: Services) -> Coach | None:
    """Log the coach in (cookie or form), or show the screen to do it.

    Returns the coach when this run is logged in. The screen is drawn only when it is needed,
    so a coach whose cookie logs them in never sees it flash.
    """
    authenticator = get_authenticator(services)
    has_users = services.store.count_users() > 0
    if has_users:
        _refresh_credentials(authenticator, services.store)
        try:
            authenticator.login(location="unrendered")  # the cookie, if there is one
        except stauth.LoginError:
            # A cookie for an account that no longer exists: forget it and show the form.
            authenticator.cookie_controller.delete_cookie()
            st.session_state["logout"] = True
        if st.session_state.get("authentication_status"):
            return logged_in_coach(services)
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        if has_users:
            _brand()
        elif not _first_account_screen(services, authenticator):
            return None
        _login_counting_failures(services, authenticator)
        if st.session_state.get("authentication_status"):
            return logged_in_coach(services)
        if has_users and registration_open(services):
            _registration(services, authenticator)
    return None
