"""Accounts and install settings: the users table and the settings rows.

AccountStore is the part of ConversationStore (core/store.py) that reads and writes them;
like the rest of the store it needs only `self.db`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.errors import NotFound, ValidationError
from core.models import USER_ROLES, Setting, User, utcnow
from core.text import clean_text

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")
USERNAME_RULE = (
    "A username is 2 to 64 letters, digits, dots, dashes or underscores, starting with a "
    "letter or digit; capitals count as small letters."
)
FIRST_ACCOUNT_SETTING = "first_account"


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise ValidationError(f"The {what} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def _same_username(username: str):
    """Usernames match without regard to case (the unique index on lower(username))."""
    return func.lower(User.username) == username.lower()


class AccountStore:
    """Users and settings, for ConversationStore."""

    db: Database

    # ----------------------------------------------------------------- users

    def create_user(
        self,
        username: str,
        *,
        name: str = "",
        email: str = "",
        password_hash: str | None = None,
        role: str = "coach",
        first_account: bool = False,
    ) -> User:
        """A new user. `first_account` makes it the install's first, or refuses: two people
        creating the first account at once cannot both get it (one transaction, and the
        primary key of one settings row)."""
        if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
            raise ValidationError(USERNAME_RULE)
        check_choice(role, USER_ROLES, "role")
        # One rule everywhere: usernames are lower-case, so Coach1 and coach1 are one name.
        username = username.lower()
        name = clean_text(name, what="name", max_chars=200, allow_empty=True).strip()
        email = clean_text(email, what="email", max_chars=320, allow_empty=True).strip()
        user = User(
            username=username,
            name=name or username,
            email=email,
            password_hash=password_hash,
            role=role,
            created_at=utcnow(),
        )
        try:
            with self.db.writing() as session:
                if first_account:
                    # A row left from accounts since deleted is no claim.
                    session.execute(
                        delete(Setting).where(
                            Setting.key == FIRST_ACCOUNT_SETTING, ~exists().where(User.id > 0)
                        )
                    )
                    session.add(Setting(key=FIRST_ACCOUNT_SETTING, value=username))
                    session.flush()
                session.add(user)
        except IntegrityError as exc:
            if first_account:
                raise ValidationError(
                    "Someone has just created the first account; log in, or ask them for one."
                ) from exc
            raise ValidationError(f"The username {username!r} is already taken.") from exc
        return user

    def get_user(self, username: str) -> User:
        with self.db.reading() as session:
            user = session.scalar(select(User).where(_same_username(username)))
        if user is None:
            raise NotFound(f"There is no user {username!r}.")
        return user

    def get_user_by_id(self, user_id: int) -> User:
        with self.db.reading() as session:
            user = session.get(User, user_id)
        if user is None:
            raise NotFound("That user does not exist.")
        return user

    def list_users(self) -> list[User]:
        with self.db.reading() as session:
            return list(session.scalars(select(User).order_by(User.username)))

    def count_users(self) -> int:
        with self.db.reading() as session:
            return session.scalar(select(func.count()).select_from(User)) or 0

    def set_password_hash(self, username: str, password_hash: str) -> None:
        with self.db.writing() as session:
            result = session.execute(
                update(User).where(_same_username(username)).values(password_hash=password_hash)
            )
            if result.rowcount == 0:
                raise NotFound(f"There is no user {username!r}.")

    def update_user(
        self,
        user_id: int,
        *,
        name: str | None = None,
        email: str | None = None,
        role: str | None = None,
    ) -> User:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = clean_text(name, what="name", max_chars=200).strip()
        if email is not None:
            values["email"] = clean_text(email, what="email", max_chars=320, allow_empty=True)
        if role is not None:
            values["role"] = check_choice(role, USER_ROLES, "role")
        with self.db.writing() as session:
            if values:
                session.execute(update(User).where(User.id == user_id).values(**values))
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("That user does not exist.")
            return user

    def delete_user(self, user_id: int) -> None:
        """Delete a user and everything they own (the database cascades)."""
        with self.db.writing() as session:
            result = session.execute(delete(User).where(User.id == user_id))
            if result.rowcount == 0:
                raise NotFound("That user does not exist.")

    # -------------------------------------------------------------- settings

    def get_setting(self, key: str) -> str | None:
        with self.db.reading() as session:
            return session.scalar(select(Setting.value).where(Setting.key == key))

    def set_setting(self, key: str, value: str) -> None:
        with self.db.writing() as session:
            session.merge(Setting(key=key, value=value))

    def get_or_create_setting(self, key: str, make_value) -> str:
        """Read a setting, creating it once if missing; replicas racing here agree on one value."""
        existing = self.get_setting(key)
        if existing is not None:
            return existing
        try:
            with self.db.writing() as session:
                session.add(Setting(key=key, value=make_value()))
        except IntegrityError:
            pass  # another process created it first; theirs wins
        value = self.get_setting(key)
        assert value is not None
        return value
