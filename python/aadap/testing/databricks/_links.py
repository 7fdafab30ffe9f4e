"""EXTERNAL_LINKS results: the pre-signed chunk URLs the fake hands out and the S3-like storage
that serves them under ``/storage/results/``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape as xml_escape

from aadap.testing._server import FakeResponse, RecordedRequest
from aadap.testing.databricks._results import timestamp_text

if TYPE_CHECKING:
    from aadap.testing.databricks._statements import Statement, Statements


EXTENSIONS = {"JSON_ARRAY": "json", "CSV": "csv", "ARROW_STREAM": "arrow"}


_CONTENT_TYPES = {
    "JSON_ARRAY": "application/json",
    "CSV": "text/csv",
    "ARROW_STREAM": "application/vnd.apache.arrow.stream",
}


_STORAGE_ROUTE = re.compile(r"^/storage/results/(?P<id>[^/]+)/chunk-(?P<chunk>\d+)\.(?P<ext>\w+)$")


class ResultStorage:
    """Where EXTERNAL_LINKS point: pre-signed URLs of result chunks, answered as S3 answers
    pre-signed URLs (XML errors; the signature, expiry and required headers checked)."""

    def __init__(self, statements: Statements) -> None:
        self.statements = statements
        self.fake = statements.fake

    def presign(self, statement: Statement, index: int) -> dict[str, Any]:
        now = int(self.fake.now())
        stamp = datetime.fromtimestamp(now, timezone.utc)
        amz_date = stamp.strftime("%Y%m%dT%H%M%SZ")
        path = (
            f"/storage/results/{statement.statement_id}/chunk-{index}."
            f"{EXTENSIONS[statement.format]}"
        )
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"AKIAFAKEDATABRICKS00/{stamp:%Y%m%d}/us-west-2/s3/aws4_request",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(self.fake.link_ttl),
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Signature": self._signature(path, amz_date, str(self.fake.link_ttl)),
        }
        link: dict[str, Any] = {
            "external_link": f"{self.fake.url}{path}?{urlencode(query)}",
            "expiration": timestamp_text(
                datetime.fromtimestamp(now + self.fake.link_ttl, timezone.utc)
            ),
        }
        if self.fake.link_headers:
            link["http_headers"] = dict(self.fake.link_headers)
        return link

    def _signature(self, path: str, amz_date: str, expires: str) -> str:
        message = f"{path}\n{amz_date}\n{expires}".encode()
        return hmac.new(self.fake._key, message, hashlib.sha256).hexdigest()

    def download(self, request: RecordedRequest) -> FakeResponse:
        if request.method != "GET":
            return s3_error(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                {"Method": request.method, "ResourceType": "OBJECT"},
            )
        if "Authorization" in request.headers:
            return s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be "
                "specified",
                {"ArgumentName": "Authorization", "ArgumentValue": "Bearer"},
            )
        query = request.query
        amz_date, expires = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", "")
        signature = query.get("X-Amz-Signature", "")
        expected = self._signature(request.path, amz_date, expires)
        if not signature or not hmac.compare_digest(signature, expected):
            return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        expires_at = signed_at.timestamp() + int(expires)
        now = self.fake.now()
        if now >= expires_at:
            return s3_error(
                403,
                "AccessDenied",
                "Request has expired",
                {
                    "X-Amz-Expires": expires,
                    "Expires": datetime.fromtimestamp(expires_at, timezone.utc).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "ServerTime": datetime.fromtimestamp(now, timezone.utc).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                },
            )
        for name, value in self.fake.link_headers.items():
            if request.headers.get(name) != value:
                return s3_error(
                    400,
                    "InvalidRequest",
                    "The object was stored using a form of Server Side Encryption. The correct "
                    "parameters must be provided to retrieve the object.",
                )
        route = _STORAGE_ROUTE.match(request.path)
        with self.fake._lock:
            statement = self.statements.statements.get(route["id"]) if route else None
            if statement is not None:
                self.statements.observe(statement)
            if (
                route is None
                or statement is None
                or self.statements.gone(statement)
                or statement.state != "SUCCEEDED"
                or statement.result is None
                or int(route["chunk"]) >= len(statement.result.contents)
            ):
                return s3_error(404, "NoSuchKey", "The specified key does not exist.")
            statement.downloads += 1
            content = statement.result.contents[int(route["chunk"])]
            content_type = _CONTENT_TYPES[statement.format]
        return FakeResponse(200, content, {"Content-Type": content_type, "ETag": etag(content)})


def s3_error(
    status: int, code: str, message: str, extra: Mapping[str, str] | None = None
) -> FakeResponse:
    request_id = secrets.token_hex(8).upper()
    fields = "".join(
        f"<{name}>{xml_escape(value)}</{name}>" for name, value in (extra or {}).items()
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{xml_escape(message)}</Message>{fields}"
        f"<RequestId>{request_id}</RequestId>"
        f"<HostId>{base64.b64encode(secrets.token_bytes(24)).decode()}</HostId></Error>"
    )
    return FakeResponse(
        status,
        body.encode(),
        {"Content-Type": "application/xml", "x-amz-request-id": request_id},
    )


def etag(content: bytes) -> str:
    return f'"{hashlib.md5(content, usedforsecurity=False).hexdigest()}"'
