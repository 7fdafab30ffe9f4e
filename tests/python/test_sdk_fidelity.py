"""The official SDKs against the fakes: openai's AzureOpenAI client against FakeAzureOpenAI,
msal's ConfidentialClientApplication against FakeEntra and databricks-sdk's WorkspaceClient
against FakeDatabricks (pinned versions in pyproject's dev extra). If one of these fails after an
SDK upgrade, the fake or the upgrade is wrong."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import databricks.sdk.mixins.compute as sdk_compute_mixin
import databricks.sdk.service.compute as sdk_compute
import databricks.sdk.service.jobs as sdk_jobs
import databricks.sdk.service.pipelines as sdk_pipelines
import httpx2
import msal  # type: ignore[import-untyped]
import openai
import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk import errors as dbx_errors
from databricks.sdk.clock import Clock
from databricks.sdk.config import Config
from databricks.sdk.service.catalog import ColumnTypeName, TableType
from databricks.sdk.service.compute import CommandStatus, ContextStatus, Language, ResultType, State
from databricks.sdk.service.jobs import (
    NotebookTask,
    Run,
    RunLifeCycleState,
    RunResultState,
    SubmitTask,
    TerminationCodeCode,
)
from databricks.sdk.service.pipelines import (
    GetPipelineResponseHealth,
    PipelineState,
    StartUpdateCause,
    UpdateInfoState,
)
from databricks.sdk.service.sql import (
    ColumnInfoTypeName,
    Disposition,
    ExecuteStatementRequestOnWaitTimeout,
    Format,
    ServiceErrorCode,
    StatementParameterListItem,
    StatementState,
)
from databricks.sdk.service.workspace import ExportFormat, ImportFormat, ObjectType
from databricks.sdk.service.workspace import Language as NotebookLanguage
from databricks.sdk.version import __version__ as databricks_sdk_version
from openai.types.chat import ChatCompletionMessageParam

from aadap.testing import FakeAzureOpenAI, FakeDatabricks, FakeEntra, fake_embedding

FABRIC = "https://api.fabric.microsoft.com/.default"
COGNITIVE = "https://cognitiveservices.azure.com/.default"
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


@pytest.fixture
def aoai() -> Iterator[FakeAzureOpenAI]:
    with FakeAzureOpenAI(tls=True) as fake:
        yield fake


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        yield fake


@contextmanager
def azure_openai(fake: FakeAzureOpenAI, **options: Any) -> Iterator[openai.AzureOpenAI]:
    """openai's client for the fake, trusting the test CA, with the api key unless a token
    provider is given."""
    if "azure_ad_token_provider" not in options:
        options.setdefault("api_key", fake.api_key)
    with (
        httpx2.Client(verify=fake.ssl_context()) as http,
        openai.AzureOpenAI(
            azure_endpoint=fake.url, api_version="2024-02-01", http_client=http, **options
        ) as client,
    ):
        yield client


@contextmanager
def confidential_client(entra: FakeEntra, **options: Any) -> Iterator[Any]:
    """msal's client for the fake. trust_env=False: requests would otherwise let
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment override the session's CA."""
    session = requests.Session()
    session.verify = entra.ca_path
    session.trust_env = False
    options.setdefault("instance_discovery", False)
    options.setdefault("validate_authority", False)
    try:
        yield msal.ConfidentialClientApplication(
            entra.client_id,
            client_credential=options.pop("secret", entra.client_secret),
            authority=f"{entra.authority}/{entra.tenant}",
            http_client=session,
            **options,
        )
    finally:
        session.close()


# -- openai: AzureOpenAI ---------------------------------------------------------------------------


def test_chat_completion(aoai: FakeAzureOpenAI) -> None:
    aoai.respond("hello", "SELECT 1")
    with azure_openai(aoai) as client:
        reply = client.chat.completions.create(model="gpt-4o", messages=HELLO, max_tokens=50)
    assert reply.choices[0].message.content == "SELECT 1"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == "gpt-4o-2024-08-06"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (8, 2)
    [sent] = aoai.requests
    assert sent.path == "/openai/deployments/gpt-4o/chat/completions"
    assert sent.query == {"api-version": "2024-02-01"}
    assert sent.headers["api-key"] == aoai.api_key
    assert sent.headers["User-Agent"] == f"AzureOpenAI/Python {openai.__version__}"
    assert sent.headers["x-stainless-lang"] == "python"
    assert sent.headers["x-stainless-retry-count"] == "0"
    assert sent.json() == {"messages": HELLO, "model": "gpt-4o", "max_tokens": 50}


def test_streaming_with_include_usage(aoai: FakeAzureOpenAI) -> None:
    aoai.respond("hello", "one two three four five")
    with azure_openai(aoai) as client:
        stream = client.chat.completions.create(
            model="gpt-4o", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
    assert chunks[0].choices == []
    assert chunks[0].model_extra is not None
    assert chunks[0].model_extra["prompt_filter_results"][0]["prompt_index"] == 0
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == "one two three four five"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finish[-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 8 + 6
    assert all(c.usage is None for c in chunks[:-1])


def test_embeddings(aoai: FakeAzureOpenAI) -> None:
    with azure_openai(aoai) as client:
        default = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
        floats = client.embeddings.create(
            model="text-embedding-3-large", input="a", encoding_format="float"
        )
        short = client.embeddings.create(model="text-embedding-3-small", input="a", dimensions=64)
    assert aoai.requests[0].json()["encoding_format"] == "base64"  # the SDK's default
    assert [d.index for d in default.data] == [0, 1]
    assert default.data[1].embedding == fake_embedding("b", "text-embedding-3-small")
    assert floats.data[0].embedding == fake_embedding("a", "text-embedding-3-large")
    assert len(short.data[0].embedding) == 64
    assert default.usage.prompt_tokens == 2


def test_429_is_retried_after_retry_after_ms(aoai: FakeAzureOpenAI) -> None:
    aoai.throttle_next(2, retry_after_ms=30)
    with azure_openai(aoai) as client:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert [r.headers["x-stainless-retry-count"] for r in aoai.requests] == ["0", "1", "2"]
    assert all(0.03 <= delay < 0.3 for delay in aoai.intervals())
    assert aoai.connections == 1  # retries reuse the connection


def test_two_retries_then_rate_limit_error(aoai: FakeAzureOpenAI) -> None:
    aoai.throttle_next(3, retry_after_ms=10)
    with azure_openai(aoai) as client, pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert len(aoai.requests) == 3
    assert caught.value.status_code == 429
    assert caught.value.code == "429"
    assert "exceeded token rate limit" in caught.value.message


def test_a_retry_after_over_120_seconds_is_not_retried(aoai: FakeAzureOpenAI) -> None:
    aoai.throttle_next(1, retry_after=86400, headers={"x-should-retry": "true"})
    with azure_openai(aoai) as client, pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert len(aoai.requests) == 1


def test_x_should_retry_decides(aoai: FakeAzureOpenAI) -> None:
    aoai.fail_next(1, 400, headers={"x-should-retry": "true", "retry-after-ms": "10"})
    with azure_openai(aoai) as client:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)  # 400, then retried
        aoai.fail_next(1, 500, headers={"x-should-retry": "false"})
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert len(aoai.requests) == 3
    assert caught.value.code == "InternalServerError"


def test_without_retry_after_the_backoff_is_half_a_second_less_jitter(
    aoai: FakeAzureOpenAI,
) -> None:
    aoai.fail_next(1, 503)
    with azure_openai(aoai) as client:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    [delay] = aoai.intervals()
    assert 0.375 <= delay < 1.0  # min(0.5 * 2**0, 8) * (1 - 0.25 * random()), plus overhead


def test_a_reset_connection_is_retried_on_a_new_connection(aoai: FakeAzureOpenAI) -> None:
    aoai.reset_next(1)
    with azure_openai(aoai) as client:
        reply = client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert reply.choices[0].message.content
    assert [r.connection for r in aoai.requests] == [1, 2]


def test_a_slow_response_times_out(aoai: FakeAzureOpenAI) -> None:
    aoai.delay_next(1, 1.0)
    with (
        azure_openai(aoai, timeout=0.2, max_retries=0) as client,
        pytest.raises(openai.APITimeoutError),
    ):
        client.chat.completions.create(model="gpt-4o", messages=HELLO)


def test_a_truncated_body_is_an_error(aoai: FakeAzureOpenAI) -> None:
    aoai.malformed_next(1)
    with azure_openai(aoai) as client, pytest.raises(json.JSONDecodeError):
        client.chat.completions.create(model="gpt-4o", messages=HELLO)


def test_service_errors_map_to_sdk_exceptions(aoai: FakeAzureOpenAI) -> None:
    aoai.filter_pattern("forbidden")
    with azure_openai(aoai) as client:
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "forbidden"}]
            )
        assert refused.value.code == "content_filter"
        assert refused.value.param == "prompt"
        assert isinstance(refused.value.body, dict)
        result = refused.value.body["innererror"]["content_filter_result"]
        assert result["hate"] == {"filtered": True, "severity": "high"}
        with pytest.raises(openai.BadRequestError) as too_long:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "x" * 600_000}]
            )
        assert too_long.value.code == "context_length_exceeded"
        assert too_long.value.type == "invalid_request_error"
        with pytest.raises(openai.NotFoundError) as missing:
            client.chat.completions.create(model="gpt-5", messages=HELLO)
        assert missing.value.code == "DeploymentNotFound"
        with pytest.raises(openai.BadRequestError) as empty:
            client.chat.completions.create(model="gpt-4o", messages=[])
        assert empty.value.message == "Error code: 400 - [] is too short - 'messages'"
        assert empty.value.type == "invalid_request_error"
    with (
        azure_openai(aoai, api_key="wrong") as client,
        pytest.raises(openai.AuthenticationError) as denied,
    ):
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert denied.value.code == "401"
    assert len(aoai.requests) == 5  # 4xx are not retried


