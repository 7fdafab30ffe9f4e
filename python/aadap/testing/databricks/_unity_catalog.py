"""Unity Catalog listings (``/api/2.1/unity-catalog``): catalogs, schemas and tables, their
paging, and ColumnInfo objects made from SQL types."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aadap.testing._server import FakeResponse, RecordedRequest, json_response
from aadap.testing.databricks._errors import api_error, invalid, not_found_endpoint
from aadap.testing.databricks._paging import bad_token, make_token, read_token
from aadap.testing.databricks._service import RoutedService, json_copy, ms
from aadap.testing.databricks._types import SqlType, parse_type, spark_type
from aadap.testing.databricks._validation import flag, integer, required_string

if TYPE_CHECKING:
    from aadap.testing.databricks.fake import FakeDatabricks


METASTORE_ID = "11111111-2222-4333-8444-555555555555"
"""The id of the fake's Unity Catalog metastore."""


TABLE_TYPES = frozenset(
    {"MANAGED", "EXTERNAL", "VIEW", "MATERIALIZED_VIEW", "STREAMING_TABLE", "FOREIGN",
     "MANAGED_SHALLOW_CLONE", "EXTERNAL_SHALLOW_CLONE", "METRIC_VIEW"}
)  # fmt: skip


_UC_TYPE_TEXT = {
    "LONG": "bigint",
    "INT": "int",
    "SHORT": "smallint",
    "BYTE": "tinyint",
    "BOOLEAN": "boolean",
    "FLOAT": "float",
    "DOUBLE": "double",
    "STRING": "string",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BINARY": "binary",
    "NULL": "void",
}


@dataclass
class Securable:
    full_name: str
    comment: str | None
    owner: str
    created_at: float
    properties: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)


