"""The SQL Statement Execution API 2.0 of the fake: execute (with the request checks), what a
statement does (scripted rules, built-ins, parameters), its progression on the warehouse clock,
polls, cancels and result chunks."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aadap.testing._server import FakeResponse, RecordedRequest, json_response
from aadap.testing.databricks._errors import api_error, invalid, not_found_endpoint
from aadap.testing.databricks._links import EXTENSIONS, ResultStorage
from aadap.testing.databricks._parameters import (
    CastError,
    StatementParameter,
    cast_parameter,
    markers,
    read_parameters,
    read_tags,
)
from aadap.testing.databricks._results import Column, Result, chunk_content, compact, render_rows
from aadap.testing.databricks._service import Service, snapshot, take_rule
from aadap.testing.databricks._types import SqlType, parse_type
from aadap.testing.databricks._validation import check_at_least, check_times, json_object

if TYPE_CHECKING:
    from aadap.testing.databricks.fake import FakeDatabricks


DEFAULT_WAREHOUSE_ID = "abc123def4567890"
"""The id of the one SQL warehouse a :class:`FakeDatabricks` has by default."""


INLINE_BYTE_LIMIT = 25 * 1024 * 1024
"""The service's cap on an INLINE result (26214400 bytes)."""


MAX_STATEMENT_BYTES = 16 * 1024 * 1024
"""The longest statement text accepted."""


_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"})


_WAIT_TIMEOUT = re.compile(r"^(0|[5-9]|[1-4][0-9]|50)s$")


STATEMENTS_PATH = "/api/2.0/sql/statements"


_STATEMENT_ROUTE = re.compile(
    r"^/api/2\.0/sql/statements/(?P<id>[^/]+)"
    r"(?:/(?P<cancel>cancel)|/result/chunks/(?P<chunk>[^/]+))?/?$"
)


SELECT_LITERAL = re.compile(r"^\s*SELECT\s+(-?\d{1,10})\s*;?\s*$", re.IGNORECASE)


_PYTHON = re.compile(r"^\s*(import\s|print\()")


_FAIL_MAGIC = re.compile(r"^\s*FAIL:\s*(?P<message>.*)$", re.DOTALL)


@dataclass(frozen=True)
class StatementInfo:
    """What the fake knows about one submitted statement (a snapshot; ask
    :meth:`FakeDatabricks.statement` again for fresh counters)."""

    statement_id: str
    statement: str
    parameters: tuple[StatementParameter, ...]
    warehouse_id: str
    catalog: str | None
    schema: str | None
    disposition: str
    format: str
    wait_timeout: str
    on_wait_timeout: str
    row_limit: int | None
    byte_limit: int | None
    query_tags: tuple[tuple[str, str | None], ...]
    state: str
    """PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED or CLOSED as the next poll would see it
    (taking this snapshot does not count as a poll)."""
    polls: int
    """``GET /statements/{id}`` requests answered."""
    cancels: int
    """``POST /statements/{id}/cancel`` requests received (a client cancelling on timeout)."""
    canceled_by: Literal["client", "wait_timeout"] | None
    """Who moved the statement to CANCELED, if anyone."""
    chunk_requests: int
    """``GET /statements/{id}/result/chunks/{n}`` requests answered (errors included)."""
    downloads: int
    """EXTERNAL_LINKS downloads served (refused ones not counted)."""
    submitted_at: float
    """Epoch seconds on the fake's wall clock."""

    @property
    def parameter_values(self) -> dict[str, str | None]:
        """Parameter name → wire value."""
        return {p.name: p.value for p in self.parameters}


@dataclass(frozen=True)
class Progression:
    pending_polls: int = 0
    running_polls: int = 0
    pending_seconds: float = 0.0
    running_seconds: float = 0.0

    def __post_init__(self) -> None:
        check_at_least(
            0,
            pending_polls=self.pending_polls,
            running_polls=self.running_polls,
            pending_seconds=self.pending_seconds,
            running_seconds=self.running_seconds,
        )


@dataclass(frozen=True)
class Failure:
    error_code: str
    message: str
    sql_state: str | None


RowsSource = Iterable[Sequence[Any] | Mapping[str, Any]]


