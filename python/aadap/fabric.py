"""The Microsoft Fabric client (platforms.md §5) on the C++ core.

    fabric = aadap.Fabric.from_settings(engine=eng)       # or aadap.Fabric(workspace_id, ...)
    run = fabric.run_notebook("df = spark.sql('SELECT 1')\\nnotebookutils.notebook.exit('ok')",
                              task_id=task.id, progress=True)
    run.status, run.exit_value                           # 'Completed', 'ok'
    fabric.list_items("Notebook"); fabric.list_tables()   # every page

Tokens come from Microsoft Entra ID client credentials for the Fabric scope (refreshed before
they expire, renewed once when the service answers 401). Creates and definition updates that
the service turns into long-running operations (202) are followed to their end at the
service's Retry-After; jobs are started with the job scheduler and polled the same way; a
timeout or Ctrl-C cancels the job. Errors carry Fabric's ``errorCode`` (``.code``), message
and ``requestId`` (``.request_id``).
"""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aadap import _core
from aadap.azure_openai import EntraCredential, _correlation, make_transport
from aadap.cancellation import run_in_thread
from aadap.settings import get_settings, targets_of

if TYPE_CHECKING:
    from aadap.engine import Engine

__all__ = ["FABRIC_SCOPE", "Fabric", "FabricJob", "ItemDefinition"]

FABRIC_SCOPE = "https://api.fabric.microsoft.com/.default"
"""The Entra scope of Fabric REST API tokens."""

JobProgress = Callable[[dict[str, Any]], None]

_PARAMETER_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "bool"),  # before int: a bool is an int
    (int, "int"),
    (float, "float"),
    (str, "string"),
)


@dataclass(frozen=True)
class ItemDefinition:
    """An item's definition: ``parts`` maps each part's path (``notebook-content.ipynb``,
    ``.platform``, ...) to its bytes; ``format`` is ``"ipynb"``, ``"fabricGitSource"``, ...
    (empty: the item type's default)."""

    parts: Mapping[str, bytes]
    format: str = ""

    def text(self, path: str) -> str:
        """A part decoded as UTF-8."""
        return self.parts[path].decode()


@dataclass(frozen=True)
class FabricJob:
    """The end of a job run (a notebook run, a pipeline, a Spark job definition)."""

    item_id: str
    job_instance_id: str
    status: str
    exit_value: str | None = None
    """What the notebook passed to ``notebookutils.notebook.exit(...)``, when reported."""
    instance: dict[str, Any] = field(default_factory=dict, repr=False)
    """The service's job instance (``startTimeUtc``, ``endTimeUtc``, ``failureReason``, ...)."""

    @property
    def succeeded(self) -> bool:
        return self.status == "Completed"

    def _repr_html_(self) -> str:
        rows = [
            ("status", self.status),
            ("exit value", "" if self.exit_value is None else self.exit_value),
            ("job instance", self.job_instance_id),
            ("item", self.item_id),
            ("started", self.instance.get("startTimeUtc") or ""),
            ("ended", self.instance.get("endTimeUtc") or ""),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td>{html.escape(str(v))}</td></tr>"
            for k, v in rows
        )
        return f"<table><caption>Fabric job</caption>{body}</table>"


