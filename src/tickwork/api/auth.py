"""Who may call the REST API: HTTP Basic (Flask-APScheduler's way) and bearer tokens.

Flask-APScheduler's scheme is kept as is: ``SCHEDULER_AUTH = HTTPBasicAuth()`` decodes the
``Authorization`` header and the function registered with ``@scheduler.authenticate``
decides. Its auth objects (``flask_apscheduler.auth.HTTPBasicAuth``) work too, since only
``get_authorization()`` and ``get_authenticate_header()`` are used. Bearer tokens are for
programs: a list of secrets in config, compared in constant time, no callback needed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import request

from tickwork.api.throttle import FailureThrottle, client_key
from tickwork.exceptions import (
    AccessError,
    AuthenticationError,
    ConfigurationError,
    TooManyAttemptsError,
)


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