@dataclass
class Rule:
    pattern: re.Pattern[str]
    progression: Progression
    times: int | None
    columns: tuple[Column, ...] = ()
    rows: RowsSource | Callable[[dict[str, Any]], RowsSource] = ()
    rows_per_chunk: int | None = None
    failure: Failure | None = None
    # Static rows, rendered once when scripted (rendered, values, compact JSON size of each
    # row), and the EXTERNAL_LINKS payloads made from them per (format, chunk size): a large
    # scripted result then costs its statements nothing but serving the bytes.
    prepared: tuple[list[list[str | None]], list[list[Any]], list[int]] | None = None
    contents: dict[tuple[str, int], list[bytes]] = field(default_factory=dict)


@dataclass
class Statement:
    statement_id: str
    text: str
    parameters: tuple[StatementParameter, ...]
    warehouse_id: str
    catalog: str | None
    schema: str | None
    disposition: str
    format: str
    wait_timeout: str
    on_wait_timeout: str
    row_limit: int | None
    byte_limit: int | None
    query_tags: tuple[tuple[str, str | None], ...]
    progression: Progression
    result: Result | None
    failure: Failure | None
    submitted_at: float
    phase_start: float
    state: str = "PENDING"
    phase_polls: int = 0
    polls_met_at: float | None = None
    finished_at: float | None = None  # wall clock
    forgotten: bool = False
    polls: int = 0
    cancels: int = 0
    canceled_by: Literal["client", "wait_timeout"] | None = None
    chunk_requests: int = 0
    downloads: int = 0


