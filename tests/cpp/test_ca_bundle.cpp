#include "aadap/platforms/ca_bundle.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using aadap::platforms::resolve_ca_bundle;

TEST(CaBundle, ConfiguredWinsOverCertifiAndSystem) {
  const auto certifi = std::filesystem::temp_directory_path() / "aadap_certifi_test.pem";
  std::ofstream(certifi) << "-----BEGIN CERTIFICATE-----\n";
  const auto configured = resolve_ca_bundle("/configured.pem", certifi.string());
  EXPECT_EQ(configured.path, "/configured.pem");
  EXPECT_EQ(configured.source, "AADAP_CA_BUNDLE");
  const auto from_certifi = resolve_ca_bundle(std::nullopt, certifi.string());
  EXPECT_EQ(from_certifi.path, certifi.string());
  EXPECT_EQ(from_certifi.source, "certifi");
  std::filesystem::remove(certifi);
}

TEST(CaBundle, MissingCertifiFallsBackToTheSystem) {
  const auto bundle = resolve_ca_bundle(std::nullopt, "/nonexistent/cacert.pem");
  EXPECT_NE(bundle.source, "certifi");
  if (std::filesystem::exists("/etc/ssl/certs/ca-certificates.crt")) {
    EXPECT_EQ(bundle.path, "/etc/ssl/certs/ca-certificates.crt");
    EXPECT_EQ(bundle.source, "system");
  }
  EXPECT_EQ(resolve_ca_bundle(std::nullopt, "").source, bundle.source);
}
