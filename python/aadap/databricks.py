"""The Databricks client (platforms.md §2, §4) on the C++ core.

    dbx = aadap.Databricks.from_settings()            # or aadap.Databricks(host, token=...)
    result = dbx.sql("SELECT * FROM sales.orders WHERE region = :region",
                     {"region": "EMEA"}, task_id=task.id)
    result.columns, len(result), result.rows[:3]
    result.to_pandas(); result.to_arrow()

Statements go through the SQL Statement Execution API 2.0: submitted without waiting (so the
statement id is known at once), then polled (after 0.1 s, doubling up to every 10 s) until
they end or ``timeout`` passes, when they are cancelled (so is a statement whose call Ctrl-C
interrupts). Every chunk is fetched; with
``external_links=True`` large results are downloaded from cloud storage (never sending the
workspace token there). Values arrive typed: integers, floats, booleans, Decimal, dates, UTC
timestamps, str, and arrays/maps/structs parsed from their JSON. Named parameters (``:name``)
travel as API parameters, never spliced into the text.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aadap import _core
from aadap.azure_openai import _correlation, _secret, make_transport
from aadap.cancellation import run_in_thread
from aadap.results import SqlColumn, SqlResult
from aadap.settings import get_settings, targets_of

if TYPE_CHECKING:
    from aadap.engine import Engine

__all__ = ["Databricks", "PythonResult", "SqlProgress"]

ProgressCallback = Callable[["SqlProgress"], None]

_INTEGERS = {"BYTE", "SHORT", "INT", "LONG", "TINYINT", "SMALLINT", "BIGINT", "INTEGER"}
_FLOATS = {"FLOAT", "DOUBLE", "REAL"}
_JSON = {"ARRAY", "MAP", "STRUCT"}


class SqlProgress:
    """Where a statement is: its id, state (PENDING, RUNNING, SUCCEEDED), seconds so far, and
    the chunks fetched of how many."""

    __slots__ = ("chunk_count", "chunks_fetched", "elapsed", "state", "statement_id")

    def __init__(
        self, statement_id: str, state: str, elapsed: float, chunks_fetched: int, chunk_count: int
    ) -> None:
        self.statement_id = statement_id
        self.state = state
        self.elapsed = elapsed
        self.chunks_fetched = chunks_fetched
        self.chunk_count = chunk_count

    def __repr__(self) -> str:
        return (
            f"SqlProgress({self.statement_id!r}, {self.state}, {self.elapsed:.1f} s, "
            f"chunks {self.chunks_fetched}/{self.chunk_count})"
        )


class PythonResult:
    """What Python on a cluster produced: ``result_type`` (text, table, image, images),
    ``text`` (printed output, or image file names), and ``table`` (a :class:`SqlResult`,
    the same object as SQL results) for a table result. ``str()`` gives the text."""

    __slots__ = ("command_id", "result_type", "table", "text", "truncated")

    def __init__(
        self, result_type: str, text: str, table: SqlResult | None, truncated: bool, command_id: str
    ) -> None:
        self.result_type = result_type
        self.text = text
        self.table = table
        self.truncated = truncated
        self.command_id = command_id

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        if self.table is not None:
            return f"PythonResult(table: {self.table!r})"
        preview = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"PythonResult({self.result_type}: {preview!r})"

    def _repr_html_(self) -> str:
        import html

        if self.table is not None:
            return self.table._repr_html_()
        return f"<pre>{html.escape(self.text)}</pre>"


def _parameter(name: str, value: Any) -> tuple[str, str | None, str]:
    """(name, text or None, Databricks type) of a Python value; (value, "TYPE") is explicit."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        raw, kind = value
        return name, None if raw is None else str(raw), kind
    if value is None:
        return name, None, "STRING"
    if isinstance(value, bool):
        return name, "true" if value else "false", "BOOLEAN"
    if isinstance(value, int):
        return name, str(value), "BIGINT"
    if isinstance(value, float):
        return name, repr(value), "DOUBLE"
    if isinstance(value, decimal.Decimal):
        _sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        scale = max(0, -exponent)
        precision = max(len(digits), scale, 1)
        return name, str(value), f"DECIMAL({min(precision, 38)},{min(scale, 38)})"
    if isinstance(value, _dt.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
        return name, when.isoformat(), "TIMESTAMP"
    if isinstance(value, _dt.date):
        return name, value.isoformat(), "DATE"
    if isinstance(value, str):
        return name, value, "STRING"
    raise _core.InvalidTypeError(
        f"SQL parameter {name!r}: {type(value).__name__} has no Databricks type; pass "
        "(value, 'TYPE') to say which"
    )


def _column(core: Any, index: int, name: str, type_name: str, scale: int) -> SqlColumn:
    kind = type_name.upper()
    if kind in _INTEGERS:
        values, mask = core.numbers(index, "int")
    elif kind in _FLOATS:
        values, mask = core.numbers(index, "double")
    elif kind == "BOOLEAN":
        values, mask = core.numbers(index, "bool")
        values = values.astype(bool)
    elif kind == "DATE":
        values, mask = core.numbers(index, "date")
        values = values.astype("datetime64[D]")
    elif kind == "TIMESTAMP":
        values, mask = core.numbers(index, "timestamp")
        values = values.astype("datetime64[us]")
    else:
        texts = core.texts(index)
        if kind == "DECIMAL":
            texts = [None if t is None else decimal.Decimal(t) for t in texts]
        elif kind in _JSON:
            texts = [None if t is None else json.loads(t) for t in texts]
        return SqlColumn(name, kind, texts, None)
    mask = mask.astype(bool)
    return SqlColumn(name, kind, values, mask if mask.any() else None)


class Databricks:
    """A Databricks workspace: SQL on a warehouse (Python on clusters, jobs and the rest come
    with the next part). Credentials are found as documented in the README (explicit token,
    AADAP_DATABRICKS_TOKEN / DATABRICKS_TOKEN, a ~/.databrickscfg profile, the CLI's token
    cache, OAuth M2M); with ``engine``, a statement run for a task is recorded as its
    execution. Thread-safe; share one client."""

    def __init__(
        self,
        host: str | None = None,
        *,
        token: str | _core.Secret | None = None,
        profile: str | None = None,
        client_id: str | None = None,
        client_secret: str | _core.Secret | None = None,
        cluster_id: str | None = None,
        warehouse_id: str | None = None,
        catalog: str | None = None,
        schema: str | None = None,
        retry: _core.RetryPolicy | None = None,
        request_timeout: float = 60.0,
        engine: Engine | None = None,
        transport: _core.HttpTransport | None = None,
        ca_bundle: str | None = None,
        environment: Mapping[str, str] | None = None,
        home: str | Path | None = None,
        time: _core.ManualTime | None = None,
    ) -> None:
        self._transport = transport or make_transport(ca_bundle=ca_bundle)
        self._recorder = (
            None if engine is None else _core.engine_resource_recorder(engine._core, "databricks")
        )
        env = dict(os.environ if environment is None else environment)
        self._core = _core.DatabricksCore(
            transport=self._transport,
            host=host or "",
            token=_secret(token),
            profile=profile or "",
            client_id=client_id or "",
            client_secret=_secret(client_secret),
            environment=env,
            home=str(home if home is not None else Path.home()),
            cluster_id=cluster_id or "",
            warehouse_id=warehouse_id or "",
            catalog=catalog or "",
            schema=schema or "",
            retry=retry or _core.RetryPolicy.databricks(),
            request_timeout=request_timeout,
            recorder=self._recorder,
            time=time,
        )

    @classmethod
    def from_settings(
        cls,
        settings: _core.Settings | None = None,
        *,
        target: str = "SANDBOX",
        engine: Engine | None = None,
        **overrides: Any,
    ) -> Databricks:
        """A client for the SANDBOX (default) or PRODUCTION targets of the settings: host,
        warehouse, catalog and schema from ``AADAP_[PRODUCTION_]DATABRICKS_*``, the token or
        OAuth client from ``AADAP_DATABRICKS_TOKEN`` / ``_CLIENT_ID`` / ``_CLIENT_SECRET``
        (else the usual Databricks sources). A PRODUCTION target that is not configured is an
        error, never a fallback to SANDBOX (INV-05)."""
        s = settings or get_settings()
        targets = targets_of(s, target)
        if target == "PRODUCTION" and not targets.databricks_host and "host" not in overrides:
            raise _core.ConfigurationError(
                "no PRODUCTION Databricks target: set AADAP_PRODUCTION_DATABRICKS_HOST (a "
                "PRODUCTION task is never sent to the SANDBOX workspace)"
            )
        options: dict[str, Any] = {
            "host": targets.databricks_host,
            "cluster_id": targets.databricks_cluster_id,
            "warehouse_id": targets.databricks_warehouse_id,
            "catalog": targets.databricks_catalog,
            "schema": targets.databricks_schema,
            "token": s.databricks_token,
            "client_id": s.databricks_client_id,
            "client_secret": s.databricks_client_secret,
        }
        options.update(overrides)
        return cls(engine=engine, **options)

    @property
    def host(self) -> str:
        return str(self._core.host)

    @property
    def warehouse_id(self) -> str:
        return str(self._core.warehouse_id)

    @property
    def cluster_id(self) -> str:
        return str(self._core.cluster_id)

    @property
    def auth_method(self) -> str:
        """pat, oauth-m2m or databricks-cli."""
        return str(self._core.auth_method)

    def sql(
        self,
        statement: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        warehouse_id: str | None = None,
        catalog: str | None = None,
        schema: str | None = None,
        timeout: float = 600.0,
        external_links: bool = False,
        row_limit: int | None = None,
        task_id: str | None = None,
        progress: ProgressCallback | bool | None = None,
    ) -> SqlResult:
        """Runs one statement and returns all its rows. ``parameters`` fill ``:name`` markers
        (types from the Python values: int BIGINT, float DOUBLE, Decimal DECIMAL, bool,
        date, datetime TIMESTAMP, str; or ``(value, "TYPE")``). ``progress``: a callable
        receiving :class:`SqlProgress`, or True for a tqdm bar. Raises RemoteError (a FAILED
        statement: ``sql_state``, ``code``), PlatformTimeoutError (cancelled after
        ``timeout``), AuthenticationError, RateLimitError."""
        if not isinstance(statement, str):
            raise _core.InvalidTypeError("the statement is a str")
        params = [_parameter(k, v) for k, v in (parameters or {}).items()]
        report = _progress(progress)
        raw = self._core.sql(
            statement, params, warehouse_id or "", catalog or "", schema or "",
            external_links, row_limit, timeout, task_id or "", _correlation(), report,
        )  # fmt: skip
        columns = raw.columns
        data = [
            _column(raw, i, name, type_name, scale)
            for i, (name, type_name, _text, _precision, scale) in enumerate(columns)
        ]
        return SqlResult(
            [c[0] for c in columns],
            column_types=[c[2] for c in columns],
            truncated=raw.truncated,
            platform="databricks",
            column_data=data,
            statement_id=raw.statement_id,
        )

    def run_python(
        self,
        code: str,
        *,
        cluster_id: str | None = None,
        timeout: float = 1200.0,
        task_id: str | None = None,
    ) -> PythonResult:
        """Runs Python on an all-purpose cluster (Command Execution API 1.2): an execution
        context is created for the call and destroyed afterwards whatever happens (success,
        failure, timeout, Ctrl-C). A Python exception raises RemoteError with ``summary`` and
        ``cause``; ``timeout`` PlatformTimeoutError (the command cancelled). Without a cluster
        (``cluster_id=`` or AADAP_DATABRICKS_CLUSTER_ID) a ConfigurationError: Python is never
        sent to a SQL warehouse."""
        if not isinstance(code, str):
            raise _core.InvalidTypeError("the code is a str")
        raw = self._core.run_python(code, cluster_id or "", timeout, task_id or "", _correlation())
        table = None
        if raw["result_type"] == "table":
            columns = [name for name, _type in raw["columns"]]
            rows = [tuple(row) for row in json.loads(raw["rows_json"])]
            table = SqlResult(columns, rows, column_types=[t for _n, t in raw["columns"]],
                              truncated=raw["truncated"], platform="databricks")  # fmt: skip
        return PythonResult(raw["result_type"], raw["text"], table, raw["truncated"],
                            raw["command_id"])  # fmt: skip

    # -- jobs (Jobs API 2.1): runs are the service's Run objects, as dicts -------------------

    def list_jobs(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every job (all pages followed), or those named exactly ``name``."""
        jobs: list[dict[str, Any]] = json.loads(self._core.list_jobs(name or "", _correlation()))
        return jobs

    def get_job(self, job_id: int) -> dict[str, Any]:
        job: dict[str, Any] = json.loads(self._core.get_job(job_id, _correlation()))
        return job

    def run_now(
        self,
        job_id: int,
        job_parameters: Mapping[str, str] | None = None,
        *,
        idempotency_token: str | None = None,
        task_id: str | None = None,
    ) -> int:
        """Triggers a job and returns the run id; with ``idempotency_token`` a repeat returns
        the same run (and the call is retried safely). Recorded as a resource of ``task_id``."""
        parameters = json.dumps(dict(job_parameters or {}))
        token, task = idempotency_token or "", task_id or ""
        return int(self._core.run_now(job_id, parameters, token, task, _correlation()))

    def submit_run(
        self,
        tasks: list[dict[str, Any]],
        *,
        run_name: str = "aadap run",
        idempotency_token: str | None = None,
        timeout_seconds: int = 0,
        task_id: str | None = None,
    ) -> int:
        """A one-time run of ``tasks`` (the API's task objects); an idempotency token is
        generated when none is given, so a retried submit never starts two runs."""
        token, task = idempotency_token or "", task_id or ""
        return int(self._core.submit_run(
            run_name, json.dumps(tasks), token, timeout_seconds, task, _correlation()))  # fmt: skip

    def get_run(self, run_id: int) -> dict[str, Any]:
        run: dict[str, Any] = json.loads(self._core.get_run(run_id, _correlation()))
        return run

    def get_run_output(self, run_id: int) -> dict[str, Any]:
        """The output of a task run: ``notebook_output.result`` holds a notebook's exit value."""
        output: dict[str, Any] = json.loads(self._core.get_run_output(run_id, _correlation()))
        return output

    def cancel_run(self, run_id: int) -> None:
        self._core.cancel_run(run_id, _correlation())

    def wait_for_run(
        self,
        run_id: int,
        *,
        timeout: float = 3600.0,
        cancel_on_timeout: bool = False,
        progress: Callable[[dict[str, Any]], None] | None = None,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        """Waits until the run ends (TERMINATED, SKIPPED or INTERNAL_ERROR) and returns it.
        With ``raise_on_failure`` a run that did not succeed (a result_state other than
        SUCCESS: FAILED, TIMEDOUT, CANCELED, ...; SKIPPED; INTERNAL_ERROR) raises RemoteError
        whose ``code`` is the result state (SKIPPED and INTERNAL_ERROR: the life cycle state)
        and ``run`` the Run;
        ``timeout`` raises PlatformTimeoutError (the run goes on unless
        ``cancel_on_timeout``); Ctrl-C cancels the run. ``progress`` gets each Run seen."""
        report = None if progress is None else (lambda text: progress(json.loads(text)))
        run: dict[str, Any] = json.loads(self._core.wait_for_run(
            run_id, timeout, cancel_on_timeout, report, _correlation()))  # fmt: skip
        state = run.get("state") or {}
        result_state = state.get("result_state", "")
        life_cycle = state.get("life_cycle_state", "")
        if raise_on_failure and result_state != "SUCCESS":
            error = _core.RemoteError(
                f"run {run_id} ended {life_cycle} {result_state}: "
                f"{state.get('state_message', '')}".strip()
            )
            error.code = result_state if life_cycle == "TERMINATED" else life_cycle
            error.run = run  # type: ignore[attr-defined]
            raise error
        return run

    # -- workspace notebooks (Workspace API 2.0): objects are the service's ObjectInfo --------

    def list_workspace(self, path: str) -> list[dict[str, Any]]:
        """The direct children of a workspace folder (``object_type``, ``path``, ``language``,
        ``object_id``, ...); an empty folder gives ``[]``, a missing one NotFoundError."""
        objects: list[dict[str, Any]] = json.loads(self._core.list_workspace(path, _correlation()))
        return objects

    def workspace_status(self, path: str) -> dict[str, Any]:
        """The ObjectInfo of one workspace path."""
        status: dict[str, Any] = json.loads(self._core.workspace_status(path, _correlation()))
        return status

    def import_notebook(
        self,
        path: str,
        content: str | bytes,
        *,
        format: str = "SOURCE",
        language: str | None = "PYTHON",
        overwrite: bool = False,
        task_id: str | None = None,
    ) -> None:
        """Puts a notebook (or file) at ``path``: ``content`` is the source text for
        ``format="SOURCE"`` (with ``language`` PYTHON, SQL, SCALA or R), the ``.ipynb`` JSON for
        ``"JUPYTER"``, or any bytes for ``"RAW"``/``"AUTO"``. An existing path without
        ``overwrite`` raises RemoteError ``RESOURCE_ALREADY_EXISTS``; a missing parent folder
        NotFoundError (see :meth:`make_workspace_dirs`). Recorded as a resource of
        ``task_id``."""
        if isinstance(content, str):
            content = content.encode()
        if not isinstance(content, bytes):
            raise _core.InvalidTypeError("the notebook content is str or bytes")
        if format.upper() != "SOURCE" and language == "PYTHON":
            language = None  # the default only names a SOURCE notebook's language
        self._core.import_notebook(path, content, format.upper(), (language or "").upper(),
                                   overwrite, task_id or "", _correlation())  # fmt: skip

    def export_notebook(self, path: str, *, format: str = "SOURCE") -> str:
        """The notebook as text: its source (``"SOURCE"``), ``.ipynb`` JSON (``"JUPYTER"``) or
        ``"HTML"``. For a file's raw bytes use :meth:`export_bytes`."""
        return self.export_bytes(path, format=format).decode()

    def export_bytes(self, path: str, *, format: str = "SOURCE") -> bytes:
        """The exported content of a notebook or file, as bytes."""
        return bytes(self._core.export_notebook(path, format.upper(), _correlation()))

    def delete_workspace_object(self, path: str, *, recursive: bool = False) -> None:
        """Deletes a notebook, file or folder (a non-empty folder only with ``recursive``)."""
        self._core.delete_workspace_object(path, recursive, _correlation())

    def make_workspace_dirs(self, path: str) -> None:
        """Makes a folder and its missing parents (nothing happens when it exists)."""
        self._core.make_workspace_dirs(path, _correlation())

    # -- pipelines (Pipelines API 2.0) -------------------------------------------------------

    def list_pipelines(self, filter: str | None = None) -> list[dict[str, Any]]:
        """Every pipeline's status (all pages), optionally filtered, e.g.
        ``filter="name LIKE '%sales%'"``."""
        pipelines: list[dict[str, Any]] = json.loads(
            self._core.list_pipelines(filter or "", _correlation()))  # fmt: skip
        return pipelines

    def get_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        pipeline: dict[str, Any] = json.loads(self._core.get_pipeline(pipeline_id, _correlation()))
        return pipeline

    def start_update(
        self,
        pipeline_id: str,
        *,
        full_refresh: bool = False,
        refresh_selection: list[str] | None = None,
        full_refresh_selection: list[str] | None = None,
        validate_only: bool = False,
        task_id: str | None = None,
    ) -> str:
        """Starts a pipeline update and returns its id (RemoteError ``RESOURCE_CONFLICT``
        while another is active). Recorded as a resource of ``task_id``."""
        return str(self._core.start_update(
            pipeline_id, full_refresh, list(refresh_selection or ()),
            list(full_refresh_selection or ()), validate_only, task_id or "",
            _correlation()))  # fmt: skip

    def get_update(self, pipeline_id: str, update_id: str) -> dict[str, Any]:
        """The update (``state``, ``cause``, ``creation_time``, ...)."""
        update: dict[str, Any] = json.loads(
            self._core.get_update(pipeline_id, update_id, _correlation()))  # fmt: skip
        return update

    def stop_pipeline(self, pipeline_id: str) -> None:
        self._core.stop_pipeline(pipeline_id, _correlation())

    def wait_for_update(
        self,
        pipeline_id: str,
        update_id: str,
        *,
        timeout: float = 3600.0,
        cancel_on_timeout: bool = False,
        progress: Callable[[dict[str, Any]], None] | None = None,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        """Waits until the update is COMPLETED, FAILED or CANCELED and returns it. With
        ``raise_on_failure`` a FAILED or CANCELED update raises RemoteError (``code`` its
        state); ``timeout`` raises PlatformTimeoutError (the pipeline stopped when
        ``cancel_on_timeout``); Ctrl-C stops the pipeline — in both cases only while this
        update is still the pipeline's latest (a newer one is someone else's). ``progress``
        gets each update seen."""
        report = None if progress is None else (lambda text: progress(json.loads(text)))
        answer = self._core.wait_for_update(
            pipeline_id, update_id, timeout, cancel_on_timeout, report, _correlation())  # fmt: skip
        update: dict[str, Any] = json.loads(answer)
        state = update.get("state", "")
        if raise_on_failure and state != "COMPLETED":
            error = _core.RemoteError(f"update {update_id} of pipeline {pipeline_id} ended {state}")
            error.code = state
            error.update = update  # type: ignore[attr-defined]
            raise error
        return update

    # -- Unity Catalog listings (all pages) ---------------------------------------------------

    def list_catalogs(self) -> list[dict[str, Any]]:
        catalogs: list[dict[str, Any]] = json.loads(self._core.list_catalogs(_correlation()))
        return catalogs

    def list_schemas(self, catalog: str) -> list[dict[str, Any]]:
        schemas: list[dict[str, Any]] = json.loads(self._core.list_schemas(catalog, _correlation()))
        return schemas

    def list_tables(self, catalog: str, schema: str) -> list[dict[str, Any]]:
        """The tables and views of a schema (``name``, ``full_name``, ``table_type``,
        ``columns``, ...); ``pandas.DataFrame(dbx.list_tables(...))`` tabulates them."""
        tables: list[dict[str, Any]] = json.loads(
            self._core.list_tables(catalog, schema, _correlation()))  # fmt: skip
        return tables

    def get_table(self, full_name: str) -> dict[str, Any]:
        """One table by ``catalog.schema.table``, with its ``columns`` and ``properties``."""
        table: dict[str, Any] = json.loads(self._core.get_table(full_name, _correlation()))
        return table

    async def asql(self, *args: Any, **kwargs: Any) -> SqlResult:
        """:meth:`sql` on a worker thread (the C++ call releases the GIL); cancelling the
        awaiting task cancels the statement."""
        return await run_in_thread(self.sql, *args, **kwargs)

    @property
    def connections_opened(self) -> int:
        return int(self._transport.connections_opened)

    def __repr__(self) -> str:
        return (
            f"Databricks(host={self.host!r}, warehouse_id={self.warehouse_id!r}, "
            f"auth={self.auth_method!r})"
        )


def _progress(progress: ProgressCallback | bool | None) -> Callable[..., None] | None:
    if progress is None or progress is False:
        return None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=None, desc="statement", unit="chunk")

        def show(statement_id: str, state: str, elapsed: float, fetched: int, count: int) -> None:
            bar.set_description(f"{state.lower()} {statement_id[:8]}")
            if count:
                bar.total = count
                bar.n = fetched
            bar.refresh()
            if count and fetched >= count:
                bar.close()

        return show
    callback = progress

    def forward(statement_id: str, state: str, elapsed: float, fetched: int, count: int) -> None:
        callback(SqlProgress(statement_id, state, elapsed, fetched, count))

    return forward
