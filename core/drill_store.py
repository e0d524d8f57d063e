"""ConversationStore's drills: the drill library's writes and reads, scoped by user in SQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from core.db import Database
from core.errors import NotFound, ValidationError
from core.models import (
    DRILL_INT_FIELDS,
    DRILL_LIST_FIELDS,
    DRILL_TEXT_FIELDS,
    ChatSession,
    Drill,
    new_id,
    utcnow,
)
from core.text import clean_text


class DrillStore:
    """Drill methods of ConversationStore (mixed into it; `_owned_session` is the store's)."""

    db: Database

    @staticmethod
    def _drill_values(fields: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if name in DRILL_TEXT_FIELDS:
                limit = 200 if name == "title" else 20_000
                values[name] = clean_text(
                    value or "", what=f"drill {name}", max_chars=limit, allow_empty=name != "title"
                ).strip()
            elif name in DRILL_INT_FIELDS:
                if value in (None, ""):
                    values[name] = None
                    continue
                try:
                    number = int(value)
                except (TypeError, ValueError) as exc:
                    raise ValidationError(f"The drill {name} must be a whole number.") from exc
                if not 0 < number <= 10_000:
                    raise ValidationError(f"The drill {name} must be between 1 and 10,000.")
                values[name] = number
            elif name in DRILL_LIST_FIELDS:
                items = [value] if isinstance(value, str) else list(value or [])
                values[name] = [
                    clean_text(str(item), what=f"drill {name}", max_chars=2_000).strip()
                    for item in items
                    if str(item).strip()
                ]
            else:
                raise ValidationError(f"A drill has no field {name!r}.")
        return values

    def create_drill(
        self, user_id: int, *, source_session_id: str | None = None, **fields: Any
    ) -> Drill:
        values = self._drill_values(fields)
        if not values.get("title"):
            raise ValidationError("A drill needs a title.")
        now = utcnow()
        drill = Drill(
            id=new_id(),
            user_id=user_id,
            **{name: "" for name in DRILL_TEXT_FIELDS},
            **{name: [] for name in DRILL_LIST_FIELDS},
            created_at=now,
            updated_at=now,
        )
        for name, value in values.items():
            setattr(drill, name, value)
        with self.db.writing() as session:
            if source_session_id is not None:
                if session.scalar(self._owned_session(user_id, source_session_id)) is None:
                    raise NotFound("That conversation was not found.")
                drill.source_session_id = source_session_id
            session.add(drill)
        return drill

    def update_drill(self, user_id: int, drill_id: str, **fields: Any) -> Drill:
        values = self._drill_values(fields)
        if "title" in values and not values["title"]:
            raise ValidationError("A drill needs a title.")
        with self.db.writing() as session:
            drill = self._require_drill(session, user_id, drill_id)
            for name, value in values.items():
                setattr(drill, name, value)
            drill.updated_at = utcnow()
        return drill

    @staticmethod
    def _require_drill(session, user_id: int, drill_id: str) -> Drill:
        drill = session.scalar(
            select(Drill).where(Drill.id == str(drill_id), Drill.user_id == user_id)
        )
        if drill is None:
            raise NotFound("That drill was not found.")
        return drill

    def get_drill(self, user_id: int, drill_id: str) -> Drill:
        with self.db.reading() as session:
            return self._require_drill(session, user_id, drill_id)

    def drill_titles(self, user_id: int, *, limit: int = 500) -> list[tuple[str, str]]:
        """(id, title) of the coach's drills, newest change first: a picker's options."""
        with self.db.reading() as session:
            return [
                (drill_id, title)
                for drill_id, title in session.execute(
                    select(Drill.id, Drill.title)
                    .where(Drill.user_id == user_id)
                    .order_by(Drill.updated_at.desc(), Drill.id)
                    .limit(max(1, min(int(limit), 500)))
                )
            ]

    def list_drills(
        self,
        user_id: int,
        *,
        query: str | None = None,
        sport: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Drill]:
        """The coach's drills, newest change first; `query` matches title or objective."""
        conditions: list[Any] = [Drill.user_id == user_id]
        if sport:
            conditions.append(func.lower(Drill.sport) == sport.strip().lower())
        if query and query.strip():
            for word in query.lower().split():
                pattern = "%" + re.sub(r"([%_\\])", r"\\\1", word) + "%"
                conditions.append(
                    or_(
                        func.lower(Drill.title).like(pattern, escape="\\"),
                        func.lower(Drill.objective).like(pattern, escape="\\"),
                        func.lower(Drill.sport).like(pattern, escape="\\"),
                    )
                )
        with self.db.reading() as session:
            return list(
                session.scalars(
                    select(Drill)
                    .where(*conditions)
                    .order_by(Drill.updated_at.desc(), Drill.id)
                    .limit(max(1, min(int(limit), 500)))
                    .offset(max(0, int(offset)))
                )
            )

    def delete_drill(self, user_id: int, drill_id: str) -> None:
        """Delete a drill; its conversations stay and are unlinked (drill_id set to NULL)."""
        with self.db.writing() as session:
            result = session.execute(
                delete(Drill).where(Drill.id == str(drill_id), Drill.user_id == user_id)
            )
            if result.rowcount == 0:
                raise NotFound("That drill was not found.")

    def link_drill(self, user_id: int, session_id: str, drill_id: str | None) -> ChatSession:
        """Point a session at one of the coach's drills (or at none)."""
        with self.db.writing() as session:
            if drill_id is not None:
                self._require_drill(session, user_id, drill_id)
            result = session.execute(
                update(ChatSession)
                .where(ChatSession.id == str(session_id), ChatSession.user_id == user_id)
                .values(drill_id=drill_id, updated_at=utcnow())
            )
            if result.rowcount == 0:
                raise NotFound("That conversation was not found.")
            chat = session.scalar(self._owned_session(user_id, session_id))
            assert chat is not None
            return chat

    def sessions_for_drill(self, user_id: int, drill_id: str) -> list[ChatSession]:
        with self.db.reading() as session:
            self._require_drill(session, user_id, drill_id)
            return list(
                session.scalars(
                    select(ChatSession)
                    .where(ChatSession.user_id == user_id, ChatSession.drill_id == str(drill_id))
                    .order_by(ChatSession.created_at.desc())
                )
            )
