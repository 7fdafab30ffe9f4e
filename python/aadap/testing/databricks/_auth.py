"""Authentication of the fake workspace: personal access tokens, the OAuth endpoints
(client credentials for service principals, refresh tokens for the CLI's public client) and
the files the Databricks CLI leaves behind (``.databrickscfg``, ``token-cache.json``)."""

from __future__ import annotations

import binascii
import configparser
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.sax.saxutils import escape as xml_escape

from aadap.testing._server import (
    FakeResponse,
    RecordedRequest,
    b64url,
    b64url_json,
    client_credentials,
    form_fields,
    json_response,
    unb64url,
)
from aadap.testing.databricks._service import Service

if TYPE_CHECKING:
    from aadap.testing.databricks.fake import FakeDatabricks


DEFAULT_TOKEN = "dapi0123456789abcdef0123456789abcdef"
"""The personal access token a :class:`FakeDatabricks` accepts unless told otherwise."""


DEFAULT_CLIENT_ID = "6f1e0c7a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
"""The application id of the one service principal it knows by default (OAuth M2M)."""


DEFAULT_CLIENT_SECRET = "dose0123456789abcdef0123456789abcdef"
"""Its OAuth secret."""


CLI_CLIENT_ID = "databricks-cli"
"""The public OAuth client of ``databricks auth login`` (refresh tokens are bound to it)."""


_OAUTH_SCOPES = frozenset({"all-apis", "sql", "offline_access", "openid", "profile", "email"})


_JETTY_401 = (
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
    "<title>Error 401 Unauthorized</title>\n</head>\n<body><h2>HTTP ERROR 401</h2>\n"
    "<p>Problem accessing {path}. Reason:\n<pre>    Unauthorized</pre></p>\n</body>\n</html>\n"
)


@dataclass(frozen=True)
class OAuthToken:
    """An OAuth access token the fake issued (epoch seconds on the fake's wall clock)."""

    access_token: str
    client_id: str
    scope: str
    grant_type: str
    issued_at: float
    expires_at: float


@dataclass
class _IssuedAccess:
    record: OAuthToken
    revoked: bool = False


@dataclass
class _Refresh:
    client_id: str
    scope: str
    revoked: bool = False