def _parameters(parameters: Mapping[str, Any] | None) -> str:
    """Notebook parameters as the job scheduler takes them: name -> {value, type}."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in (parameters or {}).items():
        for python_type, fabric_type in _PARAMETER_TYPES:
            if isinstance(value, python_type):
                out[name] = {"value": value, "type": fabric_type}
                break
        else:
            raise _core.InvalidTypeError(
                f"notebook parameter {name!r} is a str, int, float or bool, "
                f"not {type(value).__name__}"
            )
    return json.dumps(out)


def _parts(parts: Mapping[str, str | bytes]) -> list[tuple[str, bytes]]:
    out = []
    for path, payload in parts.items():
        if isinstance(payload, str):
            payload = payload.encode()
        if not isinstance(payload, bytes):
            raise _core.InvalidTypeError(f"the definition part {path!r} is str or bytes")
        out.append((path, payload))
    return out


@contextlib.contextmanager
def _job_progress(
    progress: JobProgress | bool | None, what: str
) -> Iterator[Callable[[str], None] | None]:
    """A callback for the core's waits (the JSON text of each job instance seen); a tqdm bar
    for ``progress=True``, closed however the wait ends."""
    if progress is None or progress is False:
        yield None
    elif progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=None, desc=what, bar_format="{desc} [{elapsed}]")

        def show(text: str) -> None:
            bar.set_description(f"{what}: {json.loads(text).get('status', '')}")

        try:
            yield show
        finally:
            bar.close()
    else:
        callback = progress
        yield lambda text: callback(json.loads(text))


class Fabric:
    """A Microsoft Fabric workspace: items and their definitions, notebook runs, item jobs,
    lakehouses. Authenticates as a service principal (``tenant_id``, ``client_id``,
    ``client_secret``, or an :class:`aadap.EntraCredential`); ``api_base`` and ``authority``
    point elsewhere for sovereign clouds or tests. With ``engine``, runs for a task are
    recorded as its executions and the items and jobs it creates as its platform resources.
    Thread-safe; share one client."""

    def __init__(
        self,
        workspace_id: str | None = None,
        *,
        tenant_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | _core.Secret | None = None,
        credential: EntraCredential | None = None,
        authority: str = "https://login.microsoftonline.com",
        api_base: str = "https://api.fabric.microsoft.com/v1",
        lakehouse_id: str | None = None,
        scope: str = FABRIC_SCOPE,
        retry: _core.RetryPolicy | None = None,
        request_timeout: float = 60.0,
        operation_timeout: float = 600.0,
        engine: Engine | None = None,
        transport: _core.HttpTransport | None = None,
        ca_bundle: str | None = None,
        time: _core.ManualTime | None = None,
    ) -> None:
        self._transport = transport or make_transport(ca_bundle=ca_bundle)
        if credential is None:
            if not (tenant_id and client_id and client_secret):
                raise _core.ConfigurationError(
                    "Fabric needs a service principal: tenant_id, client_id and client_secret "
                    "(AADAP_FABRIC_TENANT_ID, AADAP_FABRIC_CLIENT_ID, AADAP_FABRIC_CLIENT_SECRET) "
                    "or credential="
                )
            credential = EntraCredential(tenant_id, client_id, client_secret, authority=authority,
                                         transport=self._transport, time=time)  # fmt: skip
        self.credential = credential
        self._recorder = (
            None if engine is None else _core.engine_resource_recorder(engine._core, "fabric")
        )
        self._core = _core.FabricCore(
            transport=self._transport,
            credential=credential._core,
            api_base=api_base,
            workspace_id=workspace_id or "",
            lakehouse_id=lakehouse_id or "",
            scope=scope,
            retry=retry or _core.RetryPolicy.fabric(),
            request_timeout=request_timeout,
            operation_timeout=operation_timeout,
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
    ) -> Fabric:
        """A client for the SANDBOX (default) or PRODUCTION workspace of the settings
        (``AADAP_[PRODUCTION_]FABRIC_WORKSPACE_ID`` and ``_LAKEHOUSE_ID``), authenticated by
        ``AADAP_FABRIC_TENANT_ID`` / ``_CLIENT_ID`` / ``_CLIENT_SECRET`` at
        ``AADAP_ENTRA_AUTHORITY``, calling ``AADAP_FABRIC_API_BASE``. A PRODUCTION workspace
        that is not configured is an error, never a fallback to SANDBOX (INV-05)."""
        s = settings or get_settings()
        targets = targets_of(s, target)
        prefix = "AADAP_" if target == "SANDBOX" else "AADAP_PRODUCTION_"
        if not targets.fabric_workspace_id and "workspace_id" not in overrides:
            apart = " (a PRODUCTION task is never sent to the SANDBOX workspace)"
            raise _core.ConfigurationError(
                f"no {target} Fabric workspace: set {prefix}FABRIC_WORKSPACE_ID"
                + (apart if target == "PRODUCTION" else "")
            )
        options: dict[str, Any] = {
            "workspace_id": targets.fabric_workspace_id,
            "lakehouse_id": targets.fabric_lakehouse_id,
            "tenant_id": s.fabric_tenant_id,
            "client_id": s.fabric_client_id,
            "client_secret": s.fabric_client_secret,
            "authority": s.entra_authority,
            "api_base": s.fabric_api_base,
        }
        options.update(overrides)
        return cls(engine=engine, **options)

    @property
    def workspace_id(self) -> str:
        return self._core.workspace_id

    @property
    def lakehouse_id(self) -> str:
        return self._core.lakehouse_id

    @property
    def api_base(self) -> str:
        return self._core.api_base

    # -- items ----------------------------------------------------------------------------------

    def list_items(self, type: str | None = None) -> list[dict[str, Any]]:
        """Every item of the workspace (all pages), optionally of one ``type`` (Notebook,
        Lakehouse, DataPipeline, SparkJobDefinition, ...)."""
        items: list[dict[str, Any]] = json.loads(self._core.list_items(type or "", _correlation()))
        return items

    def get_item(self, item_id: str) -> dict[str, Any]:
        item: dict[str, Any] = json.loads(self._core.get_item(item_id, _correlation()))
        return item

    def create_item(
        self,
        display_name: str,
        type: str,
        *,
        description: str = "",
        definition: Mapping[str, str | bytes] | None = None,
        definition_format: str = "",
        reuse_existing: bool = False,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Creates an item and returns it (a long-running create is waited for). With
        ``reuse_existing`` an item of that name and type that exists already is returned
        instead of ItemDisplayNameAlreadyInUse, its definition replaced by ``definition``.
        ``definition`` maps part paths to their content."""
        parts = _parts(definition or {})
        return dict(json.loads(self._core.create_item(
            display_name, type, description, None if definition is None else definition_format,
            parts, reuse_existing, task_id or "", _correlation())))  # fmt: skip

    def update_definition(
        self, item_id: str, definition: Mapping[str, str | bytes], *, format: str = ""
    ) -> None:
        """Replaces an item's definition (waiting for the operation when there is one)."""
        self._core.update_definition(item_id, format, _parts(definition), _correlation())

    def get_definition(self, item_id: str, *, format: str = "") -> ItemDefinition:
        """An item's definition with its parts decoded (``format="ipynb"`` for a notebook as
        .ipynb JSON)."""
        got_format, parts = self._core.get_definition(item_id, format, _correlation())
        return ItemDefinition({path: bytes(payload) for path, payload in parts}, got_format)

    def delete_item(self, item_id: str) -> None:
        self._core.delete_item(item_id, _correlation())

    # -- jobs -----------------------------------------------------------------------------------

    def start_job(
        self,
        item_id: str,
        job_type: str,
        execution_data: Mapping[str, Any] | None = None,
        *,
        task_id: str | None = None,
    ) -> str:
        """Starts a job (``"RunNotebook"``, ``"Pipeline"``, ``"sparkjob"``, ...) on an item and
        returns its job instance id; recorded as a resource of ``task_id``."""
        instance_id, _first_poll = self._core.start_job(
            item_id, job_type, json.dumps(dict(execution_data or {})), task_id or "",
            _correlation())  # fmt: skip
        return str(instance_id)

    def run_job(
        self,
        item_id: str,
        job_type: str,
        execution_data: Mapping[str, Any] | None = None,
        *,
        timeout: float = 3600.0,
        progress: JobProgress | bool | None = None,
        raise_on_failure: bool = True,
        task_id: str | None = None,
    ) -> FabricJob:
        """Starts a job and waits for its end (first poll after the service's Retry-After);
        the timeout and Ctrl-C cancel it. Failed, Cancelled or Deduped raise RemoteError
        (``code``: failureReason's errorCode) unless ``raise_on_failure=False``."""
        cid, data = _correlation(), json.dumps(dict(execution_data or {}))
        with _job_progress(progress, job_type) as report:  # before the job exists: it may fail
            instance_id, first_poll = self._core.start_job(item_id, job_type, data, task_id or "",
                                                           cid)  # fmt: skip
            text = self._core.wait_for_job(item_id, instance_id, timeout, True, report,
                                           first_poll, cid)  # fmt: skip
        return self._job(item_id, instance_id, text, raise_on_failure)

    def get_job_instance(self, item_id: str, instance_id: str) -> dict[str, Any]:
        instance: dict[str, Any] = json.loads(
            self._core.get_job_instance(item_id, instance_id, _correlation()))  # fmt: skip
        return instance

    def list_job_instances(self, item_id: str) -> list[dict[str, Any]]:
        instances: list[dict[str, Any]] = json.loads(
            self._core.list_job_instances(item_id, _correlation()))  # fmt: skip
        return instances

    def cancel_job(self, item_id: str, instance_id: str) -> None:
        """Asks a job to stop (a job that has ended already is left as it is)."""
        self._core.cancel_job(item_id, instance_id, _correlation())

    def wait_for_job(
        self,
        item_id: str,
        instance_id: str,
        *,
        timeout: float = 3600.0,
        cancel_on_timeout: bool = False,
        progress: JobProgress | bool | None = None,
        raise_on_failure: bool = True,
    ) -> FabricJob:
        """Polls a job instance (at the service's Retry-After) until Completed, Failed,
        Cancelled or Deduped. Ctrl-C cancels the job; the timeout raises PlatformTimeoutError
        and cancels it only with ``cancel_on_timeout``."""
        with _job_progress(progress, "job") as report:
            text = self._core.wait_for_job(item_id, instance_id, timeout, cancel_on_timeout,
                                           report, 0.0, _correlation())  # fmt: skip
        return self._job(item_id, instance_id, text, raise_on_failure)

    def _job(self, item_id: str, instance_id: str, text: str, raise_on_failure: bool) -> FabricJob:
        if raise_on_failure:
            _core.fabric_raise_for_job_status(text, item_id, instance_id)
        instance = json.loads(text)
        properties = instance.get("properties") or {}
        exit_value = properties.get("exitValue", instance.get("exitValue"))
        return FabricJob(item_id, instance.get("id", instance_id), instance.get("status", ""),
                         exit_value, instance)  # fmt: skip

    # -- notebooks ------------------------------------------------------------------------------

    def run_notebook(
        self,
        code: str,
        *,
        language: str = "python",
        parameters: Mapping[str, Any] | None = None,
        notebook_name: str | None = None,
        lakehouse_id: str | None = None,
        configuration: Mapping[str, Any] | None = None,
        timeout: float = 3600.0,
        progress: JobProgress | bool | None = None,
        task_id: str | None = None,
    ) -> FabricJob:
        """Runs ``code`` as a notebook job: the code goes into an ipynb notebook named after
        its content (``aadap-<digest>-<language>``, reused by later runs of the same code) or
        ``notebook_name``; a reused notebook gets this content again (whoever edited it since,
        the code that runs is yours). It runs with ``parameters``
        (str, int, float or bool values, declared in a ``parameters`` cell) and the default
        lakehouse (``lakehouse_id`` or the configured one, bound in the notebook's metadata;
        ``configuration`` is the run's Spark configuration, e.g. ``{"conf": {...}}``). A
        notebook given by name should not be shared by concurrent runs of different code: each
        run replaces its content. The create or update of the notebook may take up to the
        client's ``operation_timeout`` on top of ``timeout``. Returns the finished job with the
        notebook's exit value; Failed, Cancelled or Deduped raise RemoteError (``code``:
        failureReason's errorCode, the message its message); the timeout raises
        PlatformTimeoutError and Ctrl-C KeyboardInterrupt — the job cancelled in both."""
        if not isinstance(code, str):
            raise _core.InvalidTypeError("the notebook code is a str")
        with _job_progress(progress, "notebook") as report:
            raw = self._core.run_notebook(
                code, language, _parameters(parameters), notebook_name or "", lakehouse_id or "",
                json.dumps(dict(configuration or {})), task_id or "", timeout, report,
                _correlation())  # fmt: skip
        return FabricJob(raw["item_id"], raw["job_instance_id"], raw["status"],
                         raw["exit_value"], json.loads(raw["instance_json"]))  # fmt: skip

    def lakehouse_sql(
        self,
        sql: str,
        *,
        lakehouse_id: str | None = None,
        timeout: float = 3600.0,
        progress: JobProgress | bool | None = None,
        task_id: str | None = None,
    ) -> FabricJob:
        """Runs Spark SQL against a lakehouse as a SQL notebook job and returns its status
        (a SQL cell reports no exit value; write results to a table to read them back)."""
        return self.run_notebook(sql, language="sql", lakehouse_id=lakehouse_id, timeout=timeout,
                                 progress=progress, task_id=task_id)  # fmt: skip

    async def arun_notebook(self, code: str, **kwargs: Any) -> FabricJob:
        """:meth:`run_notebook` on a worker thread (the C++ call releases the GIL); cancelling
        the awaiting task cancels the notebook job."""
        return await run_in_thread(self.run_notebook, code, **kwargs)

    # -- lakehouses -----------------------------------------------------------------------------

    def list_lakehouses(self) -> list[dict[str, Any]]:
        lakehouses: list[dict[str, Any]] = json.loads(self._core.list_lakehouses(_correlation()))
        return lakehouses

    def get_lakehouse(self, lakehouse_id: str | None = None) -> dict[str, Any]:
        """A lakehouse with its ``properties`` (OneLake paths, ``sqlEndpointProperties``)."""
        lakehouse: dict[str, Any] = json.loads(
            self._core.get_lakehouse(self._lakehouse(lakehouse_id), _correlation()))  # fmt: skip
        return lakehouse

    def sql_endpoint(self, lakehouse_id: str | None = None) -> dict[str, Any]:
        """The lakehouse's SQL analytics endpoint: ``id``, ``connectionString`` (the TDS host
        for ODBC/JDBC drivers) and ``provisioningStatus``."""
        properties = self.get_lakehouse(lakehouse_id).get("properties") or {}
        endpoint: dict[str, Any] = properties.get("sqlEndpointProperties") or {}
        return endpoint

    def list_tables(self, lakehouse_id: str | None = None) -> list[dict[str, Any]]:
        """Every table of the lakehouse (``name``, ``type``, ``format``, ``location``);
        ``pandas.DataFrame(fabric.list_tables())`` tabulates them."""
        tables: list[dict[str, Any]] = json.loads(
            self._core.list_tables(self._lakehouse(lakehouse_id), _correlation()))  # fmt: skip
        return tables

    def _lakehouse(self, lakehouse_id: str | None) -> str:
        chosen = lakehouse_id or self.lakehouse_id
        if not chosen:
            raise _core.ConfigurationError(
                "no lakehouse: pass lakehouse_id or set AADAP_FABRIC_LAKEHOUSE_ID"
            )
        return chosen

    @property
    def connections_opened(self) -> int:
        return int(self._transport.connections_opened)

    def __repr__(self) -> str:
        return (
            f"Fabric(workspace_id={self.workspace_id!r}, lakehouse_id={self.lakehouse_id!r}, "
            f"api_base={self.api_base!r})"
        )
