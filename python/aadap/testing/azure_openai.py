"""A local fake of the Azure OpenAI data plane (chat completions and embeddings) that the
official ``openai`` package's ``AzureOpenAI`` client works against.

    with FakeAzureOpenAI() as fake:
        fake.respond(r"(?i)sql", "SELECT 1")
        client = openai.AzureOpenAI(azure_endpoint=fake.url, api_key=fake.api_key,
                                    api_version="2024-02-01")
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Write SQL"}])
        assert reply.choices[0].message.content == "SELECT 1"

Routes: ``POST /openai/deployments/{deployment}/chat/completions`` and
``POST /openai/deployments/{deployment}/embeddings``, with the wire shapes of the real service
(cloud-apis.md B11). Checks, in this order:

1. unknown path, wrong method, or no ``api-version`` query parameter: 404
   ``{"error":{"code":"404","message":"Resource not found"}}``, as Azure answers (any
   ``api-version`` value is accepted);
2. credentials: the ``api-key`` header must equal :attr:`FakeAzureOpenAI.api_key`, or, when the
   fake was given a :class:`~aadap.testing.FakeEntra`, ``Authorization: Bearer <token>`` with a
   valid token of that fake for ``https://cognitiveservices.azure.com``; else 401;
3. unknown deployment: 404 ``DeploymentNotFound``; wrong operation for the deployment's model
   (chat on an embedding model, or the reverse): 400 ``OperationNotSupported``;
4. the body (400 ``invalid_request_error`` bodies as the service words them), content filters
   (400 ``content_filter``) and the context window (400 ``context_length_exceeded``).

Token counts are estimates, not a tokenizer: :func:`estimate_tokens` is ``ceil(chars / 4)`` of
a text; a chat prompt counts ``3 + sum(3 + estimate_tokens(content))`` over all messages
(:func:`count_prompt_tokens`); a completion counts ``estimate_tokens(reply)``; embedding usage
counts ``estimate_tokens`` of each input.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import struct
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aadap.testing._server import (
    FakeResponse,
    FakeServer,
    RecordedRequest,
    json_response,
    status_phrase,
)
from aadap.testing.entra import FakeEntra

__all__ = [
    "COGNITIVE_SERVICES_AUDIENCE",
    "DEFAULT_API_KEY",
    "DEFAULT_DEPLOYMENTS",
    "FakeAzureOpenAI",
    "count_prompt_tokens",
    "embedding_dimension",
    "estimate_tokens",
    "fake_embedding",
]

COGNITIVE_SERVICES_AUDIENCE = "https://cognitiveservices.azure.com"
"""The audience of Entra tokens for Azure OpenAI (scope ``<audience>/.default``)."""
DEFAULT_API_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
"""The key a :class:`FakeAzureOpenAI` accepts unless told otherwise."""
DEFAULT_DEPLOYMENTS: Mapping[str, str] = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "text-embedding-3-small": "text-embedding-3-small",
    "text-embedding-3-large": "text-embedding-3-large",
    "text-embedding-ada-002": "text-embedding-ada-002",
}
"""Deployment name → model of a :class:`FakeAzureOpenAI` by default."""

MAX_EMBEDDING_INPUTS = 2048
"""Most inputs one embeddings request may carry."""
MAX_EMBEDDING_INPUT_TOKENS = 8191
"""Most (estimated) tokens one embedding input may have: the models' limit."""

_ROUTE = re.compile(
    r"^/openai/deployments/(?P<deployment>[^/]+)/(?P<operation>chat/completions|embeddings)$"
)
_SAFE = {"filtered": False, "severity": "safe"}
_CATEGORIES = ("hate", "self_harm", "sexual", "violence")
_KEY_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)
_TOKEN_DENIED = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect "
    f"({COGNITIVE_SERVICES_AUDIENCE}), or have expired."
)
_WORDS_PER_CHUNK = 3


