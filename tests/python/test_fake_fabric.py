"""FakeFabric over raw HTTPS (requests): items, definitions, long-running operations, the job
scheduler, lakehouses, paging, errors in Fabric's shape, authentication and throttling."""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import msal  # type: ignore[import-untyped]
import pytest
import requests

from aadap.testing import FABRIC_SCOPE, FakeEntra, FakeFabric
from aadap.testing.fabric import fake as fake_module

JOB_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}$")
OPERATION_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NOTEBOOK_TYPES = {"Notebook"}


class Api:
    """A bare HTTP client of the fake: the bearer token, the test CA, JSON bodies."""

    def __init__(self, fabric: FakeFabric, token: str | None) -> None:
        self.fabric = fabric
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE from the environment would win
        self.session.verify = fabric.ca_path if fabric.tls else False
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.fabric.api_url}{path}"

    def get(self, path: str, **params: str) -> requests.Response:
        return self.session.get(self.url(path), params=params or None, timeout=10)

    def post(self, path: str, body: Any = None, **params: str) -> requests.Response:
        return self.session.post(self.url(path), json=body, params=params or None, timeout=10)

    def patch(self, path: str, body: Any) -> requests.Response:
        return self.session.patch(self.url(path), json=body, timeout=10)

    def delete(self, path: str) -> requests.Response:
        return self.session.delete(self.url(path), timeout=10)

    def ws(self, path: str = "") -> str:
        return f"/workspaces/{self.fabric.workspace_id}{path}"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.25

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fabric(entra: FakeEntra, clock: Clock) -> Iterator[FakeFabric]:
    with FakeFabric(entra=entra, clock=clock) as fake:
        yield fake


@pytest.fixture
def api(fabric: FakeFabric, entra: FakeEntra) -> Iterator[Api]:
    client = Api(fabric, entra.issue(FABRIC_SCOPE))
    yield client
    client.session.close()


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """A Fabric ErrorResponse: body, x-ms-public-api-error-code and RequestId agree."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["errorCode"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert response.headers["x-ms-public-api-error-code"] == code
    assert response.headers["RequestId"] == body["requestId"]
    uuid.UUID(body["requestId"])
    assert set(body) <= {
        "requestId",
        "errorCode",
        "message",
        "isRetriable",
        "moreDetails",
        "relatedResource",
    }
    return body


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def ipynb(*cells: str, language: str = "python") -> dict[str, Any]:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"language_info": {"name": language}},
        "cells": [
            {"cell_type": "code", "source": cell.splitlines(keepends=True), "metadata": {}}
            for cell in cells
        ],
    }
    return {
        "format": "ipynb",
        "parts": [
            {
                "path": "notebook-content.ipynb",
                "payload": b64(json.dumps(notebook)),
                "payloadType": "InlineBase64",
            },
            {
                "path": ".platform",
                "payload": b64(json.dumps({"metadata": {"type": "Notebook"}})),
                "payloadType": "InlineBase64",
            },
        ],
    }


def poll_operation(api: Api, response: requests.Response) -> list[requests.Response]:
    """Follows an LRO's Location until it ends; returns every state response."""
    assert response.status_code == 202, response.text
    states = []
    location = response.headers["Location"]
    for _ in range(10):
        state = api.get(location)
        states.append(state)
        if state.json()["status"] in ("Succeeded", "Failed"):
            return states
    raise AssertionError("the operation never ended")


def run_until_done(api: Api, location: str) -> list[dict[str, Any]]:
    bodies = []
    for _ in range(10):
        body = api.get(location).json()
        bodies.append(body)
        if body["status"] in ("Completed", "Failed", "Cancelled", "Deduped"):
            return bodies
    raise AssertionError("the job never ended")


# -- workspaces, authentication, errors --------------------------------------------------------


def test_the_default_workspace_and_more(api: Api, fabric: FakeFabric) -> None:
    first = api.get("/workspaces")
    assert first.status_code == 200
    assert first.headers["RequestId"]
    assert first.json() == {
        "value": [
            {
                "id": fabric.workspace_id,
                "displayName": "SANDBOX",
                "description": "aadap sandbox workspace",
                "type": "Workspace",
                "capacityId": fabric.workspaces()[0].capacity_id,
            }
        ]
    }
    added = [fabric.add_workspace(f"ws{i}") for i in range(3)]
    names: list[str] = []
    page = api.get("/workspaces").json()
    while True:
        names += [w["displayName"] for w in page["value"]]
        if "continuationUri" not in page:
            break
        page = api.get(page["continuationUri"]).json()
    assert names == ["SANDBOX", "ws0", "ws1", "ws2"]
    assert api.get(f"/workspaces/{added[1].id}").json()["displayName"] == "ws1"
    missing = str(uuid.uuid4())
    body = assert_error(api.get(f"/workspaces/{missing}"), 404, "WorkspaceNotFound")
    assert body["relatedResource"] == {"resourceId": missing, "resourceType": "Workspace"}


def test_bearer_tokens_are_checked(fabric: FakeFabric, entra: FakeEntra) -> None:
    assert_error(Api(fabric, None).get("/workspaces"), 401, "Unauthorized")
    assert_error(Api(fabric, "not-a-jwt").get("/workspaces"), 401, "Unauthorized")
    other = entra.issue("https://cognitiveservices.azure.com/.default")
    assert_error(Api(fabric, other).get("/workspaces"), 401, "Unauthorized")
    good = Api(fabric, entra.issue(FABRIC_SCOPE))
    assert good.get("/workspaces").status_code == 200
    entra.expire_all()
    assert_error(good.get("/workspaces"), 401, "TokenExpired")


def test_without_entra_any_bearer_token_passes_over_plain_http() -> None:
    with FakeFabric(tls=False) as fabric:
        assert fabric.url.startswith("http://")
        assert Api(fabric, "anything").get("/workspaces").status_code == 200
        assert_error(Api(fabric, None).get("/workspaces"), 401, "Unauthorized")


def test_unknown_routes_are_entity_not_found(api: Api) -> None:
    assert_error(api.get("/nothing/here"), 404, "EntityNotFound")
    assert_error(api.get(api.ws("/reports")), 404, "EntityNotFound")
    assert_error(api.delete("/workspaces"), 404, "EntityNotFound")


