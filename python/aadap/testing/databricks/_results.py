"""Statement results: Python values rendered as the service renders them (every JSON_ARRAY value
a string: Java's doubles, exact decimals, UTC timestamps, compact JSON for complex types), and
the EXTERNAL_LINKS chunk contents (JSON_ARRAY, CSV, Arrow IPC streams)."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aadap.testing.databricks._types import INTEGER_RANGES, SqlType


@dataclass(frozen=True)
class Column:
    name: str
    type: SqlType


@dataclass
class Result:
    columns: tuple[Column, ...]
    rendered: list[list[str | None]]
    values: list[list[Any]]
    truncated: bool
    chunks: list[tuple[int, int]]  # (row_offset, row_count)
    contents: list[bytes] = field(default_factory=list)  # EXTERNAL_LINKS payload per chunk


def _java_double(value: float) -> str:
    """``value`` as Java's ``Double.toString`` writes it (Spark's cast of a double to string)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text else f"{text}.0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    scientific = exponent + len(digit_tuple) - 1
    return f"{'-' if sign else ''}{digits[0]}.{digits[1:] or '0'}E{scientific}"


def timestamp_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    fraction = (
        f"{value.microsecond // 1000:03d}"
        if value.microsecond % 1000 == 0
        else f"{value.microsecond:06d}"
    )
    return f"{value.strftime('%Y-%m-%dT%H:%M:%S')}.{fraction}Z"


def _interval_text(sql_type: SqlType, value: timedelta) -> str:
    if sql_type.interval != "DAY TO SECOND":
        raise TypeError(
            f"a timedelta renders only as INTERVAL DAY TO SECOND, not {sql_type.text}; "
            "give the value as a str"
        )
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = f".{value.microseconds:06d}".rstrip("0").rstrip(".")
    body = f"{sign}{value.days} {hours:02d}:{minutes:02d}:{seconds:02d}{fraction}"
    return f"INTERVAL '{body}' DAY TO SECOND"


def _decimal_text(sql_type: SqlType, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise TypeError(f"{sql_type.text} takes a Decimal, int or float, got {value!r}")
    scale = sql_type.scale or 0
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{sql_type.text} cannot hold {value!r}")
    quantized = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    if len(quantized.as_tuple().digits) > (sql_type.precision or 10) and quantized != 0:
        raise ValueError(f"{value!r} does not fit {sql_type.text}")
    return format(quantized, "f")


def _scalar_text(sql_type: SqlType, value: Any) -> str:
    """The JSON_ARRAY string of a non-null, non-str scalar value."""
    name = sql_type.name
    if name == "BOOLEAN":
        if not isinstance(value, bool):
            raise TypeError(f"BOOLEAN takes a bool, got {value!r}")
        return "true" if value else "false"
    if name in INTEGER_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{sql_type.text} takes an int, got {value!r}")
        low, high = INTEGER_RANGES[name]
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range for {sql_type.text}")
        return str(value)
    if name in ("FLOAT", "DOUBLE"):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise TypeError(f"{sql_type.text} takes a float, got {value!r}")
        return _java_double(float(value))
    if name == "DECIMAL":
        return _decimal_text(sql_type, value)
    if name == "DATE":
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"DATE takes a datetime.date, got {value!r}")
        return value.isoformat()
    if name == "TIMESTAMP":
        if not isinstance(value, datetime):
            raise TypeError(f"TIMESTAMP takes a datetime.datetime, got {value!r}")
        return timestamp_text(value)
    if name == "BINARY":
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"BINARY takes bytes, got {value!r}")
        return base64.b64encode(bytes(value)).decode("ascii")
    if name == "INTERVAL":
        if not isinstance(value, timedelta):
            raise TypeError(f"{sql_type.text} takes a timedelta or a str, got {value!r}")
        return _interval_text(sql_type, value)
    if name == "NULL":
        raise TypeError(f"VOID holds only None, got {value!r}")
    raise TypeError(f"{sql_type.text} takes a str, got {value!r}")


_QUOTED_IN_JSON = frozenset({"STRING", "CHAR", "DATE", "TIMESTAMP", "BINARY", "INTERVAL"})


