"""A local fake Databricks workspace: the SQL Statement Execution API 2.0, personal access
tokens and the workspace's OAuth endpoints, good enough for the official ``databricks-sdk``
(``WorkspaceClient``) and for aadap's own Databricks client (cloud-apis.md B1-B3).

    with FakeDatabricks() as fake:
        fake.add_table(
            r"FROM sales\\.orders WHERE region = :region",
            columns=[("id", "BIGINT"), ("amount", "DECIMAL(10,2)"), ("day", "DATE")],
            rows=lambda p: [(1, Decimal("9.90"), date(2024, 5, 1))] if p["region"] == "EU" else [],
        )
        w = WorkspaceClient(host=fake.url, token=fake.token)
        response = w.statement_execution.execute_statement(
            statement="SELECT * FROM sales.orders WHERE region = :region",
            warehouse_id=fake.warehouse_id,
            parameters=[StatementParameterListItem(name="region", value="EU")],
        )
        assert response.result.data_array == [["1", "9.90", "2024-05-01"]]

**Routes.** Under ``/api/`` every request needs ``Authorization: Bearer <token>``: the PAT
:attr:`FakeDatabricks.token`, or an OAuth access token this fake issued that has not expired.
No header gets 401 with the HTML error page of the workspace's front door; any other token 403
``{"error_code": 403, "message": "Invalid access token."}`` with the header
``X-Databricks-Reason-Phrase: Invalid access token.``

- ``POST /api/2.0/sql/statements``: execute (body checks below).
- ``GET /api/2.0/sql/statements/{id}``: poll; counts in :attr:`StatementInfo.polls`.
- ``POST /api/2.0/sql/statements/{id}/cancel``: empty 200; counts in
  :attr:`StatementInfo.cancels`; a PENDING or RUNNING statement becomes CANCELED.
- ``GET /api/2.0/sql/statements/{id}/result/chunks/{n}``: one chunk (``ResultData``).
- Any other ``/api/`` path: 404 ``ENDPOINT_NOT_FOUND``.

Without authentication:

- ``GET /.well-known/databricks-config``: host metadata (``oidc_endpoint``, ``workspace_id``,
  ``account_id``, ``cloud``, ``host_type``), which databricks-sdk reads when it is configured.
- ``GET /oidc/.well-known/oauth-authorization-server``: OIDC discovery (the token endpoint is
  served; the advertised ``authorization_endpoint`` of the browser login is not).
- ``POST /oidc/v1/token``: ``grant_type=client_credentials`` (OAuth M2M: a service principal of
  :attr:`FakeDatabricks.clients`, HTTP Basic or form credentials, scope ``all-apis`` by default)
  and ``grant_type=refresh_token`` (what ``databricks auth token`` does with the CLI's token
  cache; public client ``databricks-cli``). Errors are OAuth bodies ``{"error",
  "error_description"}``. Access tokens live :attr:`FakeDatabricks.expires_in` seconds on the
  fake's wall clock.
- ``GET /storage/results/{id}/chunk-{n}.{json|csv|arrow}?X-Amz-...``: the pre-signed
  EXTERNAL_LINKS downloads, answered as S3 answers pre-signed URLs: a request carrying an
  ``Authorization`` header is refused (400 ``InvalidArgument``, "Only one auth mechanism
  allowed"), an expired link gets 403 ``AccessDenied`` "Request has expired", a tampered one 403
  ``SignatureDoesNotMatch``, missing :attr:`FakeDatabricks.link_headers` 400
  ``InvalidRequest``, a result that is gone 404 ``NoSuchKey``; errors are S3's XML bodies.
  Successful downloads count in :attr:`StatementInfo.downloads`.

**Execute: request checks** (each a 400 ``INVALID_PARAMETER_VALUE`` unless said otherwise): the
body must be a JSON object (else 400 ``MALFORMED_REQUEST``); ``statement`` and
``warehouse_id`` are required strings, the statement at most 16 MiB; ``wait_timeout`` matches
``0s`` or ``5s``..``50s`` (default ``10s``); ``on_wait_timeout`` is ``CONTINUE`` (default) or
``CANCEL``; ``disposition`` ``INLINE`` (default) or ``EXTERNAL_LINKS``; ``format``
``JSON_ARRAY`` (default), ``CSV`` or ``ARROW_STREAM``, the latter two only with
``EXTERNAL_LINKS``; ``row_limit`` and ``byte_limit`` positive integers; ``parameters`` a list
of ``{"name", "value"?, "type"?}`` with distinct names and a known type (default ``STRING``);
``query_tags`` a list of ``{"key", "value"?}`` (recorded, cut to 20). An unknown warehouse is
404 ``RESOURCE_DOES_NOT_EXIST``. ``ARROW_STREAM`` needs ``pyarrow`` in the fake's process (else
501 ``NOT_IMPLEMENTED`` naming the package).

**What a statement does** (decided when it is submitted): the first rule added with
:meth:`FakeDatabricks.add_table` or :meth:`FakeDatabricks.fail_statement` whose pattern
``re.search``-es the statement text; else built-ins: a statement starting with ``import `` or
``print(`` (Python sent to a SQL warehouse) FAILs with ``[PARSE_SYNTAX_ERROR]`` (SQLSTATE
42601); one starting with ``FAIL:`` FAILs with the rest of its text as the message; a bare
``SELECT <integer>`` (``SELECT 1``, a common health check) succeeds with one INT column named
after the literal. Anything else FAILs with ``[FAKE_NO_RESULT_REGISTERED]`` naming the statement
(SQLSTATE 42000), so a test notices a statement it did not expect; construct the fake with
``unmatched="empty"`` to let unmatched statements succeed with no columns and no rows instead
(as DDL does). Named parameter markers (``:name``, outside string literals and comments) must
all be bound by ``parameters``, else the statement FAILs with ``[UNBOUND_SQL_PARAMETER]``
(42P02); a value that does not cast to its declared type FAILs with ``[CAST_INVALID_INPUT]``
(22018). Parameters are never spliced into the text: patterns see the markers, and a callable
result receives the typed values.

**Progression.** A statement starts PENDING, turns RUNNING, then SUCCEEDED or FAILED. Each
phase lasts until both its poll count (polls answered in that state) and its duration (seconds
of the fake's warehouse clock) are used up: see ``pending_polls``, ``running_polls``,
``pending_seconds``, ``running_seconds`` of :meth:`FakeDatabricks.add_table`. By default both
phases are empty and a statement finishes at once. ``wait_timeout`` blocks the execute call
until the statement is done or the wait is over, then CANCELs it (``on_wait_timeout=CANCEL``)
or answers its current state (``CONTINUE``); ``0s`` answers PENDING at once. The warehouse clock
runs :attr:`FakeDatabricks.time_scale` times slower than real time (``time_scale=0.01``: a
``50s`` wait or a 5 s statement takes 0.5 s or 50 ms). :meth:`FakeDatabricks.advance` moves
the wall clock and the warehouse clock forward together: a SUCCEEDED statement turns CLOSED
``result_ttl`` seconds (1 h) after it finished, and any finished statement answers 404 after
``statement_ttl`` seconds (12 h).

**Results** (JSON_ARRAY): every value a string, null stays null; ``BOOLEAN`` ``"true"``;
integers in decimal; ``DOUBLE``/``FLOAT`` as Java's ``Double.toString`` (``"1.5"``,
``"1.0E10"``, ``"NaN"``); ``DECIMAL(p,s)`` with exactly ``s`` decimals; ``DATE``
``"2024-05-01"``; ``TIMESTAMP`` in UTC as ``"2024-05-01T10:00:00.000Z"`` (microseconds when
there are any; a naive datetime counts as UTC); ``BINARY`` base64; ``ARRAY``/``MAP``/``STRUCT``
compact JSON text typed by the element types (``[1,2]``, ``{"a":"x"}``); ``INTERVAL DAY TO
SECOND`` from a timedelta as ``INTERVAL '1 02:03:04' DAY TO SECOND``. A ``str`` value is sent as
it is for any type. The manifest carries ``schema`` (``name``, ``type_text``, ``type_name``,
``position``, and ``type_precision``/``type_scale``/``type_interval_type`` when relevant),
``total_chunk_count``, ``chunks``, ``total_row_count``, ``truncated`` (and
``total_byte_count``/``byte_count`` with EXTERNAL_LINKS only). Rows are split into chunks of
``rows_per_chunk``; every chunk but the last has ``next_chunk_index`` and
``next_chunk_internal_link``. A result with no rows has no chunks and no ``result``.
``row_limit`` and ``byte_limit`` (compact JSON bytes of the rows) trim the result and set
``truncated``. An INLINE result over :attr:`FakeDatabricks.inline_byte_limit` (25 MiB) FAILs
with ``BAD_REQUEST`` "Inline byte limit exceeded", as the service does. EXTERNAL_LINKS content:
compact JSON arrays; CSV per RFC 4180 with a header row in chunk 0 only and null as ``null``;
Arrow IPC streams (scalar types native, ARRAY/MAP/STRUCT/INTERVAL as their JSON_ARRAY text).

**Faults**: everything :class:`~aadap.testing.FakeServer` scripts (``throttle_next`` for 429
with ``Retry-After``; ``fail_next(n, 429)`` for one without), with Databricks error bodies, plus
:meth:`FakeDatabricks.error_next` for every error-body variant of B1.

**For CLI-style auth tests**: :meth:`FakeDatabricks.write_databrickscfg` and
:meth:`FakeDatabricks.write_token_cache` write a ``.databrickscfg`` profile and a version-1
``token-cache.json`` pointing at the fake.
"""

from __future__ import annotations

import base64
import binascii
import configparser
import csv
import hashlib
import hmac
import importlib.util
import io
import json
import math
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote_plus, urlencode
from xml.sax.saxutils import escape as xml_escape

from aadap.testing._server import (
    FakeResponse,
    FakeServer,
    PathFilter,
    RecordedRequest,
    _phrase,
    json_response,
)

__all__ = [
    "CLI_CLIENT_ID",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_TOKEN",
    "DEFAULT_WAREHOUSE_ID",
    "DEFAULT_WORKSPACE_ID",
    "ErrorShape",
    "FakeDatabricks",
    "OAuthToken",
    "StatementInfo",
    "StatementParameter",
]

