"""Origins (``scheme://host[:port]``) as config names them and browsers send them.

The API's CSRF check compares request headers with configured origins; the config files
(TOML and Flask's) check the lists given. Both need the same normal form, and the config
side must not import Flask, so the parsing lives here, below both.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from tickwork.exceptions import ConfigurationError

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: The schemes an origin may have.
WEB_SCHEMES = tuple(_DEFAULT_PORTS)


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, normalised; ``None`` if it has none.

    Host names are lowercased and default ports dropped, so ``HTTPS://Ops.Example:443/x``
    and ``https://ops.example`` are the same origin.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown_port = "" if port is None or port == _DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{shown_port}"


def parse_allowed_origins(values: object, key: str) -> frozenset[str]:
    """Check a configured list of origins such as ``["https://ops.example.com"]``.

    :param key: the config key, named in errors.
    :raises ConfigurationError: not a list of strings, or an entry that is not exactly an
        origin (no path, query or wildcard; ``null`` is never trusted).
    """
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ConfigurationError(f"{key} must be a list of origins such as 'https://host'")
    origins = set()
    for value in values:
        origin = origin_of(value) if isinstance(value, str) else None
        if origin is None or urlsplit(value.strip()).path not in ("", "/"):
            raise ConfigurationError(
                f"{key}: {value!r} is not an origin; write scheme://host[:port], "
                "e.g. 'https://ops.example.com'"
            )
        origins.add(origin)
    return frozenset(origins)
