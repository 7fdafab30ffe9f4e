"""FakeAzureOpenAI over raw HTTP (http.client), and the fault machinery all fakes share."""

from __future__ import annotations

import base64
import http.client
import json
import math
import re
import socket
import struct
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import aadap.testing._server as server_module
from aadap.testing import FakeAzureOpenAI, FakeEntra, FakeServer, fake_embedding
from aadap.testing.azure_openai import (
    COGNITIVE_SERVICES_AUDIENCE,
    count_prompt_tokens,
    embedding_dimension,
    estimate_tokens,
)

CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-01"
EMBED = "/openai/deployments/{}/embeddings?api-version=2024-02-01"
KEY_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)


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
    fake: FakeServer,
    path: str,
    payload: Any = None,
    *,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
    auth: bool = True,
) -> Reply:
    """One request; on a new connection (closed afterwards) unless one is given."""
    own = connection is None
    conn = connect(fake) if connection is None else connection
    sent = {"Content-Type": "application/json"}
    if auth and isinstance(fake, FakeAzureOpenAI):
        sent["api-key"] = fake.api_key
    sent.update(headers or {})
    body = payload if isinstance(payload, bytes) else None
    if payload is not None and body is None:
        body = json.dumps(payload).encode()
    try:
        conn.request(method, path, body=body, headers=sent)
        return Reply(conn.getresponse())
    finally:
        if own:
            conn.close()


def chat(fake: FakeAzureOpenAI, content: str = "hello", **extra: Any) -> Reply:
    return call(fake, CHAT, {"messages": [{"role": "user", "content": content}], **extra})


def events(body: bytes) -> list[Any]:
    """The data of each server-sent event; "[DONE]" stays a string."""
    assert body.endswith(b"\n\n")
    out: list[Any] = []
    for block in body.decode().split("\n\n")[:-1]:
        assert block.startswith("data: "), block
        data = block.removeprefix("data: ")
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


@pytest.fixture
def fake() -> Iterator[FakeAzureOpenAI]:
    with FakeAzureOpenAI() as server:
        yield server


# -- chat completions ----------------------------------------------------------------------------


def test_chat_completion_has_the_service_shape_and_headers(fake: FakeAzureOpenAI) -> None:
    reply = chat(fake, "Write a query")
    assert reply.status == 200
    body = reply.json()
    assert body["object"] == "chat.completion"
    assert re.fullmatch(r"chatcmpl-\w+", body["id"])
    assert body["model"] == "gpt-4o-2024-08-06"
    assert body["system_fingerprint"].startswith("fp_")
    assert abs(body["created"] - time.time()) < 5
    assert body["prompt_filter_results"][0]["prompt_index"] == 0
    safe = {"filtered": False, "severity": "safe"}
    assert body["prompt_filter_results"][0]["content_filter_results"]["hate"] == safe
    [choice] = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["logprobs"] is None
    assert choice["message"] == {
        "role": "assistant",
        "content": "This is a fake reply from gpt-4o to: Write a query",
    }
    assert set(choice["content_filter_results"]) == {"hate", "self_harm", "sexual", "violence"}
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["apim-request-id"] == reply.headers["x-request-id"]
    assert reply.headers["x-ms-region"] == "East US"
    assert int(reply.headers["x-ratelimit-remaining-requests"]) == 999
    assert (
        int(reply.headers["x-ratelimit-remaining-tokens"])
        == 150_000 - body["usage"]["total_tokens"]
    )


def test_usage_follows_the_documented_token_rule(fake: FakeAzureOpenAI) -> None:
    messages = [{"role": "system", "content": "abcd"}, {"role": "user", "content": "hello world!"}]
    assert count_prompt_tokens(messages) == 3 + (3 + 1) + (3 + 3)
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcde") == 2
    body = call(fake, CHAT, {"messages": messages}).json()
    content = body["choices"][0]["message"]["content"]
    assert body["usage"] == {
        "prompt_tokens": 13,
        "completion_tokens": math.ceil(len(content) / 4),
        "total_tokens": 13 + math.ceil(len(content) / 4),
    }
    parts = [{"type": "text", "text": "hello "}, {"type": "image_url", "image_url": {}}]
    parts.append({"type": "text", "text": "world!"})
    body = call(fake, CHAT, {"messages": [{"role": "user", "content": parts}]}).json()
    assert body["usage"]["prompt_tokens"] == 3 + 3 + 3
    assert body["choices"][0]["message"]["content"].endswith("to: hello world!")