def _json_text(sql_type: SqlType, value: Any) -> str:
    """A (nested) value as the compact JSON Spark writes for complex types."""
    if value is None:
        return "null"
    name = sql_type.name
    if name == "ARRAY":
        assert sql_type.element is not None
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise TypeError(f"{sql_type.text} takes a sequence, got {value!r}")
        return "[" + ",".join(_json_text(sql_type.element, item) for item in value) + "]"
    if name == "MAP":
        assert sql_type.key is not None
        assert sql_type.value is not None
        if not isinstance(value, Mapping):
            raise TypeError(f"{sql_type.text} takes a mapping, got {value!r}")
        pairs = []
        for key, item in value.items():
            if key is None:
                raise ValueError(f"{sql_type.text} keys cannot be null")
            key_text = key if isinstance(key, str) else render(sql_type.key, key)
            pairs.append(f"{json.dumps(key_text, ensure_ascii=False)}:")
            pairs[-1] += _json_text(sql_type.value, item)
        return "{" + ",".join(pairs) + "}"
    if name == "STRUCT":
        names = [field_name for field_name, _ in sql_type.fields]
        if isinstance(value, Mapping):
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(f"{sorted(unknown)} are not fields of {sql_type.text}")
            items = [value.get(field_name) for field_name in names]
        elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
            if len(value) != len(names):
                raise ValueError(f"{sql_type.text} has {len(names)} fields, got {value!r}")
            items = list(value)
        else:
            raise TypeError(f"{sql_type.text} takes a mapping or a sequence, got {value!r}")
        members = [
            f"{json.dumps(field_name, ensure_ascii=False)}:{_json_text(field_type, item)}"
            for (field_name, field_type), item in zip(sql_type.fields, items, strict=True)
        ]
        return "{" + ",".join(members) + "}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if name in _QUOTED_IN_JSON else value
    text = _scalar_text(sql_type, value)
    if name in _QUOTED_IN_JSON or text in ("NaN", "Infinity", "-Infinity"):
        return json.dumps(text, ensure_ascii=False)
    return text


def render(sql_type: SqlType, value: Any) -> str | None:
    """One value as it appears in a JSON_ARRAY ``data_array``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if sql_type.name in ("ARRAY", "MAP", "STRUCT"):
        return _json_text(sql_type, value)
    return _scalar_text(sql_type, value)


def render_rows(
    columns: tuple[Column, ...], rows: Iterable[Any]
) -> tuple[list[list[str | None]], list[list[Any]]]:
    rendered: list[list[str | None]] = []
    values: list[list[Any]] = []
    names = [column.name for column in columns]
    for number, row in enumerate(rows):
        if isinstance(row, Mapping):
            unknown = set(row) - set(names)
            if unknown:
                raise ValueError(f"row {number}: {sorted(unknown)} are not columns ({names})")
            items = [row.get(name) for name in names]
        elif isinstance(row, Sequence) and not isinstance(row, str | bytes):
            if len(row) != len(columns):
                raise ValueError(
                    f"row {number} has {len(row)} values for {len(columns)} columns: {row!r}"
                )
            items = list(row)
        else:
            raise TypeError(f"row {number} must be a sequence or a mapping, got {row!r}")
        try:
            rendered.append([render(c.type, v) for c, v in zip(columns, items, strict=True)])
        except (TypeError, ValueError) as error:
            raise type(error)(f"row {number}: {error}") from None
        values.append(items)
    return rendered, values


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def chunk_content(result: Result, index: int, result_format: str) -> bytes:
    offset, count = result.chunks[index]
    rows = result.rendered[offset : offset + count]
    if result_format == "JSON_ARRAY":
        return compact(rows).encode()
    if result_format == "CSV":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        if index == 0:
            writer.writerow([column.name for column in result.columns])
        writer.writerows([["null" if v is None else v for v in row] for row in rows])
        return buffer.getvalue().encode()
    return _arrow_stream(result, offset, count)


def _arrow_stream(result: Result, offset: int, count: int) -> bytes:
    import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]

    def arrow_type(sql_type: SqlType) -> Any:
        scalar = {
            "BOOLEAN": pa.bool_(),
            "BYTE": pa.int8(),
            "SHORT": pa.int16(),
            "INT": pa.int32(),
            "LONG": pa.int64(),
            "FLOAT": pa.float32(),
            "DOUBLE": pa.float64(),
            "DATE": pa.date32(),
            "TIMESTAMP": pa.timestamp("us", tz="Etc/UTC"),
            "BINARY": pa.binary(),
            "NULL": pa.null(),
        }
        if sql_type.name == "DECIMAL":
            return pa.decimal128(sql_type.precision or 10, sql_type.scale or 0)
        return scalar.get(sql_type.name, pa.string())

    arrays = []
    for position, column in enumerate(result.columns):
        target = arrow_type(column.type)
        texts = [row[position] for row in result.rendered[offset : offset + count]]
        originals = [row[position] for row in result.values[offset : offset + count]]
        given_as_text = any(isinstance(value, str) for value in originals)
        if column.type.name == "NULL":
            arrays.append(pa.nulls(len(texts)))
        elif target == pa.string():
            arrays.append(pa.array(texts, type=target))
        elif column.type.name == "BINARY":
            arrays.append(
                pa.array([None if t is None else base64.b64decode(t) for t in texts], type=target)
            )
        elif column.type.name in ("DATE", "TIMESTAMP") and not given_as_text:
            arrays.append(pa.array(originals, type=target))
        else:  # numbers, booleans, decimals: Arrow parses the JSON_ARRAY text
            arrays.append(pa.array(texts, type=pa.string()).cast(target))
    names = [column.name for column in result.columns]
    table = pa.Table.from_arrays(arrays, names=names)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data: bytes = sink.getvalue().to_pybytes()
    return data