class Statements(Service):
    """The SQL Statement Execution API 2.0: the scripted rules, the statements submitted and
    their progression on the warehouse clock."""

    def __init__(self, fake: FakeDatabricks) -> None:
        super().__init__(fake)
        self.rules: list[Rule] = []
        self.statements: dict[str, Statement] = {}
        self.changed = threading.Condition(fake._lock)
        """Notified whenever a statement may have changed (a wait_timeout wakes up)."""
        self.storage = ResultStorage(self)

    def route(self, request: RecordedRequest) -> FakeResponse | None:
        path = request.path
        if path.rstrip("/") == STATEMENTS_PATH:
            if request.method != "POST":
                return not_found_endpoint(request)
            return self._execute(request)
        route = _STATEMENT_ROUTE.match(path)
        if route is None:
            return None
        statement_id = route["id"]
        if route["cancel"]:
            if request.method != "POST":
                return not_found_endpoint(request)
            return self._cancel_request(statement_id)
        if route["chunk"] is not None:
            if request.method != "GET":
                return not_found_endpoint(request)
            return self._chunk_request(statement_id, route["chunk"])
        if request.method != "GET":
            return not_found_endpoint(request)
        return self._poll(statement_id)

    def add_rule(self, rule: Rule) -> None:
        with self.fake._lock:
            self.rules.append(rule)

    def info(self, statement: Statement) -> StatementInfo:
        self.observe(statement)
        return snapshot(StatementInfo, statement, statement=statement.text)

    def _take_rule(self, text: str) -> Rule | None:
        with self.fake._lock:
            return take_rule(self.rules, lambda rule: rule.pattern.search(text) is not None)

    def warehouse_now(self) -> float:
        return time.monotonic() / self.fake.time_scale + self.fake._offset

    def observe(self, statement: Statement, *, poll: bool = False) -> None:
        """Brings a statement up to date with the clocks (under the lock); a poll counts as
        one answered in the state it then has."""
        now = self.warehouse_now()
        progression = statement.progression
        while statement.state in ("PENDING", "RUNNING"):
            pending = statement.state == "PENDING"
            quota = progression.pending_polls if pending else progression.running_polls
            seconds = progression.pending_seconds if pending else progression.running_seconds
            if statement.phase_polls < quota:
                break
            met = statement.phase_start if quota == 0 else (statement.polls_met_at or now)
            end = max(statement.phase_start + seconds, met)
            if now < end:
                break
            statement.phase_start, statement.phase_polls, statement.polls_met_at = end, 0, None
            if pending:
                statement.state = "RUNNING"
            else:
                statement.state = "FAILED" if statement.failure is not None else "SUCCEEDED"
                statement.finished_at = time.time() + self.fake._offset
        if poll and statement.state in ("PENDING", "RUNNING"):
            statement.phase_polls += 1
            quota = (
                progression.pending_polls
                if statement.state == "PENDING"
                else progression.running_polls
            )
            if statement.phase_polls == quota:
                statement.polls_met_at = now
        if (
            statement.state == "SUCCEEDED"
            and statement.finished_at is not None
            and time.time() + self.fake._offset - statement.finished_at >= self.fake.result_ttl
        ):
            statement.state = "CLOSED"

    def _next_transition(self, statement: Statement) -> float | None:
        """Warehouse time of the statement's next state change by time alone, if any."""
        progression = statement.progression
        pending = statement.state == "PENDING"
        quota = progression.pending_polls if pending else progression.running_polls
        seconds = progression.pending_seconds if pending else progression.running_seconds
        if statement.phase_polls < quota:
            return None
        met = statement.phase_start if quota == 0 else (statement.polls_met_at or 0.0)
        return max(statement.phase_start + seconds, met)

    def gone(self, statement: Statement) -> bool:
        return statement.forgotten or (
            statement.finished_at is not None
            and time.time() + self.fake._offset - statement.finished_at >= self.fake.statement_ttl
        )

    def _cancel(self, statement: Statement, by: Literal["client", "wait_timeout"]) -> None:
        if statement.state in ("PENDING", "RUNNING"):
            statement.state = "CANCELED"
            statement.canceled_by = by
            statement.finished_at = time.time() + self.fake._offset
            self.changed.notify_all()

    def _execute(self, request: RecordedRequest) -> FakeResponse:
        body = json_object(request, empty_ok=False)
        if isinstance(body, FakeResponse):
            return body
        checked = self._check_execute(body)
        if isinstance(checked, FakeResponse):
            return checked
        statement = checked
        with self.fake._lock:
            self.statements[statement.statement_id] = statement
            if statement.wait_timeout == "0s":
                return json_response(200, self._statement_payload(statement))
            deadline = statement.phase_start + int(statement.wait_timeout[:-1])
            while True:
                self.observe(statement)
                now = self.warehouse_now()
                if statement.state in _TERMINAL or statement.forgotten:
                    break
                if now >= deadline:
                    if statement.on_wait_timeout == "CANCEL":
                        self._cancel(statement, "wait_timeout")
                    break
                if self.fake._stopping.is_set():
                    break
                wake = deadline
                transition = self._next_transition(statement)
                if transition is not None:
                    wake = min(wake, transition)
                self.changed.wait(timeout=min(0.25, max(0.0, (wake - now) * self.fake.time_scale)))
            return json_response(200, self._statement_payload(statement))

    def _check_execute(self, body: dict[str, Any]) -> Statement | FakeResponse:
        text = body.get("statement")
        warehouse_id = body.get("warehouse_id")
        for name, value in (("warehouse_id", warehouse_id), ("statement", text)):
            if value is None or value == "":
                return invalid(f"{name} is required")
            if not isinstance(value, str):
                return invalid(f"{name} must be a string")
        assert isinstance(text, str)
        assert isinstance(warehouse_id, str)
        if len(text.encode()) > MAX_STATEMENT_BYTES:
            return invalid(
                f"statement is {len(text.encode())} bytes; the maximum is {MAX_STATEMENT_BYTES}"
            )
        wait_timeout = body.get("wait_timeout", "10s")
        if not isinstance(wait_timeout, str) or not _WAIT_TIMEOUT.match(wait_timeout):
            return invalid(
                f"wait_timeout must be 0s or between 5s and 50s (as '<N>s'), got "
                f"{json.dumps(wait_timeout)}"
            )
        on_wait_timeout = body.get("on_wait_timeout", "CONTINUE")
        if on_wait_timeout not in ("CONTINUE", "CANCEL"):
            return invalid(
                f"on_wait_timeout must be CONTINUE or CANCEL, got {json.dumps(on_wait_timeout)}"
            )
        disposition = body.get("disposition", "INLINE")
        if disposition not in ("INLINE", "EXTERNAL_LINKS"):
            return invalid(
                f"disposition must be INLINE or EXTERNAL_LINKS, got {json.dumps(disposition)}"
            )
        result_format = body.get("format", "JSON_ARRAY")
        if result_format not in EXTENSIONS:
            return invalid(
                f"format must be JSON_ARRAY, ARROW_STREAM or CSV, got {json.dumps(result_format)}"
            )
        if disposition == "INLINE" and result_format != "JSON_ARRAY":
            return invalid(
                f"{result_format} format is only supported with EXTERNAL_LINKS disposition; "
                "INLINE supports JSON_ARRAY only"
            )
        if result_format == "ARROW_STREAM" and importlib.util.find_spec("pyarrow") is None:
            return api_error(
                501,
                "NOT_IMPLEMENTED",
                "FakeDatabricks needs the 'pyarrow' package for ARROW_STREAM results: "
                "pip install pyarrow",
            )
        limits: dict[str, int | None] = {}
        for name in ("row_limit", "byte_limit"):
            value = body.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                return invalid(f"{name} must be a positive integer, got {json.dumps(value)}")
            limits[name] = value
        for name in ("catalog", "schema"):
            if body.get(name) is not None and not isinstance(body.get(name), str):
                return invalid(f"{name} must be a string")
        parameters = read_parameters(body.get("parameters"))
        if isinstance(parameters, FakeResponse):
            return parameters
        tags = read_tags(body.get("query_tags"))
        if isinstance(tags, FakeResponse):
            return tags
        if warehouse_id not in self.fake.warehouse_ids:
            return api_error(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                f"SQL warehouse {warehouse_id} does not exist.",
            )
        progression, result, failure = self._decide(
            text,
            parameters,
            disposition=disposition,
            result_format=result_format,
            row_limit=limits["row_limit"],
            byte_limit=limits["byte_limit"],
        )
        return Statement(
            statement_id=_statement_id(),
            text=text,
            parameters=parameters,
            warehouse_id=warehouse_id,
            catalog=body.get("catalog"),
            schema=body.get("schema"),
            disposition=disposition,
            format=result_format,
            wait_timeout=wait_timeout,
            on_wait_timeout=on_wait_timeout,
            row_limit=limits["row_limit"],
            byte_limit=limits["byte_limit"],
            query_tags=tags,
            progression=progression,
            result=result,
            failure=failure,
            submitted_at=self.fake.now(),
            phase_start=self.warehouse_now(),
        )

    def _decide(
        self,
        text: str,
        parameters: tuple[StatementParameter, ...],
        *,
        disposition: str,
        result_format: str,
        row_limit: int | None,
        byte_limit: int | None,
    ) -> tuple[Progression, Result | None, Failure | None]:
        """What a statement will do: its progression, and its result or its failure."""
        rule = self._take_rule(text)
        progression = rule.progression if rule is not None else Progression()
        bound = {p.name for p in parameters}
        for marker in markers(text):
            if marker not in bound:
                return progression, None, unbound(marker)
        values: dict[str, Any] = {}
        for parameter in parameters:
            sql_type = parse_type(parameter.type)
            try:
                values[parameter.name] = cast_parameter(parameter, sql_type)
            except CastError:
                return progression, None, cast_failure(parameter, sql_type)
        columns: tuple[Column, ...] = ()
        rows: list[Any] = []
        chunk_size = self.fake.rows_per_chunk
        if rule is not None:
            if rule.failure is not None:
                return progression, None, rule.failure
            columns = rule.columns
            if rule.prepared is None:
                rows = list(rule.rows(dict(values)) if callable(rule.rows) else rule.rows)
            chunk_size = rule.rows_per_chunk or chunk_size
        elif _PYTHON.match(text):
            word = "import" if text.lstrip().startswith("import") else "print"
            return (
                progression,
                None,
                Failure(
                    "BAD_REQUEST",
                    f"[PARSE_SYNTAX_ERROR] Syntax error at or near '{word}'. SQLSTATE: 42601",
                    "42601",
                ),
            )
        elif (magic := _FAIL_MAGIC.match(text)) is not None:
            return progression, None, Failure("BAD_REQUEST", magic["message"].strip(), "42000")
        elif (literal := SELECT_LITERAL.match(text)) is not None:
            number = int(literal.group(1))
            column_type = "INT" if -(2**31) <= number < 2**31 else "BIGINT"
            columns = (Column(literal.group(1), parse_type(column_type)),)
            rows = [(number,)]
        elif self.fake.unmatched == "fail":
            excerpt = text if len(text) <= 200 else f"{text[:200]}..."
            return (
                progression,
                None,
                Failure(
                    "BAD_REQUEST",
                    "[FAKE_NO_RESULT_REGISTERED] FakeDatabricks has no result for this statement; "
                    "script one with add_table() or fail_statement(), or construct the fake with "
                    f"unmatched='empty': {excerpt} SQLSTATE: 42000",
                    "42000",
                ),
            )
        prepared = rule.prepared if rule is not None else None
        sizes: list[int] | None = None
        if prepared is not None:
            rendered, python_rows, sizes = prepared
        else:
            rendered, python_rows = render_rows(columns, rows)
        truncated = False
        if row_limit is not None and len(rendered) > row_limit:
            rendered, python_rows, truncated = rendered[:row_limit], python_rows[:row_limit], True
            sizes = None if sizes is None else sizes[:row_limit]
        if sizes is None:
            sizes = [len(compact(row)) + 1 for row in rendered]
        if byte_limit is not None:
            total, keep = 0, 0
            for size in sizes:
                if total + size > byte_limit:
                    break
                total, keep = total + size, keep + 1
            if keep < len(rendered):
                rendered, python_rows, truncated = rendered[:keep], python_rows[:keep], True
                sizes = sizes[:keep]
        if disposition == "INLINE" and sum(sizes) + 1 > self.fake.inline_byte_limit:
            return (
                progression,
                None,
                Failure(
                    "BAD_REQUEST",
                    "Inline byte limit exceeded. Statements executed with disposition=INLINE can "
                    f"have a result size of at most {self.fake.inline_byte_limit} bytes. Please "
                    "execute the statement with disposition=EXTERNAL_LINKS if you want to download "
                    "the full result.",
                    None,
                ),
            )
        chunks = [
            (offset, min(chunk_size, len(rendered) - offset))
            for offset in range(0, len(rendered), chunk_size)
        ]
        result = Result(columns, rendered, python_rows, truncated, chunks)
        if disposition == "EXTERNAL_LINKS":
            reusable = rule is not None and prepared is not None and not truncated
            key = (result_format, chunk_size)
            if reusable and rule is not None and key in rule.contents:
                result.contents = rule.contents[key]
            else:
                result.contents = [
                    chunk_content(result, index, result_format) for index in range(len(chunks))
                ]
                if reusable and rule is not None:
                    rule.contents[key] = result.contents
        return progression, result, None

    def _find(self, statement_id: str) -> Statement | FakeResponse:
        statement = self.statements.get(statement_id)
        if statement is None or self.gone(statement):
            return api_error(404, "NOT_FOUND", f"The statement {statement_id} was not found.")
        return statement

    def _poll(self, statement_id: str) -> FakeResponse:
        with self.fake._lock:
            found = self._find(statement_id)
            if isinstance(found, FakeResponse):
                return found
            self.observe(found, poll=True)
            found.polls += 1
            return json_response(200, self._statement_payload(found))

    def _cancel_request(self, statement_id: str) -> FakeResponse:
        with self.fake._lock:
            found = self._find(statement_id)
            if isinstance(found, FakeResponse):
                return found
            found.cancels += 1
            self.observe(found)
            self._cancel(found, "client")
        return FakeResponse(200, b"", {"Content-Type": "application/json"})

    def _chunk_request(self, statement_id: str, raw_index: str) -> FakeResponse:
        with self.fake._lock:
            found = self._find(statement_id)
            if isinstance(found, FakeResponse):
                return found
            found.chunk_requests += 1
            self.observe(found)
            if found.state == "CLOSED":
                return api_error(
                    404,
                    "NOT_FOUND",
                    f"The result of statement {statement_id} is no longer available (CLOSED).",
                )
            if found.state != "SUCCEEDED" or found.result is None:
                return api_error(
                    400,
                    "INVALID_STATE",
                    f"Statement {statement_id} is {found.state}; results are available only "
                    "once it has SUCCEEDED.",
                )
            count = len(found.result.chunks)
            if not raw_index.isdigit() or int(raw_index) >= count:
                return invalid(
                    f"chunk_index {raw_index} is out of range: the result has {count} chunk"
                    f"{'' if count == 1 else 's'}"
                )
            return json_response(200, self._result_data(found, int(raw_index)))

    def _statement_payload(self, statement: Statement) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "statement_id": statement.statement_id,
            "status": {"state": statement.state},
        }
        if statement.state == "FAILED" and statement.failure is not None:
            failure = statement.failure
            if failure.sql_state is not None:
                payload["status"]["sql_state"] = failure.sql_state
            payload["status"]["error"] = {
                "error_code": failure.error_code,
                "message": failure.message,
            }
        if statement.state == "SUCCEEDED" and statement.result is not None:
            payload["manifest"] = self._manifest(statement)
            if statement.result.chunks:
                payload["result"] = self._result_data(statement, 0)
        return payload

    def _manifest(self, statement: Statement) -> dict[str, Any]:
        result = statement.result
        assert result is not None
        external = statement.disposition == "EXTERNAL_LINKS"
        columns = []
        for position, column in enumerate(result.columns):
            info: dict[str, Any] = {
                "name": column.name,
                "type_text": column.type.text,
                "type_name": column.type.name,
                "position": position,
            }
            if column.type.name == "DECIMAL":
                info["type_precision"] = column.type.precision
                info["type_scale"] = column.type.scale
            if column.type.interval is not None:
                info["type_interval_type"] = column.type.interval
            columns.append(info)
        schema: dict[str, Any] = {"column_count": len(columns)}
        if columns:
            schema["columns"] = columns
        manifest: dict[str, Any] = {
            "format": statement.format,
            "schema": schema,
            "total_chunk_count": len(result.chunks),
        }
        chunks = []
        for index, (offset, count) in enumerate(result.chunks):
            chunk: dict[str, Any] = {"chunk_index": index, "row_offset": offset, "row_count": count}
            if external:
                chunk["byte_count"] = len(result.contents[index])
            chunks.append(chunk)
        if chunks:
            manifest["chunks"] = chunks
        manifest["total_row_count"] = len(result.rendered)
        if external:
            manifest["total_byte_count"] = sum(len(content) for content in result.contents)
        manifest["truncated"] = result.truncated
        return manifest

    def _result_data(self, statement: Statement, index: int) -> dict[str, Any]:
        result = statement.result
        assert result is not None
        offset, count = result.chunks[index]
        position: dict[str, Any] = {"chunk_index": index, "row_offset": offset, "row_count": count}
        following: dict[str, Any] = {}
        if index + 1 < len(result.chunks):
            following = {
                "next_chunk_index": index + 1,
                "next_chunk_internal_link": (
                    f"{STATEMENTS_PATH}/{statement.statement_id}/result/chunks/{index + 1}"
                ),
            }
        if statement.disposition == "INLINE":
            return {
                **position,
                "data_array": result.rendered[offset : offset + count],
                **following,
            }
        link = {
            **position,
            "byte_count": len(result.contents[index]),
            **self.storage.presign(statement, index),
            **following,
        }
        return {"external_links": [link]}