# -- items and paging --------------------------------------------------------------------------


def test_items_are_paged_with_tokens_that_need_encoding(api: Api, fabric: FakeFabric) -> None:
    for i in range(5):
        fabric.add_notebook(f"nb{i}", "print(1)")
    fabric.add_lakehouse("lh")
    first = api.get(api.ws("/items"), type="Notebook").json()
    assert [item["displayName"] for item in first["value"]] == ["nb0", "nb1"]
    token = first["continuationToken"]
    assert set("+/=#:") <= set(token)
    assert first["continuationUri"] == (
        f"{api.url(api.ws('/items'))}?continuationToken={quote(token, safe='')}"
    )
    names = [item["displayName"] for item in first["value"]]
    page = first
    while "continuationUri" in page:  # the type filter is kept by the token
        page = api.get(page["continuationUri"]).json()
        names += [item["displayName"] for item in page["value"]]
    assert names == [f"nb{i}" for i in range(5)]
    assert "continuationToken" not in page
    second = api.get(api.ws("/items"), continuationToken=token)  # encoded once by requests
    assert [item["displayName"] for item in second.json()["value"]] == ["nb2", "nb3"]
    unencoded = api.get(f"{api.url(api.ws('/items'))}?continuationToken={token}")
    assert_error(unencoded, 400, "InvalidContinuationToken")
    twice = quote(quote(token, safe=""), safe="")
    double = api.get(f"{api.url(api.ws('/items'))}?continuationToken={twice}")
    assert_error(double, 400, "InvalidContinuationToken")
    elsewhere = api.get(api.ws("/notebooks"), continuationToken=token)
    assert_error(elsewhere, 400, "InvalidContinuationToken")
    everything = api.get(api.ws("/items")).json()
    fabric.page_size = 10
    assert len(api.get(api.ws("/items")).json()["value"]) == 6
    assert len(everything["value"]) == 2


def test_only_the_latest_tokens_are_remembered(
    api: Api, fabric: FakeFabric, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_module, "_MAX_CURSORS", 2)
    for i in range(3):
        fabric.add_notebook(f"nb{i}", "1")
    oldest = api.get(api.ws("/items")).json()["continuationToken"]
    for _ in range(2):
        api.get(api.ws("/items"))
    stale = api.get(api.ws("/items"), continuationToken=oldest)
    assert_error(stale, 400, "InvalidContinuationToken")
    latest = api.get(api.ws("/items")).json()["continuationToken"]
    for _ in range(2):  # a token may be used again (a retried page)
        assert len(api.get(api.ws("/items"), continuationToken=latest).json()["value"]) == 1


def test_type_specific_collections(api: Api, fabric: FakeFabric) -> None:
    notebook = fabric.add_notebook("nb", "print(1)")
    lakehouse = fabric.add_lakehouse("lh")
    pipeline = fabric.add_item("DataPipeline", "pl")
    job = fabric.add_item("SparkJobDefinition", "sjd")
    for collection, item in (
        ("notebooks", notebook),
        ("lakehouses", lakehouse),
        ("dataPipelines", pipeline),
        ("sparkJobDefinitions", job),
    ):
        listed = api.get(api.ws(f"/{collection}")).json()["value"]
        assert [entry["id"] for entry in listed] == [item.id]
        assert listed[0]["type"] == item.type
        got = api.get(api.ws(f"/{collection}/{item.id}")).json()
        assert got["displayName"] == item.display_name
    assert "properties" in api.get(api.ws("/lakehouses")).json()["value"][0]
    # the generic routes serve the plain Item, a lakehouse's properties only on /lakehouses
    assert all("properties" not in entry for entry in api.get(api.ws("/items")).json()["value"])
    assert "properties" not in api.get(api.ws(f"/items/{lakehouse.id}")).json()
    body = assert_error(api.get(api.ws(f"/lakehouses/{notebook.id}")), 404, "ItemNotFound")
    assert body["relatedResource"] == {"resourceId": notebook.id, "resourceType": "Item"}


