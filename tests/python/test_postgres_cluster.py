"""aadap.testing.PostgresCluster: a real, private, disposable server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import aadap
from aadap import _core
from aadap.testing import PostgresCluster


def test_session_server_is_reachable(postgres_url: str) -> None:
    result = _core.probe_store(_core.DatabaseUrl(postgres_url), "")
    assert result.reachable, result.detail
    assert result.server_version


def test_cluster_lifecycle() -> None:
    cluster = PostgresCluster(database="lifecycle")
    with pytest.raises(aadap.AadapError, match="not running"):
        _ = cluster.url
    with cluster:
        assert cluster.url.endswith("/lifecycle")
        assert _core.probe_store(_core.DatabaseUrl(cluster.url), "").reachable
        url = cluster.url
    assert repr(cluster) == "PostgresCluster(stopped)"
    assert not _core.probe_store(_core.DatabaseUrl(url), "", 2).reachable
    cluster.stop()  # idempotent


def test_command_wrapper_exports_the_url(tmp_path: Path) -> None:
    script = "import os; print(os.environ['AADAP_TEST_POSTGRES_URL'])"
    out = subprocess.run(
        [sys.executable, "-m", "aadap.testing.postgres", "--", sys.executable, "-c", script],
        capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("postgresql://aadap@127.0.0.1:")


def test_a_terminated_wrapper_stops_its_server() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "aadap.testing.postgres", "--", "sleep", "120"],
        stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    ) as wrapper:  # fmt: skip
        assert wrapper.stderr is not None
        line = ""
        while "PostgreSQL running at" not in line:  # after any warnings of the interpreter
            line = wrapper.stderr.readline()
            assert line, "the wrapper ended before its server ran"
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        wrapper.terminate()
        assert wrapper.wait(timeout=60) == 128 + signal.SIGTERM
    with pytest.raises(ConnectionRefusedError):  # nothing listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
