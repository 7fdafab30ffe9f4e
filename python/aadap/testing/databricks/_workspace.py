"""The Workspace API (``/api/2.0/workspace/...``): an in-memory tree of folders, notebooks and
files, with import and export in the SOURCE, JUPYTER, HTML, AUTO and RAW formats."""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import json
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape as xml_escape

from aadap.testing._server import FakeResponse, RecordedRequest, json_response
from aadap.testing.databricks._errors import api_error, invalid
from aadap.testing.databricks._service import RoutedService, ms, snapshot
from aadap.testing.databricks._validation import flag, integer, request_fields, required_string

if TYPE_CHECKING:
    from aadap.testing.databricks.fake import FakeDatabricks


MAX_WORKSPACE_BYTES = 10 * 1024 * 1024
"""The largest object the Workspace API imports or exports (10 MB)."""


@dataclass(frozen=True)
class WorkspaceObject:
    """One object of the fake workspace tree. ``content``: a notebook's source as exported in
    the SOURCE format (it starts with the ``Databricks notebook source`` header line), a file's
    bytes, nothing for a directory."""

    path: str
    object_type: str
    """``NOTEBOOK``, ``DIRECTORY`` or ``FILE``."""
    object_id: int
    language: str | None
    """PYTHON, SQL, SCALA or R for notebooks."""
    content: bytes
    created_at: float
    modified_at: float
    """Epoch seconds on the fake's wall clock."""

    @property
    def text(self) -> str:
        """``content`` decoded as UTF-8."""
        return self.content.decode("utf-8")


NOTEBOOK_LANGUAGES = {  # language -> (file extension, comment prefix)
    "PYTHON": ("py", "#"),
    "SQL": ("sql", "--"),
    "SCALA": ("scala", "//"),
    "R": ("r", "#"),
}


_EXTENSION_LANGUAGES = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}


_FORMATS = frozenset({"SOURCE", "HTML", "JUPYTER", "DBC", "R_MARKDOWN", "AUTO", "RAW"})
"""The formats of import and export (the fake implements some of them)."""


@dataclass
class _Node:
    path: str
    object_type: str
    object_id: int
    created_at: float
    modified_at: float
    language: str | None = None
    content: bytes = b""


