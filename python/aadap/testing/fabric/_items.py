"""Items and item definitions of :class:`~aadap.testing.FakeFabric`: the public records, the
checks a definition must pass (cloud-apis.md B10.3), and the two notebook formats (``ipynb``
and Fabric's ``fabricGitSource`` source files), read and written."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aadap.testing.fabric._errors import FabricError

ITEM_TYPES = frozenset(
    {
        "ApacheAirflowJob",
        "CopyJob",
        "Dashboard",
        "DataPipeline",
        "Dataflow",
        "Datamart",
        "Environment",
        "Eventhouse",
        "Eventstream",
        "GraphQLApi",
        "KQLDashboard",
        "KQLDatabase",
        "KQLQueryset",
        "Lakehouse",
        "MLExperiment",
        "MLModel",
        "MirroredDatabase",
        "MirroredWarehouse",
        "MountedDataFactory",
        "Notebook",
        "PaginatedReport",
        "Reflex",
        "Report",
        "SQLDatabase",
        "SQLEndpoint",
        "SemanticModel",
        "SparkJobDefinition",
        "VariableLibrary",
        "Warehouse",
    }
)
"""Item types the fake accepts on create (the spec's ``ItemType`` enum and a few newer ones);
others get 400 ``InvalidItemType``."""

COLLECTIONS: Mapping[str, str] = {
    "notebooks": "Notebook",
    "lakehouses": "Lakehouse",
    "dataPipelines": "DataPipeline",
    "sparkJobDefinitions": "SparkJobDefinition",
}
"""Type-specific collections (``/v1/workspaces/{ws}/<collection>``) and their item type."""

SOURCE_EXTENSIONS: Mapping[str, str] = {
    ".py": "python",
    ".scala": "scala",
    ".r": "r",
    ".sql": "sql",
}
"""Extensions of a ``fabricGitSource`` notebook's content part, and their languages."""

_COMMENT = {"python": "#", "r": "#", "scala": "//", "sql": "--"}
_MARKER = re.compile(r"^(?:#|//|--)\s*(CELL|MARKDOWN|METADATA|PARAMETERS) \*{20}\s*$")
_META = re.compile(r"^(?:#|//|--)\s*META ?(.*)$")
_PLATFORM_SCHEMA = (
    "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/platformProperties/"
    "2.0.0/schema.json"
)


@dataclass(frozen=True)
class Item:
    """An item of a workspace, as the fake holds it."""

    id: str
    workspace_id: str
    type: str
    display_name: str
    description: str = ""
    folder_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The service's ``Item`` object (``folderId`` only when the item is in a folder)."""
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "displayName": self.display_name,
            "description": self.description,
            "workspaceId": self.workspace_id,
        }
        if self.folder_id is not None:
            body["folderId"] = self.folder_id
        return body


@dataclass(frozen=True)
class DefinitionPart:
    """One part of an item definition, its payload decoded from base64."""

    path: str
    payload: bytes

    def text(self) -> str:
        """The payload as UTF-8 text."""
        return self.payload.decode("utf-8")

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)


@dataclass(frozen=True)
class Definition:
    """An item definition: its ``format`` (None when the request omitted it) and parts."""

    format: str | None
    parts: tuple[DefinitionPart, ...]

    def part(self, path: str) -> DefinitionPart:
        """The part with this path (KeyError when there is none)."""
        for part in self.parts:
            if part.path == path:
                return part
        raise KeyError(f"no definition part {path!r}; parts: {[p.path for p in self.parts]}")

    def to_json(self) -> dict[str, Any]:
        """The wire form: ``{"format"?, "parts":[{"path","payload","payloadType"}]}``."""
        body: dict[str, Any] = {}
        if self.format is not None:
            body["format"] = self.format
        body["parts"] = [
            {
                "path": part.path,
                "payload": base64.b64encode(part.payload).decode("ascii"),
                "payloadType": "InlineBase64",
            }
            for part in self.parts
        ]
        return body


@dataclass(frozen=True)
class NotebookCell:
    """A notebook cell: ``cell_type`` is ``code`` or ``markdown``."""

    cell_type: str
    source: str


@dataclass(frozen=True)
class NotebookCode:
    """What a notebook definition holds, whatever its format: the language, its cells, and the
    default lakehouse binding (``metadata.dependencies.lakehouse`` or
    ``metadata.trident.lakehouse``), if any."""

    language: str
    cells: tuple[NotebookCell, ...]
    lakehouse: dict[str, Any] | None = None

    @property
    def code_cells(self) -> tuple[str, ...]:
        """The sources of the code cells, in order."""
        return tuple(cell.source for cell in self.cells if cell.cell_type == "code")


def _corrupted(message: str) -> FabricError:
    return FabricError(400, "CorruptedPayload", f"The provided payload is corrupted: {message}")


