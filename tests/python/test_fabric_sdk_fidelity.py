"""Microsoft's Fabric SDK (``microsoft-fabric-api``, autorest clients on azure-core) against
FakeFabric, with azure-identity's ClientSecretCredential getting its token from FakeEntra: the
fake answers the way the official client expects (paging by ``continuationUri``, the LRO of a
create with a definition and its ``/result``, job runs, the notebook beta GET).

``msfabricpysdkcore`` is not used: its URLs are hard-coded to https://api.fabric.microsoft.com
and login.microsoftonline.com and it calls ``requests.get``/``post`` with no session, base URL
or CA setting (msfabricpysdkcore/coreapi.py, client.py ``calling_routine``, auth.py
``FabricServicePrincipal.get_token``)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from aadap.testing import FABRIC_SCOPE, FakeEntra, FakeFabric

fabric_api = pytest.importorskip("microsoft_fabric_api")
identity = pytest.importorskip("azure.identity")
transports = pytest.importorskip("azure.core.pipeline.transport")
exceptions = pytest.importorskip("azure.core.exceptions")
notebook_models = pytest.importorskip("microsoft_fabric_api.generated.notebook.models")
core_models = pytest.importorskip("microsoft_fabric_api.generated.core.models")


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        yield fake


@pytest.fixture
def fabric(entra: FakeEntra) -> Iterator[FakeFabric]:
    with FakeFabric(entra=entra) as fake:
        yield fake


@pytest.fixture
def client(fabric: FakeFabric, entra: FakeEntra) -> Iterator[Any]:
    """The SDK's FabricClient on the fake: base_url override, a credential from FakeEntra, and
    a transport trusting the test CA (trust_env off: REQUESTS_CA_BUNDLE would win)."""
    session = requests.Session()
    session.trust_env = False
    transport = transports.RequestsTransport(
        session=session, session_owner=False, connection_verify=fabric.ca_path
    )
    credential = identity.ClientSecretCredential(
        entra.tenant,
        entra.client_id,
        entra.client_secret,
        authority=f"127.0.0.1:{entra.port}",
        disable_instance_discovery=True,
        transport=transport,
    )
    yield fabric_api.FabricClient(credential, base_url=f"{fabric.url}/", transport=transport)
    session.close()


def notebook_request(name: str, *cells: str) -> Any:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"language_info": {"name": "python"}},
        "cells": [{"cell_type": "code", "source": cell, "metadata": {}} for cell in cells],
    }
    part = notebook_models.NotebookDefinitionPart(
        path="notebook-content.ipynb",
        payload=base64.b64encode(json.dumps(notebook).encode()).decode(),
        payload_type="InlineBase64",
    )
    return notebook_models.CreateNotebookRequest(
        display_name=name,
        definition=notebook_models.NotebookDefinition(format="ipynb", parts=[part]),
    )


def location_of(pipeline_response: Any, deserialized: Any, headers: Any) -> str:
    """``cls`` callback of a run call: the Location header of its 202."""
    return str(pipeline_response.http_response.headers["Location"])


def wait(client: Any, workspace_id: str, item_id: str, job_id: str) -> Any:
    for _ in range(10):
        instance = client.core.job_scheduler.get_item_job_instance(workspace_id, item_id, job_id)
        if instance.status in ("Completed", "Failed", "Cancelled", "Deduped"):
            return instance
    raise AssertionError("the job never ended")


def test_items_are_listed_across_pages(client: Any, fabric: FakeFabric, entra: FakeEntra) -> None:
    for i in range(5):
        fabric.add_notebook(f"nb{i}", "print(1)")
    fabric.add_lakehouse("lh")
    notebooks = list(client.core.items.list_items(fabric.workspace_id, type="Notebook"))
    assert [item.display_name for item in notebooks] == [f"nb{i}" for i in range(5)]
    assert all(item.type == "Notebook" for item in notebooks)
    lists = [r for r in fabric.requests if r.path.endswith("/items")]
    assert [r.query for r in lists[:1]] == [{"type": "Notebook"}]
    assert len(lists) == 3  # pages of 2, 2 and 1, followed by continuationUri
    assert all(set("+/=#:") <= set(r.query["continuationToken"]) for r in lists[1:])
    everything = list(client.core.items.list_items(fabric.workspace_id))
    assert len(everything) == 6
    assert [t.scope for t in entra.issued] == [FABRIC_SCOPE]  # one token, cached by the SDK


def test_a_notebook_is_created_and_run(client: Any, fabric: FakeFabric) -> None:
    fabric.lro_polls = 1
    extractor = client.notebook.items.begin_create_notebook(
        fabric.workspace_id, notebook_request("etl", "x = 41", 'notebookutils.notebook.exit("42")')
    )
    # The SDK hands back only a done-callback holder, filled when its poller thread ends; a
    # poller that fails (its thread dies with the error) never fills it, so wait a bounded time.
    deadline = time.monotonic() + 20
    while extractor.result is None and time.monotonic() < deadline:
        time.sleep(0.05)
    created = extractor.result
    assert created is not None, (
        "the SDK's create poller gave no result within 20 s (see the poller thread's exception "
        f"above); operations {fabric.operations()}, "
        f"requests {[(r.method, r.path) for r in fabric.requests]}"
    )
    assert created.display_name == "etl"
    assert fabric.notebook_code(created.id).code_cells == (
        "x = 41",
        'notebookutils.notebook.exit("42")',
    )
    assert [op.status for op in fabric.operations()] == ["Succeeded"]
    request = core_models.RunOnDemandItemJobRequest(
        execution_data={"parameters": {"p": {"value": "1", "type": "int"}}}
    )
    location = client.core.job_scheduler.run_on_demand_item_job(
        fabric.workspace_id, created.id, "RunNotebook", request, cls=location_of
    )
    job_id = location.rsplit("/", 1)[1]
    done = wait(client, fabric.workspace_id, created.id, job_id)
    assert (done.status, done.job_type, done.failure_reason) == ("Completed", "RunNotebook", None)
    assert fabric.job(job_id).execution_data == {"parameters": {"p": {"value": "1", "type": "int"}}}
    beta = client.notebook.background_jobs.get_notebook_job_instance_beta(
        fabric.workspace_id, created.id, job_id, beta=True
    )
    assert beta.properties.exit_value == "42"
    instances = list(
        client.core.job_scheduler.list_item_job_instances(fabric.workspace_id, created.id)
    )
    assert [instance.id for instance in instances] == [job_id]


def test_a_failing_notebook_run_through_the_execute_route(client: Any, fabric: FakeFabric) -> None:
    notebook = fabric.add_notebook("bad", 'raise ValueError("no data")')
    location = client.notebook.background_jobs.run_on_demand_notebook(
        fabric.workspace_id, notebook.id, None, beta=False, cls=location_of
    )
    assert "/items/" in location
    job_id = location.rsplit("/", 1)[1]
    done = wait(client, fabric.workspace_id, notebook.id, job_id)
    assert done.status == "Failed"
    assert done.failure_reason.error_code == "JobInstanceStatusFailed"
    assert done.failure_reason.message == "Notebook execution failed at cell 1: ValueError: no data"
    with pytest.raises(exceptions.HttpResponseError) as refused:
        client.core.job_scheduler.cancel_item_job_instance(fabric.workspace_id, notebook.id, job_id)
    assert refused.value.status_code == 400
    assert refused.value.model.error_code == "JobAlreadyCompleted"
    assert refused.value.response.headers["x-ms-public-api-error-code"] == "JobAlreadyCompleted"