# -- msal: ConfidentialClientApplication -----------------------------------------------------------


def test_msal_acquires_tokens(entra: FakeEntra) -> None:
    with confidential_client(entra) as app:
        fabric = app.acquire_token_for_client([FABRIC])
        cognitive = app.acquire_token_for_client([COGNITIVE])
        cached = app.acquire_token_for_client([FABRIC])
    assert fabric["token_type"] == "Bearer"
    assert fabric["token_source"] == "identity_provider"
    assert entra.validate(fabric["access_token"], audience="https://api.fabric.microsoft.com")
    assert entra.validate(cognitive["access_token"], audience="https://cognitiveservices.azure.com")
    assert cached["token_source"] == "cache"
    assert cached["access_token"] == fabric["access_token"]
    discovery, post, _ = entra.requests
    assert (discovery.method, discovery.path) == (
        "GET",
        f"/{entra.tenant}/v2.0/.well-known/openid-configuration",
    )
    assert post.headers["x-client-sku"] == "MSAL.Python"
    assert post.headers["x-client-ver"] == msal.__version__
    assert post.headers["x-ms-lib-capability"] == "retry-after, h429"
    assert post.headers["client-request-id"]
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {name: values[0] for name, values in parse_qs(post.body.decode()).items()}
    assert form == {
        "client_id": entra.client_id,
        "client_secret": entra.client_secret,  # in the body, not HTTP Basic
        "client_info": "1",
        "grant_type": "client_credentials",
        "scope": FABRIC,
    }
    assert [t.scope for t in entra.issued] == [FABRIC, COGNITIVE]


def test_msal_refreshes_a_token_within_five_minutes_of_expiry(entra: FakeEntra) -> None:
    entra.expires_in = 299
    with confidential_client(entra) as app:
        first = app.acquire_token_for_client([FABRIC])
        second = app.acquire_token_for_client([FABRIC])
    assert second["token_source"] == "identity_provider"
    assert first["access_token"] != second["access_token"]
    assert len(entra.issued) == 2


def test_msal_returns_oauth_errors_as_dicts(entra: FakeEntra) -> None:
    with confidential_client(entra, secret="wrong") as app:
        denied = app.acquire_token_for_client([FABRIC])
    assert denied["error"] == "invalid_client"
    assert denied["error_description"].startswith("AADSTS7000215: ")
    assert denied["error_codes"] == [7000215]
    with confidential_client(entra) as app:
        bad_scope = app.acquire_token_for_client(["https://api.fabric.microsoft.com/Item.Read"])
    assert bad_scope["error"] == "invalid_scope"
    assert bad_scope["error_description"].startswith("AADSTS1002012: ")
    assert entra.issued == []


def test_msal_raises_on_5xx_and_on_a_plain_text_429(entra: FakeEntra) -> None:
    entra.fail_next(1, 500, path="/token")
    with confidential_client(entra) as app, pytest.raises(msal.exceptions.MsalServiceError):
        app.acquire_token_for_client([FABRIC])
    entra.throttle_next(1, retry_after=1, path="/token")
    with confidential_client(entra) as app, pytest.raises(json.JSONDecodeError):
        app.acquire_token_for_client([FABRIC])


def test_msal_uses_the_fakes_instance_discovery(entra: FakeEntra) -> None:
    with confidential_client(
        entra,
        instance_discovery=f"{entra.url}/common/discovery/instance",
        validate_authority=True,
    ) as app:
        assert "access_token" in app.acquire_token_for_client([FABRIC])
    assert [r.path for r in entra.requests][:2] == [
        "/common/discovery/instance",
        f"/{entra.tenant}/v2.0/.well-known/openid-configuration",
    ]


def test_msal_refuses_a_plain_http_authority() -> None:
    with FakeEntra(tls=False) as entra, pytest.raises(ValueError, match="https"):
        msal.ConfidentialClientApplication(
            entra.client_id,
            client_credential=entra.client_secret,
            authority=f"{entra.url}/{entra.tenant}",
            instance_discovery=False,
            validate_authority=False,
        )


def test_an_msal_token_authenticates_openai_against_the_fake(entra: FakeEntra) -> None:
    with (
        FakeAzureOpenAI(tls=True, entra=entra) as aoai,
        confidential_client(entra) as app,
    ):

        def token() -> str:
            result: str = app.acquire_token_for_client([COGNITIVE])["access_token"]
            return result

        with azure_openai(aoai, azure_ad_token_provider=token) as client:
            for _ in range(2):
                assert client.chat.completions.create(model="gpt-4o", messages=HELLO).choices
            entra.expire_all()  # the cached token is now refused: 401, not retried
            with pytest.raises(openai.AuthenticationError):
                client.chat.completions.create(model="gpt-4o", messages=HELLO)
        bearer = aoai.requests[0].headers["Authorization"]
        assert bearer == f"Bearer {entra.issued[0].access_token}"
        assert "api-key" not in aoai.requests[0].headers
        assert len(entra.issued) == 1  # msal's cache served the second call


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_msal_and_aadap_get_the_same_answers(entra: FakeEntra) -> None:
    import aadap

    ours = aadap.EntraCredential(
        entra.tenant, entra.client_id, entra.client_secret,
        authority=entra.url, ca_bundle=str(entra.ca_path),
    )  # fmt: skip
    with confidential_client(entra) as app:
        theirs = app.acquire_token_for_client([FABRIC])["access_token"]
    mine = ours.token(FABRIC).reveal()
    keep = ("aud", "appid", "tid")
    assert {k: claims(mine)[k] for k in keep} == {k: claims(theirs)[k] for k in keep}
    assert entra.validate(mine, audience="https://api.fabric.microsoft.com")

    wrong = aadap.EntraCredential(
        entra.tenant, entra.client_id, "wrong-secret-5555",
        authority=entra.url, ca_bundle=str(entra.ca_path),
    )  # fmt: skip
    with confidential_client(entra, secret="wrong-secret-5555") as app:
        refused = app.acquire_token_for_client([FABRIC])
    with pytest.raises(aadap.AuthenticationError) as caught:
        wrong.token(FABRIC)
    assert refused["error"] == "invalid_client"
    assert caught.value.code == refused["error"]
    assert refused["error_description"].split("\r\n")[0] in str(caught.value)


# -- databricks-sdk: WorkspaceClient ---------------------------------------------------------------

