"""FakeFabric's responses against the shapes of the published Fabric REST specification
(github.com/microsoft/fabric-rest-api-specs): required keys, value types, enums and headers,
encoded here from the spec's example payloads and definitions (the files are named above each
shape; none is copied)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from aadap.testing import FABRIC_SCOPE, FakeEntra, FakeFabric

Check = Callable[[Any], bool]


def uuid_text(value: Any) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def text(value: Any) -> bool:
    return isinstance(value, str)


def boolean(value: Any) -> bool:
    return isinstance(value, bool)


def integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def one_of(*values: str) -> Check:
    return lambda value: value in values


def nullable(check: Check) -> Check:
    return lambda value: value is None or check(value)


def matches(pattern: str) -> Check:
    return lambda value: isinstance(value, str) and re.fullmatch(pattern, value) is not None


# "2023-04-22T06:35:00.7812154": job instance times, no zone, seven digits
# (platform/examples/platform/GetItemJobInstance.json, as quoted in cloud-apis.md B10.5).
JOB_TIME = matches(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}")
# OperationState times are "format": "date-time" (platform/definitions/platform.json), written
# with milliseconds and Z in the examples ("2023-11-13T22:24:40.477Z",
# platform/examples/platform/GetLongRunningOperationState*.json).
OPERATION_TIME = matches(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@dataclass(frozen=True)
class Shape:
    """An object: keys that must be present, keys that may be, and whether others are
    allowed."""

    required: dict[str, Any]
    optional: dict[str, Any] | None = None
    closed: bool = True


@dataclass(frozen=True)
class ListOf:
    element: Any


def conform(value: Any, shape: Any, where: str = "$") -> list[str]:
    """The ways ``value`` departs from ``shape`` (empty when it conforms)."""
    if isinstance(shape, Shape):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        problems = [f"{where}: missing {key}" for key in shape.required if key not in value]
        known = {**shape.required, **(shape.optional or {})}
        if shape.closed:
            problems += [f"{where}: unexpected {key}" for key in value if key not in known]
        for key, inner in known.items():
            if key in value:
                problems += conform(value[key], inner, f"{where}.{key}")
        return problems
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {value!r}"]
        return [p for i, v in enumerate(value) for p in conform(v, shape.element, f"{where}[{i}]")]
    if callable(shape):
        return [] if shape(value) else [f"{where}: unexpected value {value!r}"]
    raise TypeError(f"not a shape: {shape!r}")


# common/definitions.json: ErrorResponse (required errorCode, message; requestId, moreDetails,
# relatedResource {resourceId, resourceType}); isRetriable per cloud-apis.md B10.1.
RELATED = Shape({"resourceId": text, "resourceType": text})
ERROR = Shape(
    {"errorCode": text, "message": text, "requestId": text},
    {
        "isRetriable": boolean,
        "relatedResource": RELATED,
        "moreDetails": ListOf(
            Shape({"errorCode": text, "message": text}, {"relatedResource": RELATED})
        ),
    },
)


def NULLABLE_ERROR(value: Any) -> bool:  # noqa: N802  (a shape constant, spelled as one)
    return value is None or not conform(value, ERROR)


# platform/examples/platform/GetItem.json and CreateItemRequiredOnly.json (201 body);
# common/definitions.json Item (folderId only for items in folders).
ITEM_KEYS = {"id": uuid_text, "displayName": text, "description": text, "workspaceId": uuid_text}
ITEM = Shape({**ITEM_KEYS, "type": text}, {"folderId": uuid_text})

# platform/examples/platform/ListItemsInWorkspaceWithContinuation.json: value +
# continuationToken + continuationUri (both left out on the last page).
CONTINUATION = {"continuationToken": text, "continuationUri": text}


def page_of(element: Any, key: str = "value") -> Shape:
    return Shape({key: ListOf(element)}, CONTINUATION)


# lakehouse/examples/GetLakehouse.json, lakehouse/definitions.json LakehouseProperties,
# SqlEndpointProperties (provisioningStatus enum).
LAKEHOUSE = Shape(
    {
        **ITEM_KEYS,
        "type": one_of("Lakehouse"),
        "properties": Shape(
            {
                "oneLakeTablesPath": matches(
                    r"https://onelake\.dfs\.fabric\.microsoft\.com/.+/Tables"
                ),
                "oneLakeFilesPath": matches(
                    r"https://onelake\.dfs\.fabric\.microsoft\.com/.+/Files"
                ),
                "sqlEndpointProperties": Shape(
                    {
                        "id": uuid_text,
                        "connectionString": text,
                        "provisioningStatus": one_of("InProgress", "Success", "Failed"),
                    }
                ),
            },
            {"defaultSchema": text},
        ),
    },
    {"folderId": uuid_text},
)

# lakehouse/examples/ListTables.json, lakehouse/definitions.json Table (TableType enum).
TABLE = Shape(
    {"type": one_of("Managed", "External"), "name": text, "location": text, "format": text}
)

# platform/examples/platform/GetLongRunningOperationState*.json and platform/definitions/
# platform.json OperationState (status enum LongRunningOperationStatus).
OPERATION_STATE = Shape(
    {
        "status": one_of("NotStarted", "Running", "Succeeded", "Failed", "Undefined"),
        "createdTimeUtc": OPERATION_TIME,
        "lastUpdatedTimeUtc": OPERATION_TIME,
    },
    {"percentComplete": integer, "error": ERROR},
)

# platform/examples/platform/GetItemJobInstance.json and platform/definitions/platform.json
# ItemJobInstance (no properties), ItemJobStatus and InvokeType enums.
JOB_INSTANCE_KEYS = {
    "id": uuid_text,
    "itemId": uuid_text,
    "jobType": text,
    "invokeType": one_of("Manual", "Scheduled"),
    "status": one_of("NotStarted", "InProgress", "Completed", "Failed", "Cancelled", "Deduped"),
    "rootActivityId": uuid_text,
    "startTimeUtc": JOB_TIME,
    "endTimeUtc": nullable(JOB_TIME),
    "failureReason": NULLABLE_ERROR,
}
JOB_INSTANCE = Shape(JOB_INSTANCE_KEYS)

# notebook/examples/GetSparkNotebookJobInstance.json and notebook/definitions.json
# NotebookJobInstance, NotebookJobInstanceProperties (compute discriminator).
NOTEBOOK_JOB_INSTANCE = Shape(
    {
        **JOB_INSTANCE_KEYS,
        "properties": Shape(
            {
                "exitValue": nullable(text),
                "compute": one_of("Spark", "Jupyter", "DataWarehouse"),
                "computeDetails": Shape({}, closed=False),
            }
        ),
    }
)

# The 202 headers: CreateItemRequiredOnly.json (Location .../v1/operations/{id},
# x-ms-operation-id, Retry-After integer); RunOnDemandItemJob*.json and
# CancelItemJobInstance.json (Location .../items/{item}/jobs/instances/{id}, Retry-After);
# GetLongRunningOperationState*.json (running: Location, x-ms-operation-id, Retry-After;
# succeeded: Location .../result, no Retry-After).
RETRY_AFTER = re.compile(r"\d+")


def lro_headers(response: requests.Response, api_url: str) -> list[str]:
    problems = []
    operation_id = response.headers.get("x-ms-operation-id", "")
    if not uuid_text(operation_id):
        problems.append(f"x-ms-operation-id {operation_id!r}")
    if response.headers.get("Location") != f"{api_url}/operations/{operation_id}":
        problems.append(f"Location {response.headers.get('Location')!r}")
    if not RETRY_AFTER.fullmatch(response.headers.get("Retry-After", "")):
        problems.append(f"Retry-After {response.headers.get('Retry-After')!r}")
    return problems


def job_headers(response: requests.Response, item_url: str) -> list[str]:
    problems = []
    location = response.headers.get("Location", "")
    if not re.fullmatch(re.escape(item_url) + r"/jobs/instances/[0-9a-f-]{36}", location):
        problems.append(f"Location {location!r}")
    if not RETRY_AFTER.fullmatch(response.headers.get("Retry-After", "")):
        problems.append(f"Retry-After {response.headers.get('Retry-After')!r}")
    return problems


class Api:
    def __init__(self, fabric: FakeFabric, token: str) -> None:
        self.base = fabric.api_url
        self.ws = f"{fabric.api_url}/workspaces/{fabric.workspace_id}"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = fabric.ca_path
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, url: str, **params: str) -> requests.Response:
        return self.session.get(url, params=params or None, timeout=10)

    def post(self, url: str, body: Any = None, **params: str) -> requests.Response:
        return self.session.post(url, json=body, params=params or None, timeout=10)


@pytest.fixture
def fabric() -> Iterator[tuple[FakeFabric, Api]]:
    # only polls move operations and jobs on (no deadline on the real clock): the tests see
    # each state whatever the machine's load
    with (
        FakeEntra() as entra,
        FakeFabric(
            entra=entra, lro_polls=1, job_polls=1, lro_seconds=None, job_seconds=None
        ) as fake,
    ):
        api = Api(fake, entra.issue(FABRIC_SCOPE))
        yield fake, api
        api.session.close()


def notebook_definition() -> dict[str, Any]:
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}
    payload = base64.b64encode(json.dumps(notebook).encode()).decode()
    return {
        "format": "ipynb",
        "parts": [
            {"path": "notebook-content.ipynb", "payload": payload, "payloadType": "InlineBase64"}
        ],
    }


def test_the_shapes_catch_departures() -> None:
    good = {
        "id": str(uuid.uuid4()),
        "displayName": "Item 1",
        "description": "",
        "type": "Lakehouse",
        "workspaceId": str(uuid.uuid4()),
    }
    assert conform(good, ITEM) == []
    assert conform({**good, "extra": 1}, ITEM) == ["$: unexpected extra"]
    assert conform({k: v for k, v in good.items() if k != "id"}, ITEM) == ["$: missing id"]
    assert conform({"status": "Running"}, OPERATION_STATE) != []
    assert conform("2023-04-22T06:35:00.781Z", JOB_TIME) != []
    assert conform("2023-04-22T06:35:00.7812154Z", JOB_TIME) != []
    assert conform("2023-11-13T22:24:40.4770000Z", OPERATION_TIME) != []
    assert conform("2023-11-13T22:24:40.477", OPERATION_TIME) != []
    assert conform("2023-11-13T22:24:40.477Z", OPERATION_TIME) == []
    assert conform({"errorCode": "X", "message": "m"}, ERROR) == ["$: missing requestId"]


def test_items(fabric: tuple[FakeFabric, Api]) -> None:
    fake, api = fabric
    fake.page_size = 3
    for i in range(3):
        fake.add_notebook(f"nb{i}", "1")
    lakehouse = fake.add_lakehouse("lh", tables=["t"])
    first = api.get(f"{api.ws}/items").json()
    assert conform(first, page_of(ITEM)) == []
    assert set(first) == {"value", "continuationToken", "continuationUri"}
    last = api.get(first["continuationUri"]).json()
    assert conform(last, page_of(ITEM)) == []
    assert set(last) == {"value"}
    assert [entry["type"] for entry in last["value"]] == ["Lakehouse"]
    item = api.get(f"{api.ws}/items/{first['value'][0]['id']}").json()
    assert conform(item, ITEM) == []
    # GetItem.json is a Lakehouse item: no properties through /items (only /lakehouses)
    assert conform(api.get(f"{api.ws}/items/{lakehouse.id}").json(), ITEM) == []
    created = api.post(f"{api.ws}/items", {"displayName": "lh2", "type": "Lakehouse"})
    assert created.status_code == 201
    assert conform(created.json(), ITEM) == []
    workspaces = api.get(f"{api.base}/workspaces").json()
    workspace = Shape(
        {"id": uuid_text, "displayName": text, "description": text, "type": text},
        {"capacityId": uuid_text},
    )
    assert conform(workspaces, page_of(workspace)) == []


def test_create_201_and_202_with_the_operation(fabric: tuple[FakeFabric, Api]) -> None:
    fake, api = fabric
    created = api.post(f"{api.ws}/items", {"displayName": "Item 1", "type": "Notebook"})
    assert created.status_code == 201
    assert conform(created.json(), ITEM) == []
    accepted = api.post(
        f"{api.ws}/items",
        {"displayName": "Item 2", "type": "Notebook", "definition": notebook_definition()},
    )
    assert accepted.status_code == 202
    assert accepted.content == b""
    assert lro_headers(accepted, api.base) == []
    running = api.get(accepted.headers["Location"])
    assert conform(running.json(), OPERATION_STATE) == []
    assert running.json()["status"] == "Running"
    assert lro_headers(running, api.base) == []
    done = api.get(accepted.headers["Location"])
    assert conform(done.json(), OPERATION_STATE) == []
    assert done.json()["status"] == "Succeeded"
    assert done.headers["Location"] == f"{accepted.headers['Location']}/result"
    assert "Retry-After" not in done.headers
    result = api.get(done.headers["Location"])
    assert conform(result.json(), ITEM) == []
    fake.fail_next_operation()
    failing = api.post(
        f"{api.ws}/items",
        {"displayName": "Item 3", "type": "Notebook", "definition": notebook_definition()},
    )
    api.get(failing.headers["Location"])
    failed = api.get(failing.headers["Location"]).json()
    assert failed["status"] == "Failed"
    assert conform(failed, OPERATION_STATE) == []


def test_jobs(fabric: tuple[FakeFabric, Api]) -> None:
    fake, api = fabric
    notebook = fake.add_notebook("nb", ['notebookutils.notebook.exit("1")'])
    item_url = f"{api.ws}/items/{notebook.id}"
    run = api.post(f"{item_url}/jobs/instances", jobType="RunNotebook")
    assert run.status_code == 202
    assert run.content == b""
    assert job_headers(run, item_url) == []
    running = api.get(run.headers["Location"]).json()
    assert running["status"] == "InProgress"
    assert conform(running, JOB_INSTANCE) == []
    done = api.get(run.headers["Location"]).json()
    assert done["status"] == "Completed"
    assert conform(done, JOB_INSTANCE) == []
    job_id = done["id"]
    beta = api.get(
        f"{api.ws}/notebooks/{notebook.id}/jobs/execute/instances/{job_id}", beta="true"
    ).json()
    assert conform(beta, NOTEBOOK_JOB_INSTANCE) == []
    fake.script_job("Failed", message="boom")
    failing = api.post(f"{item_url}/jobs/RunNotebook/instances")
    api.get(failing.headers["Location"])
    failed = api.get(failing.headers["Location"]).json()
    assert conform(failed, JOB_INSTANCE) == []
    assert failed["failureReason"] is not None
    execute = api.post(
        f"{api.ws}/notebooks/{notebook.id}/jobs/execute/instances",
        {"executionData": {"compute": "Spark"}},
        beta="false",
    )
    assert job_headers(execute, item_url) == []
    cancel = api.post(f"{execute.headers['Location']}/cancel")
    assert cancel.status_code == 202
    assert cancel.headers["Location"] == execute.headers["Location"]
    assert RETRY_AFTER.fullmatch(cancel.headers["Retry-After"])
    instances = api.get(f"{item_url}/jobs/instances").json()
    assert conform(instances, page_of(JOB_INSTANCE)) == []
    assert conform(api.get(instances["continuationUri"]).json(), page_of(JOB_INSTANCE)) == []


def test_lakehouse_and_tables(fabric: tuple[FakeFabric, Api]) -> None:
    fake, api = fabric
    lakehouse = fake.add_lakehouse("lh", tables=["a", "b", "c"])
    got = api.get(f"{api.ws}/lakehouses/{lakehouse.id}").json()
    assert conform(got, LAKEHOUSE) == []
    assert conform(api.get(f"{api.ws}/lakehouses").json(), page_of(LAKEHOUSE)) == []
    tables = api.get(f"{api.ws}/lakehouses/{lakehouse.id}/tables", maxResults="2").json()
    assert conform(tables, page_of(TABLE, key="data")) == []
    assert set(tables) == {"data", "continuationToken", "continuationUri"}


def _reserved_create(fake: FakeFabric, api: Api) -> requests.Response:
    fake.reserve_name("held", "Notebook")
    return api.post(f"{api.ws}/items", {"displayName": "held", "type": "Notebook"})


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (lambda _, api: api.get(f"{api.ws}/items/{uuid.uuid4()}"), 404, "ItemNotFound"),
        (
            lambda _, api: api.post(f"{api.ws}/items", {"displayName": "x", "type": "Bad"}),
            400,
            "InvalidItemType",
        ),
        (
            lambda _, api: api.get(f"{api.base}/operations/{uuid.uuid4()}"),
            404,
            "EntityNotFound",
        ),
        (
            lambda _, api: api.post(f"{api.ws}/items", {"displayName": "nb", "type": "Notebook"}),
            400,
            "ItemDisplayNameAlreadyInUse",
        ),
        (_reserved_create, 400, "ItemDisplayNameNotAvailableYet"),
        (
            lambda _, api: api.get(f"{api.ws}/items", continuationToken="nope"),
            400,
            "InvalidContinuationToken",
        ),
    ],
    ids=[
        "ItemNotFound",
        "InvalidItemType",
        "EntityNotFound",
        "ItemDisplayNameAlreadyInUse",
        "ItemDisplayNameNotAvailableYet",
        "InvalidContinuationToken",
    ],
)
def test_error_responses(
    fabric: tuple[FakeFabric, Api],
    call: Callable[[FakeFabric, Api], requests.Response],
    status: int,
    code: str,
) -> None:
    fake, api = fabric
    fake.add_notebook("nb", "1")
    response = call(fake, api)
    assert response.status_code == status
    body = response.json()
    assert conform(body, ERROR) == []
    assert body["errorCode"] == code
    assert response.headers["x-ms-public-api-error-code"] == code
    assert response.headers["RequestId"] == body["requestId"]
