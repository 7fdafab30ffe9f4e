"""A local fake Databricks workspace: the SQL Statement Execution API 2.0, personal access
tokens and the workspace's OAuth endpoints (cloud-apis.md B1-B3), an all-purpose cluster with the
Command Execution API 1.2, Jobs, Workspace, Pipelines and Unity Catalog listings (B4-B8), good
enough for the official ``databricks-sdk`` (``WorkspaceClient``) and for aadap's own Databricks
client.

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

        fake.add_command(r"^run_etl\\(", text="42 rows loaded")
        context = w.command_execution.create_and_wait(cluster_id=fake.cluster_id)
        done = w.command_execution.execute_and_wait(
            cluster_id=fake.cluster_id, context_id=context.id, command="run_etl()"
        )
        assert done.results.data == "42 rows loaded"
        w.command_execution.destroy(cluster_id=fake.cluster_id, context_id=context.id)
        assert fake.live_contexts == []

        job_id = fake.add_job(name="nightly", running_polls=2, notebook_result='{"rows": 3}')
        run = w.jobs.run_now_and_wait(job_id=job_id)  # patch the waiters' time: see below
        assert w.jobs.get_run_output(run.tasks[0].run_id).notebook_output.result == '{"rows": 3}'

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
- The workspace APIs below (clusters, 1.2 commands, jobs, workspace, pipelines, Unity Catalog).
- Any other ``/api/`` path (or a known one with the wrong method): 404 ``ENDPOINT_NOT_FOUND``.

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

**Clusters** (``/api/2.0`` and ``/api/2.1``): ``GET clusters/get?cluster_id=`` (ClusterDetails:
``state``, ``state_message``, ``spark_version``, ``start_time``, ``termination_reason`` when
TERMINATED...; an unknown id is 400 ``INVALID_PARAMETER_VALUE`` "Cluster <id> does not exist")
and ``POST clusters/start`` (TERMINATED → PENDING → RUNNING; another state is 400
``INVALID_STATE``). The fake has one RUNNING cluster, :attr:`FakeDatabricks.cluster_id`; script
more with :meth:`FakeDatabricks.add_cluster` and :meth:`FakeDatabricks.set_cluster_state`.

**Command Execution API 1.2** (``/api/1.2/contexts/{create,status,destroy}``,
``/api/1.2/commands/{execute,status,cancel}``): only the camelCase keys ``clusterId``,
``contextId``, ``commandId`` are read (in bodies and query strings; a request carrying only
``cluster_id`` is refused with a message saying so), and errors are the 1.2 bodies ``{"error":
"..."}``, all HTTP 400: a missing key, an unknown cluster ("Cluster <id> does not exist"), a
cluster that is not RUNNING ("ClusterNotReadyException: ...", which databricks-sdk retries until
its deadline), an unknown or destroyed context, an unknown command, executing in a context that
is not Running, too many live contexts (:attr:`FakeDatabricks.max_contexts`). A context is
``Pending`` for :attr:`FakeDatabricks.context_pending_polls` status polls, then ``Running`` (or
``Error``, :meth:`FakeDatabricks.fail_next_context`). A command is ``Queued``, ``Running``, then
``Finished`` (or ``Error``) with ``results`` chosen when it is executed: see
:meth:`FakeDatabricks.add_command` for rules and the defaults (``print(...)`` → text, ``raise`` or
an unknown name → ``Finished`` + ``resultType: error``, ``TABLE: <json>`` → table, ``FAIL: msg``
→ error). ``commands/cancel`` moves a Queued or Running command to ``Cancelling`` (for
:attr:`FakeDatabricks.cancelling_polls` polls), then ``Cancelled``; ``contexts/destroy`` ends the
context (its unfinished commands become Cancelled; every later call about it fails), and so does
a cluster leaving RUNNING (terminated, restarted, failed) for all of its contexts.
:attr:`FakeDatabricks.live_contexts` lists the contexts a client has not destroyed.

**Jobs** (``/api/2.1/jobs/...`` and ``/api/2.2/jobs/...``, same shapes): ``GET list`` (``limit``
1..100, default 20, else 400; ``name`` exact and case-insensitive; ``expand_tasks``;
``page_token`` → ``next_page_token``/``prev_page_token`` and ``has_more``; the deprecated
``offset``), ``GET get``, ``POST run-now``, ``POST runs/submit`` (one-time runs: ``tasks`` with
distinct ``task_key``, an ``existing_cluster_id`` that exists), ``GET runs/get`` (the Run:
``state.life_cycle_state``/``result_state``/``state_message``, ``status``, ``run_page_url``,
``tasks[]`` with their own ``run_id``; in 2.2 more than 100 tasks are paged with
``next_page_token``), ``GET runs/get-output`` (``notebook_output.result``, ``error``,
``error_trace``, ``logs``, ``metadata``; a multi-task parent id is 400
``INVALID_PARAMETER_VALUE``) and ``POST runs/cancel`` (TERMINATING for
:attr:`FakeDatabricks.run_cancel_polls` polls, then TERMINATED/CANCELED). ``idempotency_token``
(at most 64 characters) gives a repeated run-now/submit the first run's id. Unknown job or run ids
are 400 ``INVALID_PARAMETER_VALUE`` ("Job 123 does not exist."). Script runs with
:meth:`FakeDatabricks.add_job` and :meth:`FakeDatabricks.add_submit`.

**Workspace** (``/api/2.0/workspace/...``): an in-memory tree with ``/``, ``/Users``,
``/Shared`` and ``/Users/<user_name>``. ``list`` (direct children; a notebook or file lists
itself; an empty folder gives ``{}``; ``notebooks_modified_after``), ``get-status``, ``mkdirs``
(an object on the way is 400 ``RESOURCE_ALREADY_EXISTS``), ``delete`` (a non-empty folder needs
``recursive``, else 400 ``DIRECTORY_NOT_EMPTY``), ``import`` (JSON with base64 ``content``, or the
multipart form of databricks-sdk's ``upload``; formats SOURCE (with ``language``), JUPYTER, AUTO
(``.ipynb`` and headed ``.py``/``.sql``/``.scala``/``.r`` become notebooks without the extension,
anything else a FILE), RAW (a FILE); the parent folder must exist (404); an existing path without
``overwrite`` is 400 ``RESOURCE_ALREADY_EXISTS``; over 10 MB is 400 ``MAX_NOTEBOOK_SIZE_EXCEEDED``)
and ``export`` (base64 ``content`` and ``file_type``: SOURCE, JUPYTER, HTML for notebooks, the
bytes of a file; ``direct_download=true`` sends the bytes). A missing path is 404
``RESOURCE_DOES_NOT_EXIST``. Notebooks are stored as the SOURCE export shows them: the
``Databricks notebook source`` header line (added when an import lacks it), cells separated by
``COMMAND ----------`` lines. HTML, DBC and R_MARKDOWN imports and DBC/directory exports are 501
``NOT_IMPLEMENTED``.

**Pipelines** (``/api/2.0/pipelines``): list (key ``statuses``; ``max_results`` 1..100, default
25; ``page_token``; ``filter`` ``name LIKE '...'`` or ``notebook='...'``; ``order_by`` ``id
asc|desc``), get, ``POST {id}/updates`` (start; 409 ``RESOURCE_CONFLICT`` while an update is
active), ``GET {id}/updates`` (newest first, paged), ``GET {id}/updates/{update_id}`` and ``POST
{id}/stop``; unknown ids are 404 ``RESOURCE_DOES_NOT_EXIST``. Updates progress as scripted by
:meth:`FakeDatabricks.add_pipeline`.

**Unity Catalog** (``/api/2.1/unity-catalog``): ``catalogs``, ``schemas?catalog_name=``,
``tables?catalog_name=&schema_name=`` (names sorted; without ``max_results`` everything at once;
``max_results=0`` pages of :attr:`FakeDatabricks.uc_page_size`, a larger value at most that;
negative is 400; ``next_page_token`` until the last page; ``omit_columns``, ``omit_properties``,
``omit_username``), ``catalogs/{name}``, ``schemas/{full_name}``, ``tables/{full_name}`` and
``tables/{full_name}/exists``. Unknown names are 404 ``CATALOG_DOES_NOT_EXIST``,
``SCHEMA_DOES_NOT_EXIST`` or ``TABLE_DOES_NOT_EXIST``. Script them with
:meth:`FakeDatabricks.add_catalog`, :meth:`FakeDatabricks.add_schema` and
:meth:`FakeDatabricks.add_table_info`.

Each of these keeps counters for assertions (polls, cancels, idempotent resubmits, starts,
conflicts) in the snapshots :meth:`FakeDatabricks.cluster`, :meth:`FakeDatabricks.context`,
:meth:`FakeDatabricks.command`, :meth:`FakeDatabricks.run`, :meth:`FakeDatabricks.pipeline`
return. databricks-sdk's waiters (``.result()``) poll with ``time.time()``/``time.sleep()`` of its
service modules, not the Config's clock: to keep tests from sleeping, replace ``time`` in
``databricks.sdk.service.compute``, ``.jobs``, ``.pipelines`` (and ``databricks.sdk.mixins.compute``
for ``ensure_cluster_is_running``) with an object whose ``sleep`` records and advances its
``time``, e.g. with pytest's ``monkeypatch.setattr(module, "time", clock)``.

**Faults**: everything :class:`~aadap.testing.FakeServer` scripts (``throttle_next`` for 429
with ``Retry-After``; ``fail_next(n, 429)`` for one without), with Databricks error bodies, plus
:meth:`FakeDatabricks.error_next` for every error-body variant of B1.

**For CLI-style auth tests**: :meth:`FakeDatabricks.write_databrickscfg` and
:meth:`FakeDatabricks.write_token_cache` write a ``.databrickscfg`` profile and a version-1
``token-cache.json`` pointing at the fake.
"""

from __future__ import annotations

import ast
import base64
import binascii
import builtins
import configparser
import csv
import email.parser
import email.policy
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
    "DEFAULT_CLUSTER_ID",
    "DEFAULT_TOKEN",
    "DEFAULT_UPDATE_STATES",
    "DEFAULT_USER_NAME",
    "DEFAULT_WAREHOUSE_ID",
    "DEFAULT_WORKSPACE_ID",
    "ClusterInfo",
    "CommandInfo",
    "ContextInfo",
    "ErrorShape",
    "FakeDatabricks",
    "NotebookResult",
    "OAuthToken",
    "PipelineInfo",
    "PipelineUpdateInfo",
    "RunInfo",
    "StatementInfo",
    "StatementParameter",
    "WorkspaceObject",
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
DEFAULT_CLUSTER_ID = "0123-456789-abcde123"
"""The id of the one all-purpose cluster (RUNNING) a :class:`FakeDatabricks` has by default."""
DEFAULT_USER_NAME = "user@example.com"
"""The workspace user the fake acts for (creator of jobs, runs, clusters; ``/Users/<name>``)."""

INLINE_BYTE_LIMIT = 25 * 1024 * 1024
"""The service's cap on an INLINE result (26214400 bytes)."""
MAX_STATEMENT_BYTES = 16 * 1024 * 1024
"""The longest statement text accepted."""

DEFAULT_UPDATE_STATES = (
    "QUEUED",
    "CREATED",
    "WAITING_FOR_RESOURCES",
    "INITIALIZING",
    "SETTING_UP_TABLES",
    "RUNNING",
)
"""The states a pipeline update passes through before its final one, unless scripted."""
NotebookResult = str | Mapping[str, str | None] | Callable[[dict[str, str]], str | None] | None
"""What ``dbutils.notebook.exit`` returned in a run's notebook tasks: one value for every task,
a value per task key, or a callable receiving the task's parameters (its ``base_parameters``
overridden by run-now's ``notebook_params``) and returning the value. None: the notebook did not
call exit."""
MAX_WORKSPACE_BYTES = 10 * 1024 * 1024
"""The largest object the Workspace API imports or exports (10 MB)."""
METASTORE_ID = "11111111-2222-4333-8444-555555555555"
"""The id of the fake's Unity Catalog metastore."""

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


@dataclass(frozen=True)
class ClusterInfo:
    """What the fake knows about one all-purpose cluster (a snapshot; ask
    :meth:`FakeDatabricks.cluster` again for fresh counters)."""

    cluster_id: str
    name: str
    state: str
    """PENDING, RUNNING, RESTARTING, RESIZING, TERMINATING, TERMINATED, ERROR or UNKNOWN."""
    state_message: str
    polls: int
    """``clusters/get`` requests answered."""
    starts: int
    """``clusters/start`` requests received (refused ones included)."""


@dataclass(frozen=True)
class ContextInfo:
    """One execution context of the Command Execution API 1.2 (a snapshot)."""

    context_id: str
    cluster_id: str
    language: str
    """``python``, ``scala``, ``sql`` or ``r``."""
    status: str
    """``Pending``, ``Running`` or ``Error`` as the next ``contexts/status`` would say."""
    destroyed_by: Literal["client", "cluster"] | None
    """Who ended the context: ``client`` (``contexts/destroy``), ``cluster`` (the cluster left
    RUNNING: terminated, restarted or failed, which takes its contexts along) or nobody yet.
    Every call about an ended context fails."""
    polls: int
    """``contexts/status`` requests answered."""
    command_ids: tuple[str, ...]
    """The commands executed in it, oldest first."""

    @property
    def destroyed(self) -> bool:
        """Whether the context has ended (see :attr:`destroyed_by`)."""
        return self.destroyed_by is not None


@dataclass(frozen=True)
class CommandInfo:
    """One command of the Command Execution API 1.2 (a snapshot)."""

    command_id: str
    context_id: str
    cluster_id: str
    language: str
    command: str
    """The command text as the client sent it."""
    status: str
    """``Queued``, ``Running``, ``Cancelling``, ``Finished``, ``Cancelled`` or ``Error`` as the
    next ``commands/status`` would say."""
    results: dict[str, Any] | None
    """The ``results`` object a Finished or Error status carries (None: none)."""
    polls: int
    """``commands/status`` requests answered."""
    cancels: int
    """``commands/cancel`` requests received."""


@dataclass(frozen=True)
class RunInfo:
    """One job run (run-now) or one-time run (runs/submit) (a snapshot; ask
    :meth:`FakeDatabricks.run` again for fresh counters)."""

    run_id: int
    job_id: int
    """The job's id; one-time runs get a job id of their own that jobs/list does not show."""
    run_name: str
    run_type: str
    """``JOB_RUN`` (run-now) or ``SUBMIT_RUN`` (runs/submit)."""
    life_cycle_state: str
    """QUEUED, PENDING, RUNNING, TERMINATING, TERMINATED, SKIPPED or INTERNAL_ERROR as the next
    ``runs/get`` would say."""
    result_state: str | None
    state_message: str
    task_run_ids: dict[str, int]
    """Task key → the task's own run id (what ``runs/get-output`` takes)."""
    idempotency_token: str | None
    request: dict[str, Any]
    """The run-now or runs/submit body that created the run."""
    polls: int
    """``runs/get`` requests answered for the run or one of its task runs."""
    cancels: int
    """``runs/cancel`` requests received."""
    resubmits: int
    """Later run-now/submit requests with the same ``idempotency_token`` that were answered
    with this run instead of starting another."""
    api_version: str
    """``2.1`` or ``2.2``: the API prefix that created it."""

    @property
    def notebook_params(self) -> dict[str, str]:
        """run-now's ``notebook_params`` (empty when none were sent)."""
        params = self.request.get("notebook_params") or {}
        return dict(params)


@dataclass(frozen=True)
class WorkspaceObject:
    """One object of the fake workspace tree. ``content``: a notebook's source as exported in
    the SOURCE format (it starts with the ``Databricks notebook source`` header line), a file's
    bytes, nothing for a directory."""

    path: str
    object_type: str
    """``NOTEBOOK``, ``DIRECTORY`` or ``FILE``."""
    object_id: int
    language: str | None
    """PYTHON, SQL, SCALA or R for notebooks."""
    content: bytes
    created_at: float
    modified_at: float
    """Epoch seconds on the fake's wall clock."""

    @property
    def text(self) -> str:
        """``content`` decoded as UTF-8."""
        return self.content.decode("utf-8")


@dataclass(frozen=True)
class PipelineUpdateInfo:
    """One pipeline update (a snapshot)."""

    update_id: str
    pipeline_id: str
    state: str
    """QUEUED ... RUNNING, then COMPLETED, FAILED or CANCELED, as the next get would say."""
    polls: int
    """``GET /pipelines/{id}/updates/{update_id}`` requests answered."""
    cause: str
    full_refresh: bool
    refresh_selection: tuple[str, ...]
    full_refresh_selection: tuple[str, ...]
    validate_only: bool


@dataclass(frozen=True)
class PipelineInfo:
    """One pipeline (a snapshot)."""

    pipeline_id: str
    name: str
    state: str
    """IDLE, RUNNING (an update is active) or STOPPING."""
    health: str
    """HEALTHY, or UNHEALTHY when the last finished update FAILED."""
    updates: tuple[PipelineUpdateInfo, ...]
    """Oldest first."""
    starts: int
    """Start-update requests received (refused ones included)."""
    stops: int
    conflicts: int
    """Start-update requests refused with 409 because an update was active."""