def parse_definition(item_type: str, raw: Any) -> Definition:
    """Checks a definition from a request body and decodes it; 400 ``CorruptedPayload`` when a
    payload is not base64, its payloadType is not ``InlineBase64``, or (notebooks) the content
    part's extension does not match the format, or an ipynb does not parse as JSON."""
    if not isinstance(raw, dict) or not isinstance(raw.get("parts"), list) or not raw["parts"]:
        raise _corrupted("the definition must be an object with a non-empty 'parts' array")
    fmt = raw.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise _corrupted("'format' must be a string")
    parts: list[DefinitionPart] = []
    for index, part in enumerate(raw["parts"]):
        if not isinstance(part, dict):
            raise _corrupted(f"parts[{index}] is not an object")
        path, payload = part.get("path"), part.get("payload")
        if not isinstance(path, str) or not path:
            raise _corrupted(f"parts[{index}].path is missing")
        if part.get("payloadType") != "InlineBase64":
            raise _corrupted(
                f"parts[{index}] ({path}) has payloadType {part.get('payloadType')!r}; "
                "only 'InlineBase64' is supported"
            )
        if not isinstance(payload, str):
            raise _corrupted(f"parts[{index}] ({path}) has no payload")
        try:
            decoded = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise _corrupted(f"parts[{index}] ({path}) is not valid base64") from None
        if any(p.path == path for p in parts):
            raise _corrupted(f"the part {path} appears twice")
        parts.append(DefinitionPart(path, decoded))
    for part in parts:
        if part.path == ".platform":
            try:
                json.loads(part.payload)
            except ValueError:
                raise _corrupted("the .platform part is not JSON") from None
    definition = Definition(fmt, tuple(parts))
    if item_type == "Notebook":
        notebook_code(definition)  # validates the format and the content part
    return definition


def _content_part(definition: Definition) -> DefinitionPart:
    content = [part for part in definition.parts if part.path != ".platform"]
    if len(content) != 1:
        raise _corrupted(
            f"a notebook definition needs exactly one content part besides .platform, got "
            f"{[p.path for p in content]}"
        )
    return content[0]


def notebook_code(definition: Definition) -> NotebookCode:
    """Reads a notebook definition (``ipynb`` or ``fabricGitSource``); CorruptedPayload as
    FabricError when it does not match its format."""
    fmt = definition.format
    part = _content_part(definition)
    lower = part.path.lower()
    if fmt is not None and fmt.lower() == "ipynb":
        if not lower.endswith(".ipynb"):
            raise _corrupted(f"format ipynb needs a part ending in .ipynb, got {part.path}")
        return _read_ipynb(part)
    if fmt is not None and fmt.lower() != "fabricgitsource":
        raise _corrupted(
            f"unknown notebook definition format {fmt!r}; use ipynb or fabricGitSource"
        )
    extension = next((ext for ext in SOURCE_EXTENSIONS if lower.endswith(ext)), None)
    if extension is None:
        raise _corrupted(
            "format fabricGitSource needs a part ending in .py, .scala, .r or .sql, "
            f"got {part.path}"
        )
    try:
        text = part.text()
    except UnicodeDecodeError:
        raise _corrupted(f"{part.path} is not UTF-8 text") from None
    return _read_source(text, SOURCE_EXTENSIONS[extension])


def _read_ipynb(part: DefinitionPart) -> NotebookCode:
    try:
        notebook = json.loads(part.payload)
    except ValueError:
        raise _corrupted(f"{part.path} is not valid JSON") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise _corrupted(f"{part.path} is not a notebook: it has no 'cells' array")
    metadata = notebook.get("metadata")
    language = _dig(metadata, "language_info", "name") or _dig(metadata, "kernelspec", "language")
    cells: list[NotebookCell] = []
    for index, cell in enumerate(notebook["cells"]):
        if not isinstance(cell, dict):
            raise _corrupted(f"{part.path}: cells[{index}] is not an object")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(line) for line in source)
        if not isinstance(source, str):
            raise _corrupted(f"{part.path}: cells[{index}].source is not text")
        kind = "code" if cell.get("cell_type") == "code" else "markdown"
        cells.append(NotebookCell(kind, source))
    lakehouse = _dig(metadata, "dependencies", "lakehouse") or _dig(
        metadata, "trident", "lakehouse"
    )
    return NotebookCode(
        str(language).lower() if isinstance(language, str) else "python",
        tuple(cells),
        lakehouse if isinstance(lakehouse, dict) else None,
    )