DEFAULT_TOKEN = "dapi0123456789abcdef0123456789abcdef"
"""The personal access token a :class:`FakeDatabricks` accepts unless told otherwise."""
DEFAULT_WAREHOUSE_ID = "abc123def4567890"
"""The id of the one SQL warehouse a :class:`FakeDatabricks` has by default."""
DEFAULT_WORKSPACE_ID = "1234567890123456"
"""The workspace id it reports (``/.well-known/databricks-config``, ``x-databricks-org-id``)."""
DEFAULT_CLIENT_ID = "6f1e0c7a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
"""The application id of the one service principal it knows by default (OAuth M2M)."""
DEFAULT_CLIENT_SECRET = "dose0123456789abcdef0123456789abcdef"
"""Its OAuth secret."""
CLI_CLIENT_ID = "databricks-cli"
"""The public OAuth client of ``databricks auth login`` (refresh tokens are bound to it)."""

INLINE_BYTE_LIMIT = 25 * 1024 * 1024
"""The service's cap on an INLINE result (26214400 bytes)."""
MAX_STATEMENT_BYTES = 16 * 1024 * 1024
"""The longest statement text accepted."""

ErrorShape = Literal["standard", "numeric", "legacy", "text", "html", "empty"]
"""The error-body variants of cloud-apis.md B1 (see :meth:`FakeDatabricks.error_next`)."""

_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"})
_WAIT_TIMEOUT = re.compile(r"^(0|[5-9]|[1-4][0-9]|50)s$")
_STATEMENTS = "/api/2.0/sql/statements"
_STATEMENT_ROUTE = re.compile(
    r"^/api/2\.0/sql/statements/(?P<id>[^/]+)"
    r"(?:/(?P<cancel>cancel)|/result/chunks/(?P<chunk>[^/]+))?/?$"
)
_STORAGE_ROUTE = re.compile(r"^/storage/results/(?P<id>[^/]+)/chunk-(?P<chunk>\d+)\.(?P<ext>\w+)$")
_SELECT_LITERAL = re.compile(r"^\s*SELECT\s+(-?\d{1,10})\s*;?\s*$", re.IGNORECASE)
_PYTHON = re.compile(r"^\s*(import\s|print\()")
_FAIL_MAGIC = re.compile(r"^\s*FAIL:\s*(?P<message>.*)$", re.DOTALL)
_MARKER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_NOT_CODE = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|--[^\n]*|/\*.*?\*/", re.DOTALL
)
_OAUTH_SCOPES = frozenset({"all-apis", "sql", "offline_access", "openid", "profile", "email"})
_EXTENSIONS = {"JSON_ARRAY": "json", "CSV": "csv", "ARROW_STREAM": "arrow"}
_CONTENT_TYPES = {
    "JSON_ARRAY": "application/json",
    "CSV": "text/csv",
    "ARROW_STREAM": "application/vnd.apache.arrow.stream",
}
_JETTY_401 = (
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
    "<title>Error 401 Unauthorized</title>\n</head>\n<body><h2>HTTP ERROR 401</h2>\n"
    "<p>Problem accessing {path}. Reason:\n<pre>    Unauthorized</pre></p>\n</body>\n</html>\n"
)
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


# -- public records ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementParameter:
    """One named parameter as the client sent it: ``value`` is the wire string (None for SQL
    NULL), ``type`` the declared SQL type (``STRING`` when omitted)."""

    name: str
    value: str | None
    type: str = "STRING"


@dataclass(frozen=True)
class StatementInfo:
    """What the fake knows about one submitted statement (a snapshot; ask
    :meth:`FakeDatabricks.statement` again for fresh counters)."""

    statement_id: str
    statement: str
    parameters: tuple[StatementParameter, ...]
    warehouse_id: str
    catalog: str | None
    schema: str | None
    disposition: str
    format: str
    wait_timeout: str
    on_wait_timeout: str
    row_limit: int | None
    byte_limit: int | None
    query_tags: tuple[tuple[str, str | None], ...]
    state: str
    """PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED or CLOSED as the next poll would see it
    (taking this snapshot does not count as a poll)."""
    polls: int
    """``GET /statements/{id}`` requests answered."""
    cancels: int
    """``POST /statements/{id}/cancel`` requests received (a client cancelling on timeout)."""
    canceled_by: Literal["client", "wait_timeout"] | None
    """Who moved the statement to CANCELED, if anyone."""
    chunk_requests: int
    """``GET /statements/{id}/result/chunks/{n}`` requests answered (errors included)."""
    downloads: int
    """EXTERNAL_LINKS downloads served (refused ones not counted)."""
    submitted_at: float
    """Epoch seconds on the fake's wall clock."""

    @property
    def parameter_values(self) -> dict[str, str | None]:
        """Parameter name → wire value."""
        return {p.name: p.value for p in self.parameters}


@dataclass(frozen=True)
class OAuthToken:
    """An OAuth access token the fake issued (epoch seconds on the fake's wall clock)."""

    access_token: str
    client_id: str
    scope: str
    grant_type: str
    issued_at: float
    expires_at: float


# -- SQL types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Type:
    name: str
    text: str
    precision: int | None = None
    scale: int | None = None
    interval: str | None = None
    element: _Type | None = None
    key: _Type | None = None
    value: _Type | None = None
    fields: tuple[tuple[str, _Type], ...] = ()


_SIMPLE_TYPES: dict[str, tuple[str, str]] = {
    "BIGINT": ("LONG", "BIGINT"),
    "LONG": ("LONG", "BIGINT"),
    "INT": ("INT", "INT"),
    "INTEGER": ("INT", "INT"),
    "SMALLINT": ("SHORT", "SMALLINT"),
    "SHORT": ("SHORT", "SMALLINT"),
    "TINYINT": ("BYTE", "TINYINT"),
    "BYTE": ("BYTE", "TINYINT"),
    "BOOLEAN": ("BOOLEAN", "BOOLEAN"),
    "FLOAT": ("FLOAT", "FLOAT"),
    "REAL": ("FLOAT", "FLOAT"),
    "DOUBLE": ("DOUBLE", "DOUBLE"),
    "STRING": ("STRING", "STRING"),
    "DATE": ("DATE", "DATE"),
    "TIMESTAMP": ("TIMESTAMP", "TIMESTAMP"),
    "BINARY": ("BINARY", "BINARY"),
    "VOID": ("NULL", "VOID"),
    "NULL": ("NULL", "VOID"),
}
_INTERVAL_UNITS = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND")
_INTEGER_RANGES = {
    "BYTE": (-(2**7), 2**7 - 1),
    "SHORT": (-(2**15), 2**15 - 1),
    "INT": (-(2**31), 2**31 - 1),
    "LONG": (-(2**63), 2**63 - 1),
}
_SUPPORTED_TYPES = (
    "BIGINT, INT, SMALLINT, TINYINT, BOOLEAN, FLOAT, DOUBLE, DECIMAL(p,s), STRING, CHAR(n), "
    "VARCHAR(n), DATE, TIMESTAMP, BINARY, VOID, INTERVAL <qualifier>, ARRAY<T>, MAP<K,V>, "
    "STRUCT<name: T, ...>"
)


class _TypeParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def parse(self) -> _Type:
        parsed = self.type()
        self.space()
        if self.at != len(self.text):
            self.fail("unexpected text")
        return parsed

    def fail(self, what: str) -> None:
        raise ValueError(
            f"cannot read the SQL type {self.text!r}: {what} at position {self.at}; "
            f"supported: {_SUPPORTED_TYPES}"
        )

    def space(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def peek(self) -> str:
        self.space()
        return self.text[self.at] if self.at < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            self.fail(f"expected {char!r}")
        self.at += 1

    def word(self) -> str:
        self.space()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.text, self.at)
        if match is None:
            self.fail("expected a name")
            raise AssertionError  # unreachable: fail raises
        self.at = match.end()
        return match.group()

    def number(self) -> int:
        self.space()
        match = re.compile(r"\d+").match(self.text, self.at)
        if match is None:
            self.fail("expected a number")
            raise AssertionError
        self.at = match.end()
        return int(match.group())

    def field_name(self) -> str:
        if self.peek() == "`":
            end = self.text.find("`", self.at + 1)
            if end < 0:
                self.fail("unterminated `name`")
            name = self.text[self.at + 1 : end]
            self.at = end + 1
            return name
        return self.word()

    def type(self) -> _Type:
        word = self.word().upper()
        if word == "ARRAY":
            self.expect("<")
            element = self.type()
            self.expect(">")
            return _Type("ARRAY", f"ARRAY<{element.text}>", element=element)
        if word == "MAP":
            self.expect("<")
            key = self.type()
            self.expect(",")
            value = self.type()
            self.expect(">")
            return _Type("MAP", f"MAP<{key.text}, {value.text}>", key=key, value=value)
        if word == "STRUCT":
            self.expect("<")
            fields: list[tuple[str, _Type]] = []
            while self.peek() != ">":
                name = self.field_name()
                if self.peek() == ":":
                    self.at += 1
                fields.append((name, self.type()))
                if self.peek() != ",":
                    break
                self.at += 1
            self.expect(">")
            inner = ", ".join(f"{_quote_name(name)}: {t.text}" for name, t in fields)
            return _Type("STRUCT", f"STRUCT<{inner}>", fields=tuple(fields))
        if word in ("DECIMAL", "DEC", "NUMERIC"):
            precision, scale = 10, 0
            if self.peek() == "(":
                self.at += 1
                precision = self.number()
                if self.peek() == ",":
                    self.at += 1
                    scale = self.number()
                self.expect(")")
            if not 1 <= precision <= 38 or not 0 <= scale <= precision:
                self.fail(f"DECIMAL({precision},{scale}) needs 1 <= p <= 38 and 0 <= s <= p")
            return _Type(
                "DECIMAL", f"DECIMAL({precision},{scale})", precision=precision, scale=scale
            )
        if word in ("CHAR", "VARCHAR"):
            self.expect("(")
            length = self.number()
            self.expect(")")
            return _Type("CHAR" if word == "CHAR" else "STRING", f"{word}({length})")
        if word == "INTERVAL":
            units = [self.word().upper()]
            if self.peek().upper() == "T":
                if self.word().upper() != "TO":
                    self.fail("expected TO")
                units.append(self.word().upper())
            if any(unit not in _INTERVAL_UNITS for unit in units):
                self.fail(f"unknown interval unit in {' TO '.join(units)}")
            qualifier = " TO ".join(units)
            return _Type("INTERVAL", f"INTERVAL {qualifier}", interval=qualifier)
        if word in _SIMPLE_TYPES:
            name, text = _SIMPLE_TYPES[word]
            return _Type(name, text)
        self.fail(f"unknown type {word}")
        raise AssertionError


