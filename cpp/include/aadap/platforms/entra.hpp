// Microsoft Entra ID client credentials (platforms.md §2, cloud-apis.md B9): a token per
// scope from `{authority}/{tenant}/oauth2/v2.0/token`, cached and refreshed 5 minutes before
// it expires; a client that got a 401 calls invalidate() and asks again. Errors carry the
// service's `error` and `error_description`, never the secret.
//
// Thread-safe: concurrent callers of one scope wait for a single token request.
#pragma once

#include "aadap/core/clock.hpp"
#include "aadap/core/secret.hpp"
#include "aadap/platforms/http.hpp"
#include "aadap/platforms/retry.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace aadap::platforms {

struct EntraConfig {
  std::string authority = "https://login.microsoftonline.com";
  std::string tenant_id;
  std::string client_id;
  Secret client_secret;
  RetryPolicy retry = RetryPolicy::entra();
  std::chrono::milliseconds timeout{30'000};
};

class EntraCredential {
 public:
  /// A token is reused while more than this much of its life remains.
  static constexpr std::chrono::seconds kRefreshMargin{300};

  EntraCredential(std::shared_ptr<const HttpTransport> transport, EntraConfig config,
                  std::shared_ptr<const Clock> clock = std::make_shared<SteadyClock>(),
                  Sleeper& sleeper = SystemSleeper::instance());

  /// An access token for `scope` (e.g. https://api.fabric.microsoft.com/.default).
  Secret token(const std::string& scope, const std::string& correlation_id = {},
               const CancelCheck& cancelled = {});
  /// Forgets the cached token of `scope` (a service answered 401 with it).
  void invalidate(const std::string& scope);
  /// Token requests sent so far (cache hits are not requests).
  std::uint64_t tokens_requested() const;

  const EntraConfig& config() const noexcept { return config_; }

 private:
  struct Cached {
    Secret token;
    Nanos refresh_at = 0;  // on clock_: when the token is within the margin of its expiry
  };

  std::shared_ptr<const HttpTransport> transport_;
  EntraConfig config_;
  std::shared_ptr<const Clock> clock_;
  Sleeper& sleeper_;
  mutable std::mutex mutex_;
  std::map<std::string, Cached> cache_;
  std::uint64_t requested_ = 0;
};

}  // namespace aadap::platforms
