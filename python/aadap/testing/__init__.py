"""Local stand-ins for the services aadap talks to, for offline tests of your own pipelines.

Public and shipped in the wheel. :class:`PostgresCluster` runs a throwaway real PostgreSQL
server. The fake cloud servers bind to 127.0.0.1, serve plain HTTP or HTTPS (one throwaway
test CA per process, :func:`test_authority`; needs ``pip install 'aadap[testing]'``), record
connections and requests, and script faults (errors, throttling, resets, delays, malformed
bodies): :class:`FakeEntra` (Microsoft Entra ID client-credentials tokens),
:class:`FakeAzureOpenAI` (chat completions, streaming, embeddings) and :class:`FakeDatabricks`
(a workspace: SQL Statement Execution API 2.0, clusters and Python commands, jobs, workspace
notebooks, pipelines, Unity Catalog listings, PAT and OAuth auth) and :class:`FakeFabric`
(the Fabric REST API: workspaces, items and definitions, long-running operations, the job
scheduler with notebook runs, lakehouses and tables, throttling). The official ``msal``,
``openai``, ``databricks-sdk`` and ``microsoft-fabric-api`` clients work against them.
"""

from aadap.testing._server import (
    FakeResponse,
    FakeServer,
    Headers,
    RecordedRequest,
    TestCertificateAuthority,
    test_authority,
)
from aadap.testing.azure_openai import FakeAzureOpenAI, fake_embedding
from aadap.testing.databricks import FakeDatabricks, StatementInfo, StatementParameter
from aadap.testing.entra import FakeEntra, IssuedToken, TokenStatus
from aadap.testing.fabric import (
    FABRIC_SCOPE,
    Definition,
    DefinitionPart,
    FakeFabric,
    Item,
    JobInstance,
    NotebookCode,
    Table,
    Workspace,
)
from aadap.testing.postgres import PostgresCluster, PostgresNotFoundError, create_database, psql

__all__ = [
    "FABRIC_SCOPE",
    "Definition",
    "DefinitionPart",
    "FakeAzureOpenAI",
    "FakeDatabricks",
    "FakeEntra",
    "FakeFabric",
    "FakeResponse",
    "FakeServer",
    "Headers",
    "IssuedToken",
    "Item",
    "JobInstance",
    "NotebookCode",
    "PostgresCluster",
    "PostgresNotFoundError",
    "RecordedRequest",
    "StatementInfo",
    "StatementParameter",
    "Table",
    "TestCertificateAuthority",
    "TokenStatus",
    "Workspace",
    "create_database",
    "fake_embedding",
    "psql",
    "test_authority",
]