def _quote_name(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_]\w*", name) else f"`{name}`"


def _parse_type(text: str) -> _Type:
    return _TypeParser(text).parse()


# -- value rendering -----------------------------------------------------------------------------


def _java_double(value: float) -> str:
    """``value`` as Java's ``Double.toString`` writes it (Spark's cast of a double to string)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text else f"{text}.0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    scientific = exponent + len(digit_tuple) - 1
    return f"{'-' if sign else ''}{digits[0]}.{digits[1:] or '0'}E{scientific}"


def _timestamp_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    fraction = (
        f"{value.microsecond // 1000:03d}"
        if value.microsecond % 1000 == 0
        else f"{value.microsecond:06d}"
    )
    return f"{value.strftime('%Y-%m-%dT%H:%M:%S')}.{fraction}Z"


def _interval_text(sql_type: _Type, value: timedelta) -> str:
    if sql_type.interval != "DAY TO SECOND":
        raise TypeError(
            f"a timedelta renders only as INTERVAL DAY TO SECOND, not {sql_type.text}; "
            "give the value as a str"
        )
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = f".{value.microseconds:06d}".rstrip("0").rstrip(".")
    body = f"{sign}{value.days} {hours:02d}:{minutes:02d}:{seconds:02d}{fraction}"
    return f"INTERVAL '{body}' DAY TO SECOND"


def _decimal_text(sql_type: _Type, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise TypeError(f"{sql_type.text} takes a Decimal, int or float, got {value!r}")
    scale = sql_type.scale or 0
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{sql_type.text} cannot hold {value!r}")
    quantized = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    if len(quantized.as_tuple().digits) > (sql_type.precision or 10) and quantized != 0:
        raise ValueError(f"{value!r} does not fit {sql_type.text}")
    return format(quantized, "f")


def _scalar_text(sql_type: _Type, value: Any) -> str:
    """The JSON_ARRAY string of a non-null, non-str scalar value."""
    name = sql_type.name
    if name == "BOOLEAN":
        if not isinstance(value, bool):
            raise TypeError(f"BOOLEAN takes a bool, got {value!r}")
        return "true" if value else "false"
    if name in _INTEGER_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{sql_type.text} takes an int, got {value!r}")
        low, high = _INTEGER_RANGES[name]
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range for {sql_type.text}")
        return str(value)
    if name in ("FLOAT", "DOUBLE"):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise TypeError(f"{sql_type.text} takes a float, got {value!r}")
        return _java_double(float(value))
    if name == "DECIMAL":
        return _decimal_text(sql_type, value)
    if name == "DATE":
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"DATE takes a datetime.date, got {value!r}")
        return value.isoformat()
    if name == "TIMESTAMP":
        if not isinstance(value, datetime):
            raise TypeError(f"TIMESTAMP takes a datetime.datetime, got {value!r}")
        return _timestamp_text(value)
    if name == "BINARY":
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"BINARY takes bytes, got {value!r}")
        return base64.b64encode(bytes(value)).decode("ascii")
    if name == "INTERVAL":
        if not isinstance(value, timedelta):
            raise TypeError(f"{sql_type.text} takes a timedelta or a str, got {value!r}")
        return _interval_text(sql_type, value)
    if name == "NULL":
        raise TypeError(f"VOID holds only None, got {value!r}")
    raise TypeError(f"{sql_type.text} takes a str, got {value!r}")


_QUOTED_IN_JSON = frozenset({"STRING", "CHAR", "DATE", "TIMESTAMP", "BINARY", "INTERVAL"})


def _json_text(sql_type: _Type, value: Any) -> str:
    """A (nested) value as the compact JSON Spark writes for complex types."""
    if value is None:
        return "null"
    name = sql_type.name
    if name == "ARRAY":
        assert sql_type.element is not None
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise TypeError(f"{sql_type.text} takes a sequence, got {value!r}")
        return "[" + ",".join(_json_text(sql_type.element, item) for item in value) + "]"
    if name == "MAP":
        assert sql_type.key is not None
        assert sql_type.value is not None
        if not isinstance(value, Mapping):
            raise TypeError(f"{sql_type.text} takes a mapping, got {value!r}")
        pairs = []
        for key, item in value.items():
            if key is None:
                raise ValueError(f"{sql_type.text} keys cannot be null")
            key_text = key if isinstance(key, str) else _render(sql_type.key, key)
            pairs.append(f"{json.dumps(key_text, ensure_ascii=False)}:")
            pairs[-1] += _json_text(sql_type.value, item)
        return "{" + ",".join(pairs) + "}"
    if name == "STRUCT":
        names = [field_name for field_name, _ in sql_type.fields]
        if isinstance(value, Mapping):
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(f"{sorted(unknown)} are not fields of {sql_type.text}")
            items = [value.get(field_name) for field_name in names]
        elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
            if len(value) != len(names):
                raise ValueError(f"{sql_type.text} has {len(names)} fields, got {value!r}")
            items = list(value)
        else:
            raise TypeError(f"{sql_type.text} takes a mapping or a sequence, got {value!r}")
        members = [
            f"{json.dumps(field_name, ensure_ascii=False)}:{_json_text(field_type, item)}"
            for (field_name, field_type), item in zip(sql_type.fields, items, strict=True)
        ]
        return "{" + ",".join(members) + "}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if name in _QUOTED_IN_JSON else value
    text = _scalar_text(sql_type, value)
    if name in _QUOTED_IN_JSON or text in ("NaN", "Infinity", "-Infinity"):
        return json.dumps(text, ensure_ascii=False)
    return text


def _render(sql_type: _Type, value: Any) -> str | None:
    """One value as it appears in a JSON_ARRAY ``data_array``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if sql_type.name in ("ARRAY", "MAP", "STRUCT"):
        return _json_text(sql_type, value)
    return _scalar_text(sql_type, value)


# -- parameters ----------------------------------------------------------------------------------


class _CastError(ValueError):
    pass


def _cast_parameter(parameter: StatementParameter, sql_type: _Type) -> Any:
    """A parameter's typed Python value (what a callable result receives)."""
    value = parameter.value
    if value is None:
        return None
    text = value.strip()
    try:
        if sql_type.name in _INTEGER_RANGES:
            number = int(text)
            low, high = _INTEGER_RANGES[sql_type.name]
            if not low <= number <= high:
                raise _CastError(value)
            return number
        if sql_type.name in ("FLOAT", "DOUBLE"):
            return float(text)
        if sql_type.name == "DECIMAL":
            return Decimal(text)
        if sql_type.name == "BOOLEAN":
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise _CastError(value)
            return lowered == "true"
        if sql_type.name == "DATE":
            return date.fromisoformat(text)
        if sql_type.name == "TIMESTAMP":
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
            return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed
        if sql_type.name == "NULL":
            raise _CastError(value)
    except (ValueError, InvalidOperation) as error:
        raise _CastError(value) from error
    return value


def _markers(statement: str) -> list[str]:
    """Named parameter markers outside string literals, quoted names and comments, in order."""
    code = _NOT_CODE.sub(" ", statement)
    return list(dict.fromkeys(_MARKER.findall(code)))


