"""Local stand-ins for the services aadap talks to, for offline tests of your own pipelines.

Public and shipped in the wheel. :class:`PostgresCluster` runs a throwaway real PostgreSQL
server. The fake cloud servers bind to 127.0.0.1, serve plain HTTP or HTTPS (one throwaway
test CA per process, :func:`test_authority`; needs ``pip install 'aadap[testing]'``), record
connections and requests, and script faults (errors, throttling, resets, delays, malformed
bodies): :class:`FakeEntra` (Microsoft Entra ID client-credentials tokens),
:class:`FakeAzureOpenAI` (chat completions, streaming, embeddings) and :class:`FakeDatabricks`
(a workspace: SQL Statement Execution API 2.0, clusters and Python commands, jobs, workspace
notebooks, pipelines, Unity Catalog listings, PAT and OAuth auth). The official ``msal``,
``openai`` and ``databricks-sdk`` clients work against them. A Fabric fake joins this package
with its client.
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
from aadap.testing.postgres import PostgresCluster, PostgresNotFoundError, create_database, psql

__all__ = [
    "FakeAzureOpenAI",
    "FakeDatabricks",
    "FakeEntra",
    "FakeResponse",
    "FakeServer",
    "Headers",
    "IssuedToken",
    "PostgresCluster",
    "PostgresNotFoundError",
    "RecordedRequest",
    "StatementInfo",
    "StatementParameter",
    "TestCertificateAuthority",
    "TokenStatus",
    "create_database",
    "fake_embedding",
    "psql",
    "test_authority",
]
