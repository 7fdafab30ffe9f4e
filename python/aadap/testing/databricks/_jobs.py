"""Jobs API 2.1 and 2.2 (``/api/2.1/jobs/...``, ``/api/2.2/jobs/...``): jobs, run-now and
one-time runs, their scripted progression, outputs and cancellation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aadap.testing._server import FakeResponse, RecordedRequest, json_response
from aadap.testing.databricks._errors import invalid, not_found_endpoint
from aadap.testing.databricks._paging import page_links, page_offset
from aadap.testing.databricks._service import RoutedService, json_copy, ms, snapshot, take_rule
from aadap.testing.databricks._validation import check_at_least, flag, integer, json_object

if TYPE_CHECKING:
    from aadap.testing.databricks.fake import FakeDatabricks


NotebookResult = str | Mapping[str, str | None] | Callable[[dict[str, str]], str | None] | None
"""What ``dbutils.notebook.exit`` returned in a run's notebook tasks: one value for every task,
a value per task key, or a callable receiving the task's parameters (its ``base_parameters``
overridden by run-now's ``notebook_params``) and returning the value. None: the notebook did not
call exit."""


@dataclass(frozen=True)
class RunInfo:
    """One job run (run-now) or one-time run (runs/submit) (a snapshot; ask
    :meth:`FakeDatabricks.run` again for fresh counters)."""

    run_id: int
    job_id: int
    """The job's id; one-time runs get a job id of their own that jobs/list does not show."""
    run_name: str
    run_type: str
    """``JOB_RUN`` (run-now) or ``SUBMIT_RUN`` (runs/submit)."""
    life_cycle_state: str
    """QUEUED, PENDING, RUNNING, TERMINATING, TERMINATED, SKIPPED or INTERNAL_ERROR as the next
    ``runs/get`` would say."""
    result_state: str | None
    state_message: str
    task_run_ids: dict[str, int]
    """Task key → the task's own run id (what ``runs/get-output`` takes)."""
    idempotency_token: str | None
    request: dict[str, Any]
    """The run-now or runs/submit body that created the run."""
    polls: int
    """``runs/get`` requests answered for the run or one of its task runs."""
    cancels: int
    """``runs/cancel`` requests received."""
    resubmits: int
    """Later run-now/submit requests with the same ``idempotency_token`` that were answered
    with this run instead of starting another."""
    api_version: str
    """``2.1`` or ``2.2``: the API prefix that created it."""

    @property
    def notebook_params(self) -> dict[str, str]:
        """run-now's ``notebook_params`` (empty when none were sent)."""
        params = self.request.get("notebook_params") or {}
        return dict(params)


_RUN_RESULT_STATES = frozenset(
    {"SUCCESS", "FAILED", "TIMEDOUT", "CANCELED", "SKIPPED", "INTERNAL_ERROR",
     "SUCCESS_WITH_FAILURES", "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "EXCLUDED", "DISABLED",
     "MAXIMUM_CONCURRENT_RUNS_REACHED"}
)  # fmt: skip


_RUN_MESSAGES = {
    "SUCCESS": "",
    "FAILED": "Workload failed, see run output for details",
    "TIMEDOUT": "Run timed out.",
    "CANCELED": "Run cancelled.",
    "SKIPPED": "Skipping this run because the limit of 1 maximum concurrent runs has been reached.",
    "INTERNAL_ERROR": "An internal error occurred while running the job.",
}


_TERMINATION = {  # result state -> (termination code, termination type)
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "SUCCESS_WITH_FAILURES": ("SUCCESS_WITH_FAILURES", "SUCCESS"),
    "CANCELED": ("CANCELED", "SUCCESS"),
    "SKIPPED": ("SKIPPED", "SUCCESS"),
    "EXCLUDED": ("SUCCESS", "SUCCESS"),
    "INTERNAL_ERROR": ("INTERNAL_ERROR", "INTERNAL_ERROR"),
    "DISABLED": ("DISABLED", "CLIENT_ERROR"),
    "MAXIMUM_CONCURRENT_RUNS_REACHED": ("MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"),
}


