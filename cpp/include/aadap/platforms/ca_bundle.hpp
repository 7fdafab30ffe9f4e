// Which PEM file of trusted certificate authorities HTTPS uses. A libcurl bundled in a wheel
// keeps the CA path of the machine it was built on, which is wrong on other distributions, so
// the path is always chosen explicitly: AADAP_CA_BUNDLE, else certifi's bundle (passed in by
// the Python layer), else the first system bundle found at a well-known location.
#pragma once

#include <optional>
#include <string>

namespace aadap::platforms {

struct CaBundle {
  std::string path;    // empty when nothing was found (libcurl's compiled-in default is used)
  std::string source;  // "AADAP_CA_BUNDLE", "certifi", "system" or "none"
};

/// How HTTPS checks servers. Turning `verify` off is for a debugging session only and is
/// logged as a warning by the transports that honour it.
struct TlsOptions {
  CaBundle ca_bundle;
  bool verify = true;
};

/// `configured` is AADAP_CA_BUNDLE (already validated by Settings); `certifi_path` is
/// certifi.where() or empty. A certifi path that is not a readable file is skipped.
CaBundle resolve_ca_bundle(const std::optional<std::string>& configured,
                           const std::string& certifi_path);

}  // namespace aadap::platforms
