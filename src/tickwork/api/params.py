"""Reading request bodies and query strings strictly, with errors that name the field.

Everything here raises :class:`~tickwork.exceptions.RequestError` (400), never lets a
``KeyError`` or a Werkzeug HTML page through.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import request

from tickwork.exceptions import RequestError

MAX_PAGE = 1000


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object.

    The API's guard has already refused bodies not sent as ``application/json``
    (:mod:`tickwork.api.csrf`), so the Content-Type is not looked at again here.
    Python's parser accepts ``NaN``, ``Infinity`` and ``1e400``; they are refused here,
    because they cannot be stored as JSON nor sent back to a client.
    """
    raw = request.get_data(cache=False)
    if not raw.strip():
        if required:
            raise RequestError("the request body must be a JSON object", field="body")
        return {}
    try:
        data = json.loads(raw, parse_float=_finite, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise RequestError(f"the request body is not valid JSON: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise RequestError("the request body must be a JSON object", field="body")
    return data


def strict_fields(body: Mapping[str, Any], allowed: Mapping[str, type]) -> dict[str, Any]:
    """Check a PATCH body of the scheduler service spec: known fields only, at least one.

    :param allowed: field name → the Python type its JSON value must have.
    """
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise RequestError(f"unexpected field(s): {', '.join(unknown)}", field=unknown[0])
    if not body:
        raise RequestError(f"no fields given; expected some of: {', '.join(allowed)}", field="body")
    for name, value in body.items():
        if not isinstance(value, allowed[name]):
            raise RequestError(f"{name} must be a {allowed[name].__name__}", field=name)
    return dict(body)


def query_int(name: str, *, default: int | None, low: int, high: int) -> int | None:
    """An integer query parameter within ``low..high`` (inclusive)."""
    text = request.args.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise RequestError(f"{name} must be an integer, got {text!r}", field=name) from None
    if not low <= value <= high:
        raise RequestError(f"{name} must be from {low} to {high}, got {value}", field=name)
    return value


def query_bool(name: str) -> bool:
    text = request.args.get(name, "false").lower()
    if text not in ("true", "false", "1", "0"):
        raise RequestError(f"{name} must be true or false, got {text!r}", field=name)
    return text in ("true", "1")


def query_text(name: str) -> str | None:
    text = request.args.get(name)
    if text == "" or (text is not None and "\x00" in text):
        raise RequestError(f"{name} must be a non-empty string without NUL", field=name)
    return text


def next_link(**params: object) -> dict[str, str]:
    """A ``Link: <...>; rel="next"`` header for the page after this one.

    Other query parameters (filters) are kept, so following the link continues the same
    listing.
    """
    query = {key: value for key, value in request.args.items() if key not in params}
    query.update({key: str(value) for key, value in params.items()})
    return {"Link": f'<{request.path}?{urlencode(query)}>; rel="next"'}
