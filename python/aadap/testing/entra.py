"""A local fake of Microsoft Entra ID's client-credentials token endpoint, good enough for MSAL
Python's ``ConfidentialClientApplication`` and for aadap's own Entra client.

    with FakeEntra() as entra, requests.Session() as session:  # HTTPS: MSAL requires it
        session.verify = entra.ca_path
        session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins
        app = msal.ConfidentialClientApplication(
            entra.client_id, client_credential=entra.client_secret,
            authority=f"{entra.authority}/{entra.tenant}",
            instance_discovery=False, validate_authority=False, http_client=session)
        token = app.acquire_token_for_client(["https://api.fabric.microsoft.com/.default"])
        assert entra.validate(token["access_token"], audience="https://api.fabric.microsoft.com")

Routes, with the real service's wire shapes (cloud-apis.md B9):

- ``POST /{tenant}/oauth2/v2.0/token``: form-encoded client credentials (secret in the body, as
  MSAL sends it, or HTTP Basic); answers ``{"token_type":"Bearer","expires_in",
  "ext_expires_in","access_token"}`` or an OAuth error body (``error``, ``error_description``
  starting with ``AADSTS<code>:``, ``error_codes``, ``timestamp``, ``trace_id``,
  ``correlation_id``, ``error_uri``).
- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: ``issuer``,
  ``authorization_endpoint``, ``token_endpoint`` (same scheme and host as the fake), ...
- ``GET /common/discovery/instance``: instance discovery, answered as Entra answers MSAL
  (MSAL calls it when built with ``instance_discovery=f"{entra.url}/common/discovery/instance"``
  and ``validate_authority=True``).

Other paths get 404. Scripted faults (:meth:`FakeEntra.fail_next` ...) answer in Entra's shapes:
see :meth:`FakeEntra._error_response`.

Access tokens are HS256 JWTs signed with a key private to each fake, shaped like Entra's v1
app-only tokens (``aud``, ``iss``, ``iat``, ``nbf``, ``exp``, ``appid``, ``oid``, ``sub``,
``tid``, ``uti``, ``ver``); other fakes check them with :meth:`FakeEntra.status` or
:meth:`FakeEntra.validate`.
"""

from __future__ import annotations

import binascii
import enum
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import unquote_plus, urlsplit

from aadap.testing._server import (
    FakeResponse,
    FakeServer,
    RecordedRequest,
    b64url,
    b64url_json,
    client_credentials,
    form_fields,
    json_response,
    unb64url,
)

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_TENANT",
    "FakeEntra",
    "IssuedToken",
    "TokenStatus",
]

DEFAULT_TENANT = "a1b2c3d4-0000-4000-8000-00000000aad1"
"""The tenant id a :class:`FakeEntra` serves unless told otherwise."""
DEFAULT_CLIENT_ID = "5b0a6c7e-2f44-4d8e-9a3b-1c2d3e4f5a6b"
"""The application (client) id of the one client a :class:`FakeEntra` knows by default."""
DEFAULT_CLIENT_SECRET = "fake~secret.0123456789abcdefghijklmnop"
"""Its client secret."""

_DEFAULT_SUFFIX = "/.default"


class TokenStatus(str, enum.Enum):
    """What :meth:`FakeEntra.status` found out about a bearer token."""

    VALID = "valid"
    """Signed by this fake, issued by it, not expired, for the audience asked about."""
    EXPIRED = "expired"
    """Issued by this fake but past its ``exp``, or expired early by
    :meth:`FakeEntra.expire_all`."""
    WRONG_AUDIENCE = "wrong_audience"
    """Valid, but for another resource."""
    INVALID = "invalid"
    """Not a JWT, not signed by this fake, or never issued by it."""


@dataclass(frozen=True)
class IssuedToken:
    """An access token the fake issued (``issued_at`` and ``expires_at`` are epoch seconds on
    the fake's clock)."""

    access_token: str
    client_id: str
    tenant: str
    scope: str
    audience: str
    issued_at: int
    expires_at: int
    token_id: str
    """The ``uti`` claim, unique per token."""


