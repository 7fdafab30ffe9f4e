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