# -- SQL types -------------------------------------------------------------------------------------


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
    ``cluster_id``: the RUNNING all-purpose cluster the fake starts with (None: none).
    ``user_name``: the workspace user. ``context_pending_polls``: status polls a new execution
    context answers with ``Pending``.

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
        cluster_id: str | None = DEFAULT_CLUSTER_ID,
        user_name: str = DEFAULT_USER_NAME,
        context_pending_polls: int = 0,
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
        if context_pending_polls < 0:
            raise ValueError(f"context_pending_polls must be >= 0, got {context_pending_polls}")
        self.user_name = user_name
        """The workspace user (creator of jobs and runs; its home folder is in the workspace)."""
        self.context_pending_polls = context_pending_polls
        """``contexts/status`` polls a new execution context answers with ``Pending`` before it
        is ``Running`` (applies to contexts created from now on)."""
        self.cancelling_polls = 1
        """Polls a cancelled command answers with ``Cancelling`` before it is ``Cancelled``."""
        self.max_contexts = 150
        """Live execution contexts a cluster holds; one more is refused ("Too many execution
        contexts are open right now"), so leaked contexts show up."""
        self.run_cancel_polls = 1
        """``runs/get`` polls a cancelled run answers with TERMINATING before it is
        TERMINATED/CANCELED (0: at once)."""
        self.uc_page_size = 100
        """The Unity Catalog listings' server page length (for ``max_results=0``, which
        databricks-sdk sends by default) and the cap of a larger ``max_results``."""
        self.uc_empty_pages = False
        """When true, every Unity Catalog page with results is preceded by an empty page that
        carries a ``next_page_token``, as the service may send: clients must keep reading until
        the token is absent."""
        self._cluster_id = cluster_id
        self._clusters = _Clusters(self)
        self._commands = _Commands(self)
        self._jobs = _Jobs(self)
        self._workspace = _Workspace(self)
        self._pipelines = _Pipelines(self)
        self._catalog = _Catalog(self)
        if cluster_id is not None:
            self.add_cluster(cluster_id, "RUNNING", name="aadap-test-cluster")

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

    # -- clusters ------------------------------------------------------------------------------

    @property
    def cluster_id(self) -> str:
        """The all-purpose cluster the fake was created with (LookupError when it was created
        with ``cluster_id=None``)."""
        if self._cluster_id is None:
            raise LookupError("this FakeDatabricks was created without a cluster (cluster_id=None)")
        return self._cluster_id

    def add_cluster(
        self,
        cluster_id: str,
        state: str = "RUNNING",
        *,
        name: str | None = None,
        pending_polls: int | None = 1,
        spark_version: str = "15.4.x-scala2.12",
        state_message: str | None = None,
    ) -> None:
        """Adds (or replaces) an all-purpose cluster in ``state``: PENDING, RUNNING,
        RESTARTING, RESIZING, TERMINATING, TERMINATED, ERROR or UNKNOWN.

        A PENDING cluster turns RUNNING after ``pending_polls`` requests about it have been
        answered (``clusters/get``, and 1.2 calls refused because it is not running), both when
        it is added PENDING and after ``clusters/start``; ``pending_polls=None`` keeps it
        PENDING until :meth:`set_cluster_state`. ``state_message`` defaults by state (e.g.
        "Starting Spark")."""
        self._clusters.add(
            cluster_id,
            state,
            name=name,
            pending_polls=pending_polls,
            spark_version=spark_version,
            state_message=state_message,
        )

    def set_cluster_state(self, cluster_id: str, state: str, *, message: str | None = None) -> None:
        """Moves a cluster to ``state`` now (KeyError for an unknown cluster). A cluster that is
        not RUNNING refuses Command Execution calls with ``ClusterNotReadyException``; moving
        to TERMINATING, TERMINATED, RESTARTING, ERROR or UNKNOWN ends its execution contexts
        (``ContextInfo.destroyed_by == "cluster"``), as a driver restart does."""
        self._clusters.set_state(cluster_id, state, message)

    def cluster(self, cluster_id: str) -> ClusterInfo:
        """One cluster by id (KeyError when there is none)."""
        with self._lock:
            return self._clusters.info(self._clusters.clusters[cluster_id])

    # -- Command Execution API 1.2 -----------------------------------------------------------------

    def add_command(
        self,
        pattern: str | re.Pattern[str],
        *,
        text: str | Callable[[str], str] | None = None,
        table: tuple[Sequence[str | tuple[str, str]], Iterable[Sequence[Any]]] | None = None,
        error: tuple[str, str] | None = None,
        status_error: str | tuple[str, str] | None = None,
        image: str | None = None,
        no_results: bool = False,
        truncated: bool = False,
        language: str | None = None,
        queued_polls: int = 0,
        running_polls: int = 0,
        times: int | None = None,
    ) -> None:
        """Commands whose text matches ``pattern`` (``re.search``) get this result; give exactly
        one of:

        - ``text``: ``Finished`` with ``{"resultType": "text", "data": text}``; a callable
          receives the command text and returns the data.
        - ``table=(columns, rows)``: ``Finished`` with ``{"resultType": "table", "data": rows,
          "schema": [...], "truncated", "isJsonSchema": true}``. Columns are names (the Spark
          type inferred from the first non-null value) or ``(name, SQL type)`` pairs such as
          ``("id", "BIGINT")``, ``("tags", "ARRAY<STRING>")``; each schema entry's ``type`` is
          the JSON-encoded Spark type (``"\\"long\\""``). Rows hold typed JSON values (dates and
          timestamps as ISO text, Decimal as a number, bytes base64). ``truncated`` is sent
          as given.
        - ``error=(summary, cause)``: ``Finished`` with ``{"resultType": "error", "summary",
          "cause"}`` (how a Python exception comes back: a failure despite ``Finished``).
        - ``status_error``: status ``Error`` with an error result (a str is both summary and
          cause; or a ``(summary, cause)`` pair).
        - ``image``: ``Finished`` with ``{"resultType": "image", "fileName": image}``.
        - ``no_results=True``: ``Finished`` with no ``results`` at all.

        ``language`` limits the rule to commands of that language (``python``, ``scala``,
        ``sql``, ``r``). The command answers ``queued_polls`` status polls with ``Queued``, then
        ``running_polls`` with ``Running``. ``times``: the rule answers that many commands and
        is then dropped (None: forever). Rules are tried in the order they were added.

        **Without a matching rule** a Python command is read (never executed) by a tiny
        evaluator: ``print(...)`` of literals, f-strings, arithmetic, comparisons and names
        bound by plain assignments earlier in the same context (``x = 2 + 2``; contexts keep
        them across commands), a few pure builtins (``len``, ``str``, ``int``, ``float``,
        ``sum``, ``min``, ``max``, ``sorted``, ``round``, ``abs``, ``repr``, ``bool``, ``list``,
        ``tuple``), imports (ignored) and ``pass`` give ``Finished`` + text of what was printed
        (one trailing newline dropped). ``raise X("msg")`` of a builtin exception, an undefined
        name (``NameError``), ``1/0`` (``ZeroDivisionError``), a failing builtin call
        (``int("x")``: ``ValueError``) or a syntax error give ``Finished`` + ``resultType:
        error`` with an HTML ``summary`` (``<span class='ansi-red-fg'>NameError</span>: name 'x'
        is not defined``) and an IPython-style traceback as ``cause``. A SQL command ``SELECT
        <integer>`` gives a one-cell table. In any language, a command starting with ``TABLE:``
        and a JSON array of arrays (``TABLE: [["id", "name"], [1, "a"]]``, column names first)
        gives that table, and one starting with ``FAIL:`` a ``Finished`` error result with the
        rest of the text as the message. Anything else (``spark``, ``dbutils``, attributes,
        loops, function definitions, other languages) gives ``Finished`` + an error result
        ``[FAKE_NO_RESULT_REGISTERED]`` naming the command, or an empty text result when the
        fake was constructed with ``unmatched="empty"``."""
        given = [
            kind
            for kind, value in (
                ("text", text),
                ("table", table),
                ("error", error),
                ("status_error", status_error),
                ("image", image),
                ("none", True if no_results else None),
            )
            if value is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of text, table, error, status_error, image or no_results=True; "
                f"got {given or 'none'}"
            )
        for name, value in (("queued_polls", queued_polls), ("running_polls", running_polls)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if language is not None and language.lower() not in _LANGUAGES_12:
            raise ValueError(f"language must be one of {_LANGUAGES_12}, got {language!r}")
        kind: CommandKind = given[0]  # type: ignore[assignment]
        rule = _CommandRule(
            re.compile(pattern),
            kind,
            None if language is None else language.lower(),
            queued_polls,
            running_polls,
            _check_times(times),
            truncated=truncated,
        )
        if text is not None:
            rule.text = text
        if table is not None:
            columns, rows = table
            parsed: list[tuple[str, _Type | None]] = []
            for column in columns:
                if isinstance(column, str):
                    parsed.append((column, None))
                else:
                    parsed.append((str(column[0]), _parse_type(str(column[1]))))
            rule.columns = tuple(parsed)
            rule.rows = tuple(tuple(row) for row in rows)
            for number, row in enumerate(rule.rows):
                if len(row) != len(parsed):
                    raise ValueError(
                        f"row {number} has {len(row)} values for {len(parsed)} columns: {row!r}"
                    )
        if error is not None:
            rule.summary, rule.cause = error
        if status_error is not None:
            rule.summary, rule.cause = (
                (status_error, status_error) if isinstance(status_error, str) else status_error
            )
        if image is not None:
            rule.file_name = image
        self._commands.add_rule(rule)

    def clear_command_rules(self) -> None:
        """Drops every rule added with :meth:`add_command`."""
        with self._lock:
            self._commands.rules.clear()

    def fail_next_context(self, n: int = 1) -> None:
        """The next ``n`` contexts created end their Pending phase in ``Error`` instead of
        ``Running`` (the SDK's waiter then fails)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        with self._lock:
            self._commands.failing_contexts += n

    def set_context_status(self, context_id: str, status: Literal["Running", "Error"]) -> None:
        """Moves an existing context to ``Running`` or ``Error`` now (KeyError when unknown)."""
        if status not in ("Running", "Error"):
            raise ValueError(f"status must be 'Running' or 'Error', got {status!r}")
        with self._lock:
            context = self._commands.contexts[context_id]
            context.status, context.phase_polls = status, 0

    @property
    def contexts(self) -> list[ContextInfo]:
        """Every execution context created so far, oldest first (destroyed ones included)."""
        with self._lock:
            return [self._commands.context_info(c) for c in self._commands.contexts.values()]

    @property
    def live_contexts(self) -> list[ContextInfo]:
        """The execution contexts not ended yet (neither destroyed by the client nor lost with
        their cluster), oldest first: empty after a client that cleans up on every path
        (``assert fake.live_contexts == []``)."""
        return [context for context in self.contexts if context.destroyed_by is None]

    @property
    def contexts_created(self) -> int:
        """``contexts/create`` requests that created a context."""
        with self._lock:
            return self._commands.created

    @property
    def contexts_destroyed(self) -> int:
        """``contexts/destroy`` requests that destroyed a context (contexts lost with their
        cluster not counted)."""
        with self._lock:
            return self._commands.destroyed

    def context(self, context_id: str) -> ContextInfo:
        """One execution context by id (KeyError when the fake never saw it)."""
        with self._lock:
            return self._commands.context_info(self._commands.contexts[context_id])

    @property
    def commands(self) -> list[CommandInfo]:
        """Every command executed so far, oldest first."""
        with self._lock:
            return [self._commands.command_info(c) for c in self._commands.commands.values()]

    @property
    def last_command(self) -> CommandInfo:
        """The command executed last (LookupError when there is none)."""
        with self._lock:
            if not self._commands.commands:
                raise LookupError("no command has been executed on the fake")
            return self._commands.command_info(next(reversed(self._commands.commands.values())))

    def command(self, command_id: str) -> CommandInfo:
        """One command by id (KeyError when the fake never saw it)."""
        with self._lock:
            return self._commands.command_info(self._commands.commands[command_id])

    # -- Jobs ----------------------------------------------------------------------------------

    def add_job(
        self,
        job_id: int | None = None,
        name: str = "job",
        *,
        tasks: Sequence[str | Mapping[str, Any]] = ("main",),
        result_state: str = "SUCCESS",
        state_message: str | None = None,
        queued_polls: int = 0,
        pending_polls: int = 0,
        running_polls: int = 0,
        notebook_result: NotebookResult = None,
        error: str | None = None,
        error_trace: str | None = None,
        logs: str | None = None,
        creator_user_name: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> int:
        """Adds a job that jobs/list, jobs/get and run-now know; returns its id (the next free
        one when ``job_id`` is None).

        ``tasks``: task keys (each becomes a notebook task on :attr:`cluster_id` running
        ``/Users/<user>/<name>``) or full task settings (``{"task_key": "etl", "notebook_task":
        {...}, "existing_cluster_id": ...}``). ``settings`` adds to the job settings
        (``{"max_concurrent_runs": 3, "tags": {...}}``); ``name`` and ``tasks`` are put in it.

        Every run of the job answers ``queued_polls`` runs/get polls with QUEUED, then
        ``pending_polls`` with PENDING, then ``running_polls`` with RUNNING, then ends with
        ``result_state``: SUCCESS, FAILED, TIMEDOUT, CANCELED, SUCCESS_WITH_FAILURES,
        UPSTREAM_FAILED, UPSTREAM_CANCELED, EXCLUDED, DISABLED or
        MAXIMUM_CONCURRENT_RUNS_REACHED end TERMINATED with that result state; SKIPPED ends in
        the life cycle state SKIPPED (no result state); INTERNAL_ERROR ends in the life cycle
        state INTERNAL_ERROR with result state FAILED. ``state_message`` defaults by result
        (e.g. "Workload failed, see run output for details"). ``notebook_result`` is what
        runs/get-output reports as ``notebook_output.result`` (see :data:`NotebookResult`);
        ``error``, ``error_trace`` and ``logs`` are reported there too (``error`` defaults to
        the state message of a failed, timed-out or cancelled run)."""
        with self._lock:
            resolved = self._jobs.new_job_id() if job_id is None else job_id
            user = creator_user_name or self.user_name
            task_settings: list[dict[str, Any]] = []
            for task in tasks:
                if isinstance(task, str):
                    spec: dict[str, Any] = {
                        "task_key": task,
                        "notebook_task": {
                            "notebook_path": f"/Users/{self.user_name}/{name}",
                            "source": "WORKSPACE",
                        },
                    }
                    if self._cluster_id is not None:
                        spec["existing_cluster_id"] = self._cluster_id
                else:
                    spec = json.loads(json.dumps(dict(task)))
                    if not isinstance(spec.get("task_key"), str) or not spec["task_key"]:
                        raise ValueError(f"every task needs a task_key, got {task!r}")
                task_settings.append(spec)
            keys = [spec["task_key"] for spec in task_settings]
            if not keys or len(set(keys)) != len(keys):
                raise ValueError(f"a job needs one or more distinct task keys, got {keys}")
            job_settings = {
                "name": name,
                "email_notifications": {},
                "timeout_seconds": 0,
                "max_concurrent_runs": 1,
                "format": "MULTI_TASK",
                "queue": {"enabled": True},
                **json.loads(json.dumps(dict(settings or {}))),
                "tasks": task_settings,
            }
            script = _RunScript(
                result_state,
                state_message,
                queued_polls,
                pending_polls,
                running_polls,
                notebook_result,
                error,
                error_trace,
                logs,
            )
            return self._jobs.add_job(_Job(resolved, name, job_settings, self.now(), user, script))

    def add_submit(
        self,
        pattern: str | re.Pattern[str] | None = None,
        *,
        result_state: str = "SUCCESS",
        state_message: str | None = None,
        queued_polls: int = 0,
        pending_polls: int = 0,
        running_polls: int = 0,
        notebook_result: NotebookResult = None,
        error: str | None = None,
        error_trace: str | None = None,
        logs: str | None = None,
        times: int | None = None,
    ) -> None:
        """Scripts one-time runs (runs/submit) whose ``run_name``, a task's
        ``notebook_task.notebook_path`` or one of its ``base_parameters`` values matches
        ``pattern`` (``re.search``; None matches every submit). The other arguments are those
        of :meth:`add_job`. ``times``: the rule scripts that many runs and is then dropped.
        Rules are tried in the order they were added; without one a one-time run succeeds at
        once with no notebook result."""
        script = _RunScript(
            result_state,
            state_message,
            queued_polls,
            pending_polls,
            running_polls,
            notebook_result,
            error,
            error_trace,
            logs,
        )
        compiled = None if pattern is None else re.compile(pattern)
        with self._lock:
            self._jobs.submit_rules.append(_SubmitRule(compiled, script, _check_times(times)))

    @property
    def runs(self) -> list[RunInfo]:
        """Every run started so far (run-now and runs/submit), oldest first."""
        with self._lock:
            return [self._jobs.info(run) for run in self._jobs.runs.values()]

    @property
    def last_run(self) -> RunInfo:
        """The run started last (LookupError when there is none)."""
        with self._lock:
            if not self._jobs.runs:
                raise LookupError("no run has been started on the fake")
            return self._jobs.info(next(reversed(self._jobs.runs.values())))

    def run(self, run_id: int) -> RunInfo:
        """One run by its id or one of its task runs' ids (KeyError when unknown)."""
        with self._lock:
            if run_id in self._jobs.task_runs:
                return self._jobs.info(self._jobs.task_runs[run_id][0])
            return self._jobs.info(self._jobs.runs[run_id])

    # -- Workspace -----------------------------------------------------------------------------

    def add_notebook(self, path: str, source: str, language: str = "PYTHON") -> None:
        """Puts a notebook at ``path`` (parent folders are made): ``source`` with or without
        the ``Databricks notebook source`` header line (added when missing), ``language``
        PYTHON, SQL, SCALA or R."""
        if language not in _NOTEBOOK_LANGUAGES:
            raise ValueError(
                f"language must be one of {list(_NOTEBOOK_LANGUAGES)}, got {language!r}"
            )
        self._workspace.add(path, "NOTEBOOK", language, source.encode())

    def add_workspace_file(self, path: str, content: bytes | str) -> None:
        """Puts a workspace file (object type FILE) at ``path`` (parent folders are made)."""
        data = content.encode() if isinstance(content, str) else bytes(content)
        self._workspace.add(path, "FILE", None, data)

    def add_workspace_directory(self, path: str) -> None:
        """Makes a directory and its parents, as ``workspace/mkdirs`` does."""
        self._workspace.add(path, "DIRECTORY", None, b"")

    def workspace_object(self, path: str) -> WorkspaceObject:
        """The object at ``path`` (KeyError when there is none)."""
        with self._lock:
            return self._workspace.info(self._workspace.nodes[_check_path(path)])

    @property
    def workspace_paths(self) -> list[str]:
        """Every path of the workspace tree, sorted (``/``, ``/Shared``, ``/Users`` and
        ``/Users/<user_name>`` exist from the start)."""
        with self._lock:
            return sorted(self._workspace.nodes)

    # -- Pipelines -----------------------------------------------------------------------------

    def add_pipeline(
        self,
        pipeline_id: str | None = None,
        name: str = "pipeline",
        *,
        update_states: Sequence[str] = DEFAULT_UPDATE_STATES,
        final: Literal["COMPLETED", "FAILED", "CANCELED"] = "COMPLETED",
        polls_per_state: int = 1,
        stop_polls: int = 1,
        spec: Mapping[str, Any] | None = None,
        creator_user_name: str | None = None,
        cluster_id: str | None = None,
    ) -> str:
        """Adds an IDLE pipeline; returns its id (a new UUID when ``pipeline_id`` is None).

        Each update started on it passes through ``update_states`` (non-final update states:
        QUEUED, CREATED, WAITING_FOR_RESOURCES, INITIALIZING, RESETTING, SETTING_UP_TABLES,
        RUNNING, STOPPING), each answered to ``polls_per_state`` gets of the update or of the
        pipeline, then stays ``final``. While it runs the pipeline is RUNNING and a new start
        is refused with 409 ``RESOURCE_CONFLICT``. A stop cancels the active update (CANCELED)
        and the pipeline answers ``stop_polls`` gets with STOPPING before it is IDLE again.
        ``spec`` adds to the pipeline's spec (``{"catalog": "main", "target": "etl",
        "libraries": [{"notebook": {"path": "/Users/x/dlt"}}]}``)."""
        script = _UpdateScript(tuple(update_states), final, polls_per_state)
        if stop_polls < 0:
            raise ValueError(f"stop_polls must be >= 0, got {stop_polls}")
        resolved = pipeline_id or str(uuid.uuid4())
        full_spec = {
            "id": resolved,
            "name": name,
            "catalog": "main",
            "target": "default",
            "continuous": False,
            "development": False,
            "channel": "CURRENT",
            "edition": "ADVANCED",
            "photon": True,
            "libraries": [],
            **json.loads(json.dumps(dict(spec or {}))),
        }
        return self._pipelines.add(
            _Pipeline(
                pipeline_id=resolved,
                name=name,
                spec=full_spec,
                script=script,
                stop_polls=stop_polls,
                creator=creator_user_name or self.user_name,
                cluster_id=cluster_id or f"{resolved[:4]}-{resolved[4:10]}-dlt",
                last_modified=self.now(),
            )
        )

    def script_pipeline(
        self,
        pipeline_id: str,
        *,
        update_states: Sequence[str] | None = None,
        final: Literal["COMPLETED", "FAILED", "CANCELED"] | None = None,
        polls_per_state: int | None = None,
    ) -> None:
        """Changes how the pipeline's next updates progress (arguments left None keep their
        current value; an update already started keeps its script)."""
        with self._lock:
            pipeline = self._pipelines.pipelines[pipeline_id]
            current = pipeline.script
            pipeline.script = _UpdateScript(
                current.states if update_states is None else tuple(update_states),
                current.final if final is None else final,
                current.polls_per_state if polls_per_state is None else polls_per_state,
            )

    def pipeline(self, pipeline_id: str) -> PipelineInfo:
        """One pipeline by id (KeyError when unknown)."""
        with self._lock:
            return self._pipelines.info(self._pipelines.pipelines[pipeline_id])

    def pipeline_update(self, update_id: str) -> PipelineUpdateInfo:
        """One pipeline update by id (KeyError when unknown)."""
        with self._lock:
            return self._pipelines.update_info(self._pipelines.updates[update_id])

    # -- Unity Catalog -------------------------------------------------------------------------

    def add_catalog(
        self,
        name: str,
        *,
        comment: str | None = None,
        owner: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        """Adds (or replaces) a Unity Catalog catalog. Names are case-insensitive and stored
        in lower case, as the service does; ``owner`` defaults to :attr:`user_name`."""
        self._catalog.add_catalog(name, comment, owner, properties)

    def add_schema(
        self,
        full_name: str,
        *,
        comment: str | None = None,
        owner: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        """Adds (or replaces) a schema ``catalog.schema``; a missing catalog is added too."""
        self._catalog.add_schema(full_name, comment, owner, properties)

    def add_table_info(
        self,
        full_name: str,
        columns: Iterable[tuple[str, str] | Mapping[str, Any]] = (),
        *,
        table_type: str = "MANAGED",
        comment: str | None = None,
        owner: str | None = None,
        properties: Mapping[str, str] | None = None,
        data_source_format: str | None = None,
        storage_location: str | None = None,
        view_definition: str | None = None,
    ) -> None:
        """Adds (or replaces) a table ``catalog.schema.table`` for the Unity Catalog listings
        (missing parents are added too). ``columns``: ``(name, SQL type)`` pairs or mappings
        ``{"name", "type", "comment"?, "nullable"?}`` with the SQL types of :meth:`add_table`;
        each becomes a ColumnInfo with ``type_text`` (``bigint``, ``decimal(10,2)``,
        ``array<string>``), ``type_name`` (LONG, DECIMAL, ARRAY...), ``type_json`` (the Spark
        StructField JSON), ``nullable``, ``position``. ``table_type``: MANAGED, EXTERNAL, VIEW,
        MATERIALIZED_VIEW, STREAMING_TABLE, FOREIGN, ...; ``data_source_format`` defaults to
        DELTA for tables (none for views), ``storage_location`` to a path under the fake's
        metastore for MANAGED and EXTERNAL tables, ``view_definition`` to ``SELECT 1`` for
        views. This is metadata only: it does not make SQL statements return rows (see
        :meth:`add_table`)."""
        full_name = _uc_name(full_name, 3)
        table_type = table_type.upper()
        if table_type not in _TABLE_TYPES:
            raise ValueError(
                f"table_type must be one of {sorted(_TABLE_TYPES)}, got {table_type!r}"
            )
        is_view = table_type in ("VIEW", "METRIC_VIEW")
        extra: dict[str, Any] = {
            "table_type": table_type,
            "table_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.workspace_id}/{full_name}")),
            "columns": _uc_columns(columns),
        }
        if not is_view:
            extra["data_source_format"] = data_source_format or "DELTA"
            if table_type in ("MANAGED", "EXTERNAL") or storage_location is not None:
                extra["storage_location"] = storage_location or (
                    f"s3://metastore-{METASTORE_ID[:8]}/tables/{extra['table_id']}"
                )
        elif data_source_format is not None:
            extra["data_source_format"] = data_source_format
        if is_view or view_definition is not None:
            extra["view_definition"] = view_definition or "SELECT 1"
        table = self._catalog._new(full_name, comment, owner, properties)
        table.extra = extra
        self._catalog.add_table(full_name, table)

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
        routed = self._route_workspace_apis(request)
        if routed is not None:
            return routed
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

    def _route_workspace_apis(self, request: RecordedRequest) -> FakeResponse | None:
        """Clusters, Command Execution 1.2, Jobs, Workspace, Pipelines and Unity Catalog; None
        for any other path."""
        path = request.path
        if (match := _COMMANDS_ROUTE.match(path)) is not None:
            return self._commands.handle(request, match["what"], match["action"])
        if (match := _CLUSTER_ROUTE.match(path)) is not None:
            return self._clusters.handle(request, match["action"])
        if (match := _JOBS_ROUTE.match(path)) is not None:
            return self._jobs.handle(request, match["version"], match["action"])
        if (match := _WORKSPACE_ROUTE.match(path)) is not None:
            return self._workspace.handle(request, match["action"])
        if (match := _PIPELINES_ROUTE.match(path)) is not None:
            return self._pipelines.handle(request, match)
        if (match := _UC_ROUTE.match(path)) is not None:
            return self._catalog.handle(request, match)
        return None

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


# == part 2: clusters, Command Execution 1.2, Jobs, Workspace, Pipelines, Unity Catalog ==========
#
# Each service keeps its state under the fake's lock and answers the routes of one API; the
# public scripting methods and records live on FakeDatabricks and in the public records above.


# -- shared helpers --------------------------------------------------------------------------------


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _json_object(request: RecordedRequest) -> dict[str, Any] | FakeResponse:
    """The request body as a JSON object (an empty body counts as ``{}``), else 400
    ``MALFORMED_REQUEST``."""
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _api_error(
            400,
            "MALFORMED_REQUEST",
            "Invalid JSON given in the body of the request - expected a map",
        )
    return body


def _flag(value: Any) -> bool:
    """A boolean from JSON (true/false) or a query string ("true"/"false", any case)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _integer(value: Any) -> int | None:
    """An integer from JSON or a query string; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,19}", value.strip()):
        return int(value)
    return None


