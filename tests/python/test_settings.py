"""Settings (config-and-logging.md §1) through the public Python API."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import pytest

import aadap

EXPECTED_DEFAULTS: dict[str, Any] = {
    "app_name": "aadap",
    "environment": "development",
    "debug": False,
    "db_pool_size": 10,
    "db_pool_overflow": 5,
    "db_echo_sql": False,
    "memory_default_ttl_seconds": 3600,
    "memory_max_bytes": 1024**3,
    "log_level": "INFO",
    "log_format": "json",
    "correlation_id_header": "X-Correlation-ID",
    "azure_openai_api_key": None,
    "azure_openai_endpoint": None,
    "azure_openai_api_version": "2024-02-01",
    "azure_openai_deployment_name": None,
    "azure_openai_embedding_deployment": None,
    "azure_openai_tenant_id": None,
    "azure_openai_client_id": None,
    "azure_openai_client_secret": None,
    "databricks_token": None,
    "databricks_client_id": None,
    "databricks_client_secret": None,
    "fabric_tenant_id": None,
    "fabric_client_id": None,
    "fabric_client_secret": None,
    "fabric_api_base": "https://api.fabric.microsoft.com/v1",
    "entra_authority": "https://login.microsoftonline.com",
    "token_budget_default": 50000,
    "approval_timeout_seconds": 14400,
    "vector_min_similarity": 0.85,
    "vector_max_staleness_days": 90,
    "sqlite_synchronous": "FULL",
    "approval_allow_self": False,
    "tls_verify": True,
    "ca_bundle": None,
    "embedding_dimension": 1536,
    "llm_price_input_per_1k": 0.0,
    "llm_price_output_per_1k": 0.0,
}
TARGET_FIELDS = [
    "databricks_host", "databricks_warehouse_id", "databricks_cluster_id", "databricks_catalog",
    "databricks_schema", "fabric_workspace_id", "fabric_lakehouse_id",
]  # fmt: skip


def load(**env: str) -> aadap.Settings:
    return aadap.Settings.from_env({"HOME": "/home/u", **env}, dotenv=None)


def test_every_default() -> None:
    settings = load()
    for field, expected in EXPECTED_DEFAULTS.items():
        assert getattr(settings, field) == expected, field
    for group in (settings.sandbox, settings.production):
        for field in TARGET_FIELDS:
            assert getattr(group, field) is None
    assert settings.database_url.reveal() == "sqlite:////home/u/.local/share/aadap/aadap.db"
    described = {row["field"] for row in settings.describe()}
    assert set(EXPECTED_DEFAULTS) | {"database_url"} <= described
    assert all(row["source"] == "default" for row in settings.describe())


def test_every_variable_is_parsed() -> None:
    settings = load(
        AADAP_APP_NAME="svc",
        AADAP_ENVIRONMENT="Staging",
        AADAP_DEBUG="on",
        AADAP_DATABASE_URL="postgresql+asyncpg://u:pw-111111@h:5432/db",
        AADAP_DB_POOL_SIZE="20",
        AADAP_DB_POOL_OVERFLOW="0",
        AADAP_DB_ECHO_SQL="t",
        AADAP_MEMORY_DEFAULT_TTL_SECONDS="60",
        AADAP_MEMORY_MAX_BYTES="1048576",
        AADAP_LOG_LEVEL="warning",
        AADAP_LOG_FORMAT="CONSOLE",
        AADAP_CORRELATION_ID_HEADER="X-Request-ID",
        AADAP_AZURE_OPENAI_API_KEY="oai-key-222222",
        AADAP_AZURE_OPENAI_ENDPOINT="https://x.openai.azure.com/",
        AADAP_AZURE_OPENAI_API_VERSION="2024-10-21",
        AADAP_AZURE_OPENAI_DEPLOYMENT_NAME="gpt-4o",
        AADAP_AZURE_OPENAI_EMBEDDING_DEPLOYMENT="ada",
        AADAP_AZURE_OPENAI_TENANT_ID="t1",
        AADAP_AZURE_OPENAI_CLIENT_ID="c1",
        AADAP_AZURE_OPENAI_CLIENT_SECRET="oai-secret-333333",
        AADAP_DATABRICKS_TOKEN="dbx-token-444444",
        AADAP_DATABRICKS_CLIENT_ID="c2",
        AADAP_DATABRICKS_CLIENT_SECRET="dbx-secret-555555",
        AADAP_FABRIC_TENANT_ID="t3",
        AADAP_FABRIC_CLIENT_ID="c3",
        AADAP_FABRIC_CLIENT_SECRET="fab-secret-666666",
        AADAP_FABRIC_API_BASE="http://127.0.0.1:9000/v1",
        AADAP_ENTRA_AUTHORITY="login.example.net",
        AADAP_DATABRICKS_HOST="https://adb-1.azuredatabricks.net",
        AADAP_PRODUCTION_FABRIC_WORKSPACE_ID="ws-prod",
        AADAP_TOKEN_BUDGET_DEFAULT="1",
        AADAP_APPROVAL_TIMEOUT_SECONDS="60",
        AADAP_VECTOR_MIN_SIMILARITY="0.95",
        AADAP_VECTOR_MAX_STALENESS_DAYS="1",
        AADAP_SQLITE_SYNCHRONOUS="NORMAL",
        AADAP_APPROVAL_ALLOW_SELF="yes",
        AADAP_TLS_VERIFY="true",
        AADAP_CA_BUNDLE=__file__,
        AADAP_EMBEDDING_DIMENSION="3072",
        AADAP_LLM_PRICE_INPUT_PER_1K="0.0025",
        AADAP_LLM_PRICE_OUTPUT_PER_1K="0.01",
    )
    assert (settings.app_name, settings.environment, settings.debug) == ("svc", "staging", True)
    assert settings.database_url.reveal() == "postgresql://u:pw-111111@h:5432/db"
    assert (settings.db_pool_size, settings.db_pool_overflow, settings.db_echo_sql) == (20, 0, True)
    assert settings.memory_default_ttl_seconds == 60
    assert settings.memory_max_bytes == 1048576
    assert (settings.log_level, settings.effective_log_level) == ("WARNING", "WARNING")
    assert settings.log_format == "console"
    assert settings.correlation_id_header == "X-Request-ID"
    assert settings.azure_openai_api_key is not None
    assert settings.azure_openai_api_key.reveal() == "oai-key-222222"
    assert settings.azure_openai_endpoint == "https://x.openai.azure.com"
    assert settings.azure_openai_api_version == "2024-10-21"
    assert settings.azure_openai_deployment_name == "gpt-4o"
    assert settings.azure_openai_embedding_deployment == "ada"
    assert (settings.azure_openai_tenant_id, settings.azure_openai_client_id) == ("t1", "c1")
    assert settings.databricks_client_id == "c2"
    assert settings.fabric_api_base == "http://127.0.0.1:9000/v1"
    assert settings.entra_authority == "https://login.example.net"
    assert settings.sandbox.databricks_host == "https://adb-1.azuredatabricks.net"
    assert settings.production.fabric_workspace_id == "ws-prod"
    assert settings.production.databricks_host is None
    assert settings.targets("production").fabric_workspace_id == "ws-prod"
    assert settings.targets("SANDBOX").databricks_host == "https://adb-1.azuredatabricks.net"
    with pytest.raises(ValueError, match="SANDBOX or PRODUCTION"):
        settings.targets("staging")
    assert settings.token_budget_default == 1
    assert settings.approval_timeout_seconds == 60
    assert settings.vector_min_similarity == 0.95
    assert settings.vector_max_staleness_days == 1
    assert settings.sqlite_synchronous == "NORMAL"
    assert settings.approval_allow_self is True
    assert settings.ca_bundle == __file__
    assert settings.embedding_dimension == 3072
    assert settings.llm_price_input_per_1k == 0.0025
    assert settings.llm_price_output_per_1k == 0.01
    sources = {row["variable"]: row["source"] for row in settings.describe()}
    assert sources["AADAP_APP_NAME"] == "environment"


def test_range_errors_are_reported_together() -> None:
    with pytest.raises(aadap.ConfigurationError) as info:
        load(
            AADAP_DB_POOL_SIZE="101",
            AADAP_VECTOR_MIN_SIMILARITY="0.8",
            AADAP_LOG_FORMAT="yaml",
            AADAP_MEMORY_DEFAULT_TTL_SECONDS="ten",
            AADAP_DATABASE_URL="mysql://root:pw-777777@h/db",
        )
    error = info.value
    assert isinstance(error, ValueError)
    variables = [e["variable"] for e in error.errors]
    assert sorted(variables) == sorted([
        "AADAP_DB_POOL_SIZE", "AADAP_VECTOR_MIN_SIMILARITY", "AADAP_LOG_FORMAT",
        "AADAP_MEMORY_DEFAULT_TTL_SECONDS", "AADAP_DATABASE_URL",
    ])  # fmt: skip
    message = str(error)
    assert "5 invalid settings" in message
    assert "AADAP_DB_POOL_SIZE='101': must be an integer from 1 to 100" in message
    assert "AADAP_LOG_FORMAT='yaml': must be one of json, console" in message
    assert "pw-777777" not in message
    assert "pw-777777" not in repr(error.errors)


def test_dotenv_is_read_and_the_environment_wins(clean_env: Path) -> None:
    (clean_env / ".env").write_text(
        "AADAP_APP_NAME=from-dotenv\nAADAP_DB_POOL_SIZE=42\nexport AADAP_LOG_LEVEL='ERROR'\n"
    )
    settings = aadap.Settings.from_env({"AADAP_APP_NAME": "from-env"})
    assert settings.app_name == "from-env"
    assert settings.db_pool_size == 42
    assert settings.log_level == "ERROR"
    sources = {row["variable"]: row["source"] for row in settings.describe()}
    assert sources["AADAP_DB_POOL_SIZE"] == ".env"
    assert sources["AADAP_APP_NAME"] == "environment"
    assert aadap.Settings.from_env({}, dotenv=None).db_pool_size == 10
    other = clean_env / "other.env"
    other.write_text("AADAP_DB_POOL_SIZE=3\n")
    assert aadap.Settings.from_env({}, dotenv=other).db_pool_size == 3


def test_process_environment_and_names_are_case_insensitive(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("aadap_db_pool_size", "9")
    assert aadap.Settings.from_env().db_pool_size == 9


def test_invalid_dotenv_is_a_configuration_error(clean_env: Path) -> None:
    (clean_env / ".env").write_text('AADAP_APP_NAME="unterminated\n')
    with pytest.raises(aadap.ConfigurationError, match=r"\.env line 1"):
        aadap.Settings.from_env()


def test_environ_must_map_str_to_str() -> None:
    with pytest.raises(TypeError):
        aadap.Settings.from_env({"AADAP_DB_POOL_SIZE": 5}, dotenv=None)  # type: ignore[dict-item]


def test_secret_type_never_prints_its_value() -> None:
    settings = load(AADAP_DATABRICKS_TOKEN="dapi-python-secret-888")
    token = settings.databricks_token
    assert token is not None
    assert str(token) == "**********"
    assert repr(token) == "Secret('**********')"
    assert f"{token}" == "**********"
    assert token.reveal() == token.get_secret_value() == "dapi-python-secret-888"
    assert "dapi-python-secret-888" not in repr(settings)
    assert "databricks_token=**********" in repr(settings)
    assert "dapi-python-secret-888" not in settings._repr_html_()
    assert "dapi-python-secret-888" not in str(settings.describe())
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(token)


def test_database_url_display_keeps_everything_but_the_password() -> None:
    settings = load(AADAP_DATABASE_URL="postgresql://alice:pw-999999@db.internal:5432/app")
    url = aadap._core.DatabaseUrl(settings.database_url.reveal())
    assert url.redacted == "postgresql://alice:**********@db.internal:5432/app"
    assert "pw-999999" not in repr(url)


def test_get_settings_is_cached_and_resettable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = aadap.get_settings()
    assert aadap.get_settings() is first
    monkeypatch.setenv("AADAP_APP_NAME", "changed")
    assert aadap.get_settings().app_name == "aadap"
    aadap.get_settings.cache_clear()
    assert aadap.get_settings().app_name == "changed"


def test_get_settings_applies_the_log_level(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AADAP_LOG_LEVEL", "error")
    aadap.get_settings()
    assert aadap.get_log_level() == "ERROR"
    monkeypatch.setenv("AADAP_LOG_LEVEL", "DEBUG")
    aadap.get_settings.cache_clear()
    aadap.get_settings()
    assert aadap.get_log_level() == "DEBUG"
    assert logging.DEBUG == 10  # the C++ levels use Python's numbers


def test_default_database_follows_home(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/srv/home")
    only_aadap = aadap.Settings.from_env({"AADAP_APP_NAME": "x"}, dotenv=None)
    assert only_aadap.database_url.reveal() == "sqlite:////srv/home/.local/share/aadap/aadap.db"
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert aadap.Settings.from_env().database_url.reveal() == "sqlite:////srv/data/aadap/aadap.db"
    explicit = aadap.Settings.from_env({"HOME": "/h"}, dotenv=None)
    assert explicit.database_url.reveal() == "sqlite:////h/.local/share/aadap/aadap.db"


def test_deprecated_redis_variables_are_ignored() -> None:
    settings = load(AADAP_REDIS_URL="redis://localhost:6379", AADAP_REDIS_PASSWORD="x")
    assert sorted(settings.ignored_deprecated) == ["AADAP_REDIS_PASSWORD", "AADAP_REDIS_URL"]
