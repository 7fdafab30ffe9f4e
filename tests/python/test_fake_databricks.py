"""FakeDatabricks over raw HTTP (http.client): auth, OAuth, the Statement Execution API 2.0
(validation, progression, rendering, chunks, external links, TTLs) and error shapes."""

from __future__ import annotations

import base64
import configparser
import csv
import http.client
import importlib.util
import io
import json
import re
import stat
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from aadap.testing import FakeDatabricks, FakeServer, StatementInfo
from aadap.testing.databricks import (
    CLI_CLIENT_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TOKEN,
    DEFAULT_WAREHOUSE_ID,
    DEFAULT_WORKSPACE_ID,
)

STATEMENTS = "/api/2.0/sql/statements"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Reply:
    """A response read with http.client."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()

    def json(self) -> Any:
        return json.loads(self.body)


def connect(fake: FakeServer, timeout: float = 5) -> http.client.HTTPConnection:
    if fake.tls:
        return http.client.HTTPSConnection(
            "127.0.0.1", fake.port, timeout=timeout, context=fake.ssl_context()
        )
    return http.client.HTTPConnection("127.0.0.1", fake.port, timeout=timeout)


def call(
    fake: FakeDatabricks,
    method: str,
    path: str,
    payload: Any = None,
    *,
    token: str | None = DEFAULT_TOKEN,
    headers: Mapping[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> Reply:
    """One request (JSON body unless bytes), with the PAT unless ``token`` is None."""
    conn = connect(fake) if connection is None else connection
    sent = {"Content-Type": "application/json"}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers or {})
    body = payload if isinstance(payload, bytes) else None
    if payload is not None and body is None:
        body = json.dumps(payload).encode()
    try:
        conn.request(method, path, body=body, headers=sent)
        return Reply(conn.getresponse())
    finally:
        if connection is None:
            conn.close()


def execute(fake: FakeDatabricks, statement: str, **fields: Any) -> Any:
    """POST /statements with the fake's warehouse; returns the parsed 200 body."""
    reply = call(
        fake,
        "POST",
        STATEMENTS,
        {"statement": statement, "warehouse_id": fake.warehouse_id, **fields},
    )
    assert reply.status == 200, reply.body
    return reply.json()


def poll(fake: FakeDatabricks, statement_id: str) -> Any:
    reply = call(fake, "GET", f"{STATEMENTS}/{statement_id}")
    assert reply.status == 200, reply.body
    return reply.json()


def chunk(fake: FakeDatabricks, statement_id: str, index: int | str) -> Reply:
    return call(fake, "GET", f"{STATEMENTS}/{statement_id}/result/chunks/{index}")


def download(url: str, headers: Mapping[str, str] | None = None) -> Reply:
    """A plain GET of an external link, without credentials unless given."""
    split = urlsplit(url)
    assert split.hostname is not None
    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=5)
    try:
        conn.request("GET", f"{split.path}?{split.query}", headers=dict(headers or {}))
        return Reply(conn.getresponse())
    finally:
        conn.close()


def oauth(
    fake: FakeDatabricks, form: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> Reply:
    return call(
        fake,
        "POST",
        "/oidc/v1/token",
        urlencode(form).encode(),
        token=None,
        headers={**FORM, **(headers or {})},
    )


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def fake() -> Iterator[FakeDatabricks]:
    with FakeDatabricks() as server:
        yield server


# -- authentication ------------------------------------------------------------------------------


def test_the_pat_is_required(fake: FakeDatabricks) -> None:
    missing = call(fake, "GET", f"{STATEMENTS}/x", token=None)
    assert missing.status == 401
    assert missing.headers["Content-Type"].startswith("text/html")
    assert b"<pre>    Unauthorized</pre>" in missing.body
    wrong = call(fake, "GET", f"{STATEMENTS}/x", token="dapi-wrong")
    assert wrong.status == 403
    assert wrong.json() == {"error_code": 403, "message": "Invalid access token."}
    assert wrong.headers["X-Databricks-Reason-Phrase"] == "Invalid access token."
    other_scheme = call(fake, "GET", f"{STATEMENTS}/x", token=None,
                        headers={"Authorization": f"Basic {DEFAULT_TOKEN}"})  # fmt: skip
    assert other_scheme.status == 403
    assert call(fake, "GET", f"{STATEMENTS}/x").status == 404  # authenticated: unknown id
    fake.token = "dapi-rotated"
    assert call(fake, "GET", f"{STATEMENTS}/x").status == 403
    assert call(fake, "GET", f"{STATEMENTS}/x", token="dapi-rotated").status == 404


def test_metadata_and_discovery_need_no_token(fake: FakeDatabricks) -> None:
    metadata = call(fake, "GET", "/.well-known/databricks-config", token=None)
    assert metadata.json() == {
        "oidc_endpoint": f"{fake.url}/oidc",
        "account_id": fake.account_id,
        "workspace_id": DEFAULT_WORKSPACE_ID,
        "cloud": "AWS",
        "host_type": "workspace",
    }
    discovery = call(fake, "GET", "/oidc/.well-known/oauth-authorization-server", token=None)
    assert discovery.status == 200
    body = discovery.json()
    assert body["token_endpoint"] == f"{fake.url}/oidc/v1/token" == fake.token_url
    assert body["authorization_endpoint"] == f"{fake.url}/oidc/v1/authorize"
    assert {"client_credentials", "refresh_token"} <= set(body["grant_types_supported"])
    assert discovery.headers["x-databricks-org-id"] == DEFAULT_WORKSPACE_ID


def test_m2m_client_credentials(fake: FakeDatabricks) -> None:
    form = {"grant_type": "client_credentials", "scope": "all-apis"}
    reply = oauth(fake, form, basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
    assert reply.status == 200
    body = reply.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "all-apis"
    assert "refresh_token" not in body
    assert call(fake, "GET", f"{STATEMENTS}/x", token=body["access_token"]).status == 404
    in_form = oauth(fake, {"grant_type": "client_credentials", "client_id": fake.client_id,
                           "client_secret": fake.client_secret})  # fmt: skip
    assert in_form.json()["scope"] == "all-apis"  # the default scope
    [first, second] = fake.issued
    assert (first.client_id, first.grant_type, first.scope) == (
        DEFAULT_CLIENT_ID,
        "client_credentials",
        "all-apis",
    )
    assert second.expires_at - second.issued_at == 3600


@pytest.mark.parametrize(
    ("form", "headers", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, basic(DEFAULT_CLIENT_ID, "wrong"), 401,
         "invalid_client"),
        ({"grant_type": "client_credentials"}, basic("nobody", "x"), 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID}, {}, 401,
         "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "everything"},
         basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), 400, "invalid_scope"),
        ({"grant_type": "password"}, {}, 400, "unsupported_grant_type"),
        ({}, {}, 400, "invalid_request"),
        ({"grant_type": "refresh_token", "client_id": CLI_CLIENT_ID}, {}, 400,
         "invalid_request"),
        ({"grant_type": "refresh_token", "client_id": CLI_CLIENT_ID, "refresh_token": "doau-x"},
         {}, 400, "invalid_grant"),
    ],
)  # fmt: skip
def test_token_endpoint_errors(
    fake: FakeDatabricks, form: dict[str, str], headers: dict[str, str], status: int, error: str
) -> None:
    reply = oauth(fake, form, headers)
    assert reply.status == status
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json()["error"] == error
    assert reply.json()["error_description"]
    assert fake.issued == []


def test_the_token_endpoint_only_accepts_post(fake: FakeDatabricks) -> None:
    reply = call(fake, "GET", "/oidc/v1/token", token=None)
    assert (reply.status, reply.json()["error"]) == (400, "invalid_request")


def test_refresh_token_grant_as_the_cli_sends_it(fake: FakeDatabricks) -> None:
    refresh = fake.issue_refresh_token()
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLI_CLIENT_ID}
    body = oauth(fake, form).json()
    assert body["refresh_token"] == refresh
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "all-apis offline_access"
    assert call(fake, "GET", f"{STATEMENTS}/x", token=body["access_token"]).status == 404
    wrong_client = oauth(fake, {**form, "client_id": DEFAULT_CLIENT_ID})
    assert wrong_client.json()["error"] == "invalid_grant"
    fake.revoke_refresh_tokens()
    revoked = oauth(fake, form)
    assert revoked.status == 400
    assert revoked.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token is invalid",
    }


def test_oauth_tokens_expire_on_the_fake_clock(fake: FakeDatabricks) -> None:
    fake.expires_in = 60
    token = oauth(fake, {"grant_type": "client_credentials"},
                  basic(fake.client_id, fake.client_secret)).json()["access_token"]  # fmt: skip
    assert token.count(".") == 2  # a JWT, like the workspace's OAuth tokens
    assert call(fake, "GET", f"{STATEMENTS}/x", token=token).status == 404
    fake.advance(61)
    assert call(fake, "GET", f"{STATEMENTS}/x", token=token).status == 403
    fresh = fake.issue_access_token()
    assert call(fake, "GET", f"{STATEMENTS}/x", token=fresh).status == 404
    fake.expire_access_tokens()
    assert call(fake, "GET", f"{STATEMENTS}/x", token=fresh).status == 403
    stale = fake.issue_access_token(expires_in=-1)
    assert call(fake, "GET", f"{STATEMENTS}/x", token=stale).status == 403
    forged = fresh.rsplit(".", 1)[0] + ".AAAA"
    assert call(fake, "GET", f"{STATEMENTS}/x", token=forged).status == 403
    assert call(fake, "GET", f"{STATEMENTS}/x").status == 404  # the PAT never expires


def test_config_files_for_cli_auth(fake: FakeDatabricks, tmp_path: Path) -> None:
    cfg = fake.write_databrickscfg(tmp_path / ".databrickscfg")
    fake.write_databrickscfg(cfg, profile="dev", auth_type="databricks-cli")
    fake.write_databrickscfg(cfg, profile="sp", auth_type="oauth-m2m")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(cfg)
    assert dict(parser["DEFAULT"]) == {
        "host": fake.url,
        "warehouse_id": DEFAULT_WAREHOUSE_ID,
        "token": DEFAULT_TOKEN,
    }
    assert parser._sections["dev"] == {  # type: ignore[attr-defined]
        "host": fake.url,
        "warehouse_id": DEFAULT_WAREHOUSE_ID,
        "auth_type": "databricks-cli",
    }
    assert parser._sections["sp"]["client_secret"] == DEFAULT_CLIENT_SECRET  # type: ignore[attr-defined]

    cache = fake.write_token_cache(tmp_path / ".databricks" / "token-cache.json", profile="dev")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    content = json.loads(cache.read_text())
    assert content["version"] == 1
    entry = content["tokens"][fake.url]
    assert content["tokens"]["dev"] == entry
    assert entry["token_type"] == "Bearer"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", entry["expiry"])
    expiry = datetime.fromisoformat(entry["expiry"][:19]).replace(tzinfo=timezone.utc)
    assert expiry < datetime.now(timezone.utc)  # expired: the client must refresh
    assert call(fake, "GET", f"{STATEMENTS}/x", token=entry["access_token"]).status == 403
    form = {"grant_type": "refresh_token", "refresh_token": entry["refresh_token"],
            "client_id": CLI_CLIENT_ID}  # fmt: skip
    assert oauth(fake, form).status == 200
    fresh = fake.write_token_cache(cache, expired=False)
    entry = json.loads(fresh.read_text())["tokens"][fake.url]
    assert call(fake, "GET", f"{STATEMENTS}/x", token=entry["access_token"]).status == 404
    assert "dev" in json.loads(fresh.read_text())["tokens"]  # other entries are kept


# -- execute: request checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"warehouse_id": None}, "warehouse_id is required"),
        ({"statement": None}, "statement is required"),
        ({"statement": 5}, "statement must be a string"),
        ({"wait_timeout": "4s"}, "wait_timeout"),
        ({"wait_timeout": "51s"}, "wait_timeout"),
        ({"wait_timeout": "10"}, "wait_timeout"),
        ({"wait_timeout": "1m"}, "wait_timeout"),
        ({"wait_timeout": 10}, "wait_timeout"),
        ({"on_wait_timeout": "STOP"}, "on_wait_timeout"),
        ({"disposition": "S3"}, "disposition"),
        ({"format": "PARQUET"}, "format"),
        ({"format": "CSV"}, "only supported with EXTERNAL_LINKS"),
        ({"format": "ARROW_STREAM", "disposition": "INLINE"}, "only supported with EXTERNAL"),
        ({"row_limit": 0}, "row_limit"),
        ({"byte_limit": "10"}, "byte_limit"),
        ({"catalog": 1}, "catalog"),
        ({"parameters": {"id": 1}}, "parameters must be a list"),
        ({"parameters": [{"value": "1"}]}, "needs a name"),
        ({"parameters": [{"name": "a", "value": 1}]}, "value must be a string"),
        ({"parameters": [{"name": "a"}, {"name": "a"}]}, "more than once"),
        ({"parameters": [{"name": "a", "type": "UUIDX"}]}, "unknown type"),
        ({"query_tags": [{"value": "x"}]}, "non-empty key"),
    ],
)
def test_invalid_requests_are_400(
    fake: FakeDatabricks, fields: dict[str, Any], fragment: str
) -> None:
    payload = {"statement": "SELECT 1", "warehouse_id": fake.warehouse_id, **fields}
    reply = call(fake, "POST", STATEMENTS, {k: v for k, v in payload.items() if v is not None})
    assert reply.status == 400
    assert reply.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert fragment in reply.json()["message"]
    assert fake.statements == []


@pytest.mark.parametrize("wait", ["0s", "5s", "9s", "10s", "49s", "50s"])
def test_valid_wait_timeouts(fake: FakeDatabricks, wait: str) -> None:
    assert execute(fake, "SELECT 1", wait_timeout=wait)["status"]["state"] in (
        "PENDING",
        "SUCCEEDED",
    )


def test_a_body_that_is_not_a_json_object(fake: FakeDatabricks) -> None:
    for body in (b"not json", b"[1, 2]", b""):
        reply = call(fake, "POST", STATEMENTS, body)
        assert reply.status == 400
        assert reply.json() == {
            "error_code": "MALFORMED_REQUEST",
            "message": "Invalid JSON given in the body of the request - expected a map",
        }