def _make_token(scope: str, offset: int) -> str:
    """An opaque page token: where the next page starts, bound to the listing it came from."""
    return _b64(f"{offset}:{scope}".encode())


def _read_token(token: str | None, scope: str) -> int | None:
    """The offset a page token points at (0 without one); None for a token this listing did not
    issue."""
    if not token:
        return 0
    try:
        offset, _, issued_for = _unb64(token).decode().partition(":")
        if issued_for != scope or not offset.isdigit():
            return None
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def _bad_token(token: str) -> FakeResponse:
    return _invalid(f"The page token {token!r} is not valid for this request.")


# -- clusters --------------------------------------------------------------------------------------

_CLUSTER_STATES = frozenset(
    {
        "PENDING",
        "RUNNING",
        "RESTARTING",
        "RESIZING",
        "TERMINATING",
        "TERMINATED",
        "ERROR",
        "UNKNOWN",
    }
)
_CLUSTER_ROUTE = re.compile(r"^/api/2\.[01]/clusters/(?P<action>get|start)/?$")


@dataclass
class _Cluster:
    cluster_id: str
    name: str
    state: str
    state_message: str
    pending_polls: int | None
    spark_version: str
    start_time: float
    terminated_time: float | None = None
    phase_polls: int = 0
    polls: int = 0
    starts: int = 0


class _Clusters:
    def __init__(self, fake: FakeDatabricks) -> None:
        self.fake = fake
        self.clusters: dict[str, _Cluster] = {}

    def add(
        self,
        cluster_id: str,
        state: str,
        *,
        name: str | None,
        pending_polls: int | None,
        spark_version: str,
        state_message: str | None,
    ) -> None:
        state = _cluster_state(state)
        if pending_polls is not None and pending_polls < 0:
            raise ValueError(f"pending_polls must be >= 0 or None, got {pending_polls}")
        now = self.fake.now()
        cluster = _Cluster(
            cluster_id=cluster_id,
            name=name or f"cluster-{cluster_id}",
            state=state,
            state_message=_cluster_message(state) if state_message is None else state_message,
            pending_polls=pending_polls,
            spark_version=spark_version,
            start_time=now,
            terminated_time=now if state == "TERMINATED" else None,
        )
        with self.fake._lock:
            if cluster_id in self.clusters and state != "RUNNING":
                self.fake._commands.cluster_stopped(cluster_id)
            self.clusters[cluster_id] = cluster
            self._settle(cluster)

    def set_state(self, cluster_id: str, state: str, message: str | None) -> None:
        state = _cluster_state(state)
        with self.fake._lock:
            cluster = self.clusters[cluster_id]
            self._enter(cluster, state, message)

    def _enter(self, cluster: _Cluster, state: str, message: str | None = None) -> None:
        if state in ("TERMINATING", "TERMINATED", "RESTARTING", "ERROR", "UNKNOWN"):
            self.fake._commands.cluster_stopped(cluster.cluster_id)
        cluster.state = state
        cluster.state_message = _cluster_message(state) if message is None else message
        cluster.phase_polls = 0
        if state == "PENDING":
            cluster.start_time = self.fake.now()
        if state == "TERMINATED":
            cluster.terminated_time = self.fake.now()
        self._settle(cluster)

    def _settle(self, cluster: _Cluster) -> None:
        if (
            cluster.state == "PENDING"
            and cluster.pending_polls is not None
            and cluster.phase_polls >= cluster.pending_polls
        ):
            cluster.state, cluster.state_message, cluster.phase_polls = "RUNNING", "", 0

    def touch(self, cluster: _Cluster) -> None:
        """One more request answered about the cluster: a PENDING one may now turn RUNNING."""
        cluster.phase_polls += 1
        self._settle(cluster)

    def info(self, cluster: _Cluster) -> ClusterInfo:
        return ClusterInfo(
            cluster_id=cluster.cluster_id,
            name=cluster.name,
            state=cluster.state,
            state_message=cluster.state_message,
            polls=cluster.polls,
            starts=cluster.starts,
        )

    def handle(self, request: RecordedRequest, action: str) -> FakeResponse:
        if action == "get":
            if request.method != "GET":
                return _not_found_endpoint(request)
            cluster_id = request.query.get("cluster_id", "")
            with self.fake._lock:
                found = self._find(cluster_id)
                if isinstance(found, FakeResponse):
                    return found
                found.polls += 1
                payload = self._payload(found)
                self.touch(found)
            return json_response(200, payload)
        if request.method != "POST":
            return _not_found_endpoint(request)
        body = _json_object(request)
        if isinstance(body, FakeResponse):
            return body
        with self.fake._lock:
            found = self._find(body.get("cluster_id"))
            if isinstance(found, FakeResponse):
                return found
            found.starts += 1
            if found.state != "TERMINATED":
                return _api_error(
                    400,
                    "INVALID_STATE",
                    f"Cluster {found.cluster_id} is in unexpected state {found.state.title()}.",
                )
            self._enter(found, "PENDING")
        return json_response(200, {})

    def _find(self, cluster_id: Any) -> _Cluster | FakeResponse:
        if not cluster_id or not isinstance(cluster_id, str):
            return _invalid("Missing required field: cluster_id")
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            return _invalid(f"Cluster {cluster_id} does not exist")
        return cluster

    def _payload(self, cluster: _Cluster) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "cluster_id": cluster.cluster_id,
            "cluster_name": cluster.name,
            "spark_version": cluster.spark_version,
            "node_type_id": "i3.xlarge",
            "driver_node_type_id": "i3.xlarge",
            "num_workers": 1,
            "autotermination_minutes": 120,
            "creator_user_name": self.fake.user_name,
            "single_user_name": self.fake.user_name,
            "data_security_mode": "SINGLE_USER",
            "cluster_source": "UI",
            "state": cluster.state,
            "state_message": cluster.state_message,
            "start_time": _ms(cluster.start_time),
            "default_tags": {
                "Vendor": "Databricks",
                "Creator": self.fake.user_name,
                "ClusterName": cluster.name,
                "ClusterId": cluster.cluster_id,
            },
        }
        if cluster.state == "RUNNING":
            payload["spark_context_id"] = int(
                hashlib.sha256(cluster.cluster_id.encode()).hexdigest()[:15], 16
            )
        if cluster.state == "TERMINATED" and cluster.terminated_time is not None:
            payload["terminated_time"] = _ms(cluster.terminated_time)
            payload["termination_reason"] = {
                "code": "INACTIVITY",
                "type": "SUCCESS",
                "parameters": {"inactivity_duration_min": "120"},
            }
        return payload

    def require_running(self, cluster_id: str) -> FakeResponse | None:
        """None when the cluster exists and runs, else the 1.2 API's error (the request counts
        as one about the cluster, so a PENDING cluster may turn RUNNING for the next one)."""
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            return _legacy_error(400, f"Cluster {cluster_id} does not exist")
        if cluster.state == "RUNNING":
            return None
        state = cluster.state
        self.touch(cluster)
        return _legacy_error(
            400,
            f"ClusterNotReadyException: Cluster {cluster_id} is in state {state}; "
            "commands need a RUNNING cluster",
        )


def _cluster_state(state: str) -> str:
    upper = state.upper()
    if upper not in _CLUSTER_STATES:
        raise ValueError(f"unknown cluster state {state!r}; use one of {sorted(_CLUSTER_STATES)}")
    return upper


def _cluster_message(state: str) -> str:
    return {
        "PENDING": "Starting Spark",
        "RESTARTING": "Restarting Spark",
        "RESIZING": "Resizing cluster",
        "TERMINATING": "Terminating cluster",
        "TERMINATED": "Inactive cluster terminated (inactive for 120 minutes).",
    }.get(state, "")


def _legacy_error(status: int, message: str) -> FakeResponse:
    """The API 1.2 error body, ``{"error": message}``."""
    return json_response(status, {"error": message})


# -- Command Execution API 1.2 ---------------------------------------------------------------------

