"""aadap.AzureOpenAI and aadap.EntraCredential against the local fakes (real HTTP on
loopback, HTTPS with the test CA): answers, retries and their timing on a ManualTime (no real
sleeping), connection reuse, streaming, embeddings, typed errors, secrets kept out of text,
the correlation id, token charging, and the same answers the official openai SDK gets."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pytest

import aadap
from aadap.testing import FakeAzureOpenAI, FakeEntra

KEY = "test-key-4f7a9c2e1b"


@pytest.fixture
def aoai() -> Iterator[FakeAzureOpenAI]:
    with FakeAzureOpenAI(api_key=KEY) as fake:
        yield fake


def client(fake: FakeAzureOpenAI, **options: object) -> aadap.AzureOpenAI:
    options.setdefault("api_key", KEY)
    options.setdefault("deployment", "gpt-4o")
    options.setdefault("embedding_deployment", "text-embedding-3-small")
    return aadap.AzureOpenAI(fake.url, **options)  # type: ignore[arg-type]


def chat_requests(fake: FakeAzureOpenAI) -> list[object]:
    return [r for r in fake.requests if r.path.endswith("/chat/completions")]


def test_a_completion_carries_content_finish_reason_and_usage(aoai: FakeAzureOpenAI) -> None:
    aoai.respond("count orders", "SELECT count(*) FROM orders")
    llm = client(aoai)
    reply = llm.complete(prompt="Please count orders", system="You write SQL.")
    assert reply.content == "SELECT count(*) FROM orders"
    assert str(reply) == reply.content
    assert reply.finish_reason == "stop"
    assert reply.usage.prompt_tokens > 0
    assert reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert not reply.usage.estimated
    assert reply.id
    assert reply.model
    assert reply.attempts == 1
    sent = aoai.requests[-1]
    assert sent.headers["api-key"] == KEY
    body = sent.json()
    assert body["max_tokens"] == 4096
    assert body["messages"] == [
        {"role": "system", "content": "You write SQL."},
        {"role": "user", "content": "Please count orders"},
    ]
    assert sent.query["api-version"] == "2024-02-01"
    assert "count orders" in reply._repr_html_() or "SELECT" in reply._repr_html_()


def test_max_tokens_cuts_the_reply_with_finish_reason_length(aoai: FakeAzureOpenAI) -> None:
    aoai.respond(".*", "one two three four five six seven eight nine ten eleven twelve")
    reply = client(aoai).complete(messages=[{"role": "user", "content": "go"}], max_tokens=2)
    assert reply.finish_reason == "length"
    assert reply.usage.completion_tokens <= 2


def test_same_answers_as_the_openai_sdk(aoai: FakeAzureOpenAI) -> None:
    openai = pytest.importorskip("openai")

    aoai.respond("orders", "SELECT 1 FROM orders")
    messages = [{"role": "user", "content": "orders please"}]
    ours = client(aoai).complete(messages=messages, max_tokens=100)
    with openai.AzureOpenAI(azure_endpoint=aoai.url, api_key=KEY, api_version="2024-02-01") as sdk:
        theirs = sdk.chat.completions.create(model="gpt-4o", messages=messages, max_tokens=100)
        vectors = sdk.embeddings.create(
            model="text-embedding-3-small", input=["a b", "c"], encoding_format="float"
        )
    assert ours.content == theirs.choices[0].message.content
    assert ours.finish_reason == theirs.choices[0].finish_reason
    assert theirs.usage is not None
    assert ours.usage.prompt_tokens == theirs.usage.prompt_tokens
    assert ours.usage.completion_tokens == theirs.usage.completion_tokens
    mine = client(aoai).embed(["a b", "c"])
    assert np.allclose(mine, np.array([d.embedding for d in vectors.data], dtype=np.float32))


def test_a_429_is_retried_after_the_servers_delay_without_sleeping(aoai: FakeAzureOpenAI) -> None:
    time = aadap.ManualTime()
    aoai.throttle_next(2, retry_after=7, retry_after_ms=6500)
    reply = client(aoai, time=time).complete(prompt="hi")
    assert reply.attempts == 3
    assert time.sleeps == [6.5, 6.5]  # retry-after-ms wins over retry-after
    assert len(chat_requests(aoai)) == 3


def test_retry_after_in_seconds_and_the_backoff_without_one(aoai: FakeAzureOpenAI) -> None:
    time = aadap.ManualTime()
    aoai.throttle_next(1, retry_after=3)
    aoai.fail_next(1, status=503)
    reply = client(aoai, time=time).complete(prompt="hi")
    assert reply.attempts == 3
    assert time.sleeps[0] == 3.0
    assert 0.75 <= time.sleeps[1] <= 1.0  # min(0.5 * 2^1, 8) less up to 25% jitter


def test_give_up_after_two_retries_with_rate_limit_error(aoai: FakeAzureOpenAI) -> None:
    time = aadap.ManualTime()
    aoai.throttle_next(3, retry_after=2)
    with pytest.raises(aadap.RateLimitError) as caught:
        client(aoai, time=time).complete(prompt="hi")
    assert caught.value.status == 429
    assert caught.value.retry_after == 2.0
    assert caught.value.attempts == 3
    assert time.sleeps == [2.0, 2.0]


def test_a_retry_after_over_120_seconds_is_not_waited_for(aoai: FakeAzureOpenAI) -> None:
    time = aadap.ManualTime()
    aoai.throttle_next(1, retry_after=86400)
    with pytest.raises(aadap.RateLimitError) as caught:
        client(aoai, time=time).complete(prompt="hi")
    assert caught.value.retry_after == 86400.0
    assert time.sleeps == []
    assert len(chat_requests(aoai)) == 1


def test_x_should_retry_header_is_honoured(aoai: FakeAzureOpenAI) -> None:
    time = aadap.ManualTime()
    aoai.fail_next(1, status=500, headers={"x-should-retry": "false"})
    with pytest.raises(aadap.RemoteError) as caught:
        client(aoai, time=time).complete(prompt="hi")
    assert caught.value.status == 500
    assert len(chat_requests(aoai)) == 1


def test_the_retry_policy_is_an_object_users_configure(aoai: FakeAzureOpenAI) -> None:
    policy = aadap.RetryPolicy.azure_openai()
    assert policy.max_retries == 2
    assert policy.max_server_delay == timedelta(seconds=120)
    policy.max_retries = 0
    aoai.throttle_next(1, retry_after=1)
    with pytest.raises(aadap.RateLimitError):
        client(aoai, retry=policy, time=aadap.ManualTime()).complete(prompt="hi")
    bad = aadap.RetryPolicy()
    bad.jitter = 2.0
    with pytest.raises(aadap.InvalidArgumentError):
        client(aoai, retry=bad)


def test_a_reset_connection_is_retried_and_a_slow_one_times_out(aoai: FakeAzureOpenAI) -> None:
    time = aadap.ManualTime()
    aoai.reset_next(1)
    assert client(aoai, time=time).complete(prompt="hi").attempts == 2
    aoai.delay_next(3, seconds=1.0)
    with pytest.raises(aadap.PlatformTimeoutError) as caught:
        client(aoai, time=time, timeout=0.2).complete(prompt="hi")
    assert isinstance(caught.value, TimeoutError)


def test_connections_are_reused_across_calls_and_threads(aoai: FakeAzureOpenAI) -> None:
    llm = client(aoai)
    for _ in range(20):
        llm.complete(prompt="hi")
    assert aoai.connections == 1
    assert llm.connections_opened == 1

    def work() -> None:
        for _ in range(10):
            llm.complete(prompt="hi")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert aoai.connections <= 4


def test_streaming_yields_pieces_then_usage(aoai: FakeAzureOpenAI) -> None:
    aoai.respond(".*", "SELECT a, b FROM t WHERE c = 1")
    stream = client(aoai).stream(prompt="q")
    pieces = list(stream)
    assert len(pieces) > 1
    assert "".join(pieces) == "SELECT a, b FROM t WHERE c = 1" == stream.content
    assert stream.finish_reason == "stop"
    assert stream.usage is not None
    assert not stream.usage.estimated
    assert aoai.requests[-1].json()["stream_options"] == {"include_usage": True}


def test_embeddings_in_order_batched_and_checked(aoai: FakeAzureOpenAI) -> None:
    llm = client(aoai)
    texts = [f"text {i}" for i in range(2500)]
    vectors = llm.embed(texts)
    assert vectors.shape == (2500, 1536)
    assert vectors.dtype == np.float32
    assert len([r for r in aoai.requests if r.path.endswith("/embeddings")]) == 2
    assert np.allclose(vectors[7], llm.embed("text 7")[0])
    with FakeAzureOpenAI(api_key=KEY, shuffle_embeddings=True) as shuffled:
        assert np.allclose(client(shuffled).embed(texts[:50]), vectors[:50])
    assert llm.embed(["x"], deployment="text-embedding-3-large").shape == (1, 3072)
    with pytest.raises(aadap.RemoteError, match="dimension"):
        llm.embed(["x"], deployment="text-embedding-3-large", dimension=1536)
    with pytest.raises(aadap.InvalidArgumentError):
        llm.embed(["fine", "  "])


def test_the_embedder_feeds_a_vector_memory(aoai: FakeAzureOpenAI, tmp_path: object) -> None:
    engine = aadap.Engine.open("sqlite:///:memory:")
    memory = engine.vector_memory("docs", embedder=client(aoai).embedder())
    memory.remember("load the orders table", provenance="test")
    assert memory.dimension == 1536
    hits = memory.recall("load the orders table")
    assert hits
    assert hits[0].content == "load the orders table"


def test_service_errors_are_typed(aoai: FakeAzureOpenAI) -> None:
    aoai.filter_pattern("forbidden")
    with pytest.raises(aadap.ContentFilterError) as filtered:
        client(aoai).complete(prompt="something forbidden")
    assert filtered.value.status == 400
    assert filtered.value.code == "content_filter"
    with pytest.raises(aadap.ContextLengthError):
        client(aoai).complete(prompt="word " * 600_000)
    with pytest.raises(aadap.AuthenticationError) as denied:
        client(aoai, api_key="wrong-key-123456").complete(prompt="hi")
    assert isinstance(denied.value, PermissionError)
    with pytest.raises(aadap.NotFoundError):
        client(aoai, deployment="no-such-deployment").complete(prompt="hi")
    aoai.malformed_next(1)
    with pytest.raises(aadap.RemoteError, match="malformed JSON"):
        client(aoai).complete(prompt="hi")
    with pytest.raises(aadap.PlatformConnectionError):
        aadap.AzureOpenAI("http://127.0.0.1:1", api_key=KEY, deployment="d").complete(prompt="x")
    with pytest.raises(aadap.InvalidArgumentError):
        client(aoai).complete(messages=[{"role": "wizard", "content": "x"}])
    with pytest.raises(aadap.InvalidArgumentError):
        client(aoai).complete(prompt="a", messages=[])
    with pytest.raises(aadap.ConfigurationError):
        aadap.AzureOpenAI(aoai.url)  # neither a key nor a credential


def test_secrets_stay_out_of_errors_logs_and_reprs(
    aoai: FakeAzureOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    previous = aadap.get_log_level()
    aadap.route_logs_to_python()
    aadap.set_log_level("DEBUG")
    try:
        with caplog.at_level(logging.DEBUG):
            aoai.fail_next(1, status=401, body={"error": {"code": "401", "message": KEY}})
            with pytest.raises(aadap.AuthenticationError) as caught:
                client(aoai).complete(prompt="hi")
            client(aoai, time=aadap.ManualTime()).complete(prompt="hi")
    finally:
        aadap.set_log_level(previous)
        aadap.route_logs_to_python(False)
    assert KEY not in str(caught.value)
    assert KEY not in caplog.text
    assert "http.exchange" in caplog.text  # the exchanges were logged
    assert KEY not in repr(client(aoai))


def test_the_correlation_id_reaches_the_service(aoai: FakeAzureOpenAI) -> None:
    with aadap.correlation_id("corr-1234"):
        client(aoai).complete(prompt="hi")
    assert aoai.requests[-1].headers["X-Correlation-ID"] == "corr-1234"
    client(aoai).complete(prompt="hi")
    assert aoai.requests[-1].headers["X-Correlation-ID"]  # one is made up per call


def test_calls_for_a_task_are_charged_to_it(aoai: FakeAzureOpenAI) -> None:
    engine = aadap.Engine.open("sqlite:///:memory:")
    task = engine.create_task("Load orders", token_budget=1000)
    llm = client(aoai, engine=engine)
    reply = llm.complete(prompt="hi", task_id=task.id)
    assert engine.get_task(task.id).tokens_used == reply.usage.total_tokens
    stream = llm.stream(prompt="again", task_id=task.id)
    list(stream)
    assert stream.usage is not None
    used = reply.usage.total_tokens + stream.usage.total_tokens
    assert engine.get_task(task.id).tokens_used == used
    # a response without usage is charged an estimate, never zero
    with FakeAzureOpenAI(api_key=KEY, omit_usage=True) as silent:
        estimated = client(silent, engine=engine).complete(prompt="hello there", task_id=task.id)
    assert estimated.usage.estimated
    assert estimated.usage.total_tokens > 0
    assert engine.get_task(task.id).tokens_used == used + estimated.usage.total_tokens
    # a prompt the remaining budget certainly cannot cover is not sent
    sent = len(aoai.requests)
    with pytest.raises(aadap.TokenBudgetExceededError):
        llm.complete(prompt="x" * 40_000, task_id=task.id)
    assert len(aoai.requests) == sent
    assert len(engine.costs(task.id)) == 3


def test_entra_tokens_are_cached_refreshed_and_sent() -> None:
    with FakeEntra(tls=True) as entra, FakeAzureOpenAI(api_key=KEY, entra=entra) as aoai:
        time = aadap.ManualTime()
        credential = aadap.EntraCredential(
            entra.tenant, entra.client_id, entra.client_secret,
            authority=entra.url, ca_bundle=str(entra.ca_path), time=time,
        )  # fmt: skip
        llm = aadap.AzureOpenAI(aoai.url, credential=credential, deployment="gpt-4o", time=time)
        llm.complete(prompt="hi")
        llm.complete(prompt="hi")
        assert credential.tokens_requested == 1
        assert aoai.requests[-1].headers["Authorization"].startswith("Bearer ")
        assert "api-key" not in aoai.requests[-1].headers
        time.advance(3599 - 301)  # not yet within 5 minutes of expiry
        llm.complete(prompt="hi")
        assert credential.tokens_requested == 1
        time.advance(2)
        llm.complete(prompt="hi")
        assert credential.tokens_requested == 2
        # a token the service refuses is replaced once
        entra.expire_all()
        llm.complete(prompt="hi")
        assert credential.tokens_requested == 3
        assert "AzureOpenAI" in repr(llm)
        assert entra.client_secret not in repr(credential)


def test_entra_errors_carry_the_service_description_not_the_secret() -> None:
    with FakeEntra(tls=True) as entra:
        wrong = aadap.EntraCredential(
            entra.tenant, entra.client_id, "not-the-secret-9876",
            authority=entra.url, ca_bundle=str(entra.ca_path),
        )  # fmt: skip
        with pytest.raises(aadap.AuthenticationError) as caught:
            wrong.token("https://api.fabric.microsoft.com/.default")
        assert "AADSTS7000215" in str(caught.value)
        assert "invalid_client" in str(caught.value)
        assert "not-the-secret-9876" not in str(caught.value)
        right = aadap.EntraCredential(
            entra.tenant, entra.client_id, entra.client_secret,
            authority=entra.url, ca_bundle=str(entra.ca_path), time=aadap.ManualTime(),
        )  # fmt: skip
        with pytest.raises(aadap.AuthenticationError, match="invalid_scope"):
            right.token("https://api.fabric.microsoft.com/read")
        entra.throttle_next(1, retry_after=4)
        token = right.token("https://api.fabric.microsoft.com/.default")
        assert entra.validate(token.reveal(), audience="https://api.fabric.microsoft.com")
        assert str(token) != token.reveal()
        entra.malformed_next(1)
        with pytest.raises(aadap.RemoteError, match="malformed"):
            right.token("https://cognitiveservices.azure.com/.default")


def test_tls_needs_the_test_ca() -> None:
    with FakeAzureOpenAI(api_key=KEY, tls=True) as aoai:
        trusted = client(aoai, ca_bundle=str(aoai.ca_path))
        assert trusted.complete(prompt="hi").content
        untrusted = client(aoai, ca_bundle=None)
        with pytest.raises(aadap.PlatformConnectionError, match=r"certificate|SSL"):
            untrusted.complete(prompt="hi")


def test_from_settings(aoai: FakeAzureOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AADAP_AZURE_OPENAI_ENDPOINT", aoai.url)
    monkeypatch.setenv("AADAP_AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AADAP_AZURE_OPENAI_DEPLOYMENT_NAME", "gpt-4o")
    aadap.get_settings.cache_clear()
    try:
        llm = aadap.AzureOpenAI.from_settings()
        assert llm.complete(prompt="hi").content
        assert json.dumps(repr(llm)).find(KEY) < 0
    finally:
        monkeypatch.undo()
        aadap.get_settings.cache_clear()


def test_ctrl_c_interrupts_a_waiting_call_promptly(aoai: FakeAzureOpenAI) -> None:
    import _thread
    import time

    aoai.delay_next(1, seconds=5.0)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        client(aoai).complete(prompt="slow")
    assert time.monotonic() - started < 2.0
    timer.join()
    assert client(aoai).complete(prompt="fine").content  # the client still works