def test_create_without_definition_is_201(api: Api, fabric: FakeFabric) -> None:
    response = api.post(
        api.ws("/items"), {"displayName": "Item 1", "type": "Lakehouse", "description": "d"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["displayName"] == "Item 1"
    assert body["description"] == "d"
    assert body["workspaceId"] == fabric.workspace_id
    assert "properties" not in body  # the generic route: a plain Item
    assert fabric.item(body["id"]).type == "Lakehouse"
    lakehouse = api.get(api.ws(f"/lakehouses/{body['id']}")).json()
    assert lakehouse["properties"]["sqlEndpointProperties"]["provisioningStatus"] == "Success"
    typed = api.post(api.ws("/lakehouses"), {"displayName": "Item 2"})
    assert typed.status_code == 201
    assert "properties" in typed.json()
    assert_error(
        api.post(api.ws("/items"), {"displayName": "x", "type": "Nope"}), 400, "InvalidItemType"
    )
    assert_error(api.post(api.ws("/items"), {"type": "Notebook"}), 400, "InvalidInput")
    assert_error(api.post(api.ws("/items"), [1]), 400, "InvalidInput")


def test_create_with_definition_is_a_long_running_operation(api: Api, fabric: FakeFabric) -> None:
    fabric.lro_polls = 3
    response = api.post(api.ws("/notebooks"), {"displayName": "nb", "definition": ipynb("x = 1")})
    assert response.status_code == 202
    assert response.content == b""
    operation_id = response.headers["x-ms-operation-id"]
    assert response.headers["Location"] == f"{fabric.api_url}/operations/{operation_id}"
    assert response.headers["Retry-After"] == "1"
    assert fabric.items(item_type="Notebook") == []
    states = poll_operation(api, response)
    assert [s.json()["status"] for s in states] == ["NotStarted", "Running", "Running", "Succeeded"]
    for running in states[:-1]:
        assert running.headers["Location"] == response.headers["Location"]
        assert running.headers["x-ms-operation-id"] == operation_id
        assert running.headers["Retry-After"] == "1"
    done = states[-1]
    assert done.headers["Location"] == f"{fabric.api_url}/operations/{operation_id}/result"
    assert "Retry-After" not in done.headers
    assert done.json()["percentComplete"] == 100
    assert done.json()["createdTimeUtc"] == "2023-11-14T22:13:20.250Z"  # the clock, in ms
    assert OPERATION_TIME.match(done.json()["lastUpdatedTimeUtc"])
    result = api.get(done.headers["Location"])
    assert result.status_code == 200
    item = result.json()
    assert (item["displayName"], item["type"]) == ("nb", "Notebook")
    assert fabric.notebook_code(item["id"]).code_cells == ("x = 1",)
    assert fabric.operations()[0].polls == 4


def test_create_modes(api: Api, fabric: FakeFabric) -> None:
    fabric.create_lro = "always"
    assert api.post(api.ws("/items"), {"displayName": "a", "type": "Notebook"}).status_code == 202
    fabric.create_lro = "never"
    created = api.post(api.ws("/notebooks"), {"displayName": "b", "definition": ipynb("1")})
    assert created.status_code == 201
    assert fabric.notebook_code(created.json()["id"]).code_cells == ("1",)


def test_a_taken_display_name_is_refused(api: Api, fabric: FakeFabric) -> None:
    fabric.add_notebook("Daily ETL", "print(1)")
    again = api.post(api.ws("/items"), {"displayName": "daily etl", "type": "Notebook"})
    assert_error(again, 400, "ItemDisplayNameAlreadyInUse")
    other_type = api.post(api.ws("/items"), {"displayName": "Daily ETL", "type": "Lakehouse"})
    assert other_type.status_code == 201
    pending = api.post(api.ws("/notebooks"), {"displayName": "new", "definition": ipynb("1")})
    assert pending.status_code == 202
    duplicate = api.post(api.ws("/notebooks"), {"displayName": "new"})
    assert_error(duplicate, 400, "ItemDisplayNameAlreadyInUse")
    with pytest.raises(ValueError, match="already in use"):
        fabric.add_notebook("Daily ETL", "print(2)")


def test_a_reserved_name_is_not_available_yet(api: Api, fabric: FakeFabric) -> None:
    fabric.reserve_name("Daily ETL", "Notebook", creates=2)
    for _ in range(2):
        refused = api.post(api.ws("/items"), {"displayName": "daily etl", "type": "Notebook"})
        body = assert_error(refused, 400, "ItemDisplayNameNotAvailableYet")
        assert body["isRetriable"] is True
        assert "'daily etl' is not available yet" in body["message"]
    other_type = api.post(api.ws("/items"), {"displayName": "Daily ETL", "type": "Lakehouse"})
    assert other_type.status_code == 201
    created = api.post(api.ws("/notebooks"), {"displayName": "Daily ETL"})
    assert created.status_code == 201
    fabric.reserve_name("Loader", "Notebook", status=409)
    invalid = api.post(api.ws("/notebooks"), {"displayName": "Loader", "definition": {}})
    assert_error(invalid, 400, "CorruptedPayload")  # not counted: it would fail anyway
    held = api.post(api.ws("/notebooks"), {"displayName": "Loader", "definition": ipynb("1")})
    assert_error(held, 409, "ItemDisplayNameNotAvailableYet")
    assert api.post(api.ws("/notebooks"), {"displayName": "Loader"}).status_code == 201
    with pytest.raises(ValueError, match="creates"):
        fabric.reserve_name("x", "Notebook", creates=0)
    with pytest.raises(ValueError, match="item type"):
        fabric.reserve_name("x", "Nope")


def _part(path: str, payload: str, payload_type: str = "InlineBase64") -> dict[str, str]:
    return {"path": path, "payload": payload, "payloadType": payload_type}


@pytest.mark.parametrize(
    "definition",
    [
        {"format": "ipynb", "parts": [_part("notebook-content.ipynb", "not base64!")]},
        {"format": "ipynb", "parts": [_part("notebook-content.ipynb", b64("{}"), "Inline")]},
        {"format": "ipynb", "parts": [_part("notebook-content.py", b64("print(1)"))]},
        {"format": "ipynb", "parts": [_part("notebook-content.ipynb", b64("{not json"))]},
        {"format": "ipynb", "parts": [_part("notebook-content.ipynb", b64("[1, 2]"))]},
        {"parts": [_part("notebook-content.ipynb", b64('{"cells": []}'))]},
        {"format": "fabricGitSource", "parts": [_part("notebook-content.txt", b64("x"))]},
        {"format": "zip", "parts": [_part("notebook-content.py", b64("x"))]},
        {"format": "ipynb", "parts": []},
    ],
    ids=[
        "base64",
        "payload-type",
        "py-for-ipynb",
        "ipynb-not-json",
        "ipynb-not-notebook",
        "ipynb-for-default-format",
        "txt",
        "unknown-format",
        "no-parts",
    ],
)
def test_corrupted_definitions_are_refused(
    api: Api, fabric: FakeFabric, definition: dict[str, Any]
) -> None:
    response = api.post(api.ws("/notebooks"), {"displayName": "nb", "definition": definition})
    assert_error(response, 400, "CorruptedPayload")
    assert fabric.items() == []


FABRIC_SOURCE = """# Fabric notebook source

# METADATA ********************

# META {
# META   "dependencies": {"lakehouse": {"default_lakehouse_name": "lh"}}
# META }

# MARKDOWN ********************

# # Title

# CELL ********************

df = spark.sql("SELECT 1")

# METADATA ********************

# META {"language": "python"}

# CELL ********************

mssparkutils.notebook.exit(str(df.count()))
"""


def test_fabric_git_source_notebooks_read_back_as_ipynb(api: Api, fabric: FakeFabric) -> None:
    definition = {"parts": [_part("notebook-content.py", b64(FABRIC_SOURCE))]}
    fabric.create_lro = "never"
    created = api.post(api.ws("/notebooks"), {"displayName": "src", "definition": definition})
    assert created.status_code == 201
    code = fabric.notebook_code(created.json()["id"])
    assert code.language == "python"
    assert code.code_cells == (
        'df = spark.sql("SELECT 1")',
        "mssparkutils.notebook.exit(str(df.count()))",
    )
    assert [cell.cell_type for cell in code.cells] == ["markdown", "code", "code"]
    assert code.cells[0].source == "# Title"
    assert code.lakehouse == {"default_lakehouse_name": "lh"}
    path = api.ws(f"/items/{created.json()['id']}/getDefinition")
    returned = api.post(path, format="ipynb").json()["definition"]
    assert returned["format"] == "ipynb"
    parts = {part["path"]: part for part in returned["parts"]}
    assert set(parts) == {"notebook-content.ipynb", ".platform"}
    notebook = json.loads(base64.b64decode(parts["notebook-content.ipynb"]["payload"]))
    sources = [cell["source"] for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert sources == list(code.code_cells)
    platform = json.loads(base64.b64decode(parts[".platform"]["payload"]))
    assert platform["metadata"] == {"type": "Notebook", "displayName": "src", "description": ""}
    default = api.post(path).json()["definition"]
    assert default["format"] == "fabricGitSource"
    source = base64.b64decode(default["parts"][0]["payload"]).decode()
    assert default["parts"][0]["path"] == "notebook-content.py"
    assert "# CELL ********************" in source
    assert 'df = spark.sql("SELECT 1")' in source


def test_the_lakehouse_binding_per_format(api: Api, fabric: FakeFabric) -> None:
    binding = {"default_lakehouse": str(uuid.uuid4()), "default_lakehouse_name": "lh"}
    notebook = fabric.add_notebook("nb", "1", lakehouse=binding)
    path = api.ws(f"/items/{notebook.id}/getDefinition")
    exported = api.post(path, format="ipynb").json()["definition"]
    content = next(p for p in exported["parts"] if p["path"] == "notebook-content.ipynb")
    metadata = json.loads(base64.b64decode(content["payload"]))["metadata"]
    assert metadata["trident"] == {"lakehouse": binding}  # ipynb as Fabric exports it
    assert "dependencies" not in metadata
    source = base64.b64decode(api.post(path).json()["definition"]["parts"][0]["payload"]).decode()
    meta = "\n".join(
        line.removeprefix("# META") for line in source.splitlines() if line.startswith("# META ")
    )
    assert json.loads(meta)["dependencies"] == {"lakehouse": binding}  # fabricGitSource
    fabric.create_lro = "never"
    for key in ("trident", "dependencies"):  # both read back
        document = {"cells": [], "metadata": {key: {"lakehouse": binding}}}
        definition = {
            "format": "ipynb",
            "parts": [_part("notebook-content.ipynb", b64(json.dumps(document)))],
        }
        created = api.post(api.ws("/notebooks"), {"displayName": key, "definition": definition})
        assert fabric.notebook_code(created.json()["id"]).lakehouse == binding


def test_update_definition_shows_only_after_the_operation(api: Api, fabric: FakeFabric) -> None:
    notebook = fabric.add_notebook("nb", "old = 1")
    path = api.ws(f"/notebooks/{notebook.id}/updateDefinition")
    response = api.post(path, {"definition": ipynb("new = 2")})
    assert response.status_code == 202
    assert fabric.notebook_code(notebook.id).code_cells == ("old = 1",)
    states = poll_operation(api, response)
    assert states[-1].json()["status"] == "Succeeded"
    assert fabric.notebook_code(notebook.id).code_cells == ("new = 2",)
    no_result = api.get(states[-1].headers["Location"])
    assert_error(no_result, 400, "OperationHasNoResult")
    fabric.update_definition_lro = False
    immediate = api.post(path, {"definition": ipynb("newer = 3")})
    assert (immediate.status_code, immediate.content) == (200, b"")
    assert fabric.notebook_code(notebook.id).code_cells == ("newer = 3",)
    broken = api.post(path, {"definition": {"parts": [_part("x.ipynb", "%%%")]}})
    assert_error(broken, 400, "CorruptedPayload")


def test_update_definition_can_update_metadata(api: Api, fabric: FakeFabric) -> None:
    fabric.update_definition_lro = False
    notebook = fabric.add_notebook("nb", "1")
    definition = ipynb("2")
    definition["parts"][1]["payload"] = b64(json.dumps({"metadata": {"displayName": "renamed"}}))
    path = api.ws(f"/items/{notebook.id}/updateDefinition")
    assert api.post(path, {"definition": definition}).status_code == 200
    assert fabric.item(notebook.id).display_name == "nb"
    assert api.post(path, {"definition": definition}, updateMetadata="true").status_code == 200
    assert fabric.item(notebook.id).display_name == "renamed"


def test_get_definition_as_a_long_running_operation(api: Api, fabric: FakeFabric) -> None:
    fabric.get_definition_lro = True
    fabric.lro_polls = 0
    notebook = fabric.add_notebook("nb", "x = 1")
    response = api.post(api.ws(f"/items/{notebook.id}/getDefinition"), format="ipynb")
    states = poll_operation(api, response)
    assert [s.json()["status"] for s in states] == ["Succeeded"]
    result = api.get(states[0].headers["Location"]).json()
    assert result["definition"]["format"] == "ipynb"
    assert all(part["payloadType"] == "InlineBase64" for part in result["definition"]["parts"])


def test_update_and_delete_items(api: Api, fabric: FakeFabric) -> None:
    first = fabric.add_notebook("first", "1")
    fabric.add_notebook("second", "2")
    path = api.ws(f"/items/{first.id}")
    renamed = api.patch(path, {"displayName": "renamed", "description": "new"})
    assert renamed.status_code == 200
    assert (renamed.json()["displayName"], renamed.json()["description"]) == ("renamed", "new")
    assert_error(api.patch(path, {"displayName": "second"}), 400, "ItemDisplayNameAlreadyInUse")
    assert_error(api.patch(path, {}), 400, "InvalidRequest")
    deleted = api.delete(path)
    assert (deleted.status_code, deleted.content) == (200, b"")
    assert_error(api.get(path), 404, "ItemNotFound")
    assert_error(api.delete(path), 404, "ItemNotFound")


def test_a_scripted_operation_failure(api: Api, fabric: FakeFabric) -> None:
    fabric.fail_next_operation(error_code="InvalidDefinition", message="bad notebook")
    response = api.post(api.ws("/notebooks"), {"displayName": "nb", "definition": ipynb("1")})
    states = poll_operation(api, response)
    failed = states[-1]
    assert failed.json()["status"] == "Failed"
    error = failed.json()["error"]
    assert (error["errorCode"], error["message"]) == ("InvalidDefinition", "bad notebook")
    assert "Retry-After" not in failed.headers
    assert fabric.items() == []
    operation_id = response.headers["x-ms-operation-id"]
    assert_error(api.get(f"/operations/{operation_id}/result"), 400, "OperationNotSucceeded")
    again = api.post(api.ws("/notebooks"), {"displayName": "nb"})  # the name was released
    assert again.status_code == 201
    assert_error(api.get(f"/operations/{uuid.uuid4()}"), 404, "EntityNotFound")


def test_an_operation_nobody_polls_ends_on_its_own(
    api: Api, fabric: FakeFabric, clock: Clock
) -> None:
    assert fabric.lro_seconds == 2.0
    response = api.post(api.ws("/notebooks"), {"displayName": "nb", "definition": ipynb("1")})
    assert response.status_code == 202
    clock.now += 1.5
    assert api.get(api.ws("/notebooks")).json()["value"] == []
    clock.now += 0.5  # lro_seconds after the start: done, polled or not
    (listed,) = api.get(api.ws("/notebooks")).json()["value"]
    assert listed["displayName"] == "nb"
    assert [op.status for op in fabric.operations()] == ["Succeeded"]
    state = api.get(response.headers["Location"])
    assert state.json()["status"] == "Succeeded"
    assert state.json()["lastUpdatedTimeUtc"] == "2023-11-14T22:13:22.250Z"  # its deadline
    assert state.headers["Location"].endswith("/result")
    assert api.get(state.headers["Location"]).json()["id"] == listed["id"]
    assert fabric.operations()[0].polls == 1
    # a failing one releases its name at its deadline too
    fabric.fail_next_operation()
    failing = api.post(api.ws("/notebooks"), {"displayName": "other", "definition": ipynb("1")})
    taken = api.post(api.ws("/notebooks"), {"displayName": "other"})
    assert_error(taken, 400, "ItemDisplayNameAlreadyInUse")
    clock.now += 2
    assert api.get(failing.headers["Location"]).json()["status"] == "Failed"
    assert api.post(api.ws("/notebooks"), {"displayName": "other"}).status_code == 201
    # polls still end it first when they come before the deadline
    fabric.lro_polls = 0
    polled = api.post(api.ws("/notebooks"), {"displayName": "third", "definition": ipynb("1")})
    assert api.get(polled.headers["Location"]).json()["status"] == "Succeeded"
    # lro_seconds=None: only polls end an operation
    fabric.lro_seconds = None
    fabric.lro_polls = 1
    waiting = api.post(api.ws("/notebooks"), {"displayName": "fourth", "definition": ipynb("1")})
    clock.now += 3600
    assert fabric.operations()[-1].status == "NotStarted"
    assert api.get(waiting.headers["Location"]).json()["status"] == "Running"
    assert api.get(waiting.headers["Location"]).json()["status"] == "Succeeded"


def test_a_pending_get_definition_of_a_deleted_item_fails(api: Api, fabric: FakeFabric) -> None:
    fabric.get_definition_lro = True
    fabric.lro_polls = 0
    notebook = fabric.add_notebook("nb", "1")
    response = api.post(api.ws(f"/items/{notebook.id}/getDefinition"))
    update = api.post(api.ws(f"/items/{notebook.id}/updateDefinition"), {"definition": ipynb("2")})
    assert api.delete(api.ws(f"/items/{notebook.id}")).status_code == 200
    for pending in (response, update):
        (state,) = poll_operation(api, pending)
        assert state.json()["status"] == "Failed"
        assert state.json()["error"]["errorCode"] == "ItemNotFound"
        operation_id = pending.headers["x-ms-operation-id"]
        assert_error(api.get(f"/operations/{operation_id}/result"), 400, "OperationNotSucceeded")


def test_timestamps_carry_into_the_next_second(api: Api, fabric: FakeFabric, clock: Clock) -> None:
    clock.now = 86_400.99999996  # rounds up to the next second in both formats
    notebook = fabric.add_notebook("nb", "1")
    run = api.post(api.ws(f"/items/{notebook.id}/jobs/instances"), jobType="RunNotebook")
    assert fabric.jobs()[0].start_time == "1970-01-02T00:00:01.0000000"
    assert JOB_TIME.match(api.get(run.headers["Location"]).json()["startTimeUtc"])
    created = api.post(api.ws("/notebooks"), {"displayName": "x", "definition": ipynb("1")})
    state = api.get(created.headers["Location"]).json()
    assert state["createdTimeUtc"] == "1970-01-02T00:00:01.000Z"


# -- jobs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["query", "path"])
def test_a_notebook_run_through_the_job_scheduler(api: Api, fabric: FakeFabric, form: str) -> None:
    notebook = fabric.add_notebook("nb", ["x = 1", "print(x)"])
    base = api.ws(f"/items/{notebook.id}/jobs")
    body = {"executionData": {"parameters": {"p1": {"value": "x", "type": "string"}}}}
    if form == "query":
        response = api.post(f"{base}/instances", body, jobType="RunNotebook")
    else:
        response = api.post(f"{base}/RunNotebook/instances", body)
    assert response.status_code == 202
    assert response.content == b""
    assert response.headers["Retry-After"] == "1"
    (job,) = fabric.jobs()
    assert response.headers["Location"] == f"{api.url(base)}/instances/{job.id}"
    assert job.route == form
    assert job.execution_data == body["executionData"]
    first = api.get(response.headers["Location"])
    assert first.headers["Retry-After"] == "1"
    bodies = [first.json(), *run_until_done(api, response.headers["Location"])]
    assert [b["status"] for b in bodies] == ["NotStarted", "InProgress", "Completed"]
    for running in bodies[:-1]:
        assert running["endTimeUtc"] is None
        assert JOB_TIME.match(running["startTimeUtc"])
    done = bodies[-1]
    assert set(done) == {
        "id",
        "itemId",
        "jobType",
        "invokeType",
        "status",
        "rootActivityId",
        "startTimeUtc",
        "endTimeUtc",
        "failureReason",
    }
    assert (done["id"], done["itemId"], done["jobType"]) == (job.id, notebook.id, "RunNotebook")
    assert done["invokeType"] == "Manual"
    assert done["failureReason"] is None
    assert JOB_TIME.match(done["endTimeUtc"])
    assert "Retry-After" not in api.get(response.headers["Location"]).headers


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["x = 1", 'raise ValueError("bad input")'], "at cell 2: ValueError: bad input"),
        (["assert_ok()  # FAIL here"], "at cell 1: assert_ok()  # FAIL here"),
        (["# raise in a comment", "raise"], "at cell 2: raise"),
        (['print("raise the bar")', "if bad: raise"], "at cell 2: if bad: raise"),
        (['print("FAIL")'], 'at cell 1: print("FAIL")'),
    ],
)
def test_a_notebook_that_raises_fails(
    api: Api, fabric: FakeFabric, cells: list[str], message: str
) -> None:
    fabric.job_polls = 0
    notebook = fabric.add_notebook("nb", cells)
    response = api.post(api.ws(f"/items/{notebook.id}/jobs/instances"), jobType="RunNotebook")
    (done,) = run_until_done(api, response.headers["Location"])
    assert done["status"] == "Failed"
    reason = done["failureReason"]
    assert set(reason) == {"requestId", "errorCode", "message"}
    assert reason["errorCode"] == "JobInstanceStatusFailed"
    assert reason["message"] == f"Notebook execution failed {message}"


