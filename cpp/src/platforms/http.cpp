#include "aadap/platforms/http.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>

namespace aadap::platforms {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms.http");
  return instance;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

/// scheme://host:port of `url` (lower case), the key of its connection pool.
std::string origin_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const auto host_end = url.find_first_of("/?#", scheme_end + 3);
  std::string origin(url.substr(0, host_end));
  std::transform(origin.begin(), origin.end(), origin.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return origin;
}

// How long one wait for network activity lasts before the cancel check is asked again.
constexpr int kPollMilliseconds = 50;
// Idle connections kept per origin: enough for a pool of threads calling one service.
constexpr std::size_t kIdlePerOrigin = 64;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Headers

HttpHeaders::HttpHeaders(std::initializer_list<std::pair<std::string, std::string>> fields)
    : fields_(fields) {}

void HttpHeaders::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void HttpHeaders::set(const std::string& name, std::string value) {
  std::erase_if(fields_, [&](const auto& field) { return same_name(field.first, name); });
  fields_.emplace_back(name, std::move(value));
}

std::optional<std::string> HttpHeaders::get(std::string_view name) const {
  for (const auto& [key, value] : fields_) {
    if (same_name(key, name)) return value;
  }
  return std::nullopt;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kDigits[byte >> 4];
      out += kDigits[byte & 0xf];
    }
  }
  return out;
}

std::string url_for_display(std::string_view url) {
  std::string_view shown = url.substr(0, url.find_first_of("?#"));
  std::string out(shown);
  // userinfo (user:password@host) never leaves the process
  const auto scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    const auto host_end = out.find('/', scheme_end + 3);
    const auto at = out.rfind('@', host_end);
    if (at != std::string::npos && at > scheme_end) out.erase(scheme_end + 3, at - scheme_end - 2);
  }
  return redact(out);
}

// ---------------------------------------------------------------------------------------------
// The pool: one multi handle and one easy handle per lane; the multi handle keeps the lane's
// connections open between exchanges.

namespace {

struct Lane {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  Lane() : multi(curl_multi_init()), easy(curl_easy_init()) {
    if (multi == nullptr || easy == nullptr) {
      cleanup();
      throw PlatformError("libcurl could not create a handle (out of memory?)");
    }
  }
  ~Lane() { cleanup(); }
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

 private:
  void cleanup() noexcept {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (multi != nullptr) curl_multi_cleanup(multi);
  }
};

struct HeaderListDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};

}  // namespace

struct HttpTransport::Pool {
  std::mutex mutex;
  std::map<std::string, std::vector<std::unique_ptr<Lane>>> idle;
  std::atomic<std::uint64_t> connections{0};

  std::unique_ptr<Lane> acquire(const std::string& origin) {
    {
      std::lock_guard lock(mutex);
      auto& lanes = idle[origin];
      if (!lanes.empty()) {
        auto lane = std::move(lanes.back());
        lanes.pop_back();
        return lane;
      }
    }
    return std::make_unique<Lane>();
  }
  void release(const std::string& origin, std::unique_ptr<Lane> lane) {
    std::lock_guard lock(mutex);
    auto& lanes = idle[origin];
    if (lanes.size() < kIdlePerOrigin) lanes.push_back(std::move(lane));
  }
};

// ---------------------------------------------------------------------------------------------
// One exchange: a request on a lane, its response read as it arrives.

struct HttpStream::Exchange {
  std::shared_ptr<HttpTransport::Pool> pool;
  std::string origin;
  std::unique_ptr<Lane> lane;
  std::unique_ptr<curl_slist, HeaderListDeleter> header_list;
  std::string request_body;
  std::string method;
  std::string shown_url;  // for messages
  std::string correlation_id;
  CancelCheck cancelled;
  std::chrono::milliseconds timeout{0};
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point last_check;  // of `cancelled`: asked every 50 ms
  char error[CURL_ERROR_SIZE] = {0};

  long status = 0;
  HttpHeaders headers;
  bool headers_complete = false;
  std::string body;  // arrived, not yet handed out
  std::size_t body_bytes = 0;
  bool attached = false;  // the easy handle is in the multi handle
  bool done = false;
  CURLcode result = CURLE_OK;

