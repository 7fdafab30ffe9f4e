"""The :class:`FakeFabric` server: routing, authentication, throttling and paging over the
state kept by the sibling modules (items, operations, jobs, lakehouses)."""

from __future__ import annotations

import base64
import itertools
import json
import math
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote

from aadap.testing._server import (
    FakeResponse,
    FakeServer,
    RecordedRequest,
    json_response,
    seconds_text,
    status_phrase,
)
from aadap.testing.entra import FakeEntra, TokenStatus
from aadap.testing.fabric._errors import (
    REQUEST_ID_HEADER,
    FabricError,
    invalid_input,
    not_found,
)
from aadap.testing.fabric._items import (
    COLLECTIONS,
    ITEM_TYPES,
    Definition,
    Item,
    NotebookCell,
    NotebookCode,
    notebook_code,
    notebook_definition,
    parse_definition,
    render_definition,
)
from aadap.testing.fabric._jobs import (
    JOB_TYPES,
    PARAMETER_TYPES,
    TERMINAL_STATUSES,
    Job,
    JobInstance,
    JobOutcome,
    notebook_outcome,
)
from aadap.testing.fabric._lakehouse import (
    SQL_ENDPOINT_STATUSES,
    TABLE_TYPES,
    LakehouseState,
    Table,
    table_location,
)
from aadap.testing.fabric._operations import LongRunning, Operation, OperationFailure

FABRIC_AUDIENCE = "https://api.fabric.microsoft.com"
"""The audience of Entra tokens for Fabric (scope :data:`FABRIC_SCOPE`)."""
FABRIC_SCOPE = f"{FABRIC_AUDIENCE}/.default"
"""The client-credentials scope for Fabric."""
DEFAULT_WORKSPACE_ID = "5e1f2a3b-0000-4000-8000-0000000fab01"
"""The id of the workspace a :class:`FakeFabric` starts with (display name ``SANDBOX``)."""
DEFAULT_CAPACITY_ID = "c0ffee00-0000-4000-8000-0000000fab0c"
"""The capacity its workspaces are assigned to."""

_COMPUTES = ("Spark", "Jupyter", "DataWarehouse")
_MAX_CURSORS = 1000
"""Continuation tokens remembered at once (the oldest are forgotten first)."""

Handler = Callable[[RecordedRequest, dict[str, str]], FakeResponse]


@dataclass(frozen=True)
class Workspace:
    """A workspace of the fake."""

    id: str
    display_name: str
    description: str = ""
    capacity_id: str | None = DEFAULT_CAPACITY_ID

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "displayName": self.display_name,
            "description": self.description,
            "type": "Workspace",
        }
        if self.capacity_id is not None:
            body["capacityId"] = self.capacity_id
        return body


@dataclass
class _Cursor:
    path: str
    offset: int
    size: int
    filters: dict[str, str]


@dataclass
class _Script:
    item_id: str | None
    outcome: JobOutcome
    polls: int | None


@dataclass
class _NameHold:
    workspace_id: str
    item_type: str
    name: str
    """Lower-cased: display names compare case-insensitively."""
    creates: int
    status: int