def test_an_unknown_warehouse_and_unknown_endpoints_are_404(fake: FakeDatabricks) -> None:
    reply = call(fake, "POST", STATEMENTS, {"statement": "SELECT 1", "warehouse_id": "nope"})
    assert reply.status == 404
    assert reply.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    fake.warehouse_ids.add("nope")
    assert execute(fake, "SELECT 1", warehouse_id="nope")["status"]["state"] == "SUCCEEDED"
    endpoints = [
        ("GET", "/api/2.0/clusters/list"),
        ("GET", STATEMENTS),
        ("PUT", f"{STATEMENTS}/x"),
        ("GET", f"{STATEMENTS}/x/cancel"),
    ]
    for method, path in endpoints:
        reply = call(fake, method, path)
        assert reply.status == 404
        assert reply.json() == {
            "error_code": "ENDPOINT_NOT_FOUND",
            "message": f"No API found for '{method} {path}'",
        }


def test_a_statement_is_recorded_with_everything_the_client_sent(fake: FakeDatabricks) -> None:
    tags = [{"key": f"k{i}", "value": "v"} for i in range(25)] + [{"key": "blank", "value": " "}]
    tags.insert(0, {"key": "team"})
    response = execute(
        fake,
        "SELECT 1",
        catalog="main",
        schema="sales",
        wait_timeout="0s",
        on_wait_timeout="CANCEL",
        disposition="EXTERNAL_LINKS",
        format="CSV",
        row_limit=10,
        byte_limit=1000,
        query_tags=tags,
        parameters=[{"name": "a", "value": "1", "type": "INT"}, {"name": "b"}],
    )
    info = fake.statement(response["statement_id"])
    assert info == fake.last_statement == fake.statements[0]
    assert re.fullmatch(r"01ef[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                        info.statement_id)  # fmt: skip
    assert (info.statement, info.warehouse_id, info.catalog, info.schema) == (
        "SELECT 1", DEFAULT_WAREHOUSE_ID, "main", "sales")  # fmt: skip
    assert (info.disposition, info.format, info.wait_timeout, info.on_wait_timeout) == (
        "EXTERNAL_LINKS", "CSV", "0s", "CANCEL")  # fmt: skip
    assert (info.row_limit, info.byte_limit) == (10, 1000)
    assert info.parameter_values == {"a": "1", "b": None}
    assert [p.type for p in info.parameters] == ["INT", "STRING"]
    assert len(info.query_tags) == 20  # more than 20 are cut to 20
    assert info.query_tags[0] == ("team", None)
    assert abs(info.submitted_at - time.time()) < 5


def test_last_statement_without_any(fake: FakeDatabricks) -> None:
    with pytest.raises(LookupError):
        _ = fake.last_statement
    with pytest.raises(KeyError):
        fake.statement("01ef-unknown")


# -- results: rendering --------------------------------------------------------------------------


def test_every_value_is_rendered_as_the_service_renders_it(fake: FakeDatabricks) -> None:
    fake.add_table(
        r"FROM everything",
        [("b", "BOOLEAN"), ("i", "int"), ("l", "BIGINT"), ("s", "SMALLINT"), ("t", "TINYINT"),
         ("d", "DOUBLE"), ("f", "FLOAT"), ("dec", "DECIMAL(10,2)"), ("str", "STRING"),
         ("day", "DATE"), ("ts", "TIMESTAMP"), ("bin", "BINARY"), ("arr", "ARRAY<INT>"),
         ("m", "MAP<STRING, DATE>"), ("st", "STRUCT<a: INT, `b c`: STRING, d: DECIMAL(4,1)>"),
         ("iv", "INTERVAL DAY TO SECOND"), ("v", "VOID"), ("c", "CHAR(3)")],
        [
            (True, -7, 2**62, 300, -5, 1.5, 0.25, Decimal("3.1"), "héllo", date(2024, 5, 1),
             datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))), b"\x00\xff",
             [1, None, 3], {"x": date(2024, 1, 2)}, {"a": 1, "b c": "q", "d": Decimal("2")},
             timedelta(days=1, hours=2, minutes=3, seconds=4), None, "abc"),
            (False, 0, 0, 0, 0, 1e10, float("nan"), 7, "", None,
             datetime(2024, 5, 1, 10, 0, 0, 123456), b"", [], {}, (2, None, Decimal("0.55")),
             "INTERVAL '0 00:00:01' DAY TO SECOND", None, None),
        ],
    )  # fmt: skip
    response = execute(fake, "SELECT * FROM everything")
    assert response["status"] == {"state": "SUCCEEDED"}
    assert response["result"]["data_array"] == [
        ["true", "-7", str(2**62), "300", "-5", "1.5", "0.25", "3.10", "héllo", "2024-05-01",
         "2024-05-01T10:00:00.000Z", "AP8=", "[1,null,3]", '{"x":"2024-01-02"}',
         '{"a":1,"b c":"q","d":2.0}', "INTERVAL '1 02:03:04' DAY TO SECOND", None, "abc"],
        ["false", "0", "0", "0", "0", "1.0E10", "NaN", "7.00", "", None,
         "2024-05-01T10:00:00.123456Z", "", "[]", "{}", '{"a":2,"b c":null,"d":0.6}',
         "INTERVAL '0 00:00:01' DAY TO SECOND", None, None],
    ]  # fmt: skip
    columns = response["manifest"]["schema"]["columns"]
    assert response["manifest"]["schema"]["column_count"] == 18
    assert [(c["name"], c["type_name"], c["type_text"], c["position"]) for c in columns] == [
        ("b", "BOOLEAN", "BOOLEAN", 0), ("i", "INT", "INT", 1), ("l", "LONG", "BIGINT", 2),
        ("s", "SHORT", "SMALLINT", 3), ("t", "BYTE", "TINYINT", 4), ("d", "DOUBLE", "DOUBLE", 5),
        ("f", "FLOAT", "FLOAT", 6), ("dec", "DECIMAL", "DECIMAL(10,2)", 7),
        ("str", "STRING", "STRING", 8), ("day", "DATE", "DATE", 9),
        ("ts", "TIMESTAMP", "TIMESTAMP", 10), ("bin", "BINARY", "BINARY", 11),
        ("arr", "ARRAY", "ARRAY<INT>", 12), ("m", "MAP", "MAP<STRING, DATE>", 13),
        ("st", "STRUCT", "STRUCT<a: INT, `b c`: STRING, d: DECIMAL(4,1)>", 14),
        ("iv", "INTERVAL", "INTERVAL DAY TO SECOND", 15), ("v", "NULL", "VOID", 16),
        ("c", "CHAR", "CHAR(3)", 17),
    ]  # fmt: skip
    assert (columns[7]["type_precision"], columns[7]["type_scale"]) == (10, 2)
    assert columns[15]["type_interval_type"] == "DAY TO SECOND"
    assert "type_precision" not in columns[0]


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1.0"), (-2.5, "-2.5"), (1e7, "1.0E7"), (1.23e-5, "1.23E-5"), (0.001, "0.001"),
     (123456.789, "123456.789"), (-0.0, "-0.0"), (float("inf"), "Infinity"),
     (float("-inf"), "-Infinity"), (1e300, "1.0E300"), (12345678.9, "1.23456789E7")],
)  # fmt: skip
def test_doubles_render_as_java_does(fake: FakeDatabricks, value: float, text: str) -> None:
    fake.add_table("x", [("d", "DOUBLE")], [(value,)])
    assert execute(fake, "x")["result"]["data_array"] == [[text]]


@pytest.mark.parametrize(
    ("columns", "rows", "error"),
    [
        ([("a", "INT")], [("1",)], None),  # a str is sent as it is
        ([("a", "INT")], [(True,)], TypeError),
        ([("a", "INT")], [(2**31,)], ValueError),
        ([("a", "TINYINT")], [(128,)], ValueError),
        ([("a", "BOOLEAN")], [(1,)], TypeError),
        ([("a", "DECIMAL(3,1)")], [(Decimal("123.4"),)], ValueError),
        ([("a", "DATE")], [(datetime(2024, 1, 1),)], TypeError),
        ([("a", "TIMESTAMP")], [(date(2024, 1, 1),)], TypeError),
        ([("a", "STRING")], [(5,)], TypeError),
        ([("a", "ARRAY<INT>")], [("not json but sent",)], None),
        ([("a", "ARRAY<INT>")], [({"x": 1},)], TypeError),
        ([("a", "STRUCT<x: INT>")], [({"y": 1},)], ValueError),
        ([("a", "INT")], [(1, 2)], ValueError),
        ([("a", "INT")], [{"b": 1}], ValueError),
        ([("a", "VOID")], [(1,)], TypeError),
        ([("a", "INTERVAL YEAR TO MONTH")], [(timedelta(days=1),)], TypeError),
        ([("a", "UUID")], [], ValueError),
        ([("a", "DECIMAL(40,2)")], [], ValueError),
        ([("a", "ARRAY<INT")], [], ValueError),
        ([("a", "INT"), ("a", "INT")], [], ValueError),
    ],
)
def test_rows_are_checked_when_scripted(
    fake: FakeDatabricks, columns: list[tuple[str, str]], rows: list[Any], error: type | None
) -> None:
    if error is None:
        fake.add_table("x", columns, rows)
    else:
        with pytest.raises(error):
            fake.add_table("x", columns, rows)


def test_decimals_round_half_up(fake: FakeDatabricks) -> None:
    fake.add_table(
        "x", [("d", "DECIMAL(3,1)")], [(Decimal("0.25"),), (Decimal("-0.25"),), (2.675,)]
    )
    assert execute(fake, "x")["result"]["data_array"] == [["0.3"], ["-0.3"], ["2.7"]]


@pytest.mark.parametrize(
    ("given", "type_name", "type_text"),
    [
        ("bigint", "LONG", "BIGINT"),
        ("Long", "LONG", "BIGINT"),
        ("integer", "INT", "INT"),
        ("real", "FLOAT", "FLOAT"),
        ("decimal", "DECIMAL", "DECIMAL(10,0)"),
        ("numeric(5)", "DECIMAL", "DECIMAL(5,0)"),
        ("map<string,int>", "MAP", "MAP<STRING, INT>"),
        ("struct<a:int,`b c`:array<string>>", "STRUCT", "STRUCT<a: INT, `b c`: ARRAY<STRING>>"),
        ("struct<>", "STRUCT", "STRUCT<>"),
        ("varchar(10)", "STRING", "VARCHAR(10)"),
        ("interval year to month", "INTERVAL", "INTERVAL YEAR TO MONTH"),
        ("Interval Day", "INTERVAL", "INTERVAL DAY"),
        ("null", "NULL", "VOID"),
    ],
)
def test_type_names_and_texts(
    fake: FakeDatabricks, given: str, type_name: str, type_text: str
) -> None:
    fake.add_table("x", [("c", given)], [])
    [column] = execute(fake, "x")["manifest"]["schema"]["columns"]
    assert (column["type_name"], column["type_text"]) == (type_name, type_text)


def test_mapping_rows_and_mapping_columns(fake: FakeDatabricks) -> None:
    fake.add_table("x", {"id": "BIGINT", "name": "STRING"}, [{"id": 1}, {"name": "b", "id": 2}])
    assert execute(fake, "x")["result"]["data_array"] == [["1", None], ["2", "b"]]


# -- results: chunks, limits ---------------------------------------------------------------------


def test_results_are_split_into_chunks(fake: FakeDatabricks) -> None:
    fake.add_table("five", [("n", "INT")], [(n,) for n in range(5)], rows_per_chunk=2)
    response = execute(fake, "five")
    statement_id = response["statement_id"]
    manifest = response["manifest"]
    assert manifest == {
        "format": "JSON_ARRAY",
        "schema": {"column_count": 1, "columns": [
            {"name": "n", "type_text": "INT", "type_name": "INT", "position": 0}]},
        "total_chunk_count": 3,
        "chunks": [
            {"chunk_index": 0, "row_offset": 0, "row_count": 2},
            {"chunk_index": 1, "row_offset": 2, "row_count": 2},
            {"chunk_index": 2, "row_offset": 4, "row_count": 1},
        ],
        "total_row_count": 5,
        "truncated": False,
    }  # fmt: skip
    link = f"{STATEMENTS}/{statement_id}/result/chunks"
    assert response["result"] == {
        "chunk_index": 0, "row_offset": 0, "row_count": 2, "data_array": [["0"], ["1"]],
        "next_chunk_index": 1, "next_chunk_internal_link": f"{link}/1",
    }  # fmt: skip
    last = chunk(fake, statement_id, 2).json()  # any order
    assert last == {"chunk_index": 2, "row_offset": 4, "row_count": 1, "data_array": [["4"]]}
    middle = call(fake, "GET", response["result"]["next_chunk_internal_link"]).json()
    assert middle["data_array"] == [["2"], ["3"]]
    assert middle["next_chunk_internal_link"] == f"{link}/2"
    assert poll(fake, statement_id)["result"]["chunk_index"] == 0  # a poll gives chunk 0
    for bad in (3, "x", -1):
        reply = chunk(fake, statement_id, bad)
        assert reply.status == 400
        assert reply.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert fake.statement(statement_id).chunk_requests == 5


def test_the_fakes_default_chunk_size() -> None:
    with FakeDatabricks(rows_per_chunk=3) as fake:
        fake.add_table("x", [("n", "INT")], [(n,) for n in range(7)])
        assert execute(fake, "x")["manifest"]["total_chunk_count"] == 3


def test_an_empty_result_has_no_chunks(fake: FakeDatabricks) -> None:
    fake.add_table("none", [("n", "INT")], [])
    response = execute(fake, "none")
    assert "result" not in response
    manifest = response["manifest"]
    assert (manifest["total_chunk_count"], manifest["total_row_count"]) == (0, 0)
    assert "chunks" not in manifest
    assert chunk(fake, response["statement_id"], 0).status == 400


def test_row_limit_and_byte_limit_truncate(fake: FakeDatabricks) -> None:
    fake.add_table("ten", [("s", "STRING")], [("abcd",)] * 10)
    limited = execute(fake, "ten", row_limit=4)
    assert limited["manifest"]["total_row_count"] == 4
    assert limited["manifest"]["truncated"] is True
    assert execute(fake, "ten", row_limit=10)["manifest"]["truncated"] is False
    # each row is 9 bytes of compact JSON (["abcd"]) plus a separator
    by_bytes = execute(fake, "ten", byte_limit=35)
    assert by_bytes["manifest"]["total_row_count"] == 3
    assert by_bytes["manifest"]["truncated"] is True


