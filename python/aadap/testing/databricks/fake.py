"""FakeDatabricks: the fake workspace's public face (configuration, scripting, the snapshots
tests assert on) and the routing of requests to its services."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from aadap.testing._server import FakeResponse, FakeServer, PathFilter, RecordedRequest
from aadap.testing.databricks._auth import (
    CLI_CLIENT_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TOKEN,
    Auth,
    OAuthToken,
)
from aadap.testing.databricks._clusters import DEFAULT_CLUSTER_ID, ClusterInfo, Clusters
from aadap.testing.databricks._commands import CommandInfo, Commands, ContextInfo, command_rule
from aadap.testing.databricks._errors import (
    ErrorShape,
    api_error,
    default_error,
    error_body,
    not_found_endpoint,
)
from aadap.testing.databricks._jobs import Job, Jobs, NotebookResult, RunInfo, RunScript, SubmitRule
from aadap.testing.databricks._pipelines import (
    DEFAULT_UPDATE_STATES,
    Pipeline,
    PipelineInfo,
    Pipelines,
    PipelineUpdateInfo,
    UpdateScript,
)
from aadap.testing.databricks._service import Service
from aadap.testing.databricks._statements import (
    DEFAULT_WAREHOUSE_ID,
    INLINE_BYTE_LIMIT,
    Failure,
    Progression,
    RowsSource,
    Rule,
    StatementInfo,
    Statements,
    result_rule,
)
from aadap.testing.databricks._unity_catalog import (
    METASTORE_ID,
    TABLE_TYPES,
    UnityCatalog,
    uc_columns,
    uc_name,
)
from aadap.testing.databricks._validation import check_at_least, check_times
from aadap.testing.databricks._workspace import (
    NOTEBOOK_LANGUAGES,
    Workspace,
    WorkspaceObject,
    check_path,
)

DEFAULT_WORKSPACE_ID = "1234567890123456"
"""The workspace id it reports (``/.well-known/databricks-config``, ``x-databricks-org-id``)."""
DEFAULT_USER_NAME = "user@example.com"
"""The workspace user the fake acts for (creator of jobs, runs, clusters; ``/Users/<name>``)."""


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
        check_at_least(1, rows_per_chunk=rows_per_chunk)
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
        self._key = secrets.token_bytes(32)
        """Signs the OAuth access tokens and the EXTERNAL_LINKS URLs."""
        check_at_least(0, context_pending_polls=context_pending_polls)
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
        self._auth = Auth(self)
        self._sql = Statements(self)
        self._clusters = Clusters(self)
        self._commands = Commands(self)
        self._jobs = Jobs(self)
        self._workspace = Workspace(self)
        self._pipelines = Pipelines(self)
        self._catalog = UnityCatalog(self)
        self._services: tuple[Service, ...] = (
            self._commands,
            self._clusters,
            self._jobs,
            self._workspace,
            self._pipelines,
            self._catalog,
            self._sql,
        )
        """The authenticated APIs, in the order they are tried."""
        if cluster_id is not None:
            self.add_cluster(cluster_id, "RUNNING", name="aadap-test-cluster")

    # -- configuration -----------------------------------------------------------------------------

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
            for statement in self._sql.statements.values():
                self._sql.observe(statement)
            self._offset += seconds
            for statement in self._sql.statements.values():
                self._sql.observe(statement)
            self._sql.changed.notify_all()

    # -- scripting ---------------------------------------------------------------------------------

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
        timing = (pending_polls, running_polls, pending_seconds, running_seconds)
        self._sql.add_rule(result_rule(pattern, columns, rows, rows_per_chunk, timing, times))

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
        self._sql.add_rule(
            Rule(
                re.compile(pattern),
                Progression(pending_polls, running_polls, pending_seconds, running_seconds),
                check_times(times),
                failure=Failure(error_code, message, sql_state),
            )
        )

    def clear_rules(self) -> None:
        """Drops every rule added with :meth:`add_table` and :meth:`fail_statement`."""
        with self._lock:
            self._sql.rules.clear()

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
        default_code, default_message = default_error(status)
        code, text = error_code or default_code, message if message is not None else default_message
        body, content_type = error_body(shape, status, code, text)
        self.fail_next(
            n,
            status,
            body=body,
            headers={"Content-Type": content_type, **(headers or {})},
            path=path,
        )

    # -- statements --------------------------------------------------------------------------------

    @property
    def statements(self) -> list[StatementInfo]:
        """Every statement submitted so far, oldest first."""
        return self._sql.snapshots(self._sql.statements, self._sql.info)

    @property
    def last_statement(self) -> StatementInfo:
        """The statement submitted last (LookupError when there is none)."""
        return self._sql.last_snapshot(
            self._sql.statements, self._sql.info, "no statement has been submitted to the fake"
        )

    def statement(self, statement_id: str) -> StatementInfo:
        """One statement by id (KeyError when the fake never saw it)."""
        return self._sql.snapshot(self._sql.statements, statement_id, self._sql.info)

    @property
    def downloads(self) -> int:
        """EXTERNAL_LINKS downloads served, over all statements."""
        with self._lock:
            return sum(s.downloads for s in self._sql.statements.values())

    def close_statement(self, statement_id: str) -> None:
        """Makes a SUCCEEDED statement CLOSED now (its result is gone), as after its TTL."""
        with self._lock:
            statement = self._sql.statements[statement_id]
            self._sql.observe(statement)
            if statement.state == "SUCCEEDED":
                statement.state = "CLOSED"

    def forget_statement(self, statement_id: str) -> None:
        """Makes the workspace forget a statement: every call about it is then 404."""
        with self._lock:
            self._sql.statements[statement_id].forgotten = True
            self._sql.changed.notify_all()

    # -- clusters ----------------------------------------------------------------------------------

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
        return self._clusters.snapshot(self._clusters.clusters, cluster_id, self._clusters.info)

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
        results = {
            "text": text,
            "table": table,
            "error": error,
            "status_error": status_error,
            "image": image,
            "none": True if no_results else None,
        }
        rule = command_rule(
            pattern,
            results,
            truncated=truncated,
            language=language,
            queued_polls=queued_polls,
            running_polls=running_polls,
            times=times,
        )
        self._commands.add_rule(rule)

    def clear_command_rules(self) -> None:
        """Drops every rule added with :meth:`add_command`."""
        with self._lock:
            self._commands.rules.clear()

    def fail_next_context(self, n: int = 1) -> None:
        """The next ``n`` contexts created end their Pending phase in ``Error`` instead of
        ``Running`` (the SDK's waiter then fails)."""
        check_at_least(1, n=n)
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
        return self._commands.snapshots(self._commands.contexts, self._commands.context_info)

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
        return self._commands.snapshot(
            self._commands.contexts, context_id, self._commands.context_info
        )

    @property
    def commands(self) -> list[CommandInfo]:
        """Every command executed so far, oldest first."""
        return self._commands.snapshots(self._commands.commands, self._commands.command_info)

    @property
    def last_command(self) -> CommandInfo:
        """The command executed last (LookupError when there is none)."""
        return self._commands.last_snapshot(
            self._commands.commands,
            self._commands.command_info,
            "no command has been executed on the fake",
        )

    def command(self, command_id: str) -> CommandInfo:
        """One command by id (KeyError when the fake never saw it)."""
        return self._commands.snapshot(
            self._commands.commands, command_id, self._commands.command_info
        )

    # -- Jobs --------------------------------------------------------------------------------------

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
            script = RunScript(
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
            return self._jobs.add_job(Job(resolved, name, job_settings, self.now(), user, script))

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
        script = RunScript(
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
            self._jobs.submit_rules.append(SubmitRule(compiled, script, check_times(times)))

    @property
    def runs(self) -> list[RunInfo]:
        """Every run started so far (run-now and runs/submit), oldest first."""
        return self._jobs.snapshots(self._jobs.runs, self._jobs.info)

    @property
    def last_run(self) -> RunInfo:
        """The run started last (LookupError when there is none)."""
        return self._jobs.last_snapshot(
            self._jobs.runs, self._jobs.info, "no run has been started on the fake"
        )

    def run(self, run_id: int) -> RunInfo:
        """One run by its id or one of its task runs' ids (KeyError when unknown)."""
        with self._lock:
            if run_id in self._jobs.task_runs:
                return self._jobs.info(self._jobs.task_runs[run_id][0])
            return self._jobs.info(self._jobs.runs[run_id])

    # -- Workspace ---------------------------------------------------------------------------------

    def add_notebook(self, path: str, source: str, language: str = "PYTHON") -> None:
        """Puts a notebook at ``path`` (parent folders are made): ``source`` with or without
        the ``Databricks notebook source`` header line (added when missing), ``language``
        PYTHON, SQL, SCALA or R."""
        if language not in NOTEBOOK_LANGUAGES:
            raise ValueError(
                f"language must be one of {list(NOTEBOOK_LANGUAGES)}, got {language!r}"
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
        return self._workspace.snapshot(
            self._workspace.nodes, check_path(path), self._workspace.info
        )

    @property
    def workspace_paths(self) -> list[str]:
        """Every path of the workspace tree, sorted (``/``, ``/Shared``, ``/Users`` and
        ``/Users/<user_name>`` exist from the start)."""
        with self._lock:
            return sorted(self._workspace.nodes)

    # -- Pipelines ---------------------------------------------------------------------------------

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
        script = UpdateScript(tuple(update_states), final, polls_per_state)
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
            Pipeline(
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
            pipeline.script = UpdateScript(
                current.states if update_states is None else tuple(update_states),
                current.final if final is None else final,
                current.polls_per_state if polls_per_state is None else polls_per_state,
            )

    def pipeline(self, pipeline_id: str) -> PipelineInfo:
        """One pipeline by id (KeyError when unknown)."""
        return self._pipelines.snapshot(
            self._pipelines.pipelines, pipeline_id, self._pipelines.info
        )

    def pipeline_update(self, update_id: str) -> PipelineUpdateInfo:
        """One pipeline update by id (KeyError when unknown)."""
        return self._pipelines.snapshot(
            self._pipelines.updates, update_id, self._pipelines.update_info
        )

    # -- Unity Catalog -----------------------------------------------------------------------------

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
        full_name = uc_name(full_name, 3)
        table_type = table_type.upper()
        if table_type not in TABLE_TYPES:
            raise ValueError(f"table_type must be one of {sorted(TABLE_TYPES)}, got {table_type!r}")
        is_view = table_type in ("VIEW", "METRIC_VIEW")
        extra: dict[str, Any] = {
            "table_type": table_type,
            "table_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.workspace_id}/{full_name}")),
            "columns": uc_columns(columns),
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

    # -- OAuth -------------------------------------------------------------------------------------

    @property
    def issued(self) -> list[OAuthToken]:
        """Every OAuth access token issued so far, oldest first."""
        return self._auth.snapshots(self._auth.access, lambda issued: issued.record)

    def issue_access_token(
        self,
        *,
        client_id: str = CLI_CLIENT_ID,
        scope: str = "all-apis offline_access",
        expires_in: int | None = None,
    ) -> str:
        """Issues an OAuth access token directly, without HTTP (a negative ``expires_in``
        gives one that has already expired)."""
        return self._auth.issue(client_id, scope, "direct", expires_in).access_token

    def issue_refresh_token(
        self, *, client_id: str = CLI_CLIENT_ID, scope: str = "all-apis offline_access"
    ) -> str:
        """Issues a refresh token the token endpoint accepts from ``client_id`` (what
        ``databricks auth login`` would have stored)."""
        return self._auth.issue_refresh_token(client_id=client_id, scope=scope)

    def expire_access_tokens(self) -> None:
        """Makes every OAuth access token issued so far invalid (the workspace answers 403)."""
        self._auth.expire_access_tokens()

    def revoke_refresh_tokens(self) -> None:
        """Makes every refresh token invalid: a refresh then fails with ``invalid_grant``
        ("Refresh token is invalid"), so the user must log in again."""
        self._auth.revoke_refresh_tokens()

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
        return self._auth.write_databrickscfg(path, profile, auth_type)

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
        return self._auth.write_token_cache(path, expired, profile)

    # -- the service -------------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> FakeResponse:
        public = self._auth.route(request)
        if public is not None:
            return public
        if request.path.startswith("/storage/"):
            return self._sql.storage.download(request)
        if not request.path.startswith("/api/"):
            return not_found_endpoint(request)
        denied = self._auth.authenticate(request)
        if denied is not None:
            return denied
        for service in self._services:
            routed = service.route(request)
            if routed is not None:
                return routed
        return not_found_endpoint(request)

    def _error_response(
        self, status: int, request: RecordedRequest, headers: Mapping[str, str]
    ) -> FakeResponse:
        """Scripted failures in the standard shape ``{"error_code", "message"}``: 429
        ``REQUEST_LIMIT_EXCEEDED``, 503 ``TEMPORARILY_UNAVAILABLE``, 500 ``INTERNAL_ERROR``, 400
        ``INVALID_PARAMETER_VALUE``, 401 ``UNAUTHENTICATED``, 403 ``PERMISSION_DENIED``, 404
        ``RESOURCE_DOES_NOT_EXIST``, ...; other statuses their reason phrase as the code."""
        code, message = default_error(status)
        return api_error(status, code, message)

    def _common_headers(self, request: RecordedRequest) -> dict[str, str]:
        return {"x-request-id": str(uuid.uuid4()), "x-databricks-org-id": self.workspace_id}