class UnityCatalog(RoutedService):
    """The metastore's catalogs, schemas and tables."""

    ROUTE = re.compile(
        r"^/api/2\.1/unity-catalog/(?P<kind>catalogs|schemas|tables)"
        r"(?:/(?P<name>[^/]+)(?P<exists>/exists)?)?/?$"
    )

    def __init__(self, fake: FakeDatabricks) -> None:
        super().__init__(fake)
        self.catalogs: dict[str, Securable] = {}
        self.schemas: dict[str, Securable] = {}
        self.tables: dict[str, Securable] = {}

    # -- scripting --

    def _new(
        self,
        full_name: str,
        comment: str | None,
        owner: str | None,
        properties: Mapping[str, str] | None,
    ) -> Securable:
        return Securable(
            full_name=full_name,
            comment=comment,
            owner=owner or self.fake.user_name,
            created_at=self.fake.now(),
            properties=dict(properties or {}),
        )

    def add_catalog(
        self,
        name: str,
        comment: str | None,
        owner: str | None,
        properties: Mapping[str, str] | None,
    ) -> None:
        name = uc_name(name, 1)
        with self.fake._lock:
            self.catalogs[name] = self._new(name, comment, owner, properties)

    def add_schema(
        self,
        full_name: str,
        comment: str | None,
        owner: str | None,
        properties: Mapping[str, str] | None,
    ) -> None:
        full_name = uc_name(full_name, 2)
        with self.fake._lock:
            catalog = full_name.split(".")[0]
            if catalog not in self.catalogs:
                self.catalogs[catalog] = self._new(catalog, None, owner, None)
            self.schemas[full_name] = self._new(full_name, comment, owner, properties)

    def add_table(self, full_name: str, table: Securable) -> None:
        with self.fake._lock:
            schema = full_name.rsplit(".", 1)[0]
            if schema not in self.schemas:
                self.add_schema(schema, None, table.owner, None)
            self.tables[full_name] = table

    # -- requests --

    def handle(self, request: RecordedRequest, route: re.Match[str]) -> FakeResponse:
        if request.method != "GET":
            return not_found_endpoint(request)
        kind, name, exists = route["kind"], route["name"], route["exists"]
        query = request.query
        with self.fake._lock:
            if exists is not None:
                if kind != "tables" or name is None:
                    return not_found_endpoint(request)
                return json_response(200, {"table_exists": name.lower() in self.tables})
            if name is not None:
                return self._get(kind, name.lower(), query)
            if kind == "catalogs":
                items = [self._catalog_payload(c) for _, c in sorted(self.catalogs.items())]
                return self._page(items, "catalogs", "catalogs", query)
            catalog_name = required_string(query, "catalog_name")
            if isinstance(catalog_name, FakeResponse):
                return catalog_name
            catalog_name = catalog_name.lower()
            if catalog_name not in self.catalogs:
                return _uc_missing(
                    "CATALOG_DOES_NOT_EXIST", f"Catalog '{catalog_name}' does not exist."
                )
            if kind == "schemas":
                items = [
                    self._schema_payload(s)
                    for full, s in sorted(self.schemas.items())
                    if full.split(".")[0] == catalog_name
                ]
                return self._page(items, "schemas", f"schemas:{catalog_name}", query)
            schema_name = required_string(query, "schema_name")
            if isinstance(schema_name, FakeResponse):
                return schema_name
            schema = f"{catalog_name}.{schema_name.lower()}"
            if schema not in self.schemas:
                return _uc_missing("SCHEMA_DOES_NOT_EXIST", f"Schema '{schema}' does not exist.")
            items = [
                self._table_payload(t, query)
                for full, t in sorted(self.tables.items())
                if full.rsplit(".", 1)[0] == schema
            ]
            return self._page(items, "tables", f"tables:{schema}", query)

    def _get(self, kind: str, name: str, query: dict[str, str]) -> FakeResponse:
        if kind == "catalogs":
            catalog = self.catalogs.get(name)
            if catalog is None:
                return _uc_missing("CATALOG_DOES_NOT_EXIST", f"Catalog '{name}' does not exist.")
            return json_response(200, self._catalog_payload(catalog))
        missing = self._missing_parent(name, 2 if kind == "schemas" else 3)
        if missing is not None:
            return missing
        if kind == "schemas":
            return json_response(200, self._schema_payload(self.schemas[name]))
        table = self.tables.get(name)
        if table is None:
            return _uc_missing("TABLE_DOES_NOT_EXIST", f"Table '{name}' does not exist.")
        return json_response(200, self._table_payload(table, query))

    def _missing_parent(self, name: str, parts: int) -> FakeResponse | None:
        pieces = name.split(".")
        if len(pieces) != parts or not all(pieces):
            what = "schema" if parts == 2 else "table"
            return invalid(
                f"Invalid {what} full name {name!r}: expected {parts} dot-separated parts"
            )
        if pieces[0] not in self.catalogs:
            return _uc_missing("CATALOG_DOES_NOT_EXIST", f"Catalog '{pieces[0]}' does not exist.")
        schema = ".".join(pieces[:2])
        if schema not in self.schemas:
            return _uc_missing("SCHEMA_DOES_NOT_EXIST", f"Schema '{schema}' does not exist.")
        return None

    def _page(
        self, items: list[dict[str, Any]], key: str, scope: str, query: dict[str, str]
    ) -> FakeResponse:
        raw = query.get("max_results")
        token = query.get("page_token")
        if raw is None and not token:
            return json_response(200, {key: items})  # unpaginated: everything, no token
        size = self.fake.uc_page_size
        if raw is not None:
            requested = integer(raw)
            if requested is None or requested < 0:
                return invalid(f"max_results must be a non-negative integer, got {raw!r}")
            if requested > 0:
                size = min(requested, self.fake.uc_page_size)
        empty_first = self.fake.uc_empty_pages
        empty_scope = f"{scope}:empty"
        offset = read_token(token, scope)
        served_empty = False
        if offset is None:
            offset = read_token(token, empty_scope)
            served_empty = True
            if offset is None:
                return bad_token(token or "")
        if empty_first and not served_empty and offset < len(items):
            # a page with no results that still points further, as the service may send
            return json_response(200, {key: [], "next_page_token": make_token(empty_scope, offset)})
        page = items[offset : offset + size]
        payload: dict[str, Any] = {key: page}
        if offset + size < len(items):
            payload["next_page_token"] = make_token(scope, offset + size)
        return json_response(200, payload)

    def _catalog_payload(self, catalog: Securable) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "name": catalog.full_name,
            "full_name": catalog.full_name,
            "owner": catalog.owner,
            "catalog_type": "MANAGED_CATALOG",
            "metastore_id": METASTORE_ID,
            "isolation_mode": "OPEN",
            "securable_type": "CATALOG",
            **_audit_fields(catalog),
            "properties": dict(catalog.properties),
        }
        if catalog.comment is not None:
            payload["comment"] = catalog.comment
        return payload

    def _schema_payload(self, schema: Securable) -> dict[str, Any]:
        catalog, name = schema.full_name.split(".")
        payload: dict[str, Any] = {
            "name": name,
            "catalog_name": catalog,
            "full_name": schema.full_name,
            "owner": schema.owner,
            "metastore_id": METASTORE_ID,
            "catalog_type": "MANAGED_CATALOG",
            "securable_type": "SCHEMA",
            **_audit_fields(schema),
            "properties": dict(schema.properties),
        }
        if schema.comment is not None:
            payload["comment"] = schema.comment
        return payload

    def _table_payload(self, table: Securable, query: Mapping[str, str]) -> dict[str, Any]:
        catalog, schema, name = table.full_name.split(".")
        payload: dict[str, Any] = {
            "name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "full_name": table.full_name,
            "owner": table.owner,
            "metastore_id": METASTORE_ID,
            "securable_type": "TABLE",
            **_audit_fields(table),
            **json_copy(table.extra),
            "properties": dict(table.properties),
        }
        if table.comment is not None:
            payload["comment"] = table.comment
        if flag(query.get("omit_columns", "false")):
            payload.pop("columns", None)
        if flag(query.get("omit_properties", "false")):
            payload.pop("properties", None)
        if flag(query.get("omit_username", "false")):
            for key in ("owner", "created_by", "updated_by"):
                payload.pop(key, None)
        return payload


