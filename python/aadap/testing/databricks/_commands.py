"""The Command Execution API 1.2 (``/api/1.2/contexts/...`` and ``/api/1.2/commands/...``):
execution contexts on a cluster, commands and their results (scripted, or read by the tiny
Python evaluator), and the API's camelCase keys and ``{"error"}`` bodies."""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from xml.sax.saxutils import escape as xml_escape

from aadap.testing._server import FakeResponse, RecordedRequest, json_response
from aadap.testing.databricks._errors import legacy_error, not_found_endpoint
from aadap.testing.databricks._python import UnsupportedError, run_python
from aadap.testing.databricks._service import RoutedService, json_copy, snapshot, take_rule
from aadap.testing.databricks._statements import SELECT_LITERAL
from aadap.testing.databricks._types import SqlType, parse_type, spark_type
from aadap.testing.databricks._validation import check_at_least, check_times, request_fields

if TYPE_CHECKING:
    from aadap.testing.databricks.fake import FakeDatabricks


@dataclass(frozen=True)
class ContextInfo:
    """One execution context of the Command Execution API 1.2 (a snapshot)."""

    context_id: str
    cluster_id: str
    language: str
    """``python``, ``scala``, ``sql`` or ``r``."""
    status: str
    """``Pending``, ``Running`` or ``Error`` as the next ``contexts/status`` would say."""
    destroyed_by: Literal["client", "cluster"] | None
    """Who ended the context: ``client`` (``contexts/destroy``), ``cluster`` (the cluster left
    RUNNING: terminated, restarted or failed, which takes its contexts along) or nobody yet.
    Every call about an ended context fails."""
    polls: int
    """``contexts/status`` requests answered."""
    command_ids: tuple[str, ...]
    """The commands executed in it, oldest first."""

    @property
    def destroyed(self) -> bool:
        """Whether the context has ended (see :attr:`destroyed_by`)."""
        return self.destroyed_by is not None


@dataclass(frozen=True)
class CommandInfo:
    """One command of the Command Execution API 1.2 (a snapshot)."""

    command_id: str
    context_id: str
    cluster_id: str
    language: str
    command: str
    """The command text as the client sent it."""
    status: str
    """``Queued``, ``Running``, ``Cancelling``, ``Finished``, ``Cancelled`` or ``Error`` as the
    next ``commands/status`` would say."""
    results: dict[str, Any] | None
    """The ``results`` object a Finished or Error status carries (None: none)."""
    polls: int
    """``commands/status`` requests answered."""
    cancels: int
    """``commands/cancel`` requests received."""


LANGUAGES_12 = ("python", "scala", "sql", "r")


_COMMAND_MAGIC = re.compile(r"^\s*(?P<kind>TABLE|FAIL):(?P<rest>.*)$", re.DOTALL)


_SNAKE_12 = {"cluster_id": "clusterId", "context_id": "contextId", "command_id": "commandId"}


_CALLS_12: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("contexts", "create"): ("POST", ("clusterId",)),
    ("contexts", "status"): ("GET", ("clusterId", "contextId")),
    ("contexts", "destroy"): ("POST", ("clusterId", "contextId")),
    ("commands", "execute"): ("POST", ("clusterId", "contextId", "command")),
    ("commands", "status"): ("GET", ("clusterId", "contextId", "commandId")),
    ("commands", "cancel"): ("POST", ("clusterId", "contextId", "commandId")),
}


CommandKind = Literal["text", "table", "error", "status_error", "image", "none"]