def result_rule(
    pattern: str | re.Pattern[str],
    columns: Iterable[tuple[str, str]] | Mapping[str, str],
    rows: RowsSource | Callable[[dict[str, Any]], RowsSource],
    rows_per_chunk: int | None,
    timing: tuple[int, int, float, float],
    times: int | None,
) -> Rule:
    """The rule of :meth:`FakeDatabricks.add_table`; static rows are rendered now, so a bad
    value fails in the test that scripted it. ``timing``: pending and running polls, pending
    and running seconds."""
    parsed = [Column(name, parse_type(text)) for name, text in pairs(columns)]
    names = [column.name for column in parsed]
    if len(set(names)) != len(names):
        raise ValueError(f"column names must be distinct, got {names}")
    if rows_per_chunk is not None and rows_per_chunk < 1:
        raise ValueError(f"rows_per_chunk must be >= 1, got {rows_per_chunk}")
    prepared = None
    if not callable(rows):
        rows = list(rows)
        rendered, values = render_rows(tuple(parsed), rows)
        prepared = (rendered, values, [len(compact(row)) + 1 for row in rendered])
    return Rule(
        re.compile(pattern),
        Progression(*timing),
        check_times(times),
        columns=tuple(parsed),
        rows=rows,
        rows_per_chunk=rows_per_chunk,
        prepared=prepared,
    )