# databricks-sdk talks to FakeDatabricks over plain http (it accepts an http:// host as it is).
# Its retry sleeps go through the Config's clock, so the tests inject a clock that records the
# sleeps instead of sleeping: the SDK sleeps Retry-After + random() (0..1) s on 429/503.

STATEMENTS = "/api/2.0/sql/statements"


class RecordingClock(Clock):
    """A clock for the SDK's retry loop: sleeps are recorded and advance its time, instantly."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self._ahead = 0.0

    def time(self) -> float:
        return time.time() + self._ahead

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._ahead += seconds


@pytest.fixture
def dbx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeDatabricks]:
    """A fake workspace, with no DATABRICKS_* variables and an empty HOME for the SDK."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "ARM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    with FakeDatabricks() as fake:
        yield fake


def workspace(fake: FakeDatabricks, clock: Clock | None = None, **options: Any) -> WorkspaceClient:
    """databricks-sdk's client for the fake (the PAT unless other credentials are given)."""
    if not {"token", "client_id", "profile", "auth_type"} & set(options):
        options["token"] = fake.token
    config = Config(host=fake.url, clock=clock or RecordingClock(), **options)
    return WorkspaceClient(config=config)


def sent_to(fake: FakeDatabricks, path: str) -> list[Any]:
    return [r for r in fake.requests if r.path == path]


def test_databricks_sdk_executes_and_follows_inline_chunks(dbx: FakeDatabricks) -> None:
    dbx.add_table(
        r"FROM sales\.orders",
        [("id", "BIGINT"), ("amount", "DECIMAL(10,2)"), ("day", "DATE"),
         ("at", "TIMESTAMP"), ("tags", "ARRAY<STRING>"), ("ok", "BOOLEAN")],
        [(n, Decimal(n) / 4, date(2024, 5, n + 1), datetime(2024, 5, 1, n, tzinfo=timezone.utc),
          ["a", str(n)], n % 2 == 0) for n in range(5)],
        rows_per_chunk=2,
    )  # fmt: skip
    w = workspace(dbx)
    response = w.statement_execution.execute_statement(
        statement="SELECT * FROM sales.orders",
        warehouse_id=dbx.warehouse_id,
        catalog="main",
        schema="sales",
        wait_timeout="30s",
    )
    assert response.status is not None
    assert response.status.state == StatementState.SUCCEEDED
    manifest, result = response.manifest, response.result
    assert manifest is not None
    assert manifest.schema is not None
    assert result is not None
    assert (manifest.total_chunk_count, manifest.total_row_count, manifest.truncated) == (
        3,
        5,
        False,
    )
    columns = manifest.schema.columns or []
    assert [(c.name, c.type_name, c.type_text) for c in columns] == [
        ("id", ColumnInfoTypeName.LONG, "BIGINT"),
        ("amount", ColumnInfoTypeName.DECIMAL, "DECIMAL(10,2)"),
        ("day", ColumnInfoTypeName.DATE, "DATE"),
        ("at", ColumnInfoTypeName.TIMESTAMP, "TIMESTAMP"),
        ("tags", ColumnInfoTypeName.ARRAY, "ARRAY<STRING>"),
        ("ok", ColumnInfoTypeName.BOOLEAN, "BOOLEAN"),
    ]
    assert (columns[1].type_precision, columns[1].type_scale) == (10, 2)
    rows = list(result.data_array or [])
    next_index = result.next_chunk_index
    assert response.statement_id is not None
    while next_index is not None:
        data = w.statement_execution.get_statement_result_chunk_n(response.statement_id, next_index)
        rows += data.data_array or []
        next_index = data.next_chunk_index
    assert rows[0] == ["0", "0.00", "2024-05-01", "2024-05-01T00:00:00.000Z", '["a","0"]', "true"]
    assert rows[4] == ["4", "1.00", "2024-05-05", "2024-05-01T04:00:00.000Z", '["a","4"]', "true"]
    assert len(rows) == 5

    metadata, execute, *chunks = dbx.requests
    assert metadata.path == "/.well-known/databricks-config"  # read when the Config is built
    assert "Authorization" not in metadata.headers
    chunk_path = f"{STATEMENTS}/{response.statement_id}/result/chunks"
    assert [c.path for c in chunks] == [f"{chunk_path}/1", f"{chunk_path}/2"]
    assert execute.headers["Authorization"] == f"Bearer {dbx.token}"
    assert execute.headers["Content-Type"] == "application/json"
    assert execute.headers["Accept"] == "application/json"
    assert f"databricks-sdk-py/{databricks_sdk_version}" in execute.headers["User-Agent"]
    assert "auth/pat" in execute.headers["User-Agent"]
    assert execute.headers["X-Databricks-Workspace-Id"] == dbx.workspace_id  # from the metadata
    assert execute.json() == {
        "catalog": "main",
        "schema": "sales",
        "statement": "SELECT * FROM sales.orders",
        "wait_timeout": "30s",
        "warehouse_id": dbx.warehouse_id,
    }
    assert dbx.connections == 2  # the metadata probe has its own session; the API calls share one


def test_databricks_sdk_polls_an_asynchronous_statement(dbx: FakeDatabricks) -> None:
    dbx.add_table("slow", [("n", "INT")], [(7,)], pending_polls=1, running_polls=2)
    w = workspace(dbx)
    response = w.statement_execution.execute_statement(
        statement="SELECT n FROM slow", warehouse_id=dbx.warehouse_id, wait_timeout="0s"
    )
    assert response.status is not None
    assert response.status.state == StatementState.PENDING
    assert response.statement_id is not None
    states = []
    while True:  # the Python SDK has no waiter for statements: callers poll
        polled = w.statement_execution.get_statement(response.statement_id)
        assert polled.status is not None
        assert polled.status.state is not None
        states.append(polled.status.state.value)
        if polled.status.state not in (StatementState.PENDING, StatementState.RUNNING):
            break
    assert states == ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
    assert polled.result is not None
    assert polled.result.data_array == [["7"]]
    assert dbx.statement(response.statement_id).polls == 4


def test_databricks_sdk_cancels_and_sees_canceled(dbx: FakeDatabricks) -> None:
    dbx.add_table("forever", [("n", "INT")], [(1,)], running_polls=1000)
    w = workspace(dbx)
    response = w.statement_execution.execute_statement(
        statement="SELECT * FROM forever", warehouse_id=dbx.warehouse_id, wait_timeout="0s"
    )
    assert response.statement_id is not None
    w.statement_execution.get_statement(response.statement_id)
    w.statement_execution.cancel_execution(response.statement_id)  # empty 200 body
    polled = w.statement_execution.get_statement(response.statement_id)
    assert polled.status is not None
    assert polled.status.state == StatementState.CANCELED
    info = dbx.statement(response.statement_id)
    assert (info.cancels, info.canceled_by, info.polls) == (1, "client", 2)
    [cancel] = sent_to(dbx, f"{STATEMENTS}/{response.statement_id}/cancel")
    assert cancel.method == "POST"


def test_databricks_sdk_synchronous_mode_cancels_on_wait_timeout() -> None:
    with FakeDatabricks(time_scale=0.002) as fake:  # a 5 s wait lasts 10 ms
        fake.add_table("long", [("n", "INT")], [(1,)], running_seconds=600)
        w = workspace(fake)
        response = w.statement_execution.execute_statement(
            statement="SELECT * FROM long",
            warehouse_id=fake.warehouse_id,
            wait_timeout="5s",
            on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CANCEL,
        )
        assert response.status is not None
        assert response.status.state == StatementState.CANCELED
        assert fake.last_statement.canceled_by == "wait_timeout"


def test_databricks_sdk_reports_a_failed_statement_as_a_200(dbx: FakeDatabricks) -> None:
    dbx.fail_statement(r"^SELEC ", message="[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. "
                       "SQLSTATE: 42601", sql_state="42601")  # fmt: skip
    response = workspace(dbx).statement_execution.execute_statement(
        statement="SELEC 1", warehouse_id=dbx.warehouse_id
    )
    status = response.status
    assert status is not None
    assert status.error is not None
    assert status.state == StatementState.FAILED
    assert status.sql_state == "42601"
    assert status.error.error_code == ServiceErrorCode.BAD_REQUEST
    assert status.error.message is not None
    assert status.error.message.startswith("[PARSE_SYNTAX_ERROR]")
    assert response.manifest is None
    assert response.result is None


