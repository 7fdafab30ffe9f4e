"""The workspace's error bodies: the standard ``{"error_code", "message"}`` of the REST APIs,
API 1.2's ``{"error"}``, and every variant of cloud-apis.md B1 that
:meth:`FakeDatabricks.error_next` scripts."""

from __future__ import annotations

import json
from typing import Literal
from xml.sax.saxutils import escape as xml_escape

from aadap.testing._server import FakeResponse, RecordedRequest, json_response, status_phrase

ErrorShape = Literal["standard", "numeric", "legacy", "text", "html", "empty"]
"""The error-body variants of cloud-apis.md B1 (see :meth:`FakeDatabricks.error_next`)."""

_DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_PARAMETER_VALUE", "Invalid parameter value."),
    401: ("UNAUTHENTICATED", "Credential was not sent or was of an unsupported type."),
    403: ("PERMISSION_DENIED", "You do not have permission to perform this operation."),
    404: ("RESOURCE_DOES_NOT_EXIST", "The requested resource does not exist."),
    409: ("RESOURCE_CONFLICT", "The request conflicts with the current state of the resource."),
    429: (
        "REQUEST_LIMIT_EXCEEDED",
        "Your request was rejected because the rate limit was exceeded. Retry later.",
    ),
    499: ("CANCELLED", "The operation was cancelled by the caller."),
    500: ("INTERNAL_ERROR", "Internal error."),
    501: ("NOT_IMPLEMENTED", "The operation is not implemented."),
    502: ("BAD_GATEWAY", "Bad gateway."),
    503: (
        "TEMPORARILY_UNAVAILABLE",
        "The service is temporarily unavailable. Retry later.",
    ),
    504: ("DEADLINE_EXCEEDED", "The deadline expired before the operation could complete."),
}


def default_error(status: int) -> tuple[str, str]:
    """The error code and message the workspace sends with ``status`` (e.g. 503
    ``TEMPORARILY_UNAVAILABLE``); other statuses their reason phrase as the code."""
    return _DEFAULT_ERRORS.get(
        status, (status_phrase(status).upper().replace(" ", "_"), f"{status_phrase(status)}.")
    )


def error_body(shape: ErrorShape, status: int, code: str, text: str) -> tuple[bytes, str]:
    """The body and Content-Type of an error of the given ``shape`` (cloud-apis.md B1)."""
    if shape == "standard":
        return json.dumps({"error_code": code, "message": text}).encode(), "application/json"
    if shape == "numeric":
        return json.dumps({"error_code": status, "message": text}).encode(), "application/json"
    if shape == "legacy":
        return json.dumps({"error": text}).encode(), "application/json"
    if shape == "text":
        return f"{code}: {text}".encode(), "text/plain; charset=utf-8"
    if shape == "html":
        page = (
            f"<html><head><title>Error {status} {status_phrase(status)}</title></head>"
            f"<body><h2>HTTP ERROR {status}</h2><pre>{xml_escape(text)}</pre></body></html>"
        )
        return page.encode(), "text/html; charset=utf-8"
    if shape == "empty":
        return b"", "text/plain"
    raise ValueError(f"unknown error shape {shape!r}")


def api_error(status: int, error_code: str, message: str) -> FakeResponse:
    """The workspace's standard error body."""
    return json_response(status, {"error_code": error_code, "message": message})


def invalid(message: str) -> FakeResponse:
    """400 ``INVALID_PARAMETER_VALUE``."""
    return api_error(400, "INVALID_PARAMETER_VALUE", message)


def malformed_request() -> FakeResponse:
    """400 ``MALFORMED_REQUEST``: the body is not a JSON object."""
    return api_error(
        400,
        "MALFORMED_REQUEST",
        "Invalid JSON given in the body of the request - expected a map",
    )


def not_found_endpoint(request: RecordedRequest) -> FakeResponse:
    """404 ``ENDPOINT_NOT_FOUND``: no API at this path for this method."""
    return api_error(
        404, "ENDPOINT_NOT_FOUND", f"No API found for '{request.method} {request.path}'"
    )


def legacy_error(status: int, message: str) -> FakeResponse:
    """The API 1.2 error body, ``{"error": message}``."""
    return json_response(status, {"error": message})
