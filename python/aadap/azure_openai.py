"""Azure OpenAI and Entra ID clients (platforms.md §2, §3) on the C++ core.

    llm = aadap.AzureOpenAI.from_settings()          # AADAP_AZURE_OPENAI_* variables
    reply = llm.complete(prompt="Write SQL that counts orders", task_id=task.id)
    reply.content, reply.usage.total_tokens           # charged to the task (INV-04)
    for piece in llm.stream(prompt="..."):            # server-sent events, piece by piece
        print(piece, end="")
    vectors = llm.embed(["a", "b"])                   # (2, 1536) float32
    memory = engine.vector_memory("patterns", embedder=llm.embedder())

Connections are pooled per host and shared by every thread using the client; retries follow
:meth:`RetryPolicy.azure_openai` (429/408/409/5xx and connection errors, the service's
``retry-after-ms``/``Retry-After`` up to 120 s, else exponential backoff with jitter, 2
retries); Ctrl-C interrupts a call promptly. Secrets (api-key, client secret, tokens) never
appear in reprs, logs or exception messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from aadap import _core
from aadap.cancellation import run_in_thread
from aadap.correlation import current_correlation_id, new_correlation_id
from aadap.settings import get_settings

if TYPE_CHECKING:
    from aadap.engine import Engine

__all__ = [
    "AzureOpenAI",
    "ChatCompletion",
    "ChatStream",
    "EntraCredential",
    "HttpTransport",
    "ManualTime",
    "RetryPolicy",
    "TokenUsage",
]

HttpTransport = _core.HttpTransport
RetryPolicy = _core.RetryPolicy
ManualTime = _core.ManualTime

#: The Entra ID scope of Azure OpenAI.
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"

Messages = Sequence[Mapping[str, str] | tuple[str, str]]


def make_transport(
    *, ca_bundle: str | None = None, verify: bool | None = None
) -> _core.HttpTransport:
    """A transport with the settings' TLS choices (``AADAP_CA_BUNDLE``, else certifi's or the
    system's bundle; ``AADAP_TLS_VERIFY``) and correlation header, unless given here."""
    from aadap.tls import _certifi_path

    settings = get_settings()
    bundle = _core.resolve_ca_bundle(ca_bundle or settings.ca_bundle, _certifi_path())
    return _core.HttpTransport(
        ca_bundle=bundle,
        verify=settings.tls_verify if verify is None else verify,
        correlation_header=settings.correlation_id_header,
        user_agent=f"aadap/{_core.__version__}",
    )


def _correlation() -> str:
    return current_correlation_id() or new_correlation_id()


def _secret(value: str | _core.Secret | None) -> _core.Secret | None:
    if value is None or isinstance(value, _core.Secret):
        return value
    if not isinstance(value, str):
        raise _core.InvalidTypeError("a secret is a str or an aadap.Secret")
    return _core.Secret(value)


class EntraCredential:
    """Microsoft Entra ID client credentials: a token per scope, cached and refreshed 5
    minutes before it expires; thread-safe. ``authority`` is overridable (tests point it at
    :class:`aadap.testing.FakeEntra`)."""

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str | _core.Secret,
        *,
        authority: str = "https://login.microsoftonline.com",
        retry: _core.RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: _core.HttpTransport | None = None,
        ca_bundle: str | None = None,
        time: _core.ManualTime | None = None,
    ) -> None:
        self._transport = transport or make_transport(ca_bundle=ca_bundle)
        self._core = _core.EntraCredentialCore(
            transport=self._transport,
            authority=authority,
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=_secret(client_secret),
            retry=retry or _core.RetryPolicy.entra(),
            timeout=timeout,
            time=time,
        )
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.authority = authority

    def token(self, scope: str) -> _core.Secret:
        """A bearer token for ``scope`` (``.reveal()`` gives the text)."""
        return self._core.token(scope, _correlation())

    def invalidate(self, scope: str) -> None:
        """Forgets the cached token of ``scope`` (a service refused it)."""
        self._core.invalidate(scope)

    @property
    def tokens_requested(self) -> int:
        """Token requests sent so far (cache hits are not requests)."""
        return self._core.tokens_requested

    def __repr__(self) -> str:
        return (
            f"EntraCredential(tenant_id={self.tenant_id!r}, client_id={self.client_id!r}, "
            f"authority={self.authority!r})"
        )