def test_scripted_replies_match_the_last_user_message_first_rule_first(
    fake: FakeAzureOpenAI,
) -> None:
    fake.respond(r"(?i)\bsql\b", "SELECT 1")
    fake.respond(r"table (\w+)", lambda match: f"SELECT * FROM {match[1]}")
    fake.respond(r"table", "never: an earlier rule matches first")
    assert chat(fake, "write SQL please").json()["choices"][0]["message"]["content"] == "SELECT 1"
    reply = chat(fake, "read table sales").json()
    assert reply["choices"][0]["message"]["content"] == "SELECT * FROM sales"
    messages = [
        {"role": "user", "content": "SQL"},
        {"role": "assistant", "content": "SELECT 1"},
        {"role": "user", "content": "thanks"},
    ]
    reply = call(fake, CHAT, {"messages": messages}).json()
    assert reply["choices"][0]["message"]["content"].endswith("to: thanks")


def test_default_reply_is_a_deterministic_function_of_the_prompt(fake: FakeAzureOpenAI) -> None:
    first = chat(fake, "x" * 500).json()["choices"][0]["message"]["content"]
    assert first == chat(fake, "x" * 500).json()["choices"][0]["message"]["content"]
    assert first == "This is a fake reply from gpt-4o to: " + "x" * 200


def test_max_tokens_below_the_reply_cuts_it_with_finish_reason_length(
    fake: FakeAzureOpenAI,
) -> None:
    fake.respond("long", "one two three four five six seven eight nine ten")
    body = chat(fake, "long", max_tokens=3).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == "one two thre"
    assert body["usage"]["completion_tokens"] == 3
    body = chat(fake, "long", max_completion_tokens=100).json()
    assert body["choices"][0]["finish_reason"] == "stop"
    reply = chat(fake, "long", max_tokens=0)
    assert reply.status == 400
    assert reply.json()["error"] == {
        "message": "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but "
        "got 0 instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "integer_below_min_value",
    }


def test_n_choices_and_omitted_usage() -> None:
    with FakeAzureOpenAI(omit_usage=True) as fake:
        body = chat(fake, n=2).json()
        assert [c["index"] for c in body["choices"]] == [0, 1]
        assert "usage" not in body
        stream = events(chat(fake, stream=True, stream_options={"include_usage": True}).body)
        assert all("usage" not in e for e in stream[:-1])


def test_content_filter_refuses_the_prompt_with_the_service_body(fake: FakeAzureOpenAI) -> None:
    fake.filter_pattern(r"(?i)forbidden", category="violence", severity="medium")
    assert chat(fake, "all fine").status == 200
    reply = chat(fake, "something FORBIDDEN")
    assert reply.status == 400
    safe = {"filtered": False, "severity": "safe"}
    assert reply.json() == {
        "error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's "
            "content management policy. Please modify your prompt and retry. To learn more about "
            "our content filtering policies please read our documentation: "
            "https://go.microsoft.com/fwlink/?linkid=2198766",
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {
                    "hate": safe,
                    "self_harm": safe,
                    "sexual": safe,
                    "violence": {"filtered": True, "severity": "medium"},
                },
            },
        }
    }
    with pytest.raises(ValueError, match="category"):
        fake.filter_pattern("x", category="rudeness")


