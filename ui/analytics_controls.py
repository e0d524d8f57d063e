"""The Analytics page's controls: period, kind, tool, time zone and (for admins) whose data.

Every control is bound to the address (`bind="query-params"`, the key is the parameter's
name), so a view can be bookmarked. A coach's page draws no "whose data" control at all,
so a crafted `?view=` or `?coach=` changes nothing: the scope is read from widgets that only
exist for admins, and core.analytics_scope.Scope.for_viewer checks the role again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import available_timezones

import streamlit as st

from core.analytics import first_activity
from core.analytics_scope import Period, Scope
from core.errors import HuddleError
from core.store import ConversationStore
from core.time_buckets import check_zone
from ui.auth import Coach
from ui.timezone import browser_timezone

PERIOD = "period"
RANGE = "range"
KIND = "kind"
TOOL = "tool"
ZONE = "tz"
VIEW = "view"
COACH = "coach"

PRESETS = {
    "7": "Last 7 days",
    "30": "Last 30 days",
    "90": "Last 90 days",
    "year": "This year",
    "all": "All time",
    "custom": "Custom range",
}
KINDS = {"all": "All", "chat": "Chats", "drill": "Drills"}
VIEWS = {"own": "My data", "all": "All coaches", "one": "One coach"}
_ZONES = sorted(available_timezones())


@dataclass(frozen=True)
class AnalyticsAsk:
    """What the controls ask for; `problem` is a sentence when they cannot be answered."""

    scope: Scope
    period: Period | None
    zone: str
    kind: str | None
    tool: str | None
    title: str
    problem: str | None = None


def _choice(label: str, choices: dict[str, str], key: str, **options) -> str:
    return st.selectbox(
        label, list(choices), format_func=choices.get, key=key, bind="query-params", **options
    )


def _zone_name() -> str:
    zone = browser_timezone()
    name = getattr(zone, "key", None) or "UTC"
    return name if name in _ZONES else "UTC"


def _period(store: ConversationStore, scope: Scope, preset: str, zone: str) -> Period | None:
    now = datetime.now(UTC)
    if preset in ("7", "30", "90"):
        return Period.last_days(int(preset), now, zone)
    if preset == "year":
        today = now.astimezone(check_zone(zone)).date()
        return Period.of_days(date(today.year, 1, 1), today, zone)
    if preset == "all":
        first = first_activity(store, scope)
        today = now.astimezone(check_zone(zone)).date()
        start = first.astimezone(check_zone(zone)).date() if first else today
        return Period.of_days(start, today, zone)
    picked = st.session_state.get(RANGE) or ()
    if len(picked) != 2:
        return None
    return Period.of_days(picked[0], picked[1], zone)


def analytics_controls(store: ConversationStore, coach: Coach) -> AnalyticsAsk:
    """Draw the controls; returns the scope, period and filters they ask for."""
    scope, title = Scope.own(coach.id), "Your assistant use"
    if coach.is_admin:
        with st.container(horizontal=True, vertical_alignment="bottom"):
            view = _choice("Whose data", VIEWS, VIEW, width=200)
            if view == "all":
                scope, title = Scope.for_viewer(coach, all_coaches=True), "All coaches"
            elif view == "one":
                users = {str(user.id): user.username for user in store.list_users()}
                picked = _choice("Coach", users, COACH, width=220)
                # for_viewer checks the role again: only an admin gets another coach's figures.
                scope = Scope.for_viewer(coach, coach_id=int(picked))
                title = f"{users[picked]}'s assistant use"
    columns = st.columns([1.3, 1.6, 1, 1.3, 1.6], vertical_alignment="bottom")
    with columns[0]:
        preset = _choice("Period", PRESETS, PERIOD, index=1)
    with columns[1]:
        today = date.today()
        st.date_input(
            "Custom range",
            value=(today - timedelta(days=29), today),
            key=RANGE,
            bind="query-params",
            format="YYYY-MM-DD",
            disabled=preset != "custom",
        )
    with columns[2]:
        kind = _choice("Kind", KINDS, KIND)
    with columns[3]:
        tools = store.list_tool_names(scope.user_id) if scope.user_id is not None else []
        tool = _choice("Tool", {"": "Any tool", **{name: name for name in tools}}, TOOL)
    with columns[4]:
        default_zone = _zone_name()
        zone = st.selectbox(
            "Time zone",
            _ZONES,
            index=_ZONES.index(default_zone),
            key=ZONE,
            bind="query-params",
            help="Days, weeks and the hours of the heatmap are this zone's (your browser's "
            "unless you choose another).",
        )
    try:
        period = _period(store, scope, preset, zone)
    except HuddleError as exc:
        return AnalyticsAsk(scope, None, zone, None, None, title, problem=str(exc))
    if period is None:
        return AnalyticsAsk(
            scope, None, zone, None, None, title, problem="Pick the first and the last day."
        )
    return AnalyticsAsk(
        scope,
        period,
        zone,
        None if kind == "all" else kind,
        tool or None,
        title,
    )