@pytest.mark.parametrize(
    "cells",
    [
        ['print("raise the bar")', "x = 'do not raise'"],
        ["FAILURE_THRESHOLD = 3", "failed = FAILED or FAILING"],
        ["x = 1  # raise it later"],
        ["SELECT 1 -- raise"],
    ],
    ids=["raise-in-strings", "fail-inside-words", "raise-in-trailing-comment", "sql-comment"],
)
def test_a_notebook_that_only_mentions_raise_or_fail_completes(
    api: Api, fabric: FakeFabric, cells: list[str]
) -> None:
    fabric.job_polls = 0
    language = "sql" if cells[0].startswith("SELECT") else "python"
    notebook = fabric.add_notebook("nb", cells, language=language)
    response = api.post(api.ws(f"/items/{notebook.id}/jobs/instances"), jobType="RunNotebook")
    (done,) = run_until_done(api, response.headers["Location"])
    assert (done["status"], done["failureReason"]) == ("Completed", None)


def test_the_exit_value_comes_from_the_beta_get(api: Api, fabric: FakeFabric) -> None:
    notebook = fabric.add_notebook(
        "nb", ["x = 41", 'notebookutils.notebook.exit("42")', 'raise RuntimeError("never")']
    )
    run = api.post(
        api.ws(f"/notebooks/{notebook.id}/jobs/execute/instances"),
        {"executionData": {"compute": "Spark", "computeConfiguration": {"driverCores": 4}}},
        beta="false",
    )
    assert run.status_code == 202
    (job,) = fabric.jobs()
    assert run.headers["Location"] == (
        f"{fabric.api_url}/workspaces/{fabric.workspace_id}/items/{notebook.id}"
        f"/jobs/instances/{job.id}"
    )
    generic = run_until_done(api, run.headers["Location"])[-1]
    assert generic["status"] == "Completed"
    assert generic["jobType"] == "Execute"
    assert "properties" not in generic
    beta = api.get(api.ws(f"/notebooks/{notebook.id}/jobs/execute/instances/{job.id}"), beta="true")
    body = beta.json()
    assert body["properties"]["exitValue"] == "42"
    assert body["properties"]["compute"] == "Spark"
    assert body["properties"]["computeDetails"]["livyId"]
    assert {k: v for k, v in body.items() if k != "properties"} == generic
    no_beta = api.get(api.ws(f"/notebooks/{notebook.id}/jobs/execute/instances/{job.id}"))
    assert_error(no_beta, 400, "InvalidInput")
    assert_error(
        api.post(api.ws(f"/notebooks/{notebook.id}/jobs/execute/instances")), 400, "InvalidInput"
    )
    wrong_compute = api.post(
        api.ws(f"/notebooks/{notebook.id}/jobs/execute/instances"),
        {"executionData": {"compute": "Pandas"}},
        beta="false",
    )
    assert_error(wrong_compute, 400, "InvalidInput")