  ~Exchange() {
    if (!lane) return;
    if (attached) curl_multi_remove_handle(lane->multi, lane->easy);
    // An exchange that ended cleanly leaves its connection reusable; one abandoned midway
    // does not (its connection is closed with the lane).
    if (done && result == CURLE_OK) pool->release(origin, std::move(lane));
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self) {
    auto& x = *static_cast<Exchange*>(self);
    const std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {  // a status line: a new response (after 1xx)
      x.headers = HttpHeaders();
      const auto space = line.find(' ');
      x.status = space == std::string_view::npos ? 0 : std::atol(line.data() + space + 1);
    } else if (line == "\r\n" || line == "\n") {
      x.headers_complete = x.status >= 200;
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      x.headers.add(trimmed(line.substr(0, colon)), trimmed(line.substr(colon + 1)));
    }
    return size * count;
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self) {
    auto& x = *static_cast<Exchange*>(self);
    x.headers_complete = true;
    x.body.append(data, size * count);
    x.body_bytes += size * count;
    return size * count;
  }

  /// Moves the transfer on, waiting up to kPollMilliseconds for the network.
  void pump() {
    int running = 0;
    CURLMcode code = curl_multi_perform(lane->multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(lane->multi, &queued)) {
      if (message->msg == CURLMSG_DONE) {
        result = message->data.result;
        done = true;
      }
    }
    if (!done && code == CURLM_OK) {
      code = curl_multi_poll(lane->multi, nullptr, 0, kPollMilliseconds, nullptr);
    }
    if (code != CURLM_OK) {
      throw PlatformError(std::string("libcurl failed while waiting: ") +
                          curl_multi_strerror(code));
    }
    if (!done && cancelled &&
        std::chrono::steady_clock::now() - last_check >=
            std::chrono::milliseconds(kPollMilliseconds)) {
      last_check = std::chrono::steady_clock::now();
      if (!cancelled()) return;
      throw CancelledError(
          method + " " + shown_url + " was cancelled after " + std::to_string(elapsed_ms()) + " ms",
          {{"url", shown_url}});
    }
  }

  long elapsed_ms() const {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count());
  }

  /// After the transfer ended: counts its new connections, throws when it failed.
  void finish() {
    long connects = 0;
    curl_easy_getinfo(lane->easy, CURLINFO_NUM_CONNECTS, &connects);
    pool->connections += static_cast<std::uint64_t>(connects);
    curl_multi_remove_handle(lane->multi, lane->easy);
    attached = false;
    logger().debug("http.exchange", correlation_id, log::kv("method", method),
                   log::kv("url", shown_url), log::kv("status", status),
                   log::kv("bytes", body_bytes), log::kv("elapsed_ms", elapsed_ms()),
                   log::kv("new_connections", connects),
                   log::kv("result", result == CURLE_OK ? "ok" : curl_easy_strerror(result)));
    if (result != CURLE_OK) fail();
  }

  [[noreturn]] void fail() const {
    const std::string detail =
        redact(std::string(curl_easy_strerror(result)) +
               (error[0] != '\0' ? std::string(" (") + error + ")" : std::string()));
    const nlohmann::json details = {{"url", shown_url}, {"method", method}};
    if (result == CURLE_OPERATION_TIMEDOUT) {
      auto timed_out = details;
      timed_out["timeout_s"] = static_cast<double>(timeout.count()) / 1000.0;
      throw PlatformTimeoutError(method + " " + shown_url + " got no complete response within " +
                                     std::to_string(timeout.count()) + " ms: " + detail,
                                 timed_out);
    }
    if (result == CURLE_ABORTED_BY_CALLBACK) {
      throw CancelledError(method + " " + shown_url + " was cancelled", details);
    }
    throw PlatformConnectionError(
        method + " " + shown_url + " failed" +
            (body_bytes > 0 || status != 0
                 ? " after the response began (" + std::to_string(body_bytes) + " bytes)"
                 : std::string()) +
            ": " + detail,
        details);
  }
};

// ---------------------------------------------------------------------------------------------
// Stream

