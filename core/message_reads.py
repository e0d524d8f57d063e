"""Reading a conversation back: its messages, a page or a window at a time or all in
order, and its tool calls; always filtered on the acting user in SQL.

MessageReads is the part of ConversationStore (core/store.py) that does it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Select, select

from core.db import Database
from core.errors import NotFound
from core.models import ChatSession, Message, ToolCall


def owned_session(user_id: int, session_id: str) -> Select[tuple[ChatSession]]:
    """The session, only if this user owns it."""
    return select(ChatSession).where(
        ChatSession.id == str(session_id), ChatSession.user_id == user_id
    )


class MessageReads:
    """Messages and tool calls read back, for ConversationStore."""

    db: Database

    def get_message(self, user_id: int, message_id: int) -> Message:
        with self.db.reading() as session:
            message = session.scalar(
                select(Message).where(Message.id == message_id, Message.user_id == user_id)
            )
        if message is None:
            raise NotFound("That message was not found.")
        return message

    def list_messages(
        self,
        user_id: int,
        session_id: str,
        *,
        limit: int | None = 50,
        before_seq: int | None = None,
    ) -> list[Message]:
        """The latest `limit` messages (before `before_seq` if given), oldest first."""
        conditions = [Message.session_id == str(session_id), Message.user_id == user_id]
        if before_seq is not None:
            conditions.append(Message.seq < before_seq)
        query = select(Message).where(*conditions).order_by(Message.seq.desc())
        if limit is not None:
            query = query.limit(max(1, int(limit)))
        with self.db.reading() as session:
            messages = list(session.scalars(query))
            if not messages and session.scalar(owned_session(user_id, session_id)) is None:
                raise NotFound("That conversation was not found.")
        messages.reverse()
        return messages

    def list_messages_from(
        self, user_id: int, session_id: str, from_seq: int, limit: int = 50
    ) -> list[Message]:
        """At most `limit` messages from seq `from_seq` on, oldest first (a window in the middle).

        The counterpart of list_messages(before_seq=) for a view opened at an old message.
        """
        query = (
            select(Message)
            .where(
                Message.session_id == str(session_id),
                Message.user_id == user_id,
                Message.seq >= int(from_seq),
            )
            .order_by(Message.seq)
            .limit(max(1, int(limit)))
        )
        with self.db.reading() as session:
            messages = list(session.scalars(query))
            if not messages and session.scalar(owned_session(user_id, session_id)) is None:
                raise NotFound("That conversation was not found.")
        return messages

    def iter_messages(self, user_id: int, session_id: str, batch: int = 500) -> Iterator[Message]:
        """Every message of a session in order, fetched a batch at a time."""
        after = 0
        while True:
            with self.db.reading() as session:
                rows = list(
                    session.scalars(
                        select(Message)
                        .where(
                            Message.session_id == str(session_id),
                            Message.user_id == user_id,
                            Message.seq > after,
                        )
                        .order_by(Message.seq)
                        .limit(batch)
                    )
                )
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].seq

    def list_tool_calls(
        self, user_id: int, session_id: str, *, message_ids: Iterable[int] | None = None
    ) -> list[ToolCall]:
        conditions = [ToolCall.session_id == str(session_id), ToolCall.user_id == user_id]
        if message_ids is not None:
            conditions.append(ToolCall.message_id.in_(list(message_ids)))
        with self.db.reading() as session:
            return list(session.scalars(select(ToolCall).where(*conditions).order_by(ToolCall.id)))
