"""Log-in sessions kept on the server, failed log-ins counted in a table, usernames
without regard to case.

- `login_sessions`: one row per log-in of a browser. The cookie carries a random id,
  signed; the row (found by the id's SHA-256) says whose it is, when it was last used,
  when it expires and whether it was revoked. Log-out, a password change, "log out
  everywhere" and a removed account end it at once on every replica, and neither the
  signing key nor a copy of the database is enough to log in.
- `login_failures`: failed log-ins per typed username and per client address, counted
  with atomic upserts (they were one JSON value in `settings`, read and rewritten).
- A unique index on lower(username): `Coach1` and `coach1` are one account. An upgrade
  over two usernames that differ only in case stops and names them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    clashes = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1"
            )
        )
        .scalars()
        .all()
    )
    if clashes:
        raise RuntimeError(
            "Usernames now ignore case, and these name more than one account each: "
            f"{', '.join(sorted(clashes))}. Rename all but one of each, then upgrade again."
        )
    op.create_index("ux_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "login_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", big_id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("last_seen_at", stamp, nullable=False),
        sa.Column("expires_at", stamp, nullable=False),
        sa.Column("revoked_at", stamp),
    )
    op.create_index("ix_login_sessions_user", "login_sessions", ["user_id"])
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last_at", stamp, nullable=False),
    )
    # The counter that lived in settings is not carried over: it only ever held minutes.
    op.execute(sa.text("DELETE FROM settings WHERE key = 'login_failures'"))


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_index("ix_login_sessions_user", table_name="login_sessions")
    op.drop_table("login_sessions")
    op.drop_index("ux_users_username_lower", table_name="users")
