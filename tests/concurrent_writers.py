"""A writer process for the concurrency test: 8 threads appending and running tools.

Run by tests/core/test_concurrency.py with multiprocessing (spawn), so it lives in a module
the child can import. Each thread appends to its own session and to the one session every
thread shares, and every fifth message runs a tool (a search of the coach's history, which
reads while the others write) and stores its call. Any exception is reported, never raised.
"""

from __future__ import annotations

import threading
import traceback

from core.db import Database
from core.store import ConversationStore
from core.tools import GENERAL_TOOLS, ToolContext, ToolRegistry

THREADS = 8
OWN = 30  # messages per thread in its own session
SHARED = 15  # messages per thread in the shared session


def write(database_url: str, user_id: int, shared_id: str, process: int) -> dict:
    """Returns {"own": {thread: session id}, "errors": [text]}."""
    db = Database(database_url)
    store = ConversationStore(db)
    tools = ToolRegistry(GENERAL_TOOLS)
    own: dict[int, str] = {}
    errors: list[str] = []
    start = threading.Barrier(THREADS)

    def thread(number: int) -> None:
        try:
            session_id = store.create_session(user_id, title=f"p{process} t{number}").id
            own[number] = session_id
            start.wait()
            for index in range(max(OWN, SHARED)):
                for target, count, where in (
                    (session_id, OWN, "own"),
                    (shared_id, SHARED, "shared"),
                ):
                    if index >= count:
                        continue
                    role = "assistant" if index % 2 else "user"
                    message = store.add_message(
                        user_id, target, role, f"{where} p{process} t{number} m{index} rondo"
                    )
                    if index % 5 == 4:
                        context = ToolContext(store, user_id, target)
                        result = tools.run(context, "search_history", {"query": "rondo"})
                        assert not result.is_error, result.output
                        store.record_tool_call(
                            user_id,
                            target,
                            message_id=message.id,
                            tool_use_id=f"toolu_p{process}t{number}m{index}{where}",
                            name="search_history",
                            input={"query": "rondo"},
                            output=result.output,
                            duration_ms=result.duration_ms,
                        )
        except BaseException:
            errors.append(traceback.format_exc())

    workers = [threading.Thread(target=thread, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    db.dispose()
    return {"own": own, "errors": errors}
