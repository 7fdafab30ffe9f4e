"""A throwaway PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` in a temporary directory,
on a free loopback port, removed afterwards.

    with PostgresCluster() as pg:
        engine = aadap.Engine.open(pg.url)

As root (CI machines), the server runs as the ``postgres`` user (or ``nobody``), because
PostgreSQL refuses to run as root. Durability is switched off (fsync, synchronous_commit):
this server is for tests only.

``python -m aadap.testing.postgres -- COMMAND...`` runs COMMAND with ``AADAP_TEST_POSTGRES_URL``
set to a fresh server's URL and stops the server afterwards, whatever COMMAND does.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from aadap._core import AadapError

__all__ = ["PostgresCluster", "PostgresNotFoundError", "create_database", "psql"]

URL_VARIABLE = "AADAP_TEST_POSTGRES_URL"


class PostgresNotFoundError(AadapError, FileNotFoundError):
    """The PostgreSQL server programs (initdb, pg_ctl) are not installed."""


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl: PATH, ``pg_config --bindir``, or the newest
    ``/usr/lib/postgresql/<version>/bin`` (Debian keeps the server programs there)."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0)
    )
    candidates += [Path(p) for p in reversed(debian)]
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise PostgresNotFoundError(
        "PostgreSQL server programs (initdb, pg_ctl) not found on PATH, via pg_config or in "
        "/usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresNotFoundError("running as root and neither 'postgres' nor 'nobody' exists")


class PostgresCluster:
    """A private PostgreSQL server. Not thread-safe: start and stop it from one thread."""

    def __init__(self, *, database: str = "aadap", user: str = "aadap") -> None:
        self.database = database
        self.user = user
        self.port: int | None = None
        self._options: str | None = None
        self._dir: Path | None = None
        self._bin: Path | None = None
        self._account = _server_account()

    @property
    def url(self) -> str:
        """``postgresql://aadap@127.0.0.1:<port>/aadap`` (trust authentication on loopback)."""
        if self.port is None:
            raise AadapError("the PostgreSQL cluster is not running; call start() first")
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def __repr__(self) -> str:
        state = f"running on port {self.port}" if self.port is not None else "stopped"
        return f"PostgresCluster({state})"

    def _run(self, *args: str | Path) -> None:
        command = [str(a) for a in args]
        kwargs: dict[str, object] = {}
        if self._account is not None:
            kwargs = {"user": self._account.pw_uid, "group": self._account.pw_gid}
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=self._dir,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            **kwargs,  # type: ignore[call-overload]
        )
        if result.returncode != 0:
            raise AadapError(
                f"{Path(command[0]).name} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )

    def start(self, timeout: float = 60.0) -> str:
        """Create and start the server; returns its URL."""
        self._bin = find_bin_dir()
        self._dir = Path(tempfile.mkdtemp(prefix="aadap-pg-"))
        if self._account is not None:
            os.chown(self._dir, self._account.pw_uid, self._account.pw_gid)
        data = self._dir / "data"
        self._run(
            self._bin / "initdb", "-D", data, "-U", self.user, "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            port = _free_port()
            options = (
                f"-p {port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            try:
                self._run(
                    self._bin / "pg_ctl", "-D", data, "-o", options, "-l", self._dir / "log",
                    "-w", "-t", str(int(max(1, deadline - time.monotonic()))), "start",
                )  # fmt: skip
                self._options = options
                break
            except AadapError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
        self.port = port
        self._run(
            self._bin / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", self.user,
            self.database,
        )  # fmt: skip
        return self.url

    def restart(self, mode: str = "fast") -> None:
        """Stop (``pg_ctl stop -m <mode>``) and start again on the same port: clients'
        connections break, the data stays."""
        if self._dir is None or self._bin is None or self._options is None:
            raise AadapError("the PostgreSQL cluster is not running; call start() first")
        data = self._dir / "data"
        self._run(self._bin / "pg_ctl", "-D", data, "-m", mode, "-w", "stop")
        # -l: the server must not inherit our pipes, or waiting for pg_ctl never ends
        self._run(self._bin / "pg_ctl", "-D", data, "-o", self._options, "-l", self._dir / "log",
                  "-w", "start")  # fmt: skip

    def stop(self) -> None:
        """Stop the server and delete its files (safe to call twice)."""
        if self._dir is None:
            return
        data = self._dir / "data"
        if self._bin is not None and (data / "postmaster.pid").exists():
            # A server that is already gone is fine: the directory is removed below either way.
            with contextlib.suppress(AadapError):
                self._run(self._bin / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None
        self.port = None

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def psql(url: str, sql: str) -> str:
    """Runs ``sql`` with the server's own ``psql`` client; returns its unaligned output.
    AadapError carrying the server's message when a statement fails."""
    result = subprocess.run(
        [str(find_bin_dir() / "psql"), url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
         "-c", sql],
        capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"},
    )  # fmt: skip
    if result.returncode != 0:
        raise AadapError(result.stderr.strip() or f"psql failed ({result.returncode})")
    return result.stdout


def create_database(server_url: str, name: str | None = None) -> str:
    """A new, empty database on the server of ``server_url`` (one per test keeps tests apart);
    returns its URL."""
    from urllib.parse import urlsplit, urlunsplit

    name = name or f"t_{uuid.uuid4().hex[:20]}"
    if not name.replace("_", "").isalnum():
        raise AadapError(f"not a plain database name: {name!r}")
    psql(server_url, f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def main(argv: list[str]) -> int:
    """``python -m aadap.testing.postgres -- COMMAND...``: run COMMAND with a fresh server."""
    command = argv[1:] if argv and argv[0] == "--" else argv
    if not command:
        print("usage: python -m aadap.testing.postgres -- COMMAND [ARG...]", file=sys.stderr)
        return 2

    def terminate(signum: int, _frame: object) -> None:
        # a CI runner stopping us: end the command and stop the server (`with` below), so no
        # server outlives the wrapper
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    with PostgresCluster() as cluster:
        print(f"aadap.testing: PostgreSQL running at {cluster.url}", file=sys.stderr, flush=True)
        return subprocess.call(command, env={**os.environ, URL_VARIABLE: cluster.url})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
