#include "aadap/core/redaction.hpp"
#include "aadap/core/secret.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace aadap;

namespace {
bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}
}  // namespace

TEST(Redaction, RegisteredValuesAreMaskedAnywhere) {
  register_secret_value("s3cr3t-value-123");
  const auto out = redact("error body: {\"echo\": \"xx s3cr3t-value-123 yy\"}");
  EXPECT_FALSE(contains(out, "s3cr3t-value-123")) << out;
  EXPECT_TRUE(contains(out, "xx ********** yy")) << out;
}

TEST(Redaction, ShortValuesAreNotRegistered) {
  register_secret_value("ab");
  EXPECT_EQ(redact("about abc"), "about abc");
}

TEST(Redaction, SecretNeverPrintsItsValue) {
  const Secret secret("dapi-not-in-output-0001");
  std::ostringstream out;
  out << secret;
  EXPECT_EQ(out.str(), "**********");
  EXPECT_EQ(nlohmann::json(secret).get<std::string>(), "**********");
  EXPECT_EQ(secret.reveal(), "dapi-not-in-output-0001");
  EXPECT_FALSE(contains(redact("token was dapi-not-in-output-0001."), "not-in-output"));
}

TEST(Redaction, UrlPasswords) {
  EXPECT_EQ(redact("postgresql://alice:pw123456@db:5432/app"),
            "postgresql://alice:**********@db:5432/app");
  EXPECT_EQ(redact("https://example.net/path:x@y"), "https://example.net/path:x@y");
  EXPECT_EQ(redact("postgresql://alice@db/app"), "postgresql://alice@db/app");
}

TEST(Redaction, AuthorizationHeadersAndSchemes) {
  EXPECT_EQ(redact("Authorization: Bearer abc.def-ghi"), "Authorization: **********");
  EXPECT_EQ(redact("sent bearer abcdef123 to host"), "sent bearer ********** to host");
  EXPECT_EQ(redact("api-key: 0123456789abcdef"), "api-key: **********");
  EXPECT_EQ(redact("{\"Authorization\":\"Basic dXNlcjpwYXNz\"}"),
            "{\"Authorization\":\"**********\"}");
}

TEST(Redaction, SensitiveKeys) {
  EXPECT_EQ(redact("?client_secret=abc&scope=x"), "?client_secret=**********&scope=x");
  EXPECT_EQ(redact("{\"access_token\": \"eyXXX\", \"expires_in\": 3599}"),
            "{\"access_token\": \"**********\", \"expires_in\": 3599}");
  EXPECT_EQ(redact("AADAP_DATABRICKS_TOKEN=abcdef"), "AADAP_DATABRICKS_TOKEN=**********");
  EXPECT_EQ(redact("password = 'hunter2'"), "password = '**********'");
  EXPECT_EQ(redact("\"api_key\":\"k\\\"ey\""), "\"api_key\":\"**********\"");
}

TEST(Redaction, BareJsonValuesBecomeQuotedMasks) {
  EXPECT_EQ(redact(R"({"token":5,"password":null,"n":1})"),
            R"({"token":"**********","password":"**********","n":1})");
  EXPECT_EQ(redact("token=5"), "token=**********");
}

TEST(Redaction, LeavesOrdinaryTextAlone) {
  for (std::string_view text :
       {"max_tokens=4096", "{\"token_count\": 12, \"tokens_used\": 3}", "task.transitioned",
        "state=APPROVED reason=\"looks good\"", "token budget exceeded", ""}) {
    EXPECT_EQ(redact(text), text);
  }
}

TEST(Redaction, TokenShapes) {
  const std::string jwt =
      "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl";
  EXPECT_EQ(redact("got " + jwt + " back"), "got ********** back");
  EXPECT_EQ(redact("pat dapi0123456789abcdef0123456789abcdef here"), "pat ********** here");
}