@dataclass
class CommandRule:
    pattern: re.Pattern[str]
    kind: CommandKind
    language: str | None
    queued_polls: int
    running_polls: int
    times: int | None
    text: str | Callable[[str], str] = ""
    columns: tuple[tuple[str, SqlType | None], ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    truncated: bool = False
    summary: str = ""
    cause: str = ""
    file_name: str = ""


@dataclass
class _Context:
    context_id: str
    cluster_id: str
    language: str
    pending_polls: int
    fails: bool
    status: str = "Pending"
    phase_polls: int = 0
    polls: int = 0
    destroyed_by: Literal["client", "cluster"] | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    command_ids: list[str] = field(default_factory=list)


@dataclass
class _Command:
    command_id: str
    context_id: str
    cluster_id: str
    language: str
    text: str
    results: dict[str, Any] | None
    final_status: str
    queued_polls: int
    running_polls: int
    status: str = "Queued"
    phase_polls: int = 0
    polls: int = 0
    cancels: int = 0


class Commands(RoutedService):
    """Execution contexts and commands of the Command Execution API 1.2."""

    ROUTE = re.compile(
        r"^/api/1\.2/(?P<what>contexts|commands)"
        r"/(?P<action>create|status|destroy|execute|cancel)/?$"
    )

    def __init__(self, fake: FakeDatabricks) -> None:
        super().__init__(fake)
        self.rules: list[CommandRule] = []
        self.contexts: dict[str, _Context] = {}
        self.commands: dict[str, _Command] = {}
        self.failing_contexts = 0
        self.created = 0
        self.destroyed = 0

    # -- scripting --

    def add_rule(self, rule: CommandRule) -> None:
        with self.fake._lock:
            self.rules.append(rule)

    def _take_rule(self, text: str, language: str) -> CommandRule | None:
        return take_rule(
            self.rules,
            lambda rule: rule.language in (None, language) and bool(rule.pattern.search(text)),
        )

    def context_info(self, context: _Context) -> ContextInfo:
        self._settle_context(context)
        return snapshot(ContextInfo, context, command_ids=tuple(context.command_ids))

    def command_info(self, command: _Command) -> CommandInfo:
        self._settle_command(command)
        results = None if command.results is None else json_copy(command.results)
        return snapshot(CommandInfo, command, command=command.text, results=results)

    # -- progression --

    def _settle_context(self, context: _Context) -> None:
        if context.status == "Pending" and context.phase_polls >= context.pending_polls:
            context.status = "Error" if context.fails else "Running"
            context.phase_polls = 0

    def _settle_command(self, command: _Command) -> None:
        while True:
            if command.status == "Queued" and command.phase_polls >= command.queued_polls:
                command.status, command.phase_polls = "Running", 0
            elif command.status == "Running" and command.phase_polls >= command.running_polls:
                command.status, command.phase_polls = command.final_status, 0
            elif (
                command.status == "Cancelling" and command.phase_polls >= self.fake.cancelling_polls
            ):
                command.status, command.phase_polls = "Cancelled", 0
            else:
                return

    # -- requests --

    def handle(self, request: RecordedRequest, route: re.Match[str]) -> FakeResponse:
        what, action = route["what"], route["action"]
        call = _CALLS_12.get((what, action))
        if call is None:
            return not_found_endpoint(request)
        method, required = call
        if request.method != method:
            return not_found_endpoint(request)
        fields = request_fields(request, method)
        if isinstance(fields, FakeResponse):  # a body that is not a JSON object
            return legacy_error(400, "Invalid JSON given in the body of the request")
        for key in required:
            value = fields.get(key)
            if not isinstance(value, str) or not value:
                snake = [s for s, camel in _SNAKE_12.items() if camel == key and s in fields]
                hint = (
                    f" (got {snake[0]!r}: API 1.2 takes camelCase keys: clusterId, contextId, "
                    "commandId)"
                    if snake
                    else ""
                )
                return legacy_error(400, f"Missing required field: {key}{hint}")
        with self.fake._lock:
            not_ready = self.fake._clusters.require_running(fields["clusterId"])
            if not_ready is not None:
                return not_ready
            if (what, action) == ("contexts", "create"):
                return self._create(fields)
            context = self._context(fields["clusterId"], fields["contextId"])
            if isinstance(context, FakeResponse):
                return context
            if what == "contexts":
                if action == "status":
                    return self._context_status(context)
                return self._destroy(context)
            if action == "execute":
                return self._execute(context, fields)
            command = self.commands.get(fields["commandId"])
            if command is None or command.context_id != context.context_id:
                return legacy_error(400, f"Command {fields['commandId']} does not exist.")
            if action == "status":
                return self._command_status(command)
            return self._cancel(command)

    def _context(self, cluster_id: str, context_id: str) -> _Context | FakeResponse:
        context = self.contexts.get(context_id)
        if context is None or context.cluster_id != cluster_id:
            return legacy_error(400, f"Context {context_id} does not exist.")
        if context.destroyed_by == "client":
            return legacy_error(400, f"Context {context_id} does not exist (it was destroyed).")
        if context.destroyed_by == "cluster":
            return legacy_error(
                400,
                f"Context {context_id} does not exist (cluster {cluster_id} was terminated or "
                "restarted since it was created).",
            )
        return context

    def _create(self, fields: dict[str, Any]) -> FakeResponse:
        language = fields.get("language", "python")
        if not isinstance(language, str) or language.lower() not in LANGUAGES_12:
            return legacy_error(
                400, f"Invalid language {language!r}: use one of {', '.join(LANGUAGES_12)}"
            )
        cluster_id = fields["clusterId"]
        live = sum(
            1
            for c in self.contexts.values()
            if c.cluster_id == cluster_id and c.destroyed_by is None
        )
        if live >= self.fake.max_contexts:
            return legacy_error(
                400,
                "Too many execution contexts are open right now."
                f"(Limit set currently to {self.fake.max_contexts})",
            )
        fails = self.failing_contexts > 0
        if fails:
            self.failing_contexts -= 1
        context = _Context(
            context_id=str(secrets.randbelow(9 * 10**18) + 10**18),
            cluster_id=cluster_id,
            language=language.lower(),
            pending_polls=self.fake.context_pending_polls,
            fails=fails,
        )
        self.contexts[context.context_id] = context
        self.created += 1
        return json_response(200, {"id": context.context_id})

    def _context_status(self, context: _Context) -> FakeResponse:
        self._settle_context(context)
        context.polls += 1
        payload = {"id": context.context_id, "status": context.status}
        context.phase_polls += 1
        return json_response(200, payload)

    def _destroy(self, context: _Context) -> FakeResponse:
        self.end(context, "client")
        self.destroyed += 1
        return json_response(200, {"id": context.context_id})

    def end(self, context: _Context, by: Literal["client", "cluster"]) -> None:
        """Ends a context; its unfinished commands are cancelled."""
        context.destroyed_by = by
        for command_id in context.command_ids:
            command = self.commands[command_id]
            self._settle_command(command)
            if command.status in ("Queued", "Running", "Cancelling"):
                command.status = "Cancelled"

    def cluster_stopped(self, cluster_id: str) -> None:
        """The cluster left RUNNING: its live contexts are gone."""
        for context in self.contexts.values():
            if context.cluster_id == cluster_id and context.destroyed_by is None:
                self.end(context, "cluster")

    def _execute(self, context: _Context, fields: dict[str, Any]) -> FakeResponse:
        self._settle_context(context)
        if context.status != "Running":
            return legacy_error(
                400,
                f"Context {context.context_id} is not ready (status {context.status}); wait "
                "until contexts/status says Running",
            )
        language = fields.get("language", context.language)
        if not isinstance(language, str) or language.lower() not in LANGUAGES_12:
            return legacy_error(
                400, f"Invalid language {language!r}: use one of {', '.join(LANGUAGES_12)}"
            )
        language = language.lower()
        text = fields["command"]
        rule = self._take_rule(text, language)
        final_status = "Finished"
        queued_polls = running_polls = 0
        if rule is not None:
            queued_polls, running_polls = rule.queued_polls, rule.running_polls
            if rule.kind == "status_error":
                final_status = "Error"
            results = _rule_results(rule, text)
        else:
            results = self._default_results(text, language, context)
        command = _Command(
            command_id=secrets.token_hex(16),
            context_id=context.context_id,
            cluster_id=context.cluster_id,
            language=language,
            text=text,
            results=results,
            final_status=final_status,
            queued_polls=queued_polls,
            running_polls=running_polls,
        )
        self.commands[command.command_id] = command
        context.command_ids.append(command.command_id)
        return json_response(200, {"id": command.command_id})

    def _command_status(self, command: _Command) -> FakeResponse:
        self._settle_command(command)
        command.polls += 1
        payload: dict[str, Any] = {"id": command.command_id, "status": command.status}
        if command.status in ("Finished", "Error") and command.results is not None:
            payload["results"] = command.results
        command.phase_polls += 1
        return json_response(200, payload)

    def _cancel(self, command: _Command) -> FakeResponse:
        command.cancels += 1
        self._settle_command(command)
        if command.status in ("Queued", "Running"):
            command.status, command.phase_polls = "Cancelling", 0
            self._settle_command(command)
        return json_response(200, {"id": command.command_id})

    def _default_results(self, text: str, language: str, context: _Context) -> dict[str, Any]:
        cell = f"command-{secrets.randbelow(9 * 10**15) + 10**15}"
        marker = _COMMAND_MAGIC.match(text)
        if marker is not None and marker["kind"] == "FAIL":
            message = marker["rest"].strip()
            return {
                "resultType": "error",
                "summary": f"<span class='ansi-red-fg'>Exception</span>: {xml_escape(message)}",
                "cause": f"Exception: {message}",
            }
        if marker is not None:
            try:
                table = json.loads(marker["rest"])
                header, *rows = table
                columns = tuple((str(name), None) for name in header)
                if any(len(row) != len(columns) for row in rows):
                    raise ValueError("ragged rows")
            except (ValueError, TypeError):
                return {
                    "resultType": "error",
                    "summary": "TABLE: needs a JSON array of arrays",
                    "cause": "TABLE: must be followed by a JSON array whose first element lists "
                    'the column names, e.g. TABLE: [["id", "name"], [1, "a"]]',
                }
            return table_results(columns, tuple(tuple(row) for row in rows), False)
        if language == "python":
            try:
                return run_python(text, context.variables, cell)
            except UnsupportedError as unsupported:
                reason = str(unsupported)
            except RecursionError:
                reason = "the command nests too deeply"
        elif language == "sql" and (literal := SELECT_LITERAL.match(text)) is not None:
            number = int(literal.group(1))
            spark = "integer" if -(2**31) <= number < 2**31 else "long"
            return {
                "resultType": "table",
                "data": [[number]],
                "schema": [{"name": literal.group(1), "type": json.dumps(spark), "metadata": "{}"}],
                "truncated": False,
                "isJsonSchema": True,
            }
        else:
            reason = f"the fake evaluates no {language} code"
        if self.fake.unmatched == "empty":
            return {"resultType": "text", "data": ""}
        excerpt = text if len(text) <= 200 else f"{text[:200]}..."
        return {
            "resultType": "error",
            "summary": "[FAKE_NO_RESULT_REGISTERED] FakeDatabricks has no result for this command",
            "cause": (
                f"[FAKE_NO_RESULT_REGISTERED] FakeDatabricks cannot run this command ({reason}); "
                "script its result with add_command(), or construct the fake with "
                f"unmatched='empty':\n{excerpt}"
            ),
        }


def _rule_results(rule: CommandRule, text: str) -> dict[str, Any] | None:
    if rule.kind == "text":
        data = rule.text(text) if callable(rule.text) else rule.text
        return {"resultType": "text", "data": data}
    if rule.kind == "table":
        return table_results(rule.columns, rule.rows, rule.truncated)
    if rule.kind in ("error", "status_error"):
        return {"resultType": "error", "summary": rule.summary, "cause": rule.cause}
    if rule.kind == "image":
        return {"resultType": "image", "fileName": rule.file_name}
    return None


def table_results(
    columns: tuple[tuple[str, SqlType | None], ...],
    rows: tuple[tuple[Any, ...], ...],
    truncated: bool,
) -> dict[str, Any]:
    schema = []
    for position, (name, sql_type) in enumerate(columns):
        if sql_type is None:
            sample = next((row[position] for row in rows if row[position] is not None), None)
            spark: Any = _inferred_spark_type(sample)
        else:
            spark = spark_type(sql_type)
        schema.append({"name": name, "type": json.dumps(spark), "metadata": "{}"})
    return {
        "resultType": "table",
        "data": [[_plain_json(value) for value in row] for row in rows],
        "schema": schema,
        "truncated": truncated,
        "isJsonSchema": True,
    }


def _inferred_spark_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, Decimal):
        return "decimal(38,18)"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    return "string"


