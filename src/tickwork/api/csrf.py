"""Which requests may change state: JSON bodies only, sent from this origin or an allowed one.

A browser re-sends cached HTTP Basic credentials with any request to the API's origin, so a
page on another site could otherwise drive the API (cross-site request forgery). Two rules
close that, both decided before any authentication work:

* **JSON only.** An unsafe request with a body must say ``Content-Type: application/json``
  (parameters such as ``charset`` are fine); anything else is 415. Cross-site pages can
  send ``text/plain``, form and multipart bodies without asking, but not JSON: a browser
  first sends a CORS preflight, which this API never approves. A request *without* a body
  may leave the Content-Type out (``curl -X POST .../pause``, Flask-APScheduler clients);
  if it names one, it must be JSON, so an empty HTML form is refused too.
* **Same origin only.** Body-less requests are what the first rule lets through, and
  ``fetch`` or ``navigator.sendBeacon`` can send them cross-site. Browsers label them:
  ``Sec-Fetch-Site`` says ``cross-site`` or ``same-site``, ``Origin`` names the page's
  origin (``null`` when hidden), and ``Referer`` when ``Origin`` is missing (older
  browsers). An unsafe request whose labels point anywhere but this server's own host, or
  an origin from ``allowed_origins``, is 403. Programs send none of these headers and are
  not affected.

Safe methods (GET, HEAD, OPTIONS) change nothing and are not checked: the same-origin
policy already keeps another site from reading the answers, since no CORS headers are sent.

One attack passes both rules: **DNS rebinding**. A page at ``http://rebind.evil:5000``
whose name the attacker then points at 127.0.0.1 is the API's own origin to the browser,
so its reads and JSON writes are same-origin. With auth on that gains nothing (the browser
holds no credentials for that name); without auth, every request whose ``Host`` is a DNS
name is refused (403), except ``localhost`` (browsers resolve it themselves) and the hosts
of ``allowed_origins``. Addresses (``127.0.0.1``, ``[::1]``) cannot be rebound.
"""

from __future__ import annotations

import ipaddress
from typing import NoReturn
from urllib.parse import urlsplit

from flask import request

from tickwork.exceptions import OriginRefusedError, UnsupportedMediaTypeError
from tickwork.origins import WEB_SCHEMES, origin_of

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_MEDIA_TYPE = "application/json"

#: A host name browsers map to loopback themselves, with its subdomains (RFC 6761).
_LOOPBACK_NAME = "localhost"
#: ``Sec-Fetch-Site`` values that name another origin; ``same-site`` includes sibling
#: subdomains and other ports of the same host, which are not necessarily trusted.
_FOREIGN_SITES = frozenset({"cross-site", "same-site"})


def check_host(allowed_origins: frozenset[str], *, auth_enabled: bool) -> None:
    """Without auth, refuse any request naming a ``Host`` a rebound DNS name could send.

    :raises OriginRefusedError: naming the ``Host``.
    """
    if auth_enabled:
        return
    host = request.host
    name = (urlsplit(f"//{host}").hostname or "").rstrip(".")
    if not name or name == _LOOPBACK_NAME or name.endswith("." + _LOOPBACK_NAME):
        return
    try:
        ipaddress.ip_address(name)
        return
    except ValueError:
        pass
    if any(origin_of(f"{scheme}://{host}") in allowed_origins for scheme in WEB_SCHEMES):
        return
    raise OriginRefusedError(
        f"Host {host!r} is a DNS name and the API has no authentication: a page whose name "
        "resolves here (DNS rebinding) could use it; use an address or localhost, "
        "configure auth, or list the origin in allowed_origins",
        field="Host",
    )


def check_write(allowed_origins: frozenset[str]) -> None:
    """Refuse the current request if it is an unsafe one from elsewhere or not JSON.

    :raises OriginRefusedError: for a foreign origin.
    :raises UnsupportedMediaTypeError: for a body that is not JSON.
    """
    if request.method not in UNSAFE_METHODS:
        return
    _check_origin(allowed_origins)
    _check_content_type()


def _check_origin(allowed: frozenset[str]) -> None:
    origin_header = request.headers.get("Origin")
    referer = request.headers.get("Referer")
    claimed = origin_header if origin_header is not None else referer
    site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    if claimed is None:
        if site in _FOREIGN_SITES:
            _refuse(f"Sec-Fetch-Site is {site} and the request names no Origin")
        return
    source = "Origin" if origin_header is not None else "Referer"
    origin = origin_of(claimed)
    if origin is None:
        _refuse(f"{source} {claimed.strip()!r} is not an origin this API can trust")
    if origin in allowed:
        return
    if site in _FOREIGN_SITES:
        _refuse(f"{source} {origin} is {site} and not in the allowed origins")
    scheme = origin.partition(":")[0]
    if origin != origin_of(f"{scheme}://{request.host}"):
        _refuse(f"{source} {origin} is not this server ({request.host}) nor an allowed origin")


def _refuse(reason: str) -> NoReturn:
    raise OriginRefusedError(
        f"cross-origin request refused: {reason}; see allowed_origins", field="Origin"
    ) from None


def _check_content_type() -> None:
    given = request.headers.get("Content-Type")
    has_body = bool(request.content_length) or "Transfer-Encoding" in request.headers
    if given is None and not has_body:
        return
    if request.mimetype != JSON_MEDIA_TYPE:
        shown = "none" if given is None else repr(given)
        raise UnsupportedMediaTypeError(
            f"the request body must be sent as Content-Type: {JSON_MEDIA_TYPE}, got {shown}",
            field="Content-Type",
        )
