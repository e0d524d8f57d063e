"""A page drawing only the drill library tab, for AppTest (the coach id is in HUDDLE_TEST_COACH)."""

import os

from core.config import load_settings
from ui.auth import Coach
from ui.drill_library import drill_library_tab
from ui.services import open_services

services = open_services(load_settings())
user = services.store.get_user_by_id(int(os.environ["HUDDLE_TEST_COACH"]))
drill_library_tab(
    services, Coach(id=user.id, username=user.username, name=user.name, role=user.role)
)
