"""The account menu in the sidebar: who is logged in, change password, registration, log out."""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth

from ui import auth, state
from ui.auth import Coach
from ui.markdown import escape_markdown
from ui.services import Services

RESET_FORM = "huddle_reset_password"


def account_menu(services: Services, coach: Coach) -> Coach | None:
    """Draw the menu; returns None when the coach logs out in this run.

    It runs before the pages, so a log-out is handled at once and the login screen shows in
    the same run (a rerun here could drop the cookie change before the browser makes it).
    """
    slot = st.sidebar.empty()
    with (
        slot.container(),
        st.popover(escape_markdown(coach.name), icon=":material/account_circle:", width="stretch"),
    ):
        st.caption(f"Logged in as **{escape_markdown(coach.username)}** · {coach.role}")
        st.button(
            "Change password",
            key="huddle_change_password",
            icon=":material/key:",
            on_click=state.open_dialog,
            args=("password",),
            width="stretch",
        )
        st.button(
            "Log out on other devices",
            key="huddle_log_out_elsewhere",
            icon=":material/devices:",
            on_click=_log_out_elsewhere,
            args=(services, coach),
            width="stretch",
        )
        if coach.is_admin:
            _registration_switch(services)
        logging_out = st.button(
            "Log out", key="huddle_log_out", icon=":material/logout:", width="stretch"
        )
    if logging_out:
        slot.empty()
        auth.log_out(services)
        return None
    dialog = state.current_dialog()
    if dialog is not None and dialog.name == "password":
        _password_dialog(services, coach)
    return coach


def _log_out_elsewhere(services: Services, coach: Coach) -> None:
    ended = auth.log_out_elsewhere(services, coach)
    if ended:
        state.notify(
            "success",
            f"Logged out on {ended} other device{'s' if ended != 1 else ''} or browser"
            f"{'s' if ended != 1 else ''}; this one stays logged in.",
        )
    else:
        state.notify("info", "You were not logged in anywhere else.")


def _registration_switch(services: Services) -> None:
    from_environment = services.settings.allow_registration

    def changed() -> None:
        auth.set_registration_open(services, bool(st.session_state["huddle_registration"]))

    st.toggle(
        "Coaches can create accounts",
        value=auth.registration_open(services),
        key="huddle_registration",
        disabled=from_environment,
        help="HUDDLE_ALLOW_REGISTRATION is set on the server." if from_environment else None,
        on_change=changed,
    )


@st.dialog("Change password", on_dismiss=state.close_dialog)
def _password_dialog(services: Services, coach: Coach) -> None:
    authenticator = auth.get_authenticator(services)
    username = st.session_state.get("username") or ""
    try:
        changed = authenticator.reset_password(
            username,
            key=RESET_FORM,
            fields={"Form name": "", "Reset": "Change password"},
        )
    except (stauth.CredentialsError, stauth.ResetError) as exc:
        st.error(str(exc))
        return
    if changed:
        new_hash = auth.live_credentials(authenticator)["usernames"][username]["password"]
        services.store.set_password_hash(coach.username, new_hash)
        # Whoever knew the old password is logged out everywhere but here.
        ended = auth.log_out_elsewhere(services, coach)
        state.close_dialog()
        state.notify(
            "success",
            "Your password was changed"
            + (f"; {ended} other log-in{'s' if ended != 1 else ''} ended." if ended else "."),
        )
        st.rerun()
