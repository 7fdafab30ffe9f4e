"""The machinery shared by the fake cloud servers: a threaded HTTP/1.1 server on 127.0.0.1,
plain or HTTPS with one throwaway test CA, request recording and scriptable faults.

Subclasses (:class:`~aadap.testing.FakeEntra`, :class:`~aadap.testing.FakeAzureOpenAI`) answer
requests in :meth:`FakeServer._handle` and supply the service's error bodies in
:meth:`FakeServer._error_response`; everything else (keep-alive, TLS, chunked streaming,
counters, faults) lives here.

Only the standard library is used, plus ``trustme`` for HTTPS (``pip install 'aadap[testing]'``).
"""

from __future__ import annotations

import abc
import atexit
import base64
import binascii
import contextlib
import itertools
import json
import re
import shutil
import socket
import socketserver
import ssl
import struct
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qs, parse_qsl, unquote_plus, urlsplit

__all__ = [
    "FakeResponse",
    "FakeServer",
    "Headers",
    "PathFilter",
    "RecordedRequest",
    "TestCertificateAuthority",
    "json_response",
    "test_authority",
]

PathFilter = str | re.Pattern[str] | None
"""Which requests a fault applies to: every request (None), those whose path contains a
substring (str), or those whose path a compiled regular expression matches (``re.search``)."""

_Self = TypeVar("_Self", bound="FakeServer")


