"""Shared fixtures: a real PostgreSQL server for the session, a clean settings environment."""

from __future__ import annotations

import http.server
import os
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

import aadap
from aadap.testing import PostgresCluster, create_database, psql


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


class RawRefusedError(Exception):
    """The database itself refused a raw statement (a trigger or a constraint)."""


@dataclass
class Store:
    """One backend of the conformance suite: its URL and raw access to its tables."""

    backend: str  # sqlite-file, sqlite-memory, postgres
    url: str

    def engine(self, settings: aadap.Settings | None = None) -> aadap.Engine:
        return aadap.Engine.open(self.url, settings=settings or TEST_SETTINGS)

    def execute(self, sql: str) -> str:
        """Runs raw SQL past the engine; RawRefusedError when the database refuses it."""
        if self.backend == "postgres":
            try:
                return psql(self.url, sql)
            except aadap.AadapError as error:
                raise RawRefusedError(str(error)) from None
        if self.backend == "sqlite-memory":  # raw tests take shared_store, which has none
            raise ValueError("a private in-memory database has no raw access: use shared_store")
        import sqlite3

        with sqlite3.connect(self.url.removeprefix("sqlite:///")) as db:
            try:
                return "\n".join("|".join(map(str, row)) for row in db.execute(sql))
            except sqlite3.DatabaseError as error:
                raise RawRefusedError(str(error)) from None


TEST_SETTINGS = aadap.Settings.from_env({"HOME": "/nonexistent"}, dotenv=None)


def _store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    if backend == "postgres":
        return Store(backend, create_database(request.getfixturevalue("postgres_url")))
    if backend == "sqlite-file":
        return Store(backend, f"sqlite:///{tmp_path}/store.db")
    return Store(backend, "sqlite://")


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Every backend of the store conformance suite."""
    return _store(request.param, tmp_path, request)


@pytest.fixture(params=["sqlite-file", "postgres"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The backends several engines or processes can open at once (not private :memory:)."""
    return _store(request.param, tmp_path, request)


@pytest.fixture
def engine(store: Store) -> aadap.Engine:
    return store.engine()


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


@dataclass
class HttpsServer:
    """A local HTTPS server whose certificate is signed by a throwaway test CA."""

    url: str
    ca_file: Path
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture(scope="session")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    """Answers every GET with 401 and a JSON error (as a cloud API would without credentials)
    and records the request headers."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = tmp_path_factory.mktemp("tls") / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    seen: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = b'{"error": {"code": "Unauthorized"}}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield HttpsServer(f"https://127.0.0.1:{server.server_address[1]}", ca_file, seen)
    server.shutdown()
    server.server_close()