def test_databricks_sdk_sends_named_parameters_as_values(dbx: FakeDatabricks) -> None:
    dbx.add_table(
        r"WHERE region = :region AND day >= :since",
        [("region", "STRING"), ("since", "DATE"), ("limit", "INT")],
        lambda p: [(p["region"], p["since"], p["limit"])],
    )
    response = workspace(dbx).statement_execution.execute_statement(
        statement="SELECT * FROM t WHERE region = :region AND day >= :since LIMIT :limit",
        warehouse_id=dbx.warehouse_id,
        parameters=[
            StatementParameterListItem(name="region", value="EU'; --"),
            StatementParameterListItem(name="since", value="2024-05-01", type="DATE"),
            StatementParameterListItem(name="limit", value="10", type="INT"),
        ],
    )
    assert response.result is not None
    assert response.result.data_array == [["EU'; --", "2024-05-01", "10"]]
    [execute] = sent_to(dbx, STATEMENTS)
    assert execute.json()["parameters"] == [
        {"name": "region", "value": "EU'; --"},
        {"name": "since", "type": "DATE", "value": "2024-05-01"},
        {"name": "limit", "type": "INT", "value": "10"},
    ]


def test_databricks_sdk_external_links_are_downloaded_without_authorization(
    dbx: FakeDatabricks,
) -> None:
    dbx.add_table("big", [("n", "INT"), ("s", "STRING")], [(n, f"row {n}") for n in range(5)],
                  rows_per_chunk=2)  # fmt: skip
    w = workspace(dbx)
    response = w.statement_execution.execute_statement(
        statement="SELECT * FROM big",
        warehouse_id=dbx.warehouse_id,
        disposition=Disposition.EXTERNAL_LINKS,
        format=Format.JSON_ARRAY,
    )
    assert response.manifest is not None
    assert response.result is not None
    assert response.manifest.total_byte_count is not None
    assert response.statement_id is not None
    links = list(response.result.external_links or [])
    assert response.result.data_array is None
    while links[-1].next_chunk_index is not None:
        chunk = w.statement_execution.get_statement_result_chunk_n(
            response.statement_id, links[-1].next_chunk_index
        )
        links += chunk.external_links or []
    assert [link.chunk_index for link in links] == [0, 1, 2]
    rows: list[list[str]] = []
    with requests.Session() as storage:  # a plain client: no Databricks credentials
        storage.trust_env = False
        for link in links:
            assert link.external_link is not None
            assert link.expiration is not None
            reply = storage.get(link.external_link, headers=link.http_headers or {})
            assert reply.status_code == 200
            assert len(reply.content) == link.byte_count
            rows += reply.json()
        assert links[0].external_link is not None
        refused = storage.get(
            links[0].external_link, headers={"Authorization": f"Bearer {dbx.token}"}
        )
    assert rows == [[str(n), f"row {n}"] for n in range(5)]
    assert refused.status_code == 400
    assert dbx.statement(response.statement_id).downloads == 3
    sdk_paths = [
        r.path for r in dbx.requests if "databricks-sdk-py" in r.headers.get("User-Agent", "")
    ]
    assert not any(p.startswith("/storage/") for p in sdk_paths)  # the SDK never downloads


def test_databricks_sdk_retries_429_and_503_after_retry_after(dbx: FakeDatabricks) -> None:
    clock = RecordingClock()
    w = workspace(dbx, clock)
    dbx.throttle_next(2, retry_after=2, path=STATEMENTS)
    dbx.fail_next(1, 429, path=STATEMENTS)  # no Retry-After: the SDK waits 1 s
    dbx.throttle_next(1, retry_after=0.5, path=STATEMENTS)  # not an integer: 1 s, as if missing
    dbx.fail_next(1, 503, headers={"Retry-After": "0"}, path=STATEMENTS)
    response = w.statement_execution.execute_statement(
        statement="SELECT 1", warehouse_id=dbx.warehouse_id
    )
    assert response.status is not None
    assert response.status.state == StatementState.SUCCEEDED
    assert len(sent_to(dbx, STATEMENTS)) == 6
    assert len(dbx.statements) == 1  # the retries did not run the statement twice
    assert len(clock.slept) == 5
    for slept, retry_after in zip(clock.slept, [2, 2, 1, 1, 0], strict=True):
        assert retry_after <= slept < retry_after + 1  # Retry-After + random()
    assert dbx.connections == 2  # the metadata probe's, and one kept alive through the retries


def test_databricks_sdk_retries_transient_messages_but_not_other_5xx(dbx: FakeDatabricks) -> None:
    clock = RecordingClock()
    w = workspace(dbx, clock)
    dbx.error_next(2, 500, message="Unexpected error", path="/api/")
    w.statement_execution.execute_statement(statement="SELECT 1", warehouse_id=dbx.warehouse_id)
    assert [int(s) for s in clock.slept] == [1, 2]  # min(10, attempt) + random()
    dbx.fail_next(1, 500, path="/api/")
    with pytest.raises(dbx_errors.InternalError, match="Internal error"):
        w.statement_execution.execute_statement(statement="SELECT 1", warehouse_id=dbx.warehouse_id)
    dbx.fail_next(1, 502, path="/api/")
    with pytest.raises(dbx_errors.base.DatabricksError):
        w.statement_execution.execute_statement(statement="SELECT 1", warehouse_id=dbx.warehouse_id)
    assert len(clock.slept) == 2


def test_databricks_sdk_gives_up_at_its_retry_deadline(dbx: FakeDatabricks) -> None:
    clock = RecordingClock()
    w = workspace(dbx, clock, retry_timeout_seconds=5)
    dbx.throttle_next(10, retry_after=3, path=STATEMENTS)
    with pytest.raises(TimeoutError, match="Timed out after 0:00:05") as caught:
        w.statement_execution.execute_statement(statement="SELECT 1", warehouse_id=dbx.warehouse_id)
    assert isinstance(caught.value.__cause__, dbx_errors.TooManyRequests)
    assert isinstance(caught.value.__cause__, dbx_errors.RequestLimitExceeded)
    # attempt, sleep 3-4 s, attempt, sleep 3-4 s: past the deadline (it sleeps after the last)
    assert len(sent_to(dbx, STATEMENTS)) == len(clock.slept) == 2


@pytest.mark.parametrize(
    ("status", "shape", "code", "message", "expected"),
    [
        (400, "standard", "INVALID_PARAMETER_VALUE", "bad", dbx_errors.InvalidParameterValue),
        (404, "standard", "RESOURCE_DOES_NOT_EXIST", "gone", dbx_errors.ResourceDoesNotExist),
        (404, "standard", "NOT_FOUND", "gone", dbx_errors.NotFound),
        (400, "text", "INVALID_STATE", "not yet", dbx_errors.InvalidState),
        (409, "legacy", None, "exists already", dbx_errors.ResourceConflict),
        (401, "html", None, "Unauthorized", dbx_errors.Unauthenticated),
        (403, "numeric", None, "Invalid access token.", dbx_errors.PermissionDenied),
        (504, "empty", None, "Gateway Timeout", dbx_errors.DeadlineExceeded),
        (501, "standard", None, "The operation is not implemented.", dbx_errors.NotImplemented),
        (499, "standard", None, "The operation was cancelled by the caller.",
         dbx_errors.Cancelled),
        (400, "standard", "ABORTED", "race", dbx_errors.Aborted),  # the code wins over 400
    ],
)  # fmt: skip
def test_databricks_sdk_maps_every_error_shape(
    dbx: FakeDatabricks,
    status: int,
    shape: Any,
    code: str | None,
    message: str,
    expected: type[Exception],
) -> None:
    w = workspace(dbx)
    dbx.error_next(1, status, shape=shape, error_code=code, message=message, path=STATEMENTS)
    with pytest.raises(expected) as caught:
        w.statement_execution.get_statement("01ef-any")
    assert type(caught.value) is expected
    assert str(caught.value).startswith(message.rstrip("."))  # 401/403 get config info appended
    assert len(sent_to(dbx, f"{STATEMENTS}/01ef-any")) == 1  # none of these is retried