def estimate_tokens(text: str) -> int:
    """The fake's token count of a text: ``ceil(len(text) / 4)``."""
    return math.ceil(len(text) / 4)


def count_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """The fake's ``prompt_tokens`` of chat messages: 3 for the reply's priming plus, per
    message, 3 for its framing and :func:`estimate_tokens` of its text content (text parts of a
    list content are concatenated)."""
    return 3 + sum(3 + estimate_tokens(_text(message.get("content"))) for message in messages)


def embedding_dimension(model: str) -> int:
    """Native vector size of an embedding model: 3072 when the name contains ``3-large``
    (text-embedding-3-large), else 1536 (text-embedding-3-small, text-embedding-ada-002)."""
    return 3072 if "3-large" in model else 1536


def fake_embedding(text: str, model: str, dimensions: int | None = None) -> list[float]:
    """The unit vector the fake returns for ``text`` embedded by ``model``: seeded by a hash of
    both, so the same text gives the same vector in every call and process (and unrelated texts
    nearly orthogonal vectors; there is no semantics). ``dimensions`` shortens it and
    re-normalises, as text-embedding-3 models do. Values are float32 numbers, so the ``float``
    and ``base64`` encodings carry the same vector."""
    native = embedding_dimension(model)
    size = native if dimensions is None else dimensions
    digest = hashlib.shake_256(f"{model}\0{text}".encode()).digest(4 * size)
    values = [word / 2**31 - 1.0 for word in struct.unpack(f"<{size}I", digest)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return list(struct.unpack(f"<{size}f", struct.pack(f"<{size}f", *(v / norm for v in values))))


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    content: str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class _Filter:
    pattern: re.Pattern[str]
    category: str
    severity: str


class FakeAzureOpenAI(FakeServer):
    """A fake Azure OpenAI resource.

    ``deployments`` maps deployment names to models (default :data:`DEFAULT_DEPLOYMENTS`); a
    model whose name contains ``embedding`` serves ``/embeddings``, any other
    ``/chat/completions``. ``entra``: accept that fake's bearer tokens for
    ``https://cognitiveservices.azure.com`` besides the key. ``context_window``: most prompt
    (+ ``max_tokens``) tokens a chat request may have. ``omit_usage``: leave ``usage`` out of
    chat responses and streams (as some deployments and api-versions do). ``shuffle_embeddings``:
    return embedding ``data`` in reverse order (``index`` still tells each input's position).
    ``region`` is reported in ``x-ms-region``; ``requests_per_minute`` and
    ``tokens_per_minute`` only feed the ``x-ratelimit-remaining-*`` headers (script 429s with
    :meth:`throttle_next`).

    Chat replies: the first :meth:`respond` rule whose pattern matches the last user message,
    else ``"This is a fake reply from <deployment> to: <that message>"`` (its first 200
    characters). ``max_tokens`` (or ``max_completion_tokens``) below the reply's token count
    cuts the reply to ``4 * max_tokens`` characters with ``finish_reason: "length"``.

    Thread-safe, like every :class:`FakeServer`.
    """

    def __init__(
        self,
        *,
        tls: bool = False,
        api_key: str = DEFAULT_API_KEY,
        entra: FakeEntra | None = None,
        deployments: Mapping[str, str] | None = None,
        context_window: int = 128_000,
        omit_usage: bool = False,
        shuffle_embeddings: bool = False,
        region: str = "East US",
        requests_per_minute: int = 1_000,
        tokens_per_minute: int = 150_000,
    ) -> None:
        super().__init__(tls=tls)
        self.api_key = api_key
        """The accepted ``api-key``."""
        self.entra = entra
        """The Entra fake whose tokens are accepted, if any."""
        self.deployments: dict[str, str] = dict(
            deployments if deployments is not None else DEFAULT_DEPLOYMENTS
        )
        """Deployment name → model (may be changed)."""
        self.context_window = context_window
        self.omit_usage = omit_usage
        self.shuffle_embeddings = shuffle_embeddings
        self.region = region
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._rules: list[_Rule] = []
        self._filters: list[_Filter] = []
        self._window: deque[tuple[float, int]] = deque()

    def respond(
        self, pattern: str | re.Pattern[str], content: str | Callable[[re.Match[str]], str]
    ) -> None:
        """Chat requests whose last user message matches ``pattern`` (``re.search``) get
        ``content`` as the reply (or ``content(match)`` when it is callable). Rules are tried in
        the order they were added."""
        with self._lock:
            self._rules.append(_Rule(re.compile(pattern), content))

    def filter_pattern(
        self, pattern: str | re.Pattern[str], *, category: str = "hate", severity: str = "high"
    ) -> None:
        """Chat requests with a message matching ``pattern`` are refused by the prompt content
        filter: 400 ``content_filter`` with ``innererror.content_filter_result`` marking
        ``category`` (hate, self_harm, sexual or violence) filtered at ``severity``."""
        if category not in _CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(_CATEGORIES)}, got {category!r}")
        with self._lock:
            self._filters.append(_Filter(re.compile(pattern), category, severity))

    # -- the service ---------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> FakeResponse:
        route = _ROUTE.match(request.path)
        if route is None or request.method != "POST" or not request.query.get("api-version"):
            return _azure_error(404, "404", "Resource not found")
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        deployment, operation = route["deployment"], route["operation"]
        model = self.deployments.get(deployment)
        if model is None:
            return _azure_error(
                404,
                "DeploymentNotFound",
                "The API deployment for this resource does not exist. If you created the "
                "deployment within the last 5 minutes, please wait a moment and try again.",
            )
        is_embedding = "embedding" in model
        if is_embedding != (operation == "embeddings"):
            name = "embeddings" if operation == "embeddings" else "chatCompletion"
            return _azure_error(
                400,
                "OperationNotSupported",
                f"The {name} operation does not work with the specified model, {model}. Please "
                "choose different model and try again. You can learn more about which models "
                "can be used with each operation here: https://go.microsoft.com/fwlink/?linkid="
                "2197993.",
            )
        try:
            body = json.loads(request.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _invalid(
                "We could not parse the JSON body of your request. (HINT: This likely means you "
                "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
                "but what was sent was not valid JSON.)"
            )
        if is_embedding:
            return self._embeddings(body, model)
        return self._chat(body, deployment, model)

    def _authenticate(self, request: RecordedRequest) -> FakeResponse | None:
        key = request.headers.get("api-key")
        if key is not None:
            if hmac.compare_digest(key.encode(), self.api_key.encode()):
                return None
            return _azure_error(401, "401", _KEY_DENIED)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            if self.entra is not None and self.entra.validate(
                token.strip(), audience=COGNITIVE_SERVICES_AUDIENCE
            ):
                return None
            return _azure_error(401, "401", _TOKEN_DENIED)
        return _azure_error(401, "401", _KEY_DENIED)

    def _chat(self, body: dict[str, Any], deployment: str, model: str) -> FakeResponse:
        if "messages" not in body:
            return _invalid("'messages' is a required property")
        messages = body["messages"]
        if not isinstance(messages, list):
            return _invalid(f"{json.dumps(messages)} is not of type 'array' - 'messages'")
        if not messages:
            return _invalid("[] is too short - 'messages'")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or "role" not in message:
                return _invalid(f"'role' is a required property - 'messages.{index}'")
        texts = [_text(message.get("content")) for message in messages]
        refused = self._filtered(texts)
        if refused is not None:
            return refused
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        name = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            return _invalid(
                f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got "
                f"{json.dumps(limit)} instead.",
                param=name,
                code="integer_below_min_value",
            )
        prompt = count_prompt_tokens(messages)
        if prompt + (limit or 0) > self.context_window:
            return _invalid(
                _context_message(self.context_window, prompt, limit),
                param="messages",
                code="context_length_exceeded",
            )
        choices = body.get("n", 1)
        if not isinstance(choices, int) or isinstance(choices, bool) or not 1 <= choices <= 128:
            return _invalid(
                f"Invalid 'n': expected an integer between 1 and 128, got {json.dumps(choices)}.",
                param="n",
            )
        users = [t for m, t in zip(messages, texts, strict=True) if m.get("role") == "user"]
        content = self._reply(users[-1] if users else texts[-1], deployment)
        completion, finish_reason = estimate_tokens(content), "stop"
        if limit is not None and completion > limit:
            content, completion, finish_reason = content[: 4 * limit], limit, "length"
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion * choices,
            "total_tokens": prompt + completion * choices,
        }
        headers = self._rate_headers(usage["total_tokens"])
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:29]}"
        created = int(time.time())
        fingerprint = "fp_" + hashlib.sha256(model.encode()).hexdigest()[:10]
        if body.get("stream") is True:
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            events = _stream_events(
                completion_id=completion_id,
                created=created,
                model=model,
                fingerprint=fingerprint,
                content=content,
                choices=choices,
                finish_reason=finish_reason,
                usage=usage if include_usage and not self.omit_usage else None,
            )
            headers["Content-Type"] = "text/event-stream; charset=utf-8"
            headers["Cache-Control"] = "no-cache"
            return FakeResponse(200, headers=headers, chunks=events)
        payload: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "system_fingerprint": fingerprint,
            "prompt_filter_results": _prompt_filter_results(),
            "choices": [
                {
                    "index": index,
                    "finish_reason": finish_reason,
                    "logprobs": None,
                    "message": {"role": "assistant", "content": content},
                    "content_filter_results": _safe_results(),
                }
                for index in range(choices)
            ],
        }
        if not self.omit_usage:
            payload["usage"] = usage
        return json_response(200, payload, headers)

    def _filtered(self, texts: list[str]) -> FakeResponse | None:
        with self._lock:
            filters = list(self._filters)
        for rule in filters:
            if any(rule.pattern.search(text) for text in texts):
                result: dict[str, Any] = _safe_results()
                result[rule.category] = {"filtered": True, "severity": rule.severity}
                return json_response(
                    400,
                    {
                        "error": {
                            "message": (
                                "The response was filtered due to the prompt triggering Azure "
                                "OpenAI's content management policy. Please modify your prompt "
                                "and retry. To learn more about our content filtering policies "
                                "please read our documentation: "
                                "https://go.microsoft.com/fwlink/?linkid=2198766"
                            ),
                            "type": None,
                            "param": "prompt",
                            "code": "content_filter",
                            "status": 400,
                            "innererror": {
                                "code": "ResponsibleAIPolicyViolation",
                                "content_filter_result": result,
                            },
                        }
                    },
                )
        return None

    def _reply(self, last_user_message: str, deployment: str) -> str:
        with self._lock:
            rules = list(self._rules)
        for rule in rules:
            match = rule.pattern.search(last_user_message)
            if match is not None:
                return rule.content(match) if callable(rule.content) else rule.content
        excerpt = last_user_message[:200]
        return f"This is a fake reply from {deployment} to: {excerpt}"

    def _embeddings(self, body: dict[str, Any], model: str) -> FakeResponse:
        if "input" not in body:
            return _invalid("'input' is a required property")
        inputs = body["input"]
        if isinstance(inputs, str):
            inputs = [inputs]
        invalid_input = _invalid(
            "'$.input' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference."
        )
        if not isinstance(inputs, list) or not inputs:
            return invalid_input
        if len(inputs) > MAX_EMBEDDING_INPUTS:
            return _invalid(
                f"Too many inputs. The max number of inputs is {MAX_EMBEDDING_INPUTS}. We hope to "
                "increase the number of inputs per request soon. Please contact us through an "
                "Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 for "
                "further questions."
            )
        if any(not isinstance(text, str) or not text for text in inputs):
            return invalid_input
        counts = [estimate_tokens(text) for text in inputs]
        if max(counts) > MAX_EMBEDDING_INPUT_TOKENS:
            return _invalid(
                f"This model's maximum context length is {MAX_EMBEDDING_INPUT_TOKENS} tokens, "
                f"however you requested {max(counts)} tokens ({max(counts)} in your prompt; 0 for "
                "the completion). Please reduce your prompt; or completion length."
            )
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            return _invalid(
                f"Invalid value for 'encoding_format' = {encoding}. Supported values are: "
                "'float' and 'base64'.",
                param="encoding_format",
            )
        dimensions = body.get("dimensions")
        if dimensions is not None:
            if "text-embedding-3" not in model:
                return _invalid("This model does not support specifying dimensions.")
            native = embedding_dimension(model)
            if not isinstance(dimensions, int) or not 1 <= dimensions <= native:
                return _invalid(
                    f"Invalid value for 'dimensions' = {dimensions}. Must be between 1 and "
                    f"{native}.",
                    param="dimensions",
                )
        data: list[dict[str, Any]] = []
        for index, text in enumerate(inputs):
            vector = fake_embedding(text, model, dimensions)
            encoded: list[float] | str = vector
            if encoding == "base64":
                packed = struct.pack(f"<{len(vector)}f", *vector)
                encoded = base64.b64encode(packed).decode("ascii")
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        if self.shuffle_embeddings:
            data.reverse()
        tokens = sum(counts)
        return json_response(
            200,
            {
                "object": "list",
                "model": model,
                "data": data,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
            self._rate_headers(tokens),
        )

    def _rate_headers(self, tokens: int) -> dict[str, str]:
        """Counts one model call in the sliding minute and reports what is left of it."""
        now = time.monotonic()
        with self._lock:
            self._window.append((now, tokens))
            while self._window and self._window[0][0] <= now - 60:
                self._window.popleft()
            calls, used = len(self._window), sum(t for _, t in self._window)
        return {
            "x-ratelimit-remaining-requests": str(max(0, self.requests_per_minute - calls)),
            "x-ratelimit-remaining-tokens": str(max(0, self.tokens_per_minute - used)),
        }

    def _error_response(
        self, status: int, request: RecordedRequest, headers: Mapping[str, str]
    ) -> FakeResponse:
        """Scripted failures in Azure's ``{"error":{"code","message"}}`` shape: 429 with the
        rate-limit message (naming the operation, the api-version and the ``retry-after``
        seconds), 408 ``Timeout``, 500 ``InternalServerError``, 503 ``ServiceUnavailable``, 401
        and 404 as the real checks send them, others ``{"code": "<status>"}``."""
        if status == 429:
            operation = (
                "Embeddings_Create"
                if request.path.endswith("/embeddings")
                else ("ChatCompletions_Create")
            )
            version = request.query.get("api-version", "")
            retry = {name.lower(): value for name, value in headers.items()}.get("retry-after")
            wait = (
                f" Please retry after {retry} second{'' if retry == '1' else 's'}." if retry else ""
            )
            return _azure_error(
                429,
                "429",
                f"Requests to the {operation} Operation under Azure OpenAI API version {version} "
                "have exceeded token rate limit of your current OpenAI S0 pricing tier."
                f"{wait} Please go here: https://aka.ms/oai/quotaincrease if you would like to "
                "further increase the default rate limit.",
            )
        messages = {
            401: ("401", _KEY_DENIED),
            404: ("404", "Resource not found"),
            408: ("Timeout", "The operation was timeout."),
            500: (
                "InternalServerError",
                "The server had an error processing your request. Sorry about that! You can "
                "retry your request, or contact us through an Azure support request at: "
                "https://go.microsoft.com/fwlink/?linkid=2213926 if you keep seeing this error.",
            ),
            503: (
                "ServiceUnavailable",
                "The service is temporarily unable to process your request. Please try again "
                "later.",
            ),
        }
        code, message = messages.get(status, (str(status), status_phrase(status)))
        return _azure_error(status, code, message)

    def _common_headers(self, request: RecordedRequest) -> dict[str, str]:
        request_id = str(uuid.uuid4())
        return {
            "apim-request-id": request_id,
            "x-request-id": request_id,
            "x-ms-region": self.region,
        }


def _azure_error(status: int, code: str, message: str) -> FakeResponse:
    """The Azure gateway's error shape."""
    return json_response(status, {"error": {"code": code, "message": message}})


def _invalid(message: str, *, param: str | None = None, code: str | None = None) -> FakeResponse:
    """A 400 request-validation error in the OpenAI shape Azure forwards."""
    return json_response(
        400,
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": param,
                "code": code,
            }
        },
    )


