"""A local fake of the Microsoft Fabric REST API (``/v1``), faithful to the wire facts of
cloud-apis.md B10, for offline tests of Fabric clients.

    with FakeEntra() as entra, FakeFabric(entra=entra) as fabric:
        token = entra.issue(FABRIC_SCOPE)
        notebook = fabric.add_notebook("etl", ['print("hi")', 'notebookutils.notebook.exit("42")'])
        # POST {fabric.api_url}/workspaces/{fabric.workspace_id}/items/{notebook.id}/jobs/instances
        #      ?jobType=RunNotebook  with "Authorization: Bearer <token>"
        #   -> 202, Location: .../jobs/instances/{id}, Retry-After: 1
        # GET the Location until status is Completed (NotStarted, InProgress first), then
        # GET .../notebooks/{notebook.id}/jobs/execute/instances/{id}?beta=true
        #   -> properties.exitValue == "42"

Routes (all under ``/v1``; every one needs ``Authorization: Bearer``):

- ``GET /workspaces``, ``GET /workspaces/{ws}``: a ``SANDBOX`` workspace exists from the start
  (:attr:`FakeFabric.workspace_id`); :meth:`FakeFabric.add_workspace` adds more.
- Items: ``GET|POST /workspaces/{ws}/items`` (``?type=`` filter), ``GET|PATCH|DELETE
  .../items/{id}``, ``POST .../items/{id}/getDefinition[?format=ipynb]`` and
  ``.../updateDefinition[?updateMetadata=true]``; the same under the type-specific collections
  ``notebooks``, ``lakehouses`` (there, and only there, with ``properties``), ``dataPipelines``
  and ``sparkJobDefinitions``. Create answers 201 Item or 202 LRO; a display name taken by an
  item of the same type is 400 ``ItemDisplayNameAlreadyInUse``, one held by
  :meth:`FakeFabric.reserve_name` 400 ``ItemDisplayNameNotAvailableYet``; a definition with
  bad base64, a payloadType other than ``InlineBase64``, a notebook part whose extension does
  not match the format (``ipynb``: ``.ipynb``; ``fabricGitSource`` or none:
  ``.py/.scala/.r/.sql``) or an ipynb that is not JSON is 400 ``CorruptedPayload``.
- ``GET /operations/{id}`` (NotStarted → Running → Succeeded/Failed over polls, or on its own
  ``lro_seconds`` after its start; times in milliseconds with ``Z``), ``GET
  /operations/{id}/result`` (the Item of a create, the definition of a getDefinition).
- Jobs: ``POST .../items/{id}/jobs/instances?jobType=X`` and ``.../jobs/{jobType}/instances``,
  ``POST .../notebooks/{id}/jobs/execute/instances?beta=false`` and
  ``POST .../lakehouses/{id}/jobs/tableMaintenance/instances`` (202, empty body, Location of the
  generic instance URL, Retry-After); ``GET .../items/{id}/jobs/instances[/{jid}]``; ``GET
  .../notebooks/{id}/jobs/execute/instances/{jid}?beta=true`` (with ``properties.exitValue``);
  ``POST .../jobs/instances/{jid}/cancel`` (202; 400 ``JobAlreadyCompleted`` once ended).
  Instances end over polls, or on their own ``job_seconds`` after their start; times have
  seven fractional digits and no ``Z``.
- ``GET .../lakehouses/{id}/tables[?maxResults=]`` (``{"data": [...]}``).

Lists are paged (:attr:`FakeFabric.page_size`) with ``continuationToken`` and
``continuationUri``; tokens contain ``+ / = # :`` so that a client that does not encode them,
or encodes them twice, gets 400 ``InvalidContinuationToken``. Every error is an ErrorResponse
``{requestId, errorCode, message[, isRetriable][, moreDetails][, relatedResource]}`` with the
code repeated in ``x-ms-public-api-error-code``; every response carries a ``RequestId`` header.
Unknown workspaces are 404 ``WorkspaceNotFound``, unknown items 404 ``ItemNotFound``, unknown
job instances, operations and routes 404 ``EntityNotFound``.

Choices where the published facts stop (cloud-apis.md marks them unverified): request
validation errors are 400 ``InvalidInput`` with an ``InvalidParameter`` detail; a bad
continuation token is 400 ``InvalidContinuationToken``; ``/result`` of an operation that has not
succeeded is 400 ``OperationNotSucceeded``, of one without a result 400 ``OperationHasNoResult``;
the 429 body is the ``RequestBlocked`` one users report (github.com/microsoft/fabric-migration
issue 14) plus ``isRetriable: true``.
"""

from aadap.testing.fabric._items import Definition, DefinitionPart, Item, NotebookCell, NotebookCode
from aadap.testing.fabric._jobs import JobInstance, JobOutcome
from aadap.testing.fabric._lakehouse import Table
from aadap.testing.fabric._operations import Operation
from aadap.testing.fabric.fake import (
    DEFAULT_WORKSPACE_ID,
    FABRIC_AUDIENCE,
    FABRIC_SCOPE,
    FakeFabric,
    Workspace,
)

__all__ = [
    "DEFAULT_WORKSPACE_ID",
    "FABRIC_AUDIENCE",
    "FABRIC_SCOPE",
    "Definition",
    "DefinitionPart",
    "FakeFabric",
    "Item",
    "JobInstance",
    "JobOutcome",
    "NotebookCell",
    "NotebookCode",
    "Operation",
    "Table",
    "Workspace",
]