def test_databricks_sdk_against_the_real_checks(dbx: FakeDatabricks) -> None:
    w = workspace(dbx)
    with pytest.raises(dbx_errors.InvalidParameterValue, match="wait_timeout"):
        w.statement_execution.execute_statement(
            statement="SELECT 1", warehouse_id=dbx.warehouse_id, wait_timeout="60s"
        )
    with pytest.raises(dbx_errors.ResourceDoesNotExist):
        w.statement_execution.execute_statement(statement="SELECT 1", warehouse_id="unknown")
    with pytest.raises(dbx_errors.NotFound):
        w.statement_execution.get_statement("01ef-unknown")
    with pytest.raises(dbx_errors.PermissionDenied, match=r"^Invalid access token"):
        workspace(dbx, token="dapi-wrong").statement_execution.get_statement("01ef-unknown")


def test_databricks_sdk_oauth_m2m(dbx: FakeDatabricks) -> None:
    w = workspace(dbx, client_id=dbx.client_id, client_secret=dbx.client_secret)
    assert w.config.auth_type == "oauth-m2m"
    for _ in range(2):
        w.statement_execution.execute_statement(statement="SELECT 1", warehouse_id=dbx.warehouse_id)
    paths = [r.path for r in dbx.requests]
    assert paths[:3] == [
        "/.well-known/databricks-config",
        "/oidc/.well-known/oauth-authorization-server",
        "/oidc/v1/token",
    ]
    [token_request] = sent_to(dbx, "/oidc/v1/token")  # cached for the second call
    assert (
        token_request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{dbx.client_id}:{dbx.client_secret}".encode()).decode()
    )
    assert parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "scope": ["all-apis"],
    }
    [issued] = dbx.issued
    assert {r.headers["Authorization"] for r in sent_to(dbx, STATEMENTS)} == {
        f"Bearer {issued.access_token}"
    }
    dbx.expire_access_tokens()  # the SDK cannot know: its cached token is now refused, no retry
    with pytest.raises(dbx_errors.PermissionDenied):
        w.statement_execution.execute_statement(statement="SELECT 1", warehouse_id=dbx.warehouse_id)


def test_databricks_sdk_refreshes_short_lived_m2m_tokens(dbx: FakeDatabricks) -> None:
    dbx.expires_in = 30  # the SDK treats a token as expired 40 s early: every call refreshes
    w = workspace(dbx, client_id=dbx.client_id, client_secret=dbx.client_secret)
    for _ in range(3):
        w.statement_execution.execute_statement(statement="SELECT 1", warehouse_id=dbx.warehouse_id)
    assert len(dbx.issued) == 3  # fetched on first use, not when the client is built
    authorizations = [r.headers["Authorization"] for r in sent_to(dbx, STATEMENTS)]
    assert authorizations == [f"Bearer {t.access_token}" for t in dbx.issued]
    wrong = workspace(dbx, client_id=dbx.client_id, client_secret="wrong")  # no token yet
    with pytest.raises(ValueError, match="invalid_client: Client authentication failed"):
        wrong.statement_execution.get_statement("01ef-any")


# The SDK's `databricks-cli` auth runs `databricks auth token` and trusts its JSON; the real CLI
# is a Go binary that is not on PyPI, so this stand-in does what the CLI does with its v1 token
# cache (cloud-apis.md B2): find the login, refresh an expired access token at the workspace's
# OIDC token endpoint with client_id=databricks-cli, write the cache back, print the token.
STUB_CLI = """#!{python}
import configparser, json, os, sys, time, urllib.error, urllib.parse, urllib.request
from datetime import datetime, timezone

args = sys.argv[1:]
if args[:1] == ["version"]:
    print(json.dumps({{"Version": "0.250.0", "Major": 0, "Minor": 250, "Patch": 0}}))
    sys.exit(0)
assert args[:2] == ["auth", "token"], args
options = dict(zip(args[2::2], args[3::2]))
home = os.path.expanduser("~")
cache_path = os.path.join(home, ".databricks", "token-cache.json")
with open(cache_path) as handle:
    cache = json.load(handle)
if cache.get("version") != 1:
    sys.exit("token cache needs version 1")
if "--profile" in options:
    profiles = configparser.ConfigParser()
    profiles.read(os.environ.get("DATABRICKS_CONFIG_FILE", os.path.join(home, ".databrickscfg")))
    host = profiles[options["--profile"]]["host"]
    key = options["--profile"] if options["--profile"] in cache["tokens"] else host
else:
    host = key = options["--host"]
entry = cache["tokens"][key]
expiry = datetime.strptime(entry["expiry"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
if expiry.timestamp() <= time.time() + 40:
    with urllib.request.urlopen(host + "/oidc/.well-known/oauth-authorization-server") as reply:
        endpoint = json.load(reply)["token_endpoint"]
    form = urllib.parse.urlencode({{"grant_type": "refresh_token", "client_id": "databricks-cli",
                                   "refresh_token": entry["refresh_token"]}}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(endpoint, data=form)) as reply:
            token = json.load(reply)
    except urllib.error.HTTPError as error:
        sys.exit("refresh failed: " + error.read().decode())
    expires = datetime.fromtimestamp(time.time() + token["expires_in"], timezone.utc)
    entry = dict(entry, access_token=token["access_token"],
                 refresh_token=token.get("refresh_token", entry["refresh_token"]),
                 expiry=expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    cache["tokens"][key] = cache["tokens"][host] = entry
    with open(cache_path, "w") as handle:
        json.dump(cache, handle)
expiry = datetime.strptime(entry["expiry"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
print(json.dumps({{"access_token": entry["access_token"], "token_type": "Bearer",
                  "expiry": expiry.astimezone().isoformat(timespec="microseconds")}}))
"""


def stub_cli(directory: Path) -> Path:
    path = directory / "databricks"
    path.write_text(STUB_CLI.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_databricks_sdk_cli_auth_refreshes_through_the_fake(
    dbx: FakeDatabricks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = dbx.write_databrickscfg(tmp_path / ".databrickscfg", profile="dev",
                                          auth_type="databricks-cli")  # fmt: skip
    cache = dbx.write_token_cache(tmp_path / ".databricks" / "token-cache.json", expired=True)
    stale = json.loads(cache.read_text())["tokens"][dbx.url]
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config_file))
    w = WorkspaceClient(config=Config(profile="dev", databricks_cli_path=str(stub_cli(tmp_path)),
                                      clock=RecordingClock()))  # fmt: skip
    assert w.config.auth_type == "databricks-cli"
    assert w.config.host == dbx.url
    assert w.config.warehouse_id == dbx.warehouse_id  # read from the profile
    response = w.statement_execution.execute_statement(
        statement="SELECT 1", warehouse_id=w.config.warehouse_id
    )
    assert response.status is not None
    assert response.status.state == StatementState.SUCCEEDED
    [refresh] = sent_to(dbx, "/oidc/v1/token")
    assert parse_qs(refresh.body.decode()) == {
        "grant_type": ["refresh_token"],
        "client_id": ["databricks-cli"],
        "refresh_token": [stale["refresh_token"]],
    }
    fresh = json.loads(cache.read_text())["tokens"][dbx.url]
    assert fresh["access_token"] == dbx.issued[-1].access_token != stale["access_token"]
    [execute] = sent_to(dbx, STATEMENTS)
    assert execute.headers["Authorization"] == f"Bearer {fresh['access_token']}"
    assert "auth/databricks-cli" in execute.headers["User-Agent"]

    dbx.write_token_cache(cache, expired=True)
    dbx.revoke_refresh_tokens()  # the user must log in again
    with pytest.raises(ValueError, match="Refresh token is invalid"):
        WorkspaceClient(config=Config(profile="dev", databricks_cli_path=str(stub_cli(tmp_path))))


def test_databricks_sdk_over_https_with_the_test_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeDatabricks(tls=True) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)  # requests' trust store
        response = workspace(fake).statement_execution.execute_statement(
            statement="SELECT 1", warehouse_id=fake.warehouse_id
        )
        assert response.result is not None
        assert response.result.data_array == [["1"]]
        assert fake.requests[0].path == "/.well-known/databricks-config"