HttpStream::HttpStream(std::unique_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {}
HttpStream::HttpStream(HttpStream&&) noexcept = default;
HttpStream& HttpStream::operator=(HttpStream&&) noexcept = default;
HttpStream::~HttpStream() = default;

long HttpStream::status() const noexcept {
  return exchange_->status;
}

const HttpHeaders& HttpStream::headers() const noexcept {
  return exchange_->headers;
}

bool HttpStream::read(std::string& out) {
  auto& x = *exchange_;
  while (x.body.empty() && !x.done) x.pump();
  if (!x.body.empty()) {
    if (out.empty()) {
      out.swap(x.body);
    } else {
      out.append(x.body);
      x.body.clear();
    }
    return true;
  }
  if (x.attached) x.finish();  // throws when the transfer failed
  return false;
}

std::string HttpStream::read_all() {
  std::string out;
  while (read(out)) {
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Transport

HttpTransport::HttpTransport(TransportOptions options)
    : options_(std::move(options)), pool_(std::make_shared<Pool>()) {
  global_init();
  if (!options_.tls.verify) {
    logger().warning("http.tls_verification_off", "",
                     log::kv("detail",
                             "TLS certificate verification is OFF: any server can impersonate "
                             "the services this transport talks to. Use it only to debug."));
  }
}

HttpTransport::HttpTransport() : HttpTransport(TransportOptions()) {}

HttpTransport::~HttpTransport() = default;

std::uint64_t HttpTransport::connections_opened() const noexcept {
  return pool_->connections.load();
}

namespace {
thread_local const ScopedCancelCheck* innermost_cancel_check = nullptr;
}  // namespace

ScopedCancelCheck::ScopedCancelCheck(CancelCheck check)
    : check_(std::move(check)), outer_(innermost_cancel_check) {
  innermost_cancel_check = this;
}

ScopedCancelCheck::~ScopedCancelCheck() {
  innermost_cancel_check = outer_;
}

const CancelCheck& ScopedCancelCheck::effective(const CancelCheck& given) {
  static const CancelCheck none;
  if (given) return given;
  return innermost_cancel_check != nullptr ? innermost_cancel_check->check_ : none;
}

HttpStream HttpTransport::open(const HttpRequest& request, const CancelCheck& cancelled) const {
  if (request.url.rfind("http://", 0) != 0 && request.url.rfind("https://", 0) != 0) {
    throw InvalidArgumentError("an HTTP request needs an http:// or https:// URL (got '" +
                               url_for_display(request.url) + "')");
  }
  auto x = std::make_unique<HttpStream::Exchange>();
  x->pool = pool_;
  x->origin = origin_of(request.url);
  x->lane = pool_->acquire(x->origin);
  x->method = request.method;
  x->shown_url = url_for_display(request.url);
  x->correlation_id = request.correlation_id;
  x->cancelled = ScopedCancelCheck::effective(cancelled);
  x->timeout = request.timeout;
  x->request_body = request.body;

  curl_slist* list = nullptr;
  const auto append = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(list, line.c_str());
    if (grown == nullptr) {
      curl_slist_free_all(list);
      throw PlatformError("libcurl could not build the request headers (out of memory?)");
    }
    list = grown;
  };
  for (const auto& [name, value] : request.headers.fields()) {
    if (name.find_first_of("\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      curl_slist_free_all(list);
      throw InvalidArgumentError("HTTP header '" + redact(name) +
                                 "' has a line break or colon where none is allowed");
    }
    append(name + ": " + value);
  }
  if (!request.correlation_id.empty() && !options_.correlation_header.empty()) {
    append(options_.correlation_header + ": " + request.correlation_id);
  }
  append("Expect:");  // no 100-continue round trip before a body
  x->header_list.reset(list);

  CURL* h = x->lane->easy;
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->header_list.get());
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);            // a Location is the caller's to read
  curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);  // a proxy's CONNECT answer
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl can decode
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.tls.verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.tls.verify ? 2L : 0L);
  if (!options_.tls.ca_bundle.path.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, options_.tls.ca_bundle.path.c_str());
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->error);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &HttpStream::Exchange::on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, x.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &HttpStream::Exchange::on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, x.get());
  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->request_body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(x->request_body.size()));
    if (request.method != "POST") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  x->started = std::chrono::steady_clock::now();
  x->last_check = x->started;
  if (curl_multi_add_handle(x->lane->multi, h) != CURLM_OK) {
    throw PlatformError("libcurl could not start the request to " + x->shown_url);
  }
  x->attached = true;
  while (!x->headers_complete && !x->done) x->pump();
  if (x->done && !x->headers_complete) x->finish();  // failed before a response: throws
  return HttpStream(std::move(x));
}

HttpResponse HttpTransport::send(const HttpRequest& request, const CancelCheck& cancelled) const {
  HttpStream stream = open(request, cancelled);
  HttpResponse response;
  response.body = stream.read_all();
  response.status = stream.status();
  response.headers = stream.headers();
  return response;
}

}  // namespace aadap::platforms