def test_prompts_beyond_the_context_window_are_refused() -> None:
    with FakeAzureOpenAI(context_window=100) as fake:
        reply = chat(fake, "x" * 400)  # 3 + 3 + 100 tokens
        assert reply.status == 400
        assert reply.json()["error"] == {
            "message": "This model's maximum context length is 100 tokens. However, your "
            "messages resulted in 106 tokens. Please reduce the length of the messages.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
        reply = chat(fake, "x" * 40, max_tokens=90)
        assert reply.json()["error"]["message"] == (
            "This model's maximum context length is 100 tokens. However, you requested 106 "
            "tokens (16 in the messages, 90 in the completion). Please reduce the length of the "
            "messages or completion."
        )
        assert chat(fake, "x" * 40, max_tokens=84).status == 200


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "'messages' is a required property"),
        ({"messages": []}, "[] is too short - 'messages'"),
        ({"messages": "hi"}, "\"hi\" is not of type 'array' - 'messages'"),
        ({"messages": [{"content": "hi"}]}, "'role' is a required property - 'messages.0'"),
    ],
)
def test_invalid_chat_requests_are_400_invalid_request_error(
    fake: FakeAzureOpenAI, payload: dict[str, Any], message: str
) -> None:
    reply = call(fake, CHAT, payload)
    assert reply.status == 400
    assert reply.json() == {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    }


def test_a_body_that_is_not_json_is_400(fake: FakeAzureOpenAI) -> None:
    reply = call(fake, CHAT, b"{not json")
    assert reply.status == 400
    assert reply.json()["error"]["message"].startswith("We could not parse the JSON body")


# -- routing and authentication ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/openai/deployments/gpt-4o/chat/completions"),
        ("POST", "/openai/deployments/gpt-4o/chat/completions?api-version="),
        ("GET", CHAT),
        ("POST", "/openai/deployments/gpt-4o/completions?api-version=2024-02-01"),
        ("POST", "/v1/chat/completions?api-version=2024-02-01"),
    ],
)
def test_unknown_routes_and_a_missing_api_version_are_404(
    fake: FakeAzureOpenAI, method: str, path: str
) -> None:
    reply = call(fake, path, {"messages": [{"role": "user", "content": "x"}]}, method=method)
    assert reply.status == 404
    assert reply.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_the_api_key_is_required(fake: FakeAzureOpenAI) -> None:
    payload = {"messages": [{"role": "user", "content": "x"}]}
    for headers in ({}, {"api-key": "wrong"}):
        reply = call(fake, CHAT, payload, headers=headers, auth=False)
        assert reply.status == 401
        assert reply.json() == {"error": {"code": "401", "message": KEY_DENIED}}
    assert call(fake, CHAT, payload, headers={"API-KEY": fake.api_key}, auth=False).status == 200


def test_entra_bearer_tokens_are_accepted_when_an_entra_fake_is_given() -> None:
    payload = {"messages": [{"role": "user", "content": "x"}]}
    token_denied = (
        "Unauthorized. Access token is missing, invalid, audience is incorrect "
        "(https://cognitiveservices.azure.com), or have expired."
    )
    with FakeEntra(tls=False) as entra, FakeAzureOpenAI(entra=entra) as fake:
        token = entra.issue(f"{COGNITIVE_SERVICES_AUDIENCE}/.default")
        bearer = {"Authorization": f"Bearer {token}"}
        assert call(fake, CHAT, payload, headers=bearer, auth=False).status == 200
        other = entra.issue("https://api.fabric.microsoft.com/.default")
        for value in (f"Bearer {other}", "Bearer garbage"):
            reply = call(fake, CHAT, payload, headers={"Authorization": value}, auth=False)
            assert reply.status == 401
            assert reply.json() == {"error": {"code": "401", "message": token_denied}}
        entra.expire_all()
        assert call(fake, CHAT, payload, headers=bearer, auth=False).status == 401
    with FakeAzureOpenAI() as fake:
        reply = call(fake, CHAT, payload, headers=bearer, auth=False)
        assert reply.status == 401