# -- databricks-sdk part 2 -------------------------------------------------------------------------

# The SDK's long-running-operation waiters (``.result()`` of create, execute, run_now, submit,
# cancel_run, stop, clusters.start...) poll with linear backoff (attempt + random() seconds, at
# most 10) through time.time()/time.sleep() of their service modules, not the Config's clock:
# the fixture below hands those modules a RecordingClock, so a waiter records its sleeps and
# never really sleeps.


@pytest.fixture
def waiter_clock(monkeypatch: pytest.MonkeyPatch) -> RecordingClock:
    clock = RecordingClock()
    for module in (sdk_compute, sdk_compute_mixin, sdk_jobs, sdk_pipelines):
        monkeypatch.setattr(module, "time", clock)
    return clock


def whole_seconds(clock: RecordingClock) -> list[int]:
    return [int(seconds) for seconds in clock.slept]


def response_of(waiter: Any) -> Any:
    """The first response behind a waiter (``Wait.response``, which databricks-sdk annotates
    with the builtin ``any``)."""
    return waiter.response


def test_databricks_sdk_runs_python_through_the_command_execution_api(
    dbx: FakeDatabricks, waiter_clock: RecordingClock
) -> None:
    dbx.context_pending_polls = 1
    dbx.add_command(
        r"spark\.table\('orders'\)",
        table=([("id", "BIGINT"), ("amount", "DOUBLE")], [(1, 9.5), (2, None)]),
        running_polls=2,
    )
    w = workspace(dbx)
    assert w.clusters.get(dbx.cluster_id).state == State.RUNNING  # what a client checks first
    context = w.command_execution.create(cluster_id=dbx.cluster_id, language=Language.PYTHON)
    ready = context.result()
    assert ready.status == ContextStatus.RUNNING
    assert ready.id is not None
    assert ready.id == response_of(context).id
    try:
        printed = w.command_execution.execute(
            cluster_id=dbx.cluster_id,
            context_id=ready.id,
            language=Language.PYTHON,
            command='print("Hello from Databricks!")\nprint("2 + 2 =", 2 + 2)',
        ).result()
        assert printed.status == CommandStatus.FINISHED
        assert printed.results is not None
        assert printed.results.result_type == ResultType.TEXT
        assert printed.results.data == "Hello from Databricks!\n2 + 2 = 4"
        table = w.command_execution.execute_and_wait(
            cluster_id=dbx.cluster_id,
            context_id=ready.id,
            language=Language.PYTHON,
            command="display(spark.table('orders'))",
        )
        assert table.results is not None
        assert table.results.result_type == ResultType.TABLE
        assert table.results.data == [[1, 9.5], [2, None]]
        assert table.results.schema == [
            {"name": "id", "type": '"long"', "metadata": "{}"},
            {"name": "amount", "type": '"double"', "metadata": "{}"},
        ]
        assert table.results.is_json_schema is True
        raised = w.command_execution.execute_and_wait(
            cluster_id=dbx.cluster_id,
            context_id=ready.id,
            language=Language.PYTHON,
            command='raise ValueError("bad input")',
        )
        assert raised.status == CommandStatus.FINISHED  # a Python exception still "Finished"
        assert raised.results is not None
        assert raised.results.result_type == ResultType.ERROR
        assert raised.results.summary == "<span class='ansi-red-fg'>ValueError</span>: bad input"
        assert raised.results.cause is not None
        assert raised.results.cause.endswith("ValueError: bad input")
    finally:
        w.command_execution.destroy(cluster_id=dbx.cluster_id, context_id=ready.id)
    assert dbx.live_contexts == []
    assert (dbx.contexts_created, dbx.contexts_destroyed) == (1, 1)
    # context: one Pending poll; the table command: two Running polls (attempts 1 and 2)
    assert whole_seconds(waiter_clock) == [1, 1, 2]
    [create] = sent_to(dbx, "/api/1.2/contexts/create")
    assert create.json() == {"clusterId": dbx.cluster_id, "language": "python"}
    assert {tuple(sorted(r.query)) for r in sent_to(dbx, "/api/1.2/commands/status")} == {
        ("clusterId", "commandId", "contextId")
    }
    [destroy] = sent_to(dbx, "/api/1.2/contexts/destroy")
    assert destroy.json() == {"clusterId": dbx.cluster_id, "contextId": ready.id}


def test_databricks_sdk_command_waiters_fail_cancel_and_time_out(
    dbx: FakeDatabricks, waiter_clock: RecordingClock
) -> None:
    dbx.add_command("forever", text="never", running_polls=10_000)
    w = workspace(dbx)
    context = w.command_execution.create_and_wait(
        cluster_id=dbx.cluster_id, language=Language.PYTHON
    )
    assert context.id is not None
    try:
        long = w.command_execution.execute(
            cluster_id=dbx.cluster_id, context_id=context.id, command="forever()"
        )
        with pytest.raises(TimeoutError, match="timed out after 0:00:30"):
            long.result(timeout=timedelta(seconds=30))  # 30 s of waiting, recorded, not slept
        assert sum(waiter_clock.slept) >= 30
        command_id = response_of(long).id
        assert command_id is not None
        cancelled = w.command_execution.cancel(
            cluster_id=dbx.cluster_id, context_id=context.id, command_id=command_id
        ).result()
        assert cancelled.status == CommandStatus.CANCELLED
        with pytest.raises(dbx_errors.OperationFailed, match="failed to reach Finished or Error"):
            long.result()  # the execute waiter fails on Cancelled
        assert dbx.command(command_id).cancels == 1
    finally:
        w.command_execution.destroy(cluster_id=dbx.cluster_id, context_id=context.id)
    with pytest.raises(dbx_errors.BadRequest, match=r"does not exist \(it was destroyed\)"):
        w.command_execution.execute(
            cluster_id=dbx.cluster_id, context_id=context.id, command="print(1)"
        )
    dbx.fail_next_context()
    failing = w.command_execution.create(cluster_id=dbx.cluster_id, language=Language.PYTHON)
    with pytest.raises(dbx_errors.OperationFailed, match="failed to reach Running"):
        failing.result()
    assert [c.status for c in dbx.live_contexts] == ["Error"]  # a leak the test can see


def test_databricks_sdk_retries_a_cluster_that_is_not_ready(
    dbx: FakeDatabricks, waiter_clock: RecordingClock
) -> None:
    clock = RecordingClock()
    dbx.add_cluster("0404-000000-warm", "PENDING", pending_polls=2)
    w = workspace(dbx, clock)
    created = w.command_execution.create(cluster_id="0404-000000-warm", language=Language.SCALA)
    assert response_of(created).id is not None
    assert len(sent_to(dbx, "/api/1.2/contexts/create")) == 3  # ClusterNotReadyException twice
    assert whole_seconds(clock) == [1, 2]  # the SDK's transient-error backoff
    dbx.add_cluster("0404-000000-cold", "TERMINATED")
    impatient = workspace(dbx, RecordingClock(), retry_timeout_seconds=5)
    with pytest.raises(TimeoutError) as caught:
        impatient.command_execution.create(cluster_id="0404-000000-cold")
    assert isinstance(caught.value.__cause__, dbx_errors.BadRequest)
    assert "ClusterNotReadyException" in str(caught.value.__cause__)
    dbx.add_cluster("0404-000000-idle", "TERMINATED", pending_polls=1)
    w.clusters.ensure_cluster_is_running("0404-000000-idle")  # start, then wait for RUNNING
    assert dbx.cluster("0404-000000-idle").state == "RUNNING"
    assert dbx.cluster("0404-000000-idle").starts == 1
    [start] = sent_to(dbx, "/api/2.1/clusters/start")
    assert start.json() == {"cluster_id": "0404-000000-idle"}
    assert whole_seconds(waiter_clock) == [1]  # one PENDING poll


