"""Logging in with streamlit-authenticator over the users table: the sign-in screen and the coach.

The authenticator reads its credentials from the users table (refreshed before each sign-in
attempt, so an account made on another replica can log in) and every account it creates is
written there. It is built once per browser session. Its cookie and its lockout are replaced
by log-in rows and failure counts in the database (ui/login_session.py), checked every run.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import Validator

from core.errors import ValidationError
from core.login_sessions import LoginSessions
from core.passwords import PASSWORD_RULE, password_problem
from core.store import USERNAME_PATTERN, USERNAME_RULE, ConversationStore
from ui import state
from ui.login_session import COOKIE_NAME, ServerCookie, guard_credentials
from ui.services import Services

__all__ = ["COOKIE_NAME", "Coach"]

COOKIE_KEY_SETTING = "cookie_key"
REGISTRATION_SETTING = "allow_registration"
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


class _AccountRules(Validator):
    """The library's sign-up and password forms, held to the rules the command line keeps:
    one for usernames (core/store.py), one for passwords (core/passwords.py)."""

    def validate_username(self, username: str) -> bool:
        return bool(USERNAME_PATTERN.match(username))

    def validate_password(self, password: str) -> bool:
        return password_problem(password) is None

    def diagnose_password(self, password: str) -> str:
        return password_problem(password) or ""


def get_authenticator(services: Services) -> stauth.Authenticate:
    """The authenticator of this browser session, built on its first run."""
    if state.AUTHENTICATOR not in st.session_state:
        key = cookie_key(services)
        authenticator = stauth.Authenticate(
            credentials_from_users(services.store),
            cookie_name=COOKIE_NAME,
            cookie_key=key,
            cookie_expiry_days=0,  # its own cookie is never written: ServerCookie is
            validator=_AccountRules(),
            auto_hash=False,  # the users table holds bcrypt hashes already
            login_sleep_time=0,  # the library sleeps 0.7 s on every signed-out run otherwise
            password_instructions=PASSWORD_RULE,
        )
        authenticator.cookie_controller = ServerCookie(services, key)
        guard_credentials(authenticator.authentication_controller.authentication_model, services)
        st.session_state[state.AUTHENTICATOR] = authenticator
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
    """The coach this browser session is logged in as, if its log-in row is still live.

    Checked on every run: a log-out elsewhere, a password change, "log out everywhere" or a
    removed account ends the session here at the next run, on any replica.
    """
    if not st.session_state.get("authentication_status"):
        return None
    check = LoginSessions(services.db).check(st.session_state.get(state.LOGIN_SESSION))
    authenticator = get_authenticator(services)
    if check is None:
        authenticator.logout(location="unrendered")
        return None
    if check.renewed_until is not None:
        authenticator.cookie_controller.write(
            st.session_state[state.LOGIN_SESSION], check.renewed_until
        )
    user = check.user
    return Coach(id=user.id, username=user.username, name=user.name, role=user.role)


def log_out(services: Services) -> None:
    """End this log-in and delete the cookie (no rerun: that could drop the cookie change).

    The address forgets the conversation it named (`?session=`), and the browser
    session which conversations were open, so the next person at this screen sees
    neither.
    """
    get_authenticator(services).logout(location="unrendered")
    st.query_params.clear()
    state.forget_open_sessions()


def log_out_elsewhere(services: Services, coach: Coach) -> int:
    """End the coach's other log-ins (other browsers, other devices); how many there were."""
    keep = st.session_state.get(state.LOGIN_SESSION)
    return LoginSessions(services.db).end_all(coach.id, keep=keep)


# ------------------------------------------------------------- log-in form


def _login_form(authenticator: stauth.Authenticate) -> None:
    """The library's log-in form. A failed attempt, whatever the account, gets one answer; an
    attempt made too soon after several failures is refused before any password is checked."""
    st.session_state.pop(state.LOGIN_WAIT, None)
    authenticator.login(
        location="main", key=LOGIN_FORM, fields={"Form name": "Log in", "Login": "Log in"}
    )
    wait = st.session_state.pop(state.LOGIN_WAIT, None)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        st.error(
            "Too many failed log-ins for this username or from this address. "
            f"Try again in {_duration(seconds)}."
        )
    elif st.session_state.get("authentication_status") is False:
        st.error("The username or password is incorrect.")


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# ------------------------------------------------------------ new accounts


def _register(
    services: Services,
    authenticator: stauth.Authenticate,
    *,
    key: str,
    role: str,
    form_name: str,
    button: str,
    first_account: bool = False,
) -> str | None:
    """The library's sign-up form, written to the users table. Returns the new username.

    `first_account`: the install's first account, which nobody else may be creating at the
    same moment (core/store.py refuses the second); then nothing of the loser is kept.
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
        st.error(USERNAME_RULE if "Username is not valid" in str(exc) else str(exc))
        return None
    if not username:
        return None
    usernames = live_credentials(authenticator)["usernames"]
    entry = usernames[username]
    try:
        user = services.store.create_user(
            username,
            name=name,
            email=email,
            password_hash=entry["password"],
            role=role,
            first_account=first_account,
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
            first_account=True,
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
    # The screen is cleared as soon as the form logs the coach in, so the page the entry
    # draws next is all this run shows (no second run is needed to tidy up).
    screen = st.empty()
    with screen.container():
        _, middle, _ = st.columns([1, 2, 1])
        with middle:
            if has_users:
                _brand()
            elif not _first_account_screen(services, authenticator):
                return None
            _login_form(authenticator)
            coach = None
            if st.session_state.get("authentication_status"):
                coach = logged_in_coach(services)
            elif has_users and registration_open(services):
                _registration(services, authenticator)
    if coach is not None:
        screen.empty()
    return coach