def test_unknown_deployments_and_operations_the_model_lacks(fake: FakeAzureOpenAI) -> None:
    payload = {"messages": [{"role": "user", "content": "x"}]}
    reply = call(fake, CHAT.replace("gpt-4o", "gpt-5"), payload)
    assert reply.status == 404
    assert reply.json()["error"]["code"] == "DeploymentNotFound"
    assert reply.json()["error"]["message"].startswith(
        "The API deployment for this resource does not exist."
    )
    reply = call(fake, CHAT.replace("gpt-4o", "text-embedding-3-small"), payload)
    assert reply.status == 400
    assert reply.json()["error"]["code"] == "OperationNotSupported"
    assert reply.json()["error"]["message"].startswith(
        "The chatCompletion operation does not work with the specified model, "
        "text-embedding-3-small."
    )
    reply = call(fake, EMBED.format("gpt-4o-mini"), {"input": "x"})
    assert reply.json()["error"]["code"] == "OperationNotSupported"


# -- streaming -----------------------------------------------------------------------------------


def test_a_stream_follows_azure(fake: FakeAzureOpenAI) -> None:
    fake.respond("poem", "one two three four five six seven")
    reply = chat(fake, "poem", stream=True)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    assert reply.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in reply.headers
    first, *chunks, done = events(reply.body)
    assert done == "[DONE]"
    assert first["choices"] == []
    assert (first["id"], first["created"]) == ("", 0)
    assert first["prompt_filter_results"][0]["prompt_index"] == 0
    assert all("usage" not in chunk for chunk in [first, *chunks])
    deltas = [chunk["choices"][0] for chunk in chunks]
    assert deltas[0]["delta"] == {"role": "assistant", "content": ""}
    assert [d["delta"]["content"] for d in deltas[1:-1]] == [
        "one two three ",
        "four five six ",
        "seven",
    ]
    assert all(d["finish_reason"] is None for d in deltas[:-1])
    assert deltas[-1] == {
        "index": 0,
        "delta": {},
        "finish_reason": "stop",
        "logprobs": None,
        "content_filter_results": {},
    }
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1


def test_a_stream_with_include_usage_ends_with_a_usage_chunk(fake: FakeAzureOpenAI) -> None:
    reply = chat(fake, "hello", stream=True, stream_options={"include_usage": True}, max_tokens=2)
    *chunks, usage_chunk, done = events(reply.body)
    assert done == "[DONE]"
    assert all(chunk["usage"] is None for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[1:]) == "This is "


def test_stream_events_leave_as_separate_chunks(fake: FakeAzureOpenAI) -> None:
    fake.respond("x", "a b c d e f g h i")
    body = json.dumps({"messages": [{"role": "user", "content": "x"}], "stream": True}).encode()
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        sock.sendall(
            f"POST {CHAT} HTTP/1.1\r\nHost: x\r\napi-key: {fake.api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    _, _, payload = raw.partition(b"\r\n\r\n")
    sizes = []
    while True:
        line, _, payload = payload.partition(b"\r\n")
        size = int(line, 16)
        sizes.append(size)
        if size == 0:
            break
        assert payload[:size].startswith(b"data: ")
        assert payload[:size].endswith(b"\n\n")
        payload = payload[size + 2 :]
    assert len(sizes) == 1 + 1 + 3 + 1 + 1 + 1  # first, role, 3 deltas, finish, [DONE], end


# -- embeddings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "size"),
    [
        ("text-embedding-3-small", 1536),
        ("text-embedding-ada-002", 1536),
        ("text-embedding-3-large", 3072),
    ],
)
def test_embedding_sizes_follow_the_model(
    fake: FakeAzureOpenAI, deployment: str, size: int
) -> None:
    body = call(fake, EMBED.format(deployment), {"input": ["a", "b"]}).json()
    assert body["object"] == "list"
    assert body["model"] == deployment
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert {d["object"] for d in body["data"]} == {"embedding"}
    assert [len(d["embedding"]) for d in body["data"]] == [size, size]
    assert embedding_dimension(deployment) == size


