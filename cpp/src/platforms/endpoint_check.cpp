#include "aadap/platforms/endpoint_check.hpp"

#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace aadap::platforms {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms");
  return instance;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};

// The body is not needed: count it and drop it.
size_t discard(char*, size_t size, size_t count, void*) {
  return size * count;
}

}  // namespace

EndpointCheck check_endpoint(const std::string& url, const TlsOptions& tls,
                             std::string_view correlation_header, std::string_view correlation_id,
                             std::chrono::milliseconds timeout) {
  global_init();
  EndpointCheck result;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    result.detail = "libcurl could not create a handle";
    return result;
  }
  std::unique_ptr<curl_slist, HeaderListDeleter> headers;
  if (!correlation_id.empty()) {
    const std::string header = std::string(correlation_header) + ": " + std::string(correlation_id);
    headers.reset(curl_slist_append(nullptr, header.c_str()));
  }
  char error[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "aadap-doctor");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2L : 0L);
  if (!tls.ca_bundle.path.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, tls.ca_bundle.path.c_str());

  const auto start = std::chrono::steady_clock::now();
  const CURLcode code = curl_easy_perform(h);
  result.latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (code == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &result.http_status);
    result.reachable = true;
    result.detail = "HTTP " + std::to_string(result.http_status);
  } else {
    result.detail = redact(std::string(curl_easy_strerror(code)) +
                           (error[0] != '\0' ? std::string(": ") + error : std::string()));
  }
  logger().log(result.reachable ? log::Level::info : log::Level::warning, "endpoint.checked",
               correlation_id, log::kv("url", redact(url)), log::kv("reachable", result.reachable),
               log::kv("http_status", result.http_status), log::kv("detail", result.detail),
               log::kv("ca_bundle_source", tls.ca_bundle.source),
               log::kv("latency_ms", result.latency_ms));
  return result;
}

}  // namespace aadap::platforms