def test_an_exit_before_completion_reads_null_and_mssparkutils_works(
    api: Api, fabric: FakeFabric
) -> None:
    fabric.job_polls = 1
    notebook = fabric.add_notebook("nb", "mssparkutils.notebook.exit('done')")
    api.post(api.ws(f"/items/{notebook.id}/jobs/RunNotebook/instances"))
    (job,) = fabric.jobs()
    beta_path = api.ws(f"/notebooks/{notebook.id}/jobs/execute/instances/{job.id}")
    running = api.get(beta_path, beta="true").json()
    assert (running["status"], running["properties"]["exitValue"]) == ("InProgress", None)
    finished = api.get(beta_path, beta="true").json()
    assert (finished["status"], finished["properties"]["exitValue"]) == ("Completed", "done")
    assert fabric.job(job.id).outcome.exit_value == "done"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("Completed", None),
        ("Failed", "JobInstanceStatusFailed"),
        ("Cancelled", None),
        ("Deduped", None),
    ],
)
def test_scripted_outcomes(api: Api, fabric: FakeFabric, status: Any, reason: str | None) -> None:
    notebook = fabric.add_notebook("nb", 'raise ValueError("content says fail")')
    other = fabric.add_item("DataPipeline", "pl")
    fabric.script_job(status, item_id=notebook.id, exit_value="v", message="scripted", polls=0)
    api.post(api.ws(f"/items/{other.id}/jobs/instances"), jobType="Pipeline")  # not for this one
    response = api.post(api.ws(f"/items/{notebook.id}/jobs/instances"), jobType="RunNotebook")
    (done,) = run_until_done(api, response.headers["Location"])
    assert done["status"] == status
    if reason is None:
        assert done["failureReason"] is None
    else:
        assert done["failureReason"]["errorCode"] == reason
        assert done["failureReason"]["message"] == "scripted"
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    beta = api.get(
        api.ws(f"/notebooks/{notebook.id}/jobs/execute/instances/{job_id}"), beta="true"
    ).json()
    assert beta["properties"]["exitValue"] == ("v" if status == "Completed" else None)
    with pytest.raises(ValueError, match="status must be"):
        fabric.script_job("InProgress")  # type: ignore[arg-type]


