"""Shared fixtures: a real PostgreSQL server for the session, a clean settings environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import aadap
from aadap.testing import PostgresCluster


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a running PostgreSQL server: the one scripts/test.sh started (also used by the
    C++ tests), or a private one started here for a plain `pytest` run."""
    url = os.environ.get("AADAP_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with PostgresCluster() as cluster:
        yield cluster.url


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No AADAP_* variables, an empty working directory (no .env), HOME in tmp_path, and a
    fresh get_settings() cache before and after. Yields the working directory."""
    for name in list(os.environ):
        if name.upper().startswith("AADAP_") and name != "AADAP_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    aadap.get_settings.cache_clear()
    yield work
    aadap.get_settings.cache_clear()
    aadap.route_logs_to_python(False)
    aadap.configure_logging(aadap.Settings.from_env({}, dotenv=None))
