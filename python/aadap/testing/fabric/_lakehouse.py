"""Lakehouses of :class:`~aadap.testing.FakeFabric` (cloud-apis.md B10.7): their properties
(OneLake paths, SQL analytics endpoint) and tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aadap.testing.fabric._items import Item

TABLE_TYPES = ("Managed", "External")
"""The ``type`` values of a lakehouse table."""
SQL_ENDPOINT_STATUSES = ("InProgress", "Success", "Failed")
"""The ``provisioningStatus`` values of a lakehouse's SQL analytics endpoint."""
ONELAKE = "https://onelake.dfs.fabric.microsoft.com"


@dataclass(frozen=True)
class Table:
    """A lakehouse table as ``GET .../lakehouses/{id}/tables`` lists it (no columns: the API
    has none)."""

    name: str
    type: str
    format: str
    location: str

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "location": self.location,
            "format": self.format,
        }


@dataclass
class LakehouseState:
    """What the fake keeps per lakehouse besides its item (guarded by the fake's lock)."""

    sql_endpoint_id: str
    connection_string: str
    provisioning_status: str
    tables: list[Table] = field(default_factory=list)

    def properties(self, item: Item) -> dict[str, Any]:
        """The lakehouse's ``properties`` object."""
        return {
            "oneLakeTablesPath": f"{ONELAKE}/{item.workspace_id}/{item.id}/Tables",
            "oneLakeFilesPath": f"{ONELAKE}/{item.workspace_id}/{item.id}/Files",
            "sqlEndpointProperties": {
                "id": self.sql_endpoint_id,
                "connectionString": self.connection_string,
                "provisioningStatus": self.provisioning_status,
            },
        }


def table_location(workspace_id: str, lakehouse_id: str, name: str) -> str:
    """Where OneLake keeps a managed table (the ``location`` the service reports)."""
    return f"abfss://{workspace_id}@onelake.dfs.fabric.microsoft.com/{lakehouse_id}/Tables/{name}"