_COMMANDS_ROUTE = re.compile(
    r"^/api/1\.2/(?P<what>contexts|commands)/(?P<action>create|status|destroy|execute|cancel)/?$"
)
_LANGUAGES_12 = ("python", "scala", "sql", "r")
_COMMAND_MAGIC = re.compile(r"^\s*(?P<kind>TABLE|FAIL):(?P<rest>.*)$", re.DOTALL)
_SNAKE_12 = {"cluster_id": "clusterId", "context_id": "contextId", "command_id": "commandId"}
_CALLS_12: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("contexts", "create"): ("POST", ("clusterId",)),
    ("contexts", "status"): ("GET", ("clusterId", "contextId")),
    ("contexts", "destroy"): ("POST", ("clusterId", "contextId")),
    ("commands", "execute"): ("POST", ("clusterId", "contextId", "command")),
    ("commands", "status"): ("GET", ("clusterId", "contextId", "commandId")),
    ("commands", "cancel"): ("POST", ("clusterId", "contextId", "commandId")),
}
_DATABRICKS_GLOBALS = frozenset(
    {"spark", "sc", "sqlContext", "dbutils", "display", "displayHTML", "table", "sql", "udf",
     "getArgument", "pd", "np"}
)  # fmt: skip
_SAFE_BUILTINS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "bool": bool,
    "float": float,
    "int": int,
    "len": len,
    "list": list,
    "max": max,
    "min": min,
    "repr": repr,
    "round": round,
    "sorted": sorted,
    "str": str,
    "sum": sum,
    "tuple": tuple,
}
_SPARK_TYPE_NAMES = {
    "LONG": "long",
    "INT": "integer",
    "SHORT": "short",
    "BYTE": "byte",
    "BOOLEAN": "boolean",
    "FLOAT": "float",
    "DOUBLE": "double",
    "STRING": "string",
    "CHAR": "string",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BINARY": "binary",
    "NULL": "void",
}

CommandKind = Literal["text", "table", "error", "status_error", "image", "none"]


@dataclass
class _CommandRule:
    pattern: re.Pattern[str]
    kind: CommandKind
    language: str | None
    queued_polls: int
    running_polls: int
    times: int | None
    text: str | Callable[[str], str] = ""
    columns: tuple[tuple[str, _Type | None], ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    truncated: bool = False
    summary: str = ""
    cause: str = ""
    file_name: str = ""


@dataclass
class _Context:
    context_id: str
    cluster_id: str
    language: str
    pending_polls: int
    fails: bool
    status: str = "Pending"
    phase_polls: int = 0
    polls: int = 0
    destroyed_by: Literal["client", "cluster"] | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    command_ids: list[str] = field(default_factory=list)


@dataclass
class _Command:
    command_id: str
    context_id: str
    cluster_id: str
    language: str
    text: str
    results: dict[str, Any] | None
    final_status: str
    queued_polls: int
    running_polls: int
    status: str = "Queued"
    phase_polls: int = 0
    polls: int = 0
    cancels: int = 0


class _PythonError(Exception):
    def __init__(self, name: str, message: str, line: int) -> None:
        super().__init__(message)
        self.name, self.message, self.line = name, message, line


class _UnsupportedError(Exception):
    pass


class _Commands:
    def __init__(self, fake: FakeDatabricks) -> None:
        self.fake = fake
        self.rules: list[_CommandRule] = []
        self.contexts: dict[str, _Context] = {}
        self.commands: dict[str, _Command] = {}
        self.failing_contexts = 0
        self.created = 0
        self.destroyed = 0

    # -- scripting --

    def add_rule(self, rule: _CommandRule) -> None:
        with self.fake._lock:
            self.rules.append(rule)

    def _take_rule(self, text: str, language: str) -> _CommandRule | None:
        for rule in self.rules:
            if rule.language not in (None, language):
                continue
            if rule.pattern.search(text):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self.rules.remove(rule)
                return rule
        return None

    def context_info(self, context: _Context) -> ContextInfo:
        self._settle_context(context)
        return ContextInfo(
            context_id=context.context_id,
            cluster_id=context.cluster_id,
            language=context.language,
            status=context.status,
            destroyed_by=context.destroyed_by,
            polls=context.polls,
            command_ids=tuple(context.command_ids),
        )

    def command_info(self, command: _Command) -> CommandInfo:
        self._settle_command(command)
        results = None if command.results is None else json.loads(json.dumps(command.results))
        return CommandInfo(
            command_id=command.command_id,
            context_id=command.context_id,
            cluster_id=command.cluster_id,
            language=command.language,
            command=command.text,
            status=command.status,
            results=results,
            polls=command.polls,
            cancels=command.cancels,
        )

    # -- progression --

    def _settle_context(self, context: _Context) -> None:
        if context.status == "Pending" and context.phase_polls >= context.pending_polls:
            context.status = "Error" if context.fails else "Running"
            context.phase_polls = 0

    def _settle_command(self, command: _Command) -> None:
        while True:
            if command.status == "Queued" and command.phase_polls >= command.queued_polls:
                command.status, command.phase_polls = "Running", 0
            elif command.status == "Running" and command.phase_polls >= command.running_polls:
                command.status, command.phase_polls = command.final_status, 0
            elif (
                command.status == "Cancelling" and command.phase_polls >= self.fake.cancelling_polls
            ):
                command.status, command.phase_polls = "Cancelled", 0
            else:
                return

    # -- requests --

    def handle(self, request: RecordedRequest, what: str, action: str) -> FakeResponse:
        call = _CALLS_12.get((what, action))
        if call is None:
            return _not_found_endpoint(request)
        method, required = call
        if request.method != method:
            return _not_found_endpoint(request)
        if method == "GET":
            fields: dict[str, Any] = dict(request.query)
        else:
            body = _json_object(request)
            if isinstance(body, FakeResponse):
                return _legacy_error(400, "Invalid JSON given in the body of the request")
            fields = body
        for key in required:
            value = fields.get(key)
            if not isinstance(value, str) or not value:
                snake = [s for s, camel in _SNAKE_12.items() if camel == key and s in fields]
                hint = (
                    f" (got {snake[0]!r}: API 1.2 takes camelCase keys: clusterId, contextId, "
                    "commandId)"
                    if snake
                    else ""
                )
                return _legacy_error(400, f"Missing required field: {key}{hint}")
        with self.fake._lock:
            not_ready = self.fake._clusters.require_running(fields["clusterId"])
            if not_ready is not None:
                return not_ready
            if (what, action) == ("contexts", "create"):
                return self._create(fields)
            context = self._context(fields["clusterId"], fields["contextId"])
            if isinstance(context, FakeResponse):
                return context
            if what == "contexts":
                if action == "status":
                    return self._context_status(context)
                return self._destroy(context)
            if action == "execute":
                return self._execute(context, fields)
            command = self.commands.get(fields["commandId"])
            if command is None or command.context_id != context.context_id:
                return _legacy_error(400, f"Command {fields['commandId']} does not exist.")
            if action == "status":
                return self._command_status(command)
            return self._cancel(command)

    def _context(self, cluster_id: str, context_id: str) -> _Context | FakeResponse:
        context = self.contexts.get(context_id)
        if context is None or context.cluster_id != cluster_id:
            return _legacy_error(400, f"Context {context_id} does not exist.")
        if context.destroyed_by == "client":
            return _legacy_error(400, f"Context {context_id} does not exist (it was destroyed).")
        if context.destroyed_by == "cluster":
            return _legacy_error(
                400,
                f"Context {context_id} does not exist (cluster {cluster_id} was terminated or "
                "restarted since it was created).",
            )
        return context

    def _create(self, fields: dict[str, Any]) -> FakeResponse:
        language = fields.get("language", "python")
        if not isinstance(language, str) or language.lower() not in _LANGUAGES_12:
            return _legacy_error(
                400, f"Invalid language {language!r}: use one of {', '.join(_LANGUAGES_12)}"
            )
        cluster_id = fields["clusterId"]
        live = sum(
            1
            for c in self.contexts.values()
            if c.cluster_id == cluster_id and c.destroyed_by is None
        )
        if live >= self.fake.max_contexts:
            return _legacy_error(
                400,
                "Too many execution contexts are open right now."
                f"(Limit set currently to {self.fake.max_contexts})",
            )
        fails = self.failing_contexts > 0
        if fails:
            self.failing_contexts -= 1
        context = _Context(
            context_id=str(secrets.randbelow(9 * 10**18) + 10**18),
            cluster_id=cluster_id,
            language=language.lower(),
            pending_polls=self.fake.context_pending_polls,
            fails=fails,
        )
        self.contexts[context.context_id] = context
        self.created += 1
        return json_response(200, {"id": context.context_id})

    def _context_status(self, context: _Context) -> FakeResponse:
        self._settle_context(context)
        context.polls += 1
        payload = {"id": context.context_id, "status": context.status}
        context.phase_polls += 1
        return json_response(200, payload)

    def _destroy(self, context: _Context) -> FakeResponse:
        self.end(context, "client")
        self.destroyed += 1
        return json_response(200, {"id": context.context_id})

    def end(self, context: _Context, by: Literal["client", "cluster"]) -> None:
        """Ends a context; its unfinished commands are cancelled."""
        context.destroyed_by = by
        for command_id in context.command_ids:
            command = self.commands[command_id]
            self._settle_command(command)
            if command.status in ("Queued", "Running", "Cancelling"):
                command.status = "Cancelled"

    def cluster_stopped(self, cluster_id: str) -> None:
        """The cluster left RUNNING: its live contexts are gone."""
        for context in self.contexts.values():
            if context.cluster_id == cluster_id and context.destroyed_by is None:
                self.end(context, "cluster")

    def _execute(self, context: _Context, fields: dict[str, Any]) -> FakeResponse:
        self._settle_context(context)
        if context.status != "Running":
            return _legacy_error(
                400,
                f"Context {context.context_id} is not ready (status {context.status}); wait "
                "until contexts/status says Running",
            )
        language = fields.get("language", context.language)
        if not isinstance(language, str) or language.lower() not in _LANGUAGES_12:
            return _legacy_error(
                400, f"Invalid language {language!r}: use one of {', '.join(_LANGUAGES_12)}"
            )
        language = language.lower()
        text = fields["command"]
        rule = self._take_rule(text, language)
        final_status = "Finished"
        queued_polls = running_polls = 0
        if rule is not None:
            queued_polls, running_polls = rule.queued_polls, rule.running_polls
            if rule.kind == "status_error":
                final_status = "Error"
            results = _rule_results(rule, text)
        else:
            results = self._default_results(text, language, context)
        command = _Command(
            command_id=secrets.token_hex(16),
            context_id=context.context_id,
            cluster_id=context.cluster_id,
            language=language,
            text=text,
            results=results,
            final_status=final_status,
            queued_polls=queued_polls,
            running_polls=running_polls,
        )
        self.commands[command.command_id] = command
        context.command_ids.append(command.command_id)
        return json_response(200, {"id": command.command_id})

    def _command_status(self, command: _Command) -> FakeResponse:
        self._settle_command(command)
        command.polls += 1
        payload: dict[str, Any] = {"id": command.command_id, "status": command.status}
        if command.status in ("Finished", "Error") and command.results is not None:
            payload["results"] = command.results
        command.phase_polls += 1
        return json_response(200, payload)

    def _cancel(self, command: _Command) -> FakeResponse:
        command.cancels += 1
        self._settle_command(command)
        if command.status in ("Queued", "Running"):
            command.status, command.phase_polls = "Cancelling", 0
            self._settle_command(command)
        return json_response(200, {"id": command.command_id})

    def _default_results(self, text: str, language: str, context: _Context) -> dict[str, Any]:
        cell = f"command-{secrets.randbelow(9 * 10**15) + 10**15}"
        marker = _COMMAND_MAGIC.match(text)
        if marker is not None and marker["kind"] == "FAIL":
            message = marker["rest"].strip()
            return {
                "resultType": "error",
                "summary": f"<span class='ansi-red-fg'>Exception</span>: {xml_escape(message)}",
                "cause": f"Exception: {message}",
            }
        if marker is not None:
            try:
                table = json.loads(marker["rest"])
                header, *rows = table
                columns = tuple((str(name), None) for name in header)
                if any(len(row) != len(columns) for row in rows):
                    raise ValueError("ragged rows")
            except (ValueError, TypeError):
                return {
                    "resultType": "error",
                    "summary": "TABLE: needs a JSON array of arrays",
                    "cause": "TABLE: must be followed by a JSON array whose first element lists "
                    'the column names, e.g. TABLE: [["id", "name"], [1, "a"]]',
                }
            return _table_results(columns, tuple(tuple(row) for row in rows), False)
        if language == "python":
            try:
                return _run_python(text, context.variables, cell)
            except _UnsupportedError as unsupported:
                reason = str(unsupported)
            except RecursionError:
                reason = "the command nests too deeply"
        elif language == "sql" and (literal := _SELECT_LITERAL.match(text)) is not None:
            number = int(literal.group(1))
            spark = "integer" if -(2**31) <= number < 2**31 else "long"
            return {
                "resultType": "table",
                "data": [[number]],
                "schema": [{"name": literal.group(1), "type": json.dumps(spark), "metadata": "{}"}],
                "truncated": False,
                "isJsonSchema": True,
            }
        else:
            reason = f"the fake evaluates no {language} code"
        if self.fake.unmatched == "empty":
            return {"resultType": "text", "data": ""}
        excerpt = text if len(text) <= 200 else f"{text[:200]}..."
        return {
            "resultType": "error",
            "summary": "[FAKE_NO_RESULT_REGISTERED] FakeDatabricks has no result for this command",
            "cause": (
                f"[FAKE_NO_RESULT_REGISTERED] FakeDatabricks cannot run this command ({reason}); "
                "script its result with add_command(), or construct the fake with "
                f"unmatched='empty':\n{excerpt}"
            ),
        }


def _rule_results(rule: _CommandRule, text: str) -> dict[str, Any] | None:
    if rule.kind == "text":
        data = rule.text(text) if callable(rule.text) else rule.text
        return {"resultType": "text", "data": data}
    if rule.kind == "table":
        return _table_results(rule.columns, rule.rows, rule.truncated)
    if rule.kind in ("error", "status_error"):
        return {"resultType": "error", "summary": rule.summary, "cause": rule.cause}
    if rule.kind == "image":
        return {"resultType": "image", "fileName": rule.file_name}
    return None


def _table_results(
    columns: tuple[tuple[str, _Type | None], ...],
    rows: tuple[tuple[Any, ...], ...],
    truncated: bool,
) -> dict[str, Any]:
    schema = []
    for position, (name, sql_type) in enumerate(columns):
        if sql_type is None:
            sample = next((row[position] for row in rows if row[position] is not None), None)
            spark: Any = _inferred_spark_type(sample)
        else:
            spark = _spark_type(sql_type)
        schema.append({"name": name, "type": json.dumps(spark), "metadata": "{}"})
    return {
        "resultType": "table",
        "data": [[_plain_json(value) for value in row] for row in rows],
        "schema": schema,
        "truncated": truncated,
        "isJsonSchema": True,
    }


def _inferred_spark_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, Decimal):
        return "decimal(38,18)"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    return "string"


def _spark_type(sql_type: _Type) -> Any:
    """The JSON form of a Spark type (what ``DataType.json()`` gives, parsed)."""
    name = sql_type.name
    if name == "DECIMAL":
        return f"decimal({sql_type.precision},{sql_type.scale})"
    if name == "INTERVAL":
        return f"interval {(sql_type.interval or '').lower()}"
    if name == "ARRAY":
        assert sql_type.element is not None
        return {"type": "array", "elementType": _spark_type(sql_type.element), "containsNull": True}
    if name == "MAP":
        assert sql_type.key is not None
        assert sql_type.value is not None
        return {
            "type": "map",
            "keyType": _spark_type(sql_type.key),
            "valueType": _spark_type(sql_type.value),
            "valueContainsNull": True,
        }
    if name == "STRUCT":
        return {
            "type": "struct",
            "fields": [
                {"name": field_name, "type": _spark_type(t), "nullable": True, "metadata": {}}
                for field_name, t in sql_type.fields
            ],
        }
    return _SPARK_TYPE_NAMES[name]


