"""Named statement parameters and query tags as a client sends them: reading and checking them,
finding the markers (``:name``) in the statement text, casting values to their declared types."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from aadap.testing._server import FakeResponse
from aadap.testing.databricks._errors import invalid
from aadap.testing.databricks._types import INTEGER_RANGES, SqlType, parse_type


@dataclass(frozen=True)
class StatementParameter:
    """One named parameter as the client sent it: ``value`` is the wire string (None for SQL
    NULL), ``type`` the declared SQL type (``STRING`` when omitted)."""

    name: str
    value: str | None
    type: str = "STRING"


_MARKER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


_NOT_CODE = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|--[^\n]*|/\*.*?\*/", re.DOTALL
)


class CastError(ValueError):
    pass


def cast_parameter(parameter: StatementParameter, sql_type: SqlType) -> Any:
    """A parameter's typed Python value (what a callable result receives)."""
    value = parameter.value
    if value is None:
        return None
    text = value.strip()
    try:
        if sql_type.name in INTEGER_RANGES:
            number = int(text)
            low, high = INTEGER_RANGES[sql_type.name]
            if not low <= number <= high:
                raise CastError(value)
            return number
        if sql_type.name in ("FLOAT", "DOUBLE"):
            return float(text)
        if sql_type.name == "DECIMAL":
            return Decimal(text)
        if sql_type.name == "BOOLEAN":
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise CastError(value)
            return lowered == "true"
        if sql_type.name == "DATE":
            return date.fromisoformat(text)
        if sql_type.name == "TIMESTAMP":
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
            return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed
        if sql_type.name == "NULL":
            raise CastError(value)
    except (ValueError, InvalidOperation) as error:
        raise CastError(value) from error
    return value


def markers(statement: str) -> list[str]:
    """Named parameter markers outside string literals, quoted names and comments, in order."""
    code = _NOT_CODE.sub(" ", statement)
    return list(dict.fromkeys(_MARKER.findall(code)))


def read_parameters(raw: Any) -> tuple[StatementParameter, ...] | FakeResponse:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return invalid("parameters must be a list of {name, value, type} objects")
    parameters: list[StatementParameter] = []
    for item in raw:
        wrong = _check_item(item, "name", "every parameter needs a name", "parameter")
        if wrong is not None:
            return wrong
        value = item.get("value")
        declared = item.get("type") or "STRING"
        if not isinstance(declared, str):
            return invalid(f"parameter {item['name']}: type must be a string")
        try:
            sql_type = parse_type(declared)
        except ValueError:
            return invalid(f"parameter {item['name']}: unknown type {declared!r}")
        if any(p.name == item["name"] for p in parameters):
            return invalid(f"parameter {item['name']} is given more than once")
        del sql_type  # checked; kept as the client spelled it
        parameters.append(StatementParameter(item["name"], value, declared))
    return tuple(parameters)


def read_tags(raw: Any) -> tuple[tuple[str, str | None], ...] | FakeResponse:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return invalid("query_tags must be a list of {key, value} objects")
    tags: list[tuple[str, str | None]] = []
    for item in raw:
        wrong = _check_item(item, "key", "every query tag needs a non-empty key", "query tag")
        if wrong is not None:
            return wrong
        value = item.get("value")
        tags.append((item["key"], value.strip() or None if value is not None else None))
    return tuple(tags[:20])


def _check_item(item: Any, key: str, missing: str, label: str) -> FakeResponse | None:
    """400 unless ``item`` is an object with a non-empty string ``key`` and a ``value`` that is
    a string or null (or absent)."""
    if not isinstance(item, dict) or not isinstance(item.get(key), str) or not item[key]:
        return invalid(f"{missing}: {json.dumps(item)}")
    value = item.get("value")
    if value is not None and not isinstance(value, str):
        return invalid(f"{label} {item[key]}: value must be a string or null")
    return None