def test_embeddings_are_deterministic_unit_vectors(fake: FakeAzureOpenAI) -> None:
    path = EMBED.format("text-embedding-3-small")
    first = call(fake, path, {"input": "hello"}).json()["data"][0]["embedding"]
    again = call(fake, path, {"input": ["other", "hello"]}).json()["data"][1]["embedding"]
    assert first == again == fake_embedding("hello", "text-embedding-3-small")
    assert math.isclose(math.fsum(v * v for v in first), 1.0, rel_tol=1e-5)
    # the same in every process and version: a hash of the model and the text seeds it
    assert [round(v, 6) for v in first[:3]] == [-0.026837, -0.007513, -0.036414]
    other = fake_embedding("hello!", "text-embedding-3-small")
    assert abs(math.fsum(a * b for a, b in zip(first, other, strict=True))) < 0.2


def test_base64_embeddings_carry_the_same_float32_vector(fake: FakeAzureOpenAI) -> None:
    path = EMBED.format("text-embedding-ada-002")
    data = call(fake, path, {"input": "hi", "encoding_format": "base64"}).json()["data"][0]
    raw = base64.b64decode(data["embedding"])
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == fake_embedding(
        "hi", "text-embedding-ada-002"
    )


def test_dimensions_shorten_text_embedding_3_vectors(fake: FakeAzureOpenAI) -> None:
    body = call(fake, EMBED.format("text-embedding-3-large"), {"input": "x", "dimensions": 256})
    vector = body.json()["data"][0]["embedding"]
    assert len(vector) == 256
    assert math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-5)
    reply = call(fake, EMBED.format("text-embedding-ada-002"), {"input": "x", "dimensions": 256})
    assert reply.status == 400
    assert reply.json()["error"]["message"] == "This model does not support specifying dimensions."
    reply = call(fake, EMBED.format("text-embedding-3-small"), {"input": "x", "dimensions": 2000})
    assert reply.json()["error"]["param"] == "dimensions"


@pytest.mark.parametrize(
    "payload",
    [{}, {"input": ""}, {"input": []}, {"input": ["a", ""]}, {"input": [1, 2]}, {"input": None}],
)
def test_invalid_embedding_inputs_are_400(fake: FakeAzureOpenAI, payload: dict[str, Any]) -> None:
    reply = call(fake, EMBED.format("text-embedding-3-small"), payload)
    assert reply.status == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"


def test_embedding_limits(fake: FakeAzureOpenAI) -> None:
    path = EMBED.format("text-embedding-3-small")
    assert call(fake, path, {"input": ["x"] * 2048, "dimensions": 1}).status == 200
    reply = call(fake, path, {"input": ["x"] * 2049})
    assert reply.status == 400
    assert reply.json()["error"]["message"].startswith(
        "Too many inputs. The max number of inputs is 2048."
    )
    reply = call(fake, path, {"input": "x" * 4 * 8192})
    assert reply.json()["error"]["message"].startswith(
        "This model's maximum context length is 8191 tokens, however you requested 8192 tokens"
    )
    reply = call(fake, path, {"input": "x", "encoding_format": "int8"})
    assert reply.json()["error"]["param"] == "encoding_format"


def test_embedding_usage_and_shuffled_order() -> None:
    with FakeAzureOpenAI(shuffle_embeddings=True) as fake:
        body = call(fake, EMBED.format("text-embedding-3-small"), {"input": ["a", "bbbbb", "c"]})
        data = body.json()["data"]
        assert [d["index"] for d in data] == [2, 1, 0]
        assert data[0]["embedding"] == fake_embedding("c", "text-embedding-3-small")
        assert body.json()["usage"] == {"prompt_tokens": 4, "total_tokens": 4}


def test_custom_deployments() -> None:
    with FakeAzureOpenAI(
        deployments={"prod-chat": "gpt-4o-2024-08-06", "vec": "my-embedding-3-large"}
    ) as fake:
        assert (
            call(
                fake,
                CHAT.replace("gpt-4o", "prod-chat"),
                {"messages": [{"role": "user", "content": "x"}]},
            ).status
            == 200
        )
        body = call(fake, EMBED.format("vec"), {"input": "x"}).json()
        assert len(body["data"][0]["embedding"]) == 3072
        assert call(fake, CHAT, {"messages": [{"role": "user", "content": "x"}]}).status == 404


# -- scripted faults (the machinery every fake shares) -------------------------------------------


