"""`python -m core chat`: real processes, the offline model or the fake Messages API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from core.config import PROJECT_ROOT
from core.llm import OFFLINE_MODEL_NAME
from core.store import ConversationStore
from tests.fakes.anthropic_server import FakeAnthropic

TOOL_LINE = re.compile(r"^\[tool\] (\w+) (\{.*\}) -> (.*) \((\d+) ms\)$")


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "DATABASE_"))}
    # Empty wins over .streamlit/secrets.toml, so these runs are offline unless told otherwise.
    env.update(ANTHROPIC_API_KEY="", ANTHROPIC_BASE_URL="", PYTHONPATH=str(PROJECT_ROOT))
    env.update(extra)
    return env


def chat_command(database_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "core", "chat", "--database-url", database_url, *args]


def chat(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        chat_command(database_url, *args),
        capture_output=True,
        text=True,
        env=environment(**env),
        cwd=PROJECT_ROOT,
        timeout=60,
    )


def session_line(stdout: str) -> str:
    last = stdout.rstrip("\n").splitlines()[-1]
    assert last.startswith("session: "), stdout
    return last.removeprefix("session: ")


def test_offline_answer_with_its_tool_line(database_url, store: ConversationStore, coach) -> None:
    done = chat(database_url, "--user", "coach1", "what is 2+2")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    tool = TOOL_LINE.match(lines[0])
    assert tool is not None, done.stdout
    assert tool.group(1, 2, 3) == ("calculator", '{"expression": "2+2"}', "4")
    assert lines[1] == "2+2 = 4"
    session_id = session_line(done.stdout)
    messages = store.list_messages(coach.id, session_id)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "what is 2+2"),
        ("assistant", ""),
        ("tool", ""),
        ("assistant", "2+2 = 4"),
    ]
    assert messages[-1].model == OFFLINE_MODEL_NAME
    assert store.get_session(coach.id, session_id).kind == "chat"


def test_claude_through_the_configured_base_url(database_url, store, coach) -> None:
    with FakeAnthropic() as fake:
        fake.add_tool_use("calculator", {"expression": "2+2"}, text_before="Adding up.")
        fake.add_text("That makes 4.")
        done = chat(
            database_url,
            "--user",
            "coach1",
            "what is 2+2",
            ANTHROPIC_API_KEY="test",
            ANTHROPIC_BASE_URL=fake.base_url,
            ANTHROPIC_MODEL="claude-cli-test",
        )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Adding up."
    assert TOOL_LINE.match(lines[1]).group(1, 3) == ("calculator", "4")
    assert lines[2] == "That makes 4."
    assert [r["model"] for r in fake.requests] == ["claude-cli-test"] * 2
    final = store.list_messages(coach.id, session_line(done.stdout))[-1]
    assert (final.content, final.model) == ("That makes 4.", "claude-cli-test")


def test_a_dead_server_exits_1_with_one_line_and_keeps_the_message(
    database_url, store, coach
) -> None:
    with FakeAnthropic() as gone:
        dead_url = gone.base_url

    done = chat(
        database_url,
        "--user",
        "coach1",
        "Hello?",
        ANTHROPIC_API_KEY="test",
        ANTHROPIC_BASE_URL=dead_url,
    )

    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert f"Could not reach Claude at {dead_url}" in line
    session_id = session_line(done.stdout)
    messages = store.list_messages(coach.id, session_id)
    assert [(m.role, m.status, m.content) for m in messages] == [
        ("user", "complete", "Hello?"),
        ("assistant", "error", ""),
    ]


def start_chat(database_url: str, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        chat_command(database_url, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(**env),
        cwd=PROJECT_ROOT,
    )


def test_bad_input_exits_1_with_one_line_and_stores_nothing(
    database_url, store, coach, other_coach, processes
) -> None:
    theirs = store.create_session(other_coach.id)
    cases = {
        "empty": (["--user", "coach1", "   "], "error: The message is empty."),
        "oversize": (["--user", "coach1", "x" * 51], "the limit is 50"),
        "unknown user": (["--user", "nobody", "hi"], "error: There is no user 'nobody'."),
        "another coach's session": (
            ["--user", "coach1", "--session", theirs.id, "hi"],
            "error: That conversation was not found.",
        ),
    }
    # Started together: four short-lived processes, waited for at once.
    for args, _ in cases.values():
        processes.append(start_chat(database_url, *args, MAX_MESSAGE_CHARS="50"))

    for (name, (_, words)), process in zip(cases.items(), processes, strict=True):
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 1, name
        (line,) = stderr.splitlines()
        assert words in line, name
        assert stdout == "", name
    assert store.list_sessions(coach.id).total == 0
    assert store.list_messages(other_coach.id, theirs.id) == []


def test_a_drill_session_and_a_follow_up(database_url, store, coach) -> None:
    created = chat(
        database_url,
        "--user",
        "coach1",
        "--kind",
        "drill",
        "U12 soccer passing drill for 10 players, 20 minutes, cones and balls",
    )
    assert created.returncode == 0, created.stderr
    assert "[tool] create_drill " in created.stdout
    session_id = session_line(created.stdout)

    changed = chat(database_url, "--user", "coach1", "--session", session_id, "make it 30 minutes")

    assert changed.returncode == 0, changed.stderr
    assert "[tool] update_drill " in changed.stdout
    assert session_line(changed.stdout) == session_id
    session = store.get_session(coach.id, session_id)
    assert session.kind == "drill"
    assert session.title == "Drill Creation - U12 Soccer Passing Drill"
    assert store.get_drill(coach.id, session.drill_id).duration_min == 30


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; any still running at the end are stopped."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_four_processes_on_one_session(database_url, store, coach, processes) -> None:
    session = store.create_session(coach.id)
    questions = {n: f"what is {n}+{n}" for n in range(1, 5)}
    for question in questions.values():
        processes.append(
            start_chat(database_url, "--user", "coach1", "--session", session.id, question)
        )
    outputs = [process.communicate(timeout=60) for process in processes]

    for (n, _question), process, (stdout, stderr) in zip(
        questions.items(), processes, outputs, strict=True
    ):
        assert process.returncode == 0, stderr
        assert f"{n}+{n} = {2 * n}" in stdout.splitlines()  # its own question, answered
        assert session_line(stdout) == session.id
    messages = store.list_messages(coach.id, session.id, limit=None)
    assert [m.seq for m in messages] == list(range(1, 17))
    asked = sorted(m.content for m in messages if m.role == "user")
    assert asked == sorted(questions.values())
    answers = sorted(m.content for m in messages if m.role == "assistant" and m.content)
    assert answers == sorted(f"{n}+{n} = {2 * n}" for n in questions)
    calls = store.list_tool_calls(coach.id, session.id)
    assert sorted(c.output for c in calls) == ["2", "4", "6", "8"]
    assert store.get_session(coach.id, session.id).message_count == 16