_TASKS_PER_PAGE = 100


_MAX_NOTEBOOK_RESULT = 5 * 1024 * 1024


@dataclass(frozen=True)
class RunScript:
    result_state: str
    state_message: str | None
    queued_polls: int
    pending_polls: int
    running_polls: int
    notebook_result: NotebookResult
    error: str | None
    error_trace: str | None
    logs: str | None

    def __post_init__(self) -> None:
        if self.result_state not in _RUN_RESULT_STATES:
            raise ValueError(
                f"unknown result_state {self.result_state!r}; use one of "
                f"{sorted(_RUN_RESULT_STATES)}"
            )
        check_at_least(
            0,
            queued_polls=self.queued_polls,
            pending_polls=self.pending_polls,
            running_polls=self.running_polls,
        )


@dataclass
class Job:
    job_id: int
    name: str
    settings: dict[str, Any]
    created_time: float
    creator: str
    script: RunScript
    listed: bool = True


@dataclass
class SubmitRule:
    pattern: re.Pattern[str] | None
    script: RunScript
    times: int | None


@dataclass
class _TaskRun:
    run_id: int
    task_key: str
    spec: dict[str, Any]
    parameters: dict[str, str]


@dataclass
class _Run:
    run_id: int
    job_id: int
    run_name: str
    run_type: str
    api_version: str
    request: dict[str, Any]
    tasks: list[_TaskRun]
    script: RunScript
    idempotency_token: str | None
    start_time: float
    phase: str = "QUEUED"
    phase_polls: int = 0
    end_time: float | None = None
    result_state: str | None = None
    state_message: str = ""
    cancelled_by_client: bool = False
    polls: int = 0
    cancels: int = 0
    resubmits: int = 0


