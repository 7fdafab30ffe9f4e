#include "aadap/core/correlation.hpp"
#include "aadap/core/errors.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

using namespace aadap;

TEST(Correlation, NewIdsAreDistinctVersion4Uuids) {
  const std::regex uuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_correlation_id();
    EXPECT_TRUE(std::regex_match(id, uuid4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Correlation, ValidationRejectsHeaderInjectionAndOversize) {
  EXPECT_NO_THROW(validate_correlation_id("req-42"));
  EXPECT_NO_THROW(validate_correlation_id(std::string(128, 'a')));
  EXPECT_THROW(validate_correlation_id(""), InvalidArgumentError);
  EXPECT_THROW(validate_correlation_id(std::string(129, 'a')), InvalidArgumentError);
  EXPECT_THROW(validate_correlation_id("a\r\nSet-Cookie: x"), InvalidArgumentError);
  EXPECT_THROW(validate_correlation_id("has space"), InvalidArgumentError);
  try {
    validate_correlation_id("a\nb");
  } catch (const InvalidArgumentError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "message must be one line";
  }
}
