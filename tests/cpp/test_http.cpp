// The transport, the retrier and the SSE reader against a scripted HTTP/1.1 server on
// loopback (real sockets, real libcurl), with time on a ManualTime: no test sleeps for a
// retry delay.
#include "aadap/core/errors.hpp"
#include "aadap/platforms/http.hpp"
#include "aadap/platforms/retry.hpp"
#include "aadap/platforms/server_sent_events.hpp"
#include "scripted_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace aadap;
using namespace aadap::platforms;
using namespace std::chrono_literals;
using aadap::testing::ScriptedServer;

namespace {

HttpRequest get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  r.correlation_id = "cid-42";
  r.timeout = 5s;
  return r;
}

}  // namespace

TEST(Http, ResponsesHeadersAndConnectionReuse) {
  ScriptedServer server({ScriptedServer::response(200, "hello", "X-Thing: 7\r\n")});
  HttpTransport transport;
  for (int i = 0; i < 5; ++i) {
    const auto response = transport.send(get(server.url()));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "hello");
    EXPECT_EQ(response.headers.get("x-thing"), "7");
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(transport.connections_opened(), 1u);
  EXPECT_NE(server.last_request().find("X-Correlation-ID: cid-42"), std::string::npos);
}

TEST(Http, BrokenConnectionsAndRefusedPortsAreTypedErrors) {
  ScriptedServer server({"RESET"});
  HttpTransport transport;
  EXPECT_THROW(transport.send(get(server.url())), PlatformConnectionError);
  EXPECT_THROW(transport.send(get("http://127.0.0.1:1/x")), PlatformConnectionError);
  EXPECT_THROW(transport.send(get("ftp://127.0.0.1/x")), InvalidArgumentError);
  auto bad = get(server.url());
  bad.headers.add("X-Evil", "a\r\nInjected: 1");
  EXPECT_THROW(transport.send(bad), InvalidArgumentError);
}

TEST(Http, CancelCheckStopsAWait) {
  ScriptedServer server({"HTTP/1.1 200 X\r\nContent-Length: 100\r\n\r\npartial"});
  HttpTransport transport;
  int asked = 0;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(transport.send(get(server.url()), [&] { return ++asked >= 3; }), CancelledError);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_GE(asked, 3);
}

TEST(Http, UrlsForDisplayLoseQueryAndUserinfo) {
  EXPECT_EQ(url_for_display("https://u:pw@host.net/a/b?sig=SECRET#f"), "https://host.net/a/b");
  EXPECT_EQ(percent_encode("a b/c~d"), "a%20b%2Fc~d");
}

TEST(Retry, BackoffDelays) {
  const auto p = RetryPolicy::azure_openai();
  EXPECT_EQ(p.backoff_delay(0, 0.0), 500ms);
  EXPECT_EQ(p.backoff_delay(1, 0.0), 1000ms);
  EXPECT_EQ(p.backoff_delay(1, 1.0), 750ms);
  EXPECT_EQ(p.backoff_delay(10, 0.0), 8000ms);
  const auto d = RetryPolicy::databricks();
  EXPECT_EQ(d.backoff_delay(0, 0.0), 1000ms);
  EXPECT_EQ(d.backoff_delay(2, 0.0), 3000ms);
  EXPECT_EQ(d.backoff_delay(30, 0.0), 10000ms);
  RetryPolicy bad;
  bad.jitter = 1.5;
  EXPECT_THROW(bad.validate(), InvalidArgumentError);
}

TEST(Retry, ServerDelayHeaders) {
  EXPECT_EQ(server_delay(HttpHeaders{{"Retry-After", "6"}}), 6000ms);
  EXPECT_EQ(server_delay(HttpHeaders{{"retry-after", "1.5"}}), 1500ms);
  EXPECT_EQ(server_delay(HttpHeaders{{"retry-after-ms", "250"}, {"retry-after", "9"}}), 250ms);
  EXPECT_EQ(server_delay(HttpHeaders{{"retry-after", "0"}}), std::nullopt);
  EXPECT_EQ(server_delay(HttpHeaders{{"retry-after", "soon"}}), std::nullopt);
  EXPECT_EQ(server_delay(HttpHeaders{}), std::nullopt);
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // 21 Oct 2015 07:28:00
  EXPECT_EQ(server_delay(HttpHeaders{{"Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT"}}, now),
            30000ms);
}

