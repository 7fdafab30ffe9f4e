"""Logging (config-and-logging.md §2) and correlation ids in log lines (§3)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import aadap
from aadap import _core

REQUIRED = {"timestamp", "level", "logger", "event", "app", "environment"}


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def probe(url: str = "sqlite://") -> None:
    """A real C++ code path that logs (store.probed), given the current correlation id."""
    _core.probe_store(_core.DatabaseUrl(url), aadap.current_correlation_id() or "")


def test_python_lines_are_json_with_the_fields(
    clean_env: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    aadap.get_logger("aadap.pipeline").info("task.created", task_id="t-1", attempt=2, ok=True)
    (line,) = json_lines(capfd.readouterr().err)
    assert set(line) >= REQUIRED
    assert line["logger"] == "aadap.pipeline"
    assert line["event"] == "task.created"
    assert line["level"] == "INFO"
    assert (line["app"], line["environment"]) == ("aadap", "development")
    assert (line["task_id"], line["attempt"], line["ok"]) == ("t-1", 2, True)
    assert line["timestamp"].endswith("Z")


def test_cpp_and_python_lines_share_one_format(
    clean_env: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    aadap.get_logger("aadap.test").info("from.python")
    probe()
    python_line, cpp_line = json_lines(capfd.readouterr().err)
    assert set(python_line) >= REQUIRED
    assert set(cpp_line) >= REQUIRED
    assert cpp_line["logger"] == "aadap.store"
    assert list(python_line)[:6] == list(cpp_line)[:6]


def test_correlation_id_inside_the_context_and_not_outside(
    clean_env: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = aadap.get_logger("aadap.test")
    with aadap.correlation_id("req-42") as cid:
        assert cid == "req-42"
        log.info("inside")
        probe()
    log.info("outside")
    probe()
    inside_py, inside_cpp, outside_py, outside_cpp = json_lines(capfd.readouterr().err)
    assert inside_py["correlation_id"] == "req-42"
    assert inside_cpp["correlation_id"] == "req-42"
    assert inside_cpp["event"] == "store.probed"
    assert "correlation_id" not in outside_py
    assert "correlation_id" not in outside_cpp


def test_level_is_changeable_at_run_time(
    clean_env: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = aadap.get_logger("aadap.test")
    aadap.set_log_level("ERROR")
    log.info("hidden")
    probe()
    log.error("shown")
    aadap.set_log_level(logging.DEBUG)
    log.debug("debug-shown")
    events = [line["event"] for line in json_lines(capfd.readouterr().err)]
    assert events == ["shown", "debug-shown"]
    with pytest.raises(ValueError, match="unknown log level"):
        aadap.set_log_level("LOUD")
    with pytest.raises(TypeError):
        aadap.set_log_level(1.5)  # type: ignore[arg-type]


def test_console_format(clean_env: Path, capfd: pytest.CaptureFixture[str]) -> None:
    aadap.set_log_format("console")
    with aadap.correlation_id("cid-console"):
        aadap.get_logger("aadap.test").warning("thing.happened", detail="two words")
    err = capfd.readouterr().err
    expected = ["WARNING", "aadap.test", "thing.happened", "app=aadap", "environment=development"]
    expected += ["correlation_id=cid-console", 'detail="two words"']
    for part in expected:
        assert part in err
    with pytest.raises(ValueError, match="json or console"):
        aadap.set_log_format("xml")  # type: ignore[arg-type]


def test_format_and_level_from_settings(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AADAP_LOG_FORMAT", "console")
    monkeypatch.setenv("AADAP_APP_NAME", "svc-a")
    monkeypatch.setenv("AADAP_ENVIRONMENT", "production")
    aadap.configure_logging()
    aadap.get_logger("aadap.test").info("configured")
    err = capfd.readouterr().err
    assert "app=svc-a" in err
    assert "environment=production" in err
    assert not err.startswith("{")


def test_secrets_are_masked_in_log_lines(
    clean_env: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = aadap.Settings.from_env({"AADAP_FABRIC_CLIENT_SECRET": "fab-log-secret-1"})
    secret = settings.fabric_client_secret
    log = aadap.get_logger("aadap.test")
    log.info(
        "leaky",
        secret=secret,
        echoed="server said fab-log-secret-1",
        header="Authorization: Bearer eyJhbGciOi.payload.sig",
        password="pw-plain",
        token=123456789,
    )
    probe("postgresql://u:db-pw-0042@127.0.0.1:1/db")
    err = capfd.readouterr().err
    for leaked in ("fab-log-secret-1", "eyJhbGciOi", "pw-plain", "db-pw-0042", "123456789"):
        assert leaked not in err
    assert len(json_lines(err)) == 2  # still valid JSON after masking


def test_route_logs_to_python(clean_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    aadap.route_logs_to_python()
    caplog.set_level(logging.DEBUG)
    with aadap.correlation_id("cid-routed"):
        probe()
        aadap.get_logger("aadap.pipeline").warning("py.event", n=1)
    aadap.route_logs_to_python(False)
    by_logger = {record.name: record for record in caplog.records}
    store = by_logger["aadap.store"]
    assert store.levelno == logging.INFO
    assert store.event == "store.probed"  # type: ignore[attr-defined]
    assert store.correlation_id == "cid-routed"  # type: ignore[attr-defined]
    assert store.fields["reachable"] is True  # type: ignore[attr-defined]
    assert store.getMessage().startswith("store.probed ")
    pipeline = by_logger["aadap.pipeline"]
    assert pipeline.levelno == logging.WARNING
    assert json.loads(pipeline.line)["n"] == 1  # type: ignore[attr-defined]


def test_routed_logs_from_cpp_threads(clean_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Records logged by C++ with the GIL released reach Python logging safely."""
    from concurrent.futures import ThreadPoolExecutor

    aadap.route_logs_to_python()
    caplog.set_level(logging.INFO)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: probe(), range(40)))
    aadap.route_logs_to_python(False)
    assert sum(r.name == "aadap.store" for r in caplog.records) == 40


def test_deprecated_variables_warn_once(tmp_path: Path) -> None:
    code = (
        "import aadap; aadap.Settings.from_env(dotenv=None); aadap.Settings.from_env(dotenv=None)"
    )
    env = {**os.environ, "AADAP_REDIS_URL": "redis://x", "AADAP_LOG_FORMAT": "json"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    lines = [
        line for line in json_lines(out.stderr) if line["event"] == "settings.deprecated_ignored"
    ]
    assert len(lines) == 1
    assert lines[0]["variables"] == ["AADAP_REDIS_URL"]
    assert lines[0]["level"] == "WARNING"


def test_tls_verify_off_is_loud(tmp_path: Path) -> None:
    env = {**os.environ, "AADAP_TLS_VERIFY": "false"}
    out = subprocess.run(
        [sys.executable, "-c", "import aadap; aadap.Settings.from_env(dotenv=None)"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    (line,) = json_lines(out.stderr)
    assert line["event"] == "settings.tls_verification_disabled"
    assert line["level"] == "WARNING"