class Auth(Service):
    """Personal access tokens and the workspace's OAuth: host metadata, OIDC discovery, the
    token endpoint (client credentials, refresh tokens), the tokens it issued, and the CLI's
    ``.databrickscfg`` and token cache."""

    def __init__(self, fake: FakeDatabricks) -> None:
        super().__init__(fake)
        self.access: dict[str, _IssuedAccess] = {}
        self.refresh: dict[str, _Refresh] = {}

    def route(self, request: RecordedRequest) -> FakeResponse | None:
        """The endpoints served without authentication (host metadata, OIDC discovery, the
        token endpoint); None for any other path."""
        path = request.path
        if path == "/.well-known/databricks-config" and request.method == "GET":
            return self._host_metadata()
        if path == "/oidc/.well-known/oauth-authorization-server" and request.method == "GET":
            return self._oidc_discovery()
        if path == "/oidc/v1/token":
            return self._token_endpoint(request)
        return None

    def issue(
        self, client_id: str, scope: str, grant_type: str, expires_in: int | None
    ) -> OAuthToken:
        now = self.fake.now()
        lifetime = self.fake.expires_in if expires_in is None else expires_in
        token_id = secrets.token_hex(16)
        claims = {
            "iss": f"{self.fake.url}/oidc",
            "aud": client_id,
            "sub": client_id,
            "client_id": client_id,
            "scope": scope,
            "iat": int(now),
            "exp": int(now + lifetime),
            "jti": token_id,
        }
        header = {
            "alg": "HS256",
            "typ": "JWT",
            "kid": hashlib.sha256(self.fake._key).hexdigest()[:16],
        }
        signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
        signature = hmac.new(self.fake._key, signing_input.encode(), hashlib.sha256).digest()
        record = OAuthToken(
            access_token=f"{signing_input}.{b64url(signature)}",
            client_id=client_id,
            scope=scope,
            grant_type=grant_type,
            issued_at=now,
            expires_at=now + lifetime,
        )
        with self.fake._lock:
            self.access[token_id] = _IssuedAccess(record)
        return record

    def token_is_valid(self, token: str) -> bool:
        if hmac.compare_digest(token.encode(), self.fake.token.encode()):
            return True
        try:
            header, payload, signature = token.split(".")
            expected = hmac.new(self.fake._key, f"{header}.{payload}".encode(), hashlib.sha256)
            if not hmac.compare_digest(unb64url(signature), expected.digest()):
                return False
            token_id = json.loads(unb64url(payload))["jti"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            return False
        with self.fake._lock:
            issued = self.access.get(token_id)
            return (
                issued is not None
                and not issued.revoked
                and issued.record.expires_at > time.time() + self.fake._offset
            )

    def issue_refresh_token(
        self, *, client_id: str = CLI_CLIENT_ID, scope: str = "all-apis offline_access"
    ) -> str:
        refresh_token = f"doau{secrets.token_hex(32)}"
        with self.fake._lock:
            self.refresh[refresh_token] = _Refresh(client_id, scope)
        return refresh_token

    def expire_access_tokens(self) -> None:
        with self.fake._lock:
            for issued in self.access.values():
                issued.revoked = True

    def revoke_refresh_tokens(self) -> None:
        with self.fake._lock:
            for refresh in self.refresh.values():
                refresh.revoked = True

    def write_databrickscfg(
        self,
        path: str | os.PathLike[str],
        profile: str,
        auth_type: Literal["pat", "databricks-cli", "oauth-m2m"],
    ) -> Path:
        target = Path(path)
        parser = configparser.ConfigParser(interpolation=None)
        if target.exists():
            parser.read(target)
        values = {"host": self.fake.url, "warehouse_id": self.fake.warehouse_id}
        if auth_type == "pat":
            values["token"] = self.fake.token
        elif auth_type == "databricks-cli":
            values["auth_type"] = "databricks-cli"
        elif auth_type == "oauth-m2m":
            values.update(client_id=self.fake.client_id, client_secret=self.fake.client_secret)
        else:
            raise ValueError(f"unknown auth_type {auth_type!r}")
        if profile != "DEFAULT" and not parser.has_section(profile):
            parser.add_section(profile)
        for key, value in values.items():
            parser.set(profile, key, value)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8") as handle:
            parser.write(handle)
        return target

    def write_token_cache(
        self, path: str | os.PathLike[str], expired: bool, profile: str | None
    ) -> Path:
        target = Path(path)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        cache: dict[str, Any] = {"version": 1, "tokens": {}}
        if target.exists():
            try:
                loaded = json.loads(target.read_text(encoding="utf-8"))
                if isinstance(loaded, dict) and isinstance(loaded.get("tokens"), dict):
                    cache = loaded
            except ValueError:
                pass
        lifetime = -3600 if expired else self.fake.expires_in
        issued = self.issue(CLI_CLIENT_ID, "all-apis offline_access", "direct", lifetime)
        entry = {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "refresh_token": self.issue_refresh_token(),
            "expiry": go_time(issued.expires_at),
        }
        cache["tokens"][self.fake.url] = entry
        if profile is not None:
            cache["tokens"][profile] = entry
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(cache, handle, indent=2)
        os.chmod(target, 0o600)
        return target

    def authenticate(self, request: RecordedRequest) -> FakeResponse | None:
        authorization = request.headers.get("Authorization")
        if authorization is None:
            page = _JETTY_401.format(path=xml_escape(request.path))
            return FakeResponse(
                401,
                page.encode(),
                {"Content-Type": "text/html;charset=utf-8", "WWW-Authenticate": "Bearer"},
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and self.token_is_valid(token.strip()):
            return None
        return json_response(
            403,
            {"error_code": 403, "message": "Invalid access token."},
            {"X-Databricks-Reason-Phrase": "Invalid access token."},
        )

    def _host_metadata(self) -> FakeResponse:
        return json_response(
            200,
            {
                "oidc_endpoint": f"{self.fake.url}/oidc",
                "account_id": self.fake.account_id,
                "workspace_id": self.fake.workspace_id,
                "cloud": self.fake.cloud,
                "host_type": "workspace",
            },
        )

    def _oidc_discovery(self) -> FakeResponse:
        return json_response(
            200,
            {
                "issuer": f"{self.fake.url}/oidc",
                "authorization_endpoint": f"{self.fake.url}/oidc/v1/authorize",
                "token_endpoint": self.fake.token_url,
                "jwks_uri": f"{self.fake.url}/oidc/v1/keys",
                "scopes_supported": sorted(_OAUTH_SCOPES),
                "response_types_supported": ["code", "id_token"],
                "grant_types_supported": [
                    "client_credentials",
                    "authorization_code",
                    "refresh_token",
                ],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                    "none",
                ],
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["public"],
            },
        )

    def _token_endpoint(self, request: RecordedRequest) -> FakeResponse:
        if request.method != "POST":
            return _oauth_error(400, "invalid_request", "The token endpoint only accepts POST.")
        form = form_fields(request)
        client_id, secret = client_credentials(request, form)
        grant_type = form.get("grant_type")
        if not grant_type:
            return _oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
        if grant_type == "client_credentials":
            return self._client_credentials(client_id, secret, form.get("scope"))
        if grant_type == "refresh_token":
            return self._refresh_grant(client_id, form.get("refresh_token"))
        return _oauth_error(
            400, "unsupported_grant_type", f"Grant type '{grant_type}' is not supported."
        )

    def _client_credentials(
        self, client_id: str | None, secret: str | None, scope: str | None
    ) -> FakeResponse:
        known = self.fake.clients.get(client_id or "")
        if known is None or not secret or not hmac.compare_digest(secret.encode(), known.encode()):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        scope = scope or "all-apis"
        unknown = [s for s in scope.split() if s not in _OAUTH_SCOPES]
        if unknown:
            return _oauth_error(400, "invalid_scope", f"Invalid scope: {' '.join(unknown)}")
        assert client_id is not None
        issued = self.issue(client_id, scope, "client_credentials", None)
        return _token_response(issued, self.fake.expires_in, scope)

    def _refresh_grant(self, client_id: str | None, refresh_token: str | None) -> FakeResponse:
        if not refresh_token:
            return _oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        with self.fake._lock:
            refresh = self.refresh.get(refresh_token)
        if refresh is None or refresh.revoked or refresh.client_id != (client_id or ""):
            return _oauth_error(400, "invalid_grant", "Refresh token is invalid")
        issued = self.issue(refresh.client_id, refresh.scope, "refresh_token", None)
        response = _token_response(issued, self.fake.expires_in, refresh.scope)
        payload = json.loads(response.body)
        payload["refresh_token"] = refresh_token
        return json_response(200, payload, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def _oauth_error(status: int, error: str, description: str) -> FakeResponse:
    return json_response(
        status,
        {"error": error, "error_description": description},
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _token_response(issued: OAuthToken, expires_in: int, scope: str) -> FakeResponse:
    return json_response(
        200,
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": scope,
        },
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def go_time(epoch: float) -> str:
    """RFC 3339 with nanoseconds and trailing zeros dropped, in UTC, as Go's ``time.Time``
    marshals it."""
    stamp = datetime.fromtimestamp(epoch, timezone.utc)
    fraction = f"{stamp.microsecond:06d}000".rstrip("0")
    return f"{stamp:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}Z"