TEST(Retry, ServerDelaysAreWaitedOnTheManualClock) {
  ScriptedServer server({ScriptedServer::response(429, "{}", "Retry-After: 3\r\n"),
                         ScriptedServer::response(503, "{}"), ScriptedServer::response(200, "ok")});
  HttpTransport transport;
  ManualTime time;
  const Retrier retrier(transport, RetryPolicy::azure_openai(), time, time, [] { return 0.0; });
  const auto result = retrier.send([&](int) { return get(server.url()); }, true);
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.attempts, 3);
  ASSERT_EQ(time.sleeps().size(), 2u);
  EXPECT_EQ(time.sleeps()[0], 3s);
  EXPECT_EQ(time.sleeps()[1], 1000ms);  // the second retry's backoff, no jitter drawn
}

TEST(Retry, LimitsNonIdempotentRequestsAndDeadlines) {
  {
    ScriptedServer server({ScriptedServer::response(503, "busy")});
    HttpTransport transport;
    ManualTime time;
    const Retrier retrier(transport, RetryPolicy::azure_openai(), time, time);
    EXPECT_EQ(retrier.send([&](int) { return get(server.url()); }, false).attempts, 1);
    EXPECT_EQ(retrier.send([&](int) { return get(server.url()); }, true).attempts, 3);
    EXPECT_EQ(server.requests(), 4);
  }
  {
    ScriptedServer server({ScriptedServer::response(429, "", "Retry-After: 200\r\n")});
    HttpTransport transport;
    ManualTime time;
    const Retrier retrier(transport, RetryPolicy::azure_openai(), time, time);
    const auto refused = retrier.send([&](int) { return get(server.url()); }, true);
    EXPECT_EQ(refused.attempts, 1);
    EXPECT_EQ(refused.refused_server_delay, 200000ms);
    EXPECT_TRUE(time.sleeps().empty());
  }
  {
    ScriptedServer server({ScriptedServer::response(503, "")});
    HttpTransport transport;
    ManualTime time;
    const Retrier retrier(transport, RetryPolicy::databricks(), time, time, [] { return 0.0; });
    const auto out = retrier.send([&](int) { return get(server.url()); }, true);
    // linear 1, 1 (default server delay), ... within the 300 s deadline
    Nanos slept = 0;
    for (auto s : time.sleeps()) slept += s.count();
    EXPECT_LE(slept, std::chrono::nanoseconds(300s).count());
    EXPECT_GT(out.attempts, 10);
  }
  {
    ScriptedServer server({"RESET", "RESET", ScriptedServer::response(200, "ok")});
    HttpTransport transport;
    ManualTime time;
    const Retrier retrier(transport, RetryPolicy::azure_openai(), time, time);
    EXPECT_EQ(retrier.send([&](int) { return get(server.url()); }, true).response.body, "ok");
    EXPECT_EQ(time.sleeps().size(), 2u);
  }
}

TEST(ServerSentEvents, EventsSplitAnywhere) {
  const std::string stream =
      ": comment\r\n\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: line1\ndata: line2\n\n"
      "data: [DONE]\n\n";
  for (std::size_t step = 1; step <= stream.size(); ++step) {
    ServerSentEvents events;
    std::vector<ServerSentEvent> got;
    for (std::size_t at = 0; at < stream.size(); at += step) {
      events.feed(std::string_view(stream).substr(at, step));
      while (auto e = events.next()) got.push_back(*e);
    }
    ASSERT_EQ(got.size(), 3u) << step;
    EXPECT_EQ(got[0].data, "{\"a\":1}");
    EXPECT_EQ(got[1].event, "x");
    EXPECT_EQ(got[1].data, "line1\nline2");
    EXPECT_EQ(got[2].data, "[DONE]");
    EXPECT_EQ(events.pending(), 0u);
  }
}

TEST(ConcurrentHttp, ThreadsShareThePool) {
  ScriptedServer server({ScriptedServer::response(200, "hello")});
  HttpTransport transport;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) ok += transport.send(get(server.url())).body == "hello";
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 200);
  EXPECT_LE(server.connections(), 8);
}
