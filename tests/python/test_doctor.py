"""`aadap doctor` / `python -m aadap doctor`, against real SQLite files and a real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aadap
from aadap.doctor import doctor

from .conftest import HttpsServer

LIBRARIES = ["faiss", "libpqxx", "libpq", "libcurl", "sqlite", "spdlog"]


def run_doctor(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("AADAP_")}
    return subprocess.run(
        [sys.executable, "-m", "aadap", "doctor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, "HOME": str(cwd), **env},
        timeout=60,
    )


def test_doctor_with_postgres(tmp_path: Path, postgres_url: str) -> None:
    url = postgres_url.replace("postgresql://", "postgresql+asyncpg://")
    out = run_doctor(tmp_path, AADAP_DATABASE_URL=url, AADAP_DATABRICKS_TOKEN="dapi-doctor-secret")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"aadap {aadap.__version__}"
    for library in LIBRARIES:
        assert any(line.split()[:1] == [library] for line in lines), library
    assert "postgresql" in out.stdout
    assert "reachable" in out.stdout
    assert "AADAP_DATABRICKS_TOKEN" in out.stdout
    assert "dapi-doctor-secret" not in out.stdout + out.stderr
    assert "status: OK" in out.stdout


def test_doctor_json_and_masked_password(tmp_path: Path, postgres_url: str) -> None:
    # A password the server does not need (trust auth) but that must never be shown.
    url = postgres_url.replace("postgresql://aadap@", "postgresql://aadap:doctor-pw-31@")
    out = run_doctor(tmp_path, "--json", AADAP_DATABASE_URL=url)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True
    assert set(LIBRARIES) <= set(report["libraries"])
    assert report["store"]["name"] == "postgresql"
    assert report["store"]["ok"] is True
    assert report["store"]["detail"].startswith("postgresql 1")  # the server's version
    assert "**********" in report["store"]["target"]
    assert "doctor-pw-31" not in out.stdout + out.stderr
    database_row = next(r for r in report["settings"] if r["variable"] == "AADAP_DATABASE_URL")
    assert database_row == {
        "variable": "AADAP_DATABASE_URL", "field": "database_url", "value": "**********",
        "secret": True, "source": "environment",
    }  # fmt: skip


def test_doctor_default_sqlite_store(tmp_path: Path) -> None:
    out = run_doctor(tmp_path, "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 0
    assert report["store"]["name"] == "sqlite"
    assert report["store"]["target"] == f"sqlite:///{tmp_path}/.local/share/aadap/aadap.db"
    assert report["faiss"]["ok"] is True
    assert report["endpoints"] == []
    assert not (tmp_path / ".local").exists(), "doctor must not create the database"


def test_doctor_unreachable_store_fails(tmp_path: Path) -> None:
    out = run_doctor(
        tmp_path, "--timeout", "2", AADAP_DATABASE_URL="postgresql://u:pw-xyz-5@127.0.0.1:1/db"
    )
    assert out.returncode == 1
    assert "UNREACHABLE" in out.stdout
    assert "status: PROBLEMS FOUND" in out.stdout
    assert "pw-xyz-5" not in out.stdout + out.stderr


def test_doctor_reports_every_invalid_setting(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AADAP_DB_POOL_SIZE=0\n")
    out = run_doctor(tmp_path, AADAP_LOG_FORMAT="xml", AADAP_AZURE_OPENAI_API_KEY="k-1234567")
    assert out.returncode == 1
    assert "settings: INVALID" in out.stdout
    assert "AADAP_DB_POOL_SIZE='0'" in out.stdout
    assert "AADAP_LOG_FORMAT='xml'" in out.stdout
    assert "k-1234567" not in out.stdout


def test_doctor_in_process_report(clean_env: Path) -> None:
    report = doctor()
    assert report.ok
    assert report.store is not None
    assert report.store.name == "sqlite"
    html = report._repr_html_()
    assert "aadap" in html
    assert "faiss" in html
    assert str(report).endswith("status: OK")


def test_doctor_checks_faiss_and_its_blas(clean_env: Path) -> None:
    report = doctor()
    assert report.faiss.ok, report.faiss.detail
    assert "32/32 exact matches" in report.faiss.detail
    assert report.faiss.target.startswith("OpenBLAS"), "FAISS must not run on reference BLAS"


def test_doctor_checks_configured_endpoints_with_the_ca_bundle(
    tmp_path: Path, https_server: HttpsServer
) -> None:
    env = {"AADAP_AZURE_OPENAI_ENDPOINT": https_server.url, "AADAP_LOG_FORMAT": "json"}
    trusted = run_doctor(tmp_path, "--json", AADAP_CA_BUNDLE=str(https_server.ca_file), **env)
    report = json.loads(trusted.stdout)
    (endpoint,) = report["endpoints"]
    assert endpoint["name"] == "azure openai"
    assert endpoint["ok"] is True
    assert endpoint["detail"] == "HTTP 401"
    assert "[AADAP_CA_BUNDLE]" in report["ca_bundle"]
    assert trusted.returncode == 0
    logged = [json.loads(line) for line in trusted.stderr.splitlines() if line.startswith("{")]
    cid = next(line["correlation_id"] for line in logged if line["event"] == "endpoint.checked")
    assert https_server.headers[-1]["x-correlation-id"] == cid

    # Without the test CA (certifi's bundle is used) the certificate is refused.
    untrusted = run_doctor(tmp_path, "--json", **env)
    report = json.loads(untrusted.stdout)
    assert untrusted.returncode == 1
    assert "[certifi]" in report["ca_bundle"]
    assert report["endpoints"][0]["ok"] is False
    assert "certificate" in report["endpoints"][0]["detail"].lower()

    # AADAP_TLS_VERIFY=false skips verification (and says so loudly in the log).
    insecure = run_doctor(tmp_path, "--json", AADAP_TLS_VERIFY="false", **env)
    assert json.loads(insecure.stdout)["endpoints"][0]["ok"] is True
    assert "settings.tls_verification_disabled" in insecure.stderr


def test_ca_bundle_precedence(tmp_path: Path) -> None:
    import certifi

    from aadap.tls import ca_bundle

    pem = tmp_path / "corporate-ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    configured = aadap.Settings.from_env({"AADAP_CA_BUNDLE": str(pem)}, dotenv=None)
    assert (ca_bundle(configured).path, ca_bundle(configured).source) == (
        str(pem),
        "AADAP_CA_BUNDLE",
    )
    default = aadap.Settings.from_env({}, dotenv=None)
    assert ca_bundle(default).path == certifi.where()
    assert ca_bundle(default).source == "certifi"
