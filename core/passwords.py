"""One password rule for the web and the command line, and the hash both store.

Length-based, as NIST SP 800-63B (revision 4) asks of a password that is the only factor:
at least 15 characters, no rules about kinds of characters, and a check that it is not a
common or easily guessed one (zxcvbn's lists of common passwords, words and patterns).
bcrypt reads only the first 72 bytes, so a longer one is refused rather than cut silently.
"""

from __future__ import annotations

import bcrypt
from zxcvbn import zxcvbn

from core.errors import ValidationError

MIN_PASSWORD_CHARS = 15
MAX_PASSWORD_BYTES = 72
# zxcvbn's scale: 0 and 1 are guessed at once by an attacker with a copy of the hashes,
# 2 within hours; 3 and 4 hold.
MIN_STRENGTH = 3
PASSWORD_RULE = (
    f"At least {MIN_PASSWORD_CHARS} characters: a few words you will remember work well. "
    "Not a common password or pattern."
)


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, as one sentence; None when it is fine."""
    if len(password) < MIN_PASSWORD_CHARS:
        return (
            f"A password needs at least {MIN_PASSWORD_CHARS} characters; this one has "
            f"{len(password)}. A few words you will remember work well."
        )
    try:
        size = len(password.encode())
    except UnicodeEncodeError:  # undecodable bytes from a pipe (surrogateescape)
        return "The password is not valid UTF-8 text."
    if size > MAX_PASSWORD_BYTES:
        return f"A password can be at most {MAX_PASSWORD_BYTES} bytes long (about as many letters)."
    if password != password.strip():
        return "A password cannot begin or end with a space."
    if zxcvbn(password)["score"] < MIN_STRENGTH:
        return (
            "That password is too easy to guess (a common password, word or pattern); "
            "add a word or two of your own."
        )
    return None


def check_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise ValidationError(problem)


def hash_password(password: str) -> str:
    """The bcrypt hash of a password that meets the rule."""
    check_password(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