# -- scripting internals -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Progression:
    pending_polls: int = 0
    running_polls: int = 0
    pending_seconds: float = 0.0
    running_seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("pending_polls", "running_polls", "pending_seconds", "running_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class _Failure:
    error_code: str
    message: str
    sql_state: str | None


@dataclass(frozen=True)
class _Column:
    name: str
    type: _Type


RowsSource = Iterable[Sequence[Any] | Mapping[str, Any]]


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    progression: _Progression
    times: int | None
    columns: tuple[_Column, ...] = ()
    rows: RowsSource | Callable[[dict[str, Any]], RowsSource] = ()
    rows_per_chunk: int | None = None
    failure: _Failure | None = None
    # Static rows, rendered once when scripted (rendered, values, compact JSON size of each
    # row), and the EXTERNAL_LINKS payloads made from them per (format, chunk size): a large
    # scripted result then costs its statements nothing but serving the bytes.
    prepared: tuple[list[list[str | None]], list[list[Any]], list[int]] | None = None
    contents: dict[tuple[str, int], list[bytes]] = field(default_factory=dict)


@dataclass
class _Result:
    columns: tuple[_Column, ...]
    rendered: list[list[str | None]]
    values: list[list[Any]]
    truncated: bool
    chunks: list[tuple[int, int]]  # (row_offset, row_count)
    contents: list[bytes] = field(default_factory=list)  # EXTERNAL_LINKS payload per chunk


@dataclass
class _Statement:
    statement_id: str
    text: str
    parameters: tuple[StatementParameter, ...]
    warehouse_id: str
    catalog: str | None
    schema: str | None
    disposition: str
    format: str
    wait_timeout: str
    on_wait_timeout: str
    row_limit: int | None
    byte_limit: int | None
    query_tags: tuple[tuple[str, str | None], ...]
    progression: _Progression
    result: _Result | None
    failure: _Failure | None
    submitted_at: float
    phase_start: float
    state: str = "PENDING"
    phase_polls: int = 0
    polls_met_at: float | None = None
    finished_at: float | None = None  # wall clock
    forgotten: bool = False
    polls: int = 0
    cancels: int = 0
    canceled_by: Literal["client", "wait_timeout"] | None = None
    chunk_requests: int = 0
    downloads: int = 0


@dataclass
class _IssuedAccess:
    record: OAuthToken
    revoked: bool = False


@dataclass
class _Refresh:
    client_id: str
    scope: str
    revoked: bool = False


class FakeDatabricks(FakeServer):
    """A fake Databricks workspace with one SQL warehouse (see the module documentation for
    routes, checks and wire shapes).

    ``token``: the accepted PAT (may be changed; the old one is then refused). ``warehouse_id``:
    the known warehouse (:attr:`warehouse_ids` may hold more). ``workspace_id``, ``account_id``
    and ``cloud`` are reported by ``/.well-known/databricks-config``. ``clients``: service
    principals (application id → OAuth secret) for OAuth M2M; ``expires_in``: lifetime in seconds
    of the OAuth access tokens issued from now on. ``rows_per_chunk``: default chunk size of
    results. ``unmatched``: ``"fail"`` (default) or ``"empty"`` for statements no rule matches.
    ``time_scale``: real seconds per second of the warehouse clock (statement durations and
    ``wait_timeout``). ``link_ttl``: seconds an EXTERNAL_LINKS URL stays valid (at most 900 on
    the real service); ``link_headers``: headers the downloads must carry, reported in each
    link's ``http_headers`` (none by default, and then the field is absent). ``result_ttl`` and
    ``statement_ttl``: seconds after which a finished statement turns CLOSED or is gone (404).

    The wall clock (token and link expiry, TTLs, ``expiration`` fields) is ``time.time()`` plus
    everything :meth:`advance` added.

    Thread-safe, like every :class:`FakeServer`.
    """

    def __init__(
        self,
        *,
        tls: bool = False,
        token: str = DEFAULT_TOKEN,
        warehouse_id: str = DEFAULT_WAREHOUSE_ID,
        workspace_id: str = DEFAULT_WORKSPACE_ID,
        account_id: str = "9a8b7c6d-0000-4000-8000-00000000dbc1",
        cloud: str = "AWS",
        clients: Mapping[str, str] | None = None,
        expires_in: int = 3600,
        rows_per_chunk: int = 1000,
        unmatched: Literal["fail", "empty"] = "fail",
        time_scale: float = 1.0,
        link_ttl: int = 900,
        link_headers: Mapping[str, str] | None = None,
        result_ttl: float = 3600.0,
        statement_ttl: float = 12 * 3600.0,
    ) -> None:
        super().__init__(tls=tls)
        if rows_per_chunk < 1:
            raise ValueError(f"rows_per_chunk must be >= 1, got {rows_per_chunk}")
        if time_scale <= 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale}")
        if unmatched not in ("fail", "empty"):
            raise ValueError(f"unmatched must be 'fail' or 'empty', got {unmatched!r}")
        self.token = token
        """The accepted personal access token."""
        self.warehouse_ids: set[str] = {warehouse_id}
        """The warehouses that exist (may be changed)."""
        self._warehouse_id = warehouse_id
        self.workspace_id = workspace_id
        self.account_id = account_id
        self.cloud = cloud
        self.clients: dict[str, str] = dict(
            clients if clients is not None else {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
        )
        """Service principal application id → OAuth secret (may be changed)."""
        self.expires_in = expires_in
        """Lifetime in seconds of the OAuth access tokens issued from now on."""
        self.rows_per_chunk = rows_per_chunk
        """Rows per result chunk, unless a rule says otherwise."""
        self.unmatched: Literal["fail", "empty"] = unmatched
        self.time_scale = time_scale
        """Real seconds per warehouse-clock second (set it before submitting statements)."""
        self.link_ttl = link_ttl
        self.link_headers: dict[str, str] = dict(link_headers or {})
        self.result_ttl = result_ttl
        self.statement_ttl = statement_ttl
        self.inline_byte_limit = INLINE_BYTE_LIMIT
        """INLINE results larger than this (compact JSON bytes of the rows) FAIL; lower it to
        test the behaviour without building 25 MiB."""
        self._offset = 0.0
        self._changed = threading.Condition(self._lock)
        self._rules: list[_Rule] = []
        self._statements: dict[str, _Statement] = {}
        self._key = secrets.token_bytes(32)
        self._access: dict[str, _IssuedAccess] = {}
        self._refresh: dict[str, _Refresh] = {}

    # -- configuration -------------------------------------------------------------------------

    @property
    def warehouse_id(self) -> str:
        """The warehouse the fake was created with."""
        return self._warehouse_id

    @property
    def client_id(self) -> str:
        """The first known service principal (the default one unless ``clients`` said
        otherwise)."""
        return next(iter(self.clients))

    @property
    def client_secret(self) -> str:
        """Its OAuth secret."""
        return self.clients[self.client_id]

    @property
    def token_url(self) -> str:
        """``{url}/oidc/v1/token``."""
        return f"{self.url}/oidc/v1/token"

    def now(self) -> float:
        """The fake's wall clock: epoch seconds, ``time.time()`` plus what :meth:`advance`
        added."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Moves the wall clock and the warehouse clock forward: tokens and links expire,
        statements progress by their durations, finished ones turn CLOSED after
        ``result_ttl`` and are gone after ``statement_ttl``."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        with self._lock:
            for statement in self._statements.values():
                self._observe(statement)
            self._offset += seconds
            for statement in self._statements.values():
                self._observe(statement)
            self._changed.notify_all()

    # -- scripting -----------------------------------------------------------------------------

    def add_table(
        self,
        pattern: str | re.Pattern[str],
        columns: Iterable[tuple[str, str]] | Mapping[str, str] = (),
        rows: RowsSource | Callable[[dict[str, Any]], RowsSource] = (),
        *,
        rows_per_chunk: int | None = None,
        pending_polls: int = 0,
        running_polls: int = 0,
        pending_seconds: float = 0.0,
        running_seconds: float = 0.0,
        times: int | None = None,
    ) -> None:
        """Statements whose text matches ``pattern`` (``re.search``, the parameter markers
        still in the text) succeed with this result.

        ``columns``: ``(name, SQL type)`` pairs, e.g. ``[("id", "BIGINT"), ("price",
        "DECIMAL(10,2)"), ("tags", "ARRAY<STRING>")]``; empty for a statement without a result
        set (DDL). ``rows``: sequences (one value per column) or mappings (column name →
        value, missing ones null) of Python values, rendered as the service renders them (see
        the module documentation); or a callable receiving the statement's parameters as typed
        Python values (name → int, float, Decimal, bool, date, datetime, str or None, by the
        declared type) and returning the rows. Static rows are checked against the column
        types now (TypeError/ValueError); a callable's when a statement runs.

        ``rows_per_chunk`` overrides the fake's chunk size. Progression: the statement answers
        ``pending_polls`` polls with PENDING and then ``running_polls`` with RUNNING, and stays
        in each state at least ``pending_seconds`` / ``running_seconds`` of the warehouse clock
        (counted from the end of the previous state). ``times``: the rule answers that many
        statements and is then dropped (None: forever). Rules are tried in the order they were
        added."""
        parsed = [_Column(name, _parse_type(text)) for name, text in _pairs(columns)]
        names = [column.name for column in parsed]
        if len(set(names)) != len(names):
            raise ValueError(f"column names must be distinct, got {names}")
        if rows_per_chunk is not None and rows_per_chunk < 1:
            raise ValueError(f"rows_per_chunk must be >= 1, got {rows_per_chunk}")
        prepared = None
        if not callable(rows):
            rows = list(rows)
            # rendered now: a bad value fails in the test that scripted it
            rendered, values = _render_rows(tuple(parsed), rows)
            prepared = (rendered, values, [len(_compact(row)) + 1 for row in rendered])
        self._add_rule(
            _Rule(
                re.compile(pattern),
                _Progression(pending_polls, running_polls, pending_seconds, running_seconds),
                _check_times(times),
                columns=tuple(parsed),
                rows=rows,
                rows_per_chunk=rows_per_chunk,
                prepared=prepared,
            )
        )

    def fail_statement(
        self,
        pattern: str | re.Pattern[str],
        *,
        error_code: str = "BAD_REQUEST",
        message: str = "[INTERNAL_ERROR] The statement failed.",
        sql_state: str | None = None,
        pending_polls: int = 0,
        running_polls: int = 0,
        pending_seconds: float = 0.0,
        running_seconds: float = 0.0,
        times: int | None = None,
    ) -> None:
        """Statements whose text matches ``pattern`` end FAILED (HTTP 200) with
        ``status.error = {"error_code", "message"}`` and ``status.sql_state``. The service's
        error codes: ABORTED, ALREADY_EXISTS, BAD_REQUEST, CANCELLED, DEADLINE_EXCEEDED,
        INTERNAL_ERROR, IO_ERROR, NOT_FOUND, RESOURCE_EXHAUSTED, SERVICE_UNDER_MAINTENANCE,
        TEMPORARILY_UNAVAILABLE, UNAUTHENTICATED, UNKNOWN, WORKSPACE_TEMPORARILY_UNAVAILABLE (any
        string is sent). Progression and ``times`` as in :meth:`add_table`."""
        self._add_rule(
            _Rule(
                re.compile(pattern),
                _Progression(pending_polls, running_polls, pending_seconds, running_seconds),
                _check_times(times),
                failure=_Failure(error_code, message, sql_state),
            )
        )

    def clear_rules(self) -> None:
        """Drops every rule added with :meth:`add_table` and :meth:`fail_statement`."""
        with self._lock:
            self._rules.clear()

    def _add_rule(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def error_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        shape: ErrorShape = "standard",
        error_code: str | None = None,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        path: PathFilter = None,
    ) -> None:
        """Answers the next ``n`` matching requests with HTTP ``status`` and an error body of
        the given ``shape`` (cloud-apis.md B1): ``standard`` ``{"error_code": "<CODE>",
        "message"}``; ``numeric`` ``{"error_code": <status>, "message"}``; ``legacy`` (API 1.2)
        ``{"error": message}``; ``text`` ``<CODE>: <message>`` as text/plain; ``html`` an error
        page with the message in ``<pre>``; ``empty`` no body (clients fall back to the reason
        phrase). ``error_code`` and ``message`` default by status (e.g. 503
        ``TEMPORARILY_UNAVAILABLE``). A message containing ``Unexpected error`` is one the
        databricks-sdk retries."""
        default_code, default_message = _DEFAULT_ERRORS.get(
            status, (_phrase(status).upper().replace(" ", "_"), f"{_phrase(status)}.")
        )
        code, text = error_code or default_code, message if message is not None else default_message
        body: bytes
        content_type = "application/json"
        if shape == "standard":
            body = json.dumps({"error_code": code, "message": text}).encode()
        elif shape == "numeric":
            body = json.dumps({"error_code": status, "message": text}).encode()
        elif shape == "legacy":
            body = json.dumps({"error": text}).encode()
        elif shape == "text":
            body, content_type = f"{code}: {text}".encode(), "text/plain; charset=utf-8"
        elif shape == "html":
            page = (
                f"<html><head><title>Error {status} {_phrase(status)}</title></head>"
                f"<body><h2>HTTP ERROR {status}</h2><pre>{xml_escape(text)}</pre></body></html>"
            )
            body, content_type = page.encode(), "text/html; charset=utf-8"
        elif shape == "empty":
            body, content_type = b"", "text/plain"
        else:
            raise ValueError(f"unknown error shape {shape!r}")
        self.fail_next(
            n,
            status,
            body=body,
            headers={"Content-Type": content_type, **(headers or {})},
            path=path,
        )

    # -- statements ----------------------------------------------------------------------------

    @property
    def statements(self) -> list[StatementInfo]:
        """Every statement submitted so far, oldest first."""
        with self._lock:
            return [self._info(s) for s in self._statements.values()]

    @property
    def last_statement(self) -> StatementInfo:
        """The statement submitted last (LookupError when there is none)."""
        with self._lock:
            if not self._statements:
                raise LookupError("no statement has been submitted to the fake")
            return self._info(next(reversed(self._statements.values())))

    def statement(self, statement_id: str) -> StatementInfo:
        """One statement by id (KeyError when the fake never saw it)."""
        with self._lock:
            return self._info(self._statements[statement_id])

    @property
    def downloads(self) -> int:
        """EXTERNAL_LINKS downloads served, over all statements."""
        with self._lock:
            return sum(s.downloads for s in self._statements.values())

    def close_statement(self, statement_id: str) -> None:
        """Makes a SUCCEEDED statement CLOSED now (its result is gone), as after its TTL."""
        with self._lock:
            statement = self._statements[statement_id]
            self._observe(statement)
            if statement.state == "SUCCEEDED":
                statement.state = "CLOSED"

    def forget_statement(self, statement_id: str) -> None:
        """Makes the workspace forget a statement: every call about it is then 404."""
        with self._lock:
            self._statements[statement_id].forgotten = True
            self._changed.notify_all()

    def _info(self, statement: _Statement) -> StatementInfo:
        self._observe(statement)
        return StatementInfo(
            statement_id=statement.statement_id,
            statement=statement.text,
            parameters=statement.parameters,
            warehouse_id=statement.warehouse_id,
            catalog=statement.catalog,
            schema=statement.schema,
            disposition=statement.disposition,
            format=statement.format,
            wait_timeout=statement.wait_timeout,
            on_wait_timeout=statement.on_wait_timeout,
            row_limit=statement.row_limit,
            byte_limit=statement.byte_limit,
            query_tags=statement.query_tags,
            state=statement.state,
            polls=statement.polls,
            cancels=statement.cancels,
            canceled_by=statement.canceled_by,
            chunk_requests=statement.chunk_requests,
            downloads=statement.downloads,
            submitted_at=statement.submitted_at,
        )

    # -- OAuth ---------------------------------------------------------------------------------

    @property
    def issued(self) -> list[OAuthToken]:
        """Every OAuth access token issued so far, oldest first."""
        with self._lock:
            return [issued.record for issued in self._access.values()]

    def issue_access_token(
        self,
        *,
        client_id: str = CLI_CLIENT_ID,
        scope: str = "all-apis offline_access",
        expires_in: int | None = None,
    ) -> str:
        """Issues an OAuth access token directly, without HTTP (a negative ``expires_in``
        gives one that has already expired)."""
        return self._issue(client_id, scope, "direct", expires_in).access_token

    def issue_refresh_token(
        self, *, client_id: str = CLI_CLIENT_ID, scope: str = "all-apis offline_access"
    ) -> str:
        """Issues a refresh token the token endpoint accepts from ``client_id`` (what
        ``databricks auth login`` would have stored)."""
        refresh_token = f"doau{secrets.token_hex(32)}"
        with self._lock:
            self._refresh[refresh_token] = _Refresh(client_id, scope)
        return refresh_token

    def expire_access_tokens(self) -> None:
        """Makes every OAuth access token issued so far invalid (the workspace answers 403)."""
        with self._lock:
            for issued in self._access.values():
                issued.revoked = True

    def revoke_refresh_tokens(self) -> None:
        """Makes every refresh token invalid: a refresh then fails with ``invalid_grant``
        ("Refresh token is invalid"), so the user must log in again."""
        with self._lock:
            for refresh in self._refresh.values():
                refresh.revoked = True

    def write_databrickscfg(
        self,
        path: str | os.PathLike[str],
        *,
        profile: str = "DEFAULT",
        auth_type: Literal["pat", "databricks-cli", "oauth-m2m"] = "pat",
    ) -> Path:
        """Writes (or updates) a ``.databrickscfg`` profile for this fake: ``host`` and
        ``warehouse_id``, plus ``token`` (``pat``), ``auth_type = databricks-cli`` (what
        ``databricks auth login`` writes) or ``client_id``/``client_secret`` (``oauth-m2m``).
        Other profiles in the file are kept. Returns the path."""
        target = Path(path)
        parser = configparser.ConfigParser(interpolation=None)
        if target.exists():
            parser.read(target)
        values = {"host": self.url, "warehouse_id": self.warehouse_id}
        if auth_type == "pat":
            values["token"] = self.token
        elif auth_type == "databricks-cli":
            values["auth_type"] = "databricks-cli"
        elif auth_type == "oauth-m2m":
            values.update(client_id=self.client_id, client_secret=self.client_secret)
        else:
            raise ValueError(f"unknown auth_type {auth_type!r}")
        if profile != "DEFAULT" and not parser.has_section(profile):
            parser.add_section(profile)
        for key, value in values.items():
            parser.set(profile, key, value)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8") as handle:
            parser.write(handle)
        return target

    def write_token_cache(
        self,
        path: str | os.PathLike[str],
        *,
        expired: bool = True,
        profile: str | None = None,
    ) -> Path:
        """Writes ``token-cache.json`` (version 1) as ``databricks auth login`` leaves it, with
        one login for this fake: an access token (already expired when ``expired``, so a client
        must refresh it) and a refresh token for client ``databricks-cli``, keyed by the host
        URL and, when given, also by ``profile``. Existing entries of other hosts are kept;
        the directory is made with mode 0700 and the file written with mode 0600. Returns the
        path."""
        target = Path(path)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        cache: dict[str, Any] = {"version": 1, "tokens": {}}
        if target.exists():
            try:
                loaded = json.loads(target.read_text(encoding="utf-8"))
                if isinstance(loaded, dict) and isinstance(loaded.get("tokens"), dict):
                    cache = loaded
            except ValueError:
                pass
        lifetime = -3600 if expired else self.expires_in
        issued = self._issue(CLI_CLIENT_ID, "all-apis offline_access", "direct", lifetime)
        entry = {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "refresh_token": self.issue_refresh_token(),
            "expiry": _go_time(issued.expires_at),
        }
        cache["tokens"][self.url] = entry
        if profile is not None:
            cache["tokens"][profile] = entry
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(cache, handle, indent=2)
        os.chmod(target, 0o600)
        return target

    def _issue(
        self, client_id: str, scope: str, grant_type: str, expires_in: int | None
    ) -> OAuthToken:
        now = self.now()
        lifetime = self.expires_in if expires_in is None else expires_in
        token_id = secrets.token_hex(16)
        claims = {
            "iss": f"{self.url}/oidc",
            "aud": client_id,
            "sub": client_id,
            "client_id": client_id,
            "scope": scope,
            "iat": int(now),
            "exp": int(now + lifetime),
            "jti": token_id,
        }
        header = {"alg": "HS256", "typ": "JWT", "kid": hashlib.sha256(self._key).hexdigest()[:16]}
        signing_input = f"{_b64json(header)}.{_b64json(claims)}"
        signature = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        record = OAuthToken(
            access_token=f"{signing_input}.{_b64(signature)}",
            client_id=client_id,
            scope=scope,
            grant_type=grant_type,
            issued_at=now,
            expires_at=now + lifetime,
        )
        with self._lock:
            self._access[token_id] = _IssuedAccess(record)
        return record

    def _token_is_valid(self, token: str) -> bool:
        if hmac.compare_digest(token.encode(), self.token.encode()):
            return True
        try:
            header, payload, signature = token.split(".")
            expected = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256)
            if not hmac.compare_digest(_unb64(signature), expected.digest()):
                return False
            token_id = json.loads(_unb64(payload))["jti"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            return False
        with self._lock:
            issued = self._access.get(token_id)
            return (
                issued is not None
                and not issued.revoked
                and issued.record.expires_at > time.time() + self._offset
            )

    # -- clocks and progression ------------------------------------------------------------------

    def _warehouse_now(self) -> float:
        return time.monotonic() / self.time_scale + self._offset

    def _observe(self, statement: _Statement, *, poll: bool = False) -> None:
        """Brings a statement up to date with the clocks (under the lock); a poll counts as
        one answered in the state it then has."""
        now = self._warehouse_now()
        progression = statement.progression
        while statement.state in ("PENDING", "RUNNING"):
            pending = statement.state == "PENDING"
            quota = progression.pending_polls if pending else progression.running_polls
            seconds = progression.pending_seconds if pending else progression.running_seconds
            if statement.phase_polls < quota:
                break
            met = statement.phase_start if quota == 0 else (statement.polls_met_at or now)
            end = max(statement.phase_start + seconds, met)
            if now < end:
                break
            statement.phase_start, statement.phase_polls, statement.polls_met_at = end, 0, None
            if pending:
                statement.state = "RUNNING"
            else:
                statement.state = "FAILED" if statement.failure is not None else "SUCCEEDED"
                statement.finished_at = time.time() + self._offset
        if poll and statement.state in ("PENDING", "RUNNING"):
            statement.phase_polls += 1
            quota = (
                progression.pending_polls
                if statement.state == "PENDING"
                else progression.running_polls
            )
            if statement.phase_polls == quota:
                statement.polls_met_at = now
        if (
            statement.state == "SUCCEEDED"
            and statement.finished_at is not None
            and time.time() + self._offset - statement.finished_at >= self.result_ttl
        ):
            statement.state = "CLOSED"

    def _next_transition(self, statement: _Statement) -> float | None:
        """Warehouse time of the statement's next state change by time alone, if any."""
        progression = statement.progression
        pending = statement.state == "PENDING"
        quota = progression.pending_polls if pending else progression.running_polls
        seconds = progression.pending_seconds if pending else progression.running_seconds
        if statement.phase_polls < quota:
            return None
        met = statement.phase_start if quota == 0 else (statement.polls_met_at or 0.0)
        return max(statement.phase_start + seconds, met)

    def _gone(self, statement: _Statement) -> bool:
        return statement.forgotten or (
            statement.finished_at is not None
            and time.time() + self._offset - statement.finished_at >= self.statement_ttl
        )

    def _cancel(self, statement: _Statement, by: Literal["client", "wait_timeout"]) -> None:
        if statement.state in ("PENDING", "RUNNING"):
            statement.state = "CANCELED"
            statement.canceled_by = by
            statement.finished_at = time.time() + self._offset
            self._changed.notify_all()

    # -- the service ---------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> FakeResponse:
        path = request.path
        if path == "/.well-known/databricks-config" and request.method == "GET":
            return self._host_metadata()
        if path == "/oidc/.well-known/oauth-authorization-server" and request.method == "GET":
            return self._oidc_discovery()
        if path == "/oidc/v1/token":
            return self._token_endpoint(request)
        if path.startswith("/storage/"):
            return self._download(request)
        if not path.startswith("/api/"):
            return _not_found_endpoint(request)
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        if path.rstrip("/") == _STATEMENTS:
            if request.method != "POST":
                return _not_found_endpoint(request)
            return self._execute(request)
        route = _STATEMENT_ROUTE.match(path)
        if route is None:
            return _not_found_endpoint(request)
        statement_id = route["id"]
        if route["cancel"]:
            if request.method != "POST":
                return _not_found_endpoint(request)
            return self._cancel_request(statement_id)
        if route["chunk"] is not None:
            if request.method != "GET":
                return _not_found_endpoint(request)
            return self._chunk_request(statement_id, route["chunk"])
        if request.method != "GET":
            return _not_found_endpoint(request)
        return self._poll(statement_id)

    def _authenticate(self, request: RecordedRequest) -> FakeResponse | None:
        authorization = request.headers.get("Authorization")
        if authorization is None:
            page = _JETTY_401.format(path=xml_escape(request.path))
            return FakeResponse(
                401,
                page.encode(),
                {"Content-Type": "text/html;charset=utf-8", "WWW-Authenticate": "Bearer"},
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and self._token_is_valid(token.strip()):
            return None
        return json_response(
            403,
            {"error_code": 403, "message": "Invalid access token."},
            {"X-Databricks-Reason-Phrase": "Invalid access token."},
        )

    def _host_metadata(self) -> FakeResponse:
        return json_response(
            200,
            {
                "oidc_endpoint": f"{self.url}/oidc",
                "account_id": self.account_id,
                "workspace_id": self.workspace_id,
                "cloud": self.cloud,
                "host_type": "workspace",
            },
        )

    def _oidc_discovery(self) -> FakeResponse:
        return json_response(
            200,
            {
                "issuer": f"{self.url}/oidc",
                "authorization_endpoint": f"{self.url}/oidc/v1/authorize",
                "token_endpoint": self.token_url,
                "jwks_uri": f"{self.url}/oidc/v1/keys",
                "scopes_supported": sorted(_OAUTH_SCOPES),
                "response_types_supported": ["code", "id_token"],
                "grant_types_supported": [
                    "client_credentials",
                    "authorization_code",
                    "refresh_token",
                ],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                    "none",
                ],
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["public"],
            },
        )

    # -- OAuth token endpoint ------------------------------------------------------------------

    def _token_endpoint(self, request: RecordedRequest) -> FakeResponse:
        if request.method != "POST":
            return _oauth_error(400, "invalid_request", "The token endpoint only accepts POST.")
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        form: dict[str, str] = {}
        if content_type == "application/x-www-form-urlencoded":
            parsed = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            form = {name: values[0] for name, values in parsed.items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = _basic_credentials(request.headers.get("Authorization", ""))
        if basic is not None:
            client_id, secret = basic
        grant_type = form.get("grant_type")
        if not grant_type:
            return _oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
        if grant_type == "client_credentials":
            return self._client_credentials(client_id, secret, form.get("scope"))
        if grant_type == "refresh_token":
            return self._refresh_grant(client_id, form.get("refresh_token"))
        return _oauth_error(
            400, "unsupported_grant_type", f"Grant type '{grant_type}' is not supported."
        )

    def _client_credentials(
        self, client_id: str | None, secret: str | None, scope: str | None
    ) -> FakeResponse:
        known = self.clients.get(client_id or "")
        if known is None or not secret or not hmac.compare_digest(secret.encode(), known.encode()):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        scope = scope or "all-apis"
        unknown = [s for s in scope.split() if s not in _OAUTH_SCOPES]
        if unknown:
            return _oauth_error(400, "invalid_scope", f"Invalid scope: {' '.join(unknown)}")
        assert client_id is not None
        issued = self._issue(client_id, scope, "client_credentials", None)
        return _token_response(issued, self.expires_in, scope)

    def _refresh_grant(self, client_id: str | None, refresh_token: str | None) -> FakeResponse:
        if not refresh_token:
            return _oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        with self._lock:
            refresh = self._refresh.get(refresh_token)
        if refresh is None or refresh.revoked or refresh.client_id != (client_id or ""):
            return _oauth_error(400, "invalid_grant", "Refresh token is invalid")
        issued = self._issue(refresh.client_id, refresh.scope, "refresh_token", None)
        response = _token_response(issued, self.expires_in, refresh.scope)
        payload = json.loads(response.body)
        payload["refresh_token"] = refresh_token
        return json_response(200, payload, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    # -- execute -------------------------------------------------------------------------------

    def _execute(self, request: RecordedRequest) -> FakeResponse:
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _api_error(
                400,
                "MALFORMED_REQUEST",
                "Invalid JSON given in the body of the request - expected a map",
            )
        checked = self._check_execute(body)
        if isinstance(checked, FakeResponse):
            return checked
        statement = checked
        with self._lock:
            self._statements[statement.statement_id] = statement
            if statement.wait_timeout == "0s":
                return json_response(200, self._statement_payload(statement))
            deadline = statement.phase_start + int(statement.wait_timeout[:-1])
            while True:
                self._observe(statement)
                now = self._warehouse_now()
                if statement.state in _TERMINAL or statement.forgotten:
                    break
                if now >= deadline:
                    if statement.on_wait_timeout == "CANCEL":
                        self._cancel(statement, "wait_timeout")
                    break
                if self._stopping.is_set():
                    break
                wake = deadline
                transition = self._next_transition(statement)
                if transition is not None:
                    wake = min(wake, transition)
                self._changed.wait(timeout=min(0.25, max(0.0, (wake - now) * self.time_scale)))
            return json_response(200, self._statement_payload(statement))

    def _check_execute(self, body: dict[str, Any]) -> _Statement | FakeResponse:
        text = body.get("statement")
        warehouse_id = body.get("warehouse_id")
        for name, value in (("warehouse_id", warehouse_id), ("statement", text)):
            if value is None or value == "":
                return _invalid(f"{name} is required")
            if not isinstance(value, str):
                return _invalid(f"{name} must be a string")
        assert isinstance(text, str)
        assert isinstance(warehouse_id, str)
        if len(text.encode()) > MAX_STATEMENT_BYTES:
            return _invalid(
                f"statement is {len(text.encode())} bytes; the maximum is {MAX_STATEMENT_BYTES}"
            )
        wait_timeout = body.get("wait_timeout", "10s")
        if not isinstance(wait_timeout, str) or not _WAIT_TIMEOUT.match(wait_timeout):
            return _invalid(
                f"wait_timeout must be 0s or between 5s and 50s (as '<N>s'), got "
                f"{json.dumps(wait_timeout)}"
            )
        on_wait_timeout = body.get("on_wait_timeout", "CONTINUE")
        if on_wait_timeout not in ("CONTINUE", "CANCEL"):
            return _invalid(
                f"on_wait_timeout must be CONTINUE or CANCEL, got {json.dumps(on_wait_timeout)}"
            )
        disposition = body.get("disposition", "INLINE")
        if disposition not in ("INLINE", "EXTERNAL_LINKS"):
            return _invalid(
                f"disposition must be INLINE or EXTERNAL_LINKS, got {json.dumps(disposition)}"
            )
        result_format = body.get("format", "JSON_ARRAY")
        if result_format not in _EXTENSIONS:
            return _invalid(
                f"format must be JSON_ARRAY, ARROW_STREAM or CSV, got {json.dumps(result_format)}"
            )
        if disposition == "INLINE" and result_format != "JSON_ARRAY":
            return _invalid(
                f"{result_format} format is only supported with EXTERNAL_LINKS disposition; "
                "INLINE supports JSON_ARRAY only"
            )
        if result_format == "ARROW_STREAM" and importlib.util.find_spec("pyarrow") is None:
            return _api_error(
                501,
                "NOT_IMPLEMENTED",
                "FakeDatabricks needs the 'pyarrow' package for ARROW_STREAM results: "
                "pip install pyarrow",
            )
        limits: dict[str, int | None] = {}
        for name in ("row_limit", "byte_limit"):
            value = body.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                return _invalid(f"{name} must be a positive integer, got {json.dumps(value)}")
            limits[name] = value
        for name in ("catalog", "schema"):
            if body.get(name) is not None and not isinstance(body.get(name), str):
                return _invalid(f"{name} must be a string")
        parameters = _read_parameters(body.get("parameters"))
        if isinstance(parameters, FakeResponse):
            return parameters
        tags = _read_tags(body.get("query_tags"))
        if isinstance(tags, FakeResponse):
            return tags
        if warehouse_id not in self.warehouse_ids:
            return _api_error(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                f"SQL warehouse {warehouse_id} does not exist.",
            )
        progression, result, failure = self._decide(
            text,
            parameters,
            disposition=disposition,
            result_format=result_format,
            row_limit=limits["row_limit"],
            byte_limit=limits["byte_limit"],
        )
        return _Statement(
            statement_id=_statement_id(),
            text=text,
            parameters=parameters,
            warehouse_id=warehouse_id,
            catalog=body.get("catalog"),
            schema=body.get("schema"),
            disposition=disposition,
            format=result_format,
            wait_timeout=wait_timeout,
            on_wait_timeout=on_wait_timeout,
            row_limit=limits["row_limit"],
            byte_limit=limits["byte_limit"],
            query_tags=tags,
            progression=progression,
            result=result,
            failure=failure,
            submitted_at=self.now(),
            phase_start=self._warehouse_now(),
        )

    def _decide(
        self,
        text: str,
        parameters: tuple[StatementParameter, ...],
        *,
        disposition: str,
        result_format: str,
        row_limit: int | None,
        byte_limit: int | None,
    ) -> tuple[_Progression, _Result | None, _Failure | None]:
        """What a statement will do: its progression, and its result or its failure."""
        rule = self._take_rule(text)
        progression = rule.progression if rule is not None else _Progression()
        bound = {p.name for p in parameters}
        for marker in _markers(text):
            if marker not in bound:
                return progression, None, _unbound(marker)
        values: dict[str, Any] = {}
        for parameter in parameters:
            sql_type = _parse_type(parameter.type)
            try:
                values[parameter.name] = _cast_parameter(parameter, sql_type)
            except _CastError:
                return progression, None, _cast_failure(parameter, sql_type)
        columns: tuple[_Column, ...] = ()
        rows: list[Any] = []
        chunk_size = self.rows_per_chunk
        if rule is not None:
            if rule.failure is not None:
                return progression, None, rule.failure
            columns = rule.columns
            if rule.prepared is None:
                rows = list(rule.rows(dict(values)) if callable(rule.rows) else rule.rows)
            chunk_size = rule.rows_per_chunk or chunk_size
        elif _PYTHON.match(text):
            word = "import" if text.lstrip().startswith("import") else "print"
            return (
                progression,
                None,
                _Failure(
                    "BAD_REQUEST",
                    f"[PARSE_SYNTAX_ERROR] Syntax error at or near '{word}'. SQLSTATE: 42601",
                    "42601",
                ),
            )
        elif (magic := _FAIL_MAGIC.match(text)) is not None:
            return progression, None, _Failure("BAD_REQUEST", magic["message"].strip(), "42000")
        elif (literal := _SELECT_LITERAL.match(text)) is not None:
            number = int(literal.group(1))
            column_type = "INT" if -(2**31) <= number < 2**31 else "BIGINT"
            columns = (_Column(literal.group(1), _parse_type(column_type)),)
            rows = [(number,)]
        elif self.unmatched == "fail":
            excerpt = text if len(text) <= 200 else f"{text[:200]}..."
            return (
                progression,
                None,
                _Failure(
                    "BAD_REQUEST",
                    "[FAKE_NO_RESULT_REGISTERED] FakeDatabricks has no result for this statement; "
                    "script one with add_table() or fail_statement(), or construct the fake with "
                    f"unmatched='empty': {excerpt} SQLSTATE: 42000",
                    "42000",
                ),
            )
        prepared = rule.prepared if rule is not None else None
        sizes: list[int] | None = None
        if prepared is not None:
            rendered, python_rows, sizes = prepared
        else:
            rendered, python_rows = _render_rows(columns, rows)
        truncated = False
        if row_limit is not None and len(rendered) > row_limit:
            rendered, python_rows, truncated = rendered[:row_limit], python_rows[:row_limit], True
            sizes = None if sizes is None else sizes[:row_limit]
        if sizes is None:
            sizes = [len(_compact(row)) + 1 for row in rendered]
        if byte_limit is not None:
            total, keep = 0, 0
            for size in sizes:
                if total + size > byte_limit:
                    break
                total, keep = total + size, keep + 1
            if keep < len(rendered):
                rendered, python_rows, truncated = rendered[:keep], python_rows[:keep], True
                sizes = sizes[:keep]
        if disposition == "INLINE" and sum(sizes) + 1 > self.inline_byte_limit:
            return (
                progression,
                None,
                _Failure(
                    "BAD_REQUEST",
                    "Inline byte limit exceeded. Statements executed with disposition=INLINE can "
                    f"have a result size of at most {self.inline_byte_limit} bytes. Please execute "
                    "the statement with disposition=EXTERNAL_LINKS if you want to download the "
                    "full result.",
                    None,
                ),
            )
        chunks = [
            (offset, min(chunk_size, len(rendered) - offset))
            for offset in range(0, len(rendered), chunk_size)
        ]
        result = _Result(columns, rendered, python_rows, truncated, chunks)
        if disposition == "EXTERNAL_LINKS":
            reusable = rule is not None and prepared is not None and not truncated
            key = (result_format, chunk_size)
            if reusable and rule is not None and key in rule.contents:
                result.contents = rule.contents[key]
            else:
                result.contents = [
                    _chunk_content(result, index, result_format) for index in range(len(chunks))
                ]
                if reusable and rule is not None:
                    rule.contents[key] = result.contents
        return progression, result, None

    def _take_rule(self, text: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.pattern.search(text):
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times == 0:
                            self._rules.remove(rule)
                    return rule
        return None

    # -- poll, cancel, chunks ------------------------------------------------------------------

    def _find(self, statement_id: str) -> _Statement | FakeResponse:
        statement = self._statements.get(statement_id)
        if statement is None or self._gone(statement):
            return _api_error(404, "NOT_FOUND", f"The statement {statement_id} was not found.")
        return statement

    def _poll(self, statement_id: str) -> FakeResponse:
        with self._lock:
            found = self._find(statement_id)
            if isinstance(found, FakeResponse):
                return found
            self._observe(found, poll=True)
            found.polls += 1
            return json_response(200, self._statement_payload(found))

    def _cancel_request(self, statement_id: str) -> FakeResponse:
        with self._lock:
            found = self._find(statement_id)
            if isinstance(found, FakeResponse):
                return found
            found.cancels += 1
            self._observe(found)
            self._cancel(found, "client")
        return FakeResponse(200, b"", {"Content-Type": "application/json"})

    def _chunk_request(self, statement_id: str, raw_index: str) -> FakeResponse:
        with self._lock:
            found = self._find(statement_id)
            if isinstance(found, FakeResponse):
                return found
            found.chunk_requests += 1
            self._observe(found)
            if found.state == "CLOSED":
                return _api_error(
                    404,
                    "NOT_FOUND",
                    f"The result of statement {statement_id} is no longer available (CLOSED).",
                )
            if found.state != "SUCCEEDED" or found.result is None:
                return _api_error(
                    400,
                    "INVALID_STATE",
                    f"Statement {statement_id} is {found.state}; results are available only "
                    "once it has SUCCEEDED.",
                )
            count = len(found.result.chunks)
            if not raw_index.isdigit() or int(raw_index) >= count:
                return _invalid(
                    f"chunk_index {raw_index} is out of range: the result has {count} chunk"
                    f"{'' if count == 1 else 's'}"
                )
            return json_response(200, self._result_data(found, int(raw_index)))

    def _statement_payload(self, statement: _Statement) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "statement_id": statement.statement_id,
            "status": {"state": statement.state},
        }
        if statement.state == "FAILED" and statement.failure is not None:
            failure = statement.failure
            if failure.sql_state is not None:
                payload["status"]["sql_state"] = failure.sql_state
            payload["status"]["error"] = {
                "error_code": failure.error_code,
                "message": failure.message,
            }
        if statement.state == "SUCCEEDED" and statement.result is not None:
            payload["manifest"] = self._manifest(statement)
            if statement.result.chunks:
                payload["result"] = self._result_data(statement, 0)
        return payload

    def _manifest(self, statement: _Statement) -> dict[str, Any]:
        result = statement.result
        assert result is not None
        external = statement.disposition == "EXTERNAL_LINKS"
        columns = []
        for position, column in enumerate(result.columns):
            info: dict[str, Any] = {
                "name": column.name,
                "type_text": column.type.text,
                "type_name": column.type.name,
                "position": position,
            }
            if column.type.name == "DECIMAL":
                info["type_precision"] = column.type.precision
                info["type_scale"] = column.type.scale
            if column.type.interval is not None:
                info["type_interval_type"] = column.type.interval
            columns.append(info)
        schema: dict[str, Any] = {"column_count": len(columns)}
        if columns:
            schema["columns"] = columns
        manifest: dict[str, Any] = {
            "format": statement.format,
            "schema": schema,
            "total_chunk_count": len(result.chunks),
        }
        chunks = []
        for index, (offset, count) in enumerate(result.chunks):
            chunk: dict[str, Any] = {"chunk_index": index, "row_offset": offset, "row_count": count}
            if external:
                chunk["byte_count"] = len(result.contents[index])
            chunks.append(chunk)
        if chunks:
            manifest["chunks"] = chunks
        manifest["total_row_count"] = len(result.rendered)
        if external:
            manifest["total_byte_count"] = sum(len(content) for content in result.contents)
        manifest["truncated"] = result.truncated
        return manifest

    def _result_data(self, statement: _Statement, index: int) -> dict[str, Any]:
        result = statement.result
        assert result is not None
        offset, count = result.chunks[index]
        position: dict[str, Any] = {"chunk_index": index, "row_offset": offset, "row_count": count}
        following: dict[str, Any] = {}
        if index + 1 < len(result.chunks):
            following = {
                "next_chunk_index": index + 1,
                "next_chunk_internal_link": (
                    f"{_STATEMENTS}/{statement.statement_id}/result/chunks/{index + 1}"
                ),
            }
        if statement.disposition == "INLINE":
            return {
                **position,
                "data_array": result.rendered[offset : offset + count],
                **following,
            }
        link = {
            **position,
            "byte_count": len(result.contents[index]),
            **self._presign(statement, index),
            **following,
        }
        return {"external_links": [link]}

    # -- external links ------------------------------------------------------------------------

    def _presign(self, statement: _Statement, index: int) -> dict[str, Any]:
        now = int(self.now())
        stamp = datetime.fromtimestamp(now, timezone.utc)
        amz_date = stamp.strftime("%Y%m%dT%H%M%SZ")
        path = (
            f"/storage/results/{statement.statement_id}/chunk-{index}."
            f"{_EXTENSIONS[statement.format]}"
        )
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"AKIAFAKEDATABRICKS00/{stamp:%Y%m%d}/us-west-2/s3/aws4_request",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(self.link_ttl),
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Signature": self._signature(path, amz_date, str(self.link_ttl)),
        }
        link: dict[str, Any] = {
            "external_link": f"{self.url}{path}?{urlencode(query)}",
            "expiration": _timestamp_text(
                datetime.fromtimestamp(now + self.link_ttl, timezone.utc)
            ),
        }
        if self.link_headers:
            link["http_headers"] = dict(self.link_headers)
        return link

    def _signature(self, path: str, amz_date: str, expires: str) -> str:
        message = f"{path}\n{amz_date}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _download(self, request: RecordedRequest) -> FakeResponse:
        if request.method != "GET":
            return _s3_error(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                {"Method": request.method, "ResourceType": "OBJECT"},
            )
        if "Authorization" in request.headers:
            return _s3_error(
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
            return _s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        expires_at = signed_at.timestamp() + int(expires)
        now = self.now()
        if now >= expires_at:
            return _s3_error(
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
        for name, value in self.link_headers.items():
            if request.headers.get(name) != value:
                return _s3_error(
                    400,
                    "InvalidRequest",
                    "The object was stored using a form of Server Side Encryption. The correct "
                    "parameters must be provided to retrieve the object.",
                )
        route = _STORAGE_ROUTE.match(request.path)
        with self._lock:
            statement = self._statements.get(route["id"]) if route else None
            if statement is not None:
                self._observe(statement)
            if (
                route is None
                or statement is None
                or self._gone(statement)
                or statement.state != "SUCCEEDED"
                or statement.result is None
                or int(route["chunk"]) >= len(statement.result.contents)
            ):
                return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
            statement.downloads += 1
            content = statement.result.contents[int(route["chunk"])]
            content_type = _CONTENT_TYPES[statement.format]
        return FakeResponse(200, content, {"Content-Type": content_type, "ETag": _etag(content)})

    # -- errors --------------------------------------------------------------------------------

    def _error_response(
        self, status: int, request: RecordedRequest, headers: Mapping[str, str]
    ) -> FakeResponse:
        """Scripted failures in the standard shape ``{"error_code", "message"}``: 429
        ``REQUEST_LIMIT_EXCEEDED``, 503 ``TEMPORARILY_UNAVAILABLE``, 500 ``INTERNAL_ERROR``, 400
        ``INVALID_PARAMETER_VALUE``, 401 ``UNAUTHENTICATED``, 403 ``PERMISSION_DENIED``, 404
        ``RESOURCE_DOES_NOT_EXIST``, ...; other statuses their reason phrase as the code."""
        code, message = _DEFAULT_ERRORS.get(
            status, (_phrase(status).upper().replace(" ", "_"), f"{_phrase(status)}.")
        )
        return _api_error(status, code, message)

    def _common_headers(self, request: RecordedRequest) -> dict[str, str]:
        return {"x-request-id": str(uuid.uuid4()), "x-databricks-org-id": self.workspace_id}


# -- helpers -------------------------------------------------------------------------------------


def _pairs(columns: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    if isinstance(columns, Mapping):
        return list(columns.items())
    pairs = []
    for item in columns:
        if isinstance(item, str) or len(item) != 2:
            raise TypeError(f"columns are (name, SQL type) pairs, got {item!r}")
        pairs.append((str(item[0]), str(item[1])))
    return pairs


def _check_times(times: int | None) -> int | None:
    if times is not None and times < 1:
        raise ValueError(f"times must be >= 1 or None, got {times}")
    return times


def _render_rows(
    columns: tuple[_Column, ...], rows: Iterable[Any]
) -> tuple[list[list[str | None]], list[list[Any]]]:
    rendered: list[list[str | None]] = []
    values: list[list[Any]] = []
    names = [column.name for column in columns]
    for number, row in enumerate(rows):
        if isinstance(row, Mapping):
            unknown = set(row) - set(names)
            if unknown:
                raise ValueError(f"row {number}: {sorted(unknown)} are not columns ({names})")
            items = [row.get(name) for name in names]
        elif isinstance(row, Sequence) and not isinstance(row, str | bytes):
            if len(row) != len(columns):
                raise ValueError(
                    f"row {number} has {len(row)} values for {len(columns)} columns: {row!r}"
                )
            items = list(row)
        else:
            raise TypeError(f"row {number} must be a sequence or a mapping, got {row!r}")
        try:
            rendered.append([_render(c.type, v) for c, v in zip(columns, items, strict=True)])
        except (TypeError, ValueError) as error:
            raise type(error)(f"row {number}: {error}") from None
        values.append(items)
    return rendered, values


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _chunk_content(result: _Result, index: int, result_format: str) -> bytes:
    offset, count = result.chunks[index]
    rows = result.rendered[offset : offset + count]
    if result_format == "JSON_ARRAY":
        return _compact(rows).encode()
    if result_format == "CSV":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        if index == 0:
            writer.writerow([column.name for column in result.columns])
        writer.writerows([["null" if v is None else v for v in row] for row in rows])
        return buffer.getvalue().encode()
    return _arrow_stream(result, offset, count)


def _arrow_stream(result: _Result, offset: int, count: int) -> bytes:
    import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]

    def arrow_type(sql_type: _Type) -> Any:
        scalar = {
            "BOOLEAN": pa.bool_(),
            "BYTE": pa.int8(),
            "SHORT": pa.int16(),
            "INT": pa.int32(),
            "LONG": pa.int64(),
            "FLOAT": pa.float32(),
            "DOUBLE": pa.float64(),
            "DATE": pa.date32(),
            "TIMESTAMP": pa.timestamp("us", tz="Etc/UTC"),
            "BINARY": pa.binary(),
            "NULL": pa.null(),
        }
        if sql_type.name == "DECIMAL":
            return pa.decimal128(sql_type.precision or 10, sql_type.scale or 0)
        return scalar.get(sql_type.name, pa.string())

    arrays = []
    for position, column in enumerate(result.columns):
        target = arrow_type(column.type)
        texts = [row[position] for row in result.rendered[offset : offset + count]]
        originals = [row[position] for row in result.values[offset : offset + count]]
        given_as_text = any(isinstance(value, str) for value in originals)
        if column.type.name == "NULL":
            arrays.append(pa.nulls(len(texts)))
        elif target == pa.string():
            arrays.append(pa.array(texts, type=target))
        elif column.type.name == "BINARY":
            arrays.append(
                pa.array([None if t is None else base64.b64decode(t) for t in texts], type=target)
            )
        elif column.type.name in ("DATE", "TIMESTAMP") and not given_as_text:
            arrays.append(pa.array(originals, type=target))
        else:  # numbers, booleans, decimals: Arrow parses the JSON_ARRAY text
            arrays.append(pa.array(texts, type=pa.string()).cast(target))
    names = [column.name for column in result.columns]
    table = pa.Table.from_arrays(arrays, names=names)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def _read_parameters(raw: Any) -> tuple[StatementParameter, ...] | FakeResponse:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return _invalid("parameters must be a list of {name, value, type} objects")
    parameters: list[StatementParameter] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            return _invalid(f"every parameter needs a name: {json.dumps(item)}")
        value = item.get("value")
        if value is not None and not isinstance(value, str):
            return _invalid(f"parameter {item['name']}: value must be a string or null")
        declared = item.get("type") or "STRING"
        if not isinstance(declared, str):
            return _invalid(f"parameter {item['name']}: type must be a string")
        try:
            sql_type = _parse_type(declared)
        except ValueError:
            return _invalid(f"parameter {item['name']}: unknown type {declared!r}")
        if any(p.name == item["name"] for p in parameters):
            return _invalid(f"parameter {item['name']} is given more than once")
        del sql_type  # checked; kept as the client spelled it
        parameters.append(StatementParameter(item["name"], value, declared))
    return tuple(parameters)


def _read_tags(raw: Any) -> tuple[tuple[str, str | None], ...] | FakeResponse:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return _invalid("query_tags must be a list of {key, value} objects")
    tags: list[tuple[str, str | None]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            return _invalid(f"every query tag needs a non-empty key: {json.dumps(item)}")
        value = item.get("value")
        if value is not None and not isinstance(value, str):
            return _invalid(f"query tag {item['key']}: value must be a string or null")
        tags.append((item["key"], value.strip() or None if value is not None else None))
    return tuple(tags[:20])


def _unbound(marker: str) -> _Failure:
    return _Failure(
        "BAD_REQUEST",
        f"[UNBOUND_SQL_PARAMETER] Found the unbound parameter: {marker}. Please, fix `args` and "
        "provide a mapping of the parameter to either a SQL literal or collection constructor "
        "functions such as `map()`, `array()`, `struct()`. SQLSTATE: 42P02",
        "42P02",
    )


def _cast_failure(parameter: StatementParameter, sql_type: _Type) -> _Failure:
    return _Failure(
        "BAD_REQUEST",
        f"[CAST_INVALID_INPUT] The value '{parameter.value}' of the type \"STRING\" cannot be cast "
        f'to "{sql_type.text}" because it is malformed. Correct the value as per the syntax, or '
        "change its target type. Use `try_cast` to tolerate malformed input and return NULL "
        "instead. SQLSTATE: 22018",
        "22018",
    )


def _statement_id() -> str:
    raw = uuid.uuid4().hex
    return f"01ef{raw[4:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"


def _api_error(status: int, error_code: str, message: str) -> FakeResponse:
    """The workspace's standard error body."""
    return json_response(status, {"error_code": error_code, "message": message})


def _invalid(message: str) -> FakeResponse:
    return _api_error(400, "INVALID_PARAMETER_VALUE", message)


def _not_found_endpoint(request: RecordedRequest) -> FakeResponse:
    return _api_error(
        404, "ENDPOINT_NOT_FOUND", f"No API found for '{request.method} {request.path}'"
    )


def _oauth_error(status: int, error: str, description: str) -> FakeResponse:
    return json_response(
        status,
        {"error": error, "error_description": description},
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _token_response(issued: OAuthToken, expires_in: int, scope: str) -> FakeResponse:
    return json_response(
        200,
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": scope,
        },
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _s3_error(
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


def _etag(content: bytes) -> str:
    return f'"{hashlib.md5(content, usedforsecurity=False).hexdigest()}"'


def _go_time(epoch: float) -> str:
    """RFC 3339 with nanoseconds and trailing zeros dropped, in UTC, as Go's ``time.Time``
    marshals it."""
    stamp = datetime.fromtimestamp(epoch, timezone.utc)
    fraction = f"{stamp.microsecond:06d}000".rstrip("0")
    return f"{stamp:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}Z"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64json(value: Mapping[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        return None
    return unquote_plus(client_id), unquote_plus(secret)