def test_the_inline_cap_fails_the_statement(fake: FakeDatabricks) -> None:
    fake.inline_byte_limit = 100
    fake.add_table("big", [("s", "STRING")], [("x" * 40,)] * 5)
    failed = execute(fake, "big")
    assert failed["status"]["state"] == "FAILED"
    assert failed["status"]["error"]["error_code"] == "BAD_REQUEST"
    assert failed["status"]["error"]["message"].startswith(
        "Inline byte limit exceeded. Statements executed with disposition=INLINE can have a "
        "result size of at most 100 bytes."
    )
    assert "manifest" not in failed
    assert execute(fake, "big", disposition="EXTERNAL_LINKS")["status"]["state"] == "SUCCEEDED"
    assert execute(fake, "big", row_limit=1)["status"]["state"] == "SUCCEEDED"


# -- what a statement does -----------------------------------------------------------------------


def test_select_literal_and_the_default_for_unmatched_statements(fake: FakeDatabricks) -> None:
    one = execute(fake, "select 1;")
    assert one["result"]["data_array"] == [["1"]]
    assert one["manifest"]["schema"]["columns"][0]["name"] == "1"
    failed = execute(fake, "SELECT * FROM nowhere")
    assert failed["status"]["state"] == "FAILED"
    assert failed["status"]["sql_state"] == "42000"
    assert failed["status"]["error"]["error_code"] == "BAD_REQUEST"
    assert "[FAKE_NO_RESULT_REGISTERED]" in failed["status"]["error"]["message"]
    assert "SELECT * FROM nowhere" in failed["status"]["error"]["message"]


def test_unmatched_empty() -> None:
    with FakeDatabricks(unmatched="empty") as fake:
        response = execute(fake, "CREATE TABLE t (id INT)")
        assert response["status"] == {"state": "SUCCEEDED"}
        assert response["manifest"]["schema"] == {"column_count": 0}
        assert "result" not in response


@pytest.mark.parametrize(
    ("statement", "message", "sql_state"),
    [
        ("import os\nprint(1)",
         "[PARSE_SYNTAX_ERROR] Syntax error at or near 'import'. SQLSTATE: 42601", "42601"),
        ("print('x')",
         "[PARSE_SYNTAX_ERROR] Syntax error at or near 'print'. SQLSTATE: 42601", "42601"),
        ("FAIL: the table is locked", "the table is locked", "42000"),
    ],
)  # fmt: skip
def test_built_in_failures(
    fake: FakeDatabricks, statement: str, message: str, sql_state: str
) -> None:
    response = execute(fake, statement)
    assert response["status"] == {
        "state": "FAILED",
        "sql_state": sql_state,
        "error": {"error_code": "BAD_REQUEST", "message": message},
    }


def test_fail_statement_and_rule_order(fake: FakeDatabricks) -> None:
    fake.fail_statement(r"^MERGE", error_code="ABORTED", message="conflict", sql_state="40000",
                        times=1)  # fmt: skip
    fake.add_table(r"^MERGE", [("num_affected_rows", "BIGINT")], [(3,)])
    fake.add_table(r"^MERGE", [("never", "INT")], [(0,)])  # the first matching rule wins
    first = execute(fake, "MERGE INTO t USING s ON t.id = s.id")
    assert first["status"]["error"] == {"error_code": "ABORTED", "message": "conflict"}
    assert first["status"]["sql_state"] == "40000"
    second = execute(fake, "MERGE INTO t USING s ON t.id = s.id")
    assert second["result"]["data_array"] == [["3"]]
    fake.clear_rules()
    assert execute(fake, "MERGE x")["status"]["state"] == "FAILED"
    with pytest.raises(ValueError, match="times"):
        fake.fail_statement("x", times=0)


def test_fail_statement_without_sql_state(fake: FakeDatabricks) -> None:
    fake.fail_statement("x", error_code="RESOURCE_EXHAUSTED", message="quota")
    status = execute(fake, "x")["status"]
    assert status == {
        "state": "FAILED",
        "error": {"error_code": "RESOURCE_EXHAUSTED", "message": "quota"},
    }