def _audit_fields(securable: Securable) -> dict[str, Any]:
    """Who created a securable and when (the fake never updates one)."""
    return {
        "created_at": ms(securable.created_at),
        "created_by": securable.owner,
        "updated_at": ms(securable.created_at),
        "updated_by": securable.owner,
    }


def uc_name(name: str, parts: int) -> str:
    pieces = name.strip().lower().split(".")
    if len(pieces) != parts or not all(pieces):
        raise ValueError(
            f"expected a name of {parts} dot-separated part{'s' if parts > 1 else ''}, got {name!r}"
        )
    return ".".join(pieces)


def _uc_missing(code: str, message: str) -> FakeResponse:
    return api_error(404, code, message)


def _uc_type_text(sql_type: SqlType) -> str:
    name = sql_type.name
    if name in ("CHAR", "STRING") and "(" in sql_type.text:
        return sql_type.text.lower()
    if name in ("DECIMAL", "INTERVAL"):
        return str(spark_type(sql_type))  # decimal(p,s), interval day to second: as Spark's
    if name == "ARRAY":
        assert sql_type.element is not None
        return f"array<{_uc_type_text(sql_type.element)}>"
    if name == "MAP":
        assert sql_type.key is not None
        assert sql_type.value is not None
        return f"map<{_uc_type_text(sql_type.key)},{_uc_type_text(sql_type.value)}>"
    if name == "STRUCT":
        inner = ",".join(f"{n}:{_uc_type_text(t)}" for n, t in sql_type.fields)
        return f"struct<{inner}>"
    return _UC_TYPE_TEXT[name]


def uc_columns(
    columns: Iterable[tuple[str, str] | Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """UC ColumnInfo objects from (name, SQL type) pairs or {"name", "type", "comment",
    "nullable"} mappings."""
    infos: list[dict[str, Any]] = []
    for position, column in enumerate(columns):
        if isinstance(column, Mapping):
            name, text = column["name"], column["type"]
            comment, nullable = column.get("comment"), bool(column.get("nullable", True))
        else:
            if isinstance(column, str) or len(column) != 2:
                raise TypeError(f"columns are (name, SQL type) pairs or mappings, got {column!r}")
            (name, text), comment, nullable = column, None, True
        sql_type = parse_type(str(text))
        info: dict[str, Any] = {
            "name": str(name),
            "type_text": _uc_type_text(sql_type),
            "type_name": sql_type.name,
            "type_json": json.dumps(
                {
                    "name": str(name),
                    "type": spark_type(sql_type),
                    "nullable": nullable,
                    "metadata": {},
                },
                separators=(",", ":"),
            ),
            "position": position,
            "nullable": nullable,
        }
        if sql_type.name == "DECIMAL":
            info["type_precision"] = sql_type.precision
            info["type_scale"] = sql_type.scale
        if sql_type.interval is not None:
            info["type_interval_type"] = sql_type.interval
        if comment is not None:
            info["comment"] = comment
        infos.append(info)
    names = [info["name"].lower() for info in infos]
    if len(set(names)) != len(names):
        raise ValueError(f"column names must be distinct, got {names}")
    return infos
