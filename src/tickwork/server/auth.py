"""HTTP Basic users from the config file, with hashed or plain passwords.

``[auth] basic_users`` maps user names to passwords. A value that looks like a Werkzeug
password hash (``scrypt:...``, ``pbkdf2:...``) is checked as one, so the file need not hold
the password itself; anything else is a plain password of at least
:data:`~tickwork.config.MIN_PASSWORD_LENGTH` characters (checked when the file is read).
Checking is built so that answers tell nothing:

* an unknown user is checked against a dummy hash made with the configured users' method,
  so it costs as long as a known one (no user enumeration by timing); plain passwords are
  compared as keyed digests of one length, in constant time;
* a correct password, once its hash checked out, is remembered for a while as a keyed
  digest (never the password), so a client sending the same credentials with every
  request does not pay for scrypt each time. Wrong passwords are never remembered; their
  cost is bounded by the API's per-client back-off (:mod:`tickwork.api.throttle`);
* at most :data:`CONCURRENT_HASH_CHECKS` hashes are checked at once, whatever the number of
  clients: an attacker who rotates through many addresses (an IPv6 /48 holds 65,536 /64s)
  gets past the per-client back-off, but still cannot keep more than that many cores
  hashing. Remembered successes and plain passwords never wait for it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from tickwork.config import check_basic_users, is_password_hash
from tickwork.exceptions import ConfigurationError

#: Successful hash checks remembered at once, and for how long (seconds).
VERIFIED_CACHE_SIZE = 1024
VERIFIED_CACHE_SECONDS = 300.0
#: Password hashes checked at the same time, across all clients.
CONCURRENT_HASH_CHECKS = 1


class BasicUsers:
    """An ``@authenticate``-style callback accepting exactly ``users``.

    :param clock: monotonic seconds, for the expiry of remembered successes.
    :raises ConfigurationError: for a user :func:`check_basic_users` refuses, or a hash
        whose method Werkzeug does not know.
    """

    def __init__(
        self, users: Mapping[str, str], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._users = check_basic_users(users)
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._plain = {
            name: self._digest(value)
            for name, value in self._users.items()
            if not is_password_hash(value)
        }
        self._dummy_hash = self._make_dummy_hash()
        self._dummy_digest = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()
        self._hashing = threading.BoundedSemaphore(CONCURRENT_HASH_CHECKS)
        self.hash_checks = 0
        """How many password hashes were checked (the expensive step); for tests."""

    def __call__(self, auth: Any) -> bool:
        username = auth.get("username")
        password = auth.get("password")
        username = username if isinstance(username, str) else ""
        password = password if isinstance(password, str) else ""
        expected = self._users.get(username)
        if expected is None:
            if self._dummy_hash is not None:
                self._check_hash(self._dummy_hash, password)
            else:
                hmac.compare_digest(self._digest(password), self._dummy_digest)
            return False
        if username in self._plain:
            return hmac.compare_digest(self._digest(password), self._plain[username])
        remembered = self._digest(f"{len(username)}:{username}:{password}")
        if self._remembered(remembered):
            return True
        if not self._check_hash(expected, password):
            return False
        self._remember(remembered)
        return True

    def _digest(self, text: str) -> bytes:
        return hmac.new(self._key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    def _check_hash(self, stored: str, password: str) -> bool:
        with self._hashing:
            with self._lock:
                self.hash_checks += 1
            return check_password_hash(stored, password)

    def _make_dummy_hash(self) -> str | None:
        """A hash of a random password by the method most configured hashes use.

        Every configured method is tried once, so an unknown one fails at start.
        """
        users_by_method: dict[str, list[str]] = {}
        for name, value in self._users.items():
            if is_password_hash(value):
                users_by_method.setdefault(value.partition("$")[0], []).append(name)
        dummies = {}
        for method, names in users_by_method.items():
            try:
                dummies[method] = generate_password_hash(secrets.token_urlsafe(16), method)
            except (ValueError, TypeError) as exc:
                raise ConfigurationError(
                    f"auth.basic_users.{names[0]}: unknown hash method {method!r} ({exc})"
                ) from None
        if not dummies:
            return None
        return dummies[max(users_by_method, key=lambda method: len(users_by_method[method]))]

    def _remembered(self, digest: bytes) -> bool:
        now = self._clock()
        with self._lock:
            expires = self._verified.get(digest)
            if expires is None:
                return False
            if expires <= now:
                del self._verified[digest]
                return False
            self._verified.move_to_end(digest)
            return True

    def _remember(self, digest: bytes) -> None:
        with self._lock:
            self._verified[digest] = self._clock() + VERIFIED_CACHE_SECONDS
            self._verified.move_to_end(digest)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
