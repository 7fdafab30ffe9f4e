"""aadap.testing.PostgresCluster: a real, private, disposable server."""

from __future__ import annotations

import os
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
