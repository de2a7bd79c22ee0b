"""Who may call the REST API: HTTP Basic (Flask-APScheduler's way) and bearer tokens.

Flask-APScheduler's scheme is kept as is: ``SCHEDULER_AUTH = HTTPBasicAuth()`` decodes the
``Authorization`` header and the function registered with ``@scheduler.authenticate``
decides. Its auth objects (``flask_apscheduler.auth.HTTPBasicAuth``) work too, since only
``get_authorization()`` and ``get_authenticate_header()`` are used. Bearer tokens are for
programs: a list of secrets in config, compared in constant time, no callback needed.

Who a request was authenticated as (:func:`requester`) is recorded with what it asks for:
a run-now's run, a pause's job.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from flask import g, request

from tickwork.api.throttle import FailureThrottle, client_key
from tickwork.exceptions import (
    AccessError,
    AuthenticationError,
    ConfigurationError,
    TooManyAttemptsError,
)
from tickwork.limits import MAX_REQUESTER_CHARS, UNREADABLE_CHARS


class Authorization(dict[str, str]):
    """Decoded credentials, handed to the ``@authenticate`` callback.

    A dict (``auth["username"]``) with ``auth_type`` set, as in Flask-APScheduler.
    """

    def __init__(self, auth_type: str, **credentials: str) -> None:
        super().__init__(**credentials)
        self.auth_type = auth_type


class HTTPAuth(Protocol):
    """What ``SCHEDULER_AUTH`` must provide."""

    def get_authorization(self) -> Any: ...

    def get_authenticate_header(self) -> str: ...


def _credentials(scheme: str) -> str | None:
    header = request.headers.get("Authorization", "")
    given, _, credentials = header.partition(" ")
    if given.lower() != scheme or not credentials.strip():
        return None
    return credentials.strip()


class HTTPBasicAuth:
    """HTTP Basic: gives the callback ``{"username": ..., "password": ...}``."""

    www_authenticate_realm = "Authentication Required"

    def get_authorization(self) -> Authorization | None:
        credentials = _credentials("basic")
        if credentials is None:
            return None
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("latin-1")
        except (binascii.Error, ValueError):
            return None
        username, sep, password = decoded.partition(":")
        if not sep:
            return None
        return Authorization("basic", username=username, password=password)

    def get_authenticate_header(self) -> str:
        return f'Basic realm="{self.www_authenticate_realm}"'


class HTTPBearerAuth:
    """Bearer tokens checked by the ``@authenticate`` callback (``auth["token"]``)."""

    www_authenticate_realm = "tickwork"

    def get_authorization(self) -> Authorization | None:
        token = _credentials("bearer")
        return None if token is None else Authorization("bearer", token=token)

    def get_authenticate_header(self) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'


#: The body of a 401, as Flask-APScheduler words it.
ACCESS_DENIED = "Access Denied"
#: Where :meth:`ApiAuth.require` leaves the name of who the request is authenticated as.
_REQUESTER: Final = "tickwork_requester"


def requester() -> str | None:
    """Who the current request was authenticated as: the user name given to the
    ``@authenticate`` callback that accepted it, or a bearer token's name (see
    :func:`token_name`); None without auth, or when the credentials name nobody."""
    name: str | None = g.get(_REQUESTER)
    return name


def token_name(token: str) -> str:
    """A bearer token's name: stable and not secret (configured tokens have no names), so
    history can tell tokens apart without holding them: ``token:`` and the first 12 hex
    digits of the token's SHA-256."""
    return "token:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _name_in(authorization: object) -> str | None:
    """The name the accepted credentials give: a user name, else a token's name."""
    if not isinstance(authorization, Mapping):
        return None
    username, token = authorization.get("username"), authorization.get("token")
    if isinstance(username, str) and username:
        return _readable(username)
    if isinstance(token, str) and token:
        return token_name(token)
    return None


def _readable(name: str) -> str:
    """``name`` as it may be recorded and shown: what a callback accepted is not checked
    text, so unreadable characters (and lone surrogates) are escaped, and the result is
    cut to :data:`~tickwork.limits.MAX_REQUESTER_CHARS`."""
    escaped = "".join(
        ascii(char)[1:-1] if char in UNREADABLE_CHARS or "\ud800" <= char <= "\udfff" else char
        for char in name
    )
    return escaped[:MAX_REQUESTER_CHARS]


@dataclass(frozen=True)
class ApiAuth:
    """The API's authentication policy.

    :param scheme: ``SCHEDULER_AUTH``; its credentials go to the callback.
    :param callback: returns the callback registered with ``@authenticate`` (looked up per
        request, since apps often register it after ``init_app``).
    :param tokens: bearer tokens accepted without a callback.
    :param throttle: makes clients that keep sending wrong credentials wait, so the
        callback (often a slow password hash) is not run for them.
    """

    scheme: HTTPAuth | None = None
    callback: Callable[[], Callable[[Any], Any] | None] = lambda: None
    tokens: frozenset[str] = field(default_factory=frozenset)
    throttle: FailureThrottle = field(default_factory=FailureThrottle)

    @classmethod
    def build(
        cls,
        scheme: HTTPAuth | None,
        callback: Callable[[], Callable[[Any], Any] | None],
        tokens: Iterable[str] = (),
        throttle: FailureThrottle | None = None,
    ) -> ApiAuth:
        token_set = frozenset(tokens)
        if any(not isinstance(token, str) or len(token) < 16 for token in token_set):
            raise ConfigurationError("API tokens must be strings of at least 16 characters")
        return cls(scheme, callback, token_set, throttle or FailureThrottle())

    @property
    def enabled(self) -> bool:
        return self.scheme is not None or bool(self.tokens)

    def require(self) -> None:
        """Let the current request through if authenticated (always, when auth is off).

        A valid bearer token is checked first, in constant time; it is cheap, so it is
        accepted even from a client that has to wait. Everything else passes the throttle.

        :raises AuthenticationError: without valid credentials.
        :raises TooManyAttemptsError: while this client has to wait.
        """
        if not self.enabled:
            return
        token = _credentials("bearer") if self.tokens else None
        if token is not None and any(
            hmac.compare_digest(token.encode(), known.encode()) for known in self.tokens
        ):
            setattr(g, _REQUESTER, token_name(token))
            return
        authorization = self.scheme.get_authorization() if self.scheme is not None else None
        callback = self.callback() if authorization is not None else None
        if token is None and callback is None:
            raise self._denied()  # no credentials to check: costs nothing, not counted
        client = client_key(request.remote_addr)
        wait = self.throttle.admit(client)
        if wait:
            raise TooManyAttemptsError(wait)
        succeeded = False
        try:
            succeeded = callback is not None and bool(callback(authorization))
        finally:
            self.throttle.settle(client, succeeded=succeeded)
        if not succeeded:
            raise self._denied()
        setattr(g, _REQUESTER, _name_in(authorization))

    def allows(self) -> bool:
        """Whether the current request is authenticated (always, when auth is off)."""
        try:
            self.require()
        except AccessError:
            return False
        return True

    def _denied(self) -> AuthenticationError:
        return AuthenticationError(ACCESS_DENIED, challenge=self.challenge())

    def challenge(self) -> str:
        """The ``WWW-Authenticate`` header value of a 401."""
        challenges = []
        if self.scheme is not None:
            challenges.append(self.scheme.get_authenticate_header())
        if self.tokens and not isinstance(self.scheme, HTTPBearerAuth):
            challenges.append('Bearer realm="tickwork"')
        return ", ".join(challenges)