@dataclass(frozen=True)
class TokenUsage:
    """Tokens a call used; ``estimated`` when the service reported none (a conservative
    local estimate was charged instead)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: bool = False


@dataclass(frozen=True)
class ChatCompletion:
    """A chat completion: ``content``, ``finish_reason`` (stop, length, content_filter, ...),
    ``usage``, the model and response id, and how many attempts it took."""

    id: str
    model: str
    content: str
    finish_reason: str
    usage: TokenUsage
    attempts: int = 1

    def __str__(self) -> str:
        return self.content

    def _repr_html_(self) -> str:
        import html

        return (
            f"<div><pre style='white-space:pre-wrap'>{html.escape(self.content)}</pre>"
            f"<small>{html.escape(self.model)} · finish: {html.escape(self.finish_reason)} · "
            f"{self.usage.prompt_tokens} + {self.usage.completion_tokens} tokens"
            f"{' (estimated)' if self.usage.estimated else ''}</small></div>"
        )


class ChatStream:
    """The pieces of a streamed completion, as they arrive (iterate it). After the last
    piece, ``finish_reason`` and ``usage`` are final and the usage has been charged."""

    def __init__(self, core: _core.ChatStreamCore) -> None:
        self._core = core

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return self._core.__next__()

    @property
    def content(self) -> str:
        """Everything received so far."""
        return self._core.content

    @property
    def finish_reason(self) -> str:
        return self._core.finish_reason

    @property
    def usage(self) -> TokenUsage | None:
        usage = self._core.usage
        return None if usage is None else TokenUsage(**usage)

    @property
    def id(self) -> str:
        return self._core.id

    @property
    def model(self) -> str:
        return self._core.model

    def __repr__(self) -> str:
        return f"ChatStream(received={len(self.content)} chars, finish={self.finish_reason!r})"


def _messages(
    messages: Messages | None, prompt: str | None, system: str | None
) -> list[tuple[str, str]]:
    if (messages is None) == (prompt is None):
        raise _core.InvalidArgumentError("pass either messages or prompt, not both or neither")
    out: list[tuple[str, str]] = []
    if system is not None:
        out.append(("system", system))
    if prompt is not None:
        if not isinstance(prompt, str):
            raise _core.InvalidTypeError("prompt is a str")
        out.append(("user", prompt))
        return out
    assert messages is not None
    for m in messages:
        if isinstance(m, Mapping):
            role, content = m.get("role"), m.get("content")
        elif isinstance(m, tuple) and len(m) == 2:
            role, content = m
        else:
            raise _core.InvalidTypeError(
                "a message is a {'role': ..., 'content': ...} mapping or a (role, content) tuple"
            )
        if not isinstance(role, str) or not isinstance(content, str):
            raise _core.InvalidTypeError("a message's role and content are str")
        out.append((role, content))
    return out


class AzureOpenAI:
    """Chat completions, streaming and embeddings on an Azure OpenAI resource.

    Authenticates with ``api_key`` or, without one, an :class:`EntraCredential` (scope
    ``https://cognitiveservices.azure.com/.default``). Given an ``engine``, a call made with
    ``task_id=`` is charged to that task: refused before it is sent when the task's budget
    cannot cover the prompt, charged the reported usage (or a conservative estimate when the
    service reports none) afterwards. Thread-safe; share one client.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | _core.Secret | None = None,
        credential: EntraCredential | None = None,
        deployment: str | None = None,
        embedding_deployment: str | None = None,
        api_version: str = "2024-02-01",
        retry: _core.RetryPolicy | None = None,
        timeout: float = 600.0,
        connect_timeout: float = 5.0,
        engine: Engine | None = None,
        transport: _core.HttpTransport | None = None,
        ca_bundle: str | None = None,
        time: _core.ManualTime | None = None,
    ) -> None:
        self._transport = transport or make_transport(ca_bundle=ca_bundle)
        self._credential = credential
        self._sink = None if engine is None else _core.engine_usage_sink(engine._core)
        self._core = _core.AzureOpenAICore(
            transport=self._transport,
            endpoint=endpoint,
            api_version=api_version,
            chat_deployment=deployment or "",
            embedding_deployment=embedding_deployment or "",
            api_key=_secret(api_key),
            credential=None if credential is None else credential._core,
            retry=retry or _core.RetryPolicy.azure_openai(),
            timeout=timeout,
            connect_timeout=connect_timeout,
            usage_sink=self._sink,
            time=time,
        )
        self.endpoint = endpoint.rstrip("/")
        self.deployment = deployment
        self.embedding_deployment = embedding_deployment
        self.api_version = api_version

    @classmethod
    def from_settings(
        cls, settings: _core.Settings | None = None, *, engine: Engine | None = None,
        **overrides: Any,
    ) -> AzureOpenAI:  # fmt: skip
        """A client configured by ``AADAP_AZURE_OPENAI_*`` (endpoint, api-key or tenant/client
        id/secret, api-version, deployments) and ``AADAP_ENTRA_AUTHORITY``; keyword arguments
        override them."""
        s = settings or get_settings()
        if s.azure_openai_endpoint is None and "endpoint" not in overrides:
            raise _core.ConfigurationError(
                "AADAP_AZURE_OPENAI_ENDPOINT is not set (e.g. https://my-resource.openai.azure.com)"
            )
        transport = overrides.pop("transport", None) or make_transport()
        options: dict[str, Any] = {
            "endpoint": s.azure_openai_endpoint,
            "api_key": s.azure_openai_api_key,
            "deployment": s.azure_openai_deployment_name,
            "embedding_deployment": s.azure_openai_embedding_deployment,
            "api_version": s.azure_openai_api_version,
        }
        options.update(overrides)
        if not options.get("api_key") and options.get("credential") is None:
            tenant, client = s.azure_openai_tenant_id, s.azure_openai_client_id
            secret = s.azure_openai_client_secret
            if tenant and client and secret:
                options["credential"] = EntraCredential(
                    tenant, client, secret, authority=s.entra_authority, transport=transport,
                    time=options.get("time"),
                )  # fmt: skip
        return cls(engine=engine, transport=transport, **options)

    def complete(
        self,
        messages: Messages | None = None,
        *,
        prompt: str | None = None,
        system: str | None = None,
        deployment: str | None = None,
        max_tokens: int = 4096,
        temperature: float | None = None,
        response_format: str | None = None,
        task_id: str | None = None,
    ) -> ChatCompletion:
        """One chat completion of ``messages`` (``[{"role": ..., "content": ...}]``) or of a
        ``prompt`` (a user message, after an optional ``system`` one). Raises
        ContentFilterError, ContextLengthError, RateLimitError (after retries; carries
        ``retry_after``), AuthenticationError, NotFoundError or RemoteError."""
        raw = self._core.complete(
            _messages(messages, prompt, system), deployment or "", max_tokens, temperature,
            response_format, task_id or "", _correlation(),
        )  # fmt: skip
        return ChatCompletion(
            id=raw["id"], model=raw["model"], content=raw["content"],
            finish_reason=raw["finish_reason"], usage=TokenUsage(**raw["usage"]),
            attempts=raw["attempts"],
        )  # fmt: skip

    def stream(
        self,
        messages: Messages | None = None,
        *,
        prompt: str | None = None,
        system: str | None = None,
        deployment: str | None = None,
        max_tokens: int = 4096,
        temperature: float | None = None,
        response_format: str | None = None,
        task_id: str | None = None,
    ) -> ChatStream:
        """The completion as it is generated (server-sent events); iterate for the pieces."""
        return ChatStream(self._core.stream(
            _messages(messages, prompt, system), deployment or "", max_tokens, temperature,
            response_format, task_id or "", _correlation(),
        ))  # fmt: skip

    def embed(
        self,
        texts: str | Sequence[str],
        *,
        deployment: str | None = None,
        dimension: int | None = None,
        task_id: str | None = None,
    ) -> np.ndarray:
        """A (len(texts), dimension) float32 matrix in the texts' order (batches of 2,048);
        each row is checked to have the model's dimension (text-embedding-3-large 3072,
        ada-002 and 3-small 1536, else ``dimension`` or the first row's)."""
        batch = [texts] if isinstance(texts, str) else list(texts)
        return self._core.embed(
            batch, deployment or "", dimension or 0, task_id or "", _correlation()
        )

    def embedder(
        self, deployment: str | None = None, dimension: int | None = None
    ) -> _core.Embedder:
        """This client as an :class:`aadap.Embedder` for ``engine.vector_memory(embedder=)``."""
        return _core.AzureOpenAIEmbedderCore(
            self._core, deployment or self.embedding_deployment or "", dimension or 0
        )

    async def acomplete(self, *args: Any, **kwargs: Any) -> ChatCompletion:
        """:meth:`complete` on a worker thread (the C++ call releases the GIL); cancelling the
        awaiting task stops the request."""
        return await run_in_thread(self.complete, *args, **kwargs)

    async def aembed(self, *args: Any, **kwargs: Any) -> np.ndarray:
        """:meth:`embed` on a worker thread; cancelling the awaiting task stops the requests."""
        return await run_in_thread(self.embed, *args, **kwargs)

    @property
    def connections_opened(self) -> int:
        """TCP connections this client's transport has opened (reuse keeps it low)."""
        return self._transport.connections_opened

    def __repr__(self) -> str:
        auth = "api-key" if self._credential is None else "Entra ID"
        return (
            f"AzureOpenAI(endpoint={self.endpoint!r}, deployment={self.deployment!r}, "
            f"embedding_deployment={self.embedding_deployment!r}, auth={auth!r})"
        )