def _plain_json(value: Any) -> Any:
    """A Python value as typed JSON (dates as ISO text, decimals as numbers, bytes base64)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [_plain_json(item) for item in value]
    return str(value)


# A tiny evaluator for the default results of Python commands: no code is ever executed, only
# literals, names bound by earlier simple assignments in the same context, arithmetic and a few
# pure builtins are evaluated (see FakeDatabricks.add_command for the exact limits).


def _run_python(source: str, variables: dict[str, Any], cell: str) -> dict[str, Any]:
    try:
        tree = ast.parse(source, filename=f"<{cell}>")
    except SyntaxError as error:
        line = error.lineno or 1
        lines = source.splitlines() or [""]
        shown = lines[min(line, len(lines)) - 1]
        caret = " " * max((error.offset or 1) - 1, 0) + "^"
        message = f"{error.msg} ({cell}, line {line})"
        return {
            "resultType": "error",
            "summary": f"<span class='ansi-red-fg'>SyntaxError</span>: {message}",
            "cause": (
                f"  File <{cell}>:{line}\n    {shown}\n    {caret}\nSyntaxError: {error.msg}\n"
            ),
        }
    printed: list[str] = []
    try:
        for statement in tree.body:
            _exec_statement(statement, variables, printed)
    except _PythonError as error:
        return _python_error(error, source, cell)
    text = "".join(printed)
    return {"resultType": "text", "data": text[:-1] if text.endswith("\n") else text}


def _python_error(error: _PythonError, source: str, cell: str) -> dict[str, Any]:
    lines = source.splitlines() or [""]
    shown = lines[min(error.line, len(lines)) - 1]
    detail = f"{error.name}: {error.message}" if error.message else error.name
    cause = (
        "---------------------------------------------------------------------------\n"
        f"{error.name:<42}Traceback (most recent call last)\n"
        f"File <{cell}>:{error.line}\n"
        f"----> {error.line} {shown}\n\n"
        f"{detail}"
    )
    summary = f"<span class='ansi-red-fg'>{error.name}</span>"
    if error.message:
        summary += f": {xml_escape(error.message)}"
    return {"resultType": "error", "summary": summary, "cause": cause}


def _exec_statement(node: ast.stmt, variables: dict[str, Any], printed: list[str]) -> None:
    if isinstance(node, ast.Import | ast.ImportFrom | ast.Pass):
        return
    if isinstance(node, ast.Expr):
        call = node.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "print"
            and "print" not in variables
        ):
            args = [_eval(arg, variables) for arg in call.args]
            options = {"sep": " ", "end": "\n"}
            for keyword in call.keywords:
                if keyword.arg not in options:
                    raise _UnsupportedError(f"print(..., {keyword.arg}=...) is not evaluated")
                value = _eval(keyword.value, variables)
                if value is not None and not isinstance(value, str):
                    raise _PythonError(
                        "TypeError",
                        f"{keyword.arg} must be None or a string, not {type(value).__name__}",
                        node.lineno,
                    )
                if value is not None:
                    options[keyword.arg] = value
            printed.append(
                _guarded(lambda: options["sep"].join(str(arg) for arg in args), node.lineno)
                + options["end"]
            )
            return
        _eval(call, variables)
        return
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        value = _eval(node.value, variables)
        for target in node.targets:
            assert isinstance(target, ast.Name)
            variables[target.id] = value
        return
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        current = _eval(ast.Name(node.target.id, ast.Load(), lineno=node.lineno), variables)
        variables[node.target.id] = _binary(
            node.op, current, _eval(node.value, variables), node.lineno
        )
        return
    if isinstance(node, ast.Raise):
        _raise(node, variables)
    raise _UnsupportedError(f"a {type(node).__name__} statement is not evaluated")


def _raise(node: ast.Raise, variables: dict[str, Any]) -> None:
    exc = node.exc
    if exc is None:
        raise _PythonError("RuntimeError", "No active exception to reraise", node.lineno)
    target, args = (exc.func, exc.args) if isinstance(exc, ast.Call) else (exc, [])
    if not isinstance(target, ast.Name):
        raise _UnsupportedError("raise of something other than a named exception")
    name = target.id
    builtin = getattr(builtins, name, None)
    if not (isinstance(builtin, type) and issubclass(builtin, BaseException)):
        if name in _DATABRICKS_GLOBALS or name in variables:
            raise _UnsupportedError(f"raise {name}(...)")
        raise _PythonError("NameError", f"name '{name}' is not defined", node.lineno)
    values = [_eval(arg, variables) for arg in args]
    message = str(values[0]) if len(values) == 1 else (str(tuple(values)) if values else "")
    if name == "KeyError" and len(values) == 1:
        message = repr(values[0])
    raise _PythonError(name, message, node.lineno)


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}


def _guarded(function: Callable[[], Any], line: int) -> Any:
    try:
        return function()
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError) as error:
        message = repr(error.args[0]) if isinstance(error, KeyError) else str(error)
        raise _PythonError(type(error).__name__, message, line) from None


def _binary(op: ast.operator, left: Any, right: Any, line: int) -> Any:
    operation = _BINARY.get(type(op))
    if operation is None:
        raise _UnsupportedError(f"the operator {type(op).__name__} is not evaluated")
    if (
        isinstance(op, ast.Pow)
        and isinstance(left, int)
        and isinstance(right, int)
        and (abs(right) > 10_000 or left.bit_length() * abs(right) > 1_000_000)
    ):
        raise _UnsupportedError("a huge power is not evaluated")
    if isinstance(op, ast.Mult):
        sized = [v for v in (left, right) if isinstance(v, str | bytes | list | tuple)]
        count = [v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)]
        if sized and count and len(sized[0]) * count[0] > 10_000_000:
            raise _UnsupportedError("a huge repetition is not evaluated")
    return _guarded(lambda: operation(left, right), line)


def _eval(node: ast.expr, variables: dict[str, Any]) -> Any:
    line = getattr(node, "lineno", 1)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in variables:
            return variables[node.id]
        if node.id in _SAFE_BUILTINS:
            return _SAFE_BUILTINS[node.id]
        if node.id in _DATABRICKS_GLOBALS or hasattr(builtins, node.id):
            raise _UnsupportedError(f"the name {node.id!r} is not evaluated")
        raise _PythonError("NameError", f"name '{node.id}' is not defined", line)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, variables)
        if isinstance(node.op, ast.USub):
            return _guarded(lambda: -operand, line)
        if isinstance(node.op, ast.UAdd):
            return _guarded(lambda: +operand, line)
        if isinstance(node.op, ast.Not):
            return not operand
        raise _UnsupportedError("the operator ~ is not evaluated")
    if isinstance(node, ast.BinOp):
        return _binary(node.op, _eval(node.left, variables), _eval(node.right, variables), line)
    if isinstance(node, ast.BoolOp):
        result: Any = None
        for value_node in node.values:
            result = _eval(value_node, variables)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result
    if isinstance(node, ast.Compare):
        left = _eval(node.left, variables)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, variables)
            compare = _COMPARE[type(op)]
            if not _guarded(lambda c=compare, a=left, b=right: c(a, b), line):  # type: ignore[misc]
                return False
            left = right
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_eval(element, variables) for element in node.elts]
        if isinstance(node, ast.List):
            return items
        return tuple(items) if isinstance(node, ast.Tuple) else _guarded(lambda: set(items), line)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise _UnsupportedError("dict unpacking is not evaluated")
        pairs = [
            (_eval(key, variables), _eval(value, variables))
            for key, value in zip(node.keys, node.values, strict=True)
            if key is not None
        ]
        return _guarded(lambda: dict(pairs), line)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value_node in node.values:
            if isinstance(value_node, ast.FormattedValue):
                value = _eval(value_node.value, variables)
                if value_node.conversion == ord("r"):
                    value = repr(value)
                elif value_node.conversion == ord("s"):
                    value = str(value)
                elif value_node.conversion == ord("a"):
                    value = ascii(value)
                spec = (
                    ""
                    if value_node.format_spec is None
                    else _eval(value_node.format_spec, variables)
                )
                parts.append(_guarded(lambda v=value, s=spec: format(v, s), line))  # type: ignore[misc]
            else:
                parts.append(str(_eval(value_node, variables)))
        return "".join(parts)
    if isinstance(node, ast.Call) and not node.keywords:
        function = _eval(node.func, variables)
        if function not in _SAFE_BUILTINS.values():
            raise _UnsupportedError("only a few pure builtins are called")
        args = [_eval(arg, variables) for arg in node.args]
        return _guarded(lambda: function(*args), line)
    raise _UnsupportedError(f"a {type(node).__name__} expression is not evaluated")


# -- Jobs API 2.1 / 2.2 ----------------------------------------------------------------------------

_JOBS_ROUTE = re.compile(
    r"^/api/(?P<version>2\.[12])/jobs/"
    r"(?P<action>list|get|run-now|runs/submit|runs/get|runs/get-output|runs/cancel)/?$"
)
_RUN_RESULT_STATES = frozenset(
    {"SUCCESS", "FAILED", "TIMEDOUT", "CANCELED", "SKIPPED", "INTERNAL_ERROR",
     "SUCCESS_WITH_FAILURES", "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "EXCLUDED", "DISABLED",
     "MAXIMUM_CONCURRENT_RUNS_REACHED"}
)  # fmt: skip
_RUN_MESSAGES = {
    "SUCCESS": "",
    "FAILED": "Workload failed, see run output for details",
    "TIMEDOUT": "Run timed out.",
    "CANCELED": "Run cancelled.",
    "SKIPPED": "Skipping this run because the limit of 1 maximum concurrent runs has been reached.",
    "INTERNAL_ERROR": "An internal error occurred while running the job.",
}
_TERMINATION = {  # result state -> (termination code, termination type)
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "SUCCESS_WITH_FAILURES": ("SUCCESS_WITH_FAILURES", "SUCCESS"),
    "CANCELED": ("CANCELED", "SUCCESS"),
    "SKIPPED": ("SKIPPED", "SUCCESS"),
    "EXCLUDED": ("SUCCESS", "SUCCESS"),
    "INTERNAL_ERROR": ("INTERNAL_ERROR", "INTERNAL_ERROR"),
    "DISABLED": ("DISABLED", "CLIENT_ERROR"),
    "MAXIMUM_CONCURRENT_RUNS_REACHED": ("MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"),
}
_TASKS_PER_PAGE = 100
_MAX_NOTEBOOK_RESULT = 5 * 1024 * 1024


@dataclass(frozen=True)
class _RunScript:
    result_state: str
    state_message: str | None
    queued_polls: int
    pending_polls: int
    running_polls: int
    notebook_result: NotebookResult
    error: str | None
    error_trace: str | None
    logs: str | None

    def __post_init__(self) -> None:
        if self.result_state not in _RUN_RESULT_STATES:
            raise ValueError(
                f"unknown result_state {self.result_state!r}; use one of "
                f"{sorted(_RUN_RESULT_STATES)}"
            )
        for name in ("queued_polls", "pending_polls", "running_polls"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass
class _Job:
    job_id: int
    name: str
    settings: dict[str, Any]
    created_time: float
    creator: str
    script: _RunScript
    listed: bool = True


@dataclass
class _SubmitRule:
    pattern: re.Pattern[str] | None
    script: _RunScript
    times: int | None


@dataclass
class _TaskRun:
    run_id: int
    task_key: str
    spec: dict[str, Any]
    parameters: dict[str, str]


@dataclass
class _Run:
    run_id: int
    job_id: int
    run_name: str
    run_type: str
    api_version: str
    request: dict[str, Any]
    tasks: list[_TaskRun]
    script: _RunScript
    idempotency_token: str | None
    start_time: float
    phase: str = "QUEUED"
    phase_polls: int = 0
    end_time: float | None = None
    result_state: str | None = None
    state_message: str = ""
    cancelled_by_client: bool = False
    polls: int = 0
    cancels: int = 0
    resubmits: int = 0


class _Jobs:
    def __init__(self, fake: FakeDatabricks) -> None:
        self.fake = fake
        self.jobs: dict[int, _Job] = {}
        self.runs: dict[int, _Run] = {}
        self.task_runs: dict[int, tuple[_Run, _TaskRun]] = {}
        self.tokens: dict[str, int] = {}
        self.submit_rules: list[_SubmitRule] = []
        self.next_job_id = 1001
        self.next_run_id = 455644833

    # -- scripting --

    def add_job(self, job: _Job) -> int:
        with self.fake._lock:
            if job.job_id in self.jobs:
                raise ValueError(f"job {job.job_id} exists already")
            self.jobs[job.job_id] = job
            self.next_job_id = max(self.next_job_id, job.job_id + 1)
        return job.job_id

    def new_job_id(self) -> int:
        with self.fake._lock:
            job_id = self.next_job_id
            self.next_job_id += 1
            return job_id

    def info(self, run: _Run) -> RunInfo:
        self._settle(run)
        return RunInfo(
            run_id=run.run_id,
            job_id=run.job_id,
            run_name=run.run_name,
            run_type=run.run_type,
            life_cycle_state=run.phase,
            result_state=run.result_state,
            state_message=run.state_message,
            task_run_ids={task.task_key: task.run_id for task in run.tasks},
            idempotency_token=run.idempotency_token,
            request=json.loads(json.dumps(run.request)),
            polls=run.polls,
            cancels=run.cancels,
            resubmits=run.resubmits,
            api_version=run.api_version,
        )

    # -- progression --

    def _settle(self, run: _Run) -> None:
        script = run.script
        while True:
            if run.phase == "QUEUED" and run.phase_polls >= script.queued_polls:
                run.phase, run.phase_polls = "PENDING", 0
            elif run.phase == "PENDING" and run.phase_polls >= script.pending_polls:
                run.phase, run.phase_polls = "RUNNING", 0
            elif run.phase == "RUNNING" and run.phase_polls >= script.running_polls:
                self._finish(run, script.result_state, script.state_message)
            elif run.phase == "TERMINATING" and run.phase_polls >= self.fake.run_cancel_polls:
                self._finish(run, "CANCELED", None)
            else:
                return

    def _finish(self, run: _Run, result_state: str, message: str | None) -> None:
        run.phase = {"SKIPPED": "SKIPPED", "INTERNAL_ERROR": "INTERNAL_ERROR"}.get(
            result_state, "TERMINATED"
        )
        run.result_state = {"SKIPPED": None, "INTERNAL_ERROR": "FAILED"}.get(
            result_state, result_state
        )
        run.state_message = _RUN_MESSAGES.get(result_state, "") if message is None else message
        run.end_time = self.fake.now()
        run.phase_polls = 0

    # -- requests --

    def handle(self, request: RecordedRequest, version: str, action: str) -> FakeResponse:
        method = "GET" if action in ("list", "get", "runs/get", "runs/get-output") else "POST"
        if request.method != method:
            return _not_found_endpoint(request)
        with self.fake._lock:
            if action == "list":
                return self._list(request.query)
            if action == "get":
                job = self._job(request.query.get("job_id"))
                return (
                    job
                    if isinstance(job, FakeResponse)
                    else json_response(200, self._job_payload(job, True))
                )
            if action in ("runs/get", "runs/get-output"):
                found = self._run(request.query.get("run_id"))
                if isinstance(found, FakeResponse):
                    return found
                run, task = found
                if action == "runs/get":
                    return self._get_run(run, task, version, request.query.get("page_token"))
                return self._get_output(run, task)
            body = _json_object(request)
            if isinstance(body, FakeResponse):
                return body
            if action == "run-now":
                return self._run_now(body, version)
            if action == "runs/submit":
                return self._submit(body, version)
            found = self._run(body.get("run_id"))
            if isinstance(found, FakeResponse):
                return found
            return self._cancel(found[0])

    def _job(self, raw: Any) -> _Job | FakeResponse:
        job_id = _integer(raw)
        if job_id is None:
            return _invalid(f"Invalid job_id: {json.dumps(raw)}; it must be an integer")
        job = self.jobs.get(job_id)
        if job is None or not job.listed:
            return _invalid(f"Job {job_id} does not exist.")
        return job

    def _run(self, raw: Any) -> tuple[_Run, _TaskRun | None] | FakeResponse:
        run_id = _integer(raw)
        if run_id is None:
            return _invalid(f"Invalid run_id: {json.dumps(raw)}; it must be an integer")
        if run_id in self.runs:
            return self.runs[run_id], None
        if run_id in self.task_runs:
            return self.task_runs[run_id]
        return _invalid(f"Run {run_id} does not exist.")

    def _list(self, query: dict[str, str]) -> FakeResponse:
        limit = _integer(query.get("limit", "20"))
        if limit is None or not 1 <= limit <= 100:
            return _invalid(f"limit must be between 1 and 100, got {query.get('limit')!r}")
        name = query.get("name")
        jobs = [
            job
            for job in self.jobs.values()
            if job.listed and (name is None or job.name.lower() == name.lower())
        ]
        scope = f"jobs:{(name or '').lower()}"
        offset = _read_token(query.get("page_token"), scope)
        if offset is None:
            return _bad_token(query.get("page_token", ""))
        if "offset" in query and not query.get("page_token"):
            offset = _integer(query["offset"])
            if offset is None or offset < 0:
                return _invalid(f"offset must be a non-negative integer, got {query['offset']!r}")
        expand = _flag(query.get("expand_tasks", "false"))
        page = jobs[offset : offset + limit]
        payload: dict[str, Any] = {}
        if page:
            payload["jobs"] = [self._job_payload(job, expand) for job in page]
        payload["has_more"] = offset + limit < len(jobs)
        if payload["has_more"]:
            payload["next_page_token"] = _make_token(scope, offset + limit)
        if offset > 0:
            payload["prev_page_token"] = _make_token(scope, max(0, offset - limit))
        return json_response(200, payload)

    def _job_payload(self, job: _Job, with_tasks: bool) -> dict[str, Any]:
        settings = json.loads(json.dumps(job.settings))
        if not with_tasks:
            settings.pop("tasks", None)
            settings.pop("job_clusters", None)
        return {
            "job_id": job.job_id,
            "creator_user_name": job.creator,
            "run_as_user_name": job.creator,
            "created_time": _ms(job.created_time),
            "settings": settings,
        }

    def _check_token(self, body: dict[str, Any]) -> str | FakeResponse | None:
        token = body.get("idempotency_token")
        if token is None:
            return None
        if not isinstance(token, str) or not token or len(token) > 64:
            return _invalid(
                f"idempotency_token must be a string of 1 to 64 characters, got {json.dumps(token)}"
            )
        return token

    def _resubmitted(self, token: str | None) -> FakeResponse | None:
        if token is None or token not in self.tokens:
            return None
        run = self.runs[self.tokens[token]]
        run.resubmits += 1
        payload: dict[str, Any] = {"run_id": run.run_id}
        if run.run_type == "JOB_RUN":
            payload["number_in_job"] = run.run_id
        return json_response(200, payload)

    def _run_now(self, body: dict[str, Any], version: str) -> FakeResponse:
        if "job_id" not in body:
            return _invalid("Missing required field: job_id")
        job = self._job(body.get("job_id"))
        if isinstance(job, FakeResponse):
            return job
        token = self._check_token(body)
        if isinstance(token, FakeResponse):
            return token
        for name in ("notebook_params", "job_parameters"):
            value = body.get(name)
            if value is not None and (
                not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
            ):
                return _invalid(f"{name} must be an object of strings, got {json.dumps(value)}")
        repeated = self._resubmitted(token)
        if repeated is not None:
            return repeated
        overrides = {**(body.get("job_parameters") or {}), **(body.get("notebook_params") or {})}
        run = self._start(
            job.job_id,
            job.name,
            "JOB_RUN",
            version,
            body,
            list(job.settings.get("tasks", [])),
            job.script,
            token,
            overrides,
        )
        return json_response(200, {"run_id": run.run_id, "number_in_job": run.run_id})

    def _submit(self, body: dict[str, Any], version: str) -> FakeResponse:
        token = self._check_token(body)
        if isinstance(token, FakeResponse):
            return token
        tasks = body.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            return _invalid("tasks must be a non-empty list of task settings")
        keys: set[str] = set()
        for task in tasks:
            key = task.get("task_key") if isinstance(task, dict) else None
            if not isinstance(key, str) or not key:
                return _invalid(f"every task needs a task_key: {json.dumps(task)}")
            if key in keys:
                return _invalid(f"task_key {key!r} is used by more than one task")
            keys.add(key)
            cluster_id = task.get("existing_cluster_id")
            if cluster_id is not None and cluster_id not in self.fake._clusters.clusters:
                return _invalid(f"Cluster {cluster_id} does not exist")
        run_name = body.get("run_name", "Untitled")
        if not isinstance(run_name, str):
            return _invalid("run_name must be a string")
        timeout = body.get("timeout_seconds")
        if timeout is not None and (_integer(timeout) is None or int(timeout) < 0):
            return _invalid(f"timeout_seconds must be a non-negative integer, got {timeout!r}")
        repeated = self._resubmitted(token)
        if repeated is not None:
            return repeated
        script = self._submit_script(run_name, tasks)
        job_id = self.next_job_id
        self.next_job_id += 1
        run = self._start(job_id, run_name, "SUBMIT_RUN", version, body, tasks, script, token, {})
        return json_response(200, {"run_id": run.run_id})

    def _submit_script(self, run_name: str, tasks: list[dict[str, Any]]) -> _RunScript:
        texts = [run_name]
        for task in tasks:
            notebook = task.get("notebook_task")
            if isinstance(notebook, dict):
                texts.append(str(notebook.get("notebook_path", "")))
                parameters = notebook.get("base_parameters")
                if isinstance(parameters, dict):
                    texts += [str(value) for value in parameters.values()]
        for rule in self.submit_rules:
            if rule.pattern is None or any(rule.pattern.search(text) for text in texts):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self.submit_rules.remove(rule)
                return rule.script
        return _RunScript("SUCCESS", None, 0, 0, 0, None, None, None, None)

    def _start(
        self,
        job_id: int,
        run_name: str,
        run_type: str,
        version: str,
        body: dict[str, Any],
        tasks: list[dict[str, Any]],
        script: _RunScript,
        token: str | None,
        overrides: dict[str, str],
    ) -> _Run:
        run_id = self.next_run_id
        self.next_run_id += len(tasks) + 1
        task_runs = []
        for number, spec in enumerate(tasks, start=1):
            notebook = spec.get("notebook_task")
            base = notebook.get("base_parameters") if isinstance(notebook, dict) else None
            parameters = {str(k): str(v) for k, v in (base or {}).items()}
            parameters.update(overrides)
            task_runs.append(
                _TaskRun(run_id + number, str(spec.get("task_key")), dict(spec), parameters)
            )
        run = _Run(
            run_id=run_id,
            job_id=job_id,
            run_name=run_name,
            run_type=run_type,
            api_version=version,
            request=json.loads(json.dumps(body)),
            tasks=task_runs,
            script=script,
            idempotency_token=token,
            start_time=self.fake.now(),
        )
        self.runs[run_id] = run
        for task_run in task_runs:
            self.task_runs[task_run.run_id] = (run, task_run)
        if token is not None:
            self.tokens[token] = run_id
        self._settle(run)
        return run

    def _get_run(
        self, run: _Run, task: _TaskRun | None, version: str, page_token: str | None
    ) -> FakeResponse:
        self._settle(run)
        run.polls += 1
        if task is not None:
            payload = self._task_view(run, task)
        else:
            payload = self._run_payload(run)
            if version == "2.2":
                scope = f"run:{run.run_id}"
                offset = _read_token(page_token, scope)
                if offset is None:
                    return _bad_token(page_token or "")
                payload["tasks"] = payload["tasks"][offset : offset + _TASKS_PER_PAGE]
                if offset + _TASKS_PER_PAGE < len(run.tasks):
                    payload["next_page_token"] = _make_token(scope, offset + _TASKS_PER_PAGE)
                    payload["has_more"] = True
                if offset > 0:
                    payload["prev_page_token"] = _make_token(
                        scope, max(0, offset - _TASKS_PER_PAGE)
                    )
        run.phase_polls += 1
        return json_response(200, payload)

    def _get_output(self, run: _Run, task: _TaskRun | None) -> FakeResponse:
        self._settle(run)
        if task is None:
            if len(run.tasks) != 1:
                return _invalid(
                    "Retrieving the output of runs with multiple tasks is not supported. Please "
                    "retrieve the output of each individual task run instead."
                )
            task = run.tasks[0]
        payload: dict[str, Any] = {"metadata": self._task_view(run, task)}
        if run.phase not in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
            return json_response(200, payload)
        script = run.script
        if "notebook_task" in task.spec and run.phase != "SKIPPED":
            result = _notebook_result(script.notebook_result, task)
            output: dict[str, Any] = {}
            if result is not None:
                encoded = result.encode()
                truncated = len(encoded) > _MAX_NOTEBOOK_RESULT
                if truncated:
                    result = encoded[:_MAX_NOTEBOOK_RESULT].decode("utf-8", "ignore")
                output = {"result": result, "truncated": truncated}
            payload["notebook_output"] = output
        if run.result_state not in (None, "SUCCESS", "SUCCESS_WITH_FAILURES", "EXCLUDED"):
            payload["error"] = script.error if script.error is not None else run.state_message
            if script.error_trace is not None:
                payload["error_trace"] = script.error_trace
        if script.logs is not None:
            payload["logs"] = script.logs
            payload["logs_truncated"] = False
        return json_response(200, payload)

    def _cancel(self, run: _Run) -> FakeResponse:
        run.cancels += 1
        self._settle(run)
        if run.phase in ("QUEUED", "PENDING", "RUNNING"):
            run.phase, run.phase_polls, run.cancelled_by_client = "TERMINATING", 0, True
            run.state_message = "Run cancellation requested."
            self._settle(run)
        return json_response(200, {})

    # -- payloads --

    def _state(self, run: _Run) -> dict[str, Any]:
        state: dict[str, Any] = {
            "life_cycle_state": run.phase,
            "state_message": run.state_message,
            "user_cancelled_or_timedout": run.cancelled_by_client
            or (run.result_state in ("CANCELED", "TIMEDOUT")),
        }
        if run.result_state is not None:
            state["result_state"] = run.result_state
        if run.phase == "QUEUED":
            state["queue_reason"] = "Queued due to reaching maximum concurrent runs of 1."
        return state

    def _status(self, run: _Run) -> dict[str, Any]:
        if run.phase in ("QUEUED", "PENDING", "RUNNING", "TERMINATING"):
            return {"state": run.phase}
        scripted = "SKIPPED" if run.phase == "SKIPPED" else run.script.result_state
        if run.phase == "INTERNAL_ERROR":
            scripted = "INTERNAL_ERROR"
        code, kind = _TERMINATION.get(scripted, ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
        if run.cancelled_by_client:
            code, kind = "USER_CANCELED", "SUCCESS"
        details = {"code": code, "type": kind}
        if run.state_message:
            details["message"] = run.state_message
        return {"state": "TERMINATED", "termination_details": details}

    def _timing(self, run: _Run) -> dict[str, Any]:
        end = run.end_time
        running = max(0, _ms((end if end is not None else self.fake.now()) - run.start_time))
        return {
            "start_time": _ms(run.start_time),
            "end_time": 0 if end is None else _ms(end),
            "setup_duration": 0,
            "execution_duration": running if end is not None else 0,
            "cleanup_duration": 0,
            "run_duration": running,
        }

    def _page_url(self, run: _Run, run_id: int) -> str:
        return f"{self.fake.url}/?o={self.fake.workspace_id}#job/{run.job_id}/run/{run_id}"

    def _task_payload(self, run: _Run, task: _TaskRun) -> dict[str, Any]:
        return {
            **{k: v for k, v in task.spec.items() if k != "task_key"},
            "run_id": task.run_id,
            "task_key": task.task_key,
            "state": self._state(run),
            "status": self._status(run),
            "attempt_number": 0,
            "run_page_url": self._page_url(run, task.run_id),
            **self._timing(run),
        }

    def _run_payload(self, run: _Run) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "job_id": run.job_id,
            "run_id": run.run_id,
            "original_attempt_run_id": run.run_id,
            "run_name": run.run_name,
            "creator_user_name": self.fake.user_name,
            "run_type": run.run_type,
            "state": self._state(run),
            "status": self._status(run),
            "run_page_url": self._page_url(run, run.run_id),
            "format": "MULTI_TASK",
            "attempt_number": 0,
            "trigger": "ONE_TIME",
            "tasks": [self._task_payload(run, task) for task in run.tasks],
            **self._timing(run),
        }
        if run.run_type == "JOB_RUN":
            payload["number_in_job"] = run.run_id
        overriding = {
            name: run.request[name]
            for name in ("notebook_params", "python_params", "jar_params", "sql_params")
            if name in run.request
        }
        if overriding:
            payload["overriding_parameters"] = overriding
        if isinstance(run.request.get("job_parameters"), dict):
            payload["job_parameters"] = [
                {"name": name, "value": value}
                for name, value in run.request["job_parameters"].items()
            ]
        if run.idempotency_token is not None:
            payload["idempotency_token"] = run.idempotency_token
        return payload

    def _task_view(self, run: _Run, task: _TaskRun) -> dict[str, Any]:
        """A task run as runs/get and get-output describe it on its own."""
        view = {
            "job_id": run.job_id,
            "run_id": task.run_id,
            "parent_run_id": run.run_id,
            "run_name": task.task_key,
            "task_key": task.task_key,
            "creator_user_name": self.fake.user_name,
            "run_type": run.run_type,
            "state": self._state(run),
            "status": self._status(run),
            "run_page_url": self._page_url(run, task.run_id),
            "attempt_number": 0,
            **{k: v for k, v in task.spec.items() if k != "task_key"},
            **self._timing(run),
        }
        if run.run_type == "JOB_RUN":
            view["number_in_job"] = run.run_id
        return view


def _notebook_result(result: NotebookResult, task: _TaskRun) -> str | None:
    if result is None or isinstance(result, str):
        return result
    if isinstance(result, Mapping):
        return result.get(task.task_key)
    return result(dict(task.parameters))


# -- Workspace API ---------------------------------------------------------------------------------

_WORKSPACE_ROUTE = re.compile(
    r"^/api/2\.0/workspace/(?P<action>list|import|export|get-status|mkdirs|delete)/?$"
)
_NOTEBOOK_LANGUAGES = {  # language -> (file extension, comment prefix)
    "PYTHON": ("py", "#"),
    "SQL": ("sql", "--"),
    "SCALA": ("scala", "//"),
    "R": ("r", "#"),
}
_EXTENSION_LANGUAGES = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}
_IMPORT_FORMATS = frozenset({"SOURCE", "HTML", "JUPYTER", "DBC", "R_MARKDOWN", "AUTO", "RAW"})
_EXPORT_FORMATS = frozenset({"SOURCE", "HTML", "JUPYTER", "DBC", "R_MARKDOWN", "AUTO", "RAW"})


@dataclass
class _Node:
    path: str
    object_type: str
    object_id: int
    created_at: float
    modified_at: float
    language: str | None = None
    content: bytes = b""


class _Workspace:
    def __init__(self, fake: FakeDatabricks) -> None:
        self.fake = fake
        self.nodes: dict[str, _Node] = {}
        self.next_id = 1_234_567_890_123_000
        for path in ("/", "/Users", "/Shared", f"/Users/{fake.user_name}"):
            self._put(path, "DIRECTORY")

    def _put(
        self, path: str, object_type: str, language: str | None = None, content: bytes = b""
    ) -> _Node:
        now = self.fake.now()
        existing = self.nodes.get(path)
        if existing is not None and existing.object_type == object_type:
            existing.language, existing.content, existing.modified_at = language, content, now
            return existing
        self.next_id += 1
        node = _Node(path, object_type, self.next_id, now, now, language, content)
        self.nodes[path] = node
        return node

    def info(self, node: _Node) -> WorkspaceObject:
        return WorkspaceObject(
            path=node.path,
            object_type=node.object_type,
            object_id=node.object_id,
            language=node.language,
            content=node.content,
            created_at=node.created_at,
            modified_at=node.modified_at,
        )

    # -- scripting --

    def add(self, path: str, object_type: str, language: str | None, content: bytes) -> None:
        path = _check_path(path)
        if object_type == "NOTEBOOK":
            assert language is not None
            content = _with_header(content.decode("utf-8"), language).encode()
        with self.fake._lock:
            failure = self._mkdirs(_parent(path))
            if failure is not None:
                raise ValueError(json.loads(failure.body)["message"])
            existing = self.nodes.get(path)
            if (
                existing is not None
                and existing.object_type == "DIRECTORY"
                and object_type != "DIRECTORY"
            ):
                raise ValueError(f"{path} is a directory")
            if object_type == "DIRECTORY":
                failure = self._mkdirs(path)
                if failure is not None:
                    raise ValueError(json.loads(failure.body)["message"])
            else:
                self._put(path, object_type, language, content)

    # -- tree --

    def children(self, path: str) -> list[_Node]:
        prefix = path.rstrip("/") + "/"
        return sorted(
            (
                node
                for p, node in self.nodes.items()
                if p != "/" and p.startswith(prefix) and "/" not in p[len(prefix) :]
            ),
            key=lambda node: node.path,
        )

    def _mkdirs(self, path: str) -> FakeResponse | None:
        parts = [p for p in path.split("/") if p]
        current = ""
        for part in parts:
            current += "/" + part
            node = self.nodes.get(current)
            if node is not None and node.object_type != "DIRECTORY":
                return _api_error(
                    400,
                    "RESOURCE_ALREADY_EXISTS",
                    f"Cannot create directory {path}: {current} is an existing "
                    f"{node.object_type.lower()}.",
                )
            if node is None:
                self._put(current, "DIRECTORY")
        return None

    # -- requests --

    def handle(self, request: RecordedRequest, action: str) -> FakeResponse:
        method = "POST" if action in ("import", "mkdirs", "delete") else "GET"
        if request.method != method:
            return _not_found_endpoint(request)
        if method == "GET":
            fields: dict[str, Any] = dict(request.query)
        elif action == "import" and request.headers.get("Content-Type", "").startswith(
            "multipart/form-data"
        ):
            parsed = _multipart(request)
            if isinstance(parsed, FakeResponse):
                return parsed
            fields = parsed
        else:
            body = _json_object(request)
            if isinstance(body, FakeResponse):
                return body
            fields = body
        path = fields.get("path")
        if not isinstance(path, str) or not path:
            return _invalid("Missing required field: path")
        if not path.startswith("/"):
            return _invalid(f"Path ({path}) doesn't start with '/'")
        path = path.rstrip("/") or "/"
        with self.fake._lock:
            if action == "mkdirs":
                failure = self._mkdirs(path)
                return failure if failure is not None else json_response(200, {})
            if action == "import":
                return self._import(path, fields)
            node = self.nodes.get(path)
            if node is None:
                return _api_error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
            if action == "get-status":
                return json_response(200, self._object_info(node))
            if action == "list":
                return self._list(node, fields.get("notebooks_modified_after"))
            if action == "delete":
                return self._delete(node, _flag(fields.get("recursive", False)))
            return self._export(node, fields)

    def _object_info(self, node: _Node) -> dict[str, Any]:
        info: dict[str, Any] = {
            "object_type": node.object_type,
            "path": node.path,
            "object_id": node.object_id,
        }
        if node.object_type != "DIRECTORY":
            info["created_at"] = _ms(node.created_at)
            info["modified_at"] = _ms(node.modified_at)
            info["resource_id"] = str(node.object_id)
        if node.language is not None:
            info["language"] = node.language
        if node.object_type == "FILE":
            info["size"] = len(node.content)
        return info

    def _list(self, node: _Node, modified_after: Any) -> FakeResponse:
        if node.object_type != "DIRECTORY":
            return json_response(200, {"objects": [self._object_info(node)]})
        threshold = None if modified_after is None else _integer(modified_after)
        if modified_after is not None and threshold is None:
            return _invalid(f"notebooks_modified_after must be an integer, got {modified_after!r}")
        objects = [
            self._object_info(child)
            for child in self.children(node.path)
            if threshold is None
            or child.object_type != "NOTEBOOK"
            or _ms(child.modified_at) > threshold
        ]
        return json_response(200, {"objects": objects} if objects else {})

    def _delete(self, node: _Node, recursive: bool) -> FakeResponse:
        if node.path == "/":
            return _invalid("The root folder cannot be deleted.")
        if node.object_type == "DIRECTORY" and self.children(node.path):
            if not recursive:
                return _api_error(400, "DIRECTORY_NOT_EMPTY", f"Folder ({node.path}) is not empty")
            prefix = node.path + "/"
            for path in [p for p in self.nodes if p.startswith(prefix)]:
                del self.nodes[path]
        del self.nodes[node.path]
        return json_response(200, {})

    def _import(self, path: str, fields: dict[str, Any]) -> FakeResponse:
        import_format = fields.get("format", "SOURCE")
        if import_format not in _IMPORT_FORMATS:
            return _invalid(
                f"Invalid format {import_format!r}: use one of {', '.join(sorted(_IMPORT_FORMATS))}"
            )
        content = fields.get("content", b"")
        if isinstance(content, str):
            try:
                content = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                return _invalid("content must be base64-encoded")
        if not isinstance(content, bytes):
            return _invalid("content must be a base64-encoded string")
        if len(content) > MAX_WORKSPACE_BYTES:
            return _api_error(
                400,
                "MAX_NOTEBOOK_SIZE_EXCEEDED",
                f"The content is {len(content)} bytes; the limit is {MAX_WORKSPACE_BYTES} bytes.",
            )
        language = fields.get("language")
        if language is not None and language not in _NOTEBOOK_LANGUAGES:
            return _invalid(
                f"Invalid language {language!r}: use one of {', '.join(_NOTEBOOK_LANGUAGES)}"
            )
        if import_format in ("HTML", "DBC", "R_MARKDOWN"):
            return _api_error(
                501,
                "NOT_IMPLEMENTED",
                f"FakeDatabricks does not import the {import_format} format; use SOURCE, "
                "JUPYTER, AUTO or RAW",
            )
        object_type, text = "NOTEBOOK", ""
        if import_format == "RAW":
            object_type = "FILE"
        elif import_format == "JUPYTER" or (
            import_format == "AUTO" and path.lower().endswith(".ipynb")
        ):
            notebook = _from_ipynb(content)
            if isinstance(notebook, FakeResponse):
                return notebook
            language, text = notebook
            if import_format == "AUTO":
                path = path[: -len(".ipynb")]
        elif import_format == "AUTO":
            stem, extension = os.path.splitext(path)
            detected = _EXTENSION_LANGUAGES.get(extension.lower())
            decoded = _utf8(content)
            if detected is not None and decoded is not None and _has_header(decoded, detected):
                language, text, path = detected, decoded, stem
            else:
                object_type = "FILE"
        else:  # SOURCE
            if language is None:
                return _invalid(
                    "The language must be set to import a single notebook in the SOURCE format "
                    "(importing a directory archive is not supported by FakeDatabricks)"
                )
            decoded = _utf8(content)
            if decoded is None:
                return _invalid("SOURCE content must be UTF-8 text")
            text = decoded
        parent = self.nodes.get(_parent(path))
        if parent is None or parent.object_type != "DIRECTORY":
            return _api_error(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                f"The parent folder ({_parent(path)}) does not exist.",
            )
        existing = self.nodes.get(path)
        if existing is not None and (
            not _flag(fields.get("overwrite", False)) or existing.object_type == "DIRECTORY"
        ):
            return _api_error(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")
        if existing is not None and existing.object_type != object_type:
            del self.nodes[path]
        if object_type == "FILE":
            self._put(path, "FILE", None, content)
        else:
            assert language is not None
            self._put(path, "NOTEBOOK", language, _with_header(text, language).encode())
        return json_response(200, {})

    def _export(self, node: _Node, fields: dict[str, Any]) -> FakeResponse:
        export_format = fields.get("format", "SOURCE")
        if export_format not in _EXPORT_FORMATS:
            return _invalid(
                f"Invalid format {export_format!r}: use one of {', '.join(sorted(_EXPORT_FORMATS))}"
            )
        if node.object_type == "DIRECTORY" or export_format in ("DBC", "R_MARKDOWN"):
            what = "a directory" if node.object_type == "DIRECTORY" else export_format
            return _api_error(
                501, "NOT_IMPLEMENTED", f"FakeDatabricks does not export {what} ({node.path})"
            )
        if node.object_type == "FILE":
            content, file_type = node.content, os.path.splitext(node.path)[1].lstrip(".")
        else:
            assert node.language is not None
            text = node.content.decode("utf-8")
            if export_format == "JUPYTER":
                content, file_type = _to_ipynb(text, node), "ipynb"
            elif export_format == "HTML":
                page = (
                    f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
                    f"{xml_escape(node.path.rsplit('/', 1)[-1])}</title></head><body><pre>"
                    f"{xml_escape(text)}</pre></body></html>"
                )
                content, file_type = page.encode(), "html"
            else:
                content, file_type = node.content, _NOTEBOOK_LANGUAGES[node.language][0]
        if len(content) > MAX_WORKSPACE_BYTES:
            return _api_error(
                400,
                "MAX_NOTEBOOK_SIZE_EXCEEDED",
                f"The export is {len(content)} bytes; the limit is {MAX_WORKSPACE_BYTES} bytes.",
            )
        if _flag(fields.get("direct_download", False)):
            return FakeResponse(200, content, {"Content-Type": "application/octet-stream"})
        return json_response(
            200, {"content": base64.b64encode(content).decode("ascii"), "file_type": file_type}
        )


def _check_path(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"workspace paths are absolute, got {path!r}")
    return path.rstrip("/") or "/"


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _utf8(content: bytes) -> str | None:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _header(language: str) -> str:
    return f"{_NOTEBOOK_LANGUAGES[language][1]} Databricks notebook source"


def _has_header(text: str, language: str) -> bool:
    return text.lstrip("\ufeff").startswith(_header(language))


def _with_header(text: str, language: str) -> str:
    """Notebook source as the workspace stores and exports it: the header line first."""
    return text if _has_header(text, language) else f"{_header(language)}\n{text}"


def _cells(text: str, language: str) -> list[str]:
    comment = _NOTEBOOK_LANGUAGES[language][1]
    body = text.split("\n", 1)[1] if _has_header(text, language) and "\n" in text else ""
    separator = re.compile(rf"\n*^{re.escape(comment)} COMMAND -+\n*", re.MULTILINE)
    return [cell.strip("\n") for cell in separator.split(body)] or [""]


def _from_ipynb(content: bytes) -> tuple[str, str] | FakeResponse:
    """(language, notebook source) of an ipynb document."""
    try:
        document = json.loads(content)
        cells = document["cells"]
        metadata = document.get("metadata", {})
    except (ValueError, KeyError, TypeError):
        return _invalid("The content is not a Jupyter notebook (ipynb JSON with cells)")
    name = (
        metadata.get("language_info", {}).get("name")
        or metadata.get("kernelspec", {}).get("language")
        or "python"
    )
    language = str(name).upper()
    if language not in _NOTEBOOK_LANGUAGES:
        return _invalid(f"Unsupported notebook language {name!r}")
    comment = _NOTEBOOK_LANGUAGES[language][1]
    sources = []
    for cell in cells:
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "markdown":
            text = "\n".join(
                f"{comment} MAGIC {line}".rstrip() for line in f"%md\n{text}".split("\n")
            )
        sources.append(text)
    separator = f"\n\n{comment} COMMAND ----------\n\n"
    return language, _with_header(separator.join(sources), language)


def _to_ipynb(text: str, node: _Node) -> bytes:
    assert node.language is not None
    comment = _NOTEBOOK_LANGUAGES[node.language][1]
    magic = f"{comment} MAGIC "
    cells: list[dict[str, Any]] = []
    for source in _cells(text, node.language):
        lines = source.split("\n")
        if lines[0].startswith(f"{magic}%md"):
            body = "\n".join(
                line[len(magic) :] if line.startswith(magic) else line for line in lines
            )
            markdown = body.split("\n", 1)[1] if "\n" in body else ""
            cells.append({"cell_type": "markdown", "metadata": {}, "source": _lines(markdown)})
        else:
            cells.append(
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "metadata": {},
                    "outputs": [],
                    "source": _lines(source),
                }
            )
    name = node.path.rsplit("/", 1)[-1]
    document = {
        "cells": cells,
        "metadata": {
            "application/vnd.databricks.v1+notebook": {
                "language": node.language.lower(),
                "notebookName": name,
            },
            "language_info": {"name": node.language.lower()},
        },
        "nbformat": 4,
        "nbformat_minor": 0,
    }
    return json.dumps(document, indent=1).encode()


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _multipart(request: RecordedRequest) -> dict[str, Any] | FakeResponse:
    """The fields of a multipart/form-data import (what databricks-sdk's upload() sends):
    ``content`` as bytes, the others as text."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\nMIME-Version: 1.0\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        head.encode() + request.body
    )
    if not message.is_multipart():
        return _api_error(400, "MALFORMED_REQUEST", "The multipart body cannot be read")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        fields[name] = payload if name == "content" else payload.decode("utf-8", "replace")
    return fields