class Workspace(RoutedService):
    """The workspace tree."""

    ROUTE = re.compile(
        r"^/api/2\.0/workspace/(?P<action>list|import|export|get-status|mkdirs|delete)/?$"
    )

    def __init__(self, fake: FakeDatabricks) -> None:
        super().__init__(fake)
        self.nodes: dict[str, _Node] = {}
        self.next_id = 1_234_567_890_123_000
        for path in ("/", "/Users", "/Shared", f"/Users/{fake.user_name}"):
            self._put(path, "DIRECTORY")

    def _put(
        self, path: str, object_type: str, language: str | None = None, content: bytes = b""
    ) -> _Node:
        now = self.fake.now()
        existing = self.nodes.get(path)
        if existing is not None and existing.object_type == object_type:
            existing.language, existing.content, existing.modified_at = language, content, now
            return existing
        self.next_id += 1
        node = _Node(path, object_type, self.next_id, now, now, language, content)
        self.nodes[path] = node
        return node

    def info(self, node: _Node) -> WorkspaceObject:
        return snapshot(WorkspaceObject, node)

    # -- scripting --

    def add(self, path: str, object_type: str, language: str | None, content: bytes) -> None:
        path = check_path(path)
        if object_type == "NOTEBOOK":
            assert language is not None
            content = _with_header(content.decode("utf-8"), language).encode()
        with self.fake._lock:
            failure = self._mkdirs(_parent(path))
            if failure is not None:
                raise ValueError(json.loads(failure.body)["message"])
            existing = self.nodes.get(path)
            if (
                existing is not None
                and existing.object_type == "DIRECTORY"
                and object_type != "DIRECTORY"
            ):
                raise ValueError(f"{path} is a directory")
            if object_type == "DIRECTORY":
                failure = self._mkdirs(path)
                if failure is not None:
                    raise ValueError(json.loads(failure.body)["message"])
            else:
                self._put(path, object_type, language, content)

    # -- tree --

    def children(self, path: str) -> list[_Node]:
        prefix = path.rstrip("/") + "/"
        return sorted(
            (
                node
                for p, node in self.nodes.items()
                if p != "/" and p.startswith(prefix) and "/" not in p[len(prefix) :]
            ),
            key=lambda node: node.path,
        )

    def _mkdirs(self, path: str) -> FakeResponse | None:
        parts = [p for p in path.split("/") if p]
        current = ""
        for part in parts:
            current += "/" + part
            node = self.nodes.get(current)
            if node is not None and node.object_type != "DIRECTORY":
                return api_error(
                    400,
                    "RESOURCE_ALREADY_EXISTS",
                    f"Cannot create directory {path}: {current} is an existing "
                    f"{node.object_type.lower()}.",
                )
            if node is None:
                self._put(current, "DIRECTORY")
        return None

    # -- requests --

    def handle(self, request: RecordedRequest, route: re.Match[str]) -> FakeResponse:
        action = route["action"]
        method = "POST" if action in ("import", "mkdirs", "delete") else "GET"
        multipart = request.headers.get("Content-Type", "").startswith("multipart/form-data")
        if request.method == method == "POST" and action == "import" and multipart:
            fields = _multipart(request)
        else:
            fields = request_fields(request, method)
        if isinstance(fields, FakeResponse):
            return fields
        path = required_string(fields, "path")
        if isinstance(path, FakeResponse):
            return path
        if not path.startswith("/"):
            return invalid(f"Path ({path}) doesn't start with '/'")
        path = path.rstrip("/") or "/"
        with self.fake._lock:
            if action == "mkdirs":
                failure = self._mkdirs(path)
                return failure if failure is not None else json_response(200, {})
            if action == "import":
                return self._import(path, fields)
            node = self.nodes.get(path)
            if node is None:
                return api_error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
            if action == "get-status":
                return json_response(200, self._object_info(node))
            if action == "list":
                return self._list(node, fields.get("notebooks_modified_after"))
            if action == "delete":
                return self._delete(node, flag(fields.get("recursive", False)))
            return self._export(node, fields)

    def _object_info(self, node: _Node) -> dict[str, Any]:
        info: dict[str, Any] = {
            "object_type": node.object_type,
            "path": node.path,
            "object_id": node.object_id,
        }
        if node.object_type != "DIRECTORY":
            info["created_at"] = ms(node.created_at)
            info["modified_at"] = ms(node.modified_at)
            info["resource_id"] = str(node.object_id)
        if node.language is not None:
            info["language"] = node.language
        if node.object_type == "FILE":
            info["size"] = len(node.content)
        return info

    def _list(self, node: _Node, modified_after: Any) -> FakeResponse:
        if node.object_type != "DIRECTORY":
            return json_response(200, {"objects": [self._object_info(node)]})
        threshold = None if modified_after is None else integer(modified_after)
        if modified_after is not None and threshold is None:
            return invalid(f"notebooks_modified_after must be an integer, got {modified_after!r}")
        objects = [
            self._object_info(child)
            for child in self.children(node.path)
            if threshold is None
            or child.object_type != "NOTEBOOK"
            or ms(child.modified_at) > threshold
        ]
        return json_response(200, {"objects": objects} if objects else {})

    def _delete(self, node: _Node, recursive: bool) -> FakeResponse:
        if node.path == "/":
            return invalid("The root folder cannot be deleted.")
        if node.object_type == "DIRECTORY" and self.children(node.path):
            if not recursive:
                return api_error(400, "DIRECTORY_NOT_EMPTY", f"Folder ({node.path}) is not empty")
            prefix = node.path + "/"
            for path in [p for p in self.nodes if p.startswith(prefix)]:
                del self.nodes[path]
        del self.nodes[node.path]
        return json_response(200, {})

    def _import(self, path: str, fields: dict[str, Any]) -> FakeResponse:
        import_format = _format(fields)
        if isinstance(import_format, FakeResponse):
            return import_format
        content = fields.get("content", b"")
        if isinstance(content, str):
            try:
                content = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                return invalid("content must be base64-encoded")
        if not isinstance(content, bytes):
            return invalid("content must be a base64-encoded string")
        too_big = _too_big("content", content)
        if too_big is not None:
            return too_big
        language = fields.get("language")
        if language is not None and language not in NOTEBOOK_LANGUAGES:
            return invalid(
                f"Invalid language {language!r}: use one of {', '.join(NOTEBOOK_LANGUAGES)}"
            )
        if import_format in ("HTML", "DBC", "R_MARKDOWN"):
            return api_error(
                501,
                "NOT_IMPLEMENTED",
                f"FakeDatabricks does not import the {import_format} format; use SOURCE, "
                "JUPYTER, AUTO or RAW",
            )
        object_type, text = "NOTEBOOK", ""
        if import_format == "RAW":
            object_type = "FILE"
        elif import_format == "JUPYTER" or (
            import_format == "AUTO" and path.lower().endswith(".ipynb")
        ):
            notebook = _from_ipynb(content)
            if isinstance(notebook, FakeResponse):
                return notebook
            language, text = notebook
            if import_format == "AUTO":
                path = path[: -len(".ipynb")]
        elif import_format == "AUTO":
            stem, extension = os.path.splitext(path)
            detected = _EXTENSION_LANGUAGES.get(extension.lower())
            decoded = _utf8(content)
            if detected is not None and decoded is not None and _has_header(decoded, detected):
                language, text, path = detected, decoded, stem
            else:
                object_type = "FILE"
        else:  # SOURCE
            if language is None:
                return invalid(
                    "The language must be set to import a single notebook in the SOURCE format "
                    "(importing a directory archive is not supported by FakeDatabricks)"
                )
            decoded = _utf8(content)
            if decoded is None:
                return invalid("SOURCE content must be UTF-8 text")
            text = decoded
        parent = self.nodes.get(_parent(path))
        if parent is None or parent.object_type != "DIRECTORY":
            return api_error(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                f"The parent folder ({_parent(path)}) does not exist.",
            )
        existing = self.nodes.get(path)
        if existing is not None and (
            not flag(fields.get("overwrite", False)) or existing.object_type == "DIRECTORY"
        ):
            return api_error(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")
        if existing is not None and existing.object_type != object_type:
            del self.nodes[path]
        if object_type == "FILE":
            self._put(path, "FILE", None, content)
        else:
            assert language is not None
            self._put(path, "NOTEBOOK", language, _with_header(text, language).encode())
        return json_response(200, {})

    def _export(self, node: _Node, fields: dict[str, Any]) -> FakeResponse:
        export_format = _format(fields)
        if isinstance(export_format, FakeResponse):
            return export_format
        if node.object_type == "DIRECTORY" or export_format in ("DBC", "R_MARKDOWN"):
            what = "a directory" if node.object_type == "DIRECTORY" else export_format
            return api_error(
                501, "NOT_IMPLEMENTED", f"FakeDatabricks does not export {what} ({node.path})"
            )
        if node.object_type == "FILE":
            content, file_type = node.content, os.path.splitext(node.path)[1].lstrip(".")
        else:
            assert node.language is not None
            text = node.content.decode("utf-8")
            if export_format == "JUPYTER":
                content, file_type = _to_ipynb(text, node), "ipynb"
            elif export_format == "HTML":
                page = (
                    f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
                    f"{xml_escape(node.path.rsplit('/', 1)[-1])}</title></head><body><pre>"
                    f"{xml_escape(text)}</pre></body></html>"
                )
                content, file_type = page.encode(), "html"
            else:
                content, file_type = node.content, NOTEBOOK_LANGUAGES[node.language][0]
        too_big = _too_big("export", content)
        if too_big is not None:
            return too_big
        if flag(fields.get("direct_download", False)):
            return FakeResponse(200, content, {"Content-Type": "application/octet-stream"})
        return json_response(
            200, {"content": base64.b64encode(content).decode("ascii"), "file_type": file_type}
        )


def _format(fields: dict[str, Any]) -> str | FakeResponse:
    """The ``format`` of an import or export (SOURCE by default), else 400."""
    chosen = fields.get("format", "SOURCE")
    if chosen not in _FORMATS:
        return invalid(f"Invalid format {chosen!r}: use one of {', '.join(sorted(_FORMATS))}")
    return str(chosen)


def _too_big(what: str, content: bytes) -> FakeResponse | None:
    """400 ``MAX_NOTEBOOK_SIZE_EXCEEDED`` for an import or export over the limit."""
    # Read through the package, where the limit is public: a test may lower
    # aadap.testing.databricks.MAX_WORKSPACE_BYTES.
    from aadap.testing import databricks

    limit = databricks.MAX_WORKSPACE_BYTES
    if len(content) <= limit:
        return None
    return api_error(
        400,
        "MAX_NOTEBOOK_SIZE_EXCEEDED",
        f"The {what} is {len(content)} bytes; the limit is {limit} bytes.",
    )


def check_path(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"workspace paths are absolute, got {path!r}")
    return path.rstrip("/") or "/"


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _utf8(content: bytes) -> str | None:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _header(language: str) -> str:
    return f"{NOTEBOOK_LANGUAGES[language][1]} Databricks notebook source"


def _has_header(text: str, language: str) -> bool:
    return text.lstrip("\ufeff").startswith(_header(language))


def _with_header(text: str, language: str) -> str:
    """Notebook source as the workspace stores and exports it: the header line first."""
    return text if _has_header(text, language) else f"{_header(language)}\n{text}"


def _cells(text: str, language: str) -> list[str]:
    comment = NOTEBOOK_LANGUAGES[language][1]
    body = text.split("\n", 1)[1] if _has_header(text, language) and "\n" in text else ""
    separator = re.compile(rf"\n*^{re.escape(comment)} COMMAND -+\n*", re.MULTILINE)
    return [cell.strip("\n") for cell in separator.split(body)] or [""]


def _from_ipynb(content: bytes) -> tuple[str, str] | FakeResponse:
    """(language, notebook source) of an ipynb document."""
    try:
        document = json.loads(content)
        cells = document["cells"]
        metadata = document.get("metadata", {})
    except (ValueError, KeyError, TypeError):
        return invalid("The content is not a Jupyter notebook (ipynb JSON with cells)")
    name = (
        metadata.get("language_info", {}).get("name")
        or metadata.get("kernelspec", {}).get("language")
        or "python"
    )
    language = str(name).upper()
    if language not in NOTEBOOK_LANGUAGES:
        return invalid(f"Unsupported notebook language {name!r}")
    comment = NOTEBOOK_LANGUAGES[language][1]
    sources = []
    for cell in cells:
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "markdown":
            text = "\n".join(
                f"{comment} MAGIC {line}".rstrip() for line in f"%md\n{text}".split("\n")
            )
        sources.append(text)
    separator = f"\n\n{comment} COMMAND ----------\n\n"
    return language, _with_header(separator.join(sources), language)


def _to_ipynb(text: str, node: _Node) -> bytes:
    assert node.language is not None
    comment = NOTEBOOK_LANGUAGES[node.language][1]
    magic = f"{comment} MAGIC "
    cells: list[dict[str, Any]] = []
    for source in _cells(text, node.language):
        lines = source.split("\n")
        if lines[0].startswith(f"{magic}%md"):
            body = "\n".join(
                line[len(magic) :] if line.startswith(magic) else line for line in lines
            )
            markdown = body.split("\n", 1)[1] if "\n" in body else ""
            cells.append({"cell_type": "markdown", "metadata": {}, "source": _lines(markdown)})
        else:
            cells.append(
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "metadata": {},
                    "outputs": [],
                    "source": _lines(source),
                }
            )
    name = node.path.rsplit("/", 1)[-1]
    document = {
        "cells": cells,
        "metadata": {
            "application/vnd.databricks.v1+notebook": {
                "language": node.language.lower(),
                "notebookName": name,
            },
            "language_info": {"name": node.language.lower()},
        },
        "nbformat": 4,
        "nbformat_minor": 0,
    }
    return json.dumps(document, indent=1).encode()


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _multipart(request: RecordedRequest) -> dict[str, Any] | FakeResponse:
    """The fields of a multipart/form-data import (what databricks-sdk's upload() sends):
    ``content`` as bytes, the others as text."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\nMIME-Version: 1.0\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        head.encode() + request.body
    )
    if not message.is_multipart():
        return api_error(400, "MALFORMED_REQUEST", "The multipart body cannot be read")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        fields[name] = payload if name == "content" else payload.decode("utf-8", "replace")
    return fields