def test_job_types_per_item_type(api: Api, fabric: FakeFabric) -> None:
    fabric.job_polls = 0
    pipeline = fabric.add_item("DataPipeline", "pl")
    spark = fabric.add_item("SparkJobDefinition", "sjd")
    lakehouse = fabric.add_lakehouse("lh", tables=["t"])
    notebook = fabric.add_notebook("nb", "1")
    for item, job_type in ((pipeline, "Pipeline"), (spark, "SparkJob"), (notebook, "runnotebook")):
        ok = api.post(api.ws(f"/items/{item.id}/jobs/instances"), jobType=job_type)
        assert ok.status_code == 202, ok.text
    assert [j.job_type for j in fabric.jobs()] == ["Pipeline", "sparkjob", "RunNotebook"]
    wrong = api.post(api.ws(f"/items/{pipeline.id}/jobs/instances"), jobType="RunNotebook")
    assert_error(wrong, 400, "InvalidJobType")
    assert_error(api.post(api.ws(f"/items/{pipeline.id}/jobs/instances")), 400, "InvalidInput")
    maintenance = api.ws(f"/lakehouses/{lakehouse.id}/jobs/tableMaintenance/instances")
    assert_error(api.post(maintenance), 400, "InvalidInput")
    started = api.post(maintenance, {"executionData": {"tableName": "t"}})
    assert started.status_code == 202
    assert started.content == b""
    assert "/items/" in started.headers["Location"]
    assert run_until_done(api, started.headers["Location"])[-1]["jobType"] == "TableMaintenance"
    bad_parameters = api.post(
        api.ws(f"/items/{pipeline.id}/jobs/Pipeline/instances"),
        {"parameters": [{"name": "p", "value": 1, "type": "Float"}]},
    )
    assert_error(bad_parameters, 400, "InvalidInput")
    parameters = [{"name": "p", "value": 1, "type": "Integer"}]
    api.post(api.ws(f"/items/{pipeline.id}/jobs/Pipeline/instances"), {"parameters": parameters})
    assert fabric.jobs(pipeline.id)[-1].parameters == parameters
    missing = api.post(api.ws(f"/items/{uuid.uuid4()}/jobs/instances"), jobType="Pipeline")
    assert_error(missing, 404, "ItemNotFound")


