"""HTTP Basic users from the config file, with hashed or plain passwords.

``[auth] basic_users`` maps user names to passwords. A value that looks like a Werkzeug
password hash (``scrypt:...``, ``pbkdf2:...``) is checked as one, so the file need not hold
the password itself; anything else is compared as plain text, in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.security import check_password_hash

_HASH_METHODS = ("scrypt:", "pbkdf2:")


def basic_users_check(users: Mapping[str, str]) -> Callable[[Any], bool]:
    """An ``@authenticate``-style callback accepting exactly ``users``."""
    known = dict(users)

    def check(auth: Any) -> bool:
        username = auth.get("username")
        password = auth.get("password")
        expected = known.get(username) if isinstance(username, str) else None
        if expected is None or not isinstance(password, str):
            return False
        if expected.startswith(_HASH_METHODS):
            return check_password_hash(expected, password)
        return hmac.compare_digest(expected.encode(), password.encode())

    return check