def pairs(columns: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    if isinstance(columns, Mapping):
        return list(columns.items())
    pairs = []
    for item in columns:
        if isinstance(item, str) or len(item) != 2:
            raise TypeError(f"columns are (name, SQL type) pairs, got {item!r}")
        pairs.append((str(item[0]), str(item[1])))
    return pairs


def unbound(marker: str) -> Failure:
    return Failure(
        "BAD_REQUEST",
        f"[UNBOUND_SQL_PARAMETER] Found the unbound parameter: {marker}. Please, fix `args` and "
        "provide a mapping of the parameter to either a SQL literal or collection constructor "
        "functions such as `map()`, `array()`, `struct()`. SQLSTATE: 42P02",
        "42P02",
    )


def cast_failure(parameter: StatementParameter, sql_type: SqlType) -> Failure:
    return Failure(
        "BAD_REQUEST",
        f"[CAST_INVALID_INPUT] The value '{parameter.value}' of the type \"STRING\" cannot be cast "
        f'to "{sql_type.text}" because it is malformed. Correct the value as per the syntax, or '
        "change its target type. Use `try_cast` to tolerate malformed input and return NULL "
        "instead. SQLSTATE: 22018",
        "22018",
    )


def _statement_id() -> str:
    raw = uuid.uuid4().hex
    return f"01ef{raw[4:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"
