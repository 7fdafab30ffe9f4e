"""The official SDKs against the fakes: openai's AzureOpenAI client against FakeAzureOpenAI and
msal's ConfidentialClientApplication against FakeEntra (pinned versions in pyproject's dev
extra). If one of these fails after an SDK upgrade, the fake or the upgrade is wrong."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

import httpx2
import msal  # type: ignore[import-untyped]
import openai
import pytest
import requests
from openai.types.chat import ChatCompletionMessageParam

from aadap.testing import FakeAzureOpenAI, FakeEntra, fake_embedding

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