def test_fail_next_sends_the_service_error_bodies(fake: FakeAzureOpenAI) -> None:
    expected = {
        500: "InternalServerError",
        503: "ServiceUnavailable",
        408: "Timeout",
        401: "401",
        404: "404",
        409: "409",
    }
    for status, code in expected.items():
        fake.fail_next(1, status)
        reply = chat(fake)
        assert reply.status == status
        assert reply.json()["error"]["code"] == code
        assert reply.headers["apim-request-id"]
    assert chat(fake).status == 200


def test_fail_next_with_a_body_and_headers(fake: FakeAzureOpenAI) -> None:
    fake.fail_next(1, 500, headers={"x-should-retry": "false"})
    fake.fail_next(1, 400, body={"error": {"code": "custom", "message": "m"}})
    fake.fail_next(1, 502, body="<html>bad gateway</html>")
    reply = chat(fake)
    assert (reply.status, reply.headers["x-should-retry"]) == (500, "false")
    assert chat(fake).json() == {"error": {"code": "custom", "message": "m"}}
    reply = chat(fake)
    assert (reply.status, reply.body) == (502, b"<html>bad gateway</html>")
    with pytest.raises(ValueError, match="status"):
        fake.fail_next(1, 200)
    with pytest.raises(ValueError, match="n must be"):
        fake.fail_next(0)
    with pytest.raises(ValueError, match="seconds"):
        fake.delay_next(1, -1)


def test_throttle_next_sends_azure_429s(fake: FakeAzureOpenAI) -> None:
    fake.throttle_next(1, retry_after=6, retry_after_ms=6000)
    fake.throttle_next(1, retry_after_ms=1500, path="/embeddings")
    fake.throttle_next(1)
    reply = chat(fake)
    assert reply.status == 429
    assert (reply.headers["retry-after"], reply.headers["retry-after-ms"]) == ("6", "6000")
    assert reply.json() == {
        "error": {
            "code": "429",
            "message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API "
            "version 2024-02-01 have exceeded token rate limit of your current OpenAI S0 pricing "
            "tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease "
            "if you would like to further increase the default rate limit.",
        }
    }
    reply = chat(fake)  # the embeddings-only fault is skipped; the next one applies
    assert (reply.status, reply.headers["retry-after"]) == (429, "1")
    assert "retry-after-ms" not in reply.headers
    assert "Please retry after 1 second." in reply.json()["error"]["message"]
    reply = call(fake, EMBED.format("text-embedding-3-small"), {"input": "x"})
    assert (reply.headers["retry-after"], reply.headers["retry-after-ms"]) == ("2", "1500")
    assert "Embeddings_Create" in reply.json()["error"]["message"]
    assert chat(fake).status == 200


def test_faults_are_consumed_in_order_and_filtered_by_path(fake: FakeAzureOpenAI) -> None:
    fake.fail_next(2, 503, path=re.compile(r"/embeddings$"))
    fake.fail_next(1, 500)
    fake.fail_next(1, 408)
    assert chat(fake).status == 500
    embed = EMBED.format("text-embedding-3-small")
    assert [call(fake, embed, {"input": "x"}).status for _ in range(3)] == [503, 503, 408]
    fake.fail_next(5, 500)
    fake.clear_faults()
    assert chat(fake).status == 200


def test_reset_next_aborts_the_connection_without_a_response(fake: FakeAzureOpenAI) -> None:
    fake.reset_next(1)
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        chat(fake)
    assert chat(fake).status == 200
    assert fake.connections == 2
    assert len(fake.requests) == 2


def test_delay_next_holds_the_response(fake: FakeAzureOpenAI) -> None:
    fake.delay_next(1, 0.3)
    start = time.monotonic()
    assert chat(fake).status == 200
    assert time.monotonic() - start >= 0.3
    fake.delay_next(1, 0.5)
    conn = connect(fake, timeout=0.1)
    with pytest.raises(TimeoutError):
        call(fake, CHAT, {"messages": [{"role": "user", "content": "x"}]}, connection=conn)
    conn.close()


