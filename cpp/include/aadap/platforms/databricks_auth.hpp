// How aadap finds a Databricks workspace and a bearer token for it (platforms.md §2,
// cloud-apis.md B2). In order, the first that is configured wins:
//   1. a personal access token: the explicit one, else AADAP_DATABRICKS_TOKEN, else
//      DATABRICKS_TOKEN;
//   2. a profile of the config file (DATABRICKS_CONFIG_FILE, else ~/.databrickscfg): the one
//      named explicitly or by DATABRICKS_CONFIG_PROFILE (missing: an error), else
//      `[__settings__] default_profile`, else [DEFAULT]; its token (PAT), its client_id and
//      client_secret (OAuth M2M), or auth_type = databricks-cli (the CLI's token cache);
//   3. the token cache `databricks auth login` leaves in ~/.databricks/token-cache.json (an
//      entry for the host, or for the profile), refreshed through the workspace's OIDC token
//      endpoint when expired and written back;
//   4. OAuth M2M: the explicit client id and secret, else AADAP_DATABRICKS_CLIENT_ID/_SECRET,
//      else DATABRICKS_CLIENT_ID/_SECRET.
// The host: the explicit one, else AADAP_DATABRICKS_HOST, DATABRICKS_HOST, the profile's;
// normalised (https:// added, trailing slash and :443 dropped). When nothing works, one
// ConfigurationError lists everything that was tried.
//
// Token sources are thread-safe.
#pragma once

#include "aadap/core/clock.hpp"
#include "aadap/core/secret.hpp"
#include "aadap/platforms/http.hpp"
#include "aadap/platforms/retry.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace aadap::platforms {

/// A bearer token for one workspace, renewed as its kind requires.
class DatabricksTokenSource {
 public:
  virtual ~DatabricksTokenSource() = default;
  /// The token to send as `Authorization: Bearer <token>`.
  virtual Secret token(const std::string& correlation_id, const CancelCheck& cancelled) = 0;
  /// The workspace refused the last token: the next token() fetches a new one if it can.
  virtual void invalidate() {}
  /// "pat", "oauth-m2m" or "databricks-cli".
  virtual std::string method() const = 0;
};

struct DatabricksAuthOptions {
  // Given explicitly (empty: not given).
  std::string host;
  std::optional<Secret> token;
  std::string profile;
  std::string client_id;
  std::optional<Secret> client_secret;
  // The environment (AADAP_DATABRICKS_*, DATABRICKS_*) and the home directory the config
  // file and token cache are looked for in.
  std::map<std::string, std::string> environment;
  std::string home;
};

struct DatabricksAuth {
  std::string host;  // normalised
  std::shared_ptr<DatabricksTokenSource> tokens;
  std::string source;  // e.g. "DATABRICKS_TOKEN", "profile 'dev' of /home/x/.databrickscfg"
  std::map<std::string, std::string> profile;  // the profile used, if any (warehouse_id, ...)
};

/// "adb-1.2.azuredatabricks.net/" -> "https://adb-1.2.azuredatabricks.net"; drops :443.
std::string normalize_databricks_host(std::string_view host);

/// Sections of an INI file (`[name]`, `key = value`, `;`/`#` comments).
std::map<std::string, std::map<std::string, std::string>> parse_ini(std::string_view text);

DatabricksAuth resolve_databricks_auth(const DatabricksAuthOptions& options,
                                       std::shared_ptr<const HttpTransport> transport,
                                       std::shared_ptr<const Clock> clock, Sleeper& sleeper);

}  // namespace aadap::platforms