def _plain_json(value: Any) -> Any:
    """A Python value as typed JSON (dates as ISO text, decimals as numbers, bytes base64)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [_plain_json(item) for item in value]
    return str(value)


def command_rule(
    pattern: str | re.Pattern[str],
    results: Mapping[str, Any],
    *,
    truncated: bool,
    language: str | None,
    queued_polls: int,
    running_polls: int,
    times: int | None,
) -> CommandRule:
    """The rule of :meth:`FakeDatabricks.add_command`. ``results``: each kind of result
    (``text``, ``table``, ``error``, ``status_error``, ``image``, ``none``) → what the caller
    gave for it (None: not given); exactly one must be given."""
    given = [kind for kind, value in results.items() if value is not None]
    if len(given) != 1:
        raise ValueError(
            "give exactly one of text, table, error, status_error, image or no_results=True; "
            f"got {given or 'none'}"
        )
    check_at_least(0, queued_polls=queued_polls, running_polls=running_polls)
    if language is not None and language.lower() not in LANGUAGES_12:
        raise ValueError(f"language must be one of {LANGUAGES_12}, got {language!r}")
    kind: CommandKind = given[0]  # type: ignore[assignment]
    rule = CommandRule(
        re.compile(pattern),
        kind,
        None if language is None else language.lower(),
        queued_polls,
        running_polls,
        check_times(times),
        truncated=truncated,
    )
    text, table, error = results.get("text"), results.get("table"), results.get("error")
    status_error, image = results.get("status_error"), results.get("image")
    if text is not None:
        rule.text = text
    if table is not None:
        columns, rows = table
        parsed: list[tuple[str, SqlType | None]] = []
        for column in columns:
            if isinstance(column, str):
                parsed.append((column, None))
            else:
                parsed.append((str(column[0]), parse_type(str(column[1]))))
        rule.columns = tuple(parsed)
        rule.rows = tuple(tuple(row) for row in rows)
        for number, row in enumerate(rule.rows):
            if len(row) != len(parsed):
                raise ValueError(
                    f"row {number} has {len(row)} values for {len(parsed)} columns: {row!r}"
                )
    if error is not None:
        rule.summary, rule.cause = error
    if status_error is not None:
        rule.summary, rule.cause = (
            (status_error, status_error) if isinstance(status_error, str) else status_error
        )
    if image is not None:
        rule.file_name = image
    return rule