def test_parameters_reach_a_callable_result_as_typed_values(fake: FakeDatabricks) -> None:
    seen: list[dict[str, Any]] = []

    def rows(parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
        seen.append(parameters)
        return [(parameters["id"], parameters["name"])]

    fake.add_table(r"WHERE id = :id AND name = :name", [("id", "BIGINT"), ("name", "STRING")], rows)
    params = [
        {"name": "id", "value": "42", "type": "BIGINT"},
        {"name": "name", "value": "O'Brien; DROP TABLE t"},
        {"name": "day", "value": "2024-05-01", "type": "DATE"},
        {"name": "at", "value": "2024-05-01T10:00:00Z", "type": "TIMESTAMP"},
        {"name": "ok", "value": "TRUE", "type": "BOOLEAN"},
        {"name": "price", "value": "9.90", "type": "DECIMAL(10,2)"},
        {"name": "ratio", "value": "0.5", "type": "DOUBLE"},
        {"name": "none", "type": "INT"},
    ]
    response = execute(fake, "SELECT * FROM t WHERE id = :id AND name = :name", parameters=params)
    assert response["result"]["data_array"] == [["42", "O'Brien; DROP TABLE t"]]
    assert seen == [
        {
            "id": 42,
            "name": "O'Brien; DROP TABLE t",
            "day": date(2024, 5, 1),
            "at": datetime(2024, 5, 1, 10, tzinfo=timezone.utc),
            "ok": True,
            "price": Decimal("9.90"),
            "ratio": 0.5,
            "none": None,
        }
    ]
    assert fake.last_statement.statement == "SELECT * FROM t WHERE id = :id AND name = :name"


def test_a_spliced_statement_does_not_match_a_parameterised_rule(fake: FakeDatabricks) -> None:
    fake.add_table(r"WHERE id = :id\b", [("id", "BIGINT")], lambda p: [(p["id"],)])
    spliced = execute(fake, "SELECT id FROM t WHERE id = 42")
    assert spliced["status"]["state"] == "FAILED"
    bound = execute(fake, "SELECT id FROM t WHERE id = :id",
                    parameters=[{"name": "id", "value": "42", "type": "INT"}])  # fmt: skip
    assert bound["result"]["data_array"] == [["42"]]


def test_unbound_markers_fail_and_markers_in_literals_do_not_count(fake: FakeDatabricks) -> None:
    fake.add_table("FROM t", [("n", "INT")], [(1,)])
    unbound = execute(fake, "SELECT n FROM t WHERE a = :a AND b = :b",
                      parameters=[{"name": "a", "value": "1"}])  # fmt: skip
    assert unbound["status"]["sql_state"] == "42P02"
    assert unbound["status"]["error"]["message"].startswith(
        "[UNBOUND_SQL_PARAMETER] Found the unbound parameter: b."
    )
    quoted = execute(
        fake,
        "SELECT n FROM t WHERE at = '10:00' AND c::INT = 1 -- :not_a_marker\n"
        'AND j:field = 1 /* :neither */ AND `x:y` = "a:b"',
    )
    assert quoted["status"]["state"] == "SUCCEEDED"


@pytest.mark.parametrize(
    ("value", "sql_type"),
    [("abc", "INT"), ("3000000000", "INT"), ("maybe", "BOOLEAN"), ("2024-13-01", "DATE"),
     ("x", "DOUBLE"), ("1.2.3", "DECIMAL(5,2)"), ("x", "VOID")],
)  # fmt: skip
def test_values_that_do_not_cast_fail(fake: FakeDatabricks, value: str, sql_type: str) -> None:
    fake.add_table("x", [("n", "INT")], [(1,)])
    parameters = [{"name": "v", "value": value, "type": sql_type}]
    status = execute(fake, "SELECT :v FROM x", parameters=parameters)["status"]
    assert status["state"] == "FAILED"
    assert status["sql_state"] == "22018"
    assert status["error"]["message"].startswith(f"[CAST_INVALID_INPUT] The value '{value}'")


# -- progression ---------------------------------------------------------------------------------


def test_progression_by_polls(fake: FakeDatabricks) -> None:
    fake.add_table("slow", [("n", "INT")], [(1,)], pending_polls=1, running_polls=2)
    response = execute(fake, "SELECT n FROM slow", wait_timeout="0s")
    assert response == {"statement_id": response["statement_id"], "status": {"state": "PENDING"}}
    statement_id = response["statement_id"]
    states = [poll(fake, statement_id)["status"]["state"] for _ in range(5)]
    assert states == ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED", "SUCCEEDED"]
    assert fake.statement(statement_id).polls == 5
    final = poll(fake, statement_id)
    assert final["result"]["data_array"] == [["1"]]
    reply = chunk(fake, statement_id, 0)
    assert reply.json()["data_array"] == [["1"]]


def test_zero_wait_answers_pending_even_for_an_instant_statement(fake: FakeDatabricks) -> None:
    response = execute(fake, "SELECT 1", wait_timeout="0s", on_wait_timeout="CANCEL")
    assert response["status"] == {"state": "PENDING"}
    assert poll(fake, response["statement_id"])["status"]["state"] == "SUCCEEDED"


def test_chunks_of_an_unfinished_statement_are_400(fake: FakeDatabricks) -> None:
    fake.add_table("slow", [("n", "INT")], [(1,)], running_polls=5)
    statement_id = execute(fake, "slow", wait_timeout="0s")["statement_id"]
    reply = chunk(fake, statement_id, 0)
    assert reply.status == 400
    assert reply.json()["error_code"] == "INVALID_STATE"


def test_wait_timeout_blocks_until_the_statement_finishes() -> None:
    with FakeDatabricks(time_scale=0.01) as fake:  # 1 s of warehouse time = 10 ms
        fake.add_table("two-seconds", [("n", "INT")], [(1,)], pending_seconds=1.0,
                       running_seconds=1.0)  # fmt: skip
        start = time.monotonic()
        response = execute(fake, "two-seconds", wait_timeout="5s")
        elapsed = time.monotonic() - start
        assert response["status"]["state"] == "SUCCEEDED"
        assert response["result"]["data_array"] == [["1"]]
        assert 0.015 <= elapsed < 0.04 + 0.5


def test_wait_timeout_then_continue_or_cancel() -> None:
    with FakeDatabricks(time_scale=0.005) as fake:
        fake.add_table("long", [("n", "INT")], [(1,)], running_seconds=20.0)
        start = time.monotonic()
        running = execute(fake, "long", wait_timeout="5s")  # CONTINUE by default
        assert time.monotonic() - start >= 0.02
        assert running == {"statement_id": running["statement_id"], "status": {"state": "RUNNING"}}
        canceled = execute(fake, "long", wait_timeout="5s", on_wait_timeout="CANCEL")
        assert canceled["status"] == {"state": "CANCELED"}
        info = fake.statement(canceled["statement_id"])
        assert (info.state, info.canceled_by, info.cancels) == ("CANCELED", "wait_timeout", 0)
        assert poll(fake, canceled["statement_id"])["status"]["state"] == "CANCELED"
        time.sleep(0.1)  # the first statement finishes 20 s of warehouse time after it started
        assert poll(fake, running["statement_id"])["status"]["state"] == "SUCCEEDED"


def test_advance_moves_statements_and_wall_clock(fake: FakeDatabricks) -> None:
    fake.add_table("minute", [("n", "INT")], [(1,)], running_seconds=60)
    statement_id = execute(fake, "minute", wait_timeout="0s")["statement_id"]
    assert poll(fake, statement_id)["status"]["state"] == "RUNNING"
    before = fake.now()
    fake.advance(61)
    assert fake.now() - before >= 61
    assert poll(fake, statement_id)["status"]["state"] == "SUCCEEDED"
    with pytest.raises(ValueError, match="seconds"):
        fake.advance(-1)


def test_polls_and_seconds_together(fake: FakeDatabricks) -> None:
    fake.add_table("both", [("n", "INT")], [(1,)], running_polls=1, running_seconds=30)
    statement_id = execute(fake, "both", wait_timeout="0s")["statement_id"]
    assert poll(fake, statement_id)["status"]["state"] == "RUNNING"
    assert poll(fake, statement_id)["status"]["state"] == "RUNNING"  # 30 s not over yet
    fake.advance(30)
    assert poll(fake, statement_id)["status"]["state"] == "SUCCEEDED"


def test_a_failure_progresses_too(fake: FakeDatabricks) -> None:
    fake.fail_statement("bad", running_polls=1)
    statement_id = execute(fake, "bad", wait_timeout="0s")["statement_id"]
    assert [poll(fake, statement_id)["status"]["state"] for _ in range(2)] == [
        "RUNNING",
        "FAILED",
    ]


def test_cancel(fake: FakeDatabricks) -> None:
    fake.add_table("slow", [("n", "INT")], [(1,)], running_polls=100)
    statement_id = execute(fake, "slow", wait_timeout="0s")["statement_id"]
    poll(fake, statement_id)
    reply = call(fake, "POST", f"{STATEMENTS}/{statement_id}/cancel")
    assert (reply.status, reply.body) == (200, b"")
    assert poll(fake, statement_id) == {"statement_id": statement_id,
                                        "status": {"state": "CANCELED"}}  # fmt: skip
    call(fake, "POST", f"{STATEMENTS}/{statement_id}/cancel")
    info = fake.statement(statement_id)
    assert (info.cancels, info.polls, info.canceled_by) == (2, 2, "client")
    done = execute(fake, "SELECT 1")["statement_id"]
    assert call(fake, "POST", f"{STATEMENTS}/{done}/cancel").status == 200
    assert poll(fake, done)["status"]["state"] == "SUCCEEDED"  # too late to cancel
    missing = call(fake, "POST", f"{STATEMENTS}/01ef-nope/cancel")
    assert (missing.status, missing.json()["error_code"]) == (404, "NOT_FOUND")


def test_cancel_ends_a_blocked_execute_at_once() -> None:
    with FakeDatabricks(time_scale=1.0) as fake:
        fake.add_table("forever", [("n", "INT")], [(1,)], running_seconds=3600)
        replies: list[Any] = []
        worker = threading.Thread(
            target=lambda: replies.append(execute(fake, "forever", wait_timeout="50s"))
        )
        start = time.monotonic()
        worker.start()
        while not fake.statements:
            time.sleep(0.005)
        statement_id = fake.statements[0].statement_id
        call(fake, "POST", f"{STATEMENTS}/{statement_id}/cancel")
        worker.join(timeout=5)
        assert time.monotonic() - start < 1
        assert replies[0]["status"]["state"] == "CANCELED"


def test_results_close_after_an_hour_and_statements_vanish_after_twelve(
    fake: FakeDatabricks,
) -> None:
    statement_id = execute(fake, "SELECT 1")["statement_id"]
    fake.advance(3599)
    assert poll(fake, statement_id)["status"]["state"] == "SUCCEEDED"
    fake.advance(1)
    closed = poll(fake, statement_id)
    assert closed == {"statement_id": statement_id, "status": {"state": "CLOSED"}}
    reply = chunk(fake, statement_id, 0)
    assert (reply.status, reply.json()["error_code"]) == (404, "NOT_FOUND")
    fake.advance(11 * 3600)
    gone = call(fake, "GET", f"{STATEMENTS}/{statement_id}")
    assert gone.status == 404
    assert gone.json()["error_code"] == "NOT_FOUND"


def test_close_and_forget_a_statement(fake: FakeDatabricks) -> None:
    first = execute(fake, "SELECT 1")["statement_id"]
    fake.close_statement(first)
    assert poll(fake, first)["status"]["state"] == "CLOSED"
    second = execute(fake, "SELECT 2")["statement_id"]
    fake.forget_statement(second)
    assert call(fake, "GET", f"{STATEMENTS}/{second}").status == 404
    assert fake.statement(second).statement == "SELECT 2"  # the record stays for assertions


# -- external links ------------------------------------------------------------------------------


def test_external_links_json_array(fake: FakeDatabricks) -> None:
    fake.add_table("t", [("n", "INT"), ("s", "STRING")], [(n, f"r{n}") for n in range(3)],
                   rows_per_chunk=2)  # fmt: skip
    response = execute(fake, "t", disposition="EXTERNAL_LINKS")
    statement_id = response["statement_id"]
    manifest = response["manifest"]
    assert [c["byte_count"] for c in manifest["chunks"]] == [len('[["0","r0"],["1","r1"]]'),
                                                              len('[["2","r2"]]')]  # fmt: skip
    assert manifest["total_byte_count"] == sum(c["byte_count"] for c in manifest["chunks"])
    assert set(response["result"]) == {"external_links"}
    [link] = response["result"]["external_links"]
    assert (link["chunk_index"], link["row_offset"], link["row_count"]) == (0, 0, 2)
    assert link["byte_count"] == manifest["chunks"][0]["byte_count"]
    assert link["next_chunk_index"] == 1
    assert link["next_chunk_internal_link"] == f"{STATEMENTS}/{statement_id}/result/chunks/1"
    assert "http_headers" not in link
    url = urlsplit(link["external_link"])
    assert url.path == f"/storage/results/{statement_id}/chunk-0.json"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["X-Amz-Expires"] == "900"
    assert re.fullmatch(r"[0-9a-f]{64}", query["X-Amz-Signature"])
    expiration = datetime.fromisoformat(link["expiration"].replace("Z", "+00:00"))
    assert 890 < expiration.timestamp() - time.time() <= 901
    body = download(link["external_link"])
    assert body.status == 200
    assert body.headers["Content-Type"] == "application/json"
    assert json.loads(body.body) == [["0", "r0"], ["1", "r1"]]
    last = chunk(fake, statement_id, 1).json()["external_links"][0]
    assert "next_chunk_index" not in last
    assert json.loads(download(last["external_link"]).body) == [["2", "r2"]]
    assert fake.statement(statement_id).downloads == 2
    assert fake.downloads == 2


def test_downloads_with_authorization_are_refused(fake: FakeDatabricks) -> None:
    response = execute(fake, "SELECT 1", disposition="EXTERNAL_LINKS")
    url = response["result"]["external_links"][0]["external_link"]
    refused = download(url, {"Authorization": f"Bearer {DEFAULT_TOKEN}"})
    assert refused.status == 400
    assert refused.headers["Content-Type"] == "application/xml"
    assert b"<Code>InvalidArgument</Code>" in refused.body
    assert b"Only one auth mechanism allowed" in refused.body
    assert fake.statement(response["statement_id"]).downloads == 0


def test_links_expire_and_fresh_ones_are_minted(fake: FakeDatabricks) -> None:
    response = execute(fake, "SELECT 1", disposition="EXTERNAL_LINKS")
    statement_id = response["statement_id"]
    url = response["result"]["external_links"][0]["external_link"]
    fake.advance(900)
    expired = download(url)
    assert expired.status == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in expired.body
    fresh = chunk(fake, statement_id, 0).json()["external_links"][0]["external_link"]
    assert fresh != url
    assert download(fresh).status == 200


def test_tampered_links_and_other_methods(fake: FakeDatabricks) -> None:
    url = execute(fake, "SELECT 1", disposition="EXTERNAL_LINKS")["result"]["external_links"][0][
        "external_link"
    ]
    tampered = url.replace("chunk-0", "chunk-1")
    reply = download(tampered)
    assert (reply.status, b"SignatureDoesNotMatch" in reply.body) == (403, True)
    unsigned = download(url.split("?")[0] + "?x=1")
    assert unsigned.status == 403
    split = urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    conn.request("PUT", f"{split.path}?{split.query}", body=b"x")
    put = Reply(conn.getresponse())
    conn.close()
    assert put.status == 405
    assert b"MethodNotAllowed" in put.body


def test_link_headers_are_required_when_configured() -> None:
    with FakeDatabricks(link_headers={"x-amz-server-side-encryption-customer-key": "k"}) as fake:
        link = execute(fake, "SELECT 1", disposition="EXTERNAL_LINKS")["result"]["external_links"][
            0
        ]
        assert link["http_headers"] == {"x-amz-server-side-encryption-customer-key": "k"}
        missing = download(link["external_link"])
        assert (missing.status, b"InvalidRequest" in missing.body) == (400, True)
        assert download(link["external_link"], link["http_headers"]).status == 200


def test_a_closed_result_cannot_be_downloaded(fake: FakeDatabricks) -> None:
    response = execute(fake, "SELECT 1", disposition="EXTERNAL_LINKS")
    url = response["result"]["external_links"][0]["external_link"]
    fake.close_statement(response["statement_id"])
    reply = download(url)
    assert (reply.status, b"<Code>NoSuchKey</Code>" in reply.body) == (404, True)


def test_csv_links(fake: FakeDatabricks) -> None:
    fake.add_table("t", [("id", "INT"), ("note", "STRING")],
                   [(1, 'say "hi", ok'), (2, None), (3, "x")], rows_per_chunk=2)  # fmt: skip
    response = execute(fake, "t", disposition="EXTERNAL_LINKS", format="CSV")
    assert response["manifest"]["format"] == "CSV"
    first = download(response["result"]["external_links"][0]["external_link"])
    assert first.headers["Content-Type"] == "text/csv"
    assert first.body == b'id,note\r\n1,"say ""hi"", ok"\r\n2,null\r\n'
    second_link = chunk(fake, response["statement_id"], 1).json()["external_links"][0]
    second = download(second_link["external_link"])
    assert list(csv.reader(io.StringIO(second.body.decode()))) == [["3", "x"]]  # no header
    assert second_link["external_link"].split("?")[0].endswith("chunk-1.csv")


def test_arrow_stream_links(fake: FakeDatabricks) -> None:
    pa = pytest.importorskip("pyarrow")
    fake.add_table(
        "t",
        [("id", "BIGINT"), ("price", "DECIMAL(10,2)"), ("day", "DATE"), ("at", "TIMESTAMP"),
         ("ok", "BOOLEAN"), ("tags", "ARRAY<STRING>"), ("raw", "BINARY"), ("x", "DOUBLE")],
        [(1, Decimal("9.9"), date(2024, 5, 1), datetime(2024, 5, 1, 10), True, ["a"], b"\x01",
          0.5), (None, None, None, None, None, None, None, None)],
    )  # fmt: skip
    response = execute(fake, "t", disposition="EXTERNAL_LINKS", format="ARROW_STREAM")
    body = download(response["result"]["external_links"][0]["external_link"])
    assert body.headers["Content-Type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(body.body).read_all()
    assert [str(t) for t in table.schema.types] == [
        "int64", "decimal128(10, 2)", "date32[day]", "timestamp[us, tz=Etc/UTC]", "bool",
        "string", "binary", "double"]  # fmt: skip
    first, second = table.to_pylist()
    assert first["price"] == Decimal("9.90")
    assert first["at"] == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert (first["tags"], first["raw"], first["x"]) == ('["a"]', b"\x01", 0.5)
    assert set(second.values()) == {None}


def test_arrow_stream_without_pyarrow(
    fake: FakeDatabricks, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "pyarrow" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    payload = {
        "statement": "SELECT 1",
        "warehouse_id": fake.warehouse_id,
        "disposition": "EXTERNAL_LINKS",
        "format": "ARROW_STREAM",
    }
    reply = call(fake, "POST", STATEMENTS, payload)
    assert reply.status == 501
    assert reply.json()["error_code"] == "NOT_IMPLEMENTED"
    assert "pip install pyarrow" in reply.json()["message"]


# -- faults and error shapes ---------------------------------------------------------------------


def test_throttling_with_and_without_retry_after(fake: FakeDatabricks) -> None:
    fake.throttle_next(1, retry_after=3)
    fake.fail_next(1, 429)
    fake.fail_next(1, 503, headers={"Retry-After": "0"})
    first = call(fake, "POST", STATEMENTS, {})
    assert (first.status, first.headers["Retry-After"]) == (429, "3")
    assert first.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    second = call(fake, "POST", STATEMENTS, {})
    assert (second.status, second.headers.get("Retry-After")) == (429, None)
    third = call(fake, "POST", STATEMENTS, {})
    assert third.status == 503
    assert third.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert third.headers["Retry-After"] == "0"
    assert fake.statements == []  # faulted requests never reach the service


@pytest.mark.parametrize(
    ("shape", "content_type", "body"),
    [
        ("standard", "application/json",
         b'{"error_code": "INTERNAL_ERROR", "message": "Unexpected error"}'),
        ("numeric", "application/json", b'{"error_code": 500, "message": "Unexpected error"}'),
        ("legacy", "application/json", b'{"error": "Unexpected error"}'),
        ("text", "text/plain; charset=utf-8", b"INTERNAL_ERROR: Unexpected error"),
        ("html", "text/html; charset=utf-8", b"<pre>Unexpected error</pre>"),
        ("empty", "text/plain", b""),
    ],
)  # fmt: skip
def test_error_shapes(fake: FakeDatabricks, shape: Any, content_type: str, body: bytes) -> None:
    fake.error_next(1, 500, shape=shape, message="Unexpected error", path=STATEMENTS)
    reply = call(fake, "POST", STATEMENTS, {})
    assert reply.status == 500
    assert reply.headers["Content-Type"] == content_type
    if shape == "html":
        assert body in reply.body
        assert b"<title>Error 500 Internal Server Error</title>" in reply.body
    else:
        assert reply.body == body


def test_error_next_defaults_by_status(fake: FakeDatabricks) -> None:
    fake.error_next(1, 404)
    fake.error_next(1, 409, error_code="RESOURCE_ALREADY_EXISTS", headers={"x-extra": "1"})
    fake.fail_next(1, 418)
    first = call(fake, "GET", f"{STATEMENTS}/x").json()
    assert first["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    second = call(fake, "GET", f"{STATEMENTS}/x")
    assert second.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert second.headers["x-extra"] == "1"
    assert call(fake, "GET", f"{STATEMENTS}/x").json()["error_code"] == "I'M_A_TEAPOT"


def test_resets_and_malformed_bodies(fake: FakeDatabricks) -> None:
    fake.reset_next(1, path=STATEMENTS)
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        call(fake, "POST", STATEMENTS, {"statement": "SELECT 1", "warehouse_id": "x"})
    fake.malformed_next(1)
    reply = call(fake, "POST", STATEMENTS, {"statement": "SELECT 1",
                                            "warehouse_id": fake.warehouse_id})  # fmt: skip
    with pytest.raises(json.JSONDecodeError):
        reply.json()
    assert len(fake.statements) == 1  # the malformed answer still ran the statement


def test_keep_alive_and_headers(fake: FakeDatabricks) -> None:
    conn = connect(fake)
    for _ in range(3):
        reply = call(fake, "POST", STATEMENTS, {"statement": "SELECT 1",
                     "warehouse_id": fake.warehouse_id}, connection=conn)  # fmt: skip
        assert reply.status == 200
        assert reply.headers["x-databricks-org-id"] == DEFAULT_WORKSPACE_ID
        assert re.fullmatch(r"[0-9a-f-]{36}", reply.headers["x-request-id"])
    conn.close()
    assert fake.connections == 1


def test_https_with_the_test_ca() -> None:
    with FakeDatabricks(tls=True) as fake:
        assert fake.url.startswith("https://127.0.0.1:")
        response = execute(fake, "SELECT 1", disposition="EXTERNAL_LINKS")
        assert response["result"]["external_links"][0]["external_link"].startswith(fake.url)


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="rows_per_chunk"):
        FakeDatabricks(rows_per_chunk=0)
    with pytest.raises(ValueError, match="time_scale"):
        FakeDatabricks(time_scale=0)
    with pytest.raises(ValueError, match="unmatched"):
        FakeDatabricks(unmatched="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pending_polls"):
        FakeDatabricks().add_table("x", pending_polls=-1)


def test_statement_info_is_a_snapshot(fake: FakeDatabricks) -> None:
    fake.add_table("slow", [("n", "INT")], [(1,)], running_polls=1)
    statement_id = execute(fake, "slow", wait_timeout="0s")["statement_id"]
    before: StatementInfo = fake.statement(statement_id)
    poll(fake, statement_id)
    assert before.polls == 0
    assert fake.statement(statement_id).polls == 1


# == part 2: clusters, Command Execution 1.2, Jobs, Workspace, Pipelines, Unity Catalog ==========

COMMANDS_12 = "/api/1.2"


def api(
    fake: FakeDatabricks,
    method: str,
    path: str,
    payload: Any = None,
    query: Mapping[str, Any] | None = None,
) -> Reply:
    """One authenticated API call, with ``query`` urlencoded onto the path."""
    if query:
        path = f"{path}?{urlencode(query)}"
    return call(fake, method, path, payload)


def ok(reply: Reply) -> Any:
    assert reply.status == 200, reply.body
    return reply.json() if reply.body else None


def error_of(reply: Reply, status: int) -> tuple[str, str]:
    """(error_code, message) of a standard error body, after checking the status."""
    assert reply.status == status, reply.body
    body = reply.json()
    return body["error_code"], body["message"]


# -- clusters ------------------------------------------------------------------------------------


def test_the_default_cluster_runs(fake: FakeDatabricks) -> None:
    for version in ("2.0", "2.1"):
        details = ok(
            api(fake, "GET", f"/api/{version}/clusters/get", query={"cluster_id": fake.cluster_id})
        )
        assert details["cluster_id"] == fake.cluster_id
        assert details["state"] == "RUNNING"
        assert details["creator_user_name"] == fake.user_name
        assert isinstance(details["spark_context_id"], int)
    assert fake.cluster(fake.cluster_id).polls == 2
    code, message = error_of(
        api(fake, "GET", "/api/2.0/clusters/get", query={"cluster_id": "nope"}), 400
    )
    assert (code, message) == ("INVALID_PARAMETER_VALUE", "Cluster nope does not exist")
    with pytest.raises(LookupError):
        _ = FakeDatabricks(cluster_id=None).cluster_id


def test_a_terminated_cluster_starts_through_pending(fake: FakeDatabricks) -> None:
    fake.add_cluster("0202-000000-off", "TERMINATED", pending_polls=2)
    get = {"cluster_id": "0202-000000-off"}
    details = ok(api(fake, "GET", "/api/2.1/clusters/get", query=get))
    assert details["state"] == "TERMINATED"
    assert details["termination_reason"]["code"] == "INACTIVITY"
    ok(api(fake, "POST", "/api/2.1/clusters/start", get))
    states = [ok(api(fake, "GET", "/api/2.1/clusters/get", query=get))["state"] for _ in range(3)]
    assert states == ["PENDING", "PENDING", "RUNNING"]
    code, message = error_of(api(fake, "POST", "/api/2.0/clusters/start", get), 400)
    assert (code, message) == (
        "INVALID_STATE",
        "Cluster 0202-000000-off is in unexpected state Running.",
    )
    assert fake.cluster("0202-000000-off").starts == 2
    fake.set_cluster_state("0202-000000-off", "ERROR", message="Spark driver crashed")
    info = fake.cluster("0202-000000-off")
    assert (info.state, info.state_message) == ("ERROR", "Spark driver crashed")
    with pytest.raises(ValueError, match="unknown cluster state"):
        fake.add_cluster("x", "SLEEPING")


# -- Command Execution API 1.2 --------------------------------------------------------------------


def create_context(fake: FakeDatabricks, cluster_id: str | None = None, **extra: Any) -> str:
    body = {"clusterId": cluster_id or fake.cluster_id, "language": "python", **extra}
    context_id: str = ok(api(fake, "POST", f"{COMMANDS_12}/contexts/create", body))["id"]
    return context_id


def context_status(fake: FakeDatabricks, context_id: str) -> Reply:
    return api(
        fake,
        "GET",
        f"{COMMANDS_12}/contexts/status",
        query={"clusterId": fake.cluster_id, "contextId": context_id},
    )


def execute_command(fake: FakeDatabricks, context_id: str, command: str, **extra: Any) -> str:
    body = {
        "clusterId": fake.cluster_id,
        "contextId": context_id,
        "language": "python",
        "command": command,
        **extra,
    }
    command_id: str = ok(api(fake, "POST", f"{COMMANDS_12}/commands/execute", body))["id"]
    return command_id


def command_status(fake: FakeDatabricks, context_id: str, command_id: str) -> Any:
    return ok(
        api(
            fake,
            "GET",
            f"{COMMANDS_12}/commands/status",
            query={"clusterId": fake.cluster_id, "contextId": context_id, "commandId": command_id},
        )
    )


def run_command(fake: FakeDatabricks, command: str, context_id: str | None = None) -> Any:
    """Executes in a (new) running context and polls until Finished/Error/Cancelled."""
    context_id = context_id or create_context(fake)
    command_id = execute_command(fake, context_id, command)
    for _ in range(50):
        status = command_status(fake, context_id, command_id)
        if status["status"] in ("Finished", "Error", "Cancelled"):
            return status
    raise AssertionError("the command never finished")


def test_a_context_is_pending_then_running_then_destroyed() -> None:
    with FakeDatabricks(context_pending_polls=2) as fake:
        context_id = create_context(fake)
        statuses = [ok(context_status(fake, context_id)) for _ in range(3)]
        assert statuses == [
            {"id": context_id, "status": s} for s in ("Pending", "Pending", "Running")
        ]
        assert [c.context_id for c in fake.live_contexts] == [context_id]
        destroy = {"clusterId": fake.cluster_id, "contextId": context_id}
        assert ok(api(fake, "POST", f"{COMMANDS_12}/contexts/destroy", destroy)) == {
            "id": context_id
        }
        assert fake.live_contexts == []
        assert (fake.contexts_created, fake.contexts_destroyed) == (1, 1)
        gone = context_status(fake, context_id)
        assert gone.status == 400
        assert gone.json() == {"error": f"Context {context_id} does not exist (it was destroyed)."}
        refused = api(
            fake,
            "POST",
            f"{COMMANDS_12}/commands/execute",
            {**destroy, "language": "python", "command": "print(1)"},
        )
        assert refused.status == 400
        assert "destroyed" in refused.json()["error"]
        assert api(fake, "POST", f"{COMMANDS_12}/contexts/destroy", destroy).status == 400
        info = fake.context(context_id)
        assert (info.destroyed_by, info.polls, info.language) == ("client", 3, "python")


def test_executing_in_a_pending_or_failed_context_is_refused() -> None:
    with FakeDatabricks(context_pending_polls=1) as fake:
        pending = create_context(fake)
        refused = api(
            fake,
            "POST",
            f"{COMMANDS_12}/commands/execute",
            {"clusterId": fake.cluster_id, "contextId": pending, "command": "print(1)"},
        )
        assert refused.status == 400
        assert "not ready (status Pending)" in refused.json()["error"]
        fake.fail_next_context()
        failing = create_context(fake)
        assert [ok(context_status(fake, failing))["status"] for _ in range(2)] == [
            "Pending",
            "Error",
        ]
        fake.set_context_status(pending, "Error")
        assert ok(context_status(fake, pending))["status"] == "Error"


def test_only_camel_case_keys_are_read(fake: FakeDatabricks) -> None:
    snake = api(
        fake,
        "POST",
        f"{COMMANDS_12}/contexts/create",
        {"cluster_id": fake.cluster_id, "language": "python"},
    )
    assert snake.status == 400
    assert snake.headers["Content-Type"].startswith("application/json")
    assert snake.json() == {
        "error": "Missing required field: clusterId (got 'cluster_id': API 1.2 "
        "takes camelCase keys: clusterId, contextId, commandId)"
    }
    context_id = create_context(fake)
    query = {"clusterId": fake.cluster_id, "context_id": context_id}
    status = api(fake, "GET", f"{COMMANDS_12}/contexts/status", query=query)
    assert status.status == 400
    assert "Missing required field: contextId (got 'context_id'" in status.json()["error"]
    bad_language = api(
        fake,
        "POST",
        f"{COMMANDS_12}/contexts/create",
        {"clusterId": fake.cluster_id, "language": "cobol"},
    )
    assert bad_language.status == 400
    assert api(fake, "GET", f"{COMMANDS_12}/contexts/create").status == 404  # wrong method


def test_a_cluster_that_is_not_running_refuses_commands(fake: FakeDatabricks) -> None:
    unknown = api(fake, "POST", f"{COMMANDS_12}/contexts/create", {"clusterId": "nope"})
    assert (unknown.status, unknown.json()) == (400, {"error": "Cluster nope does not exist"})
    fake.add_cluster("0303-000000-cold", "TERMINATED")
    body = {"clusterId": "0303-000000-cold", "language": "python"}
    refused = api(fake, "POST", f"{COMMANDS_12}/contexts/create", body)
    assert refused.status == 400
    assert refused.json()["error"].startswith("ClusterNotReadyException: Cluster 0303-000000-cold")
    fake.add_cluster("0303-000000-warm", "PENDING", pending_polls=1)
    body["clusterId"] = "0303-000000-warm"
    assert api(fake, "POST", f"{COMMANDS_12}/contexts/create", body).status == 400
    assert api(fake, "POST", f"{COMMANDS_12}/contexts/create", body).status == 200  # RUNNING now


def test_a_cluster_that_stops_takes_its_contexts_along(fake: FakeDatabricks) -> None:
    fake.add_command("long", text="never", running_polls=1000)
    context_id = create_context(fake)
    command_id = execute_command(fake, context_id, "long")
    fake.set_cluster_state(fake.cluster_id, "RESTARTING")
    refused = context_status(fake, context_id)
    assert refused.status == 400
    assert refused.json()["error"].startswith("ClusterNotReadyException")
    fake.set_cluster_state(fake.cluster_id, "RUNNING")
    gone = context_status(fake, context_id)
    assert gone.status == 400
    assert "was terminated or restarted" in gone.json()["error"]
    info = fake.context(context_id)
    assert (info.destroyed, info.destroyed_by) == (True, "cluster")
    assert fake.live_contexts == []
    assert fake.contexts_destroyed == 0  # the client destroyed nothing
    assert fake.command(command_id).status == "Cancelled"


def test_print_gives_text_and_contexts_keep_assignments(fake: FakeDatabricks) -> None:
    context_id = create_context(fake)
    first = run_command(
        fake,
        'import os\nprint("Hello from Databricks!")\nx = 2 + 2\n'
        "print('2 + 2 =', x)\nprint(1, 2, sep='-', end='!\\n')",
        context_id,
    )
    assert first["status"] == "Finished"
    assert first["results"] == {
        "resultType": "text",
        "data": "Hello from Databricks!\n2 + 2 = 4\n1-2!",
    }
    second = run_command(fake, "x += 1\nprint(f'{x:03d} {[x, 1.5]!r} {len(\"abc\")}')", context_id)
    assert second["results"]["data"] == "005 [5, 1.5] 3"
    other = run_command(fake, "print(x)")  # another context: x is unknown there
    assert other["results"]["resultType"] == "error"
    assert run_command(fake, "pass")["results"] == {"resultType": "text", "data": ""}


@pytest.mark.parametrize(
    ("command", "name", "message"),
    [
        ('raise ValueError("bad input")', "ValueError", "bad input"),
        ("print(undefined_name)", "NameError", "name 'undefined_name' is not defined"),
        ('raise MyError("x")', "NameError", "name 'MyError' is not defined"),
        ("print(1)\ny = 1 / 0", "ZeroDivisionError", "division by zero"),
        ('int("x")', "ValueError", "invalid literal for int() with base 10: 'x'"),
        ("raise KeyError('k')", "KeyError", "'k'"),
    ],
)
def test_python_exceptions_finish_with_error_results(
    fake: FakeDatabricks, command: str, name: str, message: str
) -> None:
    status = run_command(fake, command)
    assert status["status"] == "Finished"  # not "Error": the command ran, Python raised
    results = status["results"]
    assert results["resultType"] == "error"
    assert results["summary"] == f"<span class='ansi-red-fg'>{name}</span>: {message}"
    assert f"{name}: {message}" in results["cause"]
    assert "Traceback (most recent call last)" in results["cause"]
    assert "data" not in results


def test_a_syntax_error_and_what_the_fake_cannot_run(fake: FakeDatabricks) -> None:
    syntax = run_command(fake, "print(")["results"]
    assert syntax["resultType"] == "error"
    assert syntax["summary"].startswith("<span class='ansi-red-fg'>SyntaxError</span>: ")
    for command in ("display(spark.sql('SELECT 1'))", "for i in range(3):\n    print(i)"):
        results = run_command(fake, command)["results"]
        assert results["resultType"] == "error"
        assert results["summary"].startswith("[FAKE_NO_RESULT_REGISTERED]")
        assert command in results["cause"]
    with FakeDatabricks(unmatched="empty") as lenient:
        assert run_command(lenient, "dbutils.fs.ls('/')")["results"] == {
            "resultType": "text",
            "data": "",
        }


def test_markers_and_sql(fake: FakeDatabricks) -> None:
    table = run_command(fake, 'TABLE: [["id", "name"], [1, "a"], [2, null]]')["results"]
    assert table == {
        "resultType": "table",
        "data": [[1, "a"], [2, None]],
        "schema": [
            {"name": "id", "type": '"long"', "metadata": "{}"},
            {"name": "name", "type": '"string"', "metadata": "{}"},
        ],
        "truncated": False,
        "isJsonSchema": True,
    }
    failed = run_command(fake, "FAIL: the job broke")
    assert failed["status"] == "Finished"
    assert failed["results"]["cause"] == "Exception: the job broke"
    context_id = create_context(fake, language="sql")
    command_id = execute_command(fake, context_id, "SELECT 42", language="sql")
    assert command_status(fake, context_id, command_id)["results"]["data"] == [[42]]


def test_command_rules(fake: FakeDatabricks) -> None:
    fake.add_command(
        r"^df\.show",
        text="+---+\n| id|\n+---+\n|  1|\n+---+",
        queued_polls=1,
        running_polls=2,
        times=1,
    )
    fake.add_command(
        "orders",
        table=(
            [
                ("id", "BIGINT"),
                ("amount", "DECIMAL(10,2)"),
                ("day", "DATE"),
                ("tags", "ARRAY<STRING>"),
                "note",
            ],
            [(1, Decimal("9.90"), date(2024, 5, 1), ["a"], "x")],
        ),
    )
    fake.add_command("boom", error=("<b>Boom</b>", "Traceback...\nRuntimeError: boom"))
    fake.add_command("driver", status_error="java.lang.OutOfMemoryError")
    fake.add_command("plot", image="/plots/1234.png")
    fake.add_command("nothing", no_results=True)
    fake.add_command("echo", text=lambda command: command.upper(), language="scala")
    context_id = create_context(fake)
    command_id = execute_command(fake, context_id, "df.show()")
    statuses = [command_status(fake, context_id, command_id)["status"] for _ in range(4)]
    assert statuses == ["Queued", "Running", "Running", "Finished"]
    assert fake.command(command_id).polls == 4
    assert run_command(fake, "df.show()")["results"]["resultType"] == "error"  # times=1: used up
    table = run_command(fake, "spark.table('orders')")["results"]
    assert table["data"] == [[1, 9.9, "2024-05-01", ["a"], "x"]]
    assert [json.loads(c["type"]) for c in table["schema"]] == [
        "long",
        "decimal(10,2)",
        "date",
        {"type": "array", "elementType": "string", "containsNull": True},
        "string",
    ]
    boom = run_command(fake, "boom()")
    assert (boom["status"], boom["results"]) == (
        "Finished",
        {
            "resultType": "error",
            "summary": "<b>Boom</b>",
            "cause": "Traceback...\nRuntimeError: boom",
        },
    )
    driver = run_command(fake, "driver")
    assert driver["status"] == "Error"
    assert driver["results"]["cause"] == "java.lang.OutOfMemoryError"
    assert run_command(fake, "plot")["results"] == {
        "resultType": "image",
        "fileName": "/plots/1234.png",
    }
    nothing = run_command(fake, "nothing")
    assert nothing == {"id": nothing["id"], "status": "Finished"}
    assert run_command(fake, "echo")["results"]["resultType"] == "error"  # python: not matched
    scala = create_context(fake, language="scala")
    command_id = execute_command(fake, scala, "echo", language="scala")
    assert command_status(fake, scala, command_id)["results"]["data"] == "ECHO"
    with pytest.raises(ValueError, match="exactly one"):
        fake.add_command("x", text="a", error=("b", "c"))
    with pytest.raises(ValueError, match="exactly one"):
        fake.add_command("x")
    fake.clear_command_rules()
    assert run_command(fake, "plot")["results"]["resultType"] == "error"


def test_cancel_a_running_command(fake: FakeDatabricks) -> None:
    fake.add_command("long", text="never", running_polls=1000)
    context_id = create_context(fake)
    command_id = execute_command(fake, context_id, "long")
    assert command_status(fake, context_id, command_id)["status"] == "Running"
    ids = {"clusterId": fake.cluster_id, "contextId": context_id, "commandId": command_id}
    assert ok(api(fake, "POST", f"{COMMANDS_12}/commands/cancel", ids)) == {"id": command_id}
    statuses = [command_status(fake, context_id, command_id) for _ in range(2)]
    assert statuses == [
        {"id": command_id, "status": "Cancelling"},
        {"id": command_id, "status": "Cancelled"},
    ]
    assert ok(api(fake, "POST", f"{COMMANDS_12}/commands/cancel", ids)) == {"id": command_id}
    info = fake.command(command_id)
    assert (info.status, info.cancels, info.results is not None) == ("Cancelled", 2, True)
    unknown = api(fake, "POST", f"{COMMANDS_12}/commands/cancel", {**ids, "commandId": "nope"})
    assert unknown.json() == {"error": "Command nope does not exist."}
    # destroying a context cancels what still runs in it
    command_id = execute_command(fake, context_id, "long")
    ok(
        api(
            fake,
            "POST",
            f"{COMMANDS_12}/contexts/destroy",
            {"clusterId": fake.cluster_id, "contextId": context_id},
        )
    )
    assert fake.command(command_id).status == "Cancelled"
    assert fake.last_command.command_id == command_id
    assert [c.command_id for c in fake.commands][-1] == command_id


def test_too_many_contexts_and_throttling(fake: FakeDatabricks) -> None:
    fake.max_contexts = 2
    create_context(fake)
    create_context(fake)
    refused = api(fake, "POST", f"{COMMANDS_12}/contexts/create", {"clusterId": fake.cluster_id})
    assert refused.status == 400
    assert refused.json()["error"].startswith("Too many execution contexts are open right now.")
    assert len(fake.live_contexts) == 2
    fake.throttle_next(1, retry_after=3, path="/api/1.2/")
    fake.fail_next(1, 503, path="/api/1.2/")
    throttled = api(fake, "POST", f"{COMMANDS_12}/contexts/create", {"clusterId": fake.cluster_id})
    assert (throttled.status, throttled.headers["Retry-After"]) == (429, "3")
    unavailable = api(fake, "GET", f"{COMMANDS_12}/contexts/status")
    assert error_of(unavailable, 503)[0] == "TEMPORARILY_UNAVAILABLE"


# -- Jobs ----------------------------------------------------------------------------------------


def jobs(
    fake: FakeDatabricks,
    method: str,
    action: str,
    payload: Any = None,
    version: str = "2.1",
    **query: Any,
) -> Reply:
    return api(fake, method, f"/api/{version}/jobs/{action}", payload, query)


def test_jobs_list_pages_with_tokens(fake: FakeDatabricks) -> None:
    ids = [fake.add_job(name=f"job-{n}") for n in range(45)]
    fake.add_job(name="Nightly")
    first = ok(jobs(fake, "GET", "list"))
    assert [j["job_id"] for j in first["jobs"]] == ids[:20]
    assert first["has_more"] is True
    assert "prev_page_token" not in first
    assert "tasks" not in first["jobs"][0]["settings"]
    assert first["jobs"][0]["settings"]["name"] == "job-0"
    second = ok(jobs(fake, "GET", "list", version="2.2", page_token=first["next_page_token"]))
    assert [j["job_id"] for j in second["jobs"]] == ids[20:40]
    third = ok(jobs(fake, "GET", "list", page_token=second["next_page_token"]))
    assert len(third["jobs"]) == 6
    assert third["has_more"] is False
    assert "next_page_token" not in third
    back = ok(jobs(fake, "GET", "list", page_token=third["prev_page_token"]))
    assert back["jobs"] == second["jobs"]
    named = ok(jobs(fake, "GET", "list", name="NIGHTLY", expand_tasks="true"))
    assert [j["settings"]["name"] for j in named["jobs"]] == ["Nightly"]
    assert named["jobs"][0]["settings"]["tasks"][0]["task_key"] == "main"
    assert ok(jobs(fake, "GET", "list", name="none")) == {"has_more": False}
    assert [j["job_id"] for j in ok(jobs(fake, "GET", "list", limit=2, offset=3))["jobs"]] == ids[
        3:5
    ]
    for limit in (0, 101, "x"):
        assert error_of(jobs(fake, "GET", "list", limit=limit), 400)[0] == "INVALID_PARAMETER_VALUE"
    assert jobs(fake, "GET", "list", page_token="forged").status == 400
    job = ok(jobs(fake, "GET", "get", job_id=ids[0]))
    assert (job["job_id"], job["settings"]["tasks"][0]["existing_cluster_id"]) == (
        ids[0],
        fake.cluster_id,
    )
    assert error_of(jobs(fake, "GET", "get", job_id=999), 400) == (
        "INVALID_PARAMETER_VALUE",
        "Job 999 does not exist.",
    )
    assert jobs(fake, "GET", "list", version="2.0").status == 404


def test_run_now_progresses_and_returns_the_exit_value(fake: FakeDatabricks) -> None:
    job_id = fake.add_job(7, "nightly", pending_polls=1, running_polls=2, notebook_result="42")
    started = ok(jobs(fake, "POST", "run-now", {"job_id": job_id, "notebook_params": {"day": "1"}}))
    run_id = started["run_id"]
    assert started == {"run_id": run_id, "number_in_job": run_id}
    polls = [ok(jobs(fake, "GET", "runs/get", run_id=run_id)) for _ in range(4)]
    assert [p["state"]["life_cycle_state"] for p in polls] == [
        "PENDING",
        "RUNNING",
        "RUNNING",
        "TERMINATED",
    ]
    assert [p["status"]["state"] for p in polls] == ["PENDING", "RUNNING", "RUNNING", "TERMINATED"]
    run = polls[-1]
    assert "result_state" not in polls[0]["state"]
    assert run["state"] == {
        "life_cycle_state": "TERMINATED",
        "result_state": "SUCCESS",
        "state_message": "",
        "user_cancelled_or_timedout": False,
    }
    assert run["status"]["termination_details"] == {"code": "SUCCESS", "type": "SUCCESS"}
    assert run["run_page_url"] == f"{fake.url}/?o={fake.workspace_id}#job/7/run/{run_id}"
    assert (run["job_id"], run["run_type"], run["number_in_job"]) == (7, "JOB_RUN", run_id)
    assert run["overriding_parameters"] == {"notebook_params": {"day": "1"}}
    [task] = run["tasks"]
    assert task["task_key"] == "main"
    assert task["run_id"] != run_id
    assert task["notebook_task"]["notebook_path"] == f"/Users/{fake.user_name}/nightly"
    assert run["end_time"] >= run["start_time"] > 0
    output = ok(jobs(fake, "GET", "runs/get-output", run_id=task["run_id"]))
    assert output["notebook_output"] == {"result": "42", "truncated": False}
    assert output["metadata"]["run_id"] == task["run_id"]
    assert "error" not in output
    single = ok(jobs(fake, "GET", "runs/get-output", run_id=run_id))  # one task: allowed
    assert single["notebook_output"]["result"] == "42"
    info = fake.run(run_id)
    assert (info.polls, info.life_cycle_state, info.notebook_params) == (
        4,
        "TERMINATED",
        {"day": "1"},
    )
    assert info.task_run_ids == {"main": task["run_id"]}
    assert fake.run(task["run_id"]) == info
    assert fake.last_run.run_id == run_id


@pytest.mark.parametrize(
    ("scripted", "life_cycle", "result", "code"),
    [
        ("SUCCESS", "TERMINATED", "SUCCESS", "SUCCESS"),
        ("FAILED", "TERMINATED", "FAILED", "RUN_EXECUTION_ERROR"),
        ("TIMEDOUT", "TERMINATED", "TIMEDOUT", "RUN_EXECUTION_ERROR"),
        ("CANCELED", "TERMINATED", "CANCELED", "CANCELED"),
        ("SKIPPED", "SKIPPED", None, "SKIPPED"),
        ("INTERNAL_ERROR", "INTERNAL_ERROR", "FAILED", "INTERNAL_ERROR"),
    ],
)
def test_terminal_states(
    fake: FakeDatabricks, scripted: str, life_cycle: str, result: str | None, code: str
) -> None:
    job_id = fake.add_job(result_state=scripted, error_trace="Traceback ...", logs="log line")
    run_id = ok(jobs(fake, "POST", "run-now", {"job_id": job_id}))["run_id"]
    state = ok(jobs(fake, "GET", "runs/get", run_id=run_id))["state"]
    status = ok(jobs(fake, "GET", "runs/get", run_id=run_id))["status"]
    assert state["life_cycle_state"] == life_cycle
    assert state.get("result_state") == result
    assert status["state"] == "TERMINATED"
    assert status["termination_details"]["code"] == code
    assert state["user_cancelled_or_timedout"] is (scripted in ("CANCELED", "TIMEDOUT"))
    output = ok(jobs(fake, "GET", "runs/get-output", run_id=run_id))
    assert output["logs"] == "log line"
    if result in ("FAILED", "TIMEDOUT", "CANCELED"):
        assert output["error"] == state["state_message"] != ""
        assert output["error_trace"] == "Traceback ..."
    else:
        assert "error" not in output


def test_multi_task_output_needs_a_task_run_id(fake: FakeDatabricks) -> None:
    job_id = fake.add_job(
        tasks=[
            "extract",
            {
                "task_key": "load",
                "notebook_task": {
                    "notebook_path": "/Shared/load",
                    "base_parameters": {"table": "t"},
                },
            },
        ],
        notebook_result=lambda parameters: f"loaded {parameters.get('table')}",
    )
    run_id = ok(jobs(fake, "POST", "run-now", {"job_id": job_id}))["run_id"]
    code, message = error_of(jobs(fake, "GET", "runs/get-output", run_id=run_id), 400)
    assert code == "INVALID_PARAMETER_VALUE"
    assert message.startswith("Retrieving the output of runs with multiple tasks is not supported")
    run = ok(jobs(fake, "GET", "runs/get", run_id=run_id))
    results = {
        task["task_key"]: ok(jobs(fake, "GET", "runs/get-output", run_id=task["run_id"]))[
            "notebook_output"
        ]["result"]
        for task in run["tasks"]
    }
    assert results == {"extract": "loaded None", "load": "loaded t"}
    task_view = ok(jobs(fake, "GET", "runs/get", run_id=run["tasks"][1]["run_id"]))
    assert (task_view["task_key"], task_view["parent_run_id"]) == ("load", run_id)
    with pytest.raises(ValueError, match="distinct task keys"):
        fake.add_job(tasks=["a", "a"])


def test_runs_submit_with_an_idempotency_token(fake: FakeDatabricks) -> None:
    fake.add_submit("etl", result_state="FAILED", error="boom", times=1)
    fake.add_submit(notebook_result=lambda p: p["code"].upper())
    body = {
        "run_name": "aadap etl",
        "tasks": [
            {
                "task_key": "main",
                "existing_cluster_id": fake.cluster_id,
                "notebook_task": {
                    "notebook_path": "/Shared/runner",
                    "base_parameters": {"code": "select 1"},
                },
            }
        ],
        "timeout_seconds": 3600,
        "idempotency_token": "task-123-attempt-1",
    }
    first = ok(jobs(fake, "POST", "runs/submit", body, version="2.2"))
    again = ok(jobs(fake, "POST", "runs/submit", body, version="2.2"))
    assert first == again == {"run_id": first["run_id"]}
    info = fake.run(first["run_id"])
    assert (info.run_type, info.resubmits, info.result_state, info.api_version) == (
        "SUBMIT_RUN",
        1,
        "FAILED",
        "2.2",
    )
    assert info.idempotency_token == "task-123-attempt-1"
    assert len(fake.runs) == 1
    output = ok(jobs(fake, "GET", "runs/get-output", run_id=first["run_id"]))
    assert output["error"] == "boom"
    second = ok(jobs(fake, "POST", "runs/submit", {**body, "idempotency_token": "other"}))
    output = ok(jobs(fake, "GET", "runs/get-output", run_id=second["run_id"]))
    assert output["notebook_output"]["result"] == "SELECT 1"  # the second rule: times=1 used up
    run = ok(jobs(fake, "GET", "runs/get", run_id=second["run_id"]))
    assert (run["run_type"], run["run_name"], "number_in_job" in run) == (
        "SUBMIT_RUN",
        "aadap etl",
        False,
    )
    assert jobs(fake, "GET", "get", job_id=run["job_id"]).status == 400  # no visible job
    for broken, fragment in [
        ({"run_name": "x"}, "tasks"),
        ({"tasks": [{"task_key": "a"}, {"task_key": "a"}]}, "more than one task"),
        ({"tasks": [{"notebook_task": {}}]}, "task_key"),
        ({"tasks": [{"task_key": "a", "existing_cluster_id": "nope"}]}, "Cluster nope"),
        ({**body, "idempotency_token": "x" * 65}, "idempotency_token"),
        ({**body, "timeout_seconds": -1}, "timeout_seconds"),
    ]:
        code, message = error_of(jobs(fake, "POST", "runs/submit", broken), 400)
        assert code == "INVALID_PARAMETER_VALUE"
        assert fragment in message


def test_run_now_with_the_same_token_and_unknown_ids(fake: FakeDatabricks) -> None:
    job_id = fake.add_job()
    body = {"job_id": job_id, "idempotency_token": "once"}
    assert ok(jobs(fake, "POST", "run-now", body)) == ok(jobs(fake, "POST", "run-now", body))
    assert fake.last_run.resubmits == 1
    assert error_of(jobs(fake, "POST", "run-now", {"job_id": 424242}), 400) == (
        "INVALID_PARAMETER_VALUE",
        "Job 424242 does not exist.",
    )
    assert error_of(jobs(fake, "POST", "run-now", {}), 400)[1] == "Missing required field: job_id"
    assert error_of(jobs(fake, "GET", "runs/get", run_id=1), 400) == (
        "INVALID_PARAMETER_VALUE",
        "Run 1 does not exist.",
    )
    assert (
        error_of(jobs(fake, "GET", "runs/get", run_id="abc"), 400)[0] == "INVALID_PARAMETER_VALUE"
    )
    assert error_of(jobs(fake, "POST", "runs/cancel", {"run_id": 1}), 400)[0] == (
        "INVALID_PARAMETER_VALUE"
    )
    params = {"job_id": job_id, "notebook_params": {"n": 1}}
    assert error_of(jobs(fake, "POST", "run-now", params), 400)[0] == "INVALID_PARAMETER_VALUE"


def test_cancel_a_run(fake: FakeDatabricks) -> None:
    job_id = fake.add_job(running_polls=1000)
    run_id = ok(jobs(fake, "POST", "run-now", {"job_id": job_id}))["run_id"]
    assert (
        ok(jobs(fake, "GET", "runs/get", run_id=run_id))["state"]["life_cycle_state"] == "RUNNING"
    )
    assert ok(jobs(fake, "POST", "runs/cancel", {"run_id": run_id})) == {}
    states = [ok(jobs(fake, "GET", "runs/get", run_id=run_id)) for _ in range(2)]
    assert [s["state"]["life_cycle_state"] for s in states] == ["TERMINATING", "TERMINATED"]
    final = states[-1]
    assert final["state"]["result_state"] == "CANCELED"
    assert final["state"]["user_cancelled_or_timedout"] is True
    assert final["status"]["termination_details"]["code"] == "USER_CANCELED"
    ok(jobs(fake, "POST", "runs/cancel", {"run_id": run_id}))  # a finished run: nothing happens
    info = fake.run(run_id)
    assert (info.cancels, info.result_state) == (2, "CANCELED")
    fake.run_cancel_polls = 0
    run_id = ok(jobs(fake, "POST", "run-now", {"job_id": job_id}))["run_id"]
    ok(jobs(fake, "POST", "runs/cancel", {"run_id": run_id}))
    assert fake.run(run_id).life_cycle_state == "TERMINATED"


def test_queued_runs_and_api_2_2_task_pages(fake: FakeDatabricks) -> None:
    job_id = fake.add_job(tasks=[f"t{n:03d}" for n in range(150)], queued_polls=1)
    run_id = ok(jobs(fake, "POST", "run-now", {"job_id": job_id}, version="2.2"))["run_id"]
    first = ok(jobs(fake, "GET", "runs/get", version="2.2", run_id=run_id))
    assert first["state"]["life_cycle_state"] == "QUEUED"
    assert first["state"]["queue_reason"]
    assert len(first["tasks"]) == 100
    rest = ok(
        jobs(
            fake,
            "GET",
            "runs/get",
            version="2.2",
            run_id=run_id,
            page_token=first["next_page_token"],
        )
    )
    assert [t["task_key"] for t in rest["tasks"]] == [f"t{n:03d}" for n in range(100, 150)]
    assert "next_page_token" not in rest
    assert len(ok(jobs(fake, "GET", "runs/get", version="2.1", run_id=run_id))["tasks"]) == 150
    with pytest.raises(ValueError, match="result_state"):
        fake.add_job(result_state="GREAT")


# -- Workspace -----------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def workspace(
    fake: FakeDatabricks, method: str, action: str, payload: Any = None, **query: Any
) -> Reply:
    return api(fake, method, f"/api/2.0/workspace/{action}", payload, query)


def test_workspace_import_export_round_trip(fake: FakeDatabricks) -> None:
    home = f"/Users/{fake.user_name}"
    ok(workspace(fake, "POST", "mkdirs", {"path": f"{home}/etl/inner"}))
    source = b"# Databricks notebook source\nprint(1)\n\n# COMMAND ----------\n\nprint(2)\n"
    ok(
        workspace(
            fake,
            "POST",
            "import",
            {
                "path": f"{home}/etl/nb",
                "format": "SOURCE",
                "language": "PYTHON",
                "content": b64(source),
                "overwrite": False,
            },
        )
    )
    exported = ok(workspace(fake, "GET", "export", path=f"{home}/etl/nb", format="SOURCE"))
    assert exported == {"content": b64(source), "file_type": "py"}
    ok(
        workspace(
            fake,
            "POST",
            "import",
            {"path": f"{home}/etl/q", "language": "SQL", "content": b64(b"SELECT 1")},
        )
    )
    assert base64.b64decode(
        ok(workspace(fake, "GET", "export", path=f"{home}/etl/q"))["content"]
    ) == (b"-- Databricks notebook source\nSELECT 1")
    listing = ok(workspace(fake, "GET", "list", path=f"{home}/etl"))["objects"]
    assert [(o["path"], o["object_type"], o.get("language")) for o in listing] == [
        (f"{home}/etl/inner", "DIRECTORY", None),
        (f"{home}/etl/nb", "NOTEBOOK", "PYTHON"),
        (f"{home}/etl/q", "NOTEBOOK", "SQL"),
    ]
    notebook = listing[1]
    assert notebook["resource_id"] == str(notebook["object_id"])
    assert notebook["created_at"] == notebook["modified_at"] > 0
    assert ok(workspace(fake, "GET", "list", path=f"{home}/etl/inner")) == {}  # empty folder
    assert ok(workspace(fake, "GET", "list", path=f"{home}/etl/nb"))["objects"] == [notebook]
    assert ok(workspace(fake, "GET", "get-status", path=f"{home}/etl/nb")) == notebook
    assert [o["path"] for o in ok(workspace(fake, "GET", "list", path="/"))["objects"]] == [
        "/Shared",
        "/Users",
    ]
    assert fake.workspace_object(f"{home}/etl/nb").text == source.decode()


def test_workspace_errors(fake: FakeDatabricks, monkeypatch: pytest.MonkeyPatch) -> None:
    for action in ("list", "export", "get-status"):
        assert error_of(workspace(fake, "GET", action, path="/Users/nobody/x"), 404) == (
            "RESOURCE_DOES_NOT_EXIST",
            "Path (/Users/nobody/x) doesn't exist.",
        )
    assert error_of(workspace(fake, "POST", "delete", {"path": "/nope"}), 404)[0] == (
        "RESOURCE_DOES_NOT_EXIST"
    )
    body = {"path": "/Shared/nb", "format": "SOURCE", "language": "PYTHON", "content": b64(b"1")}
    ok(workspace(fake, "POST", "import", body))
    assert error_of(workspace(fake, "POST", "import", body), 400) == (
        "RESOURCE_ALREADY_EXISTS",
        "Path (/Shared/nb) already exists.",
    )
    ok(workspace(fake, "POST", "import", {**body, "content": b64(b"2"), "overwrite": True}))
    assert fake.workspace_object("/Shared/nb").text.endswith("\n2")
    assert error_of(workspace(fake, "POST", "import", {**body, "path": "/Shared/a/b"}), 404) == (
        "RESOURCE_DOES_NOT_EXIST",
        "The parent folder (/Shared/a) does not exist.",
    )
    for broken, fragment in [
        ({**body, "path": "Shared/x"}, "doesn't start with '/'"),
        ({**body, "path": "/Shared/y", "language": None}, "language must be set"),
        ({**body, "path": "/Shared/y", "content": "%%%"}, "base64"),
        ({**body, "path": "/Shared/y", "format": "PDF"}, "Invalid format"),
        ({**body, "path": "/Shared/y", "language": "COBOL"}, "Invalid language"),
    ]:
        code, message = error_of(workspace(fake, "POST", "import", broken), 400)
        assert (code, fragment in message) == ("INVALID_PARAMETER_VALUE", True), message
    assert (
        error_of(
            workspace(fake, "POST", "import", {**body, "path": "/Shared/d", "format": "DBC"}), 501
        )[0]
        == "NOT_IMPLEMENTED"
    )
    monkeypatch.setattr("aadap.testing.databricks.MAX_WORKSPACE_BYTES", 4)
    too_big = workspace(
        fake, "POST", "import", {**body, "path": "/Shared/big", "content": b64(b"12345")}
    )
    assert error_of(too_big, 400)[0] == "MAX_NOTEBOOK_SIZE_EXCEEDED"
    assert error_of(workspace(fake, "POST", "mkdirs", {"path": "/Shared/nb/sub"}), 400)[0] == (
        "RESOURCE_ALREADY_EXISTS"
    )
    ok(workspace(fake, "POST", "mkdirs", {"path": "/Shared/dir/sub"}))
    ok(workspace(fake, "POST", "mkdirs", {"path": "/Shared/dir/sub"}))  # exists: fine
    assert error_of(workspace(fake, "POST", "delete", {"path": "/Shared/dir"}), 400) == (
        "DIRECTORY_NOT_EMPTY",
        "Folder (/Shared/dir) is not empty",
    )
    ok(workspace(fake, "POST", "delete", {"path": "/Shared/dir", "recursive": True}))
    ok(workspace(fake, "POST", "delete", {"path": "/Shared/nb"}))
    assert [p for p in fake.workspace_paths if p.startswith("/Shared/")] == []
    assert workspace(fake, "GET", "import").status == 404  # wrong method


def test_workspace_jupyter_auto_and_files(fake: FakeDatabricks) -> None:
    ipynb = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Title"]},
            {"cell_type": "code", "source": ["x = 1\n", "print(x)"]},
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
    }
    ok(
        workspace(
            fake,
            "POST",
            "import",
            {"path": "/Shared/j", "format": "JUPYTER", "content": b64(json.dumps(ipynb).encode())},
        )
    )
    assert fake.workspace_object("/Shared/j").text == (
        "# Databricks notebook source\n# MAGIC %md\n# MAGIC # Title\n\n"
        "# COMMAND ----------\n\nx = 1\nprint(x)"
    )
    back = ok(workspace(fake, "GET", "export", path="/Shared/j", format="JUPYTER"))
    assert back["file_type"] == "ipynb"
    cells = json.loads(base64.b64decode(back["content"]))["cells"]
    assert [(c["cell_type"], "".join(c["source"])) for c in cells] == [
        ("markdown", "# Title"),
        ("code", "x = 1\nprint(x)"),
    ]
    html = ok(workspace(fake, "GET", "export", path="/Shared/j", format="HTML"))
    assert html["file_type"] == "html"
    ok(
        workspace(
            fake,
            "POST",
            "import",
            {
                "path": "/Shared/auto.ipynb",
                "format": "AUTO",
                "content": b64(json.dumps(ipynb).encode()),
            },
        )
    )
    ok(
        workspace(
            fake,
            "POST",
            "import",
            {
                "path": "/Shared/headed.py",
                "format": "AUTO",
                "content": b64(b"# Databricks notebook source\nprint(1)"),
            },
        )
    )
    ok(
        workspace(
            fake,
            "POST",
            "import",
            {"path": "/Shared/plain.py", "format": "AUTO", "content": b64(b"print(1)")},
        )
    )
    ok(
        workspace(
            fake,
            "POST",
            "import",
            {"path": "/Shared/data.bin", "format": "RAW", "content": b64(b"\x00\x01")},
        )
    )
    kinds = {
        o["path"]: (o["object_type"], o.get("size"))
        for o in ok(workspace(fake, "GET", "list", path="/Shared"))["objects"]
    }
    assert kinds == {
        "/Shared/auto": ("NOTEBOOK", None),
        "/Shared/headed": ("NOTEBOOK", None),
        "/Shared/j": ("NOTEBOOK", None),
        "/Shared/plain.py": ("FILE", 8),
        "/Shared/data.bin": ("FILE", 2),
    }
    assert ok(workspace(fake, "GET", "export", path="/Shared/data.bin")) == {
        "content": b64(b"\x00\x01"),
        "file_type": "bin",
    }
    raw = workspace(fake, "GET", "export", path="/Shared/plain.py", direct_download="true")
    assert (raw.status, raw.body) == (200, b"print(1)")
    assert error_of(workspace(fake, "GET", "export", path="/Shared"), 501)[0] == "NOT_IMPLEMENTED"


def test_workspace_scripting_and_modified_after(fake: FakeDatabricks) -> None:
    fake.add_notebook("/Repos/team/etl", "SELECT 1", language="SQL")
    fake.add_workspace_file("/Repos/team/readme.md", "# hi")
    fake.advance(60)
    fake.add_notebook("/Repos/team/new", "print(2)")
    fake.add_workspace_directory("/Repos/team/empty")
    assert (
        fake.workspace_object("/Repos/team/etl").text == "-- Databricks notebook source\nSELECT 1"
    )
    assert fake.workspace_object("/Repos/team/readme.md").content == b"# hi"
    cutoff = int((fake.now() - 30) * 1000)
    recent = ok(workspace(fake, "GET", "list", path="/Repos/team", notebooks_modified_after=cutoff))
    assert [o["path"] for o in recent["objects"]] == [
        "/Repos/team/empty",
        "/Repos/team/new",
        "/Repos/team/readme.md",
    ]
    with pytest.raises(KeyError):
        fake.workspace_object("/Repos/none")
    with pytest.raises(ValueError, match="absolute"):
        fake.add_notebook("relative", "x")
    with pytest.raises(ValueError, match="existing notebook"):
        fake.add_notebook("/Repos/team/etl/child", "x")


# -- Pipelines -----------------------------------------------------------------------------------


def pipelines(
    fake: FakeDatabricks, method: str, path: str = "", payload: Any = None, **query: Any
) -> Reply:
    return api(fake, method, f"/api/2.0/pipelines{path}", payload, query)


def test_a_pipeline_update_progresses_over_polls(fake: FakeDatabricks) -> None:
    pipeline_id = fake.add_pipeline(
        name="sales", update_states=["QUEUED", "RUNNING"], polls_per_state=2
    )
    assert ok(pipelines(fake, "GET", f"/{pipeline_id}"))["state"] == "IDLE"
    started = ok(
        pipelines(
            fake, "POST", f"/{pipeline_id}/updates", {"full_refresh": True, "cause": "API_CALL"}
        )
    )
    update_id = started["update_id"]
    states = []
    for _ in range(5):
        update = ok(pipelines(fake, "GET", f"/{pipeline_id}/updates/{update_id}"))["update"]
        states.append(update["state"])
    assert states == ["QUEUED", "QUEUED", "RUNNING", "RUNNING", "COMPLETED"]
    assert (update["pipeline_id"], update["cause"], update["full_refresh"]) == (
        pipeline_id,
        "API_CALL",
        True,
    )
    assert isinstance(update["creation_time"], int)
    got = ok(pipelines(fake, "GET", f"/{pipeline_id}"))
    assert (got["state"], got["health"], got["name"]) == ("IDLE", "HEALTHY", "sales")
    assert got["spec"]["id"] == pipeline_id
    [latest] = got["latest_updates"]
    assert (latest["update_id"], latest["state"]) == (update_id, "COMPLETED")
    assert latest["creation_time"].endswith("Z")
    info = fake.pipeline_update(update_id)
    assert (info.polls, info.full_refresh, info.state) == (5, True, "COMPLETED")


def test_a_second_start_conflicts_and_stop_cancels(fake: FakeDatabricks) -> None:
    pipeline_id = fake.add_pipeline(update_states=["RUNNING"], polls_per_state=100, final="FAILED")
    update_id = ok(pipelines(fake, "POST", f"/{pipeline_id}/updates"))["update_id"]
    assert ok(pipelines(fake, "GET", f"/{pipeline_id}"))["state"] == "RUNNING"
    code, message = error_of(pipelines(fake, "POST", f"/{pipeline_id}/updates"), 409)
    assert code == "RESOURCE_CONFLICT"
    assert update_id in message
    assert ok(pipelines(fake, "POST", f"/{pipeline_id}/stop")) == {}
    assert [ok(pipelines(fake, "GET", f"/{pipeline_id}"))["state"] for _ in range(2)] == [
        "STOPPING",
        "IDLE",
    ]
    assert fake.pipeline_update(update_id).state == "CANCELED"
    ok(pipelines(fake, "POST", f"/{pipeline_id}/stop"))  # nothing runs: a no-op
    fake.script_pipeline(pipeline_id, update_states=[], final="FAILED")
    second = ok(pipelines(fake, "POST", f"/{pipeline_id}/updates"))["update_id"]
    assert ok(pipelines(fake, "GET", f"/{pipeline_id}/updates/{second}"))["update"]["state"] == (
        "FAILED"
    )
    assert ok(pipelines(fake, "GET", f"/{pipeline_id}"))["health"] == "UNHEALTHY"
    info = fake.pipeline(pipeline_id)
    assert (info.starts, info.conflicts, info.stops) == (3, 1, 2)
    assert [u.state for u in info.updates] == ["CANCELED", "FAILED"]
    listed = ok(pipelines(fake, "GET", f"/{pipeline_id}/updates"))["updates"]
    assert [u["update_id"] for u in listed] == [second, update_id]  # newest first
    bad = pipelines(fake, "POST", f"/{pipeline_id}/updates", {"full_refresh": "yes"})
    assert error_of(bad, 400)[0] == "INVALID_PARAMETER_VALUE"


def test_pipelines_list_pages_and_filters(fake: FakeDatabricks) -> None:
    ids = sorted(fake.add_pipeline(f"p-{n:02d}", name=f"pipe {n}") for n in range(30))
    fake.add_pipeline(
        "z-sales", name="Sales DLT", spec={"libraries": [{"notebook": {"path": "/Shared/dlt"}}]}
    )
    first = ok(pipelines(fake, "GET"))
    assert [p["pipeline_id"] for p in first["statuses"]] == ids[:25]
    assert first["statuses"][0]["state"] == "IDLE"
    rest = ok(pipelines(fake, "GET", page_token=first["next_page_token"]))
    assert [p["pipeline_id"] for p in rest["statuses"]] == [*ids[25:], "z-sales"]
    assert "next_page_token" not in rest
    assert [
        p["pipeline_id"]
        for p in ok(pipelines(fake, "GET", max_results=2, order_by="id desc"))["statuses"]
    ] == ["z-sales", ids[-1]]
    assert [
        p["name"] for p in ok(pipelines(fake, "GET", filter="name LIKE '%sales%'"))["statuses"]
    ] == ["Sales DLT"]
    assert [
        p["name"] for p in ok(pipelines(fake, "GET", filter="notebook='/Shared/dlt'"))["statuses"]
    ] == ["Sales DLT"]
    assert ok(pipelines(fake, "GET", filter="name LIKE 'none'")) == {}
    for query in (
        {"max_results": 101},
        {"max_results": 0},
        {"filter": "owner = 'x'"},
        {"order_by": "name"},
        {"page_token": "forged"},
    ):
        assert error_of(pipelines(fake, "GET", **query), 400)[0] == "INVALID_PARAMETER_VALUE"
    assert error_of(pipelines(fake, "GET", "/nope"), 404) == (
        "RESOURCE_DOES_NOT_EXIST",
        "Pipeline nope does not exist.",
    )
    assert error_of(pipelines(fake, "GET", "/z-sales/updates/nope"), 404)[0] == (
        "RESOURCE_DOES_NOT_EXIST"
    )
    assert error_of(pipelines(fake, "POST", "/nope/updates"), 404)[0] == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(ValueError, match="final"):
        fake.add_pipeline(final="DONE")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="update_states"):
        fake.add_pipeline(update_states=["COMPLETED"])


