"""Password policy and hashing (scrypt, through Werkzeug).

Length is the only rule, 12 to 128 characters, as NIST SP 800-63B recommends: no composition
rules, no forced rotation.
"""

from __future__ import annotations

import functools

from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 128


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the address is unknown, so both paths cost one scrypt."""
    return generate_password_hash("pullfirst-timing-equaliser", method="scrypt")


def check_policy(password: str) -> None:
    """Raise :class:`WeakPassword` unless the password is 12 to 128 characters long."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")


def hash_password(password: str) -> str:
    check_policy(password)
    return generate_password_hash(password, method="scrypt")


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; costs the same when there is no hash."""
    if stored_hash is None or len(password) > MAX_LENGTH:
        check_password_hash(_dummy_hash(), password[:MAX_LENGTH])
        return False
    return check_password_hash(stored_hash, password)