# -- Pipelines API ---------------------------------------------------------------------------------

_PIPELINES_ROUTE = re.compile(
    r"^/api/2\.0/pipelines(?:/(?P<id>[^/]+)(?:/(?P<action>updates|stop)(?:/(?P<update>[^/]+))?)?)?/?$"
)
_UPDATE_STATES = frozenset(
    {"QUEUED", "CREATED", "WAITING_FOR_RESOURCES", "INITIALIZING", "RESETTING",
     "SETTING_UP_TABLES", "RUNNING", "STOPPING", "COMPLETED", "FAILED", "CANCELED"}
)  # fmt: skip
_FINAL_UPDATE_STATES = frozenset({"COMPLETED", "FAILED", "CANCELED"})
_LIKE_FILTER = re.compile(r"^\s*name\s+LIKE\s+'(?P<pattern>(?:[^']|'')*)'\s*$", re.IGNORECASE)
_NOTEBOOK_FILTER = re.compile(r"^\s*notebook\s*=\s*'(?P<path>(?:[^']|'')*)'\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class _UpdateScript:
    states: tuple[str, ...]
    final: str
    polls_per_state: int

    def __post_init__(self) -> None:
        unknown = [s for s in self.states if s not in _UPDATE_STATES or s in _FINAL_UPDATE_STATES]
        if unknown:
            raise ValueError(
                f"update_states must be non-final update states, got {unknown}; use "
                f"{sorted(_UPDATE_STATES - _FINAL_UPDATE_STATES)}"
            )
        if self.final not in _FINAL_UPDATE_STATES:
            raise ValueError(f"final must be COMPLETED, FAILED or CANCELED, got {self.final!r}")
        if self.polls_per_state < 1:
            raise ValueError(f"polls_per_state must be >= 1, got {self.polls_per_state}")


@dataclass
class _Update:
    update_id: str
    pipeline_id: str
    script: _UpdateScript
    creation_time: float
    request: dict[str, Any]
    index: int = 0
    phase_polls: int = 0
    polls: int = 0
    canceled: bool = False

    @property
    def state(self) -> str:
        if self.canceled:
            return "CANCELED"
        states = self.script.states
        return states[self.index] if self.index < len(states) else self.script.final


@dataclass
class _Pipeline:
    pipeline_id: str
    name: str
    spec: dict[str, Any]
    script: _UpdateScript
    stop_polls: int
    creator: str
    cluster_id: str
    last_modified: float
    updates: list[_Update] = field(default_factory=list)
    stopping: int | None = None
    starts: int = 0
    stops: int = 0
    conflicts: int = 0

    def active(self) -> _Update | None:
        if self.updates and self.updates[-1].state not in _FINAL_UPDATE_STATES:
            return self.updates[-1]
        return None


class _Pipelines:
    def __init__(self, fake: FakeDatabricks) -> None:
        self.fake = fake
        self.pipelines: dict[str, _Pipeline] = {}
        self.updates: dict[str, _Update] = {}

    def add(self, pipeline: _Pipeline) -> str:
        with self.fake._lock:
            if pipeline.pipeline_id in self.pipelines:
                raise ValueError(f"pipeline {pipeline.pipeline_id} exists already")
            self.pipelines[pipeline.pipeline_id] = pipeline
        return pipeline.pipeline_id

    def update_info(self, update: _Update) -> PipelineUpdateInfo:
        return PipelineUpdateInfo(
            update_id=update.update_id,
            pipeline_id=update.pipeline_id,
            state=update.state,
            polls=update.polls,
            cause=str(update.request.get("cause", "API_CALL")),
            full_refresh=bool(update.request.get("full_refresh", False)),
            refresh_selection=tuple(update.request.get("refresh_selection") or ()),
            full_refresh_selection=tuple(update.request.get("full_refresh_selection") or ()),
            validate_only=bool(update.request.get("validate_only", False)),
        )

    def info(self, pipeline: _Pipeline) -> PipelineInfo:
        return PipelineInfo(
            pipeline_id=pipeline.pipeline_id,
            name=pipeline.name,
            state=self._state(pipeline),
            health=self._health(pipeline),
            updates=tuple(self.update_info(u) for u in pipeline.updates),
            starts=pipeline.starts,
            stops=pipeline.stops,
            conflicts=pipeline.conflicts,
        )

    # -- progression --

    def _poll(self, pipeline: _Pipeline, update: _Update | None = None) -> None:
        """A get of the pipeline or of one of its updates was answered: the active update (or
        the stop) moves on."""
        if pipeline.stopping is not None:
            pipeline.stopping += 1
            if pipeline.stopping >= pipeline.stop_polls:
                pipeline.stopping = None
        active = pipeline.active()
        if active is not None:
            active.phase_polls += 1
            if active.phase_polls >= active.script.polls_per_state:
                active.index, active.phase_polls = active.index + 1, 0
        if update is not None:
            update.polls += 1

    def _state(self, pipeline: _Pipeline) -> str:
        if pipeline.stopping is not None:
            return "STOPPING"
        return "RUNNING" if pipeline.active() is not None else "IDLE"

    def _health(self, pipeline: _Pipeline) -> str:
        finished = [u for u in pipeline.updates if u.state in _FINAL_UPDATE_STATES]
        return "UNHEALTHY" if finished and finished[-1].state == "FAILED" else "HEALTHY"

    # -- requests --

    def handle(self, request: RecordedRequest, route: re.Match[str]) -> FakeResponse:
        pipeline_id, action, update_id = route["id"], route["action"], route["update"]
        with self.fake._lock:
            if pipeline_id is None:
                if request.method != "GET":
                    return _not_found_endpoint(request)
                return self._list(request.query)
            pipeline = self.pipelines.get(pipeline_id)
            if pipeline is None:
                return _api_error(
                    404, "RESOURCE_DOES_NOT_EXIST", f"Pipeline {pipeline_id} does not exist."
                )
            if action is None:
                if request.method != "GET":
                    return _not_found_endpoint(request)
                payload = self._pipeline_payload(pipeline, full=True)
                self._poll(pipeline)
                return json_response(200, payload)
            if action == "stop":
                if request.method != "POST" or update_id is not None:
                    return _not_found_endpoint(request)
                return self._stop(pipeline)
            if update_id is not None:
                if request.method != "GET":
                    return _not_found_endpoint(request)
                update = self.updates.get(update_id)
                if update is None or update.pipeline_id != pipeline_id:
                    return _api_error(
                        404,
                        "RESOURCE_DOES_NOT_EXIST",
                        f"Update {update_id} of pipeline {pipeline_id} does not exist.",
                    )
                payload = {"update": self._update_payload(update)}
                self._poll(pipeline, update)
                return json_response(200, payload)
            if request.method == "GET":
                return self._list_updates(pipeline, request.query)
            if request.method != "POST":
                return _not_found_endpoint(request)
            body = _json_object(request)
            if isinstance(body, FakeResponse):
                return body
            return self._start(pipeline, body)

    def _page_size(self, query: dict[str, str], default: int) -> int | FakeResponse:
        raw = query.get("max_results")
        if raw is None:
            return default
        size = _integer(raw)
        if size is None or not 1 <= size <= 100:
            return _invalid(f"max_results must be between 1 and 100, got {raw!r}")
        return size

    def _list(self, query: dict[str, str]) -> FakeResponse:
        size = self._page_size(query, 25)
        if isinstance(size, FakeResponse):
            return size
        pipelines = sorted(self.pipelines.values(), key=lambda p: p.pipeline_id)
        filter_text = query.get("filter")
        if filter_text:
            if (like := _LIKE_FILTER.match(filter_text)) is not None:
                pattern = _like_pattern(like["pattern"].replace("''", "'"))
                pipelines = [p for p in pipelines if pattern.fullmatch(p.name)]
            elif (notebook := _NOTEBOOK_FILTER.match(filter_text)) is not None:
                path = notebook["path"].replace("''", "'")
                pipelines = [p for p in pipelines if path in _notebook_paths(p.spec)]
            else:
                return _invalid(
                    f"Invalid filter {filter_text!r}: use name LIKE '<pattern>' or "
                    "notebook='<path>'"
                )
        order = query.get("order_by", "id asc").strip().lower()
        if order not in ("id asc", "id desc", "id"):
            return _invalid(
                f"Invalid order_by {query.get('order_by')!r}: use 'id asc' or 'id desc'"
            )
        if order == "id desc":
            pipelines.reverse()
        scope = f"pipelines:{filter_text or ''}:{order}"
        offset = _read_token(query.get("page_token"), scope)
        if offset is None:
            return _bad_token(query.get("page_token", ""))
        page = pipelines[offset : offset + size]
        payload: dict[str, Any] = {}
        if page:
            payload["statuses"] = [self._pipeline_payload(p, full=False) for p in page]
        if offset + size < len(pipelines):
            payload["next_page_token"] = _make_token(scope, offset + size)
        if offset > 0:
            payload["prev_page_token"] = _make_token(scope, max(0, offset - size))
        return json_response(200, payload)

    def _list_updates(self, pipeline: _Pipeline, query: dict[str, str]) -> FakeResponse:
        size = self._page_size(query, 25)
        if isinstance(size, FakeResponse):
            return size
        updates = list(reversed(pipeline.updates))
        until = query.get("until_update_id")
        if until:
            ids = [u.update_id for u in updates]
            if until in ids:
                updates = updates[: ids.index(until) + 1]
        scope = f"updates:{pipeline.pipeline_id}"
        offset = _read_token(query.get("page_token"), scope)
        if offset is None:
            return _bad_token(query.get("page_token", ""))
        page = updates[offset : offset + size]
        payload: dict[str, Any] = {}
        if page:
            payload["updates"] = [self._update_payload(u) for u in page]
        if offset + size < len(updates):
            payload["next_page_token"] = _make_token(scope, offset + size)
        if offset > 0:
            payload["prev_page_token"] = _make_token(scope, max(0, offset - size))
        return json_response(200, payload)

    def _start(self, pipeline: _Pipeline, body: dict[str, Any]) -> FakeResponse:
        for name in ("full_refresh", "validate_only", "development"):
            if name in body and not isinstance(body[name], bool):
                return _invalid(f"{name} must be a boolean, got {json.dumps(body[name])}")
        for name in ("refresh_selection", "full_refresh_selection"):
            value = body.get(name)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                return _invalid(f"{name} must be a list of table names")
        if body.get("full_refresh") and (
            body.get("refresh_selection") or body.get("full_refresh_selection")
        ):
            return _invalid(
                "full_refresh cannot be combined with refresh_selection or full_refresh_selection"
            )
        pipeline.starts += 1
        active = pipeline.active()
        if active is not None:
            pipeline.conflicts += 1
            return _api_error(
                409,
                "RESOURCE_CONFLICT",
                f"Cannot start an update on pipeline {pipeline.pipeline_id}: update "
                f"{active.update_id} is active ({active.state}).",
            )
        update = _Update(
            update_id=str(uuid.uuid4()),
            pipeline_id=pipeline.pipeline_id,
            script=pipeline.script,
            creation_time=self.fake.now(),
            request=json.loads(json.dumps(body)),
        )
        pipeline.updates.append(update)
        pipeline.stopping = None
        self.updates[update.update_id] = update
        return json_response(200, {"update_id": update.update_id})

    def _stop(self, pipeline: _Pipeline) -> FakeResponse:
        pipeline.stops += 1
        active = pipeline.active()
        if active is not None:
            active.canceled = True
            if pipeline.stop_polls > 0:
                pipeline.stopping = 0
        return json_response(200, {})

    # -- payloads --

    def _latest(self, pipeline: _Pipeline) -> list[dict[str, Any]]:
        return [
            {
                "update_id": update.update_id,
                "state": update.state,
                "creation_time": _timestamp_text(
                    datetime.fromtimestamp(update.creation_time, timezone.utc)
                ),
            }
            for update in reversed(pipeline.updates[-5:])
        ]

    def _pipeline_payload(self, pipeline: _Pipeline, *, full: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "pipeline_id": pipeline.pipeline_id,
            "name": pipeline.name,
            "state": self._state(pipeline),
            "cluster_id": pipeline.cluster_id,
            "creator_user_name": pipeline.creator,
            "run_as_user_name": pipeline.creator,
            "health": self._health(pipeline),
        }
        latest = self._latest(pipeline)
        if latest:
            payload["latest_updates"] = latest
        if full:
            payload["spec"] = json.loads(json.dumps(pipeline.spec))
            payload["last_modified"] = _ms(pipeline.last_modified)
            if pipeline.updates:
                payload["cause"] = f"An update was {pipeline.updates[-1].state.lower()}"
        return payload

    def _update_payload(self, update: _Update) -> dict[str, Any]:
        request = update.request
        payload: dict[str, Any] = {
            "update_id": update.update_id,
            "pipeline_id": update.pipeline_id,
            "state": update.state,
            "creation_time": _ms(update.creation_time),
            "cause": request.get("cause", "API_CALL"),
            "full_refresh": bool(request.get("full_refresh", False)),
            "validate_only": bool(request.get("validate_only", False)),
            "cluster_id": self.pipelines[update.pipeline_id].cluster_id,
            "config": json.loads(json.dumps(self.pipelines[update.pipeline_id].spec)),
        }
        for name in ("refresh_selection", "full_refresh_selection", "parameters"):
            if request.get(name):
                payload[name] = request[name]
        return payload


def _like_pattern(pattern: str) -> re.Pattern[str]:
    """A SQL LIKE pattern (``%``, ``_``) as a case-insensitive regular expression."""
    translated = "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern
    )
    return re.compile(translated, re.IGNORECASE | re.DOTALL)