# -- Unity Catalog -------------------------------------------------------------------------------

UC = "/api/2.1/unity-catalog"


def test_unity_catalog_listings_page(fake: FakeDatabricks) -> None:
    for name in ("main", "Dev", "hive_metastore", "samples", "system"):
        fake.add_catalog(name, comment=f"{name} catalog")
    fake.add_schema("main.default")
    fake.add_table_info("main.sales.orders", [("id", "BIGINT"), ("amount", "DECIMAL(10,2)")])
    fake.add_table_info(
        "main.sales.v_orders",
        [("id", "BIGINT")],
        table_type="VIEW",
        view_definition="SELECT id FROM main.sales.orders",
    )
    everything = ok(api(fake, "GET", f"{UC}/catalogs"))
    assert [c["name"] for c in everything["catalogs"]] == [
        "dev",
        "hive_metastore",
        "main",
        "samples",
        "system",
    ]
    assert "next_page_token" not in everything
    fake.uc_page_size = 2
    names, token, requests = [], None, 0
    while True:
        query: dict[str, Any] = {"max_results": 0}
        if token:
            query["page_token"] = token
        page = ok(api(fake, "GET", f"{UC}/catalogs", query=query))
        requests += 1
        names += [c["name"] for c in page["catalogs"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert names == [c["name"] for c in everything["catalogs"]]
    assert requests == 3
    assert len(ok(api(fake, "GET", f"{UC}/catalogs", query={"max_results": 1}))["catalogs"]) == 1
    assert len(ok(api(fake, "GET", f"{UC}/catalogs", query={"max_results": 50}))["catalogs"]) == 2
    assert error_of(api(fake, "GET", f"{UC}/catalogs", query={"max_results": -1}), 400)[0] == (
        "INVALID_PARAMETER_VALUE"
    )
    schemas = ok(api(fake, "GET", f"{UC}/schemas", query={"catalog_name": "MAIN"}))["schemas"]
    assert [(s["name"], s["full_name"], s["catalog_name"]) for s in schemas] == [
        ("default", "main.default", "main"),
        ("sales", "main.sales", "main"),
    ]
    tables = ok(
        api(
            fake,
            "GET",
            f"{UC}/tables",
            query={"catalog_name": "main", "schema_name": "sales", "omit_columns": "true"},
        )
    )["tables"]
    assert [(t["full_name"], t["table_type"]) for t in tables] == [
        ("main.sales.orders", "MANAGED"),
        ("main.sales.v_orders", "VIEW"),
    ]
    assert "columns" not in tables[0]
    assert tables[1]["view_definition"] == "SELECT id FROM main.sales.orders"
    table = ok(api(fake, "GET", f"{UC}/tables/main.sales.orders"))
    assert table["columns"] == [
        {
            "name": "id",
            "type_text": "bigint",
            "type_name": "LONG",
            "position": 0,
            "nullable": True,
            "type_json": '{"name":"id","type":"long","nullable":true,"metadata":{}}',
        },
        {
            "name": "amount",
            "type_text": "decimal(10,2)",
            "type_name": "DECIMAL",
            "position": 1,
            "nullable": True,
            "type_precision": 10,
            "type_scale": 2,
            "type_json": '{"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}}',
        },
    ]
    assert (table["properties"], table["data_source_format"]) == ({}, "DELTA")
    assert table["storage_location"].startswith("s3://")
    assert ok(api(fake, "GET", f"{UC}/tables/main.sales.orders/exists")) == {"table_exists": True}
    assert ok(api(fake, "GET", f"{UC}/catalogs/main"))["comment"] == "main catalog"
    assert ok(api(fake, "GET", f"{UC}/schemas/main.sales"))["full_name"] == "main.sales"


def test_unity_catalog_unknown_names_are_404(fake: FakeDatabricks) -> None:
    fake.add_schema("main.default")
    cases = [
        (f"{UC}/catalogs/nope", {}, "CATALOG_DOES_NOT_EXIST", "Catalog 'nope' does not exist."),
        (f"{UC}/schemas", {"catalog_name": "nope"}, "CATALOG_DOES_NOT_EXIST", None),
        (
            f"{UC}/schemas/main.nope",
            {},
            "SCHEMA_DOES_NOT_EXIST",
            "Schema 'main.nope' does not exist.",
        ),
        (
            f"{UC}/tables",
            {"catalog_name": "main", "schema_name": "nope"},
            "SCHEMA_DOES_NOT_EXIST",
            None,
        ),
        (
            f"{UC}/tables/main.default.nope",
            {},
            "TABLE_DOES_NOT_EXIST",
            "Table 'main.default.nope' does not exist.",
        ),
        (f"{UC}/tables/nope.default.t", {}, "CATALOG_DOES_NOT_EXIST", None),
    ]
    for path, query, code, message in cases:
        got_code, got_message = error_of(api(fake, "GET", path, query=query), 404)
        assert got_code == code
        assert message is None or got_message == message
    assert error_of(api(fake, "GET", f"{UC}/tables", query={"catalog_name": "main"}), 400)[1] == (
        "Missing required field: schema_name"
    )
    assert error_of(api(fake, "GET", f"{UC}/tables/justone"), 400)[0] == "INVALID_PARAMETER_VALUE"
    assert ok(api(fake, "GET", f"{UC}/tables/main.default.nope/exists")) == {"table_exists": False}
    with pytest.raises(ValueError, match="3 dot-separated parts"):
        fake.add_table_info("main.t")
    with pytest.raises(ValueError, match="cannot read the SQL type"):
        fake.add_table_info("main.default.t", [("x", "WIDGET")])


def test_unity_catalog_empty_pages(fake: FakeDatabricks) -> None:
    for name in "abc":
        fake.add_catalog(name)
    fake.uc_page_size, fake.uc_empty_pages = 2, True
    pages, token = [], None
    while True:
        query: dict[str, Any] = {"max_results": 0}
        if token:
            query["page_token"] = token
        page = ok(api(fake, "GET", f"{UC}/catalogs", query=query))
        pages.append([c["name"] for c in page["catalogs"]])
        token = page.get("next_page_token")
        if not token:
            break
    assert pages == [[], ["a", "b"], [], ["c"]]


def test_workspace_apis_need_auth_and_the_right_method(fake: FakeDatabricks) -> None:
    for path in (
        "/api/2.1/jobs/list",
        "/api/1.2/contexts/status",
        f"{UC}/catalogs",
        "/api/2.0/pipelines",
        "/api/2.0/workspace/list",
        "/api/2.0/clusters/get",
    ):
        assert call(fake, "GET", path, token=None).status == 401
        assert call(fake, "GET", path, token="dapi-wrong").status == 403
    for method, path in (
        ("DELETE", "/api/2.1/jobs/list"),
        ("POST", f"{UC}/catalogs"),
        ("PUT", "/api/2.0/pipelines"),
        ("GET", "/api/2.1/jobs/runs/cancel"),
    ):
        assert error_of(call(fake, method, path), 404)[0] == "ENDPOINT_NOT_FOUND"
    malformed = call(fake, "POST", "/api/2.1/jobs/run-now", b"{not json")
    assert error_of(malformed, 400)[0] == "MALFORMED_REQUEST"
