"""FakeEntra over raw HTTPS (http.client): tokens, errors in Entra's shape, discovery, TLS."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from aadap.testing import FakeAzureOpenAI, FakeEntra, TokenStatus, test_authority
from aadap.testing.entra import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT

FABRIC = "https://api.fabric.microsoft.com/.default"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def connect(fake: FakeEntra, timeout: float = 5) -> http.client.HTTPConnection:
    if fake.tls:
        return http.client.HTTPSConnection(
            "127.0.0.1", fake.port, timeout=timeout, context=fake.ssl_context()
        )
    return http.client.HTTPConnection("127.0.0.1", fake.port, timeout=timeout)


def request(
    fake: FakeEntra,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = connect(fake) if connection is None else connection
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        if connection is None:
            conn.close()


def token_request(
    fake: FakeEntra,
    form: Mapping[str, str] | None = None,
    *,
    tenant: str | None = None,
    headers: Mapping[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, Any]:
    fields = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "scope": FABRIC,
        "grant_type": "client_credentials",
    }
    fields.update(form or {})
    body = urlencode({k: v for k, v in fields.items() if v is not None}).encode()
    status, _, data = request(
        fake,
        "POST",
        f"/{tenant or fake.tenant}/oauth2/v2.0/token",
        body,
        {**FORM, **(headers or {})},
        connection,
    )
    return status, json.loads(data)


def claims(token: str) -> Any:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def assert_entra_error(body: Any, error: str, code: int) -> None:
    assert set(body) == {
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    }
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert f"\r\nTrace ID: {body['trace_id']}\r\n" in body["error_description"]
    assert f"\r\nCorrelation ID: {body['correlation_id']}\r\n" in body["error_description"]
    assert body["error_description"].endswith(f"\r\nTimestamp: {body['timestamp']}")
    assert time.strptime(body["timestamp"], "%Y-%m-%d %H:%M:%SZ")
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    uuid.UUID(body["trace_id"])


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        yield fake


def test_a_client_credentials_token(entra: FakeEntra) -> None:
    status, body = token_request(entra)
    assert status == 200
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert (body["token_type"], body["expires_in"], body["ext_expires_in"]) == (
        "Bearer",
        3599,
        3599,
    )
    header = claims("." + body["access_token"].split(".")[0] + ".")  # the JOSE header
    assert header == {"typ": "JWT", "alg": "HS256", "kid": header["kid"]}
    payload = claims(body["access_token"])
    assert payload["aud"] == "https://api.fabric.microsoft.com"
    assert payload["appid"] == DEFAULT_CLIENT_ID
    assert payload["tid"] == DEFAULT_TENANT
    assert payload["iss"] == f"https://sts.windows.net/{DEFAULT_TENANT}/"
    assert payload["exp"] - payload["iat"] == 3599
    assert abs(payload["iat"] - time.time()) < 5
    [issued] = entra.issued
    assert issued.access_token == body["access_token"]
    assert (issued.client_id, issued.scope) == (DEFAULT_CLIENT_ID, FABRIC)
    assert issued.audience == "https://api.fabric.microsoft.com"
    assert issued.expires_at == payload["exp"]
    assert entra.validate(body["access_token"])
    assert entra.validate(body["access_token"], audience="https://api.fabric.microsoft.com/")


def test_the_secret_may_come_as_http_basic(entra: FakeEntra) -> None:
    basic = base64.b64encode(f"{quote(entra.client_id)}:{quote(entra.client_secret)}".encode())
    status, body = token_request(
        entra,
        {"client_id": None, "client_secret": None},  # type: ignore[dict-item]
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert status == 200
    assert entra.validate(body["access_token"])


def test_a_wrong_secret_is_401_invalid_client(entra: FakeEntra) -> None:
    correlation = str(uuid.uuid4())
    status, body = token_request(
        entra, {"client_secret": "wrong"}, headers={"client-request-id": correlation}
    )
    assert status == 401
    assert_entra_error(body, "invalid_client", 7000215)
    assert body["correlation_id"] == correlation
    assert "Invalid client secret provided." in body["error_description"]
    assert entra.issued == []


def test_an_unknown_client_and_a_missing_secret(entra: FakeEntra) -> None:
    status, body = token_request(entra, {"client_id": "00000000-0000-0000-0000-000000000000"})
    assert status == 400
    assert_entra_error(body, "unauthorized_client", 700016)
    status, body = token_request(entra, {"client_secret": ""})
    assert status == 401
    assert_entra_error(body, "invalid_client", 7000218)


@pytest.mark.parametrize(
    "scope",
    ["https://api.fabric.microsoft.com", "https://api.fabric.microsoft.com/Item.Read.All"],
)
def test_a_scope_without_dot_default_is_400_invalid_scope(entra: FakeEntra, scope: str) -> None:
    status, body = token_request(entra, {"scope": scope})
    assert status == 400
    assert_entra_error(body, "invalid_scope", 1002012)
    assert f"The provided value for scope {scope} is not valid." in body["error_description"]


def test_two_resources_in_one_scope_are_refused(entra: FakeEntra) -> None:
    status, body = token_request(
        entra, {"scope": f"{FABRIC} https://database.windows.net/.default"}
    )
    assert status == 400
    assert_entra_error(body, "invalid_scope", 28000)


def test_only_form_bodies_are_read(entra: FakeEntra) -> None:
    payload = {
        "client_id": entra.client_id,
        "client_secret": entra.client_secret,
        "scope": FABRIC,
        "grant_type": "client_credentials",
    }
    status, _, data = request(
        entra,
        "POST",
        f"/{entra.tenant}/oauth2/v2.0/token",
        json.dumps(payload).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 400
    assert_entra_error(json.loads(data), "invalid_request", 900144)
    assert "'grant_type'" in json.loads(data)["error_description"]


@pytest.mark.parametrize(
    ("form", "status", "error", "code"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"grant_type": ""}, 400, "invalid_request", 900144),
        ({"scope": ""}, 400, "invalid_request", 900144),
        ({"client_id": ""}, 400, "invalid_request", 900144),
    ],
)
def test_grant_and_parameter_errors(
    entra: FakeEntra, form: dict[str, str], status: int, error: str, code: int
) -> None:
    got, body = token_request(entra, form)
    assert got == status
    assert_entra_error(body, error, code)


def test_the_token_endpoint_only_accepts_post(entra: FakeEntra) -> None:
    status, _, data = request(entra, "GET", f"/{entra.tenant}/oauth2/v2.0/token")
    assert status == 400
    assert_entra_error(json.loads(data), "invalid_request", 900561)


def test_an_unknown_tenant_is_aadsts90002(entra: FakeEntra) -> None:
    status, body = token_request(entra, tenant="contoso.onmicrosoft.com")
    assert status == 400
    assert_entra_error(body, "invalid_request", 90002)
    status, _, data = request(entra, "GET", "/other/v2.0/.well-known/openid-configuration")
    assert status == 400
    assert_entra_error(json.loads(data), "invalid_tenant", 90002)


def test_openid_configuration(entra: FakeEntra) -> None:
    status, headers, data = request(
        entra, "GET", f"/{entra.tenant}/v2.0/.well-known/openid-configuration"
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    config = json.loads(data)
    assert config["token_endpoint"] == entra.token_url()
    assert config["token_endpoint"].startswith(f"https://127.0.0.1:{entra.port}/")
    assert config["authorization_endpoint"] == f"{entra.url}/{entra.tenant}/oauth2/v2.0/authorize"
    assert config["issuer"] == f"{entra.url}/{entra.tenant}/v2.0"
    assert "client_secret_post" in config["token_endpoint_auth_methods_supported"]


def test_instance_discovery(entra: FakeEntra) -> None:
    authorize = quote(f"{entra.url}/{entra.tenant}/oauth2/v2.0/authorize", safe="")
    path = f"/common/discovery/instance?api-version=1.0&authorization_endpoint={authorize}"
    status, _, data = request(entra, "GET", path)
    assert status == 200
    body = json.loads(data)
    assert body["tenant_discovery_endpoint"] == (
        f"{entra.url}/{entra.tenant}/v2.0/.well-known/openid-configuration"
    )
    assert body["metadata"][0]["preferred_network"] == f"127.0.0.1:{entra.port}"
    foreign = quote("https://login.example.com/t/oauth2/v2.0/authorize", safe="")
    status, _, data = request(
        entra, "GET", f"{path.split('&')[0]}&authorization_endpoint={foreign}"
    )
    assert status == 400
    assert_entra_error(json.loads(data), "invalid_instance", 50049)
    status, _, data = request(entra, "GET", "/common/discovery/instance?api-version=1.0")
    assert_entra_error(json.loads(data), "invalid_request", 90014)


def test_unknown_paths_are_404(entra: FakeEntra) -> None:
    assert request(entra, "GET", "/")[0] == 404
    assert request(entra, "POST", f"/{entra.tenant}/oauth2/token", b"", FORM)[0] == 404


def test_expires_in_can_change_while_running(entra: FakeEntra) -> None:
    entra.expires_in = 330
    status, body = token_request(entra)
    assert (status, body["expires_in"]) == (200, 330)
    payload = claims(body["access_token"])
    assert payload["exp"] - payload["iat"] == 330


def test_token_status() -> None:
    now = [1_800_000_000.0]
    with FakeEntra(tls=False, clock=lambda: now[0], expires_in=600) as entra:
        token = entra.issue(FABRIC)
        assert entra.status(token) is TokenStatus.VALID
        assert entra.status(token, "https://api.fabric.microsoft.com") is TokenStatus.VALID
        assert (
            entra.status(token, "https://cognitiveservices.azure.com") is TokenStatus.WRONG_AUDIENCE
        )
        assert claims(token)["exp"] == 1_800_000_600
        now[0] += 600
        assert entra.status(token) is TokenStatus.EXPIRED
        assert not entra.validate(token)
        now[0] -= 600
        header, _, signature = token.split(".")
        forged = claims(token) | {"aud": "https://management.azure.com"}
        encoded = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
        assert entra.status(f"{header}.{encoded}.{signature}") is TokenStatus.INVALID
        for garbage in ("", "a.b", "a.b.c", token + "x"):
            assert entra.status(garbage) is TokenStatus.INVALID
        with FakeEntra(tls=False) as other:
            assert entra.status(other.issue(FABRIC)) is TokenStatus.INVALID
        later = entra.issue(FABRIC)
        entra.expire_all()
        assert entra.status(later) is TokenStatus.EXPIRED
        assert entra.validate(entra.issue(FABRIC))  # tokens issued afterwards are fine
        with pytest.raises(ValueError, match=r"/\.default"):
            entra.issue("https://api.fabric.microsoft.com")


def test_several_clients() -> None:
    with FakeEntra(clients={"app-1": "s1", "app-2": "s2"}) as entra:
        assert (entra.client_id, entra.client_secret) == ("app-1", "s1")
        status, body = token_request(entra, {"client_id": "app-2", "client_secret": "s2"})
        assert status == 200
        assert claims(body["access_token"])["appid"] == "app-2"
        assert token_request(entra, {"client_id": "app-2", "client_secret": "s1"})[0] == 401


def test_scripted_faults_use_entra_shapes(entra: FakeEntra) -> None:
    entra.throttle_next(1, retry_after=60, path="/token")
    entra.fail_next(1, 500)
    entra.fail_next(1, 503)
    entra.malformed_next(1)
    path = f"/{entra.tenant}/oauth2/v2.0/token"
    status, headers, data = request(entra, "POST", path, b"", FORM)
    assert (status, headers["Retry-After"], data) == (429, "60", b"Too Many Requests")
    for expected in (500, 503):
        status, body = token_request(entra)
        assert status == expected
        assert_entra_error(body, "temporarily_unavailable", 50000)
    with pytest.raises(json.JSONDecodeError):
        token_request(entra)
    assert token_request(entra)[0] == 200
    assert len(entra.issued) == 2  # the malformed answer's token counts as issued


def test_https_with_the_shared_test_ca(entra: FakeEntra) -> None:
    assert entra.url.startswith("https://127.0.0.1:")
    assert entra.authority == entra.url
    assert entra.token_url("t") == f"{entra.url}/t/oauth2/v2.0/token"
    with FakeAzureOpenAI(tls=True) as other:
        assert other.ca_path == entra.ca_path == test_authority().ca_path
    conn = http.client.HTTPSConnection(
        "127.0.0.1", entra.port, timeout=5, context=ssl.create_default_context()
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/")
    conn.close()
    assert entra.connections == 1
    assert entra.requests == []


def test_keep_alive_over_tls(entra: FakeEntra) -> None:
    conn = connect(entra)
    for _ in range(3):
        assert token_request(entra, connection=conn)[0] == 200
    assert token_request(entra, {"client_secret": "x"}, connection=conn)[0] == 401
    conn.close()
    assert entra.connections == 1
    assert len(entra.requests) == 4


def test_a_reset_over_tls(entra: FakeEntra) -> None:
    entra.reset_next(1)
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, ssl.SSLError)):
        token_request(entra)
    assert token_request(entra)[0] == 200
    assert entra.connections == 2


def test_plain_http_works_too() -> None:
    with FakeEntra(tls=False) as entra:
        assert entra.url.startswith("http://")
        assert token_request(entra)[0] == 200
        assert entra.client_secret == DEFAULT_CLIENT_SECRET