def test_cancel_a_running_job(api: Api, fabric: FakeFabric) -> None:
    notebook = fabric.add_notebook("nb", "1")
    location = api.post(
        api.ws(f"/items/{notebook.id}/jobs/instances"), jobType="RunNotebook"
    ).headers["Location"]
    cancel = api.post(f"{location}/cancel")
    assert cancel.status_code == 202
    assert cancel.headers["Location"] == location
    assert cancel.headers["Retry-After"] == "1"
    body = api.get(location).json()
    assert body["status"] == "Cancelled"
    assert JOB_TIME.match(body["endTimeUtc"])
    assert_error(api.post(f"{location}/cancel"), 400, "JobAlreadyCompleted")
    unknown = api.get(location.rsplit("/", 1)[0] + f"/{uuid.uuid4()}")
    assert_error(unknown, 404, "EntityNotFound")


def test_a_job_nobody_polls_ends_on_its_own(api: Api, fabric: FakeFabric, clock: Clock) -> None:
    assert fabric.job_seconds == 5.0
    notebook = fabric.add_notebook("nb", 'notebookutils.notebook.exit("7")')
    location = api.post(
        api.ws(f"/items/{notebook.id}/jobs/instances"), jobType="RunNotebook"
    ).headers["Location"]
    clock.now += 4.5
    assert fabric.jobs()[0].status == "NotStarted"
    clock.now += 0.5
    (job,) = fabric.jobs()
    assert (job.status, job.polls, job.end_time) == ("Completed", 0, "2023-11-14T22:13:25.2500000")
    body = api.get(location).json()
    assert (body["status"], body["endTimeUtc"]) == ("Completed", job.end_time)
    assert_error(api.post(f"{location}/cancel"), 400, "JobAlreadyCompleted")
    fabric.job_seconds = None
    api.post(api.ws(f"/items/{notebook.id}/jobs/instances"), jobType="RunNotebook")
    clock.now += 3600
    assert fabric.jobs()[-1].status == "NotStarted"


def test_job_instances_are_listed_in_pages(api: Api, fabric: FakeFabric) -> None:
    notebook = fabric.add_notebook("nb", "1")
    path = api.ws(f"/items/{notebook.id}/jobs/instances")
    for _ in range(3):
        api.post(path, jobType="RunNotebook")
    first = api.get(path).json()
    assert len(first["value"]) == 2
    second = api.get(first["continuationUri"]).json()
    assert len(second["value"]) == 1
    assert "continuationUri" not in second
    listed = [job["id"] for job in first["value"] + second["value"]]
    assert listed == [job.id for job in fabric.jobs(notebook.id)]


# -- lakehouses --------------------------------------------------------------------------------


def test_lakehouse_properties_and_tables(api: Api, fabric: FakeFabric) -> None:
    lakehouse = fabric.add_lakehouse("lh", tables=["a", "b", "c"], sql_endpoint_status="InProgress")
    fabric.add_table(lakehouse.id, "ext", type="External", location="abfss://x@y/z")
    got = api.get(api.ws(f"/lakehouses/{lakehouse.id}")).json()
    ws, lh = fabric.workspace_id, lakehouse.id
    properties = got["properties"]
    assert (
        properties["oneLakeTablesPath"]
        == f"https://onelake.dfs.fabric.microsoft.com/{ws}/{lh}/Tables"
    )
    assert properties["oneLakeFilesPath"].endswith(f"/{ws}/{lh}/Files")
    sql = properties["sqlEndpointProperties"]
    assert sql["provisioningStatus"] == "InProgress"
    assert sql["connectionString"].endswith(".datawarehouse.fabric.microsoft.com")
    uuid.UUID(sql["id"])
    tables_path = api.ws(f"/lakehouses/{lakehouse.id}/tables")
    first = api.get(tables_path, maxResults="3").json()
    assert set(first) == {"data", "continuationToken", "continuationUri"}
    assert [t["name"] for t in first["data"]] == ["a", "b", "c"]
    assert first["data"][0] == {
        "type": "Managed",
        "name": "a",
        "location": f"abfss://{ws}@onelake.dfs.fabric.microsoft.com/{lh}/Tables/a",
        "format": "Delta",
    }
    rest = api.get(tables_path, continuationToken=first["continuationToken"]).json()
    assert rest == {
        "data": [
            {"type": "External", "name": "ext", "location": "abfss://x@y/z", "format": "Delta"}
        ]
    }
    for bad in ("0", "101", "many"):
        assert_error(api.get(tables_path, maxResults=bad), 400, "InvalidInput")
    assert_error(api.get(api.ws(f"/lakehouses/{uuid.uuid4()}/tables")), 404, "ItemNotFound")