def _text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _context_message(window: int, prompt: int, limit: int | None) -> str:
    if limit is None:
        return (
            f"This model's maximum context length is {window} tokens. However, your messages "
            f"resulted in {prompt} tokens. Please reduce the length of the messages."
        )
    return (
        f"This model's maximum context length is {window} tokens. However, you requested "
        f"{prompt + limit} tokens ({prompt} in the messages, {limit} in the completion). Please "
        "reduce the length of the messages or completion."
    )


def _safe_results() -> dict[str, Any]:
    return {category: dict(_SAFE) for category in _CATEGORIES}


def _prompt_filter_results() -> list[dict[str, Any]]:
    return [{"prompt_index": 0, "content_filter_results": _safe_results()}]


def _stream_events(
    *,
    completion_id: str,
    created: int,
    model: str,
    fingerprint: str,
    content: str,
    choices: int,
    finish_reason: str,
    usage: dict[str, int] | None,
) -> Iterator[bytes]:
    """Azure's chat stream: a first chunk with empty ``choices`` and the prompt filter results,
    per choice a role delta, content deltas of a few words and a ``finish_reason`` chunk, then
    (with ``stream_options.include_usage``) a usage chunk with empty ``choices``, every other
    chunk carrying ``"usage": null``; then ``data: [DONE]``."""
    extra: dict[str, Any] = {} if usage is None else {"usage": None}

    def event(payload: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps({**payload, **extra}).encode() + b"\n\n"

    def chunk(index: int, delta: dict[str, str], finish: str | None, filters: Any) -> bytes:
        return event(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": fingerprint,
                "choices": [
                    {
                        "index": index,
                        "delta": delta,
                        "finish_reason": finish,
                        "logprobs": None,
                        "content_filter_results": filters,
                    }
                ],
            }
        )

    yield event(
        {
            "id": "",
            "object": "",
            "created": 0,
            "model": "",
            "choices": [],
            "prompt_filter_results": _prompt_filter_results(),
        }
    )
    words = re.findall(r"\S+\s*", content)  # a few words per delta; their join is the content
    if words:
        words[0] = content[: len(content) - len(content.lstrip())] + words[0]
    elif content:
        words = [content]
    pieces = [
        "".join(words[i : i + _WORDS_PER_CHUNK]) for i in range(0, len(words), _WORDS_PER_CHUNK)
    ]
    for index in range(choices):
        yield chunk(index, {"role": "assistant", "content": ""}, None, {})
        for piece in pieces:
            yield chunk(index, {"content": piece}, None, _safe_results())
        yield chunk(index, {}, finish_reason, {})
    if usage is not None:
        yield (
            b"data: "
            + json.dumps(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": fingerprint,
                    "choices": [],
                    "usage": usage,
                }
            ).encode()
            + b"\n\n"
        )
    yield b"data: [DONE]\n\n"