class FakeEntra(FakeServer):
    """A fake Entra ID tenant issuing client-credentials tokens.

    ``clients`` maps client ids to their secrets (default: one client,
    :data:`DEFAULT_CLIENT_ID` / :data:`DEFAULT_CLIENT_SECRET`). ``tenant`` is the only tenant it
    serves (others get AADSTS90002). ``expires_in`` (seconds) may be changed at any time, e.g.
    to 330 to exercise a client's refresh five minutes before expiry. ``clock`` (epoch seconds)
    decides ``iat``/``exp`` and expiry checks; inject one to expire tokens without waiting.

    Thread-safe, like every :class:`FakeServer`.
    """

    def __init__(
        self,
        *,
        tls: bool = True,
        clients: Mapping[str, str] | None = None,
        tenant: str = DEFAULT_TENANT,
        expires_in: int = 3599,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(tls=tls)
        self.clients: dict[str, str] = dict(
            clients if clients is not None else {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
        )
        """Client id → secret of the applications the tenant knows (may be changed)."""
        self.tenant = tenant
        """The tenant id served."""
        self.expires_in = expires_in
        """Lifetime in seconds of the tokens issued from now on."""
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._issued: dict[str, IssuedToken] = {}
        self._expired: set[str] = set()

    @property
    def client_id(self) -> str:
        """The first known client id (the default client unless ``clients`` said otherwise)."""
        return next(iter(self.clients))

    @property
    def client_secret(self) -> str:
        """The secret of :attr:`client_id`."""
        return self.clients[self.client_id]

    @property
    def authority(self) -> str:
        """The authority host URL (:attr:`url`): aadap's clients post to
        ``{authority}/{tenant}/oauth2/v2.0/token``; MSAL takes ``f"{authority}/{tenant}"``."""
        return self.url

    def token_url(self, tenant: str | None = None) -> str:
        """``{url}/{tenant}/oauth2/v2.0/token`` (this fake's tenant by default)."""
        return f"{self.url}/{tenant or self.tenant}/oauth2/v2.0/token"

    @property
    def issued(self) -> list[IssuedToken]:
        """Every token issued so far (over HTTP or by :meth:`issue`), oldest first."""
        with self._lock:
            return list(self._issued.values())

    def issue(self, scope: str, client_id: str | None = None) -> str:
        """Issues a token directly, without HTTP (for tests that need a bearer token for another
        fake). ``scope`` is ``<resource>/.default``; the client defaults to :attr:`client_id`."""
        if not scope.endswith(_DEFAULT_SUFFIX):
            raise ValueError(f"scope must end with /.default, got {scope!r}")
        return self._issue(client_id or self.client_id, self.tenant, scope).access_token

    def status(self, token: str, audience: str | None = None) -> TokenStatus:
        """Checks a bearer token: signature, issued by this fake, expiry (the fake's clock and
        :meth:`expire_all`), then the audience when one is given (trailing slashes ignored)."""
        try:
            header, payload, signature = token.split(".")
            expected = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256)
            if not hmac.compare_digest(unb64url(signature), expected.digest()):
                return TokenStatus.INVALID
            claims = json.loads(unb64url(payload))
            token_id = claims["uti"]
            expires_at = claims["exp"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            return TokenStatus.INVALID
        with self._lock:
            if token_id not in self._issued:
                return TokenStatus.INVALID
            if token_id in self._expired or expires_at <= self._clock():
                return TokenStatus.EXPIRED
        if audience is not None and str(claims.get("aud", "")).rstrip("/") != audience.rstrip("/"):
            return TokenStatus.WRONG_AUDIENCE
        return TokenStatus.VALID

    def validate(self, token: str, audience: str | None = None) -> bool:
        """True when :meth:`status` is :attr:`TokenStatus.VALID`."""
        return self.status(token, audience) is TokenStatus.VALID

    def expire_all(self) -> None:
        """Makes every token issued so far count as expired (their ``exp`` claims are not
        changed: the client cannot know), e.g. to provoke a service's 401 TokenExpired."""
        with self._lock:
            self._expired.update(self._issued)

    # -- the service ---------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> FakeResponse:
        parts = request.path.strip("/").split("/")
        if parts == ["common", "discovery", "instance"] and request.method == "GET":
            return self._instance_discovery(request)
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            if request.method != "POST":
                return self._oauth_error(
                    request,
                    400,
                    "invalid_request",
                    900561,
                    f"The endpoint only accepts POST requests. Received a {request.method} "
                    "request.",
                )
            return self._token(request, parts[0])
        if (
            len(parts) == 4
            and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]
            and request.method == "GET"
        ):
            return self._openid_configuration(request, parts[0])
        return FakeResponse(404, b"", {"Content-Type": "text/html; charset=utf-8"})

    def _token(self, request: RecordedRequest, tenant: str) -> FakeResponse:
        if tenant.lower() != self.tenant.lower():
            return self._unknown_tenant(request, tenant, "invalid_request")
        form = form_fields(request)  # Entra reads only form bodies: JSON has no grant_type
        client_id, secret = client_credentials(request, form)
        grant_type, scope = form.get("grant_type"), form.get("scope")
        if not grant_type:
            return self._missing(request, "grant_type")
        if not client_id:
            return self._missing(request, "client_id")
        if grant_type != "client_credentials":
            return self._oauth_error(
                request,
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        if not scope:
            return self._missing(request, "scope")
        if client_id not in self.clients:
            return self._oauth_error(
                request,
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may "
                "have sent your authentication request to the wrong tenant.",
            )
        if not secret:
            return self._oauth_error(
                request,
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )
        if not hmac.compare_digest(secret.encode(), self.clients[client_id].encode()):
            return self._oauth_error(
                request,
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID, for a secret added to app "
                f"'{client_id}'.",
            )
        scopes = scope.split()
        if any(not s.endswith(_DEFAULT_SUFFIX) for s in scopes):
            return self._oauth_error(
                request,
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        if len(scopes) > 1:
            return self._oauth_error(
                request,
                400,
                "invalid_scope",
                28000,
                "Provided value for the input parameter scope is not valid because it contains "
                f"more than one resource. Scope {scope} is not valid.",
            )
        issued = self._issue(client_id, tenant, scopes[0])
        lifetime = issued.expires_at - issued.issued_at
        return json_response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": issued.access_token,
            },
            {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
        )

    def _issue(self, client_id: str, tenant: str, scope: str) -> IssuedToken:
        now = int(self._clock())
        lifetime = self.expires_in
        audience = scope[: -len(_DEFAULT_SUFFIX)]
        token_id = b64url(secrets.token_bytes(16))
        object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{client_id}"))
        issuer = f"https://sts.windows.net/{tenant}/"  # as in Entra's v1 app-only tokens
        claims = {
            "aud": audience,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": client_id,
            "appidacr": "1",
            "idp": issuer,
            "idtyp": "app",
            "oid": object_id,
            "sub": object_id,
            "tid": tenant,
            "uti": token_id,
            "ver": "1.0",
        }
        header = {"typ": "JWT", "alg": "HS256", "kid": hashlib.sha256(self._key).hexdigest()[:16]}
        signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
        signature = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{b64url(signature)}"
        record = IssuedToken(
            token, client_id, tenant, scope, audience, now, now + lifetime, token_id
        )
        with self._lock:
            self._issued[token_id] = record
        return record

    def _openid_configuration(self, request: RecordedRequest, tenant: str) -> FakeResponse:
        if tenant.lower() != self.tenant.lower():
            return self._unknown_tenant(request, tenant, "invalid_tenant")
        base = f"{self.url}/{tenant}"
        return json_response(
            200,
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0",
            },
        )

    def _instance_discovery(self, request: RecordedRequest) -> FakeResponse:
        endpoint = request.query.get("authorization_endpoint")
        if not endpoint:
            return self._oauth_error(
                request,
                400,
                "invalid_request",
                90014,
                "The required field 'authorization_endpoint' is missing from the credential. "
                "Ensure that you have all the necessary parameters for the login request.",
            )
        split = urlsplit(unquote_plus(endpoint))
        host = f"127.0.0.1:{self.port}"
        tenant = split.path.strip("/").split("/")[0]
        # MSAL Python sends the authority's host without its port.
        ours = split.hostname in ("127.0.0.1", "localhost") and split.port in (None, self.port)
        if not ours or not tenant:
            return self._oauth_error(
                request,
                400,
                "invalid_instance",
                50049,
                "Unknown or invalid instance.",
            )
        return json_response(
            200,
            {
                "tenant_discovery_endpoint": (
                    f"{self.url}/{tenant}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [
                    {
                        "preferred_network": host,
                        "preferred_cache": host,
                        "aliases": [host, f"localhost:{self.port}"],
                    }
                ],
            },
        )

    # -- errors --------------------------------------------------------------------------------

    def _missing(self, request: RecordedRequest, parameter: str) -> FakeResponse:
        return self._oauth_error(
            request,
            400,
            "invalid_request",
            900144,
            f"The request body must contain the following parameter: '{parameter}'.",
        )

    def _unknown_tenant(self, request: RecordedRequest, tenant: str, error: str) -> FakeResponse:
        return self._oauth_error(
            request,
            400,
            error,
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
            "are signing into the correct cloud. Check with your subscription administrator, "
            "this may happen if there are no active subscriptions for the tenant.",
        )

    def _oauth_error(
        self, request: RecordedRequest, status: int, error: str, code: int, description: str
    ) -> FakeResponse:
        """Entra's OAuth error body; the correlation id echoes the client's
        ``client-request-id`` as Entra does."""
        trace_id = str(uuid.uuid4())
        correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
        timestamp = datetime.fromtimestamp(self._clock(), timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%SZ"
        )
        return json_response(
            status,
            {
                "error": error,
                "error_description": (
                    f"AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\n"
                    f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}"
                ),
                "error_codes": [code],
                "timestamp": timestamp,
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": f"https://login.microsoftonline.com/error?code={code}",
            },
            {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
        )

    def _error_response(
        self, status: int, request: RecordedRequest, headers: Mapping[str, str]
    ) -> FakeResponse:
        """Scripted failures: 429 is the plain-text ``Too Many Requests`` Entra sends to
        throttled client-credentials callers (with the fault's Retry-After); 5xx is
        ``temporarily_unavailable`` (AADSTS50000); 401 ``invalid_client``; other statuses
        ``invalid_request`` (AADSTS90013)."""
        if status == 429:
            return FakeResponse(429, b"Too Many Requests", {"Content-Type": "text/plain"})
        if status >= 500:
            return self._oauth_error(
                request,
                status,
                "temporarily_unavailable",
                50000,
                "There was an error issuing a token or an issue with our sign-in service.",
            )
        if status == 401:
            return self._oauth_error(
                request,
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID.",
            )
        return self._oauth_error(
            request, status, "invalid_request", 90013, "Invalid input received from the user."
        )

    def _common_headers(self, request: RecordedRequest) -> dict[str, str]:
        return {"x-ms-request-id": str(uuid.uuid4())}