def _notebook_paths(spec: Mapping[str, Any]) -> list[str]:
    paths = []
    for library in spec.get("libraries") or []:
        if isinstance(library, dict) and isinstance(library.get("notebook"), dict):
            paths.append(str(library["notebook"].get("path", "")))
    return paths


# -- Unity Catalog ---------------------------------------------------------------------------------

_UC_ROUTE = re.compile(
    r"^/api/2\.1/unity-catalog/(?P<kind>catalogs|schemas|tables)"
    r"(?:/(?P<name>[^/]+)(?P<exists>/exists)?)?/?$"
)
_TABLE_TYPES = frozenset(
    {"MANAGED", "EXTERNAL", "VIEW", "MATERIALIZED_VIEW", "STREAMING_TABLE", "FOREIGN",
     "MANAGED_SHALLOW_CLONE", "EXTERNAL_SHALLOW_CLONE", "METRIC_VIEW"}
)  # fmt: skip
_UC_TYPE_TEXT = {
    "LONG": "bigint",
    "INT": "int",
    "SHORT": "smallint",
    "BYTE": "tinyint",
    "BOOLEAN": "boolean",
    "FLOAT": "float",
    "DOUBLE": "double",
    "STRING": "string",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BINARY": "binary",
    "NULL": "void",
}


