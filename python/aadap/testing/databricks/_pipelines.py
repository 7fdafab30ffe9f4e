"""The Pipelines API (``/api/2.0/pipelines``): pipelines, their updates and the scripted
progression of each update."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from aadap.testing._server import FakeResponse, RecordedRequest, json_response
from aadap.testing.databricks._errors import api_error, invalid, not_found_endpoint
from aadap.testing.databricks._paging import page_links, page_offset
from aadap.testing.databricks._results import timestamp_text
from aadap.testing.databricks._service import RoutedService, json_copy, ms, snapshot
from aadap.testing.databricks._validation import integer, json_object

if TYPE_CHECKING:
    from aadap.testing.databricks.fake import FakeDatabricks


_Item = TypeVar("_Item")

DEFAULT_UPDATE_STATES = (
    "QUEUED",
    "CREATED",
    "WAITING_FOR_RESOURCES",
    "INITIALIZING",
    "SETTING_UP_TABLES",
    "RUNNING",
)
"""The states a pipeline update passes through before its final one, unless scripted."""


@dataclass(frozen=True)
class PipelineUpdateInfo:
    """One pipeline update (a snapshot)."""

    update_id: str
    pipeline_id: str
    state: str
    """QUEUED ... RUNNING, then COMPLETED, FAILED or CANCELED, as the next get would say."""
    polls: int
    """``GET /pipelines/{id}/updates/{update_id}`` requests answered."""
    cause: str
    full_refresh: bool
    refresh_selection: tuple[str, ...]
    full_refresh_selection: tuple[str, ...]
    validate_only: bool


@dataclass(frozen=True)
class PipelineInfo:
    """One pipeline (a snapshot)."""

    pipeline_id: str
    name: str
    state: str
    """IDLE, RUNNING (an update is active) or STOPPING."""
    health: str
    """HEALTHY, or UNHEALTHY when the last finished update FAILED."""
    updates: tuple[PipelineUpdateInfo, ...]
    """Oldest first."""
    starts: int
    """Start-update requests received (refused ones included)."""
    stops: int
    conflicts: int
    """Start-update requests refused with 409 because an update was active."""


_UPDATE_STATES = frozenset(
    {"QUEUED", "CREATED", "WAITING_FOR_RESOURCES", "INITIALIZING", "RESETTING",
     "SETTING_UP_TABLES", "RUNNING", "STOPPING", "COMPLETED", "FAILED", "CANCELED"}
)  # fmt: skip


_FINAL_UPDATE_STATES = frozenset({"COMPLETED", "FAILED", "CANCELED"})


_LIKE_FILTER = re.compile(r"^\s*name\s+LIKE\s+'(?P<pattern>(?:[^']|'')*)'\s*$", re.IGNORECASE)


_NOTEBOOK_FILTER = re.compile(r"^\s*notebook\s*=\s*'(?P<path>(?:[^']|'')*)'\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class UpdateScript:
    states: tuple[str, ...]
    final: str
    polls_per_state: int

    def __post_init__(self) -> None:
        unknown = [s for s in self.states if s not in _UPDATE_STATES or s in _FINAL_UPDATE_STATES]
        if unknown:
            raise ValueError(
                f"update_states must be non-final update states, got {unknown}; use "
                f"{sorted(_UPDATE_STATES - _FINAL_UPDATE_STATES)}"
            )
        if self.final not in _FINAL_UPDATE_STATES:
            raise ValueError(f"final must be COMPLETED, FAILED or CANCELED, got {self.final!r}")
        if self.polls_per_state < 1:
            raise ValueError(f"polls_per_state must be >= 1, got {self.polls_per_state}")


@dataclass
class _Update:
    update_id: str
    pipeline_id: str
    script: UpdateScript
    creation_time: float
    request: dict[str, Any]
    index: int = 0
    phase_polls: int = 0
    polls: int = 0
    canceled: bool = False

    @property
    def state(self) -> str:
        if self.canceled:
            return "CANCELED"
        states = self.script.states
        return states[self.index] if self.index < len(states) else self.script.final


@dataclass
class Pipeline:
    pipeline_id: str
    name: str
    spec: dict[str, Any]
    script: UpdateScript
    stop_polls: int
    creator: str
    cluster_id: str
    last_modified: float
    updates: list[_Update] = field(default_factory=list)
    stopping: int | None = None
    starts: int = 0
    stops: int = 0
    conflicts: int = 0

    def active(self) -> _Update | None:
        if self.updates and self.updates[-1].state not in _FINAL_UPDATE_STATES:
            return self.updates[-1]
        return None


class Pipelines(RoutedService):
    """Pipelines and their updates."""

    ROUTE = re.compile(
        r"^/api/2\.0/pipelines"
        r"(?:/(?P<id>[^/]+)(?:/(?P<action>updates|stop)(?:/(?P<update>[^/]+))?)?)?/?$"
    )

    def __init__(self, fake: FakeDatabricks) -> None:
        super().__init__(fake)
        self.pipelines: dict[str, Pipeline] = {}
        self.updates: dict[str, _Update] = {}

    def add(self, pipeline: Pipeline) -> str:
        with self.fake._lock:
            if pipeline.pipeline_id in self.pipelines:
                raise ValueError(f"pipeline {pipeline.pipeline_id} exists already")
            self.pipelines[pipeline.pipeline_id] = pipeline
        return pipeline.pipeline_id

    def update_info(self, update: _Update) -> PipelineUpdateInfo:
        return snapshot(
            PipelineUpdateInfo,
            update,
            state=update.state,
            cause=str(update.request.get("cause", "API_CALL")),
            full_refresh=bool(update.request.get("full_refresh", False)),
            refresh_selection=tuple(update.request.get("refresh_selection") or ()),
            full_refresh_selection=tuple(update.request.get("full_refresh_selection") or ()),
            validate_only=bool(update.request.get("validate_only", False)),
        )

    def info(self, pipeline: Pipeline) -> PipelineInfo:
        return snapshot(
            PipelineInfo,
            pipeline,
            state=self._state(pipeline),
            health=self._health(pipeline),
            updates=tuple(self.update_info(u) for u in pipeline.updates),
        )

    # -- progression --

    def _poll(self, pipeline: Pipeline, update: _Update | None = None) -> None:
        """A get of the pipeline or of one of its updates was answered: the active update (or
        the stop) moves on."""
        if pipeline.stopping is not None:
            pipeline.stopping += 1
            if pipeline.stopping >= pipeline.stop_polls:
                pipeline.stopping = None
        active = pipeline.active()
        if active is not None:
            active.phase_polls += 1
            if active.phase_polls >= active.script.polls_per_state:
                active.index, active.phase_polls = active.index + 1, 0
        if update is not None:
            update.polls += 1

    def _state(self, pipeline: Pipeline) -> str:
        if pipeline.stopping is not None:
            return "STOPPING"
        return "RUNNING" if pipeline.active() is not None else "IDLE"

    def _health(self, pipeline: Pipeline) -> str:
        finished = [u for u in pipeline.updates if u.state in _FINAL_UPDATE_STATES]
        return "UNHEALTHY" if finished and finished[-1].state == "FAILED" else "HEALTHY"

    # -- requests --

    def handle(self, request: RecordedRequest, route: re.Match[str]) -> FakeResponse:
        pipeline_id, action, update_id = route["id"], route["action"], route["update"]
        with self.fake._lock:
            if pipeline_id is None:
                if request.method != "GET":
                    return not_found_endpoint(request)
                return self._list(request.query)
            pipeline = self.pipelines.get(pipeline_id)
            if pipeline is None:
                return api_error(
                    404, "RESOURCE_DOES_NOT_EXIST", f"Pipeline {pipeline_id} does not exist."
                )
            if action is None:
                if request.method != "GET":
                    return not_found_endpoint(request)
                payload = self._pipeline_payload(pipeline, full=True)
                self._poll(pipeline)
                return json_response(200, payload)
            if action == "stop":
                if request.method != "POST" or update_id is not None:
                    return not_found_endpoint(request)
                return self._stop(pipeline)
            if update_id is not None:
                if request.method != "GET":
                    return not_found_endpoint(request)
                update = self.updates.get(update_id)
                if update is None or update.pipeline_id != pipeline_id:
                    return api_error(
                        404,
                        "RESOURCE_DOES_NOT_EXIST",
                        f"Update {update_id} of pipeline {pipeline_id} does not exist.",
                    )
                payload = {"update": self._update_payload(update)}
                self._poll(pipeline, update)
                return json_response(200, payload)
            if request.method == "GET":
                return self._list_updates(pipeline, request.query)
            if request.method != "POST":
                return not_found_endpoint(request)
            body = json_object(request)
            if isinstance(body, FakeResponse):
                return body
            return self._start(pipeline, body)

    def _page_size(self, query: dict[str, str], default: int) -> int | FakeResponse:
        raw = query.get("max_results")
        if raw is None:
            return default
        size = integer(raw)
        if size is None or not 1 <= size <= 100:
            return invalid(f"max_results must be between 1 and 100, got {raw!r}")
        return size

    def _list(self, query: dict[str, str]) -> FakeResponse:
        size = self._page_size(query, 25)
        if isinstance(size, FakeResponse):
            return size
        pipelines = sorted(self.pipelines.values(), key=lambda p: p.pipeline_id)
        filter_text = query.get("filter")
        if filter_text:
            if (like := _LIKE_FILTER.match(filter_text)) is not None:
                pattern = _like_pattern(like["pattern"].replace("''", "'"))
                pipelines = [p for p in pipelines if pattern.fullmatch(p.name)]
            elif (notebook := _NOTEBOOK_FILTER.match(filter_text)) is not None:
                path = notebook["path"].replace("''", "'")
                pipelines = [p for p in pipelines if path in _notebook_paths(p.spec)]
            else:
                return invalid(
                    f"Invalid filter {filter_text!r}: use name LIKE '<pattern>' or "
                    "notebook='<path>'"
                )
        order = query.get("order_by", "id asc").strip().lower()
        if order not in ("id asc", "id desc", "id"):
            return invalid(f"Invalid order_by {query.get('order_by')!r}: use 'id asc' or 'id desc'")
        if order == "id desc":
            pipelines.reverse()
        scope = f"pipelines:{filter_text or ''}:{order}"
        return _page(
            query,
            size,
            scope,
            "statuses",
            pipelines,
            lambda p: self._pipeline_payload(p, full=False),
        )

    def _list_updates(self, pipeline: Pipeline, query: dict[str, str]) -> FakeResponse:
        size = self._page_size(query, 25)
        if isinstance(size, FakeResponse):
            return size
        updates = list(reversed(pipeline.updates))
        until = query.get("until_update_id")
        if until:
            ids = [u.update_id for u in updates]
            if until in ids:
                updates = updates[: ids.index(until) + 1]
        scope = f"updates:{pipeline.pipeline_id}"
        return _page(query, size, scope, "updates", updates, self._update_payload)

    def _start(self, pipeline: Pipeline, body: dict[str, Any]) -> FakeResponse:
        for name in ("full_refresh", "validate_only", "development"):
            if name in body and not isinstance(body[name], bool):
                return invalid(f"{name} must be a boolean, got {json.dumps(body[name])}")
        for name in ("refresh_selection", "full_refresh_selection"):
            value = body.get(name)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                return invalid(f"{name} must be a list of table names")
        if body.get("full_refresh") and (
            body.get("refresh_selection") or body.get("full_refresh_selection")
        ):
            return invalid(
                "full_refresh cannot be combined with refresh_selection or full_refresh_selection"
            )
        pipeline.starts += 1
        active = pipeline.active()
        if active is not None:
            pipeline.conflicts += 1
            return api_error(
                409,
                "RESOURCE_CONFLICT",
                f"Cannot start an update on pipeline {pipeline.pipeline_id}: update "
                f"{active.update_id} is active ({active.state}).",
            )
        update = _Update(
            update_id=str(uuid.uuid4()),
            pipeline_id=pipeline.pipeline_id,
            script=pipeline.script,
            creation_time=self.fake.now(),
            request=json_copy(body),
        )
        pipeline.updates.append(update)
        pipeline.stopping = None
        self.updates[update.update_id] = update
        return json_response(200, {"update_id": update.update_id})

    def _stop(self, pipeline: Pipeline) -> FakeResponse:
        pipeline.stops += 1
        active = pipeline.active()
        if active is not None:
            active.canceled = True
            if pipeline.stop_polls > 0:
                pipeline.stopping = 0
        return json_response(200, {})

    # -- payloads --

    def _latest(self, pipeline: Pipeline) -> list[dict[str, Any]]:
        return [
            {
                "update_id": update.update_id,
                "state": update.state,
                "creation_time": timestamp_text(
                    datetime.fromtimestamp(update.creation_time, timezone.utc)
                ),
            }
            for update in reversed(pipeline.updates[-5:])
        ]

    def _pipeline_payload(self, pipeline: Pipeline, *, full: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "pipeline_id": pipeline.pipeline_id,
            "name": pipeline.name,
            "state": self._state(pipeline),
            "cluster_id": pipeline.cluster_id,
            "creator_user_name": pipeline.creator,
            "run_as_user_name": pipeline.creator,
            "health": self._health(pipeline),
        }
        latest = self._latest(pipeline)
        if latest:
            payload["latest_updates"] = latest
        if full:
            payload["spec"] = json_copy(pipeline.spec)
            payload["last_modified"] = ms(pipeline.last_modified)
            if pipeline.updates:
                payload["cause"] = f"An update was {pipeline.updates[-1].state.lower()}"
        return payload

    def _update_payload(self, update: _Update) -> dict[str, Any]:
        request = update.request
        payload: dict[str, Any] = {
            "update_id": update.update_id,
            "pipeline_id": update.pipeline_id,
            "state": update.state,
            "creation_time": ms(update.creation_time),
            "cause": request.get("cause", "API_CALL"),
            "full_refresh": bool(request.get("full_refresh", False)),
            "validate_only": bool(request.get("validate_only", False)),
            "cluster_id": self.pipelines[update.pipeline_id].cluster_id,
            "config": json_copy(self.pipelines[update.pipeline_id].spec),
        }
        for name in ("refresh_selection", "full_refresh_selection", "parameters"):
            if request.get(name):
                payload[name] = request[name]
        return payload


def _page(
    query: dict[str, str],
    size: int,
    scope: str,
    key: str,
    items: Sequence[_Item],
    payload_of: Callable[[_Item], dict[str, Any]],
) -> FakeResponse:
    """One page of a listing: the payloads of the items on it under ``key`` (omitted when the
    page is empty), and the page tokens."""
    offset = page_offset(query.get("page_token"), scope)
    if isinstance(offset, FakeResponse):
        return offset
    page = items[offset : offset + size]
    payload: dict[str, Any] = {}
    if page:
        payload[key] = [payload_of(item) for item in page]
    payload.update(page_links(scope, offset, size, len(items)))
    return json_response(200, payload)


def _like_pattern(pattern: str) -> re.Pattern[str]:
    """A SQL LIKE pattern (``%``, ``_``) as a case-insensitive regular expression."""
    translated = "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern
    )
    return re.compile(translated, re.IGNORECASE | re.DOTALL)


def _notebook_paths(spec: Mapping[str, Any]) -> list[str]:
    paths = []
    for library in spec.get("libraries") or []:
        if isinstance(library, dict) and isinstance(library.get("notebook"), dict):
            paths.append(str(library["notebook"].get("path", "")))
    return paths