def test_databricks_sdk_lists_jobs_across_pages(dbx: FakeDatabricks) -> None:
    ids = [dbx.add_job(name=f"job-{n}") for n in range(45)]
    dbx.add_job(name="Nightly", tasks=["extract", "load"])
    w = workspace(dbx)
    listed = list(w.jobs.list(limit=20))
    assert [j.job_id for j in listed][:45] == ids
    assert len(listed) == 46
    pages = sent_to(dbx, "/api/2.2/jobs/list")
    assert [r.query.get("limit") for r in pages] == ["20", "20", "20"]
    assert "page_token" not in pages[0].query
    assert all(r.query.get("page_token") for r in pages[1:])
    nightly = list(w.jobs.list(name="nightly", expand_tasks=True))
    assert [j.settings.name for j in nightly if j.settings] == ["Nightly"]
    assert nightly[0].settings is not None
    assert [t.task_key for t in nightly[0].settings.tasks or []] == ["extract", "load"]
    job = w.jobs.get(ids[0])
    assert job.settings is not None
    assert job.settings.name == "job-0"
    assert job.creator_user_name == dbx.user_name
    with pytest.raises(dbx_errors.InvalidParameterValue, match="between 1 and 100"):
        list(w.jobs.list(limit=101))
    # 400 INVALID_PARAMETER_VALUE "Job 999 does not exist.", which the SDK's generated error
    # overrides turn into ResourceDoesNotExist (as for runs/get and clusters/get)
    with pytest.raises(dbx_errors.ResourceDoesNotExist, match="Job 999 does not exist"):
        w.jobs.get(999)
    with pytest.raises(dbx_errors.ResourceDoesNotExist, match="Cluster nope does not exist"):
        w.clusters.get("nope")


def test_databricks_sdk_runs_a_job_and_reads_the_notebook_exit_value(
    dbx: FakeDatabricks, waiter_clock: RecordingClock
) -> None:
    job_id = dbx.add_job(name="nightly", pending_polls=1, running_polls=2,
                         notebook_result='{"rows": 3}')  # fmt: skip
    w = workspace(dbx)
    started = w.jobs.run_now(
        job_id=job_id, notebook_params={"day": "2024-05-01"}, idempotency_token="nightly-1"
    )
    seen: list[RunLifeCycleState | None] = []

    def progress(polled: Run) -> None:  # called with every poll that is not terminal yet
        assert polled.state is not None
        seen.append(polled.state.life_cycle_state)

    run = started.result(callback=progress)
    assert seen == [RunLifeCycleState.PENDING, RunLifeCycleState.RUNNING, RunLifeCycleState.RUNNING]
    assert whole_seconds(waiter_clock) == [1, 2, 3]
    assert run.state is not None
    assert (run.state.life_cycle_state, run.state.result_state) == (
        RunLifeCycleState.TERMINATED,
        RunResultState.SUCCESS,
    )
    assert run.status is not None
    assert run.status.termination_details is not None
    assert run.status.termination_details.code == TerminationCodeCode.SUCCESS
    assert run.run_page_url == f"{dbx.url}/?o={dbx.workspace_id}#job/{job_id}/run/{run.run_id}"
    assert run.overriding_parameters is not None
    assert run.overriding_parameters.notebook_params == {"day": "2024-05-01"}
    [task] = run.tasks or []
    assert task.run_id is not None
    assert task.run_id != run.run_id
    output = w.jobs.get_run_output(task.run_id)
    assert output.notebook_output is not None
    assert output.notebook_output.result == '{"rows": 3}'
    assert output.metadata is not None
    assert output.metadata.run_id == task.run_id
    again = w.jobs.run_now(job_id=job_id, idempotency_token="nightly-1")
    assert response_of(again).run_id == run.run_id
    assert run.run_id is not None
    assert dbx.run(run.run_id).resubmits == 1
    assert len(dbx.runs) == 1
    first_call = sent_to(dbx, "/api/2.2/jobs/run-now")[0].json()
    assert first_call == {"job_id": job_id, "notebook_params": {"day": "2024-05-01"},
                          "idempotency_token": "nightly-1"}  # fmt: skip
    multi = dbx.add_job(name="multi", tasks=["a", "b"], notebook_result={"a": "1", "b": "2"})
    parent = w.jobs.run_now_and_wait(job_id=multi)
    assert parent.run_id is not None
    with pytest.raises(dbx_errors.InvalidParameterValue, match="multiple tasks"):
        w.jobs.get_run_output(parent.run_id)
    results = {}
    for each in parent.tasks or []:
        assert each.run_id is not None
        notebook = w.jobs.get_run_output(each.run_id).notebook_output
        assert notebook is not None
        results[each.task_key] = notebook.result
    assert results == {"a": "1", "b": "2"}


def test_databricks_sdk_submits_one_time_runs_and_sees_terminal_states(
    dbx: FakeDatabricks, waiter_clock: RecordingClock
) -> None:
    dbx.add_submit("fails", result_state="FAILED", error="AnalysisException: no such table",
                   running_polls=1)  # fmt: skip
    dbx.add_submit("internal", result_state="INTERNAL_ERROR")
    dbx.add_submit("skipped", result_state="SKIPPED")
    dbx.add_submit("slow", result_state="TIMEDOUT")
    dbx.add_submit(notebook_result=lambda parameters: f"ran {parameters['code']}")
    task = SubmitTask(
        task_key="main",
        existing_cluster_id=dbx.cluster_id,
        notebook_task=NotebookTask(
            notebook_path="/Shared/aadap/runner", base_parameters={"code": "SELECT 1"}
        ),
    )
    w = workspace(dbx)
    first = w.jobs.submit(run_name="aadap fails", tasks=[task], idempotency_token="task-7-try-1",
                          timeout_seconds=3600)  # fmt: skip
    second = w.jobs.submit(run_name="aadap fails", tasks=[task], idempotency_token="task-7-try-1",
                           timeout_seconds=3600)  # fmt: skip
    assert response_of(first).run_id == response_of(second).run_id is not None
    assert dbx.run(response_of(first).run_id).resubmits == 1
    failed = first.result()  # TERMINATED is the waiter's target, whatever the result
    assert failed.state is not None
    assert failed.state.result_state == RunResultState.FAILED
    assert failed.state.state_message == "Workload failed, see run output for details"
    failed_task = (failed.tasks or [])[0]
    assert failed_task.run_id is not None
    output = w.jobs.get_run_output(failed_task.run_id)
    assert output.error == "AnalysisException: no such table"
    with pytest.raises(dbx_errors.OperationFailed, match="INTERNAL_ERROR"):
        w.jobs.submit(run_name="internal", tasks=[task]).result()
    skipped = w.jobs.submit_and_wait(run_name="skipped", tasks=[task])
    assert skipped.state is not None
    assert (skipped.state.life_cycle_state, skipped.state.result_state) == (
        RunLifeCycleState.SKIPPED,
        None,
    )
    timed_out = w.jobs.submit_and_wait(run_name="slow", tasks=[task])
    assert timed_out.state is not None
    assert timed_out.state.result_state == RunResultState.TIMEDOUT
    assert timed_out.state.user_cancelled_or_timedout is True
    fine = w.jobs.submit_and_wait(run_name="fine", tasks=[task])
    assert fine.run_type is not None
    assert fine.run_type.value == "SUBMIT_RUN"
    assert fine.tasks is not None
    assert fine.tasks[0].run_id is not None
    notebook = w.jobs.get_run_output(fine.tasks[0].run_id).notebook_output
    assert notebook is not None
    assert notebook.result == "ran SELECT 1"
    body = sent_to(dbx, "/api/2.2/jobs/runs/submit")[0].json()
    assert body["tasks"] == [
        {
            "task_key": "main",
            "existing_cluster_id": dbx.cluster_id,
            "notebook_task": {
                "notebook_path": "/Shared/aadap/runner",
                "base_parameters": {"code": "SELECT 1"},
            },
        }
    ]
    assert (body["idempotency_token"], body["timeout_seconds"]) == ("task-7-try-1", 3600)


