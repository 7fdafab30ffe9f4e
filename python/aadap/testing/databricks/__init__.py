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

from aadap.testing.databricks._auth import (
    CLI_CLIENT_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TOKEN,
    OAuthToken,
)
from aadap.testing.databricks._clusters import DEFAULT_CLUSTER_ID, ClusterInfo
from aadap.testing.databricks._commands import CommandInfo, ContextInfo
from aadap.testing.databricks._commands import CommandKind as CommandKind
from aadap.testing.databricks._errors import ErrorShape
from aadap.testing.databricks._jobs import NotebookResult, RunInfo
from aadap.testing.databricks._parameters import StatementParameter
from aadap.testing.databricks._pipelines import (
    DEFAULT_UPDATE_STATES,
    PipelineInfo,
    PipelineUpdateInfo,
)
from aadap.testing.databricks._statements import (
    DEFAULT_WAREHOUSE_ID,
    StatementInfo,
)
from aadap.testing.databricks._statements import (
    INLINE_BYTE_LIMIT as INLINE_BYTE_LIMIT,
)
from aadap.testing.databricks._statements import (
    MAX_STATEMENT_BYTES as MAX_STATEMENT_BYTES,
)
from aadap.testing.databricks._statements import (
    RowsSource as RowsSource,
)
from aadap.testing.databricks._unity_catalog import METASTORE_ID as METASTORE_ID
from aadap.testing.databricks._workspace import (
    MAX_WORKSPACE_BYTES as MAX_WORKSPACE_BYTES,
)
from aadap.testing.databricks._workspace import (
    WorkspaceObject,
)
from aadap.testing.databricks.fake import DEFAULT_USER_NAME, DEFAULT_WORKSPACE_ID, FakeDatabricks

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
