// The one HTTP transport of the platform clients (platforms.md §1) over libcurl: connections
// pooled per origin (scheme://host:port) and reused across calls and threads, HTTP/2 where
// the server offers it over TLS, TLS verification on with an explicitly chosen CA bundle
// (ca_bundle.hpp), proxies from the environment (libcurl reads http_proxy, https_proxy,
// no_proxy), a connect timeout and a total timeout per call, response headers captured, the
// correlation id sent on every request, and cancellation polled every 50 ms while waiting.
//
// Any HTTP status is a response; only failing to get one throws: PlatformConnectionError (no
// connection, TLS refused, connection broken), PlatformTimeoutError, CancelledError. URLs in
// messages and logs lose their query string (it may carry a signature) and are redacted.
//
// Thread-safe: any number of threads may send at once, each exchange holding one pooled
// connection while it runs.
#pragma once

#include "aadap/platforms/ca_bundle.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aadap::platforms {

/// Header fields in the order they were added; names compare case-insensitively.
class HttpHeaders {
 public:
  HttpHeaders() = default;
  HttpHeaders(std::initializer_list<std::pair<std::string, std::string>> fields);
  void add(std::string name, std::string value);
  /// Replaces every field called `name` with one.
  void set(const std::string& name, std::string value);
  /// The value of the first field called `name`.
  std::optional<std::string> get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const noexcept {
    return fields_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  std::string correlation_id;  // sent in the transport's correlation header when not empty
  std::chrono::milliseconds timeout{60'000};  // the whole exchange, body included
  std::chrono::milliseconds connect_timeout{5'000};
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;
  std::string body;
};

/// Asked about every 50 ms while a call waits; true stops the call with CancelledError.
using CancelCheck = std::function<bool()>;

/// The cancel check of the calling thread's waits that were given none, for as long as this
/// object lives (the Python bindings install Ctrl-C for the length of a call, so every
/// request and wait inside it can be interrupted). Scopes nest; not shared across threads.
class ScopedCancelCheck {
 public:
  explicit ScopedCancelCheck(CancelCheck check);
  ~ScopedCancelCheck();
  ScopedCancelCheck(const ScopedCancelCheck&) = delete;
  ScopedCancelCheck& operator=(const ScopedCancelCheck&) = delete;

  /// `given` when it is set, else the innermost check installed on this thread (or none).
  static const CancelCheck& effective(const CancelCheck& given);

 private:
  CancelCheck check_;
  const ScopedCancelCheck* outer_;
};

struct TransportOptions {
  TlsOptions tls;
  std::string correlation_header = "X-Correlation-ID";
  std::string user_agent = "aadap";
};

/// The body of a response read as it arrives (server-sent events, large downloads).
/// Not thread-safe; destroying it early closes its connection instead of reusing it.
class HttpStream {
 public:
  struct Exchange;
  explicit HttpStream(std::unique_ptr<Exchange> exchange);
  HttpStream(HttpStream&&) noexcept;
  HttpStream& operator=(HttpStream&&) noexcept;
  ~HttpStream();

  long status() const noexcept;
  const HttpHeaders& headers() const noexcept;
  /// Appends what arrived of the body since the last call to `out`, waiting for at least one
  /// byte; false (nothing appended) once the body has ended.
  bool read(std::string& out);
  /// The rest of the body.
  std::string read_all();

 private:
  std::unique_ptr<Exchange> exchange_;
};

class HttpTransport {
 public:
  HttpTransport();  // default options
  explicit HttpTransport(TransportOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  /// Sends `request` and reads the whole response.
  HttpResponse send(const HttpRequest& request, const CancelCheck& cancelled = {}) const;
  /// Sends `request` and returns once the status and headers have arrived.
  HttpStream open(const HttpRequest& request, const CancelCheck& cancelled = {}) const;

  /// TCP connections opened so far: with reuse, far fewer than requests sent.
  std::uint64_t connections_opened() const noexcept;
  const TransportOptions& options() const noexcept { return options_; }

  struct Pool;

 private:
  TransportOptions options_;
  std::shared_ptr<Pool> pool_;  // outlives the transport while a stream holds a connection
};

/// `text` with every byte but A-Z a-z 0-9 - . _ ~ percent-encoded (URL paths, query values,
/// form fields).
std::string percent_encode(std::string_view text);

/// `url` fit for a message or a log line: no query string or fragment, no userinfo, redacted.
std::string url_for_display(std::string_view url);

}  // namespace aadap::platforms