def test_databricks_sdk_cancels_a_run(dbx: FakeDatabricks, waiter_clock: RecordingClock) -> None:
    job_id = dbx.add_job(running_polls=10_000)
    w = workspace(dbx)
    run_id = response_of(w.jobs.run_now(job_id=job_id)).run_id
    assert run_id is not None
    cancelled = w.jobs.cancel_run(run_id).result()
    assert cancelled.state is not None
    assert cancelled.state.result_state == RunResultState.CANCELED
    assert cancelled.state.user_cancelled_or_timedout is True
    assert whole_seconds(waiter_clock) == [1]  # one TERMINATING poll
    assert dbx.run(run_id).cancels == 1
    with pytest.raises(dbx_errors.ResourceDoesNotExist, match="Run 1 does not exist"):
        w.jobs.get_run(1)


def test_databricks_sdk_workspace_notebooks(dbx: FakeDatabricks) -> None:
    w = workspace(dbx)
    folder = f"/Users/{dbx.user_name}/aadap"
    w.workspace.mkdirs(folder)
    source = "# Databricks notebook source\nprint(1)\n\n# COMMAND ----------\n\nprint(2)\n"
    content = base64.b64encode(source.encode()).decode()
    w.workspace.import_(f"{folder}/etl", content=content, format=ImportFormat.SOURCE,
                        language=NotebookLanguage.PYTHON)  # fmt: skip
    with pytest.raises(dbx_errors.ResourceAlreadyExists, match="already exists"):
        w.workspace.import_(f"{folder}/etl", content=content, format=ImportFormat.SOURCE,
                            language=NotebookLanguage.PYTHON)  # fmt: skip
    w.workspace.import_(f"{folder}/etl", content=content, format=ImportFormat.SOURCE,
                        language=NotebookLanguage.PYTHON, overwrite=True)  # fmt: skip
    exported = w.workspace.export(f"{folder}/etl", format=ExportFormat.SOURCE)
    assert exported.content is not None
    assert base64.b64decode(exported.content).decode() == source
    assert exported.file_type == "py"
    jupyter = w.workspace.export(f"{folder}/etl", format=ExportFormat.JUPYTER)
    assert jupyter.content is not None
    cells = json.loads(base64.b64decode(jupyter.content))["cells"]
    assert ["".join(c["source"]) for c in cells] == ["print(1)", "print(2)"]
    w.workspace.upload(f"{folder}/data.csv", io.BytesIO(b"id\n1\n"), format=ImportFormat.AUTO)
    assert w.workspace.download(f"{folder}/data.csv").read() == b"id\n1\n"
    listed = [(o.path, o.object_type, o.language) for o in w.workspace.list(folder)]
    assert listed == [
        (f"{folder}/data.csv", ObjectType.FILE, None),
        (f"{folder}/etl", ObjectType.NOTEBOOK, NotebookLanguage.PYTHON),
    ]
    status = w.workspace.get_status(f"{folder}/etl")
    assert status.object_id == dbx.workspace_object(f"{folder}/etl").object_id
    with pytest.raises(dbx_errors.base.DatabricksError) as caught:
        w.workspace.delete(folder)
    assert caught.value.error_code == "DIRECTORY_NOT_EMPTY"
    w.workspace.delete(folder, recursive=True)
    with pytest.raises(dbx_errors.ResourceDoesNotExist, match="doesn't exist"):
        w.workspace.get_status(folder)
    assert list(w.workspace.list(f"/Users/{dbx.user_name}")) == []  # an empty folder: {}


def test_databricks_sdk_pipelines(dbx: FakeDatabricks, waiter_clock: RecordingClock) -> None:
    for n in range(30):
        dbx.add_pipeline(f"p-{n:02d}", name=f"pipe {n}")
    pipeline_id = dbx.add_pipeline("sales", name="Sales DLT",
                                   update_states=["WAITING_FOR_RESOURCES", "RUNNING"])  # fmt: skip
    w = workspace(dbx)
    listed = list(w.pipelines.list_pipelines(max_results=10))
    assert len(listed) == 31
    assert len(sent_to(dbx, "/api/2.0/pipelines")) == 4
    assert [p.name for p in w.pipelines.list_pipelines(filter="name LIKE 'Sales%'")] == [
        "Sales DLT"
    ]
    assert listed[-1].state == PipelineState.IDLE
    started = w.pipelines.start_update(pipeline_id, full_refresh=True,
                                       cause=StartUpdateCause.API_CALL)  # fmt: skip
    assert started.update_id is not None
    states = []
    while True:
        update = w.pipelines.get_update(pipeline_id, started.update_id).update
        assert update is not None
        assert update.state is not None
        states.append(update.state)
        if update.state in (UpdateInfoState.COMPLETED, UpdateInfoState.FAILED):
            break
    assert states == [
        UpdateInfoState.WAITING_FOR_RESOURCES,
        UpdateInfoState.RUNNING,
        UpdateInfoState.COMPLETED,
    ]
    assert update.full_refresh is True
    second = w.pipelines.start_update(pipeline_id)
    assert second.update_id is not None
    assert w.pipelines.get(pipeline_id).state == PipelineState.RUNNING
    with pytest.raises(dbx_errors.ResourceConflict):
        w.pipelines.start_update(pipeline_id)
    stopped = w.pipelines.stop(pipeline_id).result()
    assert stopped.state == PipelineState.IDLE
    assert whole_seconds(waiter_clock) == [1]  # one STOPPING poll
    canceled = w.pipelines.get_update(pipeline_id, second.update_id).update
    assert canceled is not None
    assert canceled.state == UpdateInfoState.CANCELED
    got = w.pipelines.get(pipeline_id)
    assert got.health == GetPipelineResponseHealth.HEALTHY
    assert [u.update_id for u in got.latest_updates or []] == [
        second.update_id,
        started.update_id,
    ]
    info = dbx.pipeline(pipeline_id)
    assert (info.starts, info.conflicts, info.stops) == (3, 1, 1)
    with pytest.raises(dbx_errors.ResourceDoesNotExist):
        w.pipelines.get("nope")


def test_databricks_sdk_unity_catalog_listings(dbx: FakeDatabricks) -> None:
    for name in ("main", "dev", "samples", "system", "hive_metastore"):
        dbx.add_catalog(name)
    dbx.add_schema("main.default", comment="default schema")
    dbx.add_table_info("main.sales.orders", [("id", "BIGINT"), ("amount", "DECIMAL(10,2)"),
                       {"name": "tags", "type": "ARRAY<STRING>", "comment": "labels"}],
                       comment="orders")  # fmt: skip
    dbx.add_table_info("main.sales.v_orders", [("id", "BIGINT")], table_type="VIEW")
    dbx.uc_page_size, dbx.uc_empty_pages = 2, True
    w = workspace(dbx)
    catalogs = [c.name for c in w.catalogs.list()]
    assert catalogs == ["dev", "hive_metastore", "main", "samples", "system"]
    pages = sent_to(dbx, "/api/2.1/unity-catalog/catalogs")
    assert pages[0].query == {"max_results": "0"}  # the SDK asks for server-sized pages
    assert len(pages) == 6  # three pages, each after an empty page with a token
    schemas = list(w.schemas.list("main"))
    assert [(s.full_name, s.comment) for s in schemas] == [
        ("main.default", "default schema"),
        ("main.sales", None),
    ]
    tables = list(w.tables.list("main", "sales"))
    assert [(t.full_name, t.table_type) for t in tables] == [
        ("main.sales.orders", TableType.MANAGED),
        ("main.sales.v_orders", TableType.VIEW),
    ]
    orders = w.tables.get("main.sales.orders")
    assert orders.comment == "orders"
    assert [(c.name, c.type_name, c.type_text, c.position, c.comment)
            for c in orders.columns or []] == [
        ("id", ColumnTypeName.LONG, "bigint", 0, None),
        ("amount", ColumnTypeName.DECIMAL, "decimal(10,2)", 1, None),
        ("tags", ColumnTypeName.ARRAY, "array<string>", 2, "labels"),
    ]  # fmt: skip
    assert (orders.columns or [])[1].type_precision == 10
    assert w.tables.exists("main.sales.orders").table_exists is True
    with pytest.raises(dbx_errors.NotFound) as caught:
        w.tables.get("main.sales.nope")
    assert caught.value.error_code == "TABLE_DOES_NOT_EXIST"
    with pytest.raises(dbx_errors.NotFound, match="Catalog 'nope' does not exist"):
        list(w.schemas.list("nope"))