def test_close_cuts_a_delay_short() -> None:
    fake = FakeAzureOpenAI().start()
    fake.delay_next(1, 30)
    conn = connect(fake, timeout=5)
    try:
        conn.request("POST", CHAT, body=b"{}", headers={"api-key": fake.api_key})
        time.sleep(0.05)
        start = time.monotonic()
        fake.close()
        assert time.monotonic() - start < 2
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            conn.getresponse().read()
    finally:
        conn.close()


def test_malformed_next_truncates_the_body(fake: FakeAzureOpenAI) -> None:
    fake.malformed_next(2)
    reply = chat(fake, "hello")
    assert reply.status == 200
    with pytest.raises(json.JSONDecodeError):
        reply.json()
    assert reply.body.startswith(b'{"id": "chatcmpl-')
    reply = chat(fake, "hello", stream=True)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    assert b"[DONE]" not in reply.body
    assert chat(fake).json()["object"] == "chat.completion"


def test_keep_alive_serves_many_requests_on_one_connection(fake: FakeAzureOpenAI) -> None:
    conn = connect(fake)
    payload = {"messages": [{"role": "user", "content": "x"}]}
    for _ in range(5):
        assert call(fake, CHAT, payload, connection=conn).status == 200
    fake.fail_next(1, 429)  # errors keep the connection open too
    assert call(fake, CHAT, payload, connection=conn).status == 429
    conn.close()
    assert fake.connections == 1
    assert {r.connection for r in fake.requests} == {1}
    chat(fake)
    assert fake.connections == 2
    assert fake.requests[-1].connection == 2


def test_requests_are_recorded(fake: FakeAzureOpenAI) -> None:
    chat(fake, "first")
    call(fake, EMBED.format("text-embedding-3-small") + "&extra=1", {"input": "x"},
         headers={"X-Correlation-ID": "abc"})  # fmt: skip
    first, second = fake.requests
    assert (first.method, first.path) == ("POST", "/openai/deployments/gpt-4o/chat/completions")
    assert first.query == {"api-version": "2024-02-01"}
    assert first.json()["messages"][0]["content"] == "first"
    assert second.query == {"api-version": "2024-02-01", "extra": "1"}
    assert second.headers["x-correlation-id"] == "abc"
    assert second.headers.get("API-KEY") == fake.api_key
    assert "X-Correlation-Id" in second.headers
    assert second.time > first.time
    assert fake.intervals() == [second.time - first.time]
    assert fake.intervals(path="/embeddings") == []
    fake.reset_counters()
    assert (fake.requests, fake.connections, fake.intervals()) == ([], 0, [])


def test_a_chunked_request_body_is_read(fake: FakeAzureOpenAI) -> None:
    conn = connect(fake)
    body = [json.dumps({"messages": [{"role": "user", "content": "chunked"}]}).encode()]
    conn.request("POST", CHAT, body=iter(body), headers={"api-key": fake.api_key},
                 encode_chunked=True)  # fmt: skip
    reply = Reply(conn.getresponse())
    conn.close()
    assert reply.status == 200
    assert reply.json()["choices"][0]["message"]["content"].endswith("to: chunked")


def test_life_cycle() -> None:
    fake = FakeAzureOpenAI()
    assert repr(fake) == "FakeAzureOpenAI(stopped)"
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.url
    with pytest.raises(ValueError, match="plain HTTP"):
        _ = fake.ca_path
    with fake:
        assert fake.start() is fake
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", fake.url)
        assert repr(fake) == f"FakeAzureOpenAI({fake.url}, requests=0)"
        port = fake.port
    fake.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_https_needs_trustme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "_authority", None)
    monkeypatch.setitem(sys.modules, "trustme", None)
    with pytest.raises(ImportError, match=r"pip install 'aadap\[testing\]'"):
        FakeAzureOpenAI(tls=True)
    with FakeAzureOpenAI() as fake:
        assert fake.url.startswith("http://")


def test_https_with_the_test_ca() -> None:
    with FakeAzureOpenAI(tls=True) as fake:
        assert fake.url.startswith("https://127.0.0.1:")
        assert chat(fake).status == 200
