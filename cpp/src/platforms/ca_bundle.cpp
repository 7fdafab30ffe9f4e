#include "aadap/platforms/ca_bundle.hpp"

#include <unistd.h>

#include <array>
#include <filesystem>

namespace aadap::platforms {

namespace {

bool readable_file(const std::string& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_regular_file(path, ec) &&
         ::access(path.c_str(), R_OK) == 0;
}

}  // namespace

CaBundle resolve_ca_bundle(const std::optional<std::string>& configured,
                           const std::string& certifi_path) {
  if (configured && !configured->empty()) return {*configured, "AADAP_CA_BUNDLE"};
  if (readable_file(certifi_path)) return {certifi_path, "certifi"};
  static constexpr std::array<const char*, 6> kSystemBundles{
      "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Arch
      "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL, CentOS
      "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // RHEL 7+
      "/etc/ssl/ca-bundle.pem",                             // openSUSE
      "/etc/ssl/cert.pem",                                  // Alpine, macOS
      "/usr/local/share/certs/ca-root-nss.crt",             // FreeBSD
  };
  for (const char* path : kSystemBundles) {
    if (readable_file(path)) return {path, "system"};
  }
  return {"", "none"};
}

}  // namespace aadap::platforms
