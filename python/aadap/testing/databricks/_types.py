"""SQL types as the fake reads them (``DECIMAL(10,2)``, ``ARRAY<STRING>``, ``STRUCT<a: INT>``,
``INTERVAL DAY TO SECOND``...), and their Spark JSON form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SqlType:
    name: str
    text: str
    precision: int | None = None
    scale: int | None = None
    interval: str | None = None
    element: SqlType | None = None
    key: SqlType | None = None
    value: SqlType | None = None
    fields: tuple[tuple[str, SqlType], ...] = ()


_SIMPLE_TYPES: dict[str, tuple[str, str]] = {
    "BIGINT": ("LONG", "BIGINT"),
    "LONG": ("LONG", "BIGINT"),
    "INT": ("INT", "INT"),
    "INTEGER": ("INT", "INT"),
    "SMALLINT": ("SHORT", "SMALLINT"),
    "SHORT": ("SHORT", "SMALLINT"),
    "TINYINT": ("BYTE", "TINYINT"),
    "BYTE": ("BYTE", "TINYINT"),
    "BOOLEAN": ("BOOLEAN", "BOOLEAN"),
    "FLOAT": ("FLOAT", "FLOAT"),
    "REAL": ("FLOAT", "FLOAT"),
    "DOUBLE": ("DOUBLE", "DOUBLE"),
    "STRING": ("STRING", "STRING"),
    "DATE": ("DATE", "DATE"),
    "TIMESTAMP": ("TIMESTAMP", "TIMESTAMP"),
    "BINARY": ("BINARY", "BINARY"),
    "VOID": ("NULL", "VOID"),
    "NULL": ("NULL", "VOID"),
}


_INTERVAL_UNITS = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND")


INTEGER_RANGES = {
    "BYTE": (-(2**7), 2**7 - 1),
    "SHORT": (-(2**15), 2**15 - 1),
    "INT": (-(2**31), 2**31 - 1),
    "LONG": (-(2**63), 2**63 - 1),
}


_SUPPORTED_TYPES = (
    "BIGINT, INT, SMALLINT, TINYINT, BOOLEAN, FLOAT, DOUBLE, DECIMAL(p,s), STRING, CHAR(n), "
    "VARCHAR(n), DATE, TIMESTAMP, BINARY, VOID, INTERVAL <qualifier>, ARRAY<T>, MAP<K,V>, "
    "STRUCT<name: T, ...>"
)


class _TypeParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def parse(self) -> SqlType:
        parsed = self.type()
        self.space()
        if self.at != len(self.text):
            self.fail("unexpected text")
        return parsed

    def fail(self, what: str) -> None:
        raise ValueError(
            f"cannot read the SQL type {self.text!r}: {what} at position {self.at}; "
            f"supported: {_SUPPORTED_TYPES}"
        )

    def space(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def peek(self) -> str:
        self.space()
        return self.text[self.at] if self.at < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            self.fail(f"expected {char!r}")
        self.at += 1

    def word(self) -> str:
        self.space()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.text, self.at)
        if match is None:
            self.fail("expected a name")
            raise AssertionError  # unreachable: fail raises
        self.at = match.end()
        return match.group()

    def number(self) -> int:
        self.space()
        match = re.compile(r"\d+").match(self.text, self.at)
        if match is None:
            self.fail("expected a number")
            raise AssertionError
        self.at = match.end()
        return int(match.group())

    def field_name(self) -> str:
        if self.peek() == "`":
            end = self.text.find("`", self.at + 1)
            if end < 0:
                self.fail("unterminated `name`")
            name = self.text[self.at + 1 : end]
            self.at = end + 1
            return name
        return self.word()

    def type(self) -> SqlType:
        word = self.word().upper()
        if word == "ARRAY":
            self.expect("<")
            element = self.type()
            self.expect(">")
            return SqlType("ARRAY", f"ARRAY<{element.text}>", element=element)
        if word == "MAP":
            self.expect("<")
            key = self.type()
            self.expect(",")
            value = self.type()
            self.expect(">")
            return SqlType("MAP", f"MAP<{key.text}, {value.text}>", key=key, value=value)
        if word == "STRUCT":
            self.expect("<")
            fields: list[tuple[str, SqlType]] = []
            while self.peek() != ">":
                name = self.field_name()
                if self.peek() == ":":
                    self.at += 1
                fields.append((name, self.type()))
                if self.peek() != ",":
                    break
                self.at += 1
            self.expect(">")
            inner = ", ".join(f"{_quote_name(name)}: {t.text}" for name, t in fields)
            return SqlType("STRUCT", f"STRUCT<{inner}>", fields=tuple(fields))
        if word in ("DECIMAL", "DEC", "NUMERIC"):
            precision, scale = 10, 0
            if self.peek() == "(":
                self.at += 1
                precision = self.number()
                if self.peek() == ",":
                    self.at += 1
                    scale = self.number()
                self.expect(")")
            if not 1 <= precision <= 38 or not 0 <= scale <= precision:
                self.fail(f"DECIMAL({precision},{scale}) needs 1 <= p <= 38 and 0 <= s <= p")
            return SqlType(
                "DECIMAL", f"DECIMAL({precision},{scale})", precision=precision, scale=scale
            )
        if word in ("CHAR", "VARCHAR"):
            self.expect("(")
            length = self.number()
            self.expect(")")
            return SqlType("CHAR" if word == "CHAR" else "STRING", f"{word}({length})")
        if word == "INTERVAL":
            units = [self.word().upper()]
            if self.peek().upper() == "T":
                if self.word().upper() != "TO":
                    self.fail("expected TO")
                units.append(self.word().upper())
            if any(unit not in _INTERVAL_UNITS for unit in units):
                self.fail(f"unknown interval unit in {' TO '.join(units)}")
            qualifier = " TO ".join(units)
            return SqlType("INTERVAL", f"INTERVAL {qualifier}", interval=qualifier)
        if word in _SIMPLE_TYPES:
            name, text = _SIMPLE_TYPES[word]
            return SqlType(name, text)
        self.fail(f"unknown type {word}")
        raise AssertionError


def _quote_name(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_]\w*", name) else f"`{name}`"


def parse_type(text: str) -> SqlType:
    return _TypeParser(text).parse()


_SPARK_TYPE_NAMES = {
    "LONG": "long",
    "INT": "integer",
    "SHORT": "short",
    "BYTE": "byte",
    "BOOLEAN": "boolean",
    "FLOAT": "float",
    "DOUBLE": "double",
    "STRING": "string",
    "CHAR": "string",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BINARY": "binary",
    "NULL": "void",
}


def spark_type(sql_type: SqlType) -> Any:
    """The JSON form of a Spark type (what ``DataType.json()`` gives, parsed)."""
    name = sql_type.name
    if name == "DECIMAL":
        return f"decimal({sql_type.precision},{sql_type.scale})"
    if name == "INTERVAL":
        return f"interval {(sql_type.interval or '').lower()}"
    if name == "ARRAY":
        assert sql_type.element is not None
        return {"type": "array", "elementType": spark_type(sql_type.element), "containsNull": True}
    if name == "MAP":
        assert sql_type.key is not None
        assert sql_type.value is not None
        return {
            "type": "map",
            "keyType": spark_type(sql_type.key),
            "valueType": spark_type(sql_type.value),
            "valueContainsNull": True,
        }
    if name == "STRUCT":
        return {
            "type": "struct",
            "fields": [
                {"name": field_name, "type": spark_type(t), "nullable": True, "metadata": {}}
                for field_name, t in sql_type.fields
            ],
        }
    return _SPARK_TYPE_NAMES[name]
