"""Local stand-ins for the services aadap talks to, for offline tests of your own pipelines.

Public and shipped in the wheel. :class:`PostgresCluster` runs a throwaway real PostgreSQL
server; the fake cloud servers (Azure OpenAI, Databricks, Fabric, Entra ID) join this package
with their clients.
"""

from aadap.testing.postgres import PostgresCluster, PostgresNotFoundError, create_database, psql

__all__ = ["PostgresCluster", "PostgresNotFoundError", "create_database", "psql"]
