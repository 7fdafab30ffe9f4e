"""Fabric's ``ErrorResponse`` bodies (cloud-apis.md B10.1), and the exception the route handlers
of :class:`~aadap.testing.FakeFabric` raise to answer with one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from aadap.testing._server import FakeResponse, json_response

ERROR_CODE_HEADER = "x-ms-public-api-error-code"
"""The response header that repeats an error's ``errorCode``."""
REQUEST_ID_HEADER = "RequestId"
"""The response header carrying the request id (also the ``requestId`` of error bodies)."""


class FabricError(Exception):
    """An error the fake answers with: HTTP ``status`` and an ErrorResponse ``{errorCode,
    message, requestId[, isRetriable][, moreDetails][, relatedResource]}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        related: tuple[str, str] | None = None,
        details: Sequence[tuple[str, str]] = (),
        retriable: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.related = related
        """(resourceId, resourceType) of the resource involved, if any."""
        self.details = tuple(details)
        """(errorCode, message) pairs for ``moreDetails``."""
        self.retriable = retriable
        self.headers = dict(headers or {})

    def response(self, request_id: str | None = None) -> FakeResponse:
        """The HTTP response: the body, ``x-ms-public-api-error-code`` and ``RequestId``."""
        request_id = request_id or str(uuid.uuid4())
        body: dict[str, Any] = {
            "requestId": request_id,
            "errorCode": self.code,
            "message": self.message,
        }
        if self.retriable is not None:
            body["isRetriable"] = self.retriable
        if self.details:
            body["moreDetails"] = [
                {"errorCode": code, "message": message} for code, message in self.details
            ]
        if self.related is not None:
            body["relatedResource"] = {
                "resourceId": self.related[0],
                "resourceType": self.related[1],
            }
        return json_response(
            self.status,
            body,
            {ERROR_CODE_HEADER: self.code, REQUEST_ID_HEADER: request_id, **self.headers},
        )


def invalid_input(message: str, parameter_message: str | None = None) -> FabricError:
    """400 ``InvalidInput`` (a malformed request body or parameter), with the offending field in
    ``moreDetails`` as ``InvalidParameter``."""
    details = [("InvalidParameter", parameter_message)] if parameter_message else []
    return FabricError(400, "InvalidInput", message, details=details)


def not_found(kind: str, resource_id: str) -> FabricError:
    """404 for an unknown workspace (``WorkspaceNotFound``), item (``ItemNotFound``), or other
    entity: job instance, operation, unknown route (``EntityNotFound``)."""
    if kind == "Workspace":
        return FabricError(
            404,
            "WorkspaceNotFound",
            "The requested workspace was not found",
            related=(resource_id, "Workspace"),
        )
    if kind == "Item":
        return FabricError(
            404, "ItemNotFound", "The requested item was not found", related=(resource_id, "Item")
        )
    return FabricError(404, "EntityNotFound", f"The requested {kind} was not found")
