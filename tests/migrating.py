"""Moving a test database to a schema revision, down or up (alembic, as `migrate` does)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from core.db import _alembic_config


def migrate_to(db, revision: str, *, down: bool = False) -> None:
    with db.engine.connect() as connection:
        step = command.downgrade if down else command.upgrade
        step(_alembic_config(connection), revision)
        connection.commit()


def table_names(db) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())