# -- throttling and scripted faults ------------------------------------------------------------


def test_throttling_per_identity(
    api: Api, fabric: FakeFabric, entra: FakeEntra, clock: Clock
) -> None:
    entra.clients["second-app"] = "second-secret"
    other = Api(fabric, entra.issue(FABRIC_SCOPE, client_id="second-app"))
    fabric.throttle(3, window=60)
    for _ in range(3):
        assert api.get("/workspaces").status_code == 200
    clock.now += 20
    refused = api.get("/workspaces")
    body = assert_error(refused, 429, "RequestBlocked")
    assert body["isRetriable"] is True
    assert refused.headers["Retry-After"] == "40"
    assert body["message"].startswith("Request is blocked by the upstream service until: ")
    assert other.get("/workspaces").status_code == 200
    clock.now += 40
    assert api.get("/workspaces").status_code == 200
    fabric.throttle(0, retry_after=5)
    assert api.get("/workspaces").headers["Retry-After"] == "5"
    fabric.throttle(None)
    assert api.get("/workspaces").status_code == 200
    times = [r.time for r in fabric.requests]
    assert times == sorted(times)


def test_server_faults_answer_in_fabric_shape(api: Api, fabric: FakeFabric) -> None:
    fabric.throttle_next(retry_after=7)
    throttled = api.get("/workspaces")
    body = assert_error(throttled, 429, "RequestBlocked")
    assert body["isRetriable"] is True
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.raw.headers.getlist("Retry-After") == ["7"]
    fabric.fail_next(status=503)
    assert assert_error(api.get("/workspaces"), 503, "ServiceUnavailable")["isRetriable"] is True
    fabric.fail_next(status=401)
    assert_error(api.get("/workspaces"), 401, "TokenExpired")
    fabric.fail_next(status=400)
    assert_error(api.get("/workspaces"), 400, "InvalidRequest")
    assert api.get("/workspaces").status_code == 200


def test_scripted_faults_carry_a_request_id(api: Api, fabric: FakeFabric) -> None:
    fabric.fail_next(status=500, body={"anything": True})
    raw = api.get("/workspaces")
    assert (raw.status_code, raw.json()) == (500, {"anything": True})
    uuid.UUID(raw.headers["RequestId"])
    fabric.malformed_next()
    truncated = api.get("/workspaces")
    assert truncated.status_code == 200
    uuid.UUID(truncated.headers["RequestId"])
    fabric.fail_next(status=503)
    assert_error(api.get("/workspaces"), 503, "ServiceUnavailable")  # header == body requestId


def test_retry_after_is_whole_seconds(api: Api, fabric: FakeFabric) -> None:
    for bad in (0.5, 1.5, -1, "2", True):
        with pytest.raises(ValueError, match="whole seconds"):
            FakeFabric(retry_after=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="whole seconds"):
            fabric.retry_after = bad  # type: ignore[assignment]
        with pytest.raises(ValueError, match="whole seconds"):
            fabric.job_retry_after = bad  # type: ignore[assignment]
        with pytest.raises(ValueError, match="whole seconds"):
            fabric.throttle(1, retry_after=bad)  # type: ignore[arg-type]
    fabric.retry_after = 3.0  # type: ignore[assignment]  # whole: sent as an integer
    fabric.job_retry_after = 4
    assert (fabric.retry_after, fabric.job_retry_after) == (3, 4)
    response = api.post(api.ws("/notebooks"), {"displayName": "nb", "definition": ipynb("1")})
    assert response.headers["Retry-After"] == "3"
    notebook = fabric.add_notebook("run", "1")
    run = api.post(api.ws(f"/items/{notebook.id}/jobs/instances"), jobType="RunNotebook")
    assert run.headers["Retry-After"] == "4"
    fabric.throttle(0, retry_after=2.0)  # type: ignore[arg-type]
    assert api.get("/workspaces").headers["Retry-After"] == "2"


def test_concurrent_creates_keep_names_unique(api: Api, fabric: FakeFabric) -> None:
    fabric.create_lro = "never"
    statuses: list[int] = []
    lock = threading.Lock()

    def create(name: str) -> None:
        with Api(fabric, api.session.headers["Authorization"].split()[1]).session as session:
            response = session.post(
                f"{fabric.api_url}/workspaces/{fabric.workspace_id}/notebooks",
                json={"displayName": name},
                timeout=10,
            )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=create, args=(f"nb{i % 4}",)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 4 + [400] * 8
    assert sorted(item.display_name for item in fabric.items()) == ["nb0", "nb1", "nb2", "nb3"]


# -- msal ---------------------------------------------------------------------------------------


@contextmanager
def msal_token(entra: FakeEntra) -> Iterator[str]:
    session = requests.Session()
    session.verify = entra.ca_path
    session.trust_env = False
    try:
        app = msal.ConfidentialClientApplication(
            entra.client_id,
            client_credential=entra.client_secret,
            authority=f"{entra.authority}/{entra.tenant}",
            instance_discovery=False,
            validate_authority=False,
            http_client=session,
        )
        result = app.acquire_token_for_client([FABRIC_SCOPE])
        yield result["access_token"]
    finally:
        session.close()


def test_an_msal_token_opens_the_fake(fabric: FakeFabric, entra: FakeEntra) -> None:
    with msal_token(entra) as token:
        client = Api(fabric, token)
        response = client.get("/workspaces")
        assert response.status_code == 200
        assert response.json()["value"][0]["displayName"] == "SANDBOX"
    assert [t.scope for t in entra.issued] == [FABRIC_SCOPE]
    assert fabric.requests[-1].headers["Authorization"] == f"Bearer {token}"
