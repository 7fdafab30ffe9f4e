"""The self-contained wheel: built with scripts/build_wheel.sh, installed into a fresh virtual
environment that never saw the build tree, and run with the system copies of its libraries
hidden."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import HttpsServer

ROOT = Path(__file__).resolve().parents[2]
SMOKE = Path(__file__).with_name("wheel_smoke.py")
# auditwheel renames what it bundles to <name>-<hash>.so...; OpenBLAS is libopenblasp-r0-...
BUNDLED = ["libpqxx-", "libpq-", "libcurl-", "libblas-", "libopenblas", "libspdlog-", "libfmt-"]


@dataclass
class InstalledWheel:
    wheel: Path
    python: Path
    extension: Path
    install_seconds: float


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user who never saw this checkout."""
    keep = {k: v for k, v in os.environ.items() if not k.upper().startswith(("AADAP_", "PYTHON"))}
    keep.pop("VIRTUAL_ENV", None)
    keep["PATH"] = ":".join(p for p in keep.get("PATH", "").split(":") if ".venv" not in p)
    return {**keep, **extra}


# Building the wheel is a full Release build with link-time optimisation: minutes on two
# cores, beyond the suite's default per-test timeout.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstalledWheel]:
    built = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build_wheel.sh")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    wheel = Path(ROOT / built.stdout.strip().splitlines()[-1])
    venv = tmp_path_factory.mktemp("wheel") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    start = time.perf_counter()
    subprocess.run(
        [python, "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        cwd=venv.parent,
        env=clean_env(),
    )
    install_seconds = time.perf_counter() - start
    site = subprocess.run(
        [python, "-c", "import aadap._core as c; print(c.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=venv.parent,
        env=clean_env(),
    )
    extension = Path(site.stdout.strip())
    yield InstalledWheel(wheel, python, extension, install_seconds)
    shutil.rmtree(venv, ignore_errors=True)


def run_smoke(installed: InstalledWheel, server: HttpsServer, *prefix: str) -> dict[str, object]:
    # The SQLite file is made here: inside the smoke run the system libsqlite3 may be hidden.
    database = installed.python.parent.parent.parent / "smoke.db"
    database.unlink(missing_ok=True)
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE t (x)")
    env = clean_env(AADAP_CA_BUNDLE=str(server.ca_file), AADAP_LOG_LEVEL="ERROR")
    out = subprocess.run(
        [*prefix, str(installed.python), str(SMOKE), server.url, str(database)],
        capture_output=True,
        text=True,
        cwd=installed.python.parent.parent.parent,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_wheel_is_manylinux_and_carries_no_tests(installed: InstalledWheel) -> None:
    assert "manylinux" in installed.wheel.name
    listing = subprocess.run(
        [sys.executable, "-m", "zipfile", "-l", str(installed.wheel)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "aadap/testing/postgres.py" in listing
    assert "aadap/_core.pyi" in listing
    assert "tests/" not in listing
    assert "bench/" not in listing
    print(
        f"\nwheel {installed.wheel.name}: {installed.wheel.stat().st_size / 1e6:.1f} MB, "
        f"installed in {installed.install_seconds:.1f} s"
    )


def test_installed_wheel_works_outside_the_checkout(
    installed: InstalledWheel, https_server: HttpsServer
) -> None:
    assert not installed.extension.is_relative_to(ROOT)
    result = run_smoke(installed, https_server)
    assert str(result["module"]).startswith(str(installed.python.parent.parent))
    assert result["https"] == "HTTP 401"
    assert result["ca_bundle_source"] == "AADAP_CA_BUNDLE"
    assert "aadap.libs" in str(result["blas"]), result["blas"]
    assert str(result["blas"]).startswith("OpenBLAS")
    print(f"\nimport aadap from the wheel: {float(str(result['import_seconds'])) * 1000:.0f} ms")


def test_native_libraries_resolve_inside_the_wheel(installed: InstalledWheel) -> None:
    ldd = subprocess.run(
        ["ldd", str(installed.extension)], capture_output=True, text=True, check=True
    ).stdout
    resolved = {}
    for line in ldd.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "=>":
            resolved[parts[0]] = parts[2]
    for library in BUNDLED:
        matches = [path for name, path in resolved.items() if name.startswith(library)]
        assert matches, f"{library} is not a bundled dependency: {sorted(resolved)}"
        for path in matches:
            assert "/aadap.libs/" in path, f"{library} resolves to {path}"
    libs = installed.extension.parent.parent / "aadap.libs"
    openblas = list(libs.glob("libopenblas*"))
    assert openblas, "OpenBLAS must be bundled (FAISS would otherwise get the reference BLAS)"
    show = subprocess.run(
        [ROOT / ".venv" / "bin" / "auditwheel", "show", str(installed.wheel)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "is consistent with" in show


def _system_copies(installed: InstalledWheel) -> list[Path]:
    """The Debian files of every library the wheel bundles (the dev build links them)."""
    libs = installed.extension.parent.parent / "aadap.libs"
    # auditwheel names a bundled file <name>-<8 hex digits><rest>: libpq-f632a8e2.so.5.15
    bundled = {re.sub(r"-[0-9a-f]{8}", "", p.name, count=1) for p in libs.iterdir()}
    dev_extension = next((ROOT / "build" / "dev" / "cpp").glob("_core*.so"))
    ldd = subprocess.run(["ldd", str(dev_extension)], capture_output=True, text=True, check=True)
    files = set()
    for line in ldd.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "=>":
            real = Path(parts[2]).resolve()
            if real.name in bundled:
                files.add(real)
    return sorted(files)


@pytest.mark.skipif(os.geteuid() != 0, reason="mount namespaces need root (CI runs as root)")
def test_wheel_runs_with_the_system_libraries_hidden(
    installed: InstalledWheel, https_server: HttpsServer
) -> None:
    hidden = _system_copies(installed)
    names = " ".join(p.name for p in hidden)
    for needed in ("libpqxx", "libpq.so", "libcurl", "libopenblas", "libspdlog"):
        assert needed in names, f"{needed} missing from the list to hide: {names}"
    binds = " && ".join(f"mount --bind /dev/null {p}" for p in hidden)
    # Also take away Debian's CA directory, the path compiled into the bundled libcurl.
    script = f'{binds} && mount -t tmpfs tmpfs /etc/ssl/certs && exec "$@"'
    result = run_smoke(
        installed,
        https_server,
        "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
    )  # fmt: skip
    assert result["https"] == "HTTP 401"
    assert "aadap.libs" in str(result["blas"])
