"""The command line: run in-process through main(argv) on both databases, and twice for real."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

import bcrypt
import pytest
from sqlalchemy import text

from core.cli import main
from core.config import PROJECT_ROOT
from core.login_sessions import LoginSessions
from core.passwords import password_problem
from core.store import ConversationStore
from core.terminal import terminal_safe

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(database_url, capsys, monkeypatch):
    """main() on the test database; `stdin` feeds standard input."""

    def run(*args: str, stdin: str = "") -> Run:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--database-url", database_url, *args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def one_error_line(run: Run) -> str:
    assert run.code == 1
    (line,) = run.err.splitlines()
    assert line.startswith("error: ")
    assert "Traceback" not in run.err
    return line


def count(store: ConversationStore, table: str) -> int:
    with store.db.engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.fixture
def history(store: ConversationStore, coach, other_coach):
    """Two sessions of coach1 (one archived, with a tool call) and one of coach2."""
    rondo = store.create_session(coach.id, title="Rondo ideas")
    store.add_message(coach.id, rondo.id, "user", "A rondo for passing?", created_at=WHEN)
    answer = store.add_message(
        coach.id,
        rondo.id,
        "assistant",
        "Play 4v2 rondo with two touches.",
        input_tokens=120,
        output_tokens=40,
        created_at=WHEN.replace(minute=31),
    )
    store.record_tool_call(
        coach.id,
        rondo.id,
        message_id=answer.id,
        tool_use_id="toolu_1",
        name="calculator",
        input={"expression": "4+2"},
        output="6",
        duration_ms=2,
    )
    store.set_tags(coach.id, rondo.id, ["u12"])
    pressing = store.create_session(coach.id, kind="drill", title="Pressing")
    store.add_message(coach.id, pressing.id, "user", "Passing lanes when pressing high")
    store.add_message(
        coach.id, pressing.id, "assistant", "=SUM(A1) is not a formula here", output_tokens=9
    )
    store.set_archived(coach.id, pressing.id, True)
    theirs = store.create_session(other_coach.id, title="Theirs")
    store.add_message(other_coach.id, theirs.id, "user", "rondo passing secrets")
    return rondo, pressing


# ------------------------------------------------------------------ migrate, users


def test_migrate_twice(cli) -> None:
    for _ in range(2):
        run = cli("migrate")
        assert (run.code, run.err) == (0, "")
        assert "newest schema (revision 0008)" in run.out


def test_migrate_creates_a_new_sqlite_database(tmp_path, capsys) -> None:
    path = tmp_path / "fresh" / "huddle.db"
    assert main(["migrate", "--database-url", f"sqlite:///{path}"]) == 0
    assert path.exists()
    assert f"SQLite file {path}" in capsys.readouterr().out


def test_user_add_and_list(cli, store) -> None:
    added = cli("user", "add", "coach9", "--name", "Nina Coach", "--email", "n@example.com")
    assert added.code == 0
    assert "Created coach coach9" in added.out
    assert "cannot log in yet" in added.out
    admin = cli(
        "user", "add", "boss", "--role", "admin", "--password-stdin", stdin="Whistle-and-Cones-77\n"
    )
    assert (admin.code, admin.err) == (0, "")
    assert "cannot log in" not in admin.out

    listed = cli("user", "list", "--json")
    assert listed.code == 0
    users = json.loads(listed.out)
    assert [(u["username"], u["role"], u["can_log_in"]) for u in users] == [
        ("boss", "admin", True),
        ("coach9", "coach", False),
    ]
    assert users[1]["name"] == "Nina Coach" and users[1]["email"] == "n@example.com"
    assert set(users[0]) == {"id", "username", "name", "email", "role", "can_log_in", "created_at"}
    assert "$2b$" not in listed.out  # no password hash ever leaves the database
    stored = store.get_user("boss").password_hash
    assert bcrypt.checkpw(b"Whistle-and-Cones-77", stored.encode())

    table = cli("user", "list")
    assert table.out.splitlines()[0].split() == [
        "USERNAME",
        "ROLE",
        "LOGIN",
        "CREATED",
        "NAME",
        "EMAIL",
    ]
    assert table.out.splitlines()[2].split()[:3] == ["coach9", "coach", "no"]


def test_set_password_lets_a_user_log_in_and_ends_their_log_ins(cli, store, coach) -> None:
    sessions = LoginSessions(store.db)
    earlier, _ = sessions.start(coach.id)
    run = cli("user", "set-password", "COACH1", stdin="Pressing-Trap-Wide-Left\n")
    assert run.code == 0
    assert "1 log-in ended" in run.out
    assert bcrypt.checkpw(
        b"Pressing-Trap-Wide-Left", store.get_user("coach1").password_hash.encode()
    )
    assert sessions.check(earlier) is None


@pytest.mark.parametrize(
    ("password", "sentence"),
    [
        ("short", "A password needs at least 15 characters; this one has 5."),
        ("passwordpassword", "That password is too easy to guess"),
        ("x" * 73, "A password can be at most 72 bytes long"),
        (" padded-with-a-space-Rondo", "A password cannot begin or end with a space."),
    ],
)
def test_the_web_password_rule_holds_on_the_command_line(cli, store, coach, password, sentence):
    line = one_error_line(cli("user", "set-password", "coach1", stdin=password + "\n"))
    assert line.startswith(f"error: {sentence}")
    assert store.get_user("coach1").password_hash is None
    assert password_problem(password).startswith(sentence)  # the web's rule, word for word


def test_log_out_ends_every_log_in_of_a_user(cli, store, coach) -> None:
    sessions = LoginSessions(store.db)
    ids = [sessions.start(coach.id)[0] for _ in range(2)]
    run = cli("user", "log-out", "coach1")
    assert (run.code, run.out) == (0, "coach1 is logged out everywhere. 2 log-ins ended.\n")
    assert all(sessions.check(raw_id) is None for raw_id in ids)
    assert one_error_line(cli("user", "log-out", "nobody")) == "error: There is no user 'nobody'."


def test_usernames_ignore_case_everywhere(cli, store, coach) -> None:
    line = one_error_line(cli("user", "add", "Coach1"))
    assert line == "error: The username 'coach1' is already taken."
    added = cli("user", "add", "Maya.Ok")
    assert added.code == 0 and "Created coach maya.ok" in added.out
    assert store.get_user("MAYA.OK").username == "maya.ok"


def test_duplicate_user_is_one_error_line(cli, store, coach) -> None:
    line = one_error_line(cli("user", "add", "coach1"))
    assert line == "error: The username 'coach1' is already taken."
    assert count(store, "users") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["search", "--user", "nobody", "rondo"],
        ["stats", "--user", "nobody"],
        ["export", "--user", "nobody", "--format", "json"],
        ["import", "missing.json", "--user", "nobody"],
    ],
)
def test_unknown_user_is_one_error_line(cli, args) -> None:
    assert one_error_line(cli(*args)) == "error: There is no user 'nobody'."


def test_usage_errors_exit_2(cli) -> None:
    assert cli("search", "rondo").code == 2  # --user missing
    assert cli("stats", "--user", "coach1", "--bogus").code == 2
    assert cli("search", "--user", "coach1", "x", "--limit", "0").code == 2
    run = cli("export", "--user", "coach1", "--format", "pdf")
    assert run.code == 2 and "invalid choice: 'pdf'" in run.err


def test_unusable_arguments_are_one_error_line(cli) -> None:
    nul = one_error_line(cli("search", "--user", "coach1", "ron\x00do"))
    assert "NUL character" in nul
    # How Python hands over a command-line byte that is not UTF-8.
    bad = one_error_line(
        cli("search", "--user", "coach1", b"\xff".decode("utf-8", "surrogateescape"))
    )
    assert "not valid UTF-8" in bad


# ------------------------------------------------------------------------- search


def test_search_json_shape(cli, history) -> None:
    rondo, _ = history
    run = cli("search", "--user", "coach1", "--json", "rondo")
    assert (run.code, run.err) == (0, "")
    hits = json.loads(run.out)
    # coach2's "rondo" message is not among them.
    assert sorted((h["session_id"], h["seq"], h["role"]) for h in hits) == [
        (rondo.id, 1, "user"),
        (rondo.id, 2, "assistant"),
    ]
    for hit in hits:
        assert set(hit) == {"session_id", "session_title", "seq", "role", "snippet", "created_at"}
        assert hit["session_title"] == "Rondo ideas"
        assert "**rondo**" in hit["snippet"].lower()
    assert {h["created_at"] for h in hits} == {
        "2026-03-01T09:30:00.000000Z",
        "2026-03-01T09:31:00.000000Z",
    }


def test_search_human_output_and_options(cli, history) -> None:
    rondo, pressing = history
    run = cli("search", "--user", "coach1", "passing")
    assert run.code == 0
    assert "Rondo ideas" in run.out and "Pressing" in run.out  # archived sessions too
    assert f"session {rondo.id}" in run.out
    assert run.out.splitlines()[-1] == "2 matching messages."

    drills = json.loads(
        cli("search", "--user", "coach1", "--kind", "drill", "--json", "passing").out
    )
    assert [h["session_id"] for h in drills] == [pressing.id]
    limited = cli("search", "--user", "coach1", "--limit", "1", "passing")
    assert limited.out.splitlines()[-1] == "1 matching message (the limit; use --limit for more)."
    nothing = cli("search", "--user", "coach1", "volleyball")
    assert (nothing.code, nothing.out) == (0, "No messages of coach1 match 'volleyball'.\n")


def test_a_query_starting_with_a_dash_goes_after_double_dash(cli, history) -> None:
    _, pressing = history
    run = cli("search", "--user", "coach1", "--json", "--", "-rondo passing")
    assert run.code == 0
    assert [h["session_id"] for h in json.loads(run.out)] == [pressing.id]


# -------------------------------------------------------------------------- stats


OLD_STATS_KEYS = {"sessions", "messages", "words", "tool_calls", "input_tokens", "output_tokens"}


def test_stats_json_numbers_are_what_was_stored(cli, history) -> None:
    run = cli("stats", "--user", "coach1", "--json")
    assert (run.code, run.err) == (0, "")
    printed = json.loads(run.out)
    # Today's keys keep their all-time meaning; the period's figures are added beside them.
    assert {key: printed[key] for key in OLD_STATS_KEYS} == {
        "sessions": 2,
        "messages": 4,
        "words": {"user": 9, "assistant": 13, "tool": 0, "system": 0},
        "tool_calls": {"calculator": 1},
        "input_tokens": 120,
        "output_tokens": 49,
    }
    assert printed["period"]["since"] == "2026-03-01T00:00:00Z"  # the first message's day
    figures = printed["figures"]
    assert (figures["sessions"], figures["messages"], figures["words"]) == (2, 4, 22)
    assert (figures["user_words"], figures["assistant_words"]) == (9, 13)
    assert (figures["tool_calls"], figures["tool_errors"], figures["tool_error_rate"]) == (1, 0, 0)
    assert (figures["input_tokens"], figures["output_tokens"]) == (120, 49)
    # The messages name no model, so their tokens are counted but never priced.
    assert (figures["cost_usd"], figures["unpriced_tokens"]) == (0, 169)
    assert printed["unpriced_models"] == ["(no model)"]
    assert set(printed["previous"]) == set(figures) == set(printed["change"])


def test_analytics_check_and_rebuild(cli, history, store) -> None:
    run = cli("analytics", "check")
    assert (run.code, run.err) == (0, "")
    assert run.out == "The analytics rollup for every coach equals the sums over the messages.\n"

    with store.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM activity_rollup"))
    line = one_error_line(cli("analytics", "check", "--user", "coach1"))
    # Two rows or three: the pressing session's two messages were stored "now",
    # which may straddle a 15-minute boundary.
    assert re.search(r"for coach1 differs from the messages in [23] rows;", line)
    assert "python -m core analytics rebuild" in line

    run = cli("analytics", "rebuild", "--user", "coach1")
    assert (run.code, run.err) == (0, "")
    assert re.match(r"Rebuilt the analytics rollup for coach1: [23] activity rows and ", run.out)
    assert cli("analytics", "check", "--user", "coach1").code == 0
    assert cli("analytics", "check").code == 1  # coach2's rows are still gone
    assert cli("analytics", "rebuild").code == 0
    assert cli("analytics", "check").code == 0
    assert "There is no user 'nobody'." in one_error_line(
        cli("analytics", "rebuild", "--user", "nobody")
    )
    assert cli("analytics").code == 2


def test_stats_for_a_range_of_days(cli, history) -> None:
    # 1 March only (the rondo session), against 28 February.
    run = cli(
        "stats", "--user", "coach1", "--since", "2026-03-01", "--until", "2026-03-01", "--json"
    )
    assert (run.code, run.err) == (0, "")
    printed = json.loads(run.out)
    assert (printed["sessions"], printed["messages"], printed["words"]["user"]) == (1, 2, 4)
    assert printed["figures"]["messages"] == 2
    assert printed["previous_period"] == {
        "since": "2026-02-28T00:00:00Z",
        "until": "2026-03-01T00:00:00Z",
    }
    # The days are those of --tz: 1 March in Kolkata starts at 18:30 UTC on 28 February.
    kolkata = cli(
        "stats",
        "--user",
        "coach1",
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-01",
        "--tz",
        "Asia/Kolkata",
        "--json",
    )
    assert json.loads(kolkata.out)["period"]["since"] == "2026-02-28T18:30:00Z"
    quiet = json.loads(
        cli(
            "stats", "--user", "coach1", "--since", "2025-01-01", "--until", "2025-01-31", "--json"
        ).out
    )
    assert (quiet["sessions"], quiet["messages"], quiet["figures"]["messages"]) == (0, 0, 0)
    assert quiet["figures"]["latency_p50_ms"] is None


def test_stats_table(cli, history) -> None:
    lines = cli("stats", "--user", "coach1").out.splitlines()
    assert lines[0] == "coach1 (Coach One)"
    table = {line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in lines[1:]}
    assert table["sessions"] == "2"
    assert table["words"] == "22"
    assert table["calculator"] == "1"
    assert any(line.startswith("2026-03-01 to ") and "(UTC)" in line for line in lines)
    figures = {line[:21].strip(): line[21:].split() for line in lines if line.startswith("  ")}
    assert figures["active sessions"] == ["2"]
    assert figures["tool error rate"] == ["0.0%"]
    assert figures["estimated cost"] == ["$0.00"]
    assert figures["reply latency p50"] == ["-"]
    assert "  unpriced models: (no model)" in lines


def test_stats_bad_dates_and_zones(cli, history) -> None:
    backwards = cli("stats", "--user", "coach1", "--since", "2026-03-02", "--until", "2026-03-01")
    assert one_error_line(backwards) == "error: The end of the period is before its start."
    zone = one_error_line(cli("stats", "--user", "coach1", "--tz", "Mars/Olympus"))
    assert "'Mars/Olympus' is not a known time zone" in zone
    run = cli("stats", "--user", "coach1", "--since", "1 March")
    assert run.code == 2 and "is not a day written YYYY-MM-DD" in run.err


# ------------------------------------------------------------------------- export


def test_export_json_to_stdout_and_to_a_file(cli, history, tmp_path) -> None:
    rondo, pressing = history
    run = cli("export", "--user", "coach1", "--format", "json")
    assert (run.code, run.err) == (0, "")
    archive = json.loads(run.out)
    assert archive["format"] == "huddle-archive"
    assert sorted(s["id"] for s in archive["sessions"]) == sorted([rondo.id, pressing.id])

    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "one.json"
    run = cli(
        "export", "--user", "coach1", "--session", rondo.id, "--format", "json", "-o", str(target)
    )
    assert run.code == 0
    assert run.out.startswith(f"Exported 1 session to {target} (")
    (session,) = json.loads(target.read_text())["sessions"]
    assert [m["content"] for m in session["messages"]] == [
        "A rondo for passing?",
        "Play 4v2 rondo with two touches.",
    ]
    assert session["messages"][1]["tool_calls"][0]["name"] == "calculator"
    assert list(folder.iterdir()) == [target]  # no temporary file left behind

    dash = cli("export", "--user", "coach1", "--query", "pressing", "--format", "json", "-o", "-")
    assert [s["id"] for s in json.loads(dash.out)["sessions"]] == [pressing.id]


def test_export_csv(cli, history, tmp_path) -> None:
    run = cli("export", "--user", "coach1", "--format", "csv")
    assert run.code == 0
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert len(rows) == 4
    assert rows[1]["tools"] == "calculator" and rows[1]["tags"] == "u12"
    assert "'=SUM(A1) is not a formula here" in {row["content"] for row in rows}

    target = tmp_path / "all.csv"
    assert cli("export", "--user", "coach1", "--format", "csv", "-o", str(target)).code == 0
    assert target.read_bytes().decode("utf-8") == run.out


def test_export_markdown(cli, history, tmp_path) -> None:
    rondo, _ = history
    one = cli("export", "--user", "coach1", "--session", rondo.id, "--format", "md")
    assert one.code == 0
    assert one.out.startswith("# Rondo ideas")
    assert "Play 4v2 rondo with two touches." in one.out

    several = cli("export", "--user", "coach1", "--format", "md")
    assert one_error_line(several) == (
        "error: Markdown for several sessions is a zip file; write it to a file with -o PATH."
    )
    assert several.out == ""
    assert cli("export", "--user", "coach1", "--format", "md", "-o", "-").code == 1

    target = tmp_path / "sessions.zip"
    run = cli("export", "--user", "coach1", "--format", "md", "-o", str(target))
    assert run.code == 0
    assert run.out.startswith(f"Exported 2 sessions to {target}")
    with zipfile.ZipFile(target) as bundle:
        names = bundle.namelist()
        assert len(names) == 2 and all(name.endswith(".md") for name in names)
        assert any(bundle.read(name).decode().startswith("# Pressing") for name in names)


def test_export_of_a_session_that_is_not_the_coachs(
    cli, store, history, other_coach, tmp_path
) -> None:
    theirs = store.list_sessions(other_coach.id).items[0]
    target = tmp_path / "out.json"
    run = cli(
        "export", "--user", "coach1", "--session", theirs.id, "--format", "json", "-o", str(target)
    )
    assert one_error_line(run) == f"error: coach1 has no session '{theirs.id}'."
    assert not target.exists()


# ------------------------------------------------------------------------- import


def test_import_round_trip(cli, store, history, tmp_path) -> None:
    archive = tmp_path / "coach1.json"
    assert cli("export", "--user", "coach1", "--format", "json", "-o", str(archive)).code == 0
    assert cli("user", "add", "coach7").code == 0

    run = cli("import", str(archive), "--user", "coach7")
    assert (run.code, run.err) == (0, "")
    assert run.out == "Imported 2 sessions, 4 messages, 1 tool call and 0 drills.\n"
    again = cli("import", str(archive), "--user", "coach7")
    assert again.out == (
        "Imported 0 sessions (2 already there), 0 messages, 0 tool calls and 0 drills.\n"
    )
    coach7 = store.get_user("coach7")
    assert json.loads(cli("stats", "--user", "coach7", "--json").out)["messages"] == 4
    assert store.list_sessions(coach7.id).total == 1  # and one archived


def test_import_of_a_malformed_archive_writes_nothing(cli, store, history, tmp_path) -> None:
    good = tmp_path / "good.json"
    assert cli("export", "--user", "coach1", "--format", "json", "-o", str(good)).code == 0
    archive = json.loads(good.read_text())
    archive["sessions"][-1]["messages"][0]["role"] = "coach"  # the last session is bad
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(archive))
    before = {table: count(store, table) for table in ("users", "chat_sessions", "messages")}

    line = one_error_line(cli("import", str(bad), "--user", "coach2"))
    assert "role" in line
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "huddle-archive", "version": 1, "sessions": [')
    one_error_line(cli("import", str(broken), "--user", "coach2"))
    assert one_error_line(cli("import", str(tmp_path / "none.json"))) == (
        f"error: There is no file {tmp_path / 'none.json'}."
    )
    assert {table: count(store, table) for table in before} == before


IMPORTS = PROJECT_ROOT / "tests" / "fixtures" / "imports"


def test_import_of_chatgpt_and_claude_exports(cli, store, coach, tmp_path) -> None:
    chatgpt = str(IMPORTS / "chatgpt-conversations.json")
    run = cli("import", chatgpt, "--user", "coach1")
    assert (run.code, run.err) == (0, "")
    assert run.out == "Imported 2 sessions, 6 messages, 0 tool calls and 0 drills.\n"
    assert cli("import", chatgpt, "--user", "coach1").out == (
        "Imported 0 sessions (2 already there), 0 messages, 0 tool calls and 0 drills.\n"
    )

    export_zip = tmp_path / "claude-export.zip"
    with zipfile.ZipFile(export_zip, "w") as bundle:
        bundle.write(IMPORTS / "claude-conversations.json", "data-2026/conversations.json")
    run = cli("import", str(export_zip), "--user", "coach1")
    assert run.out == "Imported 2 sessions, 4 messages, 0 tool calls and 0 drills.\n"
    assert json.loads(cli("stats", "--user", "coach1", "--json").out)["messages"] == 10

    before = {table: count(store, table) for table in ("users", "chat_sessions", "messages")}
    assert one_error_line(cli("import", chatgpt)) == (
        "error: A ChatGPT export does not say which coach it belongs to; "
        "give one with --user USERNAME."
    )
    not_json = tmp_path / "notes.txt"
    not_json.write_text("just some notes")
    assert one_error_line(cli("import", str(not_json), "--user", "coach1")) == (
        "error: This file is neither JSON nor a zip archive."
    )
    assert {table: count(store, table) for table in before} == before


def test_import_dry_run_prints_the_preview_and_writes_nothing(cli, store, coach) -> None:
    chatgpt = str(IMPORTS / "chatgpt-conversations.json")
    before = {table: count(store, table) for table in ("users", "chat_sessions", "messages")}
    run = cli("import", chatgpt, "--user", "coach1", "--dry-run")
    assert (run.code, run.err) == (0, "")
    assert run.out == (
        "ChatGPT export: 2 sessions, 6 messages and 0 drills.\n"
        "  Warm-ups for U10\n"
        "  Pressing triggers\n"
        "Dry run: nothing was written.\n"
    )
    assert {table: count(store, table) for table in before} == before

    assert cli("import", chatgpt, "--user", "coach1").code == 0
    again = cli("import", chatgpt, "--user", "coach1", "--dry-run")
    assert "Already there (would be skipped): 2 sessions.\n" in again.out


def test_import_dry_run_of_an_archive_naming_its_users(cli, store, history, tmp_path) -> None:
    archive = tmp_path / "coach1.json"
    assert cli("export", "--user", "coach1", "--format", "json", "-o", str(archive)).code == 0
    run = cli("import", str(archive), "--dry-run")
    assert run.out == (
        "Huddle archive: 2 sessions, 4 messages and 0 drills.\n"
        "Already there (would be skipped): 2 sessions.\n"
        "  Rondo ideas\n"
        "  Pressing\n"
        "Dry run: nothing was written.\n"
    )


# ------------------------------------------------------------------- the database


def test_a_database_that_is_down_is_one_line_naming_it(capsys) -> None:
    code = main(
        ["stats", "--user", "coach1", "--database-url", "postgresql://u@127.0.0.1:1/huddle"]
    )
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 1
    assert line.startswith("error: The database (PostgreSQL at 127.0.0.1:1/huddle) cannot be used")


def test_an_unknown_kind_of_database_is_one_line(capsys) -> None:
    assert main(["migrate", "--database-url", "mysql://x@localhost/huddle"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == "error: Huddle supports SQLite and PostgreSQL databases, not 'mysql'."


# ---------------------------------------------------------------------- demo-data


def test_demo_data_small_run(cli, store) -> None:
    run = cli("demo-data", "--users", "3", "--sessions", "30", "--messages", "600", "--seed", "5")
    assert run.code == 0
    assert run.out.startswith("Wrote 30 sessions, 600 messages, ")
    assert "for 3 coaches (3 new)" in run.out
    assert run.err.splitlines()[-1] == "demo-data: 600 of 600 messages written (100%)"
    assert [u.username for u in store.list_users()] == ["coach1", "coach2", "coach3"]
    assert (count(store, "chat_sessions"), count(store, "messages")) == (30, 600)
    with store.db.engine.connect() as connection:
        wrong = connection.execute(
            text(
                "SELECT count(*) FROM chat_sessions s WHERE message_count != "
                "(SELECT count(*) FROM messages m WHERE m.session_id = s.id) OR last_seq != "
                "(SELECT max(seq) FROM messages m WHERE m.session_id = s.id) OR word_count != "
                "(SELECT sum(word_count) FROM messages m WHERE m.session_id = s.id)"
            )
        ).scalar_one()
    assert wrong == 0
    again = cli("demo-data", "--users", "3", "--sessions", "30", "--messages", "600", "--seed", "5")
    assert one_error_line(again) == (
        "error: Demo data for seed 5 is already in this database; choose another --seed."
    )
    assert count(store, "messages") == 600


# ------------------------------------------------------------- real processes


def python_m_core(*args: str | bytes, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env},
        cwd=PROJECT_ROOT,
        timeout=60,
    )


def test_python_m_core_exit_codes_and_stderr(sqlite_url) -> None:
    env = {"DATABASE_URL": sqlite_url}  # the environment variable, not the option
    added = python_m_core("user", "add", "coach1", env=env)
    assert (added.returncode, added.stderr) == (0, b"")
    listed = python_m_core("user", "list", "--json", env=env)
    assert [u["username"] for u in json.loads(listed.stdout)] == ["coach1"]

    unknown = python_m_core("stats", "--user", "nobody", env=env)
    assert (unknown.returncode, unknown.stdout) == (1, b"")
    assert unknown.stderr == b"error: There is no user 'nobody'.\n"

    not_utf8 = python_m_core("search", "--user", "coach1", b"\xffrondo", env=env)
    assert not_utf8.returncode == 1
    assert not_utf8.stderr == b"error: Argument 4 is not valid UTF-8 text.\n"

    usage = python_m_core("stats", env=env)
    assert usage.returncode == 2
    assert b"the following arguments are required: --user" in usage.stderr


def test_what_the_command_line_prints_cannot_steer_the_terminal(cli, store, coach) -> None:
    """Escape sequences and bidi controls in titles and messages are not printed; an export
    piped to a file keeps them (it is the data)."""
    hostile = "\x1b[2J\x1b]0;owned\x07\x1b[31mRondo\x1b[0m \u202eevil\u202c \x07\x08 ideas"
    chat = store.create_session(coach.id, title=hostile)
    store.add_message(coach.id, chat.id, "user", f"rondo drill {hostile}")
    for args in (
        ("search", "--user", "coach1", "rondo"),
        ("stats", "--user", "coach1"),
        ("chat", "--user", "coach1", "--session", chat.id, f"count the words in: {hostile}"),
    ):
        run = cli(*args)
        assert run.code == 0, run.err
        printed = run.out + run.err
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", printed), (
            args,
            printed,
        )
    assert "Rondo evil  ideas" in cli("search", "--user", "coach1", "rondo").out
    exported = cli("export", "--user", "coach1", "--format", "json")
    assert "\\u001b[2J" in exported.out  # the archive keeps the text exactly (JSON-escaped)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J\x1b[1;31mred\x1b[0m", "red"),
        ("\x1b]0;window title\x07after", "after"),
        ("\x1b]8;;https://x.example\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("tab\tand\nline\rback\x08space\x7f", "tab\tand\nlinebackspace"),
        ("right\u202eto\u2066left\u2069", "righttoleft"),
        ("\x9b31mC1", "31mC1"),
    ],
)
def test_terminal_safe(raw: str, shown: str) -> None:
    assert terminal_safe(raw) == shown


def test_backup_and_restore_from_the_command_line(cli, store, coach, tmp_path, capsys) -> None:
    chat = store.create_session(coach.id, title="Rondo ideas")
    store.add_message(coach.id, chat.id, "user", "rondo for U10")
    plain, secret = tmp_path / "plain.json", tmp_path / "secret.json"
    run = cli("backup", str(plain))
    assert run.code == 0, run.err
    assert run.out.startswith("Backed up 1 user, 1 session and 0 drills to ")
    assert "Without password hashes" in run.out
    assert cli("backup", str(secret), "--with-credentials").code == 0
    assert (plain.stat().st_mode & 0o777, secret.stat().st_mode & 0o777) == (0o644, 0o600)

    target = f"sqlite:///{tmp_path / 'restored.db'}"
    assert main(["migrate", "--database-url", target]) == 0
    capsys.readouterr()
    assert main(["restore", str(plain), "--database-url", target]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Restored 1 user, 1 session and 0 drills from ")
    assert "nobody can log in until given a password" in out
    assert main(["restore", str(plain), "--database-url", target]) == 1
    assert "restored into an empty database; this one has 1 user." in capsys.readouterr().err
    assert one_error_line(cli("restore", str(tmp_path / "missing.json"))) == (
        f"error: There is no file {tmp_path / 'missing.json'}."
    )