class FakeFabric(FakeServer):
    """A fake Microsoft Fabric tenant serving the REST API under ``{url}/v1``.

    ``entra``: accept only bearer tokens that fake issued for ``https://api.fabric.microsoft.com``
    (an expired one gets 401 ``TokenExpired``); without it any bearer token is accepted. A
    missing or rejected token gets 401 ``Unauthorized``. ``tls`` (default True: Azure SDKs send
    bearer tokens only over https). ``clock`` (epoch seconds) stamps operations and job instances
    and drives the throttling window.

    Knobs (attributes, may be changed at any time):

    - ``page_size`` (default 2): entries per page of every list (workspaces, items, job
      instances; lakehouse tables unless ``maxResults`` says otherwise).
    - ``create_lro``: ``"with_definition"`` (default: 202 when the body has a definition, else
      201), ``"always"`` or ``"never"``; ``update_definition_lro`` (default True: 202, else 200)
      and ``get_definition_lro`` (default False: 200, else 202).
    - ``lro_polls`` (default 2): state requests that still find an operation unfinished; the
      (``lro_polls`` + 1)-th ends it (Succeeded or Failed), so 0 ends it on the first poll.
      Of the unfinished answers the first is NotStarted when there are several, the others
      Running. ``lro_seconds`` (default 2.0; None: never): seconds of ``clock`` after its start
      at which an operation ends on its own, polled or not (its effect applied, the reserved
      name released), as the service's operations do; whichever comes first ends it.
      ``retry_after`` (default 1, whole seconds) the Retry-After of 202s and running operation
      states.
    - ``job_polls`` (default 2): GETs of a job instance that still find it running (NotStarted
      first, then InProgress); the (``job_polls`` + 1)-th ends it. ``job_seconds`` (default
      5.0; None: never): seconds of ``clock`` after its start at which an instance ends on its
      own. ``job_retry_after`` (default 1, whole seconds) the Retry-After of job 202s and of
      GETs of running instances.

    ``lro_seconds`` and ``job_seconds`` are read when an operation or instance starts. Both
    Retry-After knobs refuse other than whole seconds >= 0 (ValueError): HTTP's Retry-After is
    an integer.

    Scripting: :meth:`script_job` (a job's outcome: Completed with an exitValue, Failed,
    Cancelled, Deduped; otherwise a notebook's code decides, see
    :func:`~aadap.testing.fabric._jobs.notebook_outcome`), :meth:`fail_next_operation`,
    :meth:`reserve_name`, :meth:`throttle`, and the faults of
    :class:`~aadap.testing.FakeServer`, which answer with Fabric's ErrorResponse
    (:meth:`_error_response`); every response, faulted ones included, carries a ``RequestId``
    header.

    Thread-safe, like every :class:`FakeServer`.
    """

    def __init__(
        self,
        *,
        tls: bool = True,
        entra: FakeEntra | None = None,
        page_size: int = 2,
        lro_polls: int = 2,
        job_polls: int = 2,
        retry_after: int = 1,
        job_retry_after: int = 1,
        lro_seconds: float | None = 2.0,
        job_seconds: float | None = 5.0,
        create_lro: Literal["with_definition", "always", "never"] = "with_definition",
        update_definition_lro: bool = True,
        get_definition_lro: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(tls=tls)
        self.entra = entra
        """The Entra fake whose tokens are accepted (None: any bearer token)."""
        self.page_size = page_size
        self.lro_polls = lro_polls
        self.job_polls = job_polls
        self._retry_after = _whole_seconds("retry_after", retry_after)
        self._job_retry_after = _whole_seconds("job_retry_after", job_retry_after)
        self.lro_seconds = lro_seconds
        self.job_seconds = job_seconds
        self.create_lro: Literal["with_definition", "always", "never"] = create_lro
        self.update_definition_lro = update_definition_lro
        self.get_definition_lro = get_definition_lro
        self._clock = clock
        self._workspaces: dict[str, Workspace] = {}
        self._items: dict[str, Item] = {}
        self._definitions: dict[str, Definition] = {}
        self._logical_ids: dict[str, str] = {}
        self._reserved: dict[str, tuple[str, str, str]] = {}
        self._holds: list[_NameHold] = []
        self._lakehouses: dict[str, LakehouseState] = {}
        self._operations: dict[str, LongRunning] = {}
        self._operation_failures: list[OperationFailure] = []
        self._jobs: dict[str, Job] = {}
        self._scripts: list[_Script] = []
        self._cursors: dict[str, _Cursor] = {}
        self._cursor_serial = itertools.count(1)
        self._throttle_limit: int | None = None
        self._throttle_window = 60.0
        self._throttle_retry_after: int | None = None
        self._calls: dict[str, deque[float]] = {}
        self._workspaces[DEFAULT_WORKSPACE_ID] = Workspace(
            DEFAULT_WORKSPACE_ID, "SANDBOX", "aadap sandbox workspace"
        )
        self._routes = self._route_table()

    @property
    def retry_after(self) -> int:
        """The Retry-After (whole seconds) of operation 202s and running operation states."""
        return self._retry_after

    @retry_after.setter
    def retry_after(self, value: int) -> None:
        self._retry_after = _whole_seconds("retry_after", value)

    @property
    def job_retry_after(self) -> int:
        """The Retry-After (whole seconds) of job 202s and GETs of running job instances."""
        return self._job_retry_after

    @job_retry_after.setter
    def job_retry_after(self, value: int) -> None:
        self._job_retry_after = _whole_seconds("job_retry_after", value)

    # -- the tenant's contents -----------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """``{url}/v1``: the base of every Fabric route."""
        return f"{self.url}/v1"

    @property
    def workspace_id(self) -> str:
        """The id of the default workspace, ``SANDBOX``."""
        return DEFAULT_WORKSPACE_ID

    def add_workspace(
        self,
        display_name: str,
        *,
        description: str = "",
        capacity_id: str | None = DEFAULT_CAPACITY_ID,
    ) -> Workspace:
        """Adds a workspace; returns it."""
        workspace = Workspace(str(uuid.uuid4()), display_name, description, capacity_id)
        with self._lock:
            self._workspaces[workspace.id] = workspace
        return workspace

    def workspaces(self) -> list[Workspace]:
        """Every workspace, in creation order."""
        with self._lock:
            return list(self._workspaces.values())

    def add_item(
        self,
        item_type: str,
        display_name: str,
        *,
        workspace_id: str | None = None,
        description: str = "",
        definition: Mapping[str, Any] | None = None,
    ) -> Item:
        """Adds an item directly (no HTTP, no LRO), with an optional definition in its wire form
        (``{"format", "parts":[{"path","payload","payloadType"}]}``, checked as a create would);
        returns it. ValueError for an unknown type or workspace, a taken name or a bad
        definition."""
        return self._add_item(item_type, display_name, workspace_id, description, definition)

    def _add_item(
        self,
        item_type: str,
        display_name: str,
        workspace_id: str | None,
        description: str = "",
        definition: Mapping[str, Any] | None = None,
        lakehouse: Callable[[Item], LakehouseState] | None = None,
    ) -> Item:
        try:
            parsed = None if definition is None else parse_definition(item_type, definition)
            with self._lock:
                self._settle()
                item = self._new_item(
                    workspace_id or DEFAULT_WORKSPACE_ID, item_type, display_name, description
                )
                self._insert(item, parsed, None if lakehouse is None else lakehouse(item))
        except FabricError as error:
            raise ValueError(error.message) from None
        return item

    def add_notebook(
        self,
        display_name: str,
        code: str | Sequence[str],
        *,
        language: str = "python",
        workspace_id: str | None = None,
        lakehouse: Mapping[str, Any] | None = None,
    ) -> Item:
        """Adds a notebook whose code cells are ``code`` (one string: one cell), stored as an
        ``ipynb`` definition; ``lakehouse`` is its default lakehouse binding."""
        cells = [code] if isinstance(code, str) else list(code)
        definition = notebook_definition(
            [NotebookCell("code", source) for source in cells],
            language,
            dict(lakehouse) if lakehouse is not None else None,
        )
        return self.add_item(
            "Notebook",
            display_name,
            workspace_id=workspace_id,
            definition=definition.to_json(),
        )

    def add_lakehouse(
        self,
        display_name: str,
        *,
        workspace_id: str | None = None,
        tables: Sequence[str] = (),
        sql_endpoint_status: str = "Success",
    ) -> Item:
        """Adds a lakehouse with managed Delta ``tables``; its SQL endpoint's connection string
        is a dummy ``<id>.datawarehouse.fabric.microsoft.com`` host."""
        if sql_endpoint_status not in SQL_ENDPOINT_STATUSES:
            raise ValueError(
                f"sql_endpoint_status must be one of {SQL_ENDPOINT_STATUSES}, "
                f"got {sql_endpoint_status!r}"
            )

        def state(item: Item) -> LakehouseState:
            lakehouse = _new_lakehouse(sql_endpoint_status)
            lakehouse.tables += [
                Table(name, "Managed", "Delta", table_location(item.workspace_id, item.id, name))
                for name in tables
            ]
            return lakehouse

        # the state is complete before the item is visible to a concurrent request
        return self._add_item("Lakehouse", display_name, workspace_id, lakehouse=state)

    def add_table(
        self,
        lakehouse_id: str,
        name: str,
        *,
        type: str = "Managed",
        format: str = "Delta",
        location: str | None = None,
    ) -> Table:
        """Adds a table to a lakehouse (KeyError when there is no such lakehouse)."""
        if type not in TABLE_TYPES:
            raise ValueError(f"type must be one of {TABLE_TYPES}, got {type!r}")
        with self._lock:
            item = self._items[lakehouse_id]
            state = self._lakehouses[lakehouse_id]
            table = Table(
                name, type, format, location or table_location(item.workspace_id, item.id, name)
            )
            state.tables.append(table)
        return table

    def items(self, workspace_id: str | None = None, item_type: str | None = None) -> list[Item]:
        """The items (of a workspace, of a type), in creation order."""
        with self._lock:
            self._settle()
            return [
                item
                for item in self._items.values()
                if workspace_id in (None, item.workspace_id) and item_type in (None, item.type)
            ]

    def item(self, item_id: str) -> Item:
        """An item by id (KeyError when there is none)."""
        with self._lock:
            self._settle()
            return self._items[item_id]

    def definition(self, item_id: str) -> Definition | None:
        """The item's current definition, parts decoded (None when it has none; KeyError for an
        unknown item): what the last completed create or updateDefinition stored."""
        with self._lock:
            self._settle()
            if item_id not in self._items:
                raise KeyError(item_id)
            return self._definitions.get(item_id)

    def notebook_code(self, item_id: str) -> NotebookCode:
        """The language and cells of a notebook's current definition (ValueError when the item
        has none)."""
        definition = self.definition(item_id)
        if definition is None:
            raise ValueError(f"item {item_id} has no definition")
        return notebook_code(definition)

    def operations(self) -> list[Operation]:
        """Every long-running operation, in start order."""
        with self._lock:
            self._settle()
            return [operation.snapshot() for operation in self._operations.values()]

    def fail_next_operation(
        self,
        *,
        kind: str | None = None,
        error_code: str = "OperationFailed",
        message: str = "The operation failed.",
    ) -> None:
        """The next operation started (of ``kind``: Create, UpdateDefinition or GetDefinition;
        any when None) ends Failed with this ``error``, without its effect."""
        with self._lock:
            self._operation_failures.append(OperationFailure(kind, error_code, message))

    def jobs(self, item_id: str | None = None) -> list[JobInstance]:
        """Every job instance (of an item), in start order."""
        with self._lock:
            self._settle()
            return [job.snapshot() for job in self._jobs.values() if item_id in (None, job.item_id)]

    def job(self, job_id: str) -> JobInstance:
        """A job instance by id (KeyError when there is none)."""
        with self._lock:
            self._settle()
            return self._jobs[job_id].snapshot()

    def script_job(
        self,
        status: Literal["Completed", "Failed", "Cancelled", "Deduped"],
        *,
        item_id: str | None = None,
        exit_value: str | None = None,
        message: str = "Job instance failed without detail error",
        error_code: str = "JobInstanceStatusFailed",
        polls: int | None = None,
    ) -> None:
        """The next job started (on ``item_id``, or on any item when None) ends with ``status``
        instead of what its content says: ``exit_value`` for Completed, ``failureReason``
        ``{errorCode, message}`` for Failed. ``polls`` overrides :attr:`job_polls` for it.
        Scripts are taken in the order they were added."""
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"status must be one of {TERMINAL_STATUSES}, got {status!r}")
        outcome = JobOutcome(status, exit_value, error_code, message)
        with self._lock:
            self._scripts.append(_Script(item_id, outcome, polls))

    def throttle(
        self, limit: int | None, *, window: float = 60.0, retry_after: int | None = None
    ) -> None:
        """Answers 429 ``RequestBlocked`` (``isRetriable: true``) to every request of an
        identity (the token's ``appid``) beyond ``limit`` calls in the last ``window`` seconds,
        with ``Retry-After`` = ``retry_after`` (whole seconds; ValueError otherwise), else the
        seconds until the window has room again (rounded up). Refused requests do not count.
        ``limit=None`` turns it off.

        The count is per identity across every route; the service also counts per API, so a
        client throttled on one route may still be served on another there, not here."""
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0 or None, got {limit}")
        wait = None if retry_after is None else _whole_seconds("retry_after", retry_after)
        with self._lock:
            self._throttle_limit = limit
            self._throttle_window = window
            self._throttle_retry_after = wait
            self._calls.clear()

    def reserve_name(
        self,
        display_name: str,
        item_type: str,
        *,
        workspace_id: str | None = None,
        creates: int = 1,
        status: Literal[400, 409] = 400,
    ) -> None:
        """The next ``creates`` create requests (``POST .../items`` or a type collection) of an
        ``item_type`` named ``display_name`` (case-insensitively) in the workspace (default: the
        default one) get ``status`` ``ItemDisplayNameNotAvailableYet`` (body and
        ``x-ms-public-api-error-code``, ``isRetriable: true``), as the service answers while it
        still holds the name of a deleted item; the create after them goes through. Only creates
        that would otherwise succeed are refused (and counted). 400 is the status cloud-apis.md
        B10.1 lists; some users report 409."""
        if item_type not in ITEM_TYPES:
            raise ValueError(f"unknown item type {item_type!r}")
        if creates < 1:
            raise ValueError(f"creates must be >= 1, got {creates}")
        if status not in (400, 409):
            raise ValueError(f"status must be 400 or 409, got {status}")
        with self._lock:
            self._holds.append(
                _NameHold(
                    workspace_id or DEFAULT_WORKSPACE_ID,
                    item_type,
                    display_name.lower(),
                    creates,
                    status,
                )
            )

    # -- the service ---------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> FakeResponse:
        request_id = str(uuid.uuid4())
        with self._lock:
            self._settle()
        try:
            identity = self._authenticate(request)
            self._count_call(identity)
            handler, params = self._route(request)
            response = handler(request, params)
        except FabricError as error:
            return error.response(request_id)
        response.headers.setdefault(REQUEST_ID_HEADER, request_id)
        return response

    def _common_headers(self, request: RecordedRequest) -> dict[str, str]:
        """A ``RequestId`` for responses that have none yet (scripted faults)."""
        return {REQUEST_ID_HEADER: str(uuid.uuid4())}

    def _settle(self) -> None:
        """Ends the operations and job instances whose deadline the clock has passed, in start
        order (the caller holds the lock)."""
        now = self._clock()
        for operation in self._operations.values():
            if not operation.done:
                operation.expire(now, str(uuid.uuid4()))
        for job in self._jobs.values():
            if not job.done:
                job.expire(now, str(uuid.uuid4()))

    def _route_table(self) -> list[tuple[str, tuple[str, ...], Handler]]:
        ws = ("workspaces", "{ws}")
        item = (*ws, "items", "{item}")
        coll = (*ws, "{coll}", "{item}")
        jobs = (*item, "jobs", "instances")
        execute = (*ws, "notebooks", "{item}", "jobs", "execute", "instances")
        return [
            ("GET", ("workspaces",), self._list_workspaces),
            ("GET", ws, self._get_workspace),
            ("GET", (*ws, "items"), self._list_items),
            ("POST", (*ws, "items"), self._create_item),
            ("GET", item, self._get_item),
            ("PATCH", item, self._update_item),
            ("DELETE", item, self._delete_item),
            ("POST", (*item, "getDefinition"), self._get_definition),
            ("POST", (*item, "updateDefinition"), self._update_definition),
            ("GET", jobs, self._list_jobs),
            ("POST", jobs, self._run_job_query),
            ("GET", (*jobs, "{job}"), self._get_job),
            ("POST", (*jobs, "{job}", "cancel"), self._cancel_job),
            ("POST", (*item, "jobs", "{jobType}", "instances"), self._run_job_path),
            ("POST", execute, self._run_notebook),
            ("GET", (*execute, "{job}"), self._get_notebook_job),
            (
                "POST",
                (*ws, "lakehouses", "{item}", "jobs", "{jobType}", "instances"),
                self._run_table_maintenance,
            ),
            ("GET", (*ws, "lakehouses", "{item}", "tables"), self._list_tables),
            ("GET", (*ws, "{coll}"), self._list_collection),
            ("POST", (*ws, "{coll}"), self._create_in_collection),
            ("GET", coll, self._get_item),
            ("PATCH", coll, self._update_item),
            ("DELETE", coll, self._delete_item),
            ("POST", (*coll, "getDefinition"), self._get_definition),
            ("POST", (*coll, "updateDefinition"), self._update_definition),
            ("GET", ("operations", "{op}"), self._get_operation),
            ("GET", ("operations", "{op}", "result"), self._get_operation_result),
        ]

    def _route(self, request: RecordedRequest) -> tuple[Handler, dict[str, str]]:
        if request.path.startswith("/v1/"):
            parts = request.path[len("/v1/") :].rstrip("/").split("/")
            for method, pattern, handler in self._routes:
                if method != request.method or len(pattern) != len(parts):
                    continue
                params: dict[str, str] = {}
                for expected, actual in zip(pattern, parts, strict=True):
                    if expected.startswith("{"):
                        params[expected[1:-1]] = actual
                    elif expected.lower() != actual.lower():
                        break
                else:
                    if "coll" in params and params["coll"] not in COLLECTIONS:
                        continue
                    return handler, params
        raise FabricError(
            404, "EntityNotFound", f"The requested resource {request.path} could not be found"
        )

    def _authenticate(self, request: RecordedRequest) -> str:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise FabricError(
                401, "Unauthorized", "The request has no bearer token in its Authorization header"
            )
        if self.entra is None:
            return token
        status = self.entra.status(token, audience=FABRIC_AUDIENCE)
        if status is TokenStatus.EXPIRED:
            raise FabricError(
                401, "TokenExpired", "Access token has expired, resubmit with a new access token"
            )
        if status is not TokenStatus.VALID:
            raise FabricError(
                401,
                "Unauthorized",
                f"The access token is not valid for the audience {FABRIC_AUDIENCE}",
            )
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return str(claims.get("appid") or claims.get("oid") or token)
        except (ValueError, IndexError):
            return token

    def _count_call(self, identity: str) -> None:
        with self._lock:
            limit = self._throttle_limit
            if limit is None:
                return
            now = self._clock()
            calls = self._calls.setdefault(identity, deque())
            while calls and calls[0] <= now - self._throttle_window:
                calls.popleft()
            if len(calls) < limit:
                calls.append(now)
                return
            wait = self._throttle_retry_after
            if wait is None:
                wait = max(1, math.ceil(calls[0] + self._throttle_window - now)) if calls else 1
        raise _throttled(wait, now)

    # -- helpers -------------------------------------------------------------------------------

    def _body(self, request: RecordedRequest, *, required: bool = True) -> dict[str, Any]:
        if not request.body.strip():
            if required:
                raise invalid_input("The request body is required", "The request body is empty")
            return {}
        try:
            body = json.loads(request.body)
        except ValueError:
            raise invalid_input(
                "The request body is not valid JSON", "The request body could not be parsed"
            ) from None
        if not isinstance(body, dict):
            raise invalid_input("The request body must be a JSON object")
        return body

    def _workspace(self, workspace_id: str) -> Workspace:
        workspace = self._workspaces.get(workspace_id)
        if workspace is None:
            raise not_found("Workspace", workspace_id)
        return workspace

    def _item_in(self, params: Mapping[str, str]) -> Item:
        """The item of the route (workspace and, for collections, type checked)."""
        self._workspace(params["ws"])
        item = self._items.get(params["item"])
        expected = COLLECTIONS.get(params.get("coll", ""))
        if item is None or item.workspace_id != params["ws"] or expected not in (None, item.type):
            raise not_found("Item", params["item"])
        return item

    def _new_item(
        self,
        workspace_id: str,
        item_type: str,
        display_name: str,
        description: str,
        folder_id: str | None = None,
    ) -> Item:
        self._workspace(workspace_id)
        if item_type not in ITEM_TYPES:
            raise FabricError(400, "InvalidItemType", f"Item type '{item_type}' is invalid")
        self._check_name(workspace_id, item_type, display_name)
        return Item(
            str(uuid.uuid4()), workspace_id, item_type, display_name, description, folder_id
        )

    def _check_name(
        self, workspace_id: str, item_type: str, display_name: str, exclude: str | None = None
    ) -> None:
        taken = {
            (item.workspace_id, item.type, item.display_name.lower())
            for item in self._items.values()
            if item.id != exclude
        } | set(self._reserved.values())
        if (workspace_id, item_type, display_name.lower()) in taken:
            raise FabricError(
                400,
                "ItemDisplayNameAlreadyInUse",
                f"Requested '{display_name}' is already in use",
                related=(workspace_id, "Workspace"),
            )

    def _check_hold(self, item: Item) -> None:
        """400 (or 409) ``ItemDisplayNameNotAvailableYet`` while :meth:`reserve_name` holds the
        item's name."""
        key = (item.workspace_id, item.type, item.display_name.lower())
        hold = next((h for h in self._holds if (h.workspace_id, h.item_type, h.name) == key), None)
        if hold is None:
            return
        hold.creates -= 1
        if hold.creates == 0:
            self._holds.remove(hold)
        raise FabricError(
            hold.status,
            "ItemDisplayNameNotAvailableYet",
            f"Requested '{item.display_name}' is not available yet and is expected to become "
            "available in the upcoming minutes.",
            retriable=True,
        )

    def _insert(
        self, item: Item, definition: Definition | None, lakehouse: LakehouseState | None = None
    ) -> None:
        self._logical_ids[item.id] = str(uuid.uuid4())
        if definition is not None:
            self._definitions[item.id] = definition
        if item.type == "Lakehouse":
            self._lakehouses[item.id] = lakehouse or _new_lakehouse("Success")
        self._items[item.id] = item  # last: visible once complete

    def _page(
        self,
        request: RecordedRequest,
        rows: Callable[[dict[str, str]], list[dict[str, Any]]],
        *,
        filters: dict[str, str],
        key: str = "value",
        size: int | None = None,
    ) -> FakeResponse:
        """One page of a list. A ``continuationToken`` resumes a listing of the same path with
        the filters and page size of its first page; otherwise ``filters`` and ``size`` start
        one. Tokens contain ``+ / = # :``, so a client must percent-encode them once. A token
        may be used again (a retried page); the last :data:`_MAX_CURSORS` are remembered.

        Refusing a token that arrives decoded to something else (sent raw, or percent-encoded
        twice) with 400 ``InvalidContinuationToken`` is the fake's choice, to catch such
        clients: what the service does then is not documented."""
        token = request.query.get("continuationToken")
        with self._lock:
            if token is not None:
                cursor = self._cursors.get(token)
                if cursor is None or cursor.path != request.path:
                    raise FabricError(
                        400,
                        "InvalidContinuationToken",
                        "The continuation token is not valid (was it percent-encoded once?)",
                    )
            else:
                cursor = _Cursor(request.path, 0, size or self.page_size, filters)
            everything = rows(cursor.filters)
            end = cursor.offset + cursor.size
            body: dict[str, Any] = {key: everything[cursor.offset : end]}
            if end < len(everything):
                serial = next(self._cursor_serial)
                salt = base64.b64encode(secrets.token_bytes(9)).decode("ascii")
                token = f"{salt}+/{serial}:{end}#=="
                self._cursors[token] = _Cursor(request.path, end, cursor.size, cursor.filters)
                if len(self._cursors) > _MAX_CURSORS:
                    del self._cursors[next(iter(self._cursors))]
                body["continuationToken"] = token
                body["continuationUri"] = (
                    f"{self.url}{request.path}?continuationToken={quote(token, safe='')}"
                )
        return json_response(200, body)

    def _lro(
        self,
        kind: str,
        item_id: str,
        apply: Callable[[], dict[str, Any] | None],
        on_failure: Callable[[], None] = lambda: None,
    ) -> FakeResponse:
        now = self._clock()
        failure = next((f for f in self._operation_failures if f.kind in (None, kind)), None)
        if failure is not None:
            self._operation_failures.remove(failure)
        operation = LongRunning(
            str(uuid.uuid4()),
            kind,
            item_id,
            self.lro_polls,
            apply,
            on_failure,
            now,
            now,
            failure,
            deadline=None if self.lro_seconds is None else now + self.lro_seconds,
        )
        self._operations[operation.id] = operation
        return FakeResponse(202, b"", self._lro_headers(operation.id, running=True))

    def _lro_headers(self, operation_id: str, *, running: bool) -> dict[str, str]:
        location = f"{self.api_url}/operations/{operation_id}"
        if not running:
            return {"Location": f"{location}/result", "x-ms-operation-id": operation_id}
        return {
            "Location": location,
            "x-ms-operation-id": operation_id,
            "Retry-After": seconds_text(self.retry_after),
        }

    # -- workspaces and items ------------------------------------------------------------------

    def _list_workspaces(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        return self._page(
            request, lambda _: [w.to_json() for w in self._workspaces.values()], filters={}
        )

    def _get_workspace(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        with self._lock:
            return json_response(200, self._workspace(params["ws"]).to_json())

    def _item_json(self, item: Item, collection: str | None) -> dict[str, Any]:
        """The Item body; a lakehouse's ``properties`` only on the ``lakehouses`` routes (the
        generic ``/items`` ones serve the plain Item, as GetItem.json shows)."""
        body = item.to_json()
        if collection == "lakehouses" and item.id in self._lakehouses:
            body["properties"] = self._lakehouses[item.id].properties(item)
        return body

    def _list_items(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        return self._list(request, params["ws"], request.query.get("type"), None)

    def _list_collection(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        return self._list(request, params["ws"], COLLECTIONS[params["coll"]], params["coll"])

    def _list(
        self, request: RecordedRequest, ws: str, item_type: str | None, collection: str | None
    ) -> FakeResponse:
        with self._lock:
            self._workspace(ws)

        def rows(filters: dict[str, str]) -> list[dict[str, Any]]:
            wanted = filters.get("type")
            return [
                self._item_json(item, collection)
                for item in self._items.values()
                if item.workspace_id == ws
                and (wanted is None or item.type.lower() == wanted.lower())
            ]

        return self._page(request, rows, filters={} if item_type is None else {"type": item_type})

    def _get_item(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        with self._lock:
            return json_response(200, self._item_json(self._item_in(params), params.get("coll")))

    def _create_item(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        return self._create(request, params["ws"], None)

    def _create_in_collection(
        self, request: RecordedRequest, params: dict[str, str]
    ) -> FakeResponse:
        return self._create(request, params["ws"], params["coll"])

    def _create(self, request: RecordedRequest, ws: str, collection: str | None) -> FakeResponse:
        forced_type = None if collection is None else COLLECTIONS[collection]
        body = self._body(request)
        display_name = body.get("displayName")
        if not isinstance(display_name, str) or not display_name.strip():
            raise invalid_input("The request is invalid", "The displayName field is required.")
        item_type = forced_type or body.get("type")
        if not isinstance(item_type, str) or not item_type:
            raise invalid_input("The request is invalid", "The type field is required.")
        description = body.get("description") or ""
        folder_id = body.get("folderId")
        if not isinstance(description, str) or not isinstance(folder_id, str | None):
            raise invalid_input("The request is invalid", "description and folderId are strings.")
        raw_definition = body.get("definition")
        with self._lock:
            item = self._new_item(ws, item_type, display_name, description, folder_id)
            definition = (
                None if raw_definition is None else parse_definition(item_type, raw_definition)
            )
            self._check_hold(item)
            if self.create_lro == "always" or (
                self.create_lro == "with_definition" and definition is not None
            ):
                reservation = str(uuid.uuid4())
                self._reserved[reservation] = (ws, item_type, display_name.lower())

                def apply() -> dict[str, Any]:
                    del self._reserved[reservation]
                    self._insert(item, definition)
                    return self._item_json(item, collection)

                def release() -> None:
                    del self._reserved[reservation]

                return self._lro("Create", item.id, apply, release)
            self._insert(item, definition)
            return json_response(201, self._item_json(item, collection))

    def _update_item(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        body = self._body(request)
        changes: dict[str, str] = {}
        for field_name, attribute in (
            ("displayName", "display_name"),
            ("description", "description"),
        ):
            if field_name in body:
                value = body[field_name]
                if not isinstance(value, str) or (
                    field_name == "displayName" and not value.strip()
                ):
                    raise invalid_input("The request is invalid", f"{field_name} must be text.")
                changes[attribute] = value
        if not changes:
            raise FabricError(400, "InvalidRequest", "Invalid update request: nothing to update")
        with self._lock:
            item = self._item_in(params)
            if "display_name" in changes:
                self._check_name(item.workspace_id, item.type, changes["display_name"], item.id)
            updated = Item(
                item.id,
                item.workspace_id,
                item.type,
                changes.get("display_name", item.display_name),
                changes.get("description", item.description),
                item.folder_id,
            )
            self._items[item.id] = updated
            return json_response(200, self._item_json(updated, params.get("coll")))

    def _delete_item(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        with self._lock:
            item = self._item_in(params)
            del self._items[item.id]
            self._definitions.pop(item.id, None)
            self._lakehouses.pop(item.id, None)
            self._logical_ids.pop(item.id, None)
        return FakeResponse(200)

    def _get_definition(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        requested = request.query.get("format")
        with self._lock:
            item = self._item_in(params)

            def apply() -> dict[str, Any]:
                current = self._items.get(item.id)
                if current is None:  # deleted while the operation ran
                    raise not_found("Item", item.id)
                rendered = render_definition(
                    current, self._definitions.get(item.id), requested, self._logical_ids[item.id]
                )
                return {"definition": rendered.to_json()}

            if self.get_definition_lro:
                return self._lro("GetDefinition", item.id, apply)
            return json_response(200, apply())

    def _update_definition(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        body = self._body(request)
        if "definition" not in body:
            raise invalid_input("The request is invalid", "The definition field is required.")
        update_metadata = request.query.get("updateMetadata", "").lower() == "true"
        with self._lock:
            item = self._item_in(params)
            definition = parse_definition(item.type, body["definition"])
            metadata = _platform_metadata(definition) if update_metadata else {}
            if metadata.get("displayName"):
                self._check_name(item.workspace_id, item.type, metadata["displayName"], item.id)

            def apply() -> None:
                current = self._items.get(item.id)
                if current is None:  # deleted while the operation ran
                    raise not_found("Item", item.id)
                self._definitions[item.id] = definition
                if metadata:
                    self._items[item.id] = Item(
                        current.id,
                        current.workspace_id,
                        current.type,
                        metadata.get("displayName") or current.display_name,
                        metadata.get("description", current.description),
                        current.folder_id,
                    )

            if self.update_definition_lro:
                return self._lro("UpdateDefinition", item.id, apply)
            apply()
            return FakeResponse(200)

    # -- operations ----------------------------------------------------------------------------

    def _operation(self, operation_id: str) -> LongRunning:
        operation = self._operations.get(operation_id)
        if operation is None:
            raise FabricError(
                404, "EntityNotFound", f"The requested operation {operation_id} was not found"
            )
        return operation

    def _get_operation(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        with self._lock:
            operation = self._operation(params["op"])
            operation.poll(self._clock(), str(uuid.uuid4()))
            headers = self._lro_headers(operation.id, running=not operation.done)
            if operation.status == "Failed":
                headers = {"x-ms-operation-id": operation.id}
            return json_response(200, operation.state(), headers)

    def _get_operation_result(
        self, request: RecordedRequest, params: dict[str, str]
    ) -> FakeResponse:
        with self._lock:
            operation = self._operation(params["op"])
            if operation.status != "Succeeded":
                raise FabricError(
                    400,
                    "OperationNotSucceeded",
                    f"The operation {operation.id} has status {operation.status}; its result "
                    "is available once it has Succeeded",
                )
            if operation.result is None:
                raise FabricError(
                    400,
                    "OperationHasNoResult",
                    f"The operation {operation.id} ({operation.kind}) has no result",
                )
            return json_response(200, operation.result)

    # -- jobs ----------------------------------------------------------------------------------

    def _run_job_query(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        job_type = request.query.get("jobType")
        if not job_type:
            raise invalid_input(
                "The request is invalid", "The jobType query parameter is required."
            )
        return self._start_job(request, params, job_type, "query")

    def _run_job_path(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        return self._start_job(request, params, params["jobType"], "path")

    def _run_notebook(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        _require_beta(request, "false")
        return self._start_job(request, {**params, "coll": "notebooks"}, "Execute", "execute")

    def _run_table_maintenance(
        self, request: RecordedRequest, params: dict[str, str]
    ) -> FakeResponse:
        return self._start_job(
            request, {**params, "coll": "lakehouses"}, params["jobType"], "tableMaintenance"
        )

    def _start_job(
        self, request: RecordedRequest, params: dict[str, str], job_type: str, route: str
    ) -> FakeResponse:
        body = self._body(request, required=route == "tableMaintenance")
        compute = _check_job_body(body, route)
        with self._lock:
            item = self._item_in(params)
            canonical = next(
                (t for t in JOB_TYPES.get(item.type, ()) if t.lower() == job_type.lower()), None
            )
            if canonical is None:
                raise FabricError(
                    400,
                    "InvalidJobType",
                    f"The job type '{job_type}' is not valid for the item type '{item.type}'",
                )
            script = next((s for s in self._scripts if s.item_id in (None, item.id)), None)
            if script is not None:
                self._scripts.remove(script)
                outcome, polls = script.outcome, script.polls
            else:
                outcome, polls = self._natural_outcome(item), None
            now = self._clock()
            job = Job(
                id=str(uuid.uuid4()),
                item_id=item.id,
                workspace_id=item.workspace_id,
                job_type=canonical,
                route=route,
                outcome=outcome,
                polls_needed=self.job_polls if polls is None else polls,
                body=body if request.body.strip() else None,
                root_activity_id=str(uuid.uuid4()),
                started=now,
                deadline=None if self.job_seconds is None else now + self.job_seconds,
                compute=compute,
            )
            self._jobs[job.id] = job
        return FakeResponse(
            202,
            b"",
            {"Location": self._job_url(job), "Retry-After": seconds_text(self.job_retry_after)},
        )

    def _natural_outcome(self, item: Item) -> JobOutcome:
        definition = self._definitions.get(item.id)
        if item.type != "Notebook" or definition is None:
            return JobOutcome("Completed")
        return notebook_outcome(notebook_code(definition))

    def _job_url(self, job: Job) -> str:
        return (
            f"{self.api_url}/workspaces/{job.workspace_id}/items/{job.item_id}"
            f"/jobs/instances/{job.id}"
        )

    def _job_in(self, params: Mapping[str, str]) -> Job:
        item = self._item_in(params)
        job = self._jobs.get(params["job"])
        if job is None or job.item_id != item.id:
            raise FabricError(
                404, "EntityNotFound", f"The requested job instance {params['job']} was not found"
            )
        return job

    def _observe(self, params: Mapping[str, str], *, beta: bool) -> FakeResponse:
        with self._lock:
            job = self._job_in(params)
            job.poll(self._clock(), str(uuid.uuid4()))
            headers = {} if job.done else {"Retry-After": seconds_text(self.job_retry_after)}
            return json_response(200, job.to_json(beta=beta), headers)

    def _get_job(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        return self._observe(params, beta=False)

    def _get_notebook_job(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        _require_beta(request, "true")
        return self._observe({**params, "coll": "notebooks"}, beta=True)

    def _list_jobs(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        with self._lock:
            item = self._item_in(params)
        return self._page(
            request,
            lambda _: [job.to_json() for job in self._jobs.values() if job.item_id == item.id],
            filters={},
        )

    def _cancel_job(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        with self._lock:
            job = self._job_in(params)
            if job.done:
                raise FabricError(
                    400,
                    "JobAlreadyCompleted",
                    f"The job instance {job.id} has already completed with status {job.status}",
                )
            job.finish("Cancelled", self._clock(), str(uuid.uuid4()))
            return FakeResponse(
                202,
                b"",
                {"Location": self._job_url(job), "Retry-After": seconds_text(self.job_retry_after)},
            )

    # -- lakehouses ----------------------------------------------------------------------------

    def _list_tables(self, request: RecordedRequest, params: dict[str, str]) -> FakeResponse:
        size: int | None = None
        if "maxResults" in request.query:
            try:
                size = int(request.query["maxResults"])
            except ValueError:
                size = 0
            if not 1 <= size <= 100:
                raise invalid_input(
                    "The request is invalid", "maxResults must be an integer from 1 to 100."
                )
        with self._lock:
            item = self._item_in({**params, "coll": "lakehouses"})
            state = self._lakehouses[item.id]
        return self._page(
            request,
            lambda _: [table.to_json() for table in state.tables],
            filters={},
            key="data",
            size=size,
        )

    # -- faults --------------------------------------------------------------------------------

    def _error_response(
        self, status: int, request: RecordedRequest, headers: Mapping[str, str]
    ) -> FakeResponse:
        """Scripted failures as Fabric's ErrorResponse (body, ``x-ms-public-api-error-code``,
        ``RequestId``): 429 ``RequestBlocked`` (``isRetriable: true``, the message naming the
        time the fault's Retry-After points at), 401 ``TokenExpired``, 403
        ``InsufficientPrivileges``, 404 ``EntityNotFound``, 409 ``Conflict``, 5xx
        ``InternalServerError``/``ServiceUnavailable``/... (``isRetriable: true``), other 4xx
        ``InvalidRequest``."""
        if status == 429:
            lowered = {name.lower(): value for name, value in headers.items()}
            try:
                wait = float(lowered.get("retry-after", "1"))
            except ValueError:
                wait = 1.0
            return _throttled(wait, self._clock(), header=False).response()
        codes = {
            401: ("TokenExpired", "Access token has expired, resubmit with a new access token"),
            403: ("InsufficientPrivileges", "The caller does not have sufficient permissions"),
            404: ("EntityNotFound", "The requested resource could not be found"),
            409: ("Conflict", "The request conflicts with the current state of the resource"),
        }
        if status >= 500:
            phrase = status_phrase(status)
            code = phrase.replace(" ", "").replace("-", "")
            return FabricError(status, code, f"{phrase}. Please retry.", retriable=True).response()
        code, message = codes.get(status, ("InvalidRequest", status_phrase(status)))
        return FabricError(status, code, message).response()


def _throttled(wait: float, now: float, *, header: bool = True) -> FabricError:
    until = datetime.fromtimestamp(now + wait, timezone.utc)
    message = (
        "Request is blocked by the upstream service until: "
        f"{until.month}/{until.day}/{until.year} {until.strftime('%I:%M:%S %p').lstrip('0')}"
    )
    return FabricError(
        429,
        "RequestBlocked",
        message,
        retriable=True,
        headers={"Retry-After": seconds_text(wait)} if header else None,
    )


def _whole_seconds(name: str, value: Any) -> int:
    """``value`` as whole seconds for a Retry-After header (an integer in HTTP); ValueError for
    anything else."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not float(value).is_integer()
        or value < 0
    ):
        raise ValueError(
            f"{name} must be whole seconds >= 0 (HTTP Retry-After is an integer), got {value!r}"
        )
    return int(value)


def _new_lakehouse(sql_endpoint_status: str) -> LakehouseState:
    """A lakehouse's state: a SQL endpoint with a dummy host, no tables."""
    host = f"{secrets.token_hex(13)}-{secrets.token_hex(13)}.datawarehouse.fabric.microsoft.com"
    return LakehouseState(str(uuid.uuid4()), host, sql_endpoint_status)


def _require_beta(request: RecordedRequest, expected: str) -> None:
    value = request.query.get("beta")
    if value is None or value.lower() != expected:
        raise invalid_input(
            "The request is invalid",
            f"The query parameter 'beta' is required and must be {expected}.",
        )


def _check_job_body(body: dict[str, Any], route: str) -> str:
    """Checks a run request's body; returns the notebook compute (``Spark`` unless an
    ``execute`` run says otherwise)."""
    execution_data = body.get("executionData")
    if execution_data is not None and not isinstance(execution_data, dict):
        raise invalid_input("The request is invalid", "executionData must be an object.")
    parameters = body.get("parameters")
    if parameters is not None:
        if not isinstance(parameters, list):
            raise invalid_input("The request is invalid", "parameters must be an array.")
        for index, parameter in enumerate(parameters):
            if (
                not isinstance(parameter, dict)
                or not isinstance(parameter.get("name"), str)
                or "value" not in parameter
                or parameter.get("type") not in PARAMETER_TYPES
            ):
                raise invalid_input(
                    "The request is invalid",
                    f"parameters[{index}] needs name, value and a type among "
                    f"{sorted(PARAMETER_TYPES)}.",
                )
    if route == "execute" and execution_data is not None:
        compute = execution_data.get("compute")
        if compute not in _COMPUTES:
            raise invalid_input(
                "The request is invalid",
                f"executionData.compute is required and must be one of {', '.join(_COMPUTES)}.",
            )
        return str(compute)
    if route == "tableMaintenance" and not (
        isinstance(execution_data, dict) and isinstance(execution_data.get("tableName"), str)
    ):
        raise invalid_input("The request is invalid", "executionData.tableName is required.")
    return "Spark"


def _platform_metadata(definition: Definition) -> dict[str, str]:
    """displayName/description from a definition's ``.platform`` part (updateMetadata=true)."""
    try:
        platform = definition.part(".platform").json()
    except KeyError:
        return {}
    metadata = platform.get("metadata") if isinstance(platform, dict) else None
    if not isinstance(metadata, dict):
        return {}
    return {
        key: value
        for key, value in metadata.items()
        if key in ("displayName", "description") and isinstance(value, str)
    }
