"""All-purpose clusters (``/api/2.0`` and ``/api/2.1`` ``clusters/get`` and ``clusters/start``):
their states, and whether Command Execution calls may use them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aadap.testing._server import FakeResponse, RecordedRequest, json_response
from aadap.testing.databricks._errors import api_error, invalid, legacy_error
from aadap.testing.databricks._service import RoutedService, ms, snapshot
from aadap.testing.databricks._validation import request_fields, required_string

if TYPE_CHECKING:
    from aadap.testing.databricks.fake import FakeDatabricks


DEFAULT_CLUSTER_ID = "0123-456789-abcde123"
"""The id of the one all-purpose cluster (RUNNING) a :class:`FakeDatabricks` has by default."""


@dataclass(frozen=True)
class ClusterInfo:
    """What the fake knows about one all-purpose cluster (a snapshot; ask
    :meth:`FakeDatabricks.cluster` again for fresh counters)."""

    cluster_id: str
    name: str
    state: str
    """PENDING, RUNNING, RESTARTING, RESIZING, TERMINATING, TERMINATED, ERROR or UNKNOWN."""
    state_message: str
    polls: int
    """``clusters/get`` requests answered."""
    starts: int
    """``clusters/start`` requests received (refused ones included)."""


_CLUSTER_STATES = frozenset(
    {
        "PENDING",
        "RUNNING",
        "RESTARTING",
        "RESIZING",
        "TERMINATING",
        "TERMINATED",
        "ERROR",
        "UNKNOWN",
    }
)


@dataclass
class _Cluster:
    cluster_id: str
    name: str
    state: str
    state_message: str
    pending_polls: int | None
    spark_version: str
    start_time: float
    terminated_time: float | None = None
    phase_polls: int = 0
    polls: int = 0
    starts: int = 0


class Clusters(RoutedService):
    """The workspace's all-purpose clusters."""

    ROUTE = re.compile(r"^/api/2\.[01]/clusters/(?P<action>get|start)/?$")

    def __init__(self, fake: FakeDatabricks) -> None:
        super().__init__(fake)
        self.clusters: dict[str, _Cluster] = {}

    def add(
        self,
        cluster_id: str,
        state: str,
        *,
        name: str | None,
        pending_polls: int | None,
        spark_version: str,
        state_message: str | None,
    ) -> None:
        state = _cluster_state(state)
        if pending_polls is not None and pending_polls < 0:
            raise ValueError(f"pending_polls must be >= 0 or None, got {pending_polls}")
        now = self.fake.now()
        cluster = _Cluster(
            cluster_id=cluster_id,
            name=name or f"cluster-{cluster_id}",
            state=state,
            state_message=_cluster_message(state) if state_message is None else state_message,
            pending_polls=pending_polls,
            spark_version=spark_version,
            start_time=now,
            terminated_time=now if state == "TERMINATED" else None,
        )
        with self.fake._lock:
            if cluster_id in self.clusters and state != "RUNNING":
                self.fake._commands.cluster_stopped(cluster_id)
            self.clusters[cluster_id] = cluster
            self._settle(cluster)

    def set_state(self, cluster_id: str, state: str, message: str | None) -> None:
        state = _cluster_state(state)
        with self.fake._lock:
            cluster = self.clusters[cluster_id]
            self._enter(cluster, state, message)

    def _enter(self, cluster: _Cluster, state: str, message: str | None = None) -> None:
        if state in ("TERMINATING", "TERMINATED", "RESTARTING", "ERROR", "UNKNOWN"):
            self.fake._commands.cluster_stopped(cluster.cluster_id)
        cluster.state = state
        cluster.state_message = _cluster_message(state) if message is None else message
        cluster.phase_polls = 0
        if state == "PENDING":
            cluster.start_time = self.fake.now()
        if state == "TERMINATED":
            cluster.terminated_time = self.fake.now()
        self._settle(cluster)

    def _settle(self, cluster: _Cluster) -> None:
        if (
            cluster.state == "PENDING"
            and cluster.pending_polls is not None
            and cluster.phase_polls >= cluster.pending_polls
        ):
            cluster.state, cluster.state_message, cluster.phase_polls = "RUNNING", "", 0

    def touch(self, cluster: _Cluster) -> None:
        """One more request answered about the cluster: a PENDING one may now turn RUNNING."""
        cluster.phase_polls += 1
        self._settle(cluster)

    def info(self, cluster: _Cluster) -> ClusterInfo:
        return snapshot(ClusterInfo, cluster)

    def handle(self, request: RecordedRequest, route: re.Match[str]) -> FakeResponse:
        fields = request_fields(request, "GET" if route["action"] == "get" else "POST")
        if isinstance(fields, FakeResponse):
            return fields
        with self.fake._lock:
            found = self._find(fields)
            if isinstance(found, FakeResponse):
                return found
            if route["action"] == "get":
                found.polls += 1
                payload = self._payload(found)
                self.touch(found)
                return json_response(200, payload)
            found.starts += 1
            if found.state != "TERMINATED":
                return api_error(
                    400,
                    "INVALID_STATE",
                    f"Cluster {found.cluster_id} is in unexpected state {found.state.title()}.",
                )
            self._enter(found, "PENDING")
        return json_response(200, {})

    def _find(self, fields: dict[str, Any]) -> _Cluster | FakeResponse:
        cluster_id = required_string(fields, "cluster_id")
        if isinstance(cluster_id, FakeResponse):
            return cluster_id
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            return invalid(f"Cluster {cluster_id} does not exist")
        return cluster

    def _payload(self, cluster: _Cluster) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "cluster_id": cluster.cluster_id,
            "cluster_name": cluster.name,
            "spark_version": cluster.spark_version,
            "node_type_id": "i3.xlarge",
            "driver_node_type_id": "i3.xlarge",
            "num_workers": 1,
            "autotermination_minutes": 120,
            "creator_user_name": self.fake.user_name,
            "single_user_name": self.fake.user_name,
            "data_security_mode": "SINGLE_USER",
            "cluster_source": "UI",
            "state": cluster.state,
            "state_message": cluster.state_message,
            "start_time": ms(cluster.start_time),
            "default_tags": {
                "Vendor": "Databricks",
                "Creator": self.fake.user_name,
                "ClusterName": cluster.name,
                "ClusterId": cluster.cluster_id,
            },
        }
        if cluster.state == "RUNNING":
            payload["spark_context_id"] = int(
                hashlib.sha256(cluster.cluster_id.encode()).hexdigest()[:15], 16
            )
        if cluster.state == "TERMINATED" and cluster.terminated_time is not None:
            payload["terminated_time"] = ms(cluster.terminated_time)
            payload["termination_reason"] = {
                "code": "INACTIVITY",
                "type": "SUCCESS",
                "parameters": {"inactivity_duration_min": "120"},
            }
        return payload

    def require_running(self, cluster_id: str) -> FakeResponse | None:
        """None when the cluster exists and runs, else the 1.2 API's error (the request counts
        as one about the cluster, so a PENDING cluster may turn RUNNING for the next one)."""
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            return legacy_error(400, f"Cluster {cluster_id} does not exist")
        if cluster.state == "RUNNING":
            return None
        state = cluster.state
        self.touch(cluster)
        return legacy_error(
            400,
            f"ClusterNotReadyException: Cluster {cluster_id} is in state {state}; "
            "commands need a RUNNING cluster",
        )


def _cluster_state(state: str) -> str:
    upper = state.upper()
    if upper not in _CLUSTER_STATES:
        raise ValueError(f"unknown cluster state {state!r}; use one of {sorted(_CLUSTER_STATES)}")
    return upper


def _cluster_message(state: str) -> str:
    return {
        "PENDING": "Starting Spark",
        "RESTARTING": "Restarting Spark",
        "RESIZING": "Resizing cluster",
        "TERMINATING": "Terminating cluster",
        "TERMINATED": "Inactive cluster terminated (inactive for 120 minutes).",
    }.get(state, "")
