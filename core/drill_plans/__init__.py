"""Drill plans: the generated text of a drill (objective, setup, steps...) for each focus and sport.

Each sport with its own skill words has a module here; general.py holds the plans for focuses
every sport shares and for a drill with no focus. Adding a sport is adding a table.
"""

from __future__ import annotations

from core.drill_plans.basketball import BASKETBALL
from core.drill_plans.field_hockey import FIELD_HOCKEY
from core.drill_plans.general import GENERAL_FOCUS_WORDS, GENERAL_PLAN, GENERAL_PLANS
from core.drill_plans.handball import HANDBALL
from core.drill_plans.ice_hockey import ICE_HOCKEY
from core.drill_plans.plan import FocusWords, Plan, SportPlans
from core.drill_plans.rugby import RUGBY
from core.drill_plans.soccer import SOCCER
from core.drill_plans.volleyball import VOLLEYBALL

__all__ = [
    "GENERAL_FOCUS_WORDS",
    "GENERAL_PLAN",
    "GENERAL_PLANS",
    "SPORT_PLANS",
    "FocusWords",
    "Plan",
    "SportPlans",
    "find_plan",
    "plan_for",
    "plans_of_sport",
]

# In this order a skill word several sports share picks its sport ("power play" is ice hockey).
SPORT_PLANS: tuple[SportPlans, ...] = (
    SOCCER,
    BASKETBALL,
    VOLLEYBALL,
    ICE_HOCKEY,
    FIELD_HOCKEY,
    RUGBY,
    HANDBALL,
)

_BY_OBJECTIVE: dict[str, tuple[str | None, Plan]] = {
    GENERAL_PLAN.objective: (None, GENERAL_PLAN),
    **{plan.objective: (focus, plan) for focus, plan in GENERAL_PLANS.items()},
    **{
        plan.objective: (focus, plan)
        for table in SPORT_PLANS
        for focus, plan in table.plans.items()
    },
}


def plans_of_sport(sport: str | None) -> list[SportPlans]:
    """The tables of a sport ("hockey" has two: ice hockey's, then field hockey's)."""
    name = (sport or "").strip().lower()
    return [table for table in SPORT_PLANS if name in table.sports]


def plan_for(sport: str | None, focus: str | None) -> Plan:
    """The plan for a focus in a sport: the sport's own, else the general one for the focus."""
    if not focus:
        return GENERAL_PLAN
    for table in plans_of_sport(sport):
        if focus in table.plans:
            return table.plans[focus]
    return GENERAL_PLANS.get(focus, GENERAL_PLAN)


def find_plan(objective: str | None) -> tuple[str | None, Plan] | None:
    """The focus and plan that wrote a drill's objective; None when a person wrote it.

    The focus is None for the general plan (a drill generated without a focus).
    """
    return _BY_OBJECTIVE.get(objective or "")