class Jobs(RoutedService):
    """Jobs, their runs and one-time runs."""

    ROUTE = re.compile(
        r"^/api/(?P<version>2\.[12])/jobs/"
        r"(?P<action>list|get|run-now|runs/submit|runs/get|runs/get-output|runs/cancel)/?$"
    )

    def __init__(self, fake: FakeDatabricks) -> None:
        super().__init__(fake)
        self.jobs: dict[int, Job] = {}
        self.runs: dict[int, _Run] = {}
        self.task_runs: dict[int, tuple[_Run, _TaskRun]] = {}
        self.tokens: dict[str, int] = {}
        self.submit_rules: list[SubmitRule] = []
        self.next_job_id = 1001
        self.next_run_id = 455644833

    # -- scripting --

    def add_job(self, job: Job) -> int:
        with self.fake._lock:
            if job.job_id in self.jobs:
                raise ValueError(f"job {job.job_id} exists already")
            self.jobs[job.job_id] = job
            self.next_job_id = max(self.next_job_id, job.job_id + 1)
        return job.job_id

    def new_job_id(self) -> int:
        with self.fake._lock:
            job_id = self.next_job_id
            self.next_job_id += 1
            return job_id

    def info(self, run: _Run) -> RunInfo:
        self._settle(run)
        return snapshot(
            RunInfo,
            run,
            life_cycle_state=run.phase,
            task_run_ids={task.task_key: task.run_id for task in run.tasks},
            request=json_copy(run.request),
        )

    # -- progression --

    def _settle(self, run: _Run) -> None:
        script = run.script
        while True:
            if run.phase == "QUEUED" and run.phase_polls >= script.queued_polls:
                run.phase, run.phase_polls = "PENDING", 0
            elif run.phase == "PENDING" and run.phase_polls >= script.pending_polls:
                run.phase, run.phase_polls = "RUNNING", 0
            elif run.phase == "RUNNING" and run.phase_polls >= script.running_polls:
                self._finish(run, script.result_state, script.state_message)
            elif run.phase == "TERMINATING" and run.phase_polls >= self.fake.run_cancel_polls:
                self._finish(run, "CANCELED", None)
            else:
                return

    def _finish(self, run: _Run, result_state: str, message: str | None) -> None:
        run.phase = {"SKIPPED": "SKIPPED", "INTERNAL_ERROR": "INTERNAL_ERROR"}.get(
            result_state, "TERMINATED"
        )
        run.result_state = {"SKIPPED": None, "INTERNAL_ERROR": "FAILED"}.get(
            result_state, result_state
        )
        run.state_message = _RUN_MESSAGES.get(result_state, "") if message is None else message
        run.end_time = self.fake.now()
        run.phase_polls = 0

    # -- requests --

    def handle(self, request: RecordedRequest, route: re.Match[str]) -> FakeResponse:
        version, action = route["version"], route["action"]
        method = "GET" if action in ("list", "get", "runs/get", "runs/get-output") else "POST"
        if request.method != method:
            return not_found_endpoint(request)
        with self.fake._lock:
            if action == "list":
                return self._list(request.query)
            if action == "get":
                job = self._job(request.query.get("job_id"))
                return (
                    job
                    if isinstance(job, FakeResponse)
                    else json_response(200, self._job_payload(job, True))
                )
            if action in ("runs/get", "runs/get-output"):
                found = self._run(request.query.get("run_id"))
                if isinstance(found, FakeResponse):
                    return found
                run, task = found
                if action == "runs/get":
                    return self._get_run(run, task, version, request.query.get("page_token"))
                return self._get_output(run, task)
            body = json_object(request)
            if isinstance(body, FakeResponse):
                return body
            if action == "run-now":
                return self._run_now(body, version)
            if action == "runs/submit":
                return self._submit(body, version)
            found = self._run(body.get("run_id"))
            if isinstance(found, FakeResponse):
                return found
            return self._cancel(found[0])

    def _job(self, raw: Any) -> Job | FakeResponse:
        job_id = integer(raw)
        if job_id is None:
            return invalid(f"Invalid job_id: {json.dumps(raw)}; it must be an integer")
        job = self.jobs.get(job_id)
        if job is None or not job.listed:
            return invalid(f"Job {job_id} does not exist.")
        return job

    def _run(self, raw: Any) -> tuple[_Run, _TaskRun | None] | FakeResponse:
        run_id = integer(raw)
        if run_id is None:
            return invalid(f"Invalid run_id: {json.dumps(raw)}; it must be an integer")
        if run_id in self.runs:
            return self.runs[run_id], None
        if run_id in self.task_runs:
            return self.task_runs[run_id]
        return invalid(f"Run {run_id} does not exist.")

    def _list(self, query: dict[str, str]) -> FakeResponse:
        limit = integer(query.get("limit", "20"))
        if limit is None or not 1 <= limit <= 100:
            return invalid(f"limit must be between 1 and 100, got {query.get('limit')!r}")
        name = query.get("name")
        jobs = [
            job
            for job in self.jobs.values()
            if job.listed and (name is None or job.name.lower() == name.lower())
        ]
        scope = f"jobs:{(name or '').lower()}"
        offset = page_offset(query.get("page_token"), scope)
        if isinstance(offset, FakeResponse):
            return offset
        if "offset" in query and not query.get("page_token"):  # the deprecated paging
            given = integer(query["offset"])
            if given is None or given < 0:
                return invalid(f"offset must be a non-negative integer, got {query['offset']!r}")
            offset = given
        expand = flag(query.get("expand_tasks", "false"))
        page = jobs[offset : offset + limit]
        payload: dict[str, Any] = {}
        if page:
            payload["jobs"] = [self._job_payload(job, expand) for job in page]
        payload["has_more"] = offset + limit < len(jobs)
        payload.update(page_links(scope, offset, limit, len(jobs)))
        return json_response(200, payload)

    def _job_payload(self, job: Job, with_tasks: bool) -> dict[str, Any]:
        settings = json_copy(job.settings)
        if not with_tasks:
            settings.pop("tasks", None)
            settings.pop("job_clusters", None)
        return {
            "job_id": job.job_id,
            "creator_user_name": job.creator,
            "run_as_user_name": job.creator,
            "created_time": ms(job.created_time),
            "settings": settings,
        }

    def _check_token(self, body: dict[str, Any]) -> str | FakeResponse | None:
        token = body.get("idempotency_token")
        if token is None:
            return None
        if not isinstance(token, str) or not token or len(token) > 64:
            return invalid(
                f"idempotency_token must be a string of 1 to 64 characters, got {json.dumps(token)}"
            )
        return token

    def _resubmitted(self, token: str | None) -> FakeResponse | None:
        if token is None or token not in self.tokens:
            return None
        run = self.runs[self.tokens[token]]
        run.resubmits += 1
        payload: dict[str, Any] = {"run_id": run.run_id}
        if run.run_type == "JOB_RUN":
            payload["number_in_job"] = run.run_id
        return json_response(200, payload)

    def _run_now(self, body: dict[str, Any], version: str) -> FakeResponse:
        if "job_id" not in body:
            return invalid("Missing required field: job_id")
        job = self._job(body.get("job_id"))
        if isinstance(job, FakeResponse):
            return job
        token = self._check_token(body)
        if isinstance(token, FakeResponse):
            return token
        for name in ("notebook_params", "job_parameters"):
            value = body.get(name)
            if value is not None and (
                not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
            ):
                return invalid(f"{name} must be an object of strings, got {json.dumps(value)}")
        repeated = self._resubmitted(token)
        if repeated is not None:
            return repeated
        overrides = {**(body.get("job_parameters") or {}), **(body.get("notebook_params") or {})}
        run = self._start(
            job.job_id,
            job.name,
            "JOB_RUN",
            version,
            body,
            list(job.settings.get("tasks", [])),
            job.script,
            token,
            overrides,
        )
        return json_response(200, {"run_id": run.run_id, "number_in_job": run.run_id})

    def _submit(self, body: dict[str, Any], version: str) -> FakeResponse:
        token = self._check_token(body)
        if isinstance(token, FakeResponse):
            return token
        tasks = body.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            return invalid("tasks must be a non-empty list of task settings")
        keys: set[str] = set()
        for task in tasks:
            key = task.get("task_key") if isinstance(task, dict) else None
            if not isinstance(key, str) or not key:
                return invalid(f"every task needs a task_key: {json.dumps(task)}")
            if key in keys:
                return invalid(f"task_key {key!r} is used by more than one task")
            keys.add(key)
            cluster_id = task.get("existing_cluster_id")
            if cluster_id is not None and cluster_id not in self.fake._clusters.clusters:
                return invalid(f"Cluster {cluster_id} does not exist")
        run_name = body.get("run_name", "Untitled")
        if not isinstance(run_name, str):
            return invalid("run_name must be a string")
        timeout = body.get("timeout_seconds")
        if timeout is not None and (integer(timeout) is None or int(timeout) < 0):
            return invalid(f"timeout_seconds must be a non-negative integer, got {timeout!r}")
        repeated = self._resubmitted(token)
        if repeated is not None:
            return repeated
        script = self._submit_script(run_name, tasks)
        job_id = self.next_job_id
        self.next_job_id += 1
        run = self._start(job_id, run_name, "SUBMIT_RUN", version, body, tasks, script, token, {})
        return json_response(200, {"run_id": run.run_id})

    def _submit_script(self, run_name: str, tasks: list[dict[str, Any]]) -> RunScript:
        texts = [run_name]
        for task in tasks:
            notebook = task.get("notebook_task")
            if isinstance(notebook, dict):
                texts.append(str(notebook.get("notebook_path", "")))
                parameters = notebook.get("base_parameters")
                if isinstance(parameters, dict):
                    texts += [str(value) for value in parameters.values()]
        rule = take_rule(
            self.submit_rules,
            lambda rule: rule.pattern is None or any(rule.pattern.search(t) for t in texts),
        )
        if rule is not None:
            return rule.script
        return RunScript("SUCCESS", None, 0, 0, 0, None, None, None, None)

    def _start(
        self,
        job_id: int,
        run_name: str,
        run_type: str,
        version: str,
        body: dict[str, Any],
        tasks: list[dict[str, Any]],
        script: RunScript,
        token: str | None,
        overrides: dict[str, str],
    ) -> _Run:
        run_id = self.next_run_id
        self.next_run_id += len(tasks) + 1
        task_runs = []
        for number, spec in enumerate(tasks, start=1):
            notebook = spec.get("notebook_task")
            base = notebook.get("base_parameters") if isinstance(notebook, dict) else None
            parameters = {str(k): str(v) for k, v in (base or {}).items()}
            parameters.update(overrides)
            task_runs.append(
                _TaskRun(run_id + number, str(spec.get("task_key")), dict(spec), parameters)
            )
        run = _Run(
            run_id=run_id,
            job_id=job_id,
            run_name=run_name,
            run_type=run_type,
            api_version=version,
            request=json_copy(body),
            tasks=task_runs,
            script=script,
            idempotency_token=token,
            start_time=self.fake.now(),
        )
        self.runs[run_id] = run
        for task_run in task_runs:
            self.task_runs[task_run.run_id] = (run, task_run)
        if token is not None:
            self.tokens[token] = run_id
        self._settle(run)
        return run

    def _get_run(
        self, run: _Run, task: _TaskRun | None, version: str, page_token: str | None
    ) -> FakeResponse:
        self._settle(run)
        run.polls += 1
        if task is not None:
            payload = self._task_view(run, task)
        else:
            payload = self._run_payload(run)
            if version == "2.2":
                scope = f"run:{run.run_id}"
                offset = page_offset(page_token, scope)
                if isinstance(offset, FakeResponse):
                    return offset
                payload["tasks"] = payload["tasks"][offset : offset + _TASKS_PER_PAGE]
                links = page_links(scope, offset, _TASKS_PER_PAGE, len(run.tasks))
                if "next_page_token" in links:
                    payload["next_page_token"] = links.pop("next_page_token")
                    payload["has_more"] = True
                payload.update(links)
        run.phase_polls += 1
        return json_response(200, payload)

    def _get_output(self, run: _Run, task: _TaskRun | None) -> FakeResponse:
        self._settle(run)
        if task is None:
            if len(run.tasks) != 1:
                return invalid(
                    "Retrieving the output of runs with multiple tasks is not supported. Please "
                    "retrieve the output of each individual task run instead."
                )
            task = run.tasks[0]
        payload: dict[str, Any] = {"metadata": self._task_view(run, task)}
        if run.phase not in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
            return json_response(200, payload)
        script = run.script
        if "notebook_task" in task.spec and run.phase != "SKIPPED":
            result = _notebook_result(script.notebook_result, task)
            output: dict[str, Any] = {}
            if result is not None:
                encoded = result.encode()
                truncated = len(encoded) > _MAX_NOTEBOOK_RESULT
                if truncated:
                    result = encoded[:_MAX_NOTEBOOK_RESULT].decode("utf-8", "ignore")
                output = {"result": result, "truncated": truncated}
            payload["notebook_output"] = output
        if run.result_state not in (None, "SUCCESS", "SUCCESS_WITH_FAILURES", "EXCLUDED"):
            payload["error"] = script.error if script.error is not None else run.state_message
            if script.error_trace is not None:
                payload["error_trace"] = script.error_trace
        if script.logs is not None:
            payload["logs"] = script.logs
            payload["logs_truncated"] = False
        return json_response(200, payload)

    def _cancel(self, run: _Run) -> FakeResponse:
        run.cancels += 1
        self._settle(run)
        if run.phase in ("QUEUED", "PENDING", "RUNNING"):
            run.phase, run.phase_polls, run.cancelled_by_client = "TERMINATING", 0, True
            run.state_message = "Run cancellation requested."
            self._settle(run)
        return json_response(200, {})

    # -- payloads --

    def _state(self, run: _Run) -> dict[str, Any]:
        state: dict[str, Any] = {
            "life_cycle_state": run.phase,
            "state_message": run.state_message,
            "user_cancelled_or_timedout": run.cancelled_by_client
            or (run.result_state in ("CANCELED", "TIMEDOUT")),
        }
        if run.result_state is not None:
            state["result_state"] = run.result_state
        if run.phase == "QUEUED":
            state["queue_reason"] = "Queued due to reaching maximum concurrent runs of 1."
        return state

    def _status(self, run: _Run) -> dict[str, Any]:
        if run.phase in ("QUEUED", "PENDING", "RUNNING", "TERMINATING"):
            return {"state": run.phase}
        scripted = "SKIPPED" if run.phase == "SKIPPED" else run.script.result_state
        if run.phase == "INTERNAL_ERROR":
            scripted = "INTERNAL_ERROR"
        code, kind = _TERMINATION.get(scripted, ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
        if run.cancelled_by_client:
            code, kind = "USER_CANCELED", "SUCCESS"
        details = {"code": code, "type": kind}
        if run.state_message:
            details["message"] = run.state_message
        return {"state": "TERMINATED", "termination_details": details}

    def _timing(self, run: _Run) -> dict[str, Any]:
        end = run.end_time
        running = max(0, ms((end if end is not None else self.fake.now()) - run.start_time))
        return {
            "start_time": ms(run.start_time),
            "end_time": 0 if end is None else ms(end),
            "setup_duration": 0,
            "execution_duration": running if end is not None else 0,
            "cleanup_duration": 0,
            "run_duration": running,
        }

    def _page_url(self, run: _Run, run_id: int) -> str:
        return f"{self.fake.url}/?o={self.fake.workspace_id}#job/{run.job_id}/run/{run_id}"

    def _task_payload(self, run: _Run, task: _TaskRun) -> dict[str, Any]:
        return {
            **{k: v for k, v in task.spec.items() if k != "task_key"},
            "run_id": task.run_id,
            "task_key": task.task_key,
            "state": self._state(run),
            "status": self._status(run),
            "attempt_number": 0,
            "run_page_url": self._page_url(run, task.run_id),
            **self._timing(run),
        }

    def _run_payload(self, run: _Run) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "job_id": run.job_id,
            "run_id": run.run_id,
            "original_attempt_run_id": run.run_id,
            "run_name": run.run_name,
            "creator_user_name": self.fake.user_name,
            "run_type": run.run_type,
            "state": self._state(run),
            "status": self._status(run),
            "run_page_url": self._page_url(run, run.run_id),
            "format": "MULTI_TASK",
            "attempt_number": 0,
            "trigger": "ONE_TIME",
            "tasks": [self._task_payload(run, task) for task in run.tasks],
            **self._timing(run),
        }
        if run.run_type == "JOB_RUN":
            payload["number_in_job"] = run.run_id
        overriding = {
            name: run.request[name]
            for name in ("notebook_params", "python_params", "jar_params", "sql_params")
            if name in run.request
        }
        if overriding:
            payload["overriding_parameters"] = overriding
        if isinstance(run.request.get("job_parameters"), dict):
            payload["job_parameters"] = [
                {"name": name, "value": value}
                for name, value in run.request["job_parameters"].items()
            ]
        if run.idempotency_token is not None:
            payload["idempotency_token"] = run.idempotency_token
        return payload

    def _task_view(self, run: _Run, task: _TaskRun) -> dict[str, Any]:
        """A task run as runs/get and get-output describe it on its own."""
        view = {
            "job_id": run.job_id,
            "run_id": task.run_id,
            "parent_run_id": run.run_id,
            "run_name": task.task_key,
            "task_key": task.task_key,
            "creator_user_name": self.fake.user_name,
            "run_type": run.run_type,
            "state": self._state(run),
            "status": self._status(run),
            "run_page_url": self._page_url(run, task.run_id),
            "attempt_number": 0,
            **{k: v for k, v in task.spec.items() if k != "task_key"},
            **self._timing(run),
        }
        if run.run_type == "JOB_RUN":
            view["number_in_job"] = run.run_id
        return view


def _notebook_result(result: NotebookResult, task: _TaskRun) -> str | None:
    if result is None or isinstance(result, str):
        return result
    if isinstance(result, Mapping):
        return result.get(task.task_key)
    return result(dict(task.parameters))