class TestCertificateAuthority:
    """The process-wide throwaway certificate authority of the HTTPS fakes (built with
    ``trustme``), and the one server certificate it signs, valid for ``127.0.0.1`` and
    ``localhost``. Get it with :func:`test_authority`; every fake of the process shares it, so
    one CA file trusts them all. Thread-safe (immutable once built)."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self) -> None:
        try:
            import trustme
        except ImportError as error:
            raise ImportError(
                "an HTTPS fake server (tls=True) needs the 'trustme' package: "
                "pip install 'aadap[testing]' (or pip install trustme)"
            ) from error
        ca = trustme.CA(organization_name="aadap test CA")
        certificate = ca.issue_cert("127.0.0.1", "localhost")
        directory = Path(tempfile.mkdtemp(prefix="aadap-test-ca-"))
        atexit.register(shutil.rmtree, directory, True)
        self.ca_path = str(directory / "ca.pem")
        """PEM file of the CA certificate, for clients to trust (``verify=``, ``cafile=``,
        ``AADAP_CA_BUNDLE``)."""
        ca.cert_pem.write_to_path(self.ca_path)
        self._server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(self._server_context)

    def server_context(self) -> ssl.SSLContext:
        """The TLS context the fakes serve with (the certificate and its chain)."""
        return self._server_context

    def client_context(self) -> ssl.SSLContext:
        """A new client-side context that trusts this CA and nothing else (hostname checks
        on), e.g. ``httpx.Client(verify=authority.client_context())``."""
        return ssl.create_default_context(cafile=self.ca_path)


_authority: TestCertificateAuthority | None = None
_authority_lock = threading.Lock()


def test_authority() -> TestCertificateAuthority:
    """The process-wide test CA, created on first use (ImportError naming the package to
    install when ``trustme`` is missing). Thread-safe."""
    global _authority
    with _authority_lock:
        if _authority is None:
            _authority = TestCertificateAuthority()
        return _authority


test_authority.__test__ = False  # type: ignore[attr-defined]  # not a pytest test function


class Headers(Mapping[str, str]):
    """Read-only HTTP headers with case-insensitive names; repeated headers are joined with
    ``", "``. Iteration yields the names as the client spelled them."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in items:
            key = name.lower()
            if key in self._items:
                value = f"{self._items[key][1]}, {value}"
            self._items[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it. ``time`` is ``time.monotonic()`` at arrival (after
    the body was read), so the differences between the arrival times of a client's attempts are
    its retry delays (see :meth:`FakeServer.intervals`). ``connection`` numbers the TCP
    connection it came on (1 for the first connection the fake accepted)."""

    method: str
    path: str
    query: dict[str, str]
    """Query parameters, one value per name (the last one when a name repeats)."""
    headers: Headers
    body: bytes
    time: float
    connection: int

    def json(self) -> Any:
        """The body parsed as JSON (ValueError when it is not JSON)."""
        return json.loads(self.body)


@dataclass
class FakeResponse:
    """A response a fake sends: a body with Content-Length, or ``chunks`` sent with chunked
    transfer encoding as they are produced (server-sent events)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> FakeResponse:
    """A JSON response (``Content-Type: application/json; charset=utf-8``)."""
    return FakeResponse(
        status,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


# -- shared by the fakes' OAuth token endpoints and their signed (JWT-like) tokens --------------


def b64url(data: bytes) -> str:
    """base64url without padding, as JWTs use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of base64url text with or without its padding (binascii.Error or ValueError
    when it is not base64url)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_json(value: Mapping[str, Any]) -> str:
    """Compact JSON of ``value``, base64url-encoded (a JWT header or claims segment)."""
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def form_fields(request: RecordedRequest) -> dict[str, str]:
    """The fields of a form-encoded body (the first value of each), as a token endpoint reads
    them; empty unless the Content-Type is ``application/x-www-form-urlencoded``."""
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    parsed = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


def client_credentials(
    request: RecordedRequest, form: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """(client id, secret) of a token request: from ``Authorization: Basic`` when it carries
    them, else the form's ``client_id`` and ``client_secret``."""
    basic = _basic_credentials(request.headers.get("Authorization", ""))
    if basic is not None:
        return basic
    return form.get("client_id"), form.get("client_secret")


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(client id, secret) from ``Authorization: Basic``; both form-url-encoded (RFC 6749)."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


@dataclass
class _Fault:
    kind: Literal["fail", "reset", "delay", "malformed"]
    remaining: int
    path: PathFilter
    status: int = 0
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def matches(self, path: str) -> bool:
        if self.path is None:
            return True
        if isinstance(self.path, str):
            return self.path in path
        return self.path.search(path) is not None


class FakeServer(abc.ABC):
    """Base of the fake cloud servers: a threaded HTTP/1.1 server bound to 127.0.0.1 on a free
    port, with keep-alive connections, plain HTTP or HTTPS (``tls=True``, signed by the shared
    :func:`test_authority`).

    Use it as a context manager (``with FakeEntra() as entra:``) or call :meth:`start` and
    :meth:`close`. It counts the TCP connections it accepts (:attr:`connections`) and records
    every request (:attr:`requests`), so tests can assert connection reuse, retry counts and
    retry delays. Faults are scripted for the next N requests (optionally only those whose path
    matches): :meth:`fail_next`, :meth:`throttle_next`, :meth:`reset_next`, :meth:`delay_next`,
    :meth:`malformed_next`. Queued faults are consumed in the order they were added: a request
    takes the oldest fault whose path filter it matches.

    Thread-safe: requests are served on one thread per connection, and the scripting methods and
    counters may be used from any thread while it runs.
    """

    def __init__(self, *, tls: bool = False) -> None:
        self.tls = tls
        """Whether the fake serves HTTPS."""
        if tls:
            test_authority()  # fail now, not in a server thread, when trustme is missing
        self._lock = threading.RLock()
        self._httpd: _HTTPServer | None = None
        self._serve_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections = 0
        self._connection_serial = 0
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._live: dict[int, tuple[socket.socket, threading.Thread]] = {}

    # -- life cycle ----------------------------------------------------------------------------

    def start(self: _Self) -> _Self:
        """Starts serving on a free port of 127.0.0.1; returns the fake. Idempotent."""
        with self._lock:
            if self._httpd is not None:
                return self
            self._stopping.clear()
            httpd = _HTTPServer(self)
            thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"{type(self).__name__}:{httpd.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._httpd, self._serve_thread = httpd, thread
        return self

    def close(self) -> None:
        """Stops serving: closes the listening socket and every open connection (delayed
        requests are dropped unanswered) and waits for the connection threads. Idempotent."""
        with self._lock:
            httpd, thread = self._httpd, self._serve_thread
            self._httpd = self._serve_thread = None
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        thread.join()
        with self._lock:
            live = list(self._live.values())
        for sock, _ in live:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        for _, worker in live:
            worker.join(timeout=5)
        httpd.server_close()

    def __enter__(self: _Self) -> _Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        with self._lock:
            if self._httpd is None:
                return f"{type(self).__name__}(stopped)"
            return f"{type(self).__name__}({self.url}, requests={len(self._requests)})"

    @property
    def port(self) -> int:
        """The port the fake listens on (RuntimeError when it is not running)."""
        with self._lock:
            if self._httpd is None:
                raise RuntimeError(
                    f"{type(self).__name__} is not running; call start() or use it in a with block"
                )
            port: int = self._httpd.server_address[1]
            return port

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:<port>`` or ``https://127.0.0.1:<port>``, no trailing
        slash (RuntimeError when the fake is not running)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> str:
        """PEM file of the test CA that signed the fake's certificate, for clients to trust
        (the same file for every fake of the process). ValueError for a plain-HTTP fake."""
        if not self.tls:
            raise ValueError(f"{type(self).__name__} serves plain HTTP; construct it with tls=True")
        return test_authority().ca_path

    def ssl_context(self) -> ssl.SSLContext:
        """A new client-side SSL context trusting the test CA (``httpx.Client(verify=...)``:
        httpx deprecates a CA path there). ValueError for a plain-HTTP fake."""
        if not self.tls:
            raise ValueError(f"{type(self).__name__} serves plain HTTP; construct it with tls=True")
        return test_authority().client_context()

    # -- counters ------------------------------------------------------------------------------

    @property
    def connections(self) -> int:
        """TCP connections accepted since the start or the last :meth:`reset_counters` (TLS
        handshakes that failed included)."""
        with self._lock:
            return self._connections

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received since the start or the last :meth:`reset_counters`,
        in arrival order (faulted ones included)."""
        with self._lock:
            return list(self._requests)

    def intervals(self, path: PathFilter = None) -> list[float]:
        """Seconds between the arrivals of consecutive recorded requests (those whose path
        matches ``path``, as for faults): for one logical call that was retried, the client's
        retry delays."""
        probe = _Fault("fail", 1, path)
        times = [r.time for r in self.requests if probe.matches(r.path)]
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    def reset_counters(self) -> None:
        """Forgets the recorded requests and zeroes the connection count (scripted faults and
        open connections are kept; connection numbers keep increasing)."""
        with self._lock:
            self._requests.clear()
            self._connections = 0

    # -- faults --------------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        path: PathFilter = None,
    ) -> None:
        """Answers the next ``n`` matching requests with HTTP ``status``. ``body``: None for the
        service's own error body for that status; bytes or str sent as they are; anything else
        sent as JSON. ``headers`` are added to the response (e.g. ``{"x-should-retry": "true"}``
        or ``{"Retry-After": "2"}``)."""
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status (400..599), got {status}")
        self._add(_Fault("fail", n, path, status=status, body=body, headers=dict(headers or {})))

    def throttle_next(
        self,
        n: int = 1,
        *,
        retry_after: float | None = None,
        retry_after_ms: int | None = None,
        headers: Mapping[str, str] | None = None,
        path: PathFilter = None,
    ) -> None:
        """Answers the next ``n`` matching requests with 429 and the service's throttling body,
        with ``retry-after`` (seconds) and, when ``retry_after_ms`` is given, ``retry-after-ms``.
        Without ``retry_after``, ``retry-after`` is ``retry_after_ms`` rounded up to whole
        seconds (as Azure sends it), else 1. Use small ``retry_after_ms`` values in tests of
        clients that prefer it (openai-python) so nothing sleeps long."""
        if retry_after is None:
            retry_after = max(1, -(-retry_after_ms // 1000)) if retry_after_ms is not None else 1
        throttle = {"retry-after": seconds_text(retry_after)}
        if retry_after_ms is not None:
            throttle["retry-after-ms"] = str(retry_after_ms)
        self.fail_next(n, 429, headers={**throttle, **(headers or {})}, path=path)

    def reset_next(self, n: int = 1, *, path: PathFilter = None) -> None:
        """Aborts the connection of the next ``n`` matching requests after reading them, without
        a response: the socket is closed with SO_LINGER 0, so the client sees a reset (or an
        unexpected end of the connection)."""
        self._add(_Fault("reset", n, path))

    def delay_next(self, n: int = 1, seconds: float = 1.0, *, path: PathFilter = None) -> None:
        """Holds the next ``n`` matching requests for ``seconds`` before answering them normally
        (a slow service, for client timeout tests). :meth:`close` cuts the wait short and drops
        the connection."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        self._add(_Fault("delay", n, path, seconds=seconds))

    def malformed_next(self, n: int = 1, *, path: PathFilter = None) -> None:
        """Answers the next ``n`` matching requests with status 200 and the first half of the
        body the service would have sent (truncated JSON, or an event stream cut short). The
        request is otherwise handled normally, side effects included (a token counts as
        issued)."""
        self._add(_Fault("malformed", n, path))

    def clear_faults(self) -> None:
        """Drops every scripted fault not yet consumed."""
        with self._lock:
            self._faults.clear()

    def _add(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError(f"n must be >= 1, got {fault.remaining}")
        with self._lock:
            self._faults.append(fault)

    # -- what subclasses provide ---------------------------------------------------------------

    @abc.abstractmethod
    def _handle(self, request: RecordedRequest) -> FakeResponse:
        """Answers one request the way the service would."""

    def _error_response(
        self, status: int, request: RecordedRequest, headers: Mapping[str, str]
    ) -> FakeResponse:
        """The service's error response for ``status`` (a scripted failure; ``headers`` are the
        fault's headers, e.g. ``retry-after``, for bodies that mention them). The default is the
        reason phrase as plain text."""
        return FakeResponse(
            status, status_phrase(status).encode(), {"Content-Type": "text/plain; charset=utf-8"}
        )

    def _common_headers(self, request: RecordedRequest) -> dict[str, str]:
        """Headers the service puts on every response (request ids, region); none by default."""
        return {}

    # -- used by the connection threads --------------------------------------------------------

    def _accepted(self, sock: socket.socket) -> int:
        with self._lock:
            self._connections += 1
            if self._stopping.is_set():  # accepted while closing: close() will not see it
                raise ConnectionAbortedError("the fake server is closing")
            self._connection_serial += 1
            self._live[self._connection_serial] = (sock, threading.current_thread())
            return self._connection_serial

    def _rebind(self, number: int, sock: socket.socket) -> None:
        with self._lock:
            self._live[number] = (sock, threading.current_thread())

    def _released(self, number: int) -> None:
        with self._lock:
            self._live.pop(number, None)

    def _arrived(self, request: RecordedRequest) -> _Fault | None:
        with self._lock:
            self._requests.append(request)
            for fault in self._faults:
                if fault.matches(request.path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _respond(self, request: RecordedRequest, fault: _Fault | None) -> FakeResponse | None:
        """The response to send, or None to abort the connection."""
        if fault is not None and fault.kind == "reset":
            return None
        if fault is not None and fault.kind == "delay" and self._stopping.wait(fault.seconds):
            return None  # closing: drop the request rather than answer late
        if fault is not None and fault.kind == "fail":
            if fault.body is None:
                response = self._error_response(fault.status, request, fault.headers)
            else:
                response = _raw_response(fault.status, fault.body)
            response.headers.update(fault.headers)
        else:
            try:
                response = self._handle(request)
            except Exception as error:  # a bug in the fake: say so rather than hang up
                traceback.print_exc(file=sys.stderr)
                response = FakeResponse(
                    500,
                    f"{type(self).__name__} failed: {error!r}".encode(),
                    {"Content-Type": "text/plain; charset=utf-8"},
                )
            if fault is not None and fault.kind == "malformed":
                body = response.body if response.chunks is None else b"".join(response.chunks)
                response = FakeResponse(
                    200,
                    body[: max(1, len(body) // 2)],
                    {"Content-Type": response.headers.get("Content-Type", "application/json")},
                )
        response.headers = {**self._common_headers(request), **response.headers}
        return response


def _raw_response(status: int, body: Any) -> FakeResponse:
    if isinstance(body, bytes | str):
        data = body.encode() if isinstance(body, str) else body
        return FakeResponse(status, data, {"Content-Type": "text/plain; charset=utf-8"})
    return json_response(status, body)


def status_phrase(status: int) -> str:
    """The reason phrase of an HTTP status (``"Service Unavailable"``), ``"HTTP <n>"`` for a
    status without one. Shared by the fakes' error bodies."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def seconds_text(value: float) -> str:
    """Seconds as a Retry-After header spells them: an integer when whole (``2.0`` → ``"2"``),
    else the number as it is (``"0.5"``). Shared by the fakes' throttling responses."""
    return str(int(value)) if float(value).is_integer() else str(value)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # FakeServer.close joins the connection threads itself
    request_queue_size = 128

    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (socket.getfqdn), slow without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # the client went away, TLS refused, ...
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aadap-fake/1.0"
    sys_version = ""
    server: _HTTPServer
    number = 0
    aborted = False

    def setup(self) -> None:
        fake = self.server.fake
        self.number = fake._accepted(self.request)
        try:
            # Headers and body leave in separate writes: without this, Nagle's algorithm and the
            # client's delayed ACK hold every response back ~40 ms.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if fake.tls:
                self.request.settimeout(10)  # a client that never says hello
                self.request = (
                    test_authority().server_context().wrap_socket(self.request, server_side=True)
                )
                self.request.settimeout(None)
                fake._rebind(self.number, self.request)
            super().setup()
        except BaseException:
            fake._released(self.number)
            raise

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError):
                super().finish()
            sock: socket.socket = self.request
            if not self.aborted:
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_WR)
            sock.close()
        finally:
            self.server.fake._released(self.number)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the fake records requests instead

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        fake = self.server.fake
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "malformed request body framing")
            self.close_connection = True
            return
        split = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=Headers(self.headers.items()),
            body=body,
            time=time.monotonic(),
            connection=self.number,
        )
        response = fake._respond(request, fake._arrived(request))
        if response is None:
            self._abort()
        else:
            self._send(response)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length)

    def _send(self, response: FakeResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.chunks is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in response.chunks:
            if chunk:
                self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def _abort(self) -> None:
        self.close_connection = True
        self.aborted = True
        with contextlib.suppress(OSError):
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