@dataclass
class _Securable:
    full_name: str
    comment: str | None
    owner: str
    created_at: float
    properties: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)


class _Catalog:
    def __init__(self, fake: FakeDatabricks) -> None:
        self.fake = fake
        self.catalogs: dict[str, _Securable] = {}
        self.schemas: dict[str, _Securable] = {}
        self.tables: dict[str, _Securable] = {}

    # -- scripting --

    def _new(
        self,
        full_name: str,
        comment: str | None,
        owner: str | None,
        properties: Mapping[str, str] | None,
    ) -> _Securable:
        return _Securable(
            full_name=full_name,
            comment=comment,
            owner=owner or self.fake.user_name,
            created_at=self.fake.now(),
            properties=dict(properties or {}),
        )

    def add_catalog(
        self,
        name: str,
        comment: str | None,
        owner: str | None,
        properties: Mapping[str, str] | None,
    ) -> None:
        name = _uc_name(name, 1)
        with self.fake._lock:
            self.catalogs[name] = self._new(name, comment, owner, properties)

    def add_schema(
        self,
        full_name: str,
        comment: str | None,
        owner: str | None,
        properties: Mapping[str, str] | None,
    ) -> None:
        full_name = _uc_name(full_name, 2)
        with self.fake._lock:
            catalog = full_name.split(".")[0]
            if catalog not in self.catalogs:
                self.catalogs[catalog] = self._new(catalog, None, owner, None)
            self.schemas[full_name] = self._new(full_name, comment, owner, properties)

    def add_table(self, full_name: str, table: _Securable) -> None:
        with self.fake._lock:
            schema = full_name.rsplit(".", 1)[0]
            if schema not in self.schemas:
                self.add_schema(schema, None, table.owner, None)
            self.tables[full_name] = table

    # -- requests --

    def handle(self, request: RecordedRequest, route: re.Match[str]) -> FakeResponse:
        if request.method != "GET":
            return _not_found_endpoint(request)
        kind, name, exists = route["kind"], route["name"], route["exists"]
        query = request.query
        with self.fake._lock:
            if exists is not None:
                if kind != "tables" or name is None:
                    return _not_found_endpoint(request)
                return json_response(200, {"table_exists": name.lower() in self.tables})
            if name is not None:
                return self._get(kind, name.lower(), query)
            if kind == "catalogs":
                items = [self._catalog_payload(c) for _, c in sorted(self.catalogs.items())]
                return self._page(items, "catalogs", "catalogs", query)
            catalog_name = query.get("catalog_name", "").lower()
            if not catalog_name:
                return _invalid("Missing required field: catalog_name")
            if catalog_name not in self.catalogs:
                return _uc_missing(
                    "CATALOG_DOES_NOT_EXIST", f"Catalog '{catalog_name}' does not exist."
                )
            if kind == "schemas":
                items = [
                    self._schema_payload(s)
                    for full, s in sorted(self.schemas.items())
                    if full.split(".")[0] == catalog_name
                ]
                return self._page(items, "schemas", f"schemas:{catalog_name}", query)
            schema_name = query.get("schema_name", "").lower()
            if not schema_name:
                return _invalid("Missing required field: schema_name")
            schema = f"{catalog_name}.{schema_name}"
            if schema not in self.schemas:
                return _uc_missing("SCHEMA_DOES_NOT_EXIST", f"Schema '{schema}' does not exist.")
            items = [
                self._table_payload(t, query)
                for full, t in sorted(self.tables.items())
                if full.rsplit(".", 1)[0] == schema
            ]
            return self._page(items, "tables", f"tables:{schema}", query)

    def _get(self, kind: str, name: str, query: dict[str, str]) -> FakeResponse:
        if kind == "catalogs":
            catalog = self.catalogs.get(name)
            if catalog is None:
                return _uc_missing("CATALOG_DOES_NOT_EXIST", f"Catalog '{name}' does not exist.")
            return json_response(200, self._catalog_payload(catalog))
        missing = self._missing_parent(name, 2 if kind == "schemas" else 3)
        if missing is not None:
            return missing
        if kind == "schemas":
            return json_response(200, self._schema_payload(self.schemas[name]))
        table = self.tables.get(name)
        if table is None:
            return _uc_missing("TABLE_DOES_NOT_EXIST", f"Table '{name}' does not exist.")
        return json_response(200, self._table_payload(table, query))

    def _missing_parent(self, name: str, parts: int) -> FakeResponse | None:
        pieces = name.split(".")
        if len(pieces) != parts or not all(pieces):
            what = "schema" if parts == 2 else "table"
            return _invalid(
                f"Invalid {what} full name {name!r}: expected {parts} dot-separated parts"
            )
        if pieces[0] not in self.catalogs:
            return _uc_missing("CATALOG_DOES_NOT_EXIST", f"Catalog '{pieces[0]}' does not exist.")
        schema = ".".join(pieces[:2])
        if schema not in self.schemas:
            return _uc_missing("SCHEMA_DOES_NOT_EXIST", f"Schema '{schema}' does not exist.")
        return None

    def _page(
        self, items: list[dict[str, Any]], key: str, scope: str, query: dict[str, str]
    ) -> FakeResponse:
        raw = query.get("max_results")
        token = query.get("page_token")
        if raw is None and not token:
            return json_response(200, {key: items})  # unpaginated: everything, no token
        size = self.fake.uc_page_size
        if raw is not None:
            requested = _integer(raw)
            if requested is None or requested < 0:
                return _invalid(f"max_results must be a non-negative integer, got {raw!r}")
            if requested > 0:
                size = min(requested, self.fake.uc_page_size)
        empty_first = self.fake.uc_empty_pages
        empty_scope = f"{scope}:empty"
        offset = _read_token(token, scope)
        served_empty = False
        if offset is None:
            offset = _read_token(token, empty_scope)
            served_empty = True
            if offset is None:
                return _bad_token(token or "")
        if empty_first and not served_empty and offset < len(items):
            # a page with no results that still points further, as the service may send
            return json_response(
                200, {key: [], "next_page_token": _make_token(empty_scope, offset)}
            )
        page = items[offset : offset + size]
        payload: dict[str, Any] = {key: page}
        if offset + size < len(items):
            payload["next_page_token"] = _make_token(scope, offset + size)
        return json_response(200, payload)

    def _catalog_payload(self, catalog: _Securable) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "name": catalog.full_name,
            "full_name": catalog.full_name,
            "owner": catalog.owner,
            "catalog_type": "MANAGED_CATALOG",
            "metastore_id": METASTORE_ID,
            "isolation_mode": "OPEN",
            "securable_type": "CATALOG",
            "created_at": _ms(catalog.created_at),
            "created_by": catalog.owner,
            "updated_at": _ms(catalog.created_at),
            "updated_by": catalog.owner,
            "properties": dict(catalog.properties),
        }
        if catalog.comment is not None:
            payload["comment"] = catalog.comment
        return payload

    def _schema_payload(self, schema: _Securable) -> dict[str, Any]:
        catalog, name = schema.full_name.split(".")
        payload: dict[str, Any] = {
            "name": name,
            "catalog_name": catalog,
            "full_name": schema.full_name,
            "owner": schema.owner,
            "metastore_id": METASTORE_ID,
            "catalog_type": "MANAGED_CATALOG",
            "securable_type": "SCHEMA",
            "created_at": _ms(schema.created_at),
            "created_by": schema.owner,
            "updated_at": _ms(schema.created_at),
            "updated_by": schema.owner,
            "properties": dict(schema.properties),
        }
        if schema.comment is not None:
            payload["comment"] = schema.comment
        return payload

    def _table_payload(self, table: _Securable, query: Mapping[str, str]) -> dict[str, Any]:
        catalog, schema, name = table.full_name.split(".")
        payload: dict[str, Any] = {
            "name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "full_name": table.full_name,
            "owner": table.owner,
            "metastore_id": METASTORE_ID,
            "securable_type": "TABLE",
            "created_at": _ms(table.created_at),
            "created_by": table.owner,
            "updated_at": _ms(table.created_at),
            "updated_by": table.owner,
            **json.loads(json.dumps(table.extra)),
            "properties": dict(table.properties),
        }
        if table.comment is not None:
            payload["comment"] = table.comment
        if _flag(query.get("omit_columns", "false")):
            payload.pop("columns", None)
        if _flag(query.get("omit_properties", "false")):
            payload.pop("properties", None)
        if _flag(query.get("omit_username", "false")):
            for key in ("owner", "created_by", "updated_by"):
                payload.pop(key, None)
        return payload


def _uc_name(name: str, parts: int) -> str:
    pieces = name.strip().lower().split(".")
    if len(pieces) != parts or not all(pieces):
        raise ValueError(
            f"expected a name of {parts} dot-separated part{'s' if parts > 1 else ''}, got {name!r}"
        )
    return ".".join(pieces)


def _uc_missing(code: str, message: str) -> FakeResponse:
    return _api_error(404, code, message)


def _uc_type_text(sql_type: _Type) -> str:
    name = sql_type.name
    if name in ("CHAR", "STRING") and "(" in sql_type.text:
        return sql_type.text.lower()
    if name == "DECIMAL":
        return f"decimal({sql_type.precision},{sql_type.scale})"
    if name == "INTERVAL":
        return f"interval {(sql_type.interval or '').lower()}"
    if name == "ARRAY":
        assert sql_type.element is not None
        return f"array<{_uc_type_text(sql_type.element)}>"
    if name == "MAP":
        assert sql_type.key is not None
        assert sql_type.value is not None
        return f"map<{_uc_type_text(sql_type.key)},{_uc_type_text(sql_type.value)}>"
    if name == "STRUCT":
        inner = ",".join(f"{n}:{_uc_type_text(t)}" for n, t in sql_type.fields)
        return f"struct<{inner}>"
    return _UC_TYPE_TEXT[name]


def _uc_columns(
    columns: Iterable[tuple[str, str] | Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """UC ColumnInfo objects from (name, SQL type) pairs or {"name", "type", "comment",
    "nullable"} mappings."""
    infos: list[dict[str, Any]] = []
    for position, column in enumerate(columns):
        if isinstance(column, Mapping):
            name, text = column["name"], column["type"]
            comment, nullable = column.get("comment"), bool(column.get("nullable", True))
        else:
            if isinstance(column, str) or len(column) != 2:
                raise TypeError(f"columns are (name, SQL type) pairs or mappings, got {column!r}")
            (name, text), comment, nullable = column, None, True
        sql_type = _parse_type(str(text))
        info: dict[str, Any] = {
            "name": str(name),
            "type_text": _uc_type_text(sql_type),
            "type_name": sql_type.name,
            "type_json": json.dumps(
                {
                    "name": str(name),
                    "type": _spark_type(sql_type),
                    "nullable": nullable,
                    "metadata": {},
                },
                separators=(",", ":"),
            ),
            "position": position,
            "nullable": nullable,
        }
        if sql_type.name == "DECIMAL":
            info["type_precision"] = sql_type.precision
            info["type_scale"] = sql_type.scale
        if sql_type.interval is not None:
            info["type_interval_type"] = sql_type.interval
        if comment is not None:
            info["comment"] = comment
        infos.append(info)
    names = [info["name"].lower() for info in infos]
    if len(set(names)) != len(names):
        raise ValueError(f"column names must be distinct, got {names}")
    return infos
