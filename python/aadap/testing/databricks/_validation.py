"""Request and argument checks every service of the fake shares: reading a JSON body or a
query string, required fields, booleans and integers as JSON or query strings send them, and
the checks of the scripting methods' arguments."""

from __future__ import annotations

import json
import re
from typing import Any

from aadap.testing._server import FakeResponse, RecordedRequest
from aadap.testing.databricks._errors import invalid, malformed_request, not_found_endpoint


def json_object(
    request: RecordedRequest, *, empty_ok: bool = True
) -> dict[str, Any] | FakeResponse:
    """The request body as a JSON object (an empty body counts as ``{}`` when ``empty_ok``),
    else 400 ``MALFORMED_REQUEST``."""
    if empty_ok and not request.body.strip():
        return {}
    try:
        body = json.loads(request.body) if request.body else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return malformed_request()
    return body


def request_fields(request: RecordedRequest, method: str) -> dict[str, Any] | FakeResponse:
    """The fields of a request to an endpoint that takes ``method``: the query string of a GET,
    the JSON object body of anything else; 404 ``ENDPOINT_NOT_FOUND`` for another method, 400
    ``MALFORMED_REQUEST`` for a body that is not a JSON object."""
    if request.method != method:
        return not_found_endpoint(request)
    if method == "GET":
        return dict(request.query)
    return json_object(request)


def required_string(fields: dict[str, Any], name: str) -> str | FakeResponse:
    """``fields[name]`` when it is a non-empty string, else 400 "Missing required field"."""
    value = fields.get(name)
    if not value or not isinstance(value, str):
        return invalid(f"Missing required field: {name}")
    return value


def flag(value: Any) -> bool:
    """A boolean from JSON (true/false) or a query string ("true"/"false", any case)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def integer(value: Any) -> int | None:
    """An integer from JSON or a query string; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,19}", value.strip()):
        return int(value)
    return None


def check_times(times: int | None) -> int | None:
    """A scripted rule's ``times`` (None: forever)."""
    if times is not None and times < 1:
        raise ValueError(f"times must be >= 1 or None, got {times}")
    return times


def check_at_least(minimum: int, **values: float) -> None:
    """ValueError naming the first argument below ``minimum``."""
    for name, value in values.items():
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