def _read_source(text: str, language: str) -> NotebookCode:
    blocks: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    header_meta: list[str] = []
    for line in text.splitlines():
        marker = _MARKER.match(line.strip())
        if marker:
            current = (marker[1], [])
            blocks.append(current)
            continue
        if current is None:
            continue  # "# Fabric notebook source" and blank lines before the first block
        current[1].append(line)
    if not blocks:
        return NotebookCode(language, (NotebookCell("code", text.strip("\n")),))
    cells: list[NotebookCell] = []
    prefix = _COMMENT[language]
    for kind, lines in blocks:
        if kind == "METADATA":
            if not cells:
                header_meta.extend(m[1] for m in map(_META.match, lines) if m)
            continue
        body = "\n".join(lines).strip("\n")
        if kind == "MARKDOWN":
            body = "\n".join(
                line.strip()[len(prefix) :].removeprefix(" ") for line in body.splitlines()
            )
            cells.append(NotebookCell("markdown", body))
        else:
            cells.append(NotebookCell("code", body))
    lakehouse = None
    if header_meta:
        try:
            meta = json.loads("\n".join(header_meta))
        except ValueError:
            raise _corrupted("the notebook's METADATA block is not JSON") from None
        found = _dig(meta, "dependencies", "lakehouse") if isinstance(meta, dict) else None
        lakehouse = found if isinstance(found, dict) else None
    return NotebookCode(language, tuple(cells), lakehouse)


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def ipynb_payload(code: NotebookCode) -> bytes:
    """An ``.ipynb`` document (nbformat 4) holding these cells, as Fabric exports one: the
    default lakehouse binding goes in ``metadata.trident.lakehouse`` (``metadata.dependencies``
    is the ``fabricGitSource`` form; reading accepts both, cloud-apis.md B10.8)."""
    metadata: dict[str, Any] = {
        "language_info": {"name": code.language},
        "kernel_info": {"name": "synapse_pyspark"},
    }
    if code.lakehouse is not None:
        metadata["trident"] = {"lakehouse": code.lakehouse}
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": metadata,
        "cells": [
            {"cell_type": "code", "source": cell.source, "metadata": {}, "outputs": []}
            if cell.cell_type == "code"
            else {"cell_type": "markdown", "source": cell.source, "metadata": {}}
            for cell in code.cells
        ],
    }
    return json.dumps(notebook, indent=1).encode()


def source_payload(code: NotebookCode) -> bytes:
    """A ``fabricGitSource`` notebook file holding these cells (comment syntax of the
    language)."""
    prefix = _COMMENT.get(code.language, "#")
    meta: dict[str, Any] = {"kernel_info": {"name": "synapse_pyspark"}}
    if code.lakehouse is not None:
        meta["dependencies"] = {"lakehouse": code.lakehouse}
    lines = [f"{prefix} Fabric notebook source", "", f"{prefix} METADATA {'*' * 20}", ""]
    lines += [f"{prefix} META {line}" for line in json.dumps(meta, indent=2).splitlines()]
    for cell in code.cells:
        if cell.cell_type == "code":
            lines += ["", f"{prefix} CELL {'*' * 20}", "", cell.source]
        else:
            lines += ["", f"{prefix} MARKDOWN {'*' * 20}", ""]
            lines += [f"{prefix} {line}".rstrip() for line in cell.source.splitlines()]
    return ("\n".join(lines) + "\n").encode()


def platform_payload(item: Item, logical_id: str) -> bytes:
    """The ``.platform`` part Fabric generates for an item."""
    platform = {
        "$schema": _PLATFORM_SCHEMA,
        "metadata": {
            "type": item.type,
            "displayName": item.display_name,
            "description": item.description,
        },
        "config": {"version": "2.0", "logicalId": logical_id},
    }
    return json.dumps(platform, indent=2).encode()


def notebook_definition(
    cells: Sequence[NotebookCell], language: str, lakehouse: dict[str, Any] | None = None
) -> Definition:
    """An ``ipynb`` definition of a notebook with these cells."""
    code = NotebookCode(language, tuple(cells), lakehouse)
    return Definition("ipynb", (DefinitionPart("notebook-content.ipynb", ipynb_payload(code)),))


def render_definition(
    item: Item, stored: Definition | None, requested_format: str | None, logical_id: str
) -> Definition:
    """The definition ``getDefinition`` returns: a notebook converted to the requested format
    (``ipynb``, else ``fabricGitSource``, Fabric's default), other items as stored; always with a
    ``.platform`` part."""
    platform = DefinitionPart(".platform", platform_payload(item, logical_id))
    if stored is not None:
        platform = next((p for p in stored.parts if p.path == ".platform"), platform)
    if item.type != "Notebook" or stored is None:
        parts = tuple(p for p in (stored.parts if stored else ()) if p.path != ".platform")
        return Definition(stored.format if stored else None, (*parts, platform))
    code = notebook_code(stored)
    if requested_format is not None and requested_format.lower() == "ipynb":
        content = DefinitionPart("notebook-content.ipynb", ipynb_payload(code))
        return Definition("ipynb", (content, platform))
    extension = next(
        (ext for ext, lang in SOURCE_EXTENSIONS.items() if lang == code.language), ".py"
    )
    content = DefinitionPart(f"notebook-content{extension}", source_payload(code))
    return Definition("fabricGitSource", (content, platform))
