"""Log-in sessions and failed log-ins in the database (core/login_sessions.py), both databases."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from core.errors import ValidationError
from core.login_sessions import (
    FAILURE_WINDOW,
    FIRST_WAIT,
    FREE_ATTEMPTS,
    MAX_WAIT,
    RENEW_EVERY,
    SESSION_IDLE,
    SESSION_MAX,
    LoginFailures,
    LoginSessions,
    failure_keys,
    sign,
    unsign,
    wait_after,
)
from core.models import LoginSession, utcnow

KEY = "k" * 48


def test_a_signed_id_comes_back_and_nothing_else_does():
    value = sign("abc123", KEY)
    assert unsign(value, KEY) == "abc123"
    for bad in (
        sign("abc123", "other-key" * 6),
        value + "x",
        "abc123",
        "abc123.",
        ".sig",
        "a.b.c",
        "",
        None,
        42,
        "a." * 200,
    ):
        assert unsign(bad, KEY) is None


def test_a_log_in_lives_while_used_and_ends_when_idle(store, coach):
    sessions = LoginSessions(store.db)
    start = utcnow()
    raw_id, expires = sessions.start(coach.id, now=start)
    assert expires == start + SESSION_IDLE
    check = sessions.check(raw_id, now=start + timedelta(minutes=1))
    assert check.user.id == coach.id and check.renewed_until is None  # used a moment ago

    # Used again after a while: renewed, sliding.
    later = start + RENEW_EVERY + timedelta(minutes=1)
    assert sessions.check(raw_id, now=later).renewed_until == later + SESSION_IDLE
    # Idle longer than SESSION_IDLE since: over.
    assert sessions.check(raw_id, now=later + SESSION_IDLE + timedelta(seconds=1)) is None


def test_a_log_in_never_outlives_its_maximum(store, coach):
    sessions = LoginSessions(store.db)
    start = utcnow()
    raw_id, _ = sessions.start(coach.id, now=start)
    for day in range(5, SESSION_MAX.days, 5):  # used every five days
        check = sessions.check(raw_id, now=start + timedelta(days=day))
        assert check is not None
        assert check.renewed_until <= start + SESSION_MAX
    assert sessions.check(raw_id, now=start + SESSION_MAX + timedelta(seconds=1)) is None


def test_log_out_ends_one_log_in_and_log_out_everywhere_all_but_one(store, coach, other_coach):
    sessions = LoginSessions(store.db)
    first, second, third = (sessions.start(coach.id)[0] for _ in range(3))
    theirs, _ = sessions.start(other_coach.id)
    sessions.end(first)
    assert sessions.check(first) is None and sessions.check(second) is not None
    assert sessions.end_all(coach.id, keep=third) == 1  # second; first had ended
    assert sessions.check(second) is None and sessions.check(third) is not None
    assert sessions.live_count(coach.id) == 1
    assert sessions.check(theirs).user.id == other_coach.id  # another coach's are untouched


def test_a_removed_account_takes_its_log_ins_with_it(store, coach):
    sessions = LoginSessions(store.db)
    raw_id, _ = sessions.start(coach.id)
    store.delete_user(coach.id)
    assert sessions.check(raw_id) is None
    with store.db.reading() as session:
        assert session.scalar(select(LoginSession.id_hash)) is None


def test_the_table_holds_no_usable_id(store, coach):
    raw_id, _ = LoginSessions(store.db).start(coach.id)
    with store.db.reading() as session:
        rows = session.execute(text("SELECT * FROM login_sessions")).all()
    assert rows and raw_id not in repr(rows)
    assert LoginSessions(store.db).check("not-" + raw_id) is None


def test_ended_log_ins_are_cleared_away_later(store, coach):
    sessions = LoginSessions(store.db)
    sessions.start(coach.id, now=utcnow() - SESSION_MAX - timedelta(days=3))
    sessions.start(coach.id)
    with store.db.reading() as session:
        assert session.scalar(text("SELECT count(*) FROM login_sessions")) == 1


def test_the_wait_doubles_after_the_free_attempts():
    assert [wait_after(n) for n in range(FREE_ATTEMPTS)] == [timedelta(0)] * FREE_ATTEMPTS
    assert wait_after(FREE_ATTEMPTS) == FIRST_WAIT
    assert wait_after(FREE_ATTEMPTS + 1) == FIRST_WAIT * 2
    assert wait_after(FREE_ATTEMPTS + 2) == FIRST_WAIT * 4
    assert wait_after(FREE_ATTEMPTS + 50) == MAX_WAIT
    assert wait_after(10**9) == MAX_WAIT  # an attacker's millions of failures


def test_failures_count_per_name_and_address_and_wear_off(store):
    failures = LoginFailures(store.db)
    now = utcnow()
    keys = failure_keys(" Alice ", "10.0.0.7")
    assert keys == ["user:alice", "addr:10.0.0.7"]
    for _ in range(FREE_ATTEMPTS):
        assert failures.wait(keys, now=now) == timedelta(0)
        failures.record(keys, now=now)
    assert failures.wait(keys, now=now) == FIRST_WAIT
    # Another name from the same address waits too; the same name from elsewhere as well.
    assert failures.wait(failure_keys("bob", "10.0.0.7"), now=now) == FIRST_WAIT
    assert failures.wait(failure_keys("alice", "10.9.9.9"), now=now) == FIRST_WAIT
    assert failures.wait(keys, now=now + FIRST_WAIT) == timedelta(0)
    # A failure long after the last one starts the count again.
    failures.record(keys, now=now + FAILURE_WINDOW + timedelta(seconds=1))
    assert failures.count("user:alice") == 1
    failures.clear(["user:alice"])
    assert failures.count("user:alice") == 0 and failures.count("addr:10.0.0.7") == 1


def test_failures_counted_at_once_are_all_counted(store):
    """Atomic increments: 8 threads failing together lose no count."""
    failures = LoginFailures(store.db)
    errors: list[BaseException] = []

    def fail_many() -> None:
        try:
            for _ in range(10):
                failures.record(["user:target", "addr:1.2.3.4"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fail_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert failures.count("user:target") == 80
    assert failures.count("addr:1.2.3.4") == 80


def test_only_one_first_account_even_when_two_try(store):
    first = store.create_user("first", role="admin", first_account=True)
    with pytest.raises(ValidationError, match="Someone has just created the first account"):
        store.create_user("second", role="admin", first_account=True)
    assert [user.username for user in store.list_users()] == [first.username]
    # Once every account is gone, a new first account may be made again.
    store.delete_user(first.id)
    assert store.create_user("again", role="admin", first_account=True).username == "again"


def test_two_first_accounts_at_the_same_instant_make_one_admin(store):
    results: list[str] = []
    barrier = threading.Barrier(4)

    def create(name: str) -> None:
        barrier.wait()
        try:
            store.create_user(name, role="admin", first_account=True)
            results.append(name)
        except ValidationError:
            results.append("refused")

    threads = [threading.Thread(target=create, args=(f"admin{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("refused") == 3
    assert store.count_users() == 1


def test_usernames_ignore_case(store):
    store.create_user("Coach1")
    assert store.get_user("COACH1").username == "coach1"
    with pytest.raises(ValidationError, match="already taken"):
        store.create_user("coach1")
